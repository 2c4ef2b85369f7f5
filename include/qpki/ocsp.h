/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/ocsp.h - umbrella header for libqpki-ocsp.
 *
 * Memory rules, once for the whole API:
 *  - Constructors return a qpki_status and hand the object out through their last
 *    parameter; on failure the out-pointer is left NULL.
 *  - qpki_X_free(qpki_X **) accepts NULL or a pointer to NULL and sets *p = NULL.
 *  - Views are (const uint8_t *, size_t) pairs borrowed from their owner; they stay
 *    valid until the owner is freed.
 *  - Buffers the library allocates for the caller are released with qpki_free().
 *  - Unless a function says otherwise, pointer arguments must not be NULL; passing
 *    NULL yields QPKI_ERR_INVALID_ARG, never a crash.
 * Thread safety is stated per object in each header. */
#ifndef QPKI_OCSP_H
#define QPKI_OCSP_H

#include <qpki/export.h>
#include <qpki/version.h>
#include <qpki/status.h>
#include <qpki/types.h>
#include <qpki/limits.h>
#include <qpki/key.h>
#include <qpki/db.h>
#include <qpki/signer.h>
#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/request.h>
#include <qpki/response.h>
#include <qpki/verify.h>
#include <qpki/responder.h>
#include <qpki/http.h>
#include <qpki/plugin.h>
#include <qpki/ca.h>
#include <qpki/crl.h>
#include <qpki/db_plugin.h>

#endif
