/*
 * preload/writer.c - the log file.
 *
 * The file holds the header, then top-level records only (format.h 2.x):
 * PROCESS, the threads' CHUNKs (stream.c) as they fill, END. Each write(2)
 * carries whole records under file_lock, so a killed process leaves whole
 * chunks up to its last write. Any write failure (full disk, the file size
 * limit, the program closed or replaced our fd) stops tracking with one
 * warning; the program goes on.
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
	return slp_open_high(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
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
	memcpy(hdr.magic, SLF_MAGIC, SLF_MAGIC_LEN);
	slp_writer_write((const uint8_t *)&hdr, sizeof(hdr));
	return w->fd >= 0 ? 0 : -EIO;
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
	int fd = slp_open_high(w->path, O_WRONLY | O_APPEND | O_NOFOLLOW, 0);

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

/*
 * RLIMIT_FSIZE (`ulimit -f`): a write past it fails with EFBIG and the
 * kernel sends SIGXFSZ, whose default action ends the program, to the
 * writing thread. So the log stops short of the limit: a write that would
 * cross it is not made (one warning, tracking stops, the log is cut like a
 * killed process's). A limit lowered by another thread meanwhile is caught
 * too: SIGXFSZ is blocked across the write, and one it raised is taken
 * back before unblocking (unless the program already had one pending).
 * Returns 0, or -EFBIG when the limit stops the log here.
 */
static int write_limited(int fd, off_t size, const uint8_t *p, size_t n)
{
	struct rlimit rl;
	sigset_t xfsz, old, pending;
	int err, had;

	if (getrlimit(RLIMIT_FSIZE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return write_all(fd, p, n);
	if ((uint64_t)size + n > (uint64_t)rl.rlim_cur)
		return -EFBIG;
	sigemptyset(&xfsz);
	sigaddset(&xfsz, SIGXFSZ);
	pthread_sigmask(SIG_BLOCK, &xfsz, &old);
	had = sigpending(&pending) == 0 && sigismember(&pending, SIGXFSZ);
	err = write_all(fd, p, n);
	if (err == -EFBIG && !had) {
		struct timespec zero = { 0, 0 };

		sigtimedwait(&xfsz, NULL, &zero);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

void slp_writer_write(const uint8_t *p, size_t n)
{
	struct slp_writer *w = &slp_st.w;
	struct stat sb;
	int err, saved = errno;

	if (w->fd < 0)
		return; /* tracking is off: the bytes go nowhere */
	if (SLP_UNLIKELY(fstat(w->fd, &sb) < 0 || sb.st_dev != w->dev || sb.st_ino != w->ino) &&
	    (!reopen() || fstat(w->fd, &sb) < 0)) {
		slp_warn("%s: the program closed the log's file descriptor and the file is gone; "
			 "tracking stopped", w->path);
		slp_disable_locked();
		errno = saved;
		return;
	}
	err = write_limited(w->fd, sb.st_size, p, n);
	if (err == -EFBIG) {
		slp_warn("%s: the file size limit (RLIMIT_FSIZE, `ulimit -f`) is reached; tracking "
			 "stopped, the log is truncated", w->path);
		slp_disable_locked();
	} else if (err) {
		slp_warn("%s: write failed (%s); tracking stopped, the log is truncated", w->path,
			 strerrorname_np(-err));
		slp_disable_locked();
	}
	errno = saved;
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
