/* SPDX-License-Identifier: Apache-2.0 */
/* cli/serve/config.c - `qpki ocsp serve` options: command line, YAML file,
 * merge and defaults. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "doc.h"
#include "serve.h"

static const char serve_help[] =
    "Usage: qpki ocsp serve --ca-dir DIR [signer] [options]\n"
    "\n"
    "Start an HTTP OCSP responder (RFC 6960 Appendix A, RFC 9919): GET and POST,\n"
    "cached signed responses, live signing for nonces, hot reload.\n"
    "\n"
    "CAs and signers:\n"
    "  --ca-dir DIR            CA directory with ca.crt (or cacert.pem) and index.txt;\n"
    "                          repeat for several CAs in one process\n"
    "  --cert FILE             responder certificate (delegated responder)\n"
    "  --key FILE              responder private key\n"
    "  --credential ID         credential (alternative to --cert/--key); its active\n"
    "                          version is watched and switched without restart; a\n"
    "                          Catalyst credential also signs with its ML-DSA key.\n"
    "                          Repeated: more keys for the same CA, chosen by clients\n"
    "                          that list a preferred signature algorithm (RFC 6960\n"
    "                          §4.4.7); the first is the default\n"
    "  --cred-dir DIR          credentials directory (default ./credentials)\n"
    "  --hsm-config FILE       HSM configuration (hsm.yaml), with --cert\n"
    "  --key-label LABEL       HSM key label (CKA_LABEL)\n"
    "  --key-id HEX            HSM key ID (CKA_ID)\n"
    "  --passphrase-env VAR    passphrase of an encrypted key file from VAR\n"
    "  --passphrase-file FILE  passphrase from the first line of FILE\n"
    "  Signer options belong to the --ca-dir they follow (or, before any --ca-dir,\n"
    "  to the first one).  A CA without signer options signs with its own key\n"
    "  (ca.key or private/cakey.pem in its directory).\n"
    "\n"
    "CRLs (a CA answered from the CRLs it publishes instead of index.txt):\n"
    "  --crl SOURCE            a complete CRL: a file (PEM or DER) or an http(s) URL,\n"
    "                          checked against the CA certificate; repeat for the\n"
    "                          partitions of a partitioned CRL.  A serial on no CRL\n"
    "                          is answered good (docs/CONFORMANCE.md)\n"
    "  --delta-crl SOURCE      a delta CRL source (RFC 5280 §5.2.4), repeatable\n"
    "  --crl-refresh DURATION  fetch each source again after (default 5m), and at its\n"
    "                          CRL's nextUpdate\n"
    "  --crl-grace DURATION    keep answering this long past nextUpdate (default 0);\n"
    "                          then tryLater until a newer CRL arrives\n"
    "  --crl-unknown-as A      good (default) | unknown: with --issued, serials on no\n"
    "                          CRL and not in the list are answered per --unknown-policy\n"
    "  --issued FILE           issued serials, one hex serial a line (reloaded on change)\n"
    "  --crl-timeout DURATION  one HTTP fetch (default 30s)\n"
    "  --crl-max-size SIZE     largest CRL accepted (default 256MiB)\n"
    "  CRL sources and --issued belong to the --ca-dir they follow.\n"
    "\n"
    "Publishing CRLs (a CA with index.txt and ca.key):\n"
    "  --publish-crl PATH      serve the CA's CRL at this URL path (e.g. /crl/ca.crl):\n"
    "                          application/pkix-crl with Last-Modified, Expires and ETag;\n"
    "                          made from index.txt with the CA's key, numbered from\n"
    "                          crlnumber, remade when the status changes.  Belongs to the\n"
    "                          --ca-dir it follows\n"
    "  --publish-crl-validity DURATION  nextUpdate - thisUpdate (default 7d); remade\n"
    "                          when half of it has passed\n"
    "  --crl-min-interval DURATION  remade at most this often (default 60s)\n"
    "\n"
    "Responses:\n"
    "  --validity DURATION     response validity, nextUpdate - thisUpdate (default 1h)\n"
    "  --backdate DURATION     thisUpdate this much before now (default 1m)\n"
    "  --nonce-policy P        echo (default) | ignore | require\n"
    "  --unknown-policy P      unknown (default) | unauthorized | revoked, for serials\n"
    "                          not in index.txt\n"
    "  --no-certs              do not include the responder certificate\n"
    "  --responder-id T        auto (default: name when the CA signs, key for a\n"
    "                          delegated responder) | key | name\n"
    "  --max-live-signing N    concurrent live signatures before tryLater (default 64)\n"
    "  --cache-size N          signed responses kept (default 1000000; 0 disables)\n"
    "  --presign               sign every row's response ahead of time in a low-priority\n"
    "                          thread (SCHED_IDLE), refresh it before half its validity\n"
    "                          and re-sign a row when it changes: requests without a\n"
    "                          nonce are answered from the cache (size --cache-size\n"
    "                          above rows x hash forms x 8/7)\n"
    "  --presign-hash LIST     CertID hash forms pre-signed: sha1 (default), sha256,\n"
    "                          sha384, sha512, comma-separated\n"
    "  --max-certids N         CertIDs per request (default 16)\n"
    "\n"
    "Status database (default: index.txt in each --ca-dir):\n"
    "  --db URL                follow a PostgreSQL status database instead (libpq\n"
    "                          connection string, no password in it: PGPASSFILE,\n"
    "                          ~/.pgpass, a service file or PGPASSWORD); every CA's rows\n"
    "                          are loaded at start and followed (qpki-db(1))\n"
    "  --db-poll DURATION      look for changes at least this often (default 1s; a\n"
    "                          primary also notifies at once)\n"
    "  --db-max-staleness DURATION  answer tryLater once the table has not been\n"
    "                          confirmed current for this long (default: --validity)\n"
    "\n"
    "HTTP:\n"
    "  --port N                HTTP port (default 8080)\n"
    "  --addr HOST:PORT        full listen address (default :8080, all addresses)\n"
    "  --threads N             worker threads (default: number of CPUs)\n"
    "  --max-body SIZE         largest POST body (default 64KiB) -> 413\n"
    "  --max-url SIZE          longest request-target (default 8KiB) -> 414\n"
    "  --timeout DURATION      idle connection timeout (default 10s)\n"
    "  --max-connections N     open connection cap (default 4096)\n"
    "  --max-connections-per-ip N  open connections from one address (default 0: no cap)\n"
    "  --admin-addr HOST:PORT  serve /healthz and /metrics there (default: off)\n"
    "\n"
    "Process:\n"
    "  --config FILE           YAML configuration (all options, many CAs); flags win\n"
    "  --pid-file FILE         PID file (default /tmp/qpki-ocsp-{port}.pid)\n"
    "  --log-format FORMAT     logfmt (default) | json\n"
    "  --quiet                 no per-request log lines (errors are still logged)\n"
    "  --drain-timeout DURATION  time given to requests in flight on SIGTERM (default 10s)\n"
    "  -h, --help              this help\n"
    "\n"
    "Signals: SIGHUP reloads the configuration, CAs, databases and keys (the old\n"
    "state keeps serving when the new one fails); SIGTERM/SIGINT drain and stop.\n"
    "index.txt changes are picked up within 2 seconds without a signal.\n";

void serve_config_init(struct serve_config *c)
{
    memset(c, 0, sizeof(*c));
    c->port = c->threads = c->max_body = c->max_url = c->timeout = -1;
    c->max_connections = c->max_live_signing = c->cache_size = c->max_certids = -1;
    c->max_connections_per_ip = -1;
    c->drain_timeout = -1;
    c->log_format = -1;
    c->quiet = -1;
    c->presign = c->presign_hash = -1;
    struct serve_ca_config *d = &c->defaults;
    d->validity = d->backdate = -1;
    d->nonce_policy = d->unknown_policy = d->include_certs = d->responder_id = -1;
    d->crl_refresh = d->crl_grace = d->crl_timeout = -1;
    d->crl_max_size = -1;
    d->crl_unknown = -1;
    d->publish_crl_validity = d->crl_min_interval = -1;
    d->db_poll_ms = d->db_max_staleness_ms = -1;
}

static void ca_config_init(struct serve_ca_config *ca)
{
    memset(ca, 0, sizeof(*ca));
    ca->validity = ca->backdate = -1;
    ca->nonce_policy = ca->unknown_policy = ca->include_certs = ca->responder_id = -1;
    ca->crl_refresh = ca->crl_grace = ca->crl_timeout = -1;
    ca->crl_max_size = -1;
    ca->crl_unknown = -1;
    ca->publish_crl_validity = ca->crl_min_interval = -1;
    ca->db_poll_ms = ca->db_max_staleness_ms = -1;
}

static void ca_config_free(struct serve_ca_config *ca)
{
    char **fields[] = {&ca->dir, &ca->name, &ca->cert, &ca->key, &ca->credential,
                       &ca->extra_credentials,
                       &ca->cred_dir, &ca->hsm_config, &ca->key_label, &ca->key_id,
                       &ca->passphrase_env, &ca->passphrase_file, &ca->crl,
                       &ca->delta_crl, &ca->issued, &ca->publish_crl, &ca->db};
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        free(*fields[i]);
        *fields[i] = NULL;
    }
}

void serve_config_free(struct serve_config *c)
{
    if (!c)
        return;
    free(c->addr);
    free(c->pid_file);
    free(c->admin_addr);
    ca_config_free(&c->defaults);
    for (size_t i = 0; i < c->n_cas; i++)
        ca_config_free(&c->cas[i]);
    free(c->cas);
    serve_config_init(c);
}

static bool set_str(char **field, const char *value)
{
    char *copy = strdup(value);
    if (!copy) {
        cli_error("out of memory");
        return false;
    }
    free(*field);
    *field = copy;
    return true;
}

/* Append a line to a '\n'-separated list (a repeated --crl). */
static bool append_line(char **field, const char *value)
{
    if (!*value || strchr(value, '\n')) {
        cli_usage_error("a CRL source cannot be empty or hold a line break");
        return false;
    }
    size_t n = *field ? strlen(*field) : 0;
    char *joined = malloc(n + strlen(value) + 2);
    if (!joined) {
        cli_error("out of memory");
        return false;
    }
    snprintf(joined, n + strlen(value) + 2, "%s%s%s", n ? *field : "", n ? "\n" : "", value);
    free(*field);
    *field = joined;
    return true;
}

static struct serve_ca_config *add_ca(struct serve_config *c)
{
    struct serve_ca_config *n = realloc(c->cas, (c->n_cas + 1) * sizeof(*n));
    if (!n) {
        cli_error("out of memory");
        return NULL;
    }
    c->cas = n;
    ca_config_init(&c->cas[c->n_cas]);
    return &c->cas[c->n_cas++];
}

/* ---- values ------------------------------------------------------------------- */

static bool parse_long(const char *text, long min, long max, long *out)
{
    if (!text || !*text)
        return false;
    errno = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* "65536", "64k", "64KiB", "1M", "1MiB" */
static bool parse_size(const char *text, long min, long max, long *out)
{
    if (!text || !isdigit((unsigned char)*text))
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(text, &end, 10);
    if (errno)
        return false;
    long long mult = 1;
    if (!strcasecmp(end, "k") || !strcasecmp(end, "kib") || !strcasecmp(end, "kb"))
        mult = 1024;
    else if (!strcasecmp(end, "m") || !strcasecmp(end, "mib") || !strcasecmp(end, "mb"))
        mult = 1024 * 1024;
    else if (*end)
        return false;
    if (v > LONG_MAX / mult)
        return false;
    v *= mult;
    if (v < min || v > max)
        return false;
    *out = (long)v;
    return true;
}

static bool parse_seconds(const char *text, int64_t *out)
{
    return cli_parse_duration(text, out);
}

/* A duration in milliseconds: "250ms", or what parse_seconds reads. */
static bool parse_ms(const char *text, int64_t *out)
{
    size_t n = strlen(text);
    if (n > 2 && !strcmp(text + n - 2, "ms")) {
        char digits[24];
        if (n - 2 >= sizeof(digits))
            return false;
        memcpy(digits, text, n - 2);
        digits[n - 2] = '\0';
        long v;
        if (!parse_long(digits, 1, 86400000L, &v))
            return false;
        *out = v;
        return true;
    }
    int64_t secs;
    if (!parse_seconds(text, &secs) || secs > 86400 * 366)
        return false;
    *out = secs * 1000;
    return true;
}

static int parse_choice(const char *text, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && !strcasecmp(text, names[i]))
            return (int)i;
    return -1;
}

static const char *const nonce_names[] = {"echo", "ignore", "require"};
static const char *const unknown_names[] = {"unknown", "unauthorized", "revoked"};
static const char *const rid_names[] = {"key", "name", "auto"}; /* enum order */
static const char *const log_names[] = {"logfmt", "json"};
static const char *const crl_unknown_names[] = {"good", "unknown"};

/* ---- command line ------------------------------------------------------------- */

/* "sha1,sha256": a set of bits 1 << qpki_hash_alg; -1 when bad. */
static int parse_hash_list(const char *text)
{
    static const struct {
        const char *name;
        qpki_hash_alg alg;
    } names[] = {{"sha1", QPKI_HASH_SHA1},
                 {"sha256", QPKI_HASH_SHA256},
                 {"sha384", QPKI_HASH_SHA384},
                 {"sha512", QPKI_HASH_SHA512}};
    int set = 0;
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, ",");
        bool found = false;
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
            if (strlen(names[i].name) == n && !strncasecmp(p, names[i].name, n)) {
                set |= 1 << names[i].alg;
                found = true;
            }
        }
        if (!found)
            return -1;
        if (!p[n])
            return set;
        p += n + 1;
    }
}

enum {
    OPT_PORT = 256, OPT_ADDR, OPT_CA_DIR, OPT_CERT, OPT_KEY, OPT_CREDENTIAL, OPT_CRED_DIR,
    OPT_HSM_CONFIG, OPT_KEY_LABEL, OPT_KEY_ID, OPT_PASS_ENV, OPT_PASS_FILE, OPT_VALIDITY,
    OPT_BACKDATE, OPT_NONCE_POLICY, OPT_UNKNOWN_POLICY, OPT_NO_CERTS, OPT_RESPONDER_ID,
    OPT_MAX_LIVE, OPT_CACHE_SIZE, OPT_MAX_CERTIDS, OPT_THREADS, OPT_MAX_BODY, OPT_MAX_URL,
    OPT_TIMEOUT, OPT_MAX_CONN, OPT_MAX_CONN_IP, OPT_ADMIN, OPT_CONFIG, OPT_PID_FILE, OPT_LOG_FORMAT, OPT_QUIET,
    OPT_DRAIN, OPT_CRL, OPT_DELTA_CRL, OPT_ISSUED, OPT_CRL_REFRESH, OPT_CRL_GRACE,
    OPT_CRL_UNKNOWN, OPT_CRL_TIMEOUT, OPT_CRL_MAX_SIZE, OPT_PUBLISH_CRL, OPT_PUBLISH_VALIDITY,
    OPT_CRL_MIN_INTERVAL, OPT_DB, OPT_DB_POLL, OPT_DB_MAX_STALENESS, OPT_PRESIGN,
    OPT_PRESIGN_HASH
};

static const struct option serve_options[] = {
    {"port", required_argument, NULL, OPT_PORT},
    {"addr", required_argument, NULL, OPT_ADDR},
    {"ca-dir", required_argument, NULL, OPT_CA_DIR},
    {"cert", required_argument, NULL, OPT_CERT},
    {"key", required_argument, NULL, OPT_KEY},
    {"credential", required_argument, NULL, OPT_CREDENTIAL},
    {"cred-dir", required_argument, NULL, OPT_CRED_DIR},
    {"hsm-config", required_argument, NULL, OPT_HSM_CONFIG},
    {"key-label", required_argument, NULL, OPT_KEY_LABEL},
    {"key-id", required_argument, NULL, OPT_KEY_ID},
    {"passphrase-env", required_argument, NULL, OPT_PASS_ENV},
    {"passphrase-file", required_argument, NULL, OPT_PASS_FILE},
    {"validity", required_argument, NULL, OPT_VALIDITY},
    {"backdate", required_argument, NULL, OPT_BACKDATE},
    {"nonce-policy", required_argument, NULL, OPT_NONCE_POLICY},
    {"unknown-policy", required_argument, NULL, OPT_UNKNOWN_POLICY},
    {"no-certs", no_argument, NULL, OPT_NO_CERTS},
    {"responder-id", required_argument, NULL, OPT_RESPONDER_ID},
    {"max-live-signing", required_argument, NULL, OPT_MAX_LIVE},
    {"cache-size", required_argument, NULL, OPT_CACHE_SIZE},
    {"max-certids", required_argument, NULL, OPT_MAX_CERTIDS},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"max-body", required_argument, NULL, OPT_MAX_BODY},
    {"max-url", required_argument, NULL, OPT_MAX_URL},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"max-connections", required_argument, NULL, OPT_MAX_CONN},
    {"max-connections-per-ip", required_argument, NULL, OPT_MAX_CONN_IP},
    {"admin-addr", required_argument, NULL, OPT_ADMIN},
    {"config", required_argument, NULL, OPT_CONFIG},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"quiet", no_argument, NULL, OPT_QUIET},
    {"presign", no_argument, NULL, OPT_PRESIGN},
    {"presign-hash", required_argument, NULL, OPT_PRESIGN_HASH},
    {"drain-timeout", required_argument, NULL, OPT_DRAIN},
    {"crl", required_argument, NULL, OPT_CRL},
    {"delta-crl", required_argument, NULL, OPT_DELTA_CRL},
    {"issued", required_argument, NULL, OPT_ISSUED},
    {"crl-refresh", required_argument, NULL, OPT_CRL_REFRESH},
    {"crl-grace", required_argument, NULL, OPT_CRL_GRACE},
    {"crl-unknown-as", required_argument, NULL, OPT_CRL_UNKNOWN},
    {"crl-timeout", required_argument, NULL, OPT_CRL_TIMEOUT},
    {"crl-max-size", required_argument, NULL, OPT_CRL_MAX_SIZE},
    {"publish-crl", required_argument, NULL, OPT_PUBLISH_CRL},
    {"publish-crl-validity", required_argument, NULL, OPT_PUBLISH_VALIDITY},
    {"crl-min-interval", required_argument, NULL, OPT_CRL_MIN_INTERVAL},
    {"db", required_argument, NULL, OPT_DB},
    {"db-poll", required_argument, NULL, OPT_DB_POLL},
    {"db-max-staleness", required_argument, NULL, OPT_DB_MAX_STALENESS},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* The CA that signer options given now belong to. */
static struct serve_ca_config *signer_target(struct serve_config *c,
                                             struct serve_ca_config *before_any)
{
    return c->n_cas ? &c->cas[c->n_cas - 1] : before_any;
}

static bool set_signer_field(struct serve_ca_config *ca, int opt, const char *value)
{
    char **field = NULL;
    const char *flag = "";
    switch (opt) {
    case OPT_CERT: field = &ca->cert; flag = "--cert"; break;
    case OPT_KEY: field = &ca->key; flag = "--key"; break;
    case OPT_CREDENTIAL: field = &ca->credential; flag = "--credential"; break;
    case OPT_HSM_CONFIG: field = &ca->hsm_config; flag = "--hsm-config"; break;
    case OPT_KEY_LABEL: field = &ca->key_label; flag = "--key-label"; break;
    case OPT_KEY_ID: field = &ca->key_id; flag = "--key-id"; break;
    default: return false;
    }
    if (*field && opt == OPT_CREDENTIAL) {
        /* RFC 6960 §4.4.7: another key for the same CA, chosen by preference */
        size_t n = ca->extra_credentials ? strlen(ca->extra_credentials) : 0;
        char *joined = malloc(n + strlen(value) + 2);
        if (!joined) {
            cli_error("out of memory");
            return false;
        }
        snprintf(joined, n + strlen(value) + 2, "%s%s%s", n ? ca->extra_credentials : "",
                 n ? "," : "", value);
        free(ca->extra_credentials);
        ca->extra_credentials = joined;
        return true;
    }
    if (*field) {
        cli_usage_error("%s given twice for the same --ca-dir", flag);
        return false;
    }
    return set_str(field, value);
}

int serve_config_from_args(int argc, char **argv, struct serve_config *c,
                           const char **config_path)
{
    struct serve_ca_config before;  /* signer options before the first --ca-dir */
    ca_config_init(&before);
    int rc = CLI_USAGE;
    *config_path = NULL;
    int opt;
    int64_t secs;
    while ((opt = cli_getopt(argc, argv, "h", serve_options)) != -1) {
        struct serve_ca_config *d = &c->defaults;
        switch (opt) {
        case 'h':
            cli_help(serve_help);
            rc = -1;
            goto out;
        case OPT_PORT:
            if (!parse_long(optarg, 0, 65535, &c->port)) {
                cli_usage_error("--port must be 0..65535, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_ADDR:
            if (!set_str(&c->addr, optarg))
                goto out;
            break;
        case OPT_CA_DIR: {
            struct serve_ca_config *ca = add_ca(c);
            if (!ca || !set_str(&ca->dir, optarg))
                goto out;
            if (c->n_cas == 1) {  /* options given before it belong to it */
                ca->cert = before.cert;
                ca->key = before.key;
                ca->credential = before.credential;
                ca->extra_credentials = before.extra_credentials;
                ca->hsm_config = before.hsm_config;
                ca->key_label = before.key_label;
                ca->key_id = before.key_id;
                ca->crl = before.crl;
                ca->delta_crl = before.delta_crl;
                ca->issued = before.issued;
                ca->publish_crl = before.publish_crl;
                before.crl = before.delta_crl = before.issued = before.publish_crl = NULL;
                before.cert = before.key = before.credential = NULL;
                before.extra_credentials = NULL;
                before.hsm_config = before.key_label = before.key_id = NULL;
            }
            break;
        }
        case OPT_CERT:
        case OPT_KEY:
        case OPT_CREDENTIAL:
        case OPT_HSM_CONFIG:
        case OPT_KEY_LABEL:
        case OPT_KEY_ID:
            if (!set_signer_field(signer_target(c, &before), opt, optarg))
                goto out;
            break;
        case OPT_CRED_DIR:
            if (!set_str(&d->cred_dir, optarg))
                goto out;
            break;
        case OPT_CRL:
            if (!append_line(&signer_target(c, &before)->crl, optarg))
                goto out;
            break;
        case OPT_DELTA_CRL:
            if (!append_line(&signer_target(c, &before)->delta_crl, optarg))
                goto out;
            break;
        case OPT_ISSUED: {
            struct serve_ca_config *t = signer_target(c, &before);
            if (t->issued) {
                cli_usage_error("--issued given twice for the same --ca-dir");
                goto out;
            }
            if (!set_str(&t->issued, optarg))
                goto out;
            break;
        }
        case OPT_PUBLISH_CRL: {
            struct serve_ca_config *t = signer_target(c, &before);
            if (t->publish_crl) {
                cli_usage_error("--publish-crl given twice for the same --ca-dir");
                goto out;
            }
            if (!set_str(&t->publish_crl, optarg))
                goto out;
            break;
        }
        case OPT_PUBLISH_VALIDITY:
        case OPT_CRL_MIN_INTERVAL:
            if (!strcmp(optarg, "0") && opt == OPT_CRL_MIN_INTERVAL)
                secs = 0;
            else if (!parse_seconds(optarg, &secs) || secs > 3650 * 86400) {
                cli_usage_error("bad duration '%s' (examples: 30s 15m 1h 7d)", optarg);
                goto out;
            }
            *(opt == OPT_PUBLISH_VALIDITY ? &d->publish_crl_validity : &d->crl_min_interval) = secs;
            break;
        case OPT_CRL_REFRESH:
        case OPT_CRL_GRACE:
        case OPT_CRL_TIMEOUT:
            if (!strcmp(optarg, "0") && opt == OPT_CRL_GRACE)
                secs = 0;
            else if (!parse_seconds(optarg, &secs) || secs > 365 * 86400 ||
                     (opt == OPT_CRL_TIMEOUT && secs > 3600)) {
                cli_usage_error("bad duration '%s' (examples: 30s 15m 1h 7d)", optarg);
                goto out;
            }
            *(opt == OPT_CRL_REFRESH ? &d->crl_refresh
                                     : opt == OPT_CRL_GRACE ? &d->crl_grace : &d->crl_timeout) = secs;
            break;
        case OPT_CRL_UNKNOWN:
            if ((d->crl_unknown = parse_choice(optarg, crl_unknown_names, 2)) < 0) {
                cli_usage_error("--crl-unknown-as is good or unknown, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_CRL_MAX_SIZE:
            if (!parse_size(optarg, 128, 1L << 30, &d->crl_max_size)) {
                cli_usage_error("bad --crl-max-size '%s' (128 bytes .. 1024MiB)", optarg);
                goto out;
            }
            break;
        case OPT_PASS_ENV:
            if (!set_str(&d->passphrase_env, optarg))
                goto out;
            break;
        case OPT_PASS_FILE:
            if (!set_str(&d->passphrase_file, optarg))
                goto out;
            break;
        case OPT_VALIDITY:
            if (!parse_seconds(optarg, &secs)) {
                cli_usage_error("bad --validity '%s' (examples: 30s 15m 1h 7d)", optarg);
                goto out;
            }
            d->validity = secs;
            break;
        case OPT_BACKDATE:
            if (!strcmp(optarg, "0"))
                secs = 0;
            else if (!parse_seconds(optarg, &secs)) {
                cli_usage_error("bad --backdate '%s'", optarg);
                goto out;
            }
            d->backdate = secs;
            break;
        case OPT_NONCE_POLICY:
            if ((d->nonce_policy = parse_choice(optarg, nonce_names, 3)) < 0) {
                cli_usage_error("--nonce-policy is echo, ignore or require, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_UNKNOWN_POLICY:
            if ((d->unknown_policy = parse_choice(optarg, unknown_names, 3)) < 0) {
                cli_usage_error("--unknown-policy is unknown, unauthorized or revoked");
                goto out;
            }
            break;
        case OPT_NO_CERTS:
            d->include_certs = 0;
            break;
        case OPT_RESPONDER_ID:
            if ((d->responder_id = parse_choice(optarg, rid_names, 3)) < 0) {
                cli_usage_error("--responder-id is auto, key or name, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_MAX_LIVE:
            if (!parse_long(optarg, 1, 1000000, &c->max_live_signing)) {
                cli_usage_error("bad --max-live-signing '%s'", optarg);
                goto out;
            }
            break;
        case OPT_CACHE_SIZE:
            if (!parse_long(optarg, 0, 1L << 30, &c->cache_size)) {
                cli_usage_error("bad --cache-size '%s'", optarg);
                goto out;
            }
            break;
        case OPT_MAX_CERTIDS:
            if (!parse_long(optarg, 1, 1000, &c->max_certids)) {
                cli_usage_error("bad --max-certids '%s'", optarg);
                goto out;
            }
            break;
        case OPT_THREADS:
            if (!parse_long(optarg, 1, 1024, &c->threads)) {
                cli_usage_error("--threads must be 1..1024, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_MAX_BODY:
            if (!parse_size(optarg, 1, 16L << 20, &c->max_body)) {
                cli_usage_error("bad --max-body '%s' (1 byte .. 16MiB)", optarg);
                goto out;
            }
            break;
        case OPT_MAX_URL:
            if (!parse_size(optarg, 16, 1L << 20, &c->max_url)) {
                cli_usage_error("bad --max-url '%s' (16 bytes .. 1MiB)", optarg);
                goto out;
            }
            break;
        case OPT_TIMEOUT:
            if (!parse_seconds(optarg, &secs) || secs > 86400) {
                cli_usage_error("bad --timeout '%s'", optarg);
                goto out;
            }
            c->timeout = (long)secs;
            break;
        case OPT_MAX_CONN:
            if (!parse_long(optarg, 1, 1000000, &c->max_connections)) {
                cli_usage_error("bad --max-connections '%s'", optarg);
                goto out;
            }
            break;
        case OPT_MAX_CONN_IP:
            if (!parse_long(optarg, 0, 1000000, &c->max_connections_per_ip)) {
                cli_usage_error("bad --max-connections-per-ip '%s'", optarg);
                goto out;
            }
            break;
        case OPT_ADMIN:
            if (!set_str(&c->admin_addr, optarg))
                goto out;
            break;
        case OPT_CONFIG:
            *config_path = optarg;
            break;
        case OPT_PID_FILE:
            if (!set_str(&c->pid_file, optarg))
                goto out;
            break;
        case OPT_LOG_FORMAT:
            if ((c->log_format = parse_choice(optarg, log_names, 2)) < 0) {
                cli_usage_error("--log-format is logfmt or json, not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_QUIET:
            c->quiet = 1;
            break;
        case OPT_DB:
            if (!set_str(&d->db, optarg))
                goto out;
            break;
        case OPT_DB_POLL:
        case OPT_DB_MAX_STALENESS: {
            int64_t ms;
            if (!parse_ms(optarg, &ms)) {
                cli_usage_error("bad %s '%s' (examples: 500ms 1s 30s 1h)",
                                opt == OPT_DB_POLL ? "--db-poll" : "--db-max-staleness", optarg);
                goto out;
            }
            *(opt == OPT_DB_POLL ? &d->db_poll_ms : &d->db_max_staleness_ms) = ms;
            break;
        }
        case OPT_PRESIGN:
            c->presign = 1;
            break;
        case OPT_PRESIGN_HASH:
            if ((c->presign_hash = parse_hash_list(optarg)) < 0) {
                cli_usage_error("--presign-hash is a list of sha1, sha256, sha384, sha512, "
                                "not '%s'", optarg);
                goto out;
            }
            break;
        case OPT_DRAIN:
            if (!strcmp(optarg, "0"))
                secs = 0;
            else if (!parse_seconds(optarg, &secs) || secs > 3600) {
                cli_usage_error("bad --drain-timeout '%s'", optarg);
                goto out;
            }
            c->drain_timeout = (long)secs;
            break;
        default:
            goto out;
        }
    }
    if (optind < argc) {
        cli_usage_error("unexpected argument '%s'", argv[optind]);
        goto out;
    }
    if (!c->n_cas && (before.crl || before.delta_crl || before.issued || before.publish_crl)) {
        if (!*config_path) {
            cli_usage_error("--ca-dir is required");
            goto out;
        }
        c->defaults.crl = before.crl;
        c->defaults.delta_crl = before.delta_crl;
        c->defaults.issued = before.issued;
        c->defaults.publish_crl = before.publish_crl;
        before.crl = before.delta_crl = before.issued = before.publish_crl = NULL;
    }
    if (!c->n_cas && (before.cert || before.key || before.credential || before.hsm_config)) {
        if (!*config_path) {
            cli_usage_error("--ca-dir is required");
            goto out;
        }
        /* signer options for the configuration file's single CA */
        c->defaults.cert = before.cert;
        c->defaults.key = before.key;
        c->defaults.credential = before.credential;
        c->defaults.extra_credentials = before.extra_credentials;
        c->defaults.hsm_config = before.hsm_config;
        c->defaults.key_label = before.key_label;
        c->defaults.key_id = before.key_id;
        memset(&before, 0, sizeof(before));
    }
    rc = CLI_OK;
out:
    ca_config_free(&before);
    return rc;
}

/* ---- YAML --------------------------------------------------------------------------- */

/* Keys are compared with '-' and '_' treated alike. */
static bool key_is(const char *key, const char *want)
{
    for (; *key && *want; key++, want++) {
        char a = *key == '-' ? '_' : *key, b = *want == '-' ? '_' : *want;
        if (a != b)
            return false;
    }
    return *key == *want;
}

struct yaml_ctx {
    const char *path;
};

static bool yaml_error(const struct yaml_ctx *y, const struct doc *node, const char *what)
{
    cli_error("%s:%u: %s", y->path, node ? node->line : 0, what);
    return false;
}

static bool yaml_scalar(const struct yaml_ctx *y, const struct doc *v, const char **out)
{
    if (!v || v->type != DOC_SCALAR)
        return yaml_error(y, v, "expected a single value");
    *out = v->value;
    return true;
}

static bool yaml_bool(const struct yaml_ctx *y, const struct doc *v, int *out)
{
    const char *s;
    if (!yaml_scalar(y, v, &s))
        return false;
    if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on"))
        *out = 1;
    else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off"))
        *out = 0;
    else
        return yaml_error(y, v, "expected true or false");
    return true;
}

/* A per-CA key (also allowed at the top level as a default).  Returns 1 when
 * handled, 0 when not a CA key, -1 on error. */
static int yaml_ca_key(const struct yaml_ctx *y, const char *key, const struct doc *v,
                       struct serve_ca_config *ca)
{
    struct {
        const char *name;
        char **field;
    } strs[] = {
        {"dir", &ca->dir}, {"ca_dir", &ca->dir}, {"name", &ca->name}, {"cert", &ca->cert},
        {"key", &ca->key}, {"credential", &ca->credential}, {"cred_dir", &ca->cred_dir},
        {"extra_credentials", &ca->extra_credentials},
        {"hsm_config", &ca->hsm_config}, {"key_label", &ca->key_label},
        {"key_id", &ca->key_id}, {"passphrase_env", &ca->passphrase_env},
        {"passphrase_file", &ca->passphrase_file}, {"issued", &ca->issued},
        {"publish_crl", &ca->publish_crl},
        {"db", &ca->db},
    };
    const char *s;
    for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++) {
        if (!key_is(key, strs[i].name))
            continue;
        if (!yaml_scalar(y, v, &s) || !set_str(strs[i].field, s))
            return -1;
        return 1;
    }
    int64_t secs;
    if (key_is(key, "validity") || key_is(key, "backdate")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        bool backdate = key_is(key, "backdate");
        if (backdate && !strcmp(s, "0"))
            secs = 0;
        else if (!parse_seconds(s, &secs))
        {
            yaml_error(y, v, "bad duration (examples: 30s 15m 1h 7d)");
            return -1;
        }
        *(backdate ? &ca->backdate : &ca->validity) = secs;
        return 1;
    }
    if (key_is(key, "db_poll") || key_is(key, "db_max_staleness")) {
        int64_t ms;
        if (!yaml_scalar(y, v, &s))
            return -1;
        if (!parse_ms(s, &ms)) {
            yaml_error(y, v, "bad duration (examples: 500ms 1s 30s 1h)");
            return -1;
        }
        *(key_is(key, "db_poll") ? &ca->db_poll_ms : &ca->db_max_staleness_ms) = ms;
        return 1;
    }
    if (key_is(key, "nonce_policy")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if ((ca->nonce_policy = parse_choice(s, nonce_names, 3)) < 0) {
            yaml_error(y, v, "nonce_policy is echo, ignore or require");
            return -1;
        }
        return 1;
    }
    if (key_is(key, "unknown_policy")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if ((ca->unknown_policy = parse_choice(s, unknown_names, 3)) < 0) {
            yaml_error(y, v, "unknown_policy is unknown, unauthorized or revoked");
            return -1;
        }
        return 1;
    }
    if (key_is(key, "responder_id")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if ((ca->responder_id = parse_choice(s, rid_names, 3)) < 0) {
            yaml_error(y, v, "responder_id is auto, key or name");
            return -1;
        }
        return 1;
    }
    if (key_is(key, "include_certs"))
        return yaml_bool(y, v, &ca->include_certs) ? 1 : -1;
    if (key_is(key, "crl") || key_is(key, "delta_crl")) {
        /* one source or a list of them */
        char **field = key_is(key, "crl") ? &ca->crl : &ca->delta_crl;
        free(*field);
        *field = NULL;
        if (v && v->type == DOC_SEQ) {
            for (size_t i = 0; i < v->n; i++)
                if (!yaml_scalar(y, v->items[i], &s) || !append_line(field, s))
                    return -1;
            return 1;
        }
        return yaml_scalar(y, v, &s) && append_line(field, s) ? 1 : -1;
    }
    if (key_is(key, "crl_refresh") || key_is(key, "crl_grace") || key_is(key, "crl_timeout")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if (!strcmp(s, "0") && key_is(key, "crl_grace"))
            secs = 0;
        else if (!parse_seconds(s, &secs) || secs > 365 * 86400) {
            yaml_error(y, v, "bad duration (examples: 30s 15m 1h 7d)");
            return -1;
        }
        *(key_is(key, "crl_refresh") ? &ca->crl_refresh
          : key_is(key, "crl_grace") ? &ca->crl_grace : &ca->crl_timeout) = secs;
        return 1;
    }
    if (key_is(key, "publish_crl_validity") || key_is(key, "crl_min_interval")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if (!strcmp(s, "0") && key_is(key, "crl_min_interval"))
            secs = 0;
        else if (!parse_seconds(s, &secs) || secs > 3650 * 86400) {
            yaml_error(y, v, "bad duration (examples: 30s 15m 1h 7d)");
            return -1;
        }
        *(key_is(key, "publish_crl_validity") ? &ca->publish_crl_validity
                                              : &ca->crl_min_interval) = secs;
        return 1;
    }
    if (key_is(key, "crl_unknown_as")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if ((ca->crl_unknown = parse_choice(s, crl_unknown_names, 2)) < 0) {
            yaml_error(y, v, "crl_unknown_as is good or unknown");
            return -1;
        }
        return 1;
    }
    if (key_is(key, "crl_max_size")) {
        if (!yaml_scalar(y, v, &s))
            return -1;
        if (!parse_size(s, 128, 1L << 30, &ca->crl_max_size)) {
            yaml_error(y, v, "bad size (128 bytes .. 1024MiB)");
            return -1;
        }
        return 1;
    }
    return 0;
}

static bool yaml_long(const struct yaml_ctx *y, const struct doc *v, long min, long max,
                      bool size, long *out)
{
    const char *s;
    if (!yaml_scalar(y, v, &s))
        return false;
    bool ok = size ? parse_size(s, min, max, out) : parse_long(s, min, max, out);
    if (!ok)
        return yaml_error(y, v, "bad number");
    return true;
}

bool serve_config_load_yaml(const char *path, struct serve_config *c)
{
    uint8_t *text = NULL;
    size_t len = 0;
    if (!cli_read_file(path, "configuration", &text, &len))
        return false;
    char err[256] = "";
    struct doc *root = doc_parse((const char *)text, len, err, sizeof(err));
    free(text);
    if (!root) {
        cli_error("%s: %s", path, err);
        return false;
    }
    struct yaml_ctx y = {path};
    bool ok = false;
    if (root->type != DOC_MAP) {
        yaml_error(&y, root, "the configuration must be a mapping of options");
        goto out;
    }
    for (size_t i = 0; i < root->n; i++) {
        const char *key = root->keys[i];
        const struct doc *v = root->items[i];
        const char *s;
        int64_t secs;
        int handled = yaml_ca_key(&y, key, v, &c->defaults);
        if (handled < 0)
            goto out;
        if (handled > 0) {
            if (key_is(key, "dir") || key_is(key, "ca_dir")) {
                /* a single CA at the top level */
                struct serve_ca_config *ca = add_ca(c);
                if (!ca)
                    goto out;
                ca->dir = c->defaults.dir;
                c->defaults.dir = NULL;
            }
            continue;
        }
        if (key_is(key, "addr") || key_is(key, "listen")) {
            if (!yaml_scalar(&y, v, &s) || !set_str(&c->addr, s))
                goto out;
        } else if (key_is(key, "port")) {
            if (!yaml_long(&y, v, 0, 65535, false, &c->port))
                goto out;
        } else if (key_is(key, "pid_file")) {
            if (!yaml_scalar(&y, v, &s) || !set_str(&c->pid_file, s))
                goto out;
        } else if (key_is(key, "admin_addr")) {
            if (!yaml_scalar(&y, v, &s) || !set_str(&c->admin_addr, s))
                goto out;
        } else if (key_is(key, "threads")) {
            if (!yaml_long(&y, v, 1, 1024, false, &c->threads))
                goto out;
        } else if (key_is(key, "max_body")) {
            if (!yaml_long(&y, v, 1, 16L << 20, true, &c->max_body))
                goto out;
        } else if (key_is(key, "max_url")) {
            if (!yaml_long(&y, v, 16, 1L << 20, true, &c->max_url))
                goto out;
        } else if (key_is(key, "max_connections")) {
            if (!yaml_long(&y, v, 1, 1000000, false, &c->max_connections))
                goto out;
        } else if (key_is(key, "max_connections_per_ip")) {
            if (!yaml_long(&y, v, 0, 1000000, false, &c->max_connections_per_ip))
                goto out;
        } else if (key_is(key, "max_live_signing")) {
            if (!yaml_long(&y, v, 1, 1000000, false, &c->max_live_signing))
                goto out;
        } else if (key_is(key, "cache_size")) {
            if (!yaml_long(&y, v, 0, 1L << 30, false, &c->cache_size))
                goto out;
        } else if (key_is(key, "max_certids")) {
            if (!yaml_long(&y, v, 1, 1000, false, &c->max_certids))
                goto out;
        } else if (key_is(key, "timeout") || key_is(key, "drain_timeout")) {
            if (!yaml_scalar(&y, v, &s))
                goto out;
            if (!strcmp(s, "0") && key_is(key, "drain_timeout"))
                secs = 0;
            else if (!parse_seconds(s, &secs) || secs > 86400) {
                yaml_error(&y, v, "bad duration");
                goto out;
            }
            *(key_is(key, "timeout") ? &c->timeout : &c->drain_timeout) = (long)secs;
        } else if (key_is(key, "log_format")) {
            if (!yaml_scalar(&y, v, &s))
                goto out;
            if ((c->log_format = parse_choice(s, log_names, 2)) < 0) {
                yaml_error(&y, v, "log_format is logfmt or json");
                goto out;
            }
        } else if (key_is(key, "quiet")) {
            if (!yaml_bool(&y, v, &c->quiet))
                goto out;
        } else if (key_is(key, "presign")) {
            if (!yaml_bool(&y, v, &c->presign))
                goto out;
        } else if (key_is(key, "presign_hash")) {
            if (!yaml_scalar(&y, v, &s))
                goto out;
            if ((c->presign_hash = parse_hash_list(s)) < 0) {
                yaml_error(&y, v, "presign_hash is a list of sha1, sha256, sha384, sha512");
                goto out;
            }
        } else if (key_is(key, "cas")) {
            if (v->type != DOC_SEQ) {
                yaml_error(&y, v, "cas must be a list of CAs");
                goto out;
            }
            for (size_t j = 0; j < v->n; j++) {
                const struct doc *item = v->items[j];
                if (item->type != DOC_MAP) {
                    yaml_error(&y, item, "each CA is a mapping with at least 'dir'");
                    goto out;
                }
                struct serve_ca_config *ca = add_ca(c);
                if (!ca)
                    goto out;
                for (size_t k = 0; k < item->n; k++) {
                    int r = yaml_ca_key(&y, item->keys[k], item->items[k], ca);
                    if (r < 0)
                        goto out;
                    if (r == 0) {
                        char msg[160];
                        snprintf(msg, sizeof(msg), "unknown CA option '%s'", item->keys[k]);
                        yaml_error(&y, item->items[k], msg);
                        goto out;
                    }
                }
                if (!ca->dir) {
                    yaml_error(&y, item, "a CA needs 'dir'");
                    goto out;
                }
            }
        } else {
            char msg[160];
            snprintf(msg, sizeof(msg), "unknown option '%s'", key);
            yaml_error(&y, v, msg);
            goto out;
        }
    }
    ok = true;
out:
    doc_free(root);
    return ok;
}

/* ---- merge and defaults --------------------------------------------------------------- */

static bool dup_field(char **dst, const char *src)
{
    return !src || set_str(dst, src);
}

/* dst = every set field of a, then every set field of b on top. */
static bool ca_merge(struct serve_ca_config *dst, const struct serve_ca_config *a,
                     const struct serve_ca_config *b)
{
    const struct serve_ca_config *src[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const struct serve_ca_config *s = src[i];
        if (!s)
            continue;
        if (!dup_field(&dst->dir, s->dir) || !dup_field(&dst->name, s->name) ||
            !dup_field(&dst->cred_dir, s->cred_dir) ||
            !dup_field(&dst->passphrase_env, s->passphrase_env) ||
            !dup_field(&dst->passphrase_file, s->passphrase_file) ||
            !dup_field(&dst->crl, s->crl) || !dup_field(&dst->delta_crl, s->delta_crl) ||
            !dup_field(&dst->issued, s->issued) || !dup_field(&dst->publish_crl, s->publish_crl) ||
            !dup_field(&dst->db, s->db))
            return false;
        if (s->publish_crl_validity >= 0)
            dst->publish_crl_validity = s->publish_crl_validity;
        if (s->crl_min_interval >= 0)
            dst->crl_min_interval = s->crl_min_interval;
        if (s->crl_refresh >= 0)
            dst->crl_refresh = s->crl_refresh;
        if (s->crl_grace >= 0)
            dst->crl_grace = s->crl_grace;
        if (s->crl_timeout >= 0)
            dst->crl_timeout = s->crl_timeout;
        if (s->crl_max_size >= 0)
            dst->crl_max_size = s->crl_max_size;
        if (s->crl_unknown >= 0)
            dst->crl_unknown = s->crl_unknown;
        /* the signer is one unit: a source that names one replaces it whole */
        if (s->cert || s->key || s->credential || s->hsm_config || s->key_label || s->key_id) {
            free(dst->cert);
            free(dst->key);
            free(dst->credential);
            free(dst->extra_credentials);
            free(dst->hsm_config);
            free(dst->key_label);
            free(dst->key_id);
            dst->cert = dst->key = dst->credential = dst->hsm_config = NULL;
            dst->extra_credentials = NULL;
            dst->key_label = dst->key_id = NULL;
            if (!dup_field(&dst->cert, s->cert) || !dup_field(&dst->key, s->key) ||
                !dup_field(&dst->credential, s->credential) ||
                !dup_field(&dst->extra_credentials, s->extra_credentials) ||
                !dup_field(&dst->hsm_config, s->hsm_config) ||
                !dup_field(&dst->key_label, s->key_label) || !dup_field(&dst->key_id, s->key_id))
                return false;
        }
        if (s->validity >= 0)
            dst->validity = s->validity;
        if (s->backdate >= 0)
            dst->backdate = s->backdate;
        if (s->nonce_policy >= 0)
            dst->nonce_policy = s->nonce_policy;
        if (s->unknown_policy >= 0)
            dst->unknown_policy = s->unknown_policy;
        if (s->include_certs >= 0)
            dst->include_certs = s->include_certs;
        if (s->responder_id >= 0)
            dst->responder_id = s->responder_id;
        if (s->db_poll_ms >= 0)
            dst->db_poll_ms = s->db_poll_ms;
        if (s->db_max_staleness_ms >= 0)
            dst->db_max_staleness_ms = s->db_max_staleness_ms;
    }
    return true;
}

bool serve_config_merge(const struct serve_config *base, const struct serve_config *over,
                        struct serve_config *out)
{
    serve_config_init(out);
    const struct serve_config *src[2] = {base, over};
    for (int i = 0; i < 2; i++) {
        const struct serve_config *s = src[i];
        if (!dup_field(&out->addr, s->addr) || !dup_field(&out->pid_file, s->pid_file) ||
            !dup_field(&out->admin_addr, s->admin_addr))
            goto fail;
        long *dst_l[] = {&out->port, &out->threads, &out->max_body, &out->max_url,
                         &out->timeout, &out->max_connections, &out->max_live_signing,
                         &out->cache_size, &out->max_certids, &out->drain_timeout,
                         &out->max_connections_per_ip};
        const long src_l[] = {s->port, s->threads, s->max_body, s->max_url, s->timeout,
                              s->max_connections, s->max_live_signing, s->cache_size,
                              s->max_certids, s->drain_timeout, s->max_connections_per_ip};
        for (size_t k = 0; k < sizeof(src_l) / sizeof(src_l[0]); k++)
            if (src_l[k] >= 0)
                *dst_l[k] = src_l[k];
        if (s->log_format >= 0)
            out->log_format = s->log_format;
        if (s->quiet >= 0)
            out->quiet = s->quiet;
        if (s->presign >= 0)
            out->presign = s->presign;
        if (s->presign_hash >= 0)
            out->presign_hash = s->presign_hash;
    }
    if (!ca_merge(&out->defaults, &base->defaults, &over->defaults))
        goto fail;
    /* --ca-dir on the command line replaces the file's list */
    const struct serve_config *list = over->n_cas ? over : base;
    for (size_t i = 0; i < list->n_cas; i++) {
        struct serve_ca_config *ca = add_ca(out);
        if (!ca || !ca_merge(ca, &list->cas[i], NULL))
            goto fail;
    }
    return true;
fail:
    serve_config_free(out);
    return false;
}

static const char *basename_of(const char *path, char *buf, size_t size)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    size_t start = n;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t len = n - start;
    if (len >= size)
        len = size - 1;
    memcpy(buf, path + start, len);
    buf[len] = '\0';
    return buf;
}

bool serve_config_finish(struct serve_config *c)
{
    if (!c->n_cas) {
        cli_usage_error("--ca-dir is required");
        return false;
    }
    if (c->port < 0)
        c->port = 8080;
    if (!c->addr) {
        char a[32];
        snprintf(a, sizeof(a), ":%ld", c->port);
        if (!set_str(&c->addr, a))
            return false;
    }
    if (c->threads < 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->threads = n > 0 ? n : 1;
    }
    if (c->max_body < 0)
        c->max_body = QPKI_HTTP_DEFAULT_MAX_BODY;
    if (c->max_url < 0)
        c->max_url = QPKI_HTTP_DEFAULT_MAX_TARGET;
    if (c->timeout < 0)
        c->timeout = 10;
    if (c->max_connections < 0)
        c->max_connections = 4096;
    if (c->max_connections_per_ip < 0)
        c->max_connections_per_ip = 0;
    if (c->max_live_signing < 0)
        c->max_live_signing = 64;
    if (c->cache_size < 0)
        c->cache_size = 1000000;
    if (c->max_certids < 0)
        c->max_certids = QPKI_DEFAULT_MAX_CERTIDS;
    if (c->log_format < 0)
        c->log_format = SERVE_LOG_LOGFMT;
    if (c->quiet < 0)
        c->quiet = 0;
    if (c->presign < 0)
        c->presign = 0;
    if (c->presign_hash < 0)
        c->presign_hash = 1 << QPKI_HASH_SHA1;
    if (c->drain_timeout < 0)
        c->drain_timeout = 10;
    if (!c->pid_file) {
        char p[64];
        serve_default_pid_file(serve_config_port(c), p, sizeof(p));
        if (!set_str(&c->pid_file, p))
            return false;
    }
    for (size_t i = 0; i < c->n_cas; i++) {
        struct serve_ca_config *ca = &c->cas[i];
        struct serve_ca_config merged;
        ca_config_init(&merged);
        /* defaults first, then the CA's own values; the defaults' signer (flags
         * given with a --config file of one CA) applies only to a CA without one */
        bool own_signer = ca->cert || ca->key || ca->credential || ca->hsm_config;
        struct serve_ca_config defaults = c->defaults;
        if (own_signer || c->n_cas > 1) {
            defaults.cert = defaults.key = defaults.credential = NULL;
            defaults.extra_credentials = NULL;
            defaults.hsm_config = defaults.key_label = defaults.key_id = NULL;
        }
        /* so are CRL sources and the issued list: they name one CA's files */
        if (ca->crl || ca->delta_crl || ca->issued || c->n_cas > 1)
            defaults.crl = defaults.delta_crl = defaults.issued = NULL;
        if (ca->publish_crl || c->n_cas > 1)
            defaults.publish_crl = NULL;
        /* a CA of its own CRLs does not take the default database either */
        if (ca->crl)
            defaults.db = NULL;
        if (!ca_merge(&merged, &defaults, ca)) {
            ca_config_free(&merged);
            return false;
        }
        ca_config_free(ca);
        *ca = merged;
        if (!ca->cred_dir && !set_str(&ca->cred_dir, "./credentials"))
            return false;
        if (!ca->name) {
            char b[256];
            if (!set_str(&ca->name, basename_of(ca->dir, b, sizeof(b))))
                return false;
        }
        if (ca->validity < 0)
            ca->validity = 3600;
        if (ca->backdate < 0)
            ca->backdate = 60;
        if (ca->nonce_policy < 0)
            ca->nonce_policy = QPKI_NONCE_ECHO;
        if (ca->unknown_policy < 0)
            ca->unknown_policy = QPKI_UNKNOWN_AS_UNKNOWN;
        if (ca->include_certs < 0)
            ca->include_certs = 1;
        if (ca->db_poll_ms < 0)
            ca->db_poll_ms = 1000;
        /* a table older than the answers' validity would let a revocation be
         * missed for longer than a client caches an answer anyway */
        if (ca->db_max_staleness_ms < 0)
            ca->db_max_staleness_ms = ca->validity * 1000;
        if (ca->db && ca->db_max_staleness_ms <= ca->db_poll_ms) {
            cli_usage_error("CA %s: --db-max-staleness (%lld ms) must be longer than --db-poll "
                            "(%lld ms)", ca->dir, (long long)ca->db_max_staleness_ms,
                            (long long)ca->db_poll_ms);
            return false;
        }
        if (ca->responder_id < 0)
            ca->responder_id = QPKI_RESPONDER_ID_AUTO;
        if (ca->crl_refresh <= 0)
            ca->crl_refresh = 300;
        if (ca->crl_grace < 0)
            ca->crl_grace = 0;
        if (ca->crl_timeout <= 0)
            ca->crl_timeout = 30;
        if (ca->crl_max_size < 0)
            ca->crl_max_size = 256L << 20;
        if (ca->crl_unknown < 0)
            ca->crl_unknown = 0;
        if (ca->delta_crl && !ca->crl) {
            cli_usage_error("CA %s: --delta-crl needs --crl (the complete CRL it applies to)",
                            ca->dir);
            return false;
        }
        if ((ca->crl_unknown == 1) != (ca->issued != NULL)) {
            cli_usage_error("CA %s: --crl-unknown-as unknown and --issued FILE go together "
                            "(a CRL cannot tell an issued serial from another one)",
                            ca->dir);
            return false;
        }
        if (ca->publish_crl_validity <= 0)
            ca->publish_crl_validity = 7 * 86400;
        if (ca->crl_min_interval < 0)
            ca->crl_min_interval = 60;
        if (ca->publish_crl) {
            if (ca->publish_crl[0] != '/') {
                cli_usage_error("--publish-crl '%s' is a URL path: it starts with '/'",
                                ca->publish_crl);
                return false;
            }
            if (ca->crl) {
                cli_usage_error("CA %s: --publish-crl publishes the CRL made from index.txt; "
                                "a CA answered from --crl has none", ca->dir);
                return false;
            }
            if (ca->db) {
                cli_usage_error("CA %s: --publish-crl publishes the CRL made from index.txt; "
                                "a CA followed from --db has none (qpki crl gen --db makes "
                                "its CRLs)", ca->dir);
                return false;
            }
            for (size_t j = 0; j < i; j++)
                if (c->cas[j].publish_crl && !strcmp(c->cas[j].publish_crl, ca->publish_crl)) {
                    cli_usage_error("--publish-crl %s given for two CAs", ca->publish_crl);
                    return false;
                }
        }
        if (ca->issued && !ca->crl) {
            cli_usage_error("CA %s: --issued is for a CA answered from CRLs (--crl)", ca->dir);
            return false;
        }
        if (ca->crl && ca->db) {
            cli_usage_error("CA %s: answered from CRLs (--crl) or from a database (--db), not "
                            "both", ca->dir);
            return false;
        }
        if (ca->cert || ca->key || ca->credential || ca->hsm_config || ca->key_label ||
            ca->key_id) {
            struct cli_signer_opts o = {ca->cert, ca->key, ca->credential, ca->cred_dir,
                                        ca->hsm_config, ca->key_label, ca->key_id,
                                        ca->passphrase_env, ca->passphrase_file};
            if (!cli_signer_opts_check(&o))
                return false;
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(c->cas[j].name, ca->name)) {
                /* two directories with the same last component: the path tells them
                 * apart in logs and metrics */
                if (!set_str(&ca->name, ca->dir))
                    return false;
                break;
            }
        }
    }
    return true;
}

long serve_config_port(const struct serve_config *c)
{
    if (c->addr) {
        const char *colon = strrchr(c->addr, ':');
        const char *bracket = strrchr(c->addr, ']');
        long p;
        if (colon && (!bracket || colon > bracket) && parse_long(colon + 1, 0, 65535, &p))
            return p;
    }
    return c->port >= 0 ? c->port : 8080;
}
