#!/usr/bin/env bash
# Lint benchmark: bgmigrate and Squawk side by side in one run, on the same
# files: the whole shared corpus, one 10,000-statement migration (plain,
# and as a goose file, whose statements all run in one transaction) and
# one of about 50 MB (generated, one run each: BIG=0 leaves it out). Prints wall
# time (median of RUNS runs) and peak memory (max RSS) of each, and the
# ratio; then the corpus again with a warm --cache, and the floor under
# bgmigrate: pg_query's parser alone, to JSON (the route bgmigrate takes)
# and through pg_query_go.Parse. Usage: bench/lint/run.sh [RUNS] (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
RUNS=${1:-5}
CORPUS=${CORPUS:-../shared/corpus}
WORK=${TMPDIR:-/tmp}/bgmigrate-bench-lint
PEERS=${TMPDIR:-/tmp}/peers
mkdir -p "$WORK" "$PEERS"

SQUAWK=$PEERS/node_modules/@squawk-cli/linux-x64/bin/squawk
if [ ! -x "$SQUAWK" ]; then
	(cd "$PEERS" && npm install --silent squawk-cli@2.66.0 >/dev/null)
fi
command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install -y time)" >&2; exit 2; }

go build -o "$WORK/bgmigrate" ./cmd/bgmigrate
go run bench/lint/gen10k.go > "$WORK/10k.sql"
{ echo "-- +goose Up"; cat "$WORK/10k.sql"; } > "$WORK/10k-goose.sql"
BIG=${BIG:-1}
[ "$BIG" = 0 ] || [ -s "$WORK/50mb.sql" ] || go run bench/lint/gen10k.go 1000000 > "$WORK/50mb.sql"
find "$CORPUS" -name '*.sql' | sort > "$WORK/files.txt"
mapfile -t FILES < "$WORK/files.txt"

# pair LABEL -- CMD_A... -- CMD_B...: runs the two commands alternately
# RUNS times (so both see the same machine load) and prints
# "median_a maxrss_a median_b maxrss_b".
pair() {
	local a=() b=() cur=a
	shift 2 # the label and the first --
	for arg in "$@"; do
		if [ "$arg" = "--" ]; then cur=b; continue; fi
		if [ $cur = a ]; then a+=("$arg"); else b+=("$arg"); fi
	done
	local ta=() tb=() ma=0 mb=0 t m
	for _ in $(seq "$RUNS"); do
		/usr/bin/time -f "%e %M" -o "$WORK/time" "${a[@]}" >"$WORK/out" 2>/dev/null || true
		[ -s "$WORK/out" ] || { echo "no output: ${a[*]}" >&2; exit 1; }
		read -r t m < <(tail -n 1 "$WORK/time"); ta+=("$t"); (( m > ma )) && ma=$m
		/usr/bin/time -f "%e %M" -o "$WORK/time" "${b[@]}" >"$WORK/out" 2>/dev/null || true
		[ -s "$WORK/out" ] || { echo "no output: ${b[*]}" >&2; exit 1; }
		read -r t m < <(tail -n 1 "$WORK/time"); tb+=("$t"); (( m > mb )) && mb=$m
	done
	med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
	echo "$(med "${ta[@]}") $ma $(med "${tb[@]}") $mb"
}

# report LABEL RESULT [NAME]: NAME is what ran beside Squawk (bgmigrate).
report() {
	local label=$1 name=${3:-bgmigrate} bt bm st sm
	read -r bt bm st sm <<<"$2"
	printf '%-28s %s %6.2f s %6.1f MB | squawk %6.2f s %6.1f MB | ratio %.2f\n' \
		"$label" "$name" "$bt" "$(echo "$bm/1024" | bc -l)" "$st" "$(echo "$sm/1024" | bc -l)" "$(echo "$bt/$st" | bc -l)"
}

echo "files: ${#FILES[@]} from $CORPUS; runs: $RUNS, alternating (median); $(nproc) cores"
report "corpus (same file list)" "$(pair x -- "$WORK/bgmigrate" lint --format json --fail-on none "${FILES[@]}" -- "$SQUAWK" --reporter json "${FILES[@]}")"
report "10,000-statement file" "$(pair x -- "$WORK/bgmigrate" lint --format json --fail-on none "$WORK/10k.sql" -- "$SQUAWK" --reporter json "$WORK/10k.sql")"
report "the same, one transaction" "$(pair x -- "$WORK/bgmigrate" lint --format json --fail-on none "$WORK/10k-goose.sql" -- "$SQUAWK" --reporter json "$WORK/10k-goose.sql")"
rm -rf "$WORK/cache"
"$WORK/bgmigrate" lint --format json --fail-on none --cache "$WORK/cache" "${FILES[@]}" >/dev/null
report "corpus, warm --cache" "$(pair x -- "$WORK/bgmigrate" lint --format json --fail-on none --cache "$WORK/cache" "${FILES[@]}" -- "$SQUAWK" --reporter json "${FILES[@]}")"
if [ "$BIG" != 0 ]; then
	BIGRUNS=1
	big() { local RUNS=$BIGRUNS; pair "$@"; }
	report "$(( $(wc -c < "$WORK/50mb.sql") >> 20 )) MB file, text" "$(big x -- "$WORK/bgmigrate" lint --format text --fail-on none "$WORK/50mb.sql" -- "$SQUAWK" --reporter json "$WORK/50mb.sql")"
	report "$(( $(wc -c < "$WORK/50mb.sql") >> 20 )) MB file, json" "$(big x -- "$WORK/bgmigrate" lint --format json --fail-on none "$WORK/50mb.sql" -- "$SQUAWK" --reporter json "$WORK/50mb.sql")"
fi

# Findings on the same files, side by side (default rules of each tool).
"$WORK/bgmigrate" lint --format json --fail-on none "${FILES[@]}" > "$WORK/bgmigrate.json"
"$SQUAWK" --reporter json "${FILES[@]}" > "$WORK/squawk.json" 2>/dev/null || true
[ -s "$WORK/squawk.json" ] || { echo "squawk produced no output" >&2; exit 1; }
echo
go run bench/lint/compare.go "$WORK/bgmigrate.json" "$WORK/squawk.json"

# What pg_query_go alone costs on the same files (no conversion, rules or
# report): the floor under bgmigrate's corpus time.
echo
echo "pg_query_go alone on the corpus:"
go build -o "$WORK/floor" bench/lint/floor.go
"$WORK/floor" < "$WORK/files.txt"
# The same floors as whole processes beside Squawk (start-up included):
# what the 0.6 target leaves for everything else bgmigrate does.
report "corpus" "$(pair x -- "$WORK/floor" -once "C parser to JSON" "$WORK/files.txt" -- "$SQUAWK" --reporter json "${FILES[@]}")" "C parser to JSON alone"
report "corpus" "$(pair x -- "$WORK/floor" -once pg_query_go.Parse "$WORK/files.txt" -- "$SQUAWK" --reporter json "${FILES[@]}")" "pg_query_go.Parse alone"
