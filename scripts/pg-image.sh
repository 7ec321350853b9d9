#!/usr/bin/env bash
# pg-image.sh builds a local PostgreSQL 15 Docker image from Debian packages,
# for the testcontainers path of internal/pgtest when no image registry is
# reachable. The image behaves like the official postgres image as far as
# testcontainers' postgres module cares: POSTGRES_USER, POSTGRES_PASSWORD and
# POSTGRES_DB, /docker-entrypoint-initdb.d, port 5432 on all addresses, a
# "postgres -c ..." command, and "database system is ready to accept
# connections" logged twice on first start (init server, then the real one).
#
# Usage: scripts/pg-image.sh [--force]
#
# Environment:
#   BGMIGRATE_TEST_PG_IMAGE  image name (default bgmigrate/postgres:15)
#   PG_IMAGE_MIRROR          Debian mirror (default: the host's apt sources)
#   PG_IMAGE_SUITE           Debian suite (default bookworm)
#   PG_IMAGE_CACHE           .deb cache kept between builds
#                            (default ${XDG_CACHE_HOME:-$HOME/.cache}/bgmigrate/debootstrap)
#
# Idempotent: an image with the same name and revision is left alone.
set -euo pipefail

image=${BGMIGRATE_TEST_PG_IMAGE:-bgmigrate/postgres:15}
suite=${PG_IMAGE_SUITE:-bookworm}
pgver=15
# Bump when the image's contents or entrypoint change: older images are rebuilt.
rev=2
force=0
case "${1:-}" in
--force) force=1 ;;
"") ;;
*) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

log() { echo "pg-image: $*" >&2; }

command -v docker >/dev/null || { log "docker not found"; exit 1; }
docker info >/dev/null 2>&1 || { log "no Docker engine answers (start dockerd first)"; exit 1; }

have=$(docker image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" 2>/dev/null |
	sed -n 's/^BGMIGRATE_PG_IMAGE_REV=//p' || true)
if [ "$force" = 0 ] && [ "$have" = "$rev" ]; then
	log "$image (rev $rev) already present, skipping"
	exit 0
fi

[ "$(id -u)" = 0 ] || { log "debootstrap needs root"; exit 1; }
command -v debootstrap >/dev/null || { log "debootstrap not found: apt-get install -y debootstrap"; exit 1; }

# The mirror: the host's own apt source for the main suite (deb822 first, then
# one-line sources), so the build uses whatever mirror this machine reaches.
find_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" 'BEGIN { RS = ""; FS = "\n" }
			{
				uri = ""; ok = 0; enabled = 1
				for (i = 1; i <= NF; i++) {
					if ($i ~ /^URIs:/) { split($i, a, /[ \t]+/); uri = a[2] }
					if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
					if ($i ~ /^Enabled:[ \t]*no/) enabled = 0
				}
				if (ok && enabled && uri != "") { print uri; exit }
			}' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v suite="$suite" '$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) == suite) { print $i; exit }
			}' "$f"
	done
}
mirror=${PG_IMAGE_MIRROR:-$(find_mirror | head -n1)}
mirror=${mirror:-http://deb.debian.org/debian}

cache=${PG_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/bgmigrate/debootstrap}
mkdir -p "$cache"
work=$(mktemp -d "${TMPDIR:-/tmp}/bgmigrate-pg-image.XXXXXX")
root=$work/root
cleanup() {
	# debootstrap may leave /proc or /sys mounted when it fails half-way.
	for m in proc sys dev/pts dev; do
		mountpoint -q "$root/$m" 2>/dev/null && umount -l "$root/$m" || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

start=$(date +%s)
log "debootstrap $suite from $mirror (cache $cache)"
# Keep Debian's postinst from starting services, and dpkg from syncing each
# file it unpacks (a throwaway root needs no crash safety).
mkdir -p "$root/usr/sbin" "$root/etc/dpkg/dpkg.cfg.d"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
echo force-unsafe-io >"$root/etc/dpkg/dpkg.cfg.d/bgmigrate-unsafe-io"
if ! debootstrap --variant=minbase --include="postgresql-$pgver" --cache-dir="$cache" \
	"$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
	tail -n 30 "$work/debootstrap.log" >&2
	[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
	log "debootstrap failed"
	exit 1
fi
log "debootstrap done in $(($(date +%s) - start))s"

# Drop the packaged cluster and things a test image never needs.
rm -rf "$root/var/lib/postgresql/$pgver" "$root/etc/postgresql/$pgver" \
	"$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" \
	"$root/var/cache/apt/archives/"*.deb "$root/var/lib/apt/lists/"* \
	"$root/usr/sbin/policy-rc.d" "$root/etc/dpkg/dpkg.cfg.d/bgmigrate-unsafe-io"
find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name 'locale.alias' -exec rm -rf {} + 2>/dev/null || true
install -d -o 0 -g 0 "$root/docker-entrypoint-initdb.d"

cat >"$root/usr/local/bin/docker-entrypoint.sh" <<'ENTRYPOINT'
#!/bin/sh
# A small stand-in for the official postgres image's entrypoint.
set -eu

PGDATA=${PGDATA:-/var/lib/postgresql/data}
POSTGRES_USER=${POSTGRES_USER:-postgres}
POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
export PGDATA

# "docker run IMAGE -c fsync=off" means "postgres -c fsync=off".
case "${1:-postgres}" in
-*) set -- postgres "$@" ;;
esac
[ $# -gt 0 ] || set -- postgres

if [ "$1" != postgres ]; then
	exec "$@"
fi

if [ "$(id -u)" = 0 ]; then
	mkdir -p "$PGDATA" /var/run/postgresql
	chown -R postgres:postgres "$PGDATA" /var/run/postgresql
	chmod 700 "$PGDATA"
	chmod 2775 /var/run/postgresql
	exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
	pwfile=$(mktemp)
	printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" >"$pwfile"
	initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust \
		--encoding=UTF8 --locale=C.UTF-8 --no-sync ${POSTGRES_INITDB_ARGS:-} -D "$PGDATA" >/dev/null
	rm -f "$pwfile"
	if [ -n "$POSTGRES_PASSWORD" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
		method=${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}
	else
		method=trust
	fi
	printf 'host all all all %s\n' "$method" >>"$PGDATA/pg_hba.conf"
	printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"

	# A first server on the unix socket only, as the official image does: it
	# creates the database and runs the init scripts, then stops.
	pg_ctl -D "$PGDATA" -w -o "-c listen_addresses='' -p 5432" start
	psql="psql -v ON_ERROR_STOP=1 --no-psqlrc --username=$POSTGRES_USER --host=/var/run/postgresql"
	if [ "$POSTGRES_DB" != postgres ]; then
		$psql --dbname=postgres -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
	fi
	for f in /docker-entrypoint-initdb.d/*; do
		case "$f" in
		*.sh) echo "running $f"; . "$f" ;;
		*.sql) echo "running $f"; $psql --dbname="$POSTGRES_DB" -f "$f" >/dev/null ;;
		*.sql.gz) echo "running $f"; gzip -dc "$f" | $psql --dbname="$POSTGRES_DB" >/dev/null ;;
		esac
	done
	pg_ctl -D "$PGDATA" -m fast -w stop
	echo
	echo 'PostgreSQL init process complete; ready for start up.'
	echo
fi

exec "$@"
ENTRYPOINT
chmod 755 "$root/usr/local/bin/docker-entrypoint.sh"

log "importing $image"
tar --numeric-owner -C "$root" -c . | docker import \
	--change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
	--change 'CMD ["postgres"]' \
	--change "ENV PATH=/usr/lib/postgresql/$pgver/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
	--change 'ENV LANG=C.UTF-8 PGDATA=/var/lib/postgresql/data' \
	--change "ENV BGMIGRATE_PG_IMAGE_REV=$rev" \
	--change 'EXPOSE 5432' \
	- "$image" >/dev/null
log "built $image in $(($(date +%s) - start))s ($(docker image inspect --format '{{.Size}}' "$image" | awk '{ printf "%.0f MB", $1 / 1e6 }'))"
