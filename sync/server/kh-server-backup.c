/* kh-server-backup.c: backup and restore of a SQLite server database
 *
 * Both go through SQLite's online backup API. The backup reads one snapshot in a single step
 * (WAL mode: the server's writers go on meanwhile), so the copy is the database as of one
 * commit; a copy made by reading the file would mix pages from before and after a commit. The
 * restore is one write transaction on the live database: the server, if it is running, waits
 * for it like for any writer and then sees the restored database whole.
 *
 * PostgreSQL has its own tools for this (pg_dump, pg_restore; see the README).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>
#include <unistd.h>

#include "kh-server-backend.h"
#include "kh-server-backup.h"

#define BUSY_MS 30000

const char *
kh_server_backup_sqlite_path (const char  *url,
                              GError     **error)
{
  const char *path;

  if (!g_str_has_prefix (url, "sqlite:"))
    {
      g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_URL,
                           _("backup and restore work on a SQLite database; for PostgreSQL use "
                             "pg_dump and pg_restore, then “epoch bump” (see the README)."));
      return NULL;
    }
  path = url + strlen ("sqlite:");
  if (g_str_has_prefix (path, "//"))
    path += 2;
  return path;
}

static gboolean
db_error (GError     **error,
          sqlite3     *db,
          const char  *what)
{
  g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE, _("Database error (%s): %s"), what,
               db != NULL ? sqlite3_errmsg (db) : _("out of memory"));
  return FALSE;
}

static sqlite3 *
open_db (const char  *path,
         int          flags,
         GError     **error)
{
  sqlite3 *db = NULL;

  if (sqlite3_open_v2 (path, &db, flags, NULL) != SQLITE_OK)
    {
      db_error (error, db, path);
      sqlite3_close_v2 (db);
      return NULL;
    }
  sqlite3_busy_timeout (db, BUSY_MS);
  return db;
}

/* The meta value @key of @db as a number; FALSE when there is none (no meta table, or a file
 * that is not a database: @error then says which). */
static gboolean
read_meta (sqlite3     *db,
           const char  *key,
           char       **text,
           GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean found = FALSE;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = ?", -1, &stmt, NULL) != SQLITE_OK)
    return db_error (error, db, "meta");
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    {
      *text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      found = TRUE;
    }
  sqlite3_finalize (stmt);
  if (!found)
    g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_INITIALIZED,
                 _("The database has no “%s”: it is not a Khuyến Học server database."), key);
  return found;
}

/* SQLite's quick check of @db: FALSE, with what it found, unless the file is sound. */
static gboolean
check_sound (sqlite3     *db,
             const char  *path,
             GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  g_autofree char *answer = NULL;

  if (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &stmt, NULL) != SQLITE_OK)
    return db_error (error, db, path);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    answer = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  if (g_strcmp0 (answer, "ok") != 0)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                   _("“%s” is damaged: %s"), path, answer != NULL ? answer : sqlite3_errmsg (db));
      return FALSE;
    }
  return TRUE;
}

/* Copies @from's main database into @to's in one step of the backup API. */
static gboolean
copy_database (sqlite3     *to,
               sqlite3     *from,
               const char  *what,
               GError     **error)
{
  sqlite3_backup *backup = sqlite3_backup_init (to, "main", from, "main");
  gint64 deadline = g_get_monotonic_time () + (gint64) BUSY_MS * 1000;
  int rc;

  if (backup == NULL)
    return db_error (error, to, what);
  /* -1: every page in one step, so the copy is a single snapshot of @from. A step refused
   * because another connection holds a lock is tried again. */
  do
    {
      rc = sqlite3_backup_step (backup, -1);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        g_usleep (50 * 1000);
    }
  while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK)
         && g_get_monotonic_time () < deadline);
  sqlite3_backup_finish (backup);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, KH_SERVER_ERROR,
                   rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? KH_SERVER_ERROR_BUSY : KH_SERVER_ERROR_DATABASE,
                   _("Database error (%s): %s"), what, sqlite3_errstr (rc));
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_server_backup (const char  *url,
                  const char  *file,
                  GError     **error)
{
  const char *path = kh_server_backup_sqlite_path (url, error);
  g_autofree char *partial = NULL;
  g_autofree char *id = NULL;
  sqlite3 *from = NULL;
  sqlite3 *to = NULL;
  gboolean ok = FALSE;
  int fd;

  if (path == NULL)
    return FALSE;
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND, _("There is no database “%s”."), path);
      return FALSE;
    }
  from = open_db (path, SQLITE_OPEN_READWRITE, error);
  if (from == NULL || !read_meta (from, "server_id", &id, error))
    goto out;

  /* Written beside @file under another name and renamed once checked: a backup cut off by a
   * full disk or a kill never stands under the name of a good one. */
  partial = g_strdup_printf ("%s.partial", file);
  g_unlink (partial);
  fd = g_open (partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _("Could not write “%s”: %s"),
                   partial, g_strerror (saved));
      goto out;
    }
  close (fd);
  to = open_db (partial, SQLITE_OPEN_READWRITE, error);
  if (to == NULL || !copy_database (to, from, path, error))
    goto out;
  /* The copy is one self-contained file, whatever the journal mode of the original. */
  if (sqlite3_exec (to, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK)
    {
      db_error (error, to, partial);
      goto out;
    }
  if (!check_sound (to, partial, error))
    goto out;
  sqlite3_close_v2 (to);
  to = NULL;
  if (g_rename (partial, file) != 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _("Could not write “%s”: %s"),
                   file, g_strerror (saved));
      goto out;
    }
  ok = TRUE;

out:
  sqlite3_close_v2 (to);
  sqlite3_close_v2 (from);
  if (!ok && partial != NULL)
    g_unlink (partial);
  return ok;
}

gboolean
kh_server_restore (const char  *url,
                   const char  *file,
                   gint64      *epoch,
                   GError     **error)
{
  const char *path = kh_server_backup_sqlite_path (url, error);
  g_autofree char *backup_id = NULL;
  g_autofree char *backup_epoch = NULL;
  g_autofree char *live_id = NULL;
  g_autofree char *live_epoch = NULL;
  g_autofree char *text = NULL;
  g_autofree char *staging_path = NULL;
  sqlite3 *from = NULL;
  sqlite3 *to = NULL;
  sqlite3 *staging = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 before = 0;
  gint64 restored = 0;
  gboolean ok = FALSE;
  int fd;

  if (path == NULL)
    return FALSE;
  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR))
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND, _("There is no backup “%s”."), file);
      return FALSE;
    }
  from = open_db (file, SQLITE_OPEN_READONLY, error);
  if (from == NULL || !check_sound (from, file, error)
      || !read_meta (from, "server_id", &backup_id, error) || !read_meta (from, "epoch", &backup_epoch, error))
    goto out;
  restored = g_ascii_strtoll (backup_epoch, NULL, 10);

  to = open_db (path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, error);
  if (to == NULL)
    goto out;
  /* A database that is there must be this server's: clients bound to one server id refuse
   * another (PROTOCOL.md §7). One that is lost or empty takes the backup as it is. */
  if (read_meta (to, "server_id", &live_id, NULL))
    {
      if (strcmp (live_id, backup_id) != 0)
        {
          g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                       _("“%s” is a backup of another server (%s), not of this one (%s)."), file,
                       backup_id, live_id);
          goto out;
        }
      if (read_meta (to, "epoch", &live_epoch, NULL))
        before = g_ascii_strtoll (live_epoch, NULL, 10);
    }
  /* The epoch is set in a copy of the backup, and that copy is put back in one transaction:
   * a restore cut off half way leaves the database as it was, never the backup's data under
   * an epoch the clients already know. */
  staging_path = g_strdup_printf ("%s.restoring", path);
  g_unlink (staging_path);
  fd = g_open (staging_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), _("Could not write “%s”: %s"),
                   staging_path, g_strerror (saved));
      goto out;
    }
  close (fd);
  staging = open_db (staging_path, SQLITE_OPEN_READWRITE, error);
  if (staging == NULL || !copy_database (staging, from, staging_path, error))
    goto out;

  /* Past both: a client that saw the epoch of the database before the restore must see a
   * change too, even when bumps were made after the backup was taken. */
  *epoch = MAX (before, restored) + 1;
  text = g_strdup_printf ("%" G_GINT64_FORMAT, *epoch);
  if (sqlite3_prepare_v2 (staging, "UPDATE meta SET value = ? WHERE key = 'epoch'", -1, &stmt, NULL) != SQLITE_OK)
    {
      db_error (error, staging, staging_path);
      goto out;
    }
  sqlite3_bind_text (stmt, 1, text, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) != SQLITE_DONE || sqlite3_changes (staging) != 1)
    {
      db_error (error, staging, staging_path);
      goto out;
    }
  g_clear_pointer (&stmt, sqlite3_finalize);
  if (!copy_database (to, staging, path, error))
    goto out;
  ok = TRUE;

out:
  sqlite3_finalize (stmt);
  sqlite3_close_v2 (staging);
  sqlite3_close_v2 (to);
  sqlite3_close_v2 (from);
  if (staging_path != NULL)
    g_unlink (staging_path);
  return ok;
}
