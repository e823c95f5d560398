/* kh-attach-collect.c: the local files no attachment needs any more
 *
 * The files beside a replica are named by their SHA-256 and shared by every attachment that
 * names the same bytes, so a file is removed only when none of them needs it: when no live
 * attachment (one not deleted, whose record is still in the replica) names it, and it is not a
 * file the server lacks that an attachment in the Trash names (restored, it would have nothing
 * to send; one the server has comes back when opened). What removes the last need may be a
 * detach here, a tombstone pulled from the server, or the record forgotten by the replica.
 *
 * Crash safety comes from the order: the need goes first, in its own committed transaction (a
 * tombstone, a dropped record), and the file after, so a kill in between leaves at most a file
 * nobody needs, never a needed file missing; such a file, and a download or a copy a killed
 * process left half written, is found by the next collection of the whole folder (at each
 * sync's end). A collection holds the replica's write lock while it looks and removes, so an
 * attachment of the same bytes cannot be added between the two (kh_attach_add() keeps its file
 * under the same lock).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "kh-attach.h"
#include "kh-entity.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-store-trash.h"

static gboolean
is_hash (const char *h,
         gsize       len)
{
  return len == 64 && strspn (h, "0123456789abcdef") >= 64;
}

/* Whether something still needs the file @sha256. The owner is looked up in its own table by
 * id (each has it as its key); a file the server does not have yet is kept while an
 * attachment naming it can be restored from the Trash. */
static const char *
need_sql (void)
{
  static gsize once = 0;
  static char *sql;

  if (g_once_init_enter (&once))
    {
      const char * const *owners = kh_attach_owner_entities ();
      GString *s = g_string_new ("SELECT EXISTS (SELECT 1 FROM attachment a WHERE a.sha256 = ?1 AND ("
                                 "(a.deleted = 0 AND (");

      for (guint i = 0; owners[i] != NULL; i++)
        g_string_append_printf (s, "%sEXISTS (SELECT 1 FROM %s o WHERE a.owner_entity = '%s' AND o.id = a.owner_id)",
                                i > 0 ? " OR " : "", owners[i], owners[i]);
      g_string_append (s, ")) OR (a.deleted = 1 AND a.updated_at >= ?2 AND "
                          "coalesce((SELECT f.uploaded FROM attachment_file f WHERE f.sha256 = ?1), 0) = 0)))");
      sql = g_string_free (s, FALSE);
      g_once_init_leave (&once, 1);
    }
  return sql;
}

static int
needed (KhStore     *store,
        const char  *sha256,
        const char  *cutoff,
        GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare_static (store, need_sql (), error);
  int result = -1;

  if (stmt == NULL)
    return -1;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, cutoff, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    result = sqlite3_column_int (stmt, 0);
  else
    kh_sqlite_set_error (error, kh_store_get_db (store), "attachment");
  sqlite3_reset (stmt);
  return result;
}

static gboolean
unlink_quietly (const char  *path,
                GError     **error)
{
  int e;

  if (g_unlink (path) == 0)
    return TRUE;
  e = errno;
  if (e == ENOENT)
    return TRUE;
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (e), "%s: %s", path, g_strerror (e));
  return FALSE;
}

/* Removes the file @sha256, and what this replica noted of it, unless something needs it. */
static gboolean
collect_one (KhStore     *store,
             const char  *dir,
             const char  *sha256,
             const char  *cutoff,
             gboolean     partial_too,
             guint       *removed,
             GError     **error)
{
  g_autofree char *path = NULL;
  sqlite3_stmt *stmt;
  int need = needed (store, sha256, cutoff, error);

  if (need != 0)
    return need > 0;
  path = g_build_filename (dir, sha256, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    (*removed)++;
  if (!unlink_quietly (path, error))
    return FALSE;
  if (partial_too)
    {
      g_autofree char *part = g_strconcat (path, ".part", NULL);

      if (!unlink_quietly (part, error))
        return FALSE;
    }
  stmt = kh_store_prepare (store, "DELETE FROM attachment_file WHERE sha256 = ?1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, sha256, -1, SQLITE_TRANSIENT);
  return kh_sqlite_step_done (stmt, "attachment_file", error);
}

static gboolean
collect_all (KhStore     *store,
             const char  *dir_path,
             const char  *cutoff,
             guint       *removed,
             GError     **error)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) noted = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) dir = NULL;
  sqlite3_stmt *stmt;
  const char *name;
  int rc;

  /* What the replica noted, whether or not the file is still there (a kill after its removal
   * and before the note's), and what the folder holds, noted or not. */
  stmt = kh_store_prepare (store, "SELECT sha256 FROM attachment_file", error);
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (noted, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "attachment_file");
      return FALSE;
    }
  for (guint i = 0; i < noted->len; i++)
    if (g_hash_table_add (seen, g_strdup (noted->pdata[i]))
        && !collect_one (store, dir_path, noted->pdata[i], cutoff, TRUE, removed, error))
      return FALSE;

  if (!g_file_test (dir_path, G_FILE_TEST_IS_DIR))
    return TRUE;
  dir = g_dir_open (dir_path, 0, error);
  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      gsize len = strlen (name);
      g_autofree char *hash = NULL;

      /* A copy being kept when a process was killed (kh_attach_add() makes and renames it
       * under the write lock this collection holds, so none is under way now). */
      if (g_str_has_prefix (name, "tmp-"))
        {
          g_autofree char *path = g_build_filename (dir_path, name, NULL);

          if (!unlink_quietly (path, error))
            return FALSE;
          continue;
        }
      if (is_hash (name, len) || (len == 69 && g_str_has_suffix (name, ".part") && is_hash (name, 64)))
        hash = g_strndup (name, 64);
      if (hash == NULL || g_hash_table_contains (seen, hash))
        continue;
      g_hash_table_add (seen, g_strdup (hash));
      if (!collect_one (store, dir_path, hash, cutoff, TRUE, removed, error))
        return FALSE;
    }
  return TRUE;
}

/* Removes the local files nothing needs any more: the file @sha256 only, or (NULL) every file
 * of the folder, downloads and copies left by a killed process included. A download under way
 * is left alone by the first form, which the window uses beside the sync engine's thread.
 * Returns FALSE with @error set when the replica cannot be read or a file cannot be removed;
 * @removed (may be NULL) counts the files removed. */
gboolean
kh_attach_collect (KhStore     *store,
                   const char  *sha256,
                   guint       *removed,
                   GError     **error)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_days (now, -KH_STORE_TRASH_DAYS);
  g_autofree char *cutoff = g_date_time_format (then, "%Y-%m-%dT%H:%M:%S.%fZ");
  g_autofree char *dir = kh_attach_dir (store);
  guint count = 0;
  gboolean ok;

  if (sha256 != NULL && !is_hash (sha256, strlen (sha256)))
    return TRUE;
  /* Under the write lock: an attachment of the same bytes cannot come between the look and
   * the removal. */
  if (!kh_store_begin (store, error))
    return FALSE;
  ok = sha256 != NULL ? collect_one (store, dir, sha256, cutoff, FALSE, &count, error)
                      : collect_all (store, dir, cutoff, &count, error);
  if (!ok)
    {
      kh_store_rollback (store);
      return FALSE;
    }
  if (!kh_store_commit (store, error))
    return FALSE;
  if (removed != NULL)
    *removed = count;
  return TRUE;
}

/* Removes the attachment @id (a tombstone, as for any record), then its file when no other
 * attachment needs it. The file goes after the tombstone has committed; if it cannot go now,
 * the next collection removes it. */
gboolean
kh_attach_remove (KhStore     *store,
                  const char  *id,
                  GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  json_object *a = kh_store_get (store, "attachment", id, error);
  g_autofree char *sha256 = NULL;

  if (a == NULL)
    return FALSE;
  sha256 = g_strdup (json_object_get_string (json_object_object_get (a, "sha256")));
  json_object_put (a);
  if (!kh_store_delete (store, "attachment", id, error))
    return FALSE;
  if (sha256 != NULL && !kh_attach_collect (store, sha256, NULL, &local_error))
    g_debug ("the file of attachment %s stays until the next collection: %s", id, local_error->message);
  return TRUE;
}
