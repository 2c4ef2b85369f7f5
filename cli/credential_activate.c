/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_activate.c - qpki credential activate: switch the active version atomically
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cred.h"
#include "pki.h"

static const char activate_help[] =
    "Usage: qpki credential activate ID --version vN [--cred-dir DIR]\n"
    "\n"
    "Make version vN the active one (a pending version after rotate, or an archived\n"
    "one to roll back).  <id>.crt and <id>.key switch to it atomically; a running\n"
    "qpki ocsp serve --credential ID picks it up without a restart.  The version's\n"
    "private key (and Catalyst alternative key) must load and belong to its\n"
    "certificate, else nothing changes (exit 2).\n"
    "\n"
    "Options:\n"
    "  --version vN           the version to activate\n"
    "  --cred-dir DIR         credentials directory (default ./credentials)\n"
    "  --passphrase-env VAR   passphrase of an encrypted key, from environment VAR\n"
    "  --passphrase-file F    ... or from the first line of file F\n"
    "  -h, --help             this help\n";

int cmd_credential_activate(int argc, char **argv)
{
    static const struct option opts[] = {
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "version", required_argument, NULL, O_VERSION },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *cred_dir = "./credentials", *version = NULL;
    const char *pass_env = NULL, *pass_file = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CRED_DIR: cred_dir = optarg; break;
        case O_VERSION: version = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
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
    /* A server switches to what is activated: the key must load and belong to the
     * certificate (and a Catalyst alternative key to its altSubjectPublicKeyInfo)
     * before anything moves. */
    char cert_path[PATH_MAX], alt_path[PATH_MAX];
    if (!cli_path(cert_path, sizeof(cert_path), "%s/%s", vdir, v->cert_file) ||
        (v->alt_key_file[0] &&
         !cli_path(alt_path, sizeof(alt_path), "%s/%s", vdir, v->alt_key_file)))
        goto done;
    struct cli_signer_opts so = {.cert = cert_path, .key = path, .passphrase_env = pass_env,
                                 .passphrase_file = pass_file};
    qpki_signer *signer = NULL, *alt = NULL;
    if (cli_load_responder_alt(&so, v->alt_key_file[0] ? alt_path : NULL, NULL, &cert, &signer,
                               &alt) != CLI_OK) {
        cli_error("%s of credential %s not activated (the active version is unchanged)", v->id,
                  id);
        goto done;
    }
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    qpki_cert_free(&cert);

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
    cred_now_text(t, sizeof(t));
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
