/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_cli.h - the xensim command line's requests (srv_cli.c).
 */
#ifndef XENSIM_SRV_CLI_H
#define XENSIM_SRV_CLI_H

#include "srv.h"

/* A SIM_OP_CLI_* request; a failure carries a message for the user. */
void srv_op_cli(struct sim_server *srv, struct sim_client *c, uint32_t op,
		const uint8_t *p, size_t len, struct sim_reply *r);

#endif /* XENSIM_SRV_CLI_H */
