/*
 * version.c - vigil's version and those of the libraries it runs on,
 * read at run time where the library can tell (it may differ from the
 * headers vigil was built with).
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>

#include <archive.h>
#include <clamav.h>
#include <openssl/crypto.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <xxhash.h>
#include <yara.h>

#include "engine/vg.h"

const char *vigil_version(void)
{
	return VIGIL_VERSION_STRING;
}

unsigned vigil_version_num(void)
{
	return VIGIL_VERSION_NUM;
}

static char details[512];
static pthread_once_t details_once = PTHREAD_ONCE_INIT;

static void build_details(void)
{
	char pcre[64] = "";
	unsigned xxh = XXH_versionNumber();

	pcre2_config(PCRE2_CONFIG_VERSION, pcre);
	snprintf(details, sizeof details,
	         "vigil %s\n"
	         "libyara %s\n"
	         "libclamav %s\n"
	         "%s\n"
	         "PCRE2 %s\n"
	         "xxHash %u.%u.%u\n"
	         "%s\n",
	         VIGIL_VERSION_STRING, YR_VERSION, cl_retver(),
	         archive_version_string(), pcre, xxh / 10000,
	         (xxh / 100) % 100, xxh % 100,
	         OpenSSL_version(OPENSSL_VERSION));
}

const char *vigil_version_details(void)
{
	pthread_once(&details_once, build_details);
	return details;
}
