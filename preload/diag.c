/*
 * preload/diag.c - messages on stderr.
 *
 * The shim may speak from inside malloc, from a fork child or from a signal
 * handler, so there is no stdio here: a tiny formatter into a stack buffer,
 * then one write(2), and only to the stderr the process started with. A
 * message is written at most once per call site by the callers' own
 * "warned" flags or state changes; nothing here allocates or locks.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

struct out {
	char *p;
	size_t left; /* room left, NUL excluded */
	size_t len;  /* characters that would have been written */
};

static void out_chars(struct out *o, const char *s, size_t n)
{
	size_t k = n < o->left ? n : o->left;

	memcpy(o->p, s, k);
	o->p += k;
	o->left -= k;
	o->len += n;
}

static void out_num(struct out *o, unsigned long long v, unsigned base, bool neg)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (neg)
		tmp[--i] = '-';
	out_chars(o, tmp + i, sizeof(tmp) - i);
}

/*
 * The formatter behind slp_format() and slp_warn(). Length modifiers l and
 * z are accepted; conversions s d u x and %%. Anything else is copied.
 */
static size_t vformat(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size ? size - 1 : 0, 0 };

	for (const char *f = fmt; *f; f++) {
		bool lng = false;

		if (*f != '%') {
			out_chars(&o, f, 1);
			continue;
		}
		f++;
		while (*f == 'l' || *f == 'z') {
			lng = true;
			f++;
		}
		switch (*f) {
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			out_chars(&o, s, strlen(s));
			break;
		}
		case 'd': {
			long long v = lng ? va_arg(ap, long) : va_arg(ap, int);

			unsigned long long mag = v < 0 ? 0ull - (unsigned long long)v :
							 (unsigned long long)v;

			out_num(&o, mag, 10, v < 0);
			break;
		}
		case 'u':
		case 'x': {
			unsigned long long v = lng ? va_arg(ap, unsigned long) :
						     va_arg(ap, unsigned);

			out_num(&o, v, *f == 'x' ? 16 : 10, false);
			break;
		}
		case '\0':
			f--;
			break;
		default:
			out_chars(&o, f, 1);
			break;
		}
	}
	if (size)
		*o.p = '\0';
	return o.len < size ? o.len : (size ? size - 1 : 0);
}

size_t slp_format(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	va_start(ap, fmt);
	n = vformat(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

/*
 * Whether fd 2 is still the stderr the process started with. A program
 * that closed it and opened a file of its own on fd 2 (daemons do) must
 * not find our messages in that file.
 */
static bool stderr_is_ours(void)
{
	struct stat sb;

	if (!slp_st.stderr_known)
		return true; /* start-up: it has not had the chance to change */
	return slp_st.stderr_ok && fstat(STDERR_FILENO, &sb) == 0 &&
	       sb.st_dev == slp_st.stderr_dev && sb.st_ino == slp_st.stderr_ino;
}

/*
 * Context: any. Keeps errno: a warning must not change what the program
 * sees from the call that caused it.
 */
void slp_warn(const char *fmt, ...)
{
	char buf[1024];
	size_t n;
	va_list ap;
	int saved = errno;

	if (!stderr_is_ours())
		return;

	memcpy(buf, "sliceleak: ", 11);
	va_start(ap, fmt);
	n = 11 + vformat(buf + 11, sizeof(buf) - 12, fmt, ap);
	va_end(ap);
	buf[n++] = '\n';
	while (write(STDERR_FILENO, buf, n) < 0 && errno == EINTR)
		;
	errno = saved;
}

void slp_assert_fail(const char *cond, const char *file, int line)
{
	slp_warn("internal error: %s:%d: %s does not hold", file, line, cond);
	abort();
}

/* Only for bootstrap failures, where going on would corrupt the heap. */
void slp_die(const char *msg)
{
	slp_warn("fatal: %s", msg);
	abort();
}
