/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_key.c - private-key loading (PEM/DER, PKCS#8, SEC1, PKCS#1,
 * encrypted PKCS#8, ML-DSA forms) and SubjectPublicKeyInfo parsing, each also
 * with an allocation failing (fuzz_alloc.h). */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "fuzz_alloc.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_alloc_input(data, size);
    qpki_status rc;
    crypto_privkey *k = NULL;
    /* a short passphrase keeps PBKDF2 iterations from dominating: the iteration
     * count itself comes from the input and is bounded by the loader */
    char msg[256];
    qpki_detail d;
    FUZZ_CALL(rc, (detail_init(&d, msg, sizeof(msg)),
                   crypto_privkey_load_detail(data, size, "fuzz", &d, &k)), k);
    /* not every key failure has a line (a bad passphrase, a PEM error) */
    fuzz_check_message("key", msg, sizeof(msg), rc, false);
    if (rc == QPKI_OK)
        crypto_privkey_free(&k);
    crypto_pubkey *p = NULL;
    FUZZ_CALL(rc, crypto_pubkey_parse((der_view){data, size}, &p), p);
    if (rc == QPKI_OK)
        crypto_pubkey_free(&p);
    return 0;
}
