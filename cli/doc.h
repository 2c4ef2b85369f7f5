/* SPDX-License-Identifier: Apache-2.0 */
/* cli/doc.h - YAML (and therefore JSON) documents as a small tree, read with
 * libyaml; and a JSON writer.  Profiles, hsm.yaml-style files and the
 * ca.meta.json / credential.meta.json files go through here. */
#ifndef QPKI_CLI_DOC_H
#define QPKI_CLI_DOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum doc_type { DOC_SCALAR, DOC_SEQ, DOC_MAP };

struct doc {
    enum doc_type type;
    char *value;          /* DOC_SCALAR: the text (never NULL) */
    bool plain;           /* scalar written without quotes (null/true/123 are plain) */
    size_t n;             /* DOC_SEQ / DOC_MAP: number of items */
    struct doc **items;   /* the values */
    char **keys;          /* DOC_MAP: the keys, in document order */
    unsigned *key_lines;  /* DOC_MAP: the line of each key */
    unsigned line;        /* 1-based line where the node starts */
};

/* Parse the first document of text.  On error returns NULL and writes
 * "line N: problem" to err. */
struct doc *doc_parse(const char *text, size_t len, char *err, size_t err_size);
void doc_free(struct doc *d);

/* Mapping lookup (NULL when d is not a mapping or has no such key). */
const struct doc *doc_get(const struct doc *d, const char *key);
/* Scalar text of a mapping member, or NULL. */
const char *doc_str(const struct doc *d, const char *key);
/* true/false/yes/no/on/off (any case); dflt when absent; *ok = false when the
 * value is something else. */
bool doc_bool(const struct doc *d, const char *key, bool dflt, bool *ok);
/* True when a scalar is YAML null ("", "~", "null"). */
bool doc_is_null(const struct doc *d);

/* ---- JSON writer ------------------------------------------------------------- */

struct jw {
    char *buf;
    size_t len, cap;
    int depth;
    bool first;   /* no member written yet at this depth */
    bool oom;
};

void jw_init(struct jw *w);
void jw_free(struct jw *w);
void jw_object_begin(struct jw *w, const char *key);   /* key NULL inside arrays/top */
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w, const char *key);
void jw_array_end(struct jw *w);
void jw_string(struct jw *w, const char *key, const char *value); /* NULL value -> null */
void jw_int(struct jw *w, const char *key, long long value);
void jw_bool(struct jw *w, const char *key, bool value);
void jw_null(struct jw *w, const char *key);
/* Finish with a newline; returns the NUL-terminated text (owned by w) or NULL
 * when memory ran out. */
const char *jw_finish(struct jw *w);

#endif
