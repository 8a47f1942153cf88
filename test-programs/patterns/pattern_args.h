/*
 * test-programs/patterns/pattern_args.h - the command line every pattern
 * program shares: "PROG VARIANT [NUMBER...]".
 *
 * The variant selects the leaky code or one of its fixes; the numbers
 * override the Go originals' sizes so that the end-to-end tests stay small. A bad
 * command line is a usage error: message on stderr, exit status 2.
 */
#pragma once

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Prints the usage line and exits 2 (the grep/diff convention for misuse). */
static inline void pattern_usage(const char *usage)
{
	fprintf(stderr, "usage: %s\n", usage);
	exit(2);
}

/*
 * Returns the index of argv[1] in the NULL-terminated names[], or exits
 * through pattern_usage() when it is missing or unknown.
 */
static inline int pattern_variant(int argc, char **argv, const char *const *names,
				  const char *usage)
{
	if (argc < 2)
		pattern_usage(usage);
	for (int i = 0; names[i]; i++)
		if (strcmp(argv[1], names[i]) == 0)
			return i;
	pattern_usage(usage);
	return -1;
}

/*
 * Returns argv[idx] as a positive size, or def when the argument is absent;
 * anything but a positive decimal number is a usage error.
 */
static inline size_t pattern_size(int argc, char **argv, int idx, size_t def,
				  const char *usage)
{
	char *end;
	unsigned long long v;

	if (idx >= argc)
		return def;
	errno = 0;
	v = strtoull(argv[idx], &end, 10);
	if (errno || end == argv[idx] || *end || v == 0 || argv[idx][0] == '-' ||
	    v > (unsigned long long)(size_t)-1)
		pattern_usage(usage);
	return (size_t)v;
}

/* Exits 1 with a message: the program's own logic failed (allocation, I/O). */
static inline void pattern_die(const char *what)
{
	perror(what);
	exit(1);
}
