#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# link-check.sh BUILD_ROOT SERVER STORE_LIB… -- LISTS_LIB…
#
# Proves the layering by what the built objects need, not by what their sources say:
# - no library of data/ or sync/ (the ones named, and any other lib*.a built under data/ and
#   sync/) calls GTK, GDK, GSK or libadwaita;
# - the store and sync libraries (before "--") call neither libxlsxwriter nor cairo nor Pango:
#   only the lists library (after "--") does, and only the desktop app and the CLI link it;
# - khuyenhoc-server needs none of those shared libraries at run time.
# TAP output, one test per library and one for the server.
set -eu

build=$1
server=$2
shift 2

store_libs=
lists_libs=
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; lists_libs="$*"; break ;;
    *) store_libs="$store_libs $1"; shift ;;
  esac
done

# Any other library under data/ or sync/ (one added later) is held to the GTK rule too.
others=$(find "$build/data" "$build/sync" -name 'lib*.a' 2>/dev/null | sort)

n=0
failed=0

ok() {
  n=$((n + 1))
  echo "ok $n - $1"
}

not_ok() {
  n=$((n + 1))
  failed=1
  echo "not ok $n - $1"
  printf '%s\n' "$2" | sed 's/^/# /'
}

# undefined LIB PATTERN: the undefined symbols of LIB's members that match PATTERN.
undefined() {
  nm -u "$1" 2>/dev/null | awk '$1 == "U" { print $2 }' | grep -E "$2" | sort -u || true
}

gtk='^(gtk_|gdk_|gsk_|adw_)'
lists='^(lxw_|workbook_|worksheet_|cairo_|pango_)'

checked=
for lib in $store_libs $lists_libs $others; do
  real=$(realpath "$lib")
  case " $checked " in *" $real "*) continue ;; esac
  checked="$checked $real"
  name=$(basename "$lib")
  bad=$(undefined "$lib" "$gtk")
  if [ -n "$bad" ]; then
    not_ok "$name calls no GTK or libadwaita" "$bad"
  else
    ok "$name calls no GTK or libadwaita"
  fi
done

for lib in $store_libs; do
  name=$(basename "$lib")
  bad=$(undefined "$lib" "$lists")
  if [ -n "$bad" ]; then
    not_ok "$name calls no libxlsxwriter, cairo or Pango" "$bad"
  else
    ok "$name calls no libxlsxwriter, cairo or Pango"
  fi
done

needed=$(readelf -d "$server" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
if [ -z "$needed" ]; then
  not_ok "khuyenhoc-server's needed libraries can be read" "readelf found no NEEDED entry"
else
  bad=$(printf '%s\n' "$needed" | grep -E '^lib(gtk|gdk|adwaita|xlsxwriter|cairo|pango)' || true)
  if [ -n "$bad" ]; then
    not_ok "khuyenhoc-server needs no GTK, libadwaita, libxlsxwriter, cairo or Pango" "$bad"
  else
    ok "khuyenhoc-server needs no GTK, libadwaita, libxlsxwriter, cairo or Pango"
  fi
fi

echo "1..$n"
exit $failed
