#!/usr/bin/python3
"""check_migrate_pcap.py SMBX_MIGRATE TSHARK_CHECK SMBX_DUMP OUTDIR

Runs a short `smbx-migrate -q --pcap OUTDIR/migrate.pcap` and checks its
capture (Direct TCP control session, SMB Direct channel, RDMA):

* tshark (tools/tshark_check.py): no expert warning or error, no malformed
  packet; two NEGOTIATEs (TCP and SMB Direct), three SESSION_SETUPs (B's
  session, another one, B's binding), every request answered; the memory pulled by
  RDMA WRITE packets whose RETH (address, R_Key, length) lies inside a
  buffer descriptor an SMB2 READ carried, each descriptor covered from its
  start (whole, or up to the record's end for the dirty stream's READs);
  the READ responses sent with Invalidate;
* smbx-dump: no error record; exactly one complete server-to-client
  rdma_write record per READ descriptor, matching it.
"""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "tools"))
from rdma_pcap import capture, rdma_coverage, tshark_run  # noqa: E402


def tshark_problems(checker, cap):
    # the host's one-leg authenticator sends a blob that is no GSS-API
    # token: tshark says "Unknown header" for it (as in tests/node)
    out, bad = tshark_run(checker, cap,
                          ["--allow", r"^Unknown header \(class="])
    if out is None:
        return [bad], {}, []
    smb2 = out.get("smb2", {})
    # B's session, another session ("eve": its CREATEs of the control file
    # and the object find nothing) and B's binding on SMB Direct
    want = {"NEGOTIATE": 2, "SESSION_SETUP": 3, "TREE_CONNECT": 2,
            "CREATE": 5, "CLOSE": 1}
    for cmd, n in want.items():
        if smb2.get(cmd + ".req", 0) != n or smb2.get(cmd + ".resp", 0) != n:
            bad.append("%s: %d requests, %d responses (want %d)"
                       % (cmd, smb2.get(cmd + ".req", 0),
                          smb2.get(cmd + ".resp", 0), n))
    if smb2.get("READ.req", 0) < 3 or \
            smb2.get("READ.req") != smb2.get("READ.resp"):
        bad.append("READ: %d requests, %d responses"
                   % (smb2.get("READ.req", 0), smb2.get("READ.resp", 0)))
    rdma = out.get("rdma", {})
    for op in ("RDMA_WRITE_FIRST", "RDMA_WRITE_MIDDLE", "RDMA_WRITE_LAST",
               "RDMA_WRITE_ONLY", "SEND_ONLY", "SEND_ONLY_INV"):
        if rdma.get(op, 0) == 0:
            bad.append("no %s packet (tshark: %s)" % (op, json.dumps(rdma)))
    descs, reths, covered = rdma_coverage(out, bad)
    # a READ of the dirty stream asks a page and gets its shorter record
    # (EOF semantics): the data then covers the descriptor's start only
    for d, n in covered.items():
        if n == 0 or n > d[2]:
            bad.append("descriptor %#x/%#x/%d: RDMA moved %d bytes"
                       % (d[0], d[1], d[2], n))
    summary = {"frames": out.get("frames"), "smb2": smb2, "rdma": rdma,
               "descriptors": len(descs), "reths": len(reths)}
    return bad, summary, descs


def dump_problems(dump, cap, descs):
    bad = []
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
        elif (x["type"] == "smb2" and x["cmd_name"] == "READ"
              and not x["response"]):
            dump_descs += [(d["offset"], d["token"], d["length"])
                           for d in x.get("body", {}).get("descriptors", [])]
    if sorted(dump_descs) != sorted(descs):
        bad.append("smbx-dump descriptors %s differ from tshark's %s"
                   % (dump_descs[:8], descs[:8]))
    for off, tok, n in dump_descs:
        hit = [o for o in ops if o["va"] == off and o["rkey"] == tok
               and 0 < o["length"] <= n and o["bytes"] == o["length"]
               and o["complete"]
               and o["type"] == "rdma_write" and o["direction"] == "s2c"]
        if len(hit) != 1:
            bad.append("READ descriptor %#x/%#x/%d: %d matching rdma_write "
                       "records" % (off, tok, n, len(hit)))
    if len(ops) != len(dump_descs):
        bad.append("smbx-dump: %d RDMA records for %d descriptors"
                   % (len(ops), len(dump_descs)))
    return bad, len(ops)


def main():
    exe, checker, dump, outdir = sys.argv[1:5]
    cap, why = capture(exe, outdir, "migrate")
    if cap is None:
        print(why)
        return 1
    bad, summary, descs = tshark_problems(checker, cap)
    more, n_ops = dump_problems(dump, cap, descs)
    bad += more
    summary["dump_rdma_records"] = n_ops
    for b in bad:
        print("problem: " + b)
    print(json.dumps(summary))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
