/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_wycheproof.c - every case of the Wycheproof signature
 * verification vectors in tests/vectors/wycheproof/ through crypto_verify.
 *
 * "valid" cases must verify and "invalid" ones must not; "acceptable" cases
 * (legacy encodings a library may accept) may go either way and are counted.  A
 * public key we refuse to parse counts as a rejection of every case of its group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "crypto/crypto.h"
#include "internal.h"

struct counts {
    size_t total, passed, acceptable, acceptable_accepted;
};

/* The signature algorithm a test group stands for, from its "sha" (and for PSS
 * "mgfSha"/"sLen"); QPKI_SIG_UNKNOWN if we do not support that combination. */
static qpki_sig_alg group_alg(const char *type, const json *grp)
{
    const char *sha = json_str(json_get(grp, "sha"));
    if (!strcmp(type, "EddsaVerify"))
        return QPKI_SIG_ED25519;
    if (!sha)
        return QPKI_SIG_UNKNOWN;
    if (!strcmp(type, "EcdsaVerify")) {
        if (!strcmp(sha, "SHA-256"))
            return QPKI_SIG_ECDSA_SHA256;
        if (!strcmp(sha, "SHA-384"))
            return QPKI_SIG_ECDSA_SHA384;
        if (!strcmp(sha, "SHA-512"))
            return QPKI_SIG_ECDSA_SHA512;
    } else if (!strcmp(type, "RsassaPkcs1Verify")) {
        if (!strcmp(sha, "SHA-256"))
            return QPKI_SIG_RSA_PKCS1_SHA256;
    } else if (!strcmp(type, "RsassaPssVerify")) {
        const char *mgf = json_str(json_get(grp, "mgfSha"));
        long long slen = json_int(json_get(grp, "sLen"), -1);
        if (!strcmp(sha, "SHA-256") && mgf && !strcmp(mgf, "SHA-256") && slen == 32)
            return QPKI_SIG_RSA_PSS_SHA256;
    }
    return QPKI_SIG_UNKNOWN;
}

static struct counts run_file(const char *file, const char *label)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "wycheproof/%s", file);
    json *doc = json_load_gz(tu_vector_path(rel));
    assert_non_null(doc);
    const json *groups = json_get(doc, "testGroups");
    assert_true(json_len(groups) > 0);
    struct counts c = {0};
    for (size_t g = 0; g < json_len(groups); g++) {
        const json *grp = json_at(groups, g);
        const char *type = json_str(json_get(grp, "type"));
        assert_non_null(type);
        qpki_sig_alg alg = group_alg(type, grp);
        assert_int_not_equal(alg, QPKI_SIG_UNKNOWN);
        size_t der_len = 0;
        uint8_t *der = json_hex(grp, "publicKeyDer", &der_len);
        assert_non_null(der);
        crypto_pubkey *key = NULL;
        qpki_status key_rc = crypto_pubkey_parse((der_view){der, der_len}, &key);
        const json *tests = json_get(grp, "tests");
        for (size_t t = 0; t < json_len(tests); t++) {
            const json *tc = json_at(tests, t);
            size_t msg_len = 0, sig_len = 0;
            uint8_t *msg = json_hex(tc, "msg", &msg_len);
            uint8_t *sig = json_hex(tc, "sig", &sig_len);
            const char *result = json_str(json_get(tc, "result"));
            long long id = json_int(json_get(tc, "tcId"), -1);
            assert_non_null(msg);
            assert_non_null(sig);
            assert_non_null(result);
            qpki_status rc = key_rc;
            if (key_rc == QPKI_OK)
                rc = crypto_verify(key, alg, msg, msg_len, sig, sig_len);
            c.total++;
            if (!strcmp(result, "acceptable")) {
                c.acceptable++;
                c.acceptable_accepted += rc == QPKI_OK;
                c.passed++;
            } else if (!strcmp(result, "valid")) {
                if (rc != QPKI_OK)
                    printf("FAIL %s tcId %lld (%s): valid signature rejected: %s\n", label, id,
                           json_str(json_get(tc, "comment")), qpki_strerror(rc));
                else
                    c.passed++;
            } else {
                assert_string_equal(result, "invalid");
                if (rc == QPKI_OK)
                    printf("FAIL %s tcId %lld (%s): invalid signature accepted\n", label, id,
                           json_str(json_get(tc, "comment")));
                /* A rejection is a verdict, never an internal failure. */
                else if (rc != QPKI_ERR_BAD_SIGNATURE && key_rc == QPKI_OK)
                    printf("FAIL %s tcId %lld: rejected with %s\n", label, id, qpki_strerror(rc));
                else
                    c.passed++;
            }
            free(msg);
            free(sig);
        }
        crypto_pubkey_free(&key);
        free(der);
    }
    long long declared = json_int(json_get(doc, "numberOfTests"), -1);
    assert_int_equal((long long)c.total, declared);
    json_free(doc);
    printf("wycheproof %s: %zu passed of %zu (%zu acceptable, %zu of them accepted)\n", label,
           c.passed, c.total, c.acceptable, c.acceptable_accepted);
    return c;
}

static void test_wycheproof_ecdsa_p256_sha256(void **state)
{
    (void)state;
    struct counts c = run_file("ecdsa_secp256r1_sha256_test.json.gz", "ecdsa P-256");
    assert_int_equal(c.passed, c.total);
}

static void test_wycheproof_ecdsa_p384_sha384(void **state)
{
    (void)state;
    struct counts c = run_file("ecdsa_secp384r1_sha384_test.json.gz", "ecdsa P-384");
    assert_int_equal(c.passed, c.total);
}

static void test_wycheproof_ed25519(void **state)
{
    (void)state;
    struct counts c = run_file("ed25519_test.json.gz", "ed25519");
    assert_int_equal(c.passed, c.total);
}

static void test_wycheproof_rsa_pkcs1_2048_sha256(void **state)
{
    (void)state;
    struct counts c = run_file("rsa_signature_2048_sha256_test.json.gz", "rsa pkcs1 2048");
    assert_int_equal(c.passed, c.total);
}

static void test_wycheproof_rsa_pss_2048_sha256_mgf1_32(void **state)
{
    (void)state;
    struct counts c = run_file("rsa_pss_2048_sha256_mgf1_32_test.json.gz", "rsa pss 2048");
    assert_int_equal(c.passed, c.total);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wycheproof_ecdsa_p256_sha256),
        cmocka_unit_test(test_wycheproof_ecdsa_p384_sha384),
        cmocka_unit_test(test_wycheproof_ed25519),
        cmocka_unit_test(test_wycheproof_rsa_pkcs1_2048_sha256),
        cmocka_unit_test(test_wycheproof_rsa_pss_2048_sha256_mgf1_32),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
