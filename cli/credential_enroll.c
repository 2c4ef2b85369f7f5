/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_enroll.c - qpki credential enroll: create a credential (keys + certificate) in QPKI's layout
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "cred.h"
#include "pki.h"

static const char enroll_help[] =
    "Usage: qpki credential enroll [--ca-dir DIR] [--cred-dir DIR] --profile PROFILE\n"
    "                              --var cn=NAME [--var ...] [--id ID]\n"
    "\n"
    "Create a credential: a new key pair and its certificate, issued by the CA in\n"
    "--ca-dir and recorded in its index.txt.  Writes <cred-dir>/<id>/ in QPKI's layout\n"
    "with version v1 active, and <id>.crt / <id>.key pointing at the active version.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               issuing CA directory (default ./ca)\n"
    "  --cred-dir DIR             credentials directory (default ./credentials)\n"
    "  --profile PROFILE          built-in profile or YAML file (required)\n"
    "  --var NAME=VALUE           profile variable, repeatable\n"
    "  --id ID                    credential ID (default <cn>-<date>-<random>)\n"
    "  --passphrase-env VAR       encrypt the private key with the passphrase in VAR\n"
    "  --passphrase-file F        ... or with the first line of file F\n"
    "  --ca-passphrase-env VAR, --ca-passphrase-file F\n"
    "                             passphrase of an encrypted ca.key\n"
    "  -h, --help                 this help\n";

static void generate_id(const char *cn, char *buf, size_t size)
{
    char slug[24];
    size_t k = 0;
    bool dash = false;
    for (const char *p = cn; *p && k < 20; p++) {
        if (isalnum((unsigned char)*p)) {
            slug[k++] = (char)tolower((unsigned char)*p);
            dash = false;
        } else if (!dash && k > 0) {
            slug[k++] = '-';
            dash = true;
        }
    }
    while (k > 0 && slug[k - 1] == '-')
        k--;
    slug[k] = '\0';
    char date[16];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y%m%d", &tm);
    uint8_t r[3] = { 0 };
    (void)cli_random(r, sizeof(r));
    snprintf(buf, size, "%s-%s-%02x%02x%02x", k ? slug : "cred", date, r[0], r[1], r[2]);
}

int cmd_credential_enroll(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "profile", required_argument, NULL, O_PROFILE },
        { "var", required_argument, NULL, O_VAR },
        { "id", required_argument, NULL, O_ID },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "ca-passphrase-env", required_argument, NULL, O_CAPASS_ENV },
        { "ca-passphrase-file", required_argument, NULL, O_CAPASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *ca_dir = "./ca", *cred_dir = "./credentials", *profile_name = NULL;
    const char *id_arg = NULL, *pass_env = NULL, *pass_file = NULL;
    const char *capass_env = NULL, *capass_file = NULL;
    struct vars given = { 0 }, vars = { 0 };
    struct profile *p = NULL;
    struct ca_ctx ca = { 0 };
    struct credential cred = { 0 };
    bool ca_opened = false, created_dir = false;
    char *pass = NULL;
    char id[CRED_ID_MAX + 1], dir[PATH_MAX];
    int lock = -1, rc = CLI_USAGE, c;

    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: ca_dir = optarg; break;
        case O_CRED_DIR: cred_dir = optarg; break;
        case O_PROFILE: profile_name = optarg; break;
        case O_VAR:
            if (!vars_add_arg(&given, optarg))
                goto done;
            break;
        case O_ID: id_arg = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case O_CAPASS_ENV: capass_env = optarg; break;
        case O_CAPASS_FILE: capass_file = optarg; break;
        case 'h': rc = cli_help(enroll_help); goto done;
        default: goto done;
        }
    }
    if (optind < argc) {
        cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!profile_name) {
        cli_usage_error("--profile is required");
        goto done;
    }
    if (id_arg && !cred_valid_id(id_arg)) {
        cli_usage_error("--id '%s': use 1 to %d letters, digits, '.', '_' or '-'", id_arg,
                        CRED_ID_MAX);
        goto done;
    }
    if (!profile_load(profile_name, &p) || !profile_resolve(p, &given, &vars))
        goto done;
    {
        qpki_key_alg alg;
        unsigned bits;
        if (!profile_key_alg(p, &alg, &bits))
            goto done;
    }
    if (p->has_basic_constraints && p->bc_ca) {
        cli_error("profile %s makes a CA certificate: use qpki ca init --parent", p->name);
        goto done;
    }
    if (id_arg)
        snprintf(id, sizeof(id), "%s", id_arg);
    else
        generate_id(vars_get(&vars, "cn") ? vars_get(&vars, "cn") : "", id, sizeof(id));
    if (!cli_get_passphrase(pass_env, pass_file, &pass))
        goto done;
    if (!ca_open(ca_dir, capass_env, capass_file, &ca))
        goto done;
    ca_opened = true;

    if (!cli_mkdirs(cred_dir, 0755) || !cred_dir_path(dir, sizeof(dir), cred_dir, id))
        goto done;
    if (mkdir(dir, 0755) != 0) {
        if (errno == EEXIST)
            cli_error("credential '%s' already exists in %s (use qpki credential rotate)", id,
                      cred_dir);
        else
            cli_error("cannot create %s: %s", dir, strerror(errno));
        goto done;
    }
    created_dir = true;
    if (!cred_lock(cred_dir, id, &lock))
        goto done;

    snprintf(cred.id, sizeof(cred.id), "%s", id);
    cred_now_text(cred.created, sizeof(cred.created));
    {
        char abs[PATH_MAX];
        if (!vars_set(&cred.metadata, "ca_dir", realpath(ca_dir, abs) ? abs : ca_dir))
            goto done;
        for (size_t i = 0; i < given.n; i++) {
            char key[96];
            snprintf(key, sizeof(key), "var.%s", given.keys[i]);
            if (!vars_set(&cred.metadata, key, given.values[i]))
                goto done;
        }
        if (pass && !vars_set(&cred.metadata, "key_encrypted", "true"))
            goto done;
    }
    if (!cred_make_version(cred_dir, &cred, "v1", p, &vars, &ca, pass))
        goto done;
    snprintf(cred.active, sizeof(cred.active), "v1");
    cred_now_text(cred.versions[0].activated_at, sizeof(cred.versions[0].activated_at));
    if (!cred_save(cred_dir, &cred) || !cred_point_active(cred_dir, &cred, &cred.versions[0]))
        goto done;

    printf("Credential %s created in %s\n", id, dir);
    printf("  Profile:     %s (%s)\n", p->name, p->algorithm);
    printf("  Subject CN:  %s\n", cred.common_name);
    printf("  Serial:      %s\n", cred.versions[0].serial);
    printf("  Valid:       %s to %s\n", cred.versions[0].not_before,
           cred.versions[0].not_after);
    printf("  Certificate: %s/%s.crt\n", dir, id);
    printf("  Private key: %s/%s.key%s\n", dir, id, pass ? " (encrypted)" : "");
    if (cred.versions[0].alt_key_file[0])
        printf("  Catalyst:    %s/%s.alt.key (%s)\n", dir, id, p->alt_algorithm);
    rc = CLI_OK;
done:
    cred_unlock(lock);
    if (rc != CLI_OK && created_dir)
        cred_remove_tree(dir);
    cred_free(&cred);
    cli_secret_free(pass);
    if (ca_opened)
        ca_close(&ca);
    profile_free(p);
    vars_free(&given);
    vars_free(&vars);
    return rc;
}

/* ---- rotate ------------------------------------------------------------------------------ */
