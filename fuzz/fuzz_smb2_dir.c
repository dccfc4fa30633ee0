/* SPDX-License-Identifier: MIT */
/* Directory, notify and network-interface iterators (smbx/smb2_io.h).
 * The first input byte picks the iterator: 0-6 the QUERY_DIRECTORY classes
 * 1, 2, 3, 12, 37, 38, 60; 7 FILE_NOTIFY_INFORMATION; 8
 * NETWORK_INTERFACE_INFO; 9 SMB2_RDMA_TRANSFORM. Oracles: never read out
 * of bounds (ASan), views stay inside the input, and every accepted entry
 * rebuilt by the builders decodes to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t classes[7] = {1, 2, 3, 12, 37, 38, 60};

#define MAX_ENTRIES 512

static void inside(const uint8_t *base, size_t len, smbx_smb2_bytes v)
{
  if (v.len && (v.p < base || v.p + v.len > base + len))
    abort();
}

static void same_dir(const smbx_smb2_dir_entry *a, const smbx_smb2_dir_entry *b)
{
  if (a->file_index != b->file_index || a->creation_time != b->creation_time ||
      a->change_time != b->change_time || a->end_of_file != b->end_of_file ||
      a->file_attributes != b->file_attributes || a->ea_size != b->ea_size ||
      a->reparse_tag != b->reparse_tag || a->file_id != b->file_id ||
      memcmp(a->file_id_128, b->file_id_128, 16) != 0 ||
      a->file_name.len != b->file_name.len ||
      (a->file_name.len &&
       memcmp(a->file_name.p, b->file_name.p, a->file_name.len) != 0) ||
      a->short_name.len != b->short_name.len ||
      (a->short_name.len &&
       memcmp(a->short_name.p, b->short_name.p, a->short_name.len) != 0))
    abort();
}

static void fuzz_dir(uint8_t cls, const uint8_t *p, size_t n)
{
  static smbx_smb2_dir_entry ents[MAX_ENTRIES];
  static uint8_t out[1 << 17];
  smbx_smb2_dir_iter it;
  if (smbx_smb2_dir_iter_init(&it, cls, p, n) != 0)
    abort();
  size_t count = 0;
  smbx_smb2_dir_entry e;
  int rc;
  while ((rc = smbx_smb2_dir_iter_next(&it, &e, NULL)) == 1) {
    inside(p, n, e.file_name);
    inside(p, n, e.short_name);
    if (e.file_name.len % 2 || e.short_name.len > 24)
      abort();
    if (count < MAX_ENTRIES)
      ents[count] = e;
    count++;
  }
  if (smbx_smb2_dir_iter_next(&it, &e, NULL) != 0) /* sticky end */
    abort();
  if (count > MAX_ENTRIES)
    count = MAX_ENTRIES;
  smbx_smb2_dir_builder b;
  if (smbx_smb2_dir_builder_init(&b, cls, out, sizeof out) != 0)
    abort();
  size_t built = 0;
  for (; built < count; built++)
    if (smbx_smb2_dir_builder_add(&b, &ents[built]) != 0)
      break;
  if (smbx_smb2_dir_iter_init(&it, cls, out, b.len) != 0)
    abort();
  for (size_t i = 0; i < built; i++) {
    if (smbx_smb2_dir_iter_next(&it, &e, NULL) != 1)
      abort();
    same_dir(&ents[i], &e);
  }
  if (smbx_smb2_dir_iter_next(&it, &e, NULL) != 0)
    abort();
}

static void fuzz_notify(const uint8_t *p, size_t n)
{
  static smbx_smb2_notify_entry ents[MAX_ENTRIES];
  static uint8_t out[1 << 17];
  smbx_smb2_notify_iter it;
  smbx_smb2_notify_entry e;
  if (smbx_smb2_notify_iter_init(&it, p, n) != 0)
    abort();
  size_t count = 0;
  while (smbx_smb2_notify_iter_next(&it, &e, NULL) == 1) {
    inside(p, n, e.file_name);
    if (count < MAX_ENTRIES)
      ents[count] = e;
    count++;
  }
  if (count > MAX_ENTRIES)
    count = MAX_ENTRIES;
  smbx_smb2_notify_builder b;
  if (smbx_smb2_notify_builder_init(&b, out, sizeof out) != 0)
    abort();
  size_t built = 0;
  for (; built < count; built++)
    if (smbx_smb2_notify_builder_add(&b, &ents[built]) != 0)
      break;
  if (smbx_smb2_notify_iter_init(&it, out, b.len) != 0)
    abort();
  for (size_t i = 0; i < built; i++) {
    if (smbx_smb2_notify_iter_next(&it, &e, NULL) != 1 ||
        e.action != ents[i].action ||
        e.file_name.len != ents[i].file_name.len ||
        (e.file_name.len &&
         memcmp(e.file_name.p, ents[i].file_name.p, e.file_name.len) != 0))
      abort();
  }
}

static void fuzz_netif(const uint8_t *p, size_t n)
{
  static smbx_smb2_netif ents[MAX_ENTRIES];
  static uint8_t out[MAX_ENTRIES * SMBX_SMB2_NETIF_SIZE];
  smbx_smb2_netif_iter it;
  smbx_smb2_netif e;
  if (smbx_smb2_netif_iter_init(&it, p, n) != 0)
    abort();
  size_t count = 0;
  while (smbx_smb2_netif_iter_next(&it, &e, NULL) == 1)
    if (count < MAX_ENTRIES)
      ents[count++] = e;
  if (!count)
    return;
  smbx_ssize w = smbx_smb2_netif_encode(ents, count, out, sizeof out, NULL);
  if (w != (smbx_ssize)(count * SMBX_SMB2_NETIF_SIZE))
    abort();
  if (smbx_smb2_netif_iter_init(&it, out, (size_t)w) != 0)
    abort();
  for (size_t i = 0; i < count; i++) {
    if (smbx_smb2_netif_iter_next(&it, &e, NULL) != 1 ||
        e.if_index != ents[i].if_index || e.family != ents[i].family ||
        e.link_speed != ents[i].link_speed ||
        memcmp(e.addr, ents[i].addr, 16) != 0)
      abort();
  }
}

static void fuzz_transform(const uint8_t *p, size_t n)
{
  smbx_smb2_rdma_transform t;
  if (smbx_smb2_rdma_transform_decode(p, n, &t, NULL) != 0)
    return;
  inside(p, n, t.transforms);
  inside(p, n, t.descs.bytes);
  size_t off = 0;
  smbx_smb2_rdma_crypto_transform x;
  uint32_t k = 0;
  int rc;
  while ((rc = smbx_smb2_rdma_transform_next(&t, &off, &x)) == 1) {
    inside(p, n, x.signature);
    inside(p, n, x.nonce);
    k++;
  }
  if (rc != 0 || k != t.transform_count)
    abort();
  smbx_smb2_buffer_desc d;
  for (uint32_t i = 0; i < t.descs.count; i++)
    if (smbx_smb2_desc_list_get(&t.descs, i, &d) != 0)
      abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > (1 << 16))
    return 0;
  uint8_t sel = data[0];
  /* an exact-size copy so any overread is caught */
  size_t n = size - 1;
  uint8_t *p = malloc(n ? n : 1);
  if (!p)
    return 0;
  memcpy(p, data + 1, n);
  if (sel < 7)
    fuzz_dir(classes[sel], p, n);
  else if (sel == 7)
    fuzz_notify(p, n);
  else if (sel == 8)
    fuzz_netif(p, n);
  else if (sel == 9)
    fuzz_transform(p, n);
  free(p);
  return 0;
}
