#!/usr/bin/env bash
# One command to see DirectorySync work on this machine: a private Postgres (unless ConnectionStrings__Postgres is
# set), the schema, one silo, the gateway, and a simulated WorkOS directory arriving. Stays up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-postgres.sh

STATE=.local
PG_PORT=${PG_PORT:-55432}
SILO_URL=${SILO_URL:-http://127.0.0.1:8081}
GATEWAY_URL=${GATEWAY_URL:-http://127.0.0.1:5080}
mkdir -p "$STATE"
pids=()
private_pg=""

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
trap cleanup EXIT INT TERM

wait_ready() {
  local url=$1 name=$2 log=$3
  for _ in $(seq 1 120); do
    curl -sf "$url/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "$name did not become ready; last lines of $log:" >&2; tail -30 "$log" >&2; exit 1
}

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

echo "Starting a silo (schema applied at start)..."
dotnet src/Silo/bin/Release/net10.0/DirectorySync.Silo.dll --urls "$SILO_URL" >"$STATE/silo.log" 2>&1 &
pids+=($!)
wait_ready "$SILO_URL" silo "$STATE/silo.log"

echo "Starting the gateway..."
dotnet src/Gateway/bin/Release/net10.0/DirectorySync.Gateway.dll --urls "$GATEWAY_URL" >"$STATE/gateway.log" 2>&1 &
pids+=($!)
wait_ready "$GATEWAY_URL" gateway "$STATE/gateway.log"

if [ "${DEMO:-1}" = 1 ]; then
  echo "Playing WorkOS: a directory of 1,000 people arrives, shuffled, with duplicates..."
  dotnet tools/Simulator/bin/Release/net10.0/DirectorySync.Simulator.dll simulate \
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
  Logs:          $STATE/silo.log, $STATE/gateway.log
Press Ctrl-C to stop.
INFO
wait
