/* SPDX-License-Identifier: MIT */
/* posixfs (examples/server) parsers of client bytes: a security descriptor
 * (SET_INFO InfoType SECURITY) and an EA list (ExtA create context), on a
 * file of a posixfs tree in a temporary directory made once.
 *
 * Input: [op u8][secinfo u8][body...]
 *   op & 1  body is the ExtA list of an OVERWRITE_IF CREATE; then the EAs
 *           are listed (FileFullEaInformation) within the buffer
 *   else    body is set as the descriptor's secinfo parts; a success must
 *           read back (owner, group, DACL) within the buffer */
#define _GNU_SOURCE
#define FUZZ_POSIXFS_DIR "/tmp/fuzz-posixfs-XXXXXX"
#include "fuzz_posixfs_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 2)
    return 0;
  static uint8_t out[65536];
  static const uint8_t name[] = {'f', 0};
  posixfs *t = tree();
  posixfs_create_args a;
  memset(&a, 0, sizeof a);
  a.name = name;
  a.name_len = sizeof name;
  a.desired_access = POSIXFS_GENERIC_ALL;
  a.share_access = 7;
  a.create_disposition = POSIXFS_OVERWRITE_IF;
  if (data[0] & 1) {
    a.eas = data + 2;
    a.eas_len = size - 2;
  }
  posixfs_create_result r;
  uint32_t st = posixfs_create(t, &a, &r);
  if (st != SMBX_STATUS_SUCCESS) {
    CHECK(data[0] & 1); /* only a bad EA list may fail this CREATE */
    return 0;
  }
  uint32_t n = 0;
  if (data[0] & 1) {
    st = posixfs_query_info(t, r.file_id, SMBX_SMB2_0_INFO_FILE,
                            POSIXFS_FILE_FULL_EA_INFORMATION, out,
                            sizeof out, &n);
    CHECK(n <= sizeof out);
  } else {
    st = posixfs_set_security(t, r.file_id, data[1], data + 2, size - 2);
    uint32_t q = posixfs_query_security(t, r.file_id, POSIXFS_SECINFO_MASK,
                                        out, sizeof out, &n);
    CHECK(q == SMBX_STATUS_SUCCESS && n >= 20 && n <= sizeof out);
    (void)st;
  }
  CHECK(posixfs_close(t, r.file_id, NULL) == SMBX_STATUS_SUCCESS);
  return 0;
}
