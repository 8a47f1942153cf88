/*
 * analyzer/tests/test_suppress.c - LSan-style templates, parsing, and
 * suppressions removing findings and leak groups with their bytes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "retention.h"
#include "suppress.h"
#include "tracker.h"
#include "check.h"
#include "replay_util.h"

static void test_match(void)
{
	CHECK(sla_suppress_match("foo", "libfoo.so"));
	CHECK(sla_suppress_match("^lib", "libfoo.so"));
	CHECK(!sla_suppress_match("^foo", "libfoo.so"));
	CHECK(sla_suppress_match("so$", "libfoo.so"));
	CHECK(!sla_suppress_match("foo$", "libfoo.so"));
	CHECK(sla_suppress_match("^lib*.so$", "libfoo.so"));
	CHECK(sla_suppress_match("^lib*o*o$", "libfoo.so.o"));
	CHECK(!sla_suppress_match("^lib*x$", "libfoo.so"));
	CHECK(sla_suppress_match("parse_*_header", "my_parse_http_header_v2"));
	CHECK(sla_suppress_match("*", ""));
	CHECK(sla_suppress_match("^$", ""));
	CHECK(!sla_suppress_match("^$", "x"));
	CHECK(!sla_suppress_match("x", NULL));
	/* many stars against a long text stays fast (no exponential backtracking) */
	CHECK(!sla_suppress_match("^*a*a*a*a*a*a*a*a*a*b$",
				  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
}

static void test_parse(void)
{
	struct sla_suppressions s = { 0 };
	char path[] = "/tmp/sla-supp.XXXXXX";
	int fd = mkstemp(path);
	size_t line = 0;
	FILE *f;

	CHECK(sla_suppress_add(&s, "leak:foo") == 0);
	CHECK(sla_suppress_add(&s, "view:^bar$") == 0);
	CHECK(sla_suppress_add(&s, "leak:") == -EINVAL);
	CHECK(sla_suppress_add(&s, "race:foo") == -EINVAL);
	CHECK(sla_suppress_add(&s, "foo") == -EINVAL);
	CHECK_EQ_U(s.n, 2);
	f = fdopen(fd, "w");
	fputs("# known\n\n  leak:zlib   # inflate buffers\nview:^parse$\n", f);
	fclose(f);
	CHECK(sla_suppress_load(&s, path, &line) == 0);
	CHECK_EQ_U(s.n, 4);
	CHECK(s.list[2].type == SLA_SUPPRESS_LEAK && !strcmp(s.list[2].pattern, "zlib"));
	f = fopen(path, "w");
	fputs("leak:ok\nnonsense\n", f);
	fclose(f);
	CHECK(sla_suppress_load(&s, path, &line) == -EINVAL);
	CHECK_EQ_U(line, 2);
	CHECK(sla_suppress_load(&s, "/nonexistent/supp", &line) == -ENOENT);
	unlink(path);
	sla_suppress_free(&s);
}

/* Blocks from /bin/app and from /lib/libz.so; views from /bin/app. */
static void test_apply(void)
{
	struct logbuf b;
	struct sla_state *st;
	struct sla_stackset *set = sla_stackset_new();
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);
	struct sla_results res;
	struct sla_suppressions s = { 0 };
	struct sla_thresholds th = SLA_THRESHOLDS_DEFAULT;
	uint64_t app, z, view;

	lb_init(&b);
	lb_process(&b, 1, 0, "/bin/app");
	lb_modules_reset(&b);
	lb_module(&b, 0x400000, "/bin/app", 0, 0x10000);
	lb_module(&b, 0x700000, "/lib/libz.so", 0, 0x10000);
	app = lb_stack(&b, 0, 0x401000);
	z = lb_stack(&b, app, 0x701000);
	view = lb_stack(&b, 0, 0x402000);
	lb_alloc(&b, 0x1000000, 1 << 20, app);
	lb_slice_new(&b, 0x1000000, 0x1000000, 1, 1, view);
	lb_alloc(&b, 0x2000000, 1 << 16, z);
	lb_slice_new(&b, 0x2000000, 0x2000000, 1, 1, view);
	lb_alloc(&b, 0x3000000, 100, z);
	lb_end(&b, 0);
	st = replay_buf(&b);
	sla_results_init(&res, "end");
	sla_tracker_collect(&res, st, set);
	sla_tracker_unclassified(&res, st, set); /* no scan: every live block counts as leaked */
	sla_retention_collect(&res, st, set, &th, st->time_ns);
	sla_results_finish(&res);
	CHECK_EQ_U(res.nfindings, 2);
	CHECK_EQ_U(res.leak_bytes, (1 << 20) + (1 << 16) + 100);
	CHECK_EQ_U(res.nleaks, 2);

	/* libz's finding (its allocation stack has a libz frame) and libz's leaks */
	CHECK(sla_suppress_add(&s, "view:libz") == 0);
	CHECK(sla_suppress_add(&s, "leak:^/lib/libz.so$") == 0);
	CHECK(sla_suppress_add(&s, "leak:nothing-matches") == 0);
	sla_suppress_apply(&s, &res, set, sym);
	CHECK_EQ_U(res.nfindings, 1);
	CHECK_EQ_U(res.findings[0].block_bytes, 1 << 20);
	CHECK_EQ_U(res.retained_bytes, (1 << 20) - 1);
	CHECK_EQ_U(s.list[0].matches, 1);
	CHECK_EQ_U(s.list[0].bytes, (1 << 16) - 1);
	CHECK_EQ_U(res.nleaks, 1);
	CHECK_EQ_U(res.leak_blocks, 1);
	CHECK_EQ_U(res.leak_bytes, 1 << 20);
	CHECK_EQ_U(res.exit_bytes, 1 << 20);
	CHECK_EQ_U(res.unclassified_bytes, 1 << 20);
	CHECK_EQ_U(s.list[1].matches, 1);
	CHECK_EQ_U(s.list[1].bytes, (1 << 16) + 100);
	CHECK_EQ_U(s.list[1].leaked_bytes, (1 << 16) + 100);
	CHECK_EQ_U(s.list[2].matches, 0);
	sla_suppress_free(&s);
	sla_results_free(&res);
	sla_symbolizer_free(sym);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

/* The built-in list parses, is marked, and its anchors spare look-alike names. */
static void test_defaults(void)
{
	struct sla_suppressions s = { 0 };
	bool doalloc = false;

	sla_suppress_add_defaults(&s);
	CHECK(s.n >= 10);
	for (size_t i = 0; i < s.n; i++) {
		CHECK(s.list[i].builtin && s.list[i].type == SLA_SUPPRESS_LEAK);
		if (sla_suppress_match(s.list[i].pattern, "_IO_file_doallocate")) {
			doalloc = true;
			CHECK(!sla_suppress_match(s.list[i].pattern, "my_IO_file_doallocate"));
		}
		CHECK(!sla_suppress_match(s.list[i].pattern, "main"));
		CHECK(!sla_suppress_match(s.list[i].pattern, "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	}
	CHECK(doalloc);
	sla_suppress_free(&s);
}

/*
 * owner:PATTERN hides owner findings (matched on the owners' or the
 * retained blocks' stack) and takes their bytes off owned_bytes, never off
 * retained_bytes; view: leaves them alone.
 */
static void test_owner(void)
{
	struct logbuf b;
	struct sla_state *st;
	struct sla_stackset *set = sla_stackset_new();
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);
	struct sla_results res;
	struct sla_suppressions s = { 0 };
	struct sla_finding *f;
	uint64_t app, z;

	lb_init(&b);
	lb_process(&b, 1, 0, "/bin/app");
	lb_modules_reset(&b);
	lb_module(&b, 0x400000, "/bin/app", 0, 0x10000);
	lb_module(&b, 0x700000, "/lib/libz.so", 0, 0x10000);
	app = lb_stack(&b, 0, 0x401000);
	z = lb_stack(&b, app, 0x701000);
	lb_end(&b, 0);
	st = replay_buf(&b);
	sla_results_init(&res, "end");
	f = sla_results_owner_finding(&res, sla_stackset_intern(set, st, (uint32_t)app),
				      sla_stackset_intern(set, st, (uint32_t)z));
	f->holder_blocks = f->blocks = 1;
	f->retained_bytes = 1 << 20;
	res.owned_bytes = 1 << 20;
	res.retained_bytes = 7;
	sla_results_finish(&res);
	CHECK_EQ_U(res.nowner, 1);
	CHECK(sla_suppress_add(&s, "view:libz") == 0);
	sla_suppress_apply(&s, &res, set, sym);
	CHECK_EQ_U(res.nowner, 1); /* view: is not owner: */
	CHECK(sla_suppress_add(&s, "owner:libz") == 0);
	sla_suppress_apply(&s, &res, set, sym);
	CHECK_EQ_U(res.nfindings, 0);
	CHECK_EQ_U(res.nowner, 0);
	CHECK_EQ_U(res.owned_bytes, 0);
	CHECK_EQ_U(res.retained_bytes, 7);
	CHECK_EQ_U(s.list[1].matches, 1);
	CHECK_EQ_U(s.list[1].bytes, 1 << 20);
	CHECK(!strcmp(sla_suppress_type_name(s.list[1].type), "owner"));
	sla_suppress_free(&s);
	sla_results_free(&res);
	sla_symbolizer_free(sym);
	sla_stackset_free(set);
	sla_state_free(st);
	lb_free(&b);
}

int main(void)
{
	test_defaults();
	test_match();
	test_parse();
	test_apply();
	test_owner();
	return check_result();
}
