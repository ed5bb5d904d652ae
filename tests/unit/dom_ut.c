/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * dom_ut - unit tests of libshare/dom.c: the domain table, the 32-bit ref
 * space, groups and their salts, and the index entries that leave with a
 * domain or its pages.  No hypervisor is involved; each test ends with
 * the audit walk over the table.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "core_fixture.h"
#include "ut_common.h"

static struct shr_fp_key key;

static void key_init(uint8_t seed)
{
	uint8_t secret[SHR_FP_SECRET_SIZE];

	for (unsigned int i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)(i * 13 + seed);
	shr_fp_key_from_secret(&key, secret);
}

static struct shr_dom *insert(struct shr_doms *t, uint32_t domid, uint64_t nr)
{
	struct shr_dom *d = NULL;

	UT_ASSERT_EQ_FATAL(shr_dom_insert(t, domid, "t", nr, &d), 0);
	UT_ASSERT_EQ_FATAL(shr_dom_set_group(t, d, "g"), 0);
	return d;
}

static enum shr_pstate state_of(const struct shr_dom *d, uint32_t gfn)
{
	return shr_ps_state(d->pages.pstate[gfn]);
}

/* What merge.c does to index a page as unique / as a frame's source. */
static void index_page(struct shr_doms *t, struct shr_dom *d, uint32_t gfn, uint64_t key64,
		       enum shr_side side)
{
	d->pages.key_lo[gfn] = (uint32_t)key64;
	UT_ASSERT_EQ_FATAL(shr_index_insert(&t->index, side, key64, d->ref_base + gfn,
					    side == SHR_UNSTABLE ? 0 : 2), 0);
	shr_pages_set(&d->pages, gfn, side == SHR_UNSTABLE ? SHR_PS_UNIQUE : SHR_PS_SOURCE);
}

/* Proves the ref space: each domain owns a contiguous range, a new one
 * takes the lowest free range that fits (a gap left by a deleted domain
 * is reused), ranges stay sorted and disjoint, and a ref resolves to its
 * domain and gfn (and to nothing outside every range). */
static void test_ref_ranges(void)
{
	struct shr_dom *a, *b, *c, *d, *e;
	struct shr_doms t;
	uint32_t gfn = 0;

	key_init(1);
	shr_doms_init(&t, &key);
	a = insert(&t, 1, 10);
	b = insert(&t, 2, 20);
	c = insert(&t, 3, 30);
	UT_ASSERT_EQ(a->ref_base, 0);
	UT_ASSERT_EQ(b->ref_base, 10);
	UT_ASSERT_EQ(c->ref_base, 30);
	CU_ASSERT_PTR_EQUAL(shr_dom_of_ref(&t, 35, &gfn), c);
	UT_ASSERT_EQ(gfn, 5);
	CU_ASSERT_PTR_EQUAL(shr_dom_of_ref(&t, 9, &gfn), a);
	UT_ASSERT_EQ(gfn, 9);
	CU_ASSERT_PTR_NULL(shr_dom_of_ref(&t, 60, &gfn));
	shr_dom_delete(&t, b);
	CU_ASSERT_PTR_NULL(shr_dom_of_ref(&t, 15, &gfn));
	d = insert(&t, 4, 5);
	UT_ASSERT_EQ(d->ref_base, 10);
	e = insert(&t, 5, 16);                    /* no room left in the gap */
	UT_ASSERT_EQ(e->ref_base, 60);
	e = insert(&t, 6, 15);                    /* fits the rest of the gap */
	UT_ASSERT_EQ(e->ref_base, 15);
	UT_ASSERT_EQ(t.nr, 5);
	for (unsigned int i = 1; i < t.nr; i++)
		CU_ASSERT_TRUE(t.v[i - 1]->ref_base + t.v[i - 1]->pages.nr <= t.v[i]->ref_base);
	CU_ASSERT_PTR_EQUAL(shr_dom_find(&t, 6), e);
	CU_ASSERT_PTR_NULL(shr_dom_find(&t, 2));
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_doms_fini(&t);
}

/* Proves a domain of no gfn or of more gfns than refs exist is refused
 * (-ERANGE) before anything is allocated, and the table is unchanged. */
static void test_insert_out_of_range(void)
{
	struct shr_dom *d = NULL;
	struct shr_doms t;

	key_init(1);
	shr_doms_init(&t, &key);
	UT_ASSERT_EQ(shr_dom_insert(&t, 1, "t", 0, &d), -ERANGE);
	UT_ASSERT_EQ(shr_dom_insert(&t, 1, "t", (uint64_t)SHR_REF_MAX + 1, &d), -ERANGE);
	UT_ASSERT_EQ(t.nr, 0);
	shr_doms_fini(&t);
}

/* Proves the groups: "" is "default"; one name, one group and one salt;
 * another name, another salt; the salt depends on the secret (a guest who
 * knows the group name cannot predict it); a domain's zero_lo follows its
 * group's salt; the 257th group is refused. */
static void test_groups(void)
{
	struct shr_dom *a, *b, *c;
	struct shr_doms t, u;
	char name[16];

	key_init(1);
	shr_doms_init(&t, &key);
	a = insert(&t, 1, 4);
	b = insert(&t, 2, 4);
	c = insert(&t, 3, 4);
	UT_ASSERT_EQ(shr_dom_set_group(&t, a, ""), 0);
	CU_ASSERT_STRING_EQUAL(t.groups[a->group], "default");
	UT_ASSERT_EQ(shr_dom_set_group(&t, b, "default"), 0);
	UT_ASSERT_EQ(a->group, b->group);
	UT_ASSERT_EQ(a->salt, b->salt);
	UT_ASSERT_EQ(shr_dom_set_group(&t, c, "red"), 0);
	CU_ASSERT_NOT_EQUAL(c->salt, a->salt);
	UT_ASSERT_EQ(c->pages.zero_lo, (uint32_t)(key.zero_fp ^ c->salt));
	UT_ASSERT_EQ(a->pages.zero_lo, (uint32_t)(key.zero_fp ^ a->salt));

	{
		struct shr_fp_key key1 = key;
		struct shr_dom *d;

		key_init(2);
		shr_doms_init(&u, &key);
		d = insert(&u, 9, 4);
		UT_ASSERT_EQ(shr_dom_set_group(&u, d, "red"), 0);
		CU_ASSERT_NOT_EQUAL(d->salt, c->salt);
		shr_doms_fini(&u);
		key = key1;
	}

	for (unsigned int g = t.nr_groups; g < SHR_MAX_GROUPS; g++) {
		snprintf(name, sizeof(name), "g%u", g);
		UT_ASSERT_EQ_FATAL(shr_dom_set_group(&t, c, name), 0);
	}
	UT_ASSERT_EQ(t.nr_groups, SHR_MAX_GROUPS);
	UT_ASSERT_EQ(shr_dom_set_group(&t, c, "one too many"), -ENOSPC);
	UT_ASSERT_EQ(shr_dom_set_group(&t, c, "red"), 0);      /* known: still fine */
	shr_doms_fini(&t);
}

/* Proves a domain's index entries leave with it (shr_dom_delete) or with
 * its pages (shr_dom_reset_pages, the hypervisor's shares staying), and
 * the other domains' entries stay reachable after the rebuild that
 * removes a range (the index asks this table for their key_lo). */
static void test_entries_leave_with_domain(void)
{
	struct shr_dom *a, *b, *c;
	struct shr_doms t;

	key_init(1);
	shr_doms_init(&t, &key);
	a = insert(&t, 1, 100);
	b = insert(&t, 2, 100);
	c = insert(&t, 3, 100);
	for (uint32_t g = 0; g < 100; g++) {
		index_page(&t, a, g, 0x1000000000ull * g + g + 1, SHR_UNSTABLE);
		index_page(&t, b, g, 0x2000000000ull * g + g + 7, g % 2 ? SHR_STABLE : SHR_UNSTABLE);
		index_page(&t, c, g, 0x3000000000ull * g + g + 9, SHR_UNSTABLE);
	}
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_dom_reset_pages(&t, b);
	UT_ASSERT_EQ(b->pages.n_unique + b->pages.n_source, 0);
	UT_ASSERT_EQ(shr_index_count(&t.index, SHR_STABLE), 0);
	UT_ASSERT_EQ(shr_index_count(&t.index, SHR_UNSTABLE), 200);
	UT_ASSERT_EQ(state_of(b, 3), SHR_PS_NEW);
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_dom_delete(&t, a);
	UT_ASSERT_EQ(shr_index_count(&t.index, SHR_UNSTABLE), 100);
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	for (uint32_t g = 0; g < 100; g++)
		CU_ASSERT_TRUE(shr_index_find(&t.index, SHR_UNSTABLE, 0x3000000000ull * g + g + 9,
					      SHR_REF_NONE, 0) >= 0);
	shr_doms_fini(&t);
}

/* Proves shr_page_forget drops whatever entry the page has (unstable,
 * stable, or full) and sets the new state, counts in step. */
static void test_page_forget(void)
{
	struct shr_doms t;
	struct shr_dom *a;

	key_init(1);
	shr_doms_init(&t, &key);
	a = insert(&t, 1, 8);
	index_page(&t, a, 0, 0xabc0000000001ull, SHR_UNSTABLE);
	index_page(&t, a, 1, 0xabc0000000002ull, SHR_STABLE);
	a->pages.key_lo[2] = 3;
	UT_ASSERT_EQ(shr_index_insert(&t.index, SHR_FULL, 0xabc0000000003ull, a->ref_base + 2,
				      256), 0);
	shr_pages_set(&a->pages, 2, SHR_PS_SOURCE);
	shr_pages_set(&a->pages, 3, SHR_PS_SHARED);
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_page_forget(&t, a, 0, SHR_PS_NEW);
	shr_page_forget(&t, a, 1, SHR_PS_WATCH);
	shr_page_forget(&t, a, 2, SHR_PS_NOSHARE);
	shr_page_forget(&t, a, 3, SHR_PS_NEW);
	for (int side = 0; side < SHR_NR_SIDES; side++)
		UT_ASSERT_EQ(shr_index_count(&t.index, (enum shr_side)side), 0);
	UT_ASSERT_EQ(state_of(a, 1), SHR_PS_WATCH);
	UT_ASSERT_EQ(state_of(a, 2), SHR_PS_NOSHARE);
	UT_ASSERT_EQ(a->pages.n_unique + a->pages.n_source + a->pages.n_shared, 0);
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_doms_fini(&t);
}

/* Proves a domain that grew is rebuilt at its new size under a new ref
 * range (the lowest that fits, its old one freed first), its pages and
 * entries forgotten, its group's zero_lo kept; a size that did not grow
 * changes nothing. */
static void test_regrow(void)
{
	struct shr_dom *a, *b;
	struct shr_doms t;
	uint32_t zero_lo;

	key_init(1);
	shr_doms_init(&t, &key);
	a = insert(&t, 1, 10);
	b = insert(&t, 2, 10);
	index_page(&t, a, 4, 0x77ull << 32 | 4, SHR_UNSTABLE);
	zero_lo = a->pages.zero_lo;
	UT_ASSERT_EQ(shr_dom_regrow(&t, a, 10), 0);
	UT_ASSERT_EQ(a->pages.nr, 10);
	UT_ASSERT_EQ(a->pages.n_unique, 1);
	UT_ASSERT_EQ(shr_dom_regrow(&t, a, 25), 0);
	UT_ASSERT_EQ(a->pages.nr, 25);
	UT_ASSERT_EQ(a->ref_base, 20);            /* [0, 10) is too small now */
	UT_ASSERT_EQ(a->pages.n_unique, 0);
	UT_ASSERT_EQ(shr_index_count(&t.index, SHR_UNSTABLE), 0);
	UT_ASSERT_EQ(a->pages.zero_lo, zero_lo);
	CU_ASSERT_PTR_EQUAL(t.v[0], b);           /* still sorted */
	CU_ASSERT_PTR_EQUAL(shr_dom_of_ref(&t, 44, &(uint32_t){ 0 }), a);
	UT_ASSERT_EQ(shr_audit_walk(&t, 0, 0), 0);
	shr_doms_fini(&t);
}

/* Proves a domain found dying/gone or refused by the hypervisor is no
 * longer scanned nor merged, and each is said once however often it is
 * found; an evicting domain is scanned (its sweep) but never merged. */
static void test_gone_refused_evicting(void)
{
	struct shr_doms t;
	struct shr_dom *a, *b, *c;

	key_init(1);
	shr_doms_init(&t, &key);
	log_capture();
	a = insert(&t, 1, 4);
	b = insert(&t, 2, 4);
	c = insert(&t, 3, 4);
	a->policy.mode = b->policy.mode = c->policy.mode = SHR_MODE_ON;
	CU_ASSERT_TRUE(shr_dom_scannable(a) && shr_dom_mergeable(a));
	shr_dom_mark_gone(a, -EBUSY, "scan");
	shr_dom_mark_gone(a, -ESRCH, "map");
	shr_dom_mark_refused(b, -EXDEV, "share");
	shr_dom_mark_refused(b, -EXDEV, "share");
	c->evicting = true;
	CU_ASSERT_FALSE(shr_dom_scannable(a) || shr_dom_mergeable(a));
	CU_ASSERT_FALSE(shr_dom_scannable(b) || shr_dom_mergeable(b));
	CU_ASSERT_TRUE(shr_dom_scannable(c));
	CU_ASSERT_FALSE(shr_dom_mergeable(c));
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "d1 scan: domain dying"), 1);
	UT_ASSERT_EQ(log_count(SHR_LOG_INFO, "d1 map"), 0);
	UT_ASSERT_EQ(log_count(SHR_LOG_WARNING, "d2 share: the hypervisor refuses sharing for "
			       "this domain (EXDEV: passthrough device)"), 1);
	c->policy.mode = SHR_MODE_OFF;
	c->evicting = false;
	CU_ASSERT_FALSE(shr_dom_scannable(c));
	shr_doms_fini(&t);
}

UT_MAIN("dom", NULL, NULL,
	UT(test_ref_ranges),
	UT(test_insert_out_of_range),
	UT(test_groups),
	UT(test_entries_leave_with_domain),
	UT(test_page_forget),
	UT(test_regrow),
	UT(test_gone_refused_evicting))
