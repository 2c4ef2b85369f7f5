/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/plugin.c - the plugin's one exported symbol. */
#include <qpki_config.h>

#include "p11.h"

static const qpki_signer_plugin pkcs11_plugin = {
    .abi_version = QPKI_PLUGIN_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_signer_plugin),
    .name = "pkcs11",
    .version = QPKI_VERSION,
    .open = p11_signer_open,
    .generate_key = p11_generate_key,
};

/* The entry symbol (QPKI_SIGNER_PLUGIN_ENTRY); the only symbol the version script
 * exports. */
__attribute__((visibility("default"))) const qpki_signer_plugin *qpki_signer_plugin_v1(void);

const qpki_signer_plugin *qpki_signer_plugin_v1(void) { return &pkcs11_plugin; }
