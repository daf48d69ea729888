#!/usr/bin/env bash
# Runs every test suite: sandbox conformance, tap, target, and the project's end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/activate
exec .venv/bin/pytest "$@"
