/* kh-test-store.c: a throwaway store, valid records and row counts, for every suite's tests
 *
 * Valid records are built from the registry, so a new entity or field is covered by the
 * registry-driven tests without editing them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-evaluate.h"
#include "kh-test-store.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-store-sql.h"
#include "kh-uuid.h"

KhStore *
kh_test_open_store (const char *dir,
                    const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);
  KhStore *store = kh_store_open (path, &error);

  g_assert_no_error (error);
  g_assert_nonnull (store);
  kh_store_set_actor (store, "tester");
  return store;
}

/* A value every field of its type accepts: within bounds, of the right form, consistent
 * with the other fields' values (the year 2020 matches the dates). */
json_object *
kh_test_field_value (const KhField *field)
{
  switch (field->type)
    {
    case KH_FIELD_TEXT:
      {
        int max_len = field->max_len > 0 ? field->max_len : KH_TEXT_DEFAULT_MAX;

        if (field->flags & KH_FIELD_FLAG_SCHOOL_YEAR)
          return json_object_new_string ("2020-2021");
        /* An attachment's hash (kh-entity.c checks its form): the SHA-256 of nothing. */
        if (field->flags & KH_FIELD_FLAG_SHA256)
          return json_object_new_string ("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        if (field->flags & KH_FIELD_FLAG_DIGITS)
          return json_object_new_string_len ("0905123456", MIN (max_len, 10));
        return json_object_new_string (max_len >= 14 ? "Nguyễn Văn Đức" : "Đức");
      }
    case KH_FIELD_INT:
    case KH_FIELD_MONEY:
      return json_object_new_int64 (field->min + (field->max - field->min) / 2 + 1);
    case KH_FIELD_YEAR:
      return json_object_new_int64 (CLAMP (2020, field->min, field->max));
    case KH_FIELD_DATE:
      return json_object_new_string ("2020-05-17");
    case KH_FIELD_BOOL:
      return json_object_new_boolean (TRUE);
    case KH_FIELD_ENUM:
      return json_object_new_string (field->enum_values[0]);
    case KH_FIELD_REF:
      {
        g_autofree char *id = kh_uuid_v7_new ();

        return json_object_new_string (id);
      }
    case KH_FIELD_JSON:
      return json_tokener_parse ("{\"1\": 30, \"2\": 25}");
    default:
      g_assert_not_reached ();
    }
}

static const char *
ref_entity_of (const KhField *field,
               json_object   *record)
{
  const char *target = kh_field_ref_target (field, record);

  /* A reference to one of several kinds names its kind field (set before the references). */
  g_assert_nonnull (target);
  return target;
}

/* The id of a live record of @entity_name in @store, made once per store. */
static const char *
existing (KhStore    *store,
          const char *entity_name)
{
  GHashTable *made = g_object_get_data (G_OBJECT (store), "kh-test-made");
  const char *id;
  g_autoptr(GError) error = NULL;
  json_object *record;
  char *new_id;

  if (made == NULL)
    {
      made = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_object_set_data_full (G_OBJECT (store), "kh-test-made", made,
                              (GDestroyNotify) g_hash_table_unref);
    }
  id = g_hash_table_lookup (made, entity_name);
  if (id != NULL)
    {
      json_object *r = kh_store_get (store, entity_name, id, NULL);
      gboolean live = r != NULL && !json_object_get_boolean (json_object_object_get (r, "deleted"));

      json_object_put (r);
      if (live)
        return id;
    }
  record = kh_test_valid_record (kh_entity_lookup (entity_name), store, FALSE);
  new_id = kh_store_create (store, entity_name, record, &error);
  g_assert_no_error (error);
  json_object_put (record);
  g_hash_table_replace (made, g_strdup (entity_name), new_id);
  return new_id;
}

/* A record of @entity that validation accepts: the required fields, or every field when
 * @all_fields. With a @store its references point at live records there (made as needed);
 * without, at fresh ids. */
/* Fields that are not required on their own but that a check across fields needs with the
 * first enumeration values (a merge needs the succeeding unit, a cash donation an amount). */
static gboolean
needed (const KhEntity *entity,
        const KhField  *field)
{
  static const char * const pairs[][2] = {
    { "unit_succession", "successor_id" },
    { "donation", "amount" },
  };

  if (field->flags & KH_FIELD_FLAG_REQUIRED)
    return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    if (strcmp (entity->name, pairs[i][0]) == 0 && strcmp (field->name, pairs[i][1]) == 0)
      return TRUE;
  return FALSE;
}

json_object *
kh_test_valid_record (const KhEntity *entity,
                      KhStore        *store,
                      gboolean        all_fields)
{
  json_object *record = json_object_new_object ();

  g_assert_nonnull (entity);
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];

      if (!all_fields && !needed (entity, f))
        continue;
      if (f->type == KH_FIELD_REF)
        continue;
      json_object_object_add (record, f->name, kh_test_field_value (f));
    }
  /* References after the rest, since a reference's target may depend on a "…_kind" field. */
  for (guint i = 0; i < entity->n_fields; i++)
    {
      const KhField *f = &entity->fields[i];

      if (f->type != KH_FIELD_REF || (!all_fields && !needed (entity, f)))
        continue;
      if (store != NULL)
        {
          const char *target = ref_entity_of (f, record);
          const char *id = existing (store, target);
          gboolean used = FALSE;

          /* Two references to the same kind of record (a unit change's former and succeeding
           * unit) get two records. */
          for (guint k = 0; k < entity->n_fields; k++)
            {
              json_object *val = json_object_object_get (record, entity->fields[k].name);

              if (entity->fields[k].type == KH_FIELD_REF && val != NULL
                  && strcmp (json_object_get_string (val), id) == 0)
                used = TRUE;
            }
          /* A subject is registered once for a model and year (kh-registration.c): each
           * registration made here gets a subject of its own. */
          if (strcmp (entity->name, "registration") == 0 && strcmp (f->name, "subject_id") == 0)
            used = TRUE;
          if (used)
            {
              g_autoptr(GError) error = NULL;
              json_object *other = kh_test_valid_record (kh_entity_lookup (target), store, FALSE);
              g_autofree char *other_id = kh_store_create (store, target, other, &error);

              g_assert_no_error (error);
              json_object_put (other);
              json_object_object_add (record, f->name, json_object_new_string (other_id));
            }
          else
            json_object_object_add (record, f->name, json_object_new_string (id));
        }
      else
        json_object_object_add (record, f->name, kh_test_field_value (f));
    }
  /* A payment of nothing: a fund with nothing received must not be overdrawn (kh-ledger.c). */
  if (strcmp (entity->name, "disbursement") == 0)
    json_object_object_add (record, "amount", json_object_new_int64 (0));
  /* A unit under another is of a kind that fits under any (kh_unit_kind_validate()). */
  if (strcmp (entity->name, "org_unit") == 0 && json_object_object_get_ex (record, "parent_id", NULL))
    json_object_object_add (record, "kind", json_object_new_string ("school"));
  /* An evaluation's scores name its set's criteria, and its total and result are the set's
   * (kh_evaluation_judge()): the set gets the criteria the scores name. */
  if (strcmp (entity->name, "evaluation") == 0 && store != NULL
      && json_object_object_get_ex (record, "criteria_set_id", NULL))
    {
      const char *set = json_object_get_string (json_object_object_get (record, "criteria_set_id"));
      json_object *scores = json_object_object_get (record, "scores");
      int total = 0;

      json_object_object_foreach (scores, code, points)
        {
          g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM criterion WHERE criteria_set_id = '%s' "
                                                  "AND code = '%s'", set, code);

          total += json_object_get_int (points);
          if (kh_test_query_int (store, sql) == 0)
            {
              g_autoptr(GError) error = NULL;
              json_object *c = json_object_new_object ();

              json_object_object_add (c, "criteria_set_id", json_object_new_string (set));
              json_object_object_add (c, "code", json_object_new_string (code));
              json_object_object_add (c, "title", json_object_new_string (code));
              json_object_object_add (c, "max_points", json_object_new_int (json_object_get_int (points)));
              g_free (kh_store_create (store, "criterion", c, &error));
              g_assert_no_error (error);
              json_object_put (c);
            }
        }
      {
        json_object *set_record = kh_store_get (store, "criteria_set", set, NULL);
        json_object *criteria = kh_criteria_list (store, set, NULL);

        json_object_object_add (record, "total", json_object_new_int (total));
        json_object_object_add (record, "result",
                                json_object_new_string (kh_evaluate_result (set_record, criteria, scores, NULL)));
        json_object_put (set_record);
        json_object_put (criteria);
      }
    }
  return record;
}

gint64
kh_test_query_int (KhStore    *store,
                   const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

gint64
kh_test_count (KhStore    *store,
               const char *table)
{
  g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM %s", table);

  return kh_test_query_int (store, sql);
}

/* Asserts the number of rows of @entity's table, and of outbox and audit rows about it. */
void
kh_test_assert_counts (KhStore    *store,
                       const char *entity,
                       gint64      records,
                       gint64      outbox,
                       gint64      audit)
{
  g_autofree char *o = g_strdup_printf ("SELECT count(*) FROM outbox WHERE entity = '%s'", entity);
  g_autofree char *a = g_strdup_printf ("SELECT count(*) FROM audit WHERE entity = '%s'", entity);

  g_assert_cmpint (kh_test_count (store, entity), ==, records);
  g_assert_cmpint (kh_test_query_int (store, o), ==, outbox);
  g_assert_cmpint (kh_test_query_int (store, a), ==, audit);
}

char *
kh_test_create (KhStore    *store,
                const char *entity,
                const char *json)
{
  g_autoptr(GError) error = NULL;
  json_object *values = json_tokener_parse (json);
  char *id;

  g_assert_nonnull (values);
  id = kh_store_create (store, entity, values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  return id;
}
