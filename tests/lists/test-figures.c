/* test-figures.c: the figures of a hand-made province across the 2025 reform, on a local store
 *
 * The records and the figures expected of them are in tests/common/kh-test-figures.c, worked
 * out by hand; tests/sync/test-sync-figures.c holds a replica synced from the server to the
 * same figures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-error.h"
#include "kh-report.h"
#include "kh-test-figures.h"
#include "lists-util.h"

typedef struct
{
  TestStore   t;
  GHashTable *units;   /* code → id */
} Fixture;

static char *
make_cb (gpointer     data,
         const char  *entity,
         json_object *fields)
{
  Fixture *f = data;
  g_autoptr(GError) error = NULL;
  char *id = kh_store_create (f->t.store, entity, fields, &error);

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

static json_object *
compute_cb (gpointer    data,
            const char *code,
            int         year,
            gboolean    by_successor)
{
  Fixture *f = data;
  g_autoptr(GError) error = NULL;
  json_object *r = kh_report_compute (f->t.store, code, year, by_successor, &error);

  g_assert_no_error (error);
  g_assert_nonnull (r);
  return r;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  test_store_init (&f->t);
  f->units = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  for (guint i = 0; i < kh_test_figures_n_units; i++)
    {
      const KhTestFiguresUnit *u = &kh_test_figures_units[i];
      json_object *o = test_obj ("code", u->code, "name", u->name, "kind", u->kind, NULL);

      if (u->parent != NULL)
        json_object_object_add (o, "parent_id", json_object_new_string (unit_cb (f, u->parent)));
      if (u->valid_from != NULL)
        json_object_object_add (o, "valid_from", json_object_new_string (u->valid_from));
      if (u->valid_to != NULL)
        json_object_object_add (o, "valid_to", json_object_new_string (u->valid_to));
      g_hash_table_insert (f->units, (gpointer) u->code, make_cb (f, "org_unit", o));
    }
  for (guint i = 0; i < kh_test_figures_n_units; i++)
    {
      const KhTestFiguresUnit *u = &kh_test_figures_units[i];

      if (u->successor != NULL)
        g_free (make_cb (f, "unit_succession",
                         test_obj ("predecessor_id", unit_cb (f, u->code), "successor_id", unit_cb (f, u->successor),
                                   "kind", "merge", "effective_date", "2025-07-01", NULL)));
    }
  kh_test_figures_build (make_cb, unit_cb, f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_hash_table_unref (f->units);
  test_store_clear (&f->t);
}

static void
test_figures_province (Fixture       *f,
                       gconstpointer  data)
{
  kh_test_figures_check_province (compute_cb, f);
}

/* The years side by side are each year's report, and the text and the workbook say why a
 * share is missing. */
static void
test_figures_years (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *r = kh_report_compute_years (f->t.store, "P", 2023, 2025, TRUE, &error);
  json_object *years;
  g_autofree char *text = NULL;
  g_autofree char *xlsx = g_build_filename (f->t.dir, "years.xlsx", NULL);

  g_assert_no_error (error);
  years = json_object_object_get (r, "years");
  g_assert_cmpuint (json_object_array_length (years), ==, 3);
  for (int y = 0; y < 3; y++)
    g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (years, y), "year")), ==, 2023 + y);
  text = kh_report_years_to_text (r, KH_FORMAT_VIETNAMESE);
  g_assert_nonnull (strstr (text, "2023"));
  g_assert_nonnull (strstr (text, "2025"));
  /* 2023's share of learning citizens, 4 of 36. */
  g_assert_nonnull (strstr (text, "11,1\u00a0%"));
  g_assert_nonnull (strstr (text, "Xã Năm"));
  g_assert_nonnull (strstr (text, "Xã Sáu"));
  g_assert_nonnull (strstr (text, "Xã Tân Ba"));
  g_assert_true (kh_report_years_export_xlsx (r, xlsx, &error));
  g_assert_no_error (error);
  json_object_put (r);

  g_assert_null (kh_report_compute_years (f->t.store, "P", 2025, 2023, TRUE, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
}

/* The one-year text names the units without a denominator and the recognitions. */
static void
test_figures_text (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *r = kh_report_compute (f->t.store, "P", 2024, TRUE, &error);
  g_autofree char *text = kh_report_to_text (r, KH_FORMAT_VIETNAMESE);
  g_autofree char *xlsx = g_build_filename (f->t.dir, "year.xlsx", NULL);

  g_assert_nonnull (strstr (text, "Xã Năm"));
  g_assert_nonnull (strstr (text, "Xã Sáu"));
  g_assert_true (kh_report_export_xlsx (r, xlsx, &error));
  g_assert_no_error (error);
  json_object_put (r);
  r = kh_report_compute (f->t.store, "X5", 2023, FALSE, &error);
  g_free (text);
  text = kh_report_to_text (r, KH_FORMAT_VIETNAMESE);
  /* Never "200,0 %". */
  g_assert_null (strstr (text, "200,0"));
  json_object_put (r);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/lists/figures/province", Fixture, NULL, fixture_setup, test_figures_province, fixture_teardown);
  g_test_add ("/lists/figures/years", Fixture, NULL, fixture_setup, test_figures_years, fixture_teardown);
  g_test_add ("/lists/figures/text", Fixture, NULL, fixture_setup, test_figures_text, fixture_teardown);
  return g_test_run ();
}
