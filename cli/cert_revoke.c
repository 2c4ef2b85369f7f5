/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cert_revoke.c - qpki cert revoke: turn a certificate's index.txt row
 * into an R row (atomically, under the CA directory's lock). */
#include <string.h>
#include <time.h>

#include <qpki/ca.h>

#include "cli.h"
#include "db.h"

static const char help[] =
    "Usage: qpki cert revoke --ca-dir DIR --serial HEX [--reason REASON] [--time TIME]\n"
    "                        [--db URL]\n"
    "\n"
    "Mark a certificate revoked in the CA directory's index.txt, or with --db in the\n"
    "PostgreSQL status database (one transaction; every node serving it answers\n"
    "'revoked' within seconds).  A responder serving the directory (qpki ocsp serve)\n"
    "answers 'revoked' from its next reload.  With --db, an unknown or already revoked\n"
    "serial is exit 1 and nothing changes.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR           CA directory (default ./ca)\n"
    "  --serial HEX           serial number (hex, leading zeros and 0x allowed)\n"
    "  --reason REASON        RFC 5280 CRLReason, case-insensitive: unspecified,\n"
    "                         keyCompromise, cACompromise, affiliationChanged, superseded,\n"
    "                         cessationOfOperation, certificateHold, removeFromCRL,\n"
    "                         privilegeWithdrawn, aACompromise (default: none recorded)\n"
    "  --time TIME            revocation time, RFC 3339 (default now)\n"
    "  --db URL               the status database (qpki-db(1); no password in URL); DIR\n"
    "                         then only names the CA (its ca.crt)\n"
    "  -h, --help             this help\n";

enum { O_CA_DIR = 256, O_SERIAL, O_REASON, O_TIME, O_DB };

static void print_revoked(const char *hex, qpki_time when, qpki_crl_reason reason)
{
    char t[32];
    cli_format_time(when, t, sizeof(t));
    printf("Revoked serial %s at %s%s%s\n", hex, t, reason == QPKI_REASON_NONE ? "" : ", reason ",
           reason == QPKI_REASON_NONE ? "" : qpki_crl_reason_name(reason));
}

/* --db: the row in the status database, one transaction (DESIGN §11). */
static int revoke_in_db(const char *url, const char *dir, const uint8_t *serial,
                        size_t serial_len, qpki_time when, qpki_crl_reason reason)
{
    qpki_cert *ca = NULL;
    uint8_t id[QPKI_DB_CA_ID_LEN];
    if (!cli_db_ca_of_dir(dir, &ca, id))
        return CLI_USAGE;
    qpki_cert_free(&ca);
    struct cli_db db;
    if (!cli_db_open(url, &db))
        return CLI_USAGE;
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'R';
    e.revocation_time = when;
    e.reason = reason;
    qpki_status st = db.ops->revoke(db.self, id, sizeof(id), serial, serial_len, &e);
    char hex[2 * 64 + 1], why[1024];
    cli_hex_upper(serial, serial_len, hex);
    int rc = CLI_OK;
    if (st == QPKI_ERR_NOT_FOUND) {
        cli_error("serial %s is not recorded for the CA of %s in the status database; "
                  "nothing changed", hex, dir);
        rc = CLI_VERIFY_FAILED;
    } else if (st == QPKI_ERR_EXISTS) {
        cli_error("serial %s is already revoked; nothing changed", hex);
        rc = CLI_VERIFY_FAILED;
    } else if (st != QPKI_OK) {
        rc = cli_error("cannot revoke serial %s: %s", hex,
                       cli_db_error(&db, why, sizeof(why))[0] ? why : qpki_strerror(st));
    } else {
        print_revoked(hex, when, reason);
    }
    cli_db_close(&db);
    return rc;
}

int cmd_cert_revoke(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "serial", required_argument, NULL, O_SERIAL },
        { "reason", required_argument, NULL, O_REASON },
        { "time", required_argument, NULL, O_TIME },
        { "db", required_argument, NULL, O_DB },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *serial_text = NULL, *reason_text = NULL, *time_text = NULL;
    const char *db_url = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_SERIAL: serial_text = optarg; break;
        case O_REASON: reason_text = optarg; break;
        case O_TIME: time_text = optarg; break;
        case O_DB: db_url = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!serial_text)
        return cli_usage_error("--serial HEX is required");
    uint8_t serial[64];
    size_t serial_len;
    if (!cli_parse_serial(serial_text, serial, sizeof(serial), &serial_len))
        return cli_usage_error("--serial '%s' is not a hexadecimal serial number", serial_text);
    qpki_crl_reason reason = QPKI_REASON_NONE;
    if (reason_text && qpki_crl_reason_from_name(reason_text, &reason) != QPKI_OK)
        return cli_usage_error("--reason '%s' is not an RFC 5280 reason (keyCompromise, "
                               "cACompromise, affiliationChanged, superseded, "
                               "cessationOfOperation, certificateHold, removeFromCRL, "
                               "privilegeWithdrawn, aACompromise, unspecified)",
                               reason_text);
    qpki_time when = (qpki_time)time(NULL);
    if (time_text && !cli_parse_time(time_text, &when))
        return cli_usage_error("--time '%s' is not an RFC 3339 time (2024-01-15T10:00:00Z)",
                               time_text);

    if (db_url)
        return revoke_in_db(db_url, dir, serial, serial_len, when, reason);

    qpki_ca_store *store = NULL;
    qpki_status st = qpki_ca_store_open(dir, &store);
    if (st != QPKI_OK)
        return cli_error_st(st, "cannot open the CA directory %s (index.txt)", dir);
    st = qpki_ca_store_revoke(store, serial, serial_len, when, reason);
    char hex[2 * sizeof(serial) + 1];
    cli_hex_upper(serial, serial_len, hex);
    int rc = CLI_OK;
    if (st == QPKI_ERR_NOT_FOUND) {
        rc = cli_error("serial %s is not in %s/index.txt", hex, dir);
    } else if (st == QPKI_ERR_EXISTS) {
        rc = cli_error("serial %s is already revoked", hex);
    } else if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(store);
        rc = cli_error("cannot revoke serial %s: %s", hex, why[0] ? why : qpki_strerror(st));
    } else {
        print_revoked(hex, when, reason);
    }
    qpki_ca_store_free(&store);
    return rc;
}
