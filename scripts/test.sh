#!/usr/bin/env bash
# Runs every test suite: sandbox conformance, tap, target, the project's end-to-end tests, and the
# Dagster code location's (with its own venv).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/activate
status=0
# A full run uses two pytest-xdist workers: tests/e2e in one, tests/resilience in the other, each
# one test at a time (tests/conftest.py), the rest wherever a worker is free. Arguments: one
# process, as given.
parallel=()
if [ $# -eq 0 ]; then
    parallel=(-n auto --maxprocesses 2 --dist loadscope)
fi
.venv/bin/pytest "${parallel[@]}" "$@" || status=$?
# The Dagster code location: its own venv and tests (orchestration/dagster/pytest.ini), on a full run.
if [ $# -eq 0 ]; then
    (cd orchestration/dagster && exec .venv/bin/pytest) || status=$?
fi
exit $status
