/*
 * preload/snapshot_signal.c - snapshot_signal=SIGNAME: a snapshot labelled
 * "signal" on each delivery of that signal, for the long-running programs
 * whose code cannot call sliceleak_snapshot() (`kill -USR2 <pid>`).
 *
 * The program's own signal handling comes first. At start-up the handler
 * is installed only when the signal has its default disposition; a
 * program that already handles or ignores it (a handler set before us,
 * SIG_IGN inherited from a nohup) keeps it, and the option says so on
 * stderr and does nothing. A handler the program installs later simply
 * replaces ours: the signal is the program's from then on.
 *
 * The handler runs wherever the signal lands, possibly inside libc's
 * malloc: it records the snapshot without a stack (no unwinding, which may
 * allocate), only when this thread is not inside the shim already (the
 * guard), and keeps errno (slp_record_snapshot does). SA_RESTART: the
 * program's interrupted system calls resume as if nothing happened.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "guard.h"
#include "internal.h"

/* "SIGUSR2", "USR2", "12" or "SIGRTMIN+3" -> the number, 0 when it is none. */
static int parse_signal(const char *name)
{
	const char *s = strncmp(name, "SIG", 3) ? name : name + 3;
	char *end;
	long n;

	if (*s >= '0' && *s <= '9') {
		n = strtol(s, &end, 10);
		return !*end && n > 0 && n < NSIG ? (int)n : 0;
	}
	if (!strncmp(s, "RTMIN", 5) || !strncmp(s, "RTMAX", 5)) {
		int base = s[3] == 'I' ? SIGRTMIN : SIGRTMAX;

		n = s[5] ? strtol(s + 5, &end, 10) : 0;
		if (s[5] && *end)
			return 0;
		n += base;
		return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : 0;
	}
	for (int sig = 1; sig < NSIG; sig++) {
		const char *abbrev = sigabbrev_np(sig);

		if (abbrev && !strcmp(abbrev, s))
			return sig;
	}
	return 0;
}

static void on_signal(int sig, siginfo_t *info, void *ucontext)
{
	(void)sig;
	(void)info;
	(void)ucontext;
	if (atomic_load(&slp_st.phase) == SLP_PHASE_DORMANT) {
		atomic_store(&slp_st.start_requested, true); /* the next event starts */
		return;
	}
	if (slp_guard_enter()) {
		slp_record_snapshot("signal", true);
		slp_guard_leave();
	}
}

bool slp_snapshot_signal_setup(void)
{
	const char *name = slp_opt.snapshot_signal;
	struct sigaction old, sa;
	int sig;

	if (!name[0])
		return false;
	sig = parse_signal(name);
	if (!sig || sig == SIGKILL || sig == SIGSTOP) {
		slp_warn("snapshot_signal=%s: not a signal that can be caught; no snapshots on signals",
			 name);
		return false;
	}
	if (sigaction(sig, NULL, &old) != 0)
		return false;
	if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) {
		slp_warn("snapshot_signal=%s: the program already %s this signal; it is left alone, no snapshots on signals",
			 name, old.sa_handler == SIG_IGN && !(old.sa_flags & SA_SIGINFO) ?
				       "ignores" : "handles");
		return false;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0) {
		slp_warn("snapshot_signal=%s: cannot install the handler; no snapshots on signals",
			 name);
		return false;
	}
	return true;
}
