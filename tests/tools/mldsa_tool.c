/* SPDX-License-Identifier: Apache-2.0 */
/* tests/tools/mldsa_tool.c - ML-DSA keygen / sign / verify with hex in and out, for
 * the differential test against another implementation (tests/interop/mldsa_noble.sh).
 *
 * Reads commands from stdin, one per line, fields separated by spaces; "-" is an
 * empty byte string.  Writes one line per command:
 *   keygen LEVEL SEED                      -> PK SK
 *   sign   LEVEL SK MSG CTX RND            -> SIG       (RND "-" = deterministic)
 *   verify LEVEL PK MSG CTX SIG            -> 1 | 0
 * LEVEL is 44, 65 or 87.  Exit status 0, or 2 on a malformed line.  A test tool:
 * it prints secret keys, as the test needs them.
 * QPKI_MLDSA_PATH=portable in the environment selects the portable code instead of
 * the AVX2 path (builtin backend). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qpki_config.h"
#include "crypto/mldsa/mldsa.h"
#if QPKI_MLDSA_BUILTIN
#include "crypto/mldsa/mldsa_internal.h"
#endif

static int nibble(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Hex field -> malloc'd bytes; "-" is empty.  NULL on a bad field. */
static uint8_t *unhex(const char *s, size_t *n)
{
    if (!s)
        return NULL;
    if (strcmp(s, "-") == 0)
        s = "";
    size_t len = strlen(s);
    if (len % 2)
        return NULL;
    uint8_t *out = malloc(len / 2 + 1);
    if (!out)
        return NULL;
    for (size_t i = 0; i < len / 2; i++) {
        int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            free(out);
            return NULL;
        }
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *n = len / 2;
    return out;
}

static void put_hex(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%02x", p[i]);
}

static int parse_level(const char *s, mldsa_level *lv)
{
    if (!s)
        return -1;
    int v = atoi(s);
    if (v != 44 && v != 65 && v != 87)
        return -1;
    *lv = (mldsa_level)v;
    return 0;
}

static int run_line(char *line)
{
    char *save = NULL, *f[7] = {0};
    int nf = 0;
    for (char *t = strtok_r(line, " \t\r\n", &save); t && nf < 7; t = strtok_r(NULL, " \t\r\n", &save))
        f[nf++] = t;
    if (nf == 0)
        return 0;
    mldsa_level lv;
    if (parse_level(f[1], &lv) != 0)
        return -1;
    static uint8_t pk[MLDSA_MAX_PK_BYTES], sk[MLDSA_MAX_SK_BYTES], sig[MLDSA_MAX_SIG_BYTES];
    size_t n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    int rc = -1;
    if (strcmp(f[0], "keygen") == 0 && nf == 3) {
        uint8_t *seed = unhex(f[2], &n1);
        if (seed && n1 == MLDSA_SEED_BYTES && mldsa_keygen(lv, seed, pk, sk) == 0) {
            put_hex(pk, mldsa_pk_bytes(lv));
            putchar(' ');
            put_hex(sk, mldsa_sk_bytes(lv));
            putchar('\n');
            rc = 0;
        }
        free(seed);
    } else if (strcmp(f[0], "sign") == 0 && nf == 6) {
        uint8_t *k = unhex(f[2], &n1), *m = unhex(f[3], &n2), *c = unhex(f[4], &n3),
                *r = unhex(f[5], &n4);
        if (k && m && c && r && n1 == mldsa_sk_bytes(lv) && (n4 == 0 || n4 == 32) &&
            mldsa_sign(lv, k, m, n2, c, n3, n4 ? r : NULL, sig) == 0) {
            put_hex(sig, mldsa_sig_bytes(lv));
            putchar('\n');
            rc = 0;
        }
        free(k);
        free(m);
        free(c);
        free(r);
    } else if (strcmp(f[0], "verify") == 0 && nf == 6) {
        uint8_t *p = unhex(f[2], &n1), *m = unhex(f[3], &n2), *c = unhex(f[4], &n3),
                *s = unhex(f[5], &n4);
        if (p && m && c && s && n1 == mldsa_pk_bytes(lv)) {
            printf("%d\n", mldsa_verify(lv, p, m, n2, c, n3, s, n4) == 0 ? 1 : 0);
            rc = 0;
        }
        free(p);
        free(m);
        free(c);
        free(s);
    }
    return rc;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned long lineno = 0;
#if QPKI_MLDSA_BUILTIN
    const char *path = getenv("QPKI_MLDSA_PATH");
    if (path && strcmp(path, "portable") == 0)
        mldsa_set_avx2(0);
#endif
    while (getline(&line, &cap, stdin) >= 0) {
        lineno++;
        if (run_line(line) != 0) {
            fprintf(stderr, "mldsa_tool: bad command on line %lu\n", lineno);
            free(line);
            return 2;
        }
    }
    free(line);
    return 0;
}
