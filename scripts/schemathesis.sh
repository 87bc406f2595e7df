#!/usr/bin/env bash
# Runs schemathesis against the served OpenAPI document of an example server, with a logged-in
# user: no server errors, documented status codes and content types, and response bodies that
# match their schemas. Called by scripts/test.sh after `cargo test` (which builds the examples).
#
#   scripts/schemathesis.sh EXAMPLE_BINARY [LABEL]
set -euo pipefail

BINARY=$1
LABEL=${2:-$(basename "$BINARY")}
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

curl -fsS -X POST "$BASE/api/v1/auth/register" -H 'content-type: application/json' \
    -d '{"email":"schemathesis@example.com","password":"correct horse battery"}' >/dev/null
TOKEN=$(curl -fsS -X POST "$BASE/api/v1/auth/token" -H 'content-type: application/json' \
    -d '{"grant_type":"password","email":"schemathesis@example.com","password":"correct horse battery"}' \
    | "$VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

echo "==> schemathesis against $LABEL"
# Logout endpoints are left out: they would revoke the token the run authenticates with.
"$VENV/bin/st" run "$BASE/api/v1/openapi.json" \
    -H "Authorization: Bearer $TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
    --exclude-path /api/v1/auth/logout --exclude-path /api/v1/auth/logout-all \
    --max-examples 40 --workers 2 --seed 1 --no-color
