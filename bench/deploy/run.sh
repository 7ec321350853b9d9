#!/bin/sh
# Runs the deploy-cycle benchmark N times (default 3); see README.md.
set -eu
cd "$(dirname "$0")/../.."
exec go test -run '^$' -bench BenchmarkDeployCycle -benchtime 1x -count "${1:-3}" ./bench/deploy
