#!/usr/bin/env bash
# `make run`: the main job on this host. phoenix-server on SQLite (./data),
# and one phoenix-agent supervising phoenix-otelcol, enrolled with the
# server's token. It behaves like a small fleet: when the agent dies (even
# kill -9) the server stays up and the agent is restarted after
# PHOENIX_AGENT_RESTART_DELAY seconds (default 2); when the server dies the
# script says so and stops the agent. Ctrl-C stops everything; the agent
# stops its collector.
set -uo pipefail
cd "$(dirname "$0")/.."

DATA=${PHOENIX_DATA:-data}
BIN=${PHOENIX_BIN:-bin}
OTELCOL=${PHOENIX_OTELCOL_BIN:-$BIN/phoenix-otelcol}
OPAMP_ADDR=${PHOENIX_OPAMP_ADDR:-127.0.0.1:4320}
HTTP_ADDR=${PHOENIX_HTTP_ADDR:-127.0.0.1:8080}
RESTART_DELAY=${PHOENIX_AGENT_RESTART_DELAY:-2}
mkdir -p "$DATA"

server_pid=""
loop_pid=""
cleanup() {
	trap - INT TERM EXIT
	[ -n "$loop_pid" ] && kill -TERM "$loop_pid" 2>/dev/null
	[ -n "$loop_pid" ] && wait "$loop_pid" 2>/dev/null
	[ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null
	[ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null
	return 0
}
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
trap cleanup EXIT

"$BIN/phoenix-server" --data-dir "$DATA" --opamp-addr "$OPAMP_ADDR" --http-addr "$HTTP_ADDR" &
server_pid=$!
for _ in $(seq 100); do
	[ -s "$DATA/enrollment-token" ] && [ -s "$DATA/api-token" ] && break
	sleep 0.1
done
if [ ! -s "$DATA/enrollment-token" ]; then
	echo "make run: phoenix-server did not write $DATA/enrollment-token" >&2
	exit 1
fi

# The agent's supervisor: runs phoenix-agent, and starts it again when it
# exits for any reason, until it is told to stop (TERM from cleanup).
agent_loop() {
	local apid="" stopping=""
	trap 'stopping=1; [ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null' TERM INT
	while [ -z "$stopping" ]; do
		"$BIN/phoenix-agent" --server "ws://$OPAMP_ADDR/v1/opamp" --token-file "$DATA/enrollment-token" \
			--data-dir "$DATA/agent" --collector "$OTELCOL" --label env=local &
		apid=$!
		echo "make run: phoenix-agent started (pid $apid)"
		wait "$apid"
		rc=$?
		while kill -0 "$apid" 2>/dev/null; do wait "$apid"; rc=$?; done # a trap interrupted wait
		apid=""
		[ -n "$stopping" ] && break
		echo "make run: phoenix-agent exited (status $rc); phoenix-server keeps running; restarting the agent in ${RESTART_DELAY}s (its log is above, the collector's in $DATA/agent/logs/collector.log)" >&2
		sleep "$RESTART_DELAY" &
		wait $!
	done
}
agent_loop &
loop_pid=$!

cat <<MSG

Phoenix is running: server http://$HTTP_ADDR (OpAMP ws://$OPAMP_ADDR/v1/opamp), one agent on $(hostname).
Web console: http://$HTTP_ADDR/ (sign in with the token in $DATA/api-token).
The CLI reads its token from $DATA/api-token. In another terminal, from this directory$( [ "$DATA" = data ] || printf ' (after export PHOENIX_DATA_DIR=%s)' "$DATA"):

  bin/phoenix agent list
  bin/phoenix pipeline deploy process-topk-v1 --name topk --host $(hostname) --param k=10 --watch
  bin/phoenix pipeline get-active-config --target-host $(hostname)
  bin/phoenix loadsim start --mode process --profile realistic --target-host $(hostname) --duration 5m

If the agent dies it is restarted; the server keeps running. Ctrl-C stops the server, the agent and its collector.
MSG

wait "$server_pid"
rc=$?
# Ctrl-C lands in the INT trap; here the server itself ended.
echo "make run: phoenix-server exited (status $rc); stopping the agent. Start everything again with: make run" >&2
server_pid=""
exit 1
