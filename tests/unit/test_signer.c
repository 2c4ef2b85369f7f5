/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_signer.c - the signer vtable (ABI checks, dispatch, reference
 * counting) and the software signer. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/key.h>
#include <qpki/signer.h>

#include "testutil.h"
#include "crypto/crypto.h"
#include "internal.h"

#define PASS "qpki-test-passphrase"
#define MSG "tbsResponseData stand-in"

/* ---- a mock implementation ---------------------------------------------------- */

struct mock {
    int closed;
    int signs;
    size_t report_len;      /* length sign() claims to have written */
    bool empty_algorithm;
};

static const uint8_t mock_alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t mock_spki[] = {0x30, 0x03, 0x02, 0x01, 0x00};

static qpki_status mock_algorithm(void *self, const uint8_t **der, size_t *len)
{
    struct mock *m = self;
    *der = m->empty_algorithm ? NULL : mock_alg;
    *len = m->empty_algorithm ? 0 : sizeof(mock_alg);
    return QPKI_OK;
}

static qpki_status mock_public_key(void *self, const uint8_t **der, size_t *len)
{
    (void)self;
    *der = mock_spki;
    *len = sizeof(mock_spki);
    return QPKI_OK;
}

static size_t mock_max(void *self)
{
    (void)self;
    return 64;
}

static qpki_status mock_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                             size_t *sig_len)
{
    struct mock *m = self;
    (void)tbs;
    (void)tbs_len;
    m->signs++;
    memset(sig, 0xab, *sig_len < 8 ? *sig_len : 8);
    *sig_len = m->report_len;
    return QPKI_OK;
}

static qpki_status mock_health(void *self)
{
    (void)self;
    return QPKI_ERR_SIGNER_UNAVAILABLE;
}

static void mock_close(void *self)
{
    struct mock *m = self;
    m->closed++;
}

static qpki_signer_ops mock_ops(void)
{
    return (qpki_signer_ops){
        .abi_version = QPKI_SIGNER_ABI_V1,
        .struct_size = sizeof(qpki_signer_ops),
        .algorithm = mock_algorithm,
        .public_key = mock_public_key,
        .max_signature_size = mock_max,
        .sign = mock_sign,
        .health = NULL,
        .close = mock_close,
    };
}

/* ---- ABI checks --------------------------------------------------------------- */

static void test_signer_new_rejects_bad_abi_version_and_size(void **state)
{
    (void)state;
    struct mock m = {0};
    qpki_signer *s = (qpki_signer *)&m; /* must be reset to NULL on failure */
    qpki_signer_ops ops = mock_ops();

    assert_int_equal(qpki_signer_new(NULL, &m, &s), QPKI_ERR_INVALID_ARG);
    assert_null(s);
    assert_int_equal(qpki_signer_new(&ops, &m, NULL), QPKI_ERR_INVALID_ARG);

    ops.abi_version = 0;
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_ERR_PLUGIN_ABI);
    ops.abi_version = QPKI_SIGNER_ABI_V1 + 1;
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_ERR_PLUGIN_ABI);
    ops.abi_version = QPKI_SIGNER_ABI_V1;

    /* A struct that ends before close cannot be a V1 vtable. */
    ops.struct_size = (uint32_t)offsetof(qpki_signer_ops, close);
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_ERR_PLUGIN_ABI);
    ops.struct_size = 0;
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_ERR_PLUGIN_ABI);
    ops.struct_size = sizeof(ops);

    /* Required methods. */
    qpki_signer_ops bad = ops;
    bad.sign = NULL;
    assert_int_equal(qpki_signer_new(&bad, &m, &s), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.algorithm = NULL;
    assert_int_equal(qpki_signer_new(&bad, &m, &s), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.public_key = NULL;
    assert_int_equal(qpki_signer_new(&bad, &m, &s), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.max_signature_size = NULL;
    assert_int_equal(qpki_signer_new(&bad, &m, &s), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.close = NULL;
    assert_int_equal(qpki_signer_new(&bad, &m, &s), QPKI_ERR_PLUGIN_ABI);
    assert_null(s);
    /* "On failure self is NOT closed." */
    assert_int_equal(m.closed, 0);
}

static void test_signer_new_accepts_larger_struct_and_missing_health(void **state)
{
    (void)state;
    /* A vtable from a newer header (abi_version still V1) with extra fields. */
    struct {
        qpki_signer_ops ops;
        void *future_method;
    } bigger = {mock_ops(), NULL};
    bigger.ops.struct_size = sizeof(bigger);
    struct mock m = {.report_len = 8};
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_new(&bigger.ops, &m, &s), QPKI_OK);
    /* health NULL: always healthy. */
    assert_int_equal(qpki_signer_health(s), QPKI_OK);
    assert_int_equal(qpki_signer_sig_alg(s), QPKI_SIG_ED25519);
    assert_int_equal(qpki_signer_max_signature_size(s), 64);
    const uint8_t *der = NULL;
    size_t len = 0;
    assert_int_equal(qpki_signer_public_key(s, &der, &len), QPKI_OK);
    assert_int_equal(len, sizeof(mock_spki));
    assert_memory_equal(der, mock_spki, len);
    qpki_signer_free(&s);
    assert_null(s);
    assert_int_equal(m.closed, 1);
    qpki_signer_free(&s);  /* NULL is fine */
    qpki_signer_free(NULL);
}

static void test_dispatch_checks_what_the_implementation_reports(void **state)
{
    (void)state;
    qpki_signer_ops ops = mock_ops();
    ops.health = mock_health;
    struct mock m = {.report_len = 100};
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_OK);
    uint8_t sig[64];
    size_t n = sizeof(sig);
    /* A length past the caller's buffer is never handed on. */
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)MSG, strlen(MSG), sig, &n),
                     QPKI_ERR_INTERNAL);
    m.report_len = 8;
    n = sizeof(sig);
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)MSG, strlen(MSG), sig, &n), QPKI_OK);
    assert_int_equal(n, 8);
    assert_int_equal(m.signs, 2);
    assert_int_equal(qpki_signer_sign(s, NULL, 5, sig, &n), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_signer_sign(s, NULL, 0, sig, NULL), QPKI_ERR_INVALID_ARG);
    assert_int_equal(m.signs, 2);
    assert_int_equal(qpki_signer_health(s), QPKI_ERR_SIGNER_UNAVAILABLE);
    /* An implementation that reports an empty AlgorithmIdentifier. */
    m.empty_algorithm = true;
    const uint8_t *der = NULL;
    size_t len = 0;
    assert_int_equal(qpki_signer_algorithm(s, &der, &len), QPKI_ERR_INTERNAL);
    assert_int_equal(qpki_signer_sig_alg(s), QPKI_SIG_UNKNOWN);
    assert_int_equal(qpki_signer_algorithm(NULL, &der, &len), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_signer_max_signature_size(NULL), 0);
    qpki_signer_free(&s);
    assert_int_equal(m.closed, 1);
}

static void *ref_unref_loop(void *arg)
{
    qpki_signer *s = arg;
    for (int i = 0; i < 20000; i++) {
        qpki_signer *r = qpki_signer_ref(s);
        qpki_signer_free(&r);
    }
    return NULL;
}

static void test_references_from_many_threads_close_exactly_once(void **state)
{
    (void)state;
    qpki_signer_ops ops = mock_ops();
    struct mock m = {.report_len = 8};
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_new(&ops, &m, &s), QPKI_OK);
    assert_ptr_equal(qpki_signer_ref(s), s);
    qpki_signer *extra = s;
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&th[i], NULL, ref_unref_loop, s), 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    assert_int_equal(m.closed, 0);
    qpki_signer_free(&extra);
    assert_int_equal(m.closed, 0);
    qpki_signer_free(&s);
    assert_int_equal(m.closed, 1);
}

/* ---- software signer ---------------------------------------------------------- */

static void verify_with_signer_key(qpki_signer *s)
{
    const uint8_t *alg = NULL, *spki = NULL;
    size_t alg_len = 0, spki_len = 0;
    assert_int_equal(qpki_signer_algorithm(s, &alg, &alg_len), QPKI_OK);
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    size_t cap = qpki_signer_max_signature_size(s);
    uint8_t *sig = malloc(cap);
    size_t n = cap;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)MSG, strlen(MSG), sig, &n), QPKI_OK);
    assert_true(n > 0 && n <= cap);
    assert_int_equal(crypto_verify_spki((der_view){spki, spki_len}, (der_view){alg, alg_len},
                                        (const uint8_t *)MSG, strlen(MSG), sig, n),
                     QPKI_OK);
    assert_int_equal(crypto_verify_spki((der_view){spki, spki_len}, (der_view){alg, alg_len},
                                        (const uint8_t *)"other", 5, sig, n),
                     QPKI_ERR_BAD_SIGNATURE);
    free(sig);
}

static void test_software_signer_uses_the_key_default_algorithm(void **state)
{
    (void)state;
    static const struct {
        const char *file, *pass;
        qpki_sig_alg alg;
    } cases[] = {
        {"p256.pem", NULL, QPKI_SIG_ECDSA_SHA256},
        {"p384.sec1.pem", NULL, QPKI_SIG_ECDSA_SHA384},
        {"p521.pem", NULL, QPKI_SIG_ECDSA_SHA512},
        {"rsa2048.pkcs1.pem", NULL, QPKI_SIG_RSA_PKCS1_SHA256},
        {"ed25519.pem", NULL, QPKI_SIG_ED25519},
        {"ed448.pem", NULL, QPKI_SIG_ED448},
        {"p256.enc.pem", PASS, QPKI_SIG_ECDSA_SHA256},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        char rel[64];
        snprintf(rel, sizeof(rel), "keys/%s", cases[i].file);
        qpki_signer *s = NULL;
        assert_int_equal(qpki_signer_software_load(tu_data_path(rel), cases[i].pass, &s),
                         QPKI_OK);
        assert_int_equal(qpki_signer_sig_alg(s), cases[i].alg);
        const uint8_t *alg = NULL;
        size_t alg_len = 0, want_len = 0;
        assert_int_equal(qpki_signer_algorithm(s, &alg, &alg_len), QPKI_OK);
        const uint8_t *want = crypto_sig_alg_der(cases[i].alg, &want_len);
        assert_int_equal(alg_len, want_len);
        assert_memory_equal(alg, want, want_len);
        assert_int_equal(qpki_signer_health(s), QPKI_OK);
        verify_with_signer_key(s);
        qpki_signer_free(&s);
    }
}

static void test_software_signer_with_a_chosen_algorithm(void **state)
{
    (void)state;
    qpki_signer *s = NULL;
    const char *rsa = tu_data_path("keys/rsa2048.pem");
    static const qpki_sig_alg rsa_algs[] = {QPKI_SIG_RSA_PSS_SHA256, QPKI_SIG_RSA_PSS_SHA384,
                                            QPKI_SIG_RSA_PSS_SHA512, QPKI_SIG_RSA_PKCS1_SHA384,
                                            QPKI_SIG_RSA_PKCS1_SHA512};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(rsa_algs); i++) {
        assert_int_equal(qpki_signer_software_load_alg(rsa, NULL, rsa_algs[i], &s), QPKI_OK);
        assert_int_equal(qpki_signer_sig_alg(s), rsa_algs[i]);
        assert_int_equal(qpki_signer_max_signature_size(s), 256);
        verify_with_signer_key(s);
        qpki_signer_free(&s);
    }
    assert_int_equal(qpki_signer_software_load_alg(rsa, NULL, QPKI_SIG_ECDSA_SHA256, &s),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_null(s);
    assert_int_equal(qpki_signer_software_load_alg(tu_data_path("keys/p256.pem"), NULL,
                                                   QPKI_SIG_ECDSA_SHA384, &s),
                     QPKI_OK);
    verify_with_signer_key(s);
    qpki_signer_free(&s);
}

static void test_software_signer_load_errors(void **state)
{
    (void)state;
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_software_load(tu_data_path("keys/no-such.pem"), NULL, &s),
                     QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_signer_software_load(tu_data_path("keys/rsa2048.enc.pem"), NULL, &s),
                     QPKI_ERR_PASSPHRASE_REQUIRED);
    assert_int_equal(qpki_signer_software_load(tu_data_path("keys/rsa2048.enc.pem"), "nope", &s),
                     QPKI_ERR_BAD_PASSPHRASE);
    assert_int_equal(qpki_signer_software_load(tu_data_path("keys"), NULL, &s), QPKI_ERR_IO);
    assert_int_equal(qpki_signer_software_from_bytes((const uint8_t *)"junk", 4, NULL,
                                                     QPKI_SIG_UNKNOWN, &s),
                     QPKI_ERR_UNEXPECTED_TAG);
    assert_int_equal(qpki_signer_software_load(NULL, NULL, &s), QPKI_ERR_INVALID_ARG);
    assert_null(s);
}

static void test_software_signer_from_a_generated_key_outlives_the_key(void **state)
{
    (void)state;
    static const qpki_key_alg algs[] = {QPKI_KEY_ED25519, QPKI_KEY_EC_P384, QPKI_KEY_ML_DSA_65};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(algs); i++) {
        qpki_key *key = NULL;
        assert_int_equal(qpki_key_generate(algs[i], 0, &key), QPKI_OK);
        const uint8_t *kspki = NULL;
        size_t kspki_len = 0;
        assert_int_equal(qpki_key_public_key(key, &kspki, &kspki_len), QPKI_OK);
        uint8_t *copy = malloc(kspki_len);
        memcpy(copy, kspki, kspki_len);
        qpki_signer *s = NULL;
        assert_int_equal(qpki_signer_software_from_key(key, QPKI_SIG_UNKNOWN, &s), QPKI_OK);
        qpki_key_free(&key);
        assert_null(key);
        const uint8_t *spki = NULL;
        size_t spki_len = 0;
        assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
        assert_int_equal(spki_len, kspki_len);
        assert_memory_equal(spki, copy, spki_len);
        verify_with_signer_key(s);
        qpki_signer_free(&s);
        free(copy);
    }
    qpki_key *ed = NULL;
    assert_int_equal(qpki_key_generate(QPKI_KEY_ED448, 0, &ed), QPKI_OK);
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_software_from_key(ed, QPKI_SIG_ED25519, &s),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_null(s);
    assert_int_equal(qpki_signer_software_from_key(NULL, QPKI_SIG_UNKNOWN, &s),
                     QPKI_ERR_INVALID_ARG);
    qpki_key_free(&ed);
}

struct sign_job {
    qpki_signer *s;
    int ok;
};

static void *sign_loop(void *arg)
{
    struct sign_job *job = arg;
    const uint8_t *alg = NULL, *spki = NULL;
    size_t alg_len = 0, spki_len = 0;
    if (qpki_signer_algorithm(job->s, &alg, &alg_len) != QPKI_OK ||
        qpki_signer_public_key(job->s, &spki, &spki_len) != QPKI_OK)
        return NULL;
    for (int i = 0; i < 50; i++) {
        uint8_t sig[512];
        size_t n = sizeof(sig);
        if (qpki_signer_sign(job->s, (const uint8_t *)MSG, strlen(MSG), sig, &n) != QPKI_OK)
            continue;
        if (crypto_verify_spki((der_view){spki, spki_len}, (der_view){alg, alg_len},
                               (const uint8_t *)MSG, strlen(MSG), sig, n) == QPKI_OK)
            job->ok++;
    }
    return NULL;
}

static void test_one_software_signer_signs_from_many_threads(void **state)
{
    (void)state;
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_software_load(tu_data_path("keys/p256.sec1.der"), NULL, &s),
                     QPKI_OK);
    pthread_t th[4];
    struct sign_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (struct sign_job){qpki_signer_ref(s), 0};
        assert_int_equal(pthread_create(&th[i], NULL, sign_loop, &jobs[i]), 0);
    }
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        ok += jobs[i].ok;
        qpki_signer_free(&jobs[i].s);
    }
    assert_int_equal(ok, 200);
    printf("software signer: 4 threads x 50 ECDSA signatures, %d verified\n", ok);
    qpki_signer_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_signer_new_rejects_bad_abi_version_and_size),
        cmocka_unit_test(test_signer_new_accepts_larger_struct_and_missing_health),
        cmocka_unit_test(test_dispatch_checks_what_the_implementation_reports),
        cmocka_unit_test(test_references_from_many_threads_close_exactly_once),
        cmocka_unit_test(test_software_signer_uses_the_key_default_algorithm),
        cmocka_unit_test(test_software_signer_with_a_chosen_algorithm),
        cmocka_unit_test(test_software_signer_load_errors),
        cmocka_unit_test(test_software_signer_from_a_generated_key_outlives_the_key),
        cmocka_unit_test(test_one_software_signer_signs_from_many_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
