/* SPDX-License-Identifier: Apache-2.0 */
/* cli/doc.c - YAML/JSON documents into a tree (libyaml event API) and a JSON
 * writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "doc.h"

#define DOC_MAX_DEPTH 32
#define DOC_MAX_ITEMS 100000

static void set_err(char *err, size_t size, unsigned line, const char *what)
{
    if (err && size)
        snprintf(err, size, "line %u: %s", line, what);
}

void doc_free(struct doc *d)
{
    if (!d)
        return;
    free(d->value);
    for (size_t i = 0; i < d->n; i++) {
        doc_free(d->items[i]);
        if (d->keys)
            free(d->keys[i]);
    }
    free(d->items);
    free(d->keys);
    free(d->key_lines);
    free(d);
}

static bool append(struct doc *parent, char *key, unsigned key_line, struct doc *child)
{
    if (parent->n >= DOC_MAX_ITEMS)
        return false;
    struct doc **items = realloc(parent->items, (parent->n + 1) * sizeof(*items));
    if (!items)
        return false;
    parent->items = items;
    if (parent->type == DOC_MAP) {
        char **keys = realloc(parent->keys, (parent->n + 1) * sizeof(*keys));
        if (!keys)
            return false;
        parent->keys = keys;
        unsigned *lines = realloc(parent->key_lines, (parent->n + 1) * sizeof(*lines));
        if (!lines)
            return false;
        parent->key_lines = lines;
        parent->key_lines[parent->n] = key_line;
        parent->keys[parent->n] = key;
    }
    parent->items[parent->n++] = child;
    return true;
}

struct parser {
    yaml_parser_t yp;
    char *err;
    size_t err_size;
};

static struct doc *parse_node(struct parser *p, yaml_event_t *ev, int depth);

static struct doc *new_node(enum doc_type type, unsigned line)
{
    struct doc *d = calloc(1, sizeof(*d));
    if (d) {
        d->type = type;
        d->line = line;
    }
    return d;
}

/* Parse the children of a sequence or mapping until its end event. */
static bool parse_children(struct parser *p, struct doc *d, int depth)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p->yp, &ev)) {
            set_err(p->err, p->err_size, (unsigned)p->yp.problem_mark.line + 1,
                    p->yp.problem ? p->yp.problem : "syntax error");
            return false;
        }
        if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return true;
        }
        char *key = NULL;
        unsigned key_line = 0;
        if (d->type == DOC_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                set_err(p->err, p->err_size, (unsigned)ev.start_mark.line + 1,
                        "mapping keys must be plain text");
                yaml_event_delete(&ev);
                return false;
            }
            key = strdup((const char *)ev.data.scalar.value);
            unsigned line = (unsigned)ev.start_mark.line + 1;
            key_line = line;
            yaml_event_delete(&ev);
            if (!key)
                return false;
            for (size_t i = 0; i < d->n; i++) {
                if (strcmp(d->keys[i], key) == 0) {
                    char msg[160];
                    snprintf(msg, sizeof(msg), "duplicate key '%.100s'", key);
                    set_err(p->err, p->err_size, line, msg);
                    free(key);
                    return false;
                }
            }
            if (!yaml_parser_parse(&p->yp, &ev)) {
                set_err(p->err, p->err_size, (unsigned)p->yp.problem_mark.line + 1,
                        p->yp.problem ? p->yp.problem : "syntax error");
                free(key);
                return false;
            }
        }
        struct doc *child = parse_node(p, &ev, depth + 1);
        if (!child || !append(d, key, key_line, child)) {
            doc_free(child);
            free(key);
            return false;
        }
    }
}

/* ev is the first event of the node; it is consumed. */
static struct doc *parse_node(struct parser *p, yaml_event_t *ev, int depth)
{
    unsigned line = (unsigned)ev->start_mark.line + 1;
    if (depth > DOC_MAX_DEPTH) {
        set_err(p->err, p->err_size, line, "nesting too deep");
        yaml_event_delete(ev);
        return NULL;
    }
    struct doc *d = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        d = new_node(DOC_SCALAR, line);
        if (d) {
            d->value = strdup((const char *)ev->data.scalar.value);
            d->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
            if (!d->value) {
                free(d);
                d = NULL;
            }
        }
        yaml_event_delete(ev);
        return d;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        d = new_node(ev->type == YAML_SEQUENCE_START_EVENT ? DOC_SEQ : DOC_MAP, line);
        yaml_event_delete(ev);
        if (!d || !parse_children(p, d, depth)) {
            doc_free(d);
            return NULL;
        }
        return d;
    case YAML_ALIAS_EVENT:
        set_err(p->err, p->err_size, line, "aliases (*name) are not supported");
        break;
    default:
        set_err(p->err, p->err_size, line, "unexpected YAML event");
        break;
    }
    yaml_event_delete(ev);
    return NULL;
}

struct doc *doc_parse(const char *text, size_t len, char *err, size_t err_size)
{
    struct parser p = { .err = err, .err_size = err_size };
    if (err && err_size)
        err[0] = '\0';
    if (!yaml_parser_initialize(&p.yp)) {
        set_err(err, err_size, 0, "out of memory");
        return NULL;
    }
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);
    struct doc *root = NULL;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p.yp, &ev)) {
            set_err(err, err_size, (unsigned)p.yp.problem_mark.line + 1,
                    p.yp.problem ? p.yp.problem : "syntax error");
            break;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        if (t == YAML_STREAM_END_EVENT || t == YAML_DOCUMENT_END_EVENT) {
            yaml_event_delete(&ev);
            if (!root)
                set_err(err, err_size, 1, "empty document");
            break;
        }
        root = parse_node(&p, &ev, 0);
        break;
    }
    yaml_parser_delete(&p.yp);
    return root;
}

const struct doc *doc_get(const struct doc *d, const char *key)
{
    if (!d || d->type != DOC_MAP)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (strcmp(d->keys[i], key) == 0)
            return d->items[i];
    return NULL;
}

const char *doc_str(const struct doc *d, const char *key)
{
    const struct doc *v = doc_get(d, key);
    return v && v->type == DOC_SCALAR && !doc_is_null(v) ? v->value : NULL;
}

bool doc_is_null(const struct doc *d)
{
    return d && d->type == DOC_SCALAR && d->plain &&
           (d->value[0] == '\0' || !strcmp(d->value, "~") || !strcasecmp(d->value, "null"));
}

bool doc_bool(const struct doc *d, const char *key, bool dflt, bool *ok)
{
    const struct doc *v = doc_get(d, key);
    if (!v || doc_is_null(v))
        return dflt;
    if (v->type == DOC_SCALAR) {
        static const char *const yes[] = { "true", "yes", "on" };
        static const char *const no[] = { "false", "no", "off" };
        for (size_t i = 0; i < 3; i++) {
            if (!strcasecmp(v->value, yes[i]))
                return true;
            if (!strcasecmp(v->value, no[i]))
                return false;
        }
    }
    if (ok)
        *ok = false;
    return dflt;
}

/* ---- JSON writer ---------------------------------------------------------------- */

void jw_init(struct jw *w)
{
    memset(w, 0, sizeof(*w));
    w->first = true;
}

void jw_free(struct jw *w)
{
    free(w->buf);
    memset(w, 0, sizeof(*w));
}

static void put(struct jw *w, const char *s, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n + 1 > w->cap) {
        size_t cap = w->cap ? w->cap : 256;
        while (cap < w->len + n + 1)
            cap *= 2;
        char *b = realloc(w->buf, cap);
        if (!b) {
            w->oom = true;
            return;
        }
        w->buf = b;
        w->cap = cap;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = '\0';
}

static void puts_(struct jw *w, const char *s)
{
    put(w, s, strlen(s));
}

static void quote(struct jw *w, const char *s)
{
    put(w, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': puts_(w, "\\\""); break;
        case '\\': puts_(w, "\\\\"); break;
        case '\n': puts_(w, "\\n"); break;
        case '\r': puts_(w, "\\r"); break;
        case '\t': puts_(w, "\\t"); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof(esc), "\\u%04x", *p);
                puts_(w, esc);
            } else {
                put(w, (const char *)p, 1);
            }
        }
    }
    put(w, "\"", 1);
}

static void member(struct jw *w, const char *key)
{
    if (w->depth > 0) {
        puts_(w, w->first ? "\n" : ",\n");
        for (int i = 0; i < w->depth; i++)
            puts_(w, "  ");
    }
    w->first = false;
    if (key) {
        quote(w, key);
        puts_(w, ": ");
    }
}

void jw_object_begin(struct jw *w, const char *key)
{
    member(w, key);
    puts_(w, "{");
    w->depth++;
    w->first = true;
}

static void close_(struct jw *w, const char *c)
{
    w->depth--;
    if (!w->first) {
        puts_(w, "\n");
        for (int i = 0; i < w->depth; i++)
            puts_(w, "  ");
    }
    puts_(w, c);
    w->first = false;
}

void jw_object_end(struct jw *w)
{
    close_(w, "}");
}

void jw_array_begin(struct jw *w, const char *key)
{
    member(w, key);
    puts_(w, "[");
    w->depth++;
    w->first = true;
}

void jw_array_end(struct jw *w)
{
    close_(w, "]");
}

void jw_string(struct jw *w, const char *key, const char *value)
{
    member(w, key);
    if (value)
        quote(w, value);
    else
        puts_(w, "null");
}

void jw_int(struct jw *w, const char *key, long long value)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", value);
    member(w, key);
    puts_(w, buf);
}

void jw_bool(struct jw *w, const char *key, bool value)
{
    member(w, key);
    puts_(w, value ? "true" : "false");
}

void jw_null(struct jw *w, const char *key)
{
    member(w, key);
    puts_(w, "null");
}

const char *jw_finish(struct jw *w)
{
    puts_(w, "\n");
    return w->oom ? NULL : w->buf;
}
