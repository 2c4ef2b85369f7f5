/* SPDX-License-Identifier: Apache-2.0 */
/* cli/db_init.c - qpki db init: create or migrate the status database schema
 * (sql/, docs/DATABASE.md) and register CAs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"

static const char help[] =
    "Usage: qpki db init --db URL [--ca-dir DIR]...\n"
    "\n"
    "Create the qpki schema in a PostgreSQL database, or migrate it to the newest\n"
    "version this qpki knows; a schema already current is left as it is.  A schema\n"
    "newer than this qpki knows is refused (exit 2).  Also creates the group roles\n"
    "qpki_reader (nodes: SELECT) and qpki_writer (CA commands) when missing, so run\n"
    "it as the database owner with CREATEROLE (or create the roles first).\n"
    "\n"
    "Options:\n"
    "  --db URL         libpq connection string: postgresql://USER@HOST:PORT/DB?sslmode=...\n"
    "                   or \"host=... dbname=...\".  No password in it: use a password\n"
    "                   file (PGPASSFILE, ~/.pgpass), a service file or PGPASSWORD\n"
    "  --ca-dir DIR     also register the CA of DIR (ca.crt or cacert.pem) and print its\n"
    "                   identifier (SHA-256 of its SubjectPublicKeyInfo); repeatable\n"
    "  -h, --help       this help\n";

enum { O_DB = 256, O_CA_DIR };

int cmd_db_init(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, NULL, O_DB },
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *url = NULL;
    const char **dirs = calloc((size_t)argc, sizeof(*dirs));
    size_t n_dirs = 0;
    int c, rc = CLI_USAGE;
    if (!dirs)
        return cli_error("out of memory");
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_DB: url = optarg; break;
        case O_CA_DIR: dirs[n_dirs++] = optarg; break;
        case 'h': free(dirs); return cli_help(help);
        default: free(dirs); return CLI_USAGE;
        }
    }
    if (optind < argc) {
        free(dirs);
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    }
    if (!url) {
        free(dirs);
        return cli_usage_error("--db URL is required");
    }
    struct cli_db db;
    if (!cli_db_open(url, &db)) {
        free(dirs);
        return CLI_USAGE;
    }
    char why[1024];
    uint32_t before = 0, after = 0;
    qpki_status st = db.ops->init_schema(db.self, &before, &after);
    if (st != QPKI_OK) {
        cli_error("%s", cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
        goto out;
    }
    if (before == after)
        printf("Schema version %u is current; nothing to do\n", after);
    else if (before == 0)
        printf("Created the qpki schema, version %u\n", after);
    else
        printf("Migrated the qpki schema from version %u to %u\n", before, after);
    for (size_t i = 0; i < n_dirs; i++) {
        qpki_cert *ca = NULL;
        uint8_t id[QPKI_DB_CA_ID_LEN];
        if (!cli_db_ca_of_dir(dirs[i], &ca, id))
            goto out;
        const uint8_t *der;
        size_t der_len;
        qpki_cert_der(ca, &der, &der_len);
        char base[256];
        cli_db_ca_label(dirs[i], base, sizeof(base));
        qpki_db_import_counts counts;
        st = db.ops->import_begin(db.self, id, sizeof(id), base, der, der_len);
        if (st == QPKI_OK)
            st = db.ops->import_end(db.self, true, &counts);
        qpki_cert_free(&ca);
        if (st != QPKI_OK) {
            cli_error("cannot register the CA of %s: %s", dirs[i],
                      cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
            goto out;
        }
        char hex[2 * QPKI_DB_CA_ID_LEN + 1];
        cli_db_ca_hex(id, hex);
        printf("Registered CA %s (%s): ca_id %s\n", base, dirs[i], hex);
    }
    rc = CLI_OK;
out:
    cli_db_close(&db);
    free(dirs);
    return rc;
}
