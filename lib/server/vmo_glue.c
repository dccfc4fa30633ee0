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
  if (rc < 0 && rc > SMBX_ERR_FATAL) {
    /* nothing posted (e.g. more pieces than the server's
     * rdma_max_xfer_sge, or no transfer slot): the request is still ours
     * to answer */
    (void)smbx_vmo_unpin(tbl, pin);
    if (rc != SMBX_ERR_NOTFOUND)
      return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  }
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

/* ---- QUERY_INFO ----------------------------------------------------------- */

#define INFO_FS 2u
#define ACC_FILE_GENERIC_READ 0x00120089u
#define ACC_FILE_GENERIC_WRITE 0x00120116u
#define FILE_DEVICE_DISK 0x7u
/* FILE_CASE_PRESERVED_NAMES | FILE_UNICODE_ON_DISK | FILE_NAMED_STREAMS */
#define FS_ATTRIBUTES 0x00040006u
#define SECTOR 512u
/* SSINFO_FLAGS_ALIGNED_DEVICE | SSINFO_FLAGS_PARTITION_ALIGNED_ON_DEVICE */
#define SECTOR_FLAGS 0x3u
/* the longest info built: FileAllInformation with "\<path>:dirty" */
#define INFO_MAX (100u + 2u * (1u + SMBX_VMO_PATH_MAX + 6u))

/* One class answered: its bytes in info[0..len), the OutputBufferLength
 * below which it is INFO_LENGTH_MISMATCH (min), and for a list of entries
 * the end of each whole entry (a short buffer gets the entries that fit;
 * a name is cut anywhere). */
typedef struct qinfo {
  uint8_t info[INFO_MAX];
  size_t len, min;
  size_t starts[2], ends[2]; /* each entry's first byte and its end */
  size_t n_entries;
} qinfo;

static void utf16_ascii(uint8_t *dst, const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    dst[2 * i] = (uint8_t)s[i];
    dst[2 * i + 1] = 0;
  }
}

/* "\<namespace>\<token>" (":dirty" after it for the stream) in UTF-16LE,
 * as FileNameInformation names a file from the share root. */
static size_t open_name(smbx_vmo_table *tbl, const smbx__vmo_facts *f,
                        uint8_t *out)
{
  size_t len = 0;
  utf16_ascii(out, "\\", 1);
  (void)smbx_vmo_path(tbl, f->id, NULL, 0, NULL, out + 2,
                      2u * SMBX_VMO_PATH_MAX, &len);
  len += 2;
  if (f->kind == SMBX_VMO_OPEN_DIRTY) {
    utf16_ascii(out + len, SMBX_VMO_DIRTY_SUFFIX, 6);
    len += 12;
  }
  return len;
}

static uint32_t access_flags(uint32_t granted)
{
  return ((granted & SMBX_VMO_READ) ? ACC_FILE_GENERIC_READ : 0) |
         ((granted & SMBX_VMO_WRITE) ? ACC_FILE_GENERIC_WRITE : 0);
}

/* The size QUERY_INFO reports: the object's, or the dirty record's for
 * the stream. */
static uint64_t open_size(const smbx__vmo_facts *f)
{
  return f->kind == SMBX_VMO_OPEN_DIRTY ? f->dirty_size : f->size;
}

static smbx_ssize file_class(smbx_vmo_table *tbl, const smbx__vmo_facts *f,
                             uint8_t cls, qinfo *qi)
{
  uint8_t *b = qi->info;
  size_t cap = sizeof qi->info;
  uint64_t size = open_size(f);
  smbx_smb2_file_basic_info basic = {0, 0, 0, 0, ATTR_NORMAL, 0};
  smbx_smb2_file_standard_info std = {size, size, 1, 0, 0, 0};
  switch (cls) {
  case SMBX_SMB2_FILE_BASIC_INFORMATION:
    return smbx_smb2_file_basic_info_encode(&basic, b, cap, NULL);
  case SMBX_SMB2_FILE_STANDARD_INFORMATION:
    return smbx_smb2_file_standard_info_encode(&std, b, cap, NULL);
  case SMBX_SMB2_FILE_INTERNAL_INFORMATION: {
    smbx_smb2_file_internal_info in = {f->id};
    return smbx_smb2_file_internal_info_encode(&in, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_EA_INFORMATION: {
    smbx_smb2_file_ea_info ea = {0};
    return smbx_smb2_file_ea_info_encode(&ea, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_ACCESS_INFORMATION: {
    smbx_smb2_file_access_info ac = {access_flags(f->granted)};
    return smbx_smb2_file_access_info_encode(&ac, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_POSITION_INFORMATION: {
    /* SMB2 I/O names its offset: the open keeps no position */
    smbx_smb2_file_position_info po = {0};
    return smbx_smb2_file_position_info_encode(&po, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_MODE_INFORMATION: {
    smbx_smb2_file_mode_info mo = {0};
    return smbx_smb2_file_mode_info_encode(&mo, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_ALIGNMENT_INFORMATION: {
    smbx_smb2_file_alignment_info al = {0}; /* FILE_BYTE_ALIGNMENT */
    return smbx_smb2_file_alignment_info_encode(&al, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_ALL_INFORMATION: {
    uint8_t name[INFO_MAX - 100];
    smbx_smb2_file_all_info a;
    memset(&a, 0, sizeof a);
    a.basic = basic;
    a.standard = std;
    a.index_number = f->id;
    a.access_flags = access_flags(f->granted);
    a.file_name.p = name;
    a.file_name.len = open_name(tbl, f, name);
    /* MS-FSA: the fixed part up to FileName, 8-byte aligned */
    qi->min = 104;
    return smbx_smb2_file_all_info_encode(&a, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_NETWORK_OPEN_INFORMATION: {
    smbx_smb2_file_network_open_info no = {0, 0, 0, 0, size, size,
                                           ATTR_NORMAL, 0};
    return smbx_smb2_file_network_open_info_encode(&no, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_ATTRIBUTE_TAG_INFORMATION: {
    smbx_smb2_file_attribute_tag_info at = {ATTR_NORMAL, 0};
    return smbx_smb2_file_attribute_tag_info_encode(&at, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_COMPRESSION_INFORMATION: {
    smbx_smb2_file_compression_info co = {size, 0, 0, 0, 0};
    return smbx_smb2_file_compression_info_encode(&co, b, cap, NULL);
  }
  case SMBX_SMB2_FILE_STREAM_INFORMATION: {
    /* the memory (the unnamed stream) and its dirty stream, whichever of
     * the two the open names */
    uint8_t n1[14], n2[24];
    utf16_ascii(n1, "::$DATA", 7);
    utf16_ascii(n2, SMBX_VMO_DIRTY_SUFFIX ":$DATA", 12);
    smbx_smb2_file_stream_entry e[2];
    memset(e, 0, sizeof e);
    e[0].stream_name.p = n1;
    e[0].stream_name.len = sizeof n1;
    e[0].stream_size = e[0].stream_allocation_size = f->size;
    e[1].stream_name.p = n2;
    e[1].stream_name.len = sizeof n2;
    e[1].stream_size = e[1].stream_allocation_size = f->dirty_size;
    /* MS-FSA: below sizeof(FILE_STREAM_INFORMATION), 8-byte aligned */
    qi->min = 32;
    qi->ends[0] = 24 + sizeof n1;
    qi->starts[1] = (qi->ends[0] + 7u) & ~(size_t)7u;
    qi->ends[1] = qi->starts[1] + 24 + sizeof n2;
    qi->n_entries = 2;
    return smbx_smb2_file_stream_info_encode(e, 2, b, cap, NULL);
  }
  default:
    return SMBX_ERR_NOTFOUND;
  }
}

static smbx_ssize fs_class(const smbx__vmo_facts *f, uint8_t cls, qinfo *qi)
{
  uint8_t *b = qi->info;
  size_t cap = sizeof qi->info;
  /* the object is the volume: its pages are the allocation units, none
   * free (its length is fixed) */
  uint64_t units = (f->size + f->page_size - 1) / f->page_size;
  uint32_t per_unit = f->page_size / SECTOR;
  switch (cls) {
  case SMBX_SMB2_FS_VOLUME_INFORMATION: {
    smbx_smb2_fs_volume_info v;
    memset(&v, 0, sizeof v);
    qi->min = 24; /* MS-FSA: up to VolumeLabel, 8-byte aligned */
    return smbx_smb2_fs_volume_info_encode(&v, b, cap, NULL);
  }
  case SMBX_SMB2_FS_SIZE_INFORMATION: {
    smbx_smb2_fs_size_info z = {units, 0, per_unit, SECTOR};
    return smbx_smb2_fs_size_info_encode(&z, b, cap, NULL);
  }
  case SMBX_SMB2_FS_FULL_SIZE_INFORMATION: {
    smbx_smb2_fs_full_size_info z = {units, 0, 0, per_unit, SECTOR};
    return smbx_smb2_fs_full_size_info_encode(&z, b, cap, NULL);
  }
  case SMBX_SMB2_FS_DEVICE_INFORMATION: {
    smbx_smb2_fs_device_info d = {FILE_DEVICE_DISK, 0};
    return smbx_smb2_fs_device_info_encode(&d, b, cap, NULL);
  }
  case SMBX_SMB2_FS_ATTRIBUTE_INFORMATION: {
    uint8_t name[16];
    utf16_ascii(name, "smbx-vmo", 8);
    smbx_smb2_fs_attribute_info a = {FS_ATTRIBUTES, 255, {name, 16}};
    qi->min = 12; /* MS-FSA: up to FileSystemName, 4-byte aligned */
    return smbx_smb2_fs_attribute_info_encode(&a, b, cap, NULL);
  }
  case SMBX_SMB2_FS_SECTOR_SIZE_INFORMATION: {
    smbx_smb2_fs_sector_size_info z = {SECTOR, SECTOR, SECTOR, SECTOR,
                                       SECTOR_FLAGS, 0, 0};
    return smbx_smb2_fs_sector_size_info_encode(&z, b, cap, NULL);
  }
  default:
    return SMBX_ERR_NOTFOUND;
  }
}

/* MS-SMB2 3.3.5.20.1 with MS-FSA 2.1.5.12/13: a buffer below the class's
 * fixed part is INFO_LENGTH_MISMATCH; one that holds the fixed part but not
 * everything gets what fits (whole entries of a list) with
 * BUFFER_OVERFLOW. */
static int do_query_info(smbx_server *srv, smbx_vmo_table *tbl,
                         const smbx_event *ev, uint64_t open,
                         const smbx_smb2_query_info_req *q, uint64_t now)
{
  smbx__vmo_facts f;
  uint32_t st = smbx__vmo_facts_get(tbl, open, &f);
  if (st != SMBX_STATUS_SUCCESS)
    return fail(srv, ev, st, now);
  qinfo qi;
  memset(&qi, 0, sizeof qi);
  smbx_ssize n = SMBX_ERR_NOTFOUND;
  if (q->info_type == INFO_FILE)
    n = file_class(tbl, &f, q->file_info_class, &qi);
  else if (q->info_type == INFO_FS)
    n = fs_class(&f, q->file_info_class, &qi);
  if (n == SMBX_ERR_NOTFOUND)
    return fail(srv, ev, SMBX_STATUS_INVALID_INFO_CLASS, now);
  if (n <= 0)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  qi.len = (size_t)n;
  if (!qi.min)
    qi.min = qi.len; /* fixed size */
  uint32_t status = SMBX_STATUS_SUCCESS;
  size_t give = qi.len;
  if (q->output_buffer_length < qi.min)
    return fail(srv, ev, SMBX_STATUS_INFO_LENGTH_MISMATCH, now);
  if (q->output_buffer_length < qi.len) {
    status = SMBX_STATUS_BUFFER_OVERFLOW;
    give = q->output_buffer_length;
    if (qi.n_entries) {
      size_t k = 0;
      while (k < qi.n_entries && qi.ends[k] <= give)
        k++;
      give = k ? qi.ends[k - 1] : 0;
      /* the last entry given ends the list: NextEntryOffset 0 */
      if (k)
        memset(qi.info + qi.starts[k - 1], 0, 4);
    }
  }
  smbx_smb2_output_resp r;
  memset(&r, 0, sizeof r);
  r.output.p = qi.info;
  r.output.len = give;
  smbx_smb2_hdr h;
  memset(&h, 0, sizeof h);
  uint8_t out[64 + 8 + INFO_MAX];
  n = smbx_smb2_encode_query_info_resp(&h, &r, out, sizeof out, NULL);
  if (n <= 64)
    return fail(srv, ev, SMBX_STATUS_INSUFFICIENT_RESOURCES, now);
  return answered(smbx_server_respond(srv, ev->conn, ev->u.pdu.req, status,
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
