/* test-migrate.c: databases made by every earlier schema version open without loss
 *
 * For each version v before this build's, a database is built at v (kh_schema_migrate stops
 * there) and filled with plain SQL valid at v: one row of every entity that existed then, with
 * every field it had, plus outbox, audit and meta rows. kh_store_open must migrate it, keep all
 * of it, index it for search, and give it the columns and tables added since. A database from a
 * newer version is refused without being touched, and a failed step leaves the old version.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-schema.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"
#include "kh-test-store.h"

static int
since (int v)
{
  return v > 0 ? v : 1;
}

static sqlite3 *
open_raw (const char *path)
{
  sqlite3 *db = NULL;
  g_autoptr(GError) error = NULL;

  /* Sealed, once the store has sealed it, with the key the store was given. */
  g_assert_cmpint (kh_sqlite_open (path, &db, TRUE), ==, SQLITE_OK);
  g_assert_true (kh_sqlite_register_functions (db, &error));
  g_assert_no_error (error);
  return db;
}

static void
exec_ok (sqlite3    *db,
         const char *sql)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (kh_sqlite_exec (db, sql, &error));
  g_assert_no_error (error);
}

static gboolean
has_column (sqlite3    *db,
            const char *table,
            const char *column)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM pragma_table_info('%s') WHERE name = ?", table);
  sqlite3_stmt *stmt = NULL;
  gboolean found;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, column, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  found = sqlite3_column_int (stmt, 0) > 0;
  sqlite3_finalize (stmt);
  return found;
}

/* One row of @entity with every field it had at @version, inserted with plain SQL. */
static json_object *
insert_row (sqlite3        *db,
            const KhEntity *entity,
            int             version,
            const char     *id)
{
  json_object *values = json_object_new_object ();
  g_autoptr(GString) sql = g_string_new (NULL);
  sqlite3_stmt *stmt = NULL;
  int index = 5;

  g_string_printf (sql, "INSERT INTO %s (id, version, deleted, created_at, updated_at, updated_by", entity->name);
  for (guint i = 0; i < entity->n_fields; i++)
    if (since (entity->fields[i].since) <= version)
      g_string_append_printf (sql, ", %s", entity->fields[i].name);
  g_string_append (sql, ") VALUES (?, 3, 0, ?, ?, ?");
  for (guint i = 0; i < entity->n_fields; i++)
    if (since (entity->fields[i].since) <= version)
      g_string_append (sql, ", ?");
  g_string_append (sql, ")");

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql->str, -1, &stmt, NULL), ==, SQLITE_OK);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 2, "2024-01-02T03:04:05.000000Z", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 3, "2024-01-02T03:04:05.000000Z", -1, SQLITE_STATIC);
  sqlite3_bind_text (stmt, 4, "old-version", -1, SQLITE_STATIC);
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];
      json_object *v;

      if (since (f->since) > version)
        continue;
      if (f->type == KH_FIELD_TEXT && (f->flags & KH_FIELD_FLAG_SEARCH))
        v = json_object_new_string (strcmp (entity->name, "person") == 0 ? "Nguyễn Văn Đức" : "Đức");
      else
        v = kh_test_field_value (f);
      /* Rows of an old version need not be consistent across fields; keep them simple and
       * leave the references as ids of nothing, which an old replica may well hold. */
      kh_store_bind_value (stmt, index++, f, v);
      json_object_object_add (values, f->name, v);
    }
  if (sqlite3_step (stmt) != SQLITE_DONE)
    g_error ("insert into %s at version %d: %s", entity->name, version, sqlite3_errmsg (db));
  sqlite3_finalize (stmt);
  return values;
}

static void
test_migrate_every_version (void)
{
  for (int version = 1; version < KH_SCHEMA_VERSION; version++)
    {
      g_autofree char *dir = kh_test_tmpdir ();
      g_autofree char *path = g_build_filename (dir, "old.db", NULL);
      g_autoptr(GError) error = NULL;
      g_autoptr(GHashTable) rows = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                                          (GDestroyNotify) json_object_put);
      g_autoptr(GHashTable) ids = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
      g_autoptr(KhStore) store = NULL;
      const KhEntity * const *entities;
      guint n;
      sqlite3 *db;
      json_object *outbox;
      json_object *hits;

      g_test_message ("from schema %d to %d", version, KH_SCHEMA_VERSION);
      db = open_raw (path);
      g_assert_true (kh_schema_migrate (db, version, &error));
      g_assert_no_error (error);
      g_assert_cmpint (kh_schema_get_version (db), ==, version);

      exec_ok (db, "BEGIN");
      entities = kh_entities (&n);
      for (guint e = 0; e < n; e++)
        if (since (entities[e]->since) <= version)
          {
            char *id = kh_uuid_v7_new ();

            g_hash_table_insert (ids, (gpointer) entities[e]->name, id);
            g_hash_table_insert (rows, (gpointer) entities[e]->name, insert_row (db, entities[e], version, id));
          }
      {
        sqlite3_stmt *stmt = NULL;
        const char *person = g_hash_table_lookup (ids, "person");

        g_assert_cmpint (sqlite3_prepare_v2 (db,
          "INSERT INTO outbox (mutation_id, entity, record_id, op, fields, base_version, attempts, created_at, updated_at) "
          "VALUES ('01900000-0000-7000-8000-00000000abcd', 'person', ?, 'update', '[\"full_name\"]', 3, 2, 'x', 'x')",
          -1, &stmt, NULL), ==, SQLITE_OK);
        sqlite3_bind_text (stmt, 1, person, -1, SQLITE_STATIC);
        g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
        sqlite3_finalize (stmt);
        g_assert_cmpint (sqlite3_prepare_v2 (db,
          "INSERT INTO audit (entity, record_id, at, actor, action, field, old_value, new_value) "
          "VALUES ('person', ?, '2024-01-02T03:04:05Z', 'old-version', 'update', 'full_name', 'A', 'Nguyễn Văn Đức')",
          -1, &stmt, NULL), ==, SQLITE_OK);
        sqlite3_bind_text (stmt, 1, person, -1, SQLITE_STATIC);
        g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
        sqlite3_finalize (stmt);
      }
      exec_ok (db, "INSERT INTO meta (key, value) VALUES ('replica_id', '01900000-0000-7000-8000-0000000000aa')");
      exec_ok (db, "COMMIT");
      sqlite3_close (db);

      store = kh_store_open (path, &error);
      g_assert_no_error (error);
      g_assert_nonnull (store);
      db = kh_store_get_db (store);
      g_assert_cmpint (kh_schema_get_version (db), ==, KH_SCHEMA_VERSION);
      g_assert_cmpstr (kh_store_get_replica_id (store), ==, "01900000-0000-7000-8000-0000000000aa");

      /* Every row is there with every value, and every entity and field of today exists. */
      for (guint e = 0; e < n; e++)
        {
          const KhEntity *entity = entities[e];
          json_object *before = g_hash_table_lookup (rows, entity->name);

          for (guint i = 0; i < entity->n_fields; i++)
            g_assert_true (has_column (db, entity->name, entity->fields[i].name));
          if (before == NULL)
            {
              g_assert_cmpint (kh_test_count (store, entity->name), ==, 0);
              continue;
            }
          {
            json_object *now = kh_store_get (store, entity->name, g_hash_table_lookup (ids, entity->name), &error);

            g_assert_no_error (error);
            g_assert_cmpint (json_object_get_int64 (json_object_object_get (now, "version")), ==, 3);
            json_object_object_foreach (before, key, val)
              g_assert_cmpstr (json_object_to_json_string_ext (json_object_object_get (now, key), JSON_C_TO_STRING_PLAIN), ==,
                               json_object_to_json_string_ext (val, JSON_C_TO_STRING_PLAIN));
            /* Fields added since are empty, not invented; a registration's state, result and
             * score are derived from its evaluations by the step that adds them. */
            for (guint i = 0; i < entity->n_fields; i++)
              if (since (entity->fields[i].since) > version
                  && !(strcmp (entity->name, "registration") == 0 && entity->fields[i].since == 10))
                g_assert_null (json_object_object_get (now, entity->fields[i].name));
            if (strcmp (entity->name, "registration") == 0 && version < 10)
              g_assert_nonnull (json_object_object_get (now, "state"));
            json_object_put (now);
          }
        }
      g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE name IN ('base', 'conflict', 'sync_state')"), ==, 3);

      /* The pending change and the history survive. */
      outbox = kh_store_list_outbox (store, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
      g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (outbox, 0), "attempts")), ==, 2);
      json_object_put (outbox);
      outbox = kh_store_history (store, "person", g_hash_table_lookup (ids, "person"), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
      json_object_put (outbox);

      /* Search still finds the old rows; the new columns take values. */
      hits = kh_store_search (store, "nguyen van duc", "person", 10, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (json_object_array_length (hits), ==, 1);
      json_object_put (hits);
      {
        json_object *change = json_tokener_parse ("{\"occupation\": \"Giáo viên\"}");

        g_assert_true (kh_store_update (store, "person", g_hash_table_lookup (ids, "person"), change, &error));
        g_assert_no_error (error);
        json_object_put (change);
      }
      /* Every searchable entity's index holds its old row (nothing left queued), the figures'
       * covering indexes exist, and a rename after the upgrade is indexed at its COMMIT. */
      for (guint e = 0; e < n; e++)
        if (kh_entity_has_search (entities[e]))
          {
            g_autofree char *fts = g_strdup_printf ("%s_fts", entities[e]->name);
            g_autofree char *queue = g_strdup_printf ("%s_fts_queue", entities[e]->name);

            g_assert_cmpint (kh_test_count (store, fts), ==, kh_test_count (store, entities[e]->name));
            g_assert_cmpint (kh_test_count (store, queue), ==, 0);
          }
      g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN "
                                                 "('kh_report_registration', 'kh_report_evaluation', 'kh_report_award_entry')"), ==, 3);
      /* Schema 6: the indexes those lead are gone, and the search index keeps no sizes. */
      g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE name IN "
                                                 "('registration_by_org_unit_id__year__model', 'evaluation_by_registration_id', "
                                                 "'award_entry_by_org_unit_id')"), ==, 0);
      g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE name GLOB '*_fts_docsize'"), ==, 0);
      g_assert_cmpint (kh_test_query_int (store, "SELECT count(*) FROM sqlite_master WHERE name GLOB '*_fts' "
                                                 "AND sql LIKE '%columnsize = 0%'"), >, 0);
      {
        json_object *change = json_tokener_parse ("{\"full_name\": \"Phạm Quốc Việt\"}");

        g_assert_true (kh_store_update (store, "person", g_hash_table_lookup (ids, "person"), change, &error));
        g_assert_no_error (error);
        json_object_put (change);
        hits = kh_store_search (store, "pham quoc viet", "person", 10, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (json_object_array_length (hits), ==, 1);
        json_object_put (hits);
        hits = kh_store_search (store, "nguyen van duc", "person", 10, &error);
        g_assert_cmpuint (json_object_array_length (hits), ==, 0);
        json_object_put (hits);
      }

      /* The untouched sent entry stays; the edit gets its own. */
      g_assert_cmpint (kh_test_count (store, "outbox"), ==, 2);
      {
        sqlite3_stmt *stmt = NULL;

        g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
        g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
        g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "ok");
        sqlite3_finalize (stmt);
      }

      g_clear_object (&store);
      kh_test_rmdir (dir);
    }
}

static void
test_migrate_newer_refused (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "new.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = NULL;
  g_autofree char *pragma = g_strdup_printf ("PRAGMA user_version = %d", KH_SCHEMA_VERSION + 1);
  sqlite3 *db = open_raw (path);

  exec_ok (db, "CREATE TABLE future (x INTEGER)");
  exec_ok (db, pragma);
  sqlite3_close (db);

  store = kh_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_SCHEMA);
  g_assert_nonnull (strstr (error->message, "newer version"));
  g_assert_nonnull (strstr (error->message, "Update the application"));

  db = open_raw (path);
  g_assert_cmpint (kh_schema_get_version (db), ==, KH_SCHEMA_VERSION + 1);
  g_assert_cmpint (sqlite3_exec (db, "SELECT * FROM meta", NULL, NULL, NULL), !=, SQLITE_OK);
  sqlite3_close (db);
  kh_test_rmdir (dir);
}

/* A step that fails leaves the database at its old version, data intact. */
static void
test_migrate_failed_step (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "half.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = NULL;
  sqlite3 *db = open_raw (path);

  /* Stop at version 1, then put a table in the way of version 2's DDL. */
  g_assert_true (kh_schema_migrate (db, 1, &error));
  g_assert_no_error (error);
  exec_ok (db, "INSERT INTO meta (key, value) VALUES ('keep', 'me');");
  exec_ok (db, "CREATE TABLE sync_state (x INTEGER);");
  sqlite3_close (db);

  store = kh_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_DATABASE);
  g_assert_nonnull (strstr (error->message, "upgrade"));

  db = open_raw (path);
  g_assert_cmpint (kh_schema_get_version (db), ==, 1);
  g_assert_cmpint (sqlite3_exec (db, "SELECT value FROM meta WHERE key = 'keep'", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "SELECT * FROM base", NULL, NULL, NULL), !=, SQLITE_OK);
  sqlite3_close (db);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/store/migrate/every-version", test_migrate_every_version);
  g_test_add_func ("/data/store/migrate/newer-refused", test_migrate_newer_refused);
  g_test_add_func ("/data/store/migrate/failed-step", test_migrate_failed_step);
  return g_test_run ();
}
