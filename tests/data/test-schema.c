/* test-schema.c: the tables made from the registry match the registry
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-entity.h"
#include "kh-schema.h"
#include "kh-sqlite.h"

static sqlite3 *
open_fresh (void)
{
  sqlite3 *db = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (sqlite3_open (":memory:", &db), ==, SQLITE_OK);
  g_assert_true (kh_sqlite_register_functions (db, &error));
  g_assert_no_error (error);
  g_assert_true (kh_schema_migrate (db, KH_SCHEMA_VERSION, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kh_schema_get_version (db), ==, KH_SCHEMA_VERSION);
  return db;
}

static char *
query_text (sqlite3    *db,
            const char *sql,
            const char *param)
{
  sqlite3_stmt *stmt = NULL;
  char *text = NULL;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (param != NULL)
    sqlite3_bind_text (stmt, 1, param, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  return text;
}

/* The CHECK the schema must hold for @f, as it appears in the table's SQL. */
static char *
expected_check (const KhField *f)
{
  switch (f->type)
    {
    case KH_FIELD_TEXT:
      return g_strdup_printf ("CHECK (length(%s) <= %d)", f->name,
                              f->max_len > 0 ? f->max_len : KH_TEXT_DEFAULT_MAX);
    case KH_FIELD_ENUM:
      {
        GString *s = g_string_new ("CHECK (");

        for (guint i = 0; f->enum_values[i] != NULL; i++)
          g_string_append_printf (s, "%s%s = '%s'", i ? " OR " : "", f->name, f->enum_values[i]);
        g_string_append (s, ")");
        return g_string_free (s, FALSE);
      }
    case KH_FIELD_REF:
      return g_strdup_printf ("CHECK (length(%s) = 36)", f->name);
    case KH_FIELD_DATE:
      return g_strdup_printf ("CHECK (%s GLOB", f->name);
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      return g_strdup_printf ("CHECK (%s BETWEEN %" G_GINT64_FORMAT " AND %" G_GINT64_FORMAT ")",
                              f->name, f->min, f->max);
    case KH_FIELD_BOOL:
      return g_strdup_printf ("CHECK (%s IN (0, 1))", f->name);
    case KH_FIELD_JSON:
      return g_strdup_printf ("CHECK (%s IS NULL OR json_valid(%s))", f->name, f->name);
    default:
      g_assert_not_reached ();
    }
}

/* Every entity has a STRICT table with a column per field, of the field's storage type, NOT
 * NULL when the field is required (and was in the first version), with the field's CHECK. */
static void
test_schema_columns (void)
{
  sqlite3 *db = open_fresh ();
  guint n;
  const KhEntity * const *entities = kh_entities (&n);

  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *sql = query_text (db, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?",
                                         entity->name);
      g_autofree char *info = g_strdup_printf ("SELECT type, \"notnull\" FROM pragma_table_info('%s') WHERE name = ?",
                                               entity->name);

      g_test_message ("%s", entity->name);
      g_assert_nonnull (sql);
      g_assert_nonnull (strstr (sql, "STRICT"));
      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *f = &entity->fields[i];
          g_autofree char *check = expected_check (f);
          sqlite3_stmt *stmt = NULL;
          gboolean integer = f->type == KH_FIELD_INT || f->type == KH_FIELD_YEAR
                             || f->type == KH_FIELD_MONEY || f->type == KH_FIELD_BOOL;

          g_test_message ("%s.%s", entity->name, f->name);
          g_assert_nonnull (strstr (sql, check));
          g_assert_cmpint (sqlite3_prepare_v2 (db, info, -1, &stmt, NULL), ==, SQLITE_OK);
          sqlite3_bind_text (stmt, 1, f->name, -1, SQLITE_STATIC);
          g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
          g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, integer ? "INTEGER" : "TEXT");
          if (f->since <= 1)
            g_assert_cmpint (sqlite3_column_int (stmt, 1), ==, (f->flags & KH_FIELD_FLAG_REQUIRED) != 0);
          sqlite3_finalize (stmt);
        }
    }
  sqlite3_close (db);
}

static gboolean
index_exists (sqlite3    *db,
              const char *name)
{
  g_autofree char *found = query_text (db, "SELECT name FROM sqlite_master WHERE type = 'index' AND name = ?",
                                       name);

  return found != NULL;
}

/* The details of SQLite's plan for @sql, one line each. */
static char *
query_plan (sqlite3    *db,
            const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  GString *plan = g_string_new (NULL);

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (plan, "%s\n", (const char *) sqlite3_column_text (stmt, 3));
  sqlite3_finalize (stmt);
  return g_string_free (plan, FALSE);
}

/* The registry's indexes exist, every entity with searchable fields has its search table, and
 * each name whose folded value is indexed sorts through that index, with the expression the
 * lists sort by. */
static void
test_schema_indexes (void)
{
  sqlite3 *db = open_fresh ();
  guint n;
  const KhEntity * const *entities = kh_entities (&n);

  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autofree char *fts = g_strdup_printf ("%s_fts", entity->name);
      g_autofree char *has_fts = query_text (db, "SELECT name FROM sqlite_master WHERE name = ?", fts);

      g_test_message ("%s", entity->name);
      g_assert_cmpint (has_fts != NULL, ==, kh_entity_has_search (entity));
      for (guint i = 0; entity->indexes != NULL && entity->indexes[i] != NULL; i++)
        {
          g_autofree char *suffix = g_strdelimit (g_strdup (entity->indexes[i]), ", ", '_');
          g_autofree char *name = g_strdup_printf ("%s_by_%s", entity->name, suffix);

          g_assert_true (index_exists (db, name));
        }
      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *f = &entity->fields[i];
          g_autofree char *name = NULL;
          g_autofree char *plan_sql = NULL;
          g_autofree char *plan = NULL;

          if (!(f->flags & KH_FIELD_FLAG_FOLDED_INDEX))
            continue;
          /* A person's name sorts by its Vietnamese key; other names by their folded text. */
          name = g_strdup_printf ((f->flags & KH_FIELD_FLAG_PERSON_NAME) ? "%s_by_name_%s" : "%s_by_folded_%s",
                                  entity->name, f->name);
          g_assert_true (index_exists (db, name));
          plan_sql = g_strdup_printf ("EXPLAIN QUERY PLAN SELECT id FROM %s WHERE deleted = 0 "
                                      "ORDER BY %s(coalesce(%s, ''))", entity->name,
                                      (f->flags & KH_FIELD_FLAG_PERSON_NAME) ? "kh_name_key" : "kh_fold",
                                      f->name);
          plan = query_plan (db, plan_sql);
          g_test_message ("%s", plan);
          g_assert_nonnull (strstr (plan, name));
          g_assert_null (strstr (plan, "TEMP B-TREE"));
        }
    }
  sqlite3_close (db);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/schema/columns", test_schema_columns);
  g_test_add_func ("/data/schema/indexes", test_schema_indexes);
  return g_test_run ();
}
