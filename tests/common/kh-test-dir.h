/* kh-test-dir.h: throwaway folders for the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A new empty folder under the system's temporary folder; asserts it could be made. */
char *kh_test_tmpdir (void);
/* Removes @dir and everything below it; a missing folder is not an error. */
void  kh_test_rmdir  (const char *dir);

G_END_DECLS
