/* SPDX-License-Identifier: Apache-2.0 */
/* tests/fuzz/fuzz_key.c - private-key loading (PEM/DER, PKCS#8, SEC1, PKCS#1,
 * encrypted PKCS#8, ML-DSA forms) and SubjectPublicKeyInfo parsing. */
#include <stddef.h>
#include <stdint.h>

#include "crypto/crypto.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    crypto_privkey *k = NULL;
    /* a short passphrase keeps PBKDF2 iterations from dominating: the iteration
     * count itself comes from the input and is bounded by the loader */
    if (crypto_privkey_load(data, size, "fuzz", &k) == QPKI_OK)
        crypto_privkey_free(&k);
    crypto_pubkey *p = NULL;
    if (crypto_pubkey_parse((der_view){data, size}, &p) == QPKI_OK)
        crypto_pubkey_free(&p);
    return 0;
}
