#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""check-po.py: translation checks, as TAP.

check-po.py potfiles SRCDIR   every source file under app/ ui/ sync/ data/ that marks strings
                              with _( N_( C_( NC_( or ngettext is listed in po/POTFILES.in, and
                              every listed file exists.
check-po.py complete SRCDIR   the template regenerated from POTFILES.in (xgettext with the glib
                              preset's keywords) merged into a copy of each po/LINGUAS file has
                              no untranslated and no fuzzy entry, and msgfmt --check accepts it.
"""
import os
import re
import subprocess
import sys
import tempfile

mode, src = sys.argv[1], sys.argv[2]
results = []

# The keywords and flags of meson's i18n.gettext(preset: 'glib').
GLIB_PRESET = [
    '--keyword=_', '--keyword=N_', '--keyword=C_:1c,2', '--keyword=NC_:1c,2',
    '--keyword=g_dcgettext:2', '--keyword=g_dngettext:2,3', '--keyword=g_dpgettext2:2c,3',
    '--flag=N_:1:pass-c-format', '--flag=C_:2:pass-c-format', '--flag=NC_:2:pass-c-format',
    '--flag=g_dngettext:2:pass-c-format', '--flag=g_strdup_printf:1:c-format',
    '--flag=g_string_printf:2:c-format', '--flag=g_string_append_printf:2:c-format',
    '--flag=g_error_new:3:c-format', '--flag=g_set_error:4:c-format',
    '--flag=g_markup_printf_escaped:1:c-format', '--flag=g_log:3:c-format',
    '--flag=g_print:1:c-format', '--flag=g_printerr:1:c-format', '--flag=g_printf:1:c-format',
    '--flag=g_fprintf:2:c-format', '--flag=g_sprintf:2:c-format', '--flag=g_snprintf:3:c-format',
]
MARK = re.compile(r'(?<![A-Za-z0-9_])(_|N_|C_|NC_|g_dngettext|ngettext)\s*\(')
TRANSLATABLE_UI = re.compile(r'translatable="yes"')


def potfiles():
    with open(os.path.join(src, 'po', 'POTFILES.in'), encoding='utf-8') as f:
        return [line.strip() for line in f if line.strip() and not line.startswith('#')]


def check(name, ok, detail=''):
    results.append((name, ok, detail))


if mode == 'potfiles':
    listed = potfiles()
    check('POTFILES.in is sorted', listed == sorted(listed), '\n'.join(listed))
    for path in listed:
        check(f'{path} exists', os.path.isfile(os.path.join(src, path)))
    for top in ('app', 'ui', 'sync', 'data'):
        for root, dirs, files in os.walk(os.path.join(src, top)):
            for name in sorted(files):
                if not name.endswith(('.c', '.h', '.ui', '.in', '.xml')):
                    continue
                path = os.path.join(root, name)
                rel = os.path.relpath(path, src)
                with open(path, encoding='utf-8', errors='replace') as f:
                    text = f.read()
                if name.endswith(('.c', '.h')):
                    # Comments and the i18n header's own definitions do not count.
                    code = re.sub(r'/\*.*?\*/', '', text, flags=re.S)
                    code = re.sub(r'//[^\n]*', '', code)
                    code = re.sub(r'#\s*define[^\n]*', '', code)
                    uses = MARK.search(code) is not None
                else:
                    uses = TRANSLATABLE_UI.search(text) is not None
                if uses:
                    check(f'{rel} is in POTFILES.in', rel in listed)
elif mode == 'complete':
    with tempfile.TemporaryDirectory(prefix='khuyenhoc-po-') as tmp:
        pot = os.path.join(tmp, 'khuyenhoc.pot')
        p = subprocess.run(['xgettext', '--from-code=UTF-8', '--add-comments', '--package-name=khuyenhoc',
                            '-o', pot, '-D', src, '-f', os.path.join(src, 'po', 'POTFILES.in')] + GLIB_PRESET,
                           capture_output=True, text=True)
        check('xgettext makes the template', p.returncode == 0, p.stderr)
        with open(os.path.join(src, 'po', 'LINGUAS'), encoding='utf-8') as f:
            langs = [w for line in f for w in line.split() if not line.startswith('#')]
        for lang in langs:
            merged = os.path.join(tmp, lang + '.po')
            p = subprocess.run(['msgmerge', '--quiet', '--no-fuzzy-matching', '-o', merged,
                                os.path.join(src, 'po', lang + '.po'), pot], capture_output=True, text=True)
            check(f'{lang}.po merges with the template', p.returncode == 0, p.stderr)
            if p.returncode != 0:
                continue
            p = subprocess.run(['msgfmt', '--check', '--statistics', '-o', os.devnull, merged],
                               capture_output=True, text=True)
            stats = p.stderr.strip()
            check(f'{lang}.po passes msgfmt --check', p.returncode == 0, stats)
            check(f'{lang}.po has no untranslated entry', 'untranslated' not in stats, stats)
            check(f'{lang}.po has no fuzzy entry', 'fuzzy' not in stats, stats)
            p = subprocess.run(['msgattrib', '--untranslated', '--no-obsolete', merged],
                               capture_output=True, text=True)
            missing = re.findall(r'^msgid "(.+)"$', p.stdout, flags=re.M)
            if missing:
                results.append((f'{lang}.po: untranslated', False, '\n'.join(missing[:40])))
            p = subprocess.run(['msgattrib', '--only-fuzzy', '--no-obsolete', merged],
                               capture_output=True, text=True)
            fuzzy = re.findall(r'^msgid "(.+)"$', p.stdout, flags=re.M)
            if fuzzy:
                results.append((f'{lang}.po: fuzzy', False, '\n'.join(fuzzy[:40])))
else:
    sys.exit(f'unknown mode {mode}')

print(f'1..{len(results)}')
for i, (name, ok, detail) in enumerate(results, 1):
    print(f'{"ok" if ok else "not ok"} {i} - /po/{mode}/{name}')
    if not ok and detail:
        print('# ' + detail.replace('\n', '\n# '))
