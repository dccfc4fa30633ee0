#!/usr/bin/python3
"""tshark_check.py - check an SMB2 / SMB Direct capture with tshark.

usage: tshark_check.py CAPTURE [--port P] [--fields f1,f2,...]
                       [--expect-smb2 N] [--expect-smbd N] [--expect JSON|FILE]
                       [--allow REGEX]... [--allow-raw-send] [-q]

Runs tshark (two passes, -T fields) over CAPTURE and prints one JSON object:

  {"file": ..., "frames": N,
   "smb2_pdus": N, "smb2": {"NEGOTIATE.req": 1, "READ.resp": 2, ...},
   "smb2_status": {"0x00000000": 3, ...},
   "smb1_pdus": N,
   "smbd_messages": N,
   "smbd": {"negotiate_request": N, "negotiate_response": N, "data": N,
            "data_empty": N, "data_fragment": N, "response_requested": N},
   "rdma": {"SEND_ONLY": N, "RDMA_WRITE_FIRST": N, ...},
   "fields": [{"frame": 3, "smb_direct.credits.requested": [255], ...}, ...],
   "problems": ["frame 7: ...", ...]}

smb2 keys: COMMAND.req, COMMAND.resp, COMMAND.interim (a STATUS_PENDING
response) and OPLOCK_BREAK.notify (MessageId 0xFFFFFFFFFFFFFFFF); every
member of a compound counts. smb2_status counts responses per NTSTATUS.
smbd counts SMB Direct messages tshark decoded (data: every data transfer
message; data_empty: without payload; data_fragment: RemainingDataLength > 0;
response_requested: data messages with the flag). rdma counts RoCE packets
per InfiniBand opcode name. "fields" (only with --fields) has one entry per
frame that carries any of the requested tshark fields, with the values of
each present field in order; values that are plain decimal numbers become
JSON integers (booleans are 0/1), anything else (0x... hex, text) stays a
string.

Problems (exit status 1, each also printed on stderr):
  * expert items of severity Warning or Error (Malformed Packet is an Error),
    except TCP flow-control items (window full, zero window) and messages
    matching an --allow REGEX;
  * an RC SEND whose payload tshark did not dissect as SMB Direct (its
    heuristic only accepts well-formed messages in SEND Only packets), unless
    --allow-raw-send;
  * an SMB Direct fragment never reassembled;
  * TCP payload on the SMB port that tshark left undecoded (not NBSS/SMB2 and
    not part of a reassembled PDU, or bytes left over at the end of a
    direction), and NBSS continuation data (a bad Direct-TCP header);
  * counts differing from --expect-smb2 (smb2_pdus), --expect-smbd
    (smbd_messages) or --expect (a JSON object, inline or in a file, shaped like
    the output: the sections it names must match exactly, missing keys count
    as 0; "file" and "problems" are ignored).
Exit status 2: tshark missing, capture unreadable, bad arguments or fields.

--port P: SMB over TCP on port P (default 445); for P != 445 tshark is told
`-d tcp.port==P,nbss`. -q: no JSON on stdout.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

SEP = "\x1f"
AGG = "\x1e"

PI_WARN = 0x00600000
PI_ERROR = 0x00800000

SMB2_COMMANDS = [
    "NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
    "CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL",
    "ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO",
    "OPLOCK_BREAK", "SERVER_TO_CLIENT_NOTIFICATION",
]
SMB2_OPLOCK_BREAK = 18
STATUS_PENDING = 0x00000103
UNSOLICITED_MSG_ID = 0xFFFFFFFFFFFFFFFF

# InfiniBand RC opcodes (IBA vol. 1, 9.2); other transports by number
IB_RC_OPCODES = {
    0x00: "SEND_FIRST", 0x01: "SEND_MIDDLE", 0x02: "SEND_LAST",
    0x03: "SEND_LAST_IMM", 0x04: "SEND_ONLY", 0x05: "SEND_ONLY_IMM",
    0x06: "RDMA_WRITE_FIRST", 0x07: "RDMA_WRITE_MIDDLE", 0x08: "RDMA_WRITE_LAST",
    0x09: "RDMA_WRITE_LAST_IMM", 0x0A: "RDMA_WRITE_ONLY", 0x0B: "RDMA_WRITE_ONLY_IMM",
    0x0C: "RDMA_READ_REQUEST", 0x0D: "RDMA_READ_RESPONSE_FIRST",
    0x0E: "RDMA_READ_RESPONSE_MIDDLE", 0x0F: "RDMA_READ_RESPONSE_LAST",
    0x10: "RDMA_READ_RESPONSE_ONLY", 0x11: "ACKNOWLEDGE", 0x12: "ATOMIC_ACKNOWLEDGE",
    0x13: "COMPARE_SWAP", 0x14: "FETCH_ADD", 0x16: "SEND_LAST_INV", 0x17: "SEND_ONLY_INV",
}
IB_SEND_OPCODES = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x16, 0x17}

# expert items that are flow control, not errors in what we write
TCP_FLOW_IGNORE = re.compile(r"window specified by the receiver is now completely full|"
                             r"window (is )?full|zero ?window|zerowindow", re.I)
# expert items showing a damaged TCP stream (byte accounting is skipped then)
TCP_DISORDER = re.compile(r"retransmission|out-of-order|previous segment|acked unseen|"
                          r"keep-alive|dup ack|spurious", re.I)

# fields the checker itself needs (order matters only for readability)
BASE_FIELDS = [
    "frame.number", "frame.protocols",
    "_ws.expert.severity", "_ws.expert.message",
    "tcp.srcport", "tcp.dstport", "tcp.len", "tcp.reassembled_in",
    "nbss.length", "nbss.continuation_data",
    "infiniband.bth.opcode",
    "smb_direct.version.min", "smb_direct.version.negotiated",
    "smb_direct.flags.response_requested", "smb_direct.remaining_length",
    "smb_direct.data_length", "smb_direct.reassembled_in",
    "smb2.cmd", "smb2.flags.response", "smb2.nt_status", "smb2.msg_id",
    "smb.cmd",
]


class UsageError(Exception):
    """tshark missing, capture unreadable or bad fields: exit status 2."""


def run_tshark(capture, port, fields):
    tshark = shutil.which("tshark")
    if not tshark:
        raise UsageError("tshark not found; install it with: apt-get install -y tshark")
    if not os.path.isfile(capture) or not os.access(capture, os.R_OK):
        raise UsageError("%s: no such readable file" % capture)
    args = [tshark, "-n", "-2", "-r", capture, "-T", "fields",
            "-E", "header=n", "-E", "occurrence=a", "-E", "quote=n",
            "-E", "separator=" + SEP, "-E", "aggregator=" + AGG]
    if port != 445:
        args += ["-d", "tcp.port==%d,nbss" % port]
    for f in fields:
        args += ["-e", f]
    try:
        p = subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=1800)
    except subprocess.TimeoutExpired:
        raise UsageError("tshark timed out on %s" % capture)
    err = p.stderr.decode("utf-8", "replace")
    err = "\n".join(l for l in err.splitlines() if not l.startswith("Running as user"))
    if p.returncode != 0:
        raise UsageError("tshark failed on %s (exit %d): %s" % (capture, p.returncode, err.strip()[-2000:]))
    rows = []
    for line in p.stdout.decode("utf-8", "replace").split("\n"):
        if not line:
            continue
        vals = line.split(SEP)
        if len(vals) != len(fields):
            raise UsageError("unexpected tshark output line (%d columns, want %d): %r"
                             % (len(vals), len(fields), line[:200]))
        rows.append({f: (v.split(AGG) if v != "" else []) for f, v in zip(fields, vals)})
    return rows


def to_int(s):
    try:
        return int(s, 0)
    except ValueError:
        return None


def json_value(s):
    if re.fullmatch(r"-?[0-9]+", s):
        return int(s)
    return s


def smb2_key(cmd, response, status, msg_id):
    name = SMB2_COMMANDS[cmd] if 0 <= cmd < len(SMB2_COMMANDS) else "CMD_0x%04x" % cmd
    if not response:
        return name + ".req"
    if cmd == SMB2_OPLOCK_BREAK and msg_id == UNSOLICITED_MSG_ID:
        return name + ".notify"
    if status == STATUS_PENDING:
        return name + ".interim"
    return name + ".resp"


def bump(d, key, n=1):
    d[key] = d.get(key, 0) + n


def analyse(rows, port, allow, allow_raw_send, user_fields):
    out = {"frames": len(rows), "smb2_pdus": 0, "smb2": {}, "smb2_status": {},
           "smb1_pdus": 0, "smbd_messages": 0,
           "smbd": {"negotiate_request": 0, "negotiate_response": 0, "data": 0,
                    "data_empty": 0, "data_fragment": 0, "response_requested": 0},
           "rdma": {}}
    problems = []
    fields_out = []
    tcp_bytes = {}       # (srcport, dstport) -> payload bytes on the SMB port
    nbss_bytes = {}      # same key -> bytes covered by NBSS PDUs
    tcp_disorder = False

    for r in rows:
        fn = r["frame.number"][0] if r["frame.number"] else "?"
        protos = r["frame.protocols"][0].split(":") if r["frame.protocols"] else []

        # expert items
        sevs = [to_int(s) or 0 for s in r["_ws.expert.severity"]]
        msgs = r["_ws.expert.message"]
        reported = False
        for i, sev in enumerate(sevs):
            msg = msgs[i] if i < len(msgs) else "(no message)"
            if TCP_DISORDER.search(msg):
                tcp_disorder = True
            if sev < PI_WARN:
                continue
            if TCP_FLOW_IGNORE.search(msg):
                continue
            if any(a.search(msg) for a in allow):
                continue
            problems.append("frame %s: expert %s: %s" % (fn, "error" if sev >= PI_ERROR else "warning", msg))
            reported = True
        if "_ws.malformed" in protos and not reported:
            if not any(a.search("Malformed Packet") for a in allow):
                problems.append("frame %s: Malformed Packet (%s)" % (fn, ":".join(protos)))

        # RoCE
        ops = [to_int(o) for o in r["infiniband.bth.opcode"]]
        for op in ops:
            if op is None:
                continue
            bump(out["rdma"], IB_RC_OPCODES.get(op, "OP_0x%02x" % op))
            if op in IB_SEND_OPCODES and "smb_direct" not in protos and not allow_raw_send:
                problems.append("frame %s: RDMA %s payload not dissected as SMB Direct "
                                "(tshark's heuristic rejected it, or it is not a SEND Only)"
                                % (fn, IB_RC_OPCODES.get(op)))

        # a Direct-TCP or SMB Direct payload that is neither SMB2 nor SMB
        for i in range(1, len(protos)):
            if protos[i] == "data" and protos[i - 1] in ("nbss", "smb_direct"):
                problems.append("frame %s: %s payload not decoded as SMB2/SMB (bad ProtocolId?)"
                                % (fn, "Direct-TCP" if protos[i - 1] == "nbss" else "SMB Direct"))

        # SMB Direct
        if r["smb_direct.version.negotiated"]:
            out["smbd"]["negotiate_response"] += 1
            out["smbd_messages"] += 1
        elif r["smb_direct.version.min"]:
            out["smbd"]["negotiate_request"] += 1
            out["smbd_messages"] += 1
        for i, dl in enumerate(r["smb_direct.data_length"]):
            out["smbd"]["data"] += 1
            out["smbd_messages"] += 1
            if to_int(dl) == 0:
                out["smbd"]["data_empty"] += 1
            rem = r["smb_direct.remaining_length"]
            if i < len(rem) and (to_int(rem[i]) or 0) > 0:
                out["smbd"]["data_fragment"] += 1
                if not r["smb_direct.reassembled_in"]:
                    problems.append("frame %s: SMB Direct fragment (RemainingDataLength %s) never reassembled"
                                    % (fn, rem[i]))
            rr = r["smb_direct.flags.response_requested"]
            if i < len(rr) and rr[i] in ("1", "True", "true"):
                out["smbd"]["response_requested"] += 1

        # SMB2 (every header of a compound / of several PDUs in one frame)
        cmds = [to_int(c) for c in r["smb2.cmd"]]
        if cmds:
            resp = [v in ("1", "True", "true") for v in r["smb2.flags.response"]]
            mids = [to_int(m) for m in r["smb2.msg_id"]]
            stats = [to_int(s) for s in r["smb2.nt_status"]]
            if len(resp) != len(cmds) or len(mids) != len(cmds):
                problems.append("frame %s: cannot align SMB2 headers (%d commands, %d flags, %d ids)"
                                % (fn, len(cmds), len(resp), len(mids)))
            nresp = sum(1 for x in resp if x)
            si = 0
            for i, cmd in enumerate(cmds):
                is_resp = resp[i] if i < len(resp) else False
                status = None
                if is_resp and len(stats) == nresp:
                    status = stats[si]
                    si += 1
                key = smb2_key(cmd if cmd is not None else -1, is_resp, status,
                               mids[i] if i < len(mids) else None)
                bump(out["smb2"], key)
                out["smb2_pdus"] += 1
                if is_resp and status is not None:
                    bump(out["smb2_status"], "0x%08x" % status)
            if nresp and len(stats) != nresp:
                problems.append("frame %s: %d SMB2 responses but %d NT status values"
                                % (fn, nresp, len(stats)))
        out["smb1_pdus"] += len(r["smb.cmd"])

        # TCP on the SMB port
        if r["tcp.srcport"] and r["tcp.dstport"]:
            sp, dp = to_int(r["tcp.srcport"][0]), to_int(r["tcp.dstport"][0])
            tlen = to_int(r["tcp.len"][0]) if r["tcp.len"] else 0
            if port in (sp, dp) and tlen:
                key = (sp, dp)
                bump(tcp_bytes, key, tlen)
                for nl in r["nbss.length"]:
                    bump(nbss_bytes, key, (to_int(nl) or 0) + 4)
                decoded = any(p in protos for p in ("nbss", "smb2", "smb"))
                if not decoded and not r["tcp.reassembled_in"]:
                    problems.append("frame %s: %d bytes of TCP payload on port %d not decoded as "
                                    "SMB (not part of any reassembled PDU)" % (fn, tlen, port))
                if r["nbss.continuation_data"]:
                    problems.append("frame %s: NBSS continuation data (first byte of a Direct-TCP "
                                    "header not 0, or a wrong length before it)" % fn)

        # requested fields
        if user_fields:
            entry = {}
            for f in user_fields:
                if r[f]:
                    entry[f] = [json_value(v) for v in r[f]]
            if entry:
                e = {"frame": to_int(fn) if to_int(fn) is not None else fn}
                e.update(entry)
                fields_out.append(e)

    # byte accounting per direction: what NBSS did not cover was never decoded
    if not tcp_disorder:
        for key in sorted(tcp_bytes):
            left = tcp_bytes[key] - nbss_bytes.get(key, 0)
            if left > 0:
                problems.append("TCP %d->%d: %d of %d payload bytes not decoded as NBSS/SMB2 "
                                "(a PDU cut off at the end of the capture?)"
                                % (key[0], key[1], left, tcp_bytes[key]))

    out["smb2"] = dict(sorted(out["smb2"].items()))
    out["smb2_status"] = dict(sorted(out["smb2_status"].items()))
    out["rdma"] = dict(sorted(out["rdma"].items()))
    if user_fields:
        out["fields"] = fields_out
    return out, problems


def nonzero(d):
    return {k: v for k, v in d.items() if v != 0}


def compare(out, expect):
    """Differences between the output and an expected object of the same shape."""
    diffs = []
    for key, want in expect.items():
        if key in ("file", "problems"):
            continue
        have = out.get(key)
        if key == "fields":
            if have is None:
                diffs.append("fields: expected, but no --fields given")
            elif have != want:
                hv = {e.get("frame"): e for e in have}
                wv = {e.get("frame"): e for e in want}
                for fr in sorted(set(hv) | set(wv), key=lambda x: (str(type(x)), x)):
                    if hv.get(fr) != wv.get(fr):
                        diffs.append("fields: frame %s: got %s, expected %s"
                                     % (fr, json.dumps(hv.get(fr), sort_keys=True),
                                        json.dumps(wv.get(fr), sort_keys=True)))
        elif key not in out:
            diffs.append("expected key %r is not part of the output" % key)
        elif isinstance(want, dict):
            if not isinstance(have, dict) or nonzero(have) != nonzero(want):
                diffs.append("%s: got %s, expected %s" % (key, json.dumps(have, sort_keys=True),
                                                          json.dumps(want, sort_keys=True)))
        elif have != want:
            diffs.append("%s: got %s, expected %s" % (key, json.dumps(have), json.dumps(want)))
    return diffs


def load_expect(arg):
    text = arg
    if not arg.lstrip().startswith("{"):
        try:
            with open(arg) as f:
                text = f.read()
        except OSError as e:
            raise UsageError("--expect %s: %s" % (arg, e))
    try:
        v = json.loads(text)
    except ValueError as e:
        raise UsageError("--expect: not JSON: %s" % e)
    if not isinstance(v, dict):
        raise UsageError("--expect: not a JSON object")
    return v


def main(argv):
    ap = argparse.ArgumentParser(prog="tshark_check.py",
                                 description="Check an SMB2 / SMB Direct capture with tshark "
                                             "and print counts as JSON.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("capture")
    ap.add_argument("--port", type=int, default=445, help="SMB TCP port (default 445)")
    ap.add_argument("--fields", default="", help="comma-separated tshark fields to report per frame")
    ap.add_argument("--expect-smb2", type=int, metavar="N", help="number of SMB2 PDUs expected")
    ap.add_argument("--expect-smbd", type=int, metavar="N", help="number of SMB Direct messages expected")
    ap.add_argument("--expect", metavar="JSON|FILE", help="expected output sections (JSON object)")
    ap.add_argument("--allow", action="append", default=[], metavar="REGEX",
                    help="ignore expert items whose message matches REGEX (repeatable)")
    ap.add_argument("--allow-raw-send", action="store_true",
                    help="do not report RDMA SENDs that tshark leaves undissected")
    ap.add_argument("-q", "--quiet", action="store_true", help="no JSON on stdout")
    a = ap.parse_args(argv)

    try:
        if not (0 < a.port < 65536):
            raise UsageError("--port %d out of range" % a.port)
        try:
            allow = [re.compile(x) for x in a.allow]
        except re.error as e:
            raise UsageError("--allow: bad regex: %s" % e)
        user_fields = [f.strip() for f in a.fields.split(",") if f.strip()]
        for f in user_fields:
            if not re.fullmatch(r"[A-Za-z0-9_.\-]+", f):
                raise UsageError("--fields: bad field name %r" % f)
        expect = load_expect(a.expect) if a.expect else None
        fields = list(BASE_FIELDS) + [f for f in user_fields if f not in BASE_FIELDS]
        rows = run_tshark(a.capture, a.port, fields)
    except UsageError as e:
        print("tshark_check.py: %s" % e, file=sys.stderr)
        return 2

    out, problems = analyse(rows, a.port, allow, a.allow_raw_send, user_fields)
    if a.expect_smb2 is not None and out["smb2_pdus"] != a.expect_smb2:
        problems.append("expected %d SMB2 PDUs, tshark decoded %d" % (a.expect_smb2, out["smb2_pdus"]))
    if a.expect_smbd is not None and out["smbd_messages"] != a.expect_smbd:
        problems.append("expected %d SMB Direct messages, tshark decoded %d"
                        % (a.expect_smbd, out["smbd_messages"]))
    if expect is not None:
        problems += ["--expect: " + d for d in compare(out, expect)]

    result = {"file": a.capture}
    result.update(out)
    result["problems"] = problems
    if not a.quiet:
        print(json.dumps(result, sort_keys=False))
    for p in problems:
        print("tshark_check.py: %s: %s" % (a.capture, p), file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
