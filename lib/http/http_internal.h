/* SPDX-License-Identifier: Apache-2.0 */
/* lib/http/http_internal.h - pieces of the RFC 9919 mapping exposed to the unit
 * tests (never installed). */
#ifndef QPKI_HTTP_INTERNAL_H
#define QPKI_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/types.h>
#include "../safety.h"

/* "Sun, 06 Nov 1994 08:49:37 GMT" is 29 characters. */
#define HTTP_DATE_LEN 29

/* IMF-fixdate (RFC 9110 §5.6.7) of t into out (HTTP_DATE_LEN + 1 bytes).  Years
 * outside 0..9999 are clamped to the nearest representable second. */
void http_format_date(qpki_time t, char out[HTTP_DATE_LEN + 1]);

/* Find the DER OCSPRequest in a GET request-target (see qpki/http.h for the
 * rule).  work must hold 2 * target_len + 4 bytes; on success *der points into
 * it.  QPKI_ERR_DECODE when no suffix of the path is an OCSPRequest. */
QPKI_MUST_USE qpki_status http_decode_get_target(const char *target, size_t target_len,
                                                 uint8_t *work, size_t work_cap,
                                                 const uint8_t **der, size_t *der_len);

/* True when the If-None-Match field value matches the quoted entity tag etag
 * (weak comparison, RFC 9110 §8.8.3.2; "*" matches any). */
bool http_if_none_match(const char *field, const char *etag);

#endif
