/*
 * process_end.c MODE - every way this process image can end or be
 * replaced, after planting a leak of 3 x 4242 bytes (kept in a global).
 *
 * MODE: execl execlp execle execv execvpe fexecve execveat (the new image is
 * this program with "second", or `true` found in PATH for execlp),
 * quick_exit (an at_quick_exit handler frees one block first), daemon (the
 * original process ends inside daemon(); the daemon allocates 6666 bytes),
 * vfork (the vfork child execs), posix_spawn, system (the parent waits and
 * returns from main), _Exit.
 *
 * Expected under the shim: the first image's log is complete (END) and
 * holds the three ALLOCs of 4242 bytes; with quick_exit also the handler's
 * FREE of one of them, before END. Every other image writes its own
 * complete log. Output "first MODE", then "second" where a second image
 * runs, "daemon" from the daemon. Exit status: 7 for quick_exit and _Exit,
 * else 0.
 */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

extern char **environ;

static void *planted[3];

static void on_quick_exit(void)
{
	free(planted[2]);
	planted[2] = NULL;
}

static int second(void)
{
	void *p = escape(malloc(5555));

	printf("second\n");
	free(p);
	return 0;
}

static int run_daemon(void)
{
	void *p;

	if (daemon(1, 1) != 0) {
		perror("daemon");
		return 1;
	}
	p = escape(malloc(6666));
	printf("daemon\n");
	fflush(stdout);
	free(p);
	return 0;
}

static int wait_child(pid_t pid)
{
	int status;

	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	char *args[] = { argv[0], "second", NULL };

	if (strcmp(mode, "second") == 0)
		return second();
	for (int i = 0; i < 3; i++)
		planted[i] = escape(malloc(4242));
	printf("first %s\n", mode);
	fflush(stdout);
	if (strcmp(mode, "execl") == 0) {
		execl("/proc/self/exe", argv[0], "second", (char *)NULL);
	} else if (strcmp(mode, "execlp") == 0) {
		execlp("true", "true", (char *)NULL);
	} else if (strcmp(mode, "execle") == 0) {
		execle("/proc/self/exe", argv[0], "second", (char *)NULL, environ);
	} else if (strcmp(mode, "execv") == 0) {
		execv("/proc/self/exe", args);
	} else if (strcmp(mode, "execvpe") == 0) {
		execvpe("/proc/self/exe", args, environ);
	} else if (strcmp(mode, "fexecve") == 0) {
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		fexecve(fd, args, environ);
	} else if (strcmp(mode, "execveat") == 0) {
		int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

		execveat(fd, "", args, environ, AT_EMPTY_PATH);
	} else if (strcmp(mode, "quick_exit") == 0) {
		at_quick_exit(on_quick_exit);
		quick_exit(7);
	} else if (strcmp(mode, "_Exit") == 0) {
		_Exit(7);
	} else if (strcmp(mode, "daemon") == 0) {
		return run_daemon();
	} else if (strcmp(mode, "vfork") == 0) {
		pid_t pid = vfork();

		if (pid == 0) {
			execv("/proc/self/exe", args);
			_exit(127);
		}
		return wait_child(pid);
	} else if (strcmp(mode, "posix_spawn") == 0) {
		pid_t pid;

		if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, args, environ) != 0)
			return 1;
		return wait_child(pid);
	} else if (strcmp(mode, "system") == 0) {
		char cmd[4200];

		snprintf(cmd, sizeof(cmd), "'%s' second", argv[0]);
		return system(cmd) == 0 ? 0 : 1;
	} else {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	perror(mode);
	return 1;
}
