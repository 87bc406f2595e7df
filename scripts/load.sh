#!/usr/bin/env bash
# The TaskFlow load harness: builds the example servers in release mode, seeds them over HTTP,
# drives every scenario with `oha` in open-loop mode (-q with --latency-correction) and writes
# BENCHMARKS.md plus docs/bench/latency.svg (see `benches/load` for the report).
#
#   scripts/load.sh [--quick] [--adapters axum,warp] [--stores memory,mongo] [--out DIR]
#                   [--no-criterion] [--publish]
#
#   --quick         short steps and a small data set: checks the harness end to end in ~3 min;
#                   the report goes to DIR, not the repository (unless --publish)
#   --out DIR       raw results and logs (default: target/load)
#   --no-criterion  skip the criterion benchmarks of the targets
#   --publish       write BENCHMARKS.md and docs/bench/latency.svg in the repository (the
#                   default without --quick)
#
# Environment: TASKFLOW_MONGODB_URI uses that MongoDB for the `mongo` store instead of
# starting secantusd-rs (installed on demand with cargo, like oha); LOAD_PORT / LOAD_DB_PORT
# pick the ports (default 18080 / 27117; the side-by-side rounds also use LOAD_PORT + 1).
#
# Placement: the 2 cores are split with taskset: the server (and its database) on CPU 1, the
# load generators and the seeding client on CPU 0.
set -euo pipefail

OHA_VERSION="1.16.0"
SECANTUS_VERSION="0.5.3-beta.196"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORIGINAL_ARGS="$*"
QUICK=0
ADAPTERS="axum,warp"
STORES="memory,mongo"
OUT="$REPO_ROOT/target/load"
CRITERION=1
PUBLISH=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --adapters) ADAPTERS="$2"; shift ;;
        --stores) STORES="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --no-criterion) CRITERION=0 ;;
        --publish) PUBLISH=1 ;;
        -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
        *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

if [[ $QUICK -eq 1 ]]; then
    PROBE_SECS=1; STEP_SECS=1; FIXED_SECS=2; PAIR_ROUNDS=2
    FRACTIONS="0.5 1.0"
    MAIN_TASKS=200; HEAVY_TASKS=2000; OTHERS=5; OTHER_TASKS=50
    CRITERION=0
    PUBLISH="${PUBLISH:-0}"
else
    PROBE_SECS=3; STEP_SECS=4; FIXED_SECS=10; PAIR_ROUNDS=10
    FRACTIONS="0.25 0.5 0.75 0.85 0.9 0.95 1.0 1.05"
    MAIN_TASKS=1000; HEAVY_TASKS=100000; OTHERS=50; OTHER_TASKS=200
    PUBLISH="${PUBLISH:-1}"
fi
CONNECTIONS=64
PORT="${LOAD_PORT:-18080}"
DB_PORT="${LOAD_DB_PORT:-27117}"
BASE="http://127.0.0.1:$PORT"

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'load.sh: error: %s\n' "$*" >&2; exit 1; }

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# --- tools, installed on demand --------------------------------------------------------------
ensure_tools() {
    command -v jq >/dev/null || { step "Installing jq"; as_root apt-get install -y jq; }
    command -v taskset >/dev/null || die "taskset (util-linux) is required"
    if ! command -v oha >/dev/null; then
        step "Installing oha $OHA_VERSION (cargo install; takes a while)"
        nice -n 15 cargo install oha --version "$OHA_VERSION" --locked
    fi
    if [[ ",$STORES," == *",mongo,"* && -z "${TASKFLOW_MONGODB_URI:-}" ]] \
        && ! command -v secantusd-rs >/dev/null; then
        command -v cmake >/dev/null || { step "Installing cmake"; as_root apt-get install -y cmake; }
        step "Installing secantus-mdb $SECANTUS_VERSION (secantusd-rs; takes a while)"
        nice -n 15 cargo install secantus-mdb --version "$SECANTUS_VERSION" \
            --ignore-rust-version --locked
    fi
}

# --- processes -------------------------------------------------------------------------------
SERVER_PID=""
DB_PID=""
OHA_PIDS=()
PAIR_PIDS=()

stop_pid() {
    local pid=$1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${OHA_PIDS[@]}" "${PAIR_PIDS[@]}"; do stop_pid "$pid"; done
    stop_pid "$SERVER_PID"
    stop_pid "$DB_PID"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

wait_http() {
    local deadline=$((SECONDS + 30))
    until curl -fs -o /dev/null "$1"; do
        kill -0 "$2" 2>/dev/null || die "process $2 exited (see its log)"
        [[ $SECONDS -lt $deadline ]] || die "$1 not ready after 30 s"
        sleep 0.2
    done
}

wait_tcp() {
    local deadline=$((SECONDS + 60))
    until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
        kill -0 "$2" 2>/dev/null || die "process $2 exited (see its log)"
        [[ $SECONDS -lt $deadline ]] || die "port $1 not open after 60 s"
        sleep 0.2
    done
}

start_db() {
    local dir=$1
    rm -rf "$dir/db"
    mkdir -p "$dir/db"
    taskset -c 1 secantusd-rs --port "$DB_PORT" --storage-path "$dir/db" >"$dir/db.log" 2>&1 &
    DB_PID=$!
    wait_tcp "$DB_PORT" "$DB_PID"
}

start_server() {
    local adapter=$1 store=$2 dir=$3
    local -a env=(
        TASKFLOW_BIND="127.0.0.1:$PORT"
        TASKFLOW_JWT_SECRET="$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')"
        TASKFLOW_ACCESS_TTL_SECS=86400
        TASKFLOW_AUTH_RATE_PER_MIN=1000000000
        TASKFLOW_API_RATE_PER_MIN=1000000000
    )
    if [[ $store == mongo ]]; then
        if [[ -n "${TASKFLOW_MONGODB_URI:-}" ]]; then
            env+=(TASKFLOW_MONGODB_URI="$TASKFLOW_MONGODB_URI" TASKFLOW_MONGODB_DB="taskflow_load_${adapter}_$(date +%s)")
        else
            start_db "$dir"
            env+=(TASKFLOW_MONGODB_URI="mongodb://127.0.0.1:$DB_PORT/?directConnection=true" TASKFLOW_MONGODB_DB=taskflow_load)
        fi
    fi
    # The working directory has no .env: only the variables above apply. The request log
    # (one line per request, as in production) goes to /dev/null: a run writes millions.
    (cd "$dir" && exec env "${env[@]}" taskset -c 1 "$REPO_ROOT/target/release/examples/${adapter}_server" >/dev/null 2>"$dir/server.err") &
    SERVER_PID=$!
    wait_http "$BASE/health/live" "$SERVER_PID"
}

stop_all() {
    for pid in "${PAIR_PIDS[@]}"; do stop_pid "$pid"; done
    PAIR_PIDS=()
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$DB_PID"; DB_PID=""
}

rss_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

# The main user's task count, as the server sees it (GET /api/v1/tasks/stats; null when it
# does not answer): every write scenario creates as that user, so seeded tasks plus its growth
# is the number of tasks in the store.
main_total() {
    local n
    n=$(curl -fs -m 30 "${AUTH[@]}" "$BASE/api/v1/tasks/stats" | jq '.total | numbers' 2>/dev/null) || true
    if [[ $n =~ ^[0-9]+$ ]]; then echo "$n"; else echo null; fi
}

# meta_set DIR KEY JSON: one more figure in DIR/meta.json.
meta_set() {
    jq --arg k "$2" --argjson v "$3" '.[$k] = $v' "$1/meta.json" >"$1/meta.json.tmp"
    mv "$1/meta.json.tmp" "$1/meta.json"
}

# utime + stime of a process, in clock ticks (0 without one).
cpu_ticks() {
    [[ -n "$1" ]] || { echo 0; return; }
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# --- one measured run: begin_run DIR REQUESTED FRACTION; oha_bg PART ARGS...; end_run --------
RUN_DIR=""; RUN_REQUESTED=0; RUN_FRACTION=null; RUN_T0=0; RUN_TICKS0=0; RUN_DB_TICKS0=0
begin_run() {
    RUN_DIR=$1; RUN_REQUESTED=$2; RUN_FRACTION=$3
    mkdir -p "$RUN_DIR"
    # Peak RSS per run: VmHWM restarts from the current RSS.
    echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
    RUN_TICKS0=$(cpu_ticks "$SERVER_PID")
    RUN_DB_TICKS0=$(cpu_ticks "$DB_PID")
    RUN_T0=$(date +%s.%N)
    OHA_PIDS=()
}

oha_bg() {
    local part=$1; shift
    local arg line="oha"
    for arg in "$@"; do
        [[ $arg =~ ^[A-Za-z0-9_./:=?,-]+$ ]] && line+=" $arg" || line+=" '$arg'"
    done
    # shellcheck disable=SC2016 # the literal $TOKEN stands for the token in the record
    sed -E 's/Bearer [^ '"'"']+/Bearer $TOKEN/' <<<"$line" >>"$OUT/oha-commands.txt"
    # --disable-compression: identity bodies unless a scenario asks for a coding itself
    # (list_gzip), so every other figure compares the same bytes to the baseline's.
    taskset -c 0 oha --no-tui --disable-compression --output-format json -o "$RUN_DIR/$part.oha.json" "$@" \
        >>"$OUT/oha.log" 2>&1 &
    OHA_PIDS+=($!)
}

end_run() {
    local pid
    for pid in "${OHA_PIDS[@]}"; do wait "$pid" || die "oha failed (see $OUT/oha.log)"; done
    OHA_PIDS=()
    local ticks1 db_ticks1 t1 hz
    ticks1=$(cpu_ticks "$SERVER_PID"); db_ticks1=$(cpu_ticks "$DB_PID")
    t1=$(date +%s.%N); hz=$(getconf CLK_TCK)
    jq -n --argjson requested "$RUN_REQUESTED" --argjson fraction "$RUN_FRACTION" \
        --argjson cpu "$(echo "($ticks1 - $RUN_TICKS0) / $hz" | bc -l)" \
        --argjson db_cpu "$(echo "($db_ticks1 - $RUN_DB_TICKS0) / $hz" | bc -l)" \
        --argjson wall "$(echo "$t1 - $RUN_T0" | bc -l)" \
        --argjson hwm "$(rss_kb "$SERVER_PID" VmHWM)" \
        '{requested: $requested, fraction: $fraction, cpu_secs: $cpu, db_cpu_secs: $db_cpu, wall_secs: $wall, peak_rss_kb: $hwm}' \
        >"$RUN_DIR/proc.json"
    # A server that stopped answering would make every later figure meaningless.
    if ! curl -fs -m 5 -o /dev/null "$BASE/health/live"; then
        echo "    !! the server no longer answers /health/live after $RUN_DIR" | tee -a "$OUT/run/incidents.md"
        return 1
    fi
    # The next run starts once storage answers again: after runs that ended with requests cut
    # off, the MongoDB store has been seen unavailable for 15-50 s (noted; fatal after 60 s).
    local waited=$SECONDS
    until curl -fs -m 5 -o /dev/null "$BASE/health/ready"; do
        if [[ $((SECONDS - waited)) -ge 60 ]]; then
            echo "    !! storage (/health/ready) still not answering 60 s after $RUN_DIR" | tee -a "$OUT/run/incidents.md"
            return 1
        fi
        sleep 0.5
    done
    if [[ $((SECONDS - waited)) -ge 2 ]]; then
        echo "    storage unavailable (/health/ready) for $((SECONDS - waited)) s after $RUN_DIR" | tee -a "$OUT/run/incidents.md"
    fi
}

# --- scenarios --------------------------------------------------------------------------------
# Each scenario is an array of oha arguments (without -q/-z/-c), set up by define_scenarios.
# shellcheck disable=SC2034 # the SC_* arrays are read by name (sweep's `local -n`)
define_scenarios() {
    local state=$1 dir=$2
    local token heavy
    token=$(jq -r .main.token "$state")
    heavy=$(jq -r .heavy.token "$state")
    AUTH=(-H "Authorization: Bearer $token")
    HEAVY_AUTH=(-H "Authorization: Bearer $heavy")
    jq -r --arg base "$BASE" '.main.task_ids[] | "\($base)/api/v1/tasks/\(.)"' "$state" >"$dir/ids.urls"
    { cat "$dir/ids.urls"; for _ in $(seq "$(wc -l <"$dir/ids.urls")"); do echo "$BASE/api/v1/tasks?limit=20"; done; } >"$dir/reads.urls"
    for i in $(seq 1 1000); do
        printf '{"title":"Load task %d","priority":"%s","tags":["load"]}\n' "$i" "$([[ $((i % 2)) -eq 0 ]] && echo high || echo low)"
    done >"$dir/create.bodies"
    for i in $(seq 1 1000); do printf '{"title":"Edited %d","completed":%s}\n' "$i" "$([[ $((i % 2)) -eq 0 ]] && echo true || echo false)"; done >"$dir/patch.bodies"
    SC_baseline=("$BASE/health/live")
    SC_list=("${AUTH[@]}" "$BASE/api/v1/tasks?limit=20")
    SC_list_gzip=("${AUTH[@]}" -H "Accept-Encoding: gzip" "$BASE/api/v1/tasks?limit=20")
    SC_list_filtered=("${AUTH[@]}" "$BASE/api/v1/tasks?limit=20&completed=false&priority=high&sort=due_at")
    SC_get=("${AUTH[@]}" --urls-from-file "$dir/ids.urls")
    SC_create=("${AUTH[@]}" -m POST -T application/json -Z "$dir/create.bodies" "$BASE/api/v1/tasks")
    SC_patch=("${AUTH[@]}" -m PATCH -T application/json -Z "$dir/patch.bodies" --urls-from-file "$dir/ids.urls")
    SC_reads=("${AUTH[@]}" --urls-from-file "$dir/reads.urls")
    SC_login=(-m POST -T application/json
        -d "$(jq -c '{email: .main.email, password: .password}' "$state")" "$BASE/api/v1/auth/login")
    SC_page1=("${HEAVY_AUTH[@]}" "$BASE$(jq -r .heavy.page1 "$state")")
    SC_page50=("${HEAVY_AUTH[@]}" "$BASE$(jq -r '.heavy.page50 // .heavy.page1' "$state")")
}

# sweep NAME DIR: closed-loop probe of capacity, then open-loop steps at FRACTIONS of it.
# Sets CAPACITY.
sweep() {
    local name=$1 dir=$2
    local -n args="SC_$name"
    begin_run "$dir/$name/probe" 0 null
    oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" "${args[@]}"
    end_run
    CAPACITY=$(jq '.summary.requestsPerSec' "$dir/$name/probe/load.oha.json")
    local i=0 f rate
    for f in $FRACTIONS; do
        rate=$(printf '%.0f' "$(echo "$CAPACITY * $f" | bc -l)")
        [[ $rate -ge 1 ]] || rate=1
        begin_run "$dir/$name/s$(printf '%02d' $i)" "$rate" "$f"
        oha_bg load -c "$CONNECTIONS" -z "${STEP_SECS}s" -q "$rate" --latency-correction "${args[@]}"
        end_run
        i=$((i + 1))
    done
    printf '    %-14s capacity %8.0f req/s (closed-loop probe)\n' "$name" "$CAPACITY"
}

open_loop() {
    local part=$1 rate=$2; shift 2
    oha_bg "$part" -c "$CONNECTIONS" -z "${FIXED_SECS}s" -q "$rate" --latency-correction "$@"
}

run_combo() {
    local adapter=$1 store=$2
    local dir="$OUT/run/$adapter-$store"
    rm -rf "$dir"; mkdir -p "$dir"
    step "$adapter on $store"
    start_server "$adapter" "$store" "$dir"
    sleep 1
    local idle; idle=$(rss_kb "$SERVER_PID" VmRSS)
    echo "    idle RSS ${idle} kB"
    taskset -c 0 "$LOAD_BIN" seed --base "$BASE" --out "$dir/state.json" \
        --main-tasks "$MAIN_TASKS" --heavy-tasks "$HEAVY_TASKS" \
        --others "$OTHERS" --other-tasks "$OTHER_TASKS" --concurrency "$CONNECTIONS"
    jq -r '.seed | "    seeded \(.tasks) tasks for \(.users) users: \(.tasks_per_second | floor) tasks/s (\(.task_seconds * 10 | floor / 10) s; registrations \(.register_seconds * 10 | floor / 10) s)"' "$dir/state.json"
    jq --arg a "$adapter" --arg s "$store" --argjson idle "$idle" \
        --argjson seeded "$(rss_kb "$SERVER_PID" VmRSS)" \
        '{adapter: $a, store: $s, idle_rss_kb: $idle, seeded_rss_kb: $seeded, seed: .seed}' \
        "$dir/state.json" >"$dir/meta.json"
    define_scenarios "$dir/state.json" "$dir"
    meta_set "$dir" main_tasks_seeded "$(main_total)"

    # `create` runs last (below): its sweep adds hundreds of thousands of tasks, which would
    # otherwise be in the store, and in the RSS, of the mixed profile and the page runs.
    local list_capacity
    for name in baseline list list_gzip list_filtered get patch; do
        sweep "$name" "$dir"
        [[ $name == list ]] && list_capacity=$CAPACITY
    done
    local half quarter
    half=$(printf '%.0f' "$(echo "$list_capacity / 2" | bc -l)")
    quarter=$(printf '%.0f' "$(echo "$list_capacity / 4" | bc -l)")
    [[ $quarter -ge 1 ]] || quarter=1
    [[ $half -ge 1 ]] || half=1

    echo "    mixed 80/20 at $half req/s"
    begin_run "$dir/mixed/fixed" "$half" null
    open_loop reads "$(( half * 8 / 10 > 0 ? half * 8 / 10 : 1 ))" "${SC_reads[@]}"
    open_loop creates "$(( half / 10 > 0 ? half / 10 : 1 ))" "${SC_create[@]}"
    open_loop patches "$(( half / 10 > 0 ? half / 10 : 1 ))" "${SC_patch[@]}"
    end_run
    meta_set "$dir" main_tasks_after_mixed "$(main_total)"

    echo "    login flood (20 clients) + list at $quarter req/s"
    begin_run "$dir/flood/fixed" "$quarter" null
    oha_bg login -c 20 -z "${FIXED_SECS}s" "${SC_login[@]}"
    open_loop list "$quarter" "${SC_list[@]}"
    end_run

    # The heavy user's pages at half of their own capacity: half of the main user's list
    # capacity overloads a database whose query cost grows with the user's task count, and a
    # ratio of two overloaded latencies says nothing. The probe is one connection, so it leaves
    # no backlog behind (64 connections left SecantusDB busy for 20 s after their deadline).
    begin_run "$dir/page1/probe" 0 null
    oha_bg load -c 1 -z "${PROBE_SECS}s" "${SC_page1[@]}"
    end_run
    local page_rate
    page_rate=$(printf '%.0f' "$(jq '.summary.requestsPerSec / 2' "$dir/page1/probe/load.oha.json")")
    [[ $page_rate -ge 1 ]] || page_rate=1
    echo "    page 1 and page 50 at $page_rate req/s (half the heavy user's page-1 capacity)"
    begin_run "$dir/page1/fixed" "$page_rate" null
    open_loop load "$page_rate" "${SC_page1[@]}"
    end_run
    begin_run "$dir/page50/fixed" "$page_rate" null
    open_loop load "$page_rate" "${SC_page50[@]}"
    end_run

    sweep create "$dir"
    meta_set "$dir" main_tasks_after_create "$(main_total)"
    meta_set "$dir" rss_after_create_kb "$(rss_kb "$SERVER_PID" VmRSS)"
    stop_all
}

# --- axum against warp, interleaved -------------------------------------------------------------
# run_pair: both example servers up at once on the in-memory store (ports PORT and PORT+1, both
# on CPU 1, only one loaded at a time), then PAIR_ROUNDS rounds of closed-loop probes of the
# list and of the bare baseline, alternating which server goes first (ABBA), so that the
# machine's drift over minutes hits both alike. Written to RUN/pair/rNN-ADAPTER-SCENARIO.
run_pair() {
    local dir="$OUT/run/pair"
    rm -rf "$dir"; mkdir -p "$dir"
    step "axum and warp side by side (memory): $PAIR_ROUNDS alternating rounds"
    local -A ports=([axum]=$PORT [warp]=$((PORT + 1))) pids tokens
    # Local copies: begin_run, end_run and start_server read these for the server in hand.
    local PORT BASE SERVER_PID adapter
    for adapter in axum warp; do
        PORT=${ports[$adapter]}; BASE="http://127.0.0.1:$PORT"
        mkdir -p "$dir/$adapter"
        start_server "$adapter" memory "$dir/$adapter"
        pids[$adapter]=$SERVER_PID
        PAIR_PIDS+=("$SERVER_PID")
        taskset -c 0 "$LOAD_BIN" seed --base "$BASE" --out "$dir/$adapter/state.json" \
            --main-tasks "$MAIN_TASKS" --heavy-tasks 0 --others "$OTHERS" \
            --other-tasks "$OTHER_TASKS" --concurrency "$CONNECTIONS" >/dev/null
        tokens[$adapter]=$(jq -r .main.token "$dir/$adapter/state.json")
    done
    local r round order name
    for r in $(seq 1 "$PAIR_ROUNDS"); do
        round="$dir/$(printf 'r%02d' "$r")"
        order="axum warp"; [[ $((r % 2)) -eq 0 ]] && order="warp axum"
        for adapter in $order; do
            PORT=${ports[$adapter]}; BASE="http://127.0.0.1:$PORT"; SERVER_PID=${pids[$adapter]}
            for name in list baseline; do
                begin_run "$round-$adapter-$name" 0 null
                if [[ $name == list ]]; then
                    oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" \
                        -H "Authorization: Bearer ${tokens[$adapter]}" "$BASE/api/v1/tasks?limit=20"
                else
                    oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" "$BASE/health/live"
                fi
                end_run
            done
        done
        printf '    round %2d: list axum %6.0f, warp %6.0f req/s\n' "$r" \
            "$(jq .summary.requestsPerSec "$round-axum-list/load.oha.json")" \
            "$(jq .summary.requestsPerSec "$round-warp-list/load.oha.json")"
    done
    stop_all
}

# --- the report's text ------------------------------------------------------------------------
describe_machine() {
    local commit dirty=""
    commit=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
    git -C "$REPO_ROOT" diff --quiet HEAD -- 2>/dev/null || dirty=" (with uncommitted changes)"
    {
        echo "| | |"
        echo "|---|---|"
        echo "| CPU | $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores ($(lscpu | sed -n 's/^Hypervisor vendor: *//p' | head -1 | sed 's/^\(.\)/virtualised: \1/')) |"
        echo "| memory | $(free -m | awk '/^Mem:/ { print $2 }') MiB |"
        echo "| kernel | $(uname -sr) |"
        echo "| Rust | $(rustc --version) |"
        echo "| load generator | $(oha --version) |"
        if [[ ",$STORES," == *",mongo,"* ]]; then
            if [[ -n "${TASKFLOW_MONGODB_URI:-}" ]]; then
                echo "| MongoDB | the server of TASKFLOW_MONGODB_URI |"
            else
                echo "| MongoDB | $(secantusd-rs --help 2>&1 | head -1 | sed 's/ —.*//') (SecantusDB's Rust server), on CPU 1 with TaskFlow |"
            fi
        fi
        echo "| commit | $commit$dirty |"
        echo "| date | $(date -u +%Y-%m-%dT%H:%MZ) |"
        echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) |"
        echo "| placement | server (and database) pinned to CPU 1, load generators and seeding to CPU 0 (\`taskset -c\`) |"
    } >"$OUT/run/machine.md"
}

describe_commands() {
    {
        echo '```sh'
        echo "scripts/load.sh $ORIGINAL_ARGS"
        echo '```'
        echo
        echo "Representative load-generator command lines of this run (all of them: \`$OUT/oha-commands.txt\`):"
        echo
        echo '```sh'
        grep -m1 -- '-q' "$OUT/oha-commands.txt" || true
        grep -m1 -- 'auth/login' "$OUT/oha-commands.txt" || true
        grep -m1 -- 'PATCH' "$OUT/oha-commands.txt" || true
        echo '```'
    } >"$OUT/run/commands.md"
}

describe_method() {
    local mode="full"; [[ $QUICK -eq 1 ]] && mode="**quick (not representative)**"
    cat >"$OUT/run/method.md" <<EOF
Mode: $mode. Every figure comes from one run of the harness on the machine below, which runs
the load generator and the server side by side on its 2 cores: the server (and its database)
pinned to CPU 1, \`oha\` pinned to CPU 0. "Of baseline" compares with the bare baseline
(\`/health/live\` on the same server stack: no authentication, no storage), the practical
ceiling of this machine.

- **Servers**: \`target/release/examples/{axum,warp}_server\`, development profile, request
  log at \`info\` to /dev/null, rate limits raised (\`TASKFLOW_AUTH_RATE_PER_MIN\`,
  \`TASKFLOW_API_RATE_PER_MIN\` = 10^9) and access tokens valid for a day
  (\`TASKFLOW_ACCESS_TTL_SECS=86400\`) so that the limits and expiry do not shape the figures.
- **Data**: seeded over HTTP before the scenarios: a main user with $MAIN_TASKS tasks, a heavy
  user with $HEAVY_TASKS, and $OTHERS other users with $OTHER_TASKS each (a third each of low,
  medium and high priority, a tenth tagged, two thirds with a deadline).
- **Throughput**: a closed-loop probe ($CONNECTIONS connections, ${PROBE_SECS} s) estimates the
  capacity; open-loop steps of ${STEP_SECS} s at $FRACTIONS of it follow (\`oha -q RATE
  --latency-correction\`, $CONNECTIONS connections). The throughput is the highest achieved rate
  of a step that kept up: at least 95% of the asked rate, under 0.1% errors, p99 under 100 ms;
  the probe's own rate is reported next to it ("closed-loop"), with its own ratio to the
  baseline's probe.
- **Order**: per server and store, the sweeps (baseline, lists, get, patch), then the mixed
  profile, the login flood and the page runs, and the \`create\` sweep last, so that the tasks
  it adds are not in the store (nor the RSS) of the runs before it.
- **Side by side**: last, both servers up at once on the in-memory store (both on CPU 1, one
  loaded at a time), $PAIR_ROUNDS rounds of closed-loop probes (${PROBE_SECS} s, $CONNECTIONS
  connections) of the list and the baseline on one server and then the other, alternating
  which goes first. The throughput targets are judged on the medians of these rounds (see
  "Reading the results").
- **Latency rows** are from the step at half the probed capacity, corrected for coordinated
  omission; errors are responses other than 2xx/304 plus transport errors.
- **Server CPU** is utime + stime of the TaskFlow process over the step, in cores (the
  database's own, on MongoDB, in brackets); **peak RSS** is the server's VmHWM, reset before
  each step.
EOF
}

# --- main ---------------------------------------------------------------------------------------
cd "$REPO_ROOT"
ensure_tools
mkdir -p "$OUT"
rm -rf "$OUT/run"; mkdir -p "$OUT/run"
: >"$OUT/oha-commands.txt"; : >"$OUT/oha.log"
command -v bc >/dev/null || { step "Installing bc"; as_root apt-get install -y bc; }

step "Building the example servers and the harness helper (release)"
cargo build --release --example axum_server --example warp_server
LOAD_BIN=$(cargo bench --bench load --no-run --message-format=json 2>/dev/null \
    | jq -r 'select(.reason == "compiler-artifact" and .target.name == "load" and .executable != null) | .executable' | tail -1)
[[ -x "$LOAD_BIN" ]] || die "could not build benches/load"

describe_machine
describe_method
started=$SECONDS
IFS=, read -ra adapter_list <<<"$ADAPTERS"
IFS=, read -ra store_list <<<"$STORES"
for store in "${store_list[@]}"; do
    for adapter in "${adapter_list[@]}"; do
        # Each combination in its own subshell: a failure (a hung server) ends that one only.
        set +e
        (set -e; trap stop_all EXIT; run_combo "$adapter" "$store")
        rc=$?
        set -e
        [[ $rc -eq 0 ]] || echo "    $adapter on $store stopped early (exit $rc); the run goes on"
    done
done
if [[ ",$ADAPTERS," == *",axum,"* && ",$ADAPTERS," == *",warp,"* && ",$STORES," == *",memory,"* ]]; then
    set +e
    (set -e; trap stop_all EXIT; run_pair)
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || echo "    the side-by-side rounds stopped early (exit $rc)"
fi

report_args=()
if [[ $CRITERION -eq 1 ]]; then
    step "Criterion benchmarks of the targets (CPU 1)"
    crit=(--warm-up-time 1 --measurement-time 3)
    taskset -c 1 cargo bench --bench auth -- 'jwt_hs256/verify' "${crit[@]}"
    taskset -c 1 cargo bench --bench abuse -- 'rate_limit/hot_key_admitted' "${crit[@]}"
    taskset -c 1 cargo bench --bench queries -- 'memory_list_100k/default|memory_list_other_users' "${crit[@]}"
    report_args+=(--criterion "$REPO_ROOT/target/criterion")
fi
[[ -f "$REPO_ROOT/docs/bench/notes.md" ]] && cp "$REPO_ROOT/docs/bench/notes.md" "$OUT/run/notes.md"
describe_commands

if [[ $PUBLISH -eq 1 ]]; then
    md="$REPO_ROOT/BENCHMARKS.md"; svg="$REPO_ROOT/docs/bench/latency.svg"
else
    md="$OUT/BENCHMARKS.md"; svg="$OUT/docs/bench/latency.svg"
fi
"$LOAD_BIN" report --run "$OUT/run" --out "$md" --chart "$svg" "${report_args[@]}"
step "Done in $((SECONDS - started)) s: $md, $svg"
