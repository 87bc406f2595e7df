#!/usr/bin/env bash
# The TaskFlow load harness: builds the example servers in release mode, seeds them over HTTP,
# drives every scenario with `oha` in open-loop mode (-q with --latency-correction) and writes
# BENCHMARKS.md plus docs/bench/latency.svg (see `benches/load` for the report).
#
#   scripts/load.sh [--quick] [--adapters axum,warp] [--stores memory,mongo] [--out DIR]
#                   [--only PARTS] [--vs-node] [--no-criterion] [--publish]
#
#   --quick         short steps and a small data set: checks the harness end to end in ~8 min;
#                   the report goes to DIR, not the repository (unless --publish)
#   --out DIR       raw results and logs (default: target/load)
#   --only PARTS    run only these parts (comma-separated; default: all of them):
#                     combos     each server and store alone: sweeps, mixed profile, login
#                                flood, page 1 against page 50, memory
#                     pair       bare axum (benches/bare_axum.rs), axum and warp side by side
#                     db         the database's share of each endpoint (commands and database
#                                CPU per request) on secantusd-rs and on SecantusDB-py
#                     node       TaskFlow against a typical Express + Mongoose stack
#                                (benches/node-baseline), each on its own SecantusDB-py
#                     criterion  the criterion benchmarks of the targets
#                   db and node need `mongo` among the stores; the report shows what ran
#   --vs-node       the same as --only node
#   --no-criterion  skip the criterion benchmarks of the targets
#   --publish       write BENCHMARKS.md and docs/bench/latency.svg in the repository (the
#                   default without --quick and without --only)
#
# Environment: TASKFLOW_MONGODB_URI uses that MongoDB for the `mongo` store of the combos
# instead of starting secantusd-rs (installed on demand with cargo, like oha); the db and node
# parts always start database servers of their own, whose CPU they measure. LOAD_PORT /
# LOAD_DB_PORT pick the ports (default 18080 / 27117; the side-by-side rounds also use
# LOAD_PORT + 1 and + 2, the Node stack LOAD_PORT + 3 and its database LOAD_DB_PORT + 1).
# LOAD_SECANTUSD_PY: the secantusd-py to run (default: the venv of scripts/test.sh, created
# with the version it pins when missing).
#
# Placement: the 2 cores are split with taskset: the server (and its database) on CPU 1, the
# load generators and the seeding client on CPU 0.
set -euo pipefail

OHA_VERSION="1.16.0"
SECANTUS_VERSION="0.5.3-beta.196"
# SecantusDB-py: the server CI runs the tests on (the version scripts/test.sh pins).
SECANTUS_PY_VERSION="0.7.0b3"
VENV="${TASKFLOW_VENV:-$HOME/.cache/taskflow/venv}"
SECANTUSD_PY="${LOAD_SECANTUSD_PY:-$VENV/bin/secantusd-py}"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ORIGINAL_ARGS="$*"
QUICK=0
ADAPTERS="axum,warp"
STORES="memory,mongo"
OUT="$REPO_ROOT/target/load"
CRITERION=1
PUBLISH=""
PARTS="combos,pair,db,node,criterion"
ONLY=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --adapters) ADAPTERS="$2"; shift ;;
        --stores) STORES="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --only) PARTS="$2"; ONLY=1; shift ;;
        --vs-node) PARTS="node"; ONLY=1 ;;
        --no-criterion) CRITERION=0 ;;
        --publish) PUBLISH=1 ;;
        -h|--help) sed -n '2,40p' "$0"; exit 0 ;;
        *) echo "load.sh: unknown option $1" >&2; exit 2 ;;
    esac
    shift
done
for part in ${PARTS//,/ }; do
    [[ ,combos,pair,db,node,criterion, == *",$part,"* ]] || { echo "load.sh: unknown part $part" >&2; exit 2; }
done

if [[ $QUICK -eq 1 ]]; then
    PROBE_SECS=1; STEP_SECS=1; FIXED_SECS=2; PAIR_ROUNDS=2
    FRACTIONS="0.5 1.0"
    MAIN_TASKS=200; HEAVY_TASKS=2000; OTHERS=5; OTHER_TASKS=50
    DB_TASKS=400; DB_REQUESTS=300; DB_LOGINS=20
    NODE_ROUNDS=2; NODE_WARMUP_SECS=1; NODE_SECS=3
    CRITERION=0
else
    PROBE_SECS=3; STEP_SECS=4; FIXED_SECS=10; PAIR_ROUNDS=10
    FRACTIONS="0.25 0.5 0.75 0.85 0.9 0.95 1.0 1.05"
    MAIN_TASKS=1000; HEAVY_TASKS=100000; OTHERS=50; OTHER_TASKS=200
    DB_TASKS=1000; DB_REQUESTS=1000; DB_LOGINS=100
    NODE_ROUNDS=3; NODE_WARMUP_SECS=3; NODE_SECS=15
fi
# A report of some parts only is not the repository's BENCHMARKS.md.
if [[ $QUICK -eq 1 || $ONLY -eq 1 ]]; then PUBLISH="${PUBLISH:-0}"; else PUBLISH="${PUBLISH:-1}"; fi
CONNECTIONS=64
# The database-share runs: a few requests in flight, as many as the driver's default pool.
DB_CONNECTIONS=10
# TaskFlow against the Node stack: the load the issue measured both with (wrk, 32 connections).
NODE_CONNECTIONS=32
PORT="${LOAD_PORT:-18080}"
DB_PORT="${LOAD_DB_PORT:-27117}"
BASE="http://127.0.0.1:$PORT"

step() { printf '\n==> %s\n' "$*"; }
has_part() { [[ ",$PARTS," == *",$1,"* ]]; }
has_store() { [[ ",$STORES," == *",$1,"* ]]; }
# The parts that start database servers of their own need the MongoDB store.
runs_db() { has_part db && has_store mongo; }
runs_node() { has_part node && has_store mongo; }
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
    if { { has_part combos && has_store mongo && [[ -z "${TASKFLOW_MONGODB_URI:-}" ]]; } || runs_db; } \
        && ! command -v secantusd-rs >/dev/null; then
        command -v cmake >/dev/null || { step "Installing cmake"; as_root apt-get install -y cmake; }
        step "Installing secantus-mdb $SECANTUS_VERSION (secantusd-rs; takes a while)"
        nice -n 15 cargo install secantus-mdb --version "$SECANTUS_VERSION" \
            --ignore-rust-version --locked
    fi
    if { runs_db || runs_node; } && [[ ! -x "$SECANTUSD_PY" ]]; then
        [[ -z "${LOAD_SECANTUSD_PY:-}" ]] || die "LOAD_SECANTUSD_PY=$LOAD_SECANTUSD_PY is not executable"
        step "Installing SecantusDB==$SECANTUS_PY_VERSION (secantusd-py) into $VENV"
        [[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV" || die "python3 -m venv failed (is python3-venv installed?)"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "SecantusDB==$SECANTUS_PY_VERSION"
    fi
    if runs_node; then
        if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
            die "the Node comparison needs Node.js 20 and npm (apt-get install nodejs npm)"
        fi
        local app="$REPO_ROOT/benches/node-baseline"
        # npm ci: exactly the committed package-lock.json, reinstalled when it changed.
        if [[ ! -f "$app/node_modules/.package-lock.json" || "$app/package-lock.json" -nt "$app/node_modules/.package-lock.json" ]]; then
            step "Installing the Node stack's packages (npm ci in benches/node-baseline)"
            (cd "$app" && npm ci --no-audit --no-fund)
        fi
    fi
}

# --- processes -------------------------------------------------------------------------------
SERVER_PID=""
DB_PID=""
OHA_PIDS=()
# Servers beside SERVER_PID and DB_PID (the side-by-side rounds, the Node comparison).
EXTRA_PIDS=()

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
    for pid in "${OHA_PIDS[@]}" "${EXTRA_PIDS[@]}"; do stop_pid "$pid"; done
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

# start_db DIR [rs|py]: a fresh database server on DB_PORT, pinned to CPU 1 (sets DB_PID):
# SecantusDB's Rust server storing under DIR/db (the default), or SecantusDB-py in memory.
start_db() {
    local dir=$1 kind=${2:-rs}
    rm -rf "$dir/db"
    mkdir -p "$dir/db"
    if [[ $kind == py ]]; then
        # An empty configuration file: no secantusd.toml discovered elsewhere (as scripts/test.sh).
        : >"$dir/db/secantusd.toml"
        taskset -c 1 "$SECANTUSD_PY" --config "$dir/db/secantusd.toml" --host 127.0.0.1 \
            --port "$DB_PORT" --storage-path :memory: >"$dir/db.log" 2>&1 &
    else
        taskset -c 1 secantusd-rs --port "$DB_PORT" --storage-path "$dir/db" >"$dir/db.log" 2>&1 &
    fi
    DB_PID=$!
    wait_tcp "$DB_PORT" "$DB_PID"
}

# The database servers' names and versions, for the report.
secantus_rs_version() { secantusd-rs --help 2>&1 | head -1 | sed 's/ —.*//'; }
secantus_py_version() {
    echo "SecantusDB-py $("$(dirname "$SECANTUSD_PY")/python" -m pip show SecantusDB 2>/dev/null | sed -n 's/^Version: //p')"
}

random_secret() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; }

# start_server ADAPTER STORE DIR [rs|py]: a TaskFlow example server on PORT (sets SERVER_PID),
# on MongoDB on a fresh database server of that kind unless TASKFLOW_MONGODB_URI is set.
start_server() {
    local adapter=$1 store=$2 dir=$3 db_kind=${4:-rs}
    local -a env=(
        TASKFLOW_BIND="127.0.0.1:$PORT"
        TASKFLOW_JWT_SECRET="$(random_secret)"
        TASKFLOW_ACCESS_TTL_SECS=86400
        TASKFLOW_AUTH_RATE_PER_MIN=1000000000
        TASKFLOW_API_RATE_PER_MIN=1000000000
    )
    if [[ $store == mongo ]]; then
        if [[ -n "${TASKFLOW_MONGODB_URI:-}" ]]; then
            env+=(TASKFLOW_MONGODB_URI="$TASKFLOW_MONGODB_URI" TASKFLOW_MONGODB_DB="taskflow_load_${adapter}_$(date +%s)")
        else
            start_db "$dir" "$db_kind"
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
    for pid in "${EXTRA_PIDS[@]}"; do stop_pid "$pid"; done
    EXTRA_PIDS=()
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

# drive_bg PART ARGS...: the harness' own client (`load drive`, for what oha cannot do), in the
# background like oha_bg.
drive_bg() {
    local part=$1; shift
    # shellcheck disable=SC2016 # the literal $TOKEN stands for the token in the record
    echo "load drive $*" | sed -E 's/--token [^ ]+/--token $TOKEN/' >>"$OUT/oha-commands.txt"
    taskset -c 0 "$LOAD_BIN" drive --out "$RUN_DIR/$part.oha.json" "$@" >>"$OUT/oha.log" 2>&1 &
    OHA_PIDS+=($!)
}

# finish_run: waits for the run's load generators and writes its proc.json; sends nothing to
# the server (the database-share runs read /metrics right after it).
finish_run() {
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
}

# settle: the server still answers, and its storage too, before the next run.
settle() {
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

end_run() { finish_run; settle; }

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
    SC_me=("${AUTH[@]}" "$BASE/api/v1/auth/me")
    SC_stats=("${AUTH[@]}" "$BASE/api/v1/tasks/stats")
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

    # Twenty accounts, one per client: logins to one account at once are refused (429) by its
    # failed-login backoff, which counts each attempt before the password is checked.
    local i
    for i in $(seq 1 20); do
        printf '{"email":"flood%d@load.test","password":"%s"}\n' "$i" "$(jq -r .password "$dir/state.json")"
    done >"$dir/flood.bodies"
    while read -r body; do
        curl -s -m 30 -o /dev/null -H 'Content-Type: application/json' -d "$body" "$BASE/api/v1/auth/register"
    done <"$dir/flood.bodies"
    echo "    login flood (20 clients, 20 accounts) + list at $quarter req/s"
    begin_run "$dir/flood/fixed" "$quarter" null
    drive_bg login --method POST --url "$BASE/api/v1/auth/login" --bodies "$dir/flood.bodies" \
        --secs "$FIXED_SECS"
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

# --- bare axum, axum and warp, interleaved --------------------------------------------------------
# run_pair: the two example servers on the in-memory store (ports PORT and PORT+1) and bare
# axum (benches/bare_axum.rs, PORT+2) up at once, all on CPU 1, only one loaded at a time; then
# PAIR_ROUNDS rounds of closed-loop probes: bare axum's `ok` and the list's bytes (/body), and
# each example server's list, bare baseline and GET /auth/me, the order reversed every other round (bare, axum, warp; then
# warp, axum, bare), so that the machine's drift over minutes hits all alike. Written to
# RUN/pair/rNN-SERVER-SCENARIO.
run_pair() {
    local dir="$OUT/run/pair"
    rm -rf "$dir"; mkdir -p "$dir"
    step "Bare axum, axum and warp side by side (memory): $PAIR_ROUNDS alternating rounds"
    local -A ports=([axum]=$PORT [warp]=$((PORT + 1)) [bare]=$((PORT + 2))) pids tokens
    # Local copies: begin_run, end_run and start_server read these for the server in hand.
    local PORT BASE SERVER_PID adapter
    for adapter in axum warp; do
        PORT=${ports[$adapter]}; BASE="http://127.0.0.1:$PORT"
        mkdir -p "$dir/$adapter"
        start_server "$adapter" memory "$dir/$adapter"
        pids[$adapter]=$SERVER_PID
        EXTRA_PIDS+=("$SERVER_PID")
        taskset -c 0 "$LOAD_BIN" seed --base "$BASE" --out "$dir/$adapter/state.json" \
            --main-tasks "$MAIN_TASKS" --heavy-tasks 0 --others "$OTHERS" \
            --other-tasks "$OTHER_TASKS" --concurrency "$CONNECTIONS" >/dev/null
        tokens[$adapter]=$(jq -r .main.token "$dir/$adapter/state.json")
    done
    PORT=${ports[bare]}; BASE="http://127.0.0.1:$PORT"
    mkdir -p "$dir/bare"
    # The list of 20 as axum's server answers it: bare axum serves the same bytes at /body.
    curl -fs -m 10 -H "Authorization: Bearer ${tokens[axum]}" \
        "http://127.0.0.1:${ports[axum]}/api/v1/tasks?limit=20" >"$dir/bare/list.json" \
        || die "could not read the list of 20 for bare axum"
    taskset -c 1 "$BARE_BIN" --bind "127.0.0.1:$PORT" --body "$dir/bare/list.json" \
        >/dev/null 2>"$dir/bare/server.err" &
    pids[bare]=$!
    EXTRA_PIDS+=("${pids[bare]}")
    wait_http "$BASE/" "${pids[bare]}"
    local r round order name server
    for r in $(seq 1 "$PAIR_ROUNDS"); do
        round="$dir/$(printf 'r%02d' "$r")"
        # pair.rs derives the order from the round number: keep the two in step.
        order="bare axum warp"; [[ $((r % 2)) -eq 0 ]] && order="warp axum bare"
        for server in $order; do
            PORT=${ports[$server]}; BASE="http://127.0.0.1:$PORT"; SERVER_PID=${pids[$server]}
            if [[ $server == bare ]]; then
                begin_run "$round-bare-ok" 0 null
                oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" "$BASE/"
                finish_run
                begin_run "$round-bare-body" 0 null
                oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" "$BASE/body"
                finish_run
                curl -fs -m 5 -o /dev/null "$BASE/" || die "bare axum no longer answers"
                continue
            fi
            for name in list baseline me; do
                begin_run "$round-$server-$name" 0 null
                case $name in
                    list) oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" \
                        -H "Authorization: Bearer ${tokens[$server]}" "$BASE/api/v1/tasks?limit=20" ;;
                    me) oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" \
                        -H "Authorization: Bearer ${tokens[$server]}" "$BASE/api/v1/auth/me" ;;
                    *) oha_bg load -c "$CONNECTIONS" -z "${PROBE_SECS}s" "$BASE/health/live" ;;
                esac
                end_run
            done
        done
        printf '    round %2d: bare axum %6.0f; /health/live axum %6.0f, warp %6.0f; list axum %6.0f, warp %6.0f req/s\n' "$r" \
            "$(jq .summary.requestsPerSec "$round-bare-ok/load.oha.json")" \
            "$(jq .summary.requestsPerSec "$round-axum-baseline/load.oha.json")" \
            "$(jq .summary.requestsPerSec "$round-warp-baseline/load.oha.json")" \
            "$(jq .summary.requestsPerSec "$round-axum-list/load.oha.json")" \
            "$(jq .summary.requestsPerSec "$round-warp-list/load.oha.json")"
    done
    stop_all
}

# --- the database's share of each endpoint ------------------------------------------------------
# scrape FILE: the server's /metrics (its storage command counts), empty when it does not answer.
scrape() { curl -fs -m 10 "$BASE/metrics" >"$1" || : >"$1"; }

# db_endpoint NAME REQUESTS: one endpoint's run, between two scrapes of /metrics.
db_endpoint() {
    local name=$1 requests=$2 dir=$3
    local -n args="SC_$name"
    mkdir -p "$dir/$name"
    scrape "$dir/$name/metrics.before.txt"
    begin_run "$dir/$name" 0 null
    case $name in
        # Each task once, in order: oha draws --urls-from-file at random, and a second deletion
        # of a task measures a 404.
        delete) drive_bg load --method DELETE --urls "$dir/delete.urls" --token "$DB_TOKEN" \
            --concurrency "$DB_CONNECTIONS" ;;
        # One client: the failed-login backoff refuses (429) a login to an account that has
        # another in flight.
        login) oha_bg load -c 1 -n "$requests" "${args[@]}" ;;
        *) oha_bg load -c "$DB_CONNECTIONS" -n "$requests" "${args[@]}" ;;
    esac
    finish_run
    scrape "$dir/$name/metrics.after.txt"
    settle
}

# run_db rs|py: the database's share of each endpoint (benches/load/dbshare.rs): the axum
# example server on a fresh database server of that kind, one user with DB_TASKS tasks, then
# each endpoint with a fixed number of requests. Written to RUN/db/secantusd-KIND/ENDPOINT.
run_db() {
    local kind=$1
    local dir="$OUT/run/db/secantusd-$kind"
    # Always a database server of its own: its CPU is what this measures.
    local TASKFLOW_MONGODB_URI=""
    rm -rf "$dir"; mkdir -p "$dir"
    step "The database's share of each endpoint, on secantusd-$kind"
    start_server axum mongo "$dir" "$kind"
    taskset -c 0 "$LOAD_BIN" seed --base "$BASE" --out "$dir/state.json" \
        --main-tasks "$DB_TASKS" --heavy-tasks 0 --others 0 --ids "$DB_TASKS" \
        --concurrency "$DB_CONNECTIONS" >/dev/null
    define_scenarios "$dir/state.json" "$dir"
    DB_TOKEN=$(jq -r .main.token "$dir/state.json")
    # Reads and patches draw from the first 200 tasks, as in the sweeps; the rest are deleted.
    jq -r --arg base "$BASE" '.main.task_ids[200:][] | "\($base)/api/v1/tasks/\(.)"' "$dir/state.json" >"$dir/delete.urls"
    head -n 200 "$dir/ids.urls" >"$dir/ids.urls.tmp" && mv "$dir/ids.urls.tmp" "$dir/ids.urls"
    local version idle0 t0
    if [[ $kind == py ]]; then version=$(secantus_py_version); else version=$(secantus_rs_version); fi
    idle0=$(cpu_ticks "$DB_PID"); t0=$(date +%s.%N)
    sleep 2
    jq -n --arg version "$version" --argjson tasks "$DB_TASKS" --argjson connections "$DB_CONNECTIONS" \
        --arg cache "TASKFLOW_SESSION_CACHE_MS ${TASKFLOW_SESSION_CACHE_MS:-unset (the default of the server)}" \
        --argjson idle "$(echo "($(cpu_ticks "$DB_PID") - $idle0) / $(getconf CLK_TCK) / ($(date +%s.%N) - $t0)" | bc -l)" \
        '{version: $version, tasks: $tasks, connections: $connections, session_cache_ms: $cache, idle_db_cores: $idle}' \
        >"$dir/setup.json"
    local name requests
    # Writes after the reads, so that the list and the stats see the seeded tasks only.
    for name in me get list stats patch create delete login; do
        requests=$DB_REQUESTS; [[ $name == login ]] && requests=$DB_LOGINS
        db_endpoint "$name" "$requests" "$dir"
        printf '    %-7s %s commands, DB %s µs, TaskFlow %s µs per request\n' "$name" \
            "$(db_commands_per_request "$dir/$name")" \
            "$(jq -r --slurpfile o "$dir/$name/load.oha.json" '(.db_cpu_secs * 1e6 / ([$o[0].statusCodeDistribution[]] | add)) | floor' "$dir/$name/proc.json")" \
            "$(jq -r --slurpfile o "$dir/$name/load.oha.json" '(.cpu_secs * 1e6 / ([$o[0].statusCodeDistribution[]] | add)) | floor' "$dir/$name/proc.json")"
    done
    stop_all
}

# The storage commands per request of one database-share run, for the progress line.
db_commands_per_request() {
    local sum_before sum_after n
    sum_before=$(awk '/^taskflow_storage_command_duration_seconds_count/ { s += $NF } END { print s + 0 }' "$1/metrics.before.txt")
    sum_after=$(awk '/^taskflow_storage_command_duration_seconds_count/ { s += $NF } END { print s + 0 }' "$1/metrics.after.txt")
    n=$(jq '[.statusCodeDistribution[]] | add' "$1/load.oha.json")
    echo "scale=2; ($sum_after - $sum_before) / $n" | bc -l
}

# --- TaskFlow against a typical Node stack ------------------------------------------------------
# start_node DIR: benches/node-baseline on PORT, on the database at DB_PORT (sets SERVER_PID).
start_node() {
    local dir=$1
    (cd "$REPO_ROOT/benches/node-baseline" && exec env NODE_ENV=production HOST=127.0.0.1 \
        PORT="$PORT" JWT_SECRET="$(random_secret)" \
        MONGO_URI="mongodb://127.0.0.1:$DB_PORT/taskflow_node?directConnection=true" \
        taskset -c 1 node server.js >"$dir/server.log" 2>&1) &
    SERVER_PID=$!
    wait_tcp "$PORT" "$SERVER_PID"
}

# seed_node DIR: the Node stack's data over HTTP, as seed does TaskFlow's: a main user with 20
# tasks (the same bodies as benches/load/seed.rs's task_body) and a writer; DIR/state.json.
seed_node() {
    local dir=$1 who i main writer body
    local -a issued=()
    for who in main writer; do
        issued+=("$(curl -fsS -m 30 -H 'Content-Type: application/json' \
            -d "{\"name\":\"$who\",\"email\":\"$who@load.test\",\"password\":\"load-harness-password\"}" \
            "$BASE/api/v1/auth/register" | jq -er .token)") || die "could not register $who on the Node stack"
    done
    main=${issued[0]}; writer=${issued[1]}
    for i in $(seq 0 19); do
        body=$(jq -cn --argjson i "$i" '{title: "Seeded task \($i)", priority: (["low", "medium", "high"][$i % 3]),
            tags: (if $i % 10 == 0 then ["work"] else [] end)}
            + (if $i % 3 != 0 then {dueDate: "2027-01-\(1 + $i % 28 | tostring | if length < 2 then "0" + . else . end)T10:00:00Z"} else {} end)')
        curl -fsS -m 30 -o /dev/null -H "Authorization: Bearer $main" -H 'Content-Type: application/json' \
            -d "$body" "$BASE/api/v1/tasks" || die "could not create a task on the Node stack"
    done
    jq -n --arg main "$main" --arg writer "$writer" '{main: {token: $main}, writer: {token: $writer}}' >"$dir/state.json"
}

# node_stacks DIR: both stacks started afresh under DIR: TaskFlow's axum example server and the
# Node stack, each on its own new SecantusDB-py in memory, seeded alike (sets run_node's pids,
# db_pids, mains, writers and bodies).
node_stacks() {
    local dir=$1
    mkdir -p "$dir/taskflow" "$dir/node"
    PORT=${ports[taskflow]}; BASE="http://127.0.0.1:$PORT"; DB_PORT=${db_ports[taskflow]}
    start_server axum mongo "$dir/taskflow" py
    pids[taskflow]=$SERVER_PID; db_pids[taskflow]=$DB_PID
    EXTRA_PIDS+=("$SERVER_PID" "$DB_PID")
    # The heavy user, with no task, is the writer.
    taskset -c 0 "$LOAD_BIN" seed --base "$BASE" --out "$dir/taskflow/state.json" \
        --main-tasks 20 --heavy-tasks 0 --others 0 --ids 20 --concurrency 8 >/dev/null
    mains[taskflow]=$(jq -r .main.token "$dir/taskflow/state.json")
    writers[taskflow]=$(jq -r .heavy.token "$dir/taskflow/state.json")
    define_scenarios "$dir/taskflow/state.json" "$dir/taskflow"
    bodies="$dir/taskflow/create.bodies"

    PORT=${ports[node]}; BASE="http://127.0.0.1:$PORT"; DB_PORT=${db_ports[node]}
    start_db "$dir/node" py
    db_pids[node]=$DB_PID
    EXTRA_PIDS+=("$DB_PID")
    start_node "$dir/node"
    pids[node]=$SERVER_PID
    EXTRA_PIDS+=("$SERVER_PID")
    seed_node "$dir/node"
    mains[node]=$(jq -r .main.token "$dir/node/state.json")
    writers[node]=$(jq -r .writer.token "$dir/node/state.json")
}

# run_node: TaskFlow's axum example server (PORT) and the Node stack (PORT+3), each on its own
# fresh SecantusDB-py in memory (DB_PORT, DB_PORT+1), all on CPU 1 and up at once; NODE_ROUNDS
# rounds, each on new databases (SecantusDB-py's inserts slow down as a collection grows, and a
# round's creates add thousands of tasks), in which each stack in turn (the order alternating)
# gets GET /auth/me, the list and creates, NODE_CONNECTIONS connections closed loop,
# NODE_WARMUP_SECS unmeasured then NODE_SECS measured. Written to RUN/node/rNN-STACK-SCENARIO
# (see benches/load/node.rs).
run_node() {
    local dir="$OUT/run/node"
    local TASKFLOW_MONGODB_URI=""
    rm -rf "$dir"; mkdir -p "$dir"
    step "TaskFlow against a typical Node stack (each on its own SecantusDB-py): $NODE_ROUNDS rounds of $NODE_SECS s runs"
    local app="$REPO_ROOT/benches/node-baseline/node_modules" versions package
    versions="Node $(node --version | tr -d v)"
    for package in express mongoose jsonwebtoken bcryptjs; do
        versions+=", $package $(jq -r .version "$app/$package/package.json")"
    done
    jq -n --arg db "$(secantus_py_version)" --arg versions "$versions" \
        --argjson connections "$NODE_CONNECTIONS" --argjson secs "$NODE_SECS" \
        --argjson warmup "$NODE_WARMUP_SECS" \
        '{db: $db, node_versions: $versions, connections: $connections, secs: $secs, warmup_secs: $warmup}' \
        >"$dir/setup.json"

    local -A ports=([taskflow]=$PORT [node]=$((PORT + 3))) db_ports=([taskflow]=$DB_PORT [node]=$((DB_PORT + 1)))
    local -A pids db_pids mains writers
    # Local copies: begin_run, finish_run and the start functions read these for the stack in hand.
    local PORT BASE SERVER_PID DB_PORT DB_PID stack bodies
    local r round order name run
    local -a args
    for r in $(seq 1 "$NODE_ROUNDS"); do
        round="$dir/$(printf 'r%02d' "$r")"
        node_stacks "$round-stacks"
        order="taskflow node"; [[ $((r % 2)) -eq 0 ]] && order="node taskflow"
        for stack in $order; do
            PORT=${ports[$stack]}; BASE="http://127.0.0.1:$PORT"
            SERVER_PID=${pids[$stack]}; DB_PID=${db_pids[$stack]}
            for name in me list create; do
                case $name in
                    me) args=(-H "Authorization: Bearer ${mains[$stack]}" "$BASE/api/v1/auth/me") ;;
                    list) args=(-H "Authorization: Bearer ${mains[$stack]}" "$BASE/api/v1/tasks?limit=20") ;;
                    create) args=(-H "Authorization: Bearer ${writers[$stack]}" -m POST -T application/json
                        -Z "$bodies" "$BASE/api/v1/tasks") ;;
                esac
                run="$round-$stack-$name"
                taskset -c 0 oha --no-tui --disable-compression -c "$NODE_CONNECTIONS" \
                    -z "${NODE_WARMUP_SECS}s" "${args[@]}" >/dev/null 2>>"$OUT/oha.log"
                begin_run "$run" 0 null
                oha_bg load -c "$NODE_CONNECTIONS" -z "${NODE_SECS}s" "${args[@]}"
                finish_run
                curl -fs -m 10 -o /dev/null -H "Authorization: Bearer ${mains[$stack]}" "$BASE/api/v1/auth/me" \
                    || { echo "    !! $stack no longer answers after $run" | tee -a "$OUT/run/incidents.md"; return 1; }
            done
            printf '    round %d, %-8s: me %5.0f, list %5.0f, create %5.0f req/s\n' "$r" "$stack" \
                "$(jq .summary.requestsPerSec "$round-$stack-me/load.oha.json")" \
                "$(jq .summary.requestsPerSec "$round-$stack-list/load.oha.json")" \
                "$(jq .summary.requestsPerSec "$round-$stack-create/load.oha.json")"
        done
        stop_all
    done
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
        if has_store mongo && has_part combos; then
            if [[ -n "${TASKFLOW_MONGODB_URI:-}" ]]; then
                echo "| MongoDB | the server of TASKFLOW_MONGODB_URI |"
            else
                echo "| MongoDB | $(secantus_rs_version) (SecantusDB's Rust server), on CPU 1 with TaskFlow |"
            fi
        fi
        if runs_db || runs_node; then
            echo "| MongoDB of the database share and the Node comparison | $(if runs_db; then echo "$(secantus_rs_version) and "; fi)$(secantus_py_version) (each started fresh), on CPU 1 with the server |"
        fi
        if runs_node; then
            echo "| Node.js | $(node --version) |"
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
        echo
        local parts
        parts=$(IFS=,; echo "${DURATIONS[*]}")
        echo "How long each part of this run took: ${parts//,/, }."
    } >"$OUT/run/commands.md"
}

describe_method() {
    local mode="full"; [[ $QUICK -eq 1 ]] && mode="**quick (not representative)**"
    [[ $ONLY -eq 1 ]] && mode+=", these parts only: $PARTS"
    cat >"$OUT/run/method.md" <<EOF
Mode: $mode. Every figure comes from one run of the harness on the machine below, which runs
the load generator and the server side by side on its 2 cores: the server (and its database)
pinned to CPU 1, \`oha\` pinned to CPU 0. "Of baseline" compares with the bare baseline
(\`/health/live\` on the same server stack: no authentication, no storage); "bare axum" is a
plain \`axum::serve\` answering \`ok\` with no TaskFlow code (\`benches/bare_axum.rs\`), the
floor of this machine.

- **Servers**: \`target/release/examples/{axum,warp}_server\`, development profile, request
  log at \`info\` to /dev/null, rate limits raised (\`TASKFLOW_AUTH_RATE_PER_MIN\`,
  \`TASKFLOW_API_RATE_PER_MIN\` = 10^9) and access tokens valid for a day
  (\`TASKFLOW_ACCESS_TTL_SECS=86400\`) so that the limits and expiry do not shape the figures.
EOF
    if has_part combos; then
        cat >>"$OUT/run/method.md" <<EOF
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
EOF
    fi
    cat >>"$OUT/run/method.md" <<EOF
- **Side by side**: bare axum and both example servers up at once, the latter on the
  in-memory store (all on CPU 1, one loaded at a time), $PAIR_ROUNDS rounds of closed-loop
  probes (${PROBE_SECS} s, $CONNECTIONS connections): bare axum's \`ok\` and the bytes of the
  axum server's list of 20 (\`/body\`), and each example server's list, baseline and
  \`GET /auth/me\`, the order reversed every other round. The
  throughput targets are judged on the medians of these rounds (see "Reading the results").
- **The database's share** and **the Node comparison** (MongoDB): described in their sections.
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

step "Building the example servers and the harness helpers (release)"
cargo build --release --example axum_server --example warp_server
bench_bins=$(cargo bench --bench load --bench bare_axum --no-run --message-format=json 2>/dev/null \
    | jq -r 'select(.reason == "compiler-artifact" and .executable != null) | "\(.target.name) \(.executable)"')
LOAD_BIN=$(awk '$1 == "load" { print $2 }' <<<"$bench_bins" | tail -1)
BARE_BIN=$(awk '$1 == "bare_axum" { print $2 }' <<<"$bench_bins" | tail -1)
[[ -x "$LOAD_BIN" ]] || die "could not build benches/load"
[[ -x "$BARE_BIN" ]] || die "could not build benches/bare_axum.rs"

describe_machine
describe_method
started=$SECONDS
DURATIONS=()
# timed NAME COMMAND...: runs a part in its own subshell (a failure, a hung server, ends that
# part only) and notes how long it took.
timed() {
    local name=$1 t0=$SECONDS rc
    shift
    set +e
    (set -e; trap stop_all EXIT; "$@")
    rc=$?
    set -e
    [[ $rc -eq 0 ]] || echo "    $name stopped early (exit $rc); the run goes on"
    DURATIONS+=("$name $((SECONDS - t0)) s")
}
IFS=, read -ra adapter_list <<<"$ADAPTERS"
IFS=, read -ra store_list <<<"$STORES"
if has_part combos; then
    for store in "${store_list[@]}"; do
        for adapter in "${adapter_list[@]}"; do
            timed "$adapter on $store" run_combo "$adapter" "$store"
        done
    done
fi
if has_part pair && [[ ",$ADAPTERS," == *",axum,"* && ",$ADAPTERS," == *",warp,"* ]] && has_store memory; then
    timed "side by side" run_pair
fi
if runs_db; then
    timed "database share on secantusd-rs" run_db rs
    timed "database share on secantusd-py" run_db py
fi
if runs_node; then
    timed "against Node" run_node
fi

report_args=()
if [[ $CRITERION -eq 1 ]] && has_part criterion; then
    step "Criterion benchmarks of the targets (CPU 1)"
    t0=$SECONDS
    crit=(--warm-up-time 1 --measurement-time 3)
    taskset -c 1 cargo bench --bench auth -- 'jwt_hs256/verify' "${crit[@]}"
    taskset -c 1 cargo bench --bench abuse -- 'rate_limit/hot_key_admitted' "${crit[@]}"
    taskset -c 1 cargo bench --bench queries -- 'memory_list_100k/default|memory_list_other_users' "${crit[@]}"
    report_args+=(--criterion "$REPO_ROOT/target/criterion")
    DURATIONS+=("criterion $((SECONDS - t0)) s")
fi
[[ -f "$REPO_ROOT/docs/bench/notes.md" ]] && cp "$REPO_ROOT/docs/bench/notes.md" "$OUT/run/notes.md"
DURATIONS+=("in all $((SECONDS - started)) s")
describe_commands

if [[ $PUBLISH -eq 1 ]]; then
    md="$REPO_ROOT/BENCHMARKS.md"; svg="$REPO_ROOT/docs/bench/latency.svg"
else
    md="$OUT/BENCHMARKS.md"; svg="$OUT/docs/bench/latency.svg"
fi
"$LOAD_BIN" report --run "$OUT/run" --out "$md" --chart "$svg" "${report_args[@]}"
step "Done in $((SECONDS - started)) s: $md, $svg"
