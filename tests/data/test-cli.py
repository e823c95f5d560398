#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-cli.py: khuyenhoc-cli end to end, as IT staff and scripts use it.

add/set/get/list/count/search/history/delete/restore/outbox with and without --json; --json
output parses; bad input exits non-zero with the message on stderr and nothing on stdout.
Prints TAP.
"""
import json
import os
import subprocess
import sys
import tempfile

cli = sys.argv[1]
tmp = tempfile.TemporaryDirectory(prefix='khuyenhoc-cli-')
db = os.path.join(tmp.name, 'cli.db')
env = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='')
results = []


def run(*args, db_path=None):
    p = subprocess.run([cli, '--db', db_path or db, '--actor', 'it-staff', *args],
                       capture_output=True, text=True, env=env, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


def ok_run(name, *args):
    rc, out, err = run(*args)
    check(name, rc == 0 and err == '', f'rc={rc} stderr={err!r}')
    return out


def refused(name, args, words):
    rc, out, err = run(*args)
    check(name, rc != 0 and out == '' and words in err, f'rc={rc} stdout={out!r} stderr={err!r}')


ok_run('init', 'init')
unit = ok_run('add a unit', 'add', 'org_unit', 'code=56', 'name=Tỉnh Khánh Hòa', 'kind=province').strip()
check('add prints the new id', len(unit) == 36 and unit.count('-') == 4, unit)

out = ok_run('add --json', '--json', 'add', 'person', 'full_name=Nguyễn Văn Đức', 'birth_date=03/06/2010',
             'gender=male', f'org_unit_id={unit}')
person = json.loads(out)
pid = person['id']
check('--json add gives the stored record', person['full_name'] == 'Nguyễn Văn Đức'
      and person['birth_date'] == '2010-06-03' and person['deleted'] is False, out)

ok_run('set a field', 'set', 'person', pid, 'phone=0905123456', 'address=Thôn 1')
rec = json.loads(ok_run('get --json', '--json', 'get', 'person', pid))
check('set changed the fields', rec['phone'] == '0905123456' and rec['address'] == 'Thôn 1', rec)
ok_run('FIELD= clears a field', 'set', 'person', pid, 'address=')
rec = json.loads(ok_run('get --json after clearing', '--json', 'get', 'person', pid))
check('cleared field is gone', 'address' not in rec, rec)

text = ok_run('get as text', 'get', 'person', pid)
check('text shows labels and a dd/mm/yyyy date', 'Full name: Nguyễn Văn Đức' in text and '03/06/2010' in text, text)

ok_run('add another', 'add', 'person', 'full_name=Trần Thị Lan', 'gender=female', f'org_unit_id={unit}')
rows = json.loads(ok_run('list --json', '--json', 'list', 'person'))
check('list has both', len(rows) == 2, rows)
rows = json.loads(ok_run('list --where', '--json', 'list', 'person', '--where', 'gender=female'))
check('list --where filters', len(rows) == 1 and rows[0]['full_name'] == 'Trần Thị Lan', rows)
rows = json.loads(ok_run('list --order --limit', '--json', 'list', 'person', '--order', 'full_name', '--limit', '1'))
check('list --order --limit', len(rows) == 1 and rows[0]['full_name'] == 'Nguyễn Văn Đức', rows)
count = json.loads(ok_run('count --json', '--json', 'count', 'person'))
check('count', count == {'count': 2}, count)

for q in ('nguyen van duc', 'Nguyen Van Duc', 'nguyễn văn đức', 'ngu v d'):
    hits = json.loads(ok_run(f'search {q!r}', '--json', 'search', q))
    check(f'search {q!r} finds him', any(h['id'] == pid for h in hits), hits)
out = ok_run('search as text', 'search', 'nguyen van duc')
check('search text line', out.strip() == f'person\t{pid}\tNguyễn Văn Đức', out)

hist = json.loads(ok_run('history --json', '--json', 'history', 'person', pid))
check('history: create then edits, by the actor',
      [h['action'] for h in hist] == ['create', 'update', 'update', 'update']
      and all(h['actor'] == 'it-staff' for h in hist)
      and {h.get('field') for h in hist[1:]} == {'phone', 'address'}, hist)
out = ok_run('history as text', 'history', 'person', pid)
check('history text shows old → new', 'phone: ∅ → 0905123456' in out, out)

outbox = json.loads(ok_run('outbox --json', '--json', 'outbox'))
check('outbox: one create per record, fields coalesced',
      len(outbox) == 3 and all(o['op'] == 'create' for o in outbox)
      and any(o['record_id'] == pid and 'phone' in o['fields'] for o in outbox), outbox)

ok_run('delete', 'delete', 'person', pid)
rows = json.loads(ok_run('list after delete', '--json', 'list', 'person'))
check('deleted record is not listed', all(r['id'] != pid for r in rows), rows)
hits = json.loads(ok_run('search after delete', '--json', 'search', 'nguyen van duc'))
check('deleted record is not found', hits == [], hits)
rows = json.loads(ok_run('list --deleted', '--json', 'list', 'person', '--deleted'))
check('list --deleted shows the tombstone', any(r['id'] == pid and r['deleted'] for r in rows), rows)
refused('delete twice is an error', ['delete', 'person', pid], 'already deleted')
refused('editing a deleted record is an error', ['set', 'person', pid, 'phone=0905000000'], 'restore it')
ok_run('restore', 'restore', 'person', pid)
hits = json.loads(ok_run('search after restore', '--json', 'search', 'nguyen van duc'))
check('restored record is found again', [h['id'] for h in hits] == [pid], hits)

# Bad input: non-zero exit, the reason on stderr, nothing on stdout, nothing written.
before = json.loads(run('--json', 'count', 'person')[1])
refused('31/02 is refused', ['add', 'person', 'full_name=X', 'birth_date=31/02/2010', f'org_unit_id={unit}'],
        'Date of birth: enter a real date')
refused('unknown field', ['add', 'person', 'full_name=X', 'nickname=Y', f'org_unit_id={unit}'],
        '“nickname” is not a field of Person')
refused('bad enum', ['add', 'person', 'full_name=X', 'gender=robot', f'org_unit_id={unit}'],
        'Gender: “robot” is not one of')
refused('missing required field', ['add', 'person', 'full_name=X'], 'Unit: this is required')
refused('reference to nothing', ['add', 'person', 'full_name=X', 'org_unit_id=01900000-0000-7000-8000-000000000000'],
        'Unit: there is no Unit')
refused('money with a decimal part', ['add', 'donation', 'donor_name=X', 'amount=1,5'], 'Amount (đồng)')
refused('over-long text', ['add', 'org_unit', 'code=' + '1' * 21, 'name=X', 'kind=province'],
        'Official code: at most 20 characters')
refused('not FIELD=VALUE', ['add', 'person', 'full_name'], 'is not FIELD=VALUE')
refused('unknown entity', ['add', 'spaceship', 'name=X'], 'There is no kind of record called “spaceship”')
refused('unknown command', ['frobnicate'], 'Unknown command')
refused('get an unknown id', ['get', 'person', '01900000-0000-7000-8000-000000000000'], 'There is no Person')
refused('unknown list option', ['list', 'person', '--bogus'], 'Unknown option')
refused('unknown search option', ['search', 'x', '--entity'], 'Unknown option')
refused('bad --limit', ['list', 'person', '--limit', 'ten'], '--limit')
refused('bad demo size', ['demo', '--records', '0'], '--records')
after = json.loads(run('--json', 'count', 'person')[1])
check('refusals wrote nothing', before == after, (before, after))

# A database from a newer version is refused with a clear message.
newer = os.path.join(tmp.name, 'newer.db')
subprocess.run(['sqlite3', newer, 'PRAGMA user_version = 999;'], check=True)
rc, out, err = run('list', 'person', db_path=newer)
check('a newer database is refused', rc != 0 and out == '' and 'newer version' in err, err)

# A file that is not a database is refused, and left as it was.
junk = os.path.join(tmp.name, 'notes.txt')
with open(junk, 'w') as f:
    f.write('Danh sách học bổng Tết\n' * 100)
rc, out, err = run('list', 'person', db_path=junk)
check('a file that is not a database is refused', rc != 0 and out == '' and 'Could not open the database' in err, err)
with open(junk) as f:
    check('…and left untouched', f.read() == 'Danh sách học bổng Tết\n' * 100)
rc, out, err = run('init', db_path=os.path.join(tmp.name, 'no', 'such', 'dir', 'x.db'))
check('a database in a missing folder is refused', rc != 0 and out == '' and 'Could not open the database' in err, err)

# demo makes realistic, searchable data.
demo_db = os.path.join(tmp.name, 'demo.db')
rc, out, err = run('--json', 'demo', '--records', '3000', '--seed', '7', db_path=demo_db)
stats = json.loads(out) if rc == 0 else {}
check('demo --records 3000', rc == 0 and stats.get('records') == 3000, (rc, out, err))
rc, out, err = run('--json', 'search', 'nguyen', '--entity', 'person', '--limit', '5', db_path=demo_db)
check('demo people are found without diacritics', rc == 0 and len(json.loads(out)) == 5, (rc, out, err))

print(f'1..{len(results)}')
for i, (name, passed, detail) in enumerate(results, 1):
    print(f'{"ok" if passed else "not ok"} {i} - /data/cli/{name}')
    if not passed:
        print('# ' + str(detail).replace('\n', '\n# '))
sys.exit(0)
