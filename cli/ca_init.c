/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ca_init.c - qpki ca init: a new CA directory (DESIGN §6 layout), either a
 * self-signed root or an issuing CA signed by --parent. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <qpki/version.h>

#include "cli.h"
#include "doc.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki ca init [--ca-dir DIR] [--profile PROFILE] --var cn=NAME [options]\n"
    "\n"
    "Create a CA directory: ca.crt, ca.key (0600), index.txt (empty), serial, certs/,\n"
    "ca.meta.json (and chain.pem for an issuing CA).  An existing CA is never\n"
    "overwritten.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               directory to create (default ./ca)\n"
    "  --profile PROFILE          built-in profile or YAML file (default ec/root-ca, or\n"
    "                             ec/issuing-ca with --parent)\n"
    "  --var NAME=VALUE           profile variable, repeatable (e.g. cn=\"Example Root CA\")\n"
    "  --parent DIR               make an issuing CA signed by the CA in DIR (recorded in\n"
    "                             DIR's index.txt)\n"
    "  --passphrase-env VAR       encrypt ca.key with the passphrase in environment VAR\n"
    "  --passphrase-file F        ... or with the first line of file F\n"
    "  --parent-passphrase-env VAR, --parent-passphrase-file F\n"
    "                             passphrase of the parent's encrypted ca.key\n"
    "  -h, --help                 this help\n";

enum { O_CA_DIR = 256, O_PROFILE, O_VAR, O_PARENT, O_PASS_ENV, O_PASS_FILE, O_PPASS_ENV,
       O_PPASS_FILE };

/* Files this run created, removed again if a later step fails. */
struct created {
    char paths[8][PATH_MAX];
    size_t n;
};

static void remember(struct created *c, const char *dir, const char *name)
{
    if (c->n < 8)
        snprintf(c->paths[c->n++], PATH_MAX, "%s/%s", dir, name);
}

static void undo(struct created *c)
{
    for (size_t i = c->n; i > 0; i--) {
        if (unlink(c->paths[i - 1]) != 0)
            (void)rmdir(c->paths[i - 1]);
    }
}

static bool write_meta(const char *dir, const struct profile *p, const struct vars *vars,
                       const qpki_cert *cert, const char *parent, bool encrypted)
{
    struct jw w;
    char text[1024], when[32], serial[80];
    jw_init(&w);
    jw_object_begin(&w, NULL);
    jw_string(&w, "type", parent ? "issuing" : "root");
    jw_string(&w, "profile", p->name);
    jw_string(&w, "algorithm", p->algorithm);
    if (p->alt_algorithm)
        jw_string(&w, "alt_algorithm", p->alt_algorithm);
    pki_subject(cert, text, sizeof(text));
    jw_string(&w, "subject", text);
    pki_cert_serial_hex(cert, serial, sizeof(serial));
    jw_string(&w, "serial", serial);
    cli_format_time(qpki_cert_not_before(cert), when, sizeof(when));
    jw_string(&w, "not_before", when);
    cli_format_time(qpki_cert_not_after(cert), when, sizeof(when));
    jw_string(&w, "not_after", when);
    cli_format_time((qpki_time)time(NULL), when, sizeof(when));
    jw_string(&w, "created", when);
    if (parent) {
        char abs[PATH_MAX];
        jw_string(&w, "parent", realpath(parent, abs) ? abs : parent);
    }
    jw_bool(&w, "key_encrypted", encrypted);
    jw_object_begin(&w, "variables");
    for (size_t i = 0; i < vars->n; i++)
        if (vars->values[i][0])
            jw_string(&w, vars->keys[i], vars->values[i]);
    jw_object_end(&w);
    jw_string(&w, "created_by", "qpki " QPKI_VERSION_STRING);
    jw_object_end(&w);
    const char *json = jw_finish(&w);
    char path[PATH_MAX];
    bool ok = json && cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_META_FILE) &&
              cli_write_file(path, (const uint8_t *)json, strlen(json), 0644, true);
    jw_free(&w);
    return ok;
}

/* chain.pem of an issuing CA: its certificate, then the parent's chain. */
static bool write_chain(const char *dir, const qpki_cert *cert, const char *parent)
{
    char path[PATH_MAX];
    uint8_t *rest = NULL;
    size_t rest_len = 0;
    if (!cli_path(path, sizeof(path), "%s/chain.pem", parent))
        return false;
    if (!cli_path_exists(path) && !cli_path(path, sizeof(path), "%s/%s", parent,
                                            QPKI_CA_CERT_FILE))
        return false;
    if (!cli_read_file(path, "parent certificate", &rest, &rest_len))
        return false;
    const uint8_t *der;
    size_t len;
    qpki_cert_der(cert, &der, &len);
    char *pem = cli_pem("CERTIFICATE", der, len);
    size_t plen = pem ? strlen(pem) : 0;
    char *all = pem ? malloc(plen + rest_len + 1) : NULL;
    bool ok = false;
    if (all) {
        memcpy(all, pem, plen);
        memcpy(all + plen, rest, rest_len);
        ok = cli_path(path, sizeof(path), "%s/chain.pem", dir) &&
             cli_write_file(path, (const uint8_t *)all, plen + rest_len, 0644, true);
    }
    free(all);
    free(pem);
    free(rest);
    return ok;
}

int cmd_ca_init(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "profile", required_argument, NULL, O_PROFILE },
        { "var", required_argument, NULL, O_VAR },
        { "parent", required_argument, NULL, O_PARENT },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "parent-passphrase-env", required_argument, NULL, O_PPASS_ENV },
        { "parent-passphrase-file", required_argument, NULL, O_PPASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *profile_name = NULL, *parent = NULL;
    const char *pass_env = NULL, *pass_file = NULL, *ppass_env = NULL, *ppass_file = NULL;
    struct vars given = { 0 }, vars = { 0 };
    struct profile *p = NULL;
    struct ca_ctx parent_ca = { 0 };
    struct created made = { .n = 0 };
    qpki_key *key = NULL, *alt_key = NULL;
    qpki_signer *signer = NULL, *alt_signer = NULL;
    qpki_cert *cert = NULL;
    char *pass = NULL;
    bool have_parent = false;
    int rc = CLI_USAGE;
    int c;

    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_PROFILE: profile_name = optarg; break;
        case O_VAR:
            if (!vars_add_arg(&given, optarg))
                goto done;
            break;
        case O_PARENT: parent = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case O_PPASS_ENV: ppass_env = optarg; break;
        case O_PPASS_FILE: ppass_file = optarg; break;
        case 'h': rc = cli_help(help); goto done;
        default: goto done;
        }
    }
    if (optind < argc) {
        cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!profile_name)
        profile_name = parent ? "ec/issuing-ca" : "ec/root-ca";
    if (!profile_load(profile_name, &p))
        goto done;
    if (!p->has_basic_constraints || !p->bc_ca) {
        cli_error("profile %s does not make a CA certificate (basicConstraints ca: true)",
                  p->name);
        goto done;
    }
    if (!profile_resolve(p, &given, &vars))
        goto done;
    {
        static const char *const taken[] = { QPKI_CA_CERT_FILE, QPKI_CA_KEY_FILE,
                                             QPKI_CA_INDEX_FILE, QPKI_CA_SERIAL_FILE };
        for (size_t i = 0; i < sizeof(taken) / sizeof(taken[0]); i++) {
            char path[PATH_MAX];
            if (!cli_path(path, sizeof(path), "%s/%s", dir, taken[i]))
                goto done;
            if (cli_path_exists(path)) {
                cli_error("%s already holds a CA (%s exists); refusing to overwrite it", dir,
                          taken[i]);
                goto done;
            }
        }
    }
    if (!cli_get_passphrase(pass_env, pass_file, &pass))
        goto done;
    if (parent) {
        if (!ca_open(parent, ppass_env, ppass_file, &parent_ca))
            goto done;
        have_parent = true;
    }
    if (!pki_generate_key(p, &key) || !pki_key_signer(key, &signer))
        goto done;
    if (p->alt_algorithm &&
        (!pki_generate_alt_key(p, &alt_key) || !pki_key_signer(alt_key, &alt_signer)))
        goto done;

    uint8_t first[8];
    if (!cli_random(first, sizeof(first)))
        goto done;
    /* Positive (RFC 5280 §4.1.2.2) and always 16 hex digits. */
    first[0] = (uint8_t)((first[0] & 0x3f) | 0x40);
    if (!cli_mkdirs(dir, 0755))
        goto done;
    qpki_status st = qpki_ca_store_create(dir, first, sizeof(first));
    if (st == QPKI_ERR_EXISTS) {
        cli_error("%s already holds a CA; refusing to overwrite it", dir);
        goto done;
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot create the CA files in %s", dir);
        goto done;
    }
    remember(&made, dir, QPKI_CA_INDEX_FILE);
    remember(&made, dir, QPKI_CA_INDEX_ATTR_FILE);
    remember(&made, dir, QPKI_CA_SERIAL_FILE);
    remember(&made, dir, QPKI_CA_CERTS_DIR);

    char key_path[PATH_MAX], cert_path[PATH_MAX];
    if (!cli_path(key_path, sizeof(key_path), "%s/%s", dir, QPKI_CA_KEY_FILE) ||
        !cli_path(cert_path, sizeof(cert_path), "%s/%s", dir, QPKI_CA_CERT_FILE))
        goto done;
    if (!pki_write_key(key, key_path, pass, true))
        goto done;
    remember(&made, dir, QPKI_CA_KEY_FILE);
    if (alt_key) {
        char alt_path[PATH_MAX];
        if (!cli_path(alt_path, sizeof(alt_path), "%s/%s", dir, CA_ALT_KEY_FILE) ||
            !pki_write_key(alt_key, alt_path, pass, true))
            goto done;
        remember(&made, dir, CA_ALT_KEY_FILE);
    }

    const uint8_t *spki;
    size_t spki_len;
    if ((st = qpki_key_public_key(key, &spki, &spki_len)) != QPKI_OK) {
        cli_error_st(st, "public key");
        goto done;
    }
    struct issue_params ip = { .profile = p, .vars = &vars, .spki = spki, .spki_len = spki_len };
    if (alt_key && (st = qpki_key_public_key(alt_key, &ip.alt_spki, &ip.alt_spki_len)) != QPKI_OK) {
        cli_error_st(st, "alternative public key");
        goto done;
    }
    if (have_parent) {
        if (!ca_issue(&parent_ca, &ip, &cert))
            goto done;
    } else {
        uint8_t serial[16];
        if (!cli_random(serial, sizeof(serial)))
            goto done;
        serial[0] = (uint8_t)((serial[0] & 0x3f) | 0x40);
        if (!pki_build_cert(&ip, NULL, signer, alt_signer, serial, sizeof(serial), &cert))
            goto done;
    }
    if (!pki_write_cert(cert, cert_path, true))
        goto done;
    remember(&made, dir, QPKI_CA_CERT_FILE);
    if (have_parent) {
        if (!write_chain(dir, cert, parent))
            goto done;
        remember(&made, dir, "chain.pem");
    }
    if (!write_meta(dir, p, &vars, cert, parent, pass != NULL))
        goto done;

    char subject[1024], when_b[32], when_a[32], serial_hex[80];
    pki_subject(cert, subject, sizeof(subject));
    pki_cert_serial_hex(cert, serial_hex, sizeof(serial_hex));
    cli_format_time(qpki_cert_not_before(cert), when_b, sizeof(when_b));
    cli_format_time(qpki_cert_not_after(cert), when_a, sizeof(when_a));
    printf("%s CA created in %s\n", have_parent ? "Issuing" : "Root", dir);
    printf("  Subject:    %s\n", subject);
    if (have_parent) {
        char issuer[1024];
        pki_subject(parent_ca.cert, issuer, sizeof(issuer));
        printf("  Issuer:     %s (%s)\n", issuer, parent);
    }
    printf("  Profile:    %s\n", p->name);
    printf("  Algorithm:  %s, signature %s\n", p->algorithm,
           qpki_sig_alg_name(qpki_cert_sig_alg(cert)));
    if (p->alt_algorithm)
        printf("  Catalyst:   %s alternative key (%s)\n", p->alt_algorithm, CA_ALT_KEY_FILE);
    printf("  Serial:     %s\n", serial_hex);
    printf("  Validity:   %s to %s\n", when_b, when_a);
    printf("  Files:      ca.crt ca.key%s index.txt serial certs/ ca.meta.json%s\n",
           pass ? " (encrypted)" : "", have_parent ? " chain.pem" : "");
    rc = CLI_OK;
done:
    if (rc != CLI_OK)
        undo(&made);
    cli_secret_free(pass);
    qpki_cert_free(&cert);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt_signer);
    qpki_key_free(&key);
    qpki_key_free(&alt_key);
    if (have_parent)
        ca_close(&parent_ca);
    profile_free(p);
    vars_free(&given);
    vars_free(&vars);
    return rc;
}
