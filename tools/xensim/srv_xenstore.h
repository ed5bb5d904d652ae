/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_xenstore.h - the xensim server's xenstore requests (srv_xenstore.c).
 */
#ifndef XENSIM_SRV_XENSTORE_H
#define XENSIM_SRV_XENSTORE_H

#include "srv.h"

/* One SIM_OP_XS_* request of client c, as c's domain. */
void srv_op_xenstore(struct sim_server *srv, struct sim_client *c, uint32_t op,
		     const uint8_t *p, size_t len, struct sim_reply *r);

#endif /* XENSIM_SRV_XENSTORE_H */
