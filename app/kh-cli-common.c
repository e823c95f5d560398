/* kh-cli-common.c: what khuyenhoc-cli and khuyenhoc-server share
 *
 * Both list their commands in KhCliCommand tables, so the list under --help, a command's own
 * --help and its usage errors come from the same words, and dispatch is the table's.
 *
 * SQLite says "unable to open database file" or "file is not a database"; a person needs to
 * know which folder or file is wrong and what to give instead. This is only asked after an open
 * failed, so it costs nothing when all is well.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-cli-common.h"
#include "kh-crypt-key.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/* The command table ------------------------------------------------------------------------- */

static const KhCliProgram *program;

void
kh_cli_set_program (const KhCliProgram *p)
{
  program = p;
}

const KhCliCommand *
kh_cli_command_find (const KhCliCommand *table,
                     const char         *name)
{
  for (const KhCliCommand *c = table; c->name != NULL; c++)
    if (strcmp (c->name, name) == 0)
      return c;
  return NULL;
}

/* Summaries start in the program's column, counted in characters, not bytes (the synopses are
 * translated and may hold letters with diacritics); a synopsis too long for it has its summary
 * on the next line. */
void
kh_cli_print_commands (FILE               *out,
                       const char         *heading,
                       const KhCliCommand *table)
{
  int column = program->column;

  fprintf (out, "%s\n", heading);
  for (const KhCliCommand *c = table; c->name != NULL; c++)
    {
      const char *synopsis = _(c->synopsis);
      glong width = g_utf8_strlen (synopsis, -1);

      if (width > column - 3)
        fprintf (out, "  %s\n%*s%s\n", synopsis, column, "", _(c->summary));
      else
        fprintf (out, "  %s%*s%s\n", synopsis, (int) (column - 2 - width), "", _(c->summary));
    }
}

void
kh_cli_print_help (const KhCliCommand *command)
{
  /* TRANSLATORS: the first %s is the program, the second the command's synopsis. */
  g_print (_("Usage: %s %s\n"), program->help_name, _(command->synopsis));
  g_print ("%s\n", _(command->summary));
  if (command->details != NULL)
    g_print ("%s\n", _(command->details));
}

int
kh_cli_usage_error (const KhCliCommand *command,
                    const char         *message)
{
  /* TRANSLATORS: the first %s is what is wrong, the second the program, the third the
   * command's synopsis. */
  g_printerr ("%s", program->error_prefix);
  g_printerr (_("%s Usage: %s %s\n"), message, program->name, _(command->synopsis));
  return KH_CLI_EXIT_USAGE;
}

gboolean
kh_cli_check_args (const KhCliCommand *command,
                   int                 argc)
{
  if (argc < command->min_args)
    kh_cli_wrong_count (command, argc, command->min_args);
  else if (command->max_args >= 0 && argc > command->max_args)
    kh_cli_wrong_count (command, argc, command->max_args);
  else
    return TRUE;
  return FALSE;
}

int
kh_cli_wrong_count (const KhCliCommand *command,
                    int                 argc,
                    int                 expected)
{
  g_autofree char *message = g_strdup_printf (argc < expected ? _("Something is missing after “%s”.")
                                                              : _("Too many arguments after “%s”."),
                                              command->name);

  return kh_cli_usage_error (command, message);
}

int
kh_cli_unknown_option (const KhCliCommand *command,
                       const char         *option)
{
  g_autofree char *message = g_strdup_printf (_("Unknown option “%s”."), option);

  return kh_cli_usage_error (command, message);
}

int
kh_cli_missing_value (const KhCliCommand *command,
                      const char         *option)
{
  g_autofree char *message = g_strdup_printf (_("The option %s needs a value."), option);

  return kh_cli_usage_error (command, message);
}

int
kh_cli_dispatch (const KhCliCommand  *command,
                 int                  argc,
                 char               **argv,
                 gpointer             data)
{
  if (!kh_cli_check_args (command, argc))
    return KH_CLI_EXIT_USAGE;
  return command->handler (command, argc, argv, data);
}

/* Paths ---------------------------------------------------------------------------------------- */

/* An empty file is what SQLite makes of a new database; a sealed one is whole pages. */
static gboolean
is_sqlite_file (const char *path)
{
  return kh_crypt_file_state (path) != KH_CRYPT_FILE_OTHER;
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
