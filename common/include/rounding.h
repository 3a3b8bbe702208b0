/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: rounding to a power-of-two multiple.
 *
 * m must be a power of two; the macros do not check it.
 */
#ifndef FLEECE_ROUNDING_H
#define FLEECE_ROUNDING_H

#define ROUND_DOWN(v, m) ((v) & ~((__typeof__ (v)) (m) - 1))
#define ROUND_UP(v, m) ROUND_DOWN ((v) + (__typeof__ (v)) (m) - 1, (m))
#define IS_ALIGNED(v, m) (((v) & ((__typeof__ (v)) (m) - 1)) == 0)

#endif /* FLEECE_ROUNDING_H */
