/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/keccak.c - Keccak-f[1600] and the SHA-3 / SHAKE sponges, written from
 * FIPS 202 ("SHA-3 Standard: Permutation-Based Hash and Extendable-Output
 * Functions", August 2015).
 *
 * The state is 25 64-bit lanes; lane (x, y) is s[x + 5y] and bit z of the lane is
 * state bit A[x, y, z] (FIPS 202 §3.1.2: "A[x, y, z] = S[w(5y + x) + z]").  Bytes
 * map to lanes little-endian (FIPS 202 Appendix B.1 b2h conventions), so byte i of
 * the state is bits 8i..8i+7 of the string S. */
#include <string.h>

#include "crypto/keccak.h"

static inline uint64_t rol64(uint64_t v, unsigned n)
{
    return (v << n) | (v >> ((64 - n) & 63));
}

static inline uint64_t load64_le(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store64_le(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* FIPS 202 §3.2.5 Algorithm 5 rc(t) / Algorithm 6 iota: RC[i_r] has bit 2^j - 1 set
 * to rc(j + 7 i_r) for j = 0..6.  The 24 values below were computed from that
 * LFSR definition (R = 0 || R; R[0] ^= R[8]; R[4] ^= R[8]; R[5] ^= R[8];
 * R[6] ^= R[8]; R = Trunc8(R)). */
static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL,
    0x8000000080008000ULL, 0x000000000000808bULL, 0x0000000080000001ULL,
    0x8000000080008081ULL, 0x8000000000008009ULL, 0x000000000000008aULL,
    0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL,
    0x8000000000008003ULL, 0x8000000000008002ULL, 0x8000000000000080ULL,
    0x000000000000800aULL, 0x800000008000000aULL, 0x8000000080008081ULL,
    0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* One round Rnd(A, i_r) = iota(chi(pi(rho(theta(A)))), i_r) (FIPS 202 §3.3).
 *  theta (Algorithm 1): C[x] = A[x,0] ^ ... ^ A[x,4];
 *                       D[x] = C[x-1] ^ ROT(C[x+1], 1);  A'[x,y] = A[x,y] ^ D[x].
 *  rho   (Algorithm 2): lane (x, y) rotated by the offsets of Table 2
 *                       ((t+1)(t+2)/2 mod 64 along (x,y) -> (y, 2x+3y)).
 *  pi    (Algorithm 3): A'[x, y] = A[(x + 3y) mod 5, x], i.e. lane (X, Y) moves
 *                       to (Y, 2X + 3Y).
 *  chi   (Algorithm 4): A'[x,y] = A[x,y] ^ (~A[x+1,y] & A[x+2,y]).
 *  iota  (Algorithm 6): A[0,0] ^= RC[i_r].
 * B holds pi(rho(theta(A))), written out lane by lane. */
#define KECCAK_ROUND(A, B, rc)                                                       \
    do {                                                                             \
        uint64_t c0 = A[0] ^ A[5] ^ A[10] ^ A[15] ^ A[20];                           \
        uint64_t c1 = A[1] ^ A[6] ^ A[11] ^ A[16] ^ A[21];                           \
        uint64_t c2 = A[2] ^ A[7] ^ A[12] ^ A[17] ^ A[22];                           \
        uint64_t c3 = A[3] ^ A[8] ^ A[13] ^ A[18] ^ A[23];                           \
        uint64_t c4 = A[4] ^ A[9] ^ A[14] ^ A[19] ^ A[24];                           \
        uint64_t d0 = c4 ^ rol64(c1, 1), d1 = c0 ^ rol64(c2, 1);                     \
        uint64_t d2 = c1 ^ rol64(c3, 1), d3 = c2 ^ rol64(c4, 1);                     \
        uint64_t d4 = c3 ^ rol64(c0, 1);                                             \
        B[0] = A[0] ^ d0;                                                            \
        B[10] = rol64(A[1] ^ d1, 1);                                                 \
        B[20] = rol64(A[2] ^ d2, 62);                                                \
        B[5] = rol64(A[3] ^ d3, 28);                                                 \
        B[15] = rol64(A[4] ^ d4, 27);                                                \
        B[16] = rol64(A[5] ^ d0, 36);                                                \
        B[1] = rol64(A[6] ^ d1, 44);                                                 \
        B[11] = rol64(A[7] ^ d2, 6);                                                 \
        B[21] = rol64(A[8] ^ d3, 55);                                                \
        B[6] = rol64(A[9] ^ d4, 20);                                                 \
        B[7] = rol64(A[10] ^ d0, 3);                                                 \
        B[17] = rol64(A[11] ^ d1, 10);                                               \
        B[2] = rol64(A[12] ^ d2, 43);                                                \
        B[12] = rol64(A[13] ^ d3, 25);                                               \
        B[22] = rol64(A[14] ^ d4, 39);                                               \
        B[23] = rol64(A[15] ^ d0, 41);                                               \
        B[8] = rol64(A[16] ^ d1, 45);                                                \
        B[18] = rol64(A[17] ^ d2, 15);                                               \
        B[3] = rol64(A[18] ^ d3, 21);                                                \
        B[13] = rol64(A[19] ^ d4, 8);                                                \
        B[14] = rol64(A[20] ^ d0, 18);                                               \
        B[24] = rol64(A[21] ^ d1, 2);                                                \
        B[9] = rol64(A[22] ^ d2, 61);                                                \
        B[19] = rol64(A[23] ^ d3, 56);                                               \
        B[4] = rol64(A[24] ^ d4, 14);                                                \
        for (unsigned y_ = 0; y_ < 25; y_ += 5) {                                    \
            uint64_t b0 = B[y_], b1 = B[y_ + 1], b2 = B[y_ + 2], b3 = B[y_ + 3],     \
                     b4 = B[y_ + 4];                                                 \
            A[y_] = b0 ^ (~b1 & b2);                                                 \
            A[y_ + 1] = b1 ^ (~b2 & b3);                                             \
            A[y_ + 2] = b2 ^ (~b3 & b4);                                             \
            A[y_ + 3] = b3 ^ (~b4 & b0);                                             \
            A[y_ + 4] = b4 ^ (~b0 & b1);                                             \
        }                                                                            \
        A[0] ^= (rc);                                                                \
    } while (0)

/* FIPS 202 Algorithm 7 KECCAK-p[b, n_r] with b = 1600, n_r = 24: "for i_r from
 * 12 + 2l - n_r to 12 + 2l - 1, let A = Rnd(A, i_r)" (l = 6, so i_r = 0..23). */
void keccak_f1600(uint64_t s[25])
{
    uint64_t a[25], b[25];
    memcpy(a, s, sizeof(a));
    for (unsigned ir = 0; ir < 24; ir += 2) {
        KECCAK_ROUND(a, b, round_constants[ir]);
        KECCAK_ROUND(a, b, round_constants[ir + 1]);
    }
    memcpy(s, a, sizeof(a));
}

void keccak_init(keccak_state *st, unsigned rate_bytes)
{
    memset(st->s, 0, sizeof(st->s));
    st->pos = 0;
    st->rate = rate_bytes;
}

static inline void xor_byte(keccak_state *st, unsigned i, uint8_t b)
{
    st->s[i / 8] ^= (uint64_t)b << (8 * (i % 8));
}

/* FIPS 202 Algorithm 8 SPONGE[f, pad, r](N, d), absorbing phase: "For i from 0 to
 * n-1, let S = f(S xor (P_i || 0^c))", fed incrementally. */
void keccak_absorb(keccak_state *st, const uint8_t *in, size_t len)
{
    const unsigned rate = st->rate;
    while (len > 0 && st->pos != 0) {
        xor_byte(st, st->pos++, *in++);
        len--;
        if (st->pos == rate) {
            keccak_f1600(st->s);
            st->pos = 0;
        }
    }
    if (rate % 8 == 0) {
        while (len >= rate) {
            for (unsigned i = 0; i < rate / 8; i++)
                st->s[i] ^= load64_le(in + 8 * i);
            keccak_f1600(st->s);
            in += rate;
            len -= rate;
        }
    }
    while (len > 0) {
        xor_byte(st, st->pos++, *in++);
        len--;
        if (st->pos == rate) {
            keccak_f1600(st->s);
            st->pos = 0;
        }
    }
}

/* FIPS 202 §5.1 Algorithm 9 pad10*1(x, m): "Let j = (-m-2) mod x. Return
 * P = 1 || 0^j || 1", appended after the message bits and the domain suffix
 * (§6.1: SHA3-d(M) = KECCAK[2d](M || 01, d); §6.2: SHAKE128(M, d) =
 * KECCAK[256](M || 1111, d)).  The trailing bits, the suffix and the first pad
 * bit are placed bit by bit so that any bit length works; the last pad bit is the
 * final bit of a block. */
void keccak_finalize_bits(keccak_state *st, uint8_t last, unsigned last_bits, uint8_t suffix,
                          unsigned suffix_len)
{
    const unsigned rate = st->rate;
    uint32_t w = (uint32_t)(last & ((1u << last_bits) - 1u)) |
                 (uint32_t)(suffix & ((1u << suffix_len) - 1u)) << last_bits |
                 1u << (last_bits + suffix_len);
    unsigned nbits = last_bits + suffix_len + 1;
    unsigned bit = st->pos * 8;
    for (unsigned i = 0; i < nbits; i++) {
        if ((w >> i) & 1u)
            st->s[bit / 64] ^= 1ULL << (bit % 64);
        bit++;
        if (bit == rate * 8) {
            keccak_f1600(st->s);
            bit = 0;
        }
    }
    /* The final "1" of pad10*1 is the last bit of the block. */
    xor_byte(st, rate - 1, 0x80);
    keccak_f1600(st->s);
    st->pos = 0;
}

/* FIPS 202 Algorithm 8 squeezing phase: "Let Z = Z || Trunc_r(S) ... let S = f(S)"
 * until d bits are produced.  pos counts the bytes of the current block already
 * output. */
void keccak_squeeze(keccak_state *st, uint8_t *out, size_t len)
{
    const unsigned rate = st->rate;
    while (len > 0) {
        if (st->pos == rate) {
            keccak_f1600(st->s);
            st->pos = 0;
        }
        if (st->pos == 0 && len >= rate && rate % 8 == 0) {
            for (unsigned i = 0; i < rate / 8; i++)
                store64_le(out + 8 * i, st->s[i]);
            out += rate;
            len -= rate;
            st->pos = rate;
            continue;
        }
        *out++ = (uint8_t)(st->s[st->pos / 8] >> (8 * (st->pos % 8)));
        st->pos++;
        len--;
    }
}

void keccak_squeeze_blocks(keccak_state *st, uint8_t *out, size_t nblocks)
{
    keccak_squeeze(st, out, nblocks * st->rate);
}

void shake128_init(shake128_ctx *c) { keccak_init(c, SHAKE128_RATE); }
void shake128_absorb(shake128_ctx *c, const uint8_t *in, size_t len) { keccak_absorb(c, in, len); }
void shake128_finalize(shake128_ctx *c) { keccak_finalize_bits(c, 0, 0, 0xf, 4); }
void shake128_squeeze(shake128_ctx *c, uint8_t *out, size_t len) { keccak_squeeze(c, out, len); }
void shake256_init(shake256_ctx *c) { keccak_init(c, SHAKE256_RATE); }
void shake256_absorb(shake256_ctx *c, const uint8_t *in, size_t len) { keccak_absorb(c, in, len); }
void shake256_finalize(shake256_ctx *c) { keccak_finalize_bits(c, 0, 0, 0xf, 4); }
void shake256_squeeze(shake256_ctx *c, uint8_t *out, size_t len) { keccak_squeeze(c, out, len); }

static void wipe_state(keccak_state *st)
{
    volatile uint64_t *p = st->s;
    for (unsigned i = 0; i < 25; i++)
        p[i] = 0;
}

void shake128(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len)
{
    keccak_state st;
    shake128_init(&st);
    shake128_absorb(&st, in, in_len);
    shake128_finalize(&st);
    shake128_squeeze(&st, out, out_len);
    wipe_state(&st);
}

void shake256(uint8_t *out, size_t out_len, const uint8_t *in, size_t in_len)
{
    keccak_state st;
    shake256_init(&st);
    shake256_absorb(&st, in, in_len);
    shake256_finalize(&st);
    shake256_squeeze(&st, out, out_len);
    wipe_state(&st);
}

/* FIPS 202 §6.1: SHA3-256(M) = KECCAK[512](M || 01, 256);
 *                SHA3-512(M) = KECCAK[1024](M || 01, 512). */
void sha3_256(uint8_t out[32], const uint8_t *in, size_t in_len)
{
    keccak_state st;
    keccak_init(&st, SHA3_256_RATE);
    keccak_absorb(&st, in, in_len);
    keccak_finalize_bits(&st, 0, 0, 0x2, 2);
    keccak_squeeze(&st, out, 32);
    wipe_state(&st);
}

void sha3_512(uint8_t out[64], const uint8_t *in, size_t in_len)
{
    keccak_state st;
    keccak_init(&st, SHA3_512_RATE);
    keccak_absorb(&st, in, in_len);
    keccak_finalize_bits(&st, 0, 0, 0x2, 2);
    keccak_squeeze(&st, out, 64);
    wipe_state(&st);
}
