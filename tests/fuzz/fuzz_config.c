/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_config.c - xenshared.conf: arbitrary file contents through the real
 * parser (dom0-daemon/config.c) and every row of the settings table
 * (dom0-daemon/settings.c).
 *
 * Properties beyond "no sanitizer report":
 *  - a parse either fails with -EINVAL/-ENOMEM and a non-empty message, or
 *    succeeds with a config whose every scalar is inside its row's range or
 *    choices, whose strings are terminated, and whose domain rules carry a
 *    pattern, a known mode and a valid (or empty) group;
 *  - what a SIGHUP does with the result (copy, keep restart-only settings)
 *    works on it, and the restart-only settings then equal the running ones.
 */
#include <errno.h>
#include <math.h>

#include "fuzz_common.h"

#include "dom0-daemon/config.h"

static struct xsd_config defaults;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	char err[256];

	if (xsd_config_init_defaults(&defaults, err, sizeof(err))) {
		fprintf(stderr, "defaults: %s\n", err);
		abort();
	}
	return 0;
}

static bool choice_ok(const struct xsd_choice *c, int v)
{
	for (; c->name; c++)
		if (c->value == v)
			return true;
	return false;
}

static void check_config(const struct xsd_config *cfg)
{
	for (size_t i = 0; i < xsd_nr_settings; i++) {
		const struct xsd_setting *s = &xsd_settings[i];
		const char *f = (const char *)cfg + s->offset;

		switch (s->type) {
		case XSD_T_UINT: {
			unsigned int v;

			memcpy(&v, f, sizeof(v));
			fz_check(v >= s->min && v <= s->max, "%s = %u", s->name, v);
			break;
		}
		case XSD_T_DOUBLE: {
			double v;

			memcpy(&v, f, sizeof(v));
			fz_check(isfinite(v) && v >= s->min && v <= s->max, "%s = %g", s->name, v);
			break;
		}
		case XSD_T_SIZE: {
			uint64_t v;

			memcpy(&v, f, sizeof(v));
			fz_check((double)v >= s->min && (double)v <= s->max, "%s = %llu pages",
				 s->name, (unsigned long long)v);
			break;
		}
		case XSD_T_BOOL:
			fz_check(*(const unsigned char *)f <= 1, "%s not a bool", s->name);
			break;
		case XSD_T_ENUM: {
			int v;

			memcpy(&v, f, sizeof(v));
			fz_check(choice_ok(s->choices, v), "%s = %d not a choice", s->name, v);
			break;
		}
		case XSD_T_GROUP:
			fz_check(fz_terminated(f, s->size) && xsd_group_name_valid(f), "%s", s->name);
			break;
		case XSD_T_PATH:
			fz_check(fz_terminated(f, s->size) && f[0], "%s empty or unterminated", s->name);
			break;
		case XSD_T_DOMAIN_RULE:
			break;
		}
	}
	fz_check(cfg->nr_rules == 0 || cfg->rules, "rules missing");
	for (size_t i = 0; i < cfg->nr_rules; i++) {
		const struct xsd_domain_rule *r = &cfg->rules[i];

		fz_check(fz_terminated(r->pattern, sizeof(r->pattern)) && r->pattern[0],
			 "rule %zu pattern", i);
		fz_check(fz_terminated(r->group, sizeof(r->group)), "rule %zu group", i);
		fz_check(!r->group[0] || xsd_group_name_valid(r->group), "rule %zu group '%s'",
			 i, r->group);
		fz_check(r->mode == SHR_MODE_OFF || r->mode == SHR_MODE_ON || r->mode == SHR_MODE_ZERO,
			 "rule %zu mode %d", i, (int)r->mode);
		fz_check(r->line >= 1, "rule %zu without a line", i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xsd_config cfg, copy;
	char err[2048], warn[1024];
	int rc;

	rc = xsd_config_parse_text("fuzz.conf", (const char *)data, size, &cfg, err, sizeof(err));
	fz_check(fz_terminated(err, sizeof(err)), "message not terminated");
	if (rc) {
		fz_check(rc == -EINVAL || rc == -ENOMEM, "rc %d", rc);
		fz_check(err[0], "failed (%d) without a message", rc);
		return 0;
	}
	check_config(&cfg);

	/* what SIGHUP does with a good file */
	if (!xsd_config_copy(&copy, &cfg)) {
		xsd_config_keep_restart_only("fuzz.conf", &defaults, &copy, warn, sizeof(warn));
		for (size_t i = 0; i < xsd_nr_settings; i++)
			if (!xsd_settings[i].reloadable)
				fz_check(xsd_setting_equal(&xsd_settings[i], &defaults, &copy),
					 "restart-only %s changed on reload", xsd_settings[i].name);
		xsd_config_release(&copy);
	}
	xsd_config_release(&cfg);
	return 0;
}
