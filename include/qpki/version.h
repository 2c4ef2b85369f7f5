/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/version.h - library version. */
#ifndef QPKI_VERSION_H
#define QPKI_VERSION_H

#include <qpki/export.h>

#define QPKI_VERSION_MAJOR 1
#define QPKI_VERSION_MINOR 1
#define QPKI_VERSION_PATCH 0
#define QPKI_VERSION_STRING "1.1.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the library actually loaded, "MAJOR.MINOR.PATCH". */
QPKI_API const char *qpki_version_string(void);
/* (major << 16) | (minor << 8) | patch of the loaded library. */
QPKI_API unsigned qpki_version_number(void);

/* What the loaded library is and which code it runs on this CPU, for bug reports
 * (`qpki version --verbose`).  Append-only, explicit values. */
typedef enum qpki_info_item {
    QPKI_INFO_VERSION = 0,    /* "1.1.0" */
    QPKI_INFO_ABI = 1,        /* "libqpki-ocsp.so.1 (QPKI_1.0 QPKI_1.1)": SONAME, symbol nodes */
    QPKI_INFO_WOLFSSL = 2,    /* wolfSSL version loaded, "5.5.4" (with the version built
                                 against in parentheses when they differ) */
    QPKI_INFO_MLDSA = 3,      /* ML-DSA code: "builtin AVX2", "builtin portable", "wolfSSL" */
    QPKI_INFO_P256 = 4,       /* ECDSA P-256 signing: "builtin x86-64", "builtin portable",
                                 "wolfSSL" */
    QPKI_INFO_SHA256 = 5,     /* SHA-256: "builtin SHA extensions", "builtin portable" */
    QPKI_INFO_PLUGIN_DIR = 6  /* the plugin directory in effect: $QPKI_PLUGIN_DIR or the
                                 built-in one */
} qpki_info_item;

/* One line of text (static storage, or the environment for QPKI_INFO_PLUGIN_DIR) for
 * item; NULL for an item this library does not know.  Thread-safe. */
QPKI_API const char *qpki_library_info(qpki_info_item item);

#ifdef __cplusplus
}
#endif
#endif
