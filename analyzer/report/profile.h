/*
 * analyzer/report/profile.h - the results as values per allocation stack.
 *
 * The flame graphs of the HTML report, the pprof export and the folded
 * stacks all show the same six figures per canonical stack (stacks.h),
 * taken from the finished results (so suppressions are already applied):
 *   live       blocks live at the evaluation point;
 *   retained   retained bytes of the findings counted in the results'
 *              retained_bytes (view_pinned, dead_region), by the kept
 *              blocks' allocation stack (objects: their blocks);
 *   owned      the same of the owner findings (results' owned_bytes: their
 *              bytes may overlap the others', so they are a figure apart);
 *   leaked     the leaked part of the leak groups (unreachable at exit, or
 *              every block live at exit in a log that could not be
 *              classified: results.h);
 *   peak       the blocks live at the heap's peak;
 *   allocated  every allocation of the run (objects: allocations).
 * Values are "self" values: the stack itself, not its callees.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"
#include "stacks.h"

enum sla_metric {
	SLA_METRIC_LIVE,
	SLA_METRIC_RETAINED,
	SLA_METRIC_OWNED,
	SLA_METRIC_LEAKED,
	SLA_METRIC_PEAK,
	SLA_METRIC_ALLOCATED,
	SLA_METRIC_COUNT
};

/* "live", "retained", "owned", "leaked", "peak", "allocated" */
extern const char *const sla_metric_name[SLA_METRIC_COUNT];
/* What each shows, for people ("live at the evaluation point", ...). */
extern const char *const sla_metric_desc[SLA_METRIC_COUNT];

struct sla_profile_value {
	uint64_t bytes, objects;
};

struct sla_profile {
	size_t n; /* canonical stacks: gids 0 .. n - 1 */
	struct sla_profile_value (*v)[SLA_METRIC_COUNT]; /* [gid][metric], self values */
	struct sla_profile_value total[SLA_METRIC_COUNT];
	bool *used; /* [gid]: the stack or one of its callees has a value */
};

void sla_profile_build(struct sla_profile *p, const struct sla_results *res,
		       const struct sla_stackset *set);
void sla_profile_free(struct sla_profile *p);

/*
 * The stacks of a profile as flame graphs draw them: a tree of frames in
 * which the children of a node with the same function and file are one
 * node, inlined frames expanded. Node 0 is the root ("all", its own
 * parent); a parent's index is smaller than its children's. A frame's name
 * is "function<TAB>file", or "module+0xOFFSET<TAB>module path" without
 * symbols. Only the stacks with a value (p->used) are symbolized.
 */
struct sla_frame_tree {
	uint32_t nnodes, nnames;
	const uint32_t *parent, *name; /* [node] */
	const uint32_t *node_of;       /* [gid]: the node of a stack's innermost frame */
	void *priv;
};

void sla_frame_tree_build(struct sla_frame_tree *ft, const struct sla_profile *p,
			  struct sla_stackset *set, struct sla_symbolizer *sym);
const char *sla_frame_tree_name(const struct sla_frame_tree *ft, uint32_t name);
void sla_frame_tree_free(struct sla_frame_tree *ft);
