#!/usr/bin/python3
"""Runs pcap_session, checks its capture with tools/tshark_check.py and
compares, message by message, the SMB Direct fields tshark decoded with the
ones the engines sent. usage: pcap_compare.py SESSION_EXE CHECKER WORKDIR"""
import json, os, subprocess, sys

exe, checker, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
cap, exp = os.path.join(work, "smbd_session.pcap"), os.path.join(work, "smbd_session.json")
subprocess.run([exe, cap, exp], check=True)
want = json.load(open(exp))
fields = ["smb_direct.credits.requested", "smb_direct.credits.granted",
          "smb_direct.flags.response_requested", "smb_direct.remaining_length",
          "smb_direct.data_length", "smb_direct.version.negotiated"]
r = subprocess.run(["/usr/bin/python3", checker, cap, "--fields", ",".join(fields),
                    "--expect-smbd", str(len(want))], capture_output=True, text=True)
sys.stdout.write(r.stdout[-3000:])
sys.stderr.write(r.stderr[-3000:])
if r.returncode != 0:
    sys.exit("tshark_check failed (%d)" % r.returncode)
got = json.loads(r.stdout)["fields"]
data_want = [w for w in want if w["kind"] == "data"]
data_got = [g for g in got if "smb_direct.credits.granted" in g and "smb_direct.remaining_length" in g]
if len(data_got) != len(data_want):
    sys.exit("data messages: tshark %d, engines %d" % (len(data_got), len(data_want)))
bad = 0
for i, (g, w) in enumerate(zip(data_got, data_want)):
    for f in fields[:5]:
        gv = g.get(f, [0])
        gv = gv[0] if gv else 0
        if f == "smb_direct.data_length" and w[f] == 0 and f not in g:
            continue
        if gv != w[f]:
            print("message %d field %s: tshark %r, sent %r" % (i, f, gv, w[f]))
            bad += 1
if bad:
    sys.exit(1)
print("ok: %d messages, %d data messages match field by field" % (len(want), len(data_want)))
