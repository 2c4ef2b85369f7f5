/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cert_list.c - qpki cert list: the CA directory's index.txt as a table. */
#include <string.h>
#include <time.h>

#include <qpki/ca.h>

#include "cli.h"
#include "doc.h"

static const char help[] =
    "Usage: qpki cert list [--ca-dir DIR] [--status V|R|E] [--json]\n"
    "\n"
    "List the certificates recorded in the CA directory's index.txt.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR           CA directory (default ./ca)\n"
    "  --status S             only rows with status V (valid), R (revoked) or E (expired)\n"
    "  --json                 JSON array instead of a table\n"
    "  -h, --help             this help\n";

enum { O_CA_DIR = 256, O_STATUS, O_JSON };

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

static int row_cb(void *user, const qpki_ca_row *row)
{
    struct list_ctx *c = user;
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

int cmd_cert_list(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "status", required_argument, NULL, O_STATUS },
        { "json", no_argument, NULL, O_JSON },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca";
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
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    qpki_ca_store *store = NULL;
    qpki_status st = qpki_ca_store_open(dir, &store);
    if (st != QPKI_OK)
        return cli_error_st(st, "cannot open the CA directory %s (index.txt)", dir);
    struct jw w;
    jw_init(&w);
    ctx.w = &w;
    if (ctx.json)
        jw_array_begin(&w, NULL);
    st = qpki_ca_store_foreach(store, row_cb, &ctx);
    int rc = CLI_OK;
    if (st != QPKI_OK) {
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
    return rc;
}
