/* test-sync-ledger.c: two replicas that each pay within a fund's balance and together overdraw
 * it, against the real server, on SQLite and on PostgreSQL
 *
 * Two replicas of the same officer hold the fund offline; each pays an amount the fund holds,
 * both together more. The first push is applied; the server refuses the second with the reason
 * `overdrawn`, and the officer sees it refused with the fund's balance in its words: nothing is
 * accepted beyond the money nor dropped without a word. A payment from an earmark is judged
 * against that earmark's money alone. On PostgreSQL the two replicas push to two server
 * processes on the one database, as behind a proxy: the check is the database's, not a
 * process's memory.
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
  KhTestServer *second;  /* PostgreSQL: another serve process on the same database */
  char         *dir;
  KhTReplica   *admin;
  KhTReplica   *o1;
  KhTReplica   *o2;
  char         *unit_a;
  char         *fund;
} Fixture;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  g_autofree char *json = NULL;

  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->admin = kh_treplica_new (f->server, f->dir, "admin", f->server->base, "admin");
  kh_treplica_sync (f->admin);
  f->unit_a = g_strdup (kh_treplica_unit (f->admin, "A"));
  json = g_strdup_printf ("{\"name\": \"Quỹ khuyến học xã A\", \"level\": \"commune\", \"org_unit_id\": \"%s\","
                          " \"opening_balance\": 1000000}", f->unit_a);
  f->fund = kh_treplica_add (f->admin, "fund", json);
  g_free (json);
  json = g_strdup_printf ("{\"fund_id\": \"%s\", \"org_unit_id\": \"%s\", \"donor_name\": \"Công ty Hòa Phát\","
                          " \"donated_on\": \"2025-08-01\", \"form\": \"transfer\", \"amount\": 2000000}",
                          f->fund, f->unit_a);
  g_free (kh_treplica_add (f->admin, "donation", json));
  g_free (json);
  json = g_strdup_printf ("{\"fund_id\": \"%s\", \"org_unit_id\": \"%s\", \"donor_name\": \"Bà Lê Thị Hoa\","
                          " \"donated_on\": \"2025-08-01\", \"form\": \"cash\", \"amount\": 800000,"
                          " \"earmark\": \"Người học lớn tuổi\"}", f->fund, f->unit_a);
  g_free (kh_treplica_add (f->admin, "donation", json));
  kh_treplica_sync (f->admin);

  if (strcmp (data, "postgresql") == 0)
    {
      f->second = g_new0 (KhTestServer, 1);
      f->second->backend = g_strdup ("postgresql");
      f->second->dir = kh_test_tmpdir ();
      f->second->url = g_strdup (f->server->url);
      f->second->pid = -1;
      kh_test_server_start (f->second, NULL);
    }
  f->o1 = kh_treplica_new (f->server, f->dir, "o1", f->server->base, "officer_a");
  f->o2 = kh_treplica_new (f->server, f->dir, "o2", f->second != NULL ? f->second->base : f->server->base,
                           "officer_a");
  kh_treplica_sync (f->o1);
  kh_treplica_sync (f->o2);
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_treplica_free (f->admin);
  kh_treplica_free (f->o1);
  kh_treplica_free (f->o2);
  kh_test_server_free (f->second);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->unit_a);
  g_free (f->fund);
}

static char *
pay (Fixture    *f,
     KhTReplica *r,
     gint64      amount,
     const char *earmark)
{
  g_autofree char *mark = earmark != NULL ? g_strdup_printf (", \"earmark\": \"%s\"", earmark) : g_strdup ("");
  g_autofree char *json = g_strdup_printf ("{\"fund_id\": \"%s\", \"org_unit_id\": \"%s\", \"amount\": %" G_GINT64_FORMAT
                                           ", \"paid_on\": \"2025-09-01\", \"purpose\": \"Học bổng\"%s}",
                                           f->fund, f->unit_a, amount, mark);

  return kh_treplica_add (r, "disbursement", json);
}

/* The outbox row of @id in @r: its state and reason. */
static json_object *
outbox_row (KhTReplica *r,
            const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *outbox = kh_store_list_outbox (r->store, &error);
  json_object *found = NULL;

  g_assert_no_error (error);
  for (size_t i = 0; i < json_object_array_length (outbox); i++)
    if (g_strcmp0 (kh_tstr (json_object_array_get_idx (outbox, i), "record_id"), id) == 0)
      found = json_object_get (json_object_array_get_idx (outbox, i));
  json_object_put (outbox);
  return found;
}

static void
test_overdrawn (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *earmarked = NULL;
  json_object *row;
  json_object *on_server;

  if (f->server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  /* Each within the 3,000,000 not earmarked; together 3,500,000. */
  first = pay (f, f->o1, 2000000, NULL);
  second = pay (f, f->o2, 1500000, NULL);
  earmarked = pay (f, f->o2, 800000, "người học lớn tuổi");

  kh_treplica_sync (f->o1);
  g_assert_null (outbox_row (f->o1, first));
  kh_treplica_sync (f->o2);

  row = outbox_row (f->o2, second);
  g_assert_nonnull (row);
  g_assert_cmpstr (kh_tstr (row, "state"), ==, "rejected");
  g_test_message ("refused: %s", kh_tstr (row, "reason"));
  /* The fund's balance for the payment: 3,000,000 less the other replica's 2,000,000. */
  g_assert_nonnull (strstr (kh_tstr (row, "reason"), "1.000.000"));
  g_assert_nonnull (strstr (kh_tstr (row, "reason"), "Quỹ khuyến học xã A"));
  g_assert_cmpint (kh_replica_count_rejected (f->o2->store), ==, 1);
  json_object_put (row);
  /* The earmarked money was its own: that payment went through. */
  g_assert_null (outbox_row (f->o2, earmarked));

  kh_treplica_sync (f->admin);
  on_server = kh_treplica_get (f->admin, "disbursement", first);
  g_assert_nonnull (on_server);
  json_object_put (on_server);
  on_server = kh_treplica_get (f->admin, "disbursement", earmarked);
  g_assert_nonnull (on_server);
  json_object_put (on_server);
  {
    g_autoptr(GError) error = NULL;
    json_object *none = kh_store_get (f->admin->store, "disbursement", second, &error);

    g_assert_null (none);
    g_assert_nonnull (error);
  }

  /* The refusal stays until the officer acts; a payment within what is left goes through. */
  kh_treplica_sync (f->o2);
  row = outbox_row (f->o2, second);
  g_assert_cmpstr (kh_tstr (row, "state"), ==, "rejected");
  json_object_put (row);
  {
    g_autofree char *third = pay (f, f->o1, 1000000, NULL);

    kh_treplica_sync (f->o1);
    g_assert_null (outbox_row (f->o1, third));
  }
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
      g_autofree char *path = g_strdup_printf ("/sync/ledger/%s/overdrawn", backends[b]);

      g_test_add (path, Fixture, backends[b], set_up, test_overdrawn, tear_down);
    }
  return g_test_run ();
}
