/*
 * slice/tests/pkgconfig_consumer.c - an outside program built only from
 * `pkg-config --cflags --libs slice`, as a user of the installed library
 * would be (check_pkgconfig.sh builds and runs it). Prints Go's answer to
 * s := []byte("hello, world"); t := append(s[7:12:12], '!'); string(t).
 */
#include <stdio.h>

#include <sliceleak/slice.h>

int main(void)
{
	sl_slice s = sl_from_str("hello, world");
	sl_slice t = sl_sub3(s, 7, 12, 12);

	t = sl_append(t, "!", 1);
	if (!t.ptr)
		return 1;
	printf("%.*s\n", (int)t.len, (const char *)t.ptr);
	sl_release(&s);
	sl_release(&t);
	return 0;
}
