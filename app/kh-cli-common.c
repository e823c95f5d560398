/* kh-cli-common.c: what khuyenhoc-cli and khuyenhoc-server share
 *
 * SQLite says "unable to open database file" or "file is not a database"; a person needs to
 * know which folder or file is wrong and what to give instead. This is only asked after an open
 * failed, so it costs nothing when all is well.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-cli-common.h"

#include <gio/gio.h>
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

/* Only the first line: a password may end in spaces, and an editor's final newline (or a
 * Windows one) is not part of it. */
static void
cut_at_line_end (char *text)
{
  char *nl = strpbrk (text, "\r\n");

  if (nl != NULL)
    *nl = '\0';
}

char *
kh_cli_read_password (const char  *file,
                      GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *text = NULL;
  char line[4096];

  if (file == NULL)
    {
      if (isatty (STDIN_FILENO))
        g_printerr ("%s", _("Password: "));
      if (fgets (line, sizeof line, stdin) == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("No password was given on standard input."));
          return NULL;
        }
      cut_at_line_end (line);
      text = g_strdup (line);
      explicit_bzero (line, sizeof line);
      return text;
    }
  if (!g_file_test (file, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("The password file “%s” does not exist."), file);
      return NULL;
    }
  if (!g_file_get_contents (file, &text, NULL, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Could not read the password file “%s”: %s"), file, local_error->message);
      return NULL;
    }
  cut_at_line_end (text);
  if (*text == '\0')
    {
      g_free (text);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The password file “%s” is empty: put the password on its first line."), file);
      return NULL;
    }
  return text;
}
