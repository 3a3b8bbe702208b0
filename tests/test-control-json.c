/* SPDX-License-Identifier: BSD-3-Clause */
/* test-control-json: control_json_scan (filters/fleece/control/json.c)
 * on the texts that json-c gets wrong for the control protocol
 * (issue 12, defect 16): what it accepts beyond RFC 8259, repeated
 * member names at any depth, and the exact text of a member.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>

#include "control/json.h"

static int failures;

static void
check (const char *text, enum control_json_result want, const char *raw)
{
  const char *got;
  size_t len;
  char why[160];
  enum control_json_result r =
    control_json_scan (text, strlen (text), "id", &got, &len,
                       why, sizeof why);

  if (r != want ||
      (raw == NULL ? got != NULL
       : got == NULL || len != strlen (raw) || memcmp (got, raw, len))) {
    fprintf (stderr, "FAIL: %s: result %d (%s), id '%.*s'; expected %d, "
             "id '%s'\n", text, r, why, got ? (int) len : 6,
             got ? got : "(none)", want, raw ? raw : "(none)");
    failures++;
  }
  else
    printf ("ok: %s -> %d%s%s\n", text, r, r ? ": " : "", r ? why : "");
}

int
main (void)
{
  const enum control_json_result OK = CONTROL_JSON_OK,
    SYNTAX = CONTROL_JSON_SYNTAX, DUP = CONTROL_JSON_DUPLICATE,
    NUL = CONTROL_JSON_NUL_NAME;
  char deep[200];
  size_t i;

  /* Exact text of "id" (top level only). */
  check ("{\"id\":123456789012345678901234567890}", OK,
         "123456789012345678901234567890");
  check ("{\"id\":-0}", OK, "-0");
  check (" { \"a\" : {\"id\":1} , \"id\" :\t\"\\ud800\" } ", OK,
         "\"\\ud800\"");
  check ("{\"\\u0069d\":[1, {\"x\":null}]}", OK, "[1, {\"x\":null}]");
  check ("{\"a\":{\"id\":1}}", OK, NULL);
  check ("[{\"id\":1}]", OK, NULL);
  check ("\"id\"", OK, NULL);
  check ("-1.5e+10", OK, NULL);
  check ("{}", OK, NULL);
  /* Repeated names, at any depth, compared unescaped. */
  check ("{\"command\":\"status\",\"command\":\"snapshot-end\"}", DUP, NULL);
  check ("{\"a\":1,\"\\u0061\":2}", DUP, NULL);
  check ("{\"id\":[{\"x\":1,\"y\":2,\"x\":3}]}", DUP, NULL);
  check ("{\"\\ud83d\\ude00\":1,\"\xf0\x9f\x98\x80\":2}", DUP, NULL);
  check ("{\"\\ud800\":1,\"\\ud800\":2}", DUP, NULL);
  check ("{\"\\ud800\":1,\"\\ud800\\udc00\":2,\"\\udc00\":3}", OK, NULL);
  check ("{\"a\":{\"b\":1},\"b\":{\"a\":1}}", OK, NULL);
  check ("{\"a\\u0000b\":1,\"a\\u0000c\":2}", NUL, NULL);
  /* Beyond RFC 8259. */
  check ("{'id':1}", SYNTAX, NULL);
  check ("{\"id\":NaN}", SYNTAX, NULL);
  check ("{\"id\":-Infinity}", SYNTAX, NULL);
  check ("{\"id\":1.}", SYNTAX, NULL);
  check ("{\"id\":.5}", SYNTAX, NULL);
  check ("{\"id\":01}", SYNTAX, NULL);
  check ("{\"id\":1e}", SYNTAX, NULL);
  check ("{\"id\":\"a\tb\"}", SYNTAX, NULL);
  check ("{\"id\":\"\\x\"}", SYNTAX, NULL);
  check ("{\"id\":\"\\u12g4\"}", SYNTAX, NULL);
  check ("{\"id\":1,}", SYNTAX, NULL);
  check ("{\"id\":[1,]}", SYNTAX, NULL);
  check ("{\"id\":tru}", SYNTAX, NULL);
  check ("{\"id\":1} x", SYNTAX, NULL);
  check ("{\"id\":1}\f", SYNTAX, NULL);
  check ("{\"id\":\"open", SYNTAX, NULL);
  check ("", SYNTAX, NULL);
  /* A syntax error wins over a repeated name before it. */
  check ("{\"a\":1,\"a\":2,\"b\":NaN}", SYNTAX, NULL);
  /* Nesting: CONTROL_JSON_MAX_DEPTH levels, not one more. */
  for (i = 0; i < CONTROL_JSON_MAX_DEPTH; i++)
    deep[i] = '[', deep[2 * CONTROL_JSON_MAX_DEPTH - 1 - i] = ']';
  deep[2 * CONTROL_JSON_MAX_DEPTH] = '\0';
  check (deep, OK, NULL);
  for (i = 0; i <= CONTROL_JSON_MAX_DEPTH; i++)
    deep[i] = '[', deep[2 * CONTROL_JSON_MAX_DEPTH + 1 - i] = ']';
  deep[2 * CONTROL_JSON_MAX_DEPTH + 2] = '\0';
  check (deep, SYNTAX, NULL);
  return failures ? 1 : 0;
}
