/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy_ut.c - unit tests of dom0-daemon/policy.c: who may opt a domain
 * in (xenstore permissions), which values are accepted, and how config
 * rules and xenstore nodes combine.
 */
#include <CUnit/CUnit.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dom0-daemon/config.h"
#include "dom0-daemon/policy.h"
#include "ut_common.h"

#define GUEST 7

/* dom0 owns, the guest may read: what xl writes under /local/domain/<domid>. */
static const struct xs_permissions toolstack_perms[] = {
	{ .id = 0, .perms = XS_PERM_NONE }, { .id = GUEST, .perms = XS_PERM_READ },
};
static const struct xs_permissions guest_owned[] = {
	{ .id = GUEST, .perms = XS_PERM_NONE }, { .id = 0, .perms = XS_PERM_READ },
};
static const struct xs_permissions guest_granted_write[] = {
	{ .id = 0, .perms = XS_PERM_NONE }, { .id = GUEST, .perms = XS_PERM_READ | XS_PERM_WRITE },
};
static const struct xs_permissions world_writable[] = {
	{ .id = 0, .perms = XS_PERM_WRITE },
};
static const struct xs_permissions other_domain_write[] = {
	{ .id = 0, .perms = XS_PERM_READ }, { .id = GUEST, .perms = XS_PERM_READ },
	{ .id = 12, .perms = XS_PERM_WRITE },
};
static const struct xs_permissions ignored_entry[] = {
	{ .id = 0, .perms = XS_PERM_NONE }, { .id = GUEST, .perms = XS_PERM_WRITE | XS_PERM_IGNORE },
};

static struct xsd_node node(const char *v, const struct xs_permissions *p, unsigned int n)
{
	return (struct xsd_node){ .present = true, .value = v, .len = strlen(v), .perms = p, .nr_perms = n };
}
#define TRUSTED(v) node(v, toolstack_perms, 2)

static struct xsd_config cfg;

static int setup(void)
{
	char err[512];
	static const char text[] =
		"default_group = common\n"
		"domain web-* = on group web\n"
		"domain web-db = zero\n"        /* shadowed by web-* : first match wins */
		"domain db? = zero\n"
		"domain legacy = off\n";

	return xsd_config_parse_text("t.conf", text, sizeof(text) - 1, &cfg, err, sizeof(err)) ? -1 : 0;
}

static int teardown(void)
{
	xsd_config_release(&cfg);
	return 0;
}

/* Proves the permission check follows xenstored's rules: the owner can
 * write, explicit entries grant their domain, entry 0 grants everybody
 * else; ignored entries grant nothing; no permissions means untrusted. */
static void test_perms(void)
{
	uint32_t who;

	CU_ASSERT_FALSE(xsd_perms_untrusted(toolstack_perms, 2, &who));
	CU_ASSERT_TRUE(xsd_perms_untrusted(guest_owned, 2, &who));
	CU_ASSERT_EQUAL(who, GUEST);
	CU_ASSERT_TRUE(xsd_perms_untrusted(guest_granted_write, 2, &who));
	CU_ASSERT_EQUAL(who, GUEST);
	CU_ASSERT_TRUE(xsd_perms_untrusted(world_writable, 1, &who));
	CU_ASSERT_EQUAL(who, UINT32_MAX);
	CU_ASSERT_TRUE(xsd_perms_untrusted(other_domain_write, 3, &who));
	CU_ASSERT_EQUAL(who, 12);
	CU_ASSERT_FALSE(xsd_perms_untrusted(ignored_entry, 2, &who));
	CU_ASSERT_TRUE(xsd_perms_untrusted(NULL, 0, &who));
}

static int resolve(const struct xsd_node *en, const struct xsd_node *grp, const struct xsd_node *name,
		   struct shr_domain_policy *p, enum xsd_policy_source *src, char *why, size_t whylen)
{
	return xsd_policy_resolve(&cfg, en, grp, name, p, src, why, whylen);
}

/* Proves well-formed, trusted nodes opt a domain in with their mode and
 * group, and the default group applies when no group node exists. */
static void test_xenstore_good(void)
{
	struct xsd_node en = TRUSTED("on"), grp = TRUSTED("tenant-a"), zero = TRUSTED("zero"), off = TRUSTED("off");
	struct shr_domain_policy p;
	enum xsd_policy_source src;
	char why[256];

	CU_ASSERT_EQUAL(resolve(&en, NULL, NULL, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_ON);
	CU_ASSERT_STRING_EQUAL(p.group, "common");
	CU_ASSERT_EQUAL(src, XSD_SRC_XENSTORE);
	CU_ASSERT_EQUAL(resolve(&zero, &grp, NULL, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_ZERO);
	CU_ASSERT_STRING_EQUAL(p.group, "tenant-a");
	CU_ASSERT_EQUAL(resolve(&off, &grp, NULL, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(src, XSD_SRC_XENSTORE);
}

/* Proves malformed values opt the domain out with -EINVAL and a reason
 * showing the value safely: wrong words, case, trailing newline, embedded
 * NUL, over-long and non-UTF-8 groups. */
static void test_xenstore_bad_values(void)
{
	static const char nul_on[] = { 'o', 'n', 0, 'x' };
	static const char bad_utf8[] = "caf\xc3";
	struct xsd_node good = TRUSTED("on");
	struct xsd_node bad[] = { TRUSTED("maybe"), TRUSTED("ON"), TRUSTED("on\n"), TRUSTED(""), TRUSTED("1") };
	struct xsd_node nul = { true, nul_on, sizeof(nul_on), toolstack_perms, 2 };
	struct xsd_node longgrp = TRUSTED("0123456789012345678901234567890123456789012345678901234567890123");
	struct xsd_node utf8grp = TRUSTED(bad_utf8), slashgrp = TRUSTED("a/b"), emptygrp = TRUSTED("");
	struct shr_domain_policy p;
	enum xsd_policy_source src;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_EQUAL(resolve(&bad[i], NULL, NULL, &p, &src, why, sizeof(why)), -EINVAL);
		CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
		CU_ASSERT_EQUAL(src, XSD_SRC_REFUSED);
		CU_ASSERT(strstr(why, "is not on|off|zero") != NULL);
	}
	CU_ASSERT_EQUAL(resolve(&bad[2], NULL, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT(strstr(why, "\"on\\x0a\"") != NULL);        /* newline shown escaped */
	CU_ASSERT_EQUAL(resolve(&nul, NULL, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT(strstr(why, "\"on\\x00x\"") != NULL);
	CU_ASSERT_EQUAL(resolve(&good, &longgrp, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT(strstr(why, "longer than 63") != NULL);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(resolve(&good, &utf8grp, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT(strstr(why, "caf\\xc3") != NULL);
	CU_ASSERT_EQUAL(resolve(&good, &slashgrp, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(resolve(&good, &emptygrp, NULL, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_STRING_EQUAL(p.group, "");
}

/* Proves a guest cannot opt itself in or choose its group: nodes the guest
 * (or any domain but dom0) can write are refused with -EPERM, even when a
 * config rule would have matched the domain's name. */
static void test_xenstore_untrusted(void)
{
	struct xsd_node en_guest = node("on", guest_owned, 2), en_granted = node("on", guest_granted_write, 2);
	struct xsd_node en_world = node("on", world_writable, 1), en = TRUSTED("on");
	struct xsd_node grp_guest = node("other-tenant", guest_owned, 2), name = TRUSTED("web-1");
	struct shr_domain_policy p;
	enum xsd_policy_source src;
	char why[256];

	CU_ASSERT_EQUAL(resolve(&en_guest, NULL, &name, &p, &src, why, sizeof(why)), -EPERM);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(src, XSD_SRC_REFUSED);
	CU_ASSERT(strstr(why, "memshare/enabled is writable by domain 7") != NULL);
	CU_ASSERT_EQUAL(resolve(&en_granted, NULL, NULL, &p, &src, why, sizeof(why)), -EPERM);
	CU_ASSERT_EQUAL(resolve(&en_world, NULL, NULL, &p, &src, why, sizeof(why)), -EPERM);
	CU_ASSERT(strstr(why, "every domain") != NULL);
	CU_ASSERT_EQUAL(resolve(&en, &grp_guest, NULL, &p, &src, why, sizeof(why)), -EPERM);
	CU_ASSERT(strstr(why, "memshare/group is writable by domain 7") != NULL);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
}

/* Proves config rules apply by trusted name when no enabled node exists:
 * globs, first match wins, rule groups and the default group, off rules,
 * and no match meaning off. */
static void test_config_rules(void)
{
	struct xsd_node web = TRUSTED("web-db"), db = TRUSTED("db1"), dbb = TRUSTED("db12");
	struct xsd_node legacy = TRUSTED("legacy"), other = TRUSTED("mail"), en = TRUSTED("off");
	struct shr_domain_policy p;
	enum xsd_policy_source src;
	char why[256];

	CU_ASSERT_EQUAL(resolve(NULL, NULL, &web, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(src, XSD_SRC_CONFIG);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_ON);            /* web-* before web-db */
	CU_ASSERT_STRING_EQUAL(p.group, "web");
	CU_ASSERT(strstr(why, "line 2") != NULL);
	CU_ASSERT_EQUAL(resolve(NULL, NULL, &db, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_ZERO);
	CU_ASSERT_STRING_EQUAL(p.group, "common");
	CU_ASSERT_EQUAL(resolve(NULL, NULL, &dbb, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(src, XSD_SRC_NONE);
	CU_ASSERT_EQUAL(resolve(NULL, NULL, &legacy, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(src, XSD_SRC_CONFIG);
	CU_ASSERT_EQUAL(resolve(NULL, NULL, &other, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(resolve(NULL, NULL, NULL, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	/* the toolstack's node wins over a rule */
	CU_ASSERT_EQUAL(resolve(&en, NULL, &web, &p, &src, why, sizeof(why)), 0);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT_EQUAL(src, XSD_SRC_XENSTORE);
}

/* Proves a guest cannot rename itself into a rule: a name node it can
 * write is refused, as is a name with a NUL or over-long. */
static void test_untrusted_name(void)
{
	static const char nul_name[] = { 'w', 'e', 'b', '-', '1', 0, 'x' };
	struct xsd_node name = node("web-1", guest_owned, 2);
	struct xsd_node nul = { true, nul_name, sizeof(nul_name), toolstack_perms, 2 };
	struct shr_domain_policy p;
	enum xsd_policy_source src;
	char why[256];

	CU_ASSERT_EQUAL(resolve(NULL, NULL, &name, &p, &src, why, sizeof(why)), -EPERM);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
	CU_ASSERT(strstr(why, "name is writable by domain 7") != NULL);
	CU_ASSERT_EQUAL(resolve(NULL, NULL, &nul, &p, &src, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(p.mode, SHR_MODE_OFF);
}

/* Proves values are made printable for messages and cut to the buffer. */
static void test_printable(void)
{
	char out[16];

	xsd_printable(out, sizeof(out), "a\"b\\c\x01", 6);
	CU_ASSERT_STRING_EQUAL(out, "a\"b\\x5cc\\x01");
	xsd_printable(out, 6, "abcdefgh", 8);
	CU_ASSERT_STRING_EQUAL(out, "abcde");
	xsd_printable(out, 6, "ab\xff\xff", 4);
	CU_ASSERT_STRING_EQUAL(out, "ab");   /* no room for a whole escape: stop */
}

/* dom0 owns, nobody else may even read: how the daemon writes memshare/held. */
static const struct xs_permissions daemon_only[] = {
	{ .id = 0, .perms = XS_PERM_NONE },
};

/* Proves a held record is believed only when dom0 alone may write it and
 * it is exactly "<on|zero> <group>[ logdirty]"; every other record reads as
 * unknown (which makes the engine unshare the domain, and leave a dirty log
 * it finds on alone: the safe sides), and a record round-trips through
 * format and parse. */
static void test_held_record(void)
{
	struct shr_domain_record r, in = { .held = { .mode = SHR_MODE_ZERO, .group = "tenant-a" },
					   .logdirty = true };
	struct xsd_node n = node("on web", daemon_only, 1);
	char buf[XSD_HELD_MAX];
	static const char *const bad[] = {
		"on", "on ", "off web", "ON web", "on web extra", "on a/b", " on web", "on\tweb", "",
		"on web logdirty x", "on web LOGDIRTY", "on web logdirty ",
	};

	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), 0);
	CU_ASSERT_EQUAL(r.held.mode, SHR_MODE_ON);
	CU_ASSERT_STRING_EQUAL(r.held.group, "web");
	CU_ASSERT_FALSE(r.logdirty);
	n = node("on web logdirty", daemon_only, 1);
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), 0);
	CU_ASSERT_TRUE(r.logdirty);
	n = TRUSTED("zero common");
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), 0);
	CU_ASSERT_EQUAL(r.held.mode, SHR_MODE_ZERO);
	CU_ASSERT_EQUAL(xsd_held_parse(NULL, &r), -ENOENT);
	n.present = false;
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), -ENOENT);
	n = node("on web logdirty", guest_granted_write, 2);
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), -EPERM);
	CU_ASSERT_FALSE(r.logdirty);
	n = node("on web", guest_owned, 2);
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), -EPERM);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = node(bad[i], daemon_only, 1);
		CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), -EINVAL);
		CU_ASSERT_EQUAL(r.held.group[0], 0);
		CU_ASSERT_FALSE(r.logdirty);
	}
	n = (struct xsd_node){ .present = true, .value = "on web\0x", .len = 8,
			       .perms = daemon_only, .nr_perms = 1 };
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), -EINVAL);
	xsd_held_format(&in, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "zero tenant-a logdirty");
	n = node(buf, daemon_only, 1);
	CU_ASSERT_EQUAL(xsd_held_parse(&n, &r), 0);
	CU_ASSERT_EQUAL(r.held.mode, in.held.mode);
	CU_ASSERT_STRING_EQUAL(r.held.group, in.held.group);
	CU_ASSERT_TRUE(r.logdirty);
}

UT_MAIN("policy", setup, teardown,
	UT(test_perms),
	UT(test_xenstore_good),
	UT(test_xenstore_bad_values),
	UT(test_xenstore_untrusted),
	UT(test_config_rules),
	UT(test_untrusted_name),
	UT(test_printable),
	UT(test_held_record))
