#!/usr/bin/env bash
# Starts each example server (debug builds: `cargo test` built them, so this only builds what
# is missing), waits for /health/ready, runs the API monitor (examples/smoke/) against it,
# then sends SIGTERM and requires a graceful exit (code 0) within SHUTDOWN_TIMEOUT_SECS; and
# requires refused production configurations to stop it at start-up (exit code 2, one line
# naming the variable, never the secret's value).
# Called by scripts/test.sh; prints one `smoke result: N passed; N failed` line for its summary.
#
#   scripts/smoke.sh [SERVER ...]     (default: axum_server warp_server)
set -euo pipefail

READY_TIMEOUT_SECS=30
SHUTDOWN_TIMEOUT_SECS=10

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO_ROOT"
SERVERS=("$@")
[[ ${#SERVERS[@]} -gt 0 ]] || SERVERS=(axum_server warp_server)

build_args=(--example smoke)
for server in "${SERVERS[@]}"; do build_args+=(--example "$server"); done
# The same feature set as `cargo test --workspace --all-features`, so nothing is rebuilt.
cargo build --workspace --locked --all-features "${build_args[@]}"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

passed=0
failed=0
check() { # check NAME COMMAND...: runs COMMAND and counts its outcome
    local name=$1
    shift
    if "$@"; then
        passed=$((passed + 1))
        echo "smoke: $name: ok"
    else
        failed=$((failed + 1))
        echo "smoke: $name: FAILED" >&2
    fi
}

SERVER_PID=""
LOG=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -KILL "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -z "$LOG" ]] || rm -f "$LOG"
}
trap cleanup EXIT

wait_ready() { # bounded poll; fails early if the server died
    local base=$1 deadline=$((SECONDS + READY_TIMEOUT_SECS))
    while ((SECONDS < deadline)); do
        curl -fsS --max-time 2 "$base/health/ready" >/dev/null 2>&1 && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { echo "server exited during start-up" >&2; return 1; }
        sleep 0.1
    done
    echo "server not ready within ${READY_TIMEOUT_SECS} s" >&2
    return 1
}

stops_gracefully() { # SIGTERM, then exit code 0 within the bound
    kill -TERM "$SERVER_PID"
    local deadline=$((SECONDS + SHUTDOWN_TIMEOUT_SECS)) rc
    while kill -0 "$SERVER_PID" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            echo "still running ${SHUTDOWN_TIMEOUT_SECS} s after SIGTERM" >&2
            return 1
        fi
        sleep 0.1
    done
    rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=""
    [[ $rc -eq 0 ]] || echo "exit code $rc after SIGTERM" >&2
    return "$rc"
}

refuses() { # refuses SERVER VARIABLE NAME=VALUE...: exit code 2, one line naming VARIABLE
    local server=$1 variable=$2 rc=0 out dir
    shift 2
    # An empty directory: no `.env` file of the checkout may add to the configuration.
    dir="$(mktemp -d "${TMPDIR:-/tmp}/taskflow-smoke.XXXXXX")"
    out=$(cd "$dir" && env -i PATH="$PATH" TASKFLOW_PROFILE=production TASKFLOW_BIND=127.0.0.1:0 "$@" \
        timeout 10 "$REPO_ROOT/target/debug/examples/$server" 2>&1) || rc=$?
    rmdir "$dir"
    if [[ $rc -ne 2 || $(wc -l <<<"$out") -ne 1 || $out != *"$variable"* || $out == *hunter2* ]]; then
        echo "expected exit code 2 and one line naming $variable; got $rc: $out" >&2
        return 1
    fi
}

for server in "${SERVERS[@]}"; do
    check "$server refuses a guessable JWT secret" refuses "$server" TASKFLOW_JWT_SECRET \
        TASKFLOW_JWT_SECRET=hunter2hunter2hunter2hunter2hunter2 TASKFLOW_TRUSTED_PROXIES=10.0.0.0/8
    check "$server refuses proxies trusting every address" refuses "$server" TASKFLOW_TRUSTED_PROXIES \
        TASKFLOW_JWT_SECRET=Zq2vN4xR7pL1mW9tY3bH6cF0dS5gJeQk8-hunter2 TASKFLOW_TRUSTED_PROXIES=0.0.0.0/0
    port=$(free_port)
    base="http://127.0.0.1:$port"
    LOG="$(mktemp "${TMPDIR:-/tmp}/taskflow-smoke.XXXXXX.log")"
    echo "==> smoke: $server on $base"
    # The embedded store; the monitor registers one user and one login, well under the limit.
    TASKFLOW_PROFILE=development TASKFLOW_BIND="127.0.0.1:$port" TASKFLOW_MONGODB_URI="" \
        "target/debug/examples/$server" >"$LOG" 2>&1 &
    SERVER_PID=$!
    failed_before=$failed
    if wait_ready "$base"; then
        check "$server monitor" target/debug/examples/smoke --base-url "$base" --timeout-secs 10
        check "$server graceful shutdown" stops_gracefully
    else
        failed=$((failed + 1))
    fi
    if [[ $failed -gt $failed_before ]]; then
        echo "--- tail of the $server log ---" >&2
        tail -n 20 "$LOG" >&2 || true
    fi
    cleanup
    SERVER_PID=""
    LOG=""
done

echo "smoke result: $passed passed; $failed failed"
[[ $failed -eq 0 ]]
