/* test-validate.c: every entity's validation, driven from the registry
 *
 * For each entity a record with every field is accepted and stored; then each field is given
 * each kind of bad value (missing when required, out of range, not in the list, an impossible
 * date, too long, invalid UTF-8, control characters, the wrong type) and both validation and
 * the store must refuse it with a message that starts with the field's label, writing nothing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-store-sql.h"
#include "kh-uuid.h"
#include "kh-validate.h"
#include "kh-test-store.h"

typedef struct
{
  char        *what;
  json_object *value;   /* NULL: the field is left out */
  gboolean     remove;
} Bad;

static void
bad_free (gpointer data)
{
  Bad *b = data;

  g_free (b->what);
  json_object_put (b->value);
  g_free (b);
}

static void
add_bad (GPtrArray   *bads,
         const char  *what,
         json_object *value)
{
  Bad *b = g_new0 (Bad, 1);

  b->what = g_strdup (what);
  b->value = value;
  g_ptr_array_add (bads, b);
}

static char *
repeat (const char *s,
        int         n)
{
  GString *out = g_string_new (NULL);

  for (int i = 0; i < n; i++)
    g_string_append (out, s);
  return g_string_free (out, FALSE);
}

/* Every bad value a field of this type must refuse. */
static GPtrArray *
bad_values (const KhField *f)
{
  GPtrArray *bads = g_ptr_array_new_with_free_func (bad_free);

  if (f->flags & KH_FIELD_FLAG_REQUIRED)
    {
      Bad *b = g_new0 (Bad, 1);

      b->what = g_strdup ("missing");
      b->remove = TRUE;
      g_ptr_array_add (bads, b);
      add_bad (bads, "null", NULL);
    }

  switch (f->type)
    {
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
      add_bad (bads, "below the minimum", json_object_new_int64 (f->min - 1));
      add_bad (bads, "above the maximum", json_object_new_int64 (f->max + 1));
      add_bad (bads, "text", json_object_new_string ("5"));
      add_bad (bads, "a fraction", json_object_new_double (1.5));
      break;

    case KH_FIELD_TEXT:
      {
        int max_len = f->max_len > 0 ? f->max_len : KH_TEXT_DEFAULT_MAX;
        g_autofree char *too_long = repeat ("ệ", max_len + 1);

        add_bad (bads, "over-long text", json_object_new_string (too_long));
        add_bad (bads, "invalid UTF-8", json_object_new_string_len ("ab\xff\xfe", 4));
        add_bad (bads, "overlong UTF-8 encoding", json_object_new_string_len ("a\xc0\xaf", 3));
        add_bad (bads, "a control character", json_object_new_string ("a\x01" "b"));
        add_bad (bads, "an escape character", json_object_new_string ("a\x1b[31m"));
        add_bad (bads, "an embedded NUL", json_object_new_string_len ("a\0b", 3));
        add_bad (bads, "a number", json_object_new_int (5));
        add_bad (bads, "empty text", json_object_new_string (""));
        if (f->flags & KH_FIELD_FLAG_DIGITS)
          add_bad (bads, "letters in digits", json_object_new_string ("09a"));
        if (f->flags & KH_FIELD_FLAG_SHA256)
          add_bad (bads, "a hash in capitals", json_object_new_string ("E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"));
        if (f->flags & KH_FIELD_FLAG_SCHOOL_YEAR)
          add_bad (bads, "a school year of two years", json_object_new_string ("2024-2026"));
      }
      break;

    case KH_FIELD_ENUM:
      add_bad (bads, "a value not in the list", json_object_new_string ("bogus"));
      add_bad (bads, "a label instead of the value", json_object_new_string (f->enum_labels[0]));
      add_bad (bads, "a number", json_object_new_int (0));
      break;

    case KH_FIELD_DATE:
      add_bad (bads, "31 February", json_object_new_string ("2021-02-31"));
      add_bad (bads, "29 February of a common year", json_object_new_string ("2023-02-29"));
      add_bad (bads, "month 13", json_object_new_string ("2021-13-01"));
      add_bad (bads, "a date not in ISO form", json_object_new_string ("03/06/2022"));
      add_bad (bads, "31/02 typed", json_object_new_string ("31/02/2021"));
      add_bad (bads, "digits missing", json_object_new_string ("2021-2-3"));
      add_bad (bads, "a time after the date", json_object_new_string ("2021-02-03T10:00"));
      add_bad (bads, "a sign in the month", json_object_new_string ("2021-+2-03"));
      add_bad (bads, "a space in the day", json_object_new_string ("2021-02- 3"));
      add_bad (bads, "day 0", json_object_new_string ("2021-06-00"));
      add_bad (bads, "month 0", json_object_new_string ("2021-00-10"));
      add_bad (bads, "year 0", json_object_new_string ("0000-06-10"));
      break;

    case KH_FIELD_REF:
      add_bad (bads, "not an id", json_object_new_string ("not-a-uuid"));
      add_bad (bads, "an id in capitals", json_object_new_string ("0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B"));
      add_bad (bads, "a number", json_object_new_int (12));
      break;

    case KH_FIELD_BOOL:
      add_bad (bads, "text", json_object_new_string ("yes"));
      add_bad (bads, "a number", json_object_new_int (1));
      break;

    case KH_FIELD_JSON:
      add_bad (bads, "text", json_object_new_string ("{}"));
      add_bad (bads, "an array", json_tokener_parse ("[1, 2]"));
      break;

    default:
      g_assert_not_reached ();
    }
  return bads;
}

static json_object *
copy (json_object *o)
{
  json_object *c = NULL;

  g_assert_cmpint (json_object_deep_copy (o, &c, NULL), ==, 0);
  return c;
}

static void
assert_names_field (GError        *error,
                    const KhEntity *entity,
                    const KhField *f,
                    const char    *what)
{
  g_autofree char *prefix = g_strdup_printf ("%s: ", _(f->label));

  if (error == NULL)
    g_error ("%s.%s: %s was accepted", entity->name, f->name, what);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  if (!g_str_has_prefix (error->message, prefix))
    g_error ("%s.%s (%s): the message “%s” does not name the field", entity->name, f->name,
             what, error->message);
}

static gint64
total_rows (KhStore    *store,
            const char *entity)
{
  return kh_test_count (store, entity) + kh_test_count (store, "outbox")
         + kh_test_count (store, "audit");
}

/* Each entity: a record with every field is valid and stored as given; every bad value of every
 * field is refused by validation and by the store, which writes nothing. */
static void
test_validate_registry (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "v.db");
  const KhEntity * const *entities;
  guint n;
  guint checked = 0;

  entities = kh_entities (&n);
  g_assert_cmpuint (n, >=, 19);
  for (guint e = 0; e < n; e++)
    {
      const KhEntity *entity = entities[e];
      g_autoptr(GError) error = NULL;
      json_object *full = kh_test_valid_record (entity, NULL, TRUE);
      json_object *minimal = kh_test_valid_record (entity, NULL, FALSE);
      json_object *stored_full = kh_test_valid_record (entity, store, TRUE);
      g_autofree char *id = NULL;
      json_object *back;
      json_object *unknown;

      g_test_message ("entity %s", entity->name);
      g_assert_true (kh_entity_validate (entity, full, TRUE, &error));
      g_assert_no_error (error);
      g_assert_true (kh_entity_validate (entity, minimal, TRUE, &error));
      g_assert_no_error (error);

      /* The good record is stored exactly as given. */
      id = kh_store_create (store, entity->name, stored_full, &error);
      g_assert_no_error (error);
      back = kh_store_get (store, entity->name, id, &error);
      g_assert_no_error (error);
      json_object_object_foreach (stored_full, key, val)
        {
          json_object *got = json_object_object_get (back, key);

          g_assert_nonnull (got);
          g_assert_cmpstr (json_object_to_json_string_ext (got, JSON_C_TO_STRING_PLAIN), ==,
                           json_object_to_json_string_ext (val, JSON_C_TO_STRING_PLAIN));
        }
      json_object_put (back);

      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *f = &entity->fields[i];
          g_autoptr(GPtrArray) bads = bad_values (f);

          /* The longest text allowed is allowed, counted in characters, not bytes. */
          if (f->type == KH_FIELD_TEXT && !(f->flags & (KH_FIELD_FLAG_DIGITS | KH_FIELD_FLAG_SCHOOL_YEAR | KH_FIELD_FLAG_SHA256)))
            {
              g_autofree char *longest = repeat ("ệ", f->max_len > 0 ? f->max_len : KH_TEXT_DEFAULT_MAX);
              json_object *r = copy (full);

              json_object_object_add (r, f->name, json_object_new_string (longest));
              g_assert_true (kh_entity_validate (entity, r, TRUE, &error));
              g_assert_no_error (error);
              json_object_put (r);
            }

          for (guint b = 0; b < bads->len; b++)
            {
              Bad *bad = bads->pdata[b];
              json_object *r = copy (full);
              json_object *sr = copy (stored_full);
              json_object *change = json_object_new_object ();
              gint64 before = total_rows (store, entity->name);
              g_autofree char *bad_id = NULL;
              json_object *still;

              if (bad->remove)
                {
                  json_object_object_del (r, f->name);
                  json_object_object_del (sr, f->name);
                }
              else
                {
                  json_object_object_add (r, f->name, bad->value ? json_object_get (bad->value) : NULL);
                  json_object_object_add (sr, f->name, bad->value ? json_object_get (bad->value) : NULL);
                  json_object_object_add (change, f->name, bad->value ? json_object_get (bad->value) : NULL);
                }

              g_assert_false (kh_entity_validate (entity, r, TRUE, &error));
              assert_names_field (error, entity, f, bad->what);
              g_clear_error (&error);

              /* An evaluation's missing result is computed from its set by the store. */
              if ((bad->remove || bad->value == NULL) && strcmp (entity->name, "evaluation") == 0
                  && strcmp (f->name, "result") == 0)
                {
                  json_object_put (r);
                  json_object_put (sr);
                  json_object_put (change);
                  checked++;
                  continue;
                }
              bad_id = kh_store_create (store, entity->name, sr, &error);
              g_assert_null (bad_id);
              assert_names_field (error, entity, f, bad->what);
              g_clear_error (&error);
              g_assert_cmpint (total_rows (store, entity->name), ==, before);

              /* The same value as an edit of the stored record is refused too. */
              if (!bad->remove)
                {
                  g_assert_false (kh_store_update (store, entity->name, id, change, &error));
                  assert_names_field (error, entity, f, bad->what);
                  g_clear_error (&error);
                  g_assert_cmpint (total_rows (store, entity->name), ==, before);
                  still = kh_store_get (store, entity->name, id, NULL);
                  g_assert_cmpstr (json_object_to_json_string_ext (json_object_object_get (still, f->name), JSON_C_TO_STRING_PLAIN), ==,
                                   json_object_to_json_string_ext (json_object_object_get (stored_full, f->name), JSON_C_TO_STRING_PLAIN));
                  json_object_put (still);
                }
              checked++;
              json_object_put (r);
              json_object_put (sr);
              json_object_put (change);
            }
        }

      /* A field the entity does not have is refused by name, not dropped. */
      unknown = copy (stored_full);
      json_object_object_add (unknown, "bogus_field", json_object_new_string ("x"));
      {
        gint64 before = total_rows (store, entity->name);
        g_autofree char *bad_id = kh_store_create (store, entity->name, unknown, &error);

        g_assert_null (bad_id);
        g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD);
        g_assert_nonnull (strstr (error->message, "bogus_field"));
        g_clear_error (&error);
        g_assert_cmpint (total_rows (store, entity->name), ==, before);
      }
      json_object_put (unknown);

      json_object_put (full);
      json_object_put (minimal);
      json_object_put (stored_full);
    }
  g_test_message ("%u bad values refused", checked);
  g_assert_cmpuint (checked, >, 500);

  /* Leap days: every fourth year, not every hundredth, every four hundredth. */
  for (guint e = 0; e < n; e++)
    for (guint i = 0; i < entities[e]->n_fields; i++)
      if (entities[e]->fields[i].type == KH_FIELD_DATE)
        {
          const KhField *f = &entities[e]->fields[i];
          static const struct { const char *date; gboolean real; } days[] = {
            { "2024-02-29", TRUE }, { "2000-02-29", TRUE }, { "1900-02-29", FALSE },
            { "2023-12-31", TRUE }, { "2023-04-31", FALSE }, { "9999-12-31", TRUE },
          };

          for (guint d = 0; d < G_N_ELEMENTS (days); d++)
            {
              json_object *value = json_object_new_string (days[d].date);

              g_assert_cmpint (kh_field_validate (f, value, NULL), ==, days[d].real);
              json_object_put (value);
            }
        }
  store = (g_object_unref (store), NULL);
  kh_test_rmdir (dir);
}

/* A field name that is not valid UTF-8 is refused. */
static void
test_validate_bad_key (void)
{
  const KhEntity *entity = kh_entity_lookup ("person");
  json_object *r = kh_test_valid_record (entity, NULL, FALSE);
  g_autoptr(GError) error = NULL;

  json_object_object_add (r, "na\xffme", json_object_new_string ("x"));
  g_assert_false (kh_entity_validate (entity, r, TRUE, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD);
  json_object_put (r);

  g_clear_error (&error);
  g_assert_false (kh_entity_validate (entity, NULL, TRUE, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
}

/* The order of a record's fields changes nothing: in the registry's order, in reverse, and
 * with a field left out, the same values pass and the same faults are found. */
static void
test_validate_any_order (void)
{
  const KhEntity *entity = kh_entity_lookup ("org_unit");
  const char *forward = "{\"code\": \"22435\", \"name\": \"Xã Vĩnh Lương\", \"kind\": \"commune\", "
                        "\"population\": 5400, \"address\": \"Thôn 1\"}";
  const char *reverse = "{\"address\": \"Thôn 1\", \"population\": 5400, \"kind\": \"commune\", "
                        "\"name\": \"Xã Vĩnh Lương\", \"code\": \"22435\"}";
  const char *bad_reverse = "{\"address\": \"Thôn 1\", \"population\": -5, \"kind\": \"commune\", "
                            "\"name\": \"Xã Vĩnh Lương\", \"code\": \"22435\"}";
  const char *no_name_reverse = "{\"kind\": \"commune\", \"code\": \"22435\"}";
  const char *unknown_last = "{\"code\": \"22435\", \"name\": \"Xã Vĩnh Lương\", \"kind\": \"commune\", "
                             "\"colour\": \"green\"}";
  const char *texts[] = { forward, reverse, bad_reverse, no_name_reverse, unknown_last };
  const gboolean valid_complete[] = { TRUE, TRUE, FALSE, FALSE, FALSE };
  const gboolean valid_partial[] = { TRUE, TRUE, FALSE, TRUE, FALSE };

  for (guint i = 0; i < G_N_ELEMENTS (texts); i++)
    {
      json_object *r = json_tokener_parse (texts[i]);
      g_autoptr(GError) complete_error = NULL;
      g_autoptr(GError) partial_error = NULL;

      g_assert_nonnull (r);
      g_assert_cmpint (kh_entity_validate (entity, r, TRUE, &complete_error), ==, valid_complete[i]);
      g_assert_cmpint (kh_entity_validate (entity, r, FALSE, &partial_error), ==, valid_partial[i]);
      json_object_put (r);
    }
}

/* What people type: dd/mm/yyyy dates, money with grouping dots, yes/no. */
static void
test_validate_parse (void)
{
  const KhEntity *person = kh_entity_lookup ("person");
  const KhEntity *entry = kh_entity_lookup ("award_entry");
  const KhEntity *household = kh_entity_lookup ("household");
  static const struct { const char *in, *out; } dates[] = {
    { "03/06/2022", "2022-06-03" }, { "3/6/2022", "2022-06-03" }, { "2022-06-03", "2022-06-03" },
    { "29/02/2024", "2024-02-29" }, { " 03.06.2022 ", "2022-06-03" },
  };
  static const char *bad_dates[] = {
    "31/02/2021", "29/02/2023", "32/01/2020", "00/01/2020", "03/06/22", "03/06-2022", "2022-6-3x",
    "hôm nay", "03/06/2022 10:00",
  };
  static const struct { const char *in; gint64 out; } money[] = {
    { "1.250.000", 1250000 }, { "1 250 000 ₫", 1250000 }, { "1250000", 1250000 },
    { "1.250.000đ", 1250000 }, { "2,000,000", 2000000 },
  };
  static const char *bad_money[] = { "1,5", "12.5 triệu", "abc", "-", "1e6" };
  const KhField *birth = kh_entity_get_field (person, "birth_date");
  const KhField *amount = kh_entity_get_field (entry, "amount");
  const KhField *poor = kh_entity_get_field (household, "poor");
  const KhField *name = kh_entity_get_field (person, "full_name");
  json_object *v = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (dates); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (kh_field_parse (birth, dates[i].in, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (json_object_get_string (v), ==, dates[i].out);
      json_object_put (v);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_dates); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (kh_field_parse (birth, bad_dates[i], &v, &error));
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "Date of birth: "));
      g_assert_null (v);
    }
  for (guint i = 0; i < G_N_ELEMENTS (money); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (kh_field_parse (amount, money[i].in, &v, &error));
      g_assert_no_error (error);
      g_assert_cmpint (json_object_get_int64 (v), ==, money[i].out);
      json_object_put (v);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_money); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (kh_field_parse (amount, bad_money[i], &v, &error));
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
      g_assert_true (g_str_has_prefix (error->message, "Amount (đồng): "));
    }
  g_assert_true (kh_field_parse (poor, "có", &v, NULL));
  g_assert_true (json_object_get_boolean (v));
  json_object_put (v);
  g_assert_true (kh_field_parse (poor, "no", &v, NULL));
  g_assert_false (json_object_get_boolean (v));
  json_object_put (v);
  {
    g_autoptr(GError) error = NULL;

    g_assert_false (kh_field_parse (name, "Nguy\xff", &v, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    g_assert_true (g_str_has_prefix (error->message, "Full name: "));
  }
  /* Blank input is no value: the field is cleared or left out. */
  g_assert_true (kh_field_parse (name, "   ", &v, NULL));
  g_assert_null (v);
}

typedef struct
{
  const char *entity;
  const char *json;       /* fields set over a valid record of every field */
  const char *message;    /* what the refusal says, in part */
} CrossCase;

/* Checks that involve more than one field, at creation and when an edit breaks them. */
static void
test_validate_cross_field (void)
{
  static const CrossCase cases[] = {
    { "org_unit", "{\"valid_from\": \"2025-07-01\", \"valid_to\": \"2025-06-30\"}", "Valid until" },
    { "criteria_set", "{\"valid_from\": \"2025-07-01\", \"valid_to\": \"2021-01-01\"}", "Valid until" },
    { "unit_succession", "{\"kind\": \"merge\", \"successor_id\": null}", "succeeding unit" },
    { "unit_succession", "{\"kind\": \"rename\", \"successor_id\": null}", "succeeding unit" },
    { "unit_succession", "{\"successor_id\": \"@predecessor_id\"}", "succeed itself" },
    { "person", "{\"birth_date\": \"2999-01-01\", \"birth_year\": null}", "future" },
    { "person", "{\"birth_year\": 2019}", "does not match" },
    { "registration", "{\"model\": \"family\"}", "Subject kind" },
    { "registration", "{\"model\": \"citizen\", \"subject_kind\": \"clan\"}", "Subject kind" },
    { "award_entry", "{\"status\": \"paid\", \"received_on\": null}", "Received on" },
    { "donation", "{\"form\": \"cash\", \"amount\": null}", "Amount" },
    { "donation", "{\"form\": \"transfer\", \"amount\": 0}", "Amount" },
    { "donation", "{\"form\": \"in_kind\", \"in_kind\": null}", "In-kind gift" },
    { "consent", "{\"given_by\": \"guardian\", \"guardian_id\": null}", "Parent or guardian" },
    { "consent", "{\"given_by\": \"guardian\", \"guardian_id\": \"@person_id\"}", "their own guardian" },
    { "consent", "{\"given_on\": \"2024-05-01\", \"withdrawn_on\": \"2024-04-30\"}", "Withdrawn on" },
  };
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "x.db");

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const KhEntity *entity = kh_entity_lookup (cases[i].entity);
      json_object *record = kh_test_valid_record (entity, store, TRUE);
      json_object *set = json_tokener_parse (cases[i].json);
      json_object *bad = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *id = NULL;
      g_autofree char *bad_id = NULL;
      gint64 before;

      g_assert_nonnull (set);
      g_test_message ("%s %s", cases[i].entity, cases[i].json);
      id = kh_store_create (store, entity->name, record, &error);
      g_assert_no_error (error);

      json_object_object_foreach (set, key, val)
        if (val != NULL && json_object_is_type (val, json_type_string)
            && json_object_get_string (val)[0] == '@')
          json_object_object_add (set, key, json_object_get (json_object_object_get (record, json_object_get_string (val) + 1)));

      json_object_deep_copy (record, &bad, NULL);
      json_object_object_foreach (set, k2, v2)
        json_object_object_add (bad, k2, v2 ? json_object_get (v2) : NULL);

      before = total_rows (store, entity->name);
      g_assert_false (kh_entity_validate (entity, bad, TRUE, &error));
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_clear_error (&error);

      bad_id = kh_store_create (store, entity->name, bad, &error);
      g_assert_null (bad_id);
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_clear_error (&error);

      /* An edit that makes a stored record break the rule is refused as a whole. */
      g_assert_false (kh_store_update (store, entity->name, id, set, &error));
      g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, cases[i].message));
      g_assert_cmpint (total_rows (store, entity->name), ==, before);

      json_object_put (record);
      json_object_put (set);
      json_object_put (bad);
    }
  store = (g_object_unref (store), NULL);
  kh_test_rmdir (dir);
}

/* kh_utf8_validate() says what g_utf8_validate_len() says: for Vietnamese text, broken and cut
 * sequences, surrogates, overlong forms and NULs, at every offset and length (its fast path
 * reads eight bytes at a time), and for random bytes. */
static void
test_validate_utf8 (void)
{
  const char *samples[] = {
    "Nguyễn Văn Đức, xã Cam Lâm, tỉnh Khánh Hòa — học bổng 2.000.000 đ",
    "plain ASCII text that is longer than eight bytes, with digits 0123456789",
    "\xe1\xbb\x85\xe1\xbb",                         /* ễ, then a cut one */
    "abcdefgh\xc3(abcdefgh",                         /* a lone lead byte */
    "abcdefg\xed\xa0\x80" "xyz",                      /* a surrogate, encoded */
    "\xc0\xaf" "abcdefghij",                          /* overlong */
    "\xf0\x9f\x98\x80 smile \xf4\x90\x80\x80",       /* 4 bytes; then over U+10FFFF */
    "abcdefghijklmno\x80",
    "\xef\xbf\xbe \xef\xbf\xbf \xf4\x8f\xbf\xbf \xee\x80\x80 \xed\x9f\xbf",  /* U+FFFE, FFFF, 10FFFF, E000, D7FF */
    "\xe0\x9f\xbf \xf0\x8f\xbf\xbf \xc1\xbf \xc2\x80 \xf5\x80\x80\x80",    /* overlong, and F5 */
  };
  GRand *rand = g_rand_new_with_seed (20261203);

  for (guint k = 0; k < G_N_ELEMENTS (samples); k++)
    {
      gsize n = strlen (samples[k]);

      for (gsize from = 0; from <= n; from++)
        for (gsize len = 0; from + len <= n; len++)
          g_assert_cmpint (kh_utf8_validate (samples[k] + from, len), ==,
                           g_utf8_validate_len (samples[k] + from, len, NULL));
    }
  /* A NUL anywhere is refused, as g_utf8_validate_len() refuses it. */
  g_assert_false (kh_utf8_validate ("abcdefghij\0klmnopq", 18));
  g_assert_false (kh_utf8_validate ("abc\0", 4));
  for (guint round = 0; round < 20000; round++)
    {
      char buf[40];
      gsize len = g_rand_int_range (rand, 0, sizeof buf);

      for (gsize b = 0; b < len; b++)
        {
          /* Mostly ASCII, some bytes of every other kind. */
          guint32 r = g_rand_int (rand);

          buf[b] = (char) ((r & 0x300) ? 0x20 + (r & 0x5F) : (r & 0xFF));
        }
      g_assert_cmpint (kh_utf8_validate (buf, len), ==, g_utf8_validate_len (buf, len, NULL));
    }
  /* Valid characters of every length, near the edges of each range, with a byte changed now
   * and then. */
  for (guint round = 0; round < 20000; round++)
    {
      static const gunichar edges[] = { 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFD, 0xFFFE,
                                        0xFFFF, 0x10000, 0x10FFFF, 0x1EC5, 0x111 };
      char buf[64];
      gsize len = 0;

      while (len < sizeof buf - 4 && g_rand_int_range (rand, 0, 8) != 0)
        {
          gunichar c = g_rand_boolean (rand) ? edges[g_rand_int_range (rand, 0, G_N_ELEMENTS (edges))]
                                             : (gunichar) g_rand_int_range (rand, 1, 0x110000);

          if (c >= 0xD800 && c <= 0xDFFF)
            c = 0xFFFD;
          len += g_unichar_to_utf8 (c, buf + len);
        }
      if (len > 0 && g_rand_int_range (rand, 0, 3) == 0)
        buf[g_rand_int_range (rand, 0, len)] = (char) g_rand_int_range (rand, 0x80, 0x100);
      g_assert_cmpint (kh_utf8_validate (buf, len), ==, g_utf8_validate_len (buf, len, NULL));
      if (len > 0)
        g_assert_cmpint (kh_utf8_validate (buf, len - 1), ==, g_utf8_validate_len (buf, len - 1, NULL));
    }
  g_rand_free (rand);
}

/* A record id is a UUID as the app writes it: 8-4-4-4-12 lowercase hex digits, nothing else. */
static void
test_validate_uuid (void)
{
  static const struct { const char *text; gboolean valid; } cases[] = {
    { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", TRUE },
    { "00000000-0000-0000-0000-000000000000", TRUE },
    { "0190A1B2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", FALSE },  /* capitals */
    { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5", FALSE },   /* one short */
    { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b0", FALSE }, /* one more */
    { "0190a1b2c-3d4-7e5f-8a9b-0c1d2e3f4a5b", FALSE },  /* a dash moved */
    { "0190a1b2-c3d4-7e5f-8a9b_0c1d2e3f4a5b", FALSE },
    { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5g", FALSE },  /* not hex */
    { "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5 ", FALSE },
    { "{0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a}", FALSE },
    { "------------------------------------", FALSE },
    { "", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    if (kh_uuid_is_valid (cases[i].text) != cases[i].valid)
      g_error ("“%s” taken as %s", cases[i].text, cases[i].valid ? "not an id" : "an id");
  g_assert_false (kh_uuid_is_valid (NULL));
  for (guint i = 0; i < 100; i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();

      g_assert_true (kh_uuid_is_valid (id));
    }
}

/* The kinds of units follow the hierarchy (DOMAIN.md): the nation at the top, provinces under it
 * or alone, districts only
 * before the 2025 reform and between a province and its communes, villages under a commune,
 * ward or special zone, schools, agencies and enterprises anywhere; the error names the field. */
static void
test_validate_unit_kinds (void)
{
  static const struct
  {
    const char *kind;
    const char *valid_to;
    gboolean    has_parent;
    const char *parent_kind;
    const char *field;  /* NULL: accepted */
  } cases[] = {
    { "province", NULL, FALSE, NULL, NULL },
    { "province", NULL, TRUE, "ward", "parent_id" },
    { "province", NULL, TRUE, "province", "parent_id" },
    { "commune", NULL, TRUE, "province", NULL },
    { "ward", "2025-06-30", TRUE, "district", NULL },
    { "special_zone", NULL, TRUE, "village", "parent_id" },
    { "commune", NULL, FALSE, NULL, NULL },
    { "district", "2025-06-30", TRUE, "province", NULL },
    { "district", NULL, TRUE, "province", "valid_to" },
    { "district", "2025-07-01", TRUE, "province", "valid_to" },
    { "district", "2024-12-31", TRUE, "district", "parent_id" },
    { "district", "2024-12-31", FALSE, NULL, "parent_id" },
    { "village", NULL, TRUE, "commune", NULL },
    { "village", NULL, TRUE, "special_zone", NULL },
    { "village", NULL, TRUE, "province", "parent_id" },
    { "village", NULL, TRUE, "district", "parent_id" },
    { "village", NULL, FALSE, NULL, "parent_id" },
    { "school", NULL, TRUE, "village", NULL },
    { "agency", NULL, TRUE, "province", NULL },
    { "enterprise", NULL, FALSE, NULL, NULL },
    { "school", NULL, TRUE, "school", NULL },
    /* The nation above the provinces (the national association's scope), and nothing else
     * directly under it but schools and agencies. */
    { "nation", NULL, FALSE, NULL, NULL },
    { "nation", NULL, TRUE, "province", "parent_id" },
    { "province", NULL, TRUE, "nation", NULL },
    { "commune", NULL, TRUE, "nation", "parent_id" },
    { "district", "2024-12-31", TRUE, "nation", "parent_id" },
    { "village", NULL, TRUE, "nation", "parent_id" },
    { "agency", NULL, TRUE, "nation", NULL },
    /* A parent the caller does not know (a replica's scope unit's parent) is not judged. */
    { "commune", NULL, TRUE, NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      gboolean ok = kh_unit_kind_validate (cases[i].kind, cases[i].valid_to, cases[i].has_parent,
                                           cases[i].parent_kind, &error);

      g_test_message ("%s under %s", cases[i].kind, cases[i].parent_kind ? cases[i].parent_kind : "nothing");
      if (cases[i].field == NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
          g_assert_cmpstr (kh_data_error_get_field (error), ==, cases[i].field);
        }
    }

  /* The registry's check applies what the record shows by itself. */
  {
    const KhEntity *org = kh_entity_lookup ("org_unit");
    g_autoptr(GError) error = NULL;
    json_object *village = json_tokener_parse ("{\"code\": \"T1\", \"name\": \"Thôn 1\", \"kind\": \"village\"}");
    json_object *district = json_tokener_parse ("{\"code\": \"D1\", \"name\": \"Huyện 1\", \"kind\": \"district\", "
                                                          "\"parent_id\": \"0190c9a2-7b1e-7c3a-9d7e-2f1a3b4c5d01\"}");

    g_assert_false (kh_entity_validate (org, village, TRUE, &error));
    g_assert_cmpstr (kh_data_error_get_field (error), ==, "parent_id");
    g_clear_error (&error);
    g_assert_false (kh_entity_validate (org, district, TRUE, &error));
    g_assert_cmpstr (kh_data_error_get_field (error), ==, "valid_to");
    json_object_put (village);
    json_object_put (district);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/validate/registry", test_validate_registry);
  g_test_add_func ("/data/validate/unit-kinds", test_validate_unit_kinds);
  g_test_add_func ("/data/validate/utf8", test_validate_utf8);
  g_test_add_func ("/data/validate/bad-key", test_validate_bad_key);
  g_test_add_func ("/data/validate/any-order", test_validate_any_order);
  g_test_add_func ("/data/validate/parse", test_validate_parse);
  g_test_add_func ("/data/validate/cross-field", test_validate_cross_field);
  g_test_add_func ("/data/validate/uuid", test_validate_uuid);
  return g_test_run ();
}
