/* test-sync-figures.c: the figures of a replica synced from the server, on SQLite and on
 * PostgreSQL
 *
 * The hand-made province of tests/common/kh-test-figures.c goes to the real server: its units
 * and their succession links by `org import`, its records pushed by one account for each
 * province's tree (former A, former B, today's P). A replica synced as the new province's
 * admin, and one synced as the officer of a new commune, must then give the figures worked
 * out by hand, as a local store with the same records does (tests/lists/test-figures.c).
 *
 * The figures that roll up through succession need the former units in the replica: an area
 * that follows succession (issue 20, point 1) brings them. Where the server does not yet send
 * them, the test checks what the replica can hold (today's tree) and says so as incomplete
 * ("TODO" in TAP), rather than passing.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "kh-report.h"
#include "kh-sync-test-util.h"
#include "kh-test-figures.h"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *seed[3];   /* seed_a (former A), seed_b (former B), seed_p (today's P) */
  GHashTable   *units;     /* code → id */
  GHashTable   *tree;      /* unit id → the seeding replica that holds it */
} Fixture;

static const struct { const char *user, *role, *scope; } accounts[] = {
  { "seed_a", "admin", "OA" }, { "seed_b", "admin", "OB" }, { "seed_p", "admin", "P" },
  { "province", "admin", "P" }, { "officer_n1", "officer", "N1" },
};

/* The id of the unit with @code in the replica, or NULL when it does not hold it. */
static char *
unit_in (KhTReplica *r,
         const char *code)
{
  KhQuery query = { 0 };
  json_object *rows;
  char *id = NULL;

  query.where = json_object_new_object ();
  json_object_object_add (query.where, "code", json_object_new_string (code));
  rows = kh_store_list (r->store, "org_unit", &query, NULL);
  if (rows != NULL && json_object_array_length (rows) > 0)
    id = g_strdup (kh_tstr (json_object_array_get_idx (rows, 0), "id"));
  json_object_put (rows);
  json_object_put (query.where);
  return id;
}

static char *
make_cb (gpointer     data,
         const char  *entity,
         json_object *fields)
{
  Fixture *f = data;
  const char *unit = json_object_get_string (json_object_object_get (fields, "org_unit_id"));
  KhTReplica *r = unit != NULL ? g_hash_table_lookup (f->tree, unit) : NULL;
  g_autoptr(GError) error = NULL;
  char *id;

  g_assert_nonnull (r);
  id = kh_store_create (r->store, entity, fields, &error);
  g_assert_no_error (error);
  json_object_put (fields);
  return id;
}

static const char *
unit_cb (gpointer    data,
         const char *code)
{
  Fixture *f = data;
  const char *id = g_hash_table_lookup (f->units, code);

  g_assert_nonnull (id);
  return id;
}

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  const char * const threads[] = { "--threads", "4", NULL };
  g_autofree char *csv = NULL;
  g_autofree char *csv_path = NULL;

  f->server = kh_test_server_new (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  csv = kh_test_figures_units_csv ();
  csv_path = g_build_filename (f->dir, "units.csv", NULL);
  g_assert_true (g_file_set_contents (csv_path, csv, -1, NULL));
  kh_test_server_cli (f->server, NULL, "org", "import", csv_path, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (accounts); i++)
    {
      g_autofree char *pw = g_strdup_printf ("password-%s\n", accounts[i].user);

      kh_test_server_cli (f->server, pw, "user", "add", accounts[i].user, "--role", accounts[i].role,
                          "--scope", accounts[i].scope, NULL);
      /* The seeding accounts enter past years' lists as they were: approved and paid. */
      if (g_str_has_prefix (accounts[i].user, "seed_"))
        kh_test_server_cli (f->server, NULL, "user", "can", accounts[i].user, "submit,approve,pay", NULL);
    }
  kh_test_server_start (f->server, threads);

  f->units = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  f->tree = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint s = 0; s < G_N_ELEMENTS (f->seed); s++)
    {
      f->seed[s] = kh_treplica_new (f->server, f->dir, accounts[s].user, f->server->base, accounts[s].user);
      kh_treplica_sync (f->seed[s]);
    }
  /* Each unit to the account of its own tree: the former provinces' accounts see their own
   * units, today's province's its own. */
  for (guint i = 0; i < kh_test_figures_n_units; i++)
    {
      const KhTestFiguresUnit *u = &kh_test_figures_units[i];
      const KhTestFiguresUnit *top = u;

      while (top->parent != NULL)
        for (guint k = 0; k < kh_test_figures_n_units; k++)
          if (strcmp (kh_test_figures_units[k].code, top->parent) == 0)
            {
              top = &kh_test_figures_units[k];
              break;
            }
      for (guint s = 0; s < G_N_ELEMENTS (f->seed); s++)
        if (strcmp (accounts[s].scope, top->code) == 0)
          {
            char *id = unit_in (f->seed[s], u->code);

            g_assert_nonnull (id);
            g_hash_table_insert (f->units, (gpointer) u->code, id);
            g_hash_table_insert (f->tree, g_strdup (id), f->seed[s]);
          }
    }
  kh_test_figures_build (make_cb, unit_cb, f);
  for (guint s = 0; s < G_N_ELEMENTS (f->seed); s++)
    {
      KhSyncReport report = kh_treplica_sync (f->seed[s]);

      if (report.rejected != 0)
        {
          json_object *outbox = kh_store_list_outbox (f->seed[s]->store, NULL);

          g_test_message ("refused: %s", json_object_to_json_string_ext (outbox, JSON_C_TO_STRING_PLAIN));
          json_object_put (outbox);
        }
      g_assert_cmpint (report.rejected, ==, 0);
      g_assert_cmpint (report.pending, ==, 0);
    }
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  for (guint s = 0; s < G_N_ELEMENTS (f->seed); s++)
    kh_treplica_free (f->seed[s]);
  g_clear_pointer (&f->units, g_hash_table_unref);
  g_clear_pointer (&f->tree, g_hash_table_unref);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

static json_object *
compute_cb (gpointer    data,
            const char *code,
            int         year,
            gboolean    by_successor)
{
  KhTReplica *r = data;
  g_autoptr(GError) error = NULL;
  json_object *report = kh_report_compute (r->store, code, year, by_successor, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

/* Whether the replica holds the former units its area succeeded. */
static gboolean
has_former_units (KhTReplica *r,
                  const char *code)
{
  g_autofree char *id = unit_in (r, code);

  return id != NULL;
}

static void
test_province_admin (Fixture       *f,
                     gconstpointer  data)
{
  KhTReplica *r;

  SKIP_WITHOUT_SERVER (f);
  r = kh_treplica_new (f->server, f->dir, "province", f->server->base, "province");
  kh_treplica_sync (r);
  kh_test_figures_check_today (compute_cb, r);
  if (!has_former_units (r, "X1") || !has_former_units (r, "DA1") || !has_former_units (r, "OB"))
    g_test_incomplete ("the province admin's area does not follow succession yet: "
                       "the former units' figures are not in the replica (issue 20, point 1)");
  else
    kh_test_figures_check_province (compute_cb, r);
  kh_treplica_free (r);
}

static void
test_commune_officer (Fixture       *f,
                      gconstpointer  data)
{
  KhTReplica *r;

  SKIP_WITHOUT_SERVER (f);
  r = kh_treplica_new (f->server, f->dir, "officer_n1", f->server->base, "officer_n1");
  kh_treplica_sync (r);
  if (!has_former_units (r, "X1") || !has_former_units (r, "X2"))
    g_test_incomplete ("the new commune officer's area does not follow succession yet: "
                       "Xã Một and Xã Hai are not in the replica (issue 20, point 1)");
  else
    kh_test_figures_check_commune (compute_cb, r);
  kh_treplica_free (r);
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
      g_autofree char *admin = g_strdup_printf ("/sync/figures/%s/province-admin", backends[b]);
      g_autofree char *officer = g_strdup_printf ("/sync/figures/%s/commune-officer", backends[b]);

      g_test_add (admin, Fixture, backends[b], set_up, test_province_admin, tear_down);
      g_test_add (officer, Fixture, backends[b], set_up, test_commune_officer, tear_down);
    }
  return g_test_run ();
}
