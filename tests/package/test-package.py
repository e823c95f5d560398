#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-package.py SOURCE: the Debian packages, built, installed into a throwaway root, run.

Builds the packages once from SOURCE with debian/build-packages.sh (dpkg-buildpackage and
lintian, about half a minute on two cores: the package build leaves the tests out), extracts
every .deb into a throwaway root and runs only what is there: the three programs' --help, the
system user and the database folder made from the package's sysusers.d and tmpfiles.d files,
the server's `init`, and a sync between the installed client and the installed server, a record
pushed by one replica and pulled by another. Nothing from the build folder is on any path.
Prints TAP.
"""
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

source = sys.argv[1]
tmp = tempfile.TemporaryDirectory(prefix='khuyenhoc-package-')
out = os.path.join(tmp.name, 'out')
root = os.path.join(tmp.name, 'root')
results = []


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


def finish():
    print('1..%d' % len(results))
    for i, (name, ok, detail) in enumerate(results, 1):
        print('%s %d - %s' % ('ok' if ok else 'not ok', i, name))
        if not ok and detail:
            for line in str(detail).splitlines()[-30:]:
                print('# ' + line)
    sys.exit(0 if all(ok for _, ok, _ in results) else 1)


# Only the installed root: no build folder, no locale or schema variables of ./dev.
env = {k: v for k, v in os.environ.items()
       if not k.startswith('KHUYENHOC') and k not in ('GSETTINGS_SCHEMA_DIR', 'LD_LIBRARY_PATH')}
env.update(LC_ALL='C.UTF-8', LANGUAGE='', HOME=os.path.join(tmp.name, 'home'),
           XDG_DATA_HOME=os.path.join(tmp.name, 'home', 'data'), PATH='/usr/bin:/bin')
# The installed client seals its replicas; with no keyring here, it takes the passphrase a script
# gives it (the way the README shows).
env['KHUYENHOC_PASSPHRASE'] = 'a passphrase for the package test'


def run(argv, stdin='', timeout=120):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


p = subprocess.run([os.path.join(source, 'debian', 'build-packages.sh'), source, out],
                   capture_output=True, text=True)
check('dpkg-buildpackage and lintian', p.returncode == 0, p.stdout + p.stderr)
debs = sorted(f for f in os.listdir(out) if f.endswith('.deb') and '-dbgsym' not in f) \
    if os.path.isdir(out) else []
names = [d.split('_')[0] for d in debs]
check('the packages: khuyenhoc, khuyenhoc-server, khuyenhoc-common',
      sorted(names) == ['khuyenhoc', 'khuyenhoc-common', 'khuyenhoc-server'], names)
if p.returncode != 0 or not debs:
    finish()

os.makedirs(root)
for d in debs:
    subprocess.run(['dpkg-deb', '-x', os.path.join(out, d), root], check=True)

server = os.path.join(root, 'usr/bin/khuyenhoc-server')
cli = os.path.join(root, 'usr/bin/khuyenhoc-cli')
app = os.path.join(root, 'usr/bin/khuyenhoc')
for prog in (server, cli, app):
    rc, o, e = run([prog, '--help'])
    check('%s --help' % os.path.basename(prog), rc == 0 and 'Usage' in o, (rc, o, e))

for f in ('usr/share/applications/vn.khuyenhoc.KhuyenHoc.desktop',
          'usr/share/metainfo/vn.khuyenhoc.KhuyenHoc.metainfo.xml',
          'usr/share/glib-2.0/schemas/vn.khuyenhoc.KhuyenHoc.gschema.xml',
          'usr/share/icons/hicolor/scalable/apps/vn.khuyenhoc.KhuyenHoc.svg',
          'usr/share/locale/vi/LC_MESSAGES/khuyenhoc.mo',
          'usr/share/man/man1/khuyenhoc-cli.1.gz', 'usr/share/man/man8/khuyenhoc-server.8.gz'):
    check('installed: /' + f, os.path.isfile(os.path.join(root, f)))

unit = os.path.join(root, 'lib/systemd/system/khuyenhoc-server.service')
text = open(unit).read() if os.path.isfile(unit) else ''
check('the unit runs the installed server as khuyenhoc',
      'ExecStart=/usr/bin/khuyenhoc-server serve' in text and 'User=khuyenhoc' in text, text)

# The maintainer scripts run systemd-sysusers and systemd-tmpfiles on the package's files
# (dh_installsysusers, dh_installtmpfiles); here they run on the throwaway root.
ctl = os.path.join(tmp.name, 'ctl')
subprocess.run(['dpkg-deb', '-e', os.path.join(out, debs[names.index('khuyenhoc-server')]), ctl],
               check=True)
postinst = open(os.path.join(ctl, 'postinst')).read()
check('postinst makes the user and the folder',
      'systemd-sysusers' in postinst and 'khuyenhoc-server.conf' in postinst
      and 'systemd-tmpfiles' in postinst
      and postinst.index('systemd-sysusers') < postinst.index('systemd-tmpfiles'), postinst)
state = os.path.join(root, 'var/lib/khuyenhoc')
if os.geteuid() == 0 and shutil.which('systemd-sysusers') and shutil.which('systemd-tmpfiles'):
    os.makedirs(os.path.join(root, 'etc'), exist_ok=True)
    rc, o, e = run(['systemd-sysusers', '--root=' + root,
                    os.path.join(root, 'usr/lib/sysusers.d/khuyenhoc-server.conf')])
    check('systemd-sysusers adds the user', rc == 0, (rc, o, e))
    rc, o, e = run(['systemd-tmpfiles', '--root=' + root, '--create',
                    os.path.join(root, 'usr/lib/tmpfiles.d/khuyenhoc-server.conf')])
    check('systemd-tmpfiles makes the database folder', rc == 0, (rc, o, e))
    users = {}
    for line in open(os.path.join(root, 'etc/passwd')):
        f = line.rstrip('\n').split(':')
        users[f[0]] = f
    user = users.get('khuyenhoc')
    check('the user khuyenhoc: a system account, no shell, its home the database folder',
          user is not None and int(user[2]) < 1000 and user[5] == '/var/lib/khuyenhoc'
          and user[6] == '/usr/sbin/nologin', user)
    st = os.stat(state) if os.path.isdir(state) else None
    check('/var/lib/khuyenhoc: owned by khuyenhoc, mode 0700',
          st is not None and user is not None and st.st_uid == int(user[2])
          and stat.S_IMODE(st.st_mode) == 0o700, st)
else:
    print('# not root or no systemd-sysusers: the user and folder are not made here')
    os.makedirs(state, mode=0o700)

db = 'sqlite:' + os.path.join(state, 'server.db')
rc, o, e = run([server, '--db', db, 'init'])
check('khuyenhoc-server init', rc == 0 and 'ready (epoch 1)' in o, (rc, o, e))
accounts = os.path.join(tmp.name, 'accounts.txt')
rc, o, e = run([server, '--db', db, 'demo', '--records', '200', '--credentials', accounts])
check('khuyenhoc-server demo', rc == 0, (rc, o, e))

port_file = os.path.join(tmp.name, 'port')
log = open(os.path.join(tmp.name, 'server.log'), 'w')
serving = subprocess.Popen([server, '--db', db, 'serve', '--listen', '127.0.0.1:0',
                            '--port-file', port_file], stdout=log, stderr=log, env=env)
try:
    for _ in range(100):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.1)
    url = 'http://127.0.0.1:%s' % open(port_file).read().strip()
    admin_pw = [l.split('\t')[1] for l in open(accounts) if l.startswith('admin\t')][0]

    one = os.path.join(tmp.name, 'one.db')
    two = os.path.join(tmp.name, 'two.db')
    for replica in (one, two):
        rc, o, e = run([cli, '--db', replica, 'login', '--server', url, '--user', 'admin'],
                       stdin=admin_pw + '\n')
        check('login from the installed client', rc == 0, (rc, o, e))
        rc, o, e = run([cli, '--db', replica, 'sync'])
        check('first sync from the installed client', rc == 0, (rc, o, e))
    rc, o, e = run([cli, '--db', one, 'count', 'org_unit'])
    check('the pulled replica has the units', rc == 0 and int(o.split()[0]) > 0, (rc, o, e))
    rc, o, e = run([cli, '--db', one, 'list', 'fund', '--limit', '1'])
    fund = o.split()[0] if rc == 0 and o.strip() else None
    check('a fund to change', fund is not None, (rc, o, e))
    rc, o, e = run([cli, '--db', one, 'set', 'fund', str(fund), 'name=Quỹ đóng gói'])
    check('a change on one replica', rc == 0, (rc, o, e))
    rc, o, e = run([cli, '--db', one, 'sync'])
    check('pushed by one replica', rc == 0, (rc, o, e))
    rc, o, e = run([cli, '--db', two, 'sync'])
    rc2, o2, e2 = run([cli, '--db', two, 'get', 'fund', str(fund)])
    check('pulled by the other', rc == 0 and rc2 == 0 and 'Quỹ đóng gói' in o2, (rc, o, e, o2, e2))
finally:
    serving.send_signal(signal.SIGTERM)
    try:
        serving.wait(timeout=30)
    except subprocess.TimeoutExpired:
        serving.kill()
    log.close()
check('the server stops on SIGTERM', serving.returncode == 0, serving.returncode)
finish()
