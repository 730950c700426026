/* monitor.c — the log tap behind /v1/agent/monitor: every log line at or above a stream's level
 * goes to each open stream; a reader that falls too far behind loses lines, never the agent. */
#include <stdlib.h>

#include "agent/agent_impl.h"

#define MONITOR_BACKLOG (256u << 10) /* unsent bytes past which lines are dropped for a reader */

struct agent_monitor {
    struct agent_monitor *next;
    struct agent *a;
    struct http_req *r;
    enum log_level level;
    bool dead;
};

static void update_level(struct agent *a)
{
    enum log_level lvl = LOG_ERR;
    for (struct agent_monitor *m = a->monitors; m; m = m->next)
        if (m->level < lvl)
            lvl = m->level;
    a->lg->tap_level = lvl;
}

static void unlink_monitor(struct agent *a, struct agent_monitor *mon)
{
    for (struct agent_monitor **p = &a->monitors; *p; p = &(*p)->next)
        if (*p == mon) {
            *p = mon->next;
            break;
        }
    update_level(a);
}

static void tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    struct agent *a = ctx;
    if (a->in_tap) /* a line logged while writing a line: dropped, never recursed into */
        return;
    a->in_tap = true;
    struct agent_monitor *next;
    for (struct agent_monitor *m = a->monitors; m; m = next) {
        next = m->next;
        if (m->dead || level < m->level || http_stream_pending(m->r) > MONITOR_BACKLOG)
            continue;
        if (http_stream_write(m->r, line, len) != 0 || http_stream_write(m->r, "\n", 1) != 0)
            m->dead = true; /* the cancel callback frees it */
    }
    a->in_tap = false;
}

static void on_cancel(struct http_req *r, void *ctx)
{
    (void)r;
    struct agent_monitor *mon = ctx;
    unlink_monitor(mon->a, mon);
    free(mon);
}

void agent_monitor_init(struct agent *a)
{
    a->lg->tap = tap;
    a->lg->tap_ctx = a;
    a->lg->tap_level = LOG_ERR;
}

int agent_monitor_add(struct agent *a, struct http_req *r, enum log_level level)
{
    struct agent_monitor *mon = calloc(1, sizeof *mon);
    if (mon == NULL)
        return -1;
    mon->a = a;
    mon->r = r;
    mon->level = level;
    if (http_stream_begin(r, 200, "text/plain; charset=utf-8") != 0) {
        free(mon); /* the request is finished: r must be forgotten */
        return 0;
    }
    http_req_on_cancel(r, on_cancel, mon);
    mon->next = a->monitors;
    a->monitors = mon;
    update_level(a);
    return 0;
}

void agent_monitor_close_all(struct agent *a)
{
    while (a->monitors) {
        struct agent_monitor *m = a->monitors;
        a->monitors = m->next;
        http_req_on_cancel(m->r, NULL, NULL);
        http_stream_end(m->r);
        free(m);
    }
    a->lg->tap = NULL;
    a->lg->tap_ctx = NULL;
}
