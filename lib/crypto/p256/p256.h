/* SPDX-License-Identifier: Apache-2.0 */
/* lib/crypto/p256/p256.h - our constant-time ECDSA P-256 signing (private).
 *
 * Only signing lives here (verification stays on wolfSSL).  Built when
 * -Dp256=builtin (QPKI_P256_BUILTIN); crypto_sign routes QPKI_KEY_EC_P256 to
 * p256_sign_digest.  Scalars and coordinates are 32-octet big-endian strings.
 *
 * Thread safety: every function is reentrant; the fixed-base table is built once
 * (pthread_once) at the first call that needs it.
 *
 * Constant time: no branch and no memory address depends on the private key, on
 * the nonce k or on the HMAC-DRBG state.  The only values that decide a branch
 * are public or pass through P256_DECLASSIFY: the "d in [1, n-1]" bit (a key
 * outside is refused), the "k in [1, n-1]" bit of RFC 6979 §3.2 step h.3, r and s
 * (the output).  tests/ct/ct_p256.c checks this with valgrind memcheck. */
#ifndef QPKI_CRYPTO_P256_H
#define QPKI_CRYPTO_P256_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../internal.h"

#define P256_BYTES 32u
/* SEQUENCE (2-octet header) of two INTEGERs of at most 33 content octets. */
#define P256_SIG_MAX_DER (2u + 2u * (2u + 33u))

#ifdef QPKI_P256_CT_TEST
#include <valgrind/memcheck.h>
#define P256_DECLASSIFY(p, n) ((void)VALGRIND_MAKE_MEM_DEFINED((p), (n)))
#else
#define P256_DECLASSIFY(p, n) ((void)(p), (void)(n))
#endif

/* ECDSA signature generation, SEC 1 v2 §4.1.3, over a message digest of 20, 28,
 * 32, 48 or 64 octets (SHA-1, SHA-224, SHA-256, SHA-384, SHA-512; the length
 * selects the HMAC hash of RFC 6979, which is the message's hash).  k is RFC 6979
 * §3.2 with `extra` (may be NULL when extra_len is 0) appended as the additional
 * data k' of §3.6; with no extra data the signature is RFC 6979's deterministic one.
 * d is the private scalar, 1 <= d <= n-1 (else QPKI_ERR_BAD_KEY).  Writes the DER
 * ECDSA-Sig-Value (RFC 5480 §2.2) to sig; on entry *sig_len is its capacity. */
QPKI_MUST_USE qpki_status p256_sign_digest(const uint8_t d[P256_BYTES], const uint8_t *digest,
                                           size_t digest_len, const uint8_t *extra,
                                           size_t extra_len, uint8_t *sig, size_t *sig_len);

/* The same signature as the raw pair (r, s), 32 octets each. */
QPKI_MUST_USE qpki_status p256_sign_digest_rs(const uint8_t d[P256_BYTES], const uint8_t *digest,
                                              size_t digest_len, const uint8_t *extra,
                                              size_t extra_len, uint8_t r[P256_BYTES],
                                              uint8_t s[P256_BYTES]);

/* The first candidate k of RFC 6979 §3.2 step h (for tests: it must equal the
 * RFC's k whenever that candidate is in range, as it is in Appendix A.2.5). */
QPKI_MUST_USE qpki_status p256_rfc6979_first_k(const uint8_t d[P256_BYTES], const uint8_t *digest,
                                               size_t digest_len, const uint8_t *extra,
                                               size_t extra_len, uint8_t k[P256_BYTES]);

/* Q = d*G with the fixed-base comb (affine x, y).  QPKI_ERR_BAD_KEY unless
 * 1 <= d <= n-1. */
QPKI_MUST_USE qpki_status p256_base_mult(const uint8_t d[P256_BYTES], uint8_t x[P256_BYTES],
                                         uint8_t y[P256_BYTES]);

/* P + Q and 2P by the complete formulas on affine inputs, for tests of the point
 * arithmetic alone (no table).  Coordinates must be < p. */
void p256_point_add_affine(const uint8_t x1[P256_BYTES], const uint8_t y1[P256_BYTES],
                           const uint8_t x2[P256_BYTES], const uint8_t y2[P256_BYTES],
                           uint8_t x3[P256_BYTES], uint8_t y3[P256_BYTES]);

/* out = a^-1 mod p (field) or mod n (mod_n true) by the constant-time divsteps
 * inversion the signing uses, for tests; a must be < the modulus (0 gives 0). */
QPKI_MUST_USE qpki_status p256_mod_inverse(const uint8_t a[P256_BYTES], bool mod_n,
                                           uint8_t out[P256_BYTES]);

/* Size in octets of the precomputed table of multiples of G. */
size_t p256_table_bytes(void);
/* Which field arithmetic this build uses: "x86-64" (inline assembly and carry
 * intrinsics) or "portable" (C with unsigned __int128). */
const char *p256_arithmetic(void);

#endif
