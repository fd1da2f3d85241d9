/* Socket baseline sender for `npm run bench:channel`, rows (c) and (d).
 *
 *   socket_sender (--unix PATH | --tcp) --bytes B --frames F
 *
 * Listens (on PATH, or on 127.0.0.1 with an ephemeral port), prints
 * "READY unix:PATH" or "READY tcp:PORT" on stdout, accepts one connection and
 * writes F frames of B bytes back to back, one write() per frame, then closes.
 *
 * It does what westream-synthetic --fast does, so the rows compare transports
 * and not producers: two pre-generated frames alternate and the first float
 * carries the frame number. The kernel's copy out of the user buffer stands
 * in for the producer's memcpy into the ring slot. Nagle stays on (the
 * default): turning it off only adds packets for back-to-back writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "socket_sender: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_all(int fd, const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *unix_path = NULL;
  int tcp = 0;
  size_t bytes = 0;
  long long frames = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--unix") && i + 1 < argc) unix_path = argv[++i];
    else if (!strcmp(argv[i], "--tcp")) tcp = 1;
    else if (!strcmp(argv[i], "--bytes") && i + 1 < argc) bytes = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--frames") && i + 1 < argc) frames = atoll(argv[++i]);
    else {
      fprintf(stderr, "usage: socket_sender (--unix PATH | --tcp) --bytes B --frames F\n");
      return 2;
    }
  }
  if ((!unix_path) == (!tcp) || bytes < 4 || frames <= 0) {
    fprintf(stderr, "socket_sender: need exactly one of --unix/--tcp, --bytes >= 4 and --frames > 0\n");
    return 2;
  }

  int lfd;
  if (tcp) {
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0) die("bind");
    socklen_t len = sizeof sa;
    if (getsockname(lfd, (struct sockaddr *)&sa, &len) != 0) die("getsockname");
    if (listen(lfd, 1) != 0) die("listen");
    printf("READY tcp:%u\n", ntohs(sa.sin_port));
  } else {
    lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) die("socket");
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    if (strlen(unix_path) >= sizeof sa.sun_path) {
      fprintf(stderr, "socket_sender: path too long\n");
      return 2;
    }
    strcpy(sa.sun_path, unix_path);
    unlink(unix_path);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0) die("bind");
    if (listen(lfd, 1) != 0) die("listen");
    printf("READY unix:%s\n", unix_path);
  }
  fflush(stdout);

  /* Same content as the synthetic producer's --fast mode: two frames. */
  unsigned char *scratch[2];
  for (int k = 0; k < 2; k++) {
    scratch[k] = malloc(bytes);
    if (!scratch[k]) die("malloc");
    uint64_t s = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
    for (size_t i = 0; i < bytes; i++) {
      s = s * 6364136223846793005ull + 1442695040888963407ull;
      scratch[k][i] = (unsigned char)(s >> 56);
    }
  }

  int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
  if (fd < 0) die("accept");
  close(lfd);
  if (unix_path) unlink(unix_path);

  const double t0 = now_s();
  for (long long k = 0; k < frames; k++) {
    float tag = (float)k;
    memcpy(scratch[k & 1], &tag, sizeof tag);
    if (write_all(fd, scratch[k & 1], bytes) != 0) die("write");
  }
  const double elapsed = now_s() - t0;
  close(fd);
  fprintf(stderr, "socket_sender: %lld frames of %zu bytes in %.6f s\n", frames, bytes, elapsed);
  free(scratch[0]);
  free(scratch[1]);
  return 0;
}
