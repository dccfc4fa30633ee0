/* SPDX-License-Identifier: MIT */
/* Direct TCP framer: input = [max_frame u16][ (feed_len u8, bytes...)* ].
 * The stream (every feed's bytes, concatenated) is also framed by a naive
 * reference parser; both must yield the same messages and the same error
 * position, whatever the split. In-place views must point into the feed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/tcp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ref_msg {
  size_t off, len; /* body position in the concatenated stream */
} ref_msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2 || size > 1 << 16)
    return 0;
  uint32_t max_frame = 1u + ((uint32_t)data[0] | (uint32_t)data[1] << 8);
  data += 2;
  size -= 2;

  /* concatenated stream and the feed boundaries */
  uint8_t *stream = malloc(size ? size : 1);
  size_t slen = 0;
  if (!stream)
    return 0;
  static size_t feeds[4096][2];
  size_t nfeeds = 0;
  for (size_t i = 0; i < size && nfeeds < 4096;) {
    size_t n = (size_t)data[i++] + 1;
    if (n > size - i)
      n = size - i;
    memcpy(stream + slen, data + i, n);
    feeds[nfeeds][0] = slen;
    feeds[nfeeds][1] = n;
    nfeeds++;
    slen += n;
    i += n;
  }

  /* reference */
  static ref_msg ref[1 << 16];
  size_t nref = 0, pos = 0;
  int ref_err = 0;
  while (slen - pos >= 4) {
    uint32_t n = (uint32_t)stream[pos + 1] << 16 |
                 (uint32_t)stream[pos + 2] << 8 | stream[pos + 3];
    if (stream[pos] != 0 || n == 0 || n > max_frame) {
      ref_err = 1;
      break;
    }
    if (slen - pos - 4 < n)
      break;
    ref[nref].off = pos + 4;
    ref[nref].len = n;
    nref++;
    pos += 4 + n;
  }
  if (!ref_err && slen - pos > 0 && stream[pos] != 0)
    ref_err = 1;

  smbx_tcp_framer *f = NULL;
  if (smbx_tcp_framer_new(&f, max_frame, NULL) != 0)
    abort();
  size_t got = 0, spos = 0;
  int err = 0;
  for (size_t k = 0; k < nfeeds && !err; k++) {
    const uint8_t *p = stream + feeds[k][0];
    size_t len = feeds[k][1], o = 0;
    while (o < len) {
      smbx_tcp_pdu pdu;
      size_t used = 0;
      int rc = smbx_tcp_framer_feed(f, p + o, len - o, &used, &pdu);
      if (used > len - o)
        abort();
      o += used;
      spos += used;
      if (smbx_tcp_framer_pending(f) > max_frame + 3)
        abort();
      if (rc < 0) {
        if (rc != SMBX_ERR_PROTO)
          abort();
        smbx_error_detail d;
        if (smbx_tcp_framer_error_detail(f, &d) != SMBX_ERR_PROTO || !d.reason)
          abort();
        if (smbx_tcp_framer_feed(f, p, len, &used, &pdu) != SMBX_ERR_PROTO ||
            used != 0)
          abort();
        err = 1;
        break;
      }
      if (rc == 0) {
        if (o != len)
          abort();
        break;
      }
      if (got >= nref || pdu.len != ref[got].len ||
          pdu.stream_offset + 4 != ref[got].off ||
          spos != ref[got].off + ref[got].len ||
          memcmp(pdu.data, stream + ref[got].off, pdu.len) != 0)
        abort();
      if (!pdu.copied && (pdu.data < p || pdu.data + pdu.len > p + len))
        abort();
      /* a body lying wholly inside this feed must not have been copied */
      if (pdu.copied && ref[got].off >= feeds[k][0])
        abort();
      got++;
    }
  }
  if (got != nref || err != ref_err)
    abort();
  smbx_tcp_framer_free(f);
  free(stream);
  return 0;
}
