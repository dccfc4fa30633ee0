#!/usr/bin/python3
"""Generate tests/vectors/smb2/io_*.h: SMB2 I/O-command PDUs and payloads.

Source: hand-built with Python's struct module from the layouts of
`../shared/spec/smb2.md` sec. 4.6-4.12 (MS-SMB2 2.2.19-2.2.40, MS-FSCC 2.4 /
2.7.1, MS-SMBD 2.2.3.1, MS-SMB2 2.2.43), independently of the C encoders; the
field values are those of spec sec. 7 cases 10-16. Run from anywhere:
    /usr/bin/python3 tests/vectors/smb2/gen_io_vectors.py
"""
import os
import struct

OUT = os.path.dirname(os.path.abspath(__file__))

FID = (0x1122334455667788, 0x99AABBCCDDEEFF00)
SESSION = 0x0000400000000011
TREE = 0x00000005


def hdr(cmd, msg_id, resp=False, status=0, credits=1, flags=0, async_id=None,
        credit_charge=1):
    f = flags | (1 if resp else 0)
    h = struct.pack("<4sHHIHHII Q", b"\xfeSMB", 64, credit_charge, status, cmd,
                    credits, f | (2 if async_id is not None else 0), 0, msg_id)
    if async_id is not None:
        h += struct.pack("<Q", async_id)
    else:
        h += struct.pack("<II", 0x0000FEFF, TREE)
    h += struct.pack("<Q", SESSION) + bytes(16)
    assert len(h) == 64
    return h


def fid():
    return struct.pack("<QQ", *FID)


def u16s(name):
    return name.encode("utf-16-le")


def desc(off, tok, ln):
    return struct.pack("<QII", off, tok, ln)


def pad8(b):
    return b + bytes((8 - len(b) % 8) % 8)


V = {}  # name -> (bytes, comment)

# ---- READ (2.2.19/2.2.20), case 10 ----
V["read_req_inline"] = (
    hdr(0x08, 10) + struct.pack("<HBBIQ", 49, 0x50, 0, 65536, 0) + fid() +
    struct.pack("<IIIHH", 0, 0, 0, 0, 0) + b"\x00",
    "case 10: READ 64 KiB inline, Channel NONE, one pad byte")
descs = desc(0x00007F0000010000, 0x1234, 0xFFFC0) + desc(0x00007F0000200000, 0x1235, 0x40)
V["read_req_rdma_inv"] = (
    hdr(0x08, 11) + struct.pack("<HBBIQ", 49, 0x50, 0, 0x100000, 0x200000) + fid() +
    struct.pack("<IIIHH", 0, 2, 0, 0x70, len(descs)) + descs,
    "case 10: READ 1 MiB, RDMA_V1_INVALIDATE, descriptors 0xFFFC0 + 0x40 at 0x70")
V["read_resp_inline"] = (
    hdr(0x08, 10, resp=True) + struct.pack("<HBBIII", 17, 0x50, 0, 5, 0, 0) + b"hello",
    "case 10: READ response, 5 bytes at DataOffset 0x50")
V["read_resp_rdma"] = (
    hdr(0x08, 11, resp=True) + struct.pack("<HBBIII", 17, 0x50, 0, 0, 0x100000, 0) + b"\x00",
    "case 10: READ response for RDMA: DataLength 0, DataRemaining 1 MiB")
sig = bytes(range(0xA0, 0xB0))
nonce = bytes(range(0xC0, 0xCC))
xf = pad8(struct.pack("<HHHH", 1, len(sig), len(nonce), 0) + sig + nonce)
inner = desc(0x00007F0000300000, 0x2222, 0x10000)
rt = struct.pack("<HHIHHI", 16 + len(xf), len(inner), 2, 1, 0, 0) + xf + inner
V["read_req_transform"] = (
    hdr(0x08, 12) + struct.pack("<HBBIQ", 49, 0x50, 0, 0x10000, 0) + fid() +
    struct.pack("<IIIHH", 0, 3, 0, 0x70, len(rt)) + rt,
    "READ with Channel RDMA_TRANSFORM: one encryption transform (16-byte "
    "signature, 12-byte nonce), inner RDMA_V1_INVALIDATE, one descriptor")

# ---- WRITE (2.2.21/2.2.22), case 11 ----
data = b"0123456789abcdef"
V["write_req_inline"] = (
    hdr(0x09, 20) + struct.pack("<HHIQ", 49, 0x70, len(data), 4096) + fid() +
    struct.pack("<IIHHI", 0, 0, 0, 0, 1) + data,
    "case 11: WRITE 16 bytes inline at 0x70, WRITE_THROUGH")
wd = desc(0x00007F0000400000, 0x3333, 0x100000)
V["write_req_rdma"] = (
    hdr(0x09, 21) + struct.pack("<HHIQ", 49, 0, 0, 0) + fid() +
    struct.pack("<IIHHI", 1, 0x100000, 0x70, len(wd), 0) + wd,
    "case 11: WRITE over RDMA_V1: Length 0, DataOffset 0, RemainingBytes 1 MiB")
V["write_resp"] = (
    hdr(0x09, 20, resp=True) + struct.pack("<HHIIHH", 17, 0, 16, 0, 0, 0) + b"\x00",
    "case 11: WRITE response Count 16")

# ---- LOCK (2.2.26/2.2.27), case 12 ----
locks = (struct.pack("<QQII", 0, 100, 0x2 | 0x10, 0) +
         struct.pack("<QQII", 200, 50, 0x1, 0) +
         struct.pack("<QQII", 1000, 10, 0x4, 0))
V["lock_req"] = (
    hdr(0x0A, 30) + struct.pack("<HHI", 48, 3, (5 << 4) | 1) + fid() + locks,
    "case 12: LOCK with 3 elements: EXCLUSIVE|FAIL_IMMEDIATELY, SHARED, UNLOCK")
V["lock_resp"] = (hdr(0x0A, 30, resp=True) + struct.pack("<HH", 4, 0),
                  "case 12: LOCK response")

# ---- IOCTL (2.2.31/2.2.32), case 13 ----
guid = bytes(range(0x10, 0x20))
vni_in = struct.pack("<I16sHH", 0x7F, guid, 1, 4) + struct.pack("<4H", 0x202, 0x210, 0x300, 0x302)
V["ioctl_req_vni"] = (
    hdr(0x0B, 40, flags=8) + struct.pack("<HHI", 57, 0, 0x00140204) +
    struct.pack("<QQ", 2**64 - 1, 2**64 - 1) +
    struct.pack("<IIIIIIII", 0x78, len(vni_in), 0, 0x78 + len(vni_in), 0, 24, 1, 0) + vni_in,
    "case 13: FSCTL_VALIDATE_NEGOTIATE_INFO request, 4 dialects, signed")
vni_out = struct.pack("<I16sHH", 0x2F, bytes(range(0x30, 0x40)), 1, 0x302)
V["ioctl_resp_vni"] = (
    hdr(0x0B, 40, resp=True, flags=8) + struct.pack("<HHI", 49, 0, 0x00140204) +
    struct.pack("<QQ", 2**64 - 1, 2**64 - 1) +
    struct.pack("<IIIIII", 0x70, 0, 0x70, len(vni_out), 0, 0) + vni_out,
    "case 13: VALIDATE_NEGOTIATE_INFO response (dialect 3.0.2)")
V["ioctl_req_netif"] = (
    hdr(0x0B, 41) + struct.pack("<HHI", 57, 0, 0x001401FC) +
    struct.pack("<QQ", 2**64 - 1, 2**64 - 1) +
    struct.pack("<IIIIIIII", 0x78, 0, 0, 0x78, 0, 65536, 1, 0) + b"\x00",
    "case 13: FSCTL_QUERY_NETWORK_INTERFACE_INFO request (no input)")


def netif(nxt, idx, cap, speed, v6, addr):
    e = struct.pack("<IIIIQ", nxt, idx, cap, 0, speed)
    if not v6:
        sa = struct.pack("<H", 2) + struct.pack(">H", 0) + bytes(addr) + bytes(8)
    else:
        sa = (struct.pack("<H", 0x17) + struct.pack(">HI", 0, 0) + bytes(addr) +
              struct.pack(">I", 0))
    sa += bytes(128 - len(sa))
    return e + sa


ni = (netif(152, 3, 0x3, 100_000_000_000, False, [192, 168, 7, 1]) +
      netif(0, 3, 0x1, 100_000_000_000, True,
            [0xfe, 0x80] + [0] * 6 + [0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55]))
V["netif_payload"] = (ni, "case 13: NETWORK_INTERFACE_INFO: IPv4 RSS|RDMA 100 Gb/s "
                          "(Next 152) + IPv6 RSS (Next 0)")
V["ioctl_resp_netif"] = (
    hdr(0x0B, 41, resp=True) + struct.pack("<HHI", 49, 0, 0x001401FC) +
    struct.pack("<QQ", 2**64 - 1, 2**64 - 1) +
    struct.pack("<IIIIII", 0x70, 0, 0x70, len(ni), 0, 0) + ni,
    "case 13: QUERY_NETWORK_INTERFACE_INFO response with the two entries")

# ---- QUERY_DIRECTORY (2.2.33/2.2.34), case 14 ----
V["qdir_req"] = (
    hdr(0x0E, 50) + struct.pack("<HBBI", 33, 37, 0x01, 0) + fid() +
    struct.pack("<HHI", 0x60, 2, 65536) + u16s("*"),
    "case 14: QUERY_DIRECTORY '*', FileIdBothDirectoryInformation, RESTART_SCANS")

TIMES = (0x01D9000000000001, 0x01D9000000000002, 0x01D9000000000003, 0x01D9000000000004)


def dir_entry(cls, name, idx, short=b"", last=False):
    n = u16s(name)
    if cls == 12:
        return struct.pack("<III", 0, idx, len(n)) + n
    attrs = 0x10 if name in (".", "..") else 0x20
    e = struct.pack("<II4QQQII", 0, idx, *TIMES, 1234 * idx, 4096, attrs, len(n))
    if cls == 2:
        e += struct.pack("<I", 0)
    elif cls in (3, 37):
        e += struct.pack("<IBB24s", 0, len(short), 0, short)
        if cls == 37:
            e += struct.pack("<HQ", 0, 0x1000 + idx)
    elif cls == 38:
        e += struct.pack("<IIQ", 0, 0, 0x1000 + idx)
    elif cls == 60:
        e += struct.pack("<II16s", 0, 0, bytes([idx]) * 16)
    return e + n


def chain(entries, align):
    out = b""
    for i, e in enumerate(entries):
        if i + 1 < len(entries):
            size = len(e) + (align - len(e) % align) % align
            e = struct.pack("<I", size) + e[4:] + bytes(size - len(e))
        out += e
    return out


names = [(".", b""), ("..", b""), ("abc", u16s("ABC"))]  # "abc": 3 chars
for cls in (1, 2, 3, 12, 37, 38, 60):
    ents = [dir_entry(cls, n, i + 1, s if cls in (3, 37) else b"") for i, (n, s) in enumerate(names)]
    V["dir_class_%d" % cls] = (chain(ents, 8),
                               "case 14: class %d entries '.', '..', 'abc' (8-aligned)" % cls)
V["qdir_resp_37"] = (
    hdr(0x0E, 50, resp=True) + struct.pack("<HHI", 9, 0x48, len(V["dir_class_37"][0])) +
    V["dir_class_37"][0],
    "case 14: QUERY_DIRECTORY response, class 37, '.', '..', 'abc'")

# ---- CHANGE_NOTIFY (2.2.35/2.2.36), case 15 ----
V["notify_req"] = (
    hdr(0x0F, 60) + struct.pack("<HHI", 32, 1, 4096) + fid() + struct.pack("<II", 0x17, 0),
    "case 15: CHANGE_NOTIFY WATCH_TREE, FILE_NAME|DIR_NAME|ATTRIBUTES|LAST_WRITE")


def notify(action, name):
    n = u16s(name)
    return struct.pack("<III", 0, action, len(n)) + n


nt = chain([notify(1, "a"), notify(4, "bcd"), notify(5, "ef")], 4)
V["notify_payload"] = (nt, "case 15: 3 FILE_NOTIFY_INFORMATION entries, 4-byte padding")
V["notify_resp"] = (
    hdr(0x0F, 60, resp=True, async_id=0x77) + struct.pack("<HHI", 9, 0x48, len(nt)) + nt,
    "case 15: final CHANGE_NOTIFY response (async) with 3 entries")
V["notify_resp_enum_dir"] = (
    hdr(0x0F, 60, resp=True, status=0x0000010C, async_id=0x77) +
    struct.pack("<HHI", 9, 0x48, 0) + b"\x00",
    "case 15: final CHANGE_NOTIFY NOTIFY_ENUM_DIR, empty buffer")

# ---- QUERY_INFO / SET_INFO (2.2.37-2.2.40), case 16 ----
V["qinfo_req_18"] = (
    hdr(0x10, 70) + struct.pack("<HBBIHHIII", 41, 1, 18, 4096, 0x68, 0, 0, 0, 0) + fid() + b"\x00",
    "case 16: QUERY_INFO FileAllInformation")
fname = u16s("dir\\file.txt")
basic = struct.pack("<4QII", *TIMES, 0x20, 0)
std = struct.pack("<QQIBBH", 8192, 5000, 1, 0, 0, 0)
allinfo = basic + std + struct.pack("<QIIQIII", 0x1234, 0, 0x12019F, 0, 0, 0, len(fname)) + fname
V["file_all_info"] = (allinfo, "case 16: FileAllInformation, name 'dir\\\\file.txt'")
V["qinfo_resp_18"] = (
    hdr(0x10, 70, resp=True) + struct.pack("<HHI", 9, 0x48, len(allinfo)) + allinfo,
    "case 16: QUERY_INFO response FileAllInformation")
V["qinfo_req_34"] = (
    hdr(0x10, 71) + struct.pack("<HBBIHHIII", 41, 1, 34, 56, 0x68, 0, 0, 0, 0) + fid() + b"\x00",
    "case 16: QUERY_INFO FileNetworkOpenInformation")
netopen = struct.pack("<6QII", *TIMES, 8192, 5000, 0x20, 0)
V["file_network_open_info"] = (netopen, "case 16: FileNetworkOpenInformation")
V["qinfo_resp_34"] = (
    hdr(0x10, 71, resp=True) + struct.pack("<HHI", 9, 0x48, len(netopen)) + netopen,
    "case 16: QUERY_INFO response FileNetworkOpenInformation")
sbasic = struct.pack("<4QII", 0, 0, 0x01D9000000000009, 0, 0x80, 0)
V["file_basic_info"] = (sbasic, "case 16: FileBasicInformation for SET (times 0 = keep)")
V["setinfo_req_4"] = (
    hdr(0x11, 72) + struct.pack("<HBBIHHI", 33, 1, 4, len(sbasic), 0x60, 0, 0) + fid() + sbasic,
    "case 16: SET_INFO FileBasicInformation")
rname = u16s("newname.txt")
rename = struct.pack("<B7xQI", 1, 0, len(rname)) + rname
V["file_rename_info"] = (rename, "case 16: FileRenameInformation, ReplaceIfExists")
V["setinfo_req_10"] = (
    hdr(0x11, 73) + struct.pack("<HBBIHHI", 33, 1, 10, len(rename), 0x60, 0, 0) + fid() + rename,
    "case 16: SET_INFO FileRenameInformation 'newname.txt'")
V["setinfo_resp"] = (hdr(0x11, 72, resp=True) + struct.pack("<H", 2),
                     "case 16: SET_INFO response (SS 2)")


def emit(fname, names):
    lines = ["/* SPDX-License-Identifier: MIT */",
             "/* Generated by tests/vectors/smb2/gen_io_vectors.py: hand-built from",
             " * the layouts of spec/smb2.md sec. 4.6-4.12 (MS-SMB2 2.2.19-2.2.40,",
             " * MS-FSCC 2.4/2.7.1, MS-SMBD 2.2.3.1, MS-SMB2 2.2.43) with Python's",
             " * struct module, independently of the C encoders. Do not edit. */",
             "#ifndef SMBX_VEC_%s" % fname.upper().replace(".", "_"),
             "#define SMBX_VEC_%s" % fname.upper().replace(".", "_"),
             "", "#include <stdint.h>", ""]
    for n in names:
        b, comment = V[n]
        lines.append("/* %s (%d bytes) */" % (comment, len(b)))
        lines.append("static const uint8_t io_%s[%d] = {" % (n, len(b)))
        for i in range(0, len(b), 12):
            lines.append("  " + " ".join("0x%02x," % x for x in b[i:i + 12]))
        lines.append("};")
        lines.append("")
    lines.append("#endif")
    with open(os.path.join(OUT, fname), "w") as f:
        f.write("\n".join(lines) + "\n")


emit("io_rw.h", ["read_req_inline", "read_req_rdma_inv", "read_resp_inline", "read_resp_rdma",
                 "read_req_transform", "write_req_inline", "write_req_rdma", "write_resp",
                 "lock_req", "lock_resp"])
emit("io_ioctl.h", ["ioctl_req_vni", "ioctl_resp_vni", "ioctl_req_netif", "netif_payload",
                    "ioctl_resp_netif"])
emit("io_dir.h", ["qdir_req"] + ["dir_class_%d" % c for c in (1, 2, 3, 12, 37, 38, 60)] +
     ["qdir_resp_37", "notify_req", "notify_payload", "notify_resp", "notify_resp_enum_dir"])
emit("io_info.h", ["qinfo_req_18", "file_all_info", "qinfo_resp_18", "qinfo_req_34",
                   "file_network_open_info", "qinfo_resp_34", "file_basic_info",
                   "setinfo_req_4", "file_rename_info", "setinfo_req_10", "setinfo_resp"])

# fuzz seeds for fuzz_smb2_dir: first byte selects the iterator
SEL = {1: 0, 2: 1, 3: 2, 12: 3, 37: 4, 38: 5, 60: 6}
seed_dir = os.path.join(OUT, "..", "..", "..", "fuzz", "corpus", "fuzz_smb2_dir")
if os.path.isdir(seed_dir):
    for cls, s in SEL.items():
        with open(os.path.join(seed_dir, "class_%d" % cls), "wb") as f:
            f.write(bytes([s]) + V["dir_class_%d" % cls][0])
    with open(os.path.join(seed_dir, "notify_3"), "wb") as f:
        f.write(bytes([7]) + V["notify_payload"][0])
    with open(os.path.join(seed_dir, "netif_2"), "wb") as f:
        f.write(bytes([8]) + V["netif_payload"][0])
    with open(os.path.join(seed_dir, "rdma_transform"), "wb") as f:
        f.write(bytes([9]) + V["read_req_transform"][0][0x70:])
