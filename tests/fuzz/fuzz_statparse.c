/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * fuzz_statparse.c - xenshare-stat's view of the daemon's `stats` reply
 * (tools/xenshare-stat/statparse.c), and everything it then does with an
 * accepted reply: merge with the hypervisor's domain list, totals, notes,
 * and the table, JSON and Prometheus output (statfmt.c).
 *
 * The input is the reply line as it came off the socket.  The
 * hypervisor's side is derived from the reply (the same domains, every
 * third one missing, one extra) so the merge sees both agreement and
 * disagreement.
 *
 * Properties: a rejected reply is -EPROTO with a message and no domains;
 * an accepted one has distinct, non-reserved domids, terminated strings
 * without control bytes (they would reach the operator's terminal in the
 * table) and progress fractions in 0..1; the merge keeps every domain of both
 * sides sorted by domid; the JSON output is one valid JSON object.
 */
#include <errno.h>
#include <math.h>

#include <json-c/json.h>

#include "fuzz_common.h"

#include "tools/xenshare-stat/statparse.h"

static void note_cb(const char *note, void *arg)
{
	fz_check(note && note[0], "empty note");
	(*(size_t *)arg)++;
}

static void check_json_output(const char *buf, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o;

	fz_check(len && buf[len - 1] == '\n', "JSON output does not end in a newline");
	o = json_tokener_parse_ex(tok, buf, (int)len - 1);
	fz_check(o && json_object_is_type(o, json_type_object) &&
		 json_tokener_get_parse_end(tok) == len - 1,
		 "--json output is not one JSON object: %.200s", buf);
	json_object_put(o);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct xst_snapshot s = { 0 };
	struct xst_domain *doms = NULL, *hv = NULL;
	struct xst_totals t;
	size_t nr = 0, nr_hv = 0, notes = 0, olen = 0;
	char err[512], *obuf = NULL;
	FILE *out;
	int rc;

	rc = xst_parse_daemon_reply((const char *)data, size, &s.daemon, &doms, &nr, err, sizeof(err));
	if (rc) {
		fz_check(rc == -EPROTO && err[0] && fz_terminated(err, sizeof(err)), "rc %d", rc);
		fz_check(!doms && !nr && s.daemon.state == XST_DAEMON_BAD_REPLY, "half a reply");
		return 0;
	}
	fz_check(s.daemon.state == XST_DAEMON_UP, "state %d", (int)s.daemon.state);
	fz_check(fz_terminated(s.daemon.version, sizeof(s.daemon.version)), "daemon strings");
	fz_check(s.daemon.engine.pass_progress >= 0 && s.daemon.engine.pass_progress <= 1, "pass_progress");
	fz_check(s.daemon.engine.protocol_in_use <= SHR_PROTO_BATCHED, "protocol");
	for (size_t i = 0; i < nr; i++) {
		const struct xst_domain *d = &doms[i];

		fz_check(d->domid < 0x7ff0 && d->in_daemon, "domain %zu id %u", i, d->domid);
		fz_check(fz_terminated(d->name, sizeof(d->name)) && fz_terminated(d->group, sizeof(d->group)) &&
			 fz_terminated(d->mode, sizeof(d->mode)), "domain %zu strings", i);
		for (const char *const *f = (const char *const[]){ d->name, d->group, d->mode, NULL }; *f; f++)
			for (const char *p = *f; *p; p++)
				fz_check((unsigned char)*p >= 0x20 && *p != 0x7f,
					 "domain %zu: control byte %#x would reach the terminal", i,
					 (unsigned char)*p);
		fz_check(d->dm.scan_progress >= 0 && d->dm.scan_progress <= 1 && isfinite(d->dm.unshares_per_s),
			 "domain %zu numbers", i);
		for (size_t j = i + 1; j < nr; j++)
			fz_check(d->domid != doms[j].domid, "domid %u twice", d->domid);
	}

	/* the hypervisor's side: most of the same domains and one of its own */
	hv = calloc(nr + 1, sizeof(*hv));
	if (!hv)
		abort();
	for (size_t i = 0; i < nr; i++) {
		if (i % 3 == 2)
			continue;
		hv[nr_hv] = (struct xst_domain){ .domid = doms[i].domid, .in_hv = true,
						 .tot_pages = doms[i].tot_pages,
						 .shr_pages = doms[i].dm.shr_pages + i % 2 };
		nr_hv++;
	}
	hv[nr_hv++] = (struct xst_domain){ .domid = 0x7fef, .in_hv = true, .tot_pages = 1, .name = "hv-only" };
	s.hv.ok = size & 1;
	if (!s.hv.ok)
		snprintf(s.hv.error, sizeof(s.hv.error), "fuzz: no hypervisor");
	s.hv.freed_pages = (uint64_t)s.daemon.own.sharing_freed_pages;
	s.hv.used_frames = (uint64_t)s.daemon.own.sharing_used_frames;
	s.hv.total_pages = s.daemon.engine.host_total_pages;
	s.hv.free_pages = s.daemon.engine.host_free_pages;
	if (xst_snapshot_merge(&s, hv, nr_hv, doms, nr) == 0) {
		for (size_t i = 1; i < s.nr_domains; i++)
			fz_check(s.domains[i - 1].domid < s.domains[i].domid, "merge not sorted/unique");
		fz_check(s.nr_domains >= nr && s.nr_domains <= nr + 1, "merge has %zu of %zu+1",
			 s.nr_domains, nr);
		xst_totals_compute(&s, &t);
		fz_check(!t.have_saved || isfinite(t.saved_percent), "saved_percent");
		xst_note_foreach(&s, note_cb, &notes);

		out = open_memstream(&obuf, &olen);
		if (!out)
			abort();
		xst_format_table(out, &s);
		xst_format_prometheus(out, &s);
		fclose(out);
		free(obuf);
		obuf = NULL;

		out = open_memstream(&obuf, &olen);
		if (!out)
			abort();
		fz_check(xst_format_json(out, &s) == 0, "json output failed");
		fclose(out);
		check_json_output(obuf, olen);
		free(obuf);
		xst_snapshot_put_domains(&s);
	}
	free(hv);
	free(doms);
	return 0;
}
