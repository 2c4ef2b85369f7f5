/* SPDX-License-Identifier: Apache-2.0 */
/* tests/tools/ocsp_tool.c - drives the library from the interop scripts, with
 * full control over what the CLI keeps simple (PSS, byName, every reason):
 *
 *   ocsp_tool sign --ca CA --key KEY [--cert RESPONDER] --serial HEX
 *                  --status good|revoked|unknown [--reason NAME] [--rev-time EPOCH]
 *                  [--nonce HEX] [--hash sha1|sha256|sha384|sha512] [--pss]
 *                  [--by-name] [--validity SECONDS] [--alt-key MLDSA_KEY] --out FILE
 *   ocsp_tool pubkey --key KEY --out SPKI.der
 *   ocsp_tool keygen --algo NAME --out KEY.pem
 *   ocsp_tool respond --ca CA --key KEY [--cert RESPONDER] --index INDEX
 *                  --req REQUEST.der --out FILE
 *   ocsp_tool verify --ca CA --resp FILE [--serial HEX] [--nonce HEX] [--time EPOCH]
 *
 * Exit 0 on success, 1 when verification fails, 2 on usage or input errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/key.h>
#include <qpki/responder.h>
#include <qpki/response.h>
#include <qpki/signer.h>
#include <qpki/verify.h>

#include "internal.h"

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 2; i + 1 < argc; i++)
        if (!strcmp(argv[i], name))
            return argv[i + 1];
    return NULL;
}

static int flag(int argc, char **argv, const char *name)
{
    for (int i = 2; i < argc; i++)
        if (!strcmp(argv[i], name))
            return 1;
    return 0;
}

static int die(const char *what, qpki_status rc)
{
    fprintf(stderr, "ocsp_tool: %s: %s\n", what, qpki_strerror(rc));
    return 2;
}

static int write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        return 2;
    }
    return 0;
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc(1 << 20);
    *n = fread(buf, 1, 1 << 20, f);
    fclose(f);
    return buf;
}

static qpki_status load_signer(int argc, char **argv, qpki_signer **s)
{
    const char *key = opt(argc, argv, "--key");
    if (!key)
        return QPKI_ERR_INVALID_ARG;
    return flag(argc, argv, "--pss")
               ? qpki_signer_software_load_alg(key, NULL, QPKI_SIG_RSA_PSS_SHA256, s)
               : qpki_signer_software_load(key, NULL, s);
}

static int cmd_sign(int argc, char **argv)
{
    const char *ca_path = opt(argc, argv, "--ca"), *cert_path = opt(argc, argv, "--cert");
    const char *serial_hex = opt(argc, argv, "--serial"), *status = opt(argc, argv, "--status");
    const char *out = opt(argc, argv, "--out");
    if (!ca_path || !serial_hex || !status || !out)
        return die("sign needs --ca --key --serial --status --out", QPKI_ERR_INVALID_ARG);
    qpki_cert *ca = NULL, *cert = NULL;
    qpki_signer *signer = NULL;
    qpki_status rc;
    if ((rc = qpki_cert_load_file(ca_path, &ca)) != QPKI_OK)
        return die(ca_path, rc);
    if (cert_path && (rc = qpki_cert_load_file(cert_path, &cert)) != QPKI_OK)
        return die(cert_path, rc);
    if ((rc = load_signer(argc, argv, &signer)) != QPKI_OK)
        return die("key", rc);
    uint8_t serial[64];
    size_t serial_len;
    if ((rc = qpki_serial_from_hex(serial_hex, serial, sizeof(serial), &serial_len)) != QPKI_OK)
        return die("serial", rc);
    qpki_hash_alg hash = QPKI_HASH_SHA1;
    if (opt(argc, argv, "--hash") && qpki_hash_alg_from_name(opt(argc, argv, "--hash"), &hash))
        return die("hash", QPKI_ERR_INVALID_ARG);
    qpki_certid *id = NULL;
    if ((rc = qpki_certid_new(hash, ca, serial, serial_len, &id)) != QPKI_OK)
        return die("certid", rc);
    qpki_cert_status st = !strcmp(status, "good")      ? QPKI_CERT_STATUS_GOOD
                          : !strcmp(status, "revoked") ? QPKI_CERT_STATUS_REVOKED
                                                       : QPKI_CERT_STATUS_UNKNOWN;
    qpki_crl_reason reason = QPKI_REASON_NONE;
    if (opt(argc, argv, "--reason") &&
        qpki_crl_reason_from_name(opt(argc, argv, "--reason"), &reason) != QPKI_OK)
        return die("reason", QPKI_ERR_INVALID_ARG);
    qpki_time rev = opt(argc, argv, "--rev-time") ? atoll(opt(argc, argv, "--rev-time")) : 0;
    qpki_time now = (qpki_time)time(NULL);
    qpki_time validity = opt(argc, argv, "--validity") ? atoll(opt(argc, argv, "--validity")) : 3600;
    qpki_ocsp_response_builder *b = NULL;
    if ((rc = qpki_ocsp_response_builder_new(&b)) != QPKI_OK)
        return die("builder", rc);
    if (flag(argc, argv, "--by-name")) {
        const uint8_t *name;
        size_t name_len;
        qpki_cert_subject_der(cert ? cert : ca, &name, &name_len);
        rc = qpki_ocsp_response_builder_set_responder_by_name(b, name, name_len);
    }
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_set_produced_at(b, now);
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_add_single(b, id, st, rev, reason, now - 60, now + validity);
    if (rc == QPKI_OK && opt(argc, argv, "--nonce")) {
        uint8_t nonce[200];
        size_t nl;
        rc = qpki_hex_decode(opt(argc, argv, "--nonce"), nonce, sizeof(nonce), &nl);
        if (rc == QPKI_OK)
            rc = qpki_ocsp_response_builder_set_nonce(b, nonce, nl);
    }
    if (rc == QPKI_OK && cert)
        rc = qpki_ocsp_response_builder_add_cert(b, cert);
    qpki_key *alt_key = NULL;
    qpki_signer *alt = NULL;
    if (rc == QPKI_OK && opt(argc, argv, "--alt-key")) {
        rc = qpki_key_load(opt(argc, argv, "--alt-key"), NULL, &alt_key);
        if (rc == QPKI_OK)
            rc = qpki_signer_software_from_key(alt_key, QPKI_SIG_UNKNOWN, &alt);
        if (rc == QPKI_OK)
            rc = qpki_ocsp_response_builder_set_alt_signer(b, alt);
    }
    uint8_t *der = NULL;
    size_t len = 0;
    if (rc == QPKI_OK)
        rc = qpki_ocsp_response_builder_sign(b, signer, &der, &len);
    if (rc != QPKI_OK)
        return die("sign", rc);
    int ret = write_file(out, der, len);
    qpki_free(der);
    qpki_signer_free(&alt);
    qpki_key_free(&alt_key);
    qpki_ocsp_response_builder_free(&b);
    qpki_certid_free(&id);
    qpki_signer_free(&signer);
    qpki_cert_free(&cert);
    qpki_cert_free(&ca);
    return ret;
}

static int cmd_respond(int argc, char **argv)
{
    const char *ca_path = opt(argc, argv, "--ca"), *cert_path = opt(argc, argv, "--cert");
    const char *index = opt(argc, argv, "--index"), *req_path = opt(argc, argv, "--req");
    const char *out = opt(argc, argv, "--out");
    if (!ca_path || !index || !req_path || !out)
        return die("respond needs --ca --key --index --req --out", QPKI_ERR_INVALID_ARG);
    qpki_cert *ca = NULL, *cert = NULL;
    qpki_signer *signer = NULL;
    qpki_db *db = NULL;
    qpki_responder *r = NULL;
    qpki_status rc;
    if ((rc = qpki_cert_load_file(ca_path, &ca)) != QPKI_OK)
        return die(ca_path, rc);
    if (cert_path && (rc = qpki_cert_load_file(cert_path, &cert)) != QPKI_OK)
        return die(cert_path, rc);
    if ((rc = load_signer(argc, argv, &signer)) != QPKI_OK)
        return die("key", rc);
    if ((rc = qpki_db_open_index(index, &db)) != QPKI_OK)
        return die(index, rc);
    if ((rc = qpki_responder_new(&r)) != QPKI_OK ||
        (rc = qpki_responder_add_issuer(r, ca, db, signer, cert, NULL)) != QPKI_OK)
        return die("responder", rc);
    size_t len;
    uint8_t *req = read_file(req_path, &len);
    if (!req)
        return die(req_path, QPKI_ERR_IO);
    qpki_answer *a = NULL;
    if ((rc = qpki_responder_respond(r, req, len, &a)) != QPKI_OK)
        return die("respond", rc);
    const uint8_t *der;
    size_t dl;
    qpki_answer_bytes(a, &der, &dl);
    int ret = write_file(out, der, dl);
    printf("%s\n", qpki_ocsp_resp_status_name(qpki_answer_resp_status(a)));
    qpki_answer_free(&a);
    free(req);
    qpki_responder_free(&r);
    qpki_db_free(&db);
    qpki_signer_free(&signer);
    qpki_cert_free(&cert);
    qpki_cert_free(&ca);
    return ret;
}

static int cmd_verify(int argc, char **argv)
{
    const char *ca_path = opt(argc, argv, "--ca"), *resp_path = opt(argc, argv, "--resp");
    if (!ca_path || !resp_path)
        return die("verify needs --ca --resp", QPKI_ERR_INVALID_ARG);
    qpki_cert *ca = NULL;
    qpki_status rc;
    if ((rc = qpki_cert_load_file(ca_path, &ca)) != QPKI_OK)
        return die(ca_path, rc);
    size_t len;
    uint8_t *der = read_file(resp_path, &len);
    if (!der)
        return die(resp_path, QPKI_ERR_IO);
    qpki_ocsp_response *resp = NULL;
    if ((rc = qpki_ocsp_response_parse(der, len, &resp)) != QPKI_OK) {
        fprintf(stderr, "ocsp_tool: parse: %s\n", qpki_strerror(rc));
        return 1;
    }
    qpki_ocsp_verifier *v = NULL;
    if ((rc = qpki_ocsp_verifier_new(&v)) != QPKI_OK ||
        (rc = qpki_ocsp_verifier_set_ca(v, ca)) != QPKI_OK)
        return die("verifier", rc);
    if (opt(argc, argv, "--serial")) {
        uint8_t s[64];
        size_t sl;
        if (qpki_serial_from_hex(opt(argc, argv, "--serial"), s, sizeof(s), &sl) ||
            qpki_ocsp_verifier_expect_serial(v, s, sl))
            return die("serial", QPKI_ERR_INVALID_ARG);
    }
    if (opt(argc, argv, "--nonce")) {
        uint8_t n[200];
        size_t nl;
        if (qpki_hex_decode(opt(argc, argv, "--nonce"), n, sizeof(n), &nl) ||
            qpki_ocsp_verifier_set_nonce(v, n, nl))
            return die("nonce", QPKI_ERR_INVALID_ARG);
    }
    if (opt(argc, argv, "--time"))
        (void)qpki_ocsp_verifier_set_time(v, atoll(opt(argc, argv, "--time")));
    rc = qpki_ocsp_verifier_verify(v, resp);
    printf("%s: %s\n", rc == QPKI_OK ? "OK" : qpki_strerror(rc), qpki_ocsp_verifier_detail(v));
    for (size_t i = 0; rc == QPKI_OK && i < qpki_ocsp_response_single_count(resp); i++) {
        const qpki_ocsp_single *s = qpki_ocsp_response_single(resp, i);
        char hex[80];
        (void)qpki_certid_serial_hex(qpki_ocsp_single_certid(s), hex, sizeof(hex));
        printf("%s: %s", hex, qpki_cert_status_name(qpki_ocsp_single_status(s)));
        if (qpki_ocsp_single_status(s) == QPKI_CERT_STATUS_REVOKED)
            printf(" %lld %s", (long long)qpki_ocsp_single_revocation_time(s),
                   qpki_crl_reason_name(qpki_ocsp_single_reason(s)));
        printf("\n");
    }
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    free(der);
    qpki_cert_free(&ca);
    return rc == QPKI_OK ? 0 : 1;
}

static int cmd_pubkey(int argc, char **argv)
{
    const char *key_path = opt(argc, argv, "--key"), *out = opt(argc, argv, "--out");
    if (!key_path || !out)
        return die("pubkey needs --key --out", QPKI_ERR_INVALID_ARG);
    qpki_key *key = NULL;
    qpki_status rc = qpki_key_load(key_path, NULL, &key);
    if (rc != QPKI_OK)
        return die(key_path, rc);
    const uint8_t *spki;
    size_t len;
    if ((rc = qpki_key_public_key(key, &spki, &len)) != QPKI_OK)
        return die("public key", rc);
    int ret = write_file(out, spki, len);
    qpki_key_free(&key);
    return ret;
}

static int cmd_keygen(int argc, char **argv)
{
    const char *name = opt(argc, argv, "--algo"), *out = opt(argc, argv, "--out");
    qpki_key_alg alg;
    unsigned bits;
    if (!name || !out || qpki_key_alg_from_name(name, &alg, &bits) != QPKI_OK)
        return die("keygen needs --algo NAME --out FILE", QPKI_ERR_INVALID_ARG);
    qpki_key *key = NULL;
    qpki_status rc = qpki_key_generate(alg, bits, &key);
    if (rc == QPKI_OK)
        rc = qpki_key_write_file(key, out, QPKI_KEY_FORMAT_PEM, NULL, 0);
    qpki_key_free(&key);
    return rc == QPKI_OK ? 0 : die("keygen", rc);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: ocsp_tool sign|respond|verify ...\n");
        return 2;
    }
    if (!strcmp(argv[1], "sign"))
        return cmd_sign(argc, argv);
    if (!strcmp(argv[1], "respond"))
        return cmd_respond(argc, argv);
    if (!strcmp(argv[1], "verify"))
        return cmd_verify(argc, argv);
    if (!strcmp(argv[1], "keygen"))
        return cmd_keygen(argc, argv);
    if (!strcmp(argv[1], "pubkey"))
        return cmd_pubkey(argc, argv);
    fprintf(stderr, "ocsp_tool: unknown command %s\n", argv[1]);
    return 2;
}
