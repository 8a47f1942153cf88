/*
 * threaded_views - slices made, viewed and released across threads: a packet
 * capture pipeline. Reader threads receive packets, cut each packet's header
 * out as a view and hand the view to an indexer thread through a queue; the
 * readers drop their packets at once. The indexer keeps the header of every
 * keep-th packet of each reader (a sample for later inspection) and releases
 * the others, on its own thread.
 *
 * Variants:
 *   leaky  the sampled headers are the views themselves: each keeps its whole
 *          packet alive, readers*ceil(packets/keep) blocks at exit.
 *   copy   the indexer clones the sampled headers and releases the views:
 *          every packet is freed, on the indexer's thread.
 *
 * Which packets are sampled does not depend on scheduling (a reader's packet
 * sequence number decides), so the figures are exact.
 *
 * USAGE: threaded_views leaky|copy [readers] [packets] [size] [keep]
 * PARAMS: readers=4 packets=1000 size=65536 keep=10
 * DEFINE: header=64
 * EXPECT leaky: findings=1
 * EXPECT leaky: finding blocks=readers*((packets+keep-1)//keep) \
 *	views=readers*((packets+keep-1)//keep) \
 *	used_bytes=readers*((packets+keep-1)//keep)*header \
 *	block_bytes~readers*((packets+keep-1)//keep)*size \
 *	retained_bytes~readers*((packets+keep-1)//keep)*(size-header) \
 *	view_function=packet_header view_site=header alloc_function=receive_packet \
 *	alloc_site=packet
 * EXPECT leaky: leak function=receive_packet blocks=readers*((packets+keep-1)//keep)
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=receive_packet blocks=0
 * EXPECT copy: leak function=sample_copy blocks=readers*((packets+keep-1)//keep) \
 *	bytes~readers*((packets+keep-1)//keep)*header
 * EXPECT *: totals allocations>=readers*packets \
 *	frees>=readers*(packets-(packets+keep-1)//keep)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "threaded_views leaky|copy [readers] [packets] [size] [keep]"
#define HEADER 64
#define QUEUE_CAP 64

enum variant { V_LEAKY, V_COPY };

static const char *const variant_names[] = { "leaky", "copy", NULL };

/* What a packet's header says. */
struct packet_header {
	uint32_t reader;
	uint32_t seq;
	char text[HEADER - 8];
};

_Static_assert(sizeof(struct packet_header) == HEADER, "DEFINE header=64 is out of date");

/* A bounded queue of header views from the readers to the indexer. */
struct queue {
	pthread_mutex_t lock;
	pthread_cond_t not_empty, not_full;
	sl_slice items[QUEUE_CAP]; /* each owns its reference */
	size_t head, len;
};

/* The pipeline's parameters and shared state. */
struct pipeline {
	struct queue q;
	enum variant v;
	size_t packets, size, keep;
	sl_slice samples;   /* indexer only: of sl_slice, the kept headers */
	uint64_t seq_sum;   /* indexer only: sum of the sampled seq numbers */
};

/* One reader thread's arguments. */
struct reader {
	pthread_t thread;
	struct pipeline *p;
	uint32_t id;
};

/* Blocks while the queue is full; takes over item's reference. */
static void queue_push(struct queue *q, sl_slice item)
{
	pthread_mutex_lock(&q->lock);
	while (q->len == QUEUE_CAP)
		pthread_cond_wait(&q->not_full, &q->lock);
	q->items[(q->head + q->len++) % QUEUE_CAP] = item;
	pthread_cond_signal(&q->not_empty);
	pthread_mutex_unlock(&q->lock);
}

/* Blocks while the queue is empty; the item returned owns its reference. */
static sl_slice queue_pop(struct queue *q)
{
	sl_slice item;

	pthread_mutex_lock(&q->lock);
	while (q->len == 0)
		pthread_cond_wait(&q->not_empty, &q->lock);
	item = q->items[q->head];
	q->head = (q->head + 1) % QUEUE_CAP;
	q->len--;
	pthread_cond_signal(&q->not_full);
	pthread_mutex_unlock(&q->lock);
	return item;
}

/* Simulates receiving packet seq on reader id: size bytes, header first. */
static sl_slice receive_packet(uint32_t id, uint32_t seq, size_t size)
{
	sl_slice pkt = sl_make(1, size, size); /* ALLOC-SITE packet */
	struct packet_header h = { id, seq, { 0 } };

	if (!pkt.ptr)
		pattern_die("sl_make");
	snprintf(h.text, sizeof(h.text), "reader %u packet %u", id, seq);
	memcpy(pkt.ptr, &h, sizeof(h));
	memset((char *)pkt.ptr + HEADER, (int)(seq & 0xff), size - HEADER);
	return pkt;
}

/* The packet's header: a view of its first HEADER bytes. */
static sl_slice packet_header(sl_slice pkt)
{
	return sl_sub(pkt, 0, HEADER); /* VIEW-SITE header */
}

/* A short-lived view of the payload, released on this thread. */
static unsigned payload_check(sl_slice pkt)
{
	sl_slice payload = sl_sub(pkt, HEADER, pkt.len);
	unsigned sum = 0;

	for (size_t i = 0; i < payload.len; i += 4096)
		sum += ((unsigned char *)payload.ptr)[i];
	sl_release(&payload);
	return sum;
}

/* Reader thread: receive, check, hand the header over, drop the packet. */
static void *reader_main(void *arg)
{
	struct reader *r = arg;

	for (uint32_t seq = 0; seq < r->p->packets; seq++) {
		sl_slice pkt = receive_packet(r->id, seq, r->p->size);

		(void)payload_check(pkt);
		queue_push(&r->p->q, packet_header(pkt));
		sl_release(&pkt);
	}
	return NULL;
}

/* The copy variant's fix: a header of its own instead of the view; takes over hdr. */
static sl_slice sample_copy(sl_slice hdr)
{
	sl_slice copy = sl_clone(hdr);

	if (!copy.ptr)
		pattern_die("sl_clone");
	sl_release(&hdr);
	return copy;
}

/* Keeps a sampled header: takes over its reference. */
static void index_sample(struct pipeline *p, sl_slice hdr)
{
	p->samples = sl_append(p->samples, &hdr, 1);
	if (!p->samples.ptr)
		pattern_die("sl_append");
}

/* Indexer thread: takes every header, keeps the sampled ones. */
static void *indexer_main(void *arg)
{
	struct pipeline *p = arg;

	for (;;) {
		sl_slice hdr;
		struct packet_header h;

		hdr = queue_pop(&p->q);
		if (!hdr.ptr)
			break; /* the nil slice: every reader is done */
		memcpy(&h, hdr.ptr, sizeof(h));
		if (h.seq % p->keep == 0) {
			p->seq_sum += h.seq;
			if (p->v == V_COPY)
				hdr = sample_copy(hdr);
			index_sample(p, hdr);
		} else {
			sl_release(&hdr);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	static struct pipeline p = {
		.q = { .lock = PTHREAD_MUTEX_INITIALIZER,
		       .not_empty = PTHREAD_COND_INITIALIZER,
		       .not_full = PTHREAD_COND_INITIALIZER },
	};
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t readers = pattern_size(argc, argv, 2, 4, USAGE);
	struct reader rs[64];
	pthread_t indexer;

	p.v = v;
	p.samples = (sl_slice){ .elem_size = sizeof(sl_slice) }; /* typed nil */
	p.packets = pattern_size(argc, argv, 3, 1000, USAGE);
	p.size = pattern_size(argc, argv, 4, 65536, USAGE);
	p.keep = pattern_size(argc, argv, 5, 10, USAGE);
	if (readers > 64 || p.size < HEADER || p.packets > UINT32_MAX)
		pattern_usage(USAGE);
	if (pthread_create(&indexer, NULL, indexer_main, &p))
		pattern_die("pthread_create");
	for (size_t i = 0; i < readers; i++) {
		rs[i].p = &p;
		rs[i].id = (uint32_t)i;
		if (pthread_create(&rs[i].thread, NULL, reader_main, &rs[i]))
			pattern_die("pthread_create");
	}
	for (size_t i = 0; i < readers; i++)
		pthread_join(rs[i].thread, NULL);
	queue_push(&p.q, SL_NIL);
	pthread_join(indexer, NULL);
	printf("%zu readers x %zu packets of %zu bytes: %zu headers sampled, seq sum %llu\n",
	       readers, p.packets, p.size, p.samples.len, (unsigned long long)p.seq_sum);
	return 0;
}
