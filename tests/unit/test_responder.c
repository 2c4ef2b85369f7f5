/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_responder.c - the responder core: routing, policies, cache,
 * nonces, tryLater, key replacement, concurrency.  Every successful answer is
 * checked with the verifier; the interop scripts check them with openssl too. */
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/key.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "testutil.h"
#include "db/db_internal.h"
#include "db/table.h"
#include "der/der.h"
#include "der/oid.h"
#include "internal.h"

static qpki_cert *ca, *other_ca, *responder_cert, *responder_ed_cert, *leaf1;
static qpki_signer *rsigner, *edsigner, *casigner, *other_signer;
static qpki_db *db, *other_db;
static qpki_time fixed_now;

static int setup(void **state)
{
    (void)state;
    fixed_now = (qpki_time)time(NULL);
    if (tu_load_ocsp_fixture(&ca, &responder_cert, &rsigner) ||
        qpki_cert_load_file(tu_data_path("ocsp/other-ca.crt"), &other_ca) ||
        qpki_cert_load_file(tu_data_path("ocsp/responder-ed.crt"), &responder_ed_cert) ||
        qpki_cert_load_file(tu_data_path("ocsp/leaf1.crt"), &leaf1) ||
        qpki_signer_software_load(tu_data_path("ocsp/responder-ed.key"), NULL, &edsigner) ||
        qpki_signer_software_load(tu_data_path("ocsp/ca.key"), NULL, &casigner) ||
        qpki_signer_software_load(tu_data_path("ocsp/other-ca.key"), NULL, &other_signer) ||
        qpki_db_open_index(tu_data_path("ocsp/index.txt"), &db))
        return -1;
    /* the other CA has an empty database */
    char path[] = "/tmp/qpki-empty-index-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    qpki_status rc = qpki_db_open_index(path, &other_db);
    unlink(path);
    return rc == QPKI_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    qpki_cert_free(&other_ca);
    qpki_cert_free(&responder_cert);
    qpki_cert_free(&responder_ed_cert);
    qpki_cert_free(&leaf1);
    qpki_signer_free(&rsigner);
    qpki_signer_free(&edsigner);
    qpki_signer_free(&casigner);
    qpki_signer_free(&other_signer);
    qpki_db_free(&db);
    qpki_db_free(&other_db);
    return 0;
}

/* A responder on the test clock for the test CA, answering from `on` with the
 * delegated responder certificate and `signer`. */
static qpki_responder *responder_on(qpki_db *on, qpki_signer *signer)
{
    return tu_responder(ca, on, signer, responder_cert, &fixed_now);
}

static qpki_responder *new_responder(qpki_responder_issuer **iss)
{
    qpki_responder *r = responder_on(db, rsigner);
    if (iss)
        *iss = qpki_responder_issuer_at(r, 0);
    return r;
}

/* A copy of tests/data/ocsp/index.txt in a temporary directory, opened. */
typedef struct temp_index {
    char dir[64], path[256];
    qpki_db *db;
} temp_index;

static void temp_index_open(temp_index *ti)
{
    snprintf(ti->dir, sizeof(ti->dir), "/tmp/qpki-resp-db-XXXXXX");
    assert_non_null(mkdtemp(ti->dir));
    snprintf(ti->path, sizeof(ti->path), "%s/index.txt", ti->dir);
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "cp %s %s", tu_data_path("ocsp/index.txt"), ti->path);
    assert_int_equal(system(cmd), 0);
    ti->db = NULL;
    assert_int_equal(qpki_db_open_index(ti->path, &ti->db), QPKI_OK);
}

/* Revoke 1001 (superseded) the way `openssl ca` does: rewrite and rename. */
static void temp_index_revoke_1001(const temp_index *ti)
{
    char cmd[1400];
    snprintf(cmd, sizeof(cmd),
             "sed 's/^V\\(\\t[0-9]*Z\\t\\)\\(\\t1001\\t\\)/R\\1240201000000Z,superseded\\2/' %s "
             "> %s.new && mv %s.new %s",
             ti->path, ti->path, ti->path, ti->path);
    assert_int_equal(system(cmd), 0);
}

static void temp_index_close(temp_index *ti)
{
    qpki_db_free(&ti->db);
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", ti->dir);
    assert_int_equal(system(cmd), 0);
}

static uint8_t *request_for(const uint8_t *serial, size_t serial_len, qpki_hash_alg alg,
                            const uint8_t *nonce, size_t nonce_len, size_t *len)
{
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(alg, ca, serial, serial_len, &id), QPKI_OK);
    const qpki_certid *ids[] = {id};
    uint8_t *der;
    assert_int_equal(qpki_ocsp_request_encode(ids, 1, nonce, nonce_len, &der, len), QPKI_OK);
    qpki_certid_free(&id);
    return der;
}

/* Parse and verify an answer; returns the parsed response (caller frees). */
static qpki_ocsp_response *verified(const qpki_answer *a, const qpki_cert *trust,
                                    const uint8_t *nonce, size_t nonce_len)
{
    const uint8_t *der;
    size_t len;
    qpki_answer_bytes(a, &der, &len);
    qpki_ocsp_response *resp = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &resp), QPKI_OK);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, trust), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_time(v, fixed_now), QPKI_OK);
    if (nonce)
        assert_int_equal(qpki_ocsp_verifier_set_nonce(v, nonce, nonce_len), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_OK);
    qpki_ocsp_verifier_free(&v);
    return resp;
}

static qpki_answer *ask(qpki_responder *r, const uint8_t *req, size_t len)
{
    qpki_answer *a = NULL;
    assert_int_equal(qpki_responder_respond(r, req, len, &a), QPKI_OK);
    assert_non_null(a);
    return a;
}

static qpki_answer *ask_file(qpki_responder *r, const char *name)
{
    size_t len;
    uint8_t *der = tu_read_file(tu_data_path(name), &len);
    assert_non_null(der);
    qpki_answer *a = ask(r, der, len);
    free(der);
    return a;
}

static void test_good_revoked_unknown_and_cache(void **state)
{
    (void)state;
    qpki_responder *r = new_responder(NULL);
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
    assert_int_equal(qpki_answer_cert_status(a), QPKI_CERT_STATUS_GOOD);
    assert_string_equal(qpki_answer_serial_hex(a), "1001");
    assert_int_equal(qpki_answer_hash_alg(a), QPKI_HASH_SHA1);
    assert_int_equal(qpki_answer_issuer_index(a), 0);
    assert_false(qpki_answer_cache_hit(a));
    /* RFC 9919 / DESIGN §5: thisUpdate backdated 60 s, nextUpdate = now + 1h */
    assert_int_equal(qpki_answer_this_update(a), fixed_now - 60);
    assert_int_equal(qpki_answer_next_update(a), fixed_now + 3600);
    assert_int_equal(qpki_answer_produced_at(a), fixed_now);
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_cert_count(resp), 1); /* delegated cert included */
    bool by_key;
    const uint8_t *id;
    size_t id_len;
    assert_int_equal(qpki_ocsp_response_responder_id(resp, &by_key, &id, &id_len), QPKI_OK);
    assert_true(by_key);
    assert_int_equal(id_len, 20);
    qpki_ocsp_response_free(&resp);

    /* the same request again is a cache hit with identical bytes */
    qpki_answer *b = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_true(qpki_answer_cache_hit(b));
    const uint8_t *d1, *d2;
    size_t l1, l2;
    qpki_answer_bytes(a, &d1, &l1);
    qpki_answer_bytes(b, &d2, &l2);
    assert_int_equal(l1, l2);
    assert_memory_equal(d1, d2, l1);
    qpki_answer_free(&a);
    qpki_answer_free(&b);

    /* revoked, with time and reason from index.txt */
    size_t len;
    uint8_t *req = request_for((const uint8_t *)"\x10\x02", 2, QPKI_HASH_SHA256, NULL, 0, &len);
    a = ask(r, req, len);
    resp = verified(a, ca, NULL, 0);
    const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, 0);
    assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_REVOKED);
    assert_int_equal(qpki_ocsp_single_reason(s), QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(qpki_ocsp_single_revocation_time(s), 1705312800);
    assert_int_equal(qpki_certid_hash_alg(qpki_ocsp_single_certid(s)), QPKI_HASH_SHA256);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(req);

    /* unknown serial */
    req = request_for((const uint8_t *)"\x77", 1, QPKI_HASH_SHA384, NULL, 0, &len);
    a = ask(r, req, len);
    resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_single_status(qpki_ocsp_response_single(resp, 0)),
                     QPKI_CERT_STATUS_UNKNOWN);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(req);

    qpki_responder_stats st = {.struct_size = sizeof(st)};
    assert_int_equal(qpki_responder_get_stats(r, &st), QPKI_OK);
    assert_int_equal(st.requests, 4);
    assert_int_equal(st.cache_hits, 1);
    assert_int_equal(st.by_resp_status[QPKI_OCSP_RESP_SUCCESSFUL], 4);
    qpki_responder_free(&r);
}

static void test_unknown_and_expired_policies(void **state)
{
    (void)state;
    qpki_responder_issuer *iss;
    qpki_responder *r = new_responder(&iss);
    size_t len;
    uint8_t *req = request_for((const uint8_t *)"\x77", 1, QPKI_HASH_SHA1, NULL, 0, &len);

    assert_int_equal(qpki_responder_issuer_set_unknown_policy(iss, QPKI_UNKNOWN_AS_UNAUTHORIZED),
                     QPKI_OK);
    qpki_answer *a = ask(r, req, len);
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_UNAUTHORIZED);
    const uint8_t *der;
    size_t dl;
    qpki_answer_bytes(a, &der, &dl);
    assert_int_equal(dl, 5);
    assert_memory_equal(der, "\x30\x03\x0a\x01\x06", 5);
    qpki_answer_free(&a);

    assert_int_equal(qpki_responder_issuer_set_unknown_policy(iss, QPKI_UNKNOWN_AS_REVOKED), QPKI_OK);
    a = ask(r, req, len);
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, 0);
    assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_REVOKED);
    assert_int_equal(qpki_ocsp_single_reason(s), QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(qpki_ocsp_single_revocation_time(s), 0);
    /* RFC 6960 §4.4.8 extended revoke extension present */
    bool found = false;
    for (size_t i = 0; i < qpki_ocsp_response_extension_count(resp); i++) {
        const uint8_t *oid, *val;
        size_t ol, vl;
        bool crit;
        assert_int_equal(qpki_ocsp_response_extension(resp, i, &oid, &ol, &crit, &val, &vl), QPKI_OK);
        if (der_oid_eq((der_view){oid, ol}, OID_OCSP_EXTENDED_REVOKE)) {
            found = true;
            assert_int_equal(vl, 2);
            assert_memory_equal(val, "\x05\x00", 2);
        }
    }
    assert_true(found);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(req);

    /* E row (1003) and a V row past its expiry (1004) */
    const char *serials[] = {"\x10\x03", "\x10\x04"};
    for (size_t i = 0; i < 2; i++) {
        req = request_for((const uint8_t *)serials[i], 2, QPKI_HASH_SHA1, NULL, 0, &len);
        assert_int_equal(qpki_responder_issuer_set_expired_policy(iss, QPKI_EXPIRED_AS_GOOD), QPKI_OK);
        a = ask(r, req, len);
        assert_int_equal(qpki_answer_cert_status(a), QPKI_CERT_STATUS_GOOD);
        qpki_answer_free(&a);
        assert_int_equal(qpki_responder_issuer_set_expired_policy(iss, QPKI_EXPIRED_AS_UNAUTHORIZED),
                         QPKI_OK);
        a = ask(r, req, len);
        assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_UNAUTHORIZED);
        qpki_answer_free(&a);
        assert_int_equal(qpki_responder_issuer_set_expired_policy(iss, QPKI_EXPIRED_AS_REVOKED),
                         QPKI_OK);
        a = ask(r, req, len);
        resp = verified(a, ca, NULL, 0);
        s = qpki_ocsp_response_single(resp, 0);
        assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_REVOKED);
        assert_int_equal(qpki_ocsp_single_reason(s), QPKI_REASON_CESSATION_OF_OPERATION);
        qpki_ocsp_response_free(&resp);
        qpki_answer_free(&a);
        qpki_free(req);
    }
    qpki_responder_free(&r);
}

static void test_foreign_issuer_is_unauthorized_and_garbage_is_malformed(void **state)
{
    (void)state;
    qpki_responder *r = new_responder(NULL);
    qpki_answer *a = ask_file(r, "ocsp/req-foreign.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_UNAUTHORIZED);
    assert_int_equal(qpki_answer_error(a), QPKI_ERR_UNKNOWN_ISSUER);
    assert_int_equal(qpki_answer_issuer_index(a), -1);
    qpki_answer_free(&a);
    static const uint8_t garbage[] = {0x30, 0x05, 0x02, 0x01};
    a = ask(r, garbage, sizeof(garbage));
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_MALFORMED);
    assert_int_equal(qpki_answer_error(a), QPKI_ERR_TRUNCATED);
    const uint8_t *der;
    size_t len;
    qpki_answer_bytes(a, &der, &len);
    assert_memory_equal(der, "\x30\x03\x0a\x01\x01", 5);
    qpki_answer_free(&a);
    a = ask(r, NULL, 0);
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_MALFORMED);
    qpki_answer_free(&a);
    qpki_responder_free(&r);
}

static void test_two_cas_in_one_responder(void **state)
{
    (void)state;
    qpki_responder *r = new_responder(NULL);
    /* the other CA signs its own responses */
    assert_int_equal(qpki_responder_add_issuer(r, other_ca, other_db, other_signer, NULL, NULL),
                     QPKI_OK);
    qpki_answer *a = ask_file(r, "ocsp/req-foreign.der");
    assert_int_equal(qpki_answer_issuer_index(a), 1);
    qpki_ocsp_response *resp = verified(a, other_ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_cert_count(resp), 0);
    assert_int_equal(qpki_ocsp_single_status(qpki_ocsp_response_single(resp, 0)),
                     QPKI_CERT_STATUS_UNKNOWN);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_issuer_index(a), 0);
    qpki_answer_free(&a);
    qpki_responder_free(&r);
}

/* The responderID of one answer: byName value = the Name TLV, byKey = 20 bytes. */
static void expect_responder_id(qpki_responder *r, const qpki_cert *trust, bool want_by_key,
                                const uint8_t *want, size_t want_len, size_t want_certs)
{
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    qpki_ocsp_response *resp = verified(a, trust, NULL, 0);
    bool by_key;
    const uint8_t *id;
    size_t id_len;
    assert_int_equal(qpki_ocsp_response_responder_id(resp, &by_key, &id, &id_len), QPKI_OK);
    assert_int_equal(by_key, want_by_key);
    assert_int_equal(id_len, want_len);
    assert_memory_equal(id, want, want_len);
    assert_int_equal(qpki_ocsp_response_cert_count(resp), want_certs);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
}

static void test_ca_signed_answers_are_named_by_name_by_default(void **state)
{
    (void)state;
    /* KeyHash = SHA-1 of the public key's BIT STRING value (Python hashlib over
     * cryptography's X9.62 point of ocsp/ca.crt and ocsp/responder.crt) */
    static const uint8_t ca_hash[20] = {0xf9, 0x32, 0xee, 0x13, 0xcc, 0xdb, 0x5e, 0xd0, 0x30,
                                        0x45, 0x2c, 0x11, 0x82, 0xe4, 0xdf, 0xa2, 0x64, 0x34,
                                        0x82, 0x72};
    static const uint8_t r_hash[20] = {0x08, 0x7a, 0x41, 0x62, 0x06, 0x02, 0x4f, 0x3f, 0x4e,
                                       0xdb, 0x0c, 0xf7, 0x63, 0xfa, 0x74, 0x36, 0x24, 0x47,
                                       0x0f, 0xaf};
    const uint8_t *ca_name;
    size_t ca_name_len;
    qpki_cert_subject_der(ca, &ca_name, &ca_name_len);

    /* the CA signs itself: byName, no certificate (GnuTLS finds the CA by name) */
    qpki_responder *r = NULL;
    qpki_responder_issuer *iss = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_set_clock(r, tu_clock, &fixed_now), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, casigner, NULL, &iss), QPKI_OK);
    expect_responder_id(r, ca, false, ca_name, ca_name_len, 0);
    /* the 1.0 default on request: byKey, still no certificate */
    assert_int_equal(qpki_responder_issuer_set_responder_id(iss, QPKI_RESPONDER_ID_BY_KEY),
                     QPKI_OK);
    expect_responder_id(r, ca, true, ca_hash, 20, 0);
    assert_int_equal(qpki_responder_issuer_set_responder_id(iss, (qpki_responder_id_type)3),
                     QPKI_ERR_INVALID_ARG);
    qpki_responder_free(&r);

    /* the CA certificate given as the responder's is the same CA-signed answer */
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_set_clock(r, tu_clock, &fixed_now), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, casigner, ca, &iss), QPKI_OK);
    expect_responder_id(r, ca, false, ca_name, ca_name_len, 0);
    qpki_responder_free(&r);

    /* a delegated responder: byKey, its certificate in certs; byName on request */
    r = new_responder(&iss);
    expect_responder_id(r, ca, true, r_hash, 20, 1);
    const uint8_t *r_name;
    size_t r_name_len;
    qpki_cert_subject_der(responder_cert, &r_name, &r_name_len);
    assert_int_equal(qpki_responder_issuer_set_responder_id(iss, QPKI_RESPONDER_ID_BY_NAME),
                     QPKI_OK);
    expect_responder_id(r, ca, false, r_name, r_name_len, 1);
    assert_int_equal(qpki_responder_issuer_set_responder_id(iss, QPKI_RESPONDER_ID_AUTO),
                     QPKI_OK);
    expect_responder_id(r, ca, true, r_hash, 20, 1);
    qpki_responder_free(&r);
}

static void test_nonce_policies(void **state)
{
    (void)state;
    qpki_responder_issuer *iss;
    qpki_responder *r = new_responder(&iss);
    uint8_t nonce[32];
    memset(nonce, 0xa5, sizeof(nonce));
    size_t len;
    uint8_t *req = request_for((const uint8_t *)"\x10\x01", 2, QPKI_HASH_SHA1, nonce, 32, &len);
    qpki_answer *a = ask(r, req, len);
    assert_true(qpki_answer_nonce_echoed(a));
    assert_false(qpki_answer_cache_hit(a));
    qpki_ocsp_response *resp = verified(a, ca, nonce, 32);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    a = ask(r, req, len); /* nonce requests are never served from the cache */
    assert_false(qpki_answer_cache_hit(a));
    qpki_answer_free(&a);

    assert_int_equal(qpki_responder_issuer_set_nonce_policy(iss, QPKI_NONCE_IGNORE), QPKI_OK);
    a = ask(r, req, len);
    assert_false(qpki_answer_nonce_echoed(a));
    resp = verified(a, ca, NULL, 0);
    const uint8_t *n;
    size_t nl;
    assert_int_equal(qpki_ocsp_response_nonce(resp, &n, &nl), QPKI_ERR_NOT_FOUND);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(req);

    assert_int_equal(qpki_responder_issuer_set_nonce_policy(iss, QPKI_NONCE_REQUIRE), QPKI_OK);
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_MALFORMED);
    qpki_answer_free(&a);
    a = ask_file(r, "ocsp/req-sha1-nonce.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
    assert_true(qpki_answer_nonce_echoed(a));
    qpki_answer_free(&a);
    qpki_responder_free(&r);
}

static void test_signer_must_match_the_certificate(void **state)
{
    (void)state;
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, edsigner, responder_cert, NULL),
                     QPKI_ERR_KEY_MISMATCH);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, rsigner, NULL, NULL),
                     QPKI_ERR_KEY_MISMATCH);
    assert_int_equal(qpki_responder_issuer_count(r), 0);
    qpki_responder_free(&r);
}

/* A signer whose token is gone: the responder must answer tryLater. */
static qpki_status down_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                             size_t *sig_len)
{
    (void)self; (void)tbs; (void)tbs_len; (void)sig; (void)sig_len;
    return QPKI_ERR_SIGNER_UNAVAILABLE;
}
static qpki_status down_alg(void *self, const uint8_t **d, size_t *l)
{
    return qpki_signer_algorithm((qpki_signer *)self, d, l);
}
static qpki_status down_pub(void *self, const uint8_t **d, size_t *l)
{
    return qpki_signer_public_key((qpki_signer *)self, d, l);
}
static size_t down_max(void *self) { return qpki_signer_max_signature_size((qpki_signer *)self); }
static qpki_status down_health(void *self) { (void)self; return QPKI_ERR_SIGNER_UNAVAILABLE; }
static void down_close(void *self) { (void)self; }

static void test_unavailable_signer_yields_try_later(void **state)
{
    (void)state;
    static const qpki_signer_ops ops = {
        .abi_version = QPKI_SIGNER_ABI_V1, .struct_size = sizeof(qpki_signer_ops),
        .algorithm = down_alg, .public_key = down_pub, .max_signature_size = down_max,
        .sign = down_sign, .health = down_health, .close = down_close};
    qpki_signer *down = NULL;
    assert_int_equal(qpki_signer_new(&ops, rsigner, &down), QPKI_OK);
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, down, responder_cert, NULL), QPKI_OK);
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_TRY_LATER);
    assert_int_equal(qpki_answer_error(a), QPKI_ERR_SIGNER_UNAVAILABLE);
    qpki_answer_free(&a);
    assert_int_equal(qpki_responder_health(r), QPKI_ERR_SIGNER_UNAVAILABLE);
    qpki_responder_free(&r);
    qpki_signer_free(&down);
}

static void test_index_change_invalidates_the_cache(void **state)
{
    (void)state;
    temp_index ti;
    temp_index_open(&ti);
    qpki_responder *r = responder_on(ti.db, rsigner);
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_cert_status(a), QPKI_CERT_STATUS_GOOD);
    qpki_answer_free(&a);
    temp_index_revoke_1001(&ti);
    assert_int_equal(qpki_responder_refresh(r), QPKI_OK);
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_false(qpki_answer_cache_hit(a));
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, 0);
    assert_int_equal(qpki_ocsp_single_status(s), QPKI_CERT_STATUS_REVOKED);
    assert_int_equal(qpki_ocsp_single_reason(s), QPKI_REASON_SUPERSEDED);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    /* a corrupt file keeps the previous table */
    char cmd[1400];
    snprintf(cmd, sizeof(cmd), "printf 'X\\tbroken\\n' > %s.new && mv %s.new %s", ti.path, ti.path,
             ti.path);
    assert_int_equal(system(cmd), 0);
    assert_int_not_equal(qpki_responder_refresh(r), QPKI_OK);
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_cert_status(a), QPKI_CERT_STATUS_REVOKED);
    qpki_answer_free(&a);
    qpki_responder_free(&r);
    temp_index_close(&ti);
}

static void test_key_replacement_switches_responder_certificate(void **state)
{
    (void)state;
    qpki_responder_issuer *iss;
    qpki_responder *r = new_responder(&iss);
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_sig_alg(resp), QPKI_SIG_ECDSA_SHA256);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    assert_int_equal(qpki_responder_issuer_replace_key(iss, edsigner, responder_ed_cert), QPKI_OK);
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_false(qpki_answer_cache_hit(a)); /* the old key's cached answer is not reused */
    resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_sig_alg(resp), QPKI_SIG_ED25519);
    char subject[128];
    assert_int_equal(qpki_cert_subject_text(qpki_ocsp_response_cert(resp, 0), subject,
                                            sizeof(subject)), QPKI_OK);
    assert_non_null(strstr(subject, "Ed25519"));
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    /* a mismatching pair is refused and the current key stays */
    assert_int_equal(qpki_responder_issuer_replace_key(iss, rsigner, responder_ed_cert),
                     QPKI_ERR_KEY_MISMATCH);
    qpki_responder_free(&r);
}

/* RFC 6960 §4.4.7: a request that prefers Ed25519 gets the Ed25519 key. */
static void test_preferred_signature_algorithm_selects_the_key(void **state)
{
    (void)state;
    qpki_responder_issuer *iss;
    qpki_responder *r = new_responder(&iss);
    assert_int_equal(qpki_responder_issuer_add_key(iss, edsigner, responder_ed_cert), QPKI_OK);
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_for_cert(QPKI_HASH_SHA1, ca, leaf1, &id), QPKI_OK);
    const uint8_t *cid;
    size_t cid_len;
    qpki_certid_der(id, &cid, &cid_len);
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
    der_put_oid(&b, OID_OCSP_PREF_SIG_ALGS);
    size_t val = der_begin(&b, DER_OCTET_STRING);
    size_t prefs = der_begin(&b, DER_SEQUENCE);
    size_t p1 = der_begin(&b, DER_SEQUENCE);
    size_t alg = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_ED25519);
    der_end(&b, alg);
    der_end(&b, p1);
    der_end(&b, prefs);
    der_end(&b, val);
    der_end(&b, ext);
    der_end(&b, exts);
    der_end(&b, x);
    der_end(&b, tbs);
    der_end(&b, req);
    uint8_t *der;
    size_t len;
    assert_int_equal(der_buf_finish(&b, &der, &len), QPKI_OK);
    qpki_answer *a = ask(r, der, len);
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_sig_alg(resp), QPKI_SIG_ED25519);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    /* without preference: the default (first) key */
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    resp = verified(a, ca, NULL, 0);
    assert_int_equal(qpki_ocsp_response_sig_alg(resp), QPKI_SIG_ECDSA_SHA256);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(der);
    qpki_certid_free(&id);
    qpki_responder_free(&r);
}

/* Live signing is bounded: while one signature is in progress and the bound is
 * 1, a second nonce request gets tryLater; cached answers are still served. */
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_entered, gate_open;

static qpki_status gated_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                              size_t *sig_len)
{
    pthread_mutex_lock(&gate_lock);
    gate_entered++;
    pthread_cond_broadcast(&gate_cond);
    while (!gate_open)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    return qpki_signer_sign((qpki_signer *)self, tbs, tbs_len, sig, sig_len);
}

struct ask_args {
    qpki_responder *r;
    const uint8_t *req;
    size_t len;
    qpki_answer *a;
};

static void *ask_thread(void *p)
{
    struct ask_args *x = p;
    /* no cmocka assertions off the main thread: the result is checked after join */
    if (qpki_responder_respond(x->r, x->req, x->len, &x->a) != QPKI_OK)
        x->a = NULL;
    return NULL;
}

static void test_full_signing_queue_answers_try_later(void **state)
{
    (void)state;
    static const qpki_signer_ops ops = {
        .abi_version = QPKI_SIGNER_ABI_V1, .struct_size = sizeof(qpki_signer_ops),
        .algorithm = down_alg, .public_key = down_pub, .max_signature_size = down_max,
        .sign = gated_sign, .close = down_close};
    qpki_signer *gated = NULL;
    assert_int_equal(qpki_signer_new(&ops, rsigner, &gated), QPKI_OK);
    qpki_responder *r = NULL;
    assert_int_equal(qpki_responder_new(&r), QPKI_OK);
    assert_int_equal(qpki_responder_set_max_live_signing(r, 1), QPKI_OK);
    assert_int_equal(qpki_responder_add_issuer(r, ca, db, gated, responder_cert, NULL), QPKI_OK);
    /* warm the cache for 1001 without nonce */
    gate_open = 1;
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
    qpki_answer_free(&a);
    gate_open = 0;
    gate_entered = 0;
    size_t len;
    uint8_t *req = request_for((const uint8_t *)"\x10\x01", 2, QPKI_HASH_SHA1,
                               (const uint8_t *)"0123456789abcdef", 16, &len);
    struct ask_args first = {r, req, len, NULL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ask_thread, &first), 0);
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    /* the one live slot is taken: another nonce request gets tryLater ... */
    a = ask(r, req, len);
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_TRY_LATER);
    assert_int_equal(qpki_answer_error(a), QPKI_ERR_BUSY);
    qpki_answer_free(&a);
    /* ... while the cached answer keeps flowing */
    a = ask_file(r, "ocsp/req-sha1-nononce.der");
    assert_true(qpki_answer_cache_hit(a));
    qpki_answer_free(&a);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(first.a);
    assert_int_equal(qpki_answer_resp_status(first.a), QPKI_OCSP_RESP_SUCCESSFUL);
    assert_true(qpki_answer_nonce_echoed(first.a));
    qpki_answer_free(&first.a);
    qpki_free(req);
    qpki_responder_free(&r);
    qpki_signer_free(&gated);
}


/* ---- cache invalidation by changed rows ------------------------------------ */

/* A status database in memory with serials 1001..1004 valid for a year. */
static qpki_db *memory_db_1001_1004(void)
{
    qpki_db *m = NULL;
    assert_int_equal(qpki_db_memory_new("test", &m), QPKI_OK);
    for (unsigned s = 0x1001; s <= 0x1004; s++) {
        uint8_t serial[2] = {(uint8_t)(s >> 8), (uint8_t)s};
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        e.row_status = 'V';
        e.expiry = fixed_now + 365 * 86400;
        assert_int_equal(qpki_db_memory_put(m, serial, 2, &e), QPKI_OK);
    }
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
    return m;
}

static void revoke_in(qpki_db *m, unsigned s, qpki_crl_reason reason)
{
    uint8_t serial[2] = {(uint8_t)(s >> 8), (uint8_t)s};
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'R';
    e.expiry = fixed_now + 365 * 86400;
    e.revocation_time = fixed_now - 10;
    e.reason = reason;
    assert_int_equal(qpki_db_memory_put(m, serial, 2, &e), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
}

/* A request for serial s, CertID hashed with alg; absent_params: the hash
 * AlgorithmIdentifier without its NULL (RFC 5754 §2: both forms are accepted). */
static uint8_t *request_form(unsigned s, qpki_hash_alg alg, bool absent_params, size_t *len)
{
    uint8_t serial[2] = {(uint8_t)(s >> 8), (uint8_t)s};
    qpki_certid *id = NULL;
    assert_int_equal(qpki_certid_new(alg, ca, serial, 2, &id), QPKI_OK);
    if (absent_params) {
        const uint8_t *der;
        size_t n;
        qpki_certid_der(id, &der, &n);
        /* 30 L 30 A 06 O <oid> 05 00 ...: short-form lengths for these sizes. */
        assert_true(der[1] < 0x80 && der[3] < 0x80);
        size_t null_at = 4 + 2 + der[5];
        assert_int_equal(der[null_at], 0x05);
        assert_int_equal(der[null_at + 1], 0x00);
        uint8_t copy[256];
        memcpy(copy, der, null_at);
        memcpy(copy + null_at, der + null_at + 2, n - null_at - 2);
        copy[1] = (uint8_t)(copy[1] - 2);
        copy[3] = (uint8_t)(copy[3] - 2);
        qpki_certid_free(&id);
        assert_int_equal(qpki_certid_parse(copy, n - 2, &id), QPKI_OK);
    }
    const qpki_certid *ids[] = {id};
    uint8_t *der;
    assert_int_equal(qpki_ocsp_request_encode(ids, 1, NULL, 0, &der, len), QPKI_OK);
    qpki_certid_free(&id);
    return der;
}

/* Ask, check the answer with the verifier, return its certStatus; *hit
 * receives whether it came from the cache. */
static qpki_cert_status ask_status(qpki_responder *r, unsigned s, qpki_hash_alg alg,
                                   bool absent_params, bool *hit)
{
    size_t len;
    uint8_t *req = request_form(s, alg, absent_params, &len);
    qpki_answer *a = ask(r, req, len);
    assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
    qpki_ocsp_response *resp = verified(a, ca, NULL, 0);
    const qpki_ocsp_single *single = qpki_ocsp_response_single(resp, 0);
    qpki_cert_status st = qpki_ocsp_single_status(single);
    assert_int_equal(qpki_answer_cert_status(a), st);
    assert_int_equal(qpki_certid_hash_alg(qpki_ocsp_single_certid(single)), alg);
    *hit = qpki_answer_cache_hit(a);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_free(req);
    return st;
}

static void stats_of(qpki_responder *r, qpki_responder_stats *st)
{
    memset(st, 0, sizeof(*st));
    st->struct_size = sizeof(*st);
    assert_int_equal(qpki_responder_get_stats(r, st), QPKI_OK);
}

static void test_a_revocation_drops_only_that_serials_cached_responses(void **state)
{
    (void)state;
    qpki_db *m = memory_db_1001_1004();
    qpki_responder *r = responder_on(m, rsigner);
    /* 1001 asked three ways (SHA-1; SHA-256 with NULL parameters; SHA-256
     * without), 1002 and 1003 once each: five cache entries. */
    static const struct {
        unsigned serial;
        qpki_hash_alg alg;
        bool absent;
    } forms[] = {
        {0x1001, QPKI_HASH_SHA1, false},   {0x1001, QPKI_HASH_SHA256, false},
        {0x1001, QPKI_HASH_SHA256, true},  {0x1002, QPKI_HASH_SHA1, false},
        {0x1003, QPKI_HASH_SHA384, true},
    };
    bool hit;
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ask_status(r, forms[i].serial, forms[i].alg, forms[i].absent, &hit),
                         QPKI_CERT_STATUS_GOOD);
        assert_false(hit);
    }
    for (size_t i = 0; i < 5; i++) {
        assert_int_equal(ask_status(r, forms[i].serial, forms[i].alg, forms[i].absent, &hit),
                         QPKI_CERT_STATUS_GOOD);
        assert_true(hit);
    }
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_hits, 5);
    assert_int_equal(st.cache_misses, 5);
    assert_int_equal(st.cache_entries, 5);
    assert_int_equal(st.live_signatures, 5);

    /* Revoke 1001: its three responses go, the others stay cached. */
    revoke_in(m, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    assert_int_equal(ask_status(r, 0x1003, QPKI_HASH_SHA384, true, &hit), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    stats_of(r, &st);
    assert_int_equal(st.cache_invalidated, 3);
    assert_int_equal(st.cache_flushes, 0);
    assert_int_equal(st.cache_entries, 2);
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(ask_status(r, forms[i].serial, forms[i].alg, forms[i].absent, &hit),
                         QPKI_CERT_STATUS_REVOKED);
        assert_false(hit); /* re-signed */
        assert_int_equal(ask_status(r, forms[i].serial, forms[i].alg, forms[i].absent, &hit),
                         QPKI_CERT_STATUS_REVOKED);
        assert_true(hit);
    }
    stats_of(r, &st);
    assert_int_equal(st.live_signatures, 8);
    assert_int_equal(st.cache_hits, 10);
    assert_int_equal(st.cache_entries, 5);

    /* A serial that was unknown is issued: its cached "unknown" goes. */
    assert_int_equal(ask_status(r, 0x2000, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_UNKNOWN);
    assert_int_equal(ask_status(r, 0x2000, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_UNKNOWN);
    assert_true(hit);
    uint8_t s2000[2] = {0x20, 0x00};
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'V';
    e.expiry = fixed_now + 86400;
    assert_int_equal(qpki_db_memory_put(m, s2000, 2, &e), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(m, NULL), QPKI_OK);
    assert_int_equal(ask_status(r, 0x2000, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    stats_of(r, &st);
    assert_int_equal(st.cache_invalidated, 4);

    /* A caller built against 1.0 (struct without the new counters) still gets
     * its fields, and nothing past them is written. */
    uint8_t old[sizeof(qpki_responder_stats) + 8];
    memset(old, 0xAB, sizeof(old));
    qpki_responder_stats *v1 = (qpki_responder_stats *)old;
    v1->struct_size = (uint32_t)(offsetof(qpki_responder_stats, cache_entries) + 8);
    assert_int_equal(qpki_responder_get_stats(r, v1), QPKI_OK);
    assert_int_equal(v1->cache_hits, st.cache_hits);
    assert_int_equal(old[offsetof(qpki_responder_stats, cache_entries) + 8], 0xAB);
    v1->struct_size = 8;
    assert_int_equal(qpki_responder_get_stats(r, v1), QPKI_ERR_INVALID_ARG);
    qpki_responder_free(&r);
    qpki_db_free(&m);
}

/* An index.txt rewritten as `openssl ca -revoke` does (every other line
 * unchanged) drops only the revoked serial's response too. */
static void test_index_revocation_keeps_the_other_cached_responses(void **state)
{
    (void)state;
    temp_index ti;
    temp_index_open(&ti);
    qpki_responder *r = responder_on(ti.db, rsigner);
    bool hit;
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA256, false, &hit),
                     QPKI_CERT_STATUS_REVOKED);
    temp_index_revoke_1001(&ti);
    assert_int_equal(qpki_responder_refresh(r), QPKI_OK);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA256, false, &hit),
                     QPKI_CERT_STATUS_REVOKED);
    assert_true(hit);
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_REVOKED);
    assert_false(hit);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_invalidated, 1);
    assert_int_equal(st.cache_flushes, 0);
    qpki_responder_free(&r);
    temp_index_close(&ti);
}

/* A backend of our own over a memory table: V1 (no changes_since) or V2, and
 * a lookup that can be told to refuse (STALE or BUSY). */
typedef struct wrapped {
    qpki_db *inner;
    qpki_status refuse;
} wrapped;

static qpki_status wrapped_lookup(void *self, const uint8_t *serial, size_t len,
                                  qpki_db_entry *out)
{
    wrapped *w = self;
    if (w->refuse != QPKI_OK)
        return w->refuse;
    return qpki_db_lookup(w->inner, serial, len, out);
}
static uint64_t wrapped_generation(void *self) { return qpki_db_generation(((wrapped *)self)->inner); }
static size_t wrapped_count(void *self) { return qpki_db_count(((wrapped *)self)->inner); }
static void wrapped_close(void *self) { (void)self; }
static qpki_status wrapped_changes(void *self, uint64_t since, uint64_t *upto,
                                   qpki_db_change_fn fn, void *user)
{
    return qpki_db_changes_since(((wrapped *)self)->inner, since, upto, fn, user);
}

static void test_a_backend_that_cannot_tell_makes_the_issuers_cache_stale(void **state)
{
    (void)state;
    wrapped w = {memory_db_1001_1004(), QPKI_OK};
    static const qpki_status_db_ops v1 = {
        .abi_version = QPKI_DB_ABI_V1, .struct_size = sizeof(qpki_status_db_ops),
        .lookup = wrapped_lookup, .generation = wrapped_generation, .count = wrapped_count,
        .close = wrapped_close};
    qpki_db *vdb = NULL;
    assert_int_equal(qpki_db_new(&v1, &w, &vdb), QPKI_OK);
    qpki_responder *r = responder_on(vdb, rsigner);
    bool hit;
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    revoke_in(w.inner, 0x1001, QPKI_REASON_SUPERSEDED);
    /* V1: no changes_since, so 1002's response is stale too. */
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_REVOKED);
    assert_false(hit);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.cache_flushes, 1);
    assert_int_equal(st.cache_invalidated, 0);
    qpki_responder_free(&r);
    qpki_db_free(&vdb);

    /* A memory table whose history was trimmed: the same. */
    table_set_history_limit(qpki_db_memory_table(w.inner), 1);
    r = responder_on(w.inner, rsigner);
    assert_int_equal(ask_status(r, 0x1003, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    uint8_t a[2] = {0x10, 0x02}, b[2] = {0x10, 0x04};
    assert_int_equal(qpki_db_memory_remove(w.inner, a, 2), QPKI_OK);
    assert_int_equal(qpki_db_memory_remove(w.inner, b, 2), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(w.inner, NULL), QPKI_OK); /* 2 serials > 1 */
    assert_int_equal(ask_status(r, 0x1003, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    stats_of(r, &st);
    assert_int_equal(st.cache_flushes, 1);
    qpki_responder_free(&r);
    qpki_db_free(&w.inner);
}

static void test_a_stale_or_busy_database_answers_try_later_and_caches_nothing(void **state)
{
    (void)state;
    wrapped w = {memory_db_1001_1004(), QPKI_OK};
    static const qpki_status_db_ops v2 = {
        .abi_version = QPKI_DB_ABI_V2, .struct_size = sizeof(qpki_status_db_ops),
        .lookup = wrapped_lookup, .generation = wrapped_generation, .count = wrapped_count,
        .close = wrapped_close, .changes_since = wrapped_changes};
    qpki_db *vdb = NULL;
    assert_int_equal(qpki_db_new(&v2, &w, &vdb), QPKI_OK);
    qpki_responder *r = responder_on(vdb, rsigner);
    bool hit;
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    static const qpki_status refusals[] = {QPKI_ERR_STALE, QPKI_ERR_BUSY};
    for (size_t i = 0; i < 2; i++) {
        w.refuse = refusals[i];
        /* RFC 6960 §2.3 tryLater, for the cached serial and an uncached one. */
        for (unsigned s = 0x1001; s <= 0x1002; s++) {
            size_t len;
            uint8_t *req = request_form(s, QPKI_HASH_SHA1, false, &len);
            qpki_answer *a = ask(r, req, len);
            assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_TRY_LATER);
            assert_int_equal(qpki_answer_error(a), refusals[i]);
            assert_false(qpki_answer_cache_hit(a));
            const uint8_t *der;
            size_t n;
            qpki_answer_bytes(a, &der, &n);
            static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
            assert_int_equal(n, sizeof(try_later));
            assert_memory_equal(der, try_later, n);
            qpki_answer_free(&a);
            qpki_free(req);
        }
    }
    w.refuse = QPKI_OK;
    /* Nothing was cached for 1002; 1001's response signed before is served. */
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_false(hit);
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_true(hit);
    qpki_responder_stats st;
    stats_of(r, &st);
    assert_int_equal(st.by_resp_status[QPKI_OCSP_RESP_TRY_LATER], 4);
    assert_int_equal(st.cache_entries, 2);
    qpki_responder_free(&r);
    qpki_db_free(&vdb);
    qpki_db_free(&w.inner);
}

/* The race: a response looked up before a revocation, still being signed while
 * the responder drops the serial's responses, must not enter the cache after
 * the drop (it would be served as "good" until re-signed). */
static void test_a_response_signed_before_a_change_is_not_cached_after_it(void **state)
{
    (void)state;
    static const qpki_signer_ops ops = {
        .abi_version = QPKI_SIGNER_ABI_V1, .struct_size = sizeof(qpki_signer_ops),
        .algorithm = down_alg, .public_key = down_pub, .max_signature_size = down_max,
        .sign = gated_sign, .close = down_close};
    qpki_signer *gated = NULL;
    assert_int_equal(qpki_signer_new(&ops, rsigner, &gated), QPKI_OK);
    qpki_db *m = memory_db_1001_1004();
    qpki_responder *r = responder_on(m, gated);
    gate_open = 0;
    gate_entered = 0;
    size_t len;
    uint8_t *req = request_form(0x1001, QPKI_HASH_SHA1, false, &len);
    struct ask_args slow = {r, req, len, NULL};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, ask_thread, &slow), 0);
    pthread_mutex_lock(&gate_lock);
    while (!gate_entered)
        pthread_cond_wait(&gate_cond, &gate_lock);
    pthread_mutex_unlock(&gate_lock);
    /* 1001 was looked up (good) and is being signed.  Revoke it, and let
     * another request bring the cache to the new generation. */
    revoke_in(m, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    pthread_mutex_lock(&gate_lock);
    gate_open = 1;
    pthread_cond_broadcast(&gate_cond);
    pthread_mutex_unlock(&gate_lock);
    bool hit;
    assert_int_equal(ask_status(r, 0x1002, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_GOOD);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(slow.a);
    /* The slow answer said good (it was true when looked up) ... */
    assert_int_equal(qpki_answer_cert_status(slow.a), QPKI_CERT_STATUS_GOOD);
    qpki_answer_free(&slow.a);
    /* ... but was not cached: the next answer is signed anew, revoked. */
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_REVOKED);
    assert_false(hit);
    assert_int_equal(ask_status(r, 0x1001, QPKI_HASH_SHA1, false, &hit), QPKI_CERT_STATUS_REVOKED);
    assert_true(hit);
    qpki_free(req);
    qpki_responder_free(&r);
    qpki_signer_free(&gated);
    qpki_db_free(&m);
}

struct storm {
    qpki_responder *r;
    int failures;
};

static void *storm_thread(void *p)
{
    struct storm *s = p;
    for (int i = 0; i < 100; i++) {
        uint8_t serial[2] = {0x10, (uint8_t)(1 + i % 4)};
        uint8_t nonce[16];
        memset(nonce, i, sizeof(nonce));
        size_t len;
        uint8_t *req = request_for(serial, 2, (i % 2) ? QPKI_HASH_SHA256 : QPKI_HASH_SHA1,
                                   (i % 3) ? NULL : nonce, 16, &len);
        qpki_answer *a = NULL;
        if (qpki_responder_respond(s->r, req, len, &a) != QPKI_OK ||
            qpki_answer_resp_status(a) != QPKI_OCSP_RESP_SUCCESSFUL)
            s->failures++;
        else {
            const uint8_t *der;
            size_t dl;
            qpki_answer_bytes(a, &der, &dl);
            qpki_ocsp_response *resp = NULL;
            qpki_ocsp_verifier *v = NULL;
            if (qpki_ocsp_response_parse(der, dl, &resp) != QPKI_OK ||
                qpki_ocsp_verifier_new(&v) != QPKI_OK || qpki_ocsp_verifier_set_ca(v, ca) ||
                qpki_ocsp_verifier_set_time(v, fixed_now) ||
                qpki_ocsp_verifier_expect_serial(v, serial, 2) ||
                qpki_ocsp_verifier_verify(v, resp) != QPKI_OK)
                s->failures++;
            qpki_ocsp_verifier_free(&v);
            qpki_ocsp_response_free(&resp);
        }
        qpki_answer_free(&a);
        qpki_free(req);
    }
    return NULL;
}

static void test_concurrent_callers_all_get_valid_answers(void **state)
{
    (void)state;
    qpki_responder *r = new_responder(NULL);
    pthread_t t[4];
    struct storm s[4];
    for (int i = 0; i < 4; i++) {
        s[i] = (struct storm){r, 0};
        assert_int_equal(pthread_create(&t[i], NULL, storm_thread, &s[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(s[i].failures, 0);
    }
    qpki_responder_stats st = {.struct_size = sizeof(st)};
    assert_int_equal(qpki_responder_get_stats(r, &st), QPKI_OK);
    assert_int_equal(st.requests, 400);
    assert_true(st.cache_hits > 0);
    qpki_responder_free(&r);
}

/* A negative serialNumber must not be answered with a positive serial's row. */
static void test_negative_serial_is_unknown(void **state)
{
    (void)state;
    char path[] = "/tmp/qpki-neg-index-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    static const char row[] = "R\t351231235959Z\t240115100000Z,keyCompromise\t9002\tunknown\t/CN=x\n";
    assert_int_equal(write(fd, row, sizeof(row) - 1), (ssize_t)(sizeof(row) - 1));
    close(fd);
    qpki_db *negdb = NULL;
    assert_int_equal(qpki_db_open_index(path, &negdb), QPKI_OK);
    unlink(path);
    qpki_responder *r = responder_on(negdb, rsigner);
    qpki_certid *pos = NULL;
    assert_int_equal(qpki_certid_new(QPKI_HASH_SHA1, ca, (const uint8_t *)"\x90\x02", 2, &pos), QPKI_OK);
    const uint8_t *nh, *kh;
    size_t nl, kl;
    qpki_certid_name_hash(pos, &nh, &nl);
    qpki_certid_key_hash(pos, &kh, &kl);
    for (int negative = 0; negative <= 1; negative++) {
        der_buf b;
        der_buf_init(&b, 0);
        size_t req = der_begin(&b, DER_SEQUENCE);
        size_t tbs = der_begin(&b, DER_SEQUENCE);
        size_t list = der_begin(&b, DER_SEQUENCE);
        size_t one = der_begin(&b, DER_SEQUENCE);
        size_t cid = der_begin(&b, DER_SEQUENCE);
        size_t alg = der_begin(&b, DER_SEQUENCE);
        der_put_oid(&b, OID_SHA1);
        der_put_null(&b);
        der_end(&b, alg);
        der_put_octet_string(&b, nh, nl);
        der_put_octet_string(&b, kh, kl);
        if (negative)
            der_put_integer_content(&b, (const uint8_t *)"\x90\x02", 2); /* -28670 */
        else
            der_put_integer_content(&b, (const uint8_t *)"\x00\x90\x02", 3); /* 36866 */
        der_end(&b, cid);
        der_end(&b, one);
        der_end(&b, list);
        der_end(&b, tbs);
        der_end(&b, req);
        uint8_t *der;
        size_t len;
        assert_int_equal(der_buf_finish(&b, &der, &len), QPKI_OK);
        qpki_answer *a = ask(r, der, len);
        assert_int_equal(qpki_answer_resp_status(a), QPKI_OCSP_RESP_SUCCESSFUL);
        assert_int_equal(qpki_answer_cert_status(a),
                         negative ? QPKI_CERT_STATUS_UNKNOWN : QPKI_CERT_STATUS_REVOKED);
        qpki_answer_free(&a);
        qpki_free(der);
    }
    qpki_certid_free(&pos);
    qpki_responder_free(&r);
    qpki_db_free(&negdb);
}

/* Catalyst: a hybrid key makes every response carry a valid ML-DSA signature. */
static void test_hybrid_key_adds_the_pq_signature(void **state)
{
    (void)state;
    qpki_key *pq = NULL;
    assert_int_equal(qpki_key_generate(QPKI_KEY_ML_DSA_44, 0, &pq), QPKI_OK);
    qpki_signer *pq_signer = NULL;
    assert_int_equal(qpki_signer_software_from_key(pq, QPKI_SIG_ML_DSA_44, &pq_signer), QPKI_OK);
    const uint8_t *pq_spki;
    size_t pq_spki_len;
    assert_int_equal(qpki_key_public_key(pq, &pq_spki, &pq_spki_len), QPKI_OK);
    qpki_cert *hybrid = tu_responder_cert(ca, casigner, rsigner, pq_spki, pq_spki_len);
    qpki_cert *plain = tu_responder_cert(ca, casigner, rsigner, NULL, 0);
    assert_non_null(hybrid);
    assert_non_null(plain);
    qpki_responder_issuer *iss;
    qpki_responder *r = new_responder(&iss);
    /* the alternative key must be the certificate's altSubjectPublicKeyInfo */
    assert_int_equal(qpki_responder_issuer_replace_key_hybrid(iss, rsigner, pq_signer, plain),
                     QPKI_ERR_KEY_MISMATCH);
    assert_int_equal(qpki_responder_issuer_replace_key_hybrid(iss, rsigner, pq_signer, hybrid),
                     QPKI_OK);
    qpki_answer *a = ask_file(r, "ocsp/req-sha1-nononce.der");
    const uint8_t *der;
    size_t len;
    qpki_answer_bytes(a, &der, &len);
    qpki_ocsp_response *resp = NULL;
    assert_int_equal(qpki_ocsp_response_parse(der, len, &resp), QPKI_OK);
    qpki_ocsp_verifier *v = NULL;
    assert_int_equal(qpki_ocsp_verifier_new(&v), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_ca(v, ca), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_set_pq_requirement(v, QPKI_PQ_REQUIRE_RESPONSE), QPKI_OK);
    assert_int_equal(qpki_ocsp_verifier_verify(v, resp), QPKI_OK);
    /* the classical test CA bound the responder certificate with ECDSA only */
    assert_int_equal(qpki_ocsp_verifier_pq_result(v), QPKI_PQ_UNCHAINED);
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    qpki_answer_free(&a);
    qpki_responder_free(&r);
    qpki_cert_free(&hybrid);
    qpki_cert_free(&plain);
    qpki_signer_free(&pq_signer);
    qpki_key_free(&pq);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good_revoked_unknown_and_cache),
        cmocka_unit_test(test_unknown_and_expired_policies),
        cmocka_unit_test(test_foreign_issuer_is_unauthorized_and_garbage_is_malformed),
        cmocka_unit_test(test_two_cas_in_one_responder),
        cmocka_unit_test(test_ca_signed_answers_are_named_by_name_by_default),
        cmocka_unit_test(test_nonce_policies),
        cmocka_unit_test(test_signer_must_match_the_certificate),
        cmocka_unit_test(test_unavailable_signer_yields_try_later),
        cmocka_unit_test(test_index_change_invalidates_the_cache),
        cmocka_unit_test(test_key_replacement_switches_responder_certificate),
        cmocka_unit_test(test_preferred_signature_algorithm_selects_the_key),
        cmocka_unit_test(test_full_signing_queue_answers_try_later),
        cmocka_unit_test(test_concurrent_callers_all_get_valid_answers),
        cmocka_unit_test(test_negative_serial_is_unknown),
        cmocka_unit_test(test_hybrid_key_adds_the_pq_signature),
        cmocka_unit_test(test_a_revocation_drops_only_that_serials_cached_responses),
        cmocka_unit_test(test_index_revocation_keeps_the_other_cached_responses),
        cmocka_unit_test(test_a_backend_that_cannot_tell_makes_the_issuers_cache_stale),
        cmocka_unit_test(test_a_stale_or_busy_database_answers_try_later_and_caches_nothing),
        cmocka_unit_test(test_a_response_signed_before_a_change_is_not_cached_after_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
