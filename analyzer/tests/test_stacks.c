/*
 * analyzer/tests/test_stacks.c - canonical stacks: merged across logs by
 * (module, offset), resolved in the module map current when each edge was
 * recorded (dlopen/dlclose), own modules trimmed, frames innermost first.
 */
#include <string.h>

#include "stacks.h"
#include "check.h"
#include "replay_util.h"

/* A log of the same program loaded at another address (ASLR). */
static struct sla_state *log_at(uint64_t bias, uint64_t *leaf)
{
	struct logbuf b;
	struct sla_state *st;
	uint64_t s;

	lb_init(&b);
	lb_process(&b, 1, 0, "/bin/p");
	lb_modules_reset(&b);
	lb_module(&b, bias, "/bin/p", 0x1000, 0x1000);
	s = lb_stack(&b, 0, bias + 0x1100);
	*leaf = lb_stack(&b, s, bias + 0x1200);
	st = replay_buf(&b);
	lb_free(&b);
	return st;
}

static void test_merge_across_logs(void)
{
	struct sla_stackset *set = sla_stackset_new();
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);
	uint64_t la, lb_;
	struct sla_state *a = log_at(0x555500000000, &la), *b = log_at(0x560000000000, &lb_);
	uint32_t ga = sla_stackset_intern(set, a, (uint32_t)la);
	uint32_t gb = sla_stackset_intern(set, b, (uint32_t)lb_);
	const struct sla_frame *f;
	size_t n;

	CHECK(ga != 0);
	CHECK_EQ_U(ga, gb);
	CHECK_EQ_U(sla_stackset_intern(set, a, 0), 0);
	CHECK(sla_stackset_intern(set, a, 1) != ga); /* the parent is another stack */
	n = sla_stackset_frames(set, ga, sym, &f);
	CHECK_EQ_U(n, 2);
	CHECK_EQ_U(f[0].offset, 0x1200); /* innermost first */
	CHECK_EQ_U(f[1].offset, 0x1100);
	CHECK(f[0].module && !strcmp(f[0].module, "/bin/p"));
	sla_symbolizer_free(sym);
	sla_stackset_free(set);
	sla_state_free(a);
	sla_state_free(b);
}

/*
 * The same address means different code before and after dlclose/dlopen:
 * each edge is resolved in the map of its time. Frames in libslice.so or
 * libsliceleak.so are trimmed.
 */
static void test_module_generations(void)
{
	struct logbuf b;
	struct sla_state *st;
	struct sla_stackset *set = sla_stackset_new();
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);
	const struct sla_frame *f;
	uint64_t s1, s2, s3, s4, s5;
	size_t n;

	lb_init(&b);
	lb_process(&b, 1, 0, "/bin/p");
	lb_modules_reset(&b);
	lb_module(&b, 0x400000, "/bin/p", 0, 0x10000);
	lb_module(&b, 0x7f0000000000, "/lib/plugin_a.so", 0, 0x10000);
	s1 = lb_stack(&b, 0, 0x400100);
	s2 = lb_stack(&b, s1, 0x7f0000000500);
	lb_modules_reset(&b); /* dlclose(a), dlopen(b) at the same address */
	lb_module(&b, 0x400000, "/bin/p", 0, 0x10000);
	lb_module(&b, 0x7f0000000000, "/lib/plugin_b.so", 0, 0x10000);
	lb_module(&b, 0x7e0000000000, "/usr/lib/libslice.so.0", 0, 0x10000);
	s3 = lb_stack(&b, s1, 0x7f0000000500);
	s4 = lb_stack(&b, s3, 0x7e0000000040); /* inside libslice: trimmed */
	s5 = lb_stack(&b, 0, 0x7e0000000040);  /* nothing but libslice: the empty stack */
	st = replay_buf(&b);

	n = sla_stackset_frames(set, sla_stackset_intern(set, st, (uint32_t)s2), sym, &f);
	CHECK(n == 2 && f[0].module && !strcmp(f[0].module, "/lib/plugin_a.so"));
	n = sla_stackset_frames(set, sla_stackset_intern(set, st, (uint32_t)s3), sym, &f);
	CHECK(n == 2 && f[0].module && !strcmp(f[0].module, "/lib/plugin_b.so"));
	CHECK(sla_stackset_intern(set, st, (uint32_t)s4) ==
	      sla_stackset_intern(set, st, (uint32_t)s3));
	CHECK(sla_stackset_trimmed(set) >= 1);
	CHECK_EQ_U(sla_stackset_intern(set, st, (uint32_t)s5), 0);
	/* an address in no module: the raw address, no module */
	sla_state_add_stack(st, 0, 0x12345);
	n = sla_stackset_frames(set, sla_stackset_intern(set, st, (uint32_t)st->nstacks - 1), sym,
				&f);
	CHECK(n == 1 && f[0].module == NULL && f[0].address == 0x12345);
	sla_symbolizer_free(sym);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

int main(void)
{
	test_merge_across_logs();
	test_module_generations();
	return check_result();
}
