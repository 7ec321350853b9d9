#!/usr/bin/env bash
# Migration benchmark: what a writer at 500 writes/s sees while the same
# schema changes run naively and through bgmigrate's runner, on a
# 1,000,000-row table, with and without a long-running reader; then
# backfill throughput of bgmigrate next to pgroll.
#
# Builds pgroll (pinned, in a scratch dir outside the repo, never committed)
# and the bench, then runs it. Flags go to the program (see -h), e.g.
#   bench/migrate/run.sh -sections quiet,reader -lock-timeout 500ms
# The server is BGMIGRATE_BENCH_DATABASE_URL when set, else a throwaway
# cluster from the local PostgreSQL binaries (internal/pgtest).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${TMPDIR:-/tmp}/bgmigrate-bench-migrate
mkdir -p "$WORK"

# build_pgroll VERSION: prints the binary's path, or fails with the reason
# on stderr.
build_pgroll() {
	local v=$1 dir=${TMPDIR:-/tmp}/pgroll-$1
	if [ -x "$dir/pgroll" ]; then
		echo "$dir/pgroll"
		return
	fi
	mkdir -p "$dir"
	(
		cd "$dir"
		[ -f go.mod ] || go mod init x >/dev/null 2>&1
		GONOSUMDB=github.com/xataio/pgroll GOFLAGS=-mod=mod go get "github.com/xataio/pgroll@$v" &&
			GONOSUMDB=github.com/xataio/pgroll go build -o pgroll github.com/xataio/pgroll
	) >"$dir/build.log" 2>&1 || {
		echo "pgroll $v did not build: $(tail -n 3 "$dir/build.log" | tr '\n' ' ')" >&2
		return 1
	}
	echo "$dir/pgroll"
}

if [ -z "${BGMIGRATE_BENCH_PGROLL:-}" ]; then
	# v0.16.2 first; peers.md says v0.14.1 builds when it is refused.
	if p=$(build_pgroll v0.16.2) || p=$(build_pgroll v0.14.1); then
		export BGMIGRATE_BENCH_PGROLL=$p
	else
		echo "pgroll could not be built (see above): its backfill is left out" >&2
	fi
fi

go build -o "$WORK/migrate" ./bench/migrate
exec "$WORK/migrate" "$@"
