#!/usr/bin/python3
"""check_node_pcap.py NODE_PCAP TSHARK_CHECK OUTDIR

Runs node_pcap (a whole client-node / server-node conversation written as
a Direct-TCP capture) and checks the capture with tools/tshark_check.py:
no expert warnings or errors, every PDU dissected, and exactly the
expected requests and responses per command."""
import json
import os
import subprocess
import sys


def main():
    exe, checker, outdir = sys.argv[1:4]
    os.makedirs(outdir, exist_ok=True)
    cap = os.path.join(outdir, 'node_tcp.pcap')
    subprocess.run([exe, cap], check=True, stdout=subprocess.DEVNULL,
                   env=dict(os.environ, CMOCKA_MESSAGE_OUTPUT='STDOUT'))
    per = {'NEGOTIATE': 1, 'SESSION_SETUP': 3, 'TREE_CONNECT': 1,
           'CREATE': 1, 'WRITE': 1, 'READ': 1, 'QUERY_DIRECTORY': 1,
           'ECHO': 2, 'CLOSE': 1, 'LOGOFF': 1}
    # the fake authenticator's blobs ("NEGO", "CHAL1", ...) are not GSS-API
    # tokens: tshark's GSS-API dissector flags them, nothing else may warn
    r = subprocess.run(['/usr/bin/python3', checker, cap,
                        '--allow', r'^Unknown header \(class='],
                       capture_output=True, text=True)
    if r.returncode == 2:
        print('tshark_check.py could not run: ' + r.stderr.strip())
        return 1
    out = json.loads(r.stdout)
    bad = list(out.get('problems', []))
    smb2 = out.get('smb2', {})
    for cmd, n in per.items():
        for kind in ('req', 'resp'):
            if smb2.get(cmd + '.' + kind, 0) != n:
                bad.append('%s.%s: %d, want %d' % (cmd, kind,
                                                   smb2.get(cmd + '.' + kind,
                                                            0), n))
    names = {k.split('.')[0] for k in smb2}
    total_req = sum(v for k, v in smb2.items() if k.endswith('.req'))
    total_resp = sum(v for k, v in smb2.items() if k.endswith('.resp'))
    want = sum(per.values())
    if total_req != want or total_resp != want:
        bad.append('requests %d / responses %d, want %d each: %s'
                   % (total_req, total_resp, want, json.dumps(smb2)))
    st = out.get('smb2_status', {})
    mpr = st.get('0xc0000016', 0)
    if mpr != 2:
        bad.append('MORE_PROCESSING_REQUIRED responses: %d, want 2 (%s)'
                   % (mpr, json.dumps(st)))
    for b in bad:
        print('problem: ' + b)
    print(json.dumps({'smb2': smb2, 'status': st, 'names': sorted(names)}))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
