#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
# Validates the systemd unit, pointing ExecStart at the built binary.
set -eu
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s#^ExecStart=[^ ]*#ExecStart=$2#" "$1" > "$tmp/khuyenhoc-server.service"
out=$(systemd-analyze verify "$tmp/khuyenhoc-server.service" 2>&1) || { echo "$out"; exit 1; }
if [ -n "$out" ]; then echo "$out"; exit 1; fi
