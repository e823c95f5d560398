/* kh-sqlite.c: opening a connection and the small helpers every user of SQLite here shares
 *
 * Below the schema and the store: it knows SQLite, the error domain and the functions our SQL
 * calls (kh_fold() and the old search triggers' pause flag), nothing of the tables.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-fold.h"
#include "kh-format.h"
#include "kh-sqlite.h"

/* A sealed page that did not open (kh-crypt-vfs.c) is said as such, not as a disk error. */
static gboolean
set_sealed_error (GError  **error,
                  sqlite3  *db)
{
  if (db == NULL || sqlite3_extended_errcode (db) != SQLITE_IOERR_DATA
      || !kh_crypt_vfs_is_sealed (db))
    return FALSE;
  g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED,
                       _("A page of the local database does not open with its key: the file "
                         "was altered or damaged. Nothing was changed. Move the database "
                         "aside and sync again to pull the records from the server."));
  return TRUE;
}

void
kh_sqlite_set_error (GError     **error,
                     sqlite3     *db,
                     const char  *what)
{
  if (set_sealed_error (error, db))
    return;
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE,
               _("The local database failed (%s): %s"), what, sqlite3_errmsg (db));
}

/* Steps a statement that returns no row and resets it for its next use; on failure @error
 * says what failed (@what) and SQLite's reason. */
gboolean
kh_sqlite_step_done (sqlite3_stmt  *stmt,
                     const char    *what,
                     GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, sqlite3_db_handle (stmt), what);
      return FALSE;
    }
  return TRUE;
}

/* Opens a connection for one thread at a time: SQLite's own lock around every call would guard
 * nothing (a store's statement cache is not locked either), so NOMUTEX leaves it out. The
 * first one also turns off SQLite's memory statistics, which nothing here reads: they take
 * one lock, shared by every connection in the process, around every allocation, and the
 * threads of a first pull (the writer, the checkpointer, the search index builder) wait on
 * it. That setting can only be made before SQLite starts; if something else started it
 * first, it stays as it was. */
int
kh_sqlite_open (const char  *path,
                sqlite3    **db,
                gboolean     create)
{
  static gsize setup;

  if (g_once_init_enter (&setup))
    {
      sqlite3_config (SQLITE_CONFIG_MEMSTATUS, 0);
      g_once_init_leave (&setup, 1);
    }
  /* A database given a key is opened through the sealing VFS (kh-crypt-vfs.c), and every page
   * keeps room for its seal; a wrong key is refused before SQLite reads anything. */
  if (kh_crypt_vfs_has_key (path))
    {
      guint8 key[KH_CRYPT_KEY_BYTES];
      gboolean right;
      int rc;

      kh_crypt_vfs_get_key (path, key);
      right = kh_crypt_vfs_check_key (path, key);
      sodium_memzero (key, sizeof key);
      if (!right)
        {
          *db = NULL;
          return SQLITE_AUTH;
        }
      rc = sqlite3_open_v2 (path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                                      | (create ? SQLITE_OPEN_CREATE : 0), KH_CRYPT_VFS_NAME);
      if (rc == SQLITE_OK)
        rc = kh_crypt_vfs_prepare (*db, "main");
      return rc;
    }
  return sqlite3_open_v2 (path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX
                                    | (create ? SQLITE_OPEN_CREATE : 0), NULL);
}

/* Makes the database file at @path, and the files SQLite keeps beside it, readable and
 * writable by their owner only: a replica holds the records of a whole area (names, national
 * ids, money), whatever the umask says. A missing database file is made empty with mode 0600
 * (SQLite takes an empty file for a new database) and SQLite gives its journal, WAL and
 * shared-memory files the database file's mode; files made before, 0644 by the umask, are
 * tightened. An existing file is changed by its path only, never opened: closing any
 * descriptor of a file drops every POSIX lock this process holds on it, so opening the
 * database here while another connection of the process has it would break SQLite's locking.
 * A path SQLite does not take as a file (":memory:", "", a URI) is left alone, and a file that
 * cannot be changed (another owner's) is used as it is. */
void
kh_sqlite_make_private (const char *path)
{
  static const char * const beside[] = { "", "-wal", "-shm", "-journal" };
  int fd;

  if (path == NULL || *path == '\0' || strcmp (path, ":memory:") == 0 || g_str_has_prefix (path, "file:"))
    return;
  fd = open (path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd >= 0)
    close (fd);  /* new: no connection can hold it yet */
  for (guint i = 0; i < G_N_ELEMENTS (beside); i++)
    {
      g_autofree char *file = g_strconcat (path, beside[i], NULL);
      struct stat st;

      if (lstat (file, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 077) != 0
          && st.st_uid == geteuid () && chmod (file, st.st_mode & 0700) != 0)
        g_debug ("could not make %s private: %s", file, g_strerror (errno));
    }
}

/* Makes @folder (and the folders above it that are missing) with mode 0700, and takes an
 * existing one back to 0700. Only for the program's own folder under the user's data folder:
 * a folder a person named (with --db) may be shared on purpose, or be /tmp. */
void
kh_sqlite_make_private_folder (const char *folder)
{
  struct stat st;

  if (g_mkdir_with_parents (folder, 0700) != 0)
    return;
  if (lstat (folder, &st) == 0 && S_ISDIR (st.st_mode) && (st.st_mode & 077) != 0
      && st.st_uid == geteuid () && chmod (folder, st.st_mode & 0700) != 0)
    g_debug ("could not make %s private: %s", folder, g_strerror (errno));
}

gboolean
kh_sqlite_exec (sqlite3     *db,
                const char  *sql,
                GError     **error)
{
  char *msg = NULL;

  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      if (set_sealed_error (error, db))
        {
          sqlite3_free (msg);
          return FALSE;
        }
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE,
                   _("The local database failed: %s"), msg ? msg : sqlite3_errmsg (db));
      g_debug ("failed SQL: %s", sql);
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static void
fold_func (sqlite3_context  *ctx,
           int               argc,
           sqlite3_value   **argv)
{
  const unsigned char *text = sqlite3_value_text (argv[0]);
  char *folded;

  if (text == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  folded = kh_fold ((const char *) text);
  sqlite3_result_text (ctx, folded, -1, g_free);
}

/* kh_name_key(name): the key lists of people sort by, given name first (kh_name_sort_key(), as
 * the printed lists sort), for the index schema version 8 makes on it. */
static void
name_key_func (sqlite3_context  *ctx,
               int               argc,
               sqlite3_value   **argv)
{
  const unsigned char *text = sqlite3_value_text (argv[0]);

  if (text == NULL)
    {
      sqlite3_result_null (ctx);
      return;
    }
  sqlite3_result_text (ctx, kh_name_sort_key ((const char *) text, KH_NAME_ORDER_GIVEN_FIRST), -1, g_free);
}

/* kh_fts_paused() was true while the sync engine applied a page on this connection: the search
 * triggers of versions 3 stood aside and the page indexed its records at its end. Version 4's
 * triggers no longer ask (see append_search_triggers()); the functions stay for the triggers
 * of a version 3 database until it is migrated. kh_fts_pause(1|0) sets it. */
static void
fts_paused_func (sqlite3_context  *ctx,
                 int               argc,
                 sqlite3_value   **argv)
{
  int *paused = sqlite3_user_data (ctx);

  sqlite3_result_int (ctx, *paused);
}

static void
fts_pause_func (sqlite3_context  *ctx,
                int               argc,
                sqlite3_value   **argv)
{
  int *paused = sqlite3_user_data (ctx);

  *paused = sqlite3_value_int (argv[0]) != 0;
  sqlite3_result_int (ctx, *paused);
}

gboolean
kh_sqlite_register_functions (sqlite3  *db,
                              GError  **error)
{
  int *paused = g_new0 (int, 1);

  if (sqlite3_create_function_v2 (db, "kh_fold", 1,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, fold_func, NULL, NULL, NULL) != SQLITE_OK)
    {
      g_free (paused);
      kh_sqlite_set_error (error, db, "kh_fold");
      return FALSE;
    }
  if (sqlite3_create_function_v2 (db, "kh_name_key", 1,
                                  SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                  NULL, name_key_func, NULL, NULL, NULL) != SQLITE_OK)
    {
      g_free (paused);
      kh_sqlite_set_error (error, db, "kh_name_key");
      return FALSE;
    }
  /* The flag belongs to the connection; the first function frees it with the connection. */
  if (sqlite3_create_function_v2 (db, "kh_fts_paused", 0, SQLITE_UTF8 | SQLITE_INNOCUOUS,
                                  paused, fts_paused_func, NULL, NULL, g_free) != SQLITE_OK
      || sqlite3_create_function_v2 (db, "kh_fts_pause", 1, SQLITE_UTF8 | SQLITE_DIRECTONLY,
                                     paused, fts_pause_func, NULL, NULL, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, db, "kh_fts_paused");
      return FALSE;
    }
  return TRUE;
}
