/*
 * analyzer/report/report.h - the results as text or JSON (output only).
 *
 * The reports read struct sla_results and print the stacks they show through
 * stacks.h, which symbolizes only those. Text layout: the findings (headline,
 * both stacks, a fix hint), leaks, peak, hot spots, totals, anomalies,
 * warnings, and one last greppable line
 *   SUMMARY: sliceleak: <retained> retained in <n> findings, <leaked> leaked in <n> blocks
 * JSON: the schema "sliceleak-report/1" of docs/json-schema.md.
 */
#pragma once

#include <stdio.h>

#include "results.h"
#include "stacks.h"
#include "symbolize.h"

struct sla_report_opts {
	size_t top; /* findings (text), leak/peak groups and hot spots shown; 0 = all */
};

void sla_report_text(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o);
void sla_report_json(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		     struct sla_symbolizer *sym, const struct sla_report_opts *o);

/* Pieces of the text report that `check` prints too (the summary: suppressions used, SUMMARY). */
void sla_report_text_findings(FILE *out, const struct sla_results *res, struct sla_stackset *set,
			      struct sla_symbolizer *sym, size_t top);
void sla_report_text_summary(FILE *out, const struct sla_results *res);
