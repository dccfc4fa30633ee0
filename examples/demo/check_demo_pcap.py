#!/usr/bin/python3
"""check_demo_pcap.py SMBX_DEMO TSHARK_CHECK SMBX_DUMP OUTDIR

Runs `smbx-demo -q --pcap OUTDIR/demo.pcap` and checks the capture:

* tshark (tools/tshark_check.py): no expert warning or error, no
  malformed packet (`-Y _ws.malformed` empty), every SMB Direct message
  dissected; the RDMA run's SMB2 READ/WRITE requests show their
  SMB_DIRECT_BUFFER_DESCRIPTOR_V1 entries and the RDMA operations appear as
  RDMA WRITE First/Middle/Last and RDMA READ Request/Response
  First/Middle/Last (path MTU 4096), the answers as SEND Only with
  Invalidate; every RETH (virtual address, R_Key, DMA length) lies inside a
  descriptor the SMB2 PDUs carried with that token, and the operations
  cover every descriptor exactly;
* smbx-dump: no error record; one complete rdma_write / rdma_read record
  per descriptor, with the descriptor's offset, token and length.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
from rdma_pcap import capture, rdma_coverage, tshark_run  # noqa: E402


def main():
    demo, checker, dump, outdir = sys.argv[1:5]
    cap, why = capture(demo, outdir, "demo")
    if cap is None:
        print(why)
        return 1

    # ---- tshark
    out, bad = tshark_run(checker, cap)
    if out is None:
        print(bad)
        return 1
    smb2 = out.get("smb2", {})
    for cmd in ("NEGOTIATE", "SESSION_SETUP", "TREE_CONNECT", "CREATE",
                "WRITE", "READ", "QUERY_DIRECTORY", "CLOSE"):
        if smb2.get(cmd + ".req", 0) == 0 or \
                smb2.get(cmd + ".req") != smb2.get(cmd + ".resp"):
            bad.append("%s: %d requests, %d responses" %
                       (cmd, smb2.get(cmd + ".req", 0),
                        smb2.get(cmd + ".resp", 0)))
    rdma = out.get("rdma", {})
    for op in ("RDMA_WRITE_FIRST", "RDMA_WRITE_MIDDLE", "RDMA_WRITE_LAST",
               "RDMA_READ_REQUEST", "RDMA_READ_RESPONSE_FIRST",
               "RDMA_READ_RESPONSE_MIDDLE", "RDMA_READ_RESPONSE_LAST",
               "SEND_ONLY", "SEND_ONLY_INV"):
        if rdma.get(op, 0) == 0:
            bad.append("no %s packet (tshark: %s)" % (op, json.dumps(rdma)))
    descs, reths, covered = rdma_coverage(out, bad)
    for d, n in covered.items():
        if n != d[2]:
            bad.append("descriptor %#x/%#x/%d: RDMA moved %d bytes"
                       % (d[0], d[1], d[2], n))

    # ---- smbx-dump
    r = subprocess.run([dump, cap], capture_output=True, text=True)
    if r.returncode != 0:
        bad.append("smbx-dump exit %d: %s" % (r.returncode, r.stderr[-500:]))
    recs = [json.loads(line) for line in r.stdout.splitlines() if line]
    dump_descs, ops = [], []
    for x in recs:
        if x["type"] == "error":
            bad.append("smbx-dump error: " + json.dumps(x))
        elif x["type"] in ("rdma_write", "rdma_read"):
            ops.append(x)
        elif (x["type"] == "smb2" and x["cmd_name"] in ("READ", "WRITE")
              and not x["response"]):
            dump_descs += [(d["offset"], d["token"], d["length"], x["cmd_name"])
                           for d in x.get("body", {}).get("descriptors", [])]
    if sorted(d[:3] for d in dump_descs) != sorted(descs):
        bad.append("smbx-dump descriptors %s differ from tshark's %s"
                   % (dump_descs, descs))
    want = {"READ": "rdma_write", "WRITE": "rdma_read"}
    for off, tok, n, cmd in dump_descs:
        hit = [o for o in ops if o["va"] == off and o["rkey"] == tok
               and o["length"] == n and o["bytes"] == n and o["complete"]
               and o["type"] == want[cmd] and o["direction"] == "s2c"]
        if len(hit) != 1:
            bad.append("%s descriptor %#x/%#x/%d: %d matching %s records"
                       % (cmd, off, tok, n, len(hit), want[cmd]))
    if len(ops) != len(dump_descs):
        bad.append("smbx-dump: %d RDMA records for %d descriptors"
                   % (len(ops), len(dump_descs)))

    for b in bad:
        print("problem: " + b)
    print(json.dumps({"frames": out.get("frames"), "smb2": smb2,
                      "rdma": rdma, "descriptors": len(descs),
                      "reths": len(reths), "dump_rdma_records": len(ops)}))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
