/* SPDX-License-Identifier: Apache-2.0 */
/* lib/dlplugin.h - the one plugin loader (never installed): find the plugin file,
 * dlopen it, look up its entry symbol and check the descriptor it returns.  The
 * signer plugins (lib/signer/plugin_loader.c, qpki/plugin.h) and the status
 * database plugins (lib/db/plugin.c, qpki/db_plugin.h) both go through it. */
#ifndef QPKI_DLPLUGIN_H
#define QPKI_DLPLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/status.h>

#include "safety.h"

/* What kind of plugin a caller loads. */
typedef struct dlplugin_kind {
    const char *what;          /* "signer plugin", "status database plugin" */
    const char *default_file;  /* file name in the plugin directory */
    const char *entry_symbol;  /* the exported entry function */
    uint32_t abi_max;          /* newest descriptor abi_version this library knows */
    size_t min_size;           /* smallest valid descriptor struct_size */
    int dl_flags;              /* added to RTLD_NOW | RTLD_LOCAL (e.g. RTLD_NODELETE) */
} dlplugin_kind;

/* Every descriptor starts with these two fields. */
typedef struct dlplugin_header {
    uint32_t abi_version;
    uint32_t struct_size;
} dlplugin_header;

/* Load plugin_path (NULL or "": $QPKI_PLUGIN_DIR/<default_file>, the built-in
 * plugin directory when the variable is unset or in a set-uid process), call
 * its entry function and check the descriptor's abi_version (1..abi_max) and
 * struct_size (>= min_size).  On success *dl (for dlclose) and *desc.  Errors:
 * QPKI_ERR_PLUGIN_LOAD, QPKI_ERR_PLUGIN_SYMBOL, QPKI_ERR_PLUGIN_ABI,
 * QPKI_ERR_INVALID_ARG (path too long), with a message in err. */
QPKI_MUST_USE qpki_status dlplugin_open(const dlplugin_kind *kind, const char *plugin_path,
                                        void **dl, const void **desc, char *err,
                                        size_t errlen);

/* printf into err (nothing when err is NULL or errlen 0). */
void dlplugin_set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
