/* SPDX-License-Identifier: MIT */
/* Writes a capture of a whole client-node / server-node conversation over
 * Direct TCP (tools/pcap), for check_node_pcap.py to check with tshark:
 * NEGOTIATE 3.1.1 (when built with the OpenSSL adapter; 3.0.2 without),
 * SESSION_SETUP x3 (signed final leg), TREE_CONNECT, CREATE, WRITE, READ,
 * QUERY_DIRECTORY, a related compound, ECHO, CLOSE, LOGOFF.
 * usage: node_pcap OUT.pcap */
#include <stdio.h>
#include <stdlib.h>

#include "node_harness.h"
#include "pcapw.h"
#include "test_main.h"

static const char *g_out;

static void node_pcap_conversation(void **state)
{
  (void)state;
  nh x;
  nh_setup(&x, true);
  if (x.have_cr)
    x.ss.flags |= SMBX_SERVER_SIGNING_REQUIRED;
  assert_int_equal(nh_start(&x), 0);
  pcapw *w = pcapw_open(g_out, NULL);
  assert_non_null(w);
  x.pcap = w;
  int p = nh_add_tcp(&x, false);
  uint64_t c = x.pair[p].cconn;
  nh_negotiate(&x, p);
  uint64_t s = nh_session(&x, p);
  uint32_t t = nh_tree(&x, p, s);
  smbx_smb2_fileid f = nh_create(&x, p, s, t, "capture.txt");
  static uint8_t data[60000];
  for (size_t i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)i;
  uint64_t req;
  assert_int_equal(smbx_client_write(x.cli, c, s, t, f, 0, data, sizeof data,
                                     x.now, &req),
                   0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  assert_int_equal(smbx_client_read(x.cli, c, s, t, f, 0, sizeof data, x.now,
                                    &req),
                   0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  uint8_t star[2] = {'*', 0};
  smbx_smb2_query_directory_req q;
  memset(&q, 0, sizeof q);
  q.info_class = SMBX_SMB2_FILE_ID_BOTH_DIRECTORY_INFORMATION;
  q.file_id = f;
  q.file_name.p = star;
  q.file_name.len = 2;
  q.output_buffer_length = 65536;
  assert_int_equal(smbx_client_query_directory(x.cli, c, s, t, &q, x.now,
                                               &req),
                   0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  static const uint8_t four[4] = {4, 0, 0, 0};
  smbx_client_op ops[2] = {{SMBX_SMB2_ECHO, 0, 0, four, 4},
                           {SMBX_SMB2_ECHO, 0, 0, four, 4}};
  uint64_t reqs[2];
  assert_int_equal(smbx_client_compound(x.cli, c, s, 0, ops, 2, 0, 0, x.now,
                                        reqs),
                   0);
  assert_int_equal(nh_response(&x, reqs[1])->ev.u.pdu.status, 0);
  assert_int_equal(smbx_client_close(x.cli, c, s, t, f, 0, x.now, &req), 0);
  assert_int_equal(nh_response(&x, req)->ev.u.pdu.status, 0);
  assert_int_equal(smbx_client_logoff(x.cli, c, s, x.now, &req), 0);
  assert_non_null(nh_wait(&x, SMBX_EV_SESSION_DOWN));
  assert_int_equal(pcapw_close(w), 0);
  printf("# dialect %x signed %d\n", x.srv_dialect, x.have_cr);
  nh_fini(&x);
}

int main(int argc, char **argv)
{
  if (argc != 2) {
    fprintf(stderr, "usage: node_pcap OUT.pcap\n");
    return 2;
  }
  g_out = argv[1];
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(node_pcap_conversation),
  };
  return RUN_TESTS(tests);
}
