#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# build-packages.sh SOURCE OUT: the Debian packages of the tree SOURCE, built in a copy of it
# under OUT (dpkg-buildpackage writes beside the tree, and the tree's own build folders stay
# out of it), then checked with lintian. The .deb files end up in OUT.
set -eu
src=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -rf "$out/src" "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir "$out/src"
if git -C "$src" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  # What is in git and what is new but not ignored: the tree as it will be committed.
  (cd "$src" && git ls-files -z --cached --others --exclude-standard |
     xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
     xargs -0 cp --parents -t "$out/src")
else
  (cd "$src" && tar --exclude='./build*' --exclude='./obj-*' --exclude='./.git' -cf - .) |
    (cd "$out/src" && tar -xf -)
fi
cd "$out/src"
jobs=$(nproc 2>/dev/null || echo 2)
dpkg-buildpackage -us -uc -b -j"$jobs" >"$out/build.log" 2>&1 || {
  tail -n 40 "$out/build.log" >&2
  exit 1
}
rm -rf "$out/src"
cd "$out"
# Every tag lintian still reports is overridden in debian/*.lintian-overrides with its reason.
lintian --fail-on error,warning --pedantic \
  khuyenhoc_*.changes
