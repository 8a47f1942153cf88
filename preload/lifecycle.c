/*
 * preload/lifecycle.c - start, exit, fork and exec.
 *
 * Start: from our constructor, or from the first intercepted call if a
 * library constructor allocates before ours runs. Resolve libc, parse the
 * options, open the log, write PROCESS and the module map, register the
 * fork handlers and the exit handler. Any failure leaves the shim off and
 * the program untouched; so does an executable the trace option does not
 * name (a wrapper: env, timeout, a shell script's sh). The registry option
 * (sliceleak run's) hears of each log created and each process passed over.
 *
 * Exit: atexit(slp_fini) and at_quick_exit(slp_fini) registered at start
 * (so they run after most of the program's own exit handlers) plus a
 * destructor; idempotent. It writes the
 * exit scan, every thread's stream and END; it never frees tracker state,
 * so a late free() from another exit handler still finds everything in
 * place (and is simply not logged).
 *
 * Fork: the child drops every stream it inherited (their records are the
 * parent's to write) and opens its own log with a fresh PROCESS (ppid = the
 * parent), module map, stack table and sequence.
 *
 * Exec, _exit and daemon() (hooks_process.c): END and flush before the
 * image is replaced or ends; a new image inherits LD_PRELOAD and writes its
 * own log.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfi.h"
#include "guard.h"
#include "internal.h"
#include "sample.h"

static _Thread_local bool fork_entered __attribute__((tls_model("initial-exec")));
static _Thread_local bool fork_traced __attribute__((tls_model("initial-exec")));
static _Thread_local bool fork_drained __attribute__((tls_model("initial-exec")));
static bool handlers_registered; /* per process image; inherited by fork children */

uint64_t slp_now_ns(void)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return now > slp_st.start_mono_ns ? now - slp_st.start_mono_ns : 0;
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Reads a whole small file with open/read (no stdio). Returns bytes read. */
static size_t read_file(const char *path, char *buf, size_t size)
{
	size_t n = 0;
	int fd = slp_open_high(path, O_RDONLY, 0);

	if (fd < 0)
		return 0;
	while (n < size) {
		ssize_t k = read(fd, buf + n, size - n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	return n;
}

/*
 * /proc/thread-self/NAME where the kernel has it (3.17), else
 * /proc/self/NAME: the former works from any thread, the latter only while
 * the main thread lives (after main's pthread_exit it shows no memory).
 */
int slp_proc_open(const char *name)
{
	char path[64];
	int fd;

	slp_format(path, sizeof(path), "/proc/thread-self/%s", name);
	fd = slp_open_high(path, O_RDONLY, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	slp_format(path, sizeof(path), "/proc/self/%s", name);
	return slp_open_high(path, O_RDONLY, 0);
}

/* Who we are: executable, command line, starting directory, stderr. */
static void learn_process(void)
{
	struct stat sb;
	ssize_t n = readlink("/proc/self/exe", slp_st.exe, sizeof(slp_st.exe) - 1);

	if (n > 0) {
		slp_st.exe[n] = '\0';
	} else {
		const char *fn = (const char *)getauxval(AT_EXECFN);

		slp_format(slp_st.exe, sizeof(slp_st.exe), "%s", fn ? fn : "");
	}
	if (!getcwd(slp_st.cwd, sizeof(slp_st.cwd)))
		slp_st.cwd[0] = '\0';
	if (!slp_st.cmdline) {
		void *p = mmap(NULL, SLF_MAX_STR, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		slp_st.cmdline = p == MAP_FAILED ? NULL : p;
	}
	if (slp_st.cmdline)
		slp_st.cmdline_len = read_file("/proc/self/cmdline", slp_st.cmdline,
					       SLF_MAX_STR - 1);
	if (slp_st.cmdline_len == SLF_MAX_STR - 1) /* cut: each argument still ends with NUL */
		slp_st.cmdline[slp_st.cmdline_len - 1] = '\0';
	slp_st.stderr_ok = fstat(STDERR_FILENO, &sb) == 0;
	slp_st.stderr_dev = sb.st_dev;
	slp_st.stderr_ino = sb.st_ino;
	slp_st.stderr_known = true;
}

/*
 * Whether the program's malloc and free are ours: an allocator preloaded
 * before the shim, or an executable that defines malloc, is found first,
 * and then no allocation reaches us (the log would say "complete" with
 * nothing in it). Its path goes into PROCESS and one warning to stderr.
 * Context: start-up, guard held (dlsym and dladdr may allocate).
 */
static void find_interposer(void)
{
	static const char *const names[] = { "malloc", "free" };

	slp_st.interposer[0] = '\0';
	for (size_t i = 0; i < SLP_ARRAY_SIZE(names); i++) {
		void *sym = dlsym(RTLD_DEFAULT, names[i]);
		Dl_info info;

		const ElfW(Sym) *def = NULL;

		/*
		 * A non-PIE executable that calls malloc holds a canonical PLT
		 * entry for it, an undefined symbol with a value, which dlsym
		 * returns (Debian's python3): only a definition is another malloc.
		 */
		if (!sym || slp_is_self((uintptr_t)sym) ||
		    !dladdr1(sym, &info, (void **)&def, RTLD_DL_SYMENT) || !def ||
		    def->st_shndx == SHN_UNDEF)
			continue;
		slp_format(slp_st.interposer, sizeof(slp_st.interposer), "%s",
			   info.dli_fname && info.dli_fname[0] ? info.dli_fname : slp_st.exe);
		slp_warn("the program's %s is %s's, not sliceleak's: the allocations it serves are "
			 "not recorded (list libsliceleak.so first in LD_PRELOAD)",
			 names[i], slp_st.interposer);
		return;
	}
}

/*
 * PROCESS, at the top level (format.h 2.x), from a scratch mapping: it
 * holds the command line, up to 64 KiB. Returns false when out of memory.
 * Context: start-up or a fork child (nothing else writes yet).
 */
static bool write_process(void)
{
	size_t elen = strnlen(slp_st.exe, sizeof(slp_st.exe));
	size_t ilen = strnlen(slp_st.interposer, sizeof(slp_st.interposer));
	size_t max = 10 * SLF_MAX_UV_LEN + elen + slp_st.cmdline_len + ilen;
	uint8_t *buf = mmap(NULL, max + 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			    -1, 0), *p, *h;

	if (buf == MAP_FAILED)
		return false;
	p = buf + 16; /* room for the kind and the length in front */
	p = slp_put_uv(p, (uint64_t)slp_st.pid);
	p = slp_put_uv(p, (uint64_t)getppid());
	p = slp_put_uv(p, realtime_ns());
	p = slp_put_uv(p, slp_st.depth);
	p = slp_put_str(p, slp_st.exe, elen);
	p = slp_put_str(p, slp_st.cmdline ? slp_st.cmdline : "", slp_st.cmdline_len);
	p = slp_put_str(p, slp_st.interposer, ilen);
	p = slp_put_uv(p, slp_st.process_flags);
	p = slp_put_uv(p, slp_samp.mean);
	p = slp_put_uv(p, slp_samp.exact);
	h = slp_writer_frame(SLF_REC_PROCESS, buf + 16, (size_t)(p - (buf + 16)));
	slp_writer_write(h, (size_t)(p - h));
	munmap(buf, max + 16);
	return true;
}

/* PROCESS + the module map, on disk: the head of every log. */
static bool write_head(void)
{
	struct slp_stream *s;

	if (!write_process() || !(s = slp_stream_own()))
		return false;
	slp_modules_sync(s, true);
	slp_stream_flush(s); /* a process that dies at once still leaves a valid log */
	slp_stream_leave(s);
	return slp_st.w.fd >= 0;
}

static void start_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	slp_st.start_mono_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * One line for `sliceleak run` (the registry option): appended with a
 * single write to a file that must exist (O_APPEND keeps concurrent
 * processes' lines whole). Our own fd, high like all ours, closed at once.
 */
static void registry_add(const char *what, const char *name)
{
	char line[PATH_MAX + 64];
	int fd, saved = errno; /* a fork child's fork() returns right after */
	size_t n;

	if (!slp_opt.registry[0])
		return;
	n = slp_format(line, sizeof(line), "%s %d %s\n", what, (int)slp_st.pid, name);
	fd = slp_open_high(slp_opt.registry, O_WRONLY | O_APPEND | O_NOFOLLOW, 0);
	if (fd >= 0) {
		while (write(fd, line, n) < 0 && errno == EINTR)
			;
		close(fd);
	}
	errno = saved;
}

/* Whether name matches pattern p of length n, `*` matching any characters. */
static bool name_matches(const char *p, size_t n, const char *name)
{
	const char *star = NULL, *resume = NULL, *end = p + n;

	for (;;) {
		if (p < end && *p == '*') {
			star = ++p;
			resume = name;
		} else if (p == end && !*name) {
			return true;
		} else if (p < end && *name && *p == *name) {
			p++;
			name++;
		} else if (star && *resume) {
			p = star;
			name = ++resume;
		} else {
			return false;
		}
	}
}

/*
 * The trace option: whether this executable (its name as %e) is one to
 * trace; all are when the option is unset. One passed over is registered.
 */
static bool trace_selected(void)
{
	const char *name = strrchr(slp_st.exe, '/'), *s = slp_opt.trace;

	if (!s[0])
		return true;
	name = name ? name + 1 : slp_st.exe;
	while (*s) {
		const char *end = strchrnul(s, ',');

		if (end > s && name_matches(s, (size_t)(end - s), name))
			return true;
		s = *end ? end + 1 : end;
	}
	registry_add("untraced", name);
	return false;
}

/* Opens this process's log and writes its head. Returns false (warned) on failure. */
static bool open_log(void)
{
	int err = slp_writer_open();

	if (err) {
		slp_warn("cannot create the log %s (%s); this process is not traced",
			 slp_st.w.path, strerrorname_np(-err));
		return false;
	}
	start_clock();
	slp_stacks_reset();
	atomic_store(&slp_st.seq, 1);
	atomic_store(&slp_st.flush_due, slp_opt.flush_ms * 1000000u);
	if (!write_head()) {
		slp_warn("cannot write the log %s; this process is not traced", slp_st.w.path);
		slp_writer_close();
		return false;
	}
	if (slp_opt.verbose)
		slp_warn("tracing pid %d into %s", (int)slp_st.pid, slp_st.w.path);
	registry_add("log", slp_st.w.path);
	return true;
}

/*
 * fork() from a signal handler that interrupted this very thread inside
 * the shim (guard already set) must not take the locks this thread may
 * hold: then the parent goes on untouched and the child stops tracking.
 * Otherwise: close the loader gate (loader_gate.c). No stream needs to be
 * held: the child empties every one it inherits.
 */
static void fork_prepare(void)
{
	fork_entered = slp_guard_enter();
	if (!fork_entered)
		return;
	fork_traced = slp_on() && slp_opt.follow_fork;
	if (fork_traced)
		fork_drained = slp_loader_fork_prepare();
}

/*
 * daemon()'s fork: this process ends in glibc's internal _exit right after
 * (hooks_process.c), so its log is finished here. Should the fork have
 * failed, daemon() returns -1 and the process goes on untraced.
 */
static void fork_parent(void)
{
	if (!fork_entered)
		return;
	if (fork_traced)
		slp_loader_fork_parent();
	slp_guard_leave();
	if (slp_in_daemon && slp_on()) {
		slp_fini();
		if (slp_opt.verbose)
			slp_warn("pid %d ends inside daemon(): log finished", (int)slp_st.pid);
	}
}

/*
 * The child is single-threaded here and malloc works again (glibc runs the
 * child handlers after resetting its own locks, though not the loader's).
 */
static void fork_child(void)
{
	slp_tid = 0;
	slp_st.pid = getpid();
	if (!fork_entered) {
		/* the interrupted code may still append: its chunk must go nowhere */
		atomic_store(&slp_st.phase, SLP_PHASE_OFF);
		slp_writer_close();
		return;
	}
	slp_lock_reinit();
	slp_streams_fork_child(slp_stream_mine());
	slp_scan_fork_child();
	slp_sample_fork_child();
	slp_modules_fork_child();
	slp_unwind_fork_child();
	slp_st.dropped = 0;
	if (fork_traced && !slp_loader_fork_child(fork_drained)) {
		slp_st.loader_unusable = true;
		if (slp_opt.verbose)
			slp_warn("pid %d: forked while another thread was inside the dynamic "
				 "loader; this child records no stacks", (int)slp_st.pid);
	}
	if (slp_on()) {
		slp_writer_close(); /* our copy shares the parent's file */
		if (!fork_traced || !open_log())
			atomic_store(&slp_st.phase, SLP_PHASE_OFF);
	} else if (atomic_load(&slp_st.phase) == SLP_PHASE_DORMANT && !slp_opt.follow_fork) {
		atomic_store(&slp_st.phase, SLP_PHASE_OFF); /* a dormant child waits for its own signal */
	}
	slp_guard_leave();
}

static void atexit_handler(void)
{
	slp_fini();
}

/* One line at exit (slp_warn: on the stderr we started with only). */
static void say_where(void)
{
	if (slp_opt.quiet)
		return;
	slp_warn("%lu records in %s; analyze with: sliceleak report %s",
		 (unsigned long)slp_st.w.records, slp_st.w.path, slp_st.w.path);
}

/*
 * The whole start-up. Context: the first thread to get here, guard held,
 * phase is STARTING (we own it).
 */
/* Once per process image; returns whether snapshot_signal's handler is in place. */
static bool register_handlers(void)
{
	if (handlers_registered)
		return false;
	handlers_registered = true;
	pthread_atfork(fork_prepare, fork_parent, fork_child);
	atexit(atexit_handler);
	at_quick_exit(atexit_handler);
	return slp_snapshot_signal_setup(); /* once: a fork child inherits the handler */
}

/*
 * start=signal: no log, no recording until the signal (wake()); false, and
 * recording from now on, when there is no snapshot_signal to wait for.
 */
static bool start_later(void)
{
	if (!strcmp(slp_opt.start, "now"))
		return false;
	if (strcmp(slp_opt.start, "signal")) {
		slp_warn("SLICELEAK_OPTIONS: bad value for 'start', ignored (help=1 lists options)");
		return false;
	}
	if (register_handlers())
		return true;
	slp_warn("start=signal needs a snapshot_signal it can catch; recording from the start");
	return false;
}

static enum slp_phase start(void)
{
	if (getauxval(AT_SECURE)) {
		slp_st.inert = true; /* setuid/setgid/capabilities: never write files */
		return SLP_PHASE_OFF;
	}
	slp_resolve();
	slp_options_parse();
	if (slp_opt.help)
		slp_options_print_help();
	slp_st.page_size = (size_t)sysconf(_SC_PAGESIZE);
	slp_st.pid = getpid();
	slp_st.depth = (unsigned)slp_opt.depth;
	slp_sample_setup();
	learn_process();
	if (!trace_selected())
		return SLP_PHASE_OFF; /* passes through; an image it execs decides anew */
	slp_modules_find_self();
	find_interposer();
	slp_st.process_flags = slp_modules_exe_is_go() ? SLF_PROCESS_GO : 0;
	slp_unwind_setup();
	slp_streams_setup();
	if (start_later())
		return SLP_PHASE_DORMANT;
	if (!open_log())
		return SLP_PHASE_OFF;
	register_handlers();
	return SLP_PHASE_ON;
}

/*
 * start=signal: wakes up a dormant process on its first event after the
 * signal. Blocks allocated before are not in the log (PROCESS flags).
 */
static SLP_COLD bool wake(void)
{
	int dormant = SLP_PHASE_DORMANT;

	if (!atomic_compare_exchange_strong(&slp_st.phase, &dormant, SLP_PHASE_STARTING))
		return dormant == SLP_PHASE_ON;
	slp_st.process_flags |= SLF_PROCESS_LATE_START;
	atomic_store(&slp_st.phase, open_log() ? SLP_PHASE_ON : SLP_PHASE_OFF);
	if (slp_opt.verbose)
		slp_warn("pid %d: snapshot_signal came: recording from now on", (int)slp_st.pid);
	return slp_on();
}

/*
 * The first caller (constructor, or the first intercepted call if a library
 * constructor allocates before ours runs) starts tracking; everyone else
 * learns whether it is on. Events that arrive while another thread is
 * still starting are counted as dropped (END says how many).
 */
bool slp_ensure_started(void)
{
	int idle = atomic_load_explicit(&slp_st.phase, memory_order_relaxed);

	if (idle == SLP_PHASE_DORMANT) /* a plain load: dormant threads share no written line */
		return atomic_load_explicit(&slp_st.start_requested, memory_order_relaxed) && wake();
	if (idle == SLP_PHASE_IDLE && atomic_compare_exchange_strong(&slp_st.phase, &idle, SLP_PHASE_STARTING)) {
		atomic_store(&slp_st.phase, start());
		return slp_on();
	}
	if (idle == SLP_PHASE_STARTING)
		__atomic_fetch_add(&slp_st.dropped, 1, __ATOMIC_RELAXED);
	return idle == SLP_PHASE_ON;
}

/* END, at the top level: the CHUNK count is the reader's check. Context: file_lock held. */
static void write_end(void)
{
	uint8_t rec[1 + 3 * SLF_MAX_UV_LEN], *payload = rec + 1 + SLF_MAX_UV_LEN, *p, *h;

	p = slp_put_uv(payload, slp_st.w.chunks);
	p = slp_put_uv(p, __atomic_load_n(&slp_st.dropped, __ATOMIC_RELAXED));
	h = slp_writer_frame(SLF_REC_END, payload, (size_t)(p - payload));
	slp_writer_write(h, (size_t)(p - h));
}

/*
 * Writes every thread's records, the exit's pointer scan and END; later
 * events are not recorded. Idempotent: the thread that turns the phase
 * off finishes the log. The scan comes after every other thread's last
 * event (the phase is off, the events under way have ended), so it is the
 * last thing in the log's order before END, as at a single-threaded exit.
 * Context: any thread. Not from a signal handler that interrupted this
 * thread inside the shim (exit or _exit in a handler): its stream is
 * locked by the interrupted event, so the log is left as it is (truncated).
 */
void slp_fini(void)
{
	struct slp_exit_frame frame = { 0 };
	struct slp_stream *s;
	int on = SLP_PHASE_ON, dormant = SLP_PHASE_DORMANT;
	bool ok;

	if (!slp_guard_enter())
		return;
	if (slp_on() && slp_opt.scan) {
		/* both call the loader: before any stream is locked */
		slp_modules_sync(NULL, false); /* a dlopen'd object's globals are roots too */
		slp_unwind_exit_frame(&frame);
	}
	atomic_compare_exchange_strong(&slp_st.phase, &dormant, SLP_PHASE_OFF); /* never woke */
	if (atomic_compare_exchange_strong(&slp_st.phase, &on, SLP_PHASE_OFF)) {
		/* no event starts from now on; the ones under way end first */
		slp_streams_flush_all(NULL, true);
		if (slp_opt.scan && (s = slp_stream_own())) { /* the end is an evaluation point */
			slp_stream_event(s, slp_next_seq(), slp_now_ns());
			slp_scan_locked(s, &frame);
			slp_stream_flush(s);
			slp_stream_leave(s);
		}
		pthread_mutex_lock(&slp_st.file_lock);
		write_end();
		ok = slp_st.w.fd >= 0; /* else the final write failed: already warned */
		slp_writer_close();
		pthread_mutex_unlock(&slp_st.file_lock);
		if (ok)
			say_where();
		slp_unwind_report();
	}
	slp_guard_leave();
}

void slp_disable_locked(void)
{
	atomic_store(&slp_st.phase, SLP_PHASE_OFF);
	slp_writer_close();
}

__attribute__((constructor(101))) static void slp_constructor(void)
{
	bool entered = slp_guard_enter();

	slp_ensure_started();
	if (entered)
		slp_guard_leave();
}

__attribute__((destructor)) static void slp_destructor(void)
{
	slp_fini();
}
