/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: the filter's configuration, shared by its mechanisms.
 *
 * Written only in .config/.config_complete (single-threaded), read-only
 * afterwards, so it needs no lock.
 */
#ifndef FLEECE_H
#define FLEECE_H

#include <stdbool.h>
#include <stdint.h>

struct fleece_config {
  const char *snapshot_export;  /* snapshot-export=, default "snapshot" */
  uint64_t linger_ns;           /* snapshot-linger=, default 0 */
  uint32_t block_size;          /* fleece-block-size=, power of 2 */
  unsigned block_shift;         /* log2 (block_size) */
  const char *dir;              /* fleece-dir=, default $TMPDIR or /var/tmp */
  uint64_t max_size;            /* fleece-max-size=, 0: no cap */
  bool fail_write;              /* on-cbw-error=fail-write */
  uint64_t cbw_timeout_ns;      /* cbw-timeout=, 0: none */
  uint64_t pin_max_age_ns;      /* pin-max-age=, default 24h, 0: never */
  const char *cbt_dir;          /* cbt-dir=, NULL: no tracking */
  uint32_t cbt_granularity;     /* cbt-granularity=, power of 2 */
  unsigned cbt_shift;           /* log2 (cbt_granularity) */
};

extern struct fleece_config fleece_cfg;

/* Debug flags: -D fleece.verbose=1, -D fleece.cbw_delay_ms=N,
 * -D fleece.cbt_sync_delay_ms=N.
 */
extern int fleece_debug_verbose;
extern int fleece_debug_cbw_delay_ms;
extern int fleece_debug_cbt_sync_delay_ms;

#endif /* FLEECE_H */
