/* SPDX-License-Identifier: MIT */
/* smbx_client_interfaces (docs/multichannel.md): a hostile server's
 * FSCTL_QUERY_NETWORK_INTERFACE_INFO response, as a client RESPONSE event,
 * parsed into NETWORK_INTERFACE_INFO entries. Never crash; the count never
 * exceeds what the output holds; entries that parsed re-encode into a
 * chain that parses back to the same entries. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/client.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CAP 8

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > 1 << 16)
    return 0;
  smbx_event ev;
  memset(&ev, 0, sizeof ev);
  ev.struct_size = sizeof ev;
  ev.type = SMBX_EV_RESPONSE;
  ev.u.pdu.data = data;
  ev.u.pdu.len = size;
  ev.u.pdu.hdr.command = SMBX_SMB2_IOCTL;
  static smbx_smb2_netif out[CAP], back[CAP];
  size_t n = 0;
  int rc = smbx_client_interfaces(&ev, out, CAP, &n);
  if (rc != 0 && rc != SMBX_ERR_DECODE && rc != SMBX_ERR_STATE)
    abort();
  if (rc != 0)
    return 0;
  if (n > size / SMBX_SMB2_NETIF_SIZE)
    abort();
  size_t k = n < CAP ? n : CAP;
  if (k == 0)
    return 0;
  static uint8_t chain[CAP * SMBX_SMB2_NETIF_SIZE];
  smbx_ssize w = smbx_smb2_netif_encode(out, k, chain, sizeof chain, NULL);
  if (w != (smbx_ssize)(k * SMBX_SMB2_NETIF_SIZE))
    abort();
  smbx_smb2_netif_iter it;
  if (smbx_smb2_netif_iter_init(&it, chain, (size_t)w) != 0)
    abort();
  for (size_t i = 0; i < k; i++) {
    if (smbx_smb2_netif_iter_next(&it, &back[i], NULL) != 1 ||
        back[i].if_index != out[i].if_index ||
        back[i].capability != out[i].capability ||
        back[i].link_speed != out[i].link_speed ||
        back[i].family != out[i].family ||
        memcmp(back[i].addr, out[i].addr, sizeof out[i].addr) != 0)
      abort();
  }
  return 0;
}
