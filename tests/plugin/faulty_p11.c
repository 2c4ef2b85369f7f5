/* SPDX-License-Identifier: Apache-2.0 */
/* tests/plugin/faulty_p11.c - a PKCS#11 module for tests that forwards every call
 * to a real module (SoftHSM2) and fails on command.
 *
 * Environment (read on every call, so a test can change it at run time):
 *   FAULTY_P11_TARGET   the real module (default: SoftHSM2's Debian path)
 *   FAULTY_P11_CONTROL  a control file; while it exists a fault is active.  Its
 *                       first word chooses the fault:
 *                         "sign"  (or empty): C_SignInit and C_Sign fail with the
 *                                 result given as the second word (hex, default
 *                                 CKR_DEVICE_REMOVED) - the token is still listed;
 *                         "token": the token is gone: C_GetSlotList lists no
 *                                 token, C_GetTokenInfo/C_OpenSession return
 *                                 CKR_TOKEN_NOT_PRESENT and every call on a
 *                                 session returns CKR_DEVICE_REMOVED.
 *   FAULTY_P11_HIDE     comma-separated mechanism numbers (0x1041,64) that the
 *                       module pretends not to support.
 *   FAULTY_P11_SIGN_DELAY_US  sleep inside C_Sign (to make calls overlap).
 *
 * It exports C_GetFunctionList and C_GetInterface (a PKCS#11 3.0 entry point
 * returning the 2.40 function list), and faulty_p11_stats() for the tests. */
#define CRYPTOKI_GNU 1
#include <p11-kit/pkcs11.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static struct ck_function_list *real;
static struct ck_function_list faulty;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static atomic_int active_signs, max_active_signs, sign_calls, failed_calls;

typedef enum fault { FAULT_NONE, FAULT_SIGN, FAULT_TOKEN } fault;

static fault current_fault(ck_rv_t *rv)
{
    *rv = CKR_DEVICE_REMOVED;
    const char *path = getenv("FAULTY_P11_CONTROL");
    if (!path || !*path)
        return FAULT_NONE;
    FILE *f = fopen(path, "r");
    if (!f)
        return FAULT_NONE;
    char word[32] = "", code[32] = "";
    int n = fscanf(f, "%31s %31s", word, code);
    fclose(f);
    if (n >= 2)
        *rv = strtoul(code, NULL, 0);
    if (strcmp(word, "token") == 0)
        return FAULT_TOKEN;
    return FAULT_SIGN;
}

static bool hidden(ck_mechanism_type_t mech)
{
    const char *list = getenv("FAULTY_P11_HIDE");
    if (!list)
        return false;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strtoul(t, NULL, 0) == mech)
            return true;
    return false;
}

static bool token_gone(void)
{
    ck_rv_t rv;
    return current_fault(&rv) == FAULT_TOKEN;
}

static ck_rv_t f_get_slot_list(unsigned char present, ck_slot_id_t *list, unsigned long *count)
{
    if (present && token_gone()) {
        *count = 0;
        return CKR_OK;
    }
    return real->C_GetSlotList(present, list, count);
}

static ck_rv_t f_get_token_info(ck_slot_id_t slot, struct ck_token_info *info)
{
    if (token_gone())
        return CKR_TOKEN_NOT_PRESENT;
    return real->C_GetTokenInfo(slot, info);
}

static ck_rv_t f_get_mechanism_list(ck_slot_id_t slot, ck_mechanism_type_t *list,
                                    unsigned long *count)
{
    if (token_gone())
        return CKR_TOKEN_NOT_PRESENT;
    unsigned long n = 0;
    ck_rv_t rv = real->C_GetMechanismList(slot, NULL, &n);
    if (rv != CKR_OK)
        return rv;
    ck_mechanism_type_t *all = calloc(n + 1, sizeof *all);
    if (!all)
        return CKR_HOST_MEMORY;
    rv = real->C_GetMechanismList(slot, all, &n);
    unsigned long kept = 0;
    for (unsigned long i = 0; rv == CKR_OK && i < n; i++) {
        if (hidden(all[i]))
            continue;
        if (list && kept < *count)
            list[kept] = all[i];
        kept++;
    }
    free(all);
    if (rv != CKR_OK)
        return rv;
    bool small = list && kept > *count;
    *count = kept;
    return small ? CKR_BUFFER_TOO_SMALL : CKR_OK;
}

static ck_rv_t f_get_mechanism_info(ck_slot_id_t slot, ck_mechanism_type_t type,
                                    struct ck_mechanism_info *info)
{
    if (token_gone())
        return CKR_TOKEN_NOT_PRESENT;
    if (hidden(type))
        return CKR_MECHANISM_INVALID;
    return real->C_GetMechanismInfo(slot, type, info);
}

static ck_rv_t f_open_session(ck_slot_id_t slot, ck_flags_t flags, void *app, ck_notify_t notify,
                              ck_session_handle_t *session)
{
    if (token_gone())
        return CKR_TOKEN_NOT_PRESENT;
    return real->C_OpenSession(slot, flags, app, notify, session);
}

static ck_rv_t f_get_session_info(ck_session_handle_t s, struct ck_session_info *info)
{
    if (token_gone())
        return CKR_DEVICE_REMOVED;
    return real->C_GetSessionInfo(s, info);
}

static ck_rv_t f_login(ck_session_handle_t s, ck_user_type_t user, unsigned char *pin,
                       unsigned long pin_len)
{
    if (token_gone())
        return CKR_DEVICE_REMOVED;
    return real->C_Login(s, user, pin, pin_len);
}

static ck_rv_t f_find_objects_init(ck_session_handle_t s, struct ck_attribute *t,
                                   unsigned long n)
{
    if (token_gone())
        return CKR_DEVICE_REMOVED;
    return real->C_FindObjectsInit(s, t, n);
}

static ck_rv_t f_get_attribute_value(ck_session_handle_t s, ck_object_handle_t o,
                                     struct ck_attribute *t, unsigned long n)
{
    if (token_gone())
        return CKR_DEVICE_REMOVED;
    return real->C_GetAttributeValue(s, o, t, n);
}

static ck_rv_t f_sign_init(ck_session_handle_t s, struct ck_mechanism *m, ck_object_handle_t key)
{
    ck_rv_t rv;
    if (current_fault(&rv) != FAULT_NONE) {
        atomic_fetch_add(&failed_calls, 1);
        return rv;
    }
    if (hidden(m->mechanism))
        return CKR_MECHANISM_INVALID;
    return real->C_SignInit(s, m, key);
}

static ck_rv_t f_sign(ck_session_handle_t s, unsigned char *data, unsigned long len,
                      unsigned char *sig, unsigned long *sig_len)
{
    ck_rv_t rv;
    if (current_fault(&rv) != FAULT_NONE) {
        atomic_fetch_add(&failed_calls, 1);
        /* A failed C_Sign ends the operation (PKCS#11 v2.40 §5.11): end the real
         * one too so the session stays usable if it comes back. */
        unsigned long dummy = 0;
        (void)real->C_Sign(s, data, len, NULL, &dummy);
        if (dummy) {
            unsigned char *tmp = malloc(dummy);
            if (tmp) {
                (void)real->C_Sign(s, data, len, tmp, &dummy);
                free(tmp);
            }
        }
        return rv;
    }
    int now = atomic_fetch_add(&active_signs, 1) + 1;
    int seen = atomic_load(&max_active_signs);
    while (now > seen && !atomic_compare_exchange_weak(&max_active_signs, &seen, now)) {
    }
    atomic_fetch_add(&sign_calls, 1);
    const char *delay = getenv("FAULTY_P11_SIGN_DELAY_US");
    if (delay && sig)
        usleep((useconds_t)strtoul(delay, NULL, 10));
    rv = real->C_Sign(s, data, len, sig, sig_len);
    atomic_fetch_sub(&active_signs, 1);
    return rv;
}

static void load_real(void)
{
    const char *path = getenv("FAULTY_P11_TARGET");
    if (!path || !*path)
        path = "/usr/lib/softhsm/libsofthsm2.so";
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
    if (!dl)
        return;
    union {
        void *obj;
        ck_rv_t (*fn)(struct ck_function_list **);
    } sym;
    sym.obj = dlsym(dl, "C_GetFunctionList");
    if (!sym.obj || sym.fn(&real) != CKR_OK || !real) {
        real = NULL;
        return;
    }
    faulty = *real;
    faulty.version.major = 2;
    faulty.version.minor = 40;
    faulty.C_GetSlotList = f_get_slot_list;
    faulty.C_GetTokenInfo = f_get_token_info;
    faulty.C_GetMechanismList = f_get_mechanism_list;
    faulty.C_GetMechanismInfo = f_get_mechanism_info;
    faulty.C_OpenSession = f_open_session;
    faulty.C_GetSessionInfo = f_get_session_info;
    faulty.C_Login = f_login;
    faulty.C_FindObjectsInit = f_find_objects_init;
    faulty.C_GetAttributeValue = f_get_attribute_value;
    faulty.C_SignInit = f_sign_init;
    faulty.C_Sign = f_sign;
}

EXPORT ck_rv_t C_GetFunctionList(struct ck_function_list **list);
ck_rv_t C_GetFunctionList(struct ck_function_list **list)
{
    pthread_once(&load_once, load_real);
    if (!real)
        return CKR_GENERAL_ERROR;
    *list = &faulty;
    return CKR_OK;
}

/* PKCS#11 3.0 C_GetInterface, offering the one 2.40 interface. */
struct faulty_interface {
    unsigned char *name;
    void *function_list;
    ck_flags_t flags;
};
static unsigned char interface_name[] = "PKCS 11";
static struct faulty_interface the_interface = {interface_name, &faulty, 0};

EXPORT ck_rv_t C_GetInterface(unsigned char *name, struct ck_version *version,
                              struct faulty_interface **iface, ck_flags_t flags);
ck_rv_t C_GetInterface(unsigned char *name, struct ck_version *version,
                       struct faulty_interface **iface, ck_flags_t flags)
{
    pthread_once(&load_once, load_real);
    if (!real || !iface)
        return CKR_GENERAL_ERROR;
    if (name && strcmp((const char *)name, "PKCS 11") != 0)
        return CKR_ARGUMENTS_BAD;
    if (version && (version->major != 2 || version->minor != 40))
        return CKR_ARGUMENTS_BAD;
    (void)flags;
    *iface = &the_interface;
    return CKR_OK;
}

/* For tests: counters since load. */
EXPORT void faulty_p11_stats(int *sign_ok_calls, int *max_concurrent, int *failed);
void faulty_p11_stats(int *sign_ok_calls, int *max_concurrent, int *failed)
{
    *sign_ok_calls = atomic_load(&sign_calls);
    *max_concurrent = atomic_load(&max_active_signs);
    *failed = atomic_load(&failed_calls);
}
