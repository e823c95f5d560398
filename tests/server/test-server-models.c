/* test-server-models.c: the learning models' rules held by the real server, on SQLite or on
 * PostgreSQL: what an old or altered replica could send is refused as the store refuses it
 * (data/kh-models.c, sync/server/kh-server-models.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-evaluate.h"
#include "kh-models.h"
#include "kh-test-server.h"
#include "kh-test-store.h"
#include "kh-uuid.h"

static KhTestServer *server;
static char *admin, *officer_a;
static char *unit_p, *unit_a;

static KhPushResponse *
push_one (const char  *token,
          const char  *op,
          const char  *entity,
          const char  *id,
          gint64       base,
          const char  *json)
{
  json_object *list = json_object_new_array ();
  json_object *fields = json_tokener_parse (json);

  g_assert_nonnull (fields);
  json_object_array_add (list, kh_test_mutation (op, entity, id, base, fields));
  return kh_test_push (server, token, list);
}

static KhMutationResult *
first (KhPushResponse *r)
{
  g_assert_cmpuint (r->results->len, >=, 1);
  return r->results->pdata[0];
}

/* Creates @entity from @json as @token; asserts it is applied. */
static char *
make (const char *token,
      const char *entity,
      const char *json)
{
  char *id = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = push_one (token, "create", entity, id, 0, json);

  if (first (r)->status != KH_RESULT_APPLIED)
    g_error ("%s %s: %s", entity, json, first (r)->message);
  return id;
}

/* The write of @entity from @json is refused, with a message containing @words. */
static void
refused (const char *token,
         const char *op,
         const char *entity,
         const char *id,
         gint64      base,
         const char *json,
         const char *words)
{
  g_autofree char *fresh = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = push_one (token, op, entity, id != NULL ? id : fresh, base, json);

  g_assert_cmpint (first (r)->status, ==, KH_RESULT_REJECTED);
  if (strstr (first (r)->message, words) == NULL)
    g_error ("“%s” does not say “%s”", first (r)->message, words);
}

static char *points_set;
static gint64 points_set_version;

static char *
registration (const char *name)
{
  g_autofree char *hh = g_strdup_printf ("{\"head_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, unit_a);
  g_autofree char *household = make (officer_a, "household", hh);
  g_autofree char *json = g_strdup_printf ("{\"model\": \"family\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                                           "\"subject_kind\": \"household\", \"subject_id\": \"%s\", "
                                           "\"subject_name\": \"%s\", \"status\": \"registered\"}",
                                           unit_a, household, name);

  return make (officer_a, "registration", json);
}

static char *
evaluation_json (const char *reg,
                 const char *scores,
                 const char *rest)
{
  return g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", "
                          "\"scores\": %s, %s}", reg, unit_a, points_set, scores, rest);
}

static void
test_evaluations (void)
{
  g_autofree char *reg = registration ("Nguyễn Văn Hùng");
  g_autofree char *json = NULL;

  /* total=12 result=level3 on a points set; 95 points on a 30-point criterion; 88 as fail. */
  json = evaluation_json (reg, "{\"1\": 6, \"2\": 6}", "\"total\": 12, \"result\": \"level3\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "Result");
  g_free (json);
  json = evaluation_json (reg, "{\"1\": 95}", "\"total\": 95, \"result\": \"pass\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "at most 30");
  g_free (json);
  json = evaluation_json (reg, "{\"1\": 28, \"2\": 25, \"3\": 18, \"4\": 17}", "\"total\": 88, \"result\": \"fail\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "Result");
  g_free (json);
  json = evaluation_json (reg, "{\"7\": 5}", "\"total\": 5, \"result\": \"fail\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "no criterion");
  g_free (json);
  json = evaluation_json (reg, "{\"1\": 28, \"2\": 25}", "\"total\": 90, \"result\": \"fail\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "Total points");
  g_free (json);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"total\": 88, \"result\": \"fail\"}",
                          reg, unit_a);
  refused (officer_a, "create", "evaluation", NULL, 0, json, "Criteria set");
  g_assert_cmpint (kh_test_server_count (server, "SELECT count(*) FROM records WHERE entity = 'evaluation'"), ==, 0);

  /* A good one is applied; an edit that breaks it is refused. */
  g_free (json);
  json = evaluation_json (reg, "{\"1\": 28, \"2\": 25, \"3\": 18, \"4\": 17}", "\"total\": 88, \"result\": \"pass\"");
  {
    char *id = kh_uuid_v7_new ();
    g_autoptr(KhPushResponse) r = push_one (officer_a, "create", "evaluation", id, 0, json);

    g_assert_cmpint (first (r)->status, ==, KH_RESULT_APPLIED);
    refused (officer_a, "update", "evaluation", id, first (r)->version, "{\"scores\": {\"1\": 40}}", "at most 30");
    g_free (id);
  }
}

static void
test_sets_in_use (void)
{
  g_autofree char *json = NULL;
  g_autofree char *spare = make (admin, "criteria_set", "{\"name\": \"Dòng họ\", \"model\": \"clan\", \"method\": \"checklist\"}");

  /* Unused, a set changes, and takes criteria. */
  json = g_strdup_printf ("{\"criteria_set_id\": \"%s\", \"code\": \"a\", \"title\": \"Có quỹ\"}", spare);
  g_free (make (admin, "criterion", json));

  /* Used (test_evaluations ran first): no change but its end date, no new criterion. */
  refused (admin, "update", "criteria_set", points_set, points_set_version, "{\"pass_min_total\": 90}", "new version");
  g_free (json);
  json = g_strdup_printf ("{\"criteria_set_id\": \"%s\", \"code\": \"5\", \"title\": \"Thêm\", \"max_points\": 10}",
                          points_set);
  refused (admin, "create", "criterion", NULL, 0, json, "new version");
  {
    g_autoptr(KhPushResponse) r = push_one (admin, "update", "criteria_set", points_set, points_set_version,
                                            "{\"valid_to\": \"2030-12-31\"}");

    g_assert_cmpint (first (r)->status, ==, KH_RESULT_APPLIED);
  }
}

static void
test_recognitions (void)
{
  g_autofree char *passed = registration ("Trần Thị Lan");
  g_autofree char *failed = registration ("Lê Văn Nam");
  g_autofree char *json = NULL;
  json_object *list = json_object_new_array ();
  g_autoptr(KhPushResponse) r = NULL;

  json = evaluation_json (passed, "{\"1\": 30, \"2\": 30, \"3\": 20, \"4\": 15}", "\"total\": 95, \"result\": \"pass\"");
  g_free (make (officer_a, "evaluation", json));
  g_free (json);
  json = evaluation_json (failed, "{\"1\": 10}", "\"total\": 10, \"result\": \"fail\"");
  g_free (make (officer_a, "evaluation", json));

  g_free (json);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"3/QĐ-UBND\", "
                          "\"decision_date\": \"2025-12-20\", \"issuing_level\": \"commune\"}", failed, unit_a);
  refused (officer_a, "create", "recognition", NULL, 0, json, "did not pass");
  g_free (json);
  json = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"3/QĐ-UBND\", "
                          "\"decision_date\": \"2025-08-01\", \"issuing_level\": \"district\"}", passed, unit_a);
  refused (officer_a, "create", "recognition", NULL, 0, json, "district");

  /* One decision, both: one by its passed evaluation, one with a reason. */
  {
    g_autofree char *id1 = kh_uuid_v7_new ();
    g_autofree char *id2 = kh_uuid_v7_new ();
    g_autofree char *j1 = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"3/QĐ-UBND\", "
                                           "\"decision_date\": \"2025-12-20\", \"issuing_level\": \"commune\"}", passed, unit_a);
    g_autofree char *j2 = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"decision_number\": \"3/QĐ-UBND\", "
                                           "\"decision_date\": \"2025-12-20\", \"issuing_level\": \"commune\", "
                                           "\"reason\": \"Xét đặc cách\"}", failed, unit_a);

    json_object_array_add (list, kh_test_mutation ("create", "recognition", id1, 0, json_tokener_parse (j1)));
    json_object_array_add (list, kh_test_mutation ("create", "recognition", id2, 0, json_tokener_parse (j2)));
    r = kh_test_push (server, officer_a, list);
    g_assert_cmpint (((KhMutationResult *) r->results->pdata[0])->status, ==, KH_RESULT_APPLIED);
    g_assert_cmpint (((KhMutationResult *) r->results->pdata[1])->status, ==, KH_RESULT_APPLIED);
  }
}

/* @record's fields (those of @entity) with @changes on top, as a push carries them. */
static json_object *
fields_of (const char  *entity,
           json_object *record,
           const char  *key,
           const char  *value)
{
  const KhEntity *e = kh_entity_lookup (entity);
  json_object *out = json_object_new_object ();

  for (guint i = 0; i < e->n_fields; i++)
    {
      json_object *v = json_object_object_get (record, e->fields[i].name);

      if (v != NULL)
        json_object_object_add (out, e->fields[i].name, json_object_get (v));
    }
  if (key != NULL)
    json_object_object_add (out, key, json_object_new_string (value));
  return out;
}

/* The built-in set for a commune as a learning community (Circular 20/2023), as the store
 * installs it and an admin's replica sends it, holds on the server: the level the assessment
 * reached, 0 to 3, and nothing else. */
static void
test_builtin_community_levels (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "builtin.db");
  g_autoptr(GError) error = NULL;
  g_autofree char *set_id = kh_uuid_v7_new ();
  g_autofree char *reg = NULL;
  g_autofree char *json = NULL;
  json_object *list = json_object_new_array ();
  json_object *set = NULL;
  json_object *criteria = NULL;
  g_autoptr(KhPushResponse) r = NULL;

  g_assert_true (kh_criteria_install_builtin (store, NULL, &error));
  g_assert_no_error (error);
  set = kh_criteria_set_for (store, "community", 2025, NULL, "commune", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (set, "legal_basis")), ==, "Thông tư 20/2023/TT-BGDĐT");
  criteria = kh_criteria_list (store, json_object_get_string (json_object_object_get (set, "id")), &error);
  g_assert_no_error (error);
  json_object_array_add (list, kh_test_mutation ("create", "criteria_set", set_id, 0,
                                                 fields_of ("criteria_set", set, NULL, NULL)));
  for (size_t i = 0; i < json_object_array_length (criteria); i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();

      json_object_array_add (list, kh_test_mutation ("create", "criterion", id, 0,
                                                     fields_of ("criterion", json_object_array_get_idx (criteria, i),
                                                                "criteria_set_id", set_id)));
    }
  r = kh_test_push (server, admin, list);
  for (guint i = 0; i < r->results->len; i++)
    g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
  json_object_put (set);
  json_object_put (criteria);
  g_clear_object (&store);
  kh_test_rmdir (dir);

  json = g_strdup_printf ("{\"model\": \"community\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                          "\"subject_kind\": \"org_unit\", \"subject_id\": \"%s\", \"subject_name\": \"Xã A\", "
                          "\"status\": \"registered\"}", unit_a, unit_a);
  reg = make (officer_a, "registration", json);
#define EVALUATION(scores, rest) \
  g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"criteria_set_id\": \"%s\", " \
                   "\"scores\": " scores rest "}", reg, unit_a, set_id)
  g_free (json);
  json = EVALUATION ("{\"level\": 4}", ", \"total\": 4, \"result\": \"level3\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "at most 3");
  g_free (json);
  json = EVALUATION ("{\"1\": 2}", ", \"total\": 2, \"result\": \"level2\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "no criterion");
  g_free (json);
  json = EVALUATION ("{\"level\": 1}", ", \"total\": 1, \"result\": \"level3\"");
  refused (officer_a, "create", "evaluation", NULL, 0, json, "Result");
  g_free (json);
  json = EVALUATION ("{\"level\": 2}", ", \"total\": 2, \"result\": \"level2\"");
  g_free (make (officer_a, "evaluation", json));
  g_free (json);
  json = EVALUATION ("{\"level\": 0}", ", \"total\": 0, \"result\": \"not_achieved\"");
  g_free (make (officer_a, "evaluation", json));
#undef EVALUATION
}

int
main (int argc, char **argv)
{
  const char *backend = "sqlite";
  int status;
  int k = 1;

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--backend="))
      backend = argv[i] + strlen ("--backend=");
    else
      argv[k++] = argv[i];
  argc = k;
  g_test_init (&argc, &argv, NULL);

  server = kh_test_server_new_serving (backend);
  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set: no PostgreSQL to test against");
      return g_test_run ();
    }
  admin = kh_test_login (server, "admin", &unit_p);
  officer_a = kh_test_login (server, "officer_a", &unit_a);
  {
    g_autoptr(KhPushResponse) r = NULL;
    json_object *list = json_object_new_array ();
    static const int max[] = { 30, 30, 20, 20 };

    points_set = kh_uuid_v7_new ();
    json_object_array_add (list, kh_test_mutation ("create", "criteria_set", points_set, 0,
                                                   json_tokener_parse ("{\"name\": \"Gia đình học tập\", \"model\": \"family\", "
                                                                       "\"method\": \"points\", \"pass_min_total\": 80}")));
    for (int i = 0; i < 4; i++)
      {
        g_autofree char *id = kh_uuid_v7_new ();
        g_autofree char *json = g_strdup_printf ("{\"criteria_set_id\": \"%s\", \"code\": \"%d\", \"title\": \"Tiêu chí %d\", "
                                                 "\"max_points\": %d}", points_set, i + 1, i + 1, max[i]);

        json_object_array_add (list, kh_test_mutation ("create", "criterion", id, 0, json_tokener_parse (json)));
      }
    r = kh_test_push (server, admin, list);
    for (guint i = 0; i < r->results->len; i++)
      g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
    points_set_version = ((KhMutationResult *) r->results->pdata[0])->version;
  }

  g_test_add_func ("/server/models/evaluations", test_evaluations);
  g_test_add_func ("/server/models/sets-in-use", test_sets_in_use);
  g_test_add_func ("/server/models/recognitions", test_recognitions);
  g_test_add_func ("/server/models/builtin-community-levels", test_builtin_community_levels);
  status = g_test_run ();
  kh_test_server_stop (server);
  kh_test_server_free (server);
  g_free (admin);
  g_free (officer_a);
  g_free (unit_p);
  g_free (unit_a);
  g_free (points_set);
  return status;
}
