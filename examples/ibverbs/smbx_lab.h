/* SPDX-License-Identifier: MIT */
/* The soft-RoCE lab's calling convention (../shared/tools/rdma-vm) for
 * smbx-server and smbx-client: `PROGRAM ROLE OWN_IP PEER_IP PORT` plus
 * $SMBX_* variables, turned into the programs' ordinary options.
 *
 * Server: `--rdma OWN_IP:PORT --root $SMBX_SCRATCH/share --share
 * $SMBX_SHARE --config FILE` (FILE: $SMBX_USER:$SMBX_PASS, guest = yes).
 *
 * Client: `--rdma -d $SMBX_VERS -U $SMBX_USER%$SMBX_PASS (or -g) -t 20
 * //PEER_IP:PORT/$SMBX_SHARE -c SCRIPT`, SCRIPT made from $SMBX_OPS, a
 * comma-separated list run in order:
 *   auth=guest|user   the session's logon (first op only; default user)
 *   w=SIZE[/BS]       SIZE random bytes -> new remote file fN (put)
 *   r[=SIZE[/BS]]     fN back into a local copy (get); its md5 is checked
 *                     against what was written once the session ends
 *   ls, ls=DIR, mkdir=D, rm=P, mv=A:B, stat=P
 *   kill=SECS         acted on by the lab itself (ignored here)
 * The exit status is 0 only when every command succeeded and every md5
 * matched (smbx_lab_client_finish). */
#ifndef SMBX_LAB_H
#define SMBX_LAB_H

/* 1: argv was the lab convention and argc, argv now hold the options;
 * 0: ordinary command line, untouched; -1: lab convention, but unusable. */
int smbx_lab_server_args(int *argc, char ***argv);
int smbx_lab_client_args(int *argc, char ***argv);

/* After the client program ran with status rc: compare the md5 of every
 * file written with its read-back copy, print them; the final status. */
int smbx_lab_client_finish(int rc);

#endif /* SMBX_LAB_H */
