/*
 * unwind_stress.c - allocations from every kind of frame the fast stack
 * walk (preload/cfi.c) has to get exactly right or decline: the same
 * stack pointer with a different return address or saved rbp, noinline
 * chains up to ~95 frames (past the default depth of 32, so truncation is
 * compared too, and with depth=128 past the walk's 64-entry memo), frames with alloca (CFA on rbp even without frame pointers), a big
 * frame, glibc's own allocations (strdup, fopen, qsort with a comparator
 * that mallocs, a wide printf), a signal handler (signal frame: libunwind
 * must be asked), a handler on a sigaltstack, a ucontext coroutine on a
 * malloc'd stack (not the thread's stack: declined), and four threads.
 * Built twice: -O2 -fomit-frame-pointer and -O0 -fno-omit-frame-pointer.
 *
 * Expected under the shim with unwind_check=1: the same stdout and exit
 * status (0) as without it, the line "unwind check: N stacks, F fast, 0
 * mismatches" with N > 20000 and F/N > 0.9 (run_unwind_check.py).
 */
#include <alloca.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

#include "escape.h"

#define NOINLINE __attribute__((noinline, noclone))

static volatile unsigned long sink;

static NOINLINE void touch_free(void *p)
{
	sink += (uintptr_t)escape(p) & 1;
	free(p);
}

/* A chain of k frames, each its own return address, then one malloc. */
static NOINLINE void chain(int k, size_t size)
{
	if (k <= 0) {
		touch_free(malloc(size));
		return;
	}
	chain(k - 1, size + 1);
	sink++; /* not a tail call */
}

/*
 * Two callers with the same frame, one helper: called alternately, each
 * capture starts from the same stack pointer as the previous one and
 * differs from it in one return address only (the walk's replay of the
 * previous capture must see that word change).
 */
static NOINLINE void *site(size_t n)
{
	return malloc(n);
}

static NOINLINE void via_a(size_t n)
{
	touch_free(site(n));
	sink++;
}

static NOINLINE void via_b(size_t n)
{
	touch_free(site(n));
	sink += 2;
}

/* CFA on rbp: alloca of a run-time size. */
static NOINLINE void with_alloca(int k, size_t n)
{
	char *buf = alloca(n);

	memset(buf, k, n);
	if (k > 0)
		with_alloca(k - 1, n + 16);
	else
		touch_free(strdup(buf + n - 1));
	sink += (unsigned char)buf[0];
}

/* A big frame: sub $large, %rsp. */
static NOINLINE void big_frame(int k)
{
	volatile char big[20000];

	big[k] = (char)k;
	big[19999] = 1;
	touch_free(calloc(1, 64 + (size_t)big[k]));
}

static int cmp_alloc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	touch_free(malloc(24)); /* a malloc from inside qsort */
	return (x > y) - (x < y);
}

static NOINLINE void in_libc(int round)
{
	int v[64];
	FILE *f;

	touch_free(strdup("a string that glibc copies for us"));
	f = fopen("/proc/self/stat", "r");
	if (f) {
		char line[64];

		if (fgets(line, sizeof(line), f))
			sink += (unsigned char)line[0];
		fclose(f);
	}
	for (int i = 0; i < 64; i++)
		v[i] = (i * 7919 + round) % 101;
	qsort(v, 64, sizeof(v[0]), cmp_alloc);
	f = fopen("/dev/null", "w");
	if (f) {
		/* a width this large makes vfprintf allocate a work buffer */
		fprintf(f, "%*d %s %d %d %d %d %d %d %d %d\n", 100000, round, "x", 1, 2, 3, 4, 5,
			6, 7, 8);
		fclose(f);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	chain(3, 40);
}

/* ---- a coroutine on a malloc'd stack ------------------------------------ */

static ucontext_t main_uc, co_uc;

static void coroutine(void)
{
	for (int i = 0; i < 50; i++) {
		chain(5, 10);
		swapcontext(&co_uc, &main_uc);
	}
}

static void run_coroutine(void)
{
	size_t size = 256 * 1024;
	char *stack = malloc(size);

	getcontext(&co_uc);
	co_uc.uc_stack.ss_sp = stack;
	co_uc.uc_stack.ss_size = size;
	co_uc.uc_link = &main_uc;
	makecontext(&co_uc, coroutine, 0);
	for (int i = 0; i < 50; i++)
		swapcontext(&main_uc, &co_uc);
	free(stack);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;

	for (int i = 0; i < 3000; i++) {
		chain(i % 45, 16);
		if (i % 100 == 0)
			with_alloca(i % 7, 32);
	}
	return (void *)(intptr_t)id;
}

int main(void)
{
	pthread_t th[4];
	struct sigaction sa;
	stack_t alt;
	long done = 0;

	for (int i = 0; i < 5000; i++)
		chain(i % 90, 8);
	for (int i = 0; i < 2000; i++)
		(i & 1 ? via_a : via_b)(16);
	for (int i = 0; i < 300; i++)
		with_alloca(i % 9, 24);
	for (int i = 0; i < 300; i++) /* the same frames, a saved rbp that differs */
		with_alloca(1, 24 + 16 * (size_t)(i & 1));
	for (int i = 0; i < 300; i++)
		big_frame(i % 100);
	for (int i = 0; i < 30; i++)
		in_libc(i);

	/* signal handlers: on the thread's stack, then on an alternate stack */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < 200; i++)
		raise(SIGUSR1);
	alt.ss_sp = malloc(1 << 16);
	alt.ss_size = 1 << 16;
	alt.ss_flags = 0;
	sigaltstack(&alt, NULL);
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	for (int i = 0; i < 200; i++)
		raise(SIGUSR2);

	run_coroutine();

	for (int t = 0; t < 4; t++)
		pthread_create(&th[t], NULL, worker, (void *)(intptr_t)t);
	for (int t = 0; t < 4; t++) {
		void *r;

		pthread_join(th[t], &r);
		done += (intptr_t)r;
	}
	printf("unwind_stress: done %ld\n", done);
	return 0;
}
