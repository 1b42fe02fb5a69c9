#!/usr/bin/env bash
# A private PostgreSQL cluster for certdeploy, never run as root.
#
#   scripts/pg.sh start DIR [DBNAME]   create (first time) and start; prints the conninfo
#   scripts/pg.sh stop DIR             stop it
#   scripts/pg.sh conninfo DIR [DB]    print the conninfo of a running cluster
#
# The cluster lives in DIR/data, listens only on a Unix socket in DIR/sock
# and on a free loopback port kept in DIR/port. As root it runs as the
# `postgres` system user; as anyone else, as that user.
set -euo pipefail

# The server binaries: PGBIN, else the newest Debian-installed version
# (/usr/lib/postgresql/<major>/bin), else initdb on PATH.
find_pgbin() {
  local d best="" v bestv=0
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] || continue
    v=$(basename "$(dirname "$d")")
    v=${v%%.*}
    [[ $v =~ ^[0-9]+$ ]] || continue
    if [ "$v" -gt "$bestv" ]; then bestv=$v; best=$d; fi
  done
  if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then best=$(dirname "$(command -v initdb)"); fi
  echo "$best"
}
PGBIN=${PGBIN:-$(find_pgbin)}
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
  echo "pg.sh: no PostgreSQL server binaries (initdb, pg_ctl) found${PGBIN:+ in $PGBIN}; install the 'postgresql' package (make deps) or set PGBIN to their directory" >&2
  exit 1
fi
cmd=${1:?usage: pg.sh start|stop|conninfo DIR [DBNAME]}
dir=${2:?usage: pg.sh start|stop|conninfo DIR [DBNAME]}
db=${3:-certdeploy}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

port_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.close()' "$1" 2>/dev/null
}

conninfo() {
  local user=postgres
  [ "$(id -u)" -ne 0 ] && user=$(id -un)
  echo "host=$dir/sock port=$(cat "$dir/port") user=$user dbname=$1"
}

case "$cmd" in
start)
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || { echo "pg.sh: no 'postgres' system user to run PostgreSQL as (root may not); install the 'postgresql' package (make deps)" >&2; exit 1; }
    chown postgres "$dir"
    # postgres must be able to reach DIR through its parents.
    p=$dir
    while [ "$p" != "/" ]; do p=$(dirname "$p"); chmod o+x "$p" 2>/dev/null || true; done
  fi
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/initdb" -D "$dir/data" -U "$( [ "$(id -u)" -eq 0 ] && echo postgres || id -un )" \
      --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 ||
      { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  as_pg mkdir -p "$dir/sock"
  if as_pg "$PGBIN/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    conninfo "$db"
    exit 0
  fi
  port=""
  [ -f "$dir/port" ] && port=$(cat "$dir/port")
  if [ -z "$port" ] || ! port_free "$port"; then port=$(free_port); fi
  echo "$port" >"$dir/port"
  opts="-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=300"
  [ -n "${PG_FAST:-}" ] && opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -o "$opts" -l "$dir/postgres.log" -w -t 60 start >/dev/null ||
    { tail -20 "$dir/postgres.log" >&2; exit 1; }
  as_pg "$PGBIN/psql" -h "$dir/sock" -p "$port" -d postgres -qAtc \
    "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
    as_pg "$PGBIN/createdb" -h "$dir/sock" -p "$port" "$db"
  conninfo "$db"
  ;;
stop)
  if [ -f "$dir/data/PG_VERSION" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  ;;
conninfo)
  conninfo "$db"
  ;;
*)
  echo "pg.sh: unknown command $cmd" >&2
  exit 2
  ;;
esac
