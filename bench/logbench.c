/* logbench.c — Raft log store throughput (appends/s, MB/s) for 100 B and 4 KiB entries in batches
 * of 1, 16 and 256, beside the raw fdatasync rate of the same disk (the physical limit). */
/* Writes under $TMPDIR (or /tmp) and removes what it wrote. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "raft/logstore.h"

/* Per configuration: 3 s of raw runs, then 6 x (0.5 s raw + 1.5 s log), about 20 s in all. */
#define RUN_SECONDS 1.5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[1200];
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat st;
        if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* fdatasyncs per second of a bare file: overwrite (data only) or append (data + size). */
static double raw_rate(const char *dir, int append, size_t len, double seconds)
{
    char path[1100];
    snprintf(path, sizeof path, "%s/raw-%d", dir, append);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    char *buf = malloc(len);
    memset(buf, 'x', len);
    if (!append && (pwrite(fd, buf, len, 0) != (ssize_t)len || fsync(fd) != 0)) {
        fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
        exit(1);
    }
    long n = 0;
    off_t off = 0;
    double t0 = now(), t;
    do {
        if (pwrite(fd, buf, len, append ? off : 0) != (ssize_t)len || fdatasync(fd) != 0) {
            fprintf(stderr, "logbench: %s: %s\n", path, strerror(errno));
            exit(1);
        }
        off += (off_t)len;
        n++;
        t = now();
    } while (t - t0 < seconds && n < 200000 && (uint64_t)off < (256ull << 20));
    close(fd);
    unlink(path);
    free(buf);
    return (double)n / (t - t0);
}

struct result {
    double appends, mbs, syncs, ms_per_batch;
    double recover_ms, recover_mb; /* a reopen verifying every record written */
    uint64_t entries;
};

static struct result log_run(const char *root, const struct logger *lg, uint32_t len, size_t batch)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/raft-%u-%zu", root, len, batch);
    struct rlog *log;
    char err[RLOG_ERRMAX];
    if (rlog_open(dir, NULL, lg, &log, err, sizeof err) != 0) {
        fprintf(stderr, "logbench: %s\n", err);
        exit(1);
    }
    struct raft_entry *es = calloc(batch, sizeof *es);
    uint8_t *payload = malloc(len);
    memset(payload, 'v', len);
    uint64_t idx = 1, batches = 0;
    double t0 = now(), t;
    do {
        for (size_t i = 0; i < batch; i++)
            es[i] = (struct raft_entry){1, idx + i, RAFT_ENTRY_COMMAND, len, payload};
        if (rlog_append(log, es, batch) != 0 || rlog_sync(log) != 0) {
            fprintf(stderr, "logbench: %s\n", rlog_errmsg(log));
            exit(1);
        }
        idx += batch;
        batches++;
        t = now();
        /* Bound the bytes too: a fast disk must not fill /tmp in 1.5 s at 4 KiB x 256. */
    } while (t - t0 < RUN_SECONDS && (idx - 1) * (uint64_t)len < (512ull << 20));
    double el = t - t0;
    struct result r;
    r.appends = (double)(idx - 1) / el;
    r.mbs = r.appends * len / 1e6;
    r.syncs = (double)batches / el;
    r.ms_per_batch = el * 1e3 / (double)batches;
    rlog_close(log);
    r.entries = idx - 1;
    r.recover_mb = (double)(idx - 1) * (len + 28) / 1e6;
    double o0 = now();
    if (rlog_open(dir, NULL, lg, &log, err, sizeof err) != 0 || rlog_last_index(log) != idx - 1) {
        fprintf(stderr, "logbench: reopen: %s\n", err);
        exit(1);
    }
    r.recover_ms = (now() - o0) * 1e3;
    rlog_close(log);
    free(es);
    free(payload);
    rm_tree(dir);
    return r;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char root[1024];
    snprintf(root, sizeof root, "%s/tribune-logbench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (mkdtemp(root) == NULL) {
        fprintf(stderr, "logbench: mkdtemp %s: %s\n", root, strerror(errno));
        return 1;
    }
    struct logger lg;
    log_init(&lg, 2, LOG_WARN);

    double raw_over = raw_rate(root, 0, 4096, 1.0);
    double raw_app = raw_rate(root, 1, 100, 1.0);
    double raw_bw = raw_rate(root, 1, 1u << 20, 1.0) * (double)(1u << 20) / 1e6;
    printf("log store benchmark in %s (segments of %u MiB, one fdatasync per batch)\n", root,
           RLOG_DEFAULT_SEGMENT_SIZE >> 20);
    printf("raw fdatasync, 4 KiB overwrite : %8.0f /s\n", raw_over);
    printf(
        "raw fdatasync, 100 B append    : %8.0f /s   (the physical limit for one sync per batch)\n",
        raw_app);
    printf("raw 1 MiB append + fdatasync   : %8.1f MB/s (the physical limit for bytes)\n", raw_bw);
    printf("(a shared virtual disk varies by the minute: each row is compared with a raw 100 B\n"
           " append + fdatasync rate measured just before it, shown as raw/s)\n");
    printf("\n%-7s %6s %11s %9s %9s %10s %8s %10s %8s\n", "entry", "batch", "appends/s", "MB/s",
           "syncs/s", "ms/batch", "raw/s", "syncs/raw", "MB/raw");
    struct result big = {0};
    static const uint32_t lens[] = {100, 4096};
    static const size_t batches[] = {1, 16, 256};
    for (size_t i = 0; i < 2; i++) {
        for (size_t j = 0; j < 3; j++) {
            double raw_now = raw_rate(root, 1, 100, 0.5);
            struct result r = log_run(root, &lg, lens[i], batches[j]);
            printf("%-7s %6zu %11.0f %9.2f %9.0f %10.3f %8.0f %9.0f%% %7.0f%%\n",
                   lens[i] == 100 ? "100 B" : "4 KiB", batches[j], r.appends, r.mbs, r.syncs,
                   r.ms_per_batch, raw_now, 100.0 * r.syncs / raw_now, 100.0 * r.mbs / raw_bw);
            if (r.recover_mb > big.recover_mb)
                big = r;
        }
    }
    printf(
        "\nrecovery (open, verifying every record): %llu entries, %.1f MB in %.1f ms (%.0f MB/s)\n",
        (unsigned long long)big.entries, big.recover_mb, big.recover_ms,
        big.recover_mb / (big.recover_ms / 1e3));
    rm_tree(root);
    return 0;
}
