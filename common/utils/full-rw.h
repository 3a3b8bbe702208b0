/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: pread/pwrite of a whole buffer.
 *
 * Loops over short transfers and EINTR.  Returns 0, or -1 with errno
 * set; an unexpected end of file (a read or write of 0 bytes) is EIO.
 */
#ifndef FLEECE_FULL_RW_H
#define FLEECE_FULL_RW_H

#include <stddef.h>
#include <stdint.h>

extern int full_pread (int fd, void *buf, size_t count, uint64_t offset);
extern int full_pwrite (int fd, const void *buf, size_t count,
                        uint64_t offset);

#endif /* FLEECE_FULL_RW_H */
