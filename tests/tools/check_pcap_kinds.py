#!/usr/bin/python3
"""Meson test driver: write captures with pcap_kinds (pcapw) and check them
with tools/tshark_check.py (tshark).

usage: check_pcap_kinds.py PCAP_KINDS TSHARK_CHECK OUTDIR MODE
MODE: tcp | smb2x | roce
                   captures (a), (a2), (b): the checker must report no problem and
                   exactly the counts and per-frame fields pcap_kinds says it
                   wrote; a wrong expectation must make it fail
      multi        capture (c): pcap_kinds checks its own output (no tshark)
      defects      one capture per defect: the checker must report each
      usage        the checker's exit status 2 cases
Fails (exit 1) when tshark is missing.
"""
import json
import os
import shutil
import subprocess
import sys

FAILS = []


def fail(msg):
    FAILS.append(msg)
    print("FAIL: " + msg, file=sys.stderr)


def run(args):
    p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


def write(kinds, kind, path):
    rc, out, err = run([kinds, kind, path])
    if rc != 0:
        fail("pcap_kinds %s exited %d: %s" % (kind, rc, err.strip()))
        return None
    if not os.path.isfile(path) or os.path.getsize(path) <= 24:
        fail("pcap_kinds %s wrote no packets to %s" % (kind, path))
        return None
    return out


def checker(check, path, *extra):
    return run([sys.executable, check, path] + list(extra))


def mode_counts(kinds, check, outdir, kind):
    path = os.path.join(outdir, "kinds_%s.pcap" % kind)
    text = write(kinds, kind, path)
    if text is None:
        return
    want = json.loads(text)
    fields = want.pop("fields_list")
    args = ["--fields", fields,
            "--expect-smb2", str(want["smb2_pdus"]),
            "--expect-smbd", str(want["smbd_messages"]),
            "--expect", json.dumps(want)]
    rc, out, err = checker(check, path, *args)
    if rc != 0:
        fail("tshark_check.py %s exited %d:\n%s" % (path, rc, err))
        return
    got = json.loads(out)
    if got.get("problems"):
        fail("problems reported: %s" % got["problems"])
    # compare here too, independently of the checker's own --expect logic
    for key in ("frames", "smb2_pdus", "smbd_messages", "smb2", "smb2_status", "smbd", "rdma",
                "fields"):
        if key not in want:
            continue
        w, g = want[key], got.get(key)
        if isinstance(w, dict):
            g = {k: v for k, v in (g or {}).items() if v}
            w = {k: v for k, v in w.items() if v}
        if g != w:
            fail("%s: %s: tshark saw %s, pcap_kinds wrote %s" % (kind, key, json.dumps(g), json.dumps(w)))
    if kind == "roce" and not want.get("rdma"):
        fail("roce: no rdma expectation")
    print("%s: %d frames, %d SMB2 PDUs, %d SMB Direct messages, %d field rows match"
          % (kind, got["frames"], got["smb2_pdus"], got["smbd_messages"], len(got.get("fields", []))))

    # a wrong expectation must fail, each way of stating it
    wrong = [["--expect-smb2", str(want["smb2_pdus"] + 1)],
             ["--expect-smbd", str(want["smbd_messages"] + 1)],
             ["--expect", json.dumps({"smb2": {"ECHO.req": 1}})]]
    if want.get("fields"):
        bad = json.loads(json.dumps(want["fields"]))
        first = bad[0]
        k = [x for x in first if x != "frame"][0]
        first[k] = [first[k][0] + 1]
        wrong.append(["--fields", fields, "--expect", json.dumps({"fields": bad})])
    for extra in wrong:
        rc, out, err = checker(check, path, "-q", *extra)
        if rc != 1 or "expected" not in err:
            fail("%s: wrong expectation %s gave exit %d (want 1): %s" % (kind, extra, rc, err.strip()))


def mode_multi(kinds, outdir):
    path = os.path.join(outdir, "kinds_multi.pcap")
    text = write(kinds, "multi", path)
    if text is not None and json.loads(text).get("frames") != 6:
        fail("multi: unexpected output %r" % text)


DEFECTS = [
    # kind, problem text that must appear, args that make it pass
    ("raw_send", "not dissected as SMB Direct", ["--allow-raw-send"]),
    ("unreassembled", "never reassembled", None),
    ("tcp_cut", "not decoded", None),
    ("malformed", "Malformed Packet", ["--allow", "Malformed"]),
    ("tcp_junk", "Direct-TCP payload not decoded as SMB2", None),
    ("smbd_junk", "SMB Direct payload not decoded as SMB2", None),
]


def mode_defects(kinds, check, outdir):
    for kind, text, ok_args in DEFECTS:
        path = os.path.join(outdir, "kinds_%s.pcap" % kind)
        if write(kinds, kind, path) is None:
            continue
        rc, out, err = checker(check, path)
        if rc != 1:
            fail("%s: checker exit %d, want 1" % (kind, rc))
        try:
            probs = json.loads(out)["problems"]
        except (ValueError, KeyError):
            fail("%s: no JSON output: %r" % (kind, out[:200]))
            continue
        if not any(text in p for p in probs) or text not in err:
            fail("%s: problem %r not reported (got %s)" % (kind, text, probs))
        if ok_args is not None:
            rc, out, err = checker(check, path, "-q", *ok_args)
            if rc != 0:
                fail("%s: with %s the checker still fails (exit %d): %s" % (kind, ok_args, rc, err.strip()))
        print("%s: reported as %r" % (kind, text))


def mode_usage(kinds, check, outdir):
    path = os.path.join(outdir, "kinds_usage.pcap")
    write(kinds, "roce", path)
    cases = [
        ([os.path.join(outdir, "does-not-exist.pcap")], "no such"),
        ([path, "--fields", "smb_direct.no_such_field"], "tshark failed"),
        ([path, "--expect", "{not json"], "not JSON"),
    ]
    notpcap = os.path.join(outdir, "kinds_not_a_pcap.pcap")
    with open(notpcap, "w") as f:
        f.write("this is not a capture\n")
    cases.append(([notpcap], "tshark failed"))
    for args, text in cases:
        rc, out, err = checker(check, *args)
        if rc != 2 or text not in err:
            fail("checker %s: exit %d (want 2), stderr %r (want %r)" % (args, rc, err.strip()[-300:], text))


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    kinds, check, outdir, mode = sys.argv[1:]
    os.makedirs(outdir, exist_ok=True)
    if mode != "multi" and not shutil.which("tshark"):
        print("FAIL: tshark is not installed, so captures cannot be checked; "
              "install it with: apt-get install -y tshark", file=sys.stderr)
        return 1
    if mode in ("tcp", "smb2x", "roce"):
        mode_counts(kinds, check, outdir, mode)
    elif mode == "multi":
        mode_multi(kinds, outdir)
    elif mode == "defects":
        mode_defects(kinds, check, outdir)
    elif mode == "usage":
        mode_usage(kinds, check, outdir)
    else:
        print("unknown mode %r" % mode, file=sys.stderr)
        return 2
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
