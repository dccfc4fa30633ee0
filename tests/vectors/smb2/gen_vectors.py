#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Generates tests/vectors/smb2/*.h and the smb2 fuzz seeds.

Source of every vector: hand-built from the layouts in
../shared/spec/smb2.md sec. 2-4 and leases.md sec. 2 ([MS-SMB2] 2.2.x),
independently of the C encoder (struct.pack over the documented offsets),
so the C tests can compare the encoder's bytes against them.

Run from the repository root:  /usr/bin/python3 tests/vectors/smb2/gen_vectors.py
"""
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.normpath(os.path.join(ROOT, '..', '..', '..'))

FLAG_RESP, FLAG_ASYNC, FLAG_RELATED, FLAG_SIGNED = 1, 2, 4, 8


def hdr(cmd, msgid=0, flags=0, credits=1, charge=0, status=0, next_cmd=0,
        tree=0, sess=0, async_id=0, reserved=0, sig=bytes(16)):
    b = struct.pack('<IHHIHHIIQ', 0x424D53FE, 64, charge, status, cmd,
                    credits, flags, next_cmd, msgid)
    if flags & FLAG_ASYNC:
        b += struct.pack('<Q', async_id)
    else:
        b += struct.pack('<II', reserved, tree)
    b += struct.pack('<Q', sess) + sig
    assert len(b) == 64
    return b


def u16s(*v):
    return b''.join(struct.pack('<H', x) for x in v)


def pad8(b):
    return b + bytes((8 - len(b) % 8) % 8)


def utf16(s):
    return s.encode('utf-16-le')


GUID_C = bytes(range(0x10, 0x20))
GUID_S = bytes(range(0x40, 0x50))
SIG = bytes(range(0xA0, 0xB0))
SALT = bytes(range(0x60, 0x80))  # 32 bytes
BLOB = b'\x60\x48\x06\x06\x2b\x06\x01\x05\x05\x02' + bytes(range(6))  # 16
LEASE_KEY = bytes(range(0xC0, 0xD0))
PARENT_KEY = bytes(range(0xD0, 0xE0))
CREATE_GUID = bytes(range(0x70, 0x80))
FID_P, FID_V = 0x1122334455667788, 0x99AABBCCDDEEFF00
FID = struct.pack('<QQ', FID_P, FID_V)

V = {}    # name -> bytes
CTX = {}  # create-context areas (seeds for fuzz_smb2_create_ctx)

# --- NEGOTIATE (case 2): 2.x request with 4 dialects, response blob @0x80
V['negotiate_req_2x'] = hdr(0, msgid=0, credits=1) + struct.pack(
    '<HHHHI16sQ', 36, 4, 1, 0, 0x7F, GUID_C, 0) + u16s(
        0x0202, 0x0210, 0x0300, 0x0302)
V['negotiate_resp_2x'] = hdr(0, msgid=0, flags=FLAG_RESP, credits=1) + \
    struct.pack('<HHHH16sIIIIQQHHI', 65, 1, 0x0302, 0, GUID_S, 0x2F,
                8388608, 8388608, 8388608, 0x01DA000000000000, 0, 0x80,
                len(BLOB), 0) + BLOB


def negctx(t, data):
    return struct.pack('<HHI', t, len(data), 0) + data


def ctxlist(items):
    out = b''
    for i, c in enumerate(items):
        if i:
            out = pad8(out)
        out += c
    return out


# --- NEGOTIATE 3.1.1 (case 3): 5 dialects, contexts from 0x70
NEG_CTX_REQ = [
    negctx(1, struct.pack('<HH', 1, 32) + u16s(1) + SALT),
    negctx(2, struct.pack('<H', 4) + u16s(2, 1, 4, 3)),
    negctx(3, struct.pack('<HHI', 1, 0, 0) + u16s(2)),
    negctx(5, utf16('srv')),
    negctx(6, struct.pack('<I', 0)),
    negctx(7, struct.pack('<HHI', 1, 0, 0) + u16s(1)),
    negctx(8, struct.pack('<H', 3) + u16s(2, 1, 0)),
    negctx(0x100, bytes.fromhex('93AD25509CB411E7B42383DE968BCD7C')),
]
body = struct.pack('<HHHHI16sIHH', 36, 5, 1, 0, 0x7F, GUID_C, 0x70,
                   len(NEG_CTX_REQ), 0) + u16s(0x0202, 0x0210, 0x0300,
                                              0x0302, 0x0311)
req = hdr(0, msgid=0, credits=1) + body
assert len(req) == 110
V['negotiate_req_311'] = pad8(req) + ctxlist(NEG_CTX_REQ)
NEG_CTX_RESP = [
    negctx(1, struct.pack('<HH', 1, 32) + u16s(1) + SALT),
    negctx(2, struct.pack('<H', 1) + u16s(2)),
    negctx(8, struct.pack('<H', 1) + u16s(2)),
]
resp = hdr(0, msgid=0, flags=FLAG_RESP, credits=1) + struct.pack(
    '<HHHH16sIIIIQQHHI', 65, 1, 0x0311, len(NEG_CTX_RESP), GUID_S, 0x2F,
    8388608, 8388608, 8388608, 0x01DA000000000000, 0, 0x80, len(BLOB),
    0x90) + BLOB
assert len(resp) == 0x90  # blob ends 8-aligned: contexts @0x90
V['negotiate_resp_311'] = resp + ctxlist(NEG_CTX_RESP)

# --- SESSION_SETUP (case 4)
V['session_setup_req'] = hdr(1, msgid=1, credits=33) + struct.pack(
    '<HBBIIHHQ', 25, 0, 1, 1, 0, 0x58, len(BLOB), 0) + BLOB
V['session_setup_resp_more'] = hdr(
    1, msgid=1, flags=FLAG_RESP, credits=1, status=0xC0000016,
    sess=0x0000100000000001) + struct.pack('<HHHH', 9, 0, 0x48,
                                           len(BLOB)) + BLOB
V['session_setup_resp_signed'] = hdr(
    1, msgid=2, flags=FLAG_RESP | FLAG_SIGNED, credits=32,
    sess=0x0000100000000001, sig=SIG) + struct.pack('<HHHH', 9, 0, 0x48,
                                                    0) + b'\0'
V['session_setup_req_binding'] = hdr(
    1, msgid=1, flags=FLAG_SIGNED, credits=1, charge=1,
    sess=0x0000100000000001, sig=SIG) + struct.pack(
        '<HBBIIHHQ', 25, 1, 1, 1, 0, 0x58, len(BLOB), 0) + BLOB

# --- 4-byte bodies (case 5)
for name, cmd, resp_ok in (('logoff', 2, 1), ('tree_disconnect', 4, 1),
                           ('echo', 13, 1)):
    V[name + '_req'] = hdr(cmd, msgid=7, credits=1, tree=5,
                           sess=0x100000001) + struct.pack('<HH', 4, 0)
    V[name + '_resp'] = hdr(cmd, msgid=7, flags=FLAG_RESP, credits=1,
                            tree=5, sess=0x100000001) + struct.pack(
                                '<HH', 4, 0)
V['flush_req'] = hdr(7, msgid=9, credits=1, tree=5,
                     sess=0x100000001) + struct.pack('<HHI', 24, 0, 0) + FID
V['flush_resp'] = hdr(7, msgid=9, flags=FLAG_RESP, credits=1, tree=5,
                      sess=0x100000001) + struct.pack('<HH', 4, 0)
V['cancel_req'] = hdr(12, msgid=9, credits=0, tree=5,
                      sess=0x100000001) + struct.pack('<HH', 4, 0)
V['cancel_req_async'] = hdr(12, msgid=9, flags=FLAG_ASYNC, credits=0,
                            async_id=0x2A, sess=0x100000001) + struct.pack(
                                '<HH', 4, 0)

# --- TREE_CONNECT (case 6)
PATH = utf16('\\\\srv\\share')
V['tree_connect_req'] = hdr(3, msgid=3, credits=1,
                            sess=0x100000001) + struct.pack(
                                '<HHHH', 9, 0, 0x48, len(PATH)) + PATH
V['tree_connect_resp'] = hdr(3, msgid=3, flags=FLAG_RESP, credits=1, tree=5,
                             sess=0x100000001) + struct.pack(
                                 '<HBBIII', 16, 1, 0, 0x30, 0, 0x001F01FF)
# EXTENSION_PRESENT form: extension @72, path @88, one context 8-aligned
tc_ctx = negctx(1, bytes(range(8)))
ext_body = struct.pack('<HHHH', 9, 4, 88, len(PATH))
ext_buf = struct.pack('<IH', 0, 1) + bytes(10) + PATH
ext = hdr(3, msgid=3, credits=1, sess=0x100000001) + ext_body + ext_buf
ctx_off = len(pad8(ext))
ext = pad8(ext) + tc_ctx
ext = ext[:72] + struct.pack('<I', ctx_off) + ext[76:]
V['tree_connect_req_ext'] = ext


# --- CREATE contexts
def cctx(name, data, last):
    n = len(name)
    doff = (16 + n + 7) // 8 * 8 if data else 0
    rec_len = doff + len(data) if data else 16 + n
    nxt = 0 if last else (rec_len + 7) // 8 * 8
    rec = struct.pack('<IHHHHI', nxt, 16, n, 0, doff, len(data)) + name
    if data:
        rec = pad8(rec) + data
    if not last:
        rec = pad8(rec)
        assert len(rec) == nxt
    return rec


LEASE_V1 = LEASE_KEY + struct.pack('<IIQ', 7, 0, 0)
LEASE_V2 = LEASE_KEY + struct.pack('<IIQ', 7, 4, 0) + PARENT_KEY + \
    struct.pack('<HH', 7, 0)
assert len(LEASE_V1) == 32 and len(LEASE_V2) == 52
CTX['lease_ctx_v1'] = cctx(b'RqLs', LEASE_V1, True)  # leases.md case 1
CTX['lease_ctx_v2'] = cctx(b'RqLs', LEASE_V2, True)  # leases.md case 2
assert len(CTX['lease_ctx_v1']) == 56 and len(CTX['lease_ctx_v2']) == 76

DH2Q = struct.pack('<IIQ', 60000, 0, 0) + CREATE_GUID
ctx7 = cctx(b'MxAc', b'', False)
ctx7 += cctx(b'QFid', b'', False)
ctx7 += cctx(b'DH2Q', DH2Q, False)
ctx7 += cctx(b'RqLs', LEASE_V2, True)
CTX['create_req_case7'] = ctx7
NAME = utf16('dir\\file.txt')


def create_req(name, ctx, msgid=4, flags=0, next_cmd=0, oplock=0xFF,
               sess=0x100000001, tree=5):
    fixed = struct.pack('<HBBIQQIIIIIHHII', 57, 0, oplock, 2, 0, 0,
                        0x0012019F, 0x80, 7, 1, 0x40, 0x78, len(name), 0,
                        len(ctx))
    b = hdr(5, msgid=msgid, flags=flags, credits=1, next_cmd=next_cmd,
            tree=tree, sess=sess) + fixed + (name if name else b'\0')
    if ctx:
        b = pad8(b)
        off = len(b)
        b = b[:112] + struct.pack('<I', off) + b[116:] + ctx
    return b


V['create_req_case7'] = create_req(NAME, ctx7)
V['create_req_empty_name'] = create_req(b'', b'', oplock=0)
MXAC_R = struct.pack('<II', 0, 0x001F01FF)
QFID_R = struct.pack('<QQ', 0x0102030405060708, 0x1112131415161718) + \
    bytes(16)
ctx7r = cctx(b'MxAc', MXAC_R, False) + cctx(b'QFid', QFID_R, True)
CTX['create_resp_case7'] = ctx7r


def create_resp(ctx, msgid=4, flags=FLAG_RESP, next_cmd=0, status=0):
    fixed = struct.pack('<HBBIQQQQQQII', 89, 0, 0, 1, 0x01D9000000000001,
                        0x01D9000000000002, 0x01D9000000000003,
                        0x01D9000000000004, 4096, 1234, 0x20, 0) + FID + \
        struct.pack('<II', 0x98 if ctx else 0, len(ctx))
    return hdr(5, msgid=msgid, flags=flags, credits=1, next_cmd=next_cmd,
               tree=5, sess=0x100000001, status=status) + fixed + (
                   ctx if ctx else b'\0')


V['create_resp_case7'] = create_resp(ctx7r)
V['create_req_lease_v1'] = create_req(utf16('a.txt'),
                                      cctx(b'RqLs', LEASE_V1, True))
# every fixed-layout context kind in one request (round trip)
allctx = [
    (b'DHnQ', bytes(16)), (b'DHnC', FID),
    (b'DH2C', FID + CREATE_GUID + struct.pack('<I', 2)),
    (b'MxAc', struct.pack('<Q', 0x01D9000000000009)),
    (b'TWrp', struct.pack('<Q', 0x01D9000000000010)),
    (b'AlSi', struct.pack('<Q', 1 << 20)),
    (b'RqLs', LEASE_V1),
    (bytes.fromhex('45BCA66AEFA7F74A9008FA462E144D74'),
     struct.pack('<HH', 20, 0) + bytes(range(16))),
]
area = b''
for i, (n, d) in enumerate(allctx):
    area += cctx(n, d, i == len(allctx) - 1)
CTX['create_req_allctx'] = area
V['create_req_allctx'] = create_req(NAME, area)

# --- CLOSE (case 9)
V['close_req'] = hdr(6, msgid=8, credits=1, tree=5,
                     sess=0x100000001) + struct.pack('<HHI', 24, 0, 0) + FID
V['close_req_postquery'] = hdr(6, msgid=8, credits=1, tree=5,
                               sess=0x100000001) + struct.pack(
                                   '<HHI', 24, 1, 0) + FID
V['close_resp'] = hdr(6, msgid=8, flags=FLAG_RESP, credits=1, tree=5,
                      sess=0x100000001) + struct.pack(
                          '<HHI', 60, 0, 0) + bytes(52)
V['close_resp_postquery'] = hdr(6, msgid=8, flags=FLAG_RESP, credits=1,
                                tree=5, sess=0x100000001) + struct.pack(
                                    '<HHIQQQQQQI', 60, 1, 0,
                                    0x01D9000000000001, 0x01D9000000000002,
                                    0x01D9000000000003, 0x01D9000000000004,
                                    4096, 1234, 0x20)

# --- OPLOCK_BREAK (case 17) and lease breaks (leases.md 2.4/2.5)
ALL1 = 0xFFFFFFFFFFFFFFFF
V['oplock_break_notify'] = hdr(0x12, msgid=ALL1, flags=FLAG_RESP,
                               credits=0) + struct.pack(
                                   '<HBBI', 24, 1, 0, 0) + FID
V['oplock_break_ack'] = hdr(0x12, msgid=10, credits=1, tree=5,
                            sess=0x100000001) + struct.pack(
                                '<HBBI', 24, 1, 0, 0) + FID
V['oplock_break_resp'] = hdr(0x12, msgid=10, flags=FLAG_RESP, credits=1,
                             tree=5, sess=0x100000001) + struct.pack(
                                 '<HBBI', 24, 1, 0, 0) + FID
V['lease_break_notify'] = hdr(0x12, msgid=ALL1, flags=FLAG_RESP,
                              credits=0) + struct.pack(
                                  '<HHI', 44, 8, 1) + LEASE_KEY + \
    struct.pack('<IIIII', 7, 3, 0, 0, 0)
V['lease_break_ack'] = hdr(0x12, msgid=11, credits=1, tree=5,
                           sess=0x100000001) + struct.pack(
                               '<HHI', 36, 0, 0) + LEASE_KEY + struct.pack(
                                   '<IQ', 3, 0)
V['lease_break_resp'] = hdr(0x12, msgid=11, flags=FLAG_RESP, credits=1,
                            tree=5, sess=0x100000001) + struct.pack(
                                '<HHI', 36, 0, 0) + LEASE_KEY + struct.pack(
                                    '<IQ', 3, 0)

# --- ERROR (case 18)
V['error_resp_73'] = hdr(5, msgid=4, flags=FLAG_RESP, credits=1,
                         status=0xC0000034, tree=5,
                         sess=0x100000001) + struct.pack('<HBBI', 9, 0, 0,
                                                         0) + b'\0'
V['error_resp_72'] = V['error_resp_73'][:72]
V['error_resp_buffer_too_small'] = hdr(
    0x10, msgid=6, flags=FLAG_RESP, credits=1, status=0xC0000023, tree=5,
    sess=0x100000001) + struct.pack('<HBBI', 9, 0, 0, 4) + struct.pack(
        '<I', 1024)
ectx = struct.pack('<II', 4, 0) + struct.pack('<I', 0x1234)
ectx = pad8(ectx) + struct.pack('<II', 8, 0x72645253) + bytes(range(8))
V['error_resp_ctx'] = hdr(3, msgid=3, flags=FLAG_RESP, credits=1,
                          status=0xC00000CC, sess=0x100000001) + \
    struct.pack('<HBBI', 9, 2, 0, len(ectx)) + ectx
V['error_resp_pending'] = hdr(
    0xF, msgid=12, flags=FLAG_RESP | FLAG_ASYNC, credits=1,
    status=0x103, async_id=0x2A, sess=0x100000001) + struct.pack(
        '<HBBI', 9, 0, 0, 0) + b'\0'

# --- Related compound CREATE + QUERY_INFO + CLOSE (case 19)
c1 = create_req(NAME, b'', msgid=20, next_cmd=0x90, oplock=0)
assert len(c1) == 0x90
qi = hdr(0x10, msgid=21, flags=FLAG_RELATED, credits=1, next_cmd=0x70,
         tree=0xFFFFFFFF, sess=ALL1) + struct.pack(
             '<HBBIHHIIIQQ', 41, 1, 34, 56, 0, 0, 0, 0, 0, ALL1, ALL1)
assert len(qi) == 104
qi = pad8(qi + b'\0')  # SS 41 counts one buffer byte: 105 -> 0x70
cl = hdr(6, msgid=22, flags=FLAG_RELATED, credits=1, tree=0xFFFFFFFF,
         sess=ALL1) + struct.pack('<HHI', 24, 0, 0) + struct.pack(
             '<QQ', ALL1, ALL1)
V['compound_req_case19'] = c1 + qi + cl
r1 = pad8(create_resp(b'', msgid=20))
r1 = r1[:20] + struct.pack('<I', len(r1)) + r1[24:]
r2 = hdr(0x10, msgid=21, flags=FLAG_RESP | FLAG_RELATED, credits=1,
         tree=5, sess=0x100000001) + struct.pack('<HHI', 9, 0x48,
                                                 56) + bytes(56)
r2 = pad8(r2)
r2 = r2[:20] + struct.pack('<I', len(r2)) + r2[24:]
r3 = hdr(6, msgid=22, flags=FLAG_RESP | FLAG_RELATED, credits=1, tree=5,
         sess=0x100000001) + struct.pack('<HHI', 60, 0, 0) + bytes(52)
V['compound_resp_case19'] = r1 + r2 + r3

# --- TRANSFORM (case 20) over a fake 68-byte ciphertext, compression
NONCE = bytes(range(0x30, 0x3C)) + bytes(4)
V['transform_msg'] = struct.pack('<I16s16sIHHQ', 0x424D53FD, SIG, NONCE, 68,
                                 0, 1, 0x100000001) + bytes(range(68))
V['compression_msg'] = struct.pack('<IIHHI', 0x424D53FC, 200, 2, 0, 64) + \
    V['echo_req'] + bytes(range(40))
V['compression_msg_chained'] = struct.pack('<II', 0x424D53FC, 200) + \
    struct.pack('<HHI', 0, 1, 68) + V['echo_req'] + struct.pack(
        '<HHI', 4, 0, 8) + struct.pack('<BBHI', 0x41, 0, 0, 132)

# --- SMB1 multi-protocol NEGOTIATE
dial = b''.join(b'\x02' + s + b'\0'
                for s in (b'NT LM 0.12', b'SMB 2.002', b'SMB 2.???'))
V['smb1_negotiate'] = b'\xffSMB' + bytes([0x72]) + bytes(4) + bytes(
    [0x18]) + struct.pack('<H', 0xC853) + bytes(20) + bytes(
        [0]) + struct.pack('<H', len(dial)) + dial


def emit(path, guard, items, comment, prefix):
    with open(path, 'w') as f:
        f.write('/* SPDX-License-Identifier: MIT */\n')
        f.write('/* Generated by tests/vectors/smb2/gen_vectors.py; do not '
                'edit.\n * ' + comment + ' */\n')
        f.write('#ifndef %s\n#define %s\n\n#include <stdint.h>\n\n' %
                (guard, guard))
        for name, b in items.items():
            f.write('static const uint8_t %s%s[%d] = {' % (prefix, name, len(b)))
            for i, x in enumerate(b):
                if i % 12 == 0:
                    f.write('\n ')
                f.write(' 0x%02x,' % x)
            f.write('\n};\n\n')
        f.write('#endif\n')


emit(os.path.join(ROOT, 'pdus.h'), 'SMBX_VEC_SMB2_PDUS_H', V,
     'Source: hand-built from spec/smb2.md sec. 2-4 and leases.md sec. 2\n'
     ' * ([MS-SMB2] 2.2.x) with Python struct.pack, independent of the C\n'
     ' * encoder.', 'smb2_vec_')
emit(os.path.join(ROOT, 'create_ctx.h'), 'SMBX_VEC_SMB2_CREATE_CTX_H', CTX,
     'Create-context chain areas (2.2.13.2); source as pdus.h.', 'smb2_ctx_')

for target, items in (('fuzz_smb2_pdu', V), ('fuzz_smb2_create_ctx', CTX)):
    d = os.path.join(REPO, 'fuzz', 'corpus', target)
    os.makedirs(d, exist_ok=True)
    for name, b in items.items():
        with open(os.path.join(d, name), 'wb') as f:
            f.write(b)
