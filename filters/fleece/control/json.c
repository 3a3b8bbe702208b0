/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a control request's own text (see json.h).
 *
 * One recursive descent over the text, by the grammar of RFC 8259
 * and nothing more: strings in double quotes with no raw control
 * character, the nine escapes, numbers as -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?, true, false, null, white space of space, tab,
 * CR and LF.  Nesting is bounded by CONTROL_JSON_MAX_DEPTH, so the
 * recursion is too.
 *
 * Repeated names: each object's member names are unescaped (\uXXXX
 * to UTF-8; a lone surrogate to its three-byte form, so that it still
 * compares equal only to itself) into one buffer as large as the
 * text, sorted when the object closes, and neighbours compared:
 * O(n log n) in the number of members.  The names of all open objects
 * share one stack of entries.  A syntax error anywhere wins over a
 * repeated name (the request is not JSON at all).
 */
#include <config.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

struct name {
  size_t off, len;              /* unescaped, in scan.names */
  const char *raw;              /* as written, without the quotes */
  size_t raw_len;
};

struct scan {
  const char *start, *p, *end;
  unsigned depth;
  char *names;                  /* unescaped names, len bytes */
  size_t names_len;
  struct name *stack;           /* names of the open objects */
  size_t nstack, cap;
  const char *key;              /* top-level member wanted */
  const char *raw;
  size_t raw_len;
  bool syntax, duplicate, nul_name;
  char *why;
  size_t why_len;
};

static bool __attribute__ ((format (printf, 2, 3)))
syntax (struct scan *s, const char *fmt, ...)
{
  va_list ap;
  int n;

  if (s->syntax)
    return false;
  s->syntax = true;
  n = snprintf (s->why, s->why_len, "at byte %zu: ",
                (size_t) (s->p - s->start) + 1);
  if (n >= 0 && (size_t) n < s->why_len) {
    va_start (ap, fmt);
    vsnprintf (s->why + n, s->why_len - n, fmt, ap);
    va_end (ap);
  }
  return false;
}

static void
ws (struct scan *s)
{
  while (s->p < s->end &&
         (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
    s->p++;
}

static int
hex (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Four hex digits at s->p.  The code unit, or -1. */
static long
hex4 (struct scan *s)
{
  long u = 0;
  int i, d;

  if (s->end - s->p < 4)
    return -1;
  for (i = 0; i < 4; i++) {
    if ((d = hex (s->p[i])) < 0)
      return -1;
    u = u * 16 + d;
  }
  s->p += 4;
  return u;
}

/* Append code point c as UTF-8 (surrogates in their 3-byte form). */
static void
put_utf8 (struct scan *s, uint32_t c)
{
  char *o = s->names + s->names_len;

  if (c < 0x80)
    o[0] = c, s->names_len += 1;
  else if (c < 0x800)
    o[0] = 0xc0 | c >> 6, o[1] = 0x80 | (c & 0x3f), s->names_len += 2;
  else if (c < 0x10000) {
    o[0] = 0xe0 | c >> 12;
    o[1] = 0x80 | ((c >> 6) & 0x3f);
    o[2] = 0x80 | (c & 0x3f);
    s->names_len += 3;
  }
  else {
    o[0] = 0xf0 | c >> 18;
    o[1] = 0x80 | ((c >> 12) & 0x3f);
    o[2] = 0x80 | ((c >> 6) & 0x3f);
    o[3] = 0x80 | (c & 0x3f);
    s->names_len += 4;
  }
}

/* One escape after the backslash; unescaped into names if keep. */
static bool
escape (struct scan *s, bool keep)
{
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  const char *e;
  long u, lo;

  if (s->p < s->end && *s->p != '\0' &&
      (e = strchr (from, *s->p)) != NULL) {
    if (keep)
      s->names[s->names_len++] = to[e - from];
    s->p++;
    return true;
  }
  if (s->p == s->end || *s->p++ != 'u' || (u = hex4 (s)) < 0)
    return syntax (s, "invalid escape in a string");
  /* A high surrogate followed by a low one is one code point. */
  if (u >= 0xd800 && u < 0xdc00 && s->end - s->p >= 6 &&
      s->p[0] == '\\' && s->p[1] == 'u') {
    const char *save = s->p;
    s->p += 2;
    if ((lo = hex4 (s)) >= 0xdc00 && lo < 0xe000)
      u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
    else
      s->p = save;              /* a lone surrogate; the next escape
                                 * is read on its own */
  }
  if (keep)
    put_utf8 (s, u);
  return true;
}

/* A string at s->p (which is '"').  If keep, its unescaped bytes are
 * appended to names.
 */
static bool
string (struct scan *s, bool keep)
{
  unsigned char c;

  s->p++;
  while (s->p < s->end && (c = *s->p) != '"') {
    if (c < 0x20)
      return syntax (s, "a control character in a string: escape it");
    s->p++;
    if (c != '\\') {
      if (keep)
        s->names[s->names_len++] = c;
    }
    else if (!escape (s, keep))
      return false;
  }
  if (s->p == s->end)
    return syntax (s, "a string is not closed");
  s->p++;
  return true;
}

static bool
digits (struct scan *s)
{
  const char *q = s->p;

  while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
    s->p++;
  return s->p > q;
}

static bool
number (struct scan *s)
{
  if (*s->p == '-')
    s->p++;
  if (s->p < s->end && *s->p == '0')
    s->p++;
  else if (s->p == s->end || *s->p < '1' || *s->p > '9' || !digits (s))
    return syntax (s, "invalid number");
  if (s->p < s->end && *s->p == '.') {
    s->p++;
    if (!digits (s))
      return syntax (s, "invalid number: digits must follow '.'");
  }
  if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
    s->p++;
    if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
      s->p++;
    if (!digits (s))
      return syntax (s, "invalid number: digits must follow the exponent");
  }
  return true;
}

static bool
not_a_value (struct scan *s)
{
  return syntax (s, "expected a value (a string in double quotes, a "
                 "number, an object, an array, true, false or null)");
}

static bool
word (struct scan *s, const char *w)
{
  size_t n = strlen (w);

  if ((size_t) (s->end - s->p) < n || memcmp (s->p, w, n) != 0)
    return not_a_value (s);
  s->p += n;
  return true;
}

static bool value (struct scan *s);

static int
name_cmp (const void *a, const void *b, void *names)
{
  const struct name *x = a, *y = b;
  int r = memcmp ((char *) names + x->off, (char *) names + y->off,
                  x->len < y->len ? x->len : y->len);

  return r ? r : (x->len > y->len) - (x->len < y->len);
}

/* Sort the names of the object that closes (stack[base..]) and look
 * for two equal ones; then pop them.
 */
static void
names_check (struct scan *s, size_t base)
{
  struct name *n = s->stack + base;
  size_t count = s->nstack - base, i, len;

  qsort_r (n, count, sizeof *n, name_cmp, s->names);
  for (i = 1; i < count && !s->duplicate; i++)
    if (name_cmp (&n[i - 1], &n[i], s->names) == 0) {
      s->duplicate = true;
      /* Quote the name as written, cut on a UTF-8 boundary. */
      len = n[i].raw_len > 100 ? 100 : n[i].raw_len;
      while (len > 0 && len < n[i].raw_len &&
             (n[i].raw[len] & 0xc0) == 0x80)
        len--;
      snprintf (s->why, s->why_len, "member \"%.*s\" is given twice "
                "in one object", (int) len, n[i].raw);
    }
  s->nstack = base;
}

/* Push the name of a member about to be read. */
static bool
name (struct scan *s)
{
  struct name *n;
  const char *q = s->p;

  if (s->nstack == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 16;
    if ((n = realloc (s->stack, cap * sizeof *n)) == NULL)
      return syntax (s, "out of memory");
    s->stack = n;
    s->cap = cap;
  }
  n = &s->stack[s->nstack];
  n->off = s->names_len;
  if (!string (s, true))
    return false;
  n->len = s->names_len - n->off;
  if (memchr (s->names + n->off, '\0', n->len) != NULL) {
    if (!s->nul_name && !s->duplicate)
      snprintf (s->why, s->why_len, "a member name contains \\u0000");
    s->nul_name = true;
  }
  n->raw = q + 1;
  n->raw_len = s->p - q - 2;
  s->nstack++;
  return true;
}

/* The object at s->p (which is '{'). */
static bool
object (struct scan *s)
{
  size_t base = s->nstack;
  bool top = s->depth == 1;
  const char *v;

  s->p++;
  ws (s);
  if (s->p < s->end && *s->p == '}') {
    s->p++;
    return true;
  }
  for (;;) {
    if (s->p == s->end || *s->p != '"')
      return syntax (s, "expected a member name in double quotes");
    if (!name (s))
      return false;
    ws (s);
    if (s->p == s->end || *s->p++ != ':')
      return syntax (s, "expected ':' after a member name");
    ws (s);
    v = s->p;
    if (!value (s))
      return false;
    if (top && s->key && s->stack[s->nstack - 1].len == strlen (s->key) &&
        memcmp (s->names + s->stack[s->nstack - 1].off, s->key,
                strlen (s->key)) == 0) {
      s->raw = v;
      s->raw_len = s->p - v;
    }
    ws (s);
    if (s->p < s->end && *s->p == '}')
      break;
    if (s->p == s->end || *s->p++ != ',')
      return syntax (s, "expected ',' or '}' in an object");
    ws (s);
  }
  s->p++;
  names_check (s, base);
  return true;
}

/* The array at s->p (which is '['). */
static bool
array (struct scan *s)
{
  s->p++;
  ws (s);
  if (s->p < s->end && *s->p == ']') {
    s->p++;
    return true;
  }
  for (;;) {
    if (!value (s))
      return false;
    ws (s);
    if (s->p < s->end && *s->p == ']')
      break;
    if (s->p == s->end || *s->p++ != ',')
      return syntax (s, "expected ',' or ']' in an array");
    ws (s);
  }
  s->p++;
  return true;
}

static bool
value (struct scan *s)
{
  bool r;

  if (s->p == s->end)
    return not_a_value (s);
  switch (*s->p) {
  case '"':
    return string (s, false);
  case '{': case '[':
    if (s->depth == CONTROL_JSON_MAX_DEPTH)
      return syntax (s, "nested deeper than %d levels",
                     CONTROL_JSON_MAX_DEPTH);
    s->depth++;
    r = *s->p == '{' ? object (s) : array (s);
    s->depth--;
    return r;
  case 't':
    return word (s, "true");
  case 'f':
    return word (s, "false");
  case 'n':
    return word (s, "null");
  case '-': case '0': case '1': case '2': case '3': case '4': case '5':
  case '6': case '7': case '8': case '9':
    return number (s);
  default:
    return not_a_value (s);
  }
}

enum control_json_result
control_json_scan (const char *text, size_t len, const char *key,
                   const char **raw, size_t *raw_len,
                   char *why, size_t why_len)
{
  struct scan s = {
    .start = text, .p = text, .end = text + len, .key = key,
    .why = why, .why_len = why_len,
  };
  enum control_json_result r = CONTROL_JSON_OK;

  *raw = NULL;
  *raw_len = 0;
  if (why_len > 0)
    why[0] = '\0';
  if ((s.names = malloc (len + 1)) == NULL)
    syntax (&s, "out of memory");
  else {
    ws (&s);
    if (value (&s)) {
      ws (&s);
      if (s.p != s.end)
        syntax (&s, "characters after the JSON value");
    }
  }
  if (s.syntax)
    r = CONTROL_JSON_SYNTAX;
  else if (s.duplicate)
    r = CONTROL_JSON_DUPLICATE;
  else if (s.nul_name)
    r = CONTROL_JSON_NUL_NAME;
  else {
    *raw = s.raw;
    *raw_len = s.raw_len;
  }
  free (s.names);
  free (s.stack);
  return r;
}
