#!/usr/bin/python3
"""Meson test: the I/O commands of smbx/smb2_io.h against Wireshark.

usage: check_io_pcap.py SMB2_IO_PCAP TSHARK_CHECK OUT.pcap [roce]

SMB2_IO_PCAP encodes every I/O command (requests and responses) with the
codec into OUT.pcap (Direct-TCP, port 445) and prints what tshark must read
back per frame. tools/tshark_check.py must report no problem (no malformed
packet, no expert warning, nothing undecoded), the PDU counts per command
must match, and every listed field of every frame must equal what was
encoded. With `roce` the PDUs travel over SMB Direct / RoCEv2 with the
RDMA WRITE / READ of the payloads, and the SMB Direct message and RDMA
packet counts must match too. Fails (exit 1) when tshark is missing.
"""
import json
import subprocess
import sys


def main():
    gen, check, out = sys.argv[1:4]
    mode = sys.argv[4:5]
    p = subprocess.run([gen, out] + mode, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        print("smb2_io_pcap failed: %s" % p.stderr.decode(), file=sys.stderr)
        return 1
    want = json.loads(p.stdout)
    fields = []
    for f in want["frames"]:
        for k in f:
            if k not in fields:
                fields.append(k)
    args = [sys.executable, check, out, "--fields", ",".join(fields),
            "--expect-smb2", str(want["smb2_pdus"]),
            "--expect", json.dumps({k: want[k] for k in ("smb2", "smbd", "rdma") if k in want})]
    r = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        print("tshark_check.py exited %d:\n%s%s" % (r.returncode, r.stderr.decode(),
                                                   r.stdout.decode()), file=sys.stderr)
        return 1
    got = json.loads(r.stdout)
    fails = []
    if got.get("problems"):
        fails.append("problems: %s" % got["problems"])
    rows = got.get("fields", [])
    if len(rows) != len(want["frames"]):
        fails.append("tshark shows %d SMB2 frames, %d were written" % (len(rows), len(want["frames"])))
    checked = 0
    for i, (w, g) in enumerate(zip(want["frames"], rows)):
        for k, v in w.items():
            checked += 1
            if g.get(k) != v:
                fails.append("frame %d (msg %s %s): %s: tshark %s, encoded %s" % (
                    g.get("frame"), w["smb2.msg_id"][0],
                    "resp" if w["smb2.flags.response"][0] else "req", k,
                    json.dumps(g.get(k)), json.dumps(v)))
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    if fails:
        return 1
    print("%d SMB2 PDUs, %d fields equal to what was encoded, no problems" % (len(rows), checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
