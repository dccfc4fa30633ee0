/* SPDX-License-Identifier: MIT */
/* lib/smb2 security internals (rank 1): how upper layers keep a host's
 * crypto table. The SMB2 helpers themselves are public (smbx/crypto.h). */
#ifndef SMBX_SMB2_SEC_H
#define SMBX_SMB2_SEC_H

#include <stdbool.h>

#include <smbx/crypto.h>

/* Copies a caller's crypto table honouring its struct_size: fields past it
 * (hooks added after the caller was compiled) become NULL. Returns
 * SMBX_ERR_INVAL for NULL arguments or a struct_size smaller than the
 * first two fields. */
int smbx__smb2_crypto_copy(smbx_crypto *dst, const smbx_crypto *src);

/* True when every hook a session with signing and encryption needs is
 * present (sha512, mac, aead_encrypt, aead_decrypt, kdf, random). */
bool smbx__smb2_crypto_complete(const smbx_crypto *cr);

/* Constant-time equality of two n-byte strings (no early exit). */
bool smbx__smb2_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
