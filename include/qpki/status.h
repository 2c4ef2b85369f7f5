/* SPDX-License-Identifier: Apache-2.0 */
/* qpki/status.h - library result codes.
 *
 * Every fallible function returns a qpki_status.  QPKI_OK is 0; everything else
 * is an error grouped by category (hundreds digit).  Values are append-only and
 * never renumbered.  OCSP protocol values (responseStatus, CertStatus, CRLReason)
 * are separate enums in qpki/types.h. */
#ifndef QPKI_STATUS_H
#define QPKI_STATUS_H

#include <qpki/export.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum qpki_status {
    QPKI_OK = 0,

    /* general */
    QPKI_ERR_INVALID_ARG = 1,     /* NULL where not allowed, bad option value */
    QPKI_ERR_NOMEM = 2,
    QPKI_ERR_INTERNAL = 3,
    QPKI_ERR_UNSUPPORTED = 4,     /* feature not built in / not implemented */
    QPKI_ERR_BUFFER_TOO_SMALL = 5,
    QPKI_ERR_LIMIT = 6,           /* a configured limit was exceeded */
    QPKI_ERR_NOT_FOUND = 7,       /* lookup miss (serial, key label, file) */
    QPKI_ERR_EXISTS = 8,          /* refusing to overwrite */
    QPKI_ERR_IO = 9,              /* file system error; detail in errno text */
    QPKI_ERR_BUSY = 10,           /* queue full, try again later */

    /* decoding untrusted bytes */
    QPKI_ERR_DECODE = 100,        /* generic malformed encoding */
    QPKI_ERR_TRUNCATED = 101,     /* length runs past the end of the input */
    QPKI_ERR_TRAILING_DATA = 102, /* bytes after the outermost element */
    QPKI_ERR_NON_MINIMAL = 103,   /* non-minimal length or integer (not DER) */
    QPKI_ERR_INDEFINITE = 104,    /* BER indefinite length */
    QPKI_ERR_DEPTH = 105,         /* nesting deeper than QPKI_DER_MAX_DEPTH */
    QPKI_ERR_UNEXPECTED_TAG = 106,
    QPKI_ERR_BAD_VERSION = 107,   /* version field not the one we accept */
    QPKI_ERR_TOO_MANY_CERTIDS = 108,
    QPKI_ERR_NONCE_LENGTH = 109,  /* RFC 9654: nonce of 0 or > 128 octets */
    QPKI_ERR_TOO_LARGE = 110,     /* input larger than the configured maximum */
    QPKI_ERR_BAD_TIME = 111,      /* UTCTime/GeneralizedTime not in DER form */
    QPKI_ERR_BAD_PEM = 112,
    QPKI_ERR_PARSE = 113,         /* text input (index.txt, YAML, flags) */

    /* cryptography */
    QPKI_ERR_CRYPTO = 200,        /* failure inside the crypto provider */
    QPKI_ERR_BAD_SIGNATURE = 201,
    QPKI_ERR_UNSUPPORTED_ALGORITHM = 202,
    QPKI_ERR_BAD_KEY = 203,
    QPKI_ERR_BAD_PASSPHRASE = 204,
    QPKI_ERR_KEY_MISMATCH = 205,  /* private key does not match certificate */
    QPKI_ERR_RNG = 206,
    QPKI_ERR_PASSPHRASE_REQUIRED = 207, /* key file is encrypted, no passphrase given */

    /* OCSP response verification */
    QPKI_ERR_RESPONSE_STATUS = 300,   /* responseStatus is not successful */
    QPKI_ERR_UNTRUSTED_RESPONDER = 301,
    QPKI_ERR_NOT_YET_VALID = 302,     /* thisUpdate/producedAt in the future */
    QPKI_ERR_STALE = 303,             /* nextUpdate in the past */
    QPKI_ERR_NONCE_MISMATCH = 304,
    QPKI_ERR_CERTID_MISMATCH = 305,
    QPKI_ERR_NONCE_MISSING = 306,
    QPKI_ERR_PQ_SIGNATURE = 307,      /* Catalyst PQ signature missing or bad */
    QPKI_ERR_CERT_EXPIRED = 308,      /* certificate outside its validity */

    /* signers and plugins */
    QPKI_ERR_SIGNER_UNAVAILABLE = 400,
    QPKI_ERR_PLUGIN_LOAD = 401,
    QPKI_ERR_PLUGIN_SYMBOL = 402,
    QPKI_ERR_PLUGIN_ABI = 403,
    QPKI_ERR_PIN = 404,

    /* responder */
    QPKI_ERR_UNKNOWN_ISSUER = 500
} qpki_status;

/* A short English description of a result code; never NULL. */
QPKI_API const char *qpki_strerror(qpki_status status);

/* Free a buffer the library allocated and handed out (e.g. encoded DER). */
QPKI_API void qpki_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif
