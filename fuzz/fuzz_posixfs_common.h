/* SPDX-License-Identifier: MIT */
/* Shared by the posixfs fuzz targets: the abort-on-violation CHECK and
 * the posixfs tree in a temporary directory made once per process (the
 * file "f" and the directory go at exit). A target defines
 * FUZZ_POSIXFS_DIR, its own mkdtemp template, before including this. */
#ifndef SMBX_FUZZ_POSIXFS_COMMON_H
#define SMBX_FUZZ_POSIXFS_COMMON_H

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "posixfs.h"

#define CHECK(x)                                                            \
  do {                                                                      \
    if (!(x))                                                               \
      abort();                                                              \
  } while (0)

static posixfs *fs;
static char dir[] = FUZZ_POSIXFS_DIR;

static void cleanup(void)
{
  char path[sizeof dir + 2];
  posixfs_free(fs);
  memcpy(path, dir, sizeof dir - 1);
  memcpy(path + sizeof dir - 1, "/f", 3);
  (void)unlink(path);
  (void)rmdir(dir);
}

static posixfs *tree(void)
{
  if (!fs) {
    CHECK(mkdtemp(dir) != NULL);
    CHECK(posixfs_new(dir, &fs) == 0);
    CHECK(atexit(cleanup) == 0);
  }
  return fs;
}

#endif
