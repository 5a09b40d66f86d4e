/*
 * bundle_read.c - reading a bundle: the header, manifest and signature
 * block are untrusted bytes until the signature is checked (and stay
 * so for unsigned development bundles), so every field is read through
 * engine/bytes.h and every offset checked against the file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/bundle.h"
#include "engine/bytes.h"

/* Largest bundle mapped: far above any signature set. */
#define MAX_BUNDLE_SIZE ((uint64_t)64 << 30)

static vg_bundle_status failf(char *why, size_t len, vg_bundle_status st,
                              const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static vg_bundle_status failf(char *why, size_t len, vg_bundle_status st,
                              const char *fmt, ...)
{
	va_list ap;

	if (why && len) {
		va_start(ap, fmt);
		vsnprintf(why, len, fmt, ap);
		va_end(ap);
	}
	return st;
}

vigil_error vg_bundle_error(vg_bundle_status st)
{
	switch (st) {
	case VG_BUNDLE_OK: return VIGIL_OK;
	case VG_BUNDLE_NOT_BUNDLE: return VIGIL_EFORMAT;
	case VG_BUNDLE_NOT_SIGNED:
	case VG_BUNDLE_BAD_SIGNATURE:
	case VG_BUNDLE_UNTRUSTED: return VIGIL_ESIGNATURE;
	case VG_BUNDLE_ROLLBACK: return VIGIL_EROLLBACK;
	case VG_BUNDLE_IO: return VIGIL_EIO;
	case VG_BUNDLE_NOMEM: return VIGIL_ENOMEM;
	default: return VIGIL_EDATABASE;
	}
}

int vg_bundle_has_magic(const uint8_t *p, size_t n)
{
	return vg_match(p, n, 0, VG_BUNDLE_MAGIC, 8);
}

const char *vg_part_kind_name(uint32_t kind)
{
	static const char *const names[VG_PART_KINDS] = {
		[VG_PART_HASHES] = "hashes", [VG_PART_ALLOWLIST] = "allowlist",
		[VG_PART_YARA] = "yara", [VG_PART_CLAMAV] = "clamav",
		[VG_PART_MODEL] = "model",
	};
	return kind < VG_PART_KINDS && names[kind] ? names[kind] : "unknown";
}

/* A part name is a plain file name: it may become one (ClamAV parts). */
static int name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c < 0x21 || c > 0x7e || c == '/' || c == '\\')
			return 0;
	}
	return 1;
}

static vg_bundle_status parse_entry(vg_bundle *b, uint32_t i,
                                    uint64_t data_end, char *why,
                                    size_t whylen)
{
	const uint8_t *img = b->image;
	size_t off = (size_t)b->manifest_offset + (size_t)i * VG_BUNDLE_ENTRY_SIZE;
	vg_bundle_part *p = &b->parts[i];
	const uint8_t *name;

	if (!vg_u32le(img, b->size, off, &p->kind) ||
	    !vg_u32le(img, b->size, off + 4, &p->flags) ||
	    !vg_u64le(img, b->size, off + 8, &p->offset) ||
	    !vg_u64le(img, b->size, off + 16, &p->size) ||
	    !vg_u64le(img, b->size, off + 24, &p->count) ||
	    !(name = vg_at(img, b->size, off + 64, VG_BUNDLE_NAME_MAX)))
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "manifest entry %u is cut off", i);
	memcpy(p->digest, img + off + 32, VG_BUNDLE_DIGEST_LEN);
	if (!memchr(name, '\0', VG_BUNDLE_NAME_MAX))
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "part %u: name is not terminated", i);
	memcpy(p->name, name, VG_BUNDLE_NAME_MAX);
	if (!name_ok(p->name))
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "part %u: bad name", i);
	if (p->kind == 0 || p->kind >= VG_PART_KINDS)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "part %u (%s): unknown kind %u (made by a newer vigil?)",
		             i, p->name, p->kind);
	/* page-aligned, in order, not overlapping, before the manifest */
	if (p->offset % VG_BUNDLE_PAGE || p->offset < VG_BUNDLE_PAGE ||
	    p->offset > data_end || p->size > data_end - p->offset)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "part %u (%s): offset %llu size %llu out of bounds", i,
		             p->name, (unsigned long long)p->offset,
		             (unsigned long long)p->size);
	if (i > 0 && p->offset < b->parts[i - 1].offset + b->parts[i - 1].size)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "part %u (%s) overlaps the one before", i, p->name);
	p->data = img + p->offset;
	return VG_BUNDLE_OK;
}

vg_bundle_status vg_bundle_parse(vg_bundle *b, const uint8_t *img,
                                 size_t size, char *why, size_t whylen)
{
	const size_t hs = VG_BUNDLE_HEADER_SIZE, ts = VG_BUNDLE_TRAILER_SIZE;
	uint64_t man_end, tail;
	vg_bundle_status st;

	b->image = img;
	b->size = size;
	b->parts = NULL;
	if (!vg_bundle_has_magic(img, size))
		return failf(why, whylen, size < 8 ? VG_BUNDLE_TRUNCATED
		                                    : VG_BUNDLE_NOT_BUNDLE,
		             size < 8 ? "truncated bundle (%zu bytes)"
		                      : "not a vigil bundle (%zu bytes, no magic)",
		             size);
	if (!vg_u32le(img, size, 8, &b->format) ||
	    !vg_u64le(img, size, 16, &b->version) ||
	    !vg_u64le(img, size, 24, &b->created) ||
	    !vg_u64le(img, size, 32, &b->file_size) ||
	    !vg_u64le(img, size, 40, &b->manifest_offset) ||
	    !vg_u32le(img, size, 48, &b->nparts))
		return failf(why, whylen, VG_BUNDLE_TRUNCATED,
		             "truncated bundle (%zu bytes, header cut off)", size);
	if (b->format != VG_BUNDLE_FORMAT)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "bundle format %u, this vigil reads format %d",
		             b->format, VG_BUNDLE_FORMAT);
	if (size < b->file_size)
		return failf(why, whylen, VG_BUNDLE_TRUNCATED,
		             "truncated bundle (%zu of %llu bytes)", size,
		             (unsigned long long)b->file_size);
	if (size > b->file_size)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "%zu bytes where the header says %llu", size,
		             (unsigned long long)b->file_size);
	if (b->nparts > VG_BUNDLE_MAX_PARTS || b->file_size < hs + ts ||
	    b->manifest_offset < hs || b->manifest_offset % 8 ||
	    b->manifest_offset > b->file_size - ts)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "manifest offset %llu or part count %u out of bounds",
		             (unsigned long long)b->manifest_offset, b->nparts);
	man_end = b->manifest_offset + (uint64_t)b->nparts * VG_BUNDLE_ENTRY_SIZE;
	tail = b->file_size - ts;
	if (man_end > tail)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "manifest of %u parts runs into the signature block",
		             b->nparts);

	/* the signature block */
	if (!vg_match(img, size, tail, VG_BUNDLE_SIG_MAGIC, 8) ||
	    !vg_u32le(img, size, tail + 8, &b->sig_alg))
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "no signature block at the end (truncated or damaged)");
	if (b->sig_alg != VG_BUNDLE_UNSIGNED && b->sig_alg != VG_BUNDLE_ED25519)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "unknown signature algorithm %u", b->sig_alg);
	/* what the signature cannot cover must be empty, so no byte of a
	 * signed bundle can change unnoticed */
	for (size_t i = 12; i < ts; i++)
		if ((i < 16 || i >= 112) && img[tail + i])
			return failf(why, whylen, VG_BUNDLE_MALFORMED,
			             "signature block: reserved bytes are not zero");
	memcpy(b->pubkey, img + tail + 16, 32);
	memcpy(b->signature, img + tail + 48, 64);

	if (b->nparts && !(b->parts = calloc(b->nparts, sizeof *b->parts)))
		return failf(why, whylen, VG_BUNDLE_NOMEM, "out of memory");
	for (uint32_t i = 0; i < b->nparts; i++)
		if ((st = parse_entry(b, i, b->manifest_offset, why, whylen)))
			return st;
	return VG_BUNDLE_OK;
}

vg_bundle_status vg_bundle_open(vg_bundle *b, const char *path, char *why,
                                size_t whylen)
{
	vg_bundle_status ret;
	struct stat st;
	char id[17];
	void *map;

	memset(b, 0, sizeof *b);
	b->fd = -1;
	/* O_NONBLOCK: a FIFO named like a bundle must not hang the load */
	if ((b->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return failf(why, whylen, VG_BUNDLE_IO, "%s", strerror(errno));
	if (fstat(b->fd, &st) != 0)
		return failf(why, whylen, VG_BUNDLE_IO, "%s", strerror(errno));
	if (!S_ISREG(st.st_mode))
		return failf(why, whylen, VG_BUNDLE_IO, "not a regular file");
	if ((uint64_t)st.st_size > MAX_BUNDLE_SIZE)
		return failf(why, whylen, VG_BUNDLE_MALFORMED,
		             "larger than %llu GiB",
		             (unsigned long long)(MAX_BUNDLE_SIZE >> 30));
	if (st.st_size == 0)
		return failf(why, whylen, VG_BUNDLE_TRUNCATED,
		             "truncated bundle (empty file)");
	/* Read-only and shared: every process that maps this file uses the
	 * same page-cache pages for its hash sets. */
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, b->fd, 0);
	if (map == MAP_FAILED)
		return failf(why, whylen, errno == ENOMEM ? VG_BUNDLE_NOMEM
		                                          : VG_BUNDLE_IO,
		             "cannot map: %s", strerror(errno));
	b->mapped = 1;
	ret = vg_bundle_parse(b, map, (size_t)st.st_size, why, whylen);
	/* A signed bundle changed anywhere is a bad signature, even where
	 * the change also breaks the layout (a flipped part count). */
	if (ret != VG_BUNDLE_OK && ret != VG_BUNDLE_NOMEM &&
	    vg_bundle_tail_tampered(b, id))
		ret = failf(why, whylen, VG_BUNDLE_BAD_SIGNATURE,
		            "bad signature: the bundle was changed after key %s "
		            "signed it", id);
	return ret;
}

void vg_bundle_close(vg_bundle *b)
{
	if (b->mapped && b->image)
		munmap((void *)b->image, b->size);
	if (b->fd >= 0)
		close(b->fd);
	free(b->parts);
	memset(b, 0, sizeof *b);
	b->fd = -1;
}

void vg_bundle_keep_image(vg_bundle *b)
{
	b->mapped = 0;
}
