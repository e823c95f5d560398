/* test-window.c: the main window under Xvfb, driven through its widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "kh-conflicts.h"
#include "kh-demo.h"
#include "kh-engine-client.h"
#include "kh-evaluation-dialog.h"
#include "kh-list-page.h"
#include "kh-record-editor.h"
#include "kh-screenshot.h"
#include "kh-sign-in-dialog.h"
#include "kh-sync-indicator.h"
#include "kh-sync-page.h"
#include "kh-window.h"

typedef struct
{
  char     *dir;
  KhStore  *store;
  KhWindow *window;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("kh-ui-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "kh.db", NULL);
  f->store = kh_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (f->store, 3000, 7, NULL, &error));
  f->window = kh_window_new (NULL, f->store);
  gtk_window_present (GTK_WINDOW (f->window));
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
}

static void
close_all_but (GtkWindow *keep)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = g_list_model_get_n_items (toplevels); i-- > 0;)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);

      if (w != keep)
        gtk_window_destroy (w);
    }
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *db = g_build_filename (f->dir, "kh.db", NULL);
  g_autofree char *wal = g_strconcat (db, "-wal", NULL);
  g_autofree char *shm = g_strconcat (db, "-shm", NULL);

  close_all_but (GTK_WINDOW (f->window));
  g_object_ref (f->window);
  gtk_window_destroy (GTK_WINDOW (f->window));
  /* Windows and pages let go of everything: no leak keeps them alive. */
  g_assert_finalize_object (f->window);
  g_assert_finalize_object (f->store);
  g_unlink (db);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (f->dir);
  g_free (f->dir);
}

/* Every page opens by its action, and a picture of it is saved for a person to look at. */
static void
test_pages (Fixture       *f,
            gconstpointer  data)
{
  const char * const *names = kh_window_list_pages ();
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  g_autoptr(GError) error = NULL;

  for (guint i = 0; names[i] != NULL; i++)
    {
      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", names[i]);
      g_assert_cmpstr (kh_window_get_page_name (f->window), ==, names[i]);
      if (KH_IS_LIST_PAGE (kh_window_get_page (f->window, names[i])))
        {
          KhListPage *page = KH_LIST_PAGE (kh_window_get_page (f->window, names[i]));

          /* A small demo has families, citizens, awards, donations and people everywhere. */
          if (g_str_equal (names[i], "models") || g_str_equal (names[i], "model-family")
              || g_str_equal (names[i], "scholarships") || g_str_equal (names[i], "funds")
              || g_str_equal (names[i], "people"))
            g_assert_false (kh_list_page_is_empty_shown (page));
        }
    }
  /* A click on a column header sorts the rows in SQLite by that field, both ways. */
  {
    KhListPage *people = KH_LIST_PAGE (kh_window_get_page (f->window, "people"));
    GtkColumnView *view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (people));
    KhRecordList *list = kh_list_page_get_list (people);
    g_autoptr(GtkColumnViewColumn) first = g_list_model_get_item (gtk_column_view_get_columns (view), 0);
    g_autoptr(KhRecordItem) top = NULL;
    g_autoptr(KhRecordItem) bottom = NULL;

    gtk_column_view_sort_by_column (view, first, GTK_SORT_DESCENDING);
    g_assert_cmpstr (kh_record_list_get_sort_field (list), ==, "full_name");
    g_assert_true (kh_record_list_get_descending (list));
    top = g_list_model_get_item (G_LIST_MODEL (list), 0);
    gtk_column_view_sort_by_column (view, first, GTK_SORT_ASCENDING);
    g_assert_false (kh_record_list_get_descending (list));
    bottom = g_list_model_get_item (G_LIST_MODEL (list), g_list_model_get_n_items (G_LIST_MODEL (list)) - 1);
    g_assert_cmpstr (kh_record_item_get_id (top), ==, kh_record_item_get_id (bottom));
    gtk_column_view_sort_by_column (view, NULL, GTK_SORT_ASCENDING);
    g_assert_null (kh_record_list_get_sort_field (list));
  }
  /* A selected record stays selected and in view when the list is sorted again or filtered,
   * wherever the new order puts it. */
  {
    KhListPage *people = KH_LIST_PAGE (kh_window_get_page (f->window, "people"));
    GtkColumnView *view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (people));
    KhRecordList *list = kh_list_page_get_list (people);
    GtkSelectionModel *selection = gtk_column_view_get_model (view);
    GtkWidget *scrolled = gtk_widget_get_ancestor (GTK_WIDGET (view), GTK_TYPE_SCROLLED_WINDOW);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));
    g_autoptr(GtkColumnViewColumn) first = g_list_model_get_item (gtk_column_view_get_columns (view), 0);
    guint n = g_list_model_get_n_items (G_LIST_MODEL (list));
    g_autoptr(KhRecordItem) chosen = g_list_model_get_item (G_LIST_MODEL (list), n / 2);
    g_autofree char *id = g_strdup (kh_record_item_get_id (chosen));
    double row;
    guint position;

    gtk_selection_model_select_item (selection, n / 2, TRUE);
    gtk_column_view_sort_by_column (view, first, GTK_SORT_DESCENDING);
    kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
    position = kh_record_list_find (list, id);
    g_assert_cmpuint (position, <, n);
    g_assert_true (gtk_selection_model_is_selected (selection, position));
    row = gtk_adjustment_get_upper (adj) / n;
    g_assert_cmpfloat (gtk_adjustment_get_value (adj), <=, position * row + 1);
    g_assert_cmpfloat ((position + 1) * row, <=, gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj) + 1);
    gtk_column_view_sort_by_column (view, NULL, GTK_SORT_ASCENDING);
    kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
    g_assert_true (gtk_selection_model_is_selected (selection, kh_record_list_find (list, id)));
    gtk_selection_model_unselect_all (selection);
  }
  if (dir != NULL)
    {
      g_assert_true (kh_window_save_screenshots (f->window, dir, NULL, &error));
      g_assert_no_error (error);
      for (guint i = 0; names[i] != NULL; i++)
        {
          g_autofree char *file = g_strdup_printf ("%s/%s.png", dir, names[i]);

          g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
        }
    }
}

static KhListPage *
scholarships_page (Fixture *f)
{
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "scholarships");
  return KH_LIST_PAGE (kh_window_get_page (f->window, "scholarships"));
}

static void
set_text (KhRecordEditor *editor,
          const char     *field,
          const char     *text)
{
  GtkWidget *row = kh_record_editor_get_row (editor, field);

  g_assert_nonnull (row);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
}

/* A clerk creates a scholarship entry through the form: a wrong date is refused inline with the
 * store's own words, then the entry is saved, found by search with and without accents, edited,
 * deleted and brought back with Undo. */
static void
test_scholarship_flow (Fixture       *f,
                       gconstpointer  data)
{
  KhListPage *page = scholarships_page (f);
  KhRecordList *list = kh_list_page_get_list (page);
  g_autoptr(GError) error = NULL;
  KhRecordEditor *editor;
  g_autofree char *id = NULL;
  json_object *lists;
  json_object *record;
  KhQuery query = { 0 };
  guint before = g_list_model_get_n_items (G_LIST_MODEL (list));

  lists = kh_store_list (f->store, "award_list", &query, &error);
  g_assert_cmpuint (json_object_array_length (lists), >, 0);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.new-record", NULL);
  editor = KH_RECORD_EDITOR (kh_list_page_new_record (page));
  g_assert_true (kh_record_editor_set_ref (editor, "list_id",
                                           json_object_get_string (json_object_object_get (json_object_array_get_idx (lists, 0), "id"))));
  set_text (editor, "recipient_name", "Phạm Thị Ánh Tuyết");
  /* Category and status are required choices: hardship scholarship, proposed. */
  adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "category")), 0);
  adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "status")), 0);
  set_text (editor, "amount", "1.250.000");
  set_text (editor, "birth_date", "31/02/2012");
  /* The date is refused as it is typed, in the store's own words. */
  g_assert_true (gtk_widget_has_css_class (kh_record_editor_get_row (editor, "birth_date"), "error"));
  g_assert_nonnull (kh_record_editor_get_error (editor));
  g_assert_true (g_str_has_prefix (kh_record_editor_get_error (editor), _("Date of birth")));
  g_assert_false (kh_record_editor_save (editor));
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "editor-error.png", NULL);

      kh_widget_wait_for_paint (GTK_WIDGET (editor), 2);
      kh_widget_save_png (GTK_WIDGET (editor), path, &error);
      g_assert_no_error (error);
    }
  set_text (editor, "birth_date", "03/06/2012");
  g_assert_false (gtk_widget_has_css_class (kh_record_editor_get_row (editor, "birth_date"), "error"));
  g_object_ref (editor);
  if (!kh_record_editor_save (editor))
    g_error ("saving failed: %s", kh_record_editor_get_error (editor));
  id = g_strdup (kh_record_editor_get_id (editor));
  g_object_unref (editor);
  json_object_put (lists);

  record = kh_store_get (f->store, "award_entry", id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (record, "amount")), ==, 1250000);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "birth_date")), ==, "2012-06-03");
  json_object_put (record);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, before + 1);

  /* Search as you type, with and without accents. */
  gtk_editable_set_text (GTK_EDITABLE (kh_list_page_get_search_entry (page)), "pham thi anh tuyet");
  g_signal_emit_by_name (kh_list_page_get_search_entry (page), "search-changed");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (kh_list_page_get_search_entry (page)), "Phạm Thị Ánh");
  g_signal_emit_by_name (kh_list_page_get_search_entry (page), "search-changed");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1);
  gtk_editable_set_text (GTK_EDITABLE (kh_list_page_get_search_entry (page)), "zzzz khong co");
  g_signal_emit_by_name (kh_list_page_get_search_entry (page), "search-changed");
  g_assert_true (kh_list_page_is_empty_shown (page));
  gtk_editable_set_text (GTK_EDITABLE (kh_list_page_get_search_entry (page)), "");
  g_signal_emit_by_name (kh_list_page_get_search_entry (page), "search-changed");

  /* Edit: the amount, shown as money, changes and the history says so. */
  editor = KH_RECORD_EDITOR (kh_list_page_open_record (page, id));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (editor, "amount"))), ==, "1.250.000\u00a0₫");
  set_text (editor, "amount", "1.500.000");
  g_assert_true (kh_record_editor_save (editor));
  editor = KH_RECORD_EDITOR (kh_list_page_open_record (page, id));
  g_assert_cmpuint (kh_record_editor_show_history (editor), ==, 2);

  /* Delete, then Undo from the toast's action. */
  g_assert_true (kh_record_editor_delete (editor));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, before);
  {
    g_autofree char *target = g_strdup_printf ("award_entry/%s", id);

    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.undo-delete", "s", target);
  }
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, before + 1);
  record = kh_store_get (f->store, "award_entry", id, &error);
  g_assert_false (json_object_get_boolean (json_object_object_get (record, "deleted")));
  g_assert_cmpint (json_object_get_int64 (json_object_object_get (record, "amount")), ==, 1500000);
  json_object_put (record);
  g_assert_cmpint (kh_window_get_pending (f->window), >, 0);
  close_all_but (GTK_WINDOW (f->window));
}

/* A conflict inserted as the sync engine would is shown side by side on the Sync page, and
 * "Take theirs" writes the server's value. */
static void
test_conflict_page (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  json_object *people = kh_store_list (f->store, "person", &(KhQuery) { .limit = 1 }, &error);
  const char *id = json_object_get_string (json_object_object_get (json_object_array_get_idx (people, 0), "id"));
  json_object *conflict = json_object_new_object ();
  g_autofree char *button_name = NULL;
  json_object *record;
  KhSyncPage *page;
  GtkWidget *button;
  gint64 seq;

  json_object_object_add (conflict, "entity", json_object_new_string ("person"));
  json_object_object_add (conflict, "record_id", json_object_new_string (id));
  json_object_object_add (conflict, "field", json_object_new_string ("phone"));
  json_object_object_add (conflict, "local_value", json_object_new_string ("\"0905111222\""));
  json_object_object_add (conflict, "remote_value", json_object_new_string ("\"0905333444\""));
  json_object_object_add (conflict, "remote_by", json_object_new_string ("canbo.xuandong"));
  json_object_object_add (conflict, "remote_at", json_object_new_string ("2026-11-27T08:30:00Z"));
  seq = kh_conflicts_add (f->store, conflict, &error);
  g_assert_no_error (error);
  json_object_put (conflict);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "sync");
  page = KH_SYNC_PAGE (kh_window_get_page (f->window, "sync"));
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  g_assert_cmpuint (kh_sync_page_get_n_shown (page), ==, 1);
  g_assert_cmpint (kh_window_get_conflicts (f->window), ==, 1);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "sync-conflict.png", NULL);

      kh_widget_save_png (GTK_WIDGET (f->window), path, &error);
      g_assert_no_error (error);
    }

  button_name = g_strdup_printf ("take-theirs-%" G_GINT64_FORMAT, seq);
  button = kh_sync_page_find_widget (page, button_name);
  g_assert_nonnull (button);
  g_signal_emit_by_name (button, "clicked");
  g_assert_cmpuint (kh_sync_page_get_n_shown (page), ==, 0);
  g_assert_cmpint (kh_conflicts_count (f->store), ==, 0);
  record = kh_store_get (f->store, "person", id, &error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "phone")), ==, "0905333444");
  json_object_put (record);
  /* The choice is queued for the server like any edit, so everyone ends with it. */
  {
    json_object *outbox = kh_store_list_outbox (f->store, &error);
    gboolean queued = FALSE;

    g_assert_no_error (error);
    for (size_t i = 0; i < json_object_array_length (outbox); i++)
      {
        json_object *row = json_object_array_get_idx (outbox, i);

        if (g_strcmp0 (json_object_get_string (json_object_object_get (row, "record_id")), id) == 0
            && strstr (json_object_to_json_string (json_object_object_get (row, "fields")), "phone"))
          queued = TRUE;
      }
    g_assert_true (queued);
    json_object_put (outbox);
  }
  json_object_put (people);
  /* With no engine, Sync now says so honestly rather than pretending. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sync", NULL);
  g_assert_cmpint (kh_window_get_sync_state (f->window), ==, KH_SYNC_CLIENT_STATE_UNAVAILABLE);
}

/* The school clerk's path: select the school, Self-assessment, score, Save. */
static void
test_self_assessment (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhListPage *page;
  KhEvaluationDialog *dialog;
  json_object *schools;
  json_object *where = json_object_new_object ();
  const char *school;
  int total = 0;

  json_object_object_add (where, "kind", json_object_new_string ("school"));
  schools = kh_store_list (f->store, "org_unit", &(KhQuery) { .where = where, .limit = 1 }, &error);
  school = json_object_get_string (json_object_object_get (json_object_array_get_idx (schools, 0), "id"));
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "units");
  page = KH_LIST_PAGE (kh_window_get_page (f->window, "units"));
  g_assert_false (kh_list_page_is_empty_shown (page));

  dialog = KH_EVALUATION_DIALOG (kh_list_page_self_assess (page, school, 2025));
  g_assert_nonnull (dialog);
  g_assert_true (kh_evaluation_dialog_set_score (dialog, "1", 38));
  g_assert_true (kh_evaluation_dialog_set_score (dialog, "2", 28));
  g_assert_true (kh_evaluation_dialog_set_score (dialog, "3", 22));
  /* 88 points under the levels rule (70 / 85 / 95): level 2. */
  g_assert_cmpstr (kh_evaluation_dialog_get_result (dialog, &total), ==, "level2");
  g_assert_cmpint (total, ==, 88);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "evaluation.png", NULL);

      kh_widget_wait_for_paint (GTK_WIDGET (dialog), 2);
      kh_widget_save_png (GTK_WIDGET (dialog), path, &error);
      g_assert_no_error (error);
    }
  g_assert_true (kh_evaluation_dialog_save (dialog));
  {
    json_object *w = json_object_new_object ();
    json_object *evals;

    json_object_object_add (w, "org_unit_id", json_object_new_string (school));
    json_object_object_add (w, "result", json_object_new_string ("level2"));
    evals = kh_store_list (f->store, "evaluation", &(KhQuery) { .where = w }, &error);
    g_assert_cmpuint (json_object_array_length (evals), >=, 1);
    json_object_put (evals);
    json_object_put (w);
  }
  json_object_put (schools);
  json_object_put (where);
}

/* With the real sync engine behind the seam and no account yet, the header says the changes
 * wait here, and Sync now neither hangs nor pretends: the state stays "signed out". */
static void
test_engine_signed_out (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(KhEngineClient) client = kh_engine_client_new (f->store, NULL);
  GtkWidget *indicator;
  g_autofree char *expected = NULL;
  gint64 start;

  kh_window_set_sync_client (f->window, KH_SYNC_CLIENT (client));
  g_assert_cmpint (kh_window_get_sync_state (f->window), ==, KH_SYNC_CLIENT_STATE_SIGNED_OUT);
  kh_window_update_counts (f->window);
  g_assert_cmpint (kh_window_get_pending (f->window), >, 0);
  indicator = GTK_WIDGET (g_object_get_data (G_OBJECT (f->window), "sync-indicator"));
  g_assert_nonnull (indicator);
  expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Offline with %d change waiting",
                                           "Offline with %d changes waiting",
                                           (gulong) kh_window_get_pending (f->window)),
                              (int) kh_window_get_pending (f->window));
  g_assert_cmpstr (kh_sync_indicator_get_text (KH_SYNC_INDICATOR (indicator)), ==, expected);

  /* Sync now without an account asks for one. */
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sync", NULL);
  start = g_get_monotonic_time ();
  while (g_get_monotonic_time () - start < G_USEC_PER_SEC / 4)
    g_main_context_iteration (NULL, FALSE);
  {
    GListModel *toplevels = gtk_window_get_toplevels ();
    gboolean found = FALSE;

    for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
      {
        g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

        found = found || KH_IS_SIGN_IN_DIALOG (w);
      }
    g_assert_true (found);
  }
  g_assert_cmpint (kh_window_get_sync_state (f->window), ==, KH_SYNC_CLIENT_STATE_SIGNED_OUT);
  close_all_but (GTK_WINDOW (f->window));
  kh_window_set_sync_client (f->window, NULL);
  g_assert_cmpint (kh_window_get_sync_state (f->window), ==, KH_SYNC_CLIENT_STATE_UNAVAILABLE);
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
  g_test_add ("/ui/window/pages", Fixture, NULL, fixture_set_up, test_pages, fixture_tear_down);
  g_test_add ("/ui/window/scholarship-flow", Fixture, NULL, fixture_set_up, test_scholarship_flow, fixture_tear_down);
  g_test_add ("/ui/window/conflict", Fixture, NULL, fixture_set_up, test_conflict_page, fixture_tear_down);
  g_test_add ("/ui/window/self-assessment", Fixture, NULL, fixture_set_up, test_self_assessment, fixture_tear_down);
  g_test_add ("/ui/window/engine-signed-out", Fixture, NULL, fixture_set_up, test_engine_signed_out, fixture_tear_down);
  return g_test_run ();
}
