/* kh-test-dir.c: throwaway folders for the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-test-dir.h"

#include <glib/gstdio.h>

char *
kh_test_tmpdir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("khuyenhoc-test-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

void
kh_test_rmdir (const char *dir)
{
  g_autoptr(GDir) d = NULL;
  const char *name;

  if (dir == NULL || (d = g_dir_open (dir, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_SYMLINK))
        kh_test_rmdir (path);
      else
        g_unlink (path);
    }
  g_rmdir (dir);
}
