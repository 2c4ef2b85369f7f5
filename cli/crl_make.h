/* SPDX-License-Identifier: Apache-2.0 */
/* cli/crl_make.h - a CRL from a CA's status rows: what `qpki crl gen` and
 * `qpki ocsp serve --publish-crl` share.  The rows and the CRL numbers come
 * from a source given as two callbacks (the CA directory's index.txt and
 * crlnumber, or a status database). */
#ifndef QPKI_CLI_CRL_MAKE_H
#define QPKI_CLI_CRL_MAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <qpki/ca.h>
#include <qpki/cert.h>
#include <qpki/crl.h>
#include <qpki/signer.h>

/* One status row. */
struct crl_row {
    const uint8_t *serial;       /* magnitude, no leading zero octets */
    size_t serial_len;
    char status;                 /* 'V', 'R' or 'E' */
    qpki_time expiry, revocation_time, invalidity_date;
    qpki_crl_reason reason;
    qpki_hold_instruction hold;
};
typedef int (*crl_row_fn)(void *ctx, const struct crl_row *row); /* non-zero stops */

struct crl_source {
    /* Call fn for every row; an error with a message in err. */
    qpki_status (*rows)(void *self, crl_row_fn fn, void *ctx, char *err, size_t errlen);
    /* Take the next CRL number (magnitude). */
    qpki_status (*next_number)(void *self, uint8_t *number, size_t cap, size_t *len, char *err,
                               size_t errlen);
    void *self;
};

/* The CA directory's index.txt and crlnumber (self: a qpki_ca_store). */
struct crl_source crl_source_store(qpki_ca_store *store);

struct crl_make {
    const qpki_cert *ca;
    qpki_signer *signer;
    qpki_signer *alt_signer;     /* a Catalyst CA's ML-DSA key, else NULL */
    struct crl_source src;
    qpki_time this_update;
    int64_t next_in;             /* nextUpdate = this_update + next_in */
    const char *freshest;        /* complete CRLs: freshestCRL URI, or NULL */
    const qpki_crl *base;        /* delta CRL: the complete CRL it is against; NULL: complete */
};

struct crl_made {
    uint8_t *der;                /* free with qpki_free */
    size_t len;
    uint8_t number[QPKI_CRL_NUMBER_MAX];
    size_t number_len;
    size_t entries;
};

/* Complete CRL: every revoked row not expired at this_update (rows recorded as
 * removeFromCRL have left the CRL).  Delta CRL: what changed against the base.
 * The number is taken last (a failure before leaves no gap).  false with a
 * message in err. */
bool crl_make(const struct crl_make *m, struct crl_made *out, char *err, size_t errlen);

/* The complete CRL in path, checked to be the CA's own (signature, complete,
 * numbered).  false with a message in err. */
bool crl_load_base(const char *path, const qpki_cert *ca, qpki_crl **out, char *err,
                   size_t errlen);

#endif
