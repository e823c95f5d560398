/* test-security-data.c: the audit's data probes (issue 19, points 1, 2, 8 and 12)
 *
 * Against the real khuyenhoc-server on SQLite and, with KH_TEST_PG_URL, PostgreSQL, with the
 * standard tree (P ⊃ A ⊃ A1, P ⊃ B; officer_a in A, officer_b in B, admin in P):
 *
 * - an officer taking another unit's official code, or any code, and an admin making two units
 *   with one code on the same days; a code that could mean two units, resolved by the admin
 *   commands; unit kinds out of the hierarchy;
 * - references to another ward's records, to ids that do not exist, and a child record outside
 *   its parent's area;
 * - a crafted cursor of an old scope generation after a scope change;
 * - a replica given a page of another area's records or of units in a circle.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <gio/gio.h>
#include <string.h>

#include "kh-replica.h"
#include "kh-store.h"
#include "kh-test-dir.h"
#include "kh-test-server.h"
#include "kh-test-store.h"
#include "kh-uuid.h"

#define SERVER_BIN KH_BUILD_DIR "/app/khuyenhoc-server"

typedef struct
{
  KhTestServer *server;
  char         *admin;
  char         *officer_a;
  char         *officer_b;
  char         *unit_p;
  char         *unit_a;
  char         *unit_b;
} Backend;

static json_object *
one (json_object *m)
{
  json_object *list = json_object_new_array ();

  json_object_array_add (list, m);
  return list;
}

/* The result of @mutations (taken) pushed as @token, as the JSON the server sent. */
static json_object *
push (Backend     *be,
      const char  *token,
      json_object *mutations)
{
  json_object *body = json_object_new_object ();
  g_autofree char *client = kh_uuid_v7_new ();
  g_autoptr(KhReply) r = NULL;
  json_object *results;

  json_object_object_add (body, "client_id", json_object_new_string (client));
  json_object_object_add (body, "mutations", mutations);
  r = kh_http_json (be->server, "POST", "/v1/push", token, body);
  json_object_put (body);
  g_assert_cmpint (r->status, ==, 200);
  g_assert_true (json_object_object_get_ex (r->json, "results", &results));
  return json_object_get (json_object_array_get_idx (results, 0));
}

static const char *
member (json_object *obj,
        const char  *name)
{
  json_object *v;

  if (obj == NULL || !json_object_object_get_ex (obj, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

/* Pushes a create of @entity with @fields (taken) as @token; returns its result. */
static json_object *
create (Backend     *be,
        const char  *token,
        const char  *entity,
        const char  *id,
        json_object *fields)
{
  return push (be, token, one (kh_test_mutation ("create", entity, id, 0, fields)));
}

static void
assert_applied (json_object *result)
{
  if (g_strcmp0 (member (result, "status"), "applied") != 0)
    g_error ("not applied: %s", json_object_to_json_string (result));
}

/* Refused, naming @field. */
static void
assert_refused (json_object *result,
                const char  *field)
{
  if (g_strcmp0 (member (result, "status"), "rejected") != 0)
    g_error ("not refused: %s", json_object_to_json_string (result));
  g_assert_cmpstr (member (result, "field"), ==, field);
  g_assert_nonnull (member (result, "message"));
}

static json_object *
fields (const char *first,
        ...)
{
  json_object *f = json_object_new_object ();
  va_list ap;

  va_start (ap, first);
  for (const char *name = first; name != NULL; name = va_arg (ap, const char *))
    {
      const char *value = va_arg (ap, const char *);

      json_object_object_add (f, name, value != NULL ? json_object_new_string (value) : NULL);
    }
  va_end (ap);
  return f;
}

/* Makes a record as @token and returns its id; asserts it was applied. */
static char *
made (Backend     *be,
      const char  *token,
      const char  *entity,
      json_object *f)
{
  char *id = kh_uuid_v7_new ();
  g_autoptr(json_object) r = create (be, token, entity, id, f);

  assert_applied (r);
  return id;
}

/* A draft: entries are added before the list is approved, which locks it. */
static char *
award_list (Backend    *be,
            const char *token,
            const char *unit)
{
  return made (be, token, "award_list", fields ("title", "Tết 2026", "occasion", "tet", "school_year", "2025-2026",
                                                "org_unit_id", unit, "status", "draft", NULL));
}

static json_object *
award_entry (const char *list,
             const char *unit)
{
  json_object *f = fields ("list_id", list, "org_unit_id", unit, "recipient_name", "Phạm Thị Thu",
                           "category", "merit", "status", "approved", NULL);

  json_object_object_add (f, "amount", json_object_new_int64 (50000000));
  return f;
}

/* Runs khuyenhoc-server ARGS… on @be's database; returns its exit status and what it wrote to
 * standard error. */
static int
server_cli (Backend  *be,
            char    **err,
            ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  va_list ap;
  const char *arg;

  g_ptr_array_add (argv, (gpointer) SERVER_BIN);
  g_ptr_array_add (argv, (gpointer) "--db");
  g_ptr_array_add (argv, be->server->url);
  va_start (ap, err);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (argv, NULL);
  proc = g_subprocess_newv ((const char * const *) argv->pdata,
                            G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
                            | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, "password-secret\n", NULL, &out, err, &error);
  g_assert_no_error (error);
  return g_subprocess_get_exit_status (proc);
}

/* 1. Official codes and kinds ----------------------------------------------------------------- */

/* The audit's attack: officer_a makes a unit in A with B's code. Refused, and so is any code an
 * officer sets, new or changed. */
static void
test_officer_takes_code (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *id = kh_uuid_v7_new ();
  g_autoptr(json_object) squat = create (be, be->officer_a, "org_unit", id,
                                         fields ("code", "B", "name", "Xã B", "kind", "village",
                                                 "parent_id", be->unit_a, NULL));
  g_autoptr(json_object) own = NULL;
  g_autoptr(json_object) rename = NULL;
  g_autofree char *id2 = kh_uuid_v7_new ();
  g_autofree char *err = NULL;

  assert_refused (squat, "code");
  g_assert_cmpstr (member (squat, "code"), ==, "forbidden");
  own = create (be, be->officer_a, "org_unit", id2,
                fields ("code", "A1-X", "name", "Thôn Mới", "kind", "village", "parent_id", be->unit_a, NULL));
  assert_refused (own, "code");
  /* A's own code, changed by its officer. */
  {
    g_autoptr(GHashTable) copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) kh_record_free);
    g_autofree char *cursor = kh_test_pull_all (be->server, be->officer_a, NULL, 5000, copy, NULL, NULL);
    KhRecord *a = g_hash_table_lookup (copy, be->unit_a);
    gint64 version;

    g_assert_nonnull (a);
    version = a->version;
    rename = push (be, be->officer_a, one (kh_test_mutation ("update", "org_unit", be->unit_a, version,
                                                             fields ("code", "B", NULL))));
    assert_refused (rename, "code");
  }
  /* The admin commands still find B's own unit by its code. */
  g_assert_cmpint (server_cli (be, &err, "user", "add", "officer_b2", "--role", "officer", "--scope", "B",
                               NULL), ==, 0);
}

/* Even an admin cannot give two units one code on the same days; on other days it may. */
static void
test_code_overlap (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *id = kh_uuid_v7_new ();
  g_autoptr(json_object) same = create (be, be->admin, "org_unit", id,
                                        fields ("code", "A", "name", "Xã A khác", "kind", "commune",
                                                "parent_id", be->unit_p, NULL));
  g_autofree char *old = kh_uuid_v7_new ();
  g_autoptr(json_object) made_old = NULL;
  g_autoptr(json_object) stretched = NULL;

  assert_refused (same, "code");
  g_assert_cmpstr (member (same, "code"), ==, "invalid");
  /* The code was another unit's before A existed (A is valid from 2025-07-01). */
  made_old = create (be, be->admin, "org_unit", old, fields ("code", "A", "name", "Xã A cũ", "kind", "commune",
                                                            "parent_id", be->unit_p, "valid_from", "2010-01-01",
                                                            "valid_to", "2025-06-30", NULL));
  assert_applied (made_old);
  /* Nor can that old unit be stretched over A's days. */
  stretched = push (be, be->admin, one (kh_test_mutation ("update", "org_unit", old,
                                                          json_object_get_int64 (json_object_object_get (made_old, "version")),
                                                          fields ("valid_to", NULL, NULL))));
  assert_refused (stretched, "code");
  g_assert_cmpint (kh_test_server_count (be->server, "SELECT count(*) FROM org_units WHERE code = 'A' "
                                                     "AND valid_to IS NULL"), ==, 1);

  /* A deleted unit frees its code; bringing it back while another has the code is refused (an
   * answer naming the field, not a database error). */
  {
    g_autofree char *x = kh_uuid_v7_new ();
    g_autoptr(json_object) made_x = create (be, be->admin, "org_unit", x,
                                            fields ("code", "RZ", "name", "Xã RZ", "kind", "commune",
                                                    "parent_id", be->unit_p, NULL));
    g_autoptr(json_object) deleted = NULL;
    g_autoptr(json_object) restored = NULL;

    assert_applied (made_x);
    deleted = push (be, be->admin, one (kh_test_mutation ("delete", "org_unit", x,
                                                          json_object_get_int64 (json_object_object_get (made_x, "version")),
                                                          NULL)));
    assert_applied (deleted);
    g_free (made (be, be->admin, "org_unit", fields ("code", "RZ", "name", "Xã RZ mới", "kind", "commune",
                                                    "parent_id", be->unit_p, NULL)));
    restored = push (be, be->admin, one (kh_test_mutation ("restore", "org_unit", x,
                                                           json_object_get_int64 (json_object_object_get (deleted, "version")),
                                                           NULL)));
    assert_refused (restored, "code");
  }
}

/* A code no unit has today but two had on other days: the admin commands and the import name
 * both and resolve neither; the id resolves it. */
static void
test_ambiguous_code (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *first = made (be, be->admin, "org_unit", fields ("code", "Z9", "name", "Xã Z9 một", "kind", "commune",
                                                                    "parent_id", be->unit_p, "valid_from", "2015-01-01",
                                                                    "valid_to", "2018-12-31", NULL));
  g_autofree char *second = made (be, be->admin, "org_unit", fields ("code", "Z9", "name", "Xã Z9 hai", "kind", "commune",
                                                                     "parent_id", be->unit_p, "valid_from", "2019-01-01",
                                                                     "valid_to", "2024-12-31", NULL));
  g_autofree char *err = NULL;
  g_autofree char *err2 = NULL;
  g_autofree char *err3 = NULL;
  g_autofree char *err4 = NULL;
  g_autofree char *csv = g_build_filename (be->server->dir, "z9.csv", NULL);

  g_assert_cmpint (server_cli (be, &err, "user", "add", "officer_z", "--role", "officer", "--scope", "Z9",
                               NULL), !=, 0);
  g_assert_nonnull (strstr (err, first));
  g_assert_nonnull (strstr (err, second));
  g_assert_cmpint (server_cli (be, &err2, "user", "scope", "officer_b", "Z9", NULL), !=, 0);
  g_assert_nonnull (strstr (err2, first));
  g_assert_true (g_file_set_contents (csv, "code,name,kind,parent_code\nZ9T,Thôn Z,village,Z9\n", -1, NULL));
  g_assert_cmpint (server_cli (be, &err3, "org", "import", csv, NULL), !=, 0);
  g_assert_nonnull (strstr (err3, second));
  g_assert_cmpint (server_cli (be, &err4, "user", "add", "officer_z", "--role", "officer", "--scope", second,
                               NULL), ==, 0);
}

/* Kinds follow the hierarchy: no province under a commune, no village under a province, no
 * district after the reform. */
static void
test_unit_kinds (gconstpointer data)
{
  Backend *be = (Backend *) data;
  struct { const char *kind; const char *parent; const char *valid_to; const char *field; } cases[] = {
    { "province", be->unit_a, NULL, "parent_id" },
    { "village", be->unit_p, NULL, "parent_id" },
    { "district", be->unit_p, NULL, "valid_to" },
    { "village", NULL, NULL, "parent_id" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *id = kh_uuid_v7_new ();
      g_autofree char *code = g_strdup_printf ("K%u", i);
      json_object *f = fields ("code", code, "name", "Đơn vị", "kind", cases[i].kind, NULL);
      g_autoptr(json_object) r = NULL;

      if (cases[i].parent != NULL)
        json_object_object_add (f, "parent_id", json_object_new_string (cases[i].parent));
      if (cases[i].valid_to != NULL)
        json_object_object_add (f, "valid_to", json_object_new_string (cases[i].valid_to));
      r = create (be, be->admin, "org_unit", id, f);
      assert_refused (r, cases[i].field);
    }
  /* And what fits is taken. */
  g_free (made (be, be->admin, "org_unit", fields ("code", "K9", "name", "Trường K9", "kind", "school",
                                                   "parent_id", be->unit_a, NULL)));
}

/* 2. References -------------------------------------------------------------------------------- */

/* The audit's attack: an approved 50,000,000 ₫ entry on another ward's list, a donation to its
 * fund; references to its household, person and registration, and to ids that do not exist. */
static void
test_references_out_of_area (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *list_b = award_list (be, be->officer_b, be->unit_b);
  g_autofree char *fund_b = made (be, be->officer_b, "fund", fields ("name", "Quỹ B", "level", "commune",
                                                                     "org_unit_id", be->unit_b, NULL));
  g_autofree char *household_b = made (be, be->officer_b, "household", fields ("head_name", "Võ Văn Hòa",
                                                                               "org_unit_id", be->unit_b, NULL));
  g_autofree char *person_b = made (be, be->officer_b, "person", kh_test_person ("Võ Thị Mai", be->unit_b));
  g_autofree char *nowhere = kh_uuid_v7_new ();
  json_object *f;

  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(json_object) r = create (be, be->officer_a, "award_entry", id, award_entry (list_b, be->unit_a));

    assert_refused (r, "list_id");
    g_assert_cmpstr (member (r, "code"), ==, "invalid");
  }
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(json_object) r = NULL;

    f = fields ("fund_id", fund_b, "org_unit_id", be->unit_a, "donor_name", "Công ty X", "donated_on", "2026-01-05",
                "form", "cash", NULL);
    json_object_object_add (f, "amount", json_object_new_int64 (1000000));
    r = create (be, be->officer_a, "donation", id, f);
    assert_refused (r, "fund_id");
  }
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autofree char *id2 = kh_uuid_v7_new ();
    g_autoptr(json_object) r = NULL;
    g_autoptr(json_object) r2 = NULL;

    f = kh_test_person ("Lê Văn Tâm", be->unit_a);
    json_object_object_add (f, "household_id", json_object_new_string (household_b));
    r = create (be, be->officer_a, "person", id, f);
    assert_refused (r, "household_id");
    /* An id that does not exist gets the same words: no way to tell which ids exist there. */
    f = kh_test_person ("Lê Văn Tâm", be->unit_a);
    json_object_object_add (f, "household_id", json_object_new_string (nowhere));
    r2 = create (be, be->officer_a, "person", id2, f);
    assert_refused (r2, "household_id");
    g_assert_cmpstr (member (r, "code"), ==, "invalid");
    g_assert_cmpstr (member (r2, "code"), ==, "invalid");
  }
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(json_object) r = NULL;

    f = fields ("model", "citizen", "org_unit_id", be->unit_a, "subject_kind", "person", "subject_id", person_b,
                "subject_name", "Võ Thị Mai", "status", "registered", NULL);
    json_object_object_add (f, "year", json_object_new_int64 (2026));
    r = create (be, be->officer_a, "registration", id, f);
    assert_refused (r, "subject_id");
  }
  {
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(json_object) r = NULL;

    f = fields ("registration_id", nowhere, "org_unit_id", be->unit_a, "result", "pass", NULL);
    r = create (be, be->officer_a, "evaluation", id, f);
    assert_refused (r, "registration_id");
  }
  /* Pointing an existing record of one's own at the other ward's list is refused too. */
  {
    g_autofree char *list_a = award_list (be, be->officer_a, be->unit_a);
    g_autofree char *id = kh_uuid_v7_new ();
    g_autoptr(json_object) r = create (be, be->officer_a, "award_entry", id, award_entry (list_a, be->unit_a));
    g_autoptr(json_object) moved = NULL;

    assert_applied (r);
    moved = push (be, be->officer_a, one (kh_test_mutation ("update", "award_entry", id,
                                                            json_object_get_int64 (json_object_object_get (r, "version")),
                                                            fields ("list_id", list_b, NULL))));
    assert_refused (moved, "list_id");
  }
  /* Only officer_a's entry on its own list was taken. */
  g_assert_cmpint (kh_test_server_count (be->server, "SELECT count(*) FROM records WHERE entity = 'award_entry'"), ==, 1);
}

/* A record that belongs to another lives in that record's area: the admin, who can read both
 * communes, cannot put B's entry on A's list; a provincial list takes entries from A. References
 * made in the same batch, before, are found. */
static void
test_child_in_parent_area (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *list_a = award_list (be, be->admin, be->unit_a);
  g_autofree char *list_p = award_list (be, be->admin, be->unit_p);
  g_autofree char *id = kh_uuid_v7_new ();
  g_autofree char *id2 = kh_uuid_v7_new ();
  g_autoptr(json_object) r = create (be, be->admin, "award_entry", id, award_entry (list_a, be->unit_b));
  g_autoptr(json_object) r2 = create (be, be->admin, "award_entry", id2, award_entry (list_p, be->unit_a));

  assert_refused (r, "list_id");
  g_assert_cmpstr (member (r, "code"), ==, "invalid");
  assert_applied (r2);

  {
    g_autofree char *list = kh_uuid_v7_new ();
    g_autofree char *entry = kh_uuid_v7_new ();
    json_object *list_fields = fields ("title", "Khai giảng", "occasion", "new_school_year",
                                       "school_year", "2026-2027", "org_unit_id", be->unit_a, "status", "draft", NULL);
    json_object *mutations = json_object_new_array ();
    json_object *body = json_object_new_object ();
    g_autofree char *client = kh_uuid_v7_new ();
    g_autoptr(KhReply) reply = NULL;
    json_object *results;

    g_autofree char *household = kh_uuid_v7_new ();
    g_autofree char *head = kh_uuid_v7_new ();
    json_object *person = kh_test_person ("Trần Văn Hải", be->unit_a);

    json_object_array_add (mutations, kh_test_mutation ("create", "award_list", list, 0, list_fields));
    json_object_array_add (mutations, kh_test_mutation ("create", "award_entry", entry, 0, award_entry (list, be->unit_a)));
    /* A household sent with its head, whom the same batch creates after it (the outbox keeps
     * a record's later changes in its first entry). */
    json_object_object_add (person, "household_id", json_object_new_string (household));
    json_object_array_add (mutations, kh_test_mutation ("create", "household", household, 0,
                                                        fields ("head_name", "Trần Văn Hải", "org_unit_id", be->unit_a,
                                                                "head_id", head, NULL)));
    json_object_array_add (mutations, kh_test_mutation ("create", "person", head, 0, person));
    json_object_object_add (body, "client_id", json_object_new_string (client));
    json_object_object_add (body, "mutations", mutations);
    reply = kh_http_json (be->server, "POST", "/v1/push", be->officer_a, body);
    json_object_put (body);
    g_assert_cmpint (reply->status, ==, 200);
    results = json_object_object_get (reply->json, "results");
    for (size_t i = 0; i < json_object_array_length (results); i++)
      assert_applied (json_object_array_get_idx (results, i));
  }
}

/* 12. A replica refuses another area's records and units in a circle ------------------------- */

/* The first page of @token's feed, as the server sent it. */
static KhReply *
first_page (Backend    *be,
            const char *token)
{
  KhRequestOptions o = { token, NULL, NULL };
  KhReply *r = kh_http (be->server, "GET", "/v1/changes?cursor=&limit=5000", NULL, 0, &o);

  g_assert_cmpint (r->status, ==, 200);
  g_assert_false (json_object_get_boolean (json_object_object_get (r->json, "has_more")));
  return r;
}

static gboolean
apply (KhStore      *store,
       json_object  *page,
       json_object  *records,
       GError      **error)
{
  return kh_replica_apply_page (store, records, json_object_object_get (page, "removed"),
                                json_object_get_string (json_object_object_get (page, "cursor")),
                                FALSE, FALSE, NULL, error);
}

static void
test_replica_refuses_bad_pages (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "replica.db", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);
  g_autoptr(KhReply) mine = first_page (be, be->officer_a);
  g_autoptr(KhReply) theirs = first_page (be, be->officer_b);
  g_autoptr(json_object) circle = json_object_new_array ();
  json_object *records = json_object_object_get (mine->json, "records");
  const char *village = NULL;
  json_object *unit_a = NULL;

  g_assert_no_error (error);
  /* As a sign-in leaves it: the account's unit. */
  g_assert_true (kh_store_begin (store, &error));
  g_assert_true (kh_replica_set_state (store, "scope_unit_id", be->unit_a, &error));
  g_assert_true (kh_store_commit (store, &error));
  g_assert_no_error (error);
  g_assert_true (kh_replica_apply_page (store, records, json_object_object_get (mine->json, "removed"),
                                        json_object_get_string (json_object_object_get (mine->json, "cursor")),
                                        TRUE, FALSE, NULL, &error));
  g_assert_no_error (error);

  /* B's records, as if the server mixed B's feed into A's. */
  g_assert_false (apply (store, theirs->json, json_object_object_get (theirs->json, "records"), &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  {
    g_autoptr(json_object) where = fields ("org_unit_id", be->unit_b, NULL);

    g_assert_cmpint (kh_store_count (store, "person", &(KhQuery) { .where = where }, NULL), ==, 0);
  }

  /* A under its own village A1. */
  for (size_t i = 0; i < json_object_array_length (records); i++)
    {
      json_object *r = json_object_array_get_idx (records, i);
      json_object *f = json_object_object_get (r, "fields");

      if (g_strcmp0 (member (r, "entity"), "org_unit") != 0)
        continue;
      if (g_strcmp0 (member (r, "id"), be->unit_a) == 0)
        unit_a = r;
      else if (g_strcmp0 (member (f, "parent_id"), be->unit_a) == 0 && g_strcmp0 (member (f, "kind"), "village") == 0)
        village = member (r, "id");
    }
  g_assert_nonnull (unit_a);
  g_assert_nonnull (village);
  {
    json_object *copy = NULL;

    g_assert_cmpint (json_object_deep_copy (unit_a, &copy, NULL), ==, 0);
    json_object_object_add (json_object_object_get (copy, "fields"), "parent_id", json_object_new_string (village));
    json_object_object_add (copy, "version", json_object_new_int64 (100000000));
    json_object_array_add (circle, copy);
  }
  g_assert_false (apply (store, mine->json, circle, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  {
    g_autoptr(json_object) still = kh_store_get (store, "org_unit", be->unit_a, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (member (still, "parent_id"), ==, be->unit_p);
  }
  g_clear_object (&store);
  kh_test_rmdir (dir);
}

/* 8. An old scope generation's cursor -------------------------------------------------------- */

/* The reset page of @cursor with its version raised past the newest, as officer_a. */
static KhReply *
crafted_reset (Backend    *be,
               const char *cursor,
               int         limit)
{
  g_auto(GStrv) parts = g_strsplit (cursor, ".", 4);
  g_autofree char *crafted = g_strdup_printf ("%s.%s.%s.%s", parts[0], parts[1], "999999999", parts[3]);
  g_autofree char *esc = g_uri_escape_string (crafted, NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/v1/changes?cursor=%s&limit=%d", esc, limit);
  KhRequestOptions o = { be->officer_a, NULL, NULL };
  KhReply *r = kh_http (be->server, "GET", path, NULL, 0, &o);

  g_assert_cmpint (r->status, ==, 200);
  g_assert_true (json_object_get_boolean (json_object_object_get (r->json, "reset")));
  return r;
}

static gboolean
names (KhReply    *r,
       const char *id)
{
  json_object *removed = json_object_object_get (r->json, "removed");

  for (size_t i = 0; i < json_object_array_length (removed); i++)
    if (g_strcmp0 (member (json_object_array_get_idx (removed, i), "id"), id) == 0)
      return TRUE;
  return FALSE;
}

/* After officer_a moves to B, a cursor of A's generation, its version raised past the newest,
 * asks for a reset page. It may name A's records officer_a could have pulled (so unsent changes
 * to them stay refused), but not one made after the move, nor one in a unit moved into A after,
 * and no more than the limit. */
static void
test_old_generation_cursor (gconstpointer data)
{
  Backend *be = (Backend *) data;
  g_autofree char *before = made (be, be->officer_a, "person", kh_test_person ("Hồ Văn Lợi", be->unit_a));
  g_autofree char *cursor = kh_test_pull_all (be->server, be->officer_a, NULL, 5000, NULL, NULL, NULL);
  g_autofree char *after = NULL;
  g_autofree char *school = NULL;
  g_autofree char *in_school = NULL;
  g_autoptr(KhReply) all = NULL;
  g_autoptr(KhReply) limited = NULL;

  /* A school of B, with a pupil, before the move; it moves into A after. */
  school = made (be, be->admin, "org_unit", fields ("code", "SB", "name", "Trường SB", "kind", "school",
                                                    "parent_id", be->unit_b, NULL));
  in_school = made (be, be->admin, "person", kh_test_person ("Đào Văn Sơn", school));
  g_free (kh_test_pull_all (be->server, be->officer_a, cursor, 5000, NULL, NULL, NULL));
  g_free (cursor);
  cursor = kh_test_pull_all (be->server, be->officer_a, NULL, 5000, NULL, NULL, NULL);
  kh_test_server_cli (be->server, NULL, "user", "scope", "officer_a", "B", NULL);
  after = made (be, be->admin, "person", kh_test_person ("Hồ Thị Nga", be->unit_a));
  {
    g_autoptr(GHashTable) copy = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                        (GDestroyNotify) kh_record_free);
    g_autofree char *c = kh_test_pull_all (be->server, be->admin, NULL, 5000, copy, NULL, NULL);
    KhRecord *unit = g_hash_table_lookup (copy, school);
    g_autoptr(json_object) moved = push (be, be->admin, one (kh_test_mutation ("update", "org_unit", school,
                                                                               unit->version,
                                                                               fields ("parent_id", be->unit_a, NULL))));

    assert_applied (moved);
  }

  all = crafted_reset (be, cursor, 5000);
  limited = crafted_reset (be, cursor, 1);
  kh_test_server_cli (be->server, NULL, "user", "scope", "officer_a", "A", NULL);

  g_assert_true (names (all, before));
  g_assert_false (names (all, after));
  g_assert_false (names (all, in_school));
  g_assert_cmpuint (json_object_array_length (json_object_object_get (limited->json, "removed")), <=, 1);
}

/* ------------------------------------------------------------------------------------------ */

static Backend *
backend_new (const char *name)
{
  const char *args[] = { "--threads", "4", NULL };
  Backend *be;
  KhTestServer *s = kh_test_server_new (name);

  if (s == NULL)
    return NULL;
  be = g_new0 (Backend, 1);
  be->server = s;
  kh_test_server_populate (s);
  kh_test_server_start (s, args);
  be->admin = kh_test_login (s, "admin", &be->unit_p);
  be->officer_a = kh_test_login (s, "officer_a", &be->unit_a);
  be->officer_b = kh_test_login (s, "officer_b", &be->unit_b);
  return be;
}

static void
backend_free (Backend *be)
{
  if (be == NULL)
    return;
  kh_test_server_free (be->server);
  g_free (be->admin);
  g_free (be->officer_a);
  g_free (be->officer_b);
  g_free (be->unit_p);
  g_free (be->unit_a);
  g_free (be->unit_b);
  g_free (be);
}

static void
skip_cb (gconstpointer data)
{
  g_test_skip ("KH_TEST_PG_URL is not set: no PostgreSQL to test against");
}

int
main (int argc, char **argv)
{
  static const char * const names[] = { "sqlite", "postgresql" };
  static const struct { const char *path; GTestDataFunc func; } tests[] = {
    { "code/officer-takes-code", test_officer_takes_code },
    { "code/overlap", test_code_overlap },
    { "code/ambiguous", test_ambiguous_code },
    { "code/unit-kinds", test_unit_kinds },
    { "references/out-of-area", test_references_out_of_area },
    { "references/child-in-parent-area", test_child_in_parent_area },
    { "replica/bad-pages", test_replica_refuses_bad_pages },
    /* Last: it moves officer_a and back. */
    { "changes/old-generation-cursor", test_old_generation_cursor },
  };
  Backend *backends[G_N_ELEMENTS (names)];
  int status;

  g_test_init (&argc, &argv, NULL);
  for (guint b = 0; b < G_N_ELEMENTS (names); b++)
    {
      backends[b] = backend_new (names[b]);
      for (guint t = 0; t < G_N_ELEMENTS (tests); t++)
        {
          g_autofree char *path = g_strdup_printf ("/security/data/%s/%s", names[b], tests[t].path);

          g_test_add_data_func (path, backends[b], backends[b] != NULL ? tests[t].func : skip_cb);
        }
    }
  status = g_test_run ();
  for (guint b = 0; b < G_N_ELEMENTS (names); b++)
    backend_free (backends[b]);
  return status;
}
