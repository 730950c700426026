/* main.c — the command table: `tribune <command> [flags]` dispatches to src/cli/<command>.c.
 * Adding a command is one line in the table below; `tribune -h` lists exactly what is here. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct cli_command commands[] = {
    {"agent", "Runs a Tribune agent", cli_agent},
    {"force-leave", "Forces a member of the cluster to enter the \"left\" state", cli_force_leave},
    {"info", "Provides debugging information for operators", cli_info},
    {"join", "Tell Tribune agent to join cluster", cli_join},
    {"keygen", "Generates a new encryption key", cli_keygen},
    {"leave", "Gracefully leaves the Tribune cluster and shuts down", cli_leave},
    {"members", "Lists the members of a Tribune cluster", cli_members},
    {"monitor", "Stream logs from a Tribune agent", cli_monitor},
    {"operator", "Provides cluster-level tools for Tribune operators", cli_operator},
    {"reload", "Triggers the agent to reload configuration files", cli_reload},
    {"version", "Prints the Tribune version", cli_version},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fputs("Usage: tribune [--version] [--help] <command> [<args>]\n\nAvailable commands are:\n", f);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "    %-13s %s\n", commands[i].name, commands[i].synopsis);
    fputs("\nRun `tribune <command> -h` for a command's options.\n", f);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "-help") == 0 || strcmp(cmd, "--help") == 0) {
        usage(stdout);
        return 0;
    }
    /* Consul turned -v and --version into the version command. */
    if (strcmp(cmd, "-v") == 0 || strcmp(cmd, "-version") == 0 || strcmp(cmd, "--version") == 0)
        cmd = "version";
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    if (cmd[0] == '-')
        fprintf(stderr, "tribune: unknown flag: %s\n\n", cmd);
    else
        fprintf(stderr, "tribune: unknown command: %s\n\n", cmd);
    usage(stderr);
    return 1;
}
