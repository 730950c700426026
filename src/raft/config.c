/* config.c — Raft configuration sets and their versioned binary encoding.
 * The decoder is the gate for configurations arriving from disk and from peers: it rejects
 * anything a correct encoder could not have written. */
#include "raft/config.h"

#include <stdlib.h>
#include <string.h>

#define CONFIG_FORMAT_VERSION 1

int raft_config_encode(const struct raft_config *c, struct buf *out)
{
    struct codec_wr w;
    codec_wr_init(&w, out);
    codec_put_u8(&w, CONFIG_FORMAT_VERSION);
    codec_put_u16(&w, (uint16_t)c->n);
    for (uint32_t i = 0; i < c->n; i++) {
        const struct raft_server *s = &c->servers[i];
        codec_put_u64(&w, s->id);
        codec_put_u8(&w, s->voter ? 1 : 0);
        codec_put_str16(&w, s->addr, strnlen(s->addr, RAFT_ADDR_MAX - 1));
    }
    return codec_wr_ok(&w) && c->n <= UINT16_MAX ? 0 : -1;
}

int raft_config_decode(const uint8_t *p, size_t len, struct raft_config *out)
{
    out->n = 0;
    out->servers = NULL;
    struct codec_rd r;
    codec_rd_init(&r, p, len);
    if (codec_get_u8(&r) != CONFIG_FORMAT_VERSION)
        return -1;
    uint16_t n = codec_get_u16(&r);
    if (!codec_rd_ok(&r) || n > RAFT_CONFIG_MAX_SERVERS)
        return -1;
    struct raft_server *servers = calloc(n ? n : 1, sizeof *servers);
    if (servers == NULL)
        return -1;
    for (uint16_t i = 0; i < n; i++) {
        servers[i].id = codec_get_u64(&r);
        uint8_t voter = codec_get_u8(&r);
        size_t alen;
        const uint8_t *addr = codec_get_str16(&r, &alen);
        if (!codec_rd_ok(&r) || servers[i].id == 0 || voter > 1 || alen >= RAFT_ADDR_MAX ||
            memchr(addr, '\0', alen) != NULL)
            goto bad;
        for (uint16_t j = 0; j < i; j++)
            if (servers[j].id == servers[i].id)
                goto bad;
        servers[i].voter = voter == 1;
        memcpy(servers[i].addr, addr, alen);
        servers[i].addr[alen] = '\0';
    }
    if (!codec_rd_ok(&r) || codec_rd_remaining(&r) != 0)
        goto bad;
    out->n = n;
    out->servers = servers;
    return 0;
bad:
    free(servers);
    return -1;
}

void raft_config_free(struct raft_config *c)
{
    free(c->servers);
    c->servers = NULL;
    c->n = 0;
}

int raft_config_copy(struct raft_config *dst, const struct raft_config *src)
{
    struct raft_server *s = calloc(src->n ? src->n : 1, sizeof *s);
    if (s == NULL)
        return -1;
    if (src->n)
        memcpy(s, src->servers, src->n * sizeof *s);
    dst->servers = s;
    dst->n = src->n;
    return 0;
}

bool raft_config_equal(const struct raft_config *a, const struct raft_config *b)
{
    if (a->n != b->n)
        return false;
    for (uint32_t i = 0; i < a->n; i++) {
        const struct raft_server *o = raft_config_find(b, a->servers[i].id);
        if (o == NULL || o->voter != a->servers[i].voter || strcmp(o->addr, a->servers[i].addr) != 0)
            return false;
    }
    return true;
}

const struct raft_server *raft_config_find(const struct raft_config *c, raft_id id)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (c->servers[i].id == id)
            return &c->servers[i];
    return NULL;
}

int raft_config_put(struct raft_config *c, raft_id id, const char *addr, bool voter)
{
    struct raft_server *s = (struct raft_server *)raft_config_find(c, id);
    if (s == NULL) {
        if (c->n >= RAFT_CONFIG_MAX_SERVERS)
            return -1;
        struct raft_server *grown = realloc(c->servers, (c->n + 1) * sizeof *grown);
        if (grown == NULL)
            return -1;
        c->servers = grown;
        s = &c->servers[c->n++];
        memset(s, 0, sizeof *s);
        s->id = id;
    }
    s->voter = voter;
    size_t alen = strnlen(addr, RAFT_ADDR_MAX - 1);
    memcpy(s->addr, addr, alen);
    s->addr[alen] = '\0';
    return 0;
}

int raft_config_remove(struct raft_config *c, raft_id id)
{
    for (uint32_t i = 0; i < c->n; i++) {
        if (c->servers[i].id == id) {
            memmove(&c->servers[i], &c->servers[i + 1], (c->n - i - 1) * sizeof c->servers[0]);
            c->n--;
            return 0;
        }
    }
    return -1;
}

uint32_t raft_config_voters(const struct raft_config *c)
{
    uint32_t v = 0;
    for (uint32_t i = 0; i < c->n; i++)
        v += c->servers[i].voter ? 1 : 0;
    return v;
}
