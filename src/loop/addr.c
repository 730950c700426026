/* addr.c — "ip:port" and "[ipv6]:port" parsing and printing for the loop's sockets.
 * Numeric only, on purpose: a name lookup would block the one thread everything runs on. */
#include "loop/net.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "loop/loop_impl.h"

/* Port text: 1 to 5 digits, at most 65535. -1 otherwise. */
static int parse_port(const char *p)
{
    size_t n = strlen(p);
    if (n == 0 || n > 5)
        return -1;
    unsigned v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    return v > 65535 ? -1 : (int)v;
}

int loop_addr_parse(const char *s, struct loop_addr *out, char *err, size_t errlen)
{
    char host[INET6_ADDRSTRLEN];
    const char *port_text;
    bool v6;

    if (s == NULL || *s == '\0') {
        loop_seterr(err, errlen, "empty address (expected ip:port)");
        return -1;
    }
    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (close == NULL || close[1] != ':') {
            loop_seterr(err, errlen, "invalid address \"%.64s\": expected [ipv6]:port", s);
            return -1;
        }
        size_t n = (size_t)(close - s - 1);
        if (n == 0 || n >= sizeof host) {
            loop_seterr(err, errlen, "invalid address \"%.64s\": bad IPv6 address", s);
            return -1;
        }
        memcpy(host, s + 1, n);
        host[n] = '\0';
        port_text = close + 2;
        v6 = true;
    } else {
        const char *colon = strrchr(s, ':');
        if (colon == NULL) {
            loop_seterr(err, errlen, "invalid address \"%.64s\": missing port (expected ip:port)",
                         s);
            return -1;
        }
        if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
            loop_seterr(err, errlen,
                        "invalid address \"%.64s\": IPv6 addresses need brackets ([ip]:port)", s);
            return -1;
        }
        size_t n = (size_t)(colon - s);
        if (n == 0 || n >= sizeof host) {
            loop_seterr(err, errlen, "invalid address \"%.64s\": bad IPv4 address", s);
            return -1;
        }
        memcpy(host, s, n);
        host[n] = '\0';
        port_text = colon + 1;
        v6 = false;
    }

    int port = parse_port(port_text);
    if (port < 0) {
        loop_seterr(err, errlen, "invalid address \"%.64s\": port must be 0-65535", s);
        return -1;
    }
    memset(out, 0, sizeof *out);
    if (v6) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&out->ss;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) {
            loop_seterr(err, errlen, "invalid address \"%.64s\": bad IPv6 address", s);
            return -1;
        }
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        out->len = sizeof *a;
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)&out->ss;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
            loop_seterr(err, errlen,
                        "invalid address \"%.64s\": not a numeric IPv4 address (names are not "
                        "resolved)",
                        s);
            return -1;
        }
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        out->len = sizeof *a;
    }
    return 0;
}

char *loop_addr_format(const struct loop_addr *a, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        snprintf(out, outlen, "[%s]:%u", host, (unsigned)ntohs(v6->sin6_port));
    } else if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        snprintf(out, outlen, "%s:%u", host, (unsigned)ntohs(v4->sin_port));
    } else {
        snprintf(out, outlen, "(unknown family %d)", (int)a->ss.ss_family);
    }
    return out;
}

uint16_t loop_addr_port(const struct loop_addr *a)
{
    if (a->ss.ss_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
    if (a->ss.ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return 0;
}

bool loop_addr_equal(const struct loop_addr *a, const struct loop_addr *b)
{
    if (a->ss.ss_family != b->ss.ss_family)
        return false;
    if (a->ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)&a->ss;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)&b->ss;
        return x->sin6_port == y->sin6_port &&
               memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
    }
    if (a->ss.ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)&a->ss;
        const struct sockaddr_in *y = (const struct sockaddr_in *)&b->ss;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    return false;
}
