/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_policy.c - the xenstore side of the opt-in policy
 * (dom0-daemon/policy.c): values and permissions of memshare/enabled,
 * memshare/group and name exactly as a guest (or a buggy toolstack) could
 * leave them, against a config whose domain rules also come from the input.
 *
 * Input layout (struct fz_in): a byte whose bit 0 passes no group node at
 * all (NULL), then for each of enabled, group, name: a byte of
 * flags (bit 0 present), a permission count (mod 9) and that many
 * {domid selector, perms byte} pairs, then up to 300 value bytes; the rest
 * of the input is the config text (the defaults when it does not parse).
 *
 * Properties, the guarantees policy.h gives:
 *  - the result is always filled: mode on/off/zero, group terminated;
 *  - a domain ends up shared only through a trusted node: memshare/enabled
 *    byte-exactly "on" or "zero" and writable by dom0 alone (an
 *    independent reading of xenstored's permission rules), or a config
 *    rule reached through a trusted, well-formed name;
 *  - a shared domain's group is a valid group name;
 *  - anything refused is mode off and returns -EPERM or -EINVAL.
 */
#include <errno.h>

#include "fuzz_common.h"

#include "dom0-daemon/config.h"
#include "dom0-daemon/policy.h"

#define MAX_PERMS 8

struct fz_node {
	struct xsd_node n;
	struct xs_permissions perms[MAX_PERMS];
	char value[XSD_NODE_MAX_VALUE + 64];
};

static const unsigned int domids[] = { 0, 0, 1, 7, 0x7fef, 0x7ff0, 0xffff, 0xffffffffu };

static void take_node(struct fz_in *in, struct fz_node *fn)
{
	uint8_t flags = fz_u8(in);
	unsigned int nr = fz_u8(in) % (MAX_PERMS + 1);
	const uint8_t *v;
	size_t len;

	memset(fn, 0, sizeof(*fn));
	for (unsigned int i = 0; i < nr; i++) {
		fn->perms[i].id = domids[fz_u8(in) % (sizeof(domids) / sizeof(domids[0]))];
		fn->perms[i].perms = fz_u8(in) & (XS_PERM_READ | XS_PERM_WRITE | XS_PERM_IGNORE);
	}
	v = fz_bytes(in, sizeof(fn->value), &len);
	memcpy(fn->value, v, len);
	fn->n.present = flags & 1;
	fn->n.value = fn->value;
	fn->n.len = len;
	/* bit 1: the reader found no permissions at all (a NULL array) */
	fn->n.perms = (flags & 2) ? NULL : fn->perms;
	fn->n.nr_perms = nr;
}

/* xenstored (tools/xenstore/xenstored_core.c perm_for_conn): the owner,
 * entry 0, has every right; a domain named in a later entry gets that
 * entry's rights; every other domain gets entry 0's.  dom0 is privileged
 * anyway.  So dom0 alone may write iff the owner is dom0, entry 0 grants
 * no write, and no later entry grants write to a domain other than 0. */
static bool only_dom0_writes(const struct xsd_node *n)
{
	if (!n->perms || !n->nr_perms)
		return false;
	if (n->perms[0].id != 0 || (n->perms[0].perms & XS_PERM_WRITE))
		return false;
	for (unsigned int i = 1; i < n->nr_perms; i++)
		if (n->perms[i].id != 0 && !(n->perms[i].perms & XS_PERM_IGNORE) &&
		    (n->perms[i].perms & XS_PERM_WRITE))
			return false;
	return true;
}

static bool value_is(const struct xsd_node *n, const char *s)
{
	return n->len == strlen(s) && !memcmp(n->value, s, n->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	struct fz_node en, gr, nm;
	struct xsd_config cfg;
	struct shr_domain_policy out;
	enum xsd_policy_source src;
	char err[1024], why[512], shown[64];
	uint32_t who;
	int rc;

	bool group_null = fz_u8(&in) & 1;   /* the caller passed no group node */

	take_node(&in, &en);
	take_node(&in, &gr);
	take_node(&in, &nm);
	if (xsd_config_parse_text("fuzz.conf", (const char *)in.p, in.left, &cfg, err, sizeof(err)) &&
	    xsd_config_init_defaults(&cfg, err, sizeof(err)))
		abort();

	/* the helpers on their own */
	fz_check(xsd_perms_untrusted(en.n.perms, en.n.nr_perms, &who) == !only_dom0_writes(&en.n),
		 "xsd_perms_untrusted disagrees with xenstored's rules");
	xsd_printable(shown, sizeof(shown), en.n.value, en.n.len);
	fz_check(fz_terminated(shown, sizeof(shown)), "printable not terminated");
	for (const char *p = shown; *p; p++)
		fz_check(*p >= 0x20 && *p < 0x7f, "printable holds byte %#x", (unsigned char)*p);

	memset(why, 0x55, sizeof(why));
	rc = xsd_policy_resolve(&cfg, &en.n, group_null ? NULL : &gr.n,
				&nm.n, &out, &src, why, sizeof(why));
	fz_check(fz_terminated(why, sizeof(why)) && why[0], "no reason given");
	fz_check(fz_terminated(out.group, sizeof(out.group)), "group not terminated");
	fz_check(out.mode == SHR_MODE_OFF || out.mode == SHR_MODE_ON || out.mode == SHR_MODE_ZERO,
		 "mode %d", (int)out.mode);
	fz_check(rc == 0 || rc == -EPERM || rc == -EINVAL, "rc %d", rc);
	if (rc) {
		fz_check(out.mode == SHR_MODE_OFF && src == XSD_SRC_REFUSED,
			 "refused (%d) but mode %d source %d", rc, (int)out.mode, (int)src);
	}
	if (out.mode != SHR_MODE_OFF) {
		fz_check(rc == 0, "shared with rc %d", rc);
		fz_check(xsd_group_name_valid(out.group), "shared in group '%s'", out.group);
		if (en.n.present) {
			fz_check(src == XSD_SRC_XENSTORE, "enabled present, source %d", (int)src);
			fz_check(only_dom0_writes(&en.n), "opted in through a guest-writable node");
			fz_check(value_is(&en.n, out.mode == SHR_MODE_ON ? "on" : "zero"),
				 "mode %d from another value", (int)out.mode);
			if (!group_null && gr.n.present) {
				fz_check(only_dom0_writes(&gr.n), "group from a guest-writable node");
				fz_check(value_is(&gr.n, out.group), "group '%s' is not the node's value",
					 out.group);
			} else {
				fz_check(!strcmp(out.group, cfg.default_group),
					 "no group node, group '%s'", out.group);
			}
		} else {
			fz_check(src == XSD_SRC_CONFIG, "shared without enabled, source %d", (int)src);
			fz_check(nm.n.present && only_dom0_writes(&nm.n), "rule matched an untrusted name");
			fz_check(nm.n.len <= XSD_NAME_MAX && !memchr(nm.n.value, 0, nm.n.len),
				 "rule matched a malformed name");
		}
	}
	xsd_config_release(&cfg);
	return 0;
}
