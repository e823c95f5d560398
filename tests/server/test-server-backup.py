#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-server-backup.py SERVER CLI: a server restored from a backup, and its clients after it.

SQLite: `backup FILE` while clients push (each copy sound, of one moment, mode 0600), then
`restore FILE`, which bumps the epoch by itself. PostgreSQL (with KH_TEST_PG_URL): the README's
pg_dump, pg_restore and `epoch bump`. On both, a client with a change it had not sent yet
reconciles after the restore: it re-pulls, its change reaches the server and another replica,
and `verify` finds the replica and the server alike. Prints TAP.
"""
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import tempfile
import threading
import time

server_bin, cli = sys.argv[1], sys.argv[2]
tmp = tempfile.TemporaryDirectory(prefix='khuyenhoc-backup-')
env = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='')
results = []


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


def path(name):
    return os.path.join(tmp.name, name)


def server(db, *args):
    p = subprocess.run([server_bin, '--db', db] + list(args), capture_output=True, text=True,
                       env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def client(replica, *args, stdin=None):
    p = subprocess.run([cli, '--db', path(replica)] + list(args), input=stdin, capture_output=True,
                       text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


class Serving:
    def __init__(self, db, name, port=0):
        self.port_file = path(name + '.port')
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(path(name + '.log'), 'a')
        self.p = subprocess.Popen([server_bin, '--db', db, 'serve', '--listen', '127.0.0.1:%d' % port,
                                   '--port-file', self.port_file], stdout=self.log,
                                  stderr=self.log, env=env)
        for _ in range(300):
            if os.path.exists(self.port_file) and open(self.port_file).read().endswith('\n'):
                break
            if self.p.poll() is not None:
                break
            time.sleep(0.05)
        if not os.path.exists(self.port_file):
            self.log.flush()
            raise RuntimeError('serve did not start: ' + open(path(name + '.log')).read())
        self.port = int(open(self.port_file).read())
        self.url = 'http://127.0.0.1:%d' % self.port

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        rc = self.p.wait(timeout=60)
        self.log.close()
        return rc


def login(replica, url, accounts):
    pw = [l.split('\t')[1] for l in open(accounts) if l.startswith('admin\t')][0]
    return client(replica, 'login', '--server', url, '--user', 'admin', stdin=pw + '\n')


def funds(replica, n):
    rc, out, err = client(replica, 'list', 'fund', '--limit', str(n))
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def name_of(replica, fund):
    rc, out, err = client(replica, 'get', 'fund', fund)
    for line in out.splitlines():
        if line.strip().startswith('name'):
            return line.split(None, 1)[1].strip() if len(line.split(None, 1)) > 1 else ''
    return out


def after_restore(tag, db, accounts, url, unsent_fund, unsent_name):
    """The client with an unsent change syncs against the restored server; a fresh replica too."""
    rc, out, err = client(tag + '-one.db', 'sync')
    check('%s: the client syncs after the restore' % tag, rc == 0, (rc, out, err))
    rc, out, err = client(tag + '-one.db', 'get', 'fund', unsent_fund)
    check('%s: the change it had not sent is kept' % tag, rc == 0 and unsent_name in out, (rc, out, err))
    rc, out, err = login(tag + '-three.db', url, accounts)
    rc2, out2, err2 = client(tag + '-three.db', 'sync')
    rc3, out3, err3 = client(tag + '-three.db', 'get', 'fund', unsent_fund)
    check('%s: and reaches the server and another replica' % tag,
          rc == 0 and rc2 == 0 and unsent_name in out3, (rc, err, rc2, err2, out3, err3))
    rc, out, err = client(tag + '-one.db', 'verify')
    check('%s: verify finds the replica and the restored server alike' % tag, rc == 0,
          (rc, out, err))
    rc, out, err = client(tag + '-one.db', 'check')
    check('%s: no local change can be lost' % tag, rc == 0, (rc, out, err))


# SQLite --------------------------------------------------------------------------------------
db = 'sqlite:' + path('server.db')
accounts = path('accounts.txt')
rc, out, err = server(db, 'demo', '--records', '300', '--credentials', accounts)
check('sqlite: demo', rc == 0, (rc, out, err))
s = Serving(db, 'sqlite')
for replica in ('sqlite-one.db', 'sqlite-two.db'):
    rc, out, err = login(replica, s.url, accounts)
    rc2, out2, err2 = client(replica, 'sync')
    check('sqlite: %s signs in and syncs' % replica, rc == 0 and rc2 == 0, (err, err2))
one_funds = funds('sqlite-one.db', 2)
two_fund = funds('sqlite-two.db', 3)[-1]

# Backups while another client pushes.
stop = threading.Event()
pushes = []


def pusher():
    i = 0
    while not stop.is_set():
        i += 1
        if client('sqlite-two.db', 'set', 'fund', two_fund, 'name=Quỹ lần %d' % i)[0] == 0 \
                and client('sqlite-two.db', 'sync')[0] == 0:
            pushes.append(i)


t = threading.Thread(target=pusher)
t.start()
time.sleep(0.5)
copies = []
for n in range(3):
    rc, out, err = server(db, 'backup', path('backup-%d.db' % n))
    copies.append((rc, out, err))
    time.sleep(0.3)
stop.set()
t.join()
check('sqlite: three backups while a client pushes', all(c[0] == 0 for c in copies) and pushes,
      (copies, pushes))
for n in range(3):
    f = path('backup-%d.db' % n)
    ok = os.path.exists(f) and not os.path.exists(f + '.partial')
    if ok:
        con = sqlite3.connect('file:%s?mode=ro' % f, uri=True)
        integrity = con.execute('PRAGMA integrity_check').fetchone()[0]
        version = con.execute('SELECT version FROM counter').fetchone()[0]
        highest = con.execute('SELECT MAX(version) FROM records').fetchone()[0]
        con.close()
        ok = integrity == 'ok' and version == highest
    check('sqlite: backup %d is sound and of one moment (its counter is its newest record)' % n, ok)
check('sqlite: the backup is readable by its owner only',
      stat.S_IMODE(os.stat(path('backup-2.db')).st_mode) == 0o600)

# After the backup: a change sent (the restore takes it back) and one not sent yet.
rc, out, err = client('sqlite-one.db', 'set', 'fund', one_funds[0], 'name=Quỹ sau sao lưu')
rc2, out2, err2 = client('sqlite-one.db', 'sync')
check('sqlite: a change pushed after the backup', rc == 0 and rc2 == 0, (err, err2))
rc, out, err = client('sqlite-one.db', 'set', 'fund', one_funds[1], 'name=Quỹ chưa gửi')
check('sqlite: a change not sent yet', rc == 0, (rc, out, err))
check('sqlite: the server stops', s.stop() == 0)

other = 'sqlite:' + path('other.db')
server(other, 'init')
rc, out, err = server(other, 'backup', path('other-backup.db'))
rc, out, err = server(db, 'restore', path('other-backup.db'))
check('sqlite: restore refuses a backup of another server',
      rc == 1 and 'another server' in err and err.count('\n') == 1, (rc, out, err))
rc, out, err = server(db, 'restore', path('backup-2.db'))
check('sqlite: restore puts the backup back and bumps the epoch',
      rc == 0 and 'the epoch is now 2' in out, (rc, out, err))
rc, out, err = server(db, 'init')
check('sqlite: the restored database has epoch 2', rc == 0 and '(epoch 2)' in out, (rc, out, err))
rc, out, err = server('postgresql:///nothing', 'backup', path('x.db'))
check('backup of PostgreSQL points at pg_dump', rc == 1 and 'pg_dump' in err, (rc, out, err))

# On the same address: the clients know the server by it.
s = Serving(db, 'sqlite', s.port)
after_restore('sqlite', db, accounts, s.url, one_funds[1], 'Quỹ chưa gửi')
check('sqlite: the restarted server stops', s.stop() == 0)

# PostgreSQL ----------------------------------------------------------------------------------
admin_url = os.environ.get('KH_TEST_PG_URL')
if admin_url:
    name = 'kh_backup_%d' % os.getpid()
    base, _, query = admin_url.partition('?')
    pg = base[:base.rindex('/') + 1] + name + ('?' + query if query else '')
    subprocess.run(['psql', '-q', '-d', admin_url, '-c', 'CREATE DATABASE %s' % name], check=True,
                   capture_output=True)
    try:
        accounts = path('pg-accounts.txt')
        rc, out, err = server(pg, 'demo', '--records', '300', '--credentials', accounts)
        check('postgresql: demo', rc == 0, (rc, out, err))
        s = Serving(pg, 'pg')
        rc, out, err = login('pg-one.db', s.url, accounts)
        rc2, out2, err2 = client('pg-one.db', 'sync')
        check('postgresql: a client signs in and syncs', rc == 0 and rc2 == 0, (err, err2))
        one_funds = funds('pg-one.db', 2)

        # The README's commands (docs/ops/postgresql-backup.sh), with $DB the database.
        dump = path('khuyenhoc.dump')
        p = subprocess.run(['pg_dump', '--format=custom', '--file=' + dump, pg],
                           capture_output=True, text=True)
        check('postgresql: pg_dump while serving', p.returncode == 0, p.stderr)
        rc, out, err = client('pg-one.db', 'set', 'fund', one_funds[0], 'name=Quỹ sau sao lưu')
        rc2, out2, err2 = client('pg-one.db', 'sync')
        check('postgresql: a change pushed after the dump', rc == 0 and rc2 == 0, (err, err2))
        rc, out, err = client('pg-one.db', 'set', 'fund', one_funds[1], 'name=Quỹ chưa gửi')
        check('postgresql: a change not sent yet', rc == 0, (rc, out, err))
        check('postgresql: the server stops', s.stop() == 0)
        p = subprocess.run(['pg_restore', '--clean', '--if-exists', '--no-owner', '--dbname=' + pg, dump],
                           capture_output=True, text=True)
        check('postgresql: pg_restore', p.returncode == 0, p.stderr)
        rc, out, err = server(pg, 'epoch', 'bump')
        check('postgresql: epoch bump', rc == 0 and 'The epoch is now 2' in out, (rc, out, err))
        s = Serving(pg, 'pg', s.port)
        after_restore('pg', pg, accounts, s.url, one_funds[1], 'Quỹ chưa gửi')
        check('postgresql: the restarted server stops', s.stop() == 0)
    finally:
        subprocess.run(['psql', '-q', '-d', admin_url, '-c', 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name],
                       capture_output=True)
else:
    print('# KH_TEST_PG_URL is not set: PostgreSQL is not tried')

print('1..%d' % len(results))
for i, (name, ok, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
    if not ok and detail:
        for line in str(detail).splitlines()[-20:]:
            print('# ' + line)
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
