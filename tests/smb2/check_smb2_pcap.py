#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Encoded SMB2 vs Wireshark, field by field.

Runs smb2_pcap (which encodes a conversation with every part-1 command
into a pcap and writes the field values it encoded, per frame, as JSON),
then tools/tshark_check.py --fields over the capture (which fails on any
malformed packet or expert warning/error), and compares every expected
field of every SMB2 frame with tshark's values, in order.

usage: check_smb2_pcap.py SMB2_PCAP_EXE TSHARK_CHECK_PY OUTDIR
"""
import json
import os
import subprocess
import sys


def guid_str(h):
    b = bytes.fromhex(h)
    return '%s-%s-%s-%s-%s' % (b[3::-1].hex(), b[5:3:-1].hex(),
                               b[7:5:-1].hex(), b[8:10].hex(), b[10:].hex())


def norm_expected(v):
    if isinstance(v, str) and v.startswith('guid:'):
        return guid_str(v[5:])
    if isinstance(v, str) and v.startswith('bytes:'):
        return v[6:].lower()
    return v


def norm_actual(v, like):
    if isinstance(like, int) and not isinstance(v, int):
        if isinstance(v, str):
            if v in ('True', 'False'):
                return int(v == 'True')
            return int(v, 0)
        return int(v)
    if isinstance(like, str) and isinstance(v, str):
        if all(c in '0123456789abcdefABCDEF:' for c in v) and ':' in v:
            return v.replace(':', '').lower()
        return v
    return v


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    exe, checker, outdir = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    pcap = os.path.join(outdir, 'smb2_part1.pcap')
    exp_path = os.path.join(outdir, 'smb2_part1.json')
    subprocess.run([exe, pcap, exp_path], check=True)
    expected = json.load(open(exp_path))
    fields = []
    for fr in expected:
        for f in fr:
            if f not in fields:
                fields.append(f)
    n_pdus = sum(len(fr['smb2.cmd']) for fr in expected)
    r = subprocess.run(['/usr/bin/python3', checker, pcap, '--fields',
                        ','.join(fields), '--expect-smb2', str(n_pdus)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True)
    if r.returncode != 0:
        print(r.stdout)
        print(r.stderr)
        print('tshark_check failed (exit %d)' % r.returncode)
        return 1
    out = json.loads(r.stdout)
    frames = [f for f in out.get('fields', []) if 'smb2.cmd' in f]
    bad = []
    if len(frames) != len(expected):
        bad.append('tshark shows %d SMB2 frames, %d encoded' %
                   (len(frames), len(expected)))
    checked = 0
    for i, (exp, got) in enumerate(zip(expected, frames)):
        for f, vals in exp.items():
            want = [norm_expected(v) for v in vals]
            have = got.get(f, [])
            if not isinstance(have, list):
                have = [have]
            have = [norm_actual(v, want[0] if want else v) for v in have]
            checked += len(want)
            if have != want:
                bad.append('frame %s (message %d): %s: encoded %r, tshark %r'
                           % (got.get('frame'), i, f, want, have))
    for b in bad:
        print(b)
    if bad:
        return 1
    print('ok: %d SMB2 PDUs in %d frames, %d field values match, '
          'no malformed packets or expert warnings' % (n_pdus, len(frames),
                                                       checked))
    return 0


if __name__ == '__main__':
    sys.exit(main())
