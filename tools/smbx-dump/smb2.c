/* SPDX-License-Identifier: MIT */
/* One transport message -> JSON records: each SMB2 PDU of a compound chain
 * (header fields + decoded body), or a TRANSFORM / COMPRESSION / SMB1
 * record. A malformed PDU gives an error record; the next message is
 * decoded as usual. */
#include <string.h>

#include "dump.h"
#include "body.h"

static const char *const cmd_names[] = {
    "NEGOTIATE",       "SESSION_SETUP", "LOGOFF",       "TREE_CONNECT",
    "TREE_DISCONNECT", "CREATE",        "CLOSE",        "FLUSH",
    "READ",            "WRITE",         "LOCK",         "IOCTL",
    "CANCEL",          "ECHO",          "QUERY_DIRECTORY", "CHANGE_NOTIFY",
    "QUERY_INFO",      "SET_INFO",      "OPLOCK_BREAK", "SERVER_TO_CLIENT_NOTIFICATION",
};

const char *dump_cmd_name(uint16_t cmd)
{
  return cmd < sizeof cmd_names / sizeof cmd_names[0] ? cmd_names[cmd]
                                                      : "UNKNOWN";
}

static void smbd_fields(jw *w, const dump_smbd_info *smbd)
{
  if (!smbd)
    return;
  jw_obj(w, "smbd");
  jw_u64(w, "credits_requested", smbd->credits_requested);
  jw_u64(w, "credits_granted", smbd->credits_granted);
  jw_u64(w, "flags", smbd->flags);
  jw_u64(w, "fragments", smbd->fragments);
  jw_end_obj(w);
}

static void one_pdu(dump_ctx *d, const dump_src *src, const uint8_t *p,
                    size_t len, uint32_t index, const dump_smbd_info *smbd)
{
  /* [MS-SMB2] 2.2.1: 64-byte header, both forms */
  uint16_t cmd = le16(p + 12);
  uint32_t flags = le32(p + 16);
  bool resp = flags & 1, async = flags & 2;
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smb2");
  dump_src_fields(w, src);
  jw_u64(w, "index", index);
  jw_u64(w, "cmd", cmd);
  jw_str(w, "cmd_name", dump_cmd_name(cmd));
  jw_bool(w, "response", resp);
  jw_u64(w, "flags", flags);
  jw_bool(w, "async", async);
  jw_bool(w, "related", (flags & 4) != 0);
  jw_bool(w, "signed", (flags & 8) != 0);
  jw_u64(w, "msg_id", le64(p + 24));
  jw_u64(w, "credit_charge", le16(p + 6));
  if (resp)
    jw_u64(w, "credits_granted", le16(p + 14));
  else
    jw_u64(w, "credits_requested", le16(p + 14));
  jw_u64(w, "status", le32(p + 8));
  jw_u64(w, "next_command", le32(p + 20));
  jw_u64(w, "session_id", le64(p + 40));
  if (async)
    jw_u64(w, "async_id", le64(p + 32));
  else
    jw_u64(w, "tree_id", le32(p + 36));
  jw_u64(w, "pdu_length", len);
  smbd_fields(w, smbd);
  dump_body(d, src, w, p, len, cmd, resp, le32(p + 8), le64(p + 24));
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMB2);
}

static void transform(dump_ctx *d, const dump_src *src, const uint8_t *p,
                      size_t len, const dump_smbd_info *smbd)
{
  if (len < 52) {
    dump_error(d, src, "smb2", "TRANSFORM header shorter than 52 bytes", len);
    return;
  }
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smb2_transform");
  dump_src_fields(w, src);
  jw_hex(w, "signature", p + 4, 16);
  jw_hex(w, "nonce", p + 20, 16);
  jw_u64(w, "original_size", le32(p + 36));
  jw_u64(w, "flags", le16(p + 42));
  jw_u64(w, "session_id", le64(p + 44));
  jw_u64(w, "length", len);
  smbd_fields(w, smbd);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMB2);
}

static void compressed(dump_ctx *d, const dump_src *src, const uint8_t *p,
                       size_t len, const dump_smbd_info *smbd)
{
  if (len < 16) {
    dump_error(d, src, "smb2", "COMPRESSION header shorter than 16 bytes",
               len);
    return;
  }
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smb2_compressed");
  dump_src_fields(w, src);
  jw_u64(w, "original_size", le32(p + 4));
  jw_u64(w, "algorithm", le16(p + 8));
  jw_u64(w, "flags", le16(p + 10));
  jw_u64(w, "offset", le32(p + 12));
  jw_u64(w, "length", len);
  smbd_fields(w, smbd);
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_SMB2);
}

static void smb1(dump_ctx *d, const dump_src *src, const uint8_t *p,
                 size_t len)
{
  if (len < 32) {
    dump_error(d, src, "smb1", "SMB1 header shorter than 32 bytes", len);
    return;
  }
  jw *w = dump_jw(d);
  jw_obj(w, NULL);
  jw_str(w, "type", "smb1");
  dump_src_fields(w, src);
  jw_u64(w, "cmd", p[4]);
  jw_bool(w, "response", (p[9] & 0x80) != 0);
  jw_u64(w, "length", len);
  /* the legacy multi-protocol NEGOTIATE: list its dialect strings */
  if (p[4] == 0x72 && len >= 35) {
    size_t bc = le16(p + 33), off = 35;
    if (p[32] == 0 && bc <= len - off) {
      jw_arr(w, "dialects");
      size_t end = off + bc;
      while (off < end) {
        if (p[off] != 0x02)
          break;
        size_t s = ++off;
        while (off < end && p[off])
          off++;
        jw_strn(w, NULL, p + s, off - s);
        off++;
      }
      jw_end_arr(w);
    }
  }
  jw_end_obj(w);
  dump_emit(d, w, DUMP_K_OTHER);
}

void dump_smb2_message(dump_ctx *d, const dump_src *src, const uint8_t *p,
                       size_t len, const dump_smbd_info *smbd)
{
  if (len < 4) {
    dump_error(d, src, "smb2", "transport message shorter than 4 bytes", len);
    return;
  }
  uint32_t id = le32(p);
  if (id == 0x424D53FDu) {
    transform(d, src, p, len, smbd);
    return;
  }
  if (id == 0x424D53FCu) {
    compressed(d, src, p, len, smbd);
    return;
  }
  if (id == 0x424D53FFu) {
    smb1(d, src, p, len);
    return;
  }
  if (id != 0x424D53FEu) {
    dump_error(d, src, "smb2", "unknown ProtocolId", 0);
    return;
  }
  /* compound chain (spec/smb2.md 6.2): NextCommand 8-aligned, >= 64,
   * inside the message; each PDU is [off, off + next) or the rest */
  size_t off = 0;
  uint32_t index = 0;
  for (;;) {
    size_t left = len - off;
    const uint8_t *q = p + off;
    if (left < 64 || le32(q) != 0x424D53FEu || le16(q + 4) != 64) {
      dump_error(d, src, "smb2",
                 left < 64 ? "SMB2 header truncated (< 64 bytes)"
                 : le32(q) != 0x424D53FEu ? "bad ProtocolId in compound"
                                          : "header StructureSize is not 64",
                 off);
      return;
    }
    uint32_t next = le32(q + 20);
    size_t plen = left;
    if (next != 0) {
      if (next % 8 != 0 || next < 64 || next > left) {
        one_pdu(d, src, q, left, index, smbd);
        dump_error(d, src, "smb2", "bad NextCommand", off + 20);
        return;
      }
      plen = next;
    }
    one_pdu(d, src, q, plen, index, smbd);
    if (next == 0)
      return;
    off += next;
    index++;
  }
}
