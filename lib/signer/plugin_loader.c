/* SPDX-License-Identifier: Apache-2.0 */
/* lib/signer/plugin_loader.c - loading signer plugins with dlopen (qpki/plugin.h).
 *
 * The generic loader (lib/dlplugin.c) opens the plugin file, looks up
 * QPKI_SIGNER_PLUGIN_ENTRY and checks the descriptor's abi_version and
 * struct_size; this file asks the plugin to open the key, checks the
 * qpki_signer_ops it returns the same way, and wraps it so that the plugin
 * stays loaded as long as the signer lives (close runs the plugin's close,
 * then dlclose). */
#include <dlfcn.h>
#include <string.h>

#include <qpki/db_plugin.h>
#include <qpki/plugin.h>
#include <qpki/signer.h>

#include "../crypto/crypto.h"
#include "../internal.h"
#include "db/db_internal.h"
#include "dlplugin.h"

/* The last field of each V1 structure: a struct_size smaller than its end means
 * the other side was built against a truncated (older, broken) layout. */
#define V1_PLUGIN_SIZE (offsetof(qpki_signer_plugin, open) + sizeof(void (*)(void)))
#define V1_OPS_SIZE (offsetof(qpki_signer_ops, close) + sizeof(void (*)(void)))

/* ---- the wrapper signer ------------------------------------------------------ */

typedef struct plugin_signer {
    void *dl;                     /* keeps the plugin loaded */
    const qpki_signer_ops *ops;   /* the plugin's vtable */
    void *self;                   /* the plugin's object */
} plugin_signer;

static qpki_status ps_algorithm(void *self, const uint8_t **alg_der, size_t *alg_len)
{
    plugin_signer *p = self;
    return p->ops->algorithm(p->self, alg_der, alg_len);
}

static qpki_status ps_public_key(void *self, const uint8_t **spki, size_t *spki_len)
{
    plugin_signer *p = self;
    return p->ops->public_key(p->self, spki, spki_len);
}

static size_t ps_max_signature_size(void *self)
{
    plugin_signer *p = self;
    return p->ops->max_signature_size(p->self);
}

static qpki_status ps_sign(void *self, const uint8_t *tbs, size_t tbs_len, uint8_t *sig,
                           size_t *sig_len)
{
    plugin_signer *p = self;
    return p->ops->sign(p->self, tbs, tbs_len, sig, sig_len);
}

static qpki_status ps_health(void *self)
{
    plugin_signer *p = self;
    return p->ops->health ? p->ops->health(p->self) : QPKI_OK;
}

static void ps_close(void *self)
{
    plugin_signer *p = self;
    p->ops->close(p->self);
    dlclose(p->dl);
    qpki_free(p);
}

static const qpki_signer_ops plugin_signer_ops = {
    .abi_version = QPKI_SIGNER_ABI_V1,
    .struct_size = (uint32_t)sizeof(qpki_signer_ops),
    .algorithm = ps_algorithm,
    .public_key = ps_public_key,
    .max_signature_size = ps_max_signature_size,
    .sign = ps_sign,
    .health = ps_health,
    .close = ps_close,
};

/* ---- loading ------------------------------------------------------------------------ */

static const dlplugin_kind signer_kind = {
    .what = "signer plugin",
    .default_file = QPKI_PLUGIN_PKCS11_NAME,
    .entry_symbol = QPKI_SIGNER_PLUGIN_ENTRY,
    .abi_max = QPKI_PLUGIN_ABI_V1,
    .min_size = V1_PLUGIN_SIZE,
    .dl_flags = 0,
};

/* dlopen the plugin and return its checked descriptor. */
static qpki_status plugin_open_file(const char *plugin_path, void **dl_out,
                                    const qpki_signer_plugin **desc_out, char *err,
                                    size_t errlen)
{
    const void *desc = NULL;
    QPKI_GUARD(dlplugin_open(&signer_kind, plugin_path, dl_out, &desc, err, errlen));
    *desc_out = desc;
    if (!(*desc_out)->open) {
        dlplugin_set_err(err, errlen, "signer plugin %s has a malformed descriptor (no open function)",
                plugin_path && plugin_path[0] ? plugin_path : QPKI_PLUGIN_PKCS11_NAME);
        dlclose(*dl_out);
        *dl_out = NULL;
        *desc_out = NULL;
        return QPKI_ERR_PLUGIN_ABI;
    }
    return QPKI_OK;
}

static qpki_status check_ops(const qpki_signer_ops *ops, const qpki_signer_plugin *desc,
                             char *err, size_t errlen)
{
    const char *name = desc->name ? desc->name : "?";
    if (!ops) {
        dlplugin_set_err(err, errlen, "signer plugin \"%s\" returned no signer vtable", name);
        return QPKI_ERR_PLUGIN_ABI;
    }
    if (ops->abi_version == 0 || ops->abi_version > QPKI_SIGNER_ABI_V1) {
        dlplugin_set_err(err, errlen, "signer plugin \"%s\" uses signer ABI version %u; this library "
                             "supports up to %u", name, ops->abi_version, QPKI_SIGNER_ABI_V1);
        return QPKI_ERR_PLUGIN_ABI;
    }
    if (ops->struct_size < V1_OPS_SIZE || !ops->algorithm || !ops->public_key ||
        !ops->max_signature_size || !ops->sign || !ops->close) {
        dlplugin_set_err(err, errlen, "signer plugin \"%s\" returned a malformed signer vtable "
                             "(struct_size %u, at least %zu expected)",
                name, ops->struct_size, V1_OPS_SIZE);
        return QPKI_ERR_PLUGIN_ABI;
    }
    return QPKI_OK;
}

static qpki_status key_id_parse(const char *key_id_hex, uint8_t *id, size_t *id_len, char *err,
                                size_t errlen)
{
    *id_len = 0;
    if (!key_id_hex || !key_id_hex[0])
        return QPKI_OK;
    qpki_status rc = qpki_hex_decode(key_id_hex, id, QPKI_PLUGIN_MAX_KEY_ID, id_len);
    if (rc != QPKI_OK || *id_len == 0) {
        dlplugin_set_err(err, errlen, "key id \"%s\" is not hex of 1 to %d bytes", key_id_hex,
                QPKI_PLUGIN_MAX_KEY_ID);
        return QPKI_ERR_INVALID_ARG;
    }
    return QPKI_OK;
}

/* A token need not expose a public key object next to its private key; the
 * plugin then takes the certificate's word for the public key.  So the key is
 * tried once: a probe signed by the token must verify with the certificate's
 * public key, else the key is not the certificate's (QPKI_ERR_KEY_MISMATCH).  A
 * token that cannot sign right now proves nothing either way: the signer is
 * kept, and signing reports the outage as usual. */
static qpki_status key_signs_for(qpki_signer *signer, const uint8_t *spki, size_t spki_len,
                                 char *err, size_t errlen)
{
    static const uint8_t probe[] = "qpki: does this key belong to the certificate?";
    size_t cap = qpki_signer_max_signature_size(signer), len = cap;
    const uint8_t *alg;
    size_t alg_len;
    uint8_t *sig = qpki_malloc(cap ? cap : 1);
    if (!sig)
        return QPKI_ERR_NOMEM;
    qpki_status rc = qpki_signer_sign(signer, probe, sizeof probe - 1, sig, &len);
    if (rc == QPKI_OK)
        rc = qpki_signer_algorithm(signer, &alg, &alg_len);
    if (rc == QPKI_OK) {
        rc = crypto_verify_spki((der_view){spki, spki_len}, (der_view){alg, alg_len}, probe,
                                sizeof probe - 1, sig, len);
        if (rc == QPKI_ERR_BAD_SIGNATURE) {
            dlplugin_set_err(err, errlen,
                             "a test signature by the token's key does not verify with the "
                             "certificate's public key: the key is not the certificate's");
            rc = QPKI_ERR_KEY_MISMATCH;
        } else if (rc != QPKI_ERR_NOMEM) {
            rc = QPKI_OK; /* a key we cannot verify with here: nothing learned */
        }
    } else if (rc != QPKI_ERR_NOMEM) {
        rc = QPKI_OK; /* the token could not sign now: nothing learned */
    }
    qpki_free(sig);
    return rc;
}

qpki_status qpki_signer_plugin_load_alg(const char *plugin_path, const char *hsm_config_path,
                                        const char *key_label, const char *key_id_hex,
                                        const uint8_t *cert_spki, size_t spki_len,
                                        qpki_sig_alg alg, qpki_signer **out, char *err,
                                        size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!out || !hsm_config_path || (!cert_spki && spki_len)) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    *out = NULL;
    uint8_t id[QPKI_PLUGIN_MAX_KEY_ID];
    size_t id_len = 0;
    QPKI_GUARD(key_id_parse(key_id_hex, id, &id_len, err, errlen));
    if ((!key_label || !key_label[0]) && id_len == 0) {
        dlplugin_set_err(err, errlen, "a key label (--key-label) or key id (--key-id) is required");
        return QPKI_ERR_INVALID_ARG;
    }

    void *dl = NULL;
    const qpki_signer_plugin *desc = NULL;
    QPKI_GUARD(plugin_open_file(plugin_path, &dl, &desc, err, errlen));

    qpki_plugin_key_params params = {
        .struct_size = (uint32_t)sizeof params,
        .config_path = hsm_config_path,
        .key_label = key_label && key_label[0] ? key_label : NULL,
        .key_id = id_len ? id : NULL,
        .key_id_len = id_len,
        .cert_spki = spki_len ? cert_spki : NULL,
        .cert_spki_len = spki_len,
        .sig_alg = alg,
    };
    const qpki_signer_ops *ops = NULL;
    void *self = NULL;
    plugin_signer *wrap = NULL;
    qpki_status rc = desc->open(&params, &ops, &self, err, errlen);
    if (rc != QPKI_OK) {
        dlclose(dl);
        return rc;
    }
    rc = check_ops(ops, desc, err, errlen);
    if (rc != QPKI_OK) {
        /* close sits at the same offset in every ABI version (methods are only
         * appended), so it can be called when the vtable is long enough to hold
         * it; otherwise leak self and keep the plugin mapped rather than call
         * into a layout we do not know. */
        if (ops && ops->struct_size >= V1_OPS_SIZE && ops->close) {
            ops->close(self);
            dlclose(dl);
        }
        return rc;
    }
    wrap = qpki_calloc(1, sizeof *wrap);
    if (!wrap) {
        ops->close(self);
        dlclose(dl);
        return QPKI_ERR_NOMEM;
    }
    *wrap = (plugin_signer){dl, ops, self};
    rc = qpki_signer_new(&plugin_signer_ops, wrap, out);
    if (rc != QPKI_OK) {
        dlplugin_set_err(err, errlen, "cannot wrap the plugin signer: %s", qpki_strerror(rc));
        ps_close(wrap);
        return rc;
    }
    if (spki_len && (rc = key_signs_for(*out, cert_spki, spki_len, err, errlen)) != QPKI_OK)
        qpki_signer_free(out);
    return rc;
}

qpki_status qpki_signer_plugin_load(const char *plugin_path, const char *hsm_config_path,
                                    const char *key_label, const char *key_id_hex,
                                    const uint8_t *cert_spki, size_t spki_len,
                                    qpki_signer **out, char *err, size_t errlen)
{
    return qpki_signer_plugin_load_alg(plugin_path, hsm_config_path, key_label, key_id_hex,
                                       cert_spki, spki_len, QPKI_SIG_UNKNOWN, out, err, errlen);
}

qpki_status qpki_signer_plugin_generate_key(const char *plugin_path, const char *hsm_config_path,
                                            const char *key_label, const char *key_id_hex,
                                            qpki_key_alg alg, unsigned rsa_bits,
                                            uint8_t **spki_der, size_t *spki_len, char *err,
                                            size_t errlen)
{
    dlplugin_set_err(err, errlen, "%s", "");
    if (!hsm_config_path || !spki_der || !spki_len) {
        dlplugin_set_err(err, errlen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    *spki_der = NULL;
    *spki_len = 0;
    if (!key_label || !key_label[0]) {
        dlplugin_set_err(err, errlen, "a key label (--key-label) is required to generate a key");
        return QPKI_ERR_INVALID_ARG;
    }
    uint8_t id[QPKI_PLUGIN_MAX_KEY_ID];
    size_t id_len = 0;
    QPKI_GUARD(key_id_parse(key_id_hex, id, &id_len, err, errlen));

    void *dl = NULL;
    const qpki_signer_plugin *desc = NULL;
    QPKI_GUARD(plugin_open_file(plugin_path, &dl, &desc, err, errlen));
    qpki_status rc;
    uint8_t *buf = NULL;
    if (desc->struct_size < offsetof(qpki_signer_plugin, generate_key) + sizeof(void (*)(void)) ||
        !desc->generate_key) {
        dlplugin_set_err(err, errlen, "signer plugin \"%s\" cannot generate keys",
                desc->name ? desc->name : "?");
        QPKI_FAIL(QPKI_ERR_UNSUPPORTED);
    }
    qpki_plugin_keygen_params params = {
        .struct_size = (uint32_t)sizeof params,
        .config_path = hsm_config_path,
        .key_label = key_label,
        .key_id = id_len ? id : NULL,
        .key_id_len = id_len,
        .key_alg = alg,
        .rsa_bits = rsa_bits,
    };
    size_t len = QPKI_PLUGIN_MAX_SPKI;
    buf = qpki_malloc(len);
    if (!buf)
        QPKI_FAIL(QPKI_ERR_NOMEM);
    QPKI_CHECK(desc->generate_key(&params, buf, &len, err, errlen));
    if (len == 0 || len > QPKI_PLUGIN_MAX_SPKI) {
        dlplugin_set_err(err, errlen, "signer plugin returned a public key of %zu bytes", len);
        QPKI_FAIL(QPKI_ERR_PLUGIN_ABI);
    }
    *spki_der = buf;
    *spki_len = len;
    buf = NULL;
out:
    qpki_free(buf);
    dlclose(dl);
    return rc;
}

qpki_status qpki_plugin_probe(const char *path, char *info, size_t infolen)
{
    dlplugin_set_err(info, infolen, "%s", "");
    if (!path || !path[0] || (!info && infolen)) {
        dlplugin_set_err(info, infolen, "invalid argument");
        return QPKI_ERR_INVALID_ARG;
    }
    void *dl = NULL;
    const qpki_signer_plugin *desc = NULL;
    qpki_status rc = plugin_open_file(path, &dl, &desc, info, infolen);
    if (rc == QPKI_ERR_PLUGIN_SYMBOL) {
        /* not a signer plugin: perhaps a status database plugin */
        char db_info[512];
        qpki_status db_rc = db_plugin_probe(path, db_info, sizeof(db_info));
        if (db_rc != QPKI_ERR_PLUGIN_SYMBOL) {
            dlplugin_set_err(info, infolen, "%s", db_info);
            return db_rc;
        }
        size_t n = info ? strlen(info) : 0;
        if (n + 1 < infolen)
            dlplugin_set_err(info + n, infolen - n, " (nor %s)", QPKI_DB_PLUGIN_ENTRY);
    }
    QPKI_GUARD(rc);
    dlplugin_set_err(info, infolen, "signer plugin %s %s", desc->name ? desc->name : "?",
            desc->version ? desc->version : "?");
    dlclose(dl);
    return QPKI_OK;
}
