/*
 * analyzer/report/report.h - the results as text or JSON (output only).
 *
 * The reports read struct sla_results and print the stacks they show through
 * stacks.h, which symbolizes only those. Text layout: the findings (headline,
 * both stacks, a fix hint), leaks, peak, hot spots, totals, anomalies,
 * warnings, and one last greppable line
 *   SUMMARY: sliceleak: <retained> retained in <n> findings, <leaked> leaked in <n> blocks
 * (leaked: unreachable at exit), followed by ", <owned> owned in <n> owner
 * findings" when there are some, then ", <n> logs TRUNCATED" and ", <n>
 * logs CORRUPT" when some were.
 * JSON: the schema "sliceleak-report/1" of docs/json-schema.md.
 */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "results.h"
#include "stacks.h"
#include "symbolize.h"

struct sla_report_opts {
	size_t top; /* findings (text), leak/peak groups and hot spots shown; 0 = all */
	bool full_names; /* text: C++ template arguments in full (else elided: "<...>") */
};

void sla_report_text(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o);
void sla_report_json(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o);

/*
 * One self-contained HTML page (report/html.c): the heap over time, flame
 * graphs of the six figures of report/profile.h, the text report. The
 * analysis must have been run with series (sla_analysis_opts.series) for
 * the chart to have points.
 */
void sla_report_html(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o);

/*
 * A gzip'd pprof profile (report/pprof.c): samples of objects and bytes
 * allocated, live at the evaluation point, retained by findings, retained
 * by owner findings, leaked.
 * Returns 0, or -1 when compression failed.
 */
int sla_report_pprof(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym);

/*
 * Collapsed stacks (flamegraph.pl's input): one line per stack with a
 * value of `metric` (an enum sla_metric of report/profile.h), its frames
 * from the outermost, separated by ';', then a space and the bytes.
 */
void sla_report_folded(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		       struct sla_symbolizer *sym, int metric);

/*
 * A JSON string. Paths and names come from the log: bytes that are not
 * valid UTF-8 become U+FFFD so that the document stays valid JSON. `html`:
 * also escapes < > & (a string inside an HTML <script> element).
 */
void sla_json_string(FILE *out, const char *s, size_t len, bool html);

/*
 * Pieces of the text report that `check` prints too: the findings (the
 * owner findings, or the others), the summary (suppressions used, SUMMARY).
 */
void sla_report_text_findings(FILE *out, const struct sla_results *res, struct sla_stackset *set,
			      struct sla_symbolizer *sym, size_t top, bool owners,
			      bool full_names);
void sla_report_text_leaks(FILE *out, const struct sla_results *res, struct sla_stackset *set,
			   struct sla_symbolizer *sym, size_t top, bool full_names);
void sla_report_text_summary(FILE *out, const struct sla_results *res);
