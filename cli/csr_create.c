/* SPDX-License-Identifier: Apache-2.0 */
/* cli/csr_create.c - qpki csr create: a PKCS#10 request (RFC 2986) signed with
 * the subject's key. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <qpki/key.h>
#include <qpki/plugin.h>

#include "cli.h"

static const char help[] =
    "Usage: qpki csr create --key FILE (--cn NAME | --subject DN) [options] --out FILE\n"
    "\n"
    "Create a PKCS#10 certificate request signed with the private key.\n"
    "\n"
    "Options:\n"
    "  --key FILE             the subject's private key (PEM or DER)\n"
    "  --cn NAME              subject CN=NAME\n"
    "  --subject DN           full subject instead: \"CN=x,O=Acme,C=FR\" (RFC 4514) or\n"
    "                         \"/C=FR/O=Acme/CN=x\"\n"
    "  --san VALUE            request a subjectAltName; repeatable.  DNS:name, IP:addr,\n"
    "                         email:addr, URI:uri, or a bare value (an address with '@'\n"
    "                         is an e-mail, an IP address an IP, anything else a DNS name)\n"
    "  -o, --out FILE         output file (PEM; default standard output)\n"
    "  --der                  write DER instead of PEM\n"
    "  --alt-key FILE         Catalyst: also carry this ML-DSA key and sign with it\n"
    "                         (altSubjectPublicKeyInfo attributes, for hybrid/catalyst/*)\n"
    "  --hsm-config FILE      sign with a key in an HSM (hsm.yaml) instead of --key,\n"
    "  --key-label LABEL      chosen by CKA_LABEL\n"
    "  --key-id HEX           and/or CKA_ID; the PIN comes from the variable hsm.yaml\n"
    "                         names (usually HSM_PIN)\n"
    "  --passphrase-env VAR   passphrase of an encrypted key, from environment VAR\n"
    "  --passphrase-file F    ... or from the first line of file F\n"
    "  -h, --help             this help\n";

enum { O_KEY = 256, O_CN, O_SUBJECT, O_SAN, O_DER, O_PASS_ENV, O_PASS_FILE, O_ALT_KEY,
       O_HSM, O_LABEL, O_KEY_ID };

#define MAX_SANS 64

static bool is_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool add_san(qpki_csr_builder *b, const char *arg)
{
    qpki_status st;
    const char *kind;
    if (!strncasecmp(arg, "DNS:", 4)) {
        kind = "DNS";
        st = qpki_csr_builder_add_san_dns(b, arg + 4);
    } else if (!strncasecmp(arg, "IP:", 3)) {
        kind = "IP";
        st = qpki_csr_builder_add_san_ip(b, arg + 3);
    } else if (!strncasecmp(arg, "email:", 6)) {
        kind = "email";
        st = qpki_csr_builder_add_san_email(b, arg + 6);
    } else if (!strncasecmp(arg, "URI:", 4)) {
        kind = "URI";
        st = qpki_csr_builder_add_san_uri(b, arg + 4);
    } else if (strchr(arg, '@')) {
        kind = "email";
        st = qpki_csr_builder_add_san_email(b, arg);
    } else if (is_ip(arg)) {
        kind = "IP";
        st = qpki_csr_builder_add_san_ip(b, arg);
    } else {
        kind = "DNS";
        st = qpki_csr_builder_add_san_dns(b, arg);
    }
    if (st != QPKI_OK) {
        cli_usage_error("--san %s: not a valid %s name (%s)", arg, kind, qpki_strerror(st));
        return false;
    }
    return true;
}

int cmd_csr_create(int argc, char **argv)
{
    static const struct option opts[] = {
        { "key", required_argument, NULL, O_KEY },
        { "cn", required_argument, NULL, O_CN },
        { "subject", required_argument, NULL, O_SUBJECT },
        { "san", required_argument, NULL, O_SAN },
        { "out", required_argument, NULL, 'o' },
        { "der", no_argument, NULL, O_DER },
        { "alt-key", required_argument, NULL, O_ALT_KEY },
        { "hsm-config", required_argument, NULL, O_HSM },
        { "key-label", required_argument, NULL, O_LABEL },
        { "key-id", required_argument, NULL, O_KEY_ID },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *key = NULL, *cn = NULL, *subject = NULL, *out = NULL;
    const char *pass_env = NULL, *pass_file = NULL, *alt_key_path = NULL;
    const char *hsm = NULL, *label = NULL, *key_id = NULL;
    const char *sans[MAX_SANS];
    size_t n_sans = 0;
    bool der_out = false;
    int c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_KEY: key = optarg; break;
        case O_CN: cn = optarg; break;
        case O_SUBJECT: subject = optarg; break;
        case O_SAN:
            if (n_sans == MAX_SANS)
                return cli_usage_error("at most %d --san values", MAX_SANS);
            sans[n_sans++] = optarg;
            break;
        case 'o': out = optarg; break;
        case O_DER: der_out = true; break;
        case O_ALT_KEY: alt_key_path = optarg; break;
        case O_HSM: hsm = optarg; break;
        case O_LABEL: label = optarg; break;
        case O_KEY_ID: key_id = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!key && !hsm)
        return cli_usage_error("--key FILE (or --hsm-config with --key-label/--key-id) is "
                               "required");
    if (key && hsm)
        return cli_usage_error("--key and --hsm-config are mutually exclusive");
    if (hsm && !label && !key_id)
        return cli_usage_error("--hsm-config needs --key-label or --key-id");
    if (!hsm && (label || key_id))
        return cli_usage_error("--key-label and --key-id need --hsm-config");
    if (!cn && !subject)
        return cli_usage_error("--cn NAME or --subject DN is required");
    if (cn && subject)
        return cli_usage_error("--cn and --subject are mutually exclusive");

    int rc = CLI_USAGE;
    qpki_signer *signer = NULL, *alt_signer = NULL;
    qpki_csr_builder *b = NULL;
    qpki_name *name = NULL;
    qpki_csr *csr = NULL;
    uint8_t *subject_der = NULL, *der = NULL;
    size_t subject_len = 0, der_len = 0;
    char *pem = NULL;
    qpki_status st;

    if (cn) {
        if ((st = qpki_name_new(&name)) != QPKI_OK ||
            (st = qpki_name_add(name, QPKI_NAME_CN, cn)) != QPKI_OK ||
            (st = qpki_name_encode(name, &subject_der, &subject_len)) != QPKI_OK) {
            cli_usage_error("--cn '%s': %s", cn, qpki_strerror(st));
            goto done;
        }
    } else if ((st = qpki_name_from_text(subject, &subject_der, &subject_len)) != QPKI_OK) {
        cli_usage_error("--subject '%s': %s", subject, qpki_strerror(st));
        goto done;
    }
    if (hsm) {
        if (!cli_open_hsm_signer(hsm, label, key_id, NULL, 0, &signer))
            goto done;
    } else if (!cli_load_key_signer(key, pass_env, pass_file, &signer)) {
        goto done;
    }
    if ((st = qpki_csr_builder_new(&b)) != QPKI_OK ||
        (st = qpki_csr_builder_set_subject(b, subject_der, subject_len)) != QPKI_OK) {
        cli_error_st(st, "certificate request");
        goto done;
    }
    for (size_t i = 0; i < n_sans; i++)
        if (!add_san(b, sans[i]))
            goto done;
    if (alt_key_path) {
        /* Catalyst (docs/CATALYST.md): the ML-DSA key travels in a
         * subjectAltPublicKeyInfo attribute and signs the request too (attributes
         * altSignatureAlgorithm/altSignatureValue), proving possession of both
         * keys; a hybrid profile puts it in the certificate. */
        if (!cli_load_key_signer(alt_key_path, pass_env, pass_file, &alt_signer))
            goto done;
        qpki_sig_alg a = qpki_signer_sig_alg(alt_signer);
        if (a != QPKI_SIG_ML_DSA_44 && a != QPKI_SIG_ML_DSA_65 && a != QPKI_SIG_ML_DSA_87) {
            cli_usage_error("--alt-key %s is not an ML-DSA key", alt_key_path);
            goto done;
        }
    }
    st = alt_signer ? qpki_csr_builder_sign_hybrid(b, signer, alt_signer, &der, &der_len)
                    : qpki_csr_builder_sign(b, signer, &der, &der_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot sign the request");
        goto done;
    }
    /* RFC 2986 §3: the requester signs to prove possession; check that the
     * request we hand out verifies. */
    if ((st = qpki_csr_parse(der, der_len, &csr)) != QPKI_OK ||
        (st = qpki_csr_verify_signature(csr)) != QPKI_OK ||
        (alt_signer && (st = qpki_csr_verify_alt_signature(csr)) != QPKI_OK)) {
        cli_error_st(st, "the new request does not verify");
        goto done;
    }
    if (der_out) {
        if (!cli_write_file(out, der, der_len, 0644, false))
            goto done;
    } else {
        pem = cli_pem("CERTIFICATE REQUEST", der, der_len);
        if (!pem || !cli_write_file(out, (const uint8_t *)pem, strlen(pem), 0644, false))
            goto done;
    }
    if (out && strcmp(out, "-") != 0) {
        char text[1024] = "";
        (void)qpki_csr_subject_text(csr, text, sizeof(text));
        fprintf(stderr, "Wrote certificate request for %s (%s): %s\n", text,
                qpki_sig_alg_name(qpki_csr_sig_alg(csr)), out);
    }
    rc = CLI_OK;
done:
    free(pem);
    qpki_free(der);
    qpki_free(subject_der);
    qpki_csr_free(&csr);
    qpki_name_free(&name);
    qpki_csr_builder_free(&b);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt_signer);
    return rc;
}
