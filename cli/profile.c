/* SPDX-License-Identifier: Apache-2.0 */
/* cli/profile.c - certificate profiles: YAML in, certificate builder calls out. */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <qpki/key.h>

#include "cli.h"
#include "profile.h"

/* ---- variables ---------------------------------------------------------------- */

void vars_free(struct vars *v)
{
    for (size_t i = 0; i < v->n; i++) {
        free(v->keys[i]);
        free(v->values[i]);
    }
    free(v->keys);
    free(v->values);
    memset(v, 0, sizeof(*v));
}

const char *vars_get(const struct vars *v, const char *key)
{
    for (size_t i = 0; i < v->n; i++)
        if (strcmp(v->keys[i], key) == 0)
            return v->values[i];
    return NULL;
}

bool vars_set(struct vars *v, const char *key, const char *value)
{
    for (size_t i = 0; i < v->n; i++) {
        if (strcmp(v->keys[i], key) == 0) {
            char *copy = strdup(value);
            if (!copy)
                return false;
            free(v->values[i]);
            v->values[i] = copy;
            return true;
        }
    }
    char **k = realloc(v->keys, (v->n + 1) * sizeof(*k));
    if (!k)
        return false;
    v->keys = k;
    char **val = realloc(v->values, (v->n + 1) * sizeof(*val));
    if (!val)
        return false;
    v->values = val;
    v->keys[v->n] = strdup(key);
    v->values[v->n] = strdup(value);
    if (!v->keys[v->n] || !v->values[v->n]) {
        free(v->keys[v->n]);
        free(v->values[v->n]);
        return false;
    }
    v->n++;
    return true;
}

bool vars_add_arg(struct vars *v, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        cli_usage_error("--var expects NAME=VALUE, got '%s'", arg);
        return false;
    }
    char key[64];
    size_t klen = (size_t)(eq - arg);
    if (klen >= sizeof(key)) {
        cli_usage_error("--var: variable name too long");
        return false;
    }
    memcpy(key, arg, klen);
    key[klen] = '\0';
    if (vars_get(v, key)) {
        cli_usage_error("--var %s given twice", key);
        return false;
    }
    if (!vars_set(v, key, eq + 1)) {
        cli_error("out of memory");
        return false;
    }
    return true;
}

/* ---- loading ------------------------------------------------------------------- */

static const struct {
    const char *name;
    enum var_type type;
} var_types[] = {
    { "string", VAR_STRING },      { "dns_name", VAR_DNS_NAME }, { "email", VAR_EMAIL },
    { "ip", VAR_IP },              { "uri", VAR_URI },           { "dns_names", VAR_DNS_NAMES },
    { "ip_list", VAR_IP_LIST },    { "emails", VAR_EMAILS },     { "uris", VAR_URIS },
};

static const struct {
    const char *name;
    qpki_name_attr attr;
} rdn_keys[] = {
    /* Encoded in this order (X.500 convention: country first, CN last). */
    { "c", QPKI_NAME_C },   { "st", QPKI_NAME_ST }, { "l", QPKI_NAME_L },
    { "o", QPKI_NAME_O },   { "ou", QPKI_NAME_OU }, { "cn", QPKI_NAME_CN },
    { "serialNumber", QPKI_NAME_SERIAL_NUMBER },    { "email", QPKI_NAME_EMAIL },
};

static const struct {
    const char *name;
    unsigned bit;
} ku_names[] = {
    { "digitalSignature", QPKI_KU_DIGITAL_SIGNATURE },
    { "nonRepudiation", QPKI_KU_NON_REPUDIATION },
    { "contentCommitment", QPKI_KU_NON_REPUDIATION },
    { "keyEncipherment", QPKI_KU_KEY_ENCIPHERMENT },
    { "dataEncipherment", QPKI_KU_DATA_ENCIPHERMENT },
    { "keyAgreement", QPKI_KU_KEY_AGREEMENT },
    { "keyCertSign", QPKI_KU_KEY_CERT_SIGN },
    { "cRLSign", QPKI_KU_CRL_SIGN },
    { "encipherOnly", QPKI_KU_ENCIPHER_ONLY },
    { "decipherOnly", QPKI_KU_DECIPHER_ONLY },
};

static const struct {
    const char *name;
    const char *oid;
} eku_names[] = {
    { "serverAuth", QPKI_EKU_SERVER_AUTH },
    { "clientAuth", QPKI_EKU_CLIENT_AUTH },
    { "codeSigning", QPKI_EKU_CODE_SIGNING },
    { "emailProtection", QPKI_EKU_EMAIL_PROTECTION },
    { "timeStamping", QPKI_EKU_TIME_STAMPING },
    { "ocspSigning", QPKI_EKU_OCSP_SIGNING },
};

struct loader {
    struct profile *p;
    const char *src; /* for messages */
};

static bool perr(struct loader *l, const struct doc *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static bool perr(struct loader *l, const struct doc *at, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (at)
        cli_error("profile %s, line %u: %s", l->src, at->line, msg);
    else
        cli_error("profile %s: %s", l->src, msg);
    return false;
}

/* Every key of map must be in allowed (NULL-terminated). */
static bool only_keys(struct loader *l, const struct doc *map, const char *const *allowed,
                      const char *where)
{
    if (map->type != DOC_MAP)
        return perr(l, map, "%s must be a mapping", where);
    for (size_t i = 0; i < map->n; i++) {
        bool ok = false;
        for (size_t k = 0; allowed[k]; k++)
            if (strcmp(map->keys[i], allowed[k]) == 0)
                ok = true;
        if (!ok) {
            cli_error("profile %s, line %u: unknown key '%s' in %s", l->src, map->key_lines[i],
                      map->keys[i], where);
            return false;
        }
    }
    return true;
}

static bool get_bool(struct loader *l, const struct doc *map, const char *key, bool dflt,
                     bool *out)
{
    bool ok = true;
    *out = doc_bool(map, key, dflt, &ok);
    if (!ok)
        return perr(l, doc_get(map, key), "'%s' must be true or false", key);
    return true;
}

static const struct profile_var *find_var(const struct profile *p, const char *name)
{
    for (size_t i = 0; i < p->n_vars; i++)
        if (strcmp(p->vars[i].name, name) == 0)
            return &p->vars[i];
    return NULL;
}

/* Check that every {{ name }} in text names a declared variable. */
static bool check_template(struct loader *l, const struct doc *at, const char *text)
{
    const char *p = text;
    while ((p = strstr(p, "{{")) != NULL) {
        const char *e = strstr(p, "}}");
        if (!e)
            return perr(l, at, "unterminated '{{' in \"%s\"", text);
        const char *b = p + 2;
        while (b < e && *b == ' ')
            b++;
        const char *be = e;
        while (be > b && be[-1] == ' ')
            be--;
        char name[64];
        size_t n = (size_t)(be - b);
        if (n == 0 || n >= sizeof(name))
            return perr(l, at, "bad variable reference in \"%s\"", text);
        memcpy(name, b, n);
        name[n] = '\0';
        if (!find_var(l->p, name))
            return perr(l, at, "template uses undeclared variable '%s'", name);
        p = e + 2;
    }
    return true;
}

static bool load_vars(struct loader *l, const struct doc *vars)
{
    struct profile *p = l->p;
    if (vars->type != DOC_MAP)
        return perr(l, vars, "'variables' must be a mapping");
    static const char *const allowed[] = { "type", "required", "default", "description",
                                           "pattern", "minLength", "maxLength", "wildcard",
                                           NULL };
    for (size_t i = 0; i < vars->n; i++) {
        const struct doc *d = vars->items[i];
        if (p->n_vars == PROFILE_MAX_VARS)
            return perr(l, d, "too many variables");
        struct profile_var *v = &p->vars[p->n_vars++];
        v->name = vars->keys[i];
        v->min_length = v->max_length = -1;
        if (d->type == DOC_SCALAR && doc_is_null(d)) {
            v->type = VAR_STRING;
            continue;
        }
        if (!only_keys(l, d, allowed, "a variable"))
            return false;
        const char *type = doc_str(d, "type");
        v->type = VAR_STRING;
        if (type) {
            bool found = false;
            for (size_t k = 0; k < sizeof(var_types) / sizeof(var_types[0]); k++) {
                if (strcmp(type, var_types[k].name) == 0) {
                    v->type = var_types[k].type;
                    found = true;
                }
            }
            if (!found)
                return perr(l, doc_get(d, "type"),
                            "unknown variable type '%s' (string, dns_name, email, ip, uri, "
                            "dns_names, ip_list, emails, uris)",
                            type);
        }
        if (!get_bool(l, d, "required", false, &v->required))
            return false;
        const struct doc *dflt = doc_get(d, "default");
        if (dflt) {
            if (dflt->type == DOC_SEQ) {
                /* default: [] or a list: joined with commas. */
                if (dflt->n == 0)
                    v->default_value = "";
                else
                    return perr(l, dflt, "list defaults other than [] are not supported; "
                                         "write \"a,b\"");
            } else if (dflt->type == DOC_SCALAR) {
                v->default_value = dflt->value;
            } else {
                return perr(l, dflt, "'default' must be text");
            }
        }
        v->description = doc_str(d, "description");
        v->pattern = doc_str(d, "pattern");
        const char *mn = doc_str(d, "minLength"), *mx = doc_str(d, "maxLength");
        if (mn)
            v->min_length = strtol(mn, NULL, 10);
        if (mx)
            v->max_length = strtol(mx, NULL, 10);
        const struct doc *wc = doc_get(d, "wildcard");
        if (wc && wc->type == DOC_MAP) {
            if (!get_bool(l, wc, "allowed", false, &v->wildcard))
                return false;
        } else if (!get_bool(l, d, "wildcard", false, &v->wildcard)) {
            return false;
        }
        if (v->pattern) {
            regex_t re;
            if (regcomp(&re, v->pattern, REG_EXTENDED | REG_NOSUB) != 0)
                return perr(l, doc_get(d, "pattern"), "bad regular expression '%s'",
                            v->pattern);
            regfree(&re);
        }
    }
    return true;
}

static bool load_subject(struct loader *l, const struct doc *subj)
{
    struct profile *p = l->p;
    if (subj->type != DOC_MAP)
        return perr(l, subj, "'subject' must be a mapping");
    for (size_t i = 0; i < subj->n; i++) {
        bool found = false;
        for (size_t k = 0; k < sizeof(rdn_keys) / sizeof(rdn_keys[0]); k++)
            if (strcasecmp(subj->keys[i], rdn_keys[k].name) == 0)
                found = true;
        if (!found)
            return perr(l, subj->items[i],
                        "unknown subject attribute '%s' (c, st, l, o, ou, cn, serialNumber, "
                        "email)",
                        subj->keys[i]);
        if (subj->items[i]->type != DOC_SCALAR)
            return perr(l, subj->items[i], "subject attribute '%s' must be text",
                        subj->keys[i]);
        if (!check_template(l, subj->items[i], subj->items[i]->value))
            return false;
    }
    for (size_t k = 0; k < sizeof(rdn_keys) / sizeof(rdn_keys[0]); k++) {
        for (size_t i = 0; i < subj->n; i++) {
            if (strcasecmp(subj->keys[i], rdn_keys[k].name) == 0) {
                p->rdns[p->n_rdns].attr = rdn_keys[k].attr;
                p->rdns[p->n_rdns].template_text = subj->items[i]->value;
                p->n_rdns++;
            }
        }
    }
    return true;
}

/* A scalar or a sequence of scalars into list. */
static bool load_list(struct loader *l, const struct doc *d, const char **list, size_t *n,
                      const char *what)
{
    if (!d)
        return true;
    if (d->type == DOC_SCALAR) {
        if (doc_is_null(d))
            return true;
        list[(*n)++] = d->value;
        return check_template(l, d, d->value);
    }
    if (d->type != DOC_SEQ)
        return perr(l, d, "'%s' must be a list", what);
    for (size_t i = 0; i < d->n; i++) {
        if (d->items[i]->type != DOC_SCALAR)
            return perr(l, d->items[i], "'%s' entries must be text", what);
        if (*n == PROFILE_MAX_LIST)
            return perr(l, d->items[i], "too many '%s' entries", what);
        list[(*n)++] = d->items[i]->value;
        if (!check_template(l, d->items[i], d->items[i]->value))
            return false;
    }
    return true;
}

static bool load_extensions(struct loader *l, const struct doc *ext)
{
    struct profile *p = l->p;
    static const char *const allowed[] = { "basicConstraints", "keyUsage", "extKeyUsage",
                                           "ocspNoCheck", "subjectAltName",
                                           "authorityInfoAccess", "subjectKeyIdentifier",
                                           "authorityKeyIdentifier", NULL };
    if (!only_keys(l, ext, allowed, "extensions"))
        return false;
    const struct doc *d;

    if ((d = doc_get(ext, "basicConstraints")) != NULL) {
        static const char *const k[] = { "critical", "ca", "pathLen", NULL };
        if (!only_keys(l, d, k, "basicConstraints"))
            return false;
        p->has_basic_constraints = true;
        if (!get_bool(l, d, "critical", true, &p->bc_critical) ||
            !get_bool(l, d, "ca", false, &p->bc_ca))
            return false;
        const char *pl = doc_str(d, "pathLen");
        p->bc_path_len = -1;
        if (pl) {
            char *end;
            long v = strtol(pl, &end, 10);
            if (*end || v < 0 || v > 100)
                return perr(l, doc_get(d, "pathLen"), "pathLen must be 0..100");
            if (!p->bc_ca)
                return perr(l, doc_get(d, "pathLen"), "pathLen needs ca: true");
            p->bc_path_len = (int)v;
        }
    }
    if ((d = doc_get(ext, "keyUsage")) != NULL) {
        static const char *const k[] = { "critical", "values", NULL };
        if (!only_keys(l, d, k, "keyUsage"))
            return false;
        p->has_key_usage = true;
        if (!get_bool(l, d, "critical", true, &p->ku_critical))
            return false;
        const struct doc *vals = doc_get(d, "values");
        if (!vals || vals->type != DOC_SEQ || vals->n == 0)
            return perr(l, d, "keyUsage needs a non-empty 'values' list");
        for (size_t i = 0; i < vals->n; i++) {
            bool found = false;
            for (size_t k2 = 0; k2 < sizeof(ku_names) / sizeof(ku_names[0]); k2++) {
                if (vals->items[i]->type == DOC_SCALAR &&
                    strcmp(vals->items[i]->value, ku_names[k2].name) == 0) {
                    p->ku_bits |= ku_names[k2].bit;
                    found = true;
                }
            }
            if (!found)
                return perr(l, vals->items[i], "unknown keyUsage '%s'",
                            vals->items[i]->type == DOC_SCALAR ? vals->items[i]->value : "?");
        }
    }
    if ((d = doc_get(ext, "extKeyUsage")) != NULL) {
        static const char *const k[] = { "critical", "values", NULL };
        if (!only_keys(l, d, k, "extKeyUsage"))
            return false;
        p->has_eku = true;
        if (!get_bool(l, d, "critical", false, &p->eku_critical))
            return false;
        const struct doc *vals = doc_get(d, "values");
        if (!vals || vals->type != DOC_SEQ || vals->n == 0 || vals->n > PROFILE_MAX_LIST)
            return perr(l, d, "extKeyUsage needs a 'values' list (1..%d)", PROFILE_MAX_LIST);
        for (size_t i = 0; i < vals->n; i++) {
            const struct doc *v = vals->items[i];
            if (v->type != DOC_SCALAR)
                return perr(l, v, "extKeyUsage values must be text");
            const char *oid = NULL;
            for (size_t k2 = 0; k2 < sizeof(eku_names) / sizeof(eku_names[0]); k2++)
                if (strcmp(v->value, eku_names[k2].name) == 0)
                    oid = eku_names[k2].oid;
            if (!oid) {
                /* A dotted OID. */
                const char *q = v->value;
                bool ok = isdigit((unsigned char)*q);
                for (; *q && ok; q++)
                    ok = isdigit((unsigned char)*q) || (*q == '.' && q[1] && q[1] != '.');
                if (!ok)
                    return perr(l, v,
                                "unknown extKeyUsage '%s' (serverAuth, clientAuth, "
                                "codeSigning, emailProtection, timeStamping, ocspSigning or a "
                                "dotted OID)",
                                v->value);
                oid = v->value;
            }
            p->eku[p->n_eku++] = oid;
        }
    }
    if ((d = doc_get(ext, "ocspNoCheck")) != NULL) {
        if (d->type == DOC_SCALAR) {
            if (!get_bool(l, ext, "ocspNoCheck", false, &p->ocsp_nocheck))
                return false;
        } else {
            static const char *const k[] = { "critical", NULL };
            if (!only_keys(l, d, k, "ocspNoCheck"))
                return false;
            bool crit;
            if (!get_bool(l, d, "critical", false, &crit))
                return false;
            /* RFC 6960 §4.2.2.2.1: the extension "SHOULD be a non-critical
             * extension"; we only produce it that way. */
            if (crit)
                return perr(l, d, "ocspNoCheck is always non-critical (RFC 6960 "
                                  "§4.2.2.2.1)");
            p->ocsp_nocheck = true;
        }
    }
    if ((d = doc_get(ext, "subjectAltName")) != NULL) {
        static const char *const k[] = { "critical", "dns", "ip", "email", "uri",
                                         "dns_include_cn", "from_csr", NULL };
        if (!only_keys(l, d, k, "subjectAltName"))
            return false;
        p->has_san = true;
        if (!get_bool(l, d, "critical", false, &p->san_critical) ||
            !get_bool(l, d, "dns_include_cn", false, &p->san_include_cn) ||
            !get_bool(l, d, "from_csr", true, &p->san_from_csr))
            return false;
        if (!load_list(l, doc_get(d, "dns"), p->san_dns, &p->n_san_dns, "dns") ||
            !load_list(l, doc_get(d, "ip"), p->san_ip, &p->n_san_ip, "ip") ||
            !load_list(l, doc_get(d, "email"), p->san_email, &p->n_san_email, "email") ||
            !load_list(l, doc_get(d, "uri"), p->san_uri, &p->n_san_uri, "uri"))
            return false;
    }
    if ((d = doc_get(ext, "authorityInfoAccess")) != NULL) {
        static const char *const k[] = { "ocsp", "caIssuers", NULL };
        if (!only_keys(l, d, k, "authorityInfoAccess"))
            return false;
        if (!load_list(l, doc_get(d, "ocsp"), p->aia_ocsp, &p->n_aia_ocsp, "ocsp") ||
            !load_list(l, doc_get(d, "caIssuers"), p->aia_ca_issuers, &p->n_aia_ca_issuers,
                       "caIssuers"))
            return false;
    }
    if (!get_bool(l, ext, "subjectKeyIdentifier", true, &p->subject_key_id) ||
        !get_bool(l, ext, "authorityKeyIdentifier", true, &p->authority_key_id))
        return false;
    return true;
}

static bool profile_from_text(const char *src, const char *text, size_t len,
                              struct profile **out)
{
    char err[256];
    struct profile *p = calloc(1, sizeof(*p));
    if (!p) {
        cli_error("out of memory");
        return false;
    }
    struct loader l = { p, src };
    p->name = strdup(src);
    p->doc = doc_parse(text, len, err, sizeof(err));
    p->subject_key_id = p->authority_key_id = true;
    p->bc_path_len = -1;
    if (!p->name || !p->doc) {
        cli_error("profile %s: %s", src, p->doc ? "out of memory" : err);
        goto fail;
    }
    const struct doc *root = p->doc;
    static const char *const allowed[] = { "name", "description", "algorithm",
                                           "alt_algorithm", "validity", "variables",
                                           "subject", "extensions", NULL };
    if (!only_keys(&l, root, allowed, "the profile"))
        goto fail;
    p->description = doc_str(root, "description");
    p->algorithm = doc_str(root, "algorithm");
    p->alt_algorithm = doc_str(root, "alt_algorithm");
    if (!p->algorithm) {
        perr(&l, NULL, "'algorithm' is required");
        goto fail;
    }
    const char *validity = doc_str(root, "validity");
    if (!validity || !cli_parse_duration(validity, &p->validity)) {
        perr(&l, doc_get(root, "validity"),
             "'validity' is required, as a duration such as 30d, 1y or 12h");
        goto fail;
    }
    const struct doc *d;
    if ((d = doc_get(root, "variables")) != NULL && !load_vars(&l, d))
        goto fail;
    if ((d = doc_get(root, "subject")) == NULL) {
        perr(&l, NULL, "'subject' is required");
        goto fail;
    }
    if (!load_subject(&l, d))
        goto fail;
    if ((d = doc_get(root, "extensions")) != NULL && !load_extensions(&l, d))
        goto fail;
    *out = p;
    return true;
fail:
    profile_free(p);
    return false;
}

void profile_free(struct profile *p)
{
    if (!p)
        return;
    doc_free(p->doc);
    free(p->name);
    free(p);
}

void profile_list_builtin(FILE *f)
{
    for (size_t i = 0; i < cli_builtin_profiles_count; i++)
        fprintf(f, "  %s\n", cli_builtin_profiles[i].name);
}

bool profile_load(const char *name, struct profile **out)
{
    *out = NULL;
    size_t n = strlen(name);
    bool is_file = (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
                   (n > 4 && strcmp(name + n - 4, ".yml") == 0);
    struct stat st;
    if (!is_file && stat(name, &st) == 0 && S_ISREG(st.st_mode))
        is_file = true;
    if (is_file) {
        uint8_t *text;
        size_t len;
        if (!cli_read_file(name, "profile", &text, &len))
            return false;
        bool ok = profile_from_text(name, (const char *)text, len, out);
        free(text);
        return ok;
    }
    for (size_t i = 0; i < cli_builtin_profiles_count; i++) {
        if (strcmp(cli_builtin_profiles[i].name, name) == 0) {
            const char *t = cli_builtin_profiles[i].text;
            return profile_from_text(name, t, strlen(t), out);
        }
    }
    cli_error("unknown profile '%s'; built-in profiles are:", name);
    profile_list_builtin(stderr);
    fprintf(stderr, "or give the path of a YAML profile file.\n");
    return false;
}

/* ---- validation ----------------------------------------------------------------- */

static bool valid_dns_name(const char *s, bool wildcard)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return false;
    if (s[0] == '*') {
        if (!wildcard || s[1] != '.')
            return false;
        s += 2;
    }
    /* RFC 1034 §3.5 preferred name syntax (letters, digits, hyphens; labels of
     * 1..63 characters), plus '_' which service names use. */
    size_t label = 0;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (label == 0 || label > 63 || p[-1] == '-')
                return false;
            if (*p == '\0')
                break;
            label = 0;
            continue;
        }
        if (!(isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
            return false;
        if (label == 0 && *p == '-')
            return false;
        label++;
    }
    return true;
}

static bool valid_email(const char *s)
{
    const char *at = strchr(s, '@');
    if (!at || at == s || strchr(at + 1, '@'))
        return false;
    for (const char *p = s; p < at; p++)
        if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
            return false;
    return valid_dns_name(at + 1, false);
}

static bool valid_ip(const char *s)
{
    unsigned char buf[16];
    return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static bool valid_uri(const char *s)
{
    const char *colon = strchr(s, ':');
    if (!colon || colon == s || !isalpha((unsigned char)s[0]))
        return false;
    for (const char *p = s; p < colon; p++)
        if (!(isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.'))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if ((unsigned char)*p <= ' ')
            return false;
    return colon[1] != '\0';
}

static bool valid_one(enum var_type t, const char *s, bool wildcard)
{
    switch (t) {
    case VAR_DNS_NAME:
    case VAR_DNS_NAMES: return valid_dns_name(s, wildcard);
    case VAR_EMAIL:
    case VAR_EMAILS: return valid_email(s);
    case VAR_IP:
    case VAR_IP_LIST: return valid_ip(s);
    case VAR_URI:
    case VAR_URIS: return valid_uri(s);
    case VAR_STRING: return true;
    }
    return false;
}

static bool is_list(enum var_type t)
{
    return t == VAR_DNS_NAMES || t == VAR_IP_LIST || t == VAR_EMAILS || t == VAR_URIS;
}

static const char *type_name(enum var_type t)
{
    for (size_t k = 0; k < sizeof(var_types) / sizeof(var_types[0]); k++)
        if (var_types[k].type == t)
            return var_types[k].name;
    return "?";
}

/* Next comma-separated item of *p (spaces trimmed) into buf; false at the end. */
static bool next_item(const char **p, char *buf, size_t size)
{
    while (**p == ',' || **p == ' ')
        (*p)++;
    if (!**p)
        return false;
    const char *e = strchr(*p, ',');
    size_t n = e ? (size_t)(e - *p) : strlen(*p);
    const char *start = *p;
    *p += n;
    while (n > 0 && start[n - 1] == ' ')
        n--;
    if (n >= size)
        n = size - 1;
    memcpy(buf, start, n);
    buf[n] = '\0';
    return true;
}

static bool validate(const struct profile *p, const struct profile_var *v, const char *value)
{
    if (is_list(v->type)) {
        const char *q = value;
        char item[512];
        while (next_item(&q, item, sizeof(item))) {
            if (!valid_one(v->type, item, v->wildcard)) {
                cli_error("variable '%s' (profile %s): '%s' is not a valid %s", v->name,
                          p->name, item, type_name(v->type) + 0);
                return false;
            }
        }
        return true;
    }
    size_t n = strlen(value);
    if (v->min_length >= 0 && (long)n < v->min_length) {
        cli_error("variable '%s' (profile %s): at least %ld characters", v->name, p->name,
                  v->min_length);
        return false;
    }
    if (v->max_length >= 0 && (long)n > v->max_length) {
        cli_error("variable '%s' (profile %s): at most %ld characters", v->name, p->name,
                  v->max_length);
        return false;
    }
    if (n > 0 && !valid_one(v->type, value, v->wildcard)) {
        cli_error("variable '%s' (profile %s): '%s' is not a valid %s", v->name, p->name,
                  value, type_name(v->type));
        return false;
    }
    if (v->pattern && n > 0) {
        regex_t re;
        bool ok = false;
        if (regcomp(&re, v->pattern, REG_EXTENDED | REG_NOSUB) == 0) {
            ok = regexec(&re, value, 0, NULL, 0) == 0;
            regfree(&re);
        }
        if (!ok) {
            cli_error("variable '%s' (profile %s): '%s' does not match %s", v->name, p->name,
                      value, v->pattern);
            return false;
        }
    }
    return true;
}

bool profile_resolve(const struct profile *p, const struct vars *given, struct vars *resolved)
{
    memset(resolved, 0, sizeof(*resolved));
    for (size_t i = 0; i < given->n; i++) {
        if (!find_var(p, given->keys[i])) {
            char known[512] = "";
            for (size_t k = 0; k < p->n_vars; k++) {
                if (k)
                    strncat(known, ", ", sizeof(known) - strlen(known) - 1);
                strncat(known, p->vars[k].name, sizeof(known) - strlen(known) - 1);
            }
            cli_error("unknown variable '%s' for profile %s (it takes: %s)", given->keys[i],
                      p->name, p->n_vars ? known : "no variables");
            return false;
        }
    }
    for (size_t i = 0; i < p->n_vars; i++) {
        const struct profile_var *v = &p->vars[i];
        const char *value = vars_get(given, v->name);
        if (!value)
            value = v->default_value;
        if (!value || (v->required && !*value)) {
            if (v->required) {
                cli_error("missing required variable '%s' for profile %s (give --var %s=...)",
                          v->name, p->name, v->name);
                vars_free(resolved);
                return false;
            }
            continue;
        }
        if (!validate(p, v, value) || !vars_set(resolved, v->name, value)) {
            vars_free(resolved);
            return false;
        }
    }
    return true;
}

/* ---- algorithms ------------------------------------------------------------------- */

enum family { FAM_NONE, FAM_EC, FAM_RSA, FAM_ED, FAM_MLDSA };

static enum family family_of(qpki_key_alg k)
{
    switch (k) {
    case QPKI_KEY_EC_P256:
    case QPKI_KEY_EC_P384:
    case QPKI_KEY_EC_P521: return FAM_EC;
    case QPKI_KEY_RSA: return FAM_RSA;
    case QPKI_KEY_ED25519:
    case QPKI_KEY_ED448: return FAM_ED;
    case QPKI_KEY_ML_DSA_44:
    case QPKI_KEY_ML_DSA_65:
    case QPKI_KEY_ML_DSA_87: return FAM_MLDSA;
    case QPKI_KEY_UNKNOWN: break;
    }
    return FAM_NONE;
}

bool profile_key_alg(const struct profile *p, qpki_key_alg *alg, unsigned *rsa_bits)
{
    qpki_status st = qpki_key_alg_from_name(p->algorithm, alg, rsa_bits);
    if (st != QPKI_OK) {
        if (strncasecmp(p->algorithm, "ml-dsa", 6) == 0)
            cli_error("profile %s: %s is not yet supported by this build of libqpki-ocsp",
                      p->name, p->algorithm);
        else
            cli_error("profile %s: unknown algorithm '%s'", p->name, p->algorithm);
        return false;
    }
    if (p->alt_algorithm) {
        qpki_key_alg alt;
        if (!profile_alt_key_alg(p, &alt))
            return false;
        if (family_of(*alg) == FAM_MLDSA) {
            cli_error("profile %s: a Catalyst profile pairs a classical algorithm with ML-DSA, "
                      "not %s with %s",
                      p->name, p->algorithm, p->alt_algorithm);
            return false;
        }
    }
    return true;
}

bool profile_alt_key_alg(const struct profile *p, qpki_key_alg *alg)
{
    unsigned bits;
    if (!p->alt_algorithm)
        return false;
    if (qpki_key_alg_from_name(p->alt_algorithm, alg, &bits) != QPKI_OK) {
        cli_error("profile %s: Catalyst alternative algorithm %s is not yet supported by this "
                  "build of libqpki-ocsp",
                  p->name, p->alt_algorithm);
        return false;
    }
    /* DESIGN §5: the alternative signature of a Catalyst certificate is ML-DSA. */
    if (family_of(*alg) != FAM_MLDSA) {
        cli_error("profile %s: alt_algorithm must be ml-dsa-44, ml-dsa-65 or ml-dsa-87, not %s",
                  p->name, p->alt_algorithm);
        return false;
    }
    return true;
}

bool profile_accepts_key(const struct profile *p, qpki_key_alg k)
{
    qpki_key_alg want;
    unsigned bits;
    if (qpki_key_alg_from_name(p->algorithm, &want, &bits) != QPKI_OK)
        return false;
    return family_of(want) != FAM_NONE && family_of(want) == family_of(k);
}

/* ---- rendering ---------------------------------------------------------------------- */

/* Substitute {{ name }} references; missing values render as "". */
static bool render(const char *tmpl, const struct vars *vars, char *out, size_t size)
{
    size_t k = 0;
    const char *p = tmpl;
    while (*p) {
        if (p[0] == '{' && p[1] == '{') {
            const char *e = strstr(p, "}}");
            if (!e)
                return false;
            const char *b = p + 2;
            while (b < e && *b == ' ')
                b++;
            const char *be = e;
            while (be > b && be[-1] == ' ')
                be--;
            char name[64];
            size_t n = (size_t)(be - b);
            if (n >= sizeof(name))
                return false;
            memcpy(name, b, n);
            name[n] = '\0';
            const char *v = vars_get(vars, name);
            if (v) {
                size_t vl = strlen(v);
                if (k + vl >= size)
                    return false;
                memcpy(out + k, v, vl);
                k += vl;
            }
            p = e + 2;
            continue;
        }
        if (k + 1 >= size)
            return false;
        out[k++] = *p++;
    }
    out[k] = '\0';
    return true;
}

typedef qpki_status (*san_add_fn)(qpki_cert_builder *b, const char *value);

/* Add each entry of a SAN template list; list-valued templates expand to their
 * items. */
static bool add_san_list(const struct profile *p, const struct vars *vars,
                         const char *const *tmpl, size_t n, san_add_fn add,
                         qpki_cert_builder *b, const char *kind, const char *skip,
                         size_t *added)
{
    for (size_t i = 0; i < n; i++) {
        char text[4096], item[512];
        if (!render(tmpl[i], vars, text, sizeof(text))) {
            cli_error("profile %s: subjectAltName %s value too long", p->name, kind);
            return false;
        }
        const char *q = text;
        while (next_item(&q, item, sizeof(item))) {
            if (skip && strcasecmp(item, skip) == 0)
                continue;
            qpki_status st = add(b, item);
            if (st != QPKI_OK) {
                cli_error_st(st, "subjectAltName %s '%s' rejected", kind, item);
                return false;
            }
            (*added)++;
        }
    }
    return true;
}

bool profile_subject_der(const struct profile *p, const struct vars *vars, uint8_t **der,
                         size_t *der_len)
{
    qpki_name *name = NULL;
    size_t count = 0;
    qpki_status st = qpki_name_new(&name);
    *der = NULL;
    if (st != QPKI_OK)
        return cli_error_st(st, "subject"), false;
    for (size_t i = 0; i < p->n_rdns; i++) {
        char value[1024];
        if (!render(p->rdns[i].template_text, vars, value, sizeof(value))) {
            qpki_name_free(&name);
            return cli_error("profile %s: subject value too long", p->name), false;
        }
        if (!value[0])
            continue; /* optional attribute without a value: omitted */
        st = qpki_name_add(name, p->rdns[i].attr, value);
        if (st != QPKI_OK) {
            qpki_name_free(&name);
            return cli_error_st(st, "subject attribute value '%s' rejected", value), false;
        }
        count++;
    }
    if (count == 0) {
        qpki_name_free(&name);
        return cli_error("profile %s: the subject is empty", p->name), false;
    }
    st = qpki_name_encode(name, der, der_len);
    qpki_name_free(&name);
    if (st != QPKI_OK)
        return cli_error_st(st, "cannot encode the subject"), false;
    return true;
}

bool profile_apply(const struct profile *p, const struct vars *vars, const uint8_t *subject_der,
                   size_t subject_len, const uint8_t *csr_san, size_t csr_san_len,
                   qpki_cert_builder *b)
{
    qpki_status st;
    uint8_t *own = NULL;
    if (!subject_der) {
        if (!profile_subject_der(p, vars, &own, &subject_len))
            return false;
        subject_der = own;
    }
    st = qpki_cert_builder_set_subject(b, subject_der, subject_len);
    qpki_free(own);
    if (st != QPKI_OK)
        return cli_error_st(st, "cannot use the subject"), false;

    if (p->has_basic_constraints &&
        (st = qpki_cert_builder_set_basic_constraints(b, p->bc_ca, p->bc_path_len,
                                                      p->bc_critical)) != QPKI_OK)
        return cli_error_st(st, "basicConstraints"), false;
    if (p->has_key_usage &&
        (st = qpki_cert_builder_set_key_usage(b, p->ku_bits, p->ku_critical)) != QPKI_OK)
        return cli_error_st(st, "keyUsage"), false;
    if (p->has_eku) {
        for (size_t i = 0; i < p->n_eku; i++)
            if ((st = qpki_cert_builder_add_ext_key_usage(b, p->eku[i])) != QPKI_OK)
                return cli_error_st(st, "extKeyUsage %s", p->eku[i]), false;
        if ((st = qpki_cert_builder_set_ext_key_usage_critical(b, p->eku_critical)) != QPKI_OK)
            return cli_error_st(st, "extKeyUsage"), false;
    }
    if (p->ocsp_nocheck && (st = qpki_cert_builder_set_ocsp_nocheck(b)) != QPKI_OK)
        return cli_error_st(st, "ocsp-nocheck"), false;

    if (p->has_san) {
        size_t added = 0;
        const char *cn = vars_get(vars, "cn");
        if (p->san_include_cn && cn && valid_dns_name(cn, true)) {
            if ((st = qpki_cert_builder_add_san_dns(b, cn)) != QPKI_OK)
                return cli_error_st(st, "subjectAltName DNS '%s' rejected", cn), false;
            added++;
        } else {
            cn = NULL;
        }
        if (!add_san_list(p, vars, p->san_dns, p->n_san_dns, qpki_cert_builder_add_san_dns, b,
                          "DNS", cn, &added) ||
            !add_san_list(p, vars, p->san_ip, p->n_san_ip, qpki_cert_builder_add_san_ip, b,
                          "IP", NULL, &added) ||
            !add_san_list(p, vars, p->san_email, p->n_san_email,
                          qpki_cert_builder_add_san_email, b, "email", NULL, &added) ||
            !add_san_list(p, vars, p->san_uri, p->n_san_uri, qpki_cert_builder_add_san_uri, b,
                          "URI", NULL, &added))
            return false;
        /* Names requested in the CSR are taken when the profile's templates give
         * none of their own (beyond the CN). */
        if (p->san_from_csr && csr_san_len > 0 && added <= (cn ? 1u : 0u)) {
            if (cn) {
                /* Start over with the CSR's names only: they come from the
                 * requester, who listed what they want. */
                qpki_status rm = qpki_cert_builder_remove_extension(b, QPKI_OID_SUBJECT_ALT_NAME);
                if (rm != QPKI_OK && rm != QPKI_ERR_NOT_FOUND)
                    return cli_error_st(rm, "subjectAltName"), false;
            }
            if ((st = qpki_cert_builder_add_san_der(b, csr_san, csr_san_len)) != QPKI_OK)
                return cli_error_st(st, "subjectAltName from the CSR rejected"), false;
        }
    }
    for (size_t i = 0; i < p->n_aia_ocsp; i++) {
        char url[2048];
        if (render(p->aia_ocsp[i], vars, url, sizeof(url)) && url[0] &&
            (st = qpki_cert_builder_add_aia_ocsp(b, url)) != QPKI_OK)
            return cli_error_st(st, "authorityInfoAccess OCSP URL '%s'", url), false;
    }
    for (size_t i = 0; i < p->n_aia_ca_issuers; i++) {
        char url[2048];
        if (render(p->aia_ca_issuers[i], vars, url, sizeof(url)) && url[0] &&
            (st = qpki_cert_builder_add_aia_ca_issuers(b, url)) != QPKI_OK)
            return cli_error_st(st, "authorityInfoAccess caIssuers URL '%s'", url), false;
    }
    if (p->subject_key_id && (st = qpki_cert_builder_set_subject_key_id(b, NULL, 0)) != QPKI_OK)
        return cli_error_st(st, "subjectKeyIdentifier"), false;
    return true;
}
