/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_model_ut.c - randomised model test of libsimhv.
 *
 * A plain reference model runs next to the simulated hypervisor: it keeps
 * every gfn's expected content (the bytes themselves), its state (hole,
 * private, shared) and the frame it maps, where frames are model objects
 * counting their sharers and foreign mappings.  From that it predicts the
 * exact return value of every call, every domain's tot_pages and
 * shr_pages, nr_saved / nr_shared, the number of free host frames, and the
 * mfn a mapping must return.  Random operations: guest writes (full-page
 * patterns from a small alphabet, so identical pages are common, and
 * partial writes), nominate, share of pages the model knows are identical,
 * deliberately stale or wrong-handle shares, read-only and writable
 * mappings (with writes through the writable ones), unmap, unmap of a whole
 * owner, balloon, add_to_physmap, compare_share, pause/unpause, domain
 * create/destroy, and ENOMEM from a deliberately tiny frame pool.  The first
 * half runs a patched hypervisor (ENOMEM pauses the vCPU until resume), the
 * second an unpatched one (ENOMEM crashes the domain).
 *
 * After every step: all counters against the model, audit() == 0, and two
 * random gfns read back against the model's bytes; every VERIFY_EVERY steps
 * and at the end: verify() == 0 and every gfn of every domain read back.
 *
 * HV_MODEL_SEED (default 12345) and HV_MODEL_STEPS (default 60000) override
 * the run; the seed is printed so a failure can be replayed.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tools/xensim/hv_internal.h"
#include "hypervisor-patch/include/xenshare_cmpshr.h"
#include "ut_common.h"

#define MAX_DOMS 5
#define MAX_GFNS 56          /* nr_pages <= 40, + 4 of max_pages, + the special pages */
#define MAX_FRAMES 4096      /* model frame objects (ids recycled) */
#define MAX_MAPS 256
#define VERIFY_EVERY 8
#define POOL_FRAMES 110      /* host frames beyond dom0: small, so ENOMEM happens */

enum mstate { M_HOLE, M_PRIV, M_SHARED, M_SPECIAL };

struct mframe {
	bool used;
	int sharers;          /* gfns mapping it (private: 1) */
	int ro, rw;           /* foreign mappings */
	uint64_t handle;      /* shared: its handle */
	uint64_t mfn;         /* learnt from the first mapping, SIM_INVALID_MFN until then */
};

struct mgfn {
	enum mstate state;
	int frame;
	uint8_t data[SIM_PAGE_SIZE];
};

struct mdom {
	bool live;
	uint32_t domid;
	int nr_pages, max_pages, nr_gfns;
	long tot, shr;
	bool crashed, waiting;
	int paused;
	/* the sharing ring, consumed by the model as the daemon would */
	bool ring;
	uint32_t port;
	uint64_t ring_mfn;
	vm_event_back_ring_t back;
	int outstanding;           /* requests not yet answered and resumed */
	uint64_t want_gfn[64];     /* expected requests, in order */
	bool want_paused[64];
	int nr_want;
	struct mgfn g[MAX_GFNS];
};

struct mmap_entry { bool used; uint64_t owner; int frame; bool rw; uint64_t mfn; };

static struct {
	struct sim_hv *hv;
	bool patched;
	uint64_t rng;
	struct mdom d[MAX_DOMS];
	struct mframe f[MAX_FRAMES];
	struct mmap_entry maps[MAX_MAPS];
	long saved, shared, free_frames;
	uint64_t last_handle;
	uint32_t next_domid;
	long step;
	const char *op;
	int ring_size;
	unsigned long stats[32];
} M;

enum { S_WRITE, S_WRITE_ENOMEM, S_NOMINATE, S_SHARE, S_SHARE_STALE, S_SHARE_BADH,
       S_MAP, S_UNMAP, S_CREATE, S_DESTROY, S_BALLOON, S_ATP, S_CMPSHR, S_CRASH,
       S_RESUME, S_PAUSE, S_FWRITE, S_RING_REQ, S_RING_FULL, S_SHARE_DEADLK, S_FRAME_MERGE,
       S_NSTATS };
static const char *stat_names[S_NSTATS] = {
	"writes", "write-enomem", "nominates", "shares", "stale-shares", "bad-handle-shares",
	"maps", "unmaps", "creates", "destroys", "balloons", "add-to-physmap",
	"compare-share", "crashes", "resumes", "pauses", "foreign-writes",
	"ring-requests", "ring-full", "share-edeadlk", "frame-merges",
};

static uint64_t rnd(void)
{
	/* xorshift64* */
	M.rng ^= M.rng >> 12;
	M.rng ^= M.rng << 25;
	M.rng ^= M.rng >> 27;
	return M.rng * 2685821657736338717ULL;
}

static unsigned int rn(unsigned int n)
{
	return (unsigned int)(rnd() % n);
}

#define FAILF(...) do { \
	fprintf(stderr, "hv_model_ut: step %ld (%s): ", M.step, M.op); \
	fprintf(stderr, __VA_ARGS__); \
	fputc('\n', stderr); \
	CU_FAIL_FATAL("model mismatch (see stderr)"); \
} while (0)

#define EXPECT(got, want, what) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) \
		FAILF("%s: got %lld, model expects %lld", what, g_, w_); \
} while (0)

/* ---- model frames ------------------------------------------------------------ */

static int mframe_new(void)
{
	for (int i = 0; i < MAX_FRAMES; i++) {
		int id = (int)((M.step + i) % MAX_FRAMES);

		if (!M.f[id].used) {
			memset(&M.f[id], 0, sizeof(M.f[id]));
			M.f[id].used = true;
			M.f[id].mfn = SIM_INVALID_MFN;
			return id;
		}
	}
	FAILF("model frame table full");
	return -1;
}

/* A frame that lost its last sharer and mapping goes back to the pool. */
static void mframe_maybe_free(int id)
{
	struct mframe *f = &M.f[id];

	if (f->used && f->sharers == 0 && f->ro == 0 && f->rw == 0) {
		f->used = false;
		M.free_frames++;
	}
}

/* A gfn's reference to its frame goes (destroy / balloon). */
static void mgfn_drop(struct mdom *d, int g)
{
	struct mgfn *x = &d->g[g];
	struct mframe *f;

	if (x->state == M_HOLE)
		return;
	if (x->state == M_SPECIAL) {
		M.free_frames++;
	} else {
		f = &M.f[x->frame];
		if (x->state == M_SHARED) {
			d->shr--;
			if (f->sharers == 1)
				M.shared--;
			else
				M.saved--;
		} else {
			d->tot--;
		}
		f->sharers--;
		if (f->sharers == 0)
			f->handle = 0;
		mframe_maybe_free(x->frame);
	}
	x->state = M_HOLE;
	x->frame = -1;
	memset(x->data, 0, sizeof(x->data));
}

/* Model of __mem_sharing_unshare_page(): 0 or -ENOMEM. */
static int model_unshare(struct mdom *d, int g)
{
	struct mgfn *x = &d->g[g];
	struct mframe *f = &M.f[x->frame];
	int nf;

	if (x->state != M_SHARED)
		return 0;
	if (f->sharers == 1) {
		f->handle = 0;
		x->state = M_PRIV;
		d->tot++;
		d->shr--;
		M.shared--;
		return 0;
	}
	if (M.free_frames == 0 || d->tot >= d->max_pages)
		return -ENOMEM;
	nf = mframe_new();
	M.f[nf].sharers = 1;
	M.free_frames--;
	f->sharers--;
	M.saved--;
	d->tot++;
	d->shr--;
	x->frame = nf;
	x->state = M_PRIV;
	return 0;
}

/* Model of nominate_page() (sharing is enabled on every model domain). */
static int model_nominate(struct mdom *d, int g, uint64_t *handle)
{
	struct mgfn *x = &d->g[g];
	struct mframe *f;

	*handle = 0;
	if (g >= d->nr_gfns || x->state == M_HOLE || x->state == M_SPECIAL)
		return -EINVAL;
	f = &M.f[x->frame];
	if (x->state == M_SHARED) {
		*handle = f->handle;
		return 0;
	}
	if (f->ro || f->rw)
		return -E2BIG;   /* a foreign mapping, writable or not: an extra reference */
	return 1;   /* will succeed: the caller records the handle hv returns */
}

static void model_nominated(struct mdom *d, int g, uint64_t handle)
{
	struct mgfn *x = &d->g[g];

	if (handle && handle <= M.last_handle)
		FAILF("d%u gfn %d: handle %" PRIu64 " not fresh (last %" PRIu64 ")",
		      d->domid, g, handle, M.last_handle);
	if (handle)
		M.last_handle = handle;
	M.f[x->frame].handle = handle;
	x->state = M_SHARED;
	d->tot--;
	d->shr++;
	M.shared++;
}

/* nominate in hv and in the model; returns the rc. */
static int do_nominate(struct mdom *d, int g, uint64_t *handle)
{
	uint64_t want_h, got_h = 0;
	int want = model_nominate(d, g, &want_h);
	int rc = sim_hv_nominate_gfn(M.hv, d->domid, (uint64_t)g, &got_h);

	M.stats[S_NOMINATE]++;
	if (want == 1) {
		EXPECT(rc, 0, "nominate rc");
		model_nominated(d, g, got_h);
		*handle = got_h;
		return 0;
	}
	EXPECT(rc, want, "nominate rc");
	if (!want)
		EXPECT(got_h, want_h, "nominate of a shared gfn returns its handle");
	*handle = got_h;
	return rc;
}

static void model_merge(struct mdom *sd, int sg, struct mdom *cd, int cg);

/* Whether frame f backs a gfn of a domain other than a and b. */
static bool model_spans_other(int f, const struct mdom *a, const struct mdom *b)
{
	for (int i = 0; i < MAX_DOMS; i++) {
		const struct mdom *d = &M.d[i];

		if (!d->live || d == a || d == b)
			continue;
		for (int g = 0; g < d->nr_gfns; g++)
			if (d->g[g].state == M_SHARED && d->g[g].frame == f)
				return true;
	}
	return false;
}

/* Whether share_pages() would hit Xen's lock-order BUG (a client frame that
 * backs a gfn of a third domain): the ops below then skip the call on an
 * unpatched host, so it stays up (hv_ut proves the panic itself), and
 * expect -EDEADLK from a patched one (share_refused_spanning). */
static bool model_share_panics(struct mdom *sd, int sg, uint64_t sh, struct mdom *cd, int cg,
			       uint64_t ch)
{
	struct mgfn *sx = &sd->g[sg], *cx = &cd->g[cg];

	return sx->state == M_SHARED && cx->state == M_SHARED && sx->frame != cx->frame &&
	       M.f[sx->frame].handle == sh && M.f[cx->frame].handle == ch &&
	       model_spans_other(cx->frame, sd, cd);
}

/* The share that would panic an unpatched host: true when the caller must
 * not go on.  Patched (hypervisor-patch 0008), the call is made and must be
 * refused with -EDEADLK; that it changed nothing is what the per-step
 * comparison with the model checks next. */
static bool share_refused_spanning(struct mdom *sd, int sg, uint64_t sh, struct mdom *cd, int cg,
				   uint64_t ch)
{
	int rc;

	if (!model_share_panics(sd, sg, sh, cd, cg, ch))
		return false;
	if (M.patched) {
		rc = sim_hv_share(M.hv, sd->domid, (uint64_t)sg, sh, cd->domid, (uint64_t)cg, ch);
		EXPECT(rc, -EDEADLK, "patched share of a client frame spanning a third domain");
		M.stats[S_SHARE_DEADLK]++;
	}
	return true;
}

/* Model of share_pages() for the cases the test produces. */
static int model_share(struct mdom *sd, int sg, uint64_t sh, struct mdom *cd, int cg, uint64_t ch)
{
	struct mgfn *sx = &sd->g[sg], *cx = &cd->g[cg];
	bool s_ok = sx->state == M_SHARED, c_ok = cx->state == M_SHARED;

	if (sx->state != M_HOLE && cx->state != M_HOLE && sx->frame == cx->frame)
		return 0;
	if (!s_ok && !c_ok)
		FAILF("test bug: both sides invalid makes the error depend on mfn order");
	if (!s_ok)
		return XENMEM_SHARING_OP_S_HANDLE_INVALID;
	if (!c_ok)
		return XENMEM_SHARING_OP_C_HANDLE_INVALID;
	if (M.f[sx->frame].handle != sh)
		return XENMEM_SHARING_OP_S_HANDLE_INVALID;
	if (M.f[cx->frame].handle != ch)
		return XENMEM_SHARING_OP_C_HANDLE_INVALID;
	model_merge(sd, sg, cd, cg);
	return 0;
}

/* The success half of share_pages(): the client frame's sharers move over. */
static void model_merge(struct mdom *sd, int sg, struct mdom *cd, int cg)
{
	struct mgfn *sx = &sd->g[sg], *cx = &cd->g[cg];
	int sf, cf;

	sf = sx->frame;
	cf = cx->frame;
	for (int i = 0; i < MAX_DOMS; i++) {
		struct mdom *d = &M.d[i];

		if (!d->live)
			continue;
		for (int g = 0; g < d->nr_gfns; g++) {
			if (d->g[g].state == M_SHARED && d->g[g].frame == cf) {
				d->g[g].frame = sf;
				/* What every moved sharer now reads (identical when the test is right). */
				memcpy(d->g[g].data, sx->data, SIM_PAGE_SIZE);
				M.f[sf].sharers++;
				M.f[cf].sharers--;
			}
		}
	}
	M.f[cf].handle = 0;
	mframe_maybe_free(cf);
	M.shared--;
	M.saved++;
}

/* ---- picking things --------------------------------------------------------- */

static struct mdom *pick_dom(void)
{
	int live[MAX_DOMS], n = 0;

	for (int i = 0; i < MAX_DOMS; i++)
		if (M.d[i].live)
			live[n++] = i;
	return n ? &M.d[live[rn((unsigned int)n)]] : NULL;
}

static int pick_gfn(struct mdom *d, bool want_populated)
{
	for (int tries = 0; tries < 16; tries++) {
		int g = (int)rn((unsigned int)d->nr_pages);

		if (!want_populated || d->g[g].state == M_PRIV || d->g[g].state == M_SHARED)
			return g;
	}
	return -1;
}

/* Another populated gfn whose content equals (d, g)'s, other than itself. */
static bool pick_twin(struct mdom *d, int g, struct mdom **td, int *tg)
{
	int start = (int)rn(MAX_DOMS * MAX_GFNS);

	for (int k = 0; k < MAX_DOMS * MAX_GFNS; k++) {
		int idx = (start + k) % (MAX_DOMS * MAX_GFNS);
		struct mdom *o = &M.d[idx / MAX_GFNS];
		int og = idx % MAX_GFNS;

		if (!o->live || og >= o->nr_pages || (o == d && og == g))
			continue;
		if (o->g[og].state != M_PRIV && o->g[og].state != M_SHARED)
			continue;
		if (!memcmp(o->g[og].data, d->g[g].data, SIM_PAGE_SIZE)) {
			*td = o;
			*tg = og;
			return true;
		}
	}
	return false;
}

/* ---- operations ------------------------------------------------------------- */

/*
 * What an unshare ENOMEM does to the model: guest = a write by vCPU 0 of d
 * (else a foreign access: map, balloon).  With a ring: a request if there is
 * room (the guest's vCPU pauses), nothing if full; without: patched pauses
 * the vCPU (VIRQ_ENOMEM), unpatched crashes the domain; foreign: nothing.
 */
static void model_enomem(struct mdom *d, int g, bool guest)
{
	M.stats[S_WRITE_ENOMEM] += guest;
	if (d->ring) {
		if (d->outstanding >= M.ring_size) {
			M.stats[S_RING_FULL]++;
			return;
		}
		d->outstanding++;
		d->want_gfn[d->nr_want] = (uint64_t)g;
		d->want_paused[d->nr_want] = guest;
		d->nr_want++;
		if (guest)
			d->waiting = true;
		M.stats[S_RING_REQ]++;
		return;
	}
	if (!guest)
		return;
	if (M.patched) {
		d->waiting = true;
	} else {
		d->crashed = true;
		M.stats[S_CRASH]++;
	}
}

static void op_write(void)
{
	struct mdom *d = pick_dom();
	uint8_t buf[SIM_PAGE_SIZE];
	size_t off, len;
	int g, rc, want;

	if (!d)
		return;
	g = (int)rn((unsigned int)d->nr_gfns);
	if (rn(10) < 7) {
		off = 0;
		len = SIM_PAGE_SIZE;
		memset(buf, 0x30 + (int)rn(6), len);   /* small alphabet: many twins */
	} else {
		off = rn(SIM_PAGE_SIZE);
		len = 1 + rn((unsigned int)(SIM_PAGE_SIZE - off));
		if (len > 64)
			len = 64;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rnd();
	}
	rc = sim_hv_guest_write(M.hv, d->domid, 0, (uint64_t)g, off, buf, len);
	M.stats[S_WRITE]++;
	if (d->crashed) {
		EXPECT(rc, -ESRCH, "write to a crashed domain");
		return;
	}
	if (d->paused || d->waiting) {
		EXPECT(rc, -EAGAIN, "write while paused");
		return;
	}
	if (d->g[g].state == M_HOLE || d->g[g].state == M_SPECIAL) {
		EXPECT(rc, -EINVAL, "write to a hole");
		return;
	}
	want = model_unshare(d, g);
	if (want == -ENOMEM) {
		EXPECT(rc, -ENOMEM, "write needing a frame with none free");
		model_enomem(d, g, true);
		return;
	}
	EXPECT(rc, 0, "write");
	memcpy(d->g[g].data + off, buf, len);
}

static void op_nominate(void)
{
	struct mdom *d = pick_dom();
	uint64_t h;

	if (d)
		do_nominate(d, (int)rn((unsigned int)d->nr_gfns), &h);
}

/* Nominate two identical pages and share them: must succeed. */
static void op_share(void)
{
	struct mdom *d = pick_dom(), *td;
	uint64_t sh, ch;
	int g, tg, rc;

	if (!d || (g = pick_gfn(d, true)) < 0 || !pick_twin(d, g, &td, &tg))
		return;
	if (do_nominate(d, g, &sh) || do_nominate(td, tg, &ch))
		return;
	if (share_refused_spanning(d, g, sh, td, tg, ch))
		return;
	rc = sim_hv_share(M.hv, d->domid, (uint64_t)g, sh, td->domid, (uint64_t)tg, ch);
	EXPECT(rc, model_share(d, g, sh, td, tg, ch), "share of identical pages");
	M.stats[S_SHARE]++;
}

/* Nominate two identical pages, write one of them, share with the old handles. */
static void op_share_stale(void)
{
	struct mdom *d = pick_dom(), *td;
	uint8_t b = (uint8_t)rnd();
	uint64_t sh, ch;
	int g, tg, rc, want;
	bool write_client = rn(2);
	struct mdom *wd;
	int wg;

	if (!d || (g = pick_gfn(d, true)) < 0 || !pick_twin(d, g, &td, &tg))
		return;
	if (d == td || d->crashed || td->crashed || d->paused || td->paused ||
	    d->waiting || td->waiting)
		return;   /* keep the write path simple: both domains run */
	if (do_nominate(d, g, &sh) || do_nominate(td, tg, &ch))
		return;
	wd = write_client ? td : d;
	wg = write_client ? tg : g;
	rc = sim_hv_guest_write(M.hv, wd->domid, 0, (uint64_t)wg, 7, &b, 1);
	want = model_unshare(wd, wg);
	if (want == -ENOMEM) {
		EXPECT(rc, -ENOMEM, "stale-share write ENOMEM");
		model_enomem(wd, wg, true);
	} else {
		EXPECT(rc, 0, "stale-share write");
		wd->g[wg].data[7] = b;
	}
	if (share_refused_spanning(d, g, sh, td, tg, ch))
		return;
	rc = sim_hv_share(M.hv, d->domid, (uint64_t)g, sh, td->domid, (uint64_t)tg, ch);
	want = model_share(d, g, sh, td, tg, ch);
	EXPECT(rc, want, "share after a write");
	M.stats[S_SHARE_STALE]++;
}

/* Two shared pages, a wrong handle on one side. */
static void op_share_bad_handle(void)
{
	struct mdom *d = pick_dom(), *td = pick_dom();
	uint64_t sh, ch;
	int g, tg, rc;

	if (!d || !td || (g = pick_gfn(d, true)) < 0 || (tg = pick_gfn(td, true)) < 0)
		return;
	if (do_nominate(d, g, &sh) || do_nominate(td, tg, &ch))
		return;
	if (rn(2))
		sh += 1 + rn(1000);
	else
		ch += 1 + rn(1000);
	if (share_refused_spanning(d, g, sh, td, tg, ch))
		return;
	rc = sim_hv_share(M.hv, d->domid, (uint64_t)g, sh, td->domid, (uint64_t)tg, ch);
	EXPECT(rc, model_share(d, g, sh, td, tg, ch), "share with a wrong handle");
	M.stats[S_SHARE_BADH]++;
}

static void op_map(void)
{
	struct mdom *d = pick_dom();
	bool rw = rn(3) == 0;
	uint64_t owner = 1 + rn(2), gfn, mfn = 0;
	int slot = -1, err = 1, rc, want = 0, g;

	if (!d)
		return;
	for (int i = 0; i < MAX_MAPS; i++)
		if (!M.maps[i].used) {
			slot = i;
			break;
		}
	if (slot < 0)
		return;
	g = (int)rn((unsigned int)d->nr_pages);
	gfn = (uint64_t)g;
	{
		/* the page type tells the same holes, without a mapping:
		 * XEN_DOMCTL_PFINFO_XTAB (non-zero), else NOTAB (0); past the
		 * p2m's end too */
		uint64_t gfns[2] = { gfn, (uint64_t)d->nr_gfns + rn(4) }, ts[2] = { 0, 0 };

		EXPECT(sim_hv_pfn_types(M.hv, d->domid, gfns, 2, ts), 0, "page type call");
		EXPECT(ts[0] != 0, d->g[g].state == M_HOLE, "page type of a hole");
		EXPECT(ts[1] != 0, 1, "page type past the p2m");
	}
	rc = sim_hv_map(M.hv, owner, d->domid, &gfn, 1, rw, &mfn, &err);
	M.stats[S_MAP]++;
	EXPECT(rc, 0, "map call");
	if (d->g[g].state == M_HOLE) {
		EXPECT(err, -EINVAL, "map of a hole");
		EXPECT(mfn == SIM_INVALID_MFN, 1, "hole maps no frame");
		return;
	}
	if (rw)
		want = model_unshare(d, g);
	EXPECT(err, want, "map err");
	if (want == -ENOMEM)
		model_enomem(d, g, false);
	if (want)
		return;
	{
		struct mframe *f = &M.f[d->g[g].frame];

		if (f->mfn == SIM_INVALID_MFN)
			f->mfn = mfn;
		EXPECT(mfn, f->mfn, "mapped mfn of a model frame");
		if (rw)
			f->rw++;
		else
			f->ro++;
		M.maps[slot] = (struct mmap_entry){ true, owner, d->g[g].frame, rw, mfn };
	}
}

static void model_unmap_exact(int slot);

/* Remove the model's record of one mapping as hv does: read-only ones first. */
static void model_unmap(int slot)
{
	struct mmap_entry *e = &M.maps[slot];
	int victim = slot;

	for (int i = 0; i < MAX_MAPS; i++)
		if (M.maps[i].used && !M.maps[i].rw && M.maps[i].owner == e->owner &&
		    M.maps[i].mfn == e->mfn) {
			victim = i;
			break;
		}
	model_unmap_exact(victim);
}

/* Drop exactly this mapping record. */
static void model_unmap_exact(int slot)
{
	struct mmap_entry *e = &M.maps[slot];

	if (e->rw)
		M.f[e->frame].rw--;
	else
		M.f[e->frame].ro--;
	e->used = false;
	mframe_maybe_free(e->frame);
}

static void op_unmap(void)
{
	int slot = (int)rn(MAX_MAPS);

	for (int k = 0; k < MAX_MAPS; k++, slot = (slot + 1) % MAX_MAPS) {
		if (!M.maps[slot].used)
			continue;
		EXPECT(sim_hv_unmap(M.hv, M.maps[slot].owner, &M.maps[slot].mfn, 1), 0, "unmap");
		model_unmap(slot);
		M.stats[S_UNMAP]++;
		return;
	}
}

static void op_unmap_owner(void)
{
	uint64_t owner = 1 + rn(2);

	sim_hv_unmap_owner(M.hv, owner);
	for (int i = 0; i < MAX_MAPS; i++)
		if (M.maps[i].used && M.maps[i].owner == owner)
			model_unmap_exact(i);
	M.stats[S_UNMAP]++;
}

/* A write through a writable foreign mapping: the guest sees it (orphans: nobody does). */
static void op_foreign_write(void)
{
	int slot = (int)rn(MAX_MAPS);

	for (int k = 0; k < MAX_MAPS; k++, slot = (slot + 1) % MAX_MAPS) {
		struct mmap_entry *e = &M.maps[slot];
		uint8_t b = (uint8_t)rnd();
		unsigned int off = rn(SIM_PAGE_SIZE);

		if (!e->used || !e->rw)
			continue;
		sim_frame_ptr(M.hv, (uint32_t)e->mfn)[off] = b;
		for (int i = 0; i < MAX_DOMS; i++) {
			struct mdom *d = &M.d[i];

			for (int g = 0; d->live && g < d->nr_gfns; g++)
				if (d->g[g].state == M_PRIV && d->g[g].frame == e->frame)
					d->g[g].data[off] = b;
		}
		M.stats[S_FWRITE]++;
		return;
	}
}

static uint32_t model_next_domid(void)
{
	uint32_t id = M.next_domid;

	for (;;) {
		bool used = false;

		for (int i = 0; i < MAX_DOMS; i++)
			if (M.d[i].live && M.d[i].domid == id)
				used = true;
		if (!used)
			return id;
		id = id + 1 < DOMID_FIRST_RESERVED ? id + 1 : 1;
	}
}

static void op_create(void)
{
	struct sim_dom_spec spec;
	struct mdom *d = NULL;
	uint32_t domid = 0;
	int rc;

	for (int i = 0; i < MAX_DOMS; i++)
		if (!M.d[i].live) {
			d = &M.d[i];
			break;
		}
	if (!d)
		return;
	memset(&spec, 0, sizeof(spec));
	snprintf(spec.name, sizeof(spec.name), "m%ld", M.step);
	spec.type = rn(2) ? SIM_DOM_HVM : SIM_DOM_PVH;
	spec.nr_pages = 8 + rn(33);
	if (M.free_frames >= 8 + SIM_NR_SPECIAL_PAGES &&
	    M.free_frames <= 40 + SIM_NR_SPECIAL_PAGES && rn(2))
		/* take the whole pool: ENOMEM follows */
		spec.nr_pages = (uint64_t)M.free_frames - SIM_NR_SPECIAL_PAGES;
	spec.max_pages = spec.nr_pages + (rn(3) ? 0 : rn(5));
	spec.vcpus = 1;
	rc = sim_hv_domain_create(M.hv, &spec, &domid);
	M.stats[S_CREATE]++;
	if ((long)(spec.nr_pages + SIM_NR_SPECIAL_PAGES) > M.free_frames) {
		EXPECT(rc, -ENOMEM, "create without enough frames");
		return;
	}
	EXPECT(rc, 0, "create");
	EXPECT(domid, model_next_domid(), "new domid");
	M.next_domid = domid + 1;
	memset(d, 0, sizeof(*d));
	d->live = true;
	d->domid = domid;
	d->nr_pages = (int)spec.nr_pages;
	d->max_pages = (int)spec.max_pages;
	d->nr_gfns = d->max_pages + SIM_NR_SPECIAL_PAGES;
	d->tot = d->nr_pages;
	for (int g = 0; g < MAX_GFNS; g++) {
		d->g[g].state = M_HOLE;
		d->g[g].frame = -1;
	}
	for (int g = 0; g < d->nr_pages; g++) {
		d->g[g].state = M_PRIV;
		d->g[g].frame = mframe_new();
		M.f[d->g[g].frame].sharers = 1;
	}
	for (unsigned int i = 0; i < SIM_NR_SPECIAL_PAGES; i++)
		d->g[d->max_pages + i].state = M_SPECIAL;
	M.free_frames -= d->nr_pages + SIM_NR_SPECIAL_PAGES;
	EXPECT(sim_hv_memshr_control(M.hv, domid, true), 0, "enable sharing");
	if (rn(2)) {
		uint64_t ring_gfn = 0;
		int err = 1;

		EXPECT(sim_hv_ring_enable(M.hv, domid, &d->port), 0, "ring enable");
		EXPECT(sim_hv_get_param(M.hv, domid, HVM_PARAM_SHARING_RING_PFN, &ring_gfn), 0,
		       "ring param");
		EXPECT(ring_gfn, d->max_pages + SIM_SPECIALPAGE_SHARING, "ring gfn above RAM");
		EXPECT(sim_hv_map(M.hv, 9, domid, &ring_gfn, 1, true, &d->ring_mfn, &err), 0, "ring map");
		EXPECT(err, 0, "ring map err");
		SHARED_RING_INIT((vm_event_sring_t *)sim_frame_ptr(M.hv, (uint32_t)d->ring_mfn));
		BACK_RING_INIT(&d->back, (vm_event_sring_t *)sim_frame_ptr(M.hv, (uint32_t)d->ring_mfn),
			       SIM_PAGE_SIZE);
		d->ring = true;
	}
}

/* The consumer stops: unmap the ring page (the daemon does so on @releaseDomain). */
static void model_ring_unmap(struct mdom *d)
{
	if (!d->ring)
		return;
	EXPECT(sim_hv_unmap(M.hv, 9, &d->ring_mfn, 1), 0, "ring unmap");
	d->ring = false;
}

static void op_destroy(void)
{
	struct mdom *d = pick_dom();

	for (int i = 0; i < MAX_DOMS; i++)   /* crashed domains go first, as xl would do */
		if (M.d[i].live && M.d[i].crashed)
			d = &M.d[i];
	if (!d)
		return;
	model_ring_unmap(d);
	EXPECT(sim_hv_domain_destroy(M.hv, d->domid), 0, "destroy");
	for (int g = 0; g < d->nr_gfns; g++)
		mgfn_drop(d, g);
	d->live = false;
	M.stats[S_DESTROY]++;
}

static void op_balloon(void)
{
	struct mdom *d = pick_dom();
	int nr = 1 + (int)rn(4), done = 0, want_rc = 0, rc;

	if (!d)
		return;
	rc = sim_hv_decrease_reservation(M.hv, d->domid, (uint64_t)nr);
	for (int g = d->nr_gfns - 1; g >= 0 && done < nr; g--) {
		struct mgfn *x = &d->g[g];

		if (x->state == M_SHARED && M.f[x->frame].sharers > 1 &&
		    (M.free_frames == 0 || d->tot >= d->max_pages)) {
			want_rc = -ENOMEM;
			model_enomem(d, g, false);
			break;
		}
		if (x->state != M_SHARED && x->state != M_PRIV)
			continue;
		mgfn_drop(d, g);
		done++;
	}
	EXPECT(rc, done ? done : want_rc, "decrease_reservation");
	M.stats[S_BALLOON]++;
}

/* Plug a hole of one domain with a shared frame of another. */
static void op_add_to_physmap(void)
{
	struct mdom *d = pick_dom(), *cd = pick_dom();
	uint64_t h;
	int g, cg = -1, rc;

	if (!d || !cd || (g = pick_gfn(d, true)) < 0)
		return;
	for (int i = 0; i < cd->nr_pages; i++)
		if (cd->g[i].state == M_HOLE) {
			cg = i;
			break;
		}
	if (cg < 0 || do_nominate(d, g, &h))
		return;
	rc = sim_hv_add_to_physmap(M.hv, d->domid, (uint64_t)g, h, cd->domid, (uint64_t)cg);
	EXPECT(rc, 0, "add_to_physmap into a hole");
	cd->g[cg].state = M_SHARED;
	cd->g[cg].frame = d->g[g].frame;
	memcpy(cd->g[cg].data, d->g[g].data, SIM_PAGE_SIZE);
	M.f[d->g[g].frame].sharers++;
	cd->shr++;
	M.saved++;
	M.stats[S_ATP]++;
}

/* The patched batched op: model nominates both, compares the model bytes, shares if equal. */
static void op_compare_share(void)
{
	xenshare_cmpshr_pair_t p[4];
	struct mdom *sd[4], *cd[4];
	int sg[4], cg[4], want[4];
	unsigned int n = 1 + rn(4);
	uint64_t before = M.last_handle;

	for (unsigned int i = 0; i < n; i++) {
		sd[i] = pick_dom();
		if (!sd[i])
			return;
		sg[i] = (int)rn((unsigned int)sd[i]->nr_pages);
		if (rn(2) && pick_twin(sd[i], sg[i], &cd[i], &cg[i]))
			continue;
		cd[i] = pick_dom();
		cg[i] = (int)rn((unsigned int)cd[i]->nr_pages);
	}
	for (unsigned int i = 0; i < n; i++) {
		p[i] = (xenshare_cmpshr_pair_t){ .source_gfn = (uint64_t)sg[i],
						 .client_gfn = (uint64_t)cg[i],
						 .source_domain = (uint16_t)sd[i]->domid,
						 .client_domain = (uint16_t)cd[i]->domid,
						 .result = 77 };
	}
	EXPECT(sim_hv_compare_share(M.hv, p, n), 0, "compare_share");
	M.stats[S_CMPSHR]++;
	/* Replay the pairs in order on the model; handles made inside the op are learnt after. */
	for (unsigned int i = 0; i < n; i++) {
		uint64_t h;
		int rc = model_nominate(sd[i], sg[i], &h);

		if (rc == 1) {
			model_nominated(sd[i], sg[i], 0);
			rc = 0;
		}
		if (!rc) {
			rc = model_nominate(cd[i], cg[i], &h);
			if (rc == 1) {
				model_nominated(cd[i], cg[i], 0);
				rc = 0;
			}
		}
		if (rc) {
			want[i] = rc;
		} else if (sd[i]->g[sg[i]].frame == cd[i]->g[cg[i]].frame) {
			want[i] = XENSHARE_CMPSHR_SHARED;
		} else if (memcmp(sd[i]->g[sg[i]].data, cd[i]->g[cg[i]].data, SIM_PAGE_SIZE)) {
			want[i] = XENSHARE_CMPSHR_DIFFERENT;
		} else if (!model_spans_other(cd[i]->g[cg[i]].frame, sd[i], cd[i])) {
			model_merge(sd[i], sg[i], cd[i], cg[i]);
			want[i] = XENSHARE_CMPSHR_SHARED;
		} else if (!model_spans_other(sd[i]->g[sg[i]].frame, sd[i], cd[i])) {
			/* the fixed op merges the source frame into the client's */
			model_merge(cd[i], cg[i], sd[i], sg[i]);
			want[i] = XENSHARE_CMPSHR_SHARED;
		} else if (M.f[cd[i]->g[cg[i]].frame].sharers <= M.f[sd[i]->g[sg[i]].frame].sharers) {
			/* both span (0009): the smaller frame's gfns move, the client's on a tie */
			model_merge(sd[i], sg[i], cd[i], cg[i]);
			want[i] = XENSHARE_CMPSHR_SHARED;
			M.stats[S_FRAME_MERGE]++;
		} else {
			model_merge(cd[i], cg[i], sd[i], sg[i]);
			want[i] = XENSHARE_CMPSHR_SHARED;
			M.stats[S_FRAME_MERGE]++;
		}
		EXPECT(p[i].result, want[i], "compare_share pair result");
	}
	/* A nominate of a shared gfn only reports its handle: learn the new ones. */
	for (int i = 0; i < MAX_DOMS; i++) {
		struct mdom *d = &M.d[i];

		for (int g = 0; d->live && g < d->nr_gfns; g++) {
			uint64_t got = 0;

			if (d->g[g].state != M_SHARED || M.f[d->g[g].frame].handle)
				continue;
			EXPECT(sim_hv_nominate_gfn(M.hv, d->domid, (uint64_t)g, &got), 0,
			       "handle of a gfn nominated by compare_share");
			if (got <= before)
				FAILF("compare_share handle %" PRIu64 " not fresh", got);
			M.f[d->g[g].frame].handle = got;
			if (got > M.last_handle)
				M.last_handle = got;
		}
	}
}

/* The helper's side of the ring: read every request, answer it, resume the domain. */
static void model_ring_service(struct mdom *d)
{
	int k = 0;

	while (RING_HAS_UNCONSUMED_REQUESTS(&d->back)) {
		vm_event_request_t req;
		vm_event_response_t rsp;

		memcpy(&req, RING_GET_REQUEST(&d->back, d->back.req_cons), sizeof(req));
		d->back.req_cons++;
		if (k >= d->nr_want)
			FAILF("d%u: unexpected ring request for gfn %" PRIu64, d->domid,
			      (uint64_t)req.u.mem_sharing.gfn);
		EXPECT(req.version, VM_EVENT_INTERFACE_VERSION, "request version");
		EXPECT(req.reason, VM_EVENT_REASON_MEM_SHARING, "request reason");
		EXPECT(req.u.mem_sharing.gfn, d->want_gfn[k], "request gfn");
		EXPECT(!!(req.flags & VM_EVENT_FLAG_VCPU_PAUSED), d->want_paused[k], "request paused flag");
		EXPECT(!!(req.flags & VM_EVENT_FLAG_FOREIGN), !d->want_paused[k], "request foreign flag");
		k++;
		memset(&rsp, 0, sizeof(rsp));
		rsp.version = VM_EVENT_INTERFACE_VERSION;
		rsp.vcpu_id = req.vcpu_id;
		rsp.reason = req.reason;
		rsp.flags = req.flags & VM_EVENT_FLAG_VCPU_PAUSED;
		memcpy(RING_GET_RESPONSE(&d->back, d->back.rsp_prod_pvt), &rsp, sizeof(rsp));
		d->back.rsp_prod_pvt++;
	}
	EXPECT(k, d->nr_want, "requests on the ring");
	RING_PUSH_RESPONSES(&d->back);
	EXPECT(sim_hv_domain_resume(M.hv, d->domid), 0, "resume with ring");
	d->nr_want = 0;
	d->outstanding = 0;
	d->waiting = false;
	M.stats[S_RESUME]++;
}

static void op_resume(void)
{
	for (int i = 0; i < MAX_DOMS; i++) {
		struct mdom *d = &M.d[i];

		if (d->live && d->ring && (d->outstanding || rn(4) == 0)) {
			model_ring_service(d);
			return;
		}
		if (d->live && d->waiting && !d->crashed) {
			uint32_t w[MAX_DOMS + 1];
			int n = sim_hv_enomem_waiters(M.hv, w, MAX_DOMS + 1);
			bool listed = false;

			for (int k = 0; k < n; k++)
				listed |= w[k] == d->domid;
			EXPECT(listed, 1, "domain on the ENOMEM waiter list");
			EXPECT(sim_hv_domain_resume(M.hv, d->domid), -ENODEV, "ring resume without a ring");
			EXPECT(sim_hv_enomem_resume(M.hv, d->domid) > 0, 1, "enomem resume");
			d->waiting = false;
			M.stats[S_RESUME]++;
			return;
		}
	}
}

static void op_pause(void)
{
	struct mdom *d = pick_dom();

	if (!d)
		return;
	if (d->paused && rn(2)) {
		EXPECT(sim_hv_domain_unpause(M.hv, d->domid), 0, "unpause");
		d->paused--;
	} else if (d->paused < 2) {
		EXPECT(sim_hv_domain_pause(M.hv, d->domid), 0, "pause");
		d->paused++;
		M.stats[S_PAUSE]++;
	}
}

/* ---- checks ------------------------------------------------------------------ */

static void check_read(struct mdom *d, int g)
{
	uint8_t page[SIM_PAGE_SIZE];
	int rc = sim_hv_guest_read(M.hv, d->domid, (uint64_t)g, page);

	if (d->g[g].state == M_HOLE) {
		EXPECT(rc, -EINVAL, "read of a hole");
		return;
	}
	if (d->g[g].state == M_SPECIAL)
		return;
	EXPECT(rc, 0, "read");
	if (memcmp(page, d->g[g].data, SIM_PAGE_SIZE))
		FAILF("d%u gfn %d: content differs from the model", d->domid, g);
}

static void check_state(bool full)
{
	uint64_t total, nfree;
	long sum_shr = 0;

	EXPECT(sim_hv_sharing_freed_pages(M.hv), M.saved, "nr_saved");
	EXPECT(sim_hv_sharing_used_frames(M.hv), M.shared, "nr_shared");
	sim_hv_physinfo(M.hv, &total, &nfree);
	EXPECT(nfree, M.free_frames, "free frames");
	for (int i = 0; i < MAX_DOMS; i++) {
		struct mdom *d = &M.d[i];
		struct sim_dominfo di;

		if (!d->live)
			continue;
		EXPECT(sim_hv_domain_getinfo(M.hv, d->domid, 1, &di), 1, "getinfo");
		EXPECT(di.domid, d->domid, "getinfo domid");
		EXPECT(di.tot_pages, d->tot, "tot_pages");
		EXPECT(di.shr_pages, d->shr, "shr_pages");
		EXPECT(!!(di.flags & SIM_DOMF_CRASHED), d->crashed, "crashed flag");
		EXPECT(di.paused_vcpus, d->waiting ? 1 : 0, "paused vcpus");
		sum_shr += d->shr;
		if (full) {
			for (int g = 0; g < d->nr_gfns; g++)
				check_read(d, g);
		} else {
			check_read(d, (int)rn((unsigned int)d->nr_gfns));
		}
	}
	EXPECT(sum_shr, M.saved + M.shared, "invariant sum(shr_pages) == saved + shared");
	EXPECT(sim_hv_audit(M.hv), 0, "audit errors");
	if (full)
		EXPECT(sim_hv_verify(M.hv, NULL, 0), 0, "oracle mismatches");
}

static void run_phase(bool patched, long steps)
{
	struct sim_hv_config cfg = {
		.nr_frames = 8 + POOL_FRAMES,
		.dom0_pages = 8,
		.cpu_vmx = true,
		.debug_build = true,
		.patched = patched,
	};

	memset(M.d, 0, sizeof(M.d));
	memset(M.f, 0, sizeof(M.f));
	memset(M.maps, 0, sizeof(M.maps));
	M.patched = patched;
	M.saved = M.shared = 0;
	M.free_frames = POOL_FRAMES;
	M.last_handle = 0;
	M.next_domid = 1;
	CU_ASSERT_FATAL(sim_hv_create(&cfg, &M.hv) == 0);
	for (long i = 0; i < steps; i++, M.step++) {
		unsigned int r = rn(1000);

		if (r < 300)
			M.op = "op_write", op_write();
		else if (r < 420)
			M.op = "op_nominate", op_nominate();
		else if (r < 540)
			M.op = "op_share", op_share();
		else if (r < 580)
			M.op = "op_share_stale", op_share_stale();
		else if (r < 600)
			M.op = "op_share_bad_handle", op_share_bad_handle();
		else if (r < 690)
			M.op = "op_map", op_map();
		else if (r < 770)
			M.op = "op_unmap", op_unmap();
		else if (r < 775)
			M.op = "op_unmap_owner", op_unmap_owner();
		else if (r < 795)
			M.op = "op_foreign_write", op_foreign_write();
		else if (r < 830)
			M.op = "op_create", op_create();
		else if (r < 850)
			M.op = "op_destroy", op_destroy();
		else if (r < 880)
			M.op = "op_balloon", op_balloon();
		else if (r < 900)
			M.op = "op_add_to_physmap", op_add_to_physmap();
		else if (r < 940 && patched)
			M.op = "op_compare_share", op_compare_share();
		else if (r < 970)
			M.op = "op_resume", op_resume();
		else
			M.op = "op_pause", op_pause();
		check_state(i % VERIFY_EVERY == 0);
	}
	check_state(true);
	/* Tear everything down: every frame must come back. */
	for (int i = 0; i < MAX_MAPS; i++)
		if (M.maps[i].used) {
			EXPECT(sim_hv_unmap(M.hv, M.maps[i].owner, &M.maps[i].mfn, 1), 0, "final unmap");
			model_unmap(i);
		}
	for (int i = 0; i < MAX_DOMS; i++)
		if (M.d[i].live) {
			model_ring_unmap(&M.d[i]);
			EXPECT(sim_hv_domain_destroy(M.hv, M.d[i].domid), 0, "final destroy");
			for (int g = 0; g < M.d[i].nr_gfns; g++)
				mgfn_drop(&M.d[i], g);
			M.d[i].live = false;
		}
	check_state(true);
	EXPECT(M.free_frames, POOL_FRAMES, "all frames back");
	sim_hv_destroy(M.hv);
	M.hv = NULL;
}

static long env_long(const char *name, long def)
{
	const char *s = getenv(name);
	char *end;
	long v;

	if (!s || !*s)
		return def;
	v = strtol(s, &end, 0);
	if (*end || v <= 0) {
		fprintf(stderr, "hv_model_ut: bad %s='%s', using %ld\n", name, s, def);
		return def;
	}
	return v;
}

/* >= 50,000 random operations against the reference model, patched then unpatched. */
static void test_random_model(void)
{
	long seed = env_long("HV_MODEL_SEED", 12345);
	long steps = env_long("HV_MODEL_STEPS", 60000);

	printf("\nhv_model_ut: HV_MODEL_SEED=%ld HV_MODEL_STEPS=%ld\n", seed, steps);
	{
		static uint8_t page[SIM_PAGE_SIZE];
		vm_event_front_ring_t fr;

		FRONT_RING_INIT(&fr, (vm_event_sring_t *)page, SIM_PAGE_SIZE);
		M.ring_size = (int)RING_SIZE(&fr);
		CU_ASSERT_FATAL(M.ring_size > 0 && M.ring_size <= 64);
	}
	M.rng = (uint64_t)seed * 0x9E3779B97F4A7C15ULL + 1;
	M.step = 0;
	run_phase(true, steps / 2);
	run_phase(false, steps - steps / 2);
	for (int i = 0; i < S_NSTATS; i++)
		printf("  %-18s %lu\n", stat_names[i], M.stats[i]);
	/* The run must have exercised the interesting paths, or it proves little. */
	CU_ASSERT(M.stats[S_SHARE] > 1000);
	CU_ASSERT(M.stats[S_WRITE_ENOMEM] > 10);
	CU_ASSERT(M.stats[S_CRASH] > 0);
	CU_ASSERT(M.stats[S_RESUME] > 0);
	CU_ASSERT(M.stats[S_SHARE_DEADLK] > 0);
	CU_ASSERT(M.stats[S_FWRITE] > 0);
	CU_ASSERT(M.stats[S_ATP] > 0);
	CU_ASSERT(M.stats[S_RING_REQ] > 0);
}

UT_MAIN("hv_model", NULL, NULL,
	UT(test_random_model))
