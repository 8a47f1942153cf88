/* analyzer/results/suppress.c - hide known findings and leaks (LeakSanitizer-style). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "suppress.h"
#include "xalloc.h"
#include "units.h"

const char *sla_suppress_type_name(enum sla_suppress_type type)
{
	return type == SLA_SUPPRESS_LEAK ? "leak" : type == SLA_SUPPRESS_VIEW ? "view" : "owner";
}

int sla_suppress_add(struct sla_suppressions *s, const char *spec)
{
	const char *colon = strchr(spec, ':');
	enum sla_suppress_type type;
	size_t tlen;

	if (!colon || !colon[1])
		return -EINVAL;
	tlen = (size_t)(colon - spec);
	if (tlen == 4 && !strncmp(spec, "leak", 4))
		type = SLA_SUPPRESS_LEAK;
	else if (tlen == 4 && !strncmp(spec, "view", 4))
		type = SLA_SUPPRESS_VIEW;
	else if (tlen == 5 && !strncmp(spec, "owner", 5))
		type = SLA_SUPPRESS_OWNER;
	else
		return -EINVAL;
	s->list = sla_xrealloc(s->list, (s->n + 1) * sizeof(*s->list));
	s->list[s->n++] = (struct sla_suppression){
		.type = type, .pattern = sla_xstrndup(colon + 1, strlen(colon + 1))
	};
	return 0;
}

/* One line of a suppressions file, trimmed, comments cut: 0, or -EINVAL. */
static int add_line(struct sla_suppressions *s, char *p)
{
	char *e;

	if ((e = strchr(p, '#')))
		*e = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	e = p + strlen(p);
	while (e > p && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return *p ? sla_suppress_add(s, p) : 0;
}

int sla_suppress_load(struct sla_suppressions *s, const char *path, size_t *bad_line)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, no = 0;
	int ret = 0;

	if (!f)
		return -errno;
	while (getline(&line, &cap, f) >= 0) {
		no++;
		if (add_line(s, line) < 0) {
			*bad_line = no;
			ret = -EINVAL;
			break;
		}
	}
	free(line);
	fclose(f);
	return ret;
}

/*
 * Each pattern names a function of the runtime's own (anchored: a program's
 * function of a similar name is not hidden) or a loader frame that only
 * shared libraries' initializers run under.
 */
const char sla_default_suppressions[] =
	"# shared libraries' initializers, run while the program loads: libstdc++'s\n"
	"# emergency exception pool, GObject's type system, ...\n"
	"leak:^_dl_init$\n"
	"# the dynamic loader: each thread's TLS vector, kept with its cached stack\n"
	"leak:^_dl_allocate_tls$\n"
	"# the C library: stdio buffers, NSS (getpwuid, getaddrinfo, ...) tables\n"
	"leak:^_IO_file_doallocate$\n"
	"leak:^__nss_\n"
	"leak:^nss_\n"
	"leak:getXXbyYY\n"
	"# GLib: GSlice magazines, quarks, interned strings, per-thread data, types\n"
	"leak:^g_slice_alloc\n"
	"leak:^g_quark_\n"
	"leak:^g_intern_\n"
	"leak:^g_private_\n"
	"leak:^g_get_charset$\n"
	"leak:^g_type_register_\n"
	"leak:^g_type_class_ref$\n"
	"leak:^g_type_add_interface_\n"
	"leak:^g_param_type_register_static$\n"
	"leak:^g_signal_new\n"
	"leak:^g_value_register_transform_func$\n";

void sla_suppress_add_defaults(struct sla_suppressions *s)
{
	char *copy = sla_xstrndup(sla_default_suppressions, strlen(sla_default_suppressions));
	size_t first = s->n;

	for (char *line = strtok(copy, "\n"); line; line = strtok(NULL, "\n"))
		add_line(s, line);
	for (size_t i = first; i < s->n; i++)
		s->list[i].builtin = true;
	free(copy);
}

/*
 * `*` wildcards with backtracking to the last star: O(len(p) * len(t)) at
 * worst, no recursion. `anchored_end` requires the match to end with text.
 */
static bool glob_at(const char *p, const char *pend, const char *t, bool anchored_end)
{
	const char *star = NULL, *resume = NULL;

	for (;;) {
		if (p < pend && *p == '*') {
			star = ++p;
			resume = t;
			continue;
		}
		if (p == pend && (!anchored_end || !*t))
			return true;
		if (*t && p < pend && *p == *t) {
			p++;
			t++;
			continue;
		}
		if (!star || !*resume)
			return false;
		p = star; /* let the last star swallow one more character */
		t = ++resume;
	}
}

bool sla_suppress_match(const char *pattern, const char *text)
{
	size_t n = strlen(pattern);
	bool start = n && pattern[0] == '^', end = n > (size_t)start && pattern[n - 1] == '$';
	const char *p = pattern + start, *pend = pattern + n - end;

	if (!text)
		return false;
	if (start)
		return glob_at(p, pend, text, end);
	for (const char *t = text;; t++) { /* unanchored: try every start */
		if (glob_at(p, pend, t, end))
			return true;
		if (!*t)
			return false;
	}
}

static bool stack_matches(const char *pattern, struct sla_stackset *set,
			  struct sla_symbolizer *sym, uint32_t gid)
{
	const struct sla_frame *f;
	size_t n = sla_stackset_frames(set, gid, sym, &f);

	for (size_t i = 0; i < n; i++)
		if (sla_suppress_match(pattern, f[i].function) ||
		    sla_suppress_match(pattern, f[i].file) || sla_suppress_match(pattern, f[i].module))
			return true;
	return false;
}

/* The first suppression of `type` matching one of the stacks, or NULL. */
static struct sla_suppression *first_match(struct sla_suppressions *s, enum sla_suppress_type type,
					   struct sla_stackset *set, struct sla_symbolizer *sym,
					   uint32_t a, uint32_t b, bool two)
{
	for (size_t i = 0; i < s->n; i++) {
		struct sla_suppression *x = &s->list[i];

		if (x->type == type && (stack_matches(x->pattern, set, sym, a) ||
					(two && stack_matches(x->pattern, set, sym, b))))
			return x;
	}
	return NULL;
}

void sla_suppress_apply(struct sla_suppressions *s, struct sla_results *res,
			struct sla_stackset *set, struct sla_symbolizer *sym)
{
	size_t kept = 0;

	if (!s->n)
		return;
	for (size_t i = 0; i < res->nfindings; i++) {
		struct sla_finding *f = &res->findings[i];
		bool owner = f->kind == SLA_FINDING_OWNER;
		struct sla_suppression *x =
			first_match(s, owner ? SLA_SUPPRESS_OWNER : SLA_SUPPRESS_VIEW, set, sym,
				    f->alloc_gid, owner ? f->holder_gid : f->view_gid, true);

		if (x) {
			x->matches++;
			x->bytes = sla_sat_add(x->bytes, f->retained_bytes);
			if (owner) {
				res->owned_bytes = sla_sat_sub(res->owned_bytes, f->retained_bytes);
				res->nowner--;
			} else {
				res->retained_bytes = sla_sat_sub(res->retained_bytes, f->retained_bytes);
			}
		} else {
			res->findings[kept++] = *f;
		}
	}
	res->nfindings = kept;
	kept = 0;
	for (size_t i = 0; i < res->nleaks; i++) {
		struct sla_group *g = &res->leaks[i];
		struct sla_suppression *x = first_match(s, SLA_SUPPRESS_LEAK, set, sym, g->gid, 0, false);

		if (x) {
			x->matches++;
			x->bytes = sla_sat_add(x->bytes, g->bytes);
			x->leaked_bytes = sla_sat_add(x->leaked_bytes, g->leaked_bytes);
			res->exit_bytes = sla_sat_sub(res->exit_bytes, g->bytes);
			res->exit_blocks -= g->blocks;
			res->leak_bytes = sla_sat_sub(res->leak_bytes, g->leaked_bytes);
			res->leak_blocks -= g->leaked_blocks;
			res->exact_leak_bytes = sla_sat_sub(res->exact_leak_bytes, g->exact_leaked_bytes);
			res->exact_leak_blocks -= g->exact_leaked_blocks;
			res->exact_exit_bytes = sla_sat_sub(res->exact_exit_bytes, g->exact_bytes);
			res->leak_var = fmax(res->leak_var - g->leaked_var, 0);
			res->direct_bytes = sla_sat_sub(res->direct_bytes, g->direct_bytes);
			res->direct_blocks -= g->direct_blocks;
			res->indirect_bytes = sla_sat_sub(res->indirect_bytes, g->indirect_bytes);
			res->indirect_blocks -= g->indirect_blocks;
			res->unclassified_bytes = sla_sat_sub(
				res->unclassified_bytes,
				sla_sat_sub(g->leaked_bytes, sla_sat_add(g->direct_bytes, g->indirect_bytes)));
			res->unclassified_blocks -=
				g->leaked_blocks - g->direct_blocks - g->indirect_blocks;
		} else {
			res->leaks[kept++] = *g;
		}
	}
	res->nleaks = kept;
}

void sla_suppress_free(struct sla_suppressions *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->list[i].pattern);
	free(s->list);
	s->list = NULL;
	s->n = 0;
}
