/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_response.c - OCSPResponse parser and the verifier, each also
 * with an allocation failing (fuzz_alloc.h). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <qpki/cert.h>
#include <qpki/response.h>
#include <qpki/verify.h>

#include "fuzz_alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static qpki_cert *ca;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ca) {
        const char *dir = getenv("QPKI_TEST_DATA");
        char path[1024];
        snprintf(path, sizeof(path), "%s/ocsp/ca.crt", dir ? dir : "tests/data");
        if (qpki_cert_load_file(path, &ca) != QPKI_OK)
            abort();
    }
    fuzz_alloc_input(data, size);
    qpki_status rc;
    qpki_ocsp_response *r = NULL;
    char msg[256];
    FUZZ_CALL(rc, qpki_ocsp_response_parse_err(data, size, msg, sizeof(msg), &r), r);
    fuzz_check_message("response", msg, sizeof(msg), rc, true);
    if (rc != QPKI_OK)
        return 0;
    for (size_t i = 0; i < qpki_ocsp_response_single_count(r); i++) {
        const qpki_ocsp_single *s = qpki_ocsp_response_single(r, i);
        (void)qpki_ocsp_single_status(s);
        (void)qpki_ocsp_single_reason(s);
    }
    qpki_ocsp_verifier *v = NULL;
    FUZZ_CALL(rc, qpki_ocsp_verifier_new(&v), v);
    if (rc == QPKI_OK) {
        (void)qpki_ocsp_verifier_set_ca(v, ca);
        FUZZ_CALL(rc, qpki_ocsp_verifier_verify(v, r), NULL);
        qpki_ocsp_verifier_free(&v);
    }
    qpki_ocsp_response_free(&r);
    return 0;
}
