/* test-sync-twice.c: one subject registered on two replicas offline, against the real server,
 * on SQLite and on PostgreSQL
 *
 * Two laptops of commune A's officer both register the same person as a learning citizen for
 * 2025 while offline; each store takes its own (it cannot see the other). The first to sync is
 * taken; the second is answered already_registered, kept as a refused change on the Sync page
 * with the server's words naming who registered it first; keeping the other (discarding this
 * one) leaves both laptops with the one registration. On one laptop the second registration is
 * refused at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-replica.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *r[2];
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%d", i);

      f->r[i] = kh_treplica_new (f->server, f->dir, name, f->server->base, "officer_a");
      kh_treplica_sync (f->r[i]);
    }
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  for (int i = 0; i < 2; i++)
    kh_treplica_free (f->r[i]);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
}

static char *
registration_json (const char *unit,
                   const char *person)
{
  return g_strdup_printf ("{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                          "\"subject_kind\": \"person\", \"subject_id\": \"%s\", "
                          "\"subject_name\": \"Hồ Thị Lụa\", \"status\": \"registered\"}", unit, person);
}

static gint64
live_registrations (KhTReplica *r)
{
  json_object *where = json_object_new_object ();
  KhQuery q = { .where = where };
  gint64 n = kh_store_count (r->store, "registration", &q, NULL);

  json_object_put (where);
  return n;
}

static void
test_registered_on_both (Fixture       *f,
                         gconstpointer  data)
{
  const char *unit;
  g_autofree char *person = NULL;
  g_autofree char *json = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autoptr(GError) error = NULL;
  json_object *outbox;
  KhSyncReport rep;

  if (f->server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  unit = kh_treplica_unit (f->r[0], "A");
  {
    g_autofree char *p = g_strdup_printf ("{\"full_name\": \"Hồ Thị Lụa\", \"org_unit_id\": \"%s\"}", unit);

    person = kh_treplica_add (f->r[0], "person", p);
  }
  kh_treplica_sync (f->r[0]);
  kh_treplica_sync (f->r[1]);

  json = registration_json (unit, person);
  first = kh_treplica_add (f->r[0], "registration", json);
  second = kh_treplica_add (f->r[1], "registration", json);
  /* On the one laptop, a second registration is refused at once. */
  {
    json_object *values = json_tokener_parse (json);
    g_autofree char *again = kh_store_create (f->r[0]->store, "registration", values, &error);

    json_object_put (values);
    g_assert_null (again);
    g_assert_nonnull (error);
    g_clear_error (&error);
  }

  rep = kh_treplica_sync (f->r[0]);
  g_assert_cmpuint (rep.pushed, ==, 1);
  rep = kh_treplica_sync (f->r[1]);
  g_assert_cmpuint (rep.rejected, ==, 1);
  g_assert_cmpint (kh_replica_count_rejected (f->r[1]->store), ==, 1);
  outbox = kh_store_list_outbox (f->r[1]->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (outbox, 0), "state"), ==, "rejected");
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (outbox, 0), "record_id"), ==, second);
  g_test_message ("%s", kh_tstr (json_object_array_get_idx (outbox, 0), "reason"));
  g_assert_nonnull (strstr (kh_tstr (json_object_array_get_idx (outbox, 0), "reason"), "officer_a"));
  g_assert_nonnull (strstr (kh_tstr (json_object_array_get_idx (outbox, 0), "reason"), first));
  json_object_put (outbox);

  /* Keep the other: this one goes, the first comes. */
  g_assert_true (kh_replica_discard_rejected (f->r[1]->store, second, &error));
  g_assert_no_error (error);
  kh_treplica_sync (f->r[1]);
  g_assert_cmpint (kh_replica_count_rejected (f->r[1]->store), ==, 0);
  g_assert_cmpint (live_registrations (f->r[1]), ==, 1);
  {
    json_object *kept = kh_treplica_get (f->r[1], "registration", first);

    g_assert_nonnull (kept);
    json_object_put (kept);
  }
  g_assert_cmpint (live_registrations (f->r[0]), ==, 1);
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
      g_autofree char *path = g_strdup_printf ("/sync/twice/%s/registered-on-both", backends[b]);

      g_test_add (path, Fixture, backends[b], set_up, test_registered_on_both, tear_down);
    }
  return g_test_run ();
}
