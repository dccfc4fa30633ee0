#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""smbx-dump's body fields against tshark, field by field.

usage: dump_fields_vs_tshark.py DUMP_FIELDS_GEN SMBX_DUMP
Runs the generator (codec-encoded PDUs in pcapw captures), then compares
every SMB2 PDU: header fields, create names and context tags, lease key /
state / flags / parent key / epoch (RqLs v2, lease break notification, ack,
ack response), file ids, READ length/offset/channel/descriptors and the
QUERY_DIRECTORY pattern. On the SMB Direct capture (SEND Only packets,
which tshark decodes): negotiate request/response fields, the credit-only
message, the SMB Direct header of each SMB2 message's last fragment, SMB2
headers, and each RDMA operation's RETH. Exit 0 pass, 1 fail, 77 skip (no
tshark).
"""
import json
import shutil
import subprocess
import sys
import tempfile
import os


def guid(hexstr):
    """16 bytes (hex) in tshark's GUID text form (first 3 fields LE)."""
    b = bytes.fromhex(hexstr)
    return '%08x-%04x-%04x-%s-%s' % (int.from_bytes(b[0:4], 'little'),
                                     int.from_bytes(b[4:6], 'little'),
                                     int.from_bytes(b[6:8], 'little'),
                                     b[8:10].hex(), b[10:16].hex())


def fid(f):
    return guid(f['persistent'].to_bytes(8, 'little').hex() +
                f['volatile'].to_bytes(8, 'little').hex())


def collect(node, out):
    """tshark JSON subtree -> {field: [values in order]}"""
    if isinstance(node, dict):
        for k, v in node.items():
            if k.startswith(('smb2.', 'smb_direct.')) and not isinstance(v, dict):
                vals = v if isinstance(v, list) else [v]
                for x in vals:
                    if isinstance(x, (dict, list)):
                        collect(x, out)
                    else:
                        out.setdefault(k, []).append(x)
            else:
                collect(v, out)
    elif isinstance(node, list):
        for v in node:
            collect(v, out)
    return out


def num(s):
    return int(s, 0)


def ours_expected(r):
    """the tshark fields our record predicts, as {field: [values]}"""
    e = {}

    def add(k, v):
        e.setdefault(k, []).append(v)
    b = r.get('body') or {}
    if r['cmd'] == 5:
        if not r['response'] and b.get('name'):
            add('smb2.filename', b['name'])
        for c in b.get('contexts') or []:
            add('smb2.tag', c['tag'])
            if c['tag'] == 'RqLs':
                add('smb2.lease.lease_key', guid(c['lease_key']))
                add('smb2.lease.lease_state', c['lease_state'])
                add('smb2.lease.lease_flags', c['lease_flags'])
                if c['lease_version'] == 2:
                    add('smb2.lease.parent_lease_key', guid(c['parent_lease_key']))
                    add('smb2.lease.lease_oplock', c['epoch'])
        if r['response']:
            add('smb2.fid', fid(b['file_id']))
    elif r['cmd'] == 18:
        add('smb2.lease.lease_key', guid(b['lease_key']))
        if b['form'] == 'lease_break':
            add('smb2.lease.lease_oplock', b['new_epoch'])
            add('smb2.lease.lease_flags', b['flags'])
            add('smb2.lease.lease_state', b['current_state'])
            add('smb2.lease.lease_state', b['new_state'])
            add('smb2.lease.lease_break_reason', b['break_reason'])
        else:
            add('smb2.lease.lease_flags', b['flags'])
            add('smb2.lease.lease_state', b['lease_state'])
    elif r['cmd'] == 8 and not r['response']:
        add('smb2.read_length', b['length'])
        add('smb2.file_offset', b['offset'])
        add('smb2.fid', fid(b['file_id']))
        add('smb2.channel', b['channel'])
        for d in b.get('descriptors') or []:
            add('smb2.buffer_descriptor.offset', d['offset'])
            add('smb2.buffer_descriptor.token', d['token'])
            add('smb2.buffer_descriptor.length', d['length'])
    elif r['cmd'] == 14 and not r['response']:
        add('smb2.find.pattern', b['pattern'])
        add('smb2.fid', fid(b['file_id']))
    elif r['cmd'] == 6 and not r['response']:
        add('smb2.fid', fid(b['file_id']))
    return e


def norm(field, v):
    if isinstance(v, int):
        return v
    if field in ('smb2.filename', 'smb2.find.pattern', 'smb2.tag',
                 'smb2.lease.lease_key', 'smb2.lease.parent_lease_key',
                 'smb2.fid'):
        return v
    return num(v)


SMBD_NEG = {
    'min_version': 'smb_direct.version.min',
    'max_version': 'smb_direct.version.max',
    'negotiated_version': 'smb_direct.version.negotiated',
    'credits_requested': 'smb_direct.credits.requested',
    'credits_granted': 'smb_direct.credits.granted',
    'status': 'smb_direct.status',
    'max_read_write_size': 'smb_direct.max_read_write_size',
    'preferred_send_size': 'smb_direct.preferred_send_size',
    'max_receive_size': 'smb_direct.max_receive_size',
    'max_fragmented_size': 'smb_direct.max_fragmented_size',
    'remaining_data_length': 'smb_direct.remaining_length',
    'data_offset': 'smb_direct.data_offset',
    'data_length': 'smb_direct.data_length',
}


def smbd_compare(recs, ts):
    """SMB Direct capture: our records against tshark, frame by frame."""
    problems = []
    frames = {}
    for p in ts:
        layers = p['_source']['layers']
        frames[int(layers['frame']['frame.number'])] = layers
    kinds = {}
    checked = 0
    for r in recs:
        kinds[r['type']] = kinds.get(r['type'], 0) + 1
        layers = frames.get(r['frame'])
        if layers is None:
            problems.append('smbd frame %s: not in tshark output' % r['frame'])
            continue
        sd = collect(layers.get('smb_direct', {}), {})
        if r['type'].startswith('smbd_'):
            for k, f in SMBD_NEG.items():
                if k in r:
                    checked += 1
                    got = [num(x) for x in sd.get(f, [])]
                    if got != [r[k]]:
                        problems.append('smbd frame %d %s: %s smbx-dump %r tshark %r'
                                        % (r['frame'], r['type'], k, r[k], got))
            if r['type'] == 'smbd_data':
                checked += 1
                got = sd.get('smb_direct.flags.response_requested')
                if got != ['1' if r['response_requested'] else '0']:
                    problems.append('smbd frame %d: response_requested %r vs %r'
                                    % (r['frame'], r['response_requested'], got))
        elif r['type'] == 'smb2':
            for k in ('credits_requested', 'credits_granted'):
                checked += 1
                got = [num(x) for x in sd.get(SMBD_NEG[k], [])]
                if got != [r['smbd'][k]]:
                    problems.append('smbd frame %d smb2 %s: smbd.%s smbx-dump %r tshark %r'
                                    % (r['frame'], r['cmd_name'], k, r['smbd'][k], got))
            hdr = collect(layers.get('smb2', {}), {})
            for k, f in (('cmd', 'smb2.cmd'), ('msg_id', 'smb2.msg_id'),
                         ('session_id', 'smb2.sesid')):
                checked += 1
                got = [num(x) for x in hdr.get(f, [])][:1]
                if got != [r[k]]:
                    problems.append('smbd frame %d smb2: %s smbx-dump %r tshark %r'
                                    % (r['frame'], k, r[k], got))
        elif r['type'] in ('rdma_write', 'rdma_read'):
            first = frames.get(r.get('first_frame', r['frame']), {})
            reth = first.get('infiniband', {}).get('infiniband.reth_tree', {})
            for k, f in (('va', 'infiniband.reth.va'), ('rkey', 'infiniband.reth.r_key'),
                         ('length', 'infiniband.reth.dmalen')):
                checked += 1
                got = reth.get(f)
                if got is None or num(got) != r[k]:
                    problems.append('smbd frame %s %s: %s smbx-dump %r tshark %r'
                                    % (r['frame'], r['type'], k, r[k], got))
    want = {'smbd_negotiate_req': 1, 'smbd_negotiate_resp': 1, 'smbd_data': 1,
            'smb2': 3, 'rdma_write': 1, 'rdma_read': 1}
    if kinds != want:
        problems.append('smbd capture records %r, expected %r' % (kinds, want))
    if checked < 30:
        problems.append('smbd capture: only %d values compared' % checked)
    print('SMB Direct capture: %d values compared with tshark' % checked,
          file=sys.stderr)
    return problems


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    gen, dump = sys.argv[1], sys.argv[2]
    if not shutil.which('tshark'):
        print('SKIP: tshark missing (apt-get install -y tshark)', file=sys.stderr)
        return 77
    work = tempfile.mkdtemp(prefix='smbx-dump-fields-')
    try:
        cap = os.path.join(work, 'f.pcap')
        scap = os.path.join(work, 's.pcap')
        subprocess.run([gen, cap, scap], check=True, timeout=60)
        recs = [json.loads(l) for l in subprocess.run(
            [dump, cap], check=True, capture_output=True, timeout=60).stdout.splitlines()]
        ts = json.loads(subprocess.run(
            ['tshark', '-r', cap, '-Y', 'smb2', '-T', 'json', '--no-duplicate-keys',
             '-J', 'frame smb2'], check=True, capture_output=True, timeout=120).stdout)
        srecs = [json.loads(l) for l in subprocess.run(
            [dump, scap], check=True, capture_output=True, timeout=60).stdout.splitlines()]
        sts = json.loads(subprocess.run(
            ['tshark', '-r', scap, '-T', 'json', '--no-duplicate-keys',
             '-J', 'frame smb_direct smb2 infiniband'], check=True,
            capture_output=True, timeout=120).stdout)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    problems = smbd_compare(srecs, sts)
    if any(r['type'] != 'smb2' for r in recs):
        problems.append('unexpected non-smb2 records: %r' %
                        [r for r in recs if r['type'] != 'smb2'])
    tpdus = []
    for p in ts:
        layers = p['_source']['layers']
        s = layers['smb2']
        for pdu in (s if isinstance(s, list) else [s]):
            tpdus.append((int(layers['frame']['frame.number']), pdu))
    ours = [r for r in recs if r['type'] == 'smb2']
    if len(ours) != len(tpdus) or len(ours) != 9:
        problems.append('PDU count: smbx-dump %d, tshark %d, expected 9'
                        % (len(ours), len(tpdus)))
    checked = 0
    for r, (frame, pdu) in zip(ours, tpdus):
        hdr = collect(pdu.get('SMB2 Header', {}), {})
        body = collect({k: v for k, v in pdu.items() if k != 'SMB2 Header'}, {})
        head = {'frame': frame, 'cmd': num(hdr['smb2.cmd'][0]),
                'msg_id': num(hdr['smb2.msg_id'][0]),
                'session_id': num(hdr['smb2.sesid'][0]),
                'credit_charge': num(hdr['smb2.credit.charge'][0]),
                'response': hdr['smb2.flags.response'][0] == '1',
                'related': hdr['smb2.flags.chained'][0] == '1'}
        if head['response']:
            head['status'] = num(hdr['smb2.nt_status'][0])
            head['credits_granted'] = num(hdr['smb2.credits.granted'][0])
        else:
            head['credits_requested'] = num(hdr['smb2.credits.requested'][0])
        if 'smb2.tid' in hdr:
            head['tree_id'] = num(hdr['smb2.tid'][0])
        for k, v in head.items():
            if r.get(k) != v:
                problems.append('frame %d %s: %s smbx-dump %r tshark %r'
                                % (frame, r['cmd_name'], k, r.get(k), v))
        if r.get('body_error'):
            problems.append('frame %d: body_error %r' % (frame, r['body_error']))
        for field, want in ours_expected(r).items():
            got = [norm(field, x) for x in body.get(field, [])]
            checked += len(want)
            if got != want:
                problems.append('frame %d %s: %s smbx-dump %r tshark %r'
                                % (frame, r['cmd_name'], field, want, got))
    for p in problems:
        print('FAIL:', p, file=sys.stderr)
    print('%d PDUs, %d body values compared with tshark' % (len(ours), checked),
          file=sys.stderr)
    return 1 if problems or checked < 30 else 0


if __name__ == '__main__':
    sys.exit(main())
