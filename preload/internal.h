/*
 * preload/internal.h - what the parts of libsliceleak.so share.
 *
 * Layering inside the shim (each file has one job):
 *   hooks*.c     the exported entry points: resolve, call through, record
 *   record.c     one event: capture the stack outside the lock, then write
 *                everything the event needs under the writer lock
 *   unwind.c     stack capture: the fast walk, libunwind behind it
 *   cfi.c        the fast walk over compiled .eh_frame rules (cfi.h)
 *   stacks.c     stack interning (tree edges, whole-stack cache)
 *   modules.c    the module map (dl_iterate_phdr)
 *   writer.c     the buffer, record encoding, the log file
 *   scan.c       the pointer scan at evaluation points (exit, snapshots)
 *   lifecycle.c  start, exit, fork
 *   loader_gate.c  who is inside dl_iterate_phdr() at a fork
 *   bootstrap.c  dlsym() resolution of libc and the bootstrap arena
 *   options.c    SLICELEAK_OPTIONS
 *   diag.c       messages on stderr
 *   state.c      the one struct slp_state
 *
 * Linux/glibc, 64-bit little-endian only (format.h asserts the latter).
 */
#pragma once

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <link.h>
#include <sys/types.h>

#include <sliceleak/format.h>

#define SLP_EXPORT __attribute__((visibility("default")))
#define SLP_LIKELY(x) __builtin_expect(!!(x), 1)
#define SLP_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define SLP_COLD __attribute__((noinline, cold))
#define SLP_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define SLP_MAX_DEPTH 128 /* upper bound of the depth option */
#define SLP_MAX_SKIP 8	  /* our own frames at the top of a capture */
#define SLP_MAX_RANGES 4096 /* executable segments tracked for "is this ip known" */

/* ---- options.c ------------------------------------------------------- */

typedef char slp_str[PATH_MAX];
typedef unsigned long slp_uint;
typedef bool slp_bool;

struct slp_options {
#define SLP_OPT(type, name, def, help) slp_##type name;
#include "options.def"
#undef SLP_OPT
};

extern struct slp_options slp_opt;

void slp_options_parse(void);
void slp_options_print_help(void);

/* ---- diag.c ---------------------------------------------------------- */

/*
 * printf-like, to stderr with a "sliceleak: " prefix and a newline, through
 * write(2) only. Knows %s %d %u %ld %lu %zu %x %lx %%. Never allocates.
 */
void slp_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats into buf (always NUL-terminated); returns the length. */
size_t slp_format(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
_Noreturn void slp_die(const char *msg);

/* ---- bootstrap.c ----------------------------------------------------- */

struct slp_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	int (*dlclose)(void *);
	int (*dl_iterate_phdr)(int (*)(struct dl_phdr_info *, size_t, void *), void *);
};

extern struct slp_real slp_real;

void slp_resolve(void);

/* Resolves if needed; false while dlsym() is still answering (use the arena). */
static inline bool slp_resolved(void)
{
	slp_resolve();
	return slp_real.malloc != NULL;
}
/* Serves allocations while dlsym() has not answered yet. */
void *slp_boot_alloc(size_t size, size_t align, bool zero);
void *slp_boot_realloc(void *old, size_t size);
bool slp_boot_owns(const void *p);
/* dlsym(RTLD_NEXT, name) into a function pointer slot; false if absent. */
bool slp_resolve_next(void *slot, const char *name);

/* ---- state.c --------------------------------------------------------- */

enum slp_phase {
	SLP_PHASE_IDLE = 0,	/* nothing done yet */
	SLP_PHASE_STARTING = 1, /* slp_init running; events are dropped */
	SLP_PHASE_ON = 2,	/* recording */
	SLP_PHASE_OFF = 3,	/* finished, disabled or inert: pass-through forever */
};

/* One executable segment of a loaded object: [lo, hi). */
struct slp_range {
	uintptr_t lo;
	uintptr_t hi;
};

struct slp_edge {
	uint64_t ip;	 /* frame; 0 marks an empty slot (ip 0 is never interned) */
	uint32_t parent; /* stack id this edge extends */
	uint32_t id;	 /* stack id it defines */
};

struct slp_hit {
	uint64_t hash;	/* hash of the whole ip array; 0 marks an empty slot */
	uint64_t hash2; /* the second hash of the same array */
	uint32_t id;	/* leaf stack id of that array */
	uint32_t n;	/* frames in it */
};

struct slp_writer {
	int fd;		     /* the log, at a high fd; -1 when closed */
	dev_t dev;	     /* identity of fd, checked before each write: a program */
	ino_t ino;	     /* that closed our fd and reused the number is not ours */
	uint8_t *buf;	     /* mmap'd, size bytes */
	size_t size;
	size_t used;
	uint64_t prev_addr;  /* format.h decoding state, mirrored */
	uint64_t tid;	     /* THREAD context of the last record */
	uint64_t time_ns;    /* TIME context of the last record */
	uint64_t records;    /* records written, for END */
	uint64_t flush_due;  /* time_ns at which a non-empty buffer goes out anyway */
	uint64_t heap_lo;    /* lowest block address of this log (UINT64_MAX: none) */
	uint64_t heap_hi;    /* one past the end of the highest block: the scan's span */
	char path[PATH_MAX]; /* absolute path of the log */
};

struct slp_stacks {
	uint32_t next_id;	/* id the next STACK record defines (1-based) */
	struct slp_edge *edges; /* open addressing on (parent, ip) */
	size_t edges_mask;
	size_t edges_used;
	struct slp_hit *cache; /* open addressing on the whole-stack hash */
	size_t cache_mask;
	size_t cache_used;
};

struct slp_modules {
	atomic_bool dirty;	       /* rescan before the next record (dlclose) */
	unsigned long long adds;       /* dl_iterate_phdr counters at the last scan */
	unsigned long long subs;
	uintptr_t self_lo, self_hi;    /* our own text: frames to skip */
	size_t nranges;		       /* known executable segments, sorted */
	struct slp_range ranges[SLP_MAX_RANGES];
	size_t ndata;		       /* writable segments of the program's objects, */
	struct slp_range data[SLP_MAX_RANGES]; /* as of the last map: scan.c's globals */
	struct slp_range self_data;    /* our own writable segments: never scanned */
	struct slp_range libc_text;    /* libc's and ld.so's text, learnt at start: */
	struct slp_range ld_text;      /* exit()'s machinery, not the program's frames */
};

struct slp_state {
	atomic_int phase;	    /* enum slp_phase */
	pthread_mutex_t lock;	    /* the writer lock: one ordered stream */
	bool inert;		    /* AT_SECURE, or a static init failure */
	bool loader_unusable;	    /* fork child whose loader lock may be held: no stacks */
	pid_t pid;		    /* of this process (refreshed in a fork child) */
	uint64_t start_mono_ns;	    /* CLOCK_MONOTONIC_COARSE at start: TIME origin */
	size_t page_size;
	unsigned depth;		    /* frames per stack, from the options */
	uint64_t dropped;	    /* events seen while starting up */
	bool stderr_known;	    /* learn_process() looked at fd 2 */
	bool stderr_ok;		    /* fd 2 at start was open; dev/ino say which file */
	dev_t stderr_dev;
	ino_t stderr_ino;
	char exe[PATH_MAX];	    /* real path of the executable */
	char cwd[PATH_MAX];	    /* starting directory, for relative log paths */
	char *cmdline;		    /* mmap'd copy of /proc/self/cmdline */
	size_t cmdline_len;
	struct slp_writer w;
	struct slp_stacks stacks;
	struct slp_modules mods;
};

extern struct slp_state slp_st;

void slp_lock_reinit(void);

/* Kernel thread id of this thread; 0 until first needed (initial-exec TLS). */
extern _Thread_local uint32_t slp_tid __attribute__((tls_model("initial-exec")));
/* dl_iterate_phdr() calls this thread is inside (hooks_dl.c, unwind.c say why). */
extern _Thread_local unsigned slp_in_loader __attribute__((tls_model("initial-exec")));

uint32_t slp_tid_slow(void);

static inline uint32_t slp_current_tid(void)
{
	return SLP_LIKELY(slp_tid != 0) ? slp_tid : slp_tid_slow();
}

static inline bool slp_on(void)
{
	return atomic_load_explicit(&slp_st.phase, memory_order_relaxed) == SLP_PHASE_ON;
}

/* ---- lifecycle.c ----------------------------------------------------- */

/* Starts tracking if nobody has yet. Returns true when recording is on. Context: guard held. */
bool slp_ensure_started(void);
void slp_fini(void);
/* Tracking off for good, after a write error. Context: caller holds the lock. */
void slp_disable_locked(void);
uint64_t slp_now_ns(void);

/* ---- unwind.c -------------------------------------------------------- */

struct slp_trace {
	unsigned n;	/* frames in ip[first .. first + n) */
	unsigned first; /* index of the innermost frame that is not ours */
	uint64_t hash;	/* of those frames, never 0 */
	uint64_t hash2; /* a second, independent hash: the cache key is 128 bits */
	void *ip[SLP_MAX_DEPTH + SLP_MAX_SKIP];
};

void slp_unwind_setup(void);
void slp_unwind_capture(struct slp_trace *t);
void slp_unwind_flush(void);
void slp_unwind_fork_child(void);

/* Where a stack scan at exit starts (scan.c): the first frame that is the program's. */
struct slp_exit_frame {
	uintptr_t sp;	     /* its stack pointer; 0: not found (scan from our own frame) */
	unsigned nsaved;     /* where the frames below it saved its callee-saved registers */
	uintptr_t saved[8];
};

/*
 * Walks out from the caller to the first frame whose ip is not in our
 * code, libc or ld.so (the frame that called exit(), _exit() or exec, or
 * _start when main returned). Context: guard held, writer lock NOT held
 * (libunwind may call dl_iterate_phdr()).
 */
void slp_unwind_exit_frame(struct slp_exit_frame *f);

/* ---- loader_gate.c --------------------------------------------------- */

void slp_loader_enter(void);
void slp_loader_leave(void);
bool slp_loader_fork_prepare(void);
void slp_loader_fork_parent(void);
bool slp_loader_fork_child(bool drained);

/* ---- stacks.c -------------------------------------------------------- */

#define SLP_STACK_NEED_MAP UINT32_MAX

/*
 * The stack id of t, writing STACK records for new edges. Returns
 * SLP_STACK_NEED_MAP when a new edge's ip is in no known object and
 * !allow_unknown: the caller syncs the module map (outside the lock) and
 * calls again with allow_unknown. Context: lock held.
 */
uint32_t slp_stacks_intern(const struct slp_trace *t, bool allow_unknown);
/* Forget every stack (fork child, new log). Context: lock held or single thread. */
void slp_stacks_reset(void);
/*
 * Stop reusing the stacks interned so far (objects were unloaded: an ip may
 * now mean other code); ids keep counting up. Context: lock held.
 */
void slp_stacks_forget(void);

/* ---- modules.c ------------------------------------------------------- */

/*
 * Writes MODULES_RESET + one MODULE per object when forced or when the
 * loader's list changed. Context: guard held, writer lock NOT held.
 */
void slp_modules_sync(bool force);
void slp_modules_fork_child(void);
/* Context: writer lock held. */
bool slp_modules_knows(uintptr_t ip);
void slp_modules_find_self(void);

static inline bool slp_modules_dirty(void)
{
	return atomic_load_explicit(&slp_st.mods.dirty, memory_order_relaxed);
}

/* The scratch buffer's range (ours: the scan leaves it out). Context: writer lock held. */
struct slp_range slp_modules_scratch(void);

static inline bool slp_is_self(uintptr_t ip)
{
	return ip >= slp_st.mods.self_lo && ip < slp_st.mods.self_hi;
}

/* ---- writer.c -------------------------------------------------------- */

int slp_writer_open(void);
void slp_writer_drop_buffer(void);
/* Writes out the buffer. Context: lock held. */
void slp_writer_flush(void);
void slp_writer_close(void);

/* Record encoding. Context: lock held; one record open at a time. */
uint8_t *slp_rec_begin(unsigned kind, size_t max_payload);
void slp_rec_end(uint8_t *end);

static inline uint8_t *slp_put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *slp_put_uv(uint8_t *p, uint64_t v)
{
	return p + slf_put_uv(p, v);
}

static inline uint8_t *slp_put_addr(uint8_t *p, uint64_t addr)
{
	return p + slf_put_addr(p, addr, &slp_st.w.prev_addr);
}

uint8_t *slp_put_str(uint8_t *p, const void *s, size_t n);

/* THREAD and TIME records when the context changed (and a timed flush). Context: lock held. */
void slp_writer_context(uint32_t tid, uint64_t now_ns);

/*
 * Widens the span of addresses the allocator returned (SCAN_BEGIN) by the
 * block [p, p + size); a zero-size block counts one byte, so a pointer to
 * it is still in the span. Two compares per ALLOC/REALLOC. Context: lock held.
 */
static inline void slp_writer_heap_span(uintptr_t p, size_t size)
{
	struct slp_writer *w = &slp_st.w;

	if (p < w->heap_lo)
		w->heap_lo = p;
	if (p + size + (size == 0) > w->heap_hi)
		w->heap_hi = p + size + (size == 0);
}

/* ---- scan.c ---------------------------------------------------------- */

/*
 * The pointer scan of an evaluation point (format.h 1.1): SCAN_BEGIN ..
 * SCAN_END, written at once. `exit` (NULL at a snapshot) says where the
 * scanning thread's live stack starts when the process is ending.
 * Context: writer lock and guard held, on.
 */
void slp_scan_locked(const struct slp_exit_frame *exit);

/* ---- record.c -------------------------------------------------------- */
/* Context for all: any thread, guard held by the caller, lock not held. */

void slp_record_alloc(enum slf_alloc_fn fn, void *p, size_t size, size_t align);
void slp_record_free(void *p);
void *slp_record_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size);
void slp_record_slice(unsigned kind, const void *block, const void *ptr, size_t len, size_t cap);
void slp_record_view_acquire(const void *owner, const void *ptr, size_t len);
void slp_record_view_release(const void *owner);
void slp_record_snapshot(const char *label);
