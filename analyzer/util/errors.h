/*
 * analyzer/util/errors.h - the analyzer's exit codes, and the one way out
 * below the command line.
 *
 * Code below cli/ returns errors (a negative errno and a message) and never
 * exits; cli/main.c maps outcomes to these codes. The exception is a state
 * the analyzer cannot go on from (running out of memory): sla_die().
 */
#pragma once

enum sla_exit {
	SLA_EXIT_OK = 0,    /* analysed; the gate (if any) passed */
	SLA_EXIT_GATE = 1,  /* analysed; the gate failed: CI goes red */
	SLA_EXIT_ERROR = 2, /* usage error, unreadable, corrupt or too-new log, out of memory */
};

/* Prints "sliceleak: <message>" on stderr and exits SLA_EXIT_ERROR. */
void sla_die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

/*
 * sla_assert(cond): an invariant the code relies on and its comments state,
 * in the style of mimalloc's mi_assert_internal: checked where NDEBUG is
 * unset (the debug, debugoptimized and sanitizer builds: meson's
 * b_ndebug=if-release), compiled out in release builds. A failure is a bug
 * of the analyzer, never of the log: it says where and aborts.
 */
#ifdef NDEBUG
#define sla_assert(cond) ((void)sizeof(cond))
#else
#define sla_assert(cond) \
	(__builtin_expect(!!(cond), 1) ? (void)0 : sla_assert_fail(#cond, __FILE__, __LINE__))
#endif
void sla_assert_fail(const char *cond, const char *file, int line) __attribute__((noreturn));
