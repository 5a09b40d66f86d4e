/*
 * replay_main.c - runs a fuzz target over its seed corpus without
 * libFuzzer, so make check replays every corpus in a plain build.
 * Arguments are files or folders; with none, the corpus named after
 * the program: fuzz/<unit>_replay reads
 * $top_srcdir/fuzz/<unit>_fuzzer_corpus.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	if (!f) {
		perror(path);
		return 1;
	}
	for (;;) {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (!(buf = realloc(buf, cap)))
				abort();
		}
		size_t got = fread(buf + n, 1, cap - n, f);
		n += got;
		if (got == 0)
			break;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, n);
	free(buf);
	return 0;
}

static int replay(const char *path, int *count)
{
	struct stat st;
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		(*count)++;
		return replay_file(path);
	}
	if (!(d = opendir(path))) {
		perror(path);
		return 1;
	}
	while ((de = readdir(d))) {
		char sub[4096];
		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
		rc |= replay(sub, count);
	}
	closedir(d);
	return rc;
}

int main(int argc, char **argv)
{
	int count = 0, rc = 0;

	if (argc < 2) {
		const char *top = getenv("top_srcdir");
		const char *base = strrchr(argv[0], '/');
		char dir[4096];
		size_t len;
		base = base ? base + 1 : argv[0];
		len = strlen(base);
		if (len > 7 && strcmp(base + len - 7, "_replay") == 0)
			len -= 7;
		snprintf(dir, sizeof dir, "%s/fuzz/%.*s_fuzzer_corpus",
		         top ? top : ".", (int)len, base);
		rc = replay(dir, &count);
	}
	for (int i = 1; i < argc; i++)
		rc |= replay(argv[i], &count);
	printf("replayed %d inputs\n", count);
	/* an empty corpus is a broken test, not a passing one */
	return rc || count == 0 ? 1 : 0;
}
