/*
 * fd_hygiene.c [closed-child] - the shim never creates, closes, reads or
 * writes a file descriptor the program can see.
 *
 * Default: a daemon's start. Prints the fds below 1000 open at main, then
 * closes every fd above 2 (close_range), opens two data files (which get
 * fds 3 and 4) and raises SIGUSR1 a hundred times; the handler mallocs and
 * frees, and a stack captured inside a signal handler is the one the
 * shim's fast walk declines (libunwind does it). After each signal the
 * program appends to both files; at the end it checks that fds 3 and 4 are
 * still its files and hold exactly what it wrote, and prints its fds again.
 *
 * Then it forks a child that closes fds 0, 1 and 2 and execs this program
 * with "closed-child": started with no stdin/stdout/stderr, the new image
 * (traced too) reports on fd 9, a pipe to the parent, which fds below 1000
 * it has, and whether read(0) and write(1) fail with EBADF as they must.
 *
 * Expected under the shim: exactly the output and exit status of a plain
 * run (exit 0; "fds at start: 0 1 2", the child "fds: 9 ebadf ebadf").
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

#define FLOOR 1000 /* fds at or above it are the tracer's to use */

/* The fds below FLOOR, "a b c", into buf (read with getdents: no malloc'd DIR). */
static void low_fds(char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int fd = 0; fd < FLOOR; fd++)
		if (fcntl(fd, F_GETFD) >= 0 && n + 8 < size)
			n += (size_t)snprintf(buf + n, size - n, n ? " %d" : "%d", fd);
}

static void on_usr1(int sig)
{
	(void)sig;
	free(escape(malloc(333)));
}

/* The file at fd is still the one fstat'ed as want, and holds exactly text. */
static int intact(int fd, const struct stat *want, const char *text)
{
	char buf[8192];
	struct stat sb;
	ssize_t n;

	if (fstat(fd, &sb) != 0 || sb.st_dev != want->st_dev || sb.st_ino != want->st_ino)
		return 0;
	n = pread(fd, buf, sizeof(buf), 0);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

static int closed_child(void)
{
	char fds[4096], line[4200], c;
	int n;

	low_fds(fds, sizeof(fds));
	for (int i = 0; i < 20; i++)
		raise(SIGUSR1);
	errno = 0;
	n = snprintf(line, sizeof(line), "child fds: %s read0 %s write1 %s\n", fds,
		     read(0, &c, 1) < 0 && errno == EBADF ? "ebadf" : "OPEN",
		     write(1, "x", 1) < 0 && errno == EBADF ? "ebadf" : "OPEN");
	return write(9, line, (size_t)n) == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	static char text[2][8192];
	struct sigaction sa;
	struct stat st[2];
	char fds[4096], path[2][4096], buf[4096];
	int pfd[2], status, rc = 0;
	ssize_t n;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	if (argc > 1 && strcmp(argv[1], "closed-child") == 0)
		return closed_child();
	low_fds(fds, sizeof(fds));
	printf("fds at start: %s\n", fds);
	fflush(stdout);
	close_range(3, ~0U, 0);
	for (int k = 0; k < 2; k++) {
		int fd;

		snprintf(path[k], sizeof(path[k]), "fd_hygiene.%d.%d.txt", (int)getpid(), k);
		fd = open(path[k], O_RDWR | O_CREAT | O_TRUNC, 0600);
		if (fd != 3 + k || fstat(fd, &st[k]) != 0)
			return 3; /* lowest free fd */
		unlink(path[k]);
	}
	for (int i = 0; i < 100; i++) {
		raise(SIGUSR1);
		for (int k = 0; k < 2; k++) {
			char l[32];
			int len = snprintf(l, sizeof(l), "%d:%d\n", k, i);

			if (write(3 + k, l, (size_t)len) != len) {
				printf("write to fd %d failed at %d: %s\n", 3 + k, i, strerror(errno));
				return 4;
			}
			strcat(text[k], l);
		}
	}
	for (int k = 0; k < 2; k++)
		if (!intact(3 + k, &st[k], text[k])) {
			printf("fd %d is no longer the program's file, or holds foreign bytes\n", 3 + k);
			rc = 5;
		}
	low_fds(fds, sizeof(fds));
	printf("fds after the signals: %s\n", fds);
	fflush(stdout);
	if (pipe(pfd) != 0)
		return 6;
	pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 9);
		close(0);
		close(1);
		close(2);
		for (int fd = 3; fd < FLOOR; fd++)
			if (fd != 9)
				close(fd);
		execl("/proc/self/exe", argv[0], "closed-child", (char *)NULL);
		_exit(7);
	}
	close(pfd[1]);
	while ((n = read(pfd[0], buf, sizeof(buf) - 1)) > 0)
		fwrite(buf, 1, (size_t)n, stdout);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		rc = 8;
	return rc;
}
