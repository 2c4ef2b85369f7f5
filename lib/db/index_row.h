/* SPDX-License-Identifier: Apache-2.0 */
/* lib/db/index_row.h - one row of index.txt (`openssl ca` and QPKI), read and
 * written (never installed).
 *
 * The only code in lib/ that knows the row format; the rules are stated in
 * qpki/db.h (qpki_db_open_index).  The status database (index_txt.c) and the CA
 * store (lib/ca/store.c) both go through it, so what one writes the other reads,
 * and a row one of them refuses the other refuses too.
 *
 * Written fields: status V or R; times as the certificate's own ASN.1 time text
 * (index_time_format); the serial with qpki_serial_hex (internal.h); the
 * revocation field with index_revocation_format. */
#ifndef QPKI_INDEX_ROW_H
#define QPKI_INDEX_ROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/db.h>
#include <qpki/limits.h>
#include <qpki/types.h>

#include "internal.h"

#define INDEX_ROW_FIELDS 6

/* The fields in file order. */
enum index_field {
    INDEX_FIELD_STATUS,
    INDEX_FIELD_EXPIRY,
    INDEX_FIELD_REVOCATION,
    INDEX_FIELD_SERIAL,
    INDEX_FIELD_FILENAME,
    INDEX_FIELD_SUBJECT
};

/* Text inside the caller's line (not NUL-terminated). */
typedef struct index_span {
    const char *p;
    size_t n;
} index_span;

/* The values of one row.  filename and subject are not interpreted. */
typedef struct index_row {
    char status;                /* 'V', 'R' or 'E' */
    qpki_time expiry;
    qpki_time revocation_time;  /* R rows; 0 otherwise */
    qpki_crl_reason reason;     /* R rows that name one; QPKI_REASON_NONE otherwise */
    qpki_hold_instruction hold; /* "holdInstruction,<instruction>"; ABSENT otherwise */
    bool has_invalidity;        /* "keyTime,<time>" or "CAkeyTime,<time>" */
    qpki_time invalidity_date;  /* when has_invalidity: RFC 5280 §5.3.2 invalidityDate */
    size_t serial_len;
    uint8_t serial[QPKI_SERIAL_MAX]; /* magnitude, no leading zero octets */
} index_row;

/* Why a row was refused. */
typedef enum index_row_error {
    INDEX_ROW_FIELD_COUNT,         /* not six tab-separated fields */
    INDEX_ROW_STATUS,              /* not V, R or E */
    INDEX_ROW_EXPIRY,              /* bad expiry time */
    INDEX_ROW_REVOCATION_MISSING,  /* R row with an empty revocation field */
    INDEX_ROW_NOT_REVOKED,         /* V or E row with a revocation field */
    INDEX_ROW_REVOCATION_TIME,     /* bad revocation time */
    INDEX_ROW_REASON,              /* unknown reason name */
    INDEX_ROW_HOLD_MISSING,        /* "holdInstruction" without its instruction */
    INDEX_ROW_HOLD_UNKNOWN,        /* an instruction RFC 5280 does not define */
    INDEX_ROW_KEY_TIME_MISSING,    /* "keyTime" without a time */
    INDEX_ROW_CA_KEY_TIME_MISSING, /* "CAkeyTime" without a time */
    INDEX_ROW_COMPROMISE_TIME,     /* bad keyTime / CAkeyTime time */
    INDEX_ROW_REASON_EXTRA,        /* text after a reason that takes none */
    INDEX_ROW_SERIAL_MISSING,
    INDEX_ROW_SERIAL_NEGATIVE,
    INDEX_ROW_SERIAL_BAD,
    INDEX_ROW_SERIAL_TOO_LONG      /* more than QPKI_SERIAL_MAX octets */
} index_row_error;

typedef struct index_row_fault {
    index_row_error error;
    index_span text; /* the offending text (empty for FIELD_COUNT and the MISSING kinds) */
    size_t fields;   /* INDEX_ROW_FIELD_COUNT: how many fields the line has */
    char status;     /* INDEX_ROW_NOT_REVOKED: the row's status */
} index_row_fault;

/* Remove one trailing CR from *len; false when the line holds no row: empty, or
 * a comment ('#' first, as OpenSSL's TXT_DB_read skips them). */
bool index_line_has_row(const char *line, size_t *len);

/* Read one row: line[0..len) after index_line_has_row, without its line break.
 * fields receives the six fields as written (a backslash before a tab keeps the
 * tab inside its field, as TXT_DB_read does), *row their values.  false with
 * *fault on a malformed row (fields and *row then hold partial results). */
bool index_row_parse(const char *line, size_t len, index_span fields[INDEX_ROW_FIELDS],
                     index_row *row, index_row_fault *fault);

/* The text of a fault (always NUL-terminated), e.g. "bad revocation date
 * '2401151000Z'": the "<reason>" in "<path>:<line>: <reason>". */
void index_row_fault_text(const index_row_fault *fault, char *buf, size_t size);

/* A time field: the RFC 5280 §4.1.2.5 text (UTCTime YYMMDDHHMMSSZ for 1950-2049,
 * else GeneralizedTime YYYYMMDDHHMMSSZ), which is what `openssl ca` copies from
 * the certificate.  Returns the length, 0 when the year is outside 0000-9999. */
size_t index_time_format(qpki_time t, char out[QPKI_TIME_TEXT_MAX]);

/* The reason as apps/ca.c spells it (its crl_reasons[]: "CACompromise"), RFC
 * 5280 camelCase for the two it cannot name (privilegeWithdrawn, aACompromise);
 * NULL for QPKI_REASON_NONE and values RFC 5280 does not assign. */
const char *index_reason_name(qpki_crl_reason reason);

/* Longest revocation field index_revocation_format writes, with its NUL. */
#define INDEX_REVOCATION_MAX 64

/* The revocation field of an R row, as apps/ca.c make_revocation_str() writes
 * it: "time" (reason NONE), "time,reason", "time,holdInstruction,<instruction>"
 * (row->hold set; reason must be certificateHold) or "time,keyTime,<time>" /
 * "time,CAkeyTime,<time>" (row->has_invalidity; reason keyCompromise /
 * cACompromise; the time as GeneralizedTime, which `openssl ca
 * -crl_compromise` requires).  Reads revocation_time, reason, hold,
 * has_invalidity and invalidity_date.  QPKI_ERR_INVALID_ARG for a combination
 * the format cannot hold or a time outside 0000-9999; QPKI_ERR_BUFFER_TOO_SMALL
 * when size is short (INDEX_REVOCATION_MAX always suffices). */
QPKI_MUST_USE qpki_status index_revocation_format(const index_row *row, char *out, size_t size);

/* A whole row without its line break: "status<TAB>expiry<TAB>revocation<TAB>
 * serial<TAB>filename<TAB>subject" (the revocation field empty unless status is
 * R; filename NULL writes "unknown", subject NULL ""); *len (may be NULL) the
 * length.  QPKI_ERR_INVALID_ARG for a tab or line break in filename or subject,
 * a bad status, or what index_revocation_format refuses;
 * QPKI_ERR_BUFFER_TOO_SMALL when size is short. */
QPKI_MUST_USE qpki_status index_row_format(const index_row *row, const char *filename,
                                           const char *subject, char *out, size_t size,
                                           size_t *len);

#endif
