#!/usr/bin/env bash
# Start a throw-away PostgreSQL cluster for phoenix-server's tests and print
# its DSN on stdout (everything else goes to stderr). Installs nothing: it
# uses the PostgreSQL server binaries already on the machine.
#
#   dsn=$(scripts/start-postgres.sh)            # start; prints the DSN
#   export PHOENIX_TEST_POSTGRES_DSN="$dsn"
#   scripts/start-postgres.sh stop "$dsn"       # stop that cluster (or: stop <dir>)
#   scripts/start-postgres.sh stop              # stop the cluster $PHOENIX_TEST_POSTGRES_DSN names
#
# stop only ever stops a cluster this script started (it leaves a marker in
# the cluster's directory) and only the one the caller names: by its
# directory, its DSN, or $PHOENIX_TEST_POSTGRES_DSN. Several people can run
# clusters on one machine; nobody stops another's by accident.
#
# Environment: PG_BIN (server binaries; default: newest /usr/lib/postgresql/*/bin),
# PG_PORT (default: a free port), PG_DIR (default: a new temp dir),
# PG_DB (default: phoenix). The cluster runs as user postgres when started
# by root, and trusts local connections: for tests only.
set -euo pipefail

registry="${TMPDIR:-/tmp}"
marker=".phoenix-start-postgres"

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

# dir_of_dsn finds the directory of the cluster this script started on the
# DSN's port (the port is in the marker file of the directory).
dir_of_dsn() {
	local port d
	port=$(printf '%s' "$1" | sed -n 's#^postgres\(ql\)\{0,1\}://[^@]*@[^:/]*:\([0-9][0-9]*\)/.*#\2#p')
	[ -n "$port" ] || return 1
	for d in "$registry"/phoenix-pg.*; do
		if [ -f "$d/$marker" ] && [ "$(cat "$d/$marker")" = "$port" ]; then echo "$d"; return 0; fi
	done
	return 1
}

if [ "${1:-}" = "stop" ]; then
	what="${2:-${PHOENIX_TEST_POSTGRES_DSN:-}}"
	if [ -z "$what" ]; then
		log "stop which cluster? give its directory or DSN (scripts/start-postgres.sh stop \"\$dsn\"), or set PHOENIX_TEST_POSTGRES_DSN; nothing stopped"
		exit 2
	fi
	case "$what" in
	postgres://* | postgresql://*) dir=$(dir_of_dsn "$what") || { log "no cluster started by this script serves $what; nothing stopped"; exit 1; } ;;
	*) dir="$what" ;;
	esac
	if [ ! -f "$dir/$marker" ]; then
		log "$dir is not a cluster started by this script; nothing stopped"
		exit 1
	fi
	run_as "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
	rm -rf "$dir"
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
echo "$port" >"$dir/$marker"
log "running; stop with: scripts/start-postgres.sh stop $dir"
echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
