/* Channel addresses: a socket path, or "@name" for the Linux abstract namespace. */
#ifndef WESTREAM_ADDRESS_H
#define WESTREAM_ADDRESS_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

/* Fills `sa`/`len` from `address`; on failure writes why into err and returns 0. */
static inline int westream_parse_address(const char *address, struct sockaddr_un *sa, socklen_t *len, char *err,
                                         size_t err_size) {
  memset(sa, 0, sizeof *sa);
  sa->sun_family = AF_UNIX;
  const size_t n = strlen(address);
  if (n == 0 || (address[0] == '@' && n == 1)) {
    snprintf(err, err_size, "empty channel address");
    return 0;
  }
  if (n >= sizeof sa->sun_path) {
    snprintf(err, err_size, "channel address is %zu bytes, the limit for a Unix socket is %zu: \"%s\"", n,
             sizeof sa->sun_path - 1, address);
    return 0;
  }
  if (address[0] == '@') {
    /* Abstract: leading NUL, no terminator, length counts only the name. */
    memcpy(sa->sun_path + 1, address + 1, n - 1);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
  } else {
    memcpy(sa->sun_path, address, n);
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  }
  return 1;
}

#endif
