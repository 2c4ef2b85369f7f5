/* SPDX-License-Identifier: Apache-2.0 */
/* lib/x509/crl_builder.c - X.509 v2 CRL builder (RFC 5280 §5), with Catalyst
 * alternative signatures (ITU-T X.509 §9.8, docs/CATALYST.md). */
#include <string.h>

#include "../der/oid.h"
#include "../internal.h"
#include "x509.h"

struct qpki_crl_builder {
    uint8_t *issuer;             /* Name DER */
    size_t issuer_len;
    uint8_t *issuer_spki;        /* the CA's key, for the signer check */
    size_t issuer_spki_len;
    uint8_t *issuer_alt_spki;    /* its altSubjectPublicKeyInfo (Catalyst), may be NULL */
    size_t issuer_alt_spki_len;
    uint8_t key_id[20];          /* authorityKeyIdentifier keyIdentifier */
    size_t key_id_len;
    bool has_times;
    qpki_time this_update, next_update;
    bool has_number, has_base;
    uint8_t number[QPKI_CRL_NUMBER_MAX];
    size_t number_len;
    uint8_t base[QPKI_CRL_NUMBER_MAX];
    size_t base_len;
    x509_ext_list exts;          /* added with qpki_crl_builder_add_extension (RAW) */
    der_buf entries;             /* the encoded revokedCertificates elements */
    size_t entry_count;
    bool remove_from_crl;        /* some entry says removeFromCRL */
};

qpki_status qpki_crl_builder_new(qpki_crl_builder **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    *out = NULL;
    qpki_crl_builder *b = qpki_calloc(1, sizeof(*b));
    QPKI_ENSURE(b, QPKI_ERR_NOMEM);
    der_buf_init(&b->entries, QPKI_CRL_MAX_SIZE);
    *out = b;
    return QPKI_OK;
}

void qpki_crl_builder_free(qpki_crl_builder **builder)
{
    if (!builder || !*builder)
        return;
    qpki_crl_builder *b = *builder;
    qpki_free(b->issuer);
    qpki_free(b->issuer_spki);
    qpki_free(b->issuer_alt_spki);
    x509_ext_list_free(&b->exts);
    der_buf_free(&b->entries);
    qpki_free(b);
    *builder = NULL;
}

qpki_status qpki_crl_builder_set_issuer_cert(qpki_crl_builder *b, const qpki_cert *ca)
{
    QPKI_ENSURE(b && ca, QPKI_ERR_INVALID_ARG);
    uint8_t id[20];
    der_view kid;
    /* RFC 5280 §5.2.1: "Conforming CRL issuers MUST use the key identifier method,
     * and MUST include this extension in all CRLs issued." */
    QPKI_GUARD(x509_issuer_key_id(ca, id, &kid));
    QPKI_ENSURE(kid.n <= sizeof(b->key_id), QPKI_ERR_UNSUPPORTED);
    der_view alt = x509_cert_ext_value(ca, OID_CE_ALT_SPKI);
    uint8_t *name = qpki_memdup(ca->subject.p, ca->subject.n);
    uint8_t *spki = qpki_memdup(ca->spki.p, ca->spki.n);
    uint8_t *alt_copy = alt.n ? qpki_memdup(alt.p, alt.n) : NULL;
    if (!name || !spki || (alt.n && !alt_copy)) {
        qpki_free(name);
        qpki_free(spki);
        qpki_free(alt_copy);
        return QPKI_ERR_NOMEM;
    }
    qpki_free(b->issuer);
    qpki_free(b->issuer_spki);
    qpki_free(b->issuer_alt_spki);
    b->issuer = name;
    b->issuer_len = ca->subject.n;
    b->issuer_spki = spki;
    b->issuer_spki_len = ca->spki.n;
    b->issuer_alt_spki = alt_copy;
    b->issuer_alt_spki_len = alt.n;
    memcpy(b->key_id, kid.p, kid.n);
    b->key_id_len = kid.n;
    return QPKI_OK;
}

static bool time_encodable(qpki_time t)
{
    int y, x;
    qpki_time_to_fields(t, &y, &x, &x, &x, &x, &x);
    return y >= 0 && y <= 9999;
}

qpki_status qpki_crl_builder_set_times(qpki_crl_builder *b, qpki_time this_update,
                                       qpki_time next_update)
{
    QPKI_ENSURE(b && next_update > this_update, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(time_encodable(this_update) && time_encodable(next_update), QPKI_ERR_BAD_TIME);
    b->this_update = this_update;
    b->next_update = next_update;
    b->has_times = true;
    return QPKI_OK;
}

/* A CRLNumber magnitude into dst (leading zeros removed; the encoded INTEGER, a
 * 0x00 prepended when the top bit is set, at most QPKI_CRL_NUMBER_MAX octets). */
static qpki_status set_number(const uint8_t *num, size_t len, uint8_t *dst, size_t *dst_len)
{
    QPKI_ENSURE(num || len == 0, QPKI_ERR_INVALID_ARG);
    while (len > 0 && num[0] == 0) {
        num++;
        len--;
    }
    size_t enc = len + ((len && (num[0] & 0x80)) ? 1 : 0);
    QPKI_ENSURE(enc <= QPKI_CRL_NUMBER_MAX && len <= QPKI_CRL_NUMBER_MAX, QPKI_ERR_INVALID_ARG);
    if (len)
        memcpy(dst, num, len);
    *dst_len = len;
    return QPKI_OK;
}

qpki_status qpki_crl_builder_set_number(qpki_crl_builder *b, const uint8_t *number, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(set_number(number, len, b->number, &b->number_len));
    b->has_number = true;
    return QPKI_OK;
}

qpki_status qpki_crl_builder_set_delta_base(qpki_crl_builder *b, const uint8_t *base, size_t len)
{
    QPKI_ENSURE(b, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(set_number(base, len, b->base, &b->base_len));
    b->has_base = true;
    return QPKI_OK;
}

qpki_status qpki_crl_builder_add_extension(qpki_crl_builder *b, const char *oid, bool critical,
                                           const uint8_t *value, size_t len)
{
    QPKI_ENSURE(b && oid, QPKI_ERR_INVALID_ARG);
    uint8_t o[64];
    size_t n;
    QPKI_ENSURE(der_oid_from_text(oid, o, sizeof(o), &n) == QPKI_OK, QPKI_ERR_INVALID_ARG);
    static const der_oid own[] = {OID_CE_AUTHORITY_KEY_ID, OID_CE_CRL_NUMBER,
                                  OID_CE_DELTA_CRL_INDICATOR, OID_CE_ALT_SIG_ALG,
                                  OID_CE_ALT_SIG_VALUE};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(own); i++)
        QPKI_ENSURE(!der_oid_eq((der_view){o, n}, own[i]), QPKI_ERR_EXISTS);
    return x509_add_raw_extension(&b->exts, oid, critical, value, len);
}

qpki_status qpki_crl_builder_set_freshest_crl(qpki_crl_builder *b, const char *uri)
{
    QPKI_ENSURE(b && uri, QPKI_ERR_INVALID_ARG);
    /* FreshestCRL ::= CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF
     *   DistributionPoint ::= SEQUENCE { distributionPoint [0] DistributionPointName
     *   OPTIONAL, ... }; DistributionPointName ::= CHOICE { fullName [0] GeneralNames, ... } */
    der_buf v;
    der_buf_init(&v, QPKI_CERT_MAX_SIZE);
    size_t points = der_begin(&v, DER_SEQUENCE);
    size_t point = der_begin(&v, DER_SEQUENCE);
    size_t dp = der_begin(&v, DER_CTX_CONS(0));
    size_t full = der_begin(&v, DER_CTX_CONS(0));
    qpki_status rc = x509_gn_uri(&v, uri);
    der_end(&v, full);
    der_end(&v, dp);
    der_end(&v, point);
    der_end(&v, points);
    if (rc != QPKI_OK) {
        der_buf_free(&v);
        return rc;
    }
    uint8_t *value;
    size_t len;
    QPKI_GUARD(der_buf_finish(&v, &value, &len));
    rc = x509_ext_list_put(&b->exts, OID_CE_FRESHEST_CRL, false, X509_EXT_RAW, value, len, true);
    qpki_free(value);
    return rc;
}

qpki_status qpki_crl_builder_add_entry(qpki_crl_builder *b, const uint8_t *serial, size_t len,
                                       qpki_time revocation_date, qpki_crl_reason reason,
                                       qpki_hold_instruction hold, qpki_time invalidity_date)
{
    QPKI_ENSURE(b && (serial || len == 0), QPKI_ERR_INVALID_ARG);
    while (len > 0 && serial[0] == 0) {
        serial++;
        len--;
    }
    QPKI_ENSURE(len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(reason == QPKI_REASON_NONE || (reason >= QPKI_REASON_UNSPECIFIED &&
                                               reason <= QPKI_REASON_AA_COMPROMISE &&
                                               (int)reason != 7),
                QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §5.3.2: the hold instruction code goes with certificateHold. */
    QPKI_ENSURE(hold == QPKI_HOLD_INSTRUCTION_ABSENT ||
                    (reason == QPKI_REASON_CERTIFICATE_HOLD &&
                     hold >= QPKI_HOLD_INSTRUCTION_NONE && hold <= QPKI_HOLD_INSTRUCTION_REJECT),
                QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(time_encodable(revocation_date) && time_encodable(invalidity_date),
                QPKI_ERR_BAD_TIME);
    QPKI_ENSURE(b->entry_count < QPKI_CRL_MAX_ENTRIES, QPKI_ERR_LIMIT);
    der_buf *d = &b->entries;
    size_t before = d->len;
    size_t ent = der_begin(d, DER_SEQUENCE);
    der_put_uint_bytes(d, serial, len);
    der_put_x509_time(d, revocation_date);
    if (reason != QPKI_REASON_NONE || hold != QPKI_HOLD_INSTRUCTION_ABSENT || invalidity_date) {
        size_t exts = der_begin(d, DER_SEQUENCE);
        uint8_t v[32];
        der_buf t;
        if (reason != QPKI_REASON_NONE) {
            /* RFC 5280 §5.3.1 reasonCode: CRLReason ::= ENUMERATED.  The RFC
             * prefers no extension to "unspecified"; an explicit unspecified in
             * the source is kept, so that OCSP answers from this CRL and from the
             * source say the same (docs/CONFORMANCE.md). */
            v[0] = DER_ENUMERATED;
            v[1] = 1;
            v[2] = (uint8_t)reason;
            der_put_extension(d, OID_CE_CRL_REASON, false, v, 3);
        }
        if (hold != QPKI_HOLD_INSTRUCTION_ABSENT) {
            /* RFC 5280 §5.3.2: HoldInstructionCode ::= OBJECT IDENTIFIER */
            der_oid code = hold == QPKI_HOLD_INSTRUCTION_NONE ? OID_HOLD_INSTRUCTION_NONE
                           : hold == QPKI_HOLD_INSTRUCTION_CALL_ISSUER
                               ? OID_HOLD_INSTRUCTION_CALL_ISSUER
                               : OID_HOLD_INSTRUCTION_REJECT;
            der_buf_init(&t, sizeof(v));
            der_put_oid(&t, code);
            if (t.err == QPKI_OK)
                der_put_extension(d, OID_CE_HOLD_INSTRUCTION, false, t.p, t.len);
            der_buf_free(&t);
        }
        if (invalidity_date) {
            /* RFC 5280 §5.3.2: InvalidityDate ::= GeneralizedTime */
            der_buf_init(&t, sizeof(v));
            der_put_generalized_time(&t, invalidity_date);
            if (t.err == QPKI_OK)
                der_put_extension(d, OID_CE_INVALIDITY_DATE, false, t.p, t.len);
            der_buf_free(&t);
        }
        der_end(d, exts);
    }
    der_end(d, ent);
    if (d->err != QPKI_OK) {
        qpki_status rc = d->err;
        /* Keep the entries written so far usable. */
        d->err = QPKI_OK;
        d->len = before;
        d->open = 0;
        return rc;
    }
    b->entry_count++;
    if (reason == QPKI_REASON_REMOVE_FROM_CRL)
        b->remove_from_crl = true;
    return QPKI_OK;
}

size_t qpki_crl_builder_entry_count(const qpki_crl_builder *b)
{
    return b ? b->entry_count : 0;
}

/* ---- encoding and signing ----------------------------------------------------------------- */

/* RFC 5280 §5.1 TBSCertList (see lib/x509/crl.c), version v2, with the signature
 * field only when sig_alg.n; extra (encoded Extension TLVs) goes last. */
static qpki_status encode_tbs(const qpki_crl_builder *b, der_view sig_alg, der_view extra,
                              uint8_t **der, size_t *len)
{
    der_buf t;
    der_buf_init(&t, QPKI_CRL_MAX_SIZE);
    size_t tbs = der_begin(&t, DER_SEQUENCE);
    der_put_uint64(&t, 1); /* v2 */
    if (sig_alg.n)
        der_put_bytes(&t, sig_alg.p, sig_alg.n);
    der_put_bytes(&t, b->issuer, b->issuer_len);
    /* §5.1.2.4/§5.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
    der_put_x509_time(&t, b->this_update);
    der_put_x509_time(&t, b->next_update);
    /* §5.1.2.6: "When there are no revoked certificates, the revoked
     * certificates list MUST be absent." */
    if (b->entry_count) {
        size_t list = der_begin(&t, DER_SEQUENCE);
        der_put_bytes(&t, b->entries.p, b->entries.len);
        der_end(&t, list);
    }
    size_t ctx = der_begin(&t, DER_CTX_CONS(0));
    size_t seq = der_begin(&t, DER_SEQUENCE);
    /* AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] KeyIdentifier } */
    uint8_t aki[2 + 2 + sizeof(b->key_id)];
    aki[0] = DER_SEQUENCE;
    aki[1] = (uint8_t)(2 + b->key_id_len);
    aki[2] = DER_CTX(0);
    aki[3] = (uint8_t)b->key_id_len;
    memcpy(aki + 4, b->key_id, b->key_id_len);
    der_put_extension(&t, OID_CE_AUTHORITY_KEY_ID, false, aki, 4 + b->key_id_len);
    /* §5.2.3: cRLNumber, non-critical; §5.2.4: deltaCRLIndicator, critical. */
    der_buf nb;
    der_buf_init(&nb, QPKI_CRL_NUMBER_MAX + 4);
    der_put_uint_bytes(&nb, b->number, b->number_len);
    if (nb.err == QPKI_OK)
        der_put_extension(&t, OID_CE_CRL_NUMBER, false, nb.p, nb.len);
    if (b->has_base) {
        nb.len = 0;
        der_put_uint_bytes(&nb, b->base, b->base_len);
        if (nb.err == QPKI_OK)
            der_put_extension(&t, OID_CE_DELTA_CRL_INDICATOR, true, nb.p, nb.len);
    }
    qpki_status nrc = nb.err;
    der_buf_free(&nb);
    for (size_t i = 0; i < b->exts.n; i++) {
        const x509_ext_item *it = &b->exts.items[i];
        der_put_extension(&t, (der_oid){it->oid, it->oid_len}, it->critical, it->value,
                          it->value_len);
    }
    der_put_bytes(&t, extra.p, extra.n);
    der_end(&t, seq);
    der_end(&t, ctx);
    der_end(&t, tbs);
    if (nrc != QPKI_OK) {
        der_buf_free(&t);
        return nrc;
    }
    return der_buf_finish(&t, der, len);
}

/* The signer and (for hybrid) alternative signer against the issuer's keys. */
static qpki_status check_ready(const qpki_crl_builder *b)
{
    QPKI_ENSURE(b->issuer && b->has_times && b->has_number, QPKI_ERR_INVALID_ARG);
    /* RFC 5280 §5.3.1: "removeFromCRL ... is for use with delta CRLs only." */
    QPKI_ENSURE(!b->remove_from_crl || b->has_base, QPKI_ERR_INVALID_ARG);
    return QPKI_OK;
}

qpki_status qpki_crl_builder_sign(const qpki_crl_builder *b, qpki_signer *signer, uint8_t **der,
                                  size_t *len)
{
    QPKI_ENSURE(b && signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_GUARD(check_ready(b));
    der_view alg, spki, bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &bits));
    QPKI_ENSURE(der_view_eq(spki, b->issuer_spki, b->issuer_spki_len), QPKI_ERR_KEY_MISMATCH);
    uint8_t *tbs = NULL, *out = NULL;
    size_t tbs_len = 0, out_len = 0;
    qpki_crl *check = NULL;
    qpki_status rc;
    QPKI_CHECK(encode_tbs(b, alg, (der_view){NULL, 0}, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CRL_MAX_SIZE, &out,
                                  &out_len));
    /* What we issue, we must be able to read back. */
    QPKI_CHECK(qpki_crl_parse(out, out_len, &check));
    *der = out;
    *len = out_len;
    out = NULL;
out:
    qpki_crl_free(&check);
    qpki_free(out);
    qpki_free(tbs);
    return rc;
}

/* ITU-T X.509 §9.8 on a CRL, step by step as qpki_cert_builder_sign_hybrid:
 *   1. append altSignatureAlgorithm (2.5.29.73) = alt_signer's AlgorithmIdentifier;
 *   2. alt TBS = TBSCertList without `signature`, with every extension so far
 *      (§7.2.2: "with the signature component and the altSignatureValue
 *      extension removed"); altSig = alt_signer(alt TBS);
 *   3. append altSignatureValue (2.5.29.74) = BIT STRING altSig;
 *   4. TBSCertList with `signature`, signed by signer.
 * Both extensions are non-critical (§9.8.3 NOTE 2). */
qpki_status qpki_crl_builder_sign_hybrid(const qpki_crl_builder *b, qpki_signer *signer,
                                         qpki_signer *alt_signer, uint8_t **der, size_t *len)
{
    QPKI_ENSURE(b && signer && alt_signer && der && len, QPKI_ERR_INVALID_ARG);
    *der = NULL;
    *len = 0;
    QPKI_GUARD(check_ready(b));
    der_view alg, spki, bits, alt_alg, alt_spki, alt_bits;
    QPKI_GUARD(x509_signer_info(signer, &alg, &spki, &bits));
    QPKI_GUARD(x509_signer_info(alt_signer, &alt_alg, &alt_spki, &alt_bits));
    QPKI_ENSURE(der_view_eq(spki, b->issuer_spki, b->issuer_spki_len), QPKI_ERR_KEY_MISMATCH);
    /* §9.8.4: verified "using the alternative public key of the issuer". */
    QPKI_ENSURE(b->issuer_alt_spki &&
                    der_view_eq(alt_spki, b->issuer_alt_spki, b->issuer_alt_spki_len),
                QPKI_ERR_KEY_MISMATCH);
    uint8_t *alt_tbs = NULL, *alt_sig = NULL, *tbs = NULL, *out = NULL, *again = NULL;
    size_t alt_tbs_len = 0, alt_sig_len = 0, tbs_len = 0, out_len = 0, again_len = 0;
    qpki_crl *check = NULL;
    qpki_status rc;
    der_buf extra, sigval;
    der_buf_init(&extra, QPKI_CERT_MAX_SIZE);
    der_buf_init(&sigval, QPKI_CERT_MAX_SIZE);
    der_put_extension(&extra, OID_CE_ALT_SIG_ALG, false, alt_alg.p, alt_alg.n);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_tbs(b, (der_view){NULL, 0}, (der_view){extra.p, extra.len}, &alt_tbs,
                          &alt_tbs_len));
    QPKI_CHECK(x509_sign_checked(alt_signer, alt_alg, alt_spki, alt_tbs, alt_tbs_len, &alt_sig,
                                 &alt_sig_len));
    der_put_bit_string(&sigval, alt_sig, alt_sig_len, 0);
    QPKI_CHECK(sigval.err);
    der_put_extension(&extra, OID_CE_ALT_SIG_VALUE, false, sigval.p, sigval.len);
    QPKI_CHECK(extra.err);
    QPKI_CHECK(encode_tbs(b, alg, (der_view){extra.p, extra.len}, &tbs, &tbs_len));
    QPKI_CHECK(x509_sign_and_wrap(signer, alg, spki, tbs, tbs_len, QPKI_CRL_MAX_SIZE, &out,
                                  &out_len));
    /* Read back, and a verifier's re-encoding must give the bytes we signed. */
    QPKI_CHECK(qpki_crl_parse(out, out_len, &check));
    QPKI_CHECK(x509_crl_tbs_reencode(check, true, OID_CE_ALT_SIG_VALUE, &again, &again_len));
    if (again_len != alt_tbs_len || memcmp(again, alt_tbs, alt_tbs_len) != 0)
        QPKI_FAIL(QPKI_ERR_INTERNAL);
    *der = out;
    *len = out_len;
    out = NULL;
out:
    qpki_crl_free(&check);
    qpki_free(again);
    qpki_free(out);
    qpki_free(tbs);
    qpki_free(alt_sig);
    qpki_free(alt_tbs);
    der_buf_free(&sigval);
    der_buf_free(&extra);
    return rc;
}
