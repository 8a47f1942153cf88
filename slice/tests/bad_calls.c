/*
 * slice/tests/bad_calls.c - a deliberately wrong library for the negative
 * control of check_symbols.sh: one exported sl_* function calling another
 * through the PLT, the mistake that would make an interposer see two events
 * for one call. check_symbols.sh must reject it.
 */
#include <sliceleak/slice.h>

sl_slice sl_retain(sl_slice s)
{
	return sl_sub(s, 0, s.len); /* a public function calling a public one */
}

sl_slice sl_sub(sl_slice s, size_t lo, size_t hi)
{
	s.len = hi - lo;
	return s;
}
