/* monitor.c — `tribune monitor`: streams the agent's log lines (GET /v1/agent/monitor) to stdout
 * as they arrive, until Ctrl-C (exit 0) or the agent goes away (exit 1). */
#include "cli/cli.h"

#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "cli/remote.h"

static const char usage[] =
    "Usage: tribune monitor [options]\n\n"
    "  Shows recent log messages of a Tribune agent, and attaches to the agent,\n"
    "  outputting log messages as they occur in real time. The monitor lets you\n"
    "  listen for log levels that may be filtered out of the agent's own output.\n\n"
    "Options:\n\n" CLI_REMOTE_ADDR_USAGE
    "  -log-level=info            Log level of the agent.\n";

enum { F_ADDR, F_LEVEL };
static const struct flags_spec specs[] = {
    [F_ADDR] = CLI_REMOTE_ADDR_FLAG,
    [F_LEVEL] = {"log-level", FLAGS_VALUE, "<level>", "log level of the agent", NULL},
};
#define NSPECS (sizeof specs / sizeof specs[0])

struct sink {
    bool got;     /* the stream started: a failure from now on is the agent going away */
    bool broken;  /* stdout refused a write */
};

static int on_body(void *ctx, const uint8_t *p, size_t n)
{
    struct sink *s = ctx;
    s->got = true;
    /* Every piece is flushed at once: someone is watching, or a pipe wants lines promptly. */
    if (fwrite(p, 1, n, stdout) != n || fflush(stdout) != 0) {
        s->broken = true;
        return 1;
    }
    return 0;
}

/* Ctrl-C is the normal way out. Everything received is already flushed, so exiting from the
 * handler (async-signal-safe _exit) loses nothing and needs no flag shared with it. */
static void on_interrupt(int sig)
{
    (void)sig;
    _exit(0);
}

int cli_monitor(int argc, char **argv)
{
    struct flags_value fv[NSPECS];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, NSPECS, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, NSPECS);
        return rc;
    }
    const char *addr = cli_remote_addr(fv[F_ADDR].last);
    const char *level = fv[F_LEVEL].last != NULL ? fv[F_LEVEL].last : "INFO";
    flags_free(fv, NSPECS);
    char target[256] = "/v1/agent/monitor?loglevel=";
    size_t pre = strlen(target);
    if (level[0] == '\0' || cli_remote_escape(level, target + pre, sizeof target - pre) != 0) {
        fprintf(stderr, "Error starting monitor: invalid log level: \"%.32s\"\n", level);
        return 1;
    }

    struct sigaction sa = {.sa_handler = on_interrupt};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sink s = {0};
    struct http_client_resp resp;
    char err[512];
    rc = http_client_stream(addr, "GET", target, NULL, 0, NULL, 0, NULL, on_body, &s, &resp, err,
                            sizeof err);
    int ret = 1;
    if (rc != 0 && !s.got && !http_parser_started(&resp.p)) {
        fprintf(stderr, "Error connecting to tribune agent: %s\n", err);
    } else if (rc == 0 && (resp.status < 200 || resp.status >= 300)) {
        char text[512];
        cli_remote_status_text(&resp, text, sizeof text);
        fprintf(stderr, "Error starting monitor: %s\n", text);
    } else if (s.broken) {
        ret = 0; /* our reader went away (| head): nothing left to do */
    } else {
        fprintf(stderr, "Remote side ended the monitor! This usually means that the "
                        "remote side has exited or crashed.\n");
    }
    http_client_resp_free(&resp);
    return ret;
}
