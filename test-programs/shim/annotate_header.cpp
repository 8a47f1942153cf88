/*
 * annotate_header.cpp - <sliceleak/annotate.h> first, from C++, declaring
 * a view of a buffer that is not filled yet (gcc must not warn about it).
 * Built a second time with SLICELEAK_NO_ANNOTATIONS, where the macros
 * vanish but their arguments still count as used.
 *
 * Expected: builds warning-free at warning_level=3 -Werror. Without the
 * shim, or built with SLICELEAK_NO_ANNOTATIONS: prints "views=0". Under
 * the shim (annotations on): prints "views=1" and the log holds one
 * VIEW_ACQUIRE of 64 bytes and one VIEW_RELEASE.
 */
#include <sliceleak/annotate.h>

#include <cstdio>
#include <memory>

int main()
{
	std::unique_ptr<char[]> buf(new char[4096]);
	int owner;

	SLICELEAK_VIEW_ACQUIRE(&owner, buf.get() + 128, 64);
#ifdef SLICELEAK_NO_ANNOTATIONS
	std::printf("views=0\n");
#else
	std::printf("views=%d\n", sliceleak_view_acquire != nullptr);
#endif
	SLICELEAK_VIEW_RELEASE(&owner);
	return 0;
}
