/* SPDX-License-Identifier: MIT */
/* SMB Direct stateless codec: never crash; whatever decodes re-encodes to
 * the same bytes (negotiate, data header, buffer descriptors). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smbd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t out[1 << 16];
  if (size > sizeof out)
    return 0;
  smbx_error_detail det;
  smbx_smbd_negotiate_req q;
  if (smbx_smbd_decode_negotiate_req(data, size, &q, &det) == 0) {
    if (smbx_smbd_encode_negotiate_req(&q, out, sizeof out) != 20 ||
        memcmp(out, data, 20) != 0)
      abort();
  }
  smbx_smbd_negotiate_resp r;
  if (smbx_smbd_decode_negotiate_resp(data, size, &r, &det) == 0) {
    if (smbx_smbd_encode_negotiate_resp(&r, out, sizeof out) != 32 ||
        memcmp(out, data, 32) != 0)
      abort();
  }
  for (uint32_t strict = 0; strict < 2; strict++) {
    smbx_smbd_data m;
    if (smbx_smbd_decode_data(data, size, 131072, strict, &m, &det) == 0) {
      if ((uint64_t)m.data_offset + m.data_length > size)
        abort();
      if (m.data_length && m.data_offset >= 24) {
        int n = smbx_smbd_encode_data(&m, out, sizeof out);
        if (n < 0 || (size_t)n != (size_t)m.data_offset + m.data_length ||
            memcmp(out, data, 24) != 0 ||
            memcmp(out + m.data_offset, m.payload, m.data_length) != 0)
          abort();
      }
    } else if (det.reason == NULL) {
      abort();
    }
  }
  size_t n = 0;
  static smbx_smbd_buffer_desc bd[4096];
  if (smbx_smbd_decode_buffer_descs(data, size, bd, 4096, &n, &det) == 0) {
    if (smbx_smbd_encode_buffer_descs(bd, n, out, sizeof out) != (int)(n * 16) ||
        memcmp(out, data, n * 16) != 0)
      abort();
  }
  return 0;
}
