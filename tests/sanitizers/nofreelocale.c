/* nbdkit-fleece: a preload for the sanitizer runs of nbdkit only
 * (tests/sanitizers/bin/nbdkit, built by scripts/check-sanitizers.sh).
 *
 * With the ASan runtime preloaded into Debian 12's nbdkit, glibc's
 * locale lock is found with a negative reader count at exit, and
 * p11-kit's destructor (nbdkit links GnuTLS, which loads p11-kit)
 * then waits for it forever in freelocale: nbdkit never exits.  It
 * happens with our filter built without any sanitizer too, so it is
 * the preloaded runtime, not our code.  Freeing a locale object is
 * only memory; not freeing it in a test process changes nothing else
 * (leak checks are off in nbdkit's process).
 */
#include <locale.h>

void
freelocale (locale_t loc)
{
  (void) loc;
}
