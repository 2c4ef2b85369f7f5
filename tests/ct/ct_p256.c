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
 * `valgrind --error-exitcode=1`. */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/p256/p256.h"

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
    printf("ct_p256: %u signatures and %u fixed-base multiplications with d, k' poisoned\n",
           signs, mults);
    return 0;
}
