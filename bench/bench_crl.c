/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_crl.c - a large CRL into the CRL-fed status database (issue:
 * "a 1-million-entry CRL (about 40 MB) loads in <= 2 s and <= 150 MiB").
 *
 *   bench_crl [ENTRIES] [DIR]      defaults: 1000000 /tmp
 *
 * Makes a P-256 CA and two CRLs with our builder (16-octet random serials, a
 * reasonCode on half of the entries, a few invalidity dates and hold
 * instructions; the second CRL has one entry more and the next number), writes
 * them as DER files, then runs itself again ("load" mode, a fresh process) to
 * measure what `qpki ocsp serve --crl` does with a file source: read the file
 * (qpki_crl_load_file), parse and check every entry, verify the signature,
 * build the in-memory table (qpki_db_crl_update).  Reports wall and CPU time,
 * resident memory after the load (VmRSS) and the peak (VmHWM), then the same
 * for the second CRL replacing the first (the old table and the new one side
 * by side), and lookups per second.  The files are removed at the end. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/db.h>

#include "bench_util.h"
#include <qpki/key.h>
#include <qpki/signer.h>

#define SERIAL_LEN 16

static void entry_serial(uint64_t i, uint8_t out[SERIAL_LEN])
{
    uint64_t s = i * 0x2545f4914f6cdd1dull;
    uint64_t a = splitmix(&s), b = splitmix(&s);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
    out[0] = (uint8_t)(out[0] % 0x7f + 1);
}

__attribute__((noreturn)) static void die(const char *what, qpki_status st)
{
    fprintf(stderr, "bench_crl: %s: %s\n", what, qpki_strerror(st));
    exit(1);
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* CA certificate and the two CRLs. */
static void generate(uint64_t entries, const char *dir)
{
    qpki_key *key = NULL;
    qpki_signer *signer = NULL;
    qpki_status st;
    if ((st = qpki_key_generate(QPKI_KEY_EC_P256, 0, &key)) != QPKI_OK ||
        (st = qpki_signer_software_from_key(key, QPKI_SIG_UNKNOWN, &signer)) != QPKI_OK)
        die("key", st);
    const uint8_t *spki;
    size_t spki_len;
    qpki_signer_public_key(signer, &spki, &spki_len);
    uint8_t *name = NULL, *der = NULL;
    size_t name_len = 0, len = 0;
    qpki_cert_builder *cb = NULL;
    static const uint8_t one[] = {1};
    time_t t = time(NULL);
    if ((st = qpki_name_from_text("CN=Bench CRL CA", &name, &name_len)) != QPKI_OK ||
        (st = qpki_cert_builder_new(&cb)) != QPKI_OK ||
        (st = qpki_cert_builder_set_serial(cb, one, 1)) != QPKI_OK ||
        (st = qpki_cert_builder_set_issuer(cb, name, name_len)) != QPKI_OK ||
        (st = qpki_cert_builder_set_subject(cb, name, name_len)) != QPKI_OK ||
        (st = qpki_cert_builder_set_validity(cb, t - 3600, t + 86400 * 365)) != QPKI_OK ||
        (st = qpki_cert_builder_set_spki(cb, spki, spki_len)) != QPKI_OK ||
        (st = qpki_cert_builder_set_basic_constraints(cb, true, -1, true)) != QPKI_OK ||
        (st = qpki_cert_builder_set_subject_key_id(cb, NULL, 0)) != QPKI_OK ||
        (st = qpki_cert_builder_sign(cb, signer, &der, &len)) != QPKI_OK)
        die("CA certificate", st);
    char path[4096];
    snprintf(path, sizeof(path), "%s/qpki-bench-ca.der", dir);
    write_file(path, der, len);
    qpki_cert *ca = NULL;
    if ((st = qpki_cert_parse(der, len, &ca)) != QPKI_OK)
        die("CA certificate", st);
    qpki_free(der);
    qpki_free(name);
    qpki_cert_builder_free(&cb);
    static const qpki_crl_reason reasons[] = {
        QPKI_REASON_KEY_COMPROMISE, QPKI_REASON_SUPERSEDED, QPKI_REASON_CESSATION_OF_OPERATION,
        QPKI_REASON_AFFILIATION_CHANGED};
    for (int k = 0; k < 2; k++) {
        double t0 = now_s();
        qpki_crl_builder *b = NULL;
        uint8_t number = (uint8_t)(k + 1);
        if ((st = qpki_crl_builder_new(&b)) != QPKI_OK ||
            (st = qpki_crl_builder_set_issuer_cert(b, ca)) != QPKI_OK ||
            (st = qpki_crl_builder_set_times(b, t - 60, t + 7 * 86400)) != QPKI_OK ||
            (st = qpki_crl_builder_set_number(b, &number, 1)) != QPKI_OK)
            die("CRL builder", st);
        for (uint64_t i = 0; i < entries + (uint64_t)k; i++) {
            uint8_t s[SERIAL_LEN];
            entry_serial(i, s);
            qpki_crl_reason r = i % 2 ? reasons[(i / 2) % 4] : QPKI_REASON_NONE;
            qpki_hold_instruction h = QPKI_HOLD_INSTRUCTION_ABSENT;
            qpki_time inv = 0;
            if (i % 97 == 0) {
                r = QPKI_REASON_CERTIFICATE_HOLD;
                h = QPKI_HOLD_INSTRUCTION_REJECT;
            } else if (i % 89 == 0) {
                r = QPKI_REASON_KEY_COMPROMISE;
                inv = t - 86400;
            }
            if ((st = qpki_crl_builder_add_entry(b, s, SERIAL_LEN, t - (qpki_time)(i % 86400),
                                                 r, h, inv)) != QPKI_OK)
                die("entry", st);
        }
        if ((st = qpki_crl_builder_sign(b, signer, &der, &len)) != QPKI_OK)
            die("sign", st);
        snprintf(path, sizeof(path), "%s/qpki-bench-%d.crl", dir, k + 1);
        write_file(path, der, len);
        printf("CRL %d: %" PRIu64 " entries, %.1f MB (%.1f bytes/entry), made in %.2f s\n", k + 1,
               entries + (uint64_t)k, (double)len / 1e6, (double)len / (double)(entries + (uint64_t)k),
               now_s() - t0);
        qpki_free(der);
        qpki_crl_builder_free(&b);
    }
    qpki_cert_free(&ca);
    qpki_signer_free(&signer);
    qpki_key_free(&key);
}

static void offer(qpki_db *db, const char *path, const char *what)
{
    reset_peak();
    double t0 = now_s(), c0 = cpu_s();
    qpki_crl *crl = NULL;
    qpki_status st = qpki_crl_load_file(path, &crl);
    if (st != QPKI_OK)
        die(path, st);
    double t1 = now_s();
    char msg[256];
    st = qpki_db_crl_update(db, 0, &crl, msg, sizeof(msg));
    if (st != QPKI_OK) {
        fprintf(stderr, "bench_crl: %s refused: %s\n", path, msg);
        exit(1);
    }
    double t2 = now_s(), c2 = cpu_s();
    printf("%s: %.2f s wall (read and parse %.2f s, check, verify and build the table "
           "%.2f s), %.2f s CPU; VmRSS %.0f MiB, peak VmHWM %.0f MiB; %zu rows\n",
           what, t2 - t0, t1 - t0, t2 - t1, c2 - c0, proc_mib("VmRSS"), proc_mib("VmHWM"),
           qpki_db_count(db));
}

static void load(uint64_t entries, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/qpki-bench-ca.der", dir);
    qpki_cert *ca = NULL;
    qpki_status st = qpki_cert_load_file(path, &ca);
    if (st != QPKI_OK)
        die(path, st);
    qpki_db *db = NULL;
    if ((st = qpki_db_crl_new(ca, &db)) != QPKI_OK ||
        (st = qpki_db_crl_add_source(db, "bench", false, NULL)) != QPKI_OK)
        die("database", st);
    qpki_cert_free(&ca);
    printf("before: VmRSS %.0f MiB\n", proc_mib("VmRSS"));
    snprintf(path, sizeof(path), "%s/qpki-bench-1.crl", dir);
    offer(db, path, "first load");
    snprintf(path, sizeof(path), "%s/qpki-bench-2.crl", dir);
    offer(db, path, "reload (one entry more)");
    /* lookups: hits and misses */
    double t0 = now_s();
    uint64_t found = 0, n = 2000000;
    for (uint64_t i = 0; i < n; i++) {
        uint8_t s[SERIAL_LEN];
        entry_serial(i % 2 ? i % entries : entries + 10 + i, s);
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        if (qpki_db_lookup(db, s, SERIAL_LEN, &e) == QPKI_OK && e.row_status == 'R')
            found++;
    }
    double dt = now_s() - t0;
    printf("lookups: %.1f million/s on one thread (%" PRIu64 " of %" PRIu64 " revoked)\n",
           (double)n / dt / 1e6, found, n);
    qpki_db_free(&db);
}

int main(int argc, char **argv)
{
    uint64_t entries = 1000000;
    const char *dir = "/tmp";
    int a = 1;
    bool load_only = argc > 1 && !strcmp(argv[1], "load");
    if (load_only)
        a++;
    if (argc > a)
        entries = strtoull(argv[a], NULL, 10);
    if (argc > a + 1)
        dir = argv[a + 1];
    if (load_only) {
        load(entries, dir);
        return 0;
    }
    generate(entries, dir);
    fflush(stdout);
    /* measure in a fresh process: the generation's memory is not in its peak */
    char n[32];
    snprintf(n, sizeof(n), "%" PRIu64, entries);
    char mode[] = "load", dir_arg[4096];
    snprintf(dir_arg, sizeof(dir_arg), "%s", dir);
    char *args[] = {argv[0], mode, n, dir_arg, NULL};
    pid_t pid = fork();
    if (pid == 0) {
        execv("/proc/self/exe", args);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0)
        ;
    char path[4096];
    const char *names[] = {"qpki-bench-ca.der", "qpki-bench-1.crl", "qpki-bench-2.crl"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
