#!/usr/bin/env bash
# End-to-end tests of the reference web client (examples/web) in a real browser: Debian's
# Chromium driven by Playwright against both example servers, the client and the API on one
# origin (nginx in front) and on two origins of one site (CORS with credentials), plus one
# run over HTTPS with production's cookies. Installs what it needs: the apt packages chromium
# and nginx-light when missing (as root, or with passwordless sudo), then `npm ci`. Also
# checks that the committed OpenAPI document and TypeScript types are those the code
# generates. Called by scripts/test.sh; prints one `e2e result: N passed; N failed` line.
#
#   scripts/e2e.sh [playwright test args]      (e.g. --project "axum same-origin", -g reload)
#
# Environment: TASKFLOW_E2E_CHROMIUM (default /usr/bin/chromium), TASKFLOW_E2E_WORKERS
# (default 2). Under CI=true a missing browser is a failure; elsewhere the step is skipped.
# Output (screenshots, traces of failures, server logs, an HTML report): target/e2e/.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WEB="$REPO_ROOT/examples/web"
CHROMIUM="${TASKFLOW_E2E_CHROMIUM:-/usr/bin/chromium}"
export TASKFLOW_E2E_CHROMIUM="$CHROMIUM"

die() { printf 'e2e.sh: error: %s\n' "$*" >&2; exit 1; }
missing_tool() { # missing_tool WHAT: a failure under CI, a skip elsewhere
    if [[ "${CI:-}" == "true" ]]; then
        die "$1"
    fi
    echo "e2e.sh: skipped: $1 (under CI=true this is a failure)" >&2
    echo "e2e result: 0 passed; 0 failed"
    exit 0
}

packages=()
[[ -x "$CHROMIUM" ]] || packages+=(chromium)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || packages+=(nginx-light)
command -v openssl >/dev/null 2>&1 || packages+=(openssl)
if [[ ${#packages[@]} -gt 0 ]]; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            missing_tool "${packages[*]} missing, and installing needs root"
        fi
    fi
    echo "e2e.sh: installing ${packages[*]} with apt-get"
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi
[[ -x "$CHROMIUM" ]] || missing_tool "no browser at $CHROMIUM"
command -v npm >/dev/null 2>&1 || missing_tool "npm is not installed (Node 20.19 or later)"
export PATH="$PATH:/usr/sbin"

cd "$REPO_ROOT"
# The same feature set as `cargo test --workspace --all-features`, so nothing is rebuilt.
cargo build --workspace --locked --all-features --example axum_server --example warp_server --example openapi

cd "$WEB"
npm ci --no-audit --no-fund --loglevel=error

# The committed document and types must be what the server generates now (`npm run gen:api`
# regenerates both).
git ls-files --error-unmatch openapi.json src/api/schema.d.ts >/dev/null
cargo run --quiet --locked --all-features --example openapi >openapi.json
npm run --silent gen:types
if ! git diff --exit-code -- openapi.json src/api/schema.d.ts; then
    die "examples/web/openapi.json or src/api/schema.d.ts is out of date: run \`npm run gen:api\` in examples/web and commit the result"
fi

npm run --silent build

status=0
npx playwright test "$@" || status=$?
node -e '
  const { stats } = require(process.argv[1]);
  console.log(`e2e result: ${stats.expected + stats.flaky} passed; ${stats.unexpected} failed`);
' "$REPO_ROOT/target/e2e/results.json" || true
exit "$status"
