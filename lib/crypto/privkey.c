/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/privkey.c - private keys: construction, generation and signing.
 *
 * Concurrency: wolfSSL key objects (ecc_key, RsaKey, ed25519_key, ed448_key) keep
 * internal state and must not be used by two threads at once.  A crypto_privkey
 * therefore holds a pool of key slots (one per online CPU, at most
 * PRIVKEY_MAX_SLOTS), each with its own mutex and its own wolfSSL key instantiated
 * on first use from the canonical secret.  A signing thread starts at its own
 * slot (a per-thread index), takes the first free slot with trylock and blocks on
 * its own slot only when all are busy.  The random numbers come from the thread's
 * DRBG (rng.c).  So there is no global lock on the signing path and N threads on
 * N cores sign in parallel. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/error-crypt.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <string.h>
#include <unistd.h>

#include "crypto_internal.h"
#include "mldsa/mldsa.h"
#include "qpki_config.h"
#if QPKI_P256_BUILTIN
#include "p256/p256.h"
#endif
#include "../der/oid.h"

#define PRIVKEY_MAX_SLOTS 64u

/* ---- RSA private keys in PKCS#1 form -------------------------------------------- */

qpki_status crypto_rsa_import_private(const uint8_t *der, size_t n, RsaKey *key,
                                      der_view *modulus, der_view *exponent)
{
    /* RFC 8017 Appendix A.1.2:
     *   RSAPrivateKey ::= SEQUENCE { version Version, modulus INTEGER,
     *     publicExponent INTEGER, privateExponent INTEGER, prime1 INTEGER,
     *     prime2 INTEGER, exponent1 INTEGER, exponent2 INTEGER,
     *     coefficient INTEGER, otherPrimeInfos OtherPrimeInfos OPTIONAL }
     * "version is the version number ... It SHALL be 0 for this version of the
     * document, unless multi-prime is used; in which case, it SHALL be 1."
     * Multi-prime keys are not supported. */
    der_cursor c = der_cursor_init(der, n), seq;
    QPKI_GUARD(der_read_tlv(&c, DER_SEQUENCE, &seq));
    QPKI_GUARD(der_expect_end(&c));
    uint64_t version = 0;
    QPKI_GUARD(der_read_uint64(&seq, &version));
    QPKI_ENSURE(version == 0, version == 1 ? QPKI_ERR_UNSUPPORTED_ALGORITHM : QPKI_ERR_BAD_KEY);
    mp_int *fields[8] = {&key->n, &key->e, &key->d, &key->p, &key->q, &key->dP, &key->dQ,
                         &key->u};
    der_view mags[8];
    for (size_t i = 0; i < 8; i++) {
        der_view content;
        QPKI_GUARD(der_read_integer(&seq, &content));
        QPKI_ENSURE(der_integer_magnitude(content, &mags[i]) == QPKI_OK && mags[i].n > 0,
                    QPKI_ERR_BAD_KEY);
        QPKI_ENSURE(mags[i].n <= CRYPTO_RSA_MAX_BITS / 8, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    }
    QPKI_ENSURE(der_at_end(&seq), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    for (size_t i = 0; i < 8; i++)
        if (mp_read_unsigned_bin(fields[i], mags[i].p, (word32)mags[i].n) != MP_OKAY)
            return QPKI_ERR_BAD_KEY;
    key->type = RSA_PRIVATE;
    if (modulus)
        *modulus = mags[0];
    if (exponent)
        *exponent = mags[1];
    return QPKI_OK;
}

/* RFC 8017 §3.2: the CRT values of an RSA private key hold together: "n = r_1 *
 * r_2", "e * d == 1 (mod lambda(n))", "d_i ... e * d_i == 1 (mod (r_i - 1))"
 * (dP = d mod (p-1), dQ = d mod (q-1)) and "r_2 * t_2 == 1 (mod r_1)" (qInv).  A
 * key whose values disagree would sign through the CRT with a wrong result; the
 * first value that does not fit is named.  Runs once per key load (wolfSSL's
 * multi-precision code, not constant time; the verdict is all it reveals). */
static qpki_status rsa_check_crt(RsaKey *k, qpki_detail *detail)
{
    mp_int a, b, pm1, qm1;
    if (mp_init_multi(&a, &b, &pm1, &qm1, NULL, NULL) != MP_OKAY)
        return QPKI_ERR_NOMEM;
    const char *bad = NULL;
    int ret = mp_mul(&k->p, &k->q, &a);
    if (ret == MP_OKAY && mp_cmp(&a, &k->n) != MP_EQ)
        bad = "modulus n is not prime1 * prime2";
    if (ret == MP_OKAY && !bad)
        ret = mp_sub_d(&k->p, 1, &pm1);
    if (ret == MP_OKAY && !bad)
        ret = mp_sub_d(&k->q, 1, &qm1);
    /* dP = d mod (p-1) and dQ = d mod (q-1) */
    if (ret == MP_OKAY && !bad)
        ret = mp_mod(&k->d, &pm1, &a);
    if (ret == MP_OKAY && !bad && mp_cmp(&a, &k->dP) != MP_EQ)
        bad = "exponent1 (dP) is not d mod (prime1 - 1)";
    if (ret == MP_OKAY && !bad)
        ret = mp_mod(&k->d, &qm1, &a);
    if (ret == MP_OKAY && !bad && mp_cmp(&a, &k->dQ) != MP_EQ)
        bad = "exponent2 (dQ) is not d mod (prime2 - 1)";
    /* e * dP == 1 (mod p-1), e * dQ == 1 (mod q-1): d inverts e */
    if (ret == MP_OKAY && !bad)
        ret = mp_mulmod(&k->e, &k->dP, &pm1, &a);
    if (ret == MP_OKAY && !bad)
        ret = mp_mulmod(&k->e, &k->dQ, &qm1, &b);
    if (ret == MP_OKAY && !bad && (mp_cmp_d(&a, 1) != MP_EQ || mp_cmp_d(&b, 1) != MP_EQ))
        bad = "privateExponent d is not the inverse of publicExponent e";
    /* qInv * q == 1 (mod p) */
    if (ret == MP_OKAY && !bad)
        ret = mp_mulmod(&k->u, &k->q, &k->p, &a);
    if (ret == MP_OKAY && !bad && mp_cmp_d(&a, 1) != MP_EQ)
        bad = "coefficient (qInv) is not prime2^-1 mod prime1";
    mp_forcezero(&a);
    mp_forcezero(&b);
    mp_forcezero(&pm1);
    mp_forcezero(&qm1);
    if (ret != MP_OKAY)
        return ret == MP_MEM ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_KEY;
    if (bad)
        return detail_fail(detail, QPKI_ERR_BAD_KEY, "RSA private key: %s", bad);
    return QPKI_OK;
}

/* RSAPublicKey DER from the modulus and exponent magnitudes. */
static qpki_status rsa_public_der(der_view n, der_view e, uint8_t **out, size_t *out_len)
{
    der_buf b;
    der_buf_init(&b, 0);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_uint_bytes(&b, n.p, n.n);
    der_put_uint_bytes(&b, e.p, e.n);
    der_end(&b, seq);
    return der_buf_finish(&b, out, out_len);
}

/* ---- key slots ----------------------------------------------------------------- */

static qpki_status slot_load(const crypto_privkey *key, crypto_key_slot *s)
{
    int ret = 0;
    qpki_status rc = QPKI_OK;
    switch (key->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        ret = wc_ecc_init(&s->k.ecc);
        if (ret != 0)
            return crypto_wolf_status(ret);
        ret = wc_ecc_import_private_key_ex(key->secret, (word32)key->secret_len, key->pub,
                                           (word32)key->pub_len, &s->k.ecc,
                                           crypto_ec_curve_id(key->alg));
        if (ret != 0)
            (void)wc_ecc_free(&s->k.ecc);
        break;
    case QPKI_KEY_RSA:
        ret = wc_InitRsaKey(&s->k.rsa, NULL);
        if (ret != 0)
            return crypto_wolf_status(ret);
        rc = crypto_rsa_import_private(key->secret, key->secret_len, &s->k.rsa, NULL, NULL);
        if (rc != QPKI_OK)
            (void)wc_FreeRsaKey(&s->k.rsa);
        break;
    case QPKI_KEY_ED25519:
        ret = wc_ed25519_init(&s->k.ed25519);
        if (ret != 0)
            return crypto_wolf_status(ret);
        ret = wc_ed25519_import_private_key(key->secret, (word32)key->secret_len, key->pub,
                                            (word32)key->pub_len, &s->k.ed25519);
        if (ret != 0)
            wc_ed25519_free(&s->k.ed25519);
        break;
    case QPKI_KEY_ED448:
        ret = wc_ed448_init(&s->k.ed448);
        if (ret != 0)
            return crypto_wolf_status(ret);
        ret = wc_ed448_import_private_key(key->secret, (word32)key->secret_len, key->pub,
                                          (word32)key->pub_len, &s->k.ed448);
        if (ret != 0)
            wc_ed448_free(&s->k.ed448);
        break;
    default:
        return QPKI_ERR_INTERNAL;
    }
    if (ret != 0)
        rc = ret == MEMORY_E ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_KEY;
    if (rc != QPKI_OK) {
        qpki_wipe(&s->k, sizeof(s->k));
        return rc;
    }
    s->ready = true;
    return QPKI_OK;
}

static void slot_unload(qpki_key_alg alg, crypto_key_slot *s)
{
    if (!s->ready)
        return;
    switch (alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521: (void)wc_ecc_free(&s->k.ecc); break;
    case QPKI_KEY_RSA: (void)wc_FreeRsaKey(&s->k.rsa); break;
    case QPKI_KEY_ED25519: wc_ed25519_free(&s->k.ed25519); break;
    case QPKI_KEY_ED448: wc_ed448_free(&s->k.ed448); break;
    default: break;
    }
    qpki_wipe(&s->k, sizeof(s->k));
    s->ready = false;
}

static atomic_uint next_thread_index;
static _Thread_local unsigned thread_index;

static crypto_key_slot *slot_acquire(const crypto_privkey *key)
{
    if (thread_index == 0)
        thread_index = atomic_fetch_add(&next_thread_index, 1) + 1;
    size_t n = key->nslots, home = thread_index % n;
    for (size_t i = 0; i < n; i++) {
        crypto_key_slot *s = &key->slots[(home + i) % n];
        if (pthread_mutex_trylock(&s->lock) == 0)
            return s;
    }
    crypto_key_slot *s = &key->slots[home];
    (void)pthread_mutex_lock(&s->lock);
    return s;
}

static size_t slot_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1)
        cpus = 1;
    return (size_t)cpus < PRIVKEY_MAX_SLOTS ? (size_t)cpus : PRIVKEY_MAX_SLOTS;
}

/* ---- lifetime -------------------------------------------------------------------- */

static void privkey_destroy(crypto_privkey *key)
{
    if (key->slots) {
        for (size_t i = 0; i < key->nslots; i++) {
            slot_unload(key->alg, &key->slots[i]);
            (void)pthread_mutex_destroy(&key->slots[i].lock);
        }
        qpki_free_secret(key->slots, key->nslots * sizeof(*key->slots));
    }
    mldsa_sign_ctx_free(&key->mldsa_ctx);
    qpki_free_secret(key->secret, key->secret_len);
    qpki_free(key->pub);
    qpki_free(key->spki);
    qpki_free_secret(key, sizeof(*key));
}

void crypto_privkey_free(crypto_privkey **key)
{
    if (!key || !*key)
        return;
    crypto_privkey *k = *key;
    *key = NULL;
    if (atomic_fetch_sub_explicit(&k->refs, 1, memory_order_acq_rel) == 1)
        privkey_destroy(k);
}

crypto_privkey *crypto_privkey_ref(crypto_privkey *key)
{
    if (key)
        atomic_fetch_add_explicit(&key->refs, 1, memory_order_relaxed);
    return key;
}

qpki_key_alg crypto_privkey_alg(const crypto_privkey *key)
{
    return key ? key->alg : QPKI_KEY_UNKNOWN;
}

der_view crypto_privkey_spki(const crypto_privkey *key)
{
    return key ? (der_view){key->spki, key->spki_len} : (der_view){NULL, 0};
}

unsigned crypto_privkey_bits(const crypto_privkey *key) { return key ? key->bits : 0; }

size_t crypto_privkey_max_sig_len(const crypto_privkey *key)
{
    if (!key)
        return 0;
    switch (key->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        /* SEQUENCE (3-octet header at most) of two INTEGERs of up to size + 1
         * content octets (a leading zero) with 2-octet headers. */
        return 3 + 2 * (2 + crypto_ec_size(key->alg) + 1);
    case QPKI_KEY_RSA: return (key->bits + 7) / 8;
    case QPKI_KEY_ED25519: return ED25519_SIG_SIZE;
    case QPKI_KEY_ED448: return ED448_SIG_SIZE;
    case QPKI_KEY_ML_DSA_44: return 2420;
    case QPKI_KEY_ML_DSA_65: return 3309;
    case QPKI_KEY_ML_DSA_87: return 4627;
    default: return 0;
    }
}

/* How error details name a key's algorithm. */
static const char *key_label(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_EC_P256: return "EC P-256";
    case QPKI_KEY_EC_P384: return "EC P-384";
    case QPKI_KEY_EC_P521: return "EC P-521";
    case QPKI_KEY_RSA: return "RSA";
    case QPKI_KEY_ED25519: return "Ed25519";
    case QPKI_KEY_ED448: return "Ed448";
    case QPKI_KEY_ML_DSA_44: return "ML-DSA-44";
    case QPKI_KEY_ML_DSA_65: return "ML-DSA-65";
    case QPKI_KEY_ML_DSA_87: return "ML-DSA-87";
    default: return "private";
    }
}

/* ---- ML-DSA ------------------------------------------------------------------------ */

int crypto_mldsa_level(qpki_key_alg alg)
{
    switch (alg) {
    case QPKI_KEY_ML_DSA_44: return MLDSA_44;
    case QPKI_KEY_ML_DSA_65: return MLDSA_65;
    case QPKI_KEY_ML_DSA_87: return MLDSA_87;
    default: return 0;
    }
}

/* RFC 9881 §6: from the seed, "the expandedKey [is] derived using ML-DSA.KeyGen_internal"
 * (FIPS 204 Algorithm 6); "When both the seed and the expandedKey are present, the
 * expandedKey MUST be consistent with the seed".  From an expanded key alone the
 * public key is recomputed (t1 from rho, s1, s2) and checked against tr = H(pk). */
static qpki_status mldsa_from_parts(const crypto_key_parts *parts, crypto_privkey **out)
{
    mldsa_level level = (mldsa_level)crypto_mldsa_level(parts->alg);
    size_t pk_len = mldsa_pk_bytes(level), sk_len = mldsa_sk_bytes(level);
    const char *name = key_label(parts->alg);
    qpki_detail *d = parts->detail;
    QPKI_ENSURE(pk_len && sk_len, QPKI_ERR_INTERNAL);
    if (parts->secret && parts->secret_len != sk_len)
        return detail_fail(d, QPKI_ERR_BAD_KEY, "%s expandedKey: %zu octets, not %zu", name,
                           parts->secret_len, sk_len);
    qpki_status rc = QPKI_OK;
    crypto_privkey *key = qpki_calloc(1, sizeof(*key));
    QPKI_ENSURE(key, QPKI_ERR_NOMEM);
    atomic_init(&key->refs, 1);
    key->alg = parts->alg;
    key->bits = (unsigned)pk_len * 8u;
    key->secret = qpki_malloc(sk_len);
    key->pub = qpki_malloc(pk_len);
    if (!key->secret || !key->pub)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    key->secret_len = sk_len;
    key->pub_len = pk_len;
    if (parts->seed) {
        if (mldsa_keygen(level, parts->seed, key->pub, key->secret) != 0)
            QPKI_FAIL(QPKI_ERR_CRYPTO);
        /* RFC 9881 §6: "the expandedKey MUST be consistent with the seed";
         * compared in constant time (both are secret). */
        if (parts->secret && qpki_ct_memcmp(parts->secret, key->secret, sk_len) != 0)
            QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                                  "%s private key (both): the expandedKey is not the one "
                                  "the seed gives (ML-DSA.KeyGen_internal)",
                                  name));
        memcpy(key->seed, parts->seed, MLDSA_SEED_BYTES);
        key->has_seed = true;
    } else {
        memcpy(key->secret, parts->secret, sk_len);
        int check = mldsa_pk_from_sk(level, key->secret, key->pub);
        switch (check) {
        case 0:
            break;
        case MLDSA_ERR_NOMEM:
            QPKI_FAIL(QPKI_ERR_NOMEM);
        case MLDSA_SK_S1_RANGE:
        case MLDSA_SK_S2_RANGE: {
            /* FIPS 204 §7.2 skDecode: s1 and s2 have coefficients in [-eta, eta]
             * (eta 2 for ML-DSA-44 and -87, 4 for ML-DSA-65). */
            int eta = level == MLDSA_65 ? 4 : 2;
            QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                                  "%s expandedKey: an %s coefficient lies outside [-%d, %d] "
                                  "(FIPS 204 skDecode)",
                                  name, check == MLDSA_SK_S1_RANGE ? "s1" : "s2", eta, eta));
        }
        case MLDSA_SK_TR:
            QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                                  "%s expandedKey: tr is not H(pk) of the public key that "
                                  "rho, s1 and s2 give (the parts belong to different keys)",
                                  name));
        case MLDSA_SK_T0:
            QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                                  "%s expandedKey: t0 is not the low part of t = A*s1 + s2 "
                                  "(FIPS 204 Power2Round)",
                                  name));
        default:
            QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                                  "%s expandedKey: this build cannot recompute the public key "
                                  "from it (use the seed or both form)",
                                  name));
        }
    }
    if (parts->pub && (parts->pub_len != pk_len || memcmp(parts->pub, key->pub, pk_len) != 0))
        QPKI_FAIL(detail_fail(d, QPKI_ERR_BAD_KEY,
                              "%s private key: the publicKey in the file is not the one the "
                              "private key gives",
                              name));
    /* FIPS 204 Algorithm 7 steps 1-5 (skDecode, NTTs, ExpandA) once per key rather
     * than once per signature. */
    int ret = mldsa_sign_ctx_new(level, key->secret, &key->mldsa_ctx);
    if (ret != 0)
        QPKI_FAIL(ret == MLDSA_ERR_NOMEM ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_KEY);
    QPKI_CHECK(crypto_spki_encode(key->alg, key->pub, key->pub_len, &key->spki, &key->spki_len));
    *out = key;
    key = NULL;
out:
    if (key)
        privkey_destroy(key);
    return rc;
}

/* FIPS 204 Algorithm 2 ML-DSA.Sign, hedged (fresh rnd), with an empty context
 * (RFC 9881 §3: "the context string ... is the empty string"). */
static qpki_status mldsa_sign_msg(const crypto_privkey *key, const uint8_t *msg,
                                  size_t msg_len, uint8_t *sig, size_t *sig_len)
{
    mldsa_level level = (mldsa_level)crypto_mldsa_level(key->alg);
    size_t n = mldsa_sig_bytes(level);
    QPKI_ENSURE(*sig_len >= n, QPKI_ERR_BUFFER_TOO_SMALL);
    uint8_t rnd[MLDSA_RND_BYTES];
    QPKI_GUARD(crypto_random(rnd, sizeof(rnd)));
    int ret = mldsa_sign_with_ctx(key->mldsa_ctx, msg, msg_len, NULL, 0, rnd, sig);
    qpki_wipe(rnd, sizeof(rnd));
    QPKI_ENSURE(ret != MLDSA_ERR_NOMEM, QPKI_ERR_NOMEM);
    QPKI_ENSURE(ret == 0, QPKI_ERR_CRYPTO);
    *sig_len = n;
    return QPKI_OK;
}

/* ---- ECDSA P-256 with our own code (-Dp256=builtin) --------------------------------- */

#if QPKI_P256_BUILTIN
/* SEC 1 §4.1.3 over H(msg) with k from RFC 6979 §3.2, hedged with 32 fresh random
 * octets as the additional data k' (RFC 6979 §3.6), in lib/crypto/p256.  The
 * signing only reads key->secret (the 32-octet big-endian scalar), so all threads
 * share the key without a slot. */
static qpki_status p256_sign_msg(const crypto_privkey *key, qpki_sig_alg alg,
                                 const uint8_t *msg, size_t msg_len, uint8_t *sig,
                                 size_t *sig_len)
{
    QPKI_ENSURE(key->secret_len == P256_BYTES, QPKI_ERR_BAD_KEY);
    qpki_hash_alg hash = crypto_sig_alg_hash(alg);
    uint8_t digest[CRYPTO_MAX_HASH_LEN], extra[32];
    QPKI_GUARD(crypto_hash(hash, msg, msg_len, digest));
    qpki_status rc = crypto_random(extra, sizeof(extra));
    if (rc == QPKI_OK)
        rc = p256_sign_digest(key->secret, digest, crypto_hash_len(hash), extra, sizeof(extra),
                              sig, sig_len);
    qpki_wipe(extra, sizeof(extra));
    return rc;
}
#endif

/* ---- construction from parts ----------------------------------------------------- */

/* Big-endian order n of a curve. */
static qpki_status ec_order(qpki_key_alg alg, uint8_t *out, size_t size)
{
    int idx = wc_ecc_get_curve_idx(crypto_ec_curve_id(alg));
    const ecc_set_type *dp = idx >= 0 ? wc_ecc_get_curve_params(idx) : NULL;
    QPKI_ENSURE(dp && dp->order, QPKI_ERR_INTERNAL);
    size_t len = 0;
    QPKI_GUARD(qpki_hex_decode(dp->order, out, size, &len));
    QPKI_ENSURE(len == size, QPKI_ERR_INTERNAL);
    return QPKI_OK;
}

/* EC public point Q = dG for the scalar d (SEC 1 §3.2.1). */
static qpki_status ec_public_from_secret(qpki_key_alg alg, const uint8_t *d, size_t d_len,
                                         uint8_t *point, size_t *point_len,
                                         qpki_detail *detail)
{
    size_t size = crypto_ec_size(alg);
    QPKI_ENSURE(d_len == size, QPKI_ERR_BAD_KEY);
    /* SEC 1 §3.2.1: "Randomly or pseudorandomly select an integer d in the interval
     * [1, n - 1]" - reject 0 and values >= n (timing here is on a key being
     * loaded, once; the comparison is not constant time). */
    uint8_t order[CRYPTO_EC_MAX_BYTES];
    QPKI_GUARD(ec_order(alg, order, size));
    uint8_t nonzero = 0;
    for (size_t i = 0; i < size; i++)
        nonzero |= d[i];
    if (nonzero == 0 || memcmp(d, order, size) >= 0)
        return detail_fail(detail, QPKI_ERR_BAD_KEY,
                           "%s private key: privateKey d is not in [1, n-1] (SEC 1 section 3.2.1)",
                           key_label(alg));

    ecc_key k;
    int ret = wc_ecc_init(&k);
    QPKI_ENSURE(ret == 0, crypto_wolf_status(ret));
    ret = wc_ecc_import_private_key_ex(d, (word32)d_len, NULL, 0, &k, crypto_ec_curve_id(alg));
    if (ret == 0)
        ret = wc_ecc_make_pub(&k, NULL);
    word32 len = (word32)*point_len;
    if (ret == 0)
        ret = wc_ecc_export_x963(&k, point, &len);
    (void)wc_ecc_free(&k);
    qpki_wipe(&k, sizeof(k));
    if (ret != 0)
        return ret == MEMORY_E ? QPKI_ERR_NOMEM : QPKI_ERR_BAD_KEY;
    *point_len = len;
    return QPKI_OK;
}

static qpki_status ed_public_from_secret(qpki_key_alg alg, const uint8_t *seed, size_t n,
                                         uint8_t *pub, size_t *pub_len)
{
    int ret;
    if (alg == QPKI_KEY_ED25519) {
        QPKI_ENSURE(n == ED25519_KEY_SIZE, QPKI_ERR_BAD_KEY);
        ed25519_key k;
        QPKI_ENSURE(wc_ed25519_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed25519_import_private_only(seed, (word32)n, &k);
        if (ret == 0)
            ret = wc_ed25519_make_public(&k, pub, ED25519_PUB_KEY_SIZE);
        wc_ed25519_free(&k);
        qpki_wipe(&k, sizeof(k));
        *pub_len = ED25519_PUB_KEY_SIZE;
    } else {
        QPKI_ENSURE(n == ED448_KEY_SIZE, QPKI_ERR_BAD_KEY);
        ed448_key k;
        QPKI_ENSURE(wc_ed448_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed448_import_private_only(seed, (word32)n, &k);
        if (ret == 0)
            ret = wc_ed448_make_public(&k, pub, ED448_PUB_KEY_SIZE);
        wc_ed448_free(&k);
        qpki_wipe(&k, sizeof(k));
        *pub_len = ED448_PUB_KEY_SIZE;
    }
    return ret == 0 ? QPKI_OK : crypto_wolf_status(ret);
}

/* FIPS 140-3 IG 10.3.A style pairwise consistency test: sign and verify once. */
static qpki_status pairwise_test(const crypto_privkey *key)
{
    static const uint8_t msg[] = "libqpki-ocsp pairwise consistency test";
    qpki_sig_alg alg = qpki_default_sig_alg(key->alg);
    size_t cap = crypto_privkey_max_sig_len(key), len = cap;
    uint8_t *sig = qpki_malloc(cap);
    QPKI_ENSURE(sig, QPKI_ERR_NOMEM);
    crypto_pubkey *pub = NULL;
    qpki_status rc = crypto_sign(key, alg, msg, sizeof(msg) - 1, sig, &len);
    if (rc == QPKI_OK)
        rc = crypto_pubkey_parse((der_view){key->spki, key->spki_len}, &pub);
    if (rc == QPKI_OK) {
        rc = crypto_verify(pub, alg, msg, sizeof(msg) - 1, sig, len);
        if (rc == QPKI_ERR_BAD_SIGNATURE)
            rc = QPKI_ERR_BAD_KEY;
    }
    crypto_pubkey_free(&pub);
    qpki_free(sig);
    return rc;
}

/* Is the public key given in the file (parts->pub) the one derived from the
 * secret?  EC points may be stored compressed (SEC 1 §2.3.3: 0x02/0x03 || X, the
 * low bit of Y in the prefix): X and that bit are compared. */
static bool public_matches(const crypto_key_parts *parts, const uint8_t *pub, size_t pub_len)
{
    size_t size = crypto_ec_size(parts->alg);
    if (size && parts->pub_len == 1 + size && pub_len == 1 + 2 * size &&
        (parts->pub[0] == 0x02 || parts->pub[0] == 0x03))
        return memcmp(parts->pub + 1, pub + 1, size) == 0 &&
               (parts->pub[0] & 1) == (pub[pub_len - 1] & 1);
    return parts->pub_len == pub_len && memcmp(parts->pub, pub, pub_len) == 0;
}

qpki_status crypto_privkey_from_parts(const crypto_key_parts *parts, crypto_privkey **out)
{
    QPKI_ENSURE(parts && out, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE((parts->secret && parts->secret_len) || parts->seed, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_GUARD(crypto_thread_enter());
    if (crypto_mldsa_level(parts->alg) != 0)
        return mldsa_from_parts(parts, out);
    QPKI_ENSURE(parts->secret && parts->secret_len, QPKI_ERR_INVALID_ARG);
    qpki_status rc = QPKI_OK;
    uint8_t pub[CRYPTO_EC_MAX_POINT];
    size_t pub_len = sizeof(pub);
    const uint8_t *pub_src = pub;
    uint8_t *rsa_pub = NULL;
    crypto_privkey *key = qpki_calloc(1, sizeof(*key));
    QPKI_ENSURE(key, QPKI_ERR_NOMEM);
    atomic_init(&key->refs, 1);
    key->alg = parts->alg;
    key->secret = qpki_memdup(parts->secret, parts->secret_len);
    if (!key->secret)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    key->secret_len = parts->secret_len;

    switch (parts->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        QPKI_CHECK(ec_public_from_secret(parts->alg, parts->secret, parts->secret_len, pub,
                                         &pub_len, parts->detail));
        key->bits = parts->alg == QPKI_KEY_EC_P521 ? 521u
                                                   : (unsigned)crypto_ec_size(parts->alg) * 8u;
        break;
    case QPKI_KEY_ED25519:
    case QPKI_KEY_ED448:
        QPKI_CHECK(ed_public_from_secret(parts->alg, parts->secret, parts->secret_len, pub,
                                         &pub_len));
        key->bits = parts->alg == QPKI_KEY_ED25519 ? 256u : 456u;
        break;
    case QPKI_KEY_RSA: {
        RsaKey rk;
        der_view n, e;
        int ret = wc_InitRsaKey(&rk, NULL);
        if (ret != 0)
            QPKI_FAIL(crypto_wolf_status(ret));
        rc = crypto_rsa_import_private(parts->secret, parts->secret_len, &rk, &n, &e);
        if (rc == QPKI_OK)
            rc = rsa_check_crt(&rk, parts->detail);
        unsigned bits = rc == QPKI_OK ? (unsigned)mp_count_bits(&rk.n) : 0;
        (void)wc_FreeRsaKey(&rk);
        qpki_wipe(&rk, sizeof(rk));
        if (rc != QPKI_OK)
            goto out;
        /* NIST SP 800-131A: RSA signature generation needs at least 2048 bits. */
        if (bits < 2048)
            QPKI_FAIL(QPKI_ERR_BAD_KEY);
        if (bits > CRYPTO_RSA_MAX_BITS)
            QPKI_FAIL(QPKI_ERR_UNSUPPORTED_ALGORITHM);
        key->bits = bits;
        QPKI_CHECK(rsa_public_der(n, e, &rsa_pub, &pub_len));
        pub_src = rsa_pub;
        break;
    }
    default:
        QPKI_FAIL(QPKI_ERR_UNSUPPORTED_ALGORITHM);
    }
    /* A public key stored in the file must be the one the secret gives. */
    if (parts->pub && !public_matches(parts, pub_src, pub_len)) {
        if (crypto_ec_size(parts->alg))
            QPKI_FAIL(detail_fail(parts->detail, QPKI_ERR_BAD_KEY,
                                  "%s private key: publicKey is not d*G for its privateKey d "
                                  "(the file pairs it with another key's point)",
                                  key_label(parts->alg)));
        QPKI_FAIL(detail_fail(parts->detail, QPKI_ERR_BAD_KEY,
                              "%s private key: the publicKey in the file is not the one the "
                              "private key gives (RFC 5958 v2 publicKey of another key)",
                              key_label(parts->alg)));
    }
    key->pub = qpki_memdup(pub_src, pub_len);
    if (!key->pub)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    key->pub_len = pub_len;
    QPKI_CHECK(crypto_spki_encode(key->alg, key->pub, key->pub_len, &key->spki, &key->spki_len));

    key->nslots = slot_count();
    key->slots = qpki_calloc(key->nslots, sizeof(*key->slots));
    if (!key->slots) {
        key->nslots = 0;
        QPKI_FAIL(QPKI_ERR_NOMEM);
    }
    for (size_t i = 0; i < key->nslots; i++)
        (void)pthread_mutex_init(&key->slots[i].lock, NULL);
    /* Instantiate one slot now, so a key that wolfSSL refuses fails here. */
    QPKI_CHECK(slot_load(key, &key->slots[0]));
    if (key->alg == QPKI_KEY_RSA) {
        rc = pairwise_test(key);
        if (rc == QPKI_ERR_BAD_KEY)
            detail_fail(parts->detail, rc, "RSA private key: a test signature does not verify "
                                           "with its public key (pairwise consistency test)");
        if (rc != QPKI_OK)
            goto out;
    }
    *out = key;
    key = NULL;
out:
    qpki_free(rsa_pub);
    qpki_wipe(pub, sizeof(pub));
    if (key)
        privkey_destroy(key);
    return rc;
}

/* ---- signing --------------------------------------------------------------------- */

static qpki_status sign_in_slot(const crypto_privkey *key, crypto_key_slot *s, qpki_sig_alg alg,
                                const uint8_t *msg, size_t msg_len, uint8_t *sig,
                                size_t *sig_len)
{
    qpki_hash_alg hash = crypto_sig_alg_hash(alg);
    uint8_t digest[CRYPTO_MAX_HASH_LEN];
    size_t hlen = crypto_hash_len(hash);
    if (hash != QPKI_HASH_NONE)
        QPKI_GUARD(crypto_hash(hash, msg, msg_len, digest));
    WC_RNG *rng = NULL;
    QPKI_GUARD(crypto_thread_rng(&rng));
    word32 out_len = (word32)(*sig_len > UINT32_MAX ? UINT32_MAX : *sig_len);
    int ret;
    switch (key->alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521:
        /* SEC 1 §4.1.3 with a fresh random k per signature; the output is the DER
         * ECDSA-Sig-Value (RFC 5480 §2.2). */
        ret = wc_ecc_sign_hash(digest, (word32)hlen, sig, &out_len, rng, &s->k.ecc);
        break;
    case QPKI_KEY_RSA:
        if (alg == QPKI_SIG_RSA_PKCS1_SHA256 || alg == QPKI_SIG_RSA_PKCS1_SHA384 ||
            alg == QPKI_SIG_RSA_PKCS1_SHA512) {
            /* RFC 8017 §8.2.1: RSASSA-PKCS1-V1_5-SIGN over EMSA-PKCS1-v1_5(M). */
            uint8_t info[CRYPTO_DIGEST_INFO_MAX];
            size_t info_len = 0;
            QPKI_GUARD(crypto_digest_info(hash, digest, info, &info_len));
            ret = wc_RsaSSL_Sign(info, (word32)info_len, sig, out_len, &s->k.rsa, rng);
        } else {
            /* RFC 8017 §8.1.1 RSASSA-PSS-SIGN, MGF1 with the same hash, salt of
             * hash length (RFC 4055 §3.1 parameters we advertise). */
            int mgf = hash == QPKI_HASH_SHA256   ? WC_MGF1SHA256
                      : hash == QPKI_HASH_SHA384 ? WC_MGF1SHA384
                                                 : WC_MGF1SHA512;
            ret = wc_RsaPSS_Sign_ex(digest, (word32)hlen, sig, out_len,
                                    (enum wc_HashType)crypto_wc_hash_type(hash), mgf, (int)hlen,
                                    &s->k.rsa, rng);
        }
        if (ret > 0) {
            out_len = (word32)ret;
            ret = 0;
        }
        break;
    case QPKI_KEY_ED25519:
        QPKI_ENSURE(msg_len <= UINT32_MAX, QPKI_ERR_TOO_LARGE);
        ret = wc_ed25519_sign_msg(msg, (word32)msg_len, sig, &out_len, &s->k.ed25519);
        break;
    case QPKI_KEY_ED448:
        /* RFC 8410 §6: Ed448 with an empty context string. */
        QPKI_ENSURE(msg_len <= UINT32_MAX, QPKI_ERR_TOO_LARGE);
        ret = wc_ed448_sign_msg(msg, (word32)msg_len, sig, &out_len, &s->k.ed448, NULL, 0);
        break;
    default:
        return QPKI_ERR_INTERNAL;
    }
    if (ret != 0)
        return ret == BUFFER_E ? QPKI_ERR_BUFFER_TOO_SMALL : crypto_wolf_status(ret);
    *sig_len = out_len;
    return QPKI_OK;
}

qpki_status crypto_sign(const crypto_privkey *key, qpki_sig_alg alg, const uint8_t *msg,
                        size_t msg_len, uint8_t *sig, size_t *sig_len)
{
    QPKI_ENSURE(key && (msg || msg_len == 0) && sig && sig_len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(crypto_sig_alg_fits_key(alg, key->alg), QPKI_ERR_UNSUPPORTED_ALGORITHM);
    QPKI_ENSURE(*sig_len >= crypto_privkey_max_sig_len(key), QPKI_ERR_BUFFER_TOO_SMALL);
    QPKI_GUARD(crypto_thread_enter());
    /* wolfCrypt refuses a NULL message pointer even for an empty message. */
    static const uint8_t empty[1];
    if (!msg)
        msg = empty;
    /* ML-DSA: signing only reads the key's mldsa_sign_ctx (mldsa.h), so all threads
     * share it; no slot needed. */
    if (crypto_mldsa_level(key->alg) != 0)
        return mldsa_sign_msg(key, msg, msg_len, sig, sig_len);
#if QPKI_P256_BUILTIN
    if (key->alg == QPKI_KEY_EC_P256)
        return p256_sign_msg(key, alg, msg, msg_len, sig, sig_len);
#endif
    QPKI_ENSURE(key->nslots > 0, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    crypto_key_slot *s = slot_acquire(key);
    qpki_status rc = QPKI_OK;
    if (!s->ready)
        rc = slot_load(key, s);
    if (rc == QPKI_OK)
        rc = sign_in_slot(key, s, alg, msg, msg_len, sig, sig_len);
    (void)pthread_mutex_unlock(&s->lock);
    return rc;
}

/* ---- generation ------------------------------------------------------------------ */

/* PKCS#1 RSAPrivateKey DER of a freshly generated wolfSSL key, in a buffer that
 * is never reallocated (secret_buf). */
static qpki_status rsa_export_private(RsaKey *k, unsigned bits, uint8_t **out, size_t *out_len)
{
    mp_int *fields[8] = {&k->n, &k->e, &k->d, &k->p, &k->q, &k->dP, &k->dQ, &k->u};
    size_t mod = (bits + 7) / 8;
    uint8_t *tmp = qpki_malloc(mod);
    QPKI_ENSURE(tmp, QPKI_ERR_NOMEM);
    der_buf b;
    qpki_status rc = crypto_secret_buf_init(&b, 9 * (mod + 8) + 16);
    if (rc != QPKI_OK) {
        qpki_free(tmp);
        return rc;
    }
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_uint64(&b, 0);
    for (size_t i = 0; i < 8 && rc == QPKI_OK; i++) {
        int len = mp_unsigned_bin_size(fields[i]);
        if (len <= 0 || (size_t)len > mod || mp_to_unsigned_bin(fields[i], tmp) != MP_OKAY)
            rc = QPKI_ERR_CRYPTO;
        else
            der_put_uint_bytes(&b, tmp, (size_t)len);
    }
    der_end(&b, seq);
    qpki_free_secret(tmp, mod);
    if (rc != QPKI_OK) {
        crypto_secret_buf_wipe(&b);
        return rc;
    }
    if (b.err != QPKI_OK) {
        rc = b.err;
        crypto_secret_buf_wipe(&b);
        return rc;
    }
    return der_buf_finish(&b, out, out_len);
}

qpki_status crypto_privkey_generate(qpki_key_alg alg, unsigned rsa_bits, crypto_privkey **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    WC_RNG *rng = NULL;
    QPKI_GUARD(crypto_thread_rng(&rng));
    uint8_t raw[CRYPTO_EC_MAX_BYTES];
    word32 raw_len = sizeof(raw);
    uint8_t *secret = raw, *rsa_der = NULL;
    size_t secret_len = 0;
    int ret;
    qpki_status rc = QPKI_OK;
    switch (alg) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521: {
        ecc_key k;
        ret = wc_ecc_init(&k);
        if (ret != 0)
            return crypto_wolf_status(ret);
        /* FIPS 186-5 §A.2 / SEC 1 §3.2.1 key pair generation. */
        ret = wc_ecc_make_key_ex(rng, (int)crypto_ec_size(alg), &k, crypto_ec_curve_id(alg));
        if (ret == 0)
            ret = wc_ecc_export_private_only(&k, raw, &raw_len);
        (void)wc_ecc_free(&k);
        qpki_wipe(&k, sizeof(k));
        secret_len = raw_len;
        if (ret == 0 && secret_len != crypto_ec_size(alg))
            ret = BAD_STATE_E;
        break;
    }
    case QPKI_KEY_RSA: {
        QPKI_ENSURE(rsa_bits == 2048 || rsa_bits == 3072 || rsa_bits == 4096,
                    QPKI_ERR_INVALID_ARG);
        RsaKey *k = qpki_malloc(sizeof(*k));
        QPKI_ENSURE(k, QPKI_ERR_NOMEM);
        ret = wc_InitRsaKey(k, NULL);
        if (ret != 0) {
            qpki_free(k);
            return crypto_wolf_status(ret);
        }
        /* FIPS 186-5 §A.1.3 probable primes, e = 65537. */
        ret = wc_MakeRsaKey(k, (int)rsa_bits, WC_RSA_EXPONENT, rng);
        if (ret == 0)
            rc = rsa_export_private(k, rsa_bits, &rsa_der, &secret_len);
        (void)wc_FreeRsaKey(k);
        qpki_free_secret(k, sizeof(*k));
        secret = rsa_der;
        break;
    }
    case QPKI_KEY_ED25519: {
        ed25519_key k;
        QPKI_ENSURE(wc_ed25519_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed25519_make_key(rng, ED25519_KEY_SIZE, &k);
        if (ret == 0)
            ret = wc_ed25519_export_private_only(&k, raw, &raw_len);
        wc_ed25519_free(&k);
        qpki_wipe(&k, sizeof(k));
        secret_len = raw_len;
        break;
    }
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87: {
        /* FIPS 204 Algorithm 1 ML-DSA.KeyGen: xi <- 32 random bytes. */
        uint8_t seed[MLDSA_SEED_BYTES];
        QPKI_GUARD(crypto_random(seed, sizeof(seed)));
        crypto_key_parts parts = {.alg = alg, .seed = seed};
        rc = crypto_privkey_from_parts(&parts, out);
        qpki_wipe(seed, sizeof(seed));
        return rc;
    }
    case QPKI_KEY_ED448: {
        ed448_key k;
        QPKI_ENSURE(wc_ed448_init(&k) == 0, QPKI_ERR_CRYPTO);
        ret = wc_ed448_make_key(rng, ED448_KEY_SIZE, &k);
        if (ret == 0)
            ret = wc_ed448_export_private_only(&k, raw, &raw_len);
        wc_ed448_free(&k);
        qpki_wipe(&k, sizeof(k));
        secret_len = raw_len;
        break;
    }
    default:
        return QPKI_ERR_UNSUPPORTED_ALGORITHM;
    }
    if (ret != 0 && rc == QPKI_OK)
        rc = crypto_wolf_status(ret);
    if (rc == QPKI_OK) {
        crypto_key_parts parts = {.alg = alg, .secret = secret, .secret_len = secret_len};
        rc = crypto_privkey_from_parts(&parts, out);
    }
    qpki_wipe(raw, sizeof(raw));
    if (rsa_der)
        qpki_free_secret(rsa_der, secret_len);
    return rc;
}
