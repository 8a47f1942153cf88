/*
 * include/sliceleak/annotate.h - declare the views of your own buffers.
 *
 * (Draft by the skeleton; owned by the preload: see preload/.)
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

void sliceleak_view_acquire(const void *owner, const void *ptr, size_t len) __attribute__((weak));
void sliceleak_view_release(const void *owner) __attribute__((weak));
void sliceleak_snapshot(const char *label) __attribute__((weak));

#define SLICELEAK_VIEW_ACQUIRE(owner, ptr, len) \
	(sliceleak_view_acquire ? sliceleak_view_acquire((owner), (ptr), (len)) : (void)0)
#define SLICELEAK_VIEW_RELEASE(owner) \
	(sliceleak_view_release ? sliceleak_view_release(owner) : (void)0)
#define SLICELEAK_SNAPSHOT(label) (sliceleak_snapshot ? sliceleak_snapshot(label) : (void)0)

#ifdef __cplusplus
}
#endif
