/*
 * main_thread_exit.c [seccomp] - main calls pthread_exit; the other thread
 * waits until main is gone (the thread group leader a zombie), allocates,
 * and returns: glibc then ends the process with exit(0) from that thread.
 *
 * Before: the global `held` points to a block of 31337 bytes (reachable),
 * a block of 27182 bytes is leaked (its only pointer overwritten).
 * "seccomp": process_vm_readv fails with EPERM, as under Docker's default
 * seccomp profile (no CAP_SYS_PTRACE); "seccomp-all": pread too, so the
 * shim has no way left to read memory without touching it.
 *
 * Expected under the shim: a complete log whose exit scan reads the
 * globals (a pair at &held pointing to the 31337-byte block) and says
 * whether it could read everything it meant to; the analyzer calls the
 * 27182 bytes a direct leak and the 31337 bytes reachable. Output
 * "held 0x... at 0x..." then "done". Exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "escape.h"

void *volatile held;
static pid_t leader;

/* process_vm_readv (and pread) -> EPERM, everything else allowed. */
static int deny_reads(int also_pread)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, also_pread ? SYS_pread64 : SYS_process_vm_readv,
			 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof(f) / sizeof(f[0]), f };

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* The leader's state letter from /proc/self/task/<leader>/stat ('Z' once it exited). */
static char leader_state(void)
{
	char path[64], buf[512], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)leader);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 'X';
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 'X';
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

static void *outlive_main(void *arg)
{
	struct timespec tick = { 0, 10 * 1000 * 1000 };
	void *p;

	(void)arg;
	for (int i = 0; i < 3000 && leader_state() != 'Z' && leader_state() != 'X'; i++)
		nanosleep(&tick, NULL);
	p = escape(malloc(777));
	free(p);
	printf("done\n");
	fflush(stdout);
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t t;
	void *lost;

	if (argc > 1 && strncmp(argv[1], "seccomp", 7) == 0 &&
	    deny_reads(strcmp(argv[1], "seccomp-all") == 0) != 0) {
		perror("seccomp");
		return 1;
	}
	leader = getpid();
	held = malloc(31337);
	lost = escape(malloc(27182));
	lost = escape(NULL);
	printf("held %p at %p\n", held, (void *)&held);
	fflush(stdout);
	if (pthread_create(&t, NULL, outlive_main, lost) != 0)
		return 1;
	pthread_exit(NULL);
}
