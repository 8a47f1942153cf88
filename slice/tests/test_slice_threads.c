/*
 * slice/tests/test_slice_threads.c - references taken on one thread and
 * dropped on another: every backing block must be freed exactly once, and
 * only when its last reference goes.
 *
 * Each round: main makes NBLOCKS slices; NTHREADS threads each take REFS
 * references to every block (alternating sl_retain and sl_sub, so both paths
 * count); a barrier; then every thread drops the references another thread
 * took, all at once, while main drops its own. The last drops race each
 * other, which is where a non-atomic count would free twice or never.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "alloc_count.h"
#include "check.h"

#define NTHREADS 8
#define NBLOCKS	 64
#define REFS	 16
#define ROUNDS	 20

/* Everything the threads share in one round. */
static struct {
	sl_slice blocks[NBLOCKS];		    /* main's own references */
	sl_slice refs[NTHREADS][NBLOCKS * REFS];    /* taken by thread t */
	pthread_barrier_t taken;		    /* all references exist */
	pthread_barrier_t dropping;		    /* main has looked; drop them */
	atomic_int early_frees;			    /* views found dead before their drop */
} sh;

/* Takes references to every block, waits, then drops those of the next thread. */
static void *worker(void *arg)
{
	int t = (int)(intptr_t)arg;
	sl_slice *mine = sh.refs[t];
	sl_slice *theirs = sh.refs[(t + 1) % NTHREADS];

	for (int i = 0; i < NBLOCKS * REFS; i++) {
		sl_slice b = sh.blocks[i % NBLOCKS];

		mine[i] = (i & 1) ? sl_sub(b, 1, 3) : sl_retain(b);
	}
	pthread_barrier_wait(&sh.taken);
	pthread_barrier_wait(&sh.dropping);
	for (int i = 0; i < NBLOCKS * REFS; i++) {
		/* Each view is still readable until dropped: its block is alive. */
		if (*(unsigned char *)theirs[i].ptr != (unsigned char)(i % NBLOCKS + (i & 1)))
			atomic_fetch_add(&sh.early_frees, 1);
		sl_release(&theirs[i]);
	}
	return NULL;
}

static void test_cross_thread_release(void)
{
	pthread_t th[NTHREADS];
	size_t frees_before, frees_after;
	bool once = true, early = false;

	for (int round = 0; round < ROUNDS; round++) {
		pthread_barrier_init(&sh.taken, NULL, NTHREADS + 1);
		pthread_barrier_init(&sh.dropping, NULL, NTHREADS + 1);
		atomic_store(&sh.early_frees, 0);
		alloc_count_unwatch_all(); /* addresses of earlier rounds are stale */
		for (int b = 0; b < NBLOCKS; b++) {
			sh.blocks[b] = sl_make(1, 4, 4);
			for (int k = 0; k < 4; k++)
				*(unsigned char *)sl_at(sh.blocks[b], (size_t)k) =
					(unsigned char)(b + k);
			alloc_count_watch(sh.blocks[b].backing);
		}
		frees_before = alloc_count_frees();
		for (int t = 0; t < NTHREADS; t++)
			pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);

		pthread_barrier_wait(&sh.taken);
		for (int b = 0; b < NBLOCKS; b++)
			early |= alloc_count_freed(sh.blocks[b].backing) != 0;
		pthread_barrier_wait(&sh.dropping);

		/* Main's references go while the workers drop theirs. */
		struct sl_backing *backing[NBLOCKS];

		for (int b = 0; b < NBLOCKS; b++) {
			backing[b] = sh.blocks[b].backing;
			sl_release(&sh.blocks[b]);
		}
		for (int t = 0; t < NTHREADS; t++)
			pthread_join(th[t], NULL);

		frees_after = alloc_count_frees();
		for (int b = 0; b < NBLOCKS; b++)
			once &= alloc_count_freed(backing[b]) == 1;
		once &= frees_after - frees_before == NBLOCKS;
		early |= atomic_load(&sh.early_frees) != 0;
		pthread_barrier_destroy(&sh.taken);
		pthread_barrier_destroy(&sh.dropping);
	}
	CHECK(!early); /* nothing freed while references were out */
	CHECK(once);   /* every block freed exactly once, and nothing else freed */
}

int main(void)
{
	RUN(test_cross_thread_release);
	return check_summary();
}
