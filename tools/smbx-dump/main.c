/* SPDX-License-Identifier: MIT */
/* smbx-dump: pcap/pcapng (optionally gzip) or a raw Direct-TCP stream ->
 * JSON lines, one per SMB2 PDU, SMB Direct negotiate/credit-only message
 * and RDMA operation. See docs/smbx-dump.md. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

static const char usage[] =
    "usage: smbx-dump [--stats] FILE              pcap / pcapng (.gz too)\n"
    "       smbx-dump [--stats] --tcp-stream FILE raw Direct-TCP bytes\n"
    "       smbx-dump --help\n"
    "FILE '-' reads standard input. Output: one JSON object per line.\n"
    "\n"
    "Common fields of every record:\n"
    "  type       smb2 | smb2_transform | smb2_compressed | smb1 |\n"
    "             smbd_negotiate_req | smbd_negotiate_resp | smbd_data |\n"
    "             rdma_write | rdma_read | error\n"
    "  frame      capture frame (1-based) where the record's message\n"
    "             completed (--tcp-stream: message number)\n"
    "  first_frame  frame of its first byte, when different\n"
    "  transport  tcp | smbd (RoCEv2) | stream | capture\n"
    "  conn       connection index (per transport, in order of appearance)\n"
    "  direction  c2s | s2c | unknown\n"
    "type smb2 (one per PDU; compounds expanded in order):\n"
    "  index cmd cmd_name response flags async related signed msg_id\n"
    "  credit_charge credits_requested (requests) | credits_granted\n"
    "  (responses) status next_command session_id tree_id | async_id\n"
    "  pdu_length, smbd {credits_requested credits_granted flags fragments}\n"
    "  over SMB Direct, body {...} per command or body_error {reason offset}\n"
    "type smbd_negotiate_req / _resp / smbd_data (credit-only messages):\n"
    "  the [MS-SMBD] 2.2 fields by name (credits_requested, credits_granted,\n"
    "  status, max_* sizes, flags, remaining_data_length, data_offset,\n"
    "  data_length, invalidate_rkey for SEND with Invalidate)\n"
    "type rdma_write / rdma_read: va rkey length bytes complete;\n"
    "  direction is the side that performed the WRITE / issued the READ\n"
    "type error: layer reason offset (malformed input; decoding goes on)\n"
    "--stats prints a summary object to stderr at the end.\n"
    "body (decoded with libsmbx's codec; names in UTF-8, file_id\n"
    "{persistent volatile}, keys as hex):\n"
    "  NEGOTIATE   dialects negotiate_contexts[] | dialect max_*_size\n"
    "  CREATE      name desired_access share_access create_disposition\n"
    "              create_options oplock_level contexts[] | file_id\n"
    "              create_action end_of_file contexts[]; a context has tag\n"
    "              data_length and, for RqLs, lease_key lease_state\n"
    "              lease_flags lease_duration (v2: parent_lease_key epoch)\n"
    "  READ/WRITE  length offset file_id channel remaining_bytes\n"
    "              descriptors[{offset token length}] | data_length / count\n"
    "  QUERY_DIRECTORY  info_class pattern file_id | entries[{name ...}]\n"
    "  CHANGE_NOTIFY    completion_filter file_id | notify[{action name}]\n"
    "  OPLOCK_BREAK     form oplock|lease_break|lease_ack|lease_ack_response\n"
    "              with lease_key new_epoch current_state new_state ...\n"
    "  IOCTL       ctl_code file_id input_count | output_count interfaces[]\n"
    "  error-form responses: body.error {byte_count context_count}\n"
    "Full schema: docs/smbx-dump.md.\n";

static uint8_t *read_all(const char *path, size_t *len)
{
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "smbx-dump: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  while (buf) {
    if (n == cap) {
      uint8_t *nb = cap > ((size_t)4 << 30) ? NULL : realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    if (got == 0)
      break;
    n += got;
  }
  if (f != stdin)
    fclose(f);
  if (!buf)
    fprintf(stderr, "smbx-dump: %s: out of memory\n", path);
  *len = n;
  return buf;
}

int main(int argc, char **argv)
{
  bool stream = false, stats = false;
  const char *path = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(usage, stdout);
      return 0;
    } else if (strcmp(argv[i], "--tcp-stream") == 0) {
      stream = true;
    } else if (strcmp(argv[i], "--stats") == 0) {
      stats = true;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      fprintf(stderr, "smbx-dump: unknown option %s\n%s", argv[i], usage);
      return 2;
    } else if (!path) {
      path = argv[i];
    } else {
      fprintf(stderr, "smbx-dump: one FILE only\n");
      return 2;
    }
  }
  if (!path) {
    fputs(usage, stderr);
    return 2;
  }
  size_t len = 0;
  uint8_t *data = read_all(path, &len);
  if (!data)
    return 2;
  dump_opts o = {stdout, false};
  dump_ctx *d = dump_new(&o);
  if (!d) {
    free(data);
    return 2;
  }
  int rc = stream ? dump_tcp_stream(d, data, len) : dump_capture(d, data, len);
  dump_stats st;
  dump_finish(d, &st);
  free(data);
  if (stats)
    fprintf(stderr,
            "{\"frames\":%llu,\"smb2\":%llu,\"smbd\":%llu,\"rdma\":%llu,"
            "\"errors\":%llu}\n",
            (unsigned long long)st.frames, (unsigned long long)st.smb2,
            (unsigned long long)st.smbd, (unsigned long long)st.rdma,
            (unsigned long long)st.errors);
  return rc < 0 ? 1 : 0;
}
