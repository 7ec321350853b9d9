#!/usr/bin/env bash
# Switch benchmark: for each load balancer that carries traffic here
# (HAProxy's Runtime API in map and server mode, nginx reload, Caddy's
# admin API), 20 switches blue→green→blue… under steady load from a Go
# net/http load generator (16 clients; backends answer their color after
# 50 ms, so requests are in flight at every switch). Prints, per provider:
# failed requests (transport errors), non-2xx answers, stale answers (old
# color after Switch returned), and p50/p99 of the switch call, of the time
# to the first answer from the new color and to the last from the old one.
# Usage: bench/switch/run.sh [COUNT]   (runs of 20 switches each; default 1)
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${1:-1}
for bin in haproxy nginx caddy; do
	command -v "$bin" >/dev/null || { echo "$bin is not installed (apt-get install -y haproxy nginx caddy)" >&2; exit 2; }
done
go test -run '^$' -bench BenchmarkSwitchUnderLoad -benchtime "${COUNT}x" \
	./switcher/haproxy ./switcher/nginx ./switcher/caddy | grep -E '^(Benchmark|ok|FAIL|---)' |
	sed -E 's/[[:space:]]+/ /g; s/ ([0-9.]+) ([a-z0-9-]+(\/op)?)/\n    \2 \1/g'
