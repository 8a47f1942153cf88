/*
 * preload/unwind.c - stack capture: the fast walk, libunwind behind it.
 *
 * Each capture first tries cfi.c's walk over compiled .eh_frame rules
 * (~2 ns per frame, no lock, no allocation), which either produces exactly
 * what libunwind's unw_backtrace() would or declines; then unw_backtrace()
 * (UNW_LOCAL_ONLY, per-thread cache: ~9 ns per frame here; glibc's
 * backtrace() costs microseconds and allocates) does the capture. So the
 * stacks are always libunwind's, and unwind_check=1 proves it by doing
 * every capture both ways. Capture always runs outside the writer lock,
 * with the guard held: libunwind may call dl_iterate_phdr() and allocate.
 */
#define UNW_LOCAL_ONLY
#include <libunwind.h>

#include "cfi.h"
#include "guard.h"
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * libunwind (1.6, and still 1.8) checks an address before it reads it, in
 * frames without unwind info and (with conservative checks, as Debian
 * builds it) at every unw_step(), by write(2)ing one byte of it into a
 * pipe that it opens at its initialisation on the lowest free fds and
 * reads empty again; when a read fails it "reopens" the pipe by closing
 * whatever those numbers are now. It has no mode without the pipe. So a
 * daemon that closed fds 3.. and opened its files there had them closed
 * under it, and a program started without 0-2 found the pipe on its
 * stdin and stdout. Here the pipe lives above SLP_FD_FLOOR: pipe2() is
 * interposed (hooks_safety.c), and a pipe made by libunwind's code is
 * moved up at once. Before each call into libunwind the two fds are
 * checked to still be that pipe: closed by the program, the pipe is made
 * again at the same numbers; taken by a file of the program, libunwind is
 * never called again (the fast walk still is; what it declines gets an
 * empty stack, and the exit scan reads the whole stack), with one warning.
 */
static struct {
	uintptr_t lo, hi; /* libunwind's code: calls of pipe2() from there are its */
	int fd[2];	  /* its pipe, once made (-1: not yet) */
	dev_t dev;
	ino_t ino;
	atomic_bool lost; /* the program took the numbers: libunwind is not called */
} lpipe = { .fd = { -1, -1 } };

static int find_libunwind(struct dl_phdr_info *info, size_t size, void *arg)
{
	uintptr_t fn = (uintptr_t)arg, lo = UINTPTR_MAX, hi = 0;

	(void)size;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		if (info->dlpi_addr + ph->p_vaddr < lo)
			lo = info->dlpi_addr + ph->p_vaddr;
		if (info->dlpi_addr + ph->p_vaddr + ph->p_memsz > hi)
			hi = info->dlpi_addr + ph->p_vaddr + ph->p_memsz;
	}
	if (fn < lo || fn >= hi)
		return 0;
	lpipe.lo = lo;
	lpipe.hi = hi;
	return 1;
}

bool slp_unwind_is_caller(const void *caller)
{
	return (uintptr_t)caller >= lpipe.lo && (uintptr_t)caller < lpipe.hi;
}

static bool is_the_pipe(int fd, const struct stat *want)
{
	struct stat sb;

	return fstat(fd, &sb) == 0 && sb.st_dev == want->st_dev && sb.st_ino == want->st_ino;
}

void slp_unwind_pipe_made(int fds[2])
{
	struct stat sb;

	fds[0] = slp_fd_high(fds[0]);
	fds[1] = slp_fd_high(fds[1]);
	if (fstat(fds[0], &sb) != 0)
		return;
	lpipe.dev = sb.st_dev;
	lpipe.ino = sb.st_ino;
	lpipe.fd[0] = fds[0];
	lpipe.fd[1] = fds[1];
}

/* Makes the pipe again at exactly the numbers libunwind holds, if both are free. */
static bool remake_pipe(void)
{
	int p[2], got[2] = { -1, -1 };
	struct stat sb;

	if (fcntl(lpipe.fd[0], F_GETFD) >= 0 || errno != EBADF ||
	    fcntl(lpipe.fd[1], F_GETFD) >= 0 || errno != EBADF || pipe2(p, O_CLOEXEC | O_NONBLOCK))
		return false;
	/* F_DUPFD gives the lowest free number from the one asked: that one, if free */
	for (int k = 0; k < 2; k++) {
		got[k] = fcntl(p[k], F_DUPFD_CLOEXEC, lpipe.fd[k]);
		close(p[k]);
	}
	if (got[0] == lpipe.fd[0] && got[1] == lpipe.fd[1] && fstat(got[0], &sb) == 0) {
		lpipe.dev = sb.st_dev;
		lpipe.ino = sb.st_ino;
		return true;
	}
	for (int k = 0; k < 2; k++)
		if (got[k] >= 0 && got[k] != lpipe.fd[k])
			close(got[k]);
	return false;
}

/* Whether libunwind may be called now (see lpipe). Context: guard held. */
static bool libunwind_safe(void)
{
	int saved = errno;
	bool ok;
	struct stat want;

	if (SLP_UNLIKELY(atomic_load_explicit(&lpipe.lost, memory_order_relaxed)))
		return false;
	if (lpipe.fd[0] < 0)
		return true; /* not made yet: made through pipe2() at the first call */
	want.st_dev = lpipe.dev;
	want.st_ino = lpipe.ino;
	ok = (is_the_pipe(lpipe.fd[0], &want) && is_the_pipe(lpipe.fd[1], &want)) || remake_pipe();
	if (!ok && !atomic_exchange(&lpipe.lost, true))
		slp_warn("the program took file descriptors %d and %d, libunwind's; stacks the fast "
			 "walk cannot take are recorded empty from now on", lpipe.fd[0], lpipe.fd[1]);
	errno = saved;
	return ok;
}

/*
 * Context: start-up, guard held. The warm-up capture makes libunwind parse
 * the unwind tables of the objects on our own start-up path now rather than
 * inside the program's first allocation.
 */
void slp_unwind_setup(void)
{
	struct slp_trace t;

	if (!lpipe.hi) /* before libunwind's first call, which makes its pipe */
		dl_iterate_phdr(find_libunwind, (void *)(uintptr_t)unw_backtrace);
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_PER_THREAD);
	unw_set_cache_size(unw_local_addr_space, 1024, 0);
	slp_unwind_capture(&t);
}

/* unw_backtrace(), which may allocate (a call out: guard.h). */
static int libunwind_backtrace(void **ip, int max)
{
	unsigned char was;
	int got;

	if (!libunwind_safe())
		return 0;
	was = slp_callout_begin();
	got = unw_backtrace(ip, max);
	slp_callout_end(was);
	return got;
}

/* cfi.h's hash of the frames (what a fast walk with a sum works out as it goes). */
static void hash_frames(void *const *ip, unsigned n, uint64_t *h1, uint64_t *h2)
{
	struct slp_hash_sums h;

	slp_hash_start(&h);
	for (unsigned i = 0; i < n; i++)
		slp_hash_add(&h, (uint64_t)(uintptr_t)ip[i]);
	slp_hash_finish(&h, n, h1, h2);
}

/*
 * Whether this thread may unwind now. Not inside dl_iterate_phdr(): it
 * holds the loader's write lock there, libunwind takes a lock of its own
 * and then calls dl_iterate_phdr(), so a thread unwinding in a callback
 * (a program that allocates in its own callback) and one unwinding in a
 * dlopen() (whose malloc we record) deadlock each other. Such events get
 * an empty stack (and all of a thread's, if it longjmp'd out of a callback).
 */
static inline bool may_unwind(void)
{
	return SLP_LIKELY(!slp_st.loader_unusable) && SLP_LIKELY(!slp_in_loader);
}

/* The recorded part of a raw capture of got frames: [*first, *first + return). */
static unsigned trim(void *const *ip, int got, unsigned *first)
{
	unsigned f = 0, n = got > 0 ? (unsigned)got : 0;

	while (f < n && slp_is_self((uintptr_t)ip[f]))
		f++;
	n -= f;
	if (n > slp_st.depth)
		n = slp_st.depth;
	*first = f;
	return n;
}

/* unwind_check=1: what the exit line reports (a fork child starts from 0). */
static struct {
	_Atomic unsigned long stacks, fast, mismatches;
	_Atomic unsigned long declined; /* with verbose=1: the first few are printed */
} check;

#define CHECK_PRINT 4 /* mismatches shown in full */

static SLP_COLD void print_frames(const char *what, void *const *ip, unsigned n)
{
	char line[1024];
	size_t len = slp_format(line, sizeof(line), "  %s, %u frames:", what, n);

	for (unsigned i = 0; i < n && len < sizeof(line) - 20; i++)
		len += slp_format(line + len, sizeof(line) - len, " %lx",
				  (unsigned long)(uintptr_t)ip[i]);
	slp_warn("%s", line);
}

/*
 * unwind_check=1: both walks, from this one function so that both see the
 * same frames of ours; the result is libunwind's. A mismatch is counted and
 * the first few printed; with verbose=1 also the first few stacks the fast
 * walk declined. Context: as slp_unwind_capture.
 */
static __attribute__((noinline)) int capture_checked(void **ip, int max)
{
	void *fast[SLP_MAX_DEPTH + SLP_MAX_SKIP];
	struct slp_cfi_sum sum;
	int got_fast = slp_cfi_backtrace(fast, max, &sum); /* replays checked too */
	int got = libunwind_backtrace(ip, max);
	unsigned ff, fl, nf, nl;

	__atomic_fetch_add(&check.stacks, 1, __ATOMIC_RELAXED);
	if (got_fast < 0) {
		if (slp_opt.verbose &&
		    __atomic_fetch_add(&check.declined, 1, __ATOMIC_RELAXED) < CHECK_PRINT) {
			fl = 0;
			nl = trim(ip, got, &fl);
			print_frames("declined by the fast walk, libunwind", ip + fl, nl);
		}
		return got;
	}
	__atomic_fetch_add(&check.fast, 1, __ATOMIC_RELAXED);
	nf = trim(fast, got_fast, &ff);
	nl = trim(ip, got, &fl);
	if (nf == nl && !memcmp(fast + ff, ip + fl, nf * sizeof(void *)))
		return got;
	if (__atomic_fetch_add(&check.mismatches, 1, __ATOMIC_RELAXED) < CHECK_PRINT) {
		slp_warn("unwind check: pid %d tid %u: the fast walk differs from libunwind",
			 (int)slp_st.pid, slp_current_tid());
		print_frames("fast", fast + ff, nf);
		print_frames("libunwind", ip + fl, nl);
	}
	return got;
}

/*
 * Captures the calling thread's stack into t, innermost first, without the
 * frames of the shim itself (found by address, so inlining and tail calls
 * in our code cannot shift the result): t->ip[t->first] is the caller of
 * the interposed function. The fast walk and unw_backtrace() are called
 * from here both, so they see the same frames of ours. Context: any
 * thread, guard held, no lock.
 */
void slp_unwind_capture(struct slp_trace *t)
{
	int got = 0, max = (int)(slp_st.depth + SLP_MAX_SKIP);
	struct slp_cfi_sum sum;

	if (slp_st.depth && may_unwind()) {
		if (SLP_UNLIKELY(slp_opt.unwind_check)) {
			got = capture_checked(t->ip, max);
		} else if (SLP_LIKELY(slp_opt.fast_unwind) &&
			   (got = slp_cfi_backtrace(t->ip, max, &sum)) >= 0) {
			/* exactly unw_backtrace()'s frames, trimmed and hashed by the walk */
			t->first = sum.first;
			t->n = sum.n;
			slp_hash_finish(&sum.sums, sum.n, &t->hash, &t->hash2);
#ifndef NDEBUG
			{
				struct slp_trace u;

				u.n = trim(t->ip, got, &u.first);
				hash_frames(t->ip + u.first, u.n, &u.hash, &u.hash2);
				SLP_ASSERT(u.first == t->first && u.n == t->n && u.hash == t->hash &&
					   u.hash2 == t->hash2);
			}
#endif
			return;
		} else {
			got = libunwind_backtrace(t->ip, max);
		}
	}
	t->n = trim(t->ip, got, &t->first);
	hash_frames(t->ip + t->first, t->n, &t->hash, &t->hash2);
}

/* The exit line of unwind_check=1 (also with quiet=1: it was asked for), once. */
void slp_unwind_report(void)
{
	static atomic_bool said;

	if (!slp_opt.unwind_check || atomic_exchange(&said, true))
		return;
	slp_warn("unwind check: %lu stacks, %lu fast, %lu mismatches",
		 __atomic_load_n(&check.stacks, __ATOMIC_RELAXED),
		 __atomic_load_n(&check.fast, __ATOMIC_RELAXED),
		 __atomic_load_n(&check.mismatches, __ATOMIC_RELAXED));
}

/*
 * A fork child: libunwind (1.6, built without per-thread caches, so our
 * UNW_CACHE_PER_THREAD becomes its global cache) guards that cache with a
 * mutex which another thread of the parent may have held at the fork; the
 * child would wait for it forever at its first uncached step (its exit
 * scan walks the stack with unw_step). Without a cache no lock is taken:
 * libunwind is slower there (the fast walk is not), and the child usually
 * lives briefly. The fast walk's insert lock and the check counters are
 * reset too. Context: fork child, single thread, before any capture.
 */
void slp_unwind_fork_child(void)
{
	unw_set_caching_policy(unw_local_addr_space, UNW_CACHE_NONE);
	slp_cfi_fork_child();
	check.stacks = check.fast = check.mismatches = check.declined = 0;
}

/* After dlclose: cached unwind info (both caches) may describe code that is gone. */
void slp_unwind_flush(void)
{
	unw_flush_cache(unw_local_addr_space, 0, 0);
	slp_cfi_flush();
}

static bool in(const struct slp_range *r, uintptr_t ip)
{
	return ip >= r->lo && ip < r->hi;
}

/*
 * Frames below the one found belong to exit()'s machinery (exit,
 * __run_exit_handlers, _dl_fini, our handlers): what they hold is dead
 * for the program, and stale copies of its pointers linger in their
 * unused slots, so the scan must not read them (rules_delete shows one).
 * The registers that the found frame's callees saved for it are the
 * exception: live values of the program, so their save slots are
 * reported (x86-64: rbx, rbp, r12-r15). Context: see internal.h.
 */
void slp_unwind_exit_frame(struct slp_exit_frame *f)
{
	static const int callee_saved[] = { UNW_X86_64_RBX, UNW_X86_64_RBP, UNW_X86_64_R12,
					    UNW_X86_64_R13, UNW_X86_64_R14, UNW_X86_64_R15 };
	const struct slp_modules *m = &slp_st.mods;
	unw_context_t uc;
	unw_cursor_t c;
	unw_word_t ip, sp;

	f->sp = 0;
	f->nsaved = 0;
	if (!may_unwind() || !libunwind_safe() || unw_getcontext(&uc) || unw_init_local(&c, &uc))
		return;
	for (int i = 0; i < 256 && unw_step(&c) > 0; i++) {
		if (unw_get_reg(&c, UNW_REG_IP, &ip) || unw_get_reg(&c, UNW_REG_SP, &sp))
			return;
		if (slp_is_self(ip) || in(&m->libc_text, ip) || in(&m->ld_text, ip))
			continue;
		for (size_t k = 0; k < SLP_ARRAY_SIZE(callee_saved); k++) {
			unw_save_loc_t loc;

			if (!unw_get_save_loc(&c, callee_saved[k], &loc) &&
			    loc.type == UNW_SLT_MEMORY && loc.u.addr < sp && loc.u.addr % 8 == 0)
				f->saved[f->nsaved++] = loc.u.addr;
		}
		f->sp = sp;
		return;
	}
}
