/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_print.c - human and JSON output for OCSP messages. */
#include <stdlib.h>
#include <string.h>

#include <qpki/limits.h>

#include "cli.h"
#include "doc.h"
#include "ocsp_print.h"

/* ---- OIDs ------------------------------------------------------------------------- */

void ocsp_oid_text(const uint8_t *oid, size_t len, char *buf, size_t size)
{
    qpki_status st = qpki_oid_to_text(oid, len, buf, size);
    if (st != QPKI_OK && st != QPKI_ERR_BUFFER_TOO_SMALL)
        snprintf(buf, size, "(bad OID)");
}

static const struct {
    const char *oid;
    const char *name;
} ext_names[] = {
    { "1.3.6.1.5.5.7.48.1.2", "OCSP Nonce" },
    { "1.3.6.1.5.5.7.48.1.3", "OCSP CRL ID" },
    { "1.3.6.1.5.5.7.48.1.4", "OCSP Acceptable Responses" },
    { "1.3.6.1.5.5.7.48.1.5", "OCSP No Check" },
    { "1.3.6.1.5.5.7.48.1.6", "OCSP Archive Cutoff" },
    { "1.3.6.1.5.5.7.48.1.7", "OCSP Service Locator" },
    { "1.3.6.1.5.5.7.48.1.8", "OCSP Preferred Signature Algorithms" },
    { "1.3.6.1.5.5.7.48.1.9", "OCSP Extended Revoke" },
    { "2.5.29.21", "X509v3 CRL Reason Code" },
    { "2.5.29.24", "Invalidity Date" },
    { "2.5.29.73", "Catalyst altSignatureAlgorithm" },
    { "2.5.29.74", "Catalyst altSignatureValue" },
};

static const char *ext_name(const char *dotted)
{
    for (size_t i = 0; i < sizeof(ext_names) / sizeof(ext_names[0]); i++)
        if (strcmp(ext_names[i].oid, dotted) == 0)
            return ext_names[i].name;
    return NULL;
}

/* OID of an AlgorithmIdentifier TLV ("1.2.840.10045.4.3.2"), for algorithms
 * without a name. */
static void alg_oid_text(const uint8_t *der, size_t len, char *buf, size_t size)
{
    snprintf(buf, size, "(unknown)");
    if (len < 4 || der[0] != 0x30)
        return;
    size_t i = 1, l = der[i++];
    if (l & 0x80) {
        size_t nl = l & 0x7f;
        if (nl > 2 || i + nl > len)
            return;
        l = 0;
        while (nl--)
            l = (l << 8) | der[i++];
    }
    if (i + 2 > len || der[i] != 0x06 || der[i + 1] > 0x7f || i + 2 + der[i + 1] > len)
        return;
    ocsp_oid_text(der + i + 2, der[i + 1], buf, size);
}

static void hex_upper(const uint8_t *p, size_t n, char *out)
{
    cli_hex_upper(p, n, out);
}

static void print_hex_block(FILE *f, const char *indent, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i += 18) {
        fputs(indent, f);
        for (size_t j = i; j < n && j < i + 18; j++)
            fprintf(f, "%02x%s", p[j], j + 1 < n ? ":" : "");
        fputc('\n', f);
    }
}

static void fmt_time(qpki_time t, char *buf, size_t size)
{
    cli_format_time_openssl(t, buf, size);
}

/* ---- CertID ------------------------------------------------------------------------ */

static void print_certid(FILE *f, const char *indent, const qpki_certid *id)
{
    const uint8_t *nh, *kh;
    size_t nhl, khl;
    char hex[2 * 64 + 1], serial[2 * QPKI_SERIAL_MAX + 3];
    qpki_certid_name_hash(id, &nh, &nhl);
    qpki_certid_key_hash(id, &kh, &khl);
    if (qpki_certid_serial_hex(id, serial, sizeof(serial)) != QPKI_OK)
        snprintf(serial, sizeof(serial), "?");
    fprintf(f, "%sCertificate ID:\n", indent);
    fprintf(f, "%s  Hash Algorithm: %s\n", indent, qpki_hash_alg_name(qpki_certid_hash_alg(id)));
    hex_upper(nh, nhl < 64 ? nhl : 64, hex);
    fprintf(f, "%s  Issuer Name Hash: %s\n", indent, hex);
    hex_upper(kh, khl < 64 ? khl : 64, hex);
    fprintf(f, "%s  Issuer Key Hash: %s\n", indent, hex);
    fprintf(f, "%s  Serial Number: %s\n", indent, serial);
}

static void json_certid(struct jw *w, const qpki_certid *id)
{
    const uint8_t *nh, *kh;
    size_t nhl, khl;
    char hex[2 * 64 + 1], serial[2 * QPKI_SERIAL_MAX + 3];
    qpki_certid_name_hash(id, &nh, &nhl);
    qpki_certid_key_hash(id, &kh, &khl);
    jw_string(w, "hash_algorithm", qpki_hash_alg_name(qpki_certid_hash_alg(id)));
    hex_upper(nh, nhl < 64 ? nhl : 64, hex);
    jw_string(w, "issuer_name_hash", hex);
    hex_upper(kh, khl < 64 ? khl : 64, hex);
    jw_string(w, "issuer_key_hash", hex);
    if (qpki_certid_serial_hex(id, serial, sizeof(serial)) != QPKI_OK)
        snprintf(serial, sizeof(serial), "?");
    jw_string(w, "serial", serial);
}

/* ---- extensions ------------------------------------------------------------------------ */

typedef qpki_status (*ext_get_fn)(const void *obj, size_t i, const uint8_t **oid,
                                  size_t *oid_len, bool *critical, const uint8_t **value,
                                  size_t *value_len);

static qpki_status resp_ext(const void *o, size_t i, const uint8_t **oid, size_t *ol, bool *c,
                            const uint8_t **v, size_t *vl)
{
    return qpki_ocsp_response_extension(o, i, oid, ol, c, v, vl);
}

static qpki_status single_ext(const void *o, size_t i, const uint8_t **oid, size_t *ol,
                              bool *c, const uint8_t **v, size_t *vl)
{
    return qpki_ocsp_single_extension(o, i, oid, ol, c, v, vl);
}

static qpki_status req_ext(const void *o, size_t i, const uint8_t **oid, size_t *ol, bool *c,
                           const uint8_t **v, size_t *vl)
{
    return qpki_ocsp_request_extension(o, i, oid, ol, c, v, vl);
}

static void print_extensions(FILE *f, const char *indent, const char *title, const void *obj,
                             size_t n, ext_get_fn get)
{
    if (n == 0)
        return;
    fprintf(f, "%s%s:\n", indent, title);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        bool critical;
        if (get(obj, i, &oid, &oid_len, &critical, &value, &value_len) != QPKI_OK)
            continue;
        char dotted[128];
        ocsp_oid_text(oid, oid_len, dotted, sizeof(dotted));
        const char *name = ext_name(dotted);
        fprintf(f, "%s    %s%s%s:%s\n", indent, name ? name : dotted, name ? "" : "",
                "", critical ? " critical" : "");
        char sub[64];
        snprintf(sub, sizeof(sub), "%s        ", indent);
        print_hex_block(f, sub, value, value_len < 256 ? value_len : 256);
        if (value_len > 256)
            fprintf(f, "%s(%zu bytes)\n", sub, value_len);
    }
}

static void json_extensions(struct jw *w, const char *key, const void *obj, size_t n,
                            ext_get_fn get)
{
    jw_array_begin(w, key);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        bool critical;
        if (get(obj, i, &oid, &oid_len, &critical, &value, &value_len) != QPKI_OK)
            continue;
        char dotted[128];
        ocsp_oid_text(oid, oid_len, dotted, sizeof(dotted));
        char *hex = malloc(2 * value_len + 1);
        if (!hex)
            continue;
        cli_hex_upper(value, value_len, hex);
        jw_object_begin(w, NULL);
        jw_string(w, "oid", dotted);
        jw_string(w, "name", ext_name(dotted));
        jw_bool(w, "critical", critical);
        jw_string(w, "value", hex);
        jw_object_end(w);
        free(hex);
    }
    jw_array_end(w);
}

/* ---- responses ------------------------------------------------------------------------ */

void ocsp_warn_size(size_t size)
{
    if (size > QPKI_RESPONSE_WARN_SIZE)
        cli_warn("the response is %zu bytes, more than %d: it may not fit TLS stapling "
                 "buffers",
                 size, QPKI_RESPONSE_WARN_SIZE);
}

static void sig_alg_text(const qpki_ocsp_response *resp, char *buf, size_t size)
{
    qpki_sig_alg alg = qpki_ocsp_response_sig_alg(resp);
    if (alg != QPKI_SIG_UNKNOWN) {
        snprintf(buf, size, "%s", qpki_sig_alg_name(alg));
        return;
    }
    const uint8_t *der;
    size_t len;
    qpki_ocsp_response_sig_alg_der(resp, &der, &len);
    alg_oid_text(der, len, buf, size);
}

static void responder_id_text(const qpki_ocsp_response *resp, bool *by_key, char *buf,
                              size_t size)
{
    const uint8_t *value;
    size_t len;
    if (qpki_ocsp_response_responder_id(resp, by_key, &value, &len) != QPKI_OK) {
        snprintf(buf, size, "(none)");
        return;
    }
    if (*by_key) {
        if (2 * len + 1 > size)
            len = (size - 1) / 2;
        cli_hex_upper(value, len, buf);
    } else if (qpki_name_to_text(value, len, buf, size) != QPKI_OK) {
        snprintf(buf, size, "(unprintable name)");
    }
}

static bool has_catalyst(const qpki_ocsp_response *resp, size_t *alt_sig_len, char *alt_alg,
                         size_t alt_alg_size)
{
    bool found = false;
    alt_alg[0] = '\0';
    *alt_sig_len = 0;
    for (size_t i = 0; i < qpki_ocsp_response_extension_count(resp); i++) {
        const uint8_t *oid, *value;
        size_t oid_len, value_len;
        bool critical;
        if (qpki_ocsp_response_extension(resp, i, &oid, &oid_len, &critical, &value,
                                         &value_len) != QPKI_OK)
            continue;
        char dotted[128];
        ocsp_oid_text(oid, oid_len, dotted, sizeof(dotted));
        if (strcmp(dotted, "2.5.29.74") == 0) {
            found = true;
            /* the signature octets, without the BIT STRING header */
            const uint8_t *a, *sig;
            size_t a_len, sig_len;
            if (qpki_ocsp_response_alt_signature(resp, &a, &a_len, &sig, &sig_len) == QPKI_OK)
                *alt_sig_len = sig_len;
        } else if (strcmp(dotted, "2.5.29.73") == 0) {
            alg_oid_text(value, value_len, alt_alg, alt_alg_size);
            if (!strcmp(alt_alg, "2.16.840.1.101.3.4.3.17"))
                snprintf(alt_alg, alt_alg_size, "ML-DSA-44");
            else if (!strcmp(alt_alg, "2.16.840.1.101.3.4.3.18"))
                snprintf(alt_alg, alt_alg_size, "ML-DSA-65");
            else if (!strcmp(alt_alg, "2.16.840.1.101.3.4.3.19"))
                snprintf(alt_alg, alt_alg_size, "ML-DSA-87");
        }
    }
    return found;
}

void ocsp_print_response_text(FILE *f, const qpki_ocsp_response *resp)
{
    const uint8_t *der;
    size_t size;
    char t[64];
    qpki_ocsp_response_der(resp, &der, &size);
    qpki_ocsp_resp_status rs = qpki_ocsp_response_status(resp);
    fprintf(f, "OCSP Response Data:\n");
    fprintf(f, "    OCSP Response Status: %s (0x%x)\n", qpki_ocsp_resp_status_name(rs),
            (unsigned)rs);
    if (rs != QPKI_OCSP_RESP_SUCCESSFUL || !qpki_ocsp_response_is_basic(resp)) {
        if (rs == QPKI_OCSP_RESP_SUCCESSFUL)
        {
            const uint8_t *oid;
            size_t oid_len;
            char type[128] = "(absent)";
            if (qpki_ocsp_response_type(resp, &oid, &oid_len) == QPKI_OK)
                ocsp_oid_text(oid, oid_len, type, sizeof(type));
            fprintf(f, "    Response Type: %s (not id-pkix-ocsp-basic, not decoded)\n", type);
        }
        fprintf(f, "Response size: %zu bytes\n", size);
        return;
    }
    fprintf(f, "    Response Type: Basic OCSP Response\n");
    fprintf(f, "    Version: 1 (0x0)\n");
    bool by_key;
    char rid[1024];
    responder_id_text(resp, &by_key, rid, sizeof(rid));
    fprintf(f, "    Responder Id: %s%s\n", rid, by_key ? " (byKey)" : "");
    fmt_time(qpki_ocsp_response_produced_at(resp), t, sizeof(t));
    fprintf(f, "    Produced At: %s\n", t);
    fprintf(f, "    Responses:\n");
    for (size_t i = 0; i < qpki_ocsp_response_single_count(resp); i++) {
        const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, i);
        print_certid(f, "    ", qpki_ocsp_single_certid(s));
        qpki_cert_status cs = qpki_ocsp_single_status(s);
        fprintf(f, "    Cert Status: %s\n", qpki_cert_status_name(cs));
        if (cs == QPKI_CERT_STATUS_REVOKED) {
            fmt_time(qpki_ocsp_single_revocation_time(s), t, sizeof(t));
            fprintf(f, "    Revocation Time: %s\n", t);
            qpki_crl_reason r = qpki_ocsp_single_reason(s);
            if (r != QPKI_REASON_NONE) {
                const char *name = qpki_crl_reason_name(r);
                fprintf(f, "    Revocation Reason: %s (0x%x)\n", name ? name : "(unassigned)",
                        (unsigned)r);
            }
        }
        fmt_time(qpki_ocsp_single_this_update(s), t, sizeof(t));
        fprintf(f, "    This Update: %s\n", t);
        if (qpki_ocsp_single_next_update(s)) {
            fmt_time(qpki_ocsp_single_next_update(s), t, sizeof(t));
            fprintf(f, "    Next Update: %s\n", t);
        }
        print_extensions(f, "    ", "Single Extensions", s, qpki_ocsp_single_extension_count(s),
                         single_ext);
        fputc('\n', f);
    }
    print_extensions(f, "    ", "Response Extensions", resp,
                     qpki_ocsp_response_extension_count(resp), resp_ext);
    char alg[128];
    sig_alg_text(resp, alg, sizeof(alg));
    const uint8_t *sig;
    size_t sig_len;
    qpki_ocsp_response_signature(resp, &sig, &sig_len);
    fprintf(f, "    Signature Algorithm: %s\n", alg);
    fprintf(f, "    Signature: %zu bytes\n", sig_len);
    size_t alt_len;
    char alt_alg[64];
    if (has_catalyst(resp, &alt_len, alt_alg, sizeof(alt_alg)))
        fprintf(f, "    Alternative Signature Algorithm (Catalyst): %s\n"
                   "    Alternative Signature: %zu bytes\n",
                alt_alg[0] ? alt_alg : "(missing)", alt_len);
    size_t nc = qpki_ocsp_response_cert_count(resp);
    fprintf(f, "    Certificates: %zu\n", nc);
    for (size_t i = 0; i < nc; i++) {
        const qpki_cert *c = qpki_ocsp_response_cert(resp, i);
        char subject[1024], issuer[1024], nb[64], na[64], serial[80];
        if (qpki_cert_subject_text(c, subject, sizeof(subject)) != QPKI_OK)
            snprintf(subject, sizeof(subject), "(unprintable)");
        if (qpki_cert_issuer_text(c, issuer, sizeof(issuer)) != QPKI_OK)
            snprintf(issuer, sizeof(issuer), "(unprintable)");
        const uint8_t *sp;
        size_t sl;
        qpki_cert_serial(c, &sp, &sl);
        while (sl > 1 && sp[0] == 0) {
            sp++;
            sl--;
        }
        if (sl > 32)
            sl = 32;
        cli_hex_upper(sp, sl, serial);
        fmt_time(qpki_cert_not_before(c), nb, sizeof(nb));
        fmt_time(qpki_cert_not_after(c), na, sizeof(na));
        fprintf(f, "    Certificate:\n");
        fprintf(f, "        Subject: %s\n", subject);
        fprintf(f, "        Issuer: %s\n", issuer);
        fprintf(f, "        Serial Number: %s\n", serial);
        fprintf(f, "        Not Before: %s\n", nb);
        fprintf(f, "        Not After : %s\n", na);
        fprintf(f, "        Key: %s, signature %s\n", qpki_key_alg_name(qpki_cert_key_alg(c)),
                qpki_sig_alg_name(qpki_cert_sig_alg(c)));
        fprintf(f, "        OCSP Signing: %s, OCSP No Check: %s\n",
                qpki_cert_has_ocsp_signing(c) ? "yes" : "no",
                qpki_cert_has_ocsp_nocheck(c) ? "yes" : "no");
    }
    fprintf(f, "Response size: %zu bytes%s\n", size,
            size > QPKI_RESPONSE_WARN_SIZE ? " (larger than 16 KiB: may not fit stapling "
                                             "buffers)"
                                           : "");
}

bool ocsp_print_response_json(FILE *f, const qpki_ocsp_response *resp)
{
    struct jw w;
    char t[32];
    const uint8_t *der;
    size_t size;
    qpki_ocsp_response_der(resp, &der, &size);
    jw_init(&w);
    jw_object_begin(&w, NULL);
    jw_string(&w, "type", "response");
    qpki_ocsp_resp_status rs = qpki_ocsp_response_status(resp);
    jw_string(&w, "response_status", qpki_ocsp_resp_status_name(rs));
    jw_int(&w, "size", (long long)size);
    jw_bool(&w, "size_warning", size > QPKI_RESPONSE_WARN_SIZE);
    if (rs == QPKI_OCSP_RESP_SUCCESSFUL && qpki_ocsp_response_is_basic(resp)) {
        jw_string(&w, "response_type", "basic");
        bool by_key;
        char rid[1024];
        responder_id_text(resp, &by_key, rid, sizeof(rid));
        jw_object_begin(&w, "responder_id");
        jw_string(&w, by_key ? "by_key" : "by_name", rid);
        jw_object_end(&w);
        cli_format_time(qpki_ocsp_response_produced_at(resp), t, sizeof(t));
        jw_string(&w, "produced_at", t);
        jw_array_begin(&w, "responses");
        for (size_t i = 0; i < qpki_ocsp_response_single_count(resp); i++) {
            const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, i);
            jw_object_begin(&w, NULL);
            json_certid(&w, qpki_ocsp_single_certid(s));
            qpki_cert_status cs = qpki_ocsp_single_status(s);
            jw_string(&w, "cert_status", qpki_cert_status_name(cs));
            if (cs == QPKI_CERT_STATUS_REVOKED) {
                cli_format_time(qpki_ocsp_single_revocation_time(s), t, sizeof(t));
                jw_string(&w, "revocation_time", t);
                qpki_crl_reason r = qpki_ocsp_single_reason(s);
                jw_string(&w, "revocation_reason",
                          r == QPKI_REASON_NONE ? NULL : qpki_crl_reason_name(r));
            }
            cli_format_time(qpki_ocsp_single_this_update(s), t, sizeof(t));
            jw_string(&w, "this_update", t);
            if (qpki_ocsp_single_next_update(s)) {
                cli_format_time(qpki_ocsp_single_next_update(s), t, sizeof(t));
                jw_string(&w, "next_update", t);
            } else {
                jw_null(&w, "next_update");
            }
            json_extensions(&w, "extensions", s, qpki_ocsp_single_extension_count(s),
                            single_ext);
            jw_object_end(&w);
        }
        jw_array_end(&w);
        const uint8_t *nonce;
        size_t nonce_len;
        if (qpki_ocsp_response_nonce(resp, &nonce, &nonce_len) == QPKI_OK) {
            char hex[2 * QPKI_NONCE_MAX + 1];
            cli_hex_upper(nonce, nonce_len, hex);
            jw_string(&w, "nonce", hex);
        }
        json_extensions(&w, "extensions", resp, qpki_ocsp_response_extension_count(resp),
                        resp_ext);
        char alg[128];
        sig_alg_text(resp, alg, sizeof(alg));
        jw_string(&w, "signature_algorithm", alg);
        const uint8_t *sig;
        size_t sig_len;
        qpki_ocsp_response_signature(resp, &sig, &sig_len);
        jw_int(&w, "signature_size", (long long)sig_len);
        size_t alt_len;
        char alt_alg[64];
        if (has_catalyst(resp, &alt_len, alt_alg, sizeof(alt_alg))) {
            jw_string(&w, "alt_signature_algorithm", alt_alg[0] ? alt_alg : NULL);
            jw_int(&w, "alt_signature_size", (long long)alt_len);
        }
        jw_array_begin(&w, "certificates");
        for (size_t i = 0; i < qpki_ocsp_response_cert_count(resp); i++) {
            const qpki_cert *c = qpki_ocsp_response_cert(resp, i);
            char text[1024];
            jw_object_begin(&w, NULL);
            if (qpki_cert_subject_text(c, text, sizeof(text)) == QPKI_OK)
                jw_string(&w, "subject", text);
            if (qpki_cert_issuer_text(c, text, sizeof(text)) == QPKI_OK)
                jw_string(&w, "issuer", text);
            cli_format_time(qpki_cert_not_before(c), t, sizeof(t));
            jw_string(&w, "not_before", t);
            cli_format_time(qpki_cert_not_after(c), t, sizeof(t));
            jw_string(&w, "not_after", t);
            jw_bool(&w, "ocsp_signing", qpki_cert_has_ocsp_signing(c));
            jw_bool(&w, "ocsp_nocheck", qpki_cert_has_ocsp_nocheck(c));
            jw_object_end(&w);
        }
        jw_array_end(&w);
    } else if (rs == QPKI_OCSP_RESP_SUCCESSFUL) {
        const uint8_t *oid;
        size_t oid_len;
        char type[128] = "";
        if (qpki_ocsp_response_type(resp, &oid, &oid_len) == QPKI_OK)
            ocsp_oid_text(oid, oid_len, type, sizeof(type));
        jw_string(&w, "response_type", type);
    }
    jw_object_end(&w);
    const char *text = jw_finish(&w);
    bool ok = text && fputs(text, f) >= 0;
    jw_free(&w);
    return ok;
}

/* ---- requests ------------------------------------------------------------------------- */

void ocsp_print_request_text(FILE *f, const qpki_ocsp_request *req)
{
    const uint8_t *der;
    size_t size;
    qpki_ocsp_request_der(req, &der, &size);
    fprintf(f, "OCSP Request Data:\n");
    fprintf(f, "    Version: 1 (0x0)\n");
    const uint8_t *name;
    size_t name_len;
    if (qpki_ocsp_request_requestor_name(req, &name, &name_len) == QPKI_OK)
        fprintf(f, "    Requestor Name: (%zu bytes)\n", name_len);
    fprintf(f, "    Requestor List:\n");
    for (size_t i = 0; i < qpki_ocsp_request_count(req); i++)
        print_certid(f, "        ", qpki_ocsp_request_certid(req, i));
    print_extensions(f, "    ", "Request Extensions", req,
                     qpki_ocsp_request_extension_count(req), req_ext);
    const uint8_t *nonce;
    size_t nonce_len;
    if (qpki_ocsp_request_nonce(req, &nonce, &nonce_len) == QPKI_OK) {
        char hex[2 * QPKI_NONCE_MAX + 1];
        cli_hex_upper(nonce, nonce_len, hex);
        fprintf(f, "    Nonce: %s (%zu bytes)\n", hex, nonce_len);
    }
    fprintf(f, "    Signed: %s\n", qpki_ocsp_request_is_signed(req) ? "yes" : "no");
    fprintf(f, "Request size: %zu bytes\n", size);
}

bool ocsp_print_request_json(FILE *f, const qpki_ocsp_request *req)
{
    struct jw w;
    const uint8_t *der;
    size_t size;
    qpki_ocsp_request_der(req, &der, &size);
    jw_init(&w);
    jw_object_begin(&w, NULL);
    jw_string(&w, "type", "request");
    jw_int(&w, "size", (long long)size);
    jw_bool(&w, "signed", qpki_ocsp_request_is_signed(req));
    jw_array_begin(&w, "requests");
    for (size_t i = 0; i < qpki_ocsp_request_count(req); i++) {
        jw_object_begin(&w, NULL);
        json_certid(&w, qpki_ocsp_request_certid(req, i));
        jw_object_end(&w);
    }
    jw_array_end(&w);
    const uint8_t *nonce;
    size_t nonce_len;
    if (qpki_ocsp_request_nonce(req, &nonce, &nonce_len) == QPKI_OK) {
        char hex[2 * QPKI_NONCE_MAX + 1];
        cli_hex_upper(nonce, nonce_len, hex);
        jw_string(&w, "nonce", hex);
    }
    json_extensions(&w, "extensions", req, qpki_ocsp_request_extension_count(req), req_ext);
    jw_object_end(&w);
    const char *text = jw_finish(&w);
    bool ok = text && fputs(text, f) >= 0;
    jw_free(&w);
    return ok;
}

/* ---- statuses / verification ------------------------------------------------------------ */

void ocsp_print_statuses(FILE *f, const qpki_ocsp_response *resp)
{
    char t[32];
    for (size_t i = 0; i < qpki_ocsp_response_single_count(resp); i++) {
        const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, i);
        char serial[2 * QPKI_SERIAL_MAX + 3];
        if (qpki_certid_serial_hex(qpki_ocsp_single_certid(s), serial, sizeof(serial)) !=
            QPKI_OK)
            snprintf(serial, sizeof(serial), "?");
        qpki_cert_status cs = qpki_ocsp_single_status(s);
        fprintf(f, "%s: %s", serial, qpki_cert_status_name(cs));
        if (cs == QPKI_CERT_STATUS_REVOKED) {
            qpki_crl_reason r = qpki_ocsp_single_reason(s);
            cli_format_time(qpki_ocsp_single_revocation_time(s), t, sizeof(t));
            fprintf(f, "\n\tReason: %s\n\tRevocation Time: %s",
                    r == QPKI_REASON_NONE ? "(none given)" : qpki_crl_reason_name(r), t);
        }
        cli_format_time(qpki_ocsp_single_this_update(s), t, sizeof(t));
        fprintf(f, "\n\tThis Update: %s\n", t);
        if (qpki_ocsp_single_next_update(s)) {
            cli_format_time(qpki_ocsp_single_next_update(s), t, sizeof(t));
            fprintf(f, "\tNext Update: %s\n", t);
        }
    }
}

int ocsp_verify_and_print(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp, bool quiet)
{
    qpki_status st = qpki_ocsp_verifier_verify(v, resp);
    const char *detail = qpki_ocsp_verifier_detail(v);
    if (st != QPKI_OK) {
        fprintf(stderr, "Response verify FAILED: %s\n", detail[0] ? detail : qpki_strerror(st));
        return CLI_VERIFY_FAILED;
    }
    size_t alt_len;
    char alt_alg[64] = "";
    (void)has_catalyst(resp, &alt_len, alt_alg, sizeof(alt_alg));
    qpki_pq_result pq = qpki_ocsp_verifier_pq_result(v);
    if (!quiet) {
        printf("Response verify OK (%s)\n", detail);
        /* DESIGN §5: a Catalyst response carries a classical and an ML-DSA
         * signature; say which were checked (post-quantum covers the responder
         * certificate's binding to the CA too: qpki_pq_result). */
        char alg[128];
        const char *alt = alt_alg[0] ? alt_alg : "ML-DSA";
        sig_alg_text(resp, alg, sizeof(alg));
        switch (pq) {
        case QPKI_PQ_OK:
        case QPKI_PQ_UNCHAINED:
            if (alt_len) {
                printf("Signatures: classical: OK, post-quantum: OK (%s + %s)\n", alg, alt);
                break;
            }
            /* an ML-DSA response signature */
            __attribute__((fallthrough));
        case QPKI_PQ_PURE:
            printf("Signatures: post-quantum: OK (%s)\n", alg);
            break;
        case QPKI_PQ_NO_KEY:
            printf("Signatures: classical: OK (%s), post-quantum: not checked (%s)\n", alg, alt);
            break;
        default:
            printf("Signatures: classical: OK (%s), post-quantum: none\n", alg);
            break;
        }
        /* the verifier's detail says "signed by the CA" or "signed by delegated
         * responder ..." */
        bool delegated = strstr(detail, "delegated") != NULL;
        if (delegated && (pq == QPKI_PQ_OK || pq == QPKI_PQ_PURE))
            printf("Responder certificate: post-quantum signature by the CA: OK\n");
        ocsp_print_statuses(stdout, resp);
    }
    if (pq == QPKI_PQ_UNCHAINED)
        cli_warn("the responder certificate carries only a classical signature by the CA: the "
                 "post-quantum signature protects the response, not the responder's "
                 "certificate");
    if (pq == QPKI_PQ_NO_KEY)
        cli_warn("the response carries a Catalyst alternative signature (%s) but the signer "
                 "certificate has no altSubjectPublicKeyInfo: it was not checked",
                 alt_alg[0] ? alt_alg : "unknown algorithm");
    return CLI_OK;
}
