/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/extensions.c - Extensions lists and the RFC 9654 nonce. */
#include <string.h>

#include "../der/oid.h"
#include "ocsp_internal.h"

qpki_status ocsp_read_extensions(der_cursor *c, struct arena *a, ocsp_ext **exts, size_t *count)
{
    der_cursor list;
    *exts = NULL;
    *count = 0;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &list));
    QPKI_GUARD(der_expect_end(c));
    return x509_read_extensions(list, a, exts, count);
}

qpki_status ocsp_extension_get(const ocsp_ext *exts, size_t count, size_t i,
                               const uint8_t **oid, size_t *oid_len, bool *critical,
                               const uint8_t **value, size_t *value_len)
{
    QPKI_ENSURE(oid && oid_len && critical && value && value_len, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(i < count, QPKI_ERR_NOT_FOUND);
    *oid = exts[i].oid.p;
    *oid_len = exts[i].oid.n;
    *critical = exts[i].critical;
    *value = exts[i].value.p;
    *value_len = exts[i].value.n;
    return QPKI_OK;
}

qpki_status ocsp_nonce_decode(der_view extn_value, der_view *nonce)
{
    /* RFC 9654 §2.1: "Nonce ::= OCTET STRING(SIZE(1..128))" and the extnValue
     * holds the DER encoding of Nonce.  Some old clients put the raw nonce octets
     * straight into extnValue; when extnValue is not exactly one OCTET STRING we
     * take it whole, so their nonce is still echoed byte for byte. */
    der_cursor c = der_cursor_init(extn_value.p, extn_value.n);
    der_view inner;
    if (der_read_octet_string(&c, &inner) == QPKI_OK && der_at_end(&c))
        *nonce = inner;
    else
        *nonce = extn_value;
    /* RFC 9654 §2.1: "An OCSP responder that supports the Nonce extension MUST
     * reject any OCSP request that has a nonce with a length of either 0 octets or
     * greater than 128 octets, with the malformedRequest OCSPResponseStatus". */
    QPKI_ENSURE(nonce->n >= QPKI_NONCE_MIN && nonce->n <= QPKI_NONCE_MAX,
                QPKI_ERR_NONCE_LENGTH);
    return QPKI_OK;
}

void ocsp_write_nonce_extension(der_buf *b, const uint8_t *nonce, size_t len)
{
    /* RFC 9654 §2.1: the extnValue carries the DER encoding of
     * Nonce ::= OCTET STRING(SIZE(1..128)). */
    size_t ext = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, OID_OCSP_NONCE);
    size_t value = der_begin(b, DER_OCTET_STRING);
    der_put_octet_string(b, nonce, len);
    der_end(b, value);
    der_end(b, ext);
}
