/* SPDX-License-Identifier: Apache-2.0 */
/* tests/unit/testutil.h - helpers shared by the unit tests (files, hex, JSON). */
#ifndef QPKI_TESTUTIL_H
#define QPKI_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <qpki/types.h>

/* Path under $QPKI_VECTORS_DIR (tests/vectors) or $QPKI_TEST_DATA (tests/data);
 * returns a static buffer overwritten by the next call. */
const char *tu_vector_path(const char *rel);
const char *tu_data_path(const char *rel);

/* Whole file (NUL-terminated for convenience); NULL on error. free() it. */
uint8_t *tu_read_file(const char *path, size_t *len);
/* Gunzip a whole .gz file; NULL on error. free() it. */
uint8_t *tu_read_gz(const char *path, size_t *len);

/* Hex string -> malloc'd bytes (empty string gives a 1-byte allocation, *len 0). */
uint8_t *tu_hex(const char *hex, size_t *len);
/* cmocka assertion: got[0..n) equals the bytes of want_hex. */
void assert_hex_equal(const uint8_t *got, size_t n, const char *want_hex);

/* Run a shell command and capture stdout (NUL-terminated, malloc'd); *status gets
 * the exit status.  For tests that call an independent implementation. */
char *tu_run(const char *cmd, int *status);

/* A delegated OCSP responder certificate for the key of `signer`, issued by ca
 * (signed with ca_signer), carrying an altSubjectPublicKeyInfo (2.5.29.72) with
 * alt_spki when it is non-NULL (Catalyst).  Returns NULL on failure. */
struct qpki_cert;
struct qpki_signer;
struct qpki_cert *tu_responder_cert(const struct qpki_cert *ca, struct qpki_signer *ca_signer,
                                    struct qpki_signer *signer, const uint8_t *alt_spki,
                                    size_t alt_spki_len);

/* A software signer for a freshly generated key of alg (cmocka assertions). */
struct qpki_signer *tu_generated_signer(qpki_key_alg alg);
/* A self-signed CA certificate (subject cn, keyCertSign and cRLSign) of the key
 * of `classic`, with alt as its Catalyst alternative key when non-NULL (both
 * signatures then); cmocka assertions. */
struct qpki_cert *tu_self_signed_ca(struct qpki_signer *classic, struct qpki_signer *alt,
                                    const char *cn);

/* A clock for qpki_*_set_clock: the qpki_time that user points to. */
qpki_time tu_clock(void *user);

/* tests/data/ocsp: the CA certificate, its delegated responder's certificate
 * and key (ECDSA P-256).  0, or -1 when a file does not load (for setup). */
struct qpki_db;
struct qpki_responder;
int tu_load_ocsp_fixture(struct qpki_cert **ca, struct qpki_cert **responder_cert,
                         struct qpki_signer **responder_key);
/* A responder on tu_clock(now) for ca, answering from db with responder_cert
 * and signer (cmocka assertions). */
struct qpki_responder *tu_responder(const struct qpki_cert *ca, struct qpki_db *db,
                                    struct qpki_signer *signer,
                                    const struct qpki_cert *responder_cert, qpki_time *now);

/* Minimal JSON DOM for reading test vectors. */
typedef struct json json;
json *json_parse(const char *text, size_t len);      /* NULL on syntax error */
json *json_load_gz(const char *path);                 /* gunzip + parse */
void json_free(json *j);
const json *json_get(const json *obj, const char *key); /* NULL if absent/not object */
size_t json_len(const json *arr);                     /* array length, 0 otherwise */
const json *json_at(const json *arr, size_t i);
const char *json_str(const json *j);                  /* NULL unless a string */
long long json_int(const json *j, long long dflt);    /* number, or dflt */
int json_bool(const json *j, int dflt);               /* true/false, or dflt */
int json_is_null(const json *j);
/* Hex string member -> malloc'd bytes; NULL if absent or not hex. */
uint8_t *json_hex(const json *obj, const char *key, size_t *len);

#endif
