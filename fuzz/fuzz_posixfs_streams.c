/* SPDX-License-Identifier: MIT */
/* posixfs (examples/server) stream names from the client: the CREATE name
 * "f:" + hostile UTF-16LE bytes (stream name, type, more colons, '\',
 * NUL, bad surrogates) on the file "f" of a posixfs tree in a temporary
 * directory made once; a stream that opens is written, read back, listed
 * and resized, and "f" is deleted again (with its streams) every run.
 *
 * Input: [op u8][off u8][nlen u8][name nlen bytes][payload...]
 *   op % 6       CreateDisposition
 *   op & 0x08    DELETE_ON_CLOSE
 *   op & 0x10    DIRECTORY_FILE
 *   off          write offset of the payload */
#define _GNU_SOURCE
#define FUZZ_POSIXFS_DIR "/tmp/fuzz-posixfs-streams-XXXXXX"
#include "fuzz_posixfs_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t create(posixfs *t, const uint8_t *name, size_t len,
                       uint32_t access, uint32_t disp, uint32_t opts,
                       posixfs_create_result *r)
{
  posixfs_create_args a;
  memset(&a, 0, sizeof a);
  a.name = name;
  a.name_len = len;
  a.desired_access = access;
  a.share_access = 7;
  a.create_disposition = disp;
  a.create_options = opts;
  return posixfs_create(t, &a, r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 3 || size - 3 < data[2])
    return 0;
  static uint8_t name[4 + 255], buf[512], out[4096];
  posixfs *t = tree();
  size_t nlen = 4 + data[2];
  memcpy(name, "f\0:\0", 4);
  memcpy(name + 4, data + 3, data[2]);
  const uint8_t *payload = data + 3 + data[2];
  size_t plen = size - 3 - data[2];
  if (plen > sizeof buf)
    plen = sizeof buf;
  uint32_t opts = ((data[0] & 0x08) ? POSIXFS_DELETE_ON_CLOSE : 0) |
                  ((data[0] & 0x10) ? POSIXFS_DIRECTORY_FILE : 0);
  posixfs_create_result r;
  uint32_t st = create(t, name, nlen, POSIXFS_GENERIC_ALL, data[0] % 6u,
                       opts, &r);
  if (st == SMBX_STATUS_SUCCESS) {
    CHECK(posixfs_open_count(t) == 1);
    uint32_t n = 0, got = 0;
    st = posixfs_write(t, r.file_id, data[1], payload, (uint32_t)plen, &n);
    if (st == SMBX_STATUS_SUCCESS && plen) {
      CHECK(n == plen);
      CHECK(posixfs_read(t, r.file_id, data[1], buf, (uint32_t)plen, &got) ==
            SMBX_STATUS_SUCCESS);
      CHECK(got == plen && memcmp(buf, payload, plen) == 0);
    }
    st = posixfs_query_info(t, r.file_id, SMBX_SMB2_0_INFO_FILE,
                            POSIXFS_FILE_STREAM_INFORMATION, out, sizeof out,
                            &n);
    CHECK(n <= sizeof out);
    uint8_t eof[8] = {(uint8_t)(plen / 2)};
    (void)posixfs_set_info(t, r.file_id, SMBX_SMB2_0_INFO_FILE,
                           SMBX_SMB2_FILE_END_OF_FILE_INFORMATION, eof,
                           sizeof eof);
    CHECK(posixfs_close(t, r.file_id, NULL) == SMBX_STATUS_SUCCESS);
  }
  CHECK(posixfs_open_count(t) == 0);
  /* "f" goes with its streams: every run starts from nothing */
  if (create(t, name, 2, POSIXFS_DELETE, POSIXFS_OPEN,
             POSIXFS_DELETE_ON_CLOSE, &r) == SMBX_STATUS_SUCCESS)
    CHECK(posixfs_close(t, r.file_id, NULL) == SMBX_STATUS_SUCCESS);
  return 0;
}
