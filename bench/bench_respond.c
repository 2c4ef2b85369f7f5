/* SPDX-License-Identifier: Apache-2.0 */
/* bench/bench_respond.c - the responder's in-process cost per request, without
 * HTTP: qpki_responder_respond() on pre-made DER requests in a loop, one thread.
 *
 *   bench_respond CA.crt INDEX.txt RESPONDER.crt RESPONDER.key LIST [SECONDS [ALT.key]]
 *
 * ALT.key: a Catalyst responder's ML-DSA key (docs/CATALYST.md); the answers then
 * carry both signatures and sign_us covers both.
 * LIST names DER OCSP requests, one path per line (bench/run.sh makes them).
 * Prints one line:
 *   RESULT respond_per_s=... cpu_us_per_respond=... sign_us_per_respond=... live=N cached=N
 * sign_us is the time the responder itself reports inside the signer call
 * (qpki_answer_sign_us), so cpu_us_per_respond - sign_us_per_respond is what
 * parsing, the status lookup, encoding and the cache cost per request. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/ocsp.h>

#define MAX_REQS 4096

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_list(const char *path, uint8_t **reqs, size_t *lens, size_t *count)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[4096];
    *count = 0;
    while (*count < MAX_REQS && fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        FILE *r = fopen(line, "rb");
        if (!r)
            break;
        uint8_t *buf = malloc(65536);
        size_t n = buf ? fread(buf, 1, 65536, r) : 0;
        fclose(r);
        if (!n) {
            free(buf);
            break;
        }
        reqs[*count] = buf;
        lens[(*count)++] = n;
    }
    fclose(f);
    return *count ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 6) {
        fprintf(stderr,
                "usage: %s CA.crt INDEX.txt RESPONDER.crt RESPONDER.key LIST [SECONDS [ALT.key]]\n",
                argv[0]);
        return 2;
    }
    double seconds = argc > 6 ? atof(argv[6]) : 5.0;
    static uint8_t *reqs[MAX_REQS];
    static size_t lens[MAX_REQS];
    size_t nreq = 0;
    qpki_cert *ca = NULL, *rcert = NULL;
    qpki_db *db = NULL;
    qpki_signer *signer = NULL, *alt = NULL;
    qpki_responder *r = NULL;
    qpki_responder_issuer *iss = NULL;
    qpki_status st;
    if ((st = qpki_cert_load_file(argv[1], &ca)) != QPKI_OK ||
        (st = qpki_db_open_index(argv[2], &db)) != QPKI_OK ||
        (st = qpki_cert_load_file(argv[3], &rcert)) != QPKI_OK ||
        (st = qpki_signer_software_load(argv[4], NULL, &signer)) != QPKI_OK ||
        (st = qpki_responder_new(&r)) != QPKI_OK ||
        (st = qpki_responder_add_issuer(r, ca, db, signer, rcert, &iss)) != QPKI_OK ||
        (argc > 7 && ((st = qpki_signer_software_load(argv[7], NULL, &alt)) != QPKI_OK ||
                      (st = qpki_responder_issuer_replace_key_hybrid(iss, signer, alt, rcert)) !=
                          QPKI_OK))) {
        fprintf(stderr, "bench_respond: setup: %s\n", qpki_strerror(st));
        return 1;
    }
    if (load_list(argv[5], reqs, lens, &nreq) != 0) {
        fprintf(stderr, "bench_respond: cannot read the requests listed in %s\n", argv[5]);
        return 1;
    }
    unsigned long long n = 0, live = 0, cached = 0, sign_us = 0;
    double c0 = cpu_seconds(), deadline = c0 + seconds;
    while ((n & 63) || cpu_seconds() < deadline) {
        qpki_answer *a = NULL;
        if (qpki_responder_respond(r, reqs[n % nreq], lens[n % nreq], &a) != QPKI_OK ||
            qpki_answer_resp_status(a) != QPKI_OCSP_RESP_SUCCESSFUL) {
            fprintf(stderr, "bench_respond: request %llu not answered successfully\n", n);
            return 1;
        }
        if (qpki_answer_cache_hit(a))
            cached++;
        else
            live++;
        sign_us += qpki_answer_sign_us(a);
        qpki_answer_free(&a);
        n++;
    }
    double cpu = cpu_seconds() - c0;
    printf("RESULT respond_per_s=%.1f cpu_us_per_respond=%.2f sign_us_per_respond=%.2f "
           "live=%llu cached=%llu\n",
           (double)n / cpu, cpu * 1e6 / (double)n, (double)sign_us / (double)n, live, cached);
    for (size_t i = 0; i < nreq; i++)
        free(reqs[i]);
    qpki_responder_free(&r);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    qpki_cert_free(&rcert);
    qpki_cert_free(&ca);
    qpki_db_free(&db);
    return 0;
}
