/* parse_request.c - parse an OCSP request and answer "good" for each CertID.
 *   cc parse_request.c $(pkg-config --cflags --libs libqpki-ocsp)
 *   ./a.out request.der responder.crt responder.key > response.der */
#include <stdio.h>
#include <time.h>
#include <qpki/ocsp.h>

int main(int argc, char **argv)
{
    static uint8_t req[65536];
    FILE *f = argc == 4 ? fopen(argv[1], "rb") : NULL;
    size_t n = f ? fread(req, 1, sizeof(req), f) : 0, len;
    qpki_ocsp_request *r = NULL;
    qpki_cert *cert = NULL;
    qpki_signer *key = NULL;
    qpki_ocsp_response_builder *b = NULL;
    uint8_t *out = NULL;
    qpki_time now = (qpki_time)time(NULL);
    qpki_status rc = qpki_ocsp_request_parse(req, n, NULL, &r);
    if (!rc) rc = qpki_cert_load_file(argv[2], &cert);
    if (!rc) rc = qpki_signer_software_load(argv[3], NULL, &key);
    if (!rc) rc = qpki_ocsp_response_builder_new(&b);
    for (size_t i = 0; !rc && i < qpki_ocsp_request_count(r); i++)
        rc = qpki_ocsp_response_builder_add_single(b, qpki_ocsp_request_certid(r, i),
                 QPKI_CERT_STATUS_GOOD, 0, QPKI_REASON_NONE, now, now + 3600);
    if (!rc) rc = qpki_ocsp_response_builder_add_cert(b, cert);
    if (!rc) rc = qpki_ocsp_response_builder_sign(b, key, &out, &len);
    if (!rc) fwrite(out, 1, len, stdout);
    else fprintf(stderr, "error: %s\n", qpki_strerror(rc));
    return rc ? 1 : 0;
}
