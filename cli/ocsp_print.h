/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_print.h - printing OCSP responses and requests (ocsp info, verify,
 * request). */
#ifndef QPKI_CLI_OCSP_PRINT_H
#define QPKI_CLI_OCSP_PRINT_H

#include <stdbool.h>
#include <stdio.h>

#include <qpki/request.h>
#include <qpki/response.h>
#include <qpki/verify.h>

/* The fields `openssl ocsp -resp_text` shows, plus the size. */
void ocsp_print_response_text(FILE *f, const qpki_ocsp_response *resp);
/* The same as a JSON object. */
bool ocsp_print_response_json(FILE *f, const qpki_ocsp_response *resp);
/* The fields `openssl ocsp -req_text` shows, plus the size. */
void ocsp_print_request_text(FILE *f, const qpki_ocsp_request *req);
bool ocsp_print_request_json(FILE *f, const qpki_ocsp_request *req);

/* One line per SingleResponse: "0A1B2C3D: revoked (keyCompromise) at <time>",
 * followed by its This/Next Update. */
void ocsp_print_statuses(FILE *f, const qpki_ocsp_response *resp);

/* Warn on stderr when a response is larger than QPKI_RESPONSE_WARN_SIZE. */
void ocsp_warn_size(size_t size);

/* Verify a parsed response against the CA and print the outcome like `ocsp
 * verify` ("Response verify OK" + statuses, or "Response verify FAILED: ...").
 * v is configured by the caller (CA, expectations, time).  Returns CLI_OK or
 * CLI_VERIFY_FAILED. */
int ocsp_verify_and_print(qpki_ocsp_verifier *v, const qpki_ocsp_response *resp, bool quiet);

/* Dotted text of OID contents (buf >= 128). */
void ocsp_oid_text(const uint8_t *oid, size_t len, char *buf, size_t size);

#endif
