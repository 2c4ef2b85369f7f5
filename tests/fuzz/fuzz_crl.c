/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_crl.c - CRLs from arbitrary bytes: parse (DER and PEM), walk
 * every entry, touch every accessor, the TBS re-encoder and both signature
 * checks (with the issuer's certificate when the CRL names the fixture CA).
 * What parses must re-encode to its own TBS, and an entry walk must end exactly
 * after qpki_crl_entry_count entries.  Every call that can allocate also runs
 * with an allocation failing (fuzz_alloc.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/crl.h>
#include "der/der.h"
#include "der/oid.h"
#include "fuzz_alloc.h"
#include "internal.h"
#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_cert *fixture_ca(void)
{
    static qpki_cert *ca;
    static int tried;
    if (!tried) {
        tried = 1;
        const char *dir = getenv("QPKI_TEST_DATA");
        char path[1024];
        snprintf(path, sizeof(path), "%s/certs/ec-p256-ca.pem", dir ? dir : "tests/data");
        if (qpki_cert_load_file(path, &ca) != QPKI_OK)
            ca = NULL;
    }
    return ca;
}

static void use_crl(const qpki_crl *c)
{
    char text[512], msg[128];
    const uint8_t *p;
    size_t n;
    bool b;
    (void)qpki_crl_issuer_text(c, text, sizeof(text));
    (void)qpki_crl_issuer_text(c, text, 8); /* also the too-small path */
    (void)qpki_crl_next_update(c, &b);
    (void)qpki_crl_number(c, &p, &n);
    (void)qpki_crl_delta_base(c, &p, &n);
    qpki_crl_authority_key_id(c, &p, &n);
    qpki_crl_issuing_distribution_point(c, &p, &n);
    (void)qpki_crl_idp_flags(c);
    (void)qpki_crl_usable(c, msg, sizeof(msg));
    for (size_t i = 0; i < qpki_crl_extension_count(c); i++)
        (void)qpki_crl_extension(c, i, &p, &n, &b, &p, &n);
    size_t cursor = 0, count = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    qpki_status rc;
    while ((rc = qpki_crl_next_entry(c, &cursor, &e)) == QPKI_OK)
        count++;
    if (rc != QPKI_ERR_NOT_FOUND || count != qpki_crl_entry_count(c))
        abort();
    uint8_t *out = NULL;
    size_t out_len = 0;
    const uint8_t *tbs;
    size_t tbs_len;
    qpki_crl_tbs(c, &tbs, &tbs_len);
    FUZZ_CALL(rc, x509_crl_tbs_reencode(c, false, (der_oid){NULL, 0}, &out, &out_len), out);
    if (rc == QPKI_OK) {
        if (out_len != tbs_len || memcmp(out, tbs, tbs_len) != 0)
            abort();
        qpki_free(out);
        out = NULL;
    }
    FUZZ_CALL(rc, x509_crl_tbs_reencode(c, true, OID_CE_ALT_SIG_VALUE, &out, &out_len), out);
    if (rc == QPKI_OK)
        qpki_free(out);
    const uint8_t *alg, *sig;
    size_t alg_len, sig_len;
    (void)qpki_crl_alt_signature(c, &alg, &alg_len, &sig, &sig_len);
    qpki_cert *ca = fixture_ca();
    if (ca) {
        FUZZ_CALL(rc, qpki_crl_verify_signature(c, ca), NULL);
        FUZZ_CALL(rc, qpki_crl_verify_alt_signature(c, ca), NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_input(data, size);
    qpki_status rc;
    qpki_crl *c = NULL;
    char msg[256];
    FUZZ_CALL(rc, qpki_crl_parse_err(data, size, msg, sizeof(msg), &c), c);
    fuzz_check_message("crl", msg, sizeof(msg), rc, true);
    if (rc == QPKI_OK)
        use_crl(c);
    qpki_crl_free(&c);
    FUZZ_CALL(rc, qpki_crl_parse(data, size, &c), c);
    if (rc == QPKI_OK)
        use_crl(c);
    qpki_crl_free(&c);
    FUZZ_CALL(rc, qpki_crl_parse_any(data, size, &c), c);
    if (rc == QPKI_OK)
        use_crl(c);
    qpki_crl_free(&c);
    return 0;
}
