#!/usr/bin/env bash
# Installs the Debian packages one layer of certdeploy needs, and only those:
#
#   scripts/install-deps.sh run     build and run: compiler, the five libraries, PostgreSQL
#                                   (`make run`, `make install`, `make`)
#   scripts/install-deps.sh test    run + the test tools (`make test`, CI)
#   scripts/install-deps.sh bench   run + the bench tools (`make bench`)
#
# Idempotent and fast when everything is there: apt is called only for
# packages dpkg does not report as installed. Versions are Debian's defaults
# (`postgresql`, `clang`, `libclang-rt-dev` are the distribution's
# metapackages), so the same list serves Debian 12 and 13. As a user other
# than root it uses sudo; without sudo it names the packages and stops.
set -euo pipefail
cd "$(dirname "$0")/.."

layer=${1:-run}

RUN_PACKAGES=(
  build-essential pkg-config
  libmicrohttpd-dev libpq-dev libssl-dev libcurl4-openssl-dev libjansson-dev
  postgresql postgresql-client
  openssl curl ca-certificates procps python3
)
# clang + its runtime: the fuzz layer and `CC=clang`; clang-format: `make
# check`; systemd: systemd-analyze verify of the units (which asks man-db
# for their man pages); groff-base: the man page test; prometheus: promtool
# for the metrics test; chromium: the browser layer.
TEST_PACKAGES=(
  libcmocka-dev clang libclang-rt-dev clang-format valgrind
  nodejs npm chromium fonts-dejavu-core
  prometheus iproute2 systemd groff-base man-db
)
BENCH_PACKAGES=(wrk linux-perf postgresql-contrib nodejs)

case "$layer" in
run) packages=("${RUN_PACKAGES[@]}") ;;
test) packages=("${RUN_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
bench) packages=("${RUN_PACKAGES[@]}" "${BENCH_PACKAGES[@]}") ;;
*)
  echo "install-deps: unknown layer '$layer' (run, test or bench)" >&2
  exit 2
  ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# nodejs may come from outside Debian's archive (a newer node is on PATH);
# a working node >= 18 is enough, so do not fight over the package.
if command -v node >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]+"${missing[@]}"}"; do
    case "$p" in nodejs | npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

# How to become root: nothing as root, sudo otherwise. A sudo that needs a
# password may ask for it on a terminal; without one (or without sudo) the
# packages are named and nothing is installed.
as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  else
    sudo "$@"
  fi
}
can_be_root() {
  [ "$(id -u)" -eq 0 ] && return 0
  command -v sudo >/dev/null 2>&1 || return 1
  sudo -n true 2>/dev/null && return 0
  [ -t 0 ] && sudo -v
}

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]}, and this machine has no apt-get: install them (or their equivalents) by hand" >&2
    exit 1
  fi
  if ! can_be_root; then
    echo "install-deps: missing ${missing[*]}; run this as root or as a user with sudo (or have an admin run: apt-get install ${missing[*]})" >&2
    exit 1
  fi
  echo "install-deps: installing ($layer) ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # prometheus is installed only for its promtool (the metrics test); on a
  # systemd machine the package also starts a server on :9090: stop it.
  case " ${missing[*]} " in
  *" prometheus "*)
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
      as_root systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    ;;
  esac
fi

# The test layer's node packages: the browser tests drive Debian's chromium
# through playwright-core, which must never download a browser of its own;
# the OpenAPI contract test needs ajv, ajv-formats, yaml and @redocly/cli;
# `make check` needs eslint.
if [ "$layer" = test ]; then
  npm_missing=0
  for m in playwright-core ajv ajv-formats yaml @redocly/cli eslint; do
    [ -d "node_modules/$m" ] || npm_missing=1
  done
  if [ "$npm_missing" -eq 1 ]; then
    echo "install-deps: npm ci (playwright-core, ajv, ajv-formats, yaml, @redocly/cli, eslint)" >&2
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund
  fi
fi
