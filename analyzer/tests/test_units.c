/* analyzer/tests/test_units.c - size parsing and formatting. */
#include <errno.h>
#include <string.h>

#include "units.h"
#include "check.h"

static uint64_t parse(const char *s)
{
	uint64_t v = 0;

	return sla_parse_size(s, &v) ? UINT64_MAX : v;
}

static void test_parse(void)
{
	uint64_t v;

	CHECK_EQ_U(parse("0"), 0);
	CHECK_EQ_U(parse("123"), 123);
	CHECK_EQ_U(parse("10B"), 10);
	CHECK_EQ_U(parse("4KiB"), 4096);
	CHECK_EQ_U(parse("10MiB"), 10 << 20);
	CHECK_EQ_U(parse("1.5 MiB"), 3 << 19);
	CHECK_EQ_U(parse("2GiB"), 2ull << 30);
	CHECK_EQ_U(parse("1KB"), 1000);
	CHECK_EQ_U(parse("3MB"), 3000000);
	CHECK_EQ_U(parse("1GB"), 1000000000);
	CHECK_EQ_U(parse("10mib"), 10 << 20);
	CHECK(sla_parse_size("", &v) == -EINVAL);
	CHECK(sla_parse_size("-1", &v) == -EINVAL);
	CHECK(sla_parse_size("MiB", &v) == -EINVAL);
	CHECK(sla_parse_size("10 parsecs", &v) == -EINVAL);
	CHECK(sla_parse_size("1e30GiB", &v) == -ERANGE);
}

static void test_format(void)
{
	char buf[32];

	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 5, 1), "5 B"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1023, 1), "1023 B"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1 << 20, 2), "1.00 MiB"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 5000, 1), "4.9 KiB"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1000ull << 20, 1), "1000.0 MiB"));
}

int main(void)
{
	test_parse();
	test_format();
	return check_result();
}
