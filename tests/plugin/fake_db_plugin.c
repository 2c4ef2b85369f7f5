/* SPDX-License-Identifier: Apache-2.0 */
/* tests/plugin/fake_db_plugin.c - status database plugins for the loader tests
 * (test_plugin_loader.c), one shared object per FAKE_DB_VARIANT:
 *   0  good: a source that knows serial 0x42 (revoked, keyCompromise) and a
 *      store whose methods count their calls
 *   1  descriptor of plugin ABI version 2 (newer than the library knows)
 *   2  descriptor truncated before open_store (struct_size 24)
 *   3  descriptor without check_url
 *   4  a store vtable of ABI version 9
 *   5  a source vtable truncated before close */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <qpki/db_plugin.h>

#ifndef FAKE_DB_VARIANT
#define FAKE_DB_VARIANT 0
#endif

static int closed_sources, closed_stores;

static qpki_status check_url(const char *url, char *err, size_t errlen)
{
    if (strstr(url, "password")) {
        snprintf(err, errlen, "fake: no passwords");
        return QPKI_ERR_INVALID_ARG;
    }
    return QPKI_OK;
}

static qpki_status src_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    (void)self;
    if (len != 1 || serial[0] != 0x42)
        return QPKI_ERR_NOT_FOUND;
    out->row_status = 'R';
    out->expiry = 2000000000;
    out->revocation_time = 1700000000;
    out->reason = QPKI_REASON_KEY_COMPROMISE;
    return QPKI_OK;
}
static uint64_t src_generation(void *self) { (void)self; return 7; }
static size_t src_count(void *self) { (void)self; return 1; }
static void src_close(void *self) { (void)self; closed_sources++; }

static qpki_status_db_ops source_ops = {
    .abi_version = QPKI_DB_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_status_db_ops),
    .lookup = src_lookup,
    .generation = src_generation,
    .count = src_count,
    .close = src_close,
};

static qpki_status open_source(const qpki_db_source_params *p, const qpki_status_db_ops **ops,
                               void **self, char *err, size_t errlen)
{
    if (strcmp(p->url, "unreachable") == 0) {
        snprintf(err, errlen, "cannot connect to the status database at fake:1: refused");
        return QPKI_ERR_IO;
    }
#if FAKE_DB_VARIANT == 5
    source_ops.struct_size = (uint32_t)offsetof(qpki_status_db_ops, close);
#endif
    *ops = &source_ops;
    *self = &source_ops;
    return QPKI_OK;
}

static qpki_status st_init(void *self, uint32_t *before, uint32_t *after)
{
    (void)self;
    *before = 0;
    *after = 1;
    return QPKI_OK;
}
static qpki_status st_begin(void *self, const uint8_t *id, size_t len, const char *name,
                            const uint8_t *der, size_t der_len)
{
    (void)self; (void)id; (void)len; (void)name; (void)der; (void)der_len;
    return QPKI_OK;
}
static qpki_status st_row(void *self, const qpki_db_row *row) { (void)self; (void)row; return QPKI_OK; }
static qpki_status st_end(void *self, bool commit, qpki_db_import_counts *c)
{
    (void)self;
    (void)commit;
    if (c)
        memset(c, 0, sizeof(*c));
    return QPKI_OK;
}
static qpki_status st_insert(void *self, const uint8_t *id, size_t len, const qpki_db_row *row)
{
    (void)self; (void)id; (void)len; (void)row;
    return QPKI_ERR_EXISTS;
}
static qpki_status st_revoke(void *self, const uint8_t *id, size_t len, const uint8_t *serial,
                             size_t serial_len, const qpki_db_entry *e)
{
    (void)self; (void)id; (void)len; (void)serial; (void)serial_len; (void)e;
    return QPKI_ERR_NOT_FOUND;
}
static qpki_status st_foreach(void *self, const uint8_t *id, size_t len, qpki_db_row_fn fn,
                              void *user)
{
    (void)self; (void)id; (void)len; (void)fn; (void)user;
    return QPKI_OK;
}
static void st_close(void *self) { (void)self; closed_stores++; }

static qpki_db_store_ops store_ops = {
    .abi_version = FAKE_DB_VARIANT == 4 ? 9 : QPKI_DB_STORE_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_db_store_ops),
    .init_schema = st_init,
    .import_begin = st_begin,
    .import_row = st_row,
    .import_end = st_end,
    .insert = st_insert,
    .revoke = st_revoke,
    .foreach = st_foreach,
    .close = st_close,
};

static qpki_status open_store(const char *url, const qpki_db_store_ops **ops, void **self,
                              char *err, size_t errlen)
{
    (void)url; (void)err; (void)errlen;
    *ops = &store_ops;
    *self = &store_ops;
    return QPKI_OK;
}

static const qpki_db_plugin_desc descriptor = {
    .abi_version = FAKE_DB_VARIANT == 1 ? 2 : QPKI_DB_PLUGIN_ABI_V1,
    .struct_size = FAKE_DB_VARIANT == 2 ? 24 : (uint32_t)sizeof(qpki_db_plugin_desc),
    .name = "fakedb",
    .version = "v" FAKE_DB_VARIANT_TEXT,
    .check_url = FAKE_DB_VARIANT == 3 ? NULL : check_url,
    .open_source = open_source,
    .open_store = open_store,
};

__attribute__((visibility("default"))) const qpki_db_plugin_desc *qpki_db_plugin_v1(void);
const qpki_db_plugin_desc *qpki_db_plugin_v1(void) { return &descriptor; }

/* for the test: how many sources and stores were closed */
__attribute__((visibility("default"))) void fake_db_closed(int *sources, int *stores);
void fake_db_closed(int *sources, int *stores)
{
    *sources = closed_sources;
    *stores = closed_stores;
}
