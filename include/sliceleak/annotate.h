/*
 * include/sliceleak/annotate.h - declare the views of your own buffers.
 *
 * For buffer libraries that are not libslice (a refcounted buffer, a GBytes
 * wrapper, a parser that keeps pointers into a receive buffer): tell
 * sliceleak which owner keeps which heap block alive through which bytes,
 * and it reports blocks that are pinned by views much smaller than they are.
 *
 *   SLICELEAK_VIEW_ACQUIRE(owner, ptr, len)
 *       `owner` (any address that identifies the holder, e.g. the buffer
 *       object) keeps the heap block holding `ptr` alive and uses
 *       [ptr, ptr + len). Acquiring again with the same owner replaces its
 *       previous view. len may be 0: the view still pins the block.
 *   SLICELEAK_VIEW_RELEASE(owner)
 *       the owner no longer keeps anything alive. Call it before freeing
 *       the block through that owner.
 *   SLICELEAK_SNAPSHOT(label)
 *       the analyzer evaluates retention at this point too
 *       (`sliceleak report --at LABEL`); the log is flushed here.
 *
 * Cost and dependencies: none without the shim. The functions are weak
 * undefined references: a program (PIE or not) or a shared library that
 * uses these macros links without anything of sliceleak, and each macro is
 * one well-predicted test of a GOT entry that stays NULL. Under
 * LD_PRELOAD=libsliceleak.so the dynamic linker binds the same references
 * to the shim and the calls are recorded with their stacks. (GNU ld keeps a
 * weak undefined function dynamic in a PIE - an R_X86_64_GLOB_DAT against
 * it - so the preloaded definition is found; the annotation tests prove it
 * for a PIE and for a shared library, with and without the shim.)
 *
 * Define SLICELEAK_NO_ANNOTATIONS before including this header to compile
 * the macros to nothing (arguments evaluated and discarded). Call the
 * macros, not the functions: a direct call of an absent weak function
 * jumps to address 0.
 */
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The pointers are keys and addresses, never read: saying so keeps gcc's
 * -Wmaybe-uninitialized quiet when a view of a not-yet-filled buffer is
 * declared (clang has no such attribute and no such warning).
 */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define SLICELEAK_NOT_READ_(...) __attribute__((access(none, __VA_ARGS__)))
#else
#define SLICELEAK_NOT_READ_(...)
#endif

void sliceleak_view_acquire(const void *owner, const void *ptr, size_t len) __attribute__((weak))
SLICELEAK_NOT_READ_(1) SLICELEAK_NOT_READ_(2);
void sliceleak_view_release(const void *owner) __attribute__((weak)) SLICELEAK_NOT_READ_(1);
void sliceleak_snapshot(const char *label) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#ifdef SLICELEAK_NO_ANNOTATIONS
/* The arguments still count as used (no unused-variable warnings). */
#define SLICELEAK_VIEW_ACQUIRE(owner, ptr, len) ((void)(owner), (void)(ptr), (void)(len))
#define SLICELEAK_VIEW_RELEASE(owner) ((void)(owner))
#define SLICELEAK_SNAPSHOT(label) ((void)(label))
#else
#define SLICELEAK_VIEW_ACQUIRE(owner, ptr, len)                                          \
	(__builtin_expect(sliceleak_view_acquire != NULL, 0) ?                           \
		 sliceleak_view_acquire((const void *)(owner), (const void *)(ptr), (len)) : \
		 (void)0)
#define SLICELEAK_VIEW_RELEASE(owner)                                  \
	(__builtin_expect(sliceleak_view_release != NULL, 0) ?         \
		 sliceleak_view_release((const void *)(owner)) : (void)0)
#define SLICELEAK_SNAPSHOT(label)                                                   \
	(__builtin_expect(sliceleak_snapshot != NULL, 0) ? sliceleak_snapshot(label) : \
							     (void)0)
#endif
