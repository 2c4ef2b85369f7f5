/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_pem.c - base64 (RFC 4648) and PEM framing (RFC 7468). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "der/pem.h"
#include "internal.h"

/* RFC 4648 §10 test vectors. */
static const struct { const char *plain, *b64; } rfc4648[] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},        {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

static void test_rfc4648_vectors_encode_and_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
        const char *p = rfc4648[i].plain, *b = rfc4648[i].b64;
        char enc[16];
        b64_encode((const uint8_t *)p, strlen(p), enc);
        assert_string_equal(enc, b);
        assert_int_equal(b64_encoded_len(strlen(p)), strlen(b));
        uint8_t dec[16];
        size_t n = 99;
        assert_int_equal(b64_decode(b, strlen(b), 0, dec, sizeof(dec), &n), QPKI_OK);
        assert_int_equal(n, strlen(p));
        assert_memory_equal(dec, p, n);
    }
}

static void test_missing_padding_only_with_the_flag(void **state)
{
    (void)state;
    uint8_t dec[16];
    size_t n;
    assert_int_equal(b64_decode("Zm8", 3, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Zm8", 3, B64_OPTIONAL_PAD, dec, sizeof(dec), &n), QPKI_OK);
    assert_int_equal(n, 2);
    assert_memory_equal(dec, "fo", 2);
    assert_int_equal(b64_decode("Zg", 2, B64_OPTIONAL_PAD, dec, sizeof(dec), &n), QPKI_OK);
    assert_int_equal(n, 1);
}

static void test_non_canonical_and_bad_input_is_rejected(void **state)
{
    (void)state;
    uint8_t dec[16];
    size_t n;
    /* RFC 4648 §3.5: pad bits must be zero ("Zh==" has a non-zero pad bit) */
    assert_int_equal(b64_decode("Zh==", 4, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Zm9=", 4, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    /* data after padding, a lone sextet, characters outside the alphabet */
    assert_int_equal(b64_decode("Zg==Zg==", 8, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Z", 1, B64_OPTIONAL_PAD, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Zm-v", 4, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Zm9v\n", 5, 0, dec, sizeof(dec), &n), QPKI_ERR_DECODE);
    assert_int_equal(b64_decode("Zm9v\n", 5, B64_SKIP_SPACE, dec, sizeof(dec), &n), QPKI_OK);
    /* output capacity is respected */
    assert_int_equal(b64_decode("Zm9vYmFy", 8, 0, dec, 5, &n), QPKI_ERR_BUFFER_TOO_SMALL);
}

static void test_pem_round_trip_and_two_blocks(void **state)
{
    (void)state;
    uint8_t der[200];
    for (size_t i = 0; i < sizeof(der); i++)
        der[i] = (uint8_t)(i * 7);
    char *pem;
    size_t pem_len;
    assert_int_equal(pem_encode("CERTIFICATE", der, sizeof(der), &pem, &pem_len), QPKI_OK);
    /* 64-column lines: 200 bytes -> 268 base64 characters -> 5 lines */
    assert_true(!strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28));
    assert_int_equal(pem[28 + 64], '\n');
    assert_int_equal(strlen(pem), pem_len);
    size_t total = 2 * pem_len + 20;
    char *two = malloc(total);
    snprintf(two, total, "junk\n%s%s", pem, pem);
    size_t off = 0, count = 0;
    char label[64];
    uint8_t *out;
    size_t out_len;
    qpki_status rc;
    while ((rc = pem_next((const uint8_t *)two, strlen(two), &off, label, sizeof(label), &out,
                          &out_len)) == QPKI_OK) {
        assert_string_equal(label, "CERTIFICATE");
        assert_int_equal(out_len, sizeof(der));
        assert_memory_equal(out, der, sizeof(der));
        qpki_free(out);
        count++;
    }
    assert_int_equal(rc, QPKI_ERR_NOT_FOUND);
    assert_int_equal(count, 2);
    assert_true(pem_detect((const uint8_t *)two, strlen(two)));
    assert_false(pem_detect(der, sizeof(der)));
    free(two);
    qpki_free(pem);
}

static void test_pem_errors(void **state)
{
    (void)state;
    char label[64];
    uint8_t *out;
    size_t out_len, off = 0;
    static const char no_end[] = "-----BEGIN X-----\nZm9v\n";
    assert_int_equal(pem_next((const uint8_t *)no_end, strlen(no_end), &off, label, sizeof(label),
                              &out, &out_len), QPKI_ERR_BAD_PEM);
    static const char wrong_end[] = "-----BEGIN X-----\nZm9v\n-----END Y-----\n";
    off = 0;
    assert_int_equal(pem_next((const uint8_t *)wrong_end, strlen(wrong_end), &off, label,
                              sizeof(label), &out, &out_len), QPKI_ERR_BAD_PEM);
    /* RFC 1421 encapsulated headers (legacy encrypted keys) are refused */
    static const char headers[] = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                                  "Zm9v\n-----END RSA PRIVATE KEY-----\n";
    off = 0;
    assert_int_equal(pem_next((const uint8_t *)headers, strlen(headers), &off, label,
                              sizeof(label), &out, &out_len), QPKI_ERR_UNSUPPORTED);
    static const char empty[] = "-----BEGIN X-----\n-----END X-----\n";
    off = 0;
    assert_int_equal(pem_next((const uint8_t *)empty, strlen(empty), &off, label, sizeof(label),
                              &out, &out_len), QPKI_ERR_BAD_PEM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors_encode_and_decode),
        cmocka_unit_test(test_missing_padding_only_with_the_flag),
        cmocka_unit_test(test_non_canonical_and_bad_input_is_rejected),
        cmocka_unit_test(test_pem_round_trip_and_two_blocks),
        cmocka_unit_test(test_pem_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
