/* SPDX-License-Identifier: MIT */
/* A tiny program that uses libsmbx the way an outside project would. */
#include <stdio.h>
#include <string.h>

#include <smbx/smbx.h>

int main(void)
{
  if (strcmp(smbx_version(), SMBX_VERSION_STRING) != 0) {
    fprintf(stderr, "header %s vs library %s\n", SMBX_VERSION_STRING,
            smbx_version());
    return 1;
  }
  printf("smbx %s: %s\n", smbx_version(), smbx_strerror(SMBX_ERR_PROTO));
  return 0;
}
