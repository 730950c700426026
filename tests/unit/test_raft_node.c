/* test_raft_node.c — Raft nodes (core + log store + meta + snapshots + transport) in one process on
 * one loop over loopback TCP, each with its own temp data dir: election, replication, crash and
 * recovery, snapshots and InstallSnapshot, peers.json, fatal disk errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/crc32c.h"
#include "loop/loop.h"
#include "raft/config.h"
#include "raft/node.h"
#include "raft/node_snapshot.h"
#include "raft/meta.h"
#include "raft/peers.h"

#define MAX_NODES 3
#define MAX_PROPS 512
#define LINES_CAP (1u << 20)
#define ITERS 4000 /* loop iterations of at most 5 ms each before a wait gives up */

struct tfsm {
    uint64_t count;
    uint64_t last_index;
    uint32_t digest;
    int restores;
    int fatal;
    int became_leader;
    int lost_leader;
    int refuse_snapshots; /* the next N snapshot requests fail */
};

struct tnode {
    struct raft_node *rn;
    raft_id id;
    char addr[64];
    char dir[256];
    struct tfsm fsm;
};

struct prop {
    int calls;
    int err;
    uint64_t index;
    int64_t value;
};

struct fail_io {
    bool fail_sync;
};

struct read_got {
    int calls;
    int err;
    uint64_t index;
};

struct fixture;

/* Context of a done callback that closes the node it came from. */
struct closer {
    struct fixture *fx;
    struct prop *p;
};

struct fixture {
    struct closer closers[3];
    struct read_got rg; /* outlives a failed test: its read may still be pending */
    struct logger lg;
    struct loop *l;
    char *lines;
    size_t n_lines;
    struct tnode nodes[MAX_NODES];
    struct prop props[MAX_PROPS];
    uint64_t threshold, trailing;
    struct fail_io fio;
    struct rlog_io io;
    bool use_io;
};

static void tap(void *ctx, enum log_level level, const char *line, size_t len)
{
    (void)level;
    struct fixture *fx = ctx;
    if (fx->n_lines + len + 2 < LINES_CAP) {
        memcpy(fx->lines + fx->n_lines, line, len);
        fx->n_lines += len;
        fx->lines[fx->n_lines++] = '\n';
        fx->lines[fx->n_lines] = '\0';
    }
}

static int count_lines(const struct fixture *fx, const char *needle)
{
    int n = 0;
    for (const char *p = fx->lines; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* ---- the test state machine: a digest over every command, in order ---- */

static int64_t fsm_apply(void *ctx, uint64_t index, const uint8_t *data, size_t len)
{
    struct tnode *t = ctx;
    assert_true(index > t->fsm.last_index);
    t->fsm.last_index = index;
    t->fsm.digest = crc32c(t->fsm.digest, data, len);
    return (int64_t)++t->fsm.count;
}

static int fsm_snapshot(void *ctx, struct buf *out)
{
    struct tnode *t = ctx;
    if (t->fsm.refuse_snapshots > 0) {
        t->fsm.refuse_snapshots--;
        return -1;
    }
    uint8_t b[20];
    memcpy(b, &t->fsm.count, 8);
    memcpy(b + 8, &t->fsm.last_index, 8);
    memcpy(b + 16, &t->fsm.digest, 4);
    return buf_append(out, b, sizeof b);
}

static int fsm_restore(void *ctx, const uint8_t *data, size_t len)
{
    struct tnode *t = ctx;
    if (len != 20)
        return -1;
    memcpy(&t->fsm.count, data, 8);
    memcpy(&t->fsm.last_index, data + 8, 8);
    memcpy(&t->fsm.digest, data + 16, 4);
    t->fsm.restores++;
    return 0;
}

static void fsm_on_leader(void *ctx, bool leader)
{
    struct tnode *t = ctx;
    if (leader)
        t->fsm.became_leader++;
    else
        t->fsm.lost_leader++;
}

static void fsm_fatal(void *ctx, const char *msg)
{
    (void)msg;
    struct tnode *t = ctx;
    t->fsm.fatal++;
}

static void on_done(void *ctx, const struct raft_node_result *res)
{
    struct prop *p = ctx;
    p->calls++;
    p->err = res->err;
    p->index = res->index;
    p->value = res->value;
}

/* ---- fault injection for the log store ---- */

static ssize_t io_pwrite(void *ctx, int fd, const void *buf, size_t len, off_t off)
{
    (void)ctx;
    return pwrite(fd, buf, len, off);
}

static int io_sync(void *ctx, int fd, int datasync)
{
    struct fail_io *f = ctx;
    if (f->fail_sync) {
        errno = EIO;
        return -1;
    }
    return datasync ? fdatasync(fd) : fsync(fd);
}

static int io_truncate(void *ctx, int fd, off_t len)
{
    (void)ctx;
    return ftruncate(fd, len);
}

/* ---- fixture ---- */

static void free_port_addr(char *out, size_t outlen)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t al = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    snprintf(out, outlen, "127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    close(fd);
}

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    fx->lines = calloc(1, LINES_CAP);
    log_init(&fx->lg, -1, LOG_DEBUG);
    fx->lg.tap = tap;
    fx->lg.tap_ctx = fx;
    fx->lg.tap_level = LOG_INFO;
    char err[256];
    fx->l = loop_create(&fx->lg, err, sizeof err);
    if (fx->l == NULL)
        fail_msg("loop: %s", err);
    for (int i = 0; i < MAX_NODES; i++) {
        struct tnode *t = &fx->nodes[i];
        t->id = (raft_id)(i + 1);
        snprintf(t->dir, sizeof t->dir, "/tmp/tribune-raftnode-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        free_port_addr(t->addr, sizeof t->addr);
    }
    fx->io = (struct rlog_io){&fx->fio, io_pwrite, io_sync, io_truncate};
    *state = fx;
    return 0;
}

static void rm_rf(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char sub[512];
            snprintf(sub, sizeof sub, "%.250s/%.250s", path, e->d_name);
            rm_rf(sub);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    if (getenv("RAFTNODE_TEST_LOG"))
        fputs(fx->lines, stderr);
    for (int i = 0; i < MAX_NODES; i++) {
        raft_node_close(fx->nodes[i].rn);
        rm_rf(fx->nodes[i].dir);
    }
    loop_destroy(fx->l);
    free(fx->lines);
    free(fx);
    return 0;
}

static int open_node_rc(struct fixture *fx, int i, bool bootstrap, char *err, size_t errlen)
{
    struct tnode *t = &fx->nodes[i];
    assert_null(t->rn);
    memset(&t->fsm, 0, sizeof t->fsm); /* a restarted process starts with an empty FSM */
    struct raft_node_opts o;
    raft_node_opts_default(&o);
    o.data_dir = t->dir;
    o.id = t->id;
    o.advertise = t->addr;
    o.cluster = "dc1";
    o.bootstrap = bootstrap;
    o.tick_ms = 10;
    o.seed = t->id * 7919;
    o.snapshot_threshold = fx->threshold;
    o.snapshot_trailing = fx->trailing;
    o.backoff_max_ms = 100;
    o.io = fx->use_io ? &fx->io : NULL;
    struct raft_node_fsm f = {t, fsm_apply, fsm_snapshot, fsm_restore, fsm_on_leader, fsm_fatal};
    return raft_node_open(fx->l, &o, &f, &fx->lg, &t->rn, err, errlen);
}

static void open_node(struct fixture *fx, int i, bool bootstrap)
{
    char err[512];
    if (open_node_rc(fx, i, bootstrap, err, sizeof err) != 0)
        fail_msg("open node %d: %s", i, err);
}

static void write_peers(struct fixture *fx, int i, int n)
{
    char path[512], text[1024];
    size_t off = 0;
    off += (size_t)snprintf(text + off, sizeof text - off, "[\n");
    for (int k = 0; k < n; k++)
        off += (size_t)snprintf(text + off, sizeof text - off,
                                "  {\"id\": \"%llu\", \"address\": \"%s\", \"non_voter\": false}%s\n",
                                (unsigned long long)fx->nodes[k].id, fx->nodes[k].addr,
                                k + 1 < n ? "," : "");
    snprintf(text + off, sizeof text - off, "]\n");
    snprintf(path, sizeof path, "%s/raft", fx->nodes[i].dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/raft/%s", fx->nodes[i].dir, RAFT_PEERS_FILE);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

typedef bool (*pred_fn)(struct fixture *fx, void *arg);

static bool run_until(struct fixture *fx, pred_fn pred, void *arg, int iters)
{
    for (int i = 0; i < iters; i++) {
        if (pred(fx, arg))
            return true;
        assert_true(loop_run_once(fx->l, 5) >= 0);
    }
    return pred(fx, arg);
}

/* The index of the one node that is leader with every open node agreeing, or -1. */
static int stable_leader(struct fixture *fx)
{
    int leader = -1;
    for (int i = 0; i < MAX_NODES; i++) {
        struct raft_node *rn = fx->nodes[i].rn;
        if (rn != NULL && raft_node_is_leader(rn)) {
            if (leader >= 0)
                return -1;
            leader = i;
        }
    }
    if (leader < 0)
        return -1;
    for (int i = 0; i < MAX_NODES; i++) {
        struct raft_node *rn = fx->nodes[i].rn;
        if (rn != NULL && raft_node_leader_id(rn) != fx->nodes[leader].id)
            return -1;
    }
    return leader;
}

static bool has_leader(struct fixture *fx, void *arg)
{
    (void)arg;
    return stable_leader(fx) >= 0;
}

struct want_count {
    int node; /* -1: every open node */
    uint64_t count;
};

static bool fsm_reached(struct fixture *fx, void *arg)
{
    const struct want_count *w = arg;
    for (int i = 0; i < MAX_NODES; i++) {
        if ((w->node >= 0 && i != w->node) || fx->nodes[i].rn == NULL)
            continue;
        if (fx->nodes[i].fsm.count < w->count)
            return false;
    }
    return true;
}

struct want_props {
    int from, to;
};

static bool props_done(struct fixture *fx, void *arg)
{
    const struct want_props *w = arg;
    for (int i = w->from; i < w->to; i++)
        if (fx->props[i].calls == 0)
            return false;
    return true;
}

static bool node_failed(struct fixture *fx, void *arg)
{
    return fx->nodes[*(int *)arg].fsm.fatal > 0;
}

/* Proposes props[from, to) on node i, each "cmd-<k>". */
static void propose_range(struct fixture *fx, int i, int from, int to)
{
    for (int k = from; k < to; k++) {
        char cmd[32];
        int len = snprintf(cmd, sizeof cmd, "cmd-%d", k);
        int rc = raft_node_propose(fx->nodes[i].rn, cmd, (size_t)len, on_done, &fx->props[k]);
        assert_int_equal(rc, 0);
    }
}

static void propose_and_wait(struct fixture *fx, int i, int from, int to)
{
    propose_range(fx, i, from, to);
    struct want_props w = {from, to};
    assert_true(run_until(fx, props_done, &w, ITERS));
    for (int k = from; k < to; k++) {
        assert_int_equal(fx->props[k].calls, 1);
        assert_int_equal(fx->props[k].err, 0);
    }
}

/* Proposes in waited-for batches, so that each batch can cross the snapshot threshold. */
static void propose_batches(struct fixture *fx, int i, int from, int to, int batch)
{
    for (int k = from; k < to; k += batch)
        propose_and_wait(fx, i, k, k + batch < to ? k + batch : to);
}

/* The loop frees a closed listener at its next iteration: let it, so the port can be reused. */
static void close_node(struct fixture *fx, int i, bool crash)
{
    if (crash)
        raft_node_crash(fx->nodes[i].rn);
    else
        raft_node_close(fx->nodes[i].rn);
    fx->nodes[i].rn = NULL;
    for (int k = 0; k < 3; k++)
        assert_true(loop_run_once(fx->l, 0) >= 0);
}

static int start_cluster(struct fixture *fx)
{
    for (int i = 0; i < MAX_NODES; i++)
        write_peers(fx, i, MAX_NODES);
    for (int i = 0; i < MAX_NODES; i++)
        open_node(fx, i, false);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    return stable_leader(fx);
}

static int count_snap_files(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/raft/snapshots", dir);
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strstr(e->d_name, ".snap") != NULL && strstr(e->d_name, ".tmp") == NULL)
            n++;
    closedir(d);
    return n;
}

/* The path of the newest snapshot file (by index) in node dir. */
static bool newest_snap(const char *dir, char *out, size_t outlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/raft/snapshots", dir);
    DIR *d = opendir(path);
    if (d == NULL)
        return false;
    unsigned long long best = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        unsigned long long t, idx;
        if (sscanf(e->d_name, "%llu-%llu.snap", &t, &idx) == 2 && idx > best) {
            best = idx;
            if ((size_t)snprintf(out, outlen, "%.200s/%.200s", path, e->d_name) >= outlen)
                fail_msg("path too long");
        }
    }
    closedir(d);
    return best > 0;
}

/* ---- tests ---- */

static void single_bootstrap_node_elects_itself_and_applies(void **state)
{
    struct fixture *fx = *state;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    char want[128];
    snprintf(want, sizeof want, "raft: Node at %s [Leader] entering Leader state",
             fx->nodes[0].addr);
    assert_int_equal(count_lines(fx, want), 1);
    propose_and_wait(fx, 0, 0, 20);
    for (int k = 0; k < 20; k++) {
        assert_int_equal(fx->props[k].value, k + 1); /* the FSM's result reaches the proposer */
        if (k)
            assert_true(fx->props[k].index > fx->props[k - 1].index);
    }
    assert_int_equal(fx->nodes[0].fsm.count, 20);
    assert_int_equal(fx->nodes[0].fsm.became_leader, 1);

    struct raft_node_stats st;
    raft_node_stats(fx->nodes[0].rn, &st);
    assert_string_equal(st.state, "Leader");
    assert_string_equal(st.last_contact, "0");
    assert_int_equal(st.num_peers, 0);
    assert_int_equal(st.applied_index, st.commit_index);
    assert_int_equal(st.fsm_pending, 0);
    assert_int_equal(st.last_log_index, fx->props[19].index);
    assert_true(st.term >= 1);
    const struct raft_config *c = raft_node_configuration(fx->nodes[0].rn);
    assert_int_equal(c->n, 1);
    assert_int_equal(c->servers[0].id, 1);
    assert_string_equal(c->servers[0].addr, fx->nodes[0].addr);
    assert_true(c->servers[0].voter);

    /* A graceful close answers what is still in flight exactly once; a restart replays the log
     * into a fresh FSM once it is leader again (bootstrap is ignored on a non-empty log). */
    propose_range(fx, 0, 20, 21);
    close_node(fx, 0, false);
    assert_int_equal(fx->props[20].calls, 1);
    assert_true(fx->props[20].err == 0 || fx->props[20].err == RAFT_NODE_ESHUTDOWN);
    open_node(fx, 0, true);
    assert_int_equal(count_lines(fx, "existing Raft state found, not bootstrapping"), 1);
    struct want_count w = {0, 20};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    assert_true(raft_node_is_leader(fx->nodes[0].rn));
}

static void non_bootstrap_empty_node_never_elects_itself(void **state)
{
    struct fixture *fx = *state;
    open_node(fx, 0, false);
    /* Five election timeouts at most (10 ticks of 10 ms, randomized up to 2x). */
    uint64_t until = loop_now_ms() + 5 * 2 * 10 * 10;
    while (loop_now_ms() < until)
        assert_true(loop_run_once(fx->l, 5) >= 0);
    struct raft_node_stats st;
    raft_node_stats(fx->nodes[0].rn, &st);
    assert_string_equal(st.state, "Follower");
    assert_int_equal(st.term, 0);
    assert_int_equal(st.last_log_index, 0);
    assert_string_equal(st.last_contact, "never");
    assert_int_equal(count_lines(fx, "[WARN] raft: no known peers and not in bootstrap mode, "
                                     "aborting election"),
                     1);
    assert_int_equal(raft_node_propose(fx->nodes[0].rn, "x", 1, on_done, &fx->props[0]),
                     RAFT_ENOTLEADER);
    assert_string_equal(raft_node_leader_addr(fx->nodes[0].rn), "");
}

static void three_nodes_from_peers_json_replicate(void **state)
{
    struct fixture *fx = *state;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    assert_int_equal(count_lines(fx, "raft: recovered configuration from peers.json"), 3);
    for (int i = 0; i < MAX_NODES; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/raft/%s", fx->nodes[i].dir, RAFT_PEERS_FILE);
        assert_int_equal(access(path, F_OK), -1); /* consumed once */
        assert_int_equal(raft_node_configuration(fx->nodes[i].rn)->n, 3);
    }
    assert_true(fx->nodes[L].fsm.became_leader >= 1);

    propose_and_wait(fx, L, 0, 200);
    struct want_count w = {-1, 200};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    for (int i = 0; i < MAX_NODES; i++) {
        assert_int_equal(fx->nodes[i].fsm.count, 200);
        assert_int_equal(fx->nodes[i].fsm.digest, fx->nodes[L].fsm.digest);
        struct raft_node_stats st;
        raft_node_stats(fx->nodes[i].rn, &st);
        assert_int_equal(st.num_peers, 2);
        if (i != L) {
            assert_string_equal(st.state, "Follower");
            assert_string_not_equal(st.last_contact, "never");
            /* A follower refuses writes and names the leader for forwarding. */
            assert_int_equal(raft_node_propose(fx->nodes[i].rn, "x", 1, on_done, &fx->props[300]),
                             RAFT_ENOTLEADER);
            assert_string_equal(raft_node_leader_addr(fx->nodes[i].rn), fx->nodes[L].addr);
        }
    }
    /* Reads: a barrier on the leader, refused on a follower. */
    int F = (L + 1) % MAX_NODES;
    assert_int_equal(raft_node_read_index(fx->nodes[F].rn, (raft_node_read_fn)NULL, NULL),
                     RAFT_ENOTLEADER);
}

/* A cluster of MAX_NODES from peers.json that committed `writes` commands everywhere, then
 * stopped: the starting point of the recovery tests below. Returns the cluster id. */
static uint64_t stopped_cluster_with_writes(struct fixture *fx, int writes)
{
    int L = start_cluster(fx);
    assert_true(L >= 0);
    propose_and_wait(fx, L, 0, writes);
    struct want_count w = {-1, (uint64_t)writes};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    uint64_t cid = raft_node_cluster_id(fx->nodes[0].rn);
    assert_true(cid != 0);
    for (int i = 0; i < MAX_NODES; i++) {
        assert_true(raft_node_cluster_id(fx->nodes[i].rn) == cid);
        close_node(fx, i, false);
    }
    return cid;
}

/* Appends count COMMAND entries "tag" of the given term to node i's closed log; with a term above
 * its meta's, the meta follows (a server that campaigned in that term). */
static void append_raw(struct fixture *fx, int i, int count, uint64_t term_bump, const char *tag)
{
    char dir[512], err[512];
    snprintf(dir, sizeof dir, "%s/raft", fx->nodes[i].dir);
    struct rlog_opts ro = {0, NULL};
    struct rlog *log = NULL;
    assert_int_equal(rlog_open(dir, &ro, &fx->lg, &log, err, sizeof err), 0);
    uint64_t term = rlog_last_term(log) + term_bump;
    for (int k = 0; k < count; k++) {
        struct raft_entry e = {.term = term, .index = rlog_last_index(log) + 1,
                               .type = RAFT_ENTRY_COMMAND, .len = (uint32_t)strlen(tag),
                               .data = (uint8_t *)tag};
        assert_int_equal(rlog_append(log, &e, 1), 0);
    }
    assert_int_equal(rlog_sync(log), 0);
    rlog_close(log);
    struct raft_meta md;
    assert_int_equal(raft_meta_load(dir, &md, err, sizeof err), 0);
    if (md.term < term) {
        md.term = term;
        md.vote = 0;
        assert_int_equal(raft_meta_save(dir, &md, err, sizeof err), 0);
    }
}

/* peers.json recovery when the survivors' logs end differently: node 1 holds one more entry, in
 * the same term, than node 0 (it reached only node 1 before the outage). Recovering by appending
 * a configuration entry would put node 0's configuration at the index and term of node 1's
 * command, and log matching would never repair the difference; recovering into a snapshot at
 * each log's own last entry leaves the leader's snapshot to overwrite the shorter one. */
static void peers_json_recovery_of_diverged_logs_converges(void **state)
{
    struct fixture *fx = *state;
    uint64_t cid = stopped_cluster_with_writes(fx, 50);
    append_raw(fx, 1, 1, 0, "extra"); /* an entry only node 1 received, in its last term */
    /* Node 2 is lost for good; 0 and 1 recover with a peers.json listing the two of them. */
    for (int i = 0; i < 2; i++) {
        write_peers(fx, i, 2);
        open_node(fx, i, false);
    }
    assert_int_equal(count_lines(fx, "recovered configuration from peers.json into a snapshot"), 2);
    assert_true(raft_node_cluster_id(fx->nodes[0].rn) == cid); /* survivors keep their cluster */
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    int L = stable_leader(fx);
    assert_int_equal(L, 1); /* the longer log */
    propose_and_wait(fx, L, 100, 110);
    struct want_count w2 = {-1, 61};
    assert_true(run_until(fx, fsm_reached, &w2, ITERS));
    assert_int_equal(fx->nodes[0].fsm.count, 61);
    assert_int_equal(fx->nodes[0].fsm.digest, fx->nodes[1].fsm.digest);
    for (int i = 0; i < 2; i++)
        assert_int_equal(raft_node_configuration(fx->nodes[i].rn)->n, 2);
}

/* The case a plain RecoverCluster leaves diverged: survivor 1's log is longer but older (two
 * uncommitted entries of term T), survivor 0's shorter and newer (one entry of term T+1). Node 0
 * wins; node 1's recovery snapshot claims entries the leader never had, so it must notice the
 * contradiction (core note 14) and take the leader's snapshot, even though it is below its own. */
static void peers_json_recovery_longer_but_older_log_is_replaced(void **state)
{
    struct fixture *fx = *state;
    stopped_cluster_with_writes(fx, 50);
    append_raw(fx, 1, 2, 0, "older");
    append_raw(fx, 0, 1, 1, "newer");
    for (int i = 0; i < 2; i++) {
        write_peers(fx, i, 2);
        open_node(fx, i, false);
    }
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    assert_int_equal(stable_leader(fx), 0);
    propose_and_wait(fx, 0, 100, 110);
    struct want_count w2 = {-1, 61};
    assert_true(run_until(fx, fsm_reached, &w2, ITERS));
    assert_true(count_lines(fx, "our state was never committed") >= 1);
    assert_int_equal(fx->nodes[1].fsm.count, fx->nodes[0].fsm.count);
    assert_int_equal(fx->nodes[1].fsm.digest, fx->nodes[0].fsm.digest);
    /* Restarted, node 1 comes back with the leader's history, not its old snapshot. */
    close_node(fx, 1, false);
    open_node(fx, 1, false);
    propose_and_wait(fx, 0, 110, 115);
    struct want_count w3 = {-1, 66};
    assert_true(run_until(fx, fsm_reached, &w3, ITERS));
    assert_int_equal(fx->nodes[1].fsm.digest, fx->nodes[0].fsm.digest);
}

/* A server with a log but no cluster id (its meta predates ids) may not be claimed by a peer
 * that names a cluster: it refuses the handshake instead of adopting the id. */
static void log_without_cluster_id_refuses_to_adopt(void **state)
{
    struct fixture *fx = *state;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    propose_and_wait(fx, L, 0, 5);
    int F = (L + 1) % MAX_NODES;
    close_node(fx, F, false);
    char dir[512], err[RAFT_META_ERRMAX];
    snprintf(dir, sizeof dir, "%s/raft", fx->nodes[F].dir);
    struct raft_meta md;
    assert_int_equal(raft_meta_load(dir, &md, err, sizeof err), 0);
    assert_true(md.cluster_id != 0);
    md.cluster_id = 0;
    assert_int_equal(raft_meta_save(dir, &md, err, sizeof err), 0);
    open_node(fx, F, false);
    assert_int_equal(raft_node_cluster_id(fx->nodes[F].rn), 0);
    propose_and_wait(fx, L, 5, 10);
    for (int i = 0; i < 200; i++)
        assert_true(loop_run_once(fx->l, 5) >= 0);
    assert_true(count_lines(fx, "this server's log predates cluster ids") >= 1);
    assert_int_equal(raft_node_cluster_id(fx->nodes[F].rn), 0);
    assert_true(fx->nodes[F].fsm.count < 10); /* it took nothing from the others */
}

static void on_read(void *ctx, int err, uint64_t index)
{
    struct read_got *g = ctx;
    g->calls++;
    g->err = err;
    g->index = index;
}

static bool read_done(struct fixture *fx, void *arg)
{
    (void)fx;
    return ((struct read_got *)arg)->calls > 0;
}

static void read_barrier_and_transfer(void **state)
{
    struct fixture *fx = *state;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    propose_and_wait(fx, L, 0, 10);
    struct read_got *g = &fx->rg;
    assert_int_equal(raft_node_read_index(fx->nodes[L].rn, on_read, g), 0);
    assert_true(run_until(fx, read_done, g, ITERS));
    assert_int_equal(g->calls, 1);
    assert_int_equal(g->err, 0);
    assert_true(g->index >= fx->props[9].index); /* covers every acknowledged write */
    assert_true(fx->nodes[L].fsm.count >= 10);

    int T = (L + 1) % MAX_NODES;
    int lost = fx->nodes[L].fsm.lost_leader, won = fx->nodes[T].fsm.became_leader;
    assert_int_equal(raft_node_transfer_leadership(fx->nodes[L].rn, fx->nodes[T].id), 0);
    bool ok = false;
    for (int i = 0; i < ITERS && !ok; i++) {
        ok = stable_leader(fx) == T;
        assert_true(loop_run_once(fx->l, 5) >= 0);
    }
    assert_true(ok);
    assert_int_equal(fx->nodes[L].fsm.lost_leader, lost + 1);
    assert_int_equal(fx->nodes[T].fsm.became_leader, won + 1);
    propose_and_wait(fx, T, 10, 20);
}

struct want_member {
    int node;
    raft_id id;
    bool present;
    bool voter;
};

static bool membership_is(struct fixture *fx, void *arg)
{
    const struct want_member *w = arg;
    const struct raft_server *s =
        raft_config_find(raft_node_configuration(fx->nodes[w->node].rn), w->id);
    if (!w->present)
        return s == NULL;
    return s != NULL && s->voter == w->voter;
}

static void add_and_remove_server(void **state)
{
    struct fixture *fx = *state;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    propose_and_wait(fx, 0, 0, 30);
    open_node(fx, 1, false); /* an empty server waiting to be added, as after `consul join` */
    assert_int_equal(raft_node_add_server(fx->nodes[0].rn, fx->nodes[1].id, fx->nodes[1].addr),
                     0);
    char want[160];
    snprintf(want, sizeof want, "raft: Added peer %s, starting replication", fx->nodes[1].addr);
    struct want_member voter = {0, fx->nodes[1].id, true, true};
    assert_true(run_until(fx, membership_is, &voter, ITERS)); /* caught up, then promoted */
    assert_int_equal(count_lines(fx, want), 1);
    struct want_count w = {1, 30};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    assert_int_equal(fx->nodes[1].fsm.digest, fx->nodes[0].fsm.digest);
    struct raft_node_stats st;
    raft_node_stats(fx->nodes[0].rn, &st);
    assert_int_equal(st.num_peers, 1);
    propose_and_wait(fx, 0, 30, 40); /* now committed by both */

    int rc = RAFT_EBUSY;
    for (int i = 0; i < ITERS && rc == RAFT_EBUSY; i++) {
        rc = raft_node_remove_server(fx->nodes[0].rn, fx->nodes[1].id);
        if (rc == RAFT_EBUSY)
            assert_true(loop_run_once(fx->l, 5) >= 0);
    }
    assert_int_equal(rc, 0);
    struct want_member gone = {0, fx->nodes[1].id, false, false};
    assert_true(run_until(fx, membership_is, &gone, ITERS));
    snprintf(want, sizeof want, "raft: Removed peer %s, stopping replication (Index: ",
             fx->nodes[1].addr);
    assert_int_equal(count_lines(fx, want), 1);
    rc = RAFT_EBUSY; /* until the removal commits */
    for (int i = 0; i < ITERS && rc == RAFT_EBUSY; i++) {
        rc = raft_node_add_server(fx->nodes[0].rn, 1, fx->nodes[0].addr);
        if (rc == RAFT_EBUSY)
            assert_true(loop_run_once(fx->l, 5) >= 0);
    }
    assert_int_equal(rc, RAFT_EEXIST);
    propose_and_wait(fx, 0, 40, 45); /* a one-server majority again */
}

static void crashed_node_recovers_and_catches_up(void **state)
{
    struct fixture *fx = *state;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    propose_and_wait(fx, L, 0, 50);
    int F = (L + 1) % MAX_NODES;
    struct want_count w = {F, 50};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    struct raft_node_stats before;
    raft_node_stats(fx->nodes[F].rn, &before);
    close_node(fx, F, true);

    propose_and_wait(fx, L, 50, 100); /* a majority of two still commits */

    open_node(fx, F, false);
    struct raft_node_stats after;
    raft_node_stats(fx->nodes[F].rn, &after);
    assert_int_equal(after.term, before.term);            /* term and vote from meta */
    assert_true(after.last_log_index >= before.last_log_index); /* the log from disk */
    assert_int_equal(raft_node_configuration(fx->nodes[F].rn)->n, 3);
    struct want_count w2 = {F, 100};
    assert_true(run_until(fx, fsm_reached, &w2, ITERS));
    assert_int_equal(fx->nodes[F].fsm.digest, fx->nodes[L].fsm.digest);
    assert_int_equal(fx->nodes[F].fsm.count, 100);
}

static void snapshot_and_install_snapshot(void **state)
{
    struct fixture *fx = *state;
    fx->threshold = 20;
    fx->trailing = 5;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    int F = (L + 1) % MAX_NODES;
    close_node(fx, F, true);

    propose_batches(fx, L, 0, 100, 10);
    struct raft_node_stats st;
    raft_node_stats(fx->nodes[L].rn, &st);
    assert_true(st.last_snapshot_index >= 80);
    assert_true(st.last_snapshot_term >= 1);
    assert_int_equal(count_snap_files(fx->nodes[L].dir), RAFT_NODE_SNAPSHOTS_KEPT);

    open_node(fx, F, false);
    struct want_count w = {F, 100};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    assert_true(fx->nodes[F].fsm.restores >= 1); /* it caught up through InstallSnapshot */
    assert_int_equal(fx->nodes[F].fsm.digest, fx->nodes[L].fsm.digest);
    assert_true(count_snap_files(fx->nodes[F].dir) >= 1);
    assert_true(count_lines(fx, "installing snapshot") >= 1);

    /* Restarted from its own snapshot plus log, it serves the same state again. */
    close_node(fx, F, false);
    open_node(fx, F, false);
    assert_true(fx->nodes[F].fsm.restores == 1);
    propose_and_wait(fx, L, 100, 110);
    struct want_count w2 = {F, 110};
    assert_true(run_until(fx, fsm_reached, &w2, ITERS));
    assert_int_equal(fx->nodes[F].fsm.digest, fx->nodes[L].fsm.digest);
}

static void corrupt_newest_snapshot_falls_back_or_refuses(void **state)
{
    struct fixture *fx = *state;
    fx->threshold = 10;
    fx->trailing = 2;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    propose_batches(fx, 0, 0, 45, 9);
    uint32_t digest = fx->nodes[0].fsm.digest;
    close_node(fx, 0, false);
    assert_int_equal(count_snap_files(fx->nodes[0].dir), 2);

    char path[512];
    assert_true(newest_snap(fx->nodes[0].dir, path, sizeof path));
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, 40), 1);
    b ^= 0x20;
    assert_int_equal(pwrite(fd, &b, 1, 40), 1);
    close(fd);

    open_node(fx, 0, false);
    assert_int_equal(count_lines(fx, "is unusable (checksum mismatch); falling back"), 1);
    struct want_count w = {0, 45};
    assert_true(run_until(fx, fsm_reached, &w, ITERS));
    assert_int_equal(fx->nodes[0].fsm.digest, digest);
    close_node(fx, 0, false);

    /* Without any usable snapshot the compacted prefix is gone: refuse, never start empty. */
    char dir[512];
    snprintf(dir, sizeof dir, "%s/raft/snapshots", fx->nodes[0].dir);
    rm_rf(dir);
    char err[512];
    assert_int_equal(open_node_rc(fx, 0, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "entries in between are lost"));
    assert_null(fx->nodes[0].rn);
}

static void leadership_lost_fails_pending_proposals(void **state)
{
    struct fixture *fx = *state;
    int L = start_cluster(fx);
    assert_true(L >= 0);
    propose_and_wait(fx, L, 0, 5);
    for (int i = 0; i < MAX_NODES; i++)
        if (i != L)
            close_node(fx, i, true);
    int lost = fx->nodes[L].fsm.lost_leader;
    propose_range(fx, L, 5, 8);
    struct want_props w = {5, 8};
    /* Check-quorum deposes a leader that hears from no majority within an election timeout. */
    assert_true(run_until(fx, props_done, &w, ITERS));
    for (int k = 5; k < 8; k++) {
        assert_int_equal(fx->props[k].calls, 1);
        assert_int_equal(fx->props[k].err, RAFT_NODE_ELOST);
    }
    assert_false(raft_node_is_leader(fx->nodes[L].rn));
    assert_int_equal(fx->nodes[L].fsm.lost_leader, lost + 1);
    assert_true(count_lines(fx, "Failed to contact quorum of nodes, stepping down") >= 1);
    assert_int_equal(raft_node_read_index(fx->nodes[L].rn, on_read, NULL), RAFT_ENOTLEADER);
}

/* A crash after an installed snapshot was persisted but before the log was reset leaves a
 * snapshot beyond the log: open finishes the installation instead of refusing or ignoring it. */
static void snapshot_beyond_log_finishes_install_at_open(void **state)
{
    struct fixture *fx = *state;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    propose_and_wait(fx, 0, 0, 5);
    struct raft_node_stats st;
    raft_node_stats(fx->nodes[0].rn, &st);
    close_node(fx, 0, false);

    struct tnode fake = {0};
    fake.fsm.count = 77;
    fake.fsm.last_index = 500;
    fake.fsm.digest = 0xabcdef;
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(fsm_snapshot(&fake, &b), 0);
    struct raft_server sv = {1, "", true};
    snprintf(sv.addr, sizeof sv.addr, "%s", fx->nodes[0].addr);
    struct raft_snapshot s = {.index = 500, .term = st.term, .config = {1, &sv},
                              .len = (uint32_t)b.len, .data = b.data};
    char dir[512], err[256];
    snprintf(dir, sizeof dir, "%s/raft/snapshots", fx->nodes[0].dir);
    assert_int_equal(raft_snapfile_save(dir, &s, err, sizeof err), 0);
    buf_free(&b);

    open_node(fx, 0, false);
    assert_int_equal(count_lines(fx, "finishing its installation"), 1);
    assert_int_equal(fx->nodes[0].fsm.restores, 1);
    assert_int_equal(fx->nodes[0].fsm.count, 77);
    raft_node_stats(fx->nodes[0].rn, &st);
    assert_int_equal(st.last_log_index, 500);
    assert_int_equal(st.last_snapshot_index, 500);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    propose_and_wait(fx, 0, 5, 8);
    assert_int_equal(fx->props[7].value, 80); /* applied on top of the snapshot's state */
    assert_true(fx->props[5].index > 500);
}

static void close_from_done(void *ctx, const struct raft_node_result *res)
{
    struct closer *c = ctx;
    on_done(c->p, res);
    struct fixture *fx = c->fx;
    if (fx->nodes[0].rn != NULL) {
        struct raft_node *rn = fx->nodes[0].rn;
        fx->nodes[0].rn = NULL;
        raft_node_close(rn);
        /* Deferred: the node still answers, refusing new work. */
        assert_int_equal(raft_node_propose(rn, "y", 1, on_done, &fx->props[9]),
                         RAFT_NODE_ESHUTDOWN);
    }
}

static void close_from_a_callback_is_deferred(void **state)
{
    struct fixture *fx = *state;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    for (int k = 0; k < 3; k++) {
        fx->closers[k] = (struct closer){fx, &fx->props[k]};
        assert_int_equal(raft_node_propose(fx->nodes[0].rn, "x", 1, close_from_done,
                                           &fx->closers[k]),
                         0);
    }
    struct want_props w = {0, 3};
    assert_true(run_until(fx, props_done, &w, ITERS));
    assert_null(fx->nodes[0].rn);
    for (int i = 0; i < 5; i++)
        assert_true(loop_run_once(fx->l, 0) >= 0); /* the freed node's hook and timer are gone */
    assert_int_equal(fx->props[0].err, 0);
    for (int k = 0; k < 3; k++)
        assert_int_equal(fx->props[k].calls, 1);
    assert_int_equal(fx->props[9].calls, 0);
}

static void refused_snapshot_is_retried_and_oversized_entry_refused(void **state)
{
    struct fixture *fx = *state;
    fx->threshold = 10;
    fx->trailing = 2;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    fx->nodes[0].fsm.refuse_snapshots = 1;
    propose_batches(fx, 0, 0, 10, 10);
    assert_int_equal(count_lines(fx, "the state machine refused a snapshot"), 1);
    assert_int_equal(count_snap_files(fx->nodes[0].dir), 0);
    propose_batches(fx, 0, 10, 30, 10);
    assert_true(count_snap_files(fx->nodes[0].dir) >= 1); /* the core asked once; we retried */
    struct raft_node_stats st;
    raft_node_stats(fx->nodes[0].rn, &st);
    assert_true(st.last_snapshot_index >= 22);

    size_t big = RAFT_NODE_MAX_ENTRY + 1;
    char *p = calloc(1, big);
    assert_int_equal(raft_node_propose(fx->nodes[0].rn, p, big, on_done, &fx->props[40]),
                     RAFT_ETOOBIG);
    assert_int_equal(raft_node_propose(fx->nodes[0].rn, p, big - 1, on_done, &fx->props[40]), 0);
    free(p);
    struct want_props w = {40, 41};
    assert_true(run_until(fx, props_done, &w, ITERS));
    assert_int_equal(fx->props[40].err, 0);
}

static void fsync_failure_is_fatal(void **state)
{
    struct fixture *fx = *state;
    fx->use_io = true;
    open_node(fx, 0, true);
    assert_true(run_until(fx, has_leader, NULL, ITERS));
    propose_and_wait(fx, 0, 0, 3);
    fx->fio.fail_sync = true;
    propose_range(fx, 0, 3, 5);
    int idx = 0;
    assert_true(run_until(fx, node_failed, &idx, ITERS));
    assert_int_equal(fx->nodes[0].fsm.fatal, 1);
    assert_true(raft_node_failed(fx->nodes[0].rn));
    assert_true(count_lines(fx, "[ERR] raft: failed to sync the log") >= 1);
    assert_int_equal(fx->props[3].calls, 0); /* never acknowledged */
    assert_int_equal(fx->nodes[0].fsm.count, 3);
    assert_int_equal(raft_node_propose(fx->nodes[0].rn, "x", 1, on_done, &fx->props[9]),
                     RAFT_NODE_EFAILED);
    close_node(fx, 0, false);
    assert_int_equal(fx->props[3].calls, 1);
    assert_int_equal(fx->props[3].err, RAFT_NODE_EFAILED);
    assert_int_equal(fx->props[4].err, RAFT_NODE_EFAILED);
}

static void malformed_peers_json_refuses_to_start(void **state)
{
    struct fixture *fx = *state;
    char path[512];
    snprintf(path, sizeof path, "%s/raft", fx->nodes[0].dir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/raft/peers.json", fx->nodes[0].dir);
    FILE *f = fopen(path, "w");
    fputs("[{\"id\": \"1\", \"adress\": \"127.0.0.1:8300\"}]", f);
    fclose(f);
    char err[512];
    assert_int_equal(open_node_rc(fx, 0, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "peers.json"));
    assert_non_null(strstr(err, "unknown key \"adress\""));
    assert_int_equal(access(path, F_OK), 0); /* left for the operator to fix */
}

/* ---- pure parts: peers.json and snapshot files ---- */

static void peers_parse_forms(void **state)
{
    (void)state;
    struct raft_config c;
    char err[256];
    const char *ok = "[{\"id\": \"12\", \"address\": \"10.0.0.1:8300\"},"
                     " {\"id\": \"0x1f\", \"address\": \"10.0.0.2:8300\", \"non_voter\": true},"
                     " {\"id\": 7, \"address\": \"[::1]:8300\", \"non_voter\": false}]";
    assert_int_equal(raft_peers_parse(ok, strlen(ok), NULL, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.servers[0].id, 12);
    assert_true(c.servers[0].voter);
    assert_int_equal(c.servers[1].id, 0x1f);
    assert_false(c.servers[1].voter);
    assert_int_equal(c.servers[2].id, 7);
    struct raft_config known;
    raft_config_copy(&known, &c);
    raft_config_free(&c);

    const char *old = "[\"10.0.0.2:8300\", \"10.0.0.1:8300\"]";
    assert_int_equal(raft_peers_parse(old, strlen(old), &known, &c, err, sizeof err), 0);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.servers[0].id, 0x1f);
    assert_true(c.servers[0].voter);
    raft_config_free(&c);
    assert_int_equal(raft_peers_parse(old, strlen(old), NULL, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "needs server ids"));
    const char *unknown = "[\"10.9.9.9:8300\"]";
    assert_int_equal(raft_peers_parse(unknown, strlen(unknown), &known, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "10.9.9.9:8300"));
    raft_config_free(&known);

    static const struct {
        const char *text;
        const char *why;
    } bad[] = {
        {"", "line 1"},
        {"{}", "expected a JSON array"},
        {"[]", "empty"},
        {"[{\"id\": \"0\", \"address\": \"1.2.3.4:1\"}]", "nonzero"},
        {"[{\"id\": \"abc\", \"address\": \"1.2.3.4:1\"}]", "nonzero"},
        {"[{\"id\": \"18446744073709551616\", \"address\": \"1.2.3.4:1\"}]", "nonzero"},
        {"[{\"id\": \"1\"}]", "needs \"id\" and \"address\""},
        {"[{\"id\": \"1\", \"address\": \"host:1\"}]", "address \"host:1\""},
        {"[{\"id\": \"1\", \"address\": \"1.2.3.4:1\", \"non_voter\": 1}]", "true or false"},
        {"[{\"id\": \"1\", \"address\": \"1.2.3.4:1\"}, {\"id\": \"1\", \"address\": "
         "\"1.2.3.5:1\"}]",
         "duplicate id"},
        {"[{\"id\": \"1\", \"address\": \"1.2.3.4:1\"}, {\"id\": \"2\", \"address\": "
         "\"1.2.3.4:1\"}]",
         "duplicate address"},
        {"[{\"id\": \"1\", \"address\": \"1.2.3.4:1\", \"non_voter\": true}]", "no voter"},
        {"[42]", "expected an object"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        int rc = raft_peers_parse(bad[i].text, strlen(bad[i].text), NULL, &c, err, sizeof err);
        if (rc != -1 || strstr(err, bad[i].why) == NULL)
            fail_msg("case %zu: rc %d, err \"%s\", want \"%s\"", i, rc, err, bad[i].why);
    }
}

static void snapfile_roundtrip_and_every_flip_detected(void **state)
{
    (void)state;
    struct raft_server sv[2] = {{1, "127.0.0.1:8300", true}, {2, "127.0.0.2:8300", false}};
    uint8_t data[37];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7);
    struct raft_snapshot s = {.index = 99, .term = 4, .config = {2, sv}, .len = sizeof data,
                              .data = data};
    struct buf b;
    buf_init(&b, 0);
    assert_int_equal(raft_snapfile_encode(&s, &b), 0);
    struct raft_snapshot d;
    char err[256];
    assert_int_equal(raft_snapfile_decode(b.data, b.len, &d, err, sizeof err), 0);
    assert_int_equal(d.index, 99);
    assert_int_equal(d.term, 4);
    assert_true(raft_config_equal(&d.config, &s.config));
    assert_int_equal(d.len, sizeof data);
    assert_memory_equal(d.data, data, sizeof data);
    raft_snapfile_free(&d);
    for (size_t i = 0; i < b.len; i++) {
        for (int bit = 0; bit < 8; bit += 3) {
            b.data[i] ^= (uint8_t)(1u << bit);
            assert_int_equal(raft_snapfile_decode(b.data, b.len, &d, err, sizeof err), -1);
            b.data[i] ^= (uint8_t)(1u << bit);
        }
    }
    for (size_t len = 0; len < b.len; len++)
        assert_int_equal(raft_snapfile_decode(b.data, len, &d, err, sizeof err), -1);
    buf_free(&b);
}

static void duration_text_like_go(void **state)
{
    (void)state;
    char out[32];
    assert_string_equal(raft_node_format_duration(0, out, sizeof out), "0s");
    assert_string_equal(raft_node_format_duration(999, out, sizeof out), "999ns");
    assert_string_equal(raft_node_format_duration(1500, out, sizeof out), "1.5µs");
    assert_string_equal(raft_node_format_duration(23500000, out, sizeof out), "23.5ms");
    assert_string_equal(raft_node_format_duration(1000000, out, sizeof out), "1ms");
    assert_string_equal(raft_node_format_duration(1250000000, out, sizeof out), "1.25s");
    assert_string_equal(raft_node_format_duration(123000000000ull, out, sizeof out), "2m3s");
    assert_string_equal(raft_node_format_duration(3600000000000ull, out, sizeof out), "1h0m0s");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(peers_parse_forms),
        cmocka_unit_test(snapfile_roundtrip_and_every_flip_detected),
        cmocka_unit_test(duration_text_like_go),
        cmocka_unit_test_setup_teardown(single_bootstrap_node_elects_itself_and_applies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(non_bootstrap_empty_node_never_elects_itself, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(three_nodes_from_peers_json_replicate, setup, teardown),
        cmocka_unit_test_setup_teardown(peers_json_recovery_of_diverged_logs_converges, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(log_without_cluster_id_refuses_to_adopt, setup, teardown),
        cmocka_unit_test_setup_teardown(peers_json_recovery_longer_but_older_log_is_replaced,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(read_barrier_and_transfer, setup, teardown),
        cmocka_unit_test_setup_teardown(add_and_remove_server, setup, teardown),
        cmocka_unit_test_setup_teardown(crashed_node_recovers_and_catches_up, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_and_install_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_newest_snapshot_falls_back_or_refuses, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(leadership_lost_fails_pending_proposals, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_beyond_log_finishes_install_at_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(close_from_a_callback_is_deferred, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_snapshot_is_retried_and_oversized_entry_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(fsync_failure_is_fatal, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_peers_json_refuses_to_start, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
