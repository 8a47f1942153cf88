/*
 * analyzer/tests/test_dominators.c - immediate dominators (dominators.h):
 *   - hand-drawn graphs: a chain, a diamond, a cycle, self-loops, duplicate
 *     edges, unreachable nodes (and an unreachable cycle), the classic
 *     Lengauer-Tarjan example, a target out of range;
 *   - a long chain and a long cycle (no recursion: 2 million nodes);
 *   - random graphs against the definition, computed the slow way: d
 *     dominates v when v cannot be reached from the root without d.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dominators.h"

#define NONE SLA_DOM_NONE

/* A graph given as an edge list (src, dst); src == n is the root. */
struct graph {
	uint32_t n;
	uint32_t *first;
	uint32_t *dst;
	uint32_t *roots;
	size_t nroots;
};

static int cmp_pair(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return x[0] != y[0] ? (x[0] < y[0] ? -1 : 1) : 0;
}

/* Builds the CSR form of `m` edges pairs[2 * i], pairs[2 * i + 1]. */
static void build(struct graph *g, uint32_t n, uint32_t *pairs, size_t m)
{
	size_t k = 0;

	qsort(pairs, m, 2 * sizeof(*pairs), cmp_pair);
	g->n = n;
	g->first = calloc((size_t)n + 2, sizeof(*g->first));
	g->dst = malloc((m + 1) * sizeof(*g->dst));
	g->roots = malloc((m + 1) * sizeof(*g->roots));
	g->nroots = 0;
	for (size_t i = 0; i < m; i++) {
		if (pairs[2 * i] == n) {
			g->roots[g->nroots++] = pairs[2 * i + 1];
			continue;
		}
		g->first[pairs[2 * i] + 1]++;
		g->dst[k++] = pairs[2 * i + 1];
	}
	for (uint32_t i = 0; i < n; i++)
		g->first[i + 1] += g->first[i];
}

static void run(const struct graph *g, struct sla_domtree *t)
{
	struct sla_digraph d = {
		.n = g->n, .first = g->first, .targets = g->dst, .roots = g->roots,
		.nroots = g->nroots,
	};

	sla_dominators(&d, t);
}

static void drop(struct graph *g)
{
	free(g->first);
	free(g->dst);
	free(g->roots);
}

/* Checks idom against `want` (n + 1 entries, the root's last). */
static void expect(uint32_t n, uint32_t *pairs, size_t m, const uint32_t *want, int line)
{
	struct graph g;
	struct sla_domtree t;
	int bad = 0;

	build(&g, n, pairs, m);
	run(&g, &t);
	for (uint32_t v = 0; v <= n; v++)
		if (t.idom[v] != want[v]) {
			fprintf(stderr, "line %d: idom[%u] = %d, want %d\n", line, v, (int)t.idom[v],
				(int)want[v]);
			bad = 1;
		}
	/* order: the root first, each node after its immediate dominator */
	CHECK(t.nreach >= 1 && t.order[0] == n);
	for (uint32_t i = 1; i < t.nreach; i++) {
		uint32_t v = t.order[i], seen = 0;

		for (uint32_t j = 0; j < i; j++)
			seen |= t.order[j] == t.idom[v];
		if (!seen)
			bad = 1;
	}
	CHECK(!bad);
	sla_domtree_free(&t);
	drop(&g);
}

#define E(...) ((uint32_t[]){ __VA_ARGS__ })
#define W(...) ((const uint32_t[]){ __VA_ARGS__ })
#define EXPECT(n, pairs, want) expect(n, pairs, sizeof(pairs) / sizeof(uint32_t) / 2, want, __LINE__)

static void test_hand_drawn(void)
{
	uint32_t R;

	/* chain R -> 0 -> 1 -> 2 */
	R = 3;
	EXPECT(3, E(R, 0, 0, 1, 1, 2), W(R, 0, 1, R));
	/* diamond R -> 0 -> {1, 2} -> 3: 3's idom is 0, not 1 or 2 */
	R = 4;
	EXPECT(4, E(R, 0, 0, 1, 0, 2, 1, 3, 2, 3), W(R, 0, 0, 0, R));
	/* a cycle 0 -> 1 -> 2 -> 0 entered at 0, with 2 -> 3 */
	R = 4;
	EXPECT(4, E(R, 0, 0, 1, 1, 2, 2, 0, 2, 3), W(R, 0, 1, 2, R));
	/* a cycle entered at two places: R -> 0, R -> 1, 0 <-> 1 */
	R = 2;
	EXPECT(2, E(R, 0, R, 1, 0, 1, 1, 0), W(R, R, R));
	/* self-loops and a duplicate edge change nothing */
	R = 3;
	EXPECT(3, E(R, 0, 0, 0, 0, 1, 0, 1, 1, 1, 1, 2, 2, 2), W(R, 0, 1, R));
	/* unreachable nodes: 2 and an unreachable cycle 3 <-> 4 pointing into the graph */
	R = 5;
	EXPECT(5, E(R, 0, 0, 1, 2, 1, 3, 4, 4, 3, 4, 0),
	       W(R, 0, NONE, NONE, NONE, R));
	/* a node reached from the root and from deep inside: the root dominates it */
	R = 4;
	EXPECT(4, E(R, 0, 0, 1, 1, 2, 2, 3, R, 3), W(R, 0, 1, R, R));
	/* two owners of one buffer: 2 is shared by 0 and 1, held from the root */
	R = 3;
	EXPECT(3, E(R, 0, R, 1, 0, 2, 1, 2), W(R, R, R, R));
	/* an empty graph and a root without edges */
	expect(0, E(0, 0), 0, W(0), __LINE__);
	R = 2;
	EXPECT(2, E(0, 1), W(NONE, NONE, R));
	/* a target out of range is ignored */
	R = 2;
	EXPECT(2, E(R, 0, 0, 7, 0, 1), W(R, 0, R));
	/*
	 * Lengauer and Tarjan's example (1979), R=13, A..L = 0..11 (12 unused):
	 * R->A,B,C; A->D; B->A,D,E; C->F,G; D->L; E->H; F->I; G->I,J; H->E,K;
	 * I->K; J->I; K->I,R; L->H.
	 */
	{
		enum { A, B, C, D, Ee, F, G, H, I, J, K, L, X, RR };

		EXPECT(13,
		       E(RR, A, RR, B, RR, C, A, D, B, A, B, D, B, Ee, C, F, C, G, D, L, Ee, H, F, I, G, I,
			 G, J, H, Ee, H, K, I, K, J, I, K, I, K, RR, L, H),
		       W(RR, RR, RR, RR, RR, C, C, RR, RR, G, RR, D, NONE, RR));
	}
}

/* A chain and a cycle of 2 million nodes: an implementation that recursed would overflow. */
static void test_long(void)
{
	uint32_t n = 2000000, *pairs = malloc(2 * ((size_t)n + 1) * sizeof(*pairs));
	struct graph g;
	struct sla_domtree t;
	int bad = 0;

	pairs[0] = n;
	pairs[1] = 0;
	for (uint32_t i = 0; i + 1 < n; i++) {
		pairs[2 * (i + 1)] = i;
		pairs[2 * (i + 1) + 1] = i + 1;
	}
	pairs[2 * (size_t)n] = n - 1; /* closes the cycle back to 0 */
	pairs[2 * (size_t)n + 1] = 0;
	build(&g, n, pairs, (size_t)n + 1);
	run(&g, &t);
	CHECK_EQ_U(t.nreach, n + 1);
	for (uint32_t i = 1; i < n; i++)
		bad |= t.idom[i] != i - 1;
	CHECK(!bad && t.idom[0] == n);
	sla_domtree_free(&t);
	drop(&g);
	free(pairs);
}

/* The definition: v reachable from the root with `skip` removed (NONE: nothing removed). */
static void reach_without(const struct graph *g, uint32_t skip, uint8_t *seen, uint32_t *queue)
{
	size_t h = 0, q = 0;

	memset(seen, 0, (size_t)g->n + 1);
	if (skip == g->n)
		return;
	seen[g->n] = 1;
	for (size_t r = 0; r < g->nroots; r++)
		if (g->roots[r] != skip && g->roots[r] < g->n && !seen[g->roots[r]]) {
			seen[g->roots[r]] = 1;
			queue[q++] = g->roots[r];
		}
	while (h < q) {
		uint32_t u = queue[h++];

		for (size_t e = g->first[u]; e < g->first[u + 1]; e++) {
			uint32_t v = g->dst[e];

			if (v != skip && v < g->n && !seen[v]) {
				seen[v] = 1;
				queue[q++] = v;
			}
		}
	}
}

/* Random graphs of up to 40 nodes against the O(n^2) definition. */
static void test_random(void)
{
	unsigned seed = 12345;
	int bad = 0;

	for (int round = 0; round < 3000 && !bad; round++) {
		uint32_t n = 1 + (uint32_t)(rand_r(&seed) % 40);
		size_t m = (size_t)(rand_r(&seed) % (3 * n + 3));
		uint32_t *pairs = malloc(2 * (m + 1) * sizeof(*pairs));
		uint8_t *all = malloc(n + 1), *dom = malloc(((size_t)n + 1) * (n + 1));
		uint32_t *queue = malloc(((size_t)n + 1) * sizeof(*queue));
		struct graph g;
		struct sla_domtree t;

		for (size_t i = 0; i < m; i++) {
			/* the root has a few edges; the rest are between nodes */
			pairs[2 * i] = rand_r(&seed) % 6 == 0 ? n : (uint32_t)(rand_r(&seed) % n);
			pairs[2 * i + 1] = (uint32_t)(rand_r(&seed) % n);
		}
		build(&g, n, pairs, m);
		run(&g, &t);
		reach_without(&g, NONE, all, queue);
		/* dom[d * (n+1) + v]: d dominates v */
		for (uint32_t d = 0; d <= n; d++) {
			uint8_t *seen = dom + (size_t)d * (n + 1);

			reach_without(&g, d, seen, queue);
			for (uint32_t v = 0; v <= n; v++)
				seen[v] = all[v] && (!seen[v] || v == d);
		}
		for (uint32_t v = 0; v <= n && !bad; v++) {
			uint32_t want = NONE;

			if (v == n) {
				want = n;
			} else if (all[v]) {
				/* the strict dominator that every other one dominates */
				for (uint32_t d = 0; d <= n; d++) {
					bool strict = d != v && dom[(size_t)d * (n + 1) + v];

					if (strict && (want == NONE || dom[(size_t)want * (n + 1) + d]))
						want = d;
				}
			}
			if (t.idom[v] != want) {
				fprintf(stderr, "round %d (n %u, m %zu): idom[%u] = %d, want %d\n", round,
					n, m, v, (int)t.idom[v], (int)want);
				bad = 1;
			}
		}
		sla_domtree_free(&t);
		drop(&g);
		free(pairs);
		free(all);
		free(dom);
		free(queue);
	}
	CHECK(!bad);
}

int main(void)
{
	test_hand_drawn();
	test_long();
	test_random();
	return check_result();
}
