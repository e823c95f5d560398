/* kh-schema.c: the local store's schema, generated from the entity registry, and migrations
 *
 * A migration step is applied in one transaction together with the new user_version, so a
 * database is always at exactly one version. Each step creates the entities and adds the fields
 * whose `since` is that version, then runs the step's own SQL for the internal tables. DDL
 * cannot bind parameters; the only names and literals put into it come from the registry's
 * constants, never from input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-schema.h"
#include "kh-search-build.h"
#include "kh-sqlite.h"

int
kh_schema_get_version (sqlite3 *db)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;

  if (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK
      && sqlite3_step (stmt) == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  return version;
}

static int
since (int v)
{
  return v > 0 ? v : 1;
}

static void
append_column (GString       *sql,
               const KhField *f,
               gboolean       with_not_null)
{
  const char *n = f->name;

  g_string_append_printf (sql, "%s ", n);
  switch (f->type)
    {
    case KH_FIELD_TEXT:
      g_string_append_printf (sql, "TEXT CHECK (length(%s) <= %d)", n,
                              f->max_len > 0 ? f->max_len : KH_TEXT_DEFAULT_MAX);
      break;
    case KH_FIELD_ENUM:
      /* Comparisons, not IN (...): SQLite 3.40 builds a temporary table for an IN list of more
       * than two values in a CHECK at every row written, which made a first pull much slower.
       * The same rule: a NULL passes both ways. */
      g_string_append (sql, "TEXT CHECK (");
      for (guint i = 0; f->enum_values[i] != NULL; i++)
        g_string_append_printf (sql, "%s%s = '%s'", i ? " OR " : "", n, f->enum_values[i]);
      g_string_append (sql, ")");
      break;
    case KH_FIELD_REF:
      g_string_append_printf (sql, "TEXT CHECK (length(%s) = 36)", n);
      break;
    case KH_FIELD_DATE:
      g_string_append_printf (sql, "TEXT CHECK (%s GLOB '[0-9][0-9][0-9][0-9]-[01][0-9]-[0-3][0-9]')", n);
      break;
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      g_string_append_printf (sql, "INTEGER CHECK (%s BETWEEN %" G_GINT64_FORMAT " AND %" G_GINT64_FORMAT ")",
                              n, f->min, f->max);
      break;
    case KH_FIELD_BOOL:
      g_string_append_printf (sql, "INTEGER CHECK (%s IN (0, 1))", n);
      break;
    case KH_FIELD_JSON:
      /* json_valid(NULL) is 0 in SQLite 3.40, so an empty field must be let through. */
      g_string_append_printf (sql, "TEXT CHECK (%s IS NULL OR json_valid(%s))", n, n);
      break;
    default:
      g_assert_not_reached ();
    }
  if (with_not_null && (f->flags & KH_FIELD_FLAG_REQUIRED))
    g_string_append (sql, " NOT NULL");
}

/* The step that indexes the folded names lists sort by. */
#define FOLDED_NAME_VERSION 4

/* The step that queues the search index's work and makes the figures' indexes: one
 * self-contained step (its SQL in step_sql[], its triggers here), renumbered as a whole if
 * another step is put before it. */
#define SEARCH_QUEUE_VERSION 5

/* The step that makes the search index again without the sizes of its records (FTS5's
 * columnsize, read only by ranking, which search does not do: a good part of the work of
 * indexing) and drops the indexes whose columns lead a covering index of the figures. */
#define LEAN_SEARCH_VERSION 6

/* The step for personal data: the audit's export and erase actions, a consent's guardian by
 * reference. */
#define PRIVACY_VERSION 7

/* The step that gives registrations their state (the learning models' rules, kh-models.c). */
#define MODELS_VERSION 10

/* The step that sorts people's names in Vietnamese order (KH_FIELD_FLAG_PERSON_NAME). */
#define NAME_ORDER_VERSION 8

/* The step of the fund ledger (kh-ledger.c): a fund's opening balance, earmarks, a payment's
 * category, and the payments of a list found by the list. */
#define LEDGER_VERSION 12

/* The step that gives the figures a covering index of recognitions (data/kh-report.c looks up
 * each registration's recognition), in place of the plain index it starts with. */
#define RECOGNITION_FIGURES_VERSION 11

/* The step that lets the figures read an evaluation's stage from their covering index of
 * evaluations (data/kh-report.c counts a review before a self-assessment). */
#define STAGE_FIGURES_VERSION 18

static const char *
fts_options (int version)
{
  return version >= LEAN_SEARCH_VERSION ? ", columnsize = 0" : "";
}

/* Up to version 4 the search triggers wrote into the FTS5 table themselves. From version 5 they
 * only queue the record's rowid in a plain table, <entity>_fts_queue, and the writer moves the
 * queue into the index once, just before COMMIT (kh_entity_search_flush_sql()). In SQLite 3.40
 * FTS5 writes its pending terms to disk at every statement savepoint, and every write to a
 * table with a trigger opens one, so indexing row by row made each row its own FTS segment;
 * a plain table has no such cost. The text is folded when the queue is flushed, from the row
 * as it is then, so a record written twice in a transaction is indexed once. An update queues
 * the record only when its search text or its deleted flag may have changed. A record queued
 * first by its insert is "fresh": it has nothing in the index to remove (a rowid freed by a
 * delete and taken again in the same transaction stays queued as not fresh). */
static void
append_search_triggers (GString        *sql,
                        const KhEntity *entity,
                        int             version)
{
  const char *t = entity->name;
  g_autofree char *new_text = kh_entity_search_sql (entity, "new");

  g_string_append_printf (sql,
    "DROP TRIGGER IF EXISTS %s_fts_ai;"
    "DROP TRIGGER IF EXISTS %s_fts_au;"
    "DROP TRIGGER IF EXISTS %s_fts_ad;",
    t, t, t);
  if (version < SEARCH_QUEUE_VERSION)
    {
      g_string_append_printf (sql,
        "CREATE TRIGGER %s_fts_ai AFTER INSERT ON %s WHEN new.deleted = 0 AND NOT kh_fts_paused () BEGIN "
        "  INSERT INTO %s_fts (rowid, text) VALUES (new.rid, %s); END;"
        "CREATE TRIGGER %s_fts_au AFTER UPDATE ON %s WHEN NOT kh_fts_paused () BEGIN "
        "  DELETE FROM %s_fts WHERE rowid = old.rid;"
        "  INSERT INTO %s_fts (rowid, text) SELECT new.rid, %s WHERE new.deleted = 0; END;"
        "CREATE TRIGGER %s_fts_ad AFTER DELETE ON %s BEGIN "
        "  DELETE FROM %s_fts WHERE rowid = old.rid; END;",
        t, t, t, new_text,
        t, t, t, t, new_text,
        t, t, t);
      return;
    }

  g_string_append_printf (sql,
    "CREATE TRIGGER %s_fts_ai AFTER INSERT ON %s WHEN new.deleted = 0 BEGIN "
    "  INSERT OR IGNORE INTO %s_fts_queue (rid, fresh) VALUES (new.rid, 1); END;"
    "CREATE TRIGGER %s_fts_au AFTER UPDATE ON %s WHEN old.deleted IS NOT new.deleted",
    t, t, t, t, t);
  for (guint i = 0; i < entity->n_fields; i++)
    if ((entity->fields[i].flags & KH_FIELD_FLAG_SEARCH) && since (entity->fields[i].since) <= version)
      g_string_append_printf (sql, " OR old.%s IS NOT new.%s", entity->fields[i].name, entity->fields[i].name);
  g_string_append_printf (sql,
    " BEGIN INSERT OR IGNORE INTO %s_fts_queue (rid) VALUES (new.rid); END;"
    "CREATE TRIGGER %s_fts_ad AFTER DELETE ON %s BEGIN "
    "  INSERT OR IGNORE INTO %s_fts_queue (rid) VALUES (old.rid); END;",
    t, t, t, t);  /* From version 17 a unit's text holds the names above it (kh-search-path.c). */
  if (version >= KH_UNIT_PATH_VERSION)
    kh_entity_append_path_triggers (sql, entity);
}

/* The statements that move @entity's queued records into its search index, run in this order
 * inside the write transaction (a NULL-terminated array). */
char **
kh_entity_search_flush_sql (const KhEntity *entity)
{
  const char *t = entity->name;
  g_autofree char *text = kh_entity_search_text_sql (entity, "t");
  char **sql = g_new0 (char *, 4);

  sql[0] = g_strdup_printf ("DELETE FROM %s_fts WHERE rowid IN (SELECT rid FROM %s_fts_queue WHERE fresh = 0)", t, t);
  /* CROSS JOIN keeps the queue outside: planned while the queue is empty, a plain JOIN scanned
   * the whole entity table at every flush. */
  sql[1] = g_strdup_printf ("INSERT INTO %s_fts (rowid, text) SELECT t.rid, %s FROM %s_fts_queue q "
                            "CROSS JOIN %s t ON t.rid = q.rid WHERE t.deleted = 0", t, text, t, t);
  sql[2] = g_strdup_printf ("DELETE FROM %s_fts_queue", t);
  return sql;
}

/* The SQL that tells whether @entity has queued records (one row, 0 or 1). */
char *
kh_entity_search_queued_sql (const KhEntity *entity)
{
  return g_strdup_printf ("SELECT EXISTS (SELECT 1 FROM %s_fts_queue)", entity->name);
}

/* Indexes whatever is queued, in the caller's transaction or in its own. A writer that stopped
 * between its queueing and its flush cannot leave a queue behind (both are in one
 * transaction), but a writer other than the store (plain SQL, an older build) may: the store
 * runs this when it opens a database. */
gboolean
kh_schema_flush_search (sqlite3  *db,
                        GError  **error)
{
  const KhEntity * const *entities;
  guint n;
  gboolean own = sqlite3_get_autocommit (db);
  gboolean began = FALSE;

  if (kh_schema_get_version (db) < SEARCH_QUEUE_VERSION)
    return TRUE;
  entities = kh_entities (&n);
  {
    /* Usually there is nothing: one statement says so. */
    g_autoptr(GString) any = g_string_new ("SELECT 0");
    sqlite3_stmt *stmt = NULL;
    gboolean queued = TRUE;

    for (guint e = 0; e < n; e++)
      if (kh_entity_has_search (entities[e]))
        g_string_append_printf (any, " OR EXISTS (SELECT 1 FROM %s_fts_queue)", entities[e]->name);
    if (sqlite3_prepare_v2 (db, any->str, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
      queued = sqlite3_column_int (stmt, 0) != 0;
    sqlite3_finalize (stmt);
    if (!queued)
      return TRUE;
  }
  for (guint e = 0; e < n; e++)
    {
      g_autofree char *check = NULL;
      g_auto(GStrv) flush = NULL;
      sqlite3_stmt *stmt = NULL;
      gboolean queued = FALSE;

      if (!kh_entity_has_search (entities[e]))
        continue;
      check = kh_entity_search_queued_sql (entities[e]);
      if (sqlite3_prepare_v2 (db, check, -1, &stmt, NULL) != SQLITE_OK)
        {
          kh_sqlite_set_error (error, db, "search queue");
          goto fail;
        }
      if (sqlite3_step (stmt) == SQLITE_ROW)
        queued = sqlite3_column_int (stmt, 0) != 0;
      sqlite3_finalize (stmt);
      if (!queued)
        continue;
      if (own && !began)
        {
          if (!kh_sqlite_exec (db, "BEGIN IMMEDIATE", error))
            return FALSE;
          began = TRUE;
        }
      flush = kh_entity_search_flush_sql (entities[e]);
      for (guint i = 0; flush[i] != NULL; i++)
        if (!kh_sqlite_exec (db, flush[i], error))
          goto fail;
    }
  if (began && !kh_sqlite_exec (db, "COMMIT", error))
    goto fail;
  return TRUE;

fail:
  if (began)
    kh_sqlite_exec (db, "ROLLBACK", NULL);
  return FALSE;
}

/* Deferred upkeep -----------------------------------------------------------------------------
 *
 * A first pull writes a whole area into empty tables. Keeping every secondary index and the
 * search queue up to date row by row costs most of that write; building them once at the end
 * (CREATE INDEX sorts, the search index takes one big batch) is several times cheaper. So a
 * bulk load first sets aside the entity tables' secondary indexes and search triggers, keeping
 * their DDL in `meta` under "upkeep:", in the same transaction that drops them. The unique
 * ids, keys and checks stay, so nothing invalid can be written meanwhile; reads stay right,
 * only slower, and search does not see records written since. Restoring makes them again from
 * the kept DDL while another thread builds the whole search index beside the database, which
 * then takes its place (kh-search-build.c; where that cannot be, every record is queued for
 * the search index, which the writer indexes before its COMMIT), in one transaction: a
 * database is either wholly set aside or whole. Restoring must come before any other write to
 * the entity tables in its transaction, since the other thread sees only what is committed. A
 * crash in between leaves the DDL in `meta`, and the store restores it when it opens. */

#define UPKEEP_KEY_FIRST "upkeep:"
#define UPKEEP_KEY_END   "upkeep;"  /* ':' + 1: the keys that start with "upkeep:" sort before */

static gboolean
in_own_transaction (sqlite3   *db,
                    gboolean  *began,
                    GError   **error)
{
  *began = FALSE;
  if (!sqlite3_get_autocommit (db))
    return TRUE;
  if (!kh_sqlite_exec (db, "BEGIN IMMEDIATE", error))
    return FALSE;
  *began = TRUE;
  return TRUE;
}

static gboolean
end_own_transaction (sqlite3   *db,
                     gboolean   began,
                     gboolean   ok,
                     GError   **error)
{
  if (!began)
    return ok;
  if (ok && kh_sqlite_exec (db, "COMMIT", error))
    return TRUE;
  if (!sqlite3_get_autocommit (db))
    kh_sqlite_exec (db, "ROLLBACK", NULL);
  return FALSE;
}

/* Prepares @sql, whose two parameters are bound to the range of the kept upkeep keys in meta. */
static sqlite3_stmt *
prepare_upkeep_keys (sqlite3     *db,
                     const char  *sql,
                     GError     **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, db, "upkeep");
      return NULL;
    }
  sqlite3_bind_text (stmt, 1, UPKEEP_KEY_FIRST, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, UPKEEP_KEY_END, -1, SQLITE_STATIC);
  return stmt;
}

gboolean
kh_schema_upkeep_deferred (sqlite3 *db)
{
  sqlite3_stmt *stmt;
  gboolean deferred = FALSE;

  stmt = prepare_upkeep_keys (db, "SELECT EXISTS (SELECT 1 FROM meta WHERE key >= ? AND key < ?)", NULL);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    deferred = sqlite3_column_int (stmt, 0) != 0;
  sqlite3_finalize (stmt);
  return deferred;
}

gboolean
kh_schema_defer_upkeep (sqlite3  *db,
                        GError  **error)
{
  const KhEntity * const *entities;
  g_autoptr(GPtrArray) drops = g_ptr_array_new_with_free_func (sqlite3_free);
  g_autoptr(GString) names = g_string_new ("[");
  sqlite3_stmt *stmt = NULL;
  sqlite3_stmt *keep = NULL;
  gboolean began;
  gboolean ok = TRUE;
  guint n;

  if (kh_schema_get_version (db) < SEARCH_QUEUE_VERSION)
    return TRUE;
  if (!in_own_transaction (db, &began, error))
    return FALSE;
  if (kh_schema_upkeep_deferred (db))
    return end_own_transaction (db, began, TRUE, error);

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    g_string_append_printf (names, "%s\"%s\"", e ? "," : "", entities[e]->name);
  g_string_append (names, "]");

  /* The secondary indexes (a UNIQUE constraint's index has no SQL and stays) and the search
   * triggers of the entity tables; other triggers, if any, are rules and stay too. */
  if (sqlite3_prepare_v2 (db,
        "SELECT type, name, sql FROM sqlite_schema WHERE sql IS NOT NULL "
        "AND tbl_name IN (SELECT value FROM json_each (?)) "
        "AND (type = 'index' OR (type = 'trigger' AND (name GLOB '*_fts_ai' OR name GLOB '*_fts_au' "
        "OR name GLOB '*_fts_ad')))", -1, &stmt, NULL) != SQLITE_OK
      || sqlite3_prepare_v2 (db, "INSERT INTO meta (key, value) VALUES (? || ?, ?)", -1, &keep, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, db, "upkeep");
      ok = FALSE;
    }
  if (ok)
    sqlite3_bind_text (stmt, 1, names->str, -1, SQLITE_STATIC);
  while (ok && sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *type = (const char *) sqlite3_column_text (stmt, 0);
      const char *name = (const char *) sqlite3_column_text (stmt, 1);

      sqlite3_bind_text (keep, 1, UPKEEP_KEY_FIRST, -1, SQLITE_STATIC);
      sqlite3_bind_text (keep, 2, name, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (keep, 3, (const char *) sqlite3_column_text (stmt, 2), -1, SQLITE_TRANSIENT);
      if (sqlite3_step (keep) != SQLITE_DONE)
        {
          kh_sqlite_set_error (error, db, "upkeep");
          ok = FALSE;
        }
      sqlite3_reset (keep);
      /* DDL takes no parameters; %w quotes the name as an identifier. */
      g_ptr_array_add (drops, sqlite3_mprintf ("DROP %s \"%w\"", strcmp (type, "index") == 0 ? "INDEX" : "TRIGGER", name));
    }
  sqlite3_finalize (stmt);
  sqlite3_finalize (keep);
  /* Dropped after the reading, which a DROP would cut short. */
  for (guint i = 0; ok && i < drops->len; i++)
    ok = kh_sqlite_exec (db, drops->pdata[i], error);
  return end_own_transaction (db, began, ok, error);
}

gboolean
kh_schema_restore_upkeep (sqlite3  *db,
                          GError  **error)
{
  const KhEntity * const *entities;
  g_autoptr(GPtrArray) ddl = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = NULL;
  KhSearchBuild *build;
  gboolean began;
  gboolean ok = TRUE;
  guint n;

  if (kh_schema_get_version (db) < SEARCH_QUEUE_VERSION)
    return TRUE;
  if (!in_own_transaction (db, &began, error))
    return FALSE;
  if (!kh_schema_upkeep_deferred (db))
    return end_own_transaction (db, began, TRUE, error);

  stmt = prepare_upkeep_keys (db, "SELECT value FROM meta WHERE key >= ? AND key < ?", error);
  if (stmt == NULL)
    return end_own_transaction (db, began, FALSE, error);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ddl, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_finalize (stmt);
  if ((stmt = prepare_upkeep_keys (db, "DELETE FROM meta WHERE key >= ? AND key < ?", error)) == NULL)
    return end_own_transaction (db, began, FALSE, error);
  ok = sqlite3_step (stmt) == SQLITE_DONE;
  if (!ok)
    kh_sqlite_set_error (error, db, "upkeep");
  sqlite3_finalize (stmt);

  /* The search index is built on another thread meanwhile (kh-search-build.c). */
  build = ok ? kh_search_build_start (db) : NULL;

  /* The kept DDL is what this schema wrote (read back from sqlite_schema), never input. */
  for (guint i = 0; ok && i < ddl->len; i++)
    ok = kh_sqlite_exec (db, ddl->pdata[i], error);

  if (build != NULL && ok)
    {
      g_autoptr(GError) build_error = NULL;

      if (!kh_search_build_finish (build, db, &build_error))
        g_debug ("The search index was not built beside the database, so here: %s", build_error->message);
    }

  /* The search indexes not built beside: everything one held is taken out again and every
   * live record put in, through the queue's two kinds, "was indexed" (fresh = 0: removed
   * first) and "fresh" (only added). The queue also keeps the index's inserts in rowid order,
   * several times faster for FTS5 than the order of an index the planner might pick for a
   * plain SELECT. */
  entities = kh_entities (&n);
  for (guint e = 0; ok && e < n; e++)
    if (kh_entity_has_search (entities[e]) && !kh_search_build_covers (build, entities[e]->name))
      {
        const char *t = entities[e]->name;
        g_autofree char *requeue = g_strdup_printf (
          "INSERT OR IGNORE INTO %s_fts_queue (rid, fresh) SELECT rowid, 0 FROM %s_fts;"
          "INSERT OR IGNORE INTO %s_fts_queue (rid, fresh) SELECT rid, 1 FROM %s WHERE deleted = 0;",
          t, t, t, t);

        ok = kh_sqlite_exec (db, requeue, error);
      }
  kh_search_build_free (build);
  /* In the caller's transaction its COMMIT indexes the queue; in ours, we do. */
  if (ok && began)
    ok = kh_schema_flush_search (db, error);
  ok = end_own_transaction (db, began, ok, error);
  if (began)
    kh_search_build_end (db);
  return ok;
}

static void
append_create_entity (GString        *sql,
                      const KhEntity *entity,
                      int             version)
{
  const char *t = entity->name;

  g_string_append_printf (sql,
    "CREATE TABLE %s ("
    "rid INTEGER PRIMARY KEY, "
    "id TEXT NOT NULL UNIQUE CHECK (length(id) = 36), "
    "version INTEGER NOT NULL DEFAULT 0 CHECK (version >= 0), "
    "deleted INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)), "
    "created_at TEXT NOT NULL, "
    "updated_at TEXT NOT NULL, "
    "updated_by TEXT", t);
  for (guint i = 0; i < entity->n_fields; i++)
    if (since (entity->fields[i].since) <= version)
      {
        g_string_append (sql, ", ");
        append_column (sql, &entity->fields[i], TRUE);
      }
  g_string_append (sql, ") STRICT;\n");

  for (guint i = 0; entity->indexes != NULL && entity->indexes[i] != NULL; i++)
    {
      g_autofree char *suffix = g_strdup (entity->indexes[i]);

      g_strdelimit (suffix, ", ", '_');
      g_string_append_printf (sql, "CREATE INDEX %s_by_%s ON %s (%s);\n",
                              t, suffix, t, entity->indexes[i]);
    }

  if (kh_entity_has_search (entity))
    {
      g_string_append_printf (sql,
        "CREATE VIRTUAL TABLE %s_fts USING fts5 (text, tokenize = 'unicode61', prefix = '2 3'%s);\n",
        t, fts_options (version));
      if (version >= SEARCH_QUEUE_VERSION)
        g_string_append_printf (sql, "CREATE TABLE %s_fts_queue (rid INTEGER PRIMARY KEY, fresh INTEGER NOT NULL DEFAULT 0) STRICT;\n", t);
      append_search_triggers (sql, entity, version);
    }
}

/* What a version adds, beyond the entities and fields whose `since` it is. */
static const char *step_sql[KH_SCHEMA_VERSION + 1] = {
  [1] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT) STRICT;"
    "CREATE TABLE outbox ("
    "  seq INTEGER PRIMARY KEY,"
    "  mutation_id TEXT NOT NULL UNIQUE,"
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  op TEXT NOT NULL CHECK (op IN ('create', 'update', 'delete', 'restore')),"
    "  fields TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(fields)),"
    "  base_version INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  reason TEXT,"
    "  created_at TEXT NOT NULL,"
    "  updated_at TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX outbox_by_record ON outbox (entity, record_id);"
    "CREATE TABLE audit ("
    "  seq INTEGER PRIMARY KEY,"
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  actor TEXT,"
    "  action TEXT NOT NULL CHECK (action = 'create' OR action = 'update' OR action = 'delete'"
    "    OR action = 'restore' OR action = 'remote' OR action = 'resolve')," /* not IN: see append_column() */
    "  field TEXT,"
    "  old_value TEXT,"
    "  new_value TEXT"
    ") STRICT;"
    "CREATE INDEX audit_by_record ON audit (entity, record_id);",
  [2] =
    /* The last server state the replica acknowledged, kept for records with local changes:
     * the base of the three-way merge. */
    "CREATE TABLE base ("
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  data TEXT NOT NULL CHECK (json_valid(data)),"
    "  PRIMARY KEY (entity, record_id)"
    ") STRICT, WITHOUT ROWID;"
    /* A field changed on both sides to different values: both kept until a person chooses. */
    "CREATE TABLE conflict ("
    "  seq INTEGER PRIMARY KEY,"
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  field TEXT NOT NULL,"
    "  base_value TEXT,"
    "  local_value TEXT,"
    "  remote_value TEXT,"
    "  remote_version INTEGER NOT NULL DEFAULT 0,"
    "  remote_by TEXT,"
    "  remote_at TEXT,"
    "  local_at TEXT,"
    "  created_at TEXT NOT NULL,"
    "  resolved_at TEXT,"
    "  UNIQUE (entity, record_id, field)"
    ") STRICT;"
    "CREATE TABLE sync_state (key TEXT PRIMARY KEY, value TEXT) STRICT;",
  [3] =
    /* The records a reset re-pull has brought so far: at its end, records it did not bring
     * (and that have no unsent change) are dropped. Kept in the database so a re-pull cut by a
     * crash resumes with what it had seen. */
    "CREATE TABLE pull_seen ("
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  PRIMARY KEY (entity, record_id)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX conflict_open ON conflict (entity, record_id) WHERE resolved_at IS NULL;"
    /* The field values an entry carried the last time it was sent: when the server's state
     * comes back with one of them, it is the replica's own change echoing, not someone
     * else's, even if the answer to the push was lost. */
    "ALTER TABLE outbox ADD COLUMN sent TEXT CHECK (sent IS NULL OR json_valid(sent));",
  [SEARCH_QUEUE_VERSION] =
    /* The figures' covering indexes (data/kh-report.c), made by the first report until
     * version 3; IF NOT EXISTS because such a report may have made them already. */
    "CREATE INDEX IF NOT EXISTS kh_report_registration"
    "  ON registration (org_unit_id, year, deleted, status, model, id);"
    "CREATE INDEX IF NOT EXISTS kh_report_evaluation"
    "  ON evaluation (registration_id, deleted, evaluated_on, rid, result);"
    "CREATE INDEX IF NOT EXISTS kh_report_award_entry"
    "  ON award_entry (org_unit_id, deleted, status, list_id, category, amount, received_on);",
  [LEAN_SEARCH_VERSION] =
    /* Served by the covering indexes of version 5, which start with the same columns. */
    "DROP INDEX IF EXISTS registration_by_org_unit_id__year__model;"
    "DROP INDEX IF EXISTS evaluation_by_registration_id;"
    "DROP INDEX IF EXISTS award_entry_by_org_unit_id;"
    /* Nor made again by a bulk load set aside before this step. */
    "DELETE FROM meta WHERE key IN ('" UPKEEP_KEY_FIRST "registration_by_org_unit_id__year__model', '"
    UPKEEP_KEY_FIRST "evaluation_by_registration_id', '" UPKEEP_KEY_FIRST "award_entry_by_org_unit_id');",
  [PRIVACY_VERSION] =
    /* The audit also records an export that carried sensitive fields and an erasure. SQLite
     * cannot change a CHECK in place, so the table is made again with its rows. */
    "CREATE TABLE audit_v7 ("
    "  seq INTEGER PRIMARY KEY,"
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  at TEXT NOT NULL,"
    "  actor TEXT,"
    "  action TEXT NOT NULL CHECK (action = 'create' OR action = 'update' OR action = 'delete'"
    "    OR action = 'restore' OR action = 'remote' OR action = 'resolve' OR action = 'export'"
    "    OR action = 'erase'),"
    "  field TEXT,"
    "  old_value TEXT,"
    "  new_value TEXT"
    ") STRICT;"
    "INSERT INTO audit_v7 SELECT seq, entity, record_id, at, actor, action, field, old_value, new_value"
    "  FROM audit;"
    "DROP TABLE audit;"
    "ALTER TABLE audit_v7 RENAME TO audit;"
    "CREATE INDEX audit_by_record ON audit (entity, record_id);"
    /* The minors, found by age without reading every adult (kh-privacy.c's BIRTH, word for
     * word, or SQLite will not use it), and with what their count needs (id for the consent,
     * the unit for a report) read from the index alone: seven times faster than from the rows. */
    "CREATE INDEX person_by_age ON person (coalesce(birth_date, printf('%04d-12-31', birth_year)),"
    "  id, org_unit_id) WHERE deleted = 0;",
  [KH_ATTACH_VERSION] =
    /* The attachment entity's table comes from the registry. What this replica knows of each
     * file, by its SHA-256 (kh-attach.c): held whole here, on the server, asked for (1, or 2:
     * even on a metered network); and the records whose files are kept offline. */
    "CREATE TABLE attachment_file ("
    "  sha256 TEXT PRIMARY KEY,"
    "  have INTEGER NOT NULL DEFAULT 0,"
    "  uploaded INTEGER NOT NULL DEFAULT 0,"
    "  wanted INTEGER NOT NULL DEFAULT 0,"
    "  size INTEGER NOT NULL DEFAULT 0"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE attachment_keep (owner_id TEXT PRIMARY KEY) STRICT, WITHOUT ROWID;",
  [LEDGER_VERSION] =
    "CREATE INDEX IF NOT EXISTS disbursement_by_list ON disbursement (list_id) WHERE list_id IS NOT NULL;",
  [RECOGNITION_FIGURES_VERSION] =
    /* A registration's latest recognition and its level read from the index alone: from the
     * rows, the figures of a million records took twice as long. It starts with the column of
     * the plain index, which it replaces (no more indexes for a pull to keep). */
    "CREATE INDEX IF NOT EXISTS kh_report_recognition"
    "  ON recognition (registration_id, deleted, decision_date, issuing_level);"
    "DROP INDEX IF EXISTS recognition_by_registration_id;"
    "DELETE FROM meta WHERE key = '" UPKEEP_KEY_FIRST "recognition_by_registration_id';",
  [13] =
    /* A record's history as the server keeps it (GET /v1/history), taken when a person asks:
     * the real authors of what this replica only received (kh-store-history.c). */
    "CREATE TABLE server_history ("
    "  entity TEXT NOT NULL,"
    "  record_id TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  at TEXT NOT NULL,"
    "  actor TEXT,"
    "  device TEXT,"
    "  op TEXT NOT NULL,"
    "  changes TEXT NOT NULL CHECK (json_valid(changes)),"
    "  PRIMARY KEY (entity, record_id, version)"
    ") STRICT, WITHOUT ROWID;",
  [STAGE_FIGURES_VERSION] =
    /* The same index, made again with the stage, in the order the figures pick an evaluation
     * in (a review first, then the latest): without it, each registration's evaluations were
     * read from the table and sorted, and a province's figures at a million records took
     * 1.05 s of CPU instead of 0.68. Still led by the registration, so nothing else loses its
     * index, and no more indexes for a pull to keep. */
    "DROP INDEX IF EXISTS kh_report_evaluation;"
    "DELETE FROM meta WHERE key = '" UPKEEP_KEY_FIRST "kh_report_evaluation';"
    "CREATE INDEX kh_report_evaluation ON evaluation"
    "  (registration_id, deleted, stage = 'review', evaluated_on, rid, result, stage);",
};

static gboolean
apply_step (sqlite3  *db,
            int       version,
            GError  **error)
{
  g_autoptr(GString) sql = g_string_new (NULL);
  const KhEntity * const *entities;
  guint n;

  if (step_sql[version] != NULL)
    g_string_append (sql, step_sql[version]);

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      gboolean search_changed = FALSE;

      if (since (entity->since) == version)
        {
          append_create_entity (sql, entity, version);
          continue;
        }
      if (since (entity->since) > version)
        continue;

      for (guint i = 0; i < entity->n_fields; i++)
        if (since (entity->fields[i].since) == version)
          {
            /* SQLite cannot add a NOT NULL column without a default; the store's validation
             * requires the field for new writes instead. */
            g_string_append_printf (sql, "ALTER TABLE %s ADD COLUMN ", entity->name);
            append_column (sql, &entity->fields[i], FALSE);
            g_string_append (sql, ";\n");
            if (entity->fields[i].flags & KH_FIELD_FLAG_SEARCH)
              search_changed = TRUE;
          }
      if (search_changed)
        {
          g_autofree char *text = version >= KH_UNIT_PATH_VERSION
                                  ? kh_entity_search_text_sql (entity, entity->name)
                                  : kh_entity_search_sql (entity, entity->name);

          append_search_triggers (sql, entity, version);
          g_string_append_printf (sql,
            "DELETE FROM %s_fts; INSERT INTO %s_fts (rowid, text) SELECT rid, %s FROM %s WHERE deleted = 0;\n",
            entity->name, entity->name, text, entity->name);
        }
    }

  /* Version 3 lets the search triggers stand aside while a pulled page is indexed at once. */
  if (version == 3)
    for (guint e = 0; e < n; e++)
      if (since (entities[e]->since) < version && kh_entity_has_search (entities[e]))
        append_search_triggers (sql, entities[e], version);
  /* Version 4 queues what the search index must take and indexes it at COMMIT. Nothing is
   * queued yet: the index already holds every record. */
  if (version == SEARCH_QUEUE_VERSION)
    for (guint e = 0; e < n; e++)
      if (since (entities[e]->since) < version && kh_entity_has_search (entities[e]))
        {
          g_string_append_printf (sql, "CREATE TABLE %s_fts_queue (rid INTEGER PRIMARY KEY, fresh INTEGER NOT NULL DEFAULT 0) STRICT;\n",
                                  entities[e]->name);
          append_search_triggers (sql, entities[e], version);
        }

  /* Version 4 indexes the names lists are sorted by (KH_FIELD_FLAG_FOLDED_INDEX), folded as
   * KhRecordList sorts them (the same expression, word for word, or SQLite will not use the
   * index), over the records not deleted: a list of a million people sorted by name walks an
   * index instead of folding and sorting every row. It only adds indexes, to tables every
   * earlier version has; a field flagged later needs a step of its own. */
  if (version == FOLDED_NAME_VERSION)
    for (guint e = 0; e < n; e++)
      for (guint i = 0; i < entities[e]->n_fields; i++)
        if (entities[e]->fields[i].flags & KH_FIELD_FLAG_FOLDED_INDEX)
          g_string_append_printf (sql, "CREATE INDEX %s_by_folded_%s ON %s (kh_fold(coalesce(%s, ''))) "
                                  "WHERE deleted = 0;\n", entities[e]->name, entities[e]->fields[i].name,
                                  entities[e]->name, entities[e]->fields[i].name);

  /* Version 8 sorts people by given name, then family and middle names, as Vietnamese lists do:
   * a person's name is indexed by kh_name_key() (the expression KhRecordList sorts by, word for
   * word) instead of its folded whole. SQLite keeps the index as records are written or pulled;
   * the folded one it replaces costs the same on a write, so a pull is no slower. */
  if (version == NAME_ORDER_VERSION)
    for (guint e = 0; e < n; e++)
      for (guint i = 0; i < entities[e]->n_fields; i++)
        if (entities[e]->fields[i].flags & KH_FIELD_FLAG_PERSON_NAME)
          g_string_append_printf (sql, "DROP INDEX IF EXISTS %s_by_folded_%s;"
                                  "CREATE INDEX %s_by_name_%s ON %s (kh_name_key(coalesce(%s, ''))) "
                                  "WHERE deleted = 0;\n", entities[e]->name, entities[e]->fields[i].name,
                                  entities[e]->name, entities[e]->fields[i].name,
                                  entities[e]->name, entities[e]->fields[i].name);

  /* Version 10 gives registrations their state, result and score (kh-models.c keeps them as
   * evaluations and recognitions are written); those already here take them from their latest
   * evaluation and any recognition, as the store would have set them. */
  if (version == MODELS_VERSION)
    g_string_append (sql,
      "UPDATE registration SET"
      "  result = (SELECT e.result FROM evaluation e WHERE e.registration_id = registration.id"
      "            AND e.deleted = 0 ORDER BY e.evaluated_on DESC, e.rid DESC LIMIT 1),"
      "  total = (SELECT e.total FROM evaluation e WHERE e.registration_id = registration.id"
      "           AND e.deleted = 0 ORDER BY e.evaluated_on DESC, e.rid DESC LIMIT 1);"
      "UPDATE registration SET state = CASE"
      "  WHEN EXISTS (SELECT 1 FROM recognition r WHERE r.registration_id = registration.id"
      "               AND r.deleted = 0) THEN 'recognized'"
      "  WHEN status = 'withdrawn' THEN 'withdrawn'"
      "  WHEN result IS NULL THEN 'registered'"
      "  WHEN result = 'fail' OR result = 'not_achieved' THEN 'not_passed'"
      "  ELSE 'passed' END;\n");

  /* Version 6 makes the search index again, leaner, from the records. */
  if (version == LEAN_SEARCH_VERSION)
    for (guint e = 0; e < n; e++)
      if (since (entities[e]->since) < version && kh_entity_has_search (entities[e]))
        {
          const char *t = entities[e]->name;
          g_autofree char *text = kh_entity_search_sql (entities[e], t);

          g_string_append_printf (sql,
            "DROP TABLE %s_fts;"
            "CREATE VIRTUAL TABLE %s_fts USING fts5 (text, tokenize = 'unicode61', prefix = '2 3'%s);"
            "DELETE FROM %s_fts_queue;"
            "INSERT INTO %s_fts (rowid, text) SELECT rid, %s FROM %s WHERE deleted = 0;\n",
            t, t, fts_options (version), t, t, text, t);
        }

  /* Version 17 finds a unit by its path ("thon 1 suoi hiep"): its search text takes the names
   * above it, and the triggers that keep them follow a renamed or moved unit. */
  if (version == KH_UNIT_PATH_VERSION)
    for (guint e = 0; e < n; e++)
      if (since (entities[e]->since) < version && kh_entity_has_search (entities[e])
          && kh_entity_path_field (entities[e]) != NULL)
        {
          const char *t = entities[e]->name;
          g_autofree char *text = kh_entity_search_text_sql (entities[e], t);

          append_search_triggers (sql, entities[e], version);
          g_string_append_printf (sql,
            "DELETE FROM %s_fts_queue; DELETE FROM %s_fts;"
            "INSERT INTO %s_fts (rowid, text) SELECT rid, %s FROM %s WHERE deleted = 0;\n",
            t, t, t, text, t);
        }

  g_string_append_printf (sql, "PRAGMA user_version = %d;", version);
  return kh_sqlite_exec (db, sql->str, error);
}

/* Brings @db from its version up to @target; a database newer than this build is refused
 * rather than touched. */
gboolean
kh_schema_migrate (sqlite3  *db,
                   int       target,
                   GError  **error)
{
  int current = kh_schema_get_version (db);

  g_return_val_if_fail (target >= 1 && target <= KH_SCHEMA_VERSION, FALSE);

  if (current < 0)
    {
      kh_sqlite_set_error (error, db, "user_version");
      return FALSE;
    }
  if (current > KH_SCHEMA_VERSION)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_SCHEMA,
                   _("This database was made by a newer version of Khuyến Học (schema %d, this "
                     "version knows %d). Update the application to open it."),
                   current, KH_SCHEMA_VERSION);
      return FALSE;
    }

  for (int v = current + 1; v <= target; v++)
    {
      if (!kh_sqlite_exec (db, "BEGIN IMMEDIATE", error))
        return FALSE;
      if (!apply_step (db, v, error))
        {
          kh_sqlite_exec (db, "ROLLBACK", NULL);
          g_prefix_error (error, _("Could not upgrade the database to schema %d: "), v);
          return FALSE;
        }
      if (!kh_sqlite_exec (db, "COMMIT", error))
        {
          kh_sqlite_exec (db, "ROLLBACK", NULL);
          return FALSE;
        }
      g_debug ("migrated the local database to schema %d", v);
    }
  return TRUE;
}
