#!/usr/bin/env bash
# Benchmarks DirectorySync against the seed recipe (the Node reference handler) and a null endpoint, one after the
# other, on one private Postgres, with one generated stream delivered by the simulator. Prints a table, writes
# .local/benchmark/results.{json,md}, and stops everything it started on exit. See BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-postgres.sh

usage() {
  cat <<'USAGE'
scripts/benchmark.sh [options]
  --quick                 smoke run: 2,000 users, 200 groups, 2 memberships each, 1,000 churn events, a small
                          steady stream (about a minute on a quiet machine); set sizes after it to change them
  --users N               users of directories 1 and 2 (default 10000)
  --groups N              groups of directories 1 and 2 (default 1000)
  --memberships N         initial memberships per user (default 5)
  --churn N               churn events of directory 1 after its initial sync (default 10000)
  --concurrency N         requests in flight (default 32)
  --rate N                events/s of the steady stage (default 1000)
  --steady-users N        users of the steady stage's directory 3 (groups N/10, churn N; default 2500)
  --targets LIST          comma-separated from ours,feed,insilo,seed,null (default all five, run in that order); none:
                          only the memory and soak stages; feed: ours with an outbound webhook endpoint configured (a
                          local listener), timed until the endpoint has every change, and the feed replayed from its
                          start checked against the mirror
  --stages LIST           comma-separated from burst,churn,second,pair,steady (default all; churn needs burst);
                          pair: directories 4 and 5 initial syncs at once, interleaved, twice the requests in
                          flight (each directory as many as one alone has)
  --memory                also run the memory stage: a fresh silo syncs --memory-users + --memory-groups
  --memory-users N        (default 90000)
  --memory-groups N       (default 10000)
  --memory-memberships N  memberships per user in the memory stage (default 1)
  --soak MINUTES          also run the soak: a fresh silo and gateway held at --soak-rate for this long, with
                          throughput, latency and RSS per minute (directories of 5,000 users, 500 groups,
                          2 memberships each and 10,000 changes, as many as the time needs)
  --soak-rate N           events/s of the soak (default 500)
  --read                  also run the read API stage: a fresh silo and gateway sync one directory of --read-users
                          through webhooks, then `simulator read-load` walks its users in pages of 100 and requests
                          pages at random at --read-rate for --read-seconds (open loop) and reports p50/p99
  --read-users N          (default 100000)
  --read-groups N         (default 1000)
  --read-memberships N    memberships per user (default 5)
  --read-rate N           pages/s (default 200)
  --read-seconds N        (default 60)
  --read-user-groups M    the gateway's ReadApi__UserGroups: empty (default) or embedded (each user's groups)
  --seed-recipe DIR       the seed recipe (default ../shared/peers/seed-recipe, then /work/shared/peers/seed-recipe)
  --profile               also profile ours (and feed) during the warm second directory: group commits, what Postgres's side of
                          the pipeline was doing (sampled), Postgres time per statement, and (if perf works here) a
                          CPU profile of every process and of Postgres; it loads pg_stat_statements for every
                          target, so take the throughput figures from a run without it
  --no-build              use the Release build as it is
  --out DIR               results and logs (default .local/benchmark)
USAGE
}

# ---- Options --------------------------------------------------------------------------------------------------------
USERS=10000 GROUPS_=1000 MEMBERSHIPS=5 CHURN=10000 CONCURRENCY=32 RATE=1000 STEADY_USERS=2500
TARGETS=ours,feed,insilo,seed,null STAGES=burst,churn,second,pair,steady MEMORY=0 BUILD=1 QUICK=0
MEMORY_USERS=90000 MEMORY_GROUPS=10000 MEMORY_MEMBERSHIPS=1 SOAK_MINUTES=0 SOAK_RATE=500
READ=0 READ_USERS=100000 READ_GROUPS=1000 READ_MEMBERSHIPS=5 READ_RATE=200 READ_SECONDS=60 READ_USER_GROUPS=empty
OUT=.local/benchmark SEED_RECIPE="" PROFILE=0
need_number() { [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "$1 needs a whole number, not '${2:-}'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; USERS=2000; GROUPS_=200; MEMBERSHIPS=2; CHURN=1000; STEADY_USERS=300 ;;
    --users) need_number "$1" "${2:-}"; USERS=$2; shift ;;
    --groups) need_number "$1" "${2:-}"; GROUPS_=$2; shift ;;
    --memberships) need_number "$1" "${2:-}"; MEMBERSHIPS=$2; shift ;;
    --churn) need_number "$1" "${2:-}"; CHURN=$2; shift ;;
    --concurrency) need_number "$1" "${2:-}"; CONCURRENCY=$2; shift ;;
    --rate) need_number "$1" "${2:-}"; RATE=$2; shift ;;
    --steady-users) need_number "$1" "${2:-}"; STEADY_USERS=$2; shift ;;
    --targets) TARGETS=${2:?}; shift ;;
    --stages) STAGES=${2:?}; shift ;;
    --memory) MEMORY=1 ;;
    --memory-users) need_number "$1" "${2:-}"; MEMORY_USERS=$2; shift ;;
    --memory-groups) need_number "$1" "${2:-}"; MEMORY_GROUPS=$2; shift ;;
    --memory-memberships) need_number "$1" "${2:-}"; MEMORY_MEMBERSHIPS=$2; shift ;;
    --soak) need_number "$1" "${2:-}"; SOAK_MINUTES=$2; shift ;;
    --soak-rate) need_number "$1" "${2:-}"; SOAK_RATE=$2; shift ;;
    --read) READ=1 ;;
    --read-users) need_number "$1" "${2:-}"; READ_USERS=$2; shift ;;
    --read-groups) need_number "$1" "${2:-}"; READ_GROUPS=$2; shift ;;
    --read-memberships) need_number "$1" "${2:-}"; READ_MEMBERSHIPS=$2; shift ;;
    --read-rate) need_number "$1" "${2:-}"; READ_RATE=$2; shift ;;
    --read-seconds) need_number "$1" "${2:-}"; READ_SECONDS=$2; shift ;;
    --read-user-groups) case "${2:-}" in empty|embedded) READ_USER_GROUPS=$2 ;; *) echo "--read-user-groups needs empty or embedded, not '${2:-}'" >&2; exit 2 ;; esac; shift ;;
    --seed-recipe) SEED_RECIPE=${2:?}; shift ;;
    --profile) PROFILE=1 ;;
    --no-build) BUILD=0 ;;
    --out) OUT=${2:?}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown option $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
has() { [[ ",$1," == *",$2,"* ]]; }
for t in ${TARGETS//,/ }; do case $t in ours|feed|insilo|seed|null|none) ;; *) echo "unknown target $t" >&2; exit 2 ;; esac; done
for s in ${STAGES//,/ }; do case $s in burst|churn|second|pair|steady) ;; *) echo "unknown stage $s" >&2; exit 2 ;; esac; done
if has "$STAGES" churn && ! has "$STAGES" burst; then echo "--stages: churn follows burst (directory 1 must exist)" >&2; exit 2; fi
[ "$RATE" -ge 1 ] && [ "$CONCURRENCY" -ge 1 ] && [ "$SOAK_RATE" -ge 1 ] && [ "$READ_RATE" -ge 1 ] && [ "$READ_SECONDS" -ge 1 ] \
  || { echo "--rate, --soak-rate, --read-rate, --read-seconds and --concurrency must be at least 1" >&2; exit 2; }

# ---- Layout -----------------------------------------------------------------------------------------------------------
OUT=$(mkdir -p "$OUT" && cd "$OUT" && pwd)
LOGS=$OUT/logs STREAMS=$OUT/streams PGDIR=$OUT/postgres
rm -rf "$LOGS" && mkdir -p "$LOGS" "$STREAMS"
STAGE_TSV=$OUT/stages.tsv MIRROR_TSV=$OUT/mirror.tsv PROCESS_TSV=$OUT/processes.tsv PROFILE_MD=$OUT/profile.md FEED_TSV=$OUT/feed.tsv
: >"$STAGE_TSV"; : >"$MIRROR_TSV"; : >"$PROCESS_TSV"; : >"$FEED_TSV"; rm -f "$PROFILE_MD"
SILO_DLL=src/Silo/bin/Release/net10.0/DirectorySync.Silo.dll
GATEWAY_DLL=src/Gateway/bin/Release/net10.0/DirectorySync.Gateway.dll
SIM_DLL=tools/Simulator/bin/Release/net10.0/DirectorySync.Simulator.dll
SECRET=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
READ_KEY=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
ENDPOINT_SECRET="whsec_$(head -c 32 /dev/urandom | base64)"
CLK_TCK=$(getconf CLK_TCK)
START_DAY=2026-11-02   # the generator's fixed default start; each directory starts a day after the previous one
STARTED_AT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# ---- Processes and cleanup ----------------------------------------------------------------------------------------------
pids=()
pg_started=0
stop_all() {  # SIGTERM to each (and to a stage subshell's timeout, which passes it on), SIGKILL whatever is left after 20 s
  local pid left
  for pid in "${pids[@]}"; do
    running "$pid" || continue
    pkill -TERM -P "$pid" 2>/dev/null || true
    kill -TERM "$pid" 2>/dev/null || true
  done
  for _ in $(seq 1 80); do
    left=0
    for pid in "${pids[@]}"; do running "$pid" && left=1; done
    [ "$left" = 0 ] && break
    sleep 0.25
  done
  for pid in "${pids[@]}"; do
    if running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  # A second Ctrl-C must not cut the cleanup short and leave processes or Postgres running.
  trap - EXIT
  trap '' INT TERM
  stop_all
  [ "$pg_started" = 1 ] && stop_postgres
  return 0
}
stop_postgres() {  # the private server and its data; our postmaster by its pid if pg_ctl cannot stop it
  local pm
  pm=$(head -1 "$PGDIR/data/postmaster.pid" 2>/dev/null || true)
  [ -n "$pm" ] && pg_as_owner "$(pg_bin_dir)/pg_ctl" -D "$PGDIR/data" -m fast -w -t 30 stop >>"$LOGS/cleanup.log" 2>&1 || true
  if running "$pm"; then
    log "pg_ctl did not stop Postgres; stopping postmaster $pm"
    kill -INT "$pm" 2>/dev/null || true
    for _ in $(seq 1 40); do running "$pm" || break; sleep 0.25; done
    kill -QUIT "$pm" 2>/dev/null || true
  fi
  if running "$pm"; then log "Postgres $pm still running; leaving $PGDIR"; else rm -rf "$PGDIR"; fi
  pg_started=0
}
# Alive and not a zombie (a daemon's parent here may be a PID 1 that never reaps it).
running() {
  local state
  state=$(awk '$1 == "State:" {print $2}' "/proc/${1:-none}/status" 2>/dev/null) || return 1
  [ -n "$state" ] && [ "$state" != Z ]
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

# A free TCP port in 55600-55699 (the range this project's tools use), not already handed out by this run, in $PORT
# (not printed: a command substitution's subshell would forget what it handed out).
taken_ports=" "
free_port() {
  local port in_use
  # Every local port of every TCP socket, not only listeners: an outgoing connection (or one in TIME_WAIT) can hold a
  # port of this range as its ephemeral port, and a listener cannot bind it then.
  in_use=$(ss -Htan 2>/dev/null | awk '{n=split($4,a,":"); print a[n]}' | tr '\n' ' ')
  for port in $(seq 55600 55699); do
    [[ "$taken_ports" == *" $port "* || " $in_use " == *" $port "* ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue
    taken_ports+="$port "; PORT=$port; return 0
  done
  echo "no free port in 55600-55699" >&2; return 1
}

wait_http() {  # URL NAME LOG PID [SECONDS]
  local url=$1 name=$2 logfile=$3 pid=$4 deadline=$((SECONDS + ${5:-120}))
  while [ $SECONDS -lt $deadline ]; do
    curl -sf -m 2 -o /dev/null "$url" && return 0
    kill -0 "$pid" 2>/dev/null || { log "$name exited; last lines of $logfile:"; tail -20 "$logfile" >&2; return 1; }
    sleep 0.2
  done
  log "$name not ready at $url after ${5:-120} s; last lines of $logfile:"; tail -20 "$logfile" >&2; return 1
}

# ---- /proc sampling -----------------------------------------------------------------------------------------------------
proc_ticks() { awk '{sub(/^.*\) /, ""); print $12 + $13}' "/proc/$1/stat" 2>/dev/null || echo 0; }
pg_ticks() {  # the postmaster (with its reaped children) plus its live backends
  local pm; pm=$(head -1 "$PGDIR/data/postmaster.pid" 2>/dev/null) || { echo 0; return; }
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v pm="$pm" '
    { line = $0; pid = $1; sub(/^.*\) /, "") }
    pid == pm { s += $12 + $13 + $14 + $15 }
    $2 == pm { s += $12 + $13 }
    END { print s + 0 }'
}
machine_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
vm_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null || echo ""; }
mb() { [ -n "${1:-}" ] && awk -v kb="$1" 'BEGIN{printf "%.0f", kb/1024}' || echo "-"; }
percent() { awk -v t="$1" -v hz="$CLK_TCK" -v s="$2" 'BEGIN{ if (s > 0) printf "%.1f", 100 * t / hz / s; else print "-" }'; }

# The processes of the target under test, by role: silo, gateway, node.
declare -A role_pid
snapshot_cpu() {  # prints "silo gateway node postgres machine" ticks
  local r out=""
  for r in silo gateway node; do
    if [ -n "${role_pid[$r]:-}" ]; then out+="$(proc_ticks "${role_pid[$r]}") "; else out+="- "; fi
  done
  echo "$out$(pg_ticks) $(machine_busy_ticks)"
}

# ---- Build, seed recipe, Postgres ---------------------------------------------------------------------------------------
if [ "$BUILD" = 1 ]; then
  log "building Release (silo, gateway, simulator)..."
  for project in src/Silo src/Gateway tools/Simulator; do
    dotnet build "$project" -c Release -v quiet -nologo >"$LOGS/build.log" 2>&1 || { tail -30 "$LOGS/build.log" >&2; exit 1; }
  done
fi
for dll in "$SILO_DLL" "$GATEWAY_DLL" "$SIM_DLL"; do [ -f "$dll" ] || { echo "$dll missing: build first" >&2; exit 1; }; done
sim() { dotnet "$SIM_DLL" "$@"; }

SEED_DIR=$OUT/seed-recipe
if has "$TARGETS" seed; then
  if [ -z "$SEED_RECIPE" ]; then
    for candidate in ../shared/peers/seed-recipe /work/shared/peers/seed-recipe; do
      [ -f "$candidate/server.js" ] && { SEED_RECIPE=$candidate; break; }
    done
  fi
  if [ -z "$SEED_RECIPE" ] || [ ! -f "$SEED_RECIPE/server.js" ]; then
    log "seed recipe not found (give --seed-recipe DIR): skipping that target"; TARGETS=${TARGETS//seed/}
  elif ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    log "node/npm not installed: skipping the seed recipe"; TARGETS=${TARGETS//seed/}
  else
    # A private copy: the original stays untouched, node_modules lands under .local/.
    if ! cmp -s "$SEED_RECIPE/server.js" "$SEED_DIR/server.js" || ! cmp -s "$SEED_RECIPE/package-lock.json" "$SEED_DIR/package-lock.json" \
       || [ ! -d "$SEED_DIR/node_modules" ]; then
      log "copying the seed recipe from $SEED_RECIPE and running npm ci..."
      rm -rf "$SEED_DIR" && mkdir -p "$SEED_DIR" && cp -r "$SEED_RECIPE/." "$SEED_DIR/" && chmod -R u+w "$SEED_DIR"
      (cd "$SEED_DIR" && timeout 300 npm ci --no-audit --no-fund) >"$LOGS/npm-ci.log" 2>&1 || { tail -20 "$LOGS/npm-ci.log" >&2; exit 1; }
    fi
  fi
fi

free_port; PG_PORT=$PORT
log "starting a private PostgreSQL on 127.0.0.1:$PG_PORT..."
pg_private_stop "$PGDIR"; rm -rf "$PGDIR"
if [ "$PROFILE" = 1 ]; then export PG_EXTRA_OPTIONS="-c shared_preload_libraries=pg_stat_statements"; fi
pg_private_start "$PGDIR" "$PG_PORT"
pg_started=1
PG_VERSION=$("$(pg_bin_dir)/postgres" --version | awk '{print $3}')
connection() { echo "Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=$1"; }

# ---- The stream ---------------------------------------------------------------------------------------------------------
# Directory 1: initial sync then churn (one file, split); directory 2: initial sync; directory 3: the steady stage.
MEMBERS=$(( MEMBERSHIPS < GROUPS_ ? MEMBERSHIPS : GROUPS_ ))
INITIAL_EVENTS=$(( 1 + USERS + GROUPS_ + (GROUPS_ > 0 ? USERS * MEMBERS : 0) ))
STEADY_GROUPS=$(( STEADY_USERS / 10 > 0 ? STEADY_USERS / 10 : 1 ))
SOAK_PER_DIRECTORY=$(( 1 + 5000 + 500 + 5000 * 2 + 10000 ))
SOAK_DIRECTORIES=$(( (SOAK_RATE * SOAK_MINUTES * 60 + SOAK_PER_DIRECTORY - 1) / SOAK_PER_DIRECTORY ))
history_args() {  # DIRECTORY -> the simulate options that generate its history
  case $1 in
    1) echo "--seed 42 --users $USERS --groups $GROUPS_ --memberships-per-user $MEMBERSHIPS --churn $CHURN --start ${START_DAY}T09:00:00Z" ;;
    1-initial) echo "--seed 42 --users $USERS --groups $GROUPS_ --memberships-per-user $MEMBERSHIPS --churn 0 --start ${START_DAY}T09:00:00Z" ;;
    2) echo "--seed 43 --users $USERS --groups $GROUPS_ --memberships-per-user $MEMBERSHIPS --churn 0 --start 2026-11-03T09:00:00Z" ;;
    pair) echo "--seed 47 --directories 2 --users $USERS --groups $GROUPS_ --memberships-per-user $MEMBERSHIPS --churn 0 --start 2026-11-07T09:00:00Z" ;;
    3) echo "--seed 44 --users $STEADY_USERS --groups $STEADY_GROUPS --memberships-per-user $MEMBERSHIPS --churn $STEADY_USERS --start 2026-11-04T09:00:00Z" ;;
    soak) echo "--seed 46 --directories $SOAK_DIRECTORIES --users 5000 --groups 500 --memberships-per-user 2 --churn 10000 --start 2026-11-06T09:00:00Z" ;;
    memory) echo "--seed 45 --users $MEMORY_USERS --groups $MEMORY_GROUPS --memberships-per-user $MEMORY_MEMBERSHIPS --churn 0 --start 2026-11-05T09:00:00Z" ;;
    read) echo "--seed 48 --users $READ_USERS --groups $READ_GROUPS --memberships-per-user $READ_MEMBERSHIPS --churn 0 --start 2026-11-08T09:00:00Z" ;;
  esac
}
generate_streams() {
  log "generating the stream..."
  # shellcheck disable=SC2046
  sim simulate $(history_args 1) --out "$STREAMS/dir1.jsonl" >"$LOGS/generate-1.out"
  head -n "$INITIAL_EVENTS" "$STREAMS/dir1.jsonl" >"$STREAMS/burst.jsonl"
  tail -n +"$((INITIAL_EVENTS + 1))" "$STREAMS/dir1.jsonl" >"$STREAMS/churn.jsonl"
  [ "$(wc -l <"$STREAMS/churn.jsonl")" -eq "$CHURN" ] || { echo "directory 1 did not split into $INITIAL_EVENTS + $CHURN events" >&2; exit 1; }
  # shellcheck disable=SC2046
  sim simulate $(history_args 2) --out "$STREAMS/second.jsonl" >"$LOGS/generate-2.out"
  # shellcheck disable=SC2046
  sim simulate $(history_args pair) --out "$STREAMS/pair.jsonl" >"$LOGS/generate-pair.out"
  # shellcheck disable=SC2046
  sim simulate $(history_args 3) --out "$STREAMS/steady.jsonl" >"$LOGS/generate-3.out"
  rm -f "$STREAMS/dir1.jsonl"
}
[[ "$TARGETS" =~ ours|feed|insilo|seed|null ]] && generate_streams
stream_events() { wc -l <"$STREAMS/$1.jsonl" | tr -d ' '; }

# ---- One stage: deliver a file, sample /proc around it, record a row ------------------------------------------------
run_stage() {  # TARGET STAGE URL [extra simulator options...]
  local target=$1 stage=$2 url=$3; shift 3
  local events out=$LOGS/$target-$stage.out err=$LOGS/$target-$stage.err timing=$LOGS/$target-$stage.time
  events=$(stream_events "$stage")
  local limit=$(( 120 + events / 50 ))   # every stage stops by itself: at least 50 events/s, or it is cut off
  log "$target: $stage ($events events)..."
  local before after rc=0 profiling=0
  if [ "$PROFILE" = 1 ] && { [ "$target" = ours ] || [ "$target" = feed ]; } && [ "$stage" = second ]; then
    profile_target=$target; profiling=1; profile_start
  fi
  before=$(snapshot_cpu)
  # In the background, so that an interrupt is handled at once (bash runs traps only between foreground commands).
  ( TIMEFORMAT='%R %U %S'
    time timeout -k 10 "$limit" dotnet "$SIM_DLL" replay --url "$url" --secret "$SECRET" --from "$STREAMS/$stage.jsonl" \
      --concurrency "$CONCURRENCY" --order in-order --max-attempts 20 "$@" >"$out" 2>"$err" ) 2>"$timing" &
  local job=$!
  pids+=("$job")
  wait "$job" || rc=$?
  after=$(snapshot_cpu)
  [ "$profiling" = 0 ] || profile_stop "$(awk '$1 == "duration" {print $2}' "$out")"
  [ "$rc" = 124 ] && echo "result       TIMEOUT after $limit s" >>"$out"
  local duration tput p50 p99 max retries failures result requests
  duration=$(awk '$1 == "duration" {print $2}' "$out"); duration=${duration:-0}
  requests=$(awk '$1 == "events" {gsub(",", ""); print $4}' "$out")
  tput=$(awk '$1 == "throughput" {gsub(",", ""); print $2}' "$out")
  read -r p50 p99 max < <(awk '$1 == "ack" {gsub(",", ""); print $4, $7, $10}' "$out") || true
  retries=$(awk '$1 == "retries" {gsub(",", ""); print $2}' "$out")
  failures=$(awk '$1 == "failures" {gsub(",", ""); print $2}' "$out")
  result=$(awk '$1 == "result" {print $2}' "$out" | tail -1)
  [ "$rc" = 0 ] || [ "$result" != OK ] || result="exit-$rc"
  # CPU shares: the service's processes over the delivery's duration (they idle while the simulator starts and reads
  # its file); the simulator and the whole machine over the simulator's run, start-up included.
  local b a cpu=() i sim_ticks sim_wall
  read -ra b <<<"$before"; read -ra a <<<"$after"
  read -r sim_wall sim_ticks < <(awk -v hz="$CLK_TCK" '{printf "%s %.0f\n", $1, ($2 + $3) * hz}' "$timing") || true
  for i in 0 1 2 3; do
    if [ "${b[$i]}" = - ]; then cpu+=("-"); else cpu+=("$(percent $(( a[i] - b[i] )) "$duration")"); fi
  done
  cpu+=("$(percent $(( a[4] - b[4] )) "${sim_wall:-0}")")
  local hwm=() r
  for r in silo gateway node; do
    if [ -n "${role_pid[$r]:-}" ]; then hwm+=("$(mb "$(vm_kb "${role_pid[$r]}" VmHWM)")"); else hwm+=("-"); fi
  done
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
    "$target" "$stage" "$events" "${requests:-0}" "$duration" "${tput:-0}" "${p50:--}" "${p99:--}" "${max:--}" \
    "${retries:-0}" "${failures:-0}" "${result:-FAILED}" "${cpu[0]}" "${cpu[1]}" "${cpu[2]}" "${cpu[3]}" \
    "$(percent "${sim_ticks:-0}" "${sim_wall:-0}")" "${cpu[4]}" "${hwm[0]}" "${hwm[1]}" "${hwm[2]}" >>"$STAGE_TSV"
  log "$target: $stage: ${tput:-0} events/s, p50 ${p50:--} ms, p99 ${p99:--} ms, ${retries:-0} retries, ${failures:-0} failed, ${result:-FAILED}"
}

verify_directory() {  # TARGET DIRECTORY-NAME HISTORY DATABASE COLUMNS
  local target=$1 name=$2 history=$3 database=$4 columns=$5 out=$LOGS/$1-verify-${2// /-}.out verdict patience=30
  # Ours acknowledges only what is durable, so its mirror matches at once (the patience covers background work);
  # the seed recipe's mismatches are its own and waiting would not change them.
  [ "$target" = seed ] && patience=3
  # shellcheck disable=SC2046
  timeout -k 10 300 dotnet "$SIM_DLL" simulate $(history_args "$history") --verify "$(connection "$database")" \
    --verify-columns "$columns" --verify-timeout-s "$patience" >"$out" 2>&1 || true
  verdict=$(awk '$1 == "mirror" {sub(/^mirror +/, ""); print; exit}' "$out")
  verdict=${verdict:-"not checked: $(tail -1 "$out")"}
  printf '%s\t%s\t%s\t%s\n' "$target" "$name" "$([[ $verdict == matches* ]] && echo OK || echo FAIL)" "$verdict" >>"$MIRROR_TSV"
  log "$target: mirror of $name: $verdict"
}

record_processes() {  # TARGET: peak and current RSS of each process, at the end of its run
  local target=$1 r
  for r in silo gateway node; do
    [ -n "${role_pid[$r]:-}" ] || continue
    printf '%s\t%s\t%s\t%s\t%s\n' "$target" "$r" "$(mb "$(vm_kb "${role_pid[$r]}" VmHWM)")" \
      "$(mb "$(vm_kb "${role_pid[$r]}" VmRSS)")" "${ready_s:--}" >>"$PROCESS_TSV"
  done
}

# ---- Profile (--profile): where a warm batch's time goes ---------------------------------------------------------------
# Around ours' second stage: the silo's group-commit counters, the CPU of each Postgres backend, every 10 ms the state
# of each backend of the database (one psql loop), Postgres time per statement, and a perf recording if perf works here.
batch_counters() {  # "events batches milliseconds": the sums and count of the silo's batch size and duration histograms
  curl -sf -m 5 "$silo_metrics" | awk '
    /^directorysync_batch_size_sum/ { e = $2 } /^directorysync_batch_size_count/ { n = $2 }
    /^directorysync_batch_duration_milliseconds_sum/ { ms = $2 } END { print e + 0, n + 0, ms + 0 }'
}
backend_ticks() {  # "pid ticks" of every child of our postmaster
  local pm; pm=$(head -1 "$PGDIR/data/postmaster.pid")
  for pid in $(pgrep -P "$pm"); do echo "$pid $(proc_ticks "$pid")"; done
}
profile_target=ours
bench_psql() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d "bench_$profile_target" -qtAX "$@"; }
profile_start() {
  log "$profile_target: profiling the second stage..."
  bench_psql -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" -c "SELECT pg_stat_statements_reset()" \
    -c "CREATE UNLOGGED TABLE IF NOT EXISTS profile_states (sample int, state text)" -c "CREATE UNLOGGED TABLE IF NOT EXISTS profile_stop ()" \
    -c "TRUNCATE profile_states, profile_stop" >/dev/null
  profile_counters=$(batch_counters); profile_ticks=$(backend_ticks)
  # pg_stat_activity is read once per transaction unless the snapshot is cleared; the loop is one DO block.
  bench_psql -c "DO \$\$ DECLARE n int := 0; BEGIN
      WHILE NOT EXISTS (SELECT FROM profile_stop) LOOP
        PERFORM pg_stat_clear_snapshot();
        INSERT INTO profile_states SELECT n, state || coalesce(' / ' || wait_event_type || ': ' || wait_event, '')
          FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend';
        n := n + 1;
        PERFORM pg_sleep(0.01);
      END LOOP; END \$\$" >/dev/null 2>"$LOGS/profile-sampler.err" &
  profile_sampler=$!; pids+=("$profile_sampler")
  profile_perf=""
  if command -v perf >/dev/null && perf record -q -o /dev/null -- true >/dev/null 2>&1; then
    # From a second in (the simulator reading its file) to the end of the delivery, when profile_stop interrupts it.
    ( sleep 1; exec perf record -q -F 499 -a -g -o "$LOGS/perf.data" -- sleep 600 ) >"$LOGS/perf.log" 2>&1 &
    profile_perf=$!; pids+=("$profile_perf")
  fi
}
profile_stop() {  # DELIVERY-SECONDS
  local duration=${1:-0} counters backends_ticks
  counters=$(batch_counters)
  bench_psql -c "INSERT INTO profile_stop DEFAULT VALUES" >/dev/null; wait "$profile_sampler" 2>/dev/null || true
  if [ -n "$profile_perf" ]; then kill -INT "$profile_perf" 2>/dev/null || true; wait "$profile_perf" 2>/dev/null || true; fi
  backends_ticks=$(join <(echo "$profile_ticks" | sort) <(backend_ticks | sort) | awk '{t += $3 - $2} END {print t + 0}')
  {
    echo "### Profile: $profile_target, warm second directory ($(date -u +%Y-%m-%d\ %H:%M) UTC)"
    echo
    awk -v b="$profile_counters" -v a="$counters" -v d="$duration" 'BEGIN {
      split(b, x, " "); split(a, y, " "); n = y[2] - x[2]; if (n <= 0 || d <= 0) { print "- group commits: no batch counters from the silo"; exit }
      printf "- **Group commits**: %d batches over %.1f s, %.1f events each, %.2f ms each on average; the writer was in a batch %.0f%% of the delivery.\n", n, d, (y[1] - x[1]) / n, (y[3] - x[3]) / n, (y[3] - x[3]) / 10 / d }'
    echo "- **Postgres** (its backends, the store's among them): $(percent "$backends_ticks" "$duration")% of a core. What the database side of the pipeline was doing, sampled every 10 ms, each sample counted once by its busiest backend (\`active\` = executing a batch's statements; \`idle in transaction\` = a batch read, waiting for the silo to decide and send its writes; \`idle\` = no batch in Postgres: the silo between two batches or a round trip on its way):"
    echo
    echo "| state / wait | share of samples |"
    echo "|---|--:|"
    bench_psql -F ' | ' -c "SELECT '| ' || state, round(100.0 * count(*) / sum(count(*)) OVER (), 1) || '% |'
      FROM (SELECT DISTINCT ON (sample) sample, state FROM profile_states
            ORDER BY sample, CASE WHEN state LIKE 'active%' THEN 0 WHEN state LIKE 'idle in%' THEN 1 ELSE 2 END) busiest
      GROUP BY state ORDER BY count(*) DESC LIMIT 8"
    echo
    echo "- **Postgres execution time** per statement (pg_stat_statements, top level; a statement calling a sync function includes it):"
    echo
    echo "| statement | calls | ms per call | share of execution |"
    echo "|---|--:|--:|--:|"
    bench_psql -F ' | ' -c "SELECT '| \`' || left(regexp_replace(query, '\s+', ' ', 'g'), 70) || '\`', calls,
        round((total_exec_time / calls)::numeric, 3), round((100 * total_exec_time / sum(total_exec_time) OVER ())::numeric, 1) || '% |'
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench_$profile_target')
        AND query NOT LIKE '%profile_%' AND query NOT LIKE '%pg_stat_statements%'
      ORDER BY total_exec_time DESC LIMIT 8"
    if [ -s "$LOGS/perf.data" ]; then
      echo
      echo "- **perf**, the delivery after its first second, every process (share of both cores' samples; \`swapper\` is idle):"
      echo
      echo '```'
      perf report -i "$LOGS/perf.data" --no-children --sort comm -g none --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | head -8
      echo '```'
      echo
      echo "  Postgres's functions by inclusive share of all samples (executor, planner, commit, WAL flush):"
      echo
      echo '```'
      perf report -i "$LOGS/perf.data" --children --comm postgres --sort sym -g none --stdio 2>/dev/null \
        | grep -E 'PostgresMain|exec_(bind|parse|execute)_message|PortalRun|plpgsql_exec_function|standard_ExecutorRun|pg_plan_queries|raw_parser|parse_analyze|CommitTransaction|XLogFlush|fdatasync|jsonb_in|heap_insert|ExecInsertIndexTuples|AfterTriggerEndQuery|secure_(read|write)' | head -20
      echo '```'
    else
      echo "- perf: not available here (install linux-perf and allow it: kernel.perf_event_paranoid <= 1)"
    fi
    echo
  } >>"$PROFILE_MD" 2>>"$LOGS/profile.err"
}

# ---- Targets --------------------------------------------------------------------------------------------------------------
start_ours() {  # DATABASE MODE: gateway (the normal deployment), null (the gateway's null endpoint), insilo (no gateway),
                # feed (the normal deployment with an outbound webhook endpoint: a local listener)
  local database=$1 mode=$2 silo_http silo_port orleans_gateway gateway_http started endpoint=()
  free_port; silo_http=$PORT; free_port; silo_port=$PORT; free_port; orleans_gateway=$PORT; free_port; gateway_http=$PORT
  pg_create_database "$PG_PORT" "$database"
  if [ "$mode" = feed ]; then
    free_port
    dotnet "$SIM_DLL" listen --port "$PORT" --out "$LOGS/feed-endpoint.tsv" >"$LOGS/feed-endpoint.out" 2>&1 &
    pids+=($!)
    endpoint=(ChangeFeed__Endpoints__local__Url="http://127.0.0.1:$PORT/" ChangeFeed__Endpoints__local__Secret="$ENDPOINT_SECRET")
  fi
  gateway_url="http://127.0.0.1:$gateway_http"
  started=$(date +%s.%N)
  env "${endpoint[@]}" ConnectionStrings__Postgres=$(connection "$database") Orleans__SiloPort=$silo_port Orleans__GatewayPort=$orleans_gateway \
    Webhooks__ServeInSilo=$([ "$mode" = insilo ] && echo true || echo false) WORKOS_WEBHOOK_SECRET=$SECRET \
    dotnet "$SILO_DLL" --urls "http://127.0.0.1:$silo_http" >"$LOGS/$current-silo.log" 2>&1 &
  role_pid[silo]=$!; pids+=($!); silo_metrics="http://127.0.0.1:$silo_http/metrics"
  url="http://127.0.0.1:$silo_http/webhooks/workos"
  if [ "$mode" != insilo ]; then
    ConnectionStrings__Postgres=$(connection "$database") WORKOS_WEBHOOK_SECRET=$SECRET ReadApi__Keys=$READ_KEY \
      Webhooks__NullEndpoint=$([ "$mode" = null ] && echo true || echo false) \
      DirectorySync__BenchmarkMode=$([ "$mode" = null ] && echo true || echo false) \
      dotnet "$GATEWAY_DLL" --urls "http://127.0.0.1:$gateway_http" >"$LOGS/$current-gateway.log" 2>&1 &
    role_pid[gateway]=$!; pids+=($!)
    url="http://127.0.0.1:$gateway_http/webhooks/workos"
  fi
  wait_http "http://127.0.0.1:$silo_http/health/ready" silo "$LOGS/$current-silo.log" "${role_pid[silo]}" || return 1
  if [ "$mode" != insilo ]; then
    wait_http "http://127.0.0.1:$gateway_http/health/ready" gateway "$LOGS/$current-gateway.log" "${role_pid[gateway]}" || return 1
  fi
  ready_s=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
}

start_seed() {
  local port started
  free_port; port=$PORT
  pg_create_database "$PG_PORT" bench_seed
  started=$(date +%s.%N)
  (cd "$SEED_DIR" && DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/bench_seed" WORKOS_WEBHOOK_SECRET=$SECRET \
    exec node server.js --port "$port") >"$LOGS/seed-node.log" 2>&1 &
  role_pid[node]=$!; pids+=($!)
  wait_http "http://127.0.0.1:$port/healthz" "seed recipe" "$LOGS/seed-node.log" "${role_pid[node]}" || return 1
  ready_s=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
  url="http://127.0.0.1:$port/webhooks/workos"
}

run_target() {
  current=$1 url="" ready_s=""
  role_pid=()
  log "=== $current ==="
  case $current in
    ours) start_ours bench_ours gateway ;;
    feed) start_ours bench_feed feed ;;
    insilo) start_ours bench_insilo insilo ;;
    null) start_ours bench_null null ;;   # the gateway needs a live silo to start serving (see BENCHMARKS.md)
    seed) start_seed ;;
  esac || { log "$current did not start; skipping it"; stop_all; return 0; }
  log "$current: ready after $ready_s s"
  if has "$STAGES" burst; then run_stage "$current" burst "$url"; feed_lag burst; fi
  if has "$STAGES" churn; then run_stage "$current" churn "$url"; feed_lag churn; fi
  if has "$STAGES" second; then run_stage "$current" second "$url"; feed_lag second; fi
  # Each directory with as many requests in flight as one directory alone has: WorkOS sends each its own stream.
  has "$STAGES" pair && run_stage "$current" pair "$url" --concurrency $(( CONCURRENCY * 2 ))
  has "$STAGES" steady && run_stage "$current" steady "$url" --rate "$RATE"
  record_processes "$current"
  if [ "$current" != null ]; then
    local database=bench_$current columns=all
    [ "$current" = seed ] && columns=common
    if has "$STAGES" burst; then
      if has "$STAGES" churn; then verify_directory "$current" "directory 1" 1 "$database" $columns
      else verify_directory "$current" "directory 1" 1-initial "$database" $columns; fi
    fi
    has "$STAGES" second && verify_directory "$current" "directory 2" 2 "$database" $columns
    has "$STAGES" pair && verify_directory "$current" "directories 4 and 5" pair "$database" $columns
    has "$STAGES" steady && verify_directory "$current" "directory 3" 3 "$database" $columns
  fi
  [ "$current" = feed ] && verify_feed
  stop_all
}

# ---- The change feed (target feed) ------------------------------------------------------------------------------------
feed_psql() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench_feed -qtAX "$@"; }
feed_lag() {  # STAGE: how long after the stage's last acknowledgement the local endpoint had every change (target feed)
  [ "$current" = feed ] || return 0
  local stage=$1 acked last entries deadline=$((SECONDS + 300)) line=""
  acked=$(date +%s%3N)   # the simulator has exited: its last acknowledgement came a moment before
  last=$(feed_psql -c "SELECT lpad(to_hex(xact), 16, '0') || lpad(to_hex(ordinal), 8, '0') FROM change_feed ORDER BY xact DESC, ordinal DESC LIMIT 1")
  entries=$(feed_psql -c "SELECT count(*) FROM change_feed")
  while [ $SECONDS -lt $deadline ]; do
    line=$(awk -F'\t' -v p="$last" '$4 == p {print $1; exit}' "$LOGS/feed-endpoint.tsv" 2>/dev/null)
    [ -n "$line" ] && break
    sleep 0.1
  done
  local lag=timeout messages received
  [ -n "$line" ] && lag=$(awk -v a="$acked" -v l="$line" 'BEGIN { d = (l - a) / 1000; printf "%.1f", d < 0 ? 0 : d }')
  messages=$(wc -l <"$LOGS/feed-endpoint.tsv"); received=$(awk -F'\t' '{s += $3} END {print s + 0}' "$LOGS/feed-endpoint.tsv")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$stage" "$(stream_events "$stage")" "$entries" "$received" "$messages" "$lag" >>"$FEED_TSV"
  log "feed: $stage: the endpoint had all $entries entries ${lag} s after the last acknowledgement ($received received in $messages messages so far)"
}
verify_feed() {  # every entry from the feed's start, applied as an application would, must rebuild the mirror exactly
  local out=$LOGS/feed-consume.out verdict
  timeout -k 10 600 dotnet "$SIM_DLL" consume --url "$gateway_url" --key "$READ_KEY" --idle-s 2 \
    --verify "$(connection bench_feed)" >"$out" 2>&1 || true
  verdict=$(awk '$1 == "verified" {sub(/^verified +/, ""); print; exit}' "$out")
  verdict=${verdict:-"not checked: $(tail -1 "$out")"}
  printf '%s\t%s\t%s\t%s\n' feed "the feed from its start" "$([[ $verdict == what* ]] && echo OK || echo FAIL)" "$verdict" >>"$MIRROR_TSV"
  log "feed: $verdict ($(awk '$1 == "followed" {sub(/^followed +/, ""); print; exit}' "$out"))"
}

for target in ours feed insilo seed null; do
  has "$TARGETS" "$target" && run_target "$target"
done

# ---- Memory: a fresh silo after syncing many users and groups ------------------------------------------------------
MEMORY_TSV=$OUT/memory.tsv; : >"$MEMORY_TSV"
if [ "$MEMORY" = 1 ]; then
  current=memory url="" ready_s=""
  role_pid=()
  log "=== memory: $MEMORY_USERS users, $MEMORY_GROUPS groups, $MEMORY_MEMBERSHIPS memberships per user ==="
  # shellcheck disable=SC2046
  sim simulate $(history_args memory) --out "$STREAMS/memory.jsonl" >"$LOGS/generate-memory.out"
  if start_ours bench_memory gateway; then
    run_stage memory memory "$url"
    tail -n 1 "$STREAMS/memory.jsonl" >"$STREAMS/memory-last.jsonl"
    rm -f "$STREAMS/memory.jsonl"
    verify_directory memory "memory directory" memory bench_memory all
    sleep 5   # let the last batches and the GC settle before the reading
    memory_row=$(printf '%s\t%s\t%s\t%s\t%s\t%s\t%s' "$MEMORY_USERS" "$MEMORY_GROUPS" "$MEMORY_MEMBERSHIPS" \
      "$(mb "$(vm_kb "${role_pid[silo]}" VmRSS)")" "$(mb "$(vm_kb "${role_pid[silo]}" VmHWM)")" \
      "$(mb "$(vm_kb "${role_pid[gateway]}" VmRSS)")" "$(mb "$(vm_kb "${role_pid[gateway]}" VmHWM)")")
    # The index load: fresh processes on the same database, handed the directory's last event again (a duplicate), so
    # its grain activates and reads its index; the silo logs how long that took and the RSS shows what it holds.
    stop_all; pids=(); role_pid=(); current=memory-load
    load_ms="-" load_rss_kb="-"
    if start_ours bench_memory gateway; then
      sleep 5
      rss_before=$(vm_kb "${role_pid[silo]}" VmRSS)
      sim replay --url "$url" --secret "$SECRET" --from "$STREAMS/memory-last.jsonl" --concurrency 1 >"$LOGS/memory-load.out" 2>&1 || true
      sleep 5
      load_rss_kb=$(( $(vm_kb "${role_pid[silo]}" VmRSS) - rss_before ))
      load_ms=$(sed -n 's/.* loaded: .* in \([0-9]*\) ms .*/\1/p' "$LOGS/memory-load-silo.log" | tail -1)
      log "memory: index load after a restart: ${load_ms:--} ms, silo RSS +$(mb "$load_rss_kb") MB"
    fi
    printf '%s\t%s\t%s\n' "$memory_row" "${load_ms:--}" "$(mb "$load_rss_kb")" >>"$MEMORY_TSV"
  else
    log "memory: the service did not start"
  fi
  stop_all
fi

# ---- Soak: a fresh silo and gateway held at a steady rate for a long time ---------------------------------------------
SOAK_WINDOWS_TSV=$OUT/soak-windows.tsv SOAK_RSS_TSV=$OUT/soak-rss.tsv; : >"$SOAK_WINDOWS_TSV"; : >"$SOAK_RSS_TSV"
sample_rss() {  # FILE SIMULATOR-STDERR: from the delivery's start (the simulator says so), every minute: minute, silo and gateway RSS MB
  local file=$1 started=$2 minute=0
  until grep -q '^delivering' "$started" 2>/dev/null; do sleep 0.5; done
  while sleep 60; do
    minute=$((minute + 1))
    printf '%s\t%s\t%s\n' "$minute" "$(mb "$(vm_kb "${role_pid[silo]}" VmRSS)")" "$(mb "$(vm_kb "${role_pid[gateway]}" VmRSS)")" >>"$file"
  done
}
if [ "$SOAK_MINUTES" -gt 0 ]; then
  current=soak url="" ready_s=""
  role_pid=()
  log "=== soak: $SOAK_RATE events/s for $SOAK_MINUTES minutes ($SOAK_DIRECTORIES directories of $SOAK_PER_DIRECTORY events) ==="
  # shellcheck disable=SC2046
  sim simulate $(history_args soak) --out "$STREAMS/soak.jsonl" >"$LOGS/generate-soak.out"
  if start_ours bench_soak gateway; then
    sample_rss "$SOAK_RSS_TSV" "$LOGS/soak-soak.err" &
    sampler=$!; pids+=("$sampler")
    run_stage soak soak "$url" --rate "$SOAK_RATE" --window-s 60
    kill "$sampler" 2>/dev/null || true
    # "window  0-60 s: 30,000 acknowledged, 500/s, p50 12.0 ms, p99 40.0 ms, max 90.0 ms" -> start, end, acked, rate, p50, p99, max
    awk '$1 == "window" { gsub(",", ""); split($2, t, "-"); sub("/s", "", $6); print t[1] "\t" t[2] "\t" $4 "\t" $6 "\t" $8 "\t" $11 "\t" $14 }' \
      "$LOGS/soak-soak.out" >"$SOAK_WINDOWS_TSV"
    # The last, partial minute's reading: now, as the delivery ended.
    last_minute=$(awk -F'\t' 'END { print int($1 / 60) + 1 }' "$SOAK_WINDOWS_TSV")
    grep -q "^$last_minute	" "$SOAK_RSS_TSV" || printf '%s\t%s\t%s\n' "$last_minute" \
      "$(mb "$(vm_kb "${role_pid[silo]}" VmRSS)")" "$(mb "$(vm_kb "${role_pid[gateway]}" VmRSS)")" >>"$SOAK_RSS_TSV"
    rm -f "$STREAMS/soak.jsonl"
    verify_directory soak "soak directories" soak bench_soak all
    record_processes soak
  else
    log "soak: the service did not start"
  fi
  stop_all
fi

# ---- Read API: pages of a large directory at a steady rate ------------------------------------------------------------------
READ_TSV=$OUT/read.tsv; : >"$READ_TSV"
if [ "$READ" = 1 ]; then
  current=read url="" ready_s=""
  role_pid=()
  log "=== read API: $READ_USERS users, $READ_GROUPS groups, $READ_MEMBERSHIPS memberships per user, users' groups $READ_USER_GROUPS; pages of 100 at $READ_RATE/s for $READ_SECONDS s ==="
  # shellcheck disable=SC2046
  sim simulate $(history_args read) --out "$STREAMS/read.jsonl" >"$LOGS/generate-read.out"
  export ReadApi__UserGroups=$READ_USER_GROUPS   # the gateway's key is $READ_KEY, as every target's
  if start_ours bench_read gateway; then
    run_stage read read "$url"
    rm -f "$STREAMS/read.jsonl"
    verify_directory read "read API directory" read bench_read all
    directory=$(psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d bench_read -qtAX -c "SELECT workos_directory_id FROM directories LIMIT 1")
    before=$(snapshot_cpu)
    timeout -k 10 $(( READ_SECONDS * 3 + 300 )) dotnet "$SIM_DLL" read-load --url "${url%/webhooks/workos}" --key "$READ_KEY" \
      --directory "$directory" --rate "$READ_RATE" --seconds "$READ_SECONDS" >"$LOGS/read-load.out" 2>&1 || true
    after=$(snapshot_cpu)
    read -ra b <<<"$before"; read -ra a <<<"$after"
    # "latency p50 4.1 ms, p99 12.3 ms, max 30.2 ms" and "pages 12,000 answered in 60.0 s (200/s), ..."
    read -r p50 p99 max < <(awk '$1 == "latency" {gsub(",", ""); print $3, $6, $9}' "$LOGS/read-load.out") || true
    read -r answered load_s < <(awk '$1 == "pages" {gsub(",", ""); print $2, $5}' "$LOGS/read-load.out") || true
    walk=$(awk '$1 == "walk" {sub(/^walk +/, ""); print}' "$LOGS/read-load.out")
    result=$(awk '$1 == "result" {print $2}' "$LOGS/read-load.out" | tail -1)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$READ_USERS" "$READ_GROUPS" "$READ_MEMBERSHIPS" \
      "$READ_RATE" "${answered:-0}" "${p50:--}" "${p99:--}" "${max:--}" "${result:-FAILED}" \
      "$(percent $(( a[1] - b[1] )) "${load_s:-0}")" "$(percent $(( a[3] - b[3] )) "${load_s:-0}")" \
      "$(percent $(( a[0] - b[0] )) "${load_s:-0}")" "$(percent $(( a[4] - b[4] )) "${load_s:-0}")" "${load_s:-0}" "${walk:--}" "$READ_USER_GROUPS" >>"$READ_TSV"
    log "read API: p50 ${p50:--} ms, p99 ${p99:--} ms, max ${max:--} ms, ${answered:-0} pages, ${result:-FAILED}"
  else
    log "read API: the service did not start"
  fi
  unset ReadApi__Keys ReadApi__UserGroups
  stop_all
fi

# ---- Report -----------------------------------------------------------------------------------------------------------
MACHINE="$(nproc) cores ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo) memory"
VERSIONS="PostgreSQL $PG_VERSION, .NET SDK $(dotnet --version), node $(node --version 2>/dev/null || echo -)"
LOAD="load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
export USERS GROUPS_ MEMBERSHIPS CHURN CONCURRENCY RATE STEADY_USERS STEADY_GROUPS INITIAL_EVENTS MACHINE VERSIONS LOAD \
  STARTED_AT QUICK MEMORY_USERS MEMORY_GROUPS MEMORY_MEMBERSHIPS SOAK_RATE SOAK_MINUTES SOAK_DIRECTORIES READ_SECONDS
feed_report() {  # with and without an endpoint, and the endpoint's lag
  echo "## Change feed"
  echo
  echo "| stage | events/s without an endpoint (ours) | with one (feed) | with ÷ without | entries | endpoint had them all after the last ack |"
  echo "|---|--:|--:|--:|--:|--:|"
  awk -F'\t' 'FILENAME ~ /stages.tsv$/ { t[$1, $2] = $6; next }
    { printf "| %s | %s | %s | %s | %s | %s s |\n", $1, t["ours", $1] == "" ? "-" : t["ours", $1], t["feed", $1],
        (t["ours", $1] > 0 ? sprintf("%.2f", t["feed", $1] / t["ours", $1]) : "-"), $3, $6 }' "$STAGE_TSV" "$FEED_TSV"
}
{ scripts/benchmark-report.sh "$OUT"; [ ! -s "$FEED_TSV" ] || { echo; feed_report; }; [ ! -s "$PROFILE_MD" ] || { echo; cat "$PROFILE_MD"; }; } | tee "$OUT/results.md"
log "results: $OUT/results.md, $OUT/results.json; logs: $LOGS"
