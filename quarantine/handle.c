/*
 * handle.c - the vigil_quarantine handle: settings, messages, defaults.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "engine/vg.h"
#include "quarantine/qv.h"

void (*vg_q_test_hook)(const char *point);

const char *vigil_quarantine_default_dir(void)
{
	return VIGIL_DEFAULT_VAULT_DIR;
}

const char *vigil_quarantine_default_allowlist(void)
{
	return VIGIL_DEFAULT_ALLOWLIST;
}

int vg_q_ok(const vigil_quarantine *q)
{
	return q && q->magic == VG_Q_MAGIC;
}

vigil_error vigil_quarantine_new(const char *dir, vigil_quarantine **out)
{
	vigil_quarantine *q;

	if (!out)
		return VIGIL_EINVAL;
	*out = NULL;
	if (dir && !*dir)
		return VIGIL_EINVAL;
	/* sodium_init is idempotent and thread-safe; it picks the fastest
	 * implementations and seeds randombytes */
	if (sodium_init() < 0)
		return VIGIL_EINTERNAL;
	if (!(q = calloc(1, sizeof *q)))
		return VIGIL_ENOMEM;
	q->magic = VG_Q_MAGIC;
	q->dfd = -1;
	q->max_size = VIGIL_QUARANTINE_DEFAULT_MAX_SIZE;
	q->dir = strdup(dir ? dir : VIGIL_DEFAULT_VAULT_DIR);
	q->agent = strdup("libvigil " VIGIL_VERSION_STRING);
	if (!q->dir || !q->agent) {
		vigil_quarantine_free(q);
		return VIGIL_ENOMEM;
	}
	*out = q;
	return VIGIL_OK;
}

void vigil_quarantine_free(vigil_quarantine *q)
{
	if (!vg_q_ok(q))
		return;
	if (q->dfd >= 0)
		close(q->dfd);
	sodium_memzero(q->key, sizeof q->key);
	free(q->dir);
	free(q->agent);
	q->magic = 0;
	free(q);
}

const char *vigil_quarantine_dir(const vigil_quarantine *q)
{
	return vg_q_ok(q) ? q->dir : "";
}

vigil_error vigil_quarantine_set_max_size(vigil_quarantine *q, uint64_t bytes)
{
	if (!vg_q_ok(q))
		return VIGIL_EINVAL;
	q->max_size = bytes;
	return VIGIL_OK;
}

vigil_error vigil_quarantine_set_agent(vigil_quarantine *q, const char *agent)
{
	char *copy;

	if (!vg_q_ok(q) || !agent)
		return VIGIL_EINVAL;
	if (!(copy = strdup(agent)))
		return VIGIL_ENOMEM;
	free(q->agent);
	q->agent = copy;
	return VIGIL_OK;
}

const char *vigil_quarantine_last_error(const vigil_quarantine *q)
{
	return vg_q_ok(q) ? q->errmsg : "";
}

static void vset(vigil_quarantine *q, const char *fmt, va_list ap)
{
	vsnprintf(q->errmsg, sizeof q->errmsg, fmt, ap);
}

vigil_error vg_q_fail(vigil_quarantine *q, vigil_error err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(q, fmt, ap);
	va_end(ap);
	return err;
}

vigil_error vg_q_fail_errno(vigil_quarantine *q, int errnum, const char *fmt,
                            ...)
{
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vset(q, fmt, ap);
	va_end(ap);
	n = strlen(q->errmsg);
	snprintf(q->errmsg + n, sizeof q->errmsg - n, ": %s", strerror(errnum));
	if (errnum == ENOSPC || errnum == EDQUOT)
		return VIGIL_EFULL;
	return vg_error_from_errno(errnum);
}

int vg_q_is_id(const char *s)
{
	size_t i;

	for (i = 0; i < VIGIL_QUARANTINE_ID_SIZE - 1; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[i] == '\0';
}

int vg_q_fsync_dir(int dfd)
{
	/* some file systems cannot sync a directory; that is no error */
	if (fsync(dfd) != 0 && errno != EINVAL && errno != EROFS)
		return -1;
	return 0;
}
