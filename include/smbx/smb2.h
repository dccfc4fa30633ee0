/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2.h
 *  @brief SMB2/3 PDU codec (umbrella header): stateless, zero-copy
 *         encode/decode of every command. Conventions: smbx/smb2_base.h.
 */
#ifndef SMBX_SMB2_H
#define SMBX_SMB2_H

#include <smbx/smb2_base.h>
#include <smbx/smb2_session.h>
#include <smbx/smb2_file.h>
#include <smbx/smb2_io.h>

#endif /* SMBX_SMB2_H */
