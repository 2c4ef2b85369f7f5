/* SPDX-License-Identifier: Apache-2.0 */
/* tests/plugin/test_plugin_loader.c - qpki_signer_plugin_load and friends against
 * small fake plugins (tests/plugin/fake_plugin.c): every way a plugin can be
 * missing or malformed gives its own status and a message, and a good plugin's
 * signer dispatches to it.  Needs no HSM. */
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <qpki/db_plugin.h>
#include <qpki/plugin.h>

#include "testutil.h"

typedef struct fake_state {
    char config_path[256];
    char key_label[64];
    uint8_t key_id[64];
    size_t key_id_len;
    size_t cert_spki_len;
    int sig_alg;
    int key_alg;
    unsigned rsa_bits;
    int opened, closed, signed_count;
} fake_state;

static char fake_dir[PATH_MAX];

static const char *fake(int variant)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fake_plugin_%d.so", fake_dir, variant);
    return path;
}

/* The good plugin's recorded state (the loader's dlopen handle and ours are the
 * same mapping). */
static fake_state *fake_state_of(void **dl)
{
    *dl = dlopen(fake(0), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(*dl);
    fake_state *(*get)(void);
    *(void **)&get = dlsym(*dl, "fake_plugin_state");
    assert_non_null(get);
    return get();
}

static int setup(void **state)
{
    (void)state;
    const char *d = getenv("QPKI_FAKE_PLUGIN_DIR");
    if (!d)
        return -1;
    snprintf(fake_dir, sizeof fake_dir, "%s", d);
    return 0;
}

static qpki_status load(const char *path, qpki_signer **s, char *err, size_t errlen)
{
    return qpki_signer_plugin_load(path, "/etc/hsm.yaml", "ocsp-key", NULL, NULL, 0, s, err,
                                   errlen);
}

static void test_missing_plugin_file_is_a_load_error_naming_the_path(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load("/nonexistent/qpki-pkcs11.so", &s, err, sizeof err),
                     QPKI_ERR_PLUGIN_LOAD);
    assert_null(s);
    assert_non_null(strstr(err, "signer plugin /nonexistent/qpki-pkcs11.so not found"));
}

static void test_default_path_comes_from_qpki_plugin_dir(void **state)
{
    (void)state;
    char dir[] = "/tmp/qpki-plugin-dir-XXXXXX", link[PATH_MAX], err[512];
    assert_non_null(mkdtemp(dir));
    setenv(QPKI_PLUGIN_DIR_ENV, dir, 1);
    qpki_signer *s = NULL;
    assert_int_equal(load(NULL, &s, err, sizeof err), QPKI_ERR_PLUGIN_LOAD);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s/qpki-pkcs11.so not found", dir);
    assert_non_null(strstr(err, want));

    snprintf(link, sizeof link, "%s/%s", dir, QPKI_PLUGIN_PKCS11_NAME);
    assert_int_equal(symlink(fake(0), link), 0);
    assert_int_equal(load(NULL, &s, err, sizeof err), QPKI_OK);
    assert_non_null(s);
    qpki_signer_free(&s);
    unlink(link);
    rmdir(dir);
    unsetenv(QPKI_PLUGIN_DIR_ENV);
}

static void test_file_that_is_not_a_shared_object_is_a_load_error(void **state)
{
    (void)state;
    char path[] = "/tmp/qpki-not-a-plugin-XXXXXX", err[512];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    qpki_signer *s = NULL;
    assert_int_equal(load(path, &s, err, sizeof err), QPKI_ERR_PLUGIN_LOAD);
    assert_non_null(strstr(err, "cannot load signer plugin"));
    unlink(path);
}

static void test_plugin_without_entry_symbol_is_a_symbol_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(1), &s, err, sizeof err), QPKI_ERR_PLUGIN_SYMBOL);
    assert_non_null(strstr(err, "symbol qpki_signer_plugin_v1 not found"));
}

static void test_plugin_built_for_newer_abi_is_an_abi_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(2), &s, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "uses plugin ABI version 2; this library supports up to 1"));
}

static void test_truncated_descriptor_is_an_abi_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(3), &s, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "malformed descriptor (struct_size 12"));
}

static void test_entry_returning_null_is_an_abi_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(4), &s, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "returned no descriptor"));
}

static void test_vtable_with_newer_signer_abi_is_an_abi_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(5), &s, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "uses signer ABI version 9; this library supports up to 1"));
    assert_null(s);
}

static void test_truncated_vtable_is_an_abi_error(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(6), &s, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "malformed signer vtable (struct_size 16"));
}

static void test_open_failure_passes_status_and_message_through(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(load(fake(7), &s, err, sizeof err), QPKI_ERR_PIN);
    assert_string_equal(err, "fake: the token needs a PIN");
}

static void test_key_label_or_id_is_required(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_plugin_load(fake(0), "/etc/hsm.yaml", NULL, NULL, NULL, 0, &s,
                                             err, sizeof err),
                     QPKI_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "--key-label"));
    assert_int_equal(qpki_signer_plugin_load(fake(0), "/etc/hsm.yaml", "", "", NULL, 0, &s, err,
                                             sizeof err),
                     QPKI_ERR_INVALID_ARG);
}

static void test_bad_key_id_hex_is_rejected_before_loading(void **state)
{
    (void)state;
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_plugin_load("/nonexistent.so", "/etc/hsm.yaml", NULL, "01zz",
                                             NULL, 0, &s, err, sizeof err),
                     QPKI_ERR_INVALID_ARG);
    assert_string_equal(err, "key id \"01zz\" is not hex of 1 to 128 bytes");
}

static void test_good_plugin_gets_parameters_and_signer_dispatches_to_it(void **state)
{
    (void)state;
    void *dl = NULL;
    fake_state *fs = fake_state_of(&dl);
    memset(fs, 0, sizeof *fs);
    static const uint8_t spki[] = {0x30, 0x03, 0x02, 0x01, 0x07};
    char err[512];
    qpki_signer *s = NULL;
    assert_int_equal(qpki_signer_plugin_load_alg(fake(0), "/etc/qpki/hsm.yaml", "ocsp-key",
                                                 "0x0a:0B", spki, sizeof spki,
                                                 QPKI_SIG_RSA_PSS_SHA256, &s, err, sizeof err),
                     QPKI_OK);
    assert_string_equal(err, "");
    assert_string_equal(fs->config_path, "/etc/qpki/hsm.yaml");
    assert_string_equal(fs->key_label, "ocsp-key");
    assert_int_equal(fs->key_id_len, 2);
    assert_int_equal(fs->key_id[0], 0x0a);
    assert_int_equal(fs->key_id[1], 0x0b);
    assert_int_equal(fs->cert_spki_len, sizeof spki);
    assert_int_equal(fs->sig_alg, QPKI_SIG_RSA_PSS_SHA256);
    assert_int_equal(fs->opened, 1);

    const uint8_t *p = NULL;
    size_t n = 0;
    assert_int_equal(qpki_signer_algorithm(s, &p, &n), QPKI_OK);
    assert_int_equal(n, 7);
    assert_memory_equal(p, "\x30\x05\x06\x03\x2b\x65\x70", 7);
    assert_int_equal(qpki_signer_public_key(s, &p, &n), QPKI_OK);
    assert_int_equal(n, 44);
    assert_int_equal(p[43], 32);
    assert_int_equal(qpki_signer_max_signature_size(s), 64);
    uint8_t sig[64];
    size_t sig_len = sizeof sig;
    assert_int_equal(qpki_signer_sign(s, (const uint8_t *)"abc", 3, sig, &sig_len), QPKI_OK);
    assert_int_equal(sig_len, 64);
    assert_int_equal(sig[0], 3);
    assert_int_equal(sig[63], 0x5a);
    /* the loader signed a probe at load (its signature, under this made-up
     * certificate key, proves nothing and is ignored), then this one */
    assert_int_equal(fs->signed_count, 2);
    assert_int_equal(qpki_signer_health(s), QPKI_ERR_SIGNER_UNAVAILABLE);
    assert_int_equal(fs->closed, 0);
    qpki_signer_free(&s);
    assert_null(s);
    assert_int_equal(fs->closed, 1);
    dlclose(dl);
}

static void test_generate_key_returns_the_plugins_public_key(void **state)
{
    (void)state;
    void *dl = NULL;
    fake_state *fs = fake_state_of(&dl);
    char err[512];
    uint8_t *spki = NULL;
    size_t len = 0;
    assert_int_equal(qpki_signer_plugin_generate_key(fake(0), "/etc/hsm.yaml", "new-key", "01",
                                                     QPKI_KEY_RSA, 4096, &spki, &len, err,
                                                     sizeof err),
                     QPKI_OK);
    assert_int_equal(len, 44);
    assert_int_equal(spki[0], 0x30);
    assert_int_equal(spki[43], 32);
    assert_string_equal(fs->key_label, "new-key");
    assert_int_equal(fs->key_alg, QPKI_KEY_RSA);
    assert_int_equal(fs->rsa_bits, 4096);
    qpki_free(spki);
    dlclose(dl);
}

static void test_generate_key_needs_a_label_and_a_plugin_that_can(void **state)
{
    (void)state;
    char err[512];
    uint8_t *spki = NULL;
    size_t len = 0;
    assert_int_equal(qpki_signer_plugin_generate_key(fake(0), "/etc/hsm.yaml", NULL, NULL,
                                                     QPKI_KEY_EC_P256, 0, &spki, &len, err,
                                                     sizeof err),
                     QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_signer_plugin_generate_key(fake(8), "/etc/hsm.yaml", "k", NULL,
                                                     QPKI_KEY_EC_P256, 0, &spki, &len, err,
                                                     sizeof err),
                     QPKI_ERR_UNSUPPORTED);
    assert_string_equal(err, "signer plugin \"fake\" cannot generate keys");
    assert_null(spki);
}

/* qpki_plugin_probe: the descriptor of a good plugin, the loader's reason otherwise,
 * and nothing opened (the fake plugin records every open). */
static void test_probe_names_a_good_plugin_and_says_why_others_do_not_load(void **state)
{
    (void)state;
    char info[512];
    void *dl;
    fake_state *st = fake_state_of(&dl);
    int opened = st->opened;
    assert_int_equal(qpki_plugin_probe(fake(0), info, sizeof info), QPKI_OK);
    assert_string_equal(info, "signer plugin fake 0");
    assert_int_equal(st->opened, opened);
    dlclose(dl);

    assert_int_equal(qpki_plugin_probe(fake(1), info, sizeof info), QPKI_ERR_PLUGIN_SYMBOL);
    assert_non_null(strstr(info, "symbol qpki_signer_plugin_v1 not found"));
    assert_int_equal(qpki_plugin_probe(fake(2), info, sizeof info), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(info, "uses plugin ABI version 2"));
    assert_int_equal(qpki_plugin_probe(fake(4), info, sizeof info), QPKI_ERR_PLUGIN_ABI);
    assert_int_equal(qpki_plugin_probe("/nonexistent/x.so", info, sizeof info),
                     QPKI_ERR_PLUGIN_LOAD);
    assert_non_null(strstr(info, "/nonexistent/x.so not found"));
    /* no path: the default plugin is not probed behind the caller's back */
    assert_int_equal(qpki_plugin_probe("", info, sizeof info), QPKI_ERR_INVALID_ARG);
    assert_int_equal(qpki_plugin_probe(NULL, NULL, 0), QPKI_ERR_INVALID_ARG);
}

/* ---- status database plugins (qpki/db_plugin.h), through the same loader ------------- */

static const char *fake_db(int variant)
{
    static char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/fake_db_plugin_%d.so", fake_dir, variant);
    return path;
}

static void fake_db_counts(int variant, int *sources, int *stores)
{
    void *dl = dlopen(fake_db(variant), RTLD_NOW | RTLD_LOCAL);
    assert_non_null(dl);
    void (*get)(int *, int *);
    *(void **)&get = dlsym(dl, "fake_db_closed");
    assert_non_null(get);
    get(sources, stores);
    dlclose(dl);
}

static void test_db_plugin_source_and_store_are_checked_and_dispatched(void **state)
{
    (void)state;
    char err[512];
    qpki_db_plugin *p = NULL;
    assert_int_equal(qpki_db_plugin_load(fake_db(0), &p, err, sizeof err), QPKI_OK);
    assert_string_equal(qpki_db_plugin_name(p), "fakedb");
    assert_int_equal(qpki_db_plugin_check_url(p, "host=x password=y", err, sizeof err),
                     QPKI_ERR_INVALID_ARG);
    assert_string_equal(err, "fake: no passwords");
    assert_int_equal(qpki_db_plugin_check_url(p, "host=x", err, sizeof err), QPKI_OK);

    uint8_t id[QPKI_DB_CA_ID_LEN] = {1};
    qpki_db_source_params params = {
        .struct_size = (uint32_t)sizeof params, .url = "host=x", .ca_id = id,
        .ca_id_len = sizeof id,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_plugin_open_source(p, &params, &db, err, sizeof err), QPKI_OK);
    qpki_db_entry e;
    qpki_db_entry_init(&e);
    static const uint8_t serial[] = {0x00, 0x42}; /* normalised before the plugin sees it */
    assert_int_equal(qpki_db_lookup(db, serial, sizeof serial, &e), QPKI_OK);
    assert_int_equal(e.row_status, 'R');
    assert_int_equal(e.reason, QPKI_REASON_KEY_COMPROMISE);
    assert_int_equal(e.revocation_time, 1700000000);
    assert_int_equal(qpki_db_lookup(db, serial, 1, &e), QPKI_ERR_NOT_FOUND);
    assert_int_equal(qpki_db_generation(db), 7);
    int sources = -1, stores = -1;
    fake_db_counts(0, &sources, &stores);
    int sources_before = sources;
    qpki_db_free(&db);
    fake_db_counts(0, &sources, &stores);
    assert_int_equal(sources, sources_before + 1);

    params.url = "unreachable";
    assert_int_equal(qpki_db_plugin_open_source(p, &params, &db, err, sizeof err), QPKI_ERR_IO);
    assert_null(db);
    assert_string_equal(err, "cannot connect to the status database at fake:1: refused");
    params.url = "host=x";
    params.ca_id_len = 31;
    assert_int_equal(qpki_db_plugin_open_source(p, &params, &db, err, sizeof err),
                     QPKI_ERR_INVALID_ARG);

    const qpki_db_store_ops *ops = NULL;
    void *self = NULL;
    assert_int_equal(qpki_db_plugin_open_store(p, "host=x", &ops, &self, err, sizeof err),
                     QPKI_OK);
    assert_int_equal(ops->insert(self, id, sizeof id, NULL), QPKI_ERR_EXISTS);
    int stores_before = stores;
    ops->close(self);
    fake_db_counts(0, &sources, &stores);
    assert_int_equal(stores, stores_before + 1);
    qpki_db_plugin_free(&p);
    assert_null(p);

    assert_int_equal(qpki_plugin_probe(fake_db(0), err, sizeof err), QPKI_OK);
    assert_string_equal(err, "status database plugin fakedb v0");
}

static void test_malformed_db_plugins_are_refused_with_their_reason(void **state)
{
    (void)state;
    char err[512];
    qpki_db_plugin *p = NULL;
    assert_int_equal(qpki_db_plugin_load(fake_db(1), &p, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "status database plugin"));
    assert_non_null(strstr(err, "uses plugin ABI version 2; this library supports up to 1"));
    assert_int_equal(qpki_db_plugin_load(fake_db(2), &p, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "malformed descriptor (struct_size 24"));
    assert_int_equal(qpki_db_plugin_load(fake_db(3), &p, err, sizeof err), QPKI_ERR_PLUGIN_ABI);
    assert_non_null(strstr(err, "a required function is missing"));
    assert_null(p);
    /* a signer plugin is not a database plugin, and the other way round */
    assert_int_equal(qpki_db_plugin_load(fake(0), &p, err, sizeof err), QPKI_ERR_PLUGIN_SYMBOL);
    assert_non_null(strstr(err, "symbol qpki_db_plugin_v1 not found"));
    qpki_signer *s = NULL;
    assert_int_equal(load(fake_db(0), &s, err, sizeof err), QPKI_ERR_PLUGIN_SYMBOL);

    /* a store vtable of an unknown ABI: refused, and closed (close is where V1 has it) */
    assert_int_equal(qpki_db_plugin_load(fake_db(4), &p, err, sizeof err), QPKI_OK);
    const qpki_db_store_ops *ops = NULL;
    void *self = NULL;
    assert_int_equal(qpki_db_plugin_open_store(p, "host=x", &ops, &self, err, sizeof err),
                     QPKI_ERR_PLUGIN_ABI);
    assert_null(ops);
    assert_non_null(strstr(err, "malformed store vtable (ABI version 9"));
    int sources = 0, stores = 0;
    fake_db_counts(4, &sources, &stores);
    assert_int_equal(stores, 1);
    qpki_db_plugin_free(&p);

    /* a source vtable too short to reach close: refused, close not called */
    assert_int_equal(qpki_db_plugin_load(fake_db(5), &p, err, sizeof err), QPKI_OK);
    uint8_t id[QPKI_DB_CA_ID_LEN] = {0};
    qpki_db_source_params params = {
        .struct_size = (uint32_t)sizeof params, .url = "host=x", .ca_id = id,
        .ca_id_len = sizeof id,
    };
    qpki_db *db = NULL;
    assert_int_equal(qpki_db_plugin_open_source(p, &params, &db, err, sizeof err),
                     QPKI_ERR_PLUGIN_ABI);
    assert_null(db);
    assert_non_null(strstr(err, "malformed status database vtable"));
    fake_db_counts(5, &sources, &stores);
    assert_int_equal(sources, 0);
    qpki_db_plugin_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_missing_plugin_file_is_a_load_error_naming_the_path),
        cmocka_unit_test(test_default_path_comes_from_qpki_plugin_dir),
        cmocka_unit_test(test_file_that_is_not_a_shared_object_is_a_load_error),
        cmocka_unit_test(test_plugin_without_entry_symbol_is_a_symbol_error),
        cmocka_unit_test(test_plugin_built_for_newer_abi_is_an_abi_error),
        cmocka_unit_test(test_truncated_descriptor_is_an_abi_error),
        cmocka_unit_test(test_entry_returning_null_is_an_abi_error),
        cmocka_unit_test(test_vtable_with_newer_signer_abi_is_an_abi_error),
        cmocka_unit_test(test_truncated_vtable_is_an_abi_error),
        cmocka_unit_test(test_open_failure_passes_status_and_message_through),
        cmocka_unit_test(test_key_label_or_id_is_required),
        cmocka_unit_test(test_bad_key_id_hex_is_rejected_before_loading),
        cmocka_unit_test(test_good_plugin_gets_parameters_and_signer_dispatches_to_it),
        cmocka_unit_test(test_generate_key_returns_the_plugins_public_key),
        cmocka_unit_test(test_generate_key_needs_a_label_and_a_plugin_that_can),
        cmocka_unit_test(test_probe_names_a_good_plugin_and_says_why_others_do_not_load),
        cmocka_unit_test(test_db_plugin_source_and_store_are_checked_and_dispatched),
        cmocka_unit_test(test_malformed_db_plugins_are_refused_with_their_reason),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
