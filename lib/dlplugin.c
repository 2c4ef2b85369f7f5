/* SPDX-License-Identifier: Apache-2.0 */
/* lib/dlplugin.c - the one plugin loader: path, dlopen, entry symbol, descriptor
 * checks (lib/dlplugin.h). */
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qpki/plugin.h>
#include <qpki_config.h>

#include "dlplugin.h"
#include "internal.h"

void dlplugin_set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static qpki_status path_resolve(const dlplugin_kind *kind, const char *plugin_path, char *buf,
                                size_t size, char *err, size_t errlen)
{
    if (plugin_path && plugin_path[0]) {
        if (strlen(plugin_path) >= size) {
            dlplugin_set_err(err, errlen, "plugin path too long");
            return QPKI_ERR_INVALID_ARG;
        }
        memcpy(buf, plugin_path, strlen(plugin_path) + 1);
        return QPKI_OK;
    }
    /* secure_getenv: a set-uid program never takes the directory from the caller. */
    const char *dir = secure_getenv(QPKI_PLUGIN_DIR_ENV);
    if (!dir || !dir[0])
        dir = QPKI_PLUGIN_DIR;
    int n = snprintf(buf, size, "%s/%s", dir, kind->default_file);
    if (n < 0 || (size_t)n >= size) {
        dlplugin_set_err(err, errlen, "plugin path too long");
        return QPKI_ERR_INVALID_ARG;
    }
    return QPKI_OK;
}

qpki_status dlplugin_open(const dlplugin_kind *kind, const char *plugin_path, void **dl_out,
                          const void **desc_out, char *err, size_t errlen)
{
    char path[4096];
    *dl_out = NULL;
    *desc_out = NULL;
    QPKI_GUARD(path_resolve(kind, plugin_path, path, sizeof path, err, errlen));
    if (access(path, F_OK) != 0) {
        dlplugin_set_err(err, errlen, "%s %s not found: %s%s", kind->what, path,
                         strerror(errno),
                         plugin_path && plugin_path[0]
                             ? ""
                             : " (set " QPKI_PLUGIN_DIR_ENV " to the plugin directory)");
        return QPKI_ERR_PLUGIN_LOAD;
    }
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | kind->dl_flags);
    if (!dl) {
        const char *why = dlerror();
        dlplugin_set_err(err, errlen, "cannot load %s %s: %s", kind->what, path,
                         why ? why : "unknown");
        return QPKI_ERR_PLUGIN_LOAD;
    }
    union {
        void *obj;
        const void *(*fn)(void);
    } entry;
    entry.obj = dlsym(dl, kind->entry_symbol);
    if (!entry.obj) {
        dlplugin_set_err(err, errlen, "%s is not a qpki %s: symbol %s not found", path,
                         kind->what, kind->entry_symbol);
        dlclose(dl);
        return QPKI_ERR_PLUGIN_SYMBOL;
    }
    const dlplugin_header *desc = entry.fn();
    qpki_status rc = QPKI_OK;
    if (!desc) {
        dlplugin_set_err(err, errlen, "%s %s returned no descriptor", kind->what, path);
        rc = QPKI_ERR_PLUGIN_ABI;
    } else if (desc->abi_version == 0 || desc->abi_version > kind->abi_max) {
        dlplugin_set_err(err, errlen,
                         "%s %s uses plugin ABI version %u; this library supports up to %u "
                         "(install the plugin that came with this library)",
                         kind->what, path, desc->abi_version, kind->abi_max);
        rc = QPKI_ERR_PLUGIN_ABI;
    } else if (desc->struct_size < kind->min_size) {
        dlplugin_set_err(err, errlen, "%s %s has a malformed descriptor (struct_size %u, "
                                      "at least %zu expected)",
                         kind->what, path, desc->struct_size, kind->min_size);
        rc = QPKI_ERR_PLUGIN_ABI;
    }
    if (rc != QPKI_OK) {
        dlclose(dl);
        return rc;
    }
    *dl_out = dl;
    *desc_out = desc;
    return QPKI_OK;
}
