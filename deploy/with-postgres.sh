#!/usr/bin/env bash
# Run a command against a throw-away PostgreSQL server: installs Debian's postgresql when missing,
# starts it on a Unix socket in a temporary folder, exports DATABASE_URL, and stops it afterwards.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get update -q && $SUDO apt-get install -y -q postgresql
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
tmp=$(mktemp -d /tmp/hongniang-pg.XXXXXX)
chmod 755 "$tmp"
run_as=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: use the postgres system user (created by the package).
  chown postgres "$tmp"
  run_as=(runuser -u postgres --)
fi
cleanup() {
  "${run_as[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
"${run_as[@]}" "$PGBIN/initdb" -D "$tmp/data" -U hongniang --auth=trust -E UTF8 >/dev/null
"${run_as[@]}" "$PGBIN/pg_ctl" -D "$tmp/data" -l "$tmp/log" -w \
  -o "-k $tmp -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
export DATABASE_URL="postgres://hongniang@/hongniang?host=$tmp"
"${run_as[@]}" "$PGBIN/createdb" -h "$tmp" -U hongniang hongniang
echo "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on $tmp"
"$@"
