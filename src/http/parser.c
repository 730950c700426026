/* parser.c — the HTTP/1.1 message parser: head accumulation with hard bounds, request/status
 * line and header validation, framing (Content-Length, chunked, until-close) and query decoding. */
#include "http/parser.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    S_HEAD,
    S_BODY,
    S_CHUNK_SIZE,
    S_CHUNK_SIZE_LF,
    S_CHUNK_DATA,
    S_CHUNK_CR,
    S_CHUNK_LF,
    S_TRAILER,
    S_EOF_BODY,
    S_DONE,
    S_ERROR,
};

#define CHUNK_LINE_MAX 4096
/* Unused buffers above this are released between messages: one big upload does not pin memory. */
#define KEEP_CAP (64 * 1024)

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {
    {"GET", HTTP_GET},         {"HEAD", HTTP_HEAD},       {"POST", HTTP_POST},
    {"PUT", HTTP_PUT},         {"DELETE", HTTP_DELETE},   {"OPTIONS", HTTP_OPTIONS},
    {"PATCH", HTTP_PATCH},
};

const char *http_method_name(unsigned method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].bit == method)
            return methods[i].name;
    return NULL;
}

const char *http_status_text(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 411: return "Length Required";
    case 413: return "Request Entity Too Large";
    case 414: return "Request URI Too Long";
    case 417: return "Expectation Failed";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
    }
}

void http_parser_init(struct http_parser *p, enum http_parser_kind kind,
                      const struct http_limits *lim)
{
    memset(p, 0, sizeof *p);
    p->kind = kind;
    if (lim != NULL)
        p->lim = *lim;
    if (p->lim.max_head == 0)
        p->lim.max_head = 16 * 1024;
    if (p->lim.max_target == 0)
        p->lim.max_target = 8 * 1024;
    if (p->lim.max_headers == 0 || p->lim.max_headers > HTTP_MAX_HEADERS)
        p->lim.max_headers = HTTP_MAX_HEADERS;
    if (p->lim.max_body == 0)
        p->lim.max_body = 512 * 1024;
    buf_init(&p->head, 0);
    buf_init(&p->strs, 0);
    buf_init(&p->msg.body, 0);
    p->msg.content_length = -1;
}

void http_parser_free(struct http_parser *p)
{
    buf_free(&p->head);
    buf_free(&p->strs);
    buf_free(&p->msg.body);
}

static void shrink(struct buf *b)
{
    if (b->cap > KEEP_CAP)
        buf_free(b);
    else
        buf_clear(b);
}

void http_parser_reset(struct http_parser *p)
{
    struct buf head = p->head, strs = p->strs, body = p->msg.body;
    enum http_parser_kind kind = p->kind;
    struct http_limits lim = p->lim;
    http_body_fn fn = p->on_body;
    void *fctx = p->body_ctx;
    memset(p, 0, sizeof *p);
    p->kind = kind;
    p->lim = lim;
    p->on_body = fn;
    p->body_ctx = fctx;
    p->head = head;
    p->strs = strs;
    p->msg.body = body;
    shrink(&p->head);
    shrink(&p->strs);
    shrink(&p->msg.body);
    p->msg.content_length = -1;
}

void http_parser_expect_no_body(struct http_parser *p)
{
    p->no_body = true;
}

void http_parser_set_body_fn(struct http_parser *p, http_body_fn fn, void *ctx)
{
    p->on_body = fn;
    p->body_ctx = ctx;
}

bool http_parser_started(const struct http_parser *p)
{
    return p->state != S_HEAD || p->head.len > 0;
}

static enum http_parse_rc fail(struct http_parser *p, int status, const char *msg)
{
    p->state = S_ERROR;
    p->err_status = status;
    p->err_msg = msg;
    return HTTP_PARSE_ERROR;
}

static enum http_parse_rc too_large(struct http_parser *p)
{
    return fail(p, 413, p->kind == HTTP_PARSE_REQUEST ? "request body too large"
                                                      : "response body too large");
}

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool is_token(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (!is_tchar((unsigned char)*s))
            return false;
    return true;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

long http_pct_decode(const char *src, size_t len, char *dst, bool plus_space)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)src[i];
        if (c == '%') {
            if (len - i < 3)
                return -1;
            int h = hexval((unsigned char)src[i + 1]), l = hexval((unsigned char)src[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = (unsigned char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        if (c == '\0')
            return -1;
        dst[o++] = (char)c;
    }
    dst[o] = '\0';
    return (long)o;
}

/* "HTTP/1.x" -> x, or -1 when it is no HTTP version at all, -2 when another version. */
static int parse_version(const char *v)
{
    if (strncmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' || v[7] < '0' ||
        v[7] > '9' || v[8] != '\0')
        return -1;
    if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
        return -2;
    return v[7] - '0';
}

static enum http_parse_rc decode_target(struct http_parser *p, const char *t)
{
    struct http_message *m = &p->msg;
    size_t tlen = strlen(t);
    /* Decoded text never outgrows its source: path + 1, and per pair key + value + 2. */
    if (buf_reserve(&p->strs, 3 * tlen + 8) != 0)
        return fail(p, 500, "out of memory");
    char *out = (char *)p->strs.data;
    const char *q = strchr(t, '?');
    size_t plen = q ? (size_t)(q - t) : tlen;
    long n = http_pct_decode(t, plen, out, false);
    if (n < 0)
        return fail(p, 400, "invalid escape in request path");
    m->path = out;
    out += n + 1;
    if (q == NULL)
        return HTTP_PARSE_MORE;
    m->query = q + 1;
    const char *s = q + 1;
    while (*s) {
        const char *amp = strchr(s, '&');
        size_t seg = amp ? (size_t)(amp - s) : strlen(s);
        if (seg > 0) {
            if (m->nparams == HTTP_MAX_PARAMS)
                return fail(p, 400, "too many query parameters");
            const char *eq = memchr(s, '=', seg);
            size_t klen = eq ? (size_t)(eq - s) : seg;
            long kn = http_pct_decode(s, klen, out, true);
            if (kn < 0)
                return fail(p, 400, "invalid escape in query string");
            m->params[m->nparams].key = out;
            out += kn + 1;
            if (eq) {
                long vn = http_pct_decode(eq + 1, seg - klen - 1, out, true);
                if (vn < 0)
                    return fail(p, 400, "invalid escape in query string");
                m->params[m->nparams].value = out;
                out += vn + 1;
            } else {
                *out = '\0';
                m->params[m->nparams].value = out++;
            }
            m->nparams++;
        }
        s += seg;
        if (*s == '&')
            s++;
    }
    return HTTP_PARSE_MORE;
}

static enum http_parse_rc parse_request_line(struct http_parser *p, char *line)
{
    struct http_message *m = &p->msg;
    char *sp1 = strchr(line, ' ');
    if (sp1 == NULL)
        return fail(p, 400, "malformed request line");
    *sp1 = '\0';
    char *target = sp1 + 1;
    char *sp2 = strchr(target, ' ');
    if (sp2 == NULL)
        return fail(p, 400, "malformed request line");
    *sp2 = '\0';
    char *version = sp2 + 1;
    if (!is_token(line) || strlen(line) > 16)
        return fail(p, 400, "malformed method");
    if (strlen(target) > p->lim.max_target)
        return fail(p, 414, "request target too long");
    for (const char *c = target; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return fail(p, 400, "invalid character in request target");
    int minor = parse_version(version);
    if (minor == -1)
        return fail(p, 400, "malformed HTTP version");
    if (minor == -2)
        return fail(p, 505, "unsupported HTTP version");
    m->minor = minor;
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(line, methods[i].name) == 0) {
            m->method = methods[i].bit;
            m->method_name = methods[i].name;
        }
    if (m->method == 0)
        return fail(p, 501, "method not implemented");
    if (target[0] != '/')
        return fail(p, 400, "request target must be an absolute path");
    m->target = target;
    return decode_target(p, target);
}

static enum http_parse_rc parse_status_line(struct http_parser *p, char *line)
{
    struct http_message *m = &p->msg;
    char *sp = strchr(line, ' ');
    if (sp == NULL)
        return fail(p, 400, "malformed status line");
    *sp = '\0';
    int minor = parse_version(line);
    if (minor < 0)
        return fail(p, 400, "unsupported HTTP version in response");
    char *code = sp + 1;
    if (code[0] < '1' || code[0] > '5' || code[1] < '0' || code[1] > '9' || code[2] < '0' ||
        code[2] > '9' || (code[3] != ' ' && code[3] != '\0'))
        return fail(p, 400, "malformed status code");
    m->minor = minor;
    m->status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    m->reason = code[3] ? code + 4 : code + 3;
    for (const char *c = m->reason; *c; c++)
        if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
            return fail(p, 400, "invalid character in reason phrase");
    return HTTP_PARSE_MORE;
}

static enum http_parse_rc parse_header_line(struct http_parser *p, char *line)
{
    struct http_message *m = &p->msg;
    if (line[0] == ' ' || line[0] == '\t')
        return fail(p, 400, "obsolete header line folding");
    char *colon = strchr(line, ':');
    if (colon == NULL)
        return fail(p, 400, "malformed header line");
    *colon = '\0';
    if (!is_token(line))
        return fail(p, 400, "malformed header name");
    char *v = colon + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t vl = strlen(v);
    while (vl > 0 && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
        v[--vl] = '\0';
    for (size_t i = 0; i < vl; i++) {
        unsigned char c = (unsigned char)v[i];
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return fail(p, 400, "invalid character in header value");
    }
    if (m->nheaders == p->lim.max_headers)
        return fail(p, 431, "too many header fields");
    m->headers[m->nheaders].name = line;
    m->headers[m->nheaders].value = v;
    m->nheaders++;
    return HTTP_PARSE_MORE;
}

/* Comma-separated list membership, case-insensitive ("keep-alive, Upgrade"). */
static bool list_has(const char *list, const char *tok)
{
    size_t tl = strlen(tok);
    const char *s = list;
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == ',')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == tl && strncasecmp(s, tok, tl) == 0)
            return true;
        s = e;
    }
    return false;
}

static enum http_parse_rc frame(struct http_parser *p)
{
    struct http_message *m = &p->msg;
    bool req = p->kind == HTTP_PARSE_REQUEST;
    bool close = false, ka = false, te = false;
    int hosts = 0;
    for (size_t i = 0; i < m->nheaders; i++) {
        const char *n = m->headers[i].name, *v = m->headers[i].value;
        if (strcasecmp(n, "Content-Length") == 0) {
            size_t dl = strlen(v);
            if (dl == 0 || dl > 18 || strspn(v, "0123456789") != dl)
                return fail(p, 400, "invalid Content-Length");
            int64_t cl = strtoll(v, NULL, 10);
            if (m->content_length >= 0 && m->content_length != cl)
                return fail(p, 400, "conflicting Content-Length headers");
            m->content_length = cl;
        } else if (strcasecmp(n, "Transfer-Encoding") == 0) {
            if (te || strcasecmp(v, "chunked") != 0)
                return fail(p, 501, "unsupported transfer encoding");
            te = true;
        } else if (strcasecmp(n, "Connection") == 0) {
            close |= list_has(v, "close");
            ka |= list_has(v, "keep-alive");
        } else if (strcasecmp(n, "Host") == 0) {
            hosts++;
        } else if (req && strcasecmp(n, "Expect") == 0) {
            if (strcasecmp(v, "100-continue") != 0)
                return fail(p, 417, "unsupported expectation");
            m->expect_continue = m->minor == 1;
        }
    }
    m->keep_alive = !close && (m->minor == 1 || ka);
    if (req) {
        if (m->minor == 1 && hosts == 0)
            return fail(p, 400, "missing required Host header");
        if (hosts > 1)
            return fail(p, 400, "too many Host headers");
        if (te && m->minor == 0)
            return fail(p, 400, "chunked encoding in an HTTP/1.0 request");
        /* Both at once is how requests are smuggled past proxies: refuse rather than pick one. */
        if (te && m->content_length >= 0)
            return fail(p, 400, "both Transfer-Encoding and Content-Length");
    } else {
        if (te)
            m->content_length = -1;
        if (p->no_body || m->status < 200 || m->status == 204 || m->status == 304) {
            p->state = S_DONE;
            return HTTP_PARSE_DONE;
        }
    }
    m->chunked = te;
    if (te) {
        p->state = S_CHUNK_SIZE;
        return HTTP_PARSE_MORE;
    }
    if (m->content_length > 0) {
        if (p->on_body == NULL && (uint64_t)m->content_length > p->lim.max_body)
            return too_large(p);
        p->remaining = (uint64_t)m->content_length;
        p->state = S_BODY;
        return HTTP_PARSE_MORE;
    }
    if (!req && m->content_length < 0) {
        p->until_eof = true;
        m->keep_alive = false;
        p->state = S_EOF_BODY;
        return HTTP_PARSE_MORE;
    }
    p->state = S_DONE;
    return HTTP_PARSE_DONE;
}

/* The head is complete in p->head: cut it into lines and fields in place. */
static enum http_parse_rc parse_head(struct http_parser *p)
{
    if (buf_append(&p->head, "", 1) != 0)
        return fail(p, 500, "out of memory");
    char *s = (char *)p->head.data;
    char *end = s + p->head.len - 1;
    bool first = true;
    while (s < end) {
        char *nl = memchr(s, '\n', (size_t)(end - s));
        if (nl == NULL)
            break;
        *nl = '\0';
        if (nl > s && nl[-1] == '\r')
            nl[-1] = '\0';
        if (*s == '\0')
            break;
        for (char *c = s; *c; c++)
            if (*c == '\r')
                return fail(p, 400, "bare CR in header section");
        enum http_parse_rc rc;
        if (first)
            rc = p->kind == HTTP_PARSE_REQUEST ? parse_request_line(p, s) : parse_status_line(p, s);
        else
            rc = parse_header_line(p, s);
        if (rc != HTTP_PARSE_MORE)
            return rc;
        first = false;
        s = nl + 1;
    }
    p->head_done = true;
    return frame(p);
}

static enum http_parse_rc head_byte_limit(struct http_parser *p)
{
    if (p->kind == HTTP_PARSE_REQUEST && p->line_start == 0)
        return fail(p, 414, "request target too long");
    return fail(p, 431, "request header section too large");
}

static enum http_parse_rc feed_head(struct http_parser *p, const uint8_t *d, size_t len,
                                    size_t *i)
{
    while (p->head.len == 0 && *i < len && (d[*i] == '\r' || d[*i] == '\n')) {
        /* Blank lines before a request are tolerated (RFC 9112 2.2), but not forever. */
        if (++p->line_len > p->lim.max_head)
            return fail(p, 400, "too many blank lines");
        (*i)++;
    }
    while (*i < len) {
        /* The first offending byte decides the verdict, wherever the input was cut: bytes past
         * the head's room are never looked at, so a NUL beyond it cannot turn 431 into 400. */
        size_t limit = p->lim.max_head;
        if (p->kind == HTTP_PARSE_REQUEST && p->line_start == 0 &&
            p->lim.max_target + 32 < limit)
            limit = p->lim.max_target + 32; /* the request line: method, target, version */
        const uint8_t *nl = memchr(d + *i, '\n', len - *i);
        size_t take = nl ? (size_t)(nl - (d + *i)) + 1 : len - *i;
        bool over = take > limit - p->head.len;
        if (over)
            take = limit - p->head.len;
        if (memchr(d + *i, '\0', take) != NULL)
            return fail(p, 400, "NUL in header section");
        if (over)
            return head_byte_limit(p);
        if (buf_append(&p->head, d + *i, take) != 0)
            return fail(p, 500, "out of memory");
        *i += take;
        if (nl == NULL)
            return HTTP_PARSE_MORE;
        size_t ll = p->head.len - p->line_start; /* line with its '\n' */
        bool empty = ll == 1 || (ll == 2 && p->head.data[p->line_start] == '\r');
        if (empty && p->line_start > 0)
            return parse_head(p);
        p->line_start = p->head.len;
    }
    return HTTP_PARSE_MORE;
}

static enum http_parse_rc body_take(struct http_parser *p, const uint8_t *d, size_t n)
{
    if (p->on_body != NULL) {
        if (n > 0 && p->on_body(p->body_ctx, d, n) != 0)
            return fail(p, 400, "aborted");
        return HTTP_PARSE_MORE;
    }
    if (n > p->lim.max_body - p->msg.body.len)
        return too_large(p);
    if (buf_append(&p->msg.body, d, n) != 0)
        return fail(p, 500, "out of memory");
    return HTTP_PARSE_MORE;
}

static enum http_parse_rc chunk_size_byte(struct http_parser *p, uint8_t c)
{
    if (++p->line_len > CHUNK_LINE_MAX)
        return fail(p, 400, "chunk size line too long");
    int h = hexval(c);
    if (!p->chunk_ext && h >= 0) {
        if (++p->chunk_digits > 15)
            return fail(p, 400, "chunk size too large");
        p->chunk_size = p->chunk_size * 16 + (uint64_t)h;
        return HTTP_PARSE_MORE;
    }
    if (c == '\r') {
        p->state = S_CHUNK_SIZE_LF;
        return HTTP_PARSE_MORE;
    }
    if (c == '\n') {
        if (p->chunk_digits == 0)
            return fail(p, 400, "missing chunk size");
        p->line_len = 0;
        p->chunk_ext = false;
        p->chunk_digits = 0;
        if (p->chunk_size == 0) {
            p->state = S_TRAILER;
            return HTTP_PARSE_MORE;
        }
        if (p->on_body == NULL && p->chunk_size > p->lim.max_body - p->msg.body.len)
            return too_large(p);
        p->remaining = p->chunk_size;
        p->chunk_size = 0;
        p->state = S_CHUNK_DATA;
        return HTTP_PARSE_MORE;
    }
    if (p->chunk_digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
        p->chunk_ext = true;
        return HTTP_PARSE_MORE;
    }
    if (p->chunk_ext && (c >= 0x20 || c == '\t') && c != 0x7f)
        return HTTP_PARSE_MORE;
    return fail(p, 400, "malformed chunk size");
}

static enum http_parse_rc trailer_byte(struct http_parser *p, uint8_t c)
{
    if (++p->trailer_bytes > p->lim.max_head)
        return fail(p, 431, "trailer section too large");
    if (c == '\n') {
        if (p->line_len == 0) {
            p->state = S_DONE;
            return HTTP_PARSE_DONE;
        }
        if (++p->trailer_lines > p->lim.max_headers)
            return fail(p, 431, "too many trailer fields");
        p->line_len = 0;
        return HTTP_PARSE_MORE;
    }
    if (c != '\r')
        p->line_len++;
    if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
        return fail(p, 400, "invalid character in trailer");
    return HTTP_PARSE_MORE;
}

enum http_parse_rc http_parser_feed(struct http_parser *p, const uint8_t *data, size_t len,
                                    size_t *used)
{
    size_t i = 0;
    enum http_parse_rc rc = HTTP_PARSE_MORE;
    if (p->state == S_DONE || p->state == S_ERROR) {
        *used = 0;
        return p->state == S_DONE ? HTTP_PARSE_DONE : HTTP_PARSE_ERROR;
    }
    while (rc == HTTP_PARSE_MORE && i < len) {
        switch (p->state) {
        case S_HEAD:
            rc = feed_head(p, data, len, &i);
            break;
        case S_BODY:
        case S_CHUNK_DATA: {
            size_t n = len - i;
            if (n > p->remaining)
                n = (size_t)p->remaining;
            rc = body_take(p, data + i, n);
            i += n;
            p->remaining -= n;
            if (rc == HTTP_PARSE_MORE && p->remaining == 0) {
                if (p->state == S_BODY) {
                    p->state = S_DONE;
                    rc = HTTP_PARSE_DONE;
                } else {
                    p->state = S_CHUNK_CR;
                }
            }
            break;
        }
        case S_CHUNK_SIZE:
            rc = chunk_size_byte(p, data[i++]);
            break;
        case S_CHUNK_SIZE_LF:
            if (data[i++] != '\n') {
                rc = fail(p, 400, "bare CR in chunk size line");
            } else {
                p->state = S_CHUNK_SIZE;
                rc = chunk_size_byte(p, '\n');
            }
            break;
        case S_CHUNK_CR: {
            uint8_t c = data[i++];
            if (c == '\r')
                p->state = S_CHUNK_LF;
            else if (c == '\n')
                p->state = S_CHUNK_SIZE;
            else
                rc = fail(p, 400, "chunk data longer than its size");
            break;
        }
        case S_CHUNK_LF:
            if (data[i++] != '\n')
                rc = fail(p, 400, "chunk data longer than its size");
            else
                p->state = S_CHUNK_SIZE;
            break;
        case S_TRAILER:
            rc = trailer_byte(p, data[i++]);
            break;
        case S_EOF_BODY:
            rc = body_take(p, data + i, len - i);
            i = len;
            break;
        default:
            rc = HTTP_PARSE_ERROR;
            break;
        }
    }
    *used = i;
    return rc;
}

enum http_parse_rc http_parser_eof(struct http_parser *p)
{
    if (p->state == S_DONE)
        return HTTP_PARSE_DONE;
    if (p->state == S_EOF_BODY) {
        p->state = S_DONE;
        return HTTP_PARSE_DONE;
    }
    if (p->state == S_ERROR)
        return HTTP_PARSE_ERROR;
    return fail(p, 400, "unexpected EOF");
}

const char *http_msg_header(const struct http_message *m, const char *name)
{
    for (size_t i = 0; i < m->nheaders; i++)
        if (strcasecmp(m->headers[i].name, name) == 0)
            return m->headers[i].value;
    return NULL;
}

bool http_msg_param(const struct http_message *m, const char *key, const char **value)
{
    for (size_t i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].key, key) == 0) {
            if (value != NULL)
                *value = m->params[i].value;
            return true;
        }
    return false;
}
