/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_hypercall.h - the hypercalls and event channel operations of the
 * drop-in libxenctrl, libxenforeignmemory, libxenevtchn and
 * libxendevicemodel (srv_hypercall.c).
 */
#ifndef XENSIM_SRV_HYPERCALL_H
#define XENSIM_SRV_HYPERCALL_H

#include "srv.h"

/* A hypercall of client c, with the fault it may meet. */
void srv_op_hypercall(struct sim_server *srv, struct sim_client *c, uint32_t op,
		      const uint8_t *p, size_t len, struct sim_reply *r);
/* An event channel operation of client c (bindings belong to its cookie). */
void srv_op_evtchn(struct sim_server *srv, struct sim_client *c, uint32_t op,
		   const uint8_t *p, size_t len, struct sim_reply *r);

#endif /* XENSIM_SRV_HYPERCALL_H */
