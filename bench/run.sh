#!/usr/bin/env bash
# bench/run.sh: `make bench`. Runs every benchmark and prints one
# `name: value` line per figure on stdout (progress goes to stderr).
# BENCHMARKS.md explains each figure and holds the latest results.
#
#   make bench                 full run (100,000-device fleet, 30 s of check-ins)
#   BENCH_QUICK=1 make bench   short run (10,000 devices, 10 s, 100 renewals), same names
#
# Each benchmark starts its own throwaway PostgreSQL cluster (scripts/pg.sh
# in a temporary directory), its own certdeployd on 127.0.0.1:0 and, for
# renewals, its own certdeploy-mockca; all traffic stays on loopback, every
# wait is bounded, and everything started here is stopped on exit.
#
# Knobs (environment):
#   BENCH_QUICK=1          the short run
#   BENCH_ONLY=LIST        run only some of: checkin,status,renewal,deployments (comma-separated)
#   BENCH_FLEET=N          devices for the check-in run (default 100000; quick 10000)
#   BENCH_SECONDS=N        seconds of the measured wrk and pgbench runs (default 30; quick 10)
#   BENCH_RENEWALS=N       due renewals (default 1000; quick 100)
#   BENCH_CONNECTIONS=N    wrk connections and pgbench clients (default 64)
#   BENCH_PAIRS=N          pgbench and check-in runs alternate in N pairs, splitting
#                          BENCH_SECONDS between them (default 3; quick 1)
#   BENCH_PROFILE=1        also `perf record -g` the server during the last check-in run
#                          (report in $BENCH_DIR/perf-checkin.txt); BENCH_PROFILE=all
#                          records the whole machine (wrk, postgres too) instead
#   BENCH_KEEP=1           keep the temporary directory (logs, clusters stopped)
#   CERTDEPLOY_CA_CONCURRENCY   passed to the server of the renewal run (default 16)
#   BENCH_RESULTS=FILE     also write the figures there (default build/bench-results.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BUILD=${CERTDEPLOY_BUILD:-build}

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = "0" ] && QUICK=""
FLEET=${BENCH_FLEET:-$([ -n "$QUICK" ] && echo 10000 || echo 100000)}
SECONDS_RUN=${BENCH_SECONDS:-$([ -n "$QUICK" ] && echo 10 || echo 30)}
FLOOR_SECONDS=$((SECONDS_RUN < 10 ? SECONDS_RUN : 10)) # /healthz and /readyz after the check-ins
RENEWALS=${BENCH_RENEWALS:-$([ -n "$QUICK" ] && echo 100 || echo 1000)}
CONNS=${BENCH_CONNECTIONS:-64}
CA_CONCURRENCY=${CERTDEPLOY_CA_CONCURRENCY:-16}
CA_LATENCY_MS=50
STATUS_REQUESTS=200
ONLY=${BENCH_ONLY:-checkin,status,renewal,deployments}
RESULTS=${BENCH_RESULTS:-$BUILD/bench-results.txt}
ADMIN_TOKEN=cdt_bench_$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
WRK_THREADS=2
PAIRS=${BENCH_PAIRS:-$([ -n "$QUICK" ] && echo 1 || echo 3)}

for tool in wrk pgbench psql curl node python3; do
  command -v "$tool" >/dev/null || { echo "bench: $tool is missing (scripts/install-deps.sh bench, run by make bench, installs it)" >&2; exit 1; }
done
for bin in certdeployd certdeploy-mockca; do
  [ -x "$BUILD/$bin" ] || { echo "bench: $BUILD/$bin is missing: run make" >&2; exit 1; }
done

BENCH_DIR=$(mktemp -d /tmp/certdeploy-bench.XXXXXX)
export BENCH_DIR
PIDS=() # "pid:start time": a pid that ended may be another process's by now
CLUSTERS=()

log() { echo "bench: $*" >&2; }

started_at() { awk '{print $22}' "/proc/$1/stat" 2>/dev/null; }
track() { PIDS+=("$1:$(started_at "$1")"); }
# The pid of a tracked entry if that process still runs, else nothing.
still_ours() { # "pid:start time"
  local pid=${1%%:*}
  [ -n "${1#*:}" ] && [ "$(started_at "$pid")" = "${1#*:}" ] && echo "$pid"
}

cleanup() {
  local rc=$? entry pid
  for entry in "${PIDS[@]+"${PIDS[@]}"}"; do
    pid=$(still_ours "$entry") && kill "$pid" 2>/dev/null || true
  done
  for entry in "${PIDS[@]+"${PIDS[@]}"}"; do
    pid=$(still_ours "$entry") || continue
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    [ "$(still_ours "$entry")" = "$pid" ] && kill -9 "$pid" 2>/dev/null || true
  done
  for c in "${CLUSTERS[@]+"${CLUSTERS[@]}"}"; do
    bash scripts/pg.sh stop "$c" >/dev/null 2>&1 || true
  done
  if [ -n "${BENCH_KEEP:-}" ]; then
    log "kept $BENCH_DIR"
  else
    rm -rf "$BENCH_DIR"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$(dirname "$RESULTS")"
: >"$RESULTS"
figure() { # name value
  echo "$1: $2"
  echo "$1: $2" >>"$RESULTS"
}
want() { [[ ",$ONLY," == *",$1,"* ]]; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.3f", b-a}'; }
calc() { awk "BEGIN{printf \"%.${2:-3}f\", $1}"; }
loadavg() { cut -d' ' -f1 /proc/loadavg; }
wait_line() { # file regex seconds -> prints the first match
  local file=$1 re=$2 limit=$3 i
  for i in $(seq $((limit * 10))); do
    if grep -Eo "$re" "$file" 2>/dev/null | head -1 | grep .; then return 0; fi
    sleep 0.1
  done
  return 1
}

# A cluster of our own; sets CONN to its conninfo. PG settings are the
# defaults (fsync and synchronous_commit on), as a user's cluster has them.
new_cluster() { # name
  local dir=$BENCH_DIR/$1
  CLUSTERS+=("$dir")
  CONN=$(bash scripts/pg.sh start "$dir" certdeploy)
}

# CPU ticks the cluster's processes have used: the postmaster's, its ended
# children's and its live children's (backends, walwriter, ...).
cluster_ticks() { # name
  local pid child sum
  pid=$(head -1 "$BENCH_DIR/$1/data/postmaster.pid")
  sum=$(awk '{print $14 + $15 + $16 + $17}' "/proc/$pid/stat")
  for child in $(pgrep -P "$pid"); do # live backends and helpers
    sum=$((sum + $(awk '{print $14 + $15}' "/proc/$child/stat" 2>/dev/null || echo 0)))
  done
  echo "$sum"
}

# "idle total" jiffies of the whole machine (/proc/stat), to tell whether a
# run had CPU left.
machine_ticks() { awk '/^cpu /{t = 0; for (i = 2; i <= NF; i++) t += $i; print $5 + $6, t}' /proc/stat; }
idle_pct() { # "idle total" before, "idle total" after
  awk -v a="$1" -v b="$2" 'BEGIN{split(a, x, " "); split(b, y, " "); printf "%.1f", 100 * (y[1] - x[1]) / (y[2] - x[2])}'
}

migrate() { # conninfo statedir
  CERTDEPLOY_DATABASE_URL=$1 CERTDEPLOY_STATE_DIR=$2 "$BUILD/certdeployd" migrate \
    >"$2.migrate.log" 2>&1 || { cat "$2.migrate.log" >&2; return 1; }
}

# Starts certdeployd; sets SERVER_PID, SERVER_URL (with a trailing /) and
# SERVER_LOG (its stderr, one file per start: STATEDIR.N.err).
SERVER_STARTS=0
start_server() { # conninfo statedir [extra env...]
  local conn=$1 state=$2
  shift 2
  mkdir -p "$state"
  SERVER_STARTS=$((SERVER_STARTS + 1))
  SERVER_LOG=$state.$SERVER_STARTS.err
  env CERTDEPLOY_DATABASE_URL="$conn" CERTDEPLOY_STATE_DIR="$state" \
    CERTDEPLOY_LISTEN=127.0.0.1:0 CERTDEPLOY_BOOTSTRAP_TOKEN="$ADMIN_TOKEN" \
    CERTDEPLOY_LOG_FORMAT=json "$@" "$BUILD/certdeployd" >"$state.$SERVER_STARTS.out" 2>"$SERVER_LOG" &
  SERVER_PID=$!
  track "$SERVER_PID"
  SERVER_URL=$(wait_line "$state.$SERVER_STARTS.out" 'https://[^ ]+:[0-9]+/' 30) ||
    { log "certdeployd did not start:"; tail -20 "$SERVER_LOG" >&2; return 1; }
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$SERVER_PID" 2>/dev/null || true
}

api() { # method path [json body] (admin token, the server's own TLS certificate)
  local args=(-sS --max-time 30 --cacert "$STATE/tls.crt" -X "$1" -H "Authorization: Bearer $ADMIN_TOKEN")
  [ $# -ge 3 ] && args+=(-H 'Content-Type: application/json' --data "$3")
  curl "${args[@]}" "${SERVER_URL}${2#/}"
}

# Polls a count inside PostgreSQL every 50 ms (one psql, not one per poll:
# spawning psql 20 times a second would take CPU from the run it times)
# until it reaches target or `seconds` pass; prints the last count.
wait_count() { # count-query target seconds
  psql "$CONN" -qAtX -v ON_ERROR_STOP=1 <<SQL
CREATE TEMP TABLE wait_result (n bigint);
DO \$\$
DECLARE n bigint; deadline timestamptz := clock_timestamp() + interval '$3 seconds';
BEGIN
  LOOP
    n := ($1);
    EXIT WHEN n >= $2 OR clock_timestamp() > deadline;
    PERFORM pg_sleep(0.05);
  END LOOP;
  INSERT INTO wait_result VALUES (n);
END \$\$;
SELECT n FROM wait_result;
SQL
}

kb_to_mb() { calc "$1 / 1024" 1; }

# wrk reports latencies as 1.23us / 4.56ms / 7.89s.
to_ms() {
  awk -v v="$1" 'BEGIN{
    if (v ~ /us$/) { sub(/us$/, "", v); printf "%.2f", v / 1000 }
    else if (v ~ /ms$/) { sub(/ms$/, "", v); printf "%.2f", v }
    else if (v ~ /s$/) { sub(/s$/, "", v); printf "%.2f", v * 1000 }
    else printf "%s", v }'
}

log "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
log "work dir $BENCH_DIR; $([ -n "$QUICK" ] && echo quick || echo full) run: fleet $FLEET devices, ${SECONDS_RUN} s runs, $CONNS connections, $RENEWALS renewals"
figure bench_mode "$([ -n "$QUICK" ] && echo quick || echo full)"
figure machine_cores "$(nproc)"
figure loadavg_at_start "$(loadavg)"

# ---------------------------------------------------------------------------
# 1. Check-ins against pgbench on the same cluster.
if want checkin; then
  log "check-in: cluster, migrate, seed $FLEET devices x 3 profiles"
  new_cluster checkin
  STATE=$BENCH_DIR/checkin-state
  migrate "$CONN" "$STATE"
  t0=$(now)
  bash bench/seed.sh "$CONN" "$FLEET" 1 0
  figure seed_seconds_per_100k_devices "$(calc "$(elapsed "$t0" "$(now)") * 100000 / $FLEET" 1)"

  # Every device's token and real inventory, for bench/checkin.lua.
  psql "$CONN" -qAtX -v ON_ERROR_STOP=1 -o "$BENCH_DIR/checkin.tsv" -c "
    SELECT 'cdd_bench_' || substr(dv.serial, 7) || E'\t' ||
           jsonb_build_object('installed', jsonb_agg(jsonb_build_object(
             'profile_id', x.profile_id, 'sha256', x.installed_sha256) ORDER BY x.profile_id))::text
      FROM devices dv JOIN deployments x ON x.device_id = dv.id
     WHERE dv.serial LIKE 'bench-%' GROUP BY dv.serial ORDER BY dv.serial"

  PGB_CONN=${CONN/dbname=certdeploy/dbname=pgbench}
  psql "${CONN/dbname=certdeploy/dbname=postgres}" -qAtX -c 'CREATE DATABASE pgbench'
  timeout 300 pgbench -i -s 10 -q "$PGB_CONN" >"$BENCH_DIR/pgbench-init.log" 2>&1 ||
    { cat "$BENCH_DIR/pgbench-init.log" >&2; exit 1; }

  # no key pool: its one-off refill (16 RSA keys at start) is not check-in work
  start_server "$CONN" "$STATE" CERTDEPLOY_KEY_POOL_SIZE=0
  # the device path must answer for a seeded device before we measure
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -k -X POST \
    -H "Authorization: Bearer cdd_bench_00000001" -H 'Content-Type: application/json' \
    --data "$(head -1 "$BENCH_DIR/checkin.tsv" | cut -f2)" "${SERVER_URL}device/v1/checkin")
  [ "$code" = 200 ] || { log "a seeded device's check-in answered $code"; exit 1; }

  log "check-in: warm-up 5 s, its contact times written and vacuumed"
  export CHECKIN_DATA=$BENCH_DIR/checkin.tsv CHECKIN_THREADS=$WRK_THREADS
  timeout 60 wrk -t"$WRK_THREADS" -c"$CONNS" -d5s -s bench/checkin.lua "$SERVER_URL" \
    >"$BENCH_DIR/wrk-warmup.log" 2>&1 || true
  # The warm-up's first contacts (most of the fleet) are written in the
  # next second or two, and vacuumed now: the first pgbench run does not pay
  # for them. A minute later the same devices are due again, in the third
  # pair's check-ins, as in a fleet that keeps checking in.
  sleep 3
  psql "$CONN" -qAtX -c 'VACUUM ANALYZE devices' >/dev/null

  # pgbench and the check-ins alternate in PAIRS pairs of equal length, each
  # pgbench run right before its check-in run: the machine's speed drifts
  # within minutes (BENCHMARKS.md), and a ratio of two runs a minute apart
  # would measure the drift as much as the check-ins.
  PER_RUN=$((SECONDS_RUN / PAIRS))
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true # VmHWM := VmRSS now
  rss_before=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status")
  figure loadavg_before_pgbench "$(loadavg)"
  pgb_sum=0 rps_sum=0 reqs=0 errors=0 p99_max=0 cpu_ticks=0 pg_ticks=0 idle_ticks=0 all_ticks=0
  perf_pid=""
  for pair in $(seq "$PAIRS"); do
    log "check-in: pair $pair of $PAIRS: pgbench -S, $CONNS clients, ${PER_RUN} s, then wrk -t$WRK_THREADS -c$CONNS -d${PER_RUN}s"
    timeout $((PER_RUN + 120)) pgbench -n -S -c "$CONNS" -j "$WRK_THREADS" -T "$PER_RUN" \
      "$PGB_CONN" >"$BENCH_DIR/pgbench.$pair.log" 2>&1 || { cat "$BENCH_DIR/pgbench.$pair.log" >&2; exit 1; }
    tps=$(sed -n 's/^tps = \([0-9.]*\) (without initial connection time)$/\1/p' "$BENCH_DIR/pgbench.$pair.log")
    [ -n "$tps" ] || { cat "$BENCH_DIR/pgbench.$pair.log" >&2; exit 1; }
    # its backends' CPU goes to the postmaster when they end: not in the check-ins'
    for _ in $(seq 50); do
      [ "$(psql "$CONN" -qAtX -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgbench'")" = 0 ] &&
        break
      sleep 0.1
    done
    [ "$pair" = 1 ] && figure loadavg_before_checkin "$(loadavg)"
    cpu0=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
    pg0=$(cluster_ticks checkin)
    m0=$(machine_ticks)
    if [ -n "${BENCH_PROFILE:-}" ] && [ "$pair" = "$PAIRS" ] && command -v perf >/dev/null; then
      target=(-p "$SERVER_PID")
      [ "$BENCH_PROFILE" = "all" ] && target=(-a)
      perf record -g -F 499 "${target[@]}" -o "$BENCH_DIR/perf-checkin.data" -- sleep "$PER_RUN" \
        >"$BENCH_DIR/perf-record.log" 2>&1 &
      perf_pid=$!
      track "$perf_pid"
    fi
    log_file=$BENCH_DIR/wrk.$pair.log
    timeout $((PER_RUN + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${PER_RUN}s" --latency \
      -s bench/checkin.lua "$SERVER_URL" >"$log_file" 2>&1 || { cat "$log_file" >&2; exit 1; }
    [ -n "$perf_pid" ] && wait "$perf_pid" || true
    cpu_ticks=$((cpu_ticks + $(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat") - cpu0))
    pg_ticks=$((pg_ticks + $(cluster_ticks checkin) - pg0))
    read -r i0 a0 <<<"$m0"
    read -r i1 a1 < <(machine_ticks)
    idle_ticks=$((idle_ticks + i1 - i0)) all_ticks=$((all_ticks + a1 - a0))
    cat "$log_file" >&2
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)$/\1/p' "$log_file")
    p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$log_file")")
    n=$(sed -n 's/^ *\([0-9]*\) requests in .*/\1/p' "$log_file")
    non2xx=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\)$/\1/p' "$log_file")
    sockerr=$(sed -n 's/^ *Socket errors: connect \([0-9]*\), read \([0-9]*\), write \([0-9]*\), timeout \([0-9]*\)$/\1 \2 \3 \4/p' \
      "$log_file" | awk '{print $1 + $2 + $3 + $4}')
    figure "checkin_vs_pgbench_ratio_pair$pair" "$(calc "$rps / $tps" 3)"
    pgb_sum=$(calc "$pgb_sum + $tps" 3) rps_sum=$(calc "$rps_sum + $rps" 3)
    reqs=$((reqs + n)) errors=$((errors + ${non2xx:-0} + ${sockerr:-0}))
    p99_max=$(calc "($p99 > $p99_max ? $p99 : $p99_max)" 2)
  done
  hwm=$(awk '/^VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  RPS=$(calc "$rps_sum / $PAIRS" 2)     # the pairs' runs are of equal length
  PGB_TPS=$(calc "$pgb_sum / $PAIRS" 2)
  figure checkin_rps "$RPS"
  figure checkin_p99_ms "$p99_max"
  figure checkin_requests "$reqs"
  figure checkin_errors "$errors"
  figure pgbench_select_tps "$(calc "$PGB_TPS" 1)"
  figure checkin_vs_pgbench_ratio "$(calc "$RPS / $PGB_TPS" 3)"
  figure server_rss_mb "$(kb_to_mb "$hwm")"
  figure server_rss_before_checkin_mb "$(kb_to_mb "$rss_before")"
  figure server_cpu_ms_per_checkin "$(calc "$cpu_ticks * 1000 / $(getconf CLK_TCK) / $reqs" 3)"
  figure postgres_cpu_ms_per_checkin "$(calc "$pg_ticks * 1000 / $(getconf CLK_TCK) / $reqs" 3)"
  figure checkin_machine_idle_pct "$(calc "100 * $idle_ticks / $all_ticks" 1)"
  # The same server, connections and TLS without a check-in's work: the
  # floor of HTTP and TLS alone, then with one SELECT 1 round trip.
  for probe in healthz readyz; do
    timeout $((FLOOR_SECONDS + 60)) wrk -t"$WRK_THREADS" -c"$CONNS" -d"${FLOOR_SECONDS}s" "${SERVER_URL}$probe" \
      >"$BENCH_DIR/wrk-$probe.log" 2>&1 || { cat "$BENCH_DIR/wrk-$probe.log" >&2; exit 1; }
    grep -q 'Non-2xx' "$BENCH_DIR/wrk-$probe.log" && { log "/$probe answered non-2xx:"; cat "$BENCH_DIR/wrk-$probe.log" >&2; exit 1; }
    probe_rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)$/\1/p' "$BENCH_DIR/wrk-$probe.log")
    figure "${probe}_rps" "$probe_rps"
    figure "${probe}_vs_pgbench_ratio" "$(calc "$probe_rps / $PGB_TPS" 3)"
  done
  if [ -n "$perf_pid" ]; then
    sort=dso,symbol
    [ "$BENCH_PROFILE" = "all" ] && sort=comm,dso,symbol
    perf report -i "$BENCH_DIR/perf-checkin.data" --no-children --sort "$sort" -g none --percent-limit 0.3 --stdio \
      >"$BENCH_DIR/perf-checkin.txt" 2>/dev/null || true
    log "perf report: $BENCH_DIR/perf-checkin.txt"
  fi
  stop_server
fi

# ---------------------------------------------------------------------------
# 2. GET /api/v1/status at 3,000 and at 300,000 deployments.
if want status; then
  # Two databases on one cluster, a server on each, and the requests
  # alternate between them (bench/status.mjs): the two medians are taken
  # over the same minute, so the ratio does not measure the machine's drift.
  log "status: cluster, migrate, seed 1,000 devices x 3 profiles and, in another database, 100,000"
  new_cluster status
  CONN_3K=$CONN
  CONN_300K=${CONN/dbname=certdeploy/dbname=status300k}
  psql "${CONN/dbname=certdeploy/dbname=postgres}" -qAtX -c 'CREATE DATABASE status300k'
  migrate "$CONN_3K" "$BENCH_DIR/status-3k"
  migrate "$CONN_300K" "$BENCH_DIR/status-300k"
  bash bench/seed.sh "$CONN_3K" 1000 1 0
  bash bench/seed.sh "$CONN_300K" 100000 1 0
  start_server "$CONN_3K" "$BENCH_DIR/status-3k"
  URL_3K=$SERVER_URL PID_3K=$SERVER_PID
  start_server "$CONN_300K" "$BENCH_DIR/status-300k"
  { read -r _ s3k _ p90_3k _ total3k; read -r _ s300k _ p90_300k _ total300k; } < <(timeout 300 node \
    bench/status.mjs "$URL_3K" "$ADMIN_TOKEN" "$BENCH_DIR/status-3k/tls.crt" "$STATUS_REQUESTS" 20 \
    "$SERVER_URL" "$ADMIN_TOKEN" "$BENCH_DIR/status-300k/tls.crt")
  [ "$total3k" = 3000 ] || { log "status counted $total3k deployments, not 3000"; exit 1; }
  [ "$total300k" = 300000 ] || { log "status counted $total300k deployments, not 300000"; exit 1; }
  figure status_ms_3k "$s3k"
  figure status_ms_300k "$s300k"
  figure status_growth_ratio "$(calc "$s300k / $s3k" 2)"
  figure status_p90_ms_300k "$p90_300k"
  stop_server
  SERVER_PID=$PID_3K
  stop_server
fi

# ---------------------------------------------------------------------------
# 3. Due renewals against the mock CA with 50 ms latency.
if want renewal; then
  log "renewal: cluster, mock CA (--latency-ms $CA_LATENCY_MS), server, CA through the API"
  new_cluster renewal
  STATE=$BENCH_DIR/renewal-state
  "$BUILD/certdeploy-mockca" --listen 127.0.0.1:0 --latency-ms "$CA_LATENCY_MS" \
    --state-dir "$BENCH_DIR/mockca" >"$BENCH_DIR/mockca.out" 2>"$BENCH_DIR/mockca.err" &
  MOCK_PID=$!
  track "$MOCK_PID"
  MOCK_URL=$(wait_line "$BENCH_DIR/mockca.out" 'http://[^ ]+:[0-9]+' 30) ||
    { log "mock CA did not start"; cat "$BENCH_DIR/mockca.err" >&2; exit 1; }
  start_server "$CONN" "$STATE" CERTDEPLOY_CA_CONCURRENCY="$CA_CONCURRENCY"
  ca=$(api POST /api/v1/cas "{\"name\":\"bench-ca\",\"type\":\"digicert\",\"url\":\"$MOCK_URL\",\"api_token\":\"mock-api-key\",\"profile_id\":\"mock-profile-1\"}")
  [[ "$ca" == *'"id"'* ]] || { log "creating the CA failed: $ca"; exit 1; }
  stop_server
  # $RENEWALS deployments due (profile 1 of the first $RENEWALS devices), the rest not.
  bash bench/seed.sh "$CONN" "$RENEWALS" 1 "$RENEWALS"
  curl -sS --max-time 10 -X POST "$MOCK_URL/_mock/reset" >/dev/null

  # RSA-2048 key + CSR + seal, as server key mode does per deployment.
  cc -O2 -std=c11 -D_GNU_SOURCE -Ilib bench/keygen.c "$BUILD/libserver.a" \
    $(pkg-config --libs libmicrohttpd libpq jansson libcurl openssl) -lpthread -lm -o "$BENCH_DIR/keygen"
  read -r _ kg_median _ kg_mean _ kg_p90 < <(timeout 300 "$BENCH_DIR/keygen" 20 | tr '\n' ' '; echo)

  # Renewal times are known ahead: the key pool makes a key for each
  # server-key renewal due within CERTDEPLOY_KEY_POOL_LOOKAHEAD_HOURS (24).
  # The renewals are first due in an hour; the server fills its pool; then
  # the hour "passes" (renew_at moved to a minute ago while it is stopped).
  limit=$([ -n "$QUICK" ] && echo 300 || echo 900)
  psql "$CONN" -qAtX -c "UPDATE deployments SET renew_at = now() + interval '1 hour' WHERE renew_at <= now()" >/dev/null
  log "renewal: server fills its key pool for the $RENEWALS renewals due in an hour"
  t0=$(now)
  start_server "$CONN" "$STATE" CERTDEPLOY_CA_CONCURRENCY="$CA_CONCURRENCY"
  deadline=$(calc "$t0 + $limit" 0)
  while :; do
    keys=$(psql "$CONN" -qAtX -c "SELECT count(*) FROM key_pool")
    [ "$keys" -ge "$RENEWALS" ] && break
    [ "$(date +%s)" -ge "$deadline" ] && break
    sleep 0.5
  done
  figure renewal_key_pool_fill_seconds "$(elapsed "$t0" "$(now)")"
  figure renewal_key_pool_keys "$keys"
  stop_server
  psql "$CONN" -qAtX -c "UPDATE deployments SET renew_at = now() - interval '1 minute'
    WHERE status = 'verified' AND renew_at <= now() + interval '1 hour'" >/dev/null

  log "renewal: server starts with $RENEWALS renewals due (CA concurrency $CA_CONCURRENCY)"
  figure loadavg_before_renewal "$(loadavg)"
  pg_ticks=$(cluster_ticks renewal)
  m0=$(machine_ticks)
  t0=$(now)
  start_server "$CONN" "$STATE" CERTDEPLOY_CA_CONCURRENCY="$CA_CONCURRENCY"
  done_n=$(wait_count "SELECT count(*) FROM deployments WHERE generation = 2 AND issued_generation = 2" \
    "$RENEWALS" "$limit")
  t1=$(now)
  idle=$(idle_pct "$m0" "$(machine_ticks)")
  srv_cpu=$(awk '{print $14 + $15}' "/proc/$SERVER_PID/stat")
  mock_cpu=$(awk '{print $14 + $15}' "/proc/$MOCK_PID/stat")
  issued=$(curl -sS --max-time 10 "$MOCK_URL/_mock/stats" | sed -n 's/.*"issued": *\([0-9]*\).*/\1/p')
  failed=$(psql "$CONN" -qAtX -c "SELECT count(*) FROM deployments WHERE status = 'failed'")
  [ "$done_n" -ge "$RENEWALS" ] || log "renewal: only $done_n of $RENEWALS issued within $limit s"
  RENEW_S=$(elapsed "$t0" "$t1")
  BOUND=$(calc "$RENEWALS * $CA_LATENCY_MS / 1000 / $CA_CONCURRENCY" 3)
  figure renewal_count "$RENEWALS"
  figure renewal_issued "$done_n"
  figure renewal_failed "$failed"
  figure renewal_mockca_issued "${issued:-0}"
  # CA answers whose outcome was thrown away because another claim took the
  # deployment meanwhile (lease expired): each is a duplicate CA request
  figure renewal_discarded_outcomes "$(grep -c 'was discarded' "$SERVER_LOG" || true)"
  figure renewal_seconds "$RENEW_S"
  figure renewal_machine_idle_pct "$idle"
  figure renewal_bound_seconds "$BOUND"
  figure renewal_vs_bound_ratio "$(calc "$RENEW_S / $BOUND" 2)"
  figure renewal_server_cpu_seconds "$(calc "$srv_cpu / $(getconf CLK_TCK)" 2)"
  figure renewal_mockca_cpu_seconds "$(calc "$mock_cpu / $(getconf CLK_TCK)" 2)"
  figure keygen_rsa2048_ms_median "$kg_median"
  figure keygen_rsa2048_ms_mean "$kg_mean"
  # what the server-side keys alone need on this machine's cores
  figure renewal_keygen_floor_seconds "$(calc "$RENEWALS * $kg_mean / 1000 / $(nproc)" 2)"
  stop_server
  # PostgreSQL's CPU for the run (the waiting psql's backend included)
  figure renewal_postgres_cpu_seconds "$(calc "($(cluster_ticks renewal) - $pg_ticks) / $(getconf CLK_TCK)" 2)"

  # The same CA pipeline without server-side keys: $RENEWALS device-key
  # deployments whose CSR is already there (as after devices answered
  # submit_csr), due when the server starts. Shows what the worker and the
  # CA path alone take against the same bound.
  log "renewal: $RENEWALS device-key issuances (CSR present) against the same mock CA"
  openssl req -new -newkey rsa:2048 -nodes -subj /CN=bench-device -keyout /dev/null \
    -out "$BENCH_DIR/device.csr" >/dev/null 2>&1
  psql "$CONN" -qAtX -v ON_ERROR_STOP=1 -v csr="$(cat "$BENCH_DIR/device.csr")" -v n="$RENEWALS" >/dev/null <<'SQL'
INSERT INTO profiles (name, ca_id, common_name, seat_id, key_mode)
SELECT 'bench-device-key', id, '$DEVICE_SERIAL', '$DEVICE_ID', 'device' FROM cas WHERE name = 'bench-ca';
INSERT INTO deployments (device_id, profile_id, csr, csr_generation)
SELECT d.id, p.id, :'csr', 1
  FROM (SELECT id FROM devices WHERE serial LIKE 'bench-%' ORDER BY serial LIMIT :n) d,
       profiles p WHERE p.name = 'bench-device-key';
SQL
  t0=$(now)
  start_server "$CONN" "$STATE" CERTDEPLOY_CA_CONCURRENCY="$CA_CONCURRENCY"
  done_n=$(wait_count "SELECT count(*) FROM deployments x JOIN profiles p ON p.id = x.profile_id
    WHERE p.name = 'bench-device-key' AND x.issued_generation = 1" "$RENEWALS" "$limit")
  t1=$(now)
  [ "$done_n" -ge "$RENEWALS" ] || log "device-key: only $done_n of $RENEWALS issued within $limit s"
  DK_S=$(elapsed "$t0" "$t1")
  figure device_key_issue_count "$done_n"
  figure device_key_issue_seconds "$DK_S"
  figure device_key_issue_vs_bound_ratio "$(calc "$DK_S / $BOUND" 2)"
  stop_server
fi

# ---------------------------------------------------------------------------
# 4. The fleet-wide deployments list and its CSV export at 3,000 and 300,000.
if want deployments; then
  # As the status run: two databases on one cluster, a server on each, the
  # page requests alternating between them. The failed filter's first page
  # is full at both sizes: 100 failed of 3,000, 1,000 of 300,000.
  log "deployments: cluster, migrate, seed 1,000 devices x 3 profiles and, in another database, 100,000"
  new_cluster deployments
  CONN_3K=$CONN
  CONN_300K=${CONN/dbname=certdeploy/dbname=fleet300k}
  psql "${CONN/dbname=certdeploy/dbname=postgres}" -qAtX -c 'CREATE DATABASE fleet300k'
  migrate "$CONN_3K" "$BENCH_DIR/fleet-3k"
  migrate "$CONN_300K" "$BENCH_DIR/fleet-300k"
  bash bench/seed.sh "$CONN_3K" 1000 1 0
  bash bench/seed.sh "$CONN_300K" 100000 1 0
  # profile 1 of every EVERY-th device fails (a renewal, then the CA's
  # refusal), by the guarded transitions; the detail has a comma and quotes
  fail_every() { # conninfo every
    psql "$1" -qAtX -v ON_ERROR_STOP=1 <<SQL >/dev/null
CREATE TEMP TABLE f AS SELECT x.device_id, x.profile_id FROM deployments x
  JOIN devices v ON v.id = x.device_id JOIN profiles p ON p.id = x.profile_id
 WHERE p.name = 'bench-profile-1' AND substr(v.serial, 7)::int % $2 = 0;
UPDATE deployments x SET status = 'pending', generation = generation + 1, attempts = 0,
       next_attempt_at = now() + interval '10 years'
  FROM f WHERE x.device_id = f.device_id AND x.profile_id = f.profile_id;
UPDATE deployments x SET status = 'failed', failure_source = 'server',
       detail = 'Couldn''t get certificate from bench-ca: "seat limit", 403'
  FROM f WHERE x.device_id = f.device_id AND x.profile_id = f.profile_id;
VACUUM ANALYZE deployments;
SQL
  }
  fail_every "$CONN_3K" 10
  fail_every "$CONN_300K" 100
  start_server "$CONN_3K" "$BENCH_DIR/fleet-3k"
  URL_3K=$SERVER_URL PID_3K=$SERVER_PID
  start_server "$CONN_300K" "$BENCH_DIR/fleet-300k"
  { read -r _ d3k _ _ _ rows3k; read -r _ d300k _ p90_300k _ rows300k; } < <(BENCH_PATH='/api/v1/deployments?status=failed' \
    timeout 300 node bench/status.mjs "$URL_3K" "$ADMIN_TOKEN" "$BENCH_DIR/fleet-3k/tls.crt" "$STATUS_REQUESTS" 20 \
    "$SERVER_URL" "$ADMIN_TOKEN" "$BENCH_DIR/fleet-300k/tls.crt")
  [ "$rows3k" = 50 ] && [ "$rows300k" = 50 ] || { log "the failed filter's first page had $rows3k and $rows300k rows, not 50"; exit 1; }
  figure deployments_page_ms_3k "$d3k"
  figure deployments_page_ms_300k "$d300k"
  figure deployments_page_growth_ratio "$(calc "$d300k / $d3k" 2)"
  figure deployments_page_p90_ms_300k "$p90_300k"

  # The CSV export of all 300,000, read as fast as curl takes it; the
  # server's peak RSS during it (VmHWM, reset right before) against its RSS
  # before, and its RSS sampled every 100 ms (the highest sample).
  STATE=$BENCH_DIR/fleet-300k
  echo 5 >"/proc/$SERVER_PID/clear_refs" 2>/dev/null || true
  rss_before=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status")
  ( peak=0
    while kill -0 "$SERVER_PID" 2>/dev/null && [ ! -e "$BENCH_DIR/export.done" ]; do
      r=$(awk '/^VmRSS/{print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
      [ "${r:-0}" -gt "$peak" ] && peak=$r
      echo "$peak" >"$BENCH_DIR/export.rss"
      sleep 0.1
    done ) &
  sampler=$!
  track "$sampler"
  t0=$(now)
  lines=$(curl -sS --fail --max-time 600 --cacert "$STATE/tls.crt" -H "Authorization: Bearer $ADMIN_TOKEN" \
    -H 'Accept: text/csv' "${SERVER_URL}api/v1/deployments" | wc -l)
  t1=$(now)
  touch "$BENCH_DIR/export.done"
  wait "$sampler" 2>/dev/null || true
  hwm=$(awk '/^VmHWM/{print $2}' "/proc/$SERVER_PID/status")
  rows=$((lines - 1))
  [ "$rows" = 300000 ] || { log "the CSV export had $rows rows, not 300000"; exit 1; }
  figure csv_export_rows "$rows"
  figure csv_export_seconds "$(elapsed "$t0" "$t1")"
  figure csv_export_rows_per_second "$(calc "$rows / ($t1 - $t0)" 0)"
  figure csv_export_server_rss_before_mb "$(kb_to_mb "$rss_before")"
  figure csv_export_server_rss_mb "$(kb_to_mb "$hwm")"
  figure csv_export_server_rss_sampled_mb "$(kb_to_mb "$(cat "$BENCH_DIR/export.rss" 2>/dev/null || echo 0)")"
  stop_server
  SERVER_PID=$PID_3K
  stop_server
fi

figure loadavg_at_end "$(loadavg)"
log "figures also in $RESULTS"
