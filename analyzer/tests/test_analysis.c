/*
 * analyzer/tests/test_analysis.c - the passes over files: several logs
 * summed, --at LABEL, --at peak, truncated, corrupt (strict and lenient),
 * too new, a newer minor (kinds skipped and said), and a label that no log
 * has.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis.h"
#include "check.h"
#include "logbuf.h"
#include "report.h"

static char dir[] = "/tmp/sla-test-analysis.XXXXXX";

static char *write_log(const char *name, struct logbuf *b, size_t len)
{
	char *path;
	FILE *f;

	if (asprintf(&path, "%s/%s", dir, name) < 0)
		abort();
	f = fopen(path, "wb");
	if (!f || fwrite(b->data, 1, len, f) != len || fclose(f))
		abort();
	return path;
}

/*
 * A process of /bin/p at `bias`: a 1 MiB block pinned by a 5-byte view from
 * t=1s; with `release`, the view is dropped at t=3s (peak-only retention);
 * a snapshot "half" at t=2s; a 100-byte leak.
 */
static void build(struct logbuf *b, uint64_t pid, uint64_t bias, bool release, bool end)
{
	uint64_t sa, sv, sl;

	lb_init(b);
	lb_process(b, pid, 1, "/bin/p");
	lb_modules_reset(b);
	lb_module(b, bias, "/bin/p", 0x1000, 0x1000);
	lb_thread(b, pid);
	sa = lb_stack(b, 0, bias + 0x1100);
	sv = lb_stack(b, 0, bias + 0x1200);
	sl = lb_stack(b, 0, bias + 0x1300);
	lb_time(b, 1000000000);
	lb_alloc(b, 0x100000, 1 << 20, sa);
	lb_slice_new(b, 0x100000, 0x100000 + 64, 5, 100, sv);
	lb_alloc(b, 0x300000, 100, sl);
	lb_time(b, 2000000000);
	lb_snapshot(b, "half", sl);
	lb_time(b, 3000000000);
	if (release)
		lb_slice_drop(b, 0x100000, 0x100000 + 64, 5);
	lb_time(b, 4000000000);
	if (end)
		lb_end(b, 0);
}

static struct sla_analysis_opts opts(enum sla_at at, const char *label)
{
	struct sla_analysis_opts o = {
		.at = at,
		.label = label,
		.th = SLA_THRESHOLDS_DEFAULT,
	};
	return o;
}

static void test_two_logs(void)
{
	struct logbuf b;
	char *paths[2], err[256];
	struct sla_analysis an;
	struct sla_analysis_opts o = opts(SLA_AT_END, "end");

	build(&b, 10, 0x555500000000, false, true);
	paths[0] = write_log("parent.sllog", &b, b.len);
	lb_free(&b);
	build(&b, 11, 0x555600000000, false, true);
	paths[1] = write_log("child.sllog", &b, b.len);
	lb_free(&b);
	CHECK(sla_analysis_run(&an, &o, paths, 2, err, sizeof(err)) == 0);
	CHECK_EQ_U(an.res.nlogs, 2);
	CHECK_EQ_U(an.res.logs[1].pid, 11);
	CHECK_EQ_U(an.res.nfindings, 1); /* same stacks in both: one finding */
	CHECK_EQ_U(an.res.findings[0].blocks, 2);
	CHECK_EQ_U(an.res.findings[0].used_bytes, 10);
	CHECK_EQ_U(an.res.retained_bytes, (2 << 20) - 10);
	CHECK(an.res.findings[0].pinned_max_s > 2.99 && an.res.findings[0].pinned_max_s < 3.01);
	CHECK_EQ_U(an.res.leak_blocks, 4);
	CHECK_EQ_U(an.res.nleaks, 2);
	CHECK_EQ_U(an.res.allocations, 4);
	CHECK_EQ_U(an.res.peak_bytes, 2 * ((1 << 20) + 100));
	CHECK(!an.res.logs[0].truncated);
	sla_analysis_free(&an);
	free(paths[0]);
	free(paths[1]);
}

static void test_at(void)
{
	struct logbuf b;
	char *path, err[256];
	struct sla_analysis an;
	struct sla_analysis_opts o;

	build(&b, 10, 0x555500000000, true, true);
	path = write_log("released.sllog", &b, b.len);
	lb_free(&b);

	o = opts(SLA_AT_END, "end");
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK_EQ_U(an.res.nfindings, 0);
	sla_analysis_free(&an);

	o = opts(SLA_AT_LABEL, "half");
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK_EQ_U(an.res.nfindings, 1);
	CHECK(an.res.findings[0].pinned_max_s > 0.99 && an.res.findings[0].pinned_max_s < 1.01);
	CHECK(an.res.logs[0].eval_time_s > 1.99 && an.res.logs[0].eval_time_s < 2.01);
	CHECK(!strcmp(an.res.at, "half"));
	/* the allocation tracker still covers the whole log */
	CHECK_EQ_U(an.res.leak_blocks, 2);
	sla_analysis_free(&an);

	o = opts(SLA_AT_PEAK, "peak");
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK_EQ_U(an.res.nfindings, 1);
	CHECK_EQ_U(an.res.retained_bytes, (1 << 20) - 5);
	sla_analysis_free(&an);

	o = opts(SLA_AT_LABEL, "nowhere");
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "nowhere") != NULL);
	sla_analysis_free(&an);
	free(path);
}

static void test_bad_logs(void)
{
	struct logbuf b;
	char *path, err[256];
	struct sla_analysis an;
	struct sla_analysis_opts o = opts(SLA_AT_END, "end");
	size_t good;

	/* truncated: no END, and cut inside the last record */
	build(&b, 10, 0x555500000000, false, false);
	path = write_log("cut.sllog", &b, b.len - 1);
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK(an.res.logs[0].truncated);
	CHECK_EQ_U(an.res.nfindings, 1);
	sla_analysis_free(&an);
	free(path);
	lb_free(&b);

	/* corrupt: a record naming an undefined stack after good ones */
	build(&b, 10, 0x555500000000, false, false);
	good = b.len;
	lb_alloc(&b, 0x900000, 10, 77);
	lb_end(&b, 0);
	path = write_log("corrupt.sllog", &b, b.len);
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == -EBADMSG);
	{
		char want[64];

		snprintf(want, sizeof(want), "offset %zu:", good);
		CHECK(strstr(err, "corrupt.sllog: ") != NULL && strstr(err, want) != NULL);
	}
	sla_analysis_free(&an);
	o.lenient = true;
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK(an.res.logs[0].corrupt);
	CHECK_EQ_U(an.res.logs[0].corrupt_offset, good);
	CHECK_EQ_U(an.res.nfindings, 1);
	sla_analysis_free(&an);
	free(path);
	lb_free(&b);

	/* too new: refused even when lenient */
	lb_init_version(&b, SLF_VERSION_MAJOR + 1, 0);
	lb_process(&b, 1, 0, "x");
	path = write_log("new.sllog", &b, b.len);
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == -EPROTONOSUPPORT);
	CHECK(strstr(err, "newer") != NULL);
	sla_analysis_free(&an);
	free(path);
	lb_free(&b);

	/*
	 * a newer minor of this major: unknown kinds at the top level and inside
	 * a chunk are skipped by length, counted, and the report says so
	 */
	lb_init_version(&b, SLF_VERSION_MAJOR, SLF_VERSION_MINOR + 1);
	b.v2 = 1;
	b.seq = b.seq_step = 1;
	lb_process(&b, 1, 0, "x");
	lb_chunk_begin(&b, 1, 1);
	p_uv(&b, 5);
	lb_emit(&b, 62); /* 3.x: inner kinds stay below SLF_DENSE_MIN */
	lb_alloc(&b, 0x1000, 10, 0);
	lb_chunk_end(&b);
	p_uv(&b, 6);
	lb_emit(&b, 251);
	lb_end(&b, 0);
	path = write_log("newer-minor.sllog", &b, b.len);
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == 0);
	CHECK(!an.res.logs[0].corrupt && an.res.logs[0].ended);
	CHECK_EQ_U(an.res.logs[0].unknown_records, 2);
	{
		char *text = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&text, &len);
		struct sla_report_opts ro = { 0 };

		sla_report_text(f, &an.res, an.set, NULL, &ro);
		fclose(f);
		CHECK(strstr(text, "2 records of kinds newer than this sliceleak") != NULL);
		free(text);
	}
	sla_analysis_free(&an);
	free(path);
	lb_free(&b);

	/* missing file */
	path = "/nonexistent/x.sllog";
	CHECK(sla_analysis_run(&an, &o, &path, 1, err, sizeof(err)) == -ENOENT);
	CHECK(strstr(err, "/nonexistent/x.sllog") != NULL);
	sla_analysis_free(&an);
}

int main(void)
{
	char cmd[128];
	int ret;

	if (!mkdtemp(dir))
		return 2;
	test_two_logs();
	test_at();
	test_bad_logs();
	ret = check_result();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "could not remove %s\n", dir);
	return ret;
}
