/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/p11.h - private interface of the PKCS#11 signer plugin.
 *
 * The plugin is a separate shared object (qpki-pkcs11.so).  It is compiled with
 * the library's DER writer and allocation helpers (same sources, linked
 * privately) and exports one symbol, qpki_signer_plugin_v1.
 *
 * PKCS#11 types come from p11-kit's pkcs11.h in its CRYPTOKI_GNU spelling
 * (struct ck_function_list, ck_rv_t, ...), which defines no lower-case macros.
 * The few PKCS#11 3.0/3.2 names that header lacks are declared below from the
 * OASIS specifications. */
#ifndef QPKI_P11_H
#define QPKI_P11_H

#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <qpki/plugin.h>
#include <qpki/signer.h>

#include "../../internal.h"

/* ---- PKCS#11 3.x names missing from the 2.40 header ------------------------- */

/* PKCS#11 3.0 §5.2 "C_GetInterface": an interface is a name, a function list
 * (CK_FUNCTION_LIST_3_0 begins with the 2.40 layout) and flags. */
struct p11_interface {
    unsigned char *name;
    void *function_list;
    ck_flags_t flags;
};
typedef ck_rv_t (*p11_get_interface_fn)(unsigned char *name, struct ck_version *version,
                                        struct p11_interface **iface, ck_flags_t flags);

/* PKCS#11 3.0 §2.3.14 CK_EDDSA_PARAMS (Ed448 needs phFlag = FALSE, no context). */
struct p11_eddsa_params {
    unsigned char ph_flag;
    unsigned long context_data_len;
    unsigned char *context_data;
};

/* PKCS#11 3.2 §6.67 ML-DSA. */
#define P11_CKK_ML_DSA 0x4aUL
#define P11_CKA_PARAMETER_SET 0x61dUL
#define P11_CKM_ML_DSA_KEY_PAIR_GEN 0x1cUL
#define P11_CKM_ML_DSA 0x1dUL
#define P11_CKP_ML_DSA_44 1UL
#define P11_CKP_ML_DSA_65 2UL
#define P11_CKP_ML_DSA_87 3UL

/* ---- errors ------------------------------------------------------------------ */

/* "CKR_PIN_INCORRECT" etc.; "CKR_0x..." for values without a name (static buffer
 * per thread). */
const char *p11_rv_name(ck_rv_t rv);
/* True for results that mean the token, the session or the login is gone, so
 * the session pool must be rebuilt (CKR_DEVICE_REMOVED, CKR_SESSION_HANDLE_INVALID...). */
bool p11_rv_is_connection_loss(ck_rv_t rv);
/* Write a message into err (NULL/0 allowed). */
void p11_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- hsm.yaml ---------------------------------------------------------------- */

#define P11_DEFAULT_PIN_ENV "HSM_PIN"

typedef struct p11_config {
    char *lib;                     /* pkcs11.lib (required) */
    char *token;                   /* pkcs11.token: token label, or NULL */
    char *token_serial;            /* pkcs11.token_serial, or NULL */
    bool has_slot;
    unsigned long slot;            /* pkcs11.slot */
    char *pin_env;                 /* pkcs11.pin_env (default HSM_PIN) */
    bool logout_after_use;         /* session.logout_after_use */
    bool verify_key_cert_binding;  /* security.verify_key_cert_binding */
} p11_config;

/* Parse hsm.yaml (QPKI's format).  Errors are QPKI_ERR_IO (cannot read) or
 * QPKI_ERR_PARSE with "path:line: ..." in err. */
QPKI_MUST_USE qpki_status p11_config_load(const char *path, p11_config *cfg, char *err,
                                          size_t errlen);
/* Same from text in memory (name is used in messages). */
QPKI_MUST_USE qpki_status p11_config_parse(const char *name, const char *text, size_t len,
                                           p11_config *cfg, char *err, size_t errlen);
void p11_config_clear(p11_config *cfg);

/* ---- modules (one per library path, shared by every signer in the process) ---- */

typedef struct p11_module p11_module;

/* dlopen the module, get its function list (C_GetInterface when exported, else
 * C_GetFunctionList) and C_Initialize it with CKF_OS_LOCKING_OK.  Reference
 * counted: the last p11_module_put finalizes it (when we initialized it). */
QPKI_MUST_USE qpki_status p11_module_get(const char *path, p11_module **out, char *err,
                                         size_t errlen);
void p11_module_put(p11_module *mod);
struct ck_function_list *p11_module_functions(const p11_module *mod);
/* False when the module refused OS locking: callers then serialize (pool of 1). */
bool p11_module_threadsafe(const p11_module *mod);
/* C_Initialize again after the module reported CKR_CRYPTOKI_NOT_INITIALIZED. */
void p11_module_reinitialize(p11_module *mod);

/* ---- tokens, login, keys ------------------------------------------------------ */

/* Select the one slot whose token matches cfg (label, serial, slot id; all
 * given criteria must match).  QPKI_ERR_NOT_FOUND listing the tokens present
 * when none or several match. */
QPKI_MUST_USE qpki_status p11_find_slot(p11_module *mod, const p11_config *cfg,
                                        ck_slot_id_t *slot, char *err, size_t errlen);
/* Log the user in on session: the PIN comes from getenv(cfg->pin_env), is copied
 * into a local buffer that is wiped after C_Login, and is never logged.
 * context_specific: CKU_CONTEXT_SPECIFIC (CKA_ALWAYS_AUTHENTICATE keys). */
QPKI_MUST_USE qpki_status p11_login(struct ck_function_list *fl, ck_session_handle_t session,
                                    const p11_config *cfg, bool context_specific, char *err,
                                    size_t errlen);

/* What a key selection names. */
typedef struct p11_key_ref {
    const char *label;             /* CKA_LABEL or NULL */
    const uint8_t *id;             /* CKA_ID or NULL */
    size_t id_len;
} p11_key_ref;

/* Find objects of class cls matching ref: *count is the number found, the first
 * min(count, cap) handles are in out.  QPKI_ERR_SIGNER_UNAVAILABLE on a lost
 * token, QPKI_ERR_CRYPTO on other failures. */
QPKI_MUST_USE qpki_status p11_find_objects(struct ck_function_list *fl,
                                           ck_session_handle_t session,
                                           ck_object_class_t cls, const p11_key_ref *ref,
                                           ck_object_handle_t *out, size_t cap,
                                           size_t *count, char *err, size_t errlen);
/* Exactly one private key matching ref, or QPKI_ERR_NOT_FOUND / QPKI_ERR_INVALID_ARG
 * (ambiguous) with a message listing the private keys that are there. */
QPKI_MUST_USE qpki_status p11_find_private_key(struct ck_function_list *fl,
                                               ck_session_handle_t session,
                                               const p11_key_ref *ref,
                                               ck_object_handle_t *key, char *err,
                                               size_t errlen);

/* The key's algorithm and, when the token exposes it, its public key. */
typedef struct p11_key_info {
    qpki_key_alg alg;
    size_t modulus_len;            /* RSA: bytes of n */
    bool always_authenticate;
    uint8_t *spki;                 /* SubjectPublicKeyInfo or NULL (qpki_free) */
    size_t spki_len;
} p11_key_info;

/* Describe the private key `key` found with ref: key type and parameters from
 * the private object; the public key from the public-key object with the same
 * CKA_ID/label, or (RSA) from the private object's modulus and exponent. */
QPKI_MUST_USE qpki_status p11_key_describe(struct ck_function_list *fl,
                                           ck_session_handle_t session,
                                           ck_object_handle_t key, const p11_key_ref *ref,
                                           p11_key_info *info, char *err, size_t errlen);
void p11_key_info_clear(p11_key_info *info);
/* SubjectPublicKeyInfo of a public-key object. */
QPKI_MUST_USE qpki_status p11_public_key_spki(struct ck_function_list *fl,
                                              ck_session_handle_t session,
                                              ck_object_handle_t pub, qpki_key_alg *alg,
                                              uint8_t **spki, size_t *spki_len);
/* QPKI_OK when two SubjectPublicKeyInfos hold the same key (same algorithm OID,
 * same parameters except RSA's NULL/absent, same key bits); else
 * QPKI_ERR_KEY_MISMATCH (QPKI_ERR_DECODE if either does not parse). */
QPKI_MUST_USE qpki_status p11_spki_same_key(const uint8_t *a, size_t a_len, const uint8_t *b,
                                            size_t b_len);
/* Key algorithm named by a SubjectPublicKeyInfo (QPKI_KEY_UNKNOWN if unknown). */
qpki_key_alg p11_spki_key_alg(const uint8_t *spki, size_t len);

/* True when the slot's token lists mechanism mech with CKF_SIGN (or
 * CKF_GENERATE_KEY_PAIR when keygen). */
bool p11_has_mechanism(struct ck_function_list *fl, ck_slot_id_t slot,
                       ck_mechanism_type_t mech, bool keygen);
/* "CKM_ECDSA" etc. for messages. */
const char *p11_mech_name(ck_mechanism_type_t mech);

/* ---- key generation (plugin descriptor) ----------------------------------------- */

qpki_status p11_generate_key(const qpki_plugin_keygen_params *params, uint8_t *spki,
                             size_t *spki_len, char *err, size_t errlen);

/* ---- the signer (plugin descriptor) ----------------------------------------------- */

qpki_status p11_signer_open(const qpki_plugin_key_params *params, const qpki_signer_ops **ops,
                            void **self, char *err, size_t errlen);

#endif
