/* SPDX-License-Identifier: Apache-2.0 */
/* lib/der/oid.h - object identifiers used by the library (contents octets only).
 * Each line gives the dotted form it encodes. */
#ifndef QPKI_OID_H
#define QPKI_OID_H

#include "der.h"

/* hashes */
#define OID_SHA1 DER_OID_LIT("\x2b\x0e\x03\x02\x1a")                     /* 1.3.14.3.2.26 */
#define OID_SHA256 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x02\x01")   /* 2.16.840.1.101.3.4.2.1 */
#define OID_SHA384 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x02\x02")   /* 2.16.840.1.101.3.4.2.2 */
#define OID_SHA512 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x02\x03")   /* 2.16.840.1.101.3.4.2.3 */
#define OID_SHAKE256 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x02\x0c") /* 2.16.840.1.101.3.4.2.12 */

/* public keys */
#define OID_EC_PUBLIC_KEY DER_OID_LIT("\x2a\x86\x48\xce\x3d\x02\x01")     /* 1.2.840.10045.2.1 */
#define OID_P256 DER_OID_LIT("\x2a\x86\x48\xce\x3d\x03\x01\x07")          /* 1.2.840.10045.3.1.7 */
#define OID_P384 DER_OID_LIT("\x2b\x81\x04\x00\x22")                      /* 1.3.132.0.34 */
#define OID_P521 DER_OID_LIT("\x2b\x81\x04\x00\x23")                      /* 1.3.132.0.35 */
#define OID_RSA_ENCRYPTION DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x01") /* 1.2.840.113549.1.1.1 */
#define OID_ED25519 DER_OID_LIT("\x2b\x65\x70")                           /* 1.3.101.112 */
#define OID_ED448 DER_OID_LIT("\x2b\x65\x71")                             /* 1.3.101.113 */
/* RFC 9881 / FIPS 204 (NIST CSOR sigAlgs 17, 18, 19); parameters absent */
#define OID_ML_DSA_44 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x03\x11") /* 2.16.840.1.101.3.4.3.17 */
#define OID_ML_DSA_65 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x03\x12") /* 2.16.840.1.101.3.4.3.18 */
#define OID_ML_DSA_87 DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x03\x13") /* 2.16.840.1.101.3.4.3.19 */

/* signature algorithms */
#define OID_ECDSA_SHA256 DER_OID_LIT("\x2a\x86\x48\xce\x3d\x04\x03\x02")  /* 1.2.840.10045.4.3.2 */
#define OID_ECDSA_SHA384 DER_OID_LIT("\x2a\x86\x48\xce\x3d\x04\x03\x03")  /* 1.2.840.10045.4.3.3 */
#define OID_ECDSA_SHA512 DER_OID_LIT("\x2a\x86\x48\xce\x3d\x04\x03\x04")  /* 1.2.840.10045.4.3.4 */
#define OID_SHA1_RSA DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x05")   /* 1.2.840.113549.1.1.5 */
#define OID_SHA256_RSA DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0b") /* 1.2.840.113549.1.1.11 */
#define OID_SHA384_RSA DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0c") /* 1.2.840.113549.1.1.12 */
#define OID_SHA512_RSA DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0d") /* 1.2.840.113549.1.1.13 */
#define OID_RSASSA_PSS DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x0a") /* 1.2.840.113549.1.1.10 */
#define OID_MGF1 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x01\x08")       /* 1.2.840.113549.1.1.8 */

/* PKCS#5 / PKCS#8 encryption */
#define OID_PBES2 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0d")      /* 1.2.840.113549.1.5.13 */
#define OID_PBKDF2 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x05\x0c")     /* 1.2.840.113549.1.5.12 */
#define OID_HMAC_SHA256 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x02\x09")    /* 1.2.840.113549.2.9 */
#define OID_HMAC_SHA1 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x02\x07")      /* 1.2.840.113549.2.7 */
#define OID_HMAC_SHA384 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x02\x0a")    /* 1.2.840.113549.2.10 */
#define OID_HMAC_SHA512 DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x02\x0b")    /* 1.2.840.113549.2.11 */
#define OID_AES128_CBC DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x01\x02") /* 2.16.840.1.101.3.4.1.2 */
#define OID_AES192_CBC DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x01\x16") /* 2.16.840.1.101.3.4.1.22 */
#define OID_AES256_CBC DER_OID_LIT("\x60\x86\x48\x01\x65\x03\x04\x01\x2a") /* 2.16.840.1.101.3.4.1.42 */

/* OCSP (RFC 6960 §4.4, id-pkix-ocsp = 1.3.6.1.5.5.7.48.1) */
#define OID_PKIX_OCSP DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01")             /* id-ad-ocsp */
#define OID_OCSP_BASIC DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x01")        /* .1 basic */
#define OID_OCSP_NONCE DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x02")        /* .2 nonce */
#define OID_OCSP_CRL DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x03")          /* .3 crlID */
#define OID_OCSP_RESPONSE DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x04")     /* .4 acceptable */
#define OID_OCSP_NOCHECK DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x05")      /* .5 nocheck */
#define OID_OCSP_ARCHIVE_CUTOFF DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x06")
#define OID_OCSP_SERVICE_LOCATOR DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x07")
#define OID_OCSP_PREF_SIG_ALGS DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x08") /* .8 */
#define OID_OCSP_EXTENDED_REVOKE DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x01\x09") /* .9 */

/* extended key usages (1.3.6.1.5.5.7.3.x) */
#define OID_KP_SERVER_AUTH DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x03\x01")
#define OID_KP_CLIENT_AUTH DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x03\x02")
#define OID_KP_OCSP_SIGNING DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x03\x09")

/* certificate extensions (2.5.29.x) */
#define OID_CE_SUBJECT_KEY_ID DER_OID_LIT("\x55\x1d\x0e")       /* 2.5.29.14 */
#define OID_CE_KEY_USAGE DER_OID_LIT("\x55\x1d\x0f")            /* 2.5.29.15 */
#define OID_CE_SUBJECT_ALT_NAME DER_OID_LIT("\x55\x1d\x11")     /* 2.5.29.17 */
#define OID_CE_BASIC_CONSTRAINTS DER_OID_LIT("\x55\x1d\x13")    /* 2.5.29.19 */
#define OID_CE_ISSUER_ALT_NAME DER_OID_LIT("\x55\x1d\x12")      /* 2.5.29.18 */
#define OID_CE_CRL_NUMBER DER_OID_LIT("\x55\x1d\x14")           /* 2.5.29.20 */
#define OID_CE_CRL_REASON DER_OID_LIT("\x55\x1d\x15")           /* 2.5.29.21 */
#define OID_CE_HOLD_INSTRUCTION DER_OID_LIT("\x55\x1d\x17")     /* 2.5.29.23 */
#define OID_CE_INVALIDITY_DATE DER_OID_LIT("\x55\x1d\x18")      /* 2.5.29.24 */
#define OID_CE_DELTA_CRL_INDICATOR DER_OID_LIT("\x55\x1d\x1b")  /* 2.5.29.27 */
#define OID_CE_ISSUING_DP DER_OID_LIT("\x55\x1d\x1c")           /* 2.5.29.28 */
#define OID_CE_CERTIFICATE_ISSUER DER_OID_LIT("\x55\x1d\x1d")   /* 2.5.29.29 */
#define OID_CE_CRL_DISTRIBUTION DER_OID_LIT("\x55\x1d\x1f")     /* 2.5.29.31 */
#define OID_CE_CERT_POLICIES DER_OID_LIT("\x55\x1d\x20")        /* 2.5.29.32 */
#define OID_CE_AUTHORITY_KEY_ID DER_OID_LIT("\x55\x1d\x23")     /* 2.5.29.35 */
#define OID_CE_EXT_KEY_USAGE DER_OID_LIT("\x55\x1d\x25")        /* 2.5.29.37 */
#define OID_CE_FRESHEST_CRL DER_OID_LIT("\x55\x1d\x2e")         /* 2.5.29.46 */
/* RFC 5280 §5.3.2 holdInstructionCode values: id-holdinstruction (1.2.840.10040.2) .1 .2 .3 */
#define OID_HOLD_INSTRUCTION_NONE DER_OID_LIT("\x2a\x86\x48\xce\x38\x02\x01")
#define OID_HOLD_INSTRUCTION_CALL_ISSUER DER_OID_LIT("\x2a\x86\x48\xce\x38\x02\x02")
#define OID_HOLD_INSTRUCTION_REJECT DER_OID_LIT("\x2a\x86\x48\xce\x38\x02\x03")
/* ITU-T X.509 (2019) §9.8 Catalyst */
#define OID_CE_ALT_SPKI DER_OID_LIT("\x55\x1d\x48")             /* 2.5.29.72 */
#define OID_CE_ALT_SIG_ALG DER_OID_LIT("\x55\x1d\x49")          /* 2.5.29.73 */
#define OID_CE_ALT_SIG_VALUE DER_OID_LIT("\x55\x1d\x4a")        /* 2.5.29.74 */
#define OID_PE_AIA DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x01\x01") /* 1.3.6.1.5.5.7.1.1 */
#define OID_AD_CA_ISSUERS DER_OID_LIT("\x2b\x06\x01\x05\x05\x07\x30\x02") /* 1.3.6.1.5.5.7.48.2 */
#define OID_ANY_EKU DER_OID_LIT("\x55\x1d\x25\x00")              /* 2.5.29.37.0 */

/* names (X.520 2.5.4.x, PKCS#9) */
#define OID_AT_CN DER_OID_LIT("\x55\x04\x03")
#define OID_AT_SERIAL_NUMBER DER_OID_LIT("\x55\x04\x05")
#define OID_AT_C DER_OID_LIT("\x55\x04\x06")
#define OID_AT_L DER_OID_LIT("\x55\x04\x07")
#define OID_AT_ST DER_OID_LIT("\x55\x04\x08")
#define OID_AT_O DER_OID_LIT("\x55\x04\x0a")
#define OID_AT_OU DER_OID_LIT("\x55\x04\x0b")
#define OID_AT_SURNAME DER_OID_LIT("\x55\x04\x04")                 /* 2.5.4.4 */
#define OID_AT_STREET DER_OID_LIT("\x55\x04\x09")                  /* 2.5.4.9 */
#define OID_AT_TITLE DER_OID_LIT("\x55\x04\x0c")                   /* 2.5.4.12 */
#define OID_AT_POSTAL_CODE DER_OID_LIT("\x55\x04\x11")             /* 2.5.4.17 */
#define OID_AT_GIVEN_NAME DER_OID_LIT("\x55\x04\x2a")              /* 2.5.4.42 */
#define OID_AT_ORG_ID DER_OID_LIT("\x55\x04\x61")                  /* 2.5.4.97 */
#define OID_AT_DC DER_OID_LIT("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x19") /* 0.9.2342.19200300.100.1.25 */
#define OID_AT_UID DER_OID_LIT("\x09\x92\x26\x89\x93\xf2\x2c\x64\x01\x01") /* 0.9.2342.19200300.100.1.1 */
#define OID_PKCS9_EMAIL DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x01")        /* 1.2.840.113549.1.9.1 */
#define OID_PKCS9_EXTENSION_REQUEST DER_OID_LIT("\x2a\x86\x48\x86\xf7\x0d\x01\x09\x0e") /* .9.14 */

#endif
