#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Fails unless every codec case id has a registered test under tests/.

Required: spec/smb2.md sec. 7 cases that are not connection-level
(1-23, 25-35, 38-40) as smb2_case_<N>_..., and spec/leases.md wire cases
1-10 as lease_case_<N>_.... A case counts only when a test function with
that prefix is both defined and registered with cmocka_unit_test*() in a
C file (or defined as a Python test function), so a name in a comment or
an unregistered function does not count.

usage: check_case_ids.py TESTS_DIR [--extra ID ...]
"""
import os
import re
import sys

SMB2_CASES = [n for n in range(1, 41) if n not in (24, 36, 37)]
LEASE_CASES = list(range(1, 11))

REG = re.compile(r'cmocka_unit_test(?:_setup_teardown|_setup|_teardown)?'
                 r'\(\s*([A-Za-z_][A-Za-z0-9_]*)')
DEF_C = re.compile(r'^\s*(?:static\s+)?void\s+([A-Za-z_][A-Za-z0-9_]*)\s*'
                   r'\(\s*void\s*\*\*', re.M)
DEF_PY = re.compile(r'^\s*def\s+((?:test_)?(?:smb2|lease)_case_[0-9A-Za-z_]*)'
                    r'\s*\(', re.M)


def collect(root):
    names = set()
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            if f.endswith('.c'):
                s = open(p, encoding='utf-8', errors='replace').read()
                defined = set(DEF_C.findall(s))
                names |= {n for n in REG.findall(s) if n in defined}
            elif f.endswith('.py') and f != os.path.basename(__file__):
                s = open(p, encoding='utf-8', errors='replace').read()
                names |= {n[5:] if n.startswith('test_') else n
                          for n in DEF_PY.findall(s)}
    return names


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    root = sys.argv[1]
    required = ['smb2_case_%d_' % n for n in SMB2_CASES]
    required += ['lease_case_%d_' % n for n in LEASE_CASES]
    if '--extra' in sys.argv:
        required += sys.argv[sys.argv.index('--extra') + 1:]
    names = collect(root)
    missing = [r for r in required
               if not any(n.startswith(r) for n in names)]
    for r in required:
        hits = sorted(n for n in names if n.startswith(r))
        print('%-16s %s' % (r, ', '.join(hits) if hits else 'MISSING'))
    if missing:
        print('missing case ids: ' + ' '.join(missing))
        return 1
    print('ok: %d case ids covered' % len(required))
    return 0


if __name__ == '__main__':
    sys.exit(main())
