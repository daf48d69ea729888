#!/usr/bin/env bash
# Runs every test suite: sandbox conformance, tap, target, the project's end-to-end tests, and the
# Dagster code location's (with its own venv).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/activate
status=0
.venv/bin/pytest "$@" || status=$?
# The Dagster code location: its own venv and tests (orchestration/dagster/pytest.ini), on a full run.
if [ $# -eq 0 ]; then
    (cd orchestration/dagster && exec .venv/bin/pytest) || status=$?
fi
exit $status
