/* SPDX-License-Identifier: MIT */
/* Any transport message, both directions: message kind, TRANSFORM /
 * COMPRESSION / SMB1 recognition, the compound iterator, the table pass
 * and every command decoder of lib/smb2 on each PDU. For the part-1
 * decoders a successful decode must re-encode, decode again and
 * re-encode to the same bytes (the encoders are canonical). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef int (*dec_fn)(const uint8_t *, size_t, void *, smbx_error_detail *);
typedef smbx_ssize (*enc_fn)(const smbx_smb2_hdr *, const void *, uint8_t *,
                             size_t, size_t *);

#define WRAP(NAME, T)                                                         \
  static int d_##NAME(const uint8_t *p, size_t n, void *o,                    \
                      smbx_error_detail *e)                                   \
  {                                                                           \
    return smbx_smb2_decode_##NAME(p, n, (T *)o, e);                          \
  }                                                                           \
  static smbx_ssize e_##NAME(const smbx_smb2_hdr *h, const void *o,           \
                             uint8_t *b, size_t c, size_t *nd)                \
  {                                                                           \
    return smbx_smb2_encode_##NAME(h, (const T *)o, b, c, nd);                \
  }

WRAP(negotiate_req, smbx_smb2_negotiate_req)
WRAP(negotiate_resp, smbx_smb2_negotiate_resp)
WRAP(session_setup_req, smbx_smb2_session_setup_req)
WRAP(session_setup_resp, smbx_smb2_session_setup_resp)
WRAP(tree_connect_req, smbx_smb2_tree_connect_req)
WRAP(tree_connect_resp, smbx_smb2_tree_connect_resp)
WRAP(create_req, smbx_smb2_create_req)
WRAP(create_resp, smbx_smb2_create_resp)
WRAP(close_req, smbx_smb2_close_req)
WRAP(close_resp, smbx_smb2_close_resp)
WRAP(flush_req, smbx_smb2_flush_req)
WRAP(oplock_break, smbx_smb2_oplock_break)
WRAP(lease_break_notify, smbx_smb2_lease_break_notify)
WRAP(lease_break_ack, smbx_smb2_lease_break_ack)
WRAP(error_resp, smbx_smb2_error_resp)

static const struct {
  dec_fn dec;
  enc_fn enc;
} part1[] = {
  {d_negotiate_req, e_negotiate_req},
  {d_negotiate_resp, e_negotiate_resp},
  {d_session_setup_req, e_session_setup_req},
  {d_session_setup_resp, e_session_setup_resp},
  {d_tree_connect_req, e_tree_connect_req},
  {d_tree_connect_resp, e_tree_connect_resp},
  {d_create_req, e_create_req},
  {d_create_resp, e_create_resp},
  {d_close_req, e_close_req},
  {d_close_resp, e_close_resp},
  {d_flush_req, e_flush_req},
  {d_oplock_break, e_oplock_break},
  {d_lease_break_notify, e_lease_break_notify},
  {d_lease_break_ack, e_lease_break_ack},
  {d_error_resp, e_error_resp},
};

typedef union {
  max_align_t align;
  uint8_t bytes[2048];
} any_out;

static uint8_t enc1[1 << 17], enc2[1 << 17];

static void walk_create_ctx(smbx_smb2_bytes area)
{
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_create_ctx c;
  smbx_smb2_create_ctx_iter_init(&it, area, 0);
  while (smbx_smb2_create_ctx_next(&it, &c, NULL) == 1) {
    smbx_smb2_lease l;
    smbx_smb2_ctx_data d;
    if (smbx_smb2_create_ctx_tag(&c) == SMBX_SMB2_CTX_TAG_RQLS)
      (void)smbx_smb2_lease_decode(c.data, &l, NULL);
    for (int k = SMBX_SMB2_CTXD_DHNQ_REQ; k <= SMBX_SMB2_CTXD_ALSI_REQ; k++)
      (void)smbx_smb2_ctx_data_decode(k, c.data, &d, NULL);
  }
}

static void walk_neg_ctx(smbx_smb2_bytes list, uint16_t count)
{
  smbx_smb2_neg_ctx_iter it;
  smbx_smb2_neg_ctx c;
  smbx_smb2_neg_ctx_iter_init(&it, list, count, 0);
  while (smbx_smb2_neg_ctx_next(&it, &c, NULL) == 1) {
    smbx_smb2_neg_ctx_info info;
    /* the decoder validated known contexts: parsing cannot fail */
    if (smbx_smb2_neg_ctx_parse(&c, &info, NULL) != 0)
      abort();
  }
}

/* decode -> encode -> decode -> encode: the two encodings are equal. */
static void check_part1(size_t i, const uint8_t *p, size_t n)
{
  any_out o1, o2;
  smbx_smb2_hdr h;
  smbx_error_detail e = {NULL, 0};
  memset(&o1, 0, sizeof o1);
  if (part1[i].dec(p, n, &o1, &e) != 0) {
    if (!e.reason || e.offset > n)
      abort();
    return;
  }
  if (smbx_smb2_hdr_decode(p, n, &h, NULL) != 0)
    abort();
  smbx_ssize n1 = part1[i].enc(&h, &o1, enc1, sizeof enc1, NULL);
  if (n1 < 0)
    abort();
  memset(&o2, 0, sizeof o2);
  if (part1[i].dec(enc1, (size_t)n1, &o2, &e) != 0)
    abort();
  smbx_ssize n2 = part1[i].enc(&h, &o2, enc2, sizeof enc2, NULL);
  if (n2 != n1 || memcmp(enc1, enc2, (size_t)n1) != 0)
    abort();
  if (part1[i].dec == d_create_req)
    walk_create_ctx(((smbx_smb2_create_req *)(void *)&o1)->contexts);
  if (part1[i].dec == d_create_resp)
    walk_create_ctx(((smbx_smb2_create_resp *)(void *)&o1)->contexts);
  if (part1[i].dec == d_negotiate_req) {
    smbx_smb2_negotiate_req *q = (smbx_smb2_negotiate_req *)(void *)&o1;
    walk_neg_ctx(q->neg_ctx, q->neg_ctx_count);
  }
  if (part1[i].dec == d_negotiate_resp) {
    smbx_smb2_negotiate_resp *r = (smbx_smb2_negotiate_resp *)(void *)&o1;
    walk_neg_ctx(r->neg_ctx, r->neg_ctx_count);
  }
  if (part1[i].dec == d_error_resp) {
    smbx_smb2_error_resp *r = (smbx_smb2_error_resp *)(void *)&o1;
    size_t off = 0;
    smbx_smb2_error_ctx c;
    while (smbx_smb2_error_ctx_next(r->data, &off, &c, NULL) == 1)
      ;
  }
}

/* Part 2 (I/O commands): decode, then walk what the views hold. */
static void check_part2(const uint8_t *p, size_t n)
{
  any_out o;
  smbx_smb2_output_resp out;
  (void)smbx_smb2_decode_read_req(p, n, (smbx_smb2_read_req *)(void *)&o,
                                  NULL);
  (void)smbx_smb2_decode_read_resp(p, n, (smbx_smb2_read_resp *)(void *)&o,
                                   NULL);
  (void)smbx_smb2_decode_write_req(p, n, (smbx_smb2_write_req *)(void *)&o,
                                   NULL);
  (void)smbx_smb2_decode_write_resp(p, n, (smbx_smb2_write_resp *)(void *)&o,
                                    NULL);
  (void)smbx_smb2_decode_lock_req(p, n, (smbx_smb2_lock_req *)(void *)&o,
                                  NULL);
  (void)smbx_smb2_decode_lock_resp(p, n, (smbx_smb2_lock_resp *)(void *)&o,
                                   NULL);
  (void)smbx_smb2_decode_ioctl_req(p, n, (smbx_smb2_ioctl_req *)(void *)&o,
                                   NULL);
  (void)smbx_smb2_decode_ioctl_resp(p, n, (smbx_smb2_ioctl_resp *)(void *)&o,
                                    NULL);
  (void)smbx_smb2_decode_query_directory_req(
      p, n, (smbx_smb2_query_directory_req *)(void *)&o, NULL);
  (void)smbx_smb2_decode_change_notify_req(
      p, n, (smbx_smb2_change_notify_req *)(void *)&o, NULL);
  (void)smbx_smb2_decode_query_info_req(
      p, n, (smbx_smb2_query_info_req *)(void *)&o, NULL);
  (void)smbx_smb2_decode_set_info_req(p, n,
                                      (smbx_smb2_set_info_req *)(void *)&o,
                                      NULL);
  (void)smbx_smb2_decode_set_info_resp(p, n,
                                       (smbx_smb2_set_info_resp *)(void *)&o,
                                       NULL);
  (void)smbx_smb2_decode_query_info_resp(p, n, &out, NULL);
  if (smbx_smb2_decode_query_directory_resp(p, n, &out, NULL) == 0) {
    static const uint8_t classes[] = {1, 2, 3, 12, 37, 38, 60};
    for (size_t c = 0; c < sizeof classes; c++) {
      smbx_smb2_dir_iter it;
      smbx_smb2_dir_entry de;
      if (smbx_smb2_dir_iter_init(&it, classes[c], out.output.p,
                                  out.output.len) == 0)
        while (smbx_smb2_dir_iter_next(&it, &de, NULL) == 1)
          ;
    }
  }
  if (smbx_smb2_decode_change_notify_resp(p, n, &out, NULL) == 0) {
    smbx_smb2_notify_iter it;
    smbx_smb2_notify_entry ne;
    if (smbx_smb2_notify_iter_init(&it, out.output.p, out.output.len) == 0)
      while (smbx_smb2_notify_iter_next(&it, &ne, NULL) == 1)
        ;
  }
}

static void one_pdu(const uint8_t *p, size_t n)
{
  smbx_smb2_hdr h;
  (void)smbx_smb2_pdu_validate(p, n, &h, NULL);
  for (size_t i = 0; i < sizeof part1 / sizeof part1[0]; i++)
    check_part1(i, p, n);
  any_out o;
  for (uint16_t cmd = 0; cmd < SMBX_SMB2_COMMAND_COUNT; cmd++)
    for (int resp = 0; resp < 2; resp++)
      (void)smbx_smb2_decode_simple(p, n, cmd, resp,
                                    (smbx_smb2_simple *)(void *)&o, NULL);
  (void)smbx_smb2_oplock_break_classify(p, n, NULL);
  check_part2(p, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16)
    return 0;
  /* exact-size copy: reads past `size` trip ASan */
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  switch (smbx_smb2_msg_kind(buf, size)) {
  case SMBX_SMB2_MSG_TRANSFORM: {
    smbx_smb2_transform_hdr t;
    if (smbx_smb2_transform_decode(buf, size, &t, NULL) == 0)
      (void)smbx_smb2_plaintext_check(t.ciphertext.p, t.ciphertext.len,
                                      NULL);
    break;
  }
  case SMBX_SMB2_MSG_COMPRESSION: {
    smbx_smb2_compression_hdr c;
    if (smbx_smb2_compression_decode(buf, size, &c, NULL) == 0 &&
        (c.flags & SMBX_SMB2_COMP_FLAG_CHAINED)) {
      size_t off = 0, last = 0;
      smbx_smb2_comp_payload pl;
      while (smbx_smb2_comp_payload_next(c.payload, &off, &pl, NULL) == 1) {
        if (off <= last)
          abort(); /* must advance */
        last = off;
      }
    }
    break;
  }
  case SMBX_SMB2_MSG_SMB1: {
    smbx_smb1_negotiate s;
    (void)smbx_smb1_negotiate_decode(buf, size, &s, NULL);
    break;
  }
  default:
    break;
  }
  smbx_smb2_chain ch;
  smbx_smb2_bytes pdu;
  smbx_smb2_hdr h;
  smbx_smb2_chain_init(&ch, buf, size, 0);
  size_t prev_end = 0;
  while (smbx_smb2_chain_next(&ch, &pdu, &h, NULL) == 1) {
    size_t start = (size_t)(pdu.p - buf);
    if (start < prev_end || pdu.len < 64 || start + pdu.len > size)
      abort(); /* members are disjoint, ordered, in bounds */
    prev_end = start + pdu.len;
    one_pdu(pdu.p, pdu.len);
  }
  /* the whole input as one PDU too (decoders ignore NextCommand) */
  one_pdu(buf, size);
  free(buf);
  return 0;
}
