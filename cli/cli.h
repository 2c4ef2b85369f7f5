/* SPDX-License-Identifier: Apache-2.0 */
/* cli/cli.h - what the qpki subcommands share: exit codes, messages, option
 * parsing, files, times, serials, and loading the signing key of a responder.
 * The CLI uses the public API only (<qpki/...>). */
#ifndef QPKI_CLI_H
#define QPKI_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <qpki/cert.h>
#include <qpki/signer.h>
#include <qpki/status.h>
#include <qpki/types.h>

/* DESIGN §9 exit codes. */
enum {
    CLI_OK = 0,
    CLI_VERIFY_FAILED = 1, /* bad signature, untrusted responder, stale, mismatch */
    CLI_USAGE = 2          /* usage or input error */
};

/* Every subcommand: int name(int argc, char **argv), argv[0] = the command name. */
#define QPKI_COMMAND(group, name, func, summary) int func(int argc, char **argv);
#include "commands.def"
#undef QPKI_COMMAND
/* `qpki version [--verbose]`, also `qpki --version` (cli/version.c) */
int cmd_version(int argc, char **argv);

/* ---- messages ---------------------------------------------------------------- */

/* "qpki ocsp sign", set by the dispatcher; prefixes every diagnostic. */
extern const char *cli_prog;

/* "qpki ocsp sign: error: ..." on stderr; returns CLI_USAGE so that commands
 * can write `return cli_error(...)`. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Same with ": <qpki_strerror(st)>" appended. */
int cli_error_st(qpki_status st, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with the library's line naming the field (qpki_*_err), when it has one:
 * "error: <what>: <strerror>: <detail>". */
int cli_error_detail(qpki_status st, const char *detail, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A usage error: the message, then "Try 'qpki ocsp sign --help'." */
int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- option parsing --------------------------------------------------------------- */

/* getopt_long over argv (argv[0] is the command name).  Adds nothing by itself;
 * handles the error cases uniformly: an unknown option or a missing argument
 * prints a usage error.  Returns the option value, -1 at the end, or '?' after
 * an error was printed (the caller returns CLI_USAGE). */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts);
/* Reset getopt state before a command parses its options. */
void cli_getopt_reset(void);
/* Set by `qpki __options GROUP COMMAND`, which cli/completion/gen_completion.py
 * runs at build time: the command's first cli_getopt call prints the option table
 * it was given, one "--long ARG" or "-s ARG" line per option (ARG 0 no value, 1 a
 * value, 2 an optional value), and exits.  The tables the parser uses are thus
 * the one source of the shell completion. */
extern bool cli_dump_options;

/* Print the help text to stdout and return 0. */
int cli_help(const char *text);

/* ---- values ------------------------------------------------------------------------ */

/* Durations "30s" "15m" "1h" "7d" "2w" "1y" (365 days) and combinations
 * "1h30m"; a bare number is seconds.  Rejects zero, negatives and overflow. */
bool cli_parse_duration(const char *text, int64_t *seconds);
/* RFC 3339 date-time: "2024-01-15T10:00:00Z", "2024-01-15 10:00:00+01:00",
 * fractions of a second ignored; also a date alone ("2024-01-15", midnight UTC). */
bool cli_parse_time(const char *text, qpki_time *out);
/* "2024-01-15T10:00:00Z" into buf (>= 21 bytes). */
void cli_format_time(qpki_time t, char *buf, size_t size);
/* "Jan 15 10:00:00 2024 GMT" as OpenSSL prints times (buf >= 32 bytes). */
void cli_format_time_openssl(qpki_time t, char *buf, size_t size);
/* Serial number text: hex digits of either case, optional 0x prefix, optional
 * ':' separators, leading zeros allowed.  Writes the magnitude without leading
 * zero octets; zero is one octet 00. */
bool cli_parse_serial(const char *text, uint8_t *out, size_t cap, size_t *len);
/* Hex of any length (nonce, key id): digits in pairs, optional 0x. */
bool cli_parse_hex(const char *text, uint8_t *out, size_t cap, size_t *len);
/* Upper-case hex into buf (2 * len + 1 bytes). */
void cli_hex_upper(const uint8_t *p, size_t len, char *buf);
/* "AB:CD:..." into buf (3 * len + 1 bytes). */
void cli_hex_colons(const uint8_t *p, size_t len, char *buf);

/* ---- files ------------------------------------------------------------------------- */

#define CLI_MAX_INPUT (64u * 1024 * 1024)

/* Whole file ("-" = stdin), NUL-terminated; free() it.  On failure prints
 * "cannot read <what> <path>: <reason>" and returns false. */
bool cli_read_file(const char *path, const char *what, uint8_t **data, size_t *len);
/* Data to path atomically (temporary file in the same directory, fsync,
 * rename) with the given mode; path NULL or "-" writes to stdout.  exclusive:
 * refuse to replace an existing file.  Prints the error and returns false. */
bool cli_write_file(const char *path, const uint8_t *data, size_t len, unsigned mode,
                    bool exclusive);
/* The same, written piece by piece: open (a temporary file in the target's
 * directory; path NULL or "-" is stdout), write, then commit (fsync, rename or
 * link when exclusive, directory fsync) or abort (the temporary file goes).
 * Each prints its error; a failed write aborts. */
struct cli_out {
    int fd;
    bool to_stdout, exclusive;
    char path[4096], dir[4096], tmp[4096];
};
bool cli_out_open(const char *path, unsigned mode, bool exclusive, struct cli_out *out);
bool cli_out_write(struct cli_out *out, const void *data, size_t len);
bool cli_out_commit(struct cli_out *out);
void cli_out_abort(struct cli_out *out);
/* mkdir -p with mode for the directories created. */
bool cli_mkdirs(const char *path, unsigned mode);
bool cli_path_exists(const char *path);
/* snprintf into a PATH_MAX buffer; false (and an error) when too long. */
bool cli_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* DER or PEM bytes of an OCSP message: PEM labels "OCSP RESPONSE"/"OCSP
 * REQUEST" are decoded, anything else is taken as DER.  *der is malloc'd. */
bool cli_read_ocsp_file(const char *path, const char *what, const char *pem_label,
                        uint8_t **der, size_t *len);
/* Base64 (RFC 4648) of data into a malloc'd NUL-terminated string. */
char *cli_base64(const uint8_t *data, size_t len);
/* PEM block text (64-column lines) into a malloc'd string. */
char *cli_pem(const char *label, const uint8_t *der, size_t len);

/* Load a certificate; prints "cannot load <what> <path>: <reason>" on failure. */
bool cli_load_cert(const char *path, const char *what, qpki_cert **out);

/* ---- secrets ------------------------------------------------------------------------ */

/* Passphrase from --passphrase-env VAR or --passphrase-file F (first line,
 * without the line break).  Both NULL: *out = NULL and true.  Both given: usage
 * error.  Free with cli_secret_free. */
bool cli_get_passphrase(const char *env_name, const char *file, char **out);
void cli_secret_free(char *secret);

/* ---- signing identity (ocsp sign, ocsp serve) -------------------------------------- */

/* The key a responder signs with, as chosen on the command line: either a
 * credential, or a certificate with a key file, or a certificate with an HSM
 * key.  Used by `ocsp sign` and `ocsp serve`. */
struct cli_signer_opts {
    const char *cert;            /* --cert */
    const char *key;             /* --key */
    const char *credential;      /* --credential */
    const char *cred_dir;        /* --cred-dir (default ./credentials) */
    const char *hsm_config;      /* --hsm-config */
    const char *key_label;       /* --key-label */
    const char *key_id;          /* --key-id */
    const char *passphrase_env;  /* --passphrase-env */
    const char *passphrase_file; /* --passphrase-file */
};

/* Check the combination of flags: exactly one of --credential, --cert+--key,
 * --cert+--hsm-config (with --key-label or --key-id).  --cert without a key,
 * --key without --cert and mixtures are usage errors.  Prints the error. */
bool cli_signer_opts_check(const struct cli_signer_opts *o);

/* Resolve a credential to its active certificate and key files
 * (<cred-dir>/<id>/<id>.crt and .key, or, for credentials made by QPKI, the
 * files of the active version named in credential.meta.json).  Buffers of at
 * least PATH_MAX bytes.  Prints the error. */
bool cli_credential_paths(const char *cred_dir, const char *id, char *cert_path,
                          size_t cert_size, char *key_path, size_t key_size);

/* The Catalyst (ML-DSA) key of a credential's active version:
 * <cred-dir>/<id>/<id>.alt.key when the active version has one.  False (no
 * message) when it has none. */
bool cli_credential_alt_key_path(const char *cred_dir, const char *id, char *path,
                                 size_t size);

/* Load the responder: certificate and signer, checking that the signer's key is
 * the certificate's key and that the certificate is the CA itself or was issued
 * by ca (its signature checks out with the CA key).  ca may be NULL (no issuer
 * check).  Prints every error; returns CLI_OK or CLI_USAGE. */
int cli_load_responder(const struct cli_signer_opts *o, const qpki_cert *ca, qpki_cert **cert,
                       qpki_signer **signer);

/* The same, plus the Catalyst alternative signer: from alt_key (a key file),
 * or, for a credential, its active version's <id>.alt.key when it has one.
 * The alternative key must be the certificate's altSubjectPublicKeyInfo.
 * *alt is NULL when there is none. */
int cli_load_responder_alt(const struct cli_signer_opts *o, const char *alt_key,
                           const qpki_cert *ca, qpki_cert **cert, qpki_signer **signer,
                           qpki_signer **alt);

/* Open a key in an HSM (hsm.yaml, label and/or hex id) through the PKCS#11 plugin;
 * cert_spki (may be NULL) is checked against the token's key.  Prints the plugin's
 * message on failure. */
bool cli_open_hsm_signer(const char *hsm_config, const char *label, const char *key_id,
                         const uint8_t *cert_spki, size_t spki_len, qpki_signer **signer);

/* Software signer from a key file, asking for the passphrase as configured.
 * Prints the error. */
bool cli_load_key_signer(const char *path, const char *passphrase_env,
                         const char *passphrase_file, qpki_signer **out);

/* True when the two certificates have the same DER. */
bool cli_cert_equal(const qpki_cert *a, const qpki_cert *b);

/* getrandom(2) */
bool cli_random(uint8_t *buf, size_t len);

#endif
