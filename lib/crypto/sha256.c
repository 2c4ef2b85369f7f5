/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/sha256.c - SHA-256 written from FIPS 180-4 ("Secure Hash Standard",
 * August 2015) §4.1.2, §4.2.2, §5.1.1, §5.3.3 and §6.2, and HMAC from RFC 2104 §2
 * (FIPS 198-1 §4).  Two compression functions: portable C, and one on the x86 SHA
 * extensions (SHA256RNDS2 does two rounds, SHA256MSG1/MSG2 the message schedule),
 * picked at run time.  Neither branches on or indexes by data, so HMAC keys (the
 * ECDSA private key goes through the RFC 6979 HMAC) stay constant time. */
#include <string.h>

#include "crypto/sha256.h"
#include "safety.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#define SHA256_HAVE_SHANI 1
#include <cpuid.h>
#include <immintrin.h>
#include <stdatomic.h>
#else
#define SHA256_HAVE_SHANI 0
#endif

/* FIPS 180-4 §4.2.2: "the first thirty-two bits of the fractional parts of the
 * cube roots of the first sixty-four prime numbers". */
static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2,
};

/* FIPS 180-4 §5.3.3: H(0) "the first thirty-two bits of the fractional parts of
 * the square roots of the first eight prime numbers". */
static const uint32_t H0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                               0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

static inline uint32_t ror32(uint32_t v, unsigned n)
{
    return (v >> n) | (v << (32 - n));
}

static inline uint32_t load32_be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void store32_be(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* §4.1.2: Ch, Maj, Σ0, Σ1, σ0, σ1; §6.2.2 steps 1-4 for each block. */
static void compress_portable(uint32_t h[8], const uint8_t *p, size_t blocks)
{
    uint32_t w[64];
    for (; blocks; blocks--, p += SHA256_BLOCK) {
        for (int t = 0; t < 16; t++)
            w[t] = load32_be(p + 4 * t);
        for (int t = 16; t < 64; t++) {
            uint32_t s0 = ror32(w[t - 15], 7) ^ ror32(w[t - 15], 18) ^ (w[t - 15] >> 3);
            uint32_t s1 = ror32(w[t - 2], 17) ^ ror32(w[t - 2], 19) ^ (w[t - 2] >> 10);
            w[t] = s1 + w[t - 7] + s0 + w[t - 16];
        }
        uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
        for (int t = 0; t < 64; t++) {
            uint32_t t1 = hh + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                          K[t] + w[t];
            uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
            hh = g;
            g = f;
            f = e;
            e = d + t1;
            d = c;
            c = b;
            b = a;
            a = t1 + t2;
        }
        h[0] += a;
        h[1] += b;
        h[2] += c;
        h[3] += d;
        h[4] += e;
        h[5] += f;
        h[6] += g;
        h[7] += hh;
    }
    qpki_wipe(w, sizeof(w));
}

#if SHA256_HAVE_SHANI
#define SHANI __attribute__((target("sha,ssse3,sse4.1")))

/* Four rounds t..t+3: SHA256RNDS2 takes W+K for two rounds in the low 64 bits of
 * its third operand and keeps the state as {A,B,E,F} / {C,D,G,H}. */
SHANI static inline void rounds4(__m128i *abef, __m128i *cdgh, __m128i w, int t)
{
    __m128i wk = _mm_add_epi32(w, _mm_loadu_si128((const __m128i *)(const void *)&K[t]));
    *cdgh = _mm_sha256rnds2_epu32(*cdgh, *abef, wk);
    *abef = _mm_sha256rnds2_epu32(*abef, *cdgh, _mm_shuffle_epi32(wk, 0x0e));
}

/* §6.2.2 step 1 for words 4i..4i+3 (i >= 4) from the previous sixteen words:
 * W_t = σ1(W_t-2) + W_t-7 + σ0(W_t-15) + W_t-16.  MSG1 adds the σ0 terms to
 * W_t-16..; ALIGNR gathers W_t-7..W_t-4; MSG2 adds σ1 of the two words before each
 * (the last two of them computed in the same instruction). */
SHANI static inline __m128i schedule(__m128i w16, __m128i w12, __m128i w8, __m128i w4)
{
    __m128i t = _mm_add_epi32(_mm_sha256msg1_epu32(w16, w12), _mm_alignr_epi8(w4, w8, 4));
    return _mm_sha256msg2_epu32(t, w4);
}

SHANI static void compress_shani(uint32_t h[8], const uint8_t *p, size_t blocks)
{
    /* Message words are big-endian. */
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
    __m128i dcba = _mm_loadu_si128((const __m128i *)(const void *)&h[0]);
    __m128i hgfe = _mm_loadu_si128((const __m128i *)(const void *)&h[4]);
    __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
    __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
    __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
    __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
    for (; blocks; blocks--, p += SHA256_BLOCK) {
        __m128i abef0 = abef, cdgh0 = cdgh;
        __m128i w[4];
        for (int i = 0; i < 4; i++) {
            w[i] = _mm_shuffle_epi8(
                _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i)), bswap);
            rounds4(&abef, &cdgh, w[i], 4 * i);
        }
        /* w[i & 3] holds words 4(i-4).. when group i starts; it becomes group i. */
        for (int i = 4; i < 16; i++) {
            w[i & 3] = schedule(w[i & 3], w[(i + 1) & 3], w[(i + 2) & 3], w[(i + 3) & 3]);
            rounds4(&abef, &cdgh, w[i & 3], 4 * i);
        }
        abef = _mm_add_epi32(abef, abef0);
        cdgh = _mm_add_epi32(cdgh, cdgh0);
    }
    __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
    __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
    _mm_storeu_si128((__m128i *)(void *)&h[0], _mm_blend_epi16(feba, dchg, 0xf0));
    _mm_storeu_si128((__m128i *)(void *)&h[4], _mm_alignr_epi8(dchg, feba, 8));
}
#endif

static int shani_allowed = 1;

void sha256_set_shani(int enable)
{
    shani_allowed = enable;
}

#if SHA256_HAVE_SHANI
/* CPUID (clang's __builtin_cpu_supports has no "sha"): leaf 1 ECX bit 9 SSSE3 and
 * bit 19 SSE4.1, leaf 7 subleaf 0 EBX bit 29 SHA.  Asked once. */
static int cpu_has_shani(void)
{
    static atomic_int known = -1;
    int v = atomic_load_explicit(&known, memory_order_relaxed);
    if (v >= 0)
        return v;
    unsigned a, b, c, d;
    v = 0;
    if (__get_cpuid(1, &a, &b, &c, &d) && (c & (1u << 9)) && (c & (1u << 19)) &&
        __get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        v = (int)((b >> 29) & 1u);
    }
    atomic_store_explicit(&known, v, memory_order_relaxed);
    return v;
}
#endif

int sha256_shani_active(void)
{
#if SHA256_HAVE_SHANI
    return shani_allowed && cpu_has_shani();
#else
    return 0;
#endif
}

static void compress(uint32_t h[8], const uint8_t *p, size_t blocks)
{
#if SHA256_HAVE_SHANI
    if (sha256_shani_active()) {
        compress_shani(h, p, blocks);
        return;
    }
#endif
    compress_portable(h, p, blocks);
}

void sha256_init(sha256_ctx *c)
{
    memcpy(c->h, H0, sizeof(H0));
    c->bytes = 0;
    c->n = 0;
}

void sha256_update(sha256_ctx *c, const uint8_t *in, size_t n)
{
    if (!n)
        return;
    c->bytes += n;
    if (c->n) {
        size_t k = SHA256_BLOCK - c->n < n ? SHA256_BLOCK - c->n : n;
        memcpy(c->buf + c->n, in, k);
        c->n += k;
        in += k;
        n -= k;
        if (c->n < SHA256_BLOCK)
            return;
        compress(c->h, c->buf, 1);
        c->n = 0;
    }
    if (n >= SHA256_BLOCK) {
        compress(c->h, in, n / SHA256_BLOCK);
        in += n - n % SHA256_BLOCK;
        n %= SHA256_BLOCK;
    }
    if (n) {
        memcpy(c->buf, in, n);
        c->n = n;
    }
}

/* §5.1.1: append the bit "1", k zero bits with l + 1 + k ≡ 448 mod 512, then l as a
 * 64-bit big-endian number. */
void sha256_final(sha256_ctx *c, uint8_t out[SHA256_LEN])
{
    uint64_t bits = c->bytes << 3;
    c->buf[c->n++] = 0x80;
    if (c->n > SHA256_BLOCK - 8) {
        memset(c->buf + c->n, 0, SHA256_BLOCK - c->n);
        compress(c->h, c->buf, 1);
        c->n = 0;
    }
    memset(c->buf + c->n, 0, SHA256_BLOCK - 8 - c->n);
    store32_be(c->buf + 56, (uint32_t)(bits >> 32));
    store32_be(c->buf + 60, (uint32_t)bits);
    compress(c->h, c->buf, 1);
    for (int i = 0; i < 8; i++)
        store32_be(out + 4 * i, c->h[i]);
    qpki_wipe(c, sizeof(*c));
}

void sha256(const uint8_t *in, size_t n, uint8_t out[SHA256_LEN])
{
    sha256_ctx c;
    sha256_init(&c);
    sha256_update(&c, in, n);
    sha256_final(&c, out);
}

/* RFC 2104 §2: H(K XOR opad, H(K XOR ipad, text)); ipad = 0x36, opad = 0x5c
 * repeated B = 64 times; a key longer than B is first hashed, and the key is
 * padded with zeros to B bytes. */
void hmac_sha256_init(hmac_sha256_ctx *m, const uint8_t *key, size_t key_len)
{
    uint8_t k[SHA256_BLOCK] = {0};
    if (key_len > SHA256_BLOCK)
        sha256(key, key_len, k);
    else if (key_len)
        memcpy(k, key, key_len);
    for (int i = 0; i < SHA256_BLOCK; i++)
        k[i] ^= 0x36;
    sha256_init(&m->inner);
    sha256_update(&m->inner, k, SHA256_BLOCK);
    for (int i = 0; i < SHA256_BLOCK; i++)
        k[i] ^= 0x36 ^ 0x5c;
    sha256_init(&m->outer);
    sha256_update(&m->outer, k, SHA256_BLOCK);
    qpki_wipe(k, sizeof(k));
}

void hmac_sha256_update(hmac_sha256_ctx *m, const uint8_t *in, size_t n)
{
    sha256_update(&m->inner, in, n);
}

void hmac_sha256_final(hmac_sha256_ctx *m, uint8_t out[SHA256_LEN])
{
    uint8_t ih[SHA256_LEN];
    sha256_final(&m->inner, ih);
    sha256_update(&m->outer, ih, sizeof(ih));
    sha256_final(&m->outer, out);
    qpki_wipe(ih, sizeof(ih));
    qpki_wipe(m, sizeof(*m));
}
