/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/certid.h - RFC 6960 §4.1.1 CertID.
 *
 *   CertID ::= SEQUENCE {
 *       hashAlgorithm       AlgorithmIdentifier,
 *       issuerNameHash      OCTET STRING, -- Hash of issuer's DN
 *       issuerKeyHash       OCTET STRING, -- Hash of issuer's public key
 *       serialNumber        CertificateSerialNumber }
 *
 * Hash algorithms SHA-1, SHA-256, SHA-384 and SHA-512 are supported, with NULL or
 * absent AlgorithmIdentifier parameters.  Thread safety: immutable once built. */
#ifndef QPKI_CERTID_H
#define QPKI_CERTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_certid qpki_certid;

/* CertID for the certificate with the given serial (unsigned big-endian
 * magnitude; leading zero octets allowed) issued by issuer. */
QPKI_API qpki_status qpki_certid_new(qpki_hash_alg alg, const qpki_cert *issuer,
                                     const uint8_t *serial, size_t serial_len,
                                     qpki_certid **out);
/* CertID for cert, issued by issuer (serial copied from cert exactly). */
QPKI_API qpki_status qpki_certid_for_cert(qpki_hash_alg alg, const qpki_cert *issuer,
                                          const qpki_cert *cert, qpki_certid **out);
/* Parse one DER CertID (whole TLV). */
QPKI_API qpki_status qpki_certid_parse(const uint8_t *der, size_t len, qpki_certid **out);
QPKI_API qpki_status qpki_certid_dup(const qpki_certid *id, qpki_certid **out);
QPKI_API void qpki_certid_free(qpki_certid **id);

QPKI_API qpki_hash_alg qpki_certid_hash_alg(const qpki_certid *id);
QPKI_API void qpki_certid_name_hash(const qpki_certid *id, const uint8_t **hash, size_t *len);
QPKI_API void qpki_certid_key_hash(const qpki_certid *id, const uint8_t **hash, size_t *len);
/* serialNumber INTEGER contents exactly as encoded. */
QPKI_API void qpki_certid_serial(const qpki_certid *id, const uint8_t **serial, size_t *len);
/* Serial as an unsigned magnitude without leading zero octets (the lookup key). */
QPKI_API void qpki_certid_serial_magnitude(const qpki_certid *id, const uint8_t **serial,
                                           size_t *len);
/* Serial as upper-case hex of the magnitude ("0A1B2C3D"; "00" for zero) into buf. */
QPKI_API qpki_status qpki_certid_serial_hex(const qpki_certid *id, char *buf, size_t size);
/* The DER encoding (exactly the received bytes for parsed CertIDs). */
QPKI_API void qpki_certid_der(const qpki_certid *id, const uint8_t **der, size_t *len);

/* True when id names a certificate of issuer: issuerNameHash and issuerKeyHash,
 * recomputed with id's hash algorithm, match. */
QPKI_API bool qpki_certid_matches_issuer(const qpki_certid *id, const qpki_cert *issuer);
/* True when both CertIDs use the same hash algorithm and have equal hashes and
 * serial numbers (parameter encoding NULL/absent is not significant). */
QPKI_API bool qpki_certid_equal(const qpki_certid *a, const qpki_certid *b);

#ifdef __cplusplus
}
#endif
#endif
