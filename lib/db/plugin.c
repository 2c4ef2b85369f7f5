/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/plugin.c - status-database plugins (qpki/db_plugin.h): loading through
 * the one plugin loader (lib/dlplugin.c), the checks on what a plugin hands
 * back, the CA identifier, and index.txt lines for exports. */
#include <dlfcn.h>
#include <string.h>

#include <qpki/db_plugin.h>
#include <qpki/limits.h>

#include "crypto/crypto.h"
#include "db/index_row.h"
#include "db/db_internal.h"
#include "dlplugin.h"
#include "internal.h"

struct qpki_db_plugin {
    void *dl;
    const qpki_db_plugin_desc *desc;
};

/* The last field of each V1 structure: a struct_size below its end means a
 * truncated (broken) layout. */
#define V1_DESC_SIZE (offsetof(qpki_db_plugin_desc, open_store) + sizeof(void (*)(void)))
#define V1_STORE_SIZE (offsetof(qpki_db_store_ops, close) + sizeof(void (*)(void)))

static const dlplugin_kind db_kind = {
    .what = "status database plugin",
    .default_file = QPKI_DB_PLUGIN_PGSQL_NAME,
    .entry_symbol = QPKI_DB_PLUGIN_ENTRY,
    .abi_max = QPKI_DB_PLUGIN_ABI_V1,
    .min_size = V1_DESC_SIZE,
    /* libpq and the TLS library under it cannot be unloaded safely: the plugin
     * stays mapped, and sources (qpki_db handles holding its vtable) outlive
     * qpki_db_plugin_free. */
    .dl_flags = RTLD_NODELETE,
};

qpki_status qpki_db_plugin_load(const char *plugin_path, qpki_db_plugin **out, char *err,
                                size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!out) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    *out = NULL;
    void *dl = NULL;
    const void *desc = NULL;
    QPKI_GUARD(dlplugin_open(&db_kind, plugin_path, &dl, &desc, err, errlen));
    const qpki_db_plugin_desc *d = desc;
    if (!d->check_url || !d->open_source || !d->open_store) {
        dlplugin_set_err(err, errlen, "status database plugin \"%s\" has a malformed "
                                      "descriptor (a required function is missing)",
                         d->name ? d->name : "?");
        dlclose(dl);
        return QPKI_ERR_PLUGIN_ABI;
    }
    qpki_db_plugin *p = qpki_calloc(1, sizeof(*p));
    if (!p) {
        dlclose(dl);
        return QPKI_ERR_NOMEM;
    }
    p->dl = dl;
    p->desc = d;
    *out = p;
    return QPKI_OK;
}

qpki_status db_plugin_probe(const char *path, char *info, size_t infolen)
{
    void *dl = NULL;
    const void *desc = NULL;
    QPKI_GUARD(dlplugin_open(&db_kind, path, &dl, &desc, info, infolen));
    const qpki_db_plugin_desc *d = desc;
    dlplugin_set_err(info, infolen, "status database plugin %s %s", d->name ? d->name : "?",
                     d->version ? d->version : "?");
    dlclose(dl);
    return QPKI_OK;
}

void qpki_db_plugin_free(qpki_db_plugin **plugin)
{
    if (!plugin || !*plugin)
        return;
    dlclose((*plugin)->dl); /* RTLD_NODELETE: the code stays mapped */
    qpki_free(*plugin);
    *plugin = NULL;
}

const char *qpki_db_plugin_name(const qpki_db_plugin *plugin)
{
    return plugin && plugin->desc->name ? plugin->desc->name : "";
}

qpki_status qpki_db_plugin_check_url(const qpki_db_plugin *plugin, const char *url, char *err,
                                     size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!plugin || !url) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    return plugin->desc->check_url(url, err, errlen);
}

qpki_status qpki_db_plugin_open_source(const qpki_db_plugin *plugin,
                                       const qpki_db_source_params *params, qpki_db **out,
                                       char *err, size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!plugin || !params || !out || params->struct_size < sizeof(uint32_t) || !params->url ||
        !params->ca_id || params->ca_id_len != QPKI_DB_CA_ID_LEN) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    *out = NULL;
    const qpki_status_db_ops *ops = NULL;
    void *self = NULL;
    QPKI_GUARD(plugin->desc->open_source(params, &ops, &self, err, errlen));
    /* qpki_db_new checks the vtable's abi_version, struct_size and required
     * methods before anything is called. */
    qpki_status rc = qpki_db_new(ops, self, out);
    if (rc != QPKI_OK) {
        dlplugin_set_err(err, errlen, "status database plugin \"%s\" returned a malformed "
                                      "status database vtable: %s",
                         qpki_db_plugin_name(plugin), qpki_strerror(rc));
        /* close sits at the same offset in every version: call it when the
         * vtable reaches it, else leak self rather than guess a layout. */
        if (ops && ops->struct_size >= offsetof(qpki_status_db_ops, close) + sizeof(void (*)(void)) &&
            ops->close)
            ops->close(self);
        return rc == QPKI_ERR_INVALID_ARG ? QPKI_ERR_PLUGIN_ABI : rc;
    }
    return QPKI_OK;
}

qpki_status qpki_db_plugin_open_store(const qpki_db_plugin *plugin, const char *url,
                                      const qpki_db_store_ops **ops, void **self, char *err,
                                      size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!plugin || !url || !ops || !self) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    *ops = NULL;
    *self = NULL;
    const qpki_db_store_ops *o = NULL;
    void *s = NULL;
    QPKI_GUARD(plugin->desc->open_store(url, &o, &s, err, errlen));
    const char *name = qpki_db_plugin_name(plugin);
    if (!o || o->abi_version == 0 || o->abi_version > QPKI_DB_STORE_ABI_V2 ||
        o->struct_size < V1_STORE_SIZE || !o->init_schema || !o->import_begin ||
        !o->import_row || !o->import_end || !o->insert || !o->revoke || !o->foreach ||
        !o->close) {
        dlplugin_set_err(err, errlen,
                         "status database plugin \"%s\" returned a malformed store vtable "
                         "(ABI version %u, struct_size %u; this library supports ABI version "
                         "%u, struct_size at least %zu)",
                         name, o ? o->abi_version : 0, o ? o->struct_size : 0,
                         QPKI_DB_STORE_ABI_V2, V1_STORE_SIZE);
        if (o && o->struct_size >= V1_STORE_SIZE && o->close)
            o->close(s);
        return QPKI_ERR_PLUGIN_ABI;
    }
    *ops = o;
    *self = s;
    return QPKI_OK;
}

qpki_status qpki_db_ca_id(const qpki_cert *ca, uint8_t id[QPKI_DB_CA_ID_LEN])
{
    QPKI_ENSURE(ca && id, QPKI_ERR_INVALID_ARG);
    const uint8_t *spki;
    size_t spki_len;
    qpki_cert_spki(ca, &spki, &spki_len);
    QPKI_ENSURE(spki && spki_len, QPKI_ERR_INVALID_ARG);
    uint8_t digest[CRYPTO_MAX_HASH_LEN];
    QPKI_GUARD(crypto_hash(QPKI_HASH_SHA256, spki, spki_len, digest));
    memcpy(id, digest, QPKI_DB_CA_ID_LEN);
    return QPKI_OK;
}

qpki_status qpki_db_row_format_index(const qpki_db_row *row, char *buf, size_t size,
                                     size_t *len)
{
    QPKI_ENSURE(row && row->entry && buf && size, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(row->serial || row->serial_len == 0, QPKI_ERR_INVALID_ARG);
    const uint8_t *serial = row->serial;
    size_t serial_len = row->serial_len;
    while (serial_len > 0 && serial[0] == 0) {
        serial++;
        serial_len--;
    }
    QPKI_ENSURE(serial_len <= QPKI_SERIAL_MAX, QPKI_ERR_INVALID_ARG);
    const qpki_db_entry *e = row->entry;
    index_row r = {
        .status = e->row_status,
        .expiry = e->expiry,
        .revocation_time = e->revocation_time,
        .reason = e->reason,
        .hold = e->hold_instruction,
        .has_invalidity = e->invalidity_date != 0,
        .invalidity_date = e->invalidity_date,
        .serial_len = serial_len,
    };
    if (serial_len)
        memcpy(r.serial, serial, serial_len);
    return index_row_format(&r, row->filename, row->subject, buf, size, len);
}
