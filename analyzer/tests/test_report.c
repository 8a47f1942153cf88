/*
 * analyzer/tests/test_report.c - the reports on hand-made results: the
 * headline's wording for uniform and mixed findings, JSON string escaping
 * (control characters, invalid UTF-8 from a hostile log), the SUMMARY line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "check.h"

/* Runs a report into a string. */
static char *render(bool json, struct sla_results *res, struct sla_stackset *set)
{
	struct sla_symbolizer *sym = sla_symbolizer_new(SLA_SYM_NONE);
	struct sla_report_opts o = { .top = 10 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (json)
		sla_report_json(f, res, set, sym, &o);
	else
		sla_report_text(f, res, set, sym, &o);
	fclose(f);
	sla_symbolizer_free(sym);
	return buf;
}

int main(void)
{
	struct sla_stackset *set = sla_stackset_new();
	struct sla_results res;
	struct sla_finding f[2] = {
		{ .blocks = 1000, .block_bytes = 1000ull << 20, .used_bytes = 5000,
		  .retained_bytes = (1000ull << 20) - 5000, .views = 1000, .min_size = 1 << 20,
		  .max_size = 1 << 20, .min_used = 5, .max_used = 5, .pinned_max_s = 2.34 },
		{ .blocks = 2, .block_bytes = 12288, .used_bytes = 110, .retained_bytes = 12178,
		  .views = 3, .min_size = 4096, .max_size = 8192, .min_used = 10, .max_used = 100,
		  .pinned_max_s = 0.0042, .view_kind = SLA_VIEW_OWNER },
	};
	struct sla_log_info log = {
		.path = "/tmp/caf\xc3\xa9\xff\"x\".sllog", .pid = 7, .exe = "/bin/\x01tab\t",
		.ended = true, .at_found = true,
	};
	char *text, *json, *last;

	sla_results_init(&res, "end");
	res.logs = &log;
	res.nlogs = 1;
	res.findings = f;
	res.nfindings = 2;
	res.retained_bytes = f[0].retained_bytes + f[1].retained_bytes;
	res.leak_bytes = 300;
	res.leak_blocks = 1;

	text = render(false, &res, set);
	CHECK(strstr(text, "#1: 1000 blocks of 1.00 MiB kept alive by 5-byte views: 1000.0 MiB "
			   "retained (4.9 KiB used), pinned for 2.3 s\n") != NULL);
	CHECK(strstr(text, "#2: 2 blocks of 4.00 KiB to 8.00 KiB kept alive by 3 views using 10 "
			   "to 100 bytes per block: 11.9 KiB retained (110 B used), pinned for "
			   "4.2 ms\n") != NULL);
	CHECK(strstr(text, "oldest live view (annotation) acquired at:") != NULL);
	last = strrchr(text, '\n');
	while (last > text && last[-1] != '\n')
		last--;
	CHECK(!strcmp(last, "SUMMARY: sliceleak: 1000.0 MiB retained in 2 findings, 300 B leaked "
			    "in 1 block\n"));

	json = render(true, &res, set);
	CHECK(strstr(json, "\"schema\": \"sliceleak-report/1\"") != NULL);
	CHECK(strstr(json, "\"path\": \"/tmp/caf\xc3\xa9\\ufffd\\\"x\\\".sllog\"") != NULL);
	CHECK(strstr(json, "\"exe\": \"/bin/\\u0001tab\\u0009\"") != NULL);
	CHECK(strstr(json, "\"view_kind\": \"annotation\", \"blocks\": 2, \"block_bytes\": 12288, "
			   "\"used_bytes\": 110, \"retained_bytes\": 12178, \"views\": 3") != NULL);
	CHECK(strstr(json, "\"alloc_stack\": []") != NULL);
	free(text);
	free(json);
	res.logs = NULL; /* not ours to free */
	res.findings = NULL;
	sla_results_free(&res);
	sla_stackset_free(set);
	return check_result();
}
