#!/usr/bin/env bash
# Install what the tests need and run lint, type checks and the whole test suite.
#   - Python packages: exactly the pins in requirements-dev.txt (hash-checked), then this project itself,
#     into the Python that `python3` runs (use a virtual environment: see the README's quick start).
#   - Services the tests run for real: as root, with apt-get, the ones missing are installed (below);
#     otherwise their tests are skipped, or fail under CI (REQUIRE_REDIS=1, REQUIRE_POSTGRES=1).
# Usage: scripts/test.sh [extra pytest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."

# ---- services (Debian packages) ---------------------------------------------------------------
packages=()
command -v redis-server >/dev/null 2>&1 || packages+=(redis-server)
# PostgreSQL's server binaries for the database tests (they start their own server on a free port).
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || packages+=(postgresql)
if [ "${#packages[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "== apt-get install ${packages[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "note: ${packages[*]} not installed; their tests will be skipped (sudo apt-get install ${packages[*]})" >&2
  fi
fi

# ---- Python packages, from the lock ---------------------------------------------------------------
if python3 - <<'PY'
import os, sys, sysconfig
managed = os.path.exists(os.path.join(sysconfig.get_path("stdlib"), "EXTERNALLY-MANAGED"))
sys.exit(0 if managed and sys.prefix == sys.base_prefix else 1)
PY
then
  echo "error: $(command -v python3) is the system's Python, which refuses pip installs (externally-managed-environment)." >&2
  echo "       Create a virtual environment first: python3 -m venv .venv && . .venv/bin/activate" >&2
  exit 1
fi
echo "== pip install --require-hashes -r requirements-dev.txt && pip install --no-deps -e ."
python3 -m pip install -q --disable-pip-version-check --require-hashes -r requirements-dev.txt
python3 -m pip install -q --disable-pip-version-check --no-deps -e .

echo "== ruff check";          python3 -m ruff check .
echo "== ruff format --check"; python3 -m ruff format --check .
echo "== mypy";                python3 -m mypy
# Every benchmark section end to end with tiny counts: fails on errors and unanswered interactions, not on speed.
echo "== benchmarks --smoke";  python3 -m benchmarks --smoke
echo "== pytest";              python3 -m pytest -q -p no:cacheprovider "$@"
