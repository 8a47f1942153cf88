/*
 * preload/hooks_process.c - where a process image ends without exit():
 * the exec family, _exit, quick_exit and daemon(). Finish this image's log
 * first.
 *
 * exec: the new image inherits LD_PRELOAD and writes its own log; without
 * these wrappers the events still in our buffer would vanish with the old
 * image and its log would end without END. Every exported exec entry point
 * is wrapped (glibc's execl, execle, execlp, fexecve and execveat call its
 * internal execve, never ours). If exec fails the process goes on untraced
 * (its log is already complete). glibc's own execs (system, popen,
 * posix_spawn) run in a child and do not need this.
 *
 * _exit/_Exit: skip atexit handlers, so the log is finished here (shells
 * and fork children use them). quick_exit() ends with glibc's internal
 * _exit: our at_quick_exit handler (lifecycle.c) finishes the log after the
 * program's own handlers, as the atexit one does for exit().
 *
 * daemon(): the original process forks and ends in glibc's internal _exit.
 * The fork's parent handler (lifecycle.c) finishes the log when the fork
 * was daemon()'s; the daemon itself is a fork child with a log of its own.
 *
 * A vfork() child shares our memory but has its own pid: it must not close
 * its parent's log, so it calls straight through.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"

static int (*real_execve)(const char *, char *const[], char *const[]);
static int (*real_execvpe)(const char *, char *const[], char *const[]);
static void (*real_exit)(int);
static int (*real_fexecve)(int, char *const[], char *const[]);
static int (*real_daemon)(int, int);

_Thread_local bool slp_in_daemon __attribute__((tls_model("initial-exec")));

static void before_exec(void)
{
	if (slp_on() && getpid() == slp_st.pid)
		slp_fini();
}

/* dlsym() may allocate: guarded, so that is not logged as the program's. */
static void resolve_exec(void)
{
	bool entered;

	if (real_daemon)
		return;
	entered = slp_guard_enter();
	if (!slp_resolve_next(&real_execve, "execve") ||
	    !slp_resolve_next(&real_execvpe, "execvpe") || !slp_resolve_next(&real_exit, "_exit") ||
	    !slp_resolve_next(&real_fexecve, "fexecve") || !slp_resolve_next(&real_daemon, "daemon"))
		slp_die("execve/execvpe/fexecve/daemon/_exit not found");
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

enum exec_list { EXEC_L, EXEC_LE, EXEC_LP };

/*
 * execl, execle, execlp: the argument list becomes an array on the stack,
 * as glibc builds it, then the exec is the one execv/execve/execvpe make.
 */
static int exec_list(enum exec_list how, const char *path, const char *arg, va_list ap)
{
	extern char **environ;
	char **argv, **envp = environ;
	size_t argc = 1; /* arg, then every argument up to the NULL */
	va_list count;

	va_copy(count, ap);
	while (va_arg(count, char *))
		if (++argc == INT_MAX) {
			va_end(count);
			errno = E2BIG;
			return -1;
		}
	va_end(count);
	argv = __builtin_alloca((argc + 1) * sizeof(*argv));
	argv[0] = (char *)arg;
	for (size_t i = 1; i <= argc; i++) /* the NULL too */
		argv[i] = va_arg(ap, char *);
	if (how == EXEC_LE)
		envp = va_arg(ap, char **);
	resolve_exec();
	before_exec();
	return how == EXEC_LP ? real_execvpe(path, argv, envp) : real_execve(path, argv, envp);
}

SLP_EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_L, path, arg, ap);
	va_end(ap);
	return rc;
}

SLP_EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_LE, path, arg, ap);
	va_end(ap);
	return rc;
}

SLP_EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	int rc;

	va_start(ap, arg);
	rc = exec_list(EXEC_LP, file, arg, ap);
	va_end(ap);
	return rc;
}

SLP_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	resolve_exec();
	before_exec();
	return real_fexecve(fd, argv, envp);
}

/* The system call itself: glibc < 2.34 has no wrapper to forward to. */
SLP_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[],
			int flags)
{
	resolve_exec();
	before_exec();
	return (int)syscall(SYS_execveat, dirfd, path, argv, envp, flags);
}

/* The fork inside it ends the log of the process that goes (lifecycle.c). */
SLP_EXPORT int daemon(int nochdir, int noclose)
{
	int rc, err;

	resolve_exec();
	slp_in_daemon = true;
	rc = real_daemon(nochdir, noclose);
	err = errno;
	slp_in_daemon = false;
	errno = err;
	return rc;
}
