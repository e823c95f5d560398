/* bench-area.c: the change feed for a province admin, with and without successions
 *
 *   bench-area --backend=sqlite|postgresql [--records N] [--rounds K]
 *
 * An account's area follows the units' succession (AREA in kh-server-core-private.h), computed
 * by the database once per feed page. Two servers hold the same N people in the same number of
 * communes: in the first every commune is under the province; in the second half of them are
 * former communes under two former provinces and their districts, brought into the new
 * province's area by links (province → province, district → commune, commune → commune).
 * The province admin's full pull (pages of 5000, gzip) is timed K times on each, back to back,
 * and the best rates and their ratio printed; so is the admin's push of the N people, in
 * batches of 500 spread over all the communes, where every unit a batch names is checked to be
 * in the area (walking up from it, kh-server-scope.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "kh-test-server.h"
#include "kh-uuid.h"

#define COMMUNES 40   /* in each half */
#define DISTRICTS 8

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* The unit list: N, NP ⊃ C0…C39, and either NP ⊃ W0…W39 too (@linked FALSE) or FP0, FP1
 * (former provinces) ⊃ D0…D7 (former districts) ⊃ W0…W39 (former communes), each linked to
 * its successor. */
static char *
unit_list (gboolean linked)
{
  GString *csv = g_string_new ("code,name,kind,parent_code,valid_from,valid_to,population,address,"
                               "successor_codes,change,change_date,legal_basis\n");

  g_string_append (csv, "N,Toàn quốc,nation,,,,,,,,,\n");
  g_string_append (csv, "NP,Tỉnh Mới,province,N,2025-07-01,,,,,,,\n");
  for (int i = 0; i < COMMUNES; i++)
    g_string_append_printf (csv, "C%d,Xã Mới %d,commune,NP,2025-07-01,,,,,,,\n", i, i);
  if (!linked)
    {
      for (int i = 0; i < COMMUNES; i++)
        g_string_append_printf (csv, "W%d,Xã Khác %d,commune,NP,,,,,,,,\n", i, i);
      return g_string_free (csv, FALSE);
    }
  for (int p = 0; p < 2; p++)
    g_string_append_printf (csv, "FP%d,Tỉnh Cũ %d,province,N,,2025-06-30,,,NP,merge,01/07/2025,NQ 202/2025/QH15\n",
                            p, p);
  for (int d = 0; d < DISTRICTS; d++)
    g_string_append_printf (csv, "D%d,Huyện Cũ %d,district,FP%d,,2025-06-30,,,C%d,merge,01/07/2025,NQ 1667\n",
                            d, d, d % 2, d);
  for (int i = 0; i < COMMUNES; i++)
    g_string_append_printf (csv, "W%d,Xã Cũ %d,commune,D%d,,2025-06-30,,,C%d,merge,01/07/2025,NQ 1667\n",
                            i, i, i % DISTRICTS, i);
  return g_string_free (csv, FALSE);
}

static char *
unit_id (const char   *code,
         GHashTable   *all)
{
  GHashTableIter iter;
  KhRecord *r;

  g_hash_table_iter_init (&iter, all);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &r))
    if (strcmp (r->entity, "org_unit") == 0)
      {
        json_object *c = json_object_object_get (r->fields, "code");

        if (c != NULL && strcmp (json_object_get_string (c), code) == 0)
          return g_strdup (r->id);
      }
  g_error ("no unit %s", code);
  return NULL;
}

/* Best records/s of @rounds full pulls by the province admin, on a server made with @linked;
 * @push_rate: the creates/s of the admin's push that filled it. */
static double
feed_rate (const char *backend,
           gboolean    linked,
           int         records,
           int         rounds,
           guint      *pulled,
           double     *push_rate)
{
  KhTestServer *s = kh_test_server_new (backend);
  g_autofree char *csv = g_build_filename (s->dir, "units.csv", NULL);
  g_autofree char *list = unit_list (linked);
  const char *threads[] = { "--threads", "2", NULL };
  g_autoptr(GHashTable) all = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify) kh_record_free);
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *token = NULL;
  double best = 0;
  double t_push;

  g_assert_true (g_file_set_contents (csv, list, -1, NULL));
  kh_test_server_cli (s, NULL, "org", "import", csv, NULL);
  kh_test_server_cli (s, "password-admin_np\n", "user", "add", "admin_np", "--role", "admin", "--scope", "NP", NULL);
  kh_test_server_start (s, threads);
  token = kh_test_login (s, "admin_np", NULL);
  g_free (kh_test_pull_all (s, token, NULL, 5000, all, NULL, NULL));
  for (int i = 0; i < COMMUNES; i++)
    {
      g_autofree char *c = g_strdup_printf ("C%d", i);
      g_autofree char *w = g_strdup_printf ("W%d", i);

      g_ptr_array_add (units, unit_id (c, all));
      g_ptr_array_add (units, unit_id (w, all));
    }

  t_push = now_s ();
  for (int b = 0; b * 500 < records; b++)
    {
      json_object *batch = json_object_new_array ();
      g_autoptr(KhPushResponse) r = NULL;

      for (int k = 0; k < 500 && b * 500 + k < records; k++)
        {
          g_autofree char *id = kh_uuid_v7_new ();
          g_autofree char *name = g_strdup_printf ("Nguyễn Văn Thử %d", b * 500 + k);

          json_object_array_add (batch, kh_test_mutation ("create", "person", id, 0,
                                                          kh_test_person (name, units->pdata[(b * 500 + k) % units->len])));
        }
      r = kh_test_push (s, token, batch);
      for (guint i = 0; i < r->results->len; i++)
        g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
    }
  *push_rate = records / (now_s () - t_push);

  for (int k = 0; k < rounds; k++)
    {
      g_autoptr(GHashTable) got = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                         (GDestroyNotify) kh_record_free);
      double t0 = now_s ();
      g_autofree char *cursor = kh_test_pull_all (s, token, NULL, 5000, got, NULL, NULL);
      double t = now_s () - t0;

      *pulled = g_hash_table_size (got);
      best = MAX (best, *pulled / t);
    }
  kh_test_server_free (s);
  return best;
}

int
main (int argc, char **argv)
{
  const char *backend = "sqlite";
  int records = 100000;
  int rounds = 3;
  guint flat_n = 0, linked_n = 0;
  double flat, linked;
  double flat_push, flat_push2, linked_push;
  KhTestServer *probe;

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--backend="))
      backend = argv[i] + 10;
    else if (g_str_has_prefix (argv[i], "--records="))
      records = atoi (argv[i] + 10);
    else if (g_str_has_prefix (argv[i], "--rounds="))
      rounds = MAX (1, atoi (argv[i] + 9));

  if ((probe = kh_test_server_new (backend)) == NULL)
    {
      g_print ("%s: KH_TEST_PG_URL is not set; skipped\n", backend);
      return 77;
    }
  kh_test_server_free (probe);

  /* Back to back, the one without successions first and again last, so a machine that gets
   * busier or quieter during the run shows as a difference between the two. */
  flat = feed_rate (backend, FALSE, records, rounds, &flat_n, &flat_push);
  linked = feed_rate (backend, TRUE, records, rounds, &linked_n, &linked_push);
  flat = MAX (flat, feed_rate (backend, FALSE, records, rounds, &flat_n, &flat_push2));
  flat_push = MAX (flat_push, flat_push2);
  g_print ("%s: province admin's feed without successions: %u records, %.0f records/s\n", backend, flat_n, flat);
  g_print ("%s: province admin's feed with successions (%d former communes, %d districts, 2 provinces): "
           "%u records, %.0f records/s\n", backend, COMMUNES, DISTRICTS, linked_n, linked);
  g_print ("%s: ratio with/without successions: %.3f\n", backend, linked / flat);
  g_print ("%s: province admin's push of %d people, batches of 500: without successions %.0f/s, "
           "with %.0f/s, ratio %.3f\n", backend, records, flat_push, linked_push, linked_push / flat_push);
  /* Both areas hold every person (and their units and, with successions, the links). */
  g_assert_cmpuint (flat_n, >=, (guint) records);
  g_assert_cmpuint (linked_n, >, flat_n);
  return 0;
}
