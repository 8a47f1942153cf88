/* analyzer/results/gate.c - the CI verdict of `sliceleak check`. */
#include "gate.h"
#include "units.h"

bool sla_gate_check(const struct sla_results *res, const struct sla_limits *l,
		    struct sla_verdict *v)
{
	v->retained_exceeded = l->has_max_retained && res->retained_bytes > l->max_retained;
	v->leaked_exceeded = l->has_max_leaked && sla_results_gated_leak(res) > l->max_leaked;
	v->referenced_exceeded = l->has_max_referenced &&
				 sla_results_gated_referenced(res) > l->max_referenced;
	v->owned_exceeded = l->has_max_owned && res->owned_bytes > l->max_owned;
	sla_results_partial(res, &v->truncated, &v->corrupt);
	v->partial_failed = (v->truncated || v->corrupt) && !l->allow_truncated;
	return !v->retained_exceeded && !v->leaked_exceeded && !v->referenced_exceeded &&
	       !v->owned_exceeded && !v->partial_failed;
}
