#!/usr/bin/env bash
# Runs every test layer and closes with one "N passed, N failed" line.
#
#   tests/run.sh                  everything (what `make test` and CI run)
#   tests/run.sh unit api ...     only these layers
#
# Layers: unit (cmocka, no DB), db (cmocka on the throwaway cluster),
# integration (C against the real mock CA), api (node: real server over
# TLS, mock CA, agent), browser (the dashboard in Debian's Chromium through
# playwright-core, against the same real stack), and the same
# unit/integration/api layers again on the ASan+UBSan build (unit-san,
# integration-san, api-san).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=$(nproc 2>/dev/null || echo 2)

layers=("$@")
[ ${#layers[@]} -eq 0 ] && layers=(unit db integration api browser unit-san integration-san api-san)

want_san=0
for l in "${layers[@]}"; do case "$l" in *-san) want_san=1 ;; esac; done

echo "== build" >&2
make -s -j"$JOBS" all tests >/dev/null || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
if [ $want_san -eq 1 ]; then
  make -s -j"$JOBS" SANITIZE=1 all tests >/dev/null || { echo "sanitizer build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

WORK=$(mktemp -d /tmp/certdeploy-test.XXXXXX)
chmod 755 "$WORK"
cleanup() {
  bash scripts/pg.sh stop "$WORK/pg" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

need_pg=0
for l in "${layers[@]}"; do case "$l" in db|api|api-san|browser) need_pg=1 ;; esac; done
if [ $need_pg -eq 1 ]; then
  echo "== throwaway PostgreSQL cluster" >&2
  CONNINFO=$(PG_FAST=1 bash scripts/pg.sh start "$WORK/pg" postgres) || { echo "0 passed, 1 failed"; exit 1; }
  export CERTDEPLOY_TEST_PG="$CONNINFO"
fi

passed=0
failed=0
failures=()

# Runs one cmocka binary and adds its counts.
run_cmocka() {
  local bin=$1 label=$2 log="$WORK/$(basename "$1").$2.log"
  local extra_env=()
  if [ "$label" = db ]; then
    local dbname="t_$(basename "$bin" | tr -c 'a-z0-9\n' '_')_$RANDOM"
    psql "$CERTDEPLOY_TEST_PG" -qAtXc "CREATE DATABASE $dbname" >/dev/null
    extra_env=("CERTDEPLOY_TEST_DATABASE_URL=${CERTDEPLOY_TEST_PG/dbname=postgres/dbname=$dbname}")
  fi
  env "${extra_env[@]}" CERTDEPLOY_BUILD="$3" timeout 300 "$bin" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-8s %-40s %3d passed, %d failed\n' "$label" "$(basename "$bin")" "$p" "$f"
  if [ "$f" -ne 0 ]; then
    failures+=("$label $(basename "$bin")")
    sed 's/^/    /' "$log" | tail -40
  fi
}

# Runs the node test files of one directory (default tests/api) and adds their counts.
run_node() {
  local build=$1 label=$2 dir=${3:-tests/api} log="$WORK/node.$2.log"
  local files=("$dir"/*.test.mjs)
  [ -e "${files[0]}" ] || return 0
  CERTDEPLOY_BUILD="$build" timeout 900 node --test --test-reporter=spec "${files[@]}" >"$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -Eo '^ℹ pass [0-9]+' "$log" | awk '{print $NF}' | tail -1)
  f=$(grep -Eo '^ℹ fail [0-9]+' "$log" | awk '{print $NF}' | tail -1)
  p=${p:-0}
  f=${f:-0}
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  passed=$((passed + p))
  failed=$((failed + f))
  printf '%-8s %-40s %3d passed, %d failed\n' "$label" "node --test $dir" "$p" "$f"
  if [ "$f" -ne 0 ]; then
    failures+=("$label node")
    grep -E -B2 -A30 '^✖|not ok|Error|AssertionError' "$log" | head -150 | sed 's/^/    /'
  fi
}

for layer in "${layers[@]}"; do
  case "$layer" in
  unit | integration | db)
    for bin in build/tests/$layer/test_*; do
      [ -x "$bin" ] && run_cmocka "$bin" "$layer" build
    done
    ;;
  unit-san | integration-san)
    base=${layer%-san}
    for bin in build/sanitize/tests/$base/test_*; do
      [ -x "$bin" ] && run_cmocka "$bin" "$layer" build/sanitize
    done
    ;;
  api) run_node build api ;;
  api-san) run_node build/sanitize api-san ;;
  browser) run_node build browser tests/browser ;;
  *) echo "unknown layer $layer" >&2; failed=$((failed + 1)) ;;
  esac
done

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
