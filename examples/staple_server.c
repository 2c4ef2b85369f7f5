/* SPDX-License-Identifier: Apache-2.0 */
/* examples/staple_server.c - a TLS server that staples OCSP responses it makes
 * itself, in-process, with libqpki-ocsp: no responder to reach over the network,
 * no response file to refresh by cron.
 *
 *   staple_server PORT SERVER.crt SERVER.key CA_DIR [CONNECTIONS] [signer options]
 *
 * CA_DIR holds the issuer of SERVER.crt: ca.crt, index.txt and, when the CA
 * signs the responses itself (the default), ca.key (a `qpki ca init` or
 * `openssl ca` directory).  Signer options instead name a delegated responder:
 *   --responder-cert FILE  its certificate (EKU id-kp-OCSPSigning, issued by the CA)
 *   --responder-key FILE   its private key, or
 *   --pkcs11 PLUGIN.so --hsm-config hsm.yaml --key-label LABEL
 *                          the key in an HSM (PIN from the variable hsm.yaml names)
 *   --alt-key FILE         Catalyst: the ML-DSA key of the certificate's
 *                          altSubjectPublicKeyInfo (responses carry both signatures)
 * For every TLS handshake whose ClientHello carries status_request (RFC 6066 §8),
 * the status callback asks the responder about SERVER.crt and staples the answer.
 * The responder keeps the signed response cached and re-signs it when half of its
 * validity has gone or index.txt changed (qpki_responder_refresh, called between
 * connections).  wolfSSL keeps a staple until its nextUpdate once it has one, so
 * the TLS context is rebuilt when the status database changes (or after half of
 * the validity): revoking the server's own certificate shows in the next handshake.
 *
 * TLS is wolfSSL (its OpenSSL-compatible status callback).  Try it with
 *   openssl s_client -connect 127.0.0.1:PORT -status -CAfile CA_DIR/ca.crt
 * which prints "OCSP Response Status: successful" and "Cert Status: good", or
 *   gnutls-cli --ocsp --x509cafile CA_DIR/ca.crt -p PORT 127.0.0.1
 * which checks the staple against its trust list.
 * The server answers CONNECTIONS connections (default: forever) with one line. */
#include <arpa/inet.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <wolfssl/options.h>
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/crypto.h>

#include <qpki/cert.h>
#include <qpki/certid.h>
#include <qpki/db.h>
#include <qpki/plugin.h>
#include <qpki/request.h>
#include <qpki/responder.h>
#include <qpki/signer.h>

struct stapler {
    qpki_responder *responder;
    uint8_t *request;          /* DER OCSPRequest for the server certificate */
    size_t request_len;
};

/* wolfSSL calls this during the handshake when the client asked for a status. */
static int status_cb(WOLFSSL *ssl, void *arg)
{
    (void)arg;
    struct stapler *st = wolfSSL_CTX_get_ex_data(wolfSSL_get_SSL_CTX(ssl), 0);
    qpki_answer *answer = NULL;
    if (qpki_responder_respond(st->responder, st->request, st->request_len, &answer) != QPKI_OK)
        return SSL_TLSEXT_ERR_NOACK;
    const uint8_t *der;
    size_t len;
    qpki_answer_bytes(answer, &der, &len);
    int ok = qpki_answer_resp_status(answer) == QPKI_OCSP_RESP_SUCCESSFUL;
    unsigned char *copy = ok ? OPENSSL_malloc(len) : NULL; /* wolfSSL frees it */
    if (copy) {
        memcpy(copy, der, len);
        wolfSSL_set_tlsext_status_ocsp_resp(ssl, copy, (int)len);
    }
    qpki_answer_free(&answer);
    return copy ? SSL_TLSEXT_ERR_OK : SSL_TLSEXT_ERR_NOACK;
}

/* A TLS context with the server certificate and the stapling callback. */
static WOLFSSL_CTX *make_ctx(const char *cert, const char *key, const char *ca_dir,
                             struct stapler *stapler)
{
    char path[4096];
    WOLFSSL_CTX *ctx = wolfSSL_CTX_new(wolfSSLv23_server_method());
    if (!ctx || wolfSSL_CTX_use_certificate_file(ctx, cert, WOLFSSL_FILETYPE_PEM) != 1 ||
        wolfSSL_CTX_use_PrivateKey_file(ctx, key, WOLFSSL_FILETYPE_PEM) != 1) {
        fprintf(stderr, "staple_server: cannot load %s / %s into wolfSSL\n", cert, key);
        wolfSSL_CTX_free(ctx);
        return NULL;
    }
    /* wolfSSL needs the issuer to handle the server certificate's status */
    snprintf(path, sizeof(path), "%s/ca.crt", ca_dir);
    if (wolfSSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
        fprintf(stderr, "staple_server: cannot load %s into wolfSSL\n", path);
        wolfSSL_CTX_free(ctx);
        return NULL;
    }
    wolfSSL_CTX_set_ex_data(ctx, 0, stapler);
    if (wolfSSL_CTX_EnableOCSPStapling(ctx) != 1 ||
        wolfSSL_CTX_set_tlsext_status_cb(ctx, status_cb) != 1) {
        fprintf(stderr, "staple_server: this wolfSSL has no OCSP stapling\n");
        wolfSSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

static int die(const char *what, qpki_status st)
{
    fprintf(stderr, "staple_server: %s: %s\n", what, qpki_strerror(st));
    return 1;
}

/* The key that signs the responses and the certificate it signs for: the CA's own
 * key (ca.key in CA_DIR, no responder certificate), a delegated responder's key
 * file, or a key in an HSM through the PKCS#11 plugin. */
struct signer_opts {
    const char *cert, *key, *alt_key, *plugin, *hsm_config, *key_label;
};

static qpki_status load_signer(const struct signer_opts *o, const char *ca_dir,
                               qpki_cert **rcert, qpki_signer **signer, qpki_signer **alt)
{
    char path[4096];
    qpki_status st;
    *rcert = NULL;
    *alt = NULL;
    if (!o->cert) {
        snprintf(path, sizeof(path), "%s/ca.key", ca_dir);
        st = qpki_signer_software_load(path, NULL, signer);
    } else if ((st = qpki_cert_load_file(o->cert, rcert)) != QPKI_OK) {
        return st;
    } else if (o->plugin) {
        const uint8_t *spki;
        size_t spki_len;
        char err[256] = "";
        qpki_cert_spki(*rcert, &spki, &spki_len);
        st = qpki_signer_plugin_load(o->plugin, o->hsm_config, o->key_label, NULL, spki,
                                     spki_len, signer, err, sizeof(err));
        if (st != QPKI_OK && err[0])
            fprintf(stderr, "staple_server: %s\n", err);
    } else {
        st = qpki_signer_software_load(o->key, NULL, signer);
    }
    if (st == QPKI_OK && o->alt_key)
        st = qpki_signer_software_load(o->alt_key, NULL, alt);
    return st;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"responder-cert", required_argument, NULL, 'c'},
        {"responder-key", required_argument, NULL, 'k'},
        {"alt-key", required_argument, NULL, 'a'},
        {"pkcs11", required_argument, NULL, 'p'},
        {"hsm-config", required_argument, NULL, 'y'},
        {"key-label", required_argument, NULL, 'l'},
        {NULL, 0, NULL, 0},
    };
    struct signer_opts so = {NULL, NULL, NULL, NULL, NULL, NULL};
    int opt;
    while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (opt) {
        case 'c': so.cert = optarg; break;
        case 'k': so.key = optarg; break;
        case 'a': so.alt_key = optarg; break;
        case 'p': so.plugin = optarg; break;
        case 'y': so.hsm_config = optarg; break;
        case 'l': so.key_label = optarg; break;
        default: return 2;
        }
    }
    argv += optind - 1; /* the positional arguments as argv[1..] */
    argc -= optind - 1;
    if (argc < 5 || (so.cert && !so.key && !so.plugin) || (!so.cert && (so.key || so.plugin)) ||
        (so.plugin && (!so.hsm_config || !so.key_label))) {
        fprintf(stderr, "usage: staple_server PORT SERVER.crt SERVER.key CA_DIR [CONNECTIONS]\n"
                        "  [--responder-cert FILE (--responder-key FILE | --pkcs11 PLUGIN.so\n"
                        "   --hsm-config hsm.yaml --key-label LABEL)] [--alt-key FILE]\n");
        return 2;
    }
    long connections = argc > 5 ? atol(argv[5]) : -1;
    char path[4096];
    qpki_status st;
    signal(SIGPIPE, SIG_IGN);

    /* The responder: answers from the CA directory, signed by the CA or the
     * delegated responder. */
    qpki_cert *ca = NULL, *server_cert = NULL, *rcert = NULL;
    qpki_db *db = NULL;
    qpki_signer *signer = NULL, *alt = NULL;
    qpki_responder_issuer *iss = NULL;
    struct stapler stapler = {NULL, NULL, 0};
    snprintf(path, sizeof(path), "%s/ca.crt", argv[4]);
    if ((st = qpki_cert_load_file(path, &ca)) != QPKI_OK)
        return die(path, st);
    snprintf(path, sizeof(path), "%s/index.txt", argv[4]);
    if ((st = qpki_db_open_index(path, &db)) != QPKI_OK)
        return die(path, st);
    if ((st = load_signer(&so, argv[4], &rcert, &signer, &alt)) != QPKI_OK)
        return die("signing key", st);
    if ((st = qpki_responder_new(&stapler.responder)) != QPKI_OK ||
        (st = qpki_responder_add_issuer(stapler.responder, ca, db, signer, rcert, &iss)) !=
            QPKI_OK ||
        (alt && (st = qpki_responder_issuer_replace_key_hybrid(iss, signer, alt, rcert)) !=
                    QPKI_OK))
        return die("responder", st);
    qpki_signer_free(&signer);
    qpki_signer_free(&alt);
    qpki_cert_free(&rcert);

    /* The request the status callback answers: the server certificate's CertID. */
    qpki_certid *id = NULL;
    if ((st = qpki_cert_load_file(argv[2], &server_cert)) != QPKI_OK)
        return die(argv[2], st);
    if ((st = qpki_certid_for_cert(QPKI_HASH_SHA1, ca, server_cert, &id)) != QPKI_OK)
        return die("CertID", st);
    const qpki_certid *ids[1] = {id};
    if ((st = qpki_ocsp_request_encode(ids, 1, NULL, 0, &stapler.request,
                                       &stapler.request_len)) != QPKI_OK)
        return die("request", st);
    qpki_certid_free(&id);

    wolfSSL_Init();
    WOLFSSL_CTX *ctx = make_ctx(argv[2], argv[3], argv[4], &stapler);
    if (!ctx)
        return 1;
    uint64_t ctx_generation = qpki_db_generation(db);
    time_t ctx_time = time(NULL);

    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((unsigned short)atoi(argv[1]));
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 16) != 0) {
        perror("staple_server: listen");
        return 1;
    }
    printf("staple_server: listening on 127.0.0.1:%s\n", argv[1]);
    fflush(stdout);

    for (long served = 0; connections < 0 || served < connections; served++) {
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        (void)qpki_responder_refresh(stapler.responder); /* pick up index.txt changes */
        if (qpki_db_generation(db) != ctx_generation || time(NULL) - ctx_time >= 1800) {
            WOLFSSL_CTX *fresh = make_ctx(argv[2], argv[3], argv[4], &stapler);
            if (fresh) { /* drop wolfSSL's copy of the previous staple */
                wolfSSL_CTX_free(ctx);
                ctx = fresh;
                ctx_generation = qpki_db_generation(db);
                ctx_time = time(NULL);
            }
        }
        WOLFSSL *ssl = wolfSSL_new(ctx);
        wolfSSL_set_fd(ssl, c);
        int ar = wolfSSL_accept(ssl);
        if (ar != 1) {
            char why[WOLFSSL_MAX_ERROR_SZ];
            int err = wolfSSL_get_error(ssl, ar);
            fprintf(stderr, "staple_server: handshake failed: %s\n",
                    wolfSSL_ERR_error_string((unsigned long)err, why));
        } else {
            static const char hello[] = "hello from a stapling server\n";
            wolfSSL_write(ssl, hello, (int)sizeof(hello) - 1);
            wolfSSL_shutdown(ssl);
        }
        wolfSSL_free(ssl);
        close(c);
    }
    close(fd);
    wolfSSL_CTX_free(ctx);
    wolfSSL_Cleanup();
    qpki_free(stapler.request);
    qpki_responder_free(&stapler.responder);
    qpki_db_free(&db);
    qpki_cert_free(&server_cert);
    qpki_cert_free(&ca);
    return 0;
}
