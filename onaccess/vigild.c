/*
 * vigild.c - the vigil daemon: reads vigild.conf, starts the log and
 * the scan pool, then each service of the table below, and waits for
 * signals: SIGTERM/SIGINT stop, SIGHUP reloads the signatures and
 * reopens the logs. Talks to systemd (sd_notify: READY, RELOADING,
 * STOPPING, WATCHDOG).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "onaccess/conf.h"
#include "onaccess/daemon.h"
#include "onaccess/engine_build.h"
#include "onaccess/log.h"
#include "onaccess/pool.h"
#include "vigil/vigil.h"

#define DEFAULT_CONFIG "/etc/vigil/vigild.conf"

/* The services, started in this order and stopped in reverse. The
 * control socket comes last: once it answers ping, every service is up
 * (the on-access marks are in place), so a script that waits for it
 * never races the start. */
static const vg_service *const services[] = {
	&vg_service_clamd,
	&vg_service_onaccess,
	&vg_service_control,
};
#define NSERVICES (sizeof services / sizeof services[0])

static int stop_pipe[2] = { -1, -1 };

static void request_stop(void)
{
	char c = 's';
	if (write(stop_pipe[1], &c, 1) < 0) {
		/* a stop is already pending */
	}
}

json_t *vg_daemon_stats(const vg_daemon *d)
{
	vg_pool_stats s;
	json_t *o = json_object();

	vg_pool_get_stats(d->pool, &s);
	json_object_set_new(o, "pool", json_pack(
		"{s:i, s:I, s:i, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I, s:I,"
		" s:I, s:I, s:I, s:I, s:I, s:s, s:I}",
		"generation", (int)s.generation, "signatures", (json_int_t)s.signatures,
		"workers", (int)s.workers, "busy", (int)s.busy, "queued", (int)s.queued,
		"queue_max", (int)s.queue_max, "queue_high", (int)s.queue_high,
		"submitted", (json_int_t)s.submitted, "completed", (json_int_t)s.completed,
		"errors", (json_int_t)s.errors, "refused", (json_int_t)s.refused,
		"crashes", (json_int_t)s.crashes, "hangs", (json_int_t)s.hangs,
		"deadlines", (json_int_t)s.deadlines, "cached", (json_int_t)s.cached,
		"cache_hits", (json_int_t)s.cache_hits,
		"reloads", (json_int_t)s.reloads,
		"reload_failures", (json_int_t)s.reload_failures,
		"last_reload", s.last_reload,
		"bundle_version", (json_int_t)s.bundle_version));
	json_object_set_new(o, "log_dropped", json_integer((json_int_t)vg_log_dropped()));
	for (size_t i = 0; i < NSERVICES; i++)
		if (services[i]->stats)
			services[i]->stats(o);
	return o;
}

static void usage(FILE *f)
{
	fputs("Usage: vigild [--config FILE] [--foreground] [--check-config]\n"
	      "\n"
	      "  -c, --config FILE    configuration (default " DEFAULT_CONFIG ")\n"
	      "  -F, --foreground     do not detach (also: Foreground yes)\n"
	      "      --check-config   check the configuration and the signatures,\n"
	      "                       print the effective configuration, exit\n"
	      "      --list-directives  print every directive with its type and default\n"
	      "  -V, --version        print versions\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "Exit codes: 0 clean stop, 1 configuration or start-up error.\n"
	      "See vigild(8) and vigild.conf(5).\n",
	      f);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	setsid();
	if ((pid = fork()) < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (chdir("/") != 0)
		return -1;
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

static int check_config(const char *path)
{
	char err[1024];
	vg_config *cfg = vg_config_load(path, err, sizeof err);
	vigil_engine *e;

	if (!cfg) {
		fprintf(stderr, "vigild: %s\n", err);
		return 1;
	}
	if (!(e = vg_engine_build(cfg, 0, err, sizeof err))) {
		fprintf(stderr, "vigild: %s: %s\n", path, err);
		vg_config_free(cfg);
		return 1;
	}
	printf("# %s: OK, %llu signatures\n", path,
	       (unsigned long long)vigil_engine_signature_count(e));
	vg_config_dump(cfg, stdout);
	vigil_engine_free(e);
	vg_config_free(cfg);
	return 0;
}

static unsigned worker_count(const vg_config *cfg)
{
	uint64_t n = vg_conf_num(cfg, VG_CONF_SCAN_WORKERS);
	long cpus;
	if (n)
		return (unsigned)n;
	cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus > 0 ? (unsigned)cpus : 1;
}

/* Feeds the systemd watchdog only while every loop shows progress. */
typedef struct watchdog {
	uint64_t usec;
	uint64_t last[NSERVICES + 1];
} watchdog;

static void watchdog_tick(watchdog *w, vg_pool *pool)
{
	int alive = 1;
	uint64_t v = vg_pool_heartbeat(pool);

	if (v == w->last[0])
		alive = 0;
	w->last[0] = v;
	for (size_t i = 0; i < NSERVICES; i++) {
		if (!services[i]->heartbeat)
			continue;
		v = services[i]->heartbeat();
		if (v == w->last[i + 1])
			alive = 0;
		w->last[i + 1] = v;
	}
	if (alive)
		sd_notify(0, "WATCHDOG=1");
	else
		vg_log(VG_LOG_ERR, "a vigild loop made no progress: watchdog not fed");
}

static int run(const char *config_path, int foreground)
{
	char err[1024];
	vg_config *cfg;
	vg_daemon d = { 0 };
	vg_log_config lc = { 0 };
	vg_pool_config pc = { 0 };
	sigset_t mask;
	int sfd, rc = 0;
	size_t started = 0;
	const char *pidfile;
	watchdog wd = { 0 };
	uint64_t reloads_seen = 0;
	int reloading = 0;
	char *abs_config;

	if (!(cfg = vg_config_load(config_path, err, sizeof err))) {
		fprintf(stderr, "vigild: %s\n", err);
		return 1;
	}
	/* the engine process re-reads the file, maybe from another cwd */
	if (!(abs_config = realpath(config_path, NULL))) {
		fprintf(stderr, "vigild: %s: %s\n", config_path, strerror(errno));
		vg_config_free(cfg);
		return 1;
	}
	foreground |= vg_conf_bool(cfg, VG_CONF_FOREGROUND);
	if (!foreground && daemonize() != 0) {
		fprintf(stderr, "vigild: cannot detach: %s\n", strerror(errno));
		return 1;
	}
	/* every thread inherits this mask: signals come through signalfd */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0 || pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, "vigild: %s\n", strerror(errno));
		return 1;
	}
	raise_nofile();

	lc.file = *vg_conf_str(cfg, VG_CONF_LOG_FILE) ? vg_conf_str(cfg, VG_CONF_LOG_FILE) : NULL;
	lc.event_file = *vg_conf_str(cfg, VG_CONF_EVENT_LOG_FILE)
	                ? vg_conf_str(cfg, VG_CONF_EVENT_LOG_FILE) : NULL;
	lc.use_syslog = vg_conf_bool(cfg, VG_CONF_LOG_SYSLOG);
	lc.use_stderr = foreground && !getenv("JOURNAL_STREAM");
	lc.verbose = vg_conf_bool(cfg, VG_CONF_LOG_VERBOSE);
	lc.queue = (unsigned)vg_conf_num(cfg, VG_CONF_LOG_QUEUE);
	if (vg_log_open(&lc) != 0) {
		fprintf(stderr, "vigild: cannot open the log: %s\n", strerror(errno));
		return 1;
	}

	pc.config_path = abs_config;
	pc.workers = worker_count(cfg);
	pc.max_queue = (unsigned)vg_conf_num(cfg, VG_CONF_MAX_QUEUE);
	pc.hang_ms = vg_engine_hang_ms(cfg);
	pc.cache_entries = (size_t)vg_conf_num(cfg, VG_CONF_SHARED_CACHE);
	pc.background_nice = (unsigned)vg_conf_num(cfg, VG_CONF_OA_BG_NICE);
	if (!(d.pool = vg_pool_start(&pc, err, sizeof err))) {
		vg_log(VG_LOG_ERR, "cannot start: %s", err);
		rc = 1;
		goto out;
	}
	d.cfg = cfg;
	d.request_stop = request_stop;
	for (; started < NSERVICES; started++) {
		if (services[started]->start(&d, err, sizeof err) != 0) {
			vg_log(VG_LOG_ERR, "cannot start %s: %s", services[started]->name, err);
			rc = 1;
			goto out;
		}
	}
	pidfile = vg_conf_str(cfg, VG_CONF_PID_FILE);
	if (*pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		} else {
			vg_log(VG_LOG_WARNING, "PidFile %s: %s", pidfile, strerror(errno));
		}
	}
	{
		vg_pool_stats s;
		vg_pool_get_stats(d.pool, &s);
		reloads_seen = s.reloads + s.reload_failures;
		vg_log(VG_LOG_INFO, "vigild %s ready: %llu signatures, %u scan workers",
		       vigil_version(), (unsigned long long)s.signatures, pc.workers);
		sd_notifyf(0, "READY=1\nSTATUS=serving, %llu signatures\nMAINPID=%d",
		           (unsigned long long)s.signatures, (int)getpid());
	}
	if (sd_watchdog_enabled(0, &wd.usec) <= 0)
		wd.usec = 0;

	for (;;) {
		struct pollfd p[2] = { { sfd, POLLIN, 0 }, { stop_pipe[0], POLLIN, 0 } };
		int timeout = wd.usec ? (int)(wd.usec / 2000) : 1000;
		if (timeout > 1000)
			timeout = 1000;
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			break;
		if (wd.usec)
			watchdog_tick(&wd, d.pool);
		if (reloading) {
			vg_pool_stats s;
			vg_pool_get_stats(d.pool, &s);
			if (s.reloads + s.reload_failures != reloads_seen) {
				reloads_seen = s.reloads + s.reload_failures;
				reloading = 0;
				sd_notifyf(0, "READY=1\nSTATUS=%s", s.last_reload);
			}
		}
		if (p[1].revents) {
			vg_log(VG_LOG_INFO, "stopping on request");
			break;
		}
		if (p[0].revents) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGHUP) {
				vg_log(VG_LOG_INFO, "SIGHUP: reloading signatures, reopening logs");
				vg_log_reopen();
				if (!reloading) {
					vg_pool_stats s;
					vg_pool_get_stats(d.pool, &s);
					reloads_seen = s.reloads + s.reload_failures;
					reloading = 1;
					sd_notify(0, "RELOADING=1");
				}
				vg_pool_reload(d.pool, 0, NULL, 0);
				continue;
			}
			vg_log(VG_LOG_INFO, "signal %d: stopping", (int)si.ssi_signo);
			break;
		}
	}
out:
	sd_notify(0, "STOPPING=1");
	while (started > 0) {
		started--;
		if (services[started]->stop)
			services[started]->stop();
	}
	vg_pool_stop(d.pool);
	if (*vg_conf_str(cfg, VG_CONF_PID_FILE))
		unlink(vg_conf_str(cfg, VG_CONF_PID_FILE));
	vg_log(VG_LOG_INFO, "vigild stopped");
	vg_log_close();
	vg_config_free(cfg);
	free(abs_config);
	close(sfd);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "list-directives", no_argument, NULL, 'L' },
		{ "engine-process", required_argument, NULL, 'E' },
		{ "min-bundle-version", required_argument, NULL, 'M' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONFIG;
	int foreground = 0, check = 0, engine_fd = -1, c;
	unsigned long long min_bundle = 0;

	while ((c = getopt_long(argc, argv, "c:FVh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'F': foreground = 1; break;
		case 'C': check = 1; break;
		case 'L': vg_config_table_dump(stdout); return 0;
		case 'E': engine_fd = atoi(optarg); break;
		case 'M': min_bundle = strtoull(optarg, NULL, 10); break;
		case 'V': fputs(vigil_version_details(), stdout); return 0;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 1;
	}
	if (engine_fd >= 0)
		return vg_engine_process_main(engine_fd, config, min_bundle);
	if (check)
		return check_config(config);
	return run(config, foreground);
}
