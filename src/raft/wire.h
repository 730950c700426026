/* wire.h — the binary frames Raft servers exchange over TCP: header, handshake, every message,
 * snapshot chunks and their reassembly. The normative description is man/tribune-raft.7. */
#ifndef TRIBUNE_RAFT_WIRE_H
#define TRIBUNE_RAFT_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "raft/msg.h"

#define RAFT_WIRE_MAGIC 0x54524252u /* "TRBR" */
#define RAFT_WIRE_VERSION_MIN 1
#define RAFT_WIRE_VERSION_MAX 1
#define RAFT_WIRE_HEADER_LEN 16
/* A frame's body never exceeds this; a header declaring more closes the connection before a
 * single body byte is buffered, so a peer cannot make us hold more than this per connection. */
#define RAFT_WIRE_MAX_BODY (4u * 1024 * 1024)
#define RAFT_WIRE_MAX_FRAME (RAFT_WIRE_HEADER_LEN + RAFT_WIRE_MAX_BODY)
/* Snapshot bytes per chunk: well under the frame limit so the chunk header and config fit. */
#define RAFT_WIRE_CHUNK_DATA (1u * 1024 * 1024)
#define RAFT_WIRE_CLUSTER_MAX 64 /* datacenter / cluster name, NUL included */
#define RAFT_WIRE_REASON_MAX 256 /* refusal text, NUL included */
/* Header flags in the low byte must be understood by the receiver (unknown ones are an error);
 * the high byte is advisory and ignored when unknown. Version 1 defines none. */
#define RAFT_WIRE_FLAGS_CRITICAL 0x00ffu

/* Frame types: the raft_msg_type values 1..7 (5, the whole snapshot, never travels as such),
 * then the wire's own. WARNING: only append. */
enum raft_wire_type {
    RAFT_WIRE_HELLO = 8,          /* first frame in each direction of a connection */
    RAFT_WIRE_SNAPSHOT_CHUNK = 9, /* one piece of an InstallSnapshot */
    RAFT_WIRE_REFUSE = 10,        /* why the sender is about to close the connection */
};

/* The handshake: who is speaking, for which cluster, and which versions it can speak. */
struct raft_wire_hello {
    uint8_t version_min;
    uint8_t version_max;
    raft_id id;
    char addr[RAFT_ADDR_MAX];
    char cluster[RAFT_WIRE_CLUSTER_MAX]; /* the datacenter name */
    uint64_t cluster_id; /* the Raft cluster the sender's log belongs to; 0: none yet */
};

struct raft_wire_refuse {
    char reason[RAFT_WIRE_REASON_MAX];
};

/* One InstallSnapshot chunk. config is present (n > 0) only in the chunk at offset 0. */
struct raft_wire_chunk {
    raft_id from;
    raft_id to;
    uint64_t term;
    uint64_t last_index;
    uint64_t last_term;
    uint64_t offset;
    uint64_t total;
    bool done;
    struct raft_config config;
    uint32_t len;
    uint8_t *data;
};

/* A decoded frame. It owns everything its pointers reach (entries, their data, config, chunk
 * data) until raft_wire_frame_free; the input buffer can be reused as soon as decode returns. */
struct raft_wire_frame {
    uint8_t version;
    uint8_t type; /* enum raft_msg_type or enum raft_wire_type */
    uint16_t flags;
    union {
        struct raft_msg msg; /* types 1..7 except 5 */
        struct raft_wire_hello hello;
        struct raft_wire_chunk chunk;
        struct raft_wire_refuse refuse;
    } u;
    void *mem; /* the single allocation behind entries / chunk data */
};

enum raft_wire_status {
    RAFT_WIRE_ERROR = -1,    /* malformed: close the connection, err says why */
    RAFT_WIRE_NEED_MORE = 0, /* not a whole frame yet; nothing consumed */
    RAFT_WIRE_OK = 1,        /* one frame decoded into *out, *consumed bytes used */
};

/* Decodes the first frame in p[0, len). On RAFT_WIRE_OK the caller owns *out and must call
 * raft_wire_frame_free. On error err receives a one-line reason; nothing needs freeing. Errors are
 * reported as early as the bytes allow (a bad magic or oversized length needs only the header). */
enum raft_wire_status raft_wire_decode(const uint8_t *p, size_t len, struct raft_wire_frame *out,
                                       size_t *consumed, char *err, size_t errlen);
void raft_wire_frame_free(struct raft_wire_frame *f);

/* Appends the frame(s) for m to out: one frame, except that an AppendEntries too large for one
 * frame is split into several consecutive ones (each a valid AppendEntries on its own), and a
 * snapshot becomes all its chunks. 0, or -1 (out unchanged) when out cannot grow, a single entry
 * cannot fit in a frame, or the message is not encodable (unknown type, zero ids, ...). */
int raft_wire_encode(const struct raft_msg *m, struct buf *out);
int raft_wire_encode_hello(const struct raft_wire_hello *h, struct buf *out);
/* reason is cut to RAFT_WIRE_REASON_MAX-1 bytes. */
int raft_wire_encode_refuse(const char *reason, struct buf *out);

/* Emits a snapshot one chunk at a time, so a sender can keep its output queue bounded. The
 * message (and its data) must outlive the iterator. */
struct raft_wire_snap_iter {
    const struct raft_msg *m;
    uint64_t off;
    uint32_t chunk; /* data bytes per chunk, 1..RAFT_WIRE_CHUNK_DATA */
    bool finished;
};

/* chunk 0 means RAFT_WIRE_CHUNK_DATA; larger values are clamped to it. */
void raft_wire_snap_iter_init(struct raft_wire_snap_iter *it, const struct raft_msg *m,
                              uint32_t chunk);
/* 1 when one chunk was appended to out, 0 when all were, -1 on error (out unchanged). */
int raft_wire_snap_iter_next(struct raft_wire_snap_iter *it, struct buf *out);

/* Accumulates the chunks of one snapshot from one peer. Chunks must arrive in order; a chunk at
 * offset 0 starts over (the leader restarted the transfer). */
struct raft_wire_snap_asm {
    uint64_t cap; /* the largest snapshot accepted, bytes */
    bool active;
    raft_id from;
    raft_id to;
    uint64_t term;
    uint64_t last_index;
    uint64_t last_term;
    uint64_t total;
    struct raft_config config;
    struct buf data;
};

void raft_wire_snap_asm_init(struct raft_wire_snap_asm *a, uint64_t cap);
void raft_wire_snap_asm_free(struct raft_wire_snap_asm *a);
/* Feeds one chunk (the caller still frees its frame). 0: more chunks needed. 1: *out is a whole
 * RAFT_MSG_SNAPSHOT that owns its config and data (release with raft_wire_snapshot_free), and the
 * assembler is empty again. -1: the chunk was refused (err says why) and the assembler reset. */
int raft_wire_snap_asm_feed(struct raft_wire_snap_asm *a, const struct raft_wire_chunk *c,
                            struct raft_msg *out, char *err, size_t errlen);
void raft_wire_snapshot_free(struct raft_msg *m);

/* The version both sides speak, or -1 with a reason: no common version, other cluster, zero id,
 * our own id (a connection to ourselves), or not the expected peer (expect_id 0: anyone). */
int raft_wire_hello_check(const struct raft_wire_hello *local, const struct raft_wire_hello *remote,
                          raft_id expect_id, char *err, size_t errlen);

/* "AppendEntries", "Hello", ... or "unknown" — for log lines. */
const char *raft_wire_type_name(uint8_t type);

#endif
