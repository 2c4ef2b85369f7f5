/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_der.c - the bounded DER reader and the writer. */
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "der/der.h"
#include "der/oid.h"
#include "internal.h"

#define CUR(bytes) der_cursor_init((const uint8_t *)(bytes), sizeof(bytes) - 1)

static void test_reads_sequence_of_integer_and_boolean(void **state)
{
    (void)state;
    der_cursor c = CUR("\x30\x06\x02\x01\x05\x01\x01\xff"), seq;
    assert_int_equal(der_read_tlv(&c, DER_SEQUENCE, &seq), QPKI_OK);
    assert_int_equal(der_expect_end(&c), QPKI_OK);
    uint64_t v = 0;
    bool b = false;
    assert_int_equal(der_read_uint64(&seq, &v), QPKI_OK);
    assert_int_equal(v, 5);
    assert_int_equal(der_read_bool(&seq, &b), QPKI_OK);
    assert_true(b);
    assert_true(der_at_end(&seq));
}

static void test_long_form_length_is_read(void **state)
{
    (void)state;
    uint8_t buf[3 + 200];
    buf[0] = DER_OCTET_STRING;
    buf[1] = 0x81;
    buf[2] = 200;
    memset(buf + 3, 0xab, 200);
    der_cursor c = der_cursor_init(buf, sizeof(buf));
    der_view v;
    assert_int_equal(der_read_octet_string(&c, &v), QPKI_OK);
    assert_int_equal(v.n, 200);
    assert_ptr_equal(v.p, buf + 3);
}

static void test_non_minimal_long_length_is_rejected(void **state)
{
    (void)state;
    der_cursor c = CUR("\x04\x81\x05hello");
    der_view v;
    assert_int_equal(der_read_octet_string(&c, &v), QPKI_ERR_NON_MINIMAL);
    der_cursor c2 = CUR("\x04\x82\x00\x05hello");
    assert_int_equal(der_read_octet_string(&c2, &v), QPKI_ERR_NON_MINIMAL);
}

static void test_indefinite_length_is_rejected(void **state)
{
    (void)state;
    der_cursor c = CUR("\x30\x80\x02\x01\x01\x00\x00"), seq;
    assert_int_equal(der_read_tlv(&c, DER_SEQUENCE, &seq), QPKI_ERR_INDEFINITE);
}

static void test_length_past_end_is_truncated(void **state)
{
    (void)state;
    der_cursor c = CUR("\x30\x05\x02\x01\x01"), seq;
    assert_int_equal(der_read_tlv(&c, DER_SEQUENCE, &seq), QPKI_ERR_TRUNCATED);
    der_cursor c2 = CUR("\x30\x84\xff\xff\xff\xff");
    assert_int_equal(der_read_tlv(&c2, DER_SEQUENCE, &seq), QPKI_ERR_TRUNCATED);
    der_cursor c3 = CUR("\x30");
    assert_int_equal(der_read_tlv(&c3, DER_SEQUENCE, &seq), QPKI_ERR_TRUNCATED);
    der_cursor c4 = CUR("\x30\x88\x01\x02\x03\x04\x05\x06\x07\x08");
    assert_int_equal(der_read_tlv(&c4, DER_SEQUENCE, &seq), QPKI_ERR_TOO_LARGE);
}

static void test_wrong_tag_consumes_nothing(void **state)
{
    (void)state;
    der_cursor c = CUR("\x02\x01\x01"), v;
    assert_int_equal(der_read_tlv(&c, DER_SEQUENCE, &v), QPKI_ERR_UNEXPECTED_TAG);
    assert_int_equal(c.left, 3);
    bool present = true;
    assert_int_equal(der_read_optional(&c, DER_CTX_CONS(0), &v, &present), QPKI_OK);
    assert_false(present);
    assert_int_equal(c.left, 3);
}

static void test_deep_nesting_stops_at_the_limit(void **state)
{
    (void)state;
    enum { N = QPKI_DER_MAX_DEPTH + 4 };
    uint8_t buf[2 * N];
    for (int i = 0; i < N; i++) {
        buf[2 * i] = DER_SEQUENCE;
        buf[2 * i + 1] = (uint8_t)(2 * (N - i - 1));
    }
    der_cursor c = der_cursor_init(buf, sizeof(buf));
    qpki_status rc = QPKI_OK;
    int levels = 0;
    while (rc == QPKI_OK && !der_at_end(&c)) {
        der_cursor inner;
        rc = der_read_tlv(&c, DER_SEQUENCE, &inner);
        if (rc == QPKI_OK) {
            c = inner;
            levels++;
        }
    }
    assert_int_equal(rc, QPKI_ERR_DEPTH);
    assert_int_equal(levels, QPKI_DER_MAX_DEPTH);
}

static void test_integer_minimality(void **state)
{
    (void)state;
    der_view v;
    der_cursor ok = CUR("\x02\x02\x00\x80");
    assert_int_equal(der_read_integer(&ok, &v), QPKI_OK);
    der_cursor bad = CUR("\x02\x02\x00\x7f");
    assert_int_equal(der_read_integer(&bad, &v), QPKI_ERR_NON_MINIMAL);
    der_cursor bad2 = CUR("\x02\x02\xff\x80");
    assert_int_equal(der_read_integer(&bad2, &v), QPKI_ERR_NON_MINIMAL);
    der_cursor empty = CUR("\x02\x00");
    assert_int_equal(der_read_integer(&empty, &v), QPKI_ERR_DECODE);
    int64_t neg = 0;
    der_cursor m1 = CUR("\x02\x01\xff");
    assert_int_equal(der_read_int64(&m1, &neg), QPKI_OK);
    assert_int_equal(neg, -1);
}

static void test_magnitude_strips_sign_octet(void **state)
{
    (void)state;
    der_view m;
    assert_int_equal(der_integer_magnitude((der_view){(const uint8_t *)"\x00\x80\x01", 3}, &m),
                     QPKI_OK);
    assert_int_equal(m.n, 2);
    assert_int_equal(m.p[0], 0x80);
    assert_int_equal(der_integer_magnitude((der_view){(const uint8_t *)"\x00", 1}, &m), QPKI_OK);
    assert_int_equal(m.n, 0);
    assert_int_equal(der_integer_magnitude((der_view){(const uint8_t *)"\x80", 1}, &m),
                     QPKI_ERR_DECODE);
}

static void test_boolean_must_be_00_or_ff(void **state)
{
    (void)state;
    bool b;
    der_cursor c = CUR("\x01\x01\x01");
    assert_int_equal(der_read_bool(&c, &b), QPKI_ERR_NON_MINIMAL);
}

static void test_bit_string_unused_bits(void **state)
{
    (void)state;
    der_view bits;
    unsigned unused;
    der_cursor c = CUR("\x03\x02\x07\x80");
    assert_int_equal(der_read_bit_string(&c, &bits, &unused), QPKI_OK);
    assert_int_equal(unused, 7);
    assert_int_equal(bits.n, 1);
    der_cursor bad = CUR("\x03\x02\x07\x81");
    assert_int_equal(der_read_bit_string(&bad, &bits, &unused), QPKI_ERR_NON_MINIMAL);
    der_cursor bad2 = CUR("\x03\x01\x01");
    assert_int_equal(der_read_bit_string(&bad2, &bits, &unused), QPKI_ERR_DECODE);
}

static void test_oid_text_round_trip(void **state)
{
    (void)state;
    char text[64];
    der_oid o = OID_ECDSA_SHA256;
    assert_int_equal(der_oid_to_text((der_view){o.p, o.n}, text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "1.2.840.10045.4.3.2");
    uint8_t buf[32];
    size_t n;
    assert_int_equal(der_oid_from_text("2.16.840.1.101.3.4.3.18", buf, sizeof(buf), &n), QPKI_OK);
    assert_true(der_oid_eq((der_view){buf, n}, OID_ML_DSA_65));
    der_view v;
    der_cursor bad = CUR("\x06\x02\x80\x01");
    assert_int_equal(der_read_oid(&bad, &v), QPKI_ERR_NON_MINIMAL);
    der_cursor open = CUR("\x06\x01\x81");
    assert_int_equal(der_read_oid(&open, &v), QPKI_ERR_DECODE);

    /* The public form: the arcs that fit, never part of one; bad octets. */
    static const uint8_t nonce[] = {0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02};
    assert_int_equal(qpki_oid_to_text(nonce, sizeof(nonce), text, sizeof(text)), QPKI_OK);
    assert_string_equal(text, "1.3.6.1.5.5.7.48.1.2");
    char small[12];
    assert_int_equal(qpki_oid_to_text(nonce, sizeof(nonce), small, sizeof(small)),
                     QPKI_ERR_BUFFER_TOO_SMALL);
    assert_string_equal(small, "1.3.6.1.5.5");
    static const uint8_t cut[] = {0x2b, 0x06, 0x81};
    assert_int_equal(qpki_oid_to_text(cut, sizeof(cut), text, sizeof(text)), QPKI_ERR_DECODE);
    assert_int_equal(qpki_oid_to_text(NULL, 0, text, sizeof(text)), QPKI_ERR_DECODE);
    assert_string_equal(text, "");
    static const uint8_t huge[] = {0x2b, 0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                   0x80, 0x80, 0x80, 0x00};
    assert_int_equal(qpki_oid_to_text(huge, sizeof(huge), text, sizeof(text)),
                     QPKI_ERR_TOO_LARGE);
    assert_int_equal(qpki_oid_to_text(nonce, sizeof(nonce), text, 0), QPKI_ERR_INVALID_ARG);
}

static void test_times_parse_utc_and_generalized(void **state)
{
    (void)state;
    qpki_time t;
    der_cursor u = CUR("\x17\x0d" "240115100000Z");
    assert_int_equal(der_read_time(&u, &t), QPKI_OK);
    assert_int_equal(t, 1705312800);
    der_cursor g = CUR("\x18\x0f" "20240115100000Z");
    assert_int_equal(der_read_time(&g, &t), QPKI_OK);
    assert_int_equal(t, 1705312800);
    der_cursor old = CUR("\x17\x0d" "500101000000Z");
    assert_int_equal(der_read_time(&old, &t), QPKI_OK);
    assert_int_equal(t, -631152000);
    der_cursor frac = CUR("\x18\x11" "20240115100000.5Z");
    assert_int_equal(der_read_time(&frac, &t), QPKI_OK);
    assert_int_equal(t, 1705312800);
    der_cursor frac0 = CUR("\x18\x12" "20240115100000.50Z");
    assert_int_equal(der_read_time(&frac0, &t), QPKI_ERR_BAD_TIME);
    der_cursor local = CUR("\x18\x0e" "20240115100000");
    assert_int_equal(der_read_time(&local, &t), QPKI_ERR_BAD_TIME);
    der_cursor feb30 = CUR("\x18\x0f" "20240230100000Z");
    assert_int_equal(der_read_time(&feb30, &t), QPKI_ERR_BAD_TIME);
}

static void test_writer_nested_lengths_are_minimal(void **state)
{
    (void)state;
    der_buf b;
    der_buf_init(&b, 0);
    size_t outer = der_begin(&b, DER_SEQUENCE);
    size_t inner = der_begin(&b, DER_OCTET_STRING);
    uint8_t big[300];
    memset(big, 0x5a, sizeof(big));
    der_put_bytes(&b, big, sizeof(big));
    der_end(&b, inner);
    der_put_uint64(&b, 0x80);
    der_put_bool(&b, true);
    der_end(&b, outer);
    uint8_t *out;
    size_t n;
    assert_int_equal(der_buf_finish(&b, &out, &n), QPKI_OK);
    /* 30 82 01 37 | 04 82 01 2c <300> | 02 02 00 80 | 01 01 ff */
    assert_int_equal(n, 4 + 4 + 300 + 4 + 3);
    assert_memory_equal(out, "\x30\x82\x01\x37\x04\x82\x01\x2c", 8);
    assert_memory_equal(out + 308, "\x02\x02\x00\x80\x01\x01\xff", 7);
    /* and the reader accepts what the writer made */
    der_cursor c = der_cursor_init(out, n), seq;
    assert_int_equal(der_read_tlv(&c, DER_SEQUENCE, &seq), QPKI_OK);
    assert_int_equal(der_expect_end(&c), QPKI_OK);
    qpki_free(out);
}

static void test_writer_cap_is_sticky(void **state)
{
    (void)state;
    der_buf b;
    der_buf_init(&b, 10);
    der_put_octet_string(&b, "0123456789", 10);
    der_put_null(&b);
    uint8_t *out = NULL;
    size_t n;
    assert_int_equal(der_buf_finish(&b, &out, &n), QPKI_ERR_TOO_LARGE);
    assert_null(out);
}

static void test_writer_integers_and_times(void **state)
{
    (void)state;
    der_buf b;
    der_buf_init(&b, 0);
    der_put_uint_bytes(&b, (const uint8_t *)"\x00\x00\x0a\x1b", 4);
    der_put_uint64(&b, 0);
    der_put_enumerated(&b, 6);
    der_put_generalized_time(&b, 1705312800);
    der_put_x509_time(&b, 1705312800);
    der_put_x509_time(&b, 2556143999); /* 2050-12-31T23:59:59Z */
    uint8_t *out;
    size_t n;
    assert_int_equal(der_buf_finish(&b, &out, &n), QPKI_OK);
    const char want[] = "\x02\x02\x0a\x1b"
                        "\x02\x01\x00"
                        "\x0a\x01\x06"
                        "\x18\x0f" "20240115100000Z"
                        "\x17\x0d" "240115100000Z"
                        "\x18\x0f" "20501231235959Z";
    assert_int_equal(n, sizeof(want) - 1);
    assert_memory_equal(out, want, n);
    qpki_free(out);
}

static void test_unbalanced_writer_fails(void **state)
{
    (void)state;
    der_buf b;
    der_buf_init(&b, 0);
    (void)der_begin(&b, DER_SEQUENCE);
    uint8_t *out;
    size_t n;
    assert_int_equal(der_buf_finish(&b, &out, &n), QPKI_ERR_INTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_sequence_of_integer_and_boolean),
        cmocka_unit_test(test_long_form_length_is_read),
        cmocka_unit_test(test_non_minimal_long_length_is_rejected),
        cmocka_unit_test(test_indefinite_length_is_rejected),
        cmocka_unit_test(test_length_past_end_is_truncated),
        cmocka_unit_test(test_wrong_tag_consumes_nothing),
        cmocka_unit_test(test_deep_nesting_stops_at_the_limit),
        cmocka_unit_test(test_integer_minimality),
        cmocka_unit_test(test_magnitude_strips_sign_octet),
        cmocka_unit_test(test_boolean_must_be_00_or_ff),
        cmocka_unit_test(test_bit_string_unused_bits),
        cmocka_unit_test(test_oid_text_round_trip),
        cmocka_unit_test(test_times_parse_utc_and_generalized),
        cmocka_unit_test(test_writer_nested_lengths_are_minimal),
        cmocka_unit_test(test_writer_cap_is_sticky),
        cmocka_unit_test(test_writer_integers_and_times),
        cmocka_unit_test(test_unbalanced_writer_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
