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

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-fold.h"
#include "kh-journal.h"
#include "kh-schema.h"
#include "kh-search-build.h"
#include "kh-sqlite.h"
#include "kh-store-private.h"
#include "kh-uuid.h"
#include "kh-validate.h"

struct _KhStore
{
  GObject     parent_instance;

  sqlite3    *db;
  char       *path;
  char       *actor;
  char       *replica_id;
  GHashTable *statements;   /* SQL text → sqlite3_stmt, prepared once */
  GHashTable *by_address;   /* address of a lasting SQL text → sqlite3_stmt */
  GHashTable *entity_sql;   /* "insert:" / "load:" / "exists:" + entity name → SQL text, built once */
  int         depth;        /* nesting of kh_store_begin() and internal writes */
  gboolean    failed;       /* a nested write failed inside an explicit transaction */
  GPtrArray  *pending;      /* entity, id, entity, id…: "changed" held back until COMMIT */
  GPtrArray  *searchable;   /* the entities with a search index, in the order of search_check */
  char       *search_check; /* one row: whether each of them has records queued for indexing */
  GPtrArray  *search_flush; /* per searchable entity, its NULL-terminated flush statements */
  struct _Checkpointer *checkpointer; /* while a bulk write checkpoints on another thread */
  struct _Checkpointer *retiring;     /* one told to stop, finishing its last checkpoint */
};

/* Checkpointing on another thread ------------------------------------------------------------
 *
 * In WAL mode every COMMIT that leaves the log over 1,000 pages copies it back into the
 * database first (the automatic checkpoint), on the writer's thread: a tenth of a bulk write's
 * time. While kh_store_checkpoint_aside() is in force, the writer only appends to the log and a
 * second connection on its own thread copies it back after each COMMIT (a passive checkpoint
 * never blocks the writer). It keeps up easily, so the log is still taken up again from its
 * start and does not grow; a lost race only leaves it longer until the next checkpoint.
 *
 * Told to stop, it still copies back what was committed since its last checkpoint, without
 * the writer waiting for that: the writer goes on, and joins the thread only when it sets
 * checkpoints aside again or closes. The last COMMIT of a first pull, the one that makes its
 * indexes again, leaves a log of a few hundred MB; copying it back on the writer's thread took
 * a second. */
typedef struct _Checkpointer
{
  char    *path;
  GThread *thread;
  GMutex   lock;
  GCond    cond;
  guint    commits;   /* COMMITs so far */
  gboolean stop;
} Checkpointer;

static gpointer
checkpointer_thread (gpointer data)
{
  Checkpointer *c = data;
  sqlite3 *db = NULL;
  guint done = 0;

  /* A connection knows the database is in WAL mode once it has read it. */
  if (kh_sqlite_open (c->path, &db, FALSE) != SQLITE_OK
      || sqlite3_exec (db, "PRAGMA journal_mode", NULL, NULL, NULL) != SQLITE_OK)
    {
      g_debug ("no checkpoints on another thread: %s", db ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_close (db);
      return NULL;
    }
  g_mutex_lock (&c->lock);
  for (;;)
    {
      while (!c->stop && c->commits == done)
        g_cond_wait (&c->cond, &c->lock);
      if (c->commits == done)
        break;  /* told to stop, with nothing left to copy back */
      done = c->commits;
      g_mutex_unlock (&c->lock);
      sqlite3_wal_checkpoint_v2 (db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
      g_mutex_lock (&c->lock);
    }
  g_mutex_unlock (&c->lock);
  sqlite3_close (db);
  return NULL;
}

/* Waits for the checkpointer told to stop, if there is one. */
static void
checkpointer_join (KhStore *self)
{
  Checkpointer *c = g_steal_pointer (&self->retiring);

  if (c == NULL)
    return;
  g_thread_join (c->thread);
  g_mutex_clear (&c->lock);
  g_cond_clear (&c->cond);
  g_free (c->path);
  g_free (c);
}

/* Tells the checkpointer to stop once it has copied back the last COMMIT, without waiting. */
static void
checkpointer_stop (KhStore *self)
{
  Checkpointer *c = g_steal_pointer (&self->checkpointer);

  if (c == NULL)
    return;
  checkpointer_join (self);
  g_mutex_lock (&c->lock);
  c->stop = TRUE;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
  self->retiring = c;
  /* Should the writer commit meanwhile, a checkpoint of its own gives way to that one. */
  sqlite3_wal_autocheckpoint (self->db, 1000);
}

/* Whether each COMMIT from now on waits until it is on the disk (TRUE, the default) or only
 * until it is written (FALSE). Either way a commit is whole or absent and commits stay in
 * order; without the wait a power cut may undo the last few. Only for writes that can be made
 * again, such as a first pull (its cursor is undone with its records, so it starts over from
 * the last page that stayed). Other connections keep their own setting, and the next commit
 * that waits takes everything written before it to the disk. */
gboolean
kh_store_set_durable (KhStore   *self,
                      gboolean   durable,
                      GError   **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  return kh_sqlite_exec (self->db, durable ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL", error);
}

/* Whether SQLite evaluates the tables' CHECK constraints on this connection (TRUE, the default).
 * They say again, in SQL, what kh_field_validate_value() checks of every field (lengths, the
 * values of a choice, the forms of ids and dates, ranges): only for writes whose every value
 * has been through that already, such as a first pull, where evaluating them was a sixth to a
 * quarter of the writing thread's time. Types, NOT NULL and UNIQUE are enforced either way. */
gboolean
kh_store_set_checked (KhStore   *self,
                      gboolean   checked,
                      GError   **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);

  return kh_sqlite_exec (self->db, checked ? "PRAGMA ignore_check_constraints = OFF"
                                           : "PRAGMA ignore_check_constraints = ON", error);
}

/* Checkpoints on another thread from now on (TRUE), or on this one again (FALSE): for a long
 * run of large transactions, such as a first pull. Going back does not wait for the other
 * thread's last checkpoint. */
void
kh_store_checkpoint_aside (KhStore  *self,
                           gboolean  aside)
{
  Checkpointer *c;

  g_return_if_fail (KH_IS_STORE (self));

  if (!aside)
    {
      checkpointer_stop (self);
      return;
    }
  if (self->checkpointer != NULL || sqlite3_db_filename (self->db, "main") == NULL
      || sqlite3_db_filename (self->db, "main")[0] == '\0')
    return;
  checkpointer_join (self);
  c = g_new0 (Checkpointer, 1);
  c->path = g_strdup (sqlite3_db_filename (self->db, "main"));
  g_mutex_init (&c->lock);
  g_cond_init (&c->cond);
  c->thread = g_thread_try_new ("kh-checkpoint", checkpointer_thread, c, NULL);
  if (c->thread == NULL)
    {
      g_mutex_clear (&c->lock);
      g_cond_clear (&c->cond);
      g_free (c->path);
      g_free (c);
      return;
    }
  self->checkpointer = c;
  sqlite3_wal_autocheckpoint (self->db, 0);
}

static void
checkpointer_commit (KhStore *self)
{
  Checkpointer *c = self->checkpointer;

  if (c == NULL)
    return;
  g_mutex_lock (&c->lock);
  c->commits++;
  g_cond_signal (&c->cond);
  g_mutex_unlock (&c->lock);
}

G_DEFINE_FINAL_TYPE (KhStore, kh_store, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
kh_store_finalize (GObject *object)
{
  KhStore *self = (KhStore *) object;

  checkpointer_stop (self);
  checkpointer_join (self);
  g_clear_pointer (&self->by_address, g_hash_table_unref);
  g_clear_pointer (&self->statements, g_hash_table_unref);
  g_clear_pointer (&self->entity_sql, g_hash_table_unref);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->searchable, g_ptr_array_unref);
  g_clear_pointer (&self->search_check, g_free);
  g_clear_pointer (&self->search_flush, g_ptr_array_unref);
  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
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
}

/* SQL built from the registry for one entity, built once per store: the write path runs it
 * for every record, so it should not be rebuilt (nor its text hashed again) each time. The
 * key is the entity's address plus a small kind number, which stays within the entity. */
typedef enum
{
  ENTITY_SQL_INSERT,
  ENTITY_SQL_LOAD,
  ENTITY_SQL_EXISTS,
} EntitySqlKind;

static char *insert_sql (const KhEntity *entity);

static const char *
entity_sql (KhStore        *self,
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

static const KhEntity *
lookup_entity (const char  *name,
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

static gboolean
values_equal (json_object *a,
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
static json_object *
record_fields (const KhEntity *entity,
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

static gboolean step_done (KhStore      *self,
                           sqlite3_stmt *stmt,
                           const char   *what,
                           GError      **error);

/* Transaction control through cached statements: a batch of thousands of writes would
 * otherwise parse "SAVEPOINT" and "RELEASE" again for each. */
static gboolean
run_simple (KhStore     *self,
            const char  *sql,
            GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, sql, error);

  return stmt != NULL && step_done (self, stmt, sql, error);
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

          if (stmt == NULL || !step_done (self, stmt, "search", error))
            return FALSE;
        }
    }
  return TRUE;
}

/* Writes nest: the outermost is a BEGIN IMMEDIATE (a writer takes the lock up front, so it never
 * fails half way on a busy database), the inner ones are savepoints, so a write that fails
 * inside a batch undoes itself and nothing else. */
static gboolean
write_begin (KhStore  *self,
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

static gboolean
write_end (KhStore  *self,
           gboolean  ok,
           GError  **error)
{
  g_assert (self->depth > 0);
  self->depth--;
  if (self->depth == 0)
    {
      if (ok && search_flush (self, error) && run_simple (self, "COMMIT", error))
        {
          checkpointer_commit (self);
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
  return write_begin (self, error);
}

gboolean
kh_store_commit (KhStore  *self,
                 GError  **error)
{
  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (self->depth > 0, FALSE);
  return write_end (self, TRUE, error);
}

void
kh_store_rollback (KhStore *self)
{
  g_return_if_fail (KH_IS_STORE (self));
  g_return_if_fail (self->depth > 0);
  write_end (self, FALSE, NULL);
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

  if (!write_begin (self, error))
    return FALSE;
  return write_end (self, kh_schema_defer_upkeep (self->db, error), error);
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
  if (!write_begin (self, error))
    return FALSE;
  return write_end (self, kh_schema_restore_upkeep (self->db, error), error);
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

  /* A store is used by one thread at a time. */
  rc = kh_sqlite_open (path, &self->db, TRUE);
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
                       "PRAGMA cache_size = -32000;", error))
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

/* Reading ------------------------------------------------------------------------------------- */

static json_object *
load_record (KhStore         *self,
             const KhEntity  *entity,
             const char      *id,
             GError         **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (self, entity_sql (self, entity, ENTITY_SQL_LOAD), error);
  json_object *record = NULL;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    record = kh_store_row_to_json (entity, stmt, 0);
  else if (rc == SQLITE_DONE)
    g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                 _("There is no %s with the id “%s”."), _(entity->label), id);
  else
    kh_sqlite_set_error (error, self->db, "read");
  sqlite3_reset (stmt);
  return record;
}

json_object *
kh_store_get (KhStore     *self,
              const char  *entity_name,
              const char  *id,
              GError     **error)
{
  const KhEntity *entity;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return NULL;
  return load_record (self, entity, id, error);
}

/* Builds "WHERE …" from a query, binding nothing yet: the values are bound in the same order
 * by bind_where(). Field names are checked against the registry, so only registry names reach
 * the SQL text. */
static gboolean
build_where (const KhEntity  *entity,
             const KhQuery   *query,
             GString         *sql,
             GError         **error)
{
  gboolean include_deleted = query != NULL && query->include_deleted;

  g_string_append (sql, include_deleted ? " WHERE 1" : " WHERE deleted = 0");
  if (query == NULL || query->where == NULL)
    return TRUE;

  json_object_object_foreach (query->where, key, val)
    {
      const KhField *field = kh_entity_get_field (entity, key);

      if (field == NULL && strcmp (key, "id") != 0)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                       _("“%s” is not a field of %s."), key, _(entity->label));
          return FALSE;
        }
      if (val == NULL)
        g_string_append_printf (sql, " AND %s IS NULL", key);
      else
        g_string_append_printf (sql, " AND %s = ?", key);
    }
  return TRUE;
}

static void
bind_where (const KhEntity *entity,
            const KhQuery  *query,
            sqlite3_stmt   *stmt,
            int            *index)
{
  if (query == NULL || query->where == NULL)
    return;
  json_object_object_foreach (query->where, key, val)
    {
      const KhField *field = kh_entity_get_field (entity, key);
      static const KhField id_field = { .name = "id", .type = KH_FIELD_TEXT };

      if (val != NULL)
        kh_store_bind_value (stmt, (*index)++, field ? field : &id_field, val);
    }
}

json_object *
kh_store_list (KhStore        *self,
               const char     *entity_name,
               const KhQuery  *query,
               GError        **error)
{
  const KhEntity *entity;
  g_autofree char *columns = NULL;
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt;
  json_object *array;
  int index = 1;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return NULL;

  columns = kh_store_select_columns (entity);
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT %s FROM %s", columns, entity->name);
  if (!build_where (entity, query, sql, error))
    return NULL;

  if (query != NULL && query->order_by != NULL)
    {
      if (kh_entity_get_field (entity, query->order_by) == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                       _("“%s” is not a field of %s."), query->order_by, _(entity->label));
          return NULL;
        }
      g_string_append_printf (sql, " ORDER BY %s %s, rid", query->order_by,
                              query->descending ? "DESC" : "ASC");
    }
  else
    g_string_append_printf (sql, " ORDER BY rid %s", query && query->descending ? "DESC" : "ASC");
  g_string_append (sql, " LIMIT ? OFFSET ?");

  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    return NULL;
  bind_where (entity, query, stmt, &index);
  sqlite3_bind_int64 (stmt, index++, query && query->limit > 0 ? query->limit : -1);
  sqlite3_bind_int64 (stmt, index++, query ? MAX (query->offset, 0) : 0);

  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    json_object_array_add (array, kh_store_row_to_json (entity, stmt, 0));
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, "list");
      json_object_put (array);
      array = NULL;
    }
  sqlite3_reset (stmt);
  return array;
}

gint64
kh_store_count (KhStore        *self,
                const char     *entity_name,
                const KhQuery  *query,
                GError        **error)
{
  const KhEntity *entity;
  g_autoptr(GString) sql = NULL;
  sqlite3_stmt *stmt;
  gint64 count = -1;
  int index = 1;

  g_return_val_if_fail (KH_IS_STORE (self), -1);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return -1;
  sql = g_string_new (NULL);
  g_string_printf (sql, "SELECT count(*) FROM %s", entity->name);
  if (!build_where (entity, query, sql, error))
    return -1;
  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    return -1;
  bind_where (entity, query, stmt, &index);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    count = sqlite3_column_int64 (stmt, 0);
  else
    kh_sqlite_set_error (error, self->db, "count");
  sqlite3_reset (stmt);
  return count;
}

/* Full-text search with Vietnamese folding, prefix matching on every word. Returns an array of
 * { "entity", "id", "title" }, at most @limit of them. */
json_object *
kh_store_search (KhStore     *self,
                 const char  *text,
                 const char  *entity_name,
                 int          limit,
                 GError     **error)
{
  g_autofree char *match = NULL;
  const KhEntity * const *entities;
  json_object *results;
  guint n;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (entity_name != NULL && lookup_entity (entity_name, error) == NULL)
    return NULL;
  if (limit <= 0)
    limit = 50;

  results = json_object_new_array ();
  match = kh_fold_to_fts_query (text);
  if (match == NULL)
    return results;

  entities = kh_entities (&n);
  for (guint e = 0; e < n && (int) json_object_array_length (results) < limit; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *sql = NULL;
      sqlite3_stmt *stmt;
      int rc;

      if (!kh_entity_has_search (entity)
          || (entity_name != NULL && strcmp (entity->name, entity_name) != 0))
        continue;

      sql = g_strdup_printf ("SELECT t.id, t.%s FROM %s_fts f JOIN %s t ON t.rid = f.rowid "
                             "WHERE f.text MATCH ? LIMIT ?",
                             entity->title_field, entity->name, entity->name);
      stmt = kh_store_prepare (self, sql, error);
      if (stmt == NULL)
        {
          json_object_put (results);
          return NULL;
        }
      sqlite3_bind_text (stmt, 1, match, -1, SQLITE_STATIC);
      sqlite3_bind_int (stmt, 2, limit - (int) json_object_array_length (results));
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        {
          json_object *hit = json_object_new_object ();

          json_object_object_add (hit, "entity", json_object_new_string (entity->name));
          json_object_object_add (hit, "id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 0)));
          json_object_object_add (hit, "title",
                                  json_object_new_string (sqlite3_column_text (stmt, 1)
                                                          ? (const char *) sqlite3_column_text (stmt, 1) : ""));
          json_object_array_add (results, hit);
        }
      sqlite3_reset (stmt);
      if (rc != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, self->db, "search");
          json_object_put (results);
          return NULL;
        }
    }
  return results;
}

json_object *
kh_store_history (KhStore     *self,
                  const char  *entity_name,
                  const char  *id,
                  GError     **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if (lookup_entity (entity_name, error) == NULL)
    return NULL;
  stmt = kh_store_prepare (self,
                           "SELECT at, actor, action, field, old_value, new_value FROM audit "
                           "WHERE entity = ? AND record_id = ? ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, entity_name, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_STATIC);
  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();
      static const char *names[] = { "at", "actor", "action", "field", "old_value", "new_value" };

      for (int i = 0; i < 6; i++)
        if (sqlite3_column_type (stmt, i) != SQLITE_NULL)
          json_object_object_add (row, names[i],
                                  json_object_new_string ((const char *) sqlite3_column_text (stmt, i)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, "history");
      json_object_put (array);
      return NULL;
    }
  if (json_object_array_length (array) == 0)
    {
      json_object_put (array);
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND,
                   _("There is no history for the id “%s”."), id);
      return NULL;
    }
  return array;
}

gint64
kh_store_count_pending (KhStore *self)
{
  sqlite3_stmt *stmt;
  gint64 n = 0;

  g_return_val_if_fail (KH_IS_STORE (self), 0);

  stmt = kh_store_prepare (self, "SELECT count(*) FROM outbox WHERE state = 'pending'", NULL);
  if (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  return n;
}

json_object *
kh_store_list_outbox (KhStore  *self,
                      GError  **error)
{
  sqlite3_stmt *stmt;
  json_object *array;
  int rc;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  stmt = kh_store_prepare (self,
                           "SELECT mutation_id, entity, record_id, op, fields, base_version, state, "
                           "attempts, reason FROM outbox ORDER BY seq", error);
  if (stmt == NULL)
    return NULL;
  array = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();

      json_object_object_add (row, "mutation_id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 0)));
      json_object_object_add (row, "entity", json_object_new_string ((const char *) sqlite3_column_text (stmt, 1)));
      json_object_object_add (row, "record_id", json_object_new_string ((const char *) sqlite3_column_text (stmt, 2)));
      json_object_object_add (row, "op", json_object_new_string ((const char *) sqlite3_column_text (stmt, 3)));
      json_object_object_add (row, "fields", json_tokener_parse ((const char *) sqlite3_column_text (stmt, 4)));
      json_object_object_add (row, "base_version", json_object_new_int64 (sqlite3_column_int64 (stmt, 5)));
      json_object_object_add (row, "state", json_object_new_string ((const char *) sqlite3_column_text (stmt, 6)));
      json_object_object_add (row, "attempts", json_object_new_int (sqlite3_column_int (stmt, 7)));
      if (sqlite3_column_type (stmt, 8) != SQLITE_NULL)
        json_object_object_add (row, "reason", json_object_new_string ((const char *) sqlite3_column_text (stmt, 8)));
      json_object_array_add (array, row);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, "outbox");
      json_object_put (array);
      return NULL;
    }
  return array;
}

/* Writing ------------------------------------------------------------------------------------- */

static gboolean
step_done (KhStore       *self,
           sqlite3_stmt  *stmt,
           const char    *what,
           GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, self->db, what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
record_exists (KhStore     *self,
               const char  *entity_name,
               const char  *id)
{
  const KhEntity *entity = kh_entity_lookup (entity_name);
  sqlite3_stmt *stmt = kh_store_prepare (self, entity_sql (self, entity, ENTITY_SQL_EXISTS), NULL);
  gboolean found;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  found = sqlite3_step (stmt) == SQLITE_ROW;
  sqlite3_reset (stmt);
  return found;
}

/* A REF without a fixed entity ("subject_id") takes it from the sibling "…_kind" field. */
static const char *
ref_target (const KhField *field,
            json_object   *record)
{
  g_autofree char *kind_name = NULL;
  json_object *kind;
  const char *underscore;

  if (field->ref_entity != NULL)
    return field->ref_entity;
  underscore = strrchr (field->name, '_');
  if (underscore == NULL)
    return NULL;
  kind_name = g_strdup_printf ("%.*s_kind", (int) (underscore - field->name), field->name);
  if (json_object_object_get_ex (record, kind_name, &kind) && kind != NULL)
    return json_object_get_string (kind);
  return NULL;
}

/* References a person makes must point at records that exist here and are not deleted, and an
 * org unit must not become its own ancestor. */
static gboolean
check_references (KhStore         *self,
                  const KhEntity  *entity,
                  const char      *id,
                  json_object     *record,
                  json_object     *changed,
                  GError         **error)
{
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *field = &entity->fields[i];
      const char *target;
      const char *value;
      json_object *v;

      if (field->type != KH_FIELD_REF)
        continue;
      /* On an edit only the references that change are checked again; a reference whose
       * kind of record comes from a sibling "…_kind" field changes with that field too. */
      if (changed != NULL && !json_object_object_get_ex (changed, field->name, NULL))
        {
          const char *underscore = strrchr (field->name, '_');
          g_autofree char *kind_name = NULL;

          if (field->ref_entity != NULL || underscore == NULL)
            continue;
          kind_name = g_strdup_printf ("%.*s_kind", (int) (underscore - field->name), field->name);
          if (!json_object_object_get_ex (changed, kind_name, NULL))
            continue;
        }
      if (!json_object_object_get_ex (record, field->name, &v) || v == NULL)
        continue;
      value = json_object_get_string (v);
      target = ref_target (field, record);
      if (target == NULL || kh_entity_lookup (target) == NULL)
        continue;
      if (!record_exists (self, target, value))
        {
          const KhEntity *te = kh_entity_lookup (target);

          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("%s: there is no %s with the id “%s” here."),
                       _(field->label), _(te->label), value);
          return FALSE;
        }
    }

  if (strcmp (entity->name, "org_unit") == 0 && id != NULL)
    {
      json_object *parent;
      g_autofree char *cursor = NULL;
      int guard = 0;

      if (json_object_object_get_ex (record, "parent_id", &parent) && parent != NULL)
        cursor = g_strdup (json_object_get_string (parent));
      while (cursor != NULL && guard++ < 64)
        {
          sqlite3_stmt *stmt;

          if (strcmp (cursor, id) == 0)
            {
              g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                                   _("Parent unit: a unit cannot be placed under itself or one of its own units."));
              return FALSE;
            }
          stmt = kh_store_prepare (self, "SELECT parent_id FROM org_unit WHERE id = ?", NULL);
          if (stmt == NULL)
            break;
          sqlite3_bind_text (stmt, 1, cursor, -1, SQLITE_TRANSIENT);
          g_clear_pointer (&cursor, g_free);
          if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
            cursor = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
          sqlite3_reset (stmt);
        }
    }
  return TRUE;
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

char *
kh_store_create (KhStore      *self,
                 const char   *entity_name,
                 json_object  *values,
                 GError      **error)
{
  const KhEntity *entity;
  g_autofree char *id = NULL;
  g_autofree char *now = NULL;
  json_object *names;
  sqlite3_stmt *stmt = NULL;
  gboolean ok;

  g_return_val_if_fail (KH_IS_STORE (self), NULL);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return NULL;
  if (!kh_entity_validate (entity, values, TRUE, error))
    return NULL;

  id = kh_uuid_v7_new ();
  now = kh_store_now ();

  if (!write_begin (self, error))
    return NULL;

  ok = check_references (self, entity, id, values, NULL, error);

  if (ok)
    {
      stmt = kh_store_prepare (self, entity_sql (self, entity, ENTITY_SQL_INSERT), error);
      ok = stmt != NULL;
    }
  if (ok)
    {
      sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 3, now, -1, SQLITE_STATIC);
      sqlite3_bind_text (stmt, 4, self->actor, -1, SQLITE_STATIC);
      for (guint i = 0; i < entity->n_fields; i++)
        {
          json_object *v = NULL;

          json_object_object_get_ex (values, entity->fields[i].name, &v);
          kh_store_bind_value (stmt, 5 + (int) i, &entity->fields[i], v);
        }
      ok = step_done (self, stmt, "create", error);
    }

  names = json_object_new_array ();
  json_object_object_foreach (values, key, val)
    if (val != NULL)
      json_object_array_add (names, json_object_new_string (key));

  /* A base version of -1 tells kh_journal_add_outbox() the id is new, so it need not look for
   * an entry. */
  ok = ok && kh_journal_add_outbox (self, entity->name, id, "create", names, -1, now, error);
  ok = ok && kh_journal_add_audit (self, entity->name, id, now, self->actor, "create", NULL, NULL,
                                   json_object_to_json_string_ext (values, JSON_C_TO_STRING_PLAIN), error);
  json_object_put (names);

  if (!write_end (self, ok, error))
    return NULL;

  kh_store_emit_changed (self, entity->name, id);
  return g_steal_pointer (&id);
}

static json_object *
load_live_record (KhStore         *self,
                  const KhEntity  *entity,
                  const char      *id,
                  GError         **error)
{
  json_object *record = load_record (self, entity, id, error);
  json_object *deleted;

  if (record == NULL)
    return NULL;
  if (json_object_object_get_ex (record, "deleted", &deleted) && json_object_get_boolean (deleted))
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                   _("This %s was deleted; restore it before editing."), _(entity->label));
      json_object_put (record);
      return NULL;
    }
  return record;
}

gboolean
kh_store_update (KhStore      *self,
                 const char   *entity_name,
                 const char   *id,
                 json_object  *changes,
                 GError      **error)
{
  const KhEntity *entity;
  g_autoptr(GString) sql = NULL;
  g_autofree char *now = NULL;
  json_object *current = NULL;
  json_object *merged = NULL;
  json_object *changed = NULL;
  json_object *names = NULL;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;
  int index;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return FALSE;
  if (!kh_entity_validate (entity, changes, FALSE, error))
    return FALSE;

  if (!write_begin (self, error))
    return FALSE;

  current = load_live_record (self, entity, id, error);
  if (current == NULL || !kh_journal_keep_base (self, entity, current, error))
    goto out;

  /* Only the fields whose value really changes are written, sent and audited. */
  changed = json_object_new_object ();
  names = json_object_new_array ();
  json_object_object_foreach (changes, key, val)
    {
      json_object *old = NULL;

      json_object_object_get_ex (current, key, &old);
      if (!values_equal (old, val))
        {
          json_object_object_add (changed, key, val ? json_object_get (val) : NULL);
          json_object_array_add (names, json_object_new_string (key));
        }
    }
  if (json_object_object_length (changed) == 0)
    {
      ok = TRUE;
      goto out;
    }

  merged = record_fields (entity, current);
  json_object_object_foreach (changed, ckey, cval)
    {
      if (cval == NULL)
        json_object_object_del (merged, ckey);
      else
        json_object_object_add (merged, ckey, json_object_get (cval));
    }
  if (!kh_entity_validate (entity, merged, TRUE, error)
      || !check_references (self, entity, id, merged, changed, error))
    goto out;

  now = kh_store_now ();
  sql = g_string_new (NULL);
  g_string_printf (sql, "UPDATE %s SET updated_at = ?, updated_by = ?", entity->name);
  json_object_object_foreach (changed, skey, sval)
    {
      g_string_append_printf (sql, ", %s = ?", skey);
      (void) sval;
    }
  g_string_append (sql, " WHERE id = ?");
  stmt = kh_store_prepare (self, sql->str, error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_text (stmt, 1, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, self->actor, -1, SQLITE_STATIC);
  index = 3;
  json_object_object_foreach (changed, bkey, bval)
    kh_store_bind_value (stmt, index++, kh_entity_get_field (entity, bkey), bval);
  sqlite3_bind_text (stmt, index, id, -1, SQLITE_STATIC);
  if (!step_done (self, stmt, "update", error))
    goto out;

  if (!kh_journal_add_outbox (self, entity->name, id, "update", names,
                              json_object_get_int64 (json_object_object_get (current, "version")), now, error))
                              goto out;

  ok = TRUE;
  json_object_object_foreach (changed, akey, aval)
    {
      g_autofree char *old_text = kh_store_value_to_text (json_object_object_get (current, akey));
      g_autofree char *new_text = kh_store_value_to_text (aval);

      if (!kh_journal_add_audit (self, entity->name, id, now, self->actor, "update", akey,
                                 old_text, new_text, error))
                                 {
                                 ok = FALSE;
          break;
        }
    }

out:
  ok = write_end (self, ok, ok ? error : NULL) && ok;
  if (ok && changed != NULL && json_object_object_length (changed) > 0)
    kh_store_emit_changed (self, entity->name, id);
  json_object_put (current);
  json_object_put (merged);
  json_object_put (changed);
  json_object_put (names);
  return ok;
}

static gboolean
set_deleted (KhStore      *self,
             const char   *entity_name,
             const char   *id,
             gboolean      deleted,
             GError      **error)
{
  const KhEntity *entity;
  g_autofree char *sql = NULL;
  g_autofree char *now = NULL;
  json_object *current = NULL;
  json_object *flag;
  sqlite3_stmt *stmt;
  gboolean ok = FALSE;

  g_return_val_if_fail (KH_IS_STORE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if ((entity = lookup_entity (entity_name, error)) == NULL)
    return FALSE;
  if (!write_begin (self, error))
    return FALSE;

  current = load_record (self, entity, id, error);
  if (current == NULL || !kh_journal_keep_base (self, entity, current, error))
    goto out;
  flag = json_object_object_get (current, "deleted");
  if (json_object_get_boolean (flag) == deleted)
    {
      if (deleted)
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DELETED,
                     _("This %s was already deleted."), _(entity->label));
      else
        g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                     _("This %s is not deleted."), _(entity->label));
      goto out;
    }

  now = kh_store_now ();
  sql = g_strdup_printf ("UPDATE %s SET deleted = ?, updated_at = ?, updated_by = ? WHERE id = ?",
                         entity->name);
  stmt = kh_store_prepare (self, sql, error);
  if (stmt == NULL)
    goto out;
  sqlite3_bind_int (stmt, 1, deleted ? 1 : 0);
  sqlite3_bind_text (stmt, 2, now, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, self->actor, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, id, -1, SQLITE_STATIC);
  if (!step_done (self, stmt, "delete", error))
    goto out;

  if (deleted)
    ok = kh_journal_add_outbox (self, entity->name, id, "delete", NULL,
                                json_object_get_int64 (json_object_object_get (current, "version")), now, error);
  else if (json_object_get_int64 (json_object_object_get (current, "version")) == 0)
    {
      /* The server has never seen this record: restoring it means creating it again, unless
       * an unsent create is still waiting. */
      json_object *names = json_object_new_array ();

      for (guint i = 0; i < entity->n_fields; i++)
        if (json_object_object_get_ex (current, entity->fields[i].name, NULL))
          json_object_array_add (names, json_object_new_string (entity->fields[i].name));
      ok = kh_journal_add_outbox (self, entity->name, id, "create", names, 0, now, error);
      json_object_put (names);
    }
  else
    ok = kh_journal_add_outbox (self, entity->name, id, "restore", NULL,
                                json_object_get_int64 (json_object_object_get (current, "version")), now, error);

  ok = ok && kh_journal_add_audit (self, entity->name, id, now, self->actor, deleted ? "delete" : "restore",
                                   NULL, NULL, NULL, error);

out:
  ok = write_end (self, ok, ok ? error : NULL) && ok;
  if (ok)
    kh_store_emit_changed (self, entity->name, id);
  json_object_put (current);
  return ok;
}

gboolean
kh_store_delete (KhStore      *self,
                 const char   *entity,
                 const char   *id,
                 GError      **error)
{
  return set_deleted (self, entity, id, TRUE, error);
}

gboolean
kh_store_restore (KhStore      *self,
                  const char   *entity,
                  const char   *id,
                  GError      **error)
{
  return set_deleted (self, entity, id, FALSE, error);
}
