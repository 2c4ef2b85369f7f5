/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credential_versions.c - qpki credential versions: list the versions of a credential
 * (layout and shared helpers: cli/cred.h, cli/credstore.c). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

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
        cred_print_version_line(&cred, &cred.versions[i]);
    if (!cred.active[0])
        printf("\n(no active version)\n");
    cred_free(&cred);
    return CLI_OK;
}

/* ---- activate ----------------------------------------------------------------------------- */
