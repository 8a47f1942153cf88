/*
 * preload/hooks.c - the malloc family, the only libc allocator symbols we
 * define. Each wrapper is: resolve, call through, record.
 *
 * Hot-path contract: no stdio, no malloc except through slp_real, no lock
 * other than the thread's own stream lock (taken inside record.c), no TLS
 * other than initial-exec, no #if inside wrappers.
 *
 * Event order rules (format.h, "Order"):
 *  - malloc, calloc, the aligned family: record after the real call
 *    returned a block, so nobody can free it before its ALLOC is written.
 *  - free: record BEFORE the real free; once libc owns the block again
 *    another thread may be handed the same address, and its ALLOC must not
 *    reach the log ahead of our FREE.
 *  - realloc, reallocarray: a sequence number before and one after the
 *    real call (record.c says why).
 * A call made while the thread is already inside sliceleak goes straight
 * to libc: unrecorded when it is ours (libunwind, dl_iterate_phdr), through
 * record.c's reentrant path when a signal handler interrupted us (guard.h).
 */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>

#include "guard.h"
#include "internal.h"
#include "sample.h"

/*
 * The prologue of every allocating wrapper: true while dlsym() has not
 * answered for libc's allocator yet (resolving it now if it can be), so the
 * call is served from the bootstrap arena.
 */
static inline bool booting(void)
{
	return SLP_UNLIKELY(!slp_real.malloc) && !slp_resolved();
}

static inline void record_alloc(enum slf_alloc_fn fn, void *p, size_t size, size_t align)
{
	if (SLP_UNLIKELY(p == NULL))
		return;
	if (slp_sample_skip(size)) {
		slp_last_alloc = SLP_DISGUISE(p); /* operator new: it came through malloc */
		return;
	}
	if (SLP_LIKELY(slp_guard_enter_recording())) {
		slp_record_alloc(fn, p, size, align);
		slp_guard_leave();
	} else if (slp_guard_interrupted()) {
		slp_record_interrupted(SLF_REC_ALLOC, fn, p, size, align);
	}
}

SLP_EXPORT void *malloc(size_t size)
{
	void *p;

	if (booting())
		return slp_boot_alloc(size, 0, false); /* dlsym() has not answered yet */
	p = slp_real.malloc(size);
	record_alloc(SLF_FN_MALLOC, p, size, 0);
	return p;
}

SLP_EXPORT void free(void *p)
{
	if (!p || SLP_UNLIKELY(slp_boot_owns(p)))
		return; /* the bootstrap arena is never reused */
	if (SLP_UNLIKELY(!slp_real.free)) {
		slp_resolve();
		if (!slp_real.free)
			return; /* freed mid-resolution: leak it, never crash */
	}
	if (SLP_UNLIKELY(slp_samp.mean) && !slp_sample_has(p)) {
		slp_real.free(p); /* a block the log never saw */
		return;
	}
	if (SLP_LIKELY(slp_guard_enter_recording())) {
		slp_record_free(p);
		slp_guard_leave();
	} else if (slp_guard_interrupted()) {
		slp_record_interrupted(SLF_REC_FREE, SLF_FN_MALLOC, p, 0, 0);
	}
	slp_real.free(p);
}

SLP_EXPORT void *calloc(size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (SLP_UNLIKELY(__builtin_mul_overflow(n, size, &bytes))) {
		errno = ENOMEM;
		return NULL;
	}
	if (booting())
		return slp_boot_alloc(bytes, 0, true);
	p = slp_real.calloc(n, size);
	record_alloc(SLF_FN_CALLOC, p, bytes, 0);
	return p;
}

SLP_EXPORT void *realloc(void *old, size_t size)
{
	void *p;

	if (SLP_UNLIKELY(slp_boot_owns(old)) || booting())
		return slp_boot_realloc(old, size);
	if (!slp_guard_enter_recording())
		return slp_guard_interrupted() ?
			       slp_record_realloc_interrupted(SLF_FN_REALLOC, old, 1, size) :
			       slp_real.realloc(old, size);
	p = slp_record_realloc(SLF_FN_REALLOC, old, 1, size);
	slp_guard_leave();
	return p;
}

SLP_EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	size_t bytes;
	void *p;

	if (SLP_UNLIKELY(__builtin_mul_overflow(n, size, &bytes))) {
		errno = ENOMEM;
		return NULL;
	}
	if (SLP_UNLIKELY(slp_boot_owns(old)) || booting())
		return slp_boot_realloc(old, bytes);
	if (!slp_guard_enter_recording())
		return slp_guard_interrupted() ?
			       slp_record_realloc_interrupted(SLF_FN_REALLOCARRAY, old, n, size) :
			       slp_real.reallocarray(old, n, size);
	p = slp_record_realloc(SLF_FN_REALLOCARRAY, old, n, size);
	slp_guard_leave();
	return p;
}

SLP_EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int rc;

	if (booting()) {
		*out = slp_boot_alloc(size, align, false);
		return *out ? 0 : ENOMEM;
	}
	rc = slp_real.posix_memalign(out, align, size);
	if (rc == 0)
		record_alloc(SLF_FN_POSIX_MEMALIGN, *out, size, align);
	return rc;
}

SLP_EXPORT void *aligned_alloc(size_t align, size_t size)
{
	void *p;

	if (booting())
		return slp_boot_alloc(size, align, false);
	p = slp_real.aligned_alloc(align, size);
	record_alloc(SLF_FN_ALIGNED_ALLOC, p, size, align);
	return p;
}

SLP_EXPORT void *memalign(size_t align, size_t size)
{
	void *p;

	if (booting())
		return slp_boot_alloc(size, align, false);
	p = slp_real.memalign(align, size);
	record_alloc(SLF_FN_MEMALIGN, p, size, align);
	return p;
}

SLP_EXPORT void *valloc(size_t size)
{
	void *p;

	if (booting())
		return slp_boot_alloc(size, 4096, false);
	p = slp_real.valloc(size);
	record_alloc(SLF_FN_VALLOC, p, size, slp_st.page_size);
	return p;
}

SLP_EXPORT void *pvalloc(size_t size)
{
	void *p;

	if (booting())
		return slp_boot_alloc(size, 4096, false);
	p = slp_real.pvalloc(size);
	record_alloc(SLF_FN_PVALLOC, p, size, slp_st.page_size);
	return p;
}
