/* peers.c — peers.json for outage recovery: parsing both of Consul's forms into a configuration,
 * and consuming the file once applied. */
#include "raft/peers.h"
#include "base/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "loop/net.h"
#include "raft/config.h"
#include "raft/meta.h"

static int parse_id_text(const char *s, size_t len, raft_id *out)
{
    uint64_t v = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        if (len - 2 > 16)
            return -1;
        for (size_t i = 2; i < len; i++) {
            char c = s[i];
            unsigned d;
            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return -1;
            v = v << 4 | d;
        }
    } else {
        if (len == 0 || len > 20)
            return -1;
        for (size_t i = 0; i < len; i++) {
            if (s[i] < '0' || s[i] > '9')
                return -1;
            unsigned d = (unsigned)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return -1;
            v = v * 10 + d;
        }
    }
    if (v == 0)
        return -1;
    *out = v;
    return 0;
}

static int check_addr(const char *a, size_t len, char *err, size_t errlen, size_t i)
{
    char why[128];
    struct loop_addr la;
    if (len == 0 || len >= RAFT_ADDR_MAX || memchr(a, '\0', len) != NULL) {
        snprintf(err, errlen, "entry %zu: address must be \"ip:port\" under %d bytes", i,
                 RAFT_ADDR_MAX);
        return -1;
    }
    if (loop_addr_parse(a, &la, why, sizeof why) != 0) {
        snprintf(err, errlen, "entry %zu: address \"%s\": %s", i, a, why);
        return -1;
    }
    return 0;
}

static int parse_new(const struct json_value *e, size_t i, raft_id *id, const char **addr,
                     bool *voter, char *err, size_t errlen)
{
    const struct json_value *vid = NULL, *vaddr = NULL, *vnv = NULL;
    for (size_t k = 0; k < e->count; k++) {
        const struct json_member *m = &e->members[k];
        if (strcmp(m->key, "id") == 0)
            vid = &m->value;
        else if (strcmp(m->key, "address") == 0)
            vaddr = &m->value;
        else if (strcmp(m->key, "non_voter") == 0)
            vnv = &m->value;
        else {
            snprintf(err, errlen, "entry %zu (line %u): unknown key \"%.40s\"", i, m->line,
                     m->key);
            return -1;
        }
    }
    if (vid == NULL || vaddr == NULL) {
        snprintf(err, errlen, "entry %zu (line %u): needs \"id\" and \"address\"", i, e->line);
        return -1;
    }
    if (vid->type == JSON_STRING) {
        if (parse_id_text(vid->str, vid->len, id) != 0) {
            snprintf(err, errlen,
                     "entry %zu (line %u): id \"%.40s\" is not a nonzero decimal or 0x-hex 64-bit "
                     "number",
                     i, vid->line, vid->str);
            return -1;
        }
    } else if (vid->type == JSON_NUMBER && vid->is_int && vid->integer > 0) {
        *id = (raft_id)vid->integer;
    } else {
        snprintf(err, errlen, "entry %zu (line %u): id must be a nonzero number or string", i,
                 vid->line);
        return -1;
    }
    if (vaddr->type != JSON_STRING) {
        snprintf(err, errlen, "entry %zu (line %u): address must be a string", i, vaddr->line);
        return -1;
    }
    if (check_addr(vaddr->str, vaddr->len, err, errlen, i) != 0)
        return -1;
    *addr = vaddr->str;
    *voter = true;
    if (vnv != NULL) {
        if (vnv->type != JSON_BOOL) {
            snprintf(err, errlen, "entry %zu (line %u): non_voter must be true or false", i,
                     vnv->line);
            return -1;
        }
        *voter = !vnv->boolean;
    }
    return 0;
}

static int parse_old(const struct json_value *e, size_t i, const struct raft_config *known,
                     raft_id *id, const char **addr, char *err, size_t errlen)
{
    if (check_addr(e->str, e->len, err, errlen, i) != 0)
        return -1;
    if (known == NULL || known->n == 0) {
        snprintf(err, errlen,
                 "entry %zu: \"%s\": the old address-only form needs server ids, and no "
                 "configuration on disk provides them; use [{\"id\": ..., \"address\": ...}]",
                 i, e->str);
        return -1;
    }
    for (uint32_t k = 0; k < known->n; k++) {
        if (strcmp(known->servers[k].addr, e->str) == 0) {
            *id = known->servers[k].id;
            *addr = e->str;
            return 0;
        }
    }
    snprintf(err, errlen,
             "entry %zu: \"%s\" is in no known configuration, so its server id is unknown; use "
             "[{\"id\": ..., \"address\": ...}]",
             i, e->str);
    return -1;
}

int raft_peers_parse(const char *text, size_t len, const struct raft_config *known,
                     struct raft_config *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    struct json_limits lim = {8, RAFT_PEERS_MAX_BYTES, 4096};
    struct json_value v;
    struct json_error je;
    if (json_parse(text, len, &lim, &v, &je) != 0) {
        snprintf(err, errlen, "line %u column %u: %s", je.line, je.col, je.msg);
        return -1;
    }
    int rc = -1;
    if (v.type != JSON_ARRAY) {
        snprintf(err, errlen, "expected a JSON array of servers, found %s", json_type_name(v.type));
        goto out;
    }
    if (v.count == 0) {
        snprintf(err, errlen, "the server list is empty");
        goto out;
    }
    if (v.count > RAFT_CONFIG_MAX_SERVERS) {
        snprintf(err, errlen, "%zu servers, at most %d", v.count, RAFT_CONFIG_MAX_SERVERS);
        goto out;
    }
    for (size_t i = 0; i < v.count; i++) {
        const struct json_value *e = &v.items[i];
        raft_id id = 0;
        const char *addr = NULL;
        bool voter = true;
        if (e->type == JSON_OBJECT) {
            if (parse_new(e, i, &id, &addr, &voter, err, errlen) != 0)
                goto out;
        } else if (e->type == JSON_STRING) {
            if (parse_old(e, i, known, &id, &addr, err, errlen) != 0)
                goto out;
        } else {
            snprintf(err, errlen, "entry %zu (line %u): expected an object or an address string",
                     i, e->line);
            goto out;
        }
        for (uint32_t k = 0; k < out->n; k++) {
            if (out->servers[k].id == id) {
                snprintf(err, errlen, "entry %zu: duplicate id %" PRIu64, i, id);
                goto out;
            }
            if (strcmp(out->servers[k].addr, addr) == 0) {
                snprintf(err, errlen, "entry %zu: duplicate address %s", i, addr);
                goto out;
            }
        }
        if (raft_config_put(out, id, addr, voter) != 0) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
    }
    if (raft_config_voters(out) == 0) {
        snprintf(err, errlen, "no voter among the servers");
        goto out;
    }
    rc = 0;
out:
    json_free(&v);
    if (rc != 0)
        raft_config_free(out);
    return rc;
}

int raft_peers_load(const char *dir, const struct raft_config *known, struct raft_config *out,
                    char *err, size_t errlen)
{
    char *buf = malloc(RAFT_PEERS_MAX_BYTES);
    char why[RAFT_META_ERRMAX];
    if (buf == NULL) {
        snprintf(err, errlen, "%s/%s: out of memory", dir, RAFT_PEERS_FILE);
        return -1;
    }
    long n = raft_meta_read(dir, RAFT_PEERS_FILE, buf, RAFT_PEERS_MAX_BYTES, why, sizeof why);
    if (n == -2) {
        free(buf);
        return 0;
    }
    if (n < 0) {
        snprintf(err, errlen, "%s/%s: %s", dir, RAFT_PEERS_FILE, why);
        free(buf);
        return -1;
    }
    int rc = raft_peers_parse(buf, (size_t)n, known, out, why, sizeof why);
    free(buf);
    if (rc != 0) {
        snprintf(err, errlen, "%s/%s: %s", dir, RAFT_PEERS_FILE, why);
        return -1;
    }
    return 1;
}

int raft_peers_remove(const char *dir, char *err, size_t errlen)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, RAFT_PEERS_FILE) >= sizeof path) {
        snprintf(err, errlen, "path too long: %s", dir);
        return -1;
    }
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "remove %s: %s", path, strerror(errno));
        return -1;
    }
    if (fs_fsync_dir(dir) != 0) {
        snprintf(err, errlen, "fsync %s: %s", dir, strerror(errno));
        return -1;
    }
    return 0;
}

char *raft_peers_format(const struct raft_config *c, char *out, size_t outlen)
{
    size_t off = 0;
    if (outlen == 0)
        return out;
    out[0] = '\0';
    off += (size_t)snprintf(out, outlen, "[");
    for (uint32_t i = 0; i < c->n && off < outlen; i++)
        off += (size_t)snprintf(out + off, outlen - off, "%sid=%" PRIu64 " %s %s",
                                i ? ", " : "", c->servers[i].id, c->servers[i].addr,
                                c->servers[i].voter ? "voter" : "nonvoter");
    if (off < outlen)
        snprintf(out + off, outlen - off, "]");
    return out;
}
