/* config.c — the agent's flags, defaults and validation: merges defaults, -dev, config files and
 * flags (in that order of precedence) and turns the result into a checked struct agent_config. */
#include "agent/config_impl.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "base/flags.h"

enum {
    F_SERVER, F_BOOTSTRAP, F_EXPECT, F_DATA_DIR, F_BIND, F_ADVERTISE, F_CLIENT, F_NODE, F_DC,
    F_JOIN, F_RETRY_JOIN, F_RETRY_INTERVAL, F_RETRY_MAX, F_REJOIN, F_CONFIG_FILE, F_CONFIG_DIR,
    F_LOG_LEVEL, F_PID_FILE, F_DEV, F_COUNT
};

static const struct flags_spec agent_flags[F_COUNT] = {
    [F_SERVER] = {"server", FLAGS_BOOL, NULL, "Switches the agent to server mode.", NULL},
    [F_BOOTSTRAP] = {"bootstrap", FLAGS_BOOL, NULL, "Sets the server into bootstrap mode.", NULL},
    [F_EXPECT] = {"bootstrap-expect", FLAGS_VALUE, "0",
                  "Sets the server into bootstrap-expect mode: waits for this many servers.", NULL},
    [F_DATA_DIR] = {"data-dir", FLAGS_VALUE, "path", "Path to the data directory for state.", NULL},
    [F_BIND] = {"bind", FLAGS_VALUE, "0.0.0.0", "Address to bind the cluster ports to.", NULL},
    [F_ADVERTISE] = {"advertise", FLAGS_VALUE, "addr",
                     "Address to advertise instead of the bind address.", NULL},
    [F_CLIENT] = {"client", FLAGS_VALUE, "127.0.0.1",
                  "Address to bind client interfaces (HTTP, DNS) to.", NULL},
    [F_NODE] = {"node", FLAGS_VALUE, "hostname", "Name of this node. Must be unique in the cluster.",
                NULL},
    [F_DC] = {"dc", FLAGS_VALUE, "dc1", "Datacenter of the agent.", NULL},
    [F_JOIN] = {"join", FLAGS_LIST, "1.2.3.4",
                "Address of an agent to join at start time. Can be specified multiple times.", NULL},
    [F_RETRY_JOIN] = {"retry-join", FLAGS_LIST, "1.2.3.4",
                      "Address of an agent to join, retried until it succeeds. Repeatable.", NULL},
    [F_RETRY_INTERVAL] = {"retry-interval", FLAGS_VALUE, "30s", "Time to wait between join attempts.",
                          NULL},
    [F_RETRY_MAX] = {"retry-max", FLAGS_VALUE, "0",
                     "Maximum number of join attempts. 0 retries forever.", NULL},
    [F_REJOIN] = {"rejoin", FLAGS_BOOL, NULL,
                  "Ignores a previous leave and attempts to rejoin the cluster.", NULL},
    [F_CONFIG_FILE] = {"config-file", FLAGS_LIST, "foo",
                       "JSON configuration file to load. Can be specified multiple times.", NULL},
    [F_CONFIG_DIR] = {"config-dir", FLAGS_LIST, "foo",
                      "Directory of *.json files to load, in lexical order. Repeatable.",
                      "config-file"},
    [F_LOG_LEVEL] = {"log-level", FLAGS_VALUE, "info", "Log level of the agent.", NULL},
    [F_PID_FILE] = {"pid-file", FLAGS_VALUE, "path", "Path to file to store agent PID.", NULL},
    [F_DEV] = {"dev", FLAGS_BOOL, NULL,
               "Development mode: a bootstrapped server on 127.0.0.1 with a throw-away data dir.",
               NULL},
};

void agent_config_usage(FILE *f)
{
    fputs("Usage: tribune agent [options]\n\n"
          "  Starts the Tribune agent and runs until an interrupt is received. The agent\n"
          "  represents a single node in a cluster.\n\n"
          "Options:\n\n",
          f);
    flags_print_usage(agent_flags, F_COUNT, f);
}

void agent_config_free(struct agent_config *cfg)
{
    agent_strlist_free(&cfg->start_join);
    agent_strlist_free(&cfg->retry_join);
    agent_strlist_free(&cfg->files);
    agent_strlist_free(&cfg->warnings);
    agent_strlist_free(&cfg->argv);
}

bool agent_config_is_private_ipv4(const char *addr)
{
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) != 1)
        return false;
    uint32_t v = ntohl(a.s_addr);
    return (v >> 24) == 10 || (v >> 20) == (172u << 4 | 1u) || (v >> 16) == (192u << 8 | 168u);
}

static bool is_ip(const char *s)
{
    unsigned char b[16];
    return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

static bool is_unspecified(const char *s)
{
    return strcmp(s, "0.0.0.0") == 0 || strcmp(s, "::") == 0;
}

static void defaults(struct agent_config_raw *r)
{
    memset(r, 0, sizeof *r);
    r->port_http = 8500;
    r->port_dns = 8600;
    r->port_serf_lan = 8301;
    r->port_server = 8300;
}

/* Consul's DevConfig, layered under the files and flags so they can still override it. */
static int dev_defaults(struct agent_config_raw *r)
{
    r->server = true;
    r->bootstrap = true;
    return agent_config_set_str(&r->bind, "127.0.0.1");
}

static int int_flag(const struct flags_value *v, int which, long long min, long long max,
                    long long *out, char *err, size_t errlen)
{
    if (flags_parse_int(v[which].last, min, max, out) != 0) {
        snprintf(err, errlen, "invalid value \"%s\" for flag -%s: parse error", v[which].last,
                 agent_flags[which].name);
        return AGENT_CONFIG_USAGE;
    }
    return 0;
}

/* Flags sit above every file: only the flags actually given replace what files said. */
static int apply_flags(const struct flags_value *v, struct agent_config_raw *r, char *err,
                       size_t errlen)
{
    static const struct {
        int flag;
        size_t off;
    } bools[] = {
        {F_SERVER, offsetof(struct agent_config_raw, server)},
        {F_BOOTSTRAP, offsetof(struct agent_config_raw, bootstrap)},
        {F_REJOIN, offsetof(struct agent_config_raw, rejoin)},
    }, strs[] = {
        {F_DATA_DIR, offsetof(struct agent_config_raw, data_dir)},
        {F_BIND, offsetof(struct agent_config_raw, bind)},
        {F_ADVERTISE, offsetof(struct agent_config_raw, advertise)},
        {F_CLIENT, offsetof(struct agent_config_raw, client)},
        {F_NODE, offsetof(struct agent_config_raw, node)},
        {F_DC, offsetof(struct agent_config_raw, dc)},
        {F_RETRY_INTERVAL, offsetof(struct agent_config_raw, retry_interval)},
        {F_LOG_LEVEL, offsetof(struct agent_config_raw, log_level)},
        {F_PID_FILE, offsetof(struct agent_config_raw, pid_file)},
    };
    for (size_t i = 0; i < sizeof bools / sizeof bools[0]; i++)
        if (v[bools[i].flag].count > 0)
            *(bool *)((char *)r + bools[i].off) = strcmp(v[bools[i].flag].last, "true") == 0;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (v[strs[i].flag].count > 0 &&
            agent_config_set_str((char **)((char *)r + strs[i].off), v[strs[i].flag].last) != 0)
            goto oom;
    int rc;
    if (v[F_EXPECT].count > 0 &&
        (rc = int_flag(v, F_EXPECT, INT32_MIN, INT32_MAX, &r->bootstrap_expect, err, errlen)) != 0)
        return rc;
    if (v[F_RETRY_MAX].count > 0 &&
        (rc = int_flag(v, F_RETRY_MAX, INT32_MIN, INT32_MAX, &r->retry_max, err, errlen)) != 0)
        return rc;
    for (size_t i = 0; i < v[F_JOIN].count; i++)
        if (agent_strlist_push(&r->start_join, v[F_JOIN].list[i]) != 0)
            goto oom;
    for (size_t i = 0; i < v[F_RETRY_JOIN].count; i++)
        if (agent_strlist_push(&r->retry_join, v[F_RETRY_JOIN].list[i]) != 0)
            goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return AGENT_CONFIG_ERR;
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return AGENT_CONFIG_ERR;
}

static bool valid_dc(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-'))
            return false;
    }
    return true;
}

static int check_port(const char *name, long long v, bool can_disable, int *out, char *err,
                      size_t errlen)
{
    if ((v >= 1 && v <= 65535) || (can_disable && v == -1)) {
        *out = (int)v;
        return 0;
    }
    snprintf(err, errlen, "Invalid port ports.%s = %lld: must be 1-65535%s", name, v,
             can_disable ? ", or -1 to disable" : "");
    return AGENT_CONFIG_ERR;
}

static int copy_addr(char *dst, const char *src, const char *what, char *err, size_t errlen)
{
    if (!is_ip(src)) {
        snprintf(err, errlen, "Invalid %s address \"%.64s\": must be an IPv4 or IPv6 address", what,
                 src);
        return AGENT_CONFIG_ERR;
    }
    snprintf(dst, AGENT_ADDR_MAX, "%s", src);
    return 0;
}

static int warn(struct agent_config *cfg, const char *msg)
{
    return agent_strlist_push(&cfg->warnings, msg);
}

/* Checks run in Consul's order (command/agent/command.go readConfig, then setupLoggers and the
 * agent's address setup) so that a config with several faults reports the same one first. */
static int finalize(const struct agent_config_raw *r, bool dev, const struct agent_host *host,
                    struct agent_config *cfg, char *err, size_t errlen)
{
    if (r->data_dir == NULL || r->data_dir[0] == '\0') {
        if (!dev)
            return fail(err, errlen, "Must specify data directory using -data-dir");
    } else if (strlen(r->data_dir) >= AGENT_PATH_MAX) {
        return fail(err, errlen, "Data directory path is too long");
    } else {
        snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", r->data_dir);
    }
    cfg->dev = dev;

    const char *dc = r->dc ? r->dc : "dc1";
    if (!valid_dc(dc) || strlen(dc) > AGENT_NAME_MAX)
        return fail(err, errlen, "Datacenter must be alpha-numeric with underscores and hypens only");
    snprintf(cfg->datacenter, sizeof cfg->datacenter, "%s", dc);

    cfg->server = r->server;
    cfg->bootstrap = r->bootstrap;
    if (r->bootstrap && !r->server)
        return fail(err, errlen, "Bootstrap mode cannot be enabled when server mode is not enabled");
    if (r->bootstrap_expect < 0 || r->bootstrap_expect > 1000)
        return fail(err, errlen, "Invalid bootstrap_expect: must be between 0 and 1000");
    if (r->bootstrap_expect > 0 && !r->server)
        return fail(err, errlen, "Expect mode cannot be enabled when server mode is not enabled");
    if (r->bootstrap_expect > 0 && r->bootstrap)
        return fail(err, errlen, "Bootstrap cannot be provided with an expected server count");
    cfg->bootstrap_expect = (int)r->bootstrap_expect;
    if (cfg->bootstrap_expect == 1) {
        if (warn(cfg, "WARNING: BootstrapExpect Mode is specified as 1; this is the same as "
                      "Bootstrap mode.") != 0)
            return fail(err, errlen, "out of memory");
        cfg->bootstrap_expect = 0;
        cfg->bootstrap = true;
    }

    const char *lvl = r->log_level ? r->log_level : "info";
    if (log_level_parse(lvl, &cfg->log_level) != 0) {
        char up[64];
        size_t i = 0;
        for (; lvl[i] && i < sizeof up - 1; i++)
            up[i] = (lvl[i] >= 'a' && lvl[i] <= 'z') ? (char)(lvl[i] - 32) : lvl[i];
        up[i] = '\0';
        snprintf(err, errlen,
                 "Invalid log level: %s. Valid log levels are: [TRACE DEBUG INFO WARN ERR]", up);
        return AGENT_CONFIG_ERR;
    }

    int64_t ns = 30000000000LL;
    if (r->retry_interval != NULL && flags_parse_duration(r->retry_interval, &ns) != 0) {
        snprintf(err, errlen, "Error parsing retry interval: time: invalid duration %.64s",
                 r->retry_interval);
        return AGENT_CONFIG_ERR;
    }
    if (ns <= 0)
        return fail(err, errlen, "Error parsing retry interval: must be positive");
    cfg->retry_interval_ms = ns / 1000000 > 0 ? ns / 1000000 : 1;
    if (r->retry_max < 0 || r->retry_max > INT32_MAX)
        return fail(err, errlen, "Invalid retry_max: must be 0 (retry forever) or more");
    cfg->retry_max = (int)r->retry_max;
    cfg->rejoin_after_leave = r->rejoin;
    cfg->leave_on_terminate = r->leave_on_terminate;
    cfg->skip_leave_on_interrupt = r->skip_leave_on_interrupt;

    if (check_port("http", r->port_http, true, &cfg->ports.http, err, errlen) ||
        check_port("dns", r->port_dns, true, &cfg->ports.dns, err, errlen) ||
        check_port("serf_lan", r->port_serf_lan, false, &cfg->ports.serf_lan, err, errlen) ||
        check_port("server", r->port_server, false, &cfg->ports.server, err, errlen))
        return AGENT_CONFIG_ERR;

    if (copy_addr(cfg->bind_addr, r->bind ? r->bind : "0.0.0.0", "bind", err, errlen) ||
        copy_addr(cfg->client_addr, r->client ? r->client : "127.0.0.1", "client", err, errlen))
        return AGENT_CONFIG_ERR;
    if (r->advertise != NULL && r->advertise[0] != '\0') {
        if (copy_addr(cfg->advertise_addr, r->advertise, "advertise", err, errlen))
            return AGENT_CONFIG_ERR;
        if (is_unspecified(cfg->advertise_addr))
            return fail(err, errlen, "Advertise address cannot be 0.0.0.0 or ::");
    } else if (is_unspecified(cfg->bind_addr)) {
        const char *found = NULL;
        for (size_t i = 0; host && i < host->n_ipv4 && !found; i++)
            if (agent_config_is_private_ipv4(host->ipv4[i]))
                found = host->ipv4[i];
        if (found == NULL)
            return fail(err, errlen, "Failed to get advertise address: No private IP address "
                                     "found, and explicit IP not provided");
        snprintf(cfg->advertise_addr, sizeof cfg->advertise_addr, "%s", found);
    } else {
        snprintf(cfg->advertise_addr, sizeof cfg->advertise_addr, "%s", cfg->bind_addr);
    }

    const char *node = r->node ? r->node : (host ? host->hostname : NULL);
    if (node == NULL || node[0] == '\0')
        return fail(err, errlen, "Error determining node name: hostname unknown, use -node");
    if (strlen(node) > AGENT_NAME_MAX)
        return fail(err, errlen, "Node name is too long (more than 128 bytes)");
    for (const char *p = node; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return fail(err, errlen, "Node name must not contain spaces or control characters");
    snprintf(cfg->node_name, sizeof cfg->node_name, "%s", node);

    if (r->pid_file != NULL) {
        if (strlen(r->pid_file) >= AGENT_PATH_MAX)
            return fail(err, errlen, "PID file path is too long");
        snprintf(cfg->pid_file, sizeof cfg->pid_file, "%s", r->pid_file);
    }
    for (size_t i = 0; i < r->start_join.n; i++)
        if (agent_strlist_push(&cfg->start_join, r->start_join.v[i]) != 0)
            return fail(err, errlen, "out of memory");
    for (size_t i = 0; i < r->retry_join.n; i++)
        if (agent_strlist_push(&cfg->retry_join, r->retry_join.v[i]) != 0)
            return fail(err, errlen, "out of memory");

    /* Consul prints these from setupAgent; they are advice, the agent keeps going. */
    if (cfg->bootstrap && warn(cfg, "WARNING: Bootstrap mode enabled! Do not enable unless necessary"))
        return fail(err, errlen, "out of memory");
    if (cfg->bootstrap_expect > 0) {
        char w[96];
        snprintf(w, sizeof w, "WARNING: Expect Mode enabled, expecting %d servers",
                 cfg->bootstrap_expect);
        if (warn(cfg, w) != 0)
            return fail(err, errlen, "out of memory");
    }
    return AGENT_CONFIG_OK;
}

int agent_config_load(int argc, char **argv, const struct agent_host *host,
                      struct agent_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    for (int i = 0; i < argc; i++)
        if (agent_strlist_push(&cfg->argv, argv[i]) != 0)
            return fail(err, errlen, "out of memory");

    struct flags_value v[F_COUNT];
    int rest = 0;
    int rc = flags_parse(agent_flags, F_COUNT, argc, argv, v, &rest, err, errlen);
    if (rc == FLAGS_HELP) {
        flags_free(v, F_COUNT);
        return AGENT_CONFIG_HELP;
    }
    if (rc != FLAGS_OK) {
        flags_free(v, F_COUNT);
        return AGENT_CONFIG_USAGE;
    }
    if (rest < argc) {
        snprintf(err, errlen, "unexpected argument: %s", argv[rest]);
        flags_free(v, F_COUNT);
        return AGENT_CONFIG_USAGE;
    }

    struct agent_config_raw r;
    defaults(&r);
    bool dev = v[F_DEV].count > 0 && strcmp(v[F_DEV].last, "true") == 0;
    rc = AGENT_CONFIG_OK;
    if (dev && dev_defaults(&r) != 0)
        rc = fail(err, errlen, "out of memory");
    /* -config-dir shares -config-file's list, so files load in command-line order. */
    for (size_t i = 0; rc == AGENT_CONFIG_OK && i < v[F_CONFIG_FILE].count; i++)
        if (agent_config_read_path(v[F_CONFIG_FILE].list[i], &r, &cfg->files, err, errlen) != 0)
            rc = AGENT_CONFIG_ERR;
    if (rc == AGENT_CONFIG_OK)
        rc = apply_flags(v, &r, err, errlen);
    if (rc == AGENT_CONFIG_OK)
        rc = finalize(&r, dev, host, cfg, err, errlen);
    agent_config_raw_free(&r);
    flags_free(v, F_COUNT);
    return rc;
}
