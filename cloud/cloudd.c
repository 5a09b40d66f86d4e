/*
 * cloudd.c - the vigil-cloudd command: serve the lookup API, create API
 * keys, import hash feeds. See doc/vigil-cloudd.8.
 *
 *   vigil-cloudd [--config FILE] [--listen ADDR:PORT] [--store URL] ...
 *   vigil-cloudd key create --tenant NAME [--admin] [--config F | --store U]
 *   vigil-cloudd import --format FMT [--verdict V] [--name N]
 *                [--tenant NAME] [--config F | --store U] FILE...
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cloud/cloudd.h"
#include "cloud/request.h"

#define EXIT_USAGE 2
/* Largest feed file read by `import`; the API's MaxImportSize is apart. */
#define IMPORT_FILE_MAX (4ull << 30)

static void usage(FILE *f)
{
	fputs(
"Usage: vigil-cloudd [OPTION]...             serve the lookup API\n"
"       vigil-cloudd key create --tenant NAME [--admin] [STORE]\n"
"       vigil-cloudd import --format FMT [--verdict V] [--name NAME]\n"
"                    [--tenant NAME] [STORE] FILE...\n"
"\n"
"  -c, --config=FILE       read settings from FILE (vigil-cloudd.conf(5)\n"
"                          directives, see vigil-cloudd(8))\n"
"  -l, --listen=ADDR:PORT  listen here (default 127.0.0.1:8440; port 0\n"
"                          picks a free one, see --port-file)\n"
"  -s, --store=URL         sqlite:PATH or redis://HOST:PORT[/DB]\n"
"      --port-file=FILE    write the bound port to FILE once listening\n"
"      --log-file=FILE     access log\n"
"  -h, --help              show this help\n"
"  -V, --version           show the version\n"
"\n"
"STORE is --store=URL or --config=FILE. FMT is hdb, hsb, sha256 or\n"
"bazaar; V is malicious (default) or clean; --tenant defaults to\n"
"global, the intelligence every tenant sees.\n"
"\n"
"Exit status: 0 success, 1 failure, 2 usage error.\n", f);
}

static int usage_error(const char *msg)
{
	fprintf(stderr, "vigil-cloudd: %s\nTry 'vigil-cloudd --help'.\n", msg);
	return EXIT_USAGE;
}

enum { OPT_PORT_FILE = 256, OPT_LOG_FILE, OPT_TENANT, OPT_ADMIN,
       OPT_FORMAT, OPT_VERDICT, OPT_NAME };

static const struct option long_options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, 'l' },
	{ "store", required_argument, NULL, 's' },
	{ "port-file", required_argument, NULL, OPT_PORT_FILE },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "tenant", required_argument, NULL, OPT_TENANT },
	{ "admin", no_argument, NULL, OPT_ADMIN },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "verdict", required_argument, NULL, OPT_VERDICT },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

typedef struct opts {
	vg_cloudd_config cfg;
	const char *tenant, *format, *verdict, *name;
	int admin;
} opts;

/* Options in any order; the config file first, flags over it. */
static int parse(int argc, char **argv, opts *o)
{
	const char *listen = NULL, *store = NULL, *port_file = NULL,
	           *log_file = NULL, *config = NULL;
	char err[1024];
	int c;

	vg_cloudd_config_defaults(&o->cfg);
	while ((c = getopt_long(argc, argv, "c:l:s:hV", long_options, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'l': listen = optarg; break;
		case 's': store = optarg; break;
		case OPT_PORT_FILE: port_file = optarg; break;
		case OPT_LOG_FILE: log_file = optarg; break;
		case OPT_TENANT: o->tenant = optarg; break;
		case OPT_ADMIN: o->admin = 1; break;
		case OPT_FORMAT: o->format = optarg; break;
		case OPT_VERDICT: o->verdict = optarg; break;
		case OPT_NAME: o->name = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("vigil-cloudd %s\n", PACKAGE_VERSION); return 0;
		default: return usage_error("bad option");
		}
	}
	if (config && vg_cloudd_config_load(config, &o->cfg, err, sizeof err)) {
		fprintf(stderr, "vigil-cloudd: %s\n", err);
		return EXIT_USAGE;
	}
#define SET(field, v) \
	do { if ((v) && snprintf(o->cfg.field, sizeof o->cfg.field, "%s", (v)) \
	         >= (int)sizeof o->cfg.field) return usage_error(#field " too long"); \
	} while (0)
	SET(listen, listen);
	SET(store, store);
	SET(port_file, port_file);
	SET(log_file, log_file);
	return -1;
}

static char *read_file(const char *path, uint64_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	char *buf;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || (uint64_t)st.st_size > max ||
	    !(buf = malloc((size_t)st.st_size + 1))) {
		fclose(f);
		errno = EFBIG;
		return NULL;
	}
	*len = fread(buf, 1, (size_t)st.st_size, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static vg_store *open_store(const opts *o)
{
	char err[512];
	vg_store *s = vg_store_open(o->cfg.store, err, sizeof err);

	if (!s)
		fprintf(stderr, "vigil-cloudd: %s\n", err);
	return s;
}

static int key_create(const opts *o)
{
	vg_key_info k = { .admin = o->admin };
	char key[VG_KEY_MAX], hash[65];
	vg_store *s;
	int rc;

	if (!o->tenant || !vg_tenant_valid(o->tenant))
		return usage_error("key create: --tenant NAME ([A-Za-z0-9._-], "
		                   "1 to 63 bytes) is required");
	snprintf(k.tenant, sizeof k.tenant, "%s", o->tenant);
	if (vg_key_generate(key) != 0) {
		fprintf(stderr, "vigil-cloudd: no random bytes\n");
		return 1;
	}
	if (!(s = open_store(o)))
		return 1;
	vg_key_hash(key, hash);
	rc = s->ops->key_add(s, hash, &k, (int64_t)time(NULL));
	if (rc != 0)
		fprintf(stderr, "vigil-cloudd: %s\n", s->errmsg);
	vg_store_close(s);
	if (rc != 0)
		return 1;
	printf("tenant %s%s; only this hash of the key is stored: %s\n%s\n",
	       k.tenant, k.admin ? " (admin)" : "", hash, key);
	return 0;
}

typedef struct import_ctx {
	vg_store *s;
	const char *scope;
	vg_import_entry *buf;
	size_t n;
} import_ctx;

static int flush(import_ctx *ic)
{
	int rc = ic->n ? ic->s->ops->put(ic->s, ic->scope, ic->buf, ic->n,
	                                 (int64_t)time(NULL)) : 0;
	ic->n = 0;
	return rc ? -1 : 0;
}

#define CHUNK 10000
static int add(void *ud, const vg_import_entry *e)
{
	import_ctx *ic = ud;
	ic->buf[ic->n++] = *e;
	return ic->n == CHUNK ? flush(ic) : 0;
}

static int import(const opts *o, int nfiles, char **files)
{
	vg_feed_format ff;
	vg_cverdict v = VG_CV_MALICIOUS;
	import_ctx ic = { .scope = o->tenant ? o->tenant : VG_SCOPE_GLOBAL };
	int rc = 0;

	if (!o->format || vg_feed_format_parse(o->format, &ff) != 0)
		return usage_error("import: --format hdb, hsb, sha256 or bazaar");
	if (o->verdict && vg_cverdict_parse(o->verdict, &v) != 0)
		return usage_error("import: --verdict malicious or clean");
	if (!vg_tenant_valid(ic.scope))
		return usage_error("import: bad --tenant");
	if (o->name && !vg_name_valid(o->name, VG_NAME_MAX))
		return usage_error("import: bad --name");
	if (nfiles < 1)
		return usage_error("import: no FILE given");
	if (!(ic.buf = malloc(CHUNK * sizeof *ic.buf)) || !(ic.s = open_store(o))) {
		free(ic.buf);
		return 1;
	}
	for (int i = 0; i < nfiles && rc == 0; i++) {
		vg_feed_stats st;
		size_t len = 0;
		char *data = read_file(files[i], IMPORT_FILE_MAX, &len);
		if (!data) {
			fprintf(stderr, "vigil-cloudd: %s: %s\n", files[i],
			        strerror(errno));
			rc = 1;
			break;
		}
		if (vg_feed_parse(data, len, ff, v, o->name, add, &ic, &st) != 0 ||
		    flush(&ic) != 0) {
			fprintf(stderr, "vigil-cloudd: %s: store: %s\n", files[i],
			        ic.s->errmsg);
			rc = 1;
		} else {
			printf("%s: %llu imported into %s, %llu skipped, %llu lines\n",
			       files[i], (unsigned long long)st.imported, ic.scope,
			       (unsigned long long)st.skipped,
			       (unsigned long long)st.lines);
		}
		free(data);
	}
	free(ic.buf);
	vg_store_close(ic.s);
	return rc;
}

static char *read_pem(const char *path, char *err, size_t errlen)
{
	size_t len;
	char *s = read_file(path, 1u << 20, &len);
	if (!s)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	return s;
}

static int write_small(const char *path, const char *fmt, unsigned v)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fprintf(f, fmt, v);
	return fclose(f);
}

static int serve(const opts *o)
{
	vg_cloudd d = { .cfg = o->cfg };
	char err[1024];
	sigset_t set;
	int sig = 0, rc = 1;

	pthread_mutex_init(&d.log_lock, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* only this thread takes the signals: block them before any other
	 * thread starts */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	if (d.cfg.log_file[0] && !(d.log = fopen(d.cfg.log_file, "a"))) {
		fprintf(stderr, "vigil-cloudd: %s: %s\n", d.cfg.log_file,
		        strerror(errno));
		goto out;
	}
	if (d.cfg.tls_cert[0] || d.cfg.tls_key[0]) {
		if (!d.cfg.tls_cert[0] || !d.cfg.tls_key[0]) {
			fprintf(stderr, "vigil-cloudd: TLS needs both TLSCertificate "
			        "and TLSKey\n");
			goto out;
		}
		if (!(d.tls_cert = read_pem(d.cfg.tls_cert, err, sizeof err)) ||
		    !(d.tls_key = read_pem(d.cfg.tls_key, err, sizeof err))) {
			fprintf(stderr, "vigil-cloudd: %s\n", err);
			goto out;
		}
	}
	if (!(d.store = open_store(o)))
		goto out;
	if (!(d.metrics = vg_metrics_new()) ||
	    !(d.rl = vg_ratelimit_new(d.cfg.rate_limit, d.cfg.rate_burst,
	                              d.cfg.rate_keys))) {
		fprintf(stderr, "vigil-cloudd: out of memory\n");
		goto out;
	}
	if (vg_http_start(&d, err, sizeof err) != 0) {
		fprintf(stderr, "vigil-cloudd: %s\n", err);
		goto out;
	}
	if ((d.cfg.port_file[0] &&
	     write_small(d.cfg.port_file, "%u\n", d.port) != 0) ||
	    (d.cfg.pid_file[0] &&
	     write_small(d.cfg.pid_file, "%u\n", (unsigned)getpid()) != 0)) {
		fprintf(stderr, "vigil-cloudd: cannot write the port or pid file\n");
		goto out;
	}
	fprintf(stderr, "vigil-cloudd: listening on port %u%s, store %s\n",
	        d.port, d.tls_cert ? " (TLS)" : "", d.cfg.store);
	while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
		/* reopen the access log after rotation */
		if (d.log) {
			pthread_mutex_lock(&d.log_lock);
			d.log = freopen(d.cfg.log_file, "a", d.log);
			pthread_mutex_unlock(&d.log_lock);
		}
	}
	fprintf(stderr, "vigil-cloudd: stopping on signal %d\n", sig);
	rc = 0;
out:
	vg_http_stop(&d);
	vg_store_close(d.store);
	vg_metrics_free(d.metrics);
	vg_ratelimit_free(d.rl);
	if (d.log)
		fclose(d.log);
	if (d.cfg.pid_file[0] && rc == 0)
		unlink(d.cfg.pid_file);
	free(d.tls_cert);
	free(d.tls_key);
	return rc;
}

int main(int argc, char **argv)
{
	opts o = { 0 };
	int rc;

	if (argc >= 3 && strcmp(argv[1], "key") == 0 &&
	    strcmp(argv[2], "create") == 0) {
		if ((rc = parse(argc - 2, argv + 2, &o)) >= 0)
			return rc;
		if (optind < argc - 2)
			return usage_error("key create: unexpected argument");
		return key_create(&o);
	}
	if (argc >= 2 && strcmp(argv[1], "import") == 0) {
		if ((rc = parse(argc - 1, argv + 1, &o)) >= 0)
			return rc;
		return import(&o, argc - 1 - optind, argv + 1 + optind);
	}
	if ((rc = parse(argc, argv, &o)) >= 0)
		return rc;
	if (optind < argc)
		return usage_error("unexpected argument (commands: key create, "
		                   "import)");
	return serve(&o);
}
