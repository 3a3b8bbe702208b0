/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: vmdisk's parameter list (see help.h).
 *
 * The text lives in a fixed static buffer because nbdkit takes
 * .config_help as a plain pointer from the plugin struct; filling the
 * buffer in .load (which nbdkit calls before --help or --dump-plugin
 * uses the text) keeps the pointer constant.  If the quiesce lines
 * ever outgrow the buffer they are cut, and a test notices (--help
 * must list every documented parameter).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "help.h"
#include "quiesce.h"

/* vmdisk's own parameters: the data path. */
static const char data_help[] =
  "[file=]FILE              Raw disk image or block device: the export \"\".\n"
  "disk=NAME:PATH           A VM's disk PATH as the export NAME (repeatable,\n"
  "                         instead of file=).\n"
  "readonly=true|false      Open FILE read-only; refuse writes (default false).\n"
  "cache=writeback|none     none: O_DIRECT, bypass the host page cache\n"
  "                         (default writeback).";

char vmdisk_help_text[8192];

void
help_init (void)
{
  size_t n;

  snprintf (vmdisk_help_text, sizeof vmdisk_help_text, "%s\n%s",
            data_help, vmdisk_quiesce_config_help);
  /* nbdkit adds the final newline itself. */
  n = strlen (vmdisk_help_text);
  while (n > 0 && vmdisk_help_text[n - 1] == '\n')
    vmdisk_help_text[--n] = '\0';
}

/* Call fn for each parameter name in the help text. */
static void
for_each_param (void (*fn) (const char *name, size_t len, void *opaque),
                void *opaque)
{
  const char *line = vmdisk_help_text;

  while (*line) {
    const char *name = line + (*line == '[');
    size_t len = strcspn (name, "=] \t\n");

    if (*line != ' ' && *line != '\t' && *line != '\n' && len > 0)
      fn (name, len, opaque);
    line += strcspn (line, "\n");
    line += *line == '\n';
  }
}

static void
dump_one (const char *name, size_t len, void *opaque)
{
  printf ("vmdisk_param=%.*s\n", (int) len, name);
}

void
help_dump_params (void)
{
  for_each_param (dump_one, NULL);
}

struct names {
  char *buf;
  size_t len;
};

static void
append_one (const char *name, size_t len, void *opaque)
{
  struct names *n = opaque;
  size_t used = strlen (n->buf);

  snprintf (n->buf + used, n->len - used, "%s%.*s",
            used ? ", " : "", (int) len, name);
}

void
help_param_names (char *buf, size_t len)
{
  struct names n = { .buf = buf, .len = len };

  if (len == 0)
    return;
  buf[0] = '\0';
  for_each_param (append_one, &n);
}
