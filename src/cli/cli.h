/* cli.h — the commands `tribune <command>` dispatches to, one file each (src/cli/<command>.c),
 * and the conventions they share: usage on -h (stdout, exit 0), errors on stderr, exit 1. */
#ifndef TRIBUNE_CLI_CLI_H
#define TRIBUNE_CLI_CLI_H

#include <stdio.h>

/* A command receives the arguments after its name (argv[0] is the first of them). Returns the
 * process exit code. */
typedef int (*cli_main_fn)(int argc, char **argv);

struct cli_command {
    const char *name;
    const char *synopsis; /* one line for `tribune -h` */
    cli_main_fn run;
};

int cli_agent(int argc, char **argv);
int cli_force_leave(int argc, char **argv);
int cli_info(int argc, char **argv);
int cli_join(int argc, char **argv);
int cli_keygen(int argc, char **argv);
int cli_leave(int argc, char **argv);
int cli_members(int argc, char **argv);
int cli_monitor(int argc, char **argv);
int cli_operator(int argc, char **argv);
int cli_reload(int argc, char **argv);
int cli_version(int argc, char **argv);

/* For commands that take no flags or arguments: handles -h (prints usage, returns 0), an
 * unknown flag or stray argument (error and usage on stderr, returns 1). Returns -1 when the
 * command should go ahead. */
int cli_no_options(const char *usage, int argc, char **argv);

#endif
