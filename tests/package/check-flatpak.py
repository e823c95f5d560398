#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-flatpak.py SOURCE: the Flatpak manifest parses and says what flatpak-builder needs.

The GNOME 43 runtime (GTK 4.8, libadwaita 1.2, the versions the code is written against), the
app id and command of the installed app, every module a name and sources, every download a
https URL with a SHA-256, and the app built without the server and the tests, with options that
meson_options.txt has. Building it needs the network and flatpak-builder; not done here.
Prints TAP.
"""
import json
import os
import re
import sys

source = sys.argv[1]
results = []


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


path = os.path.join(source, 'flatpak', 'vn.khuyenhoc.KhuyenHoc.json')
try:
    m = json.load(open(path, encoding='utf-8'))
    check('the manifest is JSON', isinstance(m, dict))
except (OSError, ValueError) as e:
    m = {}
    check('the manifest is JSON', False, e)

meson = open(os.path.join(source, 'meson.build'), encoding='utf-8').read()
app_id = re.search(r"app_id = '([^']+)'", meson).group(1)
check('app-id is the app id of meson.build', m.get('app-id') == app_id, m.get('app-id'))
check('GNOME runtime and SDK 43', m.get('runtime') == 'org.gnome.Platform'
      and m.get('sdk') == 'org.gnome.Sdk' and m.get('runtime-version') == '43')
check('the command is the installed app', m.get('command') == 'khuyenhoc')
args = m.get('finish-args', [])
check('network, a display and the keyring',
      '--share=network' in args and '--socket=wayland' in args
      and '--socket=fallback-x11' in args and '--talk-name=org.freedesktop.secrets' in args, args)
modules = m.get('modules', [])
check('modules are listed', isinstance(modules, list) and len(modules) > 0)
for mod in modules:
    name = mod.get('name') if isinstance(mod, dict) else None
    ok = name and mod.get('buildsystem') in ('meson', 'cmake-ninja', 'autotools', 'simple') \
        and isinstance(mod.get('sources'), list) and mod['sources']
    for s in mod.get('sources', []) if ok else []:
        if s.get('type') == 'archive':
            ok = ok and s.get('url', '').startswith('https://') \
                and re.fullmatch(r'[0-9a-f]{64}', s.get('sha256', '')) is not None
        elif s.get('type') == 'dir':
            ok = ok and os.path.isfile(os.path.join(source, 'flatpak', s.get('path', ''), 'meson.build'))
        else:
            ok = False
    check('module %s: a build system and checked sources' % name, ok, mod)
last = modules[-1] if modules else {}
options = open(os.path.join(source, 'meson_options.txt'), encoding='utf-8').read()
opts = last.get('config-opts', [])
check('the app is the last module, without the server and the tests',
      last.get('name') == 'khuyenhoc' and last.get('buildsystem') == 'meson'
      and '-Dserver=false' in opts and '-Dtests=false' in opts, last)
for o in opts:
    name = re.match(r'-D([a-z_]+)=', o)
    if name and not name.group(1).startswith('b_') and name.group(1) != 'buildtype':
        check('option %s is in meson_options.txt' % name.group(1),
              "option('%s'" % name.group(1) in options)

print('1..%d' % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    if not ok and detail:
        print('# %s' % detail)
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
