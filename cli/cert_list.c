/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cert_list.c - qpki cert list: the CA directory's index.txt as a table. */
#include <string.h>
#include <time.h>

#include <qpki/ca.h>

#include "cli.h"
#include "db.h"
#include "doc.h"

static const char help[] =
    "Usage: qpki cert list [--ca-dir DIR] [--status V|R|E] [--json] [--db URL]\n"
    "\n"
    "List the certificates recorded in the CA directory's index.txt, or with --db the\n"
    "CA's rows in the PostgreSQL status database (ascending serial order).\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR           CA directory (default ./ca)\n"
    "  --status S             only rows with status V (valid), R (revoked) or E (expired)\n"
    "  --json                 JSON array instead of a table\n"
    "  --db URL               read the status database (qpki-db(1); no password in URL);\n"
    "                         DIR then only names the CA (its ca.crt)\n"
    "  -h, --help             this help\n";

enum { O_CA_DIR = 256, O_STATUS, O_JSON, O_DB };

struct list_ctx {
    char filter;
    bool json;
    struct jw *w;
    size_t count;
    qpki_time now;
};

static const char *status_word(char s)
{
    return s == 'V' ? "valid" : s == 'R' ? "revoked" : "expired";
}

/* One row, from index.txt or from the database. */
static int print_row(struct list_ctx *c, const qpki_ca_row *row)
{
    if (c->filter && row->status != c->filter)
        return 0;
    char expiry[32], revoked[32] = "";
    cli_format_time(row->expiry, expiry, sizeof(expiry));
    if (row->status == 'R')
        cli_format_time(row->revocation_time, revoked, sizeof(revoked));
    const char *reason = row->status == 'R' && row->reason != QPKI_REASON_NONE
                             ? qpki_crl_reason_name(row->reason)
                             : "";
    if (c->json) {
        jw_object_begin(c->w, NULL);
        jw_string(c->w, "status", status_word(row->status));
        jw_string(c->w, "serial", row->serial_hex);
        jw_string(c->w, "expiry", expiry);
        if (row->status == 'R') {
            jw_string(c->w, "revocation_time", revoked);
            jw_string(c->w, "revocation_reason", reason[0] ? reason : NULL);
        }
        jw_string(c->w, "filename", row->filename);
        jw_string(c->w, "subject", row->subject);
        jw_object_end(c->w);
    } else {
        if (c->count == 0)
            printf("%-6s %-40s %-20s %-20s %-20s %s\n", "STATUS", "SERIAL", "EXPIRES",
                   "REVOKED", "REASON", "SUBJECT");
        const char *st = row->status == 'V' && row->expiry < c->now ? "V*" : "";
        char status[4] = { row->status, 0, 0, 0 };
        printf("%-6s %-40s %-20s %-20s %-20s %s\n", st[0] ? st : status, row->serial_hex,
               expiry, revoked[0] ? revoked : "-", reason[0] ? reason : "-", row->subject);
    }
    c->count++;
    return 0;
}

static int row_cb(void *user, const qpki_ca_row *row)
{
    return print_row(user, row);
}

static int db_row_cb(void *user, const qpki_db_row *r)
{
    char hex[2 * 32 + 3];
    cli_hex_upper(r->serial, r->serial_len, hex);
    if (r->serial_len == 0)
        strcpy(hex, "00");
    qpki_ca_row row = {
        .struct_size = (uint32_t)sizeof(row),
        .status = r->entry->row_status,
        .expiry = r->entry->expiry,
        .revocation_time = r->entry->revocation_time,
        .reason = r->entry->reason,
        .serial_hex = hex,
        .serial = r->serial,
        .serial_len = r->serial_len,
        .revocation = "",
        .filename = r->filename ? r->filename : "unknown",
        .subject = r->subject ? r->subject : "",
        .hold_instruction = r->entry->hold_instruction,
        .invalidity_date = r->entry->invalidity_date,
    };
    return print_row(user, &row);
}

int cmd_cert_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "status", required_argument, NULL, O_STATUS },
        { "json", no_argument, NULL, O_JSON },
        { "db", required_argument, NULL, O_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *db_url = NULL;
    struct list_ctx ctx = { 0 };
    ctx.now = (qpki_time)time(NULL);
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_STATUS:
            if (strlen(optarg) != 1 || !strchr("VRE", optarg[0]))
                return cli_usage_error("--status must be V, R or E");
            ctx.filter = optarg[0];
            break;
        case O_JSON: ctx.json = true; break;
        case O_DB: db_url = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    qpki_ca_store *store = NULL;
    struct cli_db db = { 0 };
    uint8_t id[QPKI_DB_CA_ID_LEN];
    qpki_status st;
    if (db_url) {
        qpki_cert *ca = NULL;
        if (!cli_db_ca_of_dir(dir, &ca, id))
            return CLI_USAGE;
        qpki_cert_free(&ca);
        if (!cli_db_open(db_url, &db))
            return CLI_USAGE;
    } else if ((st = qpki_ca_store_open(dir, &store)) != QPKI_OK) {
        return cli_error_st(st, "cannot open the CA directory %s (index.txt)", dir);
    }
    struct jw w;
    jw_init(&w);
    ctx.w = &w;
    if (ctx.json)
        jw_array_begin(&w, NULL);
    st = db_url ? db.ops->foreach(db.self, id, sizeof(id), db_row_cb, &ctx)
                : qpki_ca_store_foreach(store, row_cb, &ctx);
    int rc = CLI_OK;
    if (st != QPKI_OK && db_url) {
        char why[1024];
        rc = cli_error("cannot read the CA's rows from the status database: %s",
                       cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
    } else if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(store);
        rc = cli_error("cannot read %s/index.txt: %s", dir, why[0] ? why : qpki_strerror(st));
    } else if (ctx.json) {
        jw_array_end(&w);
        const char *text = jw_finish(&w);
        if (text)
            fputs(text, stdout);
    } else if (ctx.count == 0) {
        printf("(no certificates)\n");
    } else {
        printf("\n%zu certificate%s%s\n", ctx.count, ctx.count == 1 ? "" : "s",
               " (V* = valid row past its expiry)");
    }
    jw_free(&w);
    qpki_ca_store_free(&store);
    cli_db_close(&db);
    return rc;
}
