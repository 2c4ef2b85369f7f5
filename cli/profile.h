/* SPDX-License-Identifier: Apache-2.0 */
/* cli/profile.h - certificate profiles (YAML): built-in ones embedded in the
 * binary (cli/profiles/<family>/<name>.yaml) or a file given by path.
 *
 * A profile names the key algorithm, the validity, the variables it takes
 * (with types, defaults and validation), the subject template and the
 * extensions.  Templates use {{ name }} to insert a variable. */
#ifndef QPKI_CLI_PROFILE_H
#define QPKI_CLI_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qpki/cert.h>
#include <qpki/types.h>

#include "doc.h"

/* Variables given on the command line (--var k=v) or resolved for a profile. */
struct vars {
    size_t n;
    char **keys;
    char **values;
};

void vars_free(struct vars *v);
/* Set (or replace) key = value. */
bool vars_set(struct vars *v, const char *key, const char *value);
/* "key=value" from --var; prints a usage error when malformed. */
bool vars_add_arg(struct vars *v, const char *arg);
const char *vars_get(const struct vars *v, const char *key);

enum var_type {
    VAR_STRING,     /* any text */
    VAR_DNS_NAME,   /* one DNS name (wildcard per profile) */
    VAR_EMAIL,      /* one e-mail address */
    VAR_IP,         /* one IPv4/IPv6 address */
    VAR_URI,        /* one URI with a scheme */
    VAR_DNS_NAMES,  /* comma-separated list of DNS names */
    VAR_IP_LIST,    /* comma-separated list of IP addresses */
    VAR_EMAILS,     /* comma-separated list of e-mail addresses */
    VAR_URIS        /* comma-separated list of URIs */
};

struct profile_var {
    const char *name;
    enum var_type type;
    bool required;
    const char *default_value; /* NULL: none */
    const char *description;
    const char *pattern;       /* POSIX extended regular expression, or NULL */
    long min_length, max_length; /* -1: no bound */
    bool wildcard;             /* DNS names may start with "*." */
};

/* One subject attribute: attr and the template of its value. */
struct profile_rdn {
    qpki_name_attr attr;
    const char *template_text;
};

#define PROFILE_MAX_VARS 32
#define PROFILE_MAX_RDNS 8
#define PROFILE_MAX_LIST 16

struct profile {
    char *name;                /* "ec/ocsp-responder" or the file path */
    const char *description;
    const char *algorithm;     /* key algorithm name ("ecdsa-p256") */
    const char *alt_algorithm; /* Catalyst alternative algorithm, or NULL */
    int64_t validity;          /* seconds */
    struct profile_var vars[PROFILE_MAX_VARS];
    size_t n_vars;
    struct profile_rdn rdns[PROFILE_MAX_RDNS];
    size_t n_rdns;

    /* extensions */
    bool has_basic_constraints, bc_critical, bc_ca;
    int bc_path_len;           /* -1: absent */
    bool has_key_usage, ku_critical;
    unsigned ku_bits;
    bool has_eku, eku_critical;
    const char *eku[PROFILE_MAX_LIST]; /* dotted OIDs */
    size_t n_eku;
    bool ocsp_nocheck;
    bool has_san, san_critical, san_include_cn, san_from_csr;
    const char *san_dns[PROFILE_MAX_LIST], *san_ip[PROFILE_MAX_LIST],
        *san_email[PROFILE_MAX_LIST], *san_uri[PROFILE_MAX_LIST];
    size_t n_san_dns, n_san_ip, n_san_email, n_san_uri;
    const char *aia_ocsp[PROFILE_MAX_LIST], *aia_ca_issuers[PROFILE_MAX_LIST];
    size_t n_aia_ocsp, n_aia_ca_issuers;
    bool subject_key_id, authority_key_id;

    struct doc *doc;           /* owns the strings above */
};

/* Load a built-in profile by name or a YAML file by path (a name containing
 * ".yaml"/".yml" or naming an existing file).  Prints errors. */
bool profile_load(const char *name_or_path, struct profile **out);
void profile_free(struct profile *p);
/* Names of the built-in profiles, one per line, to f. */
void profile_list_builtin(FILE *f);

/* Resolve the variables for this profile: every given variable must be
 * declared ("unknown variable 'x'"), every required one must be given or have a
 * default ("missing required variable 'cn'"), and values must validate.
 * resolved receives every declared variable that has a value.  Prints errors. */
bool profile_resolve(const struct profile *p, const struct vars *given, struct vars *resolved);

/* Key algorithm the profile asks for, and the RSA size.  Prints "not yet
 * supported" for algorithms this build cannot handle (ML-DSA when absent) and
 * returns false.  For a Catalyst profile this is the classical algorithm. */
bool profile_key_alg(const struct profile *p, qpki_key_alg *alg, unsigned *rsa_bits);
/* The Catalyst alternative (ML-DSA) key algorithm; false when the profile has
 * none (silently) or it is not usable (with a message). */
bool profile_alt_key_alg(const struct profile *p, qpki_key_alg *alg);
/* True when a key of algorithm k fits the profile's family (EC of any curve for
 * an ECDSA profile, RSA of any size for RSA, ...). */
bool profile_accepts_key(const struct profile *p, qpki_key_alg k);

/* The subject the profile's template gives for these variables (DER Name; free
 * with qpki_free).  Attributes whose value renders empty are omitted.  Prints
 * errors. */
bool profile_subject_der(const struct profile *p, const struct vars *resolved, uint8_t **der,
                         size_t *der_len);

/* Apply the profile to a certificate builder: subject (unless subject_der is
 * given, which is used as is), basicConstraints, keyUsage, extKeyUsage,
 * ocsp-nocheck, subjectAltName (from the templates; when the profile allows it
 * and the templates give none, csr_san is copied), AIA, key identifiers.
 * Prints errors. */
bool profile_apply(const struct profile *p, const struct vars *resolved,
                   const uint8_t *subject_der, size_t subject_len, const uint8_t *csr_san,
                   size_t csr_san_len, qpki_cert_builder *b);

/* The embedded profiles (generated at build time by embed_profiles.py). */
struct builtin_profile {
    const char *name;
    const char *text;
};
extern const struct builtin_profile cli_builtin_profiles[];
extern const size_t cli_builtin_profiles_count;

#endif
