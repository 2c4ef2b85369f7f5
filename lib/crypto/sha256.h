/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/sha256.h - our SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104 /
 * FIPS 198-1): the hash of every signature, CertID, ETag and the RFC 6979 nonce
 * DRBG.  The compression function uses the x86 SHA extensions when the CPU has
 * them and portable C otherwise (Debian's wolfSSL is built without either's
 * fast path: its generic C SHA-256 was 18 % of a live ECDSA answer). */
#ifndef QPKI_CRYPTO_SHA256_H
#define QPKI_CRYPTO_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_BLOCK 64
#define SHA256_LEN 32

typedef struct {
    uint32_t h[8];
    uint64_t bytes;              /* message bytes absorbed so far */
    uint8_t buf[SHA256_BLOCK];   /* a partial block */
    size_t n;                    /* bytes in buf */
} sha256_ctx;

void sha256_init(sha256_ctx *c);
void sha256_update(sha256_ctx *c, const uint8_t *in, size_t n);
/* Writes the digest and wipes the context. */
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_LEN]);
void sha256(const uint8_t *in, size_t n, uint8_t out[SHA256_LEN]);

/* HMAC-SHA-256 with the two keyed states precomputed by hmac_sha256_init, so a
 * MAC costs the message blocks plus two compressions. */
typedef struct {
    sha256_ctx inner, outer;
} hmac_sha256_ctx;

void hmac_sha256_init(hmac_sha256_ctx *m, const uint8_t *key, size_t key_len);
void hmac_sha256_update(hmac_sha256_ctx *m, const uint8_t *in, size_t n);
/* Writes the MAC and wipes the context. */
void hmac_sha256_final(hmac_sha256_ctx *m, uint8_t out[SHA256_LEN]);

/* Tests: 0 forces the portable compression function, 1 allows the SHA
 * extensions again; sha256_shani_active tells which one runs. */
void sha256_set_shani(int enable);
int sha256_shani_active(void);

#endif
