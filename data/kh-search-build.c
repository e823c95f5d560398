/* kh-search-build.c: the search index of a bulk load, built beside the database
 *
 * When a bulk load ends (kh_schema_restore_upkeep()), the writer makes the secondary indexes
 * again and indexes every record for search: two pieces of single-threaded work of about the
 * same size, and a second core idle. So the search index is built meanwhile on a thread of its
 * own, by a second connection that reads the committed records and writes the same FTS5
 * tables into a scratch database file next to the replica ("<file>-search"). When both are
 * done, the writer replaces each FTS5 table with a fresh one and fills its shadow tables with
 * the scratch copy's rows. An FTS5 table is wholly its shadow tables, so a table made with the
 * same statement by the same SQLite and given the same rows is the same index; copying rows
 * costs a fraction of tokenizing and merging them again.
 *
 * The helper's snapshot must be the writer's: the writer holds the write lock (BEGIN
 * IMMEDIATE) before the helper starts, so nothing can be committed in between, and the
 * restoring must come before any other write to the entity tables in that transaction. If the
 * helper fails in any way, the writer indexes the records itself, as before; it does so too for
 * the tables too small for a second connection and a table made anew to pay (min_rows).
 *
 * SQL here takes no input: names come from the entity registry and the DDL read back from
 * sqlite_schema; the scratch file's name is bound.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-crypt-vfs.h"
#include "kh-error.h"
#include "kh-search-build.h"
#include "kh-sqlite.h"

#define BUILD_SCHEMA "kh_search_build"

/* Below this many rows (rowids, to be exact: counting is as slow as reading), a table's search
 * index is made faster in place. */
static gint64 min_rows = 10000;

/* The shadow tables an FTS5 table may have; the ones it has are copied. */
static const char * const shadow_suffixes[] = { "data", "idx", "content", "docsize", "config" };

struct _KhSearchBuild
{
  char      *path;        /* the database's file */
  char      *build_path;  /* the scratch file */
  GPtrArray *names;       /* the entities with a search index */
  GPtrArray *texts;       /* the SQL of each one's search text, over a row called t */
  GPtrArray *ddl;         /* each one's CREATE VIRTUAL TABLE, as sqlite_schema keeps it */
  GThread   *thread;
  GError    *error;       /* the helper's, read once it is joined */
  gboolean   joined;
  gboolean   attached;    /* to the writer's connection, which removes it (kh_search_build_end()) */
  gboolean   copied;      /* into the writer's transaction */
};

/* The folded text of a record's search fields, as SQL over the row called @prefix. */
char *
kh_entity_search_sql (const KhEntity *entity,
                      const char     *prefix)
{
  GString *sql = g_string_new ("kh_fold(");
  gboolean first = TRUE;

  for (guint i = 0; i < entity->n_fields; i++)
    if (entity->fields[i].flags & KH_FIELD_FLAG_SEARCH)
      {
        g_string_append_printf (sql, "%scoalesce(%s.%s, '')", first ? "" : " || ' ' || ",
                                prefix, entity->fields[i].name);
        first = FALSE;
      }
  g_string_append (sql, ")");
  return g_string_free (sql, FALSE);
}

/* For tests: the size from which a table's search index is built beside the database. */
void
kh_search_build_set_min_rows (gint64 rows)
{
  min_rows = rows;
}

/* Waits for the helper if it still works, and frees @build; what the helper built is
 * dropped unless it was copied. */
void
kh_search_build_free (KhSearchBuild *build)
{
  if (build == NULL)
    return;
  if (build->thread != NULL && !build->joined)
    g_thread_join (build->thread);
  if (build->thread != NULL && !build->attached)
    g_unlink (build->build_path);
  g_free (build->path);
  g_free (build->build_path);
  g_ptr_array_unref (build->names);
  g_ptr_array_unref (build->texts);
  g_ptr_array_unref (build->ddl);
  g_clear_error (&build->error);
  g_free (build);
}

/* "CREATE VIRTUAL TABLE person_fts USING fts5 (...)" as "CREATE VIRTUAL TABLE
 * kh_search_build.person_fts USING fts5 (...)". */
static char *
ddl_in_schema (const char *ddl,
               const char *name)
{
  const char *using = strstr (ddl, " USING ");

  if (using == NULL)
    return NULL;
  return g_strdup_printf ("CREATE VIRTUAL TABLE " BUILD_SCHEMA ".%s_fts%s", name, using);
}

static gboolean
bind_exec (sqlite3     *db,
           const char  *sql,
           const char  *param,
           GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, db, "search index");
      return FALSE;
    }
  sqlite3_bind_text (stmt, 1, param, -1, SQLITE_STATIC);
  rc = sqlite3_step (stmt);
  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, db, "search index");
      return FALSE;
    }
  return TRUE;
}

static gboolean
build_all (sqlite3        *db,
           KhSearchBuild  *build,
           GError        **error)
{
  if (!kh_sqlite_register_functions (db, error)
      || !bind_exec (db, "ATTACH ? AS " BUILD_SCHEMA, build->build_path, error)
      /* Sealed as the replica is: it holds the records' words. */
      || kh_crypt_vfs_prepare (db, BUILD_SCHEMA) != SQLITE_OK
      /* A scratch file: if this fails or crashes, it is made again from the records. */
      || !kh_sqlite_exec (db,
                          "PRAGMA " BUILD_SCHEMA ".journal_mode = OFF;"
                          "PRAGMA " BUILD_SCHEMA ".synchronous = OFF;"
                          "PRAGMA " BUILD_SCHEMA ".cache_size = -32000;"
                          "PRAGMA main.cache_size = -8000;"
                          "BEGIN", error))
    return FALSE;

  for (guint i = 0; i < build->names->len; i++)
    {
      const char *t = build->names->pdata[i];
      g_autofree char *create = ddl_in_schema (build->ddl->pdata[i], t);
      g_autofree char *fill = NULL;

      if (create == NULL)
        {
          g_set_error_literal (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE,
                               _("The search index is not made the way this version makes it."));
          return FALSE;
        }
      fill = g_strdup_printf ("INSERT INTO " BUILD_SCHEMA ".%s_fts (rowid, text) "
                              "SELECT t.rid, %s FROM main.%s t WHERE t.deleted = 0 ORDER BY t.rid",
                              t, (const char *) build->texts->pdata[i], t);
      if (!kh_sqlite_exec (db, create, error) || !kh_sqlite_exec (db, fill, error))
        return FALSE;
    }
  return kh_sqlite_exec (db, "COMMIT", error);
}

static gpointer
build_thread (gpointer data)
{
  KhSearchBuild *build = data;
  sqlite3 *db = NULL;

  /* Read-write only to be able to create the scratch file it attaches; the replica is only
   * read, in one transaction, so every table is read from the same snapshot. The scratch
   * file holds the records' words: owner only, as the replica. */
  kh_sqlite_make_private (build->build_path);
  if (kh_sqlite_open (build->path, &db, TRUE) != SQLITE_OK)
    kh_sqlite_set_error (&build->error, db, "search index");
  else
    {
      sqlite3_busy_timeout (db, 10000);
      sqlite3_extended_result_codes (db, 1);
      build_all (db, build, &build->error);
    }
  sqlite3_close (db);
  return NULL;
}

/* The largest rowid of entity table @name: its rows, if none were ever deleted. */
static gint64
table_rows (sqlite3    *db,
            const char *name)
{
  g_autofree char *sql = g_strdup_printf ("SELECT coalesce(max(rid), 0) FROM %s", name);
  sqlite3_stmt *stmt = NULL;
  gint64 rows = 0;

  if (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) == SQLITE_OK && sqlite3_step (stmt) == SQLITE_ROW)
    rows = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return rows;
}

/* Starts building the search index of every entity that has one and enough rows on a thread
 * of its own, from what @db's open write transaction sees; NULL when there is none or it
 * cannot (a database without a file, no thread), and the caller indexes the records itself
 * (the ones kh_search_build_covers() does not cover). */
KhSearchBuild *
kh_search_build_start (sqlite3 *db)
{
  const KhEntity * const *entities;
  const char *path = sqlite3_db_filename (db, "main");
  KhSearchBuild *build;
  sqlite3_stmt *stmt = NULL;
  guint n;

  if (path == NULL || path[0] == '\0' || sqlite3_get_autocommit (db))
    return NULL;

  build = g_new0 (KhSearchBuild, 1);
  build->path = g_strdup (path);
  build->build_path = g_strdup_printf ("%s-search", path);
  build->names = g_ptr_array_new ();
  build->texts = g_ptr_array_new_with_free_func (g_free);
  build->ddl = g_ptr_array_new_with_free_func (g_free);

  if (sqlite3_prepare_v2 (db, "SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ? || '_fts'",
                          -1, &stmt, NULL) != SQLITE_OK)
    {
      kh_search_build_free (build);
      return NULL;
    }
  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    if (kh_entity_has_search (entities[e]))
      {
        const char *ddl = NULL;

        sqlite3_bind_text (stmt, 1, entities[e]->name, -1, SQLITE_STATIC);
        if (sqlite3_step (stmt) == SQLITE_ROW)
          ddl = (const char *) sqlite3_column_text (stmt, 0);
        if (ddl != NULL && table_rows (db, entities[e]->name) >= min_rows)
          {
            g_ptr_array_add (build->names, (gpointer) entities[e]->name);
            g_ptr_array_add (build->texts, kh_entity_search_text_sql (entities[e], "t"));
            g_ptr_array_add (build->ddl, g_strdup (ddl));
          }
        sqlite3_reset (stmt);
      }
  sqlite3_finalize (stmt);
  if (build->names->len == 0)
    {
      kh_search_build_free (build);
      return NULL;
    }

  /* What a crash left is not read: the file is made anew. */
  g_unlink (build->build_path);
  build->thread = g_thread_try_new ("kh-search-build", build_thread, build, NULL);
  if (build->thread == NULL)
    {
      kh_search_build_free (build);
      return NULL;
    }
  return build;
}

static gboolean
copy_all (sqlite3        *db,
          KhSearchBuild  *build,
          GError        **error)
{
  sqlite3_stmt *has = NULL;
  gboolean ok;

  if (!bind_exec (db, "ATTACH ? AS " BUILD_SCHEMA, build->build_path, error))
    return FALSE;
  build->attached = TRUE;
  if (sqlite3_prepare_v2 (db, "SELECT EXISTS (SELECT 1 FROM " BUILD_SCHEMA ".sqlite_schema "
                              "WHERE type = 'table' AND name = ?)", -1, &has, NULL) != SQLITE_OK)
    {
      kh_sqlite_set_error (error, db, "search index");
      return FALSE;
    }
  ok = TRUE;
  for (guint i = 0; ok && i < build->names->len; i++)
    {
      const char *t = build->names->pdata[i];
      g_autoptr(GString) sql = g_string_new (NULL);

      /* A new table, of which no connection has read anything yet, takes the rows: its own
       * first rows (an empty structure and the version) make way for the built ones. */
      g_string_append_printf (sql, "DROP TABLE main.%s_fts; %s; DELETE FROM main.%s_fts_queue;",
                              t, (const char *) build->ddl->pdata[i], t);
      for (guint s = 0; s < G_N_ELEMENTS (shadow_suffixes); s++)
        {
          g_autofree char *shadow = g_strdup_printf ("%s_fts_%s", t, shadow_suffixes[s]);
          gboolean exists;

          sqlite3_bind_text (has, 1, shadow, -1, SQLITE_STATIC);
          exists = sqlite3_step (has) == SQLITE_ROW && sqlite3_column_int (has, 0) != 0;
          sqlite3_reset (has);
          if (exists)
            g_string_append_printf (sql,
                                    "DELETE FROM main.%s; INSERT INTO main.%s SELECT * FROM " BUILD_SCHEMA ".%s;",
                                    shadow, shadow, shadow);
        }
      ok = kh_sqlite_exec (db, sql->str, error);
    }
  sqlite3_finalize (has);
  return ok;
}

/* Waits for the helper and, if it built everything, puts what it built in the place of @db's
 * search indexes, in @db's transaction. FALSE with @error when it did not: the search indexes
 * are then as they were, and the caller indexes the records itself. The scratch database stays
 * attached until the transaction ends (kh_search_build_end()). */
gboolean
kh_search_build_finish (KhSearchBuild  *build,
                        sqlite3        *db,
                        GError        **error)
{
  g_thread_join (build->thread);
  build->joined = TRUE;
  if (build->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&build->error));
      return FALSE;
    }
  kh_sqlite_exec (db, "SAVEPOINT kh_search_build", NULL);
  build->copied = copy_all (db, build, error);
  if (!build->copied)
    kh_sqlite_exec (db, "ROLLBACK TO kh_search_build", NULL);
  kh_sqlite_exec (db, "RELEASE kh_search_build", NULL);
  return build->copied;
}

/* Whether the search index of entity table @name is in place, built beside the database. */
gboolean
kh_search_build_covers (KhSearchBuild *build,
                        const char    *name)
{
  if (build == NULL || !build->copied)
    return FALSE;
  for (guint i = 0; i < build->names->len; i++)
    if (strcmp (build->names->pdata[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* Detaches the scratch database, if any, and removes its file; once @db's transaction has
 * ended (SQLite keeps what a transaction read attached until then). */
void
kh_search_build_end (sqlite3 *db)
{
  const char *path = sqlite3_db_filename (db, BUILD_SCHEMA);
  g_autofree char *file = NULL;

  if (path == NULL)
    return;
  file = g_strdup (path);
  if (sqlite3_get_autocommit (db) && kh_sqlite_exec (db, "DETACH " BUILD_SCHEMA, NULL))
    g_unlink (file);
}

/* Removes the scratch file a process killed between its COMMIT and kh_search_build_end() left
 * behind. The caller calls it only while nothing is set aside (kh_schema_upkeep_deferred() is
 * false): then no restoring, the only user of the file, can be under way on another
 * connection. */
void
kh_search_build_remove_leftover (sqlite3 *db)
{
  const char *path = sqlite3_db_filename (db, "main");
  g_autofree char *file = NULL;

  if (path == NULL || path[0] == '\0')
    return;
  file = g_strdup_printf ("%s-search", path);
  if (g_file_test (file, G_FILE_TEST_IS_REGULAR))
    g_unlink (file);
}
