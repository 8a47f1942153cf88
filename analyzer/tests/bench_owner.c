/*
 * analyzer/tests/bench_owner.c - the owner analysis next to the dead-region
 * pass on one log (scripts/bench-owner.sh runs it; not a test).
 *
 *   bench_owner LOG
 *
 * Times the three steps the analysis runs at an evaluation point: the
 * replay of the log, which builds the heap graph from the pointer scan as
 * it reads it, the dead-region pass, the owner pass, in CPU time (what a
 * busy machine does not inflate) and wall time. Memory of a step: the
 * growth of the resident set's peak over the resident set before it (the
 * peak is reset through /proc/self/clear_refs before each step), so each
 * figure is what that step alone adds; the replay's is the state and the
 * graph, what the passes start from.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "deadregion.h"
#include "heapgraph.h"
#include "owner.h"
#include "reader.h"
#include "replay.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (user + system): what a busy machine does not inflate. */
static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* VmRSS or VmHWM of /proc/self/status, bytes. */
static uint64_t status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	uint64_t v = 0;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtoull(line + strlen(key) + 1, NULL, 10);
	if (f)
		fclose(f);
	return v << 10;
}

static void reset_peak(void)
{
	FILE *f = fopen("/proc/self/clear_refs", "w");

	if (f) {
		fputs("5", f);
		fclose(f);
	}
}

struct step {
	double t0, c0;
	uint64_t rss0;
};

static struct step step_begin(void)
{
	reset_peak();
	return (struct step){ now_s(), cpu_s(), status_kib("VmRSS:") };
}

static void step_end(const char *name, struct step s, uint64_t blocks)
{
	double t = now_s() - s.t0, c = cpu_s() - s.c0;
	uint64_t peak = status_kib("VmHWM:"), extra = peak > s.rss0 ? peak - s.rss0 : 0;

	printf("%-12s %8.3f s cpu %8.3f s wall  %8.1f MiB  %6.1f bytes/block\n", name, c, t,
	       (double)extra / 1048576.0, blocks ? (double)extra / (double)blocks : 0.0);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	struct sla_thresholds th = SLA_THRESHOLDS_DEFAULT;
	struct sla_state *st;
	struct sla_reader r;
	struct sla_results res;
	struct sla_stackset *set;
	struct sla_heapgraph *g;
	struct step s;

	if (argc != 2) {
		fprintf(stderr, "usage: bench_owner LOG\n");
		return 2;
	}
	st = sla_state_new(argv[1]);
	st->collect_scans = true;
	s = step_begin();
	if (sla_reader_open(&r, argv[1]) || sla_replay_run(st, &r, UINT64_MAX) < 0) {
		fprintf(stderr, "bench_owner: %s: %s\n", argv[1], r.err_msg);
		return 2;
	}
	sla_reader_close(&r);
	g = st->graph;
	if (!g || !g->complete)
		return 1;
	sla_state_drop_index(st);
	step_end("replay+graph", s, g->n);
	printf("             (%u blocks, %" PRIu64 " scan words, %zu edges)\n", g->n, g->words,
	       g->npairs);
	fflush(stdout);
	sla_results_init(&res, "end");
	set = sla_stackset_new();

	s = step_begin();
	sla_deadregion_collect(&res, g, st, set, &th, st->time_ns, true, true);
	step_end("dead region", s, g->n);
	s = step_begin();
	sla_owner_collect(&res, g, st, set, &th);
	step_end("owner", s, g->n);
	sla_results_finish(&res);
	printf("owner findings %zu, owned %" PRIu64 " bytes\n", res.nowner, res.owned_bytes);
	sla_results_free(&res);
	sla_stackset_free(set);
	sla_state_free(st);
	return 0;
}
