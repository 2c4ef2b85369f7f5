/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_request.c - OCSPRequest parser, and the whole responder on the
 * same bytes (routing, policies, signing) with a fixed test CA.  Both also run
 * with an allocation failing (fuzz_alloc.h): the parser must return
 * QPKI_ERR_NOMEM; the responder either returns QPKI_ERR_NOMEM or answers as it
 * does without the failure, or internalError - never another status. */
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
#include <qpki/response.h>

#include "fuzz_alloc.h"
#include "fuzz_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_responder *responder;

static void init(void) { responder = fuzz_test_responder("fuzz_request"); }

/* A successful answer carries an OCSPResponse that says so. */
static void check_answer(const qpki_answer *a)
{
    if (qpki_answer_resp_status(a) != QPKI_OCSP_RESP_SUCCESSFUL)
        return;
    const uint8_t *der;
    size_t len;
    qpki_answer_bytes(a, &der, &len);
    qpki_ocsp_response *resp = NULL;
    if (qpki_ocsp_response_parse(der, len, &resp) != QPKI_OK ||
        qpki_ocsp_response_status(resp) != QPKI_OCSP_RESP_SUCCESSFUL)
        abort();
    qpki_ocsp_response_free(&resp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        init();
        ready = true;
    }
    fuzz_alloc_input(data, size);
    qpki_status rc;
    qpki_ocsp_request *req = NULL;
    char msg[256];
    FUZZ_CALL(rc, qpki_ocsp_request_parse_err(data, size, NULL, msg, sizeof(msg), &req), req);
    fuzz_check_message("request", msg, sizeof(msg), rc, true);
    if (rc == QPKI_OK) {
        for (size_t i = 0; i < qpki_ocsp_request_count(req); i++) {
            char hex[80];
            (void)qpki_certid_serial_hex(qpki_ocsp_request_certid(req, i), hex, sizeof(hex));
        }
        const uint8_t *n;
        size_t nl;
        (void)qpki_ocsp_request_nonce(req, &n, &nl);
        qpki_ocsp_request_free(&req);
    }
    /* the responder with an allocation failing, then without */
    qpki_answer *failed = NULL, *a = NULL;
    fuzz_alloc_arm();
    qpki_status frc = qpki_responder_respond(responder, data, size, &failed);
    bool refused = fuzz_alloc_disarm();
    if (frc != QPKI_OK && (frc != QPKI_ERR_NOMEM || failed || !refused))
        abort();
    if (qpki_responder_respond(responder, data, size, &a) != QPKI_OK)
        abort();
    check_answer(a);
    if (failed) {
        check_answer(failed);
        qpki_ocsp_resp_status fs = qpki_answer_resp_status(failed);
        if (fs != qpki_answer_resp_status(a) && !(refused && fs == QPKI_OCSP_RESP_INTERNAL_ERROR)) {
            fprintf(stderr, "responder: %s with an allocation refused, %s without\n",
                    qpki_ocsp_resp_status_name(fs),
                    qpki_ocsp_resp_status_name(qpki_answer_resp_status(a)));
            abort();
        }
        qpki_answer_free(&failed);
    }
    qpki_answer_free(&a);
    return 0;
}
