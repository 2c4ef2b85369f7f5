/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/mldsa/mldsa_wolfssl.c - crypto/mldsa/mldsa.h on top of a wolfSSL that
 * provides ML-DSA (wc_dilithium_* with the FIPS 204 context API, wolfSSL >= 5.7.4
 * configured with --enable-mldsa / --enable-dilithium).  Selected by
 * -Dmldsa=wolfssl, or by -Dmldsa=auto when meson finds that API.
 *
 * UNTESTED HERE: Debian 12's wolfSSL 5.5.4 has no ML-DSA, so this file has never
 * been compiled or run in this project's CI (see docs/ML-DSA.md).  It is written
 * against wolfSSL's public header (wolfssl/wolfcrypt/dilithium.h) only.
 *
 * wolfSSL's public API has no entry point for ML-DSA.Sign_internal /
 * Verify_internal on a caller-formatted M', nor for recomputing pk from an expanded
 * sk, so mldsa_sign_internal, mldsa_verify_internal and mldsa_pk_from_sk return -1
 * with this backend (keys in the "expandedKey"-only form then cannot produce their
 * public key; the seed form works). */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/dilithium.h>

#include <string.h>

#include "crypto/mldsa/mldsa.h"
#include "internal.h"

static int wc_level(mldsa_level level)
{
    switch (level) {
    case MLDSA_44: return WC_ML_DSA_44;
    case MLDSA_65: return WC_ML_DSA_65;
    case MLDSA_87: return WC_ML_DSA_87;
    default: return -1;
    }
}

/* FIPS 204 Table 2. */
size_t mldsa_pk_bytes(mldsa_level level)
{
    return level == MLDSA_44 ? 1312 : level == MLDSA_65 ? 1952 : level == MLDSA_87 ? 2592 : 0;
}

size_t mldsa_sk_bytes(mldsa_level level)
{
    return level == MLDSA_44 ? 2560 : level == MLDSA_65 ? 4032 : level == MLDSA_87 ? 4896 : 0;
}

size_t mldsa_sig_bytes(mldsa_level level)
{
    return level == MLDSA_44 ? 2420 : level == MLDSA_65 ? 3309 : level == MLDSA_87 ? 4627 : 0;
}

static int key_new(dilithium_key *key, mldsa_level level)
{
    int lv = wc_level(level);
    if (lv < 0 || wc_dilithium_init(key) != 0)
        return -1;
    if (wc_dilithium_set_level(key, (byte)lv) != 0) {
        wc_dilithium_free(key);
        return -1;
    }
    return 0;
}

static void key_done(dilithium_key *key)
{
    wc_dilithium_free(key);
    qpki_wipe(key, sizeof(*key));
}

/* FIPS 204 Algorithm 6 ML-DSA.KeyGen_internal(xi). */
int mldsa_keygen(mldsa_level level, const uint8_t seed[MLDSA_SEED_BYTES], uint8_t *pk,
                 uint8_t *sk)
{
    dilithium_key key;
    if (!seed || !pk || !sk || key_new(&key, level) != 0)
        return -1;
    word32 pl = (word32)mldsa_pk_bytes(level), sl = (word32)mldsa_sk_bytes(level);
    int rc = -1;
    if (wc_dilithium_make_key_from_seed(&key, seed) == 0 &&
        wc_dilithium_export_public(&key, pk, &pl) == 0 && pl == mldsa_pk_bytes(level) &&
        wc_dilithium_export_private(&key, sk, &sl) == 0 && sl == mldsa_sk_bytes(level))
        rc = 0;
    key_done(&key);
    return rc;
}

/* FIPS 204 Algorithm 2 ML-DSA.Sign with rnd given (0^32 when rnd is NULL:
 * the deterministic variant). */
int mldsa_sign(mldsa_level level, const uint8_t *sk, const uint8_t *msg, size_t msg_len,
               const uint8_t *ctx, size_t ctx_len, const uint8_t *rnd, uint8_t *sig)
{
    static const uint8_t zero_rnd[MLDSA_RND_BYTES] = {0};
    dilithium_key key;
    if (!sk || !sig || ctx_len > MLDSA_MAX_CTX_BYTES || (!ctx && ctx_len) || (!msg && msg_len) ||
        msg_len > 0xffffffffu || key_new(&key, level) != 0)
        return -1;
    word32 sl = (word32)mldsa_sig_bytes(level);
    int rc = -1;
    if (wc_dilithium_import_private(sk, (word32)mldsa_sk_bytes(level), &key) == 0 &&
        wc_dilithium_sign_ctx_msg_with_seed(ctx, (byte)ctx_len, msg, (word32)msg_len, sig, &sl,
                                            &key, rnd ? rnd : zero_rnd) == 0 &&
        sl == mldsa_sig_bytes(level))
        rc = 0;
    key_done(&key);
    return rc;
}

/* The signing context of mldsa.h.  wolfSSL's public API has no way to keep the
 * expanded key between signatures that is documented as safe to share between
 * threads, so the context holds a copy of sk and each signature imports it
 * (no speed gain with this backend). */
struct mldsa_sign_ctx {
    mldsa_level level;
    uint8_t sk[MLDSA_MAX_SK_BYTES];
};

int mldsa_sign_ctx_new(mldsa_level level, const uint8_t *sk, mldsa_sign_ctx **out)
{
    if (!out)
        return -1;
    *out = NULL;
    if (!sk || mldsa_sk_bytes(level) == 0)
        return -1;
    mldsa_sign_ctx *c = qpki_malloc(sizeof(*c));
    if (!c)
        return MLDSA_ERR_NOMEM;
    c->level = level;
    memcpy(c->sk, sk, mldsa_sk_bytes(level));
    *out = c;
    return 0;
}

void mldsa_sign_ctx_free(mldsa_sign_ctx **ctx)
{
    if (!ctx || !*ctx)
        return;
    qpki_free_secret(*ctx, sizeof(**ctx));
    *ctx = NULL;
}

int mldsa_sign_with_ctx(const mldsa_sign_ctx *ctx, const uint8_t *msg, size_t msg_len,
                        const uint8_t *context, size_t context_len, const uint8_t *rnd,
                        uint8_t *sig)
{
    if (!ctx)
        return -1;
    return mldsa_sign(ctx->level, ctx->sk, msg, msg_len, context, context_len, rnd, sig);
}

/* FIPS 204 Algorithm 3 ML-DSA.Verify. */
int mldsa_verify(mldsa_level level, const uint8_t *pk, const uint8_t *msg, size_t msg_len,
                 const uint8_t *ctx, size_t ctx_len, const uint8_t *sig, size_t sig_len)
{
    dilithium_key key;
    if (!pk || !sig || ctx_len > MLDSA_MAX_CTX_BYTES || (!ctx && ctx_len) || (!msg && msg_len) ||
        msg_len > 0xffffffffu || sig_len != mldsa_sig_bytes(level) || key_new(&key, level) != 0)
        return -1;
    int res = 0, rc = -1;
    if (wc_dilithium_import_public(pk, (word32)mldsa_pk_bytes(level), &key) == 0 &&
        wc_dilithium_verify_ctx_msg(sig, (word32)sig_len, ctx, (word32)ctx_len, msg,
                                    (word32)msg_len, &res, &key) == 0 &&
        res == 1)
        rc = 0;
    key_done(&key);
    return rc;
}

/* Not offered by wolfSSL's public API (see the file comment). */
int mldsa_sign_internal(mldsa_level level, const uint8_t *sk, const uint8_t *mprime,
                        size_t mprime_len, const uint8_t *rnd, uint8_t *sig)
{
    (void)level, (void)sk, (void)mprime, (void)mprime_len, (void)rnd, (void)sig;
    return -1;
}

int mldsa_verify_internal(mldsa_level level, const uint8_t *pk, const uint8_t *mprime,
                          size_t mprime_len, const uint8_t *sig, size_t sig_len)
{
    (void)level, (void)pk, (void)mprime, (void)mprime_len, (void)sig, (void)sig_len;
    return -1;
}

int mldsa_pk_from_sk(mldsa_level level, const uint8_t *sk, uint8_t *pk)
{
    (void)level, (void)sk, (void)pk;
    return -1;
}
