/* SPDX-License-Identifier: MIT */
/* Per-command SMB2 body decoding into JSON (body.c), on top of libsmbx's
 * codec (include/smbx/smb2*.h). */
#ifndef SMBX_DUMP_BODY_H
#define SMBX_DUMP_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dump.h"

const char *dump_cmd_name(uint16_t cmd);
/* Writes "body": {...} (or "body_error": {...}) for one PDU. */
void dump_body(jw *w, const uint8_t *pdu, size_t len, uint16_t cmd, bool resp,
               uint32_t status);

#endif
