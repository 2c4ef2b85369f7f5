/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pgsql/pgsql.h - the parts of qpki-db-pgsql.so (never installed):
 *   plugin.c   the descriptor and the entry symbol
 *   values.c   connection-string checks, rows in COPY text format (pure)
 *   pgconn.c   connect/query/COPY with deadlines, schema version, messages
 *   store.c    the writing side: schema, import, issue, revoke, read back
 *   source.c   a node's table: load, follow (LISTEN/NOTIFY and polling),
 *              reconnect, staleness
 * The SQL lives in sql/ at the top of the tree, embedded at build time. */
#ifndef QPKI_PGSQL_H
#define QPKI_PGSQL_H

#include <qpki/db_plugin.h>

#include "safety.h" /* QPKI_GUARD, QPKI_ENSURE (lib/) */

/* Longest message kept by a store or a source (bytes, with the NUL). */
#define QPKI_PG_MESSAGE_MAX 1024

qpki_status pg_store_open(const char *url, const qpki_db_store_ops **ops, void **self,
                          char *err, size_t errlen);
qpki_status pg_source_open(const qpki_db_source_params *params, const qpki_status_db_ops **ops,
                           void **self, char *err, size_t errlen);

#endif
