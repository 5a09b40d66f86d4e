/*
 * engine_build.c - vigild.conf's engine directives to vigil's limits
 * and options (the names follow clamd.conf where the meaning is the
 * same: MaxFileSize, MaxScanSize, MaxFiles, MaxRecursion, MaxScanTime,
 * ScanArchive, AlertEncrypted), and the bundle trust settings
 * (TrustedKeys, AllowUnsignedBundles, as vigil-update.conf).
 */
#include "config.h"

#include <stdio.h>

#include "onaccess/engine_build.h"

static const struct {
	vg_conf_id id;
	vigil_limit limit;
} limits[] = {
	{ VG_CONF_MAX_FILE_SIZE, VIGIL_LIMIT_MAX_FILESIZE },
	{ VG_CONF_MAX_SCAN_SIZE, VIGIL_LIMIT_MAX_EXTRACTED },
	{ VG_CONF_MAX_FILES, VIGIL_LIMIT_MAX_MEMBERS },
	{ VG_CONF_MAX_RECURSION, VIGIL_LIMIT_MAX_DEPTH },
	{ VG_CONF_MAX_MEMBER_SIZE, VIGIL_LIMIT_MAX_MEMBER_SIZE },
	{ VG_CONF_MAX_COMPRESSION_RATIO, VIGIL_LIMIT_MAX_RATIO },
	{ VG_CONF_RATIO_MIN_SIZE, VIGIL_LIMIT_RATIO_MIN_SIZE },
	{ VG_CONF_MAX_SCAN_TIME, VIGIL_LIMIT_MAX_SCAN_MS },
	{ VG_CONF_YARA_TIMEOUT, VIGIL_LIMIT_YARA_TIMEOUT_MS },
	{ VG_CONF_CACHE_ENTRIES, VIGIL_LIMIT_CACHE_ENTRIES },
};

vigil_engine *vg_engine_build(const vg_config *cfg, uint64_t min_bundle,
                              char *err, size_t errlen)
{
	vigil_engine *e = NULL;
	const char *db = vg_conf_str(cfg, VG_CONF_DATABASE_DIRECTORY);
	const char *trust = vg_conf_str(cfg, VG_CONF_TRUSTED_KEYS);
	vigil_error rc;

	if ((rc = vigil_engine_new(&e)) != VIGIL_OK) {
		snprintf(err, errlen, "engine: %s", vigil_strerror(rc));
		return NULL;
	}
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		rc = vigil_engine_set_limit(e, limits[i].limit,
		                            vg_conf_num(cfg, limits[i].id));
		if (rc != VIGIL_OK) {
			snprintf(err, errlen, "%s: %s", vg_conf_table[limits[i].id].name,
			         vigil_strerror(rc));
			goto fail;
		}
	}
	if (vigil_engine_set_option(e, VIGIL_OPT_NO_DEFAULT_SIGNATURES,
	                            !vg_conf_bool(cfg, VG_CONF_BUILTIN_SIGNATURES)) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_ML,
	                            !vg_conf_bool(cfg, VG_CONF_SCAN_ML)) ||
	    vigil_engine_set_option(e, VIGIL_OPT_NO_UNPACK,
	                            !vg_conf_bool(cfg, VG_CONF_SCAN_ARCHIVE)) ||
	    vigil_engine_set_option(e, VIGIL_OPT_ENCRYPTED_SUSPICIOUS,
	                            vg_conf_bool(cfg, VG_CONF_ALERT_ENCRYPTED))) {
		snprintf(err, errlen, "engine options: %s", vigil_engine_last_error(e));
		goto fail;
	}
	if ((*trust && (rc = vigil_engine_set_trust_dir(e, trust)) != VIGIL_OK) ||
	    (rc = vigil_engine_set_option(e, VIGIL_OPT_ALLOW_UNSIGNED,
	                                  vg_conf_bool(cfg, VG_CONF_ALLOW_UNSIGNED))) ||
	    (rc = vigil_engine_set_min_bundle_version(e, min_bundle))) {
		snprintf(err, errlen, "bundle settings: %s", vigil_strerror(rc));
		goto fail;
	}
	if (*db && (rc = vigil_engine_load(e, db)) != VIGIL_OK) {
		const char *why = vigil_engine_last_error(e);
		snprintf(err, errlen, "DatabaseDirectory %s: %s", db,
		         *why ? why : vigil_strerror(rc));
		goto fail;
	}
	if ((rc = vigil_engine_freeze(e)) != VIGIL_OK) {
		const char *why = vigil_engine_last_error(e);
		snprintf(err, errlen, "freeze: %s", *why ? why : vigil_strerror(rc));
		goto fail;
	}
	return e;
fail:
	vigil_engine_free(e);
	return NULL;
}

uint64_t vg_engine_hang_ms(const vg_config *cfg)
{
	uint64_t ms = vg_conf_num(cfg, VG_CONF_WORKER_HANG_TIMEOUT);
	return ms ? ms : vg_conf_num(cfg, VG_CONF_MAX_SCAN_TIME) + 10000;
}
