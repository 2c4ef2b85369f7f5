/* SPDX-License-Identifier: Apache-2.0 */
/* lib/internal.h - private helpers shared across lib/ (never installed). */
#ifndef QPKI_INTERNAL_H
#define QPKI_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/types.h>
#include "safety.h"

/* Allocation wrappers: every library allocation goes through these, so that the
 * allocation-failure tests can make the n-th allocation fail. */
void *qpki_malloc(size_t n);
void *qpki_calloc(size_t count, size_t size);
void *qpki_realloc(void *p, size_t n);
char *qpki_strdup(const char *s);
void *qpki_memdup(const void *p, size_t n);
/* Free n bytes that held a secret (wiped first). NULL is fine. */
void qpki_free_secret(void *p, size_t n);

/* Test hooks (not exported from the shared library).
 * qpki_test_fail_alloc_after: after `n` more successful allocations, fail every
 * allocation (n < 0 disables); returns the budget that was left, so a caller can
 * count the allocations of an operation (set a large budget, run, subtract).
 * qpki_test_fail_alloc_once: only the allocation after `n` successful ones fails.
 * qpki_test_alloc_refused: allocations refused since the budget was last set. */
long qpki_test_fail_alloc_after(long n);
void qpki_test_fail_alloc_once(long n);
long qpki_test_alloc_refused(void);

/* One-time wolfCrypt initialisation (idempotent, thread-safe). */
qpki_status qpki_crypto_init(void);

/* Bounded formatted message into a fixed buffer (truncates, always terminates). */
void qpki_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Error detail (STYLE §5): a caller's buffer for one line that says what was
 * wrong and where ("ML-DSA-65 expandedKey: an s1 coefficient lies outside
 * [-4, 4]").  The first message written wins, so the innermost, most precise
 * failure is what the user reads; callers add context in front of it with
 * detail_prefix.  Every function taking a qpki_detail * accepts NULL. */
typedef struct qpki_detail {
    char *msg;   /* NUL-terminated, "" until something fails */
    size_t cap;
} qpki_detail;
/* d over buf[cap] (buf may be NULL: nothing is kept). */
void detail_init(qpki_detail *d, char *buf, size_t cap);
/* Write the message unless one is there already; returns st. */
qpki_status detail_fail(qpki_detail *d, qpki_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Put "context: " in front of the message (when there is one). */
void detail_prefix(qpki_detail *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same from a va_list, followed by sep ("context" + ": "). */
void detail_vprefix(qpki_detail *d, const char *sep, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* Short name of an OID (contents octets) for messages: "nonce",
 * "id-pkix-ocsp-basic", "basicConstraints", ...; NULL when it has none
 * (lib/names.c). */
const char *qpki_oid_short_name(const uint8_t *oid, size_t len);

/* Hex helpers. */
/* Lower-case hex of in[0..n) into out (2n+1 bytes). */
void qpki_hex_encode(const uint8_t *in, size_t n, char *out);
/* Parse hex (either case, optional "0x", optional ':' separators) into out.
 * Returns QPKI_ERR_PARSE on a bad digit, QPKI_ERR_BUFFER_TOO_SMALL if out is short.
 * An odd number of digits is accepted (leading nibble). */
qpki_status qpki_hex_decode(const char *hex, uint8_t *out, size_t out_cap, size_t *out_len);
/* Value of one hex digit (either case); -1 for any other character. */
int qpki_hex_digit(char c);
/* A serial number's magnitude as OpenSSL writes it (index.txt, serial file,
 * certs/<SERIAL>.pem): upper-case hex, two digits per octet, "00" for zero (n ==
 * 0).  out needs 2 * n + 1 bytes, at least 3. */
void qpki_serial_hex(const uint8_t *magnitude, size_t n, char *out);

/* Calendar conversion (proleptic Gregorian, UTC). */
qpki_status qpki_time_from_fields(int year, int mon, int day, int hour, int min, int sec,
                                  qpki_time *out);
void qpki_time_to_fields(qpki_time t, int *year, int *mon, int *day, int *hour, int *min,
                         int *sec);

/* ASN.1 time text (UTCTime and GeneralizedTime in the DER form of X.690
 * §11.7-11.8: 'Z', with seconds, no fraction), which is also index.txt's time
 * format.  Read the year (year_digits 2: UTCTime YY, RFC 5280 §4.1.2.5.1 window
 * 1950-2049; 4: YYYY) and then MMDDHHMMSS at s; the caller checks the length
 * and the 'Z'.  QPKI_ERR_BAD_TIME for a non-digit or an impossible date. */
qpki_status qpki_time_from_digits(const char *s, size_t year_digits, qpki_time *out);
/* Longest time text with its NUL: "YYYYMMDDHHMMSSZ". */
#define QPKI_TIME_TEXT_MAX 16
typedef enum qpki_time_form {
    QPKI_TIME_UTC,         /* YYMMDDHHMMSSZ, years 1950-2049 */
    QPKI_TIME_GENERALIZED, /* YYYYMMDDHHMMSSZ, years 0000-9999 */
    QPKI_TIME_X509         /* RFC 5280 §4.1.2.5: UTC for 1950-2049, else generalized */
} qpki_time_form;
/* Write t in that form into out (NUL-terminated); returns its length (13 or
 * 15), 0 when the year does not fit the form. */
size_t qpki_time_text(qpki_time t, qpki_time_form form, char out[QPKI_TIME_TEXT_MAX]);

/* Algorithm tables without wolfSSL (lib/names.c; the PKCS#11 plugin compiles
 * them in too): the signature algorithm a key signs with unless told otherwise
 * (ECDSA with the curve's hash, RSA PKCS#1 v1.5 SHA-256, the key's own for
 * EdDSA and ML-DSA), and the key algorithm of a named-curve OID's value bytes
 * (P-256, P-384, P-521; QPKI_KEY_UNKNOWN otherwise). */
qpki_sig_alg qpki_default_sig_alg(qpki_key_alg key);
qpki_key_alg qpki_ec_curve_alg(const uint8_t *oid, size_t oid_len);

/* Per-request arena: a bump allocator over a first block the caller provides
 * (usually on its stack) and then heap blocks, all released at once by
 * arena_release, so that answering a request costs a few allocations instead of
 * one per object.  Nothing is freed singly; memory is not wiped (no secrets go
 * in an arena).  Allocations are aligned for any type; the most recent one grows
 * in place while its block has room (der_buf growth).  NULL = out of memory.
 * Not thread-safe: one arena per request. */
typedef struct arena {
    uint8_t *base;               /* current block */
    size_t used, cap;
    void *last;                  /* most recent allocation */
    struct arena_block *blocks;  /* heap blocks, newest first */
} arena;

void arena_init(arena *a, void *first, size_t cap);
void *arena_alloc(arena *a, size_t n);
void *arena_calloc(arena *a, size_t count, size_t size);
/* p (NULL, or the arena's allocation of old_n bytes) grown to n bytes. */
void *arena_realloc(arena *a, void *p, size_t old_n, size_t n);
void arena_release(arena *a);

#endif
