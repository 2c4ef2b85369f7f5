/* SPDX-License-Identifier: Apache-2.0 */
/* cli/pki.c - keys, certificate building from profiles, CA directories. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "pki.h"

/* ---- keys ---------------------------------------------------------------------------- */

static bool generate(qpki_key_alg alg, unsigned bits, const char *name, qpki_key **out)
{
    qpki_status st = qpki_key_generate(alg, bits, out);
    if (st == QPKI_ERR_UNSUPPORTED || st == QPKI_ERR_UNSUPPORTED_ALGORITHM) {
        cli_error("%s keys are not yet supported by this build of libqpki-ocsp", name);
        return false;
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot generate a %s key", name);
        return false;
    }
    return true;
}

bool pki_generate_key(const struct profile *p, qpki_key **out)
{
    qpki_key_alg alg;
    unsigned bits = 0;
    *out = NULL;
    if (!profile_key_alg(p, &alg, &bits))
        return false;
    return generate(alg, bits, p->algorithm, out);
}

bool pki_generate_alt_key(const struct profile *p, qpki_key **out)
{
    qpki_key_alg alg;
    *out = NULL;
    if (!profile_alt_key_alg(p, &alg))
        return false;
    return generate(alg, 0, p->alt_algorithm, out);
}

bool pki_generate_key_named(const char *algo, qpki_key **out)
{
    qpki_key_alg alg;
    unsigned bits = 0;
    *out = NULL;
    if (qpki_key_alg_from_name(algo, &alg, &bits) != QPKI_OK) {
        if (strncasecmp(algo, "ml-dsa", 6) == 0)
            cli_error("%s is not yet supported by this build of libqpki-ocsp", algo);
        else
            cli_usage_error("unknown algorithm '%s' (ecdsa-p256, ecdsa-p384, ecdsa-p521, "
                            "rsa-2048, rsa-3072, rsa-4096, ed25519, ed448, ml-dsa-44, "
                            "ml-dsa-65, ml-dsa-87)",
                            algo);
        return false;
    }
    return generate(alg, bits, algo, out);
}

bool pki_key_signer(const qpki_key *key, qpki_signer **out)
{
    uint8_t *der = NULL;
    size_t len = 0;
    *out = NULL;
    qpki_status st = qpki_key_export(key, QPKI_KEY_FORMAT_DER, NULL, &der, &len);
    if (st == QPKI_OK)
        st = qpki_signer_software_from_bytes(der, len, NULL, QPKI_SIG_UNKNOWN, out);
    qpki_key_buffer_free(der, len);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot make a signer for the %s key",
                     qpki_key_alg_name(qpki_key_algorithm(key)));
        return false;
    }
    return true;
}

bool pki_write_key(const qpki_key *key, const char *path, const char *passphrase,
                   bool exclusive)
{
    qpki_status st = qpki_key_write_file(key, path, QPKI_KEY_FORMAT_PEM, passphrase,
                                         exclusive ? QPKI_KEY_WRITE_NO_OVERWRITE : 0u);
    if (st == QPKI_ERR_EXISTS) {
        cli_error("%s already exists (not overwritten)", path);
        return false;
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot write the private key %s", path);
        return false;
    }
    return true;
}

bool pki_write_cert(const qpki_cert *cert, const char *path, bool exclusive)
{
    const uint8_t *der;
    size_t len;
    qpki_cert_der(cert, &der, &len);
    char *pem = cli_pem("CERTIFICATE", der, len);
    if (!pem) {
        cli_error("out of memory");
        return false;
    }
    bool ok = cli_write_file(path, (const uint8_t *)pem, strlen(pem), 0644, exclusive);
    free(pem);
    return ok;
}

/* ---- text helpers ---------------------------------------------------------------------- */

bool pki_rdn_value(const char *text, const char *attr, char *out, size_t size)
{
    size_t alen = strlen(attr);
    const char *p = text;
    for (;;) {
        if (strncasecmp(p, attr, alen) == 0 && p[alen] == '=') {
            size_t k = 0;
            for (p += alen + 1; *p && *p != ',' && *p != '+'; p++) {
                if (*p == '\\' && p[1])
                    p++;
                if (k + 1 >= size)
                    return false;
                out[k++] = *p;
            }
            out[k] = '\0';
            return true;
        }
        /* Skip to the next RDN (an unescaped ','). */
        while (*p && *p != ',') {
            if (*p == '\\' && p[1])
                p++;
            p++;
        }
        if (!*p)
            return false;
        p++;
    }
}

void pki_cert_serial_hex(const qpki_cert *cert, char *buf, size_t size)
{
    const uint8_t *s;
    size_t n;
    qpki_cert_serial(cert, &s, &n);
    while (n > 1 && s[0] == 0) {
        s++;
        n--;
    }
    if (2 * n + 1 > size) {
        snprintf(buf, size, "(long)");
        return;
    }
    cli_hex_upper(s, n, buf);
}

void pki_subject(const qpki_cert *cert, char *buf, size_t size)
{
    if (qpki_cert_subject_text(cert, buf, size) != QPKI_OK)
        snprintf(buf, size, "(unprintable)");
}

/* ---- building -------------------------------------------------------------------------- */

bool pki_cert_alt_spki(const qpki_cert *cert, const uint8_t **spki, size_t *len)
{
    return qpki_cert_alt_spki(cert, spki, len) == QPKI_OK;
}

bool pki_build_cert(const struct issue_params *ip, const qpki_cert *issuer, qpki_signer *signer,
                    qpki_signer *alt_signer, const uint8_t *serial, size_t serial_len,
                    qpki_cert **out)
{
    qpki_cert_builder *b = NULL;
    uint8_t *subject = NULL, *der = NULL;
    size_t subject_len = ip->subject_len, der_len = 0;
    bool ok = false;
    qpki_status st;
    *out = NULL;

    if ((st = qpki_cert_builder_new(&b)) != QPKI_OK) {
        cli_error_st(st, "certificate builder");
        goto done;
    }
    if ((st = qpki_cert_builder_set_serial(b, serial, serial_len)) != QPKI_OK) {
        cli_error_st(st, "serial number");
        goto done;
    }
    const uint8_t *subj = ip->subject_der;
    if (!subj) {
        if (!profile_subject_der(ip->profile, ip->vars, &subject, &subject_len))
            goto done;
        subj = subject;
    }
    if (issuer) {
        st = qpki_cert_builder_set_issuer_cert(b, issuer);
    } else {
        /* Self-signed: RFC 5280 §3.2 "the issuer and subject fields contain the
         * same name". */
        st = qpki_cert_builder_set_issuer(b, subj, subject_len);
        if (st == QPKI_OK && ip->profile->authority_key_id)
            st = qpki_cert_builder_set_authority_key_id(b, NULL, 0);
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "issuer");
        goto done;
    }

    qpki_time now = (qpki_time)time(NULL);
    qpki_time not_before = now - 60;
    qpki_time not_after = now + ip->profile->validity;
    if (issuer && not_after > qpki_cert_not_after(issuer)) {
        char when[32];
        cli_format_time(qpki_cert_not_after(issuer), when, sizeof(when));
        cli_warn("validity cut to the issuing CA's notAfter (%s)", when);
        not_after = qpki_cert_not_after(issuer);
    }
    if (issuer && now < qpki_cert_not_before(issuer)) {
        cli_error("the issuing CA certificate is not valid yet");
        goto done;
    }
    if (issuer && now > qpki_cert_not_after(issuer)) {
        cli_error("the issuing CA certificate has expired");
        goto done;
    }
    if ((st = qpki_cert_builder_set_validity(b, not_before, not_after)) != QPKI_OK) {
        cli_error_st(st, "validity");
        goto done;
    }
    if ((st = qpki_cert_builder_set_spki(b, ip->spki, ip->spki_len)) != QPKI_OK) {
        cli_error_st(st, "subject public key");
        goto done;
    }
    if (!profile_apply(ip->profile, ip->vars, subj, subject_len, ip->csr_san, ip->csr_san_len,
                       b))
        goto done;
    if (ip->alt_spki &&
        (st = qpki_cert_builder_set_alt_spki(b, ip->alt_spki, ip->alt_spki_len)) != QPKI_OK) {
        cli_error_st(st, "Catalyst: altSubjectPublicKeyInfo");
        goto done;
    }
    /* Catalyst CA: the library adds altSignatureAlgorithm/altSignatureValue over
     * the TBSCertificate without its signature field and without .74. */
    st = alt_signer ? qpki_cert_builder_sign_hybrid(b, signer, alt_signer, &der, &der_len)
                    : qpki_cert_builder_sign(b, signer, &der, &der_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot sign the certificate");
        goto done;
    }
    if ((st = qpki_cert_parse(der, der_len, out)) != QPKI_OK) {
        cli_error_st(st, "the new certificate does not parse");
        goto done;
    }
    ok = true;
done:
    qpki_free(der);
    qpki_free(subject);
    qpki_cert_builder_free(&b);
    return ok;
}

/* ---- CA directories ------------------------------------------------------------------- */

bool ca_open(const char *dir, const char *passphrase_env, const char *passphrase_file,
             struct ca_ctx *ca)
{
    char path[PATH_MAX];
    memset(ca, 0, sizeof(*ca));
    if (!cli_path(ca->dir, sizeof(ca->dir), "%s", dir))
        return false;
    if (!cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_CERT_FILE))
        return false;
    if (!cli_path_exists(path)) {
        cli_error("%s is not a CA directory (no %s; create one with qpki ca init)", dir,
                  QPKI_CA_CERT_FILE);
        return false;
    }
    if (!cli_load_cert(path, "CA certificate", &ca->cert))
        goto fail;
    if (!qpki_cert_is_ca(ca->cert))
        cli_warn("%s is not a CA certificate (basicConstraints cA is not set)", path);
    if (!cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_KEY_FILE))
        goto fail;
    if (!cli_load_key_signer(path, passphrase_env, passphrase_file, &ca->signer))
        goto fail;
    if (!cli_path(path, sizeof(path), "%s/%s", dir, CA_ALT_KEY_FILE))
        goto fail;
    if (cli_path_exists(path)) {
        const uint8_t *want, *have;
        size_t want_len, have_len;
        if (!cli_load_key_signer(path, passphrase_env, passphrase_file, &ca->alt_signer))
            goto fail;
        if (!pki_cert_alt_spki(ca->cert, &want, &want_len) ||
            qpki_signer_public_key(ca->alt_signer, &have, &have_len) != QPKI_OK ||
            want_len != have_len || memcmp(want, have, have_len) != 0) {
            cli_error("%s does not match the altSubjectPublicKeyInfo of %s/%s", path, dir,
                      QPKI_CA_CERT_FILE);
            goto fail;
        }
    }
    qpki_status st = qpki_ca_store_open(dir, &ca->store);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot open the CA store in %s (index.txt)", dir);
        goto fail;
    }
    return true;
fail:
    ca_close(ca);
    return false;
}

void ca_close(struct ca_ctx *ca)
{
    qpki_cert_free(&ca->cert);
    qpki_signer_free(&ca->signer);
    qpki_signer_free(&ca->alt_signer);
    qpki_ca_store_free(&ca->store);
}

bool ca_issue(struct ca_ctx *ca, const struct issue_params *ip, qpki_cert **out)
{
    uint8_t serial[32];
    size_t serial_len = 0;
    *out = NULL;
    qpki_status st = qpki_ca_store_next_serial(ca->store, serial, sizeof(serial), &serial_len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca->store);
        cli_error("cannot allocate a serial number in %s: %s", ca->dir,
                  why[0] ? why : qpki_strerror(st));
        return false;
    }
    if (!pki_build_cert(ip, ca->cert, ca->signer, ca->alt_signer, serial, serial_len, out))
        return false;
    st = qpki_ca_store_add_cert(ca->store, *out);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca->store);
        cli_error("cannot record the certificate in %s: %s", ca->dir,
                  why[0] ? why : qpki_strerror(st));
        qpki_cert_free(out);
        return false;
    }
    return true;
}

bool ca_issue_db(struct ca_ctx *ca, const struct issue_params *ip, struct cli_db *db,
                 qpki_cert **out)
{
    uint8_t id[QPKI_DB_CA_ID_LEN];
    *out = NULL;
    qpki_status st = qpki_db_ca_id(ca->cert, id);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot compute the CA identifier");
        return false;
    }
    /* a serial the database already has (issued elsewhere) is skipped, a few times */
    for (int attempt = 0; attempt < 16; attempt++) {
        uint8_t serial[32];
        size_t serial_len = 0;
        st = qpki_ca_store_next_serial(ca->store, serial, sizeof(serial), &serial_len);
        if (st != QPKI_OK) {
            const char *why = qpki_ca_store_last_error(ca->store);
            cli_error("cannot allocate a serial number in %s: %s", ca->dir,
                      why[0] ? why : qpki_strerror(st));
            return false;
        }
        if (!pki_build_cert(ip, ca->cert, ca->signer, ca->alt_signer, serial, serial_len, out))
            return false;
        char hex[2 * sizeof(serial) + 1], file[80], path[PATH_MAX], subject[2048];
        cli_hex_upper(serial, serial_len, hex);
        snprintf(file, sizeof(file), "%s/%s.pem", QPKI_CA_CERTS_DIR, hex);
        if (!cli_path(path, sizeof(path), "%s/%s", ca->dir, file) ||
            (st = qpki_ca_subject_oneline(*out, subject, sizeof(subject))) != QPKI_OK) {
            if (st != QPKI_OK)
                cli_error_st(st, "cannot write the subject of the new certificate");
            qpki_cert_free(out);
            return false;
        }
        /* the file first (never replacing one), then the row: a failed insert
         * removes the file, so nothing is left half-recorded */
        if (!pki_write_cert(*out, path, true)) {
            qpki_cert_free(out);
            return false;
        }
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        e.row_status = 'V';
        e.expiry = qpki_cert_not_after(*out);
        qpki_db_row row = {
            .struct_size = (uint32_t)sizeof(row),
            .serial = serial,
            .serial_len = serial_len,
            .entry = &e,
            .filename = file,
            .subject = subject,
        };
        st = db->ops->insert(db->self, id, sizeof(id), &row);
        if (st == QPKI_OK)
            return true;
        unlink(path);
        qpki_cert_free(out);
        if (st != QPKI_ERR_EXISTS) {
            char why[1024];
            cli_error("cannot record the certificate in the database: %s",
                      cli_db_error(db, why, sizeof(why))[0] ? why : qpki_strerror(st));
            return false;
        }
        cli_warn("serial %s is already in the database; taking the next one", hex);
    }
    cli_error("the serial file of %s keeps naming serials the database already has; set it "
              "past the database's highest serial", ca->dir);
    return false;
}
