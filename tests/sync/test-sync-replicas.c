/* test-sync-replicas.c: two and three replicas against the real server, over HTTP, on SQLite
 * and on PostgreSQL
 *
 * Officers edit offline and sync in turns. What is proved: disjoint edits merge by themselves;
 * an edit of the same field on both sides becomes a conflict that keeps both values until a
 * person chooses, and the choice reaches everyone; records created on both sides all arrive,
 * once; a delete against an edit is a conflict either way round; at the end every replica
 * equals a fresh replica pulled from the server.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-replica.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  char       *dir;
  KhTReplica *r[3];
  char       *unit_a;
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
  f->unit_a = g_strdup (kh_treplica_unit (f->r[0], "A"));
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
  g_free (f->unit_a);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

static char *
add_person (Fixture    *f,
            int         i,
            const char *name)
{
  g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, f->unit_a);

  return kh_treplica_add (f->r[i], "person", json);
}

/* Every officer replica equals a fresh replica of the same account pulled from the server; the
 * admin's equals a fresh admin replica. */
static void
assert_converged (Fixture *f)
{
  KhTReplica *fresh_a = kh_treplica_new (f->server, f->dir, "fresh_a", f->server->base, "officer_a");
  KhTReplica *fresh_p = kh_treplica_new (f->server, f->dir, "fresh_p", f->server->base, "admin");
  g_autofree char *da = NULL;
  g_autofree char *dp = NULL;

  kh_treplica_sync (fresh_a);
  kh_treplica_sync (fresh_p);
  da = kh_treplica_dump (fresh_a);
  dp = kh_treplica_dump (fresh_p);
  for (int i = 0; i < 3; i++)
    {
      g_autofree char *d = kh_treplica_dump (f->r[i]);

      g_assert_cmpint (kh_store_count_pending (f->r[i]->store), ==, 0);
      g_assert_true (kh_replica_check (f->r[i]->store, NULL));
      g_assert_cmpstr (d, ==, i < 2 ? da : dp);
    }
  kh_treplica_free (fresh_a);
  kh_treplica_free (fresh_p);
}

static void
sync_all (Fixture *f)
{
  /* Twice round: what one pushes the others pull. */
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 3; i++)
      kh_treplica_sync (f->r[i]);
}

static void
test_disjoint (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *id = NULL;
  json_object *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, 0, "Nguyễn Văn Đức");
  kh_treplica_sync (f->r[0]);
  kh_treplica_sync (f->r[1]);

  /* Offline on both laptops, different fields; the province changes a third. */
  kh_treplica_set (f->r[0], "person", id, "{\"phone\": \"0905123456\"}");
  kh_treplica_set (f->r[1], "person", id, "{\"address\": \"Thôn 2\"}");
  kh_treplica_sync (f->r[2]);
  kh_treplica_set (f->r[2], "person", id, "{\"gender\": \"male\"}");
  kh_treplica_sync (f->r[2]);
  rep = kh_treplica_sync (f->r[0]);
  g_assert_cmpuint (rep.pushed, ==, 1);
  rep = kh_treplica_sync (f->r[1]);
  g_assert_cmpuint (rep.conflicts, ==, 0);
  g_assert_cmpuint (rep.pushed, ==, 1);
  sync_all (f);

  for (int i = 0; i < 3; i++)
    {
      rec = kh_treplica_get (f->r[i], "person", id);
      g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905123456");
      g_assert_cmpstr (kh_tstr (rec, "address"), ==, "Thôn 2");
      g_assert_cmpstr (kh_tstr (rec, "gender"), ==, "male");
      json_object_put (rec);
      g_assert_cmpint (kh_replica_count_conflicts (f->r[i]->store), ==, 0);
    }
  assert_converged (f);
}

static void
test_same_field (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  json_object *rec;
  json_object *conflicts;
  json_object *c;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  id = add_person (f, 0, "Trần Thị Hoa");
  sync_all (f);

  kh_treplica_set (f->r[0], "person", id, "{\"phone\": \"0905000001\"}");
  kh_treplica_set (f->r[1], "person", id, "{\"phone\": \"0905000002\"}");
  kh_treplica_sync (f->r[0]);
  rep = kh_treplica_sync (f->r[1]);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_cmpint (rep.open_conflicts, ==, 1);

  /* Both values are kept: the officer still sees theirs, the conflict holds the other. */
  rec = kh_treplica_get (f->r[1], "person", id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000002");
  json_object_put (rec);
  conflicts = kh_replica_list_conflicts (f->r[1]->store, &error);
  g_assert_cmpuint (json_object_array_length (conflicts), ==, 1);
  c = json_object_array_get_idx (conflicts, 0);
  g_assert_cmpstr (kh_tstr (c, "field"), ==, "phone");
  g_assert_cmpstr (kh_tstr (c, "local"), ==, "0905000002");
  g_assert_cmpstr (kh_tstr (c, "remote"), ==, "0905000001");
  g_assert_cmpstr (kh_tstr (c, "remote_by"), ==, "officer_a");
  json_object_put (conflicts);

  /* Until someone chooses, the other replicas keep the first value and nothing is lost. */
  sync_all (f);
  rec = kh_treplica_get (f->r[2], "person", id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000001");
  json_object_put (rec);
  rec = kh_treplica_get (f->r[1], "person", id);
  g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000002");
  json_object_put (rec);

  /* The officer keeps theirs; the choice reaches everyone. */
  g_assert_true (kh_replica_resolve (f->r[1]->store, id, "phone", KH_RESOLVE_MINE, NULL, &error));
  g_assert_no_error (error);
  sync_all (f);
  for (int i = 0; i < 3; i++)
    {
      rec = kh_treplica_get (f->r[i], "person", id);
      g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0905000002");
      json_object_put (rec);
      g_assert_cmpint (kh_replica_count_conflicts (f->r[i]->store), ==, 0);
    }
  assert_converged (f);
}

static void
test_create_both (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *id0 = NULL;
  g_autofree char *id1 = NULL;
  g_autofree char *id2 = NULL;
  g_autofree char *json = NULL;

  SKIP_WITHOUT_SERVER (f);
  id0 = add_person (f, 0, "Lê Văn Một");
  id1 = add_person (f, 1, "Lê Văn Hai");
  json = g_strdup_printf ("{\"head_name\": \"Phạm Văn Ba\", \"org_unit_id\": \"%s\", \"members\": 4}", f->unit_a);
  id2 = kh_treplica_add (f->r[2], "household", json);
  sync_all (f);

  for (int i = 0; i < 3; i++)
    {
      KhQuery q = { 0 };
      json_object *rec;

      g_assert_cmpint (kh_store_count (f->r[i]->store, "person", &q, NULL), ==, 2);
      g_assert_cmpint (kh_store_count (f->r[i]->store, "household", &q, NULL), ==, 1);
      rec = kh_treplica_get (f->r[i], "person", id1);
      g_assert_cmpstr (kh_tstr (rec, "full_name"), ==, "Lê Văn Hai");
      json_object_put (rec);
    }
  assert_converged (f);
}

static void
test_delete_edit (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *p = NULL;
  g_autofree char *q = NULL;
  json_object *rec;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  p = add_person (f, 0, "Đỗ Thị Lan");
  q = add_person (f, 0, "Võ Văn Nam");
  sync_all (f);

  /* r0 deletes p while r1 edits it; r1 edits q while r0 deletes it, r1 first. */
  g_assert_true (kh_store_delete (f->r[0]->store, "person", p, &error));
  kh_treplica_set (f->r[1], "person", p, "{\"phone\": \"0911000111\"}");
  kh_treplica_set (f->r[1], "person", q, "{\"phone\": \"0911000222\"}");
  g_assert_true (kh_store_delete (f->r[0]->store, "person", q, &error));

  kh_treplica_sync (f->r[1]); /* q's edit lands, p's edit lands */
  rep = kh_treplica_sync (f->r[0]); /* both deletes meet newer edits */
  g_assert_cmpuint (rep.conflicts, ==, 2);

  /* The officer's deletes still hold on their laptop, waiting for a choice. */
  rec = kh_treplica_get (f->r[0], "person", p);
  g_assert_true (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  json_object_put (rec);

  /* p: keep the delete (mine); q: take the edit (theirs). */
  g_assert_true (kh_replica_resolve (f->r[0]->store, p, KH_CONFLICT_DELETED, KH_RESOLVE_MINE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (kh_replica_resolve (f->r[0]->store, q, KH_CONFLICT_DELETED, KH_RESOLVE_THEIRS, NULL, &error));
  g_assert_no_error (error);
  sync_all (f);
  for (int i = 0; i < 3; i++)
    {
      rec = kh_treplica_get (f->r[i], "person", p);
      g_assert_true (json_object_get_boolean (json_object_object_get (rec, "deleted")));
      json_object_put (rec);
      rec = kh_treplica_get (f->r[i], "person", q);
      g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
      g_assert_cmpstr (kh_tstr (rec, "phone"), ==, "0911000222");
      json_object_put (rec);
    }

  /* Now the other way: an edit here against a delete there; the edit is kept (restore). */
  kh_treplica_set (f->r[1], "person", q, "{\"address\": \"Thôn 9\"}");
  g_assert_true (kh_store_delete (f->r[2]->store, "person", q, &error));
  kh_treplica_sync (f->r[2]);
  rep = kh_treplica_sync (f->r[1]);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  rec = kh_treplica_get (f->r[1], "person", q);
  g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
  g_assert_cmpstr (kh_tstr (rec, "address"), ==, "Thôn 9");
  json_object_put (rec);
  g_assert_true (kh_replica_resolve (f->r[1]->store, q, KH_CONFLICT_DELETED, KH_RESOLVE_MINE, NULL, &error));
  g_assert_no_error (error);
  sync_all (f);
  for (int i = 0; i < 3; i++)
    {
      rec = kh_treplica_get (f->r[i], "person", q);
      g_assert_false (json_object_get_boolean (json_object_object_get (rec, "deleted")));
      g_assert_cmpstr (kh_tstr (rec, "address"), ==, "Thôn 9");
      json_object_put (rec);
    }
  assert_converged (f);
}


/* A change the server refuses (an officer may not write shared reference data) is kept with
 * the server's reason and does not hold back the changes after it. */
static void
test_rejected (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *set = NULL;
  g_autofree char *p = NULL;
  json_object *outbox;
  KhSyncReport rep;

  SKIP_WITHOUT_SERVER (f);
  set = kh_treplica_add (f->r[0], "criteria_set",
                         "{\"name\": \"Bộ tiêu chí riêng\", \"model\": \"family\", \"method\": \"points\"}");
  p = add_person (f, 0, "Mai Văn Tiến");
  rep = kh_treplica_sync (f->r[0]);
  g_assert_cmpuint (rep.rejected, ==, 1);
  g_assert_cmpuint (rep.pushed, ==, 1);
  g_assert_cmpint (kh_replica_count_rejected (f->r[0]->store), ==, 1);
  outbox = kh_store_list_outbox (f->r[0]->store, &error);
  g_assert_cmpuint (json_object_array_length (outbox), ==, 1);
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (outbox, 0), "state"), ==, "rejected");
  g_assert_cmpstr (kh_tstr (json_object_array_get_idx (outbox, 0), "record_id"), ==, set);
  g_assert_cmpuint (strlen (kh_tstr (json_object_array_get_idx (outbox, 0), "reason")), >, 5);
  json_object_put (outbox);

  /* The refused record stays on the officer's laptop; the person reached everyone. */
  kh_treplica_sync (f->r[1]);
  {
    json_object *rec = kh_treplica_get (f->r[1], "person", p);

    g_assert_cmpstr (kh_tstr (rec, "full_name"), ==, "Mai Văn Tiến");
    json_object_put (rec);
  }
  /* Sent again it is not: later syncs leave it alone. */
  rep = kh_treplica_sync (f->r[0]);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_true (kh_replica_check (f->r[0]->store, NULL));
}

/* Three replicas, many interleaved offline edits of a handful of records. */
static void
test_three_way (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  char *ids[6] = { NULL };
  GRand *rand;
  const char *fields[] = { "phone", "address", "guardian_name", "ethnicity" };

  SKIP_WITHOUT_SERVER (f);
  rand = g_rand_new_with_seed (42);
  for (int k = 0; k < 6; k++)
    {
      g_autofree char *name = g_strdup_printf ("Người %d", k);
      ids[k] = add_person (f, k % 2, name);
    }
  sync_all (f);

  for (int round = 0; round < 6; round++)
    {
      for (int i = 0; i < 3; i++)
        for (int e = 0; e < 3; e++)
          {
            int k = g_rand_int_range (rand, 0, 6);
            const char *field = fields[g_rand_int_range (rand, 0, 4)];
            g_autofree char *json = NULL;

            if (strcmp (field, "phone") == 0)
              json = g_strdup_printf ("{\"phone\": \"09%08d\"}", g_rand_int_range (rand, 0, 99999999));
            else
              json = g_strdup_printf ("{\"%s\": \"r%d-%d-%d\"}", field, i, round, e);
            kh_treplica_set (f->r[i], "person", ids[k], json);
          }
      for (int i = 0; i < 3; i++)
        {
          int who = (round + i) % 3;

          kh_treplica_sync (f->r[who]);
          /* Whoever has a conflict takes the server's value half the time, keeps theirs else. */
          {
            json_object *conflicts = kh_replica_list_conflicts (f->r[who]->store, &error);

            for (size_t c = 0; c < json_object_array_length (conflicts); c++)
              {
                json_object *row = json_object_array_get_idx (conflicts, c);

                g_assert_true (kh_replica_resolve (f->r[who]->store, kh_tstr (row, "id"), kh_tstr (row, "field"),
                                                   g_rand_boolean (rand) ? KH_RESOLVE_MINE : KH_RESOLVE_THEIRS,
                                                   NULL, &error));
                g_assert_no_error (error);
              }
            json_object_put (conflicts);
          }
        }
    }
  /* Settle: sync everyone until nobody has anything to send or resolve. */
  for (int pass = 0; pass < 4; pass++)
    sync_all (f);
  g_rand_free (rand);
  for (int k = 0; k < 6; k++)
    g_free (ids[k]);
  assert_converged (f);
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
        g_autofree char *path = g_strdup_printf ("/sync/replicas/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("disjoint-fields", test_disjoint);
      ADD ("same-field", test_same_field);
      ADD ("create-both", test_create_both);
      ADD ("delete-edit", test_delete_edit);
      ADD ("three-way", test_three_way);
      ADD ("rejected", test_rejected);
#undef ADD
    }
  return g_test_run ();
}
