/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/responder.h - the responder core: request bytes in, response bytes out.
 *
 * A responder serves one or more issuers.  Each issuer has a CA certificate, a
 * status database and one or more signing keys (a signer plus the delegated
 * responder certificate, or no certificate when the CA key signs itself).  The
 * first key is the default; RFC 6960 §4.4.7 Preferred Signature Algorithms in a
 * request select another.
 *
 * Requests are answered in order: unknown issuer -> unauthorized (unsigned);
 * malformed -> malformedRequest; signer unavailable or overloaded -> tryLater;
 * internal faults -> internalError.  The responder never signs a status it does
 * not know.
 *
 * Signed responses for requests without a nonce are cached per (issuer, CertID)
 * and re-signed when half of their validity has passed, or when the status
 * database changed that serial's row: when the database generation moves, one
 * thread asks qpki_db_changes_since which serials changed and drops only their
 * responses (every CertID form of each); a database that cannot tell (a V1
 * backend, a trimmed history) makes the issuer's whole cache stale, as before.
 * No thread serves a cached response for a changed serial once the new
 * generation is visible.  A status lookup that returns QPKI_ERR_STALE or
 * QPKI_ERR_BUSY is answered tryLater and caches nothing; with a backend other
 * than the library's own, a cache hit asks the database too, so a table past
 * its staleness bound stops cached answers as well.  Requests whose nonce is
 * echoed are signed live, through a bounded number of concurrent live
 * signatures; beyond it the answer is tryLater.
 *
 * Thread safety: qpki_responder_respond may be called from any number of threads
 * at once; configuration calls (add_issuer, setters) must happen before serving,
 * except the ones documented as safe at run time (key replacement, refresh). */
#ifndef QPKI_RESPONDER_H
#define QPKI_RESPONDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/export.h>
#include <qpki/limits.h>
#include <qpki/signer.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qpki_responder qpki_responder;
typedef struct qpki_responder_issuer qpki_responder_issuer;
typedef struct qpki_answer qpki_answer;

/* RFC 9654 nonce handling. */
typedef enum qpki_nonce_policy {
    QPKI_NONCE_ECHO = 0,    /* echo a valid nonce (default); response signed live */
    QPKI_NONCE_IGNORE = 1,  /* never echo; serve the cached response */
    QPKI_NONCE_REQUIRE = 2  /* a request without nonce gets malformedRequest */
} qpki_nonce_policy;

/* Known issuer, serial not in the database. */
typedef enum qpki_unknown_policy {
    QPKI_UNKNOWN_AS_UNKNOWN = 0,      /* certStatus unknown (default) */
    QPKI_UNKNOWN_AS_UNAUTHORIZED = 1, /* unsigned unauthorized */
    QPKI_UNKNOWN_AS_REVOKED = 2       /* RFC 6960 §2.2 "revoked" for non-issued
                                         certificates + Extended Revoke extension */
} qpki_unknown_policy;

/* Expired rows (status E, or past their expiry). */
typedef enum qpki_expired_policy {
    QPKI_EXPIRED_AS_GOOD = 0,         /* default: status as recorded before expiry */
    QPKI_EXPIRED_AS_UNAUTHORIZED = 1,
    QPKI_EXPIRED_AS_REVOKED = 2       /* revoked, reason cessationOfOperation */
} qpki_expired_policy;

/* ResponderID form (RFC 6960 §4.2.1).  AUTO, the default since 1.1, names a CA
 * that signs its own responses byName (clients such as GnuTLS find a CA-signed,
 * certificate-less response's signer in their trust list by name only) and a
 * delegated responder byKey (its certificate travels in certs).  BY_KEY
 * everywhere was the default of 1.0. */
typedef enum qpki_responder_id_type {
    QPKI_RESPONDER_ID_BY_KEY = 0,
    QPKI_RESPONDER_ID_BY_NAME = 1,
    QPKI_RESPONDER_ID_AUTO = 2        /* default */
} qpki_responder_id_type;

/* Log callback: one line of text per event (never contains key material). */
typedef void (*qpki_log_fn)(void *user, int level, const char *message);
enum { QPKI_LOG_ERROR = 0, QPKI_LOG_WARNING = 1, QPKI_LOG_INFO = 2, QPKI_LOG_DEBUG = 3 };
/* Clock override: seconds since the epoch. */
typedef qpki_time (*qpki_clock_fn)(void *user);

QPKI_API qpki_status qpki_responder_new(qpki_responder **out);
/* Frees issuers, their certificates and signer references.  Databases are
 * borrowed and not freed. */
QPKI_API void qpki_responder_free(qpki_responder **r);

QPKI_API qpki_status qpki_responder_set_limits(qpki_responder *r, const qpki_limits *limits);
QPKI_API qpki_status qpki_responder_set_clock(qpki_responder *r, qpki_clock_fn fn, void *user);
QPKI_API qpki_status qpki_responder_set_log(qpki_responder *r, qpki_log_fn fn, void *user);
/* Maximum concurrent live signatures (nonce requests and cache misses);
 * default 64.  Beyond it requests get tryLater. */
QPKI_API qpki_status qpki_responder_set_max_live_signing(qpki_responder *r, unsigned max);
/* Enable or disable the signed-response cache (default enabled) and set its
 * capacity in entries (default 1,000,000). */
QPKI_API qpki_status qpki_responder_set_cache(qpki_responder *r, bool enabled,
                                              size_t max_entries);

/* Add an issuer.  ca is copied.  db is borrowed: keep it alive until the
 * responder is freed.  signer is referenced (qpki_signer_ref); responder_cert is
 * copied, or NULL when the CA key itself signs (the CA certificate itself as
 * responder_cert means the same).  *out (may be NULL) receives a
 * handle owned by the responder for the per-issuer setters.
 * QPKI_ERR_KEY_MISMATCH when the signer's public key is not the one in
 * responder_cert (or the CA's when responder_cert is NULL). */
QPKI_API qpki_status qpki_responder_add_issuer(qpki_responder *r, const qpki_cert *ca,
                                               qpki_db *db, qpki_signer *signer,
                                               const qpki_cert *responder_cert,
                                               qpki_responder_issuer **out);
/* Add another signing key to an issuer (e.g. ML-DSA next to ECDSA), selectable by
 * RFC 6960 §4.4.7 preferences. */
QPKI_API qpki_status qpki_responder_issuer_add_key(qpki_responder_issuer *iss,
                                                   qpki_signer *signer,
                                                   const qpki_cert *responder_cert);
/* Replace every key of the issuer with this one, atomically (safe while serving:
 * requests in flight finish with the old key, later ones use the new one; the
 * cache for the issuer is invalidated). */
QPKI_API qpki_status qpki_responder_issuer_replace_key(qpki_responder_issuer *iss,
                                                       qpki_signer *signer,
                                                       const qpki_cert *responder_cert);

/* The same with a Catalyst alternative signer (ML-DSA): responses then carry the
 * altSignatureAlgorithm/altSignatureValue extensions (docs/CATALYST.md).  alt's
 * public key must be the altSubjectPublicKeyInfo of responder_cert (or of the CA
 * when responder_cert is NULL), else QPKI_ERR_KEY_MISMATCH.  alt may be NULL. */
QPKI_API qpki_status qpki_responder_issuer_replace_key_hybrid(qpki_responder_issuer *iss,
                                                              qpki_signer *signer,
                                                              qpki_signer *alt,
                                                              const qpki_cert *responder_cert);

/* Per-issuer policies (defaults in brackets). */
QPKI_API qpki_status qpki_responder_issuer_set_validity(qpki_responder_issuer *iss,
                                                        int64_t seconds);   /* [3600] */
QPKI_API qpki_status qpki_responder_issuer_set_backdate(qpki_responder_issuer *iss,
                                                        int64_t seconds);   /* [60] */
QPKI_API qpki_status qpki_responder_issuer_set_nonce_policy(qpki_responder_issuer *iss,
                                                            qpki_nonce_policy policy);
QPKI_API qpki_status qpki_responder_issuer_set_unknown_policy(qpki_responder_issuer *iss,
                                                              qpki_unknown_policy policy);
QPKI_API qpki_status qpki_responder_issuer_set_expired_policy(qpki_responder_issuer *iss,
                                                              qpki_expired_policy policy);
/* Include the delegated responder certificate in responses [true]. */
QPKI_API qpki_status qpki_responder_issuer_set_include_certs(qpki_responder_issuer *iss,
                                                             bool include);
QPKI_API qpki_status qpki_responder_issuer_set_responder_id(qpki_responder_issuer *iss,
                                                            qpki_responder_id_type type);
QPKI_API const qpki_cert *qpki_responder_issuer_ca(const qpki_responder_issuer *iss);
QPKI_API size_t qpki_responder_issuer_count(const qpki_responder *r);
QPKI_API qpki_responder_issuer *qpki_responder_issuer_at(qpki_responder *r, size_t i);

/* Ask every issuer's database to reload if its source changed (call about once a
 * second from a maintenance thread).  Returns the first error; the previous
 * tables stay in use and the message goes to the log callback. */
QPKI_API qpki_status qpki_responder_refresh(qpki_responder *r);
/* Sign a probe response through every key; QPKI_OK when all signers work. */
QPKI_API qpki_status qpki_responder_health(qpki_responder *r);

/* Answer one DER OCSPRequest.  Always produces an answer (possibly an unsigned
 * error response) unless the arguments are invalid or memory runs out. */
QPKI_API qpki_status qpki_responder_respond(qpki_responder *r, const uint8_t *request,
                                            size_t request_len, qpki_answer **out);
/* The answer for a request that could not even be read (HTTP layer errors). */
QPKI_API qpki_status qpki_answer_new_error(qpki_ocsp_resp_status status, qpki_answer **out);
QPKI_API void qpki_answer_free(qpki_answer **a);

/* Encoded OCSPResponse (borrowed from the answer). */
QPKI_API void qpki_answer_bytes(const qpki_answer *a, const uint8_t **der, size_t *len);
QPKI_API qpki_ocsp_resp_status qpki_answer_resp_status(const qpki_answer *a);
/* Times of the (first) SingleResponse and producedAt; 0 for error responses. */
QPKI_API qpki_time qpki_answer_this_update(const qpki_answer *a);
QPKI_API qpki_time qpki_answer_next_update(const qpki_answer *a);
QPKI_API qpki_time qpki_answer_produced_at(const qpki_answer *a);
QPKI_API bool qpki_answer_nonce_echoed(const qpki_answer *a);
QPKI_API bool qpki_answer_cache_hit(const qpki_answer *a);
/* For logs: certStatus and serial hex of the first CertID (empty when none),
 * the CertID hash algorithm, the issuer index (-1 when unknown), the library
 * reason for an error answer. */
QPKI_API qpki_cert_status qpki_answer_cert_status(const qpki_answer *a);
QPKI_API const char *qpki_answer_serial_hex(const qpki_answer *a);
QPKI_API qpki_hash_alg qpki_answer_hash_alg(const qpki_answer *a);
QPKI_API int qpki_answer_issuer_index(const qpki_answer *a);
QPKI_API qpki_status qpki_answer_error(const qpki_answer *a);
/* For an answer refused as malformedRequest: one bounded line (under 160 bytes)
 * naming the field and byte offset, as qpki_ocsp_request_parse_err writes it
 * ("tbsRequest: requestExtensions: extensions[1]: duplicate extension
 * 1.3.6.1.5.5.7.48.1.2 (nonce) at byte 97"); "" for other answers.  Never NULL;
 * valid until the answer is freed.  Since QPKI_1.1. */
QPKI_API const char *qpki_answer_error_detail(const qpki_answer *a);
/* Microseconds spent signing for this answer (0 for cache hits). */
QPKI_API uint64_t qpki_answer_sign_us(const qpki_answer *a);

/* Counters for metrics (monotonic since creation).  The library fills as much
 * of the struct as the caller's struct_size covers (at least up to
 * cache_entries, the first version). */
typedef struct qpki_responder_stats {
    uint32_t struct_size;            /* set by the caller: sizeof(qpki_responder_stats) */
    uint64_t requests;
    uint64_t by_resp_status[7];      /* index = OCSPResponseStatus */
    uint64_t cache_hits;
    uint64_t cache_misses;
    uint64_t live_signatures;
    uint64_t sign_failures;
    uint64_t live_in_flight;         /* current */
    uint64_t cache_entries;          /* current */
    /* Since 1.1 (struct_size covers them): */
    uint64_t cache_invalidated;      /* entries dropped because their serial's row changed */
    uint64_t cache_flushes;          /* times an issuer's whole cache went stale because the
                                      * database could not say which rows changed */
} qpki_responder_stats;
QPKI_API qpki_status qpki_responder_get_stats(qpki_responder *r, qpki_responder_stats *stats);

/* ---- pre-signed responses (since 1.1) ----------------------------------------
 *
 * With pre-signing on, the responder signs ahead of time the response to a
 * request without a nonce for every row of every issuer's status table, so such
 * requests are answered from signed bytes even for a certificate nobody asked
 * about before.  The caller supplies the thread: it calls
 * qpki_responder_presign_step in a loop, at low priority (the library starts
 * no thread).  Each step does a bounded amount of work, in this order:
 *   1. it brings every issuer's cache up to its database (as a request does:
 *      the cached responses of changed serials are dropped) and re-signs the
 *      serials whose rows changed, so they are pre-signed again at once;
 *   2. it continues a pass over the rows, signing each row whose response is
 *      missing or has passed 3/8 of its validity -- replaced before half of
 *      the validity has passed, when requests stop using it.  A pass starts
 *      min(60 s, validity / 16) after the previous one ended, and at once
 *      when an issuer's responses all went stale (key replaced, a setting
 *      changed, a database that cannot say which rows changed).
 * Responses are signed with the issuer's default (first) key, for a request of
 * one CertID in each hash form selected (CertID hash parameters NULL, as
 * OpenSSL, NSS and Go send them; a request in another form is answered live
 * and cached).  They are stored in the response cache, in large blocks shared
 * by many responses (no allocation per response).  The cache capacity
 * (qpki_responder_set_cache) stays the bound: a row that has no response yet is
 * pre-signed only while the cache holds less than 7/8 of its capacity (and the
 * shard it falls in is not full), and pre-signing never evicts;
 * past that, rows are answered live and cached (evicting the oldest entries of
 * their shard) like without pre-signing.  The rows come from
 * qpki_db_list_serials: the library's backends and the PostgreSQL plugin list
 * them; a backend without list_serials (QPKI_DB_ABI_V1 to V3) gets its changed
 * rows pre-signed only, the others answered live (a warning is logged once per
 * issuer).  Rows the database does not know, STALE or
 * BUSY answers and policies that sign nothing (unauthorized) are not
 * pre-signed. */

/* Pre-sign for the CertID hash algorithms in hash_algs, a set of bits
 * (1u << QPKI_HASH_SHA1 | 1u << QPKI_HASH_SHA256 ...); 0 (the default) turns
 * pre-signing off.  Before serving, like qpki_responder_set_cache. */
QPKI_API qpki_status qpki_responder_set_presign(qpki_responder *r, unsigned hash_algs);
/* Do at most max_signatures (>= 1) pre-signatures of work and return; the
 * number made goes to *signatures.  QPKI_OK with 0 signatures: nothing is due
 * now (call again after a short sleep, e.g. 50 ms, to notice changed rows
 * quickly).  QPKI_ERR_BUSY: live signatures are in flight; the step stopped
 * so as not to compete with them (back off briefly).  QPKI_ERR_UNSUPPORTED
 * when pre-signing or the cache is off.  Safe from any number of threads at
 * once and concurrently with qpki_responder_respond and the database's
 * refresh. */
QPKI_API qpki_status qpki_responder_presign_step(qpki_responder *r, unsigned max_signatures,
                                                 unsigned *signatures);

/* Pre-signing counters (monotonic unless said).  The library fills as much of
 * the struct as struct_size covers. */
typedef struct qpki_presign_stats {
    uint32_t struct_size;       /* set by the caller: sizeof(qpki_presign_stats) */
    uint32_t enabled;           /* 1 when pre-signing is on */
    uint64_t signed_total;      /* pre-signed responses stored */
    uint64_t changed;           /* of which re-signed because their row changed */
    uint64_t refreshed;         /* of which replacing one past 3/8 of its validity */
    uint64_t passes;            /* passes over every issuer's rows completed */
    uint64_t last_pass_rows;    /* rows the last completed pass visited */
    uint64_t rows_visited;      /* rows visited by all passes */
    uint64_t skipped_full;      /* rows not pre-signed: the cache was at 7/8 of its bound */
    uint64_t failures;          /* lookups or signatures that failed */
    uint64_t queued;            /* current: changed serials waiting to be re-signed */
    uint64_t rows;              /* current: rows of every issuer's database */
    uint64_t slab_bytes;        /* current: memory of the pre-signed responses' blocks */
} qpki_presign_stats;
QPKI_API qpki_status qpki_responder_get_presign_stats(qpki_responder *r,
                                                      qpki_presign_stats *stats);

#ifdef __cplusplus
}
#endif
#endif
