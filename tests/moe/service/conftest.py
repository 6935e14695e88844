import sys

import pytest

from support import REPO

sys.path.insert(0, str(REPO / "benchmarks"))   # service_load.py: the loopback server and the role-scripted model


@pytest.fixture
def serve():
    """serve(app) -> base URL of the app under uvicorn on 127.0.0.1; stopped after the test."""
    from service_load import LoopbackServer

    servers = []

    def start(app) -> str:
        server = LoopbackServer(app).__enter__()
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.__exit__()
