/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * cli.h - the xensim commands that talk to a running host (everything but
 * `start`), in the manner of xl.  Each returns the process exit status:
 * 0 success, 1 the host refused or failed, 2 bad arguments, 3 verify found
 * mismatches.
 */
#ifndef XENSIM_CLI_H
#define XENSIM_CLI_H

#define SIM_EXIT_OK 0
#define SIM_EXIT_FAIL 1
#define SIM_EXIT_USAGE 2
#define SIM_EXIT_MISMATCH 3
#define SIM_EXIT_PANIC 4       /* the host's server: the simulated Xen hit a BUG() */

#include <stdbool.h>
#include <stdint.h>

/* Socket path: --socket, else $XENSIM_SOCKET, else the default. */
const char *sim_cli_socket(const char *opt);

int sim_cli_create(const char *sock, int argc, char **argv);
int sim_cli_domain_op(const char *sock, const char *what, const char *dom);
/* `xensim storm`: every DOM's vCPUs rewrite permille/1000 of its shared gfns. */
int sim_cli_storm(const char *sock, uint32_t permille, int ndoms, char **doms);
int sim_cli_list(const char *sock, int json);
int sim_cli_info(const char *sock, int json);
int sim_cli_verify(const char *sock, int json);
/* Every shared frame: mfn, handle, sharers (domid, gfn); docs/xensim.md. */
int sim_cli_frames(const char *sock, int json);
int sim_cli_stop(const char *sock);
/*
 * `save`: runs xensim-save (tools/xensim/save.c), the toolstack's save as a
 * client of the host through the drop-in libraries, on the domain named or
 * numbered dom; its exit status (3: its oracle found lost pages).  Returns
 * only on failure to start it.
 */
int sim_cli_save(const char *sock, const char *dom, const char *file, bool live,
		 bool checkpoint, bool json);
/* xenstore-read/-write/-ls/-chmod acting as domain as_domid. */
int sim_cli_xenstore(const char *sock, const char *cmd, unsigned int as_domid,
		     int argc, char **argv);

#endif /* XENSIM_CLI_H */
