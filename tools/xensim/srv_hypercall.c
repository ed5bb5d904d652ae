/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_hypercall.c - the hypercalls of the drop-in Xen libraries, decoded
 * from the wire and run on the hypervisor model (hv.h), and the event
 * channel operations of libxenevtchn.
 *
 * DOC: Overview
 *
 * Every request is length-checked before its payload is read; the reply
 * carries the model's return value, which the library turns into -1/errno.
 * Foreign mappings belong to the connection's cookie (so a client that
 * dies leaks none); large results (a dirty bitmap above SIM_WIRE_MAX_BULK)
 * travel in a memfd.
 *
 * Fault injection (fault.h): srv_op_hypercall() arms the fault a call may
 * meet; calls that fail before they reach Xen (libxenctrl's hypercall
 * buffer) fire it here, the model fires the others at the point where the
 * call would succeed.  The command line's connections and libxenstore's
 * are never faulted.
 *
 * Event channels: a client binds the sharing ring's port of a domain or
 * VIRQ_ENOMEM; the transport forwards the model's notifications to the
 * bound connections; notifying a ring port runs vm_event_resume().
 */
#include "srv_hypercall.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xen/xen.h>

#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "srv_guest.h"

static struct sim_binding *binding_find(struct sim_server *srv, uint64_t cookie, uint32_t port)
{
	for (struct sim_binding *b = srv->bindings; b; b = b->next)
		if (b->cookie == cookie && b->local_port == port)
			return b;
	return NULL;
}

void srv_op_evtchn(struct sim_server *srv, struct sim_client *c, uint32_t op,
		      const uint8_t *p, size_t len, struct sim_reply *r)
{
	struct sim_wire_evtchn e;
	struct sim_binding *b;

	NEED(len >= sizeof(e));
	memcpy(&e, p, sizeof(e));
	switch (op) {
	case SIM_OP_EVTCHN_BIND_INTERDOMAIN:
	case SIM_OP_EVTCHN_BIND_VIRQ:
		if (op == SIM_OP_EVTCHN_BIND_VIRQ) {
			if (e.port >= NR_VIRQS) {
				r->ret = -EINVAL;
				return;
			}
			/* a global VIRQ binds once in dom0 (evtchn_bind_virq: -EEXIST) */
			for (b = srv->bindings; b; b = b->next)
				if (b->virq && b->remote_port == e.port) {
					r->ret = -EEXIST;
					return;
				}
		} else {
			struct sim_dominfo info;

			if (sim_hv_domain_getinfo(srv->hv, e.domid, 1, &info) != 1 ||
			    info.domid != e.domid) {
				r->ret = -ESRCH;
				return;
			}
		}
		b = calloc(1, sizeof(*b));
		if (!b) {
			r->ret = -ENOMEM;
			return;
		}
		b->cookie = c->cookie;
		b->local_port = srv->next_port++;
		b->virq = op == SIM_OP_EVTCHN_BIND_VIRQ;
		b->remote_dom = b->virq ? 0 : e.domid;
		b->remote_port = e.port;
		b->next = srv->bindings;
		srv->bindings = b;
		r->ret = b->local_port;
		return;
	case SIM_OP_EVTCHN_UNBIND:
		for (struct sim_binding **pb = &srv->bindings; *pb; pb = &(*pb)->next) {
			if ((*pb)->cookie == c->cookie && (*pb)->local_port == e.port) {
				b = *pb;
				*pb = b->next;
				free(b);
				r->ret = 0;
				return;
			}
		}
		r->ret = -EINVAL;
		return;
	case SIM_OP_EVTCHN_NOTIFY:
		b = binding_find(srv, c->cookie, e.port);
		if (!b) {
			r->ret = -EINVAL;
			return;
		}
		/* the sharing ring's notification handler is vm_event_resume() */
		if (!b->virq) {
			int rc = sim_hv_domain_resume(srv->hv, b->remote_dom);

			if (rc < 0 && rc != -ESRCH && rc != -EINVAL)
				srv_log("dom%u: resume on notify: %s", b->remote_dom, strerror(-rc));
		}
		r->ret = 0;
		return;
	default:
		r->ret = -EINVAL;
		return;
	}
}

/*
 * XEN_DOMCTL_shadow_op: the reply carries the stats and the part of the
 * dirty bitmap that can hold a set bit (the domain's p2m); a bitmap larger
 * than SIM_WIRE_MAX_BULK (a guest above 4 GiB) travels in a memfd instead.
 */
static void op_shadow(struct sim_server *srv, const uint8_t *p, size_t len, struct sim_reply *r)
{
	struct sim_wire_shadow_op q;
	struct sim_wire_shadow_reply rep = { 0 };
	struct sim_shadow_op sc;
	uint8_t *bitmap = NULL;
	size_t blen = 0;

	NEED(len >= sizeof(q));
	memcpy(&q, p, sizeof(q));
	sc = (struct sim_shadow_op){ .op = q.op, .mode = q.mode, .pages = q.pages };
	r->ret = sim_hv_shadow_op(srv->hv, q.domid, &sc, q.bitmap ? &bitmap : NULL, &blen);
	if (r->ret < 0)
		goto out;
	rep.pages = sc.pages;
	rep.fault_count = sc.fault_count;
	rep.dirty_count = sc.dirty_count;
	rep.bitmap_len = blen;
	r->len = sizeof(rep);
	if (blen <= SIM_WIRE_MAX_BULK) {
		if (blen)
			memcpy(srv->tx + sizeof(rep), bitmap, blen);
		r->len += blen;
	} else {
		int fd = memfd_create("xensim-dirty-bitmap", MFD_CLOEXEC);

		if (fd < 0 || srv_write_all(fd, bitmap, blen) < 0) {
			srv_log("dom%u: cannot pass a %zu-byte dirty bitmap (memfd): %s", q.domid,
			      blen, strerror(errno));
			/* CLEAN has cleared it already: the caller must know it lost it */
			r->ret = -ENOMEM;
			if (fd >= 0)
				close(fd);
			goto out;
		}
		rep.in_memfd = 1;
		r->pass_fd = fd;
		r->close_fd = true;
	}
	memcpy(srv->tx, &rep, sizeof(rep));
out:
	free(bitmap);
}

/* XEN_DMOP_modified_memory: one request per call of the library. */
static void op_dm_modified_memory(struct sim_server *srv, const uint8_t *p, size_t len,
				  struct sim_reply *r)
{
	struct sim_wire_dm_op q;
	struct sim_dm_extent *x;

	NEED(len >= sizeof(q));
	memcpy(&q, p, sizeof(q));
	if (q.n > SIM_WIRE_MAX_DM_EXTENTS) {
		r->ret = -EINVAL;
		return;
	}
	NEED(len >= sizeof(q) + (size_t)q.n * sizeof(*x));
	x = malloc(q.n ? (size_t)q.n * sizeof(*x) : 1);
	if (!x) {
		r->ret = -ENOMEM;
		return;
	}
	memcpy(x, p + sizeof(q), (size_t)q.n * sizeof(*x));
	r->ret = sim_hv_modified_memory(srv->hv, q.domid, x, q.n);
	free(x);
}

static void hypercall(struct sim_server *srv, struct sim_client *c, uint32_t op,
		      const uint8_t *p, size_t len, struct sim_reply *r)
{
	struct sim_hv *hv = srv->hv;
	struct sim_wire_dom d;
	struct sim_wire_dom_nr dn;
	struct sim_wire_gfn g;
	struct sim_wire_share s;

	switch (op) {
	case SIM_OP_DOMAIN_GETINFO: {
		struct sim_wire_dom_range q;
		unsigned int max;

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		max = q.max;
		if (max > TX_MAX / sizeof(struct sim_dominfo))
			max = TX_MAX / sizeof(struct sim_dominfo);
		r->ret = sim_hv_domain_getinfo(hv, q.first, max, (struct sim_dominfo *)srv->tx);
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(struct sim_dominfo);
		return;
	}
	case SIM_OP_PHYSINFO: {
		struct sim_wire_physinfo pi = { 0 };
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

		sim_hv_physinfo(hv, &pi.total_pages, &pi.free_pages);
		pi.nr_cpus = ncpu > 0 ? (uint64_t)ncpu : 1;
		pi.cpu_khz = 2000000;
		memcpy(srv->tx, &pi, sizeof(pi));
		r->len = sizeof(pi);
		return;
	}
	case SIM_OP_DOMAIN_PAUSE:
	case SIM_OP_DOMAIN_UNPAUSE:
	case SIM_OP_DOMAIN_DESTROY:
	case SIM_OP_RING_DISABLE:
	case SIM_OP_DOMAIN_RESUME:
		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		if (op == SIM_OP_DOMAIN_PAUSE)
			r->ret = sim_hv_domain_pause(hv, d.domid);
		else if (op == SIM_OP_DOMAIN_UNPAUSE)
			r->ret = sim_hv_domain_unpause(hv, d.domid);
		else if (op == SIM_OP_RING_DISABLE)
			r->ret = sim_hv_ring_disable(hv, d.domid);
		else if (op == SIM_OP_DOMAIN_RESUME)
			r->ret = sim_hv_domain_resume(hv, d.domid);
		else {
			struct sim_guest *gu = srv_guest_find(srv, d.domid);

			r->ret = gu ? srv_guest_destroy(srv, gu) : sim_hv_domain_destroy(hv, d.domid);
		}
		return;
	case SIM_OP_DECREASE_RESERVATION:
	case SIM_OP_MEMSHR_CONTROL:
		NEED(len >= sizeof(dn));
		memcpy(&dn, p, sizeof(dn));
		if (op == SIM_OP_MEMSHR_CONTROL)
			r->ret = sim_hv_memshr_control(hv, dn.domid, dn.nr != 0);
		else
			r->ret = sim_hv_decrease_reservation(hv, dn.domid, dn.nr);
		return;
	case SIM_OP_GET_PARAM: {
		struct sim_wire_param q;
		struct sim_wire_u64 v = { 0 };

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		r->ret = sim_hv_get_param(hv, q.domid, q.param, &v.v);
		if (r->ret >= 0) {
			memcpy(srv->tx, &v, sizeof(v));
			r->len = sizeof(v);
		}
		return;
	}
	case SIM_OP_NOMINATE_GFN:
	case SIM_OP_DEBUG_GFN: {
		struct sim_wire_u64 h = { 0 };

		NEED(len >= sizeof(g));
		memcpy(&g, p, sizeof(g));
		if (op == SIM_OP_DEBUG_GFN) {
			r->ret = sim_hv_debug_gfn(hv, g.domid, g.gfn);
			return;
		}
		r->ret = sim_hv_nominate_gfn(hv, g.domid, g.gfn, &h.v);
		if (r->ret >= 0) {
			memcpy(srv->tx, &h, sizeof(h));
			r->len = sizeof(h);
		}
		return;
	}
	case SIM_OP_SHARE_GFNS:
	case SIM_OP_ADD_TO_PHYSMAP:
		NEED(len >= sizeof(s));
		memcpy(&s, p, sizeof(s));
		if (op == SIM_OP_SHARE_GFNS)
			r->ret = sim_hv_share(hv, s.sdom, s.sgfn, s.sh, s.cdom, s.cgfn, s.ch);
		else
			r->ret = sim_hv_add_to_physmap(hv, s.sdom, s.sgfn, s.sh, s.cdom, s.cgfn);
		return;
	case SIM_OP_RANGE_SHARE: {
		struct sim_wire_range q;

		NEED(len >= sizeof(q));
		memcpy(&q, p, sizeof(q));
		r->ret = sim_hv_range_share(hv, q.sdom, q.cdom, q.first_gfn, q.last_gfn);
		return;
	}
	case SIM_OP_AUDIT:
		r->ret = sim_hv_audit(hv);
		return;
	case SIM_OP_FREED_PAGES:
		r->ret = sim_hv_sharing_freed_pages(hv);
		return;
	case SIM_OP_USED_FRAMES:
		r->ret = sim_hv_sharing_used_frames(hv);
		return;
	case SIM_OP_RING_ENABLE: {
		uint32_t port = 0;
		struct sim_wire_u64 v;

		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->ret = sim_hv_ring_enable(hv, d.domid, &port);
		if (r->ret >= 0) {
			v.v = port;
			memcpy(srv->tx, &v, sizeof(v));
			r->len = sizeof(v);
		}
		return;
	}
	case SIM_OP_COMPARE_SHARE: {
		uint32_t n;
		xenshare_cmpshr_pair_t *pairs = (xenshare_cmpshr_pair_t *)srv->tx;

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n > XENSHARE_CMPSHR_MAX_BATCH) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(*pairs));
		memcpy(pairs, p + 8, (size_t)n * sizeof(*pairs));
		r->ret = sim_hv_compare_share(hv, pairs, n);
		if (r->ret >= 0)
			r->len = (size_t)n * sizeof(*pairs);
		return;
	}
	case SIM_OP_ENOMEM_RESUME:
		NEED(len >= sizeof(d));
		memcpy(&d, p, sizeof(d));
		r->ret = sim_hv_enomem_resume(hv, d.domid);
		return;
	case SIM_OP_ENOMEM_WAITERS: {
		unsigned int max = TX_MAX / sizeof(uint32_t);

		r->ret = sim_hv_enomem_waiters(hv, (uint32_t *)srv->tx, max);
		if (r->ret > 0)
			r->len = (size_t)r->ret * sizeof(uint32_t);
		return;
	}
	case SIM_OP_MAP: {
		struct sim_wire_map m;
		const uint64_t *gfns;
		uint64_t *mfns = (uint64_t *)srv->tx;
		int *errs;
		uint64_t gbuf[SIM_WIRE_MAX_MAP];

		NEED(len >= sizeof(m));
		memcpy(&m, p, sizeof(m));
		if (m.n == 0 || m.n > SIM_WIRE_MAX_MAP) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= sizeof(m) + (size_t)m.n * sizeof(uint64_t));
		memcpy(gbuf, p + sizeof(m), (size_t)m.n * sizeof(uint64_t));
		gfns = gbuf;
		errs = (int *)(srv->tx + (size_t)m.n * sizeof(uint64_t));
		r->ret = sim_hv_map(hv, c->cookie, m.domid, gfns, m.n, m.writable != 0, mfns, errs);
		if (r->ret >= 0)
			r->len = (size_t)m.n * (sizeof(uint64_t) + sizeof(int32_t));
		return;
	}
	case SIM_OP_PFN_TYPES: {
		struct sim_wire_map m;
		uint64_t gbuf[1024];

		NEED(len >= sizeof(m));
		memcpy(&m, p, sizeof(m));
		if (m.n == 0 || m.n > 1024) {
			r->ret = m.n ? -E2BIG : -EINVAL;
			return;
		}
		NEED(len >= sizeof(m) + (size_t)m.n * sizeof(uint64_t));
		memcpy(gbuf, p + sizeof(m), (size_t)m.n * sizeof(uint64_t));
		r->ret = sim_hv_pfn_types(hv, m.domid, gbuf, m.n, (uint64_t *)srv->tx);
		if (r->ret >= 0)
			r->len = (size_t)m.n * sizeof(uint64_t);
		return;
	}
	case SIM_OP_SHADOW_OP:
		op_shadow(srv, p, len, r);
		return;
	case SIM_OP_DM_MODIFIED_MEMORY:
		op_dm_modified_memory(srv, p, len, r);
		return;
	case SIM_OP_UNMAP: {
		uint32_t n;
		uint64_t mbuf[SIM_WIRE_MAX_MAP];

		NEED(len >= 8);
		memcpy(&n, p, sizeof(n));
		if (n == 0 || n > SIM_WIRE_MAX_MAP) {
			r->ret = -EINVAL;
			return;
		}
		NEED(len >= 8 + (size_t)n * sizeof(uint64_t));
		memcpy(mbuf, p + 8, (size_t)n * sizeof(uint64_t));
		r->ret = sim_hv_unmap(hv, c->cookie, mbuf, n);
		return;
	}
	default:
		r->ret = -ENOSYS;
		return;
	}
}

/*
 * The fault a libxenctrl / libxenforeignmemory call of wire op `op` can
 * meet (fault.h), SIM_FOP_NR for none.  fired_here: the fault is fired
 * before the call (the library's buffer), not by the hypervisor model at
 * the point where the call would succeed.
 */
static enum sim_fault_op fault_op(uint32_t op, bool *fired_here, bool *has_dom)
{
	*fired_here = true;
	*has_dom = true;   /* the payload starts with a domid */
	switch (op) {
	case SIM_OP_DOMAIN_GETINFO: return SIM_FOP_GETINFO;
	case SIM_OP_PHYSINFO: *has_dom = false; return SIM_FOP_PHYSINFO;
	case SIM_OP_DOMAIN_PAUSE: return SIM_FOP_PAUSE;
	case SIM_OP_DOMAIN_UNPAUSE: return SIM_FOP_UNPAUSE;
	case SIM_OP_DOMAIN_DESTROY: return SIM_FOP_DESTROY;
	case SIM_OP_DECREASE_RESERVATION: return SIM_FOP_DECREASE_RESERVATION;
	case SIM_OP_GET_PARAM: return SIM_FOP_GET_PARAM;
	case SIM_OP_MEMSHR_CONTROL: return SIM_FOP_MEMSHR_CONTROL;
	case SIM_OP_ADD_TO_PHYSMAP: return SIM_FOP_ADD_TO_PHYSMAP;
	case SIM_OP_RANGE_SHARE: return SIM_FOP_RANGE_SHARE;
	case SIM_OP_DEBUG_GFN: return SIM_FOP_DEBUG_GFN;
	case SIM_OP_AUDIT: *has_dom = false; return SIM_FOP_AUDIT;
	case SIM_OP_RING_ENABLE: return SIM_FOP_RING_ENABLE;
	case SIM_OP_RING_DISABLE: return SIM_FOP_RING_DISABLE;
	case SIM_OP_DOMAIN_RESUME: return SIM_FOP_DOMAIN_RESUME;
	case SIM_OP_COMPARE_SHARE: *has_dom = false; return SIM_FOP_COMPARE_SHARE;
	case SIM_OP_ENOMEM_WAITERS: *has_dom = false; return SIM_FOP_ENOMEM_WAITERS;
	case SIM_OP_ENOMEM_RESUME: return SIM_FOP_ENOMEM_RESUME;
	case SIM_OP_MAP: return SIM_FOP_MAP;
	case SIM_OP_PFN_TYPES: return SIM_FOP_PFN_TYPES;
	case SIM_OP_SHADOW_OP: return SIM_FOP_SHADOW_OP;
	case SIM_OP_DM_MODIFIED_MEMORY: return SIM_FOP_DM_OP;
	case SIM_OP_NOMINATE_GFN:
		*fired_here = false;
		return SIM_FOP_NOMINATE;
	case SIM_OP_SHARE_GFNS:
		*fired_here = false;
		return SIM_FOP_SHARE;
	default:   /* the counters take no buffer; unmap cannot fail */
		return SIM_FOP_NR;
	}
}

/* A hypercall, with the fault it may meet (fault.c's rules). */
void srv_op_hypercall(struct sim_server *srv, struct sim_client *c, uint32_t op,
			 const uint8_t *p, size_t len, struct sim_reply *r)
{
	bool here, has_dom;
	enum sim_fault_op fop = fault_op(op, &here, &has_dom);

	if (!srv->faults || fop == SIM_FOP_NR || c->xenstore) {
		hypercall(srv, c, op, p, len, r);
		return;
	}
	sim_fault_arm(srv->faults, fop);
	if (here) {
		char dom[16] = "host";
		uint32_t domid;

		if (has_dom && len >= sizeof(domid)) {
			memcpy(&domid, p, sizeof(domid));
			snprintf(dom, sizeof(dom), "d%u", domid);
		}
		r->ret = sim_fault_fire(srv->faults, fop, SIM_FC_CALL, "%s (client cookie %" PRIu64 ")",
					dom, c->cookie);
	}
	if (r->ret == 0)
		hypercall(srv, c, op, p, len, r);
	sim_fault_disarm(srv->faults);
}
