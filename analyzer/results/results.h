/*
 * analyzer/results/results.h - what an analysis found, ready to print or to gate.
 *
 * Filled by retention.c (findings) and tracker.c (leaks, peak, hot spots,
 * totals) from one or more logs' states, summed over the logs with stacks
 * merged by their canonical id (stacks.h), then sorted by sla_results_finish().
 * Reports and the gate read only this (and stacks.h to print stacks).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hash.h"

#include "kinds.h"

/* Which view-pinned blocks are findings. */
struct sla_thresholds {
	uint64_t min_block_size;  /* blocks smaller than this are ignored (default 4 KiB) */
	double max_used_percent;  /* blocks using more than this share are fine (default 25) */
	uint64_t max_owner_size;  /* owner findings: largest owner block (default 4 KiB) */
	double min_owner_ratio;	  /* owner findings: retained / owner size at least (default 64) */
};

#define SLA_DEFAULT_MIN_BLOCK_SIZE 4096
#define SLA_DEFAULT_MAX_USED_PERCENT 25.0
#define SLA_DEFAULT_MAX_OWNER_SIZE 4096
#define SLA_DEFAULT_MIN_OWNER_RATIO 64.0
#define SLA_THRESHOLDS_DEFAULT                                                            \
	{ SLA_DEFAULT_MIN_BLOCK_SIZE, SLA_DEFAULT_MAX_USED_PERCENT, SLA_DEFAULT_MAX_OWNER_SIZE, \
	  SLA_DEFAULT_MIN_OWNER_RATIO }

/* The kinds of findings (JSON "kind"). */
enum sla_finding_kind {
	SLA_FINDING_VIEW_PINNED = 0, /* "view_pinned": big blocks kept by small views */
	SLA_FINDING_DEAD_REGION = 1, /* "dead_region": blocks kept through a dead region */
	SLA_FINDING_OWNER = 2,	     /* "owner": big blocks kept alive by small blocks */
};

/*
 * A view_pinned finding: view-pinned blocks of one (allocation stack, view
 * stack) pair, the view stack being the one of each block's oldest live
 * view.
 *
 * A dead_region finding (deadregion.h): blocks kept alive only through the
 * dead regions of view-pinned blocks (the holders), grouped by (the kept
 * blocks' allocation stack = alloc_gid, the holder's oldest live view's
 * stack = view_gid, the holder's allocation stack = holder_gid). Its
 * used_bytes is 0 and retained_bytes is block_bytes, less what a kept block
 * already counts as a view_pinned finding (a byte is never counted twice).
 *
 * An owner finding (owner.h): small blocks (the owners, holder_*) that are
 * the only way to big ones in the dominator tree of the live heap, grouped
 * by (the owners' allocation stack = holder_gid, the stack of most of
 * their retained bytes = alloc_gid); view_gid is 0. blocks, block_bytes
 * and min/max_size count the retained blocks of alloc_gid, retained_bytes
 * and retained_blocks every block the owners retain; its bytes are summed
 * in res->owned_bytes, not in res->retained_bytes.
 */
struct sla_finding {
	/* the group key: four adjacent uint32_t */
	uint32_t kind;		       /* enum sla_finding_kind */
	uint32_t alloc_gid, view_gid;  /* canonical stacks */
	uint32_t holder_gid;	       /* dead_region: the holders' allocation stack; else 0 */
	enum sla_view_kind view_kind;  /* of the oldest view of the first block seen */
	uint64_t blocks;
	uint64_t block_bytes;	       /* sum of the blocks' sizes */
	uint64_t used_bytes;	       /* sum of the union of each block's live view ranges */
	uint64_t retained_bytes;       /* block_bytes - used_bytes */
	uint64_t views;		       /* live references on these blocks */
	uint64_t min_size, max_size;   /* of one block */
	uint64_t min_used, max_used;   /* of one block */
	double pinned_max_s;	       /* longest time a block has been pinned (max, not median) */
	/* dead_region only: the holders (view-pinned blocks whose dead region keeps these) */
	uint64_t holder_blocks, holder_bytes;
	uint64_t holder_used_bytes;    /* the union of their live views */
	uint64_t holder_views;	       /* live references on them */
	bool holder_tail;	       /* every keeping pointer lies past the holder's last view */
	/* owner only (holder_blocks, holder_bytes: the owners) */
	uint64_t owner_min_size, owner_max_size; /* of one owner */
	uint64_t retained_blocks;      /* every block retained, of any stack */
	uint64_t ref_min, ref_max;     /* offsets at which the owners' words point into the
					  alloc_gid blocks they dominate directly; none when
					  ref_min > ref_max */
	UT_hash_handle hh;
};

/*
 * Blocks of one allocation stack (leaks, peak holders). For leaks, bytes and
 * blocks are those live at exit, and the leaked ones are LeakSanitizer's
 * classes, from the end's pointer scan: direct = nothing points to the block
 * (from a root, a reachable block, a dead region or another leaked block),
 * indirect = only other unreachable blocks point to it; the rest is still
 * referenced at exit. A log without a complete pointer scan at its end
 * cannot tell: all its live blocks count as leaked (unclassified), so a gate
 * errs on the side of failing.
 */
struct sla_group {
	uint32_t gid;
	uint64_t bytes, blocks;
	uint64_t direct_bytes, direct_blocks;
	uint64_t indirect_bytes, indirect_blocks;
	uint64_t leaked_bytes, leaked_blocks; /* direct + indirect + unclassified */
	/* sampled logs: the live and leaked blocks recorded exactly (at least exact_bytes) */
	uint64_t exact_leaked_bytes, exact_leaked_blocks, exact_bytes;
	double leaked_var; /* of leaked_bytes */
};

/* Allocations of one stack over the whole run. */
struct sla_hotspot {
	uint32_t gid;
	uint64_t allocations, bytes, temporaries;
};

/* Everything the allocation tracker sums per canonical stack (results.c). */
struct sla_stack_acc {
	uint64_t exit_bytes, exit_blocks; /* live at the end of the log */
	uint64_t direct_bytes, direct_blocks, indirect_bytes, indirect_blocks;
	uint64_t unclassified_bytes, unclassified_blocks;
	uint64_t exact_leaked_bytes, exact_leaked_blocks, exact_exit_bytes; /* sla_group's */
	double leaked_var;
	uint64_t peak_bytes, peak_blocks;
	uint64_t allocations, bytes, temporaries;
	uint64_t live_bytes, live_blocks; /* at the evaluation point */
};

/* Whether a log's dead-region analysis ran (see sla_dr_status_text()). */
enum sla_dr_status {
	SLA_DR_COMPLETE,	/* a complete pointer scan at the evaluation point */
	SLA_DR_PARTIAL,		/* a scan that stopped at the shim's size cap */
	SLA_DR_UNREAD,		/* a scan that could not read all it meant to */
	SLA_DR_OLD_FORMAT,	/* a log of format 1.0: no scans at all */
	SLA_DR_NO_SCAN,		/* no scan at the evaluation point (scan disabled) */
	SLA_DR_TRUNCATED,	/* at the end of a log without END: no final scan */
	SLA_DR_AT_PEAK,		/* --at peak: scans are taken at the end and at snapshots only */
	SLA_DR_NOT_EVALUATED,	/* the evaluation point is not in this log */
};

/* Whether the analysis ran on a scan: complete or partial. */
static inline bool sla_dr_ran(enum sla_dr_status s)
{
	return s == SLA_DR_COMPLETE || s == SLA_DR_PARTIAL || s == SLA_DR_UNREAD;
}

/* "complete", "partial: ..." or "unavailable: ..." (the JSON's words). */
const char *sla_dr_status_text(enum sla_dr_status s);

/* One analysed log, as listed in reports. */
struct sla_log_info {
	const char *path;
	uint64_t pid, ppid;
	const char *exe;	      /* NULL when the log had no PROCESS record */
	const char *interposer;	      /* whose malloc the program called, not the shim's */
	bool go;		      /* a Go program: exits past libc, never with END */
	bool ended;		      /* END record seen */
	bool truncated;		      /* no END: analysed up to the last complete record */
	uint64_t stacks_lost;	      /* truncated 2.x: events shown without their stack */
	uint64_t cut_seq;	      /* truncated 2.1: analysed below this seq, where every
					 thread's stream is complete; UINT64_MAX: no cut */
	uint64_t cut_records;	      /* records left out past cut_seq */
	bool corrupt;		      /* --lenient: analysed up to a corrupt record */
	uint64_t corrupt_offset;
	char corrupt_msg[160];
	uint64_t records;	      /* records read (pass 1) */
	uint64_t unknown_records;     /* of kinds this version does not know, skipped */
	unsigned major, minor;	      /* format version of the log */
	uint64_t dropped;	      /* events the writer could not record */
	uint64_t anomalies[SLA_ANOM_COUNT];
	bool at_found;		      /* the evaluation point (--at) exists in this log */
	enum sla_dr_status dead_region; /* whether the dead-region analysis could run */
	bool scan_capped;	      /* its scan stopped at the shim's cap or could not read */
	uint64_t sample_bytes;	      /* sampled log (replay/sampling.h): the sampler's mean */
	uint64_t exact_bytes;	      /* and the size from which every block is recorded */
	bool late_start;	      /* recording started after the process (start=signal) */
	uint64_t before_start;	      /* frees and reallocs of blocks from before the start */
	double eval_time_s;	      /* log time of the evaluation point */
	double duration_s;	      /* log time of its last record */
	struct sla_series *series;    /* its heap over time (analyze/series.h), when asked for */
};

struct sla_suppressions;
struct sla_series;

struct sla_results {
	const char *at; /* "end", "peak" or a snapshot label */
	const struct sla_suppressions *suppressions; /* applied ones, with counts; or NULL */
	struct sla_log_info *logs;
	size_t nlogs;

	struct sla_finding *findings;	/* sorted by retained bytes, after finish() */
	size_t nfindings;
	uint64_t retained_bytes;	/* sum over view_pinned and dead_region findings */
	uint64_t owned_bytes;		/* sum over owner findings */
	size_t nowner;			/* owner findings among the findings */
	uint64_t dead_region_min_bytes; /* dead_region findings below this are dropped by finish() */
	enum sla_dr_status dead_region; /* over all logs: the worst (see results.c) */
	const char *dead_region_text;   /* the top level's "dead_region_analysis" */
	char dead_region_buf[200];
	uint64_t pinned_blocks;		/* all view-pinned blocks, findings or not */

	/*
	 * Blocks live at the end: leaked (unreachable, or in a log that could
	 * not be classified) and still referenced (the rest). The list holds
	 * every stack with a live block, sorted by leaked bytes, then live bytes.
	 */
	struct sla_group *leaks;
	size_t nleaks;
	uint64_t leak_bytes, leak_blocks;	/* leaked: what `check --max-leaked` gates */
	uint64_t exit_bytes, exit_blocks;	/* all blocks live at the end */
	bool leaks_classified;		/* every log's leaks classified (direct/indirect) */
	size_t classified_logs;		/* how many were */
	uint64_t direct_bytes, direct_blocks, indirect_bytes, indirect_blocks;
	uint64_t unclassified_bytes, unclassified_blocks; /* live in unclassified logs */
	/*
	 * Some log is sampled: the byte and block figures of leaks, live,
	 * peak and hot spots are estimates (Horvitz-Thompson, replay/sampling.h)
	 * with these variances (bytes^2); exact_* count only blocks recorded
	 * with certainty (every block of an unsampled log), what a gate uses.
	 */
	bool sampled;
	double leak_var, exit_var, live_var, peak_var;
	uint64_t exact_leak_bytes, exact_leak_blocks, exact_exit_bytes;

	uint64_t peak_bytes, peak_blocks; /* sum of each log's heap peak */
	double peak_time_s;		  /* of the log with the largest peak */
	struct sla_group *peak;		  /* holders at the peak, sorted by bytes */
	size_t npeak;

	struct sla_group *live;		/* blocks live at the evaluation point, sorted by bytes */
	size_t nlive;
	uint64_t live_bytes, live_blocks;

	struct sla_hotspot *hotspots;	/* sorted by allocations */
	size_t nhotspots;
	struct sla_hotspot *temporary;	/* the stacks with temporaries, most first */
	size_t ntemporary;

	uint64_t allocations, frees, bytes_allocated, temporaries;

	/* ---- private: accumulators until finish() ---- */
	struct sla_finding *acc_findings;
	struct sla_stack_acc *acc;     /* indexed by gid (dense): no hashing per stack */
	size_t acc_cap;
	uint64_t peak_log_max; /* the largest single log's peak */
};

void sla_results_init(struct sla_results *res, const char *at);
/* Adds one log's entry; returns it for the caller to fill. */
struct sla_log_info *sla_results_add_log(struct sla_results *res);
/* Turns the accumulators into sorted arrays. Call once, after all logs. */
void sla_results_finish(struct sla_results *res);
void sla_results_free(struct sla_results *res);

/* Logs analysed only in part: truncated (no END) and corrupt (--lenient). */
void sla_results_partial(const struct sla_results *res, size_t *truncated, size_t *corrupt);

/* What `check` compares with --max-leaked and --max-referenced (exact parts when sampled). */
uint64_t sla_results_gated_leak(const struct sla_results *res);
uint64_t sla_results_gated_referenced(const struct sla_results *res);

/* Accumulators (used by retention.c and tracker.c). */
struct sla_finding *sla_results_finding(struct sla_results *res, uint32_t alloc_gid,
					uint32_t view_gid);
struct sla_finding *sla_results_dead_finding(struct sla_results *res, uint32_t alloc_gid,
					     uint32_t view_gid, uint32_t holder_gid);
struct sla_finding *sla_results_owner_finding(struct sla_results *res, uint32_t alloc_gid,
					      uint32_t owner_gid);
struct sla_stack_acc *sla_results_acc(struct sla_results *res, uint32_t gid);

/*
 * Counts one block of `size` bytes, `used` of them by live views and
 * `retained` of them wasted, into finding f and into res->retained_bytes.
 * `kind` is its oldest view's kind (the finding keeps its first block's),
 * `pinned_s` how long that view has been live.
 */
void sla_finding_add_block(struct sla_results *res, struct sla_finding *f,
			   enum sla_view_kind kind, uint64_t size, uint64_t used, uint64_t retained,
			   double pinned_s);
