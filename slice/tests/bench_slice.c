/*
 * slice/tests/bench_slice.c - what libslice costs per call, through the real
 * shared library (PLT included): `meson test -C <builddir> --benchmark
 * --suite slice`, or run the binary. Prints ns per operation; the figures
 * matter as a baseline for the tracker's overhead, not as a pass/fail.
 */
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#include <sliceleak/slice.h>

#define N 2000000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static sl_slice shared;

/* Two threads taking and dropping references to one block: the contended count. */
static void *churn(void *arg)
{
	(void)arg;
	for (int i = 0; i < N; i++) {
		sl_slice v = sl_sub(shared, 1, 2);

		sl_release(&v);
	}
	return NULL;
}

int main(void)
{
	double t0, t1;
	sl_slice s, v;
	pthread_t th[2];

	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		s = sl_make(1, 64, 64);
		sl_release(&s);
	}
	t1 = now_ns();
	printf("sl_make(64 B) + sl_release:     %6.1f ns\n", (t1 - t0) / N);

	s = sl_make(1, 64, 64);
	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		v = sl_sub(s, 1, 5);
		sl_release(&v);
	}
	t1 = now_ns();
	printf("sl_sub + sl_release:            %6.1f ns\n", (t1 - t0) / N);

	t0 = now_ns();
	for (int i = 0; i < N; i++)
		(void)sl_at(s, (size_t)i % 64);
	t1 = now_ns();
	printf("sl_at:                          %6.1f ns\n", (t1 - t0) / N);

	shared = s;
	t0 = now_ns();
	pthread_create(&th[0], NULL, churn, NULL);
	pthread_create(&th[1], NULL, churn, NULL);
	pthread_join(th[0], NULL);
	pthread_join(th[1], NULL);
	t1 = now_ns();
	printf("sl_sub + sl_release, 2 threads: %6.1f ns (per pair, wall / N)\n", (t1 - t0) / N);
	sl_release(&s);

	sl_slice a = { .elem_size = sizeof(int) };
	size_t grows = 0, cap = 0;

	t0 = now_ns();
	for (int i = 0; i < N; i++) {
		a = sl_append(a, &i, 1);
		grows += a.cap != cap;
		cap = a.cap;
	}
	t1 = now_ns();
	printf("sl_append(1 int), amortised:    %6.1f ns (%zu growths to cap %zu)\n",
	       (t1 - t0) / N, grows, a.cap);
	sl_release(&a);
	return 0;
}
