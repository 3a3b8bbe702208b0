/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a control request's own text (see json.c).
 *
 * json-c turns a request into values but loses what the protocol
 * promises about the text: it accepts more than JSON (single quotes,
 * NaN, a number ending in "."), it keeps the last of two members with
 * the same name, silently, and it does not keep a value's exact text
 * (an integer beyond 64 bits is clamped, -0 becomes 0, a lone
 * surrogate is replaced).  control_json_scan reads the text itself.
 * Pure: no I/O, no state, no locks.
 */
#ifndef FLEECE_CONTROL_JSON_H
#define FLEECE_CONTROL_JSON_H

#include <stddef.h>

/* Objects and arrays nested deeper than this are refused. */
#define CONTROL_JSON_MAX_DEPTH 32

enum control_json_result {
  CONTROL_JSON_OK = 0,
  CONTROL_JSON_SYNTAX = -1,     /* not one RFC 8259 JSON text */
  CONTROL_JSON_DUPLICATE = -2,  /* valid, but an object repeats a name */
  CONTROL_JSON_NUL_NAME = -3,   /* valid, but a name holds \u0000 */
};

/* Check that text[0..len) is exactly one JSON value (RFC 8259: white
 * space around it allowed; UTF-8 is not checked here), and that no
 * object in it, at any depth, has two members with the same name
 * (compared after unescaping), nor a member name holding U+0000 (which
 * json-c would cut short, making two names one).  If key is not NULL and the value is an
 * object with a member named key, *raw and *raw_len are set to that
 * member's value exactly as written, without the white space around
 * it; otherwise *raw is NULL.  On failure why[why_len] says what is
 * wrong (for a syntax error, where).
 */
extern enum control_json_result
control_json_scan (const char *text, size_t len, const char *key,
                   const char **raw, size_t *raw_len,
                   char *why, size_t why_len);

#endif /* FLEECE_CONTROL_JSON_H */
