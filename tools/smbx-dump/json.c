/* SPDX-License-Identifier: MIT */
/* A tiny JSON writer into a growing buffer (one record at a time). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

void jw_init(jw *w)
{
  memset(w, 0, sizeof *w);
}

void jw_free(jw *w)
{
  free(w->buf);
  memset(w, 0, sizeof *w);
}

void jw_reset(jw *w)
{
  w->len = 0;
  w->depth = 0;
  w->oom = false;
  memset(w->need_comma, 0, sizeof w->need_comma);
}

static void put(jw *w, const char *s, size_t n)
{
  if (w->oom)
    return;
  if (w->cap - w->len < n + 1) {
    size_t nc = w->cap ? w->cap : 256;
    while (nc - w->len < n + 1) {
      if (nc > ((size_t)1 << 30)) {
        w->oom = true;
        return;
      }
      nc *= 2;
    }
    char *nb = realloc(w->buf, nc);
    if (!nb) {
      w->oom = true;
      return;
    }
    w->buf = nb;
    w->cap = nc;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
  w->buf[w->len] = 0;
}

static void puts_(jw *w, const char *s)
{
  put(w, s, strlen(s));
}

static void key(jw *w, const char *k)
{
  if (w->depth > 0 && w->depth < 32) {
    if (w->need_comma[w->depth])
      put(w, ",", 1);
    w->need_comma[w->depth] = true;
  }
  if (k) {
    put(w, "\"", 1);
    puts_(w, k);
    put(w, "\":", 2);
  }
}

void jw_obj(jw *w, const char *k)
{
  key(w, k);
  put(w, "{", 1);
  if (w->depth < 31)
    w->depth++;
  w->need_comma[w->depth] = false;
}

void jw_end_obj(jw *w)
{
  put(w, "}", 1);
  if (w->depth > 0)
    w->depth--;
}

void jw_arr(jw *w, const char *k)
{
  key(w, k);
  put(w, "[", 1);
  if (w->depth < 31)
    w->depth++;
  w->need_comma[w->depth] = false;
}

void jw_end_arr(jw *w)
{
  put(w, "]", 1);
  if (w->depth > 0)
    w->depth--;
}

void jw_u64(jw *w, const char *k, uint64_t v)
{
  char b[32];
  key(w, k);
  int n = snprintf(b, sizeof b, "%" PRIu64, v);
  put(w, b, (size_t)n);
}

void jw_i64(jw *w, const char *k, int64_t v)
{
  char b[32];
  key(w, k);
  int n = snprintf(b, sizeof b, "%" PRId64, v);
  put(w, b, (size_t)n);
}

void jw_bool(jw *w, const char *k, bool v)
{
  key(w, k);
  puts_(w, v ? "true" : "false");
}

void jw_null(jw *w, const char *k)
{
  key(w, k);
  puts_(w, "null");
}

static void esc_cp(jw *w, uint32_t c)
{
  char b[16];
  if (c == '"')
    put(w, "\\\"", 2);
  else if (c == '\\')
    put(w, "\\\\", 2);
  else if (c == '\n')
    put(w, "\\n", 2);
  else if (c == '\r')
    put(w, "\\r", 2);
  else if (c == '\t')
    put(w, "\\t", 2);
  else if (c < 0x20 || c == 0x7f) {
    int n = snprintf(b, sizeof b, "\\u%04x", (unsigned)c);
    put(w, b, (size_t)n);
  } else if (c < 0x80) {
    b[0] = (char)c;
    put(w, b, 1);
  } else if (c < 0x800) {
    b[0] = (char)(0xC0 | c >> 6);
    b[1] = (char)(0x80 | (c & 0x3F));
    put(w, b, 2);
  } else if (c < 0x10000) {
    b[0] = (char)(0xE0 | c >> 12);
    b[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    b[2] = (char)(0x80 | (c & 0x3F));
    put(w, b, 3);
  } else {
    b[0] = (char)(0xF0 | c >> 18);
    b[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    b[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    b[3] = (char)(0x80 | (c & 0x3F));
    put(w, b, 4);
  }
}

void jw_str(jw *w, const char *k, const char *s)
{
  jw_strn(w, k, (const uint8_t *)s, s ? strlen(s) : 0);
}

void jw_strn(jw *w, const char *k, const uint8_t *s, size_t n)
{
  key(w, k);
  put(w, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c < 0x80) {
      esc_cp(w, c);
      continue;
    }
    /* pass valid UTF-8 through, escape anything else byte-wise */
    size_t need = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    bool ok = need && n - i >= need;
    for (size_t j = 1; ok && j < need; j++)
      ok = (s[i + j] & 0xC0) == 0x80;
    if (ok) {
      put(w, (const char *)s + i, need);
      i += need - 1;
    } else {
      esc_cp(w, 0xFFFD);
    }
  }
  put(w, "\"", 1);
}

void jw_hex(jw *w, const char *k, const uint8_t *p, size_t n)
{
  static const char hx[] = "0123456789abcdef";
  key(w, k);
  put(w, "\"", 1);
  for (size_t i = 0; i < n; i++) {
    char b[2] = {hx[p[i] >> 4], hx[p[i] & 15]};
    put(w, b, 2);
  }
  put(w, "\"", 1);
}

void jw_utf16(jw *w, const char *k, const uint8_t *p, size_t n)
{
  key(w, k);
  put(w, "\"", 1);
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint32_t c = le16(p + i);
    if (c >= 0xD800 && c < 0xDC00 && i + 3 < n) {
      uint32_t c2 = le16(p + i + 2);
      if (c2 >= 0xDC00 && c2 < 0xE000) {
        esc_cp(w, 0x10000 + ((c - 0xD800) << 10) + (c2 - 0xDC00));
        i += 2;
        continue;
      }
    }
    if (c >= 0xD800 && c < 0xE000)
      c = 0xFFFD;
    esc_cp(w, c);
  }
  put(w, "\"", 1);
}

void jw_guid(jw *w, const char *k, const uint8_t *p)
{
  char b[40];
  key(w, k);
  int n = snprintf(b, sizeof b,
                   "\"%08x-%04x-%04x-%02x%02x-%02x%02x%02x%02x%02x%02x\"",
                   (unsigned)le32(p), (unsigned)le16(p + 4),
                   (unsigned)le16(p + 6), p[8], p[9], p[10], p[11], p[12],
                   p[13], p[14], p[15]);
  put(w, b, (size_t)n);
}
