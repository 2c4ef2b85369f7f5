/* SPDX-License-Identifier: Apache-2.0 */
/* cli/key_gen.c - qpki key gen: a new private key as PKCS#8 PEM, mode 0600. */
#include <stdlib.h>
#include <string.h>

#include <qpki/plugin.h>

#include "cli.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki key gen --algo ALGORITHM --out FILE [options]\n"
    "\n"
    "Generate a private key and write it as PKCS#8 PEM (mode 0600).\n"
    "\n"
    "Options:\n"
    "  --algo ALG             ecdsa-p256 | ecdsa-p384 | ecdsa-p521 | rsa-2048 | rsa-3072 |\n"
    "                         rsa-4096 | ed25519 | ed448 | ml-dsa-44 | ml-dsa-65 | ml-dsa-87\n"
    "                         (default ecdsa-p256)\n"
    "  -o, --out FILE         output file (required; never written to stdout)\n"
    "  --passphrase-env VAR   encrypt the key (PBES2, AES-256-CBC) with the passphrase\n"
    "                         in environment variable VAR\n"
    "  --passphrase-file F    ... or with the first line of file F\n"
    "  --force                replace an existing FILE\n"
    "  --pub-out FILE         also write the public key (SubjectPublicKeyInfo PEM)\n"
    "  --hsm-config FILE      generate the key in an HSM instead (hsm.yaml); needs\n"
    "  --key-label LABEL      the key's CKA_LABEL, and optionally\n"
    "  --key-id HEX           its CKA_ID; --out then receives the public key\n"
    "  -h, --help             this help\n";

enum { O_ALGO = 256, O_PASS_ENV, O_PASS_FILE, O_FORCE, O_PUB_OUT, O_HSM, O_LABEL, O_ID };

static int gen_hsm(const char *algo, const char *hsm, const char *label, const char *id,
                   const char *out)
{
    qpki_key_alg alg;
    unsigned bits = 0;
    if (!label)
        return cli_usage_error("--hsm-config needs --key-label");
    if (qpki_key_alg_from_name(algo, &alg, &bits) != QPKI_OK)
        return cli_usage_error("unknown algorithm '%s'", algo);
    uint8_t *spki = NULL;
    size_t spki_len = 0;
    char err[512] = "";
    qpki_status st = qpki_signer_plugin_generate_key(NULL, hsm, label, id, alg, bits, &spki,
                                                     &spki_len, err, sizeof(err));
    if (st != QPKI_OK)
        return err[0] ? cli_error("HSM key generation failed: %s (%s)", err, qpki_strerror(st))
                      : cli_error_st(st, "HSM key generation failed");
    char *pem = cli_pem("PUBLIC KEY", spki, spki_len);
    qpki_free(spki);
    if (!pem)
        return cli_error("out of memory");
    bool ok = cli_write_file(out, (const uint8_t *)pem, strlen(pem), 0644, false);
    free(pem);
    if (!ok)
        return CLI_USAGE;
    fprintf(stderr, "Generated %s key '%s' in the HSM; public key written to %s\n", algo,
            label, out);
    return CLI_OK;
}

int cmd_key_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "algo", required_argument, NULL, O_ALGO },
        { "out", required_argument, NULL, 'o' },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "force", no_argument, NULL, O_FORCE },
        { "pub-out", required_argument, NULL, O_PUB_OUT },
        { "hsm-config", required_argument, NULL, O_HSM },
        { "key-label", required_argument, NULL, O_LABEL },
        { "key-id", required_argument, NULL, O_ID },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *algo = "ecdsa-p256", *out = NULL, *pass_env = NULL, *pass_file = NULL;
    const char *pub_out = NULL, *hsm = NULL, *label = NULL, *id = NULL;
    bool force = false;
    int c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_ALGO: algo = optarg; break;
        case 'o': out = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case O_FORCE: force = true; break;
        case O_PUB_OUT: pub_out = optarg; break;
        case O_HSM: hsm = optarg; break;
        case O_LABEL: label = optarg; break;
        case O_ID: id = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!out)
        return cli_usage_error("--out FILE is required");
    if (strcmp(out, "-") == 0)
        return cli_usage_error("private keys are never written to standard output");
    if (hsm)
        return gen_hsm(algo, hsm, label, id, out);
    if (label || id)
        return cli_usage_error("--key-label and --key-id need --hsm-config");
    if (!force && cli_path_exists(out))
        return cli_error("%s already exists (use --force to replace it)", out);

    char *pass = NULL;
    if (!cli_get_passphrase(pass_env, pass_file, &pass))
        return CLI_USAGE;
    qpki_key *key = NULL;
    int rc = CLI_USAGE;
    if (!pki_generate_key_named(algo, &key))
        goto done;
    if (!pki_write_key(key, out, pass, !force))
        goto done;
    if (pub_out) {
        const uint8_t *spki;
        size_t spki_len;
        qpki_status st = qpki_key_public_key(key, &spki, &spki_len);
        if (st != QPKI_OK) {
            cli_error_st(st, "public key");
            goto done;
        }
        char *pem = cli_pem("PUBLIC KEY", spki, spki_len);
        bool ok = pem && cli_write_file(pub_out, (const uint8_t *)pem, strlen(pem), 0644, false);
        free(pem);
        if (!ok)
            goto done;
    }
    qpki_key_alg alg = qpki_key_algorithm(key);
    char bits[32] = "";
    if (alg == QPKI_KEY_RSA)
        snprintf(bits, sizeof(bits), " (%u bits)", qpki_key_bits(key));
    fprintf(stderr, "Generated %s%s key%s: %s\n", qpki_key_alg_name(alg), bits,
            pass ? ", encrypted" : "", out);
    rc = CLI_OK;
done:
    qpki_key_free(&key);
    cli_secret_free(pass);
    return rc;
}
