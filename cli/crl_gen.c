/* SPDX-License-Identifier: Apache-2.0 */
/* cli/crl_gen.c - qpki crl gen: a complete or delta CRL v2 from the CA
 * directory's status rows (index.txt), signed by the CA (both keys of a
 * Catalyst CA), numbered from crlnumber and kept as crl/ca.crl. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/ca.h>
#include <qpki/crl.h>
#include <qpki/limits.h>

#include "cli.h"
#include "pki.h"

static const char help[] =
    "Usage: qpki crl gen --ca-dir DIR [--next-update DURATION] [--delta] [--out FILE] [--der]\n"
    "                    [--freshest-crl URL]\n"
    "\n"
    "Write a CRL v2 signed by the CA: every revoked, unexpired certificate of the CA\n"
    "directory's index.txt with its reason, invalidity date and hold instruction, a\n"
    "cRLNumber taken from the crlnumber file, and an authorityKeyIdentifier.  An\n"
    "ML-DSA CA signs with ML-DSA; a Catalyst CA adds the alternative signature.\n"
    "A complete CRL is also kept as DIR/crl/ca.crl (and crl/ca.crl.der): the base of\n"
    "the next delta CRLs.  --delta writes a delta CRL (RFC 5280 §5.2.4) against that\n"
    "base: the entries added or changed since, and removeFromCRL for those that left\n"
    "it (released from hold); it is kept as DIR/crl/ca-delta.crl.\n"
    "\n"
    "Options:\n"
    "  --ca-dir DIR               CA directory (default ./ca)\n"
    "  --next-update DURATION     nextUpdate after now: 30s, 15m, 1h, 7d (default 7d)\n"
    "  --delta                    a delta CRL against DIR/crl/ca.crl\n"
    "  --freshest-crl URL         complete CRL: where its delta CRLs are published\n"
    "                             (freshestCRL; OpenSSL uses deltas only with it)\n"
    "  -o, --out FILE             the CRL (default standard output)\n"
    "  --der                      DER instead of PEM\n"
    "  --passphrase-env VAR       passphrase of an encrypted ca.key, from environment VAR\n"
    "  --passphrase-file F        ... or from the first line of file F\n"
    "  -h, --help                 this help\n";

enum { O_CA_DIR = 256, O_NEXT_UPDATE, O_DELTA, O_DER, O_PASS_ENV, O_PASS_FILE, O_FRESHEST };

/* One revoked serial, as index.txt or a CRL states it. */
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

static int on_row(void *user, const qpki_ca_row *row)
{
    struct walk *w = user;
    if (row->status != 'R')
        return 0;
    struct revoked r = {0};
    r.len = (uint8_t)row->serial_len;
    memcpy(r.serial, row->serial, row->serial_len);
    r.reason = (int8_t)row->reason;
    r.revoked_at = row->revocation_time;
    /* fields a library older than 1.1 does not fill */
    bool v11 = row->struct_size >= offsetof(qpki_ca_row, invalidity_date) + sizeof(qpki_time);
    r.hold = v11 ? (uint8_t)row->hold_instruction : 0;
    r.invalidity = v11 ? row->invalidity_date : 0;
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

/* The entries of the base CRL, sorted.  Prints errors. */
static bool read_base(const char *dir, const qpki_cert *ca, qpki_crl **base, struct list *out)
{
    char path[4096];
    if (!cli_path(path, sizeof(path), "%s/%s", dir, QPKI_CA_CRL_FILE))
        return false;
    qpki_status st = qpki_crl_load_file(path, base);
    if (st == QPKI_ERR_NOT_FOUND) {
        cli_error("%s does not exist: a delta CRL needs a complete CRL first (qpki crl gen "
                  "without --delta)",
                  path);
        return false;
    }
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot read the base CRL %s", path);
        return false;
    }
    /* The base must be this CA's own complete CRL. */
    st = qpki_crl_verify_signature(*base, ca);
    if (st != QPKI_OK) {
        cli_error_st(st, "%s is not signed by the CA certificate", path);
        return false;
    }
    if (qpki_crl_is_delta(*base) || qpki_crl_number(*base, NULL, NULL) != QPKI_OK) {
        cli_error("%s is not a complete CRL with a cRLNumber", path);
        return false;
    }
    size_t cursor = 0;
    qpki_crl_entry e;
    qpki_crl_entry_init(&e);
    while ((st = qpki_crl_next_entry(*base, &cursor, &e)) == QPKI_OK) {
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
        if (!list_push(out, &r)) {
            cli_error("out of memory");
            return false;
        }
    }
    if (st != QPKI_ERR_NOT_FOUND) {
        cli_error_st(st, "cannot read the entries of %s", path);
        return false;
    }
    qsort(out->v, out->n, sizeof(*out->v), serial_cmp_qsort);
    return true;
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

int cmd_crl_gen(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca-dir", required_argument, NULL, O_CA_DIR },
        { "next-update", required_argument, NULL, O_NEXT_UPDATE },
        { "delta", no_argument, NULL, O_DELTA },
        { "out", required_argument, NULL, 'o' },
        { "der", no_argument, NULL, O_DER },
        { "freshest-crl", required_argument, NULL, O_FRESHEST },
        { "passphrase-env", required_argument, NULL, O_PASS_ENV },
        { "passphrase-file", required_argument, NULL, O_PASS_FILE },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *dir = "./ca", *out_path = NULL, *next_text = "7d";
    const char *pass_env = NULL, *pass_file = NULL, *freshest = NULL;
    bool delta = false, der_out = false;
    int c;
    while ((c = cli_getopt(argc, argv, "ho:", opts)) != -1) {
        switch (c) {
        case O_CA_DIR: dir = optarg; break;
        case O_NEXT_UPDATE: next_text = optarg; break;
        case O_DELTA: delta = true; break;
        case 'o': out_path = optarg; break;
        case O_DER: der_out = true; break;
        case O_FRESHEST: freshest = optarg; break;
        case O_PASS_ENV: pass_env = optarg; break;
        case O_PASS_FILE: pass_file = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (freshest && delta)
        return cli_usage_error("--freshest-crl goes on complete CRLs, not with --delta");
    int64_t next_in;
    if (!cli_parse_duration(next_text, &next_in) || next_in <= 0)
        return cli_usage_error("--next-update '%s' is not a positive duration (30s, 15m, 1h, 7d)",
                               next_text);

    struct ca_ctx ca;
    if (!ca_open(dir, pass_env, pass_file, &ca))
        return CLI_USAGE;
    int rc = CLI_USAGE;
    qpki_crl_builder *b = NULL;
    qpki_crl *base = NULL;
    struct list base_entries = {0};
    struct walk w = {0};
    uint8_t *der = NULL;
    size_t der_len = 0;
    qpki_status st;
    qpki_time now = (qpki_time)time(NULL);
    w.this_update = now;

    if (delta && !read_base(dir, ca.cert, &base, &base_entries))
        goto out;
    uint8_t number[QPKI_CRL_NUMBER_MAX];
    size_t number_len;
    st = qpki_crl_builder_new(&b);
    if (st == QPKI_OK)
        st = qpki_crl_builder_set_issuer_cert(b, ca.cert);
    if (st == QPKI_OK)
        st = qpki_crl_builder_set_times(b, now, now + next_in);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot start the CRL");
        goto out;
    }
    if (freshest && (st = qpki_crl_builder_set_freshest_crl(b, freshest)) != QPKI_OK) {
        cli_usage_error("--freshest-crl '%s' is not a URI", freshest);
        goto out;
    }
    if (delta) {
        const uint8_t *base_number;
        size_t base_len;
        if (qpki_crl_number(base, &base_number, &base_len) != QPKI_OK ||
            (st = qpki_crl_builder_set_delta_base(b, base_number, base_len)) != QPKI_OK) {
            cli_error_st(st, "cannot use the base CRL's number");
            goto out;
        }
    } else {
        w.builder = b;
    }
    st = qpki_ca_store_foreach(ca.store, on_row, &w);
    if (st == QPKI_OK)
        st = w.st;
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca.store);
        cli_error("cannot read %s/index.txt: %s", dir, why[0] ? why : qpki_strerror(st));
        goto out;
    }
    if (delta && (st = diff_into(b, &w.rows, &base_entries, now)) != QPKI_OK) {
        cli_error_st(st, "cannot build the delta CRL");
        goto out;
    }
    /* The number is taken last, so that a failure above leaves no gap. */
    st = qpki_ca_store_next_crl_number(ca.store, number, sizeof(number), &number_len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca.store);
        cli_error("cannot take the next CRL number from %s/%s: %s", dir, QPKI_CA_CRLNUMBER_FILE,
                  why[0] ? why : qpki_strerror(st));
        goto out;
    }
    st = qpki_crl_builder_set_number(b, number, number_len);
    if (st == QPKI_OK)
        st = ca.alt_signer ? qpki_crl_builder_sign_hybrid(b, ca.signer, ca.alt_signer, &der,
                                                          &der_len)
                           : qpki_crl_builder_sign(b, ca.signer, &der, &der_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot sign the CRL");
        goto out;
    }
    st = qpki_ca_store_save_crl(ca.store, der, der_len);
    if (st != QPKI_OK) {
        const char *why = qpki_ca_store_last_error(ca.store);
        cli_error("cannot keep the CRL in %s/%s: %s", dir, QPKI_CA_CRL_DIR,
                  why[0] ? why : qpki_strerror(st));
        goto out;
    }
    if (der_out) {
        if (!cli_write_file(out_path, der, der_len, 0644, false))
            goto out;
    } else {
        char *pem = cli_pem("X509 CRL", der, der_len);
        bool ok = pem && cli_write_file(out_path, (const uint8_t *)pem, strlen(pem), 0644, false);
        free(pem);
        if (!ok)
            goto out;
    }
    {
        char hex[2 * QPKI_CRL_NUMBER_MAX + 3], t[64];
        cli_hex_upper(number, number_len, hex);
        cli_format_time(now + next_in, t, sizeof(t));
        /* with the CRL on standard output, the summary goes to standard error */
        FILE *f = out_path && strcmp(out_path, "-") != 0 ? stdout : stderr;
        fprintf(f, "%s CRL number %s: %zu entr%s, next update %s%s\n",
                delta ? "Delta" : "Complete", number_len ? hex : "00",
                qpki_crl_builder_entry_count(b),
                qpki_crl_builder_entry_count(b) == 1 ? "y" : "ies", t,
                ca.alt_signer ? " (Catalyst: two signatures)" : "");
    }
    rc = CLI_OK;
out:
    free(base_entries.v);
    free(w.rows.v);
    qpki_free(der);
    qpki_crl_free(&base);
    qpki_crl_builder_free(&b);
    ca_close(&ca);
    return rc;
}
