/* westream-watchdog: stops an engine that would outlive a killed westream.
 *
 *   westream-watchdog PGID GRACE_MS [PATH...]      (stdin: a pipe from westream)
 *
 * westream starts it beside every engine it runs directly (the IMD path has
 * its own supervisor). It waits on stdin: "done" followed by EOF means
 * westream finished and cleaned up itself; EOF alone means westream died
 * (SIGKILL, the OOM killer) without stopping the engine. Then it sends
 * SIGTERM to the engine's process group, SIGKILL after GRACE_MS if anything
 * of it remains, and removes PATHs (westream's private directory or socket),
 * so no engine and no temporary file outlives westream.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  remove(path);
  return 0;
}

static int group_alive(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: westream-watchdog PGID GRACE_MS [PATH...] (run by westream)\n");
    return 2;
  }
  const pid_t pgid = (pid_t)atol(argv[1]);
  const long grace_ms = atol(argv[2]);
  if (pgid <= 1 || grace_ms < 0) {
    fprintf(stderr, "westream-watchdog: bad process group %s or grace %s\n", argv[1], argv[2]);
    return 2;
  }
  /* Terminal signals are for westream and its engine, not for us. */
  signal(SIGINT, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGPIPE, SIG_IGN);

  char buf[64];
  size_t got = 0;
  for (;;) {
    ssize_t n = read(0, buf + got, sizeof buf - 1 - got);
    if (n > 0) {
      got += (size_t)n;
      if (got < sizeof buf - 1) continue;
    } else if (n < 0 && errno == EINTR) {
      continue;
    }
    break;
  }
  buf[got] = '\0';
  if (strncmp(buf, "done", 4) == 0) return 0;

  /* westream is gone without saying so: stop what it started. */
  if (group_alive(pgid)) {
    kill(-pgid, SIGTERM);
    struct timespec tick = {0, 20 * 1000 * 1000};
    for (long waited = 0; waited < grace_ms && group_alive(pgid); waited += 20) nanosleep(&tick, NULL);
    if (group_alive(pgid)) kill(-pgid, SIGKILL);
  }
  for (int i = 3; i < argc; i++) nftw(argv[i], remove_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
