/* SPDX-License-Identifier: MIT */
/** @file smbx/smb2_session.h
 *  @brief SMB2 codec (placeholder, filled in step 2).
 */
#ifndef SMBX_SMB2_SESSION_H
#define SMBX_SMB2_SESSION_H

#include <smbx/smb2_base.h>

#endif /* SMBX_SMB2_SESSION_H */
