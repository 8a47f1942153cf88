/*
 * analyzer/results/gate.h - the CI verdict of `sliceleak check`.
 *
 * A limit is exceeded when the figure is strictly greater than it: a limit
 * of 10MiB accepts exactly 10 MiB. Retained bytes are the sum over findings
 * (at the evaluation point); leaked bytes are LeakSanitizer's, unreachable
 * at exit (direct + indirect; every live block of a log that cannot be
 * classified); referenced bytes are live at exit but still referenced;
 * owned bytes the sum over owner findings (apart from retained bytes).
 *
 * A log analysed only in part - truncated (no END: killed, crashed, _exit)
 * or corrupt (read with --lenient up to its bad record) - fails the gate
 * unless allow_truncated: its figures are those of a moment before the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "results.h"

struct sla_limits {
	bool has_max_retained;
	uint64_t max_retained;
	bool has_max_leaked;
	uint64_t max_leaked;
	bool has_max_referenced;
	uint64_t max_referenced;
	bool allow_truncated;
	bool has_max_owned;
	uint64_t max_owned;
};

struct sla_verdict {
	bool retained_exceeded;
	bool leaked_exceeded;
	bool referenced_exceeded;
	bool owned_exceeded;
	size_t truncated, corrupt; /* logs analysed only in part */
	bool partial_failed;	   /* some were, and that was not allowed */
};

/* Returns true when every limit set holds; *v says which did not. */
bool sla_gate_check(const struct sla_results *res, const struct sla_limits *l,
		    struct sla_verdict *v);
