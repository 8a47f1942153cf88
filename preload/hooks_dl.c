/*
 * preload/hooks_dl.c - dlclose() and dl_iterate_phdr(), and why not dlopen().
 *
 * After dlclose the unwind caches may describe unmapped code (libunwind
 * would then read garbage) and the module map is stale, so we flush the
 * caches and mark the map dirty: it is rewritten before the next record.
 *
 * dlopen() is deliberately NOT wrapped: glibc resolves a relative name
 * against the RUNPATH of the calling object, found from the return address;
 * a wrapper would make that libsliceleak.so and break real programs. New
 * objects are noticed when a new stack edge has an ip outside every known
 * segment (modules.c).
 *
 * dl_iterate_phdr() is wrapped to be counted: a fork must know whether
 * some thread holds the loader's lock (loader_gate.c); and each thread
 * knows whether it is inside one, where it must not unwind (unwind.c).
 */
#include <dlfcn.h>
#include <link.h>

#include "guard.h"
#include "internal.h"

SLP_EXPORT int dlclose(void *handle)
{
	int rc;

	if (SLP_UNLIKELY(!slp_real.dlclose))
		slp_resolve();
	rc = slp_real.dlclose(handle);
	if (slp_guard_enter()) {
		slp_unwind_flush();
		slp_guard_leave();
	}
	atomic_store(&slp_st.mods.dirty, true);
	return rc;
}

SLP_EXPORT int dl_iterate_phdr(int (*callback)(struct dl_phdr_info *, size_t, void *), void *data)
{
	int rc;

	if (SLP_UNLIKELY(!slp_real.dl_iterate_phdr) &&
	    !slp_resolve_next(&slp_real.dl_iterate_phdr, "dl_iterate_phdr"))
		return 0; /* cannot happen with glibc: no objects to report */
	slp_loader_enter();
	slp_in_loader++;
	rc = slp_real.dl_iterate_phdr(callback, data);
	slp_in_loader--;
	slp_loader_leave();
	return rc;
}
