/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the control socket's server thread.
 *
 * One thread polls the listening socket, a wake-up eventfd and every
 * client.  control_start and control_stop (control.h) create the
 * socket and the eventfd, start the thread with control_serve and stop
 * it by writing to the eventfd.
 */
#ifndef FLEECE_CONTROL_SERVER_H
#define FLEECE_CONTROL_SERVER_H

#include <sys/types.h>

/* At most this many clients at once; more are answered "busy". */
#define CONTROL_MAX_CLIENTS 64

struct control_server {
  int listen_fd;                /* non-blocking, listening */
  int wake_fd;                  /* eventfd: readable means stop */
  mode_t mode;                  /* the socket file's mode */
  gid_t gid;                    /* the socket file's group */
};

/* The thread's body (arg: a struct control_server *, which must
 * outlive the thread).  Returns when wake_fd becomes readable, after
 * closing every client.
 */
extern void *control_serve (void *arg);

/* 1 if the peer on fd may use the socket (root, nbdkit's own uid, or
 * a member of the socket's group when mode grants the group write
 * access), 0 if not (why filled), -1 if the credentials could not be
 * read (why filled).
 */
extern int control_peer_allowed (int fd, const struct control_server *srv,
                                 char *why, size_t why_len);

#endif /* FLEECE_CONTROL_SERVER_H */
