/*
 * fork_child.c [exec] - fork, the child allocates and frees (one of them a
 * block its parent allocated, and 20000 blocks of 4321 bytes, many times
 * what the stream's buffer or region holds), then exits or execs /bin/true.
 *
 * Expected under the shim: two or three logs (parent; child; with "exec",
 * the exec'd image). The parent's ALLOC of 12345 bytes happened before the
 * fork and was not yet flushed: it appears in the parent's log only, never
 * in the child's. The child's PROCESS names the parent as ppid and holds
 * its own ALLOC of 54321 bytes and the 20000 ALLOCs of 4321, which are in
 * no other log (the child inherits the parent's mappings of its log, and
 * must not write into them). Every log ends with END. Exit 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "escape.h"

int main(int argc, char **argv)
{
	int do_exec = argc > 1 && strcmp(argv[1], "exec") == 0;
	char *before = escape(malloc(12345));
	pid_t pid;
	int status;

	if (!before)
		return 1;
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		char *mine = escape(malloc(54321));

		free(before); /* the parent's block: unknown to the child's log */
		free(mine);
		for (int i = 0; i < 20000; i++)
			free(escape(malloc(4321)));
		if (do_exec) {
			char *args[] = { "true", NULL };

			execv("/bin/true", args);
			_exit(127);
		}
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	printf("parent %d child %d %s\n", 1, 1, do_exec ? "exec" : "exit");
	free(before);
	return 0;
}
