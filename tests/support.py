"""Helpers shared by the test modules (conftest.py files hold fixtures only)."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLE_DDL = (REPO / "MoE" / "schemas" / "ecommerce_sample_schema.sql").read_text()


def require_offline_model(name: str):
    """Skip unless the packaged model and llama-cpp-python are installed (CI installs both and requires them)."""
    from Qwen3 import offline

    missing = []
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        missing.append("llama-cpp-python")
    if not offline.is_installed(name):
        missing.append(f"offline model {name}")
    if missing:
        if os.environ.get("QWEN3_REQUIRE_OFFLINE") == "1":
            pytest.fail(f"QWEN3_REQUIRE_OFFLINE=1 but missing: {', '.join(missing)}")
        pytest.skip(f"missing: {', '.join(missing)}")

SHARED_DATA = REPO.parent / "shared" / "data"


def shared_data(*parts: str):
    """A file of ../shared/data (beside the clone in CI); CI fails without it, elsewhere the test skips."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"shared data missing: {path}")
        pytest.skip(f"shared data missing: {path}")
    return path
