/*
 * analyzer/tests/test_gate.c - the gate's limits: strictly greater fails,
 * equal passes; leaked is unreachable, still referenced is its own figure;
 * a truncated or corrupt log fails unless allowed.
 */
#include "gate.h"
#include "check.h"

static void test_gate(void)
{
	struct sla_results res = { .retained_bytes = 100, .leak_bytes = 50, .exit_bytes = 5050 };
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
	CHECK(sla_gate_check(&res, &l, &v)); /* the 5000 referenced bytes are not leaked */
	l.has_max_referenced = true;
	l.max_referenced = 4999;
	CHECK(!sla_gate_check(&res, &l, &v) && v.referenced_exceeded && !v.leaked_exceeded);
	l.max_referenced = 5000;
	CHECK(sla_gate_check(&res, &l, &v));
}

static void test_partial(void)
{
	struct sla_log_info logs[3] = { { .ended = true }, { .truncated = true },
					{ .truncated = true, .corrupt = true } };
	struct sla_results res = { .logs = logs, .nlogs = 1 };
	struct sla_limits l = { .has_max_retained = true, .max_retained = 100 };
	struct sla_verdict v;

	CHECK(sla_gate_check(&res, &l, &v) && !v.truncated && !v.corrupt);
	res.nlogs = 2; /* a truncated log fails, whatever its figures */
	CHECK(!sla_gate_check(&res, &l, &v) && v.partial_failed);
	CHECK(v.truncated == 1 && v.corrupt == 0);
	res.nlogs = 3; /* a corrupt one (read with --lenient) too; it is not also counted truncated */
	CHECK(!sla_gate_check(&res, &l, &v) && v.truncated == 1 && v.corrupt == 1);
	l.allow_truncated = true;
	CHECK(sla_gate_check(&res, &l, &v) && !v.partial_failed && v.truncated == 1);
	res.retained_bytes = 101; /* allowed, its figures still count */
	CHECK(!sla_gate_check(&res, &l, &v) && v.retained_exceeded);
}

int main(void)
{
	test_gate();
	test_partial();
	return check_result();
}
