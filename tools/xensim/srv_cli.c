/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * srv_cli.c - the requests of the xensim command line: create, verify,
 * stop, the guests' details, the leak checks, the shared frames, the
 * fault counters and the guests' write storms.
 *
 * DOC: Overview
 *
 * Only dom0 connections get here (dispatch checks); every failure carries
 * a message the command line prints as it is.  The list of shared frames
 * can be larger than a message, so it travels in a memfd; every answer is
 * one snapshot of the model.
 */
#include "srv_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "srv_guest.h"
#include "vcpu.h"

/*
 * `xensim frames`: the list of shared frames can be far larger than one
 * message (a zero page shared by a hundred thousand gfns), so it travels in
 * a memfd; it is one snapshot of the hypervisor's state.
 */
static void cli_frames(struct sim_server *srv, struct sim_reply *r)
{
	void *buf;
	size_t len;
	long n = sim_hv_shared_frames(srv->hv, &buf, &len);
	int fd;

	if (n < 0) {
		r->ret = n;
		srv_set_text(srv, r, "out of memory listing the shared frames");
		return;
	}
	fd = memfd_create("xensim-frames", MFD_CLOEXEC);
	if (fd < 0 || srv_write_all(fd, buf, len) < 0) {
		r->ret = -errno;
		srv_set_text(srv, r, "cannot pass the list of shared frames (memfd)");
		if (fd >= 0)
			close(fd);
		free(buf);
		return;
	}
	free(buf);
	r->ret = n;
	r->pass_fd = fd;
	r->close_fd = true;
}

void srv_op_cli(struct sim_server *srv, struct sim_client *c, uint32_t op,
		   const uint8_t *p, size_t len, struct sim_reply *r)
{
	(void)c;
	char msg[SIM_XLCFG_ERR_MAX + 256];

	msg[0] = '\0';
	switch (op) {
	case SIM_OP_CLI_CREATE: {
		struct sim_wire_cli_create h;
		const char *fname, *basedir, *data;
		const char *ov[64];
		size_t off, used;

		if (len < sizeof(h)) {
			r->ret = -EINVAL;
			srv_set_text(srv, r, "malformed create request");
			return;
		}
		memcpy(&h, p, sizeof(h));
		off = sizeof(h);
		fname = srv_str_in(p + off, len - off, &used);
		off += fname ? used : 0;
		basedir = fname ? srv_str_in(p + off, len - off, &used) : NULL;
		off += basedir ? used : 0;
		if (!basedir || h.data_len > len - off || h.nr_overrides > 64) {
			r->ret = -EINVAL;
			srv_set_text(srv, r, "malformed create request");
			return;
		}
		data = (const char *)p + off;
		off += h.data_len;
		for (uint32_t i = 0; i < h.nr_overrides; i++) {
			if (!(ov[i] = srv_str_in(p + off, len - off, &used))) {
				r->ret = -EINVAL;
				srv_set_text(srv, r, "malformed create request (overrides)");
				return;
			}
			off += used;
		}
		r->ret = srv_guest_create(srv, fname, basedir, data, h.data_len, ov, h.nr_overrides,
				      msg, sizeof(msg));
		if (r->ret < 0) {
			if (!msg[0])
				snprintf(msg, sizeof(msg), "%s: %s", fname, strerror((int)-r->ret));
			srv_log("create refused: %s", msg);
			srv_set_text(srv, r, msg);
		}
		return;
	}
	case SIM_OP_CLI_VERIFY: {
		struct sim_mismatch *mm = (struct sim_mismatch *)srv->tx;
		unsigned int max = SIM_WIRE_MAX_MISMATCH;
		long n;

		if (max > TX_MAX / sizeof(*mm))
			max = TX_MAX / sizeof(*mm);
		n = sim_hv_verify(srv->hv, mm, max);
		r->ret = n;
		r->len = (size_t)(n < (long)max ? n : (long)max) * sizeof(*mm);
		if (n)
			srv_log("verify: %ld mismatches", n);
		return;
	}
	case SIM_OP_CLI_STOP:
		srv_log("stop requested");
		srv->stopping = true;
		r->ret = 0;
		return;
	case SIM_OP_CLI_GUESTS: {
		struct sim_wire_cli_guest *out = (struct sim_wire_cli_guest *)srv->tx;
		unsigned int n = 0, max = TX_MAX / sizeof(*out);

		for (struct sim_guest *g = srv->guests; g && n < max; g = g->next, n++) {
			memset(&out[n], 0, sizeof(out[n]));
			out[n].domid = g->domid;
			out[n].vcpus_running = sim_vcpus_running(g->vcpus);
			out[n].writes = sim_vcpus_writes(g->vcpus);
			out[n].storm_pages = sim_vcpus_storm_pages(g->storm);
			out[n].storm_written = sim_vcpus_writes(g->storm);
			out[n].storm_running = sim_vcpus_running(g->storm);
			out[n].write_rate = (uint64_t)g->cfg.write_rate;
			out[n].working_set = g->cfg.working_set;
			memcpy(out[n].mem_sharing, g->cfg.mem_sharing, sizeof(out[n].mem_sharing));
			memcpy(out[n].mem_sharing_group, g->cfg.mem_sharing_group,
			       sizeof(out[n].mem_sharing_group));
		}
		r->ret = n;
		r->len = n * sizeof(*out);
		return;
	}
	case SIM_OP_CLI_RESIDUE: {
		struct sim_hv_residue res;
		struct sim_wire_cli_residue out;

		sim_hv_get_residue(srv->hv, &res);
		out.foreign_mappings = res.foreign_mappings;
		out.nominated_unshared = res.nominated_unshared;
		out.nominated_unmerged = res.nominated_unmerged;
		out.freed_pages = res.freed_pages;
		out.used_frames = res.used_frames;
		out.sum_shr_pages = res.sum_shr_pages;
		out.unshare_enomem = res.unshare_enomem;
		out.frame_merge_preemptions = res.frame_merge_preemptions;
		memcpy(srv->tx, &out, sizeof(out));
		r->ret = 0;
		r->len = sizeof(out);
		return;
	}
	case SIM_OP_CLI_FRAMES:
		cli_frames(srv, r);
		return;
	case SIM_OP_CLI_STORM: {
		struct sim_wire_cli_storm h;
		struct sim_guest *g;

		if (len < sizeof(h)) {
			r->ret = -EINVAL;
			srv_set_text(srv, r, "malformed storm request");
			return;
		}
		memcpy(&h, p, sizeof(h));
		g = srv_guest_find(srv, h.domid);
		if (!g || h.permille > 1000) {
			r->ret = g ? -EINVAL : -ESRCH;
			srv_set_text(srv, r, g ? "storm: fraction out of 0..1" :
				     "storm: not a guest xensim created");
			return;
		}
		r->ret = srv_guest_storm(srv, g, h.permille, msg, sizeof(msg));
		if (r->ret < 0)
			srv_set_text(srv, r, msg);
		return;
	}
	case SIM_OP_CLI_FAULTS: {
		struct sim_fault_stats st;

		sim_faults_stats(srv->faults, &st);
		memcpy(srv->tx, &st, sizeof(st));
		r->ret = 0;
		r->len = sizeof(st);
		return;
	}
	default:
		r->ret = -ENOSYS;
		srv_set_text(srv, r, "unknown command (client and server versions differ?)");
		return;
	}
}
