#!/usr/bin/env bash
# Two-color benchmark of bgmigrate split: for each breaking statement kind,
# an old and a new color of an application read and write the same rows
# while the change is applied three ways (split, unsplit, pgroll), and the
# figures come side by side from one run.
#
# Builds pgroll v0.14.1 (pinned, in $TMPDIR/pgroll-v0.14.1, outside the
# repo, never committed; the folder bench/migrate/run.sh uses too) and the
# bench, then runs it. Flags go to the program (see -h), e.g.
#   bench/split/run.sh -kinds rename_column,change_type -window 5s
# The server is BGMIGRATE_BENCH_DATABASE_URL when set, else a throwaway
# cluster from the local PostgreSQL binaries (internal/pgtest).
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${TMPDIR:-/tmp}/bgmigrate-bench-split
mkdir -p "$WORK"

if [ -z "${BGMIGRATE_BENCH_PGROLL:-}" ]; then
	dir=${TMPDIR:-/tmp}/pgroll-v0.14.1
	if [ ! -x "$dir/pgroll" ]; then
		mkdir -p "$dir"
		(
			cd "$dir"
			[ -f go.mod ] || go mod init x >/dev/null 2>&1
			GONOSUMDB=github.com/xataio/pgroll GOFLAGS=-mod=mod go get github.com/xataio/pgroll@v0.14.1 &&
				GONOSUMDB=github.com/xataio/pgroll go build -o pgroll github.com/xataio/pgroll
		) >"$dir/build.log" 2>&1 || echo "pgroll v0.14.1 did not build ($(tail -n 2 "$dir/build.log" | tr '\n' ' ')): its rows are left out" >&2
	fi
	if [ -x "$dir/pgroll" ]; then
		export BGMIGRATE_BENCH_PGROLL=$dir/pgroll
	fi
fi

go build -o "$WORK/split" ./bench/split
exec "$WORK/split" "$@"
