#!/usr/bin/env bash
# Builds the libFuzzer harnesses (clang, ASan+UBSan) and fuzzes each target
# for a bounded time. See tests/fuzz/README.md.
#
#   tests/fuzz/run.sh                  build, then fuzz every target
#   tests/fuzz/run.sh fuzz_csr ...     only these targets
#   tests/fuzz/run.sh --build          build only
#   tests/fuzz/run.sh --list           print the target names
#
# Environment:
#   FUZZ_SECONDS  fuzzing time per target (default 60)
#   FUZZ_WORK     where runs keep their state (default build/fuzz):
#                 corpus/<target>/   working corpus: the checked-in seeds
#                                    (tests/fuzz/corpus/<target>/, never
#                                    written) plus what fuzzing found
#                 crashes/<target>/  reproducers of failures
#                 logs/<target>.log  libFuzzer's output
#   FUZZ_RSS_MB   memory limit per target (default 2048)
#
# Before fuzzing, each target replays tests/fuzz/crashes/<target>/* (inputs
# that once failed) so a fixed bug stays fixed. Exit status: 0 when every
# target ran clean, 1 otherwise.
set -uo pipefail
cd "$(dirname "$0")/../.."

FUZZ_SECONDS=${FUZZ_SECONDS:-60}
FUZZ_WORK=${FUZZ_WORK:-build/fuzz}
FUZZ_RSS_MB=${FUZZ_RSS_MB:-2048}
OUT=build/fuzz # objects and binaries; FUZZ_WORK may point elsewhere
JOBS=$(nproc 2>/dev/null || echo 2)

TARGETS=(fuzz_json_body fuzz_csr fuzz_cert fuzz_ca_reply fuzz_template fuzz_cursor)

# The Makefile's flags, with clang's sanitizers: product objects get the
# coverage instrumentation (fuzzer-no-link), harnesses link libFuzzer's main.
PKGS="libmicrohttpd libpq jansson libcurl openssl"
WARN="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wvla -Wwrite-strings
      -Wformat=2"
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g $WARN $SAN -Ilib -Iserver -I$OUT/gen
        $(pkg-config --cflags $PKGS)"
LIBS="$(pkg-config --libs $PKGS) -lpthread -lm"

die() {
  echo "fuzz: $*" >&2
  exit 1
}

have_clang() {
  command -v clang >/dev/null || die "clang is missing (scripts/install-deps.sh test installs it)"
  echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return d && n; }' |
    clang -x c -fsanitize=fuzzer - -o "$OUT/.probe" 2>/dev/null ||
    die "clang cannot link -fsanitize=fuzzer (install libclang-rt-dev: scripts/install-deps.sh test)"
  rm -f "$OUT/.probe"
}

# 0 when $1 is missing or older than any of the other files.
stale() {
  local target=$1 f
  shift
  [ -e "$target" ] || return 0
  for f in "$@"; do [ "$f" -nt "$target" ] && return 0; done
  return 1
}

# Compiles every lib/ and server/ source (but main.c) into one archive: a
# harness links it and so takes only the objects it needs, unchanged.
build_archive() {
  local headers=(lib/*.h server/*.h tests/fuzz/run.sh)
  local srcs=() objs=() src obj pids=() failed=0

  mkdir -p "$OUT/gen" "$OUT/obj"
  if stale "$OUT/gen/schema_embedded.c" db/schema/*.sql scripts/embed-schema.sh; then
    sh scripts/embed-schema.sh $(ls db/schema/*.sql | sort) >"$OUT/gen/schema_embedded.c.tmp" &&
      mv "$OUT/gen/schema_embedded.c.tmp" "$OUT/gen/schema_embedded.c" || return 1
  fi
  for src in lib/*.c server/*.c "$OUT/gen/schema_embedded.c"; do
    [ "$src" = server/main.c ] && continue
    obj="$OUT/obj/$(echo "${src%.c}" | tr / _).o"
    objs+=("$obj")
    stale "$obj" "$src" "${headers[@]}" && srcs+=("$src")
  done
  for src in "${srcs[@]+"${srcs[@]}"}"; do
    obj="$OUT/obj/$(echo "${src%.c}" | tr / _).o"
    # shellcheck disable=SC2086
    clang $CFLAGS -fsanitize=fuzzer-no-link -c "$src" -o "$obj" &
    pids+=($!)
    if [ ${#pids[@]} -ge "$JOBS" ]; then
      wait "${pids[0]}" || failed=1
      pids=("${pids[@]:1}")
    fi
  done
  for pid in "${pids[@]+"${pids[@]}"}"; do wait "$pid" || failed=1; done
  [ $failed -eq 0 ] || return 1
  if [ ${#srcs[@]} -gt 0 ] || [ ! -e "$OUT/libcertdeploy.a" ]; then
    rm -f "$OUT/libcertdeploy.a"
    ar rcs "$OUT/libcertdeploy.a" "${objs[@]}" || return 1
  fi
}

build() {
  local t rc=0
  mkdir -p "$OUT"
  have_clang
  echo "fuzz: building into $OUT/" >&2
  build_archive || die "building the instrumented objects failed"
  for t in "${TARGETS[@]}"; do
    if stale "$OUT/$t" "tests/fuzz/$t.c" tests/fuzz/fuzz_util.h "$OUT/libcertdeploy.a"; then
      # shellcheck disable=SC2086
      clang $CFLAGS -Werror -fsanitize=fuzzer "tests/fuzz/$t.c" "$OUT/libcertdeploy.a" $LIBS \
        -o "$OUT/$t" || rc=1
    fi
  done
  [ $rc -eq 0 ] || die "building the harnesses failed"
}

# Replays old crashers, then fuzzes one target; prints one summary line.
run_target() {
  local t=$1 corpus="$FUZZ_WORK/corpus/$1" crashes="$FUZZ_WORK/crashes/$1"
  local log="$FUZZ_WORK/logs/$1.log" dict=() known=() rc last
  mkdir -p "$corpus" "$crashes" "$FUZZ_WORK/logs"
  # Seeds are copied, so libFuzzer never writes into the repository.
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null
  [ -e "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")

  for f in tests/fuzz/crashes/"$t"/*; do [ -f "$f" ] && known+=("$f"); done
  if [ ${#known[@]} -gt 0 ]; then
    if ! "$OUT/$t" -rss_limit_mb="$FUZZ_RSS_MB" -timeout=25 "${known[@]}" >"$log" 2>&1; then
      echo "$t: FAILED replaying tests/fuzz/crashes/$t/ (log: $log)"
      grep -E -A12 '^==[0-9]+==ERROR|invariant failed|runtime error|Running: ' "$log" | head -40
      return 1
    fi
  fi

  timeout $((FUZZ_SECONDS + 120)) "$OUT/$t" "$corpus" "${dict[@]+"${dict[@]}"}" \
    -max_total_time="$FUZZ_SECONDS" -rss_limit_mb="$FUZZ_RSS_MB" -timeout=25 \
    -print_final_stats=1 -artifact_prefix="$crashes/" >"$log" 2>&1
  rc=$?
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  if [ $rc -ne 0 ]; then
    echo "$t: FAILED (exit $rc; log: $log)"
    grep -E -A24 '^==[0-9]+==ERROR|invariant failed|runtime error|ALARM|out-of-memory' "$log" |
      head -60
    grep -E '^artifact_prefix|Test unit written to' "$log"
    return 1
  fi
  # e.g. "#81234 DONE cov: 412 ft: 1290 corp: 57/9Kb ... exec/s: 1353"
  echo "$t: ok, ${FUZZ_SECONDS}s: $(echo "$last" | awk '{
    for (i = 1; i <= NF; i++) {
      if ($i == "cov:") cov = $(i + 1)
      if ($i == "ft:") ft = $(i + 1)
      if ($i == "corp:") corp = $(i + 1)
      if ($i == "exec/s:") eps = $(i + 1)
    }
    sub(/^#/, "", $1)
    printf "%s runs, %s exec/s, cov %s, ft %s, corpus %s", $1, eps, cov, ft, corp
  }')"
}

case "${1:-}" in
--list)
  printf '%s\n' "${TARGETS[@]}"
  exit 0
  ;;
--build)
  build
  exit 0
  ;;
esac

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=("${TARGETS[@]}")
for t in "${wanted[@]}"; do
  [ -e "tests/fuzz/$t.c" ] || die "unknown target $t (--list shows them)"
done
build
status=0
for t in "${wanted[@]}"; do
  run_target "$t" || status=1
done
exit $status
