/* SPDX-License-Identifier: Apache-2.0 */
/* lib/plugins/pkcs11/module.c - loading PKCS#11 modules, result names.
 *
 * A module is loaded once per path and shared by every signer of the process:
 * PKCS#11 v2.40 §5.4 "C_Initialize ... should be the first Cryptoki call made by
 * an application", and a second call returns CKR_CRYPTOKI_ALREADY_INITIALIZED;
 * "C_Finalize ... should be the last Cryptoki call made by an application". So
 * the registry counts references, initializes on the first and finalizes on the
 * last, and never finalizes a module it did not initialize itself. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "p11.h"

void p11_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* ---- names ---------------------------------------------------------------------- */

typedef struct rv_name {
    ck_rv_t rv;
    const char *name;
} rv_name;

#define RV(x) {x, #x}
static const rv_name rv_names[] = {
    RV(CKR_OK), RV(CKR_CANCEL), RV(CKR_HOST_MEMORY), RV(CKR_SLOT_ID_INVALID),
    RV(CKR_GENERAL_ERROR), RV(CKR_FUNCTION_FAILED), RV(CKR_ARGUMENTS_BAD),
    RV(CKR_NO_EVENT), RV(CKR_NEED_TO_CREATE_THREADS), RV(CKR_CANT_LOCK),
    RV(CKR_ATTRIBUTE_READ_ONLY), RV(CKR_ATTRIBUTE_SENSITIVE), RV(CKR_ATTRIBUTE_TYPE_INVALID),
    RV(CKR_ATTRIBUTE_VALUE_INVALID), RV(CKR_DATA_INVALID), RV(CKR_DATA_LEN_RANGE),
    RV(CKR_DEVICE_ERROR), RV(CKR_DEVICE_MEMORY), RV(CKR_DEVICE_REMOVED),
    RV(CKR_FUNCTION_CANCELED), RV(CKR_FUNCTION_NOT_PARALLEL), RV(CKR_FUNCTION_NOT_SUPPORTED),
    RV(CKR_KEY_HANDLE_INVALID), RV(CKR_KEY_SIZE_RANGE), RV(CKR_KEY_TYPE_INCONSISTENT),
    RV(CKR_KEY_FUNCTION_NOT_PERMITTED), RV(CKR_MECHANISM_INVALID),
    RV(CKR_MECHANISM_PARAM_INVALID), RV(CKR_OBJECT_HANDLE_INVALID),
    RV(CKR_OPERATION_ACTIVE), RV(CKR_OPERATION_NOT_INITIALIZED), RV(CKR_PIN_INCORRECT),
    RV(CKR_PIN_INVALID), RV(CKR_PIN_LEN_RANGE), RV(CKR_PIN_EXPIRED), RV(CKR_PIN_LOCKED),
    RV(CKR_SESSION_CLOSED), RV(CKR_SESSION_COUNT), RV(CKR_SESSION_HANDLE_INVALID),
    RV(CKR_SESSION_PARALLEL_NOT_SUPPORTED), RV(CKR_SESSION_READ_ONLY), RV(CKR_SESSION_EXISTS),
    RV(CKR_SESSION_READ_ONLY_EXISTS), RV(CKR_SESSION_READ_WRITE_SO_EXISTS),
    RV(CKR_TEMPLATE_INCOMPLETE), RV(CKR_TEMPLATE_INCONSISTENT), RV(CKR_TOKEN_NOT_PRESENT),
    RV(CKR_TOKEN_NOT_RECOGNIZED), RV(CKR_TOKEN_WRITE_PROTECTED),
    RV(CKR_USER_ALREADY_LOGGED_IN), RV(CKR_USER_NOT_LOGGED_IN), RV(CKR_USER_PIN_NOT_INITIALIZED),
    RV(CKR_USER_TYPE_INVALID), RV(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
    RV(CKR_USER_TOO_MANY_TYPES), RV(CKR_DOMAIN_PARAMS_INVALID), RV(CKR_CURVE_NOT_SUPPORTED),
    RV(CKR_BUFFER_TOO_SMALL), RV(CKR_RANDOM_NO_RNG), RV(CKR_CRYPTOKI_NOT_INITIALIZED),
    RV(CKR_CRYPTOKI_ALREADY_INITIALIZED), RV(CKR_FUNCTION_REJECTED),
};
#undef RV

const char *p11_rv_name(ck_rv_t rv)
{
    static _Thread_local char buf[32];
    for (size_t i = 0; i < QPKI_ARRAY_LEN(rv_names); i++)
        if (rv_names[i].rv == rv)
            return rv_names[i].name;
    snprintf(buf, sizeof buf, "CKR_0x%lx", (unsigned long)rv);
    return buf;
}

bool p11_rv_is_connection_loss(ck_rv_t rv)
{
    switch (rv) {
    case CKR_DEVICE_REMOVED:
    case CKR_DEVICE_ERROR:
    case CKR_DEVICE_MEMORY:
    case CKR_TOKEN_NOT_PRESENT:
    case CKR_TOKEN_NOT_RECOGNIZED:
    case CKR_SESSION_HANDLE_INVALID:
    case CKR_SESSION_CLOSED:
    case CKR_SESSION_COUNT:
    case CKR_USER_NOT_LOGGED_IN:
    case CKR_KEY_HANDLE_INVALID:
    case CKR_OBJECT_HANDLE_INVALID:
    case CKR_SLOT_ID_INVALID:
    case CKR_CRYPTOKI_NOT_INITIALIZED:
    case CKR_GENERAL_ERROR:
        return true;
    default:
        return false;
    }
}

typedef struct mech_name {
    ck_mechanism_type_t mech;
    const char *name;
} mech_name;

#define M(x) {x, #x}
static const mech_name mech_names[] = {
    M(CKM_RSA_PKCS_KEY_PAIR_GEN), M(CKM_RSA_PKCS), M(CKM_RSA_PKCS_PSS),
    M(CKM_SHA256_RSA_PKCS), M(CKM_SHA384_RSA_PKCS), M(CKM_SHA512_RSA_PKCS),
    M(CKM_SHA256_RSA_PKCS_PSS), M(CKM_SHA384_RSA_PKCS_PSS), M(CKM_SHA512_RSA_PKCS_PSS),
    M(CKM_EC_KEY_PAIR_GEN), M(CKM_ECDSA), M(CKM_EC_EDWARDS_KEY_PAIR_GEN), M(CKM_EDDSA),
    {P11_CKM_ML_DSA_KEY_PAIR_GEN, "CKM_ML_DSA_KEY_PAIR_GEN"}, {P11_CKM_ML_DSA, "CKM_ML_DSA"},
};
#undef M

const char *p11_mech_name(ck_mechanism_type_t mech)
{
    static _Thread_local char buf[32];
    for (size_t i = 0; i < QPKI_ARRAY_LEN(mech_names); i++)
        if (mech_names[i].mech == mech)
            return mech_names[i].name;
    snprintf(buf, sizeof buf, "CKM_0x%lx", (unsigned long)mech);
    return buf;
}

/* ---- module registry ---------------------------------------------------------------- */

struct p11_module {
    struct p11_module *next;
    char *path;
    void *dl;
    struct ck_function_list *fl;
    unsigned refs;
    bool we_initialized;           /* C_Finalize on the last put */
    bool threadsafe;               /* CKF_OS_LOCKING_OK accepted */
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static p11_module *registry;

/* PKCS#11 v2.40 §5.4: CKF_OS_LOCKING_OK "the library can use the native
 * operation system threading model for locking". */
static ck_rv_t initialize(struct ck_function_list *fl, bool *threadsafe)
{
    struct ck_c_initialize_args args;
    memset(&args, 0, sizeof args);
    args.flags = CKF_OS_LOCKING_OK;
    ck_rv_t rv = fl->C_Initialize(&args);
    *threadsafe = true;
    if (rv == CKR_CANT_LOCK) {
        /* The module cannot lock: use it from one thread at a time. */
        rv = fl->C_Initialize(NULL);
        *threadsafe = false;
    }
    return rv;
}

static qpki_status load_functions(p11_module *m, char *err, size_t errlen)
{
    /* PKCS#11 3.0 §5.4: C_GetInterface returns the default interface when called
     * with a NULL name; we ask for "PKCS 11" by name, whose function list starts
     * with the v2.40 layout for every version. */
    union {
        void *obj;
        p11_get_interface_fn get_interface;
        ck_rv_t (*get_function_list)(struct ck_function_list **);
    } sym;
    sym.obj = dlsym(m->dl, "C_GetInterface");
    if (sym.obj) {
        struct p11_interface *iface = NULL;
        static unsigned char name[] = "PKCS 11";
        ck_rv_t rv = sym.get_interface(name, NULL, &iface, 0);
        if (rv == CKR_OK && iface && iface->function_list) {
            m->fl = iface->function_list;
            return QPKI_OK;
        }
        /* fall back to C_GetFunctionList below */
    }
    sym.obj = dlsym(m->dl, "C_GetFunctionList");
    if (!sym.obj) {
        p11_err(err, errlen, "%s is not a PKCS#11 module: neither C_GetInterface nor "
                             "C_GetFunctionList is exported", m->path);
        return QPKI_ERR_PLUGIN_SYMBOL;
    }
    ck_rv_t rv = sym.get_function_list(&m->fl);
    if (rv != CKR_OK || !m->fl) {
        p11_err(err, errlen, "C_GetFunctionList of %s failed: %s", m->path, p11_rv_name(rv));
        return QPKI_ERR_PLUGIN_LOAD;
    }
    return QPKI_OK;
}

qpki_status p11_module_get(const char *path, p11_module **out, char *err, size_t errlen)
{
    *out = NULL;
    qpki_status rc = QPKI_OK;
    pthread_mutex_lock(&registry_lock);
    for (p11_module *m = registry; m; m = m->next) {
        if (strcmp(m->path, path) == 0) {
            m->refs++;
            *out = m;
            goto out;
        }
    }
    p11_module *m = qpki_calloc(1, sizeof *m);
    if (!m || !(m->path = qpki_strdup(path))) {
        qpki_free(m);
        QPKI_FAIL(QPKI_ERR_NOMEM);
    }
    /* RTLD_NODELETE: modules commonly register atexit handlers and thread keys
     * (OpenSSL-based ones do), so unloading them is unsafe; we finalize instead. */
    m->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!m->dl) {
        const char *why = dlerror();
        p11_err(err, errlen, "cannot load PKCS#11 module %s (pkcs11.lib): %s", path,
                why ? why : "unknown error");
        qpki_free(m->path);
        qpki_free(m);
        QPKI_FAIL(QPKI_ERR_PLUGIN_LOAD);
    }
    rc = load_functions(m, err, errlen);
    if (rc == QPKI_OK && m->fl->version.major < 2) {
        p11_err(err, errlen, "%s implements PKCS#11 %u.%u; 2.x or later is required", path,
                m->fl->version.major, m->fl->version.minor);
        rc = QPKI_ERR_UNSUPPORTED;
    }
    if (rc == QPKI_OK) {
        ck_rv_t rv = initialize(m->fl, &m->threadsafe);
        if (rv == CKR_OK) {
            m->we_initialized = true;
        } else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED) {
            p11_err(err, errlen, "C_Initialize of %s failed: %s", path, p11_rv_name(rv));
            rc = QPKI_ERR_SIGNER_UNAVAILABLE;
        }
    }
    if (rc != QPKI_OK) {
        dlclose(m->dl);
        qpki_free(m->path);
        qpki_free(m);
        goto out;
    }
    m->refs = 1;
    m->next = registry;
    registry = m;
    *out = m;
out:
    pthread_mutex_unlock(&registry_lock);
    return rc;
}

void p11_module_put(p11_module *mod)
{
    if (!mod)
        return;
    pthread_mutex_lock(&registry_lock);
    if (--mod->refs == 0) {
        for (p11_module **pp = &registry; *pp; pp = &(*pp)->next) {
            if (*pp == mod) {
                *pp = mod->next;
                break;
            }
        }
        if (mod->we_initialized)
            (void)mod->fl->C_Finalize(NULL);
        dlclose(mod->dl);
        qpki_free(mod->path);
        qpki_free(mod);
    }
    pthread_mutex_unlock(&registry_lock);
}

struct ck_function_list *p11_module_functions(const p11_module *mod) { return mod->fl; }

bool p11_module_threadsafe(const p11_module *mod) { return mod->threadsafe; }

void p11_module_reinitialize(p11_module *mod)
{
    pthread_mutex_lock(&registry_lock);
    bool threadsafe = mod->threadsafe;
    ck_rv_t rv = initialize(mod->fl, &threadsafe);
    if (rv == CKR_OK)
        mod->we_initialized = true;
    pthread_mutex_unlock(&registry_lock);
}
