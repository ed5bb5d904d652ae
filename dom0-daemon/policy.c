/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * policy.c - opt-in, mode and group of a domain (rules in policy.h).
 *
 * Why dom0-only rather than "not the guest itself": a node another domain
 * can write (a driver domain, a device model stubdomain acting for the
 * guest) is as good as guest-controlled for this decision, and the
 * toolstack, which runs in dom0, has no reason to grant such access.  The
 * check is therefore the stricter one; the price is that a disaggregated
 * toolstack outside dom0 must use the config file's domain rules.
 *
 * Values are compared byte-exactly with their length: "on\n", "on\0x",
 * "ON" and over-long or non-UTF-8 strings are malformed, never guessed at.
 */
#include "policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

const char *xsd_policy_source_name(enum xsd_policy_source s)
{
	switch (s) {
	case XSD_SRC_NONE: return "none";
	case XSD_SRC_XENSTORE: return "xenstore";
	case XSD_SRC_CONFIG: return "config";
	case XSD_SRC_REFUSED: return "refused";
	}
	return "?";
}

bool xsd_perms_untrusted(const struct xs_permissions *p, unsigned int n, uint32_t *who)
{
	unsigned int i;

	*who = UINT32_MAX;
	if (n == 0 || !p)
		return true;
	if (p[0].id != 0) {
		*who = p[0].id;
		return true;
	}
	for (i = 1; i < n; i++) {
		if (p[i].perms & XS_PERM_IGNORE || p[i].id == 0)
			continue;
		if (p[i].perms & XS_PERM_WRITE) {
			*who = p[i].id;
			return true;
		}
	}
	/* Entry 0's perms are what every domain without an entry gets. */
	return (p[0].perms & XS_PERM_WRITE) != 0;
}

/* The node's value as a C string, if it is one no longer than max-1 bytes. */
static bool value_string(const struct xsd_node *n, char *buf, size_t max)
{
	if (n->len >= max || memchr(n->value, 0, n->len))
		return false;
	memcpy(buf, n->value, n->len);
	buf[n->len] = 0;
	return true;
}

static void who_text(char *buf, size_t len, uint32_t who)
{
	if (who == UINT32_MAX)
		snprintf(buf, len, "every domain");
	else
		snprintf(buf, len, "domain %u", who);
}

/* Checks a node's permissions; fills why and returns -EPERM when untrusted. */
static int check_trusted(const char *node_name, const struct xsd_node *n,
			 char *why, size_t whylen)
{
	char whotxt[32];
	uint32_t who;

	if (!xsd_perms_untrusted(n->perms, n->nr_perms, &who))
		return 0;
	who_text(whotxt, sizeof(whotxt), who);
	snprintf(why, whylen, "%s is writable by %s (only dom0 may set it): ignored, domain not shared",
		 node_name, whotxt);
	return -EPERM;
}

static int resolve_xenstore(const struct xsd_config *cfg, const struct xsd_node *enabled,
			    const struct xsd_node *group, struct shr_domain_policy *out,
			    char *why, size_t whylen)
{
	char shown[XSD_NODE_MAX_VALUE], word[8];
	enum shr_mode mode;
	int rc;

	rc = check_trusted("memshare/enabled", enabled, why, whylen);
	if (rc)
		return rc;
	/* the same words as the config's domain rules, byte-exact */
	if (!value_string(enabled, word, sizeof(word)) || xsd_mode_parse(word, &mode)) {
		xsd_printable(shown, 40, enabled->value, enabled->len);
		snprintf(why, whylen, "memshare/enabled = \"%s%s\" is not on|off|zero: domain not shared",
			 shown, enabled->len > 32 ? "..." : "");
		return -EINVAL;
	}
	if (mode == SHR_MODE_OFF) {
		snprintf(why, whylen, "memshare/enabled = off");
		return 0;
	}
	if (group && group->present) {
		rc = check_trusted("memshare/group", group, why, whylen);
		if (rc)
			return rc;
		if (!value_string(group, out->group, sizeof(out->group))) {
			xsd_printable(shown, 40, group->value, group->len);
			snprintf(why, whylen, "memshare/group = \"%s%s\" is %s: domain not shared", shown,
				 group->len > 32 ? "..." : "",
				 group->len > XSD_GROUP_MAX ? "longer than 63 characters" : "not a group name");
			return -EINVAL;
		}
		if (!xsd_group_name_valid(out->group)) {
			xsd_printable(shown, 40, group->value, group->len);
			out->group[0] = 0;
			snprintf(why, whylen, "memshare/group = \"%s\" is not a group name (1..63 of A-Z a-z 0-9 . _ -): domain not shared",
				 shown);
			return -EINVAL;
		}
	} else {
		snprintf(out->group, sizeof(out->group), "%s", cfg->default_group);
	}
	out->mode = mode;
	snprintf(why, whylen, "memshare/enabled = %s, group %s", xsd_mode_name(mode), out->group);
	return 0;
}

static int resolve_config(const struct xsd_config *cfg, const struct xsd_node *name,
			  struct shr_domain_policy *out, enum xsd_policy_source *src,
			  char *why, size_t whylen)
{
	char dname[XSD_NODE_MAX_VALUE + 1];
	size_t i;
	int rc;

	if (!cfg->nr_rules) {
		snprintf(why, whylen, "not opted in (no memshare/enabled node, no domain rule)");
		return 0;
	}
	if (!name || !name->present) {
		snprintf(why, whylen, "not opted in (no memshare/enabled node and no name to match rules)");
		return 0;
	}
	rc = check_trusted("name", name, why, whylen);
	if (rc) {
		*src = XSD_SRC_REFUSED;
		return rc;
	}
	if (!value_string(name, dname, XSD_NAME_MAX + 1)) {
		*src = XSD_SRC_REFUSED;
		snprintf(why, whylen, "name is not a valid domain name: domain rules not applied, domain not shared");
		return -EINVAL;
	}
	for (i = 0; i < cfg->nr_rules; i++) {
		const struct xsd_domain_rule *r = &cfg->rules[i];

		if (fnmatch(r->pattern, dname, 0))
			continue;
		*src = XSD_SRC_CONFIG;
		out->mode = r->mode;
		snprintf(out->group, sizeof(out->group), "%s", r->group[0] ? r->group : cfg->default_group);
		snprintf(why, whylen, "domain rule '%s' (line %u): %s, group %s", r->pattern, r->line,
			 xsd_mode_name(r->mode), out->group);
		return 0;
	}
	snprintf(why, whylen, "not opted in (no memshare/enabled node, no domain rule matches)");
	return 0;
}

int xsd_policy_resolve(const struct xsd_config *cfg, const struct xsd_node *enabled,
		       const struct xsd_node *group, const struct xsd_node *name,
		       struct shr_domain_policy *out, enum xsd_policy_source *src,
		       char *why, size_t whylen)
{
	int rc;

	memset(out, 0, sizeof(*out));
	out->mode = SHR_MODE_OFF;
	*src = XSD_SRC_NONE;
	if (enabled && enabled->present) {
		*src = XSD_SRC_XENSTORE;
		rc = resolve_xenstore(cfg, enabled, group, out, why, whylen);
		if (rc) {
			*src = XSD_SRC_REFUSED;
			out->mode = SHR_MODE_OFF;
			out->group[0] = 0;
		}
		return rc;
	}
	rc = resolve_config(cfg, name, out, src, why, whylen);
	if (rc) {
		out->mode = SHR_MODE_OFF;
		out->group[0] = 0;
	}
	return rc;
}

int xsd_held_parse(const struct xsd_node *n, struct shr_domain_record *out)
{
	char buf[XSD_HELD_MAX], *group, *flag;
	uint32_t who;
	enum shr_mode mode;

	memset(out, 0, sizeof(*out));
	if (!n || !n->present)
		return -ENOENT;
	if (xsd_perms_untrusted(n->perms, n->nr_perms, &who))
		return -EPERM;
	if (!value_string(n, buf, sizeof(buf)))
		return -EINVAL;
	group = strchr(buf, ' ');
	if (!group)
		return -EINVAL;
	*group++ = 0;
	flag = strchr(group, ' ');
	if (flag) {
		*flag++ = 0;
		if (strcmp(flag, "logdirty"))
			return -EINVAL;
	}
	if (xsd_mode_parse(buf, &mode) || mode == SHR_MODE_OFF || !xsd_group_name_valid(group))
		return -EINVAL;
	out->held.mode = mode;
	snprintf(out->held.group, sizeof(out->held.group), "%s", group);
	out->logdirty = flag != NULL;
	return 0;
}

void xsd_held_format(const struct shr_domain_record *r, char *buf, size_t len)
{
	snprintf(buf, len, "%s %s%s", xsd_mode_name(r->held.mode), r->held.group,
		 r->logdirty ? " logdirty" : "");
}
