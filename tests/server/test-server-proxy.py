#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""test-server-proxy.py SERVER CLI SOURCE: the README's nginx set-up, run.

A throwaway CA and certificate (openssl), two `serve` processes on one PostgreSQL database
(KH_TEST_PG_URL), and Debian's nginx with docs/nginx-khuyenhoc.conf, of which only the
addresses and the certificate's paths are changed. Clients sign in and sync through it over
HTTPS with --ca-file; one refuses the certificate without it; both servers answer; one server
stopped, the clients go on through the other. Prints TAP.
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

server_bin, cli, source = sys.argv[1], sys.argv[2], sys.argv[3]
nginx = '/usr/sbin/nginx'
admin_url = os.environ.get('KH_TEST_PG_URL')
if not admin_url or not os.path.exists(nginx):
    print('1..0 # SKIP needs KH_TEST_PG_URL (./dev test) and nginx')
    sys.exit(0)

tmp = tempfile.TemporaryDirectory(prefix='khuyenhoc-proxy-')
env = dict(os.environ, LC_ALL='C.UTF-8', LANGUAGE='')
results = []
procs = []


def check(name, cond, detail=''):
    results.append((name, bool(cond), detail))


def path(name):
    return os.path.join(tmp.name, name)


def run(argv, stdin=None):
    p = subprocess.run(argv, input=stdin, capture_output=True, text=True, env=env, timeout=300)
    return p.returncode, p.stdout, p.stderr


def client(replica, *args, stdin=None):
    return run([cli, '--db', path(replica)] + list(args), stdin=stdin)


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc):
    for _ in range(200):
        if proc.poll() is not None:
            return False
        with socket.socket() as s:
            if s.connect_ex(('127.0.0.1', port)) == 0:
                return True
        time.sleep(0.05)
    return False


# A CA and a certificate for localhost, as an organisation's own CA would issue.
ca_key, ca, key, csr, cert = (path(n) for n in ('ca.key', 'ca.pem', 'server.key', 'server.csr',
                                                 'server.pem'))
ext = path('san.ext')
with open(ext, 'w') as f:
    f.write('subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n'
            'keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n')
steps = [
    ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', ca_key, '-out', ca,
     '-days', '2', '-subj', '/CN=Khuyen Hoc test CA'],
    ['openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', csr,
     '-subj', '/CN=localhost'],
    ['openssl', 'x509', '-req', '-in', csr, '-CA', ca, '-CAkey', ca_key, '-CAcreateserial',
     '-out', cert, '-days', '2', '-extfile', ext],
]
ok = all(run(s)[0] == 0 for s in steps)
check('a throwaway CA and certificate', ok)

name = 'kh_proxy_%d' % os.getpid()
base, _, query = admin_url.partition('?')
db = base[:base.rindex('/') + 1] + name + ('?' + query if query else '')
subprocess.run(['psql', '-q', '-d', admin_url, '-c', 'CREATE DATABASE %s' % name], check=True,
               capture_output=True)
try:
    accounts = path('accounts.txt')
    rc, out, err = run([server_bin, '--db', db, 'demo', '--records', '300', '--credentials', accounts])
    check('demo data on PostgreSQL', rc == 0, (rc, out, err))
    admin_pw = [l.split('\t')[1] for l in open(accounts) if l.startswith('admin\t')][0]

    servers = []
    for i in range(2):
        port = free_port()
        log = open(path('serve-%d.log' % i), 'w')
        p = subprocess.Popen([server_bin, '--db', db, 'serve', '--listen', '127.0.0.1:%d' % port],
                             stdout=log, stderr=log, env=env)
        procs.append(p)
        servers.append((p, port, log))
        check('serve %d listens' % i, wait_port(port, p))

    # The README's file, its addresses and paths changed, and nothing else.
    example = open(os.path.join(source, 'docs', 'nginx-khuyenhoc.conf')).read()
    nginx_port = free_port()
    changes = [
        ('listen 443 ssl;', 'listen 127.0.0.1:%d ssl;' % nginx_port),
        ('server 127.0.0.1:8080;', 'server 127.0.0.1:%d;' % servers[0][1]),
        ('server 127.0.0.1:8081;', 'server 127.0.0.1:%d;' % servers[1][1]),
        ('/etc/ssl/certs/sync.example.vn.pem', cert),
        ('/etc/ssl/private/sync.example.vn.key', key),
    ]
    conf = example
    for old, new in changes:
        check('the example has “%s” once' % old, conf.count(old) == 1)
        conf = conf.replace(old, new)
    site = path('khuyenhoc.conf')
    open(site, 'w').write(conf)
    prefix = path('nginx')
    os.makedirs(prefix)
    main_conf = path('nginx.conf')
    with open(main_conf, 'w') as f:
        f.write('%spid %s/nginx.pid;\nerror_log %s/error.log;\nworker_processes 1;\n'
                'events { worker_connections 256; }\n'
                'http {\n  access_log off;\n  client_body_temp_path %s/body;\n'
                '  proxy_temp_path %s/proxy;\n  include %s;\n}\n'
                % ('user root;\n' if os.geteuid() == 0 else '', prefix, prefix, prefix, prefix, site))
    rc, out, err = run([nginx, '-t', '-q', '-e', prefix + '/error.log', '-p', prefix, '-c', main_conf])
    check('nginx -t accepts the example', rc == 0, (rc, out, err))
    proxy = subprocess.Popen([nginx, '-e', prefix + '/error.log', '-p', prefix, '-c', main_conf,
                              '-g', 'daemon off;'], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, env=env)
    procs.append(proxy)
    check('nginx listens', wait_port(nginx_port, proxy))
    url = 'https://localhost:%d' % nginx_port

    rc, out, err = client('refused.db', 'login', '--server', url, '--user', 'admin',
                          stdin=admin_pw + '\n')
    check('without --ca-file the private certificate is refused', rc != 0 and err.count('\n') == 1,
          (rc, out, err))
    for replica in ('one.db', 'two.db'):
        rc, out, err = client(replica, 'login', '--server', url, '--user', 'admin', '--ca-file', ca,
                              stdin=admin_pw + '\n')
        check('%s signs in through nginx with --ca-file' % replica, rc == 0, (rc, out, err))
        rc, out, err = client(replica, 'sync')
        check('%s syncs through nginx' % replica, rc == 0, (rc, out, err))
    rc, out, err = client('one.db', 'list', 'fund', '--limit', '1')
    fund = out.split()[0]
    rc, out, err = client('one.db', 'set', 'fund', fund, 'name=Quỹ qua nginx')
    rc2, out2, err2 = client('one.db', 'sync')
    rc3, out3, err3 = client('two.db', 'sync')
    rc4, out4, err4 = client('two.db', 'get', 'fund', fund)
    check('a change goes through nginx to the other replica',
          rc == rc2 == rc3 == rc4 == 0 and 'Quỹ qua nginx' in out4, (err, err2, err3, out4, err4))
    for i in range(6):
        client('one.db', 'sync')
    logs = [open(path('serve-%d.log' % i)).read() for i in range(2)]
    check('both servers answer', all('endpoint=/v1/changes status=200' in l for l in logs),
          [l[-400:] for l in logs])

    # One server stopped: the clients go on through the other.
    servers[0][0].send_signal(signal.SIGTERM)
    check('one server stops', servers[0][0].wait(timeout=60) == 0)
    rc, out, err = client('one.db', 'set', 'fund', fund, 'name=Quỹ một máy chủ')
    ok = rc == 0
    for replica in ('one.db', 'two.db', 'one.db', 'two.db'):
        ok = ok and client(replica, 'sync')[0] == 0
    rc, out, err = client('two.db', 'get', 'fund', fund)
    check('with one server stopped, the clients sync through the other',
          ok and 'Quỹ một máy chủ' in out, (ok, out, err))
    rc, out, err = client('one.db', 'verify')
    check('verify through nginx', rc == 0, (rc, out, err))
finally:
    for p in reversed(procs):
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    subprocess.run(['psql', '-q', '-d', admin_url, '-c', 'DROP DATABASE IF EXISTS %s WITH (FORCE)' % name],
                   capture_output=True)

print('1..%d' % len(results))
for i, (n, ok, detail) in enumerate(results, 1):
    print('%s %d - %s' % ('ok' if ok else 'not ok', i, n))
    if not ok and detail:
        for line in str(detail).splitlines()[-20:]:
            print('# ' + line)
sys.exit(0 if all(ok for _, ok, _ in results) else 1)
