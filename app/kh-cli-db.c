/* kh-cli-db.c: why a database file could not be opened, for khuyenhoc-cli and khuyenhoc-server
 *
 * SQLite says "unable to open database file" or "file is not a database"; a person needs to
 * know which folder or file is wrong and what to give instead. This is only asked after an open
 * failed, so it costs nothing when all is well.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-cli-db.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

static gboolean
is_sqlite_file (const char *path)
{
  static const char magic[16] = "SQLite format 3";
  char head[16] = { 0 };
  FILE *f = g_fopen (path, "rb");
  size_t n;

  if (f == NULL)
    return TRUE;  /* unreadable: not the question asked here */
  n = fread (head, 1, sizeof head, f);
  fclose (f);
  /* An empty file is what SQLite makes of a new database. */
  return n == 0 || (n == sizeof head && memcmp (head, magic, sizeof magic) == 0);
}

/* access(2) says yes to root even on a read-only mount; making a file is the real test. */
static gboolean
folder_is_writable (const char *dir)
{
  g_autofree char *probe = g_build_filename (dir, ".khuyenhoc-probe-XXXXXX", NULL);
  int fd = g_mkstemp (probe);

  if (fd < 0)
    return FALSE;
  close (fd);
  g_unlink (probe);
  return TRUE;
}

char *
kh_cli_explain_db_path (const char *path,
                        const char *option)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_strdup_printf (_("“%s” is a folder: give %s the path of a database file in it, such as %s."),
                            path, option, "khuyenhoc.db");
  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_strdup_printf (_("the folder “%s” does not exist: create it, or give %s a path in an existing folder."),
                            dir, option);
  if (g_file_test (path, G_FILE_TEST_EXISTS) && !is_sqlite_file (path))
    return g_strdup_printf (_("it is not a Khuyến Học database (not an SQLite file): give %s the path of a "
                              "database, or a new file name."), option);
  if (!folder_is_writable (dir))
    return g_strdup_printf (_("the folder “%s” cannot be written to (it is read-only or not yours): "
                              "choose a folder you can write to with %s."), dir, option);
  return NULL;
}

char *
kh_cli_explain_output_path (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    return g_strdup_printf (_("Could not write “%s”: the folder “%s” does not exist."), path, dir);
  if (!folder_is_writable (dir))
    return g_strdup_printf (_("Could not write “%s”: the folder “%s” cannot be written to (it is "
                              "read-only or not yours); choose another folder."), path, dir);
  return NULL;
}
