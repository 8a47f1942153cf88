/*
 * analyzer/results/gate.h - the CI verdict of `sliceleak check`.
 *
 * A limit is exceeded when the figure is strictly greater than it: a limit
 * of 10MiB accepts exactly 10 MiB. Retained bytes are the sum over findings
 * (at the evaluation point), leaked bytes the blocks live at the end.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "results.h"

struct sla_limits {
	bool has_max_retained;
	uint64_t max_retained;
	bool has_max_leaked;
	uint64_t max_leaked;
};

struct sla_verdict {
	bool retained_exceeded;
	bool leaked_exceeded;
};

/* Returns true when every limit set holds; *v says which did not. */
bool sla_gate_check(const struct sla_results *res, const struct sla_limits *l,
		    struct sla_verdict *v);
