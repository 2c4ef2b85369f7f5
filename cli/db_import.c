/* SPDX-License-Identifier: Apache-2.0 */
/* cli/db_import.c - qpki db import: load a CA directory's index.txt into the
 * status database (one transaction, COPY). */
#include <stdio.h>
#include <string.h>

#include <qpki/ca.h>

#include "cli.h"
#include "db.h"

static const char help[] =
    "Usage: qpki db import --db URL --ca-dir DIR\n"
    "\n"
    "Load the rows of DIR/index.txt (OpenSSL's or QPKI's format) into the status\n"
    "database as the CA of DIR (identified by the SHA-256 of its certificate's\n"
    "SubjectPublicKeyInfo), in one transaction: serials the database lacks are\n"
    "inserted, rows whose status, times or reason differ are updated, the rest is\n"
    "left alone, rows the database has and the file does not are kept.  Running it\n"
    "twice changes nothing the second time.  Prints the counts.\n"
    "\n"
    "Options:\n"
    "  --db URL         libpq connection string (no password: PGPASSFILE, ~/.pgpass, a\n"
    "                   service file or PGPASSWORD); a role with qpki_writer\n"
    "  --ca-dir DIR     CA directory: ca.crt (or cacert.pem) and index.txt\n"
    "  -h, --help       this help\n";

enum { O_DB = 256, O_CA_DIR };

struct import_ctx {
    struct cli_db *db;
    qpki_status st;
    size_t line;
    uint64_t rows;
};

static int row_cb(void *user, const qpki_ca_row *r)
{
    struct import_ctx *c = user;
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = r->status;
    e.expiry = r->expiry;
    if (r->status == 'R') {
        e.revocation_time = r->revocation_time;
        e.reason = r->reason;
        e.hold_instruction = r->hold_instruction;
        e.invalidity_date = r->invalidity_date;
    }
    qpki_db_row row = {
        .struct_size = (uint32_t)sizeof(row),
        .serial = r->serial,
        .serial_len = r->serial_len,
        .entry = &e,
        .filename = r->filename,
        .subject = r->subject,
    };
    c->st = c->db->ops->import_row(c->db->self, &row);
    c->line = r->line;
    if (c->st != QPKI_OK)
        return 1;
    c->rows++;
    return 0;
}

int cmd_db_import(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, NULL, O_DB },
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *url = NULL, *dir = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_DB: url = optarg; break;
        case O_CA_DIR: dir = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!url || !dir)
        return cli_usage_error("--db URL and --ca-dir DIR are required");

    qpki_cert *ca = NULL;
    qpki_ca_store *store = NULL;
    uint8_t id[QPKI_DB_CA_ID_LEN];
    if (!cli_db_ca_of_dir(dir, &ca, id))
        return CLI_USAGE;
    qpki_status st = qpki_ca_store_open(dir, &store);
    if (st != QPKI_OK) {
        qpki_cert_free(&ca);
        return cli_error_st(st, "cannot open %s/index.txt", dir);
    }
    struct cli_db db;
    if (!cli_db_open(url, &db)) {
        qpki_cert_free(&ca);
        qpki_ca_store_free(&store);
        return CLI_USAGE;
    }
    int rc = CLI_USAGE;
    char why[1024], label[256], hex[2 * QPKI_DB_CA_ID_LEN + 1];
    const uint8_t *der;
    size_t der_len;
    qpki_cert_der(ca, &der, &der_len);
    cli_db_ca_label(dir, label, sizeof(label));
    cli_db_ca_hex(id, hex);
    st = db.ops->import_begin(db.self, id, sizeof(id), label, der, der_len);
    if (st != QPKI_OK) {
        cli_error("cannot start the import: %s",
                  cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
        goto out;
    }
    struct import_ctx ctx = { &db, QPKI_OK, 0, 0 };
    st = qpki_ca_store_foreach(store, row_cb, &ctx);
    if (st != QPKI_OK || ctx.st != QPKI_OK) {
        if (st != QPKI_OK)
            cli_error("cannot read %s/index.txt: %s", dir,
                      qpki_ca_store_last_error(store)[0] ? qpki_ca_store_last_error(store)
                                                         : qpki_strerror(st));
        else
            cli_error("%s/index.txt:%zu: %s", dir, ctx.line,
                      cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(ctx.st));
        (void)db.ops->import_end(db.self, false, NULL);
        fprintf(stderr, "nothing was imported\n");
        goto out;
    }
    qpki_db_import_counts counts;
    st = db.ops->import_end(db.self, true, &counts);
    if (st != QPKI_OK) {
        cli_error("import failed, nothing was imported: %s",
                  cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
        goto out;
    }
    printf("Imported %llu rows of %s/index.txt as CA %s (ca_id %s): %llu inserted, "
           "%llu updated, %llu unchanged\n",
           (unsigned long long)ctx.rows, dir, label, hex, (unsigned long long)counts.inserted,
           (unsigned long long)counts.updated, (unsigned long long)counts.unchanged);
    rc = CLI_OK;
out:
    cli_db_close(&db);
    qpki_ca_store_free(&store);
    qpki_cert_free(&ca);
    return rc;
}
