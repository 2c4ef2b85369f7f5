/* SPDX-License-Identifier: Apache-2.0 */
/* tests/plugin/fake_plugin.c - small signer plugins for the loader tests, one
 * per FAKE_VARIANT:
 *   0 good (records the parameters it got; see fake_plugin_state)
 *   1 no entry symbol            2 descriptor with plugin ABI 2
 *   3 truncated descriptor       4 entry returns NULL
 *   5 vtable with signer ABI 9   6 truncated vtable
 *   7 open() fails with QPKI_ERR_PIN   8 descriptor without generate_key */
#include <stdio.h>
#include <string.h>

#include <qpki/plugin.h>

#ifndef FAKE_VARIANT
#error "FAKE_VARIANT must be defined"
#endif

#define EXPORT __attribute__((visibility("default")))

/* Ed25519 AlgorithmIdentifier and a made-up SubjectPublicKeyInfo. */
static const uint8_t fake_alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
static const uint8_t fake_spki[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
                                    0x03, 0x21, 0x00, 1,    2,    3,    4,    5,    6,
                                    7,    8,    9,    10,   11,   12,   13,   14,   15,
                                    16,   17,   18,   19,   20,   21,   22,   23,   24,
                                    25,   26,   27,   28,   29,   30,   31,   32};

/* What the tests read back through dlsym("fake_plugin_state"). */
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
static fake_state state;
EXPORT fake_state *fake_plugin_state(void);
fake_state *fake_plugin_state(void) { return &state; }

static qpki_status f_algorithm(void *self, const uint8_t **alg, size_t *len)
{
    (void)self;
    *alg = fake_alg;
    *len = sizeof fake_alg;
    return QPKI_OK;
}

static qpki_status f_public_key(void *self, const uint8_t **spki, size_t *len)
{
    (void)self;
    *spki = fake_spki;
    *len = sizeof fake_spki;
    return QPKI_OK;
}

static size_t f_max(void *self)
{
    (void)self;
    return 64;
}

/* "Signature": 64 bytes, the message length then 0x5a. */
static qpki_status f_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                          size_t *sig_len)
{
    (void)self;
    (void)tbs;
    if (*sig_len < 64)
        return QPKI_ERR_BUFFER_TOO_SMALL;
    memset(sig, 0x5a, 64);
    sig[0] = (uint8_t)tbs_len;
    *sig_len = 64;
    state.signed_count++;
    return QPKI_OK;
}

static qpki_status f_health(void *self)
{
    (void)self;
    return QPKI_ERR_SIGNER_UNAVAILABLE; /* so the test sees it is forwarded */
}

static void f_close(void *self)
{
    (void)self;
    state.closed++;
}

__attribute__((unused)) static const qpki_signer_ops fake_ops = {
#if FAKE_VARIANT == 5
    .abi_version = 9,
#else
    .abi_version = QPKI_SIGNER_ABI_V1,
#endif
#if FAKE_VARIANT == 6
    .struct_size = 16,
#else
    .struct_size = (uint32_t)sizeof(qpki_signer_ops),
#endif
    .algorithm = f_algorithm,
    .public_key = f_public_key,
    .max_signature_size = f_max,
    .sign = f_sign,
    .health = f_health,
    .close = f_close,
};

static qpki_status f_open(const qpki_plugin_key_params *p, const qpki_signer_ops **ops,
                          void **self, char *err, size_t errlen)
{
#if FAKE_VARIANT == 7
    (void)p;
    (void)ops;
    (void)self;
    snprintf(err, errlen, "fake: the token needs a PIN");
    return QPKI_ERR_PIN;
#else
    (void)err;
    (void)errlen;
    snprintf(state.config_path, sizeof state.config_path, "%s", p->config_path);
    snprintf(state.key_label, sizeof state.key_label, "%s", p->key_label ? p->key_label : "");
    state.key_id_len = p->key_id_len;
    if (p->key_id_len && p->key_id_len <= sizeof state.key_id)
        memcpy(state.key_id, p->key_id, p->key_id_len);
    state.cert_spki_len = p->cert_spki_len;
    state.sig_alg = (int)p->sig_alg;
    state.opened++;
    *ops = &fake_ops;
    *self = &state;
    return QPKI_OK;
#endif
}

__attribute__((unused)) static qpki_status f_generate(const qpki_plugin_keygen_params *p, uint8_t *spki,
                              size_t *spki_len, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    snprintf(state.key_label, sizeof state.key_label, "%s", p->key_label);
    state.key_alg = (int)p->key_alg;
    state.rsa_bits = p->rsa_bits;
    memcpy(spki, fake_spki, sizeof fake_spki);
    *spki_len = sizeof fake_spki;
    return QPKI_OK;
}

__attribute__((unused)) static const qpki_signer_plugin fake_plugin = {
#if FAKE_VARIANT == 2
    .abi_version = 2,
#else
    .abi_version = QPKI_PLUGIN_ABI_V1,
#endif
#if FAKE_VARIANT == 3
    .struct_size = 12,
#elif FAKE_VARIANT == 8
    .struct_size = (uint32_t)offsetof(qpki_signer_plugin, generate_key),
#else
    .struct_size = (uint32_t)sizeof(qpki_signer_plugin),
#endif
    .name = "fake",
    .version = "0",
    .open = f_open,
#if FAKE_VARIANT != 8
    .generate_key = f_generate,
#endif
};

#if FAKE_VARIANT == 1
EXPORT const qpki_signer_plugin *qpki_signer_plugin_v0(void);
const qpki_signer_plugin *qpki_signer_plugin_v0(void) { return &fake_plugin; }
#else
EXPORT const qpki_signer_plugin *qpki_signer_plugin_v1(void);
const qpki_signer_plugin *qpki_signer_plugin_v1(void)
{
#if FAKE_VARIANT == 4
    return NULL;
#else
    return &fake_plugin;
#endif
}
#endif
