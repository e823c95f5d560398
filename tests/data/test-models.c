/* test-models.c: the learning models' rules in the store: the criteria set that applies, an
 * evaluation judged by its set, sets never changed once used, recognitions by decision, the
 * registration's state
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-evaluate.h"
#include "kh-models.h"
#include "kh-store-sql.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"

typedef struct
{
  char *dir;
  KhStore *store;
  char *province;
  char *other_province;
  char *commune;
  char *village;
  char *school;
  char *points_set;       /* national, points: 4 criteria of 30, 30, 20, 20; pass at 80 */
  char *levels_set;       /* national, learning units: levels from the total */
} Fixture;

static char *
make (Fixture    *f,
      const char *entity,
      const char *json)
{
  return kh_test_create (f->store, entity, json);
}

/* Creates @entity from @json, which must be refused with a message containing @words. */
static void
refused (Fixture    *f,
         const char *entity,
         const char *json,
         const char *words)
{
  g_autoptr(GError) error = NULL;
  json_object *v = json_tokener_parse (json);
  g_autofree char *id = NULL;
  gint64 before = kh_test_count (f->store, entity);

  g_assert_nonnull (v);
  id = kh_store_create (f->store, entity, v, &error);
  g_assert_null (id);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  if (strstr (error->message, words) == NULL)
    g_error ("“%s” does not say “%s”", error->message, words);
  g_assert_cmpint (kh_test_count (f->store, entity), ==, before);
  json_object_put (v);
}

static char *
unit (Fixture    *f,
      const char *code,
      const char *kind,
      const char *parent)
{
  g_autofree char *json = parent != NULL
    ? g_strdup_printf ("{\"code\": \"%s\", \"name\": \"%s\", \"kind\": \"%s\", \"parent_id\": \"%s\"}",
                       code, code, kind, parent)
    : g_strdup_printf ("{\"code\": \"%s\", \"name\": \"%s\", \"kind\": \"%s\"}", code, code, kind);

  return make (f, "org_unit", json);
}

static char *
criteria_set (Fixture    *f,
              const char *json,
              const int  *max_points)
{
  char *id = make (f, "criteria_set", json);

  for (int i = 0; max_points[i] > 0; i++)
    {
      g_autofree char *c = g_strdup_printf ("{\"criteria_set_id\": \"%s\", \"code\": \"%d\", \"title\": \"Tiêu chí %d\", "
                                            "\"max_points\": %d, \"position\": %d}", id, i + 1, i + 1, max_points[i], i + 1);
      g_free (make (f, "criterion", c));
    }
  return id;
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  static const int family[] = { 30, 30, 20, 20, 0 };
  static const int unit_items[] = { 100, 0 };

  f->dir = kh_test_tmpdir ();
  f->store = kh_test_open_store (f->dir, "models.db");
  f->province = unit (f, "56", "province", NULL);
  f->other_province = unit (f, "58", "province", NULL);
  f->commune = unit (f, "22333", "commune", f->province);
  f->village = unit (f, "22333-01", "village", f->commune);
  f->school = unit (f, "22333-S1", "school", f->commune);
  f->points_set = criteria_set (f, "{\"name\": \"Gia đình học tập\", \"model\": \"family\", \"method\": \"points\", "
                                   "\"pass_min_total\": 80, \"valid_from\": \"2015-01-01\"}", family);
  f->levels_set = criteria_set (f, "{\"name\": \"Đơn vị học tập\", \"model\": \"unit\", \"method\": \"levels\", "
                                   "\"level1_min\": 70, \"level2_min\": 85, \"level3_min\": 95, "
                                   "\"valid_from\": \"2015-01-01\"}", unit_items);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->province);
  g_free (f->other_province);
  g_free (f->commune);
  g_free (f->village);
  g_free (f->school);
  g_free (f->points_set);
  g_free (f->levels_set);
}

static char *
family_registration (Fixture    *f,
                     const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"head_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, f->village);
  g_autofree char *household = make (f, "household", json);
  g_autofree char *reg = g_strdup_printf ("{\"model\": \"family\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                                          "\"subject_kind\": \"household\", \"subject_id\": \"%s\", "
                                          "\"subject_name\": \"%s\", \"status\": \"registered\"}",
                                          f->village, household, name);

  return make (f, "registration", reg);
}

static char *
registration_field (Fixture    *f,
                    const char *id,
                    const char *field)
{
  json_object *r = kh_store_get (f->store, "registration", id, NULL);
  char *value = g_strdup (json_object_get_string (json_object_object_get (r, field)));

  json_object_put (r);
  return value;
}

/* An evaluation is judged by its set: the three cases the issue found accepted, and more. */
static void
test_evaluation_judged (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *reg = family_registration (f, "Nguyễn Văn Hùng");
  g_autofree char *school_reg = NULL;
  g_autofree char *json = NULL;
  g_autofree char *id = NULL;
  g_autofree char *state = NULL;
  json_object *eval;

  /* total=12 result=level3 on a points set. */
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 6, \"2\": 6}, \"total\": 12, \"result\": \"level3\"}",
                          reg, f->village, f->points_set);
  refused (f, "evaluation", json, "Result");
  g_clear_pointer (&json, g_free);
  /* 95 points on a 30-point criterion. */
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 95}, \"result\": \"pass\"}", reg, f->village, f->points_set);
  refused (f, "evaluation", json, "at most 30");
  g_clear_pointer (&json, g_free);
  /* 88 points recorded as fail. */
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 28, \"2\": 25, \"3\": 18, \"4\": 17}, \"total\": 88, \"result\": \"fail\"}",
                          reg, f->village, f->points_set);
  refused (f, "evaluation", json, "Result");
  g_clear_pointer (&json, g_free);
  /* A criterion the set lacks, a total the scores do not give, points without a set. */
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"9\": 5}, \"result\": \"fail\"}", reg, f->village, f->points_set);
  refused (f, "evaluation", json, "no criterion “9”");
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 28, \"2\": 25}, \"total\": 90, \"result\": \"fail\"}",
                          reg, f->village, f->points_set);
  refused (f, "evaluation", json, "Total points");
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"total\": 88, \"result\": \"fail\"}",
                          reg, f->village);
  refused (f, "evaluation", json, "Criteria set");
  g_clear_pointer (&json, g_free);
  g_assert_cmpint (kh_test_count (f->store, "evaluation"), ==, 0);
  state = registration_field (f, reg, "state");
  g_assert_cmpstr (state, ==, NULL);

  /* As the CLI writes it, without total or result: the store computes both, and the
   * registration moves on in the same transaction. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 28, \"2\": 25, \"3\": 18, \"4\": 17}}", reg, f->village, f->points_set);
  id = make (f, "evaluation", json);
  eval = kh_store_get (f->store, "evaluation", id, NULL);
  g_assert_cmpint (json_object_get_int (json_object_object_get (eval, "total")), ==, 88);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (eval, "result")), ==, "pass");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (eval, "stage")), ==, "self_assessment");
  json_object_put (eval);
  g_clear_pointer (&state, g_free);
  state = registration_field (f, reg, "state");
  g_assert_cmpstr (state, ==, "passed");
  g_clear_pointer (&state, g_free);
  state = registration_field (f, reg, "status");
  g_assert_cmpstr (state, ==, "evaluated");

  /* An edit of the scores is judged again, its total and result following. */
  {
    g_autoptr(GError) error = NULL;
    json_object *change = json_tokener_parse ("{\"scores\": {\"1\": 10, \"2\": 10, \"3\": 10, \"4\": 10}}");

    g_assert_true (kh_store_update (f->store, "evaluation", id, change, &error));
    g_assert_no_error (error);
    json_object_put (change);
    change = json_tokener_parse ("{\"scores\": {\"1\": 40}}");
    g_assert_false (kh_store_update (f->store, "evaluation", id, change, &error));
    g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
    json_object_put (change);
  }
  g_clear_pointer (&state, g_free);
  state = registration_field (f, reg, "state");
  g_assert_cmpstr (state, ==, "not_passed");
  g_clear_pointer (&state, g_free);
  state = registration_field (f, reg, "total");
  g_assert_cmpstr (state, ==, "40");

  /* Levels: the level the total reaches. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"model\": \"unit\", \"year\": 2023, \"org_unit_id\": \"%s\", \"subject_kind\": \"org_unit\", "
                          "\"subject_id\": \"%s\", \"subject_name\": \"Trường\", \"status\": \"registered\"}",
                          f->school, f->school);
  school_reg = make (f, "registration", json);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 90}, \"result\": \"level3\"}", school_reg, f->school, f->levels_set);
  refused (f, "evaluation", json, "Level 2");
}

/* The set that applies: the unit's own, else the nearest above it (its province's), else the
 * national one; by subject group or level. */
static void
test_set_applies_by_place (Fixture       *f,
                           gconstpointer  data)
{
  static const int one[] = { 100, 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"name\": \"Gia đình học tập Khánh Hòa\", \"model\": \"family\", "
                                           "\"method\": \"points\", \"pass_min_total\": 85, "
                                           "\"valid_from\": \"2020-01-01\", \"org_unit_id\": \"%s\"}", f->province);
  g_autofree char *provincial = criteria_set (f, json, one);
  g_autofree char *own = NULL;
  g_autofree char *elsewhere_unit = unit (f, "22444", "commune", f->other_province);
  json_object *set;

  /* Below the province, in a village: the province's set, not the national one. */
  set = kh_criteria_set_for (f->store, "family", 2025, f->village, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, provincial);
  json_object_put (set);
  /* In another province: the national one. */
  set = kh_criteria_set_in_force (f->store, "family", 2025, elsewhere_unit, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, f->points_set);
  json_object_put (set);
  /* The commune's own set comes before its province's. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"name\": \"Gia đình học tập xã\", \"model\": \"family\", \"method\": \"points\", "
                          "\"pass_min_total\": 90, \"valid_from\": \"2020-01-01\", \"org_unit_id\": \"%s\"}", f->commune);
  own = criteria_set (f, json, one);
  set = kh_criteria_set_for (f->store, "family", 2025, f->village, NULL, &error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, own);
  json_object_put (set);
  /* Not in force before it starts. */
  set = kh_criteria_set_for (f->store, "family", 2014, f->village, NULL, &error);
  g_assert_null (set);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Communities: a village's set (Decision 448) and a commune's (Circular 20/2023) differ; a
   * registration's level comes from the unit it is. */
  {
    g_autofree char *village_set = NULL;
    g_autofree char *commune_set = NULL;
    json_object *reg;

    village_set = criteria_set (f, "{\"name\": \"Cộng đồng thôn\", \"model\": \"community\", \"method\": \"points\", "
                                   "\"pass_min_total\": 80, \"subject_group\": \"village\"}", one);
    commune_set = criteria_set (f, "{\"name\": \"Cộng đồng xã\", \"model\": \"community\", \"method\": \"levels\", "
                                   "\"level1_min\": 50, \"level2_min\": 70, \"level3_min\": 90, "
                                   "\"subject_group\": \"commune\"}", one);
    g_clear_pointer (&json, g_free);
    json = g_strdup_printf ("{\"model\": \"community\", \"year\": 2025, \"org_unit_id\": \"%s\", \"subject_kind\": \"org_unit\", "
                            "\"subject_id\": \"%s\", \"subject_name\": \"Thôn 1\"}", f->village, f->village);
    reg = json_tokener_parse (json);
    set = kh_criteria_set_for_registration (f->store, reg, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, village_set);
    json_object_put (set);
    json_object_object_add (reg, "subject_id", json_object_new_string (f->commune));
    set = kh_criteria_set_for_registration (f->store, reg, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, commune_set);
    json_object_put (set);
    json_object_put (reg);
  }
}

/* A set an evaluation used keeps its criteria: editing makes a new version. */
static void
test_set_versions (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reg = family_registration (f, "Trần Thị Lan");
  g_autofree char *json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                                           "\"scores\": {\"1\": 30, \"2\": 30, \"3\": 20, \"4\": 20}}",
                                           reg, f->village, f->points_set);
  g_autofree char *eval = NULL;
  g_autofree char *unused = NULL;
  g_autofree char *version = NULL;
  json_object *change;
  json_object *criteria;
  json_object *old;
  json_object *set;

  /* Unused, a set changes in place. */
  change = json_tokener_parse ("{\"pass_min_total\": 75}");
  g_assert_true (kh_store_update (f->store, "criteria_set", f->points_set, change, &error));
  g_assert_no_error (error);
  json_object_put (change);

  eval = make (f, "evaluation", json);
  g_assert_true (kh_criteria_set_is_used (f->store, f->points_set, NULL));
  change = json_tokener_parse ("{\"pass_min_total\": 90}");
  g_assert_false (kh_store_update (f->store, "criteria_set", f->points_set, change, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "new version"));
  g_clear_error (&error);
  json_object_put (change);
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"criteria_set_id\": \"%s\", \"code\": \"5\", \"title\": \"Thêm\", \"max_points\": 10}",
                          f->points_set);
  refused (f, "criterion", json, "new version");
  criteria = kh_criteria_list (f->store, f->points_set, NULL);
  g_assert_false (kh_store_delete (f->store, "criterion",
                                   json_object_get_string (json_object_object_get (json_object_array_get_idx (criteria, 0), "id")),
                                   &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* The editor's save makes a new version with the new criteria; the old one is closed. */
  json_object_object_add (json_object_array_get_idx (criteria, 0), "max_points", json_object_new_int (40));
  change = json_tokener_parse ("{\"pass_min_total\": 90, \"valid_from\": \"2026-01-01\"}");
  version = kh_criteria_set_save (f->store, f->points_set, change, criteria, &error);
  g_assert_no_error (error);
  g_assert_nonnull (version);
  g_assert_cmpstr (version, !=, f->points_set);
  json_object_put (change);
  json_object_put (criteria);
  set = kh_store_get (f->store, "criteria_set", version, NULL);
  g_assert_cmpint (json_object_get_int (json_object_object_get (set, "pass_min_total")), ==, 90);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "previous_id")), ==, f->points_set);
  json_object_put (set);
  old = kh_store_get (f->store, "criteria_set", f->points_set, NULL);
  g_assert_cmpint (json_object_get_int (json_object_object_get (old, "pass_min_total")), ==, 75);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (old, "valid_to")), ==, "2025-12-31");
  json_object_put (old);
  criteria = kh_criteria_list (f->store, version, NULL);
  g_assert_cmpint (json_object_array_length (criteria), ==, 4);
  g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (criteria, 0), "max_points")), ==, 40);
  json_object_put (criteria);
  criteria = kh_criteria_list (f->store, f->points_set, NULL);
  g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (criteria, 0), "max_points")), ==, 30);
  json_object_put (criteria);
  /* 2025 is judged by the old version, 2026 by the new. */
  set = kh_criteria_set_for (f->store, "family", 2026, f->village, NULL, NULL);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, version);
  json_object_put (set);
  set = kh_criteria_set_for (f->store, "family", 2025, f->village, NULL, NULL);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "id")), ==, f->points_set);
  json_object_put (set);

  /* An unused set saved from the editor changes in place, criteria and all. */
  unused = make (f, "criteria_set", "{\"name\": \"Dòng họ\", \"model\": \"clan\", \"method\": \"checklist\"}");
  criteria = json_tokener_parse ("[{\"code\": \"a\", \"title\": \"Có quỹ khuyến học\"}, {\"code\": \"b\", \"title\": \"Có ban khuyến học\"}]");
  change = json_tokener_parse ("{\"name\": \"Dòng họ học tập\"}");
  g_clear_pointer (&version, g_free);
  version = kh_criteria_set_save (f->store, unused, change, criteria, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, unused);
  json_object_put (change);
  json_object_put (criteria);
  criteria = kh_criteria_list (f->store, unused, NULL);
  g_assert_cmpint (json_object_array_length (criteria), ==, 2);
  json_object_put (criteria);
}

static char *
evaluate (Fixture    *f,
          const char *reg,
          int         points,
          const char *stage)
{
  g_autofree char *json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                                           "\"scores\": {\"1\": 30, \"2\": 30, \"3\": 20, \"4\": %d}, \"stage\": \"%s\", "
                                           "\"evaluated_on\": \"2025-12-01\"}",
                                           reg, f->village, f->points_set, points - 80, stage);

  return make (f, "evaluation", json);
}

/* A recognition needs a passed evaluation or a reason, a level that existed at its date, and
 * one decision recognizes many, all or none. */
static void
test_recognitions (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *a = family_registration (f, "Lê Văn Nam");
  g_autofree char *b = family_registration (f, "Phạm Thị Hoa");
  g_autofree char *c = family_registration (f, "Võ Minh Tâm");
  g_autofree char *json = NULL;
  g_autofree char *state = NULL;
  json_object *to_recognize;
  KhDecision decision = { "12/QĐ-UBND", "2025-12-20", "commune", NULL, NULL };
  const char *all[] = { a, b, c, NULL };
  const char *passed[] = { a, b, NULL };

  g_free (evaluate (f, a, 95, "self_assessment"));
  g_free (evaluate (f, b, 85, "self_assessment"));
  g_free (evaluate (f, c, 82, "self_assessment"));
  /* The review by the level above finds c below the mark: a record of its own, beside the
   * self-assessment, and the state follows it. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 10}, \"stage\": \"review\", \"evaluated_on\": \"2025-12-10\"}", c, f->village, f->points_set);
  g_free (make (f, "evaluation", json));
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM evaluation WHERE stage = 'self_assessment'"), ==, 3);
  state = registration_field (f, c, "state");
  g_assert_cmpstr (state, ==, "not_passed");

  /* Without a passed evaluation, none. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"1/QĐ\", "
                          "\"decision_date\": \"2025-12-20\", \"issuing_level\": \"commune\"}", c, f->village);
  refused (f, "recognition", json, "did not pass");
  /* A district after the reform, none. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"1/QĐ\", "
                          "\"decision_date\": \"2025-07-01\", \"issuing_level\": \"district\"}", a, f->village);
  refused (f, "recognition", json, "district");
  /* The decision's number and date. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_date\": \"2025-12-20\", "
                          "\"issuing_level\": \"commune\"}", a, f->village);
  refused (f, "recognition", json, "Decision number");

  /* One decision for a list with one that did not pass: none recognized. */
  g_assert_cmpuint (kh_recognize (f->store, all, &decision, &error), ==, 0);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Võ Minh Tâm"));
  g_clear_error (&error);
  g_assert_cmpint (kh_test_count (f->store, "recognition"), ==, 0);

  /* All that passed in the commune and year, by one decision. */
  to_recognize = kh_registrations_to_recognize (f->store, "family", 2025, f->commune, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_array_length (to_recognize), ==, 2);
  json_object_put (to_recognize);
  g_assert_cmpuint (kh_recognize (f->store, passed, &decision, &error), ==, 2);
  g_assert_no_error (error);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(DISTINCT decision_number) FROM recognition"), ==, 1);
  g_clear_pointer (&state, g_free);
  state = registration_field (f, a, "state");
  g_assert_cmpstr (state, ==, "recognized");
  to_recognize = kh_registrations_to_recognize (f->store, "family", 2025, f->commune, &error);
  g_assert_cmpint (json_object_array_length (to_recognize), ==, 0);
  json_object_put (to_recognize);
  /* Not twice. */
  g_assert_cmpuint (kh_recognize (f->store, passed, &decision, &error), ==, 0);
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);

  /* With a reason, one that did not pass; a district before the reform. */
  {
    KhDecision by_reason = { "7/QĐ-UBND", "2025-06-30", "district", NULL, "Hoàn cảnh đặc biệt, được xét đặc cách" };
    const char *one[] = { c, NULL };

    g_assert_cmpuint (kh_recognize (f->store, one, &by_reason, &error), ==, 1);
    g_assert_no_error (error);
  }
}

/* Circular 24/2023: a learning unit's level comes from the share of its members who are
 * learning citizens, counted from the records. */
static void
test_citizen_share (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *share_set = make (f, "criteria_set", "{\"name\": \"Đơn vị học tập\", \"model\": \"unit\", "
                                                        "\"method\": \"levels\", \"level_rule\": \"citizen_share\", "
                                                        "\"level1_min\": 90, \"level2_min\": 95}");
  g_autofree char *citizen_set = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *json = NULL;
  g_autofree char *id = NULL;
  static const int competencies[] = { 40, 30, 30, 0 };
  json_object *eval;

  citizen_set = criteria_set (f, "{\"name\": \"Công dân học tập\", \"model\": \"citizen\", \"method\": \"points\", "
                                 "\"pass_min_total\": 80, \"pass_min_item\": 5}", competencies);
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *person = NULL;
      g_autofree char *p = g_strdup_printf ("{\"full_name\": \"Giáo viên %d\", \"org_unit_id\": \"%s\"}", i, f->school);
      g_autofree char *r = NULL;
      g_autofree char *rid = NULL;
      g_autofree char *e = NULL;

      person = make (f, "person", p);
      /* 19 of 20 are learning citizens in 2025: 95 %. */
      if (i == 19)
        continue;
      r = g_strdup_printf ("{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"%s\", \"subject_kind\": \"person\", "
                           "\"subject_id\": \"%s\", \"subject_name\": \"Giáo viên %d\", \"status\": \"registered\"}",
                           f->school, person, i);
      rid = make (f, "registration", r);
      e = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                           "\"scores\": {\"1\": 35, \"2\": 25, \"3\": 25}}", rid, f->school, citizen_set);
      g_free (make (f, "evaluation", e));
    }
  json = g_strdup_printf ("{\"model\": \"unit\", \"year\": 2025, \"org_unit_id\": \"%s\", \"subject_kind\": \"org_unit\", "
                          "\"subject_id\": \"%s\", \"subject_name\": \"Trường\", \"status\": \"registered\"}",
                          f->school, f->school);
  reg = make (f, "registration", json);

  /* Typed numbers that are not the records' are refused. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"members\": 20, \"learning_citizens\": 20}}", reg, f->school, share_set);
  refused (f, "evaluation", json, "counted, not typed");
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"result\": \"level3\"}", reg, f->school, share_set);
  refused (f, "evaluation", json, "Result");

  /* Counted: level 2 at 95 %. */
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\"}",
                          reg, f->school, share_set);
  id = make (f, "evaluation", json);
  eval = kh_store_get (f->store, "evaluation", id, NULL);
  g_assert_cmpint (json_object_get_int (json_object_object_get (eval, "total")), ==, 95);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (eval, "result")), ==, "level2");
  g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_object_get (eval, "scores"), "learning_citizens")), ==, 19);
  json_object_put (eval);
}

/* The built-in sets are the real ones as far as DOMAIN.md knows them, installed once. */
static void
test_builtin_sets (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  guint made = 0;
  json_object *set;
  json_object *criteria;
  int sum = 0;

  g_assert_true (kh_criteria_install_builtin (f->store, &made, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (made, ==, 9);
  g_assert_true (kh_criteria_install_builtin (f->store, &made, &error));
  g_assert_cmpuint (made, ==, 0);

  /* Decision 448: four criteria on 100 points, the first two of 30. */
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM criterion c JOIN criteria_set s ON s.id = c.criteria_set_id "
                                      "WHERE s.model = 'family' AND s.legal_basis = 'Quyết định 448/QĐ-KHVN'"), ==, 4);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT sum(c.max_points) FROM criterion c JOIN criteria_set s ON s.id = c.criteria_set_id "
                                      "WHERE s.model = 'family' AND s.legal_basis = 'Quyết định 448/QĐ-KHVN'"), ==, 100);
  /* Decision 324: at least 80 with no competency under 5. */
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT pass_min_total * 100 + pass_min_item FROM criteria_set "
                                      "WHERE legal_basis = 'Quyết định 324/QĐ-KHVN'"), ==, 8005);
  /* A learning unit in 2022 by Circular 22's bands, in 2025 by Circular 24's share. */
  set = kh_criteria_set_for (f->store, "unit", 2022, f->school, NULL, &error);
  g_assert_no_error (error);
  criteria = kh_criteria_list (f->store, json_object_get_string (json_object_object_get (set, "id")), NULL);
  {
    json_object *scores = json_tokener_parse ("{\"1\": 72}");

    g_assert_cmpstr (kh_evaluate_result (set, criteria, scores, &sum), ==, "fair");
    json_object_put (scores);
  }
  json_object_put (criteria);
  json_object_put (set);
  set = kh_criteria_set_for (f->store, "unit", 2025, f->school, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "legal_basis")), ==, "Thông tư 24/2023/TT-BGDĐT");
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "level_rule")), ==, "citizen_share");
  json_object_put (set);
}

/* The community set (Circular 20/2023) and criterion @code for a community registration of
 * @subject in @year, which must be found. */
static json_object *
community_set (Fixture     *f,
               const char  *subject,
               int          year,
               json_object **criteria)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *json = g_strdup_printf ("{\"model\": \"community\", \"year\": %d, \"org_unit_id\": \"%s\", "
                                           "\"subject_kind\": \"org_unit\", \"subject_id\": \"%s\", "
                                           "\"subject_name\": \"Cộng đồng\"}", year, subject, subject);
  json_object *reg = json_tokener_parse (json);
  json_object *set = kh_criteria_set_for_registration (f->store, reg, &error);

  g_assert_no_error (error);
  g_assert_nonnull (set);
  json_object_put (reg);
  *criteria = kh_criteria_list (f->store, json_object_get_string (json_object_object_get (set, "id")), &error);
  g_assert_no_error (error);
  return set;
}

/* Communes, districts and provinces as learning communities (Circular 20/2023): a built-in set
 * for each applies by the level of the unit, and takes the level the assessment reached, 1 to
 * 3 (0: not achieved), nothing above and no criterion of its own; a village keeps Decision
 * 448's. */
static void
test_builtin_community_levels (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *district = NULL;
  g_autofree char *reg = NULL;
  g_autofree char *json = NULL;
  g_autofree char *eval = NULL;
  json_object *set, *criteria, *record;
  const char *set_id;
  int total = -1;

  g_assert_true (kh_criteria_install_builtin (f->store, NULL, &error));
  g_assert_no_error (error);
  json = g_strdup_printf ("{\"code\": \"568\", \"name\": \"Huyện Diên Khánh\", \"kind\": \"district\", "
                          "\"parent_id\": \"%s\", \"valid_to\": \"2025-06-30\"}", f->province);
  district = make (f, "org_unit", json);
  g_clear_pointer (&json, g_free);

  /* Each level of community finds its own set; a village its Decision 448 one. */
  {
    const struct { const char *unit; int year; const char *group; const char *basis; } cases[] = {
      { f->commune, 2025, "commune", "Thông tư 20/2023/TT-BGDĐT" },
      { district, 2024, "district", "Thông tư 20/2023/TT-BGDĐT" },
      { f->province, 2025, "province", "Thông tư 20/2023/TT-BGDĐT" },
      { f->village, 2025, "village", "Quyết định 448/QĐ-KHVN" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        set = community_set (f, cases[i].unit, cases[i].year, &criteria);
        g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "subject_group")), ==, cases[i].group);
        g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "legal_basis")), ==, cases[i].basis);
        json_object_put (set);
        json_object_put (criteria);
      }
  }

  /* The level entered is the level; no points, no criteria the circular's text would give. */
  set = community_set (f, f->commune, 2025, &criteria);
  set_id = json_object_get_string (json_object_object_get (set, "id"));
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "method")), ==, "levels");
  g_assert_cmpuint (json_object_array_length (criteria), ==, 1);
  g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (criteria, 0), "max_points")), ==, 3);
  for (int level = 0; level <= 3; level++)
    {
      static const char * const expected[] = { "not_achieved", "level1", "level2", "level3" };
      g_autofree char *text = g_strdup_printf ("{\"level\": %d}", level);
      json_object *scores = json_tokener_parse (text);

      g_assert_cmpstr (kh_evaluate_result (set, criteria, scores, &total), ==, expected[level]);
      g_assert_cmpint (total, ==, level);
      json_object_put (scores);
    }

  reg = make (f, "registration", json = g_strdup_printf (
                "{\"model\": \"community\", \"year\": 2025, \"org_unit_id\": \"%s\", \"subject_kind\": \"org_unit\", "
                "\"subject_id\": \"%s\", \"subject_name\": \"Xã 22333\", \"status\": \"registered\"}",
                f->commune, f->commune));
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"level\": 4}}", reg, f->commune, set_id);
  refused (f, "evaluation", json, "at most 3");
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"1\": 2}}", reg, f->commune, set_id);
  refused (f, "evaluation", json, "no criterion");
  g_clear_pointer (&json, g_free);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": {\"level\": 1}, \"result\": \"level3\"}", reg, f->commune, set_id);
  refused (f, "evaluation", json, "Result");

  {
    json_object *scores = json_tokener_parse ("{\"level\": 2}");

    eval = kh_evaluate_save (f->store, reg, set, criteria, scores, NULL, "2026-01-10", &error);
    g_assert_no_error (error);
    json_object_put (scores);
  }
  record = kh_store_get (f->store, "evaluation", eval, NULL);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "result")), ==, "level2");
  g_assert_cmpint (json_object_get_int (json_object_object_get (record, "total")), ==, 2);
  json_object_put (record);
  record = kh_store_get (f->store, "registration", reg, NULL);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "state")), ==, "passed");
  json_object_put (record);
  json_object_put (set);
  json_object_put (criteria);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/models/evaluation-judged", test_evaluation_judged);
  ADD ("/models/set-applies-by-place", test_set_applies_by_place);
  ADD ("/models/set-versions", test_set_versions);
  ADD ("/models/recognitions", test_recognitions);
  ADD ("/models/citizen-share", test_citizen_share);
  ADD ("/models/builtin-sets", test_builtin_sets);
  ADD ("/models/builtin-community-levels", test_builtin_community_levels);
#undef ADD
  return g_test_run ();
}
