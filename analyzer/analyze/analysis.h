/*
 * analyzer/analyze/analysis.h - runs the passes over a set of logs.
 *
 * For each log: pass 1 replays it whole (allocation tracker figures, and
 * where the evaluation point is: a snapshot label, or the peak of retained
 * bytes); when the retention is evaluated somewhere else than at the end, a
 * second replay stops exactly at that point. The results are summed over the
 * logs (a process and its fork children) with stacks merged.
 *
 * --at peak precision: during pass 1 the total of retained bytes (of the
 * blocks that are findings) is sampled whenever the log's clock has advanced
 * by at least SLA_PEAK_SAMPLE_NS since the last sample, at every snapshot and
 * at the end of the log; only blocks whose views changed since the previous
 * sample are re-evaluated. The peak is the largest sample; pass 2 replays
 * exactly to that sample point, so the figures reported are exact for that
 * point, and a higher peak lasting less than the sample interval can be
 * missed. Each log is evaluated at its own peak. A sample is also skipped
 * when the previous one re-examined more than SLA_PEAK_WORK_PER_RECORD views
 * per record since: blocks with very many changing views get sampled less
 * often (the scan stays linear in the log), the end is always sampled.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "results.h"
#include "stacks.h"
#include "state.h"

#define SLA_PEAK_SAMPLE_NS 1000000ull /* 1 ms of the traced program's time */
#define SLA_PEAK_WORK_PER_RECORD 16   /* re-evaluation budget, views per record */

enum sla_at {
	SLA_AT_END,   /* the end of each log (default) */
	SLA_AT_PEAK,  /* each log's peak of retained bytes */
	SLA_AT_LABEL, /* each log's first snapshot with this label */
};

struct sla_analysis_opts {
	enum sla_at at;
	const char *label;	      /* for SLA_AT_LABEL */
	struct sla_thresholds th;
	bool lenient;		      /* analyse a corrupt log up to its bad record */
	bool series;		      /* keep each log's heap over time (sla_log_info.series) */
};

struct sla_analysis {
	struct sla_results res;	      /* what was found (finished) */
	struct sla_stackset *set;     /* to print the results' stacks */
	struct sla_state **states;    /* owned; the results point into them */
	size_t nstates;
};

/*
 * Analyses `npaths` logs. Returns 0, or a negative errno with `err` set to
 * "<path>: offset <n>: <problem>" (corrupt, too new: -EBADMSG,
 * -EPROTONOSUPPORT), "<path>: <problem>" (unreadable) or a message about the
 * evaluation point (-ENOENT: the label is in none of the logs). Free `an` with
 * sla_analysis_free() in both cases.
 */
int sla_analysis_run(struct sla_analysis *an, const struct sla_analysis_opts *o,
		     char *const *paths, size_t npaths, char *err, size_t errlen);
void sla_analysis_free(struct sla_analysis *an);
