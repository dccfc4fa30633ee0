/* SPDX-License-Identifier: MIT */
/* posixfs: the host-side file system of the example server (not part of
 * libsmbx). It serves one POSIX directory tree ("the root") with SMB2
 * semantics: names are share-relative UTF-16LE with `\` separators, every
 * operation returns an NTSTATUS (SMBX_STATUS_*), and wire structures are
 * encoded with the smbx codec (smb2_io.h). Nothing here knows about the
 * node API; see docs/posixfs.md for the mapping, status choices and limits.
 *
 * Sans-I/O where it matters: change notify exposes an inotify fd the caller
 * polls, then posixfs_notify_drain() + posixfs_notify_take(); a blocking
 * byte-range lock returns SMBX_STATUS_PENDING and the caller retries it when
 * posixfs_lock_epoch() changes. Single-threaded; lookups ignore ASCII case
 * (a name missing as spelled is looked for among its directory's cached
 * names, kept current from a second inotify fd posixfs drains itself).
 */
#ifndef SMBX_EXAMPLES_POSIXFS_H
#define SMBX_EXAMPLES_POSIXFS_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/smb2.h>

/** @name CREATE constants (MS-SMB2 2.2.13, smb2.md 4.4) @{ */
#define POSIXFS_SUPERSEDE 0u
#define POSIXFS_OPEN 1u
#define POSIXFS_CREATE 2u
#define POSIXFS_OPEN_IF 3u
#define POSIXFS_OVERWRITE 4u
#define POSIXFS_OVERWRITE_IF 5u
#define POSIXFS_ACTION_SUPERSEDED 0u
#define POSIXFS_ACTION_OPENED 1u
#define POSIXFS_ACTION_CREATED 2u
#define POSIXFS_ACTION_OVERWRITTEN 3u
#define POSIXFS_DIRECTORY_FILE 0x00000001u
#define POSIXFS_NON_DIRECTORY_FILE 0x00000040u
#define POSIXFS_DELETE_ON_CLOSE 0x00001000u
#define POSIXFS_SHARE_READ 0x1u
#define POSIXFS_SHARE_WRITE 0x2u
#define POSIXFS_SHARE_DELETE 0x4u
#define POSIXFS_READ_DATA 0x00000001u
#define POSIXFS_WRITE_DATA 0x00000002u
#define POSIXFS_APPEND_DATA 0x00000004u
#define POSIXFS_READ_EA 0x00000008u
#define POSIXFS_WRITE_EA 0x00000010u
#define POSIXFS_EXECUTE 0x00000020u
#define POSIXFS_DELETE_CHILD 0x00000040u
#define POSIXFS_READ_ATTRIBUTES 0x00000080u
#define POSIXFS_WRITE_ATTRIBUTES 0x00000100u
#define POSIXFS_DELETE 0x00010000u
#define POSIXFS_READ_CONTROL 0x00020000u
#define POSIXFS_WRITE_DAC 0x00040000u
#define POSIXFS_WRITE_OWNER 0x00080000u
#define POSIXFS_SYNCHRONIZE 0x00100000u
#define POSIXFS_MAXIMUM_ALLOWED 0x02000000u
#define POSIXFS_GENERIC_ALL 0x10000000u
#define POSIXFS_GENERIC_EXECUTE 0x20000000u
#define POSIXFS_GENERIC_WRITE 0x40000000u
#define POSIXFS_GENERIC_READ 0x80000000u
#define POSIXFS_FILE_ALL_ACCESS 0x001F01FFu
#define POSIXFS_ATTR_READONLY 0x01u
#define POSIXFS_ATTR_HIDDEN 0x02u
#define POSIXFS_ATTR_SYSTEM 0x04u
#define POSIXFS_ATTR_DIRECTORY 0x10u
#define POSIXFS_ATTR_ARCHIVE 0x20u
#define POSIXFS_ATTR_NORMAL 0x80u
#define POSIXFS_ATTR_NOT_CONTENT_INDEXED 0x2000u
/** @} */

/** @name Info classes the codec has no constant for (MS-FSCC 2.4, 2.5) @{ */
#define POSIXFS_FILE_NAME_INFORMATION 9u
#define POSIXFS_FILE_EA_INFORMATION 7u
#define POSIXFS_FILE_ACCESS_INFORMATION 8u
#define POSIXFS_FILE_FULL_EA_INFORMATION 15u
#define POSIXFS_FILE_POSITION_INFORMATION 14u
#define POSIXFS_FILE_MODE_INFORMATION 16u
#define POSIXFS_FILE_ALIGNMENT_INFORMATION 17u
#define POSIXFS_FILE_ALLOCATION_INFORMATION 19u
#define POSIXFS_FILE_ALTERNATE_NAME_INFORMATION 21u
#define POSIXFS_FILE_STREAM_INFORMATION 22u
#define POSIXFS_FILE_NORMALIZED_NAME_INFORMATION 48u
#define POSIXFS_FILE_COMPRESSION_INFORMATION 28u
#define POSIXFS_FILE_ATTRIBUTE_TAG_INFORMATION 35u
#define POSIXFS_FILE_DISPOSITION_INFORMATION_EX 64u
#define POSIXFS_FS_VOLUME_INFORMATION 1u
#define POSIXFS_FS_SIZE_INFORMATION 3u
#define POSIXFS_FS_DEVICE_INFORMATION 4u
#define POSIXFS_FS_ATTRIBUTE_INFORMATION 5u
#define POSIXFS_FS_CONTROL_INFORMATION 6u
#define POSIXFS_FS_FULL_SIZE_INFORMATION 7u
#define POSIXFS_FS_OBJECTID_INFORMATION 8u
#define POSIXFS_FS_SECTOR_SIZE_INFORMATION 11u
/** @} */

/** @brief Extra NTSTATUS values smb2_base.h does not list. */
#define POSIXFS_STATUS_INVALID_LOCK_RANGE 0xC00001A1u
#define POSIXFS_STATUS_CANNOT_DELETE 0xC0000121u
#define POSIXFS_STATUS_INVALID_SECURITY_DESCR 0xC0000079u
#define POSIXFS_STATUS_NO_EAS_ON_FILE 0xC0000052u
#define POSIXFS_STATUS_FILE_DELETED 0xC0000123u
#define POSIXFS_STATUS_OBJECT_TYPE_MISMATCH 0xC0000024u

/** @name SECURITY_INFORMATION bits (AdditionalInformation) @{ */
#define POSIXFS_SECINFO_OWNER 0x1u
#define POSIXFS_SECINFO_GROUP 0x2u
#define POSIXFS_SECINFO_DACL 0x4u
#define POSIXFS_SECINFO_SACL 0x8u
#define POSIXFS_SECINFO_MASK 0x7u /* the parts posixfs keeps */
/** @} */

/** @brief A served tree. Opaque. */
typedef struct posixfs posixfs;

/** @brief Open a tree rooted at the directory `root`.
 *  @return 0 and *out; -errno when root cannot be opened as a directory or
 *          the inotify instance cannot be made; -ENOMEM. */
int posixfs_new(const char *root, posixfs **out);

/** @brief Close every open (running delete-on-close) and free the tree. */
void posixfs_free(posixfs *fs);

/** @brief CREATE arguments (fields as in the CREATE request). */
typedef struct posixfs_create_args {
  const uint8_t *name; /**< UTF-16LE, share-relative; len 0 = the root */
  size_t name_len;
  uint32_t desired_access;
  uint32_t file_attributes;
  uint32_t share_access;
  uint32_t create_disposition;
  uint32_t create_options;
  uint64_t allocation_size; /**< from an AlSi context; 0 = none */
  const uint8_t *eas; /**< an ExtA context: FILE_FULL_EA_INFORMATION list
                           stored on a created or overwritten file */
  size_t eas_len;
} posixfs_create_args;

/** @brief CREATE result: what the CREATE response carries. */
typedef struct posixfs_create_result {
  smbx_smb2_fileid file_id;
  uint32_t create_action;  /**< POSIXFS_ACTION_* */
  uint32_t granted_access; /**< after GENERIC_* / MAXIMUM_ALLOWED mapping */
  uint32_t maximal_access; /**< for an MxAc response */
  smbx_smb2_file_network_open_info info;
  uint64_t disk_file_id;   /**< inode, for QFid */
  uint64_t volume_id;      /**< st_dev, for QFid */
} posixfs_create_result;

/** @brief CREATE.
 *  @return SUCCESS; OBJECT_NAME_INVALID (bad UTF-16, NUL, `..`, absolute,
 *  empty component, Windows-invalid characters); ACCESS_DENIED (also a
 *  symlink leading out of the root, a non-regular file, DELETE_ON_CLOSE
 *  without DELETE or on the root); OBJECT_NAME_NOT_FOUND;
 *  OBJECT_PATH_NOT_FOUND; OBJECT_NAME_COLLISION; FILE_IS_A_DIRECTORY;
 *  NOT_A_DIRECTORY; SHARING_VIOLATION; DELETE_PENDING;
 *  CANNOT_DELETE (DELETE_ON_CLOSE on a read-only file); INVALID_PARAMETER;
 *  INSUFFICIENT_RESOURCES; DISK_FULL. */
uint32_t posixfs_create(posixfs *fs, const posixfs_create_args *a,
                        posixfs_create_result *r);

/** @brief CLOSE. post (optional) gets the attributes after the close when
 *  the file still exists (CLOSE_FLAG_POSTQUERY_ATTRIB), zeroed otherwise.
 *  A pending notify on the handle is the caller's to complete with
 *  NOTIFY_CLEANUP. @return SUCCESS; FILE_CLOSED (unknown id). */
uint32_t posixfs_close(posixfs *fs, smbx_smb2_fileid fid,
                       smbx_smb2_file_network_open_info *post);

/** @brief READ at offset. @return SUCCESS (*nread may be < len at EOF);
 *  END_OF_FILE when offset >= EOF and len > 0; ACCESS_DENIED;
 *  INVALID_DEVICE_REQUEST (directory); FILE_LOCK_CONFLICT; FILE_CLOSED. */
uint32_t posixfs_read(posixfs *fs, smbx_smb2_fileid fid, uint64_t offset,
                      uint8_t *buf, uint32_t len, uint32_t *nread);

/** @brief WRITE at offset. @return SUCCESS; ACCESS_DENIED;
 *  INVALID_DEVICE_REQUEST; FILE_LOCK_CONFLICT; DISK_FULL; FILE_CLOSED. */
uint32_t posixfs_write(posixfs *fs, smbx_smb2_fileid fid, uint64_t offset,
                       const uint8_t *buf, uint32_t len, uint32_t *nwritten);

/** @brief FLUSH (fsync). @return SUCCESS; ACCESS_DENIED; FILE_CLOSED. */
uint32_t posixfs_flush(posixfs *fs, smbx_smb2_fileid fid);

/** @brief QUERY_DIRECTORY on a directory handle.
 *  @param pattern UTF-16LE search pattern (used on the first query, with
 *         RESTART_SCANS or REOPEN; empty = `*`)
 *  @param out entries buffer (cap = OutputBufferLength)
 *  @return SUCCESS (*out_len bytes of entries); NO_SUCH_FILE (first query
 *  matched nothing); NO_MORE_FILES; BUFFER_OVERFLOW (first entry did not
 *  fit; *out_len = cap of a truncated entry); INFO_LENGTH_MISMATCH (cap
 *  below the class's fixed size); INVALID_INFO_CLASS; INVALID_PARAMETER
 *  (not a directory); OBJECT_NAME_INVALID (pattern); ACCESS_DENIED;
 *  FILE_CLOSED. */
uint32_t posixfs_query_directory(posixfs *fs, smbx_smb2_fileid fid,
                                 uint8_t info_class, uint8_t flags,
                                 const uint8_t *pattern, size_t pattern_len,
                                 uint8_t *out, uint32_t cap,
                                 uint32_t *out_len);

/** @brief QUERY_INFO (InfoType FILE or FILESYSTEM).
 *  @return SUCCESS; BUFFER_OVERFLOW (variable part truncated, *out_len =
 *  cap); INFO_LENGTH_MISMATCH (cap below the fixed size);
 *  INVALID_INFO_CLASS; NOT_SUPPORTED (SECURITY, QUOTA); ACCESS_DENIED;
 *  OBJECT_NAME_NOT_FOUND (alternate name); FILE_CLOSED. */
uint32_t posixfs_query_info(posixfs *fs, smbx_smb2_fileid fid,
                            uint8_t info_type, uint8_t info_class,
                            uint8_t *out, uint32_t cap, uint32_t *out_len);

/** @brief SET_INFO (InfoType FILE: Basic, Rename, Disposition,
 *  DispositionEx, Position, Allocation, EndOfFile).
 *  @return SUCCESS; INFO_LENGTH_MISMATCH; INVALID_INFO_CLASS;
 *  NOT_SUPPORTED; ACCESS_DENIED; DIRECTORY_NOT_EMPTY; CANNOT_DELETE;
 *  OBJECT_NAME_COLLISION; OBJECT_NAME_INVALID; OBJECT_PATH_NOT_FOUND;
 *  INVALID_PARAMETER; FILE_CLOSED. */
uint32_t posixfs_set_info(posixfs *fs, smbx_smb2_fileid fid,
                          uint8_t info_type, uint8_t info_class,
                          const uint8_t *buf, size_t len);

/** @brief QUERY_INFO InfoType SECURITY: the self-relative descriptor with
 *  the owner, group and DACL parts secinfo selects: the one stored by
 *  posixfs_set_security() (xattr user.smbx.sd), else one derived from
 *  the POSIX owner, group and mode. Descriptors are kept, not enforced.
 *  @return SUCCESS; BUFFER_TOO_SMALL (*out_len = the size needed);
 *  ACCESS_DENIED (no READ_CONTROL, or the SACL asked); FILE_CLOSED. */
uint32_t posixfs_query_security(posixfs *fs, smbx_smb2_fileid fid,
                                uint32_t secinfo, uint8_t *out, uint32_t cap,
                                uint32_t *out_len);

/** @brief SET_INFO InfoType SECURITY: replaces the parts secinfo selects
 *  (owner, group: WRITE_OWNER; DACL: WRITE_DAC) and stores the result.
 *  @return SUCCESS; INVALID_SECURITY_DESCR (malformed); ACCESS_DENIED;
 *  NOT_SUPPORTED (no user xattrs on the file system); FILE_CLOSED. */
uint32_t posixfs_set_security(posixfs *fs, smbx_smb2_fileid fid,
                              uint32_t secinfo, const uint8_t *sd,
                              size_t len);

/** @brief LOCK with the elements of one request: all unlocks or all locks.
 *  Locks are all-or-nothing (granted ones are rolled back on a failure).
 *  @return SUCCESS; LOCK_NOT_GRANTED (a conflict with FAIL_IMMEDIATELY);
 *  PENDING (a conflict without it: nothing changed; retry the same
 *  request when posixfs_lock_epoch() changes); RANGE_NOT_LOCKED;
 *  INVALID_PARAMETER (flags); INVALID_LOCK_RANGE (offset+length wraps);
 *  FILE_CLOSED. */
uint32_t posixfs_lock(posixfs *fs, smbx_smb2_fileid fid,
                      const smbx_smb2_lock_element *el, size_t n);

/** @brief Changes whenever a lock is released (unlock or close). */
uint64_t posixfs_lock_epoch(const posixfs *fs);

/** @brief The inotify fd to poll for reading (POLLIN: call
 *  posixfs_notify_drain()). */
int posixfs_notify_fd(const posixfs *fs);

/** @brief Start (or update) a change watch on a directory handle.
 *  @return SUCCESS; INVALID_PARAMETER (not a directory); ACCESS_DENIED;
 *  INSUFFICIENT_RESOURCES; FILE_CLOSED. */
uint32_t posixfs_notify_watch(posixfs *fs, smbx_smb2_fileid fid,
                              uint32_t completion_filter, int watch_tree);

/** @brief Read every pending inotify event into the watches' queues.
 *  @return the number of events queued (>= 0); -errno. */
int posixfs_notify_drain(posixfs *fs);

/** @brief Move queued changes of a watched handle into a
 *  FILE_NOTIFY_INFORMATION buffer (codec builder).
 *  @return SUCCESS (*out_len > 0); PENDING (nothing queued);
 *  NOTIFY_ENUM_DIR (queue overflowed or the first entry does not fit in
 *  cap; the queue is emptied, *out_len 0); DELETE_PENDING (the watched
 *  directory was set delete-pending or removed: the watch ends, MS-FSA
 *  2.1.5.15.3); INVALID_PARAMETER (no watch); FILE_CLOSED. */
uint32_t posixfs_notify_take(posixfs *fs, smbx_smb2_fileid fid, uint8_t *out,
                             uint32_t cap, uint32_t *out_len);

/** @brief Identity of an object for the lease manager: st_dev, st_ino,
 *  and for a named stream a hash of its name (leases and share modes are
 *  per stream, as on NTFS). */
typedef struct posixfs_key {
  uint64_t dev, ino;
  uint64_t stream; /**< 0: the file; else bit 63 set (a named stream) */
  int valid;  /**< the object exists */
  int is_dir;
} posixfs_key;

/** @brief The 128-bit lease-manager file key of k: (st_dev ^ stream,
 *  st_ino). A stream's key differs from its file's in bit 63 of the
 *  first word, which no Linux st_dev sets. */
static inline void posixfs_key_file_key(const posixfs_key *k,
                                        uint64_t out[2]) {
  out[0] = k->dev ^ k->stream;
  out[1] = k->ino;
}

/** @brief Keys of a share-relative name (without opening it) and of its
 *  parent directory (invalid for the root). A name with a stream
 *  (file:stream[:$DATA]) gives that stream's key when it exists.
 *  @return SUCCESS (obj valid); OBJECT_NAME_NOT_FOUND (obj invalid, the
 *          parent may be valid); OBJECT_NAME_INVALID; another status. */
uint32_t posixfs_lookup(posixfs *fs, const uint8_t *name, size_t name_len,
                        posixfs_key *obj, posixfs_key *parent);

/** @brief Tests: force (on != 0) the component-wise O_NOFOLLOW resolver
 *  used when openat2 is missing (ENOSYS). */
void posixfs_set_resolve_fallback(posixfs *fs, int on);

/** @brief Number of open handles (for tests and limits). */
size_t posixfs_open_count(const posixfs *fs);

#endif
