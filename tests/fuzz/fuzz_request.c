/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_request.c - OCSPRequest parser, and the whole responder on the
 * same bytes (routing, policies, signing) with a fixed test CA. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>

#include "fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_responder *responder;

static void init(void) { responder = fuzz_test_responder("fuzz_request"); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    qpki_ocsp_request *req = NULL;
    if (qpki_ocsp_request_parse(data, size, NULL, &req) == QPKI_OK) {
        for (size_t i = 0; i < qpki_ocsp_request_count(req); i++) {
            char hex[80];
            (void)qpki_certid_serial_hex(qpki_ocsp_request_certid(req, i), hex, sizeof(hex));
        }
        const uint8_t *n;
        size_t nl;
        (void)qpki_ocsp_request_nonce(req, &n, &nl);
        qpki_ocsp_request_free(&req);
    }
    qpki_answer *a = NULL;
    if (qpki_responder_respond(responder, data, size, &a) == QPKI_OK)
        qpki_answer_free(&a);
    return 0;
}
