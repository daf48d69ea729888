# The README's two commands: `make demo` and `make test`. Everything else is a building block.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
# Meltano 4 keeps run logs in the user's state dir; keep them inside the project instead.
export XDG_STATE_HOME := $(abspath .meltano/user-state)

.PHONY: setup demo test test-long sandbox-up sandbox-down constraints clean outside-clients chromium \
	dagster-setup dagster-dev dagster-constraints postgresql

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-runs only when a pin or a package definition changed.
$(VENV)/.installed: $(BIN)/python requirements.txt constraints.txt \
		sandbox/pyproject.toml tap-eventmaker/pyproject.toml target-salesforce-campaign/pyproject.toml \
		sync-monitor/pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt -c constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e ./sandbox -e ./tap-eventmaker -e ./target-salesforce-campaign \
		-e ./sync-monitor
	touch $@

# Meltano installs each plugin into its own venv under .meltano/.
# Plugin venvs are rebuilt when meltano.yml or a custom plugin's pinned dependencies change.
.meltano/.installed: $(VENV)/.installed meltano.yml tap-eventmaker/pyproject.toml \
		target-salesforce-campaign/pyproject.toml sync-monitor/pyproject.toml
	$(BIN)/meltano install
	touch $@

setup: .meltano/.installed

# Salesforce clients nobody in this project wrote (tests/outside_clients/), in a venv of their own.
OUTSIDE_VENV := .venv-outside
$(OUTSIDE_VENV)/.installed: tests/outside_clients/requirements.txt
	$(PYTHON) -m venv $(OUTSIDE_VENV)
	$(OUTSIDE_VENV)/bin/pip install --quiet --no-deps -r tests/outside_clients/requirements.txt
	touch $@

# jsforce from npm, exact versions from its package-lock.json (without Node.js its test is skipped).
JSFORCE := tests/outside_clients/js
$(JSFORCE)/node_modules/.package-lock.json: $(JSFORCE)/package.json $(JSFORCE)/package-lock.json
	@if command -v npm >/dev/null; then cd $(JSFORCE) && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the jsforce test will be skipped (apt-get install nodejs npm to run it)"; fi

outside-clients: $(OUTSIDE_VENV)/.installed $(JSFORCE)/node_modules/.package-lock.json

# The Dagster code location (orchestration/dagster/), in a venv of its own: Dagster's dependencies
# never constrain Meltano's. It runs the project's own .venv/bin/meltano.
DAGSTER_DIR := orchestration/dagster
DAGSTER_VENV := $(DAGSTER_DIR)/.venv
$(DAGSTER_VENV)/.installed: $(DAGSTER_DIR)/requirements.txt $(DAGSTER_DIR)/constraints.txt \
		$(DAGSTER_DIR)/pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(DAGSTER_VENV)
	$(DAGSTER_VENV)/bin/pip install --quiet -r $(DAGSTER_DIR)/requirements.txt -c $(DAGSTER_DIR)/constraints.txt
	$(DAGSTER_VENV)/bin/pip install --quiet -c $(DAGSTER_DIR)/constraints.txt -e ./sandbox -e ./$(DAGSTER_DIR)
	touch $@

dagster-setup: setup $(DAGSTER_VENV)/.installed

# `dagster dev` on this project: web UI on http://127.0.0.1:3000, the instance in $(DAGSTER_DIR)/.dagster-home.
dagster-dev: dagster-setup
	mkdir -p $(DAGSTER_DIR)/.dagster-home && cp $(DAGSTER_DIR)/dagster.yaml $(DAGSTER_DIR)/.dagster-home/dagster.yaml
	. scripts/activate && cd $(DAGSTER_DIR) && DAGSTER_HOME=$(abspath $(DAGSTER_DIR)/.dagster-home) \
		EVENTMAKER_MAX_CONCURRENT_RUNS=$${EVENTMAKER_MAX_CONCURRENT_RUNS:-4} MELTANO_PROJECT_ROOT=$(CURDIR) \
		.venv/bin/dagster dev -m eventmaker_sync_dagster.definitions

dagster-constraints:
	$(DAGSTER_VENV)/bin/pip freeze --exclude-editable | grep -v -iE '^(dagster|dagster-webserver|PyYAML|pytest|hypothesis)==' \
		| sed '1i # Transitive pins of requirements.txt (regenerate: make dagster-constraints).' > $(DAGSTER_DIR)/constraints.txt

# Debian's PostgreSQL: the Dagster tests start a private cluster of it as Meltano's system database.
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-cache show postgresql >/dev/null 2>&1 || apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql; }

sandbox-up: setup
	. scripts/activate && sandbox up

sandbox-down:
	-. scripts/activate && sandbox down

demo: setup
	bash scripts/demo.sh

test: setup outside-clients chromium dagster-setup postgresql
	bash scripts/test.sh

# The long runs: the randomised ones (bookmark completeness, concurrent slices, write-back races),
# minutes each, and every e2e test in both homes of the sync state (make test: the both_homes ones).
test-long: setup
	E2E_EVERY_HOME=1 bash scripts/test.sh -m "randomised_long or e2e"

# Headless Chromium (Debian's package) renders sync-monitor's HTML report in the tests; apt-get update
# only when the package lists do not know it yet.
chromium:
	@command -v chromium >/dev/null || { apt-cache show chromium >/dev/null 2>&1 || apt-get update; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

constraints: $(BIN)/python
	$(BIN)/pip freeze --exclude-editable | grep -v -iE '^(meltano|simple-salesforce|singer-sdk|requests|requests-mock|pytest|pytest-xdist|starlette|uvicorn|trustme|psutil)==' > constraints.txt

clean: sandbox-down
	rm -rf $(VENV) $(OUTSIDE_VENV) $(DAGSTER_VENV) $(DAGSTER_DIR)/.dagster-home $(JSFORCE)/node_modules .meltano .sandbox
