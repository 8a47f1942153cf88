/* analyzer/report/diff.c - what changed between two analyses. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#include "diff.h"
#include "results.h"
#include "report.h"
#include "units.h"
#include "xalloc.h"

const char *const sla_diff_list_name[SLA_DIFF_NLISTS] = { "findings", "leaks", "peak" };
const char *const sla_diff_change_name[4] = { "appeared", "grew", "shrank", "vanished" };

/* A growable string. */
struct sb {
	char *s;
	size_t n, cap;
};

static void sb_add(struct sb *b, const char *s)
{
	size_t len = strlen(s);

	sla_xgrow(&b->s, &b->cap, b->n + len + 1, 1);
	memcpy(b->s + b->n, s, len + 1);
	b->n += len;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* One frame as the diff sees it. */
struct fref {
	const char *fn, *file, *mod;
};

/*
 * A stack's identity: "function@file;" per frame. The file by its name only
 * (two checkouts build it from two directories); without a function, the
 * module alone (its offsets differ between builds), never with one (a
 * binary may be renamed).
 */
static char *stack_key(const struct fref *f, size_t n)
{
	struct sb key = { 0 };

	sb_add(&key, "");
	for (size_t i = 0; i < n; i++) {
		sb_add(&key, f[i].fn ? f[i].fn : "?");
		sb_add(&key, "@");
		sb_add(&key, f[i].file ? base_name(f[i].file) : !f[i].fn && f[i].mod ? base_name(f[i].mod) : "");
		sb_add(&key, ";");
	}
	return key.s;
}

/* For people: the three innermost frames. */
static void stack_label(struct sb *label, const struct fref *f, size_t n)
{
	for (size_t i = 0; i < n && i < 3; i++) {
		sb_add(label, i ? " <- " : "");
		sb_add(label, f[i].fn ? f[i].fn : f[i].mod ? base_name(f[i].mod) : "?");
		if (f[i].file) {
			sb_add(label, " (");
			sb_add(label, base_name(f[i].file));
			sb_add(label, ")");
		}
	}
	if (n > 3)
		sb_add(label, " <- ...");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * An entry of `kind` (NULL: a group) whose stacks are stacks[0..n): its
 * identity is its stacks' keys, sorted (so that it does not depend on the
 * names a report gives them), empty stacks left out.
 */
struct stacks_in {
	struct fref *f[4];
	size_t n[4];
	size_t count;
};

static void make_entry(struct sla_diff_entry *e, const char *kind, const struct stacks_in *in,
		       uint64_t bytes, uint64_t blocks)
{
	struct sb key = { 0 }, label = { 0 };
	char *keys[4];
	size_t nk = 0;

	sb_add(&key, "");
	sb_add(&label, kind ? kind : "");
	for (size_t i = 0; i < in->count; i++) {
		if (!in->n[i])
			continue;
		keys[nk++] = stack_key(in->f[i], in->n[i]);
		sb_add(&label, label.n ? (nk == 1 ? ": " : "; ") : "");
		stack_label(&label, in->f[i], in->n[i]);
	}
	qsort(keys, nk, sizeof(*keys), cmp_str);
	for (size_t i = 0; i < nk; i++) {
		sb_add(&key, i ? "|" : "");
		sb_add(&key, keys[i]);
		free(keys[i]);
	}
	if (!nk)
		sb_add(&label, label.n ? ": (no stack)" : "(no stack)");
	e->key = key.s;
	e->label = label.s;
	e->bytes = bytes;
	e->blocks = blocks;
}

static bool is_stack_member(const struct sla_json *m)
{
	size_t n = strlen(m->key);

	return m->type == SLA_JSON_ARRAY && n >= 5 && !strcmp(m->key + n - 5, "stack");
}

/* One finding or group of a JSON report: every member named *stack is part of its identity. */
static void read_entry(struct sla_diff_entry *e, const struct sla_json *o, bool finding)
{
	struct stacks_in in = { 0 };
	bool leaked = !finding && sla_json_get(o, "leaked_bytes"); /* a leak group: its leaked part */

	for (size_t i = 0; i < o->nkids && in.count < 4; i++) {
		const struct sla_json *m = &o->kids[i];
		struct fref *f;

		if (!is_stack_member(m))
			continue;
		f = sla_xcalloc(m->nkids + 1, sizeof(*f));
		for (size_t k = 0; k < m->nkids; k++)
			f[k] = (struct fref){ sla_json_str(&m->kids[k], "function"),
					      sla_json_str(&m->kids[k], "file"),
					      sla_json_str(&m->kids[k], "module") };
		in.f[in.count] = f;
		in.n[in.count++] = m->nkids;
	}
	make_entry(e, finding ? (sla_json_str(o, "kind") ? sla_json_str(o, "kind") : "?") : NULL,
		   &in, sla_json_u64(o, finding ? "retained_bytes" : leaked ? "leaked_bytes" : "bytes"),
		   sla_json_u64(o, leaked ? "leaked_blocks" : "blocks"));
	for (size_t i = 0; i < in.count; i++)
		free(in.f[i]);
}

struct merge {
	UT_hash_handle hh;
	struct sla_diff_entry *e;
};

/* Adds up the entries of one list that share an identity (stacks that differ only in lines). */
static void merge_same(struct sla_diff_entry *e, size_t *n)
{
	struct merge *seen = NULL, *m, *tmp;
	size_t out = 0;

	for (size_t i = 0; i < *n; i++) {
		HASH_FIND_STR(seen, e[i].key, m);
		if (m) {
			m->e->bytes += e[i].bytes;
			m->e->blocks += e[i].blocks;
			free(e[i].key);
			free(e[i].label);
			continue;
		}
		e[out] = e[i];
		m = sla_xmalloc(sizeof(*m));
		m->e = &e[out++];
		HASH_ADD_KEYPTR(hh, seen, m->e->key, strlen(m->e->key), m);
	}
	HASH_ITER(hh, seen, m, tmp) {
		HASH_DELETE(hh, seen, m);
		free(m);
	}
	*n = out;
}

/*
 * One list of a JSON report. `total_blocks`: what the list's entries add up
 * to when none was cut by --top (0: never cut); a cut list is marked, with
 * the smallest size it shows (the lists are sorted by size).
 */
static void read_list(struct sla_diff_side *s, enum sla_diff_list l, const struct sla_json *arr,
		      bool finding, uint64_t total_blocks)
{
	uint64_t blocks = 0, least = UINT64_MAX;

	if (!arr || arr->type != SLA_JSON_ARRAY)
		return;
	s->e[l] = sla_xcalloc(arr->nkids + 1, sizeof(*s->e[l]));
	for (size_t i = 0; i < arr->nkids; i++) {
		if (arr->kids[i].type != SLA_JSON_OBJECT)
			continue;
		read_entry(&s->e[l][s->n[l]], &arr->kids[i], finding);
		blocks += sla_json_u64(&arr->kids[i], "blocks");
		if (s->e[l][s->n[l]].bytes < least)
			least = s->e[l][s->n[l]].bytes;
		s->n[l]++;
	}
	if (total_blocks && blocks < total_blocks) {
		s->cut[l] = true;
		s->cut_bytes[l] = s->n[l] ? least : UINT64_MAX;
	}
}

int sla_diff_side_read(struct sla_diff_side *s, const struct sla_json *r, char *err,
		       size_t errlen)
{
	const char *schema = sla_json_str(r, "schema");
	const struct sla_json *leaks = sla_json_get(r, "leaks"), *peak = sla_json_get(r, "peak");

	memset(s, 0, sizeof(*s));
	if (!schema) {
		snprintf(err, errlen, "not a sliceleak JSON report (no \"schema\" member)");
		return -1;
	}
	if (strcmp(schema, "sliceleak-report/1")) {
		snprintf(err, errlen,
			 "unknown schema '%.64s' (this sliceleak reads sliceleak-report/1)", schema);
		return -1;
	}
	if (!sla_json_get(r, "findings") || !leaks || !peak) {
		snprintf(err, errlen, "a sliceleak-report/1 without findings, leaks or peak");
		return -1;
	}
	s->retained = sla_json_u64(r, "retained_bytes");
	s->owned = sla_json_u64(r, "owned_bytes"); /* 0 in a report older than the field */
	/* leaked (unreachable); a report older than that field: every block live at exit */
	s->leaked = sla_json_u64(leaks, sla_json_get(leaks, "leaked_bytes") ? "leaked_bytes" : "bytes");
	s->peak = sla_json_u64(peak, "bytes");
	read_list(s, SLA_DIFF_FINDINGS, sla_json_get(r, "findings"), true, 0);
	read_list(s, SLA_DIFF_LEAKS, sla_json_get(leaks, "groups"), false,
		  sla_json_u64(leaks, "blocks"));
	read_list(s, SLA_DIFF_PEAK, sla_json_get(peak, "groups"), false, sla_json_u64(peak, "blocks"));
	return 0;
}

/* A stack of the analysis as frames for the diff (`f` holds up to its frames). */
static size_t results_stack(struct sla_stackset *set, struct sla_symbolizer *sym, uint32_t gid,
			    struct fref **f)
{
	const struct sla_frame *fr;
	size_t n = gid ? sla_stackset_frames(set, gid, sym, &fr) : 0;

	*f = sla_xcalloc(n + 1, sizeof(**f));
	for (size_t i = 0; i < n; i++)
		(*f)[i] = (struct fref){ fr[i].function, fr[i].file, fr[i].module };
	return n;
}

static const char *kind_name(uint32_t kind)
{
	if (kind == SLA_FINDING_VIEW_PINNED)
		return "view_pinned";
	if (kind == SLA_FINDING_DEAD_REGION)
		return "dead_region";
	if (kind == SLA_FINDING_OWNER)
		return "owner";
	return "finding"; /* a kind named in the JSON report only: its identity is its stacks */
}

static void results_entry(struct sla_diff_entry *e, const char *kind, const uint32_t *gids,
			  size_t ngids, uint64_t bytes, uint64_t blocks, struct sla_stackset *set,
			  struct sla_symbolizer *sym)
{
	struct stacks_in in = { .count = ngids };

	for (size_t i = 0; i < ngids; i++)
		in.n[i] = results_stack(set, sym, gids[i], &in.f[i]);
	make_entry(e, kind, &in, bytes, blocks);
	for (size_t i = 0; i < ngids; i++)
		free(in.f[i]);
}

void sla_diff_side_from_results(struct sla_diff_side *s, const struct sla_results *res,
				struct sla_stackset *set, struct sla_symbolizer *sym)
{
	memset(s, 0, sizeof(*s));
	s->retained = res->retained_bytes;
	s->owned = res->owned_bytes;
	s->leaked = res->leak_bytes;
	s->peak = res->peak_bytes;
	s->e[SLA_DIFF_FINDINGS] = sla_xcalloc(res->nfindings + 1, sizeof(struct sla_diff_entry));
	for (size_t i = 0; i < res->nfindings; i++) {
		const struct sla_finding *f = &res->findings[i];
		uint32_t gids[3] = { f->alloc_gid, f->view_gid, f->holder_gid };

		results_entry(&s->e[SLA_DIFF_FINDINGS][i], kind_name(f->kind), gids, 3,
			      f->retained_bytes, f->blocks, set, sym);
	}
	s->n[SLA_DIFF_FINDINGS] = res->nfindings;
	s->e[SLA_DIFF_LEAKS] = sla_xcalloc(res->nleaks + 1, sizeof(struct sla_diff_entry));
	for (size_t i = 0; i < res->nleaks; i++)
		results_entry(&s->e[SLA_DIFF_LEAKS][i], NULL, &res->leaks[i].gid, 1,
			      res->leaks[i].leaked_bytes, res->leaks[i].leaked_blocks, set, sym);
	s->n[SLA_DIFF_LEAKS] = res->nleaks;
	s->e[SLA_DIFF_PEAK] = sla_xcalloc(res->npeak + 1, sizeof(struct sla_diff_entry));
	for (size_t i = 0; i < res->npeak; i++)
		results_entry(&s->e[SLA_DIFF_PEAK][i], NULL, &res->peak[i].gid, 1, res->peak[i].bytes,
			      res->peak[i].blocks, set, sym);
	s->n[SLA_DIFF_PEAK] = res->npeak;
}

void sla_diff_side_free(struct sla_diff_side *s)
{
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		for (size_t i = 0; i < s->n[l]; i++) {
			free(s->e[l][i].key);
			free(s->e[l][i].label);
		}
		free(s->e[l]);
	}
	memset(s, 0, sizeof(*s));
}

static int64_t growth(const struct sla_diff_item *it)
{
	return (int64_t)(it->new ? it->new->bytes : 0) - (int64_t)(it->base ? it->base->bytes : 0);
}

static int cmp_item(const void *a, const void *b)
{
	const struct sla_diff_item *x = a, *y = b;
	int64_t gx = growth(x), gy = growth(y);

	if (x->list != y->list)
		return x->list < y->list ? -1 : 1;
	if (gx != gy) /* largest growth first, largest shrink last */
		return gx > gy ? -1 : 1;
	return strcmp((x->new ? x->new : x->base)->key, (y->new ? y->new : y->base)->key);
}

static void add_item(struct sla_diff *d, size_t *cap, enum sla_diff_list l,
		     const struct sla_diff_entry *b, const struct sla_diff_entry *n)
{
	struct sla_diff_item *it;

	/* an entry of nothing (a group with no leaked block) is as good as absent */
	if ((b ? b->bytes : 0) == (n ? n->bytes : 0) && (b ? b->blocks : 0) == (n ? n->blocks : 0)) {
		d->unchanged[l] += b && n;
		return;
	}
	sla_xgrow(&d->items, cap, d->nitems + 1, sizeof(*d->items));
	it = &d->items[d->nitems++];
	it->list = l;
	it->base = b;
	it->new = n;
	it->change = !b ? SLA_DIFF_APPEARED : !n ? SLA_DIFF_VANISHED :
		     n->bytes > b->bytes || (n->bytes == b->bytes && n->blocks > b->blocks) ?
				 SLA_DIFF_GREW : SLA_DIFF_SHRANK;
}

/*
 * Drops the entries of `s`'s list `l` of `limit` bytes or less: a saved
 * report made with --top lists only its largest groups, so below its
 * smallest the two sides cannot be compared. Returns how many were dropped.
 */
static size_t drop_small(struct sla_diff_side *s, enum sla_diff_list l, uint64_t limit)
{
	size_t out = 0, dropped = 0;

	for (size_t i = 0; i < s->n[l]; i++) {
		if (s->e[l][i].bytes <= limit) {
			free(s->e[l][i].key);
			free(s->e[l][i].label);
			dropped++;
			continue;
		}
		s->e[l][out++] = s->e[l][i];
	}
	s->n[l] = out;
	return dropped;
}

void sla_diff_compute(struct sla_diff *d)
{
	size_t cap = 0;

	d->items = NULL;
	d->nitems = 0;
	memset(d->unchanged, 0, sizeof(d->unchanged));
	memset(d->uncomparable, 0, sizeof(d->uncomparable));
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		struct merge *idx = NULL, *m, *tmp;

		if (d->base.cut[l] || d->new.cut[l]) {
			uint64_t limit = d->base.cut[l] ? d->base.cut_bytes[l] : 0;

			if (d->new.cut[l] && d->new.cut_bytes[l] > limit)
				limit = d->new.cut_bytes[l];
			d->uncomparable[l] = drop_small(&d->base, l, limit) +
					     drop_small(&d->new, l, limit);
		}
		merge_same(d->base.e[l], &d->base.n[l]);
		merge_same(d->new.e[l], &d->new.n[l]);

		for (size_t i = 0; i < d->base.n[l]; i++) {
			m = sla_xmalloc(sizeof(*m));
			m->e = &d->base.e[l][i];
			HASH_ADD_KEYPTR(hh, idx, m->e->key, strlen(m->e->key), m);
		}
		for (size_t i = 0; i < d->new.n[l]; i++) {
			const struct sla_diff_entry *n = &d->new.e[l][i];

			HASH_FIND_STR(idx, n->key, m);
			add_item(d, &cap, l, m ? m->e : NULL, n);
			if (m) {
				HASH_DELETE(hh, idx, m);
				free(m);
			}
		}
		HASH_ITER(hh, idx, m, tmp) { /* in base only */
			add_item(d, &cap, l, m->e, NULL);
			HASH_DELETE(hh, idx, m);
			free(m);
		}
	}
	qsort(d->items, d->nitems, sizeof(*d->items), cmp_item);
}

void sla_diff_free(struct sla_diff *d)
{
	sla_diff_side_free(&d->base);
	sla_diff_side_free(&d->new);
	free(d->items);
	d->items = NULL;
	d->nitems = 0;
}

/* "+1.0 MiB", "-512 B", "0 B" */
static const char *signed_size(char *buf, size_t len, uint64_t from, uint64_t to)
{
	char tmp[32];

	sla_format_size(tmp, sizeof(tmp), from > to ? from - to : to - from, 1);
	snprintf(buf, len, "%s%s", to > from ? "+" : from > to ? "-" : "", tmp);
	return buf;
}

static void print_total(FILE *out, const char *what, uint64_t from, uint64_t to)
{
	char a[32], b[32], c[40];

	fprintf(out, "%s: %s -> %s (%s)\n", what, sla_format_size(a, sizeof(a), from, 1),
		sla_format_size(b, sizeof(b), to, 1), signed_size(c, sizeof(c), from, to));
}

void sla_diff_print_text(FILE *out, const struct sla_diff *d, bool only_growth)
{
	static const char *const heading[SLA_DIFF_NLISTS] = { "Findings", "Leak groups",
							       "Peak contributors" };
	static const char *const noun[SLA_DIFF_NLISTS] = { "findings", "leak groups",
							    "peak contributors" };
	size_t shown = 0;

	print_total(out, "retained", d->base.retained, d->new.retained);
	print_total(out, "owned", d->base.owned, d->new.owned);
	print_total(out, "leaked", d->base.leaked, d->new.leaked);
	print_total(out, "peak", d->base.peak, d->new.peak);
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		bool head = false;

		for (size_t i = 0; i < d->nitems; i++) {
			const struct sla_diff_item *it = &d->items[i];
			const struct sla_diff_entry *e = it->new ? it->new : it->base;
			char a[32], b[32], c[40];

			if (it->list != (enum sla_diff_list)l)
				continue;
			if (only_growth && (l == SLA_DIFF_PEAK || (it->change != SLA_DIFF_APPEARED &&
								  it->change != SLA_DIFF_GREW)))
				continue;
			if (!head)
				fprintf(out, "\n== %s ==\n", heading[l]);
			head = true;
			fprintf(out, "%-8s %s: %s -> %s (%" PRIu64 " -> %" PRIu64 " blocks)\n  %s\n",
				sla_diff_change_name[it->change],
				signed_size(c, sizeof(c), it->base ? it->base->bytes : 0,
					    it->new ? it->new->bytes : 0),
				sla_format_size(a, sizeof(a), it->base ? it->base->bytes : 0, 1),
				sla_format_size(b, sizeof(b), it->new ? it->new->bytes : 0, 1),
				it->base ? it->base->blocks : 0, it->new ? it->new->blocks : 0,
				e->label);
			shown++;
		}
	}
	if (!only_growth)
		fprintf(out, "\n%zu changed; unchanged: %zu findings, %zu leak groups, %zu peak contributors\n",
			shown, d->unchanged[0], d->unchanged[1], d->unchanged[2]);
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		size_t n = d->uncomparable[l];

		if (n)
			fprintf(out, "%s%zu %s not compared: a report made with --top lists only its largest (save baselines with --top 0)\n",
				only_growth ? "\n" : "", n, noun[l]);
	}
}

static void json_entry(FILE *out, const char *name, const struct sla_diff_entry *e)
{
	if (!e) {
		fprintf(out, "\"%s_bytes\": 0, \"%s_blocks\": 0", name, name);
		return;
	}
	fprintf(out, "\"%s_bytes\": %" PRIu64 ", \"%s_blocks\": %" PRIu64, name, e->bytes, name,
		e->blocks);
}

void sla_diff_print_json(FILE *out, const struct sla_diff *d, const char *base_name_,
			 const char *new_name)
{
	fputs("{\n  \"schema\": \"sliceleak-diff/1\",\n  \"base\": ", out);
	sla_json_string(out, base_name_, strlen(base_name_), false);
	fputs(",\n  \"new\": ", out);
	sla_json_string(out, new_name, strlen(new_name), false);
	fprintf(out, ",\n  \"totals\": {\"retained\": [%" PRIu64 ", %" PRIu64 "], \"owned\": [%" PRIu64
		     ", %" PRIu64 "], \"leaked\": [%" PRIu64 ", %" PRIu64 "], \"peak\": [%" PRIu64
		     ", %" PRIu64 "]}",
		d->base.retained, d->new.retained, d->base.owned, d->new.owned, d->base.leaked,
		d->new.leaked, d->base.peak, d->new.peak);
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		bool first = true;

		fprintf(out, ",\n  \"%s\": {\"unchanged\": %zu, \"uncomparable\": %zu, \"changes\": [",
			sla_diff_list_name[l], d->unchanged[l],
			d->uncomparable[l]);
		for (size_t i = 0; i < d->nitems; i++) {
			const struct sla_diff_item *it = &d->items[i];
			const struct sla_diff_entry *e = it->new ? it->new : it->base;

			if (it->list != (enum sla_diff_list)l)
				continue;
			fprintf(out, "%s\n    {\"change\": \"%s\", ", first ? "" : ",",
				sla_diff_change_name[it->change]);
			json_entry(out, "base", it->base);
			fputs(", ", out);
			json_entry(out, "new", it->new);
			fputs(", \"what\": ", out);
			sla_json_string(out, e->label, strlen(e->label), false);
			fputs(", \"key\": ", out);
			sla_json_string(out, e->key, strlen(e->key), false);
			fputc('}', out);
			first = false;
		}
		fputs(first ? "]}" : "\n  ]}", out);
	}
	fputs("\n}\n", out);
}
