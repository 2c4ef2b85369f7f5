/* SPDX-License-Identifier: Apache-2.0 */
/* lib/info.c - qpki_library_info: what the loaded library is and which code it
 * runs on this CPU (qpki/version.h), for `qpki version --verbose` and bug reports. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/version.h>

#include <qpki/plugin.h>
#include <qpki/version.h>
#include <qpki_config.h>

#include "crypto/sha256.h"
#include "internal.h"
#if QPKI_MLDSA_BUILTIN
#include "crypto/mldsa/mldsa_internal.h"
#endif
#if QPKI_P256_BUILTIN
#include "crypto/p256/p256.h"
#endif

/* wolfSSL as loaded, with the version the library was built against when it
 * differs (a newer Debian point release under an older build is normal). */
static char wolfssl_text[80];
static pthread_once_t wolfssl_once = PTHREAD_ONCE_INIT;

static void wolfssl_describe(void)
{
    const char *loaded = wolfSSL_lib_version();
    if (!loaded || strcmp(loaded, LIBWOLFSSL_VERSION_STRING) == 0)
        qpki_fmt(wolfssl_text, sizeof wolfssl_text, "%s", LIBWOLFSSL_VERSION_STRING);
    else
        qpki_fmt(wolfssl_text, sizeof wolfssl_text, "%s (built against %s)", loaded,
                 LIBWOLFSSL_VERSION_STRING);
}

const char *qpki_library_info(qpki_info_item item)
{
    switch (item) {
    case QPKI_INFO_VERSION:
        return QPKI_VERSION_STRING;
    case QPKI_INFO_ABI:
        return "libqpki-ocsp.so." QPKI_ABI_MAJOR " (" QPKI_ABI_NODES ")";
    case QPKI_INFO_WOLFSSL:
        pthread_once(&wolfssl_once, wolfssl_describe);
        return wolfssl_text;
    case QPKI_INFO_MLDSA:
#if QPKI_MLDSA_BUILTIN
        return mldsa_avx2_active() ? "builtin AVX2" : "builtin portable";
#else
        return "wolfSSL";
#endif
    case QPKI_INFO_P256:
#if QPKI_P256_BUILTIN
        return strcmp(p256_arithmetic(), "x86-64") == 0 ? "builtin x86-64" : "builtin portable";
#else
        return "wolfSSL";
#endif
    case QPKI_INFO_SHA256:
        return sha256_shani_active() ? "builtin SHA extensions" : "builtin portable";
    case QPKI_INFO_PLUGIN_DIR: {
        const char *dir = secure_getenv(QPKI_PLUGIN_DIR_ENV);
        return dir && dir[0] ? dir : QPKI_PLUGIN_DIR;
    }
    }
    return NULL;
}
