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
	CHECK_EQ_U(parse("2GiB"), 2ull << 30);
	CHECK_EQ_U(parse("1KB"), 1000);
	CHECK_EQ_U(parse("3MB"), 3000000);
	CHECK_EQ_U(parse("1GB"), 1000000000);
	CHECK_EQ_U(parse("10mib"), 10 << 20);
	CHECK(sla_parse_size("", &v) == -EINVAL);
	CHECK(sla_parse_size("-1", &v) == -EINVAL);
	CHECK(sla_parse_size("MiB", &v) == -EINVAL);
	CHECK(sla_parse_size("10 parsecs", &v) == -EINVAL);
	CHECK(sla_parse_size("99999999999GiB", &v) == -ERANGE);
	/* integers with an optional unit right after them, nothing else */
	CHECK_EQ_U(parse("18446744073709551615"), UINT64_MAX);
	CHECK_EQ_U(parse("18446744073709551615B"), UINT64_MAX);
	CHECK(sla_parse_size("18446744073709551616", &v) == -ERANGE);
	CHECK(sla_parse_size("99999999999999999999999", &v) == -ERANGE);
	CHECK(sla_parse_size("16777216TiB", &v) == -ERANGE);
	CHECK_EQ_U(parse("16777215TiB"), 16777215ull << 40);
	CHECK(sla_parse_size("0x1p4", &v) == -EINVAL);
	CHECK(sla_parse_size("0x10", &v) == -EINVAL);
	CHECK(sla_parse_size("1e3KiB", &v) == -EINVAL);
	CHECK(sla_parse_size("1e3", &v) == -EINVAL);
	CHECK(sla_parse_size("10 MiB", &v) == -EINVAL);
	CHECK(sla_parse_size("0.5B", &v) == -EINVAL);
	CHECK(sla_parse_size("1.5MiB", &v) == -EINVAL);
	CHECK(sla_parse_size("+5", &v) == -EINVAL);
	CHECK(sla_parse_size(" 5", &v) == -EINVAL);
	CHECK(sla_parse_size("5 ", &v) == -EINVAL);
	CHECK(sla_parse_size("inf", &v) == -EINVAL);
	CHECK(sla_parse_size("nan", &v) == -EINVAL);
	CHECK(sla_parse_size("5KiBB", &v) == -EINVAL);
	CHECK(sla_parse_size("99999999999999999999999 parsecs", &v) == -EINVAL);
}

static void test_format(void)
{
	char buf[32];

	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 5, 1), "5 B"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1023, 1), "1023 B"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1 << 20, 2), "1.00 MiB"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 5000, 1), "4.9 KiB"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), 1000ull << 20, 1), "1000.0 MiB"));
	CHECK(!strcmp(sla_format_size(buf, sizeof(buf), UINT64_MAX, 1), "16.0 EiB"));
	/* sums saturate, never wrap */
	CHECK_EQ_U(sla_sat_add((1ull << 63) + 39, (1ull << 63) + 39), UINT64_MAX);
	CHECK_EQ_U(sla_sat_add(UINT64_MAX - 1, 1), UINT64_MAX);
	CHECK_EQ_U(sla_sat_add(2, 3), 5);
	CHECK_EQ_U(sla_sat_sub(3, 5), 0);
	CHECK_EQ_U(sla_sat_sub(5, 3), 2);
}

int main(void)
{
	test_parse();
	test_format();
	return check_result();
}
