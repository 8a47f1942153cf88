/* analyzer/util/units.c - sizes as users write and read them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "units.h"

static const struct {
	const char *name;
	uint64_t factor;
} units[] = {
	{ "B", 1 },
	{ "KiB", 1ull << 10 }, { "MiB", 1ull << 20 }, { "GiB", 1ull << 30 }, { "TiB", 1ull << 40 },
	{ "KB", 1000ull },     { "MB", 1000000ull },  { "GB", 1000000000ull }, { "TB", 1000000000000ull },
	{ "K", 1ull << 10 },   { "M", 1ull << 20 },   { "G", 1ull << 30 },
};

/*
 * Exact integer arithmetic: a limit of a CI gate must mean the bytes written,
 * so no floating point (which turned "0.5B" into 1 and refused 2^64-1), no
 * exponents, no hex, no space before the unit.
 */
int sla_parse_size(const char *s, uint64_t *out)
{
	uint64_t v = 0, factor = 0;
	bool overflow = false;
	const char *p = s;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		overflow |= v > (UINT64_MAX - d) / 10;
		v = v * 10 + d;
	}
	if (!*p)
		factor = 1;
	for (size_t i = 0; !factor && i < sizeof(units) / sizeof(units[0]); i++)
		if (!strcasecmp(p, units[i].name))
			factor = units[i].factor;
	if (!factor)
		return -EINVAL;
	if (overflow || v > UINT64_MAX / factor)
		return -ERANGE;
	*out = v * factor;
	return 0;
}

const char *sla_format_size(char *buf, size_t len, uint64_t bytes, int decimals)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024.0 && u < 5) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.*f %s", decimals, v, names[u]);
	return buf;
}
