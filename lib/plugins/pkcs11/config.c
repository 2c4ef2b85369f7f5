/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/config.c - hsm.yaml in QPKI's format, parsed with libyaml.
 *
 *   type: pkcs11
 *   pkcs11:
 *     lib: /usr/lib/softhsm/libsofthsm2.so
 *     token: "CA-Token"          # by label, and/or
 *     token_serial: "ABC123"     # by serial, and/or
 *     slot: 0                    # by slot id
 *     pin_env: HSM_PIN           # the PIN's environment variable (default HSM_PIN)
 *   session:
 *     logout_after_use: true     # accepted (QPKI's example files carry it)
 *   security:
 *     verify_key_cert_binding: true
 *
 * Strict: an unknown key, a duplicate key or a value of the wrong type is an
 * error naming the file and line.  The PIN itself is never in this file. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "p11.h"

#define CONFIG_MAX_BYTES (64 * 1024)

typedef struct cfg_parse {
    const char *name;              /* file name for messages */
    yaml_document_t *doc;
    char *err;
    size_t errlen;
} cfg_parse;

static unsigned long node_line(const yaml_node_t *n) { return (unsigned long)n->start_mark.line + 1; }

static const char *node_type_name(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "empty";
    }
}

static qpki_status fail_at(cfg_parse *cp, const yaml_node_t *n, const char *what)
{
    p11_err(cp->err, cp->errlen, "%s:%lu: %s", cp->name, n ? node_line(n) : 1ul, what);
    return QPKI_ERR_PARSE;
}

/* YAML 1.1 null: empty plain scalar, "~" or "null". */
static bool scalar_is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcasecmp(v, "null") == 0;
}

static qpki_status get_string(cfg_parse *cp, const char *key, const yaml_node_t *n, char **out)
{
    char msg[160];
    if (n->type != YAML_SCALAR_NODE) {
        qpki_fmt(msg, sizeof msg, "%s must be a string, not %s", key, node_type_name(n));
        return fail_at(cp, n, msg);
    }
    if (scalar_is_null(n))
        return QPKI_OK; /* like an absent key */
    size_t len = n->data.scalar.length;
    if (memchr(n->data.scalar.value, 0, len) != NULL) {
        qpki_fmt(msg, sizeof msg, "%s contains a NUL character", key);
        return fail_at(cp, n, msg);
    }
    char *s = qpki_memdup(n->data.scalar.value, len + 1);
    if (!s)
        return QPKI_ERR_NOMEM;
    s[len] = '\0';
    qpki_free(*out);
    *out = s;
    return QPKI_OK;
}

static qpki_status get_uint(cfg_parse *cp, const char *key, const yaml_node_t *n,
                            unsigned long *out)
{
    char msg[160];
    qpki_fmt(msg, sizeof msg, "%s must be a non-negative integer", key);
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        n->data.scalar.length == 0 || n->data.scalar.length > 20)
        return fail_at(cp, n, msg);
    const char *v = (const char *)n->data.scalar.value;
    for (size_t i = 0; i < n->data.scalar.length; i++)
        if (!isdigit((unsigned char)v[i]))
            return fail_at(cp, n, msg);
    errno = 0;
    char *end = NULL;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno != 0 || end != v + n->data.scalar.length || x > ULONG_MAX)
        return fail_at(cp, n, msg);
    *out = (unsigned long)x;
    return QPKI_OK;
}

static qpki_status get_bool(cfg_parse *cp, const char *key, const yaml_node_t *n, bool *out)
{
    static const char *const yes[] = {"true", "yes", "on"};
    static const char *const no[] = {"false", "no", "off"};
    if (n->type == YAML_SCALAR_NODE && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        const char *v = (const char *)n->data.scalar.value;
        for (size_t i = 0; i < QPKI_ARRAY_LEN(yes); i++) {
            if (strcasecmp(v, yes[i]) == 0) {
                *out = true;
                return QPKI_OK;
            }
            if (strcasecmp(v, no[i]) == 0) {
                *out = false;
                return QPKI_OK;
            }
        }
    }
    char msg[160];
    qpki_fmt(msg, sizeof msg, "%s must be true or false", key);
    return fail_at(cp, n, msg);
}

/* Calls visit(cp, full_key_name, key_text, value) for each pair of a mapping;
 * rejects non-scalar and duplicate keys. */
typedef qpki_status (*visit_fn)(cfg_parse *cp, void *ctx, const char *key,
                                const yaml_node_t *knode, const yaml_node_t *value);

static qpki_status walk_mapping(cfg_parse *cp, const char *section, const yaml_node_t *map,
                                visit_fn visit, void *ctx)
{
    char msg[200];
    if (map->type != YAML_MAPPING_NODE) {
        qpki_fmt(msg, sizeof msg, "%s must be a mapping, not %s", section ? section : "the document",
                 node_type_name(map));
        return fail_at(cp, map, msg);
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(cp->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(cp->doc, p->value);
        if (!k || !v)
            return fail_at(cp, map, "malformed mapping");
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(cp, k, "keys must be plain names");
        const char *kt = (const char *)k->data.scalar.value;
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const yaml_node_t *k2 = yaml_document_get_node(cp->doc, q->key);
            if (k2 && k2->type == YAML_SCALAR_NODE && strcmp((const char *)k2->data.scalar.value, kt) == 0) {
                qpki_fmt(msg, sizeof msg, "duplicate key %s%s%s", section ? section : "",
                         section ? "." : "", kt);
                return fail_at(cp, k, msg);
            }
        }
        char full[128];
        qpki_fmt(full, sizeof full, "%s%s%s", section ? section : "", section ? "." : "", kt);
        QPKI_GUARD(visit(cp, ctx, full, k, v));
    }
    return QPKI_OK;
}

static qpki_status unknown_key(cfg_parse *cp, const char *full, const yaml_node_t *k)
{
    char msg[200];
    qpki_fmt(msg, sizeof msg, "unknown key %s", full);
    return fail_at(cp, k, msg);
}

static qpki_status visit_pkcs11(cfg_parse *cp, void *ctx, const char *full,
                                const yaml_node_t *k, const yaml_node_t *v)
{
    p11_config *cfg = ctx;
    const char *key = (const char *)k->data.scalar.value;
    if (strcmp(key, "lib") == 0)
        return get_string(cp, full, v, &cfg->lib);
    if (strcmp(key, "token") == 0)
        return get_string(cp, full, v, &cfg->token);
    if (strcmp(key, "token_serial") == 0)
        return get_string(cp, full, v, &cfg->token_serial);
    if (strcmp(key, "pin_env") == 0) {
        QPKI_GUARD(get_string(cp, full, v, &cfg->pin_env));
        const char *s = cfg->pin_env;
        bool ok = s && (isalpha((unsigned char)s[0]) || s[0] == '_');
        for (size_t i = 0; ok && s[i]; i++)
            ok = isalnum((unsigned char)s[i]) || s[i] == '_';
        if (s && !ok)
            return fail_at(cp, v, "pkcs11.pin_env must name an environment variable "
                                  "(letters, digits, '_'), not hold the PIN");
        return QPKI_OK;
    }
    if (strcmp(key, "slot") == 0) {
        if (scalar_is_null(v))
            return QPKI_OK;
        QPKI_GUARD(get_uint(cp, full, v, &cfg->slot));
        cfg->has_slot = true;
        return QPKI_OK;
    }
    if (strcmp(key, "pin") == 0 || strcmp(key, "pin_file") == 0)
        return fail_at(cp, k, "a PIN is never read from hsm.yaml; set pkcs11.pin_env to the "
                              "name of an environment variable holding it");
    return unknown_key(cp, full, k);
}

static qpki_status visit_session(cfg_parse *cp, void *ctx, const char *full,
                                 const yaml_node_t *k, const yaml_node_t *v)
{
    p11_config *cfg = ctx;
    if (strcmp((const char *)k->data.scalar.value, "logout_after_use") == 0)
        return get_bool(cp, full, v, &cfg->logout_after_use);
    return unknown_key(cp, full, k);
}

static qpki_status visit_security(cfg_parse *cp, void *ctx, const char *full,
                                  const yaml_node_t *k, const yaml_node_t *v)
{
    p11_config *cfg = ctx;
    if (strcmp((const char *)k->data.scalar.value, "verify_key_cert_binding") == 0)
        return get_bool(cp, full, v, &cfg->verify_key_cert_binding);
    return unknown_key(cp, full, k);
}

typedef struct top_seen {
    p11_config *cfg;
    bool type, pkcs11;
} top_seen;

static qpki_status visit_top(cfg_parse *cp, void *ctx, const char *full, const yaml_node_t *k,
                             const yaml_node_t *v)
{
    top_seen *seen = ctx;
    const char *key = (const char *)k->data.scalar.value;
    if (strcmp(key, "type") == 0) {
        char *type = NULL;
        QPKI_GUARD(get_string(cp, full, v, &type));
        bool ok = type && strcmp(type, "pkcs11") == 0;
        char msg[200];
        qpki_fmt(msg, sizeof msg, "unsupported HSM type \"%s\" (only \"pkcs11\" is supported)",
                 type ? type : "");
        qpki_free(type);
        if (!ok)
            return fail_at(cp, v, msg);
        seen->type = true;
        return QPKI_OK;
    }
    if (strcmp(key, "pkcs11") == 0) {
        seen->pkcs11 = true;
        return walk_mapping(cp, "pkcs11", v, visit_pkcs11, seen->cfg);
    }
    if (strcmp(key, "session") == 0)
        return walk_mapping(cp, "session", v, visit_session, seen->cfg);
    if (strcmp(key, "security") == 0)
        return walk_mapping(cp, "security", v, visit_security, seen->cfg);
    return unknown_key(cp, full, k);
}

void p11_config_clear(p11_config *cfg)
{
    if (!cfg)
        return;
    qpki_free(cfg->lib);
    qpki_free(cfg->token);
    qpki_free(cfg->token_serial);
    qpki_free(cfg->pin_env);
    *cfg = (p11_config){0};
}

qpki_status p11_config_parse(const char *name, const char *text, size_t len, p11_config *cfg,
                             char *err, size_t errlen)
{
    *cfg = (p11_config){0};
    if (len > CONFIG_MAX_BYTES) {
        p11_err(err, errlen, "%s: larger than %d bytes", name, CONFIG_MAX_BYTES);
        return QPKI_ERR_PARSE;
    }
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    bool have_doc = false;
    qpki_status rc = QPKI_OK;
    if (!yaml_parser_initialize(&parser))
        return QPKI_ERR_NOMEM;
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        p11_err(err, errlen, "%s:%lu: YAML syntax error: %s", name,
                (unsigned long)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "unknown");
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&doc);
    if (!root) {
        p11_err(err, errlen, "%s: empty file", name);
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    /* A second document would be silently ignored by a lenient reader. */
    if (!yaml_parser_load(&parser, &extra)) {
        p11_err(err, errlen, "%s:%lu: YAML syntax error: %s", name,
                (unsigned long)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "unknown");
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    bool second = yaml_document_get_root_node(&extra) != NULL;
    unsigned long second_line = (unsigned long)extra.start_mark.line + 1;
    yaml_document_delete(&extra);
    if (second) {
        p11_err(err, errlen, "%s:%lu: more than one YAML document", name, second_line);
        QPKI_FAIL(QPKI_ERR_PARSE);
    }

    cfg_parse cp = {name, &doc, err, errlen};
    top_seen seen = {cfg, false, false};
    QPKI_CHECK(walk_mapping(&cp, NULL, root, visit_top, &seen));
    if (!seen.type) {
        p11_err(err, errlen, "%s: \"type: pkcs11\" is required", name);
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    if (!seen.pkcs11 || !cfg->lib || !cfg->lib[0]) {
        p11_err(err, errlen, "%s: pkcs11.lib (the PKCS#11 module path) is required", name);
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    if (!cfg->token && !cfg->token_serial && !cfg->has_slot) {
        p11_err(err, errlen,
                "%s: one of pkcs11.token, pkcs11.token_serial or pkcs11.slot is required", name);
        QPKI_FAIL(QPKI_ERR_PARSE);
    }
    if (!cfg->pin_env) {
        cfg->pin_env = qpki_strdup(P11_DEFAULT_PIN_ENV);
        if (!cfg->pin_env)
            QPKI_FAIL(QPKI_ERR_NOMEM);
    }
out:
    if (have_doc)
        yaml_document_delete(&doc);
    yaml_parser_delete(&parser);
    if (rc != QPKI_OK)
        p11_config_clear(cfg);
    return rc;
}

qpki_status p11_config_load(const char *path, p11_config *cfg, char *err, size_t errlen)
{
    *cfg = (p11_config){0};
    if (!path || !*path) {
        p11_err(err, errlen, "no HSM configuration file given (--hsm-config)");
        return QPKI_ERR_INVALID_ARG;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        p11_err(err, errlen, "cannot open HSM configuration %s: %s", path, strerror(errno));
        return QPKI_ERR_IO;
    }
    char *buf = qpki_malloc(CONFIG_MAX_BYTES + 1);
    if (!buf) {
        fclose(f);
        return QPKI_ERR_NOMEM;
    }
    size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
    bool read_err = ferror(f) != 0;
    fclose(f);
    qpki_status rc;
    if (read_err) {
        p11_err(err, errlen, "cannot read HSM configuration %s", path);
        rc = QPKI_ERR_IO;
    } else {
        rc = p11_config_parse(path, buf, n, cfg, err, errlen);
    }
    qpki_free(buf);
    return rc;
}
