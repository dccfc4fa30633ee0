/* SPDX-License-Identifier: MIT */
/* File and file system information class codecs (smbx/smb2_io.h, MS-FSCC
 * 2.4 / 2.5): the first input byte picks a decoder, the rest is its input.
 * Oracles: never read out of bounds (ASan); name views stay inside the
 * input; what a decoder accepts re-encodes, and that encoding decodes and
 * re-encodes to the same bytes (FileStreamInformation: every entry walked
 * is rebuilt and walks back to the same names and sizes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <smbx/smb2.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* inputs are cut to this: any name they hold re-encodes into OUT_MAX */
#define IN_MAX 65536u
#define OUT_MAX (IN_MAX + 128u)
#define MAX_STREAMS 64u

static void inside(const uint8_t *base, size_t len, smbx_smb2_bytes v)
{
  if (v.len && (v.p < base || v.p + v.len > base + len))
    abort();
}

/* decode(p) -> encode -> decode -> encode: both encodings equal. */
#define ROUND_TRIP(type, dec, enc, name_field)                                \
  do {                                                                        \
    type a, b;                                                                \
    memset(&a, 0, sizeof a);                                                  \
    if (dec(p, len, &a, NULL) != 0)                                           \
      return 0;                                                               \
    name_field(a, p, len);                                                    \
    static uint8_t e1[OUT_MAX], e2[OUT_MAX];                                  \
    smbx_ssize n1 = enc(&a, e1, sizeof e1, NULL);                             \
    if (n1 < 0)                                                               \
      abort(); /* a decoded structure always re-encodes */                    \
    memset(&b, 0, sizeof b);                                                  \
    if (dec(e1, (size_t)n1, &b, NULL) != 0)                                   \
      abort();                                                                \
    smbx_ssize n2 = enc(&b, e2, sizeof e2, NULL);                             \
    if (n2 != n1 || memcmp(e1, e2, (size_t)n1) != 0)                          \
      abort();                                                                \
  } while (0)

#define NO_NAME(s, base, len) (void)(s)
#define FILE_NAME(s, base, len) inside((base), (len), (s).file_name)
#define LABEL(s, base, len) inside((base), (len), (s).volume_label)
#define FS_NAME(s, base, len) inside((base), (len), (s).file_system_name)

static void streams(const uint8_t *p, size_t len)
{
  smbx_smb2_file_stream_entry e[MAX_STREAMS];
  size_t n = 0, pos = 0;
  while (n < MAX_STREAMS &&
         smbx_smb2_file_stream_info_next(p, len, &pos, &e[n], NULL) == 1) {
    inside(p, len, e[n].stream_name);
    n++;
  }
  if (n == 0)
    return;
  static uint8_t out[MAX_STREAMS * (24 + 8) + IN_MAX];
  /* names come from the input, so the rebuilt list fits */
  smbx_ssize w = smbx_smb2_file_stream_info_encode(e, n, out, sizeof out,
                                                   NULL);
  if (w < 0)
    abort();
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    smbx_smb2_file_stream_entry d;
    if (smbx_smb2_file_stream_info_next(out, (size_t)w, &at, &d, NULL) != 1 ||
        d.stream_size != e[i].stream_size ||
        d.stream_allocation_size != e[i].stream_allocation_size ||
        d.stream_name.len != e[i].stream_name.len ||
        (d.stream_name.len &&
         memcmp(d.stream_name.p, e[i].stream_name.p, d.stream_name.len) != 0))
      abort();
  }
  smbx_smb2_file_stream_entry d;
  if (smbx_smb2_file_stream_info_next(out, (size_t)w, &at, &d, NULL) != 0)
    abort(); /* the rebuilt list ends where the walked one did */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  const uint8_t *p = data + 1;
  size_t len = size - 1 < IN_MAX ? size - 1 : IN_MAX;
  switch (data[0] % 20) {
  case 0:
    ROUND_TRIP(smbx_smb2_file_basic_info, smbx_smb2_file_basic_info_decode,
               smbx_smb2_file_basic_info_encode, NO_NAME);
    break;
  case 1:
    ROUND_TRIP(smbx_smb2_file_standard_info,
               smbx_smb2_file_standard_info_decode,
               smbx_smb2_file_standard_info_encode, NO_NAME);
    break;
  case 2:
    ROUND_TRIP(smbx_smb2_file_internal_info,
               smbx_smb2_file_internal_info_decode,
               smbx_smb2_file_internal_info_encode, NO_NAME);
    break;
  case 3:
    ROUND_TRIP(smbx_smb2_file_all_info, smbx_smb2_file_all_info_decode,
               smbx_smb2_file_all_info_encode, FILE_NAME);
    break;
  case 4:
    ROUND_TRIP(smbx_smb2_file_network_open_info,
               smbx_smb2_file_network_open_info_decode,
               smbx_smb2_file_network_open_info_encode, NO_NAME);
    break;
  case 5:
    ROUND_TRIP(smbx_smb2_file_ea_info, smbx_smb2_file_ea_info_decode,
               smbx_smb2_file_ea_info_encode, NO_NAME);
    break;
  case 6:
    ROUND_TRIP(smbx_smb2_file_access_info, smbx_smb2_file_access_info_decode,
               smbx_smb2_file_access_info_encode, NO_NAME);
    break;
  case 7:
    ROUND_TRIP(smbx_smb2_file_position_info,
               smbx_smb2_file_position_info_decode,
               smbx_smb2_file_position_info_encode, NO_NAME);
    break;
  case 8:
    ROUND_TRIP(smbx_smb2_file_mode_info, smbx_smb2_file_mode_info_decode,
               smbx_smb2_file_mode_info_encode, NO_NAME);
    break;
  case 9:
    ROUND_TRIP(smbx_smb2_file_alignment_info,
               smbx_smb2_file_alignment_info_decode,
               smbx_smb2_file_alignment_info_encode, NO_NAME);
    break;
  case 10:
    ROUND_TRIP(smbx_smb2_file_attribute_tag_info,
               smbx_smb2_file_attribute_tag_info_decode,
               smbx_smb2_file_attribute_tag_info_encode, NO_NAME);
    break;
  case 11:
    ROUND_TRIP(smbx_smb2_file_compression_info,
               smbx_smb2_file_compression_info_decode,
               smbx_smb2_file_compression_info_encode, NO_NAME);
    break;
  case 12:
    streams(p, len);
    break;
  case 13:
    ROUND_TRIP(smbx_smb2_fs_volume_info, smbx_smb2_fs_volume_info_decode,
               smbx_smb2_fs_volume_info_encode, LABEL);
    break;
  case 14:
    ROUND_TRIP(smbx_smb2_fs_size_info, smbx_smb2_fs_size_info_decode,
               smbx_smb2_fs_size_info_encode, NO_NAME);
    break;
  case 15:
    ROUND_TRIP(smbx_smb2_fs_device_info, smbx_smb2_fs_device_info_decode,
               smbx_smb2_fs_device_info_encode, NO_NAME);
    break;
  case 16:
    ROUND_TRIP(smbx_smb2_fs_attribute_info,
               smbx_smb2_fs_attribute_info_decode,
               smbx_smb2_fs_attribute_info_encode, FS_NAME);
    break;
  case 17:
    ROUND_TRIP(smbx_smb2_fs_full_size_info,
               smbx_smb2_fs_full_size_info_decode,
               smbx_smb2_fs_full_size_info_encode, NO_NAME);
    break;
  case 18:
    ROUND_TRIP(smbx_smb2_fs_sector_size_info,
               smbx_smb2_fs_sector_size_info_decode,
               smbx_smb2_fs_sector_size_info_encode, NO_NAME);
    break;
  default:
    ROUND_TRIP(smbx_smb2_file_end_of_file_info,
               smbx_smb2_file_end_of_file_info_decode,
               smbx_smb2_file_end_of_file_info_encode, NO_NAME);
    break;
  }
  return 0;
}
