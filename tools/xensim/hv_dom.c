/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * hv_dom.c - the simulated hypervisor's host and domains: creation and
 * destruction of the host, where a guest's RAM lies (sim_ram_layout()),
 * domain creation, destruction, pause, getinfo, and the balloon's
 * decrease_reservation.
 *
 * DOC: Overview
 *
 * Domains are created fully populated, where libxl puts their RAM
 * (sim_ram_layout(): the VGA window of an HVM guest and the MMIO hole
 * below 4 GiB are holes, RAM beyond the hole goes on from 4 GiB), ram_rw,
 * zero content; HVM and PVH domains also get libxl's eight special pages
 * right above the RAM max_pages would span, the sharing ring
 * (HVM_PARAM_SHARING_RING_PFN) the third as in xg_dom_x86.c, so the
 * ring is not the highest gfn; they are not counted in tot_pages.  Domain
 * ids count up from 1 and wrap below DOMID_FIRST_RESERVED, skipping live
 * ids, so a destroyed id is not reused soon (Xen behaves the same way).
 * dom0 exists from sim_hv_create() on: PV, the caller of every hypercall.
 *
 * A domain's holes are counted as they come and go (nr_holes: the p2m's
 * growth, populating, ballooning, add_to_physmap), so getinfo costs no
 * p2m walk; the audit recounts them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hv_internal.h"
#include "hv_share.h"

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

/* Give the frames of the domain's RAM (and the special pages) to a new domain. */
static int sim_dom_populate(struct sim_hv *hv, struct sim_dom *d, uint64_t nr_pages)
{
	unsigned int nr_special = d->type != SIM_DOM_PV ? SIM_NR_SPECIAL_PAGES : 0;
	struct sim_ram_layout ram, span;
	uint64_t ram_pages, special_gfn, need;
	int rc;

	sim_ram_layout(d->type, nr_pages, &ram);
	sim_ram_layout(d->type, nr_pages > d->max_pages ? nr_pages : d->max_pages, &span);
	ram_pages = sim_ram_layout_pages(&ram);
	special_gfn = sim_ram_layout_end(&span);
	need = ram_pages + nr_special;
	if (need > hv->nr_free)
		return -ENOMEM;
	rc = sim_p2m_grow(d, nr_special ? special_gfn + nr_special : sim_ram_layout_end(&ram));
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
	for (unsigned int i = 0; i < nr_special; i++) {
		uint32_t mfn = sim_frame_alloc(hv);
		uint64_t g = special_gfn + i;

		hv->frames[mfn].state = SIM_FRAME_DOM;
		hv->frames[mfn].owner = d->domid;
		hv->frames[mfn].gfn = g;
		hv->frames[mfn].special = 1;
		d->p2m[g].mfn = mfn;
		d->p2m[g].type = SIM_P2M_SPECIAL;
		d->nr_holes--;
	}
	if (nr_special)
		d->ring_gfn = special_gfn + SIM_SPECIALPAGE_SHARING;
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
		case SIM_P2M_SPECIAL:
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
	info->vcpu_pauses = d->vcpu_pauses;
	info->pause_total_ns = d->pause_total_ns;
	info->pause_max_ns = d->pause_max_ns;
	memcpy(info->pause_hist, d->pause_hist, sizeof(info->pause_hist));
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

/* ---- host ----------------------------------------------------------------- */

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
