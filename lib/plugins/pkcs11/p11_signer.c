/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/p11_signer.c - a qpki_signer_ops implementation on a
 * PKCS#11 private key, with a pool of sessions and reconnection.
 *
 * Concurrency: PKCS#11 v2.40 §6.7.7 allows one active signing operation per
 * session, and with CKF_OS_LOCKING_OK the module may be called from several
 * threads at once.  So the signer keeps a pool of sessions (logged in once:
 * "all sessions that an application has with a token share the same login
 * state", §5.1), and each sign() checks one out for C_SignInit + C_Sign.
 *
 * Recovery: a result that means the token, the session or the login is gone
 * (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID, ... see
 * p11_rv_is_connection_loss) marks the signer down: sign() returns
 * QPKI_ERR_SIGNER_UNAVAILABLE at once (the responder answers tryLater) and
 * health() reports it.  The next call after a backoff delay (50 ms doubling to
 * 5 s) waits for the sessions in use, closes them, selects the token again (its
 * slot id may have changed), logs in with the PIN read again from the
 * environment, finds the key again and checks it is still the same public key;
 * only then does signing resume.  No thread is started: recovery happens on
 * the calling threads. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include "../../der/der.h"
#include "../../der/oid.h"
#include "p11.h"

#define BACKOFF_FIRST_NS (50ull * 1000 * 1000)
#define BACKOFF_MAX_NS (5000ull * 1000 * 1000)
#define POOL_MAX 16
#define MAX_DIGEST 64

/* ---- algorithms -------------------------------------------------------------- */

typedef enum sign_kind { KIND_ECDSA, KIND_PKCS1, KIND_PSS, KIND_EDDSA, KIND_MLDSA } sign_kind;

typedef struct alg_entry {
    qpki_sig_alg sig;
    sign_kind kind;
    qpki_hash_alg hash;
    ck_mechanism_type_t combined;  /* token hashes (0 = none) */
    ck_mechanism_type_t raw;       /* we hash (or no hash: EdDSA, ML-DSA) */
    ck_mechanism_type_t hash_mech; /* PSS params */
    unsigned long mgf;
    unsigned long salt;
} alg_entry;

static const alg_entry alg_table[] = {
    {QPKI_SIG_ECDSA_SHA256, KIND_ECDSA, QPKI_HASH_SHA256, 0, CKM_ECDSA, 0, 0, 0},
    {QPKI_SIG_ECDSA_SHA384, KIND_ECDSA, QPKI_HASH_SHA384, 0, CKM_ECDSA, 0, 0, 0},
    {QPKI_SIG_ECDSA_SHA512, KIND_ECDSA, QPKI_HASH_SHA512, 0, CKM_ECDSA, 0, 0, 0},
    {QPKI_SIG_RSA_PKCS1_SHA256, KIND_PKCS1, QPKI_HASH_SHA256, CKM_SHA256_RSA_PKCS, CKM_RSA_PKCS,
     0, 0, 0},
    {QPKI_SIG_RSA_PKCS1_SHA384, KIND_PKCS1, QPKI_HASH_SHA384, CKM_SHA384_RSA_PKCS, CKM_RSA_PKCS,
     0, 0, 0},
    {QPKI_SIG_RSA_PKCS1_SHA512, KIND_PKCS1, QPKI_HASH_SHA512, CKM_SHA512_RSA_PKCS, CKM_RSA_PKCS,
     0, 0, 0},
    {QPKI_SIG_RSA_PSS_SHA256, KIND_PSS, QPKI_HASH_SHA256, CKM_SHA256_RSA_PKCS_PSS,
     CKM_RSA_PKCS_PSS, CKM_SHA256, CKG_MGF1_SHA256, 32},
    {QPKI_SIG_RSA_PSS_SHA384, KIND_PSS, QPKI_HASH_SHA384, CKM_SHA384_RSA_PKCS_PSS,
     CKM_RSA_PKCS_PSS, CKM_SHA384, CKG_MGF1_SHA384, 48},
    {QPKI_SIG_RSA_PSS_SHA512, KIND_PSS, QPKI_HASH_SHA512, CKM_SHA512_RSA_PKCS_PSS,
     CKM_RSA_PKCS_PSS, CKM_SHA512, CKG_MGF1_SHA512, 64},
    {QPKI_SIG_ED25519, KIND_EDDSA, QPKI_HASH_NONE, 0, CKM_EDDSA, 0, 0, 0},
    {QPKI_SIG_ED448, KIND_EDDSA, QPKI_HASH_NONE, 0, CKM_EDDSA, 0, 0, 0},
    /* ML-DSA: written from PKCS#11 3.2 (CKM_ML_DSA, CKK_ML_DSA, CKA_PARAMETER_SET)
     * and untested - no token we can run in CI (SoftHSM2 2.6) offers it. */
    {QPKI_SIG_ML_DSA_44, KIND_MLDSA, QPKI_HASH_NONE, 0, P11_CKM_ML_DSA, 0, 0, 0},
    {QPKI_SIG_ML_DSA_65, KIND_MLDSA, QPKI_HASH_NONE, 0, P11_CKM_ML_DSA, 0, 0, 0},
    {QPKI_SIG_ML_DSA_87, KIND_MLDSA, QPKI_HASH_NONE, 0, P11_CKM_ML_DSA, 0, 0, 0},
};

static const alg_entry *find_alg(qpki_sig_alg sig)
{
    for (size_t i = 0; i < QPKI_ARRAY_LEN(alg_table); i++)
        if (alg_table[i].sig == sig)
            return &alg_table[i];
    return NULL;
}

static bool alg_fits_key(const alg_entry *e, qpki_key_alg key)
{
    switch (e->kind) {
    case KIND_ECDSA:
        return key == QPKI_KEY_EC_P256 || key == QPKI_KEY_EC_P384 || key == QPKI_KEY_EC_P521;
    case KIND_PKCS1:
    case KIND_PSS:
        return key == QPKI_KEY_RSA;
    case KIND_EDDSA:
        return (e->sig == QPKI_SIG_ED25519 && key == QPKI_KEY_ED25519) ||
               (e->sig == QPKI_SIG_ED448 && key == QPKI_KEY_ED448);
    case KIND_MLDSA:
        return (e->sig == QPKI_SIG_ML_DSA_44 && key == QPKI_KEY_ML_DSA_44) ||
               (e->sig == QPKI_SIG_ML_DSA_65 && key == QPKI_KEY_ML_DSA_65) ||
               (e->sig == QPKI_SIG_ML_DSA_87 && key == QPKI_KEY_ML_DSA_87);
    }
    return false;
}

static der_oid hash_oid(qpki_hash_alg h)
{
    switch (h) {
    case QPKI_HASH_SHA256: return OID_SHA256;
    case QPKI_HASH_SHA384: return OID_SHA384;
    case QPKI_HASH_SHA512: return OID_SHA512;
    default: return (der_oid){NULL, 0};
    }
}

static der_oid sig_oid(qpki_sig_alg sig)
{
    switch (sig) {
    case QPKI_SIG_ECDSA_SHA256: return OID_ECDSA_SHA256;
    case QPKI_SIG_ECDSA_SHA384: return OID_ECDSA_SHA384;
    case QPKI_SIG_ECDSA_SHA512: return OID_ECDSA_SHA512;
    case QPKI_SIG_RSA_PKCS1_SHA256: return OID_SHA256_RSA;
    case QPKI_SIG_RSA_PKCS1_SHA384: return OID_SHA384_RSA;
    case QPKI_SIG_RSA_PKCS1_SHA512: return OID_SHA512_RSA;
    case QPKI_SIG_RSA_PSS_SHA256:
    case QPKI_SIG_RSA_PSS_SHA384:
    case QPKI_SIG_RSA_PSS_SHA512: return OID_RSASSA_PSS;
    case QPKI_SIG_ED25519: return OID_ED25519;
    case QPKI_SIG_ED448: return OID_ED448;
    case QPKI_SIG_ML_DSA_44: return OID_ML_DSA_44;
    case QPKI_SIG_ML_DSA_65: return OID_ML_DSA_65;
    case QPKI_SIG_ML_DSA_87: return OID_ML_DSA_87;
    default: return (der_oid){NULL, 0};
    }
}

static void put_hash_alg_id(der_buf *b, qpki_hash_alg h)
{
    size_t seq = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, hash_oid(h));
    der_put_null(b);
    der_end(b, seq);
}

/* The AlgorithmIdentifier that goes into the signed structure:
 * - RFC 4055 §5: sha*WithRSAEncryption "the parameters MUST be present and MUST
 *   be NULL";
 * - RFC 5758 §3.2: ecdsa-with-SHA*: "the encoding MUST omit the parameters field";
 * - RFC 8410 §3 (Ed25519/Ed448) and RFC 9881 (ML-DSA): parameters absent;
 * - RFC 4055 §3.1 RSASSA-PSS-params written in full: hashAlgorithm, maskGenAlgorithm
 *   (MGF1 with the same hash), saltLength = hash length; trailerField is the
 *   DEFAULT 1 and so omitted (X.690 §11.5).  Hash identifiers carry NULL
 *   parameters, as OpenSSL writes them. */
static qpki_status alg_id_der(const alg_entry *e, uint8_t **out, size_t *len)
{
    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_oid(&b, sig_oid(e->sig));
    if (e->kind == KIND_PKCS1)
        der_put_null(&b);
    if (e->kind == KIND_PSS) {
        size_t params = der_begin(&b, DER_SEQUENCE);
        size_t h = der_begin(&b, DER_CTX_CONS(0));
        put_hash_alg_id(&b, e->hash);
        der_end(&b, h);
        size_t m = der_begin(&b, DER_CTX_CONS(1));
        size_t mgf = der_begin(&b, DER_SEQUENCE);
        der_put_oid(&b, OID_MGF1);
        put_hash_alg_id(&b, e->hash);
        der_end(&b, mgf);
        der_end(&b, m);
        size_t salt = der_begin(&b, DER_CTX_CONS(2));
        der_put_uint64(&b, e->salt);
        der_end(&b, salt);
        der_end(&b, params);
    }
    der_end(&b, seq);
    return der_buf_finish(&b, out, len);
}

static qpki_status digest(qpki_hash_alg h, const uint8_t *in, size_t n, uint8_t *out,
                          size_t *out_len)
{
    if (n > UINT32_MAX)
        return QPKI_ERR_TOO_LARGE;
    int ret;
    switch (h) {
    case QPKI_HASH_SHA256:
        ret = wc_Sha256Hash(in, (word32)n, out);
        *out_len = 32;
        break;
    case QPKI_HASH_SHA384:
        ret = wc_Sha384Hash(in, (word32)n, out);
        *out_len = 48;
        break;
    case QPKI_HASH_SHA512:
        ret = wc_Sha512Hash(in, (word32)n, out);
        *out_len = 64;
        break;
    default:
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    return ret == 0 ? QPKI_OK : QPKI_ERR_CRYPTO;
}

/* RFC 8017 §9.2 note 1: the DER of DigestInfo for each hash, up to the digest. */
static const uint8_t digest_info_sha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x01, 0x05, 0x00, 0x04, 0x20};
static const uint8_t digest_info_sha384[] = {0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x02, 0x05, 0x00, 0x04, 0x30};
static const uint8_t digest_info_sha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60,
                                             0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                                             0x03, 0x05, 0x00, 0x04, 0x40};

/* ---- the signer object ------------------------------------------------------------ */

typedef struct p11_signer {
    p11_config cfg;
    p11_module *mod;
    struct ck_function_list *fl;
    ck_slot_id_t slot;
    char *label;
    uint8_t id[QPKI_PLUGIN_MAX_KEY_ID];
    p11_key_ref ref;

    const alg_entry *alg;
    ck_mechanism_type_t mech;
    bool combined;                 /* mech hashes inside the token */
    qpki_key_alg key_alg;
    size_t raw_sig_len;            /* exact length C_Sign returns */
    size_t max_sig;
    bool always_auth;
    uint8_t *alg_der;
    size_t alg_der_len;
    uint8_t *spki;                 /* the public key we report */
    size_t spki_len;
    uint8_t *token_spki;           /* the token's public key when it has one */
    size_t token_spki_len;

    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t pool_size;
    ck_session_handle_t open[POOL_MAX];
    size_t nopen;
    ck_session_handle_t idle[POOL_MAX];
    size_t nidle;
    size_t busy;
    ck_object_handle_t key;
    bool up;
    bool reconnecting;
    unsigned failures;             /* consecutive losses since the last good signature */
    uint64_t next_retry_ns;
} p11_signer;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t backoff_ns(unsigned failures)
{
    uint64_t d = BACKOFF_FIRST_NS;
    for (unsigned i = 1; i < failures && d < BACKOFF_MAX_NS; i++)
        d *= 2;
    return d < BACKOFF_MAX_NS ? d : BACKOFF_MAX_NS;
}

static void close_sessions(p11_signer *s)
{
    for (size_t i = 0; i < s->nopen; i++)
        (void)s->fl->C_CloseSession(s->open[i]);
    s->nopen = 0;
    s->nidle = 0;
}

static size_t choose_pool_size(p11_signer *s)
{
    if (!p11_module_threadsafe(s->mod))
        return 1;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    size_t n = cpus > 0 ? 2 * (size_t)cpus : 4;
    if (n < 2)
        n = 2;
    if (n > POOL_MAX)
        n = POOL_MAX;
    struct ck_token_info ti;
    if (s->fl->C_GetTokenInfo(s->slot, &ti) == CKR_OK && ti.max_session_count != 0 &&
        ti.max_session_count != (unsigned long)-1) {
        unsigned long room = ti.max_session_count > ti.session_count
                                 ? ti.max_session_count - ti.session_count
                                 : 1;
        if (ti.session_count == (unsigned long)-1)
            room = ti.max_session_count;
        if (room < n)
            n = room ? room : 1;
    }
    return n;
}

/* Select the token, log in, find the key, open the pool.  Called with exclusive
 * use of the session fields: during open, or by the one reconnecting thread
 * while no session is checked out.  first: record the key's algorithm and
 * public key; later: check they did not change. */
static qpki_status connect_token(p11_signer *s, bool first, char *err, size_t errlen)
{
    qpki_status rc;
    ck_rv_t rv;
    p11_key_info info = {0};
    ck_session_handle_t h;

    QPKI_CHECK(p11_find_slot(s->mod, &s->cfg, &s->slot, err, errlen));
    rv = s->fl->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
    if (rv != CKR_OK) {
        p11_err(err, errlen, "C_OpenSession failed: %s", p11_rv_name(rv));
        QPKI_FAIL(QPKI_ERR_SIGNER_UNAVAILABLE);
    }
    s->open[s->nopen++] = h;
    QPKI_CHECK(p11_login(s->fl, h, &s->cfg, false, err, errlen));
    QPKI_CHECK(p11_find_private_key(s->fl, h, &s->ref, &s->key, err, errlen));
    QPKI_CHECK(p11_key_describe(s->fl, h, s->key, &s->ref, &info, err, errlen));
    if (first) {
        s->key_alg = info.alg;
        s->always_auth = info.always_authenticate;
        s->raw_sig_len = info.modulus_len;
        s->token_spki = info.spki;
        s->token_spki_len = info.spki_len;
        info.spki = NULL;
        s->pool_size = choose_pool_size(s);
    } else if (info.alg != s->key_alg ||
               (s->token_spki && (!info.spki || p11_spki_same_key(s->token_spki,
                                                                  s->token_spki_len, info.spki,
                                                                  info.spki_len) != QPKI_OK))) {
        p11_err(err, errlen, "after reconnecting, the key on the token is not the same key");
        QPKI_FAIL(QPKI_ERR_KEY_MISMATCH);
    }
    while (s->nopen < s->pool_size) {
        rv = s->fl->C_OpenSession(s->slot, CKF_SERIAL_SESSION, NULL, NULL, &h);
        if (rv != CKR_OK)
            break; /* fewer sessions is fine (CKR_SESSION_COUNT) */
        s->open[s->nopen++] = h;
    }
    memcpy(s->idle, s->open, s->nopen * sizeof s->open[0]);
    s->nidle = s->nopen;
    rc = QPKI_OK;
out:
    p11_key_info_clear(&info);
    if (rc != QPKI_OK)
        close_sessions(s);
    return rc;
}

/* Caller holds mu and saw a loss on the current generation. */
static void mark_down_locked(p11_signer *s)
{
    if (!s->up)
        return;
    s->up = false;
    s->nidle = 0;
    s->failures++;
    s->next_retry_ns = now_ns() + backoff_ns(s->failures);
    pthread_cond_broadcast(&s->cv);
}

/* Caller set s->reconnecting under mu and released it. */
static void reconnect(p11_signer *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->busy > 0)
        pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);

    close_sessions(s);
    qpki_status rc = connect_token(s, false, NULL, 0);

    pthread_mutex_lock(&s->mu);
    if (rc == QPKI_OK) {
        s->up = true;
    } else {
        s->failures++;
        s->next_retry_ns = now_ns() + backoff_ns(s->failures);
    }
    s->reconnecting = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static qpki_status checkout(p11_signer *s, ck_session_handle_t *h, ck_object_handle_t *key)
{
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (!s->up) {
            if (!s->reconnecting && now_ns() >= s->next_retry_ns) {
                s->reconnecting = true;
                pthread_mutex_unlock(&s->mu);
                reconnect(s);
                pthread_mutex_lock(&s->mu);
                if (s->up)
                    continue;
            }
            pthread_mutex_unlock(&s->mu);
            return QPKI_ERR_SIGNER_UNAVAILABLE;
        }
        if (s->nidle > 0)
            break;
        pthread_cond_wait(&s->cv, &s->mu);
    }
    *h = s->idle[--s->nidle];
    *key = s->key;
    s->busy++;
    pthread_mutex_unlock(&s->mu);
    return QPKI_OK;
}

static void checkin(p11_signer *s, ck_session_handle_t h, ck_rv_t rv)
{
    pthread_mutex_lock(&s->mu);
    s->busy--;
    if (s->up) {
        if (p11_rv_is_connection_loss(rv))
            mark_down_locked(s);
        else
            s->idle[s->nidle++] = h;
        if (rv == CKR_OK)
            s->failures = 0;
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- signing ---------------------------------------------------------------------- */

static size_t der_len_octets(size_t n) { return n < 0x80 ? 1 : n < 0x100 ? 2 : 3; }

/* Upper bound of DER Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } for
 * coordinates of coord bytes (each INTEGER may gain a leading 0x00). */
static size_t ecdsa_der_max(size_t coord)
{
    size_t integer = 1 + der_len_octets(coord + 1) + coord + 1;
    return 1 + der_len_octets(2 * integer) + 2 * integer;
}

static ck_rv_t sign_on_session(p11_signer *s, ck_session_handle_t h, ck_object_handle_t key,
                               const uint8_t *in, size_t in_len, uint8_t *out,
                               unsigned long *out_len, qpki_status *auth_rc)
{
    struct ck_mechanism m = {s->mech, NULL, 0};
    struct ck_rsa_pkcs_pss_params pss;
    struct p11_eddsa_params ed;
    if (s->alg->kind == KIND_PSS) {
        /* PKCS#11 v2.40 §2.1.14 CK_RSA_PKCS_PSS_PARAMS: hashAlg, mgf, sLen. */
        pss.hash_alg = s->alg->hash_mech;
        pss.mgf = s->alg->mgf;
        pss.s_len = s->alg->salt;
        m.parameter = &pss;
        m.parameter_len = sizeof pss;
    } else if (s->alg->sig == QPKI_SIG_ED448) {
        /* PKCS#11 3.0 §2.3.14: Ed448 is selected by CK_EDDSA_PARAMS with
         * phFlag = CK_FALSE (pure) and an empty context (RFC 8032 §5.2). */
        ed = (struct p11_eddsa_params){0, 0, NULL};
        m.parameter = &ed;
        m.parameter_len = sizeof ed;
    }
    /* CKM_ML_DSA without a parameter: pure ML-DSA, empty context (PKCS#11 3.2). */
    ck_rv_t rv = s->fl->C_SignInit(h, &m, key);
    if (rv != CKR_OK)
        return rv;
    if (s->always_auth) {
        /* PKCS#11 v2.40 §4.9 CKA_ALWAYS_AUTHENTICATE: "the user has to supply the
         * PIN for each use (sign or decrypt) with the key". */
        *auth_rc = p11_login(s->fl, h, &s->cfg, true, NULL, 0);
        if (*auth_rc != QPKI_OK) {
            unsigned long dummy = *out_len;
            (void)s->fl->C_Sign(h, (unsigned char *)(uintptr_t)in, in_len, out, &dummy);
            return CKR_USER_NOT_LOGGED_IN;
        }
    }
    return s->fl->C_Sign(h, (unsigned char *)(uintptr_t)in, in_len, out, out_len);
}

static qpki_status ecdsa_to_der(const uint8_t *raw, size_t raw_len, uint8_t *sig,
                                size_t *sig_len)
{
    size_t half = raw_len / 2;
    bool r_zero = true, s_zero = true;
    for (size_t i = 0; i < half; i++) {
        r_zero = r_zero && raw[i] == 0;
        s_zero = s_zero && raw[half + i] == 0;
    }
    if (raw_len % 2 != 0 || r_zero || s_zero)
        return QPKI_ERR_CRYPTO;
    /* SEC 1 §C.5 / RFC 5480 §2.2.3: Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER,
     * s INTEGER }; PKCS#11 CKM_ECDSA returns r || s, each the length of n. */
    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_uint_bytes(&b, raw, half);
    der_put_uint_bytes(&b, raw + half, half);
    der_end(&b, seq);
    uint8_t *der = NULL;
    size_t der_len = 0;
    QPKI_GUARD(der_buf_finish(&b, &der, &der_len));
    qpki_status rc = QPKI_ERR_BUFFER_TOO_SMALL;
    if (der_len <= *sig_len) {
        memcpy(sig, der, der_len);
        *sig_len = der_len;
        rc = QPKI_OK;
    }
    qpki_free(der);
    return rc;
}

static qpki_status p11s_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                             size_t *sig_len)
{
    p11_signer *s = self;
    if (!s || (!tbs && tbs_len) || !sig || !sig_len)
        return QPKI_ERR_INVALID_ARG;
    if (*sig_len < s->max_sig)
        return QPKI_ERR_BUFFER_TOO_SMALL;

    /* The input the mechanism takes. */
    uint8_t input[sizeof digest_info_sha512 + MAX_DIGEST];
    const uint8_t *in = tbs;
    size_t in_len = tbs_len;
    if (!s->combined && s->alg->hash != QPKI_HASH_NONE) {
        size_t prefix_len = 0;
        if (s->alg->kind == KIND_PKCS1) {
            /* RFC 8017 §9.2 EMSA-PKCS1-v1_5 step 2: T = DigestInfo(H(M)); CKM_RSA_PKCS
             * adds the padding. */
            const uint8_t *prefix = s->alg->hash == QPKI_HASH_SHA256   ? digest_info_sha256
                                    : s->alg->hash == QPKI_HASH_SHA384 ? digest_info_sha384
                                                                       : digest_info_sha512;
            prefix_len = sizeof digest_info_sha256;
            memcpy(input, prefix, prefix_len);
        }
        size_t dlen = 0;
        QPKI_GUARD(digest(s->alg->hash, tbs, tbs_len, input + prefix_len, &dlen));
        in = input;
        in_len = prefix_len + dlen;
    }

    uint8_t raw[2 * 66];
    uint8_t *out = s->alg->kind == KIND_ECDSA ? raw : sig;
    unsigned long out_len = s->alg->kind == KIND_ECDSA ? sizeof raw : *sig_len;
    ck_session_handle_t h;
    ck_object_handle_t key;
    qpki_status auth_rc = QPKI_OK;
    qpki_status rc = checkout(s, &h, &key);
    if (rc != QPKI_OK)
        goto out;
    ck_rv_t rv = sign_on_session(s, h, key, in, in_len, out, &out_len, &auth_rc);
    checkin(s, h, rv);
    if (rv != CKR_OK) {
        if (auth_rc == QPKI_ERR_PIN)
            rc = QPKI_ERR_PIN;
        else
            rc = p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_ERR_CRYPTO;
        goto out;
    }
    switch (s->alg->kind) {
    case KIND_ECDSA:
        rc = out_len == s->raw_sig_len ? ecdsa_to_der(raw, out_len, sig, sig_len)
                                       : QPKI_ERR_CRYPTO;
        break;
    case KIND_PKCS1:
    case KIND_PSS:
        /* RFC 8017 §8.2.1 / §8.1.1: the signature is an octet string of length k;
         * left-pad a module's shorter integer form. */
        if (out_len == 0 || out_len > s->raw_sig_len) {
            rc = QPKI_ERR_CRYPTO;
            break;
        }
        if (out_len < s->raw_sig_len) {
            size_t pad = s->raw_sig_len - out_len;
            memmove(sig + pad, sig, out_len);
            memset(sig, 0, pad);
        }
        *sig_len = s->raw_sig_len;
        break;
    default:
        if (out_len != s->raw_sig_len) {
            rc = QPKI_ERR_CRYPTO;
            break;
        }
        *sig_len = out_len;
        break;
    }
out:
    qpki_wipe(input, sizeof input);
    return rc;
}

/* ---- the other methods --------------------------------------------------------------- */

static qpki_status p11s_algorithm(void *self, const uint8_t **alg_der, size_t *alg_len)
{
    p11_signer *s = self;
    if (!s || !alg_der || !alg_len)
        return QPKI_ERR_INVALID_ARG;
    *alg_der = s->alg_der;
    *alg_len = s->alg_der_len;
    return QPKI_OK;
}

static qpki_status p11s_public_key(void *self, const uint8_t **spki, size_t *spki_len)
{
    p11_signer *s = self;
    if (!s || !spki || !spki_len)
        return QPKI_ERR_INVALID_ARG;
    *spki = s->spki;
    *spki_len = s->spki_len;
    return QPKI_OK;
}

static size_t p11s_max_signature_size(void *self)
{
    p11_signer *s = self;
    return s ? s->max_sig : 0;
}

/* QPKI_OK when a signature can be made now.  While recovering (after a loss and
 * until a signature succeeds again) this signs a probe, so a token that lets us
 * log in but still cannot sign is not reported healthy. */
static qpki_status p11s_health(void *self)
{
    p11_signer *s = self;
    if (!s)
        return QPKI_ERR_INVALID_ARG;
    pthread_mutex_lock(&s->mu);
    bool settled = s->up && s->failures == 0;
    bool have_idle = settled && s->nidle > 0;
    ck_session_handle_t h = 0;
    if (have_idle) {
        h = s->idle[--s->nidle];
        s->busy++;
    }
    pthread_mutex_unlock(&s->mu);
    if (settled) {
        if (!have_idle)
            return QPKI_OK; /* every session is busy signing */
        struct ck_session_info si;
        ck_rv_t rv = s->fl->C_GetSessionInfo(h, &si);
        if (rv == CKR_OK && si.state != CKS_RO_USER_FUNCTIONS && si.state != CKS_RW_USER_FUNCTIONS) {
            struct ck_token_info ti;
            /* Logged out behind our back (only matters when login is required). */
            if (s->fl->C_GetTokenInfo(s->slot, &ti) == CKR_OK && (ti.flags & CKF_LOGIN_REQUIRED))
                rv = CKR_USER_NOT_LOGGED_IN;
        }
        checkin(s, h, rv);
        return p11_rv_is_connection_loss(rv) ? QPKI_ERR_SIGNER_UNAVAILABLE : QPKI_OK;
    }
    static const uint8_t probe[] = "qpki-pkcs11 health probe";
    uint8_t *sig = qpki_malloc(s->max_sig);
    if (!sig)
        return QPKI_ERR_NOMEM;
    size_t sig_len = s->max_sig;
    qpki_status rc = p11s_sign(s, probe, sizeof probe - 1, sig, &sig_len);
    qpki_free(sig);
    return rc == QPKI_OK ? QPKI_OK : QPKI_ERR_SIGNER_UNAVAILABLE;
}

static void p11s_close(void *self)
{
    p11_signer *s = self;
    if (!s)
        return;
    if (s->fl) {
        pthread_mutex_lock(&s->mu);
        while (s->busy > 0 || s->reconnecting)
            pthread_cond_wait(&s->cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
        /* PKCS#11 v2.40 §5.6: when the last session of the application with the
         * token is closed the user is logged out, which honours
         * session.logout_after_use without logging out other signers of this
         * process that share the token. */
        close_sessions(s);
    }
    p11_module_put(s->mod);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    p11_config_clear(&s->cfg);
    qpki_free(s->label);
    qpki_free(s->alg_der);
    qpki_free(s->spki);
    qpki_free(s->token_spki);
    qpki_wipe(s, sizeof *s);
    qpki_free(s);
}

static const qpki_signer_ops p11_ops = {
    .abi_version = QPKI_SIGNER_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_signer_ops),
    .algorithm = p11s_algorithm,
    .public_key = p11s_public_key,
    .max_signature_size = p11s_max_signature_size,
    .sign = p11s_sign,
    .health = p11s_health,
    .close = p11s_close,
};

/* ---- open ----------------------------------------------------------------------------- */

static size_t raw_signature_len(qpki_key_alg key, size_t modulus_len)
{
    switch (key) {
    case QPKI_KEY_EC_P256: return 64;
    case QPKI_KEY_EC_P384: return 96;
    case QPKI_KEY_EC_P521: return 132;
    case QPKI_KEY_RSA: return modulus_len;
    case QPKI_KEY_ED25519: return 64;
    case QPKI_KEY_ED448: return 114;
    /* FIPS 204 §4 Table 2: signature sizes. */
    case QPKI_KEY_ML_DSA_44: return 2420;
    case QPKI_KEY_ML_DSA_65: return 3309;
    case QPKI_KEY_ML_DSA_87: return 4627;
    default: return 0;
    }
}

static qpki_status choose_mechanism(p11_signer *s, qpki_sig_alg want, char *err, size_t errlen)
{
    qpki_sig_alg sig = want == QPKI_SIG_UNKNOWN ? qpki_default_sig_alg(s->key_alg) : want;
    const alg_entry *e = find_alg(sig);
    if (!e || !alg_fits_key(e, s->key_alg)) {
        p11_err(err, errlen, "signature algorithm %s does not fit the token key (%s)",
                qpki_sig_alg_name(sig), qpki_key_alg_name(s->key_alg));
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    s->alg = e;
    if (e->combined && p11_has_mechanism(s->fl, s->slot, e->combined, false)) {
        s->mech = e->combined;
        s->combined = true;
    } else if (p11_has_mechanism(s->fl, s->slot, e->raw, false)) {
        s->mech = e->raw;
        s->combined = false;
    } else if (e->combined) {
        p11_err(err, errlen, "the token offers neither %s nor %s for %s signatures",
                p11_mech_name(e->combined), p11_mech_name(e->raw), qpki_sig_alg_name(sig));
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    } else {
        p11_err(err, errlen, "the token does not offer %s for %s signatures",
                p11_mech_name(e->raw), qpki_sig_alg_name(sig));
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    size_t raw = s->key_alg == QPKI_KEY_RSA ? s->raw_sig_len : raw_signature_len(s->key_alg, 0);
    if (raw == 0) {
        p11_err(err, errlen, "cannot tell the signature size of the token key");
        return QPKI_ERR_BAD_KEY;
    }
    s->raw_sig_len = raw;
    s->max_sig = e->kind == KIND_ECDSA ? ecdsa_der_max(raw / 2) : raw;
    return alg_id_der(e, &s->alg_der, &s->alg_der_len);
}

static qpki_status choose_public_key(p11_signer *s, const uint8_t *cert_spki, size_t cert_len,
                                     char *err, size_t errlen)
{
    if (cert_spki && cert_len) {
        qpki_key_alg cert_alg = p11_spki_key_alg(cert_spki, cert_len);
        if (cert_alg != s->key_alg) {
            p11_err(err, errlen, "the certificate's public key (%s) is not the token key's "
                                 "algorithm (%s)", qpki_key_alg_name(cert_alg),
                    qpki_key_alg_name(s->key_alg));
            return QPKI_ERR_KEY_MISMATCH;
        }
        if (s->token_spki) {
            if (p11_spki_same_key(cert_spki, cert_len, s->token_spki, s->token_spki_len) !=
                QPKI_OK) {
                p11_err(err, errlen, "the certificate's public key does not match the "
                                     "token's public key for this private key");
                return QPKI_ERR_KEY_MISMATCH;
            }
        } else if (s->cfg.verify_key_cert_binding) {
            p11_err(err, errlen, "security.verify_key_cert_binding is set but the token "
                                 "has no public key object for this private key to compare "
                                 "with the certificate");
            return QPKI_ERR_KEY_MISMATCH;
        }
        s->spki = qpki_memdup(cert_spki, cert_len);
        s->spki_len = cert_len;
    } else if (s->token_spki) {
        if (s->cfg.verify_key_cert_binding) {
            p11_err(err, errlen, "security.verify_key_cert_binding is set but no certificate "
                                 "was given to check the key against");
            return QPKI_ERR_KEY_MISMATCH;
        }
        s->spki = qpki_memdup(s->token_spki, s->token_spki_len);
        s->spki_len = s->token_spki_len;
    } else {
        p11_err(err, errlen, "the token has no public key object for this key; give the "
                             "certificate so its public key can be used");
        return QPKI_ERR_NOT_FOUND;
    }
    return s->spki ? QPKI_OK : QPKI_ERR_NOMEM;
}

qpki_status p11_signer_open(const qpki_plugin_key_params *params, const qpki_signer_ops **ops,
                            void **self, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!params || !ops || !self ||
        params->struct_size < offsetof(qpki_plugin_key_params, cert_spki_len) + sizeof(size_t)) {
        p11_err(err, errlen, "bad arguments to the PKCS#11 plugin's open()");
        return QPKI_ERR_INVALID_ARG;
    }
    *ops = NULL;
    *self = NULL;
    qpki_sig_alg want = QPKI_SIG_UNKNOWN;
    if (params->struct_size >= offsetof(qpki_plugin_key_params, sig_alg) + sizeof(qpki_sig_alg))
        want = params->sig_alg;
    bool has_label = params->key_label && params->key_label[0];
    bool has_id = params->key_id && params->key_id_len > 0;
    if (!has_label && !has_id) {
        p11_err(err, errlen, "a key label (--key-label) or key id (--key-id) is required");
        return QPKI_ERR_INVALID_ARG;
    }
    if (params->key_id_len > QPKI_PLUGIN_MAX_KEY_ID) {
        p11_err(err, errlen, "the key id is longer than %d bytes", QPKI_PLUGIN_MAX_KEY_ID);
        return QPKI_ERR_INVALID_ARG;
    }

    p11_signer *s = qpki_calloc(1, sizeof *s);
    if (!s)
        return QPKI_ERR_NOMEM;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    qpki_status rc;
    if (has_label) {
        s->label = qpki_strdup(params->key_label);
        if (!s->label)
            QPKI_FAIL(QPKI_ERR_NOMEM);
        s->ref.label = s->label;
    }
    if (has_id) {
        memcpy(s->id, params->key_id, params->key_id_len);
        s->ref.id = s->id;
        s->ref.id_len = params->key_id_len;
    }
    QPKI_CHECK(p11_config_load(params->config_path, &s->cfg, err, errlen));
    QPKI_CHECK(p11_module_get(s->cfg.lib, &s->mod, err, errlen));
    s->fl = p11_module_functions(s->mod);
    QPKI_CHECK(connect_token(s, true, err, errlen));
    QPKI_CHECK(choose_mechanism(s, want, err, errlen));
    QPKI_CHECK(choose_public_key(s, params->cert_spki, params->cert_spki_len, err, errlen));
    s->up = true;
    *ops = &p11_ops;
    *self = s;
    return QPKI_OK;
out:
    p11s_close(s);
    return rc;
}
