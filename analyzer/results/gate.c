/* analyzer/results/gate.c - the CI verdict of `sliceleak check`. */
#include "gate.h"

bool sla_gate_check(const struct sla_results *res, const struct sla_limits *l,
		    struct sla_verdict *v)
{
	v->retained_exceeded = l->has_max_retained && res->retained_bytes > l->max_retained;
	v->leaked_exceeded = l->has_max_leaked && res->leak_bytes > l->max_leaked;
	return !v->retained_exceeded && !v->leaked_exceeded;
}
