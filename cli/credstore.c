/* SPDX-License-Identifier: Apache-2.0 */
/* cli/credstore.c - credential metadata (credential.meta.json), version
 * directories and the links to the active version. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cred.h"
#include "doc.h"
#include "pki.h"

bool cred_valid_id(const char *id)
{
    size_t n = strlen(id);
    if (n == 0 || n > CRED_ID_MAX || id[0] == '.' || id[0] == '-')
        return false;
    for (const char *p = id; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

bool cred_dir_path(char *buf, size_t size, const char *cred_dir, const char *id)
{
    return cli_path(buf, size, "%s/%s", cred_dir, id);
}

bool cred_version_path(char *buf, size_t size, const char *cred_dir, const char *id,
                       const char *version)
{
    return cli_path(buf, size, "%s/%s/versions/%s", cred_dir, id, version);
}

void cred_free(struct credential *c)
{
    for (size_t i = 0; i < c->n_versions; i++)
        vars_free(&c->versions[i].lists);
    free(c->versions);
    vars_free(&c->metadata);
    memset(c, 0, sizeof(*c));
}

struct cred_version *cred_find(struct credential *c, const char *version)
{
    for (size_t i = 0; i < c->n_versions; i++)
        if (strcmp(c->versions[i].id, version) == 0)
            return &c->versions[i];
    return NULL;
}

static unsigned version_number(const char *id)
{
    if (id[0] != 'v')
        return 0;
    char *end;
    unsigned long n = strtoul(id + 1, &end, 10);
    return *end || n > 1000000 ? 0 : (unsigned)n;
}

static int cmp_versions(const void *a, const void *b)
{
    const struct cred_version *x = a, *y = b;
    unsigned nx = version_number(x->id), ny = version_number(y->id);
    if (nx != ny)
        return nx < ny ? -1 : 1;
    return strcmp(x->id, y->id);
}

struct cred_version *cred_add_version(struct credential *c, const char *version)
{
    struct cred_version *v = realloc(c->versions, (c->n_versions + 1) * sizeof(*v));
    if (!v)
        return NULL;
    c->versions = v;
    v = &c->versions[c->n_versions++];
    memset(v, 0, sizeof(*v));
    snprintf(v->id, sizeof(v->id), "%s", version);
    return v;
}

void cred_next_version(const struct credential *c, char *buf, size_t size)
{
    unsigned max = 0;
    for (size_t i = 0; i < c->n_versions; i++) {
        unsigned n = version_number(c->versions[i].id);
        if (n > max)
            max = n;
    }
    if (max < c->n_versions)
        max = (unsigned)c->n_versions;
    snprintf(buf, size, "v%u", max + 1);
}

const char *cred_version_status(const struct credential *c, const struct cred_version *v)
{
    if (strcmp(c->active, v->id) == 0)
        return "active";
    if (v->archived_at[0])
        return "archived";
    return "pending";
}

const char *cred_version_list(const struct cred_version *v, const char *key)
{
    const char *s = vars_get(&v->lists, key);
    return s ? s : "";
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* A JSON array of strings into a comma-separated list. */
static bool join_list(const struct doc *arr, struct vars *out, const char *key)
{
    char buf[1024] = "";
    if (arr && arr->type == DOC_SEQ) {
        for (size_t i = 0; i < arr->n; i++) {
            if (arr->items[i]->type != DOC_SCALAR)
                continue;
            if (buf[0])
                strncat(buf, ",", sizeof(buf) - strlen(buf) - 1);
            strncat(buf, arr->items[i]->value, sizeof(buf) - strlen(buf) - 1);
        }
    }
    return vars_set(out, key, buf);
}

bool cred_load(const char *cred_dir, const char *id, struct credential *c)
{
    char path[PATH_MAX], err[256];
    memset(c, 0, sizeof(*c));
    if (!cred_valid_id(id)) {
        cli_error("'%s' is not a valid credential ID (letters, digits, '.', '_', '-')", id);
        return false;
    }
    if (!cli_path(path, sizeof(path), "%s/%s/%s", cred_dir, id, CRED_META_FILE))
        return false;
    if (!cli_path_exists(path)) {
        cli_error("credential '%s' not found in %s (no %s)", id, cred_dir, path);
        return false;
    }
    uint8_t *text;
    size_t len;
    if (!cli_read_file(path, "credential metadata", &text, &len))
        return false;
    struct doc *d = doc_parse((const char *)text, len, err, sizeof(err));
    free(text);
    if (!d || d->type != DOC_MAP) {
        cli_error("%s: %s", path, d ? "not a JSON object" : err);
        doc_free(d);
        return false;
    }
    copy_str(c->id, sizeof(c->id), doc_str(d, "id") ? doc_str(d, "id") : id);
    copy_str(c->common_name, sizeof(c->common_name),
             doc_str(doc_get(d, "subject"), "common_name"));
    copy_str(c->created, sizeof(c->created), doc_str(d, "created"));
    copy_str(c->active, sizeof(c->active), doc_str(d, "active"));
    const struct doc *versions = doc_get(d, "versions");
    bool ok = true;
    if (versions && versions->type == DOC_MAP) {
        for (size_t i = 0; i < versions->n && ok; i++) {
            const struct doc *vd = versions->items[i];
            struct cred_version *v = cred_add_version(c, versions->keys[i]);
            if (!v) {
                ok = false;
                break;
            }
            ok = join_list(doc_get(vd, "profiles"), &v->lists, "profiles") &&
                 join_list(doc_get(vd, "algos"), &v->lists, "algos");
            copy_str(v->created, sizeof(v->created), doc_str(vd, "created"));
            copy_str(v->not_before, sizeof(v->not_before), doc_str(vd, "not_before"));
            copy_str(v->not_after, sizeof(v->not_after), doc_str(vd, "not_after"));
            copy_str(v->activated_at, sizeof(v->activated_at), doc_str(vd, "activated_at"));
            copy_str(v->archived_at, sizeof(v->archived_at), doc_str(vd, "archived_at"));
            copy_str(v->serial, sizeof(v->serial), doc_str(vd, "serial"));
            copy_str(v->cert_file, sizeof(v->cert_file), doc_str(vd, "certificate"));
            copy_str(v->key_file, sizeof(v->key_file), doc_str(vd, "key"));
            copy_str(v->alt_key_file, sizeof(v->alt_key_file), doc_str(vd, "alt_key"));
        }
        if (c->n_versions > 1)
            qsort(c->versions, c->n_versions, sizeof(c->versions[0]), cmp_versions);
    }
    const struct doc *meta = doc_get(d, "metadata");
    if (meta && meta->type == DOC_MAP)
        for (size_t i = 0; i < meta->n && ok; i++)
            if (meta->items[i]->type == DOC_SCALAR)
                ok = vars_set(&c->metadata, meta->keys[i], meta->items[i]->value);
    doc_free(d);
    if (!ok) {
        cli_error("out of memory");
        cred_free(c);
    }
    return ok;
}

static void json_list(struct jw *w, const char *key, const char *joined)
{
    jw_array_begin(w, key);
    char buf[1024];
    snprintf(buf, sizeof(buf), "%s", joined);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save))
        jw_string(w, NULL, tok);
    jw_array_end(w);
}

bool cred_save(const char *cred_dir, const struct credential *c)
{
    struct jw w;
    jw_init(&w);
    jw_object_begin(&w, NULL);
    jw_string(&w, "id", c->id);
    jw_object_begin(&w, "subject");
    jw_string(&w, "common_name", c->common_name);
    jw_object_end(&w);
    jw_string(&w, "created", c->created);
    jw_string(&w, "active", c->active);
    jw_object_begin(&w, "versions");
    for (size_t i = 0; i < c->n_versions; i++) {
        const struct cred_version *v = &c->versions[i];
        jw_object_begin(&w, v->id);
        json_list(&w, "profiles", cred_version_list(v, "profiles"));
        json_list(&w, "algos", cred_version_list(v, "algos"));
        jw_string(&w, "created", v->created);
        if (v->not_before[0])
            jw_string(&w, "not_before", v->not_before);
        if (v->not_after[0])
            jw_string(&w, "not_after", v->not_after);
        if (v->activated_at[0])
            jw_string(&w, "activated_at", v->activated_at);
        if (v->archived_at[0])
            jw_string(&w, "archived_at", v->archived_at);
        if (v->serial[0])
            jw_string(&w, "serial", v->serial);
        if (v->cert_file[0])
            jw_string(&w, "certificate", v->cert_file);
        if (v->key_file[0])
            jw_string(&w, "key", v->key_file);
        if (v->alt_key_file[0])
            jw_string(&w, "alt_key", v->alt_key_file);
        jw_object_end(&w);
    }
    jw_object_end(&w);
    jw_object_begin(&w, "metadata");
    for (size_t i = 0; i < c->metadata.n; i++)
        jw_string(&w, c->metadata.keys[i], c->metadata.values[i]);
    jw_object_end(&w);
    jw_object_end(&w);
    const char *json = jw_finish(&w);
    char path[PATH_MAX];
    bool ok = json != NULL;
    if (!ok)
        cli_error("out of memory");
    ok = ok && cli_path(path, sizeof(path), "%s/%s/%s", cred_dir, c->id, CRED_META_FILE) &&
         cli_write_file(path, (const uint8_t *)json, strlen(json), 0644, false);
    jw_free(&w);
    return ok;
}

bool cred_lock(const char *cred_dir, const char *id, int *fd)
{
    char path[PATH_MAX];
    if (!cli_path(path, sizeof(path), "%s/%s/.lock", cred_dir, id))
        return false;
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (*fd < 0) {
        cli_error("cannot open %s: %s", path, strerror(errno));
        return false;
    }
    while (flock(*fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            cli_error("cannot lock %s: %s", path, strerror(errno));
            close(*fd);
            *fd = -1;
            return false;
        }
    }
    return true;
}

void cred_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}

/* Point link (a path) at target with one rename(2): a new link under a
 * temporary name, then renamed over the old one. */
static bool swap_symlink(const char *target, const char *link)
{
    char tmp[PATH_MAX];
    if (!cli_path(tmp, sizeof(tmp), "%s.tmp.%ld", link, (long)getpid()))
        return false;
    (void)unlink(tmp);
    if (symlink(target, tmp) != 0) {
        cli_error("cannot create the link %s: %s", tmp, strerror(errno));
        return false;
    }
    if (rename(tmp, link) != 0) {
        cli_error("cannot replace %s: %s", link, strerror(errno));
        (void)unlink(tmp);
        return false;
    }
    return true;
}

/* Create link -> target unless it already points there. */
static bool ensure_symlink(const char *target, const char *link)
{
    char cur[PATH_MAX];
    ssize_t n = readlink(link, cur, sizeof(cur) - 1);
    if (n >= 0) {
        cur[n] = '\0';
        if (strcmp(cur, target) == 0)
            return true;
    }
    return swap_symlink(target, link);
}

bool cred_point_active(const char *cred_dir, const struct credential *c,
                       const struct cred_version *v)
{
    char dir[PATH_MAX], vdir[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
    if (!cred_dir_path(dir, sizeof(dir), cred_dir, c->id) ||
        !cred_version_path(vdir, sizeof(vdir), cred_dir, c->id, v->id))
        return false;
    if (!v->cert_file[0] || !v->key_file[0]) {
        cli_error("version %s of credential %s has no certificate/key files recorded", v->id,
                  c->id);
        return false;
    }
    /* versions/vN/<id>.crt -> certs/credential.<algo>.pem (and the key). */
    if (!cli_path(link, sizeof(link), "%s/%s.crt", vdir, c->id) ||
        !ensure_symlink(v->cert_file, link) ||
        !cli_path(link, sizeof(link), "%s/%s.key", vdir, c->id) ||
        !ensure_symlink(v->key_file, link))
        return false;
    if (v->alt_key_file[0] &&
        (!cli_path(link, sizeof(link), "%s/%s.alt.key", vdir, c->id) ||
         !ensure_symlink(v->alt_key_file, link)))
        return false;
    /* active -> versions/vN: the one atomic switch. */
    if (!cli_path(link, sizeof(link), "%s/active", dir) ||
        !cli_path(target, sizeof(target), "versions/%s", v->id) || !swap_symlink(target, link))
        return false;
    /* <id>.crt -> active/<id>.crt, <id>.key -> active/<id>.key (stable). */
    if (!cli_path(link, sizeof(link), "%s/%s.crt", dir, c->id) ||
        !cli_path(target, sizeof(target), "active/%s.crt", c->id) ||
        !ensure_symlink(target, link) ||
        !cli_path(link, sizeof(link), "%s/%s.key", dir, c->id) ||
        !cli_path(target, sizeof(target), "active/%s.key", c->id) ||
        !ensure_symlink(target, link))
        return false;
    /* <id>.alt.key -> active/<id>.alt.key while the active version is Catalyst. */
    if (!cli_path(link, sizeof(link), "%s/%s.alt.key", dir, c->id) ||
        !cli_path(target, sizeof(target), "active/%s.alt.key", c->id))
        return false;
    if (v->alt_key_file[0]) {
        if (!ensure_symlink(target, link))
            return false;
    } else {
        (void)unlink(link);
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return true;
}

/* A file in dir whose name starts with prefix and ends with suffix. */
static bool find_file(const char *dir, const char *prefix, const char *suffix, char *out,
                      size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    bool found = false;
    struct dirent *e;
    char best[256] = "";
    while ((e = readdir(d)) != NULL) {
        size_t n = strlen(e->d_name), ls = strlen(suffix), lp = strlen(prefix);
        if (n > lp + ls && strncmp(e->d_name, prefix, lp) == 0 &&
            strcmp(e->d_name + n - ls, suffix) == 0 &&
            (!found || strcmp(e->d_name, best) < 0)) {
            snprintf(best, sizeof(best), "%s", e->d_name);
            found = true;
        }
    }
    closedir(d);
    if (found)
        snprintf(out, size, "%s/%s", dir, best);
    return found;
}

bool cli_credential_paths(const char *cred_dir, const char *id, char *cert_path,
                          size_t cert_size, char *key_path, size_t key_size)
{
    if (!cred_valid_id(id)) {
        cli_error("'%s' is not a valid credential ID", id);
        return false;
    }
    if (!cli_path(cert_path, cert_size, "%s/%s/%s.crt", cred_dir, id, id) ||
        !cli_path(key_path, key_size, "%s/%s/%s.key", cred_dir, id, id))
        return false;
    struct stat st;
    if (stat(cert_path, &st) == 0 && stat(key_path, &st) == 0)
        return true;
    /* A credential written by QPKI itself: the active version's files. */
    struct credential c;
    if (!cred_load(cred_dir, id, &c))
        return false;
    bool ok = false;
    char vdir[PATH_MAX], sub[PATH_MAX];
    struct cred_version *v = c.active[0] ? cred_find(&c, c.active) : NULL;
    if (!v) {
        cli_error("credential '%s' has no active version", id);
        goto done;
    }
    if (!cred_version_path(vdir, sizeof(vdir), cred_dir, id, v->id))
        goto done;
    if (v->cert_file[0] && v->key_file[0]) {
        ok = cli_path(cert_path, cert_size, "%s/%s", vdir, v->cert_file) &&
             cli_path(key_path, key_size, "%s/%s", vdir, v->key_file);
        goto done;
    }
    if (cli_path(sub, sizeof(sub), "%s/certs", vdir) &&
        find_file(sub, "credential.", ".pem", cert_path, cert_size) &&
        cli_path(sub, sizeof(sub), "%s/keys", vdir) &&
        find_file(sub, "credential.", ".key", key_path, key_size)) {
        ok = true;
        goto done;
    }
    cli_error("credential '%s': no certificate and key for active version %s in %s", id,
              v->id, vdir);
done:
    cred_free(&c);
    return ok;
}

bool cli_credential_alt_key_path(const char *cred_dir, const char *id, char *path, size_t size)
{
    struct stat st;
    if (!cred_valid_id(id) || !cli_path(path, size, "%s/%s/%s.alt.key", cred_dir, id, id))
        return false;
    if (stat(path, &st) == 0)
        return true;
    /* A credential whose links are missing: ask its metadata. */
    struct credential c;
    char meta[PATH_MAX];
    if (!cli_path(meta, sizeof(meta), "%s/%s/%s", cred_dir, id, CRED_META_FILE) ||
        !cli_path_exists(meta) || !cred_load(cred_dir, id, &c))
        return false;
    bool ok = false;
    struct cred_version *v = c.active[0] ? cred_find(&c, c.active) : NULL;
    if (v && v->alt_key_file[0])
        ok = cli_path(path, size, "%s/%s/versions/%s/%s", cred_dir, id, v->id, v->alt_key_file) &&
             stat(path, &st) == 0;
    cred_free(&c);
    return ok;
}

void cred_now_text(char *buf, size_t size)
{
    cli_format_time((qpki_time)time(NULL), buf, size);
}

/* The file-name form of a profile's algorithm ("ecdsa-p256", "rsa-2048"). */
void cred_algo_name(const struct profile *p, char *buf, size_t size)
{
    snprintf(buf, size, "%s", p->algorithm);
    for (char *q = buf; *q; q++) {
        *q = (char)tolower((unsigned char)*q);
        if (!(isalnum((unsigned char)*q) || *q == '-' || *q == '_'))
            *q = '-';
    }
}

/* Generate a key, have the CA issue its certificate and store both as
 * version `vid`. */
bool cred_make_version(const char *cred_dir, struct credential *c, const char *vid,
                       const struct profile *p, const struct vars *vars, struct ca_ctx *ca,
                       const char *passphrase)
{
    char vdir[PATH_MAX], path[PATH_MAX], algo[64], rel[256], alt_rel[256] = "";
    char alt_algo[64] = "";
    qpki_key *key = NULL, *alt_key = NULL;
    qpki_cert *cert = NULL;
    bool ok = false;

    cred_algo_name(p, algo, sizeof(algo));
    if (!cred_version_path(vdir, sizeof(vdir), cred_dir, c->id, vid))
        return false;
    if (cli_path_exists(vdir)) {
        cli_error("%s already exists", vdir);
        return false;
    }
    if (!cli_mkdirs(vdir, 0755) || !cli_path(path, sizeof(path), "%s/keys", vdir) ||
        !cli_mkdirs(path, 0700) ||
        !cli_path(path, sizeof(path), "%s/certs", vdir) || !cli_mkdirs(path, 0755))
        return false;
    if (!pki_generate_key(p, &key))
        goto done;
    snprintf(rel, sizeof(rel), "keys/credential.%s.key", algo);
    if (!cli_path(path, sizeof(path), "%s/%s", vdir, rel) ||
        !pki_write_key(key, path, passphrase, true))
        goto done;

    if (p->alt_algorithm) {
        /* Catalyst: a second (ML-DSA) key, named by its algorithm like the first. */
        snprintf(alt_algo, sizeof(alt_algo), "%s", p->alt_algorithm);
        for (char *q = alt_algo; *q; q++)
            *q = (char)tolower((unsigned char)*q);
        snprintf(alt_rel, sizeof(alt_rel), "keys/credential.%s.key", alt_algo);
        if (!pki_generate_alt_key(p, &alt_key) ||
            !cli_path(path, sizeof(path), "%s/%s", vdir, alt_rel) ||
            !pki_write_key(alt_key, path, passphrase, true))
            goto done;
    }

    const uint8_t *spki;
    size_t spki_len;
    qpki_status st = qpki_key_public_key(key, &spki, &spki_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "public key");
        goto done;
    }
    struct issue_params ip = { .profile = p, .vars = vars, .spki = spki, .spki_len = spki_len };
    if (alt_key && (st = qpki_key_public_key(alt_key, &ip.alt_spki, &ip.alt_spki_len)) != QPKI_OK) {
        cli_error_st(st, "alternative public key");
        goto done;
    }
    if (!ca_issue(ca, &ip, &cert))
        goto done;
    char crel[256];
    snprintf(crel, sizeof(crel), "certs/credential.%s.pem", algo);
    if (!cli_path(path, sizeof(path), "%s/%s", vdir, crel) || !pki_write_cert(cert, path, true))
        goto done;

    struct cred_version *v = cred_add_version(c, vid);
    char algos[140];
    snprintf(algos, sizeof(algos), "%s%s%s", algo, alt_algo[0] ? "," : "", alt_algo);
    if (!v || !vars_set(&v->lists, "profiles", p->name) || !vars_set(&v->lists, "algos", algos)) {
        cli_error("out of memory");
        goto done;
    }
    cred_now_text(v->created, sizeof(v->created));
    cli_format_time(qpki_cert_not_before(cert), v->not_before, sizeof(v->not_before));
    cli_format_time(qpki_cert_not_after(cert), v->not_after, sizeof(v->not_after));
    pki_cert_serial_hex(cert, v->serial, sizeof(v->serial));
    snprintf(v->cert_file, sizeof(v->cert_file), "%s", crel);
    snprintf(v->key_file, sizeof(v->key_file), "%s", rel);
    snprintf(v->alt_key_file, sizeof(v->alt_key_file), "%s", alt_rel);
    if (c->common_name[0] == '\0') {
        char subject[1024];
        pki_subject(cert, subject, sizeof(subject));
        if (!pki_rdn_value(subject, "CN", c->common_name, sizeof(c->common_name)))
            snprintf(c->common_name, sizeof(c->common_name), "%.255s", subject);
    }
    ok = true;
done:
    qpki_cert_free(&cert);
    qpki_key_free(&key);
    qpki_key_free(&alt_key);
    return ok;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Remove a credential directory this run created (after a failed enroll). */
void cred_remove_tree(const char *dir)
{
    (void)nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void cred_print_version_line(const struct credential *c, const struct cred_version *v)
{
    char nb[16] = "", na[40] = "";
    snprintf(nb, sizeof(nb), "%.10s", v->created);
    snprintf(na, sizeof(na), "%s", v->not_after);
    const char *status = cred_version_status(c, v);
    printf("%-9s %-10s %-28s %-12s %-18s %-21s %s\n", v->id, status,
           cred_version_list(v, "profiles"), cred_version_list(v, "algos"),
           v->serial[0] ? v->serial : "-", na[0] ? na : "-", nb[0] ? nb : "-");
}

/* ---- enroll ------------------------------------------------------------------------------ */

int cred_dir_option(int argc, char **argv, const char *help, const char **cred_dir)
{
    static const struct option opts[] = {
        { "cred-dir", required_argument, NULL, O_CRED_DIR },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    *cred_dir = "./credentials";
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_CRED_DIR: *cred_dir = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    return -1;
}
