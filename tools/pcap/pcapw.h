/* SPDX-License-Identifier: MIT */
/* pcapw: the project's pcap writer for tests (not part of libsmbx).
 *
 * Writes classic pcap files (LINKTYPE_ETHERNET) that tshark 4.0 dissects:
 *  - Direct-TCP: one synthetic TCP connection client 127.0.0.1:50000 ->
 *    server 127.0.0.2:<tcp_port>. The three-way handshake is emitted on the
 *    first pcapw_tcp() call, then the bytes go in order per direction, split
 *    at `mss`, with correct seq/ack numbers and checksums, PSH on the last
 *    segment of each call; pcapw_close() emits the FIN exchange.
 *  - SMB Direct over RoCEv2: Ethernet / IPv4 / UDP dst 4791 / InfiniBand BTH
 *    (+ RETH / AETH / IETH) / payload / zero pad to 4 / ICRC, RC opcodes,
 *    packets split at `mtu`.
 * Timestamps start at PCAPW_TS_START seconds and grow by 1 us per frame, so
 * output files are byte-for-byte reproducible.
 *
 * Use (meson: dependencies: [pcapw_dep]; then check the file with
 * `/usr/bin/python3 tools/tshark_check.py FILE --expect-smbd N ...`):
 *
 *   pcapw *w = pcapw_open("run.pcap", NULL);            // mtu 4096, mss 1460, port 445
 *   pcapw_smbd_send(w, 0, negreq, 20);                  // client -> server SEND Only
 *   pcapw_smbd_send(w, 1, negresp, 32);                 // server -> client
 *   pcapw_rdma_write(w, 1, desc_offset, desc_token, buf, n);  // server writes (SMB2 READ)
 *   pcapw_tcp(w, 0, direct_tcp_bytes, len);             // 4-byte header included
 *   if (pcapw_close(w) != 0) ...                        // FIN exchange, flush
 *
 * tshark 4.0 decodes an SMB Direct message only when it is alone in one SEND
 * Only packet: keep messages <= mtu (with mtu 65536 a message of up to 65488
 * bytes fits one IPv4 packet, 65484 with Invalidate; larger ones return -1).
 *
 * All functions returning int return 0 on success and -1 on failure. A write
 * error on the file is sticky (every later call and pcapw_close return -1);
 * an invalid argument (bad dir, a packet that does not fit in IPv4) returns
 * -1 before anything is written and leaves the writer usable.
 */
#ifndef SMBX_TOOLS_PCAPW_H
#define SMBX_TOOLS_PCAPW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pcapw pcapw;

typedef struct pcapw_opts {
  uint32_t mtu;      /* RoCE path MTU (payload bytes per packet), default 4096;
                        larger values allowed (up to 65536) as long as each
                        packet still fits one IPv4/UDP datagram */
  uint32_t mss;      /* TCP segment size, default 1460 (max 65495) */
  uint16_t tcp_port; /* server port, default 445 */
} pcapw_opts;

/* Defaults; a zero field in the opts given to pcapw_open also means default. */
#define PCAPW_DEFAULT_MTU 4096u
#define PCAPW_DEFAULT_MSS 1460u
#define PCAPW_DEFAULT_TCP_PORT 445u
#define PCAPW_TS_START 1700000000u /* first frame's timestamp, seconds */
#define PCAPW_SNAPLEN 262144u

/* Addresses and queue pairs of the synthetic peers. */
#define PCAPW_CLIENT_IP 0x7f000001u /* 127.0.0.1 */
#define PCAPW_SERVER_IP 0x7f000002u /* 127.0.0.2 */
#define PCAPW_CLIENT_TCP_PORT 50000u
#define PCAPW_ROCE_UDP_PORT 4791u
#define PCAPW_CLIENT_QPN 0x000011u /* the client's QP (DestQP of server->client packets) */
#define PCAPW_SERVER_QPN 0x000022u /* the server's QP (DestQP of client->server packets) */
#define PCAPW_QPN_STEP 0x000100u   /* both QPNs grow by this per pcapw_roce_reconnect */

/* InfiniBand RC opcodes (IBA vol. 1, 9.2) */
enum {
  PCAPW_OP_SEND_FIRST = 0x00,
  PCAPW_OP_SEND_MIDDLE = 0x01,
  PCAPW_OP_SEND_LAST = 0x02,
  PCAPW_OP_SEND_ONLY = 0x04,
  PCAPW_OP_WRITE_FIRST = 0x06,
  PCAPW_OP_WRITE_MIDDLE = 0x07,
  PCAPW_OP_WRITE_LAST = 0x08,
  PCAPW_OP_WRITE_ONLY = 0x0A,
  PCAPW_OP_READ_REQUEST = 0x0C,
  PCAPW_OP_READ_RESP_FIRST = 0x0D,
  PCAPW_OP_READ_RESP_MIDDLE = 0x0E,
  PCAPW_OP_READ_RESP_LAST = 0x0F,
  PCAPW_OP_READ_RESP_ONLY = 0x10,
  PCAPW_OP_SEND_LAST_INV = 0x16,
  PCAPW_OP_SEND_ONLY_INV = 0x17,
};

/* Open `path` for writing (truncates). opts NULL = defaults.
 * Returns NULL on a bad option or when the file cannot be created. */
pcapw *pcapw_open(const char *path, const pcapw_opts *opts);

/* dir: 0 = client -> server, 1 = server -> client */

/* Direct-TCP stream bytes including the 4-byte header; len 0 writes nothing. */
int pcapw_tcp(pcapw *w, int dir, const void *bytes, size_t len);
/* One SMB Direct message = one RDMA SEND (Only, or First/Middle/Last when
 * len > mtu; tshark 4.0 decodes only SEND Only). */
int pcapw_smbd_send(pcapw *w, int dir, const void *msg, size_t len);
/* SEND with Invalidate (Only 0x17 / Last 0x16 carry an IETH with rkey). */
int pcapw_smbd_send_inv(pcapw *w, int dir, uint32_t rkey, const void *msg, size_t len);
/* RDMA WRITE by side `dir` of `len` bytes at raddr/rkey (RETH on First/Only). */
int pcapw_rdma_write(pcapw *w, int dir, uint64_t raddr, uint32_t rkey, const void *data,
                     size_t len);
/* RDMA READ issued by side `dir`: a READ Request (RETH) from dir, then the
 * READ Response packets carrying `data` from the other side. */
int pcapw_rdma_read(pcapw *w, int dir, uint64_t raddr, uint32_t rkey, const void *data,
                    size_t len);
/* A new RC connection between the same two hosts: later RoCE packets use
 * both QPNs + PCAPW_QPN_STEP (per call) and PSNs/MSNs from 0, so readers
 * keying queue pairs (tshark, smbx-dump) see a second SMB Direct
 * connection with its own negotiate. */
int pcapw_roce_reconnect(pcapw *w);
/* FIN exchange if TCP was used, flush, close, free. NULL is a no-op (0).
 * Returns -1 if any write failed during the writer's life. */
int pcapw_close(pcapw *w);

/* Frames written so far. */
uint64_t pcapw_frame_count(const pcapw *w);

/* ---- pure helpers (exposed for unit tests and capture readers) ---- */

/* RFC 1071 Internet checksum of data (odd length padded with a zero byte),
 * starting from the partial 32-bit sum `sum` (0 to start); returns the
 * complemented 16-bit result. */
uint16_t pcapw_inet_checksum(uint32_t sum, const void *data, size_t len);
/* Partial one's-complement sum (no fold, no complement), to chain with the above. */
uint32_t pcapw_inet_sum(uint32_t sum, const void *data, size_t len);

/* CRC-32 (IEEE 802.3, reflected 0xEDB88320), zlib-compatible:
 * pcapw_crc32(0, p, n) == zlib.crc32(p); chain by passing the previous result. */
uint32_t pcapw_crc32(uint32_t crc, const void *data, size_t len);

/* RoCEv2 ICRC of an IPv4 packet `ip` (from the IPv4 header to the byte before
 * the ICRC, i.e. IPv4 + UDP + BTH + rest): CRC-32 over 8 bytes of 0xFF
 * (masked LRH), the IPv4 header with TOS, TTL and checksum set to all ones, the
 * UDP header with checksum set to all ones, the BTH with its reserved byte 4
 * set to all ones, then the rest unchanged (as Linux rdma_rxe computes it). The
 * ICRC is stored on the wire as this value in little-endian byte order.
 * Returns 0 (and sets *ok = 0) when len is too short for IPv4+UDP+BTH. */
uint32_t pcapw_roce_icrc(const uint8_t *ip, size_t len, int *ok);

/* InfiniBand Base Transport Header (12 bytes, big-endian). */
typedef struct pcapw_bth {
  uint8_t opcode;
  uint8_t se;       /* solicited event, 0/1 */
  uint8_t migreq;   /* 0/1 */
  uint8_t pad;      /* pad count 0..3 */
  uint8_t tver;     /* transport header version, 0 */
  uint16_t pkey;    /* 0xFFFF */
  uint32_t dest_qp; /* 24 bits */
  uint8_t ackreq;   /* 0/1 */
  uint32_t psn;     /* 24 bits */
} pcapw_bth;

void pcapw_bth_encode(uint8_t out[12], const pcapw_bth *b);
/* Returns 0, or -1 if len < 12. */
int pcapw_bth_decode(const uint8_t *p, size_t len, pcapw_bth *b);

/* Number of packets/segments `len` bytes take at `unit` bytes each
 * (ceil(len / unit); 0 bytes take 1 RDMA packet but 0 TCP segments, so
 * `empty_is_one` selects the RDMA rule). unit 0 returns 0. */
size_t pcapw_segment_count(size_t len, uint32_t unit, int empty_is_one);

/* ---- a small reader for pcapw's own output (tests) ---- */

enum {
  PCAPW_PKT_OTHER = 0,
  PCAPW_PKT_TCP = 1,
  PCAPW_PKT_ROCE = 2,
};

typedef struct pcapw_pkt {
  uint32_t ts_sec, ts_usec;
  uint32_t frame_len;    /* bytes of the frame */
  int kind;              /* PCAPW_PKT_* */
  int dir;               /* 0 = from 127.0.0.1, 1 = from 127.0.0.2, -1 other */
  int ip_csum_ok;        /* IPv4 header checksum verifies */
  int l4_csum_ok;        /* TCP checksum verifies (TCP) / UDP checksum 0 or valid */
  int icrc_ok;           /* RoCE: the ICRC matches pcapw_roce_icrc */
  uint16_t ip_id;
  /* TCP */
  uint16_t sport, dport;
  uint32_t seq, ack;
  uint8_t tcp_flags;     /* FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 */
  /* RoCE */
  pcapw_bth bth;
  int has_reth, has_aeth, has_ieth;
  uint64_t reth_va;
  uint32_t reth_rkey, reth_len;
  uint32_t aeth;         /* syndrome << 24 | MSN */
  uint32_t ieth;         /* invalidated rkey */
  /* payload after all headers (TCP data / RoCE payload without pad and ICRC);
   * valid until the next pcapw_reader_next call */
  const uint8_t *payload;
  size_t payload_len;
} pcapw_pkt;

typedef struct pcapw_reader pcapw_reader;

/* NULL if the file cannot be opened or is not a little-endian µs Ethernet pcap. */
pcapw_reader *pcapw_reader_open(const char *path);
/* 1 = a packet in *p, 0 = end of file, -1 = truncated/bad file. */
int pcapw_reader_next(pcapw_reader *r, pcapw_pkt *p);
void pcapw_reader_close(pcapw_reader *r);

#ifdef __cplusplus
}
#endif

#endif
