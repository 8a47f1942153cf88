/*
 * analyzer/replay/kinds.h - the names replay gives to what it sees: kinds of
 * views, anomalies.
 *
 * Shared with the results (results.h), which count them per log, so that
 * the results and everything that prints them need not see the live state.
 */
#pragma once

/* What a view is (docs/design.md, section 2). */
enum sla_view_kind {
	SLA_VIEW_SLICE, /* a libslice reference (SLICE_NEW) */
	SLA_VIEW_OWNER, /* an annotation (VIEW_ACQUIRE) */
};

/* Anomalies: counted and shown, never fatal. X-macro: name, description. */
#define SLA_ANOMALIES(X)                                                                       \
	X(free_unknown, "free of an address that is not live (expected in a fork child)")   \
	X(double_free, "free of an address already freed")                                   \
	X(alloc_on_live, "allocation at an address that is still live")                       \
	X(realloc_unknown, "realloc of an address that is not live")                          \
	X(free_with_views, "block freed while views of it were live")                         \
	X(slice_no_block, "slice reference on no live block")                                 \
	X(slice_drop_unknown, "slice drop without a matching reference")                      \
	X(view_no_block, "view acquired on no live block")                                    \
	X(view_outside_block, "view range reaching outside its block")                        \
	X(release_without_acquire, "view release without acquire")                            \
	X(time_backwards, "time going backwards")                                             \
	X(extra_process, "more than one PROCESS record")

enum sla_anomaly {
#define SLA_ANOM_ENUM(name, desc) SLA_ANOM_##name,
	SLA_ANOMALIES(SLA_ANOM_ENUM)
#undef SLA_ANOM_ENUM
	SLA_ANOM_COUNT
};

const char *sla_anomaly_name(enum sla_anomaly a);
const char *sla_anomaly_desc(enum sla_anomaly a);
