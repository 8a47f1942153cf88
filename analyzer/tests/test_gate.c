/* analyzer/tests/test_gate.c - the gate's limits: strictly greater fails, equal passes. */
#include "gate.h"
#include "check.h"

static void test_gate(void)
{
	struct sla_results res = { .retained_bytes = 100, .leak_bytes = 50 };
	struct sla_limits l = { .has_max_retained = true, .max_retained = 100 };
	struct sla_verdict v;

	CHECK(sla_gate_check(&res, &l, &v)); /* equal to the limit is within it */
	l.max_retained = 99;
	CHECK(!sla_gate_check(&res, &l, &v) && v.retained_exceeded && !v.leaked_exceeded);
	l.max_retained = 1000;
	l.has_max_leaked = true;
	l.max_leaked = 49;
	CHECK(!sla_gate_check(&res, &l, &v) && !v.retained_exceeded && v.leaked_exceeded);
	l.max_leaked = 50;
	CHECK(sla_gate_check(&res, &l, &v));
}

int main(void)
{
	test_gate();
	return check_result();
}
