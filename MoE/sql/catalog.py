"""The schema catalog: tables, columns, keys and comments, parsed from DDL with sqlglot.

DDL as dump tools write it is read statement by statement: `pg_dump --schema-only` (keys added by
`ALTER TABLE ... ADD CONSTRAINT`, schemas, sequences, owners, psql meta-commands) and `mysqldump
--no-data`; statements that are not about tables are skipped. Tables live in schemas (namespaces):
a table outside the dialect's default schema is known as `schema.table`, so two tables sharing a name
in two schemas stay distinct; tables of the default schema keep bare names.

Comments come from `-- ...` before or after a column or before a table, MySQL-style `COMMENT '...'`,
and `COMMENT ON TABLE/COLUMN ... IS '...'` statements. Schema dumps that state keys only in comments
(`-- Foreign keys: orders.customer_id (one-to-many)`) get those keys too. Names are matched case-insensitively, as most
warehouses do for unquoted identifiers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.tokens import TokenType

from Qwen3.errors import ConfigError

from .dialects import dialect_spec


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    comment: str = ""
    nullable: bool = True
    primary_key: bool = False
    allowed_values: tuple[str, ...] = ()  # from CHECK (col IN (...))


@dataclass(frozen=True)
class ForeignKey:
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()   # ref_table is the referenced table's `ref`
    comment: str = ""
    schema: str = ""                              # "" for the default schema: the table goes by its bare name

    @property
    def ref(self) -> str:
        """The name SQL uses for the table: `schema.table`, or the bare name in the default schema."""
        return f"{self.schema}.{self.name}" if self.schema else self.name

    @property
    def key(self) -> str:
        return self.ref.lower()

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[Table, ...]
    dialect: str = "duckdb"
    _index: dict = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        index: dict[str, Table | None] = {t.key: t for t in self.tables}
        elsewhere: dict[str, list[Table]] = {}
        for t in self.tables:
            if t.schema:
                elsewhere.setdefault(t.name.lower(), []).append(t)
        for name, tables in elsewhere.items():  # a bare name finds the one table of that name; several: None
            index.setdefault(name, tables[0] if len(tables) == 1 else None)
        object.__setattr__(self, "_index", index)

    def table(self, name: str) -> Table | None:
        """A table by `schema.table` or by its bare name (None when unknown or in several schemas)."""
        return self._index.get(name.lower())

    def lookup(self, node: exp.Table) -> Table | None:
        """The catalog table a table reference in SQL names (`public.orders` finds a bare `orders` in PostgreSQL)."""
        if not node.db:
            return self.table(node.name)
        found = self.table(f"{node.db}.{node.name}")
        if found is None and node.db.lower() == default_schema(self.dialect):
            bare = self.table(node.name)
            return bare if bare is not None and not bare.schema else None
        return found

    @property
    def schemas(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.schema for t in self.tables if t.schema))

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables)

    def mapping(self) -> dict:
        """{table: {column: type}} - or {schema: {table: ...}} when tables live in schemas - the form sqlglot's
        optimizer takes. Tables of the default schema sit under its name, where bare references find them."""
        if not self.schemas:
            return {t.name: {c.name: c.type for c in t.columns} for t in self.tables}
        nested: dict[str, dict] = {}
        for t in self.tables:
            schema = t.schema or default_schema(self.dialect) or "main"
            nested.setdefault(schema, {})[t.name] = {c.name: c.type for c in t.columns}
        return nested

    def subset(self, keep: dict[str, set[str] | None]) -> "Catalog":
        """Only the named tables; for each, only the named columns (None: all of them)."""
        tables = []
        for t in self.tables:
            if t.key not in keep:
                continue
            wanted = keep[t.key]
            columns = t.columns if wanted is None else tuple(c for c in t.columns if c.name.lower() in wanted)
            fks = tuple(fk for fk in t.foreign_keys if fk.ref_table.lower() in keep)
            tables.append(Table(t.name, columns, t.primary_key, fks, t.comment, t.schema))
        return Catalog(tuple(tables), self.dialect)

    def to_prompt(self, dialect: str | None = None) -> str:
        """Compact DDL with comments, for an expert's prompt; names quoted as `dialect` needs them."""
        spec = dialect_spec(dialect or self.dialect)

        def _shown(name: str) -> str:
            return ".".join(spec.identifier(part) for part in name.split(".", 1)) if "." in name and \
                name.split(".", 1)[0] in self.schemas else spec.identifier(name)
        blocks = []
        for t in self.tables:
            lines = [f"-- {t.comment}"] if t.comment else []
            lines.append(f"CREATE TABLE {_shown(t.ref)} (")
            body = []
            for c in t.columns:
                line = f"  {_shown(c.name)} {c.type}" + (" PRIMARY KEY" if t.primary_key == (c.name,) else "")
                notes = [c.comment] if c.comment else []
                if c.allowed_values:
                    notes.append("values: " + ", ".join(c.allowed_values))
                body.append((line, notes))
            if len(t.primary_key) > 1:
                body.append((f"  PRIMARY KEY ({', '.join(map(_shown, t.primary_key))})", []))
            for fk in t.foreign_keys:
                body.append((f"  FOREIGN KEY ({', '.join(map(_shown, fk.columns))}) REFERENCES {_shown(fk.ref_table)}"
                             f"({', '.join(map(_shown, fk.ref_columns))})", []))
            for i, (line, notes) in enumerate(body):
                comma = "," if i < len(body) - 1 else ""
                lines.append(line + comma + (f"  -- {'; '.join(notes)}" if notes else ""))
            lines.append(");")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def parse_ddl(ddl: str, dialect: str = "duckdb") -> Catalog:
    """Tables from CREATE TABLE, keys from ALTER TABLE ... ADD CONSTRAINT, comments from COMMENT ON;
    every other statement in the file is skipped."""
    tables: dict[str, dict] = {}
    later: list[exp.Expression] = []
    for statement in parse_statements(ddl, dialect):
        if isinstance(statement, exp.Create) and statement.kind == "TABLE" and isinstance(statement.this, exp.Schema):
            table = _table(statement, dialect)
            tables[_key(table["schema"], table["name"])] = table
        elif isinstance(statement, (exp.Comment, exp.Alter)):
            later.append(statement)
    for statement in later:
        if isinstance(statement, exp.Comment):
            _apply_comment(statement, tables, dialect)
        else:
            _apply_constraints(statement, tables, dialect)
    _place_reverse_keys(tables)
    for table in tables.values():
        if not table["pk"]:
            table["pk"] = _commented_primary_key(table)
    if not tables:
        raise ConfigError("schema DDL holds no CREATE TABLE statement")
    return Catalog(tuple(_freeze(t) for t in tables.values()), dialect)


_DEFAULT_SCHEMAS = {"postgres": "public", "duckdb": "main", "sqlite": "main", "tsql": "dbo"}


def default_schema(dialect: str) -> str:
    return _DEFAULT_SCHEMAS.get(dialect, "")


def parse_statements(ddl: str, dialect: str) -> list[exp.Expression]:
    """Each statement parsed on its own, so one that sqlglot cannot read (a function body, a GRANT) does not
    hide the tables; a CREATE TABLE that does not parse is an error naming it."""
    text = "\n".join(line for line in ddl.splitlines() if not line.startswith("\\"))  # psql meta-commands
    try:
        tokens = sqlglot.Dialect.get_or_raise(dialect).tokenize(text)
    except sqlglot.errors.SqlglotError as exc:
        raise ConfigError(f"schema DDL does not parse as {dialect}: {_first_line(exc)}") from None
    chunks, start = [], 0
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            chunks.append(text[start:token.start])
            start = token.end + 1
    chunks.append(text[start:])
    statements = []
    for chunk in chunks:
        if not chunk.strip():
            continue
        try:
            statement = sqlglot.parse_one(chunk, read=dialect)
        except sqlglot.errors.SqlglotError as exc:
            create = _CREATE_TABLE.match(_without_comments(chunk))
            if create:
                name = create.group("name") or "(without a name)"
                raise ConfigError(f"schema DDL: CREATE TABLE {name} does not parse as {dialect}: "
                                  f"{_first_line(exc)}") from None
            continue
        if statement is not None:
            statements.append(statement)
    return statements


_CREATE_TABLE = re.compile(r"\s*CREATE\s+(OR\s+REPLACE\s+)?((GLOBAL|LOCAL)\s+)?(TEMP\w*\s+)?TABLE\s*"
                           r"(IF\s+NOT\s+EXISTS\s+)?(?P<name>[^\s(]*)", re.I)


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.S)


def _key(schema: str, name: str) -> str:
    return f"{schema}.{name}".lower() if schema else name.lower()


def _schema_of(table: exp.Table, dialect: str) -> str:
    """The table's schema, or "" when it is the dialect's default one (bare names find it)."""
    schema = table.db
    return "" if not schema or schema.lower() == default_schema(dialect) else schema


def _ref(table: exp.Table, dialect: str) -> str:
    schema = _schema_of(table, dialect)
    return f"{schema}.{table.name}" if schema else table.name


def _table(create: exp.Create, dialect: str) -> dict:
    schema = create.this
    table = {"name": schema.this.name, "schema": _schema_of(schema.this, dialect), "comment": _comment(create.comments),
             "columns": [], "pk": [], "fks": []}
    table["ref"] = f"{table['schema']}.{table['name']}" if table["schema"] else table["name"]
    properties = create.args.get("properties")
    for prop in properties.expressions if properties is not None else []:
        if isinstance(prop, exp.SchemaCommentProperty):   # MySQL: CREATE TABLE ... COMMENT='...'
            table["comment"] = prop.this.name
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            table["columns"].append(_column(item, table, dialect))
        elif isinstance(item, exp.Constraint):   # CONSTRAINT name PRIMARY KEY / FOREIGN KEY (...)
            for inner in item.expressions:
                _table_constraint(inner, table, dialect)
        else:
            _table_constraint(item, table, dialect)
    return table


def _table_constraint(item: exp.Expression, table: dict, dialect: str) -> None:
    if isinstance(item, exp.PrimaryKey):
        table["pk"] = [_name(e) for e in item.expressions]
    elif isinstance(item, exp.ForeignKey):
        ref = item.args.get("reference")
        target = ref.this if ref is not None else None
        if isinstance(target, exp.Schema):
            fk = ForeignKey(tuple(_name(e) for e in item.expressions), _ref(target.this, dialect),
                            tuple(_name(e) for e in target.expressions))
            if fk not in table["fks"]:
                table["fks"].append(fk)


def _apply_constraints(alter: exp.Alter, tables: dict[str, dict], dialect: str) -> None:
    """`ALTER TABLE [ONLY] t ADD [CONSTRAINT c] PRIMARY KEY / FOREIGN KEY ...`, as pg_dump writes keys."""
    target = alter.this
    if not isinstance(target, exp.Table):
        return
    table = tables.get(_key(_schema_of(target, dialect), target.name))
    if table is None:
        return
    for action in alter.args.get("actions") or []:
        if isinstance(action, exp.AddConstraint):
            for item in action.expressions:
                for inner in (item.expressions if isinstance(item, exp.Constraint) else [item]):
                    _table_constraint(inner, table, dialect)


def _column(item: exp.ColumnDef, table: dict, dialect: str) -> dict:
    kind = item.args.get("kind")
    comments = (item.this.comments or []) + (item.comments or [])
    column = {"name": item.name, "type": kind.sql("duckdb") if kind is not None else "UNKNOWN",
              "comment": _comment(comments), "nullable": True, "primary_key": False, "allowed": ()}
    table["fks"] += _commented_keys(item.name, table["ref"], column["comment"])
    for constraint in item.constraints:
        kind_ = constraint.kind
        if isinstance(kind_, exp.PrimaryKeyColumnConstraint):
            column["primary_key"], column["nullable"] = True, False
            table["pk"] = [item.name]
        elif isinstance(kind_, exp.NotNullColumnConstraint) and not kind_.args.get("allow_null"):
            column["nullable"] = False
        elif isinstance(kind_, exp.CommentColumnConstraint):
            column["comment"] = kind_.this.name
        elif isinstance(kind_, exp.Reference) and isinstance(kind_.this, exp.Schema):
            target = kind_.this
            table["fks"].append(ForeignKey((item.name,), _ref(target.this, dialect),
                                           tuple(_name(e) for e in target.expressions)))
        elif isinstance(kind_, exp.CheckColumnConstraint):
            check = kind_.this
            if isinstance(check, exp.In):
                column["allowed"] = tuple(v.name for v in check.expressions if isinstance(v, exp.Literal))
    return column


_COMMENTED_KEY = re.compile(r"(\w+)\.(\w+)\s*\((many-to-one|one-to-one|one-to-many)\)")


def _commented_keys(column: str, table: str, comment: str) -> list:
    """Keys stated in a column comment: `Foreign keys: other.col (many-to-one)` means this column
    references other.col; `(one-to-many)` means other.col references this one."""
    if "foreign key" not in comment.lower():
        return []
    keys = []
    for other_table, other_column, kind in _COMMENTED_KEY.findall(comment):
        if kind == "one-to-many":
            keys.append(("reverse", other_table, ForeignKey((other_column,), table, (column,))))
        else:
            keys.append(ForeignKey((column,), other_table, (other_column,)))
    return keys


def _apply_comment(statement: exp.Comment, tables: dict[str, dict], dialect: str) -> None:
    text = statement.expression.name
    target = statement.this
    kind = (statement.args.get("kind") or "").upper()
    if kind == "TABLE" and isinstance(target, exp.Table):
        table = tables.get(_key(_schema_of(target, dialect), target.name))
        if table is not None:
            table["comment"] = text
    elif kind == "COLUMN" and isinstance(target, exp.Column):
        schema = target.args.get("db")
        schema = "" if schema is None or schema.name.lower() == default_schema(dialect) else schema.name
        for column in tables.get(_key(schema, target.table), {}).get("columns", []):
            if column["name"].lower() == target.name.lower():
                column["comment"] = text


_COMMENTED_PK = re.compile(r"primary key:?\s*\(([^)]*)\)", re.I)


def _commented_primary_key(table: dict) -> list[str]:
    """`-- primary key: (a, b)` in a table comment, where the DDL declares none; only real columns."""
    match = _COMMENTED_PK.search(table["comment"])
    names = {c["name"].lower(): c["name"] for c in table["columns"]}
    found = [names.get(n.strip().strip('"`').lower()) for n in match.group(1).split(",")] if match else []
    return found if found and all(found) else []


def _place_reverse_keys(tables: dict[str, dict]) -> None:
    """A `(one-to-many)` comment names the referencing table: move the key there, without duplicates."""
    for t in tables.values():
        reverse = [k for k in t["fks"] if isinstance(k, tuple)]
        t["fks"] = [k for k in t["fks"] if not isinstance(k, tuple)]
        for _, owner, key in reverse:
            if owner.lower() in tables:
                tables[owner.lower()].setdefault("reverse_fks", []).append(key)
    for t in tables.values():
        for key in t.pop("reverse_fks", []):
            if key not in t["fks"]:
                t["fks"].append(key)
        t["fks"] = list(dict.fromkeys(t["fks"]))


def _freeze(t: dict) -> Table:
    pk = tuple(t["pk"])
    columns = tuple(Column(c["name"], c["type"], c["comment"], c["nullable"] and c["name"] not in pk,
                           c["name"] in pk, c["allowed"]) for c in t["columns"])
    return Table(t["name"], columns, pk, tuple(t["fks"]), t["comment"], t["schema"])


def _name(e: exp.Expression) -> str:
    return e.name if isinstance(e, (exp.Identifier, exp.Column)) else e.sql()


def _comment(comments: list[str] | None) -> str:
    return " ".join(c.strip() for c in comments or [] if c.strip())


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
