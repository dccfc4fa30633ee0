/* SPDX-License-Identifier: MIT */
/* The server node's side of the memory objects (include/smbx/vmo.h,
 * docs/vmo.md): requests on paths in the namespace and on FileIds the
 * table opened are answered here, never by the host. Kept apart from
 * server.c: it uses only the node's public calls. */
#include <string.h>

#include <smbx/event.h>
#include <smbx/server.h>
#include <smbx/smb2.h>
#include <smbx/vmo.h>

#include "server/server_int.h"
#include "vmo/vmo_int.h"

/* FILE_READ_DATA, FILE_WRITE_DATA | FILE_APPEND_DATA, GENERIC_*, MAXIMUM_ALLOWED
 * (MS-SMB2 2.2.13.1.1) */
#define ACC_READ_DATA 0x00000001u
#define ACC_WRITE_DATA 0x00000006u
#define ACC_MAXIMUM_ALLOWED 0x02000000u
#define ACC_GENERIC_ALL 0x10000000u
#define ACC_GENERIC_WRITE 0x40000000u
#define ACC_GENERIC_READ 0x80000000u
#define DISP_OPEN 1u
#define DISP_OPEN_IF 3u
#define ATTR_NORMAL 0x80u
#define INFO_FILE 1u

static int fail(smbx_server *srv, const smbx_event *ev, uint32_t status,
                uint64_t now)
{
  int rc = smbx_server_respond_error(srv, ev->conn, ev->u.pdu.req, status,
                                     NULL, 0, now);
  return rc < 0 ? rc : 1;
}

static int answered(int rc)
{
  return rc < 0 ? rc : 1;
}

static int do_create(smbx_server *srv, smbx_vmo_table *tbl,
                     const smbx_event *ev, const smbx_smb2_create_req *c,
                     uint64_t now)
{
  uint32_t want = 0;
  if (c->desired_access & (ACC_READ_DATA | ACC_GENERIC_READ | ACC_GENERIC_ALL))
    want |= SMBX_VMO_READ;
  if (c->desired_access &
      (ACC_WRITE_DATA | ACC_GENERIC_WRITE | ACC_GENERIC_ALL))
    want |= SMBX_VMO_WRITE;
  if (c->desired_access & ACC_MAXIMUM_ALLOWED)
    want = 0; /* whatever the object allows */
  uint64_t open = 0;
  size_t user_len = 0;
  const uint8_t *user =
      smbx__srv_session_user(srv, ev->u.pdu.hdr.session_id, &user_len);
  uint32_t st = smbx_vmo_open(tbl, c->name.p, c->name.len,
                              ev->u.pdu.hdr.session_id, user, user_len, want,
                              &open);
  if (st != SMBX_STATUS_SUCCESS)
    return fail(srv, ev, st, now);
  /* an object exists and is fixed: it can be opened, never made anew */
  if (c->create_disposition != DISP_OPEN &&
      c->create_disposition != DISP_OPEN_IF) {
    (void)smbx_vmo_close(tbl, open);
    return fail(srv, ev, SMBX_STATUS_ACCESS_DENIED, now);
  }
  uint64_t size = 0;
  (void)smbx_vmo_open_info(tbl, open, NULL, &size, NULL);
  smbx_smb2_create_resp r;
  memset(&r, 0, sizeof r);
  r.create_action = 1; /* FILE_OPENED */
  r.allocation_size = size;
  r.end_of_file = size;
  r.file_attributes = ATTR_NORMAL;
  r.file_id.persistent_id = SMBX_VMO_FILEID_TAG;
  r.file_id.volatile_id = open;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[64 + 96];
  smbx_ssize n = smbx_smb2_encode_create_resp(&h, &r, out, sizeof out, NULL);
  if (n <= 64) {
    (void)smbx_vmo_close(tbl, open);
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  }
  int rc = smbx_server_respond(srv, ev->conn, ev->u.pdu.req, 0, out + 64,
                               (size_t)n - 64, now);
  if (rc < 0)
    (void)smbx_vmo_close(tbl, open);
  return answered(rc);
}

/* Names the transfer of request ev as the holder of pin and starts it;
 * a transfer refused before anything was posted gets no RDMA_DONE, so its
 * pin goes here. */
static int start_rdma(smbx_server *srv, smbx_vmo_table *tbl,
                      const smbx_event *ev, uint64_t pin, bool push,
                      const smbx_sge *sg, size_t n, uint64_t now)
{
  if (smbx__vmo_pin_owner(tbl, pin, ev->conn, ev->u.pdu.req) != 0) {
    (void)smbx_vmo_unpin(tbl, pin);
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  }
  int rc = push ? smbx_server_rdma_push(srv, ev->conn, ev->u.pdu.req, sg, n,
                                        now)
                : smbx_server_rdma_pull(srv, ev->conn, ev->u.pdu.req, sg, n,
                                        now);
  if (rc < 0 && rc > SMBX_ERR_FATAL)
    (void)smbx_vmo_unpin(tbl, pin);
  return answered(rc);
}

static int do_read(smbx_server *srv, smbx_vmo_table *tbl, const smbx_event *ev,
                   uint64_t open, uint64_t offset, uint32_t length,
                   uint64_t now)
{
  smbx_sge *sg;
  smbx_iov *iov;
  size_t cap;
  smbx__vmo_scratch(tbl, &sg, &iov, &cap);
  size_t n = 0;
  uint64_t bytes = 0, pin = 0;
  bool rdma = (ev->flags & SMBX_EVF_RDMA) != 0;
  if (rdma)
    length = ev->u.pdu.rdma_length;
  uint32_t kind = 0;
  uint32_t st = smbx_vmo_open_info(tbl, open, NULL, NULL, &kind);
  if (st == SMBX_STATUS_SUCCESS && kind == SMBX_VMO_OPEN_DIRTY) {
    /* the dirty stream: the offset is the generation read from */
    st = smbx_vmo_dirty_read(tbl, open, offset, length, sg, &bytes,
                             rdma ? &pin : NULL);
    n = 1;
  } else if (st == SMBX_STATUS_SUCCESS) {
    st = smbx_vmo_map(tbl, open, false, offset, length, sg, cap, &n, &bytes,
                      rdma ? &pin : NULL);
  }
  if (st == SMBX_STATUS_SUCCESS && bytes == 0) {
    /* a zero-length READ inside the object: an empty success */
    if (pin)
      (void)smbx_vmo_unpin(tbl, pin);
    rdma = false;
  }
  if (st != SMBX_STATUS_SUCCESS)
    return fail(srv, ev, st, now);
  if (rdma)
    return start_rdma(srv, tbl, ev, pin, true, sg, n, now);
  smbx_smb2_read_resp r;
  memset(&r, 0, sizeof r);
  r.data.len = (size_t)bytes; /* scatter-gather: data follows the header */
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t hdr[64 + 24];
  smbx_ssize hn = smbx_smb2_encode_read_resp(&h, &r, hdr, sizeof hdr, NULL);
  if (hn <= 64)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  iov[0].base = hdr + 64;
  iov[0].len = (size_t)hn - 64;
  for (size_t i = 0; i < n; i++) {
    iov[1 + i].base = sg[i].addr;
    iov[1 + i].len = sg[i].length;
  }
  return answered(
      smbx_server_respond_iov(srv, ev->conn, ev->u.pdu.req, 0, iov, 1 + n, now));
}

static int write_done(smbx_server *srv, const smbx_event *ev, uint32_t count,
                      uint64_t now)
{
  smbx_smb2_write_resp r;
  memset(&r, 0, sizeof r);
  r.count = count;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[64 + 24];
  smbx_ssize n = smbx_smb2_encode_write_resp(&h, &r, out, sizeof out, NULL);
  if (n <= 64)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  return answered(smbx_server_respond(srv, ev->conn, ev->u.pdu.req, 0,
                                      out + 64, (size_t)n - 64, now));
}

static int do_write(smbx_server *srv, smbx_vmo_table *tbl,
                    const smbx_event *ev, uint64_t open,
                    const smbx_smb2_write_req *w, uint64_t now)
{
  smbx_sge *sg;
  smbx_iov *iov;
  size_t cap;
  smbx__vmo_scratch(tbl, &sg, &iov, &cap);
  size_t n = 0;
  uint64_t bytes = 0, pin = 0;
  bool rdma = (ev->flags & SMBX_EVF_RDMA) != 0;
  uint64_t len = rdma ? ev->u.pdu.rdma_length : w->data.len;
  uint32_t st = smbx_vmo_map(tbl, open, true, w->offset, len, sg, cap, &n,
                             &bytes, rdma ? &pin : NULL);
  if (st != SMBX_STATUS_SUCCESS)
    return fail(srv, ev, st, now);
  if (rdma)
    return start_rdma(srv, tbl, ev, pin, false, sg, n, now);
  /* inline data lands in the blocks: the one copy any inline WRITE has */
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    memcpy(sg[i].addr, w->data.p + at, sg[i].length);
    at += sg[i].length;
  }
  return write_done(srv, ev, (uint32_t)bytes, now);
}

/* FileStandardInformation (MS-FSCC 2.4.41) and FileNetworkOpenInformation
 * (2.4.29) carry the size; everything else is refused. */
static int do_query_info(smbx_server *srv, smbx_vmo_table *tbl,
                         const smbx_event *ev, uint64_t open,
                         const smbx_smb2_query_info_req *q, uint64_t now)
{
  uint64_t size = 0;
  uint32_t st = smbx_vmo_open_info(tbl, open, NULL, &size, NULL);
  if (st != SMBX_STATUS_SUCCESS)
    return fail(srv, ev, st, now);
  uint8_t info[56];
  memset(info, 0, sizeof info);
  size_t len;
  if (q->info_type == INFO_FILE &&
      q->file_info_class == SMBX_SMB2_FILE_STANDARD_INFORMATION) {
    len = 24;
    for (int i = 0; i < 8; i++) {
      info[i] = (uint8_t)(size >> (8 * i));     /* AllocationSize */
      info[8 + i] = (uint8_t)(size >> (8 * i)); /* EndOfFile */
    }
    info[16] = 1; /* NumberOfLinks */
  } else if (q->info_type == INFO_FILE &&
             q->file_info_class == SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION) {
    len = 56;
    for (int i = 0; i < 8; i++) {
      info[32 + i] = (uint8_t)(size >> (8 * i)); /* AllocationSize */
      info[40 + i] = (uint8_t)(size >> (8 * i)); /* EndOfFile */
    }
    info[48] = (uint8_t)ATTR_NORMAL;
  } else {
    return fail(srv, ev, SMBX_STATUS_INVALID_INFO_CLASS, now);
  }
  if (q->output_buffer_length < len)
    return fail(srv, ev, SMBX_STATUS_INFO_LENGTH_MISMATCH, now);
  smbx_smb2_output_resp r;
  memset(&r, 0, sizeof r);
  r.output.p = info;
  r.output.len = len;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[64 + 8 + 56];
  smbx_ssize n =
      smbx_smb2_encode_query_info_resp(&h, &r, out, sizeof out, NULL);
  if (n <= 64)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  return answered(smbx_server_respond(srv, ev->conn, ev->u.pdu.req, 0,
                                      out + 64, (size_t)n - 64, now));
}

static int do_close(smbx_server *srv, smbx_vmo_table *tbl,
                    const smbx_event *ev, uint64_t open, uint16_t flags,
                    uint64_t now)
{
  uint64_t size = 0;
  bool live = smbx_vmo_open_info(tbl, open, NULL, &size, NULL) ==
              SMBX_STATUS_SUCCESS;
  /* a revoked object's open still closes: that is how the peer lets go */
  if (smbx_vmo_close(tbl, open) != 0)
    return fail(srv, ev, SMBX_STATUS_FILE_CLOSED, now);
  smbx_smb2_close_resp r;
  memset(&r, 0, sizeof r);
  if (live && (flags & SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB)) {
    r.flags = SMBX_SMB2_CLOSE_FLAG_POSTQUERY_ATTRIB;
    r.allocation_size = size;
    r.end_of_file = size;
    r.file_attributes = ATTR_NORMAL;
  }
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[64 + 64];
  smbx_ssize n = smbx_smb2_encode_close_resp(&h, &r, out, sizeof out, NULL);
  if (n <= 64)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  return answered(smbx_server_respond(srv, ev->conn, ev->u.pdu.req, 0,
                                      out + 64, (size_t)n - 64, now));
}

/* The FileId the request names (a related compound's is the node's). */
static smbx_smb2_fileid effective_fid(const smbx_event *ev,
                                      smbx_smb2_fileid wire)
{
  return (ev->flags & SMBX_EVF_FILEID) ? ev->u.pdu.file_id : wire;
}

static int route_request(smbx_server *srv, smbx_vmo_table *tbl,
                         const smbx_event *ev, uint64_t now)
{
  const uint8_t *p = ev->u.pdu.data;
  size_t len = ev->u.pdu.len;
  smbx_smb2_fileid fid;
  switch (ev->u.pdu.hdr.command) {
  case SMBX_SMB2_CREATE: {
    smbx_smb2_create_req c;
    if (smbx_smb2_decode_create_req(p, len, &c, NULL) != 0 ||
        !smbx_vmo_in_namespace(tbl, c.name.p, c.name.len))
      return 0;
    return do_create(srv, tbl, ev, &c, now);
  }
  case SMBX_SMB2_READ: {
    smbx_smb2_read_req r;
    if (smbx_smb2_decode_read_req(p, len, &r, NULL) != 0)
      return 0;
    fid = effective_fid(ev, r.file_id);
    if (fid.persistent_id != SMBX_VMO_FILEID_TAG)
      return 0;
    return do_read(srv, tbl, ev, fid.volatile_id, r.offset, r.length, now);
  }
  case SMBX_SMB2_WRITE: {
    smbx_smb2_write_req w;
    if (smbx_smb2_decode_write_req(p, len, &w, NULL) != 0)
      return 0;
    fid = effective_fid(ev, w.file_id);
    if (fid.persistent_id != SMBX_VMO_FILEID_TAG)
      return 0;
    return do_write(srv, tbl, ev, fid.volatile_id, &w, now);
  }
  case SMBX_SMB2_QUERY_INFO: {
    smbx_smb2_query_info_req q;
    if (smbx_smb2_decode_query_info_req(p, len, &q, NULL) != 0)
      return 0;
    fid = effective_fid(ev, q.file_id);
    if (fid.persistent_id != SMBX_VMO_FILEID_TAG)
      return 0;
    return do_query_info(srv, tbl, ev, fid.volatile_id, &q, now);
  }
  case SMBX_SMB2_CLOSE: {
    smbx_smb2_close_req c;
    if (smbx_smb2_decode_close_req(p, len, &c, NULL) != 0)
      return 0;
    fid = effective_fid(ev, c.file_id);
    if (fid.persistent_id != SMBX_VMO_FILEID_TAG)
      return 0;
    return do_close(srv, tbl, ev, fid.volatile_id, c.flags, now);
  }
  default:
    return 0;
  }
}

int smbx_server_vmo_route(smbx_server *srv, smbx_vmo_table *tbl,
                          const smbx_event *ev, uint64_t now_ns)
{
  if (!srv || !tbl || !ev || ev->struct_size < sizeof(smbx_event))
    return SMBX_ERR_INVAL;
  switch (ev->type) {
  case SMBX_EV_REQUEST:
    return route_request(srv, tbl, ev, now_ns);
  case SMBX_EV_RDMA_DONE: {
    uint64_t pin = smbx__vmo_pin_of(tbl, ev->conn, ev->u.pdu.req);
    if (!pin)
      return 0;
    /* no operation names the blocks any more (the node waited for every
     * completion, also of a failed transfer) */
    (void)smbx_vmo_unpin(tbl, pin);
    if (ev->u.pdu.err == 0 && ev->u.pdu.hdr.command == SMBX_SMB2_WRITE)
      return write_done(srv, ev, ev->u.pdu.rdma_length, now_ns);
    return 1;
  }
  case SMBX_EV_CONN_DOWN:
    /* the node reported every transfer of the connection ended; what is
     * left (events dropped with the connection) ends here; the host still
     * sees CONN_DOWN */
    (void)smbx__vmo_unpin_conn(tbl, ev->conn);
    return 0;
  default:
    return 0;
  }
}
