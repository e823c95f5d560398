/* test-sync-privacy.c: erasure that reaches every copy, consent held by the server, on SQLite
 * and on PostgreSQL
 *
 * A person is erased on one replica; three replicas sync; then every byte of every file of
 * every replica (database, write-ahead log, shared memory, whatever else is in the folder) and
 * of the server's database (its files on SQLite, its tables on PostgreSQL) is searched for the
 * person's name, folded name and national id: none is found. The award that was paid still
 * counts, without the name. The server refuses a minor's award without consent, and a
 * withdrawn consent erases the person.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-privacy.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"
#include "kh-test-store.h"
#include "kh-uuid.h"

#define NAME        "Pi Năng Thị Tuyết"
#define FOLDED      "pi nang thi tuyet"
#define NATIONAL_ID "056214007391"
#define NOTE        "Gia đình Pi Năng khó khăn"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *r[3];
  char         *unit;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->r[0] = kh_treplica_new (f->server, f->dir, "r0", f->server->base, "officer_a");
  f->r[1] = kh_treplica_new (f->server, f->dir, "r1", f->server->base, "officer_a");
  f->r[2] = kh_treplica_new (f->server, f->dir, "r2", f->server->base, "admin");
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (f->r[i]);
  f->unit = g_strdup (kh_treplica_unit (f->r[0], "A"));
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  for (int i = 0; i < 3; i++)
    kh_treplica_free (f->r[i]);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

static char *
years_ago (int years)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_years (now, -years);
  g_autoptr(GDateTime) day = g_date_time_add_days (then, -30);

  return g_date_time_format (day, "%Y-%m-%d");
}

static char *
today (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format (now, "%Y-%m-%d");
}

static gboolean
contains (const char *data,
          gsize       len,
          const char *needle)
{
  gsize n = strlen (needle);

  for (gsize i = 0; i + n <= len; i++)
    if (data[i] == needle[0] && memcmp (data + i, needle, n) == 0)
      return TRUE;
  return FALSE;
}

/* Every regular file under @dir, searched for each of @needles (NULL-terminated). */
static void
assert_not_in_files (const char         *dir,
                     const char * const *needles)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint files = 0;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          assert_not_in_files (path, needles);
          continue;
        }
      if (!g_file_get_contents (path, &contents, &len, NULL))
        continue;
      files++;
      for (guint i = 0; needles[i] != NULL; i++)
        if (contains (contents, len, needles[i]))
          g_error ("“%s” is still in %s", needles[i], path);
    }
  g_test_message ("%u files searched in %s", files, dir);
}

static void
assert_not_on_server (Fixture            *f,
                      const char * const *needles)
{
  if (strcmp (f->server->backend, "sqlite") == 0)
    {
      assert_not_in_files (f->server->dir, needles);
      return;
    }
  for (guint i = 0; needles[i] != NULL; i++)
    {
      g_autofree char *records = g_strdup_printf ("SELECT count(*) FROM records WHERE data LIKE '%%%s%%' "
                                                  "OR field_versions LIKE '%%%s%%'", needles[i], needles[i]);
      g_autofree char *erasures = g_strdup_printf ("SELECT count(*) FROM erasures WHERE reason LIKE '%%%s%%'", needles[i]);
      g_autofree char *meta = g_strdup_printf ("SELECT count(*) FROM meta WHERE value LIKE '%%%s%%'", needles[i]);

      g_assert_cmpint (kh_test_server_count (f->server, records), ==, 0);
      g_assert_cmpint (kh_test_server_count (f->server, erasures), ==, 0);
      g_assert_cmpint (kh_test_server_count (f->server, meta), ==, 0);
    }
}

/* A child with a national id, a parent, the child's consent and an award paid to the child,
 * made on r0 and synced everywhere. */
static void
make_child (Fixture  *f,
            char    **child,
            char    **entry)
{
  g_autofree char *birth = years_ago (12);
  g_autofree char *day = today ();
  g_autofree char *json = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *list = NULL;
  g_autofree char *consent = NULL;

  json = g_strdup_printf ("{\"full_name\": \"Pi Năng Văn Hùng\", \"org_unit_id\": \"%s\", \"birth_date\": \"1980-02-03\"}",
                          f->unit);
  parent = kh_treplica_add (f->r[0], "person", json);
  g_free (json);
  json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\", \"birth_date\": \"%s\", "
                          "\"national_id\": \"%s\", \"ethnicity\": \"Raglai\", \"notes\": \"%s\"}",
                          NAME, f->unit, birth, NATIONAL_ID, NOTE);
  *child = kh_treplica_add (f->r[0], "person", json);
  g_free (json);
  json = g_strdup_printf ("{\"person_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_name\": \"%s\", "
                          "\"given_by\": \"both\", \"guardian_id\": \"%s\", \"guardian_name\": \"Pi Năng Văn Hùng\", "
                          "\"purpose\": \"Học bổng\", \"given_on\": \"%s\"}", *child, f->unit, NAME, parent, day);
  consent = kh_treplica_add (f->r[0], "consent", json);
  g_free (json);
  /* A list is made as a draft: its later steps are the chair's and the treasurer's. */
  json = g_strdup_printf ("{\"title\": \"Học bổng Tết\", \"occasion\": \"tet\", \"school_year\": \"2025-2026\", "
                          "\"org_unit_id\": \"%s\", \"status\": \"draft\"}", f->unit);
  list = kh_treplica_add (f->r[0], "award_list", json);
  g_free (json);
  json = g_strdup_printf ("{\"list_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_id\": \"%s\", "
                          "\"recipient_name\": \"%s\", \"birth_date\": \"%s\", \"school\": \"THCS Khánh Sơn\", "
                          "\"category\": \"hardship\", \"reason\": \"%s\", \"amount\": 1500000, "
                          "\"status\": \"paid\", \"received_on\": \"%s\", \"received_by\": \"Pi Năng Văn Hùng\"}",
                          list, f->unit, *child, NAME, birth, NOTE, day);
  *entry = kh_treplica_add (f->r[0], "award_entry", json);
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (f->r[i]);
}

static void
test_erase_everywhere (Fixture       *f,
                       gconstpointer  data)
{
  static const char * const needles[] = { NAME, FOLDED, NATIONAL_ID, "Raglai", NOTE, "đã cập nhật",
                                          "ghi chú khác", "0905777111", NULL };
  g_autofree char *child = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *local_entry = NULL;
  g_autoptr(GError) error = NULL;
  json_object *p;
  json_object *e;

  SKIP_WITHOUT_SERVER (f);
  make_child (f, &child, &entry);
  for (int i = 0; i < 3; i++)
    g_assert_cmpint (kh_treplica_count_named (f->r[i], NAME), ==, 1);

  /* r1 ends up with a conflict on the child's notes and an unsent change that names her. */
  kh_treplica_set (f->r[2], "person", child, "{\"notes\": \"Pi Năng: đã cập nhật\"}");
  kh_treplica_sync (f->r[2]);
  kh_treplica_set (f->r[1], "person", child, "{\"notes\": \"Pi Năng: ghi chú khác\"}");
  kh_treplica_sync (f->r[1]);
  g_assert_cmpint (kh_replica_count_conflicts (f->r[1]->store), >, 0);
  kh_treplica_set (f->r[1], "person", child, "{\"phone\": \"0905777111\"}");
  g_assert_cmpint (kh_store_count_pending (f->r[1]->store), >, 0);

  /* r2 makes an award entry for her that it has not sent when the erasure comes. */
  {
    json_object *known = kh_treplica_get (f->r[2], "award_entry", entry);
    g_autofree char *json = g_strdup_printf ("{\"list_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_id\": \"%s\", "
                                             "\"recipient_name\": \"%s\", \"category\": \"merit\", \"amount\": 700000, "
                                             "\"status\": \"proposed\", \"reason\": \"%s\"}",
                                             kh_tstr (known, "list_id"), f->unit, child, NAME, NOTE);

    local_entry = kh_treplica_add (f->r[2], "award_entry", json);
    json_object_put (known);
  }

  /* The officer of the area erases her. */
  g_assert_true (kh_sync_engine_erase (f->r[0]->engine, "person", child, "The family asked for it", NULL, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (f->r[i]);
  /* What r2 sent afterwards reaches the others without her name. */
  kh_treplica_sync (f->r[0]);
  e = kh_treplica_get (f->r[0], "award_entry", local_entry);
  g_assert_cmpstr (kh_tstr (e, "recipient_name"), ==, KH_ERASED_TEXT);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (e, "amount")), ==, 700000);
  json_object_put (e);

  for (int i = 0; i < 3; i++)
    {
      p = kh_treplica_get (f->r[i], "person", child);
      g_assert_true (json_object_get_boolean (json_object_object_get (p, "deleted")));
      g_assert_cmpstr (kh_tstr (p, "full_name"), ==, KH_ERASED_TEXT);
      g_assert_null (kh_tstr (p, "national_id"));
      g_assert_null (kh_tstr (p, "birth_date"));
      json_object_put (p);
      /* The award still counts, its amount and dates, without the name. */
      e = kh_treplica_get (f->r[i], "award_entry", entry);
      g_assert_false (json_object_get_boolean (json_object_object_get (e, "deleted")));
      g_assert_cmpstr (kh_tstr (e, "recipient_name"), ==, KH_ERASED_TEXT);
      g_assert_cmpint (json_object_get_int64 (json_object_object_get (e, "amount")), ==, 1500000);
      g_assert_cmpstr (kh_tstr (e, "status"), ==, "paid");
      g_assert_nonnull (kh_tstr (e, "received_on"));
      g_assert_null (kh_tstr (e, "reason"));
      g_assert_null (kh_tstr (e, "received_by"));
      json_object_put (e);
      g_assert_cmpint (kh_test_query_int (f->r[i]->store, "SELECT count(*) FROM conflict"), ==, 0);
      g_assert_cmpint (kh_test_query_int (f->r[i]->store, "SELECT count(*) FROM audit WHERE action = 'erase'"), >, 0);
    }
  g_assert_cmpint (kh_store_count_pending (f->r[1]->store), ==, 0);

  /* The server keeps who, when and why. */
  g_assert_cmpint (kh_test_server_count (f->server, "SELECT count(*) FROM erasures WHERE erased_by = 'officer_a' "
                                         "AND reason = 'The family asked for it'"), ==, 1);
  assert_not_on_server (f, needles);
  assert_not_in_files (f->dir, needles);

  /* A fresh replica gets the erased state and nothing else. */
  {
    KhTReplica *fresh = kh_treplica_new (f->server, f->dir, "fresh", f->server->base, "admin");

    kh_treplica_sync (fresh);
    g_assert_cmpint (kh_treplica_count_named (fresh, NAME), ==, 0);
    kh_treplica_free (fresh);
  }
  assert_not_in_files (f->dir, needles);
}

static void
test_erase_refused (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *child = NULL;
  g_autofree char *entry = NULL;
  g_autoptr(GError) error = NULL;
  KhTReplica *viewer;

  SKIP_WITHOUT_SERVER (f);
  make_child (f, &child, &entry);
  viewer = kh_treplica_new (f->server, f->dir, "viewer", f->server->base, "viewer_a");
  kh_treplica_sync (viewer);
  g_assert_false (kh_sync_engine_erase (viewer->engine, "person", child, "no", NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN);
  g_clear_error (&error);
  kh_treplica_free (viewer);
  /* An officer of another area does not see the person. */
  viewer = kh_treplica_new (f->server, f->dir, "other", f->server->base, "officer_b");
  g_assert_false (kh_sync_engine_erase (viewer->engine, "person", child, "no", NULL, &error));
  g_assert_error (error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND);
  g_clear_error (&error);
  kh_treplica_free (viewer);
  g_assert_cmpint (kh_test_server_count (f->server, "SELECT count(*) FROM erasures"), ==, 0);
}

/* The server holds the store's rule: a push that approves a minor's award without a consent
 * that counts is refused, whatever the client. */
static void
test_award_consent_on_server (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *token = NULL;
  g_autofree char *birth = years_ago (10);
  g_autofree char *child = NULL;
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *json = NULL;
  g_autoptr(KhPushResponse) r = NULL;
  json_object *mutations;
  json_object *fields;
  KhMutationResult *m;

  SKIP_WITHOUT_SERVER (f);
  token = kh_test_login (f->server, "officer_a", NULL);
  json = g_strdup_printf ("{\"full_name\": \"Lê Thị Na\", \"org_unit_id\": \"%s\", \"birth_date\": \"%s\"}", f->unit, birth);
  child = kh_treplica_add (f->r[0], "person", json);
  g_free (json);
  json = g_strdup_printf ("{\"title\": \"Phần thưởng\", \"occasion\": \"tet\", \"school_year\": \"2025-2026\", "
                          "\"org_unit_id\": \"%s\", \"status\": \"draft\"}", f->unit);
  list = kh_treplica_add (f->r[0], "award_list", json);
  kh_treplica_sync (f->r[0]);

  entry = kh_uuid_v7_new ();
  fields = json_object_new_object ();
  json_object_object_add (fields, "list_id", json_object_new_string (list));
  json_object_object_add (fields, "org_unit_id", json_object_new_string (f->unit));
  json_object_object_add (fields, "person_id", json_object_new_string (child));
  json_object_object_add (fields, "recipient_name", json_object_new_string ("Lê Thị Na"));
  json_object_object_add (fields, "category", json_object_new_string ("merit"));
  json_object_object_add (fields, "amount", json_object_new_int64 (500000));
  json_object_object_add (fields, "status", json_object_new_string ("approved"));
  mutations = json_object_new_array ();
  json_object_array_add (mutations, kh_test_mutation ("create", "award_entry", entry, 0, fields));
  r = kh_test_push (f->server, token, mutations);
  m = r->results->pdata[0];
  g_assert_cmpint (m->status, ==, KH_RESULT_REJECTED);
  g_assert_cmpstr (m->code, ==, "invalid");
  g_assert_nonnull (strstr (m->message, "consent"));
}

/* Withdrawing the consent erases the person on the server, and from there everywhere. */
static void
test_withdrawal_erases (Fixture       *f,
                        gconstpointer  data)
{
  static const char * const needles[] = { NAME, NATIONAL_ID, NULL };
  g_autofree char *child = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *day = today ();
  g_autofree char *json = NULL;
  g_autofree char *consent = NULL;
  json_object *list;
  json_object *where = json_object_new_object ();
  KhQuery q = { .where = where };
  json_object *p;

  SKIP_WITHOUT_SERVER (f);
  make_child (f, &child, &entry);
  json_object_object_add (where, "person_id", json_object_new_string (child));
  list = kh_store_list (f->r[1]->store, "consent", &q, NULL);
  g_assert_cmpint (json_object_array_length (list), ==, 1);
  consent = g_strdup (kh_tstr (json_object_array_get_idx (list, 0), "id"));
  json_object_put (list);
  json_object_put (where);

  json = g_strdup_printf ("{\"withdrawn_on\": \"%s\"}", day);
  kh_treplica_set (f->r[1], "consent", consent, json);
  kh_treplica_sync (f->r[1]);
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (f->r[i]);
  for (int i = 0; i < 3; i++)
    {
      p = kh_treplica_get (f->r[i], "person", child);
      g_assert_cmpstr (kh_tstr (p, "full_name"), ==, KH_ERASED_TEXT);
      json_object_put (p);
    }
  g_assert_cmpint (kh_test_server_count (f->server, "SELECT count(*) FROM erasures WHERE reason = 'consent withdrawn'"), ==, 1);
  assert_not_on_server (f, needles);
  assert_not_in_files (f->dir, needles);
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);

  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
#define ADD(name, fn) \
      { \
        g_autofree char *path = g_strdup_printf ("/sync/privacy/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("erase-everywhere", test_erase_everywhere);
      ADD ("erase-refused", test_erase_refused);
      ADD ("award-consent-on-server", test_award_consent_on_server);
      ADD ("withdrawal-erases", test_withdrawal_erases);
#undef ADD
    }
  return g_test_run ();
}
