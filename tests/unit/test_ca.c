/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_ca.c - the CA directory store (qpki/ca.h): exact index.txt
 * rows, serial allocation, revocation, row parsing, concurrent writers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <qpki/ca.h>
#include <qpki/crl.h>

#include "testutil.h"
#include "internal.h"

/* A fresh directory per test. */
static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/qpki-test-ca.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *read_text(const char *name)
{
    char path[512];
    size_t n;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return (char *)tu_read_file(path, &n);
}

static void write_text(const char *name, const char *text)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_file(const char *name, const char *want)
{
    char *got = read_text(name);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static qpki_time at(int y, int mo, int d, int h, int mi, int s)
{
    qpki_time t;
    assert_int_equal(qpki_time_from_fields(y, mo, d, h, mi, s, &t), QPKI_OK);
    return t;
}

static qpki_ca_store *created(const uint8_t *first, size_t len)
{
    qpki_ca_store *s = NULL;
    assert_int_equal(qpki_ca_store_create(dir, first, len), QPKI_OK);
    assert_int_equal(qpki_ca_store_open(dir, &s), QPKI_OK);
    return s;
}

static void test_create_writes_empty_index_serial_attr_and_certs_dir(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x00, 0x0a, 0x1b };
    assert_int_equal(qpki_ca_store_create(dir, first, sizeof(first)), QPKI_OK);
    assert_file("index.txt", "");
    assert_file("serial", "0A1B\n");
    assert_file("index.txt.attr", "unique_subject = no\n");
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/certs", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
}

static void test_create_refuses_an_existing_ca_and_changes_nothing(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    write_text("ca.key", "secret");
    assert_int_equal(qpki_ca_store_create(dir, first, 1), QPKI_ERR_EXISTS);
    char path[512];
    snprintf(path, sizeof(path), "%s/index.txt", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    unlink(strcat(strcpy(path, dir), "/ca.key"));
    assert_int_equal(qpki_ca_store_create(dir, first, 1), QPKI_OK);
    assert_int_equal(qpki_ca_store_create(dir, first, 1), QPKI_ERR_EXISTS);
}

static void test_create_rejects_a_zero_serial(void **state)
{
    (void)state;
    static const uint8_t zero[] = { 0x00, 0x00 };
    assert_int_equal(qpki_ca_store_create(dir, zero, sizeof(zero)), QPKI_ERR_INVALID_ARG);
}

static void test_open_needs_index_txt(void **state)
{
    (void)state;
    qpki_ca_store *s = NULL;
    assert_int_equal(qpki_ca_store_open(dir, &s), QPKI_ERR_NOT_FOUND);
    assert_null(s);
}

static void test_next_serial_returns_the_file_value_and_increments_with_carry(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x12, 0xfe };
    qpki_ca_store *s = created(first, sizeof(first));
    uint8_t serial[8];
    size_t len = 0;
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len), QPKI_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(serial, "\x12\xfe", 2);
    assert_file("serial", "12FF\n");
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len), QPKI_OK);
    assert_memory_equal(serial, "\x12\xff", 2);
    assert_file("serial", "1300\n");
    write_text("serial", "ffff\n");
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len), QPKI_OK);
    assert_int_equal(len, 2);
    assert_memory_equal(serial, "\xff\xff", 2);
    assert_file("serial", "010000\n");
    qpki_ca_store_free(&s);
    assert_null(s);
}

static void test_next_serial_skips_serials_already_in_the_index(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x05 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", "V\t491231235959Z\t\t05\tunknown\t/CN=a\n"
                            "V\t491231235959Z\t\t0006\tunknown\t/CN=b\n");
    uint8_t serial[8];
    size_t len = 0;
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len), QPKI_OK);
    assert_int_equal(len, 1);
    assert_int_equal(serial[0], 0x07);
    assert_file("serial", "08\n");
    qpki_ca_store_free(&s);
}

static void test_next_serial_without_serial_file_is_not_found(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x05 };
    qpki_ca_store *s = created(first, 1);
    char path[512];
    snprintf(path, sizeof(path), "%s/serial", dir);
    unlink(path);
    uint8_t serial[8];
    size_t len;
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len),
                     QPKI_ERR_NOT_FOUND);
    assert_non_null(strstr(qpki_ca_store_last_error(s), "serial"));
    write_text("serial", "not hex\n");
    assert_int_equal(qpki_ca_store_next_serial(s, serial, sizeof(serial), &len), QPKI_ERR_PARSE);
    qpki_ca_store_free(&s);
}

static void test_add_row_writes_openssl_format(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    static const uint8_t serial[] = { 0x00, 0x0a, 0x1b, 0x2c, 0x3d };
    assert_int_equal(qpki_ca_store_add_row(s, serial, sizeof(serial), at(2026, 12, 26, 13, 28, 7),
                                           "certs/0A1B2C3D.pem", "/CN=ocsp.example.com"),
                     QPKI_OK);
    /* RFC 5280 §4.1.2.5: GeneralizedTime from 2050. */
    static const uint8_t serial2[] = { 0x80 };
    assert_int_equal(qpki_ca_store_add_row(s, serial2, 1, at(2126, 11, 2, 13, 5, 38), NULL,
                                           "/C=FR/O=Acme, Inc./CN=x"),
                     QPKI_OK);
    assert_file("index.txt", "V\t261226132807Z\t\t0A1B2C3D\tcerts/0A1B2C3D.pem\t/CN=ocsp.example.com\n"
                             "V\t21261102130538Z\t\t80\tunknown\t/C=FR/O=Acme, Inc./CN=x\n");
    qpki_ca_store_free(&s);
}

static void test_add_row_refuses_a_duplicate_serial_in_any_spelling(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", "V\t491231235959Z\t\t000a1b\tunknown\t/CN=a\n");
    static const uint8_t serial[] = { 0x0a, 0x1b };
    assert_int_equal(qpki_ca_store_add_row(s, serial, 2, at(2030, 1, 1, 0, 0, 0), NULL, "/CN=b"),
                     QPKI_ERR_EXISTS);
    assert_file("index.txt", "V\t491231235959Z\t\t000a1b\tunknown\t/CN=a\n");
    qpki_ca_store_free(&s);
}

static void test_add_row_rejects_tabs_and_line_breaks_in_text(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    static const uint8_t serial[] = { 0x02 };
    qpki_time t = at(2030, 1, 1, 0, 0, 0);
    assert_int_equal(qpki_ca_store_add_row(s, serial, 1, t, NULL, "/CN=a\tb"), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_ca_store_add_row(s, serial, 1, t, NULL, "/CN=a\nV\tfake"),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_ca_store_add_row(s, serial, 1, t, "a\rb", "/CN=a"),
                     QPKI_ERR_INVALID_ARG);
    assert_file("index.txt", "");
    qpki_ca_store_free(&s);
}

static void test_add_row_appends_after_a_last_line_without_newline(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", "V\t491231235959Z\t\t01\tunknown\t/CN=a");
    static const uint8_t serial[] = { 0x02 };
    assert_int_equal(qpki_ca_store_add_row(s, serial, 1, at(2049, 12, 31, 23, 59, 59), NULL,
                                           "/CN=b"),
                     QPKI_OK);
    assert_file("index.txt", "V\t491231235959Z\t\t01\tunknown\t/CN=a\n"
                             "V\t491231235959Z\t\t02\tunknown\t/CN=b\n");
    qpki_ca_store_free(&s);
}

static const char *const base_index =
    "# comment kept\n"
    "V\t491231235959Z\t\t01\tunknown\t/CN=one\n"
    "V\t20510101000000Z\t\t0A1B2C3D\tcerts/0A1B2C3D.pem\t/CN=two\n"
    "\n"
    "V\t491231235959Z\t\t03\tunknown\t/CN=three\n";

static void test_revoke_rewrites_only_that_row(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", base_index);
    static const uint8_t serial[] = { 0x0a, 0x1b, 0x2c, 0x3d };
    assert_int_equal(qpki_ca_store_revoke(s, serial, sizeof(serial), at(2024, 1, 15, 10, 0, 0),
                                          QPKI_REASON_KEY_COMPROMISE),
                     QPKI_OK);
    assert_file("index.txt",
                "# comment kept\n"
                "V\t491231235959Z\t\t01\tunknown\t/CN=one\n"
                "R\t20510101000000Z\t240115100000Z,keyCompromise\t0A1B2C3D\tcerts/0A1B2C3D.pem\t/CN=two\n"
                "\n"
                "V\t491231235959Z\t\t03\tunknown\t/CN=three\n");
    qpki_ca_store_free(&s);
}

static void test_revoke_spells_reasons_like_openssl_and_omits_none(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", base_index);
    static const uint8_t one[] = { 0x01 }, three[] = { 0x03 }, two[] = { 0x0a, 0x1b, 0x2c, 0x3d };
    qpki_time t = at(2025, 6, 7, 8, 9, 10);
    assert_int_equal(qpki_ca_store_revoke(s, one, 1, t, QPKI_REASON_CA_COMPROMISE), QPKI_OK);
    assert_int_equal(qpki_ca_store_revoke(s, three, 1, t, QPKI_REASON_PRIVILEGE_WITHDRAWN),
                     QPKI_OK);
    assert_int_equal(qpki_ca_store_revoke(s, two, 4, at(2051, 1, 2, 3, 4, 5), QPKI_REASON_NONE),
                     QPKI_OK);
    assert_file("index.txt",
                "# comment kept\n"
                "R\t491231235959Z\t250607080910Z,CACompromise\t01\tunknown\t/CN=one\n"
                "R\t20510101000000Z\t20510102030405Z\t0A1B2C3D\tcerts/0A1B2C3D.pem\t/CN=two\n"
                "\n"
                "R\t491231235959Z\t250607080910Z,privilegeWithdrawn\t03\tunknown\t/CN=three\n");
    qpki_ca_store_free(&s);
}

static void test_revoke_errors(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", base_index);
    static const uint8_t missing[] = { 0x99 }, one[] = { 0x00, 0x01 };
    qpki_time t = at(2025, 1, 1, 0, 0, 0);
    assert_int_equal(qpki_ca_store_revoke(s, missing, 1, t, QPKI_REASON_NONE), QPKI_ERR_NOT_FOUND);
    assert_non_null(strstr(qpki_ca_store_last_error(s), "99"));
    assert_int_equal(qpki_ca_store_revoke(s, one, 2, t, (qpki_crl_reason)7), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_ca_store_revoke(s, one, 2, t, QPKI_REASON_SUPERSEDED), QPKI_OK);
    assert_int_equal(qpki_ca_store_revoke(s, one, 2, t, QPKI_REASON_SUPERSEDED), QPKI_ERR_EXISTS);
    qpki_ca_store_free(&s);
}

struct collected {
    size_t n;
    char status[8];
    qpki_time expiry[8], revoked[8];
    qpki_crl_reason reason[8];
    qpki_hold_instruction hold[8];
    qpki_time invalidity[8];
    char subject[8][64];
    size_t serial_len[8];
    uint8_t serial[8][8];
};

static int collect(void *user, const qpki_ca_row *row)
{
    struct collected *c = user;
    assert_true(row->struct_size >= sizeof(qpki_ca_row));
    c->status[c->n] = row->status;
    c->expiry[c->n] = row->expiry;
    c->revoked[c->n] = row->revocation_time;
    c->reason[c->n] = row->reason;
    c->hold[c->n] = row->hold_instruction;
    c->invalidity[c->n] = row->invalidity_date;
    snprintf(c->subject[c->n], sizeof(c->subject[0]), "%s", row->subject);
    c->serial_len[c->n] = row->serial_len;
    memcpy(c->serial[c->n], row->serial, row->serial_len);
    c->n++;
    return 0;
}

static void test_foreach_reads_openssl_rows_with_their_forms(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt",
               "V\t491231235959Z\t\t00FF\tunknown\t/CN=a\n"
               "R\t491231235959Z\t240115100000Z,keyTime,20240101000000Z\t02\tunknown\t/CN=b\r\n"
               "R\t20510101000000Z\t240115100000Z,holdInstruction,holdInstructionReject\t03\tunknown\t/CN=c\n"
               "E\t200101000000Z\t\t04\tunknown\t/CN=d\\\tx\n"
               "R\t491231235959Z\t240115100000Z\t05\tunknown\t/CN=e\n");
    struct collected c = { 0 };
    assert_int_equal(qpki_ca_store_foreach(s, collect, &c), QPKI_OK);
    assert_int_equal(c.n, 5);
    assert_int_equal(c.status[0], 'V');
    assert_int_equal(c.serial_len[0], 1);
    assert_int_equal(c.serial[0][0], 0xff);
    assert_int_equal(c.expiry[0], at(2049, 12, 31, 23, 59, 59));
    assert_int_equal(c.reason[0], QPKI_REASON_NONE);
    assert_int_equal(c.status[1], 'R');
    assert_int_equal(c.revoked[1], at(2024, 1, 15, 10, 0, 0));
    assert_int_equal(c.reason[1], QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(c.invalidity[1], at(2024, 1, 1, 0, 0, 0));
    assert_int_equal(c.hold[1], QPKI_HOLD_INSTRUCTION_ABSENT);
    assert_string_equal(c.subject[1], "/CN=b");
    assert_int_equal(c.expiry[2], at(2051, 1, 1, 0, 0, 0));
    assert_int_equal(c.reason[2], QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(c.hold[2], QPKI_HOLD_INSTRUCTION_REJECT);
    assert_int_equal(c.invalidity[2], 0);
    assert_int_equal(c.status[3], 'E');
    assert_int_equal(c.expiry[3], at(2020, 1, 1, 0, 0, 0));
    assert_string_equal(c.subject[3], "/CN=d\\\tx");
    assert_int_equal(c.reason[4], QPKI_REASON_NONE);
    qpki_ca_store_free(&s);
}

static void test_crl_numbers_start_at_01_and_increment(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    uint8_t num[20];
    size_t len = 9;
    /* no crlnumber yet: 01, as QPKI starts */
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_OK);
    assert_int_equal(len, 1);
    assert_int_equal(num[0], 1);
    assert_file("crlnumber", "02\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_OK);
    assert_int_equal(num[0], 2);
    assert_file("crlnumber", "03\n");
    /* as openssl ca writes it (and zero is a CRL number) */
    write_text("crlnumber", "00\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_OK);
    assert_int_equal(len, 0);
    assert_file("crlnumber", "01\n");
    write_text("crlnumber", "ff\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_OK);
    assert_file("crlnumber", "0100\n");
    /* 20 octets: the next one would need 21 (RFC 5280 §5.2.3) */
    write_text("crlnumber", "7fffffffffffffffffffffffffffffffffffffff\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_ERR_LIMIT);
    assert_file("crlnumber", "7fffffffffffffffffffffffffffffffffffffff\n");
    write_text("crlnumber", "not hex\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, sizeof(num), &len), QPKI_ERR_PARSE);
    assert_non_null(strstr(qpki_ca_store_last_error(s), "crlnumber"));
    write_text("crlnumber", "0a0b\n");
    assert_int_equal(qpki_ca_store_next_crl_number(s, num, 1, &len), QPKI_ERR_BUFFER_TOO_SMALL);
    qpki_ca_store_free(&s);
}

static void test_save_crl_keeps_complete_and_delta_apart(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    size_t len;
    uint8_t *pem = tu_read_file(tu_data_path("crl/ec-p256.crl.pem"), &len);
    assert_non_null(pem);
    /* not a CRL (PEM text is not DER) */
    assert_int_not_equal(qpki_ca_store_save_crl(s, pem, len), QPKI_OK);
    char path[512];
    snprintf(path, sizeof(path), "%s/crl", dir);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);
    qpki_crl *crl = NULL, *delta = NULL;
    assert_int_equal(qpki_crl_parse_any(pem, len, &crl), QPKI_OK);
    free(pem);
    const uint8_t *der;
    size_t der_len;
    qpki_crl_der(crl, &der, &der_len);
    assert_int_equal(qpki_ca_store_save_crl(s, der, der_len), QPKI_OK);
    char *saved = read_text("crl/ca.crl");
    assert_non_null(saved);
    assert_true(strncmp(saved, "-----BEGIN X509 CRL-----\n", 25) == 0);
    free(saved);
    snprintf(path, sizeof(path), "%s/crl/ca.crl.der", dir);
    size_t got_len;
    uint8_t *got = tu_read_file(path, &got_len);
    assert_int_equal(got_len, der_len);
    assert_memory_equal(got, der, der_len);
    free(got);
    assert_int_equal(qpki_crl_load_file(tu_data_path("crl/ec-p256-delta.crl.pem"), &delta), QPKI_OK);
    qpki_crl_der(delta, &der, &der_len);
    assert_int_equal(qpki_ca_store_save_crl(s, der, der_len), QPKI_OK);
    snprintf(path, sizeof(path), "%s/crl/ca-delta.crl.der", dir);
    got = tu_read_file(path, &got_len);
    assert_int_equal(got_len, der_len);
    assert_memory_equal(got, der, der_len);
    free(got);
    /* the complete CRL is still the first one */
    snprintf(path, sizeof(path), "%s/crl/ca.crl", dir);
    qpki_crl *again = NULL;
    assert_int_equal(qpki_crl_load_file(path, &again), QPKI_OK);
    assert_false(qpki_crl_is_delta(again));
    qpki_crl_free(&again);
    qpki_crl_free(&delta);
    qpki_crl_free(&crl);
    qpki_ca_store_free(&s);
}

static void test_foreach_names_the_bad_line(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    write_text("index.txt", "V\t491231235959Z\t\t01\tunknown\t/CN=a\n"
                            "# fine\n"
                            "V\t4912312359Z\t\t02\tunknown\t/CN=b\n");
    struct collected c = { 0 };
    assert_int_equal(qpki_ca_store_foreach(s, collect, &c), QPKI_ERR_PARSE);
    assert_string_equal(qpki_ca_store_last_error(s), "index.txt:3: bad expiry date");
    write_text("index.txt", "X\t491231235959Z\t\t01\tunknown\t/CN=a\n");
    assert_int_equal(qpki_ca_store_foreach(s, collect, &c), QPKI_ERR_PARSE);
    assert_string_equal(qpki_ca_store_last_error(s), "index.txt:1: bad status (want V, R or E)");
    write_text("index.txt", "V\t491231235959Z\t\t01\tunknown\n");
    assert_int_equal(qpki_ca_store_foreach(s, collect, &c), QPKI_ERR_PARSE);
    write_text("index.txt", "V\t491231235959Z\t240101000000Z\t01\tunknown\t/CN=a\n");
    assert_int_equal(qpki_ca_store_foreach(s, collect, &c), QPKI_ERR_PARSE);
    /* Writers refuse to build on a broken file. */
    static const uint8_t serial[] = { 0x09 };
    assert_int_equal(qpki_ca_store_add_row(s, serial, 1, at(2030, 1, 1, 0, 0, 0), NULL, "/CN=z"),
                     QPKI_ERR_PARSE);
    qpki_ca_store_free(&s);
}

static void test_add_cert_stores_pem_and_row_with_oneline_subject(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x01 };
    qpki_ca_store *s = created(first, 1);
    qpki_cert *cert = NULL;
    assert_int_equal(qpki_cert_load_file(tu_data_path("certs/ec-p256-leaf.pem"), &cert), QPKI_OK);
    assert_int_equal(qpki_ca_store_add_cert(s, cert), QPKI_OK);
    /* Serial 0x2001, notAfter 2126-11-02 13:05:38 (GeneralizedTime), subject
     * "emailAddress=admin@example.com,CN=www.example.com+serialNumber=12345,
     * O=QPKI Test\, Inc.,C=FR" in OpenSSL's one-line order. */
    assert_file("index.txt", "V\t21261102130538Z\t\t2001\tcerts/2001.pem\t"
                             "/C=FR/O=QPKI Test, Inc./CN=www.example.com+serialNumber=12345"
                             "/emailAddress=admin@example.com\n");
    char *pem = read_text("certs/2001.pem");
    size_t n;
    char *orig = (char *)tu_read_file(tu_data_path("certs/ec-p256-leaf.pem"), &n);
    assert_non_null(pem);
    assert_non_null(orig);
    assert_non_null(strstr(pem, "-----BEGIN CERTIFICATE-----\n"));
    /* The same DER: parse both and compare. */
    qpki_cert *back = NULL;
    assert_int_equal(qpki_cert_parse_any((const uint8_t *)pem, strlen(pem), &back), QPKI_OK);
    const uint8_t *a, *b;
    size_t la, lb;
    qpki_cert_der(cert, &a, &la);
    qpki_cert_der(back, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    /* Again: the serial is taken. */
    assert_int_equal(qpki_ca_store_add_cert(s, cert), QPKI_ERR_EXISTS);
    qpki_cert_free(&back);
    qpki_cert_free(&cert);
    free(pem);
    free(orig);
    qpki_ca_store_free(&s);
}

static void test_concurrent_writers_never_lose_a_row(void **state)
{
    (void)state;
    static const uint8_t first[] = { 0x10 };
    qpki_ca_store *s = created(first, 1);
    qpki_ca_store_free(&s);
    enum { PROCS = 6, EACH = 10 };
    pid_t pids[PROCS];
    for (int p = 0; p < PROCS; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0) {
            qpki_ca_store *c = NULL;
            if (qpki_ca_store_open(dir, &c) != QPKI_OK)
                _exit(1);
            for (int i = 0; i < EACH; i++) {
                uint8_t serial[8];
                size_t len;
                char subject[32];
                snprintf(subject, sizeof(subject), "/CN=p%d-%d", p, i);
                if (qpki_ca_store_next_serial(c, serial, sizeof(serial), &len) != QPKI_OK ||
                    qpki_ca_store_add_row(c, serial, len, 2000000000, NULL, subject) != QPKI_OK)
                    _exit(2);
            }
            qpki_ca_store_free(&c);
            _exit(0);
        }
    }
    for (int p = 0; p < PROCS; p++) {
        int status = 0;
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(qpki_ca_store_open(dir, &s), QPKI_OK);
    struct {
        size_t n;
        bool seen[256];
    } all = { 0, { false } };
    qpki_ca_store_free(&s);
    /* Every serial 0x10 .. 0x10 + 59 appears exactly once. */
    char *text = read_text("index.txt");
    assert_non_null(text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        unsigned v;
        assert_int_equal(sscanf(line, "V\t%*s\t%x", &v), 1);
        assert_true(v >= 0x10 && v < 0x10 + PROCS * EACH);
        assert_false(all.seen[v]);
        all.seen[v] = true;
        all.n++;
    }
    assert_int_equal(all.n, PROCS * EACH);
    free(text);
    assert_file("serial", "4C\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_create_writes_empty_index_serial_attr_and_certs_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_refuses_an_existing_ca_and_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_rejects_a_zero_serial, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_needs_index_txt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_serial_returns_the_file_value_and_increments_with_carry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_serial_skips_serials_already_in_the_index, setup, teardown),
        cmocka_unit_test_setup_teardown(test_next_serial_without_serial_file_is_not_found, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_row_writes_openssl_format, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_row_refuses_a_duplicate_serial_in_any_spelling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_row_rejects_tabs_and_line_breaks_in_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_row_appends_after_a_last_line_without_newline, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_rewrites_only_that_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_spells_reasons_like_openssl_and_omits_none, setup, teardown),
        cmocka_unit_test_setup_teardown(test_revoke_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_reads_openssl_rows_with_their_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreach_names_the_bad_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crl_numbers_start_at_01_and_increment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_save_crl_keeps_complete_and_delta_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_cert_stores_pem_and_row_with_oneline_subject, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_never_lose_a_row, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
