"""The SQL mixture of experts: a router, planner / sql_writer / validator experts, and real checks.

    from MoE.sql import load_orchestrator
    result = load_orchestrator("MoE/sql_moe_orchestrator_config.yaml").run("Monthly revenue in 2024?")
    print(result.sql, result.explanation)
"""

from .catalog import Catalog, Column, ForeignKey, Table, parse_ddl
from .config import OrchestratorConfig, load_orchestrator_config
from .guard import UnsafeSQLError, check_read_only
from .orchestrator import OrchestrationResult, SQLMoEOrchestrator, load_orchestrator

__all__ = [
    "Catalog", "Column", "ForeignKey", "OrchestrationResult", "OrchestratorConfig", "SQLMoEOrchestrator",
    "Table", "UnsafeSQLError", "check_read_only", "load_orchestrator", "load_orchestrator_config", "parse_ddl",
]
