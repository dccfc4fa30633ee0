/* SPDX-License-Identifier: MIT */
/* posixfs (examples/server) tests: each case runs in a fresh temporary
 * directory that is removed afterwards. Case names carry the smb2.md
 * section (4.4 CREATE, 4.10 QUERY_DIRECTORY, 4.11 CHANGE_NOTIFY, 4.12
 * QUERY_INFO/SET_INFO) or MS-FSA rule they check. */
#define _GNU_SOURCE
#include "test_main.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posixfs.h"

typedef struct fx {
  char dir[64];
  posixfs *fs;
} fx;

static int rm_cb(const char *p, const struct stat *sb, int flag,
                 struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(p);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  if (!f) return -1;
  snprintf(f->dir, sizeof f->dir, "/tmp/posixfs-test-XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  if (posixfs_new(f->dir, &f->fs) != 0) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  posixfs_free(f->fs);
  nftw(f->dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
  free(f);
  return 0;
}

/* ASCII/UTF-8 -> UTF-16LE into a static ring of buffers */
static size_t u16len;
static const uint8_t *u16(const char *s) {
  static uint8_t ring[4][4096];
  static int k;
  uint8_t *b = ring[k++ & 3];
  size_t n = 0;
  assert_int_equal(smbx_utf8_to_utf16le((const uint8_t *)s, strlen(s), b,
                                        sizeof ring[0], &n),
                   0);
  u16len = n;
  return b;
}

static uint32_t cr(fx *f, const char *name, uint32_t access, uint32_t share,
                   uint32_t disp, uint32_t opts, posixfs_create_result *r) {
  posixfs_create_args a;
  memset(&a, 0, sizeof a);
  a.name = u16(name);
  a.name_len = u16len;
  a.desired_access = access;
  a.share_access = share;
  a.create_disposition = disp;
  a.create_options = opts;
  return posixfs_create(f->fs, &a, r);
}

#define ALL_SHARE 7u
#define RW (POSIXFS_READ_DATA | POSIXFS_WRITE_DATA | POSIXFS_READ_ATTRIBUTES)

static void put_file(fx *f, const char *rel, const char *data) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", f->dir, rel);
  FILE *fp = fopen(p, "w");
  assert_non_null(fp);
  fputs(data, fp);
  fclose(fp);
}

static int exists(fx *f, const char *rel) {
  char p[256];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", f->dir, rel);
  return lstat(p, &sb) == 0;
}

static long fsize(fx *f, const char *rel) {
  char p[256];
  struct stat sb;
  snprintf(p, sizeof p, "%s/%s", f->dir, rel);
  if (stat(p, &sb) != 0) return -1;
  return (long)sb.st_size;
}

static void mk(fx *f, const char *rel) {
  char p[256];
  snprintf(p, sizeof p, "%s/%s", f->dir, rel);
  assert_int_equal(mkdir(p, 0777), 0);
}

static void cl(fx *f, smbx_smb2_fileid id) {
  assert_int_equal(posixfs_close(f->fs, id, NULL), SMBX_STATUS_SUCCESS);
}

/* ------------------------------------------------------------------ */
/* 4.4 CREATE */

static void smb2_4_4_every_disposition_exists_and_not(void **state) {
  fx *f = *state;
  static const struct {
    uint32_t disp;
    uint32_t st_absent, act_absent;
    uint32_t st_present, act_present;
    long size_after; /* existing file held "abc" */
  } t[] = {
      {POSIXFS_SUPERSEDE, SMBX_STATUS_SUCCESS, POSIXFS_ACTION_CREATED,
       SMBX_STATUS_SUCCESS, POSIXFS_ACTION_SUPERSEDED, 0},
      {POSIXFS_OPEN, SMBX_STATUS_OBJECT_NAME_NOT_FOUND, 0,
       SMBX_STATUS_SUCCESS, POSIXFS_ACTION_OPENED, 3},
      {POSIXFS_CREATE, SMBX_STATUS_SUCCESS, POSIXFS_ACTION_CREATED,
       SMBX_STATUS_OBJECT_NAME_COLLISION, 0, 3},
      {POSIXFS_OPEN_IF, SMBX_STATUS_SUCCESS, POSIXFS_ACTION_CREATED,
       SMBX_STATUS_SUCCESS, POSIXFS_ACTION_OPENED, 3},
      {POSIXFS_OVERWRITE, SMBX_STATUS_OBJECT_NAME_NOT_FOUND, 0,
       SMBX_STATUS_SUCCESS, POSIXFS_ACTION_OVERWRITTEN, 0},
      {POSIXFS_OVERWRITE_IF, SMBX_STATUS_SUCCESS, POSIXFS_ACTION_CREATED,
       SMBX_STATUS_SUCCESS, POSIXFS_ACTION_OVERWRITTEN, 0},
  };
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    posixfs_create_result r;
    char name[32];
    snprintf(name, sizeof name, "d%zu", i);
    /* absent */
    assert_int_equal(cr(f, name, RW, ALL_SHARE, t[i].disp, 0, &r),
                     t[i].st_absent);
    if (t[i].st_absent == SMBX_STATUS_SUCCESS) {
      assert_int_equal(r.create_action, t[i].act_absent);
      assert_true(exists(f, name));
      cl(f, r.file_id);
    } else {
      assert_false(exists(f, name));
    }
    /* present */
    put_file(f, name, "abc");
    assert_int_equal(cr(f, name, RW, ALL_SHARE, t[i].disp, 0, &r),
                     t[i].st_present);
    if (t[i].st_present == SMBX_STATUS_SUCCESS) {
      assert_int_equal(r.create_action, t[i].act_present);
      assert_int_equal(r.info.end_of_file, (uint64_t)t[i].size_after);
      cl(f, r.file_id);
    }
    assert_int_equal(fsize(f, name), t[i].size_after);
  }
  assert_int_equal(posixfs_open_count(f->fs), 0);
}

static void smb2_4_4_missing_parent_is_path_not_found(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  assert_int_equal(cr(f, "nodir\\x", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  assert_int_equal(cr(f, "nodir\\x", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  put_file(f, "plain", "x");
  assert_int_equal(cr(f, "plain\\x", RW, 7, POSIXFS_OPEN_IF, 0, &r),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  assert_int_equal(cr(f, "nofile", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
}

static void smb2_4_4_directory_and_non_directory_options(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  assert_int_equal(cr(f, "sub", POSIXFS_READ_DATA, 7, POSIXFS_CREATE,
                      POSIXFS_DIRECTORY_FILE, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(r.create_action, POSIXFS_ACTION_CREATED);
  assert_int_equal(r.info.file_attributes & POSIXFS_ATTR_DIRECTORY,
                   POSIXFS_ATTR_DIRECTORY);
  cl(f, r.file_id);
  put_file(f, "file", "x");
  assert_int_equal(cr(f, "file", RW, 7, POSIXFS_OPEN, POSIXFS_DIRECTORY_FILE,
                      &r),
                   SMBX_STATUS_NOT_A_DIRECTORY);
  assert_int_equal(cr(f, "sub", RW, 7, POSIXFS_OPEN,
                      POSIXFS_NON_DIRECTORY_FILE, &r),
                   SMBX_STATUS_FILE_IS_A_DIRECTORY);
  assert_int_equal(cr(f, "sub", RW, 7, POSIXFS_OPEN,
                      POSIXFS_DIRECTORY_FILE | POSIXFS_NON_DIRECTORY_FILE,
                      &r),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(cr(f, "sub2", RW, 7, POSIXFS_OVERWRITE_IF,
                      POSIXFS_DIRECTORY_FILE, &r),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(cr(f, "sub", RW, 7, POSIXFS_OVERWRITE_IF, 0, &r),
                   SMBX_STATUS_FILE_IS_A_DIRECTORY);
  assert_int_equal(cr(f, "x", RW, 7, 6, 0, &r),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(cr(f, "", POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      POSIXFS_DELETE_ON_CLOSE, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  /* the root: empty name */
  assert_int_equal(cr(f, "", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(r.info.file_attributes & POSIXFS_ATTR_DIRECTORY,
                   POSIXFS_ATTR_DIRECTORY);
  cl(f, r.file_id);
}

static void smb2_4_4_maximum_allowed_and_generic_mapping(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  assert_int_equal(cr(f, "m", POSIXFS_MAXIMUM_ALLOWED, 7,
                      POSIXFS_OPEN_IF, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(r.granted_access, POSIXFS_FILE_ALL_ACCESS);
  cl(f, r.file_id);
  assert_int_equal(cr(f, "m", POSIXFS_GENERIC_READ, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(r.granted_access, 0x00120089u);
  cl(f, r.file_id);
}

static void fsa_share_access_conflicts(void **state) {
  fx *f = *state;
  posixfs_create_result a, b;
  put_file(f, "s", "x");
  assert_int_equal(cr(f, "s", POSIXFS_READ_DATA, POSIXFS_SHARE_READ,
                      POSIXFS_OPEN, 0, &a),
                   SMBX_STATUS_SUCCESS);
  /* writer vs share READ only */
  assert_int_equal(cr(f, "s", POSIXFS_WRITE_DATA, 7, POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SHARING_VIOLATION);
  /* reader that does not share READ with the existing reader */
  assert_int_equal(cr(f, "s", POSIXFS_READ_DATA, POSIXFS_SHARE_WRITE,
                      POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SHARING_VIOLATION);
  /* DELETE vs share without DELETE */
  assert_int_equal(cr(f, "s", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SHARING_VIOLATION);
  /* attribute-only opens never conflict */
  assert_int_equal(cr(f, "s", POSIXFS_READ_ATTRIBUTES, 0, POSIXFS_OPEN, 0,
                      &b),
                   SMBX_STATUS_SUCCESS);
  cl(f, b.file_id);
  /* compatible reader */
  assert_int_equal(cr(f, "s", POSIXFS_READ_DATA, POSIXFS_SHARE_READ,
                      POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SUCCESS);
  cl(f, b.file_id);
  cl(f, a.file_id);
  /* after close the writer gets in */
  assert_int_equal(cr(f, "s", POSIXFS_WRITE_DATA, 0, POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(cr(f, "s", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &a),
                   SMBX_STATUS_SHARING_VIOLATION);
  cl(f, b.file_id);
}

static void smb2_4_4_delete_on_close_after_last_close(void **state) {
  fx *f = *state;
  posixfs_create_result a, b, c;
  assert_int_equal(cr(f, "doc", POSIXFS_DELETE | RW, 7, POSIXFS_CREATE,
                      POSIXFS_DELETE_ON_CLOSE, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(cr(f, "doc", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &b),
                   SMBX_STATUS_SUCCESS);
  cl(f, a.file_id);
  assert_true(exists(f, "doc")); /* still open by b */
  assert_int_equal(cr(f, "doc", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &c),
                   SMBX_STATUS_DELETE_PENDING);
  cl(f, b.file_id);
  assert_false(exists(f, "doc"));
  /* DELETE_ON_CLOSE without DELETE access */
  assert_int_equal(cr(f, "doc2", RW, 7, POSIXFS_CREATE,
                      POSIXFS_DELETE_ON_CLOSE, &a),
                   SMBX_STATUS_ACCESS_DENIED);
}

static void smb2_4_12_set_disposition_deletes_and_clears(void **state) {
  fx *f = *state;
  posixfs_create_result a;
  uint8_t one = 1, zero = 0;
  put_file(f, "d1", "x");
  assert_int_equal(cr(f, "d1", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, SMBX_SMB2_0_INFO_FILE,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &one, 1),
                   SMBX_STATUS_SUCCESS);
  uint8_t out[64];
  uint32_t n;
  smbx_smb2_file_standard_info si;
  assert_int_equal(posixfs_query_info(f->fs, a.file_id, SMBX_SMB2_0_INFO_FILE,
                                      SMBX_SMB2_FILE_STANDARD_INFORMATION,
                                      out, sizeof out, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(smbx_smb2_file_standard_info_decode(out, n, &si, NULL), 0);
  assert_int_equal(si.delete_pending, 1);
  cl(f, a.file_id);
  assert_false(exists(f, "d1"));
  /* set then clear: survives */
  put_file(f, "d2", "x");
  assert_int_equal(cr(f, "d2", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, 1,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &one, 1),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, 1,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &zero, 1),
                   SMBX_STATUS_SUCCESS);
  cl(f, a.file_id);
  assert_true(exists(f, "d2"));
  /* no DELETE access */
  assert_int_equal(cr(f, "d2", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, 1,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &one, 1),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, a.file_id);
  /* a non-empty directory */
  mk(f, "full");
  put_file(f, "full/x", "x");
  assert_int_equal(cr(f, "full", POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      POSIXFS_DIRECTORY_FILE, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, 1,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &one, 1),
                   SMBX_STATUS_DIRECTORY_NOT_EMPTY);
  cl(f, a.file_id);
  /* an empty directory goes */
  mk(f, "empty");
  assert_int_equal(cr(f, "empty", POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      POSIXFS_DIRECTORY_FILE, &a),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_set_info(f->fs, a.file_id, 1,
                                    SMBX_SMB2_FILE_DISPOSITION_INFORMATION,
                                    &one, 1),
                   SMBX_STATUS_SUCCESS);
  cl(f, a.file_id);
  assert_false(exists(f, "empty"));
}

static void smb2_4_4_path_escapes_rejected(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  assert_int_equal(cr(f, "..\\..\\etc\\passwd", POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  assert_int_equal(cr(f, "a\\..\\..\\x", POSIXFS_READ_DATA, 7, POSIXFS_OPEN,
                      0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  assert_int_equal(cr(f, "\\etc\\passwd", POSIXFS_READ_DATA, 7, POSIXFS_OPEN,
                      0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  assert_int_equal(cr(f, "a\\\\b", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  assert_int_equal(cr(f, "a/b", POSIXFS_READ_DATA, 7, POSIXFS_OPEN_IF, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  assert_int_equal(cr(f, "a:stream:$DATA:x", POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN_IF, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  posixfs_create_args a;
  memset(&a, 0, sizeof a);
  a.desired_access = POSIXFS_READ_DATA;
  a.create_disposition = POSIXFS_OPEN_IF;
  static const uint8_t nul[] = {'a', 0, 0, 0, 'b', 0};
  a.name = nul;
  a.name_len = sizeof nul;
  assert_int_equal(posixfs_create(f->fs, &a, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  static const uint8_t lone[] = {'a', 0, 0x00, 0xD8}; /* unpaired surrogate */
  a.name = lone;
  a.name_len = sizeof lone;
  assert_int_equal(posixfs_create(f->fs, &a, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  a.name_len = 3; /* odd */
  assert_int_equal(posixfs_create(f->fs, &a, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  /* a symlink to / inside the share, and one climbing out */
  char p[256];
  snprintf(p, sizeof p, "%s/toroot", f->dir);
  assert_int_equal(symlink("/", p), 0);
  snprintf(p, sizeof p, "%s/up", f->dir);
  assert_int_equal(symlink("..", p), 0);
  assert_int_equal(cr(f, "toroot\\etc\\passwd", POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(cr(f, "toroot", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(cr(f, "up", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(cr(f, "toroot\\tmp\\evil", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  /* a symlink that stays inside is followed */
  mk(f, "real");
  put_file(f, "real/f", "inside");
  snprintf(p, sizeof p, "%s/alias", f->dir);
  assert_int_equal(symlink("real", p), 0);
  assert_int_equal(cr(f, "alias\\f", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0,
                      &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(r.info.end_of_file, 6);
  cl(f, r.file_id);
}

static void smb2_4_4_path_escapes_rejected_without_openat2(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  posixfs_set_resolve_fallback(f->fs, 1);
  char p[256];
  snprintf(p, sizeof p, "%s/toroot", f->dir);
  assert_int_equal(symlink("/", p), 0);
  snprintf(p, sizeof p, "%s/up", f->dir);
  assert_int_equal(symlink("..", p), 0);
  /* no symlink is followed: through one is a missing path, at the end it
   * is not a regular file or directory */
  assert_int_equal(cr(f, "toroot\\etc\\passwd", POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  assert_int_equal(cr(f, "toroot", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(cr(f, "up\\x", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  assert_int_equal(cr(f, "..\\..\\etc\\passwd", POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  /* plain nested paths work */
  mk(f, "a");
  mk(f, "a/b");
  assert_int_equal(cr(f, "a\\b\\c", RW, 7, POSIXFS_CREATE, 0, &r), 0);
  cl(f, r.file_id);
  assert_true(exists(f, "a/b/c"));
  assert_int_equal(cr(f, "a\\b\\c", RW, 7, POSIXFS_OPEN, 0, &r), 0);
  smbx_smb2_file_network_open_info post;
  assert_int_equal(posixfs_close(f->fs, r.file_id, &post), 0);
  assert_int_equal(post.file_attributes, POSIXFS_ATTR_ARCHIVE);
  assert_true(post.last_write_time != 0);
}

static void smb2_4_4_free_closes_opens_and_runs_delete_on_close(void **state) {
  fx *f = *state;
  posixfs *fs2;
  assert_int_equal(posixfs_new(f->dir, &fs2), 0);
  posixfs_create_args a;
  posixfs_create_result r;
  memset(&a, 0, sizeof a);
  a.name = u16("tmpfile");
  a.name_len = u16len;
  a.desired_access = POSIXFS_DELETE | RW;
  a.create_disposition = POSIXFS_CREATE;
  a.create_options = POSIXFS_DELETE_ON_CLOSE;
  assert_int_equal(posixfs_create(fs2, &a, &r), 0);
  a.name = u16("keep");
  a.name_len = u16len;
  a.create_options = 0;
  assert_int_equal(posixfs_create(fs2, &a, &r), 0);
  assert_int_equal(posixfs_open_count(fs2), 2);
  assert_true(exists(f, "tmpfile"));
  posixfs_free(fs2);
  assert_false(exists(f, "tmpfile"));
  assert_true(exists(f, "keep"));
  assert_int_equal(posixfs_new("/nonexistent-posixfs-root", &fs2), -ENOENT);
}

/* ------------------------------------------------------------------ */
/* READ / WRITE */

static void smb2_read_write_at_offsets(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  uint32_t n;
  uint8_t buf[32];
  assert_int_equal(cr(f, "rw", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_write(f->fs, r.file_id, 4,
                                 (const uint8_t *)"wxyz", 4, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, 4);
  assert_int_equal(posixfs_read(f->fs, r.file_id, 0, buf, sizeof buf, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, 8);
  assert_memory_equal(buf, "\0\0\0\0wxyz", 8);
  assert_int_equal(posixfs_read(f->fs, r.file_id, 8, buf, 4, &n),
                   SMBX_STATUS_END_OF_FILE);
  assert_int_equal(posixfs_read(f->fs, r.file_id, 8, buf, 0, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_flush(f->fs, r.file_id), SMBX_STATUS_SUCCESS);
  smbx_smb2_fileid id = r.file_id;
  cl(f, id);
  assert_int_equal(posixfs_read(f->fs, id, 0, buf, 4, &n),
                   SMBX_STATUS_FILE_CLOSED);
  assert_int_equal(posixfs_close(f->fs, id, NULL), SMBX_STATUS_FILE_CLOSED);
  /* read-only handle cannot write; attribute handle cannot read */
  assert_int_equal(cr(f, "rw", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_write(f->fs, r.file_id, 0, buf, 1, &n),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, r.file_id);
  assert_int_equal(cr(f, "rw", POSIXFS_READ_ATTRIBUTES, 7, POSIXFS_OPEN, 0,
                      &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_read(f->fs, r.file_id, 0, buf, 1, &n),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, r.file_id);
  assert_int_equal(cr(f, "", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_read(f->fs, r.file_id, 0, buf, 1, &n),
                   SMBX_STATUS_INVALID_DEVICE_REQUEST);
  cl(f, r.file_id);
}

/* ------------------------------------------------------------------ */
/* 4.10 QUERY_DIRECTORY */

/* QUERY_DIRECTORY with a UTF-8 pattern (NULL: none) */
static uint32_t qd(posixfs *fs, smbx_smb2_fileid d, uint8_t cls, uint8_t fl,
                   const char *pat, uint8_t *out, uint32_t cap,
                   uint32_t *len) {
  const uint8_t *p = pat ? u16(pat) : NULL;
  size_t pl = pat ? u16len : 0;
  return posixfs_query_directory(fs, d, cls, fl, p, pl, out, cap, len);
}

static smbx_smb2_fileid open_dir(fx *f, const char *name) {
  posixfs_create_result r;
  assert_int_equal(cr(f, name, POSIXFS_READ_DATA | POSIXFS_READ_ATTRIBUTES, 7,
                      POSIXFS_OPEN, POSIXFS_DIRECTORY_FILE, &r),
                   SMBX_STATUS_SUCCESS);
  return r.file_id;
}

/* Decode one buffer; append names (UTF-8) to a flat list. */
static size_t collect(uint8_t cls, const uint8_t *buf, uint32_t len,
                      char names[][64], size_t at, size_t max) {
  smbx_smb2_dir_iter it;
  smbx_smb2_dir_entry e;
  assert_int_equal(smbx_smb2_dir_iter_init(&it, cls, buf, len), 0);
  int rc;
  while ((rc = smbx_smb2_dir_iter_next(&it, &e, NULL)) == 1) {
    assert_true(at < max);
    size_t n = 0;
    assert_int_equal(smbx_utf16le_to_utf8(e.file_name.p, e.file_name.len,
                                          (uint8_t *)names[at], 63, &n),
                     0);
    names[at][n] = '\0';
    at++;
  }
  assert_int_equal(rc, 0);
  return at;
}

static void smb2_4_10_enumerate_500_files_small_buffer(void **state) {
  fx *f = *state;
  mk(f, "big");
  for (int i = 0; i < 500; i++) {
    char p[64];
    snprintf(p, sizeof p, "big/file-%03d.dat", i);
    put_file(f, p, "");
  }
  smbx_smb2_fileid d = open_dir(f, "big");
  static char names[600][64];
  size_t n = 0;
  int calls = 0;
  uint8_t buf[1024];
  uint32_t len;
  uint32_t st;
  while ((st = qd(
              f->fs, d, SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION, 0,
              "*", buf, sizeof buf, &len)) ==
         SMBX_STATUS_SUCCESS) {
    assert_true(len <= sizeof buf);
    n = collect(SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION, buf, len, names,
                n, 600);
    calls++;
  }
  assert_int_equal(st, SMBX_STATUS_NO_MORE_FILES);
  assert_true(calls > 40);
  assert_int_equal(n, 502);
  int seen[500] = {0};
  int dot = 0, dotdot = 0;
  for (size_t i = 0; i < n; i++) {
    int k;
    if (!strcmp(names[i], ".")) dot++;
    else if (!strcmp(names[i], "..")) dotdot++;
    else {
      assert_int_equal(sscanf(names[i], "file-%d.dat", &k), 1);
      assert_true(k >= 0 && k < 500);
      seen[k]++;
    }
  }
  assert_int_equal(dot, 1);
  assert_int_equal(dotdot, 1);
  for (int i = 0; i < 500; i++) assert_int_equal(seen[i], 1);
  /* again: NO_MORE_FILES; RESTART_SCANS starts over */
  assert_int_equal(qd(
                       f->fs, d, SMBX_SMB2_FILE_NAMES_INFORMATION, 0, NULL,
                       buf, sizeof buf, &len),
                   SMBX_STATUS_NO_MORE_FILES);
  assert_int_equal(qd(
                       f->fs, d, SMBX_SMB2_FILE_NAMES_INFORMATION,
                       SMBX_SMB2_RESTART_SCANS | SMBX_SMB2_RETURN_SINGLE_ENTRY,
                       NULL, buf, sizeof buf, &len),
                   SMBX_STATUS_SUCCESS);
  n = collect(SMBX_SMB2_FILE_NAMES_INFORMATION, buf, len, names, 0, 600);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], ".");
  cl(f, d);
}

static size_t list(fx *f, const char *pattern, char names[][64],
                   uint32_t *first_status) {
  smbx_smb2_fileid d = open_dir(f, "p");
  uint8_t buf[4096];
  uint32_t len;
  size_t n = 0;
  uint32_t st = qd(f->fs, d,
                                        SMBX_SMB2_FILE_NAMES_INFORMATION, 0,
                                        pattern, buf, sizeof buf,
                                        &len);
  *first_status = st;
  while (st == SMBX_STATUS_SUCCESS) {
    n = collect(SMBX_SMB2_FILE_NAMES_INFORMATION, buf, len, names, n, 16);
    st = qd(f->fs, d, SMBX_SMB2_FILE_NAMES_INFORMATION,
                                 0, NULL, buf, sizeof buf, &len);
  }
  assert_int_equal(st, n ? SMBX_STATUS_NO_MORE_FILES
                         : SMBX_STATUS_NO_SUCH_FILE);
  if (!n) { /* the call after NO_SUCH_FILE */
    assert_int_equal(qd(
                         f->fs, d, SMBX_SMB2_FILE_NAMES_INFORMATION, 0, NULL, buf, sizeof buf, &len),
                     SMBX_STATUS_NO_MORE_FILES);
  }
  cl(f, d);
  return n;
}

static int has(char names[][64], size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (!strcmp(names[i], s)) return 1;
  return 0;
}

static void smb2_4_10_patterns_star_qm_exact_dos(void **state) {
  fx *f = *state;
  char names[16][64];
  uint32_t st;
  size_t n;
  mk(f, "p");
  put_file(f, "p/a.txt", "");
  put_file(f, "p/B.TXT", "");
  put_file(f, "p/abc", "");
  put_file(f, "p/x.y.z", "");
  n = list(f, "*", names, &st);
  assert_int_equal(n, 6);
  n = list(f, "*.txt", names, &st); /* case-insensitive */
  assert_int_equal(n, 2);
  assert_true(has(names, n, "a.txt") && has(names, n, "B.TXT"));
  n = list(f, "?bc", names, &st);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "abc");
  n = list(f, "ABC", names, &st);
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "abc");
  n = list(f, "a??", names, &st);
  assert_int_equal(n, 1);
  n = list(f, "<.z", names, &st); /* DOS_STAR stops at the last dot */
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "x.y.z");
  n = list(f, "<", names, &st); /* names without a dot (and "."?) */
  assert_true(has(names, n, "abc"));
  assert_false(has(names, n, "a.txt"));
  n = list(f, "a>>>.txt", names, &st); /* DOS_QM collapses before '.' */
  assert_int_equal(n, 1);
  assert_string_equal(names[0], "a.txt");
  n = list(f, "abc\"", names, &st); /* DOS_DOT matches zero at the end */
  assert_int_equal(n, 1);
  n = list(f, "x\"y.z", names, &st); /* DOS_DOT matches a '.' */
  assert_int_equal(n, 1);
  n = list(f, "nomatch*", names, &st);
  assert_int_equal(n, 0);
  assert_int_equal(st, SMBX_STATUS_NO_SUCH_FILE);
  /* many stars stay fast (memoised matcher); over 1024 bytes is invalid */
  char stars[1100];
  memset(stars, '*', 300);
  strcpy(stars + 300, "zz");
  n = list(f, stars, names, &st);
  assert_int_equal(n, 0);
  memset(stars, '*', 1025);
  stars[1025] = '\0';
  smbx_smb2_fileid d0 = open_dir(f, "p");
  uint8_t b0[256];
  uint32_t l0;
  assert_int_equal(qd(f->fs, d0, 1, 0, stars, b0, sizeof b0, &l0),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  cl(f, d0);
  /* invalid pattern */
  smbx_smb2_fileid d = open_dir(f, "p");
  uint8_t buf[256];
  uint32_t len;
  assert_int_equal(qd(f->fs, d, 1, 0, "a\\b", buf, sizeof buf, &len),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  cl(f, d);
}

static void smb2_4_10_every_class_decodes(void **state) {
  fx *f = *state;
  static const uint8_t cls[] = {1, 2, 3, 12, 37, 38, 60};
  mk(f, "c");
  put_file(f, "c/hello.txt", "12345");
  for (size_t i = 0; i < sizeof cls; i++) {
    smbx_smb2_fileid d = open_dir(f, "c");
    uint8_t buf[2048];
    uint32_t len;
    assert_int_equal(qd(f->fs, d, cls[i], 0,
                                             "hello.txt", buf,
                                             sizeof buf, &len),
                     SMBX_STATUS_SUCCESS);
    smbx_smb2_dir_iter it;
    smbx_smb2_dir_entry e;
    assert_int_equal(smbx_smb2_dir_iter_init(&it, cls[i], buf, len), 0);
    assert_int_equal(smbx_smb2_dir_iter_next(&it, &e, NULL), 1);
    assert_int_equal(e.file_name.len, 18);
    assert_memory_equal(e.file_name.p, u16("hello.txt"), 18);
    assert_int_equal(len, smbx_smb2_dir_entry_fixed_size(cls[i]) + 18);
    if (cls[i] != SMBX_SMB2_FILE_NAMES_INFORMATION) {
      assert_int_equal(e.end_of_file, 5);
      assert_int_equal(e.file_attributes, POSIXFS_ATTR_ARCHIVE);
      assert_true(e.last_write_time > 116444736000000000ull);
    }
    if (cls[i] == 37 || cls[i] == 38) assert_true(e.file_id != 0);
    assert_int_equal(smbx_smb2_dir_iter_next(&it, &e, NULL), 0);
    assert_int_equal(qd(f->fs, d, cls[i], 0, NULL,
                                             buf, sizeof buf, &len),
                     SMBX_STATUS_NO_MORE_FILES);
    cl(f, d);
  }
}

static void smb2_4_10_buffer_limits_and_bad_class(void **state) {
  fx *f = *state;
  mk(f, "l");
  put_file(f, "l/a-rather-long-file-name-for-overflow", "");
  smbx_smb2_fileid d = open_dir(f, "l");
  uint8_t buf[256];
  uint32_t len;
  assert_int_equal(qd(f->fs, d, 7, 0, NULL, buf,
                                           sizeof buf, &len),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  assert_int_equal(qd(f->fs, d, 1, 0, NULL, buf, 63,
                                           &len),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  /* the first entry does not fit: BUFFER_OVERFLOW with a truncated entry,
   * and the entry is offered again */
  assert_int_equal(qd(f->fs, d, 1, 0, "a-*",
                                           buf, 70, &len),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(len, 70);
  assert_int_equal(qd(f->fs, d, 1, 0, NULL, buf,
                                           sizeof buf, &len),
                   SMBX_STATUS_SUCCESS);
  char names[4][64];
  assert_int_equal(collect(1, buf, len, names, 0, 4), 1);
  assert_string_equal(names[0], "a-rather-long-file-name-for-overflow");
  cl(f, d);
  /* a file handle is not a directory */
  posixfs_create_result r;
  assert_int_equal(cr(f, "l\\a-rather-long-file-name-for-overflow",
                      POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(qd(f->fs, r.file_id, 1, 0, NULL,
                                           buf, sizeof buf, &len),
                   SMBX_STATUS_INVALID_PARAMETER);
  cl(f, r.file_id);
}

/* ------------------------------------------------------------------ */
/* 4.12 QUERY_INFO / SET_INFO */

static uint32_t qi(fx *f, smbx_smb2_fileid id, uint8_t type, uint8_t cls,
                   uint8_t *out, uint32_t cap, uint32_t *n) {
  return posixfs_query_info(f->fs, id, type, cls, out, cap, n);
}

static uint32_t rd32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static void smb2_4_12_file_info_classes_decode(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  mk(f, "dir");
  put_file(f, "dir/info.bin", "0123456789");
  assert_int_equal(cr(f, "dir\\info.bin", RW | POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      0, &r),
                   SMBX_STATUS_SUCCESS);
  uint8_t out[512];
  uint32_t n;
  smbx_smb2_file_basic_info b;
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n), 0);
  assert_int_equal(n, 40);
  assert_int_equal(smbx_smb2_file_basic_info_decode(out, n, &b, NULL), 0);
  assert_int_equal(b.file_attributes, POSIXFS_ATTR_ARCHIVE);
  assert_int_equal(b.last_write_time, r.info.last_write_time);
  smbx_smb2_file_standard_info s;
  assert_int_equal(qi(f, r.file_id, 1, 5, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_standard_info_decode(out, n, &s, NULL), 0);
  assert_int_equal(s.end_of_file, 10);
  assert_int_equal(s.number_of_links, 1);
  assert_int_equal(s.directory, 0);
  smbx_smb2_file_internal_info in;
  assert_int_equal(qi(f, r.file_id, 1, 6, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_internal_info_decode(out, n, &in, NULL), 0);
  assert_int_equal(in.index_number, r.disk_file_id);
  smbx_smb2_file_all_info a;
  assert_int_equal(qi(f, r.file_id, 1, 18, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_all_info_decode(out, n, &a, NULL), 0);
  assert_int_equal(a.standard.end_of_file, 10);
  assert_int_equal(a.access_flags, r.granted_access);
  u16("\\dir\\info.bin");
  assert_int_equal(a.file_name.len, u16len);
  assert_memory_equal(a.file_name.p, u16("\\dir\\info.bin"), u16len);
  /* All with room for the fixed part only: BUFFER_OVERFLOW */
  assert_int_equal(qi(f, r.file_id, 1, 18, out, 104, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 104);
  assert_int_equal(qi(f, r.file_id, 1, 18, out, 103, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qi(f, r.file_id, 1, 9, out, 7, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qi(f, r.file_id, 1, 9, out, 8, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  smbx_smb2_file_network_open_info no;
  assert_int_equal(qi(f, r.file_id, 1, 34, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_network_open_info_decode(out, n, &no, NULL),
                   0);
  assert_int_equal(no.end_of_file, 10);
  /* fixed-size classes */
  static const struct {
    uint8_t cls;
    uint32_t len;
  } fx_[] = {{7, 4}, {8, 4}, {14, 8}, {16, 4}, {17, 4}, {35, 8}, {28, 16}};
  for (size_t i = 0; i < sizeof fx_ / sizeof fx_[0]; i++) {
    assert_int_equal(qi(f, r.file_id, 1, fx_[i].cls, out, sizeof out, &n), 0);
    assert_int_equal(n, fx_[i].len);
    assert_int_equal(qi(f, r.file_id, 1, fx_[i].cls, out, fx_[i].len - 1, &n),
                     SMBX_STATUS_INFO_LENGTH_MISMATCH);
  }
  assert_int_equal(qi(f, r.file_id, 1, 8, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out), r.granted_access);
  assert_int_equal(qi(f, r.file_id, 1, 35, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out), POSIXFS_ATTR_ARCHIVE);
  /* stream information: one ::$DATA entry */
  assert_int_equal(qi(f, r.file_id, 1, 22, out, sizeof out, &n), 0);
  assert_int_equal(n, 38);
  assert_int_equal(rd32(out + 4), 14);
  assert_int_equal(out[8], 10);
  assert_memory_equal(out + 24, u16("::$DATA"), 14);
  /* name information */
  assert_int_equal(qi(f, r.file_id, 1, 9, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out), 26);
  /* alternate (8.3) name: the name itself when it fits 12 UTF-16 units */
  assert_int_equal(qi(f, r.file_id, 1, 21, out, sizeof out, &n), 0);
  assert_int_equal(n, 4 + 16);
  assert_int_equal(rd32(out), 16);
  assert_memory_equal(out + 4, u16("info.bin"), 16);
  assert_int_equal(qi(f, r.file_id, 1, 21, out, 7, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qi(f, r.file_id, 1, 99, out, sizeof out, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  assert_int_equal(qi(f, r.file_id, 3, 0, out, sizeof out, &n),
                   SMBX_STATUS_NOT_SUPPORTED);
  cl(f, r.file_id);
  /* attribute access needed */
  assert_int_equal(cr(f, "dir\\info.bin", POSIXFS_READ_DATA, 7, POSIXFS_OPEN,
                      0, &r),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, r.file_id);
  /* a directory */
  smbx_smb2_fileid d = open_dir(f, "dir");
  assert_int_equal(qi(f, d, 1, 5, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_standard_info_decode(out, n, &s, NULL), 0);
  assert_int_equal(s.directory, 1);
  assert_int_equal(qi(f, d, 1, 22, out, sizeof out, &n), 0);
  assert_int_equal(n, 0);
  assert_int_equal(qi(f, d, 1, 21, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out), 6);
  assert_memory_equal(out + 4, u16("dir"), 6);
  cl(f, d);
  /* a longer name is cut to 12 units; a pair (U+1F600) straddling the
     cut is dropped whole */
  put_file(f, "dir/a_much_longer_name.txt", "x");
  put_file(f, "dir/elevenchars\xF0\x9F\x98\x80.txt", "x");
  static const struct {
    const char *path, *alt;
    uint32_t len;
  } alts[] = {{"dir\\a_much_longer_name.txt", "a_much_longe", 24},
              {"dir\\elevenchars\xF0\x9F\x98\x80.txt", "elevenchars", 22}};
  for (size_t i = 0; i < sizeof alts / sizeof alts[0]; i++) {
    assert_int_equal(cr(f, alts[i].path, RW, 7, POSIXFS_OPEN, 0, &r),
                     SMBX_STATUS_SUCCESS);
    assert_int_equal(qi(f, r.file_id, 1, 21, out, sizeof out, &n), 0);
    assert_int_equal(rd32(out), alts[i].len);
    assert_int_equal(n, 4 + alts[i].len);
    assert_memory_equal(out + 4, u16(alts[i].alt), alts[i].len);
    cl(f, r.file_id);
  }
}

static void smb2_4_12_fs_info_classes(void **state) {
  fx *f = *state;
  smbx_smb2_fileid d = open_dir(f, "");
  uint8_t out[256];
  uint32_t n;
  static const struct {
    uint8_t cls;
    uint32_t len, fixed;
  } t[] = {{1, 18, 18}, {3, 24, 24}, {4, 8, 8},
           {5, 20, 12}, {7, 32, 32}, {11, 28, 28}};
  for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
    assert_int_equal(qi(f, d, 2, t[i].cls, out, sizeof out, &n), 0);
    assert_int_equal(n, t[i].len);
    assert_int_equal(qi(f, d, 2, t[i].cls, out, t[i].fixed - 1, &n),
                     SMBX_STATUS_INFO_LENGTH_MISMATCH);
  }
  assert_int_equal(qi(f, d, 2, 5, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out + 4), 255);
  assert_int_equal(rd32(out + 8), 8);
  assert_memory_equal(out + 12, u16("NTFS"), 8);
  assert_int_equal(qi(f, d, 2, 5, out, 16, &n), SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(qi(f, d, 2, 7, out, sizeof out, &n), 0);
  assert_true(out[0] | out[1] | out[2] | out[3]); /* total units > 0 */
  assert_int_equal(rd32(out + 28), 512);
  assert_int_equal(qi(f, d, 2, 4, out, sizeof out, &n), 0);
  assert_int_equal(rd32(out), 7);
  assert_int_equal(qi(f, d, 2, 2, out, sizeof out, &n),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  cl(f, d);
}

static void smb2_4_12_set_eof_allocation_basic_position(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  assert_int_equal(cr(f, "e", RW | POSIXFS_WRITE_ATTRIBUTES, 7, POSIXFS_CREATE,
                      0, &r),
                   SMBX_STATUS_SUCCESS);
  uint8_t v[8] = {100, 0, 0, 0, 0, 0, 0, 0};
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 20, v, 8), 0);
  assert_int_equal(fsize(f, "e"), 100);
  v[0] = 10;
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 19, v, 8), 0);
  assert_int_equal(fsize(f, "e"), 10); /* allocation below EOF truncates */
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 20, v, 7),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  v[0] = 42;
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 14, v, 8), 0);
  uint8_t out[128];
  uint32_t n;
  assert_int_equal(qi(f, r.file_id, 1, 14, out, sizeof out, &n), 0);
  assert_int_equal(out[0], 42);
  /* basic: set last write time, keep others (0) */
  smbx_smb2_file_basic_info b;
  memset(&b, 0, sizeof b);
  b.last_write_time = 130000000000000000ull; /* 2012 */
  uint8_t bb[40];
  assert_int_equal(smbx_smb2_file_basic_info_encode(&b, bb, sizeof bb, NULL),
                   40);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40), 0);
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n), 0);
  smbx_smb2_file_basic_info g;
  assert_int_equal(smbx_smb2_file_basic_info_decode(out, n, &g, NULL), 0);
  assert_int_equal(g.last_write_time, 130000000000000000ull);
  assert_int_equal(g.file_attributes, POSIXFS_ATTR_ARCHIVE); /* default */
  /* HIDDEN is kept (xattr) and reported instead of the default ARCHIVE;
   * NORMAL clears the kept ones; 0 keeps them */
  b.last_write_time = 0;
  b.file_attributes = POSIXFS_ATTR_HIDDEN;
  smbx_smb2_file_basic_info_encode(&b, bb, sizeof bb, NULL);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40), 0);
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_basic_info_decode(out, n, &g, NULL), 0);
  assert_int_equal(g.file_attributes, POSIXFS_ATTR_HIDDEN);
  b.file_attributes = 0;
  smbx_smb2_file_basic_info_encode(&b, bb, sizeof bb, NULL);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40), 0);
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_basic_info_decode(out, n, &g, NULL), 0);
  assert_int_equal(g.file_attributes, POSIXFS_ATTR_HIDDEN);
  b.file_attributes = POSIXFS_ATTR_NORMAL;
  smbx_smb2_file_basic_info_encode(&b, bb, sizeof bb, NULL);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40), 0);
  assert_int_equal(qi(f, r.file_id, 1, 4, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_basic_info_decode(out, n, &g, NULL), 0);
  assert_int_equal(g.file_attributes, POSIXFS_ATTR_NORMAL);
  b.file_attributes = POSIXFS_ATTR_DIRECTORY;
  smbx_smb2_file_basic_info_encode(&b, bb, sizeof bb, NULL);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 99, bb, 40),
                   SMBX_STATUS_INVALID_INFO_CLASS);
  cl(f, r.file_id);
  /* EOF needs WRITE_DATA */
  assert_int_equal(cr(f, "e", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &r), 0);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 20, v, 8),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 4, bb, 40),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, r.file_id);
}

static uint32_t ren(fx *f, smbx_smb2_fileid id, const char *to, int replace) {
  smbx_smb2_file_rename_info ri;
  memset(&ri, 0, sizeof ri);
  ri.replace_if_exists = (uint8_t)replace;
  ri.file_name.p = u16(to);
  ri.file_name.len = u16len;
  uint8_t b[512];
  smbx_ssize n = smbx_smb2_file_rename_info_encode(&ri, b, sizeof b, NULL);
  assert_true(n > 0);
  return posixfs_set_info(f->fs, id, 1, SMBX_SMB2_FILE_RENAME_INFORMATION, b,
                          (size_t)n);
}

static void smb2_4_12_rename_replace_and_open_file(void **state) {
  fx *f = *state;
  posixfs_create_result a, b;
  put_file(f, "src", "source");
  put_file(f, "dst", "old");
  mk(f, "sub");
  assert_int_equal(cr(f, "src", POSIXFS_DELETE | RW, 7, POSIXFS_OPEN, 0, &a),
                   0);
  assert_int_equal(ren(f, a.file_id, "dst", 0),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  assert_true(exists(f, "src"));
  /* target open elsewhere: refused even with replace */
  assert_int_equal(cr(f, "dst", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &b), 0);
  assert_int_equal(ren(f, a.file_id, "dst", 1), SMBX_STATUS_ACCESS_DENIED);
  cl(f, b.file_id);
  assert_int_equal(ren(f, a.file_id, "dst", 1), 0);
  assert_false(exists(f, "src"));
  assert_int_equal(fsize(f, "dst"), 6);
  /* the open handle follows: its name is the new one; reads still work */
  uint8_t out[256];
  uint32_t n;
  smbx_smb2_file_all_info ai;
  assert_int_equal(qi(f, a.file_id, 1, 18, out, sizeof out, &n), 0);
  assert_int_equal(smbx_smb2_file_all_info_decode(out, n, &ai, NULL), 0);
  u16("\\dst");
  assert_int_equal(ai.file_name.len, u16len);
  assert_memory_equal(ai.file_name.p, u16("\\dst"), u16len);
  /* into a subdirectory, with a leading backslash */
  assert_int_equal(ren(f, a.file_id, "\\sub\\moved", 0), 0);
  assert_true(exists(f, "sub/moved"));
  assert_int_equal(posixfs_read(f->fs, a.file_id, 0, out, 6, &n), 0);
  assert_memory_equal(out, "source", 6);
  assert_int_equal(ren(f, a.file_id, "nodir\\x", 0),
                   SMBX_STATUS_OBJECT_PATH_NOT_FOUND);
  assert_int_equal(ren(f, a.file_id, "..\\x", 0),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
  cl(f, a.file_id);
  /* replace over a directory is refused; without DELETE access too */
  put_file(f, "f2", "x");
  assert_int_equal(cr(f, "f2", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &a), 0);
  assert_int_equal(ren(f, a.file_id, "sub", 1), SMBX_STATUS_ACCESS_DENIED);
  cl(f, a.file_id);
  assert_int_equal(cr(f, "f2", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0, &a), 0);
  assert_int_equal(ren(f, a.file_id, "f3", 1), SMBX_STATUS_ACCESS_DENIED);
  cl(f, a.file_id);
}

/* ------------------------------------------------------------------ */
/* LOCK */

static smbx_smb2_lock_element le(uint64_t off, uint64_t len, uint32_t fl) {
  smbx_smb2_lock_element e;
  memset(&e, 0, sizeof e);
  e.offset = off;
  e.length = len;
  e.flags = fl;
  return e;
}

#define EXF (SMBX_SMB2_LOCKFLAG_EXCLUSIVE | SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY)
#define SHF (SMBX_SMB2_LOCKFLAG_SHARED | SMBX_SMB2_LOCKFLAG_FAIL_IMMEDIATELY)
#define UNL SMBX_SMB2_LOCKFLAG_UNLOCK

static void fsa_locks_conflicts_unlock_release(void **state) {
  fx *f = *state;
  posixfs_create_result a, b;
  put_file(f, "lk", "0123456789abcdef");
  assert_int_equal(cr(f, "lk", RW, 7, POSIXFS_OPEN, 0, &a), 0);
  assert_int_equal(cr(f, "lk", RW, 7, POSIXFS_OPEN, 0, &b), 0);
  smbx_smb2_lock_element e = le(0, 10, EXF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1), 0);
  /* overlapping exclusive / shared from another handle */
  e = le(5, 10, EXF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1),
                   SMBX_STATUS_LOCK_NOT_GRANTED);
  e = le(9, 1, SHF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1),
                   SMBX_STATUS_LOCK_NOT_GRANTED);
  /* adjacent range is free */
  e = le(10, 5, SHF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1), 0);
  /* same handle exclusive over its own lock also conflicts */
  e = le(0, 1, EXF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1),
                   SMBX_STATUS_LOCK_NOT_GRANTED);
  /* blocking request: PENDING, epoch changes on unlock, then granted */
  e = le(0, 4, SMBX_SMB2_LOCKFLAG_EXCLUSIVE);
  uint64_t ep = posixfs_lock_epoch(f->fs);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1), SMBX_STATUS_PENDING);
  /* I/O against the locks */
  uint8_t buf[4];
  uint32_t n;
  assert_int_equal(posixfs_read(f->fs, b.file_id, 2, buf, 2, &n),
                   SMBX_STATUS_FILE_LOCK_CONFLICT);
  assert_int_equal(posixfs_read(f->fs, a.file_id, 2, buf, 2, &n), 0);
  assert_int_equal(posixfs_write(f->fs, a.file_id, 11, buf, 1, &n),
                   SMBX_STATUS_FILE_LOCK_CONFLICT); /* b's shared lock */
  /* unlock of a range not held (different length / other handle) */
  e = le(0, 9, UNL);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1),
                   SMBX_STATUS_RANGE_NOT_LOCKED);
  e = le(0, 10, UNL);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1),
                   SMBX_STATUS_RANGE_NOT_LOCKED);
  assert_int_equal(posixfs_lock_epoch(f->fs), ep);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1), 0);
  assert_true(posixfs_lock_epoch(f->fs) != ep);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1),
                   SMBX_STATUS_RANGE_NOT_LOCKED);
  e = le(0, 4, SMBX_SMB2_LOCKFLAG_EXCLUSIVE);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, &e, 1), 0);
  /* release on close: a can now lock what b held */
  ep = posixfs_lock_epoch(f->fs);
  cl(f, b.file_id);
  assert_true(posixfs_lock_epoch(f->fs) != ep);
  e = le(0, 16, EXF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, &e, 1), 0);
  cl(f, a.file_id);
}

static void fsa_locks_shared_multi_element_and_ranges(void **state) {
  fx *f = *state;
  posixfs_create_result a, b;
  put_file(f, "lk", "x");
  assert_int_equal(cr(f, "lk", RW, 7, POSIXFS_OPEN, 0, &a), 0);
  assert_int_equal(cr(f, "lk", RW, 7, POSIXFS_OPEN, 0, &b), 0);
  smbx_smb2_lock_element e[2];
  e[0] = le(0, 10, SHF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 1), 0);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 1), 0); /* shared+shared */
  /* two elements, the second conflicts: the first is rolled back */
  e[0] = le(100, 10, EXF);
  e[1] = le(5, 1, EXF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 2),
                   SMBX_STATUS_LOCK_NOT_GRANTED);
  e[0] = le(100, 10, EXF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 1), 0);
  /* mixed lock/unlock and bad flags */
  e[0] = le(0, 1, SHF);
  e[1] = le(0, 1, UNL);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 2),
                   SMBX_STATUS_INVALID_PARAMETER);
  e[0] = le(0, 1, SMBX_SMB2_LOCKFLAG_SHARED | SMBX_SMB2_LOCKFLAG_EXCLUSIVE);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 1),
                   SMBX_STATUS_INVALID_PARAMETER);
  /* wrapping range */
  e[0] = le(UINT64_MAX, 2, EXF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 1),
                   POSIXFS_STATUS_INVALID_LOCK_RANGE);
  /* a zero-length lock meets a range holding it past its first byte
   * (s < X < s+len); at the first byte, or against another zero-length
   * lock, it does not */
  e[0] = le(5, 0, EXF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 1),
                   SMBX_STATUS_LOCK_NOT_GRANTED);
  e[0] = le(0, 0, EXF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 1), 0);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 1), 0);
  e[0] = le(0, 0, UNL);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 1), 0);
  /* several elements: each must be FAIL_IMMEDIATELY */
  e[0] = le(200, 1, SMBX_SMB2_LOCKFLAG_SHARED);
  e[1] = le(300, 1, SHF);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 2),
                   SMBX_STATUS_INVALID_PARAMETER);
  /* unlocks run element by element and are not rolled back */
  e[0] = le(100, 10, UNL);
  e[1] = le(100, 10, UNL);
  assert_int_equal(posixfs_lock(f->fs, a.file_id, e, 2),
                   SMBX_STATUS_RANGE_NOT_LOCKED);
  e[0] = le(100, 10, EXF);
  assert_int_equal(posixfs_lock(f->fs, b.file_id, e, 1), 0);
  cl(f, a.file_id);
  cl(f, b.file_id);
}

/* ------------------------------------------------------------------ */
/* 4.11 CHANGE_NOTIFY */

typedef struct nrec {
  uint32_t action;
  char name[64];
} nrec;

static size_t take(fx *f, smbx_smb2_fileid d, nrec *out, size_t max) {
  uint8_t buf[4096];
  uint32_t len;
  size_t k = 0;
  assert_true(posixfs_notify_drain(f->fs) >= 0);
  uint32_t st = posixfs_notify_take(f->fs, d, buf, sizeof buf, &len);
  if (st == SMBX_STATUS_PENDING) return 0;
  assert_int_equal(st, SMBX_STATUS_SUCCESS);
  smbx_smb2_notify_iter it;
  smbx_smb2_notify_entry e;
  assert_int_equal(smbx_smb2_notify_iter_init(&it, buf, len), 0);
  int rc;
  while ((rc = smbx_smb2_notify_iter_next(&it, &e, NULL)) == 1) {
    assert_true(k < max);
    size_t n = 0;
    out[k].action = e.action;
    assert_int_equal(smbx_utf16le_to_utf8(e.file_name.p, e.file_name.len,
                                          (uint8_t *)out[k].name, 63, &n),
                     0);
    out[k].name[n] = '\0';
    k++;
  }
  assert_int_equal(rc, 0);
  return k;
}

static void smb2_4_11_notify_create_delete_rename(void **state) {
  fx *f = *state;
  mk(f, "w");
  smbx_smb2_fileid d = open_dir(f, "w");
  assert_true(posixfs_notify_fd(f->fs) >= 0);
  assert_int_equal(posixfs_notify_watch(f->fs, d,
                                        SMBX_SMB2_NOTIFY_FILE_NAME |
                                            SMBX_SMB2_NOTIFY_DIR_NAME,
                                        0),
                   0);
  nrec ev[16];
  uint8_t buf[256];
  uint32_t len;
  assert_int_equal(posixfs_notify_take(f->fs, d, buf, sizeof buf, &len),
                   SMBX_STATUS_PENDING);
  posixfs_create_result r;
  assert_int_equal(cr(f, "w\\new.txt", RW | POSIXFS_DELETE, 7, POSIXFS_CREATE,
                      0, &r),
                   0);
  size_t n = take(f, d, ev, 16);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_ADDED);
  assert_string_equal(ev[0].name, "new.txt");
  /* rename inside the watched dir */
  assert_int_equal(ren(f, r.file_id, "w\\renamed.txt", 0), 0);
  n = take(f, d, ev, 16);
  assert_int_equal(n, 2);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_RENAMED_OLD_NAME);
  assert_string_equal(ev[0].name, "new.txt");
  assert_int_equal(ev[1].action, SMBX_SMB2_ACTION_RENAMED_NEW_NAME);
  assert_string_equal(ev[1].name, "renamed.txt");
  /* delete on close */
  uint8_t one = 1;
  assert_int_equal(posixfs_set_info(f->fs, r.file_id, 1, 13, &one, 1), 0);
  cl(f, r.file_id);
  n = take(f, d, ev, 16);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_REMOVED);
  assert_string_equal(ev[0].name, "renamed.txt");
  /* a write is not in the filter */
  put_file(f, "w/other", "x");
  n = take(f, d, ev, 16);
  assert_int_equal(n, 1); /* ADDED only; the MODIFIED is filtered out */
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_ADDED);
  /* a buffer too small for the first entry: NOTIFY_ENUM_DIR */
  put_file(f, "w/a-long-enough-name", "");
  assert_true(posixfs_notify_drain(f->fs) >= 1);
  assert_int_equal(posixfs_notify_take(f->fs, d, buf, 16, &len),
                   SMBX_STATUS_NOTIFY_ENUM_DIR);
  assert_int_equal(len, 0);
  assert_int_equal(posixfs_notify_take(f->fs, d, buf, sizeof buf, &len),
                   SMBX_STATUS_PENDING);
  cl(f, d);
  /* deleting the watched directory completes the watch: DELETE_PENDING */
  mk(f, "gone");
  posixfs_create_result g;
  assert_int_equal(cr(f, "gone", POSIXFS_READ_DATA | POSIXFS_DELETE, 7,
                      POSIXFS_OPEN, POSIXFS_DIRECTORY_FILE, &g),
                   0);
  assert_int_equal(posixfs_notify_watch(f->fs, g.file_id, 3, 0), 0);
  assert_int_equal(posixfs_set_info(f->fs, g.file_id, 1, 13, &one, 1), 0);
  assert_int_equal(posixfs_notify_take(f->fs, g.file_id, buf, sizeof buf,
                                       &len),
                   SMBX_STATUS_DELETE_PENDING);
  assert_int_equal(posixfs_notify_take(f->fs, g.file_id, buf, sizeof buf,
                                       &len),
                   SMBX_STATUS_INVALID_PARAMETER);
  cl(f, g.file_id);
  assert_false(exists(f, "gone"));
  /* a file handle cannot be watched */
  assert_int_equal(cr(f, "w\\other", POSIXFS_READ_DATA, 7, POSIXFS_OPEN, 0,
                      &r),
                   0);
  assert_int_equal(posixfs_notify_watch(f->fs, r.file_id, 1, 0),
                   SMBX_STATUS_INVALID_PARAMETER);
  cl(f, r.file_id);
}

static void smb2_4_11_notify_watch_tree_subdirectories(void **state) {
  fx *f = *state;
  mk(f, "t");
  mk(f, "t/a");
  smbx_smb2_fileid flat = open_dir(f, "t");
  smbx_smb2_fileid tree = open_dir(f, "t");
  assert_int_equal(posixfs_notify_watch(f->fs, flat, 3, 0), 0);
  assert_int_equal(posixfs_notify_watch(f->fs, tree, 3, 1), 0);
  put_file(f, "t/a/deep", "");
  nrec ev[8];
  size_t n = take(f, tree, ev, 8);
  assert_int_equal(n, 1);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_ADDED);
  assert_string_equal(ev[0].name, "a\\deep");
  assert_int_equal(take(f, flat, ev, 8), 0);
  /* a new subdirectory is watched too */
  mk(f, "t/b");
  n = take(f, tree, ev, 8);
  assert_int_equal(n, 1);
  assert_string_equal(ev[0].name, "b");
  n = take(f, flat, ev, 8);
  assert_int_equal(n, 1);
  assert_string_equal(ev[0].name, "b");
  put_file(f, "t/b/x", "");
  n = take(f, tree, ev, 8);
  assert_int_equal(n, 1);
  assert_string_equal(ev[0].name, "b\\x");
  /* a move between two directories of the tree: REMOVED + ADDED */
  char from[256], to[256];
  snprintf(from, sizeof from, "%s/t/b/x", f->dir);
  snprintf(to, sizeof to, "%s/t/a/x", f->dir);
  assert_int_equal(rename(from, to), 0);
  n = take(f, tree, ev, 8);
  assert_int_equal(n, 2);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_REMOVED);
  assert_string_equal(ev[0].name, "b\\x");
  assert_int_equal(ev[1].action, SMBX_SMB2_ACTION_ADDED);
  assert_string_equal(ev[1].name, "a\\x");
  /* a write reaches a LAST_WRITE watcher as MODIFIED */
  assert_int_equal(posixfs_notify_watch(f->fs, flat,
                                        SMBX_SMB2_NOTIFY_LAST_WRITE, 0),
                   0);
  put_file(f, "t/y0", "");
  assert_int_equal(take(f, flat, ev, 8), 0); /* creation: not in filter */
  put_file(f, "t/y0", "data");
  n = take(f, flat, ev, 8);
  assert_true(n >= 1);
  assert_int_equal(ev[0].action, SMBX_SMB2_ACTION_MODIFIED);
  assert_string_equal(ev[0].name, "y0");
  assert_int_equal(posixfs_notify_watch(f->fs, flat, 3, 0), 0);
  /* closing one watcher leaves the other working */
  cl(f, tree);
  put_file(f, "t/y", "");
  n = take(f, flat, ev, 8);
  assert_int_equal(n, 1);
  assert_string_equal(ev[0].name, "y");
  cl(f, flat);
}

/* MS-DTYP 2.4.6: the default descriptor maps the POSIX owner; a set DACL
 * is returned by later queries, other parts are kept; sizes and rights */
static void fsa_security_descriptor_query_and_set(void **state) {
  fx *f = *state;
  posixfs_create_result r, ro;
  assert_int_equal(cr(f, "sd", POSIXFS_READ_CONTROL | POSIXFS_WRITE_DAC, 7,
                      POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_SUCCESS);
  uint8_t sd[512];
  uint32_t n = 0;
  assert_int_equal(posixfs_query_security(f->fs, r.file_id, 7, sd, 0, &n),
                   SMBX_STATUS_BUFFER_TOO_SMALL);
  uint32_t need = n;
  assert_true(need > 20 && need <= sizeof sd);
  assert_int_equal(posixfs_query_security(f->fs, r.file_id, 7, sd, need, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, need);
  assert_int_equal(sd[0], 1);                     /* revision */
  assert_int_equal(sd[3] & 0x80, 0x80);           /* SELF_RELATIVE */
  assert_int_equal(sd[2] & 0x04, 0x04);           /* DACL_PRESENT */
  uint32_t own = sd[4] | (uint32_t)sd[5] << 8;    /* owner S-1-22-1-uid */
  assert_int_equal(sd[own + 7], 22);
  assert_int_equal(sd[own + 8], 1);
  assert_int_equal(sd[own + 12] | sd[own + 13] << 8, getuid() & 0xFFFFu);
  /* owner only: no DACL, no group */
  assert_int_equal(posixfs_query_security(f->fs, r.file_id, 1, sd, sizeof sd,
                                          &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(n, 20 + 16);
  /* set a DACL of one ACE (Everyone: READ_DATA) */
  static const uint8_t dacl_sd[] = {
      1, 0, 0x04, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 0, 0,
      2, 0, 28, 0, 1, 0, 0, 0,                       /* ACL, 1 ACE */
      0, 0, 20, 0, 1, 0, 0, 0,                       /* ALLOW READ_DATA */
      1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};           /* S-1-1-0 */
  assert_int_equal(posixfs_set_security(f->fs, r.file_id, 4, dacl_sd,
                                        sizeof dacl_sd),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_query_security(f->fs, r.file_id, 7, sd, sizeof sd,
                                          &n),
                   SMBX_STATUS_SUCCESS);
  uint32_t dacl = sd[16] | (uint32_t)sd[17] << 8;
  assert_int_not_equal(dacl, 0);
  assert_memory_equal(sd + dacl, dacl_sd + 20, 28);
  own = sd[4] | (uint32_t)sd[5] << 8; /* the owner is still the POSIX one */
  assert_int_equal(sd[own + 7], 22);
  /* malformed: an ACE running past AclSize */
  uint8_t bad[sizeof dacl_sd];
  memcpy(bad, dacl_sd, sizeof bad);
  bad[30] = 24;
  assert_int_equal(posixfs_set_security(f->fs, r.file_id, 4, bad, sizeof bad),
                   POSIXFS_STATUS_INVALID_SECURITY_DESCR);
  /* rights: owner needs WRITE_OWNER; a SACL is never granted */
  assert_int_equal(posixfs_set_security(f->fs, r.file_id, 1, dacl_sd,
                                        sizeof dacl_sd),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(posixfs_query_security(f->fs, r.file_id, 8, sd, sizeof sd,
                                          &n),
                   SMBX_STATUS_ACCESS_DENIED);
  assert_int_equal(cr(f, "sd", POSIXFS_READ_ATTRIBUTES, 7, POSIXFS_OPEN, 0,
                      &ro),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_query_security(f->fs, ro.file_id, 4, sd, sizeof sd,
                                          &n),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, ro.file_id);
  cl(f, r.file_id);
}

/* MS-FSA 2.1.5.1.1: creating a READONLY file with DELETE_ON_CLOSE fails */
static void fsa_delete_on_close_new_readonly_file(void **state) {
  fx *f = *state;
  posixfs_create_args a;
  posixfs_create_result r;
  memset(&a, 0, sizeof a);
  a.name = u16("ro");
  a.name_len = u16len;
  a.desired_access = POSIXFS_DELETE | RW;
  a.share_access = 7;
  a.create_disposition = POSIXFS_CREATE;
  a.create_options = POSIXFS_DELETE_ON_CLOSE;
  a.file_attributes = POSIXFS_ATTR_READONLY;
  assert_int_equal(posixfs_create(f->fs, &a, &r),
                   POSIXFS_STATUS_CANNOT_DELETE);
  assert_false(exists(f, "ro"));
}

/* FilePositionInformation follows reads (as Samba: smbtorture read.position) */
static void smb2_read_sets_position(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  put_file(f, "p", "0123456789abcdef");
  assert_int_equal(cr(f, "p", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_SUCCESS);
  uint8_t buf[16];
  uint32_t got = 0, n = 0;
  assert_int_equal(posixfs_read(f->fs, r.file_id, 3, buf, 7, &got),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(posixfs_query_info(f->fs, r.file_id, SMBX_SMB2_0_INFO_FILE,
                                      POSIXFS_FILE_POSITION_INFORMATION, buf,
                                      8, &n),
                   SMBX_STATUS_SUCCESS);
  assert_int_equal(buf[0], 10);
  cl(f, r.file_id);
}

/* Windows and Samba: an open of the source's directory with DELETE access
 * blocks a rename (SHARING_VIOLATION); one without DELETE does not */
static void fsa_rename_blocked_by_parent_open_with_delete(void **state) {
  fx *f = *state;
  posixfs_create_result d, r;
  mk(f, "rd");
  put_file(f, "rd/f", "x");
  assert_int_equal(cr(f, "rd", POSIXFS_DELETE | POSIXFS_READ_DATA, 7,
                      POSIXFS_OPEN, POSIXFS_DIRECTORY_FILE, &d),
                   0);
  assert_int_equal(cr(f, "rd\\f", POSIXFS_DELETE | RW, 7, POSIXFS_OPEN, 0,
                      &r),
                   0);
  assert_int_equal(ren(f, r.file_id, "rd\\g", 0),
                   SMBX_STATUS_SHARING_VIOLATION);
  assert_true(exists(f, "rd/f"));
  cl(f, d.file_id);
  assert_int_equal(cr(f, "rd", POSIXFS_READ_DATA, 7, POSIXFS_OPEN,
                      POSIXFS_DIRECTORY_FILE, &d),
                   0);
  assert_int_equal(ren(f, r.file_id, "rd\\g", 0), 0);
  assert_true(exists(f, "rd/g"));
  cl(f, d.file_id);
  cl(f, r.file_id);
}

/* FileNormalizedNameInformation (48): the share-relative name without the
 * leading `\`, empty for the root; FS classes Control (6), ObjectId (8) */
static void smb2_4_12_normalized_name_and_fs_control_objectid(void **state) {
  fx *f = *state;
  posixfs_create_result r, root;
  mk(f, "nd");
  put_file(f, "nd/Nf", "x");
  assert_int_equal(cr(f, "nd\\Nf", RW, 7, POSIXFS_OPEN, 0, &r), 0);
  uint8_t out[128];
  uint32_t n = 0;
  assert_int_equal(qi(f, r.file_id, 1, 48, out, sizeof out, &n), 0);
  u16("nd\\Nf");
  assert_int_equal(n, 4 + u16len);
  assert_int_equal(out[0], u16len);
  assert_memory_equal(out + 4, u16("nd\\Nf"), u16len);
  assert_int_equal(cr(f, "", POSIXFS_READ_ATTRIBUTES, 7, POSIXFS_OPEN, 0,
                      &root),
                   0);
  assert_int_equal(qi(f, root.file_id, 1, 48, out, sizeof out, &n), 0);
  assert_int_equal(n, 4);
  assert_int_equal(out[0], 0);
  assert_int_equal(qi(f, root.file_id, 2, 6, out, sizeof out, &n), 0);
  assert_int_equal(n, 48);
  assert_int_equal(out[24], 0xFF); /* DefaultQuotaThreshold: none */
  assert_int_equal(qi(f, root.file_id, 2, 6, out, 47, &n),
                   SMBX_STATUS_INFO_LENGTH_MISMATCH);
  assert_int_equal(qi(f, root.file_id, 2, 8, out, sizeof out, &n), 0);
  assert_int_equal(n, 64);
  cl(f, root.file_id);
  cl(f, r.file_id);
}

/* MS-FSA 2.1.5.10: queued changes that do not all fit the buffer are
 * dropped with NOTIFY_ENUM_DIR (smbtorture smb2.notify.overflow) */
static void smb2_4_11_notify_changes_not_fitting_enum_dir(void **state) {
  fx *f = *state;
  mk(f, "ov");
  smbx_smb2_fileid d = open_dir(f, "ov");
  assert_int_equal(posixfs_notify_watch(f->fs, d, SMBX_SMB2_NOTIFY_FILE_NAME,
                                        0),
                   0);
  put_file(f, "ov/a1", "");
  put_file(f, "ov/a2", "");
  put_file(f, "ov/a3", "");
  assert_true(posixfs_notify_drain(f->fs) >= 0);
  uint8_t buf[256];
  uint32_t len = 0;
  /* one entry is 12 + 4 bytes: 20 bytes hold one, not three */
  assert_int_equal(posixfs_notify_take(f->fs, d, buf, 20, &len),
                   SMBX_STATUS_NOTIFY_ENUM_DIR);
  assert_int_equal(len, 0);
  assert_int_equal(posixfs_notify_take(f->fs, d, buf, sizeof buf, &len),
                   SMBX_STATUS_PENDING); /* the queue went with it */
  cl(f, d);
}

/* ExtA on CREATE stores EAs; FileFullEaInformation (15) lists them (names
 * upper-cased), FileEaInformation (7) gives their size; READ_EA needed;
 * a malformed list is INVALID_PARAMETER; none -> NO_EAS_ON_FILE */
static void smb2_4_12_extended_attributes(void **state) {
  fx *f = *state;
  static const uint8_t ea[] = {
      16, 0, 0, 0, 0, 3, 2, 0, 'o', 'n', 'e', 0, 'v', '1', 0, 0, /* "one" */
      0,  0, 0, 0, 0, 3, 1, 0, 'T', 'W', 'O', 0, 'x'};          /* "TWO" */
  posixfs_create_args a;
  posixfs_create_result r, ro;
  memset(&a, 0, sizeof a);
  a.name = u16("eaf");
  a.name_len = u16len;
  a.desired_access = RW | POSIXFS_READ_EA;
  a.share_access = 7;
  a.create_disposition = POSIXFS_CREATE;
  a.eas = ea;
  a.eas_len = sizeof ea;
  assert_int_equal(posixfs_create(f->fs, &a, &r), 0);
  uint8_t out[256];
  uint32_t n = 0;
  assert_int_equal(qi(f, r.file_id, 1, 15, out, sizeof out, &n), 0);
  assert_int_equal(n, 29);
  const uint8_t *e1 = out, *e2 = out + (out[0] | out[1] << 8);
  if (e1[8] != 'O') { /* listxattr order is the file system's */
    const uint8_t *t = e1;
    e1 = e2;
    e2 = t;
  }
  assert_memory_equal(e1 + 5, "\x03\x02\x00ONE\0v1", 9);
  assert_memory_equal(e2 + 5, "\x03\x01\x00TWO\0x", 8);
  assert_int_equal(qi(f, r.file_id, 1, 15, out, 10, &n),
                   SMBX_STATUS_BUFFER_TOO_SMALL);
  assert_int_equal(n, 29);
  assert_int_equal(qi(f, r.file_id, 1, 7, out, sizeof out, &n), 0);
  assert_int_equal(out[0], 29);
  assert_int_equal(cr(f, "eaf", POSIXFS_READ_ATTRIBUTES, 7, POSIXFS_OPEN, 0,
                      &ro),
                   0);
  assert_int_equal(qi(f, ro.file_id, 1, 15, out, sizeof out, &n),
                   SMBX_STATUS_ACCESS_DENIED);
  cl(f, ro.file_id);
  cl(f, r.file_id);
  /* malformed: the name's NUL missing */
  uint8_t bad[sizeof ea];
  memcpy(bad, ea, sizeof ea);
  bad[11] = 'x';
  a.name = u16("eag");
  a.eas = bad;
  assert_int_equal(posixfs_create(f->fs, &a, &r),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_false(exists(f, "eag"));
  a.eas = NULL;
  a.eas_len = 0;
  assert_int_equal(posixfs_create(f->fs, &a, &r), 0);
  assert_int_equal(qi(f, r.file_id, 1, 15, out, sizeof out, &n),
                   POSIXFS_STATUS_NO_EAS_ON_FILE);
  cl(f, r.file_id);
}

/* ------------------------------------------------------------------ */
/* named streams (MS-FSCC 2.1.5.4 names, MS-FSA 2.1.5.1 create, share
 * modes per stream) */

static void wr(fx *f, smbx_smb2_fileid id, uint64_t off, const char *s) {
  uint32_t n = 0;
  assert_int_equal(posixfs_write(f->fs, id, off, (const uint8_t *)s,
                                 (uint32_t)strlen(s), &n),
                   0);
  assert_int_equal(n, strlen(s));
}

static void rd_is(fx *f, smbx_smb2_fileid id, const char *want) {
  uint8_t b[128];
  uint32_t n = 0;
  assert_int_equal(posixfs_read(f->fs, id, 0, b, sizeof b, &n), 0);
  assert_int_equal(n, strlen(want));
  assert_memory_equal(b, want, n);
}

static void stream_create_open_overwrite_dispositions(void **state) {
  fx *f = *state;
  posixfs_create_result r, r2;
  /* OPEN/OVERWRITE of a stream of a missing file: nothing is made */
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_OVERWRITE, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_false(exists(f, "sf"));
  /* CREATE makes the file, then the empty stream */
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_CREATE, 0, &r), 0);
  assert_int_equal(r.create_action, POSIXFS_ACTION_CREATED);
  assert_int_equal(r.info.end_of_file, 0);
  assert_int_equal(r.info.allocation_size, 0);
  assert_int_equal(r.info.file_attributes, POSIXFS_ATTR_ARCHIVE);
  assert_true(exists(f, "sf"));
  assert_int_equal(fsize(f, "sf"), 0);
  wr(f, r.file_id, 0, "hello");
  wr(f, r.file_id, 3, "LO!");
  rd_is(f, r.file_id, "helLO!");
  uint8_t b[8];
  uint32_t n = 0;
  assert_int_equal(posixfs_read(f->fs, r.file_id, 6, b, 1, &n),
                   SMBX_STATUS_END_OF_FILE);
  cl(f, r.file_id);
  assert_int_equal(fsize(f, "sf"), 0); /* the data stream is untouched */
  /* stream names and the type ignore case; the stored case is kept */
  assert_int_equal(cr(f, "sf:S1:$DaTa", RW, 7, POSIXFS_OPEN, 0, &r), 0);
  assert_int_equal(r.create_action, POSIXFS_ACTION_OPENED);
  assert_int_equal(r.info.end_of_file, 6);
  rd_is(f, r.file_id, "helLO!");
  cl(f, r.file_id);
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  assert_int_equal(cr(f, "sf:s2", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_OVERWRITE, 0, &r), 0);
  assert_int_equal(r.create_action, POSIXFS_ACTION_OVERWRITTEN);
  assert_int_equal(r.info.end_of_file, 0);
  cl(f, r.file_id);
  assert_int_equal(cr(f, "sf:s1", RW, 7, POSIXFS_SUPERSEDE, 0, &r), 0);
  assert_int_equal(r.create_action, POSIXFS_ACTION_SUPERSEDED);
  cl(f, r.file_id);
  assert_int_equal(cr(f, "sf:s2", RW, 7, POSIXFS_OPEN_IF, 0, &r), 0);
  assert_int_equal(r.create_action, POSIXFS_ACTION_CREATED);
  /* "file::$DATA" is the file itself */
  assert_int_equal(cr(f, "sf::$DATA", RW, 7, POSIXFS_OPEN, 0, &r2), 0);
  wr(f, r2.file_id, 0, "base");
  cl(f, r2.file_id);
  assert_int_equal(fsize(f, "sf"), 4);
  cl(f, r.file_id);
  assert_int_equal(posixfs_open_count(f->fs), 0);
}

static void stream_invalid_names(void **state) {
  fx *f = *state;
  posixfs_create_result r;
  put_file(f, "f", "x");
  mk(f, "d");
  static const char *const bad[] = {"f:",          "f:s:", "f:s:$DATA:x",
                                    "f:s:$FOO:",   "d:x\\y", "f:a/b",
                                    "f*:s"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(cr(f, bad[i], RW, 7, POSIXFS_OPEN_IF, 0, &r),
                     SMBX_STATUS_OBJECT_NAME_INVALID);
  /* a stream type other than $DATA: INVALID_PARAMETER (as Samba) */
  static const char *const badtype[] = {"f:s:$FOO", "f::$FOO",
                                        "f::$INDEX_ALLOCATION",
                                        "d::$INDEX_ALLOCATION"};
  for (size_t i = 0; i < sizeof badtype / sizeof badtype[0]; i++)
    assert_int_equal(cr(f, badtype[i], RW, 7, POSIXFS_OPEN_IF, 0, &r),
                     SMBX_STATUS_INVALID_PARAMETER);
  /* a stream is no directory; a directory has no data stream */
  assert_int_equal(cr(f, "f:s", RW, 7, POSIXFS_CREATE, POSIXFS_DIRECTORY_FILE,
                      &r),
                   SMBX_STATUS_NOT_A_DIRECTORY);
  assert_int_equal(cr(f, "d::$DATA", RW, 7, POSIXFS_OPEN,
                      POSIXFS_DIRECTORY_FILE, &r),
                   SMBX_STATUS_NOT_A_DIRECTORY);
  assert_int_equal(cr(f, "d::$DATA", RW, 7, POSIXFS_OPEN, 0, &r),
                   SMBX_STATUS_FILE_IS_A_DIRECTORY);
  /* control characters and wildcards are valid in a stream name */
  assert_int_equal(cr(f, "f:\x05?*\n", RW, 7, POSIXFS_CREATE, 0, &r), 0);
  cl(f, r.file_id);
  /* the longest name fits an xattr name; one more byte does not */
  char nm[300];
  memset(nm, 'a', sizeof nm);
  memcpy(nm, "f:", 2);
  nm[2 + 238] = '\0';
  assert_int_equal(cr(f, nm, RW, 7, POSIXFS_CREATE, 0, &r), 0);
  cl(f, r.file_id);
  nm[2 + 238] = 'a';
  nm[2 + 239] = '\0';
  assert_int_equal(cr(f, nm, RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
}

/* one FILE_STREAM_INFORMATION entry at p: its name (ASCII) and sizes */
static const uint8_t *stream_entry(const uint8_t *p, char *name,
                                   uint64_t *size) {
  uint32_t nl = (uint32_t)(p[4] | p[5] << 8);
  for (uint32_t i = 0; i < nl / 2; i++) name[i] = (char)p[24 + 2 * i];
  name[nl / 2] = '\0';
  *size = 0;
  for (int i = 7; i >= 0; i--) *size = *size << 8 | p[8 + i];
  uint32_t next = (uint32_t)(p[0] | p[1] << 8 | p[2] << 16);
  return next ? p + next : NULL;
}

static void stream_information_lists_every_stream(void **state) {
  fx *f = *state;
  posixfs_create_result r, s;
  put_file(f, "f", "0123456789");
  assert_int_equal(cr(f, "f:one", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  wr(f, s.file_id, 0, "abc");
  cl(f, s.file_id);
  assert_int_equal(cr(f, "f:Two", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  uint8_t out[512];
  uint32_t n = 0;
  /* asked on the stream's handle: the whole file's list */
  assert_int_equal(qi(f, s.file_id, 1, POSIXFS_FILE_STREAM_INFORMATION, out,
                      sizeof out, &n),
                   0);
  char name[64];
  uint64_t size;
  int seen = 0;
  const uint8_t *p = stream_entry(out, name, &size);
  assert_string_equal(name, "::$DATA");
  assert_int_equal(size, 10);
  for (int k = 0; k < 2; k++) {
    assert_non_null(p);
    assert_int_equal((p - out) % 8, 0);
    p = stream_entry(p, name, &size);
    if (!strcmp(name, ":one:$DATA") && size == 3) seen |= 1;
    if (!strcmp(name, ":Two:$DATA") && size == 0) seen |= 2;
  }
  assert_null(p);
  assert_int_equal(seen, 3);
  /* a buffer for the first entry only: BUFFER_OVERFLOW with that whole
   * entry, which ends the list (MS-FSA 2.1.5.12.29), never a cut one */
  memset(out, 0xEE, sizeof out);
  assert_int_equal(qi(f, s.file_id, 1, POSIXFS_FILE_STREAM_INFORMATION, out,
                      40, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 24 + 14);
  assert_null(stream_entry(out, name, &size));
  assert_string_equal(name, "::$DATA");
  /* room for the first two but not the third: both, the second last */
  assert_int_equal(qi(f, s.file_id, 1, POSIXFS_FILE_STREAM_INFORMATION, out,
                      40 + 24 + 20 + 8, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 40 + 24 + 20);
  p = stream_entry(out, name, &size);
  assert_non_null(p);
  assert_int_equal(p - out, 40);
  assert_null(stream_entry(p, name, &size));
  /* room for no entry at all: nothing but the status */
  assert_int_equal(qi(f, s.file_id, 1, POSIXFS_FILE_STREAM_INFORMATION, out,
                      32, &n),
                   SMBX_STATUS_BUFFER_OVERFLOW);
  assert_int_equal(n, 0);
  cl(f, s.file_id);
  /* a directory: no "::$DATA", nothing else here */
  mk(f, "d");
  assert_int_equal(cr(f, "d", POSIXFS_READ_ATTRIBUTES, 7, POSIXFS_OPEN, 0, &r),
                   0);
  assert_int_equal(qi(f, r.file_id, 1, POSIXFS_FILE_STREAM_INFORMATION, out,
                      sizeof out, &n),
                   0);
  assert_int_equal(n, 0);
  cl(f, r.file_id);
}

static void stream_share_modes_and_file_delete(void **state) {
  fx *f = *state;
  posixfs_create_result s1, s2, b, x;
  put_file(f, "f", "data");
  /* share modes are per stream */
  assert_int_equal(cr(f, "f:s1", POSIXFS_WRITE_DATA, 0, POSIXFS_CREATE, 0,
                      &s1),
                   0);
  assert_int_equal(cr(f, "f:s2", POSIXFS_WRITE_DATA, 0, POSIXFS_CREATE, 0,
                      &s2),
                   0);
  assert_int_equal(cr(f, "f:s1", POSIXFS_WRITE_DATA, 0, POSIXFS_OPEN, 0, &x),
                   SMBX_STATUS_SHARING_VIOLATION);
  assert_int_equal(cr(f, "f", RW, 0, POSIXFS_OPEN, 0, &b), 0);
  cl(f, b.file_id);
  /* DELETE of the file needs the stream opens to share delete */
  assert_int_equal(cr(f, "f", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &x),
                   SMBX_STATUS_SHARING_VIOLATION);
  cl(f, s2.file_id);
  cl(f, s1.file_id);
  /* ... but not the other way round */
  assert_int_equal(cr(f, "f", RW, 0, POSIXFS_OPEN, 0, &b), 0);
  assert_int_equal(cr(f, "f:s1", POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &x), 0);
  cl(f, x.file_id);
  cl(f, b.file_id);
  assert_int_equal(cr(f, "f:s1", RW, 7, POSIXFS_OPEN, 0, &s1), 0);
  wr(f, s1.file_id, 0, "keep");
  assert_int_equal(cr(f, "f", POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      POSIXFS_DELETE_ON_CLOSE, &b),
                   0);
  cl(f, b.file_id);
  /* the file is delete-pending while its stream is open */
  assert_true(exists(f, "f"));
  rd_is(f, s1.file_id, "keep");
  assert_int_equal(cr(f, "f", RW, 7, POSIXFS_OPEN_IF, 0, &x),
                   SMBX_STATUS_DELETE_PENDING);
  assert_int_equal(cr(f, "f:s1", RW, 7, POSIXFS_OPEN_IF, 0, &x),
                   SMBX_STATUS_DELETE_PENDING);
  cl(f, s1.file_id);
  assert_false(exists(f, "f"));
  assert_int_equal(posixfs_open_count(f->fs), 0);
}

static void stream_delete_on_close_and_eof(void **state) {
  fx *f = *state;
  posixfs_create_result s;
  put_file(f, "f", "data");
  assert_int_equal(cr(f, "f:s", RW | POSIXFS_DELETE, 7, POSIXFS_CREATE,
                      POSIXFS_DELETE_ON_CLOSE, &s),
                   0);
  wr(f, s.file_id, 0, "gone");
  uint8_t out[128];
  uint32_t n = 0;
  assert_int_equal(qi(f, s.file_id, 1, SMBX_SMB2_FILE_STANDARD_INFORMATION,
                      out, sizeof out, &n),
                   0);
  assert_int_equal(out[20], 1); /* DeletePending */
  cl(f, s.file_id);
  assert_int_equal(cr(f, "f:s", RW, 7, POSIXFS_OPEN, 0, &s),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(fsize(f, "f"), 4);
  /* EndOfFile and Allocation resize the stream alone */
  assert_int_equal(cr(f, "f:t", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  wr(f, s.file_id, 0, "abcdef");
  uint8_t v[8] = {100};
  assert_int_equal(posixfs_set_info(f->fs, s.file_id, 1,
                                    SMBX_SMB2_FILE_END_OF_FILE_INFORMATION, v,
                                    8),
                   0);
  assert_int_equal(qi(f, s.file_id, 1, SMBX_SMB2_FILE_STANDARD_INFORMATION,
                      out, sizeof out, &n),
                   0);
  assert_int_equal(out[8], 100); /* EndOfFile */
  assert_int_equal(fsize(f, "f"), 4);
  v[0] = 2;
  assert_int_equal(posixfs_set_info(f->fs, s.file_id, 1,
                                    POSIXFS_FILE_ALLOCATION_INFORMATION, v, 8),
                   0);
  rd_is(f, s.file_id, "ab");
  /* a stream is at most 64 KiB (an xattr value) */
  memset(v, 0, sizeof v);
  v[2] = 2; /* 128 KiB */
  assert_int_equal(posixfs_set_info(f->fs, s.file_id, 1,
                                    SMBX_SMB2_FILE_END_OF_FILE_INFORMATION, v,
                                    8),
                   SMBX_STATUS_DISK_FULL);
  uint32_t w = 0;
  assert_int_equal(posixfs_write(f->fs, s.file_id, 65536, (const uint8_t *)"z",
                                 1, &w),
                   SMBX_STATUS_DISK_FULL);
  /* the name of a stream handle is file:stream */
  assert_int_equal(qi(f, s.file_id, 1, POSIXFS_FILE_NAME_INFORMATION, out,
                      sizeof out, &n),
                   0);
  assert_int_equal(out[0], 8);
  assert_memory_equal(out + 4, "\\\0f\0:\0t\0", 8);
  cl(f, s.file_id);
}

static void stream_follows_file_rename_overwrite_and_delete(void **state) {
  fx *f = *state;
  posixfs_create_result s, b;
  put_file(f, "f", "data");
  assert_int_equal(cr(f, "f:s", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  wr(f, s.file_id, 0, "stream");
  cl(f, s.file_id);
  /* rename keeps the streams */
  assert_int_equal(cr(f, "f", POSIXFS_DELETE | RW, 7, POSIXFS_OPEN, 0, &b), 0);
  assert_int_equal(ren(f, b.file_id, "g", 0), 0);
  cl(f, b.file_id);
  assert_int_equal(cr(f, "g:s", RW, 7, POSIXFS_OPEN, 0, &s), 0);
  rd_is(f, s.file_id, "stream");
  /* rename of a stream handle: ":new" of the same file */
  assert_int_equal(cr(f, "g:other", RW, 7, POSIXFS_CREATE, 0, &b), 0);
  cl(f, b.file_id);
  posixfs_create_result d;
  assert_int_equal(cr(f, "g:s", RW | POSIXFS_DELETE, 7, POSIXFS_OPEN, 0, &d),
                   0);
  assert_int_equal(ren(f, d.file_id, ":other", 0),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  assert_int_equal(ren(f, d.file_id, "h", 0), SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(ren(f, d.file_id, ":x:", 0), SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(ren(f, d.file_id, ":x:$DATA:y", 0),
                   SMBX_STATUS_INVALID_PARAMETER);
  assert_int_equal(ren(f, d.file_id, ":x:$FOO", 0),
                   POSIXFS_STATUS_OBJECT_TYPE_MISMATCH);
  assert_int_equal(ren(f, d.file_id, ":new:$DATA", 0), 0);
  cl(f, d.file_id);
  rd_is(f, s.file_id, "stream"); /* the other handle follows the rename */
  cl(f, s.file_id);
  assert_int_equal(cr(f, "g:s", RW, 7, POSIXFS_OPEN, 0, &s),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(cr(f, "g:new", RW, 7, POSIXFS_OPEN, 0, &s), 0);
  /* an overwrite of the file would drop the open stream: refused */
  assert_int_equal(cr(f, "g", RW, 7, POSIXFS_OVERWRITE, 0, &b),
                   SMBX_STATUS_SHARING_VIOLATION);
  cl(f, s.file_id);
  assert_int_equal(cr(f, "g", RW, 7, POSIXFS_OVERWRITE, 0, &b), 0);
  cl(f, b.file_id);
  assert_int_equal(cr(f, "g:new", RW, 7, POSIXFS_OPEN, 0, &s),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_int_equal(cr(f, "g:other", RW, 7, POSIXFS_OPEN, 0, &s),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  /* deleting the file deletes its streams: a new file has none */
  assert_int_equal(cr(f, "g:t", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  cl(f, s.file_id);
  assert_int_equal(cr(f, "g", POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      POSIXFS_DELETE_ON_CLOSE, &b),
                   0);
  cl(f, b.file_id);
  assert_false(exists(f, "g"));
  assert_int_equal(cr(f, "g:t", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  cl(f, s.file_id);
}

static uint32_t lk(fx *f, const char *name, posixfs_key *obj,
                   posixfs_key *par) {
  const uint8_t *n = u16(name);
  return posixfs_lookup(f->fs, n, u16len, obj, par);
}

static void stream_lookup_keys_per_stream(void **state) {
  fx *f = *state;
  posixfs_create_result s;
  put_file(f, "f", "x");
  assert_int_equal(cr(f, "f:Str", RW, 7, POSIXFS_CREATE, 0, &s), 0);
  cl(f, s.file_id);
  posixfs_key file, str, str2, par;
  assert_int_equal(lk(f, "f", &file, &par), 0);
  assert_int_equal(lk(f, "f:Str", &str, &par), 0);
  assert_int_equal(lk(f, "f:sTR:$DATA", &str2, &par),
                   0);
  assert_int_equal(file.stream, 0);
  assert_int_not_equal(str.stream, 0);
  assert_int_equal(str.stream, str2.stream);
  uint64_t kf[2], ks[2];
  posixfs_key_file_key(&file, kf);
  posixfs_key_file_key(&str, ks);
  assert_int_equal(kf[1], ks[1]);
  assert_int_not_equal(kf[0], ks[0]);
  assert_true(par.valid);
  assert_int_equal(lk(f, "f:none", &str, &par),
                   SMBX_STATUS_OBJECT_NAME_NOT_FOUND);
  assert_false(str.valid);
  assert_int_equal(lk(f, "f:a:$DATA:b", &str, &par),
                   SMBX_STATUS_OBJECT_NAME_INVALID);
}

/* MS-FSA 2.1.5.1: names match ignoring case (ASCII here), the on-disk
 * spelling is kept and reported */
static void fsa_names_match_ignoring_case(void **state) {
  fx *f = *state;
  posixfs_create_result r, r2;
  mk(f, "Dir");
  put_file(f, "Dir/File.txt", "abc");
  assert_int_equal(cr(f, "dIR\\fILE.TXT", RW, 7, POSIXFS_OPEN, 0, &r), 0);
  assert_int_equal(r.info.end_of_file, 3);
  uint8_t out[256];
  uint32_t n = 0;
  assert_int_equal(qi(f, r.file_id, 1, POSIXFS_FILE_NORMALIZED_NAME_INFORMATION,
                      out, sizeof out, &n),
                   0);
  assert_int_equal(out[0], 24);
  assert_memory_equal(out + 4, u16("Dir\\File.txt"), 24);
  cl(f, r.file_id);
  /* a new name in a directory spelled in another case goes into it */
  assert_int_equal(cr(f, "DIR\\New", RW, 7, POSIXFS_CREATE, 0, &r), 0);
  cl(f, r.file_id);
  assert_true(exists(f, "Dir/New"));
  assert_false(exists(f, "DIR"));
  /* an existing name in another case collides */
  assert_int_equal(cr(f, "dir\\new", RW, 7, POSIXFS_CREATE, 0, &r),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  /* the exact spelling wins over another case */
  put_file(f, "Dir/new", "exact");
  assert_int_equal(cr(f, "Dir\\new", RW, 7, POSIXFS_OPEN, 0, &r), 0);
  assert_int_equal(r.info.end_of_file, 5);
  cl(f, r.file_id);
  /* a rename onto itself in another case changes the case */
  assert_int_equal(cr(f, "dir\\file.txt", RW | POSIXFS_DELETE, 7, POSIXFS_OPEN,
                      0, &r),
                   0);
  assert_int_equal(ren(f, r.file_id, "dir\\FILE.txt", 0), 0);
  cl(f, r.file_id);
  assert_true(exists(f, "Dir/FILE.txt"));
  assert_false(exists(f, "Dir/File.txt"));
  /* ... and onto another file in another case collides */
  assert_int_equal(cr(f, "dir\\New", RW | POSIXFS_DELETE, 7, POSIXFS_OPEN, 0,
                      &r2),
                   0);
  assert_int_equal(ren(f, r2.file_id, "DIR\\file.TXT", 0),
                   SMBX_STATUS_OBJECT_NAME_COLLISION);
  cl(f, r2.file_id);
  /* lease keys: every spelling is the same file */
  posixfs_key a, b, par;
  assert_int_equal(lk(f, "Dir\\FILE.txt", &a, &par), 0);
  assert_int_equal(lk(f, "dir\\file.txt", &b, &par), 0);
  assert_int_equal(a.ino, b.ino);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void) {
  const struct CMUnitTest tests[] = {
      T(smb2_4_4_every_disposition_exists_and_not),
      T(smb2_4_4_missing_parent_is_path_not_found),
      T(smb2_4_4_directory_and_non_directory_options),
      T(smb2_4_4_maximum_allowed_and_generic_mapping),
      T(fsa_share_access_conflicts),
      T(smb2_4_4_delete_on_close_after_last_close),
      T(smb2_4_12_set_disposition_deletes_and_clears),
      T(smb2_4_4_path_escapes_rejected),
      T(smb2_4_4_path_escapes_rejected_without_openat2),
      T(smb2_4_4_free_closes_opens_and_runs_delete_on_close),
      T(smb2_read_write_at_offsets),
      T(smb2_4_10_enumerate_500_files_small_buffer),
      T(smb2_4_10_patterns_star_qm_exact_dos),
      T(smb2_4_10_every_class_decodes),
      T(smb2_4_10_buffer_limits_and_bad_class),
      T(smb2_4_12_file_info_classes_decode),
      T(smb2_4_12_fs_info_classes),
      T(smb2_4_12_set_eof_allocation_basic_position),
      T(smb2_4_12_rename_replace_and_open_file),
      T(fsa_locks_conflicts_unlock_release),
      T(fsa_locks_shared_multi_element_and_ranges),
      T(smb2_4_11_notify_create_delete_rename),
      T(smb2_4_11_notify_watch_tree_subdirectories),
      T(fsa_security_descriptor_query_and_set),
      T(fsa_delete_on_close_new_readonly_file),
      T(smb2_read_sets_position),
      T(fsa_rename_blocked_by_parent_open_with_delete),
      T(smb2_4_12_normalized_name_and_fs_control_objectid),
      T(smb2_4_11_notify_changes_not_fitting_enum_dir),
      T(smb2_4_12_extended_attributes),
      T(stream_create_open_overwrite_dispositions),
      T(stream_invalid_names),
      T(stream_information_lists_every_stream),
      T(stream_share_modes_and_file_delete),
      T(stream_delete_on_close_and_eof),
      T(stream_follows_file_rename_overwrite_and_delete),
      T(stream_lookup_keys_per_stream),
      T(fsa_names_match_ignoring_case),
  };
  return RUN_TESTS(tests);
}
