/* fuzz_http.c — libFuzzer target for the HTTP parser, ?pretty re-indenter and Go durations: input
 * fed whole or in two pieces (the first byte says where) must agree; messages stay in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/parser.h"
#include "http/query.h"
#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t mix(uint64_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

static uint64_t mix_str(uint64_t h, const char *s)
{
    return s ? mix(h, s, strlen(s) + 1) : mix(h, "\xff", 1);
}

static void check_msg(const struct http_parser *p)
{
    const struct http_message *m = &p->msg;
    if (m->nheaders > HTTP_MAX_HEADERS || m->nparams > HTTP_MAX_PARAMS ||
        m->body.len > p->lim.max_body)
        abort();
    if (p->kind == HTTP_PARSE_REQUEST) {
        if (m->path == NULL || m->path[0] != '/' || m->method_name == NULL ||
            strlen(m->target) > p->lim.max_target)
            abort();
    } else if (m->status < 100 || m->status > 599) {
        abort();
    }
    for (size_t i = 0; i < m->nheaders; i++)
        if (m->headers[i].name[0] == '\0' || strpbrk(m->headers[i].value, "\r\n") != NULL)
            abort();
}

/* Parses everything, as a connection would, and returns a digest of what came out. */
static uint64_t run(enum http_parser_kind kind, const uint8_t *d, size_t n, size_t split)
{
    struct http_limits lim = {.max_head = 2048, .max_target = 512, .max_body = 4096};
    struct http_parser p;
    http_parser_init(&p, kind, &lim);
    uint64_t h = 0xcbf29ce484222325ULL;
    size_t start = 0;
    int rc = HTTP_PARSE_MORE;
    for (int piece = 0; piece < 2 && rc != HTTP_PARSE_ERROR; piece++) {
        size_t end = piece == 0 ? split : n;
        while (start < end) {
            size_t used = 0;
            rc = http_parser_feed(&p, d + start, end - start, &used);
            if (used > end - start)
                abort();
            start += used;
            if (rc == HTTP_PARSE_ERROR) {
                if (p.err_msg == NULL || p.err_status < 400 || p.err_status > 505)
                    abort();
                h = mix(h, &p.err_status, sizeof p.err_status);
                break;
            }
            if (rc == HTTP_PARSE_MORE) {
                if (start != end)
                    abort();
                break;
            }
            check_msg(&p);
            const struct http_message *m = &p.msg;
            h = mix_str(h, m->method_name);
            h = mix_str(h, m->path);
            h = mix(h, &m->status, sizeof m->status);
            h = mix(h, &m->keep_alive, sizeof m->keep_alive);
            for (size_t i = 0; i < m->nparams; i++) {
                h = mix_str(h, m->params[i].key);
                h = mix_str(h, m->params[i].value);
            }
            for (size_t i = 0; i < m->nheaders; i++)
                h = mix_str(mix_str(h, m->headers[i].name), m->headers[i].value);
            h = mix(h, m->body.data, m->body.len);
            http_parser_reset(&p);
        }
    }
    if (rc != HTTP_PARSE_ERROR && http_parser_eof(&p) == HTTP_PARSE_DONE &&
        http_parser_started(&p)) {
        check_msg(&p);
        h = mix(h, p.msg.body.data, p.msg.body.len);
    }
    http_parser_free(&p);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    enum http_parser_kind kind = (sel & 1) ? HTTP_PARSE_RESPONSE : HTTP_PARSE_REQUEST;
    size_t split = size * (sel >> 1) / 127;
    if (run(kind, data, size, size) != run(kind, data, size, split))
        abort();

    struct buf b;
    buf_init(&b, 1 << 20);
    (void)http_json_pretty(data, size, &b);
    buf_free(&b);

    char dur[64];
    size_t dn = size < sizeof dur - 1 ? size : sizeof dur - 1;
    memcpy(dur, data, dn);
    dur[dn] = '\0';
    uint64_t ms;
    if (http_parse_duration(dur, &ms) == 0 && ms > 100ull * 366 * 24 * 3600 * 1000)
        abort();
    return 0;
}
