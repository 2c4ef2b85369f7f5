/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential.c - qpki credential enroll|rotate|versions|activate|list:
 * keys and certificates with a coupled lifecycle, in QPKI's directory layout
 * (cli/cred.h), rotated without downtime: rotate makes a pending version,
 * activate switches to it (or back). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "cred.h"
#include "pki.h"

/* ---- shared ------------------------------------------------------------------------- */

static void now_text(char *buf, size_t size)
{
    cli_format_time((qpki_time)time(NULL), buf, size);
}

/* The file-name form of a profile's algorithm ("ecdsa-p256", "rsa-2048"). */
static void algo_name(const struct profile *p, char *buf, size_t size)
{
    snprintf(buf, size, "%s", p->algorithm);
    for (char *q = buf; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
        if (!(isalnum((unsigned char)*q) || *q == '-' || *q == '_'))
            *q = '-';
    }
}

/* Generate a key, have the CA issue its certificate and store both as
 * version `vid`. */
static bool make_version(const char *cred_dir, struct credential *c, const char *vid,
                         const struct profile *p, const struct vars *vars, struct ca_ctx *ca,
                         const char *passphrase)
{
    char vdir[PATH_MAX], path[PATH_MAX], algo[64], rel[256], alt_rel[256] = "";
    char alt_algo[64] = "";
    qpki_key *key = NULL, *alt_key = NULL;
    qpki_cert *cert = NULL;
    bool ok = false;

    algo_name(p, algo, sizeof(algo));
    if (!cred_version_path(vdir, sizeof(vdir), cred_dir, c->id, vid))
        return false;
    if (cli_path_exists(vdir)) {
        cli_error("%s already exists", vdir);
        return false;
    }
    if (!cli_mkdirs(vdir, 0755) || !cli_path(path, sizeof(path), "%s/keys", vdir) ||
        !cli_mkdirs(path, 0700) ||
        !cli_path(path, sizeof(path), "%s/certs", vdir) || !cli_mkdirs(path, 0755))
        return false;
    if (!pki_generate_key(p, &key))
        goto done;
    snprintf(rel, sizeof(rel), "keys/credential.%s.key", algo);
    if (!cli_path(path, sizeof(path), "%s/%s", vdir, rel) ||
        !pki_write_key(key, path, passphrase, true))
        goto done;

    if (p->alt_algorithm) {
        /* Catalyst: a second (ML-DSA) key, named by its algorithm like the first. */
        snprintf(alt_algo, sizeof(alt_algo), "%s", p->alt_algorithm);
        for (char *q = alt_algo; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        snprintf(alt_rel, sizeof(alt_rel), "keys/credential.%s.key", alt_algo);
        if (!pki_generate_alt_key(p, &alt_key) ||
            !cli_path(path, sizeof(path), "%s/%s", vdir, alt_rel) ||
            !pki_write_key(alt_key, path, passphrase, true))
            goto done;
    }

    const uint8_t *spki;
    size_t spki_len;
    qpki_status st = qpki_key_public_key(key, &spki, &spki_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "public key");
        goto done;
    }
    struct issue_params ip = { .profile = p, .vars = vars, .spki = spki, .spki_len = spki_len };
    if (alt_key && (st = qpki_key_public_key(alt_key, &ip.alt_spki, &ip.alt_spki_len)) != QPKI_OK) {
        cli_error_st(st, "alternative public key");
        goto done;
    }
    if (!ca_issue(ca, &ip, &cert))
        goto done;
    char crel[256];
    snprintf(crel, sizeof(crel), "certs/credential.%s.pem", algo);
    if (!cli_path(path, sizeof(path), "%s/%s", vdir, crel) || !pki_write_cert(cert, path, true))
        goto done;

    struct cred_version *v = cred_add_version(c, vid);
    char algos[140];
    snprintf(algos, sizeof(algos), "%s%s%s", algo, alt_algo[0] ? "," : "", alt_algo);
    if (!v || !vars_set(&v->lists, "profiles", p->name) || !vars_set(&v->lists, "algos", algos)) {
        cli_error("out of memory");
        goto done;
    }
    now_text(v->created, sizeof(v->created));
    cli_format_time(qpki_cert_not_before(cert), v->not_before, sizeof(v->not_before));
    cli_format_time(qpki_cert_not_after(cert), v->not_after, sizeof(v->not_after));
    pki_cert_serial_hex(cert, v->serial, sizeof(v->serial));
    snprintf(v->cert_file, sizeof(v->cert_file), "%s", crel);
    snprintf(v->key_file, sizeof(v->key_file), "%s", rel);
    snprintf(v->alt_key_file, sizeof(v->alt_key_file), "%s", alt_rel);
    if (c->common_name[0] == '\0') {
        char subject[1024];
        pki_subject(cert, subject, sizeof(subject));
        if (!pki_rdn_value(subject, "CN", c->common_name, sizeof(c->common_name)))
            snprintf(c->common_name, sizeof(c->common_name), "%.255s", subject);
    }
    ok = true;
done:
    qpki_cert_free(&cert);
    qpki_key_free(&key);
    qpki_key_free(&alt_key);
    return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a credential directory this run created (after a failed enroll). */
static void remove_tree(const char *dir)
{
    (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void print_version_line(const struct credential *c, const struct cred_version *v)
{
    char nb[16] = "", na[40] = "";
    snprintf(nb, sizeof(nb), "%.10s", v->created);
    snprintf(na, sizeof(na), "%s", v->not_after);
    const char *status = cred_version_status(c, v);
    printf("%-9s %-10s %-28s %-12s %-18s %-21s %s\n", v->id, status,
           cred_version_list(v, "profiles"), cred_version_list(v, "algos"),
           v->serial[0] ? v->serial : "-", na[0] ? na : "-", nb[0] ? nb : "-");
}

/* ---- enroll ------------------------------------------------------------------------------ */

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

enum { O_CA_DIR = 256, O_CRED_DIR, O_PROFILE, O_VAR, O_ID, O_PASS_ENV, O_PASS_FILE,
       O_CAPASS_ENV, O_CAPASS_FILE, O_VERSION };

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
    now_text(cred.created, sizeof(cred.created));
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
    if (!make_version(cred_dir, &cred, "v1", p, &vars, &ca, pass))
        goto done;
    snprintf(cred.active, sizeof(cred.active), "v1");
    now_text(cred.versions[0].activated_at, sizeof(cred.versions[0].activated_at));
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
        remove_tree(dir);
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

static const char rotate_help[] =
    "Usage: qpki credential rotate ID [--cred-dir DIR] [--ca-dir DIR] [--profile PROFILE]\n"
    "                              [--var NAME=VALUE]...\n"
    "\n"
    "Create a new PENDING version of a credential with a new key pair and certificate.\n"
    "The active version keeps serving until qpki credential activate ID --version vN.\n"
    "\n"
    "Options:\n"
    "  --cred-dir DIR             credentials directory (default ./credentials)\n"
    "  --ca-dir DIR               issuing CA (default: the one used at enrolment, else ./ca)\n"
    "  --profile PROFILE          another profile, e.g. to change algorithms (default: the\n"
    "                             active version's)\n"
    "  --var NAME=VALUE           change a variable (default: the enrolment's values)\n"
    "  --passphrase-env VAR, --passphrase-file F   encrypt the new key\n"
    "  --ca-passphrase-env VAR, --ca-passphrase-file F   passphrase of ca.key\n"
    "  -h, --help                 this help\n";

int cmd_credential_rotate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "profile", required_argument, NULL, O_PROFILE },
        { "var", required_argument, NULL, O_VAR },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "ca-passphrase-env", required_argument, NULL, O_CAPASS_ENV },
        { "ca-passphrase-file", required_argument, NULL, O_CAPASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *ca_dir = NULL, *cred_dir = "./credentials", *profile_name = NULL;
    const char *pass_env = NULL, *pass_file = NULL, *capass_env = NULL, *capass_file = NULL;
    struct vars override = { 0 }, given = { 0 }, vars = { 0 };
    struct profile *p = NULL;
    struct ca_ctx ca = { 0 };
    struct credential cred = { 0 };
    bool ca_opened = false, loaded = false;
    char *pass = NULL;
    int lock = -1, rc = CLI_USAGE, c;

    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: ca_dir = optarg; break;
        case O_CRED_DIR: cred_dir = optarg; break;
        case O_PROFILE: profile_name = optarg; break;
        case O_VAR:
            if (!vars_add_arg(&override, optarg))
                goto done;
            break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case O_CAPASS_ENV: capass_env = optarg; break;
        case O_CAPASS_FILE: capass_file = optarg; break;
        case 'h': rc = cli_help(rotate_help); goto done;
        default: goto done;
        }
    }
    if (optind + 1 != argc) {
        cli_usage_error(optind < argc ? "give exactly one credential ID"
                                      : "which credential? (qpki credential rotate ID)");
        goto done;
    }
    const char *id = argv[optind];
    if (!cred_valid_id(id)) {
        cli_usage_error("'%s' is not a valid credential ID", id);
        goto done;
    }
    char dir[PATH_MAX];
    if (!cred_dir_path(dir, sizeof(dir), cred_dir, id))
        goto done;
    if (!cli_path_exists(dir)) {
        cli_error("credential '%s' not found in %s", id, cred_dir);
        goto done;
    }
    if (!cred_lock(cred_dir, id, &lock) || !cred_load(cred_dir, id, &cred))
        goto done;
    loaded = true;

    const struct cred_version *base = cred.active[0] ? cred_find(&cred, cred.active) : NULL;
    if (!base && cred.n_versions)
        base = &cred.versions[cred.n_versions - 1];
    char base_profile[256] = "";
    if (base) {
        snprintf(base_profile, sizeof(base_profile), "%s", cred_version_list(base, "profiles"));
        char *comma = strchr(base_profile, ',');
        if (comma) {
            *comma = '\0';
            if (!profile_name)
                cli_warn("credential %s has several profiles; rotating with %s only", id,
                         base_profile);
        }
    }
    if (!profile_name)
        profile_name = base_profile[0] ? base_profile : NULL;
    if (!profile_name) {
        cli_usage_error("credential %s records no profile: give --profile", id);
        goto done;
    }
    if (!profile_load(profile_name, &p))
        goto done;
    /* Variables: the enrolment's, then the overrides; ones the (possibly new)
     * profile does not declare are dropped. */
    for (size_t i = 0; i < cred.metadata.n; i++) {
        const char *k = cred.metadata.keys[i];
        if (strncmp(k, "var.", 4) != 0)
            continue;
        bool declared = false;
        for (size_t j = 0; j < p->n_vars; j++)
            if (strcmp(p->vars[j].name, k + 4) == 0)
                declared = true;
        if (declared && !vars_set(&given, k + 4, cred.metadata.values[i]))
            goto done;
    }
    if (!vars_get(&given, "cn") && cred.common_name[0]) {
        for (size_t j = 0; j < p->n_vars; j++)
            if (strcmp(p->vars[j].name, "cn") == 0 && !vars_set(&given, "cn", cred.common_name))
                goto done;
    }
    for (size_t i = 0; i < override.n; i++)
        if (!vars_set(&given, override.keys[i], override.values[i]))
            goto done;
    if (!profile_resolve(p, &given, &vars))
        goto done;
    if (!ca_dir)
        ca_dir = vars_get(&cred.metadata, "ca_dir");
    if (!ca_dir || !cli_path_exists(ca_dir))
        ca_dir = "./ca";
    if (!cli_get_passphrase(pass_env, pass_file, &pass))
        goto done;
    if (!ca_open(ca_dir, capass_env, capass_file, &ca))
        goto done;
    ca_opened = true;

    char vid[16];
    cred_next_version(&cred, vid, sizeof(vid));
    if (!make_version(cred_dir, &cred, vid, p, &vars, &ca, pass))
        goto done;
    for (size_t i = 0; i < override.n; i++) {
        char key[96];
        snprintf(key, sizeof(key), "var.%s", override.keys[i]);
        if (!vars_set(&cred.metadata, key, override.values[i]))
            goto done;
    }
    if (!cred_save(cred_dir, &cred))
        goto done;
    struct cred_version *nv = cred_find(&cred, vid);
    printf("Version %s (PENDING) of credential %s\n", vid, id);
    printf("  Profile:  %s (%s)\n", p->name, p->algorithm);
    printf("  Serial:   %s\n", nv ? nv->serial : "?");
    printf("  Valid:    %s to %s\n", nv ? nv->not_before : "?", nv ? nv->not_after : "?");
    printf("Activate it with: qpki credential activate %s --version %s%s%s\n", id, vid,
           strcmp(cred_dir, "./credentials") ? " --cred-dir " : "",
           strcmp(cred_dir, "./credentials") ? cred_dir : "");
    rc = CLI_OK;
done:
    cred_unlock(lock);
    if (loaded)
        cred_free(&cred);
    cli_secret_free(pass);
    if (ca_opened)
        ca_close(&ca);
    profile_free(p);
    vars_free(&override);
    vars_free(&given);
    vars_free(&vars);
    return rc;
}

/* ---- versions ----------------------------------------------------------------------------- */

static const char versions_help[] =
    "Usage: qpki credential versions ID [--cred-dir DIR]\n"
    "\n"
    "List the versions of a credential: status (active, pending, archived), profiles,\n"
    "algorithms, certificate serial and expiry.\n"
    "\n"
    "Options:\n"
    "  --cred-dir DIR         credentials directory (default ./credentials)\n"
    "  -h, --help             this help\n";

int cmd_credential_versions(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cred_dir = "./credentials";
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CRED_DIR: cred_dir = optarg; break;
        case 'h': return cli_help(versions_help);
        default: return CLI_USAGE;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("give exactly one credential ID");
    struct credential cred;
    if (!cred_load(cred_dir, argv[optind], &cred))
        return CLI_USAGE;
    printf("Credential: %s\n", cred.id);
    if (cred.common_name[0])
        printf("Subject CN: %s\n", cred.common_name);
    printf("\n%-9s %-10s %-28s %-12s %-18s %-21s %s\n", "VERSION", "STATUS", "PROFILES",
           "ALGOS", "SERIAL", "NOT AFTER", "CREATED");
    for (size_t i = 0; i < cred.n_versions; i++)
        print_version_line(&cred, &cred.versions[i]);
    if (!cred.active[0])
        printf("\n(no active version)\n");
    cred_free(&cred);
    return CLI_OK;
}

/* ---- activate ----------------------------------------------------------------------------- */

static const char activate_help[] =
    "Usage: qpki credential activate ID --version vN [--cred-dir DIR]\n"
    "\n"
    "Make version vN the active one (a pending version after rotate, or an archived\n"
    "one to roll back).  <id>.crt and <id>.key switch to it atomically; a running\n"
    "qpki ocsp serve --credential ID picks it up without a restart.\n"
    "\n"
    "Options:\n"
    "  --version vN           the version to activate\n"
    "  --cred-dir DIR         credentials directory (default ./credentials)\n"
    "  -h, --help             this help\n";

int cmd_credential_activate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "version", required_argument, NULL, O_VERSION },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cred_dir = "./credentials", *version = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CRED_DIR: cred_dir = optarg; break;
        case O_VERSION: version = optarg; break;
        case 'h': return cli_help(activate_help);
        default: return CLI_USAGE;
        }
    }
    if (optind + 1 != argc)
        return cli_usage_error("give exactly one credential ID");
    if (!version)
        return cli_usage_error("--version vN is required");
    const char *id = argv[optind];
    if (!cred_valid_id(id))
        return cli_usage_error("'%s' is not a valid credential ID", id);
    char dir[PATH_MAX];
    if (!cred_dir_path(dir, sizeof(dir), cred_dir, id))
        return CLI_USAGE;
    if (!cli_path_exists(dir))
        return cli_error("credential '%s' not found in %s", id, cred_dir);

    int lock = -1, rc = CLI_USAGE;
    struct credential cred = { 0 };
    if (!cred_lock(cred_dir, id, &lock))
        return CLI_USAGE;
    if (!cred_load(cred_dir, id, &cred))
        goto done;
    struct cred_version *v = cred_find(&cred, version);
    if (!v) {
        cli_error("credential %s has no version %s (see qpki credential versions %s)", id,
                  version, id);
        goto done;
    }
    /* The new version's certificate must exist and parse before anything moves. */
    char vdir[PATH_MAX], path[PATH_MAX];
    qpki_cert *cert = NULL;
    if (!cred_version_path(vdir, sizeof(vdir), cred_dir, id, v->id) ||
        !cli_path(path, sizeof(path), "%s/%s", vdir, v->cert_file) ||
        !cli_load_cert(path, "certificate", &cert))
        goto done;
    qpki_time now = (qpki_time)time(NULL);
    if (!qpki_cert_valid_at(cert, now))
        cli_warn("the certificate of %s is not valid now", v->id);
    qpki_cert_free(&cert);
    if (!cli_path(path, sizeof(path), "%s/%s", vdir, v->key_file) || !cli_path_exists(path)) {
        cli_error("version %s has no private key (%s)", v->id, path);
        goto done;
    }

    if (strcmp(cred.active, v->id) == 0) {
        if (!cred_point_active(cred_dir, &cred, v))
            goto done;
        printf("%s is already the active version of %s\n", v->id, id);
        rc = CLI_OK;
        goto done;
    }
    char old[16];
    snprintf(old, sizeof(old), "%s", cred.active);
    struct cred_version *ov = old[0] ? cred_find(&cred, old) : NULL;
    char t[40];
    now_text(t, sizeof(t));
    if (ov)
        snprintf(ov->archived_at, sizeof(ov->archived_at), "%s", t);
    snprintf(v->activated_at, sizeof(v->activated_at), "%s", t);
    v->archived_at[0] = '\0';
    snprintf(cred.active, sizeof(cred.active), "%s", v->id);
    /* Switch the files first (what servers read), then record it; if recording
     * fails, switch back. */
    if (!cred_point_active(cred_dir, &cred, v))
        goto done;
    if (!cred_save(cred_dir, &cred)) {
        if (ov)
            (void)cred_point_active(cred_dir, &cred, ov);
        goto done;
    }
    printf("Activated %s of credential %s%s%s\n", v->id, id, ov ? " (was " : "",
           ov ? ov->id : "");
    if (ov)
        printf(")\n");
    printf("  %s/%s.crt and %s.key now point at versions/%s\n", dir, id, id, v->id);
    rc = CLI_OK;
done:
    cred_unlock(lock);
    cred_free(&cred);
    return rc;
}

/* ---- list ------------------------------------------------------------------------------------- */

static const char list_help[] =
    "Usage: qpki credential list [--cred-dir DIR]\n"
    "\n"
    "List the credentials in a directory with their active version.\n"
    "\n"
    "Options:\n"
    "  --cred-dir DIR         credentials directory (default ./credentials)\n"
    "  -h, --help             this help\n";

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cmd_credential_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cred_dir = "./credentials";
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CRED_DIR: cred_dir = optarg; break;
        case 'h': return cli_help(list_help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    DIR *d = opendir(cred_dir);
    if (!d)
        return cli_error("cannot open %s: %s", cred_dir, strerror(errno));
    char **ids = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char meta[PATH_MAX];
        if (!cred_valid_id(e->d_name))
            continue;
        if (snprintf(meta, sizeof(meta), "%s/%s/%s", cred_dir, e->d_name, CRED_META_FILE) >=
                (int)sizeof(meta) ||
            !cli_path_exists(meta))
            continue;
        char **more = realloc(ids, (n + 1) * sizeof(*ids));
        if (!more)
            break;
        ids = more;
        ids[n] = strdup(e->d_name);
        if (ids[n])
            n++;
    }
    closedir(d);
    qsort(ids, n, sizeof(*ids), cmp_str);
    if (n == 0)
        printf("(no credentials in %s)\n", cred_dir);
    else
        printf("%-32s %-7s %-9s %-28s %-21s %s\n", "ID", "ACTIVE", "VERSIONS", "PROFILE",
               "NOT AFTER", "SUBJECT CN");
    int rc = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        struct credential cred;
        if (!cred_load(cred_dir, ids[i], &cred)) {
            rc = CLI_USAGE;
            continue;
        }
        struct cred_version *v = cred.active[0] ? cred_find(&cred, cred.active) : NULL;
        printf("%-32s %-7s %-9zu %-28s %-21s %s\n", cred.id, cred.active[0] ? cred.active : "-",
               cred.n_versions, v ? cred_version_list(v, "profiles") : "-",
               v && v->not_after[0] ? v->not_after : "-", cred.common_name);
        cred_free(&cred);
    }
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return rc;
}
