/* SPDX-License-Identifier: MIT */
/* posixfs (examples/server) case-insensitive lookup cost and freshness
 * (MS-FSA 2.1.5.1, names match ignoring case): a name missing in a
 * directory is looked up in the directory's cached names, read once and
 * kept current from inotify, so creating N new names reads the directory
 * once, not N times. readdir64 is wrapped (-Wl,--wrap) to count the
 * entries posixfs reads. Each case runs in a fresh temporary directory. */
#define _GNU_SOURCE
#include "test_main.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posixfs.h"

struct dirent64 *__real_readdir64(DIR *d);
struct dirent64 *__wrap_readdir64(DIR *d);

static uint64_t readdir_calls;

struct dirent64 *__wrap_readdir64(DIR *d)
{
  readdir_calls++;
  return __real_readdir64(d);
}

typedef struct fx {
  char dir[64];
  posixfs *fs;
} fx;

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw)
{
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static int setup(void **state)
{
  fx *f = calloc(1, sizeof *f);
  if (!f)
    return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/posixfs-names-XXXXXX");
  if (!mkdtemp(f->dir) || posixfs_new(f->dir, &f->fs) != 0)
    return -1;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fx *f = *state;
  posixfs_free(f->fs);
  nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* CREATE of the ASCII name with disposition disp; the result's action in
 * *action. The handle is closed again. */
static uint32_t create(fx *f, const char *name, uint32_t disp,
                       uint32_t *action)
{
  uint8_t u[512];
  size_t n = 0;
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)name, strlen(name),
                                        u, sizeof u, &n),
                   0);
  posixfs_create_args a;
  memset(&a, 0, sizeof a);
  a.name = u;
  a.name_len = n;
  a.desired_access = POSIXFS_READ_DATA | POSIXFS_WRITE_DATA;
  a.share_access = 7;
  a.create_disposition = disp;
  posixfs_create_result r;
  uint32_t st = posixfs_create(f->fs, &a, &r);
  if (st == SMBX_STATUS_SUCCESS) {
    if (action)
      *action = r.create_action;
    assert_int_equal(posixfs_close(f->fs, r.file_id, NULL),
                     SMBX_STATUS_SUCCESS);
  }
  return st;
}

static char *at(fx *f, const char *rel)
{
  static char p[4][256];
  static int k;
  char *b = p[k++ & 3];
  snprintf(b, sizeof p[0], "%s/%s", f->dir, rel);
  return b;
}

static int exists(fx *f, const char *rel)
{
  struct stat sb;
  return lstat(at(f, rel), &sb) == 0;
}

/* 5,000 new names in one directory: the directory is read once (its
 * first miss), every later create probes the cached names. The old
 * per-create scan read 12.5 million entries here. Then a name in another
 * case still finds its file without a scan. */
static void fsa_create_5000_names_reads_directory_once(void **state)
{
  fx *f = *state;
  assert_int_equal(mkdir(at(f, "Big"), 0777), 0);
  enum { N = 5000 };
  char name[64];
  uint64_t before = readdir_calls;
  for (int i = 0; i < N; i++) {
    snprintf(name, sizeof name, "big\\File-%05d.bin", i);
    uint32_t act = 0;
    assert_int_equal(create(f, name, POSIXFS_CREATE, &act),
                     SMBX_STATUS_SUCCESS);
    assert_int_equal(act, POSIXFS_ACTION_CREATED);
  }
  uint64_t calls = readdir_calls - before;
  /* "Big" is read once (".", "..", end); the root once for "big" */
  assert_true(calls <= 8);
  assert_true(exists(f, "Big/File-02500.bin"));
  before = readdir_calls;
  uint32_t act = 0;
  assert_int_equal(create(f, "BIG\\file-02500.BIN", POSIXFS_OPEN, &act),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(act, POSIXFS_ACTION_OPENED);
  assert_int_equal(create(f, "big\\FILE-04999.bin", POSIXFS_CREATE, NULL),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  assert_int_equal(readdir_calls, before);
  assert_false(exists(f, "Big/file-02500.BIN"));
}

/* Changes made beside posixfs (another process, here the test) reach the
 * cached names before the next lookup: created, deleted and renamed
 * entries, and a directory deleted and made again under its name. */
static void fsa_name_cache_follows_changes_outside(void **state)
{
  fx *f = *state;
  assert_int_equal(mkdir(at(f, "D"), 0777), 0);
  assert_int_equal(create(f, "d\\first", POSIXFS_CREATE, NULL),
                   SMBX_STATUS_SUCCESS); /* D's names are cached now */
  FILE *fp = fopen(at(f, "D/Ext.TXT"), "w");
  assert_non_null(fp);
  fclose(fp);
  uint32_t act = 0;
  assert_int_equal(create(f, "d\\ext.txt", POSIXFS_OPEN, &act),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(create(f, "d\\EXT.txt", POSIXFS_CREATE, NULL),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  assert_int_equal(rename(at(f, "D/Ext.TXT"), at(f, "D/Moved.txt")), 0);
  assert_int_equal(create(f, "d\\ext.txt", POSIXFS_OPEN, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(create(f, "d\\MOVED.TXT", POSIXFS_OPEN, NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(unlink(at(f, "D/Moved.txt")), 0);
  assert_int_equal(create(f, "d\\MOVED.TXT", POSIXFS_CREATE, &act),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(act, POSIXFS_ACTION_CREATED);
  assert_true(exists(f, "D/MOVED.TXT"));
  /* D replaced by a new directory of the same name */
  assert_int_equal(unlink(at(f, "D/MOVED.TXT")), 0);
  assert_int_equal(unlink(at(f, "D/first")), 0);
  assert_int_equal(rmdir(at(f, "D")), 0);
  assert_int_equal(mkdir(at(f, "D"), 0777), 0);
  fp = fopen(at(f, "D/Fresh"), "w");
  assert_non_null(fp);
  fclose(fp);
  assert_int_equal(create(f, "d\\fresh", POSIXFS_OPEN, NULL),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(create(f, "d\\first", POSIXFS_OPEN, NULL),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
}

/* More directories than the cache keeps: each still resolves names in
 * another case (the least recently used one is read again). */
static void fsa_name_cache_more_directories_than_kept(void **state)
{
  fx *f = *state;
  char rel[64], name[64];
  for (int d = 0; d < 20; d++) {
    snprintf(rel, sizeof rel, "Dir%02d", d);
    assert_int_equal(mkdir(at(f, rel), 0777), 0);
    snprintf(rel, sizeof rel, "Dir%02d/Name", d);
    FILE *fp = fopen(at(f, rel), "w");
    assert_non_null(fp);
    fclose(fp);
  }
  for (int round = 0; round < 2; round++)
    for (int d = 0; d < 20; d++) {
      snprintf(name, sizeof name, "dir%02d\\NAME", d);
      assert_int_equal(create(f, name, POSIXFS_OPEN, NULL),
                       SMBX_STATUS_SUCCESS);
      snprintf(name, sizeof name, "DIR%02d\\new%d", d, round);
      assert_int_equal(create(f, name, POSIXFS_CREATE, NULL),
                       SMBX_STATUS_SUCCESS);
      snprintf(rel, sizeof rel, "Dir%02d/new%d", d, round);
      assert_true(exists(f, rel));
    }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(
          fsa_create_5000_names_reads_directory_once, setup, teardown),
      cmocka_unit_test_setup_teardown(fsa_name_cache_follows_changes_outside,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          fsa_name_cache_more_directories_than_kept, setup, teardown),
  };
  return RUN_TESTS(tests);
}
