/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * statfmt.h - what xenshare-stat knows about a host at one instant, and the
 * three ways it prints it (table, JSON, Prometheus text exposition).
 *
 * A snapshot has two independent sources, and either may be missing:
 *  - the hypervisor, read directly through libxenctrl: the global counters
 *    xc_sharing_freed_pages (frames saved) and xc_sharing_used_frames
 *    (shared frames in use), physinfo (host total/free pages), and each
 *    domain's tot_pages and shr_pages from xc_domain_getinfolist;
 *  - the daemon's `stats` reply on its control socket (docs/control-protocol.md):
 *    policy (group, mode), its own accounting, volatility, scan progress,
 *    CPU use, the reserve.  Its numbers are kept in the daemon's own structs
 *    (struct xsd_stats, shr_stats, shr_domain_stats) and read, printed and
 *    exported by walking the tables of dom0-daemon/schema.h, so a statistic
 *    added to a list shows up here without an edit.
 * The hypervisor is the authority for every number it has: "saved" is
 * always xc_sharing_freed_pages when the hypervisor could be read, because
 * pages shared by another tool (xen-memshare, a range_share clone) save
 * memory too and are invisible to the daemon.  Where the two sources can
 * disagree, xst_note_foreach() says so in words; the formatters print those
 * notes (table, JSON) or the raw numbers side by side (Prometheus).
 *
 * Invariants the formatters rely on:
 *  - Every function here is pure: it reads the snapshot and writes to the
 *    FILE* it is given, nothing else (no clock, no environment, no locale:
 *    numbers are printed with "%.Nf" of the C locale), so the unit tests
 *    compare the output byte for byte with tests/golden/.
 *  - Fields of a source whose `ok`/state says it is absent are never printed
 *    as numbers: the table shows "-", JSON null, Prometheus omits the series
 *    (and xenshare_daemon_up / xenshare_hypervisor_up say why).  So are the
 *    daemon's values its reply did not carry (an older daemon): the
 *    parser guarantees only the lines marked SHR_REQUIRED, and the table,
 *    totals and notes use only those.
 *  - The hypervisor's own counts that the daemon relays (SHR_HV) are shown
 *    from the hypervisor; the daemon's copy only stands in for them.
 *
 * Page size is 4 KiB everywhere (x86 Xen); MiB are 2^20 bytes.
 */
#ifndef XST_STATFMT_H
#define XST_STATFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dom0-daemon/schema.h"

#define XST_PAGE_SIZE 4096u
#define XST_NAME_LEN 64

/* One domain as the hypervisor and (if it knows it) the daemon see it. */
struct xst_domain {
	uint32_t domid;
	char name[XST_NAME_LEN];      /* xenstore .../name or the daemon's; "" unknown */
	char group[XST_NAME_LEN];     /* sharing group; "" unknown */
	char mode[16];                /* "on", "off", "zero"; "" unknown */
	bool in_hv;                   /* listed by xc_domain_getinfolist */
	uint64_t tot_pages;           /* hypervisor: pages owned privately (the
					 daemon's copy when only the daemon lists it) */
	uint64_t shr_pages;           /* hypervisor: gfns backed by shared frames */
	bool in_daemon;               /* the daemon reported this domain */
	struct shr_domain_stats dm;   /* its numbers in the daemon's reply (SHR_DOMAIN_STATS) */
	bool dm_has[XSD_NR_DOMAIN_STATS];  /* which of them the reply carried */
};

/* The hypervisor's numbers (libxenctrl). */
struct xst_hv {
	bool ok;                      /* false: could not be read; error says why */
	char error[384];
	uint64_t freed_pages;         /* xc_sharing_freed_pages: frames saved */
	uint64_t used_frames;         /* xc_sharing_used_frames: shared frames in use */
	uint64_t total_pages;         /* xc_physinfo */
	uint64_t free_pages;          /* xc_physinfo */
};

enum xst_daemon_state {
	XST_DAEMON_UP = 0,
	XST_DAEMON_ABSENT,            /* no socket at the path */
	XST_DAEMON_REFUSED,           /* socket there, nobody listening */
	XST_DAEMON_TIMEOUT,           /* no answer in time */
	XST_DAEMON_BAD_REPLY,         /* answered, but not the protocol we know */
	XST_DAEMON_ERROR,             /* any other failure (permissions, ...) */
};

/* The daemon's `stats` reply: its version, and its values of both lists. */
struct xst_daemon {
	enum xst_daemon_state state;
	char error[320];              /* when not UP: what happened, with the path */
	char version[16];
	struct xsd_stats own;         /* the daemon's own values (XSD_STATS) */
	struct shr_stats engine;      /* the engine's (SHR_STATS) */
	bool own_has[XSD_NR_DAEMON_STATS];    /* which of them the reply carried */
	bool engine_has[XSD_NR_ENGINE_STATS];
};

/*
 * The differences between the two sources that ordinary motion makes: the
 * daemon and the hypervisor are read at different instants while pages
 * are shared and written, so for a moment their counts of saved pages and
 * of frames, and the hypervisor's own sum of shr_pages against freed +
 * used, disagree.  A difference is worth a note only when it is larger
 * than XST_RECON_MIN_PAGES and than 1% of the larger count, in
 * XST_RECON_READS consecutive reads.
 */
enum xst_recon_kind { XST_RECON_SAVED, XST_RECON_FRAMES, XST_RECON_SUM, XST_RECON_NR };
#define XST_RECON_READS 3
#define XST_RECON_MIN_PAGES 256u   /* 1 MiB */
struct xst_recon {
	unsigned int streak[XST_RECON_NR];   /* consecutive reads beyond the threshold */
};

struct xst_snapshot {
	struct xst_hv hv;
	struct xst_daemon daemon;
	size_t nr_domains;
	struct xst_domain *domains;   /* sorted by domid */
	/* how the admission figure is asked (the command line, not the host) */
	double burst_percent;         /* burst kept against, % of shared pages */
	size_t nr_like;               /* table: admission lines for these only */
	const char *const *like;      /* domain names or domids; 0: every guest */
	/* how long each difference has lasted, up to this snapshot (the
	 * reader's history, xst_recon_update) */
	struct xst_recon recon;
};

/* Numbers derived from a snapshot; see xenshare-stat(1) for each formula. */
struct xst_totals {
	bool have_saved;              /* saved_pages known (hypervisor or daemon) */
	bool saved_from_hv;           /* saved_pages is xc_sharing_freed_pages */
	uint64_t saved_pages;         /* freed pages = sum(shr_pages) - used frames */
	uint64_t used_frames;
	uint64_t sum_shr_pages;       /* over every domain the hypervisor listed */
	uint64_t guest_pages;         /* sum over domid != 0 of tot_pages + shr_pages */
	double saved_percent;         /* 100 * saved / guest_pages (0 if no guests) */
	double sharing_ratio;         /* (saved + used) / used: guest pages per frame; 0 if none */
	bool have_free;
	uint64_t free_pages, reserve_pages;  /* reserve 0 if the daemon is down */
	/* headroom.h; have_room when both saved_pages and free_pages are known */
	bool have_room;
	uint64_t at_risk_pages;       /* = saved_pages: every shared page written */
	uint64_t burst_pages;         /* a burst of burst_percent, worst case */
	int64_t room_pages;           /* free - reserve - burst */
};

void xst_totals_compute(const struct xst_snapshot *s, struct xst_totals *t);

/*
 * The admission figure for guests like d (headroom.h): false when it cannot
 * be given (dom0, free or saved memory unknown).  *with: fitting now with
 * sharing; *without: if the new guests shared nothing.  A guest the daemon
 * does not share (daemon down, not managed, mode off) saves nothing, so
 * both are the same.
 */
bool xst_admission(const struct xst_snapshot *s, const struct xst_domain *d,
		   uint64_t *with, uint64_t *without);

/* The domain named spec (its name, or its domid in decimal), or NULL. */
const struct xst_domain *xst_find_domain(const struct xst_snapshot *s, const char *spec);

/* Carries r over to snapshot s: the streak of each difference beyond the
 * threshold grows by one, that of every other starts again at 0. */
void xst_recon_update(const struct xst_snapshot *s, struct xst_recon *r);
/* Whether some difference is beyond the threshold but has not lasted
 * XST_RECON_READS reads yet (a one-shot reader reads again). */
bool xst_recon_pending(const struct xst_recon *r);

/*
 * Calls fn once per note about the snapshot (daemon down, hypervisor
 * unreadable, the two disagreeing, the hypervisor's invariant broken,
 * shares the daemon does not manage).  Notes are full sentences.  The
 * differences of struct xst_recon are noted only once s->recon says they
 * lasted.
 */
void xst_note_foreach(const struct xst_snapshot *s,
		      void (*fn)(const char *note, void *arg), void *arg);

/* Short word for a daemon state: "up", "absent", "refused", ... */
const char *xst_daemon_state_name(enum xst_daemon_state st);

/* The human table (xenshare-stat without options). */
int xst_format_table(FILE *out, const struct xst_snapshot *s);
/* One JSON object on one line, followed by "\n". */
int xst_format_json(FILE *out, const struct xst_snapshot *s);
/* Prometheus text exposition format 0.0.4 (node_exporter textfile collector). */
int xst_format_prometheus(FILE *out, const struct xst_snapshot *s);

#endif /* XST_STATFMT_H */
