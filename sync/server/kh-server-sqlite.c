/* kh-server-sqlite.c: the server's storage on SQLite
 *
 * WAL mode, so readers never wait for the writer; synchronous=FULL, so an acknowledged push
 * survives a crash of the process or the machine. Writers take the lock up front
 * (BEGIN IMMEDIATE): there is one writer at a time, and versions follow commit order.
 *
 * The WAL is copied back into the database (checkpointed) once it holds 8000 pages (32 MB)
 * rather than SQLite's default 1000: a push of 500 edits scattered over the table dirties
 * several hundred pages, so with the default nearly every commit paid for a checkpoint, and
 * the same pages were copied again and again. The checkpoint runs after the commit has let go
 * of the write lock (SQLite's automatic one runs inside COMMIT, so every other writer waited
 * for it), as a PASSIVE one that neither waits for nor blocks readers and writers. Checkpoints
 * play no part in durability: each commit fsyncs the WAL (synchronous=FULL).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <sqlite3.h>
#include <string.h>

#include "kh-schema.h"
#include "kh-server-sqlite.h"

struct _KhServerSqlite
{
  GObject     parent_instance;
  sqlite3    *db;
  GHashTable *statements;  /* SQL text → sqlite3_stmt */
  gboolean    writing;     /* holds write_lock */
  int         wal_pages;   /* pages in the WAL after this connection's last commit */
};

#define CHECKPOINT_PAGES 8000

/* Writers of this process queue here before BEGIN IMMEDIATE: SQLite's own busy handler sleeps
 * in growing steps (up to 100 ms) while it waits for the lock, which shows as latency spikes
 * under load; a mutex hands the lock on at once. Other processes still meet the busy timeout. */
static GMutex write_lock;

static void kh_server_sqlite_backend_init (KhServerBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhServerSqlite, kh_server_sqlite, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KH_TYPE_SERVER_BACKEND,
                                                      kh_server_sqlite_backend_init))

static void
set_error (GError     **error,
           sqlite3     *db,
           int          rc,
           const char  *what)
{
  int code = (rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED
             ? KH_SERVER_ERROR_BUSY : KH_SERVER_ERROR_DATABASE;

  g_set_error (error, KH_SERVER_ERROR, code, _("Database error (%s): %s"), what,
               db != NULL ? sqlite3_errmsg (db) : sqlite3_errstr (rc));
}

static void
kh_server_sqlite_finalize (GObject *object)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (object);

  g_clear_pointer (&self->statements, g_hash_table_unref);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  G_OBJECT_CLASS (kh_server_sqlite_parent_class)->finalize (object);
}

static void
kh_server_sqlite_class_init (KhServerSqliteClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_server_sqlite_finalize;
}

static void
kh_server_sqlite_init (KhServerSqlite *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) sqlite3_finalize);
}

static gboolean
sqlite_exec_script (KhServerBackend  *backend,
                    const char       *sql,
                    GError          **error)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (backend);
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_error (error, self->db, rc, "script");
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_exec (KhServerBackend   *backend,
             const char        *sql,
             const KhSqlParam  *params,
             guint              n_params,
             KhSqlRowFunc       row_func,
             gpointer           user_data,
             gint64            *changes,
             GError           **error)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (backend);
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);
  int rc;
  int n_cols;
  const char **values = NULL;

  if (stmt == NULL)
    {
      rc = sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL);
      if (rc != SQLITE_OK)
        {
          set_error (error, self->db, rc, "prepare");
          return FALSE;
        }
      g_hash_table_insert (self->statements, g_strdup (sql), stmt);
    }

  for (guint i = 0; i < n_params; i++)
    switch (params[i].type)
      {
      case KH_SQL_TEXT:
        sqlite3_bind_text (stmt, (int) i + 1, params[i].text, -1, SQLITE_STATIC);
        break;
      case KH_SQL_INT:
        sqlite3_bind_int64 (stmt, (int) i + 1, params[i].value);
        break;
      case KH_SQL_NULL:
      default:
        sqlite3_bind_null (stmt, (int) i + 1);
        break;
      }

  n_cols = sqlite3_column_count (stmt);
  if (n_cols > 0)
    values = g_newa (const char *, n_cols);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      if (row_func == NULL)
        continue;
      for (int c = 0; c < n_cols; c++)
        values[c] = (const char *) sqlite3_column_text (stmt, c);
      if (!row_func (values, n_cols, user_data))
        {
          rc = SQLITE_DONE;
          break;
        }
    }
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  if (rc != SQLITE_DONE)
    {
      set_error (error, self->db, rc, "step");
      return FALSE;
    }
  if (changes != NULL)
    *changes = sqlite3_changes64 (self->db);
  return TRUE;
}

static void
release_write_lock (KhServerSqlite *self)
{
  if (self->writing)
    {
      self->writing = FALSE;
      g_mutex_unlock (&write_lock);
    }
}

static gboolean
sqlite_begin (KhServerBackend  *backend,
              KhTxKind          kind,
              GError          **error)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (backend);

  if (kind == KH_TX_READ)
    return sqlite_exec (backend, "BEGIN", NULL, 0, NULL, NULL, NULL, error);
  g_mutex_lock (&write_lock);
  self->writing = TRUE;
  if (!sqlite_exec (backend, "BEGIN IMMEDIATE", NULL, 0, NULL, NULL, NULL, error))
    {
      release_write_lock (self);
      return FALSE;
    }
  return TRUE;
}

static gboolean
sqlite_commit (KhServerBackend  *backend,
               GError          **error)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (backend);
  gboolean ok = sqlite_exec (backend, "COMMIT", NULL, 0, NULL, NULL, NULL, error);

  /* A failed COMMIT leaves the transaction open: the rollback releases the lock. */
  if (ok || sqlite3_get_autocommit (self->db))
    release_write_lock (self);
  if (ok && self->wal_pages >= CHECKPOINT_PAGES)
    {
      /* Busy (another connection is checkpointing) is fine: the next commit tries again. */
      self->wal_pages = 0;
      sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    }
  return ok;
}

static void
sqlite_rollback (KhServerBackend *backend)
{
  KhServerSqlite *self = KH_SERVER_SQLITE (backend);

  if (!sqlite3_get_autocommit (self->db))
    sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  release_write_lock (self);
}

/* Called by SQLite after each commit on this connection, with the WAL's size in pages. It
 * replaces SQLite's automatic checkpoint, which would run inside COMMIT. */
static int
wal_hook_cb (void       *data,
             sqlite3    *db,
             const char *name,
             int         pages)
{
  KhServerSqlite *self = data;

  self->wal_pages = pages;
  return SQLITE_OK;
}

static const char *
sqlite_get_name (KhServerBackend *backend)
{
  return "sqlite";
}

static void
kh_server_sqlite_backend_init (KhServerBackendInterface *iface)
{
  iface->exec = sqlite_exec;
  iface->exec_script = sqlite_exec_script;
  iface->begin = sqlite_begin;
  iface->commit = sqlite_commit;
  iface->rollback = sqlite_rollback;
  iface->get_name = sqlite_get_name;
}

KhServerSqlite *
kh_server_sqlite_open (const char  *path,
                       GError     **error)
{
  g_autoptr(KhServerSqlite) self = g_object_new (KH_TYPE_SERVER_SQLITE, NULL);
  int rc;

  rc = kh_sqlite_open (path, &self->db, TRUE);
  if (rc != SQLITE_OK)
    {
      set_error (error, self->db, rc, path);
      return NULL;
    }
  sqlite3_busy_timeout (self->db, 30000);
  if (!sqlite_exec_script (KH_SERVER_BACKEND (self),
                           "PRAGMA journal_mode = WAL;"
                           "PRAGMA synchronous = FULL;"
                           "PRAGMA foreign_keys = ON;"
                           "PRAGMA cache_size = -32000;"
                           /* The server mostly reads: a first pull of a province reads
                            * most of the database. Mapped into memory, its pages are read
                            * without a system call and a copy each (SQLite maps up to 2 GB
                            * on Debian; beyond that it reads as before), which takes most
                            * of the system time out of a first pull. */
                           "PRAGMA mmap_size = 2147418112;", error))
    return NULL;
  sqlite3_wal_hook (self->db, wal_hook_cb, self);
  return g_steal_pointer (&self);
}
