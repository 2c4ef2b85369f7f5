/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_fixture.h - the responder the fuzzers drive: the test CA of
 * tests/data/ocsp (or $QPKI_TEST_DATA/ocsp) signing for itself over its
 * index.txt.  Aborts when the fixtures cannot be loaded. */
#ifndef QPKI_FUZZ_FIXTURE_H
#define QPKI_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/responder.h>
#include <qpki/signer.h>

static inline qpki_responder *fuzz_test_responder(const char *who)
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
    qpki_responder *r = NULL;
    if (qpki_cert_load_file(ca_path, &ca) || qpki_db_open_index(db_path, &db) ||
        qpki_signer_software_load(key_path, NULL, &signer) || qpki_responder_new(&r) ||
        qpki_responder_add_issuer(r, ca, db, signer, NULL, NULL)) {
        fprintf(stderr, "%s: cannot load fixtures from %s\n", who, dir);
        abort();
    }
    qpki_cert_free(&ca);
    qpki_signer_free(&signer);
    /* db is kept for the process lifetime (borrowed by the responder) */
    return r;
}

#endif
