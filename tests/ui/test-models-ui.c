/* test-models-ui.c: the learning models in the window, under Xvfb: a model list with each
 * registration's state, one decision recognizing many, the criteria editor; a picture of each
 * is saved in KH_SCREENSHOT_DIR for a person to look at
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "kh-criteria-editor.h"
#include "kh-demo.h"
#include "kh-entity.h"
#include "kh-list-page.h"
#include "kh-models.h"
#include "kh-recognize-dialog.h"
#include "kh-record-list.h"
#include "kh-screenshot.h"
#include "kh-store-sql.h"
#include "kh-test-demo-window.h"
#include "kh-test-dir.h"
#include "kh-ui-test-private.h"
#include "kh-window.h"

typedef KhTestDemoWindow Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  kh_test_demo_window_open (f, 1200, 760);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kh_test_demo_window_close (f);
}

static void
shot (GtkWidget  *widget,
      const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (g_getenv ("KH_SCREENSHOT_DIR") == NULL)
    return;
  g_mkdir_with_parents (g_getenv ("KH_SCREENSHOT_DIR"), 0755);
  path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), name, NULL);
  kh_widget_wait_for_paint (widget, 2);
  kh_widget_save_png (widget, path, &error);
  g_assert_no_error (error);
}

static gint64
count (Fixture    *f,
       const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 n;

  g_assert_cmpint (sqlite3_prepare_v2 (kh_store_get_db (f->store), sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  n = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return n;
}

/* The families' list shows each registration's state and filters by it; one decision
 * recognizes those that passed. */
static void
test_states_and_recognition (Fixture       *f,
                             gconstpointer  data)
{
  KhListPage *page;
  GtkColumnView *view;
  GListModel *columns;
  KhRecognizeDialog *dialog;
  KhRecordList *list;
  json_object *state = json_object_new_string ("passed");
  gboolean has_state = FALSE;
  guint before;
  guint selected;
  gint64 passed;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "model-family");
  page = KH_LIST_PAGE (kh_window_get_page (f->window, "model-family"));
  view = GTK_COLUMN_VIEW (kh_list_page_get_column_view (page));
  columns = gtk_column_view_get_columns (view);
  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) c = g_list_model_get_item (columns, i);

      has_state = has_state || g_strcmp0 (gtk_column_view_column_get_title (c),
                                           _("State")) == 0;
    }
  g_assert_true (has_state);
  shot (GTK_WIDGET (f->window), "model-list-states.png");

  /* The state filters the list. */
  list = kh_list_page_get_list (page);
  before = g_list_model_get_n_items (G_LIST_MODEL (list));
  kh_record_list_set_filter (list, "state", state, NULL);
  passed = count (f, "SELECT count(*) FROM registration WHERE model = 'family' AND state = 'passed' AND deleted = 0");
  g_assert_cmpint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, passed);
  g_assert_cmpint (passed, <, before);
  kh_record_list_set_filter (list, "state", NULL, NULL);
  json_object_put (state);

  /* The Recognize button opens the dialog for the page's model. */
  dialog = KH_RECOGNIZE_DIALOG (kh_list_page_recognize (page));
  g_assert_nonnull (dialog);
  gtk_window_destroy (GTK_WINDOW (dialog));

  /* 2025's families that passed, all ticked; a district after the reform is refused whole. */
  dialog = KH_RECOGNIZE_DIALOG (kh_recognize_dialog_new (f->store, "family", 2025, NULL));
  gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (dialog));
  selected = kh_recognize_dialog_get_n_selected (dialog);
  passed = count (f, "SELECT count(*) FROM registration WHERE model = 'family' AND year = 2025 "
                     "AND state = 'passed' AND deleted = 0");
  g_assert_cmpuint (selected, ==, passed);
  g_assert_cmpuint (selected, >, 1);
  kh_recognize_dialog_set_decision (dialog, "1501/QĐ-UBND", "20/12/2025", "commune");
  shot (GTK_WIDGET (dialog), "recognize.png");
  kh_recognize_dialog_set_decision (dialog, "1501/QĐ-UBND", "20/12/2025", "district");
  g_assert_cmpuint (kh_recognize_dialog_recognize (dialog), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM recognition WHERE decision_number = '1501/QĐ-UBND'"), ==, 0);
  kh_recognize_dialog_set_decision (dialog, "1501/QĐ-UBND", "20/12/2025", "commune");
  g_assert_cmpuint (kh_recognize_dialog_recognize (dialog), ==, selected);
  g_assert_cmpint (count (f, "SELECT count(*) FROM recognition WHERE decision_number = '1501/QĐ-UBND'"), ==, selected);
  g_assert_cmpint (count (f, "SELECT count(*) FROM registration WHERE model = 'family' AND year = 2025 "
                             "AND state = 'recognized'"), >=, selected);
}

/* The criteria editor: a set in use is saved as a new version, its criteria kept. */
static void
test_criteria_editor (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhListPage *page;
  KhCriteriaEditor *editor;
  g_autofree char *used_id = NULL;
  g_autofree char *version = NULL;
  g_autofree char *fresh = NULL;
  guint n;

  g_assert_true (kh_criteria_install_builtin (f->store, NULL, &error));
  g_assert_no_error (error);
  {
    sqlite3_stmt *stmt = NULL;

    sqlite3_prepare_v2 (kh_store_get_db (f->store), "SELECT criteria_set_id FROM evaluation "
                        "JOIN registration r ON r.id = registration_id WHERE r.model = 'family' LIMIT 1", -1, &stmt, NULL);
    g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
    used_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
    sqlite3_finalize (stmt);
  }

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "models");
  page = KH_LIST_PAGE (kh_window_get_page (f->window, "models"));
  g_assert_true (kh_list_page_set_entity (page, "criteria_set"));
  editor = KH_CRITERIA_EDITOR (kh_list_page_open_record (page, used_id));
  g_assert_true (KH_IS_CRITERIA_EDITOR (editor));
  g_assert_true (kh_criteria_editor_is_used (editor));
  n = kh_criteria_editor_get_n_criteria (editor);
  g_assert_cmpuint (n, >=, 3);
  kh_criteria_editor_add_criterion (editor, "5", _("Criterion"), 10);
  /* Tall enough for the criteria below the rule in the picture. */
  gtk_window_set_default_size (GTK_WINDOW (editor), 720, 1500);
  shot (GTK_WIDGET (editor), "criteria-editor.png");
  version = kh_criteria_editor_save (editor);
  g_assert_nonnull (version);
  g_assert_cmpstr (version, !=, used_id);
  g_assert_cmpint (count (f, "SELECT count(*) FROM criterion WHERE deleted = 0 AND criteria_set_id = "
                             "(SELECT id FROM criteria_set WHERE previous_id IS NOT NULL)"), ==, n + 1);
  {
    g_autofree char *sql = g_strdup_printf ("SELECT count(*) FROM criterion WHERE deleted = 0 AND criteria_set_id = '%s'",
                                            used_id);

    g_assert_cmpint (count (f, sql), ==, n);
  }

  /* A new set, with a criterion above what its own maximum allows it to be judged by. */
  editor = KH_CRITERIA_EDITOR (kh_list_page_new_record (page));
  g_assert_false (kh_criteria_editor_is_used (editor));
  kh_criteria_editor_set_field (editor, "name", "Dòng họ học tập (tỉnh)");
  kh_criteria_editor_set_field (editor, "model", "clan");
  kh_criteria_editor_set_field (editor, "method", "checklist");
  kh_criteria_editor_add_criterion (editor, "a", "Có quỹ khuyến học", 1);
  fresh = kh_criteria_editor_save (editor);
  g_assert_nonnull (fresh);
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

  g_test_add ("/ui/models/states-and-recognition", Fixture, NULL, fixture_set_up, test_states_and_recognition,
              fixture_tear_down);
  g_test_add ("/ui/models/criteria-editor", Fixture, NULL, fixture_set_up, test_criteria_editor, fixture_tear_down);
  return g_test_run ();
}
