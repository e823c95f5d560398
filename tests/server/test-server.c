/* test-server.c: the real khuyenhoc-server over HTTP, on SQLite or on PostgreSQL
 *
 * Run as `test-server --backend=sqlite` or `--backend=postgresql`: every case runs against a
 * fresh database of that backend, with the server binary started on a free port.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <curl/curl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "kh-test-server.h"
#include "kh-uuid.h"
#include "kh-wire.h"

static KhTestServer *server;
static char *admin, *officer_a, *officer_b, *viewer_a;
static char *unit_p, *unit_a, *unit_b;

/* Helpers ---------------------------------------------------------------------------------- */

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

/* Creates a person in @unit as @token; returns its id and version. */
static char *
make_person (const char *token,
             const char *name,
             const char *unit,
             gint64     *version)
{
  char *id = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r = kh_test_push (server, token,
                                              one (kh_test_mutation ("create", "person", id, 0,
                                                                     kh_test_person (name, unit))));

  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  if (version != NULL)
    *version = result (r, 0)->version;
  return id;
}

/* Registers a new person of @unit as a learning citizen, as @token; returns the registration. */
static char *
make_registration (const char *token,
                   const char *unit)
{
  g_autofree char *person = make_person (token, "Lê Văn Đăng", unit, NULL);
  char *id = kh_uuid_v7_new ();
  json_object *f = json_object_new_object ();
  g_autoptr(KhPushResponse) r = NULL;

  json_object_object_add (f, "model", json_object_new_string ("citizen"));
  json_object_object_add (f, "year", json_object_new_int64 (2025));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit));
  json_object_object_add (f, "subject_kind", json_object_new_string ("person"));
  json_object_object_add (f, "subject_id", json_object_new_string (person));
  json_object_object_add (f, "subject_name", json_object_new_string ("Lê Văn Đăng"));
  json_object_object_add (f, "status", json_object_new_string ("registered"));
  r = kh_test_push (server, token, one (kh_test_mutation ("create", "registration", id, 0, f)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);
  return id;
}

static KhIntegrity *
integrity (const char *token)
{
  g_autoptr(KhReply) r = kh_http_json (server, "GET", "/v1/integrity", token, NULL);
  g_autoptr(GError) error = NULL;
  KhIntegrity *i;

  g_assert_cmpint (r->status, ==, 200);
  i = kh_integrity_from_json (r->json, &error);
  g_assert_no_error (error);
  return i;
}

static void
assert_same_integrity (KhIntegrity *a,
                       KhIntegrity *b)
{
  g_assert_cmpuint (a->entities->len, ==, b->entities->len);
  for (guint i = 0; i < a->entities->len; i++)
    {
      KhIntegrityEntry *e = a->entities->pdata[i];
      const KhIntegrityEntry *f = kh_integrity_lookup (b, e->entity);

      g_assert_nonnull (f);
      g_assert_cmpint (e->count, ==, f->count);
      g_assert_cmphex (e->checksum, ==, f->checksum);
    }
}

static GHashTable *
records_table (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) kh_record_free);
}

static KhRecord *
fetch (const char *token,
       const char *id)
{
  g_autoptr(GHashTable) all = records_table ();
  g_autofree char *cursor = kh_test_pull_all (server, token, NULL, 5000, all, NULL, NULL);
  KhRecord *r = NULL;
  gpointer key;

  if (g_hash_table_steal_extended (all, id, &key, (gpointer *) &r))
    g_free (key);
  return r;
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

/* Login ------------------------------------------------------------------------------------ */

static void
test_health_and_login (void)
{
  g_autoptr(KhReply) health = kh_http_json (server, "GET", "/v1/health", NULL, NULL);
  g_autoptr(KhHealth) h = NULL;
  g_autoptr(GError) error = NULL;
  json_object *body;
  g_autoptr(KhReply) bad = NULL;
  g_autoptr(KhReply) unknown = NULL;
  g_autoptr(KhReply) noauth = NULL;

  g_assert_cmpint (health->status, ==, 200);
  h = kh_health_from_json (health->json, &error);
  g_assert_no_error (error);
  g_assert_cmpint (h->protocol, ==, KH_PROTOCOL_VERSION);
  g_assert_cmpint (h->epoch, ==, 1);

  /* A good login gave the tokens used by every other test; a wrong password and an unknown
   * name are answered alike. */
  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string ("officer_b"));
  json_object_object_add (body, "password", json_object_new_string ("wrong password"));
  bad = kh_http_json (server, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  g_assert_cmpint (bad->status, ==, 401);
  g_assert_nonnull (strstr (bad->body, "\"unauthorized\""));

  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string ("nobody"));
  json_object_object_add (body, "password", json_object_new_string ("password-nobody"));
  unknown = kh_http_json (server, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  g_assert_cmpint (unknown->status, ==, 401);

  noauth = kh_http_json (server, "GET", "/v1/changes", "not-a-token", NULL);
  g_assert_cmpint (noauth->status, ==, 401);
  g_assert_nonnull (strstr (noauth->body, "\"unauthorized\""));
}

static void
test_login_slowed (void)
{
  g_autoptr(KhReply) last = NULL;

  /* Five failures for one account; the sixth attempt, even with the right password, waits. */
  for (int i = 0; i < 5; i++)
    {
      json_object *body = json_object_new_object ();
      g_autoptr(KhReply) r = NULL;

      json_object_object_add (body, "username", json_object_new_string ("viewer_a"));
      json_object_object_add (body, "password", json_object_new_string ("guess"));
      r = kh_http_json (server, "POST", "/v1/login", NULL, body);
      json_object_put (body);
      g_assert_cmpint (r->status, ==, 401);
    }
  {
    json_object *body = json_object_new_object ();

    json_object_object_add (body, "username", json_object_new_string ("viewer_a"));
    json_object_object_add (body, "password", json_object_new_string ("password-viewer_a"));
    last = kh_http_json (server, "POST", "/v1/login", NULL, body);
    json_object_put (body);
  }
  g_assert_cmpint (last->status, ==, 429);
  g_assert_nonnull (strstr (last->body, "\"rate_limited\""));
  g_assert_nonnull (last->retry_after);
  g_assert_cmpint (atoi (last->retry_after), >=, 1);
}

/* Scope and roles ---------------------------------------------------------------------------- */

static void
test_scope_reads (void)
{
  g_autofree char *in_a = make_person (officer_a, "Nguyễn Văn An", unit_a, NULL);
  g_autofree char *in_b = make_person (officer_b, "Trần Thị Bình", unit_b, NULL);
  g_autoptr(GHashTable) seen_a = records_table ();
  g_autoptr(GHashTable) seen_v = records_table ();
  g_autofree char *c1 = kh_test_pull_all (server, officer_a, NULL, 7, seen_a, NULL, NULL);
  g_autofree char *c2 = kh_test_pull_all (server, viewer_a, NULL, 1000, seen_v, NULL, NULL);
  g_autofree char *path = g_strdup_printf ("/v1/integrity/ids?entity=person&limit=5000");
  g_autoptr(KhReply) ids = kh_http_json (server, "GET", path, officer_a, NULL);
  GHashTableIter iter;
  KhRecord *r;

  g_assert_true (g_hash_table_contains (seen_a, in_a));
  g_assert_false (g_hash_table_contains (seen_a, in_b));
  g_assert_true (g_hash_table_contains (seen_v, in_a));
  g_assert_false (g_hash_table_contains (seen_v, in_b));
  /* Org units: A and its village, not P, not B. */
  g_assert_true (g_hash_table_contains (seen_a, unit_a));
  g_assert_false (g_hash_table_contains (seen_a, unit_b));
  g_assert_false (g_hash_table_contains (seen_a, unit_p));
  /* Shared reference data (the succession of the old commune) is readable by everyone. */
  g_hash_table_iter_init (&iter, seen_a);
  {
    gboolean shared = FALSE;

    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
      if (strcmp (r->entity, "unit_succession") == 0)
        shared = TRUE;
    g_assert_true (shared);
  }
  /* The integrity id list is scoped too. */
  g_assert_cmpint (ids->status, ==, 200);
  g_assert_nonnull (strstr (ids->body, in_a));
  g_assert_null (strstr (ids->body, in_b));
}

static void
test_scope_writes (void)
{
  gint64 vb, va;
  g_autofree char *in_b = make_person (officer_b, "Lê Văn Cường", unit_b, &vb);
  g_autofree char *in_a = make_person (officer_a, "Phạm Thị Dung", unit_a, &va);
  g_autoptr(KhIntegrity) before = integrity (admin);
  g_autoptr(KhIntegrity) after = NULL;
  g_autoptr(KhPushResponse) r = NULL;
  json_object *list = json_object_new_array ();
  json_object *f;
  g_autofree char *new_id = kh_uuid_v7_new ();
  g_autofree char *new_unit = kh_uuid_v7_new ();
  g_autofree char *random_unit = kh_uuid_v7_new ();
  g_autofree char *crit = kh_uuid_v7_new ();

  /* 0: update a record of B by its id. */
  f = json_object_new_object ();
  json_object_object_add (f, "phone", json_object_new_string ("0905000001"));
  json_object_array_add (list, kh_test_mutation ("update", "person", in_b, vb, f));
  /* 1: create a record in B. */
  json_object_array_add (list, kh_test_mutation ("create", "person", new_id, 0,
                                                 kh_test_person ("Võ Văn Em", unit_b)));
  /* 2: move a record of A to B. */
  f = json_object_new_object ();
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_b));
  json_object_array_add (list, kh_test_mutation ("update", "person", in_a, va, f));
  /* 3: "create" over B's record id (a crafted id), with content placed in A. */
  json_object_array_add (list, kh_test_mutation ("create", "person", in_b, 0,
                                                 kh_test_person ("Kẻ Giả", unit_a)));
  /* 4: put A under B (a parent change to a unit outside the scope). */
  f = json_object_new_object ();
  json_object_object_add (f, "parent_id", json_object_new_string (unit_b));
  {
    g_autoptr(KhRecord) ua = fetch (officer_a, unit_a);

    json_object_array_add (list, kh_test_mutation ("update", "org_unit", unit_a, ua->version, f));
  }
  /* 5: create an org unit under B. */
  f = json_object_new_object ();
  json_object_object_add (f, "code", json_object_new_string ("B9"));
  json_object_object_add (f, "name", json_object_new_string ("Thôn B9"));
  json_object_object_add (f, "kind", json_object_new_string ("village"));
  json_object_object_add (f, "parent_id", json_object_new_string (unit_b));
  json_object_array_add (list, kh_test_mutation ("create", "org_unit", new_unit, 0, f));
  /* 6: a place the server does not know. */
  json_object_array_add (list, kh_test_mutation ("create", "person", random_unit, 0,
                                                 kh_test_person ("Không Nơi", random_unit)));
  /* 7: shared reference data, as an officer. */
  f = json_object_new_object ();
  json_object_object_add (f, "name", json_object_new_string ("Bộ tiêu chí"));
  json_object_object_add (f, "model", json_object_new_string ("family"));
  json_object_object_add (f, "method", json_object_new_string ("points"));
  json_object_array_add (list, kh_test_mutation ("create", "criteria_set", crit, 0, f));
  /* 8: a root org unit (no parent), as a commune officer. */
  f = json_object_new_object ();
  json_object_object_add (f, "code", json_object_new_string ("R"));
  json_object_object_add (f, "name", json_object_new_string ("Tỉnh Giả"));
  json_object_object_add (f, "kind", json_object_new_string ("province"));
  json_object_array_add (list, kh_test_mutation ("create", "org_unit", new_unit, 0, f));

  r = kh_test_push (server, officer_a, list);
  g_assert_cmpuint (r->results->len, ==, 9);
  for (guint i = 0; i < 9; i++)
    {
      KhMutationResult *m = result (r, i);

      g_test_message ("mutation %u: %s %s", i, m->code, m->message);
      g_assert_cmpint (m->status, ==, KH_RESULT_REJECTED);
      g_assert_cmpstr (m->code, ==, i == 7 ? "forbidden" : "out_of_scope");
      g_assert_cmpuint (strlen (m->message), >, 10);
    }
  after = integrity (admin);
  assert_same_integrity (before, after);

  /* A viewer cannot write at all, even in its own scope. */
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(KhPushResponse) v = kh_test_push (server, viewer_a,
                                                one (kh_test_mutation ("create", "person", id, 0,
                                                                       kh_test_person ("X", unit_a))));

    g_assert_cmpint (result (v, 0)->status, ==, KH_RESULT_REJECTED);
    g_assert_cmpstr (result (v, 0)->code, ==, "forbidden");
  }
  /* The admin may write shared data, and a rejected mutation never blocks the next one. */
  {
    g_autofree char *id = kh_uuid_v7_new ();
    json_object *two = json_object_new_array ();
    g_autoptr(KhPushResponse) a = NULL;

    f = json_object_new_object ();
    json_object_object_add (f, "full_name", json_object_new_string ("Không Đơn Vị"));
    json_object_array_add (two, kh_test_mutation ("create", "person", new_id, 0, f));
    f = json_object_new_object ();
    json_object_object_add (f, "name", json_object_new_string ("Bộ tiêu chí gia đình"));
    json_object_object_add (f, "model", json_object_new_string ("family"));
    json_object_object_add (f, "method", json_object_new_string ("points"));
    json_object_array_add (two, kh_test_mutation ("create", "criteria_set", id, 0, f));
    a = kh_test_push (server, admin, two);
    g_assert_cmpint (result (a, 0)->status, ==, KH_RESULT_REJECTED);
    g_assert_cmpstr (result (a, 0)->code, ==, "invalid");
    g_assert_cmpint (result (a, 1)->status, ==, KH_RESULT_APPLIED);
  }
}

/* Pushes ------------------------------------------------------------------------------------- */

static void
test_idempotent_replay (void)
{
  json_object *list = json_object_new_array ();
  g_autoptr(KhPushResponse) first = NULL;
  g_autoptr(KhPushResponse) second = NULL;
  g_autoptr(KhIntegrity) before = NULL;
  g_autoptr(KhIntegrity) after = NULL;
  g_autofree char *text = NULL;
  g_autofree char *cursor = NULL;
  g_autofree char *cursor2 = NULL;

  for (int i = 0; i < 3; i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();
      g_autofree char *name = g_strdup_printf ("Đỗ Văn Lặp %d", i);

      json_object_array_add (list, kh_test_mutation ("create", "person", id, 0,
                                                     kh_test_person (name, unit_a)));
    }
  text = g_strdup (kh_codec_to_string (list, NULL));
  first = kh_test_push (server, officer_a, json_object_get (list));
  before = integrity (admin);
  cursor = kh_test_pull_all (server, admin, NULL, 5000, NULL, NULL, NULL);
  second = kh_test_push (server, officer_a, list);
  after = integrity (admin);
  cursor2 = kh_test_pull_all (server, admin, cursor, 5000, NULL, NULL, NULL);

  for (guint i = 0; i < 3; i++)
    {
      g_assert_cmpint (result (first, i)->status, ==, KH_RESULT_APPLIED);
      g_assert_cmpint (result (second, i)->status, ==, KH_RESULT_DUPLICATE);
      g_assert_cmpint (result (second, i)->version, ==, result (first, i)->version);
    }
  /* Applied once: nothing new in the feed, the same records and versions. */
  assert_same_integrity (before, after);
  g_assert_cmpstr (cursor, ==, cursor2);
}

static void
test_disjoint_fields (void)
{
  gint64 v;
  g_autofree char *id = make_person (officer_a, "Bùi Thị Giang", unit_a, &v);
  json_object *f1 = json_object_new_object ();
  json_object *f2 = json_object_new_object ();
  g_autoptr(KhPushResponse) r1 = NULL;
  g_autoptr(KhPushResponse) r2 = NULL;
  g_autoptr(KhRecord) rec = NULL;

  json_object_object_add (f1, "phone", json_object_new_string ("0912345678"));
  json_object_object_add (f2, "address", json_object_new_string ("Thôn A1"));
  r1 = kh_test_push (server, officer_a, one (kh_test_mutation ("update", "person", id, v, f1)));
  r2 = kh_test_push (server, admin, one (kh_test_mutation ("update", "person", id, v, f2)));
  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result (r2, 0)->status, ==, KH_RESULT_APPLIED);
  g_assert_cmpint (result (r2, 0)->version, >, result (r1, 0)->version);

  rec = fetch (admin, id);
  g_assert_nonnull (rec);
  g_assert_cmpstr (field_string (rec, "phone"), ==, "0912345678");
  g_assert_cmpstr (field_string (rec, "address"), ==, "Thôn A1");
  g_assert_cmpstr (field_string (rec, "full_name"), ==, "Bùi Thị Giang");
  g_assert_cmpint (rec->version, ==, result (r2, 0)->version);
}

/* The server writes the JSON of what it stores itself: text with quotes, backslashes, line
 * breaks, tabs and Vietnamese, and integers, come back exactly as they were sent, after a
 * create and after an edit. */
static void
test_awkward_text (void)
{
  const char *name = "Lê \"Tí\" \\ Văn Đức";
  const char *notes = "Dòng 1\nDòng 2\t\"trích\" C:\\x / y \u00e9\u1ec7";
  const char *notes2 = "\r\nA \"b\" \\\\ c\r\n\tcuối";
  json_object *f = kh_test_person (name, unit_a);
  json_object *f2 = json_object_new_object ();
  g_autofree char *id = kh_uuid_v7_new ();
  g_autoptr(KhPushResponse) r1 = NULL;
  g_autoptr(KhPushResponse) r2 = NULL;
  g_autoptr(KhRecord) created = NULL;
  g_autoptr(KhRecord) edited = NULL;
  json_object *year;

  json_object_object_add (f, "notes", json_object_new_string (notes));
  json_object_object_add (f, "birth_year", json_object_new_int64 (1998));
  r1 = kh_test_push (server, officer_a, one (kh_test_mutation ("create", "person", id, 0, f)));
  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_APPLIED);
  created = fetch (officer_a, id);
  g_assert_nonnull (created);
  g_assert_cmpstr (field_string (created, "full_name"), ==, name);
  g_assert_cmpstr (field_string (created, "notes"), ==, notes);
  g_assert_true (json_object_object_get_ex (created->fields, "birth_year", &year));
  g_assert_cmpint (json_object_get_int64 (year), ==, 1998);

  json_object_object_add (f2, "notes", json_object_new_string (notes2));
  r2 = kh_test_push (server, officer_a, one (kh_test_mutation ("update", "person", id,
                                                                result (r1, 0)->version, f2)));
  g_assert_cmpint (result (r2, 0)->status, ==, KH_RESULT_APPLIED);
  edited = fetch (officer_a, id);
  g_assert_nonnull (edited);
  g_assert_cmpstr (field_string (edited, "full_name"), ==, name);
  g_assert_cmpstr (field_string (edited, "notes"), ==, notes2);
  g_assert_true (json_object_object_get_ex (edited->fields, "birth_year", &year));
  g_assert_cmpint (json_object_get_int64 (year), ==, 1998);
  g_assert_cmpint (edited->version, ==, result (r2, 0)->version);
}

/* A field that holds a JSON object (an evaluation's scores, keyed by its set's criteria, with
 * escapes in a key) is stored and read back whole, after a create and after an edit of another
 * field. Its values are points within each criterion's maximum (kh-server-models.c). */
static void
test_nested_json_field (void)
{
  g_autofree char *id = kh_uuid_v7_new ();
  g_autofree char *set = kh_uuid_v7_new ();
  g_autofree char *registration = make_registration (officer_a, unit_a);
  json_object *f = json_object_new_object ();
  json_object *f2 = json_object_new_object ();
  json_object *criteria = json_object_new_array ();
  g_autoptr(json_object) scores = json_tokener_parse ("{\"doc\":7,\"viet\":2,\"t\\u1ed1t \\\"A\\\"\":1}");
  const char *codes[] = { "doc", "viet", "t\u1ed1t \"A\"" };
  g_autoptr(KhPushResponse) r0 = NULL;
  g_autoptr(KhPushResponse) r1 = NULL;
  g_autoptr(KhPushResponse) r2 = NULL;
  g_autoptr(KhRecord) rec = NULL;
  json_object *got;

  g_assert_nonnull (scores);
  json_object_array_add (criteria, kh_test_mutation ("create", "criteria_set", set, 0,
                                                     json_tokener_parse ("{\"name\": \"Công dân\", \"model\": \"citizen\", "
                                                                         "\"method\": \"points\", \"pass_min_total\": 0}")));
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *cid = kh_uuid_v7_new ();
      json_object *c = json_object_new_object ();

      json_object_object_add (c, "criteria_set_id", json_object_new_string (set));
      json_object_object_add (c, "code", json_object_new_string (codes[i]));
      json_object_object_add (c, "title", json_object_new_string (codes[i]));
      json_object_object_add (c, "max_points", json_object_new_int (10));
      json_object_array_add (criteria, kh_test_mutation ("create", "criterion", cid, 0, c));
    }
  r0 = kh_test_push (server, admin, criteria);
  for (guint i = 0; i < r0->results->len; i++)
    g_assert_cmpint (result (r0, i)->status, ==, KH_RESULT_APPLIED);
  json_object_object_add (f, "registration_id", json_object_new_string (registration));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_a));
  json_object_object_add (f, "criteria_set_id", json_object_new_string (set));
  json_object_object_add (f, "result", json_object_new_string ("pass"));
  json_object_object_add (f, "total", json_object_new_int64 (10));
  json_object_object_add (f, "scores", json_object_get (scores));
  r1 = kh_test_push (server, officer_a, one (kh_test_mutation ("create", "evaluation", id, 0, f)));
  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_APPLIED);
  json_object_object_add (f2, "evaluator", json_object_new_string ("Ban Khuyến học xã"));
  r2 = kh_test_push (server, officer_a, one (kh_test_mutation ("update", "evaluation", id,
                                                                result (r1, 0)->version, f2)));
  g_assert_cmpint (result (r2, 0)->status, ==, KH_RESULT_APPLIED);

  rec = fetch (officer_a, id);
  g_assert_nonnull (rec);
  g_assert_true (json_object_object_get_ex (rec->fields, "scores", &got));
  g_assert_true (json_object_equal (got, scores));
  g_assert_true (json_object_object_get_ex (rec->fields, "evaluator", &got));
  g_assert_cmpstr (json_object_get_string (got), ==, "Ban Khuyến học xã");
}

static void
test_same_field_conflict (void)
{
  gint64 v;
  g_autofree char *id = make_person (officer_a, "Hồ Văn Hải", unit_a, &v);
  json_object *f1 = json_object_new_object ();
  json_object *f2 = json_object_new_object ();
  json_object *f3 = json_object_new_object ();
  g_autoptr(KhPushResponse) r1 = NULL;
  g_autoptr(KhPushResponse) r2 = NULL;
  g_autoptr(KhPushResponse) r3 = NULL;
  g_autoptr(KhRecord) rec = NULL;
  KhMutationResult *c;

  json_object_object_add (f1, "phone", json_object_new_string ("0911111111"));
  json_object_object_add (f2, "phone", json_object_new_string ("0922222222"));
  json_object_object_add (f2, "address", json_object_new_string ("Khác"));
  r1 = kh_test_push (server, officer_a, one (kh_test_mutation ("update", "person", id, v, f1)));
  r2 = kh_test_push (server, admin, one (kh_test_mutation ("update", "person", id, v, f2)));
  g_assert_cmpint (result (r1, 0)->status, ==, KH_RESULT_APPLIED);
  c = result (r2, 0);
  g_assert_cmpint (c->status, ==, KH_RESULT_CONFLICT);
  g_assert_cmpuint (c->conflicting_fields->len, ==, 1);
  g_assert_cmpstr (c->conflicting_fields->pdata[0], ==, "phone");
  g_assert_nonnull (c->record);
  g_assert_cmpint (c->record->version, ==, result (r1, 0)->version);
  g_assert_cmpstr (field_string (c->record, "phone"), ==, "0911111111");

  /* Nothing of the conflicting mutation applied (not even its other field). */
  rec = fetch (admin, id);
  g_assert_cmpstr (field_string (rec, "phone"), ==, "0911111111");
  g_assert_null (field_string (rec, "address"));

  /* The same value on both sides is no conflict; clearing a field with null works. */
  json_object_object_add (f3, "phone", NULL);
  r3 = kh_test_push (server, officer_a, one (kh_test_mutation ("update", "person", id, result (r1, 0)->version, f3)));
  g_assert_cmpint (result (r3, 0)->status, ==, KH_RESULT_APPLIED);
  g_clear_pointer (&rec, kh_record_free);
  rec = fetch (admin, id);
  g_assert_null (field_string (rec, "phone"));
}

static void
test_delete_conflicts (void)
{
  gint64 v;
  g_autofree char *id = make_person (officer_a, "Ngô Thị Hoa", unit_a, &v);
  json_object *f = json_object_new_object ();
  g_autoptr(KhPushResponse) edit = NULL;
  g_autoptr(KhPushResponse) del = NULL;
  g_autoptr(KhPushResponse) del2 = NULL;
  g_autoptr(KhPushResponse) upd = NULL;
  g_autoptr(KhPushResponse) res_old = NULL;
  g_autoptr(KhPushResponse) res = NULL;
  g_autoptr(KhRecord) rec = NULL;
  gint64 deleted_at;

  json_object_object_add (f, "notes", json_object_new_string ("Đã chuyển trường"));
  edit = kh_test_push (server, admin, one (kh_test_mutation ("update", "person", id, v, f)));
  g_assert_cmpint (result (edit, 0)->status, ==, KH_RESULT_APPLIED);

  /* A delete made on the old version conflicts with the newer edit. */
  del = kh_test_push (server, officer_a, one (kh_test_mutation ("delete", "person", id, v, NULL)));
  g_assert_cmpint (result (del, 0)->status, ==, KH_RESULT_CONFLICT);
  g_assert_cmpstr (result (del, 0)->conflicting_fields->pdata[0], ==, "notes");
  g_assert_false (result (del, 0)->record->deleted);

  /* On the current version it applies. */
  del2 = kh_test_push (server, officer_a, one (kh_test_mutation ("delete", "person", id,
                                                                 result (edit, 0)->version, NULL)));
  g_assert_cmpint (result (del2, 0)->status, ==, KH_RESULT_APPLIED);
  deleted_at = result (del2, 0)->version;

  /* An edit of the deleted record conflicts, and so does a restore from before the delete. */
  f = json_object_new_object ();
  json_object_object_add (f, "phone", json_object_new_string ("0933333333"));
  upd = kh_test_push (server, admin, one (kh_test_mutation ("update", "person", id, deleted_at, f)));
  g_assert_cmpint (result (upd, 0)->status, ==, KH_RESULT_CONFLICT);
  g_assert_true (result (upd, 0)->record->deleted);
  res_old = kh_test_push (server, admin, one (kh_test_mutation ("restore", "person", id,
                                                                result (edit, 0)->version, NULL)));
  g_assert_cmpint (result (res_old, 0)->status, ==, KH_RESULT_CONFLICT);

  /* A restore that saw the delete brings it back. */
  res = kh_test_push (server, admin, one (kh_test_mutation ("restore", "person", id, deleted_at, NULL)));
  g_assert_cmpint (result (res, 0)->status, ==, KH_RESULT_APPLIED);
  rec = fetch (admin, id);
  g_assert_false (rec->deleted);
  g_assert_cmpstr (field_string (rec, "notes"), ==, "Đã chuyển trường");
}

/* Malformed bodies -------------------------------------------------------------------------- */

static char *
gzip_text (const char *text,
           gsize       len,
           gsize      *out_len)
{
  z_stream z = { 0 };
  gsize cap = compressBound (len) + 64;
  char *out = g_malloc (cap);

  g_assert_cmpint (deflateInit2 (&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
  z.next_in = (Bytef *) text;
  z.avail_in = (uInt) len;
  z.next_out = (Bytef *) out;
  z.avail_out = (uInt) cap;
  g_assert_cmpint (deflate (&z, Z_FINISH), ==, Z_STREAM_END);
  *out_len = z.total_out;
  deflateEnd (&z);
  return out;
}

static void
expect_error (const char *body,
              gsize       len,
              const char *encoding,
              long        status,
              const char *code)
{
  KhRequestOptions o = { officer_a, encoding, NULL };
  g_autoptr(KhReply) r = kh_http (server, "POST", "/v1/push", body, len, &o);
  KhSyncError e;
  g_autofree char *c = NULL;
  g_autofree char *message = NULL;

  g_test_message ("%s → %ld %s", code, r->status, r->body);
  g_assert_cmpint (r->status, ==, status);
  g_assert_true (kh_codec_error_from_json (r->json, &e, &c, &message));
  g_assert_cmpstr (c, ==, code);
  g_assert_cmpuint (strlen (message), >, 5);
}

static void
test_malformed (void)
{
  g_autoptr(KhIntegrity) before = integrity (admin);
  g_autoptr(KhIntegrity) after = NULL;
  g_autofree char *mid = kh_uuid_v7_new ();
  g_autofree char *rid = kh_uuid_v7_new ();
  g_autofree char *good = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":[{\"mutation_id\":\"%s\","
                                           "\"entity\":\"person\",\"id\":\"%s\",\"op\":\"create\",\"base_version\":0,"
                                           "\"fields\":{\"full_name\":\"Sai Sót\",\"org_unit_id\":\"%s\"}}]}",
                                           mid, mid, rid, unit_a);
  g_autoptr(GString) deep = g_string_new (NULL);
  g_autoptr(GString) big = g_string_new (NULL);
  g_autoptr(GString) many = g_string_new (NULL);
  g_autofree char *gz = NULL;
  gsize gz_len;
  char *cut;

  expect_error ("this is not json", 16, NULL, 400, "bad_json");
  cut = g_strndup (good, strlen (good) - 7);
  expect_error (cut, strlen (cut), NULL, 400, "bad_json");
  g_free (cut);
  cut = g_strconcat (good, " trailing", NULL);
  expect_error (cut, strlen (cut), NULL, 400, "bad_json");
  g_free (cut);
  expect_error ("", 0, NULL, 400, "bad_json");
  expect_error ("{\"a\":\"\xff\xfe\"}", 10, NULL, 400, "bad_json");
  expect_error ("[1,2]", 5, NULL, 400, "wrong_type");

  for (int i = 0; i < 40; i++)
    g_string_append (deep, "{\"a\":");
  g_string_append (deep, "1");
  for (int i = 0; i < 40; i++)
    g_string_append_c (deep, '}');
  expect_error (deep->str, deep->len, NULL, 400, "too_deep");

  g_string_append (big, "{\"client_id\":\"");
  while (big->len < 5 * 1024 * 1024)
    g_string_append (big, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
  g_string_append (big, "\"}");
  expect_error (big->str, big->len, NULL, 413, "too_large");
  /* A small gzip body that inflates past the limit. */
  gz = gzip_text (big->str, big->len, &gz_len);
  g_assert_cmpuint (gz_len, <, 1024 * 1024);
  expect_error (gz, gz_len, "gzip", 413, "too_large");
  expect_error ("\x1f\x8b\x08garbage", 10, "gzip", 400, "bad_json");
  expect_error (good, strlen (good), "br", 400, "bad_json");

  expect_error ("{\"client_id\":5,\"mutations\":[]}", 30, NULL, 400, "wrong_type");
  {
    g_autofree char *t = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":\"none\"}", mid);
    expect_error (t, strlen (t), NULL, 400, "wrong_type");
  }
  {
    g_autofree char *t = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":[{\"mutation_id\":\"%s\","
                                          "\"entity\":\"person\",\"id\":\"%s\",\"op\":\"update\",\"base_version\":\"3\","
                                          "\"fields\":{}}]}", mid, mid, rid);
    expect_error (t, strlen (t), NULL, 400, "wrong_type");
  }
  {
    g_autofree char *t = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":[{\"mutation_id\":\"%s\","
                                          "\"entity\":\"person\",\"id\":\"%s\",\"op\":\"create\",\"base_version\":0,"
                                          "\"fields\":[1]}]}", mid, mid, rid);
    expect_error (t, strlen (t), NULL, 400, "wrong_type");
  }
  {
    g_autofree char *t = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":[{\"mutation_id\":\"%s\","
                                          "\"entity\":\"person\",\"id\":\"not-a-uuid\",\"op\":\"create\",\"base_version\":0,"
                                          "\"fields\":{}}]}", mid, mid);
    expect_error (t, strlen (t), NULL, 400, "invalid");
  }
  {
    g_autofree char *t = g_strdup_printf ("{\"client_id\":\"%s\",\"mutations\":[{\"mutation_id\":\"%s\","
                                          "\"entity\":\"person\",\"id\":\"%s\",\"op\":\"upsert\",\"base_version\":0,"
                                          "\"fields\":{}}]}", mid, mid, rid);
    expect_error (t, strlen (t), NULL, 400, "invalid");
  }
  /* 501 mutations. */
  g_string_append_printf (many, "{\"client_id\":\"%s\",\"mutations\":[", mid);
  for (int i = 0; i < 501; i++)
    {
      g_autofree char *m = kh_uuid_v7_new ();

      g_string_append_printf (many, "%s{\"mutation_id\":\"%s\",\"entity\":\"person\",\"id\":\"%s\","
                              "\"op\":\"delete\",\"base_version\":1}", i ? "," : "", m, m);
    }
  g_string_append (many, "]}");
  expect_error (many->str, many->len, NULL, 413, "too_many_mutations");

  after = integrity (admin);
  assert_same_integrity (before, after);

  /* The same body, well formed and gzip-compressed, is accepted. */
  {
    gsize n;
    g_autofree char *z = gzip_text (good, strlen (good), &n);
    KhRequestOptions o = { officer_a, "gzip", NULL };
    g_autoptr(KhReply) r = kh_http (server, "POST", "/v1/push", z, n, &o);

    g_assert_cmpint (r->status, ==, 200);
    g_assert_nonnull (strstr (r->body, "\"applied\""));
  }
  {
    g_autoptr(KhReply) r = kh_http_json (server, "GET", "/v1/nothing", officer_a, NULL);

    g_assert_cmpint (r->status, ==, 404);
    g_assert_nonnull (strstr (r->body, "not_found"));
  }
  {
    g_autoptr(KhReply) r = kh_http_json (server, "GET", "/v1/changes?cursor=garbage", officer_a, NULL);

    g_assert_cmpint (r->status, ==, 400);
    g_assert_nonnull (strstr (r->body, "\"invalid\""));
  }
}

/* The change feed ---------------------------------------------------------------------------- */

static void
test_empty_poll (void)
{
  g_autofree char *cursor = kh_test_pull_all (server, officer_a, NULL, 5000, NULL, NULL, NULL);
  g_autofree char *esc = g_uri_escape_string (cursor, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/changes?cursor=%s", esc);
  KhRequestOptions o = { officer_a, NULL, "gzip, zstd" };
  g_autoptr(KhReply) r = kh_http (server, "GET", path, NULL, 0, &o);
  g_autoptr(KhChangesPage) page = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (r->status, ==, 200);
  g_assert_cmpuint (r->length, <, 200);
  page = kh_changes_page_from_json (r->json, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->records->len, ==, 0);
  g_assert_false (page->has_more);
  g_assert_false (page->reset);
  g_assert_cmpstr (page->cursor, ==, cursor);
}

static void
test_compressed_answers (void)
{
  KhRequestOptions gz = { admin, NULL, "gzip" };
  KhRequestOptions zs = { admin, NULL, "zstd" };
  g_autoptr(KhReply) a = kh_http (server, "GET", "/v1/changes?limit=200", NULL, 0, &gz);
  g_autoptr(KhReply) b = kh_http (server, "GET", "/v1/changes?limit=200", NULL, 0, &zs);
  g_autoptr(KhReply) c = kh_http (server, "GET", "/v1/changes?limit=200", NULL, 0, &(KhRequestOptions) { admin, NULL, NULL });

  g_assert_cmpstr (a->encoding, ==, "gzip");
  g_assert_cmpstr (b->encoding, ==, "zstd");
  g_assert_null (c->encoding);
  g_assert_cmpstr (a->body, ==, c->body);
  g_assert_cmpstr (b->body, ==, c->body);
  g_assert_cmpuint (a->length, <, c->length);
}

static int finished;

typedef struct
{
  int       index;
  char     *token;
  char     *unit;
  int       batches;
  gboolean  failed;
} Pusher;

static gpointer
pusher_thread (gpointer data)
{
  Pusher *p = data;
  g_autoptr(GPtrArray) mine = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GArray) versions = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (int b = 0; b < p->batches; b++)
    {
      json_object *list = json_object_new_array ();
      g_autoptr(KhPushResponse) r = NULL;
      guint first_new = mine->len;

      for (int k = 0; k < 10; k++)
        {
          char *id = kh_uuid_v7_new ();
          g_autofree char *name = g_strdup_printf ("Người %d-%d-%d", p->index, b, k);

          json_object_array_add (list, kh_test_mutation ("create", "person", id, 0,
                                                         kh_test_person (name, p->unit)));
          g_ptr_array_add (mine, id);
        }
      /* And an edit of an earlier record of this pusher, on its current version. */
      if (first_new > 0)
        {
          guint j = (guint) b % first_new;
          json_object *f = json_object_new_object ();

          json_object_object_add (f, "phone", json_object_new_string (b % 2 ? "0900000001" : "0900000002"));
          json_object_array_add (list, kh_test_mutation ("update", "person", mine->pdata[j],
                                                         g_array_index (versions, gint64, j), f));
        }
      r = kh_test_push (server, p->token, list);
      for (guint i = 0; i < 10; i++)
        {
          if (result (r, i)->status != KH_RESULT_APPLIED)
            p->failed = TRUE;
          g_array_append_val (versions, result (r, i)->version);
        }
      if (first_new > 0)
        {
          if (result (r, 10)->status != KH_RESULT_APPLIED)
            p->failed = TRUE;
          g_array_index (versions, gint64, (guint) b % first_new) = result (r, 10)->version;
        }
    }
  g_atomic_int_inc (&finished);
  return NULL;
}

static void
test_pagination_concurrent (void)
{
  const int n_pushers = 6;
  Pusher pushers[6];
  GThread *threads[6];
  g_autoptr(GHashTable) copy = records_table ();
  g_autoptr(GHashTable) fresh = records_table ();
  g_autofree char *cursor = kh_test_pull_all (server, admin, NULL, 13, copy, NULL, NULL);

  finished = 0;
  for (int i = 0; i < n_pushers; i++)
    {
      pushers[i] = (Pusher) { i, i % 2 ? officer_a : officer_b, i % 2 ? unit_a : unit_b, 12, FALSE };
      threads[i] = g_thread_new ("pusher", pusher_thread, &pushers[i]);
    }
  /* Pull in small pages while the writers run, then once more after they finished. */
  while (g_atomic_int_get (&finished) < n_pushers)
    {
      char *next = kh_test_pull_all (server, admin, cursor, 13, copy, NULL, NULL);

      g_free (cursor);
      cursor = next;
      g_usleep (20000);
    }
  for (int i = 0; i < n_pushers; i++)
    {
      g_thread_join (threads[i]);
      g_assert_false (pushers[i].failed);
    }
  {
    char *next = kh_test_pull_all (server, admin, cursor, 13, copy, NULL, NULL);

    g_free (cursor);
    cursor = next;
  }

  /* The puller's copy equals the server's: same ids with the same versions. */
  {
    g_autofree char *c2 = kh_test_pull_all (server, admin, NULL, 5000, fresh, NULL, NULL);
    GHashTableIter iter;
    gpointer key;
    KhRecord *r;
    g_autoptr(KhIntegrity) server_sums = integrity (admin);
    g_autoptr(GHashTable) sums = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);

    g_assert_cmpuint (g_hash_table_size (copy), ==, g_hash_table_size (fresh));
    g_hash_table_iter_init (&iter, fresh);
    while (g_hash_table_iter_next (&iter, &key, (gpointer *) &r))
      {
        KhRecord *mine = g_hash_table_lookup (copy, key);

        g_assert_nonnull (mine);
        g_assert_cmpint (mine->version, ==, r->version);
      }
    g_hash_table_iter_init (&iter, copy);
    while (g_hash_table_iter_next (&iter, &key, (gpointer *) &r))
      {
        KhIntegrityEntry *e = g_hash_table_lookup (sums, r->entity);

        if (e == NULL)
          {
            e = g_new0 (KhIntegrityEntry, 1);
            g_hash_table_insert (sums, r->entity, e);
          }
        e->count++;
        e->checksum ^= kh_wire_record_checksum_json (r->entity, r->id, r->version, r->deleted, r->fields);
      }
    for (guint i = 0; i < server_sums->entities->len; i++)
      {
        KhIntegrityEntry *s = server_sums->entities->pdata[i];
        KhIntegrityEntry *e = g_hash_table_lookup (sums, s->entity);

        g_assert_nonnull (e);
        g_assert_cmpint (e->count, ==, s->count);
        g_assert_cmphex (e->checksum, ==, s->checksum);
      }
    g_assert_cmpuint (g_hash_table_size (sums), ==, server_sums->entities->len);
  }
}

/* Restart, scope change, epoch (these change the server's state for everyone: run last) ------ */

typedef struct
{
  GMutex     lock;
  GPtrArray *acked;      /* json_object: the batches answered 200, in order */
  GPtrArray *answers;    /* KhPushResponse, parallel */
  json_object *in_flight;
  gint       stop;
} Restart;

static gpointer
restart_pusher (gpointer data)
{
  Restart *st = data;

  for (int b = 0; b < 200 && !g_atomic_int_get (&st->stop); b++)
    {
      json_object *list = json_object_new_array ();
      json_object *body = json_object_new_object ();
      g_autofree char *client = kh_uuid_v7_new ();
      g_autoptr(KhReply) r = NULL;
      g_autoptr(KhPushResponse) resp = NULL;

      /* Large batches, so that the kill likely lands inside a transaction. */
      for (int k = 0; k < 250; k++)
        {
          g_autofree char *id = kh_uuid_v7_new ();
          g_autofree char *name = g_strdup_printf ("Khởi động lại %d-%d", b, k);

          json_object_array_add (list, kh_test_mutation ("create", "person", id, 0,
                                                         kh_test_person (name, unit_a)));
        }
      json_object_object_add (body, "client_id", json_object_new_string (client));
      json_object_object_add (body, "mutations", json_object_get (list));
      g_mutex_lock (&st->lock);
      json_object_put (st->in_flight);
      st->in_flight = json_object_get (list);
      g_mutex_unlock (&st->lock);
      r = kh_http_json (server, "POST", "/v1/push", officer_a, body);
      json_object_put (body);
      if (r->status != 200)
        {
          json_object_put (list);
          break;
        }
      resp = kh_push_response_from_json (r->json, NULL);
      g_mutex_lock (&st->lock);
      g_ptr_array_add (st->acked, list);
      g_ptr_array_add (st->answers, g_steal_pointer (&resp));
      g_mutex_unlock (&st->lock);
    }
  return NULL;
}

static void
test_restart_mid_batch (void)
{
  Restart st = { 0 };
  GThread *thread;
  guint acked;

  g_mutex_init (&st.lock);
  st.acked = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put);
  st.answers = g_ptr_array_new_with_free_func ((GDestroyNotify) kh_push_response_free);
  thread = g_thread_new ("restart", restart_pusher, &st);
  for (int i = 0; i < 1000; i++)
    {
      g_mutex_lock (&st.lock);
      acked = st.acked->len;
      g_mutex_unlock (&st.lock);
      if (acked >= 3)
        break;
      g_usleep (5000);
    }
  kh_test_server_kill (server, SIGKILL);
  g_atomic_int_set (&st.stop, 1);
  g_thread_join (thread);
  g_assert_cmpuint (st.acked->len, >=, 3);
  kh_test_server_start (server, NULL);

  /* Everything acknowledged is there: a replay is a duplicate with the first answer's version. */
  for (guint b = 0; b < st.acked->len; b++)
    {
      g_autoptr(KhPushResponse) again = kh_test_push (server, officer_a, json_object_get (st.acked->pdata[b]));
      KhPushResponse *first = st.answers->pdata[b];

      for (guint i = 0; i < again->results->len; i++)
        {
          g_assert_cmpint (result (again, i)->status, ==, KH_RESULT_DUPLICATE);
          g_assert_cmpint (result (again, i)->version, ==, result (first, i)->version);
        }
    }
  /* The batch cut by the kill was all or nothing. */
  if (st.in_flight != NULL)
    {
      g_autoptr(KhPushResponse) again = kh_test_push (server, officer_a, json_object_get (st.in_flight));
      KhResultStatus s0 = result (again, 0)->status;

      g_assert_true (s0 == KH_RESULT_APPLIED || s0 == KH_RESULT_DUPLICATE);
      for (guint i = 0; i < again->results->len; i++)
        g_assert_cmpint (result (again, i)->status, ==, s0);
      json_object_put (st.in_flight);
    }
  g_ptr_array_unref (st.acked);
  g_ptr_array_unref (st.answers);
  g_mutex_clear (&st.lock);
}

static void
test_scope_change (void)
{
  g_autofree char *in_a = make_person (officer_a, "Trịnh Văn Khoa", unit_a, NULL);
  g_autofree char *in_b = make_person (officer_b, "Mai Thị Lan", unit_b, NULL);
  g_autoptr(GHashTable) copy = records_table ();
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = kh_test_pull_all (server, officer_a, NULL, 5000, copy, NULL, NULL);
  g_autofree char *cursor2 = NULL;
  gboolean reset = FALSE;
  gboolean listed = FALSE;

  g_assert_true (g_hash_table_contains (copy, in_a));
  kh_test_server_cli (server, NULL, "user", "scope", "officer_a", "B", NULL);

  cursor2 = kh_test_pull_all (server, officer_a, cursor, 5000, copy, &reset, removed);
  g_assert_true (reset);
  for (guint i = 0; i < removed->len; i++)
    if (strcmp (removed->pdata[i], in_a) == 0)
      listed = TRUE;
  g_assert_true (listed);
  g_assert_false (g_hash_table_contains (copy, in_a));
  g_assert_true (g_hash_table_contains (copy, in_b));

  /* And writes follow the new scope. */
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(KhPushResponse) r = kh_test_push (server, officer_a,
                                                one (kh_test_mutation ("create", "person", id, 0,
                                                                       kh_test_person ("Mới", unit_a))));

    g_assert_cmpstr (result (r, 0)->code, ==, "out_of_scope");
  }
  kh_test_server_cli (server, NULL, "user", "scope", "officer_a", "A", NULL);
}

static void
test_epoch_bump (void)
{
  g_autofree char *cursor = kh_test_pull_all (server, officer_b, NULL, 5000, NULL, NULL, NULL);
  g_autofree char *cursor2 = NULL;
  gboolean reset = FALSE;
  json_object *body = json_object_new_object ();
  g_autofree char *client = kh_uuid_v7_new ();
  g_autoptr(KhReply) r = NULL;

  kh_test_server_cli (server, NULL, "epoch", "bump", NULL);
  cursor2 = kh_test_pull_all (server, officer_b, cursor, 5000, NULL, &reset, NULL);
  g_assert_true (reset);
  g_assert_true (g_str_has_prefix (cursor2, "2."));

  json_object_object_add (body, "client_id", json_object_new_string (client));
  json_object_object_add (body, "epoch", json_object_new_int64 (1));
  json_object_object_add (body, "mutations", json_object_new_array ());
  r = kh_http_json (server, "POST", "/v1/push", officer_b, body);
  json_object_put (body);
  g_assert_cmpint (r->status, ==, 409);
  g_assert_nonnull (strstr (r->body, "\"epoch_changed\""));
}

static void
test_id_of_another_kind (void)
{
  g_autofree char *id = make_person (officer_a, "Tạ Văn Phúc", unit_a, NULL);
  json_object *f = json_object_new_object ();
  g_autoptr(KhPushResponse) r = NULL;
  g_autoptr(KhRecord) still = NULL;

  json_object_object_add (f, "head_name", json_object_new_string ("Tạ Văn Phúc"));
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_a));
  r = kh_test_push (server, officer_a, one (kh_test_mutation ("create", "household", id, 0, f)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (r, 0)->code, ==, "invalid");
  still = fetch (admin, id);
  g_assert_cmpstr (still->entity, ==, "person");
}

static void
test_moved_away (void)
{
  gint64 v;
  g_autofree char *id = make_person (officer_b, "Đinh Văn Minh", unit_b, &v);
  g_autoptr(GHashTable) copy_b = records_table ();
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cursor = kh_test_pull_all (server, officer_b, NULL, 5000, copy_b, NULL, NULL);
  g_autofree char *cursor2 = NULL;
  json_object *f = json_object_new_object ();
  g_autoptr(KhPushResponse) r = NULL;
  gboolean reset = TRUE;

  g_assert_true (g_hash_table_contains (copy_b, id));
  /* The admin (whose scope holds both communes) moves the person from B to A. */
  json_object_object_add (f, "org_unit_id", json_object_new_string (unit_a));
  r = kh_test_push (server, admin, one (kh_test_mutation ("update", "person", id, v, f)));
  g_assert_cmpint (result (r, 0)->status, ==, KH_RESULT_APPLIED);

  /* B's next pull says the record left its scope; A sees it. */
  cursor2 = kh_test_pull_all (server, officer_b, cursor, 5000, copy_b, &reset, removed);
  g_assert_false (reset);
  g_assert_cmpuint (removed->len, ==, 1);
  g_assert_cmpstr (removed->pdata[0], ==, id);
  g_assert_false (g_hash_table_contains (copy_b, id));
  {
    g_autoptr(KhRecord) in_a = fetch (officer_a, id);

    g_assert_nonnull (in_a);
    g_assert_cmpstr (field_string (in_a, "org_unit_id"), ==, unit_a);
  }
}

static void
test_org_move (void)
{
  g_autoptr(GHashTable) copy_a = records_table ();
  g_autoptr(GHashTable) copy_b = records_table ();
  g_autofree char *ca = kh_test_pull_all (server, officer_a, NULL, 5000, copy_a, NULL, NULL);
  g_autofree char *cb = kh_test_pull_all (server, officer_b, NULL, 5000, copy_b, NULL, NULL);
  g_autofree char *ca2 = NULL;
  g_autofree char *cb2 = NULL;
  g_autofree char *village = NULL;
  g_autofree char *person = NULL;
  gint64 version = 0;
  gboolean reset_a = FALSE, reset_b = FALSE;
  GHashTableIter iter;
  KhRecord *r;
  json_object *f;
  g_autoptr(KhPushResponse) moved = NULL;
  g_autoptr(KhPushResponse) cycle = NULL;

  g_hash_table_iter_init (&iter, copy_a);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
    if (strcmp (r->entity, "org_unit") == 0 && g_strcmp0 (field_string (r, "code"), "A1") == 0)
      {
        village = g_strdup (r->id);
        version = r->version;
      }
  g_assert_nonnull (village);
  person = make_person (officer_a, "Cao Thị Ngân", village, NULL);

  /* The village moves from commune A to commune B. */
  f = json_object_new_object ();
  json_object_object_add (f, "parent_id", json_object_new_string (unit_b));
  moved = kh_test_push (server, admin, one (kh_test_mutation ("update", "org_unit", village, version, f)));
  g_assert_cmpint (result (moved, 0)->status, ==, KH_RESULT_APPLIED);

  /* Both communes' officers re-pull: A loses the village and its people, B gains them. */
  ca2 = kh_test_pull_all (server, officer_a, ca, 5000, copy_a, &reset_a, NULL);
  cb2 = kh_test_pull_all (server, officer_b, cb, 5000, copy_b, &reset_b, NULL);
  g_assert_true (reset_a);
  g_assert_true (reset_b);
  g_assert_false (g_hash_table_contains (copy_a, village));
  g_assert_false (g_hash_table_contains (copy_a, person));
  g_assert_true (g_hash_table_contains (copy_b, village));
  g_assert_true (g_hash_table_contains (copy_b, person));

  /* A unit can never go under its own descendant. */
  f = json_object_new_object ();
  json_object_object_add (f, "parent_id", json_object_new_string (village));
  {
    g_autoptr(KhRecord) ub = fetch (admin, unit_b);

    cycle = kh_test_push (server, admin, one (kh_test_mutation ("update", "org_unit", unit_b, ub->version, f)));
  }
  g_assert_cmpint (result (cycle, 0)->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (result (cycle, 0)->code, ==, "invalid");
}

static void
test_integrity_ids (void)
{
  g_autoptr(KhIntegrity) sums = integrity (officer_a);
  const KhIntegrityEntry *people = kh_integrity_lookup (sums, "person");
  g_autofree char *after = g_strdup ("");
  gint64 count = 0;
  guint64 checksum = 0;
  gboolean more = TRUE;

  g_assert_nonnull (people);
  while (more)
    {
      g_autofree char *path = g_strdup_printf ("/v1/integrity/ids?entity=person&after=%s&limit=3", after);
      g_autoptr(KhReply) r = kh_http_json (server, "GET", path, officer_a, NULL);
      g_autoptr(KhIntegrityIds) ids = NULL;
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (r->status, ==, 200);
      ids = kh_integrity_ids_from_json (r->json, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (ids->ids->len, <=, 3);
      for (guint i = 0; i < ids->ids->len; i++)
        {
          KhIdVersion *iv = &g_array_index (ids->ids, KhIdVersion, i);

          g_assert_cmpstr (iv->id, >, after);
          count++;
          checksum ^= iv->checksum;
          g_free (after);
          after = g_strdup (iv->id);
        }
      more = ids->has_more;
    }
  g_assert_cmpint (count, ==, people->count);
  g_assert_cmphex (checksum, ==, people->checksum);
}

static void
test_tombstone_window (void)
{
  gint64 v;
  g_autofree char *id = make_person (officer_b, "Lý Thị Oanh", unit_b, &v);
  g_autofree char *old = kh_test_pull_all (server, officer_b, NULL, 5000, NULL, NULL, NULL);
  g_autofree char *fresh = NULL;
  g_autofree char *after = NULL;
  g_autoptr(KhPushResponse) del = kh_test_push (server, officer_b,
                                                one (kh_test_mutation ("delete", "person", id, v, NULL)));
  const char *purge_now[] = { "--max-body", "1048576", "--tombstone-days", "0", NULL };
  const char *normal[] = { "--max-body", "1048576", NULL };
  gboolean reset = FALSE;
  g_autoptr(GHashTable) copy = records_table ();

  g_assert_cmpint (result (del, 0)->status, ==, KH_RESULT_APPLIED);
  fresh = kh_test_pull_all (server, officer_b, old, 5000, NULL, &reset, NULL);
  g_assert_false (reset);

  /* A restart with a window of 0 days purges the tombstone, and the answers kept for pushes
   * sent again. A cursor from before the delete can no longer be served without missing it:
   * the client is told to reconcile. A cursor from after it goes on as before. */
  g_assert_cmpint (kh_test_server_count (server, "SELECT count(*) FROM mutations"), >, 0);
  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, purge_now);
  g_assert_cmpint (kh_test_server_count (server, "SELECT count(*) FROM mutations"), ==, 0);
  after = kh_test_pull_all (server, officer_b, old, 5000, copy, &reset, NULL);
  g_assert_true (reset);
  g_assert_false (g_hash_table_contains (copy, id));
  g_clear_pointer (&after, g_free);
  after = kh_test_pull_all (server, officer_b, fresh, 5000, NULL, &reset, NULL);
  g_assert_false (reset);
  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, normal);
}

static size_t
discard_cb (char *data, size_t size, size_t n, void *user_data)
{
  g_string_append_len (user_data, data, (gssize) (size * n));
  return size * n;
}

static void
test_connection_limit (void)
{
  const char *one_connection[] = { "--max-body", "1048576", "--max-connections", "1", NULL };
  const char *normal[] = { "--max-body", "1048576", NULL };
  g_autofree char *url = NULL;
  CURL *first = curl_easy_init ();
  CURL *second = curl_easy_init ();
  g_autoptr(GString) a = g_string_new (NULL);
  g_autoptr(GString) b = g_string_new (NULL);
  long status_a = 0, status_b = 0;
  g_autofree char *integrity_url = NULL;
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s", admin);
  struct curl_slist *headers = curl_slist_append (NULL, auth);
  g_autoptr(KhReply) health = NULL;

  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, one_connection);
  url = g_strdup_printf ("%s/v1/health", server->base);
  integrity_url = g_strdup_printf ("%s/v1/integrity", server->base);

  /* The first client keeps its connection open; the second one is one too many for an
   * ordinary request, while the health check still answers from the reserve. */
  curl_easy_setopt (first, CURLOPT_URL, url);
  curl_easy_setopt (first, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt (first, CURLOPT_WRITEDATA, a);
  curl_easy_setopt (second, CURLOPT_URL, integrity_url);
  curl_easy_setopt (second, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (second, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt (second, CURLOPT_WRITEDATA, b);
  g_assert_cmpint (curl_easy_perform (first), ==, CURLE_OK);
  curl_easy_getinfo (first, CURLINFO_RESPONSE_CODE, &status_a);
  g_assert_cmpint (curl_easy_perform (second), ==, CURLE_OK);
  curl_easy_getinfo (second, CURLINFO_RESPONSE_CODE, &status_b);
  g_assert_cmpint (status_a, ==, 200);
  g_assert_cmpint (status_b, ==, 503);
  g_assert_nonnull (strstr (b->str, "\"busy\""));
  health = kh_http_json (server, "GET", "/v1/health", NULL, NULL);
  g_assert_cmpint (health->status, ==, 200);
  curl_easy_cleanup (first);
  curl_easy_cleanup (second);
  curl_slist_free_all (headers);

  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, normal);
}

typedef struct
{
  int    chunks;
  gint64 pause;
} Slow;

static size_t
slow_read_cb (char   *buffer,
              size_t  size,
              size_t  n,
              void   *user_data)
{
  Slow *slow = user_data;

  if (slow->chunks == 0)
    return 0;
  g_usleep (slow->pause);
  slow->chunks--;
  buffer[0] = slow->chunks == 0 ? '}' : ' ';
  return 1;
}

static void
test_request_timeout (void)
{
  const char *one_second[] = { "--max-body", "1048576", "--request-timeout", "1", NULL };
  const char *normal[] = { "--max-body", "1048576", NULL };
  g_autofree char *url = NULL;
  CURL *curl = curl_easy_init ();
  g_autoptr(GString) body = g_string_new (NULL);
  struct curl_slist *headers = curl_slist_append (NULL, "Content-Type: application/json");
  Slow slow = { 6, 300000 };
  long status = 0;

  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, one_second);
  url = g_strdup_printf ("%s/v1/login", server->base);

  /* A body that trickles in over 1.8 s, never idle for long: answered 408 when it is done. */
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_POST, 1L);
  curl_easy_setopt (curl, CURLOPT_READFUNCTION, slow_read_cb);
  curl_easy_setopt (curl, CURLOPT_READDATA, &slow);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, discard_cb);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, body);
  g_assert_cmpint (curl_easy_perform (curl), ==, CURLE_OK);
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &status);
  g_assert_cmpint (status, ==, 408);
  g_assert_nonnull (strstr (body->str, "\"timeout\""));
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);

  kh_test_server_kill (server, SIGTERM);
  kh_test_server_start (server, normal);
}

static void
test_revoke_and_disable (void)
{
  g_autoptr(KhReply) before = kh_http_json (server, "GET", "/v1/integrity", officer_b, NULL);
  g_autoptr(KhReply) after = NULL;
  g_autoptr(KhReply) again = NULL;
  g_autoptr(KhReply) refused = NULL;
  g_autofree char *token = NULL;
  json_object *body;

  g_assert_cmpint (before->status, ==, 200);
  kh_test_server_cli (server, NULL, "token", "revoke", "officer_b", NULL);
  after = kh_http_json (server, "GET", "/v1/integrity", officer_b, NULL);
  g_assert_cmpint (after->status, ==, 401);

  token = kh_test_login (server, "officer_b", NULL);
  again = kh_http_json (server, "GET", "/v1/integrity", token, NULL);
  g_assert_cmpint (again->status, ==, 200);

  /* A disabled account loses its tokens and cannot log in. */
  kh_test_server_cli (server, NULL, "user", "disable", "officer_b", NULL);
  g_clear_pointer (&again, kh_reply_free);
  again = kh_http_json (server, "GET", "/v1/integrity", token, NULL);
  g_assert_cmpint (again->status, ==, 401);
  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string ("officer_b"));
  json_object_object_add (body, "password", json_object_new_string ("password-officer_b"));
  refused = kh_http_json (server, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  g_assert_cmpint (refused->status, ==, 401);
}

static void
test_import_again_and_password_file (void)
{
  g_autoptr(KhIntegrity) before = NULL;
  g_autoptr(KhIntegrity) after = NULL;
  g_autofree char *csv = g_build_filename (server->dir, "units.csv", NULL);
  g_autofree char *pw = g_build_filename (server->dir, "pw.txt", NULL);
  g_autofree char *token = NULL;

  /* Importing the official list puts back what it says (the village moved by an earlier
   * test goes back under A); importing it once more changes nothing. */
  kh_test_server_cli (server, NULL, "org", "import", csv, NULL);
  before = integrity (admin);
  kh_test_server_cli (server, NULL, "org", "import", csv, NULL);
  after = integrity (admin);
  assert_same_integrity (before, after);

  /* A password from a file (first line, without its newline). */
  g_assert_true (g_file_set_contents (pw, "password-clerk_a\nignored\n", -1, NULL));
  kh_test_server_cli (server, NULL, "user", "add", "clerk_a", "--role", "officer", "--scope", "A1",
                      "--password-file", pw, NULL);
  token = kh_test_login (server, "clerk_a", NULL);
  g_assert_nonnull (token);
}

static void
test_login_slowed_per_address (void)
{
  g_autoptr(KhReply) last = NULL;
  g_autoptr(KhReply) known = NULL;
  json_object *body;

  /* 20 failures from one address, each for another name: the address waits, for everyone but
   * the accounts signed in from it on a device that still works. */
  kh_test_server_cli (server, "password-newcomer\n", "user", "add", "newcomer", "--role", "viewer", "--scope", "A",
                      NULL);
  for (int i = 0; i < 20; i++)
    {
      g_autofree char *name = g_strdup_printf ("guess%d", i);
      g_autoptr(KhReply) r = NULL;

      body = json_object_new_object ();
      json_object_object_add (body, "username", json_object_new_string (name));
      json_object_object_add (body, "password", json_object_new_string ("password"));
      r = kh_http_json (server, "POST", "/v1/login", NULL, body);
      json_object_put (body);
      if (r->status == 429)
        break;
      g_assert_cmpint (r->status, ==, 401);
    }
  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string ("newcomer"));
  json_object_object_add (body, "password", json_object_new_string ("password-newcomer"));
  last = kh_http_json (server, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  g_assert_cmpint (last->status, ==, 429);
  g_assert_nonnull (strstr (last->body, "\"rate_limited\""));

  body = json_object_new_object ();
  json_object_object_add (body, "username", json_object_new_string ("admin"));
  json_object_object_add (body, "password", json_object_new_string ("password-admin"));
  known = kh_http_json (server, "POST", "/v1/login", NULL, body);
  json_object_put (body);
  g_assert_cmpint (known->status, ==, 200);
}

int
main (int argc, char **argv)
{
  const char *backend = "sqlite";
  const char *max_body[] = { "--max-body", "1048576", "--threads", "4", NULL };
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
  kh_test_server_populate (server);
  kh_test_server_start (server, max_body);
  admin = kh_test_login (server, "admin", &unit_p);
  officer_a = kh_test_login (server, "officer_a", &unit_a);
  officer_b = kh_test_login (server, "officer_b", &unit_b);
  viewer_a = kh_test_login (server, "viewer_a", NULL);

  g_test_add_func ("/server/login/good-and-bad", test_health_and_login);
  g_test_add_func ("/server/login/slowed", test_login_slowed);
  g_test_add_func ("/server/scope/reads", test_scope_reads);
  g_test_add_func ("/server/scope/writes", test_scope_writes);
  g_test_add_func ("/server/push/idempotent-replay", test_idempotent_replay);
  g_test_add_func ("/server/push/disjoint-fields", test_disjoint_fields);
  g_test_add_func ("/server/push/awkward-text", test_awkward_text);
  g_test_add_func ("/server/push/nested-json-field", test_nested_json_field);
  g_test_add_func ("/server/push/same-field-conflict", test_same_field_conflict);
  g_test_add_func ("/server/push/delete-conflicts", test_delete_conflicts);
  g_test_add_func ("/server/push/id-of-another-kind", test_id_of_another_kind);
  g_test_add_func ("/server/limits/malformed", test_malformed);
  g_test_add_func ("/server/changes/empty-poll", test_empty_poll);
  g_test_add_func ("/server/changes/compressed", test_compressed_answers);
  g_test_add_func ("/server/changes/concurrent-writers", test_pagination_concurrent);
  g_test_add_func ("/server/restart/kill-mid-batch", test_restart_mid_batch);
  g_test_add_func ("/server/scope/change", test_scope_change);
  g_test_add_func ("/server/scope/org-move", test_org_move);
  g_test_add_func ("/server/changes/moved-away", test_moved_away);
  g_test_add_func ("/server/integrity/ids-paging", test_integrity_ids);
  g_test_add_func ("/server/tombstones/window", test_tombstone_window);
  g_test_add_func ("/server/epoch/bump", test_epoch_bump);
  g_test_add_func ("/server/limits/connections", test_connection_limit);
  g_test_add_func ("/server/limits/request-time", test_request_timeout);
  g_test_add_func ("/server/accounts/revoke-and-disable", test_revoke_and_disable);
  g_test_add_func ("/server/accounts/import-again-and-password-file", test_import_again_and_password_file);
  /* Last: it makes this address wait. */
  g_test_add_func ("/server/accounts/slowed-per-address", test_login_slowed_per_address);

  status = g_test_run ();
  kh_test_server_free (server);
  g_free (admin);
  g_free (officer_a);
  g_free (officer_b);
  g_free (viewer_a);
  g_free (unit_p);
  g_free (unit_a);
  g_free (unit_b);
  return status;
}
