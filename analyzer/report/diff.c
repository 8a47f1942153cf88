/* analyzer/report/diff.c - what changed between two analyses. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>

#include "diff.h"
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

/* Appends a stack's identity (`key`) and its three innermost frames (`label`). */
static void add_stack(struct sb *key, struct sb *label, const struct sla_json *stack)
{
	size_t shown = 0;

	for (size_t i = 0; stack && i < stack->nkids; i++) {
		const struct sla_json *f = &stack->kids[i];
		const char *fn = sla_json_str(f, "function"), *file = sla_json_str(f, "file");
		const char *mod = sla_json_str(f, "module");

		/*
		 * The file by its name only (two checkouts build it from two
		 * directories); without a function, the module alone (its
		 * offsets differ between builds), never with one (a binary
		 * may be renamed).
		 */
		sb_add(key, fn ? fn : "?");
		sb_add(key, "@");
		sb_add(key, file ? base_name(file) : !fn && mod ? base_name(mod) : "");
		sb_add(key, ";");
		if (shown < 3) {
			sb_add(label, shown++ ? " <- " : "");
			sb_add(label, fn ? fn : mod ? base_name(mod) : "?");
			if (file) {
				sb_add(label, " (");
				sb_add(label, base_name(file));
				sb_add(label, ")");
			}
		}
	}
	if (stack && stack->nkids > shown)
		sb_add(label, " <- ...");
	if (!shown)
		sb_add(label, "(no stack)");
}

static bool is_stack_member(const struct sla_json *m)
{
	size_t n = strlen(m->key);

	return m->type == SLA_JSON_ARRAY && n >= 5 && !strcmp(m->key + n - 5, "stack");
}

/* One finding or group as an entry: every member named *stack is part of its identity. */
static void read_entry(struct sla_diff_entry *e, const struct sla_json *o, bool finding)
{
	struct sb key = { 0 }, label = { 0 };
	const char *kind = sla_json_str(o, "kind");

	if (finding) {
		sb_add(&key, kind ? kind : "?");
		sb_add(&label, kind ? kind : "?");
	}
	for (size_t i = 0; i < o->nkids; i++) {
		const struct sla_json *m = &o->kids[i];

		if (!is_stack_member(m))
			continue;
		sb_add(&key, "|");
		sb_add(&key, m->key);
		sb_add(&key, "=");
		if (finding) {
			sb_add(&label, strchr(label.s, ' ') ? "; " : ": ");
			sb_add(&label, m->key);
			sb_add(&label, " ");
		}
		add_stack(&key, &label, m);
	}
	e->key = key.s ? key.s : sla_xstrndup("", 0);
	e->label = label.s ? label.s : sla_xstrndup("", 0);
	if (finding) {
		e->bytes = sla_json_u64(o, "retained_bytes");
		e->blocks = sla_json_u64(o, "blocks");
	} else if (sla_json_get(o, "leaked_bytes")) { /* a leak group: its leaked part */
		e->bytes = sla_json_u64(o, "leaked_bytes");
		e->blocks = sla_json_u64(o, "leaked_blocks");
	} else {
		e->bytes = sla_json_u64(o, "bytes");
		e->blocks = sla_json_u64(o, "blocks");
	}
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

static void read_list(struct sla_diff_side *s, enum sla_diff_list l, const struct sla_json *arr,
		      bool finding)
{
	if (!arr || arr->type != SLA_JSON_ARRAY)
		return;
	s->e[l] = sla_xcalloc(arr->nkids + 1, sizeof(*s->e[l]));
	for (size_t i = 0; i < arr->nkids; i++)
		if (arr->kids[i].type == SLA_JSON_OBJECT)
			read_entry(&s->e[l][s->n[l]++], &arr->kids[i], finding);
	merge_same(s->e[l], &s->n[l]);
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
	/* leaked (unreachable); a report older than that field: every block live at exit */
	s->leaked = sla_json_u64(leaks, sla_json_get(leaks, "leaked_bytes") ? "leaked_bytes" : "bytes");
	s->peak = sla_json_u64(peak, "bytes");
	read_list(s, SLA_DIFF_FINDINGS, sla_json_get(r, "findings"), true);
	read_list(s, SLA_DIFF_LEAKS, sla_json_get(leaks, "groups"), false);
	read_list(s, SLA_DIFF_PEAK, sla_json_get(peak, "groups"), false);
	return 0;
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

	if (b && n && b->bytes == n->bytes && b->blocks == n->blocks) {
		d->unchanged[l]++;
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

void sla_diff_compute(struct sla_diff *d)
{
	size_t cap = 0;

	d->items = NULL;
	d->nitems = 0;
	memset(d->unchanged, 0, sizeof(d->unchanged));
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		struct merge *idx = NULL, *m, *tmp;

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
	size_t shown = 0;

	print_total(out, "retained", d->base.retained, d->new.retained);
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
	fprintf(out, ",\n  \"totals\": {\"retained\": [%" PRIu64 ", %" PRIu64 "], \"leaked\": [%" PRIu64
		     ", %" PRIu64 "], \"peak\": [%" PRIu64 ", %" PRIu64 "]}",
		d->base.retained, d->new.retained, d->base.leaked, d->new.leaked, d->base.peak,
		d->new.peak);
	for (int l = 0; l < SLA_DIFF_NLISTS; l++) {
		bool first = true;

		fprintf(out, ",\n  \"%s\": {\"unchanged\": %zu, \"changes\": [", sla_diff_list_name[l],
			d->unchanged[l]);
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
