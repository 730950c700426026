/* remote.h — what the commands that talk to a running agent share: finding the agent
 * (-http-addr, TRIBUNE_HTTP_ADDR), flag handling, one request to it, and its error texts. */
#ifndef TRIBUNE_CLI_REMOTE_H
#define TRIBUNE_CLI_REMOTE_H

#include <stddef.h>

#include "base/flags.h"
#include "http/client.h"

#define CLI_REMOTE_DEFAULT_ADDR "127.0.0.1:8500"

/* The usage line every remote command prints for -http-addr. */
#define CLI_REMOTE_ADDR_USAGE                                                                      \
    "  -http-addr=127.0.0.1:8500  HTTP address of the tribune agent; the environment\n"          \
    "                             variable TRIBUNE_HTTP_ADDR sets the default.\n"

/* The -http-addr spec, for a command's flag table. */
#define CLI_REMOTE_ADDR_FLAG                                                                       \
    {"http-addr", FLAGS_VALUE, "<addr>", "HTTP address of the tribune agent", NULL}

/* The flag value when given, else a non-empty TRIBUNE_HTTP_ADDR, else 127.0.0.1:8500. */
const char *cli_remote_addr(const char *flag_value);

/* Parses argv against specs into out (release with flags_free whatever happens). -h prints usage
 * on stdout and returns 0; a bad flag, or more than max_args positional arguments, prints the
 * error, an empty line and usage on stderr and returns 1. Otherwise returns -1 and *rest is the
 * index of the first positional argument. */
int cli_remote_flags(const char *usage, const struct flags_spec *specs, size_t n, int argc,
                     char **argv, struct flags_value *out, int *rest, int max_args);

enum {
    CLI_REMOTE_OK = 0,      /* a 2xx answer in resp */
    CLI_REMOTE_UNREACH = -1, /* nobody answered; the error is already on stderr */
    CLI_REMOTE_STATUS = 1,  /* the agent refused: its text in text */
};

/* io_timeout_ms for requests that answer at once; monitor streams with no limit. */
#define CLI_REMOTE_IO_TIMEOUT_MS 60000

/* One request. CLI_REMOTE_UNREACH prints "Error connecting to tribune agent: <reason>" on
 * stderr. CLI_REMOTE_STATUS leaves the agent's one-line error text (its body, trimmed, control
 * characters replaced) or "Unexpected response code: N" in text. resp must be released with
 * http_client_resp_free whatever the result. */
int cli_remote_do(const char *addr, const char *method, const char *target,
                  struct http_client_resp *resp, char *text, size_t textlen);

/* The same text cli_remote_do makes of a refused request, for callers that stream. */
/* A command that takes only -http-addr and PUTs target: prints ok_text on success, or
 * "<err_prefix>: <reason>" on stderr. Returns the exit code. */
int cli_remote_put_simple(const char *usage, int argc, char **argv, const char *target,
                          const char *err_prefix, const char *ok_text);

void cli_remote_status_text(const struct http_client_resp *resp, char *text, size_t textlen);

/* Percent-encodes s as one path segment or query value into out. 0, or -1 when it does not fit. */
int cli_remote_escape(const char *s, char *out, size_t outlen);

/* Copies at most n bytes of s to out (size outlen, always terminated), replacing control
 * characters so text from the network cannot move the terminal's cursor or fake lines. */
void cli_remote_sanitize(const char *s, size_t n, char *out, size_t outlen);

#endif
