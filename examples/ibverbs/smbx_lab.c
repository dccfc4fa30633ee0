/* SPDX-License-Identifier: MIT */
/* The soft-RoCE lab's calling convention (smbx_lab.h). */
#define _GNU_SOURCE
#include "smbx_lab.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_ARGS 24
#define MAX_FILES 64

static char *g_args[MAX_ARGS];
static char g_buf[8192];  /* strings behind g_args */
static size_t g_used;
static char g_script[8192];

/* written file fN: local source and (once read back) local copy */
static struct {
  char src[256], back[256];
  unsigned long long size;
} g_files[MAX_FILES];
static int g_n_files;
static int g_lab_client;

static const char *env_or(const char *name, const char *dflt)
{
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

/* a + sep + b, kept in g_buf */
static char *keep(const char *a, const char *sep, const char *b)
{
  int n = snprintf(g_buf + g_used, sizeof g_buf - g_used, "%s%s%s", a, sep, b);
  if (n < 0 || (size_t)n >= sizeof g_buf - g_used)
    return NULL;
  char *p = g_buf + g_used;
  g_used += (size_t)n + 1;
  return p;
}

/* run.sh --debug puts smbx_debug=1 on the guests' kernel command line */
static int lab_debug(void)
{
  char line[4096] = "";
  FILE *f = fopen("/proc/cmdline", "r");
  if (f) {
    if (!fgets(line, sizeof line, f))
      line[0] = 0;
    fclose(f);
  }
  return strstr(line, "smbx_debug=1") != NULL;
}

static int is_lab(int argc, char **argv, const char *role)
{
  return argc == 5 && strcmp(argv[1], role) == 0;
}

int smbx_lab_server_args(int *argc, char ***argv)
{
  char **av = *argv;
  if (!is_lab(*argc, av, "server"))
    return 0;
  const char *scratch = env_or("SMBX_SCRATCH", "/scratch");
  char *root = keep(scratch, "/", "share");
  char *conf = keep(scratch, "/", "smbx-lab.conf");
  char *listen = keep(av[2], ":", av[4]);
  if (!root || !conf || !listen)
    return -1;
  if (mkdir(root, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "smbx-server: %s: %s\n", root, strerror(errno));
    return -1;
  }
  FILE *f = fopen(conf, "w");
  if (!f)
    return -1;
  fprintf(f, "guest = yes\n%s:%s\n", env_or("SMBX_USER", "testuser"),
          env_or("SMBX_PASS", "testpass"));
  if (fclose(f) != 0)
    return -1;
  int n = 0;
  g_args[n++] = av[0];
  g_args[n++] = "--rdma";
  g_args[n++] = listen;
  g_args[n++] = "--root";
  g_args[n++] = root;
  g_args[n++] = "--share";
  g_args[n++] = keep(env_or("SMBX_SHARE", "share"), "", "");
  g_args[n++] = "--config";
  g_args[n++] = conf;
  if (lab_debug())
    g_args[n++] = "-v";
  g_args[n] = NULL;
  *argc = n;
  *argv = g_args;
  return 1;
}

/* SIZE pseudo-random bytes into path: xorshift64 seeded from
 * /dev/urandom (the guests' urandom costs seconds per 16 MiB under TCG,
 * and a lab's --server-kill counts from the program's start). */
static int make_random(const char *path, unsigned long long size)
{
  uint64_t x = 0;
  int in = open("/dev/urandom", O_RDONLY);
  if (in < 0 || read(in, &x, sizeof x) != (ssize_t)sizeof x) {
    if (in >= 0)
      close(in);
    return -1;
  }
  close(in);
  x |= 1;
  FILE *out = fopen(path, "wb");
  if (!out)
    return -1;
  static uint64_t buf[8192];
  int rc = 0;
  while (rc == 0 && size) {
    for (size_t i = 0; i < sizeof buf / sizeof buf[0]; i++) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      buf[i] = x;
    }
    size_t n = size < sizeof buf ? (size_t)size : sizeof buf;
    if (fwrite(buf, 1, n, out) != n)
      rc = -1;
    size -= n;
  }
  if (fclose(out) != 0)
    rc = -1;
  return rc;
}

/* "cmd a b; " onto the script */
static int append(const char *cmd, const char *a, const char *b)
{
  size_t len = strlen(g_script);
  int n = snprintf(g_script + len, sizeof g_script - len, "%s %s %s; ", cmd,
                   a, b);
  return n < 0 || (size_t)n >= sizeof g_script - len ? -1 : 0;
}

/* One op of $SMBX_OPS into the script. */
static int client_op(char *op, const char *scratch)
{
  char *val = strchr(op, '=');
  if (val)
    *val++ = 0;
  if (!strcmp(op, "w") && val) {
    unsigned long long size = strtoull(val, NULL, 10);
    if (g_n_files == MAX_FILES || size == 0)
      return -1;
    int k = g_n_files++;
    snprintf(g_files[k].src, sizeof g_files[k].src, "%s/w%d", scratch, k + 1);
    g_files[k].size = size;
    if (make_random(g_files[k].src, size) != 0)
      return -1;
    char name[16];
    snprintf(name, sizeof name, "f%d", k + 1);
    return append("put", g_files[k].src, name);
  }
  if (!strcmp(op, "r")) {
    if (g_n_files == 0)
      return -1;
    int k = g_n_files - 1;
    snprintf(g_files[k].back, sizeof g_files[k].back, "%s/r%d", scratch,
             k + 1);
    char name[16];
    snprintf(name, sizeof name, "f%d", k + 1);
    return append("get", name, g_files[k].back);
  }
  if (!strcmp(op, "ls"))
    return append("ls", val ? val : "", "");
  if (!strcmp(op, "mv") && val) {
    char *colon = strchr(val, ':');
    if (!colon)
      return -1;
    *colon = 0;
    return append("mv", val, colon + 1);
  }
  if ((!strcmp(op, "mkdir") || !strcmp(op, "rm") || !strcmp(op, "stat")) &&
      val)
    return append(op, val, "");
  if (!strcmp(op, "kill") || !strcmp(op, "auth"))
    return 0;
  fprintf(stderr, "smbx-client: lab op '%s' unknown\n", op);
  return -1;
}

int smbx_lab_client_args(int *argc, char ***argv)
{
  char **av = *argv;
  if (!is_lab(*argc, av, "client"))
    return 0;
  g_lab_client = 1;
  const char *scratch = env_or("SMBX_SCRATCH", "/scratch");
  char *ops = strdup(env_or("SMBX_OPS", "w=1048576,r,ls"));
  if (!ops)
    return -1;
  int guest = strstr(ops, "auth=guest") != NULL;
  g_script[0] = 0;
  int rc = 0;
  for (char *save = NULL, *op = strtok_r(ops, ",", &save); op && rc == 0;
       op = strtok_r(NULL, ",", &save))
    rc = client_op(op, scratch);
  free(ops);
  if (rc != 0)
    return -1;
  char *host = keep("//", av[3], ":");
  char *unc = host ? keep(host, av[4], "/") : NULL;
  char *share = unc ? keep(unc, env_or("SMBX_SHARE", "share"), "") : NULL;
  char *user = keep(env_or("SMBX_USER", "testuser"), "%",
                    env_or("SMBX_PASS", "testpass"));
  const char *vers = getenv("SMBX_VERS");
  char *dialect = keep(vers ? vers : "", "", "");
  if (!share || !user || !dialect)
    return -1;
  int n = 0;
  g_args[n++] = av[0];
  g_args[n++] = "--rdma";
  g_args[n++] = "-v";
  g_args[n++] = "-t";
  g_args[n++] = "20";
  if (*dialect) {
    g_args[n++] = "-d";
    g_args[n++] = dialect;
  }
  if (guest) {
    g_args[n++] = "-g";
  } else {
    g_args[n++] = "-U";
    g_args[n++] = user;
  }
  g_args[n++] = share;
  g_args[n++] = "-c";
  g_args[n++] = g_script;
  g_args[n] = NULL;
  *argc = n;
  *argv = g_args;
  fprintf(stderr, "smbx-client: lab script: %s\n", g_script);
  return 1;
}

static int md5_file(const char *path, char hex[33])
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return -1;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestInit_ex(ctx, EVP_md5(), NULL);
  static unsigned char buf[65536];
  size_t n;
  while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
    ok = EVP_DigestUpdate(ctx, buf, n);
  unsigned char md[16];
  unsigned len = 0;
  ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, md, &len) && len == 16;
  EVP_MD_CTX_free(ctx);
  fclose(f);
  for (unsigned i = 0; ok && i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  return ok ? 0 : -1;
}

int smbx_lab_client_finish(int rc)
{
  if (!g_lab_client)
    return rc;
  int bad = rc != 0;
  for (int k = 0; k < g_n_files; k++) {
    if (!g_files[k].back[0])
      continue;
    char a[33] = "", b[33] = "";
    int ra = md5_file(g_files[k].src, a), rb = md5_file(g_files[k].back, b);
    if (rb != 0 && rc != 0) { /* the session failed before this get */
      printf("md5 f%d: not read back\n", k + 1);
      bad = 1;
      continue;
    }
    int match = ra == 0 && rb == 0 && strcmp(a, b) == 0;
    printf("md5 f%d (%llu bytes): written %s read %s: %s\n", k + 1,
           g_files[k].size, ra ? "?" : a, rb ? "?" : b,
           match ? "match" : "MISMATCH");
    bad |= !match;
  }
  printf("smbx-client: %s\n", bad ? "FAILED" : "all ops passed");
  fflush(stdout);
  return bad ? 1 : 0;
}
