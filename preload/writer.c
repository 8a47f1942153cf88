/*
 * preload/writer.c - the log file.
 *
 * The file holds the header, then top-level records only (format.h 2.x):
 * PROCESS, the threads' streams (stream.c), END. Where the file can be
 * mapped, each stream writes its records in place into a REGION of the
 * file reserved here (fallocate, so that no later page write can fail on
 * a full disk and raise SIGBUS in the program) and mapped MAP_SHARED:
 * every record is in the page cache as soon as it is committed, and a
 * killed process loses none. Where it cannot (fallocate unsupported, a
 * copy-on-write file system whose writes need new blocks, mmap refused,
 * the mmap option off) the whole log is written with write(2) as CHUNKs
 * when buffers fill, and a killed process loses what they held.
 * Top-level records go out with pwrite(2) at the file's end, whole,
 * under file_lock. Any failure (full disk, the file size limit, the
 * program closed or replaced our fd and the file is gone) stops tracking
 * with one warning; the program goes on.
 *
 * Context for everything here: the caller holds slp_st.file_lock (or is the
 * only thread: start-up, fork child) and the guard.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"


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
	/* read and write: a shared mapping needs both */
	return slp_open_high(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
}

/*
 * Whether the streams can write through shared mappings of fd: fallocate
 * works (a page write into reserved blocks cannot fail), the file system
 * does not copy on write (btrfs, ZFS, bcachefs need new blocks for an
 * overwrite, so a full disk could still raise SIGBUS in the program), and
 * the file maps.
 */
static bool can_map(int fd)
{
	static const long cow[] = { 0x9123683e /* btrfs */, 0x2fc12fc1 /* zfs */,
				    (long)0xca451a4e /* bcachefs */ };
	struct statfs fs;
	void *m;

	if (!slp_opt.mmap || fstatfs(fd, &fs) != 0)
		return false;
	for (size_t i = 0; i < SLP_ARRAY_SIZE(cow); i++)
		if ((long)fs.f_type == cow[i])
			return false;
	if (fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 1) != 0)
		return false;
	m = mmap(NULL, slp_st.page_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		return false;
	munmap(m, slp_st.page_size);
	return true;
}

int slp_fd_high(int fd)
{
	int high;

	if (fd < 0 || fd >= SLP_FD_FLOOR)
		return fd;
	high = fcntl(fd, F_DUPFD_CLOEXEC, SLP_FD_FLOOR);
	if (high < 0)
		high = fcntl(fd, F_DUPFD_CLOEXEC, 100); /* low RLIMIT_NOFILE */
	if (high < 0)
		return fd;
	close(fd);
	return high;
}

int slp_open_high(const char *path, int flags, unsigned mode)
{
	return slp_fd_high(open(path, flags | O_CLOEXEC, mode));
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
	if (fstat(fd, &sb) < 0) {
		close(fd);
		return -EIO;
	}
	w->fd = fd;
	w->dev = sb.st_dev;
	w->ino = sb.st_ino;
	w->chunks = 0;
	w->records = 0;
	w->end = 0;
	w->tail = NULL;
	w->mapped = can_map(fd);
	if (slp_opt.verbose)
		slp_warn("%s: %s", w->path, w->mapped ? "streams written through shared mappings"
						      : "streams written with write(2)");
	slp_streams_log_opened();
	memcpy(hdr.magic, SLF_MAGIC, SLF_MAGIC_LEN);
	slp_writer_write((const uint8_t *)&hdr, sizeof(hdr));
	return w->fd >= 0 ? 0 : -EIO;
}

/*
 * The pwritev(2) loop at the file's end: EINTR and short writes. iov holds
 * cnt (1 or 2) pieces, n bytes in all. Returns 0 or -errno.
 */
static int write_all(int fd, const struct iovec *iov, int cnt, size_t n)
{
	off_t off = (off_t)slp_st.w.end;
	struct iovec v[2];

	memcpy(v, iov, (size_t)cnt * sizeof(*v));
	while (n) {
		ssize_t k = pwritev(fd, v, cnt, off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			return -EIO;
		off += k;
		n -= (size_t)k;
		for (size_t done = (size_t)k; done;) {
			size_t t = done < v[0].iov_len ? done : v[0].iov_len;

			v[0].iov_base = (uint8_t *)v[0].iov_base + t;
			v[0].iov_len -= t;
			done -= t;
			if (!v[0].iov_len && cnt > 1)
				v[0] = v[1], cnt = 1;
		}
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
	int fd = slp_open_high(w->path, O_RDWR | O_NOFOLLOW, 0);

	w->fd = -1;
	if (fd < 0)
		return false;
	if (fstat(fd, &sb) < 0 || sb.st_dev != w->dev || sb.st_ino != w->ino) {
		close(fd);
		return false;
	}
	w->fd = fd;
	if (slp_opt.verbose)
		slp_warn("%s: the program closed the log's file descriptor; reopened", w->path);
	return true;
}

/* fallocate(2) of [end, end + n): the file grows by n bytes. Returns 0 or -errno. */
static int extend(int fd, const struct iovec *unused, int cnt, size_t n)
{
	(void)unused;
	(void)cnt;
	while (fallocate(fd, 0, (off_t)slp_st.w.end, (off_t)n) != 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

/*
 * RLIMIT_FSIZE (`ulimit -f`): a write or fallocate past it fails with
 * EFBIG and the kernel sends SIGXFSZ, whose default action ends the
 * program, to the calling thread. So the log stops short of the limit: a
 * growth that would cross it is not made (one warning, tracking stops, the
 * log is cut like a killed process's). A limit lowered by another thread
 * meanwhile is caught too: SIGXFSZ is blocked across the call, and one it
 * raised is taken back before unblocking (unless the program already had
 * one pending). `op` writes or reserves n bytes at the file's end.
 * Returns 0, or -EFBIG when the limit stops the log here.
 */
typedef int grow_op(int fd, const struct iovec *iov, int cnt, size_t n);

static int grow_limited(int fd, grow_op *op, const struct iovec *iov, int cnt, size_t n)
{
	struct rlimit rl;
	sigset_t xfsz, old, pending;
	int err, had;

	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return op(fd, iov, cnt, n);
	if (slp_st.w.end + n > (uint64_t)rl.rlim_cur)
		return -EFBIG;
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, &old);
	had = sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ);
	err = op(fd, iov, cnt, n);
	if (err == -EFBIG && !had) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&xfsz, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

/* Our fd still is our file, or it was reopened by name. False: warned, tracking stopped. */
static bool fd_ours(void)
{
	struct slp_writer *w = &slp_st.w;
	struct stat sb;

	if (SLP_LIKELY(fstat(w->fd, &sb) == 0 && sb.st_dev == w->dev && sb.st_ino == w->ino))
		return true;
	if (reopen())
		return true;
	slp_warn("%s: the program closed the log's file descriptor and the file is gone; "
		 "tracking stopped", w->path);
	slp_disable_locked();
	return false;
}

/* Grows the log by n bytes with op (write or reserve). Returns 0, else warned and off. */
static int grow(grow_op *op, const struct iovec *iov, int cnt, size_t n)
{
	struct slp_writer *w = &slp_st.w;
	int err;

	if (w->fd < 0)
		return -EBADF; /* tracking is off: the bytes go nowhere */
	if (!fd_ours())
		return -EBADF;
	err = grow_limited(w->fd, op, iov, cnt, n);
	if (err == -EFBIG) {
		slp_warn("%s: the file size limit (RLIMIT_FSIZE, `ulimit -f`) is reached; tracking "
			 "stopped, the log is truncated", w->path);
		slp_disable_locked();
	} else if (err) {
		slp_warn("%s: write failed (%s); tracking stopped, the log is truncated", w->path,
			 strerrorname_np(-err));
		slp_disable_locked();
	} else {
		w->end += n;
	}
	return err;
}

void slp_writer_write(const uint8_t *p, size_t n)
{
	struct iovec v = { (void *)p, n };
	int saved = errno;

	grow(write_all, &v, 1, n);
	errno = saved;
}

bool slp_writer_write2(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
	struct iovec v[2] = { { (void *)a, na }, { (void *)b, nb } };
	int saved = errno;
	bool ok = grow(write_all, v, 2, na + nb) == 0;

	errno = saved;
	return ok;
}

uint64_t slp_writer_reserve(uint64_t off, size_t n, uint8_t **map, size_t *map_len,
			    uint64_t *map_off)
{
	struct slp_writer *w = &slp_st.w;
	size_t ps = slp_st.page_size;
	int saved = errno;
	void *m;

	SLP_ASSERT(off <= w->end && off + n > w->end);
	if (grow(extend, NULL, 0, off + n - w->end) != 0) {
		errno = saved;
		return UINT64_MAX;
	}
	*map_off = off & ~(uint64_t)(ps - 1);
	*map_len = (size_t)((off + n + ps - 1) / ps * ps - *map_off);
	m = mmap(NULL, *map_len, PROT_READ | PROT_WRITE, MAP_SHARED, w->fd, (off_t)*map_off);
	if (m == MAP_FAILED) {
		slp_warn("%s: cannot map the log (%s); tracking stopped, the log is truncated",
			 w->path, strerrorname_np(errno));
		slp_disable_locked();
		errno = saved;
		return UINT64_MAX;
	}
	*map = m;
	madvise(m, *map_len, MADV_RANDOM);
	madvise(m, *map_len, MADV_POPULATE_WRITE);
	errno = saved;
	return off;
}

void slp_writer_truncate(uint64_t end)
{
	struct slp_writer *w = &slp_st.w;
	int saved = errno;

	if (w->fd >= 0 && end < w->end && fd_ours() && ftruncate(w->fd, (off_t)end) == 0)
		w->end = end;
	errno = saved;
}

size_t slp_writer_pad(size_t len)
{
	uint8_t tmp[SLF_MAX_UV_LEN];

	while ((slp_st.w.end + 1 + slf_put_uv(tmp, len) + len) % 8)
		len++;
	return len;
}

uint8_t *slp_writer_frame(unsigned kind, uint8_t *payload, size_t len)
{
	uint8_t tmp[SLF_MAX_UV_LEN];
	size_t n = slf_put_uv(tmp, len);
	uint8_t *h = payload - n;

	memcpy(h, tmp, n);
	*--h = (uint8_t)kind;
	return h;
}

/* close() is a cancellation point. */
void slp_writer_close(void)
{
	int cancel;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel);
	if (slp_st.w.fd >= 0)
		close(slp_st.w.fd);
	slp_st.w.fd = -1;
	pthread_setcancelstate(cancel, NULL);
}
