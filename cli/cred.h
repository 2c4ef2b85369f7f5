/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cred.h - the credential store, in QPKI's layout:
 *
 *   <cred-dir>/<id>/credential.meta.json         metadata (QPKI field names)
 *   <cred-dir>/<id>/versions/vN/keys/credential.<algo>.key   (0600, dir 0700)
 *   <cred-dir>/<id>/versions/vN/certs/credential.<algo>.pem
 *   <cred-dir>/<id>/versions/vN/<id>.crt, <id>.key  -> certs/..., keys/...
 *   <cred-dir>/<id>/active -> versions/vN           the active version
 *   <cred-dir>/<id>/<id>.crt -> active/<id>.crt     stable paths for servers
 *   <cred-dir>/<id>/<id>.key -> active/<id>.key
 *   <cred-dir>/<id>/<id>.alt.key -> active/<id>.alt.key  Catalyst versions only: the
 *                                                ML-DSA key of altSubjectPublicKeyInfo
 *
 * Activating a version replaces the `active` symbolic link with one rename(2),
 * so <id>.crt and <id>.key switch to the new version at the same instant.  A
 * reader that opens the two files one after the other can still straddle a
 * switch: it must check that the key matches the certificate and retry. */
#ifndef QPKI_CLI_CRED_H
#define QPKI_CLI_CRED_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "profile.h"

#define CRED_META_FILE "credential.meta.json"
#define CRED_ID_MAX 64

struct cred_version {
    char id[16];                 /* "v1" */
    struct vars lists;           /* "profiles" and "algos" joined with ',' */
    char created[40], not_before[40], not_after[40], activated_at[40], archived_at[40];
    char serial[80];             /* certificate serial, hex */
    char cert_file[256];         /* relative to the version directory */
    char key_file[256];
    char alt_key_file[256];      /* Catalyst: the ML-DSA key, or "" */
};

struct credential {
    char id[CRED_ID_MAX + 1];
    char common_name[256];
    char created[40];
    char active[16];
    struct cred_version *versions;
    size_t n_versions;
    struct vars metadata;        /* "ca_dir", "var.<name>", ... */
};

/* Letters, digits, '.', '_', '-'; 1..64 characters; not starting with '.'. */
bool cred_valid_id(const char *id);
/* Load <cred-dir>/<id>/credential.meta.json.  Prints errors. */
bool cred_load(const char *cred_dir, const char *id, struct credential *c);
/* Write it atomically.  Prints errors. */
bool cred_save(const char *cred_dir, const struct credential *c);
void cred_free(struct credential *c);

struct cred_version *cred_find(struct credential *c, const char *version);
struct cred_version *cred_add_version(struct credential *c, const char *version);
/* "active", "archived" or "pending" (QPKI's rules). */
const char *cred_version_status(const struct credential *c, const struct cred_version *v);
/* "v<max+1>". */
void cred_next_version(const struct credential *c, char *buf, size_t size);
/* "profiles" of a version as a comma-separated list ("" when none). */
const char *cred_version_list(const struct cred_version *v, const char *key);

/* Exclusive lock on <cred-dir>/<id>/.lock (serialises rotate/activate). */
bool cred_lock(const char *cred_dir, const char *id, int *fd);
void cred_unlock(int fd);

/* Make `version` the active one on disk: the version's <id>.crt/<id>.key links,
 * the `active` link (swapped with one rename) and the top-level links.  Prints
 * errors. */
bool cred_point_active(const char *cred_dir, const struct credential *c,
                       const struct cred_version *v);

/* Directory of a credential / of one of its versions. */
bool cred_dir_path(char *buf, size_t size, const char *cred_dir, const char *id);
bool cred_version_path(char *buf, size_t size, const char *cred_dir, const char *id,
                       const char *version);

/* ---- helpers shared by the credential subcommands (credential_*.c) ---- */
/* getopt_long codes of the credential subcommands' long options. */
enum { O_CA_DIR = 256, O_CRED_DIR, O_PROFILE, O_VAR, O_ID, O_PASS_ENV, O_PASS_FILE,
       O_CAPASS_ENV, O_CAPASS_FILE, O_VERSION };
struct profile;
struct vars;
struct ca_ctx;
/* Current time as RFC 3339 text. */
void cred_now_text(char *buf, size_t size);
/* Options of the subcommands whose only option is --cred-dir (default
 * ./credentials): -1 to go on with *cred_dir set, otherwise the exit status
 * (help printed, or a usage error). */
int cred_dir_option(int argc, char **argv, const char *help, const char **cred_dir);
/* "ecdsa-p256" (or "ecdsa-p384+ml-dsa-65" for Catalyst) of a profile. */
void cred_algo_name(const struct profile *p, char *buf, size_t size);
/* Generate keys, have the CA issue the certificate and store both as version
 * vid of c.  Prints errors. */
bool cred_make_version(const char *cred_dir, struct credential *c, const char *vid,
                       const struct profile *p, const struct vars *vars, struct ca_ctx *ca,
                       const char *passphrase);
/* Remove a credential directory this run created (after a failed enroll). */
void cred_remove_tree(const char *dir);
/* One line of the `credential versions` table. */
void cred_print_version_line(const struct credential *c, const struct cred_version *v);

#endif
