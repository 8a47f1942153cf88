/*
 * slice/tests/bad_calls.c - a deliberately wrong library for the negative
 * controls of check_symbols.sh: one exported sl_* function calling another,
 * the mistake that would make an interposer see two events for one call (or
 * miss the inner one). The callee lives in bad_calls_callee.c so that no
 * compiler can inline it away; check_symbols.sh must reject the library both
 * when the call goes through the PLT and when -Bsymbolic-functions binds it
 * directly.
 */
#include <sliceleak/slice.h>

sl_slice sl_retain(sl_slice s)
{
	return sl_sub(s, 0, s.len); /* a public function calling a public one */
}
