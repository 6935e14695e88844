"""The schema catalog: tables, columns, keys and comments, parsed from DDL with sqlglot.

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

from Qwen3.errors import ConfigError


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
    foreign_keys: tuple[ForeignKey, ...] = ()
    comment: str = ""

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


@dataclass(frozen=True)
class Catalog:
    tables: tuple[Table, ...]
    dialect: str = "duckdb"
    _index: dict = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "_index", {t.name.lower(): t for t in self.tables})

    def table(self, name: str) -> Table | None:
        return self._index.get(name.lower())

    @property
    def column_count(self) -> int:
        return sum(len(t.columns) for t in self.tables)

    def mapping(self) -> dict[str, dict[str, str]]:
        """{table: {column: type}}, the schema form sqlglot's optimizer takes."""
        return {t.name: {c.name: c.type for c in t.columns} for t in self.tables}

    def subset(self, keep: dict[str, set[str] | None]) -> "Catalog":
        """Only the named tables; for each, only the named columns (None: all of them)."""
        tables = []
        for t in self.tables:
            if t.name.lower() not in keep:
                continue
            wanted = keep[t.name.lower()]
            columns = t.columns if wanted is None else tuple(c for c in t.columns if c.name.lower() in wanted)
            fks = tuple(fk for fk in t.foreign_keys if fk.ref_table.lower() in keep)
            tables.append(Table(t.name, columns, t.primary_key, fks, t.comment))
        return Catalog(tuple(tables), self.dialect)

    def to_prompt(self) -> str:
        """Compact DDL with comments, for an expert's prompt."""
        blocks = []
        for t in self.tables:
            lines = [f"-- {t.comment}"] if t.comment else []
            lines.append(f"CREATE TABLE {t.name} (")
            body = []
            for c in t.columns:
                line = f"  {c.name} {c.type}" + (" PRIMARY KEY" if t.primary_key == (c.name,) else "")
                notes = [c.comment] if c.comment else []
                if c.allowed_values:
                    notes.append("values: " + ", ".join(c.allowed_values))
                body.append((line, notes))
            if len(t.primary_key) > 1:
                body.append((f"  PRIMARY KEY ({', '.join(t.primary_key)})", []))
            for fk in t.foreign_keys:
                body.append((f"  FOREIGN KEY ({', '.join(fk.columns)}) REFERENCES {fk.ref_table}"
                             f"({', '.join(fk.ref_columns)})", []))
            for i, (line, notes) in enumerate(body):
                comma = "," if i < len(body) - 1 else ""
                lines.append(line + comma + (f"  -- {'; '.join(notes)}" if notes else ""))
            lines.append(");")
            blocks.append("\n".join(lines))
        return "\n\n".join(blocks)


def parse_ddl(ddl: str, dialect: str = "duckdb") -> Catalog:
    """Parse CREATE TABLE (and COMMENT ON) statements; anything else in the file is ignored."""
    try:
        statements = [s for s in sqlglot.parse(ddl, read=dialect) if s is not None]
    except sqlglot.errors.SqlglotError as exc:
        raise ConfigError(f"schema DDL does not parse as {dialect}: {_first_line(exc)}") from None
    tables: dict[str, dict] = {}
    for statement in statements:
        if isinstance(statement, exp.Create) and statement.kind == "TABLE" and isinstance(statement.this, exp.Schema):
            table = _table(statement)
            tables[table["name"].lower()] = table
    for statement in statements:
        if isinstance(statement, exp.Comment):
            _apply_comment(statement, tables)
    _place_reverse_keys(tables)
    for table in tables.values():
        if not table["pk"]:
            table["pk"] = _commented_primary_key(table)
    if not tables:
        raise ConfigError("schema DDL holds no CREATE TABLE statement")
    return Catalog(tuple(_freeze(t) for t in tables.values()), dialect)


def _table(create: exp.Create) -> dict:
    schema = create.this
    table = {"name": schema.this.name, "comment": _comment(create.comments), "columns": [], "pk": [], "fks": []}
    for item in schema.expressions:
        if isinstance(item, exp.ColumnDef):
            table["columns"].append(_column(item, table))
        elif isinstance(item, exp.PrimaryKey):
            table["pk"] = [_name(e) for e in item.expressions]
        elif isinstance(item, exp.ForeignKey):
            ref = item.args.get("reference")
            target = ref.this if ref is not None else None
            if isinstance(target, exp.Schema):
                table["fks"].append(ForeignKey(tuple(_name(e) for e in item.expressions), target.this.name,
                                               tuple(_name(e) for e in target.expressions)))
    return table


def _column(item: exp.ColumnDef, table: dict) -> dict:
    kind = item.args.get("kind")
    comments = (item.this.comments or []) + (item.comments or [])
    column = {"name": item.name, "type": kind.sql("duckdb") if kind is not None else "UNKNOWN",
              "comment": _comment(comments), "nullable": True, "primary_key": False, "allowed": ()}
    table["fks"] += _commented_keys(item.name, table["name"], column["comment"])
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
            table["fks"].append(ForeignKey((item.name,), target.this.name, tuple(_name(e) for e in target.expressions)))
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


def _apply_comment(statement: exp.Comment, tables: dict[str, dict]) -> None:
    text = statement.expression.name
    target = statement.this
    kind = (statement.args.get("kind") or "").upper()
    if kind == "TABLE" and target.name.lower() in tables:
        tables[target.name.lower()]["comment"] = text
    elif kind == "COLUMN" and isinstance(target, exp.Column) and target.table.lower() in tables:
        for column in tables[target.table.lower()]["columns"]:
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
    return Table(t["name"], columns, pk, tuple(t["fks"]), t["comment"])


def _name(e: exp.Expression) -> str:
    return e.name if isinstance(e, (exp.Identifier, exp.Column)) else e.sql()


def _comment(comments: list[str] | None) -> str:
    return " ".join(c.strip() for c in comments or [] if c.strip())


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
