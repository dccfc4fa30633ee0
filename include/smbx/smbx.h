/* SPDX-License-Identifier: MIT */
/** @file smbx/smbx.h
 *  @brief smbx core: version, error codes, allocator.
 *
 *  smbx is a sans-I/O SMB2/3 and SMB Direct protocol engine. It never opens
 *  a socket, reads a clock or calls malloc directly: the host feeds bytes,
 *  completions and time in, and plugs in transport and allocator callbacks.
 *  Every function is a real exported symbol (no macro-only API), so FFI
 *  bindings can call all of it.
 */
#ifndef SMBX_SMBX_H
#define SMBX_SMBX_H

#include <stddef.h>
#include <stdint.h>

#include <smbx/version.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define SMBX_API
#elif defined(__GNUC__)
#define SMBX_API __attribute__((visibility("default")))
#else
#define SMBX_API
#endif

/** Signed size type of the ABI (never ssize_t). @since 0.1.0 */
typedef ptrdiff_t smbx_ssize;

/** @name Error codes
 *  Every function that can fail returns 0 (or a positive count) on success
 *  and one of these negative codes on failure. Codes at or below
 *  SMBX_ERR_FATAL are sticky: the connection they came from is dead and every
 *  later call on it returns the same code. NTSTATUS values are data sent to
 *  or received from the peer, never error codes.
 *  @{ */
#define SMBX_OK 0
#define SMBX_ERR_INVAL (-1)      /**< invalid argument from the caller */
#define SMBX_ERR_NOMEM (-2)      /**< the allocator failed */
#define SMBX_ERR_NOBUF (-3)      /**< output buffer too small / pool empty */
#define SMBX_ERR_AGAIN (-4)      /**< try again later (credits, queue full) */
#define SMBX_ERR_STATE (-5)      /**< call not valid in the current state */
#define SMBX_ERR_RANGE (-6)      /**< value out of the allowed range */
#define SMBX_ERR_NOTFOUND (-7)   /**< no such handle, key or entry */
#define SMBX_ERR_EXISTS (-8)     /**< the entry already exists */
#define SMBX_ERR_LIMIT (-9)      /**< a configured limit was reached */
#define SMBX_ERR_UNSUPPORTED (-10) /**< feature or version not supported */
#define SMBX_ERR_DECODE (-11)    /**< malformed input to a stateless decoder */
#define SMBX_ERR_ENCODING (-12)  /**< invalid UTF-8 / UTF-16 text */
#define SMBX_ERR_AUTH (-13)      /**< a signature or AEAD tag did not verify */
#define SMBX_ERR_FATAL (-100)    /**< boundary: codes <= this are sticky */
#define SMBX_ERR_PROTO (-101)    /**< the peer violated the protocol */
#define SMBX_ERR_TRANSPORT (-102) /**< a transport hook or completion failed */
#define SMBX_ERR_TIMEOUT (-103)  /**< a protocol timer expired */
#define SMBX_ERR_CLOSED (-104)   /**< the connection was disconnected */
#define SMBX_ERR_NEGOTIATE (-105) /**< negotiation failed or was refused */
/** @} */

/** @brief Where and why a decode or a connection failed.
 *  Filled by decoders (optional out-parameter) and by the per-connection
 *  error-detail calls. `reason` is static text (never freed), `offset` the
 *  byte offset of the failing field in the input it names.
 *  @since 0.1.0 */
typedef struct smbx_error_detail {
  const char *reason;
  size_t offset;
} smbx_error_detail;

/** @brief Describe an error code.
 *  @param err any int (known or not)
 *  @return a static string; never NULL, never aborts.
 *  @since 0.1.0 */
SMBX_API const char *smbx_strerror(int err);

/** @brief The symbolic name of an error code ("SMBX_ERR_PROTO").
 *  @return a static string; "SMBX_ERR_UNKNOWN" for unknown codes.
 *  @since 0.1.0 */
SMBX_API const char *smbx_strerror_name(int err);

/** @brief Library version at run time.
 *  @return "MAJOR.MINOR.PATCH" (static storage).
 *  @since 0.1.0 */
SMBX_API const char *smbx_version(void);

/** @brief Library version at run time as SMBX_VERSION_NUM. @since 0.1.0 */
SMBX_API uint32_t smbx_version_num(void);

/** @brief Memory allocator plugged in by the host.
 *
 *  Every function receives the size and alignment of the block, so a
 *  pool- or Rust-backed allocator needs no headers of its own. `alloc`
 *  returns NULL on failure. `realloc` may be NULL: smbx then uses
 *  alloc+copy+free. The library allocates only at setup or when a pool
 *  grows, never on the steady-state data path.
 *  @since 0.1.0 */
typedef struct smbx_allocator {
  size_t struct_size; /**< sizeof(smbx_allocator) as compiled by the caller */
  void *(*alloc)(size_t size, size_t align, void *user_data);
  void *(*realloc)(void *p, size_t old_size, size_t new_size, size_t align,
                   void *user_data);
  void (*free)(void *p, size_t size, size_t align, void *user_data);
  void *user_data;
} smbx_allocator;

/** @brief The default allocator (C library malloc/realloc/free).
 *  @return a pointer to a static, immutable allocator.
 *  @since 0.1.0 */
SMBX_API const smbx_allocator *smbx_allocator_default(void);

/** @brief Convert UTF-16LE (SMB2 names) to UTF-8.
 *  @param src UTF-16LE bytes (no terminator); may be NULL when src_len is 0
 *  @param src_len byte length; must be even
 *  @param dst output buffer (not NUL-terminated); may be NULL when cap is 0
 *  @param cap capacity of dst in bytes
 *  @param out_len set to the UTF-8 length, also when dst is too small
 *  @return 0; SMBX_ERR_ENCODING on odd length or an unpaired surrogate;
 *          SMBX_ERR_NOBUF when cap < *out_len (nothing useful in dst);
 *          SMBX_ERR_INVAL on NULL out_len.
 *  @since 0.1.0 */
SMBX_API int smbx_utf16le_to_utf8(const uint8_t *src, size_t src_len,
                                  uint8_t *dst, size_t cap, size_t *out_len);

/** @brief Convert UTF-8 to UTF-16LE.
 *  @return 0; SMBX_ERR_ENCODING on invalid UTF-8 (overlong forms, encoded
 *          surrogates, code points above U+10FFFF, truncated sequences);
 *          SMBX_ERR_NOBUF when cap < *out_len; SMBX_ERR_INVAL on NULL
 *          out_len. Parameters as smbx_utf16le_to_utf8().
 *  @since 0.1.0 */
SMBX_API int smbx_utf8_to_utf16le(const uint8_t *src, size_t src_len,
                                  uint8_t *dst, size_t cap, size_t *out_len);

#ifdef __cplusplus
}
#endif

#endif /* SMBX_SMBX_H */
