/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * balloon.c - lowering dom0's memory target on the engine's request (see
 * balloon.h).
 *
 * Idempotence is the point: the engine repeats its request on every reserve
 * check until the memory shows up, and the balloon driver takes time.  The
 * target is therefore computed from what dom0 holds NOW (tot_pages) minus
 * what is needed, and written only when it is below the target already
 * set; a repeated request for the same pages changes nothing, so dom0 is
 * never shrunk twice for one shortage.
 */
#include "balloon.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "logsink.h"

#define KIB_PER_PAGE (XSD_PAGE_SIZE / 1024)
#define PAGES_PER_MIB (1024 / KIB_PER_PAGE)

uint64_t xsd_balloon_target_kib(uint64_t tot_pages, uint64_t need, uint64_t floor_pages,
				uint64_t cur_target_kib, bool *floored)
{
	uint64_t want = tot_pages > need ? tot_pages - need : 0;

	*floored = false;
	if (want < floor_pages) {
		*floored = true;
		want = floor_pages;
	}
	want *= KIB_PER_PAGE;
	return want < cur_target_kib ? want : 0;
}

void xsd_balloon_need(void *arg, uint64_t pages)
{
	struct xsd_balloon *b = arg;
	struct xsd_xen_dominfo info;
	char *val, *end, buf[32];
	uint64_t cur, target;
	unsigned int len;
	bool floored;
	double t = xsd_now_s();
	int rc;

	if (!pages || t - b->last_s < 1.0)
		return;
	b->last_s = t;
	if (!b->cfg->dom0_balloon) {
		if (!b->warned_off)
			xsd_warn("balloon: the engine needs %" PRIu64 " free pages, but dom0_balloon = off: "
				 "free memory by hand (xl mem-set 0 ...)", pages);
		b->warned_off = true;
		return;
	}
	rc = xsd_xen_domain(b->xen, 0, &info);
	if (rc) {
		xsd_warn("balloon: cannot read dom0's memory (%s)", strerror(-rc));
		return;
	}
	val = xs_read(b->xs, XBT_NULL, "/local/domain/0/memory/target", &len);
	if (!val && errno == ENOENT) {
		/*
		 * No target yet: libxl writes dom0's only when first asked
		 * (xl mem-set, libxl_get_memory_target), and a host booted
		 * with dom0_mem= may never have been.  Start, as libxl does,
		 * from what dom0 holds now; the balloon driver's watch fires
		 * when the node appears.
		 */
		if (!b->warned_no_target)
			xsd_info("balloon: no /local/domain/0/memory/target yet: starting "
				 "from dom0's current %" PRIu64 " MiB", info.tot_pages / PAGES_PER_MIB);
		b->warned_no_target = true;
		cur = info.tot_pages * KIB_PER_PAGE;
	} else if (!val) {
		xsd_warn("balloon: cannot read /local/domain/0/memory/target (%s)", strerror(errno));
		return;
	} else {
		errno = 0;
		cur = strtoull(val, &end, 10);
		if (errno || end == val || *end) {
			xsd_warn("balloon: /local/domain/0/memory/target is not a number");
			free(val);
			return;
		}
		free(val);
	}
	target = xsd_balloon_target_kib(info.tot_pages, pages, b->cfg->dom0_min_pages, cur, &floored);
	if (floored && !b->warned_floor)
		xsd_warn("balloon: the engine needs %" PRIu64 " pages but dom0 can give only %" PRIu64
			 " before dom0_min_memory (%" PRIu64 " MiB); guests may wait for memory",
			 pages, info.tot_pages > b->cfg->dom0_min_pages ?
			 info.tot_pages - b->cfg->dom0_min_pages : 0,
			 b->cfg->dom0_min_pages / PAGES_PER_MIB);
	b->warned_floor = floored;
	if (!target)
		return;
	snprintf(buf, sizeof(buf), "%" PRIu64, target);
	if (!xs_write(b->xs, XBT_NULL, "/local/domain/0/memory/target", buf, (unsigned int)strlen(buf))) {
		xsd_warn("balloon: writing /local/domain/0/memory/target: %s", strerror(errno));
		return;
	}
	b->pages_requested += (cur - target) / KIB_PER_PAGE;
	xsd_notice("balloon: %" PRIu64 " pages needed (free memory below the reserve or a guest "
		   "waiting on an unshare): dom0 memory/target %" PRIu64 " -> %" PRIu64 " MiB",
		   pages, cur / 1024, target / 1024);
}
