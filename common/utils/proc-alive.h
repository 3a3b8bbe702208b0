/* nbdkit-fleece: is the process that wrote a crash-recovery marker
 * still running?
 *
 * proc_alive_same_program (pid): true if pid is a live process (not a
 * zombie) running the same program as the caller (the name in
 * /proc/PID/stat: "nbdkit", or the loader's or valgrind's name when
 * nbdkit runs under a checker), and is not the caller.  A zombie is
 * dead: a killed daemon stays one until init reaps it.  When /proc
 * cannot be read for another reason than "no such process", it
 * answers true: a marker is then left alone rather than acted on.
 */
#ifndef FLEECE_PROC_ALIVE_H
#define FLEECE_PROC_ALIVE_H

#include <stdbool.h>

extern bool proc_alive_same_program (long pid);

#endif /* FLEECE_PROC_ALIVE_H */
