#!/usr/bin/env bash
# The whole suite (make test): first everything but the fault tests on TEST_WORKERS processes
# (pytest-xdist; each worker has a test database and a Redis database of its own: tests/worker_env.py),
# then the fault tests one at a time, alone on the machine: they restart PostgreSQL, kill workers and
# load every core. Arguments go to both runs ("tests/registry -x"); a run that selects no test (pytest's
# exit 5) is not a failure unless neither selects one.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
WORKERS=${TEST_WORKERS:-2}

run() {
  "$PYTHON" -m pytest "$@"
  local rc=$?
  [ "$rc" -eq 5 ] && return 5
  [ "$rc" -eq 0 ] || exit "$rc"
}

ran=0
if [ "$WORKERS" -gt 1 ]; then parallel=(-n "$WORKERS"); else parallel=(); fi
run "${parallel[@]}" -m "not faults" "$@" && ran=1
run -m faults "$@" && ran=1
[ "$ran" -eq 1 ] || exit 5
