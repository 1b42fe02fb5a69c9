#!/usr/bin/env bash
# `make run`: a local PostgreSQL (var/pg, kept between runs), the mock CA
# and certdeployd on https://127.0.0.1:8443. Ctrl-C stops everything.
# With CERTDEPLOY_DATABASE_URL set, that database is used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
VAR=$ROOT/var
mkdir -p "$VAR"
chmod 755 "$VAR"

pids=()
own_pg=0
stop_all() {
  # make and the terminal both deliver Ctrl-C: ignore the second one so the
  # cleanup (stopping PostgreSQL) always finishes
  trap '' INT TERM
  trap - EXIT
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ $own_pg -eq 1 ] && bash scripts/pg.sh stop "$VAR/pg"
  echo "stopped."
}
trap stop_all INT TERM EXIT

if [ -z "${CERTDEPLOY_DATABASE_URL:-}" ]; then
  CERTDEPLOY_DATABASE_URL=$(bash scripts/pg.sh start "$VAR/pg" certdeploy)
  own_pg=1
fi
export CERTDEPLOY_DATABASE_URL

# A persistent admin token, so every `make run` can show it.
if [ ! -s "$VAR/admin-token" ]; then
  (umask 077; echo "cdt_$(openssl rand -hex 24)" >"$VAR/admin-token")
fi
export CERTDEPLOY_BOOTSTRAP_TOKEN=$(cat "$VAR/admin-token")
export CERTDEPLOY_STATE_DIR=${CERTDEPLOY_STATE_DIR:-$VAR}
export CERTDEPLOY_WEB_DIR=${CERTDEPLOY_WEB_DIR:-$ROOT/web-ui}
LISTEN=${CERTDEPLOY_LISTEN:-127.0.0.1:8443}
export CERTDEPLOY_LISTEN=$LISTEN

build/certdeploy-mockca --listen 127.0.0.1:8444 --state-dir "$VAR/mockca" >"$VAR/mockca.out" 2>"$VAR/mockca.log" &
pids+=($!)
build/certdeployd &
pids+=($!)

url="https://$LISTEN"
for _ in $(seq 1 100); do
  curl -fsS --cacert "$CERTDEPLOY_STATE_DIR/tls.crt" "$url/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

auth=(-H "Authorization: Bearer $CERTDEPLOY_BOOTSTRAP_TOKEN" --cacert "$CERTDEPLOY_STATE_DIR/tls.crt")
if curl -fsS "${auth[@]}" "$url/api/v1/cas" 2>/dev/null | grep -q '"cas":\[\]'; then
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' -X POST "$url/api/v1/cas" \
    -d '{"name":"Local mock CA","type":"digicert","url":"http://127.0.0.1:8444","api_token":"mock-api-key","profile_id":"mock-profile-1"}' \
    >/dev/null && echo "certdeploy: added the local mock CA (http://127.0.0.1:8444) as 'Local mock CA'"
fi

cat <<MSG

  certdeploy is running.
    dashboard:   $url/
    admin token: $CERTDEPLOY_BOOTSTRAP_TOKEN
    TLS cert:    $CERTDEPLOY_STATE_DIR/tls.crt (self-signed; curl --cacert it)
    mock CA:     http://127.0.0.1:8444 (api key mock-api-key, profile mock-profile-1)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
