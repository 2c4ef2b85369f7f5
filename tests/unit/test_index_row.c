/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_index_row.c - the index.txt row codec (lib/db/index_row.h)
 * that the status database and the CA store share: rows `openssl ca` wrote are
 * written back byte for byte, the revocation field in every form, and the
 * database and the store accept and refuse the same lines with the same
 * values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qpki/ca.h>
#include <qpki/db.h>

#include "testutil.h"
#include "db/db_internal.h"
#include "db/index_row.h"
#include "internal.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/qpki-test-index-row.XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static qpki_time at(int y, int mo, int d, int h, int mi, int s)
{
    qpki_time t;
    assert_int_equal(qpki_time_from_fields(y, mo, d, h, mi, s, &t), QPKI_OK);
    return t;
}

/* A CA store in dir whose index.txt holds text[0..len). */
static qpki_ca_store *store_with_bytes(const char *text, size_t len)
{
    static const uint8_t first[] = {0x01};
    char path[512];
    snprintf(path, sizeof(path), "%s/ca", dir);
    qpki_ca_store *s = NULL;
    if (access(path, F_OK) != 0)
        assert_int_equal(qpki_ca_store_create(path, first, 1), QPKI_OK);
    assert_int_equal(qpki_ca_store_open(path, &s), QPKI_OK);
    snprintf(path, sizeof(path), "%s/ca/index.txt", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return s;
}

static qpki_ca_store *store_with(const char *text)
{
    return store_with_bytes(text, strlen(text));
}

/* Rebuild each row of text from its parsed values with the codec's writers and
 * compare with the line as written. */
static void expect_rows_written_back_exactly(const char *text, size_t want_rows)
{
    size_t rows = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        size_t n = len;
        if (index_line_has_row(p, &n)) {
            index_span f[INDEX_ROW_FIELDS];
            index_row r;
            index_row_fault fault;
            if (!index_row_parse(p, n, f, &r, &fault)) {
                char why[256];
                index_row_fault_text(&fault, why, sizeof(why));
                fail_msg("%.*s: %s", (int)n, p, why);
            }
            char expiry[QPKI_TIME_TEXT_MAX], revocation[INDEX_REVOCATION_MAX] = "";
            char serial[2 * QPKI_SERIAL_MAX + 1], line[1024];
            assert_true(index_time_format(r.expiry, expiry) > 0);
            if (r.status == 'R')
                assert_int_equal(index_revocation_format(&r, revocation, sizeof(revocation)),
                                 QPKI_OK);
            qpki_serial_hex(r.serial, r.serial_len, serial);
            snprintf(line, sizeof(line), "%c\t%s\t%s\t%s\t%.*s\t%.*s", r.status, expiry,
                     revocation, serial, (int)f[INDEX_FIELD_FILENAME].n,
                     f[INDEX_FIELD_FILENAME].p, (int)f[INDEX_FIELD_SUBJECT].n,
                     f[INDEX_FIELD_SUBJECT].p);
            if (strlen(line) != n || memcmp(line, p, n) != 0)
                fail_msg("written back as\n%s\ninstead of\n%.*s", line, (int)n, p);
            rows++;
        }
        p += len + (nl ? 1 : 0);
    }
    assert_int_equal(rows, want_rows);
}

static void test_rows_openssl_ca_wrote_are_written_back_byte_for_byte(void **state)
{
    (void)state;
    /* Every revocation form `openssl ca` writes (tests/data/index/README.md). */
    char *text = (char *)tu_read_file(tu_data_path("index/openssl/index.txt"), NULL);
    assert_non_null(text);
    expect_rows_written_back_exactly(text, 19);
    free(text);
}

static void test_rows_openssl_ca_writes_now_are_written_back_byte_for_byte(void **state)
{
    (void)state;
    int st = -1;
    char *have = tu_run("command -v openssl >/dev/null 2>&1 && echo yes", &st);
    bool ok = have && strncmp(have, "yes", 3) == 0;
    free(have);
    if (!ok)
        skip();
    char cmd[1200];
    snprintf(cmd, sizeof(cmd), "sh '%s' '%s/fresh' && cat '%s/fresh/index.txt'",
             tu_data_path("index/make-openssl-index.sh"), dir, dir);
    char *text = tu_run(cmd, &st);
    assert_non_null(text);
    assert_int_equal(st, 0);
    expect_rows_written_back_exactly(text, 19);
    free(text);
}

struct seen {
    size_t n;
    qpki_db *db;
};

/* Every row the store reads, the database reads with the same values. */
static int compare_with_database(void *user, const qpki_ca_row *row)
{
    struct seen *s = user;
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    if (qpki_db_lookup(s->db, row->serial, row->serial_len, &e) != QPKI_OK)
        fail_msg("line %zu (%s): not in the database", row->line, row->serial_hex);
    if (e.row_status != row->status || e.expiry != row->expiry ||
        e.revocation_time != row->revocation_time || e.reason != row->reason)
        fail_msg("line %zu: store %c %lld %lld %d, database %c %lld %lld %d", row->line,
                 row->status, (long long)row->expiry, (long long)row->revocation_time,
                 row->reason, e.row_status, (long long)e.expiry, (long long)e.revocation_time,
                 e.reason);
    s->n++;
    return 0;
}

static void expect_same_rows(const char *text, size_t want)
{
    qpki_db *db = NULL;
    char err[512];
    if (qpki_index_open_memory("index.txt", (const uint8_t *)text, strlen(text), err,
                               sizeof(err), &db) != QPKI_OK)
        fail_msg("database: %s", err);
    assert_int_equal(qpki_db_count(db), want);
    qpki_ca_store *s = store_with(text);
    struct seen seen = {0, db};
    if (qpki_ca_store_foreach(s, compare_with_database, &seen) != QPKI_OK)
        fail_msg("store: %s", qpki_ca_store_last_error(s));
    assert_int_equal(seen.n, want);
    qpki_ca_store_free(&s);
    qpki_db_free(&db);
}

static void test_database_and_store_read_every_form_alike(void **state)
{
    (void)state;
    char *openssl = (char *)tu_read_file(tu_data_path("index/openssl/index.txt"), NULL);
    char *qpki = (char *)tu_read_file(tu_data_path("index/qpki/index.txt"), NULL);
    assert_non_null(openssl);
    assert_non_null(qpki);
    expect_same_rows(openssl, 19);
    expect_same_rows(qpki, 12);
    free(openssl);
    free(qpki);
    expect_same_rows("# comment\n"
                     "\n"
                     "V\t270101000000Z\t\t0a1b\tunknown\t/CN=lower case\r\n"
                     "V\t270101000000Z\t\t0000000000000000000000000000000000000000000000000000"
                     "000000000000000000ff\tunknown\t/CN=many zeros\n"
                     "V\t19491231235959Z\t\t00\tunknown\t/CN=serial zero, 1949\n"
                     "R\t270101000000Z\t240115100000Z,KEYTIME,240101000000Z\t03\tunknown\t/\n"
                     "R\t270101000000Z\t240115100000Z,holdInstruction,Hold Instruction Call "
                     "Issuer\t04\tunknown\t/\n"
                     "R\t270101000000Z\t240115100000Z,holdinstruction,1.2.840.10040.2.1\t05\tu\t/\n"
                     "R\t270101000000Z\t20240115100000Z,AACOMPROMISE\t06\tunknown\t/\n"
                     "E\t200101000000Z\t\t07\tunknown\t/CN=tab\\\tinside\n"
                     "R\t270101000000Z\t240115100000Z,removeFromCRL\t08\tunknown\t/CN=last",
                     9);
}

/* The line (len bytes, with its newline) is refused by the codec with `error`,
 * by the database and by the store (which names it with `store_msg`). */
static void expect_refused(const char *line, size_t len, index_row_error error,
                           const char *store_msg)
{
    size_t n = len - 1;
    index_span f[INDEX_ROW_FIELDS];
    index_row r;
    index_row_fault fault;
    assert_true(index_line_has_row(line, &n));
    if (index_row_parse(line, n, f, &r, &fault))
        fail_msg("codec accepted %s", line);
    if (fault.error != error)
        fail_msg("%s: codec error %d, want %d", line, fault.error, error);
    qpki_db *db = NULL;
    char err[512];
    assert_int_equal(qpki_index_open_memory("index.txt", (const uint8_t *)line, len, err,
                                            sizeof(err), &db),
                     QPKI_ERR_PARSE);
    qpki_ca_store *s = store_with_bytes(line, len);
    struct seen seen = {0, NULL};
    assert_int_equal(qpki_ca_store_foreach(s, compare_with_database, &seen), QPKI_ERR_PARSE);
    assert_string_equal(qpki_ca_store_last_error(s), store_msg);
    qpki_ca_store_free(&s);
}

#define L(text) text, sizeof(text) - 1

static void test_database_and_store_refuse_the_same_lines(void **state)
{
    (void)state;
    /* The store used to accept the first ten: its own parser ignored a reason's
     * third part, read reasons and status only up to a NUL, and took "0x" and
     * ':' in serials. */
    static const struct {
        const char *line;
        size_t len;
        index_row_error error;
        const char *store_msg;
    } cases[] = {
        {L("R\t270101000000Z\t240115100000Z,holdInstruction\t02\tu\t/\n"),
         INDEX_ROW_HOLD_MISSING, "index.txt:1: bad revocation reason"},
        {L("R\t270101000000Z\t240115100000Z,holdInstruction,reject\t02\tu\t/\n"),
         INDEX_ROW_HOLD_UNKNOWN, "index.txt:1: bad revocation reason"},
        {L("R\t270101000000Z\t240115100000Z,keyTime\t02\tu\t/\n"),
         INDEX_ROW_KEY_TIME_MISSING, "index.txt:1: bad revocation reason"},
        {L("R\t270101000000Z\t240115100000Z,CAkeyTime,yesterday\t02\tu\t/\n"),
         INDEX_ROW_COMPROMISE_TIME, "index.txt:1: bad revocation reason"},
        {L("R\t270101000000Z\t240115100000Z,superseded,x\t02\tu\t/\n"),
         INDEX_ROW_REASON_EXTRA, "index.txt:1: bad revocation reason"},
        {L("R\t270101000000Z\t240115100000Z,keyCompromise\0junk\t02\tu\t/\n"),
         INDEX_ROW_REASON, "index.txt:1: bad revocation reason"},
        {L("\0\t270101000000Z\t\t01\tu\t/\n"), INDEX_ROW_STATUS,
         "index.txt:1: bad status (want V, R or E)"},
        {L("V\t270101000000Z\t\t0x1A\tu\t/\n"), INDEX_ROW_SERIAL_BAD,
         "index.txt:1: bad serial"},
        {L("V\t270101000000Z\t\t0a:1b\tu\t/\n"), INDEX_ROW_SERIAL_BAD,
         "index.txt:1: bad serial"},
        {L("V\t270101000000Z\t\t::01\tu\t/\n"), INDEX_ROW_SERIAL_BAD,
         "index.txt:1: bad serial"},
        {L("V\t270101000000Z\t\t01\tu\n"), INDEX_ROW_FIELD_COUNT,
         "index.txt:1: expected six tab-separated fields"},
        {L("X\t270101000000Z\t\t01\tu\t/\n"), INDEX_ROW_STATUS,
         "index.txt:1: bad status (want V, R or E)"},
        {L("V\t2701010000Z\t\t01\tu\t/\n"), INDEX_ROW_EXPIRY, "index.txt:1: bad expiry date"},
        {L("R\t270101000000Z\t\t01\tu\t/\n"), INDEX_ROW_REVOCATION_MISSING,
         "index.txt:1: bad revocation date"},
        {L("R\t270101000000Z\t2401151000Z\t01\tu\t/\n"), INDEX_ROW_REVOCATION_TIME,
         "index.txt:1: bad revocation date"},
        {L("V\t270101000000Z\t240115100000Z\t01\tu\t/\n"), INDEX_ROW_NOT_REVOKED,
         "index.txt:1: revocation field set on a row that is not revoked"},
        {L("R\t270101000000Z\t240115100000Z,none\t01\tu\t/\n"), INDEX_ROW_REASON,
         "index.txt:1: bad revocation reason"},
        {L("V\t270101000000Z\t\t\tu\t/\n"), INDEX_ROW_SERIAL_MISSING,
         "index.txt:1: bad serial"},
        {L("V\t270101000000Z\t\t-01\tu\t/\n"), INDEX_ROW_SERIAL_NEGATIVE,
         "index.txt:1: bad serial"},
        {L("V\t270101000000Z\t\t"
           "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021\tu\t/\n"),
         INDEX_ROW_SERIAL_TOO_LONG, "index.txt:1: bad serial"},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++)
        expect_refused(cases[i].line, cases[i].len, cases[i].error, cases[i].store_msg);
}

static void test_revocation_field_in_every_form(void **state)
{
    (void)state;
    const qpki_time t = at(2024, 1, 15, 10, 0, 0);
    static const struct {
        int reason, hold;
        bool invalidity;
        const char *want;
    } cases[] = {
        {QPKI_REASON_NONE, 0, false, "240115100000Z"},
        {QPKI_REASON_UNSPECIFIED, 0, false, "240115100000Z,unspecified"},
        {QPKI_REASON_KEY_COMPROMISE, 0, false, "240115100000Z,keyCompromise"},
        {QPKI_REASON_CA_COMPROMISE, 0, false, "240115100000Z,CACompromise"},
        {QPKI_REASON_AFFILIATION_CHANGED, 0, false, "240115100000Z,affiliationChanged"},
        {QPKI_REASON_SUPERSEDED, 0, false, "240115100000Z,superseded"},
        {QPKI_REASON_CESSATION_OF_OPERATION, 0, false, "240115100000Z,cessationOfOperation"},
        {QPKI_REASON_CERTIFICATE_HOLD, 0, false, "240115100000Z,certificateHold"},
        {QPKI_REASON_REMOVE_FROM_CRL, 0, false, "240115100000Z,removeFromCRL"},
        {QPKI_REASON_PRIVILEGE_WITHDRAWN, 0, false, "240115100000Z,privilegeWithdrawn"},
        {QPKI_REASON_AA_COMPROMISE, 0, false, "240115100000Z,aACompromise"},
        {QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_NONE, false,
         "240115100000Z,holdInstruction,holdInstructionNone"},
        {QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_CALL_ISSUER, false,
         "240115100000Z,holdInstruction,holdInstructionCallIssuer"},
        {QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_REJECT, false,
         "240115100000Z,holdInstruction,holdInstructionReject"},
        {QPKI_REASON_KEY_COMPROMISE, 0, true, "240115100000Z,keyTime,20230101000000Z"},
        {QPKI_REASON_CA_COMPROMISE, 0, true, "240115100000Z,CAkeyTime,20230101000000Z"},
    };
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        index_row r = {.status = 'R', .revocation_time = t,
                       .reason = (qpki_crl_reason)cases[i].reason,
                       .hold = (qpki_hold_instruction)cases[i].hold,
                       .has_invalidity = cases[i].invalidity,
                       .invalidity_date = cases[i].invalidity ? at(2023, 1, 1, 0, 0, 0) : 0};
        char out[INDEX_REVOCATION_MAX];
        assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_OK);
        assert_string_equal(out, cases[i].want);
        /* Read back: the same values. */
        char line[160];
        snprintf(line, sizeof(line), "R\t270101000000Z\t%s\t01\tunknown\t/CN=x", out);
        index_span f[INDEX_ROW_FIELDS];
        index_row back;
        index_row_fault fault;
        assert_true(index_row_parse(line, strlen(line), f, &back, &fault));
        assert_int_equal(back.revocation_time, r.revocation_time);
        assert_int_equal(back.reason, r.reason);
        assert_int_equal(back.hold, r.hold);
        assert_int_equal(back.has_invalidity, r.has_invalidity);
        assert_int_equal(back.invalidity_date, r.invalidity_date);
    }
    /* Times keep the RFC 5280 form of their year. */
    index_row late = {.status = 'R', .revocation_time = at(2051, 1, 2, 3, 4, 5),
                      .reason = QPKI_REASON_SUPERSEDED};
    char out[INDEX_REVOCATION_MAX];
    assert_int_equal(index_revocation_format(&late, out, sizeof(out)), QPKI_OK);
    assert_string_equal(out, "20510102030405Z,superseded");
    late.revocation_time = at(1949, 12, 31, 23, 59, 59);
    late.reason = QPKI_REASON_NONE;
    assert_int_equal(index_revocation_format(&late, out, sizeof(out)), QPKI_OK);
    assert_string_equal(out, "19491231235959Z");
}

static void test_revocation_format_refuses_what_the_field_cannot_hold(void **state)
{
    (void)state;
    const qpki_time t = at(2024, 1, 15, 10, 0, 0);
    char out[INDEX_REVOCATION_MAX];
    index_row r = {.status = 'R', .revocation_time = t, .reason = (qpki_crl_reason)7};
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    assert_string_equal(out, "");
    r.reason = (qpki_crl_reason)11;
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    /* A hold instruction belongs to certificateHold, an invalidity date to the
     * two compromise reasons. */
    r.reason = QPKI_REASON_KEY_COMPROMISE;
    r.hold = QPKI_HOLD_INSTRUCTION_REJECT;
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    r.reason = QPKI_REASON_CERTIFICATE_HOLD;
    r.hold = (qpki_hold_instruction)4;
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    r.hold = QPKI_HOLD_INSTRUCTION_REJECT;
    r.has_invalidity = true;
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    r.hold = QPKI_HOLD_INSTRUCTION_ABSENT;
    r.reason = QPKI_REASON_SUPERSEDED;
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    /* Year 10000 has no text. */
    r = (index_row){.status = 'R', .revocation_time = at(9999, 12, 31, 23, 59, 59) + 1};
    assert_int_equal(index_revocation_format(&r, out, sizeof(out)), QPKI_ERR_INVALID_ARG);
    r.revocation_time = t;
    r.reason = QPKI_REASON_SUPERSEDED;
    assert_int_equal(index_revocation_format(&r, out, 24), QPKI_ERR_BUFFER_TOO_SMALL);
    assert_string_equal(out, "");
    assert_int_equal(index_revocation_format(&r, out, 25), QPKI_OK);
    assert_string_equal(out, "240115100000Z,superseded");
}

/* What the store writes, the database reads back with the values given. */
static void test_rows_the_store_writes_the_database_reads(void **state)
{
    (void)state;
    qpki_ca_store *s = store_with("");
    const qpki_time expiry[] = {at(1949, 12, 31, 23, 59, 59), at(2049, 12, 31, 23, 59, 59),
                                at(2050, 1, 1, 0, 0, 0), at(9999, 12, 31, 23, 59, 59)};
    for (uint8_t i = 0; i < 4; i++) {
        uint8_t serial[] = {0x00, (uint8_t)(0x10 + i)};
        assert_int_equal(qpki_ca_store_add_row(s, serial, 2, expiry[i], NULL, "/CN=x"),
                         QPKI_OK);
    }
    const qpki_time revoked = at(1949, 6, 1, 0, 0, 0);
    static const uint8_t second[] = {0x11}, third[] = {0x12};
    assert_int_equal(qpki_ca_store_revoke(s, second, 1, revoked, QPKI_REASON_AA_COMPROMISE),
                     QPKI_OK);
    assert_int_equal(qpki_ca_store_revoke(s, third, 1, at(2024, 1, 15, 10, 0, 0),
                                          QPKI_REASON_CA_COMPROMISE),
                     QPKI_OK);
    qpki_ca_store_free(&s);
    char path[512];
    snprintf(path, sizeof(path), "%s/ca/index.txt", dir);
    char *text = (char *)tu_read_file(path, NULL);
    assert_non_null(text);
    assert_string_equal(text,
                        "V\t19491231235959Z\t\t10\tunknown\t/CN=x\n"
                        "R\t491231235959Z\t19490601000000Z,aACompromise\t11\tunknown\t/CN=x\n"
                        "R\t20500101000000Z\t240115100000Z,CACompromise\t12\tunknown\t/CN=x\n"
                        "V\t99991231235959Z\t\t13\tunknown\t/CN=x\n");
    expect_same_rows(text, 4);
    free(text);
    qpki_db *db = NULL;
    snprintf(path, sizeof(path), "%s/ca", dir);
    assert_int_equal(qpki_db_open_index(path, &db), QPKI_OK);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    assert_int_equal(qpki_db_lookup(db, second, 1, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.expiry, expiry[1]);
    assert_int_equal(e.revocation_time, revoked);
    assert_int_equal(e.reason, QPKI_REASON_AA_COMPROMISE);
    qpki_db_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows_openssl_ca_wrote_are_written_back_byte_for_byte),
        cmocka_unit_test_setup_teardown(
            test_rows_openssl_ca_writes_now_are_written_back_byte_for_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_database_and_store_read_every_form_alike, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_database_and_store_refuse_the_same_lines, setup,
                                        teardown),
        cmocka_unit_test(test_revocation_field_in_every_form),
        cmocka_unit_test(test_revocation_format_refuses_what_the_field_cannot_hold),
        cmocka_unit_test_setup_teardown(test_rows_the_store_writes_the_database_reads, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
