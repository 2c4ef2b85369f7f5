/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/version.h - library version. */
#ifndef QPKI_VERSION_H
#define QPKI_VERSION_H

#include <qpki/export.h>

#define QPKI_VERSION_MAJOR 1
#define QPKI_VERSION_MINOR 0
#define QPKI_VERSION_PATCH 0
#define QPKI_VERSION_STRING "1.0.0"

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the library actually loaded, "MAJOR.MINOR.PATCH". */
QPKI_API const char *qpki_version_string(void);
/* (major << 16) | (minor << 8) | patch of the loaded library. */
QPKI_API unsigned qpki_version_number(void);

#ifdef __cplusplus
}
#endif
#endif
