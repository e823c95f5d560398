/* test-server-area.c: areas that follow the units' succession, on SQLite or PostgreSQL
 *
 * Run as `test-server-area --backend=sqlite` or `--backend=postgresql`. The tree, made by
 * `org import` as after the 2025 reform:
 *
 *   N (nation)
 *   ├── NP (new province) ⊃ C1, C2 (new communes)
 *   ├── FP1 (former province → NP) ⊃ D1 (former district → C1) ⊃ W1, W2 (→ C1)
 *   ├── FP2 (former province → NP) ⊃ W3 (→ C2)
 *   └── X (another province) ⊃ XC (commune), X1 (former commune, linked later)
 *
 * with accounts officer_c1 (C1), officer_c2 (C2), admin_np (NP), admin_n (N, the national
 * association) and admin_x (X).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-test-server.h"
#include "kh-uuid.h"
#include "kh-wire.h"

static KhTestServer *server;
static char *officer_c1, *officer_c2, *admin_np, *admin_n, *admin_x;
static char *unit_c1, *unit_c2, *unit_np, *unit_n, *unit_x;
static GHashTable *units;   /* code → id */
static char *in_w1, *in_w3, *in_xc, *in_x1, *in_c1;

static json_object *
one (json_object *m)
{
  json_object *list = json_object_new_array ();

  json_object_array_add (list, m);
  return list;
}

static KhMutationResult *
result (KhPushResponse *r,
        guint           i)
{
  g_assert_cmpuint (i, <, r->results->len);
  return r->results->pdata[i];
}

static GHashTable *
records_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kh_record_free);
}

static const char *
field_string (KhRecord   *r,
              const char *name)
{
  json_object *v;

  if (json_object_object_get_ex (r->fields, name, &v) && v != NULL)
    return json_object_get_string (v);
  return NULL;
}

static const char *
unit (const char *code)
{
  const char *id = g_hash_table_lookup (units, code);

  g_assert_nonnull (id);
  return id;
}

static char *
make_person (const char *token,
             const char *name,
             const char *place,
             KhResultStatus expect)
{
  char *id = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = kh_test_push (server, token,
                                              one (kh_test_mutation ("create", "person", id, 0,
                                                                     kh_test_person (name, place))));

  g_assert_cmpint (result (r, 0)->status, ==, expect);
  return id;
}

static json_object *
succession (const char *pred,
            const char *succ)
{
  json_object *f = json_object_new_object ();

  json_object_object_add (f, "predecessor_id", json_object_new_string (pred));
  if (succ != NULL)
    json_object_object_add (f, "successor_id", json_object_new_string (succ));
  json_object_object_add (f, "kind", json_object_new_string (succ != NULL ? "merge" : "abolish"));
  json_object_object_add (f, "effective_date", json_object_new_string ("2025-07-01"));
  return f;
}

/* The successions a pull brought, as "PRED>SUCC" codes; and whether each has both ends. */
static void
assert_links (GHashTable         *copy,
              const char * const *expected)
{
  g_autoptr(GHashTable) code_of = g_hash_table_new (g_str_hash, g_str_equal);
  GHashTableIter iter;
  gpointer key, value;
  KhRecord *r;
  guint n = 0;

  g_hash_table_iter_init (&iter, units);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (code_of, value, key);
  g_hash_table_iter_init (&iter, copy);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
    if (strcmp (r->entity, "unit_succession") == 0 && !r->deleted)
      {
        const char *pred = field_string (r, "predecessor_id");
        const char *succ = field_string (r, "successor_id");
        g_autofree char *name = g_strdup_printf ("%s>%s", (char *) g_hash_table_lookup (code_of, pred),
                                                 succ ? (char *) g_hash_table_lookup (code_of, succ) : "");

        g_test_message ("link %s", name);
        g_assert_true (g_strv_contains (expected, name));
        /* No dangling end: the units a link names came in the same pull. */
        g_assert_true (g_hash_table_contains (copy, pred));
        g_assert_true (succ == NULL || g_hash_table_contains (copy, succ));
        n++;
      }
  g_assert_cmpuint (n, ==, g_strv_length ((char **) expected));
}

/* The new commune's officer reads its predecessors' records and their links, and nothing of
 * the former units that went elsewhere; the province admin has every former unit of the new
 * province; the national account everything. */
static void
test_area_reads (void)
{
  g_autoptr(GHashTable) c1 = records_table ();
  g_autoptr(GHashTable) np = records_table ();
  g_autoptr(GHashTable) n = records_table ();
  g_autofree char *k1 = kh_test_pull_all (server, officer_c1, NULL, 3, c1, NULL, NULL);
  g_autofree char *k2 = kh_test_pull_all (server, admin_np, NULL, 3, np, NULL, NULL);
  g_autofree char *k3 = kh_test_pull_all (server, admin_n, NULL, 1000, n, NULL, NULL);
  const char * const c1_links[] = { "W1>C1", "W2>C1", "D1>C1", NULL };
  const char * const np_links[] = { "FP1>NP", "FP2>NP", "W1>C1", "W2>C1", "D1>C1", "W3>C2", NULL };

  g_assert_true (g_hash_table_contains (c1, in_w1));
  g_assert_true (g_hash_table_contains (c1, in_c1));
  g_assert_true (g_hash_table_contains (c1, unit ("W1")));
  g_assert_true (g_hash_table_contains (c1, unit ("D1")));
  g_assert_false (g_hash_table_contains (c1, in_w3));
  g_assert_false (g_hash_table_contains (c1, in_xc));
  g_assert_false (g_hash_table_contains (c1, unit ("FP1")));
  g_assert_false (g_hash_table_contains (c1, unit ("W3")));
  assert_links (c1, c1_links);

  g_assert_true (g_hash_table_contains (np, in_w1));
  g_assert_true (g_hash_table_contains (np, in_w3));
  g_assert_true (g_hash_table_contains (np, unit ("FP1")));
  g_assert_true (g_hash_table_contains (np, unit ("FP2")));
  g_assert_false (g_hash_table_contains (np, in_xc));
  g_assert_false (g_hash_table_contains (np, unit ("N")));
  assert_links (np, np_links);

  g_assert_true (g_hash_table_contains (n, in_w1));
  g_assert_true (g_hash_table_contains (n, in_w3));
  g_assert_true (g_hash_table_contains (n, in_xc));
  g_assert_true (g_hash_table_contains (n, unit ("X")));

  /* The integrity sums are over the same area as the feed. */
  {
    g_autoptr(KhReply) r = kh_http_json (server, "GET", "/v1/integrity", officer_c1, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(KhIntegrity) sums = NULL;
    GHashTableIter iter;
    KhRecord *rec;
    gint64 people = 0;

    g_assert_cmpint (r->status, ==, 200);
    sums = kh_integrity_from_json (r->json, &error);
    g_assert_no_error (error);
    g_hash_table_iter_init (&iter, c1);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &rec))
      people += strcmp (rec->entity, "person") == 0 && !rec->deleted;
    g_assert_cmpint (kh_integrity_lookup (sums, "person")->count, ==, people);
  }
}

/* The push's checks use the same area: the new commune's officer corrects a predecessor's
 * record and writes in a former unit of its own, and references a predecessor's record, but
 * cannot write in another new commune's predecessor nor link units. */
static void
test_area_writes (void)
{
  g_autoptr(GHashTable) c1 = records_table ();
  g_autofree char *k = kh_test_pull_all (server, officer_c1, NULL, 1000, c1, NULL, NULL);
  KhRecord *person = g_hash_table_lookup (c1, in_w1);
  json_object *f = json_object_new_object ();
  g_autoptr(KhPushResponse) r = NULL;
  g_autofree char *in_w2 = make_person (officer_c1, "Phan Thị Thu", unit ("W2"), KH_RESULT_APPLIED);
  g_autofree char *stray = make_person (officer_c1, "Lý Văn Bình", unit ("W3"), KH_RESULT_REJECTED);
  g_autofree char *household = kh_uuid_v7_new ();
  g_autofree char *link = kh_uuid_v7_new ();

  g_assert_nonnull (person);
  json_object_object_add (f, "phone", json_object_new_string ("0912345678"));
  r = kh_test_push (server, officer_c1, one (kh_test_mutation ("update", "person", in_w1, person->version, f)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  g_clear_pointer (&r, kh_push_response_free);

  /* A household of the new commune headed by a person of the former ward. */
  f = json_object_new_object ();
  json_object_object_add (f, "head_name", json_object_new_string ("Nguyễn Văn An"));
  json_object_object_add (f, "head_id", json_object_new_string (in_w1));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_c1));
  r = kh_test_push (server, officer_c1, one (kh_test_mutation ("create", "household", household, 0, f)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  g_clear_pointer (&r, kh_push_response_free);

  /* The same, headed by a person of C2's former ward: not in C1's area. */
  f = json_object_new_object ();
  json_object_object_add (f, "head_name", json_object_new_string ("Nguyễn Văn An"));
  json_object_object_add (f, "head_id", json_object_new_string (in_w3));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_c1));
  {
    g_autofree char *other = kh_uuid_v7_new ();

    r = kh_test_push (server, officer_c1, one (kh_test_mutation ("create", "household", other, 0, f)));
  }
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r, 0)->field, ==, "head_id");
  g_clear_pointer (&r, kh_push_response_free);

  /* Only an administrator links units: a link widens an area. */
  r = kh_test_push (server, officer_c1, one (kh_test_mutation ("create", "unit_succession", link, 0,
                                                               succession (unit ("W3"), unit_c1))));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r, 0)->code, ==, "forbidden");
  g_clear_pointer (&r, kh_push_response_free);

  /* C2's officer reads none of it. */
  {
    g_autoptr(GHashTable) c2 = records_table ();
    g_autofree char *k2 = kh_test_pull_all (server, officer_c2, NULL, 1000, c2, NULL, NULL);

    g_assert_false (g_hash_table_contains (c2, in_w2));
    g_assert_false (g_hash_table_contains (c2, in_w1));
    g_assert_true (g_hash_table_contains (c2, in_w3));
  }
}

/* A new link has those whose area holds its successor pull again from the start (a reset) and
 * get the predecessor's records; removing it takes them away again at the next reset. */
static void
test_new_link_backfills (void)
{
  g_autoptr(GHashTable) c2 = records_table ();
  g_autoptr(GHashTable) c1 = records_table ();
  g_autofree char *k2 = kh_test_pull_all (server, officer_c2, NULL, 1000, c2, NULL, NULL);
  g_autofree char *k1 = kh_test_pull_all (server, officer_c1, NULL, 1000, c1, NULL, NULL);
  g_autofree char *k2b = NULL;
  g_autofree char *k1b = NULL;
  g_autofree char *kx = NULL;
  g_autofree char *link = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = NULL;
  g_autoptr(GHashTable) again = records_table ();
  g_autoptr(GHashTable) x = records_table ();
  gboolean reset = FALSE;

  g_assert_false (g_hash_table_contains (c2, in_x1));
  r = kh_test_push (server, admin_n, one (kh_test_mutation ("create", "unit_succession", link, 0,
                                                            succession (unit ("X1"), unit_c2))));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);

  k2b = kh_test_pull_all (server, officer_c2, k2, 1000, c2, &reset, NULL);
  g_assert_true (reset);
  g_assert_true (g_hash_table_contains (c2, in_x1));
  g_assert_true (g_hash_table_contains (c2, link));
  /* C1's area does not hold C2: no reset for it. */
  reset = TRUE;
  k1b = kh_test_pull_all (server, officer_c1, k1, 1000, c1, &reset, NULL);
  g_assert_false (reset);
  g_assert_false (g_hash_table_contains (c1, link));
  /* X's admin has X1 (its subtree) but not the link, whose successor is not X's. */
  kx = kh_test_pull_all (server, admin_x, NULL, 1000, x, NULL, NULL);
  g_assert_true (g_hash_table_contains (x, in_x1));
  g_assert_false (g_hash_table_contains (x, link));

  /* The link goes: C2 pulls again without X1's records. */
  g_clear_pointer (&r, kh_push_response_free);
  r = kh_test_push (server, admin_n, one (kh_test_mutation ("delete", "unit_succession", link,
                                                            ((KhRecord *) g_hash_table_lookup (c2, link))->version,
                                                            NULL)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  g_free (kh_test_pull_all (server, officer_c2, NULL, 1000, again, NULL, NULL));
  g_assert_false (g_hash_table_contains (again, in_x1));
  g_assert_true (g_hash_table_contains (again, in_w3));
}

/* An abolished unit's link (no successor) is its predecessor's: it reaches only the areas
 * that hold that unit. */
static void
test_abolition_link (void)
{
  g_autofree char *link = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = kh_test_push (server, admin_n,
                                              one (kh_test_mutation ("create", "unit_succession", link, 0,
                                                                     succession (unit ("W2"), NULL))));
  g_autoptr(GHashTable) c1 = records_table ();
  g_autoptr(GHashTable) c2 = records_table ();
  g_autoptr(GHashTable) x = records_table ();

  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  g_free (kh_test_pull_all (server, officer_c1, NULL, 1000, c1, NULL, NULL));
  g_free (kh_test_pull_all (server, officer_c2, NULL, 1000, c2, NULL, NULL));
  g_free (kh_test_pull_all (server, admin_x, NULL, 1000, x, NULL, NULL));
  g_assert_true (g_hash_table_contains (c1, link));
  g_assert_false (g_hash_table_contains (c2, link));
  g_assert_false (g_hash_table_contains (x, link));
}

/* The hierarchy of kinds, through the server: a district after the reform, a commune straight
 * under the nation and a nation under a province are refused, naming the field. */
static void
test_unit_kinds (void)
{
  const struct
  {
    const char *kind;
    const char *parent;
    const char *valid_to;
    const char *field;
  } cases[] = {
    { "district", "NP", NULL, "valid_to" },
    { "commune", "N", NULL, "parent_id" },
    { "nation", "X", NULL, "parent_id" },
    { "district", "FP1", "2025-06-30", NULL },
    { "province", "N", NULL, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();
      g_autofree char *code = g_strdup_printf ("K%u", i);
      json_object *f = json_object_new_object ();
      g_autoptr(KhPushResponse) r = NULL;

      json_object_object_add (f, "code", json_object_new_string (code));
      json_object_object_add (f, "name", json_object_new_string (code));
      json_object_object_add (f, "kind", json_object_new_string (cases[i].kind));
      json_object_object_add (f, "parent_id", json_object_new_string (unit (cases[i].parent)));
      if (cases[i].valid_to != NULL)
        json_object_object_add (f, "valid_to", json_object_new_string (cases[i].valid_to));
      r = kh_test_push (server, admin_n, one (kh_test_mutation ("create", "org_unit", id, 0, f)));
      g_test_message ("%s under %s", cases[i].kind, cases[i].parent);
      if (cases[i].field == NULL)
        g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
      else
        {
          g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_REJECTED);
          g_assert_cmpstr (result (r, 0)->field, ==, cases[i].field);
        }
    }
}

static json_object *
registration (const char *place,
              int         year)
{
  json_object *f = json_object_new_object ();

  json_object_object_add (f, "model", json_object_new_string ("citizen"));
  json_object_object_add (f, "year", json_object_new_int (year));
  json_object_object_add (f, "org_unit_id", json_object_new_string (place));
  json_object_object_add (f, "subject_kind", json_object_new_string ("person"));
  json_object_object_add (f, "subject_id", json_object_new_string (in_w1));
  json_object_object_add (f, "subject_name", json_object_new_string ("Trần Văn Một"));
  json_object_object_add (f, "status", json_object_new_string ("registered"));
  return f;
}

/* Records in time, through the server: a 2023 registration in the commune made in 2025 is
 * refused naming its predecessors, in the former ward it is taken; an evaluation dated after
 * the former ward ended is refused naming its successor. */
static void
test_records_in_time (void)
{
  g_autofree char *early = kh_uuid_v7_new ();
  g_autofree char *old = kh_uuid_v7_new ();
  g_autofree char *late = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r1 = kh_test_push (server, admin_np,
                                               one (kh_test_mutation ("create", "registration", early, 0,
                                                                      registration (unit_c1, 2023))));
  g_autoptr(KhPushResponse) r2 = kh_test_push (server, admin_np,
                                               one (kh_test_mutation ("create", "registration", old, 0,
                                                                      registration (unit ("W1"), 2023))));
  g_autoptr(KhPushResponse) r3 = NULL;
  json_object *f = json_object_new_object ();

  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r1, 0)->code, ==, "invalid");
  g_assert_cmpstr (result (r1, 0)->field, ==, "year");
  g_test_message ("%s", result (r1, 0)->message);
  g_assert_nonnull (strstr (result (r1, 0)->message, "Xã Cũ Một"));
  g_assert_nonnull (strstr (result (r1, 0)->message, "Xã Cũ Hai"));
  g_assert_cmpint (result (r2, 0)->status, ==, KH_RESULT_APPLIED);

  json_object_object_add (f, "registration_id", json_object_new_string (old));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit ("W1")));
  json_object_object_add (f, "result", json_object_new_string ("pass"));
  json_object_object_add (f, "evaluated_on", json_object_new_string ("2025-08-15"));
  r3 = kh_test_push (server, officer_c1, one (kh_test_mutation ("create", "evaluation", late, 0, f)));
  g_assert_cmpint (result (r3, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r3, 0)->field, ==, "evaluated_on");
  g_test_message ("%s", result (r3, 0)->message);
  g_assert_nonnull (strstr (result (r3, 0)->message, "Xã Một"));
  g_assert_nonnull (strstr (result (r3, 0)->message, "15/08/2025"));
}

/* The same subject registered twice for one model and year: the server takes the first and
 * answers the second `already_registered`, naming who registered it first, in words and as the
 * member `registered`; an evaluation of the refused one in the same batch is refused too; a
 * withdrawn registration does not count. */
static void
test_registered_twice (void)
{
  g_autofree char *first = kh_uuid_v7_new ();
  g_autofree char *second = kh_uuid_v7_new ();
  g_autofree char *third = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r1 = kh_test_push (server, officer_c1,
                                               one (kh_test_mutation ("create", "registration", first, 0,
                                                                      registration (unit_c1, 2026))));
  g_autoptr(KhPushResponse) r2 = kh_test_push (server, admin_np,
                                               one (kh_test_mutation ("create", "registration", second, 0,
                                                                      registration (unit_c1, 2026))));
  g_autoptr(KhPushResponse) r3 = NULL;
  g_autoptr(KhPushResponse) r4 = NULL;
  json_object *withdraw = json_object_new_object ();

  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result (r2, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r2, 0)->code, ==, "already_registered");
  g_assert_cmpstr (result (r2, 0)->field, ==, "subject_id");
  g_test_message ("%s", result (r2, 0)->message);
  g_assert_nonnull (strstr (result (r2, 0)->message, "officer_c1"));
  g_assert_nonnull (strstr (result (r2, 0)->message, first));
  /* The answer names the registration kept, for the client's conflict of its own kind. */
  g_assert_cmpstr (result (r2, 0)->registered_id, ==, first);
  g_assert_cmpstr (result (r2, 0)->registered_by, ==, "officer_c1");
  g_assert_nonnull (result (r2, 0)->registered_at);
  /* In one batch with it, an evaluation of the registration refused names nothing. */
  {
    g_autofree char *again = kh_uuid_v7_new ();
    g_autofree char *eval = kh_uuid_v7_new ();
    json_object *list = one (kh_test_mutation ("create", "registration", again, 0, registration (unit_c1, 2026)));
    json_object *e = json_object_new_object ();
    g_autoptr(KhPushResponse) r = NULL;

    json_object_object_add (e, "registration_id", json_object_new_string (again));
    json_object_object_add (e, "org_unit_id", json_object_new_string (unit_c1));
    json_object_object_add (e, "result", json_object_new_string ("pass"));
    json_object_object_add (e, "evaluated_on", json_object_new_string ("2026-03-01"));
    json_object_array_add (list, kh_test_mutation ("create", "evaluation", eval, 0, e));
    r = kh_test_push (server, admin_np, list);
    g_assert_cmpstr (result (r, 0)->code, ==, "already_registered");
    g_assert_cmpint (result (r, 1)->status, ==, KH_RESULT_REJECTED);
    g_assert_cmpstr (result (r, 1)->field, ==, "registration_id");
  }

  /* Withdrawn, the first no longer stands in the way. */
  json_object_object_add (withdraw, "status", json_object_new_string ("withdrawn"));
  r3 = kh_test_push (server, officer_c1, one (kh_test_mutation ("update", "registration", first,
                                                                result (r1, 0)->version, withdraw)));
  g_assert_cmpint (result (r3, 0)->status, ==, KH_RESULT_APPLIED);
  r4 = kh_test_push (server, admin_np, one (kh_test_mutation ("create", "registration", third, 0,
                                                              registration (unit_c1, 2026))));
  g_assert_cmpint (result (r4, 0)->status, ==, KH_RESULT_APPLIED);
}

static void
populate (const char **threads)
{
  g_autofree char *csv = g_build_filename (server->dir, "area.csv", NULL);
  const char *users[][3] = {
    { "officer_c1", "officer", "C1" }, { "officer_c2", "officer", "C2" },
    { "admin_np", "admin", "NP" }, { "admin_n", "admin", "N" }, { "admin_x", "admin", "X" },
  };
  g_autoptr(GHashTable) all = records_table ();
  GHashTableIter iter;
  KhRecord *r;

  g_assert_true (g_file_set_contents (csv,
    "code,name,kind,parent_code,valid_from,valid_to,population,address,successor_codes,change,change_date,legal_basis\n"
    "N,Toàn quốc,nation,,,,,,,,,\n"
    "NP,Tỉnh Mới,province,N,2025-07-01,,,,,,,\n"
    "C1,Xã Một,commune,NP,2025-07-01,,,,,,,\n"
    "C2,Xã Hai,commune,NP,2025-07-01,,,,,,,\n"
    "FP1,Tỉnh Cũ Một,province,N,,2025-06-30,,,NP,merge,01/07/2025,Nghị quyết 202/2025/QH15\n"
    "D1,Huyện Cũ,district,FP1,,2025-06-30,,,C1,merge,01/07/2025,Nghị quyết 1667/NQ-UBTVQH15\n"
    "W1,Xã Cũ Một,commune,D1,,2025-06-30,,,C1,merge,01/07/2025,Nghị quyết 1667/NQ-UBTVQH15\n"
    "W2,Xã Cũ Hai,commune,D1,,2025-06-30,,,C1,merge,01/07/2025,Nghị quyết 1667/NQ-UBTVQH15\n"
    "FP2,Tỉnh Cũ Hai,province,N,,2025-06-30,,,NP,merge,01/07/2025,Nghị quyết 202/2025/QH15\n"
    "W3,Xã Cũ Ba,commune,FP2,,2025-06-30,,,C2,merge,01/07/2025,Nghị quyết 1667/NQ-UBTVQH15\n"
    "X,Tỉnh Khác,province,N,,,,,,,,\n"
    "XC,Xã Khác,commune,X,,,,,,,,\n"
    "X1,Xã Khác Cũ,commune,X,,2025-06-30,,,,,,\n", -1, NULL));
  kh_test_server_cli (server, NULL, "org", "import", csv, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (users); i++)
    {
      g_autofree char *pw = g_strdup_printf ("password-%s\n", users[i][0]);

      kh_test_server_cli (server, pw, "user", "add", users[i][0], "--role", users[i][1],
                          "--scope", users[i][2], NULL);
    }
  kh_test_server_start (server, threads);
  officer_c1 = kh_test_login (server, "officer_c1", &unit_c1);
  officer_c2 = kh_test_login (server, "officer_c2", &unit_c2);
  admin_np = kh_test_login (server, "admin_np", &unit_np);
  admin_n = kh_test_login (server, "admin_n", &unit_n);
  admin_x = kh_test_login (server, "admin_x", &unit_x);

  units = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_free (kh_test_pull_all (server, admin_n, NULL, 1000, all, NULL, NULL));
  g_hash_table_iter_init (&iter, all);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
    if (strcmp (r->entity, "org_unit") == 0)
      g_hash_table_insert (units, g_strdup (field_string (r, "code")), g_strdup (r->id));

  in_w1 = make_person (admin_n, "Trần Văn Một", unit ("W1"), KH_RESULT_APPLIED);
  in_w3 = make_person (admin_n, "Trần Văn Ba", unit ("W3"), KH_RESULT_APPLIED);
  in_xc = make_person (admin_n, "Trần Văn Khác", unit ("XC"), KH_RESULT_APPLIED);
  in_x1 = make_person (admin_x, "Trần Văn Cũ", unit ("X1"), KH_RESULT_APPLIED);
  in_c1 = make_person (officer_c1, "Trần Văn Mới", unit_c1, KH_RESULT_APPLIED);
}

int
main (int argc, char **argv)
{
  const char *backend = "sqlite";
  const char *threads[] = { "--threads", "2", NULL };
  int status;
  int k = 1;

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--backend="))
      backend = argv[i] + strlen ("--backend=");
    else
      argv[k++] = argv[i];
  argc = k;
  g_test_init (&argc, &argv, NULL);

  server = kh_test_server_new (backend);
  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set: no PostgreSQL to test against");
      return g_test_run ();
    }
  populate (threads);

  g_test_add_func ("/server/area/reads", test_area_reads);
  g_test_add_func ("/server/area/writes", test_area_writes);
  g_test_add_func ("/server/area/new-link-backfills", test_new_link_backfills);
  g_test_add_func ("/server/area/abolition-link", test_abolition_link);
  g_test_add_func ("/server/area/unit-kinds", test_unit_kinds);
  g_test_add_func ("/server/area/records-in-time", test_records_in_time);
  g_test_add_func ("/server/area/registered-twice", test_registered_twice);
  status = g_test_run ();
  kh_test_server_free (server);
  return status;
}
