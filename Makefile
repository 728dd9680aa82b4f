# Two commands matter: `make run` starts the bot, `make test` runs the whole suite.
# Both install what they need first; only python3 (with venv/pip) is assumed.

TOOLS := .tools
UV := $(TOOLS)/bin/uv
PYTHON ?= python3
export UV_PYTHON_DOWNLOADS := never

.PHONY: test lint run install clean bench

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check "uv>=0.5,<1"

.venv/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $@

install: .venv/.synced

test: install
	$(UV) run --locked pytest

lint: install
	$(UV) run --locked ruff check .
	$(UV) run --locked ruff format --check .
	$(UV) run --locked mypy --strict bot handlers providers devkit
	$(UV) run --locked hadolint Dockerfile

run: install
	$(UV) run --locked reenviar-bot start

# The benchmark (not part of `make test`; see README "Benchmark"), e.g.
# make bench BENCH_ARGS="--postgres postgresql://postgres@127.0.0.1:5432/test"
BENCH_ARGS ?=
bench: install
	$(UV) run --locked python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(TOOLS) .venv .pytest_cache .mypy_cache .ruff_cache
