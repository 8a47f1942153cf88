/*
 * analyzer/tests/test_state.c - the state's structures directly: the
 * interior-pointer index, LIFO slice references, owner views.
 */
#include "state.h"
#include "check.h"

static void test_block_containing(void)
{
	struct sla_state *st = sla_state_new("s");
	struct sla_block *a, *z, *c;

	a = sla_state_add_block(st, 0x1000, 0x100, 1);
	/* an exact start never needs the index */
	CHECK(sla_state_block_containing(st, 0x1000) == a);
	CHECK(!st->tree_on);
	/* an interior pointer builds it from the live blocks */
	CHECK(sla_state_block_containing(st, 0x10ff) == a);
	CHECK(st->tree_on);
	CHECK(sla_state_block_containing(st, 0x1100) == NULL);
	CHECK(sla_state_block_containing(st, 0xfff) == NULL);
	/* later blocks are indexed as they come, and leave it when freed */
	z = sla_state_add_block(st, 0x2000, 0, 1); /* malloc(0) */
	c = sla_state_add_block(st, 0x3000, 0x1000, 1);
	CHECK(sla_state_block_containing(st, 0x3800) == c);
	CHECK(sla_state_find_block(st, 0x2000) == z);
	sla_state_remove_block(st, c);
	CHECK(sla_state_block_containing(st, 0x3800) == NULL);
	CHECK(sla_state_block_containing(st, 0x1080) == a);
	sla_state_free(st);
}

static void test_slice_refs(void)
{
	struct sla_state *st = sla_state_new("s");
	struct sla_block *b = sla_state_add_block(st, 0x1000, 0x1000, 1);
	enum sla_view_kind kind;
	const struct sla_ref *oldest;

	sla_state_slice_add(st, b, 0x1000, 5, 7, 100);
	sla_state_slice_add(st, b, 0x1000, 5, 8, 200); /* same view, second reference */
	sla_state_slice_add(st, b, 0x1100, 5, 9, 150);
	CHECK_EQ_U(sla_block_nviews(st, b), 2);
	CHECK_EQ_U(st->views_live, 3);
	oldest = sla_block_oldest_ref(st, b, &kind);
	CHECK(oldest && oldest->stack == 7 && kind == SLA_VIEW_SLICE);
	/* a drop takes the most recent reference: the oldest stays */
	CHECK(sla_state_slice_drop(st, 0x1000, 0x1000, 5));
	oldest = sla_block_oldest_ref(st, b, NULL);
	CHECK(oldest && oldest->stack == 7 && oldest->time == 100);
	CHECK(sla_state_slice_drop(st, 0x1000, 0x1000, 5));
	oldest = sla_block_oldest_ref(st, b, NULL);
	CHECK(oldest && oldest->stack == 9);
	CHECK(!sla_state_slice_drop(st, 0x1000, 0x1000, 5));
	CHECK_EQ_U(sla_block_nviews(st, b), 1);
	/* many references of one view */
	for (int i = 0; i < 100; i++)
		sla_state_slice_add(st, b, 0x1000, 1, (uint32_t)i, (uint64_t)i);
	for (int i = 0; i < 99; i++)
		CHECK(sla_state_slice_drop(st, 0x1000, 0x1000, 1));
	oldest = sla_block_oldest_ref(st, b, NULL);
	CHECK(oldest && oldest->stack == 0 && oldest->time == 0);
	sla_state_free(st);
}

static void test_owner_views(void)
{
	struct sla_state *st = sla_state_new("s");
	struct sla_block *a = sla_state_add_block(st, 0x1000, 0x1000, 1);
	struct sla_block *b = sla_state_add_block(st, 0x4000, 0x1000, 1);
	struct sla_view *v;

	sla_state_owner_set(st, 0xaa, a, 0x1010, 4, 3, 10);
	CHECK_EQ_U(sla_block_nviews(st, a), 1);
	/* acquiring again replaces, even on another block */
	sla_state_owner_set(st, 0xaa, b, 0x4010, 8, 4, 20);
	CHECK_EQ_U(sla_block_nviews(st, a), 0);
	CHECK_EQ_U(sla_block_nviews(st, b), 1);
	v = sla_state_owner_find(st, 0xaa);
	CHECK(v && v->block == b && v->len == 8 && v->kind == SLA_VIEW_OWNER);
	CHECK(sla_state_owner_release(st, 0xaa));
	CHECK(!sla_state_owner_release(st, 0xaa));
	CHECK_EQ_U(st->views_live, 0);
	/* freeing a block takes its views along */
	sla_state_owner_set(st, 0xbb, b, 0x4000, 1, 4, 30);
	sla_state_remove_block(st, b);
	CHECK(sla_state_owner_find(st, 0xbb) == NULL);
	sla_state_free(st);
}

static void test_freed_memory(void)
{
	struct sla_state *st = sla_state_new("s");

	CHECK(!sla_state_forget_freed(st, 0x1000));
	sla_state_remember_freed(st, 0x1000);
	CHECK(sla_state_forget_freed(st, 0x1000));
	CHECK(!sla_state_forget_freed(st, 0x1000));
	CHECK(sla_anomaly_name(SLA_ANOM_double_free)[0] == 'd');
	sla_state_free(st);
}

int main(void)
{
	test_block_containing();
	test_slice_refs();
	test_owner_views();
	test_freed_memory();
	return check_result();
}
