/*
 * fan_stats.c - on-access counters (see fan.h): events per kind, quick
 * answers, scans and outcomes, answer latencies of permission events,
 * and what MDE's real-time-protection-statistics shows: the processes
 * and paths that cost the most scan time. The callers hold the
 * service's mutex.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "onaccess/fan.h"

/* Latency buckets: [2^i, 2^(i+1)) microseconds. */
#define LAT_BUCKETS 40
/* Entries of each top table; past it the cheapest entry makes room. */
#define TOP_ENTRIES 512
#define TOP_SHOWN 10

typedef struct top_entry {
	char *key;
	uint64_t scans, us;
} top_entry;

typedef struct top_table {
	top_entry e[TOP_ENTRIES];
	unsigned n;
} top_table;

struct fan_stats {
	fan_counters c;
	uint64_t events[FAN_KIND_COUNT];
	uint64_t quick[FAN_Q_COUNT];
	uint64_t lat[LAT_BUCKETS];
	uint64_t answers, allowed, denied_perm, late, lat_max_us;
	top_table procs, paths;
};

fan_stats *fan_stats_new(void)
{
	return calloc(1, sizeof(fan_stats));
}

static void top_free(top_table *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free(t->e[i].key);
}

void fan_stats_free(fan_stats *s)
{
	if (!s)
		return;
	top_free(&s->procs);
	top_free(&s->paths);
	free(s);
}

fan_counters *fan_stats_counters(fan_stats *s)
{
	return &s->c;
}

void fan_stats_event(fan_stats *s, fan_kind k)
{
	if (k < FAN_KIND_COUNT)
		s->events[k]++;
}

void fan_stats_quick(fan_stats *s, fan_quick q)
{
	if (q < FAN_Q_COUNT)
		s->quick[q]++;
}

void fan_stats_answer(fan_stats *s, uint64_t us, int allowed, uint64_t deadline_us)
{
	unsigned b = 0;

	while (b + 1 < LAT_BUCKETS && (us >> (b + 1)))
		b++;
	s->lat[b]++;
	s->answers++;
	if (allowed)
		s->allowed++;
	else
		s->denied_perm++;
	if (us > s->lat_max_us)
		s->lat_max_us = us;
	if (deadline_us && us > deadline_us)
		s->late++;
}

static void top_add(top_table *t, const char *key, uint64_t us)
{
	unsigned i, min = 0;

	if (!key || !*key)
		key = "(unknown)";
	for (i = 0; i < t->n; i++)
		if (!strcmp(t->e[i].key, key)) {
			t->e[i].scans++;
			t->e[i].us += us;
			return;
		}
	if (t->n < TOP_ENTRIES) {
		char *k = strdup(key);
		if (!k)
			return;
		t->e[t->n++] = (top_entry){ k, 1, us };
		return;
	}
	/* full: the entry that cost least so far gives its place */
	for (i = 1; i < t->n; i++)
		if (t->e[i].us < t->e[min].us)
			min = i;
	if (t->e[min].us > us)
		return;
	{
		char *k = strdup(key);
		if (!k)
			return;
		free(t->e[min].key);
		t->e[min] = (top_entry){ k, 1, us };
	}
}

void fan_stats_scan(fan_stats *s, uint64_t us, const char *exe, const char *path)
{
	top_add(&s->procs, exe, us);
	top_add(&s->paths, path, us);
}

static int by_time(const void *a, const void *b)
{
	const top_entry *x = *(const top_entry *const *)a, *y = *(const top_entry *const *)b;
	return x->us < y->us ? 1 : x->us > y->us ? -1 : 0;
}

static json_t *top_json(const top_table *t, const char *keyname)
{
	const top_entry *sorted[TOP_ENTRIES];
	json_t *a = json_array();

	for (unsigned i = 0; i < t->n; i++)
		sorted[i] = &t->e[i];
	qsort(sorted, t->n, sizeof sorted[0], by_time);
	for (unsigned i = 0; i < t->n && i < TOP_SHOWN; i++)
		json_array_append_new(a, json_pack("{s:s, s:I, s:I}", keyname, sorted[i]->key,
		                                   "scans", (json_int_t)sorted[i]->scans,
		                                   "scan_us", (json_int_t)sorted[i]->us));
	return a;
}

/* The latency under which a share q of the answers fall (upper bound of
 * its bucket). */
static uint64_t quantile(const fan_stats *s, double q)
{
	uint64_t want = (uint64_t)((double)s->answers * q + 0.5), seen = 0;

	if (!s->answers)
		return 0;
	if (!want)
		want = 1;
	for (unsigned b = 0; b < LAT_BUCKETS; b++) {
		seen += s->lat[b];
		if (seen >= want)
			return b == 0 ? 1 : (uint64_t)1 << (b + 1);
	}
	return s->lat_max_us;
}

void fan_stats_json(const fan_stats *s, json_t *o)
{
	json_t *ev = json_object(), *q = json_object();
	static const char *qnames[FAN_Q_COUNT] = {
		"self", "excluded", "out_of_scope", "not_prevention", "too_large",
		"known_crash", "not_a_file", "empty",
	};
	const fan_counters *c = &s->c;

	for (int k = 0; k < FAN_KIND_COUNT; k++)
		json_object_set_new(ev, fan_kind_name((fan_kind)k),
		                    json_integer((json_int_t)s->events[k]));
	json_object_set_new(ev, "queue_overflow", json_integer((json_int_t)c->overflows));
	for (int i = 0; i < FAN_Q_COUNT; i++)
		json_object_set_new(q, qnames[i], json_integer((json_int_t)s->quick[i]));
	json_object_set_new(o, "events", ev);
	json_object_set_new(o, "answered_at_once", q);
	json_object_set_new(o, "scans", json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"total", (json_int_t)c->scans, "clean", (json_int_t)c->clean,
		"detected", (json_int_t)c->detected, "incomplete", (json_int_t)c->incomplete,
		"errors", (json_int_t)c->errors, "crashes", (json_int_t)c->crashes,
		"late_results", (json_int_t)c->late_results,
		"dropped_notifications", (json_int_t)c->dropped_notifications));
	json_object_set_new(o, "actions", json_pack("{s:I, s:I}",
		"denied", (json_int_t)c->denied, "logged_only", (json_int_t)c->logged_only));
	json_object_set_new(o, "permission_answers", json_pack(
		"{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
		"total", (json_int_t)s->answers, "allowed", (json_int_t)s->allowed,
		"denied", (json_int_t)s->denied_perm,
		"deadline", (json_int_t)c->deadline_answers,
		"queue_full", (json_int_t)c->queue_full_answers,
		"later_than_deadline", (json_int_t)s->late,
		"p50_us", (json_int_t)quantile(s, 0.5), "p99_us", (json_int_t)quantile(s, 0.99),
		"max_us", (json_int_t)s->lat_max_us));
	json_object_set_new(o, "ignore_marks", json_pack("{s:I, s:I, s:I, s:I, s:I}",
		"placed", (json_int_t)c->ignore_placed, "failed", (json_int_t)c->ignore_failed,
		"taken_back", (json_int_t)c->ignore_taken_back, "rescans", (json_int_t)c->rescans,
		"flushes", (json_int_t)c->flushes));
	json_object_set_new(o, "background", json_pack("{s:I, s:I, s:I, s:I}",
		"waiting", (json_int_t)c->backlog, "waiting_high", (json_int_t)c->backlog_high,
		"in_flight", (json_int_t)c->bg_inflight, "scans", (json_int_t)c->bg_scans));
	json_object_set_new(o, "pending", json_integer(c->pending));
	json_object_set_new(o, "pending_high", json_integer(c->pending_high));
	json_object_set_new(o, "top_processes", top_json(&s->procs, "exe"));
	json_object_set_new(o, "top_paths", top_json(&s->paths, "path"));
}
