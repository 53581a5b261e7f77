# Shared by start.sh and the benchmark: a private PostgreSQL from the installed binaries.
# Usage: source scripts/lib-postgres.sh; pg_private_start DIR PORT; pg_private_stop DIR
# PG_EXTRA_OPTIONS adds server options (the benchmark's --profile loads pg_stat_statements with it).

# Explicit statuses: a bare `return` inside a trap handler (start.sh's cleanup on Ctrl-C) returns the status of the
# command the signal interrupted, and pg_private_stop then skipped stopping the server.
pg_bin_dir() {
  if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  local d
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && { echo "$d"; return 0; }; done
  return 1
}

pg_ensure_installed() {
  pg_bin_dir >/dev/null && return 0
  echo "PostgreSQL binaries not found; installing the 'postgresql' package..." >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi
  pg_bin_dir >/dev/null
}

# Runs a server command as an unprivileged user when we are root (initdb refuses root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_private_start() {
  local dir=$1 port=$2 bin
  pg_ensure_installed || { echo "could not install PostgreSQL" >&2; return 1; }
  bin=$(pg_bin_dir)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    pg_as_owner "$bin/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; return 1; }
  fi
  pg_as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB -c synchronous_commit=on ${PG_EXTRA_OPTIONS:-}" \
    start >/dev/null || { tail -20 "$dir/server.log" >&2; return 1; }
}

pg_private_stop() {
  local dir=$1 bin
  bin=$(pg_bin_dir) || return 0
  [ -f "$dir/data/postmaster.pid" ] && pg_as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
  return 0
}

pg_create_database() {
  local port=$1 name=$2
  psql -h 127.0.0.1 -p "$port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 \
    || psql -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $name" >/dev/null
}
