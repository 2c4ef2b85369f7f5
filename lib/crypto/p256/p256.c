/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/p256/p256.c - constant-time ECDSA signing on NIST P-256.
 *
 * Field GF(p), p = 2^256 - 2^224 + 2^192 + 2^96 - 1, and scalars mod the group
 * order n: four 64-bit limbs (little-endian limb order), Montgomery multiplication
 * with R = 2^256 (x86-64: mul/adc inline assembly; elsewhere, or with
 * -DQPKI_P256_PORTABLE, C with unsigned __int128), constant-time inversions by
 * Bernstein-Yang divsteps (mod_inv).
 *
 * Points: projective (X:Y:Z) with the complete addition formulas of Renes,
 * Costello and Batina, "Complete addition formulas for prime order elliptic
 * curves" (EUROCRYPT 2016), Algorithm 4 (a = -3, projective) and Algorithm 5
 * (a = -3, mixed: the second point affine).  They hold for every input pair,
 * including P = Q and the point at infinity (0:1:0) as the first operand, so the
 * scalar multiplication has no special cases.
 *
 * k*G: a fixed-base method with signed odd base-32 digits (Joye-Tunstall's
 * regular recoding with the carries folded in; see base_mult): for odd k,
 *   k = sum_{i=0}^{50} d_i 32^i + 2^255,  d_i in {+-1, +-3, ..., +-31},
 * so k*G is 51 mixed additions of table entries T[i][j] = (2j + 1) 32^i G
 * (affine) to the public point 2^255 G.  The table is 51 x 16 points of 64
 * octets (52,224 octets, plus 64 for 2^255 G), computed once (pthread_once) at
 * first use.  An even k is replaced by n - k (odd), which gives -kG: same x, y
 * negated.  Every table read scans the 16 entries of its row with masks; the sign
 * of the digit negates y with a mask.
 *
 * Nonce: RFC 6979 §3.2 (HMAC-DRBG with the message's hash), hedged with fresh
 * additional data (§3.6) by the caller. */
#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include <pthread.h>
#include <string.h>

#include "p256.h"
#include "../sha256.h"
#include "../../der/der.h"

typedef unsigned __int128 u128;
typedef uint64_t fe[4]; /* field element or scalar, little-endian limbs */

#if defined(__GNUC__)
#define P256_INLINE static inline __attribute__((always_inline))
#else
#define P256_INLINE static inline
#endif

/* FIPS 186-5 / SP 800-186 §3.2.1.3 P-256 domain parameters. */
static const fe P = {0xffffffffffffffffu, 0x00000000ffffffffu, 0x0000000000000000u,
                     0xffffffff00000001u};
static const fe N = {0xf3b9cac2fc632551u, 0xbce6faada7179e84u, 0xffffffffffffffffu,
                     0xffffffff00000000u};
/* -p^-1 mod 2^64 = 1 (p = -1 mod 2^64); -n^-1 mod 2^64: */
#define N0INV 0xccd1c8aaee00bc4fu
/* R^2 mod p and R^2 mod n (R = 2^256), to enter the Montgomery domain. */
static const fe R2P = {0x0000000000000003u, 0xfffffffbffffffffu, 0xfffffffffffffffeu,
                       0x00000004fffffffdu};
static const fe R2N = {0x83244c95be79eea2u, 0x4699799c49bd6fa6u, 0x2845b2392b6bec59u,
                       0x66e12d94f3d95620u};
static const uint8_t B_BYTES[32] = {
    0x5a, 0xc6, 0x35, 0xd8, 0xaa, 0x3a, 0x93, 0xe7, 0xb3, 0xeb, 0xbd, 0x55, 0x76, 0x98, 0x86, 0xbc,
    0x65, 0x1d, 0x06, 0xb0, 0xcc, 0x53, 0xb0, 0xf6, 0x3b, 0xce, 0x3c, 0x3e, 0x27, 0xd2, 0x60, 0x4b};
static const uint8_t GX_BYTES[32] = {
    0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40, 0xf2,
    0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96};
static const uint8_t GY_BYTES[32] = {
    0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e, 0x16,
    0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51, 0xf5};

/* ---- limbs ------------------------------------------------------------------------ */

static void fe_from_bytes(fe r, const uint8_t b[32])
{
    for (int i = 0; i < 4; i++) {
        uint64_t v = 0;
        for (int j = 0; j < 8; j++)
            v = (v << 8) | b[(3 - i) * 8 + j];
        r[i] = v;
    }
}

static void fe_to_bytes(uint8_t b[32], const fe a)
{
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 8; j++)
            b[(3 - i) * 8 + j] = (uint8_t)(a[i] >> (56 - 8 * j));
}

/* Add and subtract with carry: the x86-64 intrinsics give plain adc/sbb chains;
 * elsewhere (or with QPKI_P256_PORTABLE) the same through unsigned __int128. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(QPKI_P256_PORTABLE)
#include <x86intrin.h>
P256_INLINE uint64_t addc(uint64_t a, uint64_t b, unsigned char *carry)
{
    unsigned long long out;
    *carry = _addcarry_u64(*carry, a, b, &out);
    return (uint64_t)out;
}
P256_INLINE uint64_t subb(uint64_t a, uint64_t b, unsigned char *borrow)
{
    unsigned long long out;
    *borrow = _subborrow_u64(*borrow, a, b, &out);
    return (uint64_t)out;
}
#else
P256_INLINE uint64_t addc(uint64_t a, uint64_t b, unsigned char *carry)
{
    u128 c = (u128)a + b + *carry;
    *carry = (unsigned char)(c >> 64);
    return (uint64_t)c;
}
P256_INLINE uint64_t subb(uint64_t a, uint64_t b, unsigned char *borrow)
{
    u128 c = (u128)a - b - *borrow;
    *borrow = (unsigned char)((c >> 64) & 1u);
    return (uint64_t)c;
}
#endif

/* r = a - m when a >= m, else a (a < 2m); hi is a fifth limb of a (0 or 1). */
P256_INLINE void reduce_once(fe r, const fe a, uint64_t hi, const fe m)
{
    unsigned char b = 0;
    uint64_t t0 = subb(a[0], m[0], &b), t1 = subb(a[1], m[1], &b);
    uint64_t t2 = subb(a[2], m[2], &b), t3 = subb(a[3], m[3], &b);
    (void)subb(hi, 0, &b);
    /* a - m < 0 exactly when the 5-limb subtraction borrows */
    uint64_t keep_a = 0u - (uint64_t)b;
    r[0] = t0 ^ ((t0 ^ a[0]) & keep_a);
    r[1] = t1 ^ ((t1 ^ a[1]) & keep_a);
    r[2] = t2 ^ ((t2 ^ a[2]) & keep_a);
    r[3] = t3 ^ ((t3 ^ a[3]) & keep_a);
}

/* Montgomery product a*b*R^-1 mod m for a, b < m (CIOS, Koc-Acar-Kaliski 1996). */
P256_INLINE void mont_mul(fe r, const fe a, const fe b, const fe m, uint64_t minv)
{
    uint64_t t[6] = {0, 0, 0, 0, 0, 0};
#pragma GCC unroll 4
    for (int i = 0; i < 4; i++) {
        u128 c = 0;
#pragma GCC unroll 4
        for (int j = 0; j < 4; j++) {
            c = (u128)a[j] * b[i] + t[j] + (uint64_t)(c >> 64);
            t[j] = (uint64_t)c;
        }
        c = (u128)t[4] + (uint64_t)(c >> 64);
        t[4] = (uint64_t)c;
        t[5] = (uint64_t)(c >> 64);
        uint64_t q = t[0] * minv;
        c = (u128)q * m[0] + t[0];
#pragma GCC unroll 3
        for (int j = 1; j < 4; j++) {
            c = (u128)q * m[j] + t[j] + (uint64_t)(c >> 64);
            t[j - 1] = (uint64_t)c;
        }
        c = (u128)t[4] + (uint64_t)(c >> 64);
        t[3] = (uint64_t)c;
        t[4] = t[5] + (uint64_t)(c >> 64);
    }
    reduce_once(r, t, t[4], m);
}

/* r = a + b mod m (a, b < m). */
P256_INLINE void mod_add(fe r, const fe a, const fe b, const fe m)
{
    unsigned char c = 0;
    fe t;
    t[0] = addc(a[0], b[0], &c);
    t[1] = addc(a[1], b[1], &c);
    t[2] = addc(a[2], b[2], &c);
    t[3] = addc(a[3], b[3], &c);
    reduce_once(r, t, c, m);
}

/* r = a - b mod m (a, b < m): on a borrow, add m back. */
P256_INLINE void mod_sub(fe r, const fe a, const fe b, const fe m)
{
    unsigned char w = 0, c = 0;
    uint64_t t0 = subb(a[0], b[0], &w), t1 = subb(a[1], b[1], &w);
    uint64_t t2 = subb(a[2], b[2], &w), t3 = subb(a[3], b[3], &w);
    uint64_t mask = 0u - (uint64_t)w;
    r[0] = addc(t0, m[0] & mask, &c);
    r[1] = addc(t1, m[1] & mask, &c);
    r[2] = addc(t2, m[2] & mask, &c);
    r[3] = addc(t3, m[3] & mask, &c);
}

/* r = -a mod m when mask is all ones, a when it is 0 (a < m), without a branch. */
P256_INLINE void mod_cond_neg(fe r, const fe a, uint64_t mask, const fe m)
{
    static const fe zero = {0, 0, 0, 0};
    fe na;
    mod_sub(na, zero, a, m);
    for (int l = 0; l < 4; l++)
        r[l] = (na[l] & mask) | (a[l] & ~mask);
}

/* All-ones when a == 0, else 0. */
static uint64_t is_zero_mask(const fe a)
{
    uint64_t z = a[0] | a[1] | a[2] | a[3];
    return ((z | (0u - z)) >> 63) - 1u;
}

/* All-ones when a < m, else 0. */
static uint64_t less_than_mask(const fe a, const fe m)
{
    uint64_t borrow = 0;
    for (int i = 0; i < 4; i++) {
        u128 acc = (u128)a[i] - m[i] - borrow;
        borrow = (uint64_t)(acc >> 64) & 1u;
    }
    return 0u - borrow;
}

/* Field Montgomery product a*b*R^-1 mod p for a, b < p: the 512-bit product, then
 * four word-by-word reduction rounds specialised to p.  With q = t_i (-p^-1 = 1
 * mod 2^64) the round adds q*p, and since
 *   q*p = q*2^256 - q*2^224 + q*2^192 + q*2^96 - q,
 * in limbs: -q at i (clears t_i), +q*2^32 at i+1 (q*(2^64 - 1) at i carries q into
 * i+1, plus q*(2^32 - 1) there), nothing at i+2 beyond that carry, and
 * q*(2^64 - 2^32 + 1) at i+3. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(QPKI_P256_PORTABLE)
/* x86-64 (baseline instruction set: mul, add, adc, sbb) version of the same
 * computation, interleaved: for each limb b_i, acc += a*b_i, then one reduction
 * round as described below; six accumulator registers rotate.  The final
 * conditional subtraction selects with a mask from sbb, never a branch or cmov. */
#define P256_ROW(off, A0, A1, A2, A3, A4, A5)                                       \
    "xorq %%" A5 ", %%" A5 "\n\t"                                                  \
    "movq " off "(%[b]), %%rax\n\t"                                               \
    "mulq 0(%[a])\n\t"                                                            \
    "addq %%rax, %%" A0 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq " off "(%[b]), %%rax\n\t"                                               \
    "mulq 8(%[a])\n\t"                                                            \
    "addq %%r14, %%" A1 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A1 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq " off "(%[b]), %%rax\n\t"                                               \
    "mulq 16(%[a])\n\t"                                                           \
    "addq %%r14, %%" A2 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A2 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq " off "(%[b]), %%rax\n\t"                                               \
    "mulq 24(%[a])\n\t"                                                           \
    "addq %%r14, %%" A3 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A3 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rdx, %%" A4 "\n\t"                                                    \
    "adcq $0, %%" A5 "\n\t"
/* q = A0: A1 += q << 32, A2 += q >> 32, (A3, A4) += q * p_3, carry into A5. */
#define P256_RED(A0, A1, A2, A3, A4, A5)                                            \
    "movq %%" A0 ", %%rax\n\t"                                                    \
    "mulq %[p3]\n\t"                                                              \
    "movq %%" A0 ", %%r14\n\t"                                                    \
    "shlq $32, %%r14\n\t"                                                         \
    "shrq $32, %%" A0 "\n\t"                                                      \
    "addq %%r14, %%" A1 "\n\t"                                                    \
    "adcq %%" A0 ", %%" A2 "\n\t"                                                 \
    "adcq %%rax, %%" A3 "\n\t"                                                    \
    "adcq %%rdx, %%" A4 "\n\t"                                                    \
    "adcq $0, %%" A5 "\n\t"
#define P256_SELECT(R, T)                                                           \
    "xorq %%" R ", %%" T "\n\t"                                                   \
    "andq %%rbx, %%" T "\n\t"                                                     \
    "xorq %%" T ", %%" R "\n\t"
/* The schoolbook rows of a Montgomery product, each followed by one reduction
 * round RED (P256_RED for p, P256_RED_N for n); the result is left in
 * (r12, r13, r8, r9, r10). */
#define P256_MUL_ROWS(RED)                                                          \
    "xorq %%r8, %%r8\n\t"                                                         \
    "xorq %%r9, %%r9\n\t"                                                         \
    "xorq %%r10, %%r10\n\t"                                                       \
    "xorq %%r11, %%r11\n\t"                                                       \
    "xorq %%r12, %%r12\n\t"                                                       \
    P256_ROW("0", "r8", "r9", "r10", "r11", "r12", "r13")                         \
    RED("r8", "r9", "r10", "r11", "r12", "r13")                                   \
    P256_ROW("8", "r9", "r10", "r11", "r12", "r13", "r8")                         \
    RED("r9", "r10", "r11", "r12", "r13", "r8")                                   \
    P256_ROW("16", "r10", "r11", "r12", "r13", "r8", "r9")                        \
    RED("r10", "r11", "r12", "r13", "r8", "r9")                                   \
    P256_ROW("24", "r11", "r12", "r13", "r8", "r9", "r10")                        \
    RED("r11", "r12", "r13", "r8", "r9", "r10")
/* The end of every Montgomery product and square: the value (L0..L3, TOP) is
 * below 2m; subtract the modulus m (M0..M3: its limbs as assembler operands),
 * keep the value when that borrows (rbx = the borrow mask from sbb, selected
 * with P256_SELECT: no branch, no cmov) and store the four limbs at r.  The
 * copies go to rax, rdx, S2, S3. */
#define P256_SUB_SELECT_STORE(L0, L1, L2, L3, TOP, S2, S3, M0, M1, M2, M3)           \
    "movq %%" L0 ", %%rax\n\t"                                                    \
    "movq %%" L1 ", %%rdx\n\t"                                                    \
    "movq %%" L2 ", %%" S2 "\n\t"                                                 \
    "movq %%" L3 ", %%" S3 "\n\t"                                                 \
    "subq " M0 ", %%" L0 "\n\t"                                                   \
    "sbbq " M1 ", %%" L1 "\n\t"                                                   \
    "sbbq " M2 ", %%" L2 "\n\t"                                                   \
    "sbbq " M3 ", %%" L3 "\n\t"                                                   \
    "sbbq $0, %%" TOP "\n\t"                                                      \
    "sbbq %%rbx, %%rbx\n\t"                                                       \
    P256_SELECT(L0, "rax")                                                        \
    P256_SELECT(L1, "rdx")                                                        \
    P256_SELECT(L2, S2)                                                           \
    P256_SELECT(L3, S3)                                                           \
    "movq %%" L0 ", 0(%[r])\n\t"                                                  \
    "movq %%" L1 ", 8(%[r])\n\t"                                                  \
    "movq %%" L2 ", 16(%[r])\n\t"                                                 \
    "movq %%" L3 ", 24(%[r])\n\t"
static void fe_mul(fe r, const fe a, const fe b)
{
    __asm__ volatile(
        P256_MUL_ROWS(P256_RED)
        /* value (r12, r13, r8, r9, r10) < 2p; subtract p, keep the original on borrow */
        P256_SUB_SELECT_STORE("r12", "r13", "r8", "r9", "r10", "r14", "r15",
                              "$-1", "%[p1]", "$0", "%[p3]")
        :
        : [r] "r"(r), [a] "r"(a), [b] "r"(b), [p1] "m"(P[1]), [p3] "m"(P[3])
        : "rax", "rbx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc",
          "memory");
}

/* Generic Montgomery round for n: q = A0 * (-n^-1 mod 2^64), (A0..A4) += q*n. */
#define P256_RED_N(A0, A1, A2, A3, A4, A5)                                          \
    "movq %%" A0 ", %%rax\n\t"                                                    \
    "imulq %[ninv], %%rax\n\t"                                                    \
    "movq %%rax, %%r15\n\t"                                                       \
    "mulq %[n0]\n\t"                                                              \
    "addq %%rax, %%" A0 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq %%r15, %%rax\n\t"                                                       \
    "mulq %[n1]\n\t"                                                              \
    "addq %%r14, %%" A1 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A1 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq %%r15, %%rax\n\t"                                                       \
    "mulq %[n2]\n\t"                                                              \
    "addq %%r14, %%" A2 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A2 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "movq %%rdx, %%r14\n\t"                                                       \
    "movq %%r15, %%rax\n\t"                                                       \
    "mulq %[n3]\n\t"                                                              \
    "addq %%r14, %%" A3 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rax, %%" A3 "\n\t"                                                    \
    "adcq $0, %%rdx\n\t"                                                          \
    "addq %%rdx, %%" A4 "\n\t"                                                    \
    "adcq $0, %%" A5 "\n\t"
static const uint64_t N0INV_WORD = N0INV;
/* Scalar Montgomery product a*b*R^-1 mod n (a, b < n), same structure as fe_mul. */
static void sc_mul(fe r, const fe a, const fe b)
{
    __asm__ volatile(
        P256_MUL_ROWS(P256_RED_N)
        P256_SUB_SELECT_STORE("r12", "r13", "r8", "r9", "r10", "r14", "r15",
                              "%[n0]", "%[n1]", "%[n2]", "%[n3]")
        :
        : [r] "r"(r), [a] "r"(a), [b] "r"(b), [n0] "m"(N[0]), [n1] "m"(N[1]), [n2] "m"(N[2]),
          [n3] "m"(N[3]), [ninv] "m"(N0INV_WORD)
        : "rax", "rbx", "rdx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "cc",
          "memory");
}
#define P256_HAVE_ASM_SC_MUL 1
#undef P256_ROW
#undef P256_RED
#undef P256_RED_N
#undef P256_SELECT
#undef P256_SUB_SELECT_STORE
#undef P256_MUL_ROWS
#else
static void fe_mul(fe r, const fe a, const fe b)
{
    uint64_t t0, t1, t2, t3, t4, t5, t6, t7;
    u128 c;
#define P256_HI(x) ((uint64_t)((x) >> 64))
    c = (u128)a[0] * b[0];                  t0 = (uint64_t)c;
    c = (u128)a[1] * b[0] + P256_HI(c);     t1 = (uint64_t)c;
    c = (u128)a[2] * b[0] + P256_HI(c);     t2 = (uint64_t)c;
    c = (u128)a[3] * b[0] + P256_HI(c);     t3 = (uint64_t)c; t4 = P256_HI(c);
    c = (u128)a[0] * b[1] + t1;             t1 = (uint64_t)c;
    c = (u128)a[1] * b[1] + t2 + P256_HI(c); t2 = (uint64_t)c;
    c = (u128)a[2] * b[1] + t3 + P256_HI(c); t3 = (uint64_t)c;
    c = (u128)a[3] * b[1] + t4 + P256_HI(c); t4 = (uint64_t)c; t5 = P256_HI(c);
    c = (u128)a[0] * b[2] + t2;             t2 = (uint64_t)c;
    c = (u128)a[1] * b[2] + t3 + P256_HI(c); t3 = (uint64_t)c;
    c = (u128)a[2] * b[2] + t4 + P256_HI(c); t4 = (uint64_t)c;
    c = (u128)a[3] * b[2] + t5 + P256_HI(c); t5 = (uint64_t)c; t6 = P256_HI(c);
    c = (u128)a[0] * b[3] + t3;             t3 = (uint64_t)c;
    c = (u128)a[1] * b[3] + t4 + P256_HI(c); t4 = (uint64_t)c;
    c = (u128)a[2] * b[3] + t5 + P256_HI(c); t5 = (uint64_t)c;
    c = (u128)a[3] * b[3] + t6 + P256_HI(c); t6 = (uint64_t)c; t7 = P256_HI(c);
    /* one reduction round at limb i: q = ti; x1..x4 = t(i+1)..t(i+4); cin is the
     * carry of the previous round out of t(i+3) into t(i+4); cout out of t(i+4) */
#define P256_ROUND(q, x1, x2, x3, x4, cin, cout)                                 \
    do {                                                                         \
        u128 m_ = (u128)(q) * P[3];                                              \
        u128 c_ = (u128)(x1) + ((q) << 32);                 x1 = (uint64_t)c_;   \
        c_ = (u128)(x2) + ((q) >> 32) + P256_HI(c_);        x2 = (uint64_t)c_;   \
        c_ = (u128)(x3) + (uint64_t)m_ + P256_HI(c_);       x3 = (uint64_t)c_;   \
        c_ = (u128)(x4) + P256_HI(m_) + P256_HI(c_) + (cin); x4 = (uint64_t)c_;  \
        cout = P256_HI(c_);                                                      \
    } while (0)
    uint64_t k0, k1, k2, k3;
    P256_ROUND(t0, t1, t2, t3, t4, 0u, k0);
    P256_ROUND(t1, t2, t3, t4, t5, k0, k1);
    P256_ROUND(t2, t3, t4, t5, t6, k1, k2);
    P256_ROUND(t3, t4, t5, t6, t7, k2, k3);
#undef P256_ROUND
#undef P256_HI
    const fe lo = {t4, t5, t6, t7};
    reduce_once(r, lo, k3, P);
}
#endif
P256_INLINE void fe_add(fe r, const fe a, const fe b) { mod_add(r, a, b, P); }
P256_INLINE void fe_sub(fe r, const fe a, const fe b) { mod_sub(r, a, b, P); }
#ifndef P256_HAVE_ASM_SC_MUL
/* Scalar Montgomery product a*b*R^-1 mod n (a, b < n). */
static void sc_mul(fe r, const fe a, const fe b) { mont_mul(r, a, b, N, N0INV); }
#endif


/* Montgomery forms of 1 (R mod p, R mod n), b, computed in p256_init. */
static fe ONE_P, ONE_N, B_M;

/* ---- inversion by divsteps (Bernstein and Yang, "Fast constant-time gcd computation
 * and modular inversion", TCHES 2019) ------------------------------------------------
 *
 * divstep(δ, f, g) = (1 - δ, g, (g - f)/2)            if δ > 0 and g is odd,
 *                    (1 + δ, f, (g + (g mod 2) f)/2)  otherwise.
 * From f = m (odd), g = x, δ = 1, the paper's Theorem 11.2 bounds the number of steps
 * after which g = 0 and f = ±gcd = ±1 by ⌊(49·256 + 57)/17⌋ = 741 for 256-bit
 * inputs; we always run 12 batches of 62 = 744, with no branch and no index on
 * δ, f or g, so the time is the same for every x.  Each batch runs 62 steps on the
 * low 64 bits of f and g only, collecting the 2x2 matrix T with
 * 2^62 (f', g') = T (f, g), then applies T to the whole f and g.  The inverse is
 * tracked as d, e with f ≡ d x and g ≡ e x (mod m): they take the product of two
 * batches' matrices, with the division by 2^124 replaced by a Montgomery product
 * (division by 2^256) whose surplus 2^-132 per two batches is removed at the end
 * with one more product. */
#define INV_BATCHES 12
#define M62 ((((uint64_t)1) << 62) - 1u)

typedef __int128 i128;

/* value = l[0] + l[1] 2^62 + ... + l[4] 2^248; l[0..3] in [0, 2^62), l[4] signed */
typedef struct {
    int64_t l[5];
} s62;

static void s62_from_fe(s62 *r, const fe a)
{
    r->l[0] = (int64_t)(a[0] & M62);
    r->l[1] = (int64_t)(((a[0] >> 62) | (a[1] << 2)) & M62);
    r->l[2] = (int64_t)(((a[1] >> 60) | (a[2] << 4)) & M62);
    r->l[3] = (int64_t)(((a[2] >> 58) | (a[3] << 6)) & M62);
    r->l[4] = (int64_t)(a[3] >> 56);
}

/* 62 divsteps on the low 64 bits of f and g (exact for 62 steps: each step
 * halves g).  t = {u, v, q, r} with 2^62 f' = u f + v g, 2^62 g' = q f + r g;
 * |u|, |v|, |q|, |r| <= 2^62. */
static void divsteps62(int64_t *delta, uint64_t f, uint64_t g, int64_t t[4])
{
    uint64_t u = 1, v = 0, q = 0, r = 1; /* two's complement */
    uint64_t d = (uint64_t)*delta;
    for (int i = 0; i < 62; i++) {
        /* odd: g odd; sw: also δ > 0.  Then, in all three cases at once:
         *   f' = sw ? g : f,  g' = (g + (sw ? -f : f) & odd) / 2,  δ' = (sw ? -δ : δ) + 1,
         * and the matrix rows follow f and 2g (u, v double with the halving of g). */
        uint64_t odd = 0u - (g & 1u);
        uint64_t sw = odd & (uint64_t)((int64_t)(0u - d) >> 63);
        uint64_t nf = (f ^ sw) - sw, nu = (u ^ sw) - sw, nv = (v ^ sw) - sw;
        f ^= (f ^ g) & sw;
        u ^= (u ^ q) & sw;
        v ^= (v ^ r) & sw;
        g = (g + (nf & odd)) >> 1;
        q += nu & odd;
        r += nv & odd;
        u <<= 1;
        v <<= 1;
        d = ((d ^ sw) - sw) + 1u;
    }
    *delta = (int64_t)d;
    t[0] = (int64_t)u;
    t[1] = (int64_t)v;
    t[2] = (int64_t)q;
    t[3] = (int64_t)r;
}

/* (f, g) = T (f, g) / 2^62, exactly (the low 62 bits of both sums are zero). */
static void s62_update(s62 *f, s62 *g, const int64_t t[4])
{
    i128 cf = (i128)t[0] * f->l[0] + (i128)t[1] * g->l[0];
    i128 cg = (i128)t[2] * f->l[0] + (i128)t[3] * g->l[0];
    cf >>= 62;
    cg >>= 62;
    for (int i = 1; i < 5; i++) {
        cf += (i128)t[0] * f->l[i] + (i128)t[1] * g->l[i];
        cg += (i128)t[2] * f->l[i] + (i128)t[3] * g->l[i];
        f->l[i - 1] = (int64_t)((uint64_t)cf & M62);
        g->l[i - 1] = (int64_t)((uint64_t)cg & M62);
        cf >>= 62;
        cg >>= 62;
    }
    f->l[4] = (int64_t)cf;
    g->l[4] = (int64_t)cg;
}

/* r = x mod m for |x| < 2^127 (< m), without a branch on x. */
static void small_mod(fe r, i128 x, const fe m)
{
    uint64_t s = (uint64_t)(x >> 127);
    unsigned __int128 ax = ((unsigned __int128)x ^ ((unsigned __int128)s << 64 | s)) -
                           ((unsigned __int128)s << 64 | s);
    fe a = {(uint64_t)ax, (uint64_t)(ax >> 64), 0, 0};
    mod_cond_neg(r, a, s, m);
}

typedef struct {
    const uint64_t *m;
    void (*mul)(fe, const fe, const fe); /* Montgomery product mod m */
    fe k;                                /* 2^(66 INV_BATCHES) R^3 mod m, set in p256_init */
} inv_ctx;

/* r = a^-1 R^2 mod m, i.e. for a in the Montgomery domain (a = x R) the Montgomery
 * form x^-1 R of the inverse; 0 for a = 0. */
static void mod_inv(fe r, const fe a, const inv_ctx *c)
{
    s62 f, g;
    s62_from_fe(&f, c->m);
    s62_from_fe(&g, a);
    fe d = {0, 0, 0, 0}, e = {1, 0, 0, 0}, tu, tv, tq, tr, x, y, nd;
    int64_t delta = 1;
    for (int b = 0; b < INV_BATCHES; b += 2) {
        /* two batches, then their product M = T2 T1 (entries below 2^125) */
        int64_t t1[4], t2[4];
        for (int h = 0; h < 2; h++) {
            uint64_t f0 = (uint64_t)f.l[0] | ((uint64_t)f.l[1] << 62);
            uint64_t g0 = (uint64_t)g.l[0] | ((uint64_t)g.l[1] << 62);
            divsteps62(&delta, f0, g0, h ? t2 : t1);
            s62_update(&f, &g, h ? t2 : t1);
        }
        small_mod(tu, (i128)t2[0] * t1[0] + (i128)t2[1] * t1[2], c->m);
        small_mod(tv, (i128)t2[0] * t1[1] + (i128)t2[1] * t1[3], c->m);
        small_mod(tq, (i128)t2[2] * t1[0] + (i128)t2[3] * t1[2], c->m);
        small_mod(tr, (i128)t2[2] * t1[1] + (i128)t2[3] * t1[3], c->m);
        /* (d, e) = M (d, e) R^-1 */
        c->mul(x, d, tu);
        c->mul(y, e, tv);
        mod_add(nd, x, y, c->m);
        c->mul(x, d, tq);
        c->mul(y, e, tr);
        mod_add(e, x, y, c->m);
        memcpy(d, nd, sizeof(fe));
        qpki_wipe(t1, sizeof(t1));
        qpki_wipe(t2, sizeof(t2));
    }
    /* f = ±1: a^-1 = ±d 2^(132 INV_BATCHES / 2), times R^2 for the Montgomery form */
    c->mul(x, d, c->k);
    mod_cond_neg(r, x, (uint64_t)(f.l[4] >> 63), c->m);
    qpki_wipe(&f, sizeof(f));
    qpki_wipe(&g, sizeof(g));
    qpki_wipe(d, sizeof(d));
    qpki_wipe(e, sizeof(e));
    qpki_wipe(nd, sizeof(nd));
    qpki_wipe(x, sizeof(x));
    qpki_wipe(y, sizeof(y));
    qpki_wipe(tu, sizeof(tu));
    qpki_wipe(tv, sizeof(tv));
    qpki_wipe(tq, sizeof(tq));
    qpki_wipe(tr, sizeof(tr));
    qpki_wipe(&delta, sizeof(delta));
}

static inv_ctx INV_P = {P, NULL, {0}}, INV_N = {N, NULL, {0}};

/* k = 2^(66 INV_BATCHES) R^3 mod m from R^2 mod m (public constants). */
static void inv_ctx_init(inv_ctx *c, void (*mul)(fe, const fe, const fe), const fe r2)
{
    c->mul = mul;
    mul(c->k, r2, r2); /* R^3 */
    for (int i = 0; i < 66 * INV_BATCHES; i++)
        mod_add(c->k, c->k, c->k, c->m);
}

/* ---- points ------------------------------------------------------------------------ */

typedef struct {
    fe x, y, z;
} point; /* projective, Montgomery coordinates */

typedef struct {
    fe x, y;
} affine; /* Montgomery coordinates */

/* The common end of RCB 2016 Algorithms 4 and 5 (steps 28 - 43 of 4, 21 - 36
 * of 5): from t0 = X1 X2, t2 = 3 Z1 Z2 (3 Z1 for the mixed sum), t3, t4 and
 * the partial X3, Y3, Z3 to the sum; t0 and t2 are overwritten. */
P256_INLINE void rcb_tail(point *out, fe t0, fe t2, const fe t3, const fe t4, fe x3, fe y3, fe z3)
{
    fe t1;
    fe_sub(y3, y3, t2);        /* Y3 = Y3 - t2 */
    fe_sub(y3, y3, t0);        /* Y3 = Y3 - t0 */
    fe_add(t1, y3, y3);        /* t1 = Y3 + Y3 */
    fe_add(y3, t1, y3);        /* Y3 = t1 + Y3 */
    fe_add(t1, t0, t0);        /* t1 = t0 + t0 */
    fe_add(t0, t1, t0);        /* t0 = t1 + t0 */
    fe_sub(t0, t0, t2);        /* t0 = t0 - t2 */
    fe_mul(t1, t4, y3);        /* t1 = t4 Y3 */
    fe_mul(t2, t0, y3);        /* t2 = t0 Y3 */
    fe_mul(y3, x3, z3);        /* Y3 = X3 Z3 */
    fe_add(y3, y3, t2);        /* Y3 = Y3 + t2 */
    fe_mul(x3, t3, x3);        /* X3 = t3 X3 */
    fe_sub(x3, x3, t1);        /* X3 = X3 - t1 */
    fe_mul(z3, t4, z3);        /* Z3 = t4 Z3 */
    fe_mul(t1, t3, t0);        /* t1 = t3 t0 */
    fe_add(z3, z3, t1);        /* Z3 = Z3 + t1 */
    memcpy(out->x, x3, sizeof(fe));
    memcpy(out->y, y3, sizeof(fe));
    memcpy(out->z, z3, sizeof(fe));
}

/* RCB 2016 Algorithm 4: P3 = P1 + P2, complete, projective, a = -3.
 * (12M + 2m_b + 29a; the step numbers of the paper are in the comments.) */
static void point_add(point *out, const point *p1, const point *p2)
{
    fe t0, t1, t2, t3, t4, x3, y3, z3;
    fe_mul(t0, p1->x, p2->x);  /* 1  t0 = X1 X2 */
    fe_mul(t1, p1->y, p2->y);  /* 2  t1 = Y1 Y2 */
    fe_mul(t2, p1->z, p2->z);  /* 3  t2 = Z1 Z2 */
    fe_add(t3, p1->x, p1->y);  /* 4  t3 = X1 + Y1 */
    fe_add(t4, p2->x, p2->y);  /* 5  t4 = X2 + Y2 */
    fe_mul(t3, t3, t4);        /* 6  t3 = t3 t4 */
    fe_add(t4, t0, t1);        /* 7  t4 = t0 + t1 */
    fe_sub(t3, t3, t4);        /* 8  t3 = t3 - t4 */
    fe_add(t4, p1->y, p1->z);  /* 9  t4 = Y1 + Z1 */
    fe_add(x3, p2->y, p2->z);  /* 10 X3 = Y2 + Z2 */
    fe_mul(t4, t4, x3);        /* 11 t4 = t4 X3 */
    fe_add(x3, t1, t2);        /* 12 X3 = t1 + t2 */
    fe_sub(t4, t4, x3);        /* 13 t4 = t4 - X3 */
    fe_add(x3, p1->x, p1->z);  /* 14 X3 = X1 + Z1 */
    fe_add(y3, p2->x, p2->z);  /* 15 Y3 = X2 + Z2 */
    fe_mul(x3, x3, y3);        /* 16 X3 = X3 Y3 */
    fe_add(y3, t0, t2);        /* 17 Y3 = t0 + t2 */
    fe_sub(y3, x3, y3);        /* 18 Y3 = X3 - Y3 */
    fe_mul(z3, B_M, t2);       /* 19 Z3 = b t2 */
    fe_sub(x3, y3, z3);        /* 20 X3 = Y3 - Z3 */
    fe_add(z3, x3, x3);        /* 21 Z3 = X3 + X3 */
    fe_add(x3, x3, z3);        /* 22 X3 = X3 + Z3 */
    fe_sub(z3, t1, x3);        /* 23 Z3 = t1 - X3 */
    fe_add(x3, t1, x3);        /* 24 X3 = t1 + X3 */
    fe_mul(y3, B_M, y3);       /* 25 Y3 = b Y3 */
    fe_add(t1, t2, t2);        /* 26 t1 = t2 + t2 */
    fe_add(t2, t1, t2);        /* 27 t2 = t1 + t2 */
    rcb_tail(out, t0, t2, t3, t4, x3, y3, z3); /* steps 28 - 43 */
}

/* RCB 2016 Algorithm 5: P3 = P1 + P2 with P2 = (X2:Y2:1) affine (never the point
 * at infinity), complete otherwise, a = -3.  (11M + 2m_b + 23a.) */
static void point_add_mixed(point *out, const point *p1, const affine *p2)
{
    fe t0, t1, t2, t3, t4, x3, y3, z3;
    fe_mul(t0, p1->x, p2->x);  /* 1  t0 = X1 X2 */
    fe_mul(t1, p1->y, p2->y);  /* 2  t1 = Y1 Y2 */
    fe_add(t3, p2->x, p2->y);  /* 3  t3 = X2 + Y2 */
    fe_add(t4, p1->x, p1->y);  /* 4  t4 = X1 + Y1 */
    fe_mul(t3, t3, t4);        /* 5  t3 = t3 t4 */
    fe_add(t4, t0, t1);        /* 6  t4 = t0 + t1 */
    fe_sub(t3, t3, t4);        /* 7  t3 = t3 - t4 */
    fe_mul(t4, p2->y, p1->z);  /* 8  t4 = Y2 Z1 */
    fe_add(t4, t4, p1->y);     /* 9  t4 = t4 + Y1 */
    fe_mul(y3, p2->x, p1->z);  /* 10 Y3 = X2 Z1 */
    fe_add(y3, y3, p1->x);     /* 11 Y3 = Y3 + X1 */
    fe_mul(z3, B_M, p1->z);    /* 12 Z3 = b Z1 */
    fe_sub(x3, y3, z3);        /* 13 X3 = Y3 - Z3 */
    fe_add(z3, x3, x3);        /* 14 Z3 = X3 + X3 */
    fe_add(x3, x3, z3);        /* 15 X3 = X3 + Z3 */
    fe_sub(z3, t1, x3);        /* 16 Z3 = t1 - X3 */
    fe_add(x3, t1, x3);        /* 17 X3 = t1 + X3 */
    fe_mul(y3, B_M, y3);       /* 18 Y3 = b Y3 */
    fe_add(t1, p1->z, p1->z);  /* 19 t1 = Z1 + Z1 */
    fe_add(t2, t1, p1->z);     /* 20 t2 = t1 + Z1 */
    rcb_tail(out, t0, t2, t3, t4, x3, y3, z3); /* steps 21 - 36 */
}

/* r = z^-1 (0 for z = 0), Montgomery domain. */
static void fe_inv(fe r, const fe z) { mod_inv(r, z, &INV_P); }

/* Affine coordinates (still Montgomery) of a projective point with Z != 0:
 * x = X/Z, y = Y/Z. */
static void point_to_affine(affine *out, const point *in)
{
    fe zinv;
    fe_inv(zinv, in->z);
    fe_mul(out->x, in->x, zinv);
    fe_mul(out->y, in->y, zinv);
    qpki_wipe(zinv, sizeof(zinv));
}

/* Montgomery form <-> plain integer. */
static void fe_to_mont(fe r, const fe a) { fe_mul(r, a, R2P); }
static void fe_from_mont(fe r, const fe a)
{
    static const fe one = {1u, 0, 0, 0};
    fe_mul(r, a, one);
}

/* ---- the fixed-base table ---------------------------------------------------------- */

/* Signed odd base-32 digits: for odd k < 2^256,
 *   k = sum_{i=0}^{50} d_i 32^i + 2^255,  d_i = ((k >> 5i) mod 64 | 1) - 32,
 * each d_i odd in [-31, 31] (t_0 = k, t_{i+1} = (t_i - d_i)/32 = (t_i >> 5) | 1,
 * and the last t_51 = (k >> 255) | 1 = 1 for every k < 2^256).  So kG is the
 * public point 2^255 G plus 51 table points. */
#define COMB_WINDOWS 51
#define COMB_ENTRIES 16
/* T[i][j] = (2j + 1) 32^i G, affine, Montgomery form; TOP = 2^255 G. */
static uint64_t comb_table[COMB_WINDOWS][COMB_ENTRIES][8]; /* x[4] then y[4] */
static affine comb_top;
static pthread_once_t p256_once = PTHREAD_ONCE_INIT;

/* Affine forms of n projective points with one inversion (Montgomery's trick):
 * prefix products z_0 z_1 ... z_j, one inversion, then back. */
static void batch_to_affine(affine *out, const point *in, int n)
{
    fe prefix[COMB_ENTRIES], inv, zinv;
    memcpy(prefix[0], in[0].z, sizeof(fe));
    for (int j = 1; j < n; j++)
        fe_mul(prefix[j], prefix[j - 1], in[j].z);
    fe_inv(inv, prefix[n - 1]);
    for (int j = n - 1; j > 0; j--) {
        fe_mul(zinv, inv, prefix[j - 1]); /* 1 / z_j */
        fe_mul(inv, inv, in[j].z);        /* 1 / (z_0 ... z_{j-1}) */
        fe_mul(out[j].x, in[j].x, zinv);
        fe_mul(out[j].y, in[j].y, zinv);
    }
    fe_mul(out[0].x, in[0].x, inv);
    fe_mul(out[0].y, in[0].y, inv);
}

static void p256_init(void)
{
    static const fe one = {1u, 0, 0, 0};
    fe tmp;
    inv_ctx_init(&INV_P, fe_mul, R2P);
    inv_ctx_init(&INV_N, sc_mul, R2N);
    fe_to_mont(ONE_P, one);
    mont_mul(ONE_N, one, R2N, N, N0INV);
    fe_from_bytes(tmp, B_BYTES);
    fe_to_mont(B_M, tmp);
    point base, twice, row[COMB_ENTRIES];
    fe_from_bytes(tmp, GX_BYTES);
    fe_to_mont(base.x, tmp);
    fe_from_bytes(tmp, GY_BYTES);
    fe_to_mont(base.y, tmp);
    memcpy(base.z, ONE_P, sizeof(fe));
    /* Public data only (once per process, about 52 inversions). */
    for (int i = 0; i < COMB_WINDOWS; i++) {
        point_add(&twice, &base, &base);
        row[0] = base;
        for (int j = 1; j < COMB_ENTRIES; j++)
            point_add(&row[j], &row[j - 1], &twice);
        affine aff[COMB_ENTRIES];
        batch_to_affine(aff, row, COMB_ENTRIES);
        for (int j = 0; j < COMB_ENTRIES; j++) {
            memcpy(comb_table[i][j], aff[j].x, sizeof(fe));
            memcpy(comb_table[i][j] + 4, aff[j].y, sizeof(fe));
        }
        for (int d = 0; d < 5; d++)
            point_add(&base, &base, &base);
    }
    point_to_affine(&comb_top, &base); /* 32^51 G = 2^255 G */
}

size_t p256_table_bytes(void) { return sizeof(comb_table) + sizeof(comb_top); }

const char *p256_arithmetic(void)
{
#if defined(__x86_64__) && defined(__GNUC__) && !defined(QPKI_P256_PORTABLE)
    return "x86-64";
#else
    return "portable";
#endif
}

/* Constant-time read of T[row][idx] (idx secret, 0..15), y negated when neg = 1:
 * all 16 entries are read and masked. */
static void comb_select(affine *out, int row, uint64_t idx, uint64_t neg)
{
    uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (uint64_t j = 0; j < COMB_ENTRIES; j++) {
        uint64_t mask = 0u - (((j ^ idx) - 1u) >> 63);
        const uint64_t *e = comb_table[row][j];
#pragma GCC unroll 8
        for (int l = 0; l < 8; l++)
            acc[l] |= e[l] & mask;
    }
    memcpy(out->x, acc, sizeof(fe));
    fe y;
    memcpy(y, acc + 4, sizeof(fe));
    mod_cond_neg(out->y, y, 0u - neg, P); /* -y mod p */
}

/* out = k G for 1 <= k <= n-1 (k secret), projective. */
static void base_mult(point *out, const fe k)
{
    /* An even k becomes n - k, odd (n is odd); (n - k) G = -kG. */
    fe alt, kk;
    mod_sub(alt, N, k, N);
    uint64_t even = (k[0] & 1u) ^ 1u, emask = 0u - even;
    for (int l = 0; l < 4; l++)
        kk[l] = (alt[l] & emask) | (k[l] & ~emask);
    /* start from the public top term 2^255 G (Z = 1) */
    point acc;
    memcpy(acc.x, comb_top.x, sizeof(fe));
    memcpy(acc.y, comb_top.y, sizeof(fe));
    memcpy(acc.z, ONE_P, sizeof(fe));
    affine q;
    for (int i = 0; i < COMB_WINDOWS; i++) {
        /* u = d_i + 32, odd, 1..63: bits 5i..5i+5 of k with the lowest set */
        int bit = 5 * i;
        uint64_t w = kk[bit / 64] >> (bit % 64);
        if (bit % 64 > 58 && bit / 64 < 3)
            w |= kk[bit / 64 + 1] << (64 - bit % 64);
        uint64_t u = (w & 63u) | 1u;
        uint64_t neg = (u - 32u) >> 63;       /* u < 32: negative digit */
        uint64_t nm = 0u - neg;
        uint64_t mag = ((u - 32u) ^ nm) - nm; /* |d|, odd, 1..31 */
        comb_select(&q, i, mag >> 1, neg);
        point_add_mixed(&acc, &acc, &q);
    }
    /* -kG back to kG for an even k: negate Y (projective). */
    fe y;
    memcpy(y, acc.y, sizeof(fe));
    mod_cond_neg(acc.y, y, emask, P);
    *out = acc;
    qpki_wipe(&acc, sizeof(acc));
    qpki_wipe(&q, sizeof(q));
    qpki_wipe(alt, sizeof(alt));
    qpki_wipe(kk, sizeof(kk));
}

qpki_status p256_mod_inverse(const uint8_t a[P256_BYTES], bool mod_n, uint8_t out[P256_BYTES])
{
    QPKI_ENSURE(a && out, QPKI_ERR_INVALID_ARG);
    (void)pthread_once(&p256_once, p256_init);
    const inv_ctx *c = mod_n ? &INV_N : &INV_P;
    static const fe one = {1u, 0, 0, 0};
    fe x, r;
    fe_from_bytes(x, a);
    QPKI_ENSURE(less_than_mask(x, c->m), QPKI_ERR_INVALID_ARG);
    c->mul(x, x, mod_n ? R2N : R2P); /* x R */
    mod_inv(r, x, c);                /* x^-1 R */
    c->mul(r, r, one);               /* x^-1 */
    fe_to_bytes(out, r);
    return QPKI_OK;
}

/* 1 <= a <= n-1 as an all-ones mask. */
static uint64_t scalar_valid_mask(const fe a) { return ~is_zero_mask(a) & less_than_mask(a, N); }

qpki_status p256_base_mult(const uint8_t d[P256_BYTES], uint8_t x[P256_BYTES],
                           uint8_t y[P256_BYTES])
{
    (void)pthread_once(&p256_once, p256_init);
    fe k;
    fe_from_bytes(k, d);
    uint64_t ok = scalar_valid_mask(k);
    P256_DECLASSIFY(&ok, sizeof(ok));
    if (!ok) {
        qpki_wipe(k, sizeof(k));
        return QPKI_ERR_BAD_KEY;
    }
    point q;
    affine a;
    base_mult(&q, k);
    point_to_affine(&a, &q);
    fe_from_mont(a.x, a.x);
    fe_from_mont(a.y, a.y);
    fe_to_bytes(x, a.x);
    fe_to_bytes(y, a.y);
    qpki_wipe(k, sizeof(k));
    qpki_wipe(&q, sizeof(q));
    qpki_wipe(&a, sizeof(a));
    return QPKI_OK;
}

void p256_point_add_affine(const uint8_t x1[P256_BYTES], const uint8_t y1[P256_BYTES],
                           const uint8_t x2[P256_BYTES], const uint8_t y2[P256_BYTES],
                           uint8_t x3[P256_BYTES], uint8_t y3[P256_BYTES])
{
    (void)pthread_once(&p256_once, p256_init);
    point a, b, c;
    affine r;
    fe_from_bytes(a.x, x1);
    fe_to_mont(a.x, a.x);
    fe_from_bytes(a.y, y1);
    fe_to_mont(a.y, a.y);
    memcpy(a.z, ONE_P, sizeof(fe));
    fe_from_bytes(b.x, x2);
    fe_to_mont(b.x, b.x);
    fe_from_bytes(b.y, y2);
    fe_to_mont(b.y, b.y);
    memcpy(b.z, ONE_P, sizeof(fe));
    point_add(&c, &a, &b);
    point_to_affine(&r, &c);
    fe_from_mont(r.x, r.x);
    fe_from_mont(r.y, r.y);
    fe_to_bytes(x3, r.x);
    fe_to_bytes(y3, r.y);
}

/* ---- RFC 6979 nonce ------------------------------------------------------------------ */

/* HMAC_DRBG of RFC 6979 §3.2 with the hash of the message digest: SHA-256 (ours,
 * lib/crypto/sha256.c) for 32-octet digests, wolfCrypt's HMAC for the others. */
typedef struct {
    Hmac hmac;
    hmac_sha256_ctx h256; /* keyed with K; copied for each MAC */
    int type;     /* wolfCrypt hash type */
    size_t hlen;  /* its output length */
    uint8_t K[WC_MAX_DIGEST_SIZE], V[WC_MAX_DIGEST_SIZE];
} drbg;

static int hash_type_for(size_t digest_len)
{
    switch (digest_len) {
    case 20: return WC_SHA;
    case 28: return WC_SHA224;
    case 32: return WC_SHA256;
    case 48: return WC_SHA384;
    case 64: return WC_SHA512;
    default: return -1;
    }
}

/* out = HMAC_K(a || b || c || d || e) with the key drbg->K (set beforehand). */
static int drbg_mac(drbg *g, uint8_t *out, const uint8_t *a, size_t an, const uint8_t *b,
                    size_t bn, const uint8_t *c, size_t cn, const uint8_t *d, size_t dn,
                    const uint8_t *e, size_t en)
{
    const uint8_t *parts[5] = {a, b, c, d, e};
    size_t lens[5] = {an, bn, cn, dn, en};
    if (g->type == WC_SHA256) {
        hmac_sha256_ctx m = g->h256;
        for (int i = 0; i < 5; i++)
            hmac_sha256_update(&m, parts[i], lens[i]);
        hmac_sha256_final(&m, out); /* wipes m */
        return 0;
    }
    for (int i = 0; i < 5; i++)
        if (lens[i] != 0 && wc_HmacUpdate(&g->hmac, parts[i], (word32)lens[i]) != 0)
            return -1;
    return wc_HmacFinal(&g->hmac, out) == 0 ? 0 : -1;
}

static int drbg_rekey(drbg *g)
{
    if (g->type == WC_SHA256) {
        hmac_sha256_init(&g->h256, g->K, g->hlen);
        return 0;
    }
    return wc_HmacSetKey(&g->hmac, g->type, g->K, (word32)g->hlen) == 0 ? 0 : -1;
}

/* SEC 1 §4.1.3 step 5 / RFC 6979 §2.3.2 bits2int for qlen = 256: the leftmost 256
 * bits of the string as an integer (a shorter string is taken whole). */
static void bits2int(fe r, const uint8_t *h, size_t hlen)
{
    uint8_t buf[32] = {0};
    if (hlen >= 32)
        memcpy(buf, h, 32);
    else
        memcpy(buf + 32 - hlen, h, hlen);
    fe_from_bytes(r, buf);
    qpki_wipe(buf, sizeof(buf));
}

/* RFC 6979 §3.2 steps b-g:
 *   b. V = 0x01 0x01 ... (hlen octets)   c. K = 0x00 0x00 ...
 *   d. K = HMAC_K(V || 0x00 || int2octets(x) || bits2octets(h1) [|| k'])
 *   e. V = HMAC_K(V)
 *   f. K = HMAC_K(V || 0x01 || int2octets(x) || bits2octets(h1) [|| k'])
 *   g. V = HMAC_K(V)
 * (§3.6: the additional data k' is appended after bits2octets(h1) in d and f.) */
static int drbg_init(drbg *g, const uint8_t x[32], const uint8_t *h1, size_t hlen,
                     const uint8_t *extra, size_t extra_len)
{
    memset(g, 0, sizeof(*g));
    g->type = hash_type_for(hlen);
    g->hlen = hlen;
    if (g->type < 0 || wc_HmacInit(&g->hmac, NULL, INVALID_DEVID) != 0)
        return -1;
    /* §2.3.4 bits2octets(h1) = int2octets(bits2int(h1) mod q); bits2int(h1) < 2^256
     * < 2q, so one conditional subtraction reduces it. */
    fe z;
    uint8_t h1o[32];
    bits2int(z, h1, hlen);
    reduce_once(z, z, 0, N);
    fe_to_bytes(h1o, z);
    static const uint8_t zero = 0x00, one = 0x01;
    memset(g->V, 0x01, hlen);
    memset(g->K, 0x00, hlen);
    int rc = drbg_rekey(g);
    if (rc == 0)
        rc = drbg_mac(g, g->K, g->V, hlen, &zero, 1, x, 32, h1o, 32, extra, extra_len);
    if (rc == 0)
        rc = drbg_rekey(g);
    if (rc == 0)
        rc = drbg_mac(g, g->V, g->V, hlen, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    if (rc == 0)
        rc = drbg_mac(g, g->K, g->V, hlen, &one, 1, x, 32, h1o, 32, extra, extra_len);
    if (rc == 0)
        rc = drbg_rekey(g);
    if (rc == 0)
        rc = drbg_mac(g, g->V, g->V, hlen, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
    qpki_wipe(z, sizeof(z));
    qpki_wipe(h1o, sizeof(h1o));
    return rc;
}

/* §3.2 step h.1-h.2: T = V_1 || V_2 ... until 256 bits, k = bits2int(T). */
static int drbg_generate(drbg *g, fe k)
{
    uint8_t t[2 * WC_MAX_DIGEST_SIZE];
    size_t tlen = 0;
    while (tlen < 32) {
        if (drbg_mac(g, g->V, g->V, g->hlen, NULL, 0, NULL, 0, NULL, 0, NULL, 0) != 0)
            return -1;
        memcpy(t + tlen, g->V, g->hlen);
        tlen += g->hlen;
    }
    bits2int(k, t, tlen);
    qpki_wipe(t, sizeof(t));
    return 0;
}

/* §3.2 step h.3 when k is not suitable: K = HMAC_K(V || 0x00); V = HMAC_K(V). */
static int drbg_reseed(drbg *g)
{
    static const uint8_t zero = 0x00;
    if (drbg_mac(g, g->K, g->V, g->hlen, &zero, 1, NULL, 0, NULL, 0, NULL, 0) != 0 ||
        drbg_rekey(g) != 0)
        return -1;
    return drbg_mac(g, g->V, g->V, g->hlen, NULL, 0, NULL, 0, NULL, 0, NULL, 0);
}

static void drbg_wipe(drbg *g)
{
    wc_HmacFree(&g->hmac);
    qpki_wipe(g, sizeof(*g));
}

/* ---- ECDSA ------------------------------------------------------------------------------ */

qpki_status p256_rfc6979_first_k(const uint8_t d[P256_BYTES], const uint8_t *digest,
                                 size_t digest_len, const uint8_t *extra, size_t extra_len,
                                 uint8_t k[P256_BYTES])
{
    QPKI_ENSURE(d && digest && k && (extra || extra_len == 0), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(hash_type_for(digest_len) >= 0, QPKI_ERR_INVALID_ARG);
    drbg g;
    fe kk;
    qpki_status rc = QPKI_ERR_CRYPTO;
    if (drbg_init(&g, d, digest, digest_len, extra, extra_len) == 0 && drbg_generate(&g, kk) == 0) {
        fe_to_bytes(k, kk);
        rc = QPKI_OK;
    }
    drbg_wipe(&g);
    qpki_wipe(kk, sizeof(kk));
    return rc;
}

/* SEC 1 v2 §4.1.3 (and FIPS 186-5 §6.4.1):
 *   1. Select an ephemeral key pair (k, R) ... with k from RFC 6979 §3.2.
 *   2. Convert the field element xR to an integer xbar_R.
 *   3. Set r = xbar_R mod n.  If r = 0, ... go back to Step 1.
 *   5. [e = the leftmost 256 bits of the hash as an integer]
 *   6. Compute s = k^-1 (e + r d_U) mod n.  If s = 0, ... go back to Step 1.
 * "Go back to step 1" continues the HMAC-DRBG as in RFC 6979 §3.2 step h.3. */
qpki_status p256_sign_digest_rs(const uint8_t d[P256_BYTES], const uint8_t *digest,
                                size_t digest_len, const uint8_t *extra, size_t extra_len,
                                uint8_t r_out[P256_BYTES], uint8_t s_out[P256_BYTES])
{
    QPKI_ENSURE(d && digest && r_out && s_out && (extra || extra_len == 0), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(hash_type_for(digest_len) >= 0, QPKI_ERR_INVALID_ARG);
    (void)pthread_once(&p256_once, p256_init);
    fe dd, e, k, km, kinv, r, rm, rd, t, s;
    point R;
    affine ra;
    drbg g;
    qpki_status rc = QPKI_ERR_CRYPTO;
    fe_from_bytes(dd, d);
    uint64_t ok = scalar_valid_mask(dd);
    P256_DECLASSIFY(&ok, sizeof(ok));
    if (!ok) {
        qpki_wipe(dd, sizeof(dd));
        return QPKI_ERR_BAD_KEY;
    }
    /* Step 5: e = bits2int(H), used mod n (one conditional subtraction). */
    bits2int(e, digest, digest_len);
    reduce_once(e, e, 0, N);
    if (drbg_init(&g, d, digest, digest_len, extra, extra_len) != 0)
        goto out;
    for (;;) {
        if (drbg_generate(&g, k) != 0)
            goto out;
        /* RFC 6979 §3.2 h.3: "If that value of k is within the [1,q-1] range, and
         * is suitable for DSA or ECDSA (i.e., it results in an r value that is
         * not 0...), then the generation of k is finished." */
        uint64_t k_ok = scalar_valid_mask(k);
        P256_DECLASSIFY(&k_ok, sizeof(k_ok));
        if (k_ok) {
            base_mult(&R, k);
            point_to_affine(&ra, &R);
            fe_from_mont(r, ra.x);
            reduce_once(r, r, 0, N); /* x < p < 2n */
            P256_DECLASSIFY(r, sizeof(r));
            if (r[0] | r[1] | r[2] | r[3]) {
                /* s = k^-1 (e + r d) mod n, in the Montgomery domain mod n. */
                sc_mul(rm, r, R2N);       /* rR */
                sc_mul(rd, rm, dd);       /* r d */
                mod_add(t, e, rd, N);     /* e + r d */
                sc_mul(km, k, R2N);       /* kR */
                mod_inv(kinv, km, &INV_N); /* k^-1 R */
                sc_mul(s, kinv, t);       /* k^-1 (e + r d) */
                P256_DECLASSIFY(s, sizeof(s));
                if (s[0] | s[1] | s[2] | s[3])
                    break;
            }
        }
        if (drbg_reseed(&g) != 0)
            goto out;
    }
    fe_to_bytes(r_out, r);
    fe_to_bytes(s_out, s);
    rc = QPKI_OK;
out:
    drbg_wipe(&g);
    qpki_wipe(dd, sizeof(dd));
    qpki_wipe(e, sizeof(e));
    qpki_wipe(k, sizeof(k));
    qpki_wipe(km, sizeof(km));
    qpki_wipe(kinv, sizeof(kinv));
    qpki_wipe(rd, sizeof(rd));
    qpki_wipe(t, sizeof(t));
    qpki_wipe(&R, sizeof(R));
    qpki_wipe(&ra, sizeof(ra));
    return rc;
}

qpki_status p256_sign_digest(const uint8_t d[P256_BYTES], const uint8_t *digest,
                             size_t digest_len, const uint8_t *extra, size_t extra_len,
                             uint8_t *sig, size_t *sig_len)
{
    QPKI_ENSURE(sig && sig_len, QPKI_ERR_INVALID_ARG);
    uint8_t r[P256_BYTES], s[P256_BYTES];
    QPKI_GUARD(p256_sign_digest_rs(d, digest, digest_len, extra, extra_len, r, s));
    /* RFC 5480 §2.2: ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER } (DER:
     * minimal two's complement INTEGERs). */
    der_buf b;
    der_buf_init(&b, P256_SIG_MAX_DER);
    size_t seq = der_begin(&b, DER_SEQUENCE);
    der_put_uint_bytes(&b, r, sizeof(r));
    der_put_uint_bytes(&b, s, sizeof(s));
    der_end(&b, seq);
    uint8_t *der = NULL;
    size_t der_len = 0;
    QPKI_GUARD(der_buf_finish(&b, &der, &der_len));
    qpki_status rc = QPKI_OK;
    if (der_len > *sig_len) {
        rc = QPKI_ERR_BUFFER_TOO_SMALL;
    } else {
        memcpy(sig, der, der_len);
        *sig_len = der_len;
    }
    qpki_free(der);
    return rc;
}
