#!/usr/bin/env bash
# The checks of `make check` and of tests/run.sh's check layer (so of
# `make test` and CI). Each prints one line, "check NAME: ok", or
# "check NAME: failed" followed by its findings, indented.
#
#   scripts/check.sh               every check
#   scripts/check.sh format eslint only these
#   scripts/check.sh --list        the checks' names, one a line
#
#   format  clang-format --dry-run -Werror (.clang-format) over every .c/.h
#           of lib server agent mockca ctl tests bench; fix with clang-format -i
#   banned  no call in the product's C code (lib server agent mockca ctl) to
#           a function of scripts/banned.txt, which says why and what instead
#   gcc     make CC=gcc DEVELOPER=1 all tests (into build/)
#   clang   make CC=clang BUILD=build/clang DEVELOPER=1 all tests
#   eslint  eslint's recommended rules (eslint.config.mjs) over web-ui/,
#           tests/ and bench/
set -uo pipefail
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)
CHECKS=(format banned gcc clang eslint)
C_DIRS=(lib server agent mockca ctl tests bench)
PRODUCT_DIRS=(lib server agent mockca ctl)
# Run from `make check`, make's jobserver is not ours to join: the builds
# below get their own -j.
unset MAKEFLAGS MFLAGS MAKELEVEL

# Prints those of the named directories that exist.
existing() {
  local d
  for d in "$@"; do
    [ -d "$d" ] && printf '%s\n' "$d"
  done
}

# Prints the .c and .h files under the named directories, sorted.
c_files() {
  local dirs
  mapfile -t dirs < <(existing "$@")
  [ ${#dirs[@]} -gt 0 ] || return 0
  find "${dirs[@]}" -type f -name '*.[ch]' | LC_ALL=C sort
}

# Prints the check's line from its findings (empty: ok); returns 1 when
# there are findings.
report() {
  local name=$1 findings=$2
  if [ -z "$findings" ]; then
    echo "check $name: ok"
    return 0
  fi
  echo "check $name: failed"
  printf '%s\n' "$findings" | sed 's/^/    /'
  return 1
}

check_format() {
  command -v clang-format >/dev/null ||
    { report format "clang-format is not installed (scripts/install-deps.sh test installs it)"; return; }
  local findings
  # the first place in each file that clang-format would change
  findings=$(c_files "${C_DIRS[@]}" | xargs -r -n 16 -P "$JOBS" clang-format --dry-run -Werror 2>&1 |
    grep -E '^[^ :]+:[0-9]+:[0-9]+: error:' | awk -F: '!seen[$1]++ {print $1 ":" $2}' | LC_ALL=C sort |
    sed 's/$/: not as .clang-format has it (clang-format -i FILE fixes it)/')
  report format "$findings"
}

check_banned() {
  local findings files
  mapfile -t files < <(c_files "${PRODUCT_DIRS[@]}")
  [ ${#files[@]} -gt 0 ] || { report banned ""; return; }
  # Comments and string literals are blanked first (line numbers kept), so
  # a comment that names a banned function is no finding.
  findings=$(awk '
    FNR == NR {
      if ($0 ~ /^[ \t]*(#|$)/) next
      name = $1
      sub(/^[ \t]*[^ \t]+[ \t]+/, "")
      why[name] = $0
      names = names (names == "" ? "" : "|") name
      next
    }
    FNR == 1 { incomment = 0 }
    {
      code = strip($0)
      while (match(code, "(^|[^A-Za-z0-9_.>])(" names ")[ \t]*\\(")) {
        hit = substr(code, RSTART, RLENGTH)
        sub(/^[^A-Za-z_]*/, "", hit)
        sub(/[ \t]*\($/, "", hit)
        print FILENAME ":" FNR ": " hit "(): " why[hit]
        code = substr(code, RSTART + RLENGTH)
      }
    }
    # the line with comments and string and character literals blanked;
    # incomment carries a /* comment */ over lines
    function strip(line,    out, i, n, c, q) {
      out = ""
      n = length(line)
      i = 1
      while (i <= n) {
        c = substr(line, i, 1)
        if (incomment) {
          if (substr(line, i, 2) == "*/") { incomment = 0; out = out "  "; i += 2 }
          else { out = out " "; i++ }
          continue
        }
        if (substr(line, i, 2) == "/*") { incomment = 1; out = out "  "; i += 2; continue }
        if (substr(line, i, 2) == "//") break
        if (c == "\"" || c == "\047") {
          q = c
          out = out q
          i++
          while (i <= n && substr(line, i, 1) != q) {
            if (substr(line, i, 1) == "\\") { out = out " "; i++ }
            out = out " "
            i++
          }
          out = out q
          i++
          continue
        }
        out = out c
        i++
      }
      return out
    }
  ' scripts/banned.txt "${files[@]}")
  report banned "$findings"
}

# Builds everything with one compiler, warnings as errors; make's arguments
# follow the check's name.
check_build() {
  local name=$1 out
  shift
  command -v "$name" >/dev/null ||
    { report "$name" "$name is not installed (scripts/install-deps.sh test installs it)"; return; }
  if out=$(make -s -j"$JOBS" DEVELOPER=1 "$@" all tests 2>&1); then
    report "$name" ""
  else
    report "$name" "$(printf 'make %s DEVELOPER=1 all tests failed:\n%s' "$*" "$out" | head -60)"
  fi
}

check_gcc() {
  check_build gcc CC=gcc
}

check_clang() {
  check_build clang CC=clang BUILD=build/clang
}

check_eslint() {
  [ -x node_modules/.bin/eslint ] ||
    { report eslint "eslint is not installed (scripts/install-deps.sh test runs npm ci)"; return; }
  local out dirs
  mapfile -t dirs < <(existing web-ui tests bench)
  if out=$(node_modules/.bin/eslint --max-warnings 0 "${dirs[@]}" eslint.config.mjs 2>&1); then
    report eslint ""
  else
    report eslint "$(printf '%s\n' "$out" | sed '/^$/d')"
  fi
}

if [ "${1:-}" = --list ]; then
  printf '%s\n' "${CHECKS[@]}"
  exit 0
fi
want=("$@")
[ ${#want[@]} -eq 0 ] && want=("${CHECKS[@]}")
rc=0
for c in "${want[@]}"; do
  case " ${CHECKS[*]} " in
  *" $c "*) "check_$c" || rc=1 ;;
  *)
    echo "check $c: unknown (the checks: ${CHECKS[*]})"
    rc=1
    ;;
  esac
done
exit $rc
