/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_db.c - the status database: index.txt as `openssl ca` and QPKI
 * write it, reloads, concurrency, the vtable and allocation failures. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include <qpki/db.h>
#include <qpki/limits.h>

#include "db/db_internal.h"
#include "db/table.h"
#include "internal.h"

/* ---- helpers ---------------------------------------------------------- */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/qpki-test-db-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tmp_path(const char *name)
{
    static char buf[512];
    snprintf(buf, sizeof(buf), "%s/%s", tmpdir, name);
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* Replace path atomically, as `openssl ca` does. */
static void replace_text(const char *path, const char *text)
{
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "%s.new", path);
    write_text(tmp, text);
    assert_int_equal(rename(tmp, path), 0);
}

static qpki_db *open_memory(const char *text)
{
    qpki_db *db = NULL;
    char err[512];
    qpki_status rc = qpki_index_open_memory("index.txt", (const uint8_t *)text, strlen(text), err,
                                            sizeof(err), &db);
    if (rc != QPKI_OK)
        fail_msg("load failed: %s", err);
    return db;
}

/* Look a serial up by its hex text. */
static qpki_status lookup_hex(qpki_db *db, const char *hex, qpki_db_entry *e)
{
    uint8_t serial[64];
    size_t len;
    assert_int_equal(qpki_serial_from_hex(hex, serial, sizeof(serial), &len), QPKI_OK);
    qpki_db_entry_init(e);
    return qpki_db_lookup(db, serial, len, e);
}

static void expect_row(qpki_db *db, const char *hex, char status, qpki_time expiry,
                       qpki_time revoked, qpki_crl_reason reason,
                       qpki_hold_instruction hold, qpki_time invalidity)
{
    qpki_db_entry e;
    qpki_status rc = lookup_hex(db, hex, &e);
    if (rc != QPKI_OK)
        fail_msg("serial %s: %s", hex, qpki_strerror(rc));
    if (e.row_status != status || e.expiry != expiry || e.revocation_time != revoked ||
        e.reason != reason || e.hold_instruction != hold || e.invalidity_date != invalidity)
        fail_msg("serial %s: got %c %lld %lld %d %d %lld, want %c %lld %lld %d %d %lld", hex,
                 e.row_status, (long long)e.expiry, (long long)e.revocation_time, e.reason,
                 e.hold_instruction, (long long)e.invalidity_date, status, (long long)expiry,
                 (long long)revoked, reason, hold, (long long)invalidity);
}

static void expect_load_error(const char *text, qpki_status want_rc, const char *want_msg)
{
    qpki_db *db = NULL;
    char err[512] = "unset";
    qpki_status rc = qpki_index_open_memory("index.txt", (const uint8_t *)text, strlen(text), err,
                                            sizeof(err), &db);
    if (rc != want_rc || strcmp(err, want_msg) != 0)
        fail_msg("input %s\n got %d \"%s\"\nwant %d \"%s\"", text, rc, err, want_rc, want_msg);
    assert_null(db);
}

/* Compare every certificate the oracle (tests/data/index/crl_oracle.py: Python
 * `cryptography` reading the certificates and the CRL openssl made from the
 * index) lists with what the database says.  Serial 10 is the one
 * `openssl ca -updatedb` marked expired. */
static void check_against_oracle(qpki_db *db, const char *oracle)
{
    size_t lines = 0;
    const char *p = oracle;
    while (*p) {
        char hex[80];
        long long not_after, revoked_at, invalidity;
        int revoked, reason, hold, used = 0;
        assert_int_equal(sscanf(p, "%79s %lld %d %lld %d %d %lld%n", hex, &not_after, &revoked,
                                &revoked_at, &reason, &hold, &invalidity, &used),
                         7);
        char status = revoked ? 'R' : strcmp(hex, "10") == 0 ? 'E' : 'V';
        expect_row(db, hex, status, not_after, revoked_at, (qpki_crl_reason)reason,
                   (qpki_hold_instruction)hold, invalidity);
        lines++;
        p += used;
        while (*p == '\n')
            p++;
    }
    assert_int_equal(lines, 19);
    assert_int_equal(qpki_db_count(db), 19);
}

/* ---- index.txt written by openssl ca ---------------------------------- */

static void test_openssl_ca_index_agrees_with_the_certificates_and_crl(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    char err[512];
    const char *path = tu_data_path("index/openssl/index.txt");
    assert_int_equal(qpki_db_open_index_err(path, err, sizeof(err), &db), QPKI_OK);
    assert_string_equal(err, "");
    assert_int_equal(qpki_db_generation(db), 1);
    char *oracle = (char *)tu_read_file(tu_data_path("index/openssl/expected.txt"), NULL);
    assert_non_null(oracle);
    check_against_oracle(db, oracle);
    free(oracle);

    /* A few rows spelled out (times: date -u -d ... +%s). */
    const qpki_time exp27 = 1827234893;   /* 271126131453Z */
    const qpki_time rev26 = 1795698893;   /* 261126131453Z */
    expect_row(db, "01", 'V', exp27, 0, QPKI_REASON_NONE, QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    expect_row(db, "09", 'R', exp27, rev26, QPKI_REASON_REMOVE_FROM_CRL,
               QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    expect_row(db, "0A", 'R', exp27, rev26, QPKI_REASON_CERTIFICATE_HOLD,
               QPKI_HOLD_INSTRUCTION_REJECT, 0);
    expect_row(db, "0D", 'R', exp27, rev26, QPKI_REASON_KEY_COMPROMISE,
               QPKI_HOLD_INSTRUCTION_ABSENT, 1705312800 /* 20240115100000Z */);
    expect_row(db, "0E", 'R', exp27, rev26, QPKI_REASON_CA_COMPROMISE,
               QPKI_HOLD_INSTRUCTION_ABSENT, 1672531200 /* 20230101000000Z */);
    expect_row(db, "0F", 'R', exp27, rev26, QPKI_REASON_NONE, QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    expect_row(db, "10", 'E', 1609459200, 0, QPKI_REASON_NONE, QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    /* Expired but never marked: reported as the file says, policy is the
     * responder's. */
    expect_row(db, "11", 'V', 1609459200, 0, QPKI_REASON_NONE, QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    expect_row(db, "12", 'R', 2682374400 /* 20550101000000Z */, rev26, QPKI_REASON_SUPERSEDED,
               QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    /* The DER INTEGER contents of that serial start with 00 (high bit set). */
    expect_row(db, "008000000000000000000000000000000000000001", 'V', exp27, 0,
               QPKI_REASON_NONE, QPKI_HOLD_INSTRUCTION_ABSENT, 0);
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "13", &e), QPKI_ERR_NOT_FOUND);
    qpki_db_free(&db);
    assert_null(db);
}

static bool have_openssl_and_cryptography(void)
{
    int st = -1;
    char *out = tu_run("command -v openssl >/dev/null 2>&1 && "
                       "/usr/bin/python3 -c 'import cryptography' 2>/dev/null && echo yes",
                       &st);
    bool ok = out && st == 0 && strncmp(out, "yes", 3) == 0;
    free(out);
    return ok;
}

static void test_index_made_now_by_openssl_ca_agrees_with_the_crl(void **state)
{
    (void)state;
    if (!have_openssl_and_cryptography())
        skip();
    char dir[600];
    snprintf(dir, sizeof(dir), "%s", tmp_path("fresh-ca"));
    char cmd[4096], script[600], oracle_py[600];
    snprintf(script, sizeof(script), "%s", tu_data_path("index/make-openssl-index.sh"));
    snprintf(oracle_py, sizeof(oracle_py), "%s", tu_data_path("index/crl_oracle.py"));
    snprintf(cmd, sizeof(cmd), "sh '%s' '%s' && /usr/bin/python3 '%s' '%s'", script, dir,
             oracle_py, dir);
    int st = -1;
    char *oracle = tu_run(cmd, &st);
    assert_non_null(oracle);
    assert_int_equal(st, 0);
    qpki_db *db = NULL;
    char err[512];
    /* The CA directory itself: its index.txt is used. */
    assert_int_equal(qpki_db_open_index_err(dir, err, sizeof(err), &db), QPKI_OK);
    check_against_oracle(db, oracle);
    free(oracle);
    qpki_db_free(&db);
}

/* ---- QPKI's format ---------------------------------------------------- */

static void test_qpki_index_with_camel_case_reasons_is_read(void **state)
{
    (void)state;
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(tu_data_path("index/qpki"), &db), QPKI_OK);
    assert_int_equal(qpki_db_count(db), 12);
    const qpki_time exp = 1798761600;    /* 270101000000Z */
    const qpki_time rev = 1705312800;    /* 240115100000Z */
    const qpki_hold_instruction none = QPKI_HOLD_INSTRUCTION_ABSENT;
    expect_row(db, "0A1B2C3D", 'V', exp, 0, QPKI_REASON_NONE, none, 0);
    expect_row(db, "0a1b2c3e", 'R', exp, rev, QPKI_REASON_KEY_COMPROMISE, none, 0);
    expect_row(db, "0a1b2c3f", 'R', exp, rev, QPKI_REASON_CA_COMPROMISE, none, 0);
    expect_row(db, "0a1b2c40", 'R', exp, rev, QPKI_REASON_CA_COMPROMISE, none, 0);
    expect_row(db, "0a1b2c41", 'R', exp, rev, QPKI_REASON_PRIVILEGE_WITHDRAWN, none, 0);
    expect_row(db, "0a1b2c42", 'R', exp, rev, QPKI_REASON_AA_COMPROMISE, none, 0);
    expect_row(db, "0a1b2c43", 'R', exp, rev, QPKI_REASON_AA_COMPROMISE, none, 0);
    expect_row(db, "0a1b2c44", 'R', exp, rev, QPKI_REASON_REMOVE_FROM_CRL, none, 0);
    expect_row(db, "0a1b2c45", 'R', exp, rev, QPKI_REASON_CERTIFICATE_HOLD, none, 0);
    expect_row(db, "0a1b2c46", 'R', exp, rev, QPKI_REASON_NONE, none, 0);
    expect_row(db, "0a1b2c47", 'E', 1672531200, 0, QPKI_REASON_NONE, none, 0);
    expect_row(db, "9F3C5A0E7D21B4C6A8E0F1D2C3B4A59687706152", 'V',
               253402300799 /* 99991231235959Z: RFC 5280 "no well-defined expiration" */, 0,
               QPKI_REASON_NONE, none, 0);
    qpki_db_free(&db);
}

static void test_every_reason_spelling_maps_to_its_code(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        qpki_crl_reason reason;
        qpki_hold_instruction hold;
        qpki_time invalidity;
    } cases[] = {
        {"unspecified", QPKI_REASON_UNSPECIFIED, 0, 0},
        {"keyCompromise", QPKI_REASON_KEY_COMPROMISE, 0, 0},
        {"KEYCOMPROMISE", QPKI_REASON_KEY_COMPROMISE, 0, 0},
        {"CACompromise", QPKI_REASON_CA_COMPROMISE, 0, 0},
        {"cACompromise", QPKI_REASON_CA_COMPROMISE, 0, 0},
        {"caCompromise", QPKI_REASON_CA_COMPROMISE, 0, 0},
        {"affiliationChanged", QPKI_REASON_AFFILIATION_CHANGED, 0, 0},
        {"superseded", QPKI_REASON_SUPERSEDED, 0, 0},
        {"cessationOfOperation", QPKI_REASON_CESSATION_OF_OPERATION, 0, 0},
        {"certificateHold", QPKI_REASON_CERTIFICATE_HOLD, 0, 0},
        {"removeFromCRL", QPKI_REASON_REMOVE_FROM_CRL, 0, 0},
        {"privilegeWithdrawn", QPKI_REASON_PRIVILEGE_WITHDRAWN, 0, 0},
        {"aACompromise", QPKI_REASON_AA_COMPROMISE, 0, 0},
        {"AACompromise", QPKI_REASON_AA_COMPROMISE, 0, 0},
        {"aaCompromise", QPKI_REASON_AA_COMPROMISE, 0, 0},
        {"holdInstruction,holdInstructionNone", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_NONE, 0},
        {"holdInstruction,holdInstructionCallIssuer", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_CALL_ISSUER, 0},
        {"holdInstruction,holdInstructionReject", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_REJECT, 0},
        {"HOLDINSTRUCTION,HOLDINSTRUCTIONREJECT", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_REJECT, 0},
        {"holdInstruction,Hold Instruction Call Issuer", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_CALL_ISSUER, 0},
        {"holdInstruction,1.2.840.10040.2.3", QPKI_REASON_CERTIFICATE_HOLD,
         QPKI_HOLD_INSTRUCTION_REJECT, 0},
        {"keyTime,20240115100000Z", QPKI_REASON_KEY_COMPROMISE, 0, 1705312800},
        {"keyTime,240115100000Z", QPKI_REASON_KEY_COMPROMISE, 0, 1705312800},
        {"CAkeyTime,20230101000000Z", QPKI_REASON_CA_COMPROMISE, 0, 1672531200},
        {"cakeytime,20230101000000Z", QPKI_REASON_CA_COMPROMISE, 0, 1672531200},
    };
    char text[8192] = "";
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        char line[256];
        snprintf(line, sizeof(line), "R\t270101000000Z\t240115100000Z,%s\t%02zX\tunknown\t/CN=x\n",
                 cases[i].text, i + 1);
        strcat(text, line);
    }
    qpki_db *db = open_memory(text);
    assert_int_equal(qpki_db_count(db), QPKI_ARRAY_LEN(cases));
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        char hex[8];
        snprintf(hex, sizeof(hex), "%02zX", i + 1);
        expect_row(db, hex, 'R', 1798761600, 1705312800, cases[i].reason, cases[i].hold,
                   cases[i].invalidity);
    }
    qpki_db_free(&db);
}

static void test_hold_instruction_names_are_openssl_short_names(void **state)
{
    (void)state;
    assert_string_equal(qpki_hold_instruction_name(QPKI_HOLD_INSTRUCTION_ABSENT), "absent");
    assert_string_equal(qpki_hold_instruction_name(QPKI_HOLD_INSTRUCTION_NONE),
                        "holdInstructionNone");
    assert_string_equal(qpki_hold_instruction_name(QPKI_HOLD_INSTRUCTION_CALL_ISSUER),
                        "holdInstructionCallIssuer");
    assert_string_equal(qpki_hold_instruction_name(QPKI_HOLD_INSTRUCTION_REJECT),
                        "holdInstructionReject");
    assert_null(qpki_hold_instruction_name((qpki_hold_instruction)4));
}

/* ---- serials ------------------------------------------------------------ */

static void test_serial_spellings_and_leading_zeros_find_the_same_row(void **state)
{
    (void)state;
    qpki_db *db = open_memory(
        "V\t270101000000Z\t\t00000A1b\tunknown\t/CN=a\n"
        "V\t270101000000Z\t\tabc\tunknown\t/CN=odd digit count\n"
        "V\t270101000000Z\t\t00\tunknown\t/CN=serial zero\n"
        "V\t270101000000Z\t\t"
        "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F20\tunknown\t/CN=32\n"
        "V\t270101000000Z\t\t"
        "0000000000000000000000000000000000000000000000000000000000000000"
        "0000000000ff\tunknown\t/CN=many zeros\n");
    assert_int_equal(qpki_db_count(db), 5);
    qpki_db_entry e;
    static const char *const a[] = {"0a1b", "0A1B", "a1b", "000a1b", "0x0A1B", "0a:1b"};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(a); i++)
        assert_int_equal(lookup_hex(db, a[i], &e), QPKI_OK);
    assert_int_equal(lookup_hex(db, "0ABC", &e), QPKI_OK);
    assert_int_equal(lookup_hex(db, "FF", &e), QPKI_OK);
    assert_int_equal(lookup_hex(db, "A1C", &e), QPKI_ERR_NOT_FOUND);

    /* Raw magnitudes: leading zero octets removed before the lookup. */
    qpki_db_entry_init(&e);
    static const uint8_t padded[40] = {[38] = 0x0a, [39] = 0x1b};
    assert_int_equal(qpki_db_lookup(db, padded, sizeof(padded), &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    static const uint8_t zero[3] = {0, 0, 0};
    assert_int_equal(qpki_db_lookup(db, zero, 3, &e), QPKI_OK);
    assert_int_equal(qpki_db_lookup(db, NULL, 0, &e), QPKI_OK);
    uint8_t s32[32], s33[33];
    for (int i = 0; i < 32; i++)
        s32[i] = (uint8_t)(i + 1);
    assert_int_equal(qpki_db_lookup(db, s32, 32, &e), QPKI_OK);
    memset(s33, 0x11, sizeof(s33));
    assert_int_equal(qpki_db_lookup(db, s33, 33, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(e.row_status, 0);
    assert_int_equal(e.reason, QPKI_REASON_NONE);
    qpki_db_free(&db);
}

static void test_serial_from_hex_accepts_cli_spellings(void **state)
{
    (void)state;
    uint8_t out[32];
    size_t len = 99;
    assert_int_equal(qpki_serial_from_hex("0x00FF", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], 0xff);
    assert_int_equal(qpki_serial_from_hex("00000a1B", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "\x0a\x1b", 2);
    assert_int_equal(qpki_serial_from_hex("31:97:21:ed", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 4);
    assert_memory_equal(out, "\x31\x97\x21\xed", 4);
    assert_int_equal(qpki_serial_from_hex("abc", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(out, "\x0a\xbc", 2);
    assert_int_equal(qpki_serial_from_hex("0", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 0);
    assert_int_equal(qpki_serial_from_hex("0X0", out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 0);
    assert_int_equal(qpki_serial_from_hex("", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex("0x", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex("12g4", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex("-01", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex(":01", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex("01:", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex("01::02", out, sizeof(out), &len), QPKI_ERR_PARSE);
    assert_int_equal(qpki_serial_from_hex(" 01", out, sizeof(out), &len), QPKI_ERR_PARSE);
    /* 33 significant octets do not fit 32; 64 leading zeros cost nothing. */
    char big[80];
    memset(big, 'f', 66);
    big[66] = '\0';
    assert_int_equal(qpki_serial_from_hex(big, out, sizeof(out), &len),
                     QPKI_ERR_BUFFER_TOO_SMALL);
    memset(big, '0', 64);
    strcpy(big + 64, "7f");
    assert_int_equal(qpki_serial_from_hex(big, out, sizeof(out), &len), QPKI_OK);
    assert_int_equal(len, 1);
    assert_int_equal(out[0], 0x7f);
    assert_int_equal(qpki_serial_from_hex(NULL, out, sizeof(out), &len), QPKI_ERR_INVALID_ARG);
}

/* ---- syntax ------------------------------------------------------------- */

static void test_comments_blank_lines_crlf_escaped_tabs_and_last_line_are_handled(void **state)
{
    (void)state;
    qpki_db *db = open_memory("# comment line, as TXT_DB allows\n"
                              "\n"
                              "V\t270101000000Z\t\t01\tunknown\t/CN=crlf\r\n"
                              "\r\n"
                              "V\t270101000000Z\t\t02\tunknown\t/CN=tab\\\there/O=x\n"
                              "V\t270101000000Z\t\t03\tunknown\\\tname\t/CN=tab in filename\n"
                              "R\t270101000000Z\t240115100000Z\t04\tunknown\t/CN=no newline");
    assert_int_equal(qpki_db_count(db), 4);
    expect_row(db, "01", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "02", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "03", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "04", 'R', 1798761600, 1705312800, QPKI_REASON_NONE, 0, 0);
    qpki_db_free(&db);

    /* An empty file is a database without rows. */
    db = open_memory("");
    assert_int_equal(qpki_db_count(db), 0);
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "01", &e), QPKI_ERR_NOT_FOUND);
    qpki_db_free(&db);
}

static void test_time_fields_follow_rfc_5280_year_rules(void **state)
{
    (void)state;
    qpki_db *db = open_memory("V\t491231235959Z\t\t01\tunknown\t/CN=2049\n"
                              "V\t500101000000Z\t\t02\tunknown\t/CN=1950\n"
                              "V\t99991231235959Z\t\t03\tunknown\t/CN=9999\n"
                              "V\t240229120000Z\t\t04\tunknown\t/CN=leap day\n"
                              "V\t19700101000000Z\t\t05\tunknown\t/CN=epoch\n");
    expect_row(db, "01", 'V', 2524607999, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "02", 'V', -631152000, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "03", 'V', 253402300799, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "04", 'V', 1709208000, 0, QPKI_REASON_NONE, 0, 0);
    expect_row(db, "05", 'V', 0, 0, QPKI_REASON_NONE, 0, 0);
    qpki_db_free(&db);
}

static void test_malformed_lines_fail_the_whole_load_with_the_line_number(void **state)
{
    (void)state;
#define OK1 "V\t270101000000Z\t\t01\tunknown\t/CN=a\n"
    static const struct {
        const char *text, *msg;
    } cases[] = {
        {"V\t270101000000Z\t\t01\tunknown\n",
         "index.txt:1: expected 6 tab-separated fields, found 5"},
        {"V\t270101000000Z\t\t01\tunknown\t/CN=a\textra\n",
         "index.txt:1: expected 6 tab-separated fields, found 7"},
        {" \n", "index.txt:1: expected 6 tab-separated fields, found 1"},
        {OK1 "# comment\n\nX\t270101000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:4: bad status 'X' (expected V, R or E)"},
        {"VV\t270101000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad status 'VV' (expected V, R or E)"},
        {"\x01\t270101000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad status '?' (expected V, R or E)"},
        {"v\t270101000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad status 'v' (expected V, R or E)"},
        {"V\t2701010000Z\t\t02\tunknown\t/CN=b\n", "index.txt:1: bad expiry date '2701010000Z'"},
        {"V\t271301000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad expiry date '271301000000Z'"},
        {"V\t230229000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad expiry date '230229000000Z'"},
        {"V\t270101000060Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad expiry date '270101000060Z'"},
        {"V\t270101000000X\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad expiry date '270101000000X'"},
        {"V\t\t\t02\tunknown\t/CN=b\n", "index.txt:1: bad expiry date ''"},
        {"R\t270101000000Z\t\t02\tunknown\t/CN=b\n",
         "index.txt:1: revoked row without a revocation date"},
        {"V\t270101000000Z\t240115100000Z\t02\tunknown\t/CN=b\n",
         "index.txt:1: row with status V has a revocation date"},
        {"E\t270101000000Z\t240115100000Z,superseded\t02\tunknown\t/CN=b\n",
         "index.txt:1: row with status E has a revocation date"},
        {"R\t270101000000Z\t2401151000Z,keyCompromise\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad revocation date '2401151000Z'"},
        {"R\t270101000000Z\t240115100000Z,fooBar\t02\tunknown\t/CN=b\n",
         "index.txt:1: unknown revocation reason 'fooBar'"},
        {"R\t270101000000Z\t240115100000Z,\t02\tunknown\t/CN=b\n",
         "index.txt:1: unknown revocation reason ''"},
        {"R\t270101000000Z\t240115100000Z,none\t02\tunknown\t/CN=b\n",
         "index.txt:1: unknown revocation reason 'none'"},
        {"R\t270101000000Z\t240115100000Z,holdInstruction\t02\tunknown\t/CN=b\n",
         "index.txt:1: holdInstruction without a hold instruction"},
        {"R\t270101000000Z\t240115100000Z,holdInstruction,holdInstructionCode\t02\tunknown\t/\n",
         "index.txt:1: unknown hold instruction 'holdInstructionCode'"},
        {"R\t270101000000Z\t240115100000Z,holdInstruction,1.2.840.10040.2.4\t02\tunknown\t/\n",
         "index.txt:1: unknown hold instruction '1.2.840.10040.2.4'"},
        {"R\t270101000000Z\t240115100000Z,keyTime\t02\tunknown\t/CN=b\n",
         "index.txt:1: keyTime without a compromise time"},
        {"R\t270101000000Z\t240115100000Z,CAkeyTime\t02\tunknown\t/CN=b\n",
         "index.txt:1: CAkeyTime without a compromise time"},
        {"R\t270101000000Z\t240115100000Z,CAkeyTime,2024\t02\tunknown\t/CN=b\n",
         "index.txt:1: bad compromise time '2024'"},
        {"R\t270101000000Z\t240115100000Z,keyCompromise,x\t02\tunknown\t/CN=b\n",
         "index.txt:1: unexpected text after revocation reason 'keyCompromise'"},
        {"V\t270101000000Z\t\t\tunknown\t/CN=b\n", "index.txt:1: missing serial number"},
        {"V\t270101000000Z\t\t-01\tunknown\t/CN=b\n",
         "index.txt:1: negative serial number '-01' is not supported"},
        {"V\t270101000000Z\t\t0x1A\tunknown\t/CN=b\n", "index.txt:1: bad serial number '0x1A'"},
        {"V\t270101000000Z\t\t01 \tunknown\t/CN=b\n", "index.txt:1: bad serial number '01 '"},
        {"V\t270101000000Z\t\t"
         "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021\tunknown\t/\n",
         "index.txt:1: serial number longer than 32 octets"},
        {"V\t270101000000Z\t\t"
         "0102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F2021xx\tunknown\t/\n",
         "index.txt:1: bad serial number '0102030405060708090A0B0C0D0E0F1011121314...'"},
        {"\n" OK1 "# x\n"
         "V\t270101000000Z\t\t0a\tunknown\t/CN=b\n"
         "V\t270101000000Z\t\t000A\tunknown\t/CN=c\n",
         "index.txt:5: duplicate serial number 0A (first on line 4)"},
        {OK1 "V\t270101000000Z\t\t00\tunknown\t/CN=b\nV\t270101000000Z\t\t0\tunknown\t/\n",
         "index.txt:3: duplicate serial number 00 (first on line 2)"},
    };
#undef OK1
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++)
        expect_load_error(cases[i].text, QPKI_ERR_PARSE, cases[i].msg);
}

/* ---- opening and reloading --------------------------------------------- */

static void test_open_reports_the_missing_file_with_its_path(void **state)
{
    (void)state;
    qpki_db *db = (qpki_db *)1;
    char err[512], want[600];
    assert_int_equal(qpki_db_open_index_err("/nonexistent/qpki/index.txt", err, sizeof(err), &db),
                     QPKI_ERR_NOT_FOUND);
    assert_null(db);
    assert_string_equal(err, "/nonexistent/qpki/index.txt: No such file or directory");
    /* A directory without index.txt. */
    assert_int_equal(qpki_db_open_index_err(tmpdir, err, sizeof(err), &db), QPKI_ERR_NOT_FOUND);
    snprintf(want, sizeof(want), "%s/index.txt: No such file or directory", tmpdir);
    assert_string_equal(err, want);
    char slash[300];
    snprintf(slash, sizeof(slash), "%s/", tmpdir);
    assert_int_equal(qpki_db_open_index_err(slash, err, sizeof(err), &db), QPKI_ERR_NOT_FOUND);
    assert_string_equal(err, want);
    assert_int_equal(qpki_db_open_index(NULL, &db), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_open_index("x", NULL), QPKI_ERR_INVALID_ARG);

    /* index.txt that is not a regular file. */
    char dir[400], sub[450];
    snprintf(dir, sizeof(dir), "%s/odd-ca", tmpdir);
    snprintf(sub, sizeof(sub), "%s/index.txt", dir);
    assert_int_equal(mkdir(dir, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    assert_int_equal(qpki_db_open_index_err(dir, err, sizeof(err), &db), QPKI_ERR_IO);
    snprintf(want, sizeof(want), "%s: not a regular file", sub);
    assert_string_equal(err, want);
}

static void test_line_longer_than_the_read_buffer_is_an_error(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s", tmp_path("long-line.txt"));
    size_t big = (size_t)5 << 20;
    char *text = malloc(big + 200);
    assert_non_null(text);
    int n = snprintf(text, 200, "V\t270101000000Z\t\t01\tunknown\t/CN=a\n"
                                "V\t270101000000Z\t\t02\tunknown\t/CN=");
    memset(text + n, 'x', big);
    strcpy(text + n + big, "\n");
    write_text(p, text);
    free(text);
    qpki_db *db = NULL;
    char err[512], want[700];
    assert_int_equal(qpki_db_open_index_err(p, err, sizeof(err), &db), QPKI_ERR_PARSE);
    snprintf(want, sizeof(want), "%s:2: line longer than 4194304 bytes", p);
    assert_string_equal(err, want);
    assert_null(db);
}

static const char *const version_a = "V\t270101000000Z\t\t01\tunknown\t/CN=one\n"
                                     "V\t270101000000Z\t\t02\tunknown\t/CN=two\n";

static void test_bad_reload_keeps_the_old_table_and_generation(void **state)
{
    (void)state;
    const char *path = tmp_path("bad-reload.txt");
    char p[512];
    snprintf(p, sizeof(p), "%s", path);
    write_text(p, version_a);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(p, &db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 1);

    replace_text(p, "R\t270101000000Z\t240115100000Z,superseded\t01\tunknown\t/CN=one\n"
                    "V\t2701010000Z\t\t02\tunknown\t/CN=two\n");
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_PARSE);
    char msg[512], want[700];
    qpki_db_last_error(db, msg, sizeof(msg));
    snprintf(want, sizeof(want), "%s:2: bad expiry date '2701010000Z'", p);
    assert_string_equal(msg, want);
    assert_int_equal(qpki_db_generation(db), 1);
    assert_int_equal(qpki_db_count(db), 2);
    /* Still the old answers, not row 1's new revocation. */
    expect_row(db, "01", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);

    /* Polling the unchanged bad file answers the same without parsing it again. */
    qpki_index_stats st0, st1;
    assert_int_equal(qpki_index_get_stats(db, &st0), QPKI_OK);
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_PARSE);
    assert_int_equal(qpki_index_get_stats(db, &st1), QPKI_OK);
    assert_int_equal(st1.full_loads, st0.full_loads);

    /* Fixed: reloaded, message cleared. */
    replace_text(p, "R\t270101000000Z\t240115100000Z,superseded\t01\tunknown\t/CN=one\n"
                    "V\t270101000000Z\t\t02\tunknown\t/CN=two\n");
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 2);
    qpki_db_last_error(db, msg, sizeof(msg));
    assert_string_equal(msg, "");
    expect_row(db, "01", 'R', 1798761600, 1705312800, QPKI_REASON_SUPERSEDED, 0, 0);

    /* The file vanishes (a CA tool between two renames): error, table kept. */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_NOT_FOUND);
    qpki_db_last_error(db, msg, sizeof(msg));
    snprintf(want, sizeof(want), "%s: No such file or directory", p);
    assert_string_equal(msg, want);
    expect_row(db, "01", 'R', 1798761600, 1705312800, QPKI_REASON_SUPERSEDED, 0, 0);
    assert_int_equal(qpki_db_generation(db), 2);
    qpki_db_free(&db);
}

static void test_generation_moves_only_when_the_rows_change(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s", tmp_path("gen.txt"));
    write_text(p, version_a);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(p, &db), QPKI_OK);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 1);

    replace_text(p, "V\t270101000000Z\t\t01\tunknown\t/CN=one\n");
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 2);
    assert_int_equal(qpki_db_count(db), 1);
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "02", &e), QPKI_ERR_NOT_FOUND);

    /* Same rows, other subject and a comment: reread, same generation. */
    replace_text(p, "# renamed\nV\t270101000000Z\t\t01\tunknown\t/CN=renamed\n");
    qpki_index_stats st0, st1;
    assert_int_equal(qpki_index_get_stats(db, &st0), QPKI_OK);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_index_get_stats(db, &st1), QPKI_OK);
    /* Both lines differ from the one line before (a comment is now line 1,
     * the row line 2): read incrementally, the row put again unchanged. */
    assert_int_equal(st1.incremental_loads, st0.incremental_loads + 1);
    assert_int_equal(st1.full_loads, st0.full_loads);
    assert_int_equal(st1.changed_lines, 2);
    assert_int_equal(qpki_db_generation(db), 2);
    assert_int_equal(qpki_db_count(db), 1);
    expect_row(db, "01", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);

    /* touch: new timestamps, same bytes. */
    struct timespec times[2] = {{.tv_sec = 1700000000}, {.tv_sec = 1700000000}};
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 2);
    qpki_db_free(&db);
}

static void test_recent_file_is_compared_by_contents_when_timestamps_match(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s", tmp_path("racy.txt"));
    write_text(p, version_a);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(p, &db), QPKI_OK);
    qpki_index_stats st;
    assert_int_equal(qpki_index_get_stats(db, &st), QPKI_OK);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.hash_checks, 0);
    /* Written a moment ago: an unchanged stat is not trusted, the contents are
     * hashed; equal, so nothing is parsed. */
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_index_get_stats(db, &st), QPKI_OK);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.hash_checks, 1);
    assert_int_equal(qpki_db_generation(db), 1);

    /* Rewrite in place with the same size (row 02 revoked -> expired date
     * changed) and put the old mtime back: the change is found. */
    struct stat before;
    assert_int_equal(stat(p, &before), 0);
    write_text(p, "V\t270101000000Z\t\t01\tunknown\t/CN=one\n"
                  "E\t260101000000Z\t\t02\tunknown\t/CN=two\n");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), 2);
    expect_row(db, "02", 'E', 1767225600, 0, QPKI_REASON_NONE, 0, 0);

    /* An old file is trusted by its identity: no rereads. */
    struct timespec old[2] = {{.tv_sec = 1600000000}, {.tv_sec = 1600000000}};
    assert_int_equal(utimensat(AT_FDCWD, p, old, 0), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK); /* ctime still recent: reread */
    assert_int_equal(qpki_index_get_stats(db, &st), QPKI_OK);
    uint64_t loads = st.full_loads, checks = st.hash_checks;
    /* ctime cannot be set back, so only its age would stop the checks; the
     * count goes up by at most one hash per call and never by a parse. */
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_index_get_stats(db, &st), QPKI_OK);
    assert_int_equal(st.full_loads, loads);
    assert_true(st.hash_checks <= checks + 1);
    assert_int_equal(qpki_db_generation(db), 2);
    qpki_db_free(&db);
}

/* ---- concurrency -------------------------------------------------------- */

#define CONC_ROWS 1000
#define CONC_REWRITES 60
#define CONC_READERS 3
#define CONC_VERSIONS 4

typedef struct conc {
    qpki_db *db;
    atomic_bool stop;
    atomic_ulong lookups, matched_generation, failures;
} conc;

/* Generation g (1-based) holds version (g - 1) % 4 of every row: version 0
 * valid; 1 revoked (keyCompromise, 240115100000Z); 2 revoked (superseded,
 * 240116100000Z); 3 revoked (cessationOfOperation, 240117100000Z). */
static int row_version(const qpki_db_entry *e)
{
    if (e->expiry != 1798761600 || e->hold_instruction != 0 || e->invalidity_date != 0)
        return -1;
    if (e->row_status == 'V' && e->revocation_time == 0 && e->reason == QPKI_REASON_NONE)
        return 0;
    if (e->row_status == 'R' && e->revocation_time == 1705312800 &&
        e->reason == QPKI_REASON_KEY_COMPROMISE)
        return 1;
    if (e->row_status == 'R' && e->revocation_time == 1705399200 &&
        e->reason == QPKI_REASON_SUPERSEDED)
        return 2;
    if (e->row_status == 'R' && e->revocation_time == 1705485600 &&
        e->reason == QPKI_REASON_CESSATION_OF_OPERATION)
        return 3;
    return -1;
}

/* A reload applies the changed rows one by one, each atomically, and moves the
 * generation when all are in.  So a lookup made after reading generation g1
 * and before reading g2 finds each row whole, in the version of a generation
 * from g1 to g2 + 1 (the reload running), never older than g1. */
static void *reader(void *arg)
{
    conc *c = arg;
    unsigned i = 0;
    while (!atomic_load(&c->stop)) {
        uint8_t serial[2] = {(uint8_t)((i % CONC_ROWS + 1) >> 8), (uint8_t)(i % CONC_ROWS + 1)};
        i++;
        qpki_db_entry e;
        qpki_db_entry_init(&e);
        uint64_t g1 = qpki_db_generation(c->db);
        qpki_status rc = qpki_db_lookup(c->db, serial, 2, &e);
        uint64_t g2 = qpki_db_generation(c->db);
        atomic_fetch_add(&c->lookups, 1);
        int v = rc == QPKI_OK ? row_version(&e) : -1;
        if (v < 0) {
            atomic_fetch_add(&c->failures, 1);
            continue;
        }
        if (g2 - g1 > CONC_VERSIONS - 2)
            continue; /* the versions repeat: cannot tell */
        bool ok = false;
        for (uint64_t g = g1; g <= g2 + 1; g++)
            ok |= v == (int)((g - 1) % CONC_VERSIONS);
        if (!ok)
            atomic_fetch_add(&c->failures, 1);
        else if (g1 == g2)
            atomic_fetch_add(&c->matched_generation, 1);
    }
    return NULL;
}

static char *conc_file(int version)
{
    static const char *const revocation[CONC_VERSIONS] = {
        "", "240115100000Z,keyCompromise", "240116100000Z,superseded",
        "240117100000Z,cessationOfOperation"};
    size_t cap = (size_t)CONC_ROWS * 80 + 1, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    for (int i = 1; i <= CONC_ROWS; i++) {
        n += (size_t)snprintf(s + n, cap - n, "%c\t270101000000Z\t%s\t%04X\tunknown\t/CN=%d\n",
                              version ? 'R' : 'V', revocation[version], i, i);
    }
    return s;
}

static void test_lookups_during_reloads_see_each_row_whole_and_never_older(void **state)
{
    (void)state;
    char p[512];
    snprintf(p, sizeof(p), "%s", tmp_path("conc.txt"));
    char *text[CONC_VERSIONS];
    for (int v = 0; v < CONC_VERSIONS; v++)
        text[v] = conc_file(v);
    write_text(p, text[0]);
    conc c = {0};
    assert_int_equal(qpki_db_open_index(p, &c.db), QPKI_OK);
    pthread_t th[CONC_READERS];
    for (int i = 0; i < CONC_READERS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &c), 0);
    for (int k = 1; k <= CONC_REWRITES; k++) {
        replace_text(p, text[k % CONC_VERSIONS]);
        assert_int_equal(qpki_db_refresh(c.db), QPKI_OK);
        assert_int_equal(qpki_db_generation(c.db), (uint64_t)k + 1);
        /* Let the readers run a little on this version. */
        unsigned long target = atomic_load(&c.lookups) + 200;
        while (atomic_load(&c.lookups) < target)
            sched_yield();
    }
    atomic_store(&c.stop, true);
    for (int i = 0; i < CONC_READERS; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(atomic_load(&c.failures), 0);
    assert_true(atomic_load(&c.lookups) >= CONC_REWRITES * 200);
    assert_true(atomic_load(&c.matched_generation) > 0);
    qpki_index_stats st;
    assert_int_equal(qpki_index_get_stats(c.db, &st), QPKI_OK);
    assert_int_equal(st.full_loads, 1); /* every rewrite was applied row by row */
    assert_int_equal(st.incremental_loads, CONC_REWRITES);
    qpki_db_free(&c.db);
    for (int v = 0; v < CONC_VERSIONS; v++)
        free(text[v]);
}


/* ---- incremental reloads ------------------------------------------------- */

/* changes_since as a sorted, comma-separated list of hex serials. */
static void collect_hex(void *user, const uint8_t *serial, size_t len)
{
    char *out = user;
    char hex[2 * QPKI_SERIAL_MAX + 1];
    qpki_serial_hex(serial, len, hex);
    size_t n = strlen(out);
    snprintf(out + n, 1024 - n, "%s%s", n ? "," : "", hex);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* want: the serials in hex, sorted, comma-separated. */
static void expect_changes(qpki_db *db, uint64_t since, const char *want)
{
    char raw[1024] = "";
    uint64_t upto = 0;
    assert_int_equal(qpki_db_changes_since(db, since, &upto, collect_hex, raw), QPKI_OK);
    assert_int_equal(upto, qpki_db_generation(db));
    char *items[64];
    size_t n = 0;
    for (char *tok = strtok(raw, ","); tok && n < 64; tok = strtok(NULL, ","))
        items[n++] = tok;
    qsort(items, n, sizeof(items[0]), cmp_str);
    char got[1024] = "";
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(items[i], items[i - 1]) == 0)
            continue; /* "at least once" */
        size_t used = strlen(got);
        snprintf(got + used, sizeof(got) - used, "%s%s", used ? "," : "", items[i]);
    }
    if (strcmp(got, want) != 0)
        fail_msg("changes since %llu: got \"%s\", want \"%s\"", (unsigned long long)since, got,
                 want);
}

static qpki_index_stats stats_of(qpki_db *db)
{
    qpki_index_stats st;
    assert_int_equal(qpki_index_get_stats(db, &st), QPKI_OK);
    return st;
}

static void apply_ok(qpki_db *db, const char *text)
{
    char err[512];
    qpki_status rc = qpki_index_apply_memory(db, "index.txt", (const uint8_t *)text,
                                             strlen(text), err, sizeof(err));
    if (rc != QPKI_OK)
        fail_msg("apply failed: %s", err);
}

static void apply_fails(qpki_db *db, const char *text, const char *want)
{
    char err[512] = "unset";
    assert_int_equal(qpki_index_apply_memory(db, "index.txt", (const uint8_t *)text,
                                             strlen(text), err, sizeof(err)),
                     QPKI_ERR_PARSE);
    if (strcmp(err, want) != 0)
        fail_msg("got \"%s\", want \"%s\"", err, want);
}

#define ROW_V(serial) "V\t270101000000Z\t\t" serial "\tunknown\t/CN=" serial "\n"
#define ROW_R(serial) "R\t270101000000Z\t240115100000Z,keyCompromise\t" serial "\tunknown\t/CN=" serial "\n"

static void test_appended_and_rewritten_rows_are_applied_one_by_one(void **state)
{
    (void)state;
    qpki_db *db = open_memory("# CA\n" ROW_V("01") ROW_V("02") ROW_V("03"));
    assert_int_equal(qpki_db_generation(db), 1);
    qpki_index_stats st0 = stats_of(db);
    assert_int_equal(st0.full_loads, 1);

    /* Appended (qpki cert issue, openssl ca). */
    apply_ok(db, "# CA\n" ROW_V("01") ROW_V("02") ROW_V("03") ROW_V("04") ROW_V("0A"));
    qpki_index_stats st = stats_of(db);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.incremental_loads, 1);
    assert_int_equal(st.changed_lines, 2);
    assert_int_equal(qpki_db_generation(db), 2);
    assert_int_equal(qpki_db_count(db), 5);
    expect_changes(db, 1, "04,0A");
    expect_row(db, "0a", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);

    /* One row's status rewritten in place (openssl ca -revoke). */
    apply_ok(db, "# CA\n" ROW_V("01") ROW_R("02") ROW_V("03") ROW_V("04") ROW_V("0A"));
    st = stats_of(db);
    assert_int_equal(st.incremental_loads, 2);
    assert_int_equal(st.changed_lines, 1);
    assert_int_equal(qpki_db_generation(db), 3);
    expect_changes(db, 2, "02");
    expect_changes(db, 1, "02,04,0A");
    expect_row(db, "02", 'R', 1798761600, 1705312800, QPKI_REASON_KEY_COMPROMISE, 0, 0);

    /* Two lines swapped: both lines differ, the rows do not. */
    apply_ok(db, "# CA\n" ROW_V("01") ROW_R("02") ROW_V("03") ROW_V("0A") ROW_V("04"));
    assert_int_equal(stats_of(db).changed_lines, 2);
    assert_int_equal(qpki_db_generation(db), 3);

    /* Line 5 now names another serial (0A goes, 05 comes) and the last line
     * (04) is gone. */
    apply_ok(db, "# CA\n" ROW_V("01") ROW_R("02") ROW_V("03") ROW_V("05"));
    assert_int_equal(stats_of(db).changed_lines, 2);
    assert_int_equal(qpki_db_generation(db), 4);
    expect_changes(db, 3, "04,05,0A");
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "04", &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(lookup_hex(db, "0a", &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(lookup_hex(db, "05", &e), QPKI_OK);
    assert_int_equal(qpki_db_count(db), 4);

    /* A comment turned into a row and a row into a comment. */
    apply_ok(db, ROW_V("06") ROW_V("01") ROW_R("02") ROW_V("03") "# 05 retired\n");
    assert_int_equal(qpki_db_generation(db), 5);
    assert_int_equal(qpki_db_count(db), 4);
    assert_int_equal(lookup_hex(db, "05", &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(lookup_hex(db, "06", &e), QPKI_OK);
    assert_int_equal(stats_of(db).full_loads, 1);
    qpki_db_free(&db);
}

static void test_a_bad_changed_line_keeps_the_table_and_names_the_line(void **state)
{
    (void)state;
    qpki_db *db = open_memory(ROW_V("01") ROW_V("02") ROW_V("03"));
    /* Row 02 revoked, but line 3 broken: nothing is applied. */
    apply_fails(db, ROW_V("01") ROW_R("02") "V\t2701010000Z\t\t03\tunknown\t/CN=03\n",
                "index.txt:3: bad expiry date '2701010000Z'");
    assert_int_equal(qpki_db_generation(db), 1);
    expect_row(db, "02", 'V', 1798761600, 0, QPKI_REASON_NONE, 0, 0);
    /* A changed line that repeats an unchanged line's serial, after it ... */
    apply_fails(db, ROW_V("01") ROW_V("02") ROW_V("03") ROW_R("01"),
                "index.txt:4: duplicate serial number 01 (first on line 1)");
    /* ... and before it (the second occurrence is the unchanged line 3). */
    apply_fails(db, ROW_V("01") ROW_V("03") ROW_V("03"),
                "index.txt:3: duplicate serial number 03 (first on line 2)");
    /* Two changed lines with one serial. */
    apply_fails(db, ROW_V("01") ROW_V("02") ROW_V("03") ROW_V("07") ROW_R("07"),
                "index.txt:5: duplicate serial number 07 (first on line 4)");
    /* A line repeated verbatim right after itself: the new line equals the
     * old line of its number (found by the fuzzer, fuzz_index). */
    apply_fails(db, ROW_V("01") ROW_V("02") ROW_V("03") ROW_V("03"),
                "index.txt:4: duplicate serial number 03 (first on line 3)");
    apply_fails(db, ROW_V("01") ROW_V("01") ROW_V("02") ROW_V("03"),
                "index.txt:2: duplicate serial number 01 (first on line 1)");
    apply_fails(db, ROW_V("01") ROW_V("02") ROW_V("02") ROW_V("03"),
                "index.txt:3: duplicate serial number 02 (first on line 2)");
    /* The earliest fault wins, whichever its kind. */
    apply_fails(db, ROW_V("01") "bad\n" ROW_V("03") ROW_V("01"),
                "index.txt:2: expected 6 tab-separated fields, found 1");
    apply_fails(db, ROW_V("01") ROW_V("02") ROW_V("01") "bad\n",
                "index.txt:3: duplicate serial number 01 (first on line 1)");
    assert_int_equal(qpki_db_generation(db), 1);
    assert_int_equal(qpki_db_count(db), 3);
    assert_int_equal(stats_of(db).full_loads, 1);
    /* Fixed: applied. */
    apply_ok(db, ROW_V("01") ROW_R("02") ROW_V("03"));
    assert_int_equal(qpki_db_generation(db), 2);
    expect_changes(db, 1, "02");
    qpki_db_free(&db);
}

/* More changed lines than max(4096, lines/64): every line is parsed and the
 * rows that differ are applied in place (a merge); more rows differing than
 * max(4096, rows/16): a full load into a second table.  Both name only the
 * rows that changed. */
static void test_a_reordered_file_is_merged_and_reports_only_real_changes(void **state)
{
    (void)state;
    enum { ROWS = 5000 };
    size_t cap = (size_t)ROWS * 64 + 1;
    char *fwd = malloc(cap), *rev = malloc(cap);
    assert_non_null(fwd);
    assert_non_null(rev);
    size_t a = 0, b = 0;
    for (int i = 0; i < ROWS; i++) {
        a += (size_t)snprintf(fwd + a, cap - a, "V\t270101000000Z\t\t%04X\tunknown\t/CN=x\n", i + 1);
        int j = ROWS - i;
        if (j == 77)
            b += (size_t)snprintf(rev + b, cap - b,
                                  "R\t270101000000Z\t240115100000Z,superseded\t%04X\tunknown\t/CN=x\n", j);
        else if (j != 4000) /* 0FA0 deleted */
            b += (size_t)snprintf(rev + b, cap - b, "V\t270101000000Z\t\t%04X\tunknown\t/CN=x\n", j);
    }
    b += (size_t)snprintf(rev + b, cap - b, "V\t270101000000Z\t\t%04X\tunknown\t/CN=x\n", 9999);
    qpki_db *db = open_memory(fwd);
    assert_int_equal(qpki_db_count(db), ROWS);
    /* Reversed, 4D revoked, 0FA0 gone, 270F new. */
    apply_ok(db, rev);
    qpki_index_stats st = stats_of(db);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.merged_loads, 1);
    assert_int_equal(st.incremental_loads, 0);
    assert_int_equal(qpki_db_generation(db), 2);
    assert_int_equal(qpki_db_count(db), ROWS);
    expect_changes(db, 1, "0FA0,270F,4D");
    expect_row(db, "4d", 'R', 1798761600, 1705312800, QPKI_REASON_SUPERSEDED, 0, 0);
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "0fa0", &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(lookup_hex(db, "270f", &e), QPKI_OK);
    /* A merge that finds a serial twice (every line moved, and 05 repeated at
     * the end): the table is left alone. */
    char *dup = malloc(cap + 64);
    assert_non_null(dup);
    snprintf(dup, cap + 64, "%sV\t270101000000Z\t\t0005\tunknown\t/CN=again\n", fwd);
    char err[512], want[128];
    assert_int_equal(qpki_index_apply_memory(db, "index.txt", (const uint8_t *)dup, strlen(dup),
                                             err, sizeof(err)),
                     QPKI_ERR_PARSE);
    snprintf(want, sizeof(want), "index.txt:%d: duplicate serial number 05 (first on line %d)",
             ROWS + 1, 5);
    assert_string_equal(err, want);
    assert_int_equal(qpki_db_generation(db), 2);
    free(dup);
    /* Back in order: merged again (every line moved), 4D valid again. */
    apply_ok(db, fwd);
    st = stats_of(db);
    assert_int_equal(st.merged_loads, 2); /* the failed one is not counted */
    assert_int_equal(st.full_loads, 1);
    expect_changes(db, 2, "0FA0,270F,4D");
    /* The same lines without the final newline: nothing to apply. */
    fwd[strlen(fwd) - 1] = '\0';
    apply_ok(db, fwd);
    assert_int_equal(qpki_db_generation(db), 3);
    assert_int_equal(stats_of(db).incremental_loads, 0);
    /* Then one revocation in place: row by row, on the merge's line map. */
    a = 0;
    for (int i = 0; i < ROWS; i++)
        a += (size_t)snprintf(fwd + a, cap - a, "%c\t270101000000Z\t%s\t%04X\tunknown\t/CN=x\n",
                              i + 1 == 16 ? 'R' : 'V', i + 1 == 16 ? "240115100000Z" : "", i + 1);
    apply_ok(db, fwd);
    assert_int_equal(qpki_db_generation(db), 4);
    assert_int_equal(stats_of(db).incremental_loads, 1);
    assert_int_equal(stats_of(db).changed_lines, 1);
    expect_changes(db, 3, "10");
    expect_row(db, "10", 'R', 1798761600, 1705312800, QPKI_REASON_NONE, 0, 0);
    /* Every row revoked, in reverse order: more than 4096 rows differ, a
     * second table is built. */
    b = 0;
    for (int i = 0; i < ROWS; i++)
        b += (size_t)snprintf(rev + b, cap - b, "R\t270101000000Z\t240115100000Z\t%04X\tunknown\t/CN=x\n",
                              ROWS - i);
    apply_ok(db, rev);
    st = stats_of(db);
    assert_int_equal(st.full_loads, 2);
    assert_int_equal(qpki_db_generation(db), 5);
    expect_row(db, "01", 'R', 1798761600, 1705312800, QPKI_REASON_NONE, 0, 0);
    free(fwd);
    free(rev);
    qpki_db_free(&db);
}

/* `openssl ca -revoke` and `openssl ca` issuing on a real CA directory: each
 * is applied row by row, and changes_since names the one serial. */
static void test_openssl_ca_revoke_and_issue_are_applied_incrementally(void **state)
{
    (void)state;
    if (!have_openssl_and_cryptography())
        skip();
    char dir[600];
    snprintf(dir, sizeof(dir), "%s", tmp_path("inc-ca"));
    char cmd[4096];
    snprintf(cmd, sizeof(cmd), "sh '%s' '%s' >/dev/null", tu_data_path("index/make-openssl-index.sh"),
             dir);
    assert_int_equal(system(cmd), 0);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(dir, &db), QPKI_OK);
    size_t rows = qpki_db_count(db);
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "01", &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    uint64_t g0 = qpki_db_generation(db);
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl ca -config ca.cnf -revoke c1.pem -crl_reason keyCompromise "
             ">/dev/null 2>&1",
             dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    qpki_index_stats st = stats_of(db);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.incremental_loads, 1);
    assert_int_equal(st.changed_lines, 1);
    assert_int_equal(qpki_db_generation(db), g0 + 1);
    expect_changes(db, g0, "01");
    assert_int_equal(lookup_hex(db, "01", &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    /* Issue one more: appended (the serial file says which). */
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && openssl ca -batch -config ca.cnf -notext -in leaf.csr -out c99.pem "
             ">/dev/null 2>&1 && openssl x509 -in c99.pem -noout -serial | cut -d= -f2",
             dir);
    int status = -1;
    char *serial = tu_run(cmd, &status);
    assert_non_null(serial);
    assert_int_equal(status, 0);
    serial[strcspn(serial, "\n")] = '\0';
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    st = stats_of(db);
    assert_int_equal(st.full_loads, 1);
    assert_int_equal(st.incremental_loads, 2);
    assert_int_equal(qpki_db_count(db), rows + 1);
    expect_changes(db, g0 + 1, serial);
    assert_int_equal(lookup_hex(db, serial, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    free(serial);
    qpki_db_free(&db);
}

/* ---- block comparison: only the lines around the blocks that differ ---- */

/* A growable text. */
typedef struct tbuf {
    char *s;
    size_t n, cap;
} tbuf;

static void text_add(tbuf *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void text_add(tbuf *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
        va_end(ap);
        assert_true(k >= 0);
        if (t->s && (size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap * 2 + (size_t)k + 64;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
        t->s[t->n] = '\0';
    }
}

#define BIG_ROWS 300u
#define BIG_BLOCK 256u

/* Row i (serial 0x1000 + i): revoked when revoked[i], expiring on day
 * day[i] + 1 of January 2027 (day may be NULL: all 0). */
static void text_rows(tbuf *t, unsigned from, unsigned to, const bool *revoked,
                      const int *day)
{
    for (unsigned i = from; i < to; i++) {
        int d = day ? day[i] + 1 : 1;
        if (revoked && revoked[i])
            text_add(t, "R\t2701%02d000000Z\t240115100000Z,keyCompromise\t%04X\tunknown\t/CN=host-%u\n",
                     d, 0x1000 + i, i);
        else
            text_add(t, "V\t2701%02d000000Z\t\t%04X\tunknown\t/CN=host-%u\n", d, 0x1000 + i, i);
    }
}

static void same_row_in(void *user, const uint8_t *serial, size_t len, const qpki_db_entry *want)
{
    qpki_db_entry got;
    qpki_db_entry_init(&got);
    assert_int_equal(qpki_db_lookup(user, serial, len, &got), QPKI_OK);
    assert_int_equal(got.row_status, want->row_status);
    assert_int_equal(got.expiry, want->expiry);
    assert_int_equal(got.revocation_time, want->revocation_time);
    assert_int_equal(got.reason, want->reason);
}

/* db holds exactly the rows a fresh load of text gives. */
static void expect_same_as_fresh(qpki_db *db, const char *text)
{
    qpki_db *fresh = open_memory(text);
    assert_int_equal(qpki_db_count(db), qpki_db_count(fresh));
    table_foreach(qpki_index_table(fresh), same_row_in, db);
    qpki_db_free(&fresh);
}

/* Apply t to db as one incremental load that changed `lines` lines, looked at
 * no more than a few blocks of bytes, named exactly `changes` (or, when
 * changes is NULL, moved no generation), and left db equal to a fresh load. */
static void apply_block_diff(qpki_db *db, const tbuf *t, uint64_t lines, const char *changes)
{
    qpki_index_stats before = stats_of(db);
    uint64_t g = qpki_db_generation(db);
    apply_ok(db, t->s);
    qpki_index_stats st = stats_of(db);
    assert_int_equal(st.incremental_loads, before.incremental_loads + 1);
    assert_int_equal(st.full_loads, before.full_loads);
    assert_int_equal(st.merged_loads, before.merged_loads);
    assert_int_equal(st.changed_lines, lines);
    /* The window: at most two blocks of up to 2 * BIG_BLOCK - 1 octets and a
     * neighbour, plus the lines across its two ends. */
    if (st.parsed_bytes == 0 || st.parsed_bytes > 6 * BIG_BLOCK + 2 * 64)
        fail_msg("parsed %llu bytes of %zu", (unsigned long long)st.parsed_bytes, t->n);
    if (changes) {
        assert_int_equal(qpki_db_generation(db), g + 1);
        expect_changes(db, g, changes);
    } else {
        assert_int_equal(qpki_db_generation(db), g);
    }
    expect_same_as_fresh(db, t->s);
}

/* An index of BIG_ROWS rows whose map is cut into BIG_BLOCK-octet blocks. */
static qpki_db *open_blocks(const char *text)
{
    qpki_db *db = open_memory(text);
    assert_int_equal(qpki_index_set_block_size(db, BIG_BLOCK), QPKI_OK);
    apply_ok(db, text); /* every line parsed once more, the blocks cut */
    assert_int_equal(stats_of(db).merged_loads, 1);
    assert_int_equal(qpki_db_generation(db), 1);
    return db;
}

static void test_a_change_is_found_by_block_and_only_its_lines_are_parsed(void **state)
{
    (void)state;
    bool revoked[BIG_ROWS] = {false};
    int day[BIG_ROWS] = {0};
    tbuf t = {0};
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    qpki_db *db = open_blocks(t.s);
    char hex[16];
    /* Rows revoked in place one by one (each line grows by 38 octets): a
     * stretch of ~1000 octets, so several block boundaries fall inside or
     * between the changed lines; then the first and the last line. */
    unsigned rows[] = {100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112,
                       113, 114, 115, 116, 117, 118, 119, 120, 0, BIG_ROWS - 1};
    for (size_t k = 0; k < sizeof(rows) / sizeof(rows[0]); k++) {
        revoked[rows[k]] = true;
        t.n = 0;
        text_rows(&t, 0, BIG_ROWS, revoked, day);
        snprintf(hex, sizeof(hex), "%04X", 0x1000 + rows[k]);
        apply_block_diff(db, &t, 1, hex);
        expect_row(db, hex, 'R', 1798761600, 1705312800, QPKI_REASON_KEY_COMPROMISE, 0, 0);
    }
    /* A file of the same size with one byte changed: row 150 expires a day
     * later. */
    size_t size = t.n;
    day[150] = 1;
    t.n = 0;
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    assert_int_equal(t.n, size);
    apply_block_diff(db, &t, 1, "1096");
    expect_row(db, "1096", 'V', 1798761600 + 86400, 0, QPKI_REASON_NONE, 0, 0);
    /* The same bytes again: nothing read as changed. */
    uint64_t inc = stats_of(db).incremental_loads;
    apply_ok(db, t.s);
    assert_int_equal(stats_of(db).incremental_loads, inc);
    assert_int_equal(stats_of(db).merged_loads, 1);
    free(t.s);
    qpki_db_free(&db);
}

static void test_appended_inserted_and_deleted_lines_move_the_blocks_after_them(void **state)
{
    (void)state;
    bool revoked[BIG_ROWS + 40] = {false};
    tbuf t = {0};
    text_rows(&t, 0, BIG_ROWS, NULL, NULL);
    qpki_db *db = open_blocks(t.s);
    char hex[16];
    /* Forty rows issued one at a time: each an append, and the blocks at the
     * end do not fragment (the window stays a few blocks). */
    for (unsigned n = BIG_ROWS + 1; n <= BIG_ROWS + 40; n++) {
        t.n = 0;
        text_rows(&t, 0, n, NULL, NULL);
        snprintf(hex, sizeof(hex), "%04X", 0x1000 + n - 1);
        apply_block_diff(db, &t, 1, hex);
    }
    /* A row inserted after row 50: the lines after it move by one. */
    t.n = 0;
    text_rows(&t, 0, 51, NULL, NULL);
    text_add(&t, "V\t270101000000Z\t\t2000\tunknown\t/CN=inserted\n");
    text_rows(&t, 51, BIG_ROWS + 40, NULL, NULL);
    apply_block_diff(db, &t, 1, "2000");
    /* A row after the insertion revoked: the moved line map still knows
     * which line held it. */
    revoked[250] = true;
    t.n = 0;
    text_rows(&t, 0, 51, revoked, NULL);
    text_add(&t, "V\t270101000000Z\t\t2000\tunknown\t/CN=inserted\n");
    text_rows(&t, 51, BIG_ROWS + 40, revoked, NULL);
    apply_block_diff(db, &t, 1, "10FA");
    /* Row 10's line deleted: the lines after it move back. */
    t.n = 0;
    text_rows(&t, 0, 10, revoked, NULL);
    text_rows(&t, 11, 51, revoked, NULL);
    text_add(&t, "V\t270101000000Z\t\t2000\tunknown\t/CN=inserted\n");
    text_rows(&t, 51, BIG_ROWS + 40, revoked, NULL);
    apply_block_diff(db, &t, 1, "100A");
    qpki_db_entry e;
    assert_int_equal(lookup_hex(db, "100A", &e), QPKI_ERR_NOT_FOUND);
    /* A changed line that repeats the serial of a line after the window:
     * refused with the lines a full load names, and nothing applied. */
    tbuf bad = {0};
    text_rows(&bad, 0, 10, revoked, NULL);
    text_rows(&bad, 11, 51, revoked, NULL);
    text_add(&bad, "V\t270101000000Z\t\t1118\tunknown\t/CN=again\n");
    text_rows(&bad, 51, BIG_ROWS + 40, revoked, NULL);
    char want[512];
    qpki_db *fresh = NULL;
    assert_int_equal(qpki_index_open_memory("index.txt", (const uint8_t *)bad.s, bad.n, want,
                                            sizeof(want), &fresh),
                     QPKI_ERR_PARSE);
    assert_string_equal(want, "index.txt:281: duplicate serial number 1118 (first on line 51)");
    uint64_t g = qpki_db_generation(db);
    apply_fails(db, bad.s, want);
    assert_int_equal(qpki_db_generation(db), g);
    expect_same_as_fresh(db, t.s);
    /* ... and the table is still in step with the file: a later revocation
     * is applied by block again. */
    revoked[300] = true;
    t.n = 0;
    text_rows(&t, 0, 10, revoked, NULL);
    text_rows(&t, 11, 51, revoked, NULL);
    text_add(&t, "V\t270101000000Z\t\t2000\tunknown\t/CN=inserted\n");
    text_rows(&t, 51, BIG_ROWS + 40, revoked, NULL);
    apply_block_diff(db, &t, 1, "112C");
    free(bad.s);
    free(t.s);
    qpki_db_free(&db);
}

/* The file itself: read with pread, replaced by rename, rewritten in place
 * with one byte changed, cut short in place and grown again. */
static void test_index_file_changes_in_place_are_found_by_block(void **state)
{
    (void)state;
    bool revoked[BIG_ROWS] = {false};
    int day[BIG_ROWS] = {0};
    tbuf t = {0};
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    const char *path = tmp_path("blocks-index.txt");
    write_text(path, t.s);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(path, &db), QPKI_OK);
    assert_int_equal(qpki_index_set_block_size(db, BIG_BLOCK), QPKI_OK);
    /* Renamed over (openssl ca -revoke): the first change after the new
     * block size parses every line; the next is found by block. */
    revoked[7] = true;
    t.n = 0;
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    replace_text(path, t.s);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(stats_of(db).merged_loads, 1);
    revoked[200] = true;
    t.n = 0;
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    replace_text(path, t.s);
    uint64_t g = qpki_db_generation(db);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    qpki_index_stats st = stats_of(db);
    assert_int_equal(st.incremental_loads, 1);
    assert_true(st.parsed_bytes > 0 && st.parsed_bytes <= 6 * BIG_BLOCK + 128);
    expect_changes(db, g, "10C8");
    expect_same_as_fresh(db, t.s);
    /* One byte rewritten in place (same inode, same size): within the racy
     * window the contents are compared. */
    day[123] = 8;
    t.n = 0;
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, t.s, t.n, 0), (ssize_t)t.n);
    assert_int_equal(close(fd), 0);
    g = qpki_db_generation(db);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(stats_of(db).incremental_loads, 2);
    expect_changes(db, g, "107B");
    expect_row(db, "107B", 'V', 1798761600 + 8 * 86400, 0, QPKI_REASON_NONE, 0, 0);
    /* Cut short in place to its first 100 lines, then grown back with one
     * more row revoked. */
    size_t cut = 0;
    for (unsigned k = 0; k < 100; k++)
        cut = (size_t)(strchr(t.s + cut, '\n') - t.s) + 1;
    assert_int_equal(truncate(path, (off_t)cut), 0);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_count(db), 100);
    t.s[cut] = '\0';
    expect_same_as_fresh(db, t.s);
    revoked[250] = true;
    t.n = 0;
    text_rows(&t, 0, BIG_ROWS, revoked, day);
    write_text(path, t.s); /* in place: same inode */
    g = qpki_db_generation(db);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_count(db), BIG_ROWS);
    expect_same_as_fresh(db, t.s);
    expect_row(db, "10FA", 'R', 1798761600, 1705312800, QPKI_REASON_KEY_COMPROMISE, 0, 0);
    assert_int_equal(stats_of(db).full_loads, 1);
    free(t.s);
    qpki_db_free(&db);
}

/* A file of some 200 blocks: changes at the start, in the middle, at the end,
 * a row gone from the middle, a row appended and a rewrite of the same bytes are
 * each found by block with only the lines around them parsed, and leave the
 * table a fresh load of the file would make. */
static void test_index_changes_anywhere_are_found_by_block(void **state)
{
    (void)state;
    enum { ENDS_BLOCK = 64 };
    bool revoked[BIG_ROWS] = {false};
    tbuf t = {0};
    text_rows(&t, 0, BIG_ROWS, revoked, NULL);
    const char *path = tmp_path("anywhere-index.txt");
    write_text(path, t.s);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(path, &db), QPKI_OK);
    assert_int_equal(qpki_index_set_block_size(db, ENDS_BLOCK), QPKI_OK);
    assert_true(t.n / ENDS_BLOCK >= 128);
    replace_text(path, t.s); /* the map at ENDS_BLOCK: every line parsed once */
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    const unsigned at[] = {0, 1, 150, 151, 297, 299};
    for (size_t k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        revoked[at[k]] = true;
        t.n = 0;
        text_rows(&t, 0, BIG_ROWS, revoked, NULL);
        replace_text(path, t.s);
        uint64_t loads = stats_of(db).incremental_loads, g = qpki_db_generation(db);
        assert_int_equal(qpki_db_refresh(db), QPKI_OK);
        assert_int_equal(stats_of(db).incremental_loads, loads + 1);
        uint64_t parsed = stats_of(db).parsed_bytes; /* by this refresh */
        if (parsed == 0 || parsed > 6 * ENDS_BLOCK + 128)
            fail_msg("row %u revoked: %llu bytes parsed of %zu", at[k], (unsigned long long)parsed,
                     t.n);
        char serial[8];
        snprintf(serial, sizeof(serial), "%04X", 0x1000 + at[k]);
        expect_changes(db, g, serial);
        expect_same_as_fresh(db, t.s);
    }
    /* row 150 gone: the lines after it move up */
    t.n = 0;
    text_rows(&t, 0, 150, revoked, NULL);
    text_rows(&t, 151, BIG_ROWS, revoked, NULL);
    replace_text(path, t.s);
    uint64_t loads = stats_of(db).incremental_loads;
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(stats_of(db).incremental_loads, loads + 1);
    assert_true(stats_of(db).parsed_bytes <= 6 * ENDS_BLOCK + 128);
    assert_int_equal(qpki_db_count(db), BIG_ROWS - 1);
    expect_same_as_fresh(db, t.s);
    /* one row appended */
    text_add(&t, "V\t270101000000Z\t\t%04X\tunknown\t/CN=appended\n", 0x2000);
    replace_text(path, t.s);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_count(db), BIG_ROWS);
    expect_same_as_fresh(db, t.s);
    /* the same bytes again, renamed over: nothing changes */
    replace_text(path, t.s);
    uint64_t g = qpki_db_generation(db);
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(qpki_db_generation(db), g);
    expect_same_as_fresh(db, t.s);
    free(t.s);
    qpki_db_free(&db);
}

/* ---- allocation failures ---------------------------------------------- */

static void test_allocation_failures_while_loading_are_reported_and_leak_nothing(void **state)
{
    (void)state;
    const char *path = tu_data_path("index/openssl/index.txt");
    char p[512];
    snprintf(p, sizeof(p), "%s", path);
    long n;
    for (n = 0; n < 100; n++) {
        qpki_db *db = NULL;
        char err[512];
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_db_open_index_err(p, err, sizeof(err), &db);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            assert_int_equal(qpki_db_count(db), 19);
            qpki_db_free(&db);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
        assert_null(db);
        assert_non_null(strstr(err, "out of memory"));
    }
    assert_true(n > 3 && n < 100);

    /* The memory loader too. */
    size_t len;
    uint8_t *bytes = tu_read_file(p, &len);
    assert_non_null(bytes);
    for (n = 0; n < 100; n++) {
        qpki_db *db = NULL;
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_index_open_memory("index.txt", bytes, len, NULL, 0, &db);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK) {
            qpki_db_free(&db);
            break;
        }
        assert_int_equal(rc, QPKI_ERR_NOMEM);
    }
    assert_true(n > 3 && n < 100);
    free(bytes);

    /* A reload that runs out of memory keeps the table and is retried. */
    char r[512];
    snprintf(r, sizeof(r), "%s", tmp_path("nomem.txt"));
    write_text(r, version_a);
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_open_index(r, &db), QPKI_OK);
    replace_text(r, "V\t270101000000Z\t\t01\tunknown\t/CN=one\n");
    for (n = 0; n < 100; n++) {
        qpki_test_fail_alloc_after(n);
        qpki_status rc = qpki_db_refresh(db);
        qpki_test_fail_alloc_after(-1);
        if (rc == QPKI_OK)
            break;
        assert_int_equal(rc, QPKI_ERR_NOMEM);
        assert_int_equal(qpki_db_generation(db), 1);
        assert_int_equal(qpki_db_count(db), 2);
    }
    assert_true(n > 0 && n < 100);
    assert_int_equal(qpki_db_generation(db), 2);
    assert_int_equal(qpki_db_count(db), 1);
    qpki_db_free(&db);
}

/* ---- the vtable --------------------------------------------------------- */

typedef struct fake {
    uint8_t last_serial[64];
    size_t last_len;
    uint64_t generation;
    qpki_status refresh_rc;
    char message[128];
    int closed;
} fake;

static qpki_status fake_lookup(void *self, const uint8_t *serial, size_t len, qpki_db_entry *out)
{
    fake *f = self;
    memcpy(f->last_serial, serial, len);
    f->last_len = len;
    /* The handle hands us an initialised full-size entry. */
    assert_int_equal(out->struct_size, sizeof(qpki_db_entry));
    assert_int_equal(out->reason, QPKI_REASON_NONE);
    if (len == 1 && serial[0] == 0x0a) {
        out->row_status = 'R';
        out->reason = QPKI_REASON_SUPERSEDED;
        out->revocation_time = 42;
        return QPKI_OK;
    }
    out->row_status = 'X'; /* scribbled on a miss: must not reach the caller */
    return QPKI_ERR_NOT_FOUND;
}
static uint64_t fake_generation(void *self) { return ((fake *)self)->generation; }
static size_t fake_count(void *self) { (void)self; return 3; }
static void fake_close(void *self) { ((fake *)self)->closed++; }
static qpki_status fake_refresh(void *self)
{
    fake *f = self;
    if (f->refresh_rc == QPKI_OK)
        f->generation++;
    return f->refresh_rc;
}
static void fake_last_error(void *self, char *buf, size_t size)
{
    snprintf(buf, size, "%s", ((fake *)self)->message);
}

typedef struct logged {
    int calls;
    qpki_status rc;
    char msg[512];
} logged;

static void log_cb(void *user, qpki_status rc, const char *message)
{
    logged *l = user;
    l->calls++;
    l->rc = rc;
    snprintf(l->msg, sizeof(l->msg), "%s", message);
}

static qpki_status fake_health(void *self, qpki_db_health *out)
{
    fake *f = self;
    out->connected = 0;
    out->staleness_ms = 4200;
    out->max_staleness_ms = 5000;
    out->changes = f->generation;
    out->reloads = 2;
    return QPKI_OK;
}

/* qpki_db_get_health: a V3 backend's report reaches the caller (as much as its
 * struct holds); a backend that declares V2, or whose struct ends before the
 * method, has none (QPKI_ERR_UNSUPPORTED), as has index.txt. */
static void test_health_comes_only_from_a_backend_that_declares_v3(void **state)
{
    (void)state;
    fake f = {.generation = 9};
    qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V3,
        .struct_size = sizeof(qpki_status_db_ops),
        .lookup = fake_lookup,
        .generation = fake_generation,
        .count = fake_count,
        .close = fake_close,
        .health = fake_health,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    qpki_db_health h;
    memset(&h, 0xee, sizeof(h));
    h.struct_size = sizeof(h);
    assert_int_equal(qpki_db_get_health(db, &h), QPKI_OK);
    assert_int_equal(h.struct_size, sizeof(h));
    assert_int_equal(h.connected, 0);
    assert_int_equal(h.staleness_ms, 4200);
    assert_int_equal(h.max_staleness_ms, 5000);
    assert_int_equal(h.changes, 9);
    assert_int_equal(h.reloads, 2);
    /* a caller's struct smaller than the first version is refused */
    h.struct_size = 8;
    assert_int_equal(qpki_db_get_health(db, &h), QPKI_ERR_INVALID_ARG);
    qpki_db_free(&db);

    qpki_status_db_ops v2 = ops;
    v2.abi_version = QPKI_DB_ABI_V2;
    assert_int_equal(qpki_db_new(&v2, &f, &db), QPKI_OK);
    h.struct_size = sizeof(h);
    assert_int_equal(qpki_db_get_health(db, &h), QPKI_ERR_UNSUPPORTED);
    qpki_db_free(&db);
    qpki_status_db_ops short_v3 = ops;
    short_v3.struct_size = offsetof(qpki_status_db_ops, health);
    assert_int_equal(qpki_db_new(&short_v3, &f, &db), QPKI_OK);
    assert_int_equal(qpki_db_get_health(db, &h), QPKI_ERR_UNSUPPORTED);
    qpki_db_free(&db);
    assert_int_equal(f.closed, 3);

    assert_int_equal(qpki_index_open_memory("index.txt", (const uint8_t *)"", 0, NULL, 0, &db),
                     QPKI_OK);
    assert_int_equal(qpki_db_get_health(db, &h), QPKI_ERR_UNSUPPORTED);
    qpki_db_free(&db);
}

/* list_serials of a backend of one's own: 2 serials a call from a list that
 * holds leading zero octets, serial zero and one too long. */
static const uint8_t own_serials[5][QPKI_SERIAL_MAX + 1] = {
    {0x00, 0x00, 0x7f}, {0x00}, {0x12, 0x34}, {0x11}, {0x80, 0x01}};
static const size_t own_lens[5] = {3, 1, 2, QPKI_SERIAL_MAX + 1, 2};

static qpki_status own_list(void *self, qpki_db_cursor *cursor, size_t max, qpki_db_change_fn fn,
                            void *user, int *done)
{
    fake *f = self;
    if (f->refresh_rc != QPKI_OK)
        return f->refresh_rc;
    assert_true(cursor->opaque[0] == 0 || cursor->opaque[3] == 0xc0ffee);
    cursor->opaque[3] = 0xc0ffee; /* the caller's cursor is the backend's own */
    size_t i = (size_t)cursor->opaque[0];
    for (size_t k = 0; k < 2 && k < max && i < 5; k++, i++)
        fn(user, own_serials[i], own_lens[i]);
    cursor->opaque[0] = i;
    *done = i == 5;
    return QPKI_OK;
}

typedef struct collected {
    uint8_t serial[8][QPKI_SERIAL_MAX];
    size_t len[8], n;
} collected;

static void collect(void *user, const uint8_t *serial, size_t len)
{
    collected *c = user;
    assert_true(len <= QPKI_SERIAL_MAX && (len == 0 || serial[0] != 0));
    if (c->n < 8) {
        memcpy(c->serial[c->n], serial, len);
        c->len[c->n] = len;
    }
    c->n++;
}

/* A backend that keeps its rows in a memory table and delegates to it, as the
 * PostgreSQL plugin does. */
typedef struct wrapped {
    qpki_db *table;
} wrapped;

static qpki_status wrapped_lookup(void *self, const uint8_t *serial, size_t len,
                                  qpki_db_entry *out)
{
    return qpki_db_lookup(((wrapped *)self)->table, serial, len, out);
}
static uint64_t wrapped_generation(void *self)
{
    return qpki_db_generation(((wrapped *)self)->table);
}
static size_t wrapped_count(void *self) { return qpki_db_count(((wrapped *)self)->table); }
static void wrapped_close(void *self) { qpki_db_free(&((wrapped *)self)->table); }
static qpki_status wrapped_list(void *self, qpki_db_cursor *cursor, size_t max,
                                qpki_db_change_fn fn, void *user, int *done)
{
    return qpki_db_list_serials(((wrapped *)self)->table, cursor, max, fn, user, done);
}

static void mark_u16(void *user, const uint8_t *serial, size_t len)
{
    uint8_t *hits = user;
    assert_int_equal(len, 2);
    hits[(serial[0] << 8 | serial[1]) - 0x100]++;
}

/* qpki_db_list_serials: a V4 backend's listing reaches the caller normalised
 * (leading zero octets gone, too long serials dropped) with its cursor kept; an
 * error ends it; a backend that declares V3, or whose struct ends before the
 * method, cannot be listed; index.txt and a backend wrapping a memory table
 * list every row. */
static void test_list_serials_comes_from_a_v4_backend_normalised(void **state)
{
    (void)state;
    fake f = {.generation = 1};
    qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V4,
        .struct_size = sizeof(qpki_status_db_ops),
        .lookup = fake_lookup,
        .generation = fake_generation,
        .count = fake_count,
        .close = fake_close,
        .list_serials = own_list,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    collected c;
    memset(&c, 0, sizeof(c));
    qpki_db_cursor cursor;
    memset(&cursor, 0, sizeof(cursor));
    int done = 0, calls = 0;
    while (!done) {
        assert_int_equal(qpki_db_list_serials(db, &cursor, 10, collect, &c, &done), QPKI_OK);
        calls++;
    }
    assert_int_equal(calls, 3);
    assert_int_equal(c.n, 4);
    assert_int_equal(c.len[0], 1);
    assert_int_equal(c.serial[0][0], 0x7f);
    assert_int_equal(c.len[1], 0); /* serial number zero */
    assert_int_equal(c.len[2], 2);
    assert_memory_equal(c.serial[2], "\x12\x34", 2);
    assert_int_equal(c.len[3], 2);
    assert_memory_equal(c.serial[3], "\x80\x01", 2);
    /* an error ends the listing */
    f.refresh_rc = QPKI_ERR_IO;
    memset(&cursor, 0, sizeof(cursor));
    done = 0;
    assert_int_equal(qpki_db_list_serials(db, &cursor, 10, collect, &c, &done), QPKI_ERR_IO);
    assert_int_equal(done, 1);
    qpki_db_free(&db);

    qpki_status_db_ops v3 = ops;
    v3.abi_version = QPKI_DB_ABI_V3;
    assert_int_equal(qpki_db_new(&v3, &f, &db), QPKI_OK);
    done = 0;
    assert_int_equal(qpki_db_list_serials(db, &cursor, 10, collect, &c, &done),
                     QPKI_ERR_UNSUPPORTED);
    assert_int_equal(done, 1);
    qpki_db_free(&db);
    qpki_status_db_ops short_v4 = ops;
    short_v4.struct_size = offsetof(qpki_status_db_ops, list_serials);
    assert_int_equal(qpki_db_new(&short_v4, &f, &db), QPKI_OK);
    assert_int_equal(qpki_db_list_serials(db, &cursor, 10, collect, &c, &done),
                     QPKI_ERR_UNSUPPORTED);
    qpki_db_free(&db);
    assert_int_equal(f.closed, 3);

    /* a backend of one's own over a memory table */
    static const qpki_status_db_ops wrapped_ops = {
        .abi_version = QPKI_DB_ABI_V4,
        .struct_size = sizeof(qpki_status_db_ops),
        .lookup = wrapped_lookup,
        .generation = wrapped_generation,
        .count = wrapped_count,
        .close = wrapped_close,
        .list_serials = wrapped_list,
    };
    wrapped w = {NULL};
    assert_int_equal(qpki_db_memory_new("wrapped", &w.table), QPKI_OK);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    e.row_status = 'V';
    for (unsigned i = 0; i < 500; i++) {
        uint8_t s2[2] = {(uint8_t)((0x100 + i) >> 8), (uint8_t)(0x100 + i)};
        assert_int_equal(qpki_db_memory_put(w.table, s2, 2, &e), QPKI_OK);
    }
    assert_int_equal(qpki_db_memory_commit(w.table, NULL), QPKI_OK);
    assert_int_equal(qpki_db_new(&wrapped_ops, &w, &db), QPKI_OK);
    uint8_t hits[500] = {0};
    memset(&cursor, 0, sizeof(cursor));
    done = 0;
    while (!done)
        assert_int_equal(qpki_db_list_serials(db, &cursor, 50, mark_u16, hits, &done), QPKI_OK);
    for (size_t i = 0; i < 500; i++)
        assert_int_equal(hits[i], 1);
    qpki_db_free(&db);

    /* index.txt */
    static const char text[] = "V\t300101000000Z\t\t0100\tunknown\t/CN=a\n"
                               "R\t300101000000Z\t240101000000Z,keyCompromise\t0101\tunknown\t/CN=b\n"
                               "E\t200101000000Z\t\t0102\tunknown\t/CN=c\n";
    assert_int_equal(qpki_index_open_memory("index.txt", (const uint8_t *)text, sizeof(text) - 1,
                                            NULL, 0, &db),
                     QPKI_OK);
    memset(hits, 0, sizeof(hits));
    memset(&cursor, 0, sizeof(cursor));
    done = 0;
    while (!done)
        assert_int_equal(qpki_db_list_serials(db, &cursor, 2, mark_u16, hits, &done), QPKI_OK);
    assert_int_equal(hits[0], 1);
    assert_int_equal(hits[1], 1);
    assert_int_equal(hits[2], 1);
    assert_int_equal(hits[3], 0);
    qpki_db_free(&db);
}

static void test_custom_backend_is_checked_and_gets_normalised_serials(void **state)
{
    (void)state;
    fake f = {.generation = 1};
    qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V1,
        .struct_size = sizeof(qpki_status_db_ops),
        .lookup = fake_lookup,
        .generation = fake_generation,
        .count = fake_count,
        .close = fake_close,
    };
    qpki_db *db = (qpki_db *)1;
    qpki_status_db_ops bad = ops;
    bad.abi_version = 0;
    assert_int_equal(qpki_db_new(&bad, &f, &db), QPKI_ERR_PLUGIN_ABI);
    assert_null(db);
    bad.abi_version = QPKI_DB_ABI_V4 + 1;
    assert_int_equal(qpki_db_new(&bad, &f, &db), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.struct_size = offsetof(qpki_status_db_ops, close);
    assert_int_equal(qpki_db_new(&bad, &f, &db), QPKI_ERR_PLUGIN_ABI);
    bad = ops;
    bad.lookup = NULL;
    assert_int_equal(qpki_db_new(&bad, &f, &db), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_new(NULL, &f, &db), QPKI_ERR_INVALID_ARG);
    assert_int_equal(f.closed, 0);

    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    static const uint8_t padded[] = {0, 0, 0x0a};
    assert_int_equal(qpki_db_lookup(db, padded, sizeof(padded), &e), QPKI_OK);
    assert_int_equal(f.last_len, 1);
    assert_int_equal(f.last_serial[0], 0x0a);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_SUPERSEDED);
    assert_int_equal(e.revocation_time, 42);
    assert_int_equal(e.struct_size, sizeof(e));
    static const uint8_t other[] = {0x0b};
    assert_int_equal(qpki_db_lookup(db, other, 1, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(e.row_status, 0);
    assert_int_equal(e.reason, QPKI_REASON_NONE);
    /* A caller that did not set struct_size is refused, not written past. */
    e.struct_size = 8;
    assert_int_equal(qpki_db_lookup(db, padded, 3, &e), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_db_lookup(db, NULL, 3, &e), QPKI_ERR_INVALID_ARG);
    /* Optional methods absent. */
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    char msg[64] = "junk";
    qpki_db_last_error(db, msg, sizeof(msg));
    assert_string_equal(msg, "");
    assert_int_equal(qpki_db_count(db), 3);
    assert_int_equal(qpki_db_generation(db), 1);

    /* References. */
    qpki_db *second = qpki_db_ref(db);
    assert_ptr_equal(second, db);
    qpki_db_free(&second);
    assert_null(second);
    assert_int_equal(f.closed, 0);
    qpki_db_free(&db);
    assert_int_equal(f.closed, 1);
    qpki_db_free(&db);
    qpki_db_free(NULL);
    assert_int_equal(qpki_db_generation(NULL), 0);
    assert_int_equal(qpki_db_count(NULL), 0);
}

static void test_refresh_logs_reloads_and_each_new_failure_once(void **state)
{
    (void)state;
    fake f = {.generation = 1};
    static qpki_status_db_ops ops = {
        .abi_version = QPKI_DB_ABI_V1,
        .struct_size = sizeof(qpki_status_db_ops),
        .lookup = fake_lookup,
        .generation = fake_generation,
        .refresh = fake_refresh,
        .count = fake_count,
        .last_error = fake_last_error,
        .close = fake_close,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_new(&ops, &f, &db), QPKI_OK);
    logged l = {0};
    qpki_db_set_log(db, log_cb, &l);

    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(l.calls, 1);
    assert_int_equal(l.rc, QPKI_OK);
    assert_string_equal(l.msg, "status database reloaded: 3 rows, generation 2");

    f.refresh_rc = QPKI_ERR_PARSE;
    snprintf(f.message, sizeof(f.message), "index.txt:7: bad status 'Q' (expected V, R or E)");
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_PARSE);
    assert_int_equal(l.calls, 2);
    assert_int_equal(l.rc, QPKI_ERR_PARSE);
    assert_string_equal(l.msg, "index.txt:7: bad status 'Q' (expected V, R or E)");
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_PARSE); /* same failure: quiet */
    assert_int_equal(l.calls, 2);
    snprintf(f.message, sizeof(f.message), "index.txt:8: missing serial number");
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_PARSE);
    assert_int_equal(l.calls, 3);
    assert_string_equal(l.msg, "index.txt:8: missing serial number");

    f.refresh_rc = QPKI_OK;
    assert_int_equal(qpki_db_refresh(db), QPKI_OK);
    assert_int_equal(l.calls, 4);
    assert_string_equal(l.msg, "status database reloaded: 3 rows, generation 3");
    assert_int_equal(qpki_db_refresh(db), QPKI_OK); /* changes again in the fake */
    assert_int_equal(l.calls, 5);

    qpki_db_set_log(db, NULL, NULL);
    f.refresh_rc = QPKI_ERR_IO;
    f.message[0] = '\0';
    assert_int_equal(qpki_db_refresh(db), QPKI_ERR_IO);
    assert_int_equal(l.calls, 5);
    qpki_db_free(&db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openssl_ca_index_agrees_with_the_certificates_and_crl),
        cmocka_unit_test(test_index_made_now_by_openssl_ca_agrees_with_the_crl),
        cmocka_unit_test(test_qpki_index_with_camel_case_reasons_is_read),
        cmocka_unit_test(test_every_reason_spelling_maps_to_its_code),
        cmocka_unit_test(test_hold_instruction_names_are_openssl_short_names),
        cmocka_unit_test(test_serial_spellings_and_leading_zeros_find_the_same_row),
        cmocka_unit_test(test_serial_from_hex_accepts_cli_spellings),
        cmocka_unit_test(test_comments_blank_lines_crlf_escaped_tabs_and_last_line_are_handled),
        cmocka_unit_test(test_time_fields_follow_rfc_5280_year_rules),
        cmocka_unit_test(test_malformed_lines_fail_the_whole_load_with_the_line_number),
        cmocka_unit_test(test_open_reports_the_missing_file_with_its_path),
        cmocka_unit_test(test_line_longer_than_the_read_buffer_is_an_error),
        cmocka_unit_test(test_bad_reload_keeps_the_old_table_and_generation),
        cmocka_unit_test(test_generation_moves_only_when_the_rows_change),
        cmocka_unit_test(test_recent_file_is_compared_by_contents_when_timestamps_match),
        cmocka_unit_test(test_lookups_during_reloads_see_each_row_whole_and_never_older),
        cmocka_unit_test(test_allocation_failures_while_loading_are_reported_and_leak_nothing),
        cmocka_unit_test(test_custom_backend_is_checked_and_gets_normalised_serials),
        cmocka_unit_test(test_health_comes_only_from_a_backend_that_declares_v3),
        cmocka_unit_test(test_list_serials_comes_from_a_v4_backend_normalised),
        cmocka_unit_test(test_refresh_logs_reloads_and_each_new_failure_once),
        cmocka_unit_test(test_appended_and_rewritten_rows_are_applied_one_by_one),
        cmocka_unit_test(test_a_bad_changed_line_keeps_the_table_and_names_the_line),
        cmocka_unit_test(test_a_reordered_file_is_merged_and_reports_only_real_changes),
        cmocka_unit_test(test_openssl_ca_revoke_and_issue_are_applied_incrementally),
        cmocka_unit_test(test_a_change_is_found_by_block_and_only_its_lines_are_parsed),
        cmocka_unit_test(test_appended_inserted_and_deleted_lines_move_the_blocks_after_them),
        cmocka_unit_test(test_index_file_changes_in_place_are_found_by_block),
        cmocka_unit_test(test_index_changes_anywhere_are_found_by_block),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
