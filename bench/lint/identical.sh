#!/usr/bin/env bash
# Byte-identical check: lints the whole shared corpus (and the generated
# 10,000-statement file) in every output format with the binary built from
# REV and with the one built from the working tree, and compares the
# outputs with cmp. Usage: bench/lint/identical.sh [REV] (default HEAD).
# EXTRA="--cache DIR" adds flags to the new binary's runs only.
set -euo pipefail
cd "$(dirname "$0")/../.."
REV=${1:-HEAD}
CORPUS=${CORPUS:-../shared/corpus}
WORK=${TMPDIR:-/tmp}/bgmigrate-identical
mkdir -p "$WORK"
read -r -a EXTRA <<<"${EXTRA:-}"

sha=$(git rev-parse --short "$REV")
if [ ! -x "$WORK/bgmigrate-$sha" ]; then
	rm -rf "$WORK/src-$sha" && mkdir -p "$WORK/src-$sha"
	git archive "$sha" | tar -x -C "$WORK/src-$sha"
	(cd "$WORK/src-$sha" && go build -o "$WORK/bgmigrate-$sha" ./cmd/bgmigrate)
	rm -rf "$WORK/src-$sha"
fi
go build -o "$WORK/bgmigrate-new" ./cmd/bgmigrate
go run bench/lint/gen10k.go > "$WORK/10k.sql"
find "$CORPUS" -name '*.sql' | sort > "$WORK/files.txt"
mapfile -t FILES < "$WORK/files.txt"

fail=0
# check NAME ARGS...: runs both binaries with ARGS and compares stdout,
# the exit code, and any --*-file output.
check() {
	local name=$1; shift
	local rc_old=0 rc_new=0
	(cd "$WORK" && "./bgmigrate-$sha" "$@" > "old.$name" 2> "old.$name.err") || rc_old=$?
	(cd "$WORK" && ./bgmigrate-new "$@" "${EXTRA[@]}" > "new.$name" 2> "new.$name.err") || rc_new=$?
	if [ "$rc_old" != "$rc_new" ]; then
		echo "DIFFER $name: exit $rc_old vs $rc_new"; fail=1; return
	fi
	if cmp -s "$WORK/old.$name" "$WORK/new.$name" && cmp -s "$WORK/old.$name.err" "$WORK/new.$name.err"; then
		echo "same   $name ($(wc -c < "$WORK/new.$name") bytes, exit $rc_new)"
	else
		echo "DIFFER $name"; cmp "$WORK/old.$name" "$WORK/new.$name" || true; fail=1
	fi
}

# Absolute paths: the binaries run in $WORK.
ABS=()
for f in "${FILES[@]}"; do ABS+=("$(realpath "$f")"); done
for fmt in text json sarif github gitlab markdown; do
	check "corpus.$fmt" lint --format "$fmt" --fail-on none "${ABS[@]}"
	check "10k.$fmt" lint --format "$fmt" 10k.sql
done
check "corpus.style.json" lint --format json --style --fail-on info "${ABS[@]}"
check "corpus.quiet.text" lint --format text -q "${ABS[@]}"
check "corpus.dirs.json" lint --format json "$(realpath "$CORPUS")"
[ $fail = 0 ] && echo "identical: every output the same as $sha's" || { echo "identical: outputs differ from $sha's"; exit 1; }
