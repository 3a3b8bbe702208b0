/* nbdkit-fleece: fleece filter (placeholder). */
#include <config.h>
#include <nbdkit-filter.h>

static struct nbdkit_filter filter = {
  .name = "fleece",
  .longname = "nbdkit fleece filter",
};

NBDKIT_REGISTER_FILTER (filter)
