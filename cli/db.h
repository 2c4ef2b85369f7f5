/* SPDX-License-Identifier: Apache-2.0 */
/* cli/db.h - what the commands that write a status database share (`qpki db
 * init|import|export`, `qpki cert issue|revoke|list --db`): the database plugin
 * (qpki-db-pgsql.so, loaded at run time: the qpki binary never links libpq),
 * the connection string rules and the CA identifier. */
#ifndef QPKI_CLI_DB_H
#define QPKI_CLI_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qpki/cert.h>
#include <qpki/db_plugin.h>

/* An open store (the writing side of the database). */
struct cli_db {
    qpki_db_plugin *plugin;
    const qpki_db_store_ops *ops;
    void *self;
};

/* Load the plugin, refuse a URL with a password (DESIGN §11: no secret in argv)
 * and connect.  Prints the error and returns false (exit 2). */
bool cli_db_open(const char *url, struct cli_db *db);
void cli_db_close(struct cli_db *db);
/* The store's last message ("" when none). */
const char *cli_db_error(struct cli_db *db, char *buf, size_t size);

/* The CA certificate of a CA directory (ca.crt, or cacert.pem of an `openssl
 * ca` directory) and its identifier in the database.  Prints the error. */
bool cli_db_ca_of_dir(const char *dir, qpki_cert **cert, uint8_t id[QPKI_DB_CA_ID_LEN]);
/* The identifier in lower-case hex, as sha256sum prints it (buf: 65 bytes). */
void cli_db_ca_hex(const uint8_t id[QPKI_DB_CA_ID_LEN], char *buf);
/* The label of a CA directory: its last path component ("ca" for "/srv/ca/"). */
void cli_db_ca_label(const char *dir, char *buf, size_t size);

#endif
