/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/plugin.c - qpki-db-pgsql.so: the PostgreSQL status-database
 * plugin (qpki/db_plugin.h, DESIGN §11).  The one exported symbol returns the
 * descriptor; the library's loader checks it before calling anything. */
#include <qpki/db_plugin.h>
#include <qpki_config.h>

#include "pgsql.h"
#include "values.h"

static const qpki_db_plugin_desc descriptor = {
    .abi_version = QPKI_DB_PLUGIN_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_db_plugin_desc),
    .name = "pgsql",
    .version = QPKI_VERSION,
    .check_url = pg_url_check,
    .open_source = pg_source_open,
    .open_store = pg_store_open,
};

__attribute__((visibility("default"))) const qpki_db_plugin_desc *qpki_db_plugin_v1(void);
const qpki_db_plugin_desc *qpki_db_plugin_v1(void)
{
    return &descriptor;
}
