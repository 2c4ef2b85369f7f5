/* SPDX-License-Identifier: Apache-2.0 */
/* lib/ocsp/certid.c - RFC 6960 §4.1.1 CertID: build, parse, compare. */
#include <stdio.h>
#include <string.h>

#include <qpki/cert.h>

#include "../der/oid.h"
#include "ocsp_internal.h"

/* Set serial contents and the offset of its magnitude. */
static qpki_status set_serial(struct qpki_certid *id, const uint8_t *content, size_t n)
{
    QPKI_ENSURE(n >= 1 && n <= sizeof(id->serial), QPKI_ERR_TOO_LARGE);
    memcpy(id->serial, content, n);
    id->serial_len = n;
    size_t off = 0;
    while (off + 1 < n && content[off] == 0)
        off++;
    /* A negative serial (broken CA) has no unsigned magnitude; it is looked up by
     * its raw contents, which never match a table entry. */
    id->serial_mag_off = (n == 1 && content[0] == 0) ? 1 : off;
    return QPKI_OK;
}

qpki_status certid_read(der_cursor *c, struct qpki_certid *id)
{
    der_cursor seq, alg;
    der_view whole, oid, name_hash, key_hash, serial;
    memset(id, 0, sizeof(*id));
    der_cursor start = *c;
    QPKI_GUARD(der_read_tlv(c, DER_SEQUENCE, &seq));
    whole = (der_view){start.p, (size_t)(c->p - start.p)};
    DER_FIELD(&seq, "hashAlgorithm", der_read_tlv(&seq, DER_SEQUENCE, &alg));
    DER_FIELD(&seq, "hashAlgorithm", der_read_oid(&alg, &oid));
    /* RFC 5754 §2: hash AlgorithmIdentifier parameters are absent or NULL;
     * implementations MUST accept both. */
    if (!der_at_end(&alg))
        DER_FIELD(&seq, "hashAlgorithm: parameters", der_read_null(&alg));
    DER_FIELD(&seq, "hashAlgorithm", der_expect_end(&alg));
    der_cursor at_name = seq;
    DER_FIELD(&seq, "issuerNameHash", der_read_octet_string(&seq, &name_hash));
    DER_FIELD(&seq, "issuerKeyHash", der_read_octet_string(&seq, &key_hash));
    der_cursor at_serial = seq;
    DER_FIELD(&seq, "serialNumber", der_read_integer(&seq, &serial));
    QPKI_GUARD(der_expect_end(&seq));

    id->alg = crypto_hash_from_oid(oid);
    /* An unknown hash algorithm still parses (alg NONE): it can never match an
     * issuer, so the responder answers unauthorized for it. */
    size_t want = crypto_hash_len(id->alg);
    if (name_hash.n != key_hash.n || name_hash.n > CRYPTO_MAX_HASH_LEN ||
        (want != 0 && name_hash.n != want)) {
        if (want)
            return der_fail(&at_name, QPKI_ERR_DECODE, "issuerNameHash/issuerKeyHash of "
                            "%zu/%zu octets (%s: %zu)", name_hash.n, key_hash.n,
                            qpki_hash_alg_name(id->alg), want);
        return der_fail(&at_name, QPKI_ERR_DECODE, "issuerNameHash/issuerKeyHash of %zu/%zu "
                        "octets", name_hash.n, key_hash.n);
    }
    id->hash_len = name_hash.n;
    if (name_hash.n) {
        memcpy(id->name_hash, name_hash.p, name_hash.n);
        memcpy(id->key_hash, key_hash.p, key_hash.n);
    }
    qpki_status st = set_serial(id, serial.p, serial.n);
    if (st != QPKI_OK)
        return der_fail(&at_serial, st, "serialNumber of %zu octets (at most %d)", serial.n,
                        QPKI_SERIAL_MAX + 1);
    id->der = whole.p;
    id->der_len = whole.n;
    return QPKI_OK;
}

void certid_write(der_buf *b, const struct qpki_certid *id)
{
    size_t seq = der_begin(b, DER_SEQUENCE);
    size_t alg = der_begin(b, DER_SEQUENCE);
    der_put_oid(b, crypto_hash_oid(id->alg));
    der_put_null(b);
    der_end(b, alg);
    der_put_octet_string(b, id->name_hash, id->hash_len);
    der_put_octet_string(b, id->key_hash, id->hash_len);
    der_put_integer_content(b, id->serial, id->serial_len);
    der_end(b, seq);
}

/* Fill the issuer hashes of id for issuer with id->alg. */
static qpki_status hash_issuer(struct qpki_certid *id, const qpki_cert *issuer)
{
    const uint8_t *name, *key;
    size_t name_len, key_len;
    qpki_cert_subject_der(issuer, &name, &name_len);
    qpki_cert_public_key_bits(issuer, &key, &key_len);
    /* RFC 6960 §4.1.1: issuerNameHash is the hash of the issuer's distinguished
     * name (the DER of the Name field); issuerKeyHash is the hash of the issuer's
     * public key, "calculated over the value (excluding tag and length) of the
     * subject public key field in the issuer's certificate". */
    QPKI_GUARD(crypto_hash(id->alg, name, name_len, id->name_hash));
    QPKI_GUARD(crypto_hash(id->alg, key, key_len, id->key_hash));
    id->hash_len = crypto_hash_len(id->alg);
    return QPKI_OK;
}

/* A standalone CertID for issuer with hash alg and the serial's INTEGER
 * contents; it owns its encoding. */
static qpki_status build(qpki_hash_alg alg, const qpki_cert *issuer, const uint8_t *serial,
                         size_t serial_len, qpki_certid **out)
{
    struct qpki_certid *id = qpki_calloc(1, sizeof(*id));
    QPKI_ENSURE(id, QPKI_ERR_NOMEM);
    id->alg = alg;
    qpki_status rc = hash_issuer(id, issuer);
    if (rc == QPKI_OK)
        rc = set_serial(id, serial, serial_len);
    if (rc == QPKI_OK) {
        der_buf b;
        der_buf_init(&b, 0);
        certid_write(&b, id);
        rc = der_buf_finish(&b, &id->owned, &id->der_len);
    }
    if (rc != QPKI_OK) {
        qpki_free(id);
        return rc;
    }
    id->der = id->owned;
    *out = id;
    return QPKI_OK;
}

qpki_status qpki_certid_new(qpki_hash_alg alg, const qpki_cert *issuer, const uint8_t *serial,
                            size_t serial_len, qpki_certid **out)
{
    QPKI_ENSURE(out && issuer && (serial || serial_len == 0), QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(crypto_hash_len(alg) != 0, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    while (serial_len > 0 && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    QPKI_ENSURE(serial_len <= QPKI_SERIAL_MAX, QPKI_ERR_TOO_LARGE);
    uint8_t content[QPKI_SERIAL_MAX + 1];
    size_t n = 0;
    /* X.690 §8.3: a positive INTEGER whose top bit is set gets a leading 0x00. */
    if (serial_len == 0 || (serial[0] & 0x80))
        content[n++] = 0;
    if (serial_len)
        memcpy(content + n, serial, serial_len);
    n += serial_len;
    return build(alg, issuer, content, n, out);
}

qpki_status qpki_certid_for_cert(qpki_hash_alg alg, const qpki_cert *issuer,
                                 const qpki_cert *cert, qpki_certid **out)
{
    QPKI_ENSURE(out && issuer && cert, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    QPKI_ENSURE(crypto_hash_len(alg) != 0, QPKI_ERR_UNSUPPORTED_ALGORITHM);
    const uint8_t *serial;
    size_t serial_len;
    qpki_cert_serial(cert, &serial, &serial_len);
    return build(alg, issuer, serial, serial_len, out);
}

qpki_status qpki_certid_parse(const uint8_t *der, size_t len, qpki_certid **out)
{
    QPKI_ENSURE(out && der, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    struct qpki_certid *id = qpki_calloc(1, sizeof(*id));
    QPKI_ENSURE(id, QPKI_ERR_NOMEM);
    id->owned = qpki_memdup(der, len);
    if (!id->owned) {
        qpki_free(id);
        return QPKI_ERR_NOMEM;
    }
    uint8_t *copy = id->owned;
    der_cursor c = der_cursor_init(copy, len);
    qpki_status rc = certid_read(&c, id); /* clears id: restore ownership after */
    id->owned = copy;
    if (rc == QPKI_OK)
        rc = der_expect_end(&c);
    if (rc != QPKI_OK) {
        qpki_certid_free(&id);
        return rc;
    }
    *out = id;
    return QPKI_OK;
}

qpki_status qpki_certid_dup(const qpki_certid *id, qpki_certid **out)
{
    QPKI_ENSURE(id && out, QPKI_ERR_INVALID_ARG);
    return qpki_certid_parse(id->der, id->der_len, out);
}

void qpki_certid_free(qpki_certid **id)
{
    if (!id || !*id)
        return;
    qpki_free((*id)->owned);
    qpki_free(*id);
    *id = NULL;
}

qpki_hash_alg qpki_certid_hash_alg(const qpki_certid *id) { return id ? id->alg : QPKI_HASH_NONE; }

void qpki_certid_name_hash(const qpki_certid *id, const uint8_t **hash, size_t *len)
{
    *hash = id->name_hash;
    *len = id->hash_len;
}

void qpki_certid_key_hash(const qpki_certid *id, const uint8_t **hash, size_t *len)
{
    *hash = id->key_hash;
    *len = id->hash_len;
}

void qpki_certid_serial(const qpki_certid *id, const uint8_t **serial, size_t *len)
{
    *serial = id->serial;
    *len = id->serial_len;
}

void qpki_certid_serial_magnitude(const qpki_certid *id, const uint8_t **serial, size_t *len)
{
    *serial = id->serial + id->serial_mag_off;
    *len = id->serial_len - id->serial_mag_off;
}

qpki_status qpki_certid_serial_hex(const qpki_certid *id, char *buf, size_t size)
{
    QPKI_ENSURE(id && buf, QPKI_ERR_INVALID_ARG);
    const uint8_t *m;
    size_t n;
    qpki_certid_serial_magnitude(id, &m, &n);
    QPKI_ENSURE(size >= 2 * (n ? n : 1) + 1, QPKI_ERR_BUFFER_TOO_SMALL);
    qpki_serial_hex(m, n, buf);
    return QPKI_OK;
}

void qpki_certid_der(const qpki_certid *id, const uint8_t **der, size_t *len)
{
    *der = id->der;
    *len = id->der_len;
}

bool qpki_certid_matches_issuer(const qpki_certid *id, const qpki_cert *issuer)
{
    if (!id || !issuer || crypto_hash_len(id->alg) == 0)
        return false;
    struct qpki_certid tmp;
    memset(&tmp, 0, sizeof(tmp));
    tmp.alg = id->alg;
    if (hash_issuer(&tmp, issuer) != QPKI_OK)
        return false;
    return tmp.hash_len == id->hash_len &&
           !memcmp(tmp.name_hash, id->name_hash, id->hash_len) &&
           !memcmp(tmp.key_hash, id->key_hash, id->hash_len);
}

bool qpki_certid_equal(const qpki_certid *a, const qpki_certid *b)
{
    if (!a || !b || a->alg != b->alg || a->hash_len != b->hash_len)
        return false;
    const uint8_t *sa, *sb;
    size_t na, nb;
    qpki_certid_serial_magnitude(a, &sa, &na);
    qpki_certid_serial_magnitude(b, &sb, &nb);
    return !memcmp(a->name_hash, b->name_hash, a->hash_len) &&
           !memcmp(a->key_hash, b->key_hash, a->hash_len) && na == nb &&
           (na == 0 || !memcmp(sa, sb, na));
}
