/* SPDX-License-Identifier: Apache-2.0 */
/* cli/qpki.c - `qpki <group> <command> [options]`: finds the subcommand in the
 * table built from commands.def and runs it. */
#include <stdio.h>
#include <string.h>

#include <qpki/version.h>

#include "cli.h"

struct command {
    const char *group;
    const char *name;
    int (*func)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
#define QPKI_COMMAND(group, name, func, summary) { group, name, func, summary },
#include "commands.def"
#undef QPKI_COMMAND
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void list_commands(FILE *f, const char *group)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (group && strcmp(group, commands[i].group) != 0)
            continue;
        char both[64];
        snprintf(both, sizeof(both), "%s %s", commands[i].group, commands[i].name);
        fprintf(f, "  %-22s %s\n", both, commands[i].summary);
    }
}

static int usage(FILE *f, int code)
{
    fprintf(f,
            "Usage: qpki <group> <command> [options]\n"
            "       qpki <group> <command> --help\n"
            "       qpki --version | qpki version [--verbose]\n"
            "\n"
            "OCSP responder toolkit (libqpki-ocsp %s).\n"
            "\n"
            "Commands:\n",
            qpki_version_string());
    list_commands(f, NULL);
    fprintf(f, "\nExit status: 0 success, 1 verification failed, 2 usage or input error.\n"
               "See qpki(1) and qpki-<group>-<command>(1).\n");
    return code;
}

static bool group_exists(const char *group)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(group, commands[i].group) == 0)
            return true;
    return false;
}

/* What qpki takes before a group: the options and words main() tests for. */
static const char *const top_level_words[] = {"--help", "-h", "help", "--version", "version"};

/* `qpki __options`: the command words (one "command GROUP NAME" or "command NAME"
 * line each) and the top-level words ("top WORD"); `qpki __options GROUP NAME`: that
 * command's option table (cli_dump_options).  For cli/completion/gen_completion.py. */
static int dump_commands(void)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        printf("command %s %s\n", commands[i].group, commands[i].name);
    printf("command version\n");
    for (size_t i = 0; i < sizeof top_level_words / sizeof top_level_words[0]; i++)
        printf("top %s\n", top_level_words[i]);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    static char prog[64] = "qpki";
    cli_prog = prog;
    if (argc >= 2 && !strcmp(argv[1], "__options")) {
        if (argc == 2)
            return dump_commands();
        cli_dump_options = true;
        argc--;
        argv++;
    }
    if (argc < 2)
        return usage(stderr, CLI_USAGE);
    if (!strcmp(argv[1], top_level_words[0]) || !strcmp(argv[1], top_level_words[1]) ||
        !strcmp(argv[1], top_level_words[2]))
        return usage(stdout, CLI_OK);
    if (!strcmp(argv[1], top_level_words[3]) || !strcmp(argv[1], top_level_words[4])) {
        snprintf(prog, sizeof(prog), "qpki version");
        cli_getopt_reset();
        /* `qpki --version [--verbose]` is `qpki version [--verbose]` */
        return cmd_version(argc - 1, argv + 1);
    }
    const char *group = argv[1];
    if (!group_exists(group)) {
        fprintf(stderr, "qpki: unknown command '%s'\n", group);
        return usage(stderr, CLI_USAGE);
    }
    if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
        FILE *f = argc < 3 ? stderr : stdout;
        fprintf(f, "Usage: qpki %s <command> [options]\n\nCommands:\n", group);
        list_commands(f, group);
        return argc < 3 ? CLI_USAGE : CLI_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(group, commands[i].group) == 0 && strcmp(argv[2], commands[i].name) == 0) {
            snprintf(prog, sizeof(prog), "qpki %s %s", group, argv[2]);
            cli_getopt_reset();
            return commands[i].func(argc - 2, argv + 2);
        }
    }
    fprintf(stderr, "qpki: unknown command '%s %s'\n\nCommands of '%s':\n", group, argv[2],
            group);
    list_commands(stderr, group);
    return CLI_USAGE;
}
