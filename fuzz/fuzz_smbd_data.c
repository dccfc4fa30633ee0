/* SPDX-License-Identifier: MIT */
/* fuzz_smbd_data: the engine driver of fuzz_smbd_negotiate.c, starting
 * established (and, by the first byte, mid-reassembly). */
#define FUZZ_SMBD_DATA 1
#include "fuzz_smbd_negotiate.c"
