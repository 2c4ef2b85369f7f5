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

#include "profile.h"

/* ---- keys ------------------------------------------------------------------------ */

/* Generate the key a profile asks for.  Prints errors ("not yet supported" for
 * algorithms this build lacks). */
bool pki_generate_key(const struct profile *p, qpki_key **out);
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
};

/* Build and sign a certificate.  issuer NULL: self-signed (signer holds the
 * subject's own key).  The validity starts one minute ago (clock skew) and lasts
 * the profile's validity, cut at the issuer's notAfter.  Prints errors. */
bool pki_build_cert(const struct issue_params *ip, const qpki_cert *issuer, qpki_signer *signer,
                    const uint8_t *serial, size_t serial_len, qpki_cert **out);

/* ---- CA directories --------------------------------------------------------------- */

struct ca_ctx {
    char dir[PATH_MAX];
    qpki_cert *cert;
    qpki_signer *signer;
    qpki_ca_store *store;
};

/* Open a CA directory: ca.crt, ca.key (passphrase from env/file when the key is
 * encrypted) and the store (index.txt, serial).  Prints errors. */
bool ca_open(const char *dir, const char *passphrase_env, const char *passphrase_file,
             struct ca_ctx *ca);
void ca_close(struct ca_ctx *ca);

/* Issue with the CA: next serial, build, sign, record (certs/<SERIAL>.pem and
 * an index.txt row).  Prints errors. */
bool ca_issue(struct ca_ctx *ca, const struct issue_params *ip, qpki_cert **out);

/* ---- text helpers ------------------------------------------------------------------- */

/* Value of the first attribute `attr` ("CN") in RFC 4514 text, unescaped. */
bool pki_rdn_value(const char *rfc4514, const char *attr, char *out, size_t size);
/* Serial of a certificate as upper-case hex (even digits). */
void pki_cert_serial_hex(const qpki_cert *cert, char *buf, size_t size);
/* Subject as RFC 4514 text ("(unprintable)" on failure). */
void pki_subject(const qpki_cert *cert, char *buf, size_t size);

#endif
