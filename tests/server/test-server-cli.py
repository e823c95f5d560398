#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-server-cli.py: the README's khuyenhoc-server and sync commands, as an officer types them.

The admin commands on a fresh SQLite database, `serve` on a free port, then khuyenhoc-cli
login/sync/status/conflicts/resolve/verify/logout against it, with a wrong password, a revoked
token and a disabled account. Every refusal is one line with a non-zero status; usage errors
name the command's usage; --help is on stdout with status 0; Vietnamese is translated.
Prints TAP.
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

server_bin, cli = sys.argv[1], sys.argv[2]
tmp = tempfile.TemporaryDirectory(prefix='khuyenhoc-server-cli-')
db_url = 'sqlite:' + os.path.join(tmp.name, 'server.db')
env = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='')
vi_env = dict(env, LANGUAGE='vi', LC_ALL='vi_VN.UTF-8')
results = []


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


def server(*args, stdin='', db=True, environ=None):
    argv = [server_bin] + (['--db', db_url] if db else []) + list(args)
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=environ or env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def client(*args, environ=None):
    p = subprocess.run([cli, '--db', os.path.join(tmp.name, 'client.db'), *args], capture_output=True,
                       text=True, env=environ or env, timeout=120)
    return p.returncode, p.stdout, p.stderr


def path(name, contents=None):
    p = os.path.join(tmp.name, name)
    if contents is not None:
        with open(p, 'w') as f:
            f.write(contents)
    return p


def one_line(err):
    return err.count('\n') == 1 and 'CRITICAL' not in err and 'WARNING' not in err


# The README's admin block, in order.
rc, out, err = server('init')
check('init', rc == 0 and 'ready (epoch 1)' in out, (rc, out, err))
units = path('units.csv', 'code,name,kind,parent_code,valid_from\n'
                          '56N,Tỉnh Khánh Hòa,province,,01/07/2025\n'
                          'N001,Phường Nha Trang,ward,56N,01/07/2025\n'
                          'N002,"Xã Vĩnh Lương, mới",commune,56N,01/07/2025\n')
rc, out, err = server('org', 'import', units)
check('org import', rc == 0 and 'Imported 3 units' in out, (rc, out, err))
pw = path('pw.txt', 'mat-khau-cua-hoa\n')
rc, out, err = server('user', 'add', 'hoa', '--role', 'officer', '--scope', 'N001', '--password-file', pw)
check('user add --password-file', rc == 0 and 'Added hoa (officer, scope N001)' in out, (rc, out, err))
rc, out, err = server('user', 'add', 'lan', '--role', 'viewer', '--scope', 'N002', stdin='mat-khau-cua-lan\n')
check('user add, the password on stdin', rc == 0, (rc, out, err))
spaced = path('spaced.txt', 'mat khau co dau cach  \r\n')
rc, out, err = server('user', 'add', 'tuan', '--role', 'viewer', '--scope', 'N001', '--password-file', spaced)
check('user add, a password that ends in spaces', rc == 0, (rc, out, err))
rc, out, err = server('user', 'list')
check('user list', rc == 0 and 'hoa\tofficer\tN001\tactive' in out, out)
rc, out, err = server('user', 'scope', 'hoa', 'N002')
check('user scope', rc == 0 and 'hoa now works in N002' in out, (rc, out, err))
rc, out, err = server('user', 'scope', 'hoa', 'N001')
rc, out, err = server('epoch', 'bump')
check('epoch bump', rc == 0 and 'The epoch is now 2' in out, (rc, out, err))
accounts = path('accounts.txt')
rc, out, err = server('demo', '--records', '300', '--credentials', accounts)
check('demo --records --credentials', rc == 0 and 'Accounts are in' in out and os.path.exists(accounts),
      (rc, out, err))
officer_pw = path('officer.txt', [line.split('\t')[1] for line in open(accounts) if line.startswith('officer')][0])

# Refusals of the admin commands: one line, status 2 for a usage error and 1 for a failure.
def refused(name, args, status, words, usage=None, **kw):
    rc, out, err = server(*args, **kw)
    check(name, rc == status and out == '' and one_line(err) and err.startswith('khuyenhoc-server: ')
          and words in err and (usage is None or 'Usage: khuyenhoc-server ' + usage in err), (rc, out, err))


refused('no command', [], 2, 'No command was given. Run “khuyenhoc-server --help”')
refused('unknown command', ['frob'], 2, 'Unknown command “frob”')
refused('unknown user command', ['user', 'frob'], 2, 'Unknown command “user frob”')
refused('--role without its value', ['user', 'add', 'x', '--role'], 2, 'The option --role needs a value',
        'user add NAME')
refused('user add without --scope', ['user', 'add', 'x', '--role', 'officer'], 2, '“user add” needs --scope CODE',
        'user add NAME')
refused('user add with two names', ['user', 'add', 'x', 'y', '--role', 'officer', '--scope', 'N001'], 2,
        'Too many arguments after “user add”')
refused('user disable without a name', ['user', 'disable'], 2, 'Something is missing after “user disable”',
        'user disable NAME')
refused('token revoke without a name', ['token', 'revoke'], 2, 'Something is missing after “token revoke”',
        'token revoke NAME')
refused('demo --records not a number', ['demo', '--records', 'abc'], 2,
        '--records needs a whole number from 1 to 100000000, not “abc”', 'demo [--records N]')
refused('serve --threads not a number', ['serve', '--threads', 'bốn'], 2, '--threads needs a whole number',
        'serve [--listen HOST:PORT]')
refused('serve with an unknown option', ['serve', '--fast'], 2, 'Unknown option “--fast”')
refused('--db without its value', ['--db'], 2, 'The option --db needs a value', db=False)
refused('a role that does not exist', ['user', 'add', 'x', '--role', 'boss', '--scope', 'N001'], 1,
        'The role must be admin, officer or viewer', stdin='pw\n')
refused('a scope that does not exist', ['user', 'add', 'x', '--role', 'officer', '--scope', 'N999'], 1,
        'There is no org unit with the code “N999”', stdin='mat-khau-du-dai\n')
refused('a password file that does not exist',
        ['user', 'add', 'x', '--role', 'officer', '--scope', 'N001', '--password-file', path('none.txt')], 1,
        'does not exist')
refused('a unit list that does not exist', ['org', 'import', path('none.csv')], 1, 'There is no file')
refused('an unknown user', ['user', 'disable', 'nobody'], 1, 'There is no user called “nobody”')
notdb = path('notes.txt', 'Danh sách học bổng\n' * 50)
refused('a file that is not SQLite', ['--db', 'sqlite:' + notdb, 'init'], 1, 'not an SQLite file', db=False)
check('…left as it was', open(notdb).read() == 'Danh sách học bổng\n' * 50)
refused('a folder that does not exist', ['--db', 'sqlite:' + path('no/such/server.db'), 'init'], 1,
        'does not exist: create it', db=False)
if os.geteuid() == 0:
    ro_dir = '/sys'
else:
    ro_dir = path('read-only')
    os.mkdir(ro_dir, 0o555)
refused('a read-only folder', ['--db', 'sqlite:' + os.path.join(ro_dir, 'server.db'), 'init'], 1,
        'cannot be written to', db=False)
refused('a database URL without its kind', ['--db', path('server.db'), 'init'], 1,
        'is not a database URL', db=False)

rc, out, err = server('--help', db=False)
check('--help on stdout, status 0', rc == 0 and err == '' and all(
    c in out for c in ['init', 'user add', 'user list', 'user disable', 'user scope', 'token revoke',
                       'org import', 'epoch bump', 'demo', 'serve']), (rc, out, err))
rc, out, err = server('serve', '--help', db=False)
check('serve --help', rc == 0 and out.startswith('Usage: khuyenhoc-server [--db URL] serve [--listen'), out)
rc, out, err = server('frob', environ=vi_env)
check('Vietnamese: an unknown command', rc == 2 and 'Không có lệnh “frob”' in err, err)
rc, out, err = server('user', 'add', 'x', '--role', environ=vi_env)
check('Vietnamese: a usage error', rc == 2 and 'Cách dùng: khuyenhoc-server user add TÊN' in err, err)
en = server('--help', db=False)[1]
vi = server('--help', db=False, environ=vi_env)[1]
same = (set(en.splitlines()) & set(vi.splitlines())) - {''}
check('Vietnamese: --help has no English line left', not same, same)

# serve on a free port, then the README's sync block against it.
port_file = path('port')
log = open(path('serve.log'), 'w')
proc = subprocess.Popen([server_bin, '--db', db_url, 'serve', '--listen', '127.0.0.1:0', '--port-file', port_file],
                        stdout=log, stderr=log, env=env)
try:
    for _ in range(600):
        if os.path.exists(port_file) and open(port_file).read().endswith('\n'):
            break
        if proc.poll() is not None:
            break
        time.sleep(0.02)
    base = 'http://127.0.0.1:%d' % int(open(port_file).read())
    login = ['login', '--server', base, '--user', 'officer', '--attempts', '2', '--backoff', '0']

    rc, out, err = server('serve', '--listen', base[len('http://'):])
    check('serve on a port in use says so', rc == 1 and one_line(err)
          and 'another program already uses that port' in err, (rc, out, err))
    rc, out, err = server('serve', '--listen', '192.0.2.1:8080')
    check('serve on an address of another machine says so', rc == 1 and one_line(err)
          and 'is not one of this machine' in err, (rc, out, err))

    p = subprocess.run([cli, '--db', path('tuan.db'), 'login', '--server', base, '--user', 'tuan',
                        '--password-file', spaced], capture_output=True, text=True, env=env, timeout=60)
    check('the same password file signs in: both programs read its first line alike',
          p.returncode == 0, (p.returncode, p.stdout, p.stderr))
    rc, out, err = client(*login[:5], '--password-file', pw)
    check('a wrong password is refused in one line', rc == 1 and out == ''
          and err == 'Wrong user name or password.\n', (rc, out, err))
    # The server runs in English; the officer reads its answer in Vietnamese.
    rc, out, err = client(*login[:5], '--password-file', pw, environ=vi_env)
    check('Vietnamese: a wrong password', rc == 1 and out == '' and one_line(err) and 'Wrong' not in err,
          (rc, out, err))
    rc, out, err = client(*login, '--password-file', officer_pw)
    check('login', rc == 0 and f'Signed in as officer at {base}.' in out, (rc, out, err))
    rc, out, err = client('--json', 'sync')
    report = json.loads(out) if rc == 0 else {}
    check('sync --json', rc == 0 and report.get('ok') is True and report.get('pulled', 0) > 0, (rc, out, err))
    rc, out, err = client('sync')
    check('sync says what moved, one request in the singular', rc == 0
          and 'in 1 request,' in out, (rc, out, err))
    rc, out, err = client('status')
    check('status names the server and the account', rc == 0 and f'Server: {base} (as officer)' in out, out)
    rc, out, err = client('conflicts')
    check('conflicts', rc == 0 and out == 'No conflicts.\n', (rc, out, err))
    rc, out, err = client('resolve', '01900000-0000-7000-8000-000000000000', 'phone', 'mine')
    check('resolve without a conflict is refused', rc == 1 and one_line(err) and 'no open conflict' in err,
          (rc, out, err))
    rc, out, err = client('verify')
    check('verify', rc == 0 and 'The replica matches the server.' in out, (rc, out, err))

    # Erasing a person: asked of the server, taken in by this replica's sync at once.
    rc, out, err = client('list', 'org_unit')
    unit = next((l.split('\t')[0] for l in out.splitlines() if 'N001' in l), None)
    rc, out, err = client('add', 'person', 'full_name=Mấu Thị Hoa', f'org_unit_id={unit}',
                          'birth_date=2015-04-02', 'national_id=056215009999')
    person = out.strip()
    check('add a child', rc == 0 and len(person) == 36, (rc, out, err))
    rc, out, err = client('no-consent')
    check('no-consent lists the child', rc == 0 and 'Mấu Thị Hoa' in out, (rc, out, err))
    rc, out, err = client('sync')
    rc, out, err = client('erase', person)
    check('erase needs a reason', rc == 2, (rc, out, err))
    rc, out, err = client('erase', person, '--reason', 'Gia đình yêu cầu')
    check('erase', rc == 0 and 'Erased' in out, (rc, out, err))
    rc, out, err = client('get', 'person', person)
    check('the erased person has no data left here', rc == 0 and 'Mấu' not in out and '056215009999' not in out
          and '(deleted)' in out, (rc, out, err))

    rc, out, err = server('token', 'revoke', 'officer')
    check('token revoke says how many, in the singular', rc == 0 and out == 'Revoked 1 token of officer.\n', out)
    rc, out, err = client('sync')
    check('a revoked token: sign in again', rc == 1 and one_line(err) and 'log in again' in err, (rc, out, err))
    rc, out, err = client(*login, '--password-file', officer_pw)
    check('login again', rc == 0, (rc, out, err))
    rc, out, err = client('sync')
    check('…and sync works', rc == 0, (rc, out, err))
    rc, out, err = server('user', 'disable', 'officer')
    rc, out, err = client('sync', environ=vi_env)
    check('a disabled account, in Vietnamese', rc == 1 and one_line(err) and 'đăng nhập lại' in err, err)
    rc, out, err = client('logout')
    check('logout', rc == 0 and 'Signed out' in out, (rc, out, err))
    rc, out, err = client('sync')
    check('sync after logout says to sign in', rc == 1 and 'Sign in to a server first' in err, err)
    rc, out, err = client('status')
    check('status after logout says so', rc == 0 and 'signed out' in out, out)
    rc, out, err = client('--json', 'status')
    check('status --json after logout', rc == 0 and json.loads(out).get('signed_in') is False, out)
finally:
    proc.send_signal(signal.SIGTERM)
    check('serve stops cleanly on SIGTERM', proc.wait(timeout=60) == 0)
    log.close()

print(f'1..{len(results)}')
for i, (name, passed, detail) in enumerate(results, 1):
    print(f'{"ok" if passed else "not ok"} {i} - /server/cli/{name}')
    if not passed:
        print('# ' + str(detail).replace('\n', '\n# '))
sys.exit(0)
