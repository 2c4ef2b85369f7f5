/* SPDX-License-Identifier: Apache-2.0 */
/* lib/responder/responder.c - issuer routing, status policy, caching, live signing. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/response.h>

#include "../crypto/crypto.h"
#include "../db/db_internal.h"
#include "../der/oid.h"
#include "../internal.h"
#include "../ocsp/ocsp_internal.h"
#include "cache.h"

#define MAX_KEYS 8
#define MAX_ISSUERS 256
#define HASH_SLOTS 5 /* indexed by qpki_hash_alg */
/* Stack bytes for one request's arena: a one-CertID request and an ECDSA or
 * EdDSA response with a delegated responder certificate need about 2.5 KiB;
 * more (ML-DSA, many CertIDs) goes to heap blocks. */
#define RESPOND_ARENA 4096

/* One signing key of an issuer: immutable, shared by reference. */
struct key {
    atomic_uint refs;
    qpki_signer *signer;
    qpki_signer *alt;         /* Catalyst alternative (ML-DSA) signer, or NULL */
    qpki_cert *cert;          /* delegated responder certificate, NULL = CA-signed */
    qpki_sig_alg alg;
    uint8_t key_hash[20];     /* RFC 6960 §4.2.1 KeyHash of the signing key */
};

/* The key set in use; replaced as a whole by replace_key. */
struct keyset {
    atomic_uint refs;
    uint64_t epoch;
    size_t n;
    struct key *keys[MAX_KEYS];
};

struct qpki_responder_issuer {
    struct qpki_responder *r;
    int index;
    qpki_cert *ca;
    qpki_db *db;
    size_t hash_len[HASH_SLOTS];
    uint8_t name_hash[HASH_SLOTS][CRYPTO_MAX_HASH_LEN];
    uint8_t key_hash[HASH_SLOTS][CRYPTO_MAX_HASH_LEN];
    pthread_mutex_t key_lock;
    struct keyset *keys;
    int64_t validity;
    int64_t backdate;
    qpki_nonce_policy nonce_policy;
    qpki_unknown_policy unknown_policy;
    qpki_expired_policy expired_policy;
    bool include_certs;
    qpki_responder_id_type responder_id;
    atomic_uint_fast64_t config_epoch; /* bumped by every policy setter */
    /* Cache invalidation by changed rows (sync_issuer).  The cache holds
     * responses for the database up to generation synced_done: every cached
     * response whose serial changed in a generation <= synced_done is gone.
     * synced_begin is UINT64_MAX while a sync runs, else synced_done; a
     * response is cached only when synced_begin still equals the generation
     * read before its lookup (checked under the cache shard's lock). */
    pthread_mutex_t sync_lock;
    _Atomic uint64_t synced_begin, synced_done;
    _Atomic uint64_t flush_epoch;      /* bumped when the database cannot tell */
    bool db_builtin;                   /* lookups never answer STALE / BUSY */
    bool presign_unlisted;             /* logged: its rows cannot be listed */
};

struct qpki_responder {
    struct qpki_responder_issuer *issuers[MAX_ISSUERS];
    size_t count;
    qpki_limits limits;
    qpki_clock_fn clock;
    void *clock_user;
    qpki_log_fn log;
    void *log_user;
    bool cache_enabled;
    size_t cache_max;
    _Atomic(struct cache *) cache; /* made on the first request (cache_of) */
    unsigned max_live;
    atomic_uint live;
    atomic_uint_fast64_t requests, by_status[7], hits, misses, live_sigs, sign_failures;
    atomic_uint_fast64_t invalidated, flushes;
    unsigned presign_hashes;       /* bit (1 << qpki_hash_alg) per CertID form; 0 = off */
    struct presign *presign;       /* made by qpki_responder_set_presign */
};

struct presign;
static void presign_note_change(struct qpki_responder *r, const struct qpki_responder_issuer *iss,
                                const uint8_t *serial, size_t len);
static void presign_free(struct presign **pp);

/* The response cache, or NULL before the first request or when disabled. */
static struct cache *cache_of(struct qpki_responder *r)
{
    return atomic_load_explicit(&r->cache, memory_order_acquire);
}

#define QPKI_ANSWER_DETAIL_MAX 160

struct qpki_answer {
    struct blob *blob;        /* signed response (cache entry or live) */
    const uint8_t *der;
    size_t len;
    qpki_ocsp_resp_status resp_status;
    qpki_time this_update, next_update, produced_at;
    bool nonce_echoed;
    bool cache_hit;
    qpki_cert_status cert_status;
    qpki_hash_alg hash_alg;
    int issuer_index;
    qpki_status error;
    char error_detail[QPKI_ANSWER_DETAIL_MAX]; /* names the field of a malformedRequest */
    uint64_t sign_us;
    char serial_hex[2 * QPKI_SERIAL_MAX + 3];
};

/* ---- helpers ----------------------------------------------------------------- */

static void logf_(const struct qpki_responder *r, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void logf_(const struct qpki_responder *r, int level, const char *fmt, ...)
{
    if (!r->log)
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    r->log(r->log_user, level, line);
}

static qpki_time now_of(const struct qpki_responder *r)
{
    return r->clock ? r->clock(r->clock_user) : (qpki_time)time(NULL);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static qpki_status cert_copy(const qpki_cert *c, qpki_cert **out)
{
    const uint8_t *der;
    size_t len;
    qpki_cert_der(c, &der, &len);
    return qpki_cert_parse(der, len, out);
}

static bool cert_same(const qpki_cert *a, const qpki_cert *b)
{
    const uint8_t *da, *db;
    size_t la, lb;
    qpki_cert_der(a, &da, &la);
    qpki_cert_der(b, &db, &lb);
    return la == lb && memcmp(da, db, la) == 0;
}

static void key_unref(struct key **pk)
{
    struct key *k = *pk;
    if (!k)
        return;
    if (atomic_fetch_sub(&k->refs, 1) == 1) {
        qpki_signer_free(&k->signer);
        qpki_signer_free(&k->alt);
        qpki_cert_free(&k->cert);
        qpki_free(k);
    }
    *pk = NULL;
}

static void keyset_unref(struct keyset **ps)
{
    struct keyset *s = *ps;
    if (!s)
        return;
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        for (size_t i = 0; i < s->n; i++)
            key_unref(&s->keys[i]);
        qpki_free(s);
    }
    *ps = NULL;
}

static struct keyset *keyset_get(struct qpki_responder_issuer *iss)
{
    pthread_mutex_lock(&iss->key_lock);
    struct keyset *s = iss->keys;
    if (s)
        atomic_fetch_add(&s->refs, 1);
    pthread_mutex_unlock(&iss->key_lock);
    return s;
}

/* A key for signer + certificate, checking that they belong together. */
static qpki_status key_new(struct qpki_responder_issuer *iss, qpki_signer *signer,
                           qpki_signer *alt, const qpki_cert *cert, struct key **out)
{
    const uint8_t *spki, *want;
    size_t spki_len, want_len;
    QPKI_GUARD(qpki_signer_public_key(signer, &spki, &spki_len));
    const qpki_cert *named = cert ? cert : iss->ca;
    qpki_cert_spki(named, &want, &want_len);
    /* The signer must hold the private key of the certificate named in the
     * response (the responder's, or the CA's for CA-signed responses). */
    QPKI_ENSURE(spki_len == want_len && !memcmp(spki, want, spki_len), QPKI_ERR_KEY_MISMATCH);
    if (alt) {
        /* Catalyst: the alternative key is the certificate's
         * altSubjectPublicKeyInfo (2.5.29.72), so verifiers can find it. */
        const uint8_t *alt_spki, *alt_want;
        size_t alt_len, alt_want_len;
        bool critical;
        QPKI_GUARD(qpki_signer_public_key(alt, &alt_spki, &alt_len));
        QPKI_ENSURE(qpki_cert_find_extension(named, OID_CE_ALT_SPKI.p, OID_CE_ALT_SPKI.n, &critical,
                                             &alt_want, &alt_want_len) == QPKI_OK &&
                        alt_len == alt_want_len && !memcmp(alt_spki, alt_want, alt_len),
                    QPKI_ERR_KEY_MISMATCH);
    }
    struct key *k = qpki_calloc(1, sizeof(*k));
    QPKI_ENSURE(k, QPKI_ERR_NOMEM);
    atomic_init(&k->refs, 1);
    k->alg = qpki_signer_sig_alg(signer);
    qpki_status rc = ocsp_key_hash_of_spki(spki, spki_len, k->key_hash);
    /* The CA's own certificate given as the responder's is a CA-signed response:
     * no certificate in certs (DESIGN §5), named like the CA. */
    if (rc == QPKI_OK && cert && !cert_same(cert, iss->ca))
        rc = cert_copy(cert, &k->cert);
    if (rc != QPKI_OK) {
        key_unref(&k);
        return rc;
    }
    k->signer = qpki_signer_ref(signer);
    k->alt = alt ? qpki_signer_ref(alt) : NULL;
    *out = k;
    return QPKI_OK;
}

/* ---- configuration -------------------------------------------------------------- */

qpki_status qpki_responder_new(qpki_responder **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(qpki_crypto_init());
    struct qpki_responder *r = qpki_calloc(1, sizeof(*r));
    QPKI_ENSURE(r, QPKI_ERR_NOMEM);
    qpki_limits_init(&r->limits);
    r->cache_enabled = true;
    r->cache_max = 1000000;
    r->max_live = 64;
    *out = r;
    return QPKI_OK;
}

void qpki_responder_free(qpki_responder **pr)
{
    if (!pr || !*pr)
        return;
    struct qpki_responder *r = *pr;
    for (size_t i = 0; i < r->count; i++) {
        struct qpki_responder_issuer *iss = r->issuers[i];
        keyset_unref(&iss->keys);
        pthread_mutex_destroy(&iss->key_lock);
        pthread_mutex_destroy(&iss->sync_lock);
        qpki_cert_free(&iss->ca);
        qpki_free(iss);
    }
    struct cache *c = atomic_load(&r->cache);
    cache_free(&c);
    presign_free(&r->presign);
    qpki_free(r);
    *pr = NULL;
}

qpki_status qpki_responder_set_limits(qpki_responder *r, const qpki_limits *limits)
{
    QPKI_ENSURE(r && limits, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(limits->struct_size >= sizeof(qpki_limits), QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(limits->max_certids >= 1, QPKI_ERR_INVALID_ARG);
    r->limits = *limits;
    r->limits.struct_size = sizeof(qpki_limits);
    return QPKI_OK;
}

qpki_status qpki_responder_set_clock(qpki_responder *r, qpki_clock_fn fn, void *user)
{
    QPKI_ENSURE(r, QPKI_ERR_INVALID_ARG);
    r->clock = fn;
    r->clock_user = user;
    return QPKI_OK;
}

qpki_status qpki_responder_set_log(qpki_responder *r, qpki_log_fn fn, void *user)
{
    QPKI_ENSURE(r, QPKI_ERR_INVALID_ARG);
    r->log = fn;
    r->log_user = user;
    return QPKI_OK;
}

qpki_status qpki_responder_set_max_live_signing(qpki_responder *r, unsigned max)
{
    QPKI_ENSURE(r && max >= 1, QPKI_ERR_INVALID_ARG);
    r->max_live = max;
    return QPKI_OK;
}

qpki_status qpki_responder_set_cache(qpki_responder *r, bool enabled, size_t max_entries)
{
    QPKI_ENSURE(r && max_entries >= 1, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(!atomic_load(&r->cache), QPKI_ERR_INVALID_ARG); /* before serving */
    r->cache_enabled = enabled;
    r->cache_max = max_entries;
    return QPKI_OK;
}

qpki_status qpki_responder_add_issuer(qpki_responder *r, const qpki_cert *ca, qpki_db *db,
                                      qpki_signer *signer, const qpki_cert *responder_cert,
                                      qpki_responder_issuer **out)
{
    QPKI_ENSURE(r && ca && db && signer, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(r->count < MAX_ISSUERS, QPKI_ERR_LIMIT);
    if (out)
        *out = NULL;
    struct qpki_responder_issuer *iss = qpki_calloc(1, sizeof(*iss));
    QPKI_ENSURE(iss, QPKI_ERR_NOMEM);
    pthread_mutex_init(&iss->key_lock, NULL);
    pthread_mutex_init(&iss->sync_lock, NULL);
    uint64_t generation = qpki_db_generation(db);
    atomic_init(&iss->synced_begin, generation);
    atomic_init(&iss->synced_done, generation);
    atomic_init(&iss->flush_epoch, 0);
    iss->db_builtin = qpki_db_is_builtin(db);
    iss->r = r;
    iss->index = (int)r->count;
    iss->db = db;
    iss->validity = 3600;
    iss->backdate = 60;
    iss->include_certs = true;
    iss->responder_id = QPKI_RESPONDER_ID_AUTO;
    qpki_status rc = cert_copy(ca, &iss->ca);
    const uint8_t *name, *bits;
    size_t name_len, bits_len;
    if (rc == QPKI_OK) {
        qpki_cert_subject_der(iss->ca, &name, &name_len);
        qpki_cert_public_key_bits(iss->ca, &bits, &bits_len);
        /* Precompute issuerNameHash/issuerKeyHash for every CertID hash we accept
         * (RFC 6960 §4.1.1), so routing a request is a few memcmp. */
        for (int a = QPKI_HASH_SHA1; a <= QPKI_HASH_SHA512 && rc == QPKI_OK; a++) {
            rc = crypto_hash((qpki_hash_alg)a, name, name_len, iss->name_hash[a]);
            if (rc == QPKI_OK)
                rc = crypto_hash((qpki_hash_alg)a, bits, bits_len, iss->key_hash[a]);
            iss->hash_len[a] = crypto_hash_len((qpki_hash_alg)a);
        }
    }
    struct key *k = NULL;
    if (rc == QPKI_OK)
        rc = key_new(iss, signer, NULL, responder_cert, &k);
    if (rc == QPKI_OK) {
        iss->keys = qpki_calloc(1, sizeof(*iss->keys));
        if (!iss->keys)
            rc = QPKI_ERR_NOMEM;
    }
    if (rc != QPKI_OK) {
        key_unref(&k);
        qpki_cert_free(&iss->ca);
        pthread_mutex_destroy(&iss->key_lock);
        pthread_mutex_destroy(&iss->sync_lock);
        qpki_free(iss);
        return rc;
    }
    atomic_init(&iss->keys->refs, 1);
    iss->keys->keys[0] = k;
    iss->keys->n = 1;
    iss->keys->epoch = 1;
    r->issuers[r->count++] = iss;
    if (out)
        *out = iss;
    return QPKI_OK;
}

qpki_status qpki_responder_issuer_add_key(qpki_responder_issuer *iss, qpki_signer *signer,
                                          const qpki_cert *responder_cert)
{
    QPKI_ENSURE(iss && signer, QPKI_ERR_INVALID_ARG);
    struct key *k;
    QPKI_GUARD(key_new(iss, signer, NULL, responder_cert, &k));
    pthread_mutex_lock(&iss->key_lock);
    qpki_status rc = QPKI_OK;
    if (iss->keys->n >= MAX_KEYS)
        rc = QPKI_ERR_LIMIT;
    else
        iss->keys->keys[iss->keys->n++] = k;
    pthread_mutex_unlock(&iss->key_lock);
    if (rc != QPKI_OK)
        key_unref(&k);
    return rc;
}

qpki_status qpki_responder_issuer_replace_key(qpki_responder_issuer *iss, qpki_signer *signer,
                                              const qpki_cert *responder_cert)
{
    return qpki_responder_issuer_replace_key_hybrid(iss, signer, NULL, responder_cert);
}

qpki_status qpki_responder_issuer_replace_key_hybrid(qpki_responder_issuer *iss,
                                                     qpki_signer *signer, qpki_signer *alt,
                                                     const qpki_cert *responder_cert)
{
    QPKI_ENSURE(iss && signer, QPKI_ERR_INVALID_ARG);
    struct key *k;
    QPKI_GUARD(key_new(iss, signer, alt, responder_cert, &k));
    struct keyset *s = qpki_calloc(1, sizeof(*s));
    if (!s) {
        key_unref(&k);
        return QPKI_ERR_NOMEM;
    }
    atomic_init(&s->refs, 1);
    s->keys[0] = k;
    s->n = 1;
    pthread_mutex_lock(&iss->key_lock);
    struct keyset *old = iss->keys;
    s->epoch = old->epoch + 1; /* cached responses of the old key become stale */
    iss->keys = s;
    pthread_mutex_unlock(&iss->key_lock);
    keyset_unref(&old);
    logf_(iss->r, QPKI_LOG_INFO, "issuer %d: signing key replaced", iss->index);
    return QPKI_OK;
}

#define ISSUER_SETTER(name, type, field, check)                                   \
    qpki_status qpki_responder_issuer_set_##name(qpki_responder_issuer *iss, type v) \
    {                                                                             \
        QPKI_ENSURE(iss && (check), QPKI_ERR_INVALID_ARG);                        \
        iss->field = v;                                                           \
        atomic_fetch_add(&iss->config_epoch, 1); /* cached answers are stale */   \
        return QPKI_OK;                                                           \
    }

ISSUER_SETTER(validity, int64_t, validity, v >= 1)
ISSUER_SETTER(backdate, int64_t, backdate, v >= 0)
ISSUER_SETTER(nonce_policy, qpki_nonce_policy, nonce_policy,
              v == QPKI_NONCE_ECHO || v == QPKI_NONCE_IGNORE || v == QPKI_NONCE_REQUIRE)
ISSUER_SETTER(unknown_policy, qpki_unknown_policy, unknown_policy,
              v == QPKI_UNKNOWN_AS_UNKNOWN || v == QPKI_UNKNOWN_AS_UNAUTHORIZED ||
                  v == QPKI_UNKNOWN_AS_REVOKED)
ISSUER_SETTER(expired_policy, qpki_expired_policy, expired_policy,
              v == QPKI_EXPIRED_AS_GOOD || v == QPKI_EXPIRED_AS_UNAUTHORIZED ||
                  v == QPKI_EXPIRED_AS_REVOKED)
ISSUER_SETTER(include_certs, bool, include_certs, true)
ISSUER_SETTER(responder_id, qpki_responder_id_type, responder_id,
              v == QPKI_RESPONDER_ID_BY_KEY || v == QPKI_RESPONDER_ID_BY_NAME ||
                  v == QPKI_RESPONDER_ID_AUTO)

const qpki_cert *qpki_responder_issuer_ca(const qpki_responder_issuer *iss)
{
    return iss ? iss->ca : NULL;
}

size_t qpki_responder_issuer_count(const qpki_responder *r) { return r ? r->count : 0; }

qpki_responder_issuer *qpki_responder_issuer_at(qpki_responder *r, size_t i)
{
    return r && i < r->count ? r->issuers[i] : NULL;
}

qpki_status qpki_responder_refresh(qpki_responder *r)
{
    QPKI_ENSURE(r, QPKI_ERR_INVALID_ARG);
    qpki_status first = QPKI_OK;
    for (size_t i = 0; i < r->count; i++) {
        qpki_status rc = qpki_db_refresh(r->issuers[i]->db);
        if (rc != QPKI_OK) {
            char why[256];
            qpki_db_last_error(r->issuers[i]->db, why, sizeof(why));
            logf_(r, QPKI_LOG_ERROR, "issuer %zu: status database reload failed, keeping the "
                  "previous table: %s", i, why);
            if (first == QPKI_OK)
                first = rc;
        }
    }
    return first;
}

qpki_status qpki_responder_health(qpki_responder *r)
{
    QPKI_ENSURE(r, QPKI_ERR_INVALID_ARG);
    static const uint8_t probe[] = "qpki health probe";
    qpki_status first = QPKI_OK;
    for (size_t i = 0; i < r->count; i++) {
        struct keyset *s = keyset_get(r->issuers[i]);
        for (size_t k = 0; s && k < s->n; k++) {
            qpki_signer *signer = s->keys[k]->signer;
            qpki_status rc = qpki_signer_health(signer);
            if (rc == QPKI_OK) {
                size_t cap = qpki_signer_max_signature_size(signer);
                uint8_t *sig = qpki_malloc(cap ? cap : 1);
                size_t len = cap;
                rc = sig ? qpki_signer_sign(signer, probe, sizeof(probe) - 1, sig, &len)
                         : QPKI_ERR_NOMEM;
                qpki_free(sig);
            }
            if (rc != QPKI_OK) {
                logf_(r, QPKI_LOG_ERROR, "issuer %zu key %zu: health probe failed: %s", i, k,
                      qpki_strerror(rc));
                if (first == QPKI_OK)
                    first = rc;
            }
        }
        keyset_unref(&s);
    }
    return first;
}

/* ---- answering -------------------------------------------------------------------- */

static struct qpki_responder_issuer *route(const struct qpki_responder *r, const qpki_certid *id)
{
    qpki_hash_alg alg = qpki_certid_hash_alg(id);
    if (alg < QPKI_HASH_SHA1 || alg > QPKI_HASH_SHA512)
        return NULL;
    const uint8_t *nh, *kh;
    size_t nlen, klen;
    qpki_certid_name_hash(id, &nh, &nlen);
    qpki_certid_key_hash(id, &kh, &klen);
    for (size_t i = 0; i < r->count; i++) {
        const struct qpki_responder_issuer *iss = r->issuers[i];
        /* RFC 6960 §4.1.1: both the issuer's name hash and key hash identify it;
         * the key hash alone could collide for CAs re-keyed under another name. */
        if (iss->hash_len[alg] == klen && klen == nlen && !memcmp(iss->key_hash[alg], kh, klen) &&
            !memcmp(iss->name_hash[alg], nh, nlen))
            return r->issuers[i];
    }
    return NULL;
}

static qpki_status answer_new(qpki_answer **out)
{
    struct qpki_answer *a = qpki_calloc(1, sizeof(*a));
    QPKI_ENSURE(a, QPKI_ERR_NOMEM);
    a->issuer_index = -1;
    a->cert_status = QPKI_CERT_STATUS_UNKNOWN;
    *out = a;
    return QPKI_OK;
}

static void answer_error(struct qpki_responder *r, qpki_answer *a, qpki_ocsp_resp_status st,
                         qpki_status why)
{
    const uint8_t *der;
    size_t len;
    if (qpki_ocsp_response_error_der(st, &der, &len) != QPKI_OK)
        (void)qpki_ocsp_response_error_der(QPKI_OCSP_RESP_INTERNAL_ERROR, &der, &len);
    blob_unref(&a->blob);
    a->der = der;
    a->len = len;
    a->resp_status = st;
    a->error = why;
    a->this_update = a->next_update = a->produced_at = 0;
    if (r)
        atomic_fetch_add(&r->by_status[st], 1);
}

qpki_status answer_body_sha256(const qpki_answer *a, uint8_t out[32])
{
    QPKI_ENSURE(a && out, QPKI_ERR_INVALID_ARG);
    uint8_t d[CRYPTO_MAX_HASH_LEN];
    struct blob *b = a->blob;
    if (!b || a->der != b->data) {
        QPKI_GUARD(crypto_hash(QPKI_HASH_SHA256, a->der, a->len, d));
        memcpy(out, d, 32);
        return QPKI_OK;
    }
    if (atomic_load_explicit(&b->digest_state, memory_order_acquire) == 2) {
        memcpy(out, b->sha256, 32);
        return QPKI_OK;
    }
    QPKI_GUARD(crypto_hash(QPKI_HASH_SHA256, b->data, b->len, d));
    int expected = 0; /* the first thread to get here publishes it */
    if (atomic_compare_exchange_strong(&b->digest_state, &expected, 1)) {
        memcpy(b->sha256, d, 32);
        atomic_store_explicit(&b->digest_state, 2, memory_order_release);
    }
    memcpy(out, d, 32);
    return QPKI_OK;
}

qpki_status qpki_answer_new_error(qpki_ocsp_resp_status status, qpki_answer **out)
{
    QPKI_ENSURE(out, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(status != QPKI_OCSP_RESP_SUCCESSFUL, QPKI_ERR_INVALID_ARG);
    QPKI_GUARD(answer_new(out));
    answer_error(NULL, *out, status, QPKI_OK);
    return QPKI_OK;
}

/* The status to state for one CertID, after policy. */
struct decided {
    bool unauthorized;
    qpki_cert_status status;
    qpki_time revocation_time;
    qpki_crl_reason reason;
    qpki_time invalidity_date;
    qpki_hold_instruction hold_instruction;
    bool extended_revoke;
};

static qpki_status decide(const struct qpki_responder_issuer *iss, const qpki_certid *id,
                          qpki_time now, struct decided *d)
{
    memset(d, 0, sizeof(*d));
    d->reason = QPKI_REASON_NONE;
    const uint8_t *serial, *content;
    size_t serial_len, content_len;
    qpki_certid_serial(id, &content, &content_len);
    qpki_certid_serial_magnitude(id, &serial, &serial_len);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    /* A negative serialNumber (first contents octet >= 0x80) names no certificate
     * in the table; looking up its octets would match a positive serial. */
    qpki_status rc = (content_len && (content[0] & 0x80))
                         ? QPKI_ERR_NOT_FOUND
                         : qpki_db_lookup(iss->db, serial, serial_len, &e);
    if (rc == QPKI_ERR_NOT_FOUND) {
        switch (iss->unknown_policy) {
        case QPKI_UNKNOWN_AS_UNAUTHORIZED:
            d->unauthorized = true;
            break;
        case QPKI_UNKNOWN_AS_REVOKED:
            /* RFC 6960 §2.2: for a non-issued certificate the responder states
             * "revoked" with revocationReason certificateHold and revocationTime
             * January 1, 1970, and includes the extended revoked definition
             * extension (§4.4.8). */
            d->status = QPKI_CERT_STATUS_REVOKED;
            d->revocation_time = 0;
            d->reason = QPKI_REASON_CERTIFICATE_HOLD;
            d->extended_revoke = true;
            break;
        default:
            d->status = QPKI_CERT_STATUS_UNKNOWN;
            break;
        }
        return QPKI_OK;
    }
    QPKI_GUARD(rc);
    if (e.row_status == 'R') {
        d->status = QPKI_CERT_STATUS_REVOKED;
        d->revocation_time = e.revocation_time;
        d->reason = e.reason;
        d->invalidity_date = e.invalidity_date;
        d->hold_instruction = e.hold_instruction;
        return QPKI_OK;
    }
    bool expired = e.row_status == 'E' || (e.expiry != 0 && e.expiry < now);
    if (expired) {
        switch (iss->expired_policy) {
        case QPKI_EXPIRED_AS_UNAUTHORIZED:
            d->unauthorized = true;
            return QPKI_OK;
        case QPKI_EXPIRED_AS_REVOKED:
            d->status = QPKI_CERT_STATUS_REVOKED;
            d->revocation_time = e.expiry;
            d->reason = QPKI_REASON_CESSATION_OF_OPERATION;
            return QPKI_OK;
        default:
            break;
        }
    }
    d->status = QPKI_CERT_STATUS_GOOD;
    return QPKI_OK;
}

/* Pick the key: RFC 6960 §4.4.7.2 - "the responder SHOULD use one of the
 * algorithms in the preferred list"... in the client's order; else the default. */
static size_t pick_key(const struct keyset *s, const qpki_ocsp_request *req)
{
    size_t n = qpki_ocsp_request_pref_sig_alg_count(req);
    for (size_t p = 0; p < n; p++) {
        qpki_sig_alg want = qpki_ocsp_request_pref_sig_alg(req, p);
        for (size_t k = 0; k < s->n; k++)
            if (want != QPKI_SIG_UNKNOWN && s->keys[k]->alg == want)
                return k;
    }
    return 0;
}

/* The response, signed, as a view into the request's arena. */
static qpki_status build_and_sign(struct qpki_responder_issuer *iss, const struct key *k,
                                  const qpki_ocsp_request *req, const struct decided *d,
                                  const uint8_t *nonce, size_t nonce_len, qpki_time now,
                                  arena *ar, const uint8_t **der, size_t *len, qpki_time *tu,
                                  qpki_time *nu)
{
    qpki_ocsp_response_builder *b;
    QPKI_GUARD(ocsp_response_builder_new_in(ar, &b));
    qpki_status rc;
    const qpki_cert *named = k->cert ? k->cert : iss->ca;
    /* RFC 6960 §4.2.2.3: "The ResponderID information MUST correspond to the
     * certificate that was used to sign the response."  AUTO names a CA that
     * signs itself byName: such a response carries no certificate, and GnuTLS
     * finds its signer in the trust list by name only (docs/CONFORMANCE.md);
     * a delegated responder is byKey, its certificate travels in certs. */
    bool by_name = iss->responder_id == QPKI_RESPONDER_ID_BY_NAME ||
                   (iss->responder_id == QPKI_RESPONDER_ID_AUTO && !k->cert);
    if (by_name) {
        const uint8_t *name;
        size_t name_len;
        qpki_cert_subject_der(named, &name, &name_len);
        QPKI_CHECK(qpki_ocsp_response_builder_set_responder_by_name(b, name, name_len));
    } else {
        ocsp_response_builder_set_key_hash(b, k->key_hash);
    }
    QPKI_CHECK(qpki_ocsp_response_builder_set_produced_at(b, now));
    /* RFC 9919 §4 / DESIGN §5: thisUpdate backdated for slow client clocks,
     * nextUpdate always present. */
    *tu = now - iss->backdate;
    *nu = now + iss->validity;
    bool extended_revoke = false;
    for (size_t i = 0; i < qpki_ocsp_request_count(req); i++) {
        QPKI_CHECK(qpki_ocsp_response_builder_add_single(b, qpki_ocsp_request_certid(req, i),
                                                         d[i].status, d[i].revocation_time,
                                                         d[i].reason, *tu, *nu));
        if (d[i].invalidity_date) {
            /* RFC 5280 §5.3.2 invalidityDate as a singleExtension (RFC 6960 §4.4
             * allows CRL entry extensions there): InvalidityDate ::= GeneralizedTime. */
            der_buf v;
            der_buf_init_in(&v, ar, 64);
            der_put_generalized_time(&v, d[i].invalidity_date);
            const uint8_t *val;
            size_t val_len;
            QPKI_CHECK(der_buf_view(&v, &val, &val_len));
            QPKI_CHECK(qpki_ocsp_response_builder_add_single_extension(
                b, OID_CE_INVALIDITY_DATE.p, OID_CE_INVALIDITY_DATE.n, false, val, val_len));
        }
        if (d[i].status == QPKI_CERT_STATUS_REVOKED &&
            d[i].reason == QPKI_REASON_CERTIFICATE_HOLD &&
            d[i].hold_instruction >= QPKI_HOLD_INSTRUCTION_NONE &&
            d[i].hold_instruction <= QPKI_HOLD_INSTRUCTION_REJECT) {
            /* RFC 5280 §5.3.2 holdInstructionCode as a singleExtension (RFC 6960
             * §4.4): HoldInstructionCode ::= OBJECT IDENTIFIER, id-holdinstruction
             * (1.2.840.10040.2) .1 none, .2 callissuer, .3 reject. */
            uint8_t code[] = {DER_OID, 7, 0x2a, 0x86, 0x48, 0xce, 0x38, 0x02,
                              (uint8_t)d[i].hold_instruction};
            QPKI_CHECK(qpki_ocsp_response_builder_add_single_extension(
                b, OID_CE_HOLD_INSTRUCTION.p, OID_CE_HOLD_INSTRUCTION.n, false, code,
                sizeof(code)));
        }
        extended_revoke |= d[i].extended_revoke;
    }
    if (nonce)
        QPKI_CHECK(qpki_ocsp_response_builder_set_nonce(b, nonce, nonce_len));
    if (extended_revoke) {
        /* RFC 6960 §4.4.8: extnValue is NULL. */
        static const uint8_t null_der[] = {0x05, 0x00};
        QPKI_CHECK(qpki_ocsp_response_builder_add_extension(
            b, OID_OCSP_EXTENDED_REVOKE.p, OID_OCSP_EXTENDED_REVOKE.n, false, null_der,
            sizeof(null_der)));
    }
    if (k->cert && iss->include_certs)
        QPKI_CHECK(qpki_ocsp_response_builder_add_cert(b, k->cert));
    if (k->alt)
        QPKI_CHECK(qpki_ocsp_response_builder_set_alt_signer(b, k->alt));
    rc = ocsp_response_builder_sign_view(b, k->signer, der, len);
out:
    qpki_ocsp_response_builder_free(&b);
    return rc;
}

/* The cache group of a serial: issuer index, then the serial's magnitude (what
 * the status database names in changes_since). */
static size_t cache_group(uint8_t buf[CACHE_GROUP_MAX], const struct qpki_responder_issuer *iss,
                          const uint8_t *serial, size_t len)
{
    if (len + 2 > CACHE_GROUP_MAX)
        len = CACHE_GROUP_MAX - 2; /* longer than any database serial: never dropped by name */
    buf[0] = (uint8_t)(iss->index >> 8);
    buf[1] = (uint8_t)iss->index;
    memcpy(buf + 2, serial, len);
    return len + 2;
}

typedef struct drop_ctx {
    struct qpki_responder *r;
    const struct qpki_responder_issuer *iss;
    uint64_t dropped;
} drop_ctx;

static void drop_serial(void *user, const uint8_t *serial, size_t len)
{
    drop_ctx *d = user;
    uint8_t group[CACHE_GROUP_MAX];
    d->dropped += cache_drop_group(cache_of(d->r), group, cache_group(group, d->iss, serial, len));
    if (d->r->presign)
        presign_note_change(d->r, d->iss, serial, len); /* re-signed first */
}

/* Bring the issuer's cache up to the database's generation: drop the responses
 * of the serials that changed since synced_done (or make them all stale when
 * the database cannot tell).  One thread at a time; the others wait here, so
 * none serves a response of a changed serial meanwhile. */
static void sync_issuer(struct qpki_responder *r, struct qpki_responder_issuer *iss)
{
    pthread_mutex_lock(&iss->sync_lock);
    uint64_t done = atomic_load(&iss->synced_done);
    uint64_t now = qpki_db_generation(iss->db);
    if (now != done) {
        atomic_store(&iss->synced_begin, UINT64_MAX);
        uint64_t upto = done;
        drop_ctx d = {r, iss, 0};
        qpki_status rc = QPKI_ERR_NOT_FOUND;
        if (!cache_of(r)) {
            rc = QPKI_OK; /* nothing cached yet */
            upto = now;
        } else if (now > done) {
            rc = qpki_db_changes_since(iss->db, done, &upto, drop_serial, &d);
        }
        if (rc != QPKI_OK) {
            /* The database cannot say which rows changed (or its generation
             * went backwards): every cached response of the issuer is stale. */
            atomic_fetch_add(&iss->flush_epoch, 1);
            atomic_fetch_add(&r->flushes, 1);
            upto = qpki_db_generation(iss->db);
            logf_(r, QPKI_LOG_INFO, "issuer %d: status database moved to generation %llu; "
                  "it cannot tell which rows changed, every cached response is stale",
                  iss->index, (unsigned long long)upto);
        } else if (d.dropped) {
            atomic_fetch_add(&r->invalidated, d.dropped);
        }
        atomic_store(&iss->synced_begin, upto);
        atomic_store(&iss->synced_done, upto);
    }
    pthread_mutex_unlock(&iss->sync_lock);
}

/* Cache key: issuer index, key index, then the CertID exactly as requested. */
static size_t cache_key(uint8_t *buf, size_t cap, const struct qpki_responder_issuer *iss,
                        size_t key_index, const qpki_certid *id)
{
    const uint8_t *der;
    size_t len;
    qpki_certid_der(id, &der, &len);
    if (len + 3 > cap)
        return 0;
    buf[0] = (uint8_t)(iss->index >> 8);
    buf[1] = (uint8_t)iss->index;
    buf[2] = (uint8_t)key_index;
    memcpy(buf + 3, der, len);
    return len + 3;
}

static void answer_from_blob(qpki_answer *a, struct blob *b)
{
    a->blob = b;
    a->der = b->data;
    a->len = b->len;
    a->resp_status = QPKI_OCSP_RESP_SUCCESSFUL;
    a->this_update = b->this_update;
    a->next_update = b->next_update;
    a->produced_at = b->produced_at;
    a->cert_status = b->cert_status;
}

/* The times and epochs of a response signed at now (live or pre-signed). */
static void blob_stamp(struct blob *b, const struct qpki_responder_issuer *iss, qpki_time now,
                       qpki_time this_update, qpki_time next_update, qpki_cert_status status,
                       uint64_t flush_epoch, uint64_t key_epoch, uint64_t config_epoch)
{
    b->this_update = this_update;
    b->next_update = next_update;
    b->produced_at = now;
    /* DESIGN §8: re-signed before half of the validity has passed. */
    b->refresh_after = now + (iss->validity / 2 > 0 ? iss->validity / 2 : 1);
    b->flush_epoch = flush_epoch;
    b->key_epoch = key_epoch;
    b->config_epoch = config_epoch;
    b->cert_status = status;
}

static qpki_status respond_parsed(struct qpki_responder *r, const qpki_ocsp_request *req,
                                  arena *ar, qpki_answer *a)
{
    qpki_time now = now_of(r);
    size_t n = qpki_ocsp_request_count(req);
    const qpki_certid *first = qpki_ocsp_request_certid(req, 0);
    a->hash_alg = qpki_certid_hash_alg(first);
    (void)qpki_certid_serial_hex(first, a->serial_hex, sizeof(a->serial_hex));

    /* Route: every CertID must belong to the same issuer we serve. */
    struct qpki_responder_issuer *iss = route(r, first);
    for (size_t i = 1; iss && i < n; i++)
        if (route(r, qpki_ocsp_request_certid(req, i)) != iss)
            iss = NULL;
    if (!iss) {
        /* RFC 6960 §2.3: "unauthorized" when the server is not capable of
         * responding authoritatively. */
        answer_error(r, a, QPKI_OCSP_RESP_UNAUTHORIZED, QPKI_ERR_UNKNOWN_ISSUER);
        return QPKI_OK;
    }
    a->issuer_index = iss->index;

    const uint8_t *nonce = NULL;
    size_t nonce_len = 0;
    bool has_nonce = qpki_ocsp_request_nonce(req, &nonce, &nonce_len) == QPKI_OK;
    if (iss->nonce_policy == QPKI_NONCE_REQUIRE && !has_nonce) {
        answer_error(r, a, QPKI_OCSP_RESP_MALFORMED, QPKI_ERR_NONCE_MISSING);
        return QPKI_OK;
    }
    bool echo = has_nonce && iss->nonce_policy != QPKI_NONCE_IGNORE;
    if (!echo)
        nonce = NULL;

    struct keyset *keys = keyset_get(iss);
    if (!keys) {
        answer_error(r, a, QPKI_OCSP_RESP_INTERNAL_ERROR, QPKI_ERR_INTERNAL);
        return QPKI_OK;
    }
    size_t ki = pick_key(keys, req);
    const struct key *k = keys->keys[ki];
    /* The cache is current up to the generation read here before any lookup:
     * a lookup below sees a table at least that new (qpki_db_lookup). */
    if (qpki_db_generation(iss->db) != atomic_load(&iss->synced_done))
        sync_issuer(r, iss);
    uint64_t generation = atomic_load(&iss->synced_done);
    uint64_t flush_epoch = atomic_load(&iss->flush_epoch);
    uint64_t config_epoch = atomic_load(&iss->config_epoch);

    uint8_t key[512], group[CACHE_GROUP_MAX];
    size_t key_len = 0, group_len = 0;
    bool cacheable = r->cache_enabled && n == 1 && !echo;
    if (cacheable) {
        key_len = cache_key(key, sizeof(key), iss, ki, first);
        cacheable = key_len > 0;
        const uint8_t *serial;
        size_t serial_len;
        qpki_certid_serial_magnitude(first, &serial, &serial_len);
        group_len = cache_group(group, iss, serial, serial_len);
    }
    struct cache *cache = cache_of(r);
    if (cacheable && cache) {
        struct blob *b = cache_get(cache, key, key_len, group, group_len);
        if (b && b->flush_epoch == flush_epoch && b->key_epoch == keys->epoch &&
            b->config_epoch == config_epoch && now < b->refresh_after) {
            struct decided probe;
            qpki_status rc = iss->db_builtin ? QPKI_OK : decide(iss, first, now, &probe);
            if (rc == QPKI_OK) {
                answer_from_blob(a, b);
                a->cache_hit = true;
                atomic_fetch_add(&r->hits, 1);
                atomic_fetch_add(&r->by_status[QPKI_OCSP_RESP_SUCCESSFUL], 1);
                keyset_unref(&keys);
                return QPKI_OK;
            }
            /* The database may refuse now (STALE, BUSY: tryLater below), even
             * though a signed response is at hand. */
        }
        blob_unref(&b);
        atomic_fetch_add(&r->misses, 1);
    }

    /* Live signing, bounded: beyond max_live concurrent signatures the answer is
     * tryLater (RFC 6960 §2.3) so cached answers keep flowing. */
    if (atomic_fetch_add(&r->live, 1) >= r->max_live) {
        atomic_fetch_sub(&r->live, 1);
        answer_error(r, a, QPKI_OCSP_RESP_TRY_LATER, QPKI_ERR_BUSY);
        keyset_unref(&keys);
        return QPKI_OK;
    }
    qpki_status rc = QPKI_OK;
    struct decided d[16];
    struct decided *dp = n <= 16 ? d : qpki_calloc(n, sizeof(*dp));
    if (!dp)
        rc = QPKI_ERR_NOMEM;
    for (size_t i = 0; rc == QPKI_OK && i < n; i++) {
        rc = decide(iss, qpki_ocsp_request_certid(req, i), now, &dp[i]);
        if (rc == QPKI_OK && dp[i].unauthorized) {
            answer_error(r, a, QPKI_OCSP_RESP_UNAUTHORIZED, QPKI_ERR_NOT_FOUND);
            goto done;
        }
    }
    if (rc == QPKI_ERR_STALE || rc == QPKI_ERR_BUSY) {
        /* RFC 6960 §2.3: "tryLater: Try again later" -- the status database's
         * table is older than its bound (or it cannot answer now): never an old
         * "good", and nothing is cached. */
        logf_(r, QPKI_LOG_WARNING, "issuer %d: status database cannot answer now: %s",
              iss->index, qpki_strerror(rc));
        answer_error(r, a, QPKI_OCSP_RESP_TRY_LATER, rc);
        rc = QPKI_OK;
        goto done;
    }
    if (rc != QPKI_OK) {
        logf_(r, QPKI_LOG_ERROR, "status lookup failed: %s", qpki_strerror(rc));
        answer_error(r, a, QPKI_OCSP_RESP_INTERNAL_ERROR, rc);
        goto done;
    }
    const uint8_t *der = NULL;
    size_t len = 0;
    qpki_time tu = 0, nu = 0;
    uint64_t t0 = mono_us();
    rc = build_and_sign(iss, k, req, dp, nonce, nonce_len, now, ar, &der, &len, &tu, &nu);
    a->sign_us = mono_us() - t0;
    atomic_fetch_add(&r->live_sigs, 1);
    if (rc != QPKI_OK) {
        atomic_fetch_add(&r->sign_failures, 1);
        /* A signer that cannot sign right now yields tryLater, never a wrong or
         * unsigned successful answer. */
        bool later = rc == QPKI_ERR_SIGNER_UNAVAILABLE || rc == QPKI_ERR_BUSY;
        logf_(r, later ? QPKI_LOG_WARNING : QPKI_LOG_ERROR, "issuer %d: signing failed: %s",
              iss->index, qpki_strerror(rc));
        answer_error(r, a, later ? QPKI_OCSP_RESP_TRY_LATER : QPKI_OCSP_RESP_INTERNAL_ERROR, rc);
        goto done;
    }
    struct blob *b = blob_new(der, len);
    if (!b) {
        answer_error(r, a, QPKI_OCSP_RESP_INTERNAL_ERROR, QPKI_ERR_NOMEM);
        goto done;
    }
    blob_stamp(b, iss, now, tu, nu, dp[0].status, flush_epoch, keys->epoch, config_epoch);
    answer_from_blob(a, b);
    a->nonce_echoed = echo;
    atomic_fetch_add(&r->by_status[QPKI_OCSP_RESP_SUCCESSFUL], 1);
    /* Only while no sync has started since `generation` was read: a response
     * looked up before a change must not outlive the drop of its serial. */
    if (cacheable && cache)
        (void)cache_put(cache, key, key_len, group, group_len, b, &iss->synced_begin,
                        generation);
    rc = QPKI_OK;
done:
    if (dp != d)
        qpki_free(dp);
    atomic_fetch_sub(&r->live, 1);
    keyset_unref(&keys);
    return rc == QPKI_ERR_NOMEM ? rc : QPKI_OK;
}

static pthread_mutex_t cache_init_lock = PTHREAD_MUTEX_INITIALIZER;

/* The cache, made on first use (NULL when disabled or out of memory). */
static struct cache *cache_make(struct qpki_responder *r)
{
    if (r->cache_enabled && !cache_of(r)) {
        pthread_mutex_lock(&cache_init_lock);
        if (!atomic_load_explicit(&r->cache, memory_order_relaxed))
            atomic_store_explicit(&r->cache, cache_new(r->cache_max), memory_order_release);
        pthread_mutex_unlock(&cache_init_lock);
    }
    return cache_of(r);
}

qpki_status qpki_responder_respond(qpki_responder *r, const uint8_t *request, size_t request_len,
                                   qpki_answer **out)
{
    QPKI_ENSURE(r && out && (request || request_len == 0), QPKI_ERR_INVALID_ARG);
    *out = NULL;
    (void)cache_make(r);
    qpki_answer *a;
    QPKI_GUARD(answer_new(&a));
    atomic_fetch_add(&r->requests, 1);
    /* The request, the response builder and the encoding live in one arena,
     * on the stack for the usual sizes; only the signed response (the blob)
     * outlives the call. */
    max_align_t first[RESPOND_ARENA / sizeof(max_align_t)];
    arena ar;
    arena_init(&ar, first, sizeof(first));
    qpki_ocsp_request *req = NULL;
    qpki_detail detail;
    detail_init(&detail, a->error_detail, sizeof(a->error_detail));
    qpki_status rc = ocsp_request_parse_in(request, request_len, &r->limits, &ar, &detail, &req);
    if (rc == QPKI_ERR_NOMEM) {
        answer_error(r, a, QPKI_OCSP_RESP_INTERNAL_ERROR, rc);
    } else if (rc != QPKI_OK) {
        /* RFC 6960 §2.3: "malformedRequest: Illegal confirmation request". */
        answer_error(r, a, QPKI_OCSP_RESP_MALFORMED, rc);
    } else {
        rc = respond_parsed(r, req, &ar, a);
        if (rc != QPKI_OK)
            answer_error(r, a, QPKI_OCSP_RESP_INTERNAL_ERROR, rc);
    }
    qpki_ocsp_request_free(&req);
    arena_release(&ar);
    *out = a;
    return QPKI_OK;
}

void qpki_answer_free(qpki_answer **a)
{
    if (!a || !*a)
        return;
    blob_unref(&(*a)->blob);
    qpki_free(*a);
    *a = NULL;
}

void qpki_answer_bytes(const qpki_answer *a, const uint8_t **der, size_t *len)
{
    *der = a->der;
    *len = a->len;
}

qpki_ocsp_resp_status qpki_answer_resp_status(const qpki_answer *a) { return a->resp_status; }
qpki_time qpki_answer_this_update(const qpki_answer *a) { return a->this_update; }
qpki_time qpki_answer_next_update(const qpki_answer *a) { return a->next_update; }
qpki_time qpki_answer_produced_at(const qpki_answer *a) { return a->produced_at; }
bool qpki_answer_nonce_echoed(const qpki_answer *a) { return a->nonce_echoed; }
bool qpki_answer_cache_hit(const qpki_answer *a) { return a->cache_hit; }
qpki_cert_status qpki_answer_cert_status(const qpki_answer *a) { return a->cert_status; }
const char *qpki_answer_serial_hex(const qpki_answer *a) { return a->serial_hex; }
qpki_hash_alg qpki_answer_hash_alg(const qpki_answer *a) { return a->hash_alg; }
int qpki_answer_issuer_index(const qpki_answer *a) { return a->issuer_index; }
qpki_status qpki_answer_error(const qpki_answer *a) { return a->error; }

const char *qpki_answer_error_detail(const qpki_answer *a)
{
    return a->error == QPKI_OK ? "" : a->error_detail;
}
uint64_t qpki_answer_sign_us(const qpki_answer *a) { return a->sign_us; }

qpki_status qpki_responder_get_stats(qpki_responder *r, qpki_responder_stats *stats)
{
    /* The first version of the struct ended with cache_entries. */
    const size_t v1_size = offsetof(qpki_responder_stats, cache_entries) + sizeof(uint64_t);
    QPKI_ENSURE(r && stats && stats->struct_size >= v1_size, QPKI_ERR_INVALID_ARG);
    size_t size = stats->struct_size < sizeof(*stats) ? stats->struct_size : sizeof(*stats);
    qpki_responder_stats s;
    memset(&s, 0, sizeof(s));
    s.struct_size = (uint32_t)size;
    s.requests = atomic_load(&r->requests);
    for (size_t i = 0; i < 7; i++)
        s.by_resp_status[i] = atomic_load(&r->by_status[i]);
    s.cache_hits = atomic_load(&r->hits);
    s.cache_misses = atomic_load(&r->misses);
    s.live_signatures = atomic_load(&r->live_sigs);
    s.sign_failures = atomic_load(&r->sign_failures);
    s.live_in_flight = atomic_load(&r->live);
    s.cache_entries = cache_count(cache_of(r));
    s.cache_invalidated = atomic_load(&r->invalidated);
    s.cache_flushes = atomic_load(&r->flushes);
    memcpy(stats, &s, size);
    return QPKI_OK;
}

/* ---- pre-signing ------------------------------------------------------------------ *
 *
 * qpki_responder_presign_step signs, ahead of any request, the response to a
 * nonce-less request for every row of every issuer's status table, in the
 * CertID forms set by qpki_responder_set_presign, and stores it in the
 * response cache (in its slab: no allocation per response), where requests
 * find it as they find any cached response.  Work comes in this order:
 *   1. serials whose rows changed: sync_issuer drops their cached responses
 *      and queues them here (drop_serial), so they are re-signed next;
 *   2. a pass over the rows (qpki_db_list_serials, a part at a time),
 *      signing each row that has no current response or whose response has
 *      passed 3/8 of its validity (so it is replaced before half has passed,
 *      DESIGN §8).  A pass starts PASS_INTERVAL after the previous one ended,
 *      at once when an issuer's whole cache went stale (key, settings, a
 *      database that cannot say which rows changed).
 * The cache keeps its bound: a row with no response yet is not pre-signed once
 * the cache holds 7/8 of its capacity (the rest is left for live answers);
 * such rows are answered live and cached like any other answer. */

#define PRESIGN_QUEUE_MAX 65536u
#define PRESIGN_SCAN_SLOTS 256u
#define PRESIGN_CHECKS_MAX 4096u

struct presign_serial {
    uint16_t issuer;
    uint8_t len;
    uint8_t serial[QPKI_SERIAL_MAX];
};

struct presign {
    pthread_mutex_t lock;            /* the queue and the pass */
    struct presign_serial *queue;    /* ring of changed serials */
    size_t q_head, q_n;
    bool q_overflow;                 /* some were not queued: the next pass finds them */
    bool pass_active;
    size_t issuer;                   /* the pass: issuer and where its listing stands */
    qpki_db_cursor cursor;
    qpki_time next_pass;
    uint64_t epochs_seen;            /* sum of the issuers' whole-cache epochs */
    uint64_t pass_rows;
    atomic_uint_fast64_t signed_total, changed, refreshed, passes, skipped_full, failures;
    atomic_uint_fast64_t rows_visited, last_pass_rows;
};

static void presign_free(struct presign **pp)
{
    struct presign *p = *pp;
    if (!p)
        return;
    pthread_mutex_destroy(&p->lock);
    qpki_free(p->queue);
    qpki_free(p);
    *pp = NULL;
}

qpki_status qpki_responder_set_presign(qpki_responder *r, unsigned hash_algs)
{
    QPKI_ENSURE(r, QPKI_ERR_INVALID_ARG);
    const unsigned known = 1u << QPKI_HASH_SHA1 | 1u << QPKI_HASH_SHA256 |
                           1u << QPKI_HASH_SHA384 | 1u << QPKI_HASH_SHA512;
    QPKI_ENSURE((hash_algs & ~known) == 0, QPKI_ERR_INVALID_ARG);
    QPKI_ENSURE(!atomic_load(&r->cache), QPKI_ERR_INVALID_ARG); /* before serving */
    if (!hash_algs) {
        presign_free(&r->presign);
        r->presign_hashes = 0;
        return QPKI_OK;
    }
    if (!r->presign) {
        struct presign *p = qpki_calloc(1, sizeof(*p));
        QPKI_ENSURE(p, QPKI_ERR_NOMEM);
        p->queue = qpki_calloc(PRESIGN_QUEUE_MAX, sizeof(*p->queue));
        if (!p->queue) {
            qpki_free(p);
            return QPKI_ERR_NOMEM;
        }
        pthread_mutex_init(&p->lock, NULL);
        r->presign = p;
    }
    r->presign_hashes = hash_algs;
    return QPKI_OK;
}

/* From sync_issuer (under the issuer's sync_lock): a serial whose row changed. */
static void presign_note_change(struct qpki_responder *r, const struct qpki_responder_issuer *iss,
                                const uint8_t *serial, size_t len)
{
    struct presign *p = r->presign;
    if (len > QPKI_SERIAL_MAX)
        return;
    pthread_mutex_lock(&p->lock);
    if (p->q_n == PRESIGN_QUEUE_MAX) {
        p->q_overflow = true;
    } else {
        struct presign_serial *q = &p->queue[(p->q_head + p->q_n++) % PRESIGN_QUEUE_MAX];
        q->issuer = (uint16_t)iss->index;
        q->len = (uint8_t)len;
        memcpy(q->serial, serial, len);
    }
    pthread_mutex_unlock(&p->lock);
}

/* Seconds between the end of a pass and the start of the next: well inside the
 * 1/8 of the validity between "due" (3/8) and "stale" (1/2). */
static int64_t pass_interval(const struct qpki_responder *r)
{
    int64_t v = INT64_MAX;
    for (size_t i = 0; i < r->count; i++)
        if (r->issuers[i]->validity < v)
            v = r->issuers[i]->validity;
    v /= 16;
    return v < 1 ? 1 : v > 60 ? 60 : v;
}

/* Whole-cache invalidations of every issuer: a change means every pre-signed
 * response of some issuer is stale and a pass is due now. */
static uint64_t whole_cache_epochs(struct qpki_responder *r)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->count; i++) {
        struct qpki_responder_issuer *iss = r->issuers[i];
        struct keyset *ks = keyset_get(iss);
        sum += atomic_load(&iss->flush_epoch) + atomic_load(&iss->config_epoch) +
               (ks ? ks->epoch : 0);
        keyset_unref(&ks);
    }
    return sum;
}

enum presign_result { PRESIGN_SIGNED, PRESIGN_FRESH, PRESIGN_SKIPPED, PRESIGN_FAILED };

/* Pre-sign the response for one serial of iss in one CertID form.  changed:
 * the row changed (sign even when a response is cached). */
static enum presign_result presign_one(struct qpki_responder *r, struct qpki_responder_issuer *iss,
                                       const uint8_t *serial, size_t len, qpki_hash_alg alg,
                                       bool changed)
{
    struct cache *cache = cache_of(r);
    struct presign *p = r->presign;
    qpki_certid *id = NULL;
    uint8_t *req_der = NULL;
    size_t req_len = 0;
    qpki_ocsp_request *req = NULL;
    struct keyset *keys = NULL;
    enum presign_result res = PRESIGN_FAILED;
    /* The request a client without a nonce sends: one CertID, default key. */
    if (qpki_certid_new(alg, iss->ca, serial, len, &id) != QPKI_OK ||
        qpki_ocsp_request_encode((const qpki_certid *const *)&id, 1, NULL, 0, &req_der,
                                 &req_len) != QPKI_OK ||
        qpki_ocsp_request_parse(req_der, req_len, &r->limits, &req) != QPKI_OK ||
        !(keys = keyset_get(iss)))
        goto out;
    const qpki_certid *cid = qpki_ocsp_request_certid(req, 0);
    const struct key *k = keys->keys[0];
    qpki_time now = now_of(r);
    if (qpki_db_generation(iss->db) != atomic_load(&iss->synced_done))
        sync_issuer(r, iss);
    uint64_t generation = atomic_load(&iss->synced_done);
    uint64_t flush_epoch = atomic_load(&iss->flush_epoch);
    uint64_t config_epoch = atomic_load(&iss->config_epoch);
    uint8_t key[512], group[CACHE_GROUP_MAX];
    size_t key_len = cache_key(key, sizeof(key), iss, 0, cid);
    const uint8_t *mag;
    size_t mag_len;
    qpki_certid_serial_magnitude(cid, &mag, &mag_len);
    size_t group_len = cache_group(group, iss, mag, mag_len);
    if (!key_len)
        goto out;
    int64_t margin = iss->validity / 8 > 0 ? iss->validity / 8 : 1;
    struct blob *old = cache_get(cache, key, key_len, group, group_len);
    bool current = old && old->flush_epoch == flush_epoch && old->key_epoch == keys->epoch &&
                   old->config_epoch == config_epoch;
    bool refresh = current && now >= old->refresh_after - margin;
    blob_unref(&old);
    if (current && !refresh && !changed) {
        res = PRESIGN_FRESH;
        goto out;
    }
    /* The cache capacity stays the bound: new rows only while 1/8 of the
     * shard is left for live answers (pre-signing never evicts). */
    if (!current && !cache_slab_room(cache, group, group_len)) {
        atomic_fetch_add(&p->skipped_full, 1);
        res = PRESIGN_SKIPPED;
        goto out;
    }
    struct decided d;
    qpki_status rc = decide(iss, cid, now, &d);
    if (rc == QPKI_ERR_STALE || rc == QPKI_ERR_BUSY) {
        res = PRESIGN_SKIPPED; /* answered tryLater meanwhile; a later pass retries */
        goto out;
    }
    if (rc != QPKI_OK)
        goto out;
    if (d.unauthorized || d.status == QPKI_CERT_STATUS_UNKNOWN || d.extended_revoke) {
        res = PRESIGN_SKIPPED; /* removed meanwhile, or a policy that signs nothing */
        goto out;
    }
    const uint8_t *der = NULL;
    size_t der_len = 0;
    qpki_time tu = 0, nu = 0;
    /* the builder and the encoding in an arena, as for live answers */
    max_align_t first[RESPOND_ARENA / sizeof(max_align_t)];
    arena ar;
    arena_init(&ar, first, sizeof(first));
    struct blob *b = NULL;
    if (build_and_sign(iss, k, req, &d, NULL, 0, now, &ar, &der, &der_len, &tu, &nu) == QPKI_OK)
        b = blob_new(der, der_len);
    arena_release(&ar);
    if (!b)
        goto out;
    blob_stamp(b, iss, now, tu, nu, d.status, flush_epoch, keys->epoch, config_epoch);
    /* As for live answers: only while no sync began since `generation` was read. */
    int stored = cache_put_slab(cache, key, key_len, group, group_len, b, &iss->synced_begin,
                                generation);
    blob_unref(&b);
    if (stored == CACHE_PUT_FULL) {
        atomic_fetch_add(&p->skipped_full, 1);
        res = PRESIGN_SKIPPED;
    } else if (stored == CACHE_PUT_STORED) {
        atomic_fetch_add(&p->signed_total, 1);
        if (changed)
            atomic_fetch_add(&p->changed, 1);
        else if (refresh)
            atomic_fetch_add(&p->refreshed, 1);
        res = PRESIGN_SIGNED;
    } else {
        res = PRESIGN_SKIPPED; /* a change raced: its serial is queued again */
    }
out:
    if (res == PRESIGN_FAILED)
        atomic_fetch_add(&p->failures, 1);
    keyset_unref(&keys);
    qpki_ocsp_request_free(&req);
    qpki_free(req_der);
    qpki_certid_free(&id);
    return res;
}

/* Every configured CertID form of one serial; returns the signatures made. */
static unsigned presign_serial(struct qpki_responder *r, struct qpki_responder_issuer *iss,
                               const uint8_t *serial, size_t len, bool changed)
{
    unsigned n = 0;
    for (int a = QPKI_HASH_SHA1; a <= QPKI_HASH_SHA512; a++)
        if (r->presign_hashes & (1u << a))
            n += presign_one(r, iss, serial, len, (qpki_hash_alg)a, changed) == PRESIGN_SIGNED;
    return n;
}

struct scan_batch {
    size_t n;
    struct presign_serial rows[PRESIGN_SCAN_SLOTS];
};

static void scan_collect(void *user, const uint8_t *serial, size_t len)
{
    struct scan_batch *b = user;
    if (b->n < PRESIGN_SCAN_SLOTS && len <= QPKI_SERIAL_MAX) {
        b->rows[b->n].len = (uint8_t)len;
        memcpy(b->rows[b->n].serial, serial, len);
        b->n++;
    }
}

/* The next rows of the pass (under p->lock); false when no pass is under way. */
static bool pass_next(struct qpki_responder *r, struct presign *p, size_t slots_max,
                      struct scan_batch *batch, size_t *issuer)
{
    batch->n = 0;
    while (p->pass_active && batch->n == 0) {
        if (p->issuer >= r->count) {
            p->pass_active = false;
            atomic_fetch_add(&p->passes, 1);
            atomic_store(&p->last_pass_rows, p->pass_rows);
            p->next_pass = now_of(r) + pass_interval(r);
            logf_(r, QPKI_LOG_DEBUG, "pre-signing: pass over %llu rows done",
                  (unsigned long long)p->pass_rows);
            return false;
        }
        struct qpki_responder_issuer *iss = r->issuers[p->issuer];
        int done = 1;
        qpki_status rc = qpki_db_list_serials(iss->db, &p->cursor, slots_max, scan_collect,
                                              batch, &done);
        if (rc == QPKI_ERR_UNSUPPORTED && !iss->presign_unlisted) {
            /* a backend without list_serials (V1 to V3): its changed rows are
             * still re-signed, the others answered live and cached */
            iss->presign_unlisted = true;
            logf_(r, QPKI_LOG_WARNING,
                  "issuer %d: pre-signing: the status database cannot list its rows "
                  "(no list_serials); only changed rows are pre-signed, the others are "
                  "signed when first asked for", iss->index);
        } else if (rc != QPKI_OK && rc != QPKI_ERR_UNSUPPORTED) {
            logf_(r, QPKI_LOG_WARNING, "issuer %d: pre-signing: listing the rows failed: %s",
                  iss->index, qpki_strerror(rc));
        }
        *issuer = p->issuer;
        if (done) {
            p->issuer++;
            memset(&p->cursor, 0, sizeof(p->cursor));
        }
    }
    p->pass_rows += batch->n;
    atomic_fetch_add(&p->rows_visited, batch->n);
    return batch->n > 0;
}

qpki_status qpki_responder_presign_step(qpki_responder *r, unsigned max_signatures,
                                        unsigned *signatures)
{
    QPKI_ENSURE(r && signatures && max_signatures >= 1, QPKI_ERR_INVALID_ARG);
    *signatures = 0;
    struct presign *p = r->presign;
    QPKI_ENSURE(p && r->cache_enabled, QPKI_ERR_UNSUPPORTED);
    QPKI_ENSURE(cache_make(r), QPKI_ERR_NOMEM);
    /* Learn which rows changed (their cached responses are dropped and their
     * serials queued, drop_serial). */
    for (size_t i = 0; i < r->count; i++)
        if (qpki_db_generation(r->issuers[i]->db) != atomic_load(&r->issuers[i]->synced_done))
            sync_issuer(r, r->issuers[i]);
    unsigned done = 0, checked = 0;
    qpki_status rc = QPKI_OK;
    /* 1. changed rows, first */
    while (done < max_signatures) {
        if (atomic_load(&r->live) > 0) {
            rc = QPKI_ERR_BUSY; /* live signing first */
            goto out;
        }
        struct presign_serial s;
        pthread_mutex_lock(&p->lock);
        bool have = p->q_n > 0;
        if (have) {
            s = p->queue[p->q_head];
            p->q_head = (p->q_head + 1) % PRESIGN_QUEUE_MAX;
            p->q_n--;
        } else if (p->q_overflow) {
            p->q_overflow = false;
            p->next_pass = 0; /* the pass finds what was not queued */
        }
        pthread_mutex_unlock(&p->lock);
        if (!have)
            break;
        if (s.issuer < r->count)
            done += presign_serial(r, r->issuers[s.issuer], s.serial, s.len, true);
    }
    /* 2. the pass */
    uint64_t epochs = whole_cache_epochs(r);
    pthread_mutex_lock(&p->lock);
    if (epochs != p->epochs_seen) {
        p->epochs_seen = epochs;
        p->next_pass = 0;
        if (p->pass_active) { /* start over: everything is due */
            p->issuer = 0;
            memset(&p->cursor, 0, sizeof(p->cursor));
        }
    }
    if (!p->pass_active && now_of(r) >= p->next_pass) {
        p->pass_active = true;
        p->issuer = 0;
        memset(&p->cursor, 0, sizeof(p->cursor));
        p->pass_rows = 0;
    }
    pthread_mutex_unlock(&p->lock);
    struct scan_batch *batch = qpki_malloc(sizeof(*batch));
    QPKI_ENSURE(batch, QPKI_ERR_NOMEM);
    while (done < max_signatures && checked < PRESIGN_CHECKS_MAX) {
        if (atomic_load(&r->live) > 0) {
            rc = QPKI_ERR_BUSY;
            break;
        }
        size_t issuer = 0;
        size_t want = max_signatures - done;
        pthread_mutex_lock(&p->lock);
        bool more = pass_next(r, p, want < PRESIGN_SCAN_SLOTS ? want : PRESIGN_SCAN_SLOTS, batch,
                              &issuer);
        pthread_mutex_unlock(&p->lock);
        if (!more)
            break;
        for (size_t i = 0; i < batch->n; i++)
            done += presign_serial(r, r->issuers[issuer], batch->rows[i].serial,
                                   batch->rows[i].len, false);
        checked += (unsigned)batch->n;
    }
    qpki_free(batch);
out:
    *signatures = done;
    return rc;
}

qpki_status qpki_responder_get_presign_stats(qpki_responder *r, qpki_presign_stats *stats)
{
    QPKI_ENSURE(r && stats && stats->struct_size >= sizeof(uint32_t) + sizeof(uint64_t),
                QPKI_ERR_INVALID_ARG);
    size_t size = stats->struct_size < sizeof(*stats) ? stats->struct_size : sizeof(*stats);
    qpki_presign_stats s;
    memset(&s, 0, sizeof(s));
    s.struct_size = (uint32_t)size;
    struct presign *p = r->presign;
    if (p) {
        s.enabled = 1;
        s.signed_total = atomic_load(&p->signed_total);
        s.changed = atomic_load(&p->changed);
        s.refreshed = atomic_load(&p->refreshed);
        s.passes = atomic_load(&p->passes);
        s.last_pass_rows = atomic_load(&p->last_pass_rows);
        s.rows_visited = atomic_load(&p->rows_visited);
        s.skipped_full = atomic_load(&p->skipped_full);
        s.failures = atomic_load(&p->failures);
        pthread_mutex_lock(&p->lock);
        s.queued = p->q_n;
        pthread_mutex_unlock(&p->lock);
    }
    for (size_t i = 0; i < r->count; i++)
        s.rows += qpki_db_count(r->issuers[i]->db);
    s.slab_bytes = cache_slab_bytes(cache_of(r));
    memcpy(stats, &s, size);
    return QPKI_OK;
}
