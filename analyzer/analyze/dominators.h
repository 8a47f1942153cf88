/*
 * analyzer/analyze/dominators.h - immediate dominators of a directed graph.
 *
 * A node d dominates v when every path from the root to v passes through d;
 * the immediate dominator of v is the dominator of v nearest to it, and the
 * immediate-dominator links form the dominator tree. A node's retained set
 * (what would become unreachable without it) is its dominator subtree.
 *
 * The algorithm is Semi-NCA (Georgiadis' variant of Lengauer and Tarjan):
 * a depth-first search numbers the nodes, semidominators are computed in
 * reverse preorder with path-compressed link/eval, and each immediate
 * dominator is the nearest common ancestor, in the dominator tree built so
 * far, of the node's DFS parent and its semidominator. O(m log n) time,
 * O(n + m) memory; everything is iterative (the heap graphs it runs on have
 * millions of nodes and chains as long as a linked list).
 *
 * The graph: nodes 0..n-1, plus a virtual root, node n, whose successors
 * are listed apart (the heap graph's roots are not a heap block), in CSR
 * form: node i's successors are targets[first[i] .. first[i + 1]). Targets
 * >= n are ignored (a corrupt graph cannot index out of bounds), and so
 * are self-loops and duplicate edges, which change nothing.
 *
 * Memory: 20 bytes per node and 4 per edge at the peak (the predecessor
 * lists, their index, which takes the semidominators as it is used up,
 * and four arrays by preorder number), 8 per node for the result.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define SLA_DOM_NONE UINT32_MAX /* not reachable from the root */

struct sla_digraph {
	uint32_t n;		     /* nodes 0..n-1; the root is node n */
	const uint32_t *first;	     /* n + 1 entries: node i's edges are [first[i], first[i+1]) */
	const uint32_t *targets;     /* the edges' targets */
	const uint32_t *roots;	     /* the root's successors */
	size_t nroots;
};

/* The result: arrays of n + 1 entries (the root included), owned by the caller. */
struct sla_domtree {
	uint32_t *idom;	 /* idom[v]; the root's is itself; SLA_DOM_NONE when unreachable */
	uint32_t *order; /* the reachable nodes in DFS preorder: order[0] is the root, and
			    every node comes after its immediate dominator */
	uint32_t nreach; /* entries of order[]: reachable nodes, the root included */
};

/*
 * Computes the dominator tree of `g` rooted at node g->n. Fills `t` (free
 * it with sla_domtree_free()). Aborts only when out of memory.
 */
void sla_dominators(const struct sla_digraph *g, struct sla_domtree *t);
void sla_domtree_free(struct sla_domtree *t);
