/* SPDX-License-Identifier: BSD-3-Clause */
/* nbdkit-fleece: a preload for the sanitizer runs of nbdkit only
 * (tests/sanitizers/bin/nbdkit, built by scripts/check-sanitizers.sh):
 * it makes the sanitizer runtime initialise before glibc takes its
 * locale lock.
 *
 * The problem.  A preloaded library's constructor runs after those of
 * every library the program needs, so in Debian's nbdkit the ASan (or
 * TSan) runtime is not yet initialised when p11-kit's constructor
 * (GnuTLS loads p11-kit) calls newlocale.  newlocale takes
 * __libc_setlocale_lock for writing, then mallocs; the runtime's
 * malloc initialises it there, and its start-up calls dlerror, which
 * translates its message through dcgettext, which takes the same lock
 * for reading: glibc's rdlock fails (EDEADLK, ignored inside glibc),
 * the matching unlock releases the writer's lock, and newlocale's own
 * unlock then leaves the lock with -1 readers.  Every later writer
 * (json-c's newlocale in each json_tokener_parse, p11-kit's
 * freelocale at exit) can then wait forever.  A program that does
 * not load p11-kit, or one linked with -fsanitize (the runtime then
 * starts from .preinit_array), never sees it.
 *
 * The fix.  newlocale and duplocale (the locale calls that malloc
 * under the lock and that the runtimes do not intercept; they do
 * intercept setlocale) start the runtime first, then call glibc.
 * Starting it is idempotent; __asan_init and __tsan_init are weak, so
 * one file serves both runtimes.
 *
 * Not handled: a constructor that mallocs under some other glibc lock
 * before the runtime starts (none seen: `LD_DEBUG=files` lists the
 * constructors that run before the runtime's).
 */
#include <locale.h>

extern void __asan_init (void) __attribute__ ((weak));
extern void __tsan_init (void) __attribute__ ((weak));

/* glibc's own names for the functions below (exported since 2.2.5). */
extern locale_t __newlocale (int mask, const char *name, locale_t base);
extern locale_t __duplocale (locale_t loc);

static void
runtime_init (void)
{
  if (__asan_init)
    __asan_init ();
  if (__tsan_init)
    __tsan_init ();
}

locale_t
newlocale (int mask, const char *name, locale_t base)
{
  runtime_init ();
  return __newlocale (mask, name, base);
}

locale_t
duplocale (locale_t loc)
{
  runtime_init ();
  return __duplocale (loc);
}
