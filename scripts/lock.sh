#!/usr/bin/env bash
# The locks, compiled from pyproject.toml with uv (pip install uv): hashed, pinned, for Python 3.11.
#   requirements.txt      what a deploy installs (Heroku's Python buildpack reads it)
#   requirements-dev.txt  the same pins plus the test and benchmark tools: what CI installs and tests
# Usage: scripts/lock.sh          regenerate both (keeping current pins that still satisfy pyproject.toml;
#                                 add --upgrade to move every pin to the newest allowed release)
#        scripts/lock.sh --check  fail if either lock no longer matches pyproject.toml
set -euo pipefail
cd "$(dirname "$0")/.."

uv() {  # the uv on PATH, else the one pip installed for python3
  if command -v uv >/dev/null 2>&1; then command uv "$@"; else python3 -m uv "$@"; fi
}

compile() {  # compile OUTPUT [extra uv arguments]
  local out=$1
  shift
  uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
    --custom-compile-command "scripts/lock.sh" --output-file "$out" "$@"
}

if [ "${1:-}" = "--check" ]; then
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  cp requirements.txt requirements-dev.txt "$work/"  # uv keeps the pins it finds there when they still fit
  compile "$work/requirements.txt"
  compile "$work/requirements-dev.txt" --extra dev --extra bench --constraint requirements.txt
  if ! diff -u requirements.txt "$work/requirements.txt" || ! diff -u requirements-dev.txt "$work/requirements-dev.txt"; then
    echo "error: the locks are stale (pyproject.toml changed): run scripts/lock.sh and commit both files" >&2
    exit 1
  fi
  echo "locks match pyproject.toml"
else
  compile requirements.txt "$@"
  compile requirements-dev.txt --extra dev --extra bench --constraint requirements.txt "$@"
fi
