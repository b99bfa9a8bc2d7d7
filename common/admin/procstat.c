/* procstat — process metrics from /proc (admin_http.h,
 * tl_procstat_register()): the names and meanings are those of the
 * Prometheus client libraries, so dashboards made for them work. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/admin/admin_http.h"
#include "common/admin/metrics.h"

/* The series, found by name in the registry at each scrape (cheap, and
 * no state outside the registry: a process may hold several). */
#define RSS "process_resident_memory_bytes", "Resident memory size in bytes."
#define VSIZE "process_virtual_memory_bytes", "Virtual memory size in bytes."
#define FDS "process_open_fds", "Number of open file descriptors."
#define MAX_FDS "process_max_fds", "Maximum number of open file descriptors."
#define START                                                                  \
    "process_start_time_seconds",                                              \
        "Start time of the process since unix epoch in seconds."

/* Seconds since the epoch at which this process started: its start time
 * in clock ticks after boot (/proc/self/stat, field 22) plus the boot
 * time (/proc/stat btime); now if either cannot be read. */
static double
read_start_time(void)
{
    char buf[1024], *p;
    unsigned long long ticks = 0, btime = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f = fopen("/proc/self/stat", "r");
    size_t n = 0;

    if (f != NULL) {
        n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
    }
    buf[n] = '\0';
    /* The command name (field 2) may hold spaces: fields count from the
     * last ')'. starttime is field 22, the 20th after it. */
    p = strrchr(buf, ')');
    if (p != NULL) {
        int field = 2;
        for (p++; *p != '\0' && field < 22; p++)
            if (*p == ' ')
                field++;
        if (field == 22)
            sscanf(p, "%llu", &ticks);
    }
    f = fopen("/proc/stat", "r");
    if (f != NULL) {
        while (fgets(buf, sizeof buf, f) != NULL)
            if (sscanf(buf, "btime %llu", &btime) == 1)
                break;
        fclose(f);
    }
    if (ticks == 0 || btime == 0 || hz <= 0)
        return (double)time(NULL);
    return (double)btime + (double)ticks / (double)hz;
}

static void
collect(struct tl_metrics *reg, void *data)
{
    unsigned long long size = 0, resident = 0;
    long page = sysconf(_SC_PAGESIZE);
    FILE *f = fopen("/proc/self/statm", "r");
    DIR *d;

    (void)data;
    if (f != NULL) {
        if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
            tl_metrics_set(tl_metrics_gauge(reg, RSS),
                           (double)resident * (double)page);
            tl_metrics_set(tl_metrics_gauge(reg, VSIZE),
                           (double)size * (double)page);
        }
        fclose(f);
    }
    d = opendir("/proc/self/fd");
    if (d != NULL) {
        long n = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL)
            if (e->d_name[0] != '.')
                n++;
        closedir(d);
        /* Less the directory's own descriptor. */
        tl_metrics_set(tl_metrics_gauge(reg, FDS), (double)(n > 0 ? n - 1 : 0));
    }
    tl_metrics_set(tl_metrics_gauge(reg, MAX_FDS),
                   (double)sysconf(_SC_OPEN_MAX));
}

void
tl_procstat_register(struct tl_metrics *reg)
{
    tl_metrics_gauge(reg, RSS);
    tl_metrics_gauge(reg, VSIZE);
    tl_metrics_gauge(reg, FDS);
    tl_metrics_gauge(reg, MAX_FDS);
    tl_metrics_set(tl_metrics_gauge(reg, START), read_start_time());
    tl_metrics_on_collect(reg, collect, NULL);
}
