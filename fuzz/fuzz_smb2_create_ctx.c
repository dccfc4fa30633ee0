/* SPDX-License-Identifier: MIT */
/* The create-context iterator on any bytes (a CreateContexts area), the
 * RqLs and fixed-layout data parsers on every context, and the builder:
 * re-encoding the reported contexts and walking them again must give the
 * same names and data in the same order. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXC 300

static smbx_smb2_create_ctx got[MAXC], again[MAXC];
static uint8_t out[1 << 17];

static int walk(const uint8_t *p, size_t n, smbx_smb2_create_ctx *c)
{
  smbx_smb2_create_ctx_iter it;
  smbx_smb2_bytes area = {p, n};
  smbx_smb2_create_ctx x;
  smbx_error_detail e = {NULL, 0};
  int rc, k = 0;
  smbx_smb2_create_ctx_iter_init(&it, area, 0);
  while ((rc = smbx_smb2_create_ctx_next(&it, &x, &e)) == 1) {
    /* views stay inside the area */
    if (x.name.p < p || x.name.p + x.name.len > p + n ||
        (x.data.len && (x.data.p < p || x.data.p + x.data.len > p + n)))
      abort();
    if (k >= MAXC)
      abort(); /* the iterator caps the count */
    c[k++] = x;
  }
  if (rc < 0) {
    if (!e.reason || e.offset > n)
      abort();
    if (smbx_smb2_create_ctx_next(&it, &x, NULL) != 0)
      abort(); /* finished after an error */
    return -1;
  }
  return k;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16)
    return 0;
  uint8_t *buf = malloc(size ? size : 1);
  if (!buf)
    return 0;
  if (size)
    memcpy(buf, data, size);
  int n = walk(buf, size, got);
  for (int i = 0; i < n; i++) {
    smbx_smb2_lease l;
    smbx_smb2_ctx_data d;
    uint8_t tmp[64];
    if (smbx_smb2_lease_decode(got[i].data, &l, NULL) == 0) {
      smbx_ssize m = smbx_smb2_lease_encode(&l, tmp, sizeof tmp, NULL);
      if (m != (smbx_ssize)got[i].data.len ||
          memcmp(tmp, got[i].data.p, got[i].data.len) != 0)
        abort();
    }
    for (int k = SMBX_SMB2_CTXD_DHNQ_REQ; k <= SMBX_SMB2_CTXD_ALSI_REQ; k++)
      if (smbx_smb2_ctx_data_decode(k, got[i].data, &d, NULL) == 0) {
        smbx_ssize m = smbx_smb2_ctx_data_encode(k, &d, tmp, sizeof tmp, NULL);
        if (m != (smbx_ssize)got[i].data.len ||
            (m > 0 && memcmp(tmp, got[i].data.p, (size_t)m) != 0))
          abort();
      }
    (void)smbx_smb2_create_ctx_tag(&got[i]);
  }
  if (n > 0) {
    size_t need = 0;
    smbx_ssize m = smbx_smb2_create_ctx_list_encode(got, (size_t)n, out,
                                                    sizeof out, &need);
    if (m >= 0) {
      int n2 = walk(out, (size_t)m, again);
      if (n2 != n)
        abort();
      for (int i = 0; i < n; i++)
        if (again[i].name.len != got[i].name.len ||
            again[i].data.len != got[i].data.len ||
            memcmp(again[i].name.p, got[i].name.p, got[i].name.len) != 0 ||
            (got[i].data.len &&
             memcmp(again[i].data.p, got[i].data.p, got[i].data.len) != 0))
          abort();
    } else if (m != SMBX_ERR_NOBUF && m != SMBX_ERR_RANGE) {
      abort();
    }
  }
  free(buf);
  return 0;
}
