/* SPDX-License-Identifier: Apache-2.0 */
/* cli/crl_gen.c - qpki crl gen: a complete or delta CRL v2 from the CA
 * directory's status rows (index.txt), signed by the CA (both keys of a
 * Catalyst CA), numbered from crlnumber and kept as crl/ca.crl. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/ca.h>
#include <qpki/crl.h>
#include <qpki/limits.h>

#include "cli.h"
#include "crl_make.h"
#include "db.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki crl gen --ca-dir DIR [--db URL] [--next-update DURATION] [--delta]\n"
    "                    [--out FILE] [--der] [--freshest-crl URL]\n"
    "\n"
    "Write a CRL v2 signed by the CA: every revoked, unexpired certificate of the CA\n"
    "directory's index.txt with its reason, invalidity date and hold instruction, a\n"
    "cRLNumber taken from the crlnumber file, and an authorityKeyIdentifier.  An\n"
    "ML-DSA CA signs with ML-DSA; a Catalyst CA adds the alternative signature.\n"
    "A complete CRL is also kept as DIR/crl/ca.crl (and crl/ca.crl.der): the base of\n"
    "the next delta CRLs.  --delta writes a delta CRL (RFC 5280 §5.2.4) against that\n"
    "base: the entries added or changed since, and removeFromCRL for those that left\n"
    "it (released from hold); it is kept as DIR/crl/ca-delta.crl.\n"
    "With --db, the rows and the CRL number come from the PostgreSQL status database\n"
    "(the CA registered by qpki db init --ca-dir) instead of index.txt and crlnumber.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               CA directory (default ./ca)\n"
    "  --db URL                   status database (libpq connection string, no\n"
    "                             password: use ~/.pgpass or PGPASSFILE)\n"
    "  --next-update DURATION     nextUpdate after now: 30s, 15m, 1h, 7d (default 7d)\n"
    "  --delta                    a delta CRL against DIR/crl/ca.crl\n"
    "  --freshest-crl URL         complete CRL: where its delta CRLs are published\n"
    "                             (freshestCRL; OpenSSL uses deltas only with it)\n"
    "  -o, --out FILE             the CRL (default standard output)\n"
    "  --der                      DER instead of PEM\n"
    "  --passphrase-env VAR       passphrase of an encrypted ca.key, from environment VAR\n"
    "  --passphrase-file F        ... or from the first line of file F\n"
    "  -h, --help                 this help\n";

enum { O_CA_DIR = 256, O_NEXT_UPDATE, O_DELTA, O_DER, O_PASS_ENV, O_PASS_FILE, O_FRESHEST,
       O_DB };

/* ---- the status database as the source of rows and numbers (--db) ---------------------- */

struct db_source {
    struct cli_db *db;
    uint8_t id[QPKI_DB_CA_ID_LEN];
    crl_row_fn fn;
    void *ctx;
};

static int db_row(void *user, const qpki_db_row *row)
{
    struct db_source *d = user;
    const qpki_db_entry *e = row->entry;
    struct crl_row r = {row->serial, row->serial_len, e->row_status, e->expiry,
                        e->revocation_time, e->invalidity_date, e->reason, e->hold_instruction};
    return d->fn(d->ctx, &r);
}

static qpki_status db_rows(void *self, crl_row_fn fn, void *ctx, char *err, size_t errlen)
{
    struct db_source *d = self;
    d->fn = fn;
    d->ctx = ctx;
    qpki_status st = d->db->ops->foreach(d->db->self, d->id, sizeof(d->id), db_row, d);
    if (st != QPKI_OK) {
        char why[512];
        snprintf(err, errlen, "cannot read the status database: %s",
                 cli_db_error(d->db, why, sizeof(why))[0] ? why : qpki_strerror(st));
    }
    return st;
}

static qpki_status db_number(void *self, uint8_t *number, size_t cap, size_t *len, char *err,
                             size_t errlen)
{
    struct db_source *d = self;
    const qpki_db_store_ops *o = d->db->ops;
    /* a plugin older than QPKI_DB_STORE_ABI_V2 keeps no CRL numbers */
    if (o->abi_version < QPKI_DB_STORE_ABI_V2 ||
        o->struct_size < offsetof(qpki_db_store_ops, next_crl_number) + sizeof(void (*)(void)) ||
        !o->next_crl_number) {
        snprintf(err, errlen, "the status database plugin keeps no CRL numbers (update it)");
        return QPKI_ERR_UNSUPPORTED;
    }
    qpki_status st = o->next_crl_number(d->db->self, d->id, sizeof(d->id), number, cap, len);
    if (st != QPKI_OK) {
        char why[512];
        snprintf(err, errlen, "cannot take the next CRL number from the status database: %s",
                 cli_db_error(d->db, why, sizeof(why))[0] ? why : qpki_strerror(st));
    }
    return st;
}

int cmd_crl_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "next-update", required_argument, NULL, O_NEXT_UPDATE },
        { "delta", no_argument, NULL, O_DELTA },
        { "out", required_argument, NULL, 'o' },
        { "der", no_argument, NULL, O_DER },
        { "freshest-crl", required_argument, NULL, O_FRESHEST },
        { "db", required_argument, NULL, O_DB },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *out_path = NULL, *next_text = "7d";
    const char *pass_env = NULL, *pass_file = NULL, *freshest = NULL, *db_url = NULL;
    bool delta = false, der_out = false;
    int c;
    while ((c = cli_getopt(argc, argv, "ho:", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_NEXT_UPDATE: next_text = optarg; break;
        case O_DELTA: delta = true; break;
        case 'o': out_path = optarg; break;
        case O_DER: der_out = true; break;
        case O_FRESHEST: freshest = optarg; break;
        case O_DB: db_url = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (freshest && delta)
        return cli_usage_error("--freshest-crl goes on complete CRLs, not with --delta");
    int64_t next_in;
    if (!cli_parse_duration(next_text, &next_in) || next_in <= 0)
        return cli_usage_error("--next-update '%s' is not a positive duration (30s, 15m, 1h, 7d)",
                               next_text);

    struct ca_ctx ca;
    if (!ca_open(dir, pass_env, pass_file, &ca))
        return CLI_USAGE;
    int rc = CLI_USAGE;
    struct cli_db db = {0};
    struct db_source dbs = {&db, {0}, NULL, NULL};
    struct crl_source src = crl_source_store(ca.store);
    if (db_url) {
        qpki_status idst = qpki_db_ca_id(ca.cert, dbs.id);
        if (idst != QPKI_OK) {
            cli_error_st(idst, "cannot compute the CA identifier");
            goto out;
        }
        if (!cli_db_open(db_url, &db))
            goto out;
        src = (struct crl_source){db_rows, db_number, &dbs};
    }
    qpki_crl *base = NULL;
    struct crl_made made = {0};
    char err[512], path[4096];
    qpki_time now = (qpki_time)time(NULL);
    if (delta) {
        if (!cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_CRL_FILE))
            goto out;
        if (!crl_load_base(path, ca.cert, &base, err, sizeof(err))) {
            cli_error("%s", err);
            goto out;
        }
    }
    struct crl_make m = {ca.cert, ca.signer, ca.alt_signer, src, now, next_in, freshest, base};
    if (!crl_make(&m, &made, err, sizeof(err))) {
        cli_error("%s", err);
        goto out;
    }
    uint8_t *der = made.der;
    size_t der_len = made.len;
    qpki_status st = qpki_ca_store_save_crl(ca.store, der, der_len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca.store);
        cli_error("cannot keep the CRL in %s/%s: %s", dir, QPKI_CA_CRL_DIR,
                  why[0] ? why : qpki_strerror(st));
        goto out;
    }
    if (der_out) {
        if (!cli_write_file(out_path, der, der_len, 0644, false))
            goto out;
    } else {
        char *pem = cli_pem("X509 CRL", der, der_len);
        bool ok = pem && cli_write_file(out_path, (const uint8_t *)pem, strlen(pem), 0644, false);
        free(pem);
        if (!ok)
            goto out;
    }
    {
        char hex[2 * QPKI_CRL_NUMBER_MAX + 3], t[64];
        cli_hex_upper(made.number, made.number_len, hex);
        cli_format_time(now + next_in, t, sizeof(t));
        /* with the CRL on standard output, the summary goes to standard error */
        FILE *f = out_path && strcmp(out_path, "-") != 0 ? stdout : stderr;
        fprintf(f, "%s CRL number %s: %zu entr%s, next update %s%s\n",
                delta ? "Delta" : "Complete", made.number_len ? hex : "00", made.entries,
                made.entries == 1 ? "y" : "ies", t,
                ca.alt_signer ? " (Catalyst: two signatures)" : "");
    }
    rc = CLI_OK;
out:
    qpki_free(made.der);
    qpki_crl_free(&base);
    cli_db_close(&db);
    ca_close(&ca);
    return rc;
}
