/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_request.c - OCSPRequest parser, and the whole responder on the
 * same bytes (routing, policies, signing) with a fixed test CA. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_responder *responder;

static void init(void)
{
    const char *dir = getenv("QPKI_TEST_DATA");
    if (!dir)
        dir = "tests/data";
    char ca_path[1024], db_path[1024], key_path[1024];
    snprintf(ca_path, sizeof(ca_path), "%s/ocsp/ca.crt", dir);
    snprintf(db_path, sizeof(db_path), "%s/ocsp/index.txt", dir);
    snprintf(key_path, sizeof(key_path), "%s/ocsp/ca.key", dir);
    qpki_cert *ca = NULL;
    qpki_db *db = NULL;
    qpki_signer *signer = NULL;
    if (qpki_cert_load_file(ca_path, &ca) || qpki_db_open_index(db_path, &db) ||
        qpki_signer_software_load(key_path, NULL, &signer) || qpki_responder_new(&responder) ||
        qpki_responder_add_issuer(responder, ca, db, signer, NULL, NULL)) {
        fprintf(stderr, "fuzz_request: cannot load fixtures from %s\n", dir);
        abort();
    }
    qpki_cert_free(&ca);
    qpki_signer_free(&signer);
    /* db is intentionally kept for the process lifetime (borrowed by the responder) */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    qpki_ocsp_request *req = NULL;
    if (qpki_ocsp_request_parse(data, size, NULL, &req) == QPKI_OK) {
        for (size_t i = 0; i < qpki_ocsp_request_count(req); i++) {
            char hex[80];
            (void)qpki_certid_serial_hex(qpki_ocsp_request_certid(req, i), hex, sizeof(hex));
        }
        const uint8_t *n;
        size_t nl;
        (void)qpki_ocsp_request_nonce(req, &n, &nl);
        qpki_ocsp_request_free(&req);
    }
    qpki_answer *a = NULL;
    if (qpki_responder_respond(responder, data, size, &a) == QPKI_OK)
        qpki_answer_free(&a);
    return 0;
}
