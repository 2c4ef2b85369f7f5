/* SPDX-License-Identifier: Apache-2.0 */
/* cli/crl_make.c - a complete or delta CRL from a CA's status rows (see
 * crl_make.h), for `qpki crl gen` and `qpki ocsp serve --publish-crl`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/limits.h>

#include "crl_make.h"

/* ---- the CA directory as a source --------------------------------------------------- */

struct store_walk {
    crl_row_fn fn;
    void *ctx;
};

static int store_row(void *user, const qpki_ca_row *row)
{
    struct store_walk *w = user;
    /* fields a library older than 1.1 does not fill */
    bool v11 = row->struct_size >= offsetof(qpki_ca_row, invalidity_date) + sizeof(qpki_time);
    struct crl_row r = {row->serial, row->serial_len, row->status, row->expiry,
                        row->revocation_time, v11 ? row->invalidity_date : 0, row->reason,
                        v11 ? row->hold_instruction : QPKI_HOLD_INSTRUCTION_ABSENT};
    return w->fn(w->ctx, &r);
}

static qpki_status store_rows(void *self, crl_row_fn fn, void *ctx, char *err, size_t errlen)
{
    qpki_ca_store *store = self;
    struct store_walk w = {fn, ctx};
    qpki_status st = qpki_ca_store_foreach(store, store_row, &w);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(store);
        snprintf(err, errlen, "cannot read %s/%s: %s", qpki_ca_store_dir(store),
                 QPKI_CA_INDEX_FILE, why[0] ? why : qpki_strerror(st));
    }
    return st;
}

static qpki_status store_number(void *self, uint8_t *number, size_t cap, size_t *len, char *err,
                                size_t errlen)
{
    qpki_ca_store *store = self;
    qpki_status st = qpki_ca_store_next_crl_number(store, number, cap, len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(store);
        snprintf(err, errlen, "cannot take the next CRL number from %s/%s: %s",
                 qpki_ca_store_dir(store), QPKI_CA_CRLNUMBER_FILE,
                 why[0] ? why : qpki_strerror(st));
    }
    return st;
}

struct crl_source crl_source_store(qpki_ca_store *store)
{
    struct crl_source s = {store_rows, store_number, store};
    return s;
}

/* ---- entries ------------------------------------------------------------------------ */

/* One revoked serial, as the rows or a CRL state it. */
struct revoked {
    uint8_t serial[QPKI_SERIAL_MAX];
    uint8_t len;
    int8_t reason;      /* qpki_crl_reason */
    uint8_t hold;       /* qpki_hold_instruction */
    uint8_t state;      /* REVOKED, EXPIRED (revoked, past expiry), REMOVED (removeFromCRL row) */
    qpki_time revoked_at, invalidity;
};
enum { REVOKED, EXPIRED, REMOVED };

struct list {
    struct revoked *v;
    size_t n, cap;
};

static bool list_push(struct list *l, const struct revoked *r)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        struct revoked *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *r;
    return true;
}

static int serial_cmp(const struct revoked *a, const struct revoked *b)
{
    if (a->len != b->len)
        return a->len < b->len ? -1 : 1;
    return memcmp(a->serial, b->serial, a->len);
}

static int serial_cmp_qsort(const void *a, const void *b) { return serial_cmp(a, b); }

static bool same_entry(const struct revoked *a, const struct revoked *b)
{
    return a->revoked_at == b->revoked_at && a->reason == b->reason && a->hold == b->hold &&
           a->invalidity == b->invalidity;
}

struct walk {
    qpki_time this_update;
    qpki_crl_builder *builder; /* complete CRL: entries go straight in */
    struct list rows;          /* delta CRL: collected, compared with the base */
    qpki_status st;
};

static int on_row(void *user, const struct crl_row *row)
{
    struct walk *w = user;
    if (row->status != 'R' || row->serial_len > QPKI_SERIAL_MAX)
        return 0;
    struct revoked r = {0};
    r.len = (uint8_t)row->serial_len;
    memcpy(r.serial, row->serial, row->serial_len);
    r.reason = (int8_t)row->reason;
    r.revoked_at = row->revocation_time;
    r.hold = (uint8_t)row->hold;
    r.invalidity = row->invalidity_date;
    /* RFC 5280 §5.3.1: removeFromCRL is for delta CRLs: a row that says it has
     * left the CRL.  A certificate past its expiry need not be listed (§3.3). */
    r.state = row->reason == QPKI_REASON_REMOVE_FROM_CRL ? REMOVED
              : (row->expiry != 0 && row->expiry < w->this_update) ? EXPIRED
                                                                   : REVOKED;
    if (w->builder) {
        if (r.state != REVOKED)
            return 0;
        w->st = qpki_crl_builder_add_entry(w->builder, r.serial, r.len, r.revoked_at,
                                           (qpki_crl_reason)r.reason,
                                           (qpki_hold_instruction)r.hold, r.invalidity);
        return w->st != QPKI_OK;
    }
    if (!list_push(&w->rows, &r)) {
        w->st = QPKI_ERR_NOMEM;
        return 1;
    }
    return 0;
}

/* The base CRL's entries, sorted. */
static qpki_status base_entries(const qpki_crl *base, struct list *out)
{
    size_t cursor = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    qpki_status st;
    while ((st = qpki_crl_next_entry(base, &cursor, &e)) == QPKI_OK) {
        struct revoked r = {0};
        const uint8_t *s = e.serial;
        size_t n = e.serial_len;
        while (n > 0 && s[0] == 0) {
            s++;
            n--;
        }
        if (n > QPKI_SERIAL_MAX)
            continue;
        memcpy(r.serial, s, n);
        r.len = (uint8_t)n;
        r.reason = (int8_t)e.reason;
        r.hold = (uint8_t)e.hold_instruction;
        r.revoked_at = e.revocation_date;
        r.invalidity = e.invalidity_date;
        if (!list_push(out, &r))
            return QPKI_ERR_NOMEM;
    }
    if (st != QPKI_ERR_NOT_FOUND)
        return st;
    qsort(out->v, out->n, sizeof(*out->v), serial_cmp_qsort);
    return QPKI_OK;
}

static qpki_status add(qpki_crl_builder *b, const struct revoked *r, qpki_crl_reason reason,
                       qpki_time when)
{
    bool remove = reason == QPKI_REASON_REMOVE_FROM_CRL;
    return qpki_crl_builder_add_entry(b, r->serial, r->len, when, reason,
                                      remove ? QPKI_HOLD_INSTRUCTION_ABSENT
                                             : (qpki_hold_instruction)r->hold,
                                      remove ? 0 : r->invalidity);
}

/* RFC 5280 §5.2.4: a delta CRL lists what changed since its base: certificates
 * revoked since (or whose entry changed), and with removeFromCRL those on the
 * base that left it ("removed from hold").  Expired certificates are not
 * listed either way: they stay as the base says. */
static qpki_status diff_into(qpki_crl_builder *b, struct list *now, const struct list *base,
                             qpki_time this_update)
{
    qsort(now->v, now->n, sizeof(*now->v), serial_cmp_qsort);
    size_t i = 0, j = 0;
    while (i < now->n || j < base->n) {
        int c = i == now->n ? 1 : j == base->n ? -1 : serial_cmp(&now->v[i], &base->v[j]);
        qpki_status st = QPKI_OK;
        if (c < 0) {
            const struct revoked *r = &now->v[i++];
            if (r->state == REVOKED)
                st = add(b, r, (qpki_crl_reason)r->reason, r->revoked_at);
        } else if (c > 0) {
            /* on the base, not revoked now (valid again, or no row at all) */
            st = add(b, &base->v[j++], QPKI_REASON_REMOVE_FROM_CRL, this_update);
        } else {
            const struct revoked *r = &now->v[i++];
            j++;
            if (r->state == REMOVED)
                st = add(b, r, QPKI_REASON_REMOVE_FROM_CRL, r->revoked_at);
            else if (r->state == REVOKED && !same_entry(r, &base->v[j - 1]))
                st = add(b, r, (qpki_crl_reason)r->reason, r->revoked_at);
        }
        if (st != QPKI_OK)
            return st;
    }
    return QPKI_OK;
}

/* ---- the CRL ------------------------------------------------------------------------- */

bool crl_load_base(const char *path, const qpki_cert *ca, qpki_crl **out, char *err,
                   size_t errlen)
{
    char why[256];
    qpki_status st = qpki_crl_load_file_err(path, why, sizeof(why), out);
    if (st == QPKI_ERR_NOT_FOUND) {
        snprintf(err, errlen, "%s does not exist: a delta CRL needs a complete CRL first "
                 "(qpki crl gen without --delta)", path);
        return false;
    }
    if (st != QPKI_OK) {
        snprintf(err, errlen, "cannot read the base CRL %s: %s%s%s", path, qpki_strerror(st),
                 why[0] ? ": " : "", why);
        return false;
    }
    /* The base must be this CA's own complete CRL. */
    if ((st = qpki_crl_verify_signature(*out, ca)) != QPKI_OK) {
        snprintf(err, errlen, "%s is not signed by the CA certificate: %s", path,
                 qpki_strerror(st));
        qpki_crl_free(out);
        return false;
    }
    if (qpki_crl_is_delta(*out) || qpki_crl_number(*out, NULL, NULL) != QPKI_OK) {
        snprintf(err, errlen, "%s is not a complete CRL with a cRLNumber", path);
        qpki_crl_free(out);
        return false;
    }
    return true;
}

bool crl_make(const struct crl_make *m, struct crl_made *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    bool ok = false;
    qpki_crl_builder *b = NULL;
    struct list base = {0};
    struct walk w = {0};
    w.this_update = m->this_update;
    qpki_status st = qpki_crl_builder_new(&b);
    if (st == QPKI_OK)
        st = qpki_crl_builder_set_issuer_cert(b, m->ca);
    if (st == QPKI_OK)
        st = qpki_crl_builder_set_times(b, m->this_update, m->this_update + m->next_in);
    if (st != QPKI_OK) {
        snprintf(err, errlen, "cannot start the CRL: %s", qpki_strerror(st));
        goto out;
    }
    if (m->freshest && (st = qpki_crl_builder_set_freshest_crl(b, m->freshest)) != QPKI_OK) {
        snprintf(err, errlen, "freshest CRL '%s' is not a URI", m->freshest);
        goto out;
    }
    if (m->base) {
        const uint8_t *n;
        size_t n_len;
        if ((st = qpki_crl_number(m->base, &n, &n_len)) != QPKI_OK ||
            (st = qpki_crl_builder_set_delta_base(b, n, n_len)) != QPKI_OK ||
            (st = base_entries(m->base, &base)) != QPKI_OK) {
            snprintf(err, errlen, "cannot use the base CRL: %s", qpki_strerror(st));
            goto out;
        }
    } else {
        w.builder = b;
    }
    st = m->src.rows(m->src.self, on_row, &w, err, errlen);
    if (st == QPKI_OK && w.st != QPKI_OK) {
        st = w.st;
        snprintf(err, errlen, "cannot add an entry: %s", qpki_strerror(st));
    }
    if (st != QPKI_OK)
        goto out;
    if (m->base && (st = diff_into(b, &w.rows, &base, m->this_update)) != QPKI_OK) {
        snprintf(err, errlen, "cannot build the delta CRL: %s", qpki_strerror(st));
        goto out;
    }
    if ((st = m->src.next_number(m->src.self, out->number, sizeof(out->number),
                                 &out->number_len, err, errlen)) != QPKI_OK)
        goto out;
    st = qpki_crl_builder_set_number(b, out->number, out->number_len);
    if (st == QPKI_OK)
        st = m->alt_signer
                 ? qpki_crl_builder_sign_hybrid(b, m->signer, m->alt_signer, &out->der, &out->len)
                 : qpki_crl_builder_sign(b, m->signer, &out->der, &out->len);
    if (st != QPKI_OK) {
        snprintf(err, errlen, "cannot sign the CRL: %s", qpki_strerror(st));
        goto out;
    }
    out->entries = qpki_crl_builder_entry_count(b);
    ok = true;
out:
    free(base.v);
    free(w.rows.v);
    qpki_crl_builder_free(&b);
    return ok;
}
