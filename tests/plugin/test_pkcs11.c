/* SPDX-License-Identifier: Apache-2.0 */
/* tests/plugin/test_pkcs11.c - the PKCS#11 plugin against a fresh SoftHSM2 token.
 *
 * Run by run_pkcs11.sh, which creates the token and its keys (pkcs11-tool) and
 * passes: P11T_DIR (scratch directory), P11T_MODULE (SoftHSM2), P11T_FAULTY
 * (tests/plugin/faulty_p11.c), P11T_TOKEN, P11T_PIN, P11T_SLOT, P11T_SERIAL,
 * HSM_PIN, SOFTHSM2_CONF and QPKI_PLUGIN_DIR.
 *
 * Signatures are checked by openssl (an independent implementation) with the
 * public key we report, and that public key against pkcs11-tool's export. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <qpki/plugin.h>

#include "crypto/crypto.h"
#include "testutil.h"

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

static const char *dir, *module, *faulty, *token, *pin, *slot_id, *serial;

/* ---- helpers ---------------------------------------------------------------- */

/* Last occurrence of needle in hay. */
static char *strrstr_compat(char *hay, const char *needle)
{
    char *last = NULL;
    for (char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        last = p;
    assert_non_null(last);
    return last;
}

static const char *path_in_dir(const char *name)
{
    static char buf[8][1024];
    static int next;
    char *p = buf[next++ % 8];
    snprintf(p, 1024, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static const char *write_yaml(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static const char *write_yaml(const char *name, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    const char *path = path_in_dir(name);
    write_file(path, text, strlen(text));
    return path;
}

/* hsm.yaml on SoftHSM2 directly, and through the fault-injecting module. */
static const char *cfg_softhsm(void)
{
    return write_yaml("softhsm.yaml",
                      "# SoftHSM2, as in QPKI's examples/hsm/softhsm2.yaml\n"
                      "type: pkcs11\n"
                      "pkcs11:\n"
                      "  lib: %s\n"
                      "  token: \"%s\"\n"
                      "  pin_env: HSM_PIN\n",
                      module, token);
}

static const char *cfg_faulty(void)
{
    return write_yaml("faulty.yaml", "type: pkcs11\npkcs11:\n  lib: %s\n  token: %s\n", faulty,
                      token);
}

static qpki_signer *open_key(const char *cfg, const char *label, const char *id_hex,
                             qpki_sig_alg alg)
{
    char err[1024];
    qpki_signer *s = NULL;
    qpki_status rc = qpki_signer_plugin_load_alg(NULL, cfg, label, id_hex, NULL, 0, alg, &s, err,
                                                 sizeof err);
    if (rc != QPKI_OK)
        fail_msg("loading %s/%s: %s: %s", label ? label : "-", id_hex ? id_hex : "-",
                 qpki_strerror(rc), err);
    return s;
}

static qpki_status open_err(const char *cfg, const char *label, const char *id_hex,
                            qpki_sig_alg alg, char *err, size_t errlen)
{
    qpki_signer *s = NULL;
    qpki_status rc = qpki_signer_plugin_load_alg(NULL, cfg, label, id_hex, NULL, 0, alg, &s, err,
                                                 errlen);
    if (rc == QPKI_OK)
        qpki_signer_free(&s);
    else
        assert_null(s);
    return rc;
}

static void random_message(uint8_t *msg, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        msg[i] = (uint8_t)((i * 131u + seed * 7919u) >> 3);
}

/* openssl's verdict on sig over msg with the DER SubjectPublicKeyInfo spki. */
static bool openssl_verifies(const uint8_t *spki, size_t spki_len, qpki_sig_alg alg,
                             const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                             size_t sig_len)
{
    const char *spki_path = path_in_dir("v-spki.der"), *pem = path_in_dir("v-pub.pem");
    const char *msg_path = path_in_dir("v-msg.bin"), *sig_path = path_in_dir("v-sig.bin");
    write_file(spki_path, spki, spki_len);
    write_file(msg_path, msg, msg_len);
    write_file(sig_path, sig, sig_len);
    char cmd[4096];
    int st = -1;
    snprintf(cmd, sizeof cmd, "openssl pkey -pubin -inform DER -in %s -out %s 2>&1", spki_path,
             pem);
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    const char *md = "sha256", *pss = "";
    switch (alg) {
    case QPKI_SIG_ECDSA_SHA384: case QPKI_SIG_RSA_PKCS1_SHA384: md = "sha384"; break;
    case QPKI_SIG_ECDSA_SHA512: case QPKI_SIG_RSA_PKCS1_SHA512: md = "sha512"; break;
    case QPKI_SIG_RSA_PSS_SHA256:
        pss = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32 -sigopt rsa_mgf1_md:sha256";
        break;
    case QPKI_SIG_RSA_PSS_SHA384:
        md = "sha384";
        pss = "-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:48 -sigopt rsa_mgf1_md:sha384";
        break;
    default: break;
    }
    if (alg == QPKI_SIG_ED25519 || alg == QPKI_SIG_ED448)
        snprintf(cmd, sizeof cmd,
                 "openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s 2>&1", pem,
                 msg_path, sig_path);
    else
        snprintf(cmd, sizeof cmd, "openssl dgst -%s %s -verify %s -signature %s %s 2>&1", md, pss,
                 pem, sig_path, msg_path);
    char *out = tu_run(cmd, &st);
    bool ok = st == 0 && out &&
              (strstr(out, "Verified OK") || strstr(out, "Signature Verified Successfully"));
    free(out);
    return ok;
}

/* Sign three messages with s and have openssl verify each; a flipped bit must
 * fail (so the oracle is not vacuous).  Returns the last signature length. */
static size_t sign_and_verify(qpki_signer *s, qpki_sig_alg alg)
{
    const uint8_t *spki = NULL;
    size_t spki_len = 0, sig_len = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    size_t cap = qpki_signer_max_signature_size(s);
    uint8_t *sig = malloc(cap);
    assert_non_null(sig);
    for (unsigned i = 0; i < 3; i++) {
        uint8_t msg[300];
        random_message(msg, sizeof msg - i * 100, i + 1);
        sig_len = cap;
        assert_int_equal(qpki_signer_sign(s, msg, sizeof msg - i * 100, sig, &sig_len), QPKI_OK);
        assert_true(sig_len <= cap);
        assert_true(openssl_verifies(spki, spki_len, alg, msg, sizeof msg - i * 100, sig,
                                     sig_len));
        if (i == 0) {
            sig[sig_len / 2] ^= 0x01;
            assert_false(openssl_verifies(spki, spki_len, alg, msg, sizeof msg, sig, sig_len));
        }
    }
    free(sig);
    return sig_len;
}

static void assert_alg_der(qpki_signer *s, const char *hex)
{
    size_t want_len = 0;
    uint8_t *want = tu_hex(hex, &want_len);
    const uint8_t *alg = NULL;
    size_t alg_len = 0;
    assert_int_equal(qpki_signer_algorithm(s, &alg, &alg_len), QPKI_OK);
    assert_int_equal(alg_len, want_len);
    assert_memory_equal(alg, want, want_len);
    /* The same bytes as the library's own signers write (lib/crypto). */
    size_t lib_len = 0;
    const uint8_t *lib = crypto_sig_alg_der(qpki_signer_sig_alg(s), &lib_len);
    assert_non_null(lib);
    assert_int_equal(lib_len, want_len);
    assert_memory_equal(lib, want, want_len);
    free(want);
}

/* pkcs11-tool's DER export of the public key with CKA_ID id. */
static uint8_t *pkcs11_tool_public_key(const char *id, size_t *len)
{
    const char *out = path_in_dir("p11tool-pub.der");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "pkcs11-tool --module %s --token-label %s --read-object --type pubkey --id %s "
             "-o %s >/dev/null 2>&1", module, token, id, out);
    int st = -1;
    free(tu_run(cmd, &st));
    assert_int_equal(st, 0);
    uint8_t *der = tu_read_file(out, len);
    assert_non_null(der);
    return der;
}

static void assert_spki_equals_pkcs11_tool(qpki_signer *s, const char *id)
{
    size_t want_len = 0;
    uint8_t *want = pkcs11_tool_public_key(id, &want_len);
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    assert_int_equal(spki_len, want_len);
    assert_memory_equal(spki, want, want_len);
    free(want);
}

/* The public-key object's CKA_EC_POINT as pkcs11-tool lists it (an independent
 * reader for curves whose SPKI export pkcs11-tool 0.23 cannot do), compared with
 * the point at the end of our SubjectPublicKeyInfo. */
static void assert_spki_point_equals_token(const uint8_t *spki, size_t spki_len, const char *id)
{
    char cmd[2048], needle[64];
    snprintf(cmd, sizeof cmd, "pkcs11-tool --module %s --token-label %s -O --type pubkey 2>/dev/null",
             module, token);
    int st = -1;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    snprintf(needle, sizeof needle, "\n  ID:         %s\n", id);
    char *hit = strstr(out, needle);
    assert_non_null(hit);
    *hit = '\0';
    char *block = strrstr_compat(out, "Public Key Object");
    char *ec = strstr(block, "EC_POINT:");
    assert_non_null(ec);
    ec += strlen("EC_POINT:");
    while (*ec == ' ')
        ec++;
    char hex[2048];
    size_t n = 0;
    while (n + 1 < sizeof hex && ((*ec >= '0' && *ec <= '9') || (*ec >= 'a' && *ec <= 'f')))
        hex[n++] = *ec++;
    hex[n] = '\0';
    size_t der_len = 0;
    uint8_t *der = tu_hex(hex, &der_len);
    /* OCTET STRING wrapping (short or 0x81 long form). */
    assert_int_equal(der[0], 0x04);
    size_t hdr = der[1] == 0x81 ? 3 : 2;
    size_t point_len = der_len - hdr;
    assert_true(spki_len > point_len + 1);
    assert_int_equal(spki[spki_len - point_len - 1], 0x00); /* BIT STRING unused bits */
    assert_memory_equal(spki + spki_len - point_len, der + hdr, point_len);
    free(der);
    free(out);
}

/* In-process P-256 verification (wolfSSL) for the many-signature tests. */
static bool p256_verifies(const uint8_t *spki, size_t spki_len, const uint8_t *msg,
                          size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    ecc_key key;
    uint8_t h[32];
    int res = 0;
    if (spki_len != 91 || wc_Sha256Hash(msg, (word32)msg_len, h) != 0 || wc_ecc_init(&key) != 0)
        return false;
    bool ok = wc_ecc_import_x963_ex(spki + 26, 65, &key, ECC_SECP256R1) == 0 &&
              wc_ecc_verify_hash(sig, (word32)sig_len, h, 32, &res, &key) == 0 && res == 1;
    wc_ecc_free(&key);
    return ok;
}

/* ---- signing with each kind of token key ------------------------------------------ */

static void test_p256_key_signs_ecdsa_sha256_that_openssl_verifies(void **state)
{
    (void)state;
    qpki_signer *s = open_key(cfg_softhsm(), "ec-p256", NULL, QPKI_SIG_UNKNOWN);
    /* RFC 5758 §3.2: ecdsa-with-SHA256, parameters absent. */
    assert_alg_der(s, "300a06082a8648ce3d040302");
    assert_int_equal(qpki_signer_sig_alg(s), QPKI_SIG_ECDSA_SHA256);
    assert_int_equal(qpki_signer_max_signature_size(s), 72);
    size_t len = sign_and_verify(s, QPKI_SIG_ECDSA_SHA256);
    assert_true(len >= 8 && len <= 72);
    assert_int_equal(qpki_signer_health(s), QPKI_OK);
    assert_spki_equals_pkcs11_tool(s, "01");
    qpki_signer_free(&s);
}

static void test_p384_key_found_by_id_alone_signs_ecdsa_sha384(void **state)
{
    (void)state;
    qpki_signer *s = open_key(cfg_softhsm(), NULL, "02", QPKI_SIG_UNKNOWN);
    assert_alg_der(s, "300a06082a8648ce3d040303");
    assert_int_equal(qpki_signer_max_signature_size(s), 104);
    sign_and_verify(s, QPKI_SIG_ECDSA_SHA384);
    const uint8_t *spki = NULL;
    size_t n = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &n), QPKI_OK);
    assert_int_equal(n, 120); /* RFC 5480: 30 76 30 10 <ecPublicKey> <secp384r1> 03 62 00 04.. */
    assert_memory_equal(spki, "\x30\x76\x30\x10\x06\x07\x2a\x86\x48\xce\x3d\x02\x01"
                              "\x06\x05\x2b\x81\x04\x00\x22\x03\x62\x00\x04", 24);
    assert_spki_point_equals_token(spki, n, "02");
    qpki_signer_free(&s);
}

static void test_rsa_2048_key_signs_pkcs1_v15_with_sha256_sha384_sha512(void **state)
{
    (void)state;
    static const struct {
        qpki_sig_alg alg;
        const char *der;
    } cases[] = {
        /* RFC 4055 §5: parameters MUST be present and MUST be NULL. */
        {QPKI_SIG_RSA_PKCS1_SHA256, "300d06092a864886f70d01010b0500"},
        {QPKI_SIG_RSA_PKCS1_SHA384, "300d06092a864886f70d01010c0500"},
        {QPKI_SIG_RSA_PKCS1_SHA512, "300d06092a864886f70d01010d0500"},
    };
    for (size_t i = 0; i < 3; i++) {
        qpki_signer *s = open_key(cfg_softhsm(), "rsa-2048", NULL,
                                  i == 0 ? QPKI_SIG_UNKNOWN : cases[i].alg);
        assert_alg_der(s, cases[i].der);
        assert_int_equal(qpki_signer_max_signature_size(s), 256);
        assert_int_equal(sign_and_verify(s, cases[i].alg), 256);
        if (i == 0)
            assert_spki_equals_pkcs11_tool(s, "03");
        qpki_signer_free(&s);
    }
}

static void test_rsa_2048_key_signs_pss_with_full_parameters(void **state)
{
    (void)state;
    qpki_signer *s = open_key(cfg_softhsm(), "rsa-2048", "03", QPKI_SIG_RSA_PSS_SHA256);
    /* RFC 4055 §3.1 RSASSA-PSS-params: SHA-256, MGF1-SHA-256, salt 32, trailer
     * field default (omitted). */
    assert_alg_der(s, "304106092a864886f70d01010a3034a00f300d06096086480165030402010500"
                      "a11c301a06092a864886f70d010108300d06096086480165030402010500a203020120");
    assert_int_equal(sign_and_verify(s, QPKI_SIG_RSA_PSS_SHA256), 256);
    /* PSS is randomized: two signatures of one message differ. */
    uint8_t a[256], b[256];
    size_t la = sizeof a, lb = sizeof b;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"m", 1, a, &la), QPKI_OK);
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"m", 1, b, &lb), QPKI_OK);
    assert_memory_not_equal(a, b, 256);
    qpki_signer_free(&s);

    s = open_key(cfg_softhsm(), "rsa-2048", NULL, QPKI_SIG_RSA_PSS_SHA384);
    assert_alg_der(s, "304106092a864886f70d01010a3034a00f300d06096086480165030402020500"
                      "a11c301a06092a864886f70d010108300d06096086480165030402020500a203020130");
    sign_and_verify(s, QPKI_SIG_RSA_PSS_SHA384);
    qpki_signer_free(&s);
}

static void test_ed25519_key_signs_pure_eddsa(void **state)
{
    (void)state;
    qpki_signer *s = open_key(cfg_softhsm(), "ed25519", NULL, QPKI_SIG_UNKNOWN);
    assert_alg_der(s, "300506032b6570");
    assert_int_equal(sign_and_verify(s, QPKI_SIG_ED25519), 64);
    const uint8_t *spki = NULL;
    size_t n = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &n), QPKI_OK);
    assert_int_equal(n, 44); /* RFC 8410 §4: 30 2a 30 05 06 03 2b6570 03 21 00 <32> */
    assert_memory_equal(spki, "\x30\x2a\x30\x05\x06\x03\x2b\x65\x70\x03\x21\x00", 12);
    assert_spki_point_equals_token(spki, n, "04");
    qpki_signer_free(&s);
}

static void test_rsa_falls_back_to_ckm_rsa_pkcs_over_digestinfo(void **state)
{
    (void)state;
    /* The same deterministic signature with the token hashing
     * (CKM_SHA256_RSA_PKCS) and with us building DigestInfo (CKM_RSA_PKCS). */
    static const uint8_t msg[] = "OCSP tbsResponseData";
    uint8_t a[256], b[256];
    size_t la = sizeof a, lb = sizeof b;
    qpki_signer *s = open_key(cfg_softhsm(), "rsa-2048", NULL, QPKI_SIG_UNKNOWN);
    assert_int_equal(qpki_signer_sign(s, msg, sizeof msg, a, &la), QPKI_OK);
    qpki_signer_free(&s);

    setenv("FAULTY_P11_HIDE", "0x40", 1); /* CKM_SHA256_RSA_PKCS */
    s = open_key(cfg_faulty(), "rsa-2048", NULL, QPKI_SIG_UNKNOWN);
    assert_int_equal(qpki_signer_sign(s, msg, sizeof msg, b, &lb), QPKI_OK);
    assert_int_equal(la, 256);
    assert_int_equal(lb, 256);
    assert_memory_equal(a, b, 256);
    qpki_signer_free(&s);

    setenv("FAULTY_P11_HIDE", "0x43", 1); /* CKM_SHA256_RSA_PKCS_PSS */
    s = open_key(cfg_faulty(), "rsa-2048", NULL, QPKI_SIG_RSA_PSS_SHA256);
    sign_and_verify(s, QPKI_SIG_RSA_PSS_SHA256); /* CKM_RSA_PKCS_PSS over our digest */
    qpki_signer_free(&s);
    unsetenv("FAULTY_P11_HIDE");
}

/* ---- keys made by our own keygen --------------------------------------------------- */

static void test_generated_keys_sign_and_match_the_tokens_export(void **state)
{
    (void)state;
    static const struct {
        qpki_key_alg key;
        const char *label, *id;
        qpki_sig_alg sig;
        bool compare_export;
    } cases[] = {
        {QPKI_KEY_EC_P256, "gen-p256", "a1", QPKI_SIG_ECDSA_SHA256, true},
        {QPKI_KEY_EC_P384, "gen-p384", "a2", QPKI_SIG_ECDSA_SHA384, false},
        {QPKI_KEY_EC_P521, "gen-p521", "a3", QPKI_SIG_ECDSA_SHA512, false},
        {QPKI_KEY_RSA, "gen-rsa", "a4", QPKI_SIG_RSA_PKCS1_SHA256, true},
        {QPKI_KEY_ED25519, "gen-ed25519", "a5", QPKI_SIG_ED25519, false},
        {QPKI_KEY_ED448, "gen-ed448", "a6", QPKI_SIG_ED448, false},
    };
    char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s", cfg_softhsm());
    for (size_t i = 0; i < N_ELEMS(cases); i++) {
        char err[1024];
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        qpki_status rc = qpki_signer_plugin_generate_key(NULL, cfg, cases[i].label, cases[i].id,
                                                         cases[i].key, 2048, &spki, &spki_len,
                                                         err, sizeof err);
        if (rc != QPKI_OK)
            fail_msg("keygen %s: %s: %s", cases[i].label, qpki_strerror(rc), err);
        if (cases[i].compare_export) {
            size_t want_len = 0;
            uint8_t *want = pkcs11_tool_public_key(cases[i].id, &want_len);
            assert_int_equal(spki_len, want_len);
            assert_memory_equal(spki, want, want_len);
            free(want);
        } else {
            assert_spki_point_equals_token(spki, spki_len, cases[i].id);
        }
        /* Opened with the certificate's SPKI = what keygen returned. */
        qpki_signer *s = NULL;
        rc = qpki_signer_plugin_load(NULL, cfg, cases[i].label, NULL, spki, spki_len, &s, err,
                                     sizeof err);
        if (rc != QPKI_OK)
            fail_msg("load %s: %s: %s", cases[i].label, qpki_strerror(rc), err);
        assert_int_equal(qpki_signer_sig_alg(s), cases[i].sig);
        sign_and_verify(s, cases[i].sig);
        qpki_signer_free(&s);
        qpki_free(spki);
    }
}

static void test_keygen_refuses_an_existing_label_or_id(void **state)
{
    (void)state;
    char err[1024];
    uint8_t *spki = NULL;
    size_t len = 0;
    assert_int_equal(qpki_signer_plugin_generate_key(NULL, cfg_softhsm(), "ec-p256", NULL,
                                                     QPKI_KEY_EC_P256, 0, &spki, &len, err,
                                                     sizeof err),
                     QPKI_ERR_EXISTS);
    assert_string_equal(err, "a private key labelled \"ec-p256\" is already on the token");
    assert_int_equal(qpki_signer_plugin_generate_key(NULL, cfg_softhsm(), "fresh", "03",
                                                     QPKI_KEY_EC_P256, 0, &spki, &len, err,
                                                     sizeof err),
                     QPKI_ERR_EXISTS);
    assert_string_equal(err, "a private key with id 03 is already on the token");
    assert_int_equal(qpki_signer_plugin_generate_key(NULL, cfg_softhsm(), "odd-rsa", NULL,
                                                     QPKI_KEY_RSA, 1000, &spki, &len, err,
                                                     sizeof err),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_null(spki);
}

/* ---- errors --------------------------------------------------------------------------- */

static void test_wrong_pin_is_a_pin_error_that_does_not_show_the_pin(void **state)
{
    (void)state;
    char err[1024];
    setenv("HSM_PIN", "987654", 1);
    assert_int_equal(open_err(cfg_softhsm(), "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_PIN);
    setenv("HSM_PIN", pin, 1);
    assert_string_equal(err, "login to the token failed: CKR_PIN_INCORRECT (PIN from $HSM_PIN)");
    assert_null(strstr(err, "987654"));
}

static void test_missing_pin_variable_is_a_pin_error_naming_it(void **state)
{
    (void)state;
    char err[1024];
    unsetenv("HSM_PIN");
    assert_int_equal(open_err(cfg_softhsm(), "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_PIN);
    assert_string_equal(err, "the token needs a PIN: set the environment variable HSM_PIN "
                             "(named by pkcs11.pin_env)");
    /* pin_env names another variable. */
    const char *cfg = write_yaml("pin-env.yaml",
                                 "type: pkcs11\npkcs11:\n  lib: %s\n  token: %s\n"
                                 "  pin_env: OCSP_TOKEN_PIN\n", module, token);
    setenv("OCSP_TOKEN_PIN", pin, 1);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_OK);
    unsetenv("OCSP_TOKEN_PIN");
    setenv("HSM_PIN", pin, 1);
}

static void test_unknown_label_lists_the_keys_on_the_token(void **state)
{
    (void)state;
    char err[1024];
    assert_int_equal(open_err(cfg_softhsm(), "ocsp-key", NULL, 0, err, sizeof err),
                     QPKI_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "no private key with label \"ocsp-key\" on the token; private "
                                "keys present: "));
    assert_non_null(strstr(err, "\"ec-p256\" (id 01)"));
    assert_non_null(strstr(err, "\"rsa-2048\" (id 03)"));
    assert_int_equal(open_err(cfg_softhsm(), "ec-p256", "02", 0, err, sizeof err),
                     QPKI_ERR_NOT_FOUND);
    assert_non_null(strstr(err, "no private key with label \"ec-p256\" and id 02"));
}

static void test_duplicate_label_is_ambiguous_until_an_id_is_given(void **state)
{
    (void)state;
    char err[1024];
    assert_int_equal(open_err(cfg_softhsm(), "dup", NULL, 0, err, sizeof err),
                     QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "2 private keys match label \"dup\": "));
    assert_non_null(strstr(err, "\"dup\" (id 10)"));
    assert_non_null(strstr(err, "\"dup\" (id 11)"));
    assert_non_null(strstr(err, "select one with --key-id"));
    qpki_signer *s = open_key(cfg_softhsm(), "dup", "11", QPKI_SIG_UNKNOWN);
    assert_spki_equals_pkcs11_tool(s, "11");
    qpki_signer_free(&s);
}

static void test_missing_module_is_a_load_error(void **state)
{
    (void)state;
    char err[1024];
    const char *cfg = write_yaml("nomodule.yaml",
                                 "type: pkcs11\npkcs11:\n  lib: %s/libnothere.so\n  token: x\n",
                                 dir);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_PLUGIN_LOAD);
    char want[1200];
    snprintf(want, sizeof want, "cannot load PKCS#11 module %s/libnothere.so (pkcs11.lib): ",
             dir);
    assert_non_null(strstr(err, want));
    /* A shared object that is not a PKCS#11 module. */
    cfg = write_yaml("notp11.yaml", "type: pkcs11\npkcs11:\n  lib: libz.so.1\n  token: x\n");
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_PLUGIN_SYMBOL);
    assert_string_equal(err, "libz.so.1 is not a PKCS#11 module: neither C_GetInterface nor "
                             "C_GetFunctionList is exported");
}

static void test_module_without_the_mechanism_is_unsupported(void **state)
{
    (void)state;
    char err[1024];
    setenv("FAULTY_P11_HIDE", "0x1041", 1); /* CKM_ECDSA */
    assert_int_equal(open_err(cfg_faulty(), "ec-p256", NULL, 0, err, sizeof err),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_string_equal(err, "the token does not offer CKM_ECDSA for ecdsa-with-SHA256 "
                             "signatures");
    setenv("FAULTY_P11_HIDE", "0x40,0x1", 1); /* CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS */
    assert_int_equal(open_err(cfg_faulty(), "rsa-2048", NULL, 0, err, sizeof err),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_string_equal(err, "the token offers neither CKM_SHA256_RSA_PKCS nor CKM_RSA_PKCS for "
                             "sha256WithRSAEncryption signatures");
    unsetenv("FAULTY_P11_HIDE");
}

static void test_algorithm_that_does_not_fit_the_key_is_unsupported(void **state)
{
    (void)state;
    char err[1024];
    assert_int_equal(open_err(cfg_softhsm(), "ec-p256", NULL, QPKI_SIG_RSA_PSS_SHA256, err,
                              sizeof err),
                     QPKI_ERR_UNSUPPORTED_ALGORITHM);
    assert_non_null(strstr(err, "does not fit the token key"));
}

static void test_token_is_selected_by_label_serial_or_slot(void **state)
{
    (void)state;
    char err[1024];
    const char *cfg = write_yaml("bylabel.yaml", "type: pkcs11\npkcs11:\n  lib: %s\n"
                                                 "  token: no-such-token\n", module);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_NOT_FOUND);
    char want[512];
    snprintf(want, sizeof want, "no PKCS#11 token matches token \"no-such-token\"; tokens "
                                "present: slot %s \"%s\" serial %s", slot_id, token, serial);
    assert_non_null(strstr(err, want));

    cfg = write_yaml("byserial.yaml", "type: pkcs11\npkcs11:\n  lib: %s\n"
                                      "  token_serial: \"%s\"\n", module, serial);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_OK);
    cfg = write_yaml("byslot.yaml", "type: pkcs11\npkcs11:\n  lib: %s\n  slot: %s\n", module,
                     slot_id);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_OK);
    cfg = write_yaml("slotmismatch.yaml", "type: pkcs11\npkcs11:\n  lib: %s\n  slot: %s\n"
                                          "  token: other\n", module, slot_id);
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), QPKI_ERR_NOT_FOUND);
}

static void test_certificate_key_must_be_the_token_key(void **state)
{
    (void)state;
    char err[1024];
    size_t p256_len = 0, other_len = 0, p384_len = 0;
    uint8_t *p256 = pkcs11_tool_public_key("01", &p256_len);
    uint8_t *other = pkcs11_tool_public_key("10", &other_len);
    qpki_signer *s = open_key(cfg_softhsm(), "ec-p384", NULL, QPKI_SIG_UNKNOWN);
    const uint8_t *view = NULL;
    assert_int_equal(qpki_signer_public_key(s, &view, &p384_len), QPKI_OK);
    uint8_t *p384 = malloc(p384_len);
    assert_non_null(p384);
    memcpy(p384, view, p384_len);
    qpki_signer_free(&s);
    assert_int_equal(qpki_signer_plugin_load(NULL, cfg_softhsm(), "ec-p256", NULL, p256,
                                             p256_len, &s, err, sizeof err),
                     QPKI_OK);
    const uint8_t *spki = NULL;
    size_t n = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &n), QPKI_OK);
    assert_int_equal(n, p256_len);
    assert_memory_equal(spki, p256, n);
    qpki_signer_free(&s);

    assert_int_equal(qpki_signer_plugin_load(NULL, cfg_softhsm(), "ec-p256", NULL, other,
                                             other_len, &s, err, sizeof err),
                     QPKI_ERR_KEY_MISMATCH);
    assert_string_equal(err, "the certificate's public key does not match the token's public "
                             "key for this private key");
    assert_int_equal(qpki_signer_plugin_load(NULL, cfg_softhsm(), "ec-p256", NULL, p384,
                                             p384_len, &s, err, sizeof err),
                     QPKI_ERR_KEY_MISMATCH);
    assert_non_null(strstr(err, "is not the token key's algorithm"));

    /* QPKI's security.verify_key_cert_binding: a certificate is then required. */
    const char *cfg = write_yaml("binding.yaml",
                                 "type: pkcs11\npkcs11:\n  lib: %s\n  token: \"%s\"\n"
                                 "  pin_env: HSM_PIN\n\nsession:\n  logout_after_use: true\n\n"
                                 "security:\n  verify_key_cert_binding: true\n", module, token);
    assert_int_equal(qpki_signer_plugin_load(NULL, cfg, "ec-p256", NULL, NULL, 0, &s, err,
                                             sizeof err),
                     QPKI_ERR_KEY_MISMATCH);
    assert_int_equal(qpki_signer_plugin_load(NULL, cfg, "ec-p256", NULL, p256, p256_len, &s,
                                             err, sizeof err),
                     QPKI_OK);
    qpki_signer_free(&s);
    free(p256);
    free(other);
    free(p384);
}

static void expect_config_error(const char *name, const char *text, qpki_status want,
                                const char *want_msg)
{
    const char *cfg = write_yaml(name, "%s", text);
    char err[1024];
    assert_int_equal(open_err(cfg, "ec-p256", NULL, 0, err, sizeof err), want);
    char full[1400];
    snprintf(full, sizeof full, "%s%s", cfg, want_msg);
    if (strcmp(err, full) != 0)
        fail_msg("got \"%s\", want \"%s\"", err, full);
}

static void test_bad_hsm_yaml_errors_name_the_line(void **state)
{
    (void)state;
    expect_config_error("e1.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: t\n"
                                   "  colour: blue\n",
                        QPKI_ERR_PARSE, ":5: unknown key pkcs11.colour");
    expect_config_error("e2.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  pin: \"1234\"\n",
                        QPKI_ERR_PARSE, ":4: a PIN is never read from hsm.yaml; set "
                                        "pkcs11.pin_env to the name of an environment "
                                        "variable holding it");
    expect_config_error("e3.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  slot: first\n",
                        QPKI_ERR_PARSE, ":4: pkcs11.slot must be a non-negative integer");
    expect_config_error("e4.yaml", "type: pkcs11\npkcs11: [a, b]\n", QPKI_ERR_PARSE,
                        ":2: pkcs11 must be a mapping, not a list");
    expect_config_error("e5.yaml", "type: luna\npkcs11:\n  lib: /x.so\n  token: t\n",
                        QPKI_ERR_PARSE,
                        ":1: unsupported HSM type \"luna\" (only \"pkcs11\" is supported)");
    expect_config_error("e6.yaml", "type: pkcs11\npkcs11:\n  token: t\n", QPKI_ERR_PARSE,
                        ": pkcs11.lib (the PKCS#11 module path) is required");
    expect_config_error("e7.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n", QPKI_ERR_PARSE,
                        ": one of pkcs11.token, pkcs11.token_serial or pkcs11.slot is required");
    expect_config_error("e8.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: a\n"
                                   "  token: b\n",
                        QPKI_ERR_PARSE, ":5: duplicate key pkcs11.token");
    expect_config_error("e9.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: a\n"
                                   "session:\n  logout_after_use: sometimes\n",
                        QPKI_ERR_PARSE, ":6: session.logout_after_use must be true or false");
    expect_config_error("e10.yaml", "type: pkcs11\npkcs11: {lib: /x.so\n", QPKI_ERR_PARSE,
                        ":3: YAML syntax error: did not find expected ',' or '}'");
    expect_config_error("e11.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: a\n"
                                    "  pin_env: 12 34\n",
                        QPKI_ERR_PARSE, ":5: pkcs11.pin_env must name an environment variable "
                                        "(letters, digits, '_'), not hold the PIN");
    expect_config_error("e12.yaml", "type: pkcs11\npkcs11:\n  lib: /x.so\n  token: a\n---\n"
                                    "type: pkcs11\n",
                        QPKI_ERR_PARSE, ":5: more than one YAML document");
    expect_config_error("e13.yaml", "", QPKI_ERR_PARSE, ": empty file");
    expect_config_error("e14.yaml", "type: pkcs11\nsecurity: true\npkcs11:\n  lib: /x.so\n",
                        QPKI_ERR_PARSE, ":2: security must be a mapping, not a scalar");
    char err[1024];
    assert_int_equal(open_err(path_in_dir("does-not-exist.yaml"), "k", NULL, 0, err, sizeof err),
                     QPKI_ERR_IO);
    assert_non_null(strstr(err, "cannot open HSM configuration"));
}

static void test_plugin_exports_only_its_entry_symbol(void **state)
{
    (void)state;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "nm -D --defined-only %s/%s | awk '{print $NF}' | sort",
             getenv("QPKI_PLUGIN_DIR"), QPKI_PLUGIN_PKCS11_NAME);
    int st = -1;
    char *out = tu_run(cmd, &st);
    assert_int_equal(st, 0);
    assert_string_equal(out, "QPKI_PLUGIN_1\nqpki_signer_plugin_v1@@QPKI_PLUGIN_1\n");
    free(out);
}

/* ---- concurrency and faults ------------------------------------------------------------ */

typedef struct worker {
    qpki_signer *s;
    const uint8_t *spki;
    size_t spki_len;
    unsigned id;
    int rounds;                    /* > 0: sign this many; 0: until stop */
    atomic_bool *stop;
    atomic_int ok, unavailable, other, bad;
} worker;

static void *worker_main(void *arg)
{
    worker *w = arg;
    for (int i = 0; w->rounds ? i < w->rounds : !atomic_load(w->stop); i++) {
        uint8_t msg[64], sig[80];
        random_message(msg, sizeof msg, w->id * 100000u + (unsigned)i);
        size_t sig_len = sizeof sig;
        qpki_status rc = qpki_signer_sign(w->s, msg, sizeof msg, sig, &sig_len);
        if (rc == QPKI_OK) {
            if (p256_verifies(w->spki, w->spki_len, msg, sizeof msg, sig, sig_len))
                atomic_fetch_add(&w->ok, 1);
            else
                atomic_fetch_add(&w->bad, 1); /* a successful call with a wrong signature */
        } else if (rc == QPKI_ERR_SIGNER_UNAVAILABLE) {
            atomic_fetch_add(&w->unavailable, 1);
            usleep(1000);
        } else {
            atomic_fetch_add(&w->other, 1);
        }
    }
    wc_ecc_fp_free(); /* wolfSSL's per-thread fixed-point cache (FP_ECC) */
    return NULL;
}

static void faulty_stats(int *ok_calls, int *max_concurrent, int *failed)
{
    void *dl = dlopen(faulty, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
    assert_non_null(dl);
    void (*stats)(int *, int *, int *);
    *(void **)&stats = dlsym(dl, "faulty_p11_stats");
    assert_non_null(stats);
    stats(ok_calls, max_concurrent, failed);
    dlclose(dl);
}

static void test_four_threads_sign_in_parallel_on_pooled_sessions(void **state)
{
    (void)state;
    setenv("FAULTY_P11_SIGN_DELAY_US", "20000", 1);
    qpki_signer *s = open_key(cfg_faulty(), "ec-p256", NULL, QPKI_SIG_UNKNOWN);
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    int calls0, max0, failed0;
    faulty_stats(&calls0, &max0, &failed0);
    worker w[4];
    pthread_t t[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (worker){.s = s, .spki = spki, .spki_len = spki_len, .id = i, .rounds = 25};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    int ok = 0;
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        ok += atomic_load(&w[i].ok);
        assert_int_equal(atomic_load(&w[i].bad), 0);
        assert_int_equal(atomic_load(&w[i].other), 0);
        assert_int_equal(atomic_load(&w[i].unavailable), 0);
    }
    assert_int_equal(ok, 100);
    int calls, max, failed;
    faulty_stats(&calls, &max, &failed);
    assert_int_equal(calls - calls0, 100);
    assert_true(max >= 2); /* at least two C_Sign calls were in flight at once */
    qpki_signer_free(&s);
    unsetenv("FAULTY_P11_SIGN_DELAY_US");
}

static void fault(const char *mode)
{
    const char *ctl = path_in_dir("fault");
    if (mode)
        write_file(ctl, mode, strlen(mode));
    else
        unlink(ctl);
}

/* Sign until it works again (the signer retries with backoff, at most 5 s apart);
 * every failure on the way must be "unavailable". */
static void expect_recovery(qpki_signer *s, const uint8_t *spki, size_t spki_len)
{
    uint8_t sig[80];
    size_t sig_len = 0;
    qpki_status rc = QPKI_ERR_SIGNER_UNAVAILABLE;
    for (int i = 0; i < 3000 && rc != QPKI_OK; i++) {
        sig_len = sizeof sig;
        rc = qpki_signer_sign(s, (const uint8_t *)"after", 5, sig, &sig_len);
        if (rc != QPKI_OK) {
            assert_int_equal(rc, QPKI_ERR_SIGNER_UNAVAILABLE);
            usleep(10000);
        }
    }
    assert_int_equal(rc, QPKI_OK);
    assert_true(p256_verifies(spki, spki_len, (const uint8_t *)"after", 5, sig, sig_len));
    wc_ecc_fp_free();
    assert_int_equal(qpki_signer_health(s), QPKI_OK);
}

static void run_fault(const char *mode)
{
    setenv("FAULTY_P11_CONTROL", path_in_dir("fault"), 1);
    fault(NULL);
    qpki_signer *s = open_key(cfg_faulty(), "ec-p256", NULL, QPKI_SIG_UNKNOWN);
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    uint8_t sig[80];
    size_t sig_len = sizeof sig;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"before", 6, sig, &sig_len), QPKI_OK);
    assert_int_equal(qpki_signer_health(s), QPKI_OK);

    fault(mode);
    for (int i = 0; i < 20; i++) {
        sig_len = sizeof sig;
        assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"during", 6, sig, &sig_len),
                         QPKI_ERR_SIGNER_UNAVAILABLE);
        if (i % 5 == 0)
            usleep(60000); /* let some reconnection attempts happen (and fail) */
    }
    assert_int_equal(qpki_signer_health(s), QPKI_ERR_SIGNER_UNAVAILABLE);

    fault(NULL);
    expect_recovery(s, spki, spki_len);
    qpki_signer_free(&s);
    unsetenv("FAULTY_P11_CONTROL");
}

static void test_device_removed_during_sign_is_unavailable_then_recovers(void **state)
{
    (void)state;
    run_fault("sign");                 /* C_SignInit/C_Sign: CKR_DEVICE_REMOVED */
    run_fault("sign 0xb3");            /* CKR_SESSION_HANDLE_INVALID */
    run_fault("sign 0x30");            /* CKR_DEVICE_ERROR */
}

static void test_token_removed_is_unavailable_then_recovers(void **state)
{
    (void)state;
    run_fault("token"); /* slot list empty, sessions gone */
}

static void test_other_sign_failure_is_a_crypto_error_and_keeps_the_signer_up(void **state)
{
    (void)state;
    setenv("FAULTY_P11_CONTROL", path_in_dir("fault"), 1);
    qpki_signer *s = open_key(cfg_faulty(), "ec-p256", NULL, QPKI_SIG_UNKNOWN);
    fault("sign 0x6"); /* CKR_FUNCTION_FAILED: not a lost token */
    uint8_t sig[80];
    size_t sig_len = sizeof sig;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"x", 1, sig, &sig_len),
                     QPKI_ERR_CRYPTO);
    fault(NULL);
    assert_int_equal(qpki_signer_health(s), QPKI_OK);
    sig_len = sizeof sig;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"x", 1, sig, &sig_len), QPKI_OK);
    qpki_signer_free(&s);
    unsetenv("FAULTY_P11_CONTROL");
}

static int counter_sum(worker *w, size_t n, int field)
{
    int sum = 0;
    for (size_t k = 0; k < n; k++)
        sum += field == 0 ? atomic_load(&w[k].ok) : atomic_load(&w[k].unavailable);
    return sum;
}

/* Wait (bounded) until counter reaches target. */
static bool wait_for(worker *w, size_t n, int field, int target)
{
    for (int i = 0; i < 6000; i++) {
        if (counter_sum(w, n, field) >= target)
            return true;
        usleep(10000);
    }
    return false;
}

static void test_faults_under_concurrent_load_never_yield_a_bad_signature(void **state)
{
    (void)state;
    setenv("FAULTY_P11_CONTROL", path_in_dir("fault"), 1);
    fault(NULL);
    qpki_signer *s = open_key(cfg_faulty(), "ec-p256", NULL, QPKI_SIG_UNKNOWN);
    const uint8_t *spki = NULL;
    size_t spki_len = 0;
    assert_int_equal(qpki_signer_public_key(s, &spki, &spki_len), QPKI_OK);
    atomic_bool stop = false;
    worker w[3];
    pthread_t t[3];
    for (unsigned i = 0; i < 3; i++) {
        w[i] = (worker){.s = s, .spki = spki, .spki_len = spki_len, .id = 10 + i, .stop = &stop};
        assert_int_equal(pthread_create(&t[i], NULL, worker_main, &w[i]), 0);
    }
    static const char *const modes[] = {"sign", "token", "sign 0xb3", "token"};
    /* Each target counts from the moment the fault is switched, so the last
     * wait sees 30 signatures made after the last fault was removed (workers
     * keep signing between waits: absolute targets could already be met). */
    bool progressed = true;
    for (size_t round = 0; round < N_ELEMS(modes) && progressed; round++) {
        progressed = wait_for(w, 3, 0, counter_sum(w, 3, 0) + 30);
        fault(modes[round]);
        progressed = progressed && wait_for(w, 3, 1, counter_sum(w, 3, 1) + 30);
        fault(NULL);
    }
    progressed = progressed && wait_for(w, 3, 0, counter_sum(w, 3, 0) + 30);
    atomic_store(&stop, true);
    int ok = 0, unavailable = 0, other = 0, bad = 0;
    for (unsigned i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        ok += atomic_load(&w[i].ok);
        unavailable += atomic_load(&w[i].unavailable);
        other += atomic_load(&w[i].other);
        bad += atomic_load(&w[i].bad);
    }
    print_message("concurrent faults: %d good signatures, %d unavailable, %d other, %d bad\n", ok,
                  unavailable, other, bad);
    assert_true(progressed);
    assert_int_equal(bad, 0);
    assert_int_equal(other, 0);
    assert_true(ok >= 150);
    assert_true(unavailable >= 120);
    assert_int_equal(qpki_signer_health(s), QPKI_OK);
    qpki_signer_free(&s);
    unsetenv("FAULTY_P11_CONTROL");
}

static int setup(void **state)
{
    (void)state;
    dir = getenv("P11T_DIR");
    module = getenv("P11T_MODULE");
    faulty = getenv("P11T_FAULTY");
    token = getenv("P11T_TOKEN");
    pin = getenv("P11T_PIN");
    slot_id = getenv("P11T_SLOT");
    serial = getenv("P11T_SERIAL");
    if (!dir || !module || !faulty || !token || !pin || !slot_id || !serial) {
        fprintf(stderr, "run me through tests/plugin/run_pkcs11.sh\n");
        return -1;
    }
    setenv("FAULTY_P11_TARGET", module, 1);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_p256_key_signs_ecdsa_sha256_that_openssl_verifies),
        cmocka_unit_test(test_p384_key_found_by_id_alone_signs_ecdsa_sha384),
        cmocka_unit_test(test_rsa_2048_key_signs_pkcs1_v15_with_sha256_sha384_sha512),
        cmocka_unit_test(test_rsa_2048_key_signs_pss_with_full_parameters),
        cmocka_unit_test(test_ed25519_key_signs_pure_eddsa),
        cmocka_unit_test(test_rsa_falls_back_to_ckm_rsa_pkcs_over_digestinfo),
        cmocka_unit_test(test_generated_keys_sign_and_match_the_tokens_export),
        cmocka_unit_test(test_keygen_refuses_an_existing_label_or_id),
        cmocka_unit_test(test_wrong_pin_is_a_pin_error_that_does_not_show_the_pin),
        cmocka_unit_test(test_missing_pin_variable_is_a_pin_error_naming_it),
        cmocka_unit_test(test_unknown_label_lists_the_keys_on_the_token),
        cmocka_unit_test(test_duplicate_label_is_ambiguous_until_an_id_is_given),
        cmocka_unit_test(test_missing_module_is_a_load_error),
        cmocka_unit_test(test_module_without_the_mechanism_is_unsupported),
        cmocka_unit_test(test_algorithm_that_does_not_fit_the_key_is_unsupported),
        cmocka_unit_test(test_token_is_selected_by_label_serial_or_slot),
        cmocka_unit_test(test_certificate_key_must_be_the_token_key),
        cmocka_unit_test(test_bad_hsm_yaml_errors_name_the_line),
        cmocka_unit_test(test_plugin_exports_only_its_entry_symbol),
        cmocka_unit_test(test_four_threads_sign_in_parallel_on_pooled_sessions),
        cmocka_unit_test(test_device_removed_during_sign_is_unavailable_then_recovers),
        cmocka_unit_test(test_token_removed_is_unavailable_then_recovers),
        cmocka_unit_test(test_other_sign_failure_is_a_crypto_error_and_keeps_the_signer_up),
        cmocka_unit_test(test_faults_under_concurrent_load_never_yield_a_bad_signature),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
