// A UDP sink for the capacity benchmark: opens loopback sockets on request and counts every
// datagram that reaches them, cheaply (epoll + recvmmsg), so the sink is not what loses packets.
// Commands on stdin, one per line: "open" prints the new socket's port; "count" prints the total.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 64

int main(void) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = 0};
  epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
  static char bufs[BATCH][1600];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  for (int i = 0; i < BATCH; i++) {
    iov[i].iov_base = bufs[i];
    iov[i].iov_len = sizeof bufs[i];
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  unsigned long long count = 0;
  char line[64];
  size_t used = 0;
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (;;) {
    struct epoll_event events[64];
    int n = epoll_wait(ep, events, 64, -1);
    for (int i = 0; i < n; i++) {
      int fd = events[i].data.fd;
      if (fd != 0) {
        int got;
        while ((got = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0) count += (unsigned long long)got;
        continue;
      }
      ssize_t r = read(0, line + used, sizeof line - used - 1);
      if (r <= 0) return 0;  // the benchmark went away
      used += (size_t)r;
      line[used] = 0;
      char *nl;
      while ((nl = strchr(line, '\n')) != NULL) {
        *nl = 0;
        if (strcmp(line, "count") == 0) {
          printf("%llu\n", count);
        } else if (strcmp(line, "open") == 0) {
          int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
          int size = 1 << 20;
          setsockopt(s, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
          struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
          socklen_t len = sizeof a;
          if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(s, (struct sockaddr *)&a, &len) != 0) {
            printf("error\n");
          } else {
            struct epoll_event se = {.events = EPOLLIN, .data.fd = s};
            epoll_ctl(ep, EPOLL_CTL_ADD, s, &se);
            printf("%d\n", ntohs(a.sin_port));
          }
        }
        size_t rest = used - (size_t)(nl + 1 - line);
        memmove(line, nl + 1, rest);
        used = rest;
        line[used] = 0;
      }
    }
  }
}
