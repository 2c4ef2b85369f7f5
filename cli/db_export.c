/* SPDX-License-Identifier: Apache-2.0 */
/* cli/db_export.c - qpki db export: a CA's rows from the status database as an
 * OpenSSL-compatible index.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "db.h"

static const char help[] =
    "Usage: qpki db export --db URL --ca-dir DIR --out FILE\n"
    "\n"
    "Write the rows the status database holds for the CA of DIR (its ca.crt or\n"
    "cacert.pem names it) as an index.txt that `openssl ca` and `openssl ocsp -index`\n"
    "read: one row per certificate in ascending serial order, written atomically\n"
    "(a temporary file renamed over FILE).  Reads one consistent snapshot.\n"
    "\n"
    "Options:\n"
    "  --db URL         libpq connection string (no password: PGPASSFILE, ~/.pgpass, a\n"
    "                   service file or PGPASSWORD); qpki_reader is enough\n"
    "  --ca-dir DIR     the CA directory (only its certificate is read)\n"
    "  -o, --out FILE   the index file to write (- for standard output)\n"
    "  -h, --help       this help\n";

enum { O_DB = 256, O_CA_DIR };

struct export_ctx {
    struct cli_out *out;
    char *buf;
    size_t len, cap;
    uint64_t rows;
    bool failed;
    char bad_serial[2 * 32 + 1];
};

static int row_cb(void *user, const qpki_db_row *row)
{
    struct export_ctx *c = user;
    size_t n = 0;
    if (c->cap - c->len < 20000 + 2) {
        if (!cli_out_write(c->out, c->buf, c->len)) {
            c->failed = true;
            return 1;
        }
        c->len = 0;
    }
    qpki_status st = qpki_db_row_format_index(row, c->buf + c->len, c->cap - c->len - 1, &n);
    if (st != QPKI_OK) {
        cli_hex_upper(row->serial, row->serial_len <= 32 ? row->serial_len : 0, c->bad_serial);
        cli_error("serial %s: the row cannot be written as an index.txt line: %s",
                  c->bad_serial, qpki_strerror(st));
        cli_out_abort(c->out);
        c->failed = true;
        return 1;
    }
    c->len += n;
    c->buf[c->len++] = '\n';
    c->rows++;
    return 0;
}

int cmd_db_export(int argc, char **argv)
{
    static const struct option opts[] = {
        { "db", required_argument, NULL, O_DB },
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "out", required_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *url = NULL, *dir = NULL, *path = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_DB: url = optarg; break;
        case O_CA_DIR: dir = optarg; break;
        case 'o': path = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!url || !dir || !path)
        return cli_usage_error("--db URL, --ca-dir DIR and --out FILE are required");
    qpki_cert *ca = NULL;
    uint8_t id[QPKI_DB_CA_ID_LEN];
    if (!cli_db_ca_of_dir(dir, &ca, id))
        return CLI_USAGE;
    qpki_cert_free(&ca);
    struct cli_db db;
    if (!cli_db_open(url, &db))
        return CLI_USAGE;
    int rc = CLI_USAGE;
    struct cli_out out;
    struct export_ctx ctx = { &out, NULL, 0, 1u << 20, 0, false, "" };
    ctx.buf = malloc(ctx.cap);
    if (!ctx.buf) {
        cli_error("out of memory");
        goto done;
    }
    if (!cli_out_open(path, 0644, false, &out))
        goto done;
    qpki_status st = db.ops->foreach(db.self, id, sizeof(id), row_cb, &ctx);
    if (ctx.failed)
        goto done;
    if (st != QPKI_OK) {
        char why[1024];
        cli_out_abort(&out);
        cli_error("cannot read the CA's rows: %s",
                  cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
        goto done;
    }
    if (!cli_out_write(&out, ctx.buf, ctx.len) || !cli_out_commit(&out))
        goto done;
    char hex[2 * QPKI_DB_CA_ID_LEN + 1];
    cli_db_ca_hex(id, hex);
    fprintf(stderr, "Exported %llu rows of CA %s to %s\n", (unsigned long long)ctx.rows, hex,
            path);
    rc = CLI_OK;
done:
    free(ctx.buf);
    cli_db_close(&db);
    return rc;
}
