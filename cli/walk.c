/*
 * walk.c - the directory walker (see walk.h).
 *
 * Directories wait on an explicit stack as path strings: each is opened,
 * read to the end and closed before the next one, so neither the C
 * stack nor the number of open descriptors grows with the tree's depth.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/walk.h"

typedef struct dir_id {
	dev_t dev;
	ino_t ino;
} dir_id;

struct vg_walker {
	const vg_walk_opts *opts;
	const vg_walk_ops *ops;
	void *ud;
	pcre2_match_data *md;

	char **stack;           /* directories still to read */
	size_t depth, stack_cap;

	char *path;             /* the entry being looked at */
	size_t path_cap;

	dev_t root_dev;         /* --one-file-system */

	dir_id *seen;           /* --follow-symlinks: open-addressing set */
	size_t nseen, seen_cap; /* seen_cap is 0 or a power of two */

	struct pending *files;  /* this directory's files, largest first */
	size_t nfiles, files_cap;
};

/* A regular file of the directory being read, queued after the whole
 * directory is listed so the largest go first: with several scan
 * threads, a big archive picked up last would leave the others idle
 * while it alone is scanned. */
struct pending {
	char *name;
	off_t size;
	int nofollow;
};

vg_walker *vg_walker_new(const vg_walk_opts *opts, const vg_walk_ops *ops,
                         void *ud)
{
	vg_walker *w = calloc(1, sizeof *w);

	if (!w)
		return NULL;
	w->opts = opts;
	w->ops = ops;
	w->ud = ud;
	if (opts->exclude && !vg_exclude_empty(opts->exclude) &&
	    !(w->md = pcre2_match_data_create(1, NULL))) {
		free(w);
		return NULL;
	}
	return w;
}

void vg_walker_free(vg_walker *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->depth; i++)
		free(w->stack[i]);
	free(w->stack);
	free(w->path);
	free(w->seen);
	free(w->files);
	pcre2_match_data_free(w->md);
	free(w);
}

static int stopped(const vg_walker *w)
{
	return w->opts->stop && atomic_load_explicit(w->opts->stop,
	                                             memory_order_relaxed);
}

static int push_dir(vg_walker *w, const char *path, size_t len)
{
	char *copy;

	if (w->depth == w->stack_cap) {
		size_t cap = w->stack_cap ? w->stack_cap * 2 : 64;
		char **grown = realloc(w->stack, cap * sizeof *grown);
		if (!grown)
			return -1;
		w->stack = grown;
		w->stack_cap = cap;
	}
	if (!(copy = malloc(len + 1)))
		return -1;
	memcpy(copy, path, len + 1);
	w->stack[w->depth++] = copy;
	return 0;
}

static size_t seen_slot(const vg_walker *w, dir_id id)
{
	uint64_t h = ((uint64_t)id.dev * 0x9e3779b97f4a7c15u) ^ (uint64_t)id.ino;
	h *= 0xff51afd7ed558ccdu;
	return (size_t)(h ^ (h >> 32)) & (w->seen_cap - 1);
}

/* Adds a directory to the set; 1 if it was there already, -1 on ENOMEM. */
static int seen_add(vg_walker *w, dir_id id)
{
	size_t i;

	if ((w->nseen + 1) * 2 > w->seen_cap) {
		size_t cap = w->seen_cap ? w->seen_cap * 2 : 256;
		dir_id *old = w->seen;
		size_t old_cap = w->seen_cap;
		/* ino 0 marks a free slot; no real directory has it */
		if (!(w->seen = calloc(cap, sizeof *w->seen))) {
			w->seen = old;
			return -1;
		}
		w->seen_cap = cap;
		for (size_t j = 0; j < old_cap; j++) {
			if (!old[j].ino)
				continue;
			for (i = seen_slot(w, old[j]); w->seen[i].ino;
			     i = (i + 1) & (cap - 1))
				;
			w->seen[i] = old[j];
		}
		free(old);
	}
	for (i = seen_slot(w, id); w->seen[i].ino; i = (i + 1) & (w->seen_cap - 1))
		if (w->seen[i].ino == id.ino && w->seen[i].dev == id.dev)
			return 1;
	w->seen[i] = id;
	w->nseen++;
	return 0;
}

static void report_error(vg_walker *w, const char *path, int errnum)
{
	if (w->ops->error)
		w->ops->error(w->ud, path, errnum);
}

static void report_skip(vg_walker *w, const char *path, const char *why)
{
	if (w->ops->skipped)
		w->ops->skipped(w->ud, path, why);
}

/* Sets w->path to "dir/name"; returns its length or 0 on ENOMEM. */
static size_t join(vg_walker *w, const char *dir, size_t dlen,
                   const char *name)
{
	size_t nlen = strlen(name);
	size_t sep = dlen && dir[dlen - 1] != '/';
	size_t len = dlen + sep + nlen;

	if (len + 1 > w->path_cap) {
		size_t cap = (len + 1) * 2;
		char *grown = realloc(w->path, cap);
		if (!grown)
			return 0;
		w->path = grown;
		w->path_cap = cap;
	}
	if (w->path != dir)
		memcpy(w->path, dir, dlen);
	if (sep)
		w->path[dlen] = '/';
	memcpy(w->path + dlen + sep, name, nlen + 1);
	return len;
}

static unsigned char type_of_mode(mode_t m)
{
	return S_ISREG(m) ? DT_REG : S_ISDIR(m) ? DT_DIR : S_ISLNK(m) ? DT_LNK
	                                                             : DT_UNKNOWN;
}

/* Queues a regular file; st is its stat when already known. */
static int defer_file(vg_walker *w, int dfd, const char *name,
                      const struct stat *st)
{
	struct stat own;
	struct pending *p;

	if (w->nfiles == w->files_cap) {
		size_t cap = w->files_cap ? w->files_cap * 2 : 64;
		struct pending *grown = realloc(w->files, cap * sizeof *grown);
		if (!grown)
			return -1;
		w->files = grown;
		w->files_cap = cap;
	}
	if (!st)
		st = fstatat(dfd, name, &own, 0) == 0 ? &own : NULL;
	p = &w->files[w->nfiles];
	if (!(p->name = strdup(name)))
		return -1;
	p->size = st ? st->st_size : 0;
	p->nofollow = !w->opts->follow_symlinks;
	w->nfiles++;
	return 0;
}

static int larger_first(const void *a, const void *b)
{
	const struct pending *x = a, *y = b;
	return (x->size < y->size) - (x->size > y->size);
}

/* Hands this directory's files to the scanner, largest first. */
static int flush_files(vg_walker *w, const char *dir, size_t dlen, int r)
{
	if (w->nfiles > 1)
		qsort(w->files, w->nfiles, sizeof *w->files, larger_first);
	for (size_t i = 0; i < w->nfiles; i++) {
		size_t len;
		if (r == 0) {
			if (!(len = join(w, dir, dlen, w->files[i].name)))
				r = -1;
			else if (w->ops->file(w->ud, w->path, len,
			                      w->files[i].nofollow) || stopped(w))
				r = 1;
		}
		free(w->files[i].name);
	}
	w->nfiles = 0;
	return r;
}

/* One directory entry: 0 to go on, 1 to stop, -1 on ENOMEM. */
static int visit_entry(vg_walker *w, int dfd, const char *dir, size_t dlen,
                       const struct dirent *de)
{
	const vg_walk_opts *o = w->opts;
	unsigned char type = de->d_type;
	struct stat st;
	size_t len;

	if (!(len = join(w, dir, dlen, de->d_name)))
		return -1;
	if (w->md && vg_exclude_match(o->exclude, w->md, w->path, len,
	                              len - strlen(de->d_name)))
		return 0;
	if (type == DT_UNKNOWN) {
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			report_error(w, w->path, errno);
			return 0;
		}
		type = type_of_mode(st.st_mode);
	}
	if (type == DT_LNK) {
		if (!o->follow_symlinks)
			return 0;   /* quietly, as clamscan and find do */
		if (fstatat(dfd, de->d_name, &st, 0) != 0) {
			report_skip(w, w->path, "broken symbolic link");
			return 0;
		}
		type = type_of_mode(st.st_mode);
	}
	switch (type) {
	case DT_REG:
		return defer_file(w, dfd, de->d_name, type == de->d_type ? NULL : &st);
	case DT_DIR:
		return push_dir(w, w->path, len);
	default:
		report_skip(w, w->path, "not a regular file");
		return 0;
	}
}

/* 1 if this directory must not be read: another file system, or (when
 * following links) read already. -1 on ENOMEM. */
static int leave_out(vg_walker *w, int dfd, const char *path)
{
	struct stat st;
	int r;

	if (!w->opts->one_file_system && !w->opts->follow_symlinks)
		return 0;
	if (fstat(dfd, &st) != 0) {
		report_error(w, path, errno);
		return 1;
	}
	if (w->opts->one_file_system && st.st_dev != w->root_dev)
		return 1;
	if (w->opts->follow_symlinks) {
		r = seen_add(w, (dir_id){ st.st_dev, st.st_ino });
		if (r != 0)
			return r;
	}
	return 0;
}

/* Reads one directory; pushes its subdirectories. */
static int read_dir(vg_walker *w, const char *path, int is_root)
{
	int flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY;
	size_t dlen = strlen(path), first = w->depth;
	struct dirent *de;
	DIR *d;
	int dfd, r = 0;

	if (!is_root && !w->opts->follow_symlinks)
		flags |= O_NOFOLLOW;
	if ((dfd = open(path, flags)) < 0) {
		report_error(w, path, errno);
		return 0;
	}
	if ((r = leave_out(w, dfd, path)) != 0) {
		close(dfd);
		return r < 0 ? -1 : 0;
	}
	if (!(d = fdopendir(dfd))) {
		report_error(w, path, errno);
		close(dfd);
		return 0;
	}
	if (w->ops->dir)
		w->ops->dir(w->ud, path);
	for (;;) {
		errno = 0;
		if (!(de = readdir(d))) {
			if (errno)
				report_error(w, path, errno);
			break;
		}
		if (de->d_name[0] == '.' && (!de->d_name[1] ||
		    (de->d_name[1] == '.' && !de->d_name[2])))
			continue;
		if ((r = visit_entry(w, dirfd(d), path, dlen, de)) != 0 ||
		    (r = stopped(w)) != 0)
			break;
	}
	r = flush_files(w, path, dlen, r);
	closedir(d);
	/* the stack pops last-in first: reverse this directory's part so
	 * subdirectories are read in the order they were listed */
	for (size_t i = first, j = w->depth; i + 1 < j; i++, j--) {
		char *t = w->stack[i];
		w->stack[i] = w->stack[j - 1];
		w->stack[j - 1] = t;
	}
	return r;
}

int vg_walker_run(vg_walker *w, const char *root)
{
	struct stat st;
	int r = 0, is_root = 1;

	if (stat(root, &st) != 0) {
		report_error(w, root, errno);
		return 0;
	}
	if (S_ISREG(st.st_mode))
		return w->ops->file(w->ud, root, strlen(root), 0) ? 1 : 0;
	if (!S_ISDIR(st.st_mode)) {
		report_skip(w, root, "not a regular file");
		return 0;
	}
	w->root_dev = st.st_dev;
	if (push_dir(w, root, strlen(root)) != 0)
		return -1;
	while (w->depth && r == 0) {
		char *dir = w->stack[--w->depth];
		r = stopped(w) ? 1 : read_dir(w, dir, is_root);
		is_root = 0;
		free(dir);
	}
	/* after a stop, drop what is left for the next root */
	while (w->depth)
		free(w->stack[--w->depth]);
	return r;
}
