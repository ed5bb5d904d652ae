/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv.c - the simulated Xen 4.17 hypervisor: host frames, domains, guest
 * memory access, foreign mappings and the oracle.  Memory sharing itself
 * (nominate/share/unshare, the sharing ring, audit) lives in hv_share.c.
 *
 * DOC: Overview
 *
 * Host memory is one memfd of nr_frames * 4 KiB, mapped MAP_SHARED here and
 * by every client.  A frame that is freed gets its hole punched
 * (FALLOC_FL_PUNCH_HOLE), so host RSS really drops when sharing frees a
 * frame and a newly allocated frame reads as zeros without being touched.
 *
 * Domains are created fully populated, where libxl puts their RAM
 * (sim_ram_layout(): the VGA window of an HVM guest and the MMIO hole
 * below 4 GiB are holes, RAM beyond the hole goes on from 4 GiB), ram_rw,
 * zero content; HVM and PVH domains also get the sharing ring page, a Xen
 * special page right above the RAM max_pages would span
 * (HVM_PARAM_SHARING_RING_PFN), which is not counted in tot_pages (it
 * plays the part of the special pages libxl adds beyond maxmem).  Domain ids count up from 1 and wrap below
 * DOMID_FIRST_RESERVED, skipping live ids, so a destroyed id is not reused
 * soon (Xen behaves the same way).
 *
 * Guest writes go through sim_hv_guest_write(): a write to a shared gfn
 * unshares first (hv_share.c), exactly where Xen's EPT write fault would.
 * Every successful write stores XXH3-64 of the page's whole new content in
 * the oracle; sim_hv_verify() re-reads every populated gfn through its p2m
 * (with pread(), so that verifying never allocates memory for holes) and
 * compares.  A wrong share, a write into a shared frame or a lost page all
 * show up there.
 *
 * Foreign mappings: sim_hv_map() takes one reference per mapped frame for
 * the owner (a client connection), like privcmd's get_page_from_gfn(), and
 * nominate then gives -E2BIG.  A writable mapping takes no more than a
 * read-only one: dom0's mapping of an HVM/PVH guest's page gets no
 * PGT_writable type reference (get_page_from_l1e(): foreign mappings into
 * a paging_mode_external() guest "don't contribute to writeable mapping
 * refcounts"), so page_make_sharable() gets past its type check and fails
 * on the reference count.  A writable mapping of a shared gfn unshares it
 * first (the mapping's reference then keeps the private page from being
 * nominated again).  Writes made through a writable mapping are
 * foreign writes the oracle cannot see; the oracle takes the page's content
 * when the writable mapping goes away (and verify skips gfns that still
 * have one).
 *
 * Fault injection (fault.h): each page of a foreign map draws a fault;
 * a page that would map is then reported in err[] as privcmd reports a page
 * it could not map, before a writable mapping's unshare or any reference.
 *
 * Locking: one mutex serialises everything; sim_hv_wait_resumed() sleeps on
 * a condition variable broadcast whenever a pause is lifted or a domain goes
 * away.  Notifications (the sharing ring's event channel, VIRQ_ENOMEM) are
 * queued under the lock and delivered after it is dropped, so a notify
 * callback may call back into hv.
 *
 * DOC: Where the model knowingly differs from Xen 4.17 (code, not comments,
 * was followed where the two disagree)
 *
 *  - Enabling sharing on a PV guest gives -EOPNOTSUPP (is_hvm_domain() is
 *    checked first); the brief's -ENODEV is the HAP check, and HAP is always
 *    on here, so -ENODEV never comes from control.  The ring on a PV guest
 *    does give -ENODEV (vm_event's HAP check).
 *  - ring_enable on an enabled ring: -EBUSY (vm_event_enable()); xenctrl.h's
 *    comment says EINVAL.
 *  - share of two gfns that are both holes succeeds (both INVALID_MFN),
 *    exactly as share_pages() does.
 *  - Domain destruction is atomic: no "dying" phase is observable, so
 *    nominate's -EBUSY cannot happen; frames of a destroyed domain that are
 *    still foreign-mapped live on as orphans (Xen keeps a zombie domain).
 *  - The sharing ring page is a special page right above the RAM of
 *    max(nr_pages, max_pages) (libxl puts the special pages in the MMIO
 *    hole below 4 GiB, which would make every p2m 4 GiB long), not counted
 *    in tot_pages, never removed from the p2m.  Video RAM, the ACPI
 *    tables and the other special pages are not modelled.
 *  - vm_event_resume() consumes at most one ring's worth of responses per
 *    call (Xen trusts rsp_prod; a bad consumer must not hang the model).
 *  - Ring disable leaves vCPUs paused by a request paused, as Xen does.
 *  - Patched, no ring: a vCPU paused on ENOMEM carries its own pause (as
 *    the patch's vcpu_pause + mem_sharing_enomem_wait), released only by
 *    sim_hv_enomem_resume() (XENMEM_sharing_op_enomem_resume); neither
 *    the ring's resume (-ENODEV without a ring) nor a domain unpause does.
 *  - compare_share leaves both gfns nominated when they differ, and enables
 *    sharing on both domains implicitly.
 *  - decrease_reservation frees the highest populated gfns; a shared gfn's
 *    reference is dropped directly where Xen unshares then frees (same
 *    counters, same -ENOMEM when the unshare could not allocate).
 *  - range_share runs to the end in one call (no continuation / opaque);
 *    grant-reference ops, fork and fork_reset are not modelled.
 *  - getinfo's cpu_time is wall-clock time since creation.
 *  - Writes through writable foreign mappings reach the oracle when the
 *    mapping goes away; verify skips gfns that still have one.
 *  - Log-dirty mode: the DOC of hv_logdirty.c.
 *
 * DOC: Generated frames (scale mode, hv.h)
 *
 * A frame with gen != 0 holds sim_hv_gen_fill(gen), which the memfd does
 * not store: sim_hv_map() writes it there (gen_mat) before handing the frame
 * out, and the last unmap punches it again (batched like destroy's
 * punches), so a host of 256 GiB of guests needs memory only for what is
 * mapped at a time.  Every reader inside the model goes through
 * sim_frame_content(); every writer first calls sim_gen_make_private(),
 * which materialises the frame for good.  The oracle keeps the key
 * (oracle_gen bit) until the guest writes the page, so verify can check a
 * generated gfn by comparing keys, without generating anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "hv_internal.h"

/* ---- lock and notifications --------------------------------------------- */

void sim_lock(struct sim_hv *hv)
{
	pthread_mutex_lock(&hv->lock);
}

void sim_unlock(struct sim_hv *hv)
{
	struct sim_notify todo[SIM_NOTIFY_MAX];
	unsigned int n = hv->nr_pending;
	sim_hv_notify_fn *fn = hv->notify_fn;
	void *arg = hv->notify_arg;

	memcpy(todo, hv->pending, n * sizeof(todo[0]));
	hv->nr_pending = 0;
	pthread_mutex_unlock(&hv->lock);
	for (unsigned int i = 0; fn && i < n; i++)
		fn(arg, todo[i].domid, todo[i].port);
}

/*
 * An event channel notification is level-like: two pending notifications
 * of the same port are one, so a full queue can only hold distinct ports.
 */
void sim_queue_notify(struct sim_hv *hv, uint32_t domid, uint32_t port)
{
	for (unsigned int i = 0; i < hv->nr_pending; i++)
		if (hv->pending[i].domid == domid && hv->pending[i].port == port)
			return;
	if (hv->nr_pending == SIM_NOTIFY_MAX) {
		fprintf(stderr, "xensim hv: d%u port %u: notification queue full, event dropped\n",
			domid, port);
		return;
	}
	hv->pending[hv->nr_pending].domid = domid;
	hv->pending[hv->nr_pending].port = port;
	hv->nr_pending++;
}

void sim_hv_set_notify(struct sim_hv *hv, sim_hv_notify_fn *fn, void *arg)
{
	sim_lock(hv);
	hv->notify_fn = fn;
	hv->notify_arg = arg;
	sim_unlock(hv);
}

/* ---- frames --------------------------------------------------------------- */

uint64_t sim_page_hash(const void *page)
{
	return XXH3_64bits(page, SIM_PAGE_SIZE);
}

uint8_t *sim_frame_ptr(struct sim_hv *hv, uint32_t mfn)
{
	return hv->mem + ((uint64_t)mfn << SIM_PAGE_SHIFT);
}

static uint64_t sim_splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/*
 * xorshift64* seeded through splitmix64: about 2 GB/s, so materialising a
 * page costs ~2 us; the first word is the key itself, so two different
 * keys can never give the same page.
 */
void sim_hv_gen_fill(void *page, uint64_t key)
{
	uint64_t s = key, x = sim_splitmix64(&s) | 1;
	uint64_t *w = page;

	w[0] = key;
	for (unsigned int i = 1; i < SIM_PAGE_SIZE / sizeof(*w); i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		w[i] = x * 0x2545f4914f6cdd1dULL;
	}
}

/*
 * The content of a frame: a pointer into host memory, or buf filled with
 * the generated content of an unmaterialised generated frame.
 */
const uint8_t *sim_frame_content(struct sim_hv *hv, uint32_t mfn, uint8_t *buf)
{
	const struct sim_frame *f = &hv->frames[mfn];

	if (f->gen && !f->gen_mat) {
		sim_hv_gen_fill(buf, f->gen);
		return buf;
	}
	return sim_frame_ptr(hv, mfn);
}

/* Writes a generated frame's content into the memfd (it is being mapped). */
void sim_gen_materialise(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen || f->gen_mat)
		return;
	sim_hv_gen_fill(sim_frame_ptr(hv, mfn), f->gen);
	f->gen_mat = 1;
	hv->nr_gen_mat++;
}

/* Something is about to write the frame: from now on the memfd holds it. */
void sim_gen_make_private(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen)
		return;
	sim_gen_materialise(hv, mfn);
	f->gen = 0;
	f->gen_mat = 0;
	hv->nr_gen--;
	hv->nr_gen_mat--;
}

/* Forget a frame's generated content (it is freed, or reassigned). */
static void sim_gen_forget(struct sim_hv *hv, struct sim_frame *f)
{
	if (f->gen) {
		hv->nr_gen--;
		if (f->gen_mat)
			hv->nr_gen_mat--;
	}
	f->gen = 0;
	f->gen_mat = 0;
}

bool sim_oracle_is_gen(const struct sim_dom *d, uint64_t gfn)
{
	return d->oracle_gen && (d->oracle_gen[gfn / 64] >> (gfn % 64) & 1);
}

void sim_oracle_set_gen(struct sim_dom *d, uint64_t gfn, bool gen)
{
	if (!d->oracle_gen)
		return;   /* only sim_hv_gen_assign() allocates it, with gen = true */
	if (gen)
		d->oracle_gen[gfn / 64] |= 1ULL << (gfn % 64);
	else
		d->oracle_gen[gfn / 64] &= ~(1ULL << (gfn % 64));
}

/* Take a frame off the free list; it reads as zeros.  SIM_MFN_NONE if none. */
uint32_t sim_frame_alloc(struct sim_hv *hv)
{
	uint32_t mfn = hv->free_head;

	if (mfn == SIM_MFN_NONE)
		return SIM_MFN_NONE;
	hv->free_head = (uint32_t)hv->frames[mfn].gfn;
	hv->nr_free--;
	memset(&hv->frames[mfn], 0, sizeof(hv->frames[mfn]));
	return mfn;
}

/* Give a range of frames' memory back to the kernel (they read as zero after). */
static void sim_punch(struct sim_hv *hv, uint64_t first, uint64_t count)
{
	if (!count)
		return;
	if (fallocate(hv->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)(first << SIM_PAGE_SHIFT), (off_t)(count << SIM_PAGE_SHIFT)) < 0) {
		/* Without the punch a reallocated frame would keep old data. */
		fprintf(stderr, "xensim hv: mfn 0x%llx+%llu: punch hole failed (%s), zeroing\n",
			(unsigned long long)first, (unsigned long long)count, strerror(errno));
		memset(hv->mem + (first << SIM_PAGE_SHIFT), 0, count << SIM_PAGE_SHIFT);
	}
}

/* Drop a frame's memory now, or at sim_punch_flush() inside a batch. */
static void sim_punch_frame(struct sim_hv *hv, uint32_t mfn)
{
	if (hv->punch_batch && hv->punch_n < hv->punch_cap)
		hv->punch_q[hv->punch_n++] = mfn;
	else
		sim_punch(hv, mfn, 1);
}

static void sim_frame_free(struct sim_hv *hv, uint32_t mfn)
{
	/* In a batch (destroy, balloon, unmap) the punch waits for sim_punch_flush(). */
	sim_punch_frame(hv, mfn);
	sim_gen_forget(hv, &hv->frames[mfn]);
	hv->frames[mfn].state = SIM_FRAME_FREE;
	hv->frames[mfn].gfn = hv->free_head;
	hv->frames[mfn].owner = 0;
	hv->frames[mfn].special = 0;
	hv->free_head = mfn;
	hv->nr_free++;
}

/*
 * Freeing many frames: one fallocate() per frame costs ~2 us, so collect
 * them and punch sorted runs.  Nothing may allocate between begin and
 * flush (a queued frame is on the free list but not yet zeroed).
 */
static void sim_punch_begin(struct sim_hv *hv, uint64_t max_frames)
{
	if (max_frames > hv->punch_cap) {
		uint32_t *q = realloc(hv->punch_q, max_frames * sizeof(*q));

		if (q) {   /* without memory, frames are simply punched one by one */
			hv->punch_q = q;
			hv->punch_cap = max_frames;
		}
	}
	hv->punch_n = 0;
	hv->punch_batch = true;
}

static int sim_mfn_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void sim_punch_flush(struct sim_hv *hv)
{
	uint64_t first = 0, count = 0;

	qsort(hv->punch_q, hv->punch_n, sizeof(*hv->punch_q), sim_mfn_cmp);
	for (size_t i = 0; i < hv->punch_n; i++) {
		uint32_t m = hv->punch_q[i];

		if (count && first + count == m) {
			count++;
			continue;
		}
		sim_punch(hv, first, count);
		first = m;
		count = 1;
	}
	sim_punch(hv, first, count);
	hv->punch_n = 0;
	hv->punch_batch = false;
}

/*
 * The owner (a domain or dom_cow) lets go of a frame: it is freed now, or
 * when the last foreign mapping goes (an orphan until then).
 */
void sim_frame_release(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (f->map_refs) {
		f->state = SIM_FRAME_ORPHAN;
		f->owner = 0;
		f->gfn = 0;
		f->special = 0;
		return;
	}
	sim_frame_free(hv, mfn);
}

/* ---- host ----------------------------------------------------------------- */

static void sim_dom_free(struct sim_dom *d)
{
	if (!d)
		return;
	free(d->p2m);
	free(d->oracle);
	free(d->oracle_gen);
	sim_logdirty_free(d);
	free(d->vcpus);
	free(d);
}

static int sim_dom_populate(struct sim_hv *hv, struct sim_dom *d, uint64_t nr_pages);

int sim_hv_create(const struct sim_hv_config *cfg, struct sim_hv **out)
{
	struct sim_hv *hv;
	static const uint8_t zero_page[SIM_PAGE_SIZE];
	int rc;

	*out = NULL;
	if (!cfg->nr_frames || cfg->nr_frames >= SIM_MFN_NONE || cfg->dom0_pages > cfg->nr_frames)
		return -EINVAL;
	hv = calloc(1, sizeof(*hv));
	if (!hv)
		return -ENOMEM;
	hv->cfg = *cfg;
	hv->fd = -1;
	hv->mem = MAP_FAILED;
	pthread_mutex_init(&hv->lock, NULL);
	pthread_cond_init(&hv->resumed, NULL);
	hv->nr_frames = cfg->nr_frames;
	hv->next_handle = 1;
	hv->next_domid = 1;
	hv->zero_hash = sim_page_hash(zero_page);

	rc = sim_faults_create(&cfg->faults, &hv->faults);
	if (rc)
		goto out;
	hv->fd = memfd_create("xensim-host-memory", MFD_CLOEXEC);
	if (hv->fd < 0) {
		rc = -errno;
		goto out;
	}
	if (ftruncate(hv->fd, (off_t)(cfg->nr_frames << SIM_PAGE_SHIFT)) < 0) {
		rc = -errno;
		goto out;
	}
	hv->mem = mmap(NULL, cfg->nr_frames << SIM_PAGE_SHIFT, PROT_READ | PROT_WRITE,
		       MAP_SHARED, hv->fd, 0);
	if (hv->mem == MAP_FAILED) {
		rc = -errno;
		goto out;
	}
	hv->frames = calloc(cfg->nr_frames, sizeof(*hv->frames));
	if (!hv->frames) {
		rc = -ENOMEM;
		goto out;
	}
	/* Free list in ascending order, so domains get contiguous frames. */
	for (uint64_t i = 0; i < cfg->nr_frames; i++) {
		hv->frames[i].state = SIM_FRAME_FREE;
		hv->frames[i].gfn = i + 1 < cfg->nr_frames ? i + 1 : SIM_MFN_NONE;
	}
	hv->free_head = 0;
	hv->nr_free = cfg->nr_frames;
	hv->shared_free = SIM_MFN_NONE;

	/* dom0: PV, the caller of every hypercall. */
	struct sim_dom *d0 = calloc(1, sizeof(*d0));
	if (!d0) {
		rc = -ENOMEM;
		goto out;
	}
	d0->domid = 0;
	d0->type = SIM_DOM_PV;
	snprintf(d0->name, sizeof(d0->name), "Domain-0");
	d0->max_pages = cfg->dom0_pages;
	d0->nr_vcpus = 1;
	d0->vcpus = calloc(1, sizeof(*d0->vcpus));
	clock_gettime(CLOCK_MONOTONIC, &d0->created);
	if (!d0->vcpus) {
		sim_dom_free(d0);
		rc = -ENOMEM;
		goto out;
	}
	rc = sim_dom_populate(hv, d0, cfg->dom0_pages);
	if (rc) {
		sim_dom_free(d0);
		goto out;
	}
	hv->doms[0] = d0;
	*out = hv;
	return 0;
out:
	sim_hv_destroy(hv);
	return rc;
}

void sim_hv_destroy(struct sim_hv *hv)
{
	if (!hv)
		return;
	for (unsigned int i = 0; i < SIM_DOMID_MAX; i++)
		sim_dom_free(hv->doms[i]);
	for (uint32_t i = 0; i < hv->shared_cap; i++)
		free(hv->shared[i].rmap);
	free(hv->shared);
	while (hv->owners) {
		struct sim_map_owner *o = hv->owners;

		hv->owners = o->next;
		free(o->slots);
		free(o);
	}
	free(hv->frames);
	free(hv->punch_q);
	if (hv->mem != MAP_FAILED)
		munmap(hv->mem, hv->nr_frames << SIM_PAGE_SHIFT);
	if (hv->fd >= 0)
		close(hv->fd);
	sim_faults_destroy(hv->faults);
	pthread_cond_destroy(&hv->resumed);
	pthread_mutex_destroy(&hv->lock);
	free(hv);
}

int sim_hv_frames_fd(const struct sim_hv *hv)
{
	return hv->fd;
}

struct sim_faults *sim_hv_faults(struct sim_hv *hv)
{
	return hv->faults;
}

void sim_hv_physinfo(struct sim_hv *hv, uint64_t *total, uint64_t *free_frames)
{
	sim_lock(hv);
	*total = hv->nr_frames;
	*free_frames = hv->nr_free;
	sim_unlock(hv);
}

/* ---- guest-physical layout --------------------------------------------------- */

#define SIM_GFN_4G (1ULL << (32 - SIM_PAGE_SHIFT))
/* HVM: HVM_BELOW_4G_MMIO_LENGTH of <xen/hvm/e820.h> below 4 GiB */
#define SIM_HVM_MMIO_GFN ((uint64_t)HVM_BELOW_4G_MMIO_START >> SIM_PAGE_SHIFT)
/*
 * PVH: libxl__build_hvm() starts the hole at the lowest of the special
 * pages (X86_HVM_END_SPECIAL_REGION - X86_HVM_NR_SPECIAL_PAGES = 0xfeff8),
 * LAPIC_BASE_ADDRESS (0xfee00000) and ACPI_INFO_PHYSICAL_ADDRESS
 * (0xfc000000) of libxl_arch.h: the last.
 */
#define SIM_PVH_MMIO_GFN (0xfc000000ULL >> SIM_PAGE_SHIFT)
/* meminit_hvm(): "skipping VGA hole 0xA0000-0xC0000" (LIBXL_VGA_HOLE_SIZE 0x20) */
#define SIM_VGA_FIRST_GFN 0xa0ULL
#define SIM_VGA_END_GFN 0xc0ULL

static void sim_layout_add(struct sim_ram_layout *l, uint64_t first, uint64_t end)
{
	if (end > first && l->nr < SIM_RAM_RANGES) {
		l->r[l->nr].first = first;
		l->r[l->nr].end = end;
		l->nr++;
	}
}

void sim_ram_layout(enum sim_dom_type type, uint64_t nr_pages, struct sim_ram_layout *out)
{
	uint64_t low = nr_pages, mmio = type == SIM_DOM_HVM ? SIM_HVM_MMIO_GFN : SIM_PVH_MMIO_GFN;

	memset(out, 0, sizeof(*out));
	if (type == SIM_DOM_PV) {
		sim_layout_add(out, 0, nr_pages);
		return;
	}
	if (low > mmio)
		low = mmio;
	if (type == SIM_DOM_HVM && low > SIM_VGA_FIRST_GFN) {
		sim_layout_add(out, 0, SIM_VGA_FIRST_GFN);
		sim_layout_add(out, SIM_VGA_END_GFN, low);
	} else {
		sim_layout_add(out, 0, low);
	}
	sim_layout_add(out, SIM_GFN_4G, SIM_GFN_4G + (nr_pages - low));
}

uint64_t sim_ram_layout_pages(const struct sim_ram_layout *l)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < l->nr; i++)
		n += l->r[i].end - l->r[i].first;
	return n;
}

uint64_t sim_ram_layout_end(const struct sim_ram_layout *l)
{
	return l->nr ? l->r[l->nr - 1].end : 0;
}

uint64_t sim_ram_layout_gfn(const struct sim_ram_layout *l, uint64_t idx)
{
	for (unsigned int i = 0; i < l->nr; i++) {
		uint64_t len = l->r[i].end - l->r[i].first;

		if (idx < len)
			return l->r[i].first + idx;
		idx -= len;
	}
	return sim_ram_layout_end(l) + idx;   /* beyond RAM: the caller's bug */
}

bool sim_ram_layout_has(const struct sim_ram_layout *l, uint64_t gfn)
{
	for (unsigned int i = 0; i < l->nr; i++)
		if (gfn >= l->r[i].first && gfn < l->r[i].end)
			return true;
	return false;
}

/* ---- domains -------------------------------------------------------------- */

struct sim_dom *sim_dom_get(struct sim_hv *hv, uint32_t domid)
{
	return domid < SIM_DOMID_MAX ? hv->doms[domid] : NULL;
}

int sim_p2m_grow(struct sim_dom *d, uint64_t nr_gfns)
{
	struct sim_p2m *p2m;
	uint64_t *oracle;

	if (nr_gfns <= d->nr_gfns)
		return 0;
	if (nr_gfns > SIM_MAX_GFNS)
		return -EINVAL;
	p2m = realloc(d->p2m, nr_gfns * sizeof(*p2m));
	if (!p2m)
		return -ENOMEM;
	d->p2m = p2m;
	oracle = realloc(d->oracle, nr_gfns * sizeof(*oracle));
	if (!oracle)
		return -ENOMEM;
	d->oracle = oracle;
	if (d->oracle_gen) {
		size_t old_words = (d->nr_gfns + 63) / 64, words = (nr_gfns + 63) / 64;
		uint64_t *bits = realloc(d->oracle_gen, words * sizeof(*bits));

		if (!bits)
			return -ENOMEM;
		memset(bits + old_words, 0, (words - old_words) * sizeof(*bits));
		d->oracle_gen = bits;
	}
	if (sim_logdirty_grow(d, nr_gfns))
		return -ENOMEM;
	for (uint64_t g = d->nr_gfns; g < nr_gfns; g++) {
		d->p2m[g].mfn = SIM_MFN_NONE;
		d->p2m[g].rmap_idx = 0;
		d->p2m[g].type = SIM_P2M_HOLE;
		d->p2m[g].logdirty = 0;
		d->oracle[g] = SIM_ORACLE_HOLE;
	}
	d->nr_holes += nr_gfns - d->nr_gfns;
	d->nr_gfns = nr_gfns;
	return 0;
}

/* Give the frames of the domain's RAM (and the ring page) to a new domain. */
static int sim_dom_populate(struct sim_hv *hv, struct sim_dom *d, uint64_t nr_pages)
{
	bool ring = d->type != SIM_DOM_PV;
	struct sim_ram_layout ram, span;
	uint64_t ram_pages, ring_gfn, need;
	int rc;

	sim_ram_layout(d->type, nr_pages, &ram);
	sim_ram_layout(d->type, nr_pages > d->max_pages ? nr_pages : d->max_pages, &span);
	ram_pages = sim_ram_layout_pages(&ram);
	ring_gfn = sim_ram_layout_end(&span);
	need = ram_pages + (ring ? 1 : 0);
	if (need > hv->nr_free)
		return -ENOMEM;
	rc = sim_p2m_grow(d, ring ? ring_gfn + 1 : sim_ram_layout_end(&ram));
	if (rc)
		return rc;
	for (unsigned int i = 0; i < ram.nr; i++) {
		for (uint64_t g = ram.r[i].first; g < ram.r[i].end; g++) {
			uint32_t mfn = sim_frame_alloc(hv);

			hv->frames[mfn].state = SIM_FRAME_DOM;
			hv->frames[mfn].owner = d->domid;
			hv->frames[mfn].gfn = g;
			d->p2m[g].mfn = mfn;
			d->p2m[g].type = SIM_P2M_RAM_RW;
			d->oracle[g] = hv->zero_hash;
		}
	}
	d->tot_pages = ram_pages;
	d->nr_holes -= ram_pages;
	if (ring) {
		uint32_t mfn = sim_frame_alloc(hv);

		hv->frames[mfn].state = SIM_FRAME_DOM;
		hv->frames[mfn].owner = d->domid;
		hv->frames[mfn].gfn = ring_gfn;
		hv->frames[mfn].special = 1;
		d->p2m[ring_gfn].mfn = mfn;
		d->p2m[ring_gfn].type = SIM_P2M_RING;
		d->nr_holes--;
		d->ring_gfn = ring_gfn;
	}
	return 0;
}

/* All of a domain's memory goes: shared references dropped, frames freed. */
static void sim_dom_release_memory(struct sim_hv *hv, struct sim_dom *d)
{
	sim_punch_begin(hv, d->nr_gfns);
	if (d->ring_enabled)
		sim_ring_teardown(hv, d);
	for (uint64_t g = 0; g < d->nr_gfns; g++) {
		struct sim_p2m *e = &d->p2m[g];

		switch (e->type) {
		case SIM_P2M_SHARED:
			/* relinquish_shared_pages(): unshare with destroy=true */
			sim_share_drop(hv, d, g);
			break;
		case SIM_P2M_RAM_RW:
			d->tot_pages--;
			/* fall through */
		case SIM_P2M_RING:
			sim_frame_release(hv, e->mfn);
			break;
		default:
			break;
		}
		e->type = SIM_P2M_HOLE;
		e->mfn = SIM_MFN_NONE;
	}
	sim_punch_flush(hv);
}

int sim_hv_domain_create(struct sim_hv *hv, const struct sim_dom_spec *spec, uint32_t *domid)
{
	struct sim_dom *d;
	uint32_t id;
	int rc;

	if (spec->type != SIM_DOM_PV && spec->type != SIM_DOM_PVH && spec->type != SIM_DOM_HVM)
		return -EINVAL;
	if (spec->max_pages && spec->max_pages < spec->nr_pages)
		return -EINVAL;
	if (spec->nr_pages >= SIM_MAX_GFNS || spec->max_pages >= SIM_MAX_GFNS)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->type = spec->type;
	memcpy(d->name, spec->name, sizeof(d->name));
	d->name[sizeof(d->name) - 1] = '\0';
	memcpy(d->uuid, spec->uuid, sizeof(d->uuid));
	d->passthrough = spec->passthrough;
	d->max_pages = spec->max_pages ? spec->max_pages : spec->nr_pages;
	d->nr_vcpus = spec->vcpus ? spec->vcpus : 1;
	d->next_port = 1;
	d->vcpus = calloc(d->nr_vcpus, sizeof(*d->vcpus));
	if (!d->vcpus) {
		sim_dom_free(d);
		return -ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &d->created);

	sim_lock(hv);
	/* Next free id after the last one given, wrapping below the reserved ids. */
	id = hv->next_domid;
	for (unsigned int tries = 1; hv->doms[id]; tries++) {
		if (tries >= SIM_DOMID_MAX) {
			sim_unlock(hv);
			sim_dom_free(d);
			return -ENOSPC;
		}
		id = id + 1 < SIM_DOMID_MAX ? id + 1 : 1;
	}
	d->domid = id;
	rc = sim_dom_populate(hv, d, spec->nr_pages);
	if (rc) {
		/* Nothing was allocated when populate fails (it checks first). */
		sim_unlock(hv);
		sim_dom_free(d);
		return rc;
	}
	hv->doms[id] = d;
	hv->next_domid = id + 1 < SIM_DOMID_MAX ? id + 1 : 1;
	sim_unlock(hv);
	*domid = id;
	return 0;
}

int sim_hv_domain_destroy(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		sim_unlock(hv);
		return -ESRCH;
	}
	if (domid == 0) {
		sim_unlock(hv);
		return -EINVAL;   /* domain_kill() of the caller itself */
	}
	d->dying = true;
	sim_dom_release_memory(hv, d);
	hv->doms[domid] = NULL;
	sim_dom_free(d);
	pthread_cond_broadcast(&hv->resumed);
	sim_unlock(hv);
	return 0;
}

/*
 * domain_crash(): the domain is shut down with reason crash; its vCPUs stop.
 * Its memory stays until the toolstack destroys it (on_crash=destroy).
 */
void sim_dom_crash(struct sim_hv *hv, struct sim_dom *d)
{
	fprintf(stderr, "xensim hv: d%u crashed\n", d->domid);
	d->shutdown = true;
	d->crashed = true;
	pthread_cond_broadcast(&hv->resumed);
}

int sim_hv_domain_pause(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d)
		rc = -ESRCH;
	else if (domid == 0)
		rc = -EINVAL;   /* XEN_DOMCTL_pausedomain on itself */
	else
		d->pause_count++;
	sim_unlock(hv);
	return rc;
}

int sim_hv_domain_unpause(struct sim_hv *hv, uint32_t domid)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d) {
		rc = -ESRCH;
	} else if (domid == 0) {
		rc = -EINVAL;
	} else if (d->pause_count > 0) {
		d->pause_count--;
	} else {
		rc = -EINVAL;   /* domain_unpause_by_systemcontroller(): not paused */
	}
	pthread_cond_broadcast(&hv->resumed);
	sim_unlock(hv);
	return rc;
}

static int64_t sim_elapsed_ns(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - since->tv_sec) * 1000000000LL +
	       (now.tv_nsec - since->tv_nsec);
}

static void sim_dom_info(const struct sim_dom *d, struct sim_dominfo *info)
{
	uint32_t paused = 0;

	memset(info, 0, sizeof(*info));
	for (uint32_t v = 0; v < d->nr_vcpus; v++) {
		uint64_t waited;

		if (!sim_vcpu_paused(&d->vcpus[v]))
			continue;
		paused++;
		waited = (uint64_t)sim_elapsed_ns(&d->vcpus[v].paused_at);
		if (waited > info->longest_pause_ns)
			info->longest_pause_ns = waited;
	}
	info->domid = d->domid;
	if (d->dying)
		info->flags |= SIM_DOMF_DYING;
	if (d->type != SIM_DOM_PV)
		info->flags |= SIM_DOMF_HVM;   /* PVH is an HVM container in Xen */
	if (d->shutdown)
		info->flags |= SIM_DOMF_SHUTDOWN;
	if (d->crashed)
		info->flags |= SIM_DOMF_CRASHED;
	if (d->pause_count)
		info->flags |= SIM_DOMF_PAUSED;
	if (!d->pause_count && !d->shutdown && paused < d->nr_vcpus)
		info->flags |= SIM_DOMF_RUNNING;
	else if (!d->shutdown)
		info->flags |= SIM_DOMF_BLOCKED;
	info->tot_pages = d->tot_pages;
	info->max_pages = d->max_pages;
	info->shr_pages = d->shr_pages;
	info->nr_gfns = d->nr_gfns;
	info->nr_holes = d->nr_holes;
	info->nr_online_vcpus = d->nr_vcpus;
	info->paused_vcpus = paused;
	info->cpu_time_ns = (uint64_t)sim_elapsed_ns(&d->created);
	info->logdirty = d->logdirty;
	info->logdirty_faults = d->logdirty_faults;
	memcpy(info->uuid, d->uuid, sizeof(info->uuid));
	memcpy(info->name, d->name, sizeof(info->name));
}

int sim_hv_domain_getinfo(struct sim_hv *hv, uint32_t first, unsigned int max,
			  struct sim_dominfo *out)
{
	unsigned int n = 0;

	sim_lock(hv);
	for (uint32_t id = first; id < SIM_DOMID_MAX && n < max; id++)
		if (hv->doms[id])
			sim_dom_info(hv->doms[id], &out[n++]);
	sim_unlock(hv);
	return (int)n;
}

/*
 * guest_remove_page() of gfn g: a shared gfn is unshared first in Xen (then
 * freed); the net effect, done directly here, is dropping the domain's
 * reference -- except that Xen's unshare of a non-last sharer needs a free
 * frame, so with none left it fails -ENOMEM here too.  0 when removed,
 * 1 when g holds no RAM (a hole, the ring page), -ENOMEM.
 */
static int sim_remove_gfn(struct sim_hv *hv, struct sim_dom *d, uint64_t g)
{
	struct sim_p2m *e = &d->p2m[g];

	if (e->type == SIM_P2M_SHARED) {
		if (hv->shared[hv->frames[e->mfn].owner].nr > 1 &&
		    (hv->nr_free == 0 || d->tot_pages >= d->max_pages)) {
			sim_share_enomem(hv, d, 0, g, false);
			return -ENOMEM;
		}
		sim_share_drop(hv, d, g);
		/* the unshare of guest_remove_page() marks it dirty */
		sim_logdirty_mark(d, g);
	} else if (e->type == SIM_P2M_RAM_RW) {
		d->tot_pages--;
		sim_frame_release(hv, e->mfn);
	} else {
		return 1;
	}
	e->type = SIM_P2M_HOLE;
	e->logdirty = 0;
	e->mfn = SIM_MFN_NONE;
	d->oracle[g] = SIM_ORACLE_HOLE;
	sim_oracle_set_gen(d, g, false);
	d->nr_holes++;
	return 0;
}

/*
 * Balloon out up to nr frames, highest gfns first, as a balloon driver's
 * XENMEM_decrease_reservation would.  Returns the number of frames given
 * back, or -errno if none.
 */
int sim_hv_decrease_reservation(struct sim_hv *hv, uint32_t domid, uint64_t nr)
{
	struct sim_dom *d;
	uint64_t done = 0;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	sim_punch_begin(hv, nr < d->nr_gfns ? nr : d->nr_gfns);
	for (uint64_t g = d->nr_gfns; g-- > 0 && done < nr;) {
		int r = sim_remove_gfn(hv, d, g);

		if (r < 0) {
			rc = r;
			break;
		}
		if (r == 0)
			done++;
	}
	sim_punch_flush(hv);
out:
	sim_unlock(hv);
	if (done)
		return done > INT32_MAX ? INT32_MAX : (int)done;
	return rc;
}

int sim_hv_remove_page(struct sim_hv *hv, uint32_t domid, uint64_t gfn)
{
	struct sim_dom *d;
	int rc;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying)
		rc = -ESRCH;
	else if (gfn >= d->nr_gfns)
		rc = -EINVAL;
	else if ((rc = sim_remove_gfn(hv, d, gfn)) > 0)
		rc = -EINVAL;
	sim_unlock(hv);
	return rc;
}

/* ---- guest side ----------------------------------------------------------- */

int sim_hv_guest_write(struct sim_hv *hv, uint32_t domid, uint32_t vcpu,
		       uint64_t gfn, size_t offset, const void *buf, size_t len)
{
	struct sim_dom *d;
	struct sim_p2m *e;
	uint8_t *page;
	int rc = 0;

	if (offset > SIM_PAGE_SIZE || len > SIM_PAGE_SIZE - offset)
		return -EINVAL;
	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying || d->shutdown) {
		rc = -ESRCH;
		goto out;
	}
	if (vcpu != SIM_HV_LOADER_VCPU) {
		if (vcpu >= d->nr_vcpus) {
			rc = -EINVAL;
			goto out;
		}
		if (d->pause_count || sim_vcpu_paused(&d->vcpus[vcpu])) {
			rc = -EAGAIN;
			goto out;
		}
	}
	if (gfn >= d->nr_gfns) {
		rc = -EINVAL;
		goto out;
	}
	e = &d->p2m[gfn];
	if (e->type == SIM_P2M_SHARED) {
		rc = sim_share_unshare(hv, d, gfn);
		if (rc == -ENOMEM) {
			sim_share_enomem(hv, d, vcpu, gfn, vcpu != SIM_HV_LOADER_VCPU);
			goto out;
		}
		if (rc)
			goto out;
	}
	if (e->type != SIM_P2M_RAM_RW) {
		rc = -EINVAL;   /* a hole, or the ring page (not guest RAM here) */
		goto out;
	}
	sim_logdirty_write_fault(d, gfn);
	sim_gen_make_private(hv, e->mfn);
	page = sim_frame_ptr(hv, e->mfn);
	memcpy(page + offset, buf, len);
	d->oracle[gfn] = sim_page_hash(page);
	sim_oracle_set_gen(d, gfn, false);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_guest_read(struct sim_hv *hv, uint32_t domid, uint64_t gfn, void *page)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
	} else if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE) {
		rc = -EINVAL;
	} else if (hv->frames[d->p2m[gfn].mfn].gen) {
		const uint8_t *c = sim_frame_content(hv, d->p2m[gfn].mfn, page);

		if (c != page)
			memcpy(page, c, SIM_PAGE_SIZE);
	} else if (pread(hv->fd, page, SIM_PAGE_SIZE,
			 (off_t)((uint64_t)d->p2m[gfn].mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE) {
		rc = -EIO;
	}
	sim_unlock(hv);
	return rc;
}

int sim_hv_wait_resumed(struct sim_hv *hv, uint32_t domid, uint32_t vcpu)
{
	int rc;

	sim_lock(hv);
	for (;;) {
		struct sim_dom *d = sim_dom_get(hv, domid);

		if (!d || d->dying || d->shutdown) {
			rc = -ESRCH;
			break;
		}
		if (vcpu >= d->nr_vcpus) {
			rc = -EINVAL;
			break;
		}
		if (!d->pause_count && !sim_vcpu_paused(&d->vcpus[vcpu])) {
			rc = 0;
			break;
		}
		pthread_cond_wait(&hv->resumed, &hv->lock);
	}
	sim_unlock(hv);
	return rc;
}

/* Called (under the lock) whenever a vCPU may have become runnable. */
void sim_wake_vcpus(struct sim_hv *hv)
{
	pthread_cond_broadcast(&hv->resumed);
}

/* ---- foreign mappings ----------------------------------------------------- */

static struct sim_map_owner *sim_owner_get(struct sim_hv *hv, uint64_t id, bool create)
{
	struct sim_map_owner *o;

	for (o = hv->owners; o; o = o->next)
		if (o->id == id)
			return o;
	if (!create)
		return NULL;
	o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	o->id = id;
	o->next = hv->owners;
	hv->owners = o;
	return o;
}

static uint32_t sim_slot_hash(uint32_t mfn, uint32_t cap)
{
	return (mfn * 2654435761u) & (cap - 1);
}

static struct sim_map_slot *sim_slot_find(struct sim_map_owner *o, uint32_t mfn)
{
	if (!o->cap)
		return NULL;
	for (uint32_t i = sim_slot_hash(mfn, o->cap);; i = (i + 1) & (o->cap - 1)) {
		if (o->slots[i].mfn == mfn)
			return &o->slots[i];
		if (o->slots[i].mfn == SIM_MFN_NONE)
			return NULL;
	}
}

static int sim_slot_grow(struct sim_map_owner *o)
{
	uint32_t cap = o->cap ? o->cap * 2 : 64;
	struct sim_map_slot *old = o->slots, *slots;

	slots = malloc(cap * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < cap; i++)
		slots[i].mfn = SIM_MFN_NONE;
	for (uint32_t i = 0; i < o->cap; i++) {
		uint32_t j;

		if (old[i].mfn == SIM_MFN_NONE)
			continue;
		for (j = sim_slot_hash(old[i].mfn, cap); slots[j].mfn != SIM_MFN_NONE;
		     j = (j + 1) & (cap - 1))
			;
		slots[j] = old[i];
	}
	free(old);
	o->slots = slots;
	o->cap = cap;
	return 0;
}

static struct sim_map_slot *sim_slot_get(struct sim_map_owner *o, uint32_t mfn)
{
	struct sim_map_slot *s = sim_slot_find(o, mfn);
	uint32_t i;

	if (s)
		return s;
	if ((o->used + 1) * 4 > o->cap * 3 && sim_slot_grow(o))
		return NULL;
	for (i = sim_slot_hash(mfn, o->cap); o->slots[i].mfn != SIM_MFN_NONE;
	     i = (i + 1) & (o->cap - 1))
		;
	o->slots[i].mfn = mfn;
	o->slots[i].ro = 0;
	o->slots[i].rw = 0;
	o->used++;
	return &o->slots[i];
}

/* Linear probing deletion by backward shift (no tombstones). */
static void sim_slot_del(struct sim_map_owner *o, struct sim_map_slot *s)
{
	uint32_t mask = o->cap - 1;
	uint32_t i = (uint32_t)(s - o->slots);

	for (uint32_t j = (i + 1) & mask; o->slots[j].mfn != SIM_MFN_NONE; j = (j + 1) & mask) {
		uint32_t home = sim_slot_hash(o->slots[j].mfn, o->cap);

		/* Move j into the hole at i if its home is not in (i, j]. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			o->slots[i] = o->slots[j];
			i = j;
		}
	}
	o->slots[i].mfn = SIM_MFN_NONE;
	o->used--;
}

/* A writable mapping goes away: what was written through it is now the guest's content. */
static void sim_oracle_take(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];
	struct sim_dom *d;

	if (f->state != SIM_FRAME_DOM || f->special)
		return;
	d = sim_dom_get(hv, f->owner);
	if (d && f->gfn < d->nr_gfns && d->p2m[f->gfn].mfn == mfn &&
	    d->p2m[f->gfn].type == SIM_P2M_RAM_RW) {
		d->oracle[f->gfn] = sim_page_hash(sim_frame_ptr(hv, mfn));
		sim_oracle_set_gen(d, f->gfn, false);
	}
}

/* The last mapping of a generated frame went: its content leaves the memfd. */
static void sim_gen_dematerialise(struct sim_hv *hv, uint32_t mfn)
{
	struct sim_frame *f = &hv->frames[mfn];

	if (!f->gen || !f->gen_mat)
		return;
	sim_punch_frame(hv, mfn);
	f->gen_mat = 0;
	hv->nr_gen_mat--;
}

/* Drop one mapping reference of o on mfn (read-only first). */
static void sim_map_put(struct sim_hv *hv, struct sim_map_owner *o, struct sim_map_slot *s)
{
	struct sim_frame *f = &hv->frames[s->mfn];
	uint32_t mfn = s->mfn;

	if (s->ro) {
		s->ro--;
	} else {
		s->rw--;
		f->map_rw--;
		sim_oracle_take(hv, mfn);
	}
	f->map_refs--;
	if (!s->ro && !s->rw)
		sim_slot_del(o, s);
	if (!f->map_refs && f->state == SIM_FRAME_ORPHAN)
		sim_frame_free(hv, mfn);
	else if (!f->map_refs)
		sim_gen_dematerialise(hv, mfn);
}

int sim_hv_map(struct sim_hv *hv, uint64_t owner, uint32_t domid,
	       const uint64_t *gfns, unsigned int n, bool writable,
	       uint64_t *mfns, int *err)
{
	struct sim_map_owner *o;
	struct sim_dom *d;
	unsigned int faulted[2] = { 0, 0 };   /* pages failed with ENOMEM, ENOENT */
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	o = sim_owner_get(hv, owner, true);
	if (!o) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gfn = gfns[i], pick = 0;
		bool fault = sim_fault_draw(hv->faults, SIM_FK_MAP_PAGE, &pick);
		struct sim_map_slot *s;
		struct sim_frame *f;
		struct sim_p2m *e;

		mfns[i] = SIM_INVALID_MFN;
		if (gfn >= d->nr_gfns || d->p2m[gfn].type == SIM_P2M_HOLE) {
			err[i] = -EINVAL;
			continue;
		}
		if (fault) {
			/* privcmd's err[]: dom0's p2m pool empty, or the page being paged */
			err[i] = pick & 1 ? -ENOENT : -ENOMEM;
			faulted[err[i] == -ENOENT]++;
			continue;
		}
		e = &d->p2m[gfn];
		if (writable && e->type == SIM_P2M_SHARED) {
			/* get_page_from_gfn(P2M_UNSHARE): unshare before a writable mapping */
			int urc = sim_share_unshare(hv, d, gfn);

			if (urc) {
				if (urc == -ENOMEM)
					sim_share_enomem(hv, d, 0, gfn, false);
				err[i] = urc;
				continue;
			}
		}
		f = &hv->frames[e->mfn];
		if (f->map_refs == UINT32_MAX) {
			err[i] = -E2BIG;
			continue;
		}
		s = sim_slot_get(o, e->mfn);
		if (!s) {
			err[i] = -ENOMEM;
			continue;
		}
		if (writable) {
			/* what is written through the mapping is the frame's from now on */
			sim_gen_make_private(hv, e->mfn);
			s->rw++;
			f->map_rw++;
		} else {
			sim_gen_materialise(hv, e->mfn);
			s->ro++;
		}
		f->map_refs++;
		mfns[i] = e->mfn;
		err[i] = 0;
	}
	if (faulted[0] + faulted[1])
		sim_fault_note(hv->faults, SIM_FK_MAP_PAGE, faulted[0] + faulted[1],
			       "map d%u: %u of %u pages not mapped (%u ENOMEM, %u ENOENT)", domid,
			       faulted[0] + faulted[1], n, faulted[0], faulted[1]);
out:
	sim_unlock(hv);
	return rc;
}

int sim_hv_unmap(struct sim_hv *hv, uint64_t owner, const uint64_t *mfns, unsigned int n)
{
	struct sim_map_owner *o;
	int rc = 0;

	sim_lock(hv);
	o = sim_owner_get(hv, owner, false);
	sim_punch_begin(hv, n);
	for (unsigned int i = 0; i < n; i++) {
		struct sim_map_slot *s = NULL;

		if (o && mfns[i] < hv->nr_frames)
			s = sim_slot_find(o, (uint32_t)mfns[i]);
		if (!s) {
			fprintf(stderr, "xensim hv: owner %llu unmap of mfn 0x%llx it has not mapped\n",
				(unsigned long long)owner, (unsigned long long)mfns[i]);
			rc = -EINVAL;
			continue;
		}
		sim_map_put(hv, o, s);
	}
	sim_punch_flush(hv);
	sim_unlock(hv);
	return rc;
}

void sim_hv_unmap_owner(struct sim_hv *hv, uint64_t owner)
{
	struct sim_map_owner *o, **pp;

	sim_lock(hv);
	for (pp = &hv->owners; *pp && (*pp)->id != owner; pp = &(*pp)->next)
		;
	o = *pp;
	if (o) {
		*pp = o->next;
		sim_punch_begin(hv, o->used);
		for (uint32_t i = 0; i < o->cap; i++) {
			struct sim_map_slot *s = &o->slots[i];
			struct sim_frame *f;

			if (s->mfn == SIM_MFN_NONE)
				continue;
			f = &hv->frames[s->mfn];
			f->map_refs -= s->ro + s->rw;
			f->map_rw -= s->rw;
			if (s->rw)
				sim_oracle_take(hv, s->mfn);
			if (!f->map_refs && f->state == SIM_FRAME_ORPHAN)
				sim_frame_free(hv, s->mfn);
			else if (!f->map_refs)
				sim_gen_dematerialise(hv, s->mfn);
		}
		sim_punch_flush(hv);
		free(o->slots);
		free(o);
	}
	sim_unlock(hv);
}

/* ---- oracle --------------------------------------------------------------- */

/*
 * Each gfn is checked under the lock (a guest write updates frame and oracle
 * together under it), but the lock is dropped every VERIFY_CHUNK gfns so
 * that verifying a large host does not stall every vCPU for its whole walk.
 */
#define VERIFY_CHUNK 4096

/* Does frame mfn hold sim_hv_gen_fill(key)?  (scratch: one page) */
static bool sim_gen_matches(struct sim_hv *hv, uint32_t mfn, uint64_t key, uint8_t *scratch)
{
	static _Thread_local uint8_t want[SIM_PAGE_SIZE];
	const uint8_t *have;

	if (hv->frames[mfn].gen) {
		have = sim_frame_content(hv, mfn, scratch);
	} else {
		if (pread(hv->fd, scratch, SIM_PAGE_SIZE,
			  (off_t)((uint64_t)mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE)
			return false;
		have = scratch;
	}
	sim_hv_gen_fill(want, key);
	return memcmp(have, want, SIM_PAGE_SIZE) == 0;
}

long sim_hv_verify(struct sim_hv *hv, struct sim_mismatch *out, unsigned int max)
{
	uint8_t page[SIM_PAGE_SIZE];
	long bad = 0;

	for (uint32_t id = 0; id < SIM_DOMID_MAX; id++) {
		for (uint64_t start = 0;; start += VERIFY_CHUNK) {
			struct sim_dom *d;
			bool more;

			sim_lock(hv);
			d = hv->doms[id];
			if (!d || start >= d->nr_gfns) {
				sim_unlock(hv);
				break;
			}
			for (uint64_t g = start; g < d->nr_gfns && g < start + VERIFY_CHUNK; g++) {
				const struct sim_p2m *e = &d->p2m[g];
				bool ok;

				if (e->type == SIM_P2M_RING)
					continue;
				if (e->type == SIM_P2M_HOLE) {
					ok = d->oracle[g] == SIM_ORACLE_HOLE;   /* else: a lost page */
				} else if (hv->frames[e->mfn].map_rw) {
					/* Being written through a foreign mapping: not judged. */
					ok = true;
				} else if (sim_oracle_is_gen(d, g)) {
					/* generated: same key, or the same bytes as that key's page */
					ok = hv->frames[e->mfn].gen == d->oracle[g] ||
					     sim_gen_matches(hv, e->mfn, d->oracle[g], page);
				} else if (hv->frames[e->mfn].gen) {
					ok = d->oracle[g] != SIM_ORACLE_HOLE &&
					     sim_page_hash(sim_frame_content(hv, e->mfn, page)) == d->oracle[g];
				} else if (pread(hv->fd, page, SIM_PAGE_SIZE,
						 (off_t)((uint64_t)e->mfn << SIM_PAGE_SHIFT)) != SIM_PAGE_SIZE) {
					ok = false;
				} else {
					ok = d->oracle[g] != SIM_ORACLE_HOLE &&
					     sim_page_hash(page) == d->oracle[g];
				}
				if (ok)
					continue;
				if ((unsigned long)bad < max) {
					out[bad].domid = id;
					out[bad].gfn = g;
				}
				bad++;
			}
			more = start + VERIFY_CHUNK < d->nr_gfns;
			sim_unlock(hv);
			if (!more)
				break;
		}
	}
	return bad;
}

/* ---- generated memory (scale mode) ----------------------------------------- */

int sim_hv_gen_assign(struct sim_hv *hv, uint32_t domid, uint64_t first_gfn,
		      unsigned int n, const uint64_t *keys)
{
	struct sim_dom *d;
	int rc = 0;

	sim_lock(hv);
	d = sim_dom_get(hv, domid);
	if (!d || d->dying) {
		rc = -ESRCH;
		goto out;
	}
	if (first_gfn > d->nr_gfns || n > d->nr_gfns - first_gfn) {
		rc = -EINVAL;
		goto out;
	}
	/* Check everything first: a refused call changes nothing. */
	for (unsigned int i = 0; i < n; i++) {
		const struct sim_p2m *e = &d->p2m[first_gfn + i];

		if (e->type != SIM_P2M_RAM_RW) {
			rc = -EINVAL;
			goto out;
		}
		if (hv->frames[e->mfn].map_refs) {
			rc = -EBUSY;
			goto out;
		}
	}
	if (!d->oracle_gen) {
		d->oracle_gen = calloc((d->nr_gfns + 63) / 64, sizeof(*d->oracle_gen));
		if (!d->oracle_gen) {
			rc = -ENOMEM;
			goto out;
		}
	}
	sim_punch_begin(hv, n);
	for (unsigned int i = 0; i < n; i++) {
		uint64_t gfn = first_gfn + i;
		uint32_t mfn = d->p2m[gfn].mfn;
		struct sim_frame *f = &hv->frames[mfn];

		/* whatever the frame held goes; the new content is the key's */
		sim_gen_forget(hv, f);
		sim_punch_frame(hv, mfn);
		if (keys[i]) {
			f->gen = keys[i];
			hv->nr_gen++;
			d->oracle[gfn] = keys[i];
			sim_oracle_set_gen(d, gfn, true);
		} else {
			d->oracle[gfn] = hv->zero_hash;
			sim_oracle_set_gen(d, gfn, false);
		}
	}
	sim_punch_flush(hv);
out:
	sim_unlock(hv);
	return rc;
}

void sim_hv_gen_get_stats(struct sim_hv *hv, struct sim_hv_gen_stats *out)
{
	sim_lock(hv);
	out->gen_frames = hv->nr_gen;
	out->materialised = hv->nr_gen_mat;
	sim_unlock(hv);
}
