"""Shared by the examples' capture checks (examples/demo/check_demo_pcap.py,
examples/migrate/check_migrate_pcap.py): tshark over a capture of SMB
Direct with RDMA (tools/tshark_check.py plus the malformed-packet filter),
the SMB_DIRECT_BUFFER_DESCRIPTOR_V1 entries the SMB2 PDUs carried, and
which descriptor each RDMA RETH lies in.
"""
import json
import os
import shutil
import subprocess

FIELDS = ["smb2.buffer_descriptor.offset", "smb2.buffer_descriptor.token",
          "smb2.buffer_descriptor.length", "infiniband.reth.va",
          "infiniband.reth.r_key", "infiniband.reth.dmalen"]


def num(v):
    return v if isinstance(v, int) else int(str(v), 0)


def capture(exe, outdir, name):
    """Runs `smbx-NAME -q --pcap OUTDIR/NAME.pcap` (exe): (the capture's
    path, None), or (None, why) when it failed or tshark is missing."""
    os.makedirs(outdir, exist_ok=True)
    cap = os.path.join(outdir, name + ".pcap")
    r = subprocess.run([exe, "-q", "--pcap", cap], capture_output=True,
                       text=True, timeout=600)
    if r.returncode != 0:
        return None, "smbx-%s failed: %s" % (name, r.stderr.strip())
    if not shutil.which("tshark"):
        return None, "tshark not found"
    return cap, None


def tshark_run(checker, cap, extra_args=()):
    """(tshark_check.py's JSON, problems so far), or (None, why) when the
    checker could not run."""
    r = subprocess.run(["/usr/bin/python3", checker, cap,
                        "--fields", ",".join(FIELDS)] + list(extra_args),
                       capture_output=True, text=True)
    if r.returncode == 2:
        return None, "tshark_check.py could not run: " + r.stderr.strip()
    out = json.loads(r.stdout)
    bad = list(out.get("problems", []))
    m = subprocess.run(["tshark", "-n", "-r", cap, "-Y", "_ws.malformed"],
                       capture_output=True, text=True)
    if m.returncode != 0 or m.stdout.strip():
        bad.append("malformed packets: " + m.stdout.strip()[:500])
    return out, bad


def rdma_coverage(out, bad):
    """The descriptors (offset, token, length), the RETHs (va, r_key,
    length, frame) and the bytes the RETHs moved into each descriptor;
    a RETH outside every descriptor or an incomplete descriptor is
    appended to bad."""
    descs, reths = [], []
    for f in out.get("fields", []):
        offs = f.get("smb2.buffer_descriptor.offset", [])
        toks = f.get("smb2.buffer_descriptor.token", [])
        lens = f.get("smb2.buffer_descriptor.length", [])
        if not (len(offs) == len(toks) == len(lens)):
            bad.append("frame %d: incomplete descriptor" % f["frame"])
            continue
        descs += [(num(o), num(t), num(n)) for o, t, n in zip(offs, toks, lens)]
        vas = f.get("infiniband.reth.va", [])
        if vas:
            reths.append((num(vas[0]), num(f["infiniband.reth.r_key"][0]),
                          num(f["infiniband.reth.dmalen"][0]), f["frame"]))
    if not descs:
        bad.append("tshark shows no BUFFER_DESCRIPTOR_V1 entry")
    covered = {d: 0 for d in descs}
    for va, rkey, n, frame in reths:
        home = [d for d in descs
                if d[1] == rkey and d[0] <= va and va + n <= d[0] + d[2]]
        if not home:
            bad.append("frame %d: RETH va %#x rkey %#x len %d outside every "
                       "descriptor" % (frame, va, rkey, n))
        else:
            covered[home[0]] += n
    return descs, reths, covered
