/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_request.c - OCSPRequest parsing and encoding (RFC 6960 §4.1). */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/request.h>

#include "testutil.h"
#include "der/der.h"
#include "der/oid.h"
#include "internal.h"

static qpki_cert *ca;

static int setup(void **state)
{
    (void)state;
    return qpki_cert_load_file(tu_data_path("ocsp/ca.crt"), &ca) == QPKI_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    return 0;
}

static qpki_ocsp_request *parse_file(const char *name, qpki_status want)
{
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path(name), &len);
    assert_non_null(der);
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), want);
    free(der);
    return req;
}

static void serial_is(const qpki_certid *id, const char *hex)
{
    char buf[80];
    assert_int_equal(qpki_certid_serial_hex(id, buf, sizeof(buf)), QPKI_OK);
    assert_string_equal(buf, hex);
}

static void test_openssl_sha1_request_without_nonce(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-sha1-nononce.der", QPKI_OK);
    assert_int_equal(qpki_ocsp_request_count(req), 1);
    const qpki_certid *id = qpki_ocsp_request_certid(req, 0);
    assert_int_equal(qpki_certid_hash_alg(id), QPKI_HASH_SHA1);
    serial_is(id, "1001");
    assert_true(qpki_certid_matches_issuer(id, ca));
    const uint8_t *n;
    size_t nl;
    assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_ERR_NOT_FOUND);
    assert_false(qpki_ocsp_request_is_signed(req));
    assert_int_equal(qpki_ocsp_request_extension_count(req), 0);
    assert_null(qpki_ocsp_request_certid(req, 1));
    qpki_ocsp_request_free(&req);
    assert_null(req);
}

static void test_openssl_request_with_nonce_has_16_octets(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-sha1-nonce.der", QPKI_OK);
    const uint8_t *n;
    size_t nl;
    assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_OK);
    assert_int_equal(nl, 16);
    assert_int_equal(qpki_ocsp_request_extension_count(req), 1);
    qpki_ocsp_request_free(&req);
}

static void test_openssl_sha256_request(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-sha256-nononce.der", QPKI_OK);
    const qpki_certid *id = qpki_ocsp_request_certid(req, 0);
    assert_int_equal(qpki_certid_hash_alg(id), QPKI_HASH_SHA256);
    const uint8_t *h;
    size_t hl;
    qpki_certid_key_hash(id, &h, &hl);
    assert_int_equal(hl, 32);
    assert_true(qpki_certid_matches_issuer(id, ca));
    qpki_ocsp_request_free(&req);
}

static void test_openssl_request_for_two_certificates(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-two.der", QPKI_OK);
    assert_int_equal(qpki_ocsp_request_count(req), 2);
    serial_is(qpki_ocsp_request_certid(req, 0), "1001");
    serial_is(qpki_ocsp_request_certid(req, 1), "1002");
    qpki_ocsp_request_free(&req);
}

static void test_signed_request_keeps_requestor_name(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-signed.der", QPKI_OK);
    assert_true(qpki_ocsp_request_is_signed(req));
    const uint8_t *name;
    size_t len;
    assert_int_equal(qpki_ocsp_request_requestor_name(req, &name, &len), QPKI_OK);
    assert_int_equal(name[0], 0xa4); /* GeneralName directoryName [4] */
    qpki_ocsp_request_free(&req);
}

static void test_foreign_request_does_not_match_our_ca(void **state)
{
    (void)state;
    qpki_ocsp_request *req = parse_file("ocsp/req-foreign.der", QPKI_OK);
    assert_false(qpki_certid_matches_issuer(qpki_ocsp_request_certid(req, 0), ca));
    qpki_ocsp_request_free(&req);
}

/* Our encoder, read back by us and by openssl. */
static void test_encoded_request_round_trips_and_openssl_reads_it(void **state)
{
    (void)state;
    qpki_certid *a = NULL, *b = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA256, ca, (const uint8_t *)"\x00\x10\x01", 3, &a),
                     QPKI_OK);
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, (const uint8_t *)"\x80\x02", 2, &b),
                     QPKI_OK);
    serial_is(a, "1001");
    serial_is(b, "8002");
    const uint8_t *s;
    size_t sl;
    qpki_certid_serial(b, &s, &sl);
    assert_int_equal(sl, 3); /* 00 80 02: sign octet added */
    const qpki_certid *ids[] = {a, b};
    uint8_t nonce[32];
    for (size_t i = 0; i < sizeof(nonce); i++)
        nonce[i] = (uint8_t)i;
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_ocsp_request_encode(ids, 2, nonce, sizeof(nonce), &der, &len), QPKI_OK);
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_OK);
    assert_int_equal(qpki_ocsp_request_count(req), 2);
    assert_true(qpki_certid_equal(qpki_ocsp_request_certid(req, 0), a));
    assert_true(qpki_certid_equal(qpki_ocsp_request_certid(req, 1), b));
    const uint8_t *n;
    size_t nl;
    assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_OK);
    assert_int_equal(nl, 32);
    assert_memory_equal(n, nonce, 32);
    qpki_ocsp_request_free(&req);

    char path[] = "/tmp/qpki-req-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, der, len), (ssize_t)len);
    close(fd);
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "openssl ocsp -reqin %s -req_text 2>&1", path);
    int st;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_non_null(strstr(out, "Serial Number: 1001"));
    assert_non_null(strstr(out, "Serial Number: 8002"));
    assert_non_null(strstr(out, "Hash Algorithm: sha256"));
    assert_non_null(strstr(out, "OCSP Nonce"));
    assert_non_null(strstr(out, "0420000102030405060708090A0B0C0D0E0F"));
    free(out);
    unlink(path);
    qpki_free(der);
    qpki_certid_free(&a);
    qpki_certid_free(&b);
}

/* Build a request whose nonce extension value is OCTET STRING of n octets. */
static uint8_t *request_with_nonce_len(size_t n, size_t *len)
{
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, (const uint8_t *)"\x10\x01", 2, &id),
                     QPKI_OK);
    const uint8_t *cid;
    size_t cid_len;
    qpki_certid_der(id, &cid, &cid_len);
    uint8_t nonce[200];
    memset(nonce, 0x5a, sizeof(nonce));
    der_buf b;
    der_buf_init(&b, 0);
    size_t req = der_begin(&b, DER_SEQUENCE);
    size_t tbs = der_begin(&b, DER_SEQUENCE);
    size_t list = der_begin(&b, DER_SEQUENCE);
    size_t one = der_begin(&b, DER_SEQUENCE);
    der_put_bytes(&b, cid, cid_len);
    der_end(&b, one);
    der_end(&b, list);
    size_t x = der_begin(&b, DER_CTX_CONS(2));
    size_t exts = der_begin(&b, DER_SEQUENCE);
    size_t ext = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_OCSP_NONCE);
    size_t v = der_begin(&b, DER_OCTET_STRING);
    der_put_octet_string(&b, nonce, n);
    der_end(&b, v);
    der_end(&b, ext);
    der_end(&b, exts);
    der_end(&b, x);
    der_end(&b, tbs);
    der_end(&b, req);
    uint8_t *der;
    assert_int_equal(der_buf_finish(&b, &der, len), QPKI_OK);
    qpki_certid_free(&id);
    return der;
}

static void test_request_with_empty_nonce_is_malformed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = request_with_nonce_len(0, &len);
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_ERR_NONCE_LENGTH);
    assert_null(req);
    qpki_free(der);
}

static void test_request_with_129_byte_nonce_is_malformed(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = request_with_nonce_len(129, &len);
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_ERR_NONCE_LENGTH);
    qpki_free(der);
}

static void test_request_with_1_and_128_byte_nonces_is_accepted(void **state)
{
    (void)state;
    size_t sizes[] = {1, 128};
    for (size_t i = 0; i < 2; i++) {
        size_t len;
        uint8_t *der = request_with_nonce_len(sizes[i], &len);
        qpki_ocsp_request *req = NULL;
        assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_OK);
        const uint8_t *n;
        size_t nl;
        assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_OK);
        assert_int_equal(nl, sizes[i]);
        qpki_ocsp_request_free(&req);
        qpki_free(der);
    }
}

/* RFC 6960 §4.4.7: the preferences come back in the order written, next to the
 * nonce; the extension bytes are exactly the spec's SEQUENCE OF SEQUENCE {
 * sigIdentifier } (ML-DSA-65 without parameters per RFC 9881, ecdsa-with-SHA256
 * without parameters per RFC 5758). */
static void test_preferred_signature_algorithms_round_trip(void **state)
{
    (void)state;
    qpki_certid *a = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA256, ca, (const uint8_t *)"\x10\x01", 2, &a),
                     QPKI_OK);
    const qpki_certid *ids[] = {a};
    const uint8_t nonce[16] = {1, 2, 3};
    const qpki_sig_alg prefs[] = {QPKI_SIG_ML_DSA_65, QPKI_SIG_ECDSA_SHA256};
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, nonce, sizeof(nonce), prefs, 2, &der,
                                                    &len),
                     QPKI_OK);
    static const uint8_t ext[] = {
        0x30, 0x2c, 0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x08, /* .8 */
        0x04, 0x1f, 0x30, 0x1d,                                                       /* list */
        0x30, 0x0d, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x12,
        0x30, 0x0c, 0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
    };
    assert_true(len > sizeof(ext));
    assert_memory_equal(der + len - sizeof(ext), ext, sizeof(ext));
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_OK);
    assert_int_equal(qpki_ocsp_request_pref_sig_alg_count(req), 2);
    assert_int_equal(qpki_ocsp_request_pref_sig_alg(req, 0), QPKI_SIG_ML_DSA_65);
    assert_int_equal(qpki_ocsp_request_pref_sig_alg(req, 1), QPKI_SIG_ECDSA_SHA256);
    const uint8_t *n;
    size_t nl;
    assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_OK);
    assert_int_equal(nl, sizeof(nonce));
    assert_memory_equal(n, nonce, sizeof(nonce));
    qpki_ocsp_request_free(&req);
    qpki_free(der);

    /* without a nonce the extensions hold the preferences alone */
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, NULL, 0, prefs, 1, &der, &len),
                     QPKI_OK);
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_OK);
    assert_int_equal(qpki_ocsp_request_pref_sig_alg_count(req), 1);
    assert_int_equal(qpki_ocsp_request_extension_count(req), 1);
    assert_int_equal(qpki_ocsp_request_nonce(req, &n, &nl), QPKI_ERR_NOT_FOUND);
    qpki_ocsp_request_free(&req);
    qpki_free(der);

    /* refused: an algorithm without an identifier, more than 16, a NULL list */
    const qpki_sig_alg bad[] = {QPKI_SIG_ECDSA_SHA256, QPKI_SIG_UNKNOWN};
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, NULL, 0, bad, 2, &der, &len),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    qpki_sig_alg many[17];
    for (size_t i = 0; i < 17; i++)
        many[i] = QPKI_SIG_ED25519;
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, NULL, 0, many, 17, &der, &len),
                     QPKI_ERR_LIMIT);
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, NULL, 0, many, 16, &der, &len),
                     QPKI_OK);
    qpki_free(der);
    assert_int_equal(qpki_ocsp_request_encode_prefs(ids, 1, NULL, 0, NULL, 1, &der, &len),
                     QPKI_ERR_INVALID_ARG);
    qpki_certid_free(&a);

    /* the names the CLI accepts */
    qpki_sig_alg alg;
    assert_int_equal(qpki_sig_alg_from_name("ml-dsa-65", &alg), QPKI_OK);
    assert_int_equal(alg, QPKI_SIG_ML_DSA_65);
    assert_int_equal(qpki_sig_alg_from_name("ecdsa-with-SHA384", &alg), QPKI_OK);
    assert_int_equal(alg, QPKI_SIG_ECDSA_SHA384);
    assert_int_equal(qpki_sig_alg_from_name("RSA-PSS-SHA512", &alg), QPKI_OK);
    assert_int_equal(alg, QPKI_SIG_RSA_PSS_SHA512);
    assert_int_equal(qpki_sig_alg_from_name("sha256WithRSAEncryption", &alg), QPKI_OK);
    assert_int_equal(alg, QPKI_SIG_RSA_PKCS1_SHA256);
    assert_int_equal(qpki_sig_alg_from_name("md5WithRSAEncryption", &alg), QPKI_ERR_PARSE);
    assert_int_equal(qpki_sig_alg_from_name("unknown", &alg), QPKI_ERR_PARSE);
}

static uint8_t *request_with_n_certids(size_t n, size_t *len)
{
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, (const uint8_t *)"\x10\x01", 2, &id),
                     QPKI_OK);
    const qpki_certid *ids[64];
    for (size_t i = 0; i < n; i++)
        ids[i] = id;
    uint8_t *der;
    assert_int_equal(qpki_ocsp_request_encode(ids, n, NULL, 0, &der, len), QPKI_OK);
    qpki_certid_free(&id);
    return der;
}

static void test_17_certids_exceed_the_default_cap(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = request_with_n_certids(16, &len);
    qpki_ocsp_request *req = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_OK);
    assert_int_equal(qpki_ocsp_request_count(req), 16);
    qpki_ocsp_request_free(&req);
    qpki_free(der);
    der = request_with_n_certids(17, &len);
    assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &req), QPKI_ERR_TOO_MANY_CERTIDS);
    /* a raised cap accepts it */
    qpki_limits lim;
    qpki_limits_init(&lim);
    lim.max_certids = 32;
    assert_int_equal(qpki_ocsp_request_parse(der, len, &lim, &req), QPKI_OK);
    qpki_ocsp_request_free(&req);
    qpki_free(der);
}

static void test_structural_errors_have_exact_codes(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path("ocsp/req-sha1-nononce.der"), &len);
    assert_non_null(der);
    qpki_ocsp_request *req = NULL;
    uint8_t *buf = malloc(len + 1);
    /* trailing byte */
    memcpy(buf, der, len);
    buf[len] = 0;
    assert_int_equal(qpki_ocsp_request_parse(buf, len + 1, NULL, &req), QPKI_ERR_TRAILING_DATA);
    /* every truncation fails cleanly */
    for (size_t cut = 0; cut < len; cut++) {
        qpki_status rc = qpki_ocsp_request_parse(der, cut, NULL, &req);
        assert_int_not_equal(rc, QPKI_OK);
        assert_null(req);
    }
    assert_int_equal(qpki_ocsp_request_parse(der, len - 1, NULL, &req), QPKI_ERR_TRUNCATED);
    /* wrong outer tag */
    memcpy(buf, der, len);
    buf[0] = 0x31;
    assert_int_equal(qpki_ocsp_request_parse(buf, len, NULL, &req), QPKI_ERR_UNEXPECTED_TAG);
    /* size cap */
    qpki_limits lim;
    qpki_limits_init(&lim);
    lim.max_request_size = len - 1;
    assert_int_equal(qpki_ocsp_request_parse(der, len, &lim, &req), QPKI_ERR_TOO_LARGE);
    assert_int_equal(qpki_ocsp_request_parse(der, 0, NULL, &req), QPKI_ERR_TRUNCATED);
    free(buf);
    free(der);
}

static void test_version_2_is_rejected_and_indefinite_length_too(void **state)
{
    (void)state;
    /* SEQ { SEQ { [0] { INTEGER 1 }, SEQ { SEQ { certid } } } } */
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, (const uint8_t *)"\x01", 1, &id), QPKI_OK);
    const uint8_t *cid;
    size_t cid_len;
    qpki_certid_der(id, &cid, &cid_len);
    for (int version = 0; version <= 1; version++) {
        der_buf b;
        der_buf_init(&b, 0);
        size_t req = der_begin(&b, DER_SEQUENCE);
        size_t tbs = der_begin(&b, DER_SEQUENCE);
        size_t v = der_begin(&b, DER_CTX_CONS(0));
        der_put_uint64(&b, (uint64_t)version);
        der_end(&b, v);
        size_t list = der_begin(&b, DER_SEQUENCE);
        size_t one = der_begin(&b, DER_SEQUENCE);
        der_put_bytes(&b, cid, cid_len);
        der_end(&b, one);
        der_end(&b, list);
        der_end(&b, tbs);
        der_end(&b, req);
        uint8_t *der;
        size_t len;
        assert_int_equal(der_buf_finish(&b, &der, &len), QPKI_OK);
        qpki_ocsp_request *r = NULL;
        assert_int_equal(qpki_ocsp_request_parse(der, len, NULL, &r),
                         version == 0 ? QPKI_OK : QPKI_ERR_BAD_VERSION);
        qpki_ocsp_request_free(&r);
        if (version == 0) {
            /* turn the outer length into the BER indefinite form */
            uint8_t ber[512];
            assert_true(len + 2 < sizeof(ber));
            size_t hdr = der[1] & 0x80 ? 2u + (der[1] & 0x7fu) : 2u;
            ber[0] = 0x30;
            ber[1] = 0x80;
            memcpy(ber + 2, der + hdr, len - hdr);
            ber[2 + len - hdr] = 0;
            ber[3 + len - hdr] = 0;
            assert_int_equal(qpki_ocsp_request_parse(ber, len - hdr + 4, NULL, &r),
                             QPKI_ERR_INDEFINITE);
        }
        qpki_free(der);
    }
    qpki_certid_free(&id);
}

static void test_empty_request_list_is_malformed(void **state)
{
    (void)state;
    static const uint8_t der[] = {0x30, 0x04, 0x30, 0x02, 0x30, 0x00};
    qpki_ocsp_request *r = NULL;
    assert_int_equal(qpki_ocsp_request_parse(der, sizeof(der), NULL, &r), QPKI_ERR_DECODE);
}

static void test_certid_with_absent_hash_parameters_is_accepted(void **state)
{
    (void)state;
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA256, ca, (const uint8_t *)"\x10\x01", 2, &id),
                     QPKI_OK);
    const uint8_t *nh, *kh;
    size_t nl, kl;
    qpki_certid_name_hash(id, &nh, &nl);
    qpki_certid_key_hash(id, &kh, &kl);
    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    size_t alg = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_SHA256); /* no NULL */
    der_end(&b, alg);
    der_put_octet_string(&b, nh, nl);
    der_put_octet_string(&b, kh, kl);
    der_put_integer_content(&b, (const uint8_t *)"\x10\x01", 2);
    der_end(&b, seq);
    uint8_t *der;
    size_t len;
    assert_int_equal(der_buf_finish(&b, &der, &len), QPKI_OK);
    qpki_certid *parsed = NULL;
    assert_int_equal(qpki_certid_parse(der, len, &parsed), QPKI_OK);
    assert_true(qpki_certid_equal(parsed, id));
    assert_true(qpki_certid_matches_issuer(parsed, ca));
    const uint8_t *raw;
    size_t raw_len;
    qpki_certid_der(parsed, &raw, &raw_len);
    assert_int_equal(raw_len, len); /* echoed exactly as received */
    assert_memory_equal(raw, der, len);
    qpki_certid_free(&parsed);
    qpki_free(der);
    qpki_certid_free(&id);
}

static void test_certid_hashes_for_all_four_algorithms(void **state)
{
    (void)state;
    qpki_hash_alg algs[] = {QPKI_HASH_SHA1, QPKI_HASH_SHA256, QPKI_HASH_SHA384, QPKI_HASH_SHA512};
    size_t lens[] = {20, 32, 48, 64};
    qpki_cert *leaf = NULL;
    assert_int_equal(qpki_cert_load_file(tu_data_path("ocsp/leaf1.crt"), &leaf), QPKI_OK);
    for (size_t i = 0; i < 4; i++) {
        qpki_certid *id = NULL;
        assert_int_equal(qpki_certid_for_cert(algs[i], ca, leaf, &id), QPKI_OK);
        const uint8_t *h;
        size_t hl;
        qpki_certid_name_hash(id, &h, &hl);
        assert_int_equal(hl, lens[i]);
        assert_true(qpki_certid_matches_issuer(id, ca));
        serial_is(id, "1001");
        qpki_certid_free(&id);
    }
    /* the SHA-1 CertID equals openssl's */
    qpki_ocsp_request *req = parse_file("ocsp/req-sha1-nononce.der", QPKI_OK);
    qpki_certid *ours = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA1, ca, leaf, &ours), QPKI_OK);
    const uint8_t *a, *b;
    size_t al, bl;
    qpki_certid_der(ours, &a, &al);
    qpki_certid_der(qpki_ocsp_request_certid(req, 0), &b, &bl);
    assert_int_equal(al, bl);
    assert_memory_equal(a, b, al);
    qpki_certid_free(&ours);
    qpki_ocsp_request_free(&req);
    qpki_cert_free(&leaf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_sha1_request_without_nonce),
        cmocka_unit_test(test_openssl_request_with_nonce_has_16_octets),
        cmocka_unit_test(test_openssl_sha256_request),
        cmocka_unit_test(test_openssl_request_for_two_certificates),
        cmocka_unit_test(test_signed_request_keeps_requestor_name),
        cmocka_unit_test(test_foreign_request_does_not_match_our_ca),
        cmocka_unit_test(test_encoded_request_round_trips_and_openssl_reads_it),
        cmocka_unit_test(test_preferred_signature_algorithms_round_trip),
        cmocka_unit_test(test_request_with_empty_nonce_is_malformed),
        cmocka_unit_test(test_request_with_129_byte_nonce_is_malformed),
        cmocka_unit_test(test_request_with_1_and_128_byte_nonces_is_accepted),
        cmocka_unit_test(test_17_certids_exceed_the_default_cap),
        cmocka_unit_test(test_structural_errors_have_exact_codes),
        cmocka_unit_test(test_version_2_is_rejected_and_indefinite_length_too),
        cmocka_unit_test(test_empty_request_list_is_malformed),
        cmocka_unit_test(test_certid_with_absent_hash_parameters_is_accepted),
        cmocka_unit_test(test_certid_hashes_for_all_four_algorithms),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
