/*
 * signal_snapshot - snapshots without code changes: the program never
 * calls sliceleak_snapshot(); run with snapshot_signal=SIGUSR2, each
 * SIGUSR2 it receives (here it sends one to itself, as `kill -USR2 <pid>`
 * would) is an evaluation point labelled "signal".
 *
 * The program keeps 24-byte views into big buffers (as bytes_views leaky),
 * receives SIGUSR2, then frees everything before exiting: at the end there
 * is nothing to report, at the snapshot the owners: all of them, or all
 * but the last, whose buffer's address may still sit in a dead slot of
 * main's frame or in a register the signal frame saved (the scan is
 * conservative: a stale word is a second path).
 *
 * Variants:
 *   views        as above: the owner finding at --at signal, none at the end.
 *   own-handler  the program installs its own SIGUSR2 handler first: it
 *                replaces the shim's, runs as without the shim (its output
 *                says so, and must be the same), and no snapshot is taken.
 *
 * USAGE: signal_snapshot views|own-handler [count] [size]
 * SHIM-OPTIONS: snapshot_signal=SIGUSR2
 * PARAMS: count=20 size=1048576
 * DEFINE: view=24
 * EXPECT views: @signal finding kind=owner owner_blocks>=count-1 owner_blocks<=count \
 *	blocks>=count-1 blocks<=count block_bytes>=(count-1)*size block_bytes<=count*size \
 *	owner_function=make_view owner_site=view alloc_function=make_buffer alloc_site=buffer
 * EXPECT views: @signal owners=1
 * EXPECT *: owners=0
 * EXPECT *: findings=0
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../patterns/pattern_args.h"

#define USAGE "signal_snapshot views|own-handler [count] [size]"

struct view {
	const char *ptr;
	size_t len;
	char *base;
};

_Static_assert(sizeof(struct view) == 24, "DEFINE view=24 in the header is out of date");

static struct view **views;
static volatile sig_atomic_t handled;

static __attribute__((noinline)) char *make_buffer(size_t i, size_t size)
{
	char *b = malloc(size); /* ALLOC-SITE buffer */

	if (!b)
		pattern_die("malloc");
	memset(b, 'a' + (int)(i % 26), size);
	return b;
}

static __attribute__((noinline)) struct view *make_view(char *base, size_t off, size_t len)
{
	struct view *v = malloc(sizeof(*v)); /* ALLOC-SITE view */

	if (!v)
		pattern_die("malloc");
	v->ptr = base + off;
	v->len = len;
	v->base = base;
	return v;
}

static void own_handler(int sig)
{
	(void)sig;
	handled = 1;
}

int main(int argc, char **argv)
{
	static const char *const variants[] = { "views", "own-handler", NULL };
	int variant = pattern_variant(argc, argv, variants, USAGE);
	size_t count = pattern_size(argc, argv, 2, 20, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);

	if (size < 64)
		pattern_usage(USAGE);
	if (variant == 1) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = own_handler;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGUSR2, &sa, NULL);
	}
	views = calloc(count, sizeof(*views));
	if (!views)
		pattern_die("calloc");
	for (size_t i = 0; i < count; i++)
		views[i] = make_view(make_buffer(i, size), 32, 16);
	if (variant == 0) {
		struct sigaction cur;

		/* nobody handles it (no shim): the default action would end us */
		if (sigaction(SIGUSR2, NULL, &cur) == 0 && !(cur.sa_flags & SA_SIGINFO) &&
		    cur.sa_handler == SIG_DFL)
			signal(SIGUSR2, SIG_IGN);
	}
	raise(SIGUSR2);
	printf("%zu views, own handler %s\n", count, handled ? "ran" : "did not run");
	for (size_t i = 0; i < count; i++) {
		free(views[i]->base);
		free(views[i]);
	}
	free(views);
	return 0;
}
