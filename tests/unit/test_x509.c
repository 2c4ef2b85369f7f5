/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_x509.c - certificate and CSR reader, names, signature checks,
 * and the builders (checked by openssl as an independent implementation). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include <qpki/cert.h>
#include <qpki/key.h>
#include <qpki/signer.h>
#include "crypto/crypto.h"
#include "der/der.h"
#include "der/oid.h"
#include "der/pem.h"
#include "internal.h"
#include "x509/x509.h"

/* ---- helpers ---------------------------------------------------------------- */

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

static char *hex_of(const uint8_t *p, size_t n)
{
    static char buf[4][1024];
    static int k;
    char *out = buf[k++ & 3];
    size_t i = 0;
    for (; i < n && i < 500; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * i] = '\0';
    return out;
}

static void assert_view_hex(const uint8_t *p, size_t n, const char *hex)
{
    assert_string_equal(hex_of(p, n), hex);
}

/* DER of a whole certificate file (PEM decoded). */
static uint8_t *cert_der_copy(const char *name, size_t *len)
{
    qpki_cert *c = load_cert(name);
    const uint8_t *p;
    qpki_cert_der(c, &p, len);
    uint8_t *copy = malloc(*len);
    memcpy(copy, p, *len);
    qpki_cert_free(&c);
    return copy;
}

/* ---- expected values, read from the fixtures with openssl and cryptography ------ */

#define NB 1795698338 /* 2026-11-26 13:05:38Z (UTCTime) */
#define NA 4949298338 /* 2126-11-02 13:05:38Z (GeneralizedTime) */
#define P256_CA_NAME \
    "CN=QPKI Test EC P-256 Root CA,OU=PKI\\+Ops,O=QPKI Test\\, Inc.,L=Paris,ST=Ile-de-France,C=FR"
#define KU_CA (QPKI_KU_KEY_CERT_SIGN | QPKI_KU_CRL_SIGN)

typedef struct cert_case {
    const char *file;
    int version;
    const char *serial; /* INTEGER contents, hex */
    const char *subject;
    const char *issuer;
    qpki_time not_before, not_after;
    qpki_key_alg key;
    qpki_sig_alg sig;
    bool ca;
    int path_len;
    bool ku_present;
    unsigned ku;
    size_t eku_count;
    bool ocsp_signing, nocheck;
    const char *ski, *aki;
    size_t ext_count;
} cert_case;

static const cert_case cases[] = {
    {"ec-p256-ca.pem", 3, "01", P256_CA_NAME, P256_CA_NAME, NB, NA, QPKI_KEY_EC_P256,
     QPKI_SIG_ECDSA_SHA256, true, -1, true, KU_CA, 0, false, false,
     "6ba0d077ef73033e7f3434a50eddf520f534be58", "", 3},
    {"ec-p256-ocsp.pem", 3, "1001", "CN=ocsp.example.com,O=QPKI Test\\, Inc.,C=FR", P256_CA_NAME,
     NB, NA, QPKI_KEY_EC_P256, QPKI_SIG_ECDSA_SHA256, false, -1, true,
     QPKI_KU_DIGITAL_SIGNATURE, 1, true, true, "79ce237892d56eacee74deefac6ecd5fe1fcf519",
     "6ba0d077ef73033e7f3434a50eddf520f534be58", 6},
    {"ec-p256-leaf.pem", 3, "2001",
     "emailAddress=admin@example.com,CN=www.example.com+serialNumber=12345,O=QPKI Test\\, "
     "Inc.,C=FR",
     P256_CA_NAME, NB, NA, QPKI_KEY_EC_P256, QPKI_SIG_ECDSA_SHA256, false, -1, true,
     QPKI_KU_DIGITAL_SIGNATURE | QPKI_KU_KEY_ENCIPHERMENT, 2, false, false,
     "a6a673106369aad7b1d1ac13dacf9f5e59bb1925", "6ba0d077ef73033e7f3434a50eddf520f534be58", 7},
    {"ec-p384-ca.pem", 3, "0102030405060708090a0b0c0d0e0f1011121314",
     "CN=QPKI Test EC P-384 Root CA,O=QPKI Test,C=DE", "CN=QPKI Test EC P-384 Root CA,O=QPKI Test,C=DE",
     NB, NA, QPKI_KEY_EC_P384, QPKI_SIG_ECDSA_SHA384, true, -1, true, KU_CA, 0, false, false,
     "f0f2afda5a2b454608d74dcd273b2ad46a45ed8a", "", 3},
    {"ec-p384-ocsp.pem", 3, "1002", "CN=ocsp-p384.example.com,O=QPKI Test,C=DE",
     "CN=QPKI Test EC P-384 Root CA,O=QPKI Test,C=DE", NB, NA, QPKI_KEY_EC_P384,
     QPKI_SIG_ECDSA_SHA384, false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, true, true,
     "0b284f45856b8a9b8a84e5f4409cd9a2c85601ed", "f0f2afda5a2b454608d74dcd273b2ad46a45ed8a", 6},
    {"ec-p521-ca.pem", 3, "7f", "CN=QPKI Test EC P-521 Root CA,O=QPKI Test,C=US",
     "CN=QPKI Test EC P-521 Root CA,O=QPKI Test,C=US", NB, NA, QPKI_KEY_EC_P521,
     QPKI_SIG_ECDSA_SHA512, true, -1, true, KU_CA, 0, false, false,
     "437f345b09e158ff8d1148900d21135588ce9719", "", 3},
    {"ec-p521-ocsp.pem", 3, "1003", "CN=ocsp-p521.example.com,O=QPKI Test,C=US",
     "CN=QPKI Test EC P-521 Root CA,O=QPKI Test,C=US", NB, NA, QPKI_KEY_EC_P521,
     QPKI_SIG_ECDSA_SHA512, false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, true, true,
     "826393e602a66b9cfda90dae4c038ffdb68b12f8", "437f345b09e158ff8d1148900d21135588ce9719", 6},
    {"rsa-ca.pem", 3, "00ff", "CN=QPKI Test RSA Root CA,OU=RSA,O=QPKI Test,C=GB",
     "CN=QPKI Test RSA Root CA,OU=RSA,O=QPKI Test,C=GB", NB, NA, QPKI_KEY_RSA,
     QPKI_SIG_RSA_PKCS1_SHA256, true, 1, true, KU_CA | QPKI_KU_DIGITAL_SIGNATURE, 0, false,
     false, "361e69e10c7bc4d73bc51ebccd942020849f46ab", "", 3},
    {"rsa-ocsp.pem", 3, "1004", "CN=ocsp-rsa.example.com,O=QPKI Test,C=GB",
     "CN=QPKI Test RSA Root CA,OU=RSA,O=QPKI Test,C=GB", NB, NA, QPKI_KEY_RSA,
     QPKI_SIG_RSA_PKCS1_SHA256, false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, true, true,
     "a90d7fa6bd2cd91025ade1c86e05134ddafa7c5c", "361e69e10c7bc4d73bc51ebccd942020849f46ab", 6},
    {"rsa-pss-leaf.pem", 3, "2002", "CN=pss.example.com,O=QPKI Test,C=GB",
     "CN=QPKI Test RSA Root CA,OU=RSA,O=QPKI Test,C=GB", NB, NA, QPKI_KEY_RSA,
     QPKI_SIG_RSA_PSS_SHA256, false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, false, false,
     "f6f1a7a14a5f1d8310bf66e22ad2a69deb8cd406", "361e69e10c7bc4d73bc51ebccd942020849f46ab", 4},
    {"ed25519-ca.pem", 3, "03e8", "CN=QPKI Test Ed25519 Root CA,O=QPKI Test",
     "CN=QPKI Test Ed25519 Root CA,O=QPKI Test", NB, NA, QPKI_KEY_ED25519, QPKI_SIG_ED25519,
     true, -1, true, KU_CA, 0, false, false, "45f5db07c0a388ef197761060f5b5f18e9ad714b", "", 3},
    {"ed25519-ocsp.pem", 3, "1005", "CN=ocsp-ed25519.example.com,O=QPKI Test",
     "CN=QPKI Test Ed25519 Root CA,O=QPKI Test", NB, NA, QPKI_KEY_ED25519, QPKI_SIG_ED25519,
     false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, true, true,
     "9280c7f7fd59f31ffa134f9b405d031f53ebf379", "45f5db07c0a388ef197761060f5b5f18e9ad714b", 6},
    {"ed448-ca.pem", 3, "03e9", "CN=QPKI Test Ed448 Root CA,O=QPKI Test",
     "CN=QPKI Test Ed448 Root CA,O=QPKI Test", NB, NA, QPKI_KEY_ED448, QPKI_SIG_ED448, true,
     -1, true, KU_CA, 0, false, false, "17c616225d44dbb06863fe8fafb1cddb5ea59921", "", 3},
    {"ed448-ocsp.pem", 3, "1006", "CN=ocsp-ed448.example.com,O=QPKI Test",
     "CN=QPKI Test Ed448 Root CA,O=QPKI Test", NB, NA, QPKI_KEY_ED448, QPKI_SIG_ED448, false,
     -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1, true, true,
     "1b5feedbf1a2021dd74c368ca0f662bf35a0ca72", "17c616225d44dbb06863fe8fafb1cddb5ea59921", 6},
    {"unknown-critical.pem", 3, "2003", "CN=unknown-critical.example.com", P256_CA_NAME, NB + 1,
     NA + 1, QPKI_KEY_EC_P256, QPKI_SIG_ECDSA_SHA256, false, -1, false, 0, 0, false, false,
     "f406624007bf587e72dbee0ba93b3d778c782ec1", "6ba0d077ef73033e7f3434a50eddf520f534be58", 5},
    {"x25519-leaf.pem", 3, "2004", "CN=x25519.example.com", P256_CA_NAME, NB + 1, NA + 1,
     QPKI_KEY_UNKNOWN, QPKI_SIG_ECDSA_SHA256, false, -1, true, QPKI_KU_DIGITAL_SIGNATURE, 1,
     false, false, "9ae410da605dae474464095382b25f7df5b11b81",
     "6ba0d077ef73033e7f3434a50eddf520f534be58", 4},
    {"v1-leaf.pem", 1, "2005", "CN=v1.example.com", P256_CA_NAME, NB + 1, NA + 1,
     QPKI_KEY_EC_P256, QPKI_SIG_ECDSA_SHA256, false, -1, false, 0, 0, false, false, "", "", 0},
    {"negative-serial.pem", 3, "d6", "CN=negative-serial.example.com", P256_CA_NAME, NB + 1,
     NA + 1, QPKI_KEY_EC_P256, QPKI_SIG_ECDSA_SHA256, false, -1, true,
     QPKI_KU_DIGITAL_SIGNATURE, 1, false, false, "eade4c75e75e958ca2eacf594fc4cecf2fcdb7e0",
     "6ba0d077ef73033e7f3434a50eddf520f534be58", 4},
};

/* (certificate, its issuer) pairs for signature checks */
static const char *const chains[][2] = {
    {"ec-p256-ca.pem", "ec-p256-ca.pem"},     {"ec-p256-ocsp.pem", "ec-p256-ca.pem"},
    {"ec-p256-leaf.pem", "ec-p256-ca.pem"},   {"ec-p384-ca.pem", "ec-p384-ca.pem"},
    {"ec-p384-ocsp.pem", "ec-p384-ca.pem"},   {"ec-p521-ca.pem", "ec-p521-ca.pem"},
    {"ec-p521-ocsp.pem", "ec-p521-ca.pem"},   {"rsa-ca.pem", "rsa-ca.pem"},
    {"rsa-ocsp.pem", "rsa-ca.pem"},           {"rsa-pss-leaf.pem", "rsa-ca.pem"},
    {"ed25519-ca.pem", "ed25519-ca.pem"},     {"ed25519-ocsp.pem", "ed25519-ca.pem"},
    {"ed448-ca.pem", "ed448-ca.pem"},         {"ed448-ocsp.pem", "ed448-ca.pem"},
    {"unknown-critical.pem", "ec-p256-ca.pem"}, {"x25519-leaf.pem", "ec-p256-ca.pem"},
    {"v1-leaf.pem", "ec-p256-ca.pem"},        {"negative-serial.pem", "ec-p256-ca.pem"},
};

/* ---- reader: every field of every fixture ------------------------------------------ */

static void test_every_fixture_field_matches_openssl(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        const cert_case *t = &cases[i];
        qpki_cert *c = load_cert(t->file);
        const uint8_t *p;
        size_t n;
        char text[512];
        assert_int_equal(qpki_cert_version(c), t->version);
        qpki_cert_serial(c, &p, &n);
        assert_view_hex(p, n, t->serial);
        assert_int_equal(qpki_cert_subject_text(c, text, sizeof(text)), QPKI_OK);
        assert_string_equal(text, t->subject);
        assert_int_equal(qpki_cert_issuer_text(c, text, sizeof(text)), QPKI_OK);
        assert_string_equal(text, t->issuer);
        assert_int_equal(qpki_cert_not_before(c), t->not_before);
        assert_int_equal(qpki_cert_not_after(c), t->not_after);
        assert_int_equal(qpki_cert_key_alg(c), t->key);
        assert_int_equal(qpki_cert_sig_alg(c), t->sig);
        assert_int_equal(qpki_cert_is_ca(c), t->ca);
        assert_int_equal(qpki_cert_path_len_constraint(c), t->path_len);
        bool present = !t->ku_present;
        assert_int_equal(qpki_cert_key_usage(c, &present), t->ku);
        assert_int_equal(present, t->ku_present);
        assert_int_equal(qpki_cert_ext_key_usage_count(c), t->eku_count);
        assert_int_equal(qpki_cert_has_ocsp_signing(c), t->ocsp_signing);
        assert_int_equal(qpki_cert_has_ocsp_nocheck(c), t->nocheck);
        qpki_cert_subject_key_id(c, &p, &n);
        assert_view_hex(p, n, t->ski);
        qpki_cert_authority_key_id(c, &p, &n);
        assert_view_hex(p, n, t->aki);
        assert_int_equal(qpki_cert_extension_count(c), t->ext_count);
        qpki_cert_free(&c);
        assert_null(c);
    }
}

/* The same fields read at run time from `openssl x509` for every fixture, so
 * the table above cannot drift from the files. */
static void test_every_fixture_agrees_with_openssl_at_run_time(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        char cmd[1024], rel[128];
        snprintf(rel, sizeof(rel), "certs/%s", cases[i].file);
        snprintf(cmd, sizeof(cmd),
                 "openssl x509 -in '%s' -noout -serial -subject -issuer -nameopt RFC2253 "
                 "-startdate -enddate -dateopt iso_8601",
                 tu_data_path(rel));
        int status;
        char *out = tu_run(cmd, &status);
        assert_non_null(out);
        assert_int_equal(status, 0);
        qpki_cert *c = load_cert(cases[i].file);
        char text[512], line[600];
        const uint8_t *p;
        size_t n;
        /* openssl prints the serial as hex of the value, with '-' for negatives */
        qpki_cert_serial(c, &p, &n);
        if (p[0] & 0x80) {
            /* two's complement -> magnitude (one octet is enough for the fixture) */
            assert_int_equal(n, 1);
            snprintf(line, sizeof(line), "serial=-%02X\n", (unsigned)(256 - p[0]));
        } else {
            snprintf(line, sizeof(line), "serial=");
            if (n > 1 && p[0] == 0x00) { /* the sign octet is not printed */
                p++;
                n--;
            }
            for (size_t k = 0; k < n; k++)
                snprintf(line + strlen(line), sizeof(line) - strlen(line), "%02X", p[k]);
            snprintf(line + strlen(line), sizeof(line) - strlen(line), "\n");
        }
        assert_non_null(strstr(out, line));
        assert_int_equal(qpki_cert_subject_text(c, text, sizeof(text)), QPKI_OK);
        snprintf(line, sizeof(line), "subject=%s\n", text);
        assert_non_null(strstr(out, line));
        assert_int_equal(qpki_cert_issuer_text(c, text, sizeof(text)), QPKI_OK);
        snprintf(line, sizeof(line), "issuer=%s\n", text);
        assert_non_null(strstr(out, line));
        int y, mo, d, h, mi, s;
        qpki_time_to_fields(qpki_cert_not_before(c), &y, &mo, &d, &h, &mi, &s);
        snprintf(line, sizeof(line), "notBefore=%04d-%02d-%02d %02d:%02d:%02dZ\n", y, mo, d, h, mi,
                 s);
        assert_non_null(strstr(out, line));
        qpki_time_to_fields(qpki_cert_not_after(c), &y, &mo, &d, &h, &mi, &s);
        snprintf(line, sizeof(line), "notAfter=%04d-%02d-%02d %02d:%02d:%02dZ\n", y, mo, d, h, mi,
                 s);
        assert_non_null(strstr(out, line));
        qpki_cert_free(&c);
        free(out);
    }
}

static void test_leaf_extensions_are_decoded_and_kept_raw(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-leaf.pem");
    /* extension order and criticality as `openssl x509 -text` lists them */
    static const struct {
        const char *oid;
        bool critical;
    } want[] = {{"2.5.29.19", true},  {"2.5.29.15", true},  {"2.5.29.37", false},
                {"2.5.29.14", false}, {"2.5.29.35", false}, {"2.5.29.17", false},
                {"1.3.6.1.5.5.7.1.1", false}};
    assert_int_equal(qpki_cert_extension_count(c), QPKI_ARRAY_LEN(want));
    for (size_t i = 0; i < QPKI_ARRAY_LEN(want); i++) {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        bool critical;
        char dotted[64];
        assert_int_equal(qpki_cert_extension(c, i, &oid, &oid_len, &critical, &value, &value_len),
                         QPKI_OK);
        assert_int_equal(der_oid_to_text((der_view){oid, oid_len}, dotted, sizeof(dotted)),
                         QPKI_OK);
        assert_string_equal(dotted, want[i].oid);
        assert_int_equal(critical, want[i].critical);
    }
    assert_int_equal(qpki_cert_extension(c, 7, NULL, NULL, NULL, NULL, NULL), QPKI_ERR_NOT_FOUND);

    /* EKU: serverAuth, clientAuth */
    const uint8_t *p;
    size_t n;
    assert_int_equal(qpki_cert_ext_key_usage(c, 0, &p, &n), QPKI_OK);
    assert_true(der_oid_eq((der_view){p, n}, OID_KP_SERVER_AUTH));
    assert_int_equal(qpki_cert_ext_key_usage(c, 1, &p, &n), QPKI_OK);
    assert_true(der_oid_eq((der_view){p, n}, OID_KP_CLIENT_AUTH));
    assert_int_equal(qpki_cert_ext_key_usage(c, 2, &p, &n), QPKI_ERR_NOT_FOUND);

    /* SAN raw: DNS:www.example.com, DNS:example.com, IP:192.0.2.1, IP:2001:db8::1,
     * email:admin@example.com, URI:https://example.com/ */
    qpki_cert_subject_alt_name(c, &p, &n);
    assert_view_hex(p, n,
                    "305f820f7777772e6578616d706c652e636f6d820b6578616d706c652e636f6d8704c000"
                    "0201871020010db8000000000000000000000001811161646d696e406578616d706c652e"
                    "636f6d861468747470733a2f2f6578616d706c652e636f6d2f");
    bool critical = true;
    const uint8_t *v;
    size_t vn;
    assert_int_equal(qpki_cert_find_extension(c, OID_PE_AIA.p, OID_PE_AIA.n, &critical, &v, &vn),
                     QPKI_OK);
    assert_false(critical);
    /* OCSP http://ocsp.example.com/, caIssuers http://ca.example.com/ca.crt (cryptography) */
    assert_view_hex(v, vn,
                    "3050302406082b060105050730018618687474703a2f2f6f6373702e6578616d706c652e63"
                    "6f6d2f302806082b06010505073002861c687474703a2f2f63612e6578616d706c652e636f"
                    "6d2f63612e637274");
    assert_int_equal(qpki_cert_find_extension(c, OID_OCSP_NOCHECK.p, OID_OCSP_NOCHECK.n, NULL,
                                              NULL, NULL),
                     QPKI_ERR_NOT_FOUND);
    qpki_cert_free(&c);
}

static void test_unknown_critical_extension_is_kept_not_rejected(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("unknown-critical.pem");
    uint8_t oid[32];
    size_t oid_len;
    assert_int_equal(der_oid_from_text("1.3.6.1.4.1.55555.1.1", oid, sizeof(oid), &oid_len),
                     QPKI_OK);
    bool critical = false;
    const uint8_t *v;
    size_t vn;
    assert_int_equal(qpki_cert_find_extension(c, oid, oid_len, &critical, &v, &vn), QPKI_OK);
    assert_true(critical);
    assert_view_hex(v, vn, "0c0568656c6c6f"); /* UTF8String "hello" */
    assert_int_equal(der_oid_from_text("1.3.6.1.4.1.55555.1.2", oid, sizeof(oid), &oid_len),
                     QPKI_OK);
    assert_int_equal(qpki_cert_find_extension(c, oid, oid_len, &critical, &v, &vn), QPKI_OK);
    assert_false(critical);
    assert_view_hex(v, vn, "0500");
    qpki_cert_free(&c);
}

static void test_views_point_into_the_certificate_bytes(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    const uint8_t *der, *p;
    size_t len, n;
    qpki_cert_der(c, &der, &len);
    qpki_cert_tbs(c, &p, &n);
    assert_ptr_equal(p, der + 4); /* 30 82 LL LL | tbs */
    assert_int_equal(p[0], 0x30);
    qpki_cert_spki(c, &p, &n);
    assert_int_equal(n, 91); /* P-256 SPKI */
    assert_true(p > der && p + n < der + len);
    qpki_cert_public_key_bits(c, &p, &n);
    assert_int_equal(n, 65);
    assert_int_equal(p[0], 0x04); /* uncompressed point */
    qpki_cert_sig_alg_der(c, &p, &n);
    assert_view_hex(p, n, "300a06082a8648ce3d040302");
    qpki_cert_signature(c, &p, &n);
    assert_int_equal(p[0], 0x30); /* Ecdsa-Sig-Value */
    assert_ptr_equal(p + n, der + len);
    qpki_cert_free(&c);
}

static void test_der_and_pem_inputs_give_the_same_certificate(void **state)
{
    (void)state;
    size_t len, pem_len;
    uint8_t *der = cert_der_copy("ec-p384-ca.pem", &len);
    uint8_t *pem = tu_read_file(tu_data_path("certs/ec-p384-ca.pem"), &pem_len);
    qpki_cert *a = NULL, *b = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &a), QPKI_OK);
    assert_int_equal(qpki_cert_parse_any(pem, pem_len, &b), QPKI_OK);
    const uint8_t *pa, *pb;
    size_t na, nb;
    qpki_cert_der(a, &pa, &na);
    qpki_cert_der(b, &pb, &nb);
    assert_int_equal(na, nb);
    assert_memory_equal(pa, pb, na);
    assert_ptr_not_equal(pa, der); /* the parser keeps its own copy */
    qpki_cert_free(&a);
    /* DER through parse_any too */
    assert_int_equal(qpki_cert_parse_any(der, len, &a), QPKI_OK);
    qpki_cert_free(&a);
    qpki_cert_free(&b);
    free(der);
    free(pem);
}

static void test_pem_file_with_key_first_gives_the_certificate(void **state)
{
    (void)state;
    size_t klen, clen;
    uint8_t *key = tu_read_file(tu_data_path("certs/ed25519-ca.key"), &klen);
    uint8_t *crt = tu_read_file(tu_data_path("certs/ed25519-ca.pem"), &clen);
    uint8_t *both = malloc(klen + clen + 256);
    memcpy(both, key, klen);
    memcpy(both + klen, crt, clen);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse_any(both, klen + clen, &c), QPKI_OK);
    assert_int_equal(qpki_cert_key_alg(c), QPKI_KEY_ED25519);
    qpki_cert_free(&c);
    /* a legacy encrypted key (RFC 1421 headers) before the certificate is skipped */
    static const char legacy[] = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                 "DEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    memcpy(both, legacy, sizeof(legacy) - 1);
    memcpy(both + sizeof(legacy) - 1, crt, clen);
    assert_int_equal(qpki_cert_parse_any(both, sizeof(legacy) - 1 + clen, &c), QPKI_OK);
    assert_int_equal(qpki_cert_key_alg(c), QPKI_KEY_ED25519);
    qpki_cert_free(&c);
    assert_int_equal(qpki_cert_parse_any(both, sizeof(legacy) - 1, &c), QPKI_ERR_NOT_FOUND);
    /* a PEM file without any certificate */
    assert_int_equal(qpki_cert_parse_any(key, klen, &c), QPKI_ERR_NOT_FOUND);
    assert_null(c);
    free(both);
    free(key);
    free(crt);
}

static void test_missing_file_is_not_found(void **state)
{
    (void)state;
    qpki_cert *c = (qpki_cert *)1;
    assert_int_equal(qpki_cert_load_file("/nonexistent/qpki/x.pem", &c), QPKI_ERR_NOT_FOUND);
    assert_null(c);
    qpki_csr *r = (qpki_csr *)1;
    assert_int_equal(qpki_csr_load_file("/nonexistent/qpki/x.csr", &r), QPKI_ERR_NOT_FOUND);
    assert_null(r);
}

static void test_validity_bounds_are_inclusive(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ca.pem");
    assert_false(qpki_cert_valid_at(c, NB - 1));
    assert_true(qpki_cert_valid_at(c, NB));
    assert_true(qpki_cert_valid_at(c, NA));
    assert_false(qpki_cert_valid_at(c, NA + 1));
    assert_false(qpki_cert_valid_at(NULL, NB));
    qpki_cert_free(&c);
}

static void test_null_arguments_are_rejected(void **state)
{
    (void)state;
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(NULL, 10, &c), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_parse((const uint8_t *)"", 0, NULL), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_parse((const uint8_t *)"", 0, &c), QPKI_ERR_TRUNCATED);
    assert_int_equal(qpki_cert_verify_signature(NULL, NULL), QPKI_ERR_INVALID_ARG);
    qpki_cert_free(NULL);
    qpki_cert_free(&c);
    char buf[8];
    assert_int_equal(qpki_cert_subject_text(NULL, buf, sizeof(buf)), QPKI_ERR_INVALID_ARG);
}

/* ---- signatures ------------------------------------------------------------------- */

static void test_every_fixture_signature_verifies(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(chains); i++) {
        qpki_cert *c = load_cert(chains[i][0]);
        qpki_cert *issuer = load_cert(chains[i][1]);
        qpki_status rc = qpki_cert_verify_signature(c, issuer);
        if (rc != QPKI_OK)
            fail_msg("%s by %s: %s", chains[i][0], chains[i][1], qpki_strerror(rc));
        qpki_cert_free(&c);
        qpki_cert_free(&issuer);
    }
}

static void test_flipped_bit_in_tbs_or_signature_is_bad_signature(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(chains); i++) {
        size_t len;
        uint8_t *der = cert_der_copy(chains[i][0], &len);
        qpki_cert *issuer = load_cert(chains[i][1]);
        qpki_cert *orig = NULL, *c = NULL;
        assert_int_equal(qpki_cert_parse(der, len, &orig), QPKI_OK);
        /* flip a bit of the validity's last time digit: still well formed */
        size_t off = (size_t)(orig->validity.p - orig->der) + orig->validity.n - 2;
        der[off] ^= 0x01;
        assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
        assert_int_equal(qpki_cert_verify_signature(c, issuer), QPKI_ERR_BAD_SIGNATURE);
        qpki_cert_free(&c);
        der[off] ^= 0x01;
        /* flip the last bit of the signature value (for ECDSA the last octet of s) */
        der[len - 1] ^= 0x01;
        assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
        assert_int_equal(qpki_cert_verify_signature(c, issuer), QPKI_ERR_BAD_SIGNATURE);
        qpki_cert_free(&c);
        qpki_cert_free(&orig);
        qpki_cert_free(&issuer);
        free(der);
    }
}

static void test_wrong_issuer_is_unknown_issuer(void **state)
{
    (void)state;
    qpki_cert *leaf = load_cert("ec-p256-ocsp.pem");
    qpki_cert *other = load_cert("ec-p384-ca.pem");
    assert_int_equal(qpki_cert_verify_signature(leaf, other), QPKI_ERR_UNKNOWN_ISSUER);
    qpki_cert *ca = load_cert("ec-p256-ca.pem");
    assert_int_equal(qpki_cert_verify_signature(ca, leaf), QPKI_ERR_UNKNOWN_ISSUER);
    qpki_cert_free(&leaf);
    qpki_cert_free(&other);
    qpki_cert_free(&ca);
}

/* ---- malformed inputs ----------------------------------------------------------------- */

/* The pieces of a TBSCertificate, re-assembled with changes by the tests. */
typedef struct parts {
    der_view version, serial, tbs_alg, issuer, validity, subject, spki, exts, outer_alg;
    der_view sig;
    unsigned sig_unused;
} parts;

static parts parts_of(const qpki_cert *c)
{
    return (parts){c->version_tlv, c->serial_tlv, c->tbs_sig_alg, c->issuer, c->validity,
                   c->subject, c->spki, c->exts_tlv, c->sig_alg, c->signature, c->sig_unused};
}

static uint8_t *assemble(const parts *p, size_t *len)
{
    der_buf b;
    der_buf_init(&b, 0);
    size_t outer = der_begin(&b, DER_SEQUENCE);
    size_t tbs = der_begin(&b, DER_SEQUENCE);
    der_put_bytes(&b, p->version.p, p->version.n);
    der_put_bytes(&b, p->serial.p, p->serial.n);
    der_put_bytes(&b, p->tbs_alg.p, p->tbs_alg.n);
    der_put_bytes(&b, p->issuer.p, p->issuer.n);
    der_put_bytes(&b, p->validity.p, p->validity.n);
    der_put_bytes(&b, p->subject.p, p->subject.n);
    der_put_bytes(&b, p->spki.p, p->spki.n);
    der_put_bytes(&b, p->exts.p, p->exts.n);
    der_end(&b, tbs);
    der_put_bytes(&b, p->outer_alg.p, p->outer_alg.n);
    der_put_bit_string(&b, p->sig.p, p->sig.n, p->sig_unused);
    der_end(&b, outer);
    uint8_t *out = NULL;
    assert_int_equal(der_buf_finish(&b, &out, len), QPKI_OK);
    return out;
}

static qpki_status parse_parts(const parts *p)
{
    size_t len;
    uint8_t *der = assemble(p, &len);
    qpki_cert *c = NULL;
    qpki_status rc = qpki_cert_parse(der, len, &c);
    if (rc == QPKI_OK)
        assert_non_null(c);
    else
        assert_null(c);
    qpki_cert_free(&c);
    qpki_free(der);
    return rc;
}

/* [3] { SEQUENCE { the given Extension TLVs } } into a static buffer */
static der_view exts_of(const der_view *list, size_t n)
{
    static uint8_t *keep;
    der_buf b;
    der_buf_init(&b, 0);
    size_t ctx = der_begin(&b, DER_CTX_CONS(3));
    size_t seq = der_begin(&b, DER_SEQUENCE);
    for (size_t i = 0; i < n; i++)
        der_put_bytes(&b, list[i].p, list[i].n);
    der_end(&b, seq);
    der_end(&b, ctx);
    qpki_free(keep);
    size_t len;
    assert_int_equal(der_buf_finish(&b, &keep, &len), QPKI_OK);
    return (der_view){keep, len};
}

#define V(lit) ((der_view){(const uint8_t *)(lit), sizeof(lit) - 1})

static void test_issuer_name_with_another_key_is_bad_signature(void **state)
{
    (void)state;
    /* a fake issuer: the P-256 CA's subject on the leaf's (different) P-256 key */
    qpki_cert *leaf = load_cert("ec-p256-leaf.pem");
    qpki_cert *ca = load_cert("ec-p256-ca.pem");
    qpki_cert *ocsp = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(leaf);
    p.subject = ca->subject;
    size_t len;
    uint8_t *der = assemble(&p, &len);
    qpki_cert *fake = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &fake), QPKI_OK);
    assert_int_equal(qpki_cert_verify_signature(ocsp, fake), QPKI_ERR_BAD_SIGNATURE);
    assert_int_equal(qpki_cert_verify_signature(ocsp, ca), QPKI_OK);
    qpki_cert_free(&fake);
    qpki_free(der);
    qpki_cert_free(&leaf);
    qpki_cert_free(&ca);
    qpki_cert_free(&ocsp);
}

static void test_reassembled_fixture_parses_identically(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-leaf.pem");
    parts p = parts_of(c);
    size_t len;
    uint8_t *der = assemble(&p, &len);
    const uint8_t *orig;
    size_t orig_len;
    qpki_cert_der(c, &orig, &orig_len);
    assert_int_equal(len, orig_len);
    assert_memory_equal(der, orig, len);
    qpki_free(der);
    qpki_cert_free(&c);
}

static void test_truncation_at_every_length_is_truncated(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = cert_der_copy("ec-p256-leaf.pem", &len);
    for (size_t n = 0; n < len; n++) {
        qpki_cert *c = NULL;
        uint8_t *copy = malloc(n ? n : 1); /* exact-size copy: ASan sees overreads */
        memcpy(copy, der, n);
        assert_int_equal(qpki_cert_parse(copy, n, &c), QPKI_ERR_TRUNCATED);
        assert_null(c);
        free(copy);
    }
    free(der);
}

static void test_truncated_contents_inside_a_valid_outer_length_fail(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = cert_der_copy("rsa-ocsp.pem", &len);
    /* keep the outer SEQUENCE well formed but cut its contents at every length */
    size_t hdr = 4;
    size_t ok = 0, truncated = 0;
    for (size_t n = 0; n < len - hdr; n++) {
        der_buf b;
        der_buf_init(&b, 0);
        der_put_tlv(&b, DER_SEQUENCE, der + hdr, n);
        uint8_t *enc;
        size_t enc_len;
        assert_int_equal(der_buf_finish(&b, &enc, &enc_len), QPKI_OK);
        qpki_cert *c = NULL;
        qpki_status rc = qpki_cert_parse(enc, enc_len, &c);
        ok += rc == QPKI_OK;
        truncated += rc == QPKI_ERR_TRUNCATED;
        qpki_cert_free(&c);
        qpki_free(enc);
    }
    assert_int_equal(ok, 0);
    assert_true(truncated > 0);
    free(der);
}

static void test_trailing_bytes_and_wrong_outer_tag_are_rejected(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = cert_der_copy("ed25519-ca.pem", &len);
    uint8_t *more = malloc(len + 1);
    memcpy(more, der, len);
    more[len] = 0x00;
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(more, len + 1, &c), QPKI_ERR_TRAILING_DATA);
    more[0] = 0x31; /* SET instead of SEQUENCE */
    assert_int_equal(qpki_cert_parse(more, len, &c), QPKI_ERR_UNEXPECTED_TAG);
    more[0] = 0x30;
    more[4] = 0x31; /* tbsCertificate tag */
    assert_int_equal(qpki_cert_parse(more, len, &c), QPKI_ERR_UNEXPECTED_TAG);
    assert_null(c);
    free(more);
    free(der);
}

static void test_oversized_input_is_too_large(void **state)
{
    (void)state;
    size_t n = QPKI_CERT_MAX_SIZE + 1;
    uint8_t *big = calloc(1, n);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(big, n, &c), QPKI_ERR_TOO_LARGE);
    qpki_csr *r = NULL;
    assert_int_equal(qpki_csr_parse(big, n, &r), QPKI_ERR_TOO_LARGE);
    free(big);
}

static void test_duplicate_extension_is_a_decode_error(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(c);
    der_view list[3] = {c->exts[0].whole, c->exts[1].whole, c->exts[0].whole};
    p.exts = exts_of(list, 3);
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* the same two distinct extensions parse */
    p.exts = exts_of(list, 2);
    assert_int_equal(parse_parts(&p), QPKI_OK);
    qpki_cert_free(&c);
}

static void test_version_rules_are_enforced(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(c);
    /* v1 written explicitly: a DEFAULT value in DER (X.690 §11.5) */
    p.version = V("\xa0\x03\x02\x01\x00");
    assert_int_equal(parse_parts(&p), QPKI_ERR_BAD_VERSION);
    p.version = V("\xa0\x03\x02\x01\x03"); /* v4 does not exist */
    assert_int_equal(parse_parts(&p), QPKI_ERR_BAD_VERSION);
    p.version = V("\xa0\x03\x02\x01\x01"); /* v2 cannot carry extensions */
    assert_int_equal(parse_parts(&p), QPKI_ERR_BAD_VERSION);
    p.exts = (der_view){NULL, 0};
    assert_int_equal(parse_parts(&p), QPKI_OK); /* v2 without extensions */
    p.version = (der_view){NULL, 0};
    assert_int_equal(parse_parts(&p), QPKI_OK); /* v1 */
    p.version = V("\xa0\x04\x02\x02\x00\x02"); /* non-minimal INTEGER */
    assert_int_equal(parse_parts(&p), QPKI_ERR_NON_MINIMAL);
    qpki_cert_free(&c);
}

static void test_serials_are_kept_exactly_within_the_cap(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(c);
    p.serial = V("\x02\x01\x00"); /* zero */
    size_t len;
    uint8_t *der = assemble(&p, &len);
    qpki_cert *z = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &z), QPKI_OK);
    const uint8_t *s;
    size_t sn;
    qpki_cert_serial(z, &s, &sn);
    assert_view_hex(s, sn, "00");
    qpki_cert_free(&z);
    qpki_free(der);
    /* 33 octets of contents (32 of magnitude) is the most we keep */
    uint8_t big[2 + 34];
    big[0] = 0x02;
    big[1] = 33;
    big[2] = 0x00;
    memset(big + 3, 0xab, 32);
    p.serial = (der_view){big, 35};
    assert_int_equal(parse_parts(&p), QPKI_OK);
    big[1] = 34;
    big[2] = 0x01;
    big[3 + 32] = 0xab;
    p.serial = (der_view){big, 36};
    assert_int_equal(parse_parts(&p), QPKI_ERR_TOO_LARGE);
    p.serial = V("\x02\x02\x00\x01"); /* non-minimal */
    assert_int_equal(parse_parts(&p), QPKI_ERR_NON_MINIMAL);
    p.serial = V("\x02\x00"); /* empty INTEGER */
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    qpki_cert_free(&c);
}

static void test_signature_algorithm_mismatch_is_rejected(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p384-ocsp.pem");
    parts p = parts_of(c);
    p.outer_alg = V("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x02"); /* ecdsa-with-SHA256 */
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* same algorithm, parameters differ (NULL added) */
    p.outer_alg = V("\x30\x0c\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03\x05\x00");
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* both changed the same way: parses, with an algorithm we do not accept */
    p.tbs_alg = p.outer_alg;
    assert_int_equal(parse_parts(&p), QPKI_OK);
    /* AlgorithmIdentifier with two parameters */
    p.outer_alg = p.tbs_alg = V("\x30\x0e\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03\x05\x00\x05\x00");
    assert_int_equal(parse_parts(&p), QPKI_ERR_TRAILING_DATA);
    qpki_cert_free(&c);
}

static void test_unknown_signature_algorithm_parses_as_unknown(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ca.pem");
    parts p = parts_of(c);
    /* 1.2.3.4 */
    p.outer_alg = p.tbs_alg = V("\x30\x05\x06\x03\x2a\x03\x04");
    size_t len;
    uint8_t *der = assemble(&p, &len);
    qpki_cert *u = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &u), QPKI_OK);
    assert_int_equal(qpki_cert_sig_alg(u), QPKI_SIG_UNKNOWN);
    assert_int_equal(qpki_cert_verify_signature(u, c), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    qpki_cert_free(&u);
    qpki_free(der);
    qpki_cert_free(&c);
}

static void test_extension_encoding_rules(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(c);
    der_view one;
    /* critical FALSE written out: DEFAULT encoded */
    one = V("\x30\x0c\x06\x03\x55\x1d\x13\x01\x01\x00\x04\x02\x30\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_NON_MINIMAL);
    /* BOOLEAN TRUE as 0x01 is BER, not DER */
    one = V("\x30\x0c\x06\x03\x55\x1d\x13\x01\x01\x01\x04\x02\x30\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_NON_MINIMAL);
    /* basicConstraints { cA FALSE } written out */
    one = V("\x30\x0c\x06\x03\x55\x1d\x13\x04\x05\x30\x03\x01\x01\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_NON_MINIMAL);
    /* basicConstraints with trailing bytes inside extnValue */
    one = V("\x30\x0b\x06\x03\x55\x1d\x13\x04\x04\x30\x00\x05\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_TRAILING_DATA);
    /* nocheck with a value other than NULL */
    one = V("\x30\x0f\x06\x09\x2b\x06\x01\x05\x05\x07\x30\x01\x05\x04\x02\x04\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_UNEXPECTED_TAG);
    /* empty EKU list: SIZE (1..MAX) */
    one = V("\x30\x09\x06\x03\x55\x1d\x25\x04\x02\x30\x00");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* SAN iPAddress of 5 octets */
    one = V("\x30\x10\x06\x03\x55\x1d\x11\x04\x09\x30\x07\x87\x05\x01\x02\x03\x04\x05");
    p.exts = exts_of(&one, 1);
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* empty Extensions SEQUENCE: SIZE (1..MAX) */
    p.exts = exts_of(NULL, 0);
    assert_int_equal(parse_parts(&p), QPKI_ERR_DECODE);
    /* pathLenConstraint 3 and KU keyCertSign with a trailing zero octet */
    der_view two[2] = {V("\x30\x0f\x06\x03\x55\x1d\x13\x04\x08\x30\x06\x01\x01\xff\x02\x01\x03"),
                       V("\x30\x0c\x06\x03\x55\x1d\x0f\x04\x05\x03\x03\x00\x04\x00")};
    p.exts = exts_of(two, 2);
    size_t len;
    uint8_t *der = assemble(&p, &len);
    qpki_cert *x = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &x), QPKI_OK);
    assert_true(qpki_cert_is_ca(x));
    assert_int_equal(qpki_cert_path_len_constraint(x), 3);
    bool present = false;
    assert_int_equal(qpki_cert_key_usage(x, &present), QPKI_KU_KEY_CERT_SIGN);
    assert_true(present);
    qpki_cert_free(&x);
    qpki_free(der);
    qpki_cert_free(&c);
}

static void test_more_than_the_extension_cap_is_limit(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(c);
    enum { N = QPKI_CERT_MAX_EXTENSIONS + 1 };
    static uint8_t ext[N][18];
    der_view list[N];
    for (size_t i = 0; i < N; i++) {
        /* Extension { 1.3.6.1.4.1.55555.2.i, OCTET STRING { NULL } } */
        static const uint8_t tmpl[18] = {0x30, 0x10, 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01,
                                         0x83, 0xb2, 0x03, 0x02, 0x00, 0x04, 0x02, 0x05, 0x00};
        memcpy(ext[i], tmpl, sizeof(tmpl));
        ext[i][13] = (uint8_t)i;
        list[i] = (der_view){ext[i], sizeof(tmpl)};
    }
    p.exts = exts_of(list, N);
    assert_int_equal(parse_parts(&p), QPKI_ERR_LIMIT);
    p.exts = exts_of(list, N - 1);
    assert_int_equal(parse_parts(&p), QPKI_OK);
    qpki_cert_free(&c);
}

static void test_explicit_v1_fixture_has_no_extensions(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("v1-leaf.pem");
    assert_int_equal(qpki_cert_version(c), 1);
    assert_int_equal(qpki_cert_extension_count(c), 0);
    const uint8_t *p;
    size_t n;
    qpki_cert_subject_key_id(c, &p, &n);
    assert_int_equal(n, 0);
    qpki_cert_subject_alt_name(c, &p, &n);
    assert_int_equal(n, 0);
    qpki_cert_free(&c);
}

/* ---- re-encoding for Catalyst ------------------------------------------------------- */

static void test_tbs_reencoding_is_identity_and_can_skip(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-leaf.pem");
    uint8_t *out;
    size_t len;
    assert_int_equal(x509_cert_tbs_reencode(c, false, (der_oid){NULL, 0}, &out, &len), QPKI_OK);
    const uint8_t *tbs;
    size_t tbs_len;
    qpki_cert_tbs(c, &tbs, &tbs_len);
    assert_int_equal(len, tbs_len);
    assert_memory_equal(out, tbs, len);
    qpki_free(out);
    /* without the signature field and without the SAN */
    assert_int_equal(x509_cert_tbs_reencode(c, true, OID_CE_SUBJECT_ALT_NAME, &out, &len), QPKI_OK);
    /* the same thing assembled by hand: 2.5.29.17 is the sixth extension */
    der_buf w;
    der_buf_init(&w, 0);
    size_t m = der_begin(&w, DER_SEQUENCE);
    der_view keep[] = {c->version_tlv, c->serial_tlv, c->issuer, c->validity, c->subject, c->spki};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(keep); i++)
        der_put_bytes(&w, keep[i].p, keep[i].n);
    size_t ctx = der_begin(&w, DER_CTX_CONS(3));
    size_t seq = der_begin(&w, DER_SEQUENCE);
    for (size_t i = 0; i < c->ext_count; i++)
        if (i != 5)
            der_put_bytes(&w, c->exts[i].whole.p, c->exts[i].whole.n);
    der_end(&w, seq);
    der_end(&w, ctx);
    der_end(&w, m);
    uint8_t *want;
    size_t want_len;
    assert_int_equal(der_buf_finish(&w, &want, &want_len), QPKI_OK);
    assert_true(der_oid_eq(c->exts[5].oid, OID_CE_SUBJECT_ALT_NAME));
    assert_int_equal(len, want_len);
    assert_memory_equal(out, want, len);
    qpki_free(want);
    qpki_free(out);
    /* skipping the only extension drops [3] entirely */
    qpki_cert *ca = load_cert("ec-p256-ocsp.pem");
    parts p = parts_of(ca);
    der_view only = ca->exts[0].whole;
    p.exts = exts_of(&only, 1);
    size_t dlen;
    uint8_t *der = assemble(&p, &dlen);
    qpki_cert *one = NULL;
    assert_int_equal(qpki_cert_parse(der, dlen, &one), QPKI_OK);
    assert_int_equal(x509_cert_tbs_reencode(one, false, OID_CE_BASIC_CONSTRAINTS, &out, &len),
                     QPKI_OK);
    assert_int_equal(len, one->tbs.n - one->exts_tlv.n);
    qpki_free(out);
    qpki_cert_free(&one);
    qpki_free(der);
    qpki_cert_free(&ca);
    qpki_cert_free(&c);
}

/* ---- names: text ---------------------------------------------------------------------- */

static void check_name_text(const char *der_hex, const char *want)
{
    size_t n;
    uint8_t *der = tu_hex(der_hex, &n);
    char buf[512];
    assert_int_equal(qpki_name_to_text(der, n, buf, sizeof(buf)), QPKI_OK);
    assert_string_equal(buf, want);
    free(der);
}

static void test_name_text_escapes_rfc4514_specials(void **state)
{
    (void)state;
    /* CN=" #a,b+c;d<e>f\"g\\h " (leading space and '#', trailing space) */
    check_name_text("301d311b301906035504030c122023612c622b633b643c653e6622675c6820",
                    "CN=\\ #a\\,b\\+c\\;d\\<e\\>f\\\"g\\\\h\\ ");
    /* leading '#': CN=#x */
    check_name_text("300e310c300a06035504030c03237878", "CN=\\#xx");
    /* control characters as \XX: CN="a\nb" */
    check_name_text("300e310c300a06035504030c03610a62", "CN=a\\0Ab");
    /* empty Name */
    check_name_text("3000", "");
}

static void test_name_text_decodes_string_types(void **state)
{
    (void)state;
    /* UTF8String "Zürich", BMPString "Ω", TeletexString Latin-1 "é", IA5 "x@y" */
    check_name_text("303f"
                    "3110300e06035504070c075ac3bc72696368"
                    "310b300906035504031e0203a9"
                    "310a3008060355040a1401e9"
                    "3112301006092a864886f70d0109011603784079",
                    "emailAddress=x@y,O=\xc3\xa9,CN=\xce\xa9,L=Z\xc3\xbcrich");
    /* invalid UTF-8 in a UTF8String: shown as #hex of the whole value */
    check_name_text("300d310b300906035504030c02c328", "CN=#0C02C328");
    /* a value that is not a string (INTEGER) */
    check_name_text("300c310a3008060355040302012a", "CN=#02012A");
}

static void test_name_text_unknown_attribute_is_dotted_hex(void **state)
{
    (void)state;
    /* 1.2.3.4 = UTF8String "x", plus DC=example, UID=u1 */
    check_name_text("3040"
                    "310d300b06032a03040c0474657374"
                    "311b3019060a0992268993f22c640119160b6578616d706c652e636f6d"
                    "31123010060a0992268993f22c6401010c027531",
                    "UID=u1,DC=example.com,1.2.3.4=#0C0474657374");
}

static void test_name_text_multi_valued_rdn_like_openssl(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-leaf.pem");
    char buf[256];
    assert_int_equal(qpki_cert_subject_text(c, buf, sizeof(buf)), QPKI_OK);
    assert_string_equal(
        buf, "emailAddress=admin@example.com,CN=www.example.com+serialNumber=12345,O=QPKI Test\\, "
             "Inc.,C=FR");
    qpki_cert_free(&c);
}

static void test_name_text_buffer_too_small_is_reported(void **state)
{
    (void)state;
    qpki_cert *c = load_cert("ec-p256-ca.pem");
    char buf[16];
    assert_int_equal(qpki_cert_subject_text(c, buf, sizeof(buf)), QPKI_ERR_BUFFER_TOO_SMALL);
    assert_int_equal(strlen(buf), 15); /* truncated, terminated */
    size_t need = strlen(P256_CA_NAME) + 1;
    char *exact = malloc(need);
    assert_int_equal(qpki_cert_subject_text(c, exact, need), QPKI_OK);
    assert_int_equal(qpki_cert_subject_text(c, exact, need - 1), QPKI_ERR_BUFFER_TOO_SMALL);
    free(exact);
    qpki_cert_free(&c);
}

static void test_malformed_name_is_a_decode_error(void **state)
{
    (void)state;
    char buf[64];
    /* RDN SET empty */
    assert_int_equal(qpki_name_to_text((const uint8_t *)"\x30\x02\x31\x00", 4, buf, sizeof(buf)),
                     QPKI_ERR_DECODE);
    /* ATV without value */
    assert_int_equal(qpki_name_to_text((const uint8_t *)"\x30\x09\x31\x07\x30\x05\x06\x03\x55\x04\x03",
                                       11, buf, sizeof(buf)),
                     QPKI_ERR_TRUNCATED);
    /* trailing bytes after the Name */
    assert_int_equal(qpki_name_to_text((const uint8_t *)"\x30\x00\x00", 3, buf, sizeof(buf)),
                     QPKI_ERR_TRAILING_DATA);
}

/* ---- names: builder ------------------------------------------------------------------------- */

static void test_name_builder_uses_rfc5280_string_types(void **state)
{
    (void)state;
    qpki_name *n = NULL;
    assert_int_equal(qpki_name_new(&n), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_C, "FR"), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_O, "Acme"), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_SERIAL_NUMBER, "42"), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_EMAIL, "a@b"), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, "Zürich"), QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_name_encode(n, &der, &len), QPKI_OK);
    assert_view_hex(der, len,
                    "304f"
                    "310b3009060355040613024652"                 /* C PrintableString */
                    "310d300b060355040a0c0441636d65"             /* O UTF8String */
                    "310b3009060355040513023432"                 /* serialNumber Printable */
                    "3112301006092a864886f70d0109011603614062"   /* email IA5String */
                    "3110300e06035504030c075ac3bc72696368");     /* CN UTF8String */
    char text[128];
    assert_int_equal(qpki_name_to_text(der, len, text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "CN=Z\xc3\xbcrich,emailAddress=a@b,serialNumber=42,O=Acme,C=FR");
    qpki_free(der);
    qpki_name_free(&n);
    assert_null(n);
}

static void test_name_builder_rejects_bad_values(void **state)
{
    (void)state;
    qpki_name *n = NULL;
    assert_int_equal(qpki_name_new(&n), QPKI_OK);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_C, "FRA"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_C, "fr"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, ""), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_SERIAL_NUMBER, "a_b"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_EMAIL, "\xc3\xa9@x"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, "\xc3"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, "a\nb"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add(n, (qpki_name_attr)99, "x"), QPKI_ERR_INVALID_ARG);
    char cn[66];
    memset(cn, 'a', 65);
    cn[65] = '\0';
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, cn), QPKI_ERR_INVALID_ARG);
    cn[64] = '\0'; /* ub-common-name 64 */
    assert_int_equal(qpki_name_add(n, QPKI_NAME_CN, cn), QPKI_OK);
    assert_int_equal(qpki_name_add_oid(n, "1.2.x", "v"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_name_add_oid(n, "2.5.4.12", "Director"), QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_name_encode(n, &der, &len), QPKI_OK);
    char text[200];
    assert_int_equal(qpki_name_to_text(der, len, text, sizeof(text)), QPKI_OK);
    assert_non_null(strstr(text, "title=Director,CN=aaaa"));
    qpki_free(der);
    qpki_name_free(&n);
}

static void test_name_from_text_matches_openssl_encoding(void **state)
{
    (void)state;
    /* the CA fixture's subject, made by `openssl req -subj` with the same text */
    qpki_cert *c = load_cert("ec-p256-ca.pem");
    const uint8_t *want;
    size_t want_len;
    qpki_cert_subject_der(c, &want, &want_len);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_name_from_text("/C=FR/ST=Ile-de-France/L=Paris/O=QPKI Test, Inc./"
                                         "OU=PKI\\+Ops/CN=QPKI Test EC P-256 Root CA",
                                         &der, &len),
                     QPKI_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(der, want, len);
    qpki_free(der);
    /* its RFC 4514 text gives the same bytes back */
    char text[256];
    assert_int_equal(qpki_cert_subject_text(c, text, sizeof(text)), QPKI_OK);
    assert_int_equal(qpki_name_from_text(text, &der, &len), QPKI_OK);
    assert_int_equal(len, want_len);
    assert_memory_equal(der, want, len);
    qpki_free(der);
    /* spaces around separators, lower-case keys, hex escapes, a dotted OID */
    assert_int_equal(qpki_name_from_text(" cn = a\\2Cb , 2.5.4.12=#0c0178 , c=FR", &der, &len),
                     QPKI_OK);
    assert_int_equal(qpki_name_to_text(der, len, text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "CN=a\\,b,title=x,C=FR");
    qpki_free(der);
    assert_int_equal(qpki_name_from_text("", &der, &len), QPKI_OK);
    assert_view_hex(der, len, "3000");
    qpki_free(der);
    qpki_cert_free(&c);
}

static void test_name_from_text_rejects_bad_text(void **state)
{
    (void)state;
    uint8_t *der = NULL;
    size_t len;
    assert_int_equal(qpki_name_from_text("CN=a+O=b", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN=a,,O=b", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("XX=a", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("C=FRA", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN=a\\", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN=a\\00", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN=#0c02", &der, &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_name_from_text("CN=  ", &der, &len), QPKI_ERR_PARSE);
    assert_null(der);
    /* slash form: '+' and ',' are ordinary; a trailing '/' is tolerated */
    assert_int_equal(qpki_name_from_text("/O=a+b, c/CN=x/", &der, &len), QPKI_OK);
    char text[64];
    assert_int_equal(qpki_name_to_text(der, len, text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "CN=x,O=a\\+b\\, c");
    qpki_free(der);
}

/* ---- CSR reader ----------------------------------------------------------------------------- */

static void test_openssl_csr_parses_and_verifies(void **state)
{
    (void)state;
    qpki_csr *r = NULL;
    assert_int_equal(qpki_csr_load_file(tu_data_path("certs/ec-p256.csr"), &r), QPKI_OK);
    char text[256];
    assert_int_equal(qpki_csr_subject_text(r, text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "CN=csr.example.com,O=QPKI Test\\, Inc.,C=FR");
    assert_int_equal(qpki_csr_key_alg(r), QPKI_KEY_EC_P256);
    assert_int_equal(qpki_csr_sig_alg(r), QPKI_SIG_ECDSA_SHA256);
    assert_int_equal(qpki_csr_extension_count(r), 1);
    const uint8_t *p;
    size_t n;
    qpki_csr_subject_alt_name(r, &p, &n);
    /* DNS:csr.example.com, IP:198.51.100.7 */
    assert_view_hex(p, n, "3017820f6373722e6578616d706c652e636f6d8704c6336407");
    assert_int_equal(qpki_csr_verify_signature(r), QPKI_OK);
    /* the request's key is the leaf fixture's key */
    qpki_cert *leaf = load_cert("ec-p256-leaf.pem");
    const uint8_t *a, *b;
    size_t an, bn;
    qpki_csr_spki(r, &a, &an);
    qpki_cert_spki(leaf, &b, &bn);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    qpki_cert_free(&leaf);
    qpki_csr_free(&r);
    assert_null(r);

    assert_int_equal(qpki_csr_load_file(tu_data_path("certs/ed25519.csr"), &r), QPKI_OK);
    assert_int_equal(qpki_csr_key_alg(r), QPKI_KEY_ED25519);
    assert_int_equal(qpki_csr_sig_alg(r), QPKI_SIG_ED25519);
    assert_int_equal(qpki_csr_extension_count(r), 0);
    qpki_csr_subject_alt_name(r, &p, &n);
    assert_int_equal(n, 0);
    assert_int_equal(qpki_csr_verify_signature(r), QPKI_OK);
    qpki_csr_free(&r);
}

static void test_tampered_or_truncated_csr_fails(void **state)
{
    (void)state;
    qpki_csr *r = NULL;
    assert_int_equal(qpki_csr_load_file(tu_data_path("certs/ec-p256.csr"), &r), QPKI_OK);
    const uint8_t *p;
    size_t n;
    qpki_csr_der(r, &p, &n);
    uint8_t *copy = malloc(n + 1);
    memcpy(copy, p, n);
    qpki_csr_free(&r);
    /* change one character of the CN */
    uint8_t *cn = memmem(copy, n, "csr.example.com", 15);
    assert_non_null(cn);
    cn[0] = 'C';
    assert_int_equal(qpki_csr_parse(copy, n, &r), QPKI_OK);
    assert_int_equal(qpki_csr_verify_signature(r), QPKI_ERR_BAD_SIGNATURE);
    qpki_csr_free(&r);
    cn[0] = 'c';
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(qpki_csr_parse(copy, k, &r), QPKI_ERR_TRUNCATED);
        assert_null(r);
    }
    copy[n] = 0;
    assert_int_equal(qpki_csr_parse(copy, n + 1, &r), QPKI_ERR_TRAILING_DATA);
    /* version 1 does not exist in PKCS#10 */
    uint8_t *ver = memmem(copy, n, "\x02\x01\x00\x30", 4);
    assert_non_null(ver);
    ver[2] = 1;
    assert_int_equal(qpki_csr_parse(copy, n, &r), QPKI_ERR_BAD_VERSION);
    free(copy);
}

/* ---- builders (need a signer); checked by openssl -------------------------------------------- */

static char tmpdir[64];

static void write_pem(const char *name, const char *label, const uint8_t *der, size_t len)
{
    char *pem;
    size_t pem_len;
    assert_int_equal(pem_encode(label, der, len, &pem, &pem_len), QPKI_OK);
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(pem, 1, pem_len, f), pem_len);
    fclose(f);
    qpki_free(pem);
}

/* Run a shell command in the temporary directory; stdout and stderr captured. */
static char *run_in_tmp(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static char *run_in_tmp(int *status, const char *fmt, ...)
{
    char cmd[1024], inner[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(inner, sizeof(inner), fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof(cmd), "cd '%s' && %s 2>&1", tmpdir, inner);
    return tu_run(cmd, status);
}

static qpki_signer *load_signer(const char *key, qpki_sig_alg alg)
{
    char rel[128];
    snprintf(rel, sizeof(rel), "certs/%s", key);
    qpki_signer *s = NULL;
    qpki_status rc = alg == QPKI_SIG_UNKNOWN
                         ? qpki_signer_software_load(tu_data_path(rel), NULL, &s)
                         : qpki_signer_software_load_alg(tu_data_path(rel), NULL, alg, &s);
    if (rc != QPKI_OK)
        fail_msg("signer %s: %s", key, qpki_strerror(rc));
    return s;
}

#define T2020 1577836800 /* 2020-01-01 00:00:00Z -> UTCTime */
#define T2120 4733510400 /* 2120-01-01 00:00:00Z -> GeneralizedTime */

static uint8_t *name_der(const char *text, size_t *len)
{
    uint8_t *der = NULL;
    assert_int_equal(qpki_name_from_text(text, &der, len), QPKI_OK);
    return der;
}

typedef struct alg_case {
    const char *tag;
    const char *ca_key, *leaf_key;
    qpki_sig_alg alg;       /* QPKI_SIG_UNKNOWN: the key's default */
    qpki_sig_alg expect;    /* algorithm the certificates carry */
    const char *openssl_sig; /* as `openssl x509 -text` names it */
} alg_case;

static const alg_case alg_cases[] = {
    {"p256", "ec-p256-ca.key", "ec-p256-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_ECDSA_SHA256,
     "ecdsa-with-SHA256"},
    {"p384", "ec-p384-ca.key", "ec-p384-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_ECDSA_SHA384,
     "ecdsa-with-SHA384"},
    {"p521", "ec-p521-ca.key", "ec-p521-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_ECDSA_SHA512,
     "ecdsa-with-SHA512"},
    {"rsa", "rsa-ca.key", "rsa-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_RSA_PKCS1_SHA256,
     "sha256WithRSAEncryption"},
    {"pss", "rsa-ca.key", "rsa-pss-leaf.key", QPKI_SIG_RSA_PSS_SHA256, QPKI_SIG_RSA_PSS_SHA256,
     "rsassaPss"},
    {"ed25519", "ed25519-ca.key", "ed25519-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_ED25519,
     "ED25519"},
    {"ed448", "ed448-ca.key", "ed448-ocsp.key", QPKI_SIG_UNKNOWN, QPKI_SIG_ED448, "ED448"},
};

/* Build a CA, a TLS leaf, an OCSP responder certificate and a CSR with our code,
 * then let openssl verify them. */
static void build_and_check(const alg_case *a)
{
    qpki_signer *ca_signer = load_signer(a->ca_key, a->alg);
    qpki_signer *leaf_signer = load_signer(a->leaf_key, a->alg);
    const uint8_t *spki;
    size_t spki_len;
    uint8_t *ca_der, *leaf_der, *ocsp_der, *csr_der, *subj;
    size_t ca_len, leaf_len, ocsp_len, csr_len, subj_len;
    char text[128];

    /* the CA */
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    snprintf(text, sizeof(text), "/C=FR/O=QPKI Builder/CN=Builder Root %s", a->tag);
    subj = name_der(text, &subj_len);
    assert_int_equal(qpki_cert_builder_set_subject(b, subj, subj_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer(b, subj, subj_len), QPKI_OK);
    qpki_free(subj);
    assert_int_equal(qpki_cert_builder_set_random_serial(b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    assert_int_equal(qpki_signer_public_key(ca_signer, &spki, &spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, 0, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, KU_CA, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_authority_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_sign(b, ca_signer, &ca_der, &ca_len), QPKI_OK);
    const uint8_t *serial;
    size_t serial_len;
    qpki_cert_builder_serial(b, &serial, &serial_len);
    assert_int_equal(serial_len, 20);
    assert_true(serial[0] >= 0x01 && serial[0] <= 0x7f);
    qpki_cert_builder_free(&b);
    qpki_cert *ca = NULL;
    assert_int_equal(qpki_cert_parse(ca_der, ca_len, &ca), QPKI_OK);
    assert_int_equal(qpki_cert_version(ca), 3);
    assert_int_equal(qpki_cert_sig_alg(ca), a->expect);
    assert_int_equal(qpki_cert_not_before(ca), T2020);
    assert_int_equal(qpki_cert_not_after(ca), T2120);
    assert_true(qpki_cert_is_ca(ca));
    assert_int_equal(qpki_cert_path_len_constraint(ca), 0);
    assert_int_equal(qpki_cert_verify_signature(ca, ca), QPKI_OK);
    const uint8_t *ski, *aki;
    size_t ski_len, aki_len;
    qpki_cert_subject_key_id(ca, &ski, &ski_len);
    qpki_cert_authority_key_id(ca, &aki, &aki_len);
    assert_int_equal(ski_len, 20);
    assert_int_equal(aki_len, 20);
    assert_memory_equal(ski, aki, 20);

    /* a TLS leaf */
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer_cert(b, ca), QPKI_OK);
    subj = name_der("CN=www.example.org,O=QPKI Builder,C=FR", &subj_len);
    assert_int_equal(qpki_cert_builder_set_subject(b, subj, subj_len), QPKI_OK);
    qpki_free(subj);
    static const uint8_t serial_bytes[] = {0x00, 0x00, 0x9f, 0x01};
    assert_int_equal(qpki_cert_builder_set_serial(b, serial_bytes, sizeof(serial_bytes)), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    assert_int_equal(qpki_signer_public_key(leaf_signer, &spki, &spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, false, -1, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_key_usage(
                         b, QPKI_KU_DIGITAL_SIGNATURE | QPKI_KU_KEY_ENCIPHERMENT, true),
                     QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_SERVER_AUTH), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_CLIENT_AUTH), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "www.example.org"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "*.example.org"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_ip(b, "192.0.2.7"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_ip(b, "2001:db8::7"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_email(b, "ops@example.org"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_uri(b, "https://example.org/"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_aia_ocsp(b, "http://ocsp.example.org"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_aia_ca_issuers(b, "http://example.org/ca.crt"),
                     QPKI_OK);
    assert_int_equal(qpki_cert_builder_sign(b, ca_signer, &leaf_der, &leaf_len), QPKI_OK);
    /* the issuer check: the leaf key cannot sign as the CA */
    uint8_t *bad;
    size_t bad_len;
    assert_int_equal(qpki_cert_builder_sign(b, leaf_signer, &bad, &bad_len), QPKI_ERR_KEY_MISMATCH);
    qpki_cert_builder_free(&b);
    qpki_cert *leaf = NULL;
    assert_int_equal(qpki_cert_parse(leaf_der, leaf_len, &leaf), QPKI_OK);
    assert_int_equal(qpki_cert_verify_signature(leaf, ca), QPKI_OK);
    const uint8_t *p;
    size_t n;
    qpki_cert_serial(leaf, &p, &n);
    assert_view_hex(p, n, "009f01");
    qpki_cert_authority_key_id(leaf, &p, &n);
    assert_int_equal(n, 20);
    assert_memory_equal(p, ski, 20);
    assert_int_equal(qpki_cert_ext_key_usage_count(leaf), 2);
    assert_false(qpki_cert_has_ocsp_signing(leaf));

    /* an OCSP responder certificate (RFC 6960 §4.2.2.2) */
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer_cert(b, ca), QPKI_OK);
    subj = name_der("CN=ocsp.example.org,O=QPKI Builder,C=FR", &subj_len);
    assert_int_equal(qpki_cert_builder_set_subject(b, subj, subj_len), QPKI_OK);
    qpki_free(subj);
    static const uint8_t ocsp_serial[] = {0x10, 0x01};
    assert_int_equal(qpki_cert_builder_set_serial(b, ocsp_serial, sizeof(ocsp_serial)), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, QPKI_KU_DIGITAL_SIGNATURE, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_OCSP_SIGNING), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_ocsp_nocheck(b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_sign(b, ca_signer, &ocsp_der, &ocsp_len), QPKI_OK);
    qpki_cert_builder_free(&b);
    qpki_cert *ocsp = NULL;
    assert_int_equal(qpki_cert_parse(ocsp_der, ocsp_len, &ocsp), QPKI_OK);
    assert_true(qpki_cert_has_ocsp_signing(ocsp));
    assert_true(qpki_cert_has_ocsp_nocheck(ocsp));
    assert_int_equal(qpki_cert_verify_signature(ocsp, ca), QPKI_OK);

    /* a CSR for the leaf key */
    qpki_csr_builder *rb = NULL;
    assert_int_equal(qpki_csr_builder_new(&rb), QPKI_OK);
    subj = name_der("/C=FR/O=QPKI Builder/CN=csr.example.org", &subj_len);
    assert_int_equal(qpki_csr_builder_set_subject(rb, subj, subj_len), QPKI_OK);
    qpki_free(subj);
    assert_int_equal(qpki_csr_builder_add_san_dns(rb, "csr.example.org"), QPKI_OK);
    assert_int_equal(qpki_csr_builder_add_san_ip(rb, "198.51.100.9"), QPKI_OK);
    assert_int_equal(qpki_csr_builder_sign(rb, leaf_signer, &csr_der, &csr_len), QPKI_OK);
    qpki_csr_builder_free(&rb);
    qpki_csr *csr = NULL;
    assert_int_equal(qpki_csr_parse(csr_der, csr_len, &csr), QPKI_OK);
    assert_int_equal(qpki_csr_verify_signature(csr), QPKI_OK);
    assert_int_equal(qpki_csr_sig_alg(csr), a->expect);
    qpki_csr_subject_alt_name(csr, &p, &n);
    assert_view_hex(p, n, "3017820f6373722e6578616d706c652e6f72678704c6336409");

    /* ---- the oracle ---- */
    char name[64];
    snprintf(name, sizeof(name), "%s-ca.pem", a->tag);
    write_pem(name, "CERTIFICATE", ca_der, ca_len);
    snprintf(name, sizeof(name), "%s-leaf.pem", a->tag);
    write_pem(name, "CERTIFICATE", leaf_der, leaf_len);
    snprintf(name, sizeof(name), "%s-ocsp.pem", a->tag);
    write_pem(name, "CERTIFICATE", ocsp_der, ocsp_len);
    snprintf(name, sizeof(name), "%s.csr", a->tag);
    write_pem(name, "CERTIFICATE REQUEST", csr_der, csr_len);

    int status;
    char *out = run_in_tmp(&status, "openssl verify -x509_strict -CAfile %1$s-ca.pem %1$s-leaf.pem "
                           "%1$s-ocsp.pem", a->tag);
    char want[256];
    snprintf(want, sizeof(want), "%s-leaf.pem: OK\n%s-ocsp.pem: OK\n", a->tag, a->tag);
    if (status != 0 || strcmp(out, want) != 0)
        fail_msg("openssl verify (%s): %s", a->tag, out);
    free(out);

    out = run_in_tmp(&status, "openssl x509 -in %s-leaf.pem -noout -text", a->tag);
    assert_int_equal(status, 0);
    snprintf(want, sizeof(want), "Signature Algorithm: %s", a->openssl_sig);
    assert_non_null(strstr(out, want));
    assert_non_null(strstr(out, "Version: 3 (0x2)"));
    assert_non_null(strstr(out, "Serial Number: 40705 (0x9f01)"));
    assert_non_null(strstr(out, "Not Before: Jan  1 00:00:00 2020 GMT"));
    assert_non_null(strstr(out, "Not After : Jan  1 00:00:00 2120 GMT"));
    assert_non_null(strstr(out, "Subject: C = FR, O = QPKI Builder, CN = www.example.org"));
    assert_non_null(strstr(out, "X509v3 Basic Constraints: critical\n                CA:FALSE"));
    assert_non_null(strstr(out, "X509v3 Key Usage: critical\n                Digital Signature, "
                                "Key Encipherment"));
    assert_non_null(strstr(out, "X509v3 Extended Key Usage: \n                TLS Web Server "
                                "Authentication, TLS Web Client Authentication"));
    assert_non_null(strstr(out, "X509v3 Subject Alternative Name: \n                "
                                "DNS:www.example.org, DNS:*.example.org, IP Address:192.0.2.7, "
                                "IP Address:2001:DB8:0:0:0:0:0:7, email:ops@example.org, "
                                "URI:https://example.org/"));
    assert_non_null(strstr(out, "Authority Information Access: \n                OCSP - "
                                "URI:http://ocsp.example.org\n                CA Issuers - "
                                "URI:http://example.org/ca.crt"));
    assert_non_null(strstr(out, "X509v3 Subject Key Identifier"));
    assert_non_null(strstr(out, "X509v3 Authority Key Identifier"));
    free(out);

    out = run_in_tmp(&status, "openssl x509 -in %s-ocsp.pem -noout -ext extendedKeyUsage,noCheck,keyUsage", a->tag);
    assert_int_equal(status, 0);
    assert_string_equal(out, "X509v3 Key Usage: critical\n    Digital Signature\n"
                             "X509v3 Extended Key Usage: \n    OCSP Signing\n"
                             "OCSP No Check: \n\n"); /* as for openssl's own fixture */
    free(out);

    out = run_in_tmp(&status, "openssl x509 -in %s-ca.pem -noout -ext basicConstraints,keyUsage", a->tag);
    assert_int_equal(status, 0);
    assert_string_equal(out, "X509v3 Basic Constraints: critical\n    CA:TRUE, pathlen:0\n"
                             "X509v3 Key Usage: critical\n    Certificate Sign, CRL Sign\n");
    free(out);

    /* the OCSP responder is accepted for its purpose by openssl */
    out = run_in_tmp(&status, "openssl verify -purpose ocsphelper -CAfile %1$s-ca.pem %1$s-ocsp.pem", a->tag);
    assert_int_equal(status, 0);
    free(out);

    out = run_in_tmp(&status, "openssl req -in %s.csr -noout -verify -text", a->tag);
    if (status != 0 || !strstr(out, "Certificate request self-signature verify OK"))
        fail_msg("openssl req -verify (%s): %s", a->tag, out);
    assert_non_null(strstr(out, "Subject: C = FR, O = QPKI Builder, CN = csr.example.org"));
    if (!strstr(out, "Requested Extensions:\n                X509v3 Subject Alternative "
                     "Name: \n                    DNS:csr.example.org, IP Address:198.51.100.9"))
        fail_msg("openssl req -text (%s): %s", a->tag, out);
    free(out);

    qpki_csr_free(&csr);
    qpki_cert_free(&ocsp);
    qpki_cert_free(&leaf);
    qpki_cert_free(&ca);
    qpki_free(ca_der);
    qpki_free(leaf_der);
    qpki_free(ocsp_der);
    qpki_free(csr_der);
    qpki_signer_free(&ca_signer);
    qpki_signer_free(&leaf_signer);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/qpki-x509-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    if (getenv("QPKI_KEEP_TMP")) return 0;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    int status;
    free(tu_run(cmd, &status));
    return 0;
}

static void test_built_certificates_and_csr_pass_openssl(void **state)
{
    (void)state;
    for (size_t i = 0; i < QPKI_ARRAY_LEN(alg_cases); i++)
        build_and_check(&alg_cases[i]);
}

static void test_builder_encodes_exact_extension_values(void **state)
{
    (void)state;
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der("CN=t", &nlen);
    assert_int_equal(qpki_cert_builder_set_subject(b, name, nlen), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer(b, name, nlen), QPKI_OK);
    qpki_free(name);
    static const uint8_t serial[] = {0x01};
    assert_int_equal(qpki_cert_builder_set_serial(b, serial, 1), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    qpki_cert *fixture = load_cert("ed25519-ocsp.pem");
    const uint8_t *spki;
    size_t spki_len;
    qpki_cert_spki(fixture, &spki, &spki_len);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, 2, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, QPKI_KU_DIGITAL_SIGNATURE, false), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_ocsp_nocheck(b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    /* the fixture's SKI is method 1 too (openssl "hash") */
    uint8_t *tbs;
    size_t tbs_len;
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, NULL, 0, &tbs, &tbs_len),
                     QPKI_OK);
    const char *want_exts =
        "a3533051"
        "30120603551d130101ff040830060101ff020102" /* basicConstraints critical cA, 2 */
        "300b0603551d0f040403020780"               /* keyUsage digitalSignature */
        "300f06092b0601050507300105040205 00"      /* nocheck NULL */
        "301d0603551d0e04160414"
        "9280c7f7fd59f31ffa134f9b405d031f53ebf379"; /* SKI method 1 */
    char want[512];
    size_t w = 0;
    for (const char *s = want_exts; *s; s++)
        if (*s != ' ')
            want[w++] = *s;
    want[w] = '\0';
    const char *hex = hex_of(tbs + tbs_len - (w / 2), w / 2);
    assert_string_equal(hex, want);
    /* no signature field: version, serial, issuer... */
    assert_view_hex(tbs, 12, "3081c7a003020102020101" "30");
    qpki_free(tbs);

    /* every keyUsage bit, exactly as X.690 named bits */
    assert_int_equal(qpki_cert_builder_set_key_usage(b, QPKI_KU_DECIPHER_ONLY, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, "1.3.6.1.5.5.7.48.1.5", NULL, 0,
                                                  &tbs, &tbs_len),
                     QPKI_OK);
    assert_non_null(memmem(tbs, tbs_len, "\x03\x03\x07\x00\x80", 5));
    assert_null(memmem(tbs, tbs_len, OID_OCSP_NOCHECK.p, OID_OCSP_NOCHECK.n));
    qpki_free(tbs);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, 0, true), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_set_key_usage(b, 1u << 9, true), QPKI_ERR_INVALID_ARG);
    /* AKI from the signer needs the signer's key */
    assert_int_equal(qpki_cert_builder_set_authority_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, NULL, 0, &tbs, &tbs_len),
                     QPKI_ERR_INVALID_ARG);
    assert_null(tbs);
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, spki, spki_len, &tbs,
                                                  &tbs_len),
                     QPKI_OK);
    qpki_free(tbs);
    qpki_cert_free(&fixture);
    qpki_cert_builder_free(&b);
}

static void test_builder_rejects_bad_arguments(void **state)
{
    (void)state;
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    uint8_t zero[3] = {0, 0, 0};
    assert_int_equal(qpki_cert_builder_set_serial(b, zero, 3), QPKI_ERR_INVALID_ARG);
    uint8_t s20[20];
    memset(s20, 0xff, sizeof(s20));
    assert_int_equal(qpki_cert_builder_set_serial(b, s20, 20), QPKI_ERR_INVALID_ARG); /* 21 enc */
    s20[0] = 0x7f;
    assert_int_equal(qpki_cert_builder_set_serial(b, s20, 20), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, false, 0, true),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_set_validity(b, 10, 9), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_set_issuer(b, (const uint8_t *)"\x30\x02\x31\x00", 4),
                     QPKI_ERR_DECODE);
    assert_int_equal(qpki_cert_builder_set_spki(b, (const uint8_t *)"\x30\x00", 2),
                     QPKI_ERR_TRUNCATED);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "bad name"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "-a.example"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "a..example"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "a.example."), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_ip(b, "300.1.1.1"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_email(b, "nobody"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_san_uri(b, "/relative"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, "not.an.oid"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_OCSP_SIGNING), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_OCSP_SIGNING),
                     QPKI_ERR_EXISTS);
    /* raw extensions: one DER element, no duplicates */
    assert_int_equal(qpki_cert_builder_add_extension(b, "1.2.3", false,
                                                     (const uint8_t *)"\x05\x00\x05\x00", 4),
                     QPKI_ERR_TRAILING_DATA);
    assert_int_equal(qpki_cert_builder_add_extension(b, "1.2.3", false,
                                                     (const uint8_t *)"\x05\x00", 2),
                     QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_extension(b, "1.2.3", true,
                                                     (const uint8_t *)"\x05\x00", 2),
                     QPKI_ERR_EXISTS);
    assert_int_equal(qpki_cert_builder_add_extension(b, QPKI_OID_SUBJECT_ALT_NAME, false,
                                                     (const uint8_t *)"\x30\x03\x82\x01x", 5),
                     QPKI_OK);
    /* a raw SAN cannot be appended to */
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "x.example"), QPKI_ERR_EXISTS);
    assert_int_equal(qpki_cert_builder_remove_extension(b, "1.2.3"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_remove_extension(b, "1.2.3"), QPKI_ERR_NOT_FOUND);
    /* nothing set yet but a serial: cannot encode */
    uint8_t *der = NULL;
    size_t len;
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, NULL, 0, &der, &len),
                     QPKI_ERR_INVALID_ARG);
    qpki_cert_builder_free(&b);
    assert_null(b);
    qpki_cert_builder_free(NULL);
}

static void test_empty_subject_makes_san_critical(void **state)
{
    (void)state;
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "only.example"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject(b, (const uint8_t *)"\x30\x00", 2), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der("CN=i", &nlen);
    assert_int_equal(qpki_cert_builder_set_issuer(b, name, nlen), QPKI_OK);
    qpki_free(name);
    static const uint8_t serial[] = {0x05};
    assert_int_equal(qpki_cert_builder_set_serial(b, serial, 1), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    qpki_cert *fixture = load_cert("ed25519-ocsp.pem");
    const uint8_t *spki;
    size_t spki_len;
    qpki_cert_spki(fixture, &spki, &spki_len);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    uint8_t *tbs;
    size_t tbs_len;
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, NULL, 0, &tbs, &tbs_len),
                     QPKI_OK);
    /* Extension { 2.5.29.17, TRUE, OCTET STRING { SEQUENCE { [2] "only.example" } } } */
    assert_non_null(memmem(tbs, tbs_len, "\x30\x1a\x06\x03\x55\x1d\x11\x01\x01\xff\x04\x10\x30\x0e"
                                         "\x82\x0c" "only.example",
                           28));
    qpki_free(tbs);
    qpki_cert_free(&fixture);
    qpki_cert_builder_free(&b);
}

static void test_builder_copies_san_from_csr(void **state)
{
    (void)state;
    qpki_csr *r = NULL;
    assert_int_equal(qpki_csr_load_file(tu_data_path("certs/ec-p256.csr"), &r), QPKI_OK);
    const uint8_t *san;
    size_t san_len;
    qpki_csr_subject_alt_name(r, &san, &san_len);
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_dns(b, "first.example"), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_san_der(b, san, san_len), QPKI_OK);
    assert_int_equal(b->exts.san_count, 3);
    assert_view_hex(b->exts.san, b->exts.san_len,
                    "820d66697273742e6578616d706c65"
                    "820f6373722e6578616d706c652e636f6d8704c6336407");
    assert_int_equal(qpki_cert_builder_add_san_der(b, (const uint8_t *)"\x30\x00", 2),
                     QPKI_ERR_DECODE);
    qpki_cert_builder_free(&b);
    qpki_csr_free(&r);
}


/* ITU-T X.509 §9.8 (Catalyst): the alternative signature covers the TBS without
 * the signature field and without altSignatureValue.  What the builder signs
 * before adding 2.5.29.74 must equal what the reader re-encodes from the issued
 * certificate, so an ML-DSA signature made at issuance verifies afterwards. */
static void test_catalyst_tbs_from_builder_equals_reader_reencoding(void **state)
{
    (void)state;
    crypto_privkey *pq = NULL;
    assert_int_equal(crypto_privkey_generate(QPKI_KEY_ML_DSA_65, 0, &pq), QPKI_OK);
    qpki_signer *classic = load_signer("ec-p256-ca.key", QPKI_SIG_UNKNOWN);
    const uint8_t *spki;
    size_t spki_len;
    assert_int_equal(qpki_signer_public_key(classic, &spki, &spki_len), QPKI_OK);

    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der("CN=Hybrid Root,O=QPKI Builder", &nlen);
    assert_int_equal(qpki_cert_builder_set_subject(b, name, nlen), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer(b, name, nlen), QPKI_OK);
    qpki_free(name);
    assert_int_equal(qpki_cert_builder_set_random_serial(b), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki, spki_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, -1, true), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_subject_key_id(b, NULL, 0), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_authority_key_id(b, NULL, 0), QPKI_OK);
    der_view alt_spki = crypto_privkey_spki(pq);
    assert_int_equal(qpki_cert_builder_add_extension(b, QPKI_OID_ALT_SUBJECT_PUBLIC_KEY_INFO,
                                                     false, alt_spki.p, alt_spki.n),
                     QPKI_OK);
    size_t alg_len;
    const uint8_t *alg = crypto_sig_alg_der(QPKI_SIG_ML_DSA_65, &alg_len);
    assert_non_null(alg);
    assert_int_equal(qpki_cert_builder_add_extension(b, QPKI_OID_ALT_SIGNATURE_ALGORITHM, false,
                                                     alg, alg_len),
                     QPKI_OK);
    uint8_t *alt_tbs;
    size_t alt_tbs_len;
    assert_int_equal(qpki_cert_builder_encode_tbs(b, NULL, 0, QPKI_OID_ALT_SIGNATURE_VALUE, spki,
                                                  spki_len, &alt_tbs, &alt_tbs_len),
                     QPKI_OK);
    size_t sig_cap = crypto_privkey_max_sig_len(pq), sig_len = sig_cap;
    uint8_t *sig = malloc(sig_cap);
    assert_int_equal(crypto_sign(pq, QPKI_SIG_ML_DSA_65, alt_tbs, alt_tbs_len, sig, &sig_len),
                     QPKI_OK);
    /* altSignatureValue ::= BIT STRING */
    der_buf v;
    der_buf_init(&v, 0);
    der_put_bit_string(&v, sig, sig_len, 0);
    uint8_t *value;
    size_t value_len;
    assert_int_equal(der_buf_finish(&v, &value, &value_len), QPKI_OK);
    assert_int_equal(qpki_cert_builder_add_extension(b, QPKI_OID_ALT_SIGNATURE_VALUE, false, value,
                                                     value_len),
                     QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_cert_builder_sign(b, classic, &der, &len), QPKI_OK);

    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_cert_verify_signature(c, c), QPKI_OK);
    assert_int_equal(qpki_cert_extension_count(c), 6);
    uint8_t *again;
    size_t again_len;
    assert_int_equal(x509_cert_tbs_reencode(c, true, OID_CE_ALT_SIG_VALUE, &again, &again_len),
                     QPKI_OK);
    assert_int_equal(again_len, alt_tbs_len);
    assert_memory_equal(again, alt_tbs, alt_tbs_len);
    /* and the PQ signature checks from what the certificate carries */
    const uint8_t *x72, *x73, *x74;
    size_t n72, n73, n74;
    assert_int_equal(qpki_cert_find_extension(c, OID_CE_ALT_SPKI.p, OID_CE_ALT_SPKI.n, NULL, &x72,
                                              &n72),
                     QPKI_OK);
    assert_int_equal(qpki_cert_find_extension(c, OID_CE_ALT_SIG_ALG.p, OID_CE_ALT_SIG_ALG.n, NULL,
                                              &x73, &n73),
                     QPKI_OK);
    assert_int_equal(qpki_cert_find_extension(c, OID_CE_ALT_SIG_VALUE.p, OID_CE_ALT_SIG_VALUE.n,
                                              NULL, &x74, &n74),
                     QPKI_OK);
    der_cursor bc = der_cursor_init(x74, n74);
    der_view bits;
    unsigned unused;
    assert_int_equal(der_read_bit_string(&bc, &bits, &unused), QPKI_OK);
    assert_int_equal(crypto_verify_spki((der_view){x72, n72}, (der_view){x73, n73}, again,
                                        again_len, bits.p, bits.n),
                     QPKI_OK);
    again[again_len - 1] ^= 1;
    assert_int_equal(crypto_verify_spki((der_view){x72, n72}, (der_view){x73, n73}, again,
                                        again_len, bits.p, bits.n),
                     QPKI_ERR_BAD_SIGNATURE);
    qpki_free(again);
    qpki_cert_free(&c);
    qpki_free(der);
    qpki_free(value);
    free(sig);
    qpki_free(alt_tbs);
    qpki_cert_builder_free(&b);
    qpki_signer_free(&classic);
    crypto_privkey_free(&pq);
}

/* ---- Catalyst hybrid certificates and requests (ITU-T X.509 §9.8) ------------------------- */

static char *hex_alloc(const uint8_t *p, size_t n)
{
    char *out = malloc(2 * n + 1);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", p[i]);
    out[2 * n] = '\0';
    return out;
}

static void assert_bytes_hex(const uint8_t *p, size_t n, const char *want)
{
    char *got = hex_alloc(p, n);
    assert_string_equal(got, want);
    free(got);
}

static char *strcat_alloc(const char *const *pieces, size_t n)
{
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(pieces[i]);
    char *out = malloc(len);
    assert_non_null(out);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(out, pieces[i]);
    return out;
}

static void write_bytes(const char *name, const uint8_t *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

static der_view signer_spki(qpki_signer *s)
{
    der_view v;
    assert_int_equal(qpki_signer_public_key(s, &v.p, &v.n), QPKI_OK);
    return v;
}

/* A builder for subject = issuer = name, serial 01, 2020..2120, key = spki. */
static qpki_cert_builder *hybrid_builder(const char *name_text, der_view spki, der_view alt_spki)
{
    qpki_cert_builder *b = NULL;
    assert_int_equal(qpki_cert_builder_new(&b), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der(name_text, &nlen);
    assert_int_equal(qpki_cert_builder_set_subject(b, name, nlen), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_issuer(b, name, nlen), QPKI_OK);
    qpki_free(name);
    static const uint8_t serial[] = {0x01};
    assert_int_equal(qpki_cert_builder_set_serial(b, serial, 1), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_validity(b, T2020, T2120), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_spki(b, spki.p, spki.n), QPKI_OK);
    assert_int_equal(qpki_cert_builder_set_basic_constraints(b, true, -1, true), QPKI_OK);
    if (alt_spki.n)
        assert_int_equal(qpki_cert_builder_set_alt_spki(b, alt_spki.p, alt_spki.n), QPKI_OK);
    return b;
}

/* With a deterministic alternative algorithm (Ed25519) every byte of the
 * certificate except the classical ECDSA signature is fixed, so the rule can be
 * checked byte for byte: the alternative signature covers
 *   TBSCertificate - signature field - altSignatureValue extension,
 * with altSubjectPublicKeyInfo and altSignatureAlgorithm in it; the TBS the
 * classical key signs is that plus the signature field and altSignatureValue.
 * openssl checks the Ed25519 signature over the bytes assembled here. */
static void test_hybrid_certificate_signs_exact_bytes(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-ca.key", QPKI_SIG_UNKNOWN);
    qpki_signer *alt = load_signer("ed25519-ocsp.key", QPKI_SIG_UNKNOWN);
    der_view spki = signer_spki(classic), alt_spki = signer_spki(alt);
    assert_int_equal(spki.n, 91);
    assert_int_equal(alt_spki.n, 44);
    qpki_cert_builder *b = hybrid_builder("CN=H", spki, alt_spki);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);

    char *spki_hex = hex_alloc(spki.p, spki.n), *alt_hex = hex_alloc(alt_spki.p, alt_spki.n);
    const char *name = "300c310a300806035504030c0148";
    const char *validity = "3020170d3230303130313030303030305a"
                           "180f32313230303130313030303030305a";
    const char *bc = "300f0603551d130101ff040530030101ff";
    const char *alt_alg_ext = "300e0603551d490407300506032b6570";
    /* TBSCertificate without `signature` and without altSignatureValue: 251
     * octets of contents; [3] { SEQUENCE (86) { bc, altSPKI, altSigAlg } } */
    const char *alt_parts[] = {"3081fb", "a003020102", "020101", name, validity, name,
                               spki_hex, "a358", "3056", bc, "30330603551d48042c", alt_hex,
                               alt_alg_ext};
    char *want_alt = strcat_alloc(alt_parts, QPKI_ARRAY_LEN(alt_parts));
    uint8_t *alt_tbs;
    size_t alt_tbs_len;
    assert_int_equal(x509_cert_tbs_reencode(c, true, OID_CE_ALT_SIG_VALUE, &alt_tbs, &alt_tbs_len),
                     QPKI_OK);
    assert_bytes_hex(alt_tbs, alt_tbs_len, want_alt);

    /* altSignatureValue: BIT STRING of the 64-octet Ed25519 signature */
    const uint8_t *sig_alg, *sig;
    size_t sig_alg_len, sig_len;
    assert_int_equal(qpki_cert_alt_signature(c, &sig_alg, &sig_alg_len, &sig, &sig_len), QPKI_OK);
    assert_bytes_hex(sig_alg, sig_alg_len, "300506032b6570");
    assert_int_equal(sig_len, 64);
    char *sig_hex = hex_alloc(sig, sig_len);
    /* the whole TBSCertificate: 341 octets of contents, ecdsa-with-SHA256 after the
     * serial, altSignatureValue last */
    const char *full_parts[] = {"30820155", "a003020102", "020101", "300a06082a8648ce3d040302",
                                name, validity, name, spki_hex, "a381a5", "3081a2", bc,
                                "30330603551d48042c", alt_hex, alt_alg_ext,
                                "304a0603551d4a0443034100", sig_hex};
    char *want_tbs = strcat_alloc(full_parts, QPKI_ARRAY_LEN(full_parts));
    const uint8_t *tbs;
    size_t tbs_len;
    qpki_cert_tbs(c, &tbs, &tbs_len);
    assert_bytes_hex(tbs, tbs_len, want_tbs);
    const uint8_t *x72;
    size_t n72;
    assert_int_equal(qpki_cert_alt_spki(c, &x72, &n72), QPKI_OK);
    assert_bytes_hex(x72, n72, alt_hex);

    /* both signatures, ours and openssl's view of them */
    assert_int_equal(qpki_cert_verify_signature(c, c), QPKI_OK);
    /* self-issued: the issuer's alternative key is the certificate's own */
    assert_int_equal(qpki_cert_verify_alt_signature(c, c), QPKI_OK);
    write_bytes("alt_tbs.der", alt_tbs, alt_tbs_len);
    write_bytes("alt_sig.bin", sig, sig_len);
    write_pem("alt_pub.pem", "PUBLIC KEY", alt_spki.p, alt_spki.n);
    write_pem("hybrid.pem", "CERTIFICATE", der, len);
    int status;
    char *out = run_in_tmp(&status, "openssl pkeyutl -verify -pubin -inkey alt_pub.pem -rawin "
                                    "-in alt_tbs.der -sigfile alt_sig.bin");
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Signature Verified Successfully"));
    free(out);
    /* OpenSSL 3.0 does not know 2.5.29.72-74 and, as they are non-critical,
     * still verifies the classical signature */
    out = run_in_tmp(&status, "openssl verify -check_ss_sig -CAfile hybrid.pem hybrid.pem");
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "hybrid.pem: OK"));
    free(out);

    free(want_tbs);
    free(sig_hex);
    free(want_alt);
    free(spki_hex);
    free(alt_hex);
    qpki_free(alt_tbs);
    qpki_cert_free(&c);
    qpki_free(der);
    qpki_cert_builder_free(&b);
    qpki_signer_free(&alt);
    qpki_signer_free(&classic);
}

/* A Catalyst root (P-384 + ML-DSA-N) issues a Catalyst leaf (P-256 + ML-DSA-N) for
 * each parameter set; both signatures of both certificates verify. */
static void test_hybrid_chain_verifies_for_every_ml_dsa_set(void **state)
{
    (void)state;
    static const struct {
        qpki_key_alg alg;
        const char *oid_hex; /* altSignatureAlgorithm */
        size_t sig_len;
    } sets[] = {
        {QPKI_KEY_ML_DSA_44, "300b0609608648016503040311", 2420},
        {QPKI_KEY_ML_DSA_65, "300b0609608648016503040312", 3309},
        {QPKI_KEY_ML_DSA_87, "300b0609608648016503040313", 4627},
    };
    qpki_signer *root_classic = load_signer("ec-p384-ca.key", QPKI_SIG_UNKNOWN);
    qpki_signer *leaf_classic = load_signer("ec-p256-ocsp.key", QPKI_SIG_UNKNOWN);
    for (size_t i = 0; i < QPKI_ARRAY_LEN(sets); i++) {
        qpki_signer *root_pq = tu_generated_signer(sets[i].alg);
        qpki_signer *leaf_pq = tu_generated_signer(sets[i].alg);
        qpki_cert_builder *rb = hybrid_builder("CN=Hybrid Root", signer_spki(root_classic),
                                               signer_spki(root_pq));
        uint8_t *root_der, *leaf_der;
        size_t root_len, leaf_len;
        assert_int_equal(qpki_cert_builder_sign_hybrid(rb, root_classic, root_pq, &root_der,
                                                       &root_len),
                         QPKI_OK);
        qpki_cert *root = NULL, *leaf = NULL;
        assert_int_equal(qpki_cert_parse(root_der, root_len, &root), QPKI_OK);

        qpki_cert_builder *lb = NULL;
        assert_int_equal(qpki_cert_builder_new(&lb), QPKI_OK);
        size_t nlen;
        uint8_t *name = name_der("CN=ocsp.example", &nlen);
        assert_int_equal(qpki_cert_builder_set_subject(lb, name, nlen), QPKI_OK);
        qpki_free(name);
        assert_int_equal(qpki_cert_builder_set_issuer_cert(lb, root), QPKI_OK);
        assert_int_equal(qpki_cert_builder_set_random_serial(lb), QPKI_OK);
        assert_int_equal(qpki_cert_builder_set_validity(lb, T2020, T2120), QPKI_OK);
        der_view ls = signer_spki(leaf_classic), la = signer_spki(leaf_pq);
        assert_int_equal(qpki_cert_builder_set_spki(lb, ls.p, ls.n), QPKI_OK);
        assert_int_equal(qpki_cert_builder_set_alt_spki(lb, la.p, la.n), QPKI_OK);
        assert_int_equal(qpki_cert_builder_add_ext_key_usage(lb, QPKI_EKU_OCSP_SIGNING), QPKI_OK);
        /* the leaf's own keys cannot sign it: the root's key is required */
        uint8_t *bad;
        size_t bad_len;
        assert_int_equal(qpki_cert_builder_sign_hybrid(lb, leaf_classic, root_pq, &bad, &bad_len),
                         QPKI_ERR_KEY_MISMATCH);
        assert_int_equal(qpki_cert_builder_sign_hybrid(lb, root_classic, leaf_pq, &bad, &bad_len),
                         QPKI_ERR_KEY_MISMATCH);
        assert_null(bad);
        assert_int_equal(qpki_cert_builder_sign_hybrid(lb, root_classic, root_pq, &leaf_der,
                                                       &leaf_len),
                         QPKI_OK);
        assert_int_equal(qpki_cert_parse(leaf_der, leaf_len, &leaf), QPKI_OK);

        assert_int_equal(qpki_cert_verify_signature(root, root), QPKI_OK);
        assert_int_equal(qpki_cert_verify_alt_signature(root, root), QPKI_OK);
        assert_int_equal(qpki_cert_verify_signature(leaf, root), QPKI_OK);
        assert_int_equal(qpki_cert_verify_alt_signature(leaf, root), QPKI_OK);
        /* extensions in order, the Catalyst ones non-critical, .73/.74 last */
        size_t n = qpki_cert_extension_count(leaf);
        assert_int_equal(n, 5); /* AKI, altSPKI, EKU ... see below */
        static const char *const want_oids[] = {"551d23", "551d48", "551d25", "551d49", "551d4a"};
        for (size_t k = 0; k < n; k++) {
            const uint8_t *oid, *val;
            size_t oid_len, val_len;
            bool critical;
            assert_int_equal(qpki_cert_extension(leaf, k, &oid, &oid_len, &critical, &val,
                                                 &val_len),
                             QPKI_OK);
            assert_bytes_hex(oid, oid_len, want_oids[k]);
            assert_false(critical);
        }
        const uint8_t *alg, *sig;
        size_t alg_len, sig_len;
        assert_int_equal(qpki_cert_alt_signature(leaf, &alg, &alg_len, &sig, &sig_len), QPKI_OK);
        assert_bytes_hex(alg, alg_len, sets[i].oid_hex);
        assert_int_equal(sig_len, sets[i].sig_len);
        /* the leaf's alternative key is not the root's: the root does not verify
         * with the leaf as issuer (names differ), and a root copy with the leaf's
         * alternative key does not verify the leaf */
        assert_int_equal(qpki_cert_verify_alt_signature(leaf, leaf), QPKI_ERR_UNKNOWN_ISSUER);

        qpki_cert_free(&leaf);
        qpki_cert_free(&root);
        qpki_free(leaf_der);
        qpki_free(root_der);
        qpki_cert_builder_free(&lb);
        qpki_cert_builder_free(&rb);
        qpki_signer_free(&leaf_pq);
        qpki_signer_free(&root_pq);
    }
    qpki_signer_free(&leaf_classic);
    qpki_signer_free(&root_classic);
}

/* Re-assemble cert with its extension list replaced; the classical signature is
 * kept (and so no longer valid), which the alternative check ignores. */
static qpki_cert *with_extensions(const qpki_cert *c, const der_view *exts, size_t n,
                                  der_view tbs_alg)
{
    parts p = parts_of(c);
    p.exts = exts_of(exts, n);
    if (tbs_alg.n)
        p.tbs_alg = p.outer_alg = tbs_alg; /* RFC 5280 §4.1.1.2: the two must match */
    size_t len;
    uint8_t *der = assemble(&p, &len);
    qpki_cert *out = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &out), QPKI_OK);
    qpki_free(der);
    return out;
}

/* Extension TLV with a new value. */
static der_view extension_tlv(der_oid oid, const uint8_t *value, size_t len)
{
    static uint8_t *keep[4];
    static int k;
    der_buf b;
    der_buf_init(&b, 0);
    size_t e = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, oid);
    der_put_octet_string(&b, value, len);
    der_end(&b, e);
    uint8_t **slot = &keep[k++ & 3];
    qpki_free(*slot);
    size_t n;
    assert_int_equal(der_buf_finish(&b, slot, &n), QPKI_OK);
    return (der_view){*slot, n};
}

static void test_tampered_hybrid_certificate_fails_the_alt_check(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-ca.key", QPKI_SIG_UNKNOWN);
    qpki_signer *pq = tu_generated_signer(QPKI_KEY_ML_DSA_65);
    qpki_cert_builder *b = hybrid_builder("CN=Hybrid", signer_spki(classic), signer_spki(pq));
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, pq, &der, &len), QPKI_OK);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
    assert_int_equal(c->ext_count, 4); /* bc, .72, .73, .74 */
    der_view bc = c->exts[0].whole, x72 = c->exts[1].whole, x73 = c->exts[2].whole,
             x74 = c->exts[3].whole;
    der_view none = {NULL, 0};

    /* untouched re-assembly verifies */
    der_view all[] = {bc, x72, x73, x74};
    qpki_cert *t = with_extensions(c, all, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_OK);
    qpki_cert_free(&t);

    /* the `signature` field is not covered: another classical algorithm there
     * leaves the alternative signature valid (and breaks the classical one) */
    t = with_extensions(c, all, 4, V("\x30\x0a\x06\x08\x2a\x86\x48\xce\x3d\x04\x03\x03"));
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_OK);
    assert_int_equal(qpki_cert_verify_signature(t, c), QPKI_ERR_BAD_SIGNATURE);
    qpki_cert_free(&t);

    /* an extension that is covered: basicConstraints without the CA flag */
    der_view ee[] = {V("\x30\x0c\x06\x03\x55\x1d\x13\x01\x01\xff\x04\x02\x30\x00"), x72, x73, x74};
    t = with_extensions(c, ee, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_BAD_SIGNATURE);
    qpki_cert_free(&t);

    /* altSignatureAlgorithm is covered too: ML-DSA-44 named for an ML-DSA-65 key */
    static const uint8_t alg44[] = {0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                    0x65, 0x03, 0x04, 0x03, 0x11};
    der_view other_alg[] = {bc, x72, extension_tlv(OID_CE_ALT_SIG_ALG, alg44, sizeof(alg44)),
                            x74};
    t = with_extensions(c, other_alg, 4, none);
    assert_int_not_equal(qpki_cert_verify_alt_signature(t, c), QPKI_OK);
    qpki_cert_free(&t);

    /* one flipped bit in the signature */
    const uint8_t *sig;
    size_t sig_len;
    assert_int_equal(qpki_cert_alt_signature(c, NULL, NULL, &sig, &sig_len), QPKI_OK);
    uint8_t *flipped = malloc(sig_len + 1);
    flipped[0] = 0x00;
    memcpy(flipped + 1, sig, sig_len);
    flipped[100] ^= 0x01;
    der_buf bs;
    der_buf_init(&bs, 0);
    der_put_tlv(&bs, DER_BIT_STRING, flipped, sig_len + 1);
    uint8_t *bs_der;
    size_t bs_len;
    assert_int_equal(der_buf_finish(&bs, &bs_der, &bs_len), QPKI_OK);
    der_view bad_sig[] = {bc, x72, x73, extension_tlv(OID_CE_ALT_SIG_VALUE, bs_der, bs_len)};
    t = with_extensions(c, bad_sig, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_BAD_SIGNATURE);
    qpki_cert_free(&t);
    qpki_free(bs_der);
    /* the right signature, but a BIT STRING that claims one unused bit (the last
     * bit made zero so that the encoding itself is valid DER) */
    flipped[100] ^= 0x01;
    flipped[0] = 0x01;
    flipped[sig_len] &= 0xfe;
    der_buf_init(&bs, 0);
    der_put_tlv(&bs, DER_BIT_STRING, flipped, sig_len + 1);
    assert_int_equal(der_buf_finish(&bs, &bs_der, &bs_len), QPKI_OK);
    der_view unused[] = {bc, x72, x73, extension_tlv(OID_CE_ALT_SIG_VALUE, bs_der, bs_len)};
    t = with_extensions(c, unused, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_BAD_SIGNATURE);
    qpki_cert_free(&t);
    qpki_free(bs_der);
    free(flipped);

    /* altSignatureValue moved before altSignatureAlgorithm: the re-encoding keeps
     * the order, so the signed bytes are the same */
    der_view moved[] = {bc, x72, x74, x73};
    t = with_extensions(c, moved, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_OK);
    qpki_cert_free(&t);

    /* .73 without .74, .74 without .73: X.509 §9.8.3 wants both */
    der_view only73[] = {bc, x72, x73};
    t = with_extensions(c, only73, 3, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_DECODE);
    assert_int_equal(qpki_cert_alt_signature(t, NULL, NULL, NULL, NULL), QPKI_ERR_DECODE);
    qpki_cert_free(&t);
    der_view only74[] = {bc, x72, x74};
    t = with_extensions(c, only74, 3, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_DECODE);
    qpki_cert_free(&t);
    /* no alternative signature at all */
    der_view classic_only[] = {bc, x72};
    t = with_extensions(c, classic_only, 2, none);
    assert_int_equal(qpki_cert_verify_alt_signature(t, c), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_cert_alt_signature(t, NULL, NULL, NULL, NULL), QPKI_ERR_NOT_FOUND);
    /* an issuer without altSubjectPublicKeyInfo cannot check one */
    der_view no_alt_key[] = {bc, x73, x74};
    qpki_cert *keyless = with_extensions(c, no_alt_key, 3, none);
    assert_int_equal(qpki_cert_alt_spki(keyless, NULL, NULL), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_cert_verify_alt_signature(c, keyless), QPKI_ERR_KEY_MISMATCH);
    /* ... and a classical fixture is another issuer */
    qpki_cert *fixture = load_cert("ec-p256-ca.pem");
    assert_int_equal(qpki_cert_verify_alt_signature(c, fixture), QPKI_ERR_UNKNOWN_ISSUER);
    assert_int_equal(qpki_cert_verify_alt_signature(fixture, fixture), QPKI_ERR_NOT_FOUND);
    /* same name, another alternative key */
    qpki_signer *pq2 = tu_generated_signer(QPKI_KEY_ML_DSA_65);
    der_view x72b = signer_spki(pq2);
    der_view other_key[] = {bc, extension_tlv(OID_CE_ALT_SPKI, x72b.p, x72b.n), x73, x74};
    qpki_cert *impostor = with_extensions(c, other_key, 4, none);
    assert_int_equal(qpki_cert_verify_alt_signature(c, impostor), QPKI_ERR_BAD_SIGNATURE);
    qpki_cert_free(&impostor);
    qpki_signer_free(&pq2);
    qpki_cert_free(&fixture);
    qpki_cert_free(&keyless);
    qpki_cert_free(&t);
    assert_int_equal(qpki_cert_verify_alt_signature(NULL, c), QPKI_ERR_INVALID_ARG);

    qpki_cert_free(&c);
    qpki_free(der);
    qpki_cert_builder_free(&b);
    qpki_signer_free(&pq);
    qpki_signer_free(&classic);
}

static void test_hybrid_builder_rejects_bad_arguments(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-ca.key", QPKI_SIG_UNKNOWN);
    qpki_signer *alt = load_signer("ed25519-ocsp.key", QPKI_SIG_UNKNOWN);
    qpki_cert_builder *b = hybrid_builder("CN=H", signer_spki(classic), (der_view){NULL, 0});
    uint8_t *der = NULL;
    size_t len = 0;
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, NULL, &der, &len),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_cert_builder_sign_hybrid(NULL, classic, alt, &der, &len),
                     QPKI_ERR_INVALID_ARG);
    /* the alternative key must be a SubjectPublicKeyInfo */
    assert_int_equal(qpki_cert_builder_set_alt_spki(b, (const uint8_t *)"\x30\x00", 2),
                     QPKI_ERR_TRUNCATED);
    /* an altSignatureAlgorithm/Value added by hand would be signed twice */
    static const uint8_t alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
    assert_int_equal(qpki_cert_builder_add_extension(b, QPKI_OID_ALT_SIGNATURE_ALGORITHM, false,
                                                     alg, sizeof(alg)),
                     QPKI_OK);
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_ERR_EXISTS);
    assert_null(der);
    assert_int_equal(qpki_cert_builder_remove_extension(b, QPKI_OID_ALT_SIGNATURE_ALGORITHM),
                     QPKI_OK);
    /* without an alternative key of its own the result is still a valid
     * certificate: only its alternative signature, by the issuer */
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    qpki_cert *c = NULL;
    assert_int_equal(qpki_cert_parse(der, len, &c), QPKI_OK);
    assert_int_equal(qpki_cert_extension_count(c), 3);
    assert_int_equal(qpki_cert_alt_spki(c, NULL, NULL), QPKI_ERR_NOT_FOUND);
    qpki_cert_free(&c);
    qpki_free(der);
    /* a classical issuer certificate has no alternative key to sign with */
    qpki_cert *fixture = load_cert("ec-p256-ca.pem");
    assert_int_equal(qpki_cert_builder_set_issuer_cert(b, fixture), QPKI_OK);
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, alt, &der, &len),
                     QPKI_ERR_KEY_MISMATCH);
    qpki_cert_free(&fixture);
    qpki_cert_builder_free(&b);
    qpki_signer_free(&alt);
    qpki_signer_free(&classic);
}

/* Catalyst requests: Bouncy Castle's attribute layout; the alternative
 * signature covers the CertificationRequestInfo without the altSignatureValue
 * attribute; attributes sorted as DER SET OF. */
static void test_hybrid_csr_proves_both_keys(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-leaf.key", QPKI_SIG_UNKNOWN);
    qpki_signer *alt = load_signer("ed25519-ocsp.key", QPKI_SIG_UNKNOWN);
    der_view spki = signer_spki(classic), alt_spki = signer_spki(alt);
    qpki_csr_builder *b = NULL;
    assert_int_equal(qpki_csr_builder_new(&b), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der("CN=H", &nlen);
    assert_int_equal(qpki_csr_builder_set_subject(b, name, nlen), QPKI_OK);
    qpki_free(name);
    assert_int_equal(qpki_csr_builder_add_san_dns(b, "h.example"), QPKI_OK);
    uint8_t *der;
    size_t len;
    assert_int_equal(qpki_csr_builder_sign_hybrid(b, classic, alt, &der, &len), QPKI_OK);
    qpki_csr *r = NULL;
    assert_int_equal(qpki_csr_parse(der, len, &r), QPKI_OK);
    assert_int_equal(qpki_csr_verify_signature(r), QPKI_OK);
    assert_int_equal(qpki_csr_verify_alt_signature(r), QPKI_OK);
    const uint8_t *p;
    size_t n;
    assert_int_equal(qpki_csr_alt_spki(r, &p, &n), QPKI_OK);
    assert_int_equal(n, alt_spki.n);
    assert_memory_equal(p, alt_spki.p, n);
    qpki_csr_subject_alt_name(r, &p, &n);
    assert_bytes_hex(p, n, "300b8209682e6578616d706c65");

    /* The attributes, exactly, in X.690 §11.6 order (by encoding: 30 0e < 30 25 <
     * 30 33 < 30 4a):
     *   altSignatureAlgorithm { 2.5.29.73, SET { Ed25519 AlgorithmIdentifier } }
     *   extensionRequest      { SAN h.example }
     *   subjectAltPublicKeyInfo { 2.5.29.72, SET { SPKI } }
     *   altSignatureValue     { 2.5.29.74, SET { BIT STRING (64-octet signature) } } */
    char *spki_hex = hex_alloc(spki.p, spki.n), *alt_hex = hex_alloc(alt_spki.p, alt_spki.n);
    const char *a73 = "300e0603551d493107300506032b6570";
    const char *ext_req = "302506092a864886f70d01090e3118301630140603551d11040d300b8209682e6578"
                          "616d706c65";
    const char *a72 = "30330603551d48312c";
    const char *alt_parts[] = {"3081da", "020100", "300c310a300806035504030c0148", spki_hex,
                               "a06c", a73, ext_req, a72, alt_hex};
    char *want_alt = strcat_alloc(alt_parts, QPKI_ARRAY_LEN(alt_parts));
    uint8_t *alt_cri_der;
    size_t alt_cri_len;
    assert_int_equal(x509_csr_alt_cri(r, &alt_cri_der, &alt_cri_len), QPKI_OK);
    assert_bytes_hex(alt_cri_der, alt_cri_len, want_alt);
    char *sig_hex = hex_alloc(r->alt_sig.p, r->alt_sig.n);
    assert_int_equal(r->alt_sig.n, 64);
    const char *full_parts[] = {"30820127", "020100", "300c310a300806035504030c0148", spki_hex,
                                "a081b8", a73, ext_req, a72, alt_hex,
                                "304a0603551d4a3143034100", sig_hex};
    char *want_cri = strcat_alloc(full_parts, QPKI_ARRAY_LEN(full_parts));
    assert_bytes_hex(r->cri.p, r->cri.n, want_cri);

    /* openssl: the classical signature and the Ed25519 one over alt_cri */
    write_pem("hybrid.csr", "CERTIFICATE REQUEST", der, len);
    write_bytes("alt_cri.der", alt_cri_der, alt_cri_len);
    write_bytes("alt_cri.sig", r->alt_sig.p, r->alt_sig.n);
    write_pem("alt_pub.pem", "PUBLIC KEY", alt_spki.p, alt_spki.n);
    int status;
    char *out = run_in_tmp(&status, "openssl req -verify -noout -in hybrid.csr");
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "verify OK"));
    free(out);
    out = run_in_tmp(&status, "openssl pkeyutl -verify -pubin -inkey alt_pub.pem -rawin "
                              "-in alt_cri.der -sigfile alt_cri.sig");
    assert_int_equal(status, 0);
    assert_non_null(strstr(out, "Signature Verified Successfully"));
    free(out);

    /* tampering: a flipped bit of the alternative signature; an attribute dropped */
    uint8_t *copy = malloc(len);
    memcpy(copy, der, len);
    copy[(size_t)(r->alt_sig.p - r->der) + 10] ^= 0x04;
    qpki_csr *t = NULL;
    assert_int_equal(qpki_csr_parse(copy, len, &t), QPKI_OK);
    assert_int_equal(qpki_csr_verify_alt_signature(t), QPKI_ERR_BAD_SIGNATURE);
    assert_int_equal(qpki_csr_verify_signature(t), QPKI_ERR_BAD_SIGNATURE);
    qpki_csr_free(&t);
    free(copy);
    /* a plain request has none */
    qpki_csr *plain = NULL;
    assert_int_equal(qpki_csr_load_file(tu_data_path("certs/ec-p256.csr"), &plain), QPKI_OK);
    assert_int_equal(qpki_csr_verify_alt_signature(plain), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_csr_alt_spki(plain, NULL, NULL), QPKI_ERR_NOT_FOUND);
    qpki_csr_free(&plain);
    /* the key attribute alone (the signature attributes missing) is malformed */
    {
        der_buf w;
        der_buf_init(&w, 0);
        size_t seq = der_begin(&w, DER_SEQUENCE);
        size_t cri = der_begin(&w, DER_SEQUENCE);
        der_put_bytes(&w, r->version_tlv.p, r->version_tlv.n);
        der_put_bytes(&w, r->subject.p, r->subject.n);
        der_put_bytes(&w, r->spki.p, r->spki.n);
        size_t at = der_begin(&w, DER_CTX_CONS(0));
        size_t a = der_begin(&w, DER_SEQUENCE);
        der_put_oid(&w, OID_CE_ALT_SPKI);
        size_t set = der_begin(&w, DER_SET);
        der_put_bytes(&w, alt_spki.p, alt_spki.n);
        der_end(&w, set);
        der_end(&w, a);
        der_end(&w, at);
        der_end(&w, cri);
        der_put_bytes(&w, r->sig_alg.p, r->sig_alg.n);
        der_put_bit_string(&w, r->signature.p, r->signature.n, 0);
        der_end(&w, seq);
        uint8_t *partial;
        size_t partial_len;
        assert_int_equal(der_buf_finish(&w, &partial, &partial_len), QPKI_OK);
        assert_int_equal(qpki_csr_parse(partial, partial_len, &t), QPKI_OK);
        assert_int_equal(qpki_csr_alt_spki(t, NULL, NULL), QPKI_OK);
        assert_int_equal(qpki_csr_verify_alt_signature(t), QPKI_ERR_DECODE);
        qpki_csr_free(&t);
        qpki_free(partial);
    }

    free(want_cri);
    free(sig_hex);
    free(want_alt);
    free(spki_hex);
    free(alt_hex);
    qpki_free(alt_cri_der);
    qpki_csr_free(&r);
    qpki_free(der);
    qpki_csr_builder_free(&b);
    qpki_signer_free(&alt);
    qpki_signer_free(&classic);
}

static void test_hybrid_csr_with_ml_dsa_verifies(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p384-ocsp.key", QPKI_SIG_UNKNOWN);
    static const qpki_key_alg sets[] = {QPKI_KEY_ML_DSA_44, QPKI_KEY_ML_DSA_65,
                                        QPKI_KEY_ML_DSA_87};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(sets); i++) {
        qpki_signer *pq = tu_generated_signer(sets[i]);
        qpki_csr_builder *b = NULL;
        assert_int_equal(qpki_csr_builder_new(&b), QPKI_OK);
        size_t nlen;
        uint8_t *name = name_der("CN=hybrid.example", &nlen);
        assert_int_equal(qpki_csr_builder_set_subject(b, name, nlen), QPKI_OK);
        qpki_free(name);
        uint8_t *der;
        size_t len;
        assert_int_equal(qpki_csr_builder_sign_hybrid(b, classic, pq, &der, &len), QPKI_OK);
        qpki_csr *r = NULL;
        assert_int_equal(qpki_csr_parse(der, len, &r), QPKI_OK);
        assert_int_equal(qpki_csr_verify_signature(r), QPKI_OK);
        assert_int_equal(qpki_csr_verify_alt_signature(r), QPKI_OK);
        const uint8_t *p;
        size_t n;
        assert_int_equal(qpki_csr_alt_spki(r, &p, &n), QPKI_OK);
        der_view want = signer_spki(pq);
        assert_int_equal(n, want.n);
        assert_memory_equal(p, want.p, n);
        qpki_csr_free(&r);
        qpki_free(der);
        qpki_csr_builder_free(&b);
        qpki_signer_free(&pq);
    }
    qpki_signer_free(&classic);
}

/* ---- allocation failures ------------------------------------------------------------ */

/* Make the n-th allocation fail for n = 0, 1, ...: every step fails with
 * QPKI_ERR_NOMEM (never another error, a crash or a leak under ASan) until the
 * operation has all it needs, and then gives the normal result. */
static void test_allocation_failures_are_nomem(void **state)
{
    (void)state;
    size_t len;
    uint8_t *der = cert_der_copy("ec-p256-leaf.pem", &len);
    long n;
    for (n = 0;; n++) {
        qpki_cert *c = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_cert_parse(der, len, &c);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            assert_int_equal(qpki_cert_sig_alg(c), QPKI_SIG_ECDSA_SHA256);
            assert_int_equal(qpki_cert_extension_count(c), 7);
            qpki_cert_free(&c);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
        assert_null(c);
    }
    assert_true(n >= 3);
    free(der);

    size_t plen;
    uint8_t *pem = tu_read_file(tu_data_path("certs/ec-p256.csr"), &plen);
    for (n = 0;; n++) {
        qpki_csr *r = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_csr_parse_any(pem, plen, &r);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            assert_int_equal(qpki_csr_extension_count(r), 1);
            qpki_csr_free(&r);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
    }
    free(pem);

    for (n = 0;; n++) {
        uint8_t *name = NULL;
        size_t nlen;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_name_from_text("CN=x,O=y\\, z,C=FR", &name, &nlen);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            qpki_free(name);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
        assert_null(name);
    }

    qpki_cert *fixture = load_cert("ed25519-ocsp.pem");
    for (n = 0;; n++) {
        qpki_test_fail_alloc_after(n);
        qpki_cert_builder *b = NULL;
        uint8_t *tbs = NULL;
        size_t tbs_len;
        qpki_status rc = qpki_cert_builder_new(&b);
        const uint8_t *p;
        size_t pn;
        static const uint8_t serial[] = {0x42};
        if (rc == QPKI_OK) {
            qpki_cert_subject_der(fixture, &p, &pn);
            rc = qpki_cert_builder_set_subject(b, p, pn);
        }
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_set_issuer_cert(b, fixture);
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_set_serial(b, serial, 1);
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_set_validity(b, 1577836800, 4733510400);
        if (rc == QPKI_OK) {
            qpki_cert_spki(fixture, &p, &pn);
            rc = qpki_cert_builder_set_spki(b, p, pn);
        }
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_add_ext_key_usage(b, QPKI_EKU_OCSP_SIGNING);
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_add_san_dns(b, "a.example");
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_add_aia_ocsp(b, "http://o.example");
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_set_subject_key_id(b, NULL, 0);
        if (rc == QPKI_OK)
            rc = qpki_cert_builder_encode_tbs(b, NULL, 0, NULL, NULL, 0, &tbs, &tbs_len);
        qpki_test_fail_alloc_after(-1);
        qpki_cert_builder_free(&b);
        if (rc == QPKI_OK) {
            assert_true(tbs_len > 200);
            qpki_free(tbs);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
    }
    qpki_cert_free(&fixture);
}

/* Catalyst checks under allocation failure: every step is QPKI_ERR_NOMEM until
 * the check has what it needs, then the normal result. */
static void test_catalyst_checks_under_allocation_failure_are_nomem(void **state)
{
    (void)state;
    qpki_signer *classic = load_signer("ec-p256-ca.key", QPKI_SIG_UNKNOWN);
    qpki_signer *pq = tu_generated_signer(QPKI_KEY_ML_DSA_44);
    qpki_cert_builder *b = hybrid_builder("CN=H", signer_spki(classic), signer_spki(pq));
    uint8_t *der, *csr_der;
    size_t len, csr_len;
    assert_int_equal(qpki_cert_builder_sign_hybrid(b, classic, pq, &der, &len), QPKI_OK);
    qpki_csr_builder *cb = NULL;
    assert_int_equal(qpki_csr_builder_new(&cb), QPKI_OK);
    size_t nlen;
    uint8_t *name = name_der("CN=H", &nlen);
    assert_int_equal(qpki_csr_builder_set_subject(cb, name, nlen), QPKI_OK);
    qpki_free(name);
    assert_int_equal(qpki_csr_builder_sign_hybrid(cb, classic, pq, &csr_der, &csr_len), QPKI_OK);
    long n;
    for (n = 0;; n++) {
        qpki_cert *c = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_cert_parse(der, len, &c);
        if (rc == QPKI_OK)
            rc = qpki_cert_verify_alt_signature(c, c);
        qpki_test_fail_alloc_after(-1);
        qpki_cert_free(&c);
        if (rc == QPKI_OK)
            break;
        assert_int_equal(rc, QPKI_ERR_NOMEM);
    }
    assert_true(n >= 3);
    for (n = 0;; n++) {
        qpki_csr *r = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_csr_parse(csr_der, csr_len, &r);
        if (rc == QPKI_OK)
            rc = qpki_csr_verify_alt_signature(r);
        qpki_test_fail_alloc_after(-1);
        qpki_csr_free(&r);
        if (rc == QPKI_OK)
            break;
        assert_int_equal(rc, QPKI_ERR_NOMEM);
    }
    assert_true(n >= 2);
    qpki_free(csr_der);
    qpki_csr_builder_free(&cb);
    qpki_free(der);
    qpki_cert_builder_free(&b);
    qpki_signer_free(&pq);
    qpki_signer_free(&classic);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_fixture_field_matches_openssl),
        cmocka_unit_test(test_every_fixture_agrees_with_openssl_at_run_time),
        cmocka_unit_test(test_leaf_extensions_are_decoded_and_kept_raw),
        cmocka_unit_test(test_unknown_critical_extension_is_kept_not_rejected),
        cmocka_unit_test(test_views_point_into_the_certificate_bytes),
        cmocka_unit_test(test_der_and_pem_inputs_give_the_same_certificate),
        cmocka_unit_test(test_pem_file_with_key_first_gives_the_certificate),
        cmocka_unit_test(test_missing_file_is_not_found),
        cmocka_unit_test(test_validity_bounds_are_inclusive),
        cmocka_unit_test(test_null_arguments_are_rejected),
        cmocka_unit_test(test_every_fixture_signature_verifies),
        cmocka_unit_test(test_flipped_bit_in_tbs_or_signature_is_bad_signature),
        cmocka_unit_test(test_wrong_issuer_is_unknown_issuer),
        cmocka_unit_test(test_reassembled_fixture_parses_identically),
        cmocka_unit_test(test_issuer_name_with_another_key_is_bad_signature),
        cmocka_unit_test(test_truncation_at_every_length_is_truncated),
        cmocka_unit_test(test_truncated_contents_inside_a_valid_outer_length_fail),
        cmocka_unit_test(test_trailing_bytes_and_wrong_outer_tag_are_rejected),
        cmocka_unit_test(test_oversized_input_is_too_large),
        cmocka_unit_test(test_duplicate_extension_is_a_decode_error),
        cmocka_unit_test(test_version_rules_are_enforced),
        cmocka_unit_test(test_serials_are_kept_exactly_within_the_cap),
        cmocka_unit_test(test_signature_algorithm_mismatch_is_rejected),
        cmocka_unit_test(test_unknown_signature_algorithm_parses_as_unknown),
        cmocka_unit_test(test_extension_encoding_rules),
        cmocka_unit_test(test_more_than_the_extension_cap_is_limit),
        cmocka_unit_test(test_explicit_v1_fixture_has_no_extensions),
        cmocka_unit_test(test_tbs_reencoding_is_identity_and_can_skip),
        cmocka_unit_test(test_name_text_escapes_rfc4514_specials),
        cmocka_unit_test(test_name_text_decodes_string_types),
        cmocka_unit_test(test_name_text_unknown_attribute_is_dotted_hex),
        cmocka_unit_test(test_name_text_multi_valued_rdn_like_openssl),
        cmocka_unit_test(test_name_text_buffer_too_small_is_reported),
        cmocka_unit_test(test_malformed_name_is_a_decode_error),
        cmocka_unit_test(test_name_builder_uses_rfc5280_string_types),
        cmocka_unit_test(test_name_builder_rejects_bad_values),
        cmocka_unit_test(test_name_from_text_matches_openssl_encoding),
        cmocka_unit_test(test_name_from_text_rejects_bad_text),
        cmocka_unit_test(test_openssl_csr_parses_and_verifies),
        cmocka_unit_test(test_tampered_or_truncated_csr_fails),
        cmocka_unit_test(test_builder_encodes_exact_extension_values),
        cmocka_unit_test(test_builder_rejects_bad_arguments),
        cmocka_unit_test(test_empty_subject_makes_san_critical),
        cmocka_unit_test(test_builder_copies_san_from_csr),
        cmocka_unit_test(test_catalyst_tbs_from_builder_equals_reader_reencoding),
        cmocka_unit_test(test_allocation_failures_are_nomem),
        cmocka_unit_test_setup_teardown(test_built_certificates_and_csr_pass_openssl,
                                        make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_hybrid_certificate_signs_exact_bytes, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test(test_hybrid_chain_verifies_for_every_ml_dsa_set),
        cmocka_unit_test(test_tampered_hybrid_certificate_fails_the_alt_check),
        cmocka_unit_test(test_hybrid_builder_rejects_bad_arguments),
        cmocka_unit_test_setup_teardown(test_hybrid_csr_proves_both_keys, make_tmpdir,
                                        remove_tmpdir),
        cmocka_unit_test(test_hybrid_csr_with_ml_dsa_verifies),
        cmocka_unit_test(test_catalyst_checks_under_allocation_failure_are_nomem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
