/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_verify.c - qpki ocsp verify: check a response as a relying party
 * must (RFC 6960 §3.2) against one trusted CA. */
#include <stdlib.h>
#include <string.h>

#include <qpki/certid.h>
#include <qpki/response.h>
#include <qpki/verify.h>

#include "cli.h"
#include "ocsp_print.h"

static const char help[] =
    "Usage: qpki ocsp verify --response FILE --ca CA.crt [--cert CERT] [--serial HEX]\n"
    "                        [--nonce HEX] [options]\n"
    "\n"
    "Verify an OCSP response: the signature, that the signer is the CA or a\n"
    "responder certificate the CA issued with id-kp-OCSPSigning and valid now, that\n"
    "thisUpdate/producedAt are not in the future and nextUpdate not in the past, and,\n"
    "when given, that the response is for CERT/serial and echoes the nonce.  Prints\n"
    "the status of each certificate.  Nothing is trusted without --ca.\n"
    "\n"
    "Options:\n"
    "  --response FILE        the response (DER or PEM)\n"
    "  --ca FILE              the CA certificate that issued the certificates in question\n"
    "  --cert FILE            expect a status for this certificate (repeatable)\n"
    "  --serial HEX           expect a status for this serial number (repeatable)\n"
    "  --nonce HEX            expect this nonce to be echoed\n"
    "  --at TIME              verify as of this RFC 3339 time instead of now\n"
    "  --skew DURATION        clock skew tolerated (default 5m)\n"
    "  --max-age DURATION     reject thisUpdate older than this\n"
    "  -q, --quiet            print nothing on success\n"
    "  --require-pq           fail unless every signature from the CA to the response\n"
    "                         is post-quantum: the response's (ML-DSA or a Catalyst\n"
    "                         alternative signature) and, for a delegated responder,\n"
    "                         the CA's on its certificate (also --require-pq=path);\n"
    "                         --require-pq=response: the response's own signature only\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 verified, 1 verification failed, 2 usage or input error.\n";

enum { O_RESPONSE = 256, O_CA, O_CERT, O_SERIAL, O_NONCE, O_AT, O_SKEW, O_MAX_AGE, O_REQUIRE_PQ };

#define MAX_EXPECT 16

int cmd_ocsp_verify(int argc, char **argv)
{
    static const struct option opts[] = {
        { "response", required_argument, NULL, O_RESPONSE },
        { "ca", required_argument, NULL, O_CA },
        { "cert", required_argument, NULL, O_CERT },
        { "serial", required_argument, NULL, O_SERIAL },
        { "nonce", required_argument, NULL, O_NONCE },
        { "at", required_argument, NULL, O_AT },
        { "skew", required_argument, NULL, O_SKEW },
        { "max-age", required_argument, NULL, O_MAX_AGE },
        { "require-pq", optional_argument, NULL, O_REQUIRE_PQ },
        { "quiet", no_argument, NULL, 'q' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *resp_path = NULL, *ca_path = NULL, *nonce_text = NULL, *at_text = NULL;
    const char *skew_text = NULL, *max_age_text = NULL;
    const char *certs[MAX_EXPECT], *serials[MAX_EXPECT];
    size_t n_certs = 0, n_serials = 0;
    bool quiet = false;
    qpki_pq_requirement require_pq = QPKI_PQ_REQUIRE_NONE;
    int c;
    while ((c = cli_getopt(argc, argv, "qh", opts)) != -1) {
        switch (c) {
        case O_RESPONSE: resp_path = optarg; break;
        case O_CA: ca_path = optarg; break;
        case O_CERT:
            if (n_certs == MAX_EXPECT)
                return cli_usage_error("at most %d --cert", MAX_EXPECT);
            certs[n_certs++] = optarg;
            break;
        case O_SERIAL:
            if (n_serials == MAX_EXPECT)
                return cli_usage_error("at most %d --serial", MAX_EXPECT);
            serials[n_serials++] = optarg;
            break;
        case O_NONCE: nonce_text = optarg; break;
        case O_AT: at_text = optarg; break;
        case O_SKEW: skew_text = optarg; break;
        case O_MAX_AGE: max_age_text = optarg; break;
        case O_REQUIRE_PQ:
            if (!optarg || !strcmp(optarg, "path"))
                require_pq = QPKI_PQ_REQUIRE_PATH;
            else if (!strcmp(optarg, "response"))
                require_pq = QPKI_PQ_REQUIRE_RESPONSE;
            else
                return cli_usage_error("--require-pq=%s: use path (the default) or response",
                                       optarg);
            break;
        case 'q': quiet = true; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc) {
        if (resp_path || optind + 1 < argc)
            return cli_usage_error("unexpected argument '%s'", argv[optind]);
        resp_path = argv[optind];
    }
    if (!resp_path)
        return cli_usage_error("--response FILE is required");
    if (!ca_path)
        return cli_usage_error("--ca CA.crt is required: a response is only trusted against "
                               "its CA");

    uint8_t nonce[QPKI_NONCE_MAX];
    size_t nonce_len = 0;
    if (nonce_text &&
        (!cli_parse_hex(nonce_text, nonce, sizeof(nonce), &nonce_len) || nonce_len == 0))
        return cli_usage_error("--nonce '%s' is not 1 to %d bytes of hex", nonce_text,
                               QPKI_NONCE_MAX);
    qpki_time at = 0;
    if (at_text && !cli_parse_time(at_text, &at))
        return cli_usage_error("--at '%s' is not an RFC 3339 time", at_text);
    int64_t skew = -1, max_age = -1;
    if (skew_text && strcmp(skew_text, "0") != 0 && !cli_parse_duration(skew_text, &skew))
        return cli_usage_error("--skew '%s' is not a duration", skew_text);
    if (skew_text && strcmp(skew_text, "0") == 0)
        skew = 0;
    if (max_age_text && !cli_parse_duration(max_age_text, &max_age))
        return cli_usage_error("--max-age '%s' is not a duration", max_age_text);

    int rc = CLI_USAGE;
    uint8_t *der = NULL;
    size_t der_len = 0;
    qpki_cert *ca = NULL;
    qpki_ocsp_response *resp = NULL;
    qpki_ocsp_verifier *v = NULL;
    qpki_status st;

    if (!cli_load_cert(ca_path, "CA certificate", &ca))
        goto done;
    if (!cli_read_ocsp_file(resp_path, "OCSP response", "OCSP RESPONSE", &der, &der_len))
        goto done;
    char why[256];
    if ((st = qpki_ocsp_response_parse_err(der, der_len, why, sizeof(why), &resp)) != QPKI_OK) {
        cli_error_detail(st, why, "%s is not an OCSP response", resp_path);
        goto done;
    }
    if ((st = qpki_ocsp_verifier_new(&v)) != QPKI_OK ||
        (st = qpki_ocsp_verifier_set_ca(v, ca)) != QPKI_OK) {
        cli_error_st(st, "verifier");
        goto done;
    }
    if (at_text)
        (void)qpki_ocsp_verifier_set_time(v, at);
    if (skew >= 0)
        (void)qpki_ocsp_verifier_set_skew(v, skew);
    if (max_age >= 0)
        (void)qpki_ocsp_verifier_set_max_age(v, max_age);
    if (nonce_text)
        (void)qpki_ocsp_verifier_set_nonce(v, nonce, nonce_len);
    (void)qpki_ocsp_verifier_set_pq_requirement(v, require_pq);
    for (size_t i = 0; i < n_certs; i++) {
        qpki_cert *cert = NULL;
        qpki_certid *id = NULL;
        if (!cli_load_cert(certs[i], "certificate", &cert))
            goto done;
        st = qpki_certid_for_cert(QPKI_HASH_SHA1, ca, cert, &id);
        qpki_cert_free(&cert);
        if (st == QPKI_OK)
            st = qpki_ocsp_verifier_expect_certid(v, id);
        qpki_certid_free(&id);
        if (st != QPKI_OK) {
            cli_error_st(st, "certificate %s", certs[i]);
            goto done;
        }
    }
    for (size_t i = 0; i < n_serials; i++) {
        uint8_t serial[64];
        size_t serial_len;
        if (!cli_parse_serial(serials[i], serial, sizeof(serial), &serial_len)) {
            cli_usage_error("--serial '%s' is not a hexadecimal serial number", serials[i]);
            goto done;
        }
        if ((st = qpki_ocsp_verifier_expect_serial(v, serial, serial_len)) != QPKI_OK) {
            cli_error_st(st, "--serial %s", serials[i]);
            goto done;
        }
    }
    rc = ocsp_verify_and_print(v, resp, quiet);
    ocsp_warn_size(der_len);
done:
    qpki_ocsp_verifier_free(&v);
    qpki_ocsp_response_free(&resp);
    qpki_cert_free(&ca);
    free(der);
    return rc;
}
