/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/test_crl_db.c - the status database fed by CRLs (qpki_db_crl_*):
 * what it accepts and refuses, what lookups answer, deltas, partitions,
 * staleness, issued lists, and the serials changes_since names. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/db.h>
#include <qpki/signer.h>
#include "internal.h"

#define T0 1775001600 /* 2026-04-01 00:00:00Z */
#define DAY 86400

static qpki_cert *ca, *other_ca;
static qpki_signer *ca_key, *other_key;
static qpki_time clock_now = T0 + 3600;


static int setup(void **state)
{
    (void)state;
    if (qpki_cert_load_file(tu_data_path("certs/ec-p256-ca.pem"), &ca) ||
        qpki_cert_load_file(tu_data_path("certs/rsa-ca.pem"), &other_ca) ||
        qpki_signer_software_load(tu_data_path("certs/ec-p256-ca.key"), NULL, &ca_key) ||
        qpki_signer_software_load(tu_data_path("certs/rsa-ca.key"), NULL, &other_key))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    qpki_cert_free(&ca);
    qpki_cert_free(&other_ca);
    qpki_signer_free(&ca_key);
    qpki_signer_free(&other_key);
    return 0;
}

/* One entry of a CRL to build. */
struct ent {
    uint16_t serial;
    qpki_crl_reason reason;
    qpki_hold_instruction hold;
    qpki_time invalidity;
};

/* A CRL of `issuer` signed by `key` (and by `alt` too, Catalyst, when it is
 * not NULL): number, base (0: complete), thisUpdate T0 + this_off, nextUpdate
 * this + next_in, the entries, and an issuingDistributionPoint of
 * onlyContainsCACerts when ca_only. */
static qpki_crl *make_hybrid(const qpki_cert *issuer, qpki_signer *key, qpki_signer *alt,
                             uint8_t number, uint8_t base, qpki_time this_off, qpki_time next_in,
                             const struct ent *e, size_t n, bool ca_only)
{
    qpki_crl_builder *b = NULL;
    assert_int_equal(qpki_crl_builder_new(&b), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_issuer_cert(b, issuer), QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_times(b, T0 + this_off, T0 + this_off + next_in),
                     QPKI_OK);
    assert_int_equal(qpki_crl_builder_set_number(b, &number, 1), QPKI_OK);
    if (base)
        assert_int_equal(qpki_crl_builder_set_delta_base(b, &base, 1), QPKI_OK);
    if (ca_only) {
        static const uint8_t idp[] = {0x30, 0x03, 0x82, 0x01, 0xff};
        assert_int_equal(qpki_crl_builder_add_extension(b, QPKI_OID_ISSUING_DISTRIBUTION_POINT,
                                                        true, idp, sizeof(idp)),
                         QPKI_OK);
    }
    for (size_t i = 0; i < n; i++) {
        uint8_t s[2] = {(uint8_t)(e[i].serial >> 8), (uint8_t)e[i].serial};
        assert_int_equal(qpki_crl_builder_add_entry(b, s, 2, T0 - DAY + e[i].serial,
                                                    e[i].reason, e[i].hold, e[i].invalidity),
                         QPKI_OK);
    }
    uint8_t *der;
    size_t len;
    if (alt)
        assert_int_equal(qpki_crl_builder_sign_hybrid(b, key, alt, &der, &len), QPKI_OK);
    else
        assert_int_equal(qpki_crl_builder_sign(b, key, &der, &len), QPKI_OK);
    qpki_crl *crl = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &crl), QPKI_OK);
    qpki_free(der);
    qpki_crl_builder_free(&b);
    return crl;
}

static qpki_crl *make(const qpki_cert *issuer, qpki_signer *key, uint8_t number, uint8_t base,
                      qpki_time this_off, qpki_time next_in, const struct ent *e, size_t n,
                      bool ca_only)
{
    return make_hybrid(issuer, key, NULL, number, base, this_off, next_in, e, n, ca_only);
}

/* A CRL database for the CA certificate `for_ca` with that many complete and
 * delta sources. */
static qpki_db *new_db_of(const qpki_cert *for_ca, size_t fulls, size_t deltas)
{
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_crl_new(for_ca, &db), QPKI_OK);
    assert_int_equal(qpki_db_crl_set_clock(db, tu_clock, &clock_now), QPKI_OK);
    for (size_t i = 0; i < fulls + deltas; i++) {
        char name[32];
        snprintf(name, sizeof(name), "%s%zu", i < fulls ? "full" : "delta", i);
        size_t index = 99;
        assert_int_equal(qpki_db_crl_add_source(db, name, i >= fulls, &index), QPKI_OK);
        assert_int_equal(index, i);
    }
    return db;
}

static qpki_db *new_db(size_t fulls, size_t deltas) { return new_db_of(ca, fulls, deltas); }

static qpki_status offer(qpki_db *db, size_t source, qpki_crl *crl, char *msg)
{
    char buf[256];
    qpki_status rc = qpki_db_crl_update(db, source, &crl, msg ? msg : buf, 256);
    assert_null(crl);
    return rc;
}

/* Look up a two-octet serial. */
static qpki_status look(qpki_db *db, uint16_t serial, qpki_db_entry *e)
{
    uint8_t s[2] = {(uint8_t)(serial >> 8), (uint8_t)serial};
    qpki_db_entry_init(e);
    return qpki_db_lookup(db, s, 2, e);
}

static void assert_revoked(qpki_db *db, uint16_t serial, qpki_crl_reason reason)
{
    qpki_db_entry e;
    assert_int_equal(look(db, serial, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, reason);
    assert_int_equal(e.revocation_time, T0 - DAY + serial);
}

static void assert_good(qpki_db *db, uint16_t serial)
{
    qpki_db_entry e;
    assert_int_equal(look(db, serial, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    assert_int_equal(e.expiry, 0);
}

static const struct ent base_entries[] = {
    {0x1001, QPKI_REASON_KEY_COMPROMISE, 0, T0 - 2 * DAY},
    {0x1002, QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_REJECT, 0},
    {0x1003, QPKI_REASON_NONE, 0, 0},
    {0x1004, QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_CALL_ISSUER, 0},
};

/* At T0 + 1 h, one full CRL source holding CRL number 5 with base_entries
 * (thisUpdate T0, nextUpdate T0 + 7 days). */
static qpki_db *db_with_base(void)
{
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 0);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, 7 * DAY, base_entries, 4, false),
                           NULL),
                     QPKI_OK);
    return db;
}

static void test_before_any_crl_lookups_are_stale(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 0);
    qpki_db_entry e;
    assert_int_equal(look(db, 0x1001, &e), QPKI_ERR_STALE);
    assert_true(qpki_db_crl_is_stale(db));
    char msg[128];
    qpki_db_last_error(db, msg, sizeof(msg));
    assert_string_equal(msg, "no CRL loaded yet");
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    assert_int_equal(qpki_db_crl_source_info(db, 0, &info), QPKI_OK);
    assert_false(info.loaded);
    assert_int_equal(qpki_db_crl_source_info(db, 1, &info), QPKI_ERR_NOT_FOUND);
    qpki_db_free(&db);
}

static void test_entries_answer_with_reason_hold_and_invalidity_others_good(void **state)
{
    (void)state;
    qpki_db *db = db_with_base();
    qpki_db_entry e;
    assert_int_equal(look(db, 0x1001, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(e.invalidity_date, T0 - 2 * DAY);
    assert_int_equal(e.revocation_time, T0 - DAY + 0x1001);
    assert_int_equal(look(db, 0x1002, &e), QPKI_OK);
    assert_int_equal(e.reason, QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(e.hold_instruction, QPKI_HOLD_INSTRUCTION_REJECT);
    assert_int_equal(e.invalidity_date, 0);
    assert_revoked(db, 0x1003, QPKI_REASON_NONE);
    assert_good(db, 0x2000);
    /* leading zero octets and a serial longer than the table holds */
    uint8_t padded[] = {0x00, 0x00, 0x10, 0x01};
    qpki_db_entry_init(&e);
    assert_int_equal(qpki_db_lookup(db, padded, 4, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(qpki_db_count(db), 4);
    assert_false(qpki_db_crl_is_stale(db));
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    assert_int_equal(qpki_db_crl_source_info(db, 0, &info), QPKI_OK);
    assert_true(info.loaded && info.active && info.has_number);
    assert_int_equal(info.number_len, 1);
    assert_int_equal(info.number[0], 5);
    assert_int_equal(info.this_update, T0);
    assert_int_equal(info.next_update, T0 + 7 * DAY);
    assert_int_equal(info.loaded_at, T0 + 3600);
    assert_int_equal(info.entries, 4);
    assert_int_equal(info.updates, 1);
    assert_int_equal(info.refusals, 0);
    qpki_db_free(&db);
}

static void test_bad_other_ca_older_and_early_crls_are_refused_and_the_previous_kept(void **state)
{
    (void)state;
    qpki_db *db = db_with_base();
    uint64_t gen = qpki_db_generation(db);
    char msg[256];
    static const struct ent other[] = {{0x2000, QPKI_REASON_KEY_COMPROMISE, 0, 0}};
    /* another CA */
    assert_int_equal(offer(db, 0, make(other_ca, other_key, 9, 0, 0, DAY, other, 1, false), msg),
                     QPKI_ERR_UNKNOWN_ISSUER);
    assert_non_null(strstr(msg, "another CA"));
    /* the same name, another key: a bad signature */
    qpki_crl *crl = make(ca, ca_key, 9, 0, 0, DAY, other, 1, false);
    const uint8_t *der;
    size_t len;
    qpki_crl_der(crl, &der, &len);
    uint8_t *copy = malloc(len);
    memcpy(copy, der, len);
    copy[len - 5] ^= 0x01; /* inside the ECDSA signature */
    qpki_crl_free(&crl);
    assert_int_equal(qpki_crl_parse(copy, len, &crl), QPKI_OK);
    free(copy);
    assert_int_equal(offer(db, 0, crl, msg), QPKI_ERR_BAD_SIGNATURE);
    assert_non_null(strstr(msg, "signature does not verify"));
    /* an older and an equal number */
    assert_int_equal(offer(db, 0, make(ca, ca_key, 4, 0, 60, DAY, other, 1, false), msg),
                     QPKI_ERR_STALE);
    assert_non_null(strstr(msg, "CRL number 04 is not above 05"));
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 60, DAY, other, 1, false), msg),
                     QPKI_ERR_STALE);
    /* thisUpdate ahead of the clock by more than 5 minutes */
    assert_int_equal(offer(db, 0, make(ca, ca_key, 9, 0, 2 * 3600, DAY, other, 1, false), msg),
                     QPKI_ERR_NOT_YET_VALID);
    /* already expired */
    assert_int_equal(offer(db, 0, make(ca, ca_key, 9, 0, -2 * DAY, DAY, other, 1, false), msg),
                     QPKI_ERR_STALE);
    assert_non_null(strstr(msg, "past its nextUpdate"));
    /* a delta CRL to a complete source */
    assert_int_equal(offer(db, 0, make(ca, ca_key, 9, 5, 0, DAY, other, 1, false), msg),
                     QPKI_ERR_INVALID_ARG);
    /* nothing changed */
    assert_int_equal(qpki_db_generation(db), gen);
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    assert_good(db, 0x2000);
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    assert_int_equal(qpki_db_crl_source_info(db, 0, &info), QPKI_OK);
    assert_int_equal(info.number[0], 5);
    assert_int_equal(info.refusals, 7);
    /* the same CRL again: not a refusal, nothing done */
    qpki_db_free(&db);
    db = new_db(1, 0);
    qpki_crl *a = make(ca, ca_key, 5, 0, 0, DAY, base_entries, 4, false);
    qpki_crl_der(a, &der, &len);
    qpki_crl *b = NULL;
    assert_int_equal(qpki_crl_parse(der, len, &b), QPKI_OK);
    assert_int_equal(offer(db, 0, a, NULL), QPKI_OK);
    gen = qpki_db_generation(db);
    assert_int_equal(offer(db, 0, b, NULL), QPKI_ERR_EXISTS);
    assert_int_equal(qpki_db_generation(db), gen);
    qpki_db_free(&db);
}

struct seen {
    size_t n;
    uint16_t serial[16];
};

static void on_change(void *user, const uint8_t *serial, size_t len)
{
    struct seen *s = user;
    assert_true(len == 2 && s->n < 16);
    s->serial[s->n++] = (uint16_t)(serial[0] << 8 | serial[1]);
}

static bool seen_has(const struct seen *s, uint16_t serial)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->serial[i] == serial)
            return true;
    return false;
}

static void test_a_newer_crl_changes_only_the_changed_serials(void **state)
{
    (void)state;
    qpki_db *db = db_with_base();
    uint64_t before = qpki_db_generation(db);
    /* 1001 unchanged, 1002 released from hold (gone), 1003 reason changed, 1004
     * unchanged, 1005 new */
    static const struct ent next[] = {
        {0x1001, QPKI_REASON_KEY_COMPROMISE, 0, T0 - 2 * DAY},
        {0x1003, QPKI_REASON_SUPERSEDED, 0, 0},
        {0x1004, QPKI_REASON_CERTIFICATE_HOLD, QPKI_HOLD_INSTRUCTION_CALL_ISSUER, 0},
        {0x1005, QPKI_REASON_AFFILIATION_CHANGED, 0, 0},
    };
    assert_int_equal(offer(db, 0, make(ca, ca_key, 6, 0, 60, 7 * DAY, next, 4, false), NULL),
                     QPKI_OK);
    uint64_t after = qpki_db_generation(db);
    assert_true(after > before);
    struct seen s = {0};
    uint64_t upto = 0;
    assert_int_equal(qpki_db_changes_since(db, before, &upto, on_change, &s), QPKI_OK);
    assert_int_equal(upto, after);
    assert_int_equal(s.n, 3);
    assert_true(seen_has(&s, 0x1002) && seen_has(&s, 0x1003) && seen_has(&s, 0x1005));
    assert_good(db, 0x1002);
    assert_revoked(db, 0x1003, QPKI_REASON_SUPERSEDED);
    assert_revoked(db, 0x1005, QPKI_REASON_AFFILIATION_CHANGED);
    qpki_db_free(&db);
}

static void test_past_next_update_plus_grace_is_stale_then_a_new_crl_recovers(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 0);
    assert_int_equal(qpki_db_crl_set_grace(db, 600), QPKI_OK);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, DAY, base_entries, 4, false), NULL),
                     QPKI_OK);
    uint64_t gen = qpki_db_generation(db);
    /* past nextUpdate, within the grace: still answered */
    clock_now = T0 + DAY + 599;
    assert_good(db, 0x2000);
    assert_int_equal(qpki_db_generation(db), gen);
    /* past the grace: tryLater for every serial, revoked ones too, and a new
     * generation so no cached answer survives */
    clock_now = T0 + DAY + 601;
    qpki_db_entry e;
    assert_int_equal(look(db, 0x2000, &e), QPKI_ERR_STALE);
    assert_int_equal(look(db, 0x1001, &e), QPKI_ERR_STALE);
    assert_true(qpki_db_crl_is_stale(db));
    uint64_t stale_gen = qpki_db_generation(db);
    assert_true(stale_gen > gen);
    uint64_t upto;
    struct seen s = {0};
    assert_int_equal(qpki_db_changes_since(db, gen, &upto, on_change, &s), QPKI_ERR_NOT_FOUND);
    char msg[128];
    qpki_db_last_error(db, msg, sizeof(msg));
    assert_non_null(strstr(msg, "past its nextUpdate"));
    /* a newer CRL brings answers back */
    assert_int_equal(offer(db, 0, make(ca, ca_key, 6, 0, DAY, DAY, base_entries, 4, false), NULL),
                     QPKI_OK);
    assert_good(db, 0x2000);
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    assert_true(qpki_db_generation(db) > stale_gen);
    qpki_db_last_error(db, msg, sizeof(msg));
    assert_string_equal(msg, "");
    qpki_db_free(&db);
}

static void test_delta_crls_apply_to_their_base_with_remove_from_crl(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 1);
    char msg[256];
    static const struct ent d1[] = {
        {0x1002, QPKI_REASON_REMOVE_FROM_CRL, 0, 0},    /* released from hold */
        {0x1004, QPKI_REASON_KEY_COMPROMISE, 0, 0},     /* hold became keyCompromise */
        {0x1006, QPKI_REASON_SUPERSEDED, 0, 0},         /* new */
    };
    /* no complete CRL yet */
    assert_int_equal(offer(db, 1, make(ca, ca_key, 6, 5, 60, DAY, d1, 3, false), msg),
                     QPKI_ERR_NOT_FOUND);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, 7 * DAY, base_entries, 4, false),
                           NULL),
                     QPKI_OK);
    /* a delta against a newer base than the complete CRL in use */
    assert_int_equal(offer(db, 1, make(ca, ca_key, 8, 7, 60, DAY, d1, 3, false), msg),
                     QPKI_ERR_NOT_FOUND);
    assert_non_null(strstr(msg, "base CRL 07 is newer than the complete CRL in use (05)"));
    /* a complete CRL to the delta source */
    assert_int_equal(offer(db, 1, make(ca, ca_key, 8, 0, 60, DAY, &d1[1], 2, false), msg),
                     QPKI_ERR_INVALID_ARG);
    uint64_t before = qpki_db_generation(db);
    assert_int_equal(offer(db, 1, make(ca, ca_key, 6, 5, 60, DAY, d1, 3, false), msg), QPKI_OK);
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    assert_good(db, 0x1002);
    assert_revoked(db, 0x1003, QPKI_REASON_NONE);
    assert_revoked(db, 0x1004, QPKI_REASON_KEY_COMPROMISE);
    assert_revoked(db, 0x1006, QPKI_REASON_SUPERSEDED);
    struct seen s = {0};
    uint64_t upto;
    assert_int_equal(qpki_db_changes_since(db, before, &upto, on_change, &s), QPKI_OK);
    assert_int_equal(s.n, 3);
    qpki_db_crl_info info = {.struct_size = sizeof(info)};
    assert_int_equal(qpki_db_crl_source_info(db, 1, &info), QPKI_OK);
    assert_true(info.delta && info.active);
    /* the delta's nextUpdate (1 day) bounds the answers too */
    clock_now = T0 + 60 + DAY + 1;
    qpki_db_entry e;
    assert_int_equal(look(db, 0x2000, &e), QPKI_ERR_STALE);
    /* a complete CRL numbered past the delta supersedes it: the delta is no
     * longer applied, nor its nextUpdate counted */
    static const struct ent full2[] = {{0x1001, QPKI_REASON_KEY_COMPROMISE, 0, T0 - 2 * DAY}};
    assert_int_equal(offer(db, 0, make(ca, ca_key, 7, 0, DAY, 7 * DAY, full2, 1, false), NULL),
                     QPKI_OK);
    assert_good(db, 0x1006);
    assert_good(db, 0x1003);
    assert_int_equal(qpki_db_crl_source_info(db, 1, &info), QPKI_OK);
    assert_false(info.active);
    /* a delta against the new base applies again */
    static const struct ent d2[] = {{0x1007, QPKI_REASON_CESSATION_OF_OPERATION, 0, 0}};
    assert_int_equal(offer(db, 1, make(ca, ca_key, 8, 7, DAY + 60, DAY, d2, 1, false), msg),
                     QPKI_OK);
    assert_revoked(db, 0x1007, QPKI_REASON_CESSATION_OF_OPERATION);
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    qpki_db_free(&db);
}

static void test_partitions_are_united_and_a_scope_is_held_once(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(3, 0);
    static const struct ent users[] = {{0x1001, QPKI_REASON_KEY_COMPROMISE, 0, 0}};
    static const struct ent cas[] = {{0x2001, QPKI_REASON_CA_COMPROMISE, 0, 0}};
    char msg[256];
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, DAY, users, 1, false), NULL),
                     QPKI_OK);
    /* not every complete source has a CRL yet */
    qpki_db_entry e;
    assert_int_equal(look(db, 0x1001, &e), QPKI_ERR_STALE);
    assert_int_equal(offer(db, 1, make(ca, ca_key, 3, 0, 0, DAY, cas, 1, true), NULL), QPKI_OK);
    /* a third source with the first one's scope */
    assert_int_equal(offer(db, 2, make(ca, ca_key, 9, 0, 0, DAY, users, 1, false), msg),
                     QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(msg, "same scope"));
    qpki_db_free(&db);
    db = new_db(2, 0);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, DAY, users, 1, false), NULL),
                     QPKI_OK);
    assert_int_equal(offer(db, 1, make(ca, ca_key, 3, 0, 0, DAY, cas, 1, true), NULL), QPKI_OK);
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    assert_revoked(db, 0x2001, QPKI_REASON_CA_COMPROMISE);
    assert_good(db, 0x3000);
    qpki_db_free(&db);
}

static void test_an_issued_list_makes_never_issued_serials_unknown(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 0), *issued = NULL;
    assert_int_equal(qpki_db_memory_new("issued", &issued), QPKI_OK);
    qpki_db_entry v;
    qpki_db_entry_init(&v);
    v.row_status = 'V';
    static const uint8_t s2000[] = {0x20, 0x00}, s2001[] = {0x20, 0x01};
    assert_int_equal(qpki_db_memory_put(issued, s2000, 2, &v), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(issued, NULL), QPKI_OK);
    assert_int_equal(qpki_db_crl_set_issued(db, issued), QPKI_OK);
    assert_int_equal(qpki_db_crl_set_issued(db, issued), QPKI_ERR_EXISTS);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, DAY, base_entries, 4, false), NULL),
                     QPKI_OK);
    qpki_db_entry e;
    assert_good(db, 0x2000);
    assert_int_equal(look(db, 0x2001, &e), QPKI_ERR_NOT_FOUND);
    /* revoked on the CRL: revoked, issued list or not */
    assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
    /* the list grows: a new generation (cached unknowns go) */
    uint64_t gen = qpki_db_generation(db);
    assert_int_equal(qpki_db_memory_put(issued, s2001, 2, &v), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(issued, NULL), QPKI_OK);
    assert_true(qpki_db_generation(db) > gen);
    assert_good(db, 0x2001);
    qpki_db_free(&issued); /* the CRL database keeps its reference */
    assert_good(db, 0x2001);
    qpki_db_free(&db);
}

/* qpki_db_list_serials on a CRL database: the serials on the CRLs, then (with
 * an issued list) the issued ones, so a responder pre-signs good answers too. */
typedef struct listed {
    uint16_t serial[32];
    size_t n;
} listed;

static void list_into(void *user, const uint8_t *serial, size_t len)
{
    listed *l = user;
    assert_int_equal(len, 2);
    if (l->n < 32)
        l->serial[l->n] = (uint16_t)(serial[0] << 8 | serial[1]);
    l->n++;
}

static size_t count_of(const listed *l, uint16_t serial)
{
    size_t k = 0;
    for (size_t i = 0; i < l->n && i < 32; i++)
        k += l->serial[i] == serial;
    return k;
}

static void list_db(qpki_db *db, listed *l)
{
    memset(l, 0, sizeof(*l));
    qpki_db_cursor cursor;
    memset(&cursor, 0, sizeof(cursor));
    int done = 0, calls = 0;
    while (!done) {
        assert_int_equal(qpki_db_list_serials(db, &cursor, 3, list_into, l, &done), QPKI_OK);
        assert_true(++calls < 1000);
    }
}

static void test_list_serials_gives_the_crl_entries_then_the_issued_list(void **state)
{
    (void)state;
    clock_now = T0 + 3600;
    qpki_db *db = new_db(1, 0), *issued = NULL;
    listed l;
    list_db(db, &l);
    assert_int_equal(l.n, 0);
    assert_int_equal(offer(db, 0, make(ca, ca_key, 5, 0, 0, DAY, base_entries, 4, false), NULL),
                     QPKI_OK);
    list_db(db, &l);
    assert_int_equal(l.n, 4);
    for (uint16_t s = 0x1001; s <= 0x1004; s++)
        assert_int_equal(count_of(&l, s), 1);
    assert_int_equal(qpki_db_memory_new("issued", &issued), QPKI_OK);
    qpki_db_entry v;
    qpki_db_entry_init(&v);
    v.row_status = 'V';
    static const uint8_t s2000[] = {0x20, 0x00}, s1001[] = {0x10, 0x01};
    assert_int_equal(qpki_db_memory_put(issued, s2000, 2, &v), QPKI_OK);
    assert_int_equal(qpki_db_memory_put(issued, s1001, 2, &v), QPKI_OK);
    assert_int_equal(qpki_db_memory_commit(issued, NULL), QPKI_OK);
    assert_int_equal(qpki_db_crl_set_issued(db, issued), QPKI_OK);
    list_db(db, &l);
    assert_int_equal(l.n, 6);
    assert_int_equal(count_of(&l, 0x1001), 2); /* on the CRL and issued */
    assert_int_equal(count_of(&l, 0x1002), 1);
    assert_int_equal(count_of(&l, 0x2000), 1);
    qpki_db_free(&issued);
    qpki_db_free(&db);
}

/* CRLs made by `openssl ca -gencrl` (tests/data/crl): a complete CRL and a delta
 * of the same CA. */
static void test_openssl_made_crls_and_delta_are_accepted(void **state)
{
    (void)state;
    clock_now = 1775001600 + 3600; /* their lastUpdate is 2026-04-01 */
    qpki_db *db = new_db(1, 1);
    qpki_crl *full = NULL, *delta = NULL;
    assert_int_equal(qpki_crl_load_file(tu_data_path("crl/ec-p256.crl.pem"), &full), QPKI_OK);
    assert_int_equal(qpki_crl_load_file(tu_data_path("crl/ec-p256-delta.crl.pem"), &delta),
                     QPKI_OK);
    char msg[256];
    assert_int_equal(offer(db, 0, full, msg), QPKI_OK);
    qpki_db_entry e;
    uint8_t s[] = {0x10, 0x01};
    qpki_db_entry_init(&e);
    assert_int_equal(qpki_db_lookup(db, s, 2, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'V');
    s[1] = 0x06;
    assert_int_equal(qpki_db_lookup(db, s, 2, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_CERTIFICATE_HOLD);
    assert_int_equal(e.hold_instruction, QPKI_HOLD_INSTRUCTION_REJECT);
    s[1] = 0x08;
    assert_int_equal(qpki_db_lookup(db, s, 2, &e), QPKI_OK);
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(e.invalidity_date, 1769904000);
    assert_int_equal(offer(db, 1, delta, msg), QPKI_OK);
    s[1] = 0x01;
    assert_int_equal(qpki_db_lookup(db, s, 2, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    s[1] = 0x0b;
    assert_int_equal(qpki_db_lookup(db, s, 2, &e), QPKI_OK);
    assert_int_equal(e.invalidity_date, 1773532800);
    assert_int_equal(qpki_db_count(db), 12);
    qpki_db_free(&db);
}

/* RSA, Ed25519, ML-DSA-65 and Catalyst (ECDSA P-256 + ML-DSA-65) CRLs made by
 * our builder: verified against their CA and used; a newer CRL with a wrong
 * signature is refused and the previous one kept.  For Catalyst the wrong
 * signature is the alternative one only: the CRL is signed by the CA's
 * classical key (that signature verifies) with another ML-DSA key as the
 * alternative (RFC 5280 §6.3.3 (f) for the first; docs/CATALYST.md: both
 * signatures must verify). */
static void test_rsa_ed25519_ml_dsa_and_catalyst_crls_verified_and_a_wrong_signature_refused(
    void **state)
{
    (void)state;
    static const struct {
        const char *name, *key; /* key: a fixture, else a generated ML-DSA-65 key */
        bool catalyst;
    } cases[] = {
        {"RSA", "certs/rsa-ca.key", false},
        {"Ed25519", "certs/ed25519-ca.key", false},
        {"ML-DSA-65", NULL, false},
        {"Catalyst", "certs/ec-p256-ca.key", true},
    };
    static const struct ent later[] = {{0x1005, QPKI_REASON_SUPERSEDED, 0, 0}};
    for (size_t i = 0; i < QPKI_ARRAY_LEN(cases); i++) {
        clock_now = T0 + 3600;
        qpki_signer *key = NULL, *alt = NULL;
        if (cases[i].key)
            assert_int_equal(qpki_signer_software_load(tu_data_path(cases[i].key), NULL, &key),
                             QPKI_OK);
        else
            key = tu_generated_signer(QPKI_KEY_ML_DSA_65);
        if (cases[i].catalyst)
            alt = tu_generated_signer(QPKI_KEY_ML_DSA_65);
        char cn[64];
        snprintf(cn, sizeof(cn), "CN=%s CRL CA", cases[i].name);
        qpki_cert *c = tu_self_signed_ca(key, alt, cn);
        qpki_db *db = new_db_of(c, 1, 0);
        char msg[256];
        qpki_crl *crl = make_hybrid(c, key, alt, 5, 0, 0, 7 * DAY, base_entries, 4, false);
        if (alt)
            assert_int_equal(qpki_crl_verify_alt_signature(crl, c), QPKI_OK);
        assert_int_equal(offer(db, 0, crl, msg), QPKI_OK);
        assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
        assert_revoked(db, 0x1003, QPKI_REASON_NONE);
        assert_good(db, 0x1005);
        uint64_t gen = qpki_db_generation(db);
        /* CRL 6, revoking 0x1005, with a wrong signature */
        qpki_signer *alt2 = NULL;
        qpki_cert *c2 = NULL;
        if (alt) {
            /* the same name and classical key, another alternative key */
            alt2 = tu_generated_signer(QPKI_KEY_ML_DSA_65);
            c2 = tu_self_signed_ca(key, alt2, cn);
            crl = make_hybrid(c2, key, alt2, 6, 0, 60, 7 * DAY, later, 1, false);
            assert_int_equal(qpki_crl_verify_signature(crl, c), QPKI_OK);
            assert_int_equal(qpki_crl_verify_alt_signature(crl, c), QPKI_ERR_BAD_SIGNATURE);
        } else {
            qpki_crl *good = make(c, key, 6, 0, 60, 7 * DAY, later, 1, false);
            const uint8_t *der;
            size_t len;
            qpki_crl_der(good, &der, &len);
            uint8_t *copy = malloc(len);
            assert_non_null(copy);
            memcpy(copy, der, len);
            copy[len - 20] ^= 0x01; /* inside the signature, whatever its algorithm */
            qpki_crl_free(&good);
            assert_int_equal(qpki_crl_parse(copy, len, &crl), QPKI_OK);
            free(copy);
        }
        assert_int_equal(offer(db, 0, crl, msg), QPKI_ERR_BAD_SIGNATURE);
        assert_non_null(strstr(msg, alt ? "the alternative (Catalyst) signature does not verify"
                                        : "signature does not verify"));
        assert_int_equal(qpki_db_generation(db), gen);
        assert_good(db, 0x1005);
        assert_revoked(db, 0x1001, QPKI_REASON_KEY_COMPROMISE);
        qpki_db_crl_info info = {.struct_size = sizeof(info)};
        assert_int_equal(qpki_db_crl_source_info(db, 0, &info), QPKI_OK);
        assert_int_equal(info.number[0], 5);
        assert_int_equal(info.refusals, 1);
        /* the same CRL correctly signed: taken */
        assert_int_equal(offer(db, 0, make_hybrid(c, key, alt, 6, 0, 60, 7 * DAY, later, 1, false),
                               msg),
                         QPKI_OK);
        assert_revoked(db, 0x1005, QPKI_REASON_SUPERSEDED);
        assert_good(db, 0x1001);
        qpki_db_free(&db);
        qpki_cert_free(&c2);
        qpki_signer_free(&alt2);
        qpki_cert_free(&c);
        qpki_signer_free(&alt);
        qpki_signer_free(&key);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_before_any_crl_lookups_are_stale),
        cmocka_unit_test(test_entries_answer_with_reason_hold_and_invalidity_others_good),
        cmocka_unit_test(test_bad_other_ca_older_and_early_crls_are_refused_and_the_previous_kept),
        cmocka_unit_test(test_a_newer_crl_changes_only_the_changed_serials),
        cmocka_unit_test(test_past_next_update_plus_grace_is_stale_then_a_new_crl_recovers),
        cmocka_unit_test(test_delta_crls_apply_to_their_base_with_remove_from_crl),
        cmocka_unit_test(test_partitions_are_united_and_a_scope_is_held_once),
        cmocka_unit_test(test_an_issued_list_makes_never_issued_serials_unknown),
        cmocka_unit_test(test_list_serials_gives_the_crl_entries_then_the_issued_list),
        cmocka_unit_test(test_openssl_made_crls_and_delta_are_accepted),
        cmocka_unit_test(
            test_rsa_ed25519_ml_dsa_and_catalyst_crls_verified_and_a_wrong_signature_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
