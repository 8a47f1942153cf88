/*
 * preload/hooks_cxx.c - C++'s operator new and delete, every variant
 * (plain, array, sized, aligned, nothrow), forwarded to the next
 * definition.
 *
 * libstdc++'s operators call malloc and free, which we see anyway; an
 * allocator preloaded after us (jemalloc, tcmalloc) defines the operators
 * itself and serves them without malloc, so without these wrappers C++
 * allocations would bypass us. Each new is recorded once: ALLOC with
 * SLF_FN_NEW or SLF_FN_NEW_ARRAY (the alignment for the aligned forms);
 * each delete is a FREE before the block is given back, with the guard
 * held while the next definition runs (libstdc++'s calls our free()).
 *
 * Where the operator after us is libstdc++'s, new calls the allocator
 * directly and delete calls free(), as libstdc++ would: libstdc++ is asked
 * only when the allocator fails (new_handler, bad_alloc), and then records
 * through our malloc family. operator new may throw: no guard is held
 * across the next definition, and the file is built with -fexceptions.
 *
 * Resolution: dlsym(RTLD_NEXT) first; a C++ library loaded RTLD_LOCAL
 * (python's extension modules) is not in the global scope, so then
 * libstdc++ itself by name (RTLD_NOLOAD). Every object that provides one
 * of the operators is then pinned (a reference never dropped): it could
 * otherwise be unloaded with the plugin that brought it and our pointers
 * would dangle. A variant nobody after us defines
 * (sized or aligned delete of an old runtime) falls back to its plain form;
 * a new variant nobody defines to malloc-family calls with the same
 * contract (a throwing form that gets NULL aborts: there is no C++ runtime
 * to throw with).
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "internal.h"
#include "sample.h"

/* The next definitions, indexed by enum op. */
enum op {
	NW,		/* operator new(size_t) */
	NA,		/* operator new[](size_t) */
	NW_NT,		/* (size_t, nothrow_t const&) */
	NA_NT,
	NW_AL,		/* (size_t, align_val_t) */
	NA_AL,
	NW_AL_NT,	/* (size_t, align_val_t, nothrow_t const&) */
	NA_AL_NT,
	DL,		/* operator delete(void*) */
	DA,		/* operator delete[](void*) */
	DL_SZ,		/* (void*, size_t) */
	DA_SZ,
	DL_NT,		/* (void*, nothrow_t const&) */
	DA_NT,
	DL_AL,		/* (void*, align_val_t) */
	DA_AL,
	DL_SZ_AL,	/* (void*, size_t, align_val_t) */
	DA_SZ_AL,
	DL_AL_NT,	/* (void*, align_val_t, nothrow_t const&) */
	DA_AL_NT,
	OP_COUNT
};

static const char *const op_name[OP_COUNT] = {
	[NW] = "_Znwm",
	[NA] = "_Znam",
	[NW_NT] = "_ZnwmRKSt9nothrow_t",
	[NA_NT] = "_ZnamRKSt9nothrow_t",
	[NW_AL] = "_ZnwmSt11align_val_t",
	[NA_AL] = "_ZnamSt11align_val_t",
	[NW_AL_NT] = "_ZnwmSt11align_val_tRKSt9nothrow_t",
	[NA_AL_NT] = "_ZnamSt11align_val_tRKSt9nothrow_t",
	[DL] = "_ZdlPv",
	[DA] = "_ZdaPv",
	[DL_SZ] = "_ZdlPvm",
	[DA_SZ] = "_ZdaPvm",
	[DL_NT] = "_ZdlPvRKSt9nothrow_t",
	[DA_NT] = "_ZdaPvRKSt9nothrow_t",
	[DL_AL] = "_ZdlPvSt11align_val_t",
	[DA_AL] = "_ZdaPvSt11align_val_t",
	[DL_SZ_AL] = "_ZdlPvmSt11align_val_t",
	[DA_SZ_AL] = "_ZdaPvmSt11align_val_t",
	[DL_AL_NT] = "_ZdlPvSt11align_val_tRKSt9nothrow_t",
	[DA_AL_NT] = "_ZdaPvSt11align_val_tRKSt9nothrow_t",
};

typedef void (*any_fn)(void);

static any_fn next_op[OP_COUNT];
/*
 * That definition is libstdc++'s: malloc/aligned_alloc and free with
 * new_handler and bad_alloc behind a NULL. We then call the allocator
 * ourselves and go to libstdc++ only when it fails, which saves a layer
 * per event (libstdc++'s new[] calls new through its PLT, i.e. us again).
 */
static bool next_libstdcxx[OP_COUNT];
static atomic_bool resolved;

/*
 * Keeps the object holding sym loaded for good (dlclose would unmap it).
 * Returns whether that object is libstdc++.
 */
static bool pin(const void *sym, const void **pinned)
{
	Dl_info info;

	if (!sym || !dladdr(sym, &info) || !info.dli_fname)
		return false;
	if (info.dli_fbase != *pinned &&
	    dlopen(info.dli_fname, RTLD_LAZY | RTLD_NOLOAD)) /* a reference, never dropped */
		*pinned = info.dli_fbase;
	return strstr(info.dli_fname, "/libstdc++.so") != NULL;
}

/*
 * Fills next_op once (any thread may race here: they store the same
 * values). What dlsym and dlopen allocate is ours, never the program's:
 * done under the guard (the loader keeps the pin's dependency list).
 */
static SLP_COLD void resolve_ops(void)
{
	bool entered = slp_guard_enter();
	const void *pinned = NULL;
	void *cxx = NULL;

	for (int i = 0; i < OP_COUNT; i++) {
		void *sym = dlsym(RTLD_NEXT, op_name[i]);

		if (!sym) {
			if (!cxx)
				cxx = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
			if (cxx)
				sym = dlsym(cxx, op_name[i]);
		}
		next_libstdcxx[i] = pin(sym, &pinned);
		memcpy(&next_op[i], &sym, sizeof(sym)); /* ISO C: no object-to-function cast */
	}
	atomic_store_explicit(&resolved, true, memory_order_release);
	if (entered)
		slp_guard_leave();
}

static inline any_fn op(enum op o)
{
	if (SLP_UNLIKELY(!atomic_load_explicit(&resolved, memory_order_acquire)))
		resolve_ops();
	return next_op[o];
}

/*
 * libstdc++'s operator new without libstdc++, while the allocator
 * succeeds: malloc(size or 1), or for the aligned forms aligned_alloc with
 * the alignment at least a pointer's and the size rounded up to it, as
 * libstdc++ does. NULL: ask libstdc++ (new_handler, bad_alloc).
 */
static inline void *direct_alloc(enum op o, size_t size, size_t align)
{
	size_t a;

	if (!next_libstdcxx[o] || SLP_UNLIKELY(!slp_real.malloc))
		return NULL;
	if (!align)
		return slp_real.malloc(size ? size : 1);
	if (align & (align - 1))
		return NULL; /* not a power of two: libstdc++ throws */
	a = align < sizeof(void *) ? sizeof(void *) : align;
	size = size ? size : 1;
	if (size > SIZE_MAX - (a - 1))
		return NULL;
	return slp_real.aligned_alloc(a, (size + a - 1) & ~(a - 1));
}

/* No definition after us: the malloc family with operator new's contract. */
static SLP_COLD void *new_without_next(size_t size, size_t align, bool nothrow)
{
	void *p = align ? aligned_alloc(align, (size + align - 1) / align * align)
			: malloc(size ? size : 1);

	if (!p && !nothrow)
		slp_die("operator new: out of memory, and no C++ runtime to throw with");
	return p;
}

static inline void record_new(enum slf_alloc_fn fn, void *p, size_t size, size_t align)
{
	if (SLP_LIKELY(p != NULL) && !slp_sample_skip(size) && slp_guard_enter()) {
		slp_record_alloc(fn, p, size, align);
		slp_guard_leave();
	}
}

/*
 * Every operator new. The next definition runs without the guard: what it
 * does on the way (a new_handler, the exception object of bad_alloc) is
 * the program's and recorded as such. The block it returns is recorded
 * here unless it came through our malloc family, which recorded it
 * already (libstdc++'s operators after an allocator failure, jemalloc's
 * aligned forms, the fallback): then it keeps that entry point's fn.
 */
static inline void *cxx_new(enum op o, enum slf_alloc_fn fn, size_t size, size_t align,
			    const void *nt)
{
	any_fn next = op(o);
	bool nothrow = o == NW_NT || o == NA_NT || o == NW_AL_NT || o == NA_AL_NT;
	void *p = direct_alloc(o, size, align);

	if (SLP_LIKELY(p != NULL)) {
		record_new(fn, p, size, align);
		return p;
	}
	if (!next)
		return new_without_next(size, align, nothrow);
	slp_last_alloc = SLP_DISGUISE(NULL);
	switch ((int)o) {
	case NW: case NA:
		p = ((void *(*)(size_t))next)(size);
		break;
	case NW_NT: case NA_NT:
		p = ((void *(*)(size_t, const void *))next)(size, nt);
		break;
	case NW_AL: case NA_AL:
		p = ((void *(*)(size_t, size_t))next)(size, align);
		break;
	default:
		p = ((void *(*)(size_t, size_t, const void *))next)(size, align, nt);
		break;
	}
	if (SLP_DISGUISE(p) != slp_last_alloc) /* else it came through our malloc family */
		record_new(fn, p, size, align);
	return p;
}

#define DEFINE_NEW(sym, o, fn, params, align, nt) \
	SLP_EXPORT void *sym params;              \
	SLP_EXPORT void *sym params               \
	{                                         \
		return cxx_new(o, fn, size, align, nt); \
	}

DEFINE_NEW(_Znwm, NW, SLF_FN_NEW, (size_t size), 0, NULL)
DEFINE_NEW(_Znam, NA, SLF_FN_NEW_ARRAY, (size_t size), 0, NULL)
DEFINE_NEW(_ZnwmRKSt9nothrow_t, NW_NT, SLF_FN_NEW, (size_t size, const void *nt), 0, nt)
DEFINE_NEW(_ZnamRKSt9nothrow_t, NA_NT, SLF_FN_NEW_ARRAY, (size_t size, const void *nt), 0, nt)
DEFINE_NEW(_ZnwmSt11align_val_t, NW_AL, SLF_FN_NEW, (size_t size, size_t al), al, NULL)
DEFINE_NEW(_ZnamSt11align_val_t, NA_AL, SLF_FN_NEW_ARRAY, (size_t size, size_t al), al, NULL)
DEFINE_NEW(_ZnwmSt11align_val_tRKSt9nothrow_t, NW_AL_NT, SLF_FN_NEW,
	   (size_t size, size_t al, const void *nt), al, nt)
DEFINE_NEW(_ZnamSt11align_val_tRKSt9nothrow_t, NA_AL_NT, SLF_FN_NEW_ARRAY,
	   (size_t size, size_t al, const void *nt), al, nt)

/*
 * delete: FREE first (format.h's order), then the next definition with the
 * arguments it takes. A variant nobody after us defines (sized or aligned
 * delete of an older runtime) goes to the unsized one of the same kind and
 * alignment, as the C++ rules allow (sized delete may always call unsized
 * delete), and free() when there is none at all.
 */
static void delete_next(enum op o, void *p, size_t n, size_t al, const void *nt)
{
	any_fn f = next_op[o];
	bool array = o == DA || o == DA_SZ || o == DA_NT || o == DA_AL || o == DA_SZ_AL ||
		     o == DA_AL_NT;

	switch (f ? (int)o : -1) {
	case DL: case DA:
		((void (*)(void *))f)(p);
		return;
	case DL_SZ: case DA_SZ:
		((void (*)(void *, size_t))f)(p, n);
		return;
	case DL_NT: case DA_NT:
		((void (*)(void *, const void *))f)(p, nt);
		return;
	case DL_AL: case DA_AL:
		((void (*)(void *, size_t))f)(p, al);
		return;
	case DL_SZ_AL: case DA_SZ_AL:
		((void (*)(void *, size_t, size_t))f)(p, n, al);
		return;
	case DL_AL_NT: case DA_AL_NT:
		((void (*)(void *, size_t, const void *))f)(p, al, nt);
		return;
	default:
		break;
	}
	if (al && o != DL_AL && o != DA_AL)
		delete_next(array ? DA_AL : DL_AL, p, 0, al, NULL);
	else if (!al && o != DL && o != DA)
		delete_next(array ? DA : DL, p, 0, 0, NULL);
	else
		free(p); /* no delete at all after us: new came from the malloc family */
}

static inline void delete_via(enum op o, void *p, size_t n, size_t al, const void *nt)
{
	bool entered;

	if (!p)
		return;
	if (!atomic_load_explicit(&resolved, memory_order_acquire))
		resolve_ops();
	entered = slp_guard_enter(); /* libstdc++'s delete frees through our free() */
	if (entered)
		slp_record_free(p);
	if (next_libstdcxx[o] && slp_real.free && !slp_boot_owns(p))
		slp_real.free(p); /* libstdc++'s delete, aligned or not, is free() */
	else
		delete_next(o, p, n, al, nt);
	if (entered)
		slp_guard_leave();
}

#define DEFINE_DELETE(sym, o, params, n, al, nt)                                           \
	SLP_EXPORT void sym params;                                                        \
	SLP_EXPORT void sym params                                                         \
	{                                                                                  \
		delete_via(o, p, n, al, nt);                                               \
	}

DEFINE_DELETE(_ZdlPv, DL, (void *p), 0, 0, NULL)
DEFINE_DELETE(_ZdaPv, DA, (void *p), 0, 0, NULL)
DEFINE_DELETE(_ZdlPvm, DL_SZ, (void *p, size_t n), n, 0, NULL)
DEFINE_DELETE(_ZdaPvm, DA_SZ, (void *p, size_t n), n, 0, NULL)
DEFINE_DELETE(_ZdlPvRKSt9nothrow_t, DL_NT, (void *p, const void *nt), 0, 0, nt)
DEFINE_DELETE(_ZdaPvRKSt9nothrow_t, DA_NT, (void *p, const void *nt), 0, 0, nt)
DEFINE_DELETE(_ZdlPvSt11align_val_t, DL_AL, (void *p, size_t al), 0, al, NULL)
DEFINE_DELETE(_ZdaPvSt11align_val_t, DA_AL, (void *p, size_t al), 0, al, NULL)
DEFINE_DELETE(_ZdlPvmSt11align_val_t, DL_SZ_AL, (void *p, size_t n, size_t al), n, al, NULL)
DEFINE_DELETE(_ZdaPvmSt11align_val_t, DA_SZ_AL, (void *p, size_t n, size_t al), n, al, NULL)
DEFINE_DELETE(_ZdlPvSt11align_val_tRKSt9nothrow_t, DL_AL_NT,
	      (void *p, size_t al, const void *nt), 0, al, nt)
DEFINE_DELETE(_ZdaPvSt11align_val_tRKSt9nothrow_t, DA_AL_NT,
	      (void *p, size_t al, const void *nt), 0, al, nt)
