/*
 * preload/writer.c - the log file, its buffer and the record encoding.
 *
 * One buffer and one ordered stream for the whole process: every record is
 * appended under slp_st.lock, so the file order is the order in which the
 * events were serialised (format.h, "Order"). The buffer goes out with
 * write(2) when full, at snapshots, at fork, at exit and when flush_ms
 * passed since the last flush (checked when the clock ticks); a record is never
 * split between two writes, so a killed process leaves whole records up to
 * its last flush.
 *
 * Context for everything here: the caller holds slp_st.lock (or is the
 * only thread: start-up, fork child) and the guard.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

#define HIGH_FD 1000 /* far from the low fds that programs close or dup2 over */
#define REC_HDR_MAX 4 /* kind byte + a length varint up to SLF_MAX_PAYLOAD */

static uint8_t *rec_open; /* start of the record being encoded */

/*
 * Expands the output template into dst: %p pid, %e executable name, %% a
 * percent sign. A relative result is made absolute against the starting
 * directory, so a later chdir() of the program moves nothing.
 */
static void expand_path(char *dst, size_t size, const char *tmpl, pid_t pid)
{
	const char *base = strrchr(slp_st.exe, '/');
	size_t n = 0;

	base = base ? base + 1 : slp_st.exe;
	if (tmpl[0] != '/' && slp_st.cwd[0])
		n = slp_format(dst, size, "%s/", slp_st.cwd);
	for (const char *t = tmpl; *t && n + 1 < size; t++) {
		if (t[0] == '%' && t[1] == 'p') {
			n += slp_format(dst + n, size - n, "%d", (int)pid);
			t++;
		} else if (t[0] == '%' && t[1] == 'e') {
			n += slp_format(dst + n, size - n, "%s", base[0] ? base : "unknown");
			t++;
		} else if (t[0] == '%' && t[1] == '%') {
			dst[n++] = '%';
			t++;
		} else {
			dst[n++] = *t;
		}
	}
	dst[n < size ? n : size - 1] = '\0';
}

static int create_log(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

/* Moves fd to a high number with close-on-exec; returns the fd to use. */
static int move_high(int fd)
{
	int high = fcntl(fd, F_DUPFD_CLOEXEC, HIGH_FD);

	if (high < 0)
		high = fcntl(fd, F_DUPFD_CLOEXEC, 100); /* low RLIMIT_NOFILE */
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

/*
 * Creates this process's log (never following a symlink, never clobbering)
 * and writes the file header. If the name is taken, <name>.1, <name>.2, ...
 * are tried: a template without %p, or an exec that keeps the pid and the
 * executable name, still gets a log of its own.
 * Returns 0 or -errno (the caller warns and stays off).
 */
int slp_writer_open(void)
{
	struct slf_file_header hdr = { .major = SLF_VERSION_MAJOR, .minor = SLF_VERSION_MINOR };
	struct slp_writer *w = &slp_st.w;
	struct stat sb;
	int fd;

	expand_path(w->path, sizeof(w->path), slp_opt.output, slp_st.pid);
	fd = create_log(w->path);
	if (fd < 0 && errno == EEXIST) {
		size_t n = strlen(w->path);

		/* exec keeps the pid: `sh -c 'exec sh -c ...'` needs more than one try */
		for (unsigned k = 1; fd < 0 && errno == EEXIST && k < 1000; k++) {
			slp_format(w->path + n, sizeof(w->path) - n, ".%u", k);
			fd = create_log(w->path);
		}
	}
	if (fd < 0)
		return -errno;
	fd = move_high(fd);
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -EIO;
	}
	w->fd = fd;
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;
	if (!w->buf) {
		size_t size = slp_opt.buffer_kib * 1024;
		void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);

		if (buf == MAP_FAILED) {
			close(fd);
			w->fd = -1;
			return -ENOMEM;
		}
		w->buf = buf;
		w->size = size;
	}
	memcpy(hdr.magic, SLF_MAGIC, SLF_MAGIC_LEN);
	memcpy(w->buf, &hdr, sizeof(hdr));
	w->used = sizeof(hdr);
	w->prev_addr = 0;
	w->tid = 0;
	w->time_ns = 0;
	w->records = 0;
	w->flush_due = slp_opt.flush_ms * 1000000u;
	w->heap_lo = UINT64_MAX; /* a new log (fork child): only its own blocks count */
	w->heap_hi = 0;
	return 0;
}

/* Forgets unwritten bytes (a fork child must not repeat its parent's events). */
void slp_writer_drop_buffer(void)
{
	slp_st.w.used = 0;
}

/* The write(2) loop: EINTR and short writes. Returns 0 or -errno. */
static int write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/*
 * The program closed our fd (closefrom, close_range, a daemon's "close
 * everything") or put another file on its number. That number is not ours
 * any more: never write or close it. Reopen our own file by name, append
 * only, and accept it only if it is the very file we created.
 */
static bool reopen(void)
{
	struct slp_writer *w = &slp_st.w;
	struct stat sb;
	int fd = open(w->path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);

	w->fd = -1;
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) < 0 || sb.st_dev != w->dev || sb.st_ino != w->ino) {
		close(fd);
		return false;
	}
	w->fd = move_high(fd);
	if (slp_opt.verbose)
		slp_warn("%s: the program closed the log's file descriptor; reopened", w->path);
	return true;
}

/* The body of slp_writer_flush(): w->fd is open, the buffer is not empty. */
static void flush_out(void)
{
	struct slp_writer *w = &slp_st.w;
	struct stat sb;
	int err;

	if (SLP_UNLIKELY(fstat(w->fd, &sb) < 0 || sb.st_dev != w->dev || sb.st_ino != w->ino) &&
	    !reopen()) {
		slp_warn("%s: the program closed the log's file descriptor and the file is gone; "
			 "tracking stopped", w->path);
		slp_disable_locked();
		return;
	}
	err = write_all(w->fd, w->buf, w->used);
	w->used = 0;
	if (err) {
		slp_warn("%s: write failed (%s); tracking stopped, the log is truncated", w->path,
			 strerrorname_np(-err));
		slp_disable_locked();
	}
}

/*
 * Writes the buffer out. On any failure (full disk, the program closed or
 * replaced our fd) tracking stops with one warning and the program goes on.
 */
void slp_writer_flush(void)
{
	struct slp_writer *w = &slp_st.w;
	int saved = errno, cancel;

	if (w->fd < 0) {
		w->used = 0; /* tracking is off: keep slp_rec_begin() inside the buffer */
		return;
	}
	if (w->used == 0)
		return;
	/*
	 * write() and open() are cancellation points and the caller holds the
	 * writer lock: a thread cancelled here would leave it locked and every
	 * other thread hung in its next malloc.
	 */
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	flush_out();
	pthread_setcancelstate(cancel, NULL);
	errno = saved;
}

/* close() is a cancellation point too (see slp_writer_flush()). */
void slp_writer_close(void)
{
	int cancel;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (slp_st.w.fd >= 0)
		close(slp_st.w.fd);
	slp_st.w.fd = -1;
	pthread_setcancelstate(cancel, NULL);
}

/*
 * Opens a record of kind with room for max_payload bytes and returns where
 * the payload goes. The payload is encoded at p + 2, assuming a one-byte
 * length; slp_rec_end() moves it when it turned out longer.
 */
uint8_t *slp_rec_begin(unsigned kind, size_t max_payload)
{
	struct slp_writer *w = &slp_st.w;

	if (SLP_UNLIKELY(w->size - w->used < max_payload + REC_HDR_MAX))
		slp_writer_flush();
	rec_open = w->buf + w->used;
	rec_open[0] = (uint8_t)kind;
	return rec_open + 2;
}

void slp_rec_end(uint8_t *end)
{
	struct slp_writer *w = &slp_st.w;
	size_t len = (size_t)(end - (rec_open + 2));

	if (SLP_LIKELY(len < 0x80)) {
		rec_open[1] = (uint8_t)len;
		w->used += 2 + len;
	} else {
		uint8_t tmp[SLF_MAX_UV_LEN];
		size_t n = slf_put_uv(tmp, len);

		memmove(rec_open + 1 + n, rec_open + 2, len);
		memcpy(rec_open + 1, tmp, n);
		w->used += 1 + n + len;
	}
	w->records++;
}

uint8_t *slp_put_str(uint8_t *p, const void *s, size_t n)
{
	p = slp_put_uv(p, n);
	memcpy(p, s, n);
	return p + n;
}

/*
 * The decoding context of the next record: THREAD when another thread
 * wrote last, TIME when the clock moved on.
 */
void slp_writer_context(uint32_t tid, uint64_t now_ns)
{
	struct slp_writer *w = &slp_st.w;
	uint8_t *p;

	if (w->tid != tid) {
		p = slp_rec_begin(SLF_REC_THREAD, SLF_MAX_UV_LEN);
		slp_rec_end(slp_put_uv(p, tid));
		w->tid = tid;
	}
	if (now_ns > w->time_ns) {
		/*
		 * A quiet process (a server between requests) must not keep
		 * minutes of events in memory, where SIGKILL would lose them.
		 */
		if (SLP_UNLIKELY(now_ns >= w->flush_due) && slp_opt.flush_ms) {
			slp_writer_flush();
			w->flush_due = now_ns + slp_opt.flush_ms * 1000000u;
		}
		p = slp_rec_begin(SLF_REC_TIME, SLF_MAX_UV_LEN);
		slp_rec_end(slp_put_uv(p, now_ns));
		w->time_ns = now_ns;
	}
}
