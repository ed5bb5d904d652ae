/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_xenstore.c - xenstore requests of the drop-in libxenstore (and of
 * `xensim xenstore-*`), answered from store.c as the caller's domain.
 *
 * DOC: Overview
 *
 * Each SIM_OP_XS_* request is decoded (strings only after their NUL was
 * found in the payload) and run against the store with the connection's
 * domain as the caller, so permissions are xenstored's.  Watches belong
 * to the connection's cookie; their events are pushed on its WATCHES half
 * by the transport.  A write of some domain's memory/target wakes that
 * domain's balloon driver (srv_guest.c).  Fault injection: a committing
 * transaction end may answer EAGAIN, the only error xenstored gives a
 * request that would succeed.
 */
#include "srv_xenstore.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "srv_guest.h"

void srv_op_xenstore(struct sim_server *srv, struct sim_client *c, uint32_t op,
			const uint8_t *p, size_t len, struct sim_reply *r)
{
	uint32_t caller = c->as_domid, target_dom;
	const char *path, *s2;
	size_t used = 0, used2 = 0;

	switch (op) {
	case SIM_OP_XS_READ: {
		char *val;
		size_t vlen;

		NEED((path = srv_str_in(p, len, NULL)));
		r->ret = sim_store_read(srv->store, caller, path, &val, &vlen);
		if (r->ret == 0) {
			if (vlen > TX_MAX) {
				free(val);
				r->ret = -E2BIG;
				return;
			}
			memcpy(srv->tx, val, vlen);
			r->len = vlen;
			r->ret = (int64_t)vlen;
			free(val);
		}
		return;
	}
	case SIM_OP_XS_WRITE:
		NEED((path = srv_str_in(p, len, &used)));
		r->ret = sim_store_write(srv->store, caller, path, p + used, len - used);
		if (r->ret == 0 && srv_is_memory_target(caller, path, &target_dom))
			srv_balloon(srv, target_dom);
		return;
	case SIM_OP_XS_MKDIR:
		NEED((path = srv_str_in(p, len, NULL)));
		r->ret = sim_store_mkdir(srv->store, caller, path);
		return;
	case SIM_OP_XS_RM:
		NEED((path = srv_str_in(p, len, NULL)));
		r->ret = sim_store_rm(srv->store, caller, path);
		return;
	case SIM_OP_XS_DIRECTORY: {
		char *names;
		size_t nlen;

		NEED((path = srv_str_in(p, len, NULL)));
		r->ret = sim_store_directory(srv->store, caller, path, &names, &nlen);
		if (r->ret >= 0) {
			if (nlen > TX_MAX) {
				free(names);
				r->ret = -E2BIG;
				return;
			}
			memcpy(srv->tx, names, nlen);
			r->len = nlen;
			free(names);
		}
		return;
	}
	case SIM_OP_XS_GET_PERMS: {
		struct xs_permissions perms[SIM_STORE_MAX_PERMS];
		struct sim_wire_xs_perm *wp = (struct sim_wire_xs_perm *)srv->tx;

		NEED((path = srv_str_in(p, len, NULL)));
		r->ret = sim_store_get_perms(srv->store, caller, path, perms, SIM_STORE_MAX_PERMS);
		for (int i = 0; i < r->ret && i < SIM_STORE_MAX_PERMS; i++)
			wp[i] = (struct sim_wire_xs_perm){ perms[i].id, perms[i].perms };
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(*wp);
		return;
	}
	case SIM_OP_XS_SET_PERMS: {
		uint32_t n;
		struct xs_permissions perms[SIM_STORE_MAX_PERMS];

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n == 0 || n > SIM_STORE_MAX_PERMS) {
			r->ret = n ? -ENOSPC : -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(struct sim_wire_xs_perm));
		for (uint32_t i = 0; i < n; i++) {
			struct sim_wire_xs_perm wp;

			memcpy(&wp, p + 8 + i * sizeof(wp), sizeof(wp));
			perms[i] = (struct xs_permissions){ wp.id, wp.perms };
		}
		used = 8 + (size_t)n * sizeof(struct sim_wire_xs_perm);
		NEED((path = srv_str_in(p + used, len - used, NULL)));
		r->ret = sim_store_set_perms(srv->store, caller, path, perms, n);
		return;
	}
	case SIM_OP_XS_WATCH:
	case SIM_OP_XS_UNWATCH:
		NEED((path = srv_str_in(p, len, &used)));
		NEED((s2 = srv_str_in(p + used, len - used, &used2)));
		if (op == SIM_OP_XS_WATCH)
			r->ret = sim_store_watch(srv->store, caller, c->cookie, path, s2);
		else
			r->ret = sim_store_unwatch(srv->store, caller, c->cookie, path, s2);
		return;
	case SIM_OP_XS_TRANSACTION_START: {
		uint32_t id;

		r->ret = sim_store_transaction_start(srv->store, &id);
		if (!r->ret)
			r->ret = id;
		return;
	}
	case SIM_OP_XS_TRANSACTION_END: {
		struct sim_wire_u64 v[2];

		NEED(len >= sizeof(v));
		memcpy(v, p, sizeof(v));
		NEED(v[0].v <= UINT32_MAX);
		r->ret = sim_store_transaction_end(srv->store, (uint32_t)v[0].v, v[1].v != 0);
		/*
		 * A commit that xenstored would accept may instead meet a
		 * conflicting change and answer EAGAIN, the client's cue to
		 * run the transaction again.  (xensim's transactions apply at
		 * once, so what the transaction wrote is already there.)
		 */
		if (v[1].v == 0 && sim_fault_draw(srv->faults, SIM_FK_XS_TXN, NULL) && r->ret == 0) {
			sim_fault_note(srv->faults, SIM_FK_XS_TXN, 1, "transaction %" PRIu64
				       " of client cookie %" PRIu64 ": EAGAIN", v[0].v, c->cookie);
			r->ret = -EAGAIN;
		}
		return;
	}
	case SIM_OP_XS_GET_DOMAIN_PATH: {
		struct sim_wire_dom d;

		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->len = (size_t)snprintf((char *)srv->tx, TX_MAX, "/local/domain/%u", d.domid);
		r->ret = (int64_t)r->len;
		return;
	}
	default:
		r->ret = -ENOSYS;
		return;
	}
}
