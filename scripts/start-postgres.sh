#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster for phoenix-server's tests and print
# its DSN on stdout (everything else goes to stderr). Installs nothing: it
# uses the PostgreSQL server binaries already on the machine.
#
#   dsn=$(scripts/start-postgres.sh)            # start; prints the DSN
#   export PHOENIX_TEST_POSTGRES_DSN="$dsn"
#   scripts/start-postgres.sh stop              # stop the cluster started last
#
# Environment: PG_BIN (server binaries; default: newest /usr/lib/postgresql/*/bin),
# PG_PORT (default: a free port), PG_DIR (default: a new temp dir),
# PG_DB (default: phoenix). The cluster runs as user postgres when started
# by root, and trusts local connections: for tests only.
set -euo pipefail

state_file="${TMPDIR:-/tmp}/phoenix-postgres.last"

log() { echo "start-postgres: $*" >&2; }

run_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
	if [ -z "$d" ] && command -v pg_ctl >/dev/null; then d=$(dirname "$(command -v pg_ctl)"); fi
	if [ -z "$d" ] || [ ! -x "$d/pg_ctl" ]; then
		log "no PostgreSQL server binaries found (set PG_BIN)"; exit 1
	fi
	echo "$d"
}

if [ "${1:-}" = "stop" ]; then
	dir="${2:-$(cat "$state_file" 2>/dev/null || true)}"
	if [ -z "$dir" ] || [ ! -d "$dir" ]; then log "nothing to stop"; exit 0; fi
	run_as "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	rm -rf "$dir"
	rm -f "$state_file"
	log "stopped and removed $dir"
	exit 0
fi

bin=$(pg_bin)
port="${PG_PORT:-}"
if [ -z "$port" ]; then
	# Ask the kernel for a free port.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null || echo $((20000 + RANDOM % 20000)))
fi
dir="${PG_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/phoenix-pg.XXXXXX")}"
db="${PG_DB:-phoenix}"
mkdir -p "$dir"
if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
chmod 700 "$dir"

log "initdb in $dir/data"
run_as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
log "starting on 127.0.0.1:$port"
run_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	-o "-h 127.0.0.1 -p $port -k $dir -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2 \
	|| { cat "$dir/server.log" >&2; exit 1; }
run_as "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$db" >&2
echo "$dir" >"$state_file"
log "running; stop with: scripts/start-postgres.sh stop $dir"
echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
