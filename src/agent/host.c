/* host.c — the host facts agent configuration depends on (hostname, IPv4 addresses of interfaces
 * that are up), gathered once so that config resolution itself stays a pure, testable function. */
#include "agent/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int agent_host_probe(struct agent_host *host, char *err, size_t errlen)
{
    memset(host, 0, sizeof *host);
    char name[256];
    if (gethostname(name, sizeof name) == 0) {
        name[sizeof name - 1] = '\0';
        host->hostname = strdup(name);
    }
    struct ifaddrs *ifs;
    if (getifaddrs(&ifs) != 0) {
        snprintf(err, errlen, "Failed to list network interfaces: %s", strerror(errno));
        agent_host_free(host);
        return -1;
    }
    size_t n = 0;
    for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
        n++;
    char **v = calloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (struct ifaddrs *i = ifs; v && i; i = i->ifa_next) {
        if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET || !(i->ifa_flags & IFF_UP))
            continue;
        char buf[INET_ADDRSTRLEN];
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)i->ifa_addr;
        if (inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof buf) != NULL && (v[k] = strdup(buf)))
            k++;
    }
    freeifaddrs(ifs);
    if (v == NULL) {
        snprintf(err, errlen, "Failed to list network interfaces: out of memory");
        agent_host_free(host);
        return -1;
    }
    host->ipv4 = (const char *const *)v;
    host->n_ipv4 = k;
    return 0;
}

void agent_host_free(struct agent_host *host)
{
    free((char *)host->hostname);
    if (host->ipv4 != NULL)
        for (size_t i = 0; i < host->n_ipv4; i++)
            free((char *)host->ipv4[i]);
    free((void *)host->ipv4);
    memset(host, 0, sizeof *host);
}
