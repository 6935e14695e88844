"""The SQL mixture of experts: a router, planner / sql_writer / validator experts, and real checks.

    from MoE.sql import load_orchestrator
    result = load_orchestrator("MoE/sql_moe_orchestrator_config.yaml").run("Monthly revenue in 2024?")
    print(result.sql, result.explanation, result.confidence)

    with load_orchestrator({"database": {"url": "postgresql+psycopg://reader@host/db"}}) as orchestrator:
        ...                                      # the schema is read from the database
"""

from .catalog import Catalog, Column, ForeignKey, Table, parse_ddl
from .confidence import Confidence
from .config import OrchestratorConfig, load_orchestrator_config
from .conversation import Conversation, Turn
from .database import DatabaseError, connect
from .guard import UnsafeSQLError, check_read_only
from .introspect import introspect
from .orchestrator import OrchestrationResult, SQLMoEOrchestrator, load_orchestrator
from .question import QuestionRefused

__all__ = [
    "Catalog", "Column", "Confidence", "Conversation", "Turn", "DatabaseError", "ForeignKey", "OrchestrationResult", "OrchestratorConfig",
    "QuestionRefused", "SQLMoEOrchestrator", "Table", "UnsafeSQLError", "check_read_only", "connect", "introspect",
    "load_orchestrator", "load_orchestrator_config", "parse_ddl",
]
