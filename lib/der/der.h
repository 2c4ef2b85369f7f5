/* SPDX-License-Identifier: Apache-2.0 */
/* lib/der/der.h - the one bounded DER reader and capped writer.
 *
 * Reader: a cursor over a borrowed buffer.  Every read checks the remaining
 * length first, so no call can read past the end; values are handed out as
 * views (pointer + length) into the caller's buffer, never copied.  Strict DER:
 * definite, minimal lengths only; single-byte tags only (high-tag-number form is
 * rejected); nesting deeper than QPKI_DER_MAX_DEPTH fails with QPKI_ERR_DEPTH.
 *
 * Writer: a growable buffer with a hard cap and a sticky error; constructed
 * elements are opened with der_begin() and closed with der_end(), which writes
 * the minimal length.  Check the error once at der_buf_finish(). */
#ifndef QPKI_DER_H
#define QPKI_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/limits.h>
#include <qpki/types.h>
#include "../safety.h"

/* Universal tags (single byte, class and constructed bit included). */
enum {
    DER_BOOLEAN = 0x01,
    DER_INTEGER = 0x02,
    DER_BIT_STRING = 0x03,
    DER_OCTET_STRING = 0x04,
    DER_NULL = 0x05,
    DER_OID = 0x06,
    DER_ENUMERATED = 0x0a,
    DER_UTF8_STRING = 0x0c,
    DER_PRINTABLE_STRING = 0x13,
    DER_T61_STRING = 0x14,
    DER_IA5_STRING = 0x16,
    DER_UTC_TIME = 0x17,
    DER_GENERALIZED_TIME = 0x18,
    DER_BMP_STRING = 0x1e,
    DER_SEQUENCE = 0x30,
    DER_SET = 0x31
};
/* Context-specific tags: [n] primitive and [n] constructed. */
#define DER_CTX(n) ((uint8_t)(0x80u | (unsigned)(n)))
#define DER_CTX_CONS(n) ((uint8_t)(0xa0u | (unsigned)(n)))

typedef struct der_view {
    const uint8_t *p;
    size_t n;
} der_view;

/* Where a failure is reported (STYLE §5): the whole input a parse started from
 * (offsets are counted from base) and the caller's message buffer.  Cursors made
 * from a cursor that has one carry it along; a cursor without one (NULL) reports
 * nothing -- speculative reads (a "does this parse?" probe) use such cursors, so
 * a failure they tolerate never becomes the message. */
struct qpki_detail;
typedef struct der_diag {
    const uint8_t *base;
    size_t len;
    struct qpki_detail *detail;
    bool secret; /* a private key: messages never show a byte of the input */
} der_diag;

typedef struct der_cursor {
    const uint8_t *p;
    size_t left;
    unsigned depth;
    const der_diag *diag; /* NULL: failures are not described */
} der_cursor;

/* ---- reader ------------------------------------------------------------- */

der_cursor der_cursor_init(const uint8_t *p, size_t n);
/* The same, reporting failures to diag (diag->base/len must cover p..p+n). */
der_cursor der_cursor_init_diag(const uint8_t *p, size_t n, const der_diag *diag);
/* A cursor over v, a view inside the input of `parent` (an extnValue, an OCTET
 * STRING's contents), that keeps reporting with byte offsets of that input. */
der_cursor der_cursor_sub(const der_cursor *parent, der_view v);

/* Failure messages.  Every failure of the reader below writes one bounded line
 * naming the byte offset ("truncated at byte 600 of 1200 (SEQUENCE at byte 0)",
 * "expected INTEGER (0x02) at byte 37, found OCTET STRING (0x04)"); parsers name
 * the field around it with der_field ("responses[0]: certStatus: ...") and write
 * their own checks with der_fail.  The first message written wins. */
/* Offset of p in the cursor's input (0 without diagnostics). */
size_t der_offset(const der_cursor *c, const uint8_t *p);
/* Write "<fmt> at byte <offset of c->p>" unless a message is there; evaluates to
 * st (a macro, so the compiler sees the failure at the call site). */
void der_fail_(const der_cursor *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define der_fail(c, st, ...) (der_fail_((c), __VA_ARGS__), (st))
/* Put "<name>: " in front of the message (or "<name>: <strerror(st)>" when nothing
 * described the failure yet); evaluates to st (for `return der_field(...)`). */
void der_field_(const der_cursor *c, qpki_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define der_field(c, st, ...) (der_field_((c), (st), __VA_ARGS__), (st))
/* QPKI_GUARD that names the field: on failure the message gets "name: " in front. */
#define DER_FIELD(c, name, expr)                             \
    do {                                                     \
        qpki_status field_rc_ = (expr);                      \
        if (field_rc_ != QPKI_OK)                            \
            return der_field((c), field_rc_, "%s", (name));  \
    } while (0)
/* Name of a universal tag ("SEQUENCE", "OCTET STRING", "[0]" for context tags
 * written into buf), bounded. */
const char *der_tag_name(uint8_t tag, char buf[16]);
/* Dotted OID text for messages: at most DER_OID_TEXT_MAX - 1 characters,
 * cut with "..." when longer; "(bad OID)" when not decodable.  Returns buf. */
#define DER_OID_TEXT_MAX 64
const char *der_oid_text_capped(der_view oid, char buf[DER_OID_TEXT_MAX]);
static inline der_view der_cursor_view(const der_cursor *c) { return (der_view){c->p, c->left}; }
static inline bool der_at_end(const der_cursor *c) { return c->left == 0; }

/* Tag of the next element without consuming it; QPKI_ERR_TRUNCATED at the end. */
QPKI_MUST_USE qpki_status der_peek_tag(const der_cursor *c, uint8_t *tag);
/* True when another element follows and its tag is `tag`. */
bool der_next_is(const der_cursor *c, uint8_t tag);

/* Read tag and length; checks minimal definite length and that len <= left.
 * Consumes only the header. */
QPKI_MUST_USE qpki_status der_read_header(der_cursor *c, uint8_t *tag, size_t *len);

/* Read one element with tag `want` and return a cursor over its contents
 * (depth + 1).  QPKI_ERR_UNEXPECTED_TAG when the tag differs (nothing consumed). */
QPKI_MUST_USE qpki_status der_read_tlv(der_cursor *c, uint8_t want, der_cursor *value);
/* Same, but when the next element is absent or has another tag, *present = false
 * and nothing is consumed. */
QPKI_MUST_USE qpki_status der_read_optional(der_cursor *c, uint8_t want, der_cursor *value,
                                            bool *present);
/* Read any element: its tag, contents and the whole TLV encoding (tag..end). Any
 * pointer may be NULL. */
QPKI_MUST_USE qpki_status der_read_any(der_cursor *c, uint8_t *tag, der_cursor *value,
                                       der_view *whole);
/* Read an element with tag `want` and return its whole TLV encoding. */
QPKI_MUST_USE qpki_status der_read_raw(der_cursor *c, uint8_t want, der_view *whole);
/* Skip one element of any tag. */
QPKI_MUST_USE qpki_status der_skip(der_cursor *c);
/* QPKI_ERR_TRAILING_DATA unless the cursor is exhausted. */
QPKI_MUST_USE qpki_status der_expect_end(const der_cursor *c);

/* INTEGER: contents (two's complement, minimal) as a view. */
QPKI_MUST_USE qpki_status der_read_integer(der_cursor *c, der_view *content);
/* Non-negative INTEGER that fits in uint64_t. */
QPKI_MUST_USE qpki_status der_read_uint64(der_cursor *c, uint64_t *out);
/* INTEGER in [INT64_MIN, INT64_MAX]. */
QPKI_MUST_USE qpki_status der_read_int64(der_cursor *c, int64_t *out);
/* ENUMERATED with a small value (0..INT32_MAX). */
QPKI_MUST_USE qpki_status der_read_enumerated(der_cursor *c, int *out);
/* BOOLEAN: DER allows only 0x00 and 0xff. */
QPKI_MUST_USE qpki_status der_read_bool(der_cursor *c, bool *out);
QPKI_MUST_USE qpki_status der_read_null(der_cursor *c);
/* OBJECT IDENTIFIER contents (validated: minimal base-128 sub-identifiers). */
QPKI_MUST_USE qpki_status der_read_oid(der_cursor *c, der_view *oid);
QPKI_MUST_USE qpki_status der_read_octet_string(der_cursor *c, der_view *content);
/* BIT STRING: bytes after the unused-bits octet; unused bits in the last byte must
 * be zero (DER). */
QPKI_MUST_USE qpki_status der_read_bit_string(der_cursor *c, der_view *bits, unsigned *unused);
/* UTCTime or GeneralizedTime in DER form ("...Z", seconds present; a
 * GeneralizedTime fraction without trailing zeros is accepted and dropped). */
QPKI_MUST_USE qpki_status der_read_time(der_cursor *c, qpki_time *out);
/* GeneralizedTime only. */
QPKI_MUST_USE qpki_status der_read_generalized_time(der_cursor *c, qpki_time *out);

/* Convert a view of INTEGER contents to its unsigned magnitude with leading zero
 * bytes removed (the canonical serial form used for lookups). Fails on negative. */
QPKI_MUST_USE qpki_status der_integer_magnitude(der_view content, der_view *magnitude);

static inline bool der_view_eq(der_view a, const uint8_t *p, size_t n)
{
    return a.n == n && (n == 0 || __builtin_memcmp(a.p, p, n) == 0);
}

/* ---- OIDs ---------------------------------------------------------------- */

/* An OID constant: contents octets only (no tag/length). */
typedef struct der_oid {
    const uint8_t *p;
    size_t n;
} der_oid;
#define DER_OID_LIT(bytes) ((der_oid){(const uint8_t *)(bytes), sizeof(bytes) - 1})
static inline bool der_oid_eq(der_view v, der_oid o) { return der_view_eq(v, o.p, o.n); }
/* Dotted text of OID contents into buf ("1.2.840.10045.4.3.2"). */
qpki_status der_oid_to_text(der_view oid, char *buf, size_t size);
/* Parse dotted text into contents octets. */
qpki_status der_oid_from_text(const char *text, uint8_t *out, size_t cap, size_t *out_len);

/* ---- writer -------------------------------------------------------------- */

#define DER_BUF_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

struct arena;

typedef struct der_buf {
    uint8_t *p;
    size_t len;
    size_t cap;
    size_t max;          /* hard cap on len */
    qpki_status err;     /* sticky: first failure */
    unsigned open;       /* currently open constructed elements */
    struct arena *arena; /* where p lives; NULL: the heap */
} der_buf;

/* max == 0 means DER_BUF_DEFAULT_MAX. */
void der_buf_init(der_buf *b, size_t max);
/* A buffer in a per-request arena (lib/internal.h; NULL a = the heap, as
 * der_buf_init): nothing to free, der_buf_view hands out the bytes. */
void der_buf_init_in(der_buf *b, struct arena *a, size_t max);
/* The encoded bytes, still owned by b (valid until b changes or, for an arena
 * buffer, until the arena is released), or the sticky error. */
QPKI_MUST_USE qpki_status der_buf_view(const der_buf *b, const uint8_t **out, size_t *out_len);
void der_buf_free(der_buf *b);
/* Hand the encoded bytes to the caller (free with qpki_free) or return the
 * sticky error (the buffer is freed either way); an arena buffer's bytes are
 * copied to the heap. */
QPKI_MUST_USE qpki_status der_buf_finish(der_buf *b, uint8_t **out, size_t *out_len);

/* Open a constructed element; returns a mark for der_end. */
size_t der_begin(der_buf *b, uint8_t tag);
/* Close the element opened at `mark`, writing its minimal length. */
void der_end(der_buf *b, size_t mark);

void der_put_bytes(der_buf *b, const void *p, size_t n);          /* raw, already encoded */
void der_put_tlv(der_buf *b, uint8_t tag, const void *content, size_t n);
/* INTEGER from an unsigned big-endian magnitude (leading zeros stripped, a 0x00
 * prepended when the top bit is set; empty magnitude encodes 0). */
void der_put_uint_bytes(der_buf *b, const uint8_t *mag, size_t n);
/* INTEGER with contents exactly as given (already two's complement, e.g. a
 * serial copied from a certificate). */
void der_put_integer_content(der_buf *b, const uint8_t *content, size_t n);
void der_put_uint64(der_buf *b, uint64_t v);
void der_put_enumerated(der_buf *b, int v);
void der_put_bool(der_buf *b, bool v);
void der_put_null(der_buf *b);
void der_put_oid(der_buf *b, der_oid oid);
void der_put_octet_string(der_buf *b, const void *p, size_t n);
void der_put_bit_string(der_buf *b, const void *p, size_t n, unsigned unused);
/* RFC 5280 §4.1: Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical
 * BOOLEAN DEFAULT FALSE (written only when true), extnValue OCTET STRING } with
 * value as the extnValue contents (X.509 certificates and OCSP alike). */
void der_put_extension(der_buf *b, der_oid oid, bool critical, const void *value, size_t n);
/* GeneralizedTime YYYYMMDDHHMMSSZ (RFC 6960 times). */
void der_put_generalized_time(der_buf *b, qpki_time t);
/* RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
void der_put_x509_time(der_buf *b, qpki_time t);

#endif
