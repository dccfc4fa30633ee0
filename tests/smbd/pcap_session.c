/* SPDX-License-Identifier: MIT */
/* Writes a back-to-back SMB Direct session (negotiate, credit-only grants,
 * SMB2 WRITE requests fragmented and whole, keepalive exchange) captured
 * from the simulated NIC with pcapw (mtu 65536: one SEND Only packet per
 * message), plus the header fields of every message the engines sent, in
 * order, as JSON for pcap_compare.py. Usage: pcap_session OUT.pcap OUT.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pcapw.h"

#include "core/cursor.h"

/* An SMB2 WRITE request ([MS-SMB2] 2.2.21) of n data bytes. */
static size_t smb2_write(uint8_t *b, uint32_t n, uint64_t mid)
{
  memset(b, 0, 112);
  b[0] = 0xFE; b[1] = 'S'; b[2] = 'M'; b[3] = 'B';
  smbx__put_le16(b + 4, 64);
  smbx__put_le16(b + 12, 9);   /* WRITE */
  smbx__put_le16(b + 14, 1);   /* credits requested */
  smbx__put_le64(b + 24, mid);
  smbx__put_le16(b + 64, 49);
  smbx__put_le16(b + 66, 0x70);
  smbx__put_le32(b + 68, n);
  for (uint32_t k = 0; k < n; k++)
    b[112 + k] = (uint8_t)k;
  return 112 + n;
}

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  h x;
  smbx_smbd_settings sa = h_settings(0), sp = h_settings(1);
  if (h_init(&x, &sa, &sp, 64, 64, 1000))
    return 1;
  h_establish(&x);
  h_run(&x, 0);
  static uint8_t b[200000];
  uint32_t sizes[4] = {100, 5000, 60000, 1000};
  for (int k = 0; k < 4; k++) {
    size_t n = smb2_write(b, sizes[k], (uint64_t)k + 1);
    smbx_sge sg = {b, (uint32_t)n, 0, 0};
    if (smbx_smbd_send(x.s[k & 1].d, &sg, 1, 0, 0, NULL, x.w->now))
      return 1;
    h_run(&x, 0);
  }
  h_run(&x, x.w->now + 130 * H_S); /* a keepalive exchange */
  pcapw_opts o = {65536, 1460, 445};
  pcapw *pw = pcapw_open(argv[1], &o);
  FILE *js = fopen(argv[2], "w");
  if (!pw || !js)
    return 1;
  fprintf(js, "[\n");
  for (size_t k = 0; k < x.w->log_n; k++) {
    const sim_msg *m = &x.w->log[k];
    if (pcapw_smbd_send(pw, m->from, m->bytes, m->len))
      return 1;
    const uint8_t *p = m->bytes;
    if (k < 2) { /* negotiate request, response */
      fprintf(js, "%s{\"kind\": \"%s\"}\n", k ? "," : "", k ? "resp" : "req");
      continue;
    }
    uint32_t dl = smbx__get_le32(p + 16);
    fprintf(js,
            ",{\"kind\": \"data\", \"smb_direct.credits.requested\": %u, "
            "\"smb_direct.credits.granted\": %u, "
            "\"smb_direct.flags.response_requested\": %u, "
            "\"smb_direct.remaining_length\": %u, \"smb_direct.data_length\": %u}\n",
            smbx__get_le16(p), smbx__get_le16(p + 2), smbx__get_le16(p + 4) & 1,
            smbx__get_le32(p + 8), dl);
  }
  fprintf(js, "]\n");
  fclose(js);
  if (pcapw_close(pw))
    return 1;
  h_fini(&x);
  return 0;
}
