/* kh-cli-key.c: the CLI asks for the passphrase of a replica's key
 *
 * Where the keyring holds the key, nothing is asked. Otherwise the passphrase comes from
 * --passphrase-file, then KHUYENHOC_PASSPHRASE (for scripts), then the terminal, typed without
 * echo (twice for a new one). Without a terminal and without either, the CLI says how to give
 * it rather than wait.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "kh-cli-common.h"
#include "kh-cli-key.h"
#include "kh-error.h"
#include "kh-replica-key.h"

static void
cut_line (char *text)
{
  text[strcspn (text, "\r\n")] = '\0';
}

/* A line from the terminal, not echoed; NULL at the end of input. */
static char *
prompt_hidden (const char *prompt)
{
  struct termios old, quiet;
  gboolean hide = tcgetattr (STDIN_FILENO, &old) == 0;
  char line[1024];
  char *text = NULL;

  g_printerr ("%s", prompt);
  if (hide)
    {
      quiet = old;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  if (fgets (line, sizeof line, stdin) != NULL)
    {
      cut_line (line);
      text = g_strdup (line);
    }
  if (hide)
    tcsetattr (STDIN_FILENO, TCSAFLUSH, &old);
  g_printerr ("\n");
  sodium_memzero (line, sizeof line);
  return text;
}

static void
forget (char *text)
{
  if (text != NULL)
    {
      sodium_memzero (text, strlen (text));
      g_free (text);
    }
}

/* Gives the store the key of @db_path; FALSE with @error if it cannot. */
gboolean
kh_cli_unlock (const char  *db_path,
               const char  *passphrase_file,
               GError     **error)
{
  KhReplicaKeyNeed need;
  const char *env = g_getenv ("KHUYENHOC_PASSPHRASE");
  char *passphrase = NULL;
  gboolean ok;

  if (passphrase_file != NULL)
    {
      passphrase = kh_cli_read_password (passphrase_file, error);
      if (passphrase == NULL)
        return FALSE;
    }
  else if (env != NULL && env[0] != '\0')
    passphrase = g_strdup (env);

  ok = kh_replica_key_unlock (db_path, passphrase, &need, error);
  if (ok && need != KH_REPLICA_KEY_OPEN)
    {
      if (!isatty (STDIN_FILENO))
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                       need == KH_REPLICA_KEY_NEW_PASSPHRASE
                       ? _("The database “%s” is to be encrypted and no keyring is available to keep "
                           "its key: choose a passphrase for it, with --passphrase-file FILE or "
                           "KHUYENHOC_PASSPHRASE, or type it on a terminal.")
                       : _("The database “%s” is encrypted: give its passphrase with "
                           "--passphrase-file FILE or KHUYENHOC_PASSPHRASE, or type it on a "
                           "terminal."), db_path);
          return FALSE;
        }
      passphrase = prompt_hidden (need == KH_REPLICA_KEY_NEW_PASSPHRASE
                                  ? _("New passphrase for the database’s key: ")
                                  : _("Passphrase of the database: "));
      if (passphrase != NULL && need == KH_REPLICA_KEY_NEW_PASSPHRASE)
        {
          char *again = prompt_hidden (_("The same passphrase again: "));

          if (again == NULL || strcmp (again, passphrase) != 0 || passphrase[0] == '\0')
            {
              g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                                   _("The two passphrases differ, or are empty: nothing was changed."));
              forget (again);
              forget (passphrase);
              return FALSE;
            }
          forget (again);
        }
      if (passphrase == NULL)
        {
          g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                               _("No passphrase was given: nothing was changed."));
          return FALSE;
        }
      ok = kh_replica_key_unlock (db_path, passphrase, &need, error);
    }
  forget (passphrase);
  return ok;
}
