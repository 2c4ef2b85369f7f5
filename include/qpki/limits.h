/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/limits.h - named limits applied where untrusted data enters. */
#ifndef QPKI_LIMITS_H
#define QPKI_LIMITS_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/export.h>

/* Maximum nesting of constructed DER elements the reader follows. */
#define QPKI_DER_MAX_DEPTH 32
/* RFC 9654 §2.1: Nonce ::= OCTET STRING(SIZE(1..128)). */
#define QPKI_NONCE_MIN 1
#define QPKI_NONCE_MAX 128
/* Default cap on CertIDs in one request (DESIGN §5). */
#define QPKI_DEFAULT_MAX_CERTIDS 16
/* Default cap on an encoded OCSP request (bytes). */
#define QPKI_DEFAULT_MAX_REQUEST_SIZE 65536
/* RFC 5280 §4.1.2.2: serial numbers are at most 20 octets; we accept up to this
 * many octets of magnitude from non-conforming CAs. */
#define QPKI_SERIAL_MAX 32
/* Largest certificate we parse (bytes); ML-DSA-87 + Catalyst certificates fit. */
#define QPKI_CERT_MAX_SIZE (256 * 1024)
/* Response size above which tools warn (common TLS stapling buffers). */
#define QPKI_RESPONSE_WARN_SIZE 16384

#ifdef __cplusplus
extern "C" {
#endif

/* Limits for request parsing.  Initialise with qpki_limits_init(), then change
 * fields; struct_size lets later versions append fields. */
typedef struct qpki_limits {
    uint32_t struct_size;      /* sizeof(qpki_limits) as the caller was built */
    uint32_t max_certids;      /* default QPKI_DEFAULT_MAX_CERTIDS */
    size_t max_request_size;   /* default QPKI_DEFAULT_MAX_REQUEST_SIZE */
} qpki_limits;

QPKI_API void qpki_limits_init(qpki_limits *limits);

#ifdef __cplusplus
}
#endif
#endif
