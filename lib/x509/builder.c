/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/builder.c - X.509 v3 certificate builder (RFC 5280 §4.1, §4.2). */
#include <string.h>

#include "../crypto/crypto.h"
#include "../der/oid.h"
#include "../internal.h"
#include "x509.h"

qpki_status qpki_cert_builder_new(qpki_cert_builder **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    qpki_cert_builder *b = qpki_calloc(1, sizeof(*b));
    QPKI_ENSURE(b, QPKI_ERR_NOMEM);
    der_buf_init(&b->eku, QPKI_CERT_MAX_SIZE);
    der_buf_init(&b->aia, QPKI_CERT_MAX_SIZE);
    *out = b;
    return QPKI_OK;
}

void qpki_cert_builder_free(qpki_cert_builder **builder)
{
    if (!builder || !*builder)
        return;
    qpki_cert_builder *b = *builder;
    qpki_free(b->issuer);
    qpki_free(b->subject);
    qpki_free(b->spki);
    qpki_free(b->issuer_spki);
    qpki_free(b->issuer_alt_spki);
    x509_ext_list_free(&b->exts);
    der_buf_free(&b->eku);
    der_buf_free(&b->aia);
    qpki_free(b);
    *builder = NULL;
}

/* ---- serial ------------------------------------------------------------------------ */

qpki_status qpki_cert_builder_set_serial(qpki_cert_builder *b, const uint8_t *serial,
                                         size_t len)
{
    QPKI_ENSURE(b && (serial || len == 0), QPKI_ERR_INVALID_ARG);
    while (len > 0 && serial[0] == 0) {
        serial++;
        len--;
    }
    /* RFC 5280 §4.1.2.2: "The serial number MUST be a positive integer" and
     * "Conforming CAs MUST NOT use serialNumber values longer than 20 octets." */
    QPKI_ENSURE(len > 0, QPKI_ERR_INVALID_ARG);
    size_t enc = len + ((serial[0] & 0x80) ? 1 : 0);
    QPKI_ENSURE(enc <= 20, QPKI_ERR_INVALID_ARG);
    b->serial_len = 0;
    if (serial[0] & 0x80)
        b->serial[b->serial_len++] = 0;
    memcpy(b->serial + b->serial_len, serial, len);
    b->serial_len += len;
    return QPKI_OK;
}

qpki_status qpki_cert_builder_set_random_serial(qpki_cert_builder *b)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    uint8_t r[20];
    QPKI_GUARD(crypto_random(r, sizeof(r)));
    /* Top bit clear keeps the INTEGER positive in 20 octets; a zero first octet
     * would make the encoding shorter (and non-minimal if kept), so it becomes 1. */
    r[0] &= 0x7f;
    if (r[0] == 0)
        r[0] = 1;
    memcpy(b->serial, r, sizeof(r));
    b->serial_len = sizeof(r);
    qpki_wipe(r, sizeof(r));
    return QPKI_OK;
}

void qpki_cert_builder_serial(const qpki_cert_builder *b, const uint8_t **serial, size_t *len)
{
    if (serial)
        *serial = b ? b->serial : NULL;
    if (len)
        *len = b ? b->serial_len : 0;
}

/* ---- names, validity, key ------------------------------------------------------------ */

static qpki_status copy_name(const uint8_t *der, size_t len, uint8_t **dst, size_t *dst_len)
{
    QPKI_ENSURE(der, QPKI_ERR_INVALID_ARG);
    der_cursor c = der_cursor_init(der, len);
    der_view name;
    QPKI_GUARD(x509_read_name(&c, &name));
    QPKI_GUARD(der_expect_end(&c));
    uint8_t *copy = qpki_memdup(der, len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    qpki_free(*dst);
    *dst = copy;
    *dst_len = len;
    return QPKI_OK;
}

/* RFC 5280 §4.2.1.6: "If the subject field contains an empty sequence, then the
 * issuing CA MUST include a subjectAltName extension that is marked as
 * critical." */
static void update_san_critical(qpki_cert_builder *b)
{
    for (size_t i = 0; i < b->exts.n; i++)
        if (b->exts.items[i].kind == X509_EXT_SAN)
            b->exts.items[i].critical = b->subject_len == 2; /* 30 00 */
}

qpki_status qpki_cert_builder_set_issuer(qpki_cert_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    return copy_name(der, len, &b->issuer, &b->issuer_len);
}

qpki_status qpki_cert_builder_set_subject(qpki_cert_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(copy_name(der, len, &b->subject, &b->subject_len));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status qpki_cert_builder_set_issuer_cert(qpki_cert_builder *b, const qpki_cert *issuer)
{
    QPKI_ENSURE(b && issuer, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(copy_name(issuer->subject.p, issuer->subject.n, &b->issuer, &b->issuer_len));
    uint8_t *spki = qpki_memdup(issuer->spki.p, issuer->spki.n);
    QPKI_ENSURE(spki, QPKI_ERR_NOMEM);
    /* Catalyst: the issuer's alternative key, for qpki_cert_builder_sign_hybrid. */
    der_view alt = x509_cert_ext_value(issuer, OID_CE_ALT_SPKI);
    uint8_t *alt_copy = NULL;
    if (alt.n) {
        alt_copy = qpki_memdup(alt.p, alt.n);
        if (!alt_copy) {
            qpki_free(spki);
            return QPKI_ERR_NOMEM;
        }
    }
    qpki_free(b->issuer_spki);
    b->issuer_spki = spki;
    b->issuer_spki_len = issuer->spki.n;
    qpki_free(b->issuer_alt_spki);
    b->issuer_alt_spki = alt_copy;
    b->issuer_alt_spki_len = alt.n;
    /* RFC 5280 §4.2.1.1: "The keyIdentifier field of the authorityKeyIdentifier
     * extension MUST be included in all certificates generated by conforming CAs
     * to facilitate certification path construction" - it carries the issuer's
     * subjectKeyIdentifier. */
    uint8_t id[20];
    der_view kid;
    QPKI_GUARD(x509_issuer_key_id(issuer, id, &kid));
    return qpki_cert_builder_set_authority_key_id(b, kid.p, kid.n);
}

qpki_status x509_issuer_key_id(const qpki_cert *issuer, uint8_t buf[20], der_view *kid)
{
    *kid = issuer->ski;
    if (kid->n == 0) {
        QPKI_GUARD(x509_key_id(issuer->key_bits, buf));
        *kid = (der_view){buf, 20};
    }
    return QPKI_OK;
}

qpki_status qpki_cert_builder_set_validity(qpki_cert_builder *b, qpki_time not_before,
                                           qpki_time not_after)
{
    QPKI_ENSURE(b && not_before <= not_after, QPKI_ERR_INVALID_ARG);
    /* Times outside years 0000-9999 cannot be encoded. */
    int y1, y2, x;
    qpki_time_to_fields(not_before, &y1, &x, &x, &x, &x, &x);
    qpki_time_to_fields(not_after, &y2, &x, &x, &x, &x, &x);
    QPKI_ENSURE(y1 >= 0 && y2 <= 9999, QPKI_ERR_BAD_TIME);
    b->not_before = not_before;
    b->not_after = not_after;
    b->has_validity = true;
    return QPKI_OK;
}

qpki_status qpki_cert_builder_set_spki(qpki_cert_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b && der, QPKI_ERR_INVALID_ARG);
    uint8_t *copy = qpki_memdup(der, len);
    QPKI_ENSURE(copy, QPKI_ERR_NOMEM);
    der_cursor c = der_cursor_init(copy, len);
    der_view whole, bits;
    qpki_key_alg alg;
    qpki_status rc = x509_read_spki(&c, &whole, &bits, &alg);
    if (rc == QPKI_OK)
        rc = der_expect_end(&c);
    if (rc != QPKI_OK) {
        qpki_free(copy);
        return rc;
    }
    qpki_free(b->spki);
    b->spki = copy;
    b->spki_len = len;
    b->key_bits = bits;
    return QPKI_OK;
}

/* ---- extensions ------------------------------------------------------------------------ */

/* Encode a small extension value with fn and store it (replacing). */
static qpki_status put_encoded(qpki_cert_builder *b, der_oid oid, bool critical, der_buf *v)
{
    uint8_t *der = NULL;
    size_t len = 0;
    QPKI_GUARD(der_buf_finish(v, &der, &len));
    qpki_status rc = x509_ext_list_put(&b->exts, oid, critical, X509_EXT_RAW, der, len, true);
    qpki_free(der);
    return rc;
}

qpki_status qpki_cert_builder_set_basic_constraints(qpki_cert_builder *b, bool ca,
                                                    int path_len, bool critical)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §4.2.1.9: "CAs MUST NOT include the pathLenConstraint field unless
     * the cA boolean is asserted". */
    QPKI_ENSURE(path_len < 0 || ca, QPKI_ERR_INVALID_ARG);
    der_buf v;
    der_buf_init(&v, 64);
    size_t seq = der_begin(&v, DER_SEQUENCE);
    if (ca)
        der_put_bool(&v, true); /* cA BOOLEAN DEFAULT FALSE */
    if (path_len >= 0)
        der_put_uint64(&v, (uint64_t)path_len);
    der_end(&v, seq);
    return put_encoded(b, OID_CE_BASIC_CONSTRAINTS, critical, &v);
}

qpki_status qpki_cert_builder_set_key_usage(qpki_cert_builder *b, unsigned bits, bool critical)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §4.2.1.3: "When the keyUsage extension appears in a certificate,
     * at least one of the bits MUST be set to 1."  Bits 0..8 are defined. */
    QPKI_ENSURE(bits != 0 && bits < (1u << 9), QPKI_ERR_INVALID_ARG);
    /* X.690 §11.2.2: a named bit list drops trailing zero bits. */
    unsigned top = 0;
    for (unsigned i = 0; i < 9; i++)
        if (bits & (1u << i))
            top = i;
    uint8_t octets[2] = {0, 0};
    for (unsigned i = 0; i <= top; i++)
        if (bits & (1u << i))
            octets[i / 8] = (uint8_t)(octets[i / 8] | (0x80u >> (i % 8)));
    der_buf v;
    der_buf_init(&v, 16);
    der_put_bit_string(&v, octets, top / 8 + 1, 7 - top % 8);
    return put_encoded(b, OID_CE_KEY_USAGE, critical, &v);
}

static qpki_status store_eku(qpki_cert_builder *b)
{
    QPKI_GUARD(b->eku.err);
    der_buf v;
    der_buf_init(&v, QPKI_CERT_MAX_SIZE);
    size_t seq = der_begin(&v, DER_SEQUENCE);
    der_put_bytes(&v, b->eku.p, b->eku.len);
    der_end(&v, seq);
    return put_encoded(b, OID_CE_EXT_KEY_USAGE, b->eku_critical, &v);
}

qpki_status qpki_cert_builder_add_ext_key_usage(qpki_cert_builder *b, const char *oid)
{
    QPKI_ENSURE(b && oid, QPKI_ERR_INVALID_ARG);
    uint8_t o[64];
    size_t n;
    QPKI_ENSURE(der_oid_from_text(oid, o, sizeof(o), &n) == QPKI_OK, QPKI_ERR_INVALID_ARG);
    /* The same purpose twice would say nothing more. */
    der_cursor c = der_cursor_init(b->eku.p, b->eku.len);
    while (!der_at_end(&c)) {
        der_view v;
        QPKI_GUARD(der_read_oid(&c, &v));
        QPKI_ENSURE(!der_view_eq(v, o, n), QPKI_ERR_EXISTS);
    }
    size_t before = b->eku.len;
    der_put_oid(&b->eku, (der_oid){o, n});
    qpki_status rc = store_eku(b);
    if (rc != QPKI_OK && b->eku.err == QPKI_OK)
        b->eku.len = before;
    return rc;
}

qpki_status qpki_cert_builder_set_ext_key_usage_critical(qpki_cert_builder *b, bool critical)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    b->eku_critical = critical;
    return b->eku.len ? store_eku(b) : QPKI_OK;
}

qpki_status qpki_cert_builder_set_subject_key_id(qpki_cert_builder *b, const uint8_t *id,
                                                 size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §4.2.1.2: "Conforming CAs MUST mark this extension as non-critical." */
    if (!id)
        return x509_ext_list_put(&b->exts, OID_CE_SUBJECT_KEY_ID, false, X509_EXT_SKI_AUTO,
                                 NULL, 0, true);
    QPKI_ENSURE(len > 0 && len <= 64, QPKI_ERR_INVALID_ARG);
    der_buf v;
    der_buf_init(&v, 128);
    der_put_octet_string(&v, id, len);
    return put_encoded(b, OID_CE_SUBJECT_KEY_ID, false, &v);
}

qpki_status qpki_cert_builder_set_authority_key_id(qpki_cert_builder *b, const uint8_t *id,
                                                   size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §4.2.1.1: "Conforming CAs MUST mark this extension as non-critical." */
    if (!id)
        return x509_ext_list_put(&b->exts, OID_CE_AUTHORITY_KEY_ID, false,
                                 X509_EXT_AKI_SIGNER, NULL, 0, true);
    QPKI_ENSURE(len > 0 && len <= 64, QPKI_ERR_INVALID_ARG);
    der_buf v;
    der_buf_init(&v, 128);
    size_t seq = der_begin(&v, DER_SEQUENCE);
    der_put_tlv(&v, DER_CTX(0), id, len); /* keyIdentifier [0] IMPLICIT OCTET STRING */
    der_end(&v, seq);
    return put_encoded(b, OID_CE_AUTHORITY_KEY_ID, false, &v);
}

typedef qpki_status (*gn_encoder)(der_buf *b, const char *text);

static qpki_status add_san(x509_ext_list *l, gn_encoder enc, const char *text)
{
    QPKI_ENSURE(text, QPKI_ERR_INVALID_ARG);
    der_buf gn;
    der_buf_init(&gn, 8192);
    qpki_status rc = enc(&gn, text);
    if (rc == QPKI_OK)
        rc = x509_ext_list_add_san(l, gn.p, gn.len);
    der_buf_free(&gn);
    return rc;
}

qpki_status qpki_cert_builder_add_san_dns(qpki_cert_builder *b, const char *name)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(add_san(&b->exts, x509_gn_dns, name));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status qpki_cert_builder_add_san_ip(qpki_cert_builder *b, const char *addr)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(add_san(&b->exts, x509_gn_ip, addr));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status qpki_cert_builder_add_san_email(qpki_cert_builder *b, const char *addr)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(add_san(&b->exts, x509_gn_email, addr));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status qpki_cert_builder_add_san_uri(qpki_cert_builder *b, const char *uri)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(add_san(&b->exts, x509_gn_uri, uri));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status x509_add_san_der(x509_ext_list *l, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(der, QPKI_ERR_INVALID_ARG);
    der_view contents;
    QPKI_GUARD(x509_general_names_check(der, len, &contents));
    der_cursor c = der_cursor_init(contents.p, contents.n);
    while (!der_at_end(&c)) {
        der_view gn;
        QPKI_GUARD(der_read_any(&c, NULL, NULL, &gn));
        QPKI_GUARD(x509_ext_list_add_san(l, gn.p, gn.n));
    }
    return QPKI_OK;
}

qpki_status qpki_cert_builder_add_san_der(qpki_cert_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(x509_add_san_der(&b->exts, der, len));
    update_san_critical(b);
    return QPKI_OK;
}

qpki_status qpki_cert_builder_set_ocsp_nocheck(qpki_cert_builder *b)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    /* RFC 6960 §4.2.2.2.1: "id-pkix-ocsp-nocheck OBJECT IDENTIFIER ::= { id-pkix-ocsp 5 }
     * ... The value of the extension SHALL be NULL."  It is non-critical: clients
     * that do not know it must still accept the certificate. */
    static const uint8_t null_value[] = {0x05, 0x00};
    return x509_ext_list_put(&b->exts, OID_OCSP_NOCHECK, false, X509_EXT_RAW, null_value,
                             sizeof(null_value), true);
}

/* RFC 5280 §4.2.2.1:
 *   AuthorityInfoAccessSyntax ::= SEQUENCE SIZE (1..MAX) OF AccessDescription
 *   AccessDescription ::= SEQUENCE { accessMethod OBJECT IDENTIFIER,
 *                                    accessLocation GeneralName }
 * "Conforming CAs MUST mark this extension as non-critical." */
static qpki_status add_aia(qpki_cert_builder *b, der_oid method, const char *url)
{
    QPKI_ENSURE(b && url, QPKI_ERR_INVALID_ARG);
    der_buf gn;
    der_buf_init(&gn, 8192);
    qpki_status rc = x509_gn_uri(&gn, url);
    if (rc != QPKI_OK) {
        der_buf_free(&gn);
        return rc;
    }
    size_t before = b->aia.len;
    size_t ad = der_begin(&b->aia, DER_SEQUENCE);
    der_put_oid(&b->aia, method);
    der_put_bytes(&b->aia, gn.p, gn.len);
    der_end(&b->aia, ad);
    der_buf_free(&gn);
    QPKI_GUARD(b->aia.err);
    der_buf v;
    der_buf_init(&v, QPKI_CERT_MAX_SIZE);
    size_t seq = der_begin(&v, DER_SEQUENCE);
    der_put_bytes(&v, b->aia.p, b->aia.len);
    der_end(&v, seq);
    rc = put_encoded(b, OID_PE_AIA, false, &v);
    if (rc != QPKI_OK)
        b->aia.len = before;
    return rc;
}

qpki_status qpki_cert_builder_add_aia_ocsp(qpki_cert_builder *b, const char *url)
{
    return add_aia(b, OID_PKIX_OCSP, url); /* id-ad-ocsp = 1.3.6.1.5.5.7.48.1 */
}

qpki_status qpki_cert_builder_add_aia_ca_issuers(qpki_cert_builder *b, const char *url)
{
    return add_aia(b, OID_AD_CA_ISSUERS, url);
}

/* An extnValue must be exactly one DER element (RFC 5280 §4.1: "extnValue ...
 * contains the DER encoding of an ASN.1 value"). */
static qpki_status check_one_element(const uint8_t *value, size_t len)
{
    QPKI_ENSURE(value && len > 0, QPKI_ERR_INVALID_ARG);
    der_cursor c = der_cursor_init(value, len);
    QPKI_GUARD(der_skip(&c));
    return der_expect_end(&c);
}

qpki_status x509_add_raw_extension(x509_ext_list *l, const char *oid, bool critical,
                                   const uint8_t *value, size_t len)
{
    QPKI_ENSURE(oid, QPKI_ERR_INVALID_ARG);
    uint8_t o[64];
    size_t n;
    QPKI_ENSURE(der_oid_from_text(oid, o, sizeof(o), &n) == QPKI_OK, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(check_one_element(value, len));
    return x509_ext_list_put(l, (der_oid){o, n}, critical, X509_EXT_RAW, value, len, false);
}

qpki_status qpki_cert_builder_add_extension(qpki_cert_builder *b, const char *oid, bool critical,
                                            const uint8_t *value, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    return x509_add_raw_extension(&b->exts, oid, critical, value, len);
}

qpki_status qpki_cert_builder_remove_extension(qpki_cert_builder *b, const char *oid)
{
    QPKI_ENSURE(b && oid, QPKI_ERR_INVALID_ARG);
    uint8_t o[64];
    size_t n;
    QPKI_ENSURE(der_oid_from_text(oid, o, sizeof(o), &n) == QPKI_OK, QPKI_ERR_INVALID_ARG);
    der_oid d = {o, n};
    QPKI_GUARD(x509_ext_list_remove(&b->exts, d));
    if (der_oid_eq((der_view){o, n}, OID_CE_EXT_KEY_USAGE))
        b->eku.len = 0;
    if (der_oid_eq((der_view){o, n}, OID_PE_AIA))
        b->aia.len = 0;
    return QPKI_OK;
}

/* ---- encoding and signing ------------------------------------------------------------------ */

/* Key bits of an SPKI (for the signer-derived authorityKeyIdentifier). */
static qpki_status spki_key_bits(const uint8_t *spki, size_t len, der_view *bits)
{
    der_cursor c = der_cursor_init(spki, len);
    der_view whole;
    qpki_key_alg alg;
    QPKI_GUARD(x509_read_spki(&c, &whole, bits, &alg));
    return der_expect_end(&c);
}

/* RFC 5280 §4.1:
 *   TBSCertificate ::= SEQUENCE {
 *       version         [0] EXPLICIT Version DEFAULT v1,
 *       serialNumber         CertificateSerialNumber,
 *       signature            AlgorithmIdentifier,
 *       issuer               Name,
 *       validity             Validity,
 *       subject              Name,
 *       subjectPublicKeyInfo SubjectPublicKeyInfo,
 *       extensions      [3] EXPLICIT Extensions OPTIONAL } */
static qpki_status encode_tbs(const qpki_cert_builder *b, der_view sig_alg, der_oid skip,
                              der_view signer_key_bits, der_view extra, uint8_t **der,
                              size_t *len)
{
    QPKI_ENSURE(b->serial_len > 0 && b->issuer && b->subject && b->spki && b->has_validity,
                QPKI_ERR_INVALID_ARG);
    der_buf t;
    der_buf_init(&t, QPKI_CERT_MAX_SIZE);
    size_t tbs = der_begin(&t, DER_SEQUENCE);
    size_t ver = der_begin(&t, DER_CTX_CONS(0));
    der_put_uint64(&t, 2); /* v3 */
    der_end(&t, ver);
    der_put_integer_content(&t, b->serial, b->serial_len);
    if (sig_alg.n)
        der_put_bytes(&t, sig_alg.p, sig_alg.n);
    der_put_bytes(&t, b->issuer, b->issuer_len);
    size_t val = der_begin(&t, DER_SEQUENCE);
    der_put_x509_time(&t, b->not_before);
    der_put_x509_time(&t, b->not_after);
    der_end(&t, val);
    der_put_bytes(&t, b->subject, b->subject_len);
    der_put_bytes(&t, b->spki, b->spki_len);
    /* Extensions ::= SEQUENCE SIZE (1..MAX): no [3] at all when empty. */
    if (x509_ext_list_count(&b->exts, skip) > 0 || extra.n > 0) {
        size_t ctx = der_begin(&t, DER_CTX_CONS(3));
        x509_ext_list_encode(&b->exts, &t, skip, b->key_bits, signer_key_bits, extra);
        der_end(&t, ctx);
    }
    der_end(&t, tbs);
    return der_buf_finish(&t, der, len);
}

qpki_status qpki_cert_builder_encode_tbs(const qpki_cert_builder *b, const uint8_t *sig_alg,
                                         size_t sig_alg_len, const char *skip_oid,
                                         const uint8_t *signer_spki, size_t signer_spki_len,
                                         uint8_t **der, size_t *len)
{
    QPKI_ENSURE(b && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    der_view alg = {NULL, 0};
    if (sig_alg) {
        der_cursor c = der_cursor_init(sig_alg, sig_alg_len);
        der_view oid;
        QPKI_GUARD(x509_read_alg_id(&c, &alg, &oid));
        QPKI_GUARD(der_expect_end(&c));
    }
    uint8_t o[64];
    der_oid skip = {NULL, 0};
    if (skip_oid) {
        size_t n;
        QPKI_ENSURE(der_oid_from_text(skip_oid, o, sizeof(o), &n) == QPKI_OK,
                    QPKI_ERR_INVALID_ARG);
        skip = (der_oid){o, n};
    }
    der_view signer_bits = {NULL, 0};
    if (signer_spki)
        QPKI_GUARD(spki_key_bits(signer_spki, signer_spki_len, &signer_bits));
    return encode_tbs(b, alg, skip, signer_bits, (der_view){NULL, 0}, der, len);
}

qpki_status x509_sign_and_wrap(qpki_signer *signer, der_view alg, der_view signer_spki,
                               const uint8_t *tbs, size_t tbs_len, size_t max, uint8_t **der,
                               size_t *len)
{
    uint8_t *sig;
    size_t sig_len;
    QPKI_GUARD(x509_sign_checked(signer, alg, signer_spki, tbs, tbs_len, &sig, &sig_len));
    der_buf out;
    der_buf_init(&out, max);
    size_t seq = der_begin(&out, DER_SEQUENCE);
    der_put_bytes(&out, tbs, tbs_len);
    der_put_bytes(&out, alg.p, alg.n);
    der_put_bit_string(&out, sig, sig_len, 0);
    der_end(&out, seq);
    qpki_free(sig);
    return der_buf_finish(&out, der, len);
}

/* The signer's AlgorithmIdentifier and SubjectPublicKeyInfo, checked for shape. */
qpki_status x509_signer_info(qpki_signer *signer, der_view *alg, der_view *spki,
                             der_view *key_bits)
{
    const uint8_t *p;
    size_t n;
    QPKI_GUARD(qpki_signer_algorithm(signer, &p, &n));
    der_cursor c = der_cursor_init(p, n);
    der_view oid;
    QPKI_GUARD(x509_read_alg_id(&c, alg, &oid));
    QPKI_GUARD(der_expect_end(&c));
    QPKI_GUARD(qpki_signer_public_key(signer, &p, &n));
    *spki = (der_view){p, n};
    return spki_key_bits(p, n, key_bits);
}

qpki_status qpki_cert_builder_sign(const qpki_cert_builder *b, qpki_signer *signer,
                                   uint8_t **der, size_t *len)
{
    QPKI_ENSURE(b && signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    der_view alg, spki, signer_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &signer_bits));
    if (b->issuer_spki)
        QPKI_ENSURE(der_view_eq(spki, b->issuer_spki, b->issuer_spki_len),
                    QPKI_ERR_KEY_MISMATCH);
    uint8_t *tbs = NULL, *cert_der = NULL;
    size_t tbs_len = 0, cert_len = 0;
    qpki_cert *check = NULL;
    qpki_status rc;
    QPKI_CHECK(encode_tbs(b, alg, (der_oid){NULL, 0}, signer_bits, (der_view){NULL, 0}, &tbs,
                          &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CERT_MAX_SIZE,
                                  &cert_der, &cert_len));
    /* What we issue, we must be able to read back. */
    QPKI_CHECK(qpki_cert_parse(cert_der, cert_len, &check));
    *der = cert_der;
    *len = cert_len;
    cert_der = NULL;
out:
    qpki_cert_free(&check);
    qpki_free(cert_der);
    qpki_free(tbs);
    return rc;
}

/* ---- Catalyst hybrid certificates (ITU-T X.509 §9.8) ------------------------------------- */

qpki_status qpki_cert_builder_set_alt_spki(qpki_cert_builder *b, const uint8_t *der, size_t len)
{
    QPKI_ENSURE(b && der, QPKI_ERR_INVALID_ARG);
    der_cursor c = der_cursor_init(der, len);
    der_view whole, bits;
    qpki_key_alg alg;
    QPKI_GUARD(x509_read_spki(&c, &whole, &bits, &alg));
    QPKI_GUARD(der_expect_end(&c));
    /* ITU-T X.509 §9.8.2: subjectAltPublicKeyInfo "may be flagged either as critical or
     * as non-critical"; non-critical keeps the certificate usable by relying parties
     * that know only the classical key (DESIGN §5). */
    return x509_ext_list_put(&b->exts, OID_CE_ALT_SPKI, false, X509_EXT_RAW, der, len, true);
}

static bool has_extension(const qpki_cert_builder *b, der_oid oid)
{
    for (size_t i = 0; i < b->exts.n; i++)
        if (der_view_eq((der_view){b->exts.items[i].oid, b->exts.items[i].oid_len}, oid.p, oid.n))
            return true;
    return false;
}

qpki_status x509_sign_checked(qpki_signer *signer, der_view alg, der_view spki,
                              const uint8_t *msg, size_t msg_len, uint8_t **sig, size_t *sig_len)
{
    size_t cap = qpki_signer_max_signature_size(signer);
    QPKI_ENSURE(cap > 0 && cap <= QPKI_CERT_MAX_SIZE, QPKI_ERR_CRYPTO);
    uint8_t *s = qpki_malloc(cap);
    QPKI_ENSURE(s, QPKI_ERR_NOMEM);
    size_t n = cap;
    qpki_status rc = qpki_signer_sign(signer, msg, msg_len, s, &n);
    if (rc == QPKI_OK && n > cap)
        rc = QPKI_ERR_INTERNAL;
    /* Check the signature before handing out the object: a signer that computes
     * a wrong signature (a fault, a key that is not the one it reports) must not
     * produce a certificate, request or CRL that fails later at every relying
     * party.  Algorithms the crypto layer cannot verify are not checked. */
    if (rc == QPKI_OK) {
        rc = x509_verify(spki, alg, (der_view){msg, msg_len}, (der_view){s, n}, 0);
        if (rc == QPKI_ERR_UNSUPPORTED_ALGORITHM)
            rc = QPKI_OK;
    }
    if (rc != QPKI_OK) {
        qpki_free(s);
        return rc;
    }
    *sig = s;
    *sig_len = n;
    return QPKI_OK;
}

/* ITU-T X.509 (10/2019) §7.2.2: the alternative signature is computed over the
 * TBSCertificate "with the signature component and the altSignatureValue
 * extension removed"; §9.8.3: "When the altSignatureAlgorithm extension is
 * included ... the altSignatureValue extension shall also be included", and
 * altSignatureAlgorithm is covered by the alternative signature (NOTE 1: "the
 * alternative digital signature algorithm is protected by the alternative
 * signature").  So:
 *   1. append altSignatureAlgorithm (2.5.29.73) = alt_signer's AlgorithmIdentifier;
 *   2. alt TBS = TBSCertificate without `signature`, with every extension so far;
 *      altSig = alt_signer(alt TBS);
 *   3. append altSignatureValue (2.5.29.74) = BIT STRING altSig;
 *   4. TBSCertificate with `signature` = signer's algorithm, signed by signer.
 * Both extensions are non-critical (§9.8.3 NOTE 2: "It is recommended that it be
 * flagged as non-critical"). */
qpki_status qpki_cert_builder_sign_hybrid(const qpki_cert_builder *b, qpki_signer *signer,
                                          qpki_signer *alt_signer, uint8_t **der, size_t *len)
{
    QPKI_ENSURE(b && signer && alt_signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_ENSURE(!has_extension(b, OID_CE_ALT_SIG_ALG) && !has_extension(b, OID_CE_ALT_SIG_VALUE),
                QPKI_ERR_EXISTS);
    der_view alg, spki, signer_bits, alt_alg, alt_spki, alt_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &signer_bits));
    QPKI_GUARD(x509_signer_info(alt_signer, &alt_alg, &alt_spki, &alt_bits));
    if (b->issuer_spki) {
        QPKI_ENSURE(der_view_eq(spki, b->issuer_spki, b->issuer_spki_len),
                    QPKI_ERR_KEY_MISMATCH);
        /* §9.8.4: "it shall be verified using the alternative public key of the
         * issuer" - the issuer's subjectAltPublicKeyInfo must be this key. */
        QPKI_ENSURE(b->issuer_alt_spki &&
                        der_view_eq(alt_spki, b->issuer_alt_spki, b->issuer_alt_spki_len),
                    QPKI_ERR_KEY_MISMATCH);
    }
    uint8_t *alt_tbs = NULL, *alt_sig = NULL, *tbs = NULL, *cert_der = NULL, *again = NULL;
    size_t alt_tbs_len = 0, alt_sig_len = 0, tbs_len = 0, cert_len = 0, again_len = 0;
    qpki_cert *check = NULL;
    qpki_status rc;
    der_buf extra, sigval;
    der_buf_init(&extra, QPKI_CERT_MAX_SIZE);
    der_buf_init(&sigval, QPKI_CERT_MAX_SIZE);
    der_put_extension(&extra, OID_CE_ALT_SIG_ALG, false, alt_alg.p, alt_alg.n);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_tbs(b, (der_view){NULL, 0}, (der_oid){NULL, 0}, signer_bits,
                          (der_view){extra.p, extra.len}, &alt_tbs, &alt_tbs_len));
    QPKI_CHECK(x509_sign_checked(alt_signer, alt_alg, alt_spki, alt_tbs, alt_tbs_len, &alt_sig,
                                 &alt_sig_len));
    /* AltSignatureValue ::= BIT STRING */
    der_put_bit_string(&sigval, alt_sig, alt_sig_len, 0);
    QPKI_CHECK(sigval.err);
    der_put_extension(&extra, OID_CE_ALT_SIG_VALUE, false, sigval.p, sigval.len);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_tbs(b, alg, (der_oid){NULL, 0}, signer_bits,
                          (der_view){extra.p, extra.len}, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CERT_MAX_SIZE,
                                  &cert_der, &cert_len));
    /* What we issue, we must be able to read back - and a relying party that
     * re-encodes the certificate must get the bytes we signed. */
    QPKI_CHECK(qpki_cert_parse(cert_der, cert_len, &check));
    QPKI_CHECK(x509_cert_tbs_reencode(check, true, OID_CE_ALT_SIG_VALUE, &again, &again_len));
    if (again_len != alt_tbs_len || memcmp(again, alt_tbs, alt_tbs_len) != 0)
        QPKI_FAIL(QPKI_ERR_INTERNAL);
    *der = cert_der;
    *len = cert_len;
    cert_der = NULL;
out:
    qpki_cert_free(&check);
    qpki_free(again);
    qpki_free(cert_der);
    qpki_free(tbs);
    qpki_free(alt_sig);
    qpki_free(alt_tbs);
    der_buf_free(&sigval);
    der_buf_free(&extra);
    return rc;
}
