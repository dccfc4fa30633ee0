#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""TCP interop: real Samba traffic, smbx-dump against tshark.

Starts the project's private Samba (scripts/samba.sh) on 127.0.0.1:445,
captures loopback with tcpdump while smbclient lists a directory of 500
files, puts and gets a 5 MB file (checked byte for byte), opens a missing
file and waits on a change notification; then every SMB2 PDU smbx-dump
reports must equal tshark's decoding of the same capture (command,
request/response, message id, status, credits, credit charge, session/tree
or async id, and names where both have them).

Samba and tcpdump are stopped by PID at the end, also on failure.
Exit 0 pass, 1 fail, 77 skip (not root / tools missing; meson's skip code).

usage: dump_vs_tshark.py --smbx-dump PATH --samba PATH [--keep DIR] [-v]
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

PORT = 445
SKIP = 77


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Peer:
    """Samba + tcpdump, stopped by PID whatever happens."""

    def __init__(self, samba, work):
        self.samba = samba
        self.work = work
        self.env = dict(os.environ, SMBX_SAMBA_ROOT=os.path.join(work, 'samba'))
        self.vars = {}
        self.tcpdump = None

    def start_samba(self):
        # a server of an earlier test may still be leaving the port
        for _ in range(40):
            out = subprocess.run([self.samba, 'start', str(PORT)], env=self.env,
                                 capture_output=True, text=True, timeout=60)
            if out.returncode == 0 or 'held by another' not in out.stderr:
                break
            time.sleep(0.5)
        if out.returncode != 0:
            raise RuntimeError('samba.sh start failed: ' + out.stderr.strip())
        for line in out.stdout.splitlines():
            k, _, v = line.partition('=')
            self.vars[k] = v
        log('samba:', self.vars.get('SAMBA_PID'), self.vars.get('SAMBA_SHARE'))

    def start_tcpdump(self, path):
        self.tcpdump = subprocess.Popen(
            ['tcpdump', '-i', 'lo', '--immediate-mode', '-U', '-s', '0',
             '-B', '262144', '-w',
             path, 'tcp port %d' % PORT],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # wait for "listening on lo" so no packet is missed
        deadline = time.time() + 15
        line = b''
        while time.time() < deadline:
            line = self.tcpdump.stderr.readline()
            if b'listening on' in line or not line:
                break
        if b'listening on' not in line:
            raise RuntimeError('tcpdump did not start: %r' % line)

    def stop_tcpdump(self):
        if self.tcpdump and self.tcpdump.poll() is None:
            time.sleep(0.3)  # let the last packets reach the file
            self.tcpdump.send_signal(signal.SIGTERM)
            try:
                self.tcpdump.wait(10)
            except subprocess.TimeoutExpired:
                self.tcpdump.kill()
                self.tcpdump.wait()
        self.tcpdump = None

    def stop(self):
        self.stop_tcpdump()
        if self.vars:
            subprocess.run([self.samba, 'stop', str(PORT)], env=self.env,
                           capture_output=True, timeout=60)
            self.vars = {}


def smbclient(cmds, timeout=120, check=True):
    argv = ['smbclient', '//127.0.0.1/share', '-p', str(PORT), '-U%',
            '-m', 'SMB3', '-c', cmds]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and r.returncode != 0:
        raise RuntimeError('smbclient %r failed (%d): %s %s' %
                           (cmds, r.returncode, r.stdout[-500:], r.stderr[-500:]))
    return r


def run_traffic(share, work):
    d = os.path.join(share, 'dir500')
    os.makedirs(d, exist_ok=True)
    for i in range(500):
        with open(os.path.join(d, 'file_%03d.txt' % i), 'w') as f:
            f.write('x' * (i % 7))
    big = os.path.join(work, 'big.bin')
    with open(big, 'wb') as f:
        f.write(os.urandom(5 * 1000 * 1000))
    back = os.path.join(work, 'big.back')
    r = smbclient('cd dir500; ls')
    listed = sum(1 for l in r.stdout.splitlines() if 'file_' in l)
    if listed != 500:
        raise RuntimeError('ls listed %d files, not 500' % listed)
    smbclient('put %s big.bin; get big.bin %s' % (big, back))
    with open(big, 'rb') as a, open(back, 'rb') as b:
        if a.read() != b.read():
            raise RuntimeError('5 MB file did not come back byte-exact')
    r = smbclient('get no_such_file.txt %s' % os.path.join(work, 'missing'),
                  check=False)
    if 'NT_STATUS_OBJECT_NAME_NOT_FOUND' not in r.stdout + r.stderr:
        raise RuntimeError('missing file: %s %s' % (r.stdout, r.stderr))
    # notify: wait on dir500 in one session, change it from another
    n = subprocess.Popen(['smbclient', '//127.0.0.1/share', '-p', str(PORT),
                          '-U%', '-m', 'SMB3', '-c', 'notify dir500'],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.0)
        smbclient('mkdir dir500/new_dir')
        time.sleep(2.0)  # the final CHANGE_NOTIFY response goes out at once
    finally:
        n.send_signal(signal.SIGTERM)
        try:
            out, _ = n.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            n.kill()
            out, _ = n.communicate()
    log('notify output:', out.decode(errors='replace').strip()[:200])


# ---- tshark side ----

def find(node, key):
    """First value of key in a tshark JSON subtree (depth first)."""
    if isinstance(node, dict):
        if key in node:
            return node[key]
        for v in node.values():
            r = find(v, key)
            if r is not None:
                return r
    elif isinstance(node, list):
        for v in node:
            r = find(v, key)
            if r is not None:
                return r
    return None


def find_all(node, key, out):
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                out.extend(v if isinstance(v, list) else [v])
            else:
                find_all(v, key, out)
    elif isinstance(node, list):
        for v in node:
            find_all(v, key, out)
    return out


def num(v):
    if v is None:
        return None
    if isinstance(v, list):
        v = v[0]
    return int(v, 0)


def tshark_pdus(cap):
    r = subprocess.run(['tshark', '-r', cap, '-Y', 'smb2', '-T', 'json',
                        '--no-duplicate-keys', '-J', 'frame smb2'],
                       capture_output=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError('tshark failed: ' + r.stderr.decode()[-500:])
    pdus = []
    for pkt in json.loads(r.stdout or b'[]'):
        layers = pkt['_source']['layers']
        frame = num(find(layers['frame'], 'frame.number'))
        s = layers.get('smb2')
        for pdu in (s if isinstance(s, list) else [s]):
            hdr = pdu.get('SMB2 Header') if isinstance(pdu, dict) else None
            if hdr is None:
                continue
            resp = find(hdr, 'smb2.flags.response') == '1'
            is_async = find(hdr, 'smb2.flags.async') == '1'
            t = {
                'frame': frame,
                'cmd': num(find(hdr, 'smb2.cmd')),
                'response': resp,
                'msg_id': num(find(hdr, 'smb2.msg_id')),
                'credit_charge': num(find(hdr, 'smb2.credit.charge')),
                'session_id': num(find(hdr, 'smb2.sesid')),
            }
            if resp:
                t['status'] = num(find(hdr, 'smb2.nt_status'))
                t['credits_granted'] = num(find(hdr, 'smb2.credits.granted'))
            else:
                t['credits_requested'] = num(find(hdr, 'smb2.credits.requested'))
            if is_async:
                t['async_id'] = num(find(hdr, 'smb2.aid'))
            else:
                t['tree_id'] = num(find(hdr, 'smb2.tid'))
            body = {k: v for k, v in pdu.items() if k != 'SMB2 Header'}
            t['_filename'] = find(body, 'smb2.filename')
            t['_names'] = find_all(body, 'smb2.filename', [])
            t['_pattern'] = find(body, 'smb2.find.pattern')
            pdus.append(t)
    return pdus


def dump_records(dump, cap):
    r = subprocess.run([dump, cap], capture_output=True, timeout=300)
    if r.returncode != 0:
        raise RuntimeError('smbx-dump failed (%d): %s' %
                           (r.returncode, r.stderr.decode()[-500:]))
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


def compare(dump_recs, ts, verbose):
    problems = []
    errors = [r for r in dump_recs if r['type'] == 'error']
    for e in errors:
        problems.append('smbx-dump error record: %s' % json.dumps(e))
    ours = [r for r in dump_recs if r['type'] == 'smb2']
    if len(ours) != len(ts):
        problems.append('PDU count: smbx-dump %d, tshark %d' % (len(ours), len(ts)))
    names_checked = 0
    for i, (o, t) in enumerate(zip(ours, ts)):
        for k, v in t.items():
            if k.startswith('_'):
                continue
            if o.get(k) != v:
                problems.append('PDU %d (frame %s %s): %s smbx-dump %r tshark %r'
                                % (i, t['frame'], o.get('cmd_name'), k, o.get(k), v))
        body = o.get('body') or {}
        # names where both have them: CREATE name, QUERY_DIRECTORY pattern
        # and entries, CHANGE_NOTIFY entries
        our_names = []
        if isinstance(body.get('name'), str):
            our_names.append(body['name'])
        if t['_pattern'] is not None:
            names_checked += 1
            if body.get('pattern') != t['_pattern']:
                problems.append('PDU %d (frame %s): pattern smbx-dump %r tshark %r'
                                % (i, t['frame'], body.get('pattern'), t['_pattern']))
        for key in ('entries', 'notify'):
            for e in body.get(key) or []:
                if isinstance(e, dict) and isinstance(e.get('name'), str):
                    our_names.append(e['name'])
        if o.get('body_error'):
            problems.append('PDU %d (frame %s %s): body_error %r'
                            % (i, t['frame'], o.get('cmd_name'), o['body_error']))
        if our_names and t['_names']:
            names_checked += 1
            if our_names != t['_names']:
                problems.append('PDU %d (frame %s %s): names smbx-dump %r... tshark %r...'
                                % (i, t['frame'], o.get('cmd_name'),
                                   our_names[:3], t['_names'][:3]))
        if len(problems) > 40:
            problems.append('(stopping after 40 problems)')
            break
    return problems, names_checked


def summary(recs):
    c = {}
    for r in recs:
        if r['type'] == 'smb2':
            k = '%s.%s' % (r['cmd_name'], 'resp' if r['response'] else 'req')
            c[k] = c.get(k, 0) + 1
    return c


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--smbx-dump', required=True)
    ap.add_argument('--samba', required=True)
    ap.add_argument('--keep', help='copy the capture and outputs here')
    ap.add_argument('-v', '--verbose', action='store_true')
    a = ap.parse_args()
    if os.geteuid() != 0:
        log('SKIP: needs root (smbd, tcpdump)')
        return SKIP
    for tool in ('smbd', 'smbclient', 'tcpdump', 'tshark'):
        if not shutil.which(tool) and not os.path.exists('/usr/sbin/' + tool):
            log('SKIP: %s missing (apt-get install -y samba smbclient tcpdump tshark)'
                % tool)
            return SKIP
    work = tempfile.mkdtemp(prefix='smbx-interop-')
    peer = Peer(os.path.abspath(a.samba), work)

    def on_signal(signum, frame):
        raise KeyboardInterrupt('signal %d' % signum)
    signal.signal(signal.SIGTERM, on_signal)
    cap = os.path.join(work, 'cap.pcap')
    rc = 1
    try:
        peer.start_samba()
        share = peer.vars['SAMBA_SHARE']
        for e in os.listdir(share):
            p = os.path.join(share, e)
            shutil.rmtree(p) if os.path.isdir(p) else os.unlink(p)
        peer.start_tcpdump(cap)
        run_traffic(share, work)
        peer.stop_tcpdump()
        peer.stop()
        recs = dump_records(a.smbx_dump, cap)
        ts = tshark_pdus(cap)
        c = summary(recs)
        log('smbx-dump PDUs:', json.dumps(c, sort_keys=True))
        problems, names = compare(recs, ts, a.verbose)
        need = ['NEGOTIATE.resp', 'SESSION_SETUP.resp', 'TREE_CONNECT.resp',
                'CREATE.resp', 'QUERY_DIRECTORY.resp', 'WRITE.resp', 'READ.resp',
                'CHANGE_NOTIFY.resp', 'CLOSE.resp']
        for k in need:
            if not c.get(k):
                problems.append('no %s in the capture' % k)
        if not any(r['type'] == 'smb2' and r['cmd'] == 5 and r['response'] and
                   r['status'] == 0xC0000034 for r in recs):
            problems.append('no CREATE response with STATUS_OBJECT_NAME_NOT_FOUND')
        if not any(r['type'] == 'smb2' and r['cmd'] == 15 and r['response'] and
                   r['status'] == 0 and
                   any(e.get('name') == 'new_dir'
                       for e in (r.get('body') or {}).get('notify') or [])
                   for r in recs):
            problems.append('no CHANGE_NOTIFY response reporting new_dir')
        if not any(r['type'] == 'smb2' and r['cmd'] == 14 and r['response'] and
                   len((r.get('body') or {}).get('entries') or []) >= 100
                   for r in recs):
            problems.append('no QUERY_DIRECTORY response with the 500 entries')
        log('compared %d PDUs with tshark (%d with names)' % (len(ts), names))
        if a.keep:
            os.makedirs(a.keep, exist_ok=True)
            shutil.copy(cap, a.keep)
            with open(os.path.join(a.keep, 'dump.jsonl'), 'w') as f:
                for r in recs:
                    f.write(json.dumps(r) + '\n')
        if problems:
            for p in problems:
                log('FAIL:', p)
        else:
            log('PASS')
            rc = 0
    except (RuntimeError, subprocess.TimeoutExpired, OSError, KeyboardInterrupt) as e:
        log('FAIL:', e)
        rc = 1
    finally:
        peer.stop()
        shutil.rmtree(work, ignore_errors=True)
    return rc


if __name__ == '__main__':
    sys.exit(main())
