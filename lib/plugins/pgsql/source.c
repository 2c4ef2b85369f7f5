/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/source.c - a node's table (qpki_status_db_ops). */
#include <stdio.h>

#include "pgsql.h"

qpki_status pg_source_open(const qpki_db_source_params *params, const qpki_status_db_ops **ops,
                           void **self, char *err, size_t errlen)
{
    (void)params;
    (void)ops;
    (void)self;
    snprintf(err, errlen, "serving from PostgreSQL is not available in this build yet");
    return QPKI_ERR_UNSUPPORTED;
}
