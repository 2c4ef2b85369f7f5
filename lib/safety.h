/* SPDX-License-Identifier: Apache-2.0 */
/* lib/safety.h - error propagation and secret hygiene (private, never installed). */
#ifndef QPKI_SAFETY_H
#define QPKI_SAFETY_H

#include <stddef.h>
#include <qpki/status.h>

#define QPKI_MUST_USE __attribute__((warn_unused_result))

/* Return the status of expr when it is not QPKI_OK. */
#define QPKI_GUARD(expr)                    \
    do {                                    \
        qpki_status guard_rc_ = (expr);     \
        if (guard_rc_ != QPKI_OK)           \
            return guard_rc_;               \
    } while (0)

/* Fail with err when cond is false. */
#define QPKI_ENSURE(cond, err)              \
    do {                                    \
        if (!(cond))                        \
            return (err);                   \
    } while (0)

/* For functions with an `out:` cleanup label and a `qpki_status rc`. */
#define QPKI_CHECK(expr)                    \
    do {                                    \
        rc = (expr);                        \
        if (rc != QPKI_OK)                  \
            goto out;                       \
    } while (0)

#define QPKI_FAIL(err)                      \
    do {                                    \
        rc = (err);                         \
        goto out;                           \
    } while (0)

/* Zero memory in a way the compiler cannot elide (for keys, PINs, seeds). */
void qpki_wipe(void *p, size_t n);

/* Constant-time comparison: 0 when equal. */
int qpki_ct_memcmp(const void *a, const void *b, size_t n);

#define QPKI_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
