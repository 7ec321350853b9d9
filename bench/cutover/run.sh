#!/usr/bin/env bash
# Cutover benchmark: through a real HAProxy (map mode, Runtime API) and a
# real nginx (reload), backends that answer in 100 ms to 1 s, clients
# ramped to 10,000 requests in flight, then 10 switches back and forth,
# each drained by watching the switcher's in-flight reader. Prints failed
# requests, non-2xx answers, the requests the old color completed after
# each switch, the drain times, then the highest open-loop rate served
# with 0 errors. Traffic stays on 127.0.0.1 and is bounded (-budget
# requests, -limit time). Without flags it runs HAProxy with HTTP/2
# clients, then nginx with HTTP/1.1 clients (see docs/cutover.md); flags
# go to the program instead, e.g.
#   bench/cutover/run.sh -lb haproxy -inflight 2000 -switches 4
set -euo pipefail
cd "$(dirname "$0")/../.."
for bin in haproxy nginx; do
	command -v "$bin" >/dev/null || { echo "$bin is not installed (apt-get install -y haproxy nginx)" >&2; exit 2; }
done
# 10,000 requests in flight hold a backend connection each: the load
# balancer, the old color's backend and the client each need more file
# descriptors than the usual soft limit of 1024. Raise it to the hard one.
hard=$(ulimit -Hn)
ulimit -n "$hard"
if [ "$hard" != unlimited ] && [ "$hard" -lt 12000 ]; then
	echo "ulimit -Hn is $hard: 10,000 requests in flight need about 11,000 (run as root, or lower -inflight)" >&2
	exit 2
fi
fds=$hard
if [ "$fds" = unlimited ] || [ "$fds" -gt 60000 ]; then fds=60000; fi
BIN=${TMPDIR:-/tmp}/bgmigrate-bench-cutover
go build -o "$BIN" ./bench/cutover
if [ $# -gt 0 ]; then
	exec "$BIN" -fds "$((fds - 500))" "$@"
fi
"$BIN" -fds "$((fds - 500))" -lb haproxy -client h2
"$BIN" -fds "$((fds - 500))" -lb nginx -client h1
