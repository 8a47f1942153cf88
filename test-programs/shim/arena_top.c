/*
 * arena_top.c - leaks whose only "reference" is the allocator's own state.
 *
 * glibc's main_arena (in libc's writable data) points at the top chunk's
 * header, which lies in the last 8 bytes of the block allocated last when
 * that block fills its chunk (24 bytes in a 32-byte chunk); a thread's
 * arena keeps the same state at the start of its 64 MiB heap. Neither is a
 * reference the program holds.
 *
 * main: a list of 10 nodes of 24 bytes whose head is dropped (1 direct +
 * 9 indirect leaks), then one more 24-byte block, dropped (the top chunk
 * follows it: 1 direct leak); a thread: one 24-byte block, dropped, in its
 * own arena (1 direct leak), its stack then scrubbed so no stale copy of
 * the address remains in it (glibc keeps an exited thread's stack mapped).
 *
 * Expected under the shim, as memcheck counts them: 3 direct leaks of
 * 24 bytes and 9 indirect ones, 288 bytes leaked in 12 blocks. (A stale
 * copy of an address left in an exited thread's stack, which glibc keeps
 * mapped for reuse and the exit scan reads, would still keep its block
 * "referenced": hence the scrub.)
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct node {
	struct node *next;
	char pad[16];
};

/* explicit_bzero: a plain memset of a dead local array is optimized away at -O2. */
__attribute__((noinline)) static void scrub(void)
{
	char buf[32768];

	explicit_bzero(buf, sizeof(buf));
}

static volatile int sink;

/* Reads the list, so that the compiler keeps every store into it. */
__attribute__((noinline)) static void walk(const struct node *x)
{
	for (; x; x = x->next)
		sink += x->pad[0];
}

__attribute__((noinline)) static void leak_list(int n)
{
	struct node *head = NULL;

	for (int i = 0; i < n; i++) {
		struct node *x = malloc(sizeof(*x));

		memset(x, 0, sizeof(*x));
		x->next = head;
		head = x;
	}
	walk(head);
}

__attribute__((noinline)) static void leak_one(void)
{
	char *volatile p = malloc(24);

	memset(p, 1, 24);
	p = NULL;
}

static void *thread_main(void *arg)
{
	(void)arg;
	leak_one();
	scrub();
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, thread_main, NULL) || pthread_join(t, NULL))
		return 1;
	leak_list(10);
	leak_one(); /* the last block of main_arena: the top chunk's header is in it */
	scrub();
	return 0;
}
