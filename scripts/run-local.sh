#!/usr/bin/env bash
# `make run`: the main job on this host. phoenix-server on SQLite (./data),
# and one phoenix-agent supervising phoenix-otelcol, enrolled with the
# server's token. Ctrl-C stops everything; the agent stops its collector.
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${PHOENIX_DATA:-data}
OPAMP_ADDR=${PHOENIX_OPAMP_ADDR:-127.0.0.1:4320}
HTTP_ADDR=${PHOENIX_HTTP_ADDR:-127.0.0.1:8080}
mkdir -p "$DATA"

pids=()
cleanup() {
	trap - INT TERM EXIT
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

bin/phoenix-server --data-dir "$DATA" --opamp-addr "$OPAMP_ADDR" --http-addr "$HTTP_ADDR" &
pids+=($!)
for _ in $(seq 100); do
	[ -s "$DATA/enrollment-token" ] && [ -s "$DATA/api-token" ] && break
	sleep 0.1
done
if [ ! -s "$DATA/enrollment-token" ]; then
	echo "make run: phoenix-server did not write $DATA/enrollment-token" >&2
	exit 1
fi

bin/phoenix-agent --server "ws://$OPAMP_ADDR/v1/opamp" --token-file "$DATA/enrollment-token" \
	--data-dir "$DATA/agent" --collector bin/phoenix-otelcol --label env=local &
pids+=($!)

cat <<MSG

Phoenix is running: server http://$HTTP_ADDR (OpAMP ws://$OPAMP_ADDR/v1/opamp), one agent on $(hostname).
The CLI reads its token from $DATA/api-token. In another terminal, from this directory$( [ "$DATA" = data ] || printf ' (after export PHOENIX_DATA_DIR=%s)' "$DATA"):

  bin/phoenix agent list
  bin/phoenix pipeline deploy process-topk-v1 --name topk --host $(hostname) --param k=10 --watch
  bin/phoenix pipeline get-active-config --target-host $(hostname)
  bin/phoenix loadsim start --mode process --profile realistic --target-host $(hostname) --duration 5m

Ctrl-C stops the server, the agent and its collector.
MSG
wait -n "${pids[@]}"
