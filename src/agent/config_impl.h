/* config_impl.h — internal to src/agent/config*.c: the unvalidated layer that defaults, files and
 * flags are merged into before validation turns it into a struct agent_config. */
#ifndef TRIBUNE_AGENT_CONFIG_IMPL_H
#define TRIBUNE_AGENT_CONFIG_IMPL_H

#include "agent/config.h"

/* Strings are owned (malloc'd), NULL when never set. */
struct agent_config_raw {
    bool server, bootstrap, rejoin, leave_on_terminate, skip_leave_on_interrupt;
    long long bootstrap_expect, retry_max;
    char *data_dir, *bind, *advertise, *client, *node, *dc, *retry_interval, *log_level, *pid_file;
    struct agent_strlist start_join, retry_join;
    long long port_http, port_dns, port_serf_lan, port_server;
};

int agent_strlist_push(struct agent_strlist *l, const char *s);
void agent_strlist_free(struct agent_strlist *l);
/* Replaces *slot with a copy of s. 0, or -1 when out of memory. */
int agent_config_set_str(char **slot, const char *s);
void agent_config_raw_free(struct agent_config_raw *r);

/* Reads one -config-file/-config-dir argument (a file, or a directory's *.json in lexical order)
 * into r, appending each file read to files. 0, or -1 with the message in err. */
int agent_config_read_path(const char *path, struct agent_config_raw *r,
                           struct agent_strlist *files, char *err, size_t errlen);

/* Applies one parsed JSON text (already read from name) to r. 0, or -1 with err. Exposed for tests
 * and for the fuzzing of config decoding. */
int agent_config_apply_json(const char *name, const char *text, size_t len,
                            struct agent_config_raw *r, char *err, size_t errlen);

#endif
