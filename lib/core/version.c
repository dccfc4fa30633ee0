/* SPDX-License-Identifier: MIT */
#include <smbx/smbx.h>

const char *smbx_version(void)
{
  return SMBX_VERSION_STRING;
}

uint32_t smbx_version_num(void)
{
  return SMBX_VERSION_NUM;
}
