/*
 * preload/options.c - SLICELEAK_OPTIONS=key=value:key=value.
 *
 * Runs from our constructor or from the first intercepted call, possibly
 * before libc is fully up: no getenv(), no malloc(), no stdio. environ is
 * read directly (as mimalloc does). A bad option is reported once and
 * ignored; it never stops the traced program.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum opt_type { SLP_OPT_str, SLP_OPT_uint, SLP_OPT_bool, SLP_OPT_size };

struct slp_options slp_opt = {
#define SLP_OPT(type, name, def, help) .name = def,
#include "options.def"
#undef SLP_OPT
};

static const struct opt_desc {
	const char *name;
	const char *help;
	enum opt_type type;
	void *value;
	const char *def;
} opt_table[] = {
#define SLP_OPT(type, name, def, help) { #name, help, SLP_OPT_##type, &slp_opt.name, #def },
#include "options.def"
#undef SLP_OPT
};

/* Parses a decimal unsigned; false on anything else or overflow. */
static bool parse_uint(const char *s, size_t n, slp_uint *out)
{
	slp_uint v = 0;

	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (~0ul - 9) / 10)
			return false;
		v = v * 10 + (slp_uint)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* A size: decimal, optionally followed by K/KiB, M/MiB or G/GiB (powers of 1024). */
static bool parse_size(const char *s, size_t n, slp_uint *out)
{
	static const char *const units[] = { "K", "KiB", "M", "MiB", "G", "GiB" };
	size_t digits = 0;
	slp_uint v;

	while (digits < n && s[digits] >= '0' && s[digits] <= '9')
		digits++;
	if (!parse_uint(s, digits, &v))
		return false;
	for (size_t i = 0; digits < n && i < SLP_ARRAY_SIZE(units); i++) {
		unsigned shift = 10 * (unsigned)(i / 2 + 1);

		if (strlen(units[i]) != n - digits || memcmp(units[i], s + digits, n - digits))
			continue;
		if (v > (~0ul >> shift))
			return false;
		*out = v << shift;
		return true;
	}
	if (digits < n)
		return false;
	*out = v;
	return true;
}

static bool parse_bool(const char *s, size_t n, slp_bool *out)
{
	if ((n == 1 && s[0] == '1') || (n == 4 && !memcmp(s, "true", 4)) ||
	    (n == 3 && !memcmp(s, "yes", 3)))
		*out = true;
	else if ((n == 1 && s[0] == '0') || (n == 5 && !memcmp(s, "false", 5)) ||
		 (n == 2 && !memcmp(s, "no", 2)))
		*out = false;
	else
		return false;
	return true;
}

/* Applies one "key=value" of length n. Context: start-up, single call. */
static void set_one(const char *s, size_t n)
{
	const char *eq = memchr(s, '=', n);
	size_t klen = eq ? (size_t)(eq - s) : n;
	const char *v = eq ? eq + 1 : s + n;
	size_t vlen = eq ? n - klen - 1 : 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < SLP_ARRAY_SIZE(opt_table); i++) {
		const struct opt_desc *d = &opt_table[i];
		bool ok = false;

		if (strlen(d->name) != klen || memcmp(d->name, s, klen) != 0)
			continue;
		if (!eq)
			break;
		switch (d->type) {
		case SLP_OPT_str:
			ok = vlen > 0 && vlen < sizeof(slp_str);
			if (ok) {
				memcpy(d->value, v, vlen);
				((char *)d->value)[vlen] = '\0';
			}
			break;
		case SLP_OPT_uint:
			ok = parse_uint(v, vlen, d->value);
			break;
		case SLP_OPT_bool:
			ok = parse_bool(v, vlen, d->value);
			break;
		case SLP_OPT_size:
			ok = parse_size(v, vlen, d->value);
			break;
		}
		if (!ok)
			slp_warn("SLICELEAK_OPTIONS: bad value for '%s', ignored "
				 "(help=1 lists options)", d->name);
		return;
	}
	{
		char key[64];
		size_t k = klen < sizeof(key) - 1 ? klen : sizeof(key) - 1;

		memcpy(key, s, k);
		key[k] = '\0';
		slp_warn("SLICELEAK_OPTIONS: %s '%s', ignored (help=1 lists options)",
			 eq ? "unknown option" : "expected key=value, got", key);
	}
}

/* Keeps every numeric option inside the range the shim supports. */
static void clamp_options(void)
{
	if (slp_opt.depth > SLP_MAX_DEPTH) {
		slp_warn("SLICELEAK_OPTIONS: depth %lu is above %u, using %u", slp_opt.depth,
			 SLP_MAX_DEPTH, SLP_MAX_DEPTH);
		slp_opt.depth = SLP_MAX_DEPTH;
	}
	if (slp_opt.buffer_kib < 64 || slp_opt.buffer_kib > 1024) {
		slp_warn("SLICELEAK_OPTIONS: buffer_kib %lu is outside 64-1024, using 64",
			 slp_opt.buffer_kib);
		slp_opt.buffer_kib = 64;
	}
}

/*
 * Context: start-up, before any thread of ours exists; reads environ only.
 */
void slp_options_parse(void)
{
	extern char **environ;
	static const char key[] = "SLICELEAK_OPTIONS=";
	const char *s = NULL;

	for (char **e = environ; e && *e; e++) {
		if (strncmp(*e, key, sizeof(key) - 1) == 0) {
			s = *e + sizeof(key) - 1;
			break;
		}
	}
	while (s && *s) {
		const char *end = strchrnul(s, ':');

		set_one(s, (size_t)(end - s));
		s = *end ? end + 1 : end;
	}
	clamp_options();
}

void slp_options_print_help(void)
{
	slp_warn("options, in SLICELEAK_OPTIONS=key=value:key=value (defaults in brackets):");
	for (size_t i = 0; i < SLP_ARRAY_SIZE(opt_table); i++)
		slp_warn("  %s [%s]: %s", opt_table[i].name, opt_table[i].def, opt_table[i].help);
}
