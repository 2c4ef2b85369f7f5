/* SPDX-License-Identifier: Apache-2.0 */
/* cli/ocsp_info.c - qpki ocsp info: print an OCSP response (or request). */
#include <stdlib.h>
#include <string.h>

#include <qpki/request.h>
#include <qpki/response.h>

#include "cli.h"
#include "ocsp_print.h"

static const char help[] =
    "Usage: qpki ocsp info [--json] FILE\n"
    "\n"
    "Display an OCSP response (DER or PEM) with the fields `openssl ocsp -resp_text`\n"
    "shows, the signature algorithm and the size (a warning above 16 KiB, a common\n"
    "TLS stapling buffer).  An OCSP request is recognised and displayed too.  Nothing\n"
    "is verified: use qpki ocsp verify for that.\n"
    "\n"
    "Options:\n"
    "  --json                 JSON output for scripts\n"
    "  --in FILE              the file (instead of the argument; - for standard input)\n"
    "  --response FILE        the same as --in\n"
    "  -h, --help             this help\n";

enum { O_JSON = 256, O_IN };

/* An OCSPRequest's first field is the tbsRequest SEQUENCE, an OCSPResponse's the
 * ENUMERATED responseStatus (RFC 6960 §4.1.1, §4.2.1). */
static bool looks_like_request(const uint8_t *der, size_t len)
{
    if (len < 3 || der[0] != 0x30)
        return false;
    size_t at = der[1] < 0x80 ? 2 : 2 + (size_t)(der[1] & 0x7f);
    return at < len && der[at] == 0x30;
}

int cmd_ocsp_info(int argc, char **argv)
{
    static const struct option opts[] = {
        { "json", no_argument, NULL, O_JSON },
        { "in", required_argument, NULL, O_IN },
        { "response", required_argument, NULL, O_IN },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool json = false;
    const char *path = NULL;
    int c;
    while ((c = cli_getopt(argc, argv, "h", opts)) != -1) {
        switch (c) {
        case O_JSON: json = true; break;
        case O_IN: path = optarg; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc) {
        if (path || optind + 1 < argc)
            return cli_usage_error("give exactly one file");
        path = argv[optind];
    }
    if (!path)
        return cli_usage_error("which file? (qpki ocsp info FILE)");

    uint8_t *data = NULL;
    size_t len = 0;
    if (!cli_read_file(path, "OCSP file", &data, &len))
        return CLI_USAGE;
    /* PEM: either label. */
    uint8_t *der = data;
    size_t der_len = len;
    bool is_request = false;
    if (len > 0 && data[0] != 0x30 && strstr((const char *)data, "-----BEGIN OCSP REQUEST")) {
        free(data);
        if (!cli_read_ocsp_file(path, "OCSP request", "OCSP REQUEST", &der, &der_len))
            return CLI_USAGE;
        is_request = true;
    } else if (len > 0 && data[0] != 0x30 && strstr((const char *)data, "-----BEGIN ")) {
        free(data);
        if (!cli_read_ocsp_file(path, "OCSP response", "OCSP RESPONSE", &der, &der_len))
            return CLI_USAGE;
    }

    int rc = CLI_OK;
    qpki_ocsp_response *resp = NULL;
    qpki_ocsp_request *req = NULL;
    qpki_status st = QPKI_ERR_DECODE;
    char why[256] = "", why_req[256] = "";
    if (!is_request)
        st = qpki_ocsp_response_parse_err(der, der_len, why, sizeof(why), &resp);
    if (st == QPKI_OK) {
        bool ok = json ? ocsp_print_response_json(stdout, resp)
                       : (ocsp_print_response_text(stdout, resp), true);
        if (!ok)
            rc = cli_error("cannot write the output");
        ocsp_warn_size(der_len);
    } else {
        qpki_status st2 = qpki_ocsp_request_parse_err(der, der_len, NULL, why_req,
                                                      sizeof(why_req), &req);
        if (st2 == QPKI_OK) {
            bool ok = json ? ocsp_print_request_json(stdout, req)
                           : (ocsp_print_request_text(stdout, req), true);
            if (!ok)
                rc = cli_error("cannot write the output");
        } else {
            /* Name the failure of the form the bytes most look like: an
             * OCSPResponse starts with its ENUMERATED responseStatus, an
             * OCSPRequest with the tbsRequest SEQUENCE. */
            bool as_request = is_request || looks_like_request(der, der_len);
            rc = cli_error_detail(as_request ? st2 : st, as_request ? why_req : why,
                                  "%s is neither an OCSP response nor an OCSP request (as %s)",
                                  path, as_request ? "a request" : "a response");
        }
    }
    qpki_ocsp_response_free(&resp);
    qpki_ocsp_request_free(&req);
    free(der);
    return rc;
}
