/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_sign.c - qpki ocsp sign: one signed OCSP response for a serial
 * number, with the status given on the command line. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <qpki/certid.h>
#include <qpki/response.h>

#include "cli.h"
#include "ocsp_print.h"

static const char help[] =
    "Usage: qpki ocsp sign --serial HEX --status good|revoked|unknown --ca CA.crt\n"
    "                      (--credential ID | --cert CERT --key KEY |\n"
    "                       --cert CERT --hsm-config FILE --key-label L) [options]\n"
    "\n"
    "Create a signed OCSP response (RFC 6960 BasicOCSPResponse).\n"
    "\n"
    "Options:\n"
    "  --serial HEX               serial number (hex; leading zeros, 0x, either case)\n"
    "  --status STATUS            good, revoked or unknown\n"
    "  --ca FILE                  CA certificate (issuer of the certificate in question)\n"
    "  --cert FILE                responder certificate (the CA's own for a CA-signed\n"
    "                             response: --cert ca.crt --key ca.key)\n"
    "  --key FILE                 responder private key\n"
    "  --credential ID            credential (alternative to --cert/--key)\n"
    "  --cred-dir DIR             credentials directory (default ./credentials)\n"
    "  --hsm-config FILE          HSM configuration (hsm.yaml); PIN from $HSM_PIN\n"
    "  --key-label LABEL          HSM key label (CKA_LABEL)\n"
    "  --key-id HEX               HSM key ID (CKA_ID, hex)\n"
    "  --validity DURATION        nextUpdate - thisUpdate (default 1h; 30s 15m 1h 7d)\n"
    "  --revocation-time TIME     revocation date, RFC 3339 (default now)\n"
    "  --revocation-reason R      RFC 5280 CRLReason name, case-insensitive\n"
    "                             (keyCompromise, cACompromise, superseded, ...)\n"
    "  --nonce HEX                nonce to echo (1..128 bytes)\n"
    "  --hash sha1|sha256         CertID hash algorithm (default sha1, what clients such\n"
    "                             as openssl ocsp send)\n"
    "  --no-certs                 do not include the responder certificate\n"
    "  --responder-id auto|key|name\n"
    "                             ResponderID: auto (default) is name for a CA-signed\n"
    "                             response, key for a delegated responder\n"
    "  --alt-key FILE             Catalyst: also sign with this ML-DSA key (the\n"
    "                             certificate's altSubjectPublicKeyInfo); automatic\n"
    "                             for a credential whose active version has one\n"
    "  --passphrase-env VAR       passphrase of an encrypted key, from environment VAR\n"
    "  --passphrase-file F        ... or from the first line of file F\n"
    "  -o, --out FILE             output file (DER; default standard output)\n"
    "  -h, --help                 this help\n";

enum { O_SERIAL = 256, O_STATUS, O_CA, O_CERT, O_KEY, O_CRED, O_CRED_DIR, O_HSM, O_LABEL,
       O_KEY_ID, O_VALIDITY, O_REV_TIME, O_REV_REASON, O_NONCE, O_HASH, O_NO_CERTS,
       O_PASS_ENV, O_PASS_FILE, O_ALT_KEY, O_RESPONDER_ID };

int cmd_ocsp_sign(int argc, char **argv)
{
    static const struct option opts[] = {
        { "serial", required_argument, NULL, O_SERIAL },
        { "status", required_argument, NULL, O_STATUS },
        { "ca", required_argument, NULL, O_CA },
        { "cert", required_argument, NULL, O_CERT },
        { "key", required_argument, NULL, O_KEY },
        { "credential", required_argument, NULL, O_CRED },
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "hsm-config", required_argument, NULL, O_HSM },
        { "key-label", required_argument, NULL, O_LABEL },
        { "key-id", required_argument, NULL, O_KEY_ID },
        { "validity", required_argument, NULL, O_VALIDITY },
        { "revocation-time", required_argument, NULL, O_REV_TIME },
        { "revocation-reason", required_argument, NULL, O_REV_REASON },
        { "nonce", required_argument, NULL, O_NONCE },
        { "hash", required_argument, NULL, O_HASH },
        { "no-certs", no_argument, NULL, O_NO_CERTS },
        { "alt-key", required_argument, NULL, O_ALT_KEY },
        { "responder-id", required_argument, NULL, O_RESPONDER_ID },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    struct cli_signer_opts so = { 0 };
    const char *serial_text = NULL, *status_text = NULL, *ca_path = NULL, *out = NULL;
    const char *validity_text = "1h", *rev_time_text = NULL, *rev_reason_text = NULL;
    const char *nonce_text = NULL, *hash_text = "sha1", *alt_key = NULL;
    const char *rid_text = "auto";
    bool no_certs = false;
    int c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_SERIAL: serial_text = optarg; break;
        case O_STATUS: status_text = optarg; break;
        case O_CA: ca_path = optarg; break;
        case O_CERT: so.cert = optarg; break;
        case O_KEY: so.key = optarg; break;
        case O_CRED: so.credential = optarg; break;
        case O_CRED_DIR: so.cred_dir = optarg; break;
        case O_HSM: so.hsm_config = optarg; break;
        case O_LABEL: so.key_label = optarg; break;
        case O_KEY_ID: so.key_id = optarg; break;
        case O_VALIDITY: validity_text = optarg; break;
        case O_REV_TIME: rev_time_text = optarg; break;
        case O_REV_REASON: rev_reason_text = optarg; break;
        case O_NONCE: nonce_text = optarg; break;
        case O_HASH: hash_text = optarg; break;
        case O_NO_CERTS: no_certs = true; break;
        case O_ALT_KEY: alt_key = optarg; break;
        case O_RESPONDER_ID: rid_text = optarg; break;
        case O_PASS_ENV: so.passphrase_env = optarg; break;
        case O_PASS_FILE: so.passphrase_file = optarg; break;
        case 'o': out = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!serial_text)
        return cli_usage_error("--serial HEX is required");
    if (!status_text)
        return cli_usage_error("--status good|revoked|unknown is required");
    if (!ca_path)
        return cli_usage_error("--ca CA.crt is required");

    uint8_t serial[64];
    size_t serial_len;
    if (!cli_parse_serial(serial_text, serial, sizeof(serial), &serial_len))
        return cli_usage_error("--serial '%s' is not a hexadecimal serial number", serial_text);
    qpki_cert_status status;
    if (!strcasecmp(status_text, "good"))
        status = QPKI_CERT_STATUS_GOOD;
    else if (!strcasecmp(status_text, "revoked"))
        status = QPKI_CERT_STATUS_REVOKED;
    else if (!strcasecmp(status_text, "unknown"))
        status = QPKI_CERT_STATUS_UNKNOWN;
    else
        return cli_usage_error("--status '%s': use good, revoked or unknown", status_text);
    int64_t validity;
    if (!cli_parse_duration(validity_text, &validity))
        return cli_usage_error("--validity '%s' is not a duration (30s, 15m, 1h, 7d)",
                               validity_text);
    qpki_time now = (qpki_time)time(NULL), rev_time = now;
    qpki_crl_reason reason = QPKI_REASON_NONE;
    if (status != QPKI_CERT_STATUS_REVOKED && (rev_time_text || rev_reason_text))
        return cli_usage_error("--revocation-time and --revocation-reason need --status "
                               "revoked");
    if (rev_time_text && !cli_parse_time(rev_time_text, &rev_time))
        return cli_usage_error("--revocation-time '%s' is not an RFC 3339 time "
                               "(2024-01-15T10:00:00Z)",
                               rev_time_text);
    if (rev_reason_text && qpki_crl_reason_from_name(rev_reason_text, &reason) != QPKI_OK)
        return cli_usage_error("--revocation-reason '%s' is not an RFC 5280 reason "
                               "(unspecified, keyCompromise, cACompromise, affiliationChanged, "
                               "superseded, cessationOfOperation, certificateHold, "
                               "removeFromCRL, privilegeWithdrawn, aACompromise)",
                               rev_reason_text);
    qpki_hash_alg hash;
    if (qpki_hash_alg_from_name(hash_text, &hash) != QPKI_OK)
        return cli_usage_error("--hash '%s': use sha1, sha256, sha384 or sha512", hash_text);
    uint8_t nonce[QPKI_NONCE_MAX];
    size_t nonce_len = 0;
    if (nonce_text &&
        (!cli_parse_hex(nonce_text, nonce, sizeof(nonce), &nonce_len) || nonce_len == 0))
        return cli_usage_error("--nonce '%s' is not 1 to %d bytes of hex", nonce_text,
                               QPKI_NONCE_MAX);
    if (strcmp(rid_text, "auto") && strcmp(rid_text, "key") && strcmp(rid_text, "name"))
        return cli_usage_error("--responder-id is auto, key or name, not '%s'", rid_text);
    if (!cli_signer_opts_check(&so))
        return CLI_USAGE;

    int rc = CLI_USAGE;
    qpki_cert *ca = NULL, *responder = NULL;
    qpki_signer *signer = NULL, *alt = NULL;
    qpki_certid *id = NULL;
    qpki_ocsp_response_builder *b = NULL;
    uint8_t *der = NULL;
    size_t der_len = 0;
    qpki_status st;

    if (!cli_load_cert(ca_path, "CA certificate", &ca))
        goto done;
    if (cli_load_responder_alt(&so, alt_key, ca, &responder, &signer, &alt) != CLI_OK)
        goto done;
    bool ca_signed = cli_cert_equal(responder, ca);
    if ((st = qpki_certid_new(hash, ca, serial, serial_len, &id)) != QPKI_OK) {
        cli_error_st(st, "CertID");
        goto done;
    }
    if ((st = qpki_ocsp_response_builder_new(&b)) != QPKI_OK ||
        (st = qpki_ocsp_response_builder_add_single(b, id, status, rev_time, reason, now,
                                                    now + validity)) != QPKI_OK) {
        cli_error_st(st, "response");
        goto done;
    }
    if (nonce_text && (st = qpki_ocsp_response_builder_set_nonce(b, nonce, nonce_len)) != QPKI_OK) {
        cli_error_st(st, "nonce");
        goto done;
    }
    /* RFC 6960 §4.2.2.3: "The ResponderID information MUST correspond to the
     * certificate that was used to sign the response."  auto: byName for a CA
     * that signs itself (GnuTLS finds the signer of a certificate-less response in
     * its trust list by name only), byKey for a delegated responder (the builder's
     * default: the signer's key hash). */
    bool by_name = !strcmp(rid_text, "name") || (!strcmp(rid_text, "auto") && ca_signed);
    if (by_name) {
        const uint8_t *name;
        size_t name_len;
        qpki_cert_subject_der(responder, &name, &name_len);
        if ((st = qpki_ocsp_response_builder_set_responder_by_name(b, name, name_len)) !=
            QPKI_OK) {
            cli_error_st(st, "responder ID");
            goto done;
        }
    }
    /* RFC 6960 §4.2.2.2: a delegated responder's certificate goes in certs so
     * that clients can check the authorisation; a CA-signed response needs none. */
    if (!ca_signed && !no_certs &&
        (st = qpki_ocsp_response_builder_add_cert(b, responder)) != QPKI_OK) {
        cli_error_st(st, "responder certificate");
        goto done;
    }
    /* DESIGN §5: a Catalyst responder adds an ML-DSA signature in
     * responseExtensions; the classical signature stays what clients check. */
    if (alt && (st = qpki_ocsp_response_builder_set_alt_signer(b, alt)) != QPKI_OK) {
        cli_error_st(st, "alternative signer");
        goto done;
    }
    if ((st = qpki_ocsp_response_builder_sign(b, signer, &der, &der_len)) != QPKI_OK) {
        cli_error_st(st, "cannot sign the response");
        goto done;
    }
    if (!cli_write_file(out, der, der_len, 0644, false))
        goto done;
    if (out && strcmp(out, "-") != 0) {
        char hex[2 * sizeof(serial) + 1];
        cli_hex_upper(serial, serial_len, hex);
        fprintf(stderr, "Wrote %s: serial %s %s, %s-signed, %s%s%s, %zu bytes\n", out, hex,
                qpki_cert_status_name(status), ca_signed ? "CA" : "responder",
                qpki_sig_alg_name(qpki_signer_sig_alg(signer)), alt ? " + " : "",
                alt ? qpki_sig_alg_name(qpki_signer_sig_alg(alt)) : "", der_len);
    }
    ocsp_warn_size(der_len);
    rc = CLI_OK;
done:
    qpki_free(der);
    qpki_ocsp_response_builder_free(&b);
    qpki_certid_free(&id);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    qpki_cert_free(&responder);
    qpki_cert_free(&ca);
    return rc;
}
