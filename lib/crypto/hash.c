/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/hash.c - SHA-1 and SHA-2 (SHA-256 ours, the others wolfCrypt's), and
 * their OIDs. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hash.h>

#include <string.h>

#include "crypto_internal.h"
#include "crypto/sha256.h"
#include "../der/oid.h"

_Static_assert(sizeof(wc_HashAlg) <= sizeof(((crypto_hash_ctx *)0)->state),
               "crypto_hash_ctx.state too small for wc_HashAlg");
_Static_assert(_Alignof(wc_HashAlg) <= 16, "crypto_hash_ctx.state alignment");
_Static_assert(sizeof(sha256_ctx) <= sizeof(((crypto_hash_ctx *)0)->state),
               "crypto_hash_ctx.state too small for sha256_ctx");

/* SHA-256 is ours (lib/crypto/sha256.c: the SHA extensions where the CPU has
 * them); SHA-1, SHA-384 and SHA-512 are wolfCrypt's. */
static sha256_ctx *own_sha256(crypto_hash_ctx *ctx)
{
    return ctx->alg == QPKI_HASH_SHA256 ? (sha256_ctx *)(void *)ctx->state : NULL;
}

/* wolfCrypt takes 32-bit lengths; longer inputs are fed in chunks. */
#define HASH_CHUNK ((size_t)1 << 30)

int crypto_wc_hash_type(qpki_hash_alg alg)
{
    switch (alg) {
    case QPKI_HASH_SHA1: return WC_HASH_TYPE_SHA;
    case QPKI_HASH_SHA256: return WC_HASH_TYPE_SHA256;
    case QPKI_HASH_SHA384: return WC_HASH_TYPE_SHA384;
    case QPKI_HASH_SHA512: return WC_HASH_TYPE_SHA512;
    case QPKI_HASH_NONE: break;
    }
    return WC_HASH_TYPE_NONE;
}

size_t crypto_hash_len(qpki_hash_alg alg)
{
    switch (alg) {
    case QPKI_HASH_SHA1: return 20;
    case QPKI_HASH_SHA256: return 32;
    case QPKI_HASH_SHA384: return 48;
    case QPKI_HASH_SHA512: return 64;
    case QPKI_HASH_NONE: break;
    }
    return 0;
}

der_oid crypto_hash_oid(qpki_hash_alg alg)
{
    switch (alg) {
    case QPKI_HASH_SHA1: return OID_SHA1;
    case QPKI_HASH_SHA256: return OID_SHA256;
    case QPKI_HASH_SHA384: return OID_SHA384;
    case QPKI_HASH_SHA512: return OID_SHA512;
    case QPKI_HASH_NONE: break;
    }
    return (der_oid){NULL, 0};
}

qpki_hash_alg crypto_hash_from_oid(der_view oid)
{
    static const qpki_hash_alg all[] = {QPKI_HASH_SHA1, QPKI_HASH_SHA256, QPKI_HASH_SHA384,
                                        QPKI_HASH_SHA512};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(all); i++)
        if (der_oid_eq(oid, crypto_hash_oid(all[i])))
            return all[i];
    return QPKI_HASH_NONE;
}

qpki_status crypto_hash_init(crypto_hash_ctx *ctx, qpki_hash_alg alg)
{
    QPKI_ENSURE(ctx, QPKI_ERR_INVALID_ARG);
    int type = crypto_wc_hash_type(alg);
    QPKI_ENSURE(type != WC_HASH_TYPE_NONE, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    memset(ctx, 0, sizeof(*ctx));
    ctx->alg = alg;
    if (own_sha256(ctx)) {
        sha256_init(own_sha256(ctx));
        return QPKI_OK;
    }
    int ret = wc_HashInit((wc_HashAlg *)(void *)ctx->state, (enum wc_HashType)type);
    if (ret != 0) {
        ctx->alg = QPKI_HASH_NONE;
        return crypto_wolf_status(ret);
    }
    return QPKI_OK;
}

qpki_status crypto_hash_update(crypto_hash_ctx *ctx, const uint8_t *in, size_t n)
{
    QPKI_ENSURE(ctx && (in || n == 0), QPKI_ERR_INVALID_ARG);
    int type = crypto_wc_hash_type(ctx->alg);
    QPKI_ENSURE(type != WC_HASH_TYPE_NONE, QPKI_ERR_INVALID_ARG);
    if (own_sha256(ctx)) {
        sha256_update(own_sha256(ctx), in, n);
        return QPKI_OK;
    }
    while (n > 0) {
        size_t k = n < HASH_CHUNK ? n : HASH_CHUNK;
        int ret = wc_HashUpdate((wc_HashAlg *)(void *)ctx->state, (enum wc_HashType)type, in,
                                (word32)k);
        if (ret != 0)
            return crypto_wolf_status(ret);
        in += k;
        n -= k;
    }
    return QPKI_OK;
}

qpki_status crypto_hash_final(crypto_hash_ctx *ctx, uint8_t out[CRYPTO_MAX_HASH_LEN])
{
    QPKI_ENSURE(ctx && out, QPKI_ERR_INVALID_ARG);
    int type = crypto_wc_hash_type(ctx->alg);
    QPKI_ENSURE(type != WC_HASH_TYPE_NONE, QPKI_ERR_INVALID_ARG);
    if (own_sha256(ctx)) {
        sha256_final(own_sha256(ctx), out);
        qpki_wipe(ctx, sizeof(*ctx));
        return QPKI_OK;
    }
    wc_HashAlg *h = (wc_HashAlg *)(void *)ctx->state;
    int ret = wc_HashFinal(h, (enum wc_HashType)type, out);
    (void)wc_HashFree(h, (enum wc_HashType)type);
    /* The state may hold message bytes (a password, a key being encrypted). */
    qpki_wipe(ctx, sizeof(*ctx));
    return ret == 0 ? QPKI_OK : crypto_wolf_status(ret);
}

qpki_status crypto_hash(qpki_hash_alg alg, const uint8_t *in, size_t n,
                        uint8_t out[CRYPTO_MAX_HASH_LEN])
{
    QPKI_ENSURE(out && (in || n == 0), QPKI_ERR_INVALID_ARG);
    crypto_hash_ctx ctx;
    QPKI_GUARD(crypto_hash_init(&ctx, alg));
    qpki_status rc = crypto_hash_update(&ctx, in, n);
    if (rc != QPKI_OK) {
        qpki_wipe(&ctx, sizeof(ctx));
        return rc;
    }
    return crypto_hash_final(&ctx, out);
}

qpki_status crypto_digest_info(qpki_hash_alg alg, const uint8_t *digest, uint8_t *out,
                               size_t *out_len)
{
    size_t hlen = crypto_hash_len(alg);
    der_oid oid = crypto_hash_oid(alg);
    QPKI_ENSURE(hlen && digest && out && out_len, QPKI_ERR_INVALID_ARG);
    /* RFC 8017 §9.2 note 1: DigestInfo for SHA-2 is
     *   30 (len) 30 (len) 06 09 <oid> 05 00 04 (hlen) <digest>
     * and the digestAlgorithm parameters are NULL (RFC 4055 §5 "MUST be NULL" for
     * the signature, and RFC 8017 Appendix A.2.4 for the DigestInfo). */
    size_t alg_len = 2 + oid.n + 2;
    size_t total = 2 + (2 + alg_len) + (2 + hlen);
    QPKI_ENSURE(total <= CRYPTO_DIGEST_INFO_MAX && total - 2 < 0x80, QPKI_ERR_INTERNAL);
    size_t o = 0;
    out[o++] = DER_SEQUENCE;
    out[o++] = (uint8_t)(total - 2);
    out[o++] = DER_SEQUENCE;
    out[o++] = (uint8_t)alg_len;
    out[o++] = DER_OID;
    out[o++] = (uint8_t)oid.n;
    memcpy(out + o, oid.p, oid.n);
    o += oid.n;
    out[o++] = DER_NULL;
    out[o++] = 0;
    out[o++] = DER_OCTET_STRING;
    out[o++] = (uint8_t)hlen;
    memcpy(out + o, digest, hlen);
    o += hlen;
    *out_len = o;
    return QPKI_OK;
}
