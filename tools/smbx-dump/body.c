/* SPDX-License-Identifier: MIT */
#include "body.h"

void dump_body(jw *w, const uint8_t *pdu, size_t len, uint16_t cmd, bool resp,
               uint32_t status)
{
  (void)w;
  (void)pdu;
  (void)len;
  (void)cmd;
  (void)resp;
  (void)status;
}
