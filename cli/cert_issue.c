/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cert_issue.c - qpki cert issue: a certificate for a CSR, from a profile,
 * recorded in the CA directory. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki cert issue --ca-dir DIR --profile PROFILE --csr FILE [--var NAME=VALUE]...\n"
    "                       [--out FILE] [--db URL]\n"
    "\n"
    "Issue a certificate for a PKCS#10 request: the request's signature is checked, the\n"
    "profile decides validity and extensions, the CA's next serial is used, and the\n"
    "certificate is stored as certs/<SERIAL>.pem with a V row in index.txt.\n"
    "\n"
    "Subject: the request's subject as is, unless --var options are given: then the\n"
    "profile's subject template is used (cn defaults to the request's CN).\n"
    "subjectAltName: from the profile's variables; when they give none, the names the\n"
    "request asks for.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               CA directory (default ./ca)\n"
    "  --profile PROFILE          built-in profile or YAML file (required)\n"
    "  --csr FILE                 the request (PEM or DER)\n"
    "  --var NAME=VALUE           profile variable, repeatable\n"
    "  -o, --out FILE             certificate output (PEM; default standard output)\n"
    "  --db URL                   record the certificate in the PostgreSQL status database\n"
    "                             (one transaction) instead of index.txt; the PEM still goes\n"
    "                             to certs/ (qpki-db(1); no password in URL)\n"
    "  --passphrase-env VAR       passphrase of an encrypted ca.key, from environment VAR\n"
    "  --passphrase-file F        ... or from the first line of file F\n"
    "  -h, --help                 this help\n";

enum { O_CA_DIR = 256, O_PROFILE, O_CSR, O_VAR, O_PASS_ENV, O_PASS_FILE, O_DB };

/* A subjectAltPublicKeyInfo asked for as a requested extension (an extensionRequest
 * entry) instead of the Catalyst attributes: no proof of possession. */
static bool requests_alt_spki_extension(const qpki_csr *csr)
{
    static const uint8_t oid[] = { 0x55, 0x1d, 0x48 };
    for (size_t i = 0; i < qpki_csr_extension_count(csr); i++) {
        const uint8_t *o, *v;
        size_t ol, vl;
        bool critical;
        if (qpki_csr_extension(csr, i, &o, &ol, &critical, &v, &vl) == QPKI_OK &&
            ol == sizeof(oid) && memcmp(o, oid, ol) == 0)
            return true;
    }
    return false;
}

/* SubjectPublicKeyInfo whose algorithm is id-ml-dsa-44/65/87
 * (2.16.840.1.101.3.4.3.17..19, FIPS 204 / RFC 9881): 30 .. 30 0b 06 09 <oid>. */
static bool is_ml_dsa_spki(const uint8_t *spki, size_t len)
{
    static const uint8_t prefix[] = { 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                      0x65, 0x03, 0x04, 0x03 };
    size_t hdr = len > 1 && spki[1] < 0x80 ? 2 : len > 1 ? 2u + (spki[1] & 0x7fu) : len;
    if (len < hdr + sizeof(prefix) + 1 || spki[0] != 0x30)
        return false;
    const uint8_t *p = spki + hdr;
    return memcmp(p, prefix, sizeof(prefix)) == 0 && p[sizeof(prefix)] >= 0x11 &&
           p[sizeof(prefix)] <= 0x13;
}

int cmd_cert_issue(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "profile", required_argument, NULL, O_PROFILE },
        { "csr", required_argument, NULL, O_CSR },
        { "var", required_argument, NULL, O_VAR },
        { "out", required_argument, NULL, 'o' },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "db", required_argument, NULL, O_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *profile_name = NULL, *csr_path = NULL, *out = NULL;
    const char *pass_env = NULL, *pass_file = NULL, *db_url = NULL;
    struct cli_db db = { 0 };
    struct vars given = { 0 }, vars = { 0 };
    struct profile *p = NULL;
    struct ca_ctx ca = { 0 };
    bool ca_opened = false;
    qpki_csr *csr = NULL;
    qpki_cert *cert = NULL;
    size_t alt_spki_len = 0;
    int rc = CLI_USAGE;
    int c;

    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_PROFILE: profile_name = optarg; break;
        case O_CSR: csr_path = optarg; break;
        case O_VAR:
            if (!vars_add_arg(&given, optarg))
                goto done;
            break;
        case 'o': out = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case O_DB: db_url = optarg; break;
        case 'h': rc = cli_help(help); goto done;
        default: goto done;
        }
    }
    if (optind < argc) {
        cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!profile_name || !csr_path) {
        cli_usage_error("--profile and --csr are required");
        goto done;
    }
    char why[256];
    qpki_status st = qpki_csr_load_file_err(csr_path, why, sizeof(why), &csr);
    if (st != QPKI_OK) {
        cli_error_detail(st, why, "cannot load the certificate request %s", csr_path);
        goto done;
    }
    /* RFC 2986 §3: the signature proves the requester holds the private key. */
    if ((st = qpki_csr_verify_signature(csr)) != QPKI_OK) {
        cli_error_st(st, "the signature of the request %s does not verify", csr_path);
        goto done;
    }
    if (!profile_load(profile_name, &p))
        goto done;
    {
        qpki_key_alg want;
        unsigned bits;
        if (!profile_key_alg(p, &want, &bits))
            goto done;
        if (!profile_accepts_key(p, qpki_csr_key_alg(csr))) {
            cli_error("the request's key is %s but profile %s issues %s keys",
                      qpki_key_alg_name(qpki_csr_key_alg(csr)), p->name, p->algorithm);
            goto done;
        }
    }
    /* Catalyst: the request carries the alternative public key in a
     * subjectAltPublicKeyInfo attribute, signed with that key (qpki csr create
     * --alt-key; docs/CATALYST.md) - the proof of possession of the second key. */
    const uint8_t *alt_spki = NULL;
    st = qpki_csr_verify_alt_signature(csr);
    if (st == QPKI_OK) {
        (void)qpki_csr_alt_spki(csr, &alt_spki, &alt_spki_len);
    } else if (st != QPKI_ERR_NOT_FOUND) {
        cli_error_st(st, "the alternative (Catalyst) signature of the request %s does not "
                     "verify", csr_path);
        goto done;
    }
    if (p->alt_algorithm && !alt_spki) {
        cli_error("profile %s makes Catalyst certificates: the request must carry the "
                  "alternative key and its signature (create it with qpki csr create "
                  "--alt-key ML-DSA-KEY)%s",
                  p->name,
                  requests_alt_spki_extension(csr)
                      ? "; a requested altSubjectPublicKeyInfo extension proves nothing"
                      : "");
        goto done;
    }
    if (p->alt_algorithm && !is_ml_dsa_spki(alt_spki, alt_spki_len)) {
        cli_error("the request's altSubjectPublicKeyInfo is not an ML-DSA key");
        goto done;
    }
    if (!p->alt_algorithm && alt_spki) {
        cli_warn("the request asks for an altSubjectPublicKeyInfo, but profile %s is not a "
                 "Catalyst profile: ignored",
                 p->name);
        alt_spki = NULL;
    }

    char subject_text[1024] = "", cn[256];
    (void)qpki_csr_subject_text(csr, subject_text, sizeof(subject_text));
    bool use_template = given.n > 0;
    if (!vars_get(&given, "cn") && pki_rdn_value(subject_text, "CN", cn, sizeof(cn))) {
        /* The request's CN satisfies a required cn variable. */
        bool declared = false;
        for (size_t i = 0; i < p->n_vars; i++)
            if (strcmp(p->vars[i].name, "cn") == 0)
                declared = true;
        if (declared && !vars_set(&given, "cn", cn)) {
            cli_error("out of memory");
            goto done;
        }
    }
    if (!profile_resolve(p, &given, &vars))
        goto done;
    if (!ca_open(dir, pass_env, pass_file, &ca))
        goto done;
    ca_opened = true;
    if (db_url && !cli_db_open(db_url, &db))
        goto done;

    const uint8_t *spki, *subject_der, *san;
    size_t spki_len, subject_len, san_len;
    qpki_csr_spki(csr, &spki, &spki_len);
    qpki_csr_subject_der(csr, &subject_der, &subject_len);
    qpki_csr_subject_alt_name(csr, &san, &san_len);
    struct issue_params ip = {
        .profile = p,
        .vars = &vars,
        .spki = spki,
        .spki_len = spki_len,
        .subject_der = use_template ? NULL : subject_der,
        .subject_len = use_template ? 0 : subject_len,
        .csr_san = san_len ? san : NULL,
        .csr_san_len = san_len,
        .alt_spki = alt_spki,
        .alt_spki_len = alt_spki ? alt_spki_len : 0,
    };
    if (!use_template && subject_len <= 2) {
        cli_error("the request has an empty subject: give --var cn=NAME");
        goto done;
    }
    if (!(db_url ? ca_issue_db(&ca, &ip, &db, &cert) : ca_issue(&ca, &ip, &cert)))
        goto done;
    if (!pki_write_cert(cert, out, false))
        goto done;

    char serial[80], subj[1024], until[32];
    pki_cert_serial_hex(cert, serial, sizeof(serial));
    pki_subject(cert, subj, sizeof(subj));
    cli_format_time(qpki_cert_not_after(cert), until, sizeof(until));
    fprintf(stderr, "Issued %s (serial %s, profile %s, valid until %s)%s%s; recorded in %s%s%s\n",
            subj, serial, p->name, until, out ? " to " : "", out ? out : "",
            db_url ? "the status database" : dir, db_url ? "" : "/",
            db_url ? "" : QPKI_CA_INDEX_FILE);
    rc = CLI_OK;
done:
    qpki_cert_free(&cert);
    qpki_csr_free(&csr);
    if (ca_opened)
        ca_close(&ca);
    cli_db_close(&db);
    profile_free(p);
    vars_free(&given);
    vars_free(&vars);
    return rc;
}
