/*
 * ocbench: checkpoint/restore benchmark, ocicr against a reference CRIU.
 *
 * For each workload (a heartbeat process with N MiB of private memory, and
 * a tree of small processes) and each tool, interleaved and repeated:
 *   - frozen time as seen from outside: the longest gap between heartbeats
 *     while `TOOL dump -t PID -D DIR --leave-running` runs;
 *   - dump wall time and the dumper's peak RSS;
 *   - image size;
 *   - restore wall time from starting `TOOL restore -D DIR -d` until the
 *     restored process beats again.
 * Prints best and median of each.  See docs/performance.md.
 *
 * usage: ocbench [-s 64,1024,4096] [-t CHILDREN] [-r REPEAT] [-d WORKDIR]
 *        with OCICR=path (default build/ocicr) and CRIU=path (optional);
 *        OCBENCH_VERBOSE=1 prints when each run's longest gap began
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS 32

struct tool {
	const char *name;
	const char *path;
};

struct result {
	double frozen_ms[MAX_RUNS], dump_ms[MAX_RUNS], restore_ms[MAX_RUNS];
	double image_mib, rss_mib;
	int n;
	int failures;
};

static const char *workdir = "/tmp/ocbench";
static const char *heartbeat_bin = "build/bench/heartbeat";

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static double ms_since(uint64_t t0)
{
	return (now_ns() - t0) / 1e6;
}

/* ---- heartbeat monitor ---------------------------------------------------- */

static volatile uint64_t *beat;
static atomic_bool monitoring, monitor_quit;
static atomic_uint_fast64_t max_gap_ns, max_gap_at_ns;
static atomic_uint_fast64_t dump_start_ns; /* gaps count from here on */

#define MONITOR_SLEEP_NS (50 * 1000)

static void *monitor(void *arg)
{
	uint64_t last = 0;

	prctl(PR_SET_TIMERSLACK, 1000UL); /* this thread's sleeps: 50 us, not 100 */

	while (!atomic_load(&monitor_quit)) {
		uint64_t v = beat[0];
		if (atomic_load(&monitoring)) {
			/* A stall that began before the dump is not the dump's. */
			uint64_t from = last > atomic_load(&dump_start_ns) ? last : atomic_load(&dump_start_ns);
			if (last && v != last && v > from && v - from > atomic_load(&max_gap_ns)) {
				atomic_store(&max_gap_ns, v - from);
				atomic_store(&max_gap_at_ns, from);
			}
		}
		last = v;
		/* Sleep between looks: spinning would take one of the machine's
		 * cores from the tools under test.  The gap comes from the
		 * beat's own timestamps; a look that misses a beat or two
		 * only widens short gaps, by at most the sleep. */
		nanosleep(&(struct timespec){ 0, MONITOR_SLEEP_NS }, NULL);
	}
	return NULL;
}

/* ---- processes ------------------------------------------------------------ */

static pid_t start_workload(size_t mib, int children, const char *beatfile)
{
	char size[32], kids[32];
	pid_t pid = fork();

	if (pid == 0) {
		setsid();
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		snprintf(size, sizeof(size), "%zu", mib);
		snprintf(kids, sizeof(kids), "%d", children);
		execl(heartbeat_bin, heartbeat_bin, size, beatfile, kids, (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* Run a command; returns its exit status, *rss_kib its peak RSS. */
static int run(char *const argv[], long *rss_kib)
{
	pid_t pid = fork();
	int st;
	struct rusage ru;

	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execv(argv[0], argv);
		_exit(127);
	}
	if (wait4(pid, &st, 0, &ru) != pid)
		return -1;
	if (rss_kib)
		*rss_kib = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Kill the workload's whole process group and wait until every pid of
 * it is free again (we are a subreaper: its orphans come to us). */
static void kill_tree(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	for (int i = 0; i < 20000; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(-pid, 0) < 0 && kill(pid, 0) < 0)
			return;
		usleep(1000);
	}
}

static double dir_mib(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	double total = 0;

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			total += st.st_blocks * 512.0;
	}
	closedir(d);
	return total / (1 << 20);
}

static void read_dir_files(const char *dir)
{
	/* images in the page cache for both tools alike */
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "cat %s/* > /dev/null 2>&1", dir);
	if (system(cmd) < 0)
		perror("system");
}

static void warm_memory(size_t mib)
{
	/* The first touch of guest memory is slow on this VM: touch (and
	 * give back) enough that the runs reuse memory already backed. */
	size_t len = mib << 20;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return;
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
	munmap(p, len);
}

/* ---- one run ---------------------------------------------------------------- */

static int one_run(const struct tool *tool, size_t mib, int children, struct result *res)
{
	char dir[512], beatfile[512];
	long rss = 0;
	int r;

	snprintf(dir, sizeof(dir), "%s/%s-%zu-%d", workdir, tool->name, mib, children);
	snprintf(beatfile, sizeof(beatfile), "%s/beat", workdir);
	char rm[1200];
	snprintf(rm, sizeof(rm), "rm -rf %s && mkdir -p %s", dir, dir);
	if (system(rm) != 0)
		return -1;

	int bfd = open(beatfile, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (bfd < 0 || ftruncate(bfd, 4096) < 0)
		return -1;
	beat = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, bfd, 0);
	close(bfd);

	pid_t pid = start_workload(mib, children, beatfile);
	uint64_t deadline = now_ns() + 600ull * 1000000000ull;
	while (!beat[1] && now_ns() < deadline)
		usleep(1000);
	usleep(200 * 1000);

	atomic_store(&monitor_quit, false);
	atomic_store(&max_gap_ns, 0);
	pthread_t mon;
	pthread_create(&mon, NULL, monitor, NULL);
	usleep(20 * 1000);

	char pidarg[32];
	snprintf(pidarg, sizeof(pidarg), "%d", pid);
	char *dump_argv[] = { (char *)tool->path, "dump", "-t",	      pidarg, "-D", dir,
			      "--leave-running",  "-o",	  "dump.log", "-v2",  NULL };
	/* Both tools write the images into warm memory alike. */
	warm_memory(mib + 64);
	uint64_t t0 = now_ns();
	atomic_store(&dump_start_ns, t0);
	atomic_store(&monitoring, true);
	r = run(dump_argv, &rss);
	double dump_ms = ms_since(t0);
	usleep(20 * 1000); /* let the beat after the freeze be seen */
	atomic_store(&monitoring, false);
	double frozen_ms = atomic_load(&max_gap_ns) / 1e6;
	if (getenv("OCBENCH_VERBOSE"))
		fprintf(stderr, "# %s %zu MiB: longest gap %.1f ms, starting %.1f ms into a %.1f ms dump\n", tool->name,
			mib, frozen_ms, ((int64_t)atomic_load(&max_gap_at_ns) - (int64_t)t0) / 1e6, dump_ms);
	atomic_store(&monitor_quit, true);
	pthread_join(mon, NULL);
	if (r != 0) {
		fprintf(stderr, "%s dump failed (%d), see %s/dump.log\n", tool->name, r, dir);
		kill_tree(pid);
		res->failures++;
		return -1;
	}

	kill_tree(pid);
	read_dir_files(dir);
	warm_memory(mib + 64);

	char *restore_argv[] = { (char *)tool->path, "restore", "-D", dir, "-d", "-o", "restore.log", "-v2", NULL };
	uint64_t before = beat[0];
	t0 = now_ns();
	pid_t rp = fork();
	if (rp == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		dup2(null, 1);
		execv(restore_argv[0], restore_argv);
		_exit(127);
	}
	double restore_ms = -1;
	deadline = now_ns() + 600ull * 1000000000ull;
	prctl(PR_SET_TIMERSLACK, 1000UL);
	while (now_ns() < deadline) {
		if (beat[0] != before) {
			restore_ms = ms_since(t0);
			break;
		}
		nanosleep(&(struct timespec){ 0, MONITOR_SLEEP_NS }, NULL); /* a core for the tools */
	}
	int st;
	waitpid(rp, &st, 0);
	kill_tree(pid);
	if (restore_ms < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "%s restore failed, see %s/restore.log\n", tool->name, dir);
		res->failures++;
		return -1;
	}

	res->frozen_ms[res->n] = frozen_ms;
	res->dump_ms[res->n] = dump_ms;
	res->restore_ms[res->n] = restore_ms;
	res->image_mib = dir_mib(dir);
	res->rss_mib = rss / 1024.0;
	res->n++;
	munmap((void *)beat, 4096);
	snprintf(rm, sizeof(rm), "rm -rf %s", dir);
	if (system(rm) != 0)
		perror("rm");
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void best_median(double *v, int n, double *best, double *median)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*best = n ? v[0] : 0;
	*median = n ? (n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2) : 0;
}

int main(int argc, char **argv)
{
	size_t sizes[8] = { 64, 1024, 4096 };
	int n_sizes = 3, repeat = 3, tree = 100, c;
	struct tool tools[2];
	int n_tools = 0;

	while ((c = getopt(argc, argv, "s:t:r:d:h")) != -1) {
		switch (c) {
		case 's': {
			n_sizes = 0;
			for (char *tok = strtok(optarg, ","); tok && n_sizes < 8; tok = strtok(NULL, ","))
				sizes[n_sizes++] = strtoull(tok, NULL, 10);
			break;
		}
		case 't':
			tree = atoi(optarg);
			break;
		case 'r':
			repeat = atoi(optarg) > MAX_RUNS ? MAX_RUNS : atoi(optarg);
			break;
		case 'd':
			workdir = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-s MiB,MiB..] [-t CHILDREN] [-r REPEAT] [-d DIR]\n"
				"env: OCICR=path CRIU=path OCBENCH_VERBOSE=1 (each run's longest gap)\n",
				argv[0]);
			return 2;
		}
	}
	if (geteuid() != 0) {
		fprintf(stderr, "ocbench: run as root\n");
		return 1;
	}
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	mkdir(workdir, 0755);
	tools[n_tools++] = (struct tool){ "ocicr", getenv("OCICR") ? getenv("OCICR") : "build/ocicr" };
	if (getenv("CRIU") && *getenv("CRIU"))
		tools[n_tools++] = (struct tool){ "criu", getenv("CRIU") };
	else
		printf("# CRIU not given (CRIU=/path/to/criu): ocicr alone\n");

	size_t max = 0;
	for (int i = 0; i < n_sizes; i++)
		max = sizes[i] > max ? sizes[i] : max;
	printf("# warming %zu MiB of memory before the runs\n", 2 * max + 256);
	warm_memory(2 * max + 256);

	struct {
		size_t mib;
		int children;
	} loads[10];
	int n_loads = 0;
	for (int i = 0; i < n_sizes; i++)
		loads[n_loads++] = (typeof(loads[0])){ sizes[i], 0 };
	if (tree > 0)
		loads[n_loads++] = (typeof(loads[0])){ 1, tree - 1 };

	printf("%-10s %-14s %9s %9s %9s %9s %9s %9s %8s %8s\n", "tool", "workload", "frozen", "frozen", "dump", "dump",
	       "restore", "restore", "image", "peakRSS");
	printf("%-10s %-14s %9s %9s %9s %9s %9s %9s %8s %8s\n", "", "", "best ms", "med ms", "best ms", "med ms",
	       "best ms", "med ms", "MiB", "MiB");
	for (int l = 0; l < n_loads; l++) {
		struct result res[2] = {};
		for (int rep = 0; rep < repeat; rep++)
			for (int t = 0; t < n_tools; t++) /* interleaved */
				one_run(&tools[t], loads[l].mib, loads[l].children, &res[t]);
		for (int t = 0; t < n_tools; t++) {
			char name[32];
			double fb, fm, db, dm, rb, rm;
			if (loads[l].children)
				snprintf(name, sizeof(name), "tree of %d", loads[l].children + 1);
			else
				snprintf(name, sizeof(name), "%zu MiB", loads[l].mib);
			best_median(res[t].frozen_ms, res[t].n, &fb, &fm);
			best_median(res[t].dump_ms, res[t].n, &db, &dm);
			best_median(res[t].restore_ms, res[t].n, &rb, &rm);
			printf("%-10s %-14s %9.1f %9.1f %9.1f %9.1f %9.1f %9.1f %8.1f %8.1f%s\n", tools[t].name, name,
			       fb, fm, db, dm, rb, rm, res[t].image_mib, res[t].rss_mib,
			       res[t].failures ? "  (some runs failed)" : "");
			fflush(stdout);
		}
	}
	return 0;
}
