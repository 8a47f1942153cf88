/* analyzer/report/folded.c - the results as collapsed stacks (flamegraph.pl). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "report.h"
#include "xalloc.h"

/* A frame's function (its name up to the tab), ';' made ':' (it separates frames). */
static void put_name(FILE *out, const char *name)
{
	for (; *name && *name != '\t'; name++)
		fputc(*name == ';' ? ':' : *name, out);
}

void sla_report_folded(FILE *out, const struct sla_results *res, struct sla_stackset *set,
		       struct sla_symbolizer *sym, int metric)
{
	struct sla_profile p;
	struct sla_frame_tree ft;
	uint64_t *val;
	uint32_t *path = NULL;
	size_t cap = 0;

	sla_profile_build(&p, res, set);
	sla_frame_tree_build(&ft, &p, set, sym);
	val = sla_xcalloc(ft.nnodes, sizeof(*val));
	for (size_t gid = 0; gid < p.n; gid++)
		val[ft.node_of[gid]] += p.v[gid][metric].bytes;
	for (uint32_t node = 0; node < ft.nnodes; node++) {
		size_t n = 0;

		if (!val[node])
			continue;
		for (uint32_t x = node; x; x = ft.parent[x]) {
			sla_xgrow(&path, &cap, n + 1, sizeof(*path));
			path[n++] = x;
		}
		if (!n) /* the empty stack: its own line, as the root */
			fputs("all", out);
		while (n--) {
			put_name(out, sla_frame_tree_name(&ft, ft.name[path[n]]));
			if (n)
				fputc(';', out);
		}
		fprintf(out, " %" PRIu64 "\n", val[node]);
	}
	free(path);
	free(val);
	sla_frame_tree_free(&ft);
	sla_profile_free(&p);
}
