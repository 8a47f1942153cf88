/*
 * preload/hooks_process.c - where a process image ends without exit():
 * exec and _exit. Finish this image's log first.
 *
 * exec: the new image inherits LD_PRELOAD and writes its own log; without
 * these wrappers the events still in our buffer would vanish with the old
 * image and its log would end without END. If exec fails the process goes
 * on untraced (its log is already complete). glibc's own execs (system,
 * posix_spawn) run in a child and do not need this.
 *
 * _exit/_Exit: skip atexit handlers, so the log is finished here (shells
 * and fork children use them).
 *
 * A vfork() child shares our memory but has its own pid: it must not close
 * its parent's log, so it calls straight through.
 */
#include <stdlib.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static void (*real_exit)(int);

static void before_exec(void)
{
	if (slp_on() && getpid() == slp_st.pid)
		slp_fini();
}

/* dlsym() may allocate: guarded, so that is not logged as the program's. */
static void resolve_exec(void)
{
	bool entered;

	if (real_execve && real_execvpe && real_exit)
		return;
	entered = slp_guard_enter();
	if (!slp_resolve_next(&real_execve, "execve") ||
	    !slp_resolve_next(&real_execvpe, "execvpe") || !slp_resolve_next(&real_exit, "_exit"))
		slp_die("execve/execvpe/_exit not found");
	if (entered)
		slp_guard_leave();
}

SLP_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	resolve_exec();
	before_exec();
	return real_execve(path, argv, envp);
}

SLP_EXPORT int execv(const char *path, char *const argv[])
{
	extern char **environ;

	resolve_exec();
	before_exec();
	return real_execve(path, argv, environ);
}

SLP_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	resolve_exec();
	before_exec();
	return real_execvpe(file, argv, envp);
}

SLP_EXPORT int execvp(const char *file, char *const argv[])
{
	extern char **environ;

	resolve_exec();
	before_exec();
	return real_execvpe(file, argv, environ);
}

SLP_EXPORT void _exit(int status)
{
	resolve_exec();
	before_exec();
	real_exit(status);
	__builtin_unreachable();
}

SLP_EXPORT void _Exit(int status)
{
	resolve_exec();
	before_exec();
	real_exit(status);
	__builtin_unreachable();
}
