/* SPDX-License-Identifier: Apache-2.0 */
/* cli/crl_gen.c - qpki crl gen: a complete or delta CRL v2 from the CA
 * directory's status rows (index.txt), signed by the CA (both keys of a
 * Catalyst CA), numbered from crlnumber and kept as crl/ca.crl. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/ca.h>
#include <qpki/crl.h>
#include <qpki/limits.h>

#include "cli.h"
#include "crl_make.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki crl gen --ca-dir DIR [--next-update DURATION] [--delta] [--out FILE] [--der]\n"
    "                    [--freshest-crl URL]\n"
    "\n"
    "Write a CRL v2 signed by the CA: every revoked, unexpired certificate of the CA\n"
    "directory's index.txt with its reason, invalidity date and hold instruction, a\n"
    "cRLNumber taken from the crlnumber file, and an authorityKeyIdentifier.  An\n"
    "ML-DSA CA signs with ML-DSA; a Catalyst CA adds the alternative signature.\n"
    "A complete CRL is also kept as DIR/crl/ca.crl (and crl/ca.crl.der): the base of\n"
    "the next delta CRLs.  --delta writes a delta CRL (RFC 5280 §5.2.4) against that\n"
    "base: the entries added or changed since, and removeFromCRL for those that left\n"
    "it (released from hold); it is kept as DIR/crl/ca-delta.crl.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               CA directory (default ./ca)\n"
    "  --next-update DURATION     nextUpdate after now: 30s, 15m, 1h, 7d (default 7d)\n"
    "  --delta                    a delta CRL against DIR/crl/ca.crl\n"
    "  --freshest-crl URL         complete CRL: where its delta CRLs are published\n"
    "                             (freshestCRL; OpenSSL uses deltas only with it)\n"
    "  -o, --out FILE             the CRL (default standard output)\n"
    "  --der                      DER instead of PEM\n"
    "  --passphrase-env VAR       passphrase of an encrypted ca.key, from environment VAR\n"
    "  --passphrase-file F        ... or from the first line of file F\n"
    "  -h, --help                 this help\n";

enum { O_CA_DIR = 256, O_NEXT_UPDATE, O_DELTA, O_DER, O_PASS_ENV, O_PASS_FILE, O_FRESHEST };

int cmd_crl_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "next-update", required_argument, NULL, O_NEXT_UPDATE },
        { "delta", no_argument, NULL, O_DELTA },
        { "out", required_argument, NULL, 'o' },
        { "der", no_argument, NULL, O_DER },
        { "freshest-crl", required_argument, NULL, O_FRESHEST },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *out_path = NULL, *next_text = "7d";
    const char *pass_env = NULL, *pass_file = NULL, *freshest = NULL;
    bool delta = false, der_out = false;
    int c;
    while ((c = cli_getopt(argc, argv, "ho:", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_NEXT_UPDATE: next_text = optarg; break;
        case O_DELTA: delta = true; break;
        case 'o': out_path = optarg; break;
        case O_DER: der_out = true; break;
        case O_FRESHEST: freshest = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (freshest && delta)
        return cli_usage_error("--freshest-crl goes on complete CRLs, not with --delta");
    int64_t next_in;
    if (!cli_parse_duration(next_text, &next_in) || next_in <= 0)
        return cli_usage_error("--next-update '%s' is not a positive duration (30s, 15m, 1h, 7d)",
                               next_text);

    struct ca_ctx ca;
    if (!ca_open(dir, pass_env, pass_file, &ca))
        return CLI_USAGE;
    int rc = CLI_USAGE;
    qpki_crl *base = NULL;
    struct crl_made made = {0};
    char err[512], path[4096];
    qpki_time now = (qpki_time)time(NULL);
    if (delta) {
        if (!cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_CRL_FILE))
            goto out;
        if (!crl_load_base(path, ca.cert, &base, err, sizeof(err))) {
            cli_error("%s", err);
            goto out;
        }
    }
    struct crl_make m = {ca.cert, ca.signer, ca.alt_signer, crl_source_store(ca.store), now,
                         next_in, freshest, base};
    if (!crl_make(&m, &made, err, sizeof(err))) {
        cli_error("%s", err);
        goto out;
    }
    uint8_t *der = made.der;
    size_t der_len = made.len;
    qpki_status st = qpki_ca_store_save_crl(ca.store, der, der_len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca.store);
        cli_error("cannot keep the CRL in %s/%s: %s", dir, QPKI_CA_CRL_DIR,
                  why[0] ? why : qpki_strerror(st));
        goto out;
    }
    if (der_out) {
        if (!cli_write_file(out_path, der, der_len, 0644, false))
            goto out;
    } else {
        char *pem = cli_pem("X509 CRL", der, der_len);
        bool ok = pem && cli_write_file(out_path, (const uint8_t *)pem, strlen(pem), 0644, false);
        free(pem);
        if (!ok)
            goto out;
    }
    {
        char hex[2 * QPKI_CRL_NUMBER_MAX + 3], t[64];
        cli_hex_upper(made.number, made.number_len, hex);
        cli_format_time(now + next_in, t, sizeof(t));
        /* with the CRL on standard output, the summary goes to standard error */
        FILE *f = out_path && strcmp(out_path, "-") != 0 ? stdout : stderr;
        fprintf(f, "%s CRL number %s: %zu entr%s, next update %s%s\n",
                delta ? "Delta" : "Complete", made.number_len ? hex : "00", made.entries,
                made.entries == 1 ? "y" : "ies", t,
                ca.alt_signer ? " (Catalyst: two signatures)" : "");
    }
    rc = CLI_OK;
out:
    qpki_free(made.der);
    qpki_crl_free(&base);
    ca_close(&ca);
    return rc;
}
