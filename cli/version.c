/* SPDX-License-Identifier: Apache-2.0 */
/* cli/version.c - `qpki --version` and `qpki version [--verbose]`: what this
 * binary is and runs, for bug reports (qpki_library_info, qpki_plugin_probe). */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <qpki/plugin.h>
#include <qpki/version.h>

#include "cli.h"

static const char help[] =
    "Usage: qpki version [--verbose]\n"
    "       qpki --version\n"
    "\n"
    "Print the versions of qpki, libqpki-ocsp (and its ABI) and wolfSSL, which ML-DSA,\n"
    "P-256 and SHA-256 code runs on this CPU, the plugin directory and which plugins\n"
    "load.\n"
    "\n"
    "Options:\n"
    "  -v, --verbose              also the library file, each plugin's result, the\n"
    "                             machine and the CPU features that choose the code\n"
    "  -h, --help                 this help\n";

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.so files of dir, sorted (malloc'd names); -1 with errno when dir cannot
 * be read. */
static long plugin_files(const char *dir, char ***out)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 3 || strcmp(e->d_name + len - 3, ".so") != 0)
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    *out = names;
    return (long)n;
}

static void print_plugins(bool verbose)
{
    const char *dir = qpki_library_info(QPKI_INFO_PLUGIN_DIR);
    printf("plugin dir: %s%s\n", dir, getenv(QPKI_PLUGIN_DIR_ENV) ? " ($" QPKI_PLUGIN_DIR_ENV ")"
                                                                 : "");
    char **names;
    long n = plugin_files(dir, &names);
    if (n < 0) {
        printf("plugins:    none (%s)\n", strerror(errno));
        return;
    }
    if (n == 0)
        printf("plugins:    none\n");
    for (long i = 0; i < n; i++) {
        char path[4096], info[512];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        qpki_status st = qpki_plugin_probe(path, info, sizeof info);
        if (st == QPKI_OK)
            printf("%s%s loads (%s)\n", i ? "            " : "plugins:    ", names[i], info);
        else if (verbose)
            printf("%s%s does not load: %s\n", i ? "            " : "plugins:    ", names[i],
                   info);
        else
            printf("%s%s does not load (%s; see qpki version --verbose)\n",
                   i ? "            " : "plugins:    ", names[i], qpki_strerror(st));
        free(names[i]);
    }
    free(names);
}

static void print_verbose(void)
{
    Dl_info where;
    if (dladdr((void *)qpki_library_info, &where) && where.dli_fname)
        printf("lib path:   %s\n", where.dli_fname);
    struct utsname u;
    if (uname(&u) == 0)
        printf("machine:    %s %s %s\n", u.sysname, u.release, u.machine);
    char model[256] = "";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            const char *colon = strchr(line, ':');
            if (colon && strncmp(line, "model name", 10) == 0) {
                snprintf(model, sizeof model, "%s", colon + 1 + (colon[1] == ' '));
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    printf("cpu:        %s%savx2 %s\n", model, model[0] ? ", " : "",
           __builtin_cpu_supports("avx2") ? "yes" : "no");
#else
    if (model[0])
        printf("cpu:        %s\n", model);
#endif
#if defined(__clang__)
    printf("compiler:   qpki built by %s\n", __VERSION__);
#elif defined(__GNUC__)
    printf("compiler:   qpki built by GCC %s\n", __VERSION__);
#endif
}

int cmd_version(int argc, char **argv)
{
    static const struct option opts[] = {
        { "verbose", no_argument, NULL, 'v' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    bool verbose = false;
    int c;
    while ((c = cli_getopt(argc, argv, "vh", opts)) != -1) {
        switch (c) {
        case 'v': verbose = true; break;
        case 'h': return cli_help(help);
        default: return CLI_USAGE;
        }
    }
    if (optind < argc)
        return cli_usage_error("unexpected argument '%s'", argv[optind]);
    printf("qpki %s (libqpki-ocsp %s)\n", QPKI_VERSION_STRING, qpki_version_string());
    printf("library:    libqpki-ocsp %s, ABI %s\n", qpki_library_info(QPKI_INFO_VERSION),
           qpki_library_info(QPKI_INFO_ABI));
    printf("wolfSSL:    %s\n", qpki_library_info(QPKI_INFO_WOLFSSL));
    printf("ML-DSA:     %s\n", qpki_library_info(QPKI_INFO_MLDSA));
    printf("P-256:      %s (signing; verification is wolfSSL's)\n",
           qpki_library_info(QPKI_INFO_P256));
    printf("SHA-256:    %s\n", qpki_library_info(QPKI_INFO_SHA256));
    print_plugins(verbose);
    if (verbose)
        print_verbose();
    return CLI_OK;
}
