#!/usr/bin/env bash
# `make install`: copies the built programs, the dashboard, the man pages and
# the systemd units under $DESTDIR$PREFIX, as a packager expects:
#
#   $PREFIX/sbin/certdeployd
#   $PREFIX/bin/certdeploy-agent, certdeploy-mockca, certdeployctl
#   $PREFIX/share/certdeploy/web-ui/          the dashboard (the unit's CERTDEPLOY_WEB_DIR)
#   $PREFIX/share/man/man1, man8              the man pages
#   $UNITDIR (default $PREFIX/lib/systemd/system)
#                                             certdeployd.service, certdeploy-agent.service + .timer
#   $SYSCONFDIR/certdeploy (default /etc)     certdeployd.env and agent.env, 0600, never overwritten
#
# Paths inside the units name $PREFIX and $SYSCONFDIR, not $DESTDIR (DESTDIR
# is a staging root). Every destination is checked before the first file is
# copied: a DESTDIR that cannot be written stops with one line, nothing
# half-installed.
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD=${BUILD:-build}
PREFIX=${PREFIX:-/usr/local}
DESTDIR=${DESTDIR:-}
SYSCONFDIR=${SYSCONFDIR:-/etc}
UNITDIR=${UNITDIR:-$PREFIX/lib/systemd/system}

die() {
  echo "make install: $*" >&2
  exit 1
}

# What to do about a directory that cannot be written.
if [ "$(id -u)" -eq 0 ]; then
  hint="is it read-only? set DESTDIR to a writable directory"
else
  hint="run as root (sudo make install), or set DESTDIR to a directory you own"
fi

case "$PREFIX" in /*) ;; *) die "PREFIX must be an absolute path, not '$PREFIX'" ;; esac

bins=(certdeploy-agent certdeploy-mockca certdeployctl)
for b in certdeployd "${bins[@]}"; do
  [ -x "$BUILD/$b" ] || die "$BUILD/$b is not built: run 'make install', which builds first"
done

man_pages=()
for m in man/*.[18]; do [ -e "$m" ] && man_pages+=("$m"); done

sbindir=$PREFIX/sbin
bindir=$PREFIX/bin
webdir=$PREFIX/share/certdeploy/web-ui
mandir=$PREFIX/share/man
confdir=$SYSCONFDIR/certdeploy
dirs=("$sbindir" "$bindir" "$webdir" "$mandir/man1" "$mandir/man8" "$UNITDIR" "$confdir")

# Every destination directory is made and probed with a file before the
# first file is copied; on any failure the directories made here are
# removed again and nothing is installed.
made=()
undo_dirs() {
  local i
  for ((i = ${#made[@]} - 1; i >= 0; i--)); do rmdir "${made[$i]}" 2>/dev/null || true; done
}
for d in "${dirs[@]}"; do
  p=$DESTDIR$d
  missing=()
  while [ ! -e "$p" ]; do missing=("$p" "${missing[@]+"${missing[@]}"}"); p=$(dirname "$p"); done
  [ -d "$p" ] || { undo_dirs; die "cannot install into $DESTDIR$d: $p is not a directory"; }
  for m in "${missing[@]+"${missing[@]}"}"; do
    mkdir -m 755 "$m" 2>/dev/null || {
      undo_dirs
      die "cannot write to $(dirname "$m") (for $DESTDIR$d): $hint"
    }
    made+=("$m")
  done
  probe=$DESTDIR$d/.certdeploy-install-probe.$$
  if ! (: >"$probe") 2>/dev/null; then
    undo_dirs
    die "cannot write to $DESTDIR$d: $hint"
  fi
  rm -f "$probe"
done

install -m 755 "$BUILD/certdeployd" "$DESTDIR$sbindir/certdeployd"
for b in "${bins[@]}"; do install -m 755 "$BUILD/$b" "$DESTDIR$bindir/$b"; done

# The dashboard: a fresh copy, so files removed upstream do not linger.
rm -rf "$DESTDIR$webdir.new"
cp -R web-ui "$DESTDIR$webdir.new"
find "$DESTDIR$webdir.new" -type d -exec chmod 755 {} + -o -type f -exec chmod 644 {} +
rm -rf "$DESTDIR$webdir"
mv "$DESTDIR$webdir.new" "$DESTDIR$webdir"

for m in "${man_pages[@]+"${man_pages[@]}"}"; do
  install -m 644 "$m" "$DESTDIR$mandir/man${m##*.}/$(basename "$m")"
done

subst() {
  sed -e "s|@SBINDIR@|$sbindir|g" -e "s|@BINDIR@|$bindir|g" -e "s|@WEBDIR@|$webdir|g" \
    -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" "$1"
}
subst systemd/certdeployd.service.in >"$DESTDIR$UNITDIR/certdeployd.service"
subst systemd/certdeploy-agent.service.in >"$DESTDIR$UNITDIR/certdeploy-agent.service"
install -m 644 systemd/certdeploy-agent.timer "$DESTDIR$UNITDIR/certdeploy-agent.timer"
chmod 644 "$DESTDIR$UNITDIR/certdeployd.service" "$DESTDIR$UNITDIR/certdeploy-agent.service"

# Settings are the admin's: installed once, then left alone.
for f in certdeployd.env agent.env; do
  if [ -e "$DESTDIR$confdir/$f" ]; then
    echo "make install: kept $DESTDIR$confdir/$f (yours)"
  else
    install -m 600 "systemd/$f" "$DESTDIR$confdir/$f"
  fi
done

echo "make install: installed certdeploy under $DESTDIR$PREFIX (units in $DESTDIR$UNITDIR, settings in $DESTDIR$confdir)"
if [ -z "$DESTDIR" ] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl daemon-reload 2>/dev/null || true
  echo "make install: next: set CERTDEPLOY_DATABASE_URL in $confdir/certdeployd.env, then: systemctl enable --now certdeployd"
fi
