/* config.h — the agent's configuration: Consul's flags and JSON keys, their defaults, merge order
 * (defaults < -dev < files in order < flags) and validation, resolved into one plain struct. */
#ifndef TRIBUNE_AGENT_CONFIG_H
#define TRIBUNE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/log.h"

#define AGENT_ADDR_MAX 46  /* INET6_ADDRSTRLEN */
#define AGENT_NAME_MAX 128 /* node and datacenter names */
#define AGENT_PATH_MAX 4096
#define AGENT_CONFIG_FILE_MAX (1u << 20) /* a bigger config file is refused, not read */

struct agent_ports {
    int http;     /* 8500; -1 disables */
    int dns;      /* 8600; -1 disables */
    int serf_lan; /* 8301 */
    int server;   /* 8300, Raft and server RPC */
};

struct agent_strlist {
    char **v;
    size_t n;
};

/* Fully validated: every address is an IP literal, the advertise address is resolved. */
struct agent_config {
    bool server;
    bool bootstrap;
    int bootstrap_expect; /* 0 = off; 1 was turned into bootstrap with a warning */
    bool dev;             /* data_dir empty: the agent makes a throw-away one */
    char data_dir[AGENT_PATH_MAX];
    char bind_addr[AGENT_ADDR_MAX];
    char advertise_addr[AGENT_ADDR_MAX];
    char client_addr[AGENT_ADDR_MAX];
    char node_name[AGENT_NAME_MAX + 1];
    char datacenter[AGENT_NAME_MAX + 1];
    struct agent_strlist start_join; /* files and flags append, as in Consul */
    struct agent_strlist retry_join;
    int64_t retry_interval_ms;       /* 30s */
    int retry_max;                   /* 0 = forever */
    bool rejoin_after_leave;
    enum log_level log_level;        /* INFO */
    char pid_file[AGENT_PATH_MAX];   /* empty = none */
    struct agent_ports ports;
    bool leave_on_terminate;
    bool skip_leave_on_interrupt;
    struct agent_strlist files;      /* the config files actually read, in order */
    struct agent_strlist warnings;   /* "WARNING: ..." lines for the caller to print */
    struct agent_strlist argv;       /* a copy of the flags, so SIGHUP can resolve again */
};

/* What the host contributes: injected so resolution is testable without the real machine. */
struct agent_host {
    const char *hostname;          /* NULL or "" when unknown */
    const char *const *ipv4;       /* this host's IPv4 addresses, in interface order */
    size_t n_ipv4;
};

/* The agent's flags, for usage output. */
void agent_config_usage(FILE *f);

enum {
    AGENT_CONFIG_OK = 0,
    AGENT_CONFIG_HELP = 1,   /* -h/-help: print usage, exit 0 */
    AGENT_CONFIG_ERR = -1,   /* a configuration error: print "==> <err>", exit 1 */
    AGENT_CONFIG_USAGE = -2, /* a malformed command line: print err and the usage, exit 1 */
};

/* Resolves argv (the flags after "agent") with the host facts into *cfg. Returns one of the codes
 * above, with Consul's one-line message in err (no "==> " prefix). On every return, release cfg
 * with agent_config_free. Reads config files, otherwise pure. */
int agent_config_load(int argc, char **argv, const struct agent_host *host,
                      struct agent_config *cfg, char *err, size_t errlen);

void agent_config_free(struct agent_config *cfg);

/* Decodes one JSON config text as if read from a file called name: 0, or -1 with the one-line
 * message the agent would print. Touches nothing else: for config checks and fuzzing. */
int agent_config_check_json(const char *name, const char *text, size_t len, char *err,
                            size_t errlen);

/* Probes the real host: gethostname and the IPv4 addresses of up interfaces (getifaddrs).
 * Release with agent_host_free. 0, or -1 with err filled. */
int agent_host_probe(struct agent_host *host, char *err, size_t errlen);
void agent_host_free(struct agent_host *host);

/* True for 10/8, 172.16/12, 192.168/16 (the ranges Consul advertises from, RFC 1918). */
bool agent_config_is_private_ipv4(const char *addr);

#endif
