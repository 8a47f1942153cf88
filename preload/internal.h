/*
 * preload/internal.h - what the parts of libsliceleak.so share.
 *
 * Layering inside the shim (each file has one job):
 *   hooks*.c     the exported entry points: resolve, call through, record
 *   record.c     one event: capture the stack, take a sequence number,
 *                write everything the event needs into the thread's stream
 *   unwind.c     stack capture: the fast walk, libunwind behind it
 *   cfi.c        the fast walk over compiled .eh_frame rules (cfi.h)
 *   stacks.c     stack interning (tree edges, whole-stack cache)
 *   modules.c    the module map (dl_iterate_phdr)
 *   stream.c     per-thread record streams: buffers, registry, chunks
 *   writer.c     the log file: open, chunk writes, END
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
typedef unsigned long slp_size; /* a byte count: 512KiB, 2M, 65536 */

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

/*
 * SLP_ASSERT(cond): an invariant a comment states, in the style of
 * mimalloc's mi_assert_internal: checked where NDEBUG is unset (the debug,
 * debugoptimized and sanitizer builds), compiled out in release builds,
 * which are what programs are traced with. A failure says where, on
 * stderr, and aborts.
 */
#ifdef NDEBUG
#define SLP_ASSERT(cond) ((void)sizeof(cond))
#else
#define SLP_ASSERT(cond) \
	(SLP_LIKELY(cond) ? (void)0 : slp_assert_fail(#cond, __FILE__, __LINE__))
#endif
_Noreturn void slp_assert_fail(const char *cond, const char *file, int line);

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
#define SLP_BOOT_ARENA_SIZE (64 * 1024)
extern unsigned char slp_boot_arena[SLP_BOOT_ARENA_SIZE];

/* Whether p is in the bootstrap arena: inline, every free asks. */
static inline bool slp_boot_owns(const void *p)
{
	return (uintptr_t)p - (uintptr_t)slp_boot_arena < SLP_BOOT_ARENA_SIZE;
}
/* dlsym(RTLD_NEXT, name) into a function pointer slot; false if absent. */
bool slp_resolve_next(void *slot, const char *name);

/* ---- state.c --------------------------------------------------------- */

enum slp_phase {
	SLP_PHASE_IDLE = 0,	/* nothing done yet */
	SLP_PHASE_STARTING = 1, /* slp_init running; events are dropped */
	SLP_PHASE_ON = 2,	/* recording */
	SLP_PHASE_OFF = 3,	/* finished, disabled or inert: pass-through forever */
	SLP_PHASE_DORMANT = 4,	/* start=signal: pass-through until snapshot_signal */
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

/* The log file (writer.c). Context: file_lock held, except at start and in a fork child. */
struct slp_writer {
	int fd;		     /* the log, at a high fd; -1 when closed */
	dev_t dev;	     /* identity of fd, checked before each write: a program */
	ino_t ino;	     /* that closed our fd and reused the number is not ours */
	uint64_t chunks;     /* CHUNK records written, for END */
	uint64_t records;    /* records inside them, for the exit message */
	char path[PATH_MAX]; /* absolute path of the log */
};

/*
 * An event a signal handler made while it interrupted this thread's
 * recording of another one (guard.h): written by the handler, moved into
 * the stream by whoever holds its lock next (record.c).
 */
struct slp_pending {
	uint64_t seq;
	uint64_t addr;	/* the block; REALLOC: the new one */
	uint64_t old;	/* REALLOC: the old block */
	uint64_t size;
	uint64_t align;
	uint8_t kind;	/* SLF_REC_ALLOC, SLF_REC_FREE or SLF_REC_REALLOC */
	uint8_t fn;	/* enum slf_alloc_fn */
	uint8_t flags;	/* REALLOC's */
};

#define SLP_PENDING 64 /* per stream; a power of two */

/*
 * One thread's record stream (stream.c): the records of one CHUNK being
 * built, in a buffer of its own, so threads never share a cache line on the
 * hot path. `lock` is held by the owner while it appends one event, and by
 * another thread flushing the stream (exit, fork, timed flush): it is
 * uncontended in the common case.
 */
struct slp_stream {
	atomic_int lock;	 /* 0 free, 1 held */
	atomic_bool in_use;	 /* owned by a live thread (else on the free list) */
	atomic_bool abandoned;	 /* its thread ended holding the lock: never used again */
	_Atomic uint32_t pend_head; /* pending events written (by the owner's handlers) */
	_Atomic uint32_t pend_tail; /* ... and moved into the stream (by the lock holder) */
	atomic_bool pend_busy;	    /* a handler is putting one there now */
	uint32_t tid;		 /* the owner's kernel tid */
	uint8_t *buf;		 /* mmap'd, size bytes; the chunk header is put in front */
	size_t size;
	size_t used;		 /* bytes of buf in use, the header reserve included */
	uint64_t cur_seq;	 /* seq of the records being written now */
	uint64_t base_seq;	 /* the chunk's base seq (first record's) */
	uint64_t last_seq;	 /* the last record's, for seq_delta */
	uint64_t prev_addr;	 /* format.h decoding state of this chunk */
	struct slf_dense_state dense; /* ... and the dense forms' */
	uint64_t chunk_time;	 /* the last TIME in this chunk (0: none yet) */
	uint64_t now_ns;	 /* this thread's clock at its last event */
	uint64_t flush_due;	 /* now_ns at which a non-empty buffer goes out anyway */
	uint64_t records;	 /* records in this chunk */
	uint64_t heap_lo;	 /* lowest block this thread allocated (UINT64_MAX: none) */
	uint64_t heap_hi;	 /* one past its highest block: the scan's span, united */
	uint64_t marked_lo;	 /* granules (address >> SLP_GRANULE_SHIFT) marked_lo .. */
	uint64_t marked_hi;	 /* marked_hi are all in the set (empty: lo > hi) */
	uint64_t *granules;	 /* set of granule + 1 its blocks touched (open addressing) */
	size_t granules_mask;
	size_t granules_used;
	bool granules_lost;	 /* a set could not grow: the scan cannot filter by granule */
	uint8_t *rec_open;	 /* start of the record being encoded */
	struct slp_stream *next; /* the registry: every stream ever made */
	struct slp_pending pend[SLP_PENDING];
};

/* The whole-stack cache: readers probe it without a lock (stacks.c). */
struct slp_hit {
	_Atomic uint64_t hash;	/* hash of the whole ip array; 0 marks an empty slot */
	_Atomic uint64_t hash2; /* the second hash of the same array */
	_Atomic uint32_t id;	/* leaf stack id of that array */
	_Atomic uint32_t n;	/* frames in it */
};

struct slp_hit_table {
	size_t mask;	/* slots - 1 */
	size_t used;
	struct slp_hit slot[];
};

struct slp_stacks {
	uint32_t next_id;	/* id the next STACK record defines (1-based) */
	struct slp_edge *edges; /* open addressing on (parent, ip) */
	size_t edges_mask;
	size_t edges_used;
	struct slp_hit_table *_Atomic cache; /* published with release: read lock-free */
	struct slp_range retired[48];	     /* outgrown caches, kept mapped for late readers */
	size_t nretired;
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
	/*
	 * format.h's order: one number per event. A cache line of its own:
	 * every thread writes it at every event, and `phase`, read at every
	 * event too, cost a miss each time while they shared one.
	 */
	_Alignas(64) _Atomic uint64_t seq;
	char seq_line[64 - sizeof(uint64_t)];
	pthread_mutex_t dict_lock;  /* stack tables, module ranges: every definition */
	pthread_mutex_t file_lock;  /* the log file: one chunk write at a time */
	_Atomic uint64_t flush_due; /* next timed flush of every stream (ns since start) */
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
	char interposer[PATH_MAX];  /* the object whose malloc the program calls, if not ours */
	uint64_t process_flags;	    /* SLF_PROCESS_* of PROCESS */
	atomic_bool start_requested; /* start=signal: the signal came, the next event starts */
	size_t cmdline_len;
	struct slp_writer w;
	struct slp_stacks stacks;
	struct slp_modules mods;
};

extern struct slp_state slp_st;

/* Fresh dict and file locks (a fork child: the old ones may be held by nobody). */
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
/* This thread is inside daemon(): its fork's parent is about to end (hooks_process.c). */
extern _Thread_local bool slp_in_daemon __attribute__((tls_model("initial-exec")));
/* Tracking off for good, after a write error. Context: file_lock held. */
void slp_disable_locked(void);
uint64_t slp_now_ns(void);
/* Opens /proc/thread-self/NAME (or /proc/self/NAME on old kernels) read-only. */
int slp_proc_open(const char *name);

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
/* pipe2() (hooks_safety.c): whether libunwind's code at `caller` made this pipe. */
bool slp_unwind_is_caller(const void *caller);
/* libunwind just made its address-validation pipe: move it up, remember it. */
void slp_unwind_pipe_made(int fds[2]);
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
 * _start when main returned). Context: guard held, no stream locked
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
 * The stack id of t. A stack seen before costs one lock-free probe; a new
 * one takes the dict lock and writes its new edges as STACK records into
 * s, at a seq taken under that lock (format.h: a definition precedes, in
 * seq order, every use by any thread). Returns SLP_STACK_NEED_MAP when a
 * new edge's ip is in no known object and !allow_unknown: the caller syncs
 * the module map and calls again with allow_unknown.
 * Context: s is the caller's stream, locked.
 */
uint32_t slp_stacks_intern(struct slp_stream *s, const struct slp_trace *t, bool allow_unknown);
/* Forget every stack (fork child, new log). Context: single thread. */
void slp_stacks_reset(void);
/*
 * Stop reusing the stacks interned so far (objects were unloaded: an ip may
 * now mean other code); ids keep counting up. Context: dict lock held.
 */
void slp_stacks_forget(void);
/* Calls fn for each memory range of the stack tables (the scan leaves them out). */
void slp_stacks_ranges(void (*fn)(uintptr_t lo, uintptr_t hi));

/* ---- modules.c ------------------------------------------------------- */

/*
 * Writes MODULES_RESET + one MODULE per object when forced or when the
 * loader's list changed, into the caller's stream (NULL: its own, locked
 * here). Context: guard held; s NULL or the caller's stream, locked.
 */
void slp_modules_sync(struct slp_stream *s, bool force);
void slp_modules_fork_child(void);
/* Context: dict lock held. */
bool slp_modules_knows(uintptr_t ip);
void slp_modules_find_self(void);
/* The executable is a Go program (its build-id note): it exits past libc. */
bool slp_modules_exe_is_go(void);

static inline bool slp_modules_dirty(void)
{
	return atomic_load_explicit(&slp_st.mods.dirty, memory_order_relaxed);
}

/* The scratch buffer's range (ours: the scan leaves it out). */
struct slp_range slp_modules_scratch(void);

static inline bool slp_is_self(uintptr_t ip)
{
	return ip >= slp_st.mods.self_lo && ip < slp_st.mods.self_hi;
}

/* ---- writer.c -------------------------------------------------------- */

/*
 * Every fd of ours lives at SLP_FD_FLOOR or above, close-on-exec: programs
 * count on the lowest free number (a daemon reopening 0, 1 and 2), close
 * ranges of low fds and dup2 over them. slp_fd_high() moves fd there (or to
 * 100 when RLIMIT_NOFILE leaves no room, else it stays where it is);
 * slp_open_high() is open() + that. A fresh fd is low for the two
 * system calls in between. Context: any.
 */
#define SLP_FD_FLOOR 1000
int slp_fd_high(int fd);
int slp_open_high(const char *path, int flags, unsigned mode);

/* Creates the log and writes its header. Returns 0 or -errno. Context: single thread. */
int slp_writer_open(void);
/* Appends whole top-level records (CHUNK, PROCESS, END). Context: file_lock held. */
void slp_writer_write(const uint8_t *p, size_t n);
void slp_writer_close(void);
/*
 * Puts a top-level record's kind and length right in front of its
 * payload [payload, payload + len), which needs 1 + SLF_MAX_UV_LEN bytes
 * of room before it. Returns where the record starts.
 */
uint8_t *slp_writer_frame(unsigned kind, uint8_t *payload, size_t len);

/* ---- stream.c -------------------------------------------------------- */

/*
 * This thread's stream, locked, or NULL when recording is off (or no
 * memory for a stream: the event is dropped). Context: guard held.
 */
struct slp_stream *slp_stream_enter(void);
/* The same whatever the phase (start-up, exit). NULL: no memory. */
struct slp_stream *slp_stream_own(void);
/* This thread's stream, not locked; NULL if it has none yet. */
struct slp_stream *slp_stream_mine(void);
void slp_stream_leave(struct slp_stream *s);

/* The next number of format.h's order. */
static inline uint64_t slp_next_seq(void)
{
	return atomic_fetch_add_explicit(&slp_st.seq, 1, memory_order_seq_cst);
}

/*
 * Starts an event at seq: its records (slp_rec_begin) carry that seq; a
 * TIME record goes first when this thread's clock moved (and, past
 * flush_ms, buffers go out). Context: s locked.
 */
void slp_stream_event(struct slp_stream *s, uint64_t seq, uint64_t now_ns);
/* Writes s's chunk to the log. Context: s locked. */
void slp_stream_flush(struct slp_stream *s);
/*
 * Writes every stream's chunk to the log. own: the caller's stream (locked
 * by the caller) or NULL. Others are locked in turn; with `wait` false a
 * stream busy right now is left for later.
 */
void slp_streams_flush_all(struct slp_stream *own, bool wait);
/* Calls fn for each stream buffer (the scan leaves them out). */
void slp_streams_ranges(void (*fn)(uintptr_t lo, uintptr_t hi));
/* The span of addresses the allocator returned, over all threads. */
void slp_streams_heap_span(uint64_t *lo, uint64_t *hi);
/* Thread exits, process starts, fork child: see stream.c. */
void slp_streams_setup(void);
void slp_streams_fork_child(struct slp_stream *own);

/* Record encoding into s. Context: s locked; one record open at a time. */
uint8_t *slp_rec_begin(struct slp_stream *s, unsigned kind, size_t max_payload);
void slp_rec_end(struct slp_stream *s, uint8_t *end);

static inline uint8_t *slp_put_u8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static inline uint8_t *slp_put_uv(uint8_t *p, uint64_t v)
{
	return p + slf_put_uv(p, v);
}

static inline uint8_t *slp_put_addr(struct slp_stream *s, uint8_t *p, uint64_t addr)
{
	return p + slf_put_addr(p, addr, &s->prev_addr);
}

uint8_t *slp_put_str(uint8_t *p, const void *s, size_t n);

/*
 * A record in a dense form (records.def, SLF_DENSE): room for max bytes
 * where it starts, its seq_delta (the encoder writes both); then
 * slp_rec_dense_end() with its end. Context: as slp_rec_begin().
 */
uint8_t *slp_rec_dense(struct slp_stream *s, unsigned kind, size_t max, uint64_t *seq_delta);
void slp_rec_dense_end(struct slp_stream *s, uint8_t *end);

/*
 * One whole record of kind NAME (records.def) in s: its fields, in table
 * order, as format.h's slf_encode_<name>() takes them. Not for kinds with
 * strings or a variable part (their size is not SLF_MAXLEN_<NAME>).
 * Context: s locked, no record open.
 */
#define slp_put_rec(s, NAME, name, ...)                                                      \
	slp_rec_end(s, slf_encode_##name(slp_rec_begin(s, SLF_REC_##NAME, SLF_MAXLEN_##NAME), \
					 &(s)->prev_addr, SLF_VERSION_MAJOR, __VA_ARGS__))

/*
 * slp_put_<name>(s, fields...) for each kind with a dense form (ALLOC, FREE,
 * REALLOC): the record in its dense form where the fields allow
 * (slf_dense_fits_<name>), else as slp_put_rec(). Context: s locked, no
 * record open.
 */
#define SLP_DENSE_NAME(kind, enc, field, show, since) , field
#define SLP_PUT_DENSE(NAME, name, base)                                                      \
	static inline void slp_put_##name(struct slp_stream *s SLF_FIELDS_##name(SLF_ENCODER_ARG)) \
	{                                                                                    \
		uint64_t d;                                                                  \
		uint8_t *p;                                                                  \
                                                                                             \
		if (SLP_LIKELY(slf_dense_fits_##name(0 SLF_FIELDS_##name(SLP_DENSE_NAME)))) { \
			p = slp_rec_dense(s, SLF_REC_##NAME, SLF_MAXLEN_DENSE_##NAME, &d);   \
			slp_rec_dense_end(s, slf_encode_dense_##name(p, &s->dense,            \
								     d SLF_FIELDS_##name(SLP_DENSE_NAME))); \
		} else {                                                                     \
			slp_rec_end(s, slf_encode_##name(slp_rec_begin(s, SLF_REC_##NAME,     \
								       SLF_MAXLEN_##NAME),   \
							 &s->prev_addr, SLF_VERSION_MAJOR     \
								 SLF_FIELDS_##name(SLP_DENSE_NAME))); \
		}                                                                            \
	}
SLF_DENSE(SLP_PUT_DENSE)

/*
 * The scan records a word only if its value lies in a granule (64 KiB of
 * address space) that some block has touched: words pointing elsewhere
 * (an interpreter's own arenas, file data) cannot reach a block.
 */
#define SLP_GRANULE_SHIFT 16

void slp_stream_mark_granules(struct slp_stream *s, uint64_t first, uint64_t last);

/*
 * Widens the span of addresses the allocator returned (SCAN_BEGIN) by the
 * block [p, p + size) and marks its granules; a zero-size block counts one
 * byte, so a pointer to it is still in the span. A few compares per
 * ALLOC/REALLOC, on the thread's own stream. Context: s locked.
 */
static inline void slp_stream_heap_span(struct slp_stream *s, uintptr_t p, size_t size)
{
	uint64_t end = p + size + (size == 0);

	if (p < s->heap_lo)
		s->heap_lo = p;
	if (end > s->heap_hi)
		s->heap_hi = end;
	if (SLP_UNLIKELY(p >> SLP_GRANULE_SHIFT < s->marked_lo ||
			 (end - 1) >> SLP_GRANULE_SHIFT > s->marked_hi))
		slp_stream_mark_granules(s, p >> SLP_GRANULE_SHIFT, (end - 1) >> SLP_GRANULE_SHIFT);
}

/*
 * The union of every thread's granules, for one scan: a set of granule + 1
 * (mask + 1 slots, mmap'd). NULL when it cannot be had (out of memory, a
 * thread stayed busy): the scan then records every word in the span.
 * own: the caller's stream, locked. Free with slp_granules_free().
 */
struct slp_granule_set {
	size_t mask;
	size_t bytes;
	uint64_t slot[];
};
struct slp_granule_set *slp_streams_granules(struct slp_stream *own);
void slp_granules_free(struct slp_granule_set *g);

static inline size_t slp_granule_slot(uint64_t key)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 20);
}

static inline bool slp_granules_has(const struct slp_granule_set *g, uint64_t granule)
{
	uint64_t key = granule + 1;

	for (size_t j = slp_granule_slot(key) & g->mask;; j = (j + 1) & g->mask) {
		if (g->slot[j] == key)
			return true;
		if (!g->slot[j])
			return false;
	}
}

/* ---- scan.c ---------------------------------------------------------- */

/*
 * The pointer scan of an evaluation point (format.h 1.1): SCAN_BEGIN ..
 * SCAN_END, into s at its current seq. `exit` (NULL at a snapshot) says
 * where the scanning thread's live stack starts when the process is ending.
 * Context: s is the caller's stream, locked; guard held, on.
 */
void slp_scan_locked(struct slp_stream *s, const struct slp_exit_frame *exit);
void slp_scan_fork_child(void);

/* ---- record.c -------------------------------------------------------- */
/* Context for all: any thread, guard held by the caller, no stream locked. */

void slp_record_alloc(enum slf_alloc_fn fn, void *p, size_t size, size_t align);
/*
 * The block of this thread's last slp_record_alloc() (hooks_cxx.c: already
 * recorded?), kept complemented: TLS is scanned memory, and the address
 * itself there would be a root that keeps the block "referenced" after the
 * program dropped it (SLP_DISGUISE both ways).
 */
extern _Thread_local uintptr_t slp_last_alloc __attribute__((tls_model("initial-exec")));
#define SLP_DISGUISE(p) (~(uintptr_t)(p))
void slp_record_free(void *p);
void *slp_record_realloc(enum slf_alloc_fn fn, void *old, size_t n, size_t size);
void slp_record_slice(unsigned kind, const void *block, const void *ptr, size_t len, size_t cap);
void slp_record_view_acquire(const void *owner, const void *ptr, size_t len);
void slp_record_view_release(const void *owner);
void slp_record_snapshot(const char *label, bool from_signal);

/*
 * snapshot_signal.c: installs the snapshot_signal handler (start-up, once);
 * false when there is none. While the phase is DORMANT a delivery sets
 * slp_st.start_requested instead of taking a snapshot.
 */
bool slp_snapshot_signal_setup(void);

/*
 * The reentrant path: a signal handler's malloc-family call that
 * interrupted this thread's recording of another event (guard.h). The
 * event takes its seq where it happens and waits in the stream's pending
 * ring, with an empty stack (the stack tables and the unwinder are not
 * reentrant); one that finds the ring full, or a handler interrupted
 * again, is counted as dropped (END says how many). Context: such a
 * handler; kind SLF_REC_ALLOC (after libc) or SLF_REC_FREE (before it).
 */
void slp_record_interrupted(unsigned kind, enum slf_alloc_fn fn, void *p, size_t size,
			    size_t align);
void *slp_record_realloc_interrupted(enum slf_alloc_fn fn, void *old, size_t n, size_t size);
/* Moves the pending events with seq < below into s. Context: s locked, no record open. */
void slp_pending_drain(struct slp_stream *s, uint64_t below);

/*
 * A seq no pending event of s is below (UINT64_MAX: none): SYNC's bound
 * (stream.c). Context: any thread, no lock.
 */
uint64_t slp_pending_floor(struct slp_stream *s);

static inline bool slp_pending_any(const struct slp_stream *s)
{
	return atomic_load_explicit(&s->pend_head, memory_order_relaxed) !=
	       atomic_load_explicit(&s->pend_tail, memory_order_relaxed);
}
