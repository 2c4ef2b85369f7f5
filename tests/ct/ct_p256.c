/* SPDX-License-Identifier: Apache-2.0 */
/* tests/ct/ct_p256.c - constant-time check of our ECDSA P-256 signing with valgrind
 * memcheck (run by tests/ct/run.sh).
 *
 * Method (as tests/ct/ct_mldsa.c): the secret inputs - the private scalar d and the
 * hedging data k' - are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED, and so
 * is the scalar given to the fixed-base multiplication alone.  Memcheck tracks
 * undefinedness through everything derived from them: the HMAC-DRBG state (K, V),
 * the nonce k, its recoded digits, the table reads, the point coordinates, k^-1
 * and r*d.  It reports an error whenever such a value decides a conditional branch
 * or is used as a memory address (table index).  The library is compiled with
 * QPKI_P256_CT_TEST, which turns P256_DECLASSIFY into VALGRIND_MAKE_MEM_DEFINED
 * for exactly the values documented as public in lib/crypto/p256/p256.h: the
 * "d in [1, n-1]" and "k in [1, n-1]" bits and the outputs r and s.  So "0 errors"
 * means: no branch and no address depends on d, k', k, the DRBG state or any
 * intermediate other than through those values.  Run under
 * `valgrind --error-exitcode=1`.
 *
 * The RFC 6979 HMAC runs on our SHA-256 (lib/crypto/sha256.c).  Valgrind hides the
 * SHA extensions from CPUID, so what is checked here is the portable compression
 * function; the SHA-extension one has no branch or table index at all besides the
 * round number (SHA256RNDS2/MSG1/MSG2 are fixed-latency instructions). */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/p256/p256.h"
#include "crypto/sha256.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void)
{
    static const size_t digest_lens[5] = {20, 28, 32, 48, 64};
    uint8_t d[32], extra[32], digest[64], sig[P256_SIG_MAX_DER], x[32], y[32];
    unsigned signs = 0, mults = 0;
    for (int key = 0; key < 4; key++) {
        for (int i = 0; i < 32; i++)
            d[i] = (uint8_t)(i * 29 + key * 71 + 3);
        if (key == 1) { /* d = 1 */
            memset(d, 0, 32);
            d[31] = 1;
        }
        d[0] &= 0x7f;
        /* the fixed-base multiplication alone, with a secret scalar */
        SECRET(d, sizeof(d));
        if (p256_base_mult(d, x, y) != QPKI_OK)
            return 2;
        mults++;
        PUBLIC(x, sizeof(x));
        PUBLIC(y, sizeof(y));
        for (int m = 0; m < 5; m++) {
            for (int i = 0; i < 64; i++)
                digest[i] = (uint8_t)(i + m * 17 + key);
            for (int i = 0; i < 32; i++)
                extra[i] = (uint8_t)(i * 5 + m);
            SECRET(d, sizeof(d));
            SECRET(extra, sizeof(extra));
            size_t len = sizeof(sig);
            /* hedged (k' secret) and deterministic (no k') */
            if (p256_sign_digest(d, digest, digest_lens[m], m & 1 ? NULL : extra,
                                 m & 1 ? 0 : sizeof(extra), sig, &len) != QPKI_OK)
                return 3;
            signs++;
            PUBLIC(sig, sizeof(sig));
        }
    }
    /* correctness of this build (also the portable C one): RFC 6979 A.2.5,
     * SHA-256, message "sample", public key and key */
    static const uint8_t rfc_x[32] = {
        0xC9, 0xAF, 0xA9, 0xD8, 0x45, 0xBA, 0x75, 0x16, 0x6B, 0x5C, 0x21, 0x57, 0x67, 0xB1, 0xD6, 0x93,
        0x4E, 0x50, 0xC3, 0xDB, 0x36, 0xE8, 0x9B, 0x12, 0x7B, 0x8A, 0x62, 0x2B, 0x12, 0x0F, 0x67, 0x21};
    static const uint8_t sha256_sample[32] = {
        0xAF, 0x2B, 0xDB, 0xE1, 0xAA, 0x9B, 0x6E, 0xC1, 0xE2, 0xAD, 0xE1, 0xD6, 0x94, 0xF4, 0x1F, 0xC7,
        0x1A, 0x83, 0x1D, 0x02, 0x68, 0xE9, 0x89, 0x15, 0x62, 0x11, 0x3D, 0x8A, 0x62, 0xAD, 0xD1, 0xBF};
    static const uint8_t rfc_r[32] = {
        0xEF, 0xD4, 0x8B, 0x2A, 0xAC, 0xB6, 0xA8, 0xFD, 0x11, 0x40, 0xDD, 0x9C, 0xD4, 0x5E, 0x81, 0xD6,
        0x9D, 0x2C, 0x87, 0x7B, 0x56, 0xAA, 0xF9, 0x91, 0xC3, 0x4D, 0x0E, 0xA8, 0x4E, 0xAF, 0x37, 0x16};
    static const uint8_t rfc_s[32] = {
        0xF7, 0xCB, 0x1C, 0x94, 0x2D, 0x65, 0x7C, 0x41, 0xD4, 0x36, 0xC7, 0xA1, 0xB6, 0xE2, 0x9F, 0x65,
        0xF3, 0xE9, 0x00, 0xDB, 0xB9, 0xAF, 0xF4, 0x06, 0x4D, 0xC4, 0xAB, 0x2F, 0x84, 0x3A, 0xCD, 0xA8};
    uint8_t r[32], s[32];
    if (p256_sign_digest_rs(rfc_x, sha256_sample, 32, NULL, 0, r, s) != QPKI_OK ||
        memcmp(r, rfc_r, 32) != 0 || memcmp(s, rfc_s, 32) != 0)
        return 4;
    printf("ct_p256: %u signatures and %u fixed-base multiplications with d, k' poisoned "
           "(SHA-256: %s)\n",
           signs, mults, sha256_shani_active() ? "SHA extensions" : "portable C");
    return 0;
}
