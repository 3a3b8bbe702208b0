/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: MIN and MAX that evaluate each argument once. */
#ifndef FLEECE_MINMAX_H
#define FLEECE_MINMAX_H

#define MINMAX_CAT_(a, b) a##b
#define MINMAX_CAT(a, b) MINMAX_CAT_ (a, b)

#define MIN_(x, y, u)                                                   \
  ({                                                                    \
    __auto_type MINMAX_CAT (_x, u) = (x);                               \
    __auto_type MINMAX_CAT (_y, u) = (y);                               \
    MINMAX_CAT (_x, u) < MINMAX_CAT (_y, u) ?                           \
      MINMAX_CAT (_x, u) : MINMAX_CAT (_y, u);                          \
  })
#define MAX_(x, y, u)                                                   \
  ({                                                                    \
    __auto_type MINMAX_CAT (_x, u) = (x);                               \
    __auto_type MINMAX_CAT (_y, u) = (y);                               \
    MINMAX_CAT (_x, u) > MINMAX_CAT (_y, u) ?                           \
      MINMAX_CAT (_x, u) : MINMAX_CAT (_y, u);                          \
  })

/* __COUNTER__ keeps nested uses from shadowing each other. */
#define MIN(x, y) MIN_ ((x), (y), __COUNTER__)
#define MAX(x, y) MAX_ ((x), (y), __COUNTER__)

#endif /* FLEECE_MINMAX_H */
