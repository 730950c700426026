/* remote.c — the plumbing shared by the commands that talk to a running agent over HTTP: its
 * address, flags, one request, and turning failures into Consul's one-line error texts. */
#include "cli/remote.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *cli_remote_addr(const char *flag_value)
{
    if (flag_value != NULL)
        return flag_value;
    const char *env = getenv("TRIBUNE_HTTP_ADDR");
    if (env != NULL && env[0] != '\0')
        return env;
    return CLI_REMOTE_DEFAULT_ADDR;
}

int cli_remote_flags(const char *usage, const struct flags_spec *specs, size_t n, int argc,
                     char **argv, struct flags_value *out, int *rest, int max_args)
{
    char err[256];
    int rc = flags_parse(specs, n, argc, argv, out, rest, err, sizeof err);
    if (rc == FLAGS_HELP) {
        fputs(usage, stdout);
        return 0;
    }
    if (rc == FLAGS_OK && argc - *rest > max_args) {
        snprintf(err, sizeof err, "unexpected argument: %s", argv[*rest + max_args]);
        rc = FLAGS_ERR;
    }
    if (rc == FLAGS_OK) {
        int h = flags_find(specs, n, "http-addr");
        if (h >= 0 && out[h].last != NULL && out[h].last[0] == '\0') {
            snprintf(err, sizeof err, "-http-addr must not be empty");
            rc = FLAGS_ERR;
        }
    }
    if (rc != FLAGS_OK) {
        fprintf(stderr, "%s\n\n%s", err, usage);
        return 1;
    }
    return -1;
}

void cli_remote_sanitize(const char *s, size_t n, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[o++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    out[o] = '\0';
}

void cli_remote_status_text(const struct http_client_resp *resp, char *text, size_t textlen)
{
    const char *b = resp->body != NULL ? resp->body : "";
    size_t n = resp->body != NULL ? resp->body_len : 0;
    while (n > 0 && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' '))
        n--;
    if (n == 0)
        snprintf(text, textlen, "Unexpected response code: %d", resp->status);
    else
        cli_remote_sanitize(b, n, text, textlen);
}

int cli_remote_do(const char *addr, const char *method, const char *target,
                  struct http_client_resp *resp, char *text, size_t textlen)
{
    struct http_client_opts opts = {.io_timeout_ms = CLI_REMOTE_IO_TIMEOUT_MS};
    char err[512];
    if (http_client_request(addr, method, target, NULL, 0, NULL, 0, &opts, resp, err,
                            sizeof err) != 0) {
        fprintf(stderr, "Error connecting to tribune agent: %s\n", err);
        return CLI_REMOTE_UNREACH;
    }
    if (resp->status >= 200 && resp->status < 300)
        return CLI_REMOTE_OK;
    cli_remote_status_text(resp, text, textlen);
    return CLI_REMOTE_STATUS;
}

int cli_remote_escape(const char *s, char *out, size_t outlen)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     strchr("-._~:@[]", c) != NULL;
        size_t need = plain ? 1 : 3;
        if (o + need >= outlen)
            return -1;
        if (plain) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    if (o >= outlen)
        return -1;
    out[o] = '\0';
    return 0;
}

int cli_remote_put_simple(const char *usage, int argc, char **argv, const char *target,
                          const char *err_prefix, const char *ok_text)
{
    const struct flags_spec specs[] = {CLI_REMOTE_ADDR_FLAG};
    struct flags_value fv[1];
    int rest = 0;
    int rc = cli_remote_flags(usage, specs, 1, argc, argv, fv, &rest, 0);
    if (rc >= 0) {
        flags_free(fv, 1);
        return rc;
    }
    struct http_client_resp resp;
    char text[512];
    rc = cli_remote_do(cli_remote_addr(fv[0].last), "PUT", target, &resp, text, sizeof text);
    http_client_resp_free(&resp);
    flags_free(fv, 1);
    if (rc == CLI_REMOTE_UNREACH)
        return 1;
    if (rc == CLI_REMOTE_STATUS) {
        fprintf(stderr, "%s: %s\n", err_prefix, text);
        return 1;
    }
    puts(ok_text);
    return 0;
}
