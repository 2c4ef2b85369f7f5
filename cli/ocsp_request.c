/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_request.c - qpki ocsp request: build an OCSP request and, with
 * --url, send it (libcurl) and verify the answer. */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include <qpki/certid.h>
#include <qpki/request.h>
#include <qpki/response.h>
#include <qpki/verify.h>

#include "cli.h"
#include "ocsp_print.h"

static const char help[] =
    "Usage: qpki ocsp request --ca CA.crt (--cert CERT | --serial HEX)... [--nonce]\n"
    "                         [--pref-sig-alg ALG]... [--out FILE] [--url URL [--post]]\n"
    "\n"
    "Create a DER OCSP request (RFC 6960 §4.1).  With --url, send it over HTTP (GET\n"
    "when the URL fits in 255 bytes, as RFC 6960 Appendix A.1 allows, else POST),\n"
    "verify the response against --ca and print each status, like qpki ocsp verify.\n"
    "\n"
    "Options:\n"
    "  --ca FILE              issuing CA certificate\n"
    "  --cert FILE            certificate to ask about (repeatable)\n"
    "  --serial HEX           serial number to ask about (repeatable)\n"
    "  --nonce                include a random 32-byte nonce (RFC 9654) and, with --url,\n"
    "                         require it to be echoed\n"
    "  --hash sha1|sha256     CertID hash algorithm (default sha256)\n"
    "  --pref-sig-alg ALG     ask for a response signature algorithm (RFC 6960 §4.4.7\n"
    "                         Preferred Signature Algorithms; repeatable, most\n"
    "                         preferred first): ecdsa-sha256, ed25519, ml-dsa-65, ...\n"
    "  -o, --out FILE         without --url: the request (default standard output);\n"
    "                         with --url: keep the response in FILE\n"
    "  --url URL              responder URL\n"
    "  --post                 always use POST\n"
    "  --reqout FILE          with --url: also keep the request\n"
    "  --timeout DURATION     HTTP timeout (default 10s)\n"
    "  --require-pq           with --url: fail unless the answer carries a valid\n"
    "                         Catalyst alternative (ML-DSA) signature\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status with --url: 0 verified, 1 verification failed, 2 usage, input or\n"
    "transport error.\n";

enum { O_CA = 256, O_CERT, O_SERIAL, O_NONCE, O_HASH, O_URL, O_POST, O_REQOUT, O_TIMEOUT,
       O_REQUIRE_PQ, O_PREF_SIG_ALG };

#define MAX_IDS 16
#define MAX_PREFS 16
#define MAX_RESPONSE (1024 * 1024)

struct body {
    uint8_t *data;
    size_t len;
    bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user)
{
    struct body *b = user;
    size_t n = size * nmemb;
    if (b->len + n > MAX_RESPONSE) {
        b->too_big = true;
        return 0;
    }
    uint8_t *bigger = realloc(b->data, b->len + n + 1);
    if (!bigger)
        return 0;
    b->data = bigger;
    memcpy(b->data + b->len, ptr, n);
    b->len += n;
    return n;
}

/* RFC 6960 Appendix A.1: GET {url}/{url-encoding of base-64 encoding of the DER
 * encoding of the OCSPRequest}.  Returns a malloc'd URL. */
static char *get_url(const char *base, const uint8_t *der, size_t len)
{
    char *b64 = cli_base64(der, len);
    if (!b64)
        return NULL;
    size_t blen = strlen(b64), ulen = strlen(base);
    char *url = malloc(ulen + 3 * blen + 2);
    if (!url) {
        free(b64);
        return NULL;
    }
    size_t k = (size_t)sprintf(url, "%s%s", base, ulen && base[ulen - 1] == '/' ? "" : "/");
    for (size_t i = 0; i < blen; i++) {
        /* '+', '/' and '=' are not safe in a path segment. */
        if (b64[i] == '+' || b64[i] == '/' || b64[i] == '=')
            k += (size_t)sprintf(url + k, "%%%02X", (unsigned char)b64[i]);
        else
            url[k++] = b64[i];
    }
    url[k] = '\0';
    free(b64);
    return url;
}

static bool send_request(const char *base, bool force_post, long timeout, const uint8_t *der,
                         size_t len, struct body *resp)
{
    bool ok = false;
    char *url = NULL;
    struct curl_slist *headers = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        cli_error("cannot initialise libcurl");
        return false;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        cli_error("cannot initialise libcurl");
        goto done;
    }
    url = get_url(base, der, len);
    if (!url) {
        cli_error("out of memory");
        goto done;
    }
    bool use_get = !force_post && strlen(url) <= 255;
    char errbuf[CURL_ERROR_SIZE] = "";
    if (use_get) {
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(curl, CURLOPT_URL, base);
        headers = curl_slist_append(headers, "Content-Type: application/ocsp-request");
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, (const char *)der);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)len);
    }
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, timeout);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "qpki-ocsp");
    CURLcode cc = curl_easy_perform(curl);
    if (cc != CURLE_OK) {
        cli_error("%s %s: %s", use_get ? "GET" : "POST", base,
                  resp->too_big ? "response larger than 1 MiB"
                                : (errbuf[0] ? errbuf : curl_easy_strerror(cc)));
        goto done;
    }
    long code = 0;
    char *ctype = NULL;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ctype);
    fprintf(stderr, "%s %s: HTTP %ld, %zu bytes%s%s\n", use_get ? "GET" : "POST", base, code,
            resp->len, ctype ? ", " : "", ctype ? ctype : "");
    if (code != 200) {
        cli_error("the responder answered HTTP %ld", code);
        goto done;
    }
    ok = true;
done:
    curl_slist_free_all(headers);
    if (curl)
        curl_easy_cleanup(curl);
    free(url);
    curl_global_cleanup();
    return ok;
}

int cmd_ocsp_request(int argc, char **argv)
{
    static const struct option opts[] = {
        { "ca", required_argument, NULL, O_CA },
        { "cert", required_argument, NULL, O_CERT },
        { "serial", required_argument, NULL, O_SERIAL },
        { "nonce", no_argument, NULL, O_NONCE },
        { "hash", required_argument, NULL, O_HASH },
        { "out", required_argument, NULL, 'o' },
        { "url", required_argument, NULL, O_URL },
        { "post", no_argument, NULL, O_POST },
        { "reqout", required_argument, NULL, O_REQOUT },
        { "timeout", required_argument, NULL, O_TIMEOUT },
        { "require-pq", no_argument, NULL, O_REQUIRE_PQ },
        { "pref-sig-alg", required_argument, NULL, O_PREF_SIG_ALG },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *ca_path = NULL, *out = NULL, *url = NULL, *reqout = NULL;
    const char *hash_text = "sha256", *timeout_text = "10s";
    const char *certs[MAX_IDS], *serials[MAX_IDS];
    size_t n_certs = 0, n_serials = 0, n_prefs = 0;
    qpki_sig_alg prefs[MAX_PREFS];
    bool want_nonce = false, force_post = false, require_pq = false;
    int c;
    while ((c = cli_getopt(argc, argv, "o:h", opts)) != -1) {
        switch (c) {
        case O_CA: ca_path = optarg; break;
        case O_CERT:
            if (n_certs + n_serials == MAX_IDS)
                return cli_usage_error("at most %d certificates per request", MAX_IDS);
            certs[n_certs++] = optarg;
            break;
        case O_SERIAL:
            if (n_certs + n_serials == MAX_IDS)
                return cli_usage_error("at most %d certificates per request", MAX_IDS);
            serials[n_serials++] = optarg;
            break;
        case O_NONCE: want_nonce = true; break;
        case O_HASH: hash_text = optarg; break;
        case 'o': out = optarg; break;
        case O_URL: url = optarg; break;
        case O_POST: force_post = true; break;
        case O_REQOUT: reqout = optarg; break;
        case O_TIMEOUT: timeout_text = optarg; break;
        case O_REQUIRE_PQ: require_pq = true; break;
        case O_PREF_SIG_ALG:
            if (n_prefs == MAX_PREFS)
                return cli_usage_error("at most %d --pref-sig-alg", MAX_PREFS);
            if (qpki_sig_alg_from_name(optarg, &prefs[n_prefs]) != QPKI_OK)
                return cli_usage_error("--pref-sig-alg '%s': use ecdsa-sha256, ecdsa-sha384, "
                                       "ecdsa-sha512, rsa-sha256, rsa-pss-sha256, ed25519, "
                                       "ed448, ml-dsa-44, ml-dsa-65 or ml-dsa-87", optarg);
            n_prefs++;
            break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    if (!ca_path)
        return cli_usage_error("--ca CA.crt is required");
    if (n_certs + n_serials == 0)
        return cli_usage_error("--cert FILE or --serial HEX is required");
    if ((force_post || reqout || require_pq) && !url)
        return cli_usage_error("--post, --reqout and --require-pq need --url");
    qpki_hash_alg hash;
    if (qpki_hash_alg_from_name(hash_text, &hash) != QPKI_OK)
        return cli_usage_error("--hash '%s': use sha1, sha256, sha384 or sha512", hash_text);
    int64_t timeout;
    if (!cli_parse_duration(timeout_text, &timeout) || timeout > 3600)
        return cli_usage_error("--timeout '%s' is not a duration up to 1h", timeout_text);
    if (url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return cli_usage_error("--url must start with http:// or https://");

    int rc = CLI_USAGE;
    qpki_cert *ca = NULL;
    qpki_certid *ids[MAX_IDS] = { 0 };
    size_t n_ids = 0;
    uint8_t *der = NULL;
    size_t der_len = 0;
    uint8_t nonce[32];
    struct body body = { 0 };
    qpki_ocsp_response *resp = NULL;
    qpki_ocsp_verifier *v = NULL;
    qpki_status st;

    if (!cli_load_cert(ca_path, "CA certificate", &ca))
        goto done;
    for (size_t i = 0; i < n_certs; i++) {
        qpki_cert *cert = NULL;
        if (!cli_load_cert(certs[i], "certificate", &cert))
            goto done;
        if (qpki_cert_verify_signature(cert, ca) != QPKI_OK)
            cli_warn("%s does not look issued by %s: the responder will not know it",
                     certs[i], ca_path);
        st = qpki_certid_for_cert(hash, ca, cert, &ids[n_ids]);
        qpki_cert_free(&cert);
        if (st != QPKI_OK) {
            cli_error_st(st, "CertID for %s", certs[i]);
            goto done;
        }
        n_ids++;
    }
    for (size_t i = 0; i < n_serials; i++) {
        uint8_t serial[64];
        size_t serial_len;
        if (!cli_parse_serial(serials[i], serial, sizeof(serial), &serial_len)) {
            cli_usage_error("--serial '%s' is not a hexadecimal serial number", serials[i]);
            goto done;
        }
        if ((st = qpki_certid_new(hash, ca, serial, serial_len, &ids[n_ids])) != QPKI_OK) {
            cli_error_st(st, "CertID for serial %s", serials[i]);
            goto done;
        }
        n_ids++;
    }
    if (want_nonce && !cli_random(nonce, sizeof(nonce)))
        goto done;
    st = qpki_ocsp_request_encode_prefs((const qpki_certid *const *)ids, n_ids,
                                        want_nonce ? nonce : NULL,
                                        want_nonce ? sizeof(nonce) : 0, prefs, n_prefs, &der,
                                        &der_len);
    if (st != QPKI_OK) {
        cli_error_st(st, "cannot encode the request");
        goto done;
    }
    if (!url) {
        if (!cli_write_file(out, der, der_len, 0644, false))
            goto done;
        if (out && strcmp(out, "-") != 0)
            fprintf(stderr, "Wrote %s: %zu certificate%s, %s CertID%s, %zu bytes\n", out,
                    n_ids, n_ids == 1 ? "" : "s", qpki_hash_alg_name(hash),
                    want_nonce ? ", nonce" : "", der_len);
        rc = CLI_OK;
        goto done;
    }

    if (reqout && !cli_write_file(reqout, der, der_len, 0644, false))
        goto done;
    if (!send_request(url, force_post, (long)timeout, der, der_len, &body))
        goto done;
    if (out && !cli_write_file(out, body.data ? body.data : (const uint8_t *)"", body.len, 0644,
                               false))
        goto done;
    if ((st = qpki_ocsp_response_parse(body.data ? body.data : (const uint8_t *)"", body.len,
                                       &resp)) != QPKI_OK) {
        cli_error_st(st, "the responder's answer is not an OCSP response");
        goto done;
    }
    if ((st = qpki_ocsp_verifier_new(&v)) != QPKI_OK ||
        (st = qpki_ocsp_verifier_set_ca(v, ca)) != QPKI_OK) {
        cli_error_st(st, "verifier");
        goto done;
    }
    for (size_t i = 0; i < n_ids; i++) {
        if ((st = qpki_ocsp_verifier_expect_certid(v, ids[i])) != QPKI_OK) {
            cli_error_st(st, "verifier");
            goto done;
        }
    }
    if (want_nonce)
        (void)qpki_ocsp_verifier_set_nonce(v, nonce, sizeof(nonce));
    if (require_pq)
        (void)qpki_ocsp_verifier_set_require_pq(v, true);
    rc = ocsp_verify_and_print(v, resp, false);
    ocsp_warn_size(body.len);
done:
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    free(body.data);
    qpki_free(der);
    for (size_t i = 0; i < n_ids; i++)
        qpki_certid_free(&ids[i]);
    qpki_cert_free(&ca);
    return rc;
}
