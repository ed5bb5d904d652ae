/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fake_xen.c - an in-process Xen 4.17 host behind libshare/xen.h.
 *
 * DOC: Overview
 *
 * The unit tests of the engine's core link this file where libshare links
 * xen.c: every function of xen.h is implemented here against a small model
 * of the hypervisor that lives in the test process (no xensim, no socket,
 * no privcmd), so a test runs a scenario in microseconds and can make any
 * answer happen exactly where it wants (fake_xen.h).
 *
 * The model keeps what the engine can observe of Xen 4.17's memory sharing
 * (xen/arch/x86/mm/mem_sharing.c, and tools/xensim/hv_share.c, which
 * follows it step by step):
 *  - a host pool of free frames; domains with a p2m of gfns, each a hole
 *    or a frame holding 4096 bytes;
 *  - nominate: an already shared gfn returns its frame's handle; a hole or
 *    the ring page gives -EINVAL, a page someone maps writable -EINVAL and
 *    read-only -E2BIG (the extra reference); otherwise the frame becomes a
 *    shared frame of one sharer under a fresh handle (tot_pages - 1,
 *    shr_pages + 1, nr_shared + 1);
 *  - share: both gfns on one frame is success; the frame with the lower
 *    mfn is looked up first, then the handles are checked (source, then
 *    client); every gfn of the client frame moves to the source frame,
 *    which frees the client frame (nr_shared - 1, nr_saved + 1).  A client
 *    frame that also backs a gfn of a third domain is Xen 4.17's
 *    lock-order BUG(): recorded as a panic (the patched hypervisor returns
 *    -EDEADLK);
 *  - a write to a shared gfn (a guest's, or a writable foreign mapping)
 *    unshares it: the frame itself for its last sharer, else a copy in a
 *    free frame; with no free frame the guest's vCPU waits on the sharing
 *    ring, is a VIRQ_ENOMEM waiter (patched), or the domain crashes; a
 *    writable mapping gets -ENOMEM in err[].  A handle dies with the frame
 *    leaving the shared state, so a write between nominate and share makes
 *    the share fail with a handle error;
 *  - the batched op of hypervisor-patch/ per pair: nominate both, compare
 *    under the lock, share; a client frame spanning a third domain is
 *    merged the other way round, and when both frames span the smaller
 *    one's gfns move to the other (hypervisor-patch 0009; SPANNED with
 *    cfg.no_frame_merge, a series without 0009);
 *  - debug_gfn: the gfns on a shared frame, -EINVAL for a private page;
 *  - page types (XEN_DOMCTL_getpageframeinfo3): a hole, or a gfn past the
 *    p2m's end, has none; at most 1024 gfns a call (-E2BIG);
 *  - the counters: per-domain shr_pages and tot_pages, nr_saved_mfns and
 *    nr_shared_mfns, so that sum(shr_pages) = saved + shared always holds
 *    (fx_check);
 *  - the sharing ring as the engine sees it through xen.h: requests Xen
 *    produced, responses the consumer produced, Xen consuming them on a
 *    notify or a resume (a response to a request that paused a vCPU
 *    unpauses it); a ring left enabled by a consumer that went away is
 *    taken over as xen.c does (its unanswered requests answered first);
 *    event channels with a pending queue.
 *
 * The counters of struct shr_xen_counters are kept exactly as xen.c keeps
 * them (a hypercall per call that reaches the hypervisor, one mapping per
 * map call, live_mappings between map and unmap, the ring page apart), so
 * the engine's audit and statistics read the same numbers.
 *
 * A mapping hands the engine a copy of the frames' bytes, taken when it is
 * made (a writable one is copied back when it goes): the engine only reads
 * through read-only mappings, and nothing else runs while it holds one.
 *
 * The one thing this file duplicates from xen.c is the conversion of a
 * share's return value into a verdict (fx_verdict, shr_xen_cmpshr_verdict);
 * xen_ut proves xen.c's own.
 */
#include "fake_xen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define FX_RING_SLOTS 32u
#define FX_MAX_RULES 64u
#define FX_MAX_HOLDS 64u
#define FX_MAX_PENDING 64u
#define FX_REQ_PAUSED 1u             /* VM_EVENT_FLAG_VCPU_PAUSED */
#define FX_REQ_FOREIGN 2u            /* VM_EVENT_FLAG_FOREIGN */
#define FX_REASON_MEM_SHARING 2u     /* VM_EVENT_REASON_MEM_SHARING */
#define FX_VIRQ_ENOMEM 12u

struct fx_frame {
	uint8_t data[FX_PAGE_SIZE];
	uint64_t mfn;                /* lookup order of share_pages() */
	bool shared;
	bool ring;                   /* a domain's sharing ring page */
	uint64_t handle;             /* while shared */
	unsigned int nr;             /* gfns mapping it */
	unsigned int map_ro, map_rw; /* foreign mappings */
};

struct fx_ring {
	bool enabled;
	uint32_t port;               /* Xen's end of the event channel */
	struct shr_xen *consumer;    /* who has it bound, or NULL */
	uint32_t local;              /* the consumer's port */
	struct shr_xen_ring_req req[FX_RING_SLOTS];
	uint32_t rsp_flags[FX_RING_SLOTS];
	unsigned int prod;           /* requests Xen produced */
	unsigned int rsp;            /* responses the consumer produced */
	unsigned int rsp_cons;       /* responses Xen consumed */
	unsigned int paused;         /* vCPUs paused by a request */
};

struct fx_dom {
	uint32_t domid;
	uint64_t nr_gfns;
	struct fx_frame **p2m;       /* NULL: a hole */
	bool dying, crashed, paused, sharing_enabled;
	int refuse;                  /* memshr_control's answer, or 0 */
	uint64_t max_pages, tot_pages, shr_pages;
	uint64_t ring_gfn;           /* 0: no ring page */
	struct fx_ring ring;
	unsigned int enomem_waiting;
	bool logdirty;               /* log-dirty mode on */
	uint64_t *dirty;             /* its bitmap (NULL: freed, all clear) */
	uint64_t dirty_count;        /* bits set since the last CLEAN (not reset by OFF) */
	struct fx_dom *next;
};

struct fx_rule {
	enum fx_op op;
	uint32_t domid;
	uint64_t gfn;
	unsigned int nth, times, seen, fired;
	int rc;
	void (*fn)(void *arg);       /* a hook, or NULL for an injection */
	void *arg;
};

struct fx_map {
	void *addr;
	unsigned int n;
	bool writable;
	struct fx_frame **frames;    /* NULL where err[i] */
	struct fx_map *next;
};

struct fx_hold {
	struct fx_frame *f;
	bool writable, used;
};

/* One open of the Xen libraries (the engine's; a restart opens again). */
struct shr_xen {
	struct shr_xen_counters cnt;
	bool cmpshr;                 /* found and probed at open */
	bool evtchn;
	int efd;                     /* stands in for the event channel fd */
	uint32_t next_local;
	uint32_t pending[FX_MAX_PENDING];
	unsigned int npending;
	bool virq_bound;
	uint32_t virq_local;
	bool devicemodel;
	uint64_t *ld_bits;           /* the boundary's bitmap buffer */
	size_t ld_words;
	struct fx_map *maps;
	struct shr_xen *next;
};

struct shr_xen_ring {
	uint32_t domid;
	uint32_t local;
	unsigned int cons;           /* the consumer's req_cons */
};

static struct {
	struct fx_cfg cfg;
	uint64_t free, nr_saved, nr_shared, next_handle, next_mfn;
	struct fx_dom *doms;
	struct shr_xen *opens;
	struct fx_rule rules[FX_MAX_RULES];
	unsigned int nr_rules;
	uint64_t calls[FX_NR_OPS];
	struct fx_hold holds[FX_MAX_HOLDS];
	uint64_t nominate_while_mapped, ring_page_maps, bad_unmaps;
	char panic[256];
} H;

/* ---- frames and domains ------------------------------------------------------- */

static struct fx_frame *frame_new(void)
{
	struct fx_frame *f = calloc(1, sizeof(*f));

	if (f)
		f->mfn = H.next_mfn++;
	return f;
}

/* Frees a frame nobody maps any more and no gfn points at. */
static void frame_put(struct fx_frame *f)
{
	if (f && !f->nr && !f->map_ro && !f->map_rw)
		free(f);
}

static struct fx_dom *dom_get(uint32_t domid)
{
	for (struct fx_dom *d = H.doms; d; d = d->next)
		if (d->domid == domid)
			return d;
	return NULL;
}

static struct fx_frame *frame_of(const struct fx_dom *d, uint64_t gfn)
{
	return gfn < d->nr_gfns ? d->p2m[gfn] : NULL;
}

/* Whether a domain other than a and b has a gfn on f. */
static bool spans_other(const struct fx_frame *f, uint32_t a, uint32_t b)
{
	for (const struct fx_dom *d = H.doms; d; d = d->next) {
		if (d->domid == a || d->domid == b)
			continue;
		for (uint64_t g = 0; g < d->nr_gfns; g++)
			if (d->p2m[g] == f)
				return true;
	}
	return false;
}

/* ---- the sharing ring, Xen's side ------------------------------------------------ */

static void pending_push(struct shr_xen *x, uint32_t local)
{
	uint64_t one = 1;

	for (unsigned int i = 0; i < x->npending; i++)
		if (x->pending[i] == local)
			return;
	if (x->npending < FX_MAX_PENDING)
		x->pending[x->npending++] = local;
	if (x->efd >= 0 && write(x->efd, &one, sizeof(one)) != sizeof(one))
		perror("fake_xen: eventfd write");
}

static void ring_notify_consumer(struct fx_dom *d)
{
	if (d->ring.consumer)
		pending_push(d->ring.consumer, d->ring.local);
}

/* vm_event_resume(): Xen consumes the responses; one to a request that
 * paused a vCPU unpauses it. */
static void ring_consume(struct fx_dom *d)
{
	struct fx_ring *r = &d->ring;

	while (r->rsp_cons != r->rsp) {
		if ((r->rsp_flags[r->rsp_cons % FX_RING_SLOTS] & FX_REQ_PAUSED) && r->paused)
			r->paused--;
		r->rsp_cons++;
	}
}

static int ring_put(struct fx_dom *d, uint32_t vcpu, uint32_t flags)
{
	struct fx_ring *r = &d->ring;

	if (!r->enabled)
		return -ENODEV;
	if (r->prod - r->rsp_cons >= FX_RING_SLOTS)
		return -EBUSY;
	r->req[r->prod % FX_RING_SLOTS] = (struct shr_xen_ring_req){
		.vcpu_id = vcpu, .flags = flags, .reason = FX_REASON_MEM_SHARING };
	r->prod++;
	if (flags & FX_REQ_PAUSED)
		r->paused++;
	ring_notify_consumer(d);
	return 0;
}

/* The ring is disabled (or its domain gone): vCPUs paused by a request
 * stay paused, as in Xen (only a response releases them). */
static void ring_teardown(struct fx_dom *d)
{
	unsigned int paused = d->ring.paused;

	d->ring = (struct fx_ring){ .paused = paused };
}

static void virq_raise(void)
{
	for (struct shr_xen *x = H.opens; x; x = x->next)
		if (x->virq_bound)
			pending_push(x, x->virq_local);
}

/* ---- sharing, Xen's side ------------------------------------------------------------ */

/* paging_mark_pfn_dirty(): a no-op while log-dirty is off. */
static void mark_dirty(struct fx_dom *d, uint64_t gfn)
{
	if (!d->logdirty || gfn >= d->nr_gfns)
		return;
	if (!d->dirty) {
		d->dirty = calloc((d->nr_gfns + 63) / 64, sizeof(*d->dirty));
		if (!d->dirty)
			return;
	}
	if (!(d->dirty[gfn / 64] & (1ull << (gfn % 64)))) {
		d->dirty[gfn / 64] |= 1ull << (gfn % 64);
		d->dirty_count++;
	}
}

/*
 * __mem_sharing_unshare_page(): 0 or -ENOMEM (the caller decides what an
 * ENOMEM means).  The frame itself for its last sharer, else a copy.
 * Either way the page is marked dirty (private_page_found).
 */
static int unshare(struct fx_dom *d, uint64_t gfn)
{
	struct fx_frame *f = d->p2m[gfn], *n;

	if (!f || !f->shared)
		return 0;
	if (f->nr == 1) {
		f->shared = false;
		f->handle = 0;
		H.nr_shared--;
		d->shr_pages--;
		d->tot_pages++;
		mark_dirty(d, gfn);
		return 0;
	}
	if (!H.free || d->tot_pages >= d->max_pages)
		return -ENOMEM;
	n = frame_new();
	if (!n)
		return -ENOMEM;
	memcpy(n->data, f->data, FX_PAGE_SIZE);
	n->nr = 1;
	H.free--;
	f->nr--;
	H.nr_saved--;
	d->shr_pages--;
	d->tot_pages++;
	d->p2m[gfn] = n;
	mark_dirty(d, gfn);
	return 0;
}

/* A guest's own write found no memory (hvm.c's unshare fault path). */
static int guest_enomem(struct fx_dom *d, uint32_t vcpu)
{
	if (d->ring.enabled)
		return ring_put(d, vcpu, FX_REQ_PAUSED) ? -EBUSY : FX_PAUSED;
	if (H.cfg.patched) {
		d->enomem_waiting++;
		virq_raise();
		return FX_PAUSED;
	}
	fprintf(stderr, "fake_xen: d%u attempt to unshare, ENOMEM and no helper: crashed\n",
		d->domid);
	d->crashed = d->dying = true;
	return FX_CRASHED;
}

/* rcu_lock_live_remote_domain_by_id(), then the implicit enable. */
static int memop_domain(uint32_t domid, struct fx_dom **out)
{
	struct fx_dom *d = dom_get(domid);

	if (!d)
		return -ESRCH;
	if (domid == 0)
		return -EPERM;
	if (d->dying)
		return -EINVAL;
	if (!d->sharing_enabled) {
		if (d->refuse)
			return d->refuse;
		d->sharing_enabled = true;
	}
	*out = d;
	return 0;
}

/* The client of a share must have sharing enabled already. */
static int memop_client(uint32_t domid, struct fx_dom **out)
{
	struct fx_dom *d = dom_get(domid);

	if (!d)
		return -ESRCH;
	if (domid == 0)
		return -EPERM;
	if (d->dying)
		return -EINVAL;
	*out = d;
	return d->sharing_enabled ? 0 : -EINVAL;
}

/* nominate_page() */
static int nominate(struct fx_dom *d, uint64_t gfn, uint64_t *handle)
{
	struct fx_frame *f = frame_of(d, gfn);

	*handle = 0;
	if (!f || f->ring)
		return -EINVAL;
	if (f->shared) {
		*handle = f->handle;
		return 0;
	}
	if (d->dying)
		return -EBUSY;
	if (f->map_rw)
		return -EINVAL;
	if (f->map_ro)
		return -E2BIG;
	f->shared = true;
	f->handle = ++H.next_handle;
	d->tot_pages--;
	d->shr_pages++;
	H.nr_shared++;
	*handle = f->handle;
	return 0;
}

static bool grab(const struct fx_frame *f)
{
	return f && f->shared;
}

/*
 * share_pages(); compare: the batched op's own share, which merges the
 * other way round when only the client frame spans a third domain, and
 * when both do moves the smaller frame's gfns (0009) or, without 0009,
 * merges nothing (XENSHARE_CMPSHR_SPANNED).
 */
static int share_pages(struct fx_dom *sd, uint64_t sgfn, uint64_t sh, struct fx_dom *cd,
		       uint64_t cgfn, uint64_t ch, bool compare)
{
	struct fx_frame *sf = frame_of(sd, sgfn), *cf = frame_of(cd, cgfn), *t;
	uint64_t smfn = sf ? sf->mfn : UINT64_MAX, cmfn = cf ? cf->mfn : UINT64_MAX;

	if (sf == cf)
		return 0;
	if (smfn < cmfn) {
		if (!grab(sf))
			return FX_S_HANDLE_INVALID;
		if (!grab(cf))
			return FX_C_HANDLE_INVALID;
	} else {
		if (!grab(cf))
			return FX_C_HANDLE_INVALID;
		if (!grab(sf))
			return FX_S_HANDLE_INVALID;
	}
	if (sf->handle != sh)
		return FX_S_HANDLE_INVALID;
	if (cf->handle != ch)
		return FX_C_HANDLE_INVALID;
	if (spans_other(cf, sd->domid, cd->domid)) {
		if (!compare) {
			if (H.cfg.patched)
				return -EDEADLK;
			snprintf(H.panic, sizeof(H.panic),
				 "share_pages: d%u gfn 0x%llx into d%u gfn 0x%llx: the client "
				 "frame backs a gfn of a third domain (lock order BUG)",
				 cd->domid, (unsigned long long)cgfn, sd->domid,
				 (unsigned long long)sgfn);
			fprintf(stderr, "fake_xen: PANIC: %s\n", H.panic);
			return -EHOSTDOWN;
		}
		if (spans_other(sf, sd->domid, cd->domid)) {
			if (H.cfg.no_frame_merge)
				return XENSHARE_CMPSHR_SPANNED;
			/* 0009: gfn by gfn, the smaller frame into the other */
			if (cf->nr <= sf->nr)
				goto merge;
		}
		t = sf;
		sf = cf;
		cf = t;
	}
merge:
	for (struct fx_dom *d = H.doms; d; d = d->next)
		for (uint64_t g = 0; g < d->nr_gfns; g++)
			if (d->p2m[g] == cf)
				d->p2m[g] = sf;
	sf->nr += cf->nr;
	cf->nr = 0;
	cf->shared = false;
	cf->handle = 0;
	frame_put(cf);
	H.free++;
	H.nr_shared--;
	H.nr_saved++;
	return 0;
}

/* One pair of the batched op (hypervisor-patch/ 0002). */
static int cmpshr_one(const xenshare_cmpshr_pair_t *p)
{
	struct fx_dom *sd, *cd;
	uint64_t sh, ch;
	int rc;

	rc = memop_domain(p->source_domain, &sd);
	if (!rc)
		rc = memop_domain(p->client_domain, &cd);
	if (!rc)
		rc = nominate(sd, p->source_gfn, &sh);
	if (!rc)
		rc = nominate(cd, p->client_gfn, &ch);
	if (rc)
		return rc;
	if (frame_of(sd, p->source_gfn) == frame_of(cd, p->client_gfn))
		return XENSHARE_CMPSHR_SHARED;
	if (memcmp(frame_of(sd, p->source_gfn)->data, frame_of(cd, p->client_gfn)->data,
		   FX_PAGE_SIZE))
		return XENSHARE_CMPSHR_DIFFERENT;
	rc = share_pages(sd, p->source_gfn, sh, cd, p->client_gfn, ch, true);
	return rc ? rc : XENSHARE_CMPSHR_SHARED;
}

/* A gfn leaves its frame without a copy (the domain is destroyed, or the
 * gfn ballooned out). */
static void gfn_drop(struct fx_dom *d, uint64_t gfn)
{
	struct fx_frame *f = d->p2m[gfn];

	if (!f)
		return;
	d->p2m[gfn] = NULL;
	f->nr--;
	if (f->shared) {
		d->shr_pages--;
		if (f->nr)
			H.nr_saved--;
		else
			H.nr_shared--;
	} else {
		d->tot_pages--;
	}
	if (!f->nr) {
		H.free++;
		f->shared = false;
		frame_put(f);
	}
}

/* ---- rules: injections and hooks ---------------------------------------------------- */

/* What a call is about: a domain and a gfn (a map or a batch: several). */
struct fx_key {
	uint32_t domid;
	uint64_t gfn;
};

static bool rule_matches(const struct fx_rule *r, const struct fx_key *keys, unsigned int n)
{
	if (!n)
		return r->domid == FX_ANY_DOM && r->gfn == FX_ANY_GFN;
	for (unsigned int i = 0; i < n; i++)
		if ((r->domid == FX_ANY_DOM || r->domid == keys[i].domid) &&
		    (r->gfn == FX_ANY_GFN || r->gfn == keys[i].gfn))
			return true;
	return false;
}

/* A call of op about keys is made: counted, its hooks run, and true with
 * *rc when an injection answers it. */
static bool call(enum fx_op op, const struct fx_key *keys, unsigned int n, int *rc)
{
	bool injected = false;

	H.calls[op]++;
	for (unsigned int i = 0; i < H.nr_rules; i++) {
		struct fx_rule *r = &H.rules[i];

		if (r->op != op || !rule_matches(r, keys, n))
			continue;
		r->seen++;
		if (r->seen < r->nth || (r->times && r->fired >= r->times))
			continue;
		if (r->fn) {
			r->fired++;
			r->fn(r->arg);
			continue;
		}
		if (!injected) {
			r->fired++;
			*rc = r->rc;
			injected = true;
		}
	}
	return injected;
}

static bool call1(enum fx_op op, uint32_t domid, uint64_t gfn, int *rc)
{
	struct fx_key k = { .domid = domid, .gfn = gfn };

	return call(op, &k, 1, rc);
}

static bool call0(enum fx_op op, int *rc)
{
	return call(op, NULL, 0, rc);
}

static int rule_add(enum fx_op op, uint32_t domid, uint64_t gfn, unsigned int nth,
		    unsigned int times, int rc, void (*fn)(void *), void *arg)
{
	if (H.nr_rules == FX_MAX_RULES || op >= FX_NR_OPS)
		return -ENOSPC;
	H.rules[H.nr_rules++] = (struct fx_rule){ .op = op, .domid = domid, .gfn = gfn,
						  .nth = nth ? nth : 1, .times = times,
						  .rc = rc, .fn = fn, .arg = arg };
	return 0;
}

int fx_inject(enum fx_op op, uint32_t domid, uint64_t gfn, unsigned int nth,
	      unsigned int times, int rc)
{
	return rule_add(op, domid, gfn, nth, times, rc, NULL, NULL);
}

int fx_hook(enum fx_op op, uint32_t domid, uint64_t gfn, unsigned int nth,
	    void (*fn)(void *arg), void *arg)
{
	return rule_add(op, domid, gfn, nth, 1, 0, fn, arg);
}

uint64_t fx_calls(enum fx_op op)
{
	return op < FX_NR_OPS ? H.calls[op] : 0;
}

/* ---- the host ---------------------------------------------------------------------------- */

static void dom_free(struct fx_dom *d)
{
	for (uint64_t g = 0; g < d->nr_gfns; g++)
		gfn_drop(d, g);
	free(d->p2m);
	free(d->dirty);
	free(d);
}

void fx_fini(void)
{
	while (H.opens) {
		fprintf(stderr, "fake_xen: a Xen handle was left open\n");
		shr_xen_close(H.opens);
	}
	for (unsigned int i = 0; i < FX_MAX_HOLDS; i++)
		if (H.holds[i].used)
			fx_release((int)i);
	while (H.doms) {
		struct fx_dom *d = H.doms;

		H.doms = d->next;
		dom_free(d);
	}
	memset(&H, 0, sizeof(H));
}

void fx_reset(const struct fx_cfg *cfg)
{
	fx_fini();
	H.cfg = *cfg;
	H.free = cfg->host_pages;
	H.next_mfn = 1;
}

/* Every shared frame once (malloc'ed; *n of them). */
static struct fx_frame **shared_frames(unsigned int *n)
{
	struct fx_frame **v = NULL;
	unsigned int nr = 0, cap = 0;

	for (struct fx_dom *d = H.doms; d; d = d->next)
		for (uint64_t g = 0; g < d->nr_gfns; g++) {
			struct fx_frame *f = d->p2m[g];
			unsigned int i;

			if (!f || !f->shared)
				continue;
			for (i = 0; i < nr && v[i] != f; i++)
				;
			if (i < nr)
				continue;
			if (nr == cap) {
				struct fx_frame **w = realloc(v, (cap = cap ? 2 * cap : 64) *
								 sizeof(*v));

				if (!w) {
					fprintf(stderr, "fake_xen: out of memory\n");
					abort();
				}
				v = w;
			}
			v[nr++] = f;
		}
	*n = nr;
	return v;
}

void fx_host(struct fx_host_stats *out)
{
	*out = (struct fx_host_stats){ .total = H.cfg.host_pages, .free = H.free,
				       .nr_saved = H.nr_saved, .nr_shared = H.nr_shared,
				       .nominate_while_mapped = H.nominate_while_mapped,
				       .ring_page_maps = H.ring_page_maps,
				       .bad_unmaps = H.bad_unmaps,
				       .panic = H.panic[0] ? H.panic : NULL };
	struct fx_frame **frames;
	unsigned int nr;

	for (struct fx_dom *d = H.doms; d; d = d->next)
		out->sum_shr_pages += d->shr_pages;
	frames = shared_frames(&nr);
	for (unsigned int i = 0; i < nr; i++)
		out->single_sharer += frames[i]->nr == 1;
	free(frames);
}

void fx_host_set_free(uint64_t free_pages)
{
	H.free = free_pages;
}

/* The gfns the p2ms map to f. */
static unsigned int frame_refs(const struct fx_frame *f)
{
	unsigned int n = 0;

	for (const struct fx_dom *d = H.doms; d; d = d->next)
		for (uint64_t g = 0; g < d->nr_gfns; g++)
			n += d->p2m[g] == f;
	return n;
}

int fx_check(void)
{
	uint64_t sum = 0, saved = 0;
	struct fx_frame **frames;
	unsigned int nr;
	int bad = 0;

	for (struct fx_dom *d = H.doms; d; d = d->next) {
		uint64_t shr = 0, tot = 0;

		for (uint64_t g = 0; g < d->nr_gfns; g++) {
			struct fx_frame *f = d->p2m[g];

			if (f && f->shared)
				shr++;
			else if (f)
				tot++;
			if (f && !f->shared && f->nr != 1) {
				fprintf(stderr, "fake_xen: check: d%u gfn 0x%llx: private frame "
					"with %u gfns\n", d->domid, (unsigned long long)g, f->nr);
				bad++;
			}
		}
		if (shr != d->shr_pages || tot != d->tot_pages) {
			fprintf(stderr, "fake_xen: check: d%u shr_pages %llu/%llu tot_pages "
				"%llu/%llu (recount/kept)\n", d->domid,
				(unsigned long long)shr, (unsigned long long)d->shr_pages,
				(unsigned long long)tot, (unsigned long long)d->tot_pages);
			bad++;
		}
		sum += d->shr_pages;
	}
	frames = shared_frames(&nr);
	for (unsigned int i = 0; i < nr; i++) {
		unsigned int refs = frame_refs(frames[i]);

		if (refs != frames[i]->nr) {
			fprintf(stderr, "fake_xen: check: frame %llu counts %u gfns, the p2ms "
				"%u\n", (unsigned long long)frames[i]->mfn, frames[i]->nr, refs);
			bad++;
		}
		saved += frames[i]->nr - 1;
	}
	free(frames);
	if (nr != H.nr_shared || saved != H.nr_saved || sum != H.nr_saved + H.nr_shared) {
		fprintf(stderr, "fake_xen: check: %u shared frames (kept %llu), %llu saved "
			"(kept %llu), sum(shr_pages) %llu\n", nr,
			(unsigned long long)H.nr_shared, (unsigned long long)saved,
			(unsigned long long)H.nr_saved, (unsigned long long)sum);
		bad++;
	}
	return bad;
}

unsigned int fx_mixed_frames(const char *(*group_of)(uint32_t domid))
{
	unsigned int nr, mixed = 0;
	struct fx_frame **frames = shared_frames(&nr);

	for (unsigned int i = 0; i < nr; i++) {
		const char *first = NULL;
		bool mixes = false;

		for (const struct fx_dom *d = H.doms; d; d = d->next)
			for (uint64_t g = 0; g < d->nr_gfns; g++) {
				if (d->p2m[g] != frames[i])
					continue;
				if (!first)
					first = group_of(d->domid);
				else if (strcmp(first, group_of(d->domid)))
					mixes = true;
			}
		mixed += mixes;
	}
	free(frames);
	return mixed;
}

/* ---- domains ------------------------------------------------------------------------------ */

static int populate(struct fx_dom *d, uint64_t gfn, uint64_t c)
{
	struct fx_frame *f;

	if (!H.free)
		return -ENOMEM;
	f = frame_new();
	if (!f)
		return -ENOMEM;
	fx_content(c, f->data);
	f->nr = 1;
	H.free--;
	d->p2m[gfn] = f;
	d->tot_pages++;
	return 0;
}

int fx_dom_create(uint32_t domid, uint64_t nr_gfns)
{
	struct fx_dom *d, **pp;

	if (dom_get(domid))
		return -EEXIST;
	if (H.free < nr_gfns)
		return -ENOMEM;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->p2m = calloc(nr_gfns ? nr_gfns : 1, sizeof(*d->p2m));
	if (!d->p2m) {
		free(d);
		return -ENOMEM;
	}
	d->domid = domid;
	d->nr_gfns = nr_gfns;
	d->max_pages = nr_gfns;
	for (uint64_t g = 0; g < nr_gfns; g++)
		if (populate(d, g, 0)) {
			dom_free(d);
			return -ENOMEM;
		}
	/* sorted by domid */
	for (pp = &H.doms; *pp && (*pp)->domid < domid; pp = &(*pp)->next)
		;
	d->next = *pp;
	*pp = d;
	return 0;
}

void fx_dom_destroy(uint32_t domid)
{
	struct fx_dom **pp, *d;

	for (pp = &H.doms; *pp && (*pp)->domid != domid; pp = &(*pp)->next)
		;
	d = *pp;
	if (!d)
		return;
	*pp = d->next;
	dom_free(d);
}

void fx_dom_set_dying(uint32_t domid)
{
	struct fx_dom *d = dom_get(domid);

	if (d)
		d->dying = true;
}

void fx_dom_refuse(uint32_t domid, int err)
{
	struct fx_dom *d = dom_get(domid);

	if (d) {
		d->refuse = err;
		d->sharing_enabled = false;
	}
}

int fx_dom_grow(uint32_t domid, uint64_t nr_gfns)
{
	struct fx_dom *d = dom_get(domid);
	struct fx_frame **p2m;

	if (!d)
		return -ESRCH;
	if (nr_gfns <= d->nr_gfns)
		return 0;
	p2m = realloc(d->p2m, nr_gfns * sizeof(*p2m));
	if (!p2m)
		return -ENOMEM;
	d->p2m = p2m;
	if (d->dirty) {
		size_t old = (d->nr_gfns + 63) / 64, words = (nr_gfns + 63) / 64;
		uint64_t *dirty = realloc(d->dirty, words * sizeof(*dirty));

		if (!dirty)
			return -ENOMEM;
		memset(dirty + old, 0, (words - old) * sizeof(*dirty));
		d->dirty = dirty;
	}
	for (uint64_t g = d->nr_gfns; g < nr_gfns; g++)
		d->p2m[g] = NULL;
	d->max_pages += nr_gfns - d->nr_gfns;
	for (uint64_t g = d->nr_gfns; g < nr_gfns; g++) {
		d->nr_gfns = g + 1;
		if (populate(d, g, 0))
			return -ENOMEM;
	}
	return 0;
}

void fx_dom_set_ring(uint32_t domid, uint64_t gfn)
{
	struct fx_dom *d = dom_get(domid);

	if (d && gfn < d->nr_gfns && d->p2m[gfn]) {
		d->ring_gfn = gfn;
		d->p2m[gfn]->ring = true;
	}
}

int fx_dom(uint32_t domid, struct fx_dom_stats *out)
{
	struct fx_dom *d = dom_get(domid);

	if (!d)
		return -ESRCH;
	*out = (struct fx_dom_stats){
		.nr_gfns = d->nr_gfns, .tot_pages = d->tot_pages, .max_pages = d->max_pages,
		.shr_pages = d->shr_pages, .dying = d->dying, .crashed = d->crashed,
		.ring_enabled = d->ring.enabled, .ring_bound = d->ring.consumer != NULL,
		.ring_unanswered = d->ring.prod - d->ring.rsp, .ring_paused = d->ring.paused,
		.enomem_waiting = d->enomem_waiting,
	};
	return 0;
}

/* ---- pages -------------------------------------------------------------------------------- */

void fx_content(uint64_t c, uint8_t page[FX_PAGE_SIZE])
{
	uint64_t s = c;

	if (!c) {
		memset(page, 0, FX_PAGE_SIZE);
		return;
	}
	/* splitmix64: a different page for every c, never all zero */
	for (unsigned int i = 0; i < FX_PAGE_SIZE; i += 8) {
		uint64_t z = (s += 0x9e3779b97f4a7c15ull);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
		z ^= z >> 31;
		memcpy(page + i, &z, 8);
	}
}

static int guest_write(uint32_t domid, uint64_t gfn, const uint8_t *data)
{
	struct fx_dom *d = dom_get(domid);
	struct fx_frame *f;

	if (!d || d->dying)
		return -ESRCH;
	f = frame_of(d, gfn);
	if (!f)
		return -EINVAL;
	if (f->shared && unshare(d, gfn))
		return guest_enomem(d, 0);
	memcpy(d->p2m[gfn]->data, data, FX_PAGE_SIZE);
	mark_dirty(d, gfn);
	return 0;
}

int fx_write(uint32_t domid, uint64_t gfn, uint64_t c)
{
	uint8_t page[FX_PAGE_SIZE];

	fx_content(c, page);
	return guest_write(domid, gfn, page);
}

int fx_write_same(uint32_t domid, uint64_t gfn)
{
	uint8_t page[FX_PAGE_SIZE];
	int rc = fx_read(domid, gfn, page);

	return rc ? rc : guest_write(domid, gfn, page);
}

int fx_read(uint32_t domid, uint64_t gfn, uint8_t page[FX_PAGE_SIZE])
{
	struct fx_dom *d = dom_get(domid);
	struct fx_frame *f = d ? frame_of(d, gfn) : NULL;

	if (!f)
		return d ? -EINVAL : -ESRCH;
	memcpy(page, f->data, FX_PAGE_SIZE);
	return 0;
}

bool fx_holds(uint32_t domid, uint64_t gfn, uint64_t c)
{
	uint8_t want[FX_PAGE_SIZE], have[FX_PAGE_SIZE];

	fx_content(c, want);
	return fx_read(domid, gfn, have) == 0 && !memcmp(want, have, FX_PAGE_SIZE);
}

int fx_hole(uint32_t domid, uint64_t gfn)
{
	struct fx_dom *d = dom_get(domid);

	if (!d || gfn >= d->nr_gfns)
		return -EINVAL;
	gfn_drop(d, gfn);
	return 0;
}

int fx_populate(uint32_t domid, uint64_t gfn, uint64_t c)
{
	struct fx_dom *d = dom_get(domid);

	if (!d || gfn >= d->nr_gfns || d->p2m[gfn])
		return -EINVAL;
	return populate(d, gfn, c);
}

int fx_sharers(uint32_t domid, uint64_t gfn)
{
	struct fx_dom *d = dom_get(domid);
	struct fx_frame *f = d ? frame_of(d, gfn) : NULL;

	return f && f->shared ? (int)f->nr : -EINVAL;
}

uintptr_t fx_frame(uint32_t domid, uint64_t gfn)
{
	struct fx_dom *d = dom_get(domid);

	return d ? (uintptr_t)frame_of(d, gfn) : 0;
}

int fx_nominate(uint32_t domid, uint64_t gfn, uint64_t *handle)
{
	struct fx_dom *d;
	int rc = memop_domain(domid, &d);

	return rc ? rc : nominate(d, gfn, handle);
}

int fx_share(uint32_t sdom, uint64_t sgfn, uint64_t sh, uint32_t cdom, uint64_t cgfn,
	     uint64_t ch)
{
	struct fx_dom *sd, *cd;
	int rc = memop_domain(sdom, &sd);

	if (!rc)
		rc = memop_client(cdom, &cd);
	return rc ? rc : share_pages(sd, sgfn, sh, cd, cgfn, ch, false);
}

int fx_hold(uint32_t domid, uint64_t gfn, bool writable)
{
	struct fx_dom *d = dom_get(domid);
	struct fx_frame *f;

	if (!d || !frame_of(d, gfn))
		return -EINVAL;
	if (writable && unshare(d, gfn))
		return -ENOMEM;
	f = d->p2m[gfn];
	for (unsigned int i = 0; i < FX_MAX_HOLDS; i++) {
		if (H.holds[i].used)
			continue;
		H.holds[i] = (struct fx_hold){ .f = f, .writable = writable, .used = true };
		if (writable)
			f->map_rw++;
		else
			f->map_ro++;
		return (int)i;
	}
	return -ENOSPC;
}

void fx_release(int hold)
{
	struct fx_hold *h;

	if (hold < 0 || hold >= (int)FX_MAX_HOLDS || !H.holds[hold].used)
		return;
	h = &H.holds[hold];
	if (h->writable)
		h->f->map_rw--;
	else
		h->f->map_ro--;
	frame_put(h->f);
	h->used = false;
}

/* ---- the ring and VIRQ, as a test plays Xen ---------------------------------------------- */

int fx_ring_push(uint32_t domid, uint32_t vcpu)
{
	struct fx_dom *d = dom_get(domid);

	return d ? ring_put(d, vcpu, FX_REQ_PAUSED) : -ESRCH;
}

int fx_enomem_wait(uint32_t domid, uint32_t vcpu)
{
	struct fx_dom *d = dom_get(domid);

	(void)vcpu;
	if (!d)
		return -ESRCH;
	if (!H.cfg.patched)
		return -EOPNOTSUPP;
	d->enomem_waiting++;
	virq_raise();
	return 0;
}

void fx_virq_raise(void)
{
	virq_raise();
}

/* =========================================================================================
 * libshare/xen.h
 * ========================================================================================= */

int shr_xen_open(struct shr_xen **out)
{
	struct shr_xen *x;
	int rc = 0;

	if (call0(FX_OPEN, &rc))
		return rc;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->efd = -1;
	x->evtchn = !H.cfg.no_evtchn;
	if (x->evtchn) {
		x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (x->efd < 0) {
			free(x);
			return -errno;
		}
	}
	x->cmpshr = H.cfg.patched && !H.cfg.no_mem_sharing;
	x->devicemodel = !H.cfg.no_devicemodel;
	if (H.cfg.patched)
		x->cnt.hypercalls++;         /* the probe with an empty batch */
	x->next = H.opens;
	H.opens = x;
	*out = x;
	return 0;
}

static void map_drop(struct fx_map *m)
{
	for (unsigned int i = 0; i < m->n; i++) {
		struct fx_frame *f = m->frames[i];

		if (!f)
			continue;
		if (m->writable) {
			memcpy(f->data, (uint8_t *)m->addr + (size_t)i * FX_PAGE_SIZE, FX_PAGE_SIZE);
			f->map_rw--;
		} else {
			f->map_ro--;
		}
		frame_put(f);
	}
	free(m->frames);
	free(m->addr);
	free(m);
}

void shr_xen_close(struct shr_xen *x)
{
	struct shr_xen **pp;

	if (!x)
		return;
	/* as the process's exit would: mappings and event channels go */
	while (x->maps) {
		struct fx_map *m = x->maps;

		x->maps = m->next;
		map_drop(m);
	}
	for (struct fx_dom *d = H.doms; d; d = d->next)
		if (d->ring.consumer == x)
			d->ring.consumer = NULL;
	if (x->efd >= 0)
		close(x->efd);
	for (pp = &H.opens; *pp && *pp != x; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = x->next;
	free(x->ld_bits);
	free(x);
}

const struct shr_xen_counters *shr_xen_counters(const struct shr_xen *x)
{
	return &x->cnt;
}

int shr_xen_dominfo(struct shr_xen *x, uint32_t domid, struct shr_xen_dominfo *out)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_DOMINFO, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	*out = (struct shr_xen_dominfo){
		.domid = domid, .dying = d->dying, .shutdown = d->crashed, .paused = d->paused,
		.hvm = true, .hap = true, .tot_pages = d->tot_pages, .max_pages = d->max_pages,
		.shr_pages = d->shr_pages, .nr_online_vcpus = 1,
	};
	return 0;
}

int shr_xen_nr_gfns(struct shr_xen *x, uint32_t domid, uint64_t *out)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_NR_GFNS, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	*out = d->nr_gfns;
	return 0;
}

int shr_xen_physinfo(struct shr_xen *x, uint64_t *total_pages, uint64_t *free_pages)
{
	int rc;

	x->cnt.hypercalls++;
	if (call0(FX_PHYSINFO, &rc))
		return rc;
	*total_pages = H.cfg.host_pages;
	*free_pages = H.free;
	return 0;
}

int shr_xen_sharing_counters(struct shr_xen *x, uint64_t *freed, uint64_t *used)
{
	int rc;

	x->cnt.info_calls += 2;
	if (call0(FX_SHARING_COUNTERS, &rc))
		return rc;
	*freed = H.nr_saved;
	*used = H.nr_shared;
	return 0;
}

/* A foreign access to a shared gfn found no memory: a request on the ring
 * that pauses no vCPU (xensim: sim_share_enomem, guest = false). */
static void foreign_enomem(struct fx_dom *d)
{
	if (d->ring.enabled)
		ring_put(d, 0, FX_REQ_FOREIGN);
}

/* The FX_MAP call of a map of n gfns of domid. */
static bool map_call(uint32_t domid, const uint64_t *gfns, unsigned int n, int *rc)
{
	struct fx_key *keys = calloc(n ? n : 1, sizeof(*keys));
	bool injected;

	if (!keys) {
		*rc = -ENOMEM;
		return true;
	}
	for (unsigned int i = 0; i < n; i++)
		keys[i] = (struct fx_key){ .domid = domid, .gfn = gfns[i] };
	injected = call(FX_MAP, keys, n, rc);
	free(keys);
	return injected;
}

int shr_xen_map(struct shr_xen *x, uint32_t domid, bool writable,
		const uint64_t *gfns, unsigned int n, int *err, void **addr)
{
	struct fx_map *m;
	struct fx_dom *d;
	int rc;

	x->cnt.mappings++;
	x->cnt.mapped_pages += n;
	if (map_call(domid, gfns, n, &rc))
		return rc;
	d = dom_get(domid);
	if (!d || d->dying)
		return -ESRCH;
	if (!n)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->addr = aligned_alloc(FX_PAGE_SIZE, (size_t)n * FX_PAGE_SIZE);
	m->frames = calloc(n, sizeof(*m->frames));
	if (!m->addr || !m->frames) {
		free(m->addr);
		free(m->frames);
		free(m);
		return -ENOMEM;
	}
	m->n = n;
	m->writable = writable;
	memset(m->addr, 0xa5, (size_t)n * FX_PAGE_SIZE);    /* what err[i] pages show */
	for (unsigned int i = 0; i < n; i++) {
		struct fx_frame *f = frame_of(d, gfns[i]);

		if (call1(FX_MAP_PAGE, domid, gfns[i], &rc)) {
			err[i] = rc;
			continue;
		}
		if (!f) {
			err[i] = -EINVAL;
			continue;
		}
		if (f->ring)
			H.ring_page_maps++;
		if (writable && f->shared && unshare(d, gfns[i])) {
			foreign_enomem(d);
			err[i] = -ENOMEM;
			continue;
		}
		f = d->p2m[gfns[i]];
		if (writable)
			f->map_rw++;
		else
			f->map_ro++;
		m->frames[i] = f;
		memcpy((uint8_t *)m->addr + (size_t)i * FX_PAGE_SIZE, f->data, FX_PAGE_SIZE);
		err[i] = 0;
	}
	m->next = x->maps;
	x->maps = m;
	x->cnt.live_mappings++;
	*addr = m->addr;
	return 0;
}

int shr_xen_gfn_holes(struct shr_xen *x, uint32_t domid, const uint64_t *gfns, unsigned int n,
		      bool *hole)
{
	struct fx_key *keys;
	struct fx_dom *d;
	bool injected;
	int rc;

	x->cnt.hypercalls++;
	keys = calloc(n ? n : 1, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++)
		keys[i] = (struct fx_key){ .domid = domid, .gfn = gfns[i] };
	injected = call(FX_GFN_TYPES, keys, n, &rc);
	free(keys);
	if (injected)
		return rc;
	if (n > 1024)
		return -E2BIG;
	d = dom_get(domid);
	if (!d || d->dying)
		return -ESRCH;
	for (unsigned int i = 0; i < n; i++)
		hole[i] = !frame_of(d, gfns[i]);
	return 0;
}

void shr_xen_unmap(struct shr_xen *x, void *addr, unsigned int n)
{
	struct fx_map **pp, *m;

	for (pp = &x->maps; *pp && (*pp)->addr != addr; pp = &(*pp)->next)
		;
	m = *pp;
	if (!m || m->n != n) {
		fprintf(stderr, "fake_xen: unmap of %u pages at %p: not mapped so\n", n, addr);
		H.bad_unmaps++;
	}
	if (m) {
		*pp = m->next;
		map_drop(m);
	}
	x->cnt.live_mappings--;
}

int shr_xen_memshr_control(struct shr_xen *x, uint32_t domid, bool enable)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_MEMSHR_CONTROL, domid, FX_ANY_GFN, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	if (enable && d->refuse)
		return d->refuse;
	d->sharing_enabled = enable;
	return 0;
}

/* Invariant 3 of docs/design.md: nothing is nominated while a batch map
 * of this engine is live (its own pages would give E2BIG). */
static void check_no_batch_mapped(const struct shr_xen *x)
{
	if (x->maps)
		H.nominate_while_mapped++;
}

int shr_xen_nominate(struct shr_xen *x, uint32_t domid, uint64_t gfn, uint64_t *handle)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_NOMINATE, domid, gfn, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	check_no_batch_mapped(x);
	rc = memop_domain(domid, &d);
	return rc ? rc : nominate(d, gfn, handle);
}

/* xen.c's share_verdict(): the handle errors, and a patched share's EDEADLK. */
static int fx_verdict(int rc, enum shr_verdict *v)
{
	*v = SHR_FAILED;
	if (rc == 0)
		*v = SHR_SHARED;
	else if (rc == FX_S_HANDLE_INVALID)
		*v = SHR_SRC_STALE;
	else if (rc == FX_C_HANDLE_INVALID)
		*v = SHR_CLI_STALE;
	else if (rc == -EDEADLK)
		*v = SHR_SPANNED;
	return *v == SHR_FAILED ? rc : 0;
}

int shr_xen_share(struct shr_xen *x, uint32_t sdom, uint64_t sgfn, uint64_t sh,
		  uint32_t cdom, uint64_t cgfn, uint64_t ch, enum shr_verdict *v)
{
	int rc;

	x->cnt.hypercalls++;
	if (!call1(FX_SHARE, cdom, cgfn, &rc))
		rc = H.cfg.no_mem_sharing ? -ENOSYS : fx_share(sdom, sgfn, sh, cdom, cgfn, ch);
	return fx_verdict(rc, v);
}

int shr_xen_gfn_shared(struct shr_xen *x, uint32_t domid, uint64_t gfn)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_DEBUG_GFN, domid, gfn, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	rc = memop_domain(domid, &d);
	return rc ? rc : fx_sharers(domid, gfn);
}

bool shr_xen_has_cmpshr(const struct shr_xen *x)
{
	return x->cmpshr;
}

int shr_xen_cmpshr(struct shr_xen *x, xenshare_cmpshr_pair_t *pairs, unsigned int n)
{
	int rc;

	if (!x->cmpshr)
		return -EOPNOTSUPP;
	x->cnt.hypercalls++;
	if (n > XENSHARE_CMPSHR_MAX_BATCH || (n && !pairs))
		return -EINVAL;
	{
		struct fx_key keys[XENSHARE_CMPSHR_MAX_BATCH];

		for (unsigned int i = 0; i < n; i++)
			keys[i] = (struct fx_key){ .domid = pairs[i].client_domain,
						   .gfn = pairs[i].client_gfn };
		if (call(FX_CMPSHR, keys, n, &rc))
			return rc;
	}
	check_no_batch_mapped(x);
	for (unsigned int i = 0; i < n; i++)
		if (!call1(FX_CMPSHR_PAIR, pairs[i].client_domain, pairs[i].client_gfn, &rc))
			pairs[i].result = cmpshr_one(&pairs[i]);
		else
			pairs[i].result = rc;
	return 0;
}

/* xen.c's conversion of one pair's result (xen_ut proves xen.c's own). */
enum shr_verdict shr_xen_cmpshr_verdict(const xenshare_cmpshr_pair_t *p, int *err)
{
	enum shr_verdict v;

	*err = 0;
	switch (p->result) {
	case XENSHARE_CMPSHR_SHARED:
		return SHR_SHARED;
	case XENSHARE_CMPSHR_DIFFERENT:
		return SHR_DIFFERENT;
	case XENSHARE_CMPSHR_SPANNED:
		return SHR_SPANNED;
	default:
		if (p->result >= 0) {
			*err = -EPROTO;
			return SHR_FAILED;
		}
		*err = fx_verdict(p->result, &v);
		return v;
	}
}

/* vm_event_domctl()'s lookup: 1 for a dying domain (the op does nothing). */
static int vm_event_dom(uint32_t domid, struct fx_dom **out)
{
	struct fx_dom *d = dom_get(domid);

	if (!d)
		return -ESRCH;
	if (domid == 0)
		return -EINVAL;
	if (d->dying)
		return 1;
	*out = d;
	return 0;
}

int shr_xen_ring_enable(struct shr_xen *x, uint32_t domid, uint32_t *port)
{
	static uint32_t next_port = 100;
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_RING_ENABLE, domid, FX_ANY_GFN, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	rc = vm_event_dom(domid, &d);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (d->ring.enabled)
		return -EBUSY;
	if (!d->ring_gfn)
		return -EOPNOTSUPP;
	ring_teardown(d);
	d->ring.enabled = true;
	d->ring.port = next_port++;
	*port = d->ring.port;
	return 0;
}

int shr_xen_ring_disable(struct shr_xen *x, uint32_t domid)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_RING_DISABLE, domid, FX_ANY_GFN, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	rc = vm_event_dom(domid, &d);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!d->ring.enabled)
		return -EINVAL;
	ring_teardown(d);
	return 0;
}

int shr_xen_ring_pfn(struct shr_xen *x, uint32_t domid, uint64_t *pfn)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_RING_PFN, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	*pfn = d->ring_gfn;
	return 0;
}

int shr_xen_domain_resume(struct shr_xen *x, uint32_t domid)
{
	struct fx_dom *d;
	int rc;

	x->cnt.hypercalls++;
	if (call1(FX_DOMAIN_RESUME, domid, FX_ANY_GFN, &rc))
		return rc;
	if (H.cfg.no_mem_sharing)
		return -ENOSYS;
	rc = vm_event_dom(domid, &d);
	if (rc)
		return rc > 0 ? 0 : rc;
	if (!d->ring.enabled)
		return -ENODEV;
	ring_consume(d);
	return 0;
}

int shr_xen_enomem_waiters(struct shr_xen *x, uint16_t *domids, unsigned int *nr)
{
	unsigned int n = 0;
	int rc;

	if (!H.cfg.patched)
		return -ENOSYS;
	x->cnt.hypercalls++;
	if (call0(FX_ENOMEM_WAITERS, &rc))
		return rc;
	for (struct fx_dom *d = H.doms; d; d = d->next) {
		if (!d->enomem_waiting)
			continue;
		if (n < *nr)
			domids[n] = (uint16_t)d->domid;
		n++;
	}
	*nr = n;
	return 0;
}

int shr_xen_enomem_resume(struct shr_xen *x, uint32_t domid)
{
	struct fx_dom *d;
	int rc;

	if (!H.cfg.patched)
		return -ENOSYS;
	x->cnt.hypercalls++;
	if (call1(FX_ENOMEM_RESUME, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	rc = (int)d->enomem_waiting;
	d->enomem_waiting = 0;
	return rc;
}

int shr_xen_evtchn_fd(struct shr_xen *x)
{
	return x->evtchn ? x->efd : -1;
}

int shr_xen_evtchn_bind_interdomain(struct shr_xen *x, uint32_t domid, uint32_t port,
				    uint32_t *local)
{
	struct fx_dom *d;
	int rc;

	if (!x->evtchn)
		return -ENODEV;
	if (call1(FX_EVTCHN_BIND, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	if (!d->ring.enabled || d->ring.port != port || d->ring.consumer)
		return -EINVAL;
	d->ring.consumer = x;
	d->ring.local = ++x->next_local;
	*local = d->ring.local;
	return 0;
}

int shr_xen_evtchn_bind_virq(struct shr_xen *x, unsigned int virq, uint32_t *local)
{
	int rc;

	if (!x->evtchn)
		return -ENODEV;
	if (call1(FX_EVTCHN_BIND, 0, FX_ANY_GFN, &rc))
		return rc;
	if (virq != FX_VIRQ_ENOMEM || x->virq_bound)
		return -EINVAL;
	x->virq_bound = true;
	x->virq_local = ++x->next_local;
	*local = x->virq_local;
	return 0;
}

int shr_xen_evtchn_unbind(struct shr_xen *x, uint32_t local)
{
	if (!x->evtchn)
		return -ENODEV;
	if (x->virq_bound && x->virq_local == local) {
		x->virq_bound = false;
		return 0;
	}
	for (struct fx_dom *d = H.doms; d; d = d->next)
		if (d->ring.consumer == x && d->ring.local == local) {
			d->ring.consumer = NULL;
			return 0;
		}
	return -EINVAL;
}

int shr_xen_evtchn_notify(struct shr_xen *x, uint32_t local)
{
	if (!x->evtchn)
		return -ENODEV;
	for (struct fx_dom *d = H.doms; d; d = d->next)
		if (d->ring.consumer == x && d->ring.local == local) {
			ring_consume(d);        /* Xen's notification handler */
			return 0;
		}
	return -EINVAL;
}

int shr_xen_evtchn_pending(struct shr_xen *x)
{
	uint64_t v;
	uint32_t port;
	int rc;

	if (!x->evtchn)
		return -ENODEV;
	if (call0(FX_EVTCHN_PENDING, &rc))
		return rc;
	if (!x->npending)
		return -EAGAIN;
	port = x->pending[0];
	memmove(&x->pending[0], &x->pending[1], --x->npending * sizeof(x->pending[0]));
	if (!x->npending && read(x->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		perror("fake_xen: eventfd read");
	return (int)port;
}

int shr_xen_evtchn_unmask(struct shr_xen *x, uint32_t local)
{
	(void)local;
	return x->evtchn ? 0 : -ENODEV;
}

/* ---- the sharing ring, the consumer's side (xen.c's flow) ----------------------------- */

/* The takeover of a ring a previous consumer left enabled (xen.h): with
 * the domain paused, every request without a response is answered on the
 * old ring and consumed, then the ring is disabled and enabled afresh. */
static int ring_take_over(struct shr_xen *x, struct fx_dom *d, uint32_t *port,
			  unsigned int *answered)
{
	struct fx_ring *r = &d->ring;
	int rc;

	x->cnt.hypercalls++;         /* pause */
	d->paused = true;
	shr_xen_domain_resume(x, d->domid);
	*answered = r->prod - r->rsp;
	while (r->rsp != r->prod) {
		r->rsp_flags[r->rsp % FX_RING_SLOTS] = r->req[r->rsp % FX_RING_SLOTS].flags &
						       FX_REQ_PAUSED;
		r->rsp++;
	}
	if (*answered)
		shr_xen_domain_resume(x, d->domid);
	rc = shr_xen_ring_disable(x, d->domid);
	if (rc == 0)
		rc = shr_xen_ring_enable(x, d->domid, port);
	x->cnt.hypercalls++;         /* unpause */
	d->paused = false;
	return rc;
}

int shr_xen_ring_attach(struct shr_xen *x, uint32_t domid, struct shr_xen_ring **out,
			unsigned int *answered)
{
	struct shr_xen_ring *r;
	struct fx_dom *d;
	unsigned int n = 0;
	uint64_t pfn;
	uint32_t port;
	int rc;

	if (answered)
		*answered = 0;
	if (!x->evtchn)
		return -ENODEV;
	rc = shr_xen_ring_pfn(x, domid, &pfn);
	if (rc)
		return rc;
	if (!pfn)
		return -ENOENT;
	/* the ring page, mapped writable for the engine's lifetime */
	x->cnt.mappings++;
	x->cnt.mapped_pages++;
	if (call1(FX_MAP, domid, pfn, &rc))
		return rc;
	d = dom_get(domid);
	if (!d || d->dying)
		return -ESRCH;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->domid = domid;
	x->cnt.ring_mappings++;
	rc = shr_xen_ring_enable(x, domid, &port);
	if (rc == -EINVAL || rc == -EBUSY)
		rc = ring_take_over(x, d, &port, &n);
	if (rc)
		goto out_unmap;
	rc = shr_xen_evtchn_bind_interdomain(x, domid, port, &r->local);
	if (rc)
		goto out_disable;
	if (answered)
		*answered = n;
	*out = r;
	return 0;

out_disable:
	shr_xen_ring_disable(x, domid);
out_unmap:
	x->cnt.ring_mappings--;
	free(r);
	return rc;
}

void shr_xen_ring_detach(struct shr_xen *x, struct shr_xen_ring *r, bool disable)
{
	if (!r)
		return;
	shr_xen_evtchn_unbind(x, r->local);
	if (disable)
		shr_xen_ring_disable(x, r->domid);
	x->cnt.ring_mappings--;
	free(r);
}

uint32_t shr_xen_ring_port(const struct shr_xen_ring *r)
{
	return r->local;
}

uint32_t shr_xen_ring_domid(const struct shr_xen_ring *r)
{
	return r->domid;
}

int shr_xen_ring_take(struct shr_xen_ring *r, struct shr_xen_ring_req *req)
{
	struct fx_dom *d = dom_get(r->domid);

	if (!d || !d->ring.enabled || r->cons == d->ring.prod)
		return 0;
	*req = d->ring.req[r->cons % FX_RING_SLOTS];
	r->cons++;
	return 1;
}

int shr_xen_ring_respond(struct shr_xen *x, struct shr_xen_ring *r,
			 const struct shr_xen_ring_req *req)
{
	struct fx_dom *d = dom_get(r->domid);
	int rc;

	if (call1(FX_RING_RESPOND, r->domid, FX_ANY_GFN, &rc))
		return rc;
	if (d && d->ring.enabled && d->ring.rsp != d->ring.prod) {
		d->ring.rsp_flags[d->ring.rsp % FX_RING_SLOTS] = req->flags & FX_REQ_PAUSED;
		d->ring.rsp++;
	}
	return shr_xen_evtchn_notify(x, r->local);
}

/* ---- log-dirty -------------------------------------------------------------------- */

bool fx_logdirty_on(uint32_t domid)
{
	struct fx_dom *d = dom_get(domid);

	return d && d->logdirty;
}

static void logdirty_free(struct fx_dom *d)
{
	free(d->dirty);
	d->dirty = NULL;
}

int fx_logdirty_takeover(uint32_t domid)
{
	struct fx_dom *d = dom_get(domid);

	if (!d)
		return -ESRCH;
	logdirty_free(d);            /* OFF frees the bitmap, keeps the count */
	d->logdirty = true;
	return 0;
}

int fx_logdirty_clean(uint32_t domid, uint64_t *out, unsigned int max)
{
	struct fx_dom *d = dom_get(domid);
	unsigned int n = 0;

	if (!d || !d->logdirty)
		return -EINVAL;
	for (uint64_t g = 0; d->dirty && g < d->nr_gfns; g++)
		if (d->dirty[g / 64] & (1ull << (g % 64)) && n < max)
			out[n++] = g;
	logdirty_free(d);
	d->dirty_count = 0;
	return (int)n;
}

void fx_logdirty_off(uint32_t domid)
{
	struct fx_dom *d = dom_get(domid);

	if (d) {
		logdirty_free(d);
		d->logdirty = false;
	}
}

bool shr_xen_has_logdirty(const struct shr_xen *x)
{
	return x->devicemodel;
}

int shr_xen_logdirty_enable(struct shr_xen *x, uint32_t domid)
{
	struct fx_dom *d;
	int rc = 0;

	x->cnt.hypercalls++;
	if (call1(FX_LOGDIRTY_ENABLE, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	if (d->logdirty)
		return -EINVAL;            /* paging_log_dirty_enable() */
	d->logdirty = true;
	return 0;
}

int shr_xen_logdirty_disable(struct shr_xen *x, uint32_t domid)
{
	struct fx_dom *d;
	int rc = 0;

	x->cnt.hypercalls++;
	if (call1(FX_LOGDIRTY_DISABLE, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	logdirty_free(d);
	d->logdirty = false;
	return 0;
}

int shr_xen_logdirty_read(struct shr_xen *x, uint32_t domid, bool clean, uint64_t nr,
			  const uint64_t **bits, uint64_t *dirty_count)
{
	size_t words = (nr + 63) / 64;
	struct fx_dom *d;
	int rc = 0;

	x->cnt.hypercalls++;
	if (call1(FX_LOGDIRTY_READ, domid, FX_ANY_GFN, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	if (!d->logdirty)
		return -EINVAL;
	if (words > x->ld_words) {
		uint64_t *b = realloc(x->ld_bits, words * sizeof(*b));

		if (!b)
			return -ENOMEM;
		x->ld_bits = b;
		x->ld_words = words;
	}
	memset(x->ld_bits, 0, words * sizeof(*x->ld_bits));
	for (uint64_t g = 0; d->dirty && g < nr && g < d->nr_gfns; g++)
		if (d->dirty[g / 64] & (1ull << (g % 64)))
			x->ld_bits[g / 64] |= 1ull << (g % 64);
	*bits = x->ld_bits;
	*dirty_count = d->dirty_count;
	if (clean) {
		logdirty_free(d);
		d->dirty_count = 0;
	}
	return 0;
}

int shr_xen_mark_dirty(struct shr_xen *x, uint32_t domid, uint64_t first, uint32_t nr)
{
	struct fx_dom *d;
	int rc = 0;

	if (!x->devicemodel)
		return -ENOSYS;
	x->cnt.hypercalls++;
	if (call1(FX_MARK_DIRTY, domid, first, &rc))
		return rc;
	d = dom_get(domid);
	if (!d)
		return -ESRCH;
	if (!d->logdirty)
		return 0;                  /* dm.c modified_memory() */
	if (!nr || first + nr <= first || first + nr > d->nr_gfns - 1)
		return -EINVAL;            /* end_pfn > the highest gfn */
	for (uint64_t g = first; g < first + nr; g++) {
		struct fx_frame *f = frame_of(d, g);

		if (!f)
			continue;
		if (f->shared && unshare(d, g))
			return -ENOMEM;
		mark_dirty(d, g);
	}
	return 0;
}
