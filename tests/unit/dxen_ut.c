/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dxen_ut.c - unit tests of the daemon's Xen boundary (dom0-daemon/xen.c)
 * without Xen.
 *
 * This file is libxenctrl for the test: it defines the few xc_* functions
 * xen.c calls, answering from a scripted domain table (the way
 * xc_domain_getinfolist answers: the domains from a domid upwards, in
 * order, at most as many as asked) and failing on demand with a chosen
 * errno.  The tests check what the rest of the daemon relies on: -1 and
 * errno become -errno (never 0, never -1), the full list is read across
 * batches, a domain that is gone is -ESRCH even though Xen answers with the
 * next one, and Xen's fields arrive unchanged.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>
#include <xenctrl.h>

#include "dom0-daemon/xen.h"
#include "ut_common.h"

/* ---- the scripted libxenctrl -------------------------------------------- */

#define MAX_DOMS 1024

static struct {
	xc_domaininfo_t doms[MAX_DOMS];   /* sorted by domid */
	unsigned int nr;
	int open_errno;                   /* xc_interface_open fails with it (-1: errno 0) */
	unsigned int getinfo_calls;
	unsigned int fail_getinfo_at;     /* the Nth call (1-based) fails; 0: never */
	int getinfo_errno;
	long audit_rc;
	int audit_errno;
	long freed, used;                 /* < 0: the call fails with counter_errno */
	int counter_errno;
	int closed;
} fake;

static xc_interface *const FAKE_XCH = (xc_interface *)&fake;

xc_interface *xc_interface_open(xentoollog_logger *logger, xentoollog_logger *dombuild_logger,
				unsigned int open_flags)
{
	(void)logger;
	(void)dombuild_logger;
	(void)open_flags;
	if (fake.open_errno) {
		errno = fake.open_errno < 0 ? 0 : fake.open_errno;
		return NULL;
	}
	return FAKE_XCH;
}

int xc_interface_close(xc_interface *xch)
{
	CU_ASSERT(xch == FAKE_XCH);
	fake.closed++;
	return 0;
}

int xc_memshr_audit(xc_interface *xch)
{
	CU_ASSERT(xch == FAKE_XCH);
	errno = fake.audit_errno;
	return (int)fake.audit_rc;
}

int xc_domain_getinfolist(xc_interface *xch, uint32_t first_domain, unsigned int max_domains,
			  xc_domaininfo_t *info)
{
	unsigned int i, n = 0;

	CU_ASSERT(xch == FAKE_XCH);
	fake.getinfo_calls++;
	if (fake.fail_getinfo_at == fake.getinfo_calls) {
		errno = fake.getinfo_errno;
		return -1;
	}
	for (i = 0; i < fake.nr && n < max_domains; i++)
		if (fake.doms[i].domain >= first_domain)
			info[n++] = fake.doms[i];
	return (int)n;
}

long xc_sharing_freed_pages(xc_interface *xch)
{
	CU_ASSERT(xch == FAKE_XCH);
	if (fake.freed < 0)
		errno = fake.counter_errno;
	return fake.freed;
}

long xc_sharing_used_frames(xc_interface *xch)
{
	CU_ASSERT(xch == FAKE_XCH);
	if (fake.used < 0)
		errno = fake.counter_errno;
	return fake.used;
}

/* nr domains with domids first, first + step, ...; every 7th one dying */
static void script_domains(unsigned int nr, uint32_t first, uint32_t step)
{
	memset(&fake, 0, sizeof(fake));
	for (unsigned int i = 0; i < nr; i++) {
		xc_domaininfo_t *d = &fake.doms[i];

		d->domain = first + i * step;
		d->flags = i % 7 == 3 ? XEN_DOMINF_dying : 0;
		d->tot_pages = 1000 + i;
		memset(d->handle, (int)(i & 0xff), sizeof(d->handle));
		d->handle[15] = (uint8_t)(i >> 8);
	}
	fake.nr = nr;
}

static struct xsd_xen *open_ok(void)
{
	struct xsd_xen *x = NULL;

	CU_ASSERT_FATAL(xsd_xen_open(&x) == 0);
	CU_ASSERT_FATAL(x != NULL);
	return x;
}

/* ---- the tests ---------------------------------------------------------- */

/* A failed open says why as -errno (the daemon's messages tell "not dom0"
 * from "not root" by it), -EIO when libxenctrl left errno 0; no handle. */
static void test_open_errors(void)
{
	struct xsd_xen *x = (struct xsd_xen *)1;

	script_domains(0, 0, 1);
	fake.open_errno = ENOENT;
	CU_ASSERT_EQUAL(xsd_xen_open(&x), -ENOENT);
	CU_ASSERT_PTR_NULL(x);
	fake.open_errno = EACCES;
	CU_ASSERT_EQUAL(xsd_xen_open(&x), -EACCES);
	fake.open_errno = -1;
	CU_ASSERT_EQUAL(xsd_xen_open(&x), -EIO);
	fake.open_errno = 0;
	x = open_ok();
	xsd_xen_close(x);
	CU_ASSERT_EQUAL(fake.closed, 1);
	xsd_xen_close(NULL);
	CU_ASSERT_EQUAL(fake.closed, 1);
}

/* The full list is read in batches of 256 (each starting after the last
 * domid seen) and arrives complete, in order, with each domain's fields. */
static void test_list_batches(void)
{
	unsigned int sizes[] = { 0, 1, 255, 256, 257, 600, 1024 };

	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		struct xsd_xen_dominfo *v = (struct xsd_xen_dominfo *)1;
		struct xsd_xen *x;
		size_t nr = 99;

		script_domains(sizes[s], 0, 3);
		x = open_ok();
		CU_ASSERT_EQUAL_FATAL(xsd_xen_domains(x, &v, &nr), 0);
		CU_ASSERT_EQUAL(nr, sizes[s]);
		CU_ASSERT_EQUAL(fake.getinfo_calls, sizes[s] / 256 + 1);
		for (size_t i = 0; i < nr; i++) {
			CU_ASSERT_EQUAL(v[i].domid, fake.doms[i].domain);
			CU_ASSERT_EQUAL(v[i].dying, i % 7 == 3);
			CU_ASSERT_EQUAL(v[i].tot_pages, 1000 + i);
			CU_ASSERT(memcmp(v[i].handle, fake.doms[i].handle, 16) == 0);
		}
		free(v);
		xsd_xen_close(x);
	}
}

/* A batch that fails is the whole list failing: -errno, nothing returned
 * (a half list would make the daemon drop live domains). */
static void test_list_error(void)
{
	struct xsd_xen_dominfo *v = (struct xsd_xen_dominfo *)1;
	struct xsd_xen *x;
	size_t nr = 99;

	script_domains(600, 1, 1);
	fake.fail_getinfo_at = 2;
	fake.getinfo_errno = EACCES;
	x = open_ok();
	CU_ASSERT_EQUAL(xsd_xen_domains(x, &v, &nr), -EACCES);
	CU_ASSERT_PTR_NULL(v);
	CU_ASSERT_EQUAL(nr, 0);
	fake.getinfo_calls = 0;
	fake.fail_getinfo_at = 1;
	fake.getinfo_errno = 0;
	CU_ASSERT_EQUAL(xsd_xen_domains(x, &v, &nr), -EIO);
	xsd_xen_close(x);
}

/* One domain: Xen answers with the next existing domain when the one asked
 * for is gone, which must read as -ESRCH, not as that other domain. */
static void test_one_domain(void)
{
	struct xsd_xen_dominfo d;
	struct xsd_xen *x;

	script_domains(10, 0, 2);     /* domids 0, 2, 4, ... 18 */
	x = open_ok();
	CU_ASSERT_EQUAL(xsd_xen_domain(x, 4, &d), 0);
	CU_ASSERT_EQUAL(d.domid, 4);
	CU_ASSERT_EQUAL(d.tot_pages, 1002);
	CU_ASSERT_EQUAL(xsd_xen_domain(x, 6, &d), 0);
	CU_ASSERT(d.dying);
	CU_ASSERT_EQUAL(xsd_xen_domain(x, 5, &d), -ESRCH);
	CU_ASSERT_EQUAL(xsd_xen_domain(x, 19, &d), -ESRCH);
	fake.fail_getinfo_at = fake.getinfo_calls + 1;
	fake.getinfo_errno = EPERM;
	CU_ASSERT_EQUAL(xsd_xen_domain(x, 0, &d), -EPERM);
	xsd_xen_close(x);
}

/* The sharing counters arrive as read, or the call says -errno. */
static void test_sharing_counters(void)
{
	uint64_t freed = 7, used = 7;
	struct xsd_xen *x;

	script_domains(1, 0, 1);
	x = open_ok();
	fake.freed = 210000;
	fake.used = 40000;
	CU_ASSERT_EQUAL(xsd_xen_sharing_counters(x, &freed, &used), 0);
	CU_ASSERT_EQUAL(freed, 210000);
	CU_ASSERT_EQUAL(used, 40000);
	fake.used = -1;
	fake.counter_errno = ENOSYS;
	CU_ASSERT_EQUAL(xsd_xen_sharing_counters(x, &freed, &used), -ENOSYS);
	fake.freed = -1;
	fake.counter_errno = 0;
	CU_ASSERT_EQUAL(xsd_xen_sharing_counters(x, &freed, &used), -EIO);
	xsd_xen_close(x);
}

/* The probe refuses only a hypervisor without memory sharing (ENOSYS); a
 * release build's EOPNOTSUPP and a debug build's count are fine. */
static void test_sharing_probe(void)
{
	struct xsd_xen *x;

	script_domains(1, 0, 1);
	x = open_ok();
	fake.audit_rc = -1;
	fake.audit_errno = ENOSYS;
	CU_ASSERT_EQUAL(xsd_xen_sharing_probe(x), -ENOSYS);
	fake.audit_errno = EOPNOTSUPP;
	CU_ASSERT_EQUAL(xsd_xen_sharing_probe(x), 0);
	fake.audit_rc = 3;
	fake.audit_errno = ENOSYS;    /* stale errno after a success means nothing */
	CU_ASSERT_EQUAL(xsd_xen_sharing_probe(x), 0);
	xsd_xen_close(x);
}

UT_MAIN("xen", NULL, NULL,
	UT(test_open_errors),
	UT(test_list_batches),
	UT(test_list_error),
	UT(test_one_domain),
	UT(test_sharing_counters),
	UT(test_sharing_probe))
