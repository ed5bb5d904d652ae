/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * server.h - the xensim host process: owns the hypervisor model, the
 * xenstore and the guests, and serves wire.h on a Unix socket.
 */
#ifndef XENSIM_SERVER_H
#define XENSIM_SERVER_H

#include "hv.h"

struct sim_server_opts {
	const char *socket_path;
	struct sim_hv_config hv;
	/*
	 * When >= 0, the server writes one status line to it once it listens
	 * ("ok\n") or fails ("error: ...\n"), then closes it: how a
	 * daemonising `xensim start` learns that the host is up.
	 */
	int ready_fd;
};

/* Runs until SIM_OP_CLI_STOP, SIGTERM or SIGINT.  Returns the exit status. */
int sim_server_run(const struct sim_server_opts *opts);

#endif /* XENSIM_SERVER_H */
