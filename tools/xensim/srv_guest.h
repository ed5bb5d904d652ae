/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_guest.h - the xensim server's guests (srv_guest.c): domains created
 * from an xl.cfg, with the xenstore nodes xl writes, their memory, their
 * vCPUs, on_crash, and the balloon drivers of dom0 and the guests.
 */
#ifndef XENSIM_SRV_GUEST_H
#define XENSIM_SRV_GUEST_H

#include "srv.h"

/*
 * Creates a guest from xl.cfg text (file name and base directory for
 * messages and relative paths, overrides as `xl create` appends them).
 * Returns its domid, or -errno with the reason in msg.
 */
int srv_guest_create(struct sim_server *srv, const char *filename, const char *basedir,
		     const char *data, size_t data_len, const char *const *ov,
		     unsigned int nr_ov, char *msg, size_t msglen);
struct sim_guest *srv_guest_find(struct sim_server *srv, uint32_t domid);
/*
 * Ends a guest: vCPUs stopped, domain destroyed, xenstore nodes removed,
 * @releaseDomain fired.  Returns the hypervisor's answer (0 if it was gone).
 */
int srv_guest_destroy(struct sim_server *srv, struct sim_guest *g);
/*
 * `xensim storm`: g's vCPUs rewrite permille/1000 of its shared gfns at
 * once.  Returns the pages the storm writes, or -errno with msg set.
 */
long srv_guest_storm(struct sim_server *srv, struct sim_guest *g, uint32_t permille,
		     char *msg, size_t msglen);
/* Crashed guests: @releaseDomain, then on_crash (every tick of the loop). */
void srv_guests_check(struct sim_server *srv);
/* dom0's own nodes, written once at start. */
void srv_dom0_write_nodes(struct sim_server *srv);
/* Whether path (as caller wrote it) is some domain's memory/target, and whose. */
bool srv_is_memory_target(uint32_t caller, const char *path, uint32_t *domid);
/* domid's balloon driver reacts to its memory/target. */
void srv_balloon(struct sim_server *srv, uint32_t domid);

#endif /* XENSIM_SRV_GUEST_H */
