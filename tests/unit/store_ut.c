/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * store_ut.c - unit tests of xensim's xenstore model (tools/xensim/store.c):
 * permissions as xenstored enforces them, node creation and removal, and
 * watches including @introduceDomain / @releaseDomain.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "tools/xensim/store.h"
#include "ut_common.h"

#define MAX_EVENTS 64

struct event_log {
	unsigned int n;
	uint64_t conn[MAX_EVENTS];
	char path[MAX_EVENTS][128];
	char token[MAX_EVENTS][32];
};

static struct event_log log_;
static struct sim_store *st;

static void record(void *arg, uint64_t conn, const char *path, const char *token)
{
	struct event_log *l = arg;

	if (l->n >= MAX_EVENTS)
		return;
	l->conn[l->n] = conn;
	snprintf(l->path[l->n], sizeof(l->path[0]), "%s", path);
	snprintf(l->token[l->n], sizeof(l->token[0]), "%s", token);
	l->n++;
}

static bool logged(uint64_t conn, const char *path, const char *token)
{
	for (unsigned int i = 0; i < log_.n; i++)
		if (log_.conn[i] == conn && strcmp(log_.path[i], path) == 0 &&
		    strcmp(log_.token[i], token) == 0)
			return true;
	return false;
}

static void setup(void)
{
	memset(&log_, 0, sizeof(log_));
	CU_ASSERT_FATAL(sim_store_alloc(record, &log_, &st) == 0);
}

static void teardown(void)
{
	sim_store_free(st);
	st = NULL;
}

static int wr(uint32_t dom, const char *path, const char *val)
{
	return sim_store_write(st, dom, path, val, strlen(val));
}

static char *rd(uint32_t dom, const char *path, int *err)
{
	char *v = NULL;
	size_t len;

	*err = sim_store_read(st, dom, path, &v, &len);
	return v;
}

/* Give domain dom a node owned by dom0 that dom may only read, as xl does. */
static void dom0_node_guest_ro(const char *path, const char *val, uint32_t dom)
{
	struct xs_permissions p[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = dom, .perms = XS_PERM_READ },
	};

	CU_ASSERT_FATAL(wr(0, path, val) == 0);
	CU_ASSERT_FATAL(sim_store_set_perms(st, 0, path, p, 2) == 0);
}

/* A value written is read back byte for byte, including embedded NULs. */
static void test_write_read(void)
{
	int err;
	char *v;
	size_t len;

	setup();
	CU_ASSERT(sim_store_write(st, 0, "/a/b", "x\0y", 3) == 0);
	CU_ASSERT(sim_store_read(st, 0, "/a/b", &v, &len) == 0);
	CU_ASSERT(len == 3 && memcmp(v, "x\0y", 3) == 0);
	free(v);
	/* the parent was created empty */
	v = rd(0, "/a", &err);
	CU_ASSERT(err == 0 && v && v[0] == '\0');
	free(v);
	CU_ASSERT(rd(0, "/nope", &err) == NULL && err == -ENOENT);
	teardown();
}

/* Malformed paths are EINVAL as in xenstored's is_valid_nodename(). */
static void test_bad_paths(void)
{
	setup();
	CU_ASSERT(wr(0, "/a//b", "v") == -EINVAL);
	CU_ASSERT(wr(0, "/a/", "v") == -EINVAL);
	CU_ASSERT(wr(0, "/a b", "v") == -EINVAL);
	CU_ASSERT(wr(0, "", "v") == -EINVAL);
	CU_ASSERT(wr(0, "@introduceDomain", "v") == -EINVAL);
	CU_ASSERT(sim_store_rm(st, 0, "/") == -EINVAL);
	teardown();
}

/* A guest can read a node owned by dom0 only when granted, never write it. */
static void test_guest_read_only(void)
{
	int err;
	char *v;

	setup();
	dom0_node_guest_ro("/local/domain/5/memshare/enabled", "on", 5);
	v = rd(5, "/local/domain/5/memshare/enabled", &err);
	CU_ASSERT(err == 0 && v && strcmp(v, "on") == 0);
	free(v);
	/* a guest opting itself in must fail */
	CU_ASSERT(wr(5, "/local/domain/5/memshare/enabled", "off") == -EACCES);
	/* another guest is not in the ACL: the owner's default (none) applies */
	CU_ASSERT(rd(7, "/local/domain/5/memshare/enabled", &err) == NULL && err == -EACCES);
	/* and the value did not change */
	v = rd(0, "/local/domain/5/memshare/enabled", &err);
	CU_ASSERT(err == 0 && v && strcmp(v, "on") == 0);
	free(v);
	teardown();
}

/* A missing node under an unreadable parent answers EACCES, not ENOENT. */
static void test_enoent_leaks_nothing(void)
{
	int err;

	setup();
	dom0_node_guest_ro("/local/domain/5", "", 5);
	CU_ASSERT(rd(5, "/local/domain/5/missing", &err) == NULL && err == -ENOENT);
	CU_ASSERT(rd(6, "/local/domain/5/missing", &err) == NULL && err == -EACCES);
	teardown();
}

/* Nodes a guest creates inherit the parent's ACL but the guest owns them. */
static void test_guest_creates_owns(void)
{
	struct xs_permissions p[4];
	struct xs_permissions dir[2] = {
		{ .id = 5, .perms = XS_PERM_NONE }, { .id = 0, .perms = XS_PERM_READ },
	};

	setup();
	CU_ASSERT_FATAL(wr(0, "/local/domain/5/data", "") == 0);
	CU_ASSERT_FATAL(sim_store_set_perms(st, 0, "/local/domain/5/data", dir, 2) == 0);
	/* relative path: /local/domain/5/data/x */
	CU_ASSERT(wr(5, "data/x", "1") == 0);
	CU_ASSERT(sim_store_get_perms(st, 5, "/local/domain/5/data/x", p, 4) == 2);
	CU_ASSERT(p[0].id == 5);
	/* dom0 creates under it: dom0 does not become owner, perms inherited */
	CU_ASSERT(wr(0, "/local/domain/5/data/y", "1") == 0);
	CU_ASSERT(sim_store_get_perms(st, 0, "/local/domain/5/data/y", p, 4) == 2);
	CU_ASSERT(p[0].id == 5);
	/* guest 6 cannot create there (no write on the nearest ancestor) */
	CU_ASSERT(wr(6, "/local/domain/5/data/z", "1") == -EACCES);
	teardown();
}

/* Only the owner may set perms, and an unprivileged owner may not give a node away. */
static void test_set_perms_rules(void)
{
	struct xs_permissions mine[1] = { { .id = 5, .perms = XS_PERM_READ } };
	struct xs_permissions away[1] = { { .id = 6, .perms = XS_PERM_NONE } };
	struct xs_permissions grant[2] = {
		{ .id = 0, .perms = XS_PERM_NONE }, { .id = 5, .perms = XS_PERM_READ | XS_PERM_WRITE },
	};

	setup();
	dom0_node_guest_ro("/local/domain/5/memshare/enabled", "on", 5);
	CU_ASSERT(sim_store_set_perms(st, 5, "/local/domain/5/memshare/enabled", grant, 2) == -EACCES);
	CU_ASSERT(wr(0, "/local/domain/5/own", "v") == 0);
	CU_ASSERT(sim_store_set_perms(st, 0, "/local/domain/5/own", mine, 1) == 0);
	CU_ASSERT(sim_store_set_perms(st, 5, "/local/domain/5/own", away, 1) == -EPERM);
	CU_ASSERT(sim_store_set_perms(st, 5, "/local/domain/5/own", mine, 1) == 0);
	/* b (both) grants write */
	CU_ASSERT(wr(0, "/shared", "v") == 0);
	CU_ASSERT(sim_store_set_perms(st, 0, "/shared", grant, 2) == 0);
	CU_ASSERT(wr(5, "/shared", "w") == 0);
	teardown();
}

/* rm removes the subtree; rm of a missing child of an existing node is fine. */
static void test_rm(void)
{
	int err;
	char *names;
	size_t len;

	setup();
	CU_ASSERT(wr(0, "/a/b/c", "1") == 0);
	CU_ASSERT(wr(0, "/a/d", "2") == 0);
	CU_ASSERT(sim_store_directory(st, 0, "/a", &names, &len) == 2);
	CU_ASSERT(len == 4 && memcmp(names, "b\0d\0", 4) == 0);
	free(names);
	CU_ASSERT(sim_store_rm(st, 0, "/a/b") == 0);
	CU_ASSERT(rd(0, "/a/b/c", &err) == NULL && err == -ENOENT);
	CU_ASSERT(sim_store_rm(st, 0, "/a/b") == 0);
	CU_ASSERT(sim_store_rm(st, 0, "/x/y") == -ENOENT);
	teardown();
}

/* A watch fires once at registration, then for the node and its children. */
static void test_watch_children(void)
{
	setup();
	CU_ASSERT(sim_store_watch(st, 0, 1, "/local/domain/3", "tok") == 0);
	CU_ASSERT(log_.n == 1 && logged(1, "/local/domain/3", "tok"));
	CU_ASSERT(sim_store_watch(st, 0, 1, "/local/domain/3", "tok") == -EEXIST);
	CU_ASSERT(wr(0, "/local/domain/3/memshare/enabled", "on") == 0);
	CU_ASSERT(logged(1, "/local/domain/3/memshare/enabled", "tok"));
	/* a sibling prefix is not a child */
	log_.n = 0;
	CU_ASSERT(wr(0, "/local/domain/30", "x") == 0);
	CU_ASSERT(log_.n == 0);
	/* rm fires for the removed node's watchers, exact watches on descendants too */
	CU_ASSERT(sim_store_watch(st, 0, 2, "/local/domain/3/memshare/enabled", "t2") == 0);
	log_.n = 0;
	CU_ASSERT(sim_store_rm(st, 0, "/local/domain/3") == 0);
	CU_ASSERT(logged(1, "/local/domain/3", "tok"));
	CU_ASSERT(logged(2, "/local/domain/3/memshare/enabled", "t2"));
	/* unwatch and connection drop */
	CU_ASSERT(sim_store_unwatch(st, 0, 1, "/local/domain/3", "tok") == 0);
	CU_ASSERT(sim_store_unwatch(st, 0, 1, "/local/domain/3", "tok") == -ENOENT);
	sim_store_unwatch_conn(st, 2);
	log_.n = 0;
	CU_ASSERT(wr(0, "/local/domain/3/memshare/enabled", "on") == 0);
	CU_ASSERT(log_.n == 0);
	teardown();
}

/* A guest's watch does not fire for nodes it cannot read; relative watches report relative paths. */
static void test_watch_perms_relative(void)
{
	struct xs_permissions p[1] = { { .id = 0, .perms = XS_PERM_NONE } };

	setup();
	CU_ASSERT(wr(0, "/local/domain/4/secret", "") == 0);
	CU_ASSERT(sim_store_set_perms(st, 0, "/local/domain/4/secret", p, 1) == 0);
	CU_ASSERT(sim_store_set_perms(st, 0, "/local/domain/4", p, 1) == 0);
	CU_ASSERT(sim_store_watch(st, 4, 9, "secret", "rel") == 0);
	CU_ASSERT(logged(9, "secret", "rel"));
	log_.n = 0;
	CU_ASSERT(wr(0, "/local/domain/4/secret", "x") == 0);
	CU_ASSERT(log_.n == 0);
	/* dom0 grants read: now it fires, with the relative path */
	struct xs_permissions r[2] = { { .id = 0, .perms = XS_PERM_NONE }, { .id = 4, .perms = XS_PERM_READ } };
	CU_ASSERT(sim_store_set_perms(st, 0, "/local/domain/4/secret", r, 2) == 0);
	CU_ASSERT(logged(9, "secret", "rel"));
	log_.n = 0;
	CU_ASSERT(wr(0, "/local/domain/4/secret/sub", "x") == 0);
	CU_ASSERT(logged(9, "secret/sub", "rel"));
	teardown();
}

/* @introduceDomain/@releaseDomain fire only for watchers allowed to see them (dom0). */
static void test_special_watches(void)
{
	setup();
	CU_ASSERT(sim_store_watch(st, 0, 1, "@introduceDomain", "i") == 0);
	CU_ASSERT(sim_store_watch(st, 0, 1, "@releaseDomain", "r") == 0);
	CU_ASSERT(sim_store_watch(st, 7, 2, "@releaseDomain", "g") == 0);
	CU_ASSERT(sim_store_watch(st, 0, 1, "@bogus", "b") == -EINVAL);
	log_.n = 0;
	sim_store_fire_special(st, SIM_STORE_SPECIAL_INTRODUCE);
	CU_ASSERT(log_.n == 1 && logged(1, "@introduceDomain", "i"));
	log_.n = 0;
	sim_store_fire_special(st, SIM_STORE_SPECIAL_RELEASE);
	CU_ASSERT(log_.n == 1 && logged(1, "@releaseDomain", "r"));
	/* ordinary writes do not trigger special watches */
	log_.n = 0;
	CU_ASSERT(wr(0, "/x", "1") == 0);
	CU_ASSERT(log_.n == 0);
	teardown();
}

/* Transactions hand out distinct ids and unknown ids are rejected. */
static void test_transactions(void)
{
	uint32_t a, b;

	setup();
	CU_ASSERT(sim_store_transaction_start(st, &a) == 0);
	CU_ASSERT(sim_store_transaction_start(st, &b) == 0);
	CU_ASSERT(a != b && a != 0 && b != 0);
	CU_ASSERT(sim_store_transaction_end(st, a, 0) == 0);
	CU_ASSERT(sim_store_transaction_end(st, 999, 0) == -ENOENT);
	teardown();
}

UT_MAIN("store", NULL, NULL,
	UT(test_write_read),
	UT(test_bad_paths),
	UT(test_guest_read_only),
	UT(test_enoent_leaks_nothing),
	UT(test_guest_creates_owns),
	UT(test_set_perms_rules),
	UT(test_rm),
	UT(test_watch_children),
	UT(test_watch_perms_relative),
	UT(test_special_watches),
	UT(test_transactions))
