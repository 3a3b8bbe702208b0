/* nbdkit-fleece: vmdisk plugin (placeholder, replaced by the data path). */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NBDKIT_API_VERSION 2
#include <nbdkit-plugin.h>

#include "quiesce.h"

static char *filename;
static int fd = -1;

static int
vmdisk_config (const char *key, const char *value)
{
  int r = vmdisk_quiesce_config (key, value);

  if (r != 0)
    return r == 1 ? 0 : -1;
  if (strcmp (key, "file") == 0) {
    free (filename);
    filename = nbdkit_realpath (value);
    return filename ? 0 : -1;
  }
  nbdkit_error ("unknown parameter '%s'", key);
  return -1;
}

static int
vmdisk_get_ready (void)
{
  fd = open (filename, O_RDWR | O_CLOEXEC);
  if (fd == -1) {
    nbdkit_error ("open: %s: %m", filename);
    return -1;
  }
  return 0;
}

static void *
vmdisk_open (int readonly)
{
  return &fd;
}

static int64_t
vmdisk_get_size (void *h)
{
  struct stat st;

  if (fstat (fd, &st) == -1)
    return -1;
  return st.st_size;
}

static int
vmdisk_pread (void *h, void *buf, uint32_t count, uint64_t offset,
              uint32_t flags)
{
  return pread (fd, buf, count, offset) == count ? 0 : -1;
}

static int
vmdisk_pwrite (void *h, const void *buf, uint32_t count, uint64_t offset,
               uint32_t flags)
{
  return pwrite (fd, buf, count, offset) == count ? 0 : -1;
}

#define THREAD_MODEL NBDKIT_THREAD_MODEL_PARALLEL

static struct nbdkit_plugin plugin = {
  .name = "vmdisk",
  .version = PACKAGE_VERSION,
  .config = vmdisk_config,
  .get_ready = vmdisk_get_ready,
  .open = vmdisk_open,
  .get_size = vmdisk_get_size,
  .pread = vmdisk_pread,
  .pwrite = vmdisk_pwrite,
};

NBDKIT_REGISTER_PLUGIN (plugin)
