/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_crl.c - CRL reader, signature checks and builder.  Fixtures are
 * CRLs made by `openssl ca -gencrl` (tests/data/crl/gen.sh) whose every field was
 * read by Python `cryptography` (tests/data/crl/expected.txt); what the builder
 * makes is checked by `cryptography` and `openssl` at run time. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/key.h>
#include <qpki/signer.h>
#include "der/der.h"
#include "der/oid.h"
#include "der/pem.h"
#include "internal.h"
#include "x509/x509.h"

/* ---- helpers ---------------------------------------------------------------- */

static qpki_crl *load_crl(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "crl/%s", name);
    qpki_crl *c = NULL;
    qpki_status rc = qpki_crl_load_file(tu_data_path(rel), &c);
    if (rc != QPKI_OK)
        fail_msg("loading %s: %s", name, qpki_strerror(rc));
    return c;
}

static qpki_cert *load_cert(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof(rel), "certs/%s", name);
    qpki_cert *c = NULL;
    qpki_status rc = qpki_cert_load_file(tu_data_path(rel), &c);
    if (rc != QPKI_OK)
        fail_msg("loading %s: %s", name, qpki_strerror(rc));
    return c;
}

static qpki_signer *load_signer(const char *key)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "certs/%s", key);
    qpki_signer *s = NULL;
    qpki_status rc = qpki_signer_software_load(tu_data_path(rel), NULL, &s);
    if (rc != QPKI_OK)
        fail_msg("signer %s: %s", key, qpki_strerror(rc));
    return s;
}

static char *hex_of(const uint8_t *p, size_t n)
{
    static char buf[4][2 * (QPKI_SERIAL_MAX + 2) + 1];
    static int k;
    char *out = buf[k++ & 3];
    size_t i = 0;
    for (; i < n && i < QPKI_SERIAL_MAX + 2; i++)
        sprintf(out + 2 * i, "%02X", p[i]);
    out[2 * i] = '\0';
    return out;
}

/* Upper-case hex of a magnitude without leading zero nibble, as Python's
 * format(n, "X") writes it. */
static const char *py_hex(const uint8_t *p, size_t n)
{
    while (n > 0 && p[0] == 0) {
        p++;
        n--;
    }
    const char *h = hex_of(p, n);
    return n == 0 ? "0" : (h[0] == '0' ? h + 1 : h);
}

static uint8_t *file_der(const char *name, size_t *len)
{
    qpki_crl *c = load_crl(name);
    const uint8_t *p;
    qpki_crl_der(c, &p, len);
    uint8_t *copy = malloc(*len);
    memcpy(copy, p, *len);
    qpki_crl_free(&c);
    return copy;
}

/* ---- fixtures against Python cryptography ------------------------------------------- */

/* Check every field of one CRL against the block expected.txt has for it. */
static void check_against_block(const char *name, char **lines, size_t n)
{
    qpki_crl *c = load_crl(name);
    char issuer[512];
    assert_int_equal(qpki_crl_issuer_text(c, issuer, sizeof(issuer)), QPKI_OK);
    const uint8_t *p;
    size_t len;
    size_t cursor = 0, seen = 0;
    for (size_t i = 0; i < n; i++) {
        char *l = lines[i], *v = strchr(l, ' ');
        assert_non_null(v);
        *v++ = '\0';
        if (strcmp(l, "version") == 0)
            assert_int_equal(qpki_crl_version(c), atoi(v));
        else if (strcmp(l, "issuer") == 0)
            assert_string_equal(issuer, v);
        else if (strcmp(l, "this_update") == 0)
            assert_int_equal(qpki_crl_this_update(c), atoll(v));
        else if (strcmp(l, "next_update") == 0)
            assert_int_equal(qpki_crl_next_update(c, NULL), atoll(v));
        else if (strcmp(l, "number") == 0) {
            if (strcmp(v, "-") == 0)
                assert_int_equal(qpki_crl_number(c, &p, &len), QPKI_ERR_NOT_FOUND);
            else {
                assert_int_equal(qpki_crl_number(c, &p, &len), QPKI_OK);
                assert_string_equal(py_hex(p, len), v);
            }
        } else if (strcmp(l, "delta_base") == 0) {
            assert_int_equal(qpki_crl_is_delta(c), strcmp(v, "-") != 0);
            if (strcmp(v, "-") != 0) {
                assert_int_equal(qpki_crl_delta_base(c, &p, &len), QPKI_OK);
                assert_string_equal(py_hex(p, len), v);
            }
        } else if (strcmp(l, "aki") == 0) {
            qpki_crl_authority_key_id(c, &p, &len);
            char h[64];
            for (size_t k = 0; k < len; k++)
                sprintf(h + 2 * k, "%02x", p[k]);
            h[2 * len] = '\0';
            assert_string_equal(len ? h : "-", v);
        } else if (strcmp(l, "sig_alg") == 0) {
            qpki_crl_sig_alg_der(c, &p, &len);
            der_cursor cur = der_cursor_init(p, len);
            der_view whole, oid;
            char text[64];
            assert_int_equal(x509_read_alg_id(&cur, &whole, &oid), QPKI_OK);
            assert_int_equal(der_oid_to_text(oid, text, sizeof(text)), QPKI_OK);
            assert_string_equal(text, v);
        } else if (strcmp(l, "entries") == 0) {
            assert_int_equal(qpki_crl_entry_count(c), (size_t)atoll(v));
        } else if (strcmp(l, "entry") == 0) {
            qpki_crl_entry e;
            qpki_crl_entry_init(&e);
            assert_int_equal(qpki_crl_next_entry(c, &cursor, &e), QPKI_OK);
            char want_serial[80];
            long long rt, inv;
            int reason, hold;
            assert_int_equal(sscanf(v, "%79s %lld %d %d %lld", want_serial, &rt, &reason, &hold,
                                    &inv),
                             5);
            assert_string_equal(py_hex(e.serial, e.serial_len), want_serial);
            assert_int_equal(e.revocation_date, rt);
            assert_int_equal(e.reason, reason);
            assert_int_equal(e.hold_instruction, hold);
            assert_int_equal(e.invalidity_date, inv);
            assert_int_equal(e.has_invalidity_date, inv != 0);
            assert_false(e.certificate_issuer);
            seen++;
        }
    }
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    assert_int_equal(qpki_crl_next_entry(c, &cursor, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(seen, qpki_crl_entry_count(c));
    assert_int_equal(qpki_crl_usable(c, NULL, 0), QPKI_OK);
    qpki_crl_free(&c);
}

static void test_every_fixture_matches_python_cryptography(void **state)
{
    (void)state;
    size_t len;
    char *text = (char *)tu_read_file(tu_data_path("crl/expected.txt"), &len);
    assert_non_null(text);
    char *lines[64];
    size_t n = 0, files = 0;
    char name[128] = "";
    for (char *save = NULL, *l = strtok_r(text, "\n", &save);; l = strtok_r(NULL, "\n", &save)) {
        if (!l || strncmp(l, "file ", 5) == 0) {
            if (name[0]) {
                check_against_block(name, lines, n);
                files++;
            }
            if (!l)
                break;
            snprintf(name, sizeof(name), "%s", l + 5);
            n = 0;
            continue;
        }
        assert_true(n < 64);
        lines[n++] = l;
    }
    assert_int_equal(files, 7);
    free(text);
}

/* Which CA signed which fixture. */
static const struct {
    const char *crl, *ca;
    qpki_sig_alg alg;
} signed_by[] = {
    {"ec-p256.crl.pem", "ec-p256-ca.pem", QPKI_SIG_ECDSA_SHA256},
    {"ec-p256-delta.crl.pem", "ec-p256-ca.pem", QPKI_SIG_ECDSA_SHA256},
    {"ec-p256-v1.crl.pem", "ec-p256-ca.pem", QPKI_SIG_ECDSA_SHA256},
    {"ec-p384.crl.pem", "ec-p384-ca.pem", QPKI_SIG_ECDSA_SHA384},
    {"rsa.crl.pem", "rsa-ca.pem", QPKI_SIG_RSA_PKCS1_SHA256},
    {"rsa-pss.crl.pem", "rsa-ca.pem", QPKI_SIG_RSA_PSS_SHA256},
    {"ed25519.crl.pem", "ed25519-ca.pem", QPKI_SIG_ED25519},
};

static void test_fixture_signatures_verify_and_other_cas_do_not(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(signed_by); i++) {
        qpki_crl *c = load_crl(signed_by[i].crl);
        qpki_cert *ca = load_cert(signed_by[i].ca);
        assert_int_equal(qpki_crl_sig_alg(c), signed_by[i].alg);
        assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_OK);
        /* no Catalyst extensions */
        assert_int_equal(qpki_crl_verify_alt_signature(c, ca), QPKI_ERR_NOT_FOUND);
        /* another CA: a different name */
        qpki_cert *other = load_cert(strcmp(signed_by[i].ca, "rsa-ca.pem") ? "rsa-ca.pem"
                                                                           : "ec-p256-ca.pem");
        assert_int_equal(qpki_crl_verify_signature(c, other), QPKI_ERR_UNKNOWN_ISSUER);
        qpki_cert_free(&other);
        qpki_cert_free(&ca);
        qpki_crl_free(&c);
    }
}

static void test_every_flipped_bit_of_tbs_or_signature_is_bad_signature(void **state)
{
    (void)state;
    qpki_cert *ca = load_cert("ed25519-ca.pem");
    size_t len;
    uint8_t *der = file_der("ed25519.crl.pem", &len);
    qpki_crl *c = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    const uint8_t *tbs, *sig;
    size_t tbs_len, sig_len;
    qpki_crl_tbs(c, &tbs, &tbs_len);
    qpki_crl_signature(c, &sig, &sig_len);
    size_t tbs_off = (size_t)(tbs - c->der);
    size_t sig_off = (size_t)(sig - c->der);
    (void)tbs_len;
    (void)sig_len;
    qpki_crl_free(&c);
    size_t flipped = 0, bad = 0;
    /* every byte of the signature and every 7th of the TBS after the issuer:
     * whatever still parses must fail the signature */
    for (size_t i = tbs_off; i < len; i += (i >= sig_off ? 1 : 7)) {
        der[i] ^= 0x01;
        if (qpki_crl_parse(der, len, &c) == QPKI_OK) {
            flipped++;
            qpki_status rc = qpki_crl_verify_signature(c, ca);
            if (rc == QPKI_ERR_BAD_SIGNATURE || rc == QPKI_ERR_UNKNOWN_ISSUER)
                bad++;
            else
                fail_msg("flip at %zu: %s", i, qpki_strerror(rc));
            qpki_crl_free(&c);
        }
        der[i] ^= 0x01;
    }
    assert_true(flipped > 64);
    assert_int_equal(bad, flipped);
    free(der);
    qpki_cert_free(&ca);
}

static void test_der_and_pem_give_the_same_crl(void **state)
{
    (void)state;
    size_t der_len, pem_len;
    uint8_t *der = file_der("rsa.crl.pem", &der_len);
    char rel[64] = "crl/rsa.crl.pem";
    uint8_t *pem = tu_read_file(tu_data_path(rel), &pem_len);
    qpki_crl *a = NULL, *b = NULL, *d = NULL;
    assert_int_equal(qpki_crl_parse_any(pem, pem_len, &a), QPKI_OK);
    assert_int_equal(qpki_crl_parse_any(der, der_len, &b), QPKI_OK);
    /* a DER file is read in place */
    char path[] = "/tmp/qpki-crl-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, der, der_len), (ssize_t)der_len);
    close(fd);
    assert_int_equal(qpki_crl_load_file(path, &d), QPKI_OK);
    unlink(path);
    const uint8_t *x, *y, *z;
    size_t xl, yl, zl;
    qpki_crl_der(a, &x, &xl);
    qpki_crl_der(b, &y, &yl);
    qpki_crl_der(d, &z, &zl);
    assert_int_equal(xl, der_len);
    assert_int_equal(yl, der_len);
    assert_int_equal(zl, der_len);
    assert_memory_equal(x, der, der_len);
    assert_memory_equal(y, der, der_len);
    assert_memory_equal(z, der, der_len);
    qpki_crl_free(&d);
    /* a PEM file of something else */
    assert_int_equal(qpki_crl_load_file(tu_data_path("certs/rsa-ca.pem"), &d), QPKI_ERR_NOT_FOUND);
    assert_null(d);
    assert_int_equal(qpki_crl_load_file("/nonexistent/x.crl", &d), QPKI_ERR_NOT_FOUND);
    qpki_crl_free(&a);
    qpki_crl_free(&b);
    free(pem);
    free(der);
}

static void test_truncation_trailing_data_and_oversize_are_refused(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = file_der("ec-p256-v1.crl.pem", &len);
    qpki_crl *c = NULL;
    for (size_t n = 0; n < len; n++) {
        qpki_status rc = qpki_crl_parse(der, n, &c);
        assert_int_not_equal(rc, QPKI_OK);
        assert_null(c);
    }
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, der, len);
    longer[len] = 0;
    assert_int_equal(qpki_crl_parse(longer, len + 1, &c), QPKI_ERR_TRAILING_DATA);
    assert_int_equal(qpki_crl_parse(der, QPKI_CRL_MAX_SIZE + 1, &c), QPKI_ERR_TOO_LARGE);
    assert_int_equal(qpki_crl_parse(NULL, 1, &c), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_parse(der, len, NULL), QPKI_ERR_INVALID_ARG);
    free(longer);
    free(der);
}

/* ---- hand-made CRLs for the rules the fixtures do not reach --------------------------- */

/* A CertificateList with the given TBS contents after the version (a dummy
 * ECDSA signature: for parsing only). */
static uint8_t *assemble(bool v2, const uint8_t *mid, size_t mid_len, const uint8_t *tail,
                         size_t tail_len, size_t *len)
{
    static const uint8_t alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                  0xce, 0x3d, 0x04, 0x03, 0x02};
    static const uint8_t name[] = {0x30, 0x0c, 0x31, 0x0a, 0x30, 0x08, 0x06, 0x03,
                                   0x55, 0x04, 0x03, 0x0c, 0x01, 'X'};
    der_buf b;
    der_buf_init(&b, 0);
    size_t outer = der_begin(&b, DER_SEQUENCE);
    size_t tbs = der_begin(&b, DER_SEQUENCE);
    if (v2)
        der_put_uint64(&b, 1);
    der_put_bytes(&b, alg, sizeof(alg));
    der_put_bytes(&b, name, sizeof(name));
    der_put_x509_time(&b, 1775001600);
    der_put_x509_time(&b, 1775088000);
    der_put_bytes(&b, mid, mid_len);
    der_put_bytes(&b, tail, tail_len);
    der_end(&b, tbs);
    der_put_bytes(&b, alg, sizeof(alg));
    static const uint8_t sig[] = {0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    der_put_bit_string(&b, sig, sizeof(sig), 0);
    der_end(&b, outer);
    uint8_t *out;
    assert_int_equal(der_buf_finish(&b, &out, len), QPKI_OK);
    return out;
}

/* One revokedCertificates list holding one entry for serial 5 with the given
 * crlEntryExtensions contents (NULL: none). */
static size_t entry_list(uint8_t *out, size_t cap, const uint8_t *exts, size_t exts_len)
{
    der_buf b;
    der_buf_init(&b, cap);
    size_t list = der_begin(&b, DER_SEQUENCE);
    size_t e = der_begin(&b, DER_SEQUENCE);
    der_put_uint64(&b, 5);
    der_put_x509_time(&b, 1775001600);
    if (exts)
        der_put_tlv(&b, DER_SEQUENCE, exts, exts_len);
    der_end(&b, e);
    der_end(&b, list);
    uint8_t *p;
    size_t n;
    assert_int_equal(der_buf_finish(&b, &p, &n), QPKI_OK);
    assert_true(n <= cap);
    memcpy(out, p, n);
    qpki_free(p);
    return n;
}

static qpki_status parse_made(bool v2, const uint8_t *mid, size_t mid_len, const uint8_t *tail,
                              size_t tail_len, qpki_crl **out)
{
    size_t len;
    uint8_t *der = assemble(v2, mid, mid_len, tail, tail_len, &len);
    qpki_status rc = qpki_crl_parse(der, len, out);
    qpki_free(der);
    return rc;
}

/* Extension TLV bytes for the entry tests. */
static size_t ext_tlv(uint8_t *out, der_oid oid, bool critical, const uint8_t *v, size_t n)
{
    der_buf b;
    der_buf_init(&b, 256);
    der_put_extension(&b, oid, critical, v, n);
    uint8_t *p;
    size_t len;
    assert_int_equal(der_buf_finish(&b, &p, &len), QPKI_OK);
    memcpy(out, p, len);
    qpki_free(p);
    return len;
}

/* crlExtensions [0] { SEQUENCE { one Extension } } into out (80 octets); its length. */
static size_t crl_exts(uint8_t *out, der_oid oid, bool critical, const uint8_t *v, size_t n)
{
    uint8_t ext[76];
    size_t xn = ext_tlv(ext, oid, critical, v, n);
    assert_true(xn + 4 <= 80 && xn + 2 < 0x80);
    out[0] = DER_CTX_CONS(0);
    out[1] = (uint8_t)(xn + 2);
    out[2] = DER_SEQUENCE;
    out[3] = (uint8_t)xn;
    memcpy(out + 4, ext, xn);
    return xn + 4;
}

static void test_version_rules_are_enforced(void **state)
{
    (void)state;
    qpki_crl *c = NULL;
    uint8_t list[256], exts[256];
    static const uint8_t reason[] = {0x0a, 0x01, 0x01};
    size_t en = ext_tlv(exts, OID_CE_CRL_REASON, false, reason, sizeof(reason));
    size_t n = entry_list(list, sizeof(list), exts, en);
    /* entry extensions need v2 */
    assert_int_equal(parse_made(false, list, n, NULL, 0, &c), QPKI_ERR_BAD_VERSION);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_OK);
    assert_int_equal(qpki_crl_version(c), 2);
    qpki_crl_free(&c);
    /* crlExtensions need v2 */
    static const uint8_t num[] = {0x02, 0x01, 0x07};
    uint8_t wrapped[80];
    size_t wn = crl_exts(wrapped, OID_CE_CRL_NUMBER, false, num, sizeof(num));
    assert_int_equal(parse_made(false, NULL, 0, wrapped, wn, &c), QPKI_ERR_BAD_VERSION);
    assert_int_equal(parse_made(true, NULL, 0, wrapped, wn, &c), QPKI_OK);
    const uint8_t *p;
    size_t len;
    assert_int_equal(qpki_crl_number(c, &p, &len), QPKI_OK);
    assert_int_equal(len, 1);
    assert_int_equal(p[0], 7);
    assert_int_equal(qpki_crl_entry_count(c), 0);
    bool present = true;
    assert_int_equal(qpki_crl_next_update(c, &present), 1775088000);
    assert_true(present);
    qpki_crl_free(&c);
    /* version 1 (v1 written explicitly) is not DER for v1 and not v2 */
    size_t dlen;
    uint8_t *der = assemble(true, NULL, 0, NULL, 0, &dlen);
    static const uint8_t v2_then_alg[] = {0x02, 0x01, 0x01, 0x30, 0x0a, 0x06};
    uint8_t *ver = memmem(der, dlen, v2_then_alg, sizeof(v2_then_alg));
    assert_non_null(ver);
    ver[2] = 0x00;
    assert_int_equal(qpki_crl_parse(der, dlen, &c), QPKI_ERR_BAD_VERSION);
    ver[2] = 0x02;
    assert_int_equal(qpki_crl_parse(der, dlen, &c), QPKI_ERR_BAD_VERSION);
    qpki_free(der);
}

static void test_entry_extensions_are_decoded_and_bounded(void **state)
{
    (void)state;
    qpki_crl *c = NULL;
    uint8_t list[1024], exts[1024];
    size_t en = 0;
    /* reason 7 is not assigned; 11 is out of range */
    for (uint8_t r = 7; r <= 11; r += 4) {
        uint8_t v[] = {0x0a, 0x01, r};
        en = ext_tlv(exts, OID_CE_CRL_REASON, false, v, 3);
        size_t n = entry_list(list, sizeof(list), exts, en);
        assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_ERR_DECODE);
    }
    /* the same extension twice */
    static const uint8_t reason6[] = {0x0a, 0x01, 0x06};
    en = ext_tlv(exts, OID_CE_CRL_REASON, false, reason6, 3);
    en += ext_tlv(exts + en, OID_CE_CRL_REASON, false, reason6, 3);
    size_t n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_ERR_DECODE);
    /* critical FALSE written out is not DER */
    static const uint8_t crit_false[] = {0x30, 0x0a, 0x06, 0x03, 0x55, 0x1d, 0x15, 0x01,
                                         0x01, 0x00, 0x04, 0x03};
    memcpy(exts, crit_false, sizeof(crit_false));
    memcpy(exts + sizeof(crit_false), reason6, 3);
    n = entry_list(list, sizeof(list), exts, sizeof(crit_false) + 3);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_ERR_NON_MINIMAL);
    /* an empty Extensions SEQUENCE */
    n = entry_list(list, sizeof(list), exts, 0);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_ERR_DECODE);
    /* more than QPKI_CRL_MAX_ENTRY_EXTENSIONS */
    en = 0;
    for (unsigned i = 0; i <= QPKI_CRL_MAX_ENTRY_EXTENSIONS; i++) {
        uint8_t oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x23, (uint8_t)i};
        static const uint8_t null_v[] = {0x05, 0x00};
        en += ext_tlv(exts + en, (der_oid){oid, sizeof(oid)}, false, null_v, 2);
    }
    n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_ERR_LIMIT);
    /* hold with an instruction RFC 5280 does not define: kept as absent */
    static const uint8_t other_hold[] = {0x06, 0x03, 0x2a, 0x03, 0x04};
    en = ext_tlv(exts, OID_CE_CRL_REASON, false, reason6, 3);
    en += ext_tlv(exts + en, OID_CE_HOLD_INSTRUCTION, false, other_hold, sizeof(other_hold));
    n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_OK);
    size_t cur = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    assert_int_equal(qpki_crl_next_entry(c, &cur, &e), QPKI_OK);
    assert_int_equal(e.reason, QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(e.hold_instruction, QPKI_HOLD_INSTRUCTION_ABSENT);
    assert_int_equal(e.serial_len, 1);
    assert_int_equal(e.serial[0], 5);
    assert_non_null(e.extensions);
    assert_int_equal(e.extensions_len, en + 2);
    /* a caller built against a first, shorter qpki_crl_entry gets only that */
    struct {
        qpki_crl_entry head;
        uint8_t canary[8];
    } small;
    memset(&small, 0x5a, sizeof(small));
    small.head.struct_size = (uint32_t)(offsetof(qpki_crl_entry, extensions_len) + sizeof(size_t));
    cur = 0;
    assert_int_equal(qpki_crl_next_entry(c, &cur, &small.head), QPKI_OK);
    assert_int_equal(small.canary[0], 0x5a);
    small.head.struct_size = 8;
    cur = 0;
    assert_int_equal(qpki_crl_next_entry(c, &cur, &small.head), QPKI_ERR_INVALID_ARG);
    /* a cursor that does not point at an entry */
    cur = 1;
    assert_int_not_equal(qpki_crl_next_entry(c, &cur, &e), QPKI_OK);
    cur = 9999;
    assert_int_equal(qpki_crl_next_entry(c, &cur, &e), QPKI_ERR_INVALID_ARG);
    qpki_crl_free(&c);
}

static void test_unknown_critical_and_indirect_crls_parse_but_are_not_usable(void **state)
{
    (void)state;
    qpki_crl *c = NULL;
    uint8_t list[512], exts[512];
    char msg[128];
    /* an unknown critical entry extension */
    uint8_t oid[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xb2, 0x23, 0x01};
    static const uint8_t null_v[] = {0x05, 0x00};
    size_t en = ext_tlv(exts, (der_oid){oid, sizeof(oid)}, true, null_v, 2);
    size_t n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_OK);
    assert_int_equal(qpki_crl_usable(c, msg, sizeof(msg)), QPKI_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "entry has a critical extension"));
    qpki_crl_free(&c);
    /* the same, non-critical: fine */
    en = ext_tlv(exts, (der_oid){oid, sizeof(oid)}, false, null_v, 2);
    n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_OK);
    assert_int_equal(qpki_crl_usable(c, msg, sizeof(msg)), QPKI_OK);
    assert_string_equal(msg, "");
    qpki_crl_free(&c);
    /* a certificateIssuer entry: an indirect CRL */
    static const uint8_t gns[] = {0x30, 0x06, 0x82, 0x04, 'a', '.', 'b', 'c'};
    en = ext_tlv(exts, OID_CE_CERTIFICATE_ISSUER, true, gns, sizeof(gns));
    n = entry_list(list, sizeof(list), exts, en);
    assert_int_equal(parse_made(true, list, n, NULL, 0, &c), QPKI_OK);
    assert_int_equal(qpki_crl_usable(c, msg, sizeof(msg)), QPKI_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "indirect"));
    size_t cur = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    assert_int_equal(qpki_crl_next_entry(c, &cur, &e), QPKI_OK);
    assert_true(e.certificate_issuer);
    qpki_crl_free(&c);
    /* an unknown critical CRL extension */
    uint8_t wrapped[80];
    size_t wn = crl_exts(wrapped, (der_oid){oid, sizeof(oid)}, true, null_v, 2);
    assert_int_equal(parse_made(true, NULL, 0, wrapped, wn, &c), QPKI_OK);
    assert_int_equal(qpki_crl_usable(c, msg, sizeof(msg)), QPKI_ERR_UNSUPPORTED);
    assert_non_null(strstr(msg, "the CRL has a critical extension"));
    assert_int_equal(qpki_crl_extension_count(c), 1);
    bool crit = false;
    assert_int_equal(qpki_crl_extension(c, 0, NULL, NULL, &crit, NULL, NULL), QPKI_OK);
    assert_true(crit);
    assert_int_equal(qpki_crl_extension(c, 1, NULL, NULL, &crit, NULL, NULL), QPKI_ERR_NOT_FOUND);
    qpki_crl_free(&c);
}

/* IssuingDistributionPoint values and the flags read from them. */
static void test_issuing_distribution_point_flags(void **state)
{
    (void)state;
    static const struct {
        const char *hex;   /* extnValue */
        qpki_status rc;
        unsigned flags;
    } cases[] = {
        {"3000", QPKI_OK, 0},
        /* distributionPoint fullName URI "a", onlyContainsUserCerts */
        {"300aa005a003" "860161" "8101ff", QPKI_OK,
         QPKI_CRL_IDP_DISTRIBUTION_POINT | QPKI_CRL_IDP_ONLY_USER_CERTS},
        {"30038201ff", QPKI_OK, QPKI_CRL_IDP_ONLY_CA_CERTS},
        /* onlySomeReasons keyCompromise, indirectCRL */
        {"3007830206408401ff", QPKI_OK, QPKI_CRL_IDP_ONLY_SOME_REASONS | QPKI_CRL_IDP_INDIRECT},
        {"30038501ff", QPKI_OK, QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS},
        {"3003810100", QPKI_ERR_NON_MINIMAL, 0},      /* DEFAULT FALSE encoded */
        {"3003810101", QPKI_ERR_DECODE, 0},           /* BOOLEAN not 00/ff */
        {"30068101ff8201ff", QPKI_ERR_DECODE, 0},     /* two "only" flags */
        {"30028300", QPKI_ERR_DECODE, 0},             /* empty BIT STRING */
        {"3004a0028000", QPKI_ERR_UNEXPECTED_TAG, 0}, /* a DistributionPointName [0] primitive */
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        size_t vn;
        uint8_t *v = tu_hex(cases[i].hex, &vn);
        uint8_t wrapped[80];
        size_t wn = crl_exts(wrapped, OID_CE_ISSUING_DP, true, v, vn);
        qpki_crl *c = NULL;
        qpki_status rc = parse_made(true, NULL, 0, wrapped, wn, &c);
        if (rc != cases[i].rc)
            fail_msg("case %s: %s", cases[i].hex, qpki_strerror(rc));
        if (rc == QPKI_OK) {
            assert_int_equal(qpki_crl_idp_flags(c), cases[i].flags);
            const uint8_t *p;
            size_t n;
            qpki_crl_issuing_distribution_point(c, &p, &n);
            assert_int_equal(n, vn);
            assert_memory_equal(p, v, vn);
            bool bad = cases[i].flags & (QPKI_CRL_IDP_INDIRECT | QPKI_CRL_IDP_ONLY_ATTRIBUTE_CERTS);
            assert_int_equal(qpki_crl_usable(c, NULL, 0), bad ? QPKI_ERR_UNSUPPORTED : QPKI_OK);
        }
        qpki_crl_free(&c);
        free(v);
    }
}

static void test_crl_numbers_compare_by_value(void **state)
{
    (void)state;
    static const uint8_t a[] = {0x00, 0x05}, b[] = {0x05}, c[] = {0x01, 0x00}, d[] = {0xff};
    assert_int_equal(qpki_crl_number_cmp(a, 2, b, 1), 0);
    assert_true(qpki_crl_number_cmp(b, 1, c, 2) < 0);
    assert_true(qpki_crl_number_cmp(c, 2, d, 1) > 0);
    assert_true(qpki_crl_number_cmp(NULL, 0, b, 1) < 0);
    assert_int_equal(qpki_crl_number_cmp(NULL, 0, a, 1), 0);
    /* more than 20 octets of cRLNumber is refused */
    uint8_t num[24] = {0x02, 21, 0x01};
    uint8_t wrapped[80];
    size_t wn = crl_exts(wrapped, OID_CE_CRL_NUMBER, false, num, 23);
    qpki_crl *crl = NULL;
    assert_int_equal(parse_made(true, NULL, 0, wrapped, wn, &crl), QPKI_ERR_TOO_LARGE);
    /* a negative number is refused */
    static const uint8_t neg[] = {0x02, 0x01, 0xff};
    wn = crl_exts(wrapped, OID_CE_CRL_NUMBER, false, neg, 3);
    assert_int_not_equal(parse_made(true, NULL, 0, wrapped, wn, &crl), QPKI_OK);
}

/* ---- builder -------------------------------------------------------------------------- */

static qpki_crl_builder *standard_builder(const qpki_cert *ca, bool delta)
{
    qpki_crl_builder *b = NULL;
    assert_int_equal(qpki_crl_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_issuer_cert(b, ca), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_times(b, 1775001600, 1775606400), QPKI_OK);
    static const uint8_t num[] = {0x00, 0x00, 0x2a};
    assert_int_equal(qpki_crl_builder_set_number(b, num, sizeof(num)), QPKI_OK);
    if (delta) {
        static const uint8_t base[] = {0x29};
        assert_int_equal(qpki_crl_builder_set_delta_base(b, base, 1), QPKI_OK);
    }
    static const uint8_t s1[] = {0x10, 0x01}, s2[] = {0x00, 0x80, 0x00},
                         s3[] = {0x10, 0x03}, s4[] = {0x10, 0x04};
    assert_int_equal(qpki_crl_builder_add_entry(b, s1, 2, 1772366400, QPKI_REASON_KEY_COMPROMISE,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 1769904000),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_add_entry(b, s2, 3, 1772452800,
                                                QPKI_REASON_CERTIFICATE_HOLD,
                                                QPKI_HOLD_INSTRUCTION_CALL_ISSUER, 0),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_add_entry(b, s3, 2, 1772539200, QPKI_REASON_NONE,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 0),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_add_entry(b, s4, 2, 4102444800 /* 2100: GeneralizedTime */,
                                                delta ? QPKI_REASON_REMOVE_FROM_CRL
                                                      : QPKI_REASON_UNSPECIFIED,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 0),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_entry_count(b), 4);
    return b;
}

static char *write_temp(const uint8_t *der, size_t len, const char *label)
{
    static char paths[4][64];
    static int k;
    char *path = paths[k++ & 3];
    snprintf(path, 64, "/tmp/qpki-crl-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    if (label) {
        char *pem;
        size_t pem_len;
        assert_int_equal(pem_encode(label, der, len, &pem, &pem_len), QPKI_OK);
        assert_int_equal(write(fd, pem, pem_len), (ssize_t)pem_len);
        qpki_free(pem);
    } else {
        assert_int_equal(write(fd, der, len), (ssize_t)len);
    }
    close(fd);
    return path;
}

/* cryptography reads back exactly what we asked for, and checks the signature. */
static void test_built_crl_reads_back_in_python_cryptography(void **state)
{
    (void)state;
    static const struct {
        const char *ca, *key;
        const char *oid;
    } cas[] = {
        {"ec-p256-ca.pem", "ec-p256-ca.key", "1.2.840.10045.4.3.2"},
        {"rsa-ca.pem", "rsa-ca.key", "1.2.840.113549.1.1.11"},
        {"ed25519-ca.pem", "ed25519-ca.key", "1.3.101.112"},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cas); i++) {
        qpki_cert *ca = load_cert(cas[i].ca);
        qpki_signer *s = load_signer(cas[i].key);
        for (int delta = 0; delta <= 1; delta++) {
            qpki_crl_builder *b = standard_builder(ca, delta);
            uint8_t *der;
            size_t len;
            assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_OK);
            qpki_crl *c = NULL;
            assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
            assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_OK);
            assert_int_equal(qpki_crl_usable(c, NULL, 0), QPKI_OK);
            assert_int_equal(qpki_crl_is_delta(c), delta);
            qpki_crl_free(&c);
            char *path = write_temp(der, len, "X509 CRL");
            char issuer[256], script[256], cmd[768];
            snprintf(issuer, sizeof(issuer), "certs/%s", cas[i].ca);
            /* tu_data_path returns one static buffer: copy each result */
            snprintf(script, sizeof(script), "%s", tu_data_path("crl/crl_dump.py"));
            snprintf(cmd, sizeof(cmd), "/usr/bin/python3 %s --issuer %s %s", script,
                     tu_data_path(issuer), path);
            int status;
            char *out = tu_run(cmd, &status);
            unlink(path);
            assert_int_equal(status, 0);
            char want[2048];
            const char *nl = strchr(out, '\n');
            assert_non_null(nl);
            const char *body = nl + 1; /* after "file ..." */
            char issuer_text[512];
            assert_int_equal(qpki_cert_subject_text(ca, issuer_text, sizeof(issuer_text)), QPKI_OK);
            const uint8_t *kid;
            size_t kid_len;
            qpki_cert_subject_key_id(ca, &kid, &kid_len);
            char kid_hex[64];
            for (size_t k = 0; k < kid_len; k++)
                sprintf(kid_hex + 2 * k, "%02x", kid[k]);
            kid_hex[2 * kid_len] = '\0';
            snprintf(want, sizeof(want),
                     "version 2\nissuer %s\nthis_update 1775001600\nnext_update 1775606400\n"
                     "number 2A\ndelta_base %s\naki %s\nsig_alg %s\nentries 4\n"
                     "entry 1001 1772366400 1 0 1769904000\nentry 8000 1772452800 6 2 0\n"
                     "entry 1003 1772539200 -1 0 0\nentry 1004 4102444800 %s 0 0\n"
                     "signature ok\n",
                     issuer_text, delta ? "29" : "-", kid_hex, cas[i].oid, delta ? "8" : "0");
            assert_string_equal(body, want);
            free(out);
            qpki_free(der);
            qpki_crl_builder_free(&b);
        }
        qpki_signer_free(&s);
        qpki_cert_free(&ca);
    }
}

/* openssl checks the signature and the delta indicator of what we build. */
static void test_built_crl_verifies_with_openssl(void **state)
{
    (void)state;
    qpki_cert *ca = load_cert("ec-p384-ca.pem");
    qpki_signer *s = load_signer("ec-p384-ca.key");
    qpki_crl_builder *b = standard_builder(ca, true);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_OK);
    char *path = write_temp(der, len, NULL);
    char ca_path[256], cmd[768];
    snprintf(ca_path, sizeof(ca_path), "%s", tu_data_path("certs/ec-p384-ca.pem"));
    snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s -CAfile %s -noout -text 2>&1", path,
             ca_path);
    int status;
    char *out = tu_run(cmd, &status);
    unlink(path);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "verify OK"));
    assert_non_null(strstr(out, "X509v3 Delta CRL Indicator: critical"));
    assert_non_null(strstr(out, "Hold Instruction Call Issuer"));
    assert_non_null(strstr(out, "Remove From CRL"));
    assert_non_null(strstr(out, "Invalidity Date"));
    free(out);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_signer_free(&s);
    qpki_cert_free(&ca);
}

static void test_builder_refuses_what_rfc_5280_forbids(void **state)
{
    (void)state;
    qpki_cert *ca = load_cert("ec-p256-ca.pem");
    qpki_signer *s = load_signer("ec-p256-ca.key");
    qpki_signer *other = load_signer("rsa-ca.key");
    qpki_crl_builder *b = NULL;
    uint8_t *der = NULL;
    size_t len = 0;
    static const uint8_t one[] = {1};
    assert_int_equal(qpki_crl_builder_new(&b), QPKI_OK);
    /* nothing set */
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_set_issuer_cert(b, ca), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_times(b, 100, 100), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_set_times(b, 100, 200), QPKI_OK);
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_ERR_INVALID_ARG); /* number */
    uint8_t big[21];
    memset(big, 0x7f, sizeof(big));
    assert_int_equal(qpki_crl_builder_set_number(b, big, 21), QPKI_ERR_INVALID_ARG);
    big[0] = 0x80;
    assert_int_equal(qpki_crl_builder_set_number(b, big, 20), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_set_number(b, NULL, 0), QPKI_OK); /* zero */
    /* hold instruction without certificateHold; reason 7; long serial */
    assert_int_equal(qpki_crl_builder_add_entry(b, one, 1, 100, QPKI_REASON_KEY_COMPROMISE,
                                                QPKI_HOLD_INSTRUCTION_REJECT, 0),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_add_entry(b, one, 1, 100, (qpki_crl_reason)7,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 0),
                     QPKI_ERR_INVALID_ARG);
    uint8_t serial[QPKI_SERIAL_MAX + 1];
    memset(serial, 1, sizeof(serial));
    assert_int_equal(qpki_crl_builder_add_entry(b, serial, sizeof(serial), 100, QPKI_REASON_NONE,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 0),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_entry_count(b), 0);
    /* removeFromCRL outside a delta CRL */
    assert_int_equal(qpki_crl_builder_add_entry(b, one, 1, 100, QPKI_REASON_REMOVE_FROM_CRL,
                                                QPKI_HOLD_INSTRUCTION_ABSENT, 0),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_crl_builder_set_delta_base(b, one, 1), QPKI_OK);
    /* a signer that is not the CA's key */
    assert_int_equal(qpki_crl_builder_sign(b, other, &der, &len), QPKI_ERR_KEY_MISMATCH);
    /* the extensions the builder writes itself */
    static const uint8_t null_v[] = {0x05, 0x00};
    assert_int_equal(qpki_crl_builder_add_extension(b, QPKI_OID_CRL_NUMBER, false, null_v, 2),
                     QPKI_ERR_EXISTS);
    assert_int_equal(qpki_crl_builder_add_extension(b, "2.5.29.74", false, null_v, 2),
                     QPKI_ERR_EXISTS);
    static const uint8_t idp[] = {0x30, 0x03, 0x81, 0x01, 0xff};
    assert_int_equal(qpki_crl_builder_add_extension(b, QPKI_OID_ISSUING_DISTRIBUTION_POINT, true,
                                                    idp, sizeof(idp)),
                     QPKI_OK);
    /* the Catalyst pair needs a CA with an alternative key */
    assert_int_equal(qpki_crl_builder_sign_hybrid(b, s, other, &der, &len), QPKI_ERR_KEY_MISMATCH);
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_OK);
    qpki_crl *c = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_idp_flags(c), QPKI_CRL_IDP_ONLY_USER_CERTS);
    const uint8_t *p;
    size_t n;
    assert_int_equal(qpki_crl_number(c, &p, &n), QPKI_OK);
    assert_int_equal(n, 0);
    /* version, then: AKI, cRLNumber, deltaCRLIndicator, IDP in that order */
    const uint8_t *oid;
    size_t oid_len;
    bool crit;
    static const uint8_t order[][3] = {{0x55, 0x1d, 0x23}, {0x55, 0x1d, 0x14},
                                       {0x55, 0x1d, 0x1b}, {0x55, 0x1d, 0x1c}};
    assert_int_equal(qpki_crl_extension_count(c), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(qpki_crl_extension(c, i, &oid, &oid_len, &crit, NULL, NULL), QPKI_OK);
        assert_int_equal(oid_len, 3);
        assert_memory_equal(oid, order[i], 3);
        assert_int_equal(crit, i >= 2);
    }
    qpki_crl_free(&c);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_signer_free(&other);
    qpki_signer_free(&s);
    qpki_cert_free(&ca);
}

static void test_ml_dsa_crls_verify_for_every_parameter_set(void **state)
{
    (void)state;
    static const qpki_key_alg algs[] = {QPKI_KEY_ML_DSA_44, QPKI_KEY_ML_DSA_65,
                                        QPKI_KEY_ML_DSA_87};
    static const qpki_sig_alg sigs[] = {QPKI_SIG_ML_DSA_44, QPKI_SIG_ML_DSA_65,
                                        QPKI_SIG_ML_DSA_87};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(algs); i++) {
        qpki_signer *s = tu_generated_signer(algs[i]);
        qpki_cert *ca = tu_self_signed_ca(s, NULL, "CN=ML-DSA CRL CA");
        qpki_crl_builder *b = standard_builder(ca, false);
        uint8_t *der;
        size_t len;
        assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_OK);
        qpki_crl *c = NULL;
        assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
        assert_int_equal(qpki_crl_sig_alg(c), sigs[i]);
        assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_OK);
        /* one flipped bit in the TBS */
        qpki_crl_free(&c);
        der[len / 3] ^= 0x10;
        if (qpki_crl_parse(der, len, &c) == QPKI_OK)
            assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_ERR_BAD_SIGNATURE);
        qpki_crl_free(&c);
        qpki_free(der);
        qpki_crl_builder_free(&b);
        qpki_cert_free(&ca);
        qpki_signer_free(&s);
    }
}

/* Catalyst with a deterministic alternative algorithm (Ed25519): the
 * alternative signature covers TBSCertList - signature field - altSignatureValue,
 * which openssl checks over the bytes assembled here; ours verifies both
 * signatures; a changed altSignatureValue or a changed byte is caught. */
static void test_catalyst_crl_alternative_signature_covers_the_documented_bytes(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-ca.key");
    qpki_signer *alt = load_signer("ed25519-ocsp.key");
    qpki_cert *ca = tu_self_signed_ca(classic, alt, "CN=Catalyst CRL CA");
    qpki_crl_builder *b = standard_builder(ca, false);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_crl_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    qpki_crl *c = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_OK);
    assert_int_equal(qpki_crl_verify_alt_signature(c, ca), QPKI_OK);
    assert_int_equal(qpki_crl_usable(c, NULL, 0), QPKI_OK);
    const uint8_t *alg, *sig;
    size_t alg_len, sig_len;
    assert_int_equal(qpki_crl_alt_signature(c, &alg, &alg_len, &sig, &sig_len), QPKI_OK);
    assert_hex_equal(alg, alg_len, "300506032b6570");
    assert_int_equal(sig_len, 64);
    /* the last two extensions are altSignatureAlgorithm, altSignatureValue */
    size_t n = qpki_crl_extension_count(c);
    assert_int_equal(n, 4);
    const uint8_t *oid;
    size_t oid_len;
    assert_int_equal(qpki_crl_extension(c, 2, &oid, &oid_len, NULL, NULL, NULL), QPKI_OK);
    assert_hex_equal(oid, oid_len, "551d49");
    assert_int_equal(qpki_crl_extension(c, 3, &oid, &oid_len, NULL, NULL, NULL), QPKI_OK);
    assert_hex_equal(oid, oid_len, "551d4a");
    /* C = TBSCertList without the signature field and without the last
     * extension, lengths re-encoded: rebuilt here from the parsed pieces by hand */
    der_buf want;
    der_buf_init(&want, 0);
    size_t seq = der_begin(&want, DER_SEQUENCE);
    der_put_bytes(&want, c->version_tlv.p, c->version_tlv.n);
    const uint8_t *exts_start = c->exts_tlv.p;
    der_put_bytes(&want, c->issuer.p, (size_t)(exts_start - c->issuer.p));
    size_t ctx = der_begin(&want, DER_CTX_CONS(0));
    size_t eseq = der_begin(&want, DER_SEQUENCE);
    for (size_t i = 0; i < 3; i++)
        der_put_bytes(&want, c->exts[i].whole.p, c->exts[i].whole.n);
    der_end(&want, eseq);
    der_end(&want, ctx);
    der_end(&want, seq);
    uint8_t *want_tbs;
    size_t want_len;
    assert_int_equal(der_buf_finish(&want, &want_tbs, &want_len), QPKI_OK);
    uint8_t *got;
    size_t got_len;
    assert_int_equal(x509_crl_tbs_reencode(c, true, OID_CE_ALT_SIG_VALUE, &got, &got_len),
                     QPKI_OK);
    assert_int_equal(got_len, want_len);
    assert_memory_equal(got, want_tbs, want_len);
    /* and with neither omission the re-encoding is the TBS itself */
    uint8_t *same;
    size_t same_len;
    assert_int_equal(x509_crl_tbs_reencode(c, false, (der_oid){NULL, 0}, &same, &same_len),
                     QPKI_OK);
    assert_int_equal(same_len, c->tbs.n);
    assert_memory_equal(same, c->tbs.p, same_len);
    qpki_free(same);
    /* openssl: the Ed25519 signature over C with the alternative key */
    const uint8_t *alt_spki;
    size_t alt_spki_len;
    assert_int_equal(qpki_signer_public_key(alt, &alt_spki, &alt_spki_len), QPKI_OK);
    char *msg_path = write_temp(want_tbs, want_len, NULL);
    char *sig_path = write_temp(sig, sig_len, NULL);
    char *key_path = write_temp(alt_spki, alt_spki_len, "PUBLIC KEY");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s",
             key_path, msg_path, sig_path);
    int status;
    char *out = tu_run(cmd, &status);
    unlink(msg_path);
    unlink(sig_path);
    unlink(key_path);
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Signature Verified Successfully"));
    free(out);
    qpki_free(got);
    qpki_free(want_tbs);
    /* a CA without the alternative key; a flipped bit in the alternative signature */
    qpki_cert *plain = load_cert("ec-p256-ca.pem");
    qpki_crl_free(&c);
    uint8_t *copy = malloc(len);
    memcpy(copy, der, len);
    /* the alt signature is the 64 octets that end the altSignatureValue
     * extension, just before the outer signatureAlgorithm */
    assert_int_equal(qpki_crl_parse(copy, len, &c), QPKI_OK);
    size_t at = (size_t)(c->tbs.p + c->tbs.n - c->der) - 1;
    qpki_crl_free(&c);
    copy[at] ^= 0x01;
    assert_int_equal(qpki_crl_parse(copy, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_verify_alt_signature(c, ca), QPKI_ERR_BAD_SIGNATURE);
    assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_ERR_BAD_SIGNATURE);
    qpki_crl_free(&c);
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_verify_alt_signature(c, plain), QPKI_ERR_UNKNOWN_ISSUER);
    qpki_crl_free(&c);
    free(copy);
    qpki_cert_free(&plain);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_cert_free(&ca);
    qpki_signer_free(&alt);
    qpki_signer_free(&classic);
}

static void test_catalyst_crl_with_ml_dsa_verifies_both(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p384-ca.key");
    qpki_signer *alt = tu_generated_signer(QPKI_KEY_ML_DSA_65);
    qpki_cert *ca = tu_self_signed_ca(classic, alt, "CN=Catalyst ML-DSA CRL CA");
    qpki_crl_builder *b = standard_builder(ca, true);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_crl_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    qpki_crl *c = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_verify_signature(c, ca), QPKI_OK);
    assert_int_equal(qpki_crl_verify_alt_signature(c, ca), QPKI_OK);
    const uint8_t *alg, *sig;
    size_t alg_len, sig_len;
    assert_int_equal(qpki_crl_alt_signature(c, &alg, &alg_len, &sig, &sig_len), QPKI_OK);
    assert_hex_equal(alg, alg_len, "300b0609608648016503040312");
    assert_int_equal(sig_len, 3309);
    qpki_crl_free(&c);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_cert_free(&ca);
    qpki_signer_free(&alt);
    qpki_signer_free(&classic);
}

/* A CA certificate whose keyUsage lacks cRLSign may not sign CRLs (RFC 5280
 * §6.3.3 (f)), even with the right key. */
static void test_issuer_without_crl_sign_is_refused(void **state)
{
    (void)state;
    qpki_signer *s = load_signer("ec-p256-ocsp.key");
    qpki_cert *cert = load_cert("ec-p256-ocsp.pem"); /* KU digitalSignature only */
    bool present;
    unsigned ku = qpki_cert_key_usage(cert, &present);
    assert_true(present);
    assert_false(ku & QPKI_KU_CRL_SIGN);
    qpki_crl_builder *b = standard_builder(cert, false);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_crl_builder_sign(b, s, &der, &len), QPKI_OK);
    qpki_crl *c = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_crl_verify_signature(c, cert), QPKI_ERR_KEY_MISMATCH);
    qpki_crl_free(&c);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    qpki_cert_free(&cert);
    qpki_signer_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_matches_python_cryptography),
        cmocka_unit_test(test_fixture_signatures_verify_and_other_cas_do_not),
        cmocka_unit_test(test_every_flipped_bit_of_tbs_or_signature_is_bad_signature),
        cmocka_unit_test(test_der_and_pem_give_the_same_crl),
        cmocka_unit_test(test_truncation_trailing_data_and_oversize_are_refused),
        cmocka_unit_test(test_version_rules_are_enforced),
        cmocka_unit_test(test_entry_extensions_are_decoded_and_bounded),
        cmocka_unit_test(test_unknown_critical_and_indirect_crls_parse_but_are_not_usable),
        cmocka_unit_test(test_issuing_distribution_point_flags),
        cmocka_unit_test(test_crl_numbers_compare_by_value),
        cmocka_unit_test(test_built_crl_reads_back_in_python_cryptography),
        cmocka_unit_test(test_built_crl_verifies_with_openssl),
        cmocka_unit_test(test_builder_refuses_what_rfc_5280_forbids),
        cmocka_unit_test(test_ml_dsa_crls_verify_for_every_parameter_set),
        cmocka_unit_test(test_catalyst_crl_alternative_signature_covers_the_documented_bytes),
        cmocka_unit_test(test_catalyst_crl_with_ml_dsa_verifies_both),
        cmocka_unit_test(test_issuer_without_crl_sign_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
