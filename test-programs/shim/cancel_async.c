/*
 * cancel_async.c - threads that allocate with asynchronous cancellation
 * enabled are cancelled, often inside malloc or free. POSIX leaves
 * malloc under asynchronous cancellation undefined; glibc's own malloc
 * survives it in practice (a plain run ends), and a tracer must not turn
 * it into a hang or a crash.
 *
 * Expected under the shim: exit 0 and "done 40", like a plain run; the log
 * is complete.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "escape.h"

static void *churn(void *arg)
{
	(void)arg;
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	for (unsigned n = 0;; n++) {
		void *p = escape(malloc(32 + n % 256));

		free(p);
	}
	return NULL;
}

int main(void)
{
	int joined = 0;

	for (int round = 0; round < 10; round++) {
		pthread_t t[4];

		for (int i = 0; i < 4; i++)
			if (pthread_create(&t[i], NULL, churn, NULL))
				return 1;
		usleep(20000);
		for (int i = 0; i < 4; i++) {
			void *res;

			pthread_cancel(t[i]);
			if (pthread_join(t[i], &res) == 0 && res == PTHREAD_CANCELED)
				joined++;
		}
		free(escape(malloc(100)));
	}
	printf("done %d\n", joined);
	return 0;
}
