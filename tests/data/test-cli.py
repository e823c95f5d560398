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
check('text names the unit, with its id', f'Unit: Tỉnh Khánh Hòa ({unit})' in text, text)

# The last sync in status, as the locale writes it: tests/security/test-security-client.c
# (a replica's file is sealed, so it is set there by a sync, not written here).

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
refused('unknown search option', ['search', 'x', '--bogus'], 'Unknown option “--bogus”')
refused('search option without its value', ['search', 'x', '--entity'], 'The option --entity needs a value')
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

rc, out, err = run('init', db_path=tmp.name)
check('a folder given as the database is named as a folder', rc != 0 and out == '' and 'is a folder' in err, err)
rc, out, err = run('list', 'person', db_path=junk)
check('…the message says it is not SQLite and what to give instead',
      'not an SQLite file' in err and 'give --db' in err and err.count('\n') == 1, err)
rc, out, err = run('init', db_path=os.path.join(tmp.name, 'no', 'such', 'dir', 'x.db'))
check('a missing folder is named, with what to do', 'does not exist: create it' in err, err)
# A folder nobody may write to: /sys refuses new files even to root, for whom a 0555 folder
# would be writable.
if os.geteuid() == 0:
    ro_dir = '/sys'
else:
    ro_dir = os.path.join(tmp.name, 'read-only')
    os.mkdir(ro_dir, 0o555)
rc, out, err = run('init', db_path=os.path.join(ro_dir, 'kh.db'))
check('a read-only folder is refused with what to do', rc == 1 and out == ''
      and 'cannot be written to' in err and 'choose a folder' in err and err.count('\n') == 1, err)
rc, out, err = run('export', 'person', os.path.join(ro_dir, 'ds.xlsx'))
check('export into a read-only folder: one line, no library noise', rc == 1 and out == ''
      and 'cannot be written to' in err and err.count('\n') == 1, err)
rc, out, err = run('export', 'person', os.path.join(tmp.name, 'no', 'ds.csv'))
check('export into a missing folder', rc == 1 and 'does not exist' in err and err.count('\n') == 1, err)
rc, out, err = run('import', 'person', os.path.join(tmp.name, 'none.csv'))
check('import of a file that is not there', rc == 1 and out == ''
      and err == f'There is no file “{os.path.join(tmp.name, "none.csv")}” to import.\n', err)

# Usage errors: one line on stderr that names what is wrong and gives the command's usage,
# exit status 2, nothing on stdout.
def usage_error(name, args, words, usage):
    rc, out, err = run(*args)
    check(name, rc == 2 and out == '' and err.count('\n') == 1 and words in err
          and ('Usage: khuyenhoc-cli ' + usage) in err and 'CRITICAL' not in err, f'rc={rc} {err!r}')


usage_error('add without an entity', ['add'], 'Something is missing after “add”', 'add ENTITY FIELD=VALUE…')
usage_error('set without fields', ['set', 'person', pid], 'Something is missing after “set”',
            'set ENTITY ID FIELD=VALUE…')
usage_error('get with too much', ['get', 'person', pid, 'extra'], 'Too many arguments after “get”',
            'get ENTITY ID')
usage_error('delete without an id', ['delete', 'person'], 'Something is missing after “delete”',
            'delete ENTITY ID')
usage_error('outbox takes nothing', ['outbox', 'x'], 'Too many arguments after “outbox”', 'outbox')
usage_error('--where without its value', ['list', 'person', '--where'], 'The option --where needs a value',
            'list ENTITY')
usage_error('--order of an unknown field', ['list', 'person', '--order', 'nickname'],
            '“nickname” is not a field of Person', 'list ENTITY')
usage_error('demo --records not a number', ['demo', '--records', 'many'],
            '--records needs a whole number', 'demo [--records N] [--seed S]')
usage_error('report --year not a number', ['report', '--unit', '56', '--year', 'năm nay'],
            '--year needs a whole number', 'report --unit CODE --year YEAR')
usage_error('report without --unit', ['report', '--year', '2024'], 'report needs --unit CODE', 'report')
usage_error('export without a file', ['export', 'person'], 'Something is missing after “export”',
            'export ENTITY FILE.xlsx|FILE.csv')
usage_error('import option without its value', ['import', 'person', 'x.csv', '--map'],
            'The option --map needs a value', 'import ENTITY FILE')
usage_error('resolve without a choice', ['resolve', pid, 'phone'], 'Something is missing after “resolve”',
            'resolve ID FIELD mine|theirs|merge|VALUE')
usage_error('sync with an unknown option', ['sync', '--fast'], 'Unknown option “--fast”', 'sync [--verify]')
usage_error('sync --attempts not a number', ['sync', '--attempts', 'x'],
            '--attempts needs a whole number from 1 to 100, not “x”', 'sync')
usage_error('login without --user', ['login', '--server', 'https://khuyenhoc.example.vn'],
            'login needs --user NAME', 'login --server URL')
p = subprocess.run([cli], capture_output=True, text=True, env=env, timeout=60)
check('no command: one line and status 2', p.returncode == 2 and p.stdout == ''
      and p.stderr == 'No command was given. Run “khuyenhoc-cli --help” to see the commands.\n', p.stderr)
rc, out, err = run('frobnicate')
check('an unknown command is one line that says what to run', rc == 2
      and err == 'Unknown command “frobnicate”. Run “khuyenhoc-cli --help” to see the commands.\n', err)
p = subprocess.run([cli, 'list', 'person', '--db'], capture_output=True, text=True, env=env, timeout=60)
check('--db without a file', p.returncode == 2 and p.stderr.startswith('The option --db needs a value')
      and p.stderr.count('\n') == 1, p.stderr)
p = subprocess.run([cli, '--db', '', 'init'], capture_output=True, text=True, env=env, timeout=60)
check('an empty --db is refused, not a throwaway database', p.returncode == 2 and p.stdout == ''
      and p.stderr.startswith('The option --db needs a value'), (p.stdout, p.stderr))

# Signing in: the address needs its scheme, the password file must exist and hold a password,
# and a server that does not answer is named with what to check.
server_args = ['login', '--server', 'http://127.0.0.1:1', '--user', 'hoa', '--attempts', '1']
rc, out, err = run('login', '--server', '127.0.0.1:8080', '--user', 'hoa')
check('a server address without http(s):// is refused', rc == 2 and out == ''
      and '“127.0.0.1:8080” is not a server address: write it with https://' in err, err)
empty = os.path.join(tmp.name, 'empty.txt')
open(empty, 'w').close()
rc, out, err = run(*server_args, '--password-file', empty)
check('an empty password file is refused', rc == 1 and f'The password file “{empty}” is empty' in err, err)
rc, out, err = run(*server_args, '--password-file', os.path.join(tmp.name, 'nope.txt'))
check('a missing password file is refused', rc == 1 and 'nope.txt” does not exist' in err, err)
pw = os.path.join(tmp.name, 'pw.txt')
with open(pw, 'w') as f:
    f.write('mat-khau\n')
rc, out, err = run(*server_args, '--password-file', pw)
check('an unreachable server: one line, the address, what to check', rc == 1 and out == ''
      and 'Could not reach the server at http://127.0.0.1:1' in err
      and 'Check the server address and the network connection' in err and err.count('\n') == 1, err)
rc, out, err = run('sync')
check('sync before login says to sign in', rc == 1 and 'Sign in to a server first' in err, err)

# --help: the whole list on stdout with status 0, and one command's usage for COMMAND --help.
p = subprocess.run([cli, '--help'], capture_output=True, text=True, env=env, timeout=60)
commands = ['init', 'add', 'set', 'delete', 'restore', 'get', 'list', 'count', 'search', 'history',
            'outbox', 'entities', 'demo', 'login', 'sync', 'status', 'conflicts', 'resolve', 'discard',
            'verify', 'logout', 'import', 'export', 'report', 'print-list']
listed = {line.split()[0] for line in p.stdout.splitlines() if line.startswith('  ') and line.strip()}
check('--help lists every command, on stdout', p.returncode == 0 and p.stderr == ''
      and set(commands) <= listed, (p.returncode, sorted(listed)))
for c in commands:
    p = subprocess.run([cli, c, '--help'], capture_output=True, text=True, env=env, timeout=60)
    check(f'{c} --help', p.returncode == 0 and p.stdout.startswith(f'Usage: khuyenhoc-cli {c}'), p.stdout)

# In Vietnamese every one of these messages and the help are translated.
vi_env = dict(env, LANGUAGE='vi', LC_ALL='vi_VN.UTF-8')
if os.environ.get('KHUYENHOC_LOCALEDIR'):
    cases = [['frobnicate'], ['add'], ['list', 'person', '--where'], ['add', 'spaceship'],
             ['add', 'person', 'full_name=X', 'birth_date=31/02/2024', f'org_unit_id={unit}'],
             ['add', 'donation', 'donor_name=X', 'amount=1,5'], ['add', 'person', 'nickname=Y'],
             ['login', '--server', '127.0.0.1:8080', '--user', 'hoa'], ['sync'], ['sync', '--fast'],
             ['report', '--year', '2024']]
    for args in cases:
        en = subprocess.run([cli, '--db', db, *args], capture_output=True, text=True, env=env, timeout=60)
        vi = subprocess.run([cli, '--db', db, *args], capture_output=True, text=True, env=vi_env, timeout=60)
        check(f'Vietnamese: {" ".join(args)}', vi.returncode == en.returncode != 0 and vi.stderr != en.stderr
              and vi.stderr.count('\n') == 1 and 'Usage' not in vi.stderr, (en.stderr, vi.stderr))
    rc_junk = subprocess.run([cli, '--db', junk, 'list', 'person'], capture_output=True, text=True,
                             env=vi_env, timeout=60)
    check('Vietnamese: not a database', 'không phải tệp SQLite' in rc_junk.stderr, rc_junk.stderr)
    en = subprocess.run([cli, '--help'], capture_output=True, text=True, env=env, timeout=60).stdout
    vi = subprocess.run([cli, '--help'], capture_output=True, text=True, env=vi_env, timeout=60).stdout
    same = (set(en.splitlines()) & set(vi.splitlines())) - {''}
    check('Vietnamese: --help has no English line left', not same, same)
else:
    check('KHUYENHOC_LOCALEDIR is set for the Vietnamese checks', False)

# An evaluation added by hand is judged by its set and moves its registration on; one decision
# recognizes all that passed in a unit and year, refused whole for a district after the reform.
out = ok_run('criteria-builtin', 'criteria-builtin')
check('criteria-builtin adds the nine sets', '9' in out, out)
out = ok_run('criteria-builtin again', 'criteria-builtin')
check('criteria-builtin adds none twice', '0' in out, out)
commune = ok_run('add a commune', 'add', 'org_unit', 'code=22333', 'name=Xã Diên Khánh', 'kind=commune',
                 f'parent_id={unit}').strip()
family_set = json.loads(ok_run('the family set', '--json', 'list', 'criteria_set', '--where', 'model=family'))[0]['id']
regs = []
for name in ('Lê Văn Nam', 'Phạm Thị Hoa'):
    hh = ok_run('add a household', 'add', 'household', f'head_name={name}', f'org_unit_id={commune}').strip()
    regs.append(ok_run('register it', 'add', 'registration', 'model=family', 'year=2025', f'org_unit_id={commune}',
                       'subject_kind=household', f'subject_id={hh}', f'subject_name={name}',
                       'status=registered').strip())
refused('total 12 as level 3 on a points set',
        ['add', 'evaluation', f'registration_id={regs[0]}', f'org_unit_id={commune}', f'criteria_set_id={family_set}',
         'total=12', 'result=level3'], 'Total points')
refused('95 points on a 30-point criterion',
        ['add', 'evaluation', f'registration_id={regs[0]}', f'org_unit_id={commune}', f'criteria_set_id={family_set}',
         'scores={"1": 95}'], 'at most 30')
refused('88 points recorded as fail',
        ['add', 'evaluation', f'registration_id={regs[0]}', f'org_unit_id={commune}', f'criteria_set_id={family_set}',
         'scores={"1": 28, "2": 25, "3": 18, "4": 17}', 'result=fail'], 'contradicts')
for reg, scores in zip(regs, ('{"1": 28, "2": 25, "3": 18, "4": 17}', '{"1": 10, "2": 10}')):
    ok_run('add an evaluation', 'add', 'evaluation', f'registration_id={reg}', f'org_unit_id={commune}',
           f'criteria_set_id={family_set}', f'scores={scores}')
states = {r['id']: r for r in json.loads(ok_run('list registrations', '--json', 'list', 'registration'))}
check('a CLI evaluation moves the state', states[regs[0]].get('state') == 'passed'
      and states[regs[0]].get('total') == 88 and states[regs[1]].get('state') == 'not_passed', states)
refused('no district after the reform',
        ['recognize', '--decision', '5/QĐ-UBND', '--date', '20/12/2025', '--level', 'district',
         '--unit', '22333', '--model', 'family', '--year', '2025'], 'district')
refused('not one that did not pass', ['recognize', '--decision', '5/QĐ-UBND', '--date', '20/12/2025',
                                      '--level', 'commune', regs[1]], 'did not pass')
out = json.loads(ok_run('recognize all that passed', '--json', 'recognize', '--decision', '5/QĐ-UBND',
                        '--date', '20/12/2025', '--level', 'commune', '--unit', '22333', '--model', 'family',
                        '--year', '2025'))
check('one decision, the one that passed', out.get('recognized') == 1, out)
states = {r['id']: r for r in json.loads(ok_run('list registrations', '--json', 'list', 'registration'))}
check('recognized', states[regs[0]].get('state') == 'recognized', states)

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
