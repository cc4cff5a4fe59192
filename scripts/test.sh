#!/usr/bin/env bash
# Install what the tests need and run lint, type checks and the whole test suite.
# Usage: scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  else
    echo "note: redis-server is not installed; the Redis tests will be skipped (sudo apt-get install redis-server)" >&2
  fi
fi

# PostgreSQL server binaries for the database tests (they start their own server on a free port).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    echo "note: PostgreSQL is not installed; the PostgreSQL tests will be skipped (sudo apt-get install postgresql)" >&2
  fi
fi

python3 -m pip install -q --disable-pip-version-check -e '.[dev,bench]'

echo "== ruff check";          python3 -m ruff check .
echo "== ruff format --check"; python3 -m ruff format --check .
echo "== mypy";                python3 -m mypy
# Every benchmark section end to end with tiny counts: fails on errors and unanswered interactions, not on speed.
echo "== benchmarks --smoke";  python3 -m benchmarks --smoke
echo "== pytest";              python3 -m pytest -q "$@"
