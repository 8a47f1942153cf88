/*
 * capacity_leak - the Go capacity leak ("100 Go Mistakes", 3.10.1):
 * a consumer of a binary protocol keeps the 5-byte type of each message in
 * an audit ring, and msg[:5] keeps the whole 1 MB message alive.
 *
 * Variants:
 *   leaky            type = msg[:5] (sl_sub): every message stays alive.
 *   copy             type = a clone of msg[:5] (sl_clone): the fix; each
 *                    message is freed as soon as it is handled.
 *   full-slice-expr  type = msg[:5:5] (sl_sub3): only the capacity is cut,
 *                    the view still points into the message's backing, so
 *                    this does not help (the Go original's point).
 *   leaky-shutdown   the leaky code, but the consumer empties its ring before
 *                    exit: the leak is temporary (as Go articles call it) and
 *                    invisible at the end; the snapshot "audit", taken when
 *                    the ring is full, and the peak of retained bytes show it.
 *
 * Except in leaky-shutdown, the process exits with the audit ring full, the
 * moment sliceleak's default analysis ("at end") looks at. Each message is
 * one backing block of header + size bytes; the views cover 5 bytes at its
 * start.
 *
 * Expected verdict (parsed by check_verdict.py; see its docstring):
 *
 * USAGE: capacity_leak leaky|copy|full-slice-expr|leaky-shutdown [count] [size]
 * PARAMS: count=1000 size=1048576
 * EXPECT leaky,full-slice-expr: findings=1
 * EXPECT leaky: finding blocks=min(count,1000) views=min(count,1000) \
 *	used_bytes=min(count,1000)*5 block_bytes~min(count,1000)*size \
 *	retained_bytes~min(count,1000)*(size-5) \
 *	view_function=message_type view_site=prefix alloc_function=receive_message alloc_site=message
 * EXPECT full-slice-expr: finding blocks=min(count,1000) views=min(count,1000) \
 *	used_bytes=min(count,1000)*5 block_bytes~min(count,1000)*size \
 *	retained_bytes~min(count,1000)*(size-5) \
 *	view_function=message_type_full_slice view_site=full-slice \
 *	alloc_function=receive_message alloc_site=message
 * EXPECT leaky,full-slice-expr: leak function=receive_message \
 *	blocks=min(count,1000) bytes~min(count,1000)*size
 * EXPECT leaky,full-slice-expr: check max_retained=min(count,1000)*(size-5) status=1
 * EXPECT leaky,full-slice-expr: check max_retained=min(count,1000)*(size+64) status=0
 * EXPECT copy,leaky-shutdown: check max_retained=0 status=0
 * EXPECT copy: findings=0
 * EXPECT copy: leak function=receive_message blocks=0
 * EXPECT copy: leak function=message_type_copy blocks=min(count,1000)
 * EXPECT copy: @peak findings=0
 * EXPECT leaky-shutdown: findings=0
 * EXPECT leaky-shutdown: leak function=receive_message blocks=0
 * EXPECT leaky-shutdown: @audit finding blocks=min(count,1000) views=min(count,1000) \
 *	used_bytes=min(count,1000)*5 block_bytes~min(count,1000)*size \
 *	view_function=message_type view_site=prefix alloc_function=receive_message
 * EXPECT leaky-shutdown: @peak finding blocks=min(count,1000) views=min(count,1000) \
 *	used_bytes=min(count,1000)*5 block_bytes~min(count,1000)*size \
 *	view_function=message_type view_site=prefix alloc_function=receive_message
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sliceleak/annotate.h>
#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "capacity_leak leaky|copy|full-slice-expr|leaky-shutdown [count] [size]"
#define MSG_TYPE_LEN 5
#define RING_CAP 1000 /* the Go original keeps the latest 1000 message types */

enum variant { V_LEAKY, V_COPY, V_FULL_SLICE, V_LEAKY_SHUTDOWN };

static const char *const variant_names[] = { "leaky", "copy", "full-slice-expr",
					     "leaky-shutdown", NULL };

/* The latest message types, for auditing. Each slot owns one slice reference. */
struct audit_ring {
	sl_slice types[RING_CAP];
	size_t next; /* slot the next type goes to */
	size_t used; /* slots holding a type */
};

static const char *const wire_types[] = { "ORDER", "QUOTE", "TRADE", "CANCL", "HBEAT" };

/*
 * Simulates reading message number seq off the wire: a fresh buffer of size
 * bytes, the 5-byte type first, then the payload.
 */
static sl_slice receive_message(size_t seq, size_t size)
{
	sl_slice msg = sl_make(1, size, size); /* ALLOC-SITE message */
	unsigned char *p;

	if (!msg.ptr)
		pattern_die("sl_make");
	p = msg.ptr;
	memcpy(p, wire_types[seq % 5], MSG_TYPE_LEN);
	/* A recognisable payload; only its first and last bytes are touched so
	 * that the Go original's 1 GB stays cheap to simulate. */
	if (size > MSG_TYPE_LEN)
		p[MSG_TYPE_LEN] = (unsigned char)seq;
	p[size - 1] = (unsigned char)(seq * 7);
	return msg;
}

/* The Go original's getMessageType: msg[:5] shares msg's backing array. */
static sl_slice message_type(sl_slice msg)
{
	return sl_sub(msg, 0, MSG_TYPE_LEN); /* VIEW-SITE prefix */
}

/* msg[:5:5]: the view's capacity is 5, but its backing is still msg's. */
static sl_slice message_type_full_slice(sl_slice msg)
{
	return sl_sub3(msg, 0, MSG_TYPE_LEN, MSG_TYPE_LEN); /* VIEW-SITE full-slice */
}

/* The fix: a copy of the 5 bytes in a backing of their own. */
static sl_slice message_type_copy(sl_slice msg)
{
	sl_slice head = sl_sub(msg, 0, MSG_TYPE_LEN);
	sl_slice type = sl_clone(head);

	sl_release(&head);
	return type;
}

/* Stores a type in the ring, dropping the oldest one when the ring is full. */
static void store_message_type(struct audit_ring *ring, sl_slice type)
{
	sl_release(&ring->types[ring->next]);
	ring->types[ring->next] = type;
	ring->next = (ring->next + 1) % RING_CAP;
	if (ring->used < RING_CAP)
		ring->used++;
}

/*
 * The Go original's consumeMessages loop, for count messages: receive, handle,
 * remember the type, drop the message.
 */
static uint64_t consume_messages(struct audit_ring *ring, enum variant v, size_t count,
				 size_t size)
{
	uint64_t checksum = 0;

	for (size_t seq = 0; seq < count; seq++) {
		sl_slice msg = receive_message(seq, size);
		sl_slice type;

		checksum += ((unsigned char *)msg.ptr)[size - 1];
		switch (v) {
		case V_LEAKY:
		case V_LEAKY_SHUTDOWN:
			type = message_type(msg);
			break;
		case V_FULL_SLICE:
			type = message_type_full_slice(msg);
			break;
		case V_COPY:
		default:
			type = message_type_copy(msg);
			break;
		}
		if (!type.ptr)
			pattern_die("message type");
		store_message_type(ring, type);
		sl_release(&msg);
	}
	return checksum;
}

int main(int argc, char **argv)
{
	static struct audit_ring ring;
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 1000, USAGE);
	size_t size = pattern_size(argc, argv, 3, 1048576, USAGE);
	size_t per_type[5] = { 0 };
	uint64_t checksum;

	if (size < MSG_TYPE_LEN)
		pattern_usage(USAGE);
	checksum = consume_messages(&ring, v, count, size);
	for (size_t i = 0; i < ring.used; i++)
		for (size_t t = 0; t < 5; t++)
			if (memcmp(ring.types[i].ptr, wire_types[t], MSG_TYPE_LEN) == 0)
				per_type[t]++;
	printf("consumed %zu messages of %zu bytes (checksum %llu); audit ring holds %zu types:",
	       count, size, (unsigned long long)checksum, ring.used);
	for (size_t t = 0; t < 5; t++)
		printf(" %s=%zu", wire_types[t], per_type[t]);
	printf("\n");
	/* A checkpoint for the memory audit (a no-op without the shim). */
	SLICELEAK_SNAPSHOT("audit");
	if (v == V_LEAKY_SHUTDOWN) {
		for (size_t i = 0; i < RING_CAP; i++)
			sl_release(&ring.types[i]);
		return 0;
	}
	/* Exit with the ring still full: the state sliceleak analyses at the end. */
	return 0;
}
