/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_rotate.c - qpki credential rotate: a pending version with new keys (optionally another profile)
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */
#include <string.h>

#include "cli.h"
#include "cred.h"
#include "pki.h"

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
    if (!cred_make_version(cred_dir, &cred, vid, p, &vars, &ca, pass))
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
