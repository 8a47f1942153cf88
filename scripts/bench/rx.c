/*
 * scripts/bench/rx.c - run a command, report what it cost.
 *
 *   rx OUTFILE CMD ARGS...
 *
 * forks, execs CMD, waits for it with wait4() and writes one line to OUTFILE:
 *   wall_s=.. user_s=.. sys_s=.. maxrss_kib=.. status=exit:N|signal:N
 * then exits like CMD did (128+N for a signal). maxrss_kib is the peak RSS of
 * CMD itself or, if larger, of any descendant CMD waited for.
 *
 * It is linked statically on purpose: a static executable ignores LD_PRELOAD,
 * so `LD_PRELOAD=tracker.so rx out ./prog` and `heaptrack rx out ./prog`
 * trace ./prog and only ./prog, and rx measures exactly the traced process.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct timespec t0, t1;
	struct rusage ru;
	int status;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: rx OUTFILE CMD ARGS...\n");
		return 127;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid = fork();
	if (pid < 0) {
		perror("rx: fork");
		return 127;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		fprintf(stderr, "rx: %s: %s\n", argv[2], strerror(errno));
		_exit(127);
	}
	signal(SIGINT, SIG_IGN);
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("rx: wait4");
			return 127;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);

	FILE *f = fopen(argv[1], "w");
	if (f) {
		char st[32];
		if (WIFSIGNALED(status))
			snprintf(st, sizeof st, "signal:%d", WTERMSIG(status));
		else
			snprintf(st, sizeof st, "exit:%d", WEXITSTATUS(status));
		fprintf(f, "wall_s=%.6f user_s=%.6f sys_s=%.6f maxrss_kib=%ld status=%s\n",
			(double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
			(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
			(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6,
			ru.ru_maxrss, st);
		fclose(f);
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
