#!/usr/bin/env bash
# `make run`: the main job on this host. Until phoenix-server and
# phoenix-agent exist it runs phoenix-otelcol alone with the demo pipeline
# (loadgen -> Phoenix processors -> debug); Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "phoenix-otelcol with configs/demo-collector.yaml — process metrics are printed every 10 s (Ctrl-C to stop)"
exec bin/phoenix-otelcol --config configs/demo-collector.yaml
