#!/usr/bin/env bash
# Installs every Debian package certdeploy needs to build, run and test.
# Idempotent and fast when everything is already there: apt is only called
# for packages dpkg does not report as installed.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang libclang-rt-14-dev
  libmicrohttpd-dev libpq-dev libssl-dev libcurl4-openssl-dev libjansson-dev
  libcmocka-dev
  postgresql-15 postgresql-client-15 postgresql-contrib
  openssl curl ca-certificates xxd procps iproute2 python3
  nodejs npm
  valgrind
  wrk linux-perf
  chromium fonts-dejavu-core
  prometheus
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

# nodejs may come from outside Debian's archive (a newer node is on PATH);
# a working node >= 18 is enough, so do not fight over the package.
if command -v node >/dev/null 2>&1; then
  filtered=()
  for p in "${missing[@]}"; do
    case "$p" in nodejs|npm) ;; *) filtered+=("$p") ;; esac
  done
  missing=("${filtered[@]+"${filtered[@]}"}")
fi

if [ "${#missing[@]}" -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # prometheus is installed only for its promtool (the metrics test); on a
  # systemd machine the package also starts a server on :9090: stop it.
  case " ${missing[*]} " in
  *" prometheus "*)
    if command -v systemctl >/dev/null 2>&1; then
      $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
    ;;
  esac
fi

# The browser tests drive Debian's chromium (above) through playwright-core
# from npm; npm must never download a browser of its own. The OpenAPI
# contract test (tests/api/openapi.test.mjs) needs ajv, ajv-formats, yaml
# and @redocly/cli from the same package.json.
NODE_MODULES="$(dirname "$0")/../node_modules"
npm_missing=0
for m in playwright-core ajv ajv-formats yaml @redocly/cli; do
  [ -d "$NODE_MODULES/$m" ] || npm_missing=1
done
if [ "$npm_missing" -eq 1 ]; then
  echo "install-deps: npm ci (playwright-core, ajv, ajv-formats, yaml, @redocly/cli)" >&2
  (cd "$(dirname "$0")/.." && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
