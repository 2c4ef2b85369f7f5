/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_pgsql_values.c - the pure parts of the PostgreSQL plugin
 * (lib/plugins/pgsql/values.c): connection strings that carry a password are
 * refused without repeating it, and rows survive the COPY text format both ways
 * (the form PostgreSQL documents for COPY: backslash escapes, \N for NULL). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <qpki/db.h>

#include "plugins/pgsql/values.h"

static void assert_refused_without_echo(const char *url, const char *secret)
{
    char err[1024];
    assert_int_equal(pg_url_check(url, err, sizeof(err)), QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "carries a password"));
    assert_non_null(strstr(err, "PGPASSFILE"));
    assert_non_null(strstr(err, "PGPASSWORD"));
    assert_null(strstr(err, secret));
}

static void test_url_with_a_password_is_refused_and_the_password_not_repeated(void **state)
{
    (void)state;
    assert_refused_without_echo("postgresql://ocsp:Sup3rSecret@db.example:5432/qpki",
                                "Sup3rSecret");
    assert_refused_without_echo("postgres://ocsp:Sup3rSecret@db.example/qpki?sslmode=verify-full",
                                "Sup3rSecret");
    assert_refused_without_echo("postgresql://db.example/qpki?user=ocsp&password=Sup3rSecret",
                                "Sup3rSecret");
    assert_refused_without_echo("host=db.example dbname=qpki user=ocsp password=Sup3rSecret",
                                "Sup3rSecret");
    /* an '@' inside the password: the last '@' ends the user information */
    assert_refused_without_echo("postgresql://ocsp:a@b@db.example/qpki", "a@b");
}

static void test_url_without_a_password_is_accepted(void **state)
{
    (void)state;
    char err[512];
    const char *good[] = {
        "postgresql://ocsp@db.example:5432/qpki?sslmode=verify-full&sslrootcert=/etc/ca.pem",
        "postgresql:///qpki?host=/var/run/postgresql",
        "host=db.example port=5433 dbname=qpki user=ocsp sslmode=verify-full",
        "service=qpki",
        /* an empty password is not a secret */
        "postgresql://ocsp:@db.example/qpki",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(pg_url_check(good[i], err, sizeof(err)), QPKI_OK);
        assert_string_equal(err, "");
    }
}

static void test_malformed_or_empty_url_is_refused_with_the_parser_message(void **state)
{
    (void)state;
    char err[512];
    assert_int_equal(pg_url_check("", err, sizeof(err)), QPKI_ERR_INVALID_ARG);
    assert_string_equal(err, "empty connection string");
    assert_int_equal(pg_url_check("host=db dbname", err, sizeof(err)), QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "malformed connection string: "));
    assert_null(strchr(err, '\n'));
    assert_int_equal(pg_url_check("postgresql://db/qpki?nosuchoption=1", err, sizeof(err)),
                     QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "nosuchoption"));
}

static void test_server_of_a_url_is_named_for_messages(void **state)
{
    (void)state;
    char buf[256];
    pg_url_server("postgresql://ocsp@db.example:5433/qpki", buf, sizeof(buf));
    assert_string_equal(buf, "db.example:5433");
    pg_url_server("host=10.0.0.7 dbname=qpki", buf, sizeof(buf));
    assert_string_equal(buf, "10.0.0.7:5432");
    pg_url_server("postgresql:///qpki?host=/run/pg&port=5440", buf, sizeof(buf));
    assert_string_equal(buf, "/run/pg (port 5440)");
    pg_url_server("service=qpki", buf, sizeof(buf));
    assert_string_equal(buf, "service qpki");
}

static void test_copy_line_is_split_and_unescaped(void **state)
{
    (void)state;
    char line[] = "0a1b\tR\t\\N\ta\\tb\\\\c\\nd\t\\\\N\t\\101\\x42\t";
    char *f[8];
    assert_int_equal(pg_copy_split(line, f, 8), 7);
    assert_string_equal(f[0], "0a1b");
    assert_string_equal(f[1], "R");
    assert_null(f[2]);
    assert_string_equal(f[3], "a\tb\\c\nd");
    assert_string_equal(f[4], "\\N"); /* an escaped backslash, then N: text, not NULL */
    assert_string_equal(f[5], "AB");  /* octal and hex escapes */
    assert_string_equal(f[6], "");    /* trailing empty field */
}

static void test_copy_line_with_too_many_fields_or_bad_escapes_is_refused(void **state)
{
    (void)state;
    char a[] = "1\t2\t3";
    char *f[2];
    assert_int_equal(pg_copy_split(a, f, 2), -1);
    char b[] = "ab\\";
    assert_int_equal(pg_copy_split(b, f, 2), -1);
    char c[] = "x\\N";
    assert_int_equal(pg_copy_split(c, f, 2), -1);
    char d[] = "\\xZZ";
    assert_int_equal(pg_copy_split(d, f, 2), -1);
}

static void test_copy_text_round_trips_through_escape_and_split(void **state)
{
    (void)state;
    const char *texts[] = {"/C=FR/O=Acme\\Corp/CN=x", "tab\there", "line\nbreak\r", "", NULL};
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < 5; i++) {
        if (i)
            buf[len++] = '\t';
        assert_true(pg_copy_put_text(buf, &len, sizeof(buf), texts[i]));
    }
    assert_string_equal(buf, "/C=FR/O=Acme\\\\Corp/CN=x\ttab\\there\tline\\nbreak\\r\t\t\\N");
    char *f[5];
    assert_int_equal(pg_copy_split(buf, f, 5), 5);
    for (size_t i = 0; i < 4; i++)
        assert_string_equal(f[i], texts[i]);
    assert_null(f[4]);
    /* does not fit: false, nothing past the buffer */
    char small[4];
    size_t n = 0;
    assert_false(pg_copy_put_text(small, &n, sizeof(small), "abcdef"));
}

static qpki_db_entry entry(char status, qpki_time expiry, qpki_time revoked, int reason,
                           int hold, qpki_time invalidity)
{
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = status;
    e.expiry = expiry;
    e.revocation_time = revoked;
    e.reason = (qpki_crl_reason)reason;
    e.hold_instruction = (qpki_hold_instruction)hold;
    e.invalidity_date = invalidity;
    return e;
}

static void round_trip(const uint8_t *serial, size_t serial_len, const qpki_db_entry *in,
                       const char *want_line)
{
    char buf[512];
    size_t len = 0;
    buf[0] = '\0';
    assert_int_equal(pg_row_format(serial, serial_len, in, buf, &len, sizeof(buf)), QPKI_OK);
    assert_string_equal(buf, want_line);
    assert_int_equal(len, strlen(want_line));
    char *f[PG_STATUS_COLUMNS];
    assert_int_equal(pg_copy_split(buf, f, PG_STATUS_COLUMNS), PG_STATUS_COLUMNS);
    uint8_t got[QPKI_SERIAL_MAX];
    size_t got_len = 99;
    qpki_db_entry out;
    qpki_db_entry_init(&out);
    char err[256];
    assert_int_equal(pg_row_parse(f, got, &got_len, &out, err, sizeof(err)), QPKI_OK);
    assert_int_equal(got_len, serial_len);
    assert_memory_equal(got, serial, serial_len);
    assert_int_equal(out.row_status, in->row_status);
    assert_int_equal(out.expiry, in->expiry);
    assert_int_equal(out.revocation_time, in->row_status == 'R' ? in->revocation_time : 0);
    assert_int_equal(out.reason, in->reason);
    assert_int_equal(out.hold_instruction, in->hold_instruction);
    assert_int_equal(out.invalidity_date, in->invalidity_date);
}

static void test_rows_round_trip_through_the_copy_columns(void **state)
{
    (void)state;
    static const uint8_t s1[] = {0x0a, 0x1b, 0xff};
    qpki_db_entry v = entry('V', 1893456000, 0, QPKI_REASON_NONE, 0, 0);
    round_trip(s1, sizeof(s1), &v, "0a1bff\tV\t1893456000\t\\N\t\\N\t\\N\t\\N");
    qpki_db_entry e = entry('E', -86400, 0, QPKI_REASON_NONE, 0, 0);
    round_trip(s1, 1, &e, "0a\tE\t-86400\t\\N\t\\N\t\\N\t\\N");
    qpki_db_entry r = entry('R', 1893456000, 1700000000, QPKI_REASON_NONE, 0, 0);
    round_trip(s1, sizeof(s1), &r, "0a1bff\tR\t1893456000\t1700000000\t\\N\t\\N\t\\N");
    qpki_db_entry kc = entry('R', 1893456000, 1700000000, QPKI_REASON_KEY_COMPROMISE, 0,
                             1699990000);
    round_trip(s1, sizeof(s1), &kc, "0a1bff\tR\t1893456000\t1700000000\t1\t\\N\t1699990000");
    qpki_db_entry hold = entry('R', 1893456000, 1700000000, QPKI_REASON_CERTIFICATE_HOLD,
                               QPKI_HOLD_INSTRUCTION_REJECT, 0);
    round_trip(s1, sizeof(s1), &hold, "0a1bff\tR\t1893456000\t1700000000\t6\t3\t\\N");
    qpki_db_entry aa = entry('R', 1893456000, 1700000000, QPKI_REASON_AA_COMPROMISE, 0, 0);
    round_trip(NULL, 0, &aa, "\tR\t1893456000\t1700000000\t10\t\\N\t\\N"); /* serial zero */
}

static void test_entries_the_schema_forbids_are_not_formatted(void **state)
{
    (void)state;
    static const uint8_t s[] = {1};
    char buf[256];
    size_t len = 0;
    qpki_db_entry bad[] = {
        entry('X', 1, 0, QPKI_REASON_NONE, 0, 0),
        entry('V', 1, 0, QPKI_REASON_SUPERSEDED, 0, 0),                  /* reason on V */
        entry('R', 1, 2, 7, 0, 0),                                        /* unassigned 7 */
        entry('R', 1, 2, QPKI_REASON_SUPERSEDED, QPKI_HOLD_INSTRUCTION_REJECT, 0),
        entry('R', 1, 2, QPKI_REASON_SUPERSEDED, 0, 5),                  /* invalidity */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(pg_row_format(s, 1, &bad[i], buf, &len, sizeof(buf)),
                         QPKI_ERR_INVALID_ARG);
    assert_int_equal(len, 0);
    qpki_db_entry ok = entry('V', 1, 0, QPKI_REASON_NONE, 0, 0);
    char tiny[8];
    assert_int_equal(pg_row_format(s, 1, &ok, tiny, &len, sizeof(tiny)),
                     QPKI_ERR_BUFFER_TOO_SMALL);
}

static void test_rows_from_the_database_are_checked_and_normalised(void **state)
{
    (void)state;
    char err[256];
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t serial_len;
    qpki_db_entry e;
    /* leading zero octets (a row written before the trigger) name the same number */
    char l1[] = "00000a1b\tV\t100\t\\N\t\\N\t\\N\t\\N";
    char *f[PG_STATUS_COLUMNS];
    assert_int_equal(pg_copy_split(l1, f, PG_STATUS_COLUMNS), PG_STATUS_COLUMNS);
    qpki_db_entry_init(&e);
    assert_int_equal(pg_row_parse(f, serial, &serial_len, &e, err, sizeof(err)), QPKI_OK);
    assert_hex_equal(serial, serial_len, "0a1b");
    const char *bad[][2] = {
        {"0a1\tV\t100\t\\N\t\\N\t\\N\t\\N", "bad serial '0a1'"},
        {"zz\tV\t100\t\\N\t\\N\t\\N\t\\N", "bad serial 'zz'"},
        /* a value shown as one printable line (found by fuzz_pgsql) */
        {"0a\\n1\tV\t100\t\\N\t\\N\t\\N\t\\N", "bad serial '0a?1'"},
        {"0a\tQ\t100\t\\N\t\\N\t\\N\t\\N", "bad status 'Q'"},
        {"0a\tV\t1e9\t\\N\t\\N\t\\N\t\\N", "bad not_after '1e9'"},
        {"0a\tR\t100\t\\N\t\\N\t\\N\t\\N", "bad revocation_time of an R row 'NULL'"},
        {"0a\tR\t100\t50\t7\t\\N\t\\N", "bad reason '7'"},
        {"0a\tR\t100\t50\t6\t4\t\\N", "bad hold_instruction '4'"},
        {"0a\tR\t100\t50\t4\t\\N\t40", "row of serial 0a breaks the schema's rules"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "%s", bad[i][0]);
        assert_int_equal(pg_copy_split(line, f, PG_STATUS_COLUMNS), PG_STATUS_COLUMNS);
        qpki_db_entry_init(&e);
        assert_int_equal(pg_row_parse(f, serial, &serial_len, &e, err, sizeof(err)),
                         QPKI_ERR_PARSE);
        assert_non_null(strstr(err, bad[i][1]));
    }
    /* 33 octets: longer than QPKI_SERIAL_MAX */
    char longer[160];
    snprintf(longer, sizeof(longer), "%066d\tV\t1\t\\N\t\\N\t\\N\t\\N", 1);
    assert_int_equal(pg_copy_split(longer, f, PG_STATUS_COLUMNS), PG_STATUS_COLUMNS);
    assert_int_equal(pg_row_parse(f, serial, &serial_len, &e, err, sizeof(err)), QPKI_ERR_PARSE);
}

/* What PostgreSQL 15 wrote for
 *   COPY (SELECT * FROM v) TO '...' (FORMAT binary)
 * with v (serial bytea, status char(1), not_after timestamptz, revocation_time
 * timestamptz, reason smallint, hold_instruction smallint, invalidity_date
 * timestamptz) holding, in this order:
 *   '\x0a1b' V 2030-12-31 23:59:59Z
 *   '\x00ff' R 2031-01-01Z, revoked 2025-06-01 12:00:00.75Z, reason 6, hold 3
 *   '\x010203' R 1969-12-31 23:59:59.5Z, revoked 2025-06-01 12:00:00Z, reason 1,
 *              invalidity 2025-05-30 08:00:00Z
 *   '' E 1999-12-31 23:59:59.999999Z
 * cut into the messages libpq hands over: header and first row, one row each,
 * the trailer. */
static const char *const pg15_messages[] = {
    "5047434f50590aff0d0a00000000000000000000"
    "07000000020a1b000000015600000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
    "00070000000200ff000000015200000008000379c3e5232000000000080002d98027d541b000000002"
    "0006000000020003ffffffff",
    "000700000003010203000000015200000008fffca2fec4c07ee0000000080002d98027c9d000000000"
    "020001ffffffff000000080002d95491cc8000",
    "000700000000000000014500000008ffffffffffffffffffffffffffffffffffffffffffffffff",
    "ffff",
};

static qpki_status bin_parse(pg_bin_reader *rd, const char *hex, uint8_t *serial,
                             size_t *serial_len, qpki_db_entry *e, bool *row, char *err,
                             size_t errlen)
{
    size_t len = 0;
    uint8_t *msg = tu_hex(hex, &len);
    assert_non_null(msg);
    qpki_db_entry_init(e);
    qpki_status rc = pg_bin_message(rd, msg, len, serial, serial_len, e, row, err, errlen);
    free(msg);
    return rc;
}

static void test_binary_rows_postgresql_wrote_are_read_exactly(void **state)
{
    (void)state;
    pg_bin_reader rd = {false, false};
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t serial_len = 99;
    qpki_db_entry e;
    bool row = false;
    char err[256];
    assert_int_equal(bin_parse(&rd, pg15_messages[0], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_true(row);
    assert_hex_equal(serial, serial_len, "0a1b");
    assert_int_equal(e.row_status, 'V');
    assert_int_equal(e.expiry, 1924991999);
    assert_int_equal(e.revocation_time, 0);
    assert_int_equal(e.reason, QPKI_REASON_NONE);
    assert_int_equal(e.hold_instruction, QPKI_HOLD_INSTRUCTION_ABSENT);
    assert_int_equal(e.invalidity_date, 0);
    /* a leading zero octet removed; fractional seconds rounded down */
    assert_int_equal(bin_parse(&rd, pg15_messages[1], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_true(row);
    assert_hex_equal(serial, serial_len, "ff");
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.expiry, 1924992000);
    assert_int_equal(e.revocation_time, 1748779200);
    assert_int_equal(e.reason, QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(e.hold_instruction, QPKI_HOLD_INSTRUCTION_REJECT);
    assert_int_equal(e.invalidity_date, 0);
    /* before 1970: floor, as floor(extract(epoch ...)) */
    assert_int_equal(bin_parse(&rd, pg15_messages[2], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_true(row);
    assert_hex_equal(serial, serial_len, "010203");
    assert_int_equal(e.expiry, -1);
    assert_int_equal(e.revocation_time, 1748779200);
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(e.invalidity_date, 1748592000);
    /* serial zero; one microsecond before PostgreSQL's epoch */
    assert_int_equal(bin_parse(&rd, pg15_messages[3], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_true(row);
    assert_int_equal(serial_len, 0);
    assert_int_equal(e.row_status, 'E');
    assert_int_equal(e.expiry, 946684799);
    assert_false(rd.ended);
    assert_int_equal(bin_parse(&rd, pg15_messages[4], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_false(row);
    assert_true(rd.ended);
    /* nothing after the trailer */
    assert_int_equal(bin_parse(&rd, pg15_messages[3], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_ERR_PARSE);
    assert_non_null(strstr(err, "data after the end of the rows"));
    /* the header may come alone */
    pg_bin_reader rd2 = {false, false};
    assert_int_equal(bin_parse(&rd2, "5047434f50590aff0d0a000000000000000004aabbccdd", serial,
                               &serial_len, &e, &row, err, sizeof(err)), QPKI_OK);
    assert_false(row);
    assert_true(rd2.header_done);
    assert_int_equal(bin_parse(&rd2, pg15_messages[1], serial, &serial_len, &e, &row, err,
                               sizeof(err)), QPKI_OK);
    assert_true(row);
}

static void test_malformed_binary_rows_are_refused_without_reading_past_them(void **state)
{
    (void)state;
    /* the header: a row of pg15_messages[1] follows where one is needed */
    const char *headers[][2] = {
        {"5047434f50590aff0d0a00000000000000", "no COPY binary header"}, /* short */
        {"5047434f50590aff0d0a01000000000000000000", "no COPY binary header"},
        {"5047434f50590aff0d0a00000100000000000000", "unexpected header flags"}, /* OIDs */
        {"5047434f50590aff0d0a000000000000000005aabbccdd", "header extension past"},
        {"5047434f50590aff0d0a0000000000ffffffff", "header extension past"},
        {"", "no COPY binary header"},
    };
    uint8_t serial[QPKI_SERIAL_MAX];
    size_t serial_len;
    qpki_db_entry e;
    bool row;
    char err[256];
    for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++) {
        pg_bin_reader rd = {false, false};
        err[0] = '\0';
        assert_int_equal(bin_parse(&rd, headers[i][0], serial, &serial_len, &e, &row, err,
                                   sizeof(err)), QPKI_ERR_PARSE);
        assert_false(row);
        assert_non_null(strstr(err, headers[i][1]));
    }
    /* rows after a good header */
    const char *rows[][2] = {
        {"", "truncated row"},
        {"00", "truncated row"},
        {"0006", "unexpected number of columns"},
        {"0008", "unexpected number of columns"},
        {"ffff00", "data after the end of the rows"},
        {"0007000000", "truncated row"},
        /* a length past the message; a huge length (no overflow) */
        {"0007000000050a1b", "value past the end of the row"},
        {"00077ffffffe0a1b", "value past the end of the row"},
        {"0007fffffffe0a1b", "value past the end of the row"},
        /* a whole V row plus one byte */
        {"0007000000020a1b000000015600000008000379c3e513ddc0ffffffffffffffffffffffffffffffff00",
         "bytes after the last column"},
        /* serial NULL; 33 octets */
        {"0007ffffffff000000015600000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
         "bad serial"},
        {"000700000021010203040506070809101112131415161718192021222324252627282930313233"
         "000000015600000008000379c3e513ddc0ffffffffffffffffffffffffffffffff", "bad serial"},
        /* status Q, two octets, NUL */
        {"0007000000020a1b000000015100000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
         "bad status"},
        {"0007000000020a1b00000002565600000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
         "bad status"},
        {"0007000000020a1b000000010000000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
         "bad status"},
        /* not_after: NULL, four octets, +infinity, -infinity */
        {"0007000000020a1b0000000156ffffffffffffffffffffffffffffffffffffffff", "bad not_after"},
        {"0007000000020a1b000000015600000004000379c3ffffffffffffffffffffffffffffffff",
         "bad not_after"},
        {"0007000000020a1b0000000156000000087fffffffffffffffffffffffffffffffffffffffffffffff",
         "bad not_after"},
        {"0007000000020a1b0000000156000000088000000000000000ffffffffffffffffffffffffffffffff",
         "bad not_after"},
        /* R without revocation_time */
        {"0007000000020a1b000000015200000008000379c3e513ddc0ffffffffffffffffffffffffffffffff",
         "an R row without revocation_time"},
        /* reason 7 (unassigned), reason of three octets, hold 4 */
        {"0007000000020a1b000000015200000008000379c3e513ddc000000008000379c3e513ddc0"
         "000000020007ffffffffffffffff", "bad reason"},
        {"0007000000020a1b000000015200000008000379c3e513ddc000000008000379c3e513ddc0"
         "00000003000001ffffffffffffffff", "bad reason"},
        {"0007000000020a1b000000015200000008000379c3e513ddc000000008000379c3e513ddc0"
         "000000020006000000020004ffffffff", "bad hold_instruction"},
        /* a reason on a V row; an invalidity date with superseded (4) */
        {"0007000000020a1b000000015600000008000379c3e513ddc0ffffffff000000020001ffffffffffffffff",
         "row of serial 0a1b breaks the schema's rules"},
        {"0007000000020a1b000000015200000008000379c3e513ddc000000008000379c3e513ddc0"
         "000000020004ffffffff00000008000379c3e513ddc0", "row of serial 0a1b breaks the schema's rules"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        pg_bin_reader rd = {true, false}; /* after a good header */
        err[0] = '\0';
        qpki_status rc = bin_parse(&rd, rows[i][0], serial, &serial_len, &e, &row, err,
                                   sizeof(err));
        if (rc != QPKI_ERR_PARSE || !strstr(err, rows[i][1]))
            fail_msg("row %zu: rc %d, message '%s', wanted '%s'", i, rc, err, rows[i][1]);
        assert_false(row);
    }
}

static void test_decimal_integers_parse_exactly(void **state)
{
    (void)state;
    int64_t v;
    assert_true(pg_parse_i64("0", &v));
    assert_int_equal(v, 0);
    assert_true(pg_parse_i64("-9223372036854775808", &v));
    assert_true(v == INT64_MIN);
    assert_true(pg_parse_i64("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    assert_false(pg_parse_i64("9223372036854775808", &v));
    assert_false(pg_parse_i64("", &v));
    assert_false(pg_parse_i64("-", &v));
    assert_false(pg_parse_i64("12 ", &v));
    assert_false(pg_parse_i64(NULL, &v));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_with_a_password_is_refused_and_the_password_not_repeated),
        cmocka_unit_test(test_url_without_a_password_is_accepted),
        cmocka_unit_test(test_malformed_or_empty_url_is_refused_with_the_parser_message),
        cmocka_unit_test(test_server_of_a_url_is_named_for_messages),
        cmocka_unit_test(test_copy_line_is_split_and_unescaped),
        cmocka_unit_test(test_copy_line_with_too_many_fields_or_bad_escapes_is_refused),
        cmocka_unit_test(test_copy_text_round_trips_through_escape_and_split),
        cmocka_unit_test(test_rows_round_trip_through_the_copy_columns),
        cmocka_unit_test(test_entries_the_schema_forbids_are_not_formatted),
        cmocka_unit_test(test_rows_from_the_database_are_checked_and_normalised),
        cmocka_unit_test(test_decimal_integers_parse_exactly),
        cmocka_unit_test(test_binary_rows_postgresql_wrote_are_read_exactly),
        cmocka_unit_test(test_malformed_binary_rows_are_refused_without_reading_past_them),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
