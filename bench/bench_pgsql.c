/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_pgsql.c - a node's table loaded from PostgreSQL through the
 * plugin (qpki-db-pgsql.so), as `qpki ocsp serve --db` loads it: the load time
 * (connect -> every row in memory), resident memory after it (VmRSS) and its
 * peak (VmHWM), then lookups per second on 1 and 2 threads, hits and misses.
 *
 *   bench_pgsql URL CA_ID_HEX ROWS
 *
 * The rows are those bench/pgsql.sh writes: serial i (0 <= i < ROWS) is the
 * 16-octet big-endian value (i * K mod 2^127) | 2^120 with
 * K = 0x9E3779B97F4A7C15F39CC0605CEDC835 (odd: every i gives another serial). */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/db.h>
#include <qpki/db_plugin.h>

#define LOOKUPS 2000000u

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU time of this process (every thread): on a shared machine the wall time
 * of the load says little on its own. */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof(line), f))
        if (!strncmp(line, key, n))
            v = strtol(line + n + 1, NULL, 10);
    if (f)
        fclose(f);
    return (double)v;
}

static void serial_of(uint64_t i, uint8_t out[16])
{
    unsigned __int128 k = ((unsigned __int128)0x9E3779B97F4A7C15ull << 64) | 0xF39CC0605CEDC835ull;
    unsigned __int128 v = (unsigned __int128)i * k;
    v &= ((unsigned __int128)1 << 127) - 1;
    v |= (unsigned __int128)1 << 120;
    for (int b = 15; b >= 0; b--) {
        out[b] = (uint8_t)v;
        v >>= 8;
    }
}

struct job {
    qpki_db *db;
    uint64_t rows, seed;
    bool miss;
    uint64_t found;
};

static void *run(void *arg)
{
    struct job *j = arg;
    uint8_t s[16];
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    uint64_t x = j->seed;
    for (uint32_t n = 0; n < LOOKUPS; n++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        serial_of(j->miss ? j->rows + (x >> 20) % j->rows : (x >> 20) % j->rows, s);
        if (qpki_db_lookup(j->db, s, sizeof(s), &e) == QPKI_OK)
            j->found++;
    }
    return NULL;
}

static double lookups(qpki_db *db, uint64_t rows, int threads, bool miss, uint64_t *found)
{
    pthread_t t[2];
    struct job j[2];
    double t0 = now_s();
    for (int i = 0; i < threads; i++) {
        j[i] = (struct job){db, rows, 12345u + (uint64_t)i, miss, 0};
        pthread_create(&t[i], NULL, run, &j[i]);
    }
    *found = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        *found += j[i].found;
    }
    return (double)LOOKUPS * threads / (now_s() - t0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_pgsql URL CA_ID_HEX ROWS\n");
        return 2;
    }
    uint64_t rows = strtoull(argv[3], NULL, 10);
    uint8_t id[QPKI_DB_CA_ID_LEN];
    for (int i = 0; i < QPKI_DB_CA_ID_LEN; i++) {
        unsigned v;
        if (sscanf(argv[2] + 2 * i, "%2x", &v) != 1)
            return 2;
        id[i] = (uint8_t)v;
    }
    char err[1024] = "";
    qpki_db_plugin *p = NULL;
    if (qpki_db_plugin_load(NULL, &p, err, sizeof(err)) != QPKI_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    qpki_db_source_params params = {
        .struct_size = sizeof(params), .url = argv[1], .ca_id = id, .ca_id_len = sizeof(id),
        .ca_name = "bench", .poll_ms = 1000, .max_staleness_ms = 3600000,
    };
    double rss0 = status_kib("VmRSS:");
    double t0 = now_s(), c0 = cpu_s();
    qpki_db *db = NULL;
    if (qpki_db_plugin_open_source(p, &params, &db, err, sizeof(err)) != QPKI_OK) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    double load = now_s() - t0, load_cpu = cpu_s() - c0;
    printf("rows %zu loaded from PostgreSQL in %.2f s (%.2f s CPU in this process); RSS %.0f MiB "
           "(+%.0f MiB), peak %.0f MiB\n",
           qpki_db_count(db), load, load_cpu, status_kib("VmRSS:") / 1024.0,
           (status_kib("VmRSS:") - rss0) / 1024.0, status_kib("VmHWM:") / 1024.0);
    for (int threads = 1; threads <= 2; threads++) {
        uint64_t found;
        double hit = lookups(db, rows, threads, false, &found);
        if (found != (uint64_t)LOOKUPS * (uint64_t)threads) {
            fprintf(stderr, "only %" PRIu64 " of the known serials found\n", found);
            return 1;
        }
        double miss = lookups(db, rows, threads, true, &found);
        printf("lookups/s, %d thread%s: %.1f M hits, %.1f M misses\n", threads,
               threads > 1 ? "s" : "", hit / 1e6, miss / 1e6);
    }
    qpki_db_free(&db);
    qpki_db_plugin_free(&p);
    return 0;
}
