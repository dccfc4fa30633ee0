/* SPDX-License-Identifier: MIT */
/* smbx-dump's readers: any bytes as a capture (pcap / pcapng; gzip is
 * reported as unsupported in this build) and as a raw Direct-TCP stream.
 * Must never crash, hang or leak; output is discarded. */
#include <stdint.h>
#include <stdlib.h>

#include "../tools/smbx-dump/dump.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > (1u << 22))
    return 0;
  dump_opts o = {NULL, false};
  dump_ctx *d = dump_new(&o);
  if (!d)
    abort();
  (void)dump_capture(d, data, size);
  dump_stats st;
  dump_finish(d, &st);
  if (st.frames > size / 16)
    abort(); /* every frame needs at least a 16-byte record header */
  d = dump_new(&o);
  if (!d)
    abort();
  (void)dump_tcp_stream(d, data, size);
  dump_finish(d, NULL);
  return 0;
}
