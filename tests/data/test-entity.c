/* test-entity.c: the entity registry describes every synced entity consistently
 *
 * The schema, validation, the forms, the import and the reports all read the registry, so a
 * mistake in it (a reference to an entity that does not exist, an enumeration value written
 * twice, a title that is not a field) shows up far from where it was made. These tests check
 * the registry itself.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-validate.h"

/* Columns every table has besides its fields (data/kh-schema.c). */
static const char * const common_columns[] = {
  "rid", KH_COLUMN_ID, KH_COLUMN_VERSION, KH_COLUMN_DELETED, "created_at", "updated_at",
  "updated_by", NULL
};

/* Entities shared by every unit, with no scope field. */
static const char * const unscoped[] = { "criteria_set", "criterion", NULL };

static guint
strv_len (const char * const *v)
{
  return v != NULL ? g_strv_length ((char **) v) : 0;
}

/* Every entity has a unique name it is found by, labels, fields, a title field and a scope:
 * its own id for org units, a required reference to an org unit for unit data, none only for
 * the reference data every unit shares. No field takes a common column's name. */
static void
test_entity_entities (void)
{
  guint n;
  const KhEntity * const *entities = kh_entities (&n);
  g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

  g_assert_cmpuint (n, >, 0);
  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      const KhField *scope;

      g_test_message ("%s", entity->name);
      g_assert_nonnull (entity->name);
      g_assert_cmpstr (entity->name, !=, "");
      g_assert_true (g_hash_table_add (names, (gpointer) entity->name));
      g_assert_true (kh_entity_lookup (entity->name) == entity);
      g_assert_true (entity->label != NULL && entity->label[0] != '\0');
      g_assert_true (entity->label_plural != NULL && entity->label_plural[0] != '\0');
      g_assert_cmpuint (entity->n_fields, >, 0);
      g_assert_cmpint (entity->since, >=, 1);
      g_assert_nonnull (kh_entity_get_field (entity, entity->title_field));

      for (guint i = 0; i < entity->n_fields; i++)
        g_assert_false (g_strv_contains (common_columns, entity->fields[i].name));

      if (entity->scope_field == NULL)
        g_assert_true (g_strv_contains (unscoped, entity->name));
      else if (strcmp (entity->scope_field, KH_COLUMN_ID) == 0)
        g_assert_cmpstr (entity->name, ==, "org_unit");
      else
        {
          scope = kh_entity_get_field (entity, entity->scope_field);
          g_assert_nonnull (scope);
          g_assert_cmpint (scope->type, ==, KH_FIELD_REF);
          g_assert_cmpstr (scope->ref_entity, ==, "org_unit");
          /* A link of units is its successor's, an abolition (no successor) its predecessor's. */
          g_assert_true ((scope->flags & KH_FIELD_FLAG_REQUIRED) || strcmp (entity->name, "unit_succession") == 0);
        }
    }
  g_assert_null (kh_entity_lookup ("no_such_entity"));
}

/* Every field has a unique name, a label and a sound description of its type: bounds in order,
 * enumerations with unique values and a label for each, references to entities that exist. */
static void
test_entity_fields (void)
{
  guint n;
  const KhEntity * const *entities = kh_entities (&n);

  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autoptr(GHashTable) names = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *f = &entity->fields[i];

          g_test_message ("%s.%s", entity->name, f->name);
          g_assert_true (f->name != NULL && f->name[0] != '\0');
          g_assert_true (g_hash_table_add (names, (gpointer) f->name));
          g_assert_cmpint (kh_entity_field_index (entity, f->name), ==, (int) i);
          g_assert_true (f->label != NULL && f->label[0] != '\0');
          g_assert_cmpint (f->since, >=, 0);
          g_assert_cmpint (f->max_len, >=, 0);
          g_assert_cmpint (f->min, <=, f->max);

          switch (f->type)
            {
            case KH_FIELD_ENUM:
              {
                g_autoptr(GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);

                g_assert_cmpuint (strv_len (f->enum_values), >, 0);
                g_assert_cmpuint (strv_len (f->enum_values), ==, strv_len (f->enum_labels));
                for (guint k = 0; f->enum_values[k] != NULL; k++)
                  {
                    g_assert_cmpstr (f->enum_values[k], !=, "");
                    g_assert_cmpstr (f->enum_labels[k], !=, "");
                    g_assert_true (g_hash_table_add (values, (gpointer) f->enum_values[k]));
                    /* Values go into the schema's CHECK between quotes. */
                    g_assert_null (strchr (f->enum_values[k], '\''));
                  }
              }
              break;
            case KH_FIELD_REF:
              if (f->ref_entity != NULL)
                {
                  g_assert_nonnull (kh_entity_lookup (f->ref_entity));
                  g_assert_null (f->ref_kind);
                }
              else
                {
                  /* A reference to one of several entities: its kind field names which. */
                  const KhField *kind = kh_entity_get_field (entity, f->ref_kind);

                  g_assert_nonnull (kind);
                  g_assert_cmpint (kind->type, ==, KH_FIELD_ENUM);
                  for (guint k = 0; kind->enum_values[k] != NULL; k++)
                    g_assert_nonnull (kh_entity_lookup (kind->enum_values[k]));
                }
              break;
            case KH_FIELD_TEXT:
            case KH_FIELD_INT:
            case KH_FIELD_MONEY:
            case KH_FIELD_DATE:
            case KH_FIELD_YEAR:
            case KH_FIELD_BOOL:
            case KH_FIELD_JSON:
              g_assert_null (f->enum_values);
              g_assert_null (f->ref_entity);
              g_assert_null (f->ref_kind);
              break;
            default:
              g_assert_not_reached ();
            }
        }
    }
}

/* A field derived from another gets, for every value of that one, a value it accepts. */
static void
test_entity_derived (void)
{
  guint n;
  const KhEntity * const *entities = kh_entities (&n);
  guint derived = 0;

  for (guint e = 0; e < n; e++)
    for (guint i = 0; i < entities[e]->n_fields; i++)
      {
        const KhField *f = &entities[e]->fields[i];
        const KhField *source;

        if (f->derived_from == NULL)
          {
            g_assert_null (f->derive);
            continue;
          }
        derived++;
        source = kh_entity_get_field (entities[e], f->derived_from);
        g_assert_nonnull (source);
        g_assert_nonnull (f->derive);
        g_assert_cmpint (source->type, ==, KH_FIELD_ENUM);
        g_assert_cmpint (f->type, ==, KH_FIELD_ENUM);
        g_assert_null (f->derive (NULL));
        for (guint k = 0; source->enum_values[k] != NULL; k++)
          g_assert_true (g_strv_contains (f->enum_values, f->derive (source->enum_values[k])));
      }
  g_assert_cmpuint (derived, >, 0);

  /* The subject of a registration is found through its kind. */
  {
    const KhField *subject = kh_entity_get_field (kh_entity_lookup ("registration"), "subject_id");
    json_object *r = json_object_new_object ();

    g_assert_null (kh_field_ref_target (subject, r));
    json_object_object_add (r, "subject_kind", json_object_new_string ("household"));
    g_assert_cmpstr (kh_field_ref_target (subject, r), ==, "household");
    json_object_put (r);
  }
}

/* The five learning models are one list, in DOMAIN.md's order, used by every field that names
 * a model; each has a label and a kind of subject that is an entity. */
static void
test_entity_models (void)
{
  static const char * const expected[] = { "citizen", "family", "clan", "community", "unit", NULL };
  static const char * const subjects[] = { "person", "household", "clan", "org_unit", "org_unit" };
  const char * const *models = kh_models ();
  guint n;
  const KhEntity * const *entities = kh_entities (&n);
  guint model_fields = 0;

  g_assert_cmpuint (strv_len (models), ==, KH_N_MODELS);
  for (guint i = 0; i < KH_N_MODELS; i++)
    {
      g_assert_cmpstr (models[i], ==, expected[i]);
      g_assert_cmpstr (kh_model_label (models[i]), !=, models[i]);
      g_assert_cmpstr (kh_model_subject_entity (models[i]), ==, subjects[i]);
      g_assert_nonnull (kh_entity_lookup (kh_model_subject_entity (models[i])));
    }
  g_assert_null (kh_model_subject_entity ("school"));
  g_assert_cmpstr (kh_model_label ("school"), ==, "school");

  for (guint e = 0; e < n; e++)
    {
      const KhField *f = kh_entity_get_field (entities[e], "model");

      if (f == NULL)
        continue;
      model_fields++;
      g_assert_true (f->enum_values == models);
      for (guint i = 0; i < KH_N_MODELS; i++)
        g_assert_cmpstr (kh_field_enum_label (f, models[i]), ==, kh_model_label (models[i]));
    }
  g_assert_cmpuint (model_fields, ==, 3);
}

/* Search and sort: an entity has search exactly when a field is searchable, searchable fields
 * are text, and a field whose folded value is indexed is its entity's text title. Indexes name
 * fields or common columns. */
static void
test_entity_search (void)
{
  guint n;
  const KhEntity * const *entities = kh_entities (&n);
  guint folded = 0;

  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      gboolean any = FALSE;

      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *f = &entity->fields[i];

          if (f->flags & KH_FIELD_FLAG_SEARCH)
            {
              any = TRUE;
              g_assert_cmpint (f->type, ==, KH_FIELD_TEXT);
            }
          if (f->flags & KH_FIELD_FLAG_FOLDED_INDEX)
            {
              folded++;
              g_assert_cmpint (f->type, ==, KH_FIELD_TEXT);
              g_assert_cmpstr (f->name, ==, entity->title_field);
              g_assert_cmpint (f->since, <=, 1);
            }
        }
      g_assert_cmpint (kh_entity_has_search (entity), ==, any);

      for (guint i = 0; entity->indexes != NULL && entity->indexes[i] != NULL; i++)
        {
          g_auto(GStrv) columns = g_strsplit (entity->indexes[i], ", ", -1);

          for (guint c = 0; columns[c] != NULL; c++)
            g_assert_true (kh_entity_get_field (entity, columns[c]) != NULL
                           || g_strv_contains (common_columns, columns[c]));
        }
    }
  g_assert_cmpuint (folded, ==, 9);
}

/* Spreadsheet headers and value texts are non-empty, and a value text names a value of its
 * field; the title headers are one shared list. */
static void
test_entity_headers (void)
{
  guint n;
  const KhEntity * const *entities = kh_entities (&n);

  g_assert_cmpuint (strv_len (kh_title_headers ()), >, 0);
  for (guint e = 0; e < n; e++)
    for (guint i = 0; i < entities[e]->n_fields; i++)
      {
        const KhField *f = &entities[e]->fields[i];

        for (guint k = 0; f->headers != NULL && f->headers[k] != NULL; k++)
          g_assert_cmpstr (f->headers[k], !=, "");
        if (f->value_texts == NULL)
          continue;
        g_assert_cmpint (f->type, ==, KH_FIELD_ENUM);
        g_assert_cmpuint (strv_len (f->value_texts) % 2, ==, 0);
        /* Texts may name values of other fields with the same name (a list's status and an
         * entry's); at least one must be this field's. */
        {
          gboolean mine = FALSE;

          for (guint k = 0; f->value_texts[k] != NULL; k += 2)
            {
              g_assert_cmpstr (f->value_texts[k + 1], !=, "");
              mine |= g_strv_contains (f->enum_values, f->value_texts[k]);
            }
          g_assert_true (mine);
        }
      }
}

/* A validation error names the field it is about beside its message, and keeps it when copied;
 * an error about the record as a whole names none. */
static void
test_entity_error_field (void)
{
  const KhEntity *consent = kh_entity_lookup ("consent");
  const KhField *purpose = kh_entity_get_field (consent, "purpose");
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) copy = NULL;
  g_autofree char *long_text = g_strnfill (400, 'a');
  json_object *value = json_object_new_string (long_text);
  json_object *record;

  g_assert_false (kh_field_validate (purpose, value, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "purpose");
  copy = g_error_copy (error);
  g_assert_cmpstr (kh_data_error_get_field (copy), ==, "purpose");
  g_clear_error (&error);
  json_object_put (value);

  /* A check across fields: consent given by a guardian needs the guardian's person record. */
  record = json_object_new_object ();
  json_object_object_add (record, "person_id", json_object_new_string ("0190a5f2-7c1e-7a3b-8f00-123456789012"));
  json_object_object_add (record, "org_unit_id", json_object_new_string ("0190a5f2-7c1e-7a3b-8f00-123456789013"));
  json_object_object_add (record, "person_name", json_object_new_string ("Lê Văn Anh"));
  json_object_object_add (record, "given_by", json_object_new_string ("guardian"));
  json_object_object_add (record, "purpose", json_object_new_string ("Học bổng"));
  json_object_object_add (record, "given_on", json_object_new_string ("2024-09-05"));
  g_assert_false (kh_entity_validate (consent, record, TRUE, &error));
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "guardian_id");
  g_clear_error (&error);

  /* Not a set of values at all: about no one field. */
  g_assert_false (kh_entity_validate (consent, NULL, TRUE, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_null (kh_data_error_get_field (error));
  g_clear_error (&error);
  json_object_put (record);

  /* Another domain's error has no field. */
  error = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_FAILED, "x");
  g_assert_null (kh_data_error_get_field (error));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/entity/entities", test_entity_entities);
  g_test_add_func ("/data/entity/fields", test_entity_fields);
  g_test_add_func ("/data/entity/derived", test_entity_derived);
  g_test_add_func ("/data/entity/models", test_entity_models);
  g_test_add_func ("/data/entity/search", test_entity_search);
  g_test_add_func ("/data/entity/headers", test_entity_headers);
  g_test_add_func ("/data/entity/error-field", test_entity_error_field);
  return g_test_run ();
}
