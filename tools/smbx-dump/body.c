/* SPDX-License-Identifier: MIT */
/* SMB2 bodies -> JSON with libsmbx's codec (smbx_smb2_decode_* and the
 * context / entry iterators). A decoder failure gives "body_error" with the
 * codec's reason and offset; the record is still written. */
#include <string.h>

#include <smbx/smb2.h>

#include "body.h"

#define MAX_LIST 100000u /* entries per list written (iterators are capped too) */

static void fid(jw *w, const char *k, const smbx_smb2_fileid *f)
{
  jw_obj(w, k);
  jw_u64(w, "persistent", f->persistent_id);
  jw_u64(w, "volatile", f->volatile_id);
  jw_end_obj(w);
}

static void body_error(jw *w, const char *what, int rc,
                       const smbx_error_detail *e)
{
  jw_obj(w, "body_error");
  jw_str(w, "decoder", what);
  jw_str(w, "error", smbx_strerror_name(rc));
  jw_str(w, "reason", e->reason ? e->reason : "");
  jw_u64(w, "offset", e->offset);
  jw_end_obj(w);
}

static void descs(jw *w, const smbx_smb2_desc_list *l)
{
  jw_arr(w, "descriptors");
  for (uint32_t i = 0; i < l->count && i < MAX_LIST; i++) {
    smbx_smb2_buffer_desc d;
    if (smbx_smb2_desc_list_get(l, i, &d) != 0)
      break;
    jw_obj(w, NULL);
    jw_u64(w, "offset", d.offset);
    jw_u64(w, "token", d.token);
    jw_u64(w, "length", d.length);
    jw_end_obj(w);
  }
  jw_end_arr(w);
}

static void tag_name(jw *w, const smbx_smb2_bytes *n)
{
  bool ascii = n->len > 0 && n->len <= 8;
  for (size_t i = 0; ascii && i < n->len; i++)
    ascii = n->p[i] >= 0x20 && n->p[i] < 0x7f;
  if (ascii)
    jw_strn(w, "tag", n->p, n->len);
  else
    jw_hex(w, "tag", n->p, n->len);
}

static void lease_fields(jw *w, const smbx_smb2_lease *l)
{
  jw_u64(w, "lease_version", l->version);
  jw_hex(w, "lease_key", l->key, 16);
  jw_u64(w, "lease_state", l->state);
  jw_u64(w, "lease_flags", l->flags);
  jw_u64(w, "lease_duration", l->duration);
  if (l->version == 2) {
    jw_hex(w, "parent_lease_key", l->parent_key, 16);
    jw_u64(w, "epoch", l->epoch);
  }
}

static void create_contexts(jw *w, smbx_smb2_bytes area, size_t base,
                            bool resp)
{
  smbx_smb2_create_ctx_iter it;
  if (smbx_smb2_create_ctx_iter_init(&it, area, base) != 0)
    return;
  jw_arr(w, "contexts");
  smbx_error_detail e = {0};
  smbx_smb2_create_ctx c;
  int rc;
  uint32_t n = 0;
  while ((rc = smbx_smb2_create_ctx_next(&it, &c, &e)) == 1 && n++ < MAX_LIST) {
    jw_obj(w, NULL);
    tag_name(w, &c.name);
    jw_u64(w, "data_length", c.data.len);
    uint32_t tag = smbx_smb2_create_ctx_tag(&c);
    int kind = 0;
    smbx_smb2_ctx_data cd;
    smbx_error_detail ce = {0};
    switch (tag) {
    case SMBX_SMB2_CTX_TAG_RQLS: {
      smbx_smb2_lease l;
      int lr = smbx_smb2_lease_decode(c.data, &l, &ce);
      if (lr == 0)
        lease_fields(w, &l);
      else
        body_error(w, "lease", lr, &ce);
      break;
    }
    case SMBX_SMB2_CTX_TAG_DHNQ:
      kind = resp ? SMBX_SMB2_CTXD_DHNQ_RESP : SMBX_SMB2_CTXD_DHNQ_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_DHNC:
      kind = resp ? 0 : SMBX_SMB2_CTXD_DHNC_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_DH2Q:
      kind = resp ? SMBX_SMB2_CTXD_DH2Q_RESP : SMBX_SMB2_CTXD_DH2Q_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_DH2C:
      kind = resp ? 0 : SMBX_SMB2_CTXD_DH2C_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_MXAC:
      kind = resp ? SMBX_SMB2_CTXD_MXAC_RESP : SMBX_SMB2_CTXD_MXAC_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_QFID:
      kind = resp ? SMBX_SMB2_CTXD_QFID_RESP : 0;
      break;
    case SMBX_SMB2_CTX_TAG_TWRP:
      kind = resp ? 0 : SMBX_SMB2_CTXD_TWRP_REQ;
      break;
    case SMBX_SMB2_CTX_TAG_ALSI:
      kind = resp ? 0 : SMBX_SMB2_CTXD_ALSI_REQ;
      break;
    default:
      break;
    }
    if (kind) {
      int cr = smbx_smb2_ctx_data_decode(kind, c.data, &cd, &ce);
      if (cr != 0) {
        body_error(w, "create context", cr, &ce);
      } else {
        switch (kind) {
        case SMBX_SMB2_CTXD_DH2Q_REQ:
          jw_u64(w, "timeout", cd.timeout);
          jw_u64(w, "flags", cd.flags);
          jw_hex(w, "create_guid", cd.guid, 16);
          break;
        case SMBX_SMB2_CTXD_DH2Q_RESP:
          jw_u64(w, "timeout", cd.timeout);
          jw_u64(w, "flags", cd.flags);
          break;
        case SMBX_SMB2_CTXD_DHNC_REQ:
          fid(w, "file_id", &cd.file_id);
          break;
        case SMBX_SMB2_CTXD_DH2C_REQ:
          fid(w, "file_id", &cd.file_id);
          jw_hex(w, "create_guid", cd.guid, 16);
          jw_u64(w, "flags", cd.flags);
          break;
        case SMBX_SMB2_CTXD_MXAC_REQ:
          if (cd.has_value)
            jw_u64(w, "timestamp", cd.value);
          break;
        case SMBX_SMB2_CTXD_MXAC_RESP:
          jw_u64(w, "query_status", cd.query_status);
          jw_u64(w, "maximal_access", cd.maximal_access);
          break;
        case SMBX_SMB2_CTXD_QFID_RESP:
          jw_u64(w, "disk_file_id", cd.disk_file_id);
          jw_u64(w, "volume_id", cd.volume_id);
          break;
        case SMBX_SMB2_CTXD_TWRP_REQ:
        case SMBX_SMB2_CTXD_ALSI_REQ:
          jw_u64(w, "value", cd.value);
          break;
        default:
          break;
        }
      }
    }
    jw_end_obj(w);
  }
  jw_end_arr(w);
  if (rc < 0)
    body_error(w, "create contexts", rc, &e);
}

static void dir_entries(jw *w, uint8_t cls, smbx_smb2_bytes out)
{
  smbx_smb2_dir_iter it;
  if (smbx_smb2_dir_iter_init(&it, cls, out.p, out.len) != 0)
    return;
  jw_arr(w, "entries");
  smbx_smb2_dir_entry e;
  smbx_error_detail err = {0};
  int rc;
  uint32_t n = 0;
  while ((rc = smbx_smb2_dir_iter_next(&it, &e, &err)) == 1 && n++ < MAX_LIST) {
    jw_obj(w, NULL);
    jw_utf16(w, "name", e.file_name.p, e.file_name.len);
    jw_u64(w, "attributes", e.file_attributes);
    jw_u64(w, "end_of_file", e.end_of_file);
    if (cls == 37 || cls == 38)
      jw_u64(w, "file_id", e.file_id);
    jw_end_obj(w);
  }
  jw_end_arr(w);
  if (rc < 0)
    body_error(w, "directory entries", rc, &err);
}

static void notify_entries(jw *w, smbx_smb2_bytes out)
{
  smbx_smb2_notify_iter it;
  if (smbx_smb2_notify_iter_init(&it, out.p, out.len) != 0)
    return;
  jw_arr(w, "notify");
  smbx_smb2_notify_entry e;
  smbx_error_detail err = {0};
  int rc;
  uint32_t n = 0;
  while ((rc = smbx_smb2_notify_iter_next(&it, &e, &err)) == 1 &&
         n++ < MAX_LIST) {
    jw_obj(w, NULL);
    jw_u64(w, "action", e.action);
    jw_utf16(w, "name", e.file_name.p, e.file_name.len);
    jw_end_obj(w);
  }
  jw_end_arr(w);
  if (rc < 0)
    body_error(w, "notify entries", rc, &err);
}

static void neg_contexts(jw *w, smbx_smb2_bytes list, uint16_t count,
                         size_t base)
{
  smbx_smb2_neg_ctx_iter it;
  if (count == 0 || smbx_smb2_neg_ctx_iter_init(&it, list, count, base) != 0)
    return;
  jw_arr(w, "negotiate_contexts");
  smbx_smb2_neg_ctx c;
  smbx_error_detail e = {0};
  int rc;
  while ((rc = smbx_smb2_neg_ctx_next(&it, &c, &e)) == 1) {
    jw_obj(w, NULL);
    jw_u64(w, "type", c.type);
    jw_u64(w, "data_length", c.data.len);
    jw_end_obj(w);
  }
  jw_end_arr(w);
  if (rc < 0)
    body_error(w, "negotiate contexts", rc, &e);
}

static void dialects(jw *w, smbx_smb2_bytes d)
{
  jw_arr(w, "dialects");
  for (size_t i = 0; i < d.len / 2 && i < MAX_LIST; i++)
    jw_u64(w, NULL, smbx_smb2_bytes_u16(d, i));
  jw_end_arr(w);
}

/* Is this response an ERROR body ([MS-SMB2] 2.2.2) rather than the
 * command's own? Statuses that keep the normal body are listed. */
static bool error_form(const uint8_t *p, size_t len, uint16_t cmd,
                       uint32_t status)
{
  if (status == SMBX_STATUS_SUCCESS)
    return false;
  if (cmd == SMBX_SMB2_SESSION_SETUP &&
      status == SMBX_STATUS_MORE_PROCESSING_REQUIRED)
    return false;
  if (status == SMBX_STATUS_BUFFER_OVERFLOW &&
      (cmd == SMBX_SMB2_READ || cmd == SMBX_SMB2_IOCTL ||
       cmd == SMBX_SMB2_QUERY_INFO || cmd == SMBX_SMB2_QUERY_DIRECTORY ||
       cmd == SMBX_SMB2_CHANGE_NOTIFY))
    return false;
  if (cmd == SMBX_SMB2_IOCTL && len >= 66 && le16(p + 64) == 49)
    return false; /* e.g. STATUS_INVALID_PARAMETER on VNEG carries a body */
  return len < 66 || le16(p + 64) == 9;
}

void dump_body(dump_ctx *d, const dump_src *src, jw *w, const uint8_t *p,
               size_t len, uint16_t cmd, bool resp, uint32_t status,
               uint64_t msg_id)
{
  smbx_error_detail e = {0};
  int rc = 0;
  const char *what = dump_cmd_name(cmd);
  if (resp && error_form(p, len, cmd, status)) {
    smbx_smb2_error_resp er;
    rc = smbx_smb2_decode_error_resp(p, len, &er, &e);
    if (rc == 0) {
      jw_obj(w, "body");
      jw_obj(w, "error");
      jw_u64(w, "byte_count", er.data.len);
      jw_u64(w, "context_count", er.context_count);
      jw_end_obj(w);
      jw_end_obj(w);
    } else {
      body_error(w, "ERROR", rc, &e);
    }
    return;
  }
  jw_obj(w, "body");
  switch (cmd) {
  case SMBX_SMB2_NEGOTIATE:
    if (!resp) {
      smbx_smb2_negotiate_req r;
      if ((rc = smbx_smb2_decode_negotiate_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "security_mode", r.security_mode);
        jw_u64(w, "capabilities", r.capabilities);
        jw_guid(w, "client_guid", r.client_guid);
        dialects(w, r.dialects);
        neg_contexts(w, r.neg_ctx, len >= 98 ? le16(p + 96) : 0,
                     r.neg_ctx_offset);
      }
    } else {
      smbx_smb2_negotiate_resp r;
      if ((rc = smbx_smb2_decode_negotiate_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "security_mode", r.security_mode);
        jw_u64(w, "dialect", r.dialect_revision);
        jw_u64(w, "capabilities", r.capabilities);
        jw_guid(w, "server_guid", r.server_guid);
        jw_u64(w, "max_transact_size", r.max_transact_size);
        jw_u64(w, "max_read_size", r.max_read_size);
        jw_u64(w, "max_write_size", r.max_write_size);
        jw_u64(w, "security_buffer_length", r.security_buffer.len);
        if (r.dialect_revision == SMBX_SMB2_DIALECT_311)
          neg_contexts(w, r.neg_ctx, r.neg_ctx_count, r.neg_ctx_offset);
      }
    }
    break;
  case SMBX_SMB2_SESSION_SETUP:
    if (!resp) {
      smbx_smb2_session_setup_req r;
      if ((rc = smbx_smb2_decode_session_setup_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "security_mode", r.security_mode);
        jw_u64(w, "capabilities", r.capabilities);
        jw_u64(w, "previous_session_id", r.previous_session_id);
        jw_u64(w, "security_buffer_length", r.security_buffer.len);
      }
    } else {
      smbx_smb2_session_setup_resp r;
      if ((rc = smbx_smb2_decode_session_setup_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "session_flags", r.session_flags);
        jw_u64(w, "security_buffer_length", r.security_buffer.len);
      }
    }
    break;
  case SMBX_SMB2_TREE_CONNECT:
    if (!resp) {
      smbx_smb2_tree_connect_req r;
      if ((rc = smbx_smb2_decode_tree_connect_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "flags", r.flags);
        jw_utf16(w, "path", r.path.p, r.path.len);
      }
    } else {
      smbx_smb2_tree_connect_resp r;
      if ((rc = smbx_smb2_decode_tree_connect_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "share_type", r.share_type);
        jw_u64(w, "share_flags", r.share_flags);
        jw_u64(w, "capabilities", r.capabilities);
        jw_u64(w, "maximal_access", r.maximal_access);
      }
    }
    break;
  case SMBX_SMB2_LOGOFF:
  case SMBX_SMB2_TREE_DISCONNECT:
  case SMBX_SMB2_ECHO:
  case SMBX_SMB2_CANCEL: {
    smbx_smb2_simple s;
    rc = smbx_smb2_decode_simple(p, len, cmd, resp, &s, &e);
    break;
  }
  case SMBX_SMB2_CREATE:
    if (!resp) {
      smbx_smb2_create_req r;
      if ((rc = smbx_smb2_decode_create_req(p, len, &r, &e)) == 0) {
        jw_utf16(w, "name", r.name.p, r.name.len);
        jw_u64(w, "oplock_level", r.requested_oplock_level);
        jw_u64(w, "impersonation_level", r.impersonation_level);
        jw_u64(w, "desired_access", r.desired_access);
        jw_u64(w, "file_attributes", r.file_attributes);
        jw_u64(w, "share_access", r.share_access);
        jw_u64(w, "create_disposition", r.create_disposition);
        jw_u64(w, "create_options", r.create_options);
        create_contexts(w, r.contexts, r.contexts_offset, false);
      }
    } else {
      smbx_smb2_create_resp r;
      if ((rc = smbx_smb2_decode_create_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "oplock_level", r.oplock_level);
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "create_action", r.create_action);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "end_of_file", r.end_of_file);
        jw_u64(w, "allocation_size", r.allocation_size);
        jw_u64(w, "file_attributes", r.file_attributes);
        create_contexts(w, r.contexts, r.contexts_offset, true);
      }
    }
    break;
  case SMBX_SMB2_CLOSE:
    if (!resp) {
      smbx_smb2_close_req r;
      if ((rc = smbx_smb2_decode_close_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "flags", r.flags);
        fid(w, "file_id", &r.file_id);
      }
    } else {
      smbx_smb2_close_resp r;
      if ((rc = smbx_smb2_decode_close_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "end_of_file", r.end_of_file);
        jw_u64(w, "file_attributes", r.file_attributes);
      }
    }
    break;
  case SMBX_SMB2_FLUSH:
    if (!resp) {
      smbx_smb2_flush_req r;
      if ((rc = smbx_smb2_decode_flush_req(p, len, &r, &e)) == 0)
        fid(w, "file_id", &r.file_id);
    } else {
      smbx_smb2_simple s;
      rc = smbx_smb2_decode_simple(p, len, cmd, resp, &s, &e);
    }
    break;
  case SMBX_SMB2_READ:
    if (!resp) {
      smbx_smb2_read_req r;
      if ((rc = smbx_smb2_decode_read_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "length", r.length);
        jw_u64(w, "offset", r.offset);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "minimum_count", r.minimum_count);
        jw_u64(w, "channel", r.channel);
        jw_u64(w, "remaining_bytes", r.remaining_bytes);
        jw_u64(w, "flags", r.flags);
        if (r.descs.count)
          descs(w, &r.descs);
      }
    } else {
      smbx_smb2_read_resp r;
      if ((rc = smbx_smb2_decode_read_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "data_length", r.data.len);
        jw_u64(w, "data_remaining", r.data_remaining);
        jw_u64(w, "flags", r.flags);
      }
    }
    break;
  case SMBX_SMB2_WRITE:
    if (!resp) {
      smbx_smb2_write_req r;
      if ((rc = smbx_smb2_decode_write_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "length", r.data.len);
        jw_u64(w, "offset", r.offset);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "channel", r.channel);
        jw_u64(w, "remaining_bytes", r.remaining_bytes);
        jw_u64(w, "flags", r.flags);
        if (r.descs.count)
          descs(w, &r.descs);
      }
    } else {
      smbx_smb2_write_resp r;
      if ((rc = smbx_smb2_decode_write_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "count", r.count);
        jw_u64(w, "remaining", r.remaining);
      }
    }
    break;
  case SMBX_SMB2_LOCK:
    if (!resp) {
      smbx_smb2_lock_req r;
      if ((rc = smbx_smb2_decode_lock_req(p, len, &r, &e)) == 0) {
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "lock_sequence", r.lock_sequence);
        jw_arr(w, "locks");
        for (size_t i = 0; i < r.lock_count; i++) {
          smbx_smb2_lock_element el;
          if (smbx_smb2_lock_req_get(&r, i, &el) != 0)
            break;
          jw_obj(w, NULL);
          jw_u64(w, "offset", el.offset);
          jw_u64(w, "length", el.length);
          jw_u64(w, "flags", el.flags);
          jw_end_obj(w);
        }
        jw_end_arr(w);
      }
    } else {
      smbx_smb2_lock_resp r;
      rc = smbx_smb2_decode_lock_resp(p, len, &r, &e);
    }
    break;
  case SMBX_SMB2_IOCTL:
    if (!resp) {
      smbx_smb2_ioctl_req r;
      if ((rc = smbx_smb2_decode_ioctl_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "ctl_code", r.ctl_code);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "input_count", r.input.len);
        jw_u64(w, "max_output_response", r.max_output_response);
        if (r.ctl_code == SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO) {
          smbx_smb2_vni_req v;
          smbx_error_detail ve = {0};
          int vr = smbx_smb2_vni_req_decode(r.input.p, r.input.len, &v, &ve);
          if (vr == 0)
            dialects(w, v.dialects);
          else
            body_error(w, "VALIDATE_NEGOTIATE_INFO", vr, &ve);
        }
      }
    } else {
      smbx_smb2_ioctl_resp r;
      if ((rc = smbx_smb2_decode_ioctl_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "ctl_code", r.ctl_code);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "output_count", r.output.len);
        if (r.ctl_code == SMBX_SMB2_FSCTL_QUERY_NETWORK_INTERFACE_INFO &&
            r.output.len) {
          smbx_smb2_netif_iter it;
          if (smbx_smb2_netif_iter_init(&it, r.output.p, r.output.len) == 0) {
            smbx_smb2_netif ni;
            smbx_error_detail ne = {0};
            int nr;
            jw_arr(w, "interfaces");
            while ((nr = smbx_smb2_netif_iter_next(&it, &ni, &ne)) == 1) {
              jw_obj(w, NULL);
              jw_u64(w, "if_index", ni.if_index);
              jw_u64(w, "capability", ni.capability);
              jw_u64(w, "link_speed", ni.link_speed);
              jw_u64(w, "family", ni.family);
              jw_hex(w, "addr", ni.addr,
                     ni.family == SMBX_SMB2_NETIF_FAMILY_INET ? 4 : 16);
              jw_end_obj(w);
            }
            jw_end_arr(w);
            if (nr < 0)
              body_error(w, "NETWORK_INTERFACE_INFO", nr, &ne);
          }
        } else if (r.ctl_code == SMBX_SMB2_FSCTL_VALIDATE_NEGOTIATE_INFO &&
                   r.output.len) {
          smbx_smb2_vni_resp v;
          smbx_error_detail ve = {0};
          int vr = smbx_smb2_vni_resp_decode(r.output.p, r.output.len, &v, &ve);
          if (vr == 0)
            jw_u64(w, "dialect", v.dialect);
          else
            body_error(w, "VALIDATE_NEGOTIATE_INFO", vr, &ve);
        }
      }
    }
    break;
  case SMBX_SMB2_QUERY_DIRECTORY:
    if (!resp) {
      smbx_smb2_query_directory_req r;
      if ((rc = smbx_smb2_decode_query_directory_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "info_class", r.info_class);
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "file_index", r.file_index);
        fid(w, "file_id", &r.file_id);
        jw_utf16(w, "pattern", r.file_name.p, r.file_name.len);
        jw_u64(w, "output_buffer_length", r.output_buffer_length);
        dump_remember_class(d, src, msg_id, r.info_class);
      }
    } else {
      smbx_smb2_output_resp r;
      if ((rc = smbx_smb2_decode_query_directory_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "output_length", r.output.len);
        int cls = dump_lookup_class(d, src, msg_id);
        if (cls >= 0) {
          jw_u64(w, "info_class", (uint64_t)cls);
          dir_entries(w, (uint8_t)cls, r.output);
        }
      }
    }
    break;
  case SMBX_SMB2_CHANGE_NOTIFY:
    if (!resp) {
      smbx_smb2_change_notify_req r;
      if ((rc = smbx_smb2_decode_change_notify_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "flags", r.flags);
        jw_u64(w, "output_buffer_length", r.output_buffer_length);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "completion_filter", r.completion_filter);
      }
    } else {
      smbx_smb2_output_resp r;
      if ((rc = smbx_smb2_decode_change_notify_resp(p, len, &r, &e)) == 0) {
        jw_u64(w, "output_length", r.output.len);
        notify_entries(w, r.output);
      }
    }
    break;
  case SMBX_SMB2_QUERY_INFO:
    if (!resp) {
      smbx_smb2_query_info_req r;
      if ((rc = smbx_smb2_decode_query_info_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "info_type", r.info_type);
        jw_u64(w, "file_info_class", r.file_info_class);
        jw_u64(w, "output_buffer_length", r.output_buffer_length);
        jw_u64(w, "additional_information", r.additional_information);
        jw_u64(w, "flags", r.flags);
        fid(w, "file_id", &r.file_id);
      }
    } else {
      smbx_smb2_output_resp r;
      if ((rc = smbx_smb2_decode_query_info_resp(p, len, &r, &e)) == 0)
        jw_u64(w, "output_length", r.output.len);
    }
    break;
  case SMBX_SMB2_SET_INFO:
    if (!resp) {
      smbx_smb2_set_info_req r;
      if ((rc = smbx_smb2_decode_set_info_req(p, len, &r, &e)) == 0) {
        jw_u64(w, "info_type", r.info_type);
        jw_u64(w, "file_info_class", r.file_info_class);
        jw_u64(w, "additional_information", r.additional_information);
        fid(w, "file_id", &r.file_id);
        jw_u64(w, "buffer_length", r.buffer.len);
      }
    } else {
      smbx_smb2_set_info_resp r;
      rc = smbx_smb2_decode_set_info_resp(p, len, &r, &e);
    }
    break;
  case SMBX_SMB2_OPLOCK_BREAK: {
    int form = smbx_smb2_oplock_break_classify(p, len, &e);
    if (form < 0) {
      rc = form;
      break;
    }
    if (form == SMBX_SMB2_BREAK_OPLOCK) {
      smbx_smb2_oplock_break r;
      if ((rc = smbx_smb2_decode_oplock_break(p, len, &r, &e)) == 0) {
        jw_str(w, "form", "oplock");
        jw_u64(w, "oplock_level", r.oplock_level);
        fid(w, "file_id", &r.file_id);
      }
    } else if (form == SMBX_SMB2_BREAK_LEASE_NOTIFY) {
      smbx_smb2_lease_break_notify r;
      if ((rc = smbx_smb2_decode_lease_break_notify(p, len, &r, &e)) == 0) {
        jw_str(w, "form", "lease_break");
        jw_u64(w, "new_epoch", r.new_epoch);
        jw_u64(w, "flags", r.flags);
        jw_hex(w, "lease_key", r.lease_key, 16);
        jw_u64(w, "current_state", r.current_state);
        jw_u64(w, "new_state", r.new_state);
        jw_u64(w, "break_reason", r.break_reason);
      }
    } else {
      smbx_smb2_lease_break_ack r;
      if ((rc = smbx_smb2_decode_lease_break_ack(p, len, &r, &e)) == 0) {
        jw_str(w, "form", resp ? "lease_ack_response" : "lease_ack");
        jw_u64(w, "flags", r.flags);
        jw_hex(w, "lease_key", r.lease_key, 16);
        jw_u64(w, "lease_state", r.lease_state);
      }
    }
    break;
  }
  default:
    break;
  }
  jw_end_obj(w);
  if (rc < 0)
    body_error(w, what, rc, &e);
}
