/*
 * preload/state.c - the one struct slp_state and the per-thread variables.
 *
 * All module state of the shim lives here (SQLite's "mem" pattern), so a
 * fork child knows exactly what it inherited and what to reset.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "guard.h"
#include "internal.h"

struct slp_state slp_st = {
	.phase = SLP_PHASE_IDLE,
	.seq = 1, /* 0 is no event's */
	.dict_lock = PTHREAD_MUTEX_INITIALIZER,
	.file_lock = PTHREAD_MUTEX_INITIALIZER,
	.w = { .fd = -1 },
};

_Thread_local unsigned char slp_busy __attribute__((tls_model("initial-exec")));
_Thread_local uint32_t slp_tid __attribute__((tls_model("initial-exec")));
_Thread_local unsigned slp_in_loader __attribute__((tls_model("initial-exec")));

/*
 * A fork child's locks may have been copied while held (by a thread that
 * does not exist in the child): make fresh ones.
 */
void slp_lock_reinit(void)
{
	pthread_mutex_init(&slp_st.dict_lock, NULL);
	pthread_mutex_init(&slp_st.file_lock, NULL);
}

/* First event of a thread: one gettid syscall, then the TLS copy. */
uint32_t slp_tid_slow(void)
{
	slp_tid = (uint32_t)syscall(SYS_gettid);
	return slp_tid;
}
