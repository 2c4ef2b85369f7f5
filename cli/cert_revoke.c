/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cert_revoke.c - qpki cert revoke: turn a certificate's index.txt row
 * into an R row (atomically, under the CA directory's lock). */
#include <string.h>
#include <time.h>

#include <qpki/ca.h>

#include "cli.h"

static const char help[] =
    "Usage: qpki cert revoke --ca-dir DIR --serial HEX [--reason REASON] [--time TIME]\n"
    "\n"
    "Mark a certificate revoked in the CA directory's index.txt.  A responder serving\n"
    "the directory (qpki ocsp serve) answers 'revoked' from its next reload.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR           CA directory (default ./ca)\n"
    "  --serial HEX           serial number (hex, leading zeros and 0x allowed)\n"
    "  --reason REASON        RFC 5280 CRLReason, case-insensitive: unspecified,\n"
    "                         keyCompromise, cACompromise, affiliationChanged, superseded,\n"
    "                         cessationOfOperation, certificateHold, removeFromCRL,\n"
    "                         privilegeWithdrawn, aACompromise (default: none recorded)\n"
    "  --time TIME            revocation time, RFC 3339 (default now)\n"
    "  -h, --help             this help\n";

enum { O_CA_DIR = 256, O_SERIAL, O_REASON, O_TIME };

int cmd_cert_revoke(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "serial", required_argument, NULL, O_SERIAL },
        { "reason", required_argument, NULL, O_REASON },
        { "time", required_argument, NULL, O_TIME },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *serial_text = NULL, *reason_text = NULL, *time_text = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_SERIAL: serial_text = optarg; break;
        case O_REASON: reason_text = optarg; break;
        case O_TIME: time_text = optarg; break;
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
        char t[32];
        cli_format_time(when, t, sizeof(t));
        printf("Revoked serial %s at %s%s%s\n", hex, t, reason == QPKI_REASON_NONE ? "" : ", reason ",
               reason == QPKI_REASON_NONE ? "" : qpki_crl_reason_name(reason));
    }
    qpki_ca_store_free(&store);
    return rc;
}
