/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/keygen.c - key pair generation on the token
 * (`qpki key gen --hsm-config F --key-label L [--key-id HEX] --algo ...`). */
#include <string.h>

#include "../../der/der.h"
#include "../../der/oid.h"
#include "p11.h"

#define RSA_DEFAULT_BITS 3072u

static bool is_ec(qpki_key_alg a)
{
    return a == QPKI_KEY_EC_P256 || a == QPKI_KEY_EC_P384 || a == QPKI_KEY_EC_P521;
}

static bool is_edwards(qpki_key_alg a) { return a == QPKI_KEY_ED25519 || a == QPKI_KEY_ED448; }

static bool is_mldsa(qpki_key_alg a)
{
    return a == QPKI_KEY_ML_DSA_44 || a == QPKI_KEY_ML_DSA_65 || a == QPKI_KEY_ML_DSA_87;
}

/* CKA_EC_PARAMS value: ECParameters namedCurve (RFC 5480 §2.1.1), or for Edwards
 * curves the OID (PKCS#11 3.1) or, as a fallback for 3.0 tokens, the
 * PrintableString curve name. */
static qpki_status ec_params(qpki_key_alg alg, bool edwards_by_name, uint8_t **out,
                             size_t *len)
{
    der_buf b;
    der_buf_init(&b, 0);
    switch (alg) {
    case QPKI_KEY_EC_P256: der_put_oid(&b, OID_P256); break;
    case QPKI_KEY_EC_P384: der_put_oid(&b, OID_P384); break;
    case QPKI_KEY_EC_P521: der_put_oid(&b, OID_P521); break;
    case QPKI_KEY_ED25519:
        if (edwards_by_name)
            der_put_tlv(&b, DER_PRINTABLE_STRING, "edwards25519", 12);
        else
            der_put_oid(&b, OID_ED25519);
        break;
    case QPKI_KEY_ED448:
        if (edwards_by_name)
            der_put_tlv(&b, DER_PRINTABLE_STRING, "edwards448", 10);
        else
            der_put_oid(&b, OID_ED448);
        break;
    default:
        der_buf_free(&b);
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    return der_buf_finish(&b, out, len);
}

static ck_mechanism_type_t keygen_mechanism(qpki_key_alg alg)
{
    if (is_ec(alg))
        return CKM_EC_KEY_PAIR_GEN;
    if (is_edwards(alg))
        return CKM_EC_EDWARDS_KEY_PAIR_GEN;
    if (alg == QPKI_KEY_RSA)
        return CKM_RSA_PKCS_KEY_PAIR_GEN;
    if (is_mldsa(alg))
        return P11_CKM_ML_DSA_KEY_PAIR_GEN;
    return (ck_mechanism_type_t)-1;
}

static unsigned long mldsa_param_set(qpki_key_alg alg)
{
    return alg == QPKI_KEY_ML_DSA_44   ? P11_CKP_ML_DSA_44
           : alg == QPKI_KEY_ML_DSA_65 ? P11_CKP_ML_DSA_65
                                       : P11_CKP_ML_DSA_87;
}

typedef struct keygen_ctx {
    struct ck_function_list *fl;
    ck_session_handle_t session;
    const qpki_plugin_keygen_params *params;
    unsigned rsa_bits;
} keygen_ctx;

static ck_rv_t generate(keygen_ctx *k, bool edwards_by_name, ck_object_handle_t *pub,
                        ck_object_handle_t *priv)
{
    const qpki_plugin_keygen_params *p = k->params;
    qpki_key_alg alg = p->key_alg;
    unsigned char yes = 1, no = 0;
    static unsigned char exponent[] = {0x01, 0x00, 0x01}; /* 65537 */
    unsigned long bits = k->rsa_bits;
    unsigned long param_set = mldsa_param_set(alg);
    uint8_t *params = NULL;
    size_t params_len = 0;
    size_t label_len = strlen(p->key_label);

    struct ck_attribute pub_t[8], priv_t[8];
    unsigned long np = 0, nq = 0;
    pub_t[np++] = (struct ck_attribute){CKA_TOKEN, &yes, 1};
    pub_t[np++] = (struct ck_attribute){CKA_PRIVATE, &no, 1};
    pub_t[np++] = (struct ck_attribute){CKA_VERIFY, &yes, 1};
    pub_t[np++] = (struct ck_attribute){CKA_LABEL, (void *)(uintptr_t)p->key_label, label_len};
    priv_t[nq++] = (struct ck_attribute){CKA_TOKEN, &yes, 1};
    priv_t[nq++] = (struct ck_attribute){CKA_PRIVATE, &yes, 1};
    priv_t[nq++] = (struct ck_attribute){CKA_SENSITIVE, &yes, 1};
    priv_t[nq++] = (struct ck_attribute){CKA_EXTRACTABLE, &no, 1};
    priv_t[nq++] = (struct ck_attribute){CKA_SIGN, &yes, 1};
    priv_t[nq++] = (struct ck_attribute){CKA_LABEL, (void *)(uintptr_t)p->key_label, label_len};
    if (p->key_id && p->key_id_len) {
        pub_t[np++] = (struct ck_attribute){CKA_ID, (void *)(uintptr_t)p->key_id, p->key_id_len};
        priv_t[nq++] = (struct ck_attribute){CKA_ID, (void *)(uintptr_t)p->key_id, p->key_id_len};
    }
    if (alg == QPKI_KEY_RSA) {
        pub_t[np++] = (struct ck_attribute){CKA_MODULUS_BITS, &bits, sizeof bits};
        pub_t[np++] = (struct ck_attribute){CKA_PUBLIC_EXPONENT, exponent, sizeof exponent};
    } else if (is_mldsa(alg)) {
        pub_t[np++] = (struct ck_attribute){P11_CKA_PARAMETER_SET, &param_set, sizeof param_set};
    } else {
        if (ec_params(alg, edwards_by_name, &params, &params_len) != QPKI_OK)
            return CKR_HOST_MEMORY;
        pub_t[np++] = (struct ck_attribute){CKA_EC_PARAMS, params, params_len};
    }
    struct ck_mechanism m = {keygen_mechanism(alg), NULL, 0};
    ck_rv_t rv = k->fl->C_GenerateKeyPair(k->session, &m, pub_t, np, priv_t, nq, pub, priv);
    qpki_free(params);
    return rv;
}

qpki_status p11_generate_key(const qpki_plugin_keygen_params *params, uint8_t *spki,
                             size_t *spki_len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!params || !spki || !spki_len ||
        params->struct_size < offsetof(qpki_plugin_keygen_params, rsa_bits) + sizeof(unsigned)) {
        p11_err(err, errlen, "bad arguments to the PKCS#11 plugin's generate_key()");
        return QPKI_ERR_INVALID_ARG;
    }
    if (*spki_len < QPKI_PLUGIN_MAX_SPKI) {
        p11_err(err, errlen, "the public key buffer must hold %d bytes", QPKI_PLUGIN_MAX_SPKI);
        return QPKI_ERR_BUFFER_TOO_SMALL;
    }
    if (!params->key_label || !params->key_label[0]) {
        p11_err(err, errlen, "a key label (--key-label) is required to generate a key");
        return QPKI_ERR_INVALID_ARG;
    }
    if (params->key_id_len > QPKI_PLUGIN_MAX_KEY_ID) {
        p11_err(err, errlen, "the key id is longer than %d bytes", QPKI_PLUGIN_MAX_KEY_ID);
        return QPKI_ERR_INVALID_ARG;
    }
    qpki_key_alg alg = params->key_alg;
    unsigned rsa_bits = params->rsa_bits ? params->rsa_bits : RSA_DEFAULT_BITS;
    if (alg == QPKI_KEY_RSA && (rsa_bits < 2048 || rsa_bits > 8192 || rsa_bits % 8 != 0)) {
        p11_err(err, errlen, "RSA key size %u is not supported (2048 to 8192, a multiple of 8)",
                rsa_bits);
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    if (!is_ec(alg) && !is_edwards(alg) && alg != QPKI_KEY_RSA && !is_mldsa(alg)) {
        p11_err(err, errlen, "cannot generate %s keys on a token", qpki_key_alg_name(alg));
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }

    p11_config cfg;
    p11_module *mod = NULL;
    struct ck_function_list *fl = NULL;
    ck_session_handle_t session = 0;
    bool have_session = false;
    ck_slot_id_t slot = 0;
    ck_object_handle_t pub = 0, priv = 0, found[4];
    uint8_t *out = NULL;
    size_t out_len = 0, n = 0;
    qpki_status rc = p11_config_load(params->config_path, &cfg, err, errlen);
    if (rc != QPKI_OK)
        return rc;
    QPKI_CHECK(p11_module_get(cfg.lib, &mod, err, errlen));
    fl = p11_module_functions(mod);
    QPKI_CHECK(p11_find_slot(mod, &cfg, &slot, err, errlen));
    ck_rv_t rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
                                   &session);
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_OpenSession (read/write) failed: %s", p11_rv_name(rv));
        QPKI_FAIL(rv == CKR_TOKEN_WRITE_PROTECTED ? QPKI_ERR_IO : QPKI_ERR_SIGNER_UNAVAILABLE);
    }
    have_session = true;
    QPKI_CHECK(p11_login(fl, session, &cfg, false, err, errlen));

    /* Refuse to create a second key under the same name: lookups by label or id
     * would then be ambiguous. */
    p11_key_ref by_label = {params->key_label, NULL, 0};
    p11_key_ref by_id = {NULL, params->key_id, params->key_id_len};
    QPKI_CHECK(p11_find_objects(fl, session, CKO_PRIVATE_KEY, &by_label, found, 4, &n, err,
                                errlen));
    if (n > 0) {
        p11_err(err, errlen, "a private key labelled \"%s\" is already on the token",
                params->key_label);
        QPKI_FAIL(QPKI_ERR_EXISTS);
    }
    if (params->key_id && params->key_id_len) {
        QPKI_CHECK(p11_find_objects(fl, session, CKO_PRIVATE_KEY, &by_id, found, 4, &n, err,
                                    errlen));
        if (n > 0) {
            char hex[2 * QPKI_PLUGIN_MAX_KEY_ID + 1];
            qpki_hex_encode(params->key_id, params->key_id_len, hex);
            p11_err(err, errlen, "a private key with id %s is already on the token", hex);
            QPKI_FAIL(QPKI_ERR_EXISTS);
        }
    }
    ck_mechanism_type_t mech = keygen_mechanism(alg);
    if (!p11_has_mechanism(fl, slot, mech, true)) {
        p11_err(err, errlen, "the token does not offer %s to generate %s keys",
                p11_mech_name(mech), qpki_key_alg_name(alg));
        QPKI_FAIL(QPKI_ERR_UNSUPPORTED_ALGORITHM);
    }

    keygen_ctx k = {fl, session, params, rsa_bits};
    rv = generate(&k, false, &pub, &priv);
    if (is_edwards(alg) && (rv == CKR_CURVE_NOT_SUPPORTED || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
                            rv == CKR_DOMAIN_PARAMS_INVALID || rv == CKR_TEMPLATE_INCONSISTENT))
        rv = generate(&k, true, &pub, &priv);
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_GenerateKeyPair (%s, %s) failed: %s", p11_mech_name(mech),
                qpki_key_alg_name(alg), p11_rv_name(rv));
        QPKI_FAIL(p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO);
    }
    qpki_key_alg got = QPKI_KEY_UNKNOWN;
    rc = p11_public_key_spki(fl, session, pub, &got, &out, &out_len);
    if (rc == QPKI_OK && got != alg)
        rc = QPKI_ERR_BAD_KEY;
    if (rc == QPKI_OK && out_len > *spki_len)
        rc = QPKI_ERR_BUFFER_TOO_SMALL;
    if (rc != QPKI_OK) {
        p11_err(err, errlen, "the generated public key cannot be read back: %s",
                qpki_strerror(rc));
        /* Do not leave a key behind that the caller never learned about. */
        (void)fl->C_DestroyObject(session, priv);
        (void)fl->C_DestroyObject(session, pub);
        goto out;
    }
    memcpy(spki, out, out_len);
    *spki_len = out_len;
out:
    qpki_free(out);
    if (have_session)
        (void)fl->C_CloseSession(session);
    p11_module_put(mod);
    p11_config_clear(&cfg);
    return rc;
}
