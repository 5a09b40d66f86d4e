/*
 * cloud_probe.c - drives the cloud stage through the public API for the
 * cloud tests: one engine, one scanner, a script of steps from argv:
 *   set NAME=VALUE   a vigil_engine_set_cloud setting (before the scans)
 *   scan FILE        prints "FILE VERDICT TIME_US FINDING..." per scan
 *   sleep MS
 *   stats            prints the client's counters
 * The verdict cache is off, so every scan reaches the cloud stage.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vigil/vigil.h"

static const char *const names[VIGIL_CLOUD_SETTING_COUNT] = {
	"url", "key", "timeout_ms", "policy", "types", "ml_band", "members",
	"batch_max", "batch_wait_ms", "breaker_failures", "breaker_retry_ms",
	"cache_entries", "override_ml", "machine", "connections",
};

static int set(vigil_engine *e, const char *arg)
{
	const char *eq = strchr(arg, '=');

	for (int i = 0; eq && i < VIGIL_CLOUD_SETTING_COUNT; i++)
		if (strlen(names[i]) == (size_t)(eq - arg) &&
		    strncmp(arg, names[i], (size_t)(eq - arg)) == 0)
			return vigil_engine_set_cloud(e, (vigil_cloud_setting)i, eq + 1);
	return VIGIL_EINVAL;
}

int main(int argc, char **argv)
{
	vigil_engine *e;
	vigil_scanner *s = NULL;
	int i = 1;

	if (vigil_engine_new(&e) ||
	    vigil_engine_set_limit(e, VIGIL_LIMIT_CACHE_ENTRIES, 0))
		return 2;
	for (; i + 1 < argc && strcmp(argv[i], "set") == 0; i += 2)
		if (set(e, argv[i + 1]) != VIGIL_OK) {
			fprintf(stderr, "cloud_probe: %s: %s\n", argv[i + 1],
			        vigil_engine_last_error(e));
			return 2;
		}
	if (vigil_engine_freeze(e) || vigil_scanner_new(e, &s))
		return 2;
	for (; i < argc; i++) {
		if (strcmp(argv[i], "stats") == 0) {
			vigil_cloud_stats st;
			vigil_engine_cloud_stats(e, &st);
			printf("stats lookups=%llu cache_hits=%llu requests=%llu "
			       "hashes_sent=%llu failures=%llu breaker_opens=%llu "
			       "breaker_state=%d\n", (unsigned long long)st.lookups,
			       (unsigned long long)st.cache_hits,
			       (unsigned long long)st.requests,
			       (unsigned long long)st.hashes_sent,
			       (unsigned long long)st.failures,
			       (unsigned long long)st.breaker_opens, st.breaker_state);
		} else if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			long ms = atol(argv[++i]);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
			nanosleep(&ts, NULL);
		} else if (strcmp(argv[i], "scan") == 0 && i + 1 < argc) {
			vigil_result *r;
			const char *path = argv[++i];
			if (vigil_scan_path(s, path, &r) != VIGIL_OK) {
				printf("%s ERROR\n", path);
				continue;
			}
			printf("%s %s %llu", path, vigil_verdict_name(vigil_result_verdict(r)),
			       (unsigned long long)vigil_result_time_us(r));
			for (size_t k = 0; k < vigil_result_finding_count(r); k++) {
				const vigil_finding *f = vigil_result_finding(r, k);
				printf(" %s[%s]", vigil_finding_name(f), vigil_finding_detail(f));
			}
			printf("\n");
			vigil_result_free(r);
		} else {
			fprintf(stderr, "cloud_probe: bad step %s\n", argv[i]);
			return 2;
		}
		fflush(stdout);
	}
	vigil_scanner_free(s);
	vigil_engine_free(e);
	return 0;
}
