#!/usr/bin/env bash
# Runs schemathesis with every check against the served OpenAPI document of an example server:
# no server errors; documented status codes, content types, headers and response bodies;
# schema-valid requests accepted and schema-invalid ones refused; credentials enforced
# wherever the document requires them; deleted tasks gone. Called by scripts/test.sh after
# `cargo test` (which builds the examples).
#
#   scripts/schemathesis.sh EXAMPLE_BINARY [LABEL]
#
# scripts/schemathesis.toml (authentication, per-operation expectations) and
# scripts/schemathesis_hooks.py (the refresh endpoint's cookies, generated cursors) say why
# each of their settings is needed.
set -euo pipefail

BINARY=$1
LABEL=${2:-$(basename "$BINARY")}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="${TASKFLOW_VENV:-$HOME/.cache/taskflow/venv}"
SCHEMATHESIS_VERSION="4.32.5"

if ! "$VENV/bin/python" -m pip show schemathesis 2>/dev/null | grep -qx "Version: $SCHEMATHESIS_VERSION"; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

PORT=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
LOG="$(mktemp "${TMPDIR:-/tmp}/taskflow-schemathesis.XXXXXX.log")"
TASKFLOW_BIND="127.0.0.1:$PORT" TASKFLOW_AUTH_RATE_PER_MIN=1000000 TASKFLOW_API_RATE_PER_MIN=1000000 \
    TASKFLOW_REFRESH_RATE_PER_MIN=1000000 \
    TASKFLOW_MONGODB_URI="" "$BINARY" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -f "$LOG"' EXIT

# Readiness poll (bounded), not a timing assumption.
for _ in $(seq 1 100); do
    curl -fsS "$BASE/health/live" >/dev/null 2>&1 && break
    kill -0 "$SERVER" 2>/dev/null || { cat "$LOG" >&2; exit 1; }
    sleep 0.1
done

# The account the run logs in with (scripts/schemathesis.toml and the hooks read these).
export TASKFLOW_ST_EMAIL="schemathesis@example.com"
export TASKFLOW_ST_PASSWORD="correct horse battery"
curl -fsS -X POST "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$TASKFLOW_ST_EMAIL\",\"password\":\"$TASKFLOW_ST_PASSWORD\"}" >/dev/null

echo "==> schemathesis against $LABEL"
# One worker: the run is then deterministic for its seed (the logout endpoints revoke the session
# other requests use; concurrent workers would interleave that differently on every run), and
# it avoids a spurious `SystemError: AST constructor recursion depth mismatch` that the venv's
# CPython 3.11 raised once in a two-worker run, when hypothesis parsed a source file to describe
# a filter (cpython gh-106905).
SCHEMATHESIS_HOOKS="$HERE/schemathesis_hooks.py" \
    "$VENV/bin/st" --config-file "$HERE/schemathesis.toml" run "$BASE/api/v1/openapi.json" \
    --checks all \
    --max-examples 40 --workers 1 --seed 1 --no-color
