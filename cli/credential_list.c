/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_list.c - qpki credential list: the credentials of a directory
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cred.h"
#include "pki.h"

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
    const char *cred_dir;
    int opt = cred_dir_option(argc, argv, list_help, &cred_dir);
    if (opt >= 0)
        return opt;
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
