/* kh-store-backup.c: the replica's own backups
 *
 * The replica is the only copy of what was typed and not yet sent; a broken disk sector or a
 * mistaken bulk delete should not be the end of it. While the app runs it keeps a copy a day
 * (the newest KH_STORE_BACKUPS_KEPT), made with SQLite's backup API from a connection of its
 * own, so neither the window nor the engine waits for it. A restore goes the other way, through
 * the store's own connection, as one write transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-sqlite.h"
#include "kh-store-backup.h"
#include "kh-store-private.h"

#define BUSY_MS 30000
#define PREFIX  "replica-"
#define SUFFIX  ".db"

static gboolean
io_error (GError     **error,
          const char  *path,
          int          saved)
{
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("Could not write “%s”: %s"), path,
               g_strerror (saved));
  return FALSE;
}

/* Copies @from's main database into @to's in one step, so the copy is one moment of @from. */
static gboolean
copy_database (sqlite3     *to,
               sqlite3     *from,
               GError     **error)
{
  sqlite3_backup *backup = sqlite3_backup_init (to, "main", from, "main");
  gint64 deadline = g_get_monotonic_time () + (gint64) BUSY_MS * 1000;
  int rc;

  if (backup == NULL)
    {
      kh_sqlite_set_error (error, to, "backup");
      return FALSE;
    }
  do
    {
      rc = sqlite3_backup_step (backup, -1);
      if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED)
        g_usleep (50 * 1000);
    }
  while ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_OK) && g_get_monotonic_time () < deadline);
  sqlite3_backup_finish (backup);
  if (rc != SQLITE_DONE)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE, _("The local database failed: %s"),
                   sqlite3_errstr (rc));
      return FALSE;
    }
  return TRUE;
}

/* The replica id kept in @db's meta table, or NULL. */
static char *
replica_id_of (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  char *id = NULL;

  if (sqlite3_prepare_v2 (db, "SELECT value FROM meta WHERE key = ?", -1, &stmt, NULL) != SQLITE_OK)
    return NULL;
  sqlite3_bind_text (stmt, 1, "replica_id", -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return id;
}

static gboolean
check_sound (sqlite3     *db,
             const char  *path,
             GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean ok = FALSE;

  if (sqlite3_prepare_v2 (db, "PRAGMA quick_check", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    ok = g_strcmp0 ((const char *) sqlite3_column_text (stmt, 0), "ok") == 0;
  sqlite3_finalize (stmt);
  if (!ok)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE, _("The backup “%s” is damaged."), path);
  return ok;
}

/* A sealed replica's copies are sealed with its key: @copy is given the key of @replica, if it
 * has one, before it is opened, so that not one page of it is written in the clear. */
static void
share_key (const char *replica,
           const char *copy)
{
  guint8 key[KH_CRYPT_KEY_BYTES];

  if (kh_crypt_vfs_get_key (replica, key))
    kh_crypt_vfs_set_key (copy, key);
  sodium_memzero (key, sizeof key);
}

gboolean
kh_store_backup_file (const char  *replica_path,
                      const char  *dest,
                      GError     **error)
{
  g_autofree char *partial = g_strdup_printf ("%s.partial", dest);
  sqlite3 *from = NULL;
  sqlite3 *to = NULL;
  gboolean ok = FALSE;
  int fd;

  if (kh_sqlite_open (replica_path, &from, FALSE) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, from, replica_path);
      goto out;
    }
  sqlite3_busy_timeout (from, BUSY_MS);
  /* Written under another name and renamed once complete: a copy cut off by a full disk or a
   * closed laptop never stands as a backup. Mode 0600: it holds every record of the area. */
  g_unlink (partial);
  fd = g_open (partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      io_error (error, partial, errno);
      goto out;
    }
  close (fd);
  share_key (replica_path, partial);
  share_key (replica_path, dest);
  if (kh_sqlite_open (partial, &to, FALSE) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, to, partial);
      goto out;
    }
  if (!copy_database (to, from, error)
      || !kh_sqlite_exec (to, "PRAGMA journal_mode = DELETE", error))
    goto out;
  sqlite3_close_v2 (to);
  to = NULL;
  if (g_rename (partial, dest) != 0)
    {
      io_error (error, dest, errno);
      goto out;
    }
  ok = TRUE;

out:
  sqlite3_close_v2 (to);
  sqlite3_close_v2 (from);
  kh_crypt_vfs_forget_key (partial);
  if (!ok)
    g_unlink (partial);
  return ok;
}

char *
kh_store_backup_dir (const char *replica_path)
{
  return g_strdup_printf ("%s-backups", replica_path);
}

GDateTime *
kh_store_backup_time (const char *path)
{
  g_autofree char *name = g_path_get_basename (path);
  int y, mo, d, h, mi, s;
  char end[8] = "";

  if (sscanf (name, PREFIX "%4d%2d%2dT%2d%2d%2dZ%7s", &y, &mo, &d, &h, &mi, &s, end) != 7
      || strcmp (end, SUFFIX) != 0)
    return NULL;
  return g_date_time_new_utc (y, mo, d, h, mi, s);
}

static int
newest_first (gconstpointer a,
              gconstpointer b)
{
  /* The names sort by time. */
  return -g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

GPtrArray *
kh_store_backup_list (const char *replica_path)
{
  g_autofree char *dir_path = kh_store_backup_dir (replica_path);
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  GPtrArray *list = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr(GDateTime) time = kh_store_backup_time (path);

      if (time != NULL)
        g_ptr_array_add (list, g_steal_pointer (&path));
    }
  g_ptr_array_sort (list, newest_first);
  return list;
}

gboolean
kh_store_backup_auto (const char  *replica_path,
                      GDateTime   *now,
                      gboolean     force,
                      guint        keep,
                      char       **made,
                      GError     **error)
{
  g_autofree char *dir = kh_store_backup_dir (replica_path);
  g_autoptr(GPtrArray) list = kh_store_backup_list (replica_path);
  g_autoptr(GDateTime) utc = g_date_time_to_utc (now);
  g_autofree char *stamp = g_date_time_format (utc, "%Y%m%dT%H%M%SZ");
  g_autofree char *name = g_strdup_printf (PREFIX "%s" SUFFIX, stamp);
  g_autofree char *path = g_build_filename (dir, name, NULL);

  *made = NULL;
  if (!force && list->len > 0)
    {
      g_autoptr(GDateTime) newest = kh_store_backup_time (list->pdata[0]);

      if (g_date_time_difference (now, newest) < (GTimeSpan) KH_STORE_BACKUP_HOURS * G_TIME_SPAN_HOUR)
        return TRUE;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    return io_error (error, dir, errno);
  if (!kh_store_backup_file (replica_path, path, error))
    return FALSE;
  g_ptr_array_insert (list, 0, g_strdup (path));
  g_ptr_array_sort (list, newest_first);
  for (guint i = keep; i < list->len; i++)
    g_unlink (list->pdata[i]);
  *made = g_steal_pointer (&path);
  return TRUE;
}

gboolean
kh_store_restore_backup (KhStore     *store,
                         const char  *path,
                         GError     **error)
{
  sqlite3 *from = NULL;
  g_autofree char *id = NULL;
  gboolean ok = FALSE;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  /* Not inside a transaction of the store's: the copy is a transaction of its own. */
  g_return_val_if_fail (store->depth == 0, FALSE);

  share_key (store->path, path);
  rc = kh_sqlite_open (path, &from, FALSE);
  if (rc == SQLITE_AUTH)
    {
      /* Sealed with another key: another replica's. */
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("“%s” is a backup of another database, not of this one."), path);
      goto out;
    }
  if (rc != SQLITE_OK)
    {
      kh_sqlite_set_error (error, from, path);
      goto out;
    }
  if (!check_sound (from, path, error))
    goto out;
  id = replica_id_of (from);
  if (g_strcmp0 (id, kh_store_get_replica_id (store)) != 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("“%s” is a backup of another database, not of this one."), path);
      goto out;
    }
  /* Statements the store keeps prepared are prepared again by SQLite when they next run. */
  ok = copy_database (store->db, from, error);

out:
  sqlite3_close_v2 (from);
  return ok;
}
