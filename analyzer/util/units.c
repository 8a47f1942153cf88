/* analyzer/util/units.c - sizes as users write and read them. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "units.h"

static const struct {
	const char *name;
	double factor;
} units[] = {
	{ "", 1 },	   { "B", 1 },
	{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 }, { "TiB", 1099511627776.0 },
	{ "KB", 1e3 },	   { "MB", 1e6 },	 { "GB", 1e9 },		  { "TB", 1e12 },
	{ "K", 1024.0 },   { "M", 1048576.0 },	 { "G", 1073741824.0 },
};

int sla_parse_size(const char *s, uint64_t *out)
{
	char *end;
	double v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	if (*end == ' ')
		end++;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcasecmp(end, units[i].name)) {
			double bytes = v * units[i].factor;

			if (bytes >= 18446744073709551615.0)
				return -ERANGE;
			*out = (uint64_t)(bytes + 0.5);
			return 0;
		}
	}
	return -EINVAL;
}

const char *sla_format_size(char *buf, size_t len, uint64_t bytes, int decimals)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)bytes;
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
		return buf;
	}
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.*f %s", decimals, v, names[u]);
	return buf;
}
