/* SPDX-License-Identifier: Apache-2.0 */
/* lib/der/pem.h - base64 (RFC 4648 §4) and PEM (RFC 7468) text framing. */
#ifndef QPKI_PEM_H
#define QPKI_PEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/status.h>
#include "../safety.h"

enum {
    B64_SKIP_SPACE = 1u << 0,   /* ignore CR, LF, TAB and spaces (PEM bodies) */
    B64_OPTIONAL_PAD = 1u << 1, /* accept missing trailing '=' (OCSP GET URLs) */
};

/* Length of the encoding of n bytes, without the terminating NUL. */
size_t b64_encoded_len(size_t n);
/* Encode into out (b64_encoded_len(n) + 1 bytes, NUL-terminated). */
void b64_encode(const uint8_t *in, size_t n, char *out);
/* Decode; rejects characters outside the alphabet, misplaced padding and
 * non-zero trailing bits.  out needs (n / 4 + 1) * 3 bytes at most. */
QPKI_MUST_USE qpki_status b64_decode(const char *in, size_t n, unsigned flags, uint8_t *out,
                                     size_t cap, size_t *out_len);

/* True when the data contains a PEM encapsulation boundary. */
bool pem_detect(const uint8_t *data, size_t n);

/* Find the next PEM block at or after *offset.  On success *der (free with
 * qpki_free, or qpki_free_secret for keys) holds the decoded body, label the text
 * between "BEGIN " and "-----", and *offset points after the END line.
 * QPKI_ERR_NOT_FOUND when no further block exists. Headers (RFC 1421
 * "Proc-Type:") are reported as QPKI_ERR_UNSUPPORTED. */
QPKI_MUST_USE qpki_status pem_next(const uint8_t *text, size_t n, size_t *offset, char *label,
                                   size_t label_cap, uint8_t **der, size_t *der_len);

/* Encode der as a PEM block with 64-column lines and a final newline; *out is
 * NUL-terminated (free with qpki_free). */
QPKI_MUST_USE qpki_status pem_encode(const char *label, const uint8_t *der, size_t n,
                                     char **out, size_t *out_len);

#endif
