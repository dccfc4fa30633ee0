/* SPDX-License-Identifier: MIT */
/* Capture containers: classic pcap (both byte orders, us/ns), pcapng
 * (SHB/IDB/EPB/SPB/OPB, several sections and interfaces), either one
 * gzip-compressed. Frames are numbered from 1 like tshark's frame.number. */
#include <stdlib.h>
#include <string.h>

#ifdef SMBX_DUMP_HAVE_ZLIB
#include <zlib.h>
#endif

#include "dump.h"

#define MAX_INFLATED ((size_t)2 << 30)
#define MAX_IFACES 256

uint8_t *dump_gunzip(const uint8_t *data, size_t len, size_t *out_len,
                     const char **err)
{
#ifdef SMBX_DUMP_HAVE_ZLIB
  size_t cap = len * 4 + 4096, n = 0;
  uint8_t *out = malloc(cap);
  if (!out) {
    *err = "out of memory";
    return NULL;
  }
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 32) != Z_OK) {
    free(out);
    *err = "inflateInit failed";
    return NULL;
  }
  size_t in_off = 0;
  for (;;) {
    if (cap - n < 65536) {
      if (cap >= MAX_INFLATED) {
        *err = "decompressed capture too large";
        goto fail;
      }
      size_t nc = cap * 2;
      uint8_t *nb = realloc(out, nc);
      if (!nb) {
        *err = "out of memory";
        goto fail;
      }
      out = nb;
      cap = nc;
    }
    size_t in_chunk = len - in_off > (1u << 30) ? (1u << 30) : len - in_off;
    z.next_in = (Bytef *)(uintptr_t)(data + in_off);
    z.avail_in = (uInt)in_chunk;
    size_t out_chunk = cap - n > (1u << 30) ? (1u << 30) : cap - n;
    z.next_out = out + n;
    z.avail_out = (uInt)out_chunk;
    int rc = inflate(&z, Z_NO_FLUSH);
    in_off += in_chunk - z.avail_in;
    n += out_chunk - z.avail_out;
    if (rc == Z_STREAM_END) {
      /* concatenated gzip members: go on if another one follows */
      if (len - in_off >= 2 && data[in_off] == 0x1f && data[in_off + 1] == 0x8b) {
        inflateReset(&z);
        continue;
      }
      break;
    }
    if (rc == Z_BUF_ERROR && z.avail_in == 0 && in_off == len) {
      *err = "gzip stream truncated";
      /* keep what was inflated: a cut capture is still worth reading */
      break;
    }
    if (rc != Z_OK && rc != Z_BUF_ERROR) {
      *err = "gzip stream corrupt";
      if (n == 0)
        goto fail;
      break;
    }
  }
  inflateEnd(&z);
  *out_len = n;
  return out;
fail:
  inflateEnd(&z);
  free(out);
  return NULL;
#else
  (void)data;
  (void)len;
  (void)out_len;
  *err = "gzip support not built (zlib missing)";
  return NULL;
#endif
}

static uint32_t rd32(const uint8_t *p, bool swap)
{
  return swap ? be32(p) : le32(p);
}

static uint16_t rd16(const uint8_t *p, bool swap)
{
  return swap ? be16(p) : le16(p);
}

static int read_pcap(dump_ctx *d, const uint8_t *p, size_t len)
{
  dump_src src = {0, 0, "capture", 0, -1};
  if (len < 24) {
    dump_error(d, &src, "capture", "pcap: global header truncated", 0);
    return -1;
  }
  uint32_t magic = le32(p);
  bool swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
  uint32_t linktype = rd32(p + 20, swap) & 0x0FFFFFFFu;
  size_t off = 24;
  uint64_t frame = 0;
  while (len - off >= 16) {
    uint32_t incl = rd32(p + off + 8, swap);
    frame++;
    if (incl > len - off - 16) {
      src.frame = frame;
      dump_error(d, &src, "capture", "pcap: record truncated", off);
      return 0;
    }
    dump_packet(d, frame, linktype, p + off + 16, incl);
    off += 16 + (size_t)incl;
  }
  if (off != len) {
    src.frame = frame;
    dump_error(d, &src, "capture", "pcap: trailing bytes after last record",
               off);
  }
  return 0;
}

static int read_pcapng(dump_ctx *d, const uint8_t *p, size_t len)
{
  dump_src src = {0, 0, "capture", 0, -1};
  size_t off = 0;
  bool swap = false, have_shb = false;
  uint32_t links[MAX_IFACES];
  uint32_t nif = 0;
  uint64_t frame = 0;
  while (len - off >= 12) {
    uint32_t type = rd32(p + off, swap);
    if (type == 0x0A0D0D0Au) {
      /* section header: its byte-order magic decides the section's order */
      if (len - off < 28) {
        dump_error(d, &src, "capture", "pcapng: SHB truncated", off);
        return have_shb ? 0 : -1;
      }
      uint32_t bom = le32(p + off + 8);
      if (bom == 0x1A2B3C4Du)
        swap = false;
      else if (bom == 0x4D3C2B1Au)
        swap = true;
      else {
        dump_error(d, &src, "capture", "pcapng: bad byte-order magic", off + 8);
        return have_shb ? 0 : -1;
      }
      have_shb = true;
      nif = 0;
    } else if (!have_shb) {
      dump_error(d, &src, "capture", "pcapng: no section header", off);
      return -1;
    }
    uint32_t blen = rd32(p + off + 4, swap);
    if (blen < 12 || blen % 4 != 0 || blen > len - off) {
      src.frame = frame;
      dump_error(d, &src, "capture", "pcapng: bad block length", off + 4);
      return 0;
    }
    const uint8_t *b = p + off;
    size_t body = blen - 12; /* bytes between the length fields */
    switch (type) {
    case 1: /* interface description */
      if (body >= 8 && nif < MAX_IFACES)
        links[nif++] = rd16(b + 8, swap);
      else if (nif >= MAX_IFACES)
        dump_error(d, &src, "capture", "pcapng: too many interfaces", off);
      break;
    case 6:   /* enhanced packet */
    case 2: { /* obsolete packet */
      frame++;
      src.frame = frame;
      if (body < 20) {
        dump_error(d, &src, "capture", "pcapng: packet block truncated", off);
        break;
      }
      uint32_t ifid = type == 6 ? rd32(b + 8, swap) : rd16(b + 8, swap);
      uint32_t cap = rd32(b + 20, swap);
      if (cap > body - 20) {
        dump_error(d, &src, "capture", "pcapng: captured length past block",
                   off + 20);
        break;
      }
      if (ifid >= nif) {
        dump_error(d, &src, "capture", "pcapng: unknown interface", off + 8);
        break;
      }
      dump_packet(d, frame, links[ifid], b + 28, cap);
      break;
    }
    case 3: { /* simple packet: interface 0 */
      frame++;
      src.frame = frame;
      if (body < 4 || nif == 0) {
        dump_error(d, &src, "capture", "pcapng: bad simple packet block", off);
        break;
      }
      uint32_t orig = rd32(b + 8, swap);
      size_t cap = body - 4 < orig ? body - 4 : orig;
      dump_packet(d, frame, links[0], b + 12, cap);
      break;
    }
    default:
      break; /* name resolution, statistics, custom...: skipped */
    }
    off += blen;
  }
  if (off != len) {
    src.frame = frame;
    dump_error(d, &src, "capture", "pcapng: trailing bytes after last block",
               off);
  }
  return 0;
}

int dump_capture(dump_ctx *d, const uint8_t *data, size_t len)
{
  dump_src src = {0, 0, "capture", 0, -1};
  if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b) {
    const char *err = NULL;
    size_t n = 0;
    uint8_t *plain = dump_gunzip(data, len, &n, &err);
    if (!plain) {
      dump_error(d, &src, "capture", err, 0);
      return -1;
    }
    if (err)
      dump_error(d, &src, "capture", err, 0);
    int rc = -1;
    if (n >= 2 && plain[0] == 0x1f && plain[1] == 0x8b)
      dump_error(d, &src, "capture", "nested gzip", 0);
    else
      rc = dump_capture(d, plain, n);
    free(plain);
    return rc;
  }
  if (len < 4) {
    dump_error(d, &src, "capture", "file too short", 0);
    return -1;
  }
  uint32_t m = le32(data);
  if (m == 0xa1b2c3d4u || m == 0xd4c3b2a1u || m == 0xa1b23c4du ||
      m == 0x4d3cb2a1u)
    return read_pcap(d, data, len);
  if (m == 0x0A0D0D0Au)
    return read_pcapng(d, data, len);
  dump_error(d, &src, "capture", "not a pcap, pcapng or gzip file", 0);
  return -1;
}
