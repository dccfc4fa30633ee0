/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_io.h
 *  @brief SMB2 codec, I/O commands: READ/WRITE (with RDMA channel info),
 *         LOCK, IOCTL, QUERY_DIRECTORY, CHANGE_NOTIFY, QUERY_INFO/SET_INFO.
 *  Conventions: smbx/smb2_base.h. (Filled by the codec's part 2.)
 */
#ifndef SMBX_SMB2_IO_H
#define SMBX_SMB2_IO_H

#include <smbx/smb2_base.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMB2_IO_H */
