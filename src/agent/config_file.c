/* config_file.c — reading agent JSON config files and directories and applying their keys (Consul's
 * names) to the unvalidated layer: strict types, unknown keys refused with file and position. */
#include "agent/config_impl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"

enum key_kind { K_BOOL, K_INT, K_STR, K_LIST, K_PORTS };

struct key_def {
    const char *name;
    enum key_kind kind;
    size_t off;
};

#define RAW(field) offsetof(struct agent_config_raw, field)

static const struct key_def keys[] = {
    {"server", K_BOOL, RAW(server)},
    {"bootstrap", K_BOOL, RAW(bootstrap)},
    {"bootstrap_expect", K_INT, RAW(bootstrap_expect)},
    {"data_dir", K_STR, RAW(data_dir)},
    {"bind_addr", K_STR, RAW(bind)},
    {"advertise_addr", K_STR, RAW(advertise)},
    {"client_addr", K_STR, RAW(client)},
    {"node_name", K_STR, RAW(node)},
    {"datacenter", K_STR, RAW(dc)},
    {"start_join", K_LIST, RAW(start_join)},
    {"retry_join", K_LIST, RAW(retry_join)},
    {"retry_interval", K_STR, RAW(retry_interval)},
    {"retry_max", K_INT, RAW(retry_max)},
    {"rejoin_after_leave", K_BOOL, RAW(rejoin)},
    {"log_level", K_STR, RAW(log_level)},
    {"pid_file", K_STR, RAW(pid_file)},
    {"ports", K_PORTS, 0},
    {"leave_on_terminate", K_BOOL, RAW(leave_on_terminate)},
    {"skip_leave_on_interrupt", K_BOOL, RAW(skip_leave_on_interrupt)},
};

static const struct key_def port_keys[] = {
    {"http", K_INT, RAW(port_http)},
    {"dns", K_INT, RAW(port_dns)},
    {"serf_lan", K_INT, RAW(port_serf_lan)},
    {"server", K_INT, RAW(port_server)},
};

int agent_strlist_push(struct agent_strlist *l, const char *s)
{
    char *c = strdup(s);
    char **v = c ? realloc(l->v, (l->n + 1) * sizeof *v) : NULL;
    if (v == NULL) {
        free(c);
        return -1;
    }
    l->v = v;
    l->v[l->n++] = c;
    return 0;
}

void agent_strlist_free(struct agent_strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

int agent_config_set_str(char **slot, const char *s)
{
    char *c = strdup(s);
    if (c == NULL)
        return -1;
    free(*slot);
    *slot = c;
    return 0;
}

void agent_config_raw_free(struct agent_config_raw *r)
{
    char **strs[] = {&r->data_dir, &r->bind, &r->advertise, &r->client, &r->node, &r->dc,
                     &r->retry_interval, &r->log_level, &r->pid_file};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++) {
        free(*strs[i]);
        *strs[i] = NULL;
    }
    agent_strlist_free(&r->start_join);
    agent_strlist_free(&r->retry_join);
}

static int type_error(const char *name, const char *key, const char *want,
                      const struct json_value *v, char *err, size_t errlen)
{
    snprintf(err, errlen, "Error decoding '%s': \"%s\" must be %s, not %s (line %u, column %u)",
             name, key, want, json_type_name(v->type), v->line, v->col);
    return -1;
}

/* A string that is used as a C string must not smuggle a NUL from a \u0000 escape. */
static bool plain_string(const struct json_value *v)
{
    return v->type == JSON_STRING && memchr(v->str, '\0', v->len) == NULL;
}

static int apply_key(const char *name, const char *path, const struct key_def *k,
                     const struct json_value *v, struct agent_config_raw *r, char *err,
                     size_t errlen);

static int apply_object(const char *name, const char *prefix, const struct key_def *defs,
                        size_t ndefs, const struct json_value *obj, struct agent_config_raw *r,
                        char *err, size_t errlen)
{
    for (size_t i = 0; i < obj->count; i++) {
        const struct json_member *m = &obj->members[i];
        char path[160];
        snprintf(path, sizeof path, "%s%.*s", prefix, (int)(m->key_len > 100 ? 100 : m->key_len),
                 m->key);
        const struct key_def *k = NULL;
        for (size_t j = 0; j < ndefs; j++)
            if (strlen(defs[j].name) == m->key_len && memcmp(defs[j].name, m->key, m->key_len) == 0)
                k = &defs[j];
        if (k == NULL) {
            snprintf(err, errlen, "Error decoding '%s': unknown key \"%s\" (line %u, column %u)",
                     name, path, m->line, m->col);
            return -1;
        }
        if (apply_key(name, path, k, &m->value, r, err, errlen) != 0)
            return -1;
    }
    return 0;
}

static int apply_key(const char *name, const char *path, const struct key_def *k,
                     const struct json_value *v, struct agent_config_raw *r, char *err,
                     size_t errlen)
{
    void *field = (char *)r + k->off;
    switch (k->kind) {
    case K_BOOL:
        if (v->type != JSON_BOOL)
            return type_error(name, path, "a boolean", v, err, errlen);
        *(bool *)field = v->boolean;
        return 0;
    case K_INT:
        if (v->type != JSON_NUMBER || !v->is_int)
            return type_error(name, path, "an integer", v, err, errlen);
        *(long long *)field = v->integer;
        return 0;
    case K_STR:
        if (!plain_string(v))
            return type_error(name, path, "a string", v, err, errlen);
        if (agent_config_set_str(field, v->str) != 0)
            goto oom;
        return 0;
    case K_LIST:
        if (v->type != JSON_ARRAY)
            return type_error(name, path, "an array of strings", v, err, errlen);
        for (size_t i = 0; i < v->count; i++)
            if (!plain_string(&v->items[i]))
                return type_error(name, path, "an array of strings", &v->items[i], err, errlen);
        for (size_t i = 0; i < v->count; i++)
            if (agent_strlist_push(field, v->items[i].str) != 0)
                goto oom;
        return 0;
    case K_PORTS:
        if (v->type != JSON_OBJECT)
            return type_error(name, path, "an object", v, err, errlen);
        return apply_object(name, "ports.", port_keys, sizeof port_keys / sizeof port_keys[0], v,
                            r, err, errlen);
    }
oom:
    snprintf(err, errlen, "Error decoding '%s': out of memory", name);
    return -1;
}

int agent_config_apply_json(const char *name, const char *text, size_t len,
                            struct agent_config_raw *r, char *err, size_t errlen)
{
    struct json_value root;
    struct json_error je;
    struct json_limits lim = json_default_limits;
    lim.max_bytes = AGENT_CONFIG_FILE_MAX;
    if (json_parse(text, len, &lim, &root, &je) != 0) {
        snprintf(err, errlen, "Error decoding '%s': %s (line %u, column %u)", name, je.msg, je.line,
                 je.col);
        return -1;
    }
    int rc;
    if (root.type != JSON_OBJECT) {
        snprintf(err, errlen, "Error decoding '%s': the top level must be an object, not %s", name,
                 json_type_name(root.type));
        rc = -1;
    } else {
        rc = apply_object(name, "", keys, sizeof keys / sizeof keys[0], &root, r, err, errlen);
    }
    json_free(&root);
    return rc;
}

int agent_config_check_json(const char *name, const char *text, size_t len, char *err,
                            size_t errlen)
{
    struct agent_config_raw r;
    memset(&r, 0, sizeof r);
    int rc = agent_config_apply_json(name, text, len, &r, err, errlen);
    agent_config_raw_free(&r);
    return rc;
}

static int read_file(const char *path, struct agent_config_raw *r, struct agent_strlist *files,
                     char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "Error reading '%s': %s", path, strerror(errno));
        return -1;
    }
    char *text = malloc(AGENT_CONFIG_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (text != NULL && len <= AGENT_CONFIG_FILE_MAX &&
           (n = read(fd, text + len, AGENT_CONFIG_FILE_MAX + 1 - len)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        len += (size_t)n;
    }
    int saved = errno;
    close(fd);
    if (text == NULL || n < 0) {
        snprintf(err, errlen, "Error reading '%s': %s", path,
                 text == NULL ? "out of memory" : strerror(saved));
        free(text);
        return -1;
    }
    if (len > AGENT_CONFIG_FILE_MAX) {
        snprintf(err, errlen, "Error reading '%s': file larger than %u bytes", path,
                 AGENT_CONFIG_FILE_MAX);
        free(text);
        return -1;
    }
    int rc = agent_config_apply_json(path, text, len, r, err, errlen);
    free(text);
    if (rc == 0 && agent_strlist_push(files, path) != 0) {
        snprintf(err, errlen, "Error reading '%s': out of memory", path);
        rc = -1;
    }
    return rc;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with_json(const char *s)
{
    size_t n = strlen(s);
    return n >= 5 && strcmp(s + n - 5, ".json") == 0;
}

/* Consul reads a directory's *.json files sorted by name and skips everything else, so a
 * README or an editor's backup file next to the config does not break the agent. */
static int read_dir(const char *dir, struct agent_config_raw *r, struct agent_strlist *files,
                    char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "Error reading '%s': %s", dir, strerror(errno));
        return -1;
    }
    struct agent_strlist names = {0};
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d)) != NULL) {
        if (!ends_with_json(e->d_name))
            continue;
        char path[AGENT_PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
            continue;
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (agent_strlist_push(&names, path) != 0) {
            snprintf(err, errlen, "Error reading '%s': out of memory", dir);
            rc = -1;
            break;
        }
    }
    closedir(d);
    if (rc == 0 && names.n > 0)
        qsort(names.v, names.n, sizeof *names.v, name_cmp);
    for (size_t i = 0; rc == 0 && i < names.n; i++)
        rc = read_file(names.v[i], r, files, err, errlen);
    agent_strlist_free(&names);
    return rc;
}

int agent_config_read_path(const char *path, struct agent_config_raw *r,
                           struct agent_strlist *files, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "Error reading '%s': %s", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return read_dir(path, r, files, err, errlen);
    return read_file(path, r, files, err, errlen);
}
