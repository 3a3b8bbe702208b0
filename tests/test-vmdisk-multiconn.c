/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk under concurrent writers over multi-conn.
 *
 * NCONN connections to one vmdisk server write at the same time, each
 * its own stripes of STRIPE bytes (stripe k belongs to connection
 * k % NCONN).  STRIPE is not a multiple of any sector size, so
 * neighbouring stripes of different connections share sectors: with
 * cache=none every write is a read-modify-write of shared sectors,
 * and a missing lock loses the neighbour's bytes.  After each of
 * ROUNDS rounds and a flush on one connection only (multi-conn
 * promises that it covers all), every connection must read that
 * round's data; at the end so must a plain read of the backing file.
 * Run for cache=writeback and cache=none.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libnbd.h>

#define NCONN 4
#define ROUNDS 3
#define STRIPE 200
#define DISK_SIZE (512 * 1024)

static char dir[4096], disk[4200], sock[4200], pidfile[4200];
static struct nbd_handle *nbd[NCONN];

static void
die (const char *what)
{
  fprintf (stderr, "test-vmdisk-multiconn: FAIL: %s: %s\n", what,
           nbd_get_error () ? nbd_get_error () : strerror (errno));
  exit (EXIT_FAILURE);
}

static uint8_t
byte_at (int conn, int round, uint64_t pos)
{
  return (uint8_t) (conn * 37 + round * 11 + pos * 7 + 1);
}

static pid_t
start_nbdkit (const char *cache)
{
  const char *builddir = getenv ("abs_top_builddir");
  char plugin[4200], file[4300], cachearg[32];
  pid_t pid;
  int i;

  if (!builddir)
    die ("abs_top_builddir is not set (run through make check)");
  snprintf (plugin, sizeof plugin,
            "%s/plugins/vmdisk/.libs/nbdkit-vmdisk-plugin.so", builddir);
  snprintf (file, sizeof file, "file=%s", disk);
  snprintf (cachearg, sizeof cachearg, "cache=%s", cache);
  unlink (pidfile);
  unlink (sock);
  pid = fork ();
  if (pid == -1)
    die ("fork");
  if (pid == 0) {
    execlp ("nbdkit", "nbdkit", "-f", "--exit-with-parent", "-U", sock,
            "-P", pidfile, plugin, file, cachearg, (char *) NULL);
    perror ("exec nbdkit");
    _exit (EXIT_FAILURE);
  }
  /* Wait (up to 20 s) for it to be ready: a start-up wait, not a test. */
  for (i = 0; i < 2000 && access (pidfile, F_OK) == -1; i++) {
    struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
    if (waitpid (pid, NULL, WNOHANG) == pid)
      die ("nbdkit exited at start");
    nanosleep (&ts, NULL);
  }
  return pid;
}

struct job {
  int conn, round;
};

static void *
writer (void *arg)
{
  const struct job *job = arg;
  char buf[STRIPE];
  uint64_t k, i;

  for (k = job->conn; k * STRIPE < DISK_SIZE; k += NCONN) {
    uint64_t off = k * STRIPE;
    size_t len = off + STRIPE > DISK_SIZE ? DISK_SIZE - off : STRIPE;

    for (i = 0; i < len; i++)
      buf[i] = byte_at (job->conn, job->round, off + i);
    if (nbd_pwrite (nbd[job->conn], buf, len, off, 0) == -1)
      die ("nbd_pwrite");
  }
  return NULL;
}

static void
check (const char *who, int round, const uint8_t *data)
{
  uint64_t pos;

  for (pos = 0; pos < DISK_SIZE; pos++) {
    int conn = (pos / STRIPE) % NCONN;

    if (data[pos] != byte_at (conn, round, pos)) {
      fprintf (stderr, "test-vmdisk-multiconn: FAIL: %s, round %d: byte %"
               PRIu64 " is 0x%02x, expected 0x%02x (written by connection "
               "%d)\n", who, round, pos, data[pos],
               byte_at (conn, round, pos), conn);
      exit (EXIT_FAILURE);
    }
  }
}

/* All connections write their stripes at once, one flushes, and every
 * connection reads everything back.
 */
static void
write_round (const char *cache, int round)
{
  static uint8_t data[DISK_SIZE];
  pthread_t threads[NCONN];
  struct job jobs[NCONN];
  int i;

  for (i = 0; i < NCONN; i++) {
    jobs[i] = (struct job) { .conn = i, .round = round };
    if ((errno = pthread_create (&threads[i], NULL, writer, &jobs[i])) != 0)
      die ("pthread_create");
  }
  for (i = 0; i < NCONN; i++)
    if ((errno = pthread_join (threads[i], NULL)) != 0)
      die ("pthread_join");
  if (nbd_flush (nbd[round % NCONN], 0) == -1)
    die ("nbd_flush");
  for (i = 0; i < NCONN; i++) {
    char who[64];

    memset (data, 0, sizeof data);
    if (nbd_pread (nbd[i], data, DISK_SIZE, 0, 0) == -1)
      die ("nbd_pread");
    snprintf (who, sizeof who, "cache=%s, read on connection %d", cache, i);
    check (who, round, data);
  }
}

static void
run (const char *cache)
{
  static uint8_t data[DISK_SIZE];
  pid_t pid;
  int i, fd, round;

  fd = open (disk, O_RDWR | O_CREAT | O_TRUNC, 0600);
  if (fd == -1 || ftruncate (fd, DISK_SIZE) == -1)
    die ("create disk");
  pid = start_nbdkit (cache);
  for (i = 0; i < NCONN; i++) {
    nbd[i] = nbd_create ();
    /* Send unaligned requests even when the server asks for alignment:
     * they are what this test is about.
     */
    if (!nbd[i] ||
        nbd_set_strict_mode (nbd[i], nbd_get_strict_mode (nbd[i]) &
                             ~LIBNBD_STRICT_ALIGN) == -1 ||
        nbd_connect_unix (nbd[i], sock) == -1)
      die ("connect");
    if (nbd_can_multi_conn (nbd[i]) != 1)
      die ("the server does not advertise multi-conn");
  }
  for (round = 0; round < ROUNDS; round++)
    write_round (cache, round);
  for (i = 0; i < NCONN; i++)
    nbd_close (nbd[i]);
  if (pread (fd, data, DISK_SIZE, 0) != DISK_SIZE)
    die ("pread backing file");
  check ("backing file", ROUNDS - 1, data);
  close (fd);
  kill (pid, SIGTERM);
  waitpid (pid, NULL, 0);
  printf ("ok: cache=%s: %d connections x %d rounds of %d-byte stripes "
          "read back identical\n", cache, NCONN, ROUNDS, STRIPE);
}

static void
cleanup (void)
{
  unlink (disk);
  unlink (pidfile);
  unlink (sock);
  rmdir (dir);
}

int
main (void)
{
  const char *tmp = getenv ("TMPDIR") ? getenv ("TMPDIR") : "/tmp";

  snprintf (dir, sizeof dir, "%s/vmdisk-multiconn.XXXXXX", tmp);
  if (mkdtemp (dir) == NULL)
    die ("mkdtemp");
  atexit (cleanup);
  snprintf (disk, sizeof disk, "%s/disk.img", dir);
  snprintf (sock, sizeof sock, "%s/sock", dir);
  snprintf (pidfile, sizeof pidfile, "%s/pid", dir);
  run ("writeback");
  run ("none");
  return EXIT_SUCCESS;
}
