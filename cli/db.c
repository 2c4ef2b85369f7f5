/* SPDX-License-Identifier: Apache-2.0 */
/* cli/db.c - the database plugin for the CA commands (cli/db.h). */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "db.h"

bool cli_db_open(const char *url, struct cli_db *db)
{
    memset(db, 0, sizeof(*db));
    char err[1024] = "";
    qpki_status st = qpki_db_plugin_load(NULL, &db->plugin, err, sizeof(err));
    if (st != QPKI_OK) {
        cli_error("cannot load the database plugin: %s", err[0] ? err : qpki_strerror(st));
        return false;
    }
    st = qpki_db_plugin_check_url(db->plugin, url, err, sizeof(err));
    if (st == QPKI_OK)
        st = qpki_db_plugin_open_store(db->plugin, url, &db->ops, &db->self, err, sizeof(err));
    if (st != QPKI_OK) {
        cli_error("--db: %s", err[0] ? err : qpki_strerror(st));
        qpki_db_plugin_free(&db->plugin);
        return false;
    }
    return true;
}

void cli_db_close(struct cli_db *db)
{
    if (db->ops)
        db->ops->close(db->self);
    db->ops = NULL;
    db->self = NULL;
    qpki_db_plugin_free(&db->plugin);
}

const char *cli_db_error(struct cli_db *db, char *buf, size_t size)
{
    buf[0] = '\0';
    if (db->ops && db->ops->last_error)
        db->ops->last_error(db->self, buf, size);
    return buf;
}

bool cli_db_ca_of_dir(const char *dir, qpki_cert **cert, uint8_t id[QPKI_DB_CA_ID_LEN])
{
    static const char *const names[] = {"ca.crt", "cacert.pem"};
    char path[PATH_MAX];
    *cert = NULL;
    for (size_t i = 0; i < 2; i++) {
        if (!cli_path(path, sizeof(path), "%s/%s", dir, names[i]))
            return false;
        if (cli_path_exists(path)) {
            if (!cli_load_cert(path, "CA certificate", cert))
                return false;
            qpki_status st = qpki_db_ca_id(*cert, id);
            if (st != QPKI_OK) {
                qpki_cert_free(cert);
                cli_error_st(st, "cannot compute the CA identifier of %s", path);
                return false;
            }
            return true;
        }
    }
    cli_error("%s has no CA certificate (ca.crt or cacert.pem)", dir);
    return false;
}

void cli_db_ca_hex(const uint8_t id[QPKI_DB_CA_ID_LEN], char *buf)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < QPKI_DB_CA_ID_LEN; i++) {
        buf[2 * i] = digits[id[i] >> 4];
        buf[2 * i + 1] = digits[id[i] & 15];
    }
    buf[2 * QPKI_DB_CA_ID_LEN] = '\0';
}

void cli_db_ca_label(const char *dir, char *buf, size_t size)
{
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    size_t start = 0;
    for (size_t i = 0; i + 1 < n; i++)
        if (dir[i] == '/')
            start = i + 1;
    snprintf(buf, size, "%.*s", (int)(n - start), dir + start);
}
