/* SPDX-License-Identifier: Apache-2.0 */
/* tests/ct/ct_mldsa.c - constant-time check of the builtin ML-DSA with valgrind
 * memcheck (run by tests/ct/run.sh).
 *
 * Method: the secret inputs (keygen seed, the whole private key, the signing rnd)
 * are marked undefined with VALGRIND_MAKE_MEM_UNDEFINED; the signing context
 * (mldsa_sign_ctx_new) is prepared from the poisoned private key and signs too.  Memcheck tracks
 * undefinedness through every computation derived from them and reports an error
 * whenever such a value decides a conditional branch or a conditional move, or is
 * used as a memory address (table index).  The library is compiled with
 * QPKI_MLDSA_CT_TEST, which turns MLDSA_DECLASSIFY into
 * VALGRIND_MAKE_MEM_DEFINED for exactly the values documented as public in
 * lib/crypto/mldsa/mldsa.c (rho, tr, rejection-sampling accept bits, the signing
 * loop's accept/reject outcome, and the outputs pk and signature).  So "0 errors"
 * means: no branch and no address depends on secret data other than through those
 * values.  Run under `valgrind --error-exitcode=1`. */
#include <stdio.h>
#include <string.h>
#include <valgrind/memcheck.h>

#include "crypto/mldsa/mldsa.h"
#include "crypto/mldsa/mldsa_internal.h"

#define SECRET(p, n) VALGRIND_MAKE_MEM_UNDEFINED((p), (n))
#define PUBLIC(p, n) VALGRIND_MAKE_MEM_DEFINED((p), (n))

int main(void)
{
    static const mldsa_level levels[3] = {MLDSA_44, MLDSA_65, MLDSA_87};
    static uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    static uint8_t pk2[MLDSA_MAX_PK_BYTES];
    uint8_t seed[32], rnd[32], msg[100], ctx[8] = "ct-test";
    unsigned signs = 0;
    /* both code paths: AVX2 (when the CPU has it) and portable */
    for (int path = 1; path >= 0; path--) {
    mldsa_set_avx2(path);
    printf("ct_mldsa: %s path\n", mldsa_avx2_active() ? "avx2" : "portable");
    for (int li = 0; li < 3; li++) {
        mldsa_level lv = levels[li];
        for (int k = 0; k < 2; k++) {
            for (int i = 0; i < 32; i++)
                seed[i] = (uint8_t)(i * 7 + k + li * 13);
            SECRET(seed, sizeof(seed));
            if (mldsa_keygen(lv, seed, pk, sk) != 0)
                return 2;
            PUBLIC(pk, sizeof(pk)); /* already declassified by the library; harmless */
            SECRET(sk, mldsa_sk_bytes(lv));
            if (mldsa_pk_from_sk(lv, sk, pk2) != 0)
                return 2;
            /* the signing context is prepared from the poisoned sk: its s1_hat,
             * s2_hat, t0_hat and K stay undefined (only rho, A_hat and tr are public) */
            SECRET(sk, mldsa_sk_bytes(lv));
            mldsa_sign_ctx *sc = NULL;
            if (mldsa_sign_ctx_new(lv, sk, &sc) != 0)
                return 2;
            for (int m = 0; m < 4; m++) {
                memset(msg, m + 16 * k, sizeof(msg));
                for (int i = 0; i < 32; i++)
                    rnd[i] = (uint8_t)(m * 31 + i);
                SECRET(rnd, sizeof(rnd));
                /* hedged and deterministic, external and internal interface */
                if (mldsa_sign(lv, sk, msg, sizeof(msg), ctx, sizeof(ctx), m & 1 ? NULL : rnd, sig) != 0)
                    return 2;
                signs++;
                PUBLIC(sig, sizeof(sig));
                if (mldsa_verify(lv, pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, mldsa_sig_bytes(lv)) != 0)
                    return 3;
                if (mldsa_sign_internal(lv, sk, msg, sizeof(msg), rnd, sig) != 0)
                    return 2;
                signs++;
                PUBLIC(sig, sizeof(sig));
                if (mldsa_verify_internal(lv, pk, msg, sizeof(msg), sig, mldsa_sig_bytes(lv)) != 0)
                    return 3;
                SECRET(rnd, sizeof(rnd));
                if (mldsa_sign_with_ctx(sc, msg, sizeof(msg), ctx, sizeof(ctx),
                                        m & 1 ? rnd : NULL, sig) != 0)
                    return 2;
                signs++;
                PUBLIC(sig, sizeof(sig));
                if (mldsa_verify(lv, pk, msg, sizeof(msg), ctx, sizeof(ctx), sig, mldsa_sig_bytes(lv)) != 0)
                    return 3;
            }
            mldsa_sign_ctx_free(&sc);
            PUBLIC(pk2, sizeof(pk2));
            if (memcmp(pk, pk2, mldsa_pk_bytes(lv)) != 0)
                return 4;
        }
    }
    }
    printf("ct_mldsa: %u signatures (%u through a signing context) and 12 key generations per run "
           "with secret seed, sk and rnd poisoned\n", signs, signs / 3);
    return 0;
}
