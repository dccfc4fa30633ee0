#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""smbx-server against real clients: Samba's smbclient and impacket.

Starts smbx-server on 127.0.0.1:<free port> over a temporary root and runs:
  - smbclient anonymous (-U%), SMB3: ls, mkdir, put of an 8 MiB random
    file, rename, get (byte-exact), rm, rmdir; `ls` must list the root's
    files;
  - smbclient as an NTLMv2 user with signing required by the client
    (--client-protection=sign), on each dialect SMB2_02, SMB2_10, SMB3_00,
    SMB3_11 (+ plain SMB3 = the highest);
  - the same encrypted (--client-protection=encrypt) on SMB3_00, SMB3_11;
  - share_encrypt = yes: a 3.1.1 user sees the share encrypted (ShareFlags
    ENCRYPT_DATA, TRANSFORM frames after TREE_CONNECT), 2.1 and anonymous
    sessions are refused ACCESS_DENIED;
  - a wrong password and, with guest = no, anonymous: logon refused;
  - impacket's SMBConnection (user, SMB 3): listPath of the share and
    getFile of a file; rename, ECHO, IOCTL, LOCK, CHANGE_NOTIFY, CANCEL;
  - impacket on 2.0.2, 2.1 and 3.0 (preferredDialect): listPath, putFile
    and getFile of 8 MiB random bytes, rename, deleteFile, mkdir/rmdir,
    byte-exact on disk and back; the 2.1 capture shows 1 MiB READs and
    WRITEs charging 16 credits;
  - smbclient allinfo (alternate name, times, attributes, streams) and
    notify fired by a put from another smbclient;
  - TREE_CONNECT to IPC$ (impacket): ShareType PIPE, a pipe CREATE fails
    with OBJECT_NAME_NOT_FOUND, the disk share still works;
  - --pcap: the capture is readable by tshark and holds SMB2 traffic.
Exit 77 (skip) when smbclient is missing and CI is not set.
"""
import argparse
import faulthandler
import hashlib
import io
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        FAILS.append(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class Server:
    def __init__(self, exe, root, tmp, config=None, pcap=None):
        self.port = free_port()
        args = [exe, "--listen", "127.0.0.1:%d" % self.port, "--root", root,
                "-v"]
        if config is not None:
            path = os.path.join(tmp, "smbx-%d.conf" % self.port)
            with open(path, "w") as f:
                f.write(config)
            args += ["--config", path]
        if pcap:
            args += ["--pcap", pcap]
        self.log = open(os.path.join(tmp, "server-%d.log" % self.port), "w+")
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=self.log)
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("smbx-server did not start:\n" + self.logtext())

    def logtext(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        """SIGTERM by PID; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def smbclient(port, user, cmds, extra=(), cwd=None):
    args = ["smbclient", "//127.0.0.1/share", "-p", str(port), "-U", user,
            "-c", cmds] + list(extra)
    r = subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                       timeout=120)
    return r.returncode, r.stdout + r.stderr


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def transfer(srv, tmp, root, user, label, extra=()):
    """ls; mkdir d; put big d/f; rename d/f d/g; get d/g OUT; rm d/g;
    rmdir d."""
    out = "out-" + label.replace(" ", "_")
    rc, text = smbclient(srv.port, user,
                         "ls; mkdir d; put big d/f; rename d/f d/g; "
                         "get d/g %s; rm d/g; rmdir d" % out, extra, cwd=tmp)
    ok = rc == 0 and "NT_STATUS" not in text
    check(ok, "%s: smbclient commands succeed" % label)
    if not ok:
        print(text)
    check("hello.txt" in text and "sub" in text,
          "%s: ls lists the root (hello.txt, sub)" % label)
    got = os.path.join(tmp, out)
    check(os.path.exists(got) and sha(got) == sha(os.path.join(tmp, "big")),
          "%s: 8 MiB file byte-exact after put + rename + get" % label)
    check(not os.path.exists(os.path.join(root, "d")),
          "%s: rm + rmdir removed d/ on the server" % label)
    if os.path.exists(got):
        os.unlink(got)


def impacket_case(srv, root):
    try:
        from impacket.smbconnection import SMBConnection
    except ImportError:
        check(not os.environ.get("CI"), "impacket installed (required in CI)")
        return
    conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=srv.port,
                         timeout=30)
    conn.login("alice", "Secret#1")
    names = sorted(f.get_longname() for f in conn.listPath("share", "*"))
    check("hello.txt" in names and "sub" in names,
          "impacket: listPath lists the root (%s)" % ",".join(names))
    chunks = []
    conn.getFile("share", "hello.txt", chunks.append)
    with open(os.path.join(root, "hello.txt"), "rb") as f:
        want = f.read()
    check(b"".join(chunks) == want, "impacket: getFile reads hello.txt")
    chunks = []
    conn.getFile("share", "sub\\inner.bin", chunks.append)
    with open(os.path.join(root, "sub", "inner.bin"), "rb") as f:
        want = f.read()
    check(b"".join(chunks) == want, "impacket: getFile reads sub\\inner.bin")
    conn.logoff()
    conn.close()


def impacket_ops(srv, root):
    """Commands smbclient does not exercise: rename, ECHO, IOCTL
    QUERY_NETWORK_INTERFACE_INFO, LOCK (conflict, blocking lock granted
    after the unlock), CHANGE_NOTIFY (async completion) and CANCEL."""
    try:
        from impacket.smbconnection import SMBConnection
        from impacket import smb3structs as st
    except ImportError:
        return
    import struct
    c1 = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=srv.port,
                       timeout=30)
    c1.login("alice", "Secret#1")
    c2 = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=srv.port,
                       timeout=30)
    c2.login("alice", "Secret#1")
    s1, s2 = c1.getSMBServer(), c2.getSMBServer()
    t1, t2 = c1.connectTree("share"), c2.connectTree("share")

    c1.rename("share", "hello.txt", "hello2.txt")
    check(os.path.exists(os.path.join(root, "hello2.txt")) and
          not os.path.exists(os.path.join(root, "hello.txt")),
          "impacket: rename (SET_INFO FileRenameInformation)")
    c1.rename("share", "hello2.txt", "hello.txt")
    check(s1.echo() is True, "impacket: ECHO")

    out = s1.ioctl(t1, None, ctlCode=0x001401FC, flags=1,
                   maxOutputResponse=65536)
    check(len(out) >= 152 and out[24:26] == b"\x02\x00" and
          out[28:32] == bytes([127, 0, 0, 1]),
          "impacket: IOCTL QUERY_NETWORK_INTERFACE_INFO lists 127.0.0.1")

    def status(ans):
        return ans["Status"] & 0xFFFFFFFF

    def lock(srv3, tid, fid, flags):
        pkt = srv3.SMB_PACKET()
        pkt["Command"] = st.SMB2_LOCK
        pkt["TreeID"] = tid
        body = st.SMB2Lock()
        body["FileID"] = fid
        body["LockCount"] = 1
        el = st.SMB2_LOCK_ELEMENT()
        el["Offset"] = 100
        el["Length"] = 10
        el["Flags"] = flags
        body["Locks"] = el.getData()
        pkt["Data"] = body
        return srv3.sendSMB(pkt)

    rw = st.FILE_READ_DATA | st.FILE_WRITE_DATA
    f1 = c1.openFile(t1, "sub\\inner.bin", desiredAccess=rw, shareMode=7)
    f2 = c2.openFile(t2, "sub\\inner.bin", desiredAccess=rw, shareMode=7)
    EXCL, UNLOCK, FAILI = 0x2, 0x4, 0x10
    a = s1.recvSMB(lock(s1, t1, f1, EXCL | FAILI))
    check(status(a) == 0, "impacket: LOCK exclusive granted")
    a = s2.recvSMB(lock(s2, t2, f2, EXCL | FAILI))
    check(status(a) == 0xC0000055, "impacket: conflicting LOCK with "
          "FAIL_IMMEDIATELY -> LOCK_NOT_GRANTED (0x%08x)" % status(a))
    pid = lock(s2, t2, f2, EXCL)  # blocks: goes async
    time.sleep(0.3)
    a = s1.recvSMB(lock(s1, t1, f1, UNLOCK))
    check(status(a) == 0, "impacket: UNLOCK")
    a = s2.recvSMB(pid)
    check(status(a) == 0, "impacket: blocked LOCK granted after the unlock "
          "(0x%08x)" % status(a))
    a = s2.recvSMB(lock(s2, t2, f2, UNLOCK))
    c1.closeFile(t1, f1)
    c2.closeFile(t2, f2)

    d1 = c1.openFile(t1, "sub", desiredAccess=st.FILE_READ_DATA,
                     shareMode=7, creationOption=st.FILE_DIRECTORY_FILE)

    def notify():
        pkt = s1.SMB_PACKET()
        pkt["Command"] = st.SMB2_CHANGE_NOTIFY
        pkt["TreeID"] = t1
        body = st.SMB2ChangeNotify()
        body["OutputBufferLength"] = 4096
        body["FileID"] = d1
        body["CompletionFilter"] = 0x1  # FILE_NAME
        pkt["Data"] = body
        return s1.sendSMB(pkt)

    pid = notify()
    time.sleep(0.3)
    c2.putFile("share", "sub\\new.txt", io.BytesIO(b"x").read)
    a = s1.recvSMB(pid)
    ok = status(a) == 0
    if ok:
        r = st.SMB2ChangeNotify_Response(a["Data"])
        info = st.FILE_NOTIFY_INFORMATION(r["Buffer"])
        ok = info["Action"] == 1 and \
            info["FileName"].decode("utf-16le") == "new.txt"
    check(ok, "impacket: CHANGE_NOTIFY completes with ADDED new.txt")
    pid = notify()
    time.sleep(0.3)
    s1.cancel(pid)
    a = s1.recvSMB(pid)
    check(status(a) == 0xC0000120, "impacket: CANCEL of a waiting "
          "CHANGE_NOTIFY -> STATUS_CANCELLED (0x%08x)" % status(a))
    c1.closeFile(t1, d1)
    c2.deleteFile("share", "sub\\new.txt")
    c1.logoff()
    c2.logoff()
    c1.close()
    c2.close()


def smbclient_allinfo_notify(srv, root):
    """smbclient `allinfo` (the alternate-name query first, then basic,
    streams) and `notify DIR` completed by a put from another smbclient
    process."""
    rc, text = smbclient(srv.port, "alice%Secret#1", "allinfo hello.txt")
    ok = (rc == 0 and "NT_STATUS" not in text and
          "altname: hello.txt" in text and "attributes: A (20)" in text and
          "stream: [::$DATA], 23 bytes" in text and "write_time:" in text)
    check(ok, "smbclient allinfo: altname, times, attributes, ::$DATA size")
    if not ok:
        print(text)
    rc, text = smbclient(srv.port, "alice%Secret#1", "allinfo sub")
    check(rc == 0 and "altname: sub" in text and "attributes: D (10)" in text,
          "smbclient allinfo of a directory")

    # smbclient's notify loops printing "ACTION NAME" lines until killed;
    # stdbuf makes its stdout line-buffered so they arrive while it runs
    args = ["stdbuf", "-oL", "smbclient", "//127.0.0.1/share", "-p",
            str(srv.port), "-U", "alice%Secret#1", "-c", "notify sub"]
    watcher = subprocess.Popen(args, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    os.set_blocking(watcher.stdout.fileno(), False)
    seen = b""
    want = None
    try:
        # the watch may not be armed yet when the first put lands: put a
        # new name each round until one is reported (at most 5 rounds)
        for i in range(5):
            time.sleep(1.0)
            name = "notified_%d.txt" % i
            rc, text = smbclient(srv.port, "alice%Secret#1",
                                 "put %s sub/%s" % (os.path.join(root,
                                                                 "hello.txt"),
                                                    name))
            if rc != 0:
                print(text)
                break
            deadline = time.time() + 3
            while time.time() < deadline:
                chunk = watcher.stdout.read() or b""
                seen += chunk
                if b"0001 " + name.encode() in seen:
                    want = name
                    break
                time.sleep(0.05)
            if want:
                break
    finally:
        watcher.kill()
        watcher.wait()
    check(want is not None, "smbclient notify reports FILE_ACTION_ADDED for "
          "a put by another process (%s)" % (want or seen.decode()[-300:]))
    for i in range(5):
        path = os.path.join(root, "sub", "notified_%d.txt" % i)
        if os.path.exists(path):
            os.unlink(path)


def impacket_ipc(srv, root, pcap):
    """TREE_CONNECT to IPC$ succeeds with ShareType PIPE (clients that
    connect there first keep working); opening a pipe answers
    OBJECT_NAME_NOT_FOUND and creates nothing on disk; the disk share still
    works on the same session."""
    try:
        from impacket.smbconnection import SMBConnection, SessionError
        from impacket import smb3structs as st
    except ImportError:
        return
    # 2.1: impacket encrypts 3.x sessions, and tshark must read the capture
    conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=srv.port,
                         timeout=30, preferredDialect=st.SMB2_DIALECT_21)
    conn.login("alice", "Secret#1")
    tid = conn.connectTree("IPC$")
    try:
        conn.openFile(tid, "srvsvc")
        status = 0
    except SessionError as e:
        status = e.getErrorCode() & 0xFFFFFFFF
    check(status == 0xC0000034, "impacket: CREATE of a pipe on IPC$ -> "
          "OBJECT_NAME_NOT_FOUND (0x%08x)" % status)
    check(not os.path.exists(os.path.join(root, "srvsvc")),
          "impacket: the pipe open left nothing on disk")
    conn.disconnectTree(tid)
    names = [f.get_longname() for f in conn.listPath("share", "*")]
    check("hello.txt" in names, "impacket: the disk share works after IPC$")
    conn.logoff()
    conn.close()
    if not shutil.which("tshark"):
        return
    r = subprocess.run(["tshark", "-r", pcap, "-Y", "smb2.cmd == 3 && "
                        "smb2.flags.response == 1 && smb2.nt_status == 0",
                        "-T", "fields", "-e", "smb2.share_type"],
                       capture_output=True, text=True, timeout=120)
    # one line per response; tshark also repeats the share type it tracks
    # for the header's TreeId, so the last value of a line is the body's
    types = [line.split(",")[-1] for line in r.stdout.split()]
    check(types == ["0x02", "0x01"], "TREE_CONNECT IPC$ answered ShareType "
          "PIPE (2), the share DISK (1): %s" % types)


def impacket_dialects(srv, root, pcap):
    """impacket on 2.0.2, 2.1 and 3.0 (preferredDialect): listPath, putFile
    of 8 MiB random bytes, getFile, rename, deleteFile, createDirectory,
    deleteDirectory, each checked on the server's disk. The first
    connection (2.1) is in the server's --pcap: its 1 MiB WRITEs and READs
    must charge 16 credits (multi-credit with the server's LARGE_MTU)."""
    try:
        from impacket.smbconnection import SMBConnection
        from impacket import smb3structs as st
    except ImportError:
        check(not os.environ.get("CI"), "impacket installed (required in CI)")
        return
    data = os.urandom(8 << 20)
    for name, dialect in [("2.1", st.SMB2_DIALECT_21),
                          ("2.0.2", st.SMB2_DIALECT_002),
                          ("3.0", st.SMB2_DIALECT_30)]:
        tag = name.replace(".", "_")
        conn = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=srv.port,
                             timeout=60, preferredDialect=dialect)
        check(conn.getDialect() == dialect,
              "impacket %s: negotiated 0x%04x" % (name, conn.getDialect()))
        conn.login("alice", "Secret#1")
        seed = "seed_%s.txt" % tag
        with open(os.path.join(root, seed), "wb") as f:
            f.write(b"seed " + name.encode())
        listed = {f.get_longname(): f.get_filesize()
                  for f in conn.listPath("share", "*")}
        check(listed.get(seed) == len(b"seed " + name.encode()),
              "impacket %s: listPath lists %s with its size" % (name, seed))
        os.unlink(os.path.join(root, seed))

        put, moved = "imp_%s.bin" % tag, "imp_%s_moved.bin" % tag
        t = time.time()
        conn.putFile("share", put, io.BytesIO(data).read)
        secs = time.time() - t
        with open(os.path.join(root, put), "rb") as f:
            check(f.read() == data, "impacket %s: putFile 8 MiB byte-exact on "
                  "disk (%.1f MB/s)" % (name, len(data) / 1e6 / secs))
        chunks = []
        t = time.time()
        conn.getFile("share", put, chunks.append)
        secs = time.time() - t
        check(b"".join(chunks) == data, "impacket %s: getFile 8 MiB "
              "byte-exact (%.1f MB/s)" % (name, len(data) / 1e6 / secs))
        conn.rename("share", put, moved)
        with open(os.path.join(root, moved), "rb") as f:
            check(not os.path.exists(os.path.join(root, put)) and
                  f.read() == data,
                  "impacket %s: rename (old name gone, new byte-exact)" % name)
        conn.deleteFile("share", moved)
        check(not os.path.exists(os.path.join(root, moved)),
              "impacket %s: deleteFile removed it on disk" % name)
        d = "impdir_" + tag
        conn.createDirectory("share", d)
        check(os.path.isdir(os.path.join(root, d)),
              "impacket %s: createDirectory" % name)
        conn.deleteDirectory("share", d)
        check(not os.path.exists(os.path.join(root, d)),
              "impacket %s: deleteDirectory" % name)
        conn.logoff()
        conn.close()
    if not shutil.which("tshark"):
        return
    counts = []
    for cmd in (9, 8):
        r = subprocess.run(
            ["tshark", "-r", pcap, "-Y", "smb2.cmd == %d && "
             "smb2.flags.response == 0 && smb2.credit.charge == 16" % cmd],
            capture_output=True, text=True, timeout=120)
        counts.append(len(r.stdout.splitlines()))
    check(counts[0] >= 8 and counts[1] >= 8,
          "impacket 2.1 capture: %d WRITEs and %d READs charge 16 credits"
          % tuple(counts))


def share_encrypt_case(exe, root, tmp, servers):
    """share_encrypt = yes: a 3.1.1 user session sees ShareFlags
    ENCRYPT_DATA and everything after TREE_CONNECT goes encrypted; a 2.1
    session and an anonymous one (no key) are refused ACCESS_DENIED."""
    pcap = os.path.join(tmp, "share-encrypt.pcap")
    s = Server(exe, root, tmp, config="alice:Secret#1\nshare_encrypt = yes\n",
               pcap=pcap)
    servers.append(s)
    out = os.path.join(tmp, "out-share-encrypt")
    rc, text = smbclient(s.port, "alice%Secret#1",
                         "ls; get hello.txt %s" % out, ["-m", "SMB3_11"])
    ok = (rc == 0 and "hello.txt" in text and os.path.exists(out) and
          sha(out) == sha(os.path.join(root, "hello.txt")))
    check(ok, "share_encrypt: 3.1.1 user lists and gets hello.txt")
    if not ok:
        print(text)
    for user, m, what in [("alice%Secret#1", "SMB2_10", "2.1 user"),
                          ("%", "SMB3_11", "anonymous 3.1.1")]:
        rc, text = smbclient(s.port, user, "ls", ["-m", m])
        check(rc != 0 and "NT_STATUS_ACCESS_DENIED" in text,
              "share_encrypt: %s refused ACCESS_DENIED" % what)
    check(s.stop() == 0, "SIGTERM: exit 0 (share_encrypt)")
    if not shutil.which("tshark"):
        return
    # the first connection (the 3.1.1 user's): TREE_CONNECT's response
    # carries ENCRYPT_DATA, every SMB2 frame after it is a TRANSFORM
    r = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "smb2", "-T", "fields", "-e", "smb2.cmd",
         "-e", "smb2.flags.response", "-e", "smb2.share_flags.encrypt_data",
         "-e", "smb2.header.transform.flags"],
        capture_output=True, text=True, timeout=120)
    rows = [ln.split("\t") for ln in r.stdout.splitlines()]
    tc = [i for i, f in enumerate(rows)
          if f[0] == "3" and f[1] in ("1", "True") and f[2] in ("1", "True")]
    after = rows[tc[0] + 1:] if tc else []
    check(tc and len(after) >= 6 and all(f[0] == "" and f[3] for f in after),
          "share_encrypt capture: TREE_CONNECT response has ENCRYPT_DATA, "
          "then %d frames, all TRANSFORM" % len(after))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--server", required=True)
    a = ap.parse_args()
    # a hung client call shows where it hangs (meson kills at 400 s)
    faulthandler.dump_traceback_later(
        int(os.environ.get("SMBX_INTEROP_WATCHDOG", "300")), exit=True)
    ci = bool(os.environ.get("CI")) and os.environ.get("CI") != "false"
    if not shutil.which("smbclient"):
        print("smbclient missing")
        return 1 if ci else 77

    tmp = tempfile.mkdtemp(prefix="smbx-server-interop-")
    root = os.path.join(tmp, "root")
    os.mkdir(root)
    os.mkdir(os.path.join(root, "sub"))
    with open(os.path.join(root, "hello.txt"), "wb") as f:
        f.write(b"hello from smbx-server\n")
    with open(os.path.join(root, "sub", "inner.bin"), "wb") as f:
        f.write(os.urandom(300000))
    with open(os.path.join(tmp, "big"), "wb") as f:
        f.write(os.urandom(8 << 20))
    servers = []
    try:
        pcap = os.path.join(tmp, "anon.pcap")
        s = Server(a.server, root, tmp, pcap=pcap)
        servers.append(s)
        transfer(s, tmp, root, "%", "anonymous SMB3", ["-m", "SMB3"])
        check(s.stop() == 0, "SIGTERM: clean exit 0")
        if shutil.which("tshark"):
            r = subprocess.run(
                ["tshark", "-r", pcap, "-Y", "smb2", "-T", "fields",
                 "-e", "smb2.cmd"],
                capture_output=True, text=True, timeout=120)
            cmds = set(",".join(r.stdout.split()).split(","))
            if not cmds - {""}:
                print(r.stderr)
            check(r.returncode == 0 and {"0", "1", "3", "5", "8", "9"} <= cmds,
                  "--pcap: tshark decodes NEGOTIATE..WRITE (%s)" %
                  ",".join(sorted(cmds, key=int)))

        user = "alice:Secret#1\n"
        s = Server(a.server, root, tmp, config=user)
        servers.append(s)
        sign = ["--client-protection=sign"]
        for m in ["SMB2_02", "SMB3_00", "SMB3_11", "SMB3"]:
            transfer(s, tmp, root, "alice%Secret#1", "user signed " + m,
                     sign + ["-m", m])
        for m in ["SMB3_00", "SMB3_11"]:
            transfer(s, tmp, root, "alice%Secret#1", "user encrypted " + m,
                     ["--client-protection=encrypt", "-m", m])
        rc, text = smbclient(s.port, "alice%Secret#1",
                             "volume; ls hello.txt; rename hello.txt "
                             "h2.txt; rename h2.txt hello.txt")
        check("Volume: |share|" in text and " 23 " in text and
              "NT_STATUS_INVALID" not in text and
              os.path.exists(os.path.join(root, "hello.txt")),
              "smbclient volume (FsVolume label), ls of one file, rename")
        if "Volume: |share|" not in text:
            print(text)
        rc, text = smbclient(s.port, "alice%wrong", "ls")
        check(rc != 0 and "LOGON_FAILURE" in text,
              "wrong password: NT_STATUS_LOGON_FAILURE")
        check(s.stop() == 0, "SIGTERM after several clients: exit 0")

        # Clients that do not advertise LARGE_MTU themselves (smbclient -m
        # SMB2_10 sends Capabilities 0, impacket only ENCRYPTION) still send
        # multi-credit READ/WRITE: MS-SMB2 3.3.5.4 bases SupportsMultiCredit
        # on the server's LARGE_MTU alone (regression test for the node).
        # multichannel = yes: the node answers QUERY_NETWORK_INTERFACE_INFO
        # from the listening address (impacket_ops checks it).
        s = Server(a.server, root, tmp, config=user + "multichannel = yes\n")
        servers.append(s)
        transfer(s, tmp, root, "alice%Secret#1", "user signed SMB2_10",
                 sign + ["-m", "SMB2_10"])
        impacket_case(s, root)
        impacket_ops(s, root)
        check(s.stop() == 0, "SIGTERM: exit 0 (2.1 server)")

        pcap = os.path.join(tmp, "impacket.pcap")
        s = Server(a.server, root, tmp, config=user, pcap=pcap)
        servers.append(s)
        impacket_dialects(s, root, pcap)
        smbclient_allinfo_notify(s, root)
        check(s.stop() == 0, "SIGTERM: exit 0 (impacket dialects)")

        pcap = os.path.join(tmp, "ipc.pcap")
        s = Server(a.server, root, tmp, config=user, pcap=pcap)
        servers.append(s)
        impacket_ipc(s, root, pcap)
        check(s.stop() == 0, "SIGTERM: exit 0 (IPC$)")

        share_encrypt_case(a.server, root, tmp, servers)

        s = Server(a.server, root, tmp, config=user + "guest = no\n")
        servers.append(s)
        rc, text = smbclient(s.port, "%", "ls")
        check(rc != 0 and "LOGON_FAILURE" in text,
              "guest = no: anonymous refused")
        s.stop()
    finally:
        for s in servers:
            s.stop()
        for s in servers:
            text = s.logtext()
            check("Sanitizer" not in text and "runtime error" not in text,
                  "server on port %d: no sanitizer report" % s.port)
        if FAILS:
            for s in servers:
                sys.stdout.write(s.logtext()[-4000:])
        shutil.rmtree(tmp, ignore_errors=True)
    print("%d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
