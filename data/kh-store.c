/* kh-store.c: the local SQLite replica
 *
 * Every local write is one SQLite transaction holding the record change, its outbox entry and
 * its audit rows, so nothing a person typed exists only in memory and a failed write leaves
 * nothing behind. Deletes are tombstones, so the deletion can be synced and undone.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-crypt-key.h"
#include "kh-crypt-vfs.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-memory.h"
#include "kh-schema.h"
#include "kh-search-build.h"
#include "kh-sqlite.h"
#include "kh-store-private.h"
#include "kh-uuid.h"
#include "kh-workflow.h"

G_DEFINE_FINAL_TYPE (KhStore, kh_store, G_TYPE_OBJECT)

/* SQLite's page cache of a connection, in KiB; a sealed replica's window keeps more
 * (KH_CRYPT_CACHE_KIB). */
#define PLAIN_CACHE_KIB 32000

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
kh_store_finalize (GObject *object)
{
  KhStore *self = (KhStore *) object;

  _kh_store_checkpointer_stop (self);
  _kh_store_checkpointer_join (self);
  g_clear_pointer (&self->by_address, g_hash_table_unref);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->entity_sql, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->searchable, g_ptr_array_unref);
  g_clear_pointer (&self->search_check, g_free);
  g_clear_pointer (&self->search_flush, g_ptr_array_unref);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  /* What its pages took is free now, but kept by the worker thread's heap: give it back. */
  if (self->job)
    kh_memory_release ();
  g_clear_pointer (&self->path, g_free);
  g_clear_pointer (&self->actor, g_free);
  g_clear_pointer (&self->replica_id, g_free);

  G_OBJECT_CLASS (kh_store_parent_class)->finalize (object);
}

static void
kh_store_class_init (KhStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = kh_store_finalize;

  /**
   * KhStore::changed:
   * @entity: the entity name
   * @id: the record id
   *
   * Emitted after a write through this store object has committed.
   */
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
}

static void
finalize_stmt (gpointer data)
{
  sqlite3_finalize (data);
}

static void
kh_store_init (KhStore *self)
{
  self->statements = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
  self->by_address = g_hash_table_new_full (NULL, NULL, NULL, finalize_stmt);
  self->entity_sql = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_free);
  self->pending = g_ptr_array_new_with_free_func (g_free);
  self->actor = g_strdup (g_get_user_name ());
  self->permits = KH_PERMIT_UNCHECKED;
}

static char *
insert_sql (const KhEntity *entity)
{
  GString *sql = g_string_new (NULL);

  g_string_printf (sql, "INSERT INTO %s (id, version, deleted, created_at, updated_at, updated_by", entity->name);
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append_printf (sql, ", %s", entity->fields[i].name);
  g_string_append (sql, ") VALUES (?, 0, 0, ?, ?, ?");
  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append (sql, ", ?");
  g_string_append (sql, ")");
  return g_string_free (sql, FALSE);
}

const char *
_kh_store_entity_sql (KhStore        *self,
                      const KhEntity *entity,
                      EntitySqlKind   kind)
{
  gpointer key = (gpointer) ((const char *) entity + kind);
  char *sql = g_hash_table_lookup (self->entity_sql, key);

  if (sql != NULL)
    return sql;
  switch (kind)
    {
    case ENTITY_SQL_INSERT:
      sql = insert_sql (entity);
      break;
    case ENTITY_SQL_LOAD:
      {
        g_autofree char *columns = kh_store_select_columns (entity);

        sql = g_strdup_printf ("SELECT %s FROM %s WHERE id = ?", columns, entity->name);
      }
      break;
    case ENTITY_SQL_EXISTS:
      sql = g_strdup_printf ("SELECT 1 FROM %s WHERE id = ? AND deleted = 0", entity->name);
      break;
    default:
      g_assert_not_reached ();
    }
  g_hash_table_insert (self->entity_sql, key, sql);
  return sql;
}

/* Helpers ------------------------------------------------------------------------------------- */

sqlite3 *
kh_store_get_db (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  return self->db;
}

char *
kh_store_now (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%dT%H:%M:%S.%fZ");
}

sqlite3_stmt *
kh_store_prepare (KhStore     *self,
                  const char  *sql,
                  GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->statements, sql);

  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, self->db, "prepare");
      g_debug ("could not prepare: %s", sql);
      return NULL;
    }
  g_hash_table_insert (self->statements, g_strdup (sql), stmt);
  return stmt;
}

sqlite3_stmt *
kh_store_prepare_static (KhStore     *self,
                         const char  *sql,
                         GError     **error)
{
  sqlite3_stmt *stmt = g_hash_table_lookup (self->by_address, sql);

  /* Not sqlite3_clear_bindings(): clearing a thousand parameters costs as much as binding
   * them, and the caller binds every one. */
  if (stmt != NULL)
    {
      sqlite3_reset (stmt);
      return stmt;
    }
  if (sqlite3_prepare_v3 (self->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, self->db, "prepare");
      g_debug ("could not prepare: %s", sql);
      return NULL;
    }
  g_hash_table_insert (self->by_address, (gpointer) sql, stmt);
  return stmt;
}

/* Inside a batch the change is not yet committed and may still be rolled back: it is told
 * once the outermost transaction commits, and forgotten if it rolls back. */
void
kh_store_emit_changed (KhStore    *self,
                       const char *entity,
                       const char *id)
{
  if (self->depth > 0)
    {
      g_ptr_array_add (self->pending, g_strdup (entity));
      g_ptr_array_add (self->pending, g_strdup (id));
      return;
    }
  g_signal_emit (self, signals[CHANGED], 0, entity, id);
}

static void
flush_changed (KhStore  *self,
               gboolean  committed)
{
  g_autoptr(GPtrArray) pending = g_steal_pointer (&self->pending);

  self->pending = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; committed && i + 1 < pending->len; i += 2)
    g_signal_emit (self, signals[CHANGED], 0, pending->pdata[i], pending->pdata[i + 1]);
}

const KhEntity *
_kh_store_lookup_entity (const char  *name,
                         GError     **error)
{
  const KhEntity *entity = name ? kh_entity_lookup (name) : NULL;

  if (entity == NULL)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                 _("There is no kind of record called “%s”."), name ? name : "");
  return entity;
}

/* A JSON value as audit text: strings as they are, numbers in decimal, JSON as JSON. */
char *
kh_store_value_to_text (json_object *value)
{
  if (value == NULL)
    return NULL;
  if (json_object_is_type (value, json_type_string))
    return g_strdup (json_object_get_string (value));
  return g_strdup (json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN));
}

gboolean
_kh_store_values_equal (json_object *a,
                        json_object *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  if (json_object_get_type (a) != json_object_get_type (b))
    return FALSE;
  return strcmp (json_object_to_json_string_ext (a, JSON_C_TO_STRING_PLAIN),
                 json_object_to_json_string_ext (b, JSON_C_TO_STRING_PLAIN)) == 0;
}

void
kh_store_bind_value (sqlite3_stmt  *stmt,
                     int            index,
                     const KhField *field,
                     json_object   *value)
{
  if (value == NULL)
    {
      sqlite3_bind_null (stmt, index);
      return;
    }
  switch (field->type)
    {
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      sqlite3_bind_int64 (stmt, index, json_object_get_int64 (value));
      break;
    case KH_FIELD_BOOL:
      sqlite3_bind_int (stmt, index, json_object_get_boolean (value) ? 1 : 0);
      break;
    case KH_FIELD_JSON:
      sqlite3_bind_text (stmt, index,
                         json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN),
                         -1, SQLITE_TRANSIENT);
      break;
    case KH_FIELD_TEXT:
    case KH_FIELD_ENUM:
    case KH_FIELD_REF:
    case KH_FIELD_DATE:
    default:
      sqlite3_bind_text (stmt, index, json_object_get_string (value),
                         json_object_get_string_len (value), SQLITE_TRANSIENT);
      break;
    }
}

static json_object *
column_to_json (const KhField *field,
                sqlite3_stmt  *stmt,
                int            col)
{
  if (sqlite3_column_type (stmt, col) == SQLITE_NULL)
    return NULL;
  switch (field->type)
    {
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      return json_object_new_int64 (sqlite3_column_int64 (stmt, col));
    case KH_FIELD_BOOL:
      return json_object_new_boolean (sqlite3_column_int (stmt, col) != 0);
    case KH_FIELD_JSON:
      return json_tokener_parse ((const char *) sqlite3_column_text (stmt, col));
    case KH_FIELD_TEXT:
    case KH_FIELD_ENUM:
    case KH_FIELD_REF:
    case KH_FIELD_DATE:
    default:
      return json_object_new_string_len ((const char *) sqlite3_column_text (stmt, col),
                                         sqlite3_column_bytes (stmt, col));
    }
}

/* "id, version, deleted, created_at, updated_at, updated_by, f1, f2, …" */
char *
kh_store_select_columns (const KhEntity *entity)
{
  GString *s = g_string_new ("id, version, deleted, created_at, updated_at, updated_by");

  for (guint i = 0; i < entity->n_fields; i++)
    g_string_append_printf (s, ", %s", entity->fields[i].name);
  return g_string_free (s, FALSE);
}

#define N_COMMON_COLUMNS 6

/* The JSON form of a record: its id, version, deleted flag and timestamps, then each field that
 * has a value. Fields without a value are left out. */
json_object *
kh_store_row_to_json (const KhEntity *entity,
                      sqlite3_stmt   *stmt,
                      int             first)
{
  json_object *obj = json_object_new_object ();

  json_object_object_add (obj, "id", json_object_new_string ((const char *) sqlite3_column_text (stmt, first)));
  json_object_object_add (obj, "version", json_object_new_int64 (sqlite3_column_int64 (stmt, first + 1)));
  json_object_object_add (obj, "deleted", json_object_new_boolean (sqlite3_column_int (stmt, first + 2)));
  json_object_object_add (obj, "created_at", json_object_new_string ((const char *) sqlite3_column_text (stmt, first + 3)));
  json_object_object_add (obj, "updated_at", json_object_new_string ((const char *) sqlite3_column_text (stmt, first + 4)));
  if (sqlite3_column_type (stmt, first + 5) != SQLITE_NULL)
    json_object_object_add (obj, "updated_by", json_object_new_string ((const char *) sqlite3_column_text (stmt, first + 5)));
  for (guint i = 0; i < entity->n_fields; i++)
    {
      json_object *v = column_to_json (&entity->fields[i], stmt, first + N_COMMON_COLUMNS + (int) i);

      if (v != NULL)
        json_object_object_add (obj, entity->fields[i].name, v);
    }
  return obj;
}

/* Only the fields of a record's JSON form, without id, version and timestamps. */
json_object *
_kh_store_record_fields (const KhEntity *entity,
                         json_object    *record)
{
  json_object *obj = json_object_new_object ();

  for (guint i = 0; i < entity->n_fields; i++)
    {
      json_object *v;

      if (json_object_object_get_ex (record, entity->fields[i].name, &v) && v != NULL)
        json_object_object_add (obj, entity->fields[i].name, json_object_get (v));
    }
  return obj;
}

/* Transactions -------------------------------------------------------------------------------- */

/* Transaction control through cached statements: a batch of thousands of writes would
 * otherwise parse "SAVEPOINT" and "RELEASE" again for each. */
static gboolean
run_simple (KhStore     *self,
            const char  *sql,
            GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, sql, error);

  return stmt != NULL && kh_sqlite_step_done (stmt, sql, error);
}

/* Moves the records the transaction queued into the search index (see kh-schema.c), just
 * before COMMIT and outside any savepoint, so FTS5 writes one segment per transaction. */
static gboolean
search_flush (KhStore  *self,
              GError  **error)
{
  sqlite3_stmt *check;
  gboolean queued[64] = { FALSE };

  if (self->search_check == NULL)
    {
      const KhEntity * const *entities;
      g_autoptr(GString) sql = g_string_new ("SELECT ");
      guint n;

      self->searchable = g_ptr_array_new ();
      self->search_flush = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
      entities = kh_entities (&n);
      for (guint e = 0; e < n; e++)
        if (kh_entity_has_search (entities[e]))
          {
            g_autofree char *one = kh_entity_search_queued_sql (entities[e]);

            g_string_append_printf (sql, "%s(%s)", self->searchable->len ? ", " : "", one);
            g_ptr_array_add (self->searchable, (gpointer) entities[e]);
            g_ptr_array_add (self->search_flush, kh_entity_search_flush_sql (entities[e]));
          }
      g_assert (self->searchable->len <= G_N_ELEMENTS (queued));
      self->search_check = g_string_free (g_steal_pointer (&sql), FALSE);
    }
  if (self->searchable->len == 0)
    return TRUE;

  check = kh_store_prepare (self, self->search_check, error);
  if (check == NULL)
    return FALSE;
  if (sqlite3_step (check) != SQLITE_ROW)
    {
      kh_sqlite_set_error (error, self->db, "search queue");
      sqlite3_reset (check);
      return FALSE;
    }
  for (guint e = 0; e < self->searchable->len; e++)
    queued[e] = sqlite3_column_int (check, (int) e) != 0;
  sqlite3_reset (check);

  for (guint e = 0; e < self->searchable->len; e++)
    {
      char **flush = self->search_flush->pdata[e];

      if (!queued[e])
        continue;
      for (guint i = 0; flush[i] != NULL; i++)
        {
          sqlite3_stmt *stmt = kh_store_prepare (self, flush[i], error);

          if (stmt == NULL || !kh_sqlite_step_done (stmt, "search", error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Writes nest: the outermost is a BEGIN IMMEDIATE (a writer takes the lock up front, so it never
 * fails half way on a busy database), the inner ones are savepoints, so a write that fails
 * inside a batch undoes itself and nothing else. */
gboolean
_kh_store_write_begin (KhStore  *self,
                       GError  **error)
{
  if (self->depth == 0)
    {
      if (!run_simple (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      self->failed = FALSE;
    }
  else if (!run_simple (self, "SAVEPOINT kh_write", error))
    return FALSE;
  self->depth++;
  return TRUE;
}

gboolean
_kh_store_write_end (KhStore   *self,
                     gboolean   ok,
                     GError   **error)
{
  g_assert (self->depth > 0);
  self->depth--;
  if (self->depth == 0)
    {
      if (ok && search_flush (self, error) && run_simple (self, "COMMIT", error))
        {
          _kh_store_checkpointer_commit (self);
          kh_search_build_end (self->db);
          flush_changed (self, TRUE);
          return TRUE;
        }
      /* A failed COMMIT may already have ended the transaction. */
      if (!sqlite3_get_autocommit (self->db))
        run_simple (self, "ROLLBACK", NULL);
      kh_search_build_end (self->db);
      flush_changed (self, FALSE);
      return FALSE;
    }
  if (ok)
    return run_simple (self, "RELEASE kh_write", error);
  run_simple (self, "ROLLBACK TO kh_write", NULL);
  run_simple (self, "RELEASE kh_write", NULL);
  return FALSE;
}

gboolean
kh_store_begin (KhStore  *self,
                GError  **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  return _kh_store_write_begin (self, error);
}

gboolean
kh_store_commit (KhStore  *self,
                 GError  **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (self->depth > 0, FALSE);
  return _kh_store_write_end (self, TRUE, error);
}

void
kh_store_rollback (KhStore *self)
{
  g_return_if_fail (KH_IS_STORE (self));
  g_return_if_fail (self->depth > 0);
  _kh_store_write_end (self, FALSE, NULL);
}

/* Lets go of the memory the store can do without (SQLite's page cache) while it waits to be
 * used again. Only when it is quiet: FALSE, and nothing done, while a transaction is open. */
gboolean
kh_store_release_memory (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  if (self->depth > 0 || !sqlite3_get_autocommit (self->db))
    return FALSE;
  sqlite3_db_release_memory (self->db);
  return TRUE;
}

/* Sets the entity tables' secondary indexes and search index aside for a bulk load into this
 * database, until kh_store_restore_upkeep() (see kh-schema.c). */
gboolean
kh_store_defer_upkeep (KhStore  *self,
                       GError  **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  if (!_kh_store_write_begin (self, error))
    return FALSE;
  return _kh_store_write_end (self, kh_schema_defer_upkeep (self->db, error), error);
}

/* Makes what kh_store_defer_upkeep() set aside again and indexes every record for search, in
 * one transaction; nothing to do if nothing was set aside. In a caller's transaction, it comes
 * before any other write to the records: the search index is built from the committed ones. */
gboolean
kh_store_restore_upkeep (KhStore  *self,
                         GError  **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  if (!kh_schema_upkeep_deferred (self->db))
    return TRUE;
  if (!_kh_store_write_begin (self, error))
    return FALSE;
  return _kh_store_write_end (self, kh_schema_restore_upkeep (self->db, error), error);
}

/* Opening ------------------------------------------------------------------------------------- */

KhStore *
kh_store_open (const char  *path,
               GError     **error)
{
  g_autoptr(KhStore) self = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (KH_TYPE_STORE, NULL);
  self->path = g_strdup (path);

  /* Owner only, before SQLite makes anything beside it. */
  kh_sqlite_make_private (path);

  /* The replica is sealed with its key (kh-crypt-vfs.c) once one was given for it: by the
   * programs, from the keyring or a passphrase; by a script, through KHUYENHOC_PASSPHRASE. A
   * sealed replica is never opened without it, and a plain one is sealed first. */
  if (!kh_crypt_vfs_has_key (path))
    {
      const char *passphrase = g_getenv ("KHUYENHOC_PASSPHRASE");

      if (passphrase != NULL && passphrase[0] != '\0')
        {
          if (!kh_crypt_unlock_passphrase (path, passphrase, error))
            return NULL;
        }
      else if (kh_crypt_file_state (path) == KH_CRYPT_FILE_SEALED)
        {
          g_autofree char *key_file = kh_crypt_key_file (path);

          if (g_file_test (key_file, G_FILE_TEST_EXISTS))
            g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                         _("The database “%s” is encrypted: its passphrase is needed to open it."),
                         path);
          else
            kh_crypt_set_lost_key_error (error, path);
          return NULL;
        }
    }
  if (kh_crypt_vfs_has_key (path) && kh_crypt_file_state (path) == KH_CRYPT_FILE_PLAIN
      && !kh_crypt_convert (path, error))
    return NULL;

  /* A store is used by one thread at a time. */
  rc = kh_sqlite_open (path, &self->db, TRUE);
  if (rc == SQLITE_AUTH)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY,
                   _("The key does not open the database “%s”: it is not this database’s key. "
                     "Nothing was changed."), path);
      return NULL;
    }
  if (rc != SQLITE_OK)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO,
                   _("Could not open the database “%s”: %s"), path,
                   self->db ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  sqlite3_extended_result_codes (self->db, 1);
  sqlite3_busy_timeout (self->db, 10000);

  /* WAL lets the sync engine's connection read while the window writes; FULL makes every
   * commit durable across a power cut, which matters more than speed for what people type. */
  if (!kh_sqlite_exec (self->db,
                       "PRAGMA journal_mode = WAL;"
                       "PRAGMA synchronous = FULL;"
                       "PRAGMA foreign_keys = ON;"
                       "PRAGMA temp_store = MEMORY;"
                       "PRAGMA cache_size = -" G_STRINGIFY (PLAIN_CACHE_KIB) ";", error)
      || (kh_crypt_vfs_is_sealed (self->db)
          && !kh_sqlite_exec (self->db, "PRAGMA cache_size = -" G_STRINGIFY (KH_CRYPT_CACHE_KIB), error)))
    {
      g_prefix_error (error, _("Could not open the database “%s”: "), path);
      return NULL;
    }
  /* Upkeep that a bulk load set aside and did not restore (it was killed) is left to the sync
   * engine, which goes on with the load and restores it at its end, on its own thread: making
   * the indexes of a million records again takes seconds, too long for a window to wait on at
   * start. Meanwhile everything reads right, only slower. Before a migration it comes back
   * first, here: the migrations may touch those indexes. */
  if (!kh_sqlite_register_functions (self->db, error)
      || (kh_schema_get_version (self->db) < KH_SCHEMA_VERSION && !kh_schema_restore_upkeep (self->db, error))
      || !kh_schema_migrate (self->db, KH_SCHEMA_VERSION, error)
      || !kh_schema_flush_search (self->db, error))
    return NULL;
  if (!kh_schema_upkeep_deferred (self->db))
    kh_search_build_remove_leftover (self->db);

  self->replica_id = kh_store_get_meta (self, "replica_id");
  if (self->replica_id == NULL)
    {
      self->replica_id = kh_uuid_v7_new ();
      if (!kh_store_set_meta (self, "replica_id", self->replica_id, error))
        return NULL;
    }
  _kh_store_workflow_load (self);

  return g_steal_pointer (&self);
}

/* A connection for one job on a worker thread (the Overview's counts, the figures, an import,
 * the Trash), opened and closed with it. It reads each page about once, so a sealed replica's
 * larger cache (KH_CRYPT_CACHE_KIB, for the window's lists, which read the same pages again
 * and again) would only hold up to 64 MiB more while it runs and, freed, in the thread's heap
 * after: it keeps the plain cache, and gives the memory back when closed. */
KhStore *
kh_store_open_for_job (const char  *path,
                       GError     **error)
{
  g_autoptr(KhStore) self = kh_store_open (path, error);

  if (self == NULL)
    return NULL;
  self->job = TRUE;
  if (!kh_sqlite_exec (self->db, "PRAGMA cache_size = -" G_STRINGIFY (PLAIN_CACHE_KIB) ";", error))
    return NULL;
  return g_steal_pointer (&self);
}

/* The sync engine's connection: on a sealed replica, the larger cache of a pull
 * (KH_CRYPT_SYNC_CACHE_KIB), which the engine empties after each sync
 * (kh_store_release_memory()). */
KhStore *
kh_store_open_for_sync (const char  *path,
                        GError     **error)
{
  g_autoptr(KhStore) self = kh_store_open (path, error);

  if (self == NULL)
    return NULL;
  if (kh_crypt_vfs_is_sealed (self->db)
      && !kh_sqlite_exec (self->db, "PRAGMA cache_size = -" G_STRINGIFY (KH_CRYPT_SYNC_CACHE_KIB) ";", error))
    return NULL;
  return g_steal_pointer (&self);
}

const char *
kh_store_get_path (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  return self->path;
}

void
kh_store_set_actor (KhStore    *self,
                    const char *actor)
{
  g_return_if_fail (KH_IS_STORE (self));
  g_free (self->actor);
  self->actor = g_strdup (actor);
}

const char *
kh_store_get_actor (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  return self->actor;
}

const char *
kh_store_get_replica_id (KhStore *self)
{
  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  return self->replica_id;
}

char *
kh_store_get_meta (KhStore    *self,
                   const char *key)
{
  sqlite3_stmt *stmt;
  char *value = NULL;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  stmt = kh_store_prepare (self, "SELECT value FROM meta WHERE key = ?", NULL);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return value;
}

gboolean
kh_store_set_meta (KhStore     *self,
                   const char  *key,
                   const char  *value,
                   GError     **error)
{
  sqlite3_stmt *stmt;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  stmt = kh_store_prepare (self, "INSERT INTO meta (key, value) VALUES (?, ?) "
                                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, value, -1, SQLITE_STATIC);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    kh_sqlite_set_error (error, self->db, "meta");
  sqlite3_reset (stmt);
  return ok;
}
