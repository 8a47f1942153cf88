/* slice/tests/bad_calls_callee.c - the callee of bad_calls.c, in its own unit. */
#include <sliceleak/slice.h>

sl_slice sl_sub(sl_slice s, size_t lo, size_t hi)
{
	s.len = hi - lo;
	return s;
}
