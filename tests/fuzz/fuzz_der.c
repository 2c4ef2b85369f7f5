/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_der.c - walk arbitrary bytes with the DER reader: every element,
 * recursively, with every typed reader; nothing may read out of bounds.  The
 * writer and the PEM reader also run with an allocation failing (fuzz_alloc.h). */
#include <stddef.h>
#include <stdint.h>

#include "der/der.h"
#include "der/pem.h"
#include "fuzz_alloc.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(der_cursor c)
{
    while (!der_at_end(&c)) {
        der_cursor probe = c, value;
        uint8_t tag;
        der_view whole, v;
        uint64_t u;
        int64_t i64;
        int e;
        bool b;
        unsigned unused;
        qpki_time t;
        char text[128];
        /* typed readers on a copy: each either succeeds or fails cleanly */
        (void)der_read_uint64(&probe, &u);
        probe = c;
        (void)der_read_int64(&probe, &i64);
        probe = c;
        (void)der_read_enumerated(&probe, &e);
        probe = c;
        (void)der_read_bool(&probe, &b);
        probe = c;
        (void)der_read_bit_string(&probe, &v, &unused);
        probe = c;
        (void)der_read_time(&probe, &t);
        probe = c;
        if (der_read_oid(&probe, &v) == QPKI_OK)
            (void)der_oid_to_text(v, text, sizeof(text));
        probe = c;
        if (der_read_integer(&probe, &v) == QPKI_OK)
            (void)der_integer_magnitude(v, &whole);
        if (der_read_any(&c, &tag, &value, &whole) != QPKI_OK)
            return;
        if (tag & 0x20)
            walk(value);
    }
}

/* The input as one OCTET STRING in a SEQUENCE, through the capped writer. */
static qpki_status write_back(const uint8_t *data, size_t size, uint8_t **out, size_t *len)
{
    der_buf b;
    der_buf_init(&b, 1 << 20);
    size_t m = der_begin(&b, DER_SEQUENCE);
    der_put_octet_string(&b, data, size);
    der_end(&b, m);
    return der_buf_finish(&b, out, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_input(data, size);
    walk(der_cursor_init(data, size));
    /* the writer re-encodes what the reader accepts as an OCTET STRING */
    uint8_t *out = NULL;
    size_t len;
    qpki_status rc;
    FUZZ_CALL(rc, write_back(data, size, &out, &len), out);
    if (rc == QPKI_OK)
        qpki_free(out);
    /* PEM framing and base64 in both modes */
    size_t off = 0;
    char label[80];
    uint8_t *der = NULL;
    size_t der_len;
    for (;;) {
        size_t start = off;
        fuzz_alloc_arm();
        rc = pem_next(data, size, &off, label, sizeof(label), &der, &der_len);
        if (fuzz_alloc_disarm()) {
            fuzz_alloc_expect_nomem(rc, der == NULL, "pem_next");
            off = start;
            rc = pem_next(data, size, &off, label, sizeof(label), &der, &der_len);
        }
        if (rc != QPKI_OK)
            break;
        qpki_free(der);
        der = NULL;
    }
    uint8_t tmp[4096];
    size_t n = size < 4000 ? size : 4000;
    (void)b64_decode((const char *)data, n, B64_OPTIONAL_PAD, tmp, sizeof(tmp), &len);
    (void)b64_decode((const char *)data, n, B64_SKIP_SPACE, tmp, sizeof(tmp), &len);
    return 0;
}
