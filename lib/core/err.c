/* SPDX-License-Identifier: MIT */
#include <smbx/smbx.h>

struct err_entry {
  int code;
  const char *name;
  const char *text;
};

static const struct err_entry err_table[] = {
  {SMBX_OK, "SMBX_OK", "success"},
  {SMBX_ERR_INVAL, "SMBX_ERR_INVAL", "invalid argument"},
  {SMBX_ERR_NOMEM, "SMBX_ERR_NOMEM", "out of memory"},
  {SMBX_ERR_NOBUF, "SMBX_ERR_NOBUF", "buffer too small or pool empty"},
  {SMBX_ERR_AGAIN, "SMBX_ERR_AGAIN", "resource temporarily unavailable"},
  {SMBX_ERR_STATE, "SMBX_ERR_STATE", "operation not valid in this state"},
  {SMBX_ERR_RANGE, "SMBX_ERR_RANGE", "value out of range"},
  {SMBX_ERR_NOTFOUND, "SMBX_ERR_NOTFOUND", "not found"},
  {SMBX_ERR_EXISTS, "SMBX_ERR_EXISTS", "already exists"},
  {SMBX_ERR_LIMIT, "SMBX_ERR_LIMIT", "configured limit reached"},
  {SMBX_ERR_UNSUPPORTED, "SMBX_ERR_UNSUPPORTED", "not supported"},
  {SMBX_ERR_DECODE, "SMBX_ERR_DECODE", "malformed input"},
  {SMBX_ERR_ENCODING, "SMBX_ERR_ENCODING", "invalid text encoding"},
  {SMBX_ERR_AUTH, "SMBX_ERR_AUTH", "signature or authentication tag mismatch"},
  {SMBX_ERR_FATAL, "SMBX_ERR_FATAL", "fatal connection error"},
  {SMBX_ERR_PROTO, "SMBX_ERR_PROTO", "protocol violation by the peer"},
  {SMBX_ERR_TRANSPORT, "SMBX_ERR_TRANSPORT", "transport failure"},
  {SMBX_ERR_TIMEOUT, "SMBX_ERR_TIMEOUT", "protocol timer expired"},
  {SMBX_ERR_CLOSED, "SMBX_ERR_CLOSED", "connection closed"},
  {SMBX_ERR_NEGOTIATE, "SMBX_ERR_NEGOTIATE", "negotiation failed"},
};

static const struct err_entry *find_err(int err)
{
  for (size_t i = 0; i < sizeof err_table / sizeof err_table[0]; i++)
    if (err_table[i].code == err)
      return &err_table[i];
  return NULL;
}

const char *smbx_strerror(int err)
{
  const struct err_entry *e = find_err(err);
  if (e)
    return e->text;
  if (err > 0)
    return "success (count)";
  return err <= SMBX_ERR_FATAL ? "unknown fatal error" : "unknown error";
}

const char *smbx_strerror_name(int err)
{
  const struct err_entry *e = find_err(err);
  return e ? e->name : "SMBX_ERR_UNKNOWN";
}
