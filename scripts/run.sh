#!/usr/bin/env bash
# `make run`: a local PostgreSQL (var/pg, kept between runs), the mock CA
# and certdeployd on https://127.0.0.1:8443. Ctrl-C stops everything.
#
#   CERTDEPLOY_DATABASE_URL   use that database instead of var/pg
#   CERTDEPLOY_LISTEN         the server's host:port (default 127.0.0.1:8443)
#   CERTDEPLOY_RUN_DIR        instead of var/ (the README test runs a second copy)
#   CERTDEPLOY_MOCKCA_LISTEN  the mock CA's host:port (default 127.0.0.1:8444)
#   CERTDEPLOY_BUILD          the binaries' directory (default build; tests use build/sanitize)
#
# Either port already taken by another program stops the run before anything
# starts, with a line saying which setting picks another one.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR=${CERTDEPLOY_RUN_DIR:-$ROOT/var}
LISTEN=${CERTDEPLOY_LISTEN:-127.0.0.1:8443}
MOCKCA_LISTEN=${CERTDEPLOY_MOCKCA_LISTEN:-127.0.0.1:8444}
BUILD=${CERTDEPLOY_BUILD:-build}

die() {
  echo "make run: $*" >&2
  exit 1
}

# 0 when something accepts TCP connections on host:port.
port_taken() {
  local host=${1%:*} port=${1##*:}
  host=${host#[}
  host=${host%]}
  (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null
}

# "pid 123 (nginx)" when ss can say who listens on the port, else nothing.
port_owner() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :${1##*:}" 2>/dev/null | grep -o 'users:(("[^"]*",pid=[0-9]*' | head -1 |
    sed 's/users:(("\([^"]*\)",pid=\([0-9]*\)/ (pid \2, \1)/'
}

[ -x "$BUILD/certdeployd" ] && [ -x "$BUILD/certdeploy-mockca" ] || die "$BUILD/ has no binaries: run 'make run' (it builds them), not scripts/run.sh alone"
if port_taken "$LISTEN"; then
  die "$LISTEN is already in use by another program$(port_owner "$LISTEN"); stop it, or pick another address: CERTDEPLOY_LISTEN=127.0.0.1:9443 make run"
fi
if port_taken "$MOCKCA_LISTEN"; then
  die "$MOCKCA_LISTEN (the mock CA) is already in use by another program$(port_owner "$MOCKCA_LISTEN"); stop it, or pick another: CERTDEPLOY_MOCKCA_LISTEN=127.0.0.1:9444 make run"
fi

mkdir -p "$VAR"
chmod 755 "$VAR"

pids=()
own_pg=0
# Stops everything; exits with $1 (a stop asked for by Ctrl-C or SIGTERM is
# a success), or with the status the script was ending with.
stop_all() {
  local rc=${1:-$?}
  # make and the terminal both deliver Ctrl-C: ignore the second one so the
  # cleanup (stopping PostgreSQL) always finishes
  trap '' INT TERM
  trap - EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]+"${pids[@]}"}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]+"${pids[@]}"}"; do wait "$p" 2>/dev/null || true; done
  [ $own_pg -eq 1 ] && bash scripts/pg.sh stop "$VAR/pg"
  echo "stopped."
  exit "$rc"
}
trap 'stop_all 0' INT TERM
trap stop_all EXIT

if [ -z "${CERTDEPLOY_DATABASE_URL:-}" ]; then
  own_pg=1
  CERTDEPLOY_DATABASE_URL=$(bash scripts/pg.sh start "$VAR/pg" certdeploy) || die "PostgreSQL did not start (above: why; its log is $VAR/pg/postgres.log)"
fi
export CERTDEPLOY_DATABASE_URL

# A persistent admin token, so every `make run` can show it.
if [ ! -s "$VAR/admin-token" ]; then
  (umask 077; echo "cdt_$(openssl rand -hex 24)" >"$VAR/admin-token")
fi
export CERTDEPLOY_BOOTSTRAP_TOKEN=$(cat "$VAR/admin-token")
export CERTDEPLOY_STATE_DIR=${CERTDEPLOY_STATE_DIR:-$VAR}
export CERTDEPLOY_WEB_DIR=${CERTDEPLOY_WEB_DIR:-$ROOT/web-ui}
export CERTDEPLOY_LISTEN=$LISTEN

"$BUILD/certdeploy-mockca" --listen "$MOCKCA_LISTEN" --state-dir "$VAR/mockca" >"$VAR/mockca.out" 2>"$VAR/mockca.log" &
mockca_pid=$!
pids+=("$mockca_pid")
"$BUILD/certdeployd" &
server_pid=$!
pids+=("$server_pid")

# The server is up when /healthz answers over its TLS; it may first apply
# migrations and make its TLS pair. A server or mock CA that exits meanwhile
# (a bad setting, a database it cannot reach) ends the run with its reason,
# which it has printed above.
url="https://$LISTEN"
up=0
for _ in $(seq 1 600); do
  kill -0 "$server_pid" 2>/dev/null || die "certdeployd exited at start (its message is above)"
  kill -0 "$mockca_pid" 2>/dev/null || die "the mock CA exited at start: $(tail -1 "$VAR/mockca.log")"
  if curl -fsS --cacert "$CERTDEPLOY_STATE_DIR/tls.crt" "$url/healthz" >/dev/null 2>&1; then
    up=1
    break
  fi
  sleep 0.1
done
[ $up -eq 1 ] || die "certdeployd did not answer $url/healthz within 60 s"

auth=(-H "Authorization: Bearer $CERTDEPLOY_BOOTSTRAP_TOKEN" --cacert "$CERTDEPLOY_STATE_DIR/tls.crt")
mock_url="http://$MOCKCA_LISTEN"
if curl -fsS "${auth[@]}" "$url/api/v1/cas" 2>/dev/null | grep -q '"cas":\[\]'; then
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$url/api/v1/cas" \
    -d "{\"name\":\"Local mock CA\",\"type\":\"digicert\",\"url\":\"$mock_url\",\"api_token\":\"mock-api-key\",\"profile_id\":\"mock-profile-1\"}" \
    >/dev/null && echo "certdeploy: added the local mock CA ($mock_url) as 'Local mock CA'"
fi

cat <<MSG

  certdeploy is running.
    dashboard:   $url/
    admin token: $CERTDEPLOY_BOOTSTRAP_TOKEN
    TLS cert:    $CERTDEPLOY_STATE_DIR/tls.crt (self-signed; curl --cacert it)
    mock CA:     $mock_url (api key mock-api-key, profile mock-profile-1)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
