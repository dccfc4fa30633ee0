/* SPDX-License-Identifier: MIT */
/* lib/smb2 validation internals for upper layers (rank 1). */
#ifndef SMBX_SMB2_VALIDATE_H
#define SMBX_SMB2_VALIDATE_H

#include <smbx/smb2.h>

/* smbx_smb2_pdu_validate() for a caller holding the PDU's decoded header
 * already (smbx_smb2_chain_next() decoded it): the checks that follow the
 * header decode (known Command, NextCommand, body StructureSize), with the
 * same results and error details, without decoding the header again. */
int smbx__smb2_pdu_check(const uint8_t *p, size_t len, const smbx_smb2_hdr *h,
                         smbx_error_detail *err);

#endif
