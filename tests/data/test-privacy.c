/* test-privacy.c: sensitive fields, consent that counts, a minor's award, a local erasure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>

#include "kh-error.h"
#include "kh-privacy.h"
#include "kh-record-item.h"
#include "kh-record-list.h"
#include "kh-store-sql.h"
#include "kh-test-store.h"

typedef struct
{
  char    *dir;
  KhStore *store;
  char    *unit;
} Fixture;

/* The ISO date @years years before today, and @days days. */
static char *
years_ago (int years,
           int days)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_years (now, -years);
  g_autoptr(GDateTime) day = g_date_time_add_days (then, days);

  return g_date_time_format (day, "%Y-%m-%d");
}

static char *
make_person (Fixture    *f,
             const char *name,
             int         age)
{
  g_autofree char *birth = years_ago (age, -10);
  g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"birth_date\": \"%s\", "
                                           "\"org_unit_id\": \"%s\"}", name, birth, f->unit);

  return kh_test_create (f->store, "person", json);
}

static char *
consent_json (Fixture    *f,
              const char *person,
              const char *by,
              const char *guardian)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

  if (guardian != NULL)
    return g_strdup_printf ("{\"person_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_name\": \"X\", "
                            "\"given_by\": \"%s\", \"guardian_id\": \"%s\", \"guardian_name\": \"Y\", "
                            "\"purpose\": \"Học bổng\", \"given_on\": \"%s\"}", person, f->unit, by, guardian, today);
  return g_strdup_printf ("{\"person_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_name\": \"X\", "
                          "\"given_by\": \"%s\", \"purpose\": \"Học bổng\", \"given_on\": \"%s\"}",
                          person, f->unit, by, today);
}

static gboolean
try_consent (Fixture    *f,
             const char *person,
             const char *by,
             const char *guardian)
{
  g_autofree char *json = consent_json (f, person, by, guardian);
  json_object *values = json_tokener_parse (json);
  g_autoptr(GError) error = NULL;
  g_autofree char *id = kh_store_create (f->store, "consent", values, &error);

  json_object_put (values);
  if (id == NULL)
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  return id != NULL;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "p.db");
  f->unit = kh_test_create (f->store, "org_unit", "{\"code\": \"X01\", \"name\": \"Xã Một\", \"kind\": \"commune\"}");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit);
}

static void
test_sensitive_fields (void)
{
  static const char * const sensitive[][2] = {
    { "person", "national_id" }, { "person", "ethnicity" }, { "person", "notes" },
    { "person", "phone" }, { "person", "address" }, { "household", "poor" },
    { "award_entry", "reason" },
  };
  const KhEntity *person = kh_entity_lookup ("person");
  g_autofree char *masked = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (sensitive); i++)
    g_assert_true (kh_field_is_sensitive (kh_entity_get_field (kh_entity_lookup (sensitive[i][0]),
                                                               sensitive[i][1])));
  g_assert_false (kh_field_is_sensitive (kh_entity_get_field (person, "full_name")));

  masked = kh_privacy_mask (kh_entity_get_field (person, "national_id"), "056210001234");
  g_assert_cmpstr (masked, ==, "•••••••••234");
  g_clear_pointer (&masked, g_free);
  masked = kh_privacy_mask (kh_entity_get_field (person, "ethnicity"), "Raglai");
  g_assert_cmpstr (masked, ==, "•••");
  g_assert_null (kh_privacy_mask (kh_entity_get_field (person, "ethnicity"), NULL));
}

static void
test_consent_age_rules (void)
{
  const char *g = "0190a5f2-7c1e-7a3b-8f00-123456789012";

  g_assert_cmpint (kh_privacy_age_on ("2010-06-03", 0, "2017-06-02"), ==, 6);
  g_assert_cmpint (kh_privacy_age_on ("2010-06-03", 0, "2017-06-03"), ==, 7);
  g_assert_cmpint (kh_privacy_age_on (NULL, 2010, "2017-12-30"), ==, 6);
  g_assert_cmpint (kh_privacy_age_on (NULL, 0, "2017-12-30"), ==, -1);

  /* Under 7: the guardian. */
  g_assert_true (kh_privacy_consent_counts ("guardian", g, 5));
  g_assert_false (kh_privacy_consent_counts ("guardian", NULL, 5));
  g_assert_false (kh_privacy_consent_counts ("subject", NULL, 5));
  /* 7 to 15: the child and a guardian. */
  g_assert_false (kh_privacy_consent_counts ("subject", NULL, 13));
  g_assert_false (kh_privacy_consent_counts ("guardian", g, 13));
  g_assert_false (kh_privacy_consent_counts ("both", NULL, 13));
  g_assert_true (kh_privacy_consent_counts ("both", g, 13));
  /* From 16: the person. */
  g_assert_true (kh_privacy_consent_counts ("subject", NULL, 16));
  g_assert_false (kh_privacy_consent_counts ("guardian", g, 16));
}

static void
test_consent_store (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *parent = make_person (f, "Trần Văn Bình", 40);
  g_autofree char *small = make_person (f, "Trần Thị Hoa", 5);
  g_autofree char *pupil = make_person (f, "Trần Văn Nam", 13);
  g_autofree char *older = make_person (f, "Trần Thị Lan", 17);

  /* A 13-year-old's consent "given by the subject" alone is refused, as is the guardian's
   * alone; the child and the guardian, named by reference, count. */
  g_assert_false (try_consent (f, pupil, "subject", NULL));
  g_assert_false (try_consent (f, pupil, "guardian", parent));
  g_assert_true (try_consent (f, pupil, "both", parent));
  g_assert_false (try_consent (f, small, "subject", NULL));
  g_assert_true (try_consent (f, small, "guardian", parent));
  g_assert_false (try_consent (f, older, "guardian", parent));
  g_assert_true (try_consent (f, older, "subject", NULL));
  g_assert_cmpint (kh_store_count_without_consent (f->store, NULL), ==, 0);
}

static void
test_minors_without_consent (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *parent = make_person (f, "Lê Văn Hùng", 45);
  g_autofree char *a = make_person (f, "Lê Thị Yến", 10);
  g_autofree char *b = make_person (f, "Lê Văn Tiến", 15);
  g_autofree char *consent = NULL;
  g_autofree char *json = NULL;
  json_object *rows;

  /* The adult does not count; two minors do. */
  g_assert_cmpint (kh_store_count_without_consent (f->store, NULL), ==, 2);
  json = consent_json (f, a, "both", parent);
  consent = kh_test_create (f->store, "consent", json);
  g_assert_cmpint (kh_store_count_without_consent (f->store, NULL), ==, 1);
  rows = kh_store_list_without_consent (f->store, 0, NULL);
  g_assert_cmpint (json_object_array_length (rows), ==, 1);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (rows, 0), "id")), ==, b);
  json_object_put (rows);

  /* A withdrawn consent no longer counts. */
  {
    g_autoptr(GError) error = NULL;
    json_object *w = json_tokener_parse ("{\"withdrawn_on\": \"2000-01-01\"}");
    g_autofree char *today = years_ago (0, 0);

    json_object_object_add (w, "withdrawn_on", json_object_new_string (today));
    g_assert_true (kh_store_update (f->store, "consent", consent, w, &error));
    g_assert_no_error (error);
    json_object_put (w);
  }
  g_assert_cmpint (kh_store_count_without_consent (f->store, NULL), ==, 2);
}

static void
test_award_needs_consent (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *parent = make_person (f, "Phạm Văn Dũng", 42);
  g_autofree char *child = make_person (f, "Phạm Thị Linh", 12);
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *consent = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;
  json_object *values;
  json_object *approve = json_tokener_parse ("{\"status\": \"approved\"}");
  char *id;

  json = g_strdup_printf ("{\"title\": \"Học bổng\", \"occasion\": \"tet\", \"school_year\": \"2025-2026\", "
                          "\"org_unit_id\": \"%s\", \"status\": \"draft\"}", f->unit);
  list = kh_test_create (f->store, "award_list", json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"list_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_id\": \"%s\", "
                          "\"recipient_name\": \"Phạm Thị Linh\", \"category\": \"merit\", "
                          "\"amount\": 1000000, \"status\": \"approved\"}", list, f->unit, child);

  /* Approved at once: refused by the store. */
  values = json_tokener_parse (json);
  id = kh_store_create (f->store, "award_entry", values, &error);
  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_cmpstr (kh_data_error_get_field (error), ==, "status");
  g_clear_error (&error);

  /* Proposed: fine; approved later: refused until a consent counts. */
  json_object_object_add (values, "status", json_object_new_string ("proposed"));
  entry = kh_store_create (f->store, "award_entry", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  g_assert_false (kh_store_update (f->store, "award_entry", entry, approve, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  g_clear_pointer (&json, g_free);
  json = consent_json (f, child, "both", parent);
  consent = kh_test_create (f->store, "consent", json);
  g_assert_true (kh_store_update (f->store, "award_entry", entry, approve, &error));
  g_assert_no_error (error);
  json_object_put (approve);
}

static void
test_erase_local (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *person = make_person (f, "Bo Bo Thị Mai", 30);
  g_autoptr(GError) error = NULL;
  json_object *change = json_tokener_parse ("{\"national_id\": \"056210009876\"}");
  json_object *records = json_object_new_array ();
  json_object *r = json_object_new_object ();

  g_assert_true (kh_store_update (f->store, "person", person, change, &error));
  json_object_put (change);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE new_value LIKE '%056210009876%'"), ==, 1);
  g_assert_cmpint (kh_test_count (f->store, "outbox"), >, 0);

  json_object_object_add (r, "entity", json_object_new_string ("person"));
  json_object_object_add (r, "id", json_object_new_string (person));
  json_object_array_add (records, r);
  g_assert_true (kh_store_erase_local (f->store, records, &error));
  g_assert_no_error (error);
  g_assert_true (kh_store_scrub (f->store, records, &error));
  g_assert_no_error (error);
  json_object_put (records);

  /* Nothing unsent is left to send the values again, and the audit keeps that something
   * happened, not what. */
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM outbox WHERE entity = 'person'"), ==, 0);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE new_value LIKE '%Bo Bo%' "
                                      "OR new_value LIKE '%0562100%' OR old_value IS NOT NULL"), ==, 0);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE action = 'erase'"), ==, 1);
}

/* The window's list of people: a minor without consent carries the badge, the national id is
 * masked to its last three digits. */
static void
test_list_badge_and_mask (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *parent = make_person (f, "Võ Văn Tâm", 40);
  g_autofree char *child = make_person (f, "Võ Thị Bình", 9);
  g_autofree char *json = NULL;
  g_autoptr(GError) error = NULL;
  json_object *change = json_tokener_parse ("{\"national_id\": \"056215003344\"}");
  g_autoptr(KhRecordList) list = NULL;
  guint badges = 0;

  g_assert_true (kh_store_update (f->store, "person", child, change, &error));
  json_object_put (change);
  list = kh_record_list_new (f->store, "person");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 2);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);
      json_object *d = kh_record_item_get_data (item);
      gboolean is_child = g_strcmp0 (json_object_get_string (json_object_object_get (d, "id")), child) == 0;
      g_autofree char *id_text = kh_record_list_format (list, item, "national_id");

      g_assert_cmpint (json_object_object_get_ex (d, KH_NO_CONSENT_MEMBER, NULL), ==, is_child);
      badges += is_child;
      if (is_child)
        g_assert_cmpstr (id_text, ==, "•••••••••344");
    }
  g_assert_cmpuint (badges, ==, 1);
  /* The list to work through holds the child alone. */
  kh_record_list_set_without_consent (list, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  {
    g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (list), 0);

    g_assert_cmpstr (json_object_get_string (json_object_object_get (kh_record_item_get_data (item), "id")), ==, child);
  }
  g_clear_object (&list);

  /* With the consent of the child and the parent the badge goes. */
  json = consent_json (f, child, "both", parent);
  g_free (kh_test_create (f->store, "consent", json));
  list = kh_record_list_new (f->store, "person");
  kh_record_list_set_without_consent (list, TRUE);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  kh_record_list_set_without_consent (list, FALSE);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (list), i);

      g_assert_false (json_object_object_get_ex (kh_record_item_get_data (item), KH_NO_CONSENT_MEMBER, NULL));
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/data/privacy/sensitive-fields", test_sensitive_fields);
  g_test_add_func ("/data/privacy/consent-age-rules", test_consent_age_rules);
  g_test_add ("/data/privacy/consent-store", Fixture, NULL, fixture_setup, test_consent_store, fixture_teardown);
  g_test_add ("/data/privacy/minors-without-consent", Fixture, NULL, fixture_setup, test_minors_without_consent,
              fixture_teardown);
  g_test_add ("/data/privacy/award-needs-consent", Fixture, NULL, fixture_setup, test_award_needs_consent,
              fixture_teardown);
  g_test_add ("/data/privacy/list-badge-and-mask", Fixture, NULL, fixture_setup, test_list_badge_and_mask,
              fixture_teardown);
  g_test_add ("/data/privacy/erase-local", Fixture, NULL, fixture_setup, test_erase_local, fixture_teardown);
  return g_test_run ();
}
