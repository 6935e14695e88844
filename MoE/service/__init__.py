"""The SQL experts over HTTP: an API, server-sent progress, conversations, feedback and a web page.

    from MoE.service import create_app
    app = create_app(load_orchestrator("MoE/sql_moe_orchestrator_config.yaml"))   # any ASGI server runs it

`python -m MoE.sql_server` is the command (docs/service.md).
"""

from .answer_queue import AnswerQueue, QueueFull
from .app import ServiceSettings, create_app
from .feedback import FeedbackStore

__all__ = ["AnswerQueue", "FeedbackStore", "QueueFull", "ServiceSettings", "create_app"]
