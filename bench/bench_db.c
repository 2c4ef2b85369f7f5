/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_db.c - the index.txt status database at scale (DESIGN §6: 10
 * million rows load in seconds and fit well under 1 GiB).
 *
 *   bench_db [ROWS] [FILE]      defaults: 10000000 /tmp/qpki-bench-index.txt
 *
 * Writes an index.txt like a large CA's (16-octet random serials, 3 % revoked
 * with assorted reasons, subjects of ~40 characters), then reports: the load
 * time, resident memory after the load (VmRSS) and the peak (VmHWM), lookups
 * per second on 1 and 2 threads for hits and misses, then the refresh after
 * changes as a CA makes them -- one row revoked in place (in the middle of the
 * file, at 95 % and at 5 %), one row and 1000
 * rows appended (applied row by row), a file whose every line moved (every
 * line parsed, the rows that differ applied in place) and one where every row
 * changed (loaded in full, both tables side by side) -- with the time, the peak
 * RSS during it and how many serials changes_since names.  The file is removed at
 * the end. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <qpki/db.h>

#include "bench_util.h"

#define SERIAL_LEN 16
#define LOOKUPS 2000000u

/* Serial of row i: a function of i alone, so the lookups can regenerate it.
 * First octet 0x01..0x7f: positive, no leading zero. */
static void row_serial(uint64_t i, uint64_t salt, uint8_t out[SERIAL_LEN])
{
    uint64_t s = i * 0x2545f4914f6cdd1dull ^ salt;
    uint64_t a = splitmix(&s), b = splitmix(&s);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
    out[0] = (uint8_t)(out[0] % 0x7f + 1);
}

static void hex(const uint8_t *s, size_t n, char *out)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[s[i] >> 4];
        out[2 * i + 1] = d[s[i] & 15];
    }
    out[2 * n] = '\0';
}

/* The floor under any refresh that must look at every byte: pread(2) the
 * file in 1 MiB pieces and add up its 64-bit words (no parsing, no hashing);
 * milliseconds of wall and CPU time. */
static void read_floor(const char *path, double *wall_ms, double *cpu_ms)
{
    static uint64_t buf[(1u << 20) / 8];
    double t0 = now_s(), c0 = cpu_s();
    int fd = open(path, O_RDONLY);
    uint64_t sum = 0, off = 0;
    ssize_t n;
    while (fd >= 0 && (n = pread(fd, buf, sizeof(buf), (off_t)off)) > 0) {
        for (size_t i = 0; i < (size_t)n / 8; i++)
            sum += buf[i];
        off += (uint64_t)n;
    }
    if (fd >= 0)
        close(fd);
    *wall_ms = (now_s() - t0) * 1e3;
    *cpu_ms = (cpu_s() - c0) * 1e3;
    if (sum == 42)
        puts("");
}

/* How the file differs from the one first loaded. */
typedef struct variant {
    uint64_t extra_rows;  /* appended rows (a CA issuing) */
    uint64_t revoke[3];   /* rows rewritten as revoked in place (`openssl ca -revoke`);
                           * UINT64_MAX: none */
    int swap_pairs;       /* rows 2k and 2k+1 swapped: every line moves */
    int revoke_all;       /* every row revoked: every row changes */
} variant;

static int write_index(const char *path, uint64_t rows, variant v)
{
    static const char *const reasons[] = {
        "keyCompromise", "superseded", "cessationOfOperation", "affiliationChanged",
        "unspecified", "CACompromise", "holdInstruction,holdInstructionReject",
        "keyTime,20240115100000Z", "removeFromCRL", "certificateHold",
    };
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    static char buf[1 << 20];
    setvbuf(f, buf, _IOFBF, sizeof(buf));
    uint8_t serial[SERIAL_LEN];
    char sh[2 * SERIAL_LEN + 1], expiry[16], revoked[16];
    for (uint64_t k = 0; k < rows + v.extra_rows; k++) {
        uint64_t i = v.swap_pairs && (k ^ 1) < rows ? k ^ 1 : k;
        row_serial(i, 0, serial);
        hex(serial, SERIAL_LEN, sh);
        uint64_t r = i * 0x9e3779b97f4a7c15ull >> 40;
        /* Certificates issued over a year, valid for a year from 2026. */
        time_t t = (time_t)(1767225600 + (i * 7919) % (365 * 86400));
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(expiry, sizeof(expiry), "%Y%m%d%H%M%SZ", &tm); /* UTCTime: drop the century */
        memmove(expiry, expiry + 2, strlen(expiry + 2) + 1);
        if (r % 100 < 3 || i == v.revoke[0] || i == v.revoke[1] || i == v.revoke[2] || v.revoke_all) {
            t -= (time_t)(r % (180 * 86400));
            gmtime_r(&t, &tm);
            strftime(revoked, sizeof(revoked), "%Y%m%d%H%M%SZ", &tm);
            memmove(revoked, revoked + 2, strlen(revoked + 2) + 1);
            fprintf(f, "R\t%s\t%s,%s\t%s\tunknown\t/CN=host-%" PRIu64
                       ".example.com/O=Example Org\n",
                    expiry, revoked, reasons[r % 10], sh, i);
        } else {
            fprintf(f, "V\t%s\t\t%s\tunknown\t/CN=host-%" PRIu64 ".example.com/O=Example Org\n",
                    expiry, sh, i);
        }
    }
    if (fclose(f) != 0)
        return -1;
    return rename(tmp, path); /* as `openssl ca` replaces index.txt */
}

static void count_change(void *user, const uint8_t *serial, size_t len)
{
    (void)serial;
    (void)len;
    (*(size_t *)user)++;
}

typedef struct job {
    qpki_db *db;
    uint64_t rows, salt, start;
    unsigned n;
    unsigned found;
    double cpu; /* thread CPU seconds */
} job;

static void *run_lookups(void *arg)
{
    job *j = arg;
    uint8_t serial[SERIAL_LEN];
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    struct timespec c0, c1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
    uint64_t s = j->start;
    unsigned found = 0; /* local: the two jobs share a cache line */
    for (unsigned k = 0; k < j->n; k++) {
        uint64_t i = splitmix(&s) % j->rows;
        row_serial(i, j->salt, serial);
        if (qpki_db_lookup(j->db, serial, SERIAL_LEN, &e) == QPKI_OK)
            found++;
    }
    j->found = found;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
    j->cpu = (double)(c1.tv_sec - c0.tv_sec) + (double)(c1.tv_nsec - c0.tv_nsec) / 1e9;
    return NULL;
}

/* Lookups per second of wall time on `threads` threads, and per second of the
 * threads' CPU time in *per_cpu (steadier on a shared machine).  Serial
 * generation is included; it is measured alone and reported. */
static double lookups_per_s(qpki_db *db, uint64_t rows, uint64_t salt, int threads,
                            unsigned *found, double *per_cpu)
{
    job jobs[2];
    pthread_t th[2];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        jobs[i] = (job){db, rows, salt, (uint64_t)i * 977 + 1, LOOKUPS, 0};
        pthread_create(&th[i], NULL, run_lookups, &jobs[i]);
    }
    *found = 0;
    double cpu = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        *found += jobs[i].found;
        cpu += jobs[i].cpu;
    }
    *per_cpu = (double)LOOKUPS * threads / cpu;
    return (double)LOOKUPS * threads / (now_s() - t0);
}

int main(int argc, char **argv)
{
    uint64_t rows = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000u;
    const char *path = argc > 2 ? argv[2] : "/tmp/qpki-bench-index.txt";
    printf("bench_db: %" PRIu64 " rows, %d-octet serials, file %s\n", rows, SERIAL_LEN, path);

    double t0 = now_s();
    if (write_index(path, rows, (variant){0, {UINT64_MAX, UINT64_MAX, UINT64_MAX}, 0, 0}) != 0) {
        perror(path);
        return 1;
    }
    FILE *f = fopen(path, "r");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    printf("generate:            %.2f s, %.1f MiB\n", now_s() - t0, (double)size / 1048576);

    uint64_t revoked_rows[3] = {UINT64_MAX, UINT64_MAX, UINT64_MAX};
    size_t nrevoked = 0;
    double rss0 = proc_mib("VmRSS");
    reset_peak();
    qpki_db *db = NULL;
    char err[512];
    t0 = now_s();
    double c0 = cpu_s();
    qpki_status rc = qpki_db_open_index_err(path, err, sizeof(err), &db);
    double load = now_s() - t0, load_cpu = cpu_s() - c0;
    if (rc != QPKI_OK) {
        fprintf(stderr, "load failed: %s\n", err);
        return 1;
    }
    double rss1 = proc_mib("VmRSS"), hwm1 = proc_mib("VmHWM");
    printf("load:                %.2f s wall, %.2f s CPU (%.2f M rows/s, %.0f MiB/s of CPU), "
           "%zu rows\n",
           load, load_cpu, (double)rows / load_cpu / 1e6, (double)size / 1048576 / load_cpu,
           qpki_db_count(db));
    printf("memory after load:   VmRSS %.1f MiB (table: %.1f MiB, %.1f bytes/row); "
           "peak during load VmHWM %.1f MiB\n",
           rss1, rss1 - rss0, (rss1 - rss0) * 1048576 / (double)rows, hwm1);

    /* Lookups. */
    unsigned found;
    double t_gen = now_s();
    {
        uint8_t serial[SERIAL_LEN];
        uint64_t s = 1, acc = 0;
        for (unsigned k = 0; k < LOOKUPS; k++) {
            row_serial(splitmix(&s) % rows, 0, serial);
            acc += serial[3];
        }
        if (acc == 42)
            puts("");
    }
    t_gen = now_s() - t_gen;
    double cpu_rate;
    double hit1 = lookups_per_s(db, rows, 0, 1, &found, &cpu_rate);
    printf("lookups, 1 thread:   %.2f M/s hits (%.2f M per CPU-s; %u/%u found)", hit1 / 1e6,
           cpu_rate / 1e6, found, LOOKUPS);
    double miss1 = lookups_per_s(db, rows, 0x5eed, 1, &found, &cpu_rate);
    printf(", %.2f M/s misses (%.2f M per CPU-s; %u found); serial generation alone %.0f ns\n",
           miss1 / 1e6, cpu_rate / 1e6, found, t_gen / LOOKUPS * 1e9);
    double hit2 = lookups_per_s(db, rows, 0, 2, &found, &cpu_rate);
    printf("lookups, 2 threads:  %.2f M/s hits (%.2f M per CPU-s; %u/%u found)\n", hit2 / 1e6,
           cpu_rate / 1e6, found, 2 * LOOKUPS);

    /* Changes as a CA makes them: each file written beside and renamed over
     * the index, then one refresh (the responder's poll).  Peak RSS is reset
     * before each refresh. */
    static const struct {
        const char *what;
        int at;        /* a row this far into the file (%) revoked in place; -1: none */
        variant v;
    } changes[] = {
        {"revoke 1 row in place", 50, {0, {0}, 0, 0}},
        {"revoke 1 row at 95 %", 95, {0, {0}, 0, 0}},
        {"revoke 1 row at 5 %", 5, {0, {0}, 0, 0}},
        {"append 1 row", -1, {1, {0}, 0, 0}},
        {"append 1000 rows", -1, {1001, {0}, 0, 0}},
        {"every line moved (merge)", -1, {1001, {0}, 1, 0}},
        {"every row revoked (full)", -1, {1001, {0}, 1, 1}},
    };
    for (size_t c = 0; c < sizeof(changes) / sizeof(changes[0]); c++) {
        variant v = changes[c].v;
        /* The row to revoke: one that is valid in the generated file; the
         * rows revoked before stay revoked. */
        uint64_t i = changes[c].at >= 0 ? rows * (uint64_t)changes[c].at / 100 : rows;
        for (; i < rows; i++)
            if ((i * 0x9e3779b97f4a7c15ull >> 40) % 100 >= 3) {
                revoked_rows[nrevoked++] = i;
                break;
            }
        memcpy(v.revoke, revoked_rows, sizeof(v.revoke));
        uint64_t gen0 = qpki_db_generation(db);
        reset_peak();
        double rss2 = proc_mib("VmRSS");
        if (write_index(path, rows, v) != 0)
            return 1;
        /* Timed from the rename (write_index's last step) to the new
         * generation. */
        t0 = now_s();
        c0 = cpu_s();
        rc = qpki_db_refresh(db);
        double reload = now_s() - t0, reload_cpu = cpu_s() - c0;
        char msg[512];
        qpki_db_last_error(db, msg, sizeof(msg));
        double hwm3 = proc_mib("VmHWM"), rss3 = proc_mib("VmRSS");
        size_t changed = 0;
        uint64_t upto = 0;
        qpki_status crc = qpki_db_changes_since(db, gen0, &upto, count_change, &changed);
        char named[64];
        snprintf(named, sizeof(named), crc == QPKI_OK ? "%zu serials" : "history trimmed",
                 changed);
        printf("%-24s %7.1f ms wall, %7.1f ms CPU, %s, %zu rows, changes_since: %s; "
               "VmRSS %.1f -> %.1f MiB, peak VmHWM %.1f MiB\n",
               changes[c].what, reload * 1e3, reload_cpu * 1e3, rc == QPKI_OK ? "ok" : msg,
               qpki_db_count(db), named, rss2, rss3, hwm3);
    }

    double floor_wall, floor_cpu;
    read_floor(path, &floor_wall, &floor_cpu);
    read_floor(path, &floor_wall, &floor_cpu);
    printf("floor: pread of the whole file, adding its words: %.1f ms wall, %.1f ms CPU\n",
           floor_wall, floor_cpu);

    /* Polls with nothing changed (what the responder does every second).  Within
     * two seconds of a change the contents are hashed (a rewrite within one
     * timestamp tick would not show in the inode); afterwards a stat suffices. */
    t0 = now_s();
    (void)qpki_db_refresh(db);
    printf("refresh, unchanged:  %.3f s while the file is recent (contents hash)", now_s() - t0);
    struct timespec three = {3, 0};
    nanosleep(&three, NULL);
    (void)qpki_db_refresh(db);
    t0 = now_s();
    for (int i = 0; i < 1000; i++)
        (void)qpki_db_refresh(db);
    printf(", %.1f us per call afterwards (stat only)\n", (now_s() - t0) / 1000 * 1e6);

    qpki_db_free(&db);
    remove(path);
    return 0;
}
