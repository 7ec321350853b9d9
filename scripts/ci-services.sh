#!/usr/bin/env bash
# ci-services.sh installs and starts what the database tests use, so that
# none of them skips:
#   - PostgreSQL's binaries (Debian's postgresql), for internal/pgtest's
#     local path: a throwaway cluster per test package;
#   - a Docker engine (Debian's docker.io), started in the background when
#     none answers, for the testcontainers path;
#   - the image bgmigrate/postgres:15, built from Debian packages by
#     scripts/pg-image.sh, since no image registry is reachable here;
#   - haproxy, nginx, caddy and etcd, which the switcher tests start on
#     their own ports with their own configs (installing them starts no
#     system daemon).
# It installs only what is missing and is safe to run again (a second run
# takes about a second). It exports nothing: pgtest finds all of this by
# itself. The environment it prints at the end is optional.
#
# Usage (as root): scripts/ci-services.sh
set -euo pipefail
cd "$(dirname "$0")/.."

log() { echo "ci-services: $*" >&2; }
start=$(date +%s)

[ "$(id -u)" = 0 ] || { log "run as root (apt-get, dockerd, debootstrap)"; exit 1; }

# One run at a time on a machine (sessions may share it).
if command -v flock >/dev/null; then
	exec 9>/tmp/bgmigrate-ci-services.lock
	flock 9
fi

# 1. Packages, only those missing.
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v dockerd >/dev/null || missing+=(docker.io)
command -v debootstrap >/dev/null || missing+=(debootstrap)
# Load balancers and the config store the switcher tests drive.
command -v haproxy >/dev/null || missing+=(haproxy)
command -v nginx >/dev/null || missing+=(nginx)
command -v caddy >/dev/null || missing+=(caddy)
command -v etcd >/dev/null || missing+=(etcd-server)
if [ ${#missing[@]} -gt 0 ]; then
	log "installing ${missing[*]}"
	apt_opts=(-o DPkg::Lock::Timeout=300 -o Dpkg::Use-Pty=0)
	apt-get "${apt_opts[@]}" update -qq
	DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y -qq "${missing[@]}" >/tmp/bgmigrate-apt.log 2>&1 ||
		{ tail -n 30 /tmp/bgmigrate-apt.log >&2; log "apt-get install failed"; exit 1; }
fi

# 2. A Docker engine, started in the background when none answers. Its
# output goes to a file and it leaves the caller's stdio alone, so a CI
# runner that waits for the end of this script's output does not wait for it.
if ! docker info >/dev/null 2>&1; then
	log "starting dockerd (log: /tmp/bgmigrate-dockerd.log)"
	# 9>&-: the daemon must not inherit (and hold forever) the lock above.
	setsid dockerd </dev/null >/tmp/bgmigrate-dockerd.log 2>&1 9>&- &
	for _ in $(seq 1 120); do
		docker info >/dev/null 2>&1 && break
		sleep 0.5
	done
	if ! docker info >/dev/null 2>&1; then
		tail -n 20 /tmp/bgmigrate-dockerd.log >&2
		log "dockerd did not answer within 60s"
		exit 1
	fi
fi

# 3. The PostgreSQL image.
scripts/pg-image.sh

log "ready in $(($(date +%s) - start))s"
cat <<'EOF'
# internal/pgtest needs no environment: it uses the local PostgreSQL binaries
# for each package's server and bgmigrate/postgres:15 for the Docker path.
# Optional settings:
#   BGMIGRATE_TEST_PG_IMAGE=bgmigrate/postgres:15   image for the Docker path
#   BGMIGRATE_TEST_PG=docker                        run every package's server in Docker
#   BGMIGRATE_TEST_DATABASE_URL=postgres://...      use an existing server instead
EOF
