/* test_config.c — unit tests for src/agent/config: defaults, Consul's validation errors, address
 * resolution from injected interfaces, config file/dir precedence and decoding errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/config.h"

static const char *const host_ips[] = {"127.0.0.1", "172.32.0.1", "192.168.7.9", "10.0.0.2"};
static const struct agent_host host = {"host-a", host_ips, 4};

struct run {
    struct agent_config cfg;
    char err[512];
    int rc;
};

/* argv is NULL-terminated. */
static void load_with(struct run *r, const struct agent_host *h, char **argv)
{
    int argc = 0;
    while (argv[argc] != NULL)
        argc++;
    r->rc = agent_config_load(argc, argv, h, &r->cfg, r->err, sizeof r->err);
}

static void load(struct run *r, char **argv)
{
    load_with(r, &host, argv);
}

static void expect_error(char **argv, int rc, const char *msg)
{
    struct run r;
    load(&r, argv);
    assert_int_equal(r.rc, rc);
    assert_string_equal(r.err, msg);
    agent_config_free(&r.cfg);
}

static void defaults(void **state)
{
    (void)state;
    struct run r;
    load(&r, (char *[]){"-data-dir=/var/t", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    struct agent_config *c = &r.cfg;
    assert_string_equal(c->data_dir, "/var/t");
    assert_false(c->server);
    assert_false(c->bootstrap);
    assert_false(c->dev);
    assert_int_equal(c->bootstrap_expect, 0);
    assert_string_equal(c->node_name, "host-a");
    assert_string_equal(c->datacenter, "dc1");
    assert_string_equal(c->bind_addr, "0.0.0.0");
    /* 172.32.0.1 is outside 172.16/12: the first private address is 192.168.7.9. */
    assert_string_equal(c->advertise_addr, "192.168.7.9");
    assert_string_equal(c->client_addr, "127.0.0.1");
    assert_int_equal(c->ports.http, 8500);
    assert_int_equal(c->ports.dns, 8600);
    assert_int_equal(c->ports.serf_lan, 8301);
    assert_int_equal(c->ports.server, 8300);
    assert_true(c->retry_interval_ms == 30000);
    assert_int_equal(c->retry_max, 0);
    assert_int_equal(c->log_level, LOG_INFO);
    assert_string_equal(c->pid_file, "");
    assert_int_equal(c->warnings.n, 0);
    assert_int_equal(c->files.n, 0);
    assert_int_equal(c->argv.n, 1);
    assert_string_equal(c->argv.v[0], "-data-dir=/var/t");
    assert_false(c->leave_on_terminate);
    assert_false(c->skip_leave_on_interrupt);
    agent_config_free(c);
}

static void every_flag(void **state)
{
    (void)state;
    struct run r;
    load(&r, (char *[]){"-server", "-bootstrap-expect", "3", "--data-dir", "/d", "-bind=10.1.1.1",
                        "-client", "0.0.0.0", "-node=n1", "-dc=east_2-b", "-join=a", "-join", "b",
                        "-retry-join=c", "-retry-interval=1m30s", "-retry-max=5", "-rejoin",
                        "-log-level=Debug", "-pid-file=/run/t.pid", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    struct agent_config *c = &r.cfg;
    assert_true(c->server);
    assert_false(c->bootstrap);
    assert_int_equal(c->bootstrap_expect, 3);
    assert_string_equal(c->bind_addr, "10.1.1.1");
    assert_string_equal(c->advertise_addr, "10.1.1.1"); /* a specific bind is advertised */
    assert_string_equal(c->client_addr, "0.0.0.0");
    assert_string_equal(c->node_name, "n1");
    assert_string_equal(c->datacenter, "east_2-b");
    assert_int_equal(c->start_join.n, 2);
    assert_string_equal(c->start_join.v[1], "b");
    assert_int_equal(c->retry_join.n, 1);
    assert_true(c->retry_interval_ms == 90000);
    assert_int_equal(c->retry_max, 5);
    assert_true(c->rejoin_after_leave);
    assert_int_equal(c->log_level, LOG_DEBUG);
    assert_string_equal(c->pid_file, "/run/t.pid");
    assert_int_equal(c->warnings.n, 1);
    assert_string_equal(c->warnings.v[0], "WARNING: Expect Mode enabled, expecting 3 servers");
    agent_config_free(c);
}

static void consul_validation_errors(void **state)
{
    (void)state;
    expect_error((char *[]){"-server", NULL}, AGENT_CONFIG_ERR,
                 "Must specify data directory using -data-dir");
    expect_error((char *[]){"-data-dir=/d", "-bootstrap", NULL}, AGENT_CONFIG_ERR,
                 "Bootstrap mode cannot be enabled when server mode is not enabled");
    expect_error((char *[]){"-data-dir=/d", "-bootstrap-expect=3", NULL}, AGENT_CONFIG_ERR,
                 "Expect mode cannot be enabled when server mode is not enabled");
    expect_error((char *[]){"-data-dir=/d", "-server", "-bootstrap", "-bootstrap-expect=3", NULL},
                 AGENT_CONFIG_ERR, "Bootstrap cannot be provided with an expected server count");
    expect_error((char *[]){"-data-dir=/d", "-dc=us.east", NULL}, AGENT_CONFIG_ERR,
                 "Datacenter must be alpha-numeric with underscores and hypens only");
    expect_error((char *[]){"-data-dir=/d", "-dc=", NULL}, AGENT_CONFIG_ERR,
                 "Datacenter must be alpha-numeric with underscores and hypens only");
    expect_error((char *[]){"-data-dir=/d", "-log-level=verbose", NULL}, AGENT_CONFIG_ERR,
                 "Invalid log level: VERBOSE. Valid log levels are: [TRACE DEBUG INFO WARN ERR]");
    expect_error((char *[]){"-data-dir=/d", "-retry-interval=30", NULL}, AGENT_CONFIG_ERR,
                 "Error parsing retry interval: time: invalid duration 30");
    expect_error((char *[]){"-data-dir=/d", "-retry-max=-1", NULL}, AGENT_CONFIG_ERR,
                 "Invalid retry_max: must be 0 (retry forever) or more");
    expect_error((char *[]){"-data-dir=/d", "-bind=localhost", NULL}, AGENT_CONFIG_ERR,
                 "Invalid bind address \"localhost\": must be an IPv4 or IPv6 address");
    expect_error((char *[]){"-data-dir=/d", "-advertise=0.0.0.0", NULL}, AGENT_CONFIG_ERR,
                 "Advertise address cannot be 0.0.0.0 or ::");
    expect_error((char *[]){"-data-dir=/d", "-node=a b", NULL}, AGENT_CONFIG_ERR,
                 "Node name must not contain spaces or control characters");
    /* The first fault in Consul's order wins: data dir before datacenter. */
    expect_error((char *[]){"-dc=x.y", "-bootstrap", NULL}, AGENT_CONFIG_ERR,
                 "Must specify data directory using -data-dir");
}

static void command_line_errors(void **state)
{
    (void)state;
    expect_error((char *[]){"-data-dir=/d", "-bogus", NULL}, AGENT_CONFIG_USAGE,
                 "flag provided but not defined: -bogus");
    expect_error((char *[]){"-data-dir", NULL}, AGENT_CONFIG_USAGE,
                 "flag needs an argument: -data-dir");
    expect_error((char *[]){"-bootstrap-expect=three", NULL}, AGENT_CONFIG_USAGE,
                 "invalid value \"three\" for flag -bootstrap-expect: parse error");
    expect_error((char *[]){"-data-dir=/d", "extra", NULL}, AGENT_CONFIG_USAGE,
                 "unexpected argument: extra");
    struct run r;
    load(&r, (char *[]){"-server", "-help", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_HELP);
    agent_config_free(&r.cfg);
}

static void bootstrap_expect_one_is_bootstrap(void **state)
{
    (void)state;
    struct run r;
    load(&r, (char *[]){"-data-dir=/d", "-server", "-bootstrap-expect=1", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_true(r.cfg.bootstrap);
    assert_int_equal(r.cfg.bootstrap_expect, 0);
    assert_int_equal(r.cfg.warnings.n, 2);
    assert_string_equal(r.cfg.warnings.v[0], "WARNING: BootstrapExpect Mode is specified as 1; "
                                             "this is the same as Bootstrap mode.");
    assert_string_equal(r.cfg.warnings.v[1],
                        "WARNING: Bootstrap mode enabled! Do not enable unless necessary");
    agent_config_free(&r.cfg);
}

static void advertise_resolution(void **state)
{
    (void)state;
    static const char *const public_only[] = {"127.0.0.1", "8.8.8.8", "172.15.255.255"};
    const struct agent_host h = {"h", public_only, 3};
    struct run r;
    load_with(&r, &h, (char *[]){"-data-dir=/d", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_string_equal(r.err, "Failed to get advertise address: No private IP address found, "
                               "and explicit IP not provided");
    agent_config_free(&r.cfg);

    load_with(&r, &h, (char *[]){"-data-dir=/d", "-advertise=8.8.8.8", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_string_equal(r.cfg.advertise_addr, "8.8.8.8");
    assert_string_equal(r.cfg.bind_addr, "0.0.0.0");
    agent_config_free(&r.cfg);

    static const char *const p172[] = {"172.31.255.1"};
    const struct agent_host h2 = {"h", p172, 1};
    load_with(&r, &h2, (char *[]){"-data-dir=/d", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_string_equal(r.cfg.advertise_addr, "172.31.255.1");
    agent_config_free(&r.cfg);

    const struct agent_host nameless = {NULL, p172, 1};
    load_with(&r, &nameless, (char *[]){"-data-dir=/d", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_string_equal(r.err, "Error determining node name: hostname unknown, use -node");
    agent_config_free(&r.cfg);
    load_with(&r, &nameless, (char *[]){"-data-dir=/d", "-node=x", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    agent_config_free(&r.cfg);

    assert_true(agent_config_is_private_ipv4("10.255.0.1"));
    assert_true(agent_config_is_private_ipv4("172.16.0.0"));
    assert_false(agent_config_is_private_ipv4("172.32.0.0"));
    assert_true(agent_config_is_private_ipv4("192.168.0.1"));
    assert_false(agent_config_is_private_ipv4("192.169.0.1"));
    assert_false(agent_config_is_private_ipv4("not-an-ip"));
}

static void dev_mode(void **state)
{
    (void)state;
    struct run r;
    load(&r, (char *[]){"-dev", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_true(r.cfg.dev);
    assert_true(r.cfg.server);
    assert_true(r.cfg.bootstrap);
    assert_string_equal(r.cfg.data_dir, "");
    assert_string_equal(r.cfg.bind_addr, "127.0.0.1");
    assert_string_equal(r.cfg.advertise_addr, "127.0.0.1");
    agent_config_free(&r.cfg);

    expect_error((char *[]){"-dev", "-bootstrap-expect=3", NULL}, AGENT_CONFIG_ERR,
                 "Bootstrap cannot be provided with an expected server count");
    load(&r, (char *[]){"-dev", "-bind=127.0.0.5", "-server=false", "-bootstrap=false", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_false(r.cfg.server);
    assert_string_equal(r.cfg.bind_addr, "127.0.0.5");
    agent_config_free(&r.cfg);
}

/* A scratch directory for config files, removed by the teardown. */
struct scratch {
    char dir[64];
};

static int scratch_setup(void **state)
{
    struct scratch *s = calloc(1, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/test_config.XXXXXX");
    if (mkdtemp(s->dir) == NULL)
        return -1;
    *state = s;
    return 0;
}

static int scratch_teardown(void **state)
{
    struct scratch *s = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    int rc = system(cmd);
    free(s);
    return rc == 0 ? 0 : -1;
}

/* Writes the file into out (256 bytes) and returns out. */
static char *put_file(const struct scratch *s, const char *name, const char *text, char *out)
{
    char *p = out;
    snprintf(p, 256, "%s/%s", s->dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return p;
}

static void file_precedence(void **state)
{
    struct scratch *s = *state;
    char d[128], flag_dir[200], pbuf[256], later[256];
    snprintf(d, sizeof d, "%s/conf.d", s->dir);
    assert_int_equal(mkdir(d, 0700), 0);
    put_file(s, "conf.d/b.json", "{\"datacenter\": \"from_b\", \"node_name\": \"nb\", "
                                 "\"start_join\": [\"b1\"]}", pbuf);
    put_file(s, "conf.d/a.json", "{\"datacenter\": \"from_a\", \"log_level\": \"warn\", "
                                 "\"data_dir\": \"/a\", \"start_join\": [\"a1\"], "
                                 "\"ports\": {\"http\": -1}}", pbuf);
    put_file(s, "conf.d/README", "not json and ignored", pbuf);
    put_file(s, "conf.d/c.json.bak", "{ also ignored", pbuf);
    put_file(s, "later.json", "{\"node_name\": \"nl\", \"server\": true, "
                                            "\"ports\": {\"dns\": 53}}", later);
    char flag_file[300];
    snprintf(flag_dir, sizeof flag_dir, "-config-dir=%s", d);
    snprintf(flag_file, sizeof flag_file, "-config-file=%s", later);

    struct run r;
    load(&r, (char *[]){flag_dir, flag_file, "-dc=from_flag", "-join=f1", NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    struct agent_config *c = &r.cfg;
    assert_string_equal(c->datacenter, "from_flag"); /* flags beat files */
    assert_string_equal(c->node_name, "nl");         /* a later file beats an earlier one */
    assert_int_equal(c->log_level, LOG_WARN);        /* untouched keys survive later files */
    assert_string_equal(c->data_dir, "/a");
    assert_true(c->server);
    assert_int_equal(c->ports.http, -1); /* ports merge key by key */
    assert_int_equal(c->ports.dns, 53);
    assert_int_equal(c->ports.serf_lan, 8301);
    assert_int_equal(c->start_join.n, 3); /* lists append: files in order, then flags */
    assert_string_equal(c->start_join.v[0], "a1");
    assert_string_equal(c->start_join.v[1], "b1");
    assert_string_equal(c->start_join.v[2], "f1");
    assert_int_equal(c->files.n, 3);
    assert_non_null(strstr(c->files.v[0], "conf.d/a.json"));
    assert_non_null(strstr(c->files.v[2], "later.json"));
    agent_config_free(c);

    /* Order is the command line's: the file first, then the directory overriding it. */
    load(&r, (char *[]){flag_file, flag_dir, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_OK);
    assert_string_equal(r.cfg.node_name, "nb");
    agent_config_free(&r.cfg);
}

static void file_errors(void **state)
{
    struct scratch *s = *state;
    char flag[300], pbuf[256];
    struct run r;

    char *p = put_file(s, "unknown.json", "{\"data_dir\": \"/d\",\n  \"bogus_key\": 1}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    char want[512];
    snprintf(want, sizeof want,
             "Error decoding '%s': unknown key \"bogus_key\" (line 2, column 3)", p);
    assert_string_equal(r.err, want);
    agent_config_free(&r.cfg);

    p = put_file(s, "ports.json", "{\"ports\": {\"rpc\": 8400}}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){"-data-dir=/d", flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_non_null(strstr(r.err, "unknown key \"ports.rpc\""));
    agent_config_free(&r.cfg);

    p = put_file(s, "bad.json", "{\n  \"server\": tru\n}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){"-data-dir=/d", flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    snprintf(want, sizeof want, "Error decoding '%s': invalid literal (line 2, column 13)", p);
    assert_string_equal(r.err, want);
    agent_config_free(&r.cfg);

    p = put_file(s, "type.json", "{\"server\": \"yes\"}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){"-data-dir=/d", flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    snprintf(want, sizeof want,
             "Error decoding '%s': \"server\" must be a boolean, not string (line 1, column 12)", p);
    assert_string_equal(r.err, want);
    agent_config_free(&r.cfg);

    p = put_file(s, "port.json", "{\"ports\": {\"server\": -1}}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){"-data-dir=/d", flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_string_equal(r.err, "Invalid port ports.server = -1: must be 1-65535");
    agent_config_free(&r.cfg);

    p = put_file(s, "nul.json", "{\"data_dir\": \"/d\\u0000x\"}", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_non_null(strstr(r.err, "\"data_dir\" must be a string"));
    agent_config_free(&r.cfg);

    p = put_file(s, "array.json", "[]", pbuf);
    snprintf(flag, sizeof flag, "-config-file=%s", p);
    load(&r, (char *[]){flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_non_null(strstr(r.err, "the top level must be an object, not array"));
    agent_config_free(&r.cfg);

    snprintf(flag, sizeof flag, "-config-file=%s/missing.json", s->dir);
    load(&r, (char *[]){flag, NULL});
    assert_int_equal(r.rc, AGENT_CONFIG_ERR);
    assert_non_null(strstr(r.err, "missing.json': No such file or directory"));
    agent_config_free(&r.cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),
        cmocka_unit_test(every_flag),
        cmocka_unit_test(consul_validation_errors),
        cmocka_unit_test(command_line_errors),
        cmocka_unit_test(bootstrap_expect_one_is_bootstrap),
        cmocka_unit_test(advertise_resolution),
        cmocka_unit_test(dev_mode),
        cmocka_unit_test_setup_teardown(file_precedence, scratch_setup, scratch_teardown),
        cmocka_unit_test_setup_teardown(file_errors, scratch_setup, scratch_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
