/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/token.c - token selection, login, key lookup and the public
 * key of a token key as a SubjectPublicKeyInfo. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../der/der.h"
#include "../../der/oid.h"
#include "p11.h"

#define P11_MAX_PIN 256
#define P11_MAX_ATTR (64 * 1024)

/* ---- slots ------------------------------------------------------------------- */

/* Token label and serial are blank-padded fixed fields (PKCS#11 v2.40 §3.2
 * CK_TOKEN_INFO: "label ... padded with the blank character (' ')"). */
static void padded_text(const unsigned char *field, size_t n, char *out)
{
    while (n > 0 && (field[n - 1] == ' ' || field[n - 1] == '\0'))
        n--;
    memcpy(out, field, n);
    out[n] = '\0';
}

static void append(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, size - used, fmt, ap);
    va_end(ap);
}

static void describe_criteria(const p11_config *cfg, char *buf, size_t size)
{
    buf[0] = '\0';
    if (cfg->token)
        append(buf, size, "token \"%s\"", cfg->token);
    if (cfg->token_serial)
        append(buf, size, "%sserial \"%s\"", buf[0] ? ", " : "", cfg->token_serial);
    if (cfg->has_slot)
        append(buf, size, "%sslot %lu", buf[0] ? ", " : "", cfg->slot);
}

qpki_status p11_find_slot(p11_module *mod, const p11_config *cfg, ck_slot_id_t *slot,
                          char *err, size_t errlen)
{
    struct ck_function_list *fl = p11_module_functions(mod);
    ck_slot_id_t *slots = NULL;
    unsigned long n = 0;
    qpki_status rc = QPKI_OK;
    ck_rv_t rv = fl->C_GetSlotList(1, NULL, &n);
    if (rv == CKR_CRYPTOKI_NOT_INITIALIZED) {
        p11_module_reinitialize(mod);
        rv = fl->C_GetSlotList(1, NULL, &n);
    }
    for (int attempt = 0; rv == CKR_OK && attempt < 4; attempt++) {
        qpki_free(slots);
        slots = qpki_calloc(n + 1, sizeof *slots);
        if (!slots)
            return QPKI_ERR_NOMEM;
        rv = fl->C_GetSlotList(1, slots, &n);
        if (rv != CKR_BUFFER_TOO_SMALL)
            break;
        rv = fl->C_GetSlotList(1, NULL, &n);
    }
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_GetSlotList failed: %s", p11_rv_name(rv));
        QPKI_FAIL(QPKI_ERR_SIGNER_UNAVAILABLE);
    }

    char present[512] = "", want[200];
    size_t matches = 0;
    describe_criteria(cfg, want, sizeof want);
    for (unsigned long i = 0; i < n; i++) {
        struct ck_token_info ti;
        if (fl->C_GetTokenInfo(slots[i], &ti) != CKR_OK)
            continue;
        char label[33], serial[17];
        padded_text(ti.label, sizeof ti.label, label);
        padded_text(ti.serial_number, sizeof ti.serial_number, serial);
        append(present, sizeof present, "%sslot %lu \"%s\" serial %s", present[0] ? "; " : "",
               (unsigned long)slots[i], label, serial);
        bool ok = (!cfg->token || strcmp(cfg->token, label) == 0) &&
                  (!cfg->token_serial || strcmp(cfg->token_serial, serial) == 0) &&
                  (!cfg->has_slot || cfg->slot == slots[i]);
        if (ok) {
            if (matches == 0)
                *slot = slots[i];
            matches++;
        }
    }
    if (matches == 0) {
        p11_err(err, errlen, "no PKCS#11 token matches %s; tokens present: %s", want,
                present[0] ? present : "none");
        QPKI_FAIL(QPKI_ERR_NOT_FOUND);
    }
    if (matches > 1) {
        p11_err(err, errlen, "%zu tokens match %s (%s); add pkcs11.token_serial or pkcs11.slot",
                matches, want, present);
        QPKI_FAIL(QPKI_ERR_INVALID_ARG);
    }
out:
    qpki_free(slots);
    return rc;
}

/* ---- login --------------------------------------------------------------------- */

qpki_status p11_login(struct ck_function_list *fl, ck_session_handle_t session,
                      const p11_config *cfg, bool context_specific, char *err, size_t errlen)
{
    struct ck_session_info si;
    struct ck_token_info ti;
    ck_rv_t rv = fl->C_GetSessionInfo(session, &si);
    if (rv == CKR_OK)
        rv = fl->C_GetTokenInfo(si.slot_id, &ti);
    if (rv != CKR_OK) {
        p11_err(err, errlen, "cannot read the token state: %s", p11_rv_name(rv));
        return QPKI_ERR_SIGNER_UNAVAILABLE;
    }
    ck_user_type_t user = context_specific ? CKU_CONTEXT_SPECIFIC : CKU_USER;
    /* The PIN lives in the environment only; the copy we hand to C_Login is
     * wiped right after, and the PIN is never part of a message. */
    const char *env = getenv(cfg->pin_env);
    if (!env || !*env) {
        if (ti.flags & CKF_PROTECTED_AUTHENTICATION_PATH) {
            /* PKCS#11 v2.40 §5.6 C_Login: "If the token has a protected
             * authentication path ... pPin should be NULL_PTR". */
            rv = fl->C_Login(session, user, NULL, 0);
            goto result;
        }
        if (!(ti.flags & CKF_LOGIN_REQUIRED) && !context_specific)
            return QPKI_OK;
        p11_err(err, errlen,
                "the token needs a PIN: set the environment variable %s (named by "
                "pkcs11.pin_env)", cfg->pin_env);
        return QPKI_ERR_PIN;
    }
    size_t len = strlen(env);
    if (len > P11_MAX_PIN) {
        p11_err(err, errlen, "the PIN in %s is longer than %d characters", cfg->pin_env,
                P11_MAX_PIN);
        return QPKI_ERR_PIN;
    }
    unsigned char pin[P11_MAX_PIN];
    memcpy(pin, env, len);
    rv = fl->C_Login(session, user, pin, len);
    qpki_wipe(pin, sizeof pin);
result:
    if (rv == CKR_OK || (rv == CKR_USER_ALREADY_LOGGED_IN && !context_specific))
        return QPKI_OK;
    switch (rv) {
    case CKR_PIN_INCORRECT:
    case CKR_PIN_INVALID:
    case CKR_PIN_LEN_RANGE:
    case CKR_PIN_EXPIRED:
    case CKR_PIN_LOCKED:
    case CKR_USER_PIN_NOT_INITIALIZED:
        p11_err(err, errlen, "login to the token failed: %s (PIN from $%s)", p11_rv_name(rv),
                cfg->pin_env);
        return QPKI_ERR_PIN;
    default:
        p11_err(err, errlen, "login to the token failed: %s", p11_rv_name(rv));
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_PIN;
    }
}

/* ---- attributes ----------------------------------------------------------------- */

/* Read one variable-length attribute (allocated; QPKI_ERR_NOT_FOUND when the
 * object does not have it or it is sensitive). */
static qpki_status get_attr(struct ck_function_list *fl, ck_session_handle_t s,
                            ck_object_handle_t obj, ck_attribute_type_t type, uint8_t **out,
                            size_t *len)
{
    *out = NULL;
    *len = 0;
    struct ck_attribute a = {type, NULL, 0};
    ck_rv_t rv = fl->C_GetAttributeValue(s, obj, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
        a.value_len == (unsigned long)-1)
        return QPKI_ERR_NOT_FOUND;
    if (rv != CKR_OK)
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
    if (a.value_len > P11_MAX_ATTR)
        return QPKI_ERR_TOO_LARGE;
    a.value = qpki_malloc(a.value_len + 1);
    if (!a.value)
        return QPKI_ERR_NOMEM;
    rv = fl->C_GetAttributeValue(s, obj, &a, 1);
    if (rv != CKR_OK) {
        qpki_free(a.value);
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
    }
    *out = a.value;
    *len = a.value_len;
    return QPKI_OK;
}

static qpki_status get_ulong(struct ck_function_list *fl, ck_session_handle_t s,
                             ck_object_handle_t obj, ck_attribute_type_t type,
                             unsigned long *out)
{
    struct ck_attribute a = {type, out, sizeof *out};
    ck_rv_t rv = fl->C_GetAttributeValue(s, obj, &a, 1);
    if (rv == CKR_ATTRIBUTE_TYPE_INVALID || rv == CKR_ATTRIBUTE_SENSITIVE ||
        a.value_len != sizeof *out)
        return QPKI_ERR_NOT_FOUND;
    if (rv != CKR_OK)
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
    return QPKI_OK;
}

static bool get_bool(struct ck_function_list *fl, ck_session_handle_t s, ck_object_handle_t obj,
                     ck_attribute_type_t type)
{
    unsigned char v = 0;
    struct ck_attribute a = {type, &v, 1};
    return fl->C_GetAttributeValue(s, obj, &a, 1) == CKR_OK && a.value_len == 1 && v != 0;
}

/* ---- objects ------------------------------------------------------------------------ */

qpki_status p11_find_objects(struct ck_function_list *fl, ck_session_handle_t session,
                             ck_object_class_t cls, const p11_key_ref *ref,
                             ck_object_handle_t *out, size_t cap, size_t *count, char *err,
                             size_t errlen)
{
    struct ck_attribute tmpl[3];
    unsigned long nt = 0;
    tmpl[nt++] = (struct ck_attribute){CKA_CLASS, &cls, sizeof cls};
    if (ref && ref->label)
        tmpl[nt++] = (struct ck_attribute){CKA_LABEL, (void *)(uintptr_t)ref->label,
                                           strlen(ref->label)};
    if (ref && ref->id)
        tmpl[nt++] = (struct ck_attribute){CKA_ID, (void *)(uintptr_t)ref->id, ref->id_len};
    *count = 0;
    ck_rv_t rv = fl->C_FindObjectsInit(session, tmpl, nt);
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_FindObjectsInit failed: %s", p11_rv_name(rv));
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
    }
    for (;;) {
        ck_object_handle_t batch[16];
        unsigned long got = 0;
        rv = fl->C_FindObjects(session, batch, QPKI_ARRAY_LEN(batch), &got);
        if (rv != CKR_OK || got == 0)
            break;
        for (unsigned long i = 0; i < got; i++) {
            if (*count < cap)
                out[*count] = batch[i];
            (*count)++;
        }
        if (*count > 4096)
            break;
    }
    ck_rv_t rv_final = fl->C_FindObjectsFinal(session);
    if (rv == CKR_OK)
        rv = rv_final;
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_FindObjects failed: %s", p11_rv_name(rv));
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
    }
    return QPKI_OK;
}

/* "\"label\" (id 0102)" for messages. */
static void describe_object(struct ck_function_list *fl, ck_session_handle_t s,
                            ck_object_handle_t obj, char *buf, size_t size)
{
    uint8_t *label = NULL, *id = NULL;
    size_t label_len = 0, id_len = 0;
    char hex[2 * 32 + 1] = "";
    buf[0] = '\0';
    (void)get_attr(fl, s, obj, CKA_LABEL, &label, &label_len);
    (void)get_attr(fl, s, obj, CKA_ID, &id, &id_len);
    if (id)
        qpki_hex_encode(id, id_len > 32 ? 32 : id_len, hex);
    append(buf, size, "\"%.*s\" (id %s%s)", (int)(label_len > 64 ? 64 : label_len),
           label ? (const char *)label : "", id_len ? hex : "none", id_len > 32 ? "..." : "");
    qpki_free(label);
    qpki_free(id);
}

static void describe_ref(const p11_key_ref *ref, char *buf, size_t size)
{
    buf[0] = '\0';
    if (ref->label)
        append(buf, size, "label \"%s\"", ref->label);
    if (ref->id) {
        char hex[2 * QPKI_PLUGIN_MAX_KEY_ID + 1];
        qpki_hex_encode(ref->id, ref->id_len, hex);
        append(buf, size, "%sid %s", buf[0] ? " and " : "", hex);
    }
}

qpki_status p11_find_private_key(struct ck_function_list *fl, ck_session_handle_t session,
                                 const p11_key_ref *ref, ck_object_handle_t *key, char *err,
                                 size_t errlen)
{
    ck_object_handle_t found[16];
    size_t n = 0;
    char want[400], list[1200] = "";
    describe_ref(ref, want, sizeof want);
    QPKI_GUARD(p11_find_objects(fl, session, CKO_PRIVATE_KEY, ref, found,
                                QPKI_ARRAY_LEN(found), &n, err, errlen));
    if (n == 1) {
        *key = found[0];
        return QPKI_OK;
    }
    if (n > 1) {
        for (size_t i = 0; i < n && i < QPKI_ARRAY_LEN(found); i++) {
            char one[200];
            describe_object(fl, session, found[i], one, sizeof one);
            append(list, sizeof list, "%s%s", i ? ", " : "", one);
        }
        p11_err(err, errlen, "%zu private keys match %s: %s%s; select one with --key-id", n,
                want, list, n > QPKI_ARRAY_LEN(found) ? ", ..." : "");
        return QPKI_ERR_INVALID_ARG;
    }
    /* Nothing matched: say what is there. */
    size_t all = 0;
    if (p11_find_objects(fl, session, CKO_PRIVATE_KEY, NULL, found, QPKI_ARRAY_LEN(found), &all,
                         NULL, 0) == QPKI_OK) {
        for (size_t i = 0; i < all && i < QPKI_ARRAY_LEN(found); i++) {
            char one[200];
            describe_object(fl, session, found[i], one, sizeof one);
            append(list, sizeof list, "%s%s", i ? ", " : "", one);
        }
    }
    p11_err(err, errlen, "no private key with %s on the token; private keys present: %s%s", want,
            all ? list : "none", all > QPKI_ARRAY_LEN(found) ? ", ..." : "");
    return QPKI_ERR_NOT_FOUND;
}

/* ---- SubjectPublicKeyInfo ------------------------------------------------------------- */

static size_t ec_coord_len(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return 32;
    case QPKI_KEY_EC_P384: return 48;
    case QPKI_KEY_EC_P521: return 66;
    case QPKI_KEY_ED25519: return 32;
    case QPKI_KEY_ED448: return 57;
    default: return 0;
    }
}

/* CKA_EC_PARAMS: the DER of ECParameters (namedCurve OID) or, for Edwards keys
 * in PKCS#11 3.0 §2.3.5, a PrintableString curve name ("edwards25519"). */
static qpki_key_alg alg_from_ec_params(const uint8_t *p, size_t n)
{
    der_cursor c = der_cursor_init(p, n), v;
    der_view oid;
    if (der_next_is(&c, DER_OID)) {
        if (der_read_oid(&c, &oid) != QPKI_OK || !der_at_end(&c))
            return QPKI_KEY_UNKNOWN;
        qpki_key_alg curve = qpki_ec_curve_alg(oid.p, oid.n);
        if (curve != QPKI_KEY_UNKNOWN)
            return curve;
        if (der_oid_eq(oid, OID_ED25519))
            return QPKI_KEY_ED25519;
        if (der_oid_eq(oid, OID_ED448))
            return QPKI_KEY_ED448;
        return QPKI_KEY_UNKNOWN;
    }
    if (der_read_tlv(&c, DER_PRINTABLE_STRING, &v) == QPKI_OK && der_at_end(&c)) {
        der_view name = der_cursor_view(&v);
        if (der_view_eq(name, (const uint8_t *)"edwards25519", 12))
            return QPKI_KEY_ED25519;
        if (der_view_eq(name, (const uint8_t *)"edwards448", 10))
            return QPKI_KEY_ED448;
    }
    return QPKI_KEY_UNKNOWN;
}

static der_oid curve_oid(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return OID_P256;
    case QPKI_KEY_EC_P384: return OID_P384;
    case QPKI_KEY_EC_P521: return OID_P521;
    case QPKI_KEY_ED25519: return OID_ED25519;
    case QPKI_KEY_ED448: return OID_ED448;
    case QPKI_KEY_ML_DSA_44: return OID_ML_DSA_44;
    case QPKI_KEY_ML_DSA_65: return OID_ML_DSA_65;
    case QPKI_KEY_ML_DSA_87: return OID_ML_DSA_87;
    default: return (der_oid){NULL, 0};
    }
}

/* RFC 5480 §2: SubjectPublicKeyInfo { AlgorithmIdentifier { id-ecPublicKey,
 * namedCurve }, subjectPublicKey = ECPoint (uncompressed) }.
 * RFC 8410 §4 and RFC 9881: { { id-Ed25519 / id-ML-DSA-nn } (parameters absent),
 * raw public key }. */
static qpki_status spki_from_point(qpki_key_alg alg, const uint8_t *key, size_t n,
                                   uint8_t **out, size_t *len)
{
    der_buf b;
    der_buf_init(&b, 0);
    size_t spki = der_begin(&b, DER_SEQUENCE);
    size_t algid = der_begin(&b, DER_SEQUENCE);
    if (alg == QPKI_KEY_EC_P256 || alg == QPKI_KEY_EC_P384 || alg == QPKI_KEY_EC_P521) {
        der_put_oid(&b, OID_EC_PUBLIC_KEY);
        der_put_oid(&b, curve_oid(alg));
    } else {
        der_put_oid(&b, curve_oid(alg));
    }
    der_end(&b, algid);
    der_put_bit_string(&b, key, n, 0);
    der_end(&b, spki);
    return der_buf_finish(&b, out, len);
}

/* RFC 8017 §A.1.1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent
 * INTEGER }, inside RFC 3279 §2.3.1 SubjectPublicKeyInfo with rsaEncryption and
 * NULL parameters. */
static qpki_status spki_from_rsa(const uint8_t *mod, size_t mod_len, const uint8_t *exp,
                                 size_t exp_len, uint8_t **out, size_t *len)
{
    der_buf b;
    der_buf_init(&b, 0);
    size_t spki = der_begin(&b, DER_SEQUENCE);
    size_t algid = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, OID_RSA_ENCRYPTION);
    der_put_null(&b);
    der_end(&b, algid);
    size_t bits = der_begin(&b, DER_BIT_STRING);
    der_put_bytes(&b, "", 1); /* no unused bits */
    size_t key = der_begin(&b, DER_SEQUENCE);
    der_put_uint_bytes(&b, mod, mod_len);
    der_put_uint_bytes(&b, exp, exp_len);
    der_end(&b, key);
    der_end(&b, bits);
    der_end(&b, spki);
    return der_buf_finish(&b, out, len);
}

/* CKA_EC_POINT is "DER-encoding of ANSI X9.62 ECPoint value Q" (an OCTET STRING);
 * some modules return the raw point.  want is the raw length. */
static bool unwrap_point(const uint8_t *p, size_t n, size_t want, der_view *pt)
{
    if (n == want) {
        *pt = (der_view){p, n};
        return true;
    }
    der_cursor c = der_cursor_init(p, n);
    der_view inner;
    if (der_read_octet_string(&c, &inner) != QPKI_OK || !der_at_end(&c) || inner.n != want)
        return false;
    *pt = inner;
    return true;
}

static size_t mldsa_pk_len(qpki_key_alg alg)
{
    /* FIPS 204 §4 Table 2: public key sizes. */
    switch (alg) {
    case QPKI_KEY_ML_DSA_44: return 1312;
    case QPKI_KEY_ML_DSA_65: return 1952;
    case QPKI_KEY_ML_DSA_87: return 2592;
    default: return 0;
    }
}

static qpki_key_alg mldsa_from_param_set(unsigned long ps)
{
    switch (ps) {
    case P11_CKP_ML_DSA_44: return QPKI_KEY_ML_DSA_44;
    case P11_CKP_ML_DSA_65: return QPKI_KEY_ML_DSA_65;
    case P11_CKP_ML_DSA_87: return QPKI_KEY_ML_DSA_87;
    default: return QPKI_KEY_UNKNOWN;
    }
}

/* Key algorithm of a key object from its attributes (either class). */
static qpki_status object_key_alg(struct ck_function_list *fl, ck_session_handle_t s,
                                  ck_object_handle_t obj, qpki_key_alg *alg)
{
    unsigned long kt = 0, ps = 0;
    uint8_t *params = NULL;
    size_t params_len = 0;
    *alg = QPKI_KEY_UNKNOWN;
    QPKI_GUARD(get_ulong(fl, s, obj, CKA_KEY_TYPE, &kt));
    switch (kt) {
    case CKK_RSA:
        *alg = QPKI_KEY_RSA;
        return QPKI_OK;
    case CKK_EC:
    case CKK_EC_EDWARDS:
        QPKI_GUARD(get_attr(fl, s, obj, CKA_EC_PARAMS, &params, &params_len));
        *alg = alg_from_ec_params(params, params_len);
        qpki_free(params);
        return *alg == QPKI_KEY_UNKNOWN ? QPKI_ERR_UNSUPPORTED_ALGORITHM : QPKI_OK;
    case P11_CKK_ML_DSA:
        QPKI_GUARD(get_ulong(fl, s, obj, P11_CKA_PARAMETER_SET, &ps));
        *alg = mldsa_from_param_set(ps);
        return *alg == QPKI_KEY_UNKNOWN ? QPKI_ERR_UNSUPPORTED_ALGORITHM : QPKI_OK;
    default:
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
}

static qpki_status rsa_spki_from_object(struct ck_function_list *fl, ck_session_handle_t s,
                                        ck_object_handle_t obj, uint8_t **spki,
                                        size_t *spki_len, size_t *mod_bytes)
{
    uint8_t *mod = NULL, *exp = NULL;
    size_t mod_len = 0, exp_len = 0;
    qpki_status rc;
    QPKI_CHECK(get_attr(fl, s, obj, CKA_MODULUS, &mod, &mod_len));
    QPKI_CHECK(get_attr(fl, s, obj, CKA_PUBLIC_EXPONENT, &exp, &exp_len));
    size_t lead = 0;
    while (lead < mod_len && mod[lead] == 0)
        lead++;
    if (mod_len - lead < 64 || exp_len == 0)
        QPKI_FAIL(QPKI_ERR_BAD_KEY);
    if (mod_bytes)
        *mod_bytes = mod_len - lead;
    rc = spki ? spki_from_rsa(mod + lead, mod_len - lead, exp, exp_len, spki, spki_len)
              : QPKI_OK;
out:
    qpki_free(mod);
    qpki_free(exp);
    return rc;
}

qpki_status p11_public_key_spki(struct ck_function_list *fl, ck_session_handle_t session,
                                ck_object_handle_t pub, qpki_key_alg *alg, uint8_t **spki,
                                size_t *spki_len)
{
    uint8_t *raw = NULL;
    size_t raw_len = 0;
    der_view pt;
    qpki_status rc;
    *spki = NULL;
    QPKI_GUARD(object_key_alg(fl, session, pub, alg));
    switch (*alg) {
    case QPKI_KEY_RSA:
        return rsa_spki_from_object(fl, session, pub, spki, spki_len, NULL);
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87:
        QPKI_CHECK(get_attr(fl, session, pub, CKA_VALUE, &raw, &raw_len));
        if (raw_len != mldsa_pk_len(*alg))
            QPKI_FAIL(QPKI_ERR_BAD_KEY);
        rc = spki_from_point(*alg, raw, raw_len, spki, spki_len);
        break;
    default: {
        size_t coord = ec_coord_len(*alg);
        bool edwards = *alg == QPKI_KEY_ED25519 || *alg == QPKI_KEY_ED448;
        size_t want = edwards ? coord : 1 + 2 * coord;
        QPKI_CHECK(get_attr(fl, session, pub, CKA_EC_POINT, &raw, &raw_len));
        if (!unwrap_point(raw, raw_len, want, &pt) || (!edwards && pt.p[0] != 0x04))
            QPKI_FAIL(QPKI_ERR_BAD_KEY);
        rc = spki_from_point(*alg, pt.p, pt.n, spki, spki_len);
        break;
    }
    }
out:
    qpki_free(raw);
    return rc;
}

void p11_key_info_clear(p11_key_info *info)
{
    qpki_free(info->spki);
    *info = (p11_key_info){0};
}

qpki_status p11_key_describe(struct ck_function_list *fl, ck_session_handle_t session,
                             ck_object_handle_t key, const p11_key_ref *ref, p11_key_info *info,
                             char *err, size_t errlen)
{
    *info = (p11_key_info){0};
    qpki_status rc = object_key_alg(fl, session, key, &info->alg);
    if (rc != QPKI_OK) {
        unsigned long kt = 0;
        (void)get_ulong(fl, session, key, CKA_KEY_TYPE, &kt);
        p11_err(err, errlen, "the private key's type (CKK 0x%lx) is not one we can sign with "
                             "(EC P-256/P-384/P-521, RSA, Ed25519, Ed448, ML-DSA)", kt);
        return rc == QPKI_ERR_SIGNER_UNAVAILABLE ? rc : QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    info->always_authenticate = get_bool(fl, session, key, CKA_ALWAYS_AUTHENTICATE);
    if (info->alg == QPKI_KEY_RSA) {
        rc = rsa_spki_from_object(fl, session, key, &info->spki, &info->spki_len,
                                  &info->modulus_len);
        if (rc != QPKI_OK) {
            p11_err(err, errlen, "cannot read the RSA key's modulus: %s", qpki_strerror(rc));
            return rc;
        }
        return QPKI_OK;
    }

    /* The public half lives in a CKO_PUBLIC_KEY object: the one with the private
     * key's CKA_ID (and label, when that narrows it down). */
    uint8_t *id = NULL;
    size_t id_len = 0;
    (void)get_attr(fl, session, key, CKA_ID, &id, &id_len);
    p11_key_ref pub_ref = *ref;
    if (id && id_len) {
        pub_ref.id = id;
        pub_ref.id_len = id_len;
    }
    ck_object_handle_t pubs[2];
    size_t n = 0;
    rc = p11_find_objects(fl, session, CKO_PUBLIC_KEY, &pub_ref, pubs, 2, &n, err, errlen);
    if (rc == QPKI_OK && n == 0 && pub_ref.label && pub_ref.id) {
        pub_ref.label = NULL; /* public object labelled differently */
        rc = p11_find_objects(fl, session, CKO_PUBLIC_KEY, &pub_ref, pubs, 2, &n, err, errlen);
    }
    qpki_free(id);
    if (rc != QPKI_OK)
        return rc;
    if (n == 1) {
        qpki_key_alg pub_alg = QPKI_KEY_UNKNOWN;
        uint8_t *spki = NULL;
        size_t spki_len = 0;
        if (p11_public_key_spki(fl, session, pubs[0], &pub_alg, &spki, &spki_len) == QPKI_OK) {
            if (pub_alg == info->alg) {
                info->spki = spki;
                info->spki_len = spki_len;
            } else {
                qpki_free(spki);
            }
        }
    }
    return QPKI_OK;
}

/* ---- comparing public keys ----------------------------------------------------------- */

typedef struct spki_parts {
    der_view oid, params, bits;
    bool has_params;
} spki_parts;

static qpki_status spki_split(const uint8_t *p, size_t n, spki_parts *out)
{
    der_cursor c = der_cursor_init(p, n), spki, alg;
    unsigned unused = 0;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &spki));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(der_read_tlv(&spki, DER_SEQUENCE, &alg));
    QPKI_GUARD(der_read_oid(&alg, &out->oid));
    out->params = der_cursor_view(&alg);
    out->has_params = out->params.n > 0;
    QPKI_GUARD(der_read_bit_string(&spki, &out->bits, &unused));
    QPKI_GUARD(der_expect_end(&spki));
    QPKI_ENSURE(unused == 0, QPKI_ERR_DECODE);
    return QPKI_OK;
}

qpki_status p11_spki_same_key(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    spki_parts x, y;
    QPKI_GUARD(spki_split(a, a_len, &x));
    QPKI_GUARD(spki_split(b, b_len, &y));
    if (!der_view_eq(x.oid, y.oid.p, y.oid.n))
        return QPKI_ERR_KEY_MISMATCH;
    /* RFC 3279 §2.3.1: rsaEncryption parameters "SHALL be the ASN.1 type NULL";
     * tolerate an absent field on either side. */
    if (!der_oid_eq(x.oid, OID_RSA_ENCRYPTION) && !der_view_eq(x.params, y.params.p, y.params.n))
        return QPKI_ERR_KEY_MISMATCH;
    if (!der_view_eq(x.bits, y.bits.p, y.bits.n))
        return QPKI_ERR_KEY_MISMATCH;
    return QPKI_OK;
}

qpki_key_alg p11_spki_key_alg(const uint8_t *spki, size_t len)
{
    spki_parts x;
    if (spki_split(spki, len, &x) != QPKI_OK)
        return QPKI_KEY_UNKNOWN;
    if (der_oid_eq(x.oid, OID_RSA_ENCRYPTION))
        return QPKI_KEY_RSA;
    if (der_oid_eq(x.oid, OID_EC_PUBLIC_KEY))
        return alg_from_ec_params(x.params.p, x.params.n);
    static const qpki_key_alg plain[] = {QPKI_KEY_ED25519, QPKI_KEY_ED448, QPKI_KEY_ML_DSA_44,
                                         QPKI_KEY_ML_DSA_65, QPKI_KEY_ML_DSA_87};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(plain); i++)
        if (der_oid_eq(x.oid, curve_oid(plain[i])))
            return plain[i];
    return QPKI_KEY_UNKNOWN;
}

/* ---- mechanisms ------------------------------------------------------------------------ */

bool p11_has_mechanism(struct ck_function_list *fl, ck_slot_id_t slot, ck_mechanism_type_t mech,
                       bool keygen)
{
    struct ck_mechanism_info mi;
    if (fl->C_GetMechanismInfo(slot, mech, &mi) != CKR_OK)
        return false;
    return (mi.flags & (keygen ? CKF_GENERATE_KEY_PAIR : CKF_SIGN)) != 0;
}
