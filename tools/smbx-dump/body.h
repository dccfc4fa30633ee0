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
/* Writes "body": {...} (and "body_error": {...} on a decode failure) for
 * one PDU. */
void dump_body(dump_ctx *d, const dump_src *src, jw *w, const uint8_t *pdu,
               size_t len, uint16_t cmd, bool resp, uint32_t status,
               uint64_t msg_id);
/* QUERY_DIRECTORY responses do not repeat the info class: remember it per
 * (transport, conn, msg_id) from the request (dump.c). */
void dump_remember_class(dump_ctx *d, const dump_src *src, uint64_t msg_id,
                         uint8_t cls);
int dump_lookup_class(dump_ctx *d, const dump_src *src, uint64_t msg_id);

#endif
