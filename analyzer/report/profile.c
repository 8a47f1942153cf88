/* analyzer/report/profile.c - the results as values per allocation stack. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#include "profile.h"
#include "xalloc.h"

const char *const sla_metric_name[SLA_METRIC_COUNT] = {
	"live", "retained", "owned", "leaked", "peak", "allocated",
};

const char *const sla_metric_desc[SLA_METRIC_COUNT] = {
	"live at the evaluation point",
	"retained by findings",
	"retained by owner findings",
	"leaked",
	"live at the heap peak",
	"allocated in total",
};

static void add(struct sla_profile *p, enum sla_metric m, uint32_t gid, uint64_t bytes,
		uint64_t objects)
{
	p->v[gid][m].bytes += bytes;
	p->v[gid][m].objects += objects;
	p->total[m].bytes += bytes;
	p->total[m].objects += objects;
}

static void add_groups(struct sla_profile *p, enum sla_metric m, const struct sla_group *g,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		add(p, m, g[i].gid, g[i].bytes, g[i].blocks);
}

void sla_profile_build(struct sla_profile *p, const struct sla_results *res,
		       const struct sla_stackset *set)
{
	memset(p, 0, sizeof(*p));
	p->n = sla_stackset_count(set);
	p->v = sla_xcalloc(p->n, sizeof(*p->v));
	p->used = sla_xcalloc(p->n, sizeof(*p->used));
	add_groups(p, SLA_METRIC_LIVE, res->live, res->nlive);
	for (size_t i = 0; i < res->nfindings; i++)
		add(p, res->findings[i].kind == SLA_FINDING_OWNER ? SLA_METRIC_OWNED :
								     SLA_METRIC_RETAINED,
		    res->findings[i].alloc_gid, res->findings[i].retained_bytes,
		    res->findings[i].blocks);
	for (size_t i = 0; i < res->nleaks; i++) /* the leaked (unreachable) part of each */
		add(p, SLA_METRIC_LEAKED, res->leaks[i].gid, res->leaks[i].leaked_bytes,
		    res->leaks[i].leaked_blocks);
	add_groups(p, SLA_METRIC_PEAK, res->peak, res->npeak);
	for (size_t i = 0; i < res->nhotspots; i++)
		add(p, SLA_METRIC_ALLOCATED, res->hotspots[i].gid, res->hotspots[i].bytes,
		    res->hotspots[i].allocations);
	/* children have larger gids than their parents: one pass from the leaves up */
	for (size_t gid = p->n; gid-- > 1;) {
		for (int m = 0; m < SLA_METRIC_COUNT && !p->used[gid]; m++)
			p->used[gid] = p->v[gid][m].objects || p->v[gid][m].bytes;
		if (p->used[gid])
			p->used[sla_stackset_parent(set, (uint32_t)gid)] = true;
	}
}

void sla_profile_free(struct sla_profile *p)
{
	free(p->v);
	free(p->used);
	memset(p, 0, sizeof(*p));
}

/* One distinct frame name ("function\tfile"), interned. */
struct name {
	UT_hash_handle hh;
	uint32_t id;
	char s[];
};

/* A node of the frame tree: (parent node, name). */
struct node {
	UT_hash_handle hh;
	uint64_t key; /* parent << 32 | name */
	uint32_t id;
};

struct tree {
	struct name *names;
	uint32_t nnames;
	struct name **name_list;
	size_t name_cap;
	struct node *nodes;
	uint32_t nnodes;
	uint32_t *parent, *name; /* [node] */
	size_t node_cap;
	uint32_t *node_of;	 /* [gid] */
};

static uint32_t intern_name(struct tree *t, const char *s, size_t len)
{
	struct name *n;

	HASH_FIND(hh, t->names, s, len, n);
	if (n)
		return n->id;
	n = sla_xmalloc(sizeof(*n) + len + 1);
	memcpy(n->s, s, len);
	n->s[len] = 0;
	n->id = t->nnames++;
	HASH_ADD_KEYPTR(hh, t->names, n->s, len, n);
	sla_xgrow(&t->name_list, &t->name_cap, t->nnames, sizeof(*t->name_list));
	t->name_list[n->id] = n;
	return n->id;
}

static uint32_t child(struct tree *t, uint32_t parent, uint32_t name)
{
	uint64_t key = (uint64_t)parent << 32 | name;
	struct node *n;

	HASH_FIND(hh, t->nodes, &key, sizeof(key), n);
	if (n)
		return n->id;
	n = sla_xmalloc(sizeof(*n));
	n->key = key;
	n->id = t->nnodes++;
	HASH_ADD(hh, t->nodes, key, sizeof(key), n);
	sla_xgrow(&t->parent, &t->node_cap, t->nnodes, sizeof(*t->parent));
	t->name = sla_xrealloc(t->name, t->node_cap * sizeof(*t->name));
	t->parent[n->id] = parent;
	t->name[n->id] = name;
	return n->id;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* "function\tfile", or "0xADDR\tmodule+0xOFF" for a frame without symbols. */
static uint32_t frame_name(struct tree *t, const struct sla_frame *f)
{
	char buf[1024];
	int n;

	if (f->function)
		n = snprintf(buf, sizeof(buf), "%s\t%s", f->function, f->file ? f->file : "");
	else if (f->module)
		n = snprintf(buf, sizeof(buf), "%s+0x%" PRIx64 "\t%s", base_name(f->module),
			     f->offset, f->module);
	else
		n = snprintf(buf, sizeof(buf), "0x%" PRIx64 "\t", f->address);
	if (n < 0)
		n = 0;
	return intern_name(t, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
}

void sla_frame_tree_build(struct sla_frame_tree *ft, const struct sla_profile *p,
			  struct sla_stackset *set, struct sla_symbolizer *sym)
{
	struct tree *t = sla_xcalloc(1, sizeof(*t));

	t->node_of = sla_xcalloc(p->n ? p->n : 1, sizeof(*t->node_of));
	child(t, 0, intern_name(t, "all\t", 4)); /* node 0, the root (its own parent) */
	for (uint32_t gid = 1; gid < p->n; gid++) {
		const struct sla_module *mod;
		struct sla_frame f[32];
		uint32_t node;
		size_t nf;

		if (!p->used[gid])
			continue;
		node = t->node_of[sla_stackset_parent(set, gid)];
		nf = sla_stackset_leaf(set, gid, sym, &mod, f, 32);
		while (nf--) /* outermost (the caller) first */
			node = child(t, node, frame_name(t, &f[nf]));
		t->node_of[gid] = node;
	}
	ft->priv = t;
	ft->nnodes = t->nnodes;
	ft->parent = t->parent;
	ft->name = t->name;
	ft->node_of = t->node_of;
	ft->nnames = t->nnames;
}

const char *sla_frame_tree_name(const struct sla_frame_tree *ft, uint32_t name)
{
	const struct tree *t = ft->priv;

	return t->name_list[name]->s;
}

void sla_frame_tree_free(struct sla_frame_tree *ft)
{
	struct tree *t = ft->priv;
	struct name *n, *ntmp;
	struct node *d, *dtmp;

	if (!t)
		return;
	HASH_ITER(hh, t->names, n, ntmp) {
		HASH_DELETE(hh, t->names, n);
		free(n);
	}
	HASH_ITER(hh, t->nodes, d, dtmp) {
		HASH_DELETE(hh, t->nodes, d);
		free(d);
	}
	free(t->name_list);
	free(t->parent);
	free(t->name);
	free(t->node_of);
	free(t);
	memset(ft, 0, sizeof(*ft));
}
