/*
 * westream wire layout, protocol version 1.
 *
 * Shared by the consumer (the Node addon) and every producer (C library,
 * Python extension). Everything here is host byte order: both ends always run
 * on the same node. Changing any layout below requires a new protocol version.
 *
 * Control plane: one SOCK_SEQPACKET Unix socket. The producer connects and
 * sends HELLO; the consumer answers SETUP and passes three fds with
 * SCM_RIGHTS: the ring memfd (sealed against shrinking and growing), the
 * "data" eventfd (producer -> consumer: frames published) and the "space"
 * eventfd (consumer -> producer: slots released). The producer ends with END
 * (frame count); a hang-up without END means the producer died. The consumer
 * may send ERROR (with a message) before closing.
 *
 * Data plane: a single-producer single-consumer ring in the memfd. The
 * producer writes a slot, then release-stores `published`; the consumer
 * reads slots up to `published`, then release-stores `released`. Each side
 * signals the other's eventfd only when that side has announced it is about
 * to sleep (the futex "waiters" pattern), so a busy stream makes no wake-up
 * system calls.
 */
#ifndef WESTREAM_WIRE_H
#define WESTREAM_WIRE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define WESTREAM_PROTOCOL_VERSION 1u

/* "WSTM" and "WSTMRING" as little-endian integers. */
#define WESTREAM_MSG_MAGIC 0x4d545357u
#define WESTREAM_RING_MAGIC 0x474e49524d545357ull

/* Which arrays and fields a stream carries (negotiated once). */
enum westream_content {
  WESTREAM_POSITIONS = 1u << 0,  /* always present */
  WESTREAM_VELOCITIES = 1u << 1,
  WESTREAM_FORCES = 1u << 2,
  WESTREAM_CONTENT_ALL = (1u << 3) - 1
};

/* Which optional fields one frame carries (per slot). */
enum westream_frame_flags {
  WESTREAM_HAS_STEP = 1u << 0,
  WESTREAM_HAS_TIME = 1u << 1,
  WESTREAM_HAS_BOX = 1u << 2,
  WESTREAM_FRAME_FLAGS_ALL = (1u << 3) - 1
};

enum westream_msg_type {
  WESTREAM_MSG_HELLO = 1, /* producer -> consumer */
  WESTREAM_MSG_SETUP = 2, /* consumer -> producer, carries 3 fds */
  WESTREAM_MSG_END = 3,   /* producer -> consumer */
  WESTREAM_MSG_ERROR = 4  /* consumer -> producer */
};

/* Limits the consumer enforces on what a producer asks for. */
#define WESTREAM_MAX_ATOMS (1u << 26)  /* 67 M atoms: 805 MB of positions */
#define WESTREAM_MAX_SLOTS 1024u
#define WESTREAM_DEFAULT_SLOTS 8u          /* fewest slots the consumer picks by itself */
#define WESTREAM_DEFAULT_RING_BYTES (4u << 20) /* ...else as many as fit in 4 MiB, up to MAX_SLOTS */
#define WESTREAM_ERROR_TEXT 240

typedef struct westream_msg_header {
  uint32_t magic;   /* WESTREAM_MSG_MAGIC */
  uint16_t version; /* WESTREAM_PROTOCOL_VERSION */
  uint16_t type;    /* westream_msg_type */
} westream_msg_header;

typedef struct westream_msg_hello {
  westream_msg_header h;
  uint32_t natoms;
  uint32_t content;    /* westream_content bits */
  uint32_t nslots;     /* requested ring depth, 0 = consumer's choice */
  int32_t pid;         /* informational: shows up in logs */
} westream_msg_hello;

typedef struct westream_msg_setup {
  westream_msg_header h;
  uint32_t natoms;
  uint32_t content;
  uint32_t nslots;
  uint32_t reserved;
  uint64_t ring_bytes; /* total memfd size */
} westream_msg_setup;

typedef struct westream_msg_end {
  westream_msg_header h;
  uint64_t frames; /* frames published in total */
} westream_msg_end;

typedef struct westream_msg_error {
  westream_msg_header h;
  int32_t code;
  char text[WESTREAM_ERROR_TEXT]; /* NUL-terminated */
} westream_msg_error;

/* Ring header: first page of the memfd. Counters sit on their own 128-byte
 * blocks so producer and consumer never share a cache line (or its prefetch
 * pair). Static fields are written by the consumer before the fd is passed
 * and never change; a producer still validates them. */
#define WESTREAM_RING_HEADER_BYTES 4096u
#define WESTREAM_SLOT_HEADER_BYTES 64u  /* arrays start here, 64-byte aligned */
#define WESTREAM_SLOT_ALIGN 4096u       /* slot stride is a multiple of this */

typedef struct westream_ring_header {
  uint64_t magic;
  uint32_t version;
  uint32_t natoms;
  uint32_t content;
  uint32_t nslots;
  uint64_t slot_stride;      /* bytes between slots, multiple of 4096 */
  uint64_t slots_offset;     /* = WESTREAM_RING_HEADER_BYTES */
  uint64_t array_offset[3];  /* positions, velocities, forces within a slot; 0 = absent */
  uint8_t pad0[128 - 64];
  /* producer line */
  uint64_t published;        /* frames published so far (atomic) */
  uint32_t consumer_waiting; /* consumer set it before sleeping (atomic) */
  uint8_t pad1[128 - 12];
  /* consumer line */
  uint64_t released;         /* frames the consumer has finished with (atomic) */
  uint32_t producer_waiting; /* producer set it before sleeping (atomic) */
  uint8_t pad2[128 - 12];
} westream_ring_header;

/* Header at the start of every slot. */
typedef struct westream_slot_header {
  uint64_t seq;    /* frame index, must equal the ring position */
  int64_t step;    /* MD step, valid with WESTREAM_HAS_STEP */
  double time;     /* ps, valid with WESTREAM_HAS_TIME */
  uint32_t flags;  /* westream_frame_flags */
  uint32_t natoms; /* must equal the negotiated atom count */
  float box[6];    /* unit cell, see below, valid with WESTREAM_HAS_BOX */
} westream_slot_header;

/* Box: the triclinic cell as the lower-triangular matrix GROMACS and OpenMM
 * use, in Å: a = (box[0], 0, 0), b = (box[1], box[2], 0),
 * c = (box[3], box[4], box[5]). Six numbers say it all for any cell an MD
 * engine can run. With WESTREAM_HAS_BOX, ax, by and cz must be positive and
 * all six finite, or the consumer fails the stream; a non-periodic system
 * sends no box. */

#ifdef __cplusplus
static_assert(sizeof(westream_ring_header) == 384, "ring header layout");
static_assert(sizeof(westream_slot_header) == 56, "slot header layout");
static_assert(sizeof(westream_msg_hello) == 24, "hello layout");
static_assert(sizeof(westream_msg_setup) == 32, "setup layout");
static_assert(sizeof(westream_msg_end) == 16, "end layout");
}
#else
_Static_assert(sizeof(westream_ring_header) == 384, "ring header layout");
_Static_assert(sizeof(westream_slot_header) == 56, "slot header layout");
#endif

#endif /* WESTREAM_WIRE_H */
