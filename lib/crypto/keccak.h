/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/keccak.h - Keccak-f[1600], SHA3-256/512 and SHAKE128/256 (FIPS 202).
 * Private interface (never installed).
 *
 * Sponge use:  init -> absorb* -> finalize -> squeeze*.  Absorbing after finalize
 * or squeezing before it is a programming error (not checked at run time).
 * A keccak_state holds data derived from what was absorbed: callers that absorb
 * secrets wipe it (qpki_wipe) when done.  All functions are constant time in the
 * data; only the lengths influence the control flow. */
#ifndef QPKI_KECCAK_H
#define QPKI_KECCAK_H

#include <stddef.h>
#include <stdint.h>

#define SHAKE128_RATE 168 /* bytes: (1600 - 2*128) / 8 */
#define SHAKE256_RATE 136 /* bytes: (1600 - 2*256) / 8 */
#define SHA3_256_RATE 136
#define SHA3_512_RATE 72

typedef struct keccak_state {
    uint64_t s[25];  /* lane (x, y) is s[x + 5y], FIPS 202 §3.1.2 */
    unsigned pos;    /* next byte within the current block (absorb or squeeze) */
    unsigned rate;   /* r / 8, in bytes */
} keccak_state;

/* FIPS 202 Algorithm 7: KECCAK-p[1600, 24] on the state (lanes little-endian). */
void keccak_f1600(uint64_t s[25]);

/* Generic sponge over KECCAK-f[1600] with rate `rate_bytes` (< 200). */
void keccak_init(keccak_state *st, unsigned rate_bytes);
void keccak_absorb(keccak_state *st, const uint8_t *in, size_t len);
/* Ends absorbing: appends `last_bits` (0..7) trailing message bits held in the low
 * bits of `last` (FIPS 202 bit order: bit i of a byte is string bit i), then the
 * domain suffix (`suffix_len` bits of `suffix`: SHA3 "01" = 0x2/2, SHAKE "1111" =
 * 0xf/4), then pad10*1 (FIPS 202 Algorithm 9). */
void keccak_finalize_bits(keccak_state *st, uint8_t last, unsigned last_bits, uint8_t suffix,
                          unsigned suffix_len);
void keccak_squeeze(keccak_state *st, uint8_t *out, size_t len);
/* Squeeze whole blocks straight from the state: out gets nblocks * rate bytes.
 * Only valid right after finalize or after a whole number of blocks. */
void keccak_squeeze_blocks(keccak_state *st, uint8_t *out, size_t nblocks);

/* SHAKE128 / SHAKE256 (FIPS 202 §6.2): incremental XOF. */
typedef keccak_state shake128_ctx;
typedef keccak_state shake256_ctx;
void shake128_init(shake128_ctx *c);
void shake128_absorb(shake128_ctx *c, const uint8_t *in, size_t len);
void shake128_finalize(shake128_ctx *c);
void shake128_squeeze(shake128_ctx *c, uint8_t *out, size_t len);
void shake256_init(shake256_ctx *c);
void shake256_absorb(shake256_ctx *c, const uint8_t *in, size_t len);
void shake256_finalize(shake256_ctx *c);
void shake256_squeeze(shake256_ctx *c, uint8_t *out, size_t len);

/* One-shot helpers. */
void shake128(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len);
void shake256(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len);
void sha3_256(uint8_t out[32], const uint8_t *in, size_t in_len);
void sha3_512(uint8_t out[64], const uint8_t *in, size_t in_len);

#endif
