/*
 * preload/hooks_annotate.c - the annotation API (include/sliceleak/annotate.h).
 *
 * Programs reach these through weak references that are NULL without the
 * shim; under it they resolve here and each call becomes one record with
 * its stack (format.h: VIEW_ACQUIRE, VIEW_RELEASE, SNAPSHOT).
 */
#include <sliceleak/annotate.h>

#include "guard.h"
#include "internal.h"

SLP_EXPORT void sliceleak_view_acquire(const void *owner, const void *ptr, size_t len)
{
	if (slp_guard_enter()) {
		slp_record_view_acquire(owner, ptr, len);
		slp_guard_leave();
	}
}

SLP_EXPORT void sliceleak_view_release(const void *owner)
{
	if (slp_guard_enter()) {
		slp_record_view_release(owner);
		slp_guard_leave();
	}
}

SLP_EXPORT void sliceleak_snapshot(const char *label)
{
	if (slp_guard_enter()) {
		slp_record_snapshot(label, false);
		slp_guard_leave();
	}
}
