/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_versions.c - qpki credential versions: list the versions of a credential
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */

#include "cli.h"
#include "cred.h"
#include "pki.h"

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
    const char *cred_dir;
    int opt = cred_dir_option(argc, argv, versions_help, &cred_dir);
    if (opt >= 0)
        return opt;
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
        cred_print_version_line(&cred, &cred.versions[i]);
    if (!cred.active[0])
        printf("\n(no active version)\n");
    cred_free(&cred);
    return CLI_OK;
}
