/*
 * rules_delete - a Go production leak: a rule table deletes with
 * rules = append(rules[:i], rules[i+1:]...), which leaves a stale pointer in
 * the slot past the new len, and that slot keeps a deleted rule alive.
 *
 * A firewall keeps its rules in a slice of rule handles; each rule is a
 * refcounted object (a one-element slice of struct rule) and each slot of the
 * table owns one reference, as a slot of a Go []*TheRule does for the
 * garbage collector. The table loads count rules, the last `temporary` of
 * which are temporary; the admin then deletes the temporary rules one by one,
 * oldest first, with the Go original's Rules.Del.
 *
 * append copies the tail one slot left; with owning slots a copy is a retain
 * and an overwritten slot is a release, so after each Del the slot past len
 * still holds a reference to the table's last rule. When the last temporary
 * rule is deleted in turn, only stale slots hold it: it stays alive.
 *
 * Variants:
 *   leaky  Del as in the Go original: exactly one deleted rule (the last one) is
 *          kept alive, by temporary stale references past len.
 *   clear  the Go original's fix, prev[len(prev)-1] = nil: release the slot past
 *          len after each Del; every deleted rule is freed.
 *
 * The table's array is not a view_pinned finding (most of it is in use, and
 * it is small), but it is view-pinned: the slots past len are its dead
 * region. A rule block is always fully covered by its references. In the
 * leaky variant the last rule (type count-1) is referenced only by stale
 * slots past len: it is kept alive through the table's dead region (a
 * dead_region finding). The clear variant leaves nothing there.
 *
 * rules_del's locals (the victim's handle) leave copies of the last rule's
 * address in stack memory that is dead by the time the process exits; they
 * are not references. The shim must not present them as roots: at exit the
 * main thread's live stack starts at the caller of exit(), not in the frames
 * of exit's own machinery below it.
 *
 * USAGE: rules_delete leaky|clear [count] [temporary]
 * PARAMS: count=10000 temporary=2000
 * DEFINE: rule=16384
 * EXPECT leaky: finding kind=view_pinned blocks=0
 * EXPECT clear: findings=0
 * EXPECT leaky: leak function=rule_new blocks=count-temporary+1 \
 *	bytes~(count-temporary+1)*rule
 * EXPECT clear: leak function=rule_new blocks=count-temporary \
 *	bytes~(count-temporary)*rule
 * EXPECT leaky: finding kind=dead_region blocks=1 block_bytes~rule \
 *	retained_bytes~rule holder_blocks=1 alloc_function=rule_new alloc_site=rule \
 *	holder_function=rules_add holder_site=table
 * EXPECT leaky: findings=1
 * EXPECT clear: finding kind=dead_region blocks=0
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <sliceleak/slice.h>

#include "pattern_args.h"

#define USAGE "rules_delete leaky|clear [count] [temporary]"

enum variant { V_LEAKY, V_CLEAR };

static const char *const variant_names[] = { "leaky", "clear", NULL };

/* The Go original's TheRule: a type and its compiled matcher. */
struct rule {
	int typ;
	char name[28];
	uint8_t dfa[16384 - 32]; /* the compiled matcher's transition table */
};

/* The header's DEFINE rule=16384 must stay true, or the EXPECT figures lie. */
_Static_assert(sizeof(struct rule) == 16384, "DEFINE rule=16384 in the header is out of date");

/* The Go original's Rules (its RWMutex is not needed: one thread). */
struct rules {
	sl_slice rules; /* of sl_slice, each a reference to a one-rule slice */
};

/* The rule of a handle. */
static struct rule *rule_of(sl_slice handle)
{
	return sl_at(handle, 0);
}

/* &table[i]: the slot, which owns the reference it holds. */
static sl_slice *slot_at(sl_slice table, size_t i)
{
	return sl_at(table, i);
}

/* A new rule object of type typ; the handle returned owns its one reference. */
static sl_slice rule_new(int typ)
{
	sl_slice handle = sl_make(sizeof(struct rule), 1, 1); /* ALLOC-SITE rule */
	struct rule *r;

	if (!handle.ptr)
		pattern_die("sl_make");
	r = rule_of(handle);
	r->typ = typ;
	snprintf(r->name, sizeof(r->name), "rule-%d", typ);
	for (size_t i = 0; i < sizeof(r->dfa); i += 64)
		r->dfa[i] = (uint8_t)(typ + i);
	return handle;
}

/* fr.rules = append(fr.rules, rule); takes over the handle's reference. */
static void rules_add(struct rules *fr, sl_slice handle)
{
	fr->rules = sl_append(fr->rules, &handle, 1); /* ALLOC-SITE table */
	if (!fr->rules.ptr)
		pattern_die("sl_append");
}

/*
 * The Go original's Rules.Del: deletes the first rule of type typ by appending the
 * tail over it. In the clear variant, also the Go original's fix: the slot past the
 * new len is set to nil (its reference released).
 */
static void rules_del(struct rules *fr, int typ, enum variant v)
{
	size_t n = fr->rules.len;

	for (size_t i = 0; i < n; i++) {
		sl_slice victim = *slot_at(fr->rules, i);
		sl_slice prev, head, tail;

		if (rule_of(victim)->typ != typ)
			continue;
		prev = sl_retain(fr->rules);
		head = sl_sub(fr->rules, 0, i);
		tail = sl_sub(fr->rules, i + 1, n);
		/* In place: head's cap reaches the end of the array. */
		head = sl_append_slice(head, tail);
		sl_release(&tail);
		sl_release(&fr->rules);
		fr->rules = head;
		/* Ownership after the copy: slot n-2 now also holds the last
		 * rule (a copy is a retain) and the victim's slot was
		 * overwritten (its reference is released). Retain first: when
		 * the victim is the last rule, the two cancel out. */
		if (i + 1 < n)
			*slot_at(prev, n - 2) = sl_retain(*slot_at(prev, n - 1));
		else
			(void)sl_retain(*slot_at(prev, n - 1));
		sl_release(&victim);
		if (v == V_CLEAR)
			sl_release(slot_at(prev, n - 1)); /* prev[len(prev)-1] = nil */
		sl_release(&prev);
		return;
	}
}

/* Counts the rules that a request of type typ matches. */
static size_t rules_match(const struct rules *fr, int typ)
{
	size_t hits = 0;

	for (size_t i = 0; i < fr->rules.len; i++)
		hits += rule_of(*slot_at(fr->rules, i))->typ % 7 == typ % 7;
	return hits;
}

int main(int argc, char **argv)
{
	enum variant v = (enum variant)pattern_variant(argc, argv, variant_names, USAGE);
	size_t count = pattern_size(argc, argv, 2, 10000, USAGE);
	size_t temporary = pattern_size(argc, argv, 3, 2000, USAGE);
	struct rules fr = { { .elem_size = sizeof(sl_slice) } }; /* typed nil */

	if (temporary >= count || count > INT32_MAX)
		pattern_usage(USAGE);
	for (size_t t = 0; t < count; t++)
		rules_add(&fr, rule_new((int)t));
	/* The temporary rules expire, oldest first. */
	for (size_t t = count - temporary; t < count; t++)
		rules_del(&fr, (int)t, v);
	printf("%zu rules left of %zu, %zu match type 3\n", fr.rules.len, count,
	       rules_match(&fr, 3));
	return 0;
}
