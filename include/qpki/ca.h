/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/ca.h - the CA directory store: the files a CA keeps next to its key.
 *
 * Layout (the one `qpki ca init` writes; a plain `openssl ca` directory works
 * too):
 *
 *   <dir>/ca.crt  ca.key (0600)  ca.meta.json      written by the caller
 *   <dir>/index.txt                                issued and revoked certificates
 *   <dir>/index.txt.attr                           "unique_subject = no" (openssl ca)
 *   <dir>/serial                                   next serial number, hex
 *   <dir>/certs/<SERIAL>.pem                       every issued certificate
 *   <dir>/index.txt.lock                           lock file (flock), never holds data
 *   <dir>/crlnumber                                next CRL number, hex (QPKI, openssl ca)
 *   <dir>/crl/ca.crl  crl/ca.crl.der               the last complete CRL (PEM, DER)
 *   <dir>/crl/ca-delta.crl  crl/ca-delta.crl.der   the last delta CRL
 *
 * index.txt is OpenSSL's format: one row per certificate, six tab-separated
 * fields "status expiry revocation serial filename subject".  This module writes
 * status V or R; dates as UTCTime YYMMDDHHMMSSZ for 1950-2049 and
 * GeneralizedTime YYYYMMDDHHMMSSZ otherwise (RFC 5280 §4.1.2.5, the text of the
 * certificate's own time); the serial in upper-case hex with an even number of
 * digits; revocation "time" or "time,reason" with OpenSSL's reason spelling
 * (keyCompromise, CACompromise, ..., and RFC 5280 camelCase for
 * privilegeWithdrawn and aACompromise, which OpenSSL has no name for).  Rows are
 * read by the rules of qpki_db_open_index (qpki/db.h), with the same code as the
 * status database, so both accept and refuse the same lines.
 *
 * Every change (a new row, a revocation, the next serial) happens under an
 * exclusive flock(2) on index.txt.lock and replaces the file atomically: the new
 * contents go to a temporary file in the same directory, which is fsync'ed and
 * renamed over the old one, and the directory is fsync'ed.  Readers (a
 * responder watching index.txt) therefore see the old file or the new one, never
 * a partial one, and two processes issuing at the same time never lose a row.
 *
 * Thread safety: a qpki_ca_store handle belongs to one thread; several handles
 * (in one or several processes) on the same directory may be used at once. */
#ifndef QPKI_CA_H
#define QPKI_CA_H

#include <stddef.h>
#include <stdint.h>
#include <qpki/cert.h>
#include <qpki/db.h>
#include <qpki/export.h>
#include <qpki/status.h>
#include <qpki/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define QPKI_CA_INDEX_FILE "index.txt"
#define QPKI_CA_INDEX_ATTR_FILE "index.txt.attr"
#define QPKI_CA_SERIAL_FILE "serial"
#define QPKI_CA_LOCK_FILE "index.txt.lock"
#define QPKI_CA_CERTS_DIR "certs"
#define QPKI_CA_CERT_FILE "ca.crt"
#define QPKI_CA_KEY_FILE "ca.key"
#define QPKI_CA_META_FILE "ca.meta.json"
#define QPKI_CA_CRLNUMBER_FILE "crlnumber"
#define QPKI_CA_CRL_DIR "crl"
#define QPKI_CA_CRL_FILE "crl/ca.crl"
#define QPKI_CA_CRL_DER_FILE "crl/ca.crl.der"
#define QPKI_CA_DELTA_CRL_FILE "crl/ca-delta.crl"
#define QPKI_CA_DELTA_CRL_DER_FILE "crl/ca-delta.crl.der"

typedef struct qpki_ca_store qpki_ca_store;

/* Create the store files in dir (the directory is created, mode 0755, when
 * missing): an empty index.txt, index.txt.attr, serial holding first_serial (an
 * unsigned big-endian magnitude, 1..QPKI_SERIAL_MAX octets, not zero) and
 * certs/.  QPKI_ERR_EXISTS, with nothing changed, when dir already holds
 * index.txt, serial, ca.crt or ca.key: an existing CA is never overwritten. */
QPKI_API qpki_status qpki_ca_store_create(const char *dir, const uint8_t *first_serial,
                                          size_t len);

/* Open an existing store: dir must contain index.txt (QPKI_ERR_NOT_FOUND). */
QPKI_API qpki_status qpki_ca_store_open(const char *dir, qpki_ca_store **out);
QPKI_API void qpki_ca_store_free(qpki_ca_store **store);
/* The directory given to open. */
QPKI_API const char *qpki_ca_store_dir(const qpki_ca_store *store);
/* One line describing the last failure ("index.txt:7: bad serial"), or "". */
QPKI_API const char *qpki_ca_store_last_error(const qpki_ca_store *store);

/* Take the next serial number: the value in the serial file, which is then
 * replaced by value + 1 (as `openssl ca` does).  A value already present in
 * index.txt is skipped.  Writes the magnitude (no leading zero octets) to
 * serial[0..*len).  QPKI_ERR_NOT_FOUND when the directory has no serial file,
 * QPKI_ERR_PARSE when it does not hold hex, QPKI_ERR_BUFFER_TOO_SMALL when cap
 * is too small. */
QPKI_API qpki_status qpki_ca_store_next_serial(qpki_ca_store *store, uint8_t *serial,
                                               size_t cap, size_t *len);

/* Take the next CRL number: the value in crlnumber (hex, as QPKI and `openssl
 * ca` write it; 01 when the file does not exist yet, as QPKI starts), which is
 * then replaced by value + 1, under the lock.  RFC 5280 §5.2.3: a
 * "monotonically increasing sequence number"; complete and delta CRLs share it
 * (§5.2.4).  Writes the magnitude (no leading zero octets).  QPKI_ERR_PARSE
 * when the file does not hold hex, QPKI_ERR_LIMIT when the next number would
 * need more than 20 octets, QPKI_ERR_BUFFER_TOO_SMALL when cap is too small.
 * Since QPKI_1.1. */
QPKI_API qpki_status qpki_ca_store_next_crl_number(qpki_ca_store *store, uint8_t *number,
                                                   size_t cap, size_t *len);

/* Keep a CRL the CA issued: a complete CRL as crl/ca.crl (PEM) and
 * crl/ca.crl.der (the base later delta CRLs are made against), a delta CRL as
 * crl/ca-delta.crl and crl/ca-delta.crl.der; each replaced atomically (mode
 * 0644) under the lock, crl/ created when missing.  QPKI_ERR_DECODE (and the
 * other parse errors) when der is not a CRL.  Since QPKI_1.1. */
QPKI_API qpki_status qpki_ca_store_save_crl(qpki_ca_store *store, const uint8_t *der,
                                            size_t len);

/* Append a V row.  serial: unsigned magnitude (leading zero octets are
 * removed); filename: the file field (NULL writes "unknown"); subject: the
 * subject in OpenSSL's one-line form ("/C=FR/O=Acme/CN=x").  Neither text may
 * contain a tab, CR or LF (QPKI_ERR_INVALID_ARG).  QPKI_ERR_EXISTS when the
 * serial is already in the index. */
QPKI_API qpki_status qpki_ca_store_add_row(qpki_ca_store *store, const uint8_t *serial,
                                           size_t len, qpki_time expiry, const char *filename,
                                           const char *subject);

/* Record an issued certificate: write certs/<SERIAL>.pem (never replacing an
 * existing file) and append its V row (expiry = notAfter, filename =
 * "certs/<SERIAL>.pem", subject in one-line form), both under the lock.
 * QPKI_ERR_EXISTS when the serial is already in the index or its file exists;
 * on any failure neither file is changed. */
QPKI_API qpki_status qpki_ca_store_add_cert(qpki_ca_store *store, const qpki_cert *cert);

/* The certificate's subject as the subject field of an index row writes it:
 * OpenSSL's one-line form, most significant attribute first ("/C=FR/O=Acme/CN=x";
 * "/" for an empty subject).  QPKI_ERR_BUFFER_TOO_SMALL when size is short.
 * (since 1.1) */
QPKI_API qpki_status qpki_ca_subject_oneline(const qpki_cert *cert, char *buf, size_t size);

/* Turn the V (or E) row of serial into an R row with revocation_time and reason
 * (QPKI_REASON_NONE writes the time alone).  QPKI_ERR_NOT_FOUND when the serial
 * is not in the index, QPKI_ERR_EXISTS when the row is already revoked,
 * QPKI_ERR_INVALID_ARG for a reason value RFC 5280 does not assign.  Other rows
 * are kept byte for byte. */
QPKI_API qpki_status qpki_ca_store_revoke(qpki_ca_store *store, const uint8_t *serial,
                                          size_t len, qpki_time revocation_time,
                                          qpki_crl_reason reason);

/* One index row as read by qpki_ca_store_foreach.  Pointers are valid during
 * the callback only.  Fields are only ever appended; struct_size is the size the
 * library filled in. */
typedef struct qpki_ca_row {
    uint32_t struct_size;
    char status;                  /* 'V', 'R' or 'E' */
    qpki_time expiry;
    qpki_time revocation_time;    /* R rows; 0 otherwise */
    qpki_crl_reason reason;       /* R rows with a reason; QPKI_REASON_NONE otherwise */
    const char *serial_hex;       /* the serial field as written */
    const uint8_t *serial;        /* its magnitude (no leading zero octets) */
    size_t serial_len;
    const char *revocation;       /* the revocation field as written ("" when empty) */
    const char *filename;
    const char *subject;
    size_t line;                  /* 1-based line number */
    /* since 1.1 (present when struct_size covers them) */
    qpki_hold_instruction hold_instruction; /* "holdInstruction,<instruction>"; else ABSENT */
    qpki_time invalidity_date;    /* "keyTime,<time>" / "CAkeyTime,<time>"; else 0 */
} qpki_ca_row;

/* Callback: return 0 to continue, anything else to stop (foreach then returns
 * QPKI_OK). */
typedef int (*qpki_ca_row_fn)(void *user, const qpki_ca_row *row);

/* Call fn for every row of index.txt, in file order (empty lines and lines
 * starting with '#' are skipped).  A malformed row stops the walk with
 * QPKI_ERR_PARSE and a message naming its line (qpki_ca_store_last_error). */
QPKI_API qpki_status qpki_ca_store_foreach(qpki_ca_store *store, qpki_ca_row_fn fn, void *user);

#ifdef __cplusplus
}
#endif
#endif
