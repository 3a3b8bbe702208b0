/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's parameter list, one source for three uses.
 *
 * The help text (vmdisk's own lines, then the quiesce lines from
 * quiesce.h) is the single list of parameters: --help prints it,
 * --dump-plugin prints one vmdisk_param=NAME line per parameter
 * derived from it, and the unknown-parameter error lists the same
 * names, so the three can never disagree.
 *
 * A parameter line starts in column 0 with NAME= or [NAME=]; lines
 * that start with white space continue the line above.
 */
#ifndef VMDISK_HELP_H
#define VMDISK_HELP_H

#include <stddef.h>

/* The combined text for .config_help.  nbdkit copies the plugin
 * struct (and so this pointer) when it loads the plugin; the text is
 * filled in by help_init, called from .load, before nbdkit reads it.
 */
extern char vmdisk_help_text[];

/* Build vmdisk_help_text.  Call once, from .load. */
extern void help_init (void);

/* Print "vmdisk_param=NAME" for every parameter (for .dump_plugin). */
extern void help_dump_params (void);

/* The parameter names joined by ", " into buf[len], for messages. */
extern void help_param_names (char *buf, size_t len);

#endif /* VMDISK_HELP_H */
