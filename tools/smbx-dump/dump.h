/* SPDX-License-Identifier: MIT */
/* smbx-dump internals: capture readers, TCP and RoCEv2 reassembly, JSON
 * output. A tool, not part of libsmbx: it may use stdio and malloc. Every
 * input byte is hostile: all parsing is bounds-checked and every buffer is
 * capped, so a malformed capture yields error records, never a crash. */
#ifndef SMBX_DUMP_H
#define SMBX_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- JSON line writer (json.c) ---- */
typedef struct jw {
  char *buf;
  size_t len, cap;
  int depth;
  bool need_comma[32];
  bool oom;
} jw;

void jw_init(jw *w);
void jw_free(jw *w);
void jw_reset(jw *w);
void jw_obj(jw *w, const char *key);  /* key NULL inside arrays / at top */
void jw_end_obj(jw *w);
void jw_arr(jw *w, const char *key);
void jw_end_arr(jw *w);
void jw_u64(jw *w, const char *key, uint64_t v);
void jw_i64(jw *w, const char *key, int64_t v);
void jw_bool(jw *w, const char *key, bool v);
void jw_null(jw *w, const char *key);
void jw_str(jw *w, const char *key, const char *s);
/* raw bytes as a JSON string (escaped; invalid UTF-8 bytes as \u00XX) */
void jw_strn(jw *w, const char *key, const uint8_t *s, size_t n);
void jw_hex(jw *w, const char *key, const uint8_t *p, size_t n);
/* UTF-16LE bytes as a UTF-8 JSON string (lone surrogates as U+FFFD) */
void jw_utf16(jw *w, const char *key, const uint8_t *p, size_t n);
/* 16-byte GUID in the usual text form */
void jw_guid(jw *w, const char *key, const uint8_t *p);

/* ---- the dump context ---- */
typedef struct dump_ctx dump_ctx;

typedef struct dump_opts {
  FILE *out;        /* JSON lines go here (NULL: discard, for fuzzing) */
  bool payload_hex; /* include PDU bytes as hex (debug) */
} dump_opts;

dump_ctx *dump_new(const dump_opts *o);
/* Counters for tests and the summary line. */
typedef struct dump_stats {
  uint64_t frames, smb2, smbd, rdma, errors;
} dump_stats;
/* Flushes what is pending (incomplete RDMA operations, truncated streams)
 * as records, stores the final counters in *st (optional) and frees
 * everything. */
void dump_finish(dump_ctx *d, dump_stats *st);

/* Whole capture in memory (pcap, pcapng or gzip of either). Returns 0, or
 * -1 when the container itself is unreadable (an error record is written);
 * damage inside is reported per packet and reading goes on. */
int dump_capture(dump_ctx *d, const uint8_t *data, size_t len);
/* A raw Direct-TCP byte stream (one direction; SMB2 direction comes from
 * the PDUs' SERVER_TO_REDIR flag). */
int dump_tcp_stream(dump_ctx *d, const uint8_t *data, size_t len);

/* gzip/zlib inflate (capture.c). Returns a malloc'ed buffer or NULL. */
uint8_t *dump_gunzip(const uint8_t *data, size_t len, size_t *out_len,
                     const char **err);

/* ---- shared between the files (internal) ---- */
typedef struct dump_src {
  uint64_t frame;     /* frame where the message completed */
  uint64_t first_frame;
  const char *transport; /* "tcp", "smbd", "stream" */
  uint32_t conn;      /* conversation index */
  int dir;            /* 0 client->server, 1 server->client, -1 unknown */
} dump_src;

/* Emits one record per SMB2 PDU of a transport message (compounds
 * expanded), or a transform/compression/SMB1/error record. smbd (optional)
 * adds the SMB Direct header of the message's last fragment. */
typedef struct dump_smbd_info {
  uint16_t credits_requested, credits_granted, flags;
  uint32_t fragments;
} dump_smbd_info;
void dump_smb2_message(dump_ctx *d, const dump_src *src, const uint8_t *p,
                       size_t len, const dump_smbd_info *smbd);
/* An error record. */
void dump_error(dump_ctx *d, const dump_src *src, const char *what,
                const char *reason, uint64_t offset);
/* Writes the common prefix fields (frame, transport, conn, dir) into w. */
void dump_src_fields(jw *w, const dump_src *src);
/* Emits the finished record in w as one line. */
void dump_emit(dump_ctx *d, jw *w, int kind);
enum { DUMP_K_SMB2, DUMP_K_SMBD, DUMP_K_RDMA, DUMP_K_ERROR, DUMP_K_OTHER };
jw *dump_jw(dump_ctx *d);

/* packet layer (net.c): one captured frame */
void dump_packet(dump_ctx *d, uint64_t frame, uint32_t linktype,
                 const uint8_t *p, size_t len);

/* RoCEv2 (roce.c): a UDP/4791 payload between two addresses */
typedef struct roce_state roce_state;
roce_state *roce_new(void);
void roce_free(dump_ctx *d, roce_state *r);
void roce_packet(dump_ctx *d, roce_state *r, uint64_t frame,
                 const uint8_t *src_ip, const uint8_t *dst_ip, size_t iplen,
                 const uint8_t *p, size_t len);

/* TCP (tcp.c) */
typedef struct tcp_table tcp_table;
tcp_table *tcp_table_new(void);
void tcp_table_free(dump_ctx *d, tcp_table *t);
void tcp_segment(dump_ctx *d, tcp_table *t, uint64_t frame,
                 const uint8_t *src_ip, const uint8_t *dst_ip, size_t iplen,
                 const uint8_t *tcp, size_t tcplen, size_t paylen);

roce_state *dump_roce(dump_ctx *d);
tcp_table *dump_tcp(dump_ctx *d);

/* big-endian helpers */
static inline uint16_t be16(const uint8_t *p)
{
  return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t be24(const uint8_t *p)
{
  return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}
static inline uint32_t be32(const uint8_t *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
         p[3];
}
static inline uint64_t be64(const uint8_t *p)
{
  return (uint64_t)be32(p) << 32 | be32(p + 4);
}
static inline uint16_t le16(const uint8_t *p)
{
  return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p)
{
  return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

#endif
