/* test-lists-ui.c: the Overview's figures and the import preview, under Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "kh-demo.h"
#include "kh-print.h"
#include "kh-figures-view.h"
#include "kh-import-dialog.h"
#include "kh-print-list.h"
#include "kh-report.h"
#include "kh-test-dir.h"
#include "kh-ui-test-private.h"
#include "kh-screenshot.h"
#include "kh-window.h"

typedef struct
{
  char     *dir;
  char     *path;
  KhStore  *store;
  KhWindow *window;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = kh_test_tmpdir ();
  f->path = g_build_filename (f->dir, "kh.db", NULL);
  f->store = kh_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (f->store, 3000, 11, NULL, &error));
  f->window = kh_window_new (NULL, f->store);
  gtk_window_present (GTK_WINDOW (f->window));
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_object_ref (f->window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  g_assert_finalize_object (f->window);
  g_assert_finalize_object (f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->path);
}

/* Runs the main loop until @done says so, for at most ten seconds. */
static gboolean
wait_until (gboolean (*done) (gpointer),
            gpointer   data)
{
  gint64 end = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (!done (data) && g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, FALSE), g_usleep (1000);
  return done (data);
}

static GtkWidget *
find_child (GtkWidget *widget,
            GType      type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (widget, type))
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_child (c, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static GtkWidget *
find_button (GtkWidget  *widget,
             const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *c = gtk_widget_get_first_child (widget); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_button (c, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
has_report (gpointer data)
{
  return kh_figures_view_get_report (data) != NULL;
}

static void
test_overview_figures (Fixture       *f,
                       gconstpointer  data)
{
  GtkWidget *page, *view;
  json_object *shown, *direct, *a, *b;
  g_autofree char *unit = kh_report_default_unit (f->store);
  g_autoptr(GError) error = NULL;
  g_autofree char *png = NULL;

  kh_window_show_page (f->window, "overview");
  page = kh_window_get_page (f->window, "overview");
  view = find_child (page, KH_TYPE_FIGURES_VIEW);
  g_assert_nonnull (view);
  g_assert_true (wait_until (has_report, view));

  /* The page shows the figures of the replica's province for the latest year, through the
   * succession links: the same as computed directly. */
  shown = kh_figures_view_get_report (KH_FIGURES_VIEW (view));
  direct = kh_report_compute (f->store, unit, kh_report_latest_year (f->store), TRUE, &error);
  g_assert_no_error (error);
  a = json_object_object_get (shown, "awards_total");
  b = json_object_object_get (direct, "awards_total");
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (a, "amount")), ==,
                   json_object_get_int64 (json_object_object_get (b, "amount")));
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (json_object_array_get_idx (json_object_object_get (shown, "models"), 1), "registered")), ==,
                   json_object_get_int64 (json_object_object_get (json_object_array_get_idx (json_object_object_get (direct, "models"), 1), "registered")));
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (a, "count")), >, 0);
  json_object_put (direct);

  /* Five years side by side, ending with the year shown; the demo's eligible population gives
   * the latest year's shares. */
  {
    json_object *years = json_object_object_get (kh_figures_view_get_years (KH_FIGURES_VIEW (view)), "years");
    json_object *citizen = json_object_array_get_idx (json_object_object_get (shown, "models"), 0);

    g_assert_cmpuint (json_object_array_length (years), ==, 5);
    g_assert_cmpint (json_object_get_int (json_object_object_get (json_object_array_get_idx (years, 4), "year")), ==,
                     json_object_get_int (json_object_object_get (shown, "year")));
    g_assert_nonnull (json_object_object_get (citizen, "achieved_share"));
    g_assert_cmpfloat (json_object_get_double (json_object_object_get (citizen, "achieved_share")), <=, 100.0);
  }

  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  png = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR") ? g_getenv ("KH_SCREENSHOT_DIR") : f->dir,
                          "overview-figures.png", NULL);
  g_mkdir_with_parents (g_getenv ("KH_SCREENSHOT_DIR") ? g_getenv ("KH_SCREENSHOT_DIR") : f->dir, 0755);
  g_assert_true (kh_widget_save_png (GTK_WIDGET (f->window), png, &error));
  g_assert_no_error (error);

  /* The eligible population is entered in the window: the button opens its list. */
  {
    GtkWidget *button = find_button (view, _("_Eligible Population…"));
    GtkWidget *models;

    g_assert_nonnull (button);
    g_signal_emit_by_name (button, "clicked");
    kh_widget_wait_for_paint (GTK_WIDGET (f->window), 1);
    g_assert_cmpstr (kh_window_get_page_name (f->window), ==, "models");
    models = kh_window_get_page (f->window, "models");
    g_assert_cmpstr (kh_record_list_get_entity (kh_list_page_get_list (KH_LIST_PAGE (models)))->name, ==, "population");
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (KH_LIST_PAGE (models)))), >, 0);
  }
  g_clear_pointer (&png, g_free);
  png = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR") ? g_getenv ("KH_SCREENSHOT_DIR") : f->dir,
                          "eligible-population.png", NULL);
  g_mkdir_with_parents (g_getenv ("KH_SCREENSHOT_DIR") ? g_getenv ("KH_SCREENSHOT_DIR") : f->dir, 0755);
  g_assert_true (kh_widget_save_png (GTK_WIDGET (f->window), png, &error));
  g_assert_no_error (error);
}

/* Each model's bars are drawn to the row's own scale: a denominator of a quarter of a million
 * households must not make the other models' bars vanish. */
static void
test_chart_scale (void)
{
  json_object *citizens = json_object_new_object ();
  json_object *families = json_object_new_object ();
  double reg, ach, elig;

  json_object_object_add (citizens, "registered", json_object_new_int64 (500));
  json_object_object_add (citizens, "achieved", json_object_new_int64 (400));
  json_object_object_add (families, "registered", json_object_new_int64 (226259));
  json_object_object_add (families, "achieved", json_object_new_int64 (200000));
  json_object_object_add (families, "eligible", json_object_new_int64 (254657));

  kh_figures_view_bar_lengths (citizens, &reg, &ach, &elig);
  g_assert_cmpfloat (reg, ==, 1.0);
  g_assert_cmpfloat_with_epsilon (ach, 0.8, 1e-9);
  g_assert_cmpfloat (elig, ==, 0.0);
  kh_figures_view_bar_lengths (families, &reg, &ach, &elig);
  g_assert_cmpfloat (elig, ==, 1.0);
  g_assert_cmpfloat_with_epsilon (reg, 226259.0 / 254657.0, 1e-9);
  json_object_put (citizens);
  json_object_put (families);
}

static gboolean
not_busy (gpointer data)
{
  return !kh_import_dialog_is_busy (data);
}

static gboolean
window_gone (gpointer data)
{
  return *(gpointer *) data == NULL;
}

static void
test_import_preview (Fixture       *f,
                     gconstpointer  data)
{
  const char bad[] = "Họ và tên,Ngày sinh,Loại,Số tiền\n"
                     "Nguyễn Văn Một,03/06/2010,Vượt khó,1.000.000\n"
                     "Trần Thị Hai,31/02/2011,Khuyến tài,2.000.000\n";
  const char good[] = "Họ và tên,Ngày sinh,Loại,Số tiền\n"
                      "Nguyễn Văn Một,03/06/2010,Vượt khó,1.000.000\n"
                      "Trần Thị Hai,28/02/2011,Khuyến tài,2.000.000\n";
  g_autofree char *bad_path = g_build_filename (f->dir, "bad.csv", NULL);
  g_autofree char *good_path = g_build_filename (f->dir, "good.csv", NULL);
  KhImportDialog *dialog;
  const KhImportReport *report;
  gint64 before = kh_store_count (f->store, "award_entry", NULL, NULL);

  g_assert_true (g_file_set_contents (bad_path, bad, -1, NULL));
  g_assert_true (g_file_set_contents (good_path, good, -1, NULL));

  dialog = kh_import_dialog_new (GTK_WINDOW (f->window), f->store, "award_entry", NULL);
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);
  gtk_window_present (GTK_WINDOW (dialog));

  /* A bad date: the preview names the row and column, and Import stays off. */
  kh_import_dialog_set_file (dialog, bad_path);
  g_assert_true (wait_until (not_busy, dialog));
  report = kh_import_dialog_get_report (dialog);
  g_assert_nonnull (report);
  g_assert_cmpuint (report->n_errors, ==, 1);
  g_assert_cmpuint (((KhImportProblem *) report->errors->pdata[0])->row, ==, 3);
  g_assert_false (kh_import_dialog_can_import (dialog));
  kh_widget_wait_for_paint (GTK_WIDGET (dialog), 2);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *png = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "import-preview.png", NULL);

      kh_widget_save_png (GTK_WIDGET (dialog), png, NULL);
    }
  kh_import_dialog_import (dialog);
  g_assert_cmpint (kh_store_count (f->store, "award_entry", NULL, NULL), ==, before);

  /* The corrected file is clean; importing it writes both rows and closes the dialog. */
  kh_import_dialog_set_file (dialog, good_path);
  g_assert_true (wait_until (not_busy, dialog));
  g_assert_true (kh_import_dialog_can_import (dialog));
  g_assert_cmpuint (kh_import_dialog_get_report (dialog)->rows_valid, ==, 2);
  kh_import_dialog_import (dialog);
  g_assert_true (wait_until (window_gone, &dialog));
  g_assert_cmpint (kh_store_count (f->store, "award_entry", NULL, NULL), ==, before + 2);
}

static void
test_print_operation (Fixture       *f,
                      gconstpointer  data)
{
  KhQuery query = { .limit = 1 };
  json_object *lists = kh_store_list (f->store, "award_list", &query, NULL);
  const char *list_id;
  g_autofree char *pdf = g_build_filename (f->dir, "printed.pdf", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhAwardListDoc) doc = NULL;
  int pages = 0;

  g_assert_cmpuint (json_object_array_length (lists), ==, 1);
  list_id = json_object_get_string (json_object_object_get (json_object_array_get_idx (lists, 0), "id"));

  /* GtkPrintOperation draws the same pages as the PDF export, on A4 in points. */
  g_assert_true (kh_print_award_list (GTK_WINDOW (f->window), f->store, list_id, pdf, &pages, &error));
  g_assert_no_error (error);
  doc = kh_award_list_doc_new (f->store, list_id, &error);
  g_assert_cmpint (pages, ==, kh_award_list_doc_paginate (doc, KH_PAGE_A4_WIDTH, KH_PAGE_A4_HEIGHT));
  g_assert_true (g_file_get_contents (pdf, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "%PDF-"));
  json_object_put (lists);
}

int
main (int   argc,
      char *argv[])
{
  const char *localedir = g_getenv ("KHUYENHOC_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add ("/lists/ui/overview-figures", Fixture, NULL, fixture_set_up, test_overview_figures, fixture_tear_down);
  g_test_add_func ("/lists/ui/chart-scale", test_chart_scale);
  g_test_add ("/lists/ui/import-preview", Fixture, NULL, fixture_set_up, test_import_preview, fixture_tear_down);
  g_test_add ("/lists/ui/print-operation", Fixture, NULL, fixture_set_up, test_print_operation, fixture_tear_down);
  return g_test_run ();
}
