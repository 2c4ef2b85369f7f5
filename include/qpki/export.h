/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/export.h - symbol visibility for the public API. */
#ifndef QPKI_EXPORT_H
#define QPKI_EXPORT_H

#if defined(QPKI_BUILDING_LIBRARY) && defined(__GNUC__)
#define QPKI_API __attribute__((visibility("default")))
#else
#define QPKI_API
#endif

#if defined(__GNUC__)
#define QPKI_MUST_CHECK __attribute__((warn_unused_result))
#else
#define QPKI_MUST_CHECK
#endif

#endif
