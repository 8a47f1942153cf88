/* analyzer/analyze/dominators.c - Semi-NCA immediate dominators (see dominators.h). */
#include <stdlib.h>
#include <string.h>

#include "dominators.h"
#include "xalloc.h"

#define NONE SLA_DOM_NONE

static inline uint32_t target(const struct sla_digraph *g, size_t e)
{
	uint32_t v;

	memcpy(&v, (const char *)g->edges + e * g->stride + g->target_offset, sizeof(v));
	return v;
}

/* The work arrays, indexed by preorder number (the root is 0). */
struct snca {
	const struct sla_digraph *g;
	uint32_t *pre;	  /* node -> preorder number, NONE when unreached */
	uint32_t *vert;	  /* preorder number -> node */
	uint32_t *parent; /* DFS tree parent */
	uint32_t *semi, *label, *anc, *idom;
	uint32_t *path;	  /* eval's compression path */
	uint32_t count;	  /* nodes reached */
};

/*
 * Iterative depth-first search from the root: preorder numbers and the DFS
 * tree. The explicit stack holds each open node and its next edge.
 */
static void dfs(struct snca *s)
{
	const struct sla_digraph *g = s->g;
	uint32_t n = g->n;
	uint32_t *stk = sla_xmalloc(((size_t)n + 1) * sizeof(*stk));
	size_t *cur = sla_xmalloc(((size_t)n + 1) * sizeof(*cur));
	size_t sp = 1;

	s->pre[n] = 0;
	s->vert[0] = n;
	s->parent[0] = 0;
	s->count = 1;
	stk[0] = n;
	cur[0] = 0;
	while (sp) {
		uint32_t u = stk[sp - 1], v;

		if (u == n) {
			if (cur[sp - 1] == g->nroots) {
				sp--;
				continue;
			}
			v = g->roots[cur[sp - 1]++];
		} else {
			if (cur[sp - 1] == g->first[u + 1] - g->first[u]) {
				sp--;
				continue;
			}
			v = target(g, g->first[u] + cur[sp - 1]++);
		}
		if (v >= n || s->pre[v] != NONE)
			continue;
		s->pre[v] = s->count;
		s->vert[s->count] = v;
		s->parent[s->count] = s->pre[u];
		s->count++;
		stk[sp] = v;
		cur[sp++] = 0;
	}
	free(cur);
	s->path = stk; /* n + 1 entries: eval's path is never longer */
}

/*
 * The predecessors of every reached node, as preorder numbers: preds of t
 * are pred[rfirst[t] .. rfirst[t + 1]). Only edges from reached nodes: an
 * unreached node is on no path from the root.
 */
static void predecessors(struct snca *s, size_t **rfirst_out, uint32_t **pred_out)
{
	const struct sla_digraph *g = s->g;
	size_t *rfirst = sla_xcalloc((size_t)s->count + 2, sizeof(*rfirst));
	uint32_t *pred;

	for (uint32_t i = 1; i < s->count; i++) /* the root's edges are counted below */
		for (size_t e = g->first[s->vert[i]]; e < g->first[s->vert[i] + 1]; e++) {
			uint32_t v = target(g, e);

			if (v < g->n)
				rfirst[s->pre[v] + 2]++;
		}
	for (size_t r = 0; r < g->nroots; r++)
		if (g->roots[r] < g->n)
			rfirst[s->pre[g->roots[r]] + 2]++;
	for (uint32_t k = 2; k < s->count + 2; k++)
		rfirst[k] += rfirst[k - 1];
	pred = sla_xmalloc((rfirst[s->count + 1] + 1) * sizeof(*pred));
	for (uint32_t i = 1; i < s->count; i++)
		for (size_t e = g->first[s->vert[i]]; e < g->first[s->vert[i] + 1]; e++) {
			uint32_t v = target(g, e);

			if (v < g->n)
				pred[rfirst[s->pre[v] + 1]++] = i;
		}
	for (size_t r = 0; r < g->nroots; r++)
		if (g->roots[r] < g->n)
			pred[rfirst[s->pre[g->roots[r]] + 1]++] = 0;
	*rfirst_out = rfirst;
	*pred_out = pred;
}

/*
 * The node of smallest semidominator on v's path up the link forest (v
 * itself when v is not linked yet), compressing the path on the way:
 * afterwards each node of the path links straight below the top of its
 * tree and its label is the best one of the nodes it now skips.
 */
static uint32_t eval(struct snca *s, uint32_t v)
{
	uint32_t *anc = s->anc, *label = s->label, *semi = s->semi;
	size_t k = 0;
	uint32_t x = v;

	if (anc[v] == NONE)
		return v;
	while (anc[anc[x]] != NONE) {
		s->path[k++] = x;
		x = anc[x];
	}
	while (k) { /* from the top down: each node's ancestor is final already */
		uint32_t y = s->path[--k], a = anc[y];

		if (semi[label[a]] < semi[label[y]])
			label[y] = label[a];
		anc[y] = anc[a];
	}
	return label[v];
}

void sla_dominators(const struct sla_digraph *g, struct sla_domtree *t)
{
	size_t nn = (size_t)g->n + 1;
	struct snca s = { .g = g };
	size_t *rfirst;
	uint32_t *pred;

	s.pre = sla_xmalloc(nn * sizeof(*s.pre));
	memset(s.pre, 0xff, nn * sizeof(*s.pre));
	s.vert = sla_xmalloc(nn * sizeof(*s.vert));
	s.parent = sla_xmalloc(nn * sizeof(*s.parent));
	dfs(&s);
	predecessors(&s, &rfirst, &pred);

	s.semi = sla_xmalloc(nn * sizeof(*s.semi));
	s.label = sla_xmalloc(nn * sizeof(*s.label));
	s.anc = sla_xmalloc(nn * sizeof(*s.anc));
	for (uint32_t i = 0; i < s.count; i++) {
		s.semi[i] = s.label[i] = i;
		s.anc[i] = NONE;
	}
	/* semidominators, in reverse preorder; then link the node to its parent */
	for (uint32_t i = s.count - 1; i >= 1; i--) {
		for (size_t e = rfirst[i]; e < rfirst[i + 1]; e++) {
			uint32_t u = eval(&s, pred[e]);

			if (s.semi[u] < s.semi[i])
				s.semi[i] = s.semi[u];
		}
		s.anc[i] = s.parent[i];
	}
	free(rfirst);
	free(pred);
	free(s.label);
	free(s.path);
	/* idom = NCA of the parent and the semidominator, in preorder (anc is reused) */
	s.idom = s.anc;
	s.idom[0] = 0;
	for (uint32_t i = 1; i < s.count; i++) {
		uint32_t x = s.parent[i];

		while (x > s.semi[i])
			x = s.idom[x];
		s.idom[i] = x;
	}
	free(s.semi);
	free(s.parent);
	/* back to node numbers; order[] is vert[] as it is */
	t->idom = sla_xmalloc(nn * sizeof(*t->idom));
	for (size_t v = 0; v < nn; v++)
		t->idom[v] = s.pre[v] == NONE ? NONE : s.vert[s.idom[s.pre[v]]];
	t->order = s.vert;
	t->nreach = s.count;
	free(s.idom);
	free(s.pre);
}

void sla_domtree_free(struct sla_domtree *t)
{
	free(t->idom);
	free(t->order);
	memset(t, 0, sizeof(*t));
}
