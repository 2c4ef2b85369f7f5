/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_cert.c - certificates, CSRs and Names from arbitrary bytes:
 * parse (DER and PEM), then touch every accessor, the RFC 4514 renderer, the
 * TBS re-encoder and the signature checks (Catalyst alternative ones too); also
 * the Name text parser.  Every call that can allocate also runs with an
 * allocation failing (fuzz_alloc.h). */
#include <stdlib.h>
#include <string.h>

#include <qpki/cert.h>
#include "der/der.h"
#include "der/oid.h"
#include "fuzz_alloc.h"
#include "internal.h"
#include "x509/x509.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void use_cert(const qpki_cert *c)
{
    char text[1024];
    const uint8_t *p;
    size_t n;
    bool b;
    qpki_status rc;
    (void)qpki_cert_subject_text(c, text, sizeof(text));
    (void)qpki_cert_issuer_text(c, text, 16); /* also the too-small path */
    qpki_cert_serial(c, &p, &n);
    qpki_cert_public_key_bits(c, &p, &n);
    (void)qpki_cert_key_usage(c, &b);
    (void)qpki_cert_is_ca(c);
    (void)qpki_cert_path_len_constraint(c);
    for (size_t i = 0; i < qpki_cert_extension_count(c); i++) {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        if (qpki_cert_extension(c, i, &oid, &oid_len, &b, &value, &value_len) == QPKI_OK)
            (void)qpki_cert_find_extension(c, oid, oid_len, &b, &value, &value_len);
    }
    for (size_t i = 0; i < qpki_cert_ext_key_usage_count(c); i++)
        (void)qpki_cert_ext_key_usage(c, i, &p, &n);
    uint8_t *out = NULL;
    size_t out_len = 0;
    FUZZ_CALL(rc, x509_cert_tbs_reencode(c, true, OID_CE_ALT_SIG_VALUE, &out, &out_len), out);
    if (rc == QPKI_OK)
        qpki_free(out);
    /* a self-issued certificate checks with its own key; others fail the name
     * match or the signature, and must do so cleanly */
    FUZZ_CALL(rc, qpki_cert_verify_signature(c, c), NULL);
    /* Catalyst: the alternative signature with its own altSubjectPublicKeyInfo */
    (void)qpki_cert_alt_spki(c, &p, &n);
    const uint8_t *alg;
    size_t alg_len;
    (void)qpki_cert_alt_signature(c, &alg, &alg_len, &p, &n);
    FUZZ_CALL(rc, qpki_cert_verify_alt_signature(c, c), NULL);
    qpki_cert_subject_alt_name(c, &p, &n);
    if (n) {
        qpki_cert_builder *b2 = NULL;
        FUZZ_CALL(rc, qpki_cert_builder_new(&b2), b2);
        if (rc == QPKI_OK) {
            FUZZ_CALL(rc, qpki_cert_builder_add_san_der(b2, p, n), NULL);
            qpki_cert_builder_free(&b2);
        }
    }
}

static void use_csr(const qpki_csr *r)
{
    char text[512];
    const uint8_t *p;
    size_t n;
    qpki_status rc;
    (void)qpki_csr_subject_text(r, text, sizeof(text));
    qpki_csr_subject_alt_name(r, &p, &n);
    for (size_t i = 0; i < qpki_csr_extension_count(r); i++)
        (void)qpki_csr_extension(r, i, NULL, NULL, NULL, NULL, NULL);
    FUZZ_CALL(rc, qpki_csr_verify_signature(r), NULL);
    (void)qpki_csr_alt_spki(r, &p, &n);
    FUZZ_CALL(rc, qpki_csr_verify_alt_signature(r), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_input(data, size);
    qpki_status rc;
    qpki_cert *c = NULL;
    char msg[256];
    FUZZ_CALL(rc, qpki_cert_parse_err(data, size, msg, sizeof(msg), &c), c);
    fuzz_check_message("cert", msg, sizeof(msg), rc, true);
    if (rc == QPKI_OK)
        use_cert(c);
    qpki_cert_free(&c);
    FUZZ_CALL(rc, qpki_cert_parse_any(data, size, &c), c);
    if (rc == QPKI_OK)
        use_cert(c);
    qpki_cert_free(&c);

    qpki_csr *r = NULL;
    FUZZ_CALL(rc, qpki_csr_parse_err(data, size, msg, sizeof(msg), &r), r);
    fuzz_check_message("csr", msg, sizeof(msg), rc, true);
    if (rc == QPKI_OK)
        use_csr(r);
    qpki_csr_free(&r);
    FUZZ_CALL(rc, qpki_csr_parse_any(data, size, &r), r);
    if (rc == QPKI_OK)
        use_csr(r);
    qpki_csr_free(&r);

    char text[512];
    (void)qpki_name_to_text(data, size, text, sizeof(text));

    /* the same bytes as Name text ("CN=...,O=..." or "/C=../CN=..") */
    if (size < 4096) {
        char *s = malloc(size + 1);
        if (s) {
            memcpy(s, data, size);
            s[size] = '\0';
            uint8_t *der = NULL;
            size_t len = 0;
            FUZZ_CALL(rc, qpki_name_from_text(s, &der, &len), der);
            if (rc == QPKI_OK) {
                /* what we encode, we can render */
                if (qpki_name_to_text(der, len, text, sizeof(text)) == QPKI_ERR_DECODE)
                    abort();
                qpki_free(der);
            }
            free(s);
        }
    }
    return 0;
}
