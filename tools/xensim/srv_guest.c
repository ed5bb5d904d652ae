/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_guest.c - the xensim server's guests and balloon drivers.
 *
 * DOC: Overview
 *
 * Domains created through the CLI are "guests": the server remembers their
 * configuration and vCPU threads, writes the xenstore nodes xl writes,
 * fires @introduceDomain / @releaseDomain, and implements on_crash.  A
 * guest's memory comes from a raw image, an `xl dump-core` core, a
 * generated profile or generated keys, placed where its layout has RAM
 * (hv.h sim_ram_layout()); creation is synchronous, and a guest whose
 * memory cannot be loaded is destroyed again with the reason.
 *
 * The balloon drivers of dom0 and the guests are emulated: writing a lower
 * /local/domain/<id>/memory/target gives that domain's frames back to the
 * free pool (decrease_reservation), as Linux's xen-balloon does on its
 * xenstore watch.
 */
#include "srv_guest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "genmem.h"
#include "guest.h"
#include "vcpu.h"

/* Writes a node as dom0 (the toolstack); logs failures, which would be our bug. */
__attribute__((format(printf, 3, 4)))
static int xs_put(struct sim_server *srv, const char *val, const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	rc = sim_store_write(srv->store, 0, path, val, strlen(val));
	if (rc)
		srv_log("xenstore write %s: %s", path, strerror(-rc));
	return rc;
}

__attribute__((format(printf, 4, 5)))
static int xs_perms(struct sim_server *srv, const struct xs_permissions *p, unsigned int n,
		    const char *fmt, ...)
{
	char path[256];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	rc = sim_store_set_perms(srv->store, 0, path, p, n);
	if (rc)
		srv_log("xenstore set_perms %s: %s", path, strerror(-rc));
	return rc;
}

/* The nodes libxl__domain_make() and libxl__build_post() write, plus memshare/. */
static int guest_write_nodes(struct sim_server *srv, struct sim_guest *g)
{
	uint32_t id = g->domid;
	const uint8_t *u = g->cfg.spec.uuid;
	struct xs_permissions roperm[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = id, .perms = XS_PERM_READ },
	};
	struct xs_permissions rwperm[1] = { { .id = id, .perms = XS_PERM_NONE } };
	char uuid[37], buf[64];
	int rc = 0;

	snprintf(uuid, sizeof(uuid),
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
		 u[11], u[12], u[13], u[14], u[15]);
	snprintf(g->vm_path, sizeof(g->vm_path), "/vm/%s", uuid);

	rc |= sim_store_mkdir(srv->store, 0, g->vm_path);
	rc |= xs_perms(srv, roperm, 2, "%s", g->vm_path);
	rc |= xs_put(srv, uuid, "%s/uuid", g->vm_path);
	rc |= xs_put(srv, g->cfg.spec.name, "%s/name", g->vm_path);

	rc |= xs_put(srv, "", "/local/domain/%u", id);
	rc |= xs_perms(srv, roperm, 2, "/local/domain/%u", id);
	rc |= xs_put(srv, g->vm_path, "/local/domain/%u/vm", id);
	rc |= xs_put(srv, g->cfg.spec.name, "/local/domain/%u/name", id);
	snprintf(buf, sizeof(buf), "%u", id);
	rc |= xs_put(srv, buf, "/local/domain/%u/domid", id);
	snprintf(buf, sizeof(buf), "%" PRIu64, g->cfg.spec.max_pages * (SIM_PAGE_SIZE / 1024));
	rc |= xs_put(srv, buf, "/local/domain/%u/memory/static-max", id);
	snprintf(buf, sizeof(buf), "%" PRIu64, g->cfg.spec.nr_pages * (SIM_PAGE_SIZE / 1024));
	rc |= xs_put(srv, buf, "/local/domain/%u/memory/target", id);
	for (uint32_t v = 0; v < g->cfg.spec.vcpus; v++)
		rc |= xs_put(srv, "online", "/local/domain/%u/cpu/%u/availability", id, v);
	rc |= xs_put(srv, "", "/local/domain/%u/device", id);
	rc |= xs_put(srv, "", "/local/domain/%u/control", id);
	rc |= xs_put(srv, "", "/local/domain/%u/control/shutdown", id);
	rc |= xs_perms(srv, rwperm, 1, "/local/domain/%u/control/shutdown", id);
	rc |= xs_put(srv, "", "/local/domain/%u/data", id);
	rc |= xs_perms(srv, rwperm, 1, "/local/domain/%u/data", id);
	/* the patched xl: owned by dom0, readable by the guest, never writable by it */
	if (g->cfg.mem_sharing[0] || g->cfg.mem_sharing_group[0]) {
		rc |= xs_put(srv, "", "/local/domain/%u/memshare", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare", id);
	}
	if (g->cfg.mem_sharing[0]) {
		rc |= xs_put(srv, g->cfg.mem_sharing, "/local/domain/%u/memshare/enabled", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare/enabled", id);
	}
	if (g->cfg.mem_sharing_group[0]) {
		rc |= xs_put(srv, g->cfg.mem_sharing_group, "/local/domain/%u/memshare/group", id);
		rc |= xs_perms(srv, roperm, 2, "/local/domain/%u/memshare/group", id);
	}
	return rc ? -EIO : 0;
}

void srv_dom0_write_nodes(struct sim_server *srv)
{
	char buf[32];
	uint64_t kib = srv->hv_cfg->dom0_pages * (SIM_PAGE_SIZE / 1024);

	xs_put(srv, "", "/local/domain/0");
	xs_put(srv, "Domain-0", "/local/domain/0/name");
	xs_put(srv, "0", "/local/domain/0/domid");
	snprintf(buf, sizeof(buf), "%" PRIu64, kib);
	xs_put(srv, buf, "/local/domain/0/memory/static-max");
	xs_put(srv, buf, "/local/domain/0/memory/target");
	xs_put(srv, "", "/vm");
	xs_put(srv, "", "/tool");
}

/*
 * The guests' balloon drivers (dom0's included): a lower memory/target
 * (KiB) gives frames back to the hypervisor, as Linux's xen-balloon does on
 * its xenstore watch.  This is how a daemon makes memory available when an
 * unshare found none.  Balloons never grow: xensim has no
 * increase_reservation.
 */
void srv_balloon(struct sim_server *srv, uint32_t domid)
{
	char path[64], *val = NULL, *end;
	size_t len;
	unsigned long long kib;
	struct sim_dominfo d;
	uint64_t target;
	int rc;

	snprintf(path, sizeof(path), "/local/domain/%u/memory/target", domid);
	if (sim_store_read(srv->store, 0, path, &val, &len))
		return;
	errno = 0;
	kib = strtoull(val, &end, 10);
	if (errno || end == val || *end) {
		srv_log("dom%u balloon: ignoring memory/target \"%s\" (not a number of KiB)", domid, val);
		free(val);
		return;
	}
	free(val);
	if (sim_hv_domain_getinfo(srv->hv, domid, 1, &d) != 1 || d.domid != domid)
		return;
	target = kib / (SIM_PAGE_SIZE / 1024);
	if (target >= d.tot_pages) {
		if (target > d.tot_pages)
			srv_log("dom%u balloon: target %llu KiB is above the current %" PRIu64
			      " pages; growing is not simulated", domid, kib, d.tot_pages);
		return;
	}
	rc = sim_hv_decrease_reservation(srv->hv, domid, d.tot_pages - target);
	if (rc < 0)
		srv_log("dom%u balloon: giving back %" PRIu64 " pages failed: %s", domid,
		      d.tot_pages - target, strerror(-rc));
	else
		srv_log("dom%u balloon: gave %" PRIu64 " pages back to the hypervisor", domid,
		      d.tot_pages - target);
}

/* Is path (as caller wrote it) some domain's memory/target?  Which one? */
bool srv_is_memory_target(uint32_t caller, const char *path, uint32_t *domid)
{
	unsigned int id;
	int n = 0;

	if (path[0] != '/') {
		*domid = caller;
		return strcmp(path, "memory/target") == 0;
	}
	if (sscanf(path, "/local/domain/%u/memory/target%n", &id, &n) == 1 && n > 0 &&
	    path[n] == '\0') {
		*domid = id;
		return true;
	}
	return false;
}

struct sim_guest *srv_guest_find(struct sim_server *srv, uint32_t domid)
{
	for (struct sim_guest *g = srv->guests; g; g = g->next)
		if (g->domid == domid)
			return g;
	return NULL;
}

/*
 * Ends a guest: stop its vCPUs, destroy the domain (waking vCPUs asleep in
 * the hypervisor), join them, remove its xenstore nodes as xl does, fire
 * @releaseDomain.  hv_rc gets the hypervisor's answer.
 */
int srv_guest_destroy(struct sim_server *srv, struct sim_guest *g)
{
	char path[64];
	int rc;

	sim_vcpus_stop(g->vcpus);
	sim_vcpus_stop(g->storm);
	rc = sim_hv_domain_destroy(srv->hv, g->domid);
	if (rc && rc != -ESRCH)
		srv_log("dom%u: destroy failed: %s", g->domid, strerror(-rc));
	sim_vcpus_free(g->vcpus);
	sim_vcpus_free(g->storm);
	g->vcpus = NULL;
	g->storm = NULL;
	snprintf(path, sizeof(path), "/local/domain/%u", g->domid);
	sim_store_rm(srv->store, 0, path);
	if (g->vm_path[0])
		sim_store_rm(srv->store, 0, g->vm_path);
	if (!g->released)
		sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_RELEASE);
	for (struct sim_guest **pg = &srv->guests; *pg; pg = &(*pg)->next) {
		if (*pg == g) {
			*pg = g->next;
			break;
		}
	}
	srv_log("dom%u (%s) destroyed", g->domid, g->cfg.spec.name);
	free(g);
	return rc == -ESRCH ? 0 : rc;
}

/* Crashed domains: @releaseDomain, then on_crash (xl's default: destroy). */
void srv_guests_check(struct sim_server *srv)
{
	struct sim_guest *g = srv->guests, *next;

	for (; g; g = next) {
		struct sim_dominfo info;
		int n = sim_hv_domain_getinfo(srv->hv, g->domid, 1, &info);
		bool gone = n != 1 || info.domid != g->domid;

		next = g->next;
		if (!gone && !(info.flags & (SIM_DOMF_SHUTDOWN | SIM_DOMF_CRASHED | SIM_DOMF_DYING)))
			continue;
		if (!gone && g->cfg.on_crash == SIM_ON_CRASH_PRESERVE) {
			if (!g->released) {
				srv_log("dom%u (%s) crashed; preserved (on_crash=\"preserve\")",
				      g->domid, g->cfg.spec.name);
				sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_RELEASE);
				g->released = true;
			}
			continue;
		}
		srv_log("dom%u (%s) %s; destroying it (on_crash=\"destroy\")", g->domid,
		      g->cfg.spec.name, gone ? "disappeared" : "crashed");
		srv_guest_destroy(srv, g);
	}
}

/*
 * Loading a guest's memory.  Images and cores name guest-physical gfns;
 * a generated profile numbers RAM pages (indexed), which the guest's
 * layout places.  A core lists every page the dumped guest had: the RAM
 * gfns it does not list are given back afterwards (seen), so its holes --
 * ballooned pages -- stay holes, and a page of it in a hole of the layout
 * is an error (a core of another kind of guest).  A raw image holds all of
 * guest-physical memory as pmemsave reads it, the VGA RAM of the window
 * an HVM guest leaves as a hole included: pages in holes are left out
 * (and counted in the host's log).
 */
struct load_ctx {
	struct sim_hv *hv;
	uint32_t domid;
	const struct sim_ram_layout *ram;
	bool indexed;
	uint64_t *seen;              /* cores: bit per gfn listed */
	uint64_t dropped;            /* images: data pages in holes, not RAM */
	uint64_t first_dropped;
	char why[160];               /* a core's page the layout has no room for */
};

/* The domain starts zero-filled, so zero pages need no write. */
static int load_sink(void *arg, uint64_t gfn, const void *page)
{
	static const uint8_t zero[SIM_PAGE_SIZE];
	struct load_ctx *l = arg;
	bool is_zero = memcmp(page, zero, SIM_PAGE_SIZE) == 0;

	if (l->indexed) {
		gfn = sim_ram_layout_gfn(l->ram, gfn);
	} else if (!sim_ram_layout_has(l->ram, gfn)) {
		if (is_zero)
			return 0;   /* a hole reads as zeros: nothing is lost */
		if (!l->seen) {
			/*
			 * A raw image is guest-physical memory as QEMU's pmemsave
			 * reads it, VGA RAM and MMIO included: not the guest's RAM.
			 */
			if (!l->dropped++)
				l->first_dropped = gfn;
			return 0;
		}
		/* a core lists populated pages only: this one is not the guest's */
		snprintf(l->why, sizeof(l->why), "gfn %#" PRIx64 " holds data but is a hole of "
			 "the guest's layout (VGA window, MMIO hole or beyond its memory)", gfn);
		return -EINVAL;
	}
	if (l->seen)
		l->seen[gfn / 64] |= 1ULL << (gfn % 64);
	if (is_zero)
		return 0;
	return sim_hv_guest_write(l->hv, l->domid, SIM_HV_LOADER_VCPU, gfn, 0, page,
				  SIM_PAGE_SIZE);
}

/* The guest's memory from its content keys; err gets a reason. */
static int guest_load(struct sim_server *srv, struct sim_guest *g,
		      const struct sim_ram_layout *ram, char *err, size_t errlen)
{
	uint64_t span = sim_ram_layout_end(ram), pages = sim_ram_layout_pages(ram);
	struct load_ctx lc = { .hv = srv->hv, .domid = g->domid, .ram = ram };
	int rc = 0;

	err[0] = '\0';
	switch (g->cfg.content) {
	case SIM_CONTENT_IMAGE:
		rc = sim_guest_load_image(g->cfg.content_path, span, load_sink, &lc, err, errlen);
		break;
	case SIM_CONTENT_CORE:
		lc.seen = calloc((span + 63) / 64, sizeof(*lc.seen));
		if (!lc.seen)
			return -ENOMEM;
		rc = sim_guest_load_core(g->cfg.content_path, span, load_sink, &lc, err, errlen);
		for (unsigned int i = 0; !rc && i < ram->nr; i++)
			for (uint64_t gfn = ram->r[i].first; !rc && gfn < ram->r[i].end; gfn++)
				if (!(lc.seen[gfn / 64] >> (gfn % 64) & 1))
					rc = sim_hv_remove_page(srv->hv, g->domid, gfn);
		free(lc.seen);
		break;
	case SIM_CONTENT_PROFILE:
		lc.indexed = true;
		rc = sim_guest_gen_profile(&g->cfg.profile, g->cfg.os_dir, g->cfg.seed, pages,
					   load_sink, &lc, err, errlen);
		break;
	case SIM_CONTENT_GENERATED:   /* sim_generated: keys only (genmem.h) */
		rc = sim_genmem_load(srv->hv, g->domid, &g->cfg.profile, g->cfg.seed, ram,
				     err, errlen);
		break;
	default:
		break;
	}
	if (rc && lc.why[0])
		snprintf(err, errlen, "%.600s: %s", g->cfg.content_path, lc.why);
	if (!rc && lc.dropped)
		srv_log("dom%u (%s): %" PRIu64 " image pages with data lie in holes of its layout "
			"(the first at gfn %#" PRIx64 "): not guest RAM, left out", g->domid,
			g->cfg.spec.name, lc.dropped, lc.first_dropped);
	return rc;
}

__attribute__((format(printf, 3, 4)))
static int cli_error(char *msg, size_t msglen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return 0;
}

int srv_guest_create(struct sim_server *srv, const char *filename, const char *basedir,
			const char *data, size_t data_len, const char *const *ov,
			unsigned int nr_ov, char *msg, size_t msglen)
{
	struct sim_guest *g = calloc(1, sizeof(*g));
	struct sim_dominfo infos[64];
	struct timespec t0, t1;
	struct sim_ram_layout ram;
	char err[SIM_XLCFG_ERR_MAX];
	uint32_t first = 0;
	int rc, n;

	if (!g)
		return -ENOMEM;
	rc = sim_xlcfg_parse(filename, data, data_len, ov, nr_ov, basedir, &g->cfg, msg, msglen);
	if (rc)
		goto fail;
	/* names are unique, as xl insists */
	while ((n = sim_hv_domain_getinfo(srv->hv, first, 64, infos)) > 0) {
		for (int i = 0; i < n; i++) {
			if (strcmp(infos[i].name, g->cfg.spec.name) == 0) {
				rc = -EEXIST;
				cli_error(msg, msglen, "domain with name \"%s\" already exists (id %u)",
					  g->cfg.spec.name, infos[i].domid);
				goto fail;
			}
		}
		first = infos[n - 1].domid + 1;
	}
	if (!g->cfg.uuid_given && getrandom(g->cfg.spec.uuid, 16, 0) != 16) {
		rc = -errno;
		cli_error(msg, msglen, "cannot draw a uuid: %s", strerror(errno));
		goto fail;
	}
	if (!g->cfg.uuid_given) {
		g->cfg.spec.uuid[6] = (g->cfg.spec.uuid[6] & 0x0f) | 0x40;  /* RFC 4122 v4 */
		g->cfg.spec.uuid[8] = (g->cfg.spec.uuid[8] & 0x3f) | 0x80;
	}
	rc = sim_hv_domain_create(srv->hv, &g->cfg.spec, &g->domid);
	if (rc) {
		cli_error(msg, msglen, "%s: creating domain \"%s\" (%" PRIu64 " MiB) failed: %s",
			  filename, g->cfg.spec.name, g->cfg.spec.nr_pages / 256, strerror(-rc));
		goto fail;
	}

	clock_gettime(CLOCK_MONOTONIC, &t0);
	sim_ram_layout(g->cfg.spec.type, g->cfg.spec.nr_pages, &ram);
	rc = guest_load(srv, g, &ram, err, sizeof(err));
	if (rc) {
		cli_error(msg, msglen, "%s: loading memory of \"%s\": %s", filename,
			  g->cfg.spec.name, err[0] ? err : strerror(-rc));
		sim_hv_domain_destroy(srv->hv, g->domid);
		goto fail;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	rc = guest_write_nodes(srv, g);
	if (rc) {
		char path[64];

		cli_error(msg, msglen, "writing the xenstore nodes of \"%s\" failed", g->cfg.spec.name);
		snprintf(path, sizeof(path), "/local/domain/%u", g->domid);
		sim_store_rm(srv->store, 0, path);
		sim_store_rm(srv->store, 0, g->vm_path);
		sim_hv_domain_destroy(srv->hv, g->domid);
		goto fail;
	}
	struct sim_vcpu_params vp = {
		.domid = g->domid, .nr_vcpus = g->cfg.spec.vcpus, .rate = g->cfg.write_rate,
		.working_set = g->cfg.working_set, .nr_pages = sim_ram_layout_pages(&ram),
		.ram = ram, .seed = g->cfg.seed, .write_aim = g->cfg.write_aim,
	};
	rc = sim_vcpus_start(srv->hv, &vp, &g->vcpus);
	if (rc) {
		cli_error(msg, msglen, "starting the vCPUs of \"%s\": %s", g->cfg.spec.name,
			  strerror(-rc));
		g->next = srv->guests;
		srv->guests = g;
		srv_guest_destroy(srv, g);
		return rc;
	}
	g->next = srv->guests;
	srv->guests = g;
	sim_store_fire_special(srv->store, SIM_STORE_SPECIAL_INTRODUCE);
	srv_log("dom%u (%s) created from %s: %" PRIu64 " MiB, memory loaded in %.2f s, %u vCPUs writing %.0f pages/s",
	      g->domid, g->cfg.spec.name, filename, g->cfg.spec.nr_pages / 256,
	      (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
	      g->cfg.spec.vcpus, g->cfg.write_rate);
	return (int)g->domid;
fail:
	free(g);
	return rc;
}

/*
 * `xensim storm`: the vCPUs of g rewrite permille/1000 of the gfns that
 * are shared now (a seeded draw per gfn), at once.  One storm at a time
 * per guest; the last one's counts stay until the next.
 */
long srv_guest_storm(struct sim_server *srv, struct sim_guest *g, uint32_t permille,
		     char *msg, size_t msglen)
{
	uint64_t *gfns, n = 0, rng;
	long nr;
	int rc;

	if (sim_vcpus_running(g->storm)) {
		cli_error(msg, msglen, "\"%s\": its last storm is still writing", g->cfg.spec.name);
		return -EBUSY;
	}
	sim_vcpus_free(g->storm);
	g->storm = NULL;
	nr = sim_hv_shared_gfns(srv->hv, g->domid, &gfns);
	if (nr < 0) {
		cli_error(msg, msglen, "\"%s\": listing its shared gfns: %s", g->cfg.spec.name,
			  strerror((int)-nr));
		return nr;
	}
	rng = g->cfg.seed ^ 0x53544f524dULL;
	for (long i = 0; i < nr; i++) {
		uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);

		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		if ((z ^ (z >> 31)) % 1000 < permille)
			gfns[n++] = gfns[i];
	}
	struct sim_vcpu_params vp = {
		.domid = g->domid, .nr_vcpus = g->cfg.spec.vcpus, .seed = g->cfg.seed,
	};
	rc = sim_vcpus_storm(srv->hv, &vp, gfns, n, &g->storm);
	if (rc) {
		cli_error(msg, msglen, "\"%s\": starting the storm: %s", g->cfg.spec.name,
			  strerror(-rc));
		return rc;
	}
	srv_log("dom%u (%s): storm of %" PRIu64 " writes over %ld shared gfns", g->domid,
		g->cfg.spec.name, n, nr);
	return (long)n;
}
