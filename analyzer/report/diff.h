/*
 * analyzer/report/diff.h - what changed between two analyses (`sliceleak
 * diff`, `sliceleak check --baseline`).
 *
 * Both sides are JSON reports (schema sliceleak-report/1): a saved one, or
 * one the analyzer renders from logs. Entries of three lists are compared:
 * findings (of every kind), leak groups and the peak's groups. An entry is
 * identified by its symbolized stacks, frame by frame as function and file
 * name only: addresses, offsets, line numbers and directories are left out,
 * so two builds of the same code (another link order, another checkout)
 * match.
 * An entry's identity is its stacks' keys, sorted, whatever the report calls
 * them (alloc_stack, view_stack, ...): a finding kind added later compares
 * without changes here. Entries with the same identity on one side are
 * added up. A finding's size is its retained_bytes; a leak group's, its
 * leaked bytes; a peak group's, its bytes. A saved report made with --top
 * lists only the largest groups: the entries of both sides no larger than
 * the smallest it lists are left out of the comparison (counted as
 * uncomparable) rather than shown as appeared or vanished.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "jsonread.h"
#include "results.h"
#include "stacks.h"
#include "symbolize.h"

enum sla_diff_list { SLA_DIFF_FINDINGS, SLA_DIFF_LEAKS, SLA_DIFF_PEAK, SLA_DIFF_NLISTS };

struct sla_diff_entry {
	char *key;   /* identity: kind and stacks as function@file frames */
	char *label; /* for people: kind, the innermost frames of each stack */
	uint64_t bytes, blocks;
};

/* One side: its totals and entries. */
struct sla_diff_side {
	uint64_t retained, owned, leaked, peak;
	struct sla_diff_entry *e[SLA_DIFF_NLISTS];
	size_t n[SLA_DIFF_NLISTS];
	bool cut[SLA_DIFF_NLISTS];	     /* a saved report listed only its largest (--top) */
	uint64_t cut_bytes[SLA_DIFF_NLISTS]; /* then the smallest size it lists */
};

enum sla_diff_change { SLA_DIFF_APPEARED, SLA_DIFF_GREW, SLA_DIFF_SHRANK, SLA_DIFF_VANISHED };

struct sla_diff_item {
	enum sla_diff_list list;
	enum sla_diff_change change;
	const struct sla_diff_entry *base, *new; /* NULL on the side where it is absent */
};

struct sla_diff {
	struct sla_diff_side base, new;
	struct sla_diff_item *items; /* by list, then by growth (largest first) */
	size_t nitems;
	size_t unchanged[SLA_DIFF_NLISTS];
	size_t uncomparable[SLA_DIFF_NLISTS]; /* left out below a cut list's smallest entry */
};

/*
 * Reads one side from a parsed JSON report. Returns 0, or -1 with `err`
 * set when it is not a sliceleak report or of a schema this version does
 * not know.
 */
int sla_diff_side_read(struct sla_diff_side *side, const struct sla_json *report, char *err,
		       size_t errlen);
/* Reads one side from an analysis (every group, no --top). */
void sla_diff_side_from_results(struct sla_diff_side *side, const struct sla_results *res,
				struct sla_stackset *set, struct sla_symbolizer *sym);
void sla_diff_side_free(struct sla_diff_side *side);

/* Compares the sides (taken over, and changed: sla_diff_free frees them). Call once. */
void sla_diff_compute(struct sla_diff *d);
void sla_diff_free(struct sla_diff *d);

/*
 * The diff in words, or as JSON (schema sliceleak-diff/1). `only_growth`:
 * the findings and leak groups that appeared or grew (what a gate names).
 */
void sla_diff_print_text(FILE *out, const struct sla_diff *d, bool only_growth);
void sla_diff_print_json(FILE *out, const struct sla_diff *d, const char *base_name,
			 const char *new_name);

extern const char *const sla_diff_list_name[SLA_DIFF_NLISTS];
extern const char *const sla_diff_change_name[4];
