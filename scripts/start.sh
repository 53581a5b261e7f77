#!/usr/bin/env bash
# One command to see DirectorySync work on this machine: a private Postgres (unless ConnectionStrings__Postgres is
# set), the schema, one silo, the gateway, and a simulated WorkOS. Its API holds a directory that existed before the
# start (backfilled), then changes a user with no webhook (the Events API brings it); its webhooks deliver a second
# directory. DEMO=api or DEMO=webhooks plays one part, DEMO=0 neither. Stays up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-postgres.sh

STATE=.local
PG_PORT=${PG_PORT:-55432}
SILO_URL=${SILO_URL:-http://127.0.0.1:8081}
GATEWAY_URL=${GATEWAY_URL:-http://127.0.0.1:5080}
WORKOS_API_URL=${WORKOS_API_URL:-http://127.0.0.1:5090}
SIMULATOR=tools/Simulator/bin/Release/net10.0/DirectorySync.Simulator.dll
# The simulated WorkOS API: its key (a fake's, not a secret), its directory, and when its API-only change is made.
API_KEY=sk_test_start_demo
API_USERS=200
API_CHANGE_AFTER_S=${API_CHANGE_AFTER_S:-30}

case "${DEMO:-1}" in
  1) demo_api=1; demo_webhooks=1 ;;
  api) demo_api=1; demo_webhooks="" ;;
  webhooks) demo_api=""; demo_webhooks=1 ;;
  0) demo_api=""; demo_webhooks="" ;;
  *) echo "DEMO must be 1 (everything), api, webhooks or 0 (nothing), not '$DEMO'" >&2; exit 2 ;;
esac
if [ -n "$demo_api" ] && [ -n "${WorkOS__ApiKey:-}${WORKOS_API_KEY:-}" ]; then
  echo "A WorkOS API key is set: the silo asks that WorkOS, and the simulated WorkOS API is not started."
  demo_api=""
fi

mkdir -p "$STATE"
pids=()
private_pg=""
silo_env=()

cleanup() {
  # A second Ctrl-C (or the signal reaching us twice) must not cut the cleanup short and leave Postgres running.
  trap - EXIT
  trap '' INT TERM
  echo; echo "Stopping..."
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  [ -n "$private_pg" ] && pg_private_stop "$private_pg"
  echo "Stopped."
}
trap cleanup EXIT
# Ctrl-C (or the terminal closing) during a demo step ends the script, through the cleanup, instead of going on to the
# next step.
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
  local log=$1; shift
  echo "$*; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1
}

wait_ready() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 120); do
    curl -sf "$url/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  fail "$log" "$name did not become ready"
}

# Waits for a line matching $2 in $1 (a background process's output) for up to $3 seconds; prints it.
wait_for_line() {
  local log=$1 pattern=$2 seconds=$3 pid=$4
  for _ in $(seq 1 $((seconds * 5))); do
    grep -m1 -E "$pattern" "$log" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || fail "$log" "the simulated WorkOS API stopped"
    sleep 0.2
  done
  fail "$log" "no line '$pattern' within $seconds s"
}

# The silo's operator view of a directory (GET /admin/directories/{id}/sync), as indented JSON; empty until it knows it.
sync_status() {
  curl -sf ${Operations__Token:+-H "Authorization: Bearer $Operations__Token"} "$SILO_URL/admin/directories/$1/sync" || true
}
token_header=${Operations__Token:+' -H "Authorization: Bearer $Operations__Token"'}
# A field of the last status read (the first with that name; the names used here occur once in it).
number() { grep -o "\"$1\": [0-9]*" <<<"$status" | head -1 | grep -o '[0-9]*$' || echo "?"; }
text() { grep -o "\"$1\": \"[^\"]*\"" <<<"$status" | head -1 | cut -d'"' -f4 || echo "?"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
seconds_since() { local ms=$(($(now_ms) - $1)); echo "$((ms / 1000)).$((ms % 1000 / 100))"; }

if [ -z "${ConnectionStrings__Postgres:-}" ]; then
  echo "Starting a private PostgreSQL on 127.0.0.1:$PG_PORT (data in $STATE/postgres)..."
  private_pg="$PWD/$STATE/postgres"
  pg_private_start "$private_pg" "$PG_PORT"
  pg_create_database "$PG_PORT" directorysync
  export ConnectionStrings__Postgres="Host=127.0.0.1;Port=$PG_PORT;Username=postgres;Database=directorysync;Maximum Pool Size=20"
fi
if [ -z "${WORKOS_WEBHOOK_SECRET:-}" ]; then
  [ -f "$STATE/dev-secret" ] || head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$STATE/dev-secret"
  WORKOS_WEBHOOK_SECRET=$(cat "$STATE/dev-secret")
  export WORKOS_WEBHOOK_SECRET
fi

echo "Building (Release)..."
dotnet build DirectorySync.sln -c Release -v quiet -nologo >"$STATE/build.log" 2>&1 || { tail -30 "$STATE/build.log"; exit 1; }

if [ -n "$demo_api" ]; then
  # A new directory at every start: the mirror kept in .local holds those of earlier starts, and this one must be new to it.
  api_seed=$(($(date +%s) % 100000 + 100))
  echo "Playing WorkOS's API at $WORKOS_API_URL: a directory of $API_USERS people connected long ago, whose events"
  echo "expired (only the REST lists show it); in ${API_CHANGE_AFTER_S} s a user changes there and no webhook says so..."
  dotnet "$SIMULATOR" serve-api --api-key "$API_KEY" --listen "$WORKOS_API_URL" --seed "$api_seed" \
    --users "$API_USERS" --groups 10 --memberships-per-user 3 --churn 100 --expired 1 \
    --api-only-change-after-s "$API_CHANGE_AFTER_S" >"$STATE/workos-api.log" 2>&1 &
  api_pid=$!
  pids+=("$api_pid")
  wait_for_line "$STATE/workos-api.log" '^api-url ' 60 "$api_pid" >/dev/null
  silo_env=(WorkOS__BaseUrl="$WORKOS_API_URL" WorkOS__ApiKey="$API_KEY" WorkOS__EventsPollInterval=00:00:05)
fi

echo "Starting a silo (schema applied at start)..."
silo_started_ms=$(now_ms)
env "${silo_env[@]}" dotnet src/Silo/bin/Release/net10.0/DirectorySync.Silo.dll --urls "$SILO_URL" >"$STATE/silo.log" 2>&1 &
pids+=($!)
wait_ready "$SILO_URL" silo "$STATE/silo.log"

echo "Starting the gateway..."
dotnet src/Gateway/bin/Release/net10.0/DirectorySync.Gateway.dll --urls "$GATEWAY_URL" >"$STATE/gateway.log" 2>&1 &
pids+=($!)
wait_ready "$GATEWAY_URL" gateway "$STATE/gateway.log"

directory=""
if [ -n "$demo_api" ]; then
  directory=$(curl -sf -H "Authorization: Bearer $API_KEY" "$WORKOS_API_URL/directories" \
    | grep -o '"id":"directory_[0-9A-Za-z]*"' | head -1 | cut -d'"' -f4)
  [ -n "$directory" ] || fail "$STATE/workos-api.log" "the simulated WorkOS API lists no directory"
  echo "Backfill: at start the silo listed WorkOS's directories and found $directory missing from the mirror..."
  status=""
  for _ in $(seq 1 600); do
    status=$(sync_status "$directory")
    grep -q '"in_progress": null' <<<"$status" && grep -Eq '"status": "(completed|held|failed)"' <<<"$status" && break
    status=""
    sleep 0.2
  done
  [ -n "$status" ] || fail "$STATE/silo.log" "the backfill of $directory did not finish within 2 minutes"
  echo "  run $(number run_id) ($(text kind)) $(text status) $(seconds_since "$silo_started_ms") s after the silo started:" \
    "listed $(number users_listed) users, $(number groups_listed) groups, $(number memberships_listed) memberships;" \
    "wrote $(number repaired) users and groups and $(number memberships_added) memberships; deleted $(number deleted)," \
    "held back $(number held_back)"
  echo "  mirror: $(number users) users, $(number groups) groups, $(number memberships) memberships" \
    "(GET $SILO_URL/admin/directories/$directory/sync shows the whole report)"

  echo "Events API: waiting for the change WorkOS makes without a webhook (the silo polls it every 5 s)..."
  # On a slow machine the change may come before the backfill ends: how long it then took is not known here.
  early=""
  grep -q '^api-only ' "$STATE/workos-api.log" && early=1
  change=$(wait_for_line "$STATE/workos-api.log" '^api-only ' $((API_CHANGE_AFTER_S + 120)) "$api_pid")
  changed_ms=$(now_ms)
  event=$(grep -o 'event_[0-9A-Z]*' <<<"$change" | head -1)
  user=$(grep -o 'directory_user_[0-9A-Z]*' <<<"$change" | head -1)
  echo "  WorkOS: ${change#api-only }"
  [ -n "$event" ] || fail "$STATE/workos-api.log" "the simulated WorkOS API made no change"
  applied=""
  for _ in $(seq 1 300); do
    status=$(sync_status "$directory")
    # Applied, and the cursor saved (it moves once the page's events are durable, so just after).
    grep -q "\"event_id\": \"$event\"" <<<"$status" && grep -q '"cursor": "' <<<"$status" && { applied=1; break; }
    sleep 0.2
  done
  [ -n "$applied" ] || fail "$STATE/silo.log" "$event did not reach the mirror within a minute"
  when="$(seconds_since "$changed_ms") s later"
  [ -n "$early" ] && when="(the change came before the backfill ended)"
  echo "  mirror: $event applied $when, read from GET /events; the cursor is at $(text cursor)"
  if [ -n "$private_pg" ]; then
    psql -X -P pager=off -h 127.0.0.1 -p "$PG_PORT" -U postgres -d directorysync -tAc "
      SELECT format('  directory_users: %s first_name = %L, written by %s; event_log: %s', u.workos_user_id, u.first_name,
                    u.version_event_id, coalesce(l.outcome, 'no row'))
      FROM directory_users u LEFT JOIN event_log l ON l.event_id = u.version_event_id
      WHERE u.workos_user_id = '$user'" || echo "  (directory_users could not be read; see above)"
  fi
fi

if [ -n "$demo_webhooks" ]; then
  echo "Playing WorkOS's webhooks: a directory of 1,000 people arrives, shuffled, with duplicates..."
  dotnet "$SIMULATOR" simulate \
    --url "$GATEWAY_URL/webhooks/workos" --secret "$WORKOS_WEBHOOK_SECRET" \
    --users 1000 --groups 50 --memberships-per-user 3 --churn 500 --order shuffled --duplicates 0.05 \
    --verify "$ConnectionStrings__Postgres" || echo "(the simulation reported a problem; see above)"
fi

cat <<INFO

DirectorySync is running.
  Webhook URL:   $GATEWAY_URL/webhooks/workos   (signing secret: $WORKOS_WEBHOOK_SECRET)
  Dashboard:     $SILO_URL/dashboard
  Health:        $GATEWAY_URL/health/ready, $SILO_URL/health/ready
  Postgres:      $ConnectionStrings__Postgres
  Logs:          $STATE/silo.log, $STATE/gateway.log${demo_api:+, $STATE/workos-api.log}
INFO
if [ -n "$demo_api" ]; then
  cat <<INFO
  WorkOS API:    $WORKOS_API_URL (simulated; key $API_KEY)
  Sync status:   curl$token_header $SILO_URL/admin/directories/$directory/sync
  Reconcile:     curl$token_header -X POST $SILO_URL/admin/directories/$directory/reconcile
INFO
fi
echo "Press Ctrl-C to stop."
wait
