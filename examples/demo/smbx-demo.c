/* SPDX-License-Identifier: MIT */
/* smbx-demo: the main job of the README. For now it prints the library
 * version and the error table; later issues turn it into the loopback demo
 * (SMB2 over SMB Direct between a client and a server node in memory). */
#include <stdio.h>
#include <string.h>

#include <smbx/smbx.h>

int main(void)
{
  printf("smbx %s (headers %s, 0x%06x)\n", smbx_version(), SMBX_VERSION_STRING,
         (unsigned)smbx_version_num());
  printf("%-6s %-22s %s\n", "code", "name", "meaning");
  for (int code = 0; code >= -128; code--) {
    const char *name = smbx_strerror_name(code);
    if (strcmp(name, "SMBX_ERR_UNKNOWN") == 0)
      continue;
    printf("%-6d %-22s %s\n", code, name, smbx_strerror(code));
  }
  return 0;
}
