/* analyzer/analyze/dominators.c - Semi-NCA immediate dominators (see dominators.h). */
#include <stdlib.h>
#include <string.h>

#include "dominators.h"
#include "xalloc.h"

#define NONE SLA_DOM_NONE

/*
 * The work arrays, indexed by preorder number (the root is 0) but pre[].
 * Eval's labels are kept as the semidominators they stand for (lsemi): no
 * label is ever used but for its semidominator.
 */
struct snca {
	const struct sla_digraph *g;
	uint32_t *pre;	  /* node -> preorder number, NONE when unreached (until the preds) */
	uint32_t *vert;	  /* preorder number -> node */
	uint32_t *parent; /* DFS tree parent; then, in place, the immediate dominator */
	uint32_t *lsemi;  /* the smallest semidominator on the compressed path above */
	uint32_t *anc;	  /* link forest: ancestor, NONE when not linked yet */
	uint32_t *path;	  /* eval's compression path */
	size_t path_cap;
	uint32_t count;	  /* nodes reached */
};

/*
 * Iterative depth-first search from the root: preorder numbers and the DFS
 * tree. The explicit stack holds each open node and how many of its edges
 * it has followed.
 */
static void dfs(struct snca *s)
{
	const struct sla_digraph *g = s->g;
	uint32_t n = g->n;
	uint32_t *stk = sla_xmalloc(((size_t)n + 1) * sizeof(*stk));
	uint32_t *cur = sla_xmalloc(((size_t)n + 1) * sizeof(*cur));
	size_t sp = 1, next_root = 0;

	s->pre[n] = 0;
	s->vert[0] = n;
	s->parent[0] = 0;
	s->count = 1;
	stk[0] = n;
	while (sp) {
		uint32_t u = stk[sp - 1], v;

		if (u == n) {
			if (next_root == g->nroots) {
				sp--;
				continue;
			}
			v = g->roots[next_root++];
		} else {
			if (cur[sp - 1] == g->first[u + 1] - g->first[u]) {
				sp--;
				continue;
			}
			v = g->targets[g->first[u] + cur[sp - 1]++];
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
	free(stk);
}

/*
 * The predecessors of every reached node, as preorder numbers: preds of t
 * are pred[rfirst[t] .. rfirst[t + 1]). Only edges from reached nodes: an
 * unreached node is on no path from the root.
 */
static void predecessors(struct snca *s, uint32_t **rfirst_out, uint32_t **pred_out)
{
	const struct sla_digraph *g = s->g;
	uint32_t *rfirst = sla_xcalloc((size_t)s->count + 2, sizeof(*rfirst));
	uint32_t *pred;
	size_t total = 0;

	for (uint32_t i = 1; i < s->count; i++) /* the root's edges are counted below */
		for (uint32_t e = g->first[s->vert[i]]; e < g->first[s->vert[i] + 1]; e++) {
			uint32_t v = g->targets[e];

			if (v < g->n) {
				rfirst[s->pre[v] + 2]++;
				total++;
			}
		}
	for (size_t r = 0; r < g->nroots; r++)
		if (g->roots[r] < g->n) {
			rfirst[s->pre[g->roots[r]] + 2]++;
			total++;
		}
	if (total >= UINT32_MAX)
		sla_die("out of memory (a graph of %zu edges)", total);
	for (uint32_t k = 2; k < s->count + 2; k++)
		rfirst[k] += rfirst[k - 1];
	pred = sla_xmalloc((total + 1) * sizeof(*pred));
	for (uint32_t i = 1; i < s->count; i++)
		for (uint32_t e = g->first[s->vert[i]]; e < g->first[s->vert[i] + 1]; e++) {
			uint32_t v = g->targets[e];

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
 * The smallest semidominator on v's path up the link forest (v itself
 * when v is not linked yet: its preorder number, its semidominator's
 * starting value), compressing the path on the way: afterwards each node
 * of the path links straight below the top of its tree and its lsemi is
 * the best one of the nodes it now skips.
 */
static uint32_t eval(struct snca *s, uint32_t v)
{
	uint32_t *anc = s->anc, *lsemi = s->lsemi;
	size_t k = 0;
	uint32_t x = v;

	if (anc[v] == NONE)
		return v;
	while (anc[anc[x]] != NONE) {
		if (k == s->path_cap)
			sla_xgrow(&s->path, &s->path_cap, k + 1, sizeof(*s->path));
		s->path[k++] = x;
		x = anc[x];
	}
	while (k) { /* from the top down: each node's ancestor is final already */
		uint32_t y = s->path[--k], a = anc[y];

		if (lsemi[a] < lsemi[y])
			lsemi[y] = lsemi[a];
		anc[y] = anc[a];
	}
	return lsemi[v];
}

void sla_dominators(const struct sla_digraph *g, struct sla_domtree *t)
{
	size_t nn = (size_t)g->n + 1;
	struct snca s = { .g = g };
	uint32_t *rfirst, *pred, *idom, *semi;

	s.pre = sla_xmalloc(nn * sizeof(*s.pre));
	memset(s.pre, 0xff, nn * sizeof(*s.pre));
	s.vert = sla_xmalloc(nn * sizeof(*s.vert));
	s.parent = sla_xmalloc(nn * sizeof(*s.parent));
	dfs(&s);
	predecessors(&s, &rfirst, &pred);
	free(s.pre); /* from here on, everything is by preorder number */

	s.lsemi = sla_xmalloc((size_t)s.count * sizeof(*s.lsemi));
	s.anc = sla_xmalloc((size_t)s.count * sizeof(*s.anc));
	for (uint32_t i = 0; i < s.count; i++) {
		s.lsemi[i] = i;
		s.anc[i] = NONE;
	}
	/*
	 * Semidominators, in reverse preorder; then link the node to its
	 * parent. Node i's semidominator goes into rfirst[i + 1], which no
	 * node left to do reads (they are all before i): semi[i] below.
	 */
	semi = rfirst + 1;
	for (uint32_t i = s.count - 1; i >= 1; i--) {
		uint32_t best = i;

		for (uint32_t e = rfirst[i]; e < rfirst[i + 1]; e++) {
			uint32_t u = eval(&s, pred[e]);

			if (u < best)
				best = u;
		}
		semi[i] = s.lsemi[i] = best;
		s.anc[i] = s.parent[i];
	}
	free(pred);
	free(s.lsemi);
	free(s.anc);
	free(s.path);
	/*
	 * idom = NCA of the parent and the semidominator, in preorder, in
	 * place of the parent: parent[i] is read before idom[i] is written,
	 * and every idom[x] read is of an x < i, final already.
	 */
	idom = s.parent;
	idom[0] = 0;
	for (uint32_t i = 1; i < s.count; i++) {
		uint32_t x = idom[i];

		while (x > semi[i])
			x = idom[x];
		idom[i] = x;
	}
	free(rfirst);
	/* back to node numbers; order[] is vert[] as it is */
	t->idom = sla_xmalloc(nn * sizeof(*t->idom));
	memset(t->idom, 0xff, nn * sizeof(*t->idom));
	for (uint32_t i = 0; i < s.count; i++)
		t->idom[s.vert[i]] = s.vert[idom[i]];
	t->order = s.vert;
	t->nreach = s.count;
	free(idom);
}

void sla_domtree_free(struct sla_domtree *t)
{
	free(t->idom);
	free(t->order);
	memset(t, 0, sizeof(*t));
}
