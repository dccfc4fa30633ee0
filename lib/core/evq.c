/* SPDX-License-Identifier: MIT */
#include "core/evq.h"

int smbx__evq_take(smbx__ring *q, smbx_event *ev)
{
  size_t keep = ev->struct_size;
  while (q->len) {
    const smbx_event *e = (const smbx_event *)(void *)(q->buf +
                                                       q->head * q->elem);
    if (++q->head == q->cap)
      q->head = 0;
    q->len--;
    if (e->type == SMBX_EV_NONE)
      continue;
    /* e stays intact until the next push: nothing pushes before the copy */
    if (keep >= SMBX__EV_BYTES)
      memcpy(ev, e, SMBX__EV_BYTES);
    else
      memcpy(ev, e, keep);
    ev->struct_size = keep;
    return 1;
  }
  return 0;
}
