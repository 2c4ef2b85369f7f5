/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_util.c - the small shared helpers of lib/util.c: hex digits,
 * serial text, ASN.1 time text. */
#include <string.h>

#include "testutil.h"
#include "internal.h"

static qpki_time at(int y, int mo, int d, int h, int mi, int s)
{
    qpki_time t;
    assert_int_equal(qpki_time_from_fields(y, mo, d, h, mi, s, &t), QPKI_OK);
    return t;
}

static void test_hex_digit_values_both_cases_and_nothing_else(void **state)
{
    (void)state;
    assert_int_equal(qpki_hex_digit('0'), 0);
    assert_int_equal(qpki_hex_digit('9'), 9);
    assert_int_equal(qpki_hex_digit('a'), 10);
    assert_int_equal(qpki_hex_digit('F'), 15);
    assert_int_equal(qpki_hex_digit('g'), -1);
    assert_int_equal(qpki_hex_digit('G'), -1);
    assert_int_equal(qpki_hex_digit(':'), -1);
    assert_int_equal(qpki_hex_digit('\0'), -1);
    assert_int_equal(qpki_hex_digit('/'), -1);
}

static void test_serial_hex_is_upper_case_whole_octets_and_00_for_zero(void **state)
{
    (void)state;
    char out[2 * 32 + 1];
    qpki_serial_hex((const uint8_t *)"\x0a\x1b\xff", 3, out);
    assert_string_equal(out, "0A1BFF");
    qpki_serial_hex(NULL, 0, out);
    assert_string_equal(out, "00");
    qpki_serial_hex((const uint8_t *)"\x80", 1, out);
    assert_string_equal(out, "80");
    char lower[8];
    qpki_hex_encode((const uint8_t *)"\x0a\x1b\xff", 3, lower);
    assert_string_equal(lower, "0a1bff");
}

static void test_time_text_follows_rfc_5280_and_the_forms_limits(void **state)
{
    (void)state;
    char out[QPKI_TIME_TEXT_MAX];
    static const struct {
        int y, mo, d, h, mi, s;
        qpki_time_form form;
        const char *want; /* "" when the year does not fit */
    } cases[] = {
        {2024, 1, 15, 10, 0, 0, QPKI_TIME_X509, "240115100000Z"},
        {2049, 12, 31, 23, 59, 59, QPKI_TIME_X509, "491231235959Z"},
        {2050, 1, 1, 0, 0, 0, QPKI_TIME_X509, "20500101000000Z"},
        {1950, 1, 1, 0, 0, 0, QPKI_TIME_X509, "500101000000Z"},
        {1949, 12, 31, 23, 59, 59, QPKI_TIME_X509, "19491231235959Z"},
        {9999, 12, 31, 23, 59, 59, QPKI_TIME_X509, "99991231235959Z"},
        {1, 2, 3, 4, 5, 6, QPKI_TIME_X509, "00010203040506Z"},
        {2024, 1, 15, 10, 0, 0, QPKI_TIME_GENERALIZED, "20240115100000Z"},
        {1970, 1, 1, 0, 0, 0, QPKI_TIME_GENERALIZED, "19700101000000Z"},
        {2024, 2, 29, 12, 0, 0, QPKI_TIME_UTC, "240229120000Z"},
        {2050, 1, 1, 0, 0, 0, QPKI_TIME_UTC, ""},
        {1949, 12, 31, 23, 59, 59, QPKI_TIME_UTC, ""},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        qpki_time t = at(cases[i].y, cases[i].mo, cases[i].d, cases[i].h, cases[i].mi,
                         cases[i].s);
        size_t n = qpki_time_text(t, cases[i].form, out);
        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    /* Year 10000 and year -1 fit no form. */
    qpki_time last = at(9999, 12, 31, 23, 59, 59);
    assert_int_equal(qpki_time_text(last + 1, QPKI_TIME_X509, out), 0);
    assert_int_equal(qpki_time_text(last + 1, QPKI_TIME_GENERALIZED, out), 0);
    assert_int_equal(qpki_time_text(at(0, 1, 1, 0, 0, 0) - 1, QPKI_TIME_GENERALIZED, out), 0);
}

static void test_time_digits_read_both_year_forms_and_refuse_bad_fields(void **state)
{
    (void)state;
    qpki_time t = 0;
    assert_int_equal(qpki_time_from_digits("491231235959Z", 2, &t), QPKI_OK);
    assert_int_equal(t, at(2049, 12, 31, 23, 59, 59));
    assert_int_equal(qpki_time_from_digits("500101000000Z", 2, &t), QPKI_OK);
    assert_int_equal(t, at(1950, 1, 1, 0, 0, 0));
    assert_int_equal(qpki_time_from_digits("19491231235959Z", 4, &t), QPKI_OK);
    assert_int_equal(t, at(1949, 12, 31, 23, 59, 59));
    assert_int_equal(qpki_time_from_digits("240229120000", 2, &t), QPKI_OK);
    assert_int_equal(t, 1709208000);
    assert_int_equal(qpki_time_from_digits("230229120000", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("241301000000", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("240101240000", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("240101000060", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("2401010000 0", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("24-101000000", 2, &t), QPKI_ERR_BAD_TIME);
    assert_int_equal(qpki_time_from_digits("240101000000", 3, &t), QPKI_ERR_INVALID_ARG);
    /* Text and reading agree on every form. */
    char out[QPKI_TIME_TEXT_MAX];
    qpki_time times[] = {at(1950, 1, 1, 0, 0, 0), at(2049, 12, 31, 23, 59, 59),
                         at(2050, 1, 1, 0, 0, 0), at(1, 1, 1, 0, 0, 0),
                         at(9999, 12, 31, 23, 59, 59)};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(times); i++) {
        size_t n = qpki_time_text(times[i], QPKI_TIME_X509, out);
        assert_true(n == 13 || n == 15);
        assert_int_equal(qpki_time_from_digits(out, n - 11, &t), QPKI_OK);
        assert_int_equal(t, times[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hex_digit_values_both_cases_and_nothing_else),
        cmocka_unit_test(test_serial_hex_is_upper_case_whole_octets_and_00_for_zero),
        cmocka_unit_test(test_time_text_follows_rfc_5280_and_the_forms_limits),
        cmocka_unit_test(test_time_digits_read_both_year_forms_and_refuse_bad_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
