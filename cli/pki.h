/* SPDX-License-Identifier: Apache-2.0 */
/* cli/pki.h - issuing certificates from profiles, CA directories and
 * credentials: what ca init, cert issue and credential enroll/rotate share. */
#ifndef QPKI_CLI_PKI_H
#define QPKI_CLI_PKI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qpki/ca.h>
#include <qpki/cert.h>
#include <qpki/key.h>
#include <qpki/signer.h>

#include "db.h"
#include "profile.h"

/* ---- keys ------------------------------------------------------------------------ */

/* Generate the key a profile asks for.  Prints errors ("not yet supported" for
 * algorithms this build lacks). */
bool pki_generate_key(const struct profile *p, qpki_key **out);
/* Generate the Catalyst alternative (ML-DSA) key of a hybrid profile. */
bool pki_generate_alt_key(const struct profile *p, qpki_key **out);
/* Generate by algorithm name ("ecdsa-p256").  Prints errors. */
bool pki_generate_key_named(const char *algo, qpki_key **out);
/* A software signer for a key held in memory. */
bool pki_key_signer(const qpki_key *key, qpki_signer **out);
/* Write the key as PKCS#8 PEM, mode 0600, encrypted when passphrase is set;
 * exclusive: never replace an existing file.  Prints errors. */
bool pki_write_key(const qpki_key *key, const char *path, const char *passphrase,
                   bool exclusive);
/* Write a certificate as PEM.  Prints errors. */
bool pki_write_cert(const qpki_cert *cert, const char *path, bool exclusive);

/* ---- building certificates --------------------------------------------------------- */

struct issue_params {
    const struct profile *profile;
    const struct vars *vars;        /* resolved (profile_resolve) */
    const uint8_t *spki;            /* subject public key */
    size_t spki_len;
    const uint8_t *subject_der;     /* NULL: the profile's subject template */
    size_t subject_len;
    const uint8_t *csr_san;         /* SAN requested in a CSR, or NULL */
    size_t csr_san_len;
    const uint8_t *alt_spki;        /* Catalyst: the subject's ML-DSA public key,
                                       put in altSubjectPublicKeyInfo; or NULL */
    size_t alt_spki_len;
};

/* Build and sign a certificate.  issuer NULL: self-signed (signer holds the
 * subject's own key).  The validity starts one minute ago (clock skew) and lasts
 * the profile's validity, cut at the issuer's notAfter.
 *
 * Catalyst (ITU-T X.509 §9.8, DESIGN §5): ip->alt_spki becomes the non-critical
 * altSubjectPublicKeyInfo extension (2.5.29.72); with alt_signer (the issuer's
 * ML-DSA key) the certificate also gets altSignatureAlgorithm (2.5.29.73) and
 * altSignatureValue (2.5.29.74), the alternative signature computed over the
 * TBSCertificate encoded without its signature field and without 2.5.29.74; the
 * classical signature then covers everything.  Prints errors. */
bool pki_build_cert(const struct issue_params *ip, const qpki_cert *issuer, qpki_signer *signer,
                    qpki_signer *alt_signer, const uint8_t *serial, size_t serial_len,
                    qpki_cert **out);
/* The altSubjectPublicKeyInfo (2.5.29.72) value of a certificate: a
 * SubjectPublicKeyInfo; false when absent. */
bool pki_cert_alt_spki(const qpki_cert *cert, const uint8_t **spki, size_t *len);
/* The Catalyst key of a CA directory, next to ca.key. */
#define CA_ALT_KEY_FILE "ca.alt.key"

/* ---- CA directories --------------------------------------------------------------- */

struct ca_ctx {
    char dir[PATH_MAX];
    qpki_cert *cert;
    qpki_signer *signer;
    qpki_signer *alt_signer;        /* Catalyst CA: ca.alt.key, else NULL */
    qpki_ca_store *store;
};

/* Open a CA directory: ca.crt, ca.key (passphrase from env/file when the key is
 * encrypted), ca.alt.key for a Catalyst CA, and the store (index.txt, serial).
 * Prints errors. */
bool ca_open(const char *dir, const char *passphrase_env, const char *passphrase_file,
             struct ca_ctx *ca);
void ca_close(struct ca_ctx *ca);

/* Issue with the CA: next serial, build, sign, record (certs/<SERIAL>.pem and
 * an index.txt row).  Prints errors. */
bool ca_issue(struct ca_ctx *ca, const struct issue_params *ip, qpki_cert **out);
/* The same with the status database as the CA's record: the serial comes from the
 * directory's serial file (one already in the database is skipped), the
 * certificate goes to certs/<SERIAL>.pem and its V row to the database (one
 * transaction); index.txt is not touched.  On failure nothing is left behind. */
bool ca_issue_db(struct ca_ctx *ca, const struct issue_params *ip, struct cli_db *db,
                 qpki_cert **out);

/* ---- text helpers ------------------------------------------------------------------- */

/* Value of the first attribute `attr` ("CN") in RFC 4514 text, unescaped. */
bool pki_rdn_value(const char *rfc4514, const char *attr, char *out, size_t size);
/* Serial of a certificate as upper-case hex (even digits). */
void pki_cert_serial_hex(const qpki_cert *cert, char *buf, size_t size);
/* Subject as RFC 4514 text ("(unprintable)" on failure). */
void pki_subject(const qpki_cert *cert, char *buf, size_t size);

#endif
