#!/usr/bin/env bash
# The shell steps of action.yml. Inputs arrive through the environment
# (INPUT_*), never through expressions pasted into the script.
#
#   action.sh build   build bgmigrate from the action's checkout into $RUNNER_TEMP
#   action.sh lint    lint the migrations changed since the pull request's base
set -euo pipefail

: "${RUNNER_TEMP:=${TMPDIR:-/tmp}}"
BIN=${BGMIGRATE_BIN:-$RUNNER_TEMP/bgmigrate}

build() {
	local src=${ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
	(cd "$src" && go build -trimpath -o "$BIN" ./cmd/bgmigrate)
	"$BIN" --help >/dev/null
}

# base_ref prints the commit the release starts from: the base input, else
# the pull request's base commit from the event, else nothing.
base_ref() {
	if [ -n "${INPUT_BASE:-}" ]; then
		printf '%s\n' "$INPUT_BASE"
		return
	fi
	if [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ]; then
		"$BIN" github-event-base "$GITHUB_EVENT_PATH"
	fi
}

lint() {
	local args=(lint --format "${INPUT_FORMAT:-github}")
	local sarif="$RUNNER_TEMP/bgmigrate.sarif"
	args+=(--sarif-file "$sarif" --github-output "${GITHUB_OUTPUT:-/dev/null}")
	[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
	[ -n "${INPUT_PG_VERSION:-}" ] && args+=(--pg-version "$INPUT_PG_VERSION")
	[ -n "${INPUT_FAIL_ON:-}" ] && args+=(--fail-on "$INPUT_FAIL_ON")
	local base
	base=$(base_ref)
	if [ -n "$base" ]; then
		if ! git cat-file -e "$base^{commit}" 2>/dev/null; then
			git fetch --no-tags --quiet origin "$base" || true
		fi
		args+=(--changed-since "$base")
	fi
	local paths=()
	if [ -n "${INPUT_PATHS:-}" ]; then
		mapfile -t paths < <(printf '%s\n' "$INPUT_PATHS" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d')
	fi
	local code=0
	"$BIN" "${args[@]}" -- "${paths[@]}" || code=$?
	exit "$code"
}

case "${1:-}" in
build) build ;;
lint) lint ;;
*) echo "usage: $0 build|lint" >&2; exit 2 ;;
esac
