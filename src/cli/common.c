/* common.c — argument handling shared by the CLI commands, so every command reports -h, unknown
 * flags and stray arguments the same way. */
#include "cli/cli.h"

#include "base/flags.h"

int cli_no_options(const char *usage, int argc, char **argv)
{
    struct flags_value none[1];
    char err[256];
    int rest = 0;
    int rc = flags_parse(NULL, 0, argc, argv, none, &rest, err, sizeof err);
    if (rc == FLAGS_HELP) {
        fputs(usage, stdout);
        return 0;
    }
    if (rc == FLAGS_OK && rest < argc) {
        snprintf(err, sizeof err, "unexpected argument: %s", argv[rest]);
        rc = FLAGS_ERR;
    }
    if (rc == FLAGS_ERR) {
        fprintf(stderr, "%s\n\n%s", err, usage);
        return 1;
    }
    return -1;
}
