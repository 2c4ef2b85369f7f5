/* SPDX-License-Identifier: Apache-2.0 */
/* cli/signer.c - the responder's signing identity from the command line:
 * --credential, --cert/--key, or --cert with an HSM key (--hsm-config). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/plugin.h>

#include "cli.h"

/* Open a key in an HSM through the PKCS#11 plugin; on failure print the plugin's
 * own message (it names the module, token, key or PIN variable at fault). */
bool cli_open_hsm_signer(const char *hsm_config, const char *label, const char *key_id,
                         const uint8_t *cert_spki, size_t spki_len, qpki_signer **signer)
{
    char err[512] = "";
    qpki_status st = qpki_signer_plugin_load(NULL, hsm_config, label, key_id, cert_spki,
                                             spki_len, signer, err, sizeof(err));
    if (st == QPKI_OK)
        return true;
    if (err[0])
        cli_error("cannot open the HSM key: %s", err);
    else
        cli_error_st(st, "cannot open the HSM key (%s)", hsm_config);
    return false;
}

bool cli_signer_opts_check(const struct cli_signer_opts *o)
{
    if (o->passphrase_env && o->passphrase_file) {
        cli_usage_error("--passphrase-env and --passphrase-file are mutually exclusive");
        return false;
    }
    if (o->credential) {
        if (o->cert || o->key || o->hsm_config || o->key_label || o->key_id) {
            cli_usage_error("--credential cannot be combined with --cert, --key, --hsm-config, "
                            "--key-label or --key-id");
            return false;
        }
        if (!*o->credential) {
            cli_usage_error("--credential needs a credential ID");
            return false;
        }
        return true;
    }
    if (o->hsm_config) {
        if (o->key) {
            cli_usage_error("--key and --hsm-config are mutually exclusive (the key is in the "
                            "HSM)");
            return false;
        }
        if (!o->cert) {
            cli_usage_error("--hsm-config needs --cert (the responder certificate)");
            return false;
        }
        if (!o->key_label && !o->key_id) {
            cli_usage_error("--hsm-config needs --key-label or --key-id");
            return false;
        }
        return true;
    }
    if (o->key_label || o->key_id) {
        cli_usage_error("--key-label and --key-id select an HSM key: they need --hsm-config");
        return false;
    }
    if (o->cert && !o->key) {
        cli_usage_error("--cert needs --key (or --hsm-config with --key-label/--key-id); to "
                        "sign with the CA key give --cert ca.crt --key ca.key");
        return false;
    }
    if (o->key && !o->cert) {
        cli_usage_error("--key needs --cert (the certificate of that key)");
        return false;
    }
    if (!o->cert) {
        cli_usage_error("no signing key: give --credential ID, --cert and --key, or --cert "
                        "with --hsm-config");
        return false;
    }
    return true;
}

bool cli_load_key_signer(const char *path, const char *passphrase_env,
                         const char *passphrase_file, qpki_signer **out)
{
    char *pass = NULL;
    *out = NULL;
    if (!cli_get_passphrase(passphrase_env, passphrase_file, &pass))
        return false;
    /* The key is checked to hold together as it loads; the error names the part
     * that does not (a tampered or mis-assembled key file). */
    char why[512] = "";
    qpki_key *key = NULL;
    qpki_status st = qpki_key_load_err(path, pass, why, sizeof(why), &key);
    cli_secret_free(pass);
    if (st == QPKI_ERR_PASSPHRASE_REQUIRED) {
        cli_error("private key %s is encrypted: give --passphrase-env VAR or "
                  "--passphrase-file FILE",
                  path);
        return false;
    }
    if (st != QPKI_OK) {
        cli_error("cannot load private key %s: %s", path, why);
        return false;
    }
    st = qpki_signer_software_from_key(key, QPKI_SIG_UNKNOWN, out);
    qpki_key_free(&key);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot make a signer for the private key %s", path);
        return false;
    }
    return true;
}

static bool spki_equal(qpki_signer *signer, const qpki_cert *cert)
{
    const uint8_t *a, *b;
    size_t la, lb;
    if (qpki_signer_public_key(signer, &a, &la) != QPKI_OK)
        return false;
    qpki_cert_spki(cert, &b, &lb);
    return la == lb && memcmp(a, b, la) == 0;
}

int cli_load_responder(const struct cli_signer_opts *o, const qpki_cert *ca, qpki_cert **cert,
                       qpki_signer **signer)
{
    char cert_path[PATH_MAX], key_path[PATH_MAX];
    const char *cpath = o->cert, *kpath = o->key;
    *cert = NULL;
    *signer = NULL;

    if (o->credential) {
        const char *dir = o->cred_dir ? o->cred_dir : "./credentials";
        if (!cli_credential_paths(dir, o->credential, cert_path, sizeof(cert_path), key_path,
                                  sizeof(key_path)))
            return CLI_USAGE;
        cpath = cert_path;
        kpath = key_path;
    }
    if (!cli_load_cert(cpath, "responder certificate", cert))
        return CLI_USAGE;

    if (o->hsm_config) {
        const uint8_t *spki;
        size_t spki_len;
        qpki_cert_spki(*cert, &spki, &spki_len);
        if (!cli_open_hsm_signer(o->hsm_config, o->key_label, o->key_id, spki, spki_len, signer))
            goto fail;
    } else if (!cli_load_key_signer(kpath, o->passphrase_env, o->passphrase_file, signer)) {
        goto fail;
    }

    if (!spki_equal(*signer, *cert)) {
        if (o->hsm_config)
            cli_error("the HSM key does not belong to the certificate %s (their public keys "
                      "differ)",
                      cpath);
        else
            cli_error("the private key %s does not belong to the certificate %s (their public "
                      "keys differ)",
                      kpath, cpath);
        goto fail;
    }
    if (ca && !cli_cert_equal(*cert, ca)) {
        char subject[512] = "", ca_subject[512] = "";
        (void)qpki_cert_subject_text(*cert, subject, sizeof(subject));
        (void)qpki_cert_subject_text(ca, ca_subject, sizeof(ca_subject));
        qpki_status st = qpki_cert_verify_signature(*cert, ca);
        if (st != QPKI_OK) {
            cli_error("the responder certificate (%s) was not issued by the CA (%s): %s",
                      subject, ca_subject, qpki_strerror(st));
            goto fail;
        }
        /* RFC 6960 §4.2.2.2: a delegated responder "MUST ... include a value of
         * id-kp-OCSPSigning in an extended key usage extension". */
        if (!qpki_cert_has_ocsp_signing(*cert))
            cli_warn("the responder certificate (%s) has no id-kp-OCSPSigning extended key "
                     "usage: relying parties will reject the response",
                     subject);
    }
    return CLI_OK;
fail:
    qpki_signer_free(signer);
    qpki_cert_free(cert);
    return CLI_USAGE;
}

/* id-ce 72: altSubjectPublicKeyInfo (ITU-T X.509 §9.8). */
static const uint8_t oid_alt_spki[] = { 0x55, 0x1d, 0x48 };

int cli_load_responder_alt(const struct cli_signer_opts *o, const char *alt_key,
                           const qpki_cert *ca, qpki_cert **cert, qpki_signer **signer,
                           qpki_signer **alt)
{
    char path[PATH_MAX];
    *alt = NULL;
    int rc = cli_load_responder(o, ca, cert, signer);
    if (rc != CLI_OK)
        return rc;
    if (!alt_key && o->credential &&
        cli_credential_alt_key_path(o->cred_dir ? o->cred_dir : "./credentials", o->credential,
                                    path, sizeof(path)))
        alt_key = path;
    if (!alt_key)
        return CLI_OK;
    const uint8_t *want, *have;
    size_t want_len, have_len;
    bool critical;
    if (qpki_cert_find_extension(*cert, oid_alt_spki, sizeof(oid_alt_spki), &critical, &want,
                                 &want_len) != QPKI_OK) {
        cli_error("the responder certificate has no altSubjectPublicKeyInfo: it is not a "
                  "Catalyst certificate for the alternative key %s",
                  alt_key);
        goto fail;
    }
    if (!cli_load_key_signer(alt_key, o->passphrase_env, o->passphrase_file, alt))
        goto fail;
    if (qpki_signer_public_key(*alt, &have, &have_len) != QPKI_OK || have_len != want_len ||
        memcmp(have, want, want_len) != 0) {
        cli_error("the alternative key %s is not the certificate's altSubjectPublicKeyInfo",
                  alt_key);
        goto fail;
    }
    return CLI_OK;
fail:
    qpki_signer_free(alt);
    qpki_signer_free(signer);
    qpki_cert_free(cert);
    return CLI_USAGE;
}
