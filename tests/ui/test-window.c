/* test-window.c: the main window under Xvfb, driven through its widgets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <string.h>
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "kh-application.h"
#include "kh-codec.h"
#include "kh-conflict-card.h"
#include "kh-demo.h"
#include "kh-engine-client.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-evaluation-dialog.h"
#include "kh-fold.h"
#include "kh-format.h"
#include "kh-journal.h"
#include "kh-list-page.h"
#include "kh-overview-page.h"
#include "kh-print-list.h"
#include "kh-xlsx-reader.h"
#include "kh-record-editor.h"
#include "kh-record-item.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-screenshot.h"
#include "kh-sign-in-dialog.h"
#include "kh-sync-indicator.h"
#include "kh-sync-page.h"
#include "kh-units-page.h"
#include "kh-ui-test-private.h"
#include "kh-workflow-bar.h"
#include "kh-unit-row.h"
#include "kh-test-demo-window.h"
#include "kh-test-dir.h"
#include "kh-test-store.h"
#include "kh-text-rendering.h"

typedef KhTestDemoWindow Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  kh_test_demo_window_open (f, 0, 0);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  kh_test_demo_window_close (f);
}

/* Icon-only buttons say what they do: a tooltip for the mouse (and the accessible label set
 * beside it in the templates). */
static guint
check_icon_buttons (GtkWidget *widget)
{
  const char *icon = GTK_IS_BUTTON (widget) ? gtk_button_get_icon_name (GTK_BUTTON (widget))
                     : GTK_IS_MENU_BUTTON (widget) ? gtk_menu_button_get_icon_name (GTK_MENU_BUTTON (widget))
                     : NULL;
  guint n = 0;

  if (icon != NULL)
    {
      if (gtk_widget_get_tooltip_text (widget) == NULL)
        g_error ("a button showing only the icon %s has no tooltip", icon);
      n++;
    }
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += check_icon_buttons (child);
  return n;
}

static KhListPage *
scholarships_page (Fixture *f)
{
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "scholarships");
  return KH_LIST_PAGE (kh_window_get_page (f->window, "scholarships"));
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
  /* The main menu, Back to Sections and the unit tree's New Unit at least. */
  g_assert_cmpuint (check_icon_buttons (GTK_WIDGET (f->window)), >=, 3);
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
      /* A 1366×768 laptop. */
      gtk_window_set_default_size (GTK_WINDOW (f->window), 1366, 768);
      kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
      g_assert_true (kh_window_save_screenshots (f->window, dir, "1366x768", &error));
      g_assert_no_error (error);
    }
  /* The window opens no taller than a 1366×768 laptop's screen under its panel. */
  {
    g_autoptr(KhWindow) fresh = g_object_ref_sink (kh_window_new (NULL, f->store));
    int width, height;

    gtk_window_get_default_size (GTK_WINDOW (fresh), &width, &height);
    g_assert_cmpint (width, <=, 1280);
    g_assert_cmpint (height, <=, 720);
    gtk_window_destroy (GTK_WINDOW (fresh));
  }
  /* On a small screen the sidebar folds away and each page has the whole width: the sync state
   * has a line of its own instead of a few letters in the header, and a list keeps its name,
   * status and amount columns in view. */
  gtk_window_set_default_size (GTK_WINDOW (f->window), 360, 640);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "scholarships");
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
  {
    GtkWidget *indicator = g_object_get_data (G_OBJECT (f->window), "sync-indicator");
    GtkWidget *strip = g_object_get_data (G_OBJECT (f->window), "sync-strip");
    KhListPage *page = scholarships_page (f);
    GtkWidget *view = kh_list_page_get_column_view (page);
    graphene_rect_t bounds;

    g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (f->window)), <=, 400);
    g_assert_false (gtk_widget_get_visible (indicator));
    g_assert_true (gtk_widget_get_mapped (strip));
    g_assert_cmpstr (kh_sync_indicator_get_text (KH_SYNC_INDICATOR (strip)), ==,
                     kh_sync_indicator_get_text (KH_SYNC_INDICATOR (indicator)));
    /* The whole state is shown, not cut short. */
    {
      GtkWidget *label = gtk_widget_get_first_child (gtk_widget_get_first_child (strip));

      while (label != NULL && !GTK_IS_LABEL (label))
        label = gtk_widget_get_next_sibling (label);
      g_assert_nonnull (label);
      g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (GTK_LABEL (label))));
    }
    g_assert_true (kh_list_page_is_column_shown (page, "recipient_name"));
    g_assert_true (kh_list_page_is_column_shown (page, "amount"));
    g_assert_true (kh_list_page_is_column_shown (page, "status"));
    g_assert_false (kh_list_page_is_column_shown (page, "birth_date"));
    /* The view's columns fit the page: status and amount are on screen. */
    g_assert_true (gtk_widget_compute_bounds (view, GTK_WIDGET (page), &bounds));
    g_assert_cmpfloat (gtk_widget_get_width (view), <=, gtk_widget_get_width (GTK_WIDGET (page)));
    if (dir != NULL)
      {
        g_assert_true (kh_window_save_screenshots (f->window, dir, "narrow", &error));
        g_assert_no_error (error);
      }
    /* A list folded while another page was shown draws every row in view once shown, not
     * only its first (GTK 4.8 left the others unallocated). */
    {
      KhListPage *people;
      GtkWidget *people_view;
      guint drawn = 0;

      gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "people");
      kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
      people = KH_LIST_PAGE (kh_window_get_page (f->window, "people"));
      people_view = kh_list_page_get_column_view (people);
      g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (kh_list_page_get_list (people))), >, 20);
      for (GtkWidget *child = gtk_widget_get_first_child (people_view); child; child = gtk_widget_get_next_sibling (child))
        if (GTK_IS_LIST_VIEW (child))
          for (GtkWidget *row = gtk_widget_get_first_child (child); row; row = gtk_widget_get_next_sibling (row))
            if (gtk_widget_get_height (row) > 0 && gtk_widget_get_width (row) > 0)
              drawn++;
      g_assert_cmpuint (drawn, >=, 10);
    }
  }
  gtk_window_set_default_size (GTK_WINDOW (f->window), 1200, 700);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 3);
  g_assert_true (kh_list_page_is_column_shown (scholarships_page (f), "birth_date"));
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
  /* Saved, the form closes and lets go of everything. */
  g_assert_finalize_object (editor);
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
  /* What the server did reads as words too, not as the log's codes. */
  g_assert_true (kh_journal_add_audit (f->store, "award_entry", id, "2026-01-02T03:04:05Z", "province",
                                     "remote", KH_COLUMN_DELETED, "false", "true", &error));
  g_assert_true (kh_journal_add_audit (f->store, "award_entry", id, "2026-01-02T03:04:06Z", "province",
                                     "remote", NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (kh_record_editor_show_history (editor), ==, 4);
  g_assert_cmpstr (kh_record_editor_get_history_title (editor, 0), ==, _("Received from the server"));
  g_assert_cmpstr (kh_record_editor_get_history_title (editor, 1), ==, _("Deleted on the server"));
  g_assert_null (kh_record_editor_get_history_title (editor, 4));

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
  kh_test_close_windows_but (GTK_WINDOW (f->window));
}

/* Selects in @dropdown the choice shown as @label. */
static void
select_filter (GtkDropDown *dropdown,
               const char  *label)
{
  GListModel *model = gtk_drop_down_get_model (dropdown);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(GtkStringObject) s = g_list_model_get_item (model, i);

      if (g_strcmp0 (gtk_string_object_get_string (s), label) == 0)
        {
          gtk_drop_down_set_selected (dropdown, i);
          return;
        }
    }
  g_error ("no choice “%s” in the filter", label);
}


static guint picker_search (KhRecordPicker *picker,
                            const char     *text);
static void  save_shot     (GtkWidget      *widget,
                            const char     *name);

/* A list's page shows its entries with their count and total (cancelled ones left out), adds
 * an entry, exports the list; the entries page filters by list and by year. */
static void
test_award_list_page (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *unit = NULL, *list = NULL, *json = NULL;
  g_autofree char *csv_path = g_build_filename (f->dir, "list.csv", NULL);
  g_autofree char *csv = NULL;
  KhRecordEditor *editor, *entry_editor;
  KhAwardListEntries *entries;
  KhListPage *page;
  KhRecordList *rows;
  KhRecordPicker *list_picker;
  g_autofree char *newest = NULL;
  sqlite3_stmt *stmt;
  gint64 in_2018;

  unit = kh_test_create (f->store, "org_unit", "{\"code\":\"T18\",\"name\":\"Xã Thử\",\"kind\":\"commune\"}");
  json = g_strdup_printf ("{\"title\":\"Tết 2019 xã Thử\",\"occasion\":\"tet\",\"school_year\":\"2018-2019\","
                          "\"org_unit_id\":\"%s\",\"status\":\"approved\"}", unit);
  list = kh_test_create (f->store, "award_list", json);
  {
    const char *people[][3] = {
      { "Trần Văn Bình", "1000000", "approved" },
      { "Nguyễn Thị An", "1500000", "approved" },
      { "Lê Văn Cường", "700000", "cancelled" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (people); i++)
      {
        g_autofree char *e = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"%s\","
                                              "\"category\":\"hardship\",\"amount\":%s,\"status\":\"%s\"}",
                                              list, unit, people[i][0], people[i][1], people[i][2]);

        g_free (kh_test_create (f->store, "award_entry", e));
      }
  }

  /* The list's page: its entries, the count and total without the cancelled one. */
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_list", list, NULL));
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (editor));
  entries = KH_AWARD_LIST_ENTRIES (kh_record_editor_get_entries (editor));
  g_assert_nonnull (entries);
  g_assert_cmpuint (kh_award_list_entries_get_count (entries), ==, 2);
  g_assert_cmpint (kh_award_list_entries_get_total (entries), ==, 2500000);
  g_assert_cmpuint (kh_award_list_entries_get_n_rows (entries), ==, 3);
  /* Other records have no entries under them. */
  g_assert_null (kh_record_editor_get_entries (KH_RECORD_EDITOR (kh_record_editor_new (f->store, "org_unit", unit, NULL))));

  /* Add Entry: a new entry of this list, its unit from the list; saved, the page counts it. */
  entry_editor = KH_RECORD_EDITOR (kh_award_list_entries_add (entries));
  set_text (entry_editor, "recipient_name", "Phạm Thị Dung");
  adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (entry_editor, "category")), 1);
  set_text (entry_editor, "amount", "2.000.000");
  if (!kh_record_editor_save (entry_editor))
    g_error ("saving failed: %s", kh_record_editor_get_error (entry_editor));
  g_assert_cmpuint (kh_award_list_entries_get_count (entries), ==, 3);
  g_assert_cmpint (kh_award_list_entries_get_total (entries), ==, 4500000);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "award-list.png", NULL);

      kh_widget_wait_for_paint (GTK_WIDGET (editor), 2);
      kh_widget_save_png (GTK_WIDGET (editor), path, &error);
      g_assert_no_error (error);
    }

  /* Export writes this list's entries, and only them. */
  g_assert_true (kh_award_list_entries_export (entries, csv_path, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv_path, &csv, NULL, NULL));
  g_assert_nonnull (strstr (csv, "Phạm Thị Dung"));
  g_assert_nonnull (strstr (csv, "Trần Văn Bình"));
  kh_test_close_windows_but (GTK_WINDOW (f->window));

  /* The entries page filters by list, and by year through the lists' school years. */
  page = scholarships_page (f);
  rows = kh_list_page_get_list (page);
  /* The list filter is a picker, searched as typed: "tet 2019 thu" finds the list. */
  list_picker = KH_RECORD_PICKER (kh_list_page_get_list_filter (page));
  g_assert_nonnull (list_picker);
  g_assert_cmpstr (kh_record_picker_get_label (list_picker), ==, _("All lists"));
  g_assert_cmpuint (picker_search (list_picker, "tet 2019 thu"), ==, 1);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      GtkWidget *popover = kh_record_picker_get_popover (list_picker);

      gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
      kh_record_picker_popup (list_picker);
      picker_search (list_picker, "tet");
      save_shot (popover, "picker-list-filter.png");
      picker_search (list_picker, "tet 2019 thu");
      gtk_popover_popdown (GTK_POPOVER (popover));
    }
  kh_record_picker_choose (list_picker, 0);
  g_assert_cmpstr (kh_record_picker_get_selected_id (list_picker), ==, list);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), ==, 4);
  /* The years offered: those some entry is in, newest first, after "All years". */
  {
    GListModel *years = gtk_drop_down_get_model (kh_list_page_get_filter (page, "list-year"));
    g_autoptr(GString) offered = g_string_new (NULL);
    g_autoptr(GString) expected = g_string_new (_("All years"));

    for (guint i = 0; i < g_list_model_get_n_items (years); i++)
      {
        g_autoptr(GtkStringObject) s = g_list_model_get_item (years, i);

        g_string_append_printf (offered, "%s%s", i ? " " : "", gtk_string_object_get_string (s));
      }
    stmt = kh_store_prepare (f->store, "SELECT DISTINCT y FROM (SELECT substr(l.school_year, 1, 4) y FROM award_list l"
                             " WHERE l.deleted = 0 AND l.id IN (SELECT list_id FROM award_entry WHERE deleted = 0)"
                             " UNION SELECT substr(l.school_year, 6, 4) FROM award_list l WHERE l.deleted = 0"
                             " AND l.id IN (SELECT list_id FROM award_entry WHERE deleted = 0)) ORDER BY y DESC", &error);
    g_assert_no_error (error);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_string_append_printf (expected, " %s", (const char *) sqlite3_column_text (stmt, 0));
    sqlite3_reset (stmt);
    g_assert_cmpstr (offered->str, ==, expected->str);
    g_assert_nonnull (strstr (offered->str, " 2019 2018"));
    /* The demo's newest lists are of 2025-2026. */
    newest = g_strndup (offered->str + strlen (_("All years")) + 1, 4);
    g_assert_cmpint (atoi (newest), >, 2019);
  }

  stmt = kh_store_prepare (f->store, "SELECT count(*) FROM award_entry WHERE deleted = 0 AND list_id IN"
                           " (SELECT id FROM award_list WHERE deleted = 0"
                           "  AND (school_year LIKE '2018-%' OR school_year LIKE '%-2018'))", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  in_2018 = sqlite3_column_int64 (stmt, 0);
  sqlite3_reset (stmt);
  g_assert_cmpint (in_2018, >=, 4);

  /* The list and a year it is in; the list and a year it is not in. */
  select_filter (kh_list_page_get_filter (page, "list-year"), "2018");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), ==, 4);
  select_filter (kh_list_page_get_filter (page, "list-year"), newest);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), ==, 0);
  /* The year alone; the list picker then offers only that year's lists. */
  kh_record_picker_set_selected_id (list_picker, NULL);
  select_filter (kh_list_page_get_filter (page, "list-year"), "2018");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), ==, (guint) in_2018);
  g_assert_cmpuint (picker_search (list_picker, "tet 2019 thu"), ==, 1);
  select_filter (kh_list_page_get_filter (page, "list-year"), newest);
  g_assert_cmpuint (picker_search (list_picker, "tet 2019 thu"), ==, 0);
  gtk_drop_down_set_selected (kh_list_page_get_filter (page, "list-year"), 0);
  g_assert_cmpuint (picker_search (list_picker, "tet 2019 thu"), ==, 1);
}

/* The title a picker shows for its selected record. */
static char *
picked_title (KhRecordEditor *editor,
              const char     *field)
{
  KhRecordPicker *picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, field));
  char *title;

  g_assert_nonnull (kh_record_picker_get_selected (picker));
  title = kh_record_picker_dup_title (picker, kh_record_picker_get_selected (picker));
  /* The button shows what the picker chose. */
  g_assert_cmpstr (kh_record_picker_get_label (picker), ==, title);
  return title;
}

/* Saves a picture of @widget as @name in KH_SCREENSHOT_DIR, when that is set. */
static void
save_shot (GtkWidget  *widget,
           const char *name)
{
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  kh_widget_wait_for_paint (widget, 3);
  kh_widget_save_png (widget, path, &error);
  g_assert_no_error (error);
}

static void
set_text_in (GtkWidget  *editable,
             const char *text)
{
  gtk_editable_set_text (GTK_EDITABLE (editable), text);
}

/* Types @text into @picker's search as a person does, and waits for nothing: the search
 * entry's delay is skipped by saying the text changed. */
static guint
picker_search (KhRecordPicker *picker,
               const char     *text)
{
  GtkWidget *entry = kh_record_picker_get_search_entry (picker);

  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  g_signal_emit_by_name (entry, "search-changed");
  return g_list_model_get_n_items (kh_record_picker_get_shown (picker));
}

/* The titles @picker shows, in order. */
static GPtrArray *
picker_titles (KhRecordPicker *picker)
{
  GListModel *shown = kh_record_picker_get_shown (picker);
  GPtrArray *titles = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < g_list_model_get_n_items (shown); i++)
    {
      g_autoptr(KhRecordItem) record = g_list_model_get_item (shown, i);

      g_ptr_array_add (titles, kh_record_picker_dup_title (picker, record));
    }
  return titles;
}

/* A new registration is for this year and registered; choosing the household fills the name
 * registered; the unit picker says which commune a village is in; the history says which
 * units a record moved between. */
static void
test_pickers (Fixture       *f,
              gconstpointer  data)
{
  const KhField *model = kh_entity_get_field (kh_entity_lookup ("registration"), "model");
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *year = g_strdup_printf ("%d", g_date_time_get_year (now));
  g_autofree char *title = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(GError) error = NULL;
  KhQuery query = { .limit = 1 };
  json_object *households = kh_store_list (f->store, "household", &query, &error);
  json_object *household = json_object_array_get_idx (households, 0);
  json_object *village, *commune;
  KhRecordEditor *editor;
  guint family = 0;

  g_assert_no_error (error);
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "registration", NULL, NULL));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (editor, "year"))), ==, year);
  g_assert_cmpuint (adw_combo_row_get_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "status"))), ==, 0);

  while (g_strcmp0 (model->enum_values[family], "family") != 0)
    family++;
  adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "model")), family);
  g_assert_true (kh_record_editor_set_ref (editor, "subject_id",
                                           json_object_get_string (json_object_object_get (household, "id"))));
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (editor, "subject_name"))), ==,
                   json_object_get_string (json_object_object_get (household, "head_name")));

  /* Choosing the household filled its village; the picker names the commune above it. */
  village = kh_store_get (f->store, "org_unit", json_object_get_string (json_object_object_get (household, "org_unit_id")), &error);
  g_assert_no_error (error);
  commune = kh_store_get (f->store, "org_unit", json_object_get_string (json_object_object_get (village, "parent_id")), &error);
  g_assert_no_error (error);
  title = picked_title (editor, "org_unit_id");
  expected = g_strdup_printf (_("%s — %s"), json_object_get_string (json_object_object_get (village, "name")),
                              json_object_get_string (json_object_object_get (commune, "name")));
  g_assert_cmpstr (title, ==, expected);
  gtk_window_destroy (GTK_WINDOW (editor));

  /* The history names the units a record moved between, not their ids. */
  {
    json_object *person = json_object_new_object ();
    json_object *change = json_object_new_object ();
    g_autofree char *pid = NULL;
    g_autofree char *line = NULL;
    const char *village_id = json_object_get_string (json_object_object_get (village, "id"));
    const char *commune_id = json_object_get_string (json_object_object_get (commune, "id"));

    json_object_object_add (person, "full_name", json_object_new_string ("Hồ Thị Mai"));
    json_object_object_add (person, "org_unit_id", json_object_new_string (village_id));
    pid = kh_store_create (f->store, "person", person, &error);
    g_assert_no_error (error);
    json_object_object_add (change, "org_unit_id", json_object_new_string (commune_id));
    g_assert_true (kh_store_update (f->store, "person", pid, change, &error));
    g_assert_no_error (error);
    json_object_put (person);
    json_object_put (change);
    editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "person", pid, NULL));
    g_assert_cmpuint (kh_record_editor_show_history (editor), ==, 2);
    {
      g_autofree char *from = kh_store_dup_title (f->store, "org_unit", village_id);
      g_autofree char *to = kh_store_dup_title (f->store, "org_unit", commune_id);

      g_assert_nonnull (strstr (from, json_object_get_string (json_object_object_get (village, "name"))));
      line = g_strdup_printf (_("%s: %s → %s"), _("Unit"), from, to);
    }
    g_assert_cmpstr (kh_record_editor_get_history_title (editor, 0), ==, line);
    gtk_window_destroy (GTK_WINDOW (editor));
  }
  json_object_put (village);
  json_object_put (commune);
  json_object_put (households);
}

/* Every picker searches as the lists do (folded: "suoi hiep" finds "Xã Suối Hiệp"), tells the
 * twenty "Thôn 1" apart by their commune, shows funds by their own names, reads households in
 * the Vietnamese order of names, and shows no more than its first matches, saying so. */
static void
test_picker_search (Fixture       *f,
                    gconstpointer  data)
{
  const KhField *model = kh_entity_get_field (kh_entity_lookup ("registration"), "model");
  KhRecordEditor *editor;
  KhRecordPicker *picker;
  g_autoptr(GPtrArray) titles = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *household_id = NULL;
  g_autofree char *head = NULL;
  g_autofree char *folded = NULL;
  g_autoptr(GError) error = NULL;
  guint family = 0, n;
  sqlite3_stmt *stmt;

  /* Units: a folded search finds the commune; the villages called alike read apart. */
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "registration", NULL, NULL));
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (editor));
  picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "org_unit_id"));
  g_assert_nonnull (picker);
  g_assert_cmpuint (picker_search (picker, "suoi hiep"), >=, 1);
  titles = picker_titles (picker);
  {
    g_autofree char *expected = g_strdup_printf (_("%s — %s"), "Xã Suối Hiệp", "Tỉnh Khánh Hòa");

    g_assert_true (g_ptr_array_find_with_equal_func (titles, expected, g_str_equal, NULL));
  }
  g_clear_pointer (&titles, g_ptr_array_unref);
  n = picker_search (picker, "thon 1");
  g_assert_cmpuint (n, >, 1);
  titles = picker_titles (picker);
  for (guint i = 0; i < titles->len; i++)
    {
      /* "Thôn 1 — Xã …": the commune names it, and no two read the same. */
      g_assert_nonnull (strstr (titles->pdata[i], " — "));
      g_assert_false (g_hash_table_contains (seen, titles->pdata[i]));
      g_hash_table_add (seen, titles->pdata[i]);
    }
  /* Chosen with a click, the row holds it and the button shows it. */
  kh_record_picker_choose (picker, 0);
  {
    g_autofree char *title = picked_title (editor, "org_unit_id");

    g_assert_cmpstr (title, ==, titles->pdata[0]);
  }
  g_clear_pointer (&titles, g_ptr_array_unref);
  /* A village found by its path, its words and its commune's in any order. */
  {
    g_autofree char *expected = g_strdup_printf (_("%s — %s"), "Thôn 1", "Xã Suối Hiệp");
    g_autofree char *suffix = g_strdup_printf (_("%s — %s"), "", "Xã Suối Hiệp");

    n = picker_search (picker, "thon 1 suoi hiep");
    g_assert_cmpuint (n, >=, 1);
    if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
      {
        GtkWidget *popover = kh_record_picker_get_popover (picker);

        gtk_popover_set_autohide (GTK_POPOVER (popover), FALSE);
        kh_record_picker_popup (picker);
        picker_search (picker, "thon 1 suoi hiep");
        save_shot (popover, "picker-unit-path.png");
        gtk_popover_popdown (GTK_POPOVER (popover));
      }
    g_assert_cmpuint (picker_search (picker, "suoi hiep thon 1"), ==, n);
    titles = picker_titles (picker);
    g_assert_true (g_ptr_array_find_with_equal_func (titles, expected, g_str_equal, NULL));
    for (guint i = 0; i < titles->len; i++)
      g_assert_true (g_str_has_suffix (titles->pdata[i], suffix));
    g_clear_pointer (&titles, g_ptr_array_unref);
  }
  g_assert_cmpuint (picker_search (picker, "khong co dau zzz"), ==, 0);
  g_assert_nonnull (kh_record_picker_get_status (picker));

  /* Households: in the order of given names, found by a head's name typed without accents. */
  while (g_strcmp0 (model->enum_values[family], "family") != 0)
    family++;
  adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "model")), family);
  picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "subject_id"));
  g_assert_cmpstr (kh_record_picker_get_entity (picker), ==, "household");
  n = picker_search (picker, "");
  g_assert_cmpuint (n, >, 1);
  titles = picker_titles (picker);
  for (guint i = 1; i < titles->len; i++)
    g_assert_cmpint (kh_name_compare (titles->pdata[i - 1], titles->pdata[i], KH_NAME_ORDER_GIVEN_FIRST), <=, 0);
  g_clear_pointer (&titles, g_ptr_array_unref);
  stmt = kh_store_prepare (f->store, "SELECT id, head_name FROM household WHERE deleted = 0 ORDER BY rid DESC LIMIT 1", &error);
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  household_id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  head = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
  sqlite3_reset (stmt);
  folded = kh_fold (head);
  g_assert_cmpstr (folded, !=, head);
  n = picker_search (picker, folded);
  g_assert_cmpuint (n, >=, 1);
  {
    GListModel *shown = kh_record_picker_get_shown (picker);
    gboolean found = FALSE;

    for (guint i = 0; i < n; i++)
      {
        g_autoptr(KhRecordItem) record = g_list_model_get_item (shown, i);

        if (g_strcmp0 (kh_record_item_get_id (record), household_id) == 0)
          {
            kh_record_picker_choose (picker, i);
            found = TRUE;
          }
      }
    g_assert_true (found);
  }
  /* The household chosen names the registration's subject. */
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (editor, "subject_name"))), ==, head);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      save_shot (GTK_WIDGET (editor), "picker-editor.png");
      gtk_popover_set_autohide (GTK_POPOVER (kh_record_picker_get_popover (picker)), FALSE);
      kh_record_picker_popup (picker);
      picker_search (picker, "nguyen");
      save_shot (kh_record_picker_get_popover (picker), "picker-household.png");
      gtk_popover_popdown (GTK_POPOVER (kh_record_picker_get_popover (picker)));
    }
  gtk_window_destroy (GTK_WINDOW (editor));

  /* Funds by their own names: no two alike. */
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_list", NULL, NULL));
  picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "fund_id"));
  n = picker_search (picker, "");
  g_assert_cmpuint (n, >, 1);
  titles = picker_titles (picker);
  g_hash_table_remove_all (seen);
  for (guint i = 0; i < titles->len; i++)
    {
      g_assert_false (g_hash_table_contains (seen, titles->pdata[i]));
      g_hash_table_add (seen, titles->pdata[i]);
    }
  g_assert_true (g_ptr_array_find_with_equal_func (titles, "Quỹ khuyến học xã Suối Hiệp", g_str_equal, NULL));
  g_clear_pointer (&titles, g_ptr_array_unref);
  /* An optional reference can be left empty. */
  g_assert_cmpstr (kh_record_picker_get_label (picker), ==, _("(none)"));
  gtk_window_destroy (GTK_WINDOW (editor));

  /* Funds every association calls "Quỹ khuyến học", as many do: told apart by their unit. */
  {
    g_autoptr(GPtrArray) funds = g_ptr_array_new_with_free_func (g_free);
    g_autofree char *expected = g_strdup_printf (_("%s — %s"), "Quỹ khuyến học", "Xã Suối Hiệp");

    stmt = kh_store_prepare (f->store, "SELECT id FROM fund WHERE deleted = 0", &error);
    g_assert_no_error (error);
    while (sqlite3_step (stmt) == SQLITE_ROW)
      g_ptr_array_add (funds, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
    sqlite3_reset (stmt);
    for (guint i = 0; i < funds->len; i++)
      {
        json_object *same = json_tokener_parse ("{\"name\": \"Quỹ khuyến học\"}");

        g_assert_true (kh_store_update (f->store, "fund", funds->pdata[i], same, &error));
        g_assert_no_error (error);
        json_object_put (same);
      }
    editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_list", NULL, NULL));
    picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "fund_id"));
    g_assert_cmpuint (picker_search (picker, ""), ==, funds->len);
    titles = picker_titles (picker);
    g_hash_table_remove_all (seen);
    for (guint i = 0; i < titles->len; i++)
      {
        g_assert_false (g_hash_table_contains (seen, titles->pdata[i]));
        g_hash_table_add (seen, titles->pdata[i]);
      }
    g_assert_true (g_ptr_array_find_with_equal_func (titles, expected, g_str_equal, NULL));
    g_clear_pointer (&titles, g_ptr_array_unref);
    gtk_window_destroy (GTK_WINDOW (editor));
  }

  /* People: more than a picker shows; it shows the first and says how many there are. */
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_entry", NULL, NULL));
  picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, "person_id"));
  n = picker_search (picker, "");
  g_assert_cmpuint (n, ==, KH_RECORD_PICKER_MAX_SHOWN);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (kh_record_picker_get_list (picker))), >, KH_RECORD_PICKER_MAX_SHOWN);
  g_assert_nonnull (kh_record_picker_get_status (picker));
  /* Only the rows asked for were read, a page or two, not every person. */
  g_assert_cmpuint (kh_record_list_get_n_cached (kh_record_picker_get_list (picker)), <=, 2 * KH_RECORD_LIST_PAGE_SIZE);
  gtk_window_destroy (GTK_WINDOW (editor));

  /* The people page's unit filter is the same picker. */
  {
    KhListPage *page;
    KhRecordList *rows;
    guint all;
    GtkWidget *filter;

    gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "people");
    page = KH_LIST_PAGE (kh_window_get_page (f->window, "people"));
    rows = kh_list_page_get_list (page);
    all = g_list_model_get_n_items (G_LIST_MODEL (rows));
    filter = kh_list_page_get_unit_filter (page);
    g_assert_true (KH_IS_RECORD_PICKER (filter));
    g_assert_cmpstr (kh_record_picker_get_label (KH_RECORD_PICKER (filter)), ==, _("All units"));
    g_assert_cmpuint (picker_search (KH_RECORD_PICKER (filter), "thon 1"), >, 0);
    kh_record_picker_choose (KH_RECORD_PICKER (filter), 0);
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), <, all);
    g_assert_true (kh_record_picker_set_selected_id (KH_RECORD_PICKER (filter), NULL));
    g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (rows)), ==, all);
  }
  kh_test_close_windows_but (GTK_WINDOW (f->window));
}

/* Chooses in @editor's picker for @field the record @id, found by typing @text as a person
 * would, and clicking it among the matches. */
static void
pick (KhRecordEditor *editor,
      const char     *field,
      const char     *text,
      const char     *id)
{
  KhRecordPicker *picker = KH_RECORD_PICKER (kh_record_editor_get_picker (editor, field));
  guint n = picker_search (picker, text);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(KhRecordItem) record = g_list_model_get_item (kh_record_picker_get_shown (picker), i);

      if (g_strcmp0 (kh_record_item_get_id (record), id) == 0)
        {
          kh_record_picker_choose (picker, i);
          g_assert_cmpstr (kh_record_picker_get_selected_id (picker), ==, id);
          return;
        }
    }
  g_error ("“%s” did not find %s in the %s picker", text, id, field);
}

static void
select_enum (KhRecordEditor *editor,
             const char     *entity,
             const char     *field,
             const char     *value)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup (entity), field);
  guint offset = (f->flags & KH_FIELD_FLAG_REQUIRED) ? 0 : 1;

  for (guint i = 0; f->enum_values[i] != NULL; i++)
    if (strcmp (f->enum_values[i], value) == 0)
      {
        adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, field)), i + offset);
        return;
      }
  g_error ("no %s in %s", value, field);
}

/* Saves @editor, which then closes, and gives the id of what it saved. */
static char *
save_editor (KhRecordEditor *editor)
{
  char *id;

  g_object_ref (editor);
  if (!kh_record_editor_save (editor))
    g_error ("saving failed: %s", kh_record_editor_get_error (editor));
  id = g_strdup (kh_record_editor_get_id (editor));
  g_object_unref (editor);
  return id;
}

static KhRecordEditor *
open_list_page (Fixture    *f,
                const char *id)
{
  KhRecordEditor *editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_list", id, NULL));

  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_set_default_size (GTK_WINDOW (editor), 640, 900);
  gtk_window_present (GTK_WINDOW (editor));
  return editor;
}

static char *
query_text (KhStore    *store,
            const char *sql,
            const char *arg)
{
  g_autoptr(GError) error = NULL;
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, &error);
  char *text = NULL;

  g_assert_no_error (error);
  if (arg != NULL)
    sqlite3_bind_text (stmt, 1, arg, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
    text = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return text;
}

static gboolean
count_row_cb (guint          row,
              const KhCell  *cells,
              guint          n_cells,
              gpointer       data,
              GError       **error)
{
  (*(guint *) data)++;
  return TRUE;
}

/* A scholarship list from creation to payment in the window alone: the list is made with the
 * unit and fund found by typing, entries are added with the person found by typing (the
 * recipient's name follows), the list's page counts and totals them, the list is approved in
 * its form, the signing sheet printed, the list exported (sensitive fields only when asked,
 * and then written to the audit), and the payment recorded. A picture of each step. */
static void
test_list_to_payment (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *commune = query_text (f->store, "SELECT id FROM org_unit WHERE name = 'Xã Suối Hiệp'", NULL);
  g_autofree char *fund = query_text (f->store, "SELECT id FROM fund WHERE org_unit_id = ?1", commune);
  g_autofree char *list = NULL;
  g_autofree char *today = NULL;
  g_autofree char *people[2] = { NULL, NULL };
  g_autofree char *names[2] = { NULL, NULL };
  g_autofree char *pdf = g_build_filename (f->dir, "list.pdf", NULL);
  g_autofree char *xlsx = g_build_filename (f->dir, "list.xlsx", NULL);
  g_autofree char *plain_csv = g_build_filename (f->dir, "plain.csv", NULL);
  g_autofree char *full_csv = g_build_filename (f->dir, "full.csv", NULL);
  g_autofree char *text = NULL;
  KhRecordEditor *editor, *entry;
  KhAwardListEntries *entries;
  KhAwardListWorkflow *workflow;
  GtkWidget *dialog;
  int n_pages = 0;
  guint n_rows = 0;

  g_assert_nonnull (commune);
  g_assert_nonnull (fund);
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();

    today = g_date_time_format (now, "%Y-%m-%d");
  }

  /* 1. The list, its unit and fund found by typing without accents. */
  editor = KH_RECORD_EDITOR (kh_record_editor_new (f->store, "award_list", NULL, NULL));
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (editor));
  set_text (editor, "title", "Học bổng Tết 2026 xã Suối Hiệp");
  select_enum (editor, "award_list", "occasion", "tet");
  set_text (editor, "school_year", "2025-2026");
  pick (editor, "org_unit_id", "suoi hiep", commune);
  pick (editor, "fund_id", "suoi hiep", fund);
  select_enum (editor, "award_list", "status", "draft");
  save_shot (GTK_WIDGET (editor), "list-1-new.png");
  list = save_editor (editor);

  /* 2. Its page: no entries yet, the steps with Record Payment not yet possible. */
  editor = open_list_page (f, list);
  entries = KH_AWARD_LIST_ENTRIES (kh_record_editor_get_entries (editor));
  workflow = KH_AWARD_LIST_WORKFLOW (kh_record_editor_get_workflow (editor));
  g_assert_nonnull (workflow);
  g_assert_cmpstr (kh_award_list_workflow_get_status (workflow), ==, "draft");
  g_assert_cmpuint (kh_award_list_entries_get_count (entries), ==, 0);
  g_assert_null (kh_workflow_bar_get_button (KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor)), "paid"));
  g_assert_false (kh_award_list_workflow_record_payment (workflow, today, NULL, NULL, &error));
  g_assert_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID);
  g_clear_error (&error);
  save_shot (GTK_WIDGET (editor), "list-2-page.png");

  /* 3. Two entries, each person found by a name typed without accents. */
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *folded = NULL;
      KhRecordPicker *picker;

      people[i] = query_text (f->store, i == 0 ? "SELECT id FROM person WHERE deleted = 0 ORDER BY rid LIMIT 1 OFFSET 10"
                                               : "SELECT id FROM person WHERE deleted = 0 ORDER BY rid LIMIT 1 OFFSET 20", NULL);
      names[i] = query_text (f->store, "SELECT full_name FROM person WHERE id = ?1", people[i]);
      folded = kh_fold (names[i]);
      entry = KH_RECORD_EDITOR (kh_award_list_entries_add (entries));
      pick (entry, "person_id", folded, people[i]);
      /* The person names the recipient. */
      g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (entry, "recipient_name"))), ==, names[i]);
      {
        g_autofree char *born = query_text (f->store, "SELECT birth_date FROM person WHERE id = ?1", people[i]);
        json_object *v = born ? json_object_new_string (born) : NULL;
        g_autofree char *shown = v ? kh_value_format (kh_entity_get_field (kh_entity_lookup ("award_entry"), "birth_date"), v) : NULL;

        /* And its date of birth, as the signing sheet shows it. */
        if (shown != NULL)
          g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (kh_record_editor_get_row (entry, "birth_date"))), ==, shown);
        json_object_put (v);
      }
      select_enum (entry, "award_entry", "category", i == 0 ? "hardship" : "merit");
      set_text (entry, "amount", i == 0 ? "1.500.000" : "2.000.000");
      if (i == 0)
        {
          set_text (entry, "reason", "Gia đình khó khăn, mẹ ốm nặng");
          picker = KH_RECORD_PICKER (kh_record_editor_get_picker (entry, "person_id"));
          save_shot (GTK_WIDGET (entry), "list-3-entry.png");
          /* Shown for its picture whatever takes the focus on a busy display (an autohiding
           * popover closes when its window loses it). */
          gtk_popover_set_autohide (GTK_POPOVER (kh_record_picker_get_popover (picker)), FALSE);
          kh_record_picker_popup (picker);
          picker_search (picker, folded);
          if (!gtk_widget_get_visible (kh_record_picker_get_popover (picker)))
            kh_record_picker_popup (picker);
          save_shot (kh_record_picker_get_popover (picker), "list-3-pick-person.png");
          gtk_popover_popdown (GTK_POPOVER (kh_record_picker_get_popover (picker)));
        }
      g_free (save_editor (entry));
    }
  /* The page counts and totals them. */
  g_assert_cmpuint (kh_award_list_entries_get_count (entries), ==, 2);
  g_assert_cmpint (kh_award_list_entries_get_total (entries), ==, 3500000);
  save_shot (GTK_WIDGET (editor), "list-4-entries.png");

  /* 4. Approved in the list's form (the steps' own buttons come with the approval rights). */
  select_enum (editor, "award_list", "status", "approved");
  g_free (save_editor (editor));
  editor = open_list_page (f, list);
  entries = KH_AWARD_LIST_ENTRIES (kh_record_editor_get_entries (editor));
  workflow = KH_AWARD_LIST_WORKFLOW (kh_record_editor_get_workflow (editor));
  g_assert_cmpstr (kh_award_list_workflow_get_status (workflow), ==, "approved");

  /* 5. The signing sheet, printed to a PDF by the same operation as Print…. */
  g_assert_true (kh_print_award_list (GTK_WINDOW (editor), f->store, list, pdf, &n_pages, &error));
  g_assert_no_error (error);
  g_assert_cmpint (n_pages, >=, 1);
  g_assert_true (g_file_test (pdf, G_FILE_TEST_EXISTS));
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL && g_find_program_in_path ("pdftoppm") != NULL)
    {
      g_autofree char *prefix = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "list-5-print", NULL);
      const char *argv[] = { "pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", pdf, prefix, NULL };
      int status = 0;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, NULL, NULL,
                                   &status, &error));
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }

  /* 6. Export: the dialog asks first, the sensitive fields off unless ticked. */
  dialog = kh_award_list_entries_open_export (entries);
  {
    GtkWidget *check = g_object_get_data (G_OBJECT (dialog), "include-sensitive");

    g_assert_true (GTK_IS_CHECK_BUTTON (check));
    g_assert_false (gtk_check_button_get_active (GTK_CHECK_BUTTON (check)));
    gtk_check_button_set_active (GTK_CHECK_BUTTON (check), TRUE);
    g_assert_true (gtk_widget_get_visible (g_object_get_data (G_OBJECT (dialog), "warning")));
    save_shot (dialog, "list-6-export.png");
    adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  }
  g_assert_true (kh_award_list_entries_export (entries, xlsx, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (kh_xlsx_read_file (xlsx, NULL, count_row_cb, &n_rows, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_rows, >=, 3);
  g_assert_true (kh_award_list_entries_export (entries, plain_csv, FALSE, &error));
  g_assert_true (g_file_get_contents (plain_csv, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, names[0]));
  g_assert_null (strstr (text, "mẹ ốm nặng"));
  g_clear_pointer (&text, g_free);
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE action = 'export'"), ==, 0);
  g_assert_true (kh_award_list_entries_export (entries, full_csv, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (full_csv, &text, NULL, NULL));
  g_assert_nonnull (strstr (text, "mẹ ốm nặng"));
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM audit WHERE action = 'export'"), ==, 1);

  /* 7. The payment, through its dialog: the date typed as shown (today by default). It is
   * paid from the fund, which a donor has just given the money for (kh-ledger.c refuses a
   * payment that would overdraw a fund). */
  {
    g_autofree char *unit = query_text (f->store, "SELECT org_unit_id FROM fund WHERE id = ?1", fund);
    g_autofree char *json = g_strdup_printf ("{\"fund_id\": \"%s\", \"org_unit_id\": \"%s\", "
                                             "\"donor_name\": \"Công ty Hồng Phát\", \"donated_on\": \"%s\", "
                                             "\"form\": \"cash\", \"amount\": 3500000}", fund, unit, today);
    json_object *values = json_tokener_parse (json);
    g_autofree char *donation = kh_store_create (f->store, "donation", values, &error);

    g_assert_no_error (error);
    g_assert_nonnull (donation);
    json_object_put (values);
  }
  /* Recorded from the list's steps: their Record Payment… opens the dialog. */
  {
    GtkWidget *pay = kh_workflow_bar_get_button (KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor)), "paid");
    GListModel *toplevels = gtk_window_get_toplevels ();

    g_assert_nonnull (pay);
    g_signal_emit_by_name (pay, "clicked");
    dialog = NULL;
    for (guint i = 0; dialog == NULL && i < g_list_model_get_n_items (toplevels); i++)
      {
        g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);

        if (ADW_IS_MESSAGE_DIALOG (w) && gtk_window_get_transient_for (w) == GTK_WINDOW (editor)
            && g_object_get_data (G_OBJECT (w), "voucher") != NULL)
          dialog = GTK_WIDGET (w);
      }
    g_assert_nonnull (dialog);
  }
  set_text_in (g_object_get_data (G_OBJECT (dialog), "voucher"), "PC-2026-017");
  save_shot (dialog, "list-7-payment.png");
  adw_message_dialog_response (ADW_MESSAGE_DIALOG (dialog), "pay");
  g_assert_cmpstr (kh_award_list_workflow_get_status (workflow), ==, "paid");
  g_assert_cmpint (kh_test_query_int (f->store, "SELECT count(*) FROM award_entry WHERE deleted = 0 AND status = 'paid'"
                                      " AND voucher_number = 'PC-2026-017' AND received_on = date('now', 'localtime')"), ==, 2);
  {
    g_autofree char *status = query_text (f->store, "SELECT status FROM award_list WHERE id = ?1", list);

    g_assert_cmpstr (status, ==, "paid");
  }
  /* One payment from the fund, linked to the list, for the list's total. */
  {
    g_autofree char *paid = query_text (f->store, "SELECT sum(amount) FROM disbursement WHERE deleted = 0 AND list_id = ?1", list);

    g_assert_cmpstr (paid, ==, "3500000");
  }
  /* The form shows the list paid; saving it again keeps it paid. */
  {
    const KhField *status = kh_entity_get_field (kh_entity_lookup ("award_list"), "status");

    g_assert_cmpstr (status->enum_values[adw_combo_row_get_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "status")))], ==, "paid");
  }
  g_assert_cmpuint (kh_award_list_entries_get_count (entries), ==, 2);
  save_shot (GTK_WIDGET (editor), "list-8-paid.png");
  kh_test_close_windows_but (GTK_WINDOW (f->window));
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
  KhConflict conflict = { 0 };
  g_autofree char *button_name = NULL;
  json_object *record;
  KhSyncPage *page;
  GtkWidget *button;
  gint64 seq;

  conflict.entity = (char *) "person";
  conflict.record_id = (char *) id;
  conflict.field = (char *) "phone";
  conflict.local = json_object_new_string ("0905111222");
  conflict.remote = json_object_new_string ("0905333444");
  conflict.remote_by = (char *) "canbo.xuandong";
  conflict.remote_at = (char *) "2026-11-27T08:30:00Z";
  seq = kh_replica_add_conflict (f->store, &conflict, &error);
  g_assert_no_error (error);
  json_object_put (conflict.local);
  json_object_put (conflict.remote);

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
  /* The page, which knows nothing of the window, still reaches its toast and its counts. */
  g_assert_cmpstr (kh_window_get_last_toast (f->window), ==, _("Conflict resolved"));
  g_assert_cmpint (kh_window_get_pending (f->window), ==, kh_store_count_pending (f->store));
  g_assert_cmpint (kh_replica_count_conflicts (f->store), ==, 0);
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

static void
run_idle (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* A province officer keeps the unit tree: today's province opens on its communes, a commune
 * shows the former communes it took over, a new school is added under it with the registry's
 * form and appears in the tree, and a former unit is recorded as merged into it. */
static void
test_unit_tree (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhUnitsPage *page;
  json_object *links;
  json_object *where = json_object_new_object ();
  json_object *record;
  const char *commune;
  const char *former;
  g_autofree char *new_id = NULL;
  KhRecordEditor *editor;
  guint shown;
  guint n_former;

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "unit-tree");
  page = KH_UNITS_PAGE (kh_window_get_page (f->window, "unit-tree"));
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  g_assert_false (kh_units_page_is_empty_shown (page));
  /* The first look: the three provinces (Khánh Hòa and Ninh Thuận before 01/07/2025, the
   * new Khánh Hòa after), today's selected and opened on its communes, wards and special zone. */
  record = kh_store_get (f->store, "org_unit", kh_units_page_get_selected_id (page), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "code")), ==, "56N");
  {
    json_object *w = json_object_new_object ();
    gint64 n_communes;

    json_object_object_add (w, "parent_id", json_object_get (json_object_object_get (record, "id")));
    n_communes = kh_store_count (f->store, "org_unit", &(KhQuery) { .where = w }, &error);
    g_assert_cmpint (n_communes, >, 10);
    g_assert_cmpuint (kh_units_page_get_n_shown (page), ==, 3 + n_communes);
    json_object_put (w);
  }
  json_object_put (record);

  /* A commune made on 01/07/2025 took over former communes. */
  links = kh_store_list (f->store, "unit_succession", &(KhQuery) { .limit = 1 }, &error);
  g_assert_no_error (error);
  commune = json_object_get_string (json_object_object_get (json_object_array_get_idx (links, 0), "successor_id"));
  former = json_object_get_string (json_object_object_get (json_object_array_get_idx (links, 0), "predecessor_id"));
  g_assert_true (kh_units_page_select_unit (page, commune));
  g_assert_cmpstr (kh_units_page_get_selected_id (page), ==, commune);
  n_former = kh_units_page_get_n_former (page);
  g_assert_cmpuint (n_former, >=, 1);
  g_assert_cmpuint (kh_units_page_get_n_successors (page), ==, 0);
  /* The former commune, under its old district, says what succeeded it. */
  g_assert_true (kh_units_page_select_unit (page, former));
  g_assert_cmpuint (kh_units_page_get_n_successors (page), ==, 1);
  g_assert_true (kh_units_page_select_unit (page, commune));

  /* Ctrl+N on this page: a new unit under the selected commune, through the registry's form. */
  shown = kh_units_page_get_n_shown (page);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.new-record", NULL);
  kh_test_close_windows_but (GTK_WINDOW (f->window));
  editor = KH_RECORD_EDITOR (kh_units_page_new_unit (page));
  set_text (editor, "code", "N001S9");
  /* An ampersand, as in real names, is shown as it is (the details are markup underneath). */
  set_text (editor, "name", "Trường Tiểu học Lê Văn Tám & Kim Đồng");
  /* A unit that ends before it begins is refused in the store's own words. */
  set_text (editor, "valid_from", "01/09/2026");
  set_text (editor, "valid_to", "01/09/2025");
  g_assert_false (kh_record_editor_save (editor));
  g_assert_nonnull (kh_record_editor_get_error (editor));
  set_text (editor, "valid_to", "");
  {
    const KhField *kind = kh_entity_get_field (kh_entity_lookup ("org_unit"), "kind");
    guint school = 0;

    while (g_strcmp0 (kind->enum_values[school], "school") != 0)
      school++;
    adw_combo_row_set_selected (ADW_COMBO_ROW (kh_record_editor_get_row (editor, "kind")), school);
  }
  g_object_ref (editor);
  if (!kh_record_editor_save (editor))
    g_error ("saving the unit failed: %s", kh_record_editor_get_error (editor));
  new_id = g_strdup (kh_record_editor_get_id (editor));
  g_assert_finalize_object (editor);
  run_idle ();
  record = kh_store_get (f->store, "org_unit", new_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "parent_id")), ==, commune);
  g_assert_cmpstr (json_object_get_string (json_object_object_get (record, "kind")), ==, "school");
  json_object_put (record);
  /* It is shown, opened under its commune, and selected. */
  g_assert_cmpstr (kh_units_page_get_selected_id (page), ==, new_id);
  g_assert_cmpuint (kh_units_page_get_n_shown (page), >, shown);

  /* Find a unit by name, without accents: Enter shows the first match in the tree. */
  g_assert_true (kh_units_page_select_unit (page, commune));
  {
    GtkWidget *search = kh_units_page_get_search_entry (page);

    gtk_editable_set_text (GTK_EDITABLE (search), "le van tam kim dong");
    g_signal_emit_by_name (search, "search-changed");
    g_assert_cmpuint (kh_units_page_get_n_found (page), ==, 1);
    g_signal_emit_by_name (search, "activate");
    g_assert_cmpstr (kh_units_page_get_selected_id (page), ==, new_id);
    g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (search)), ==, "");
    gtk_editable_set_text (GTK_EDITABLE (search), "nha trang");
    g_signal_emit_by_name (search, "search-changed");
    g_assert_cmpuint (kh_units_page_get_n_found (page), >=, 4);
    if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
      {
        g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "unit-tree-search.png", NULL);

        kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
        kh_widget_save_png (GTK_WIDGET (f->window), path, &error);
        g_assert_no_error (error);
      }
    gtk_editable_set_text (GTK_EDITABLE (search), "zzzz khong co");
    g_signal_emit_by_name (search, "search-changed");
    g_assert_cmpuint (kh_units_page_get_n_found (page), ==, 0);
    gtk_editable_set_text (GTK_EDITABLE (search), "");
    g_signal_emit_by_name (search, "search-changed");
  }

  /* Record a former unit taken over by the commune: a merge, dated the day it began. */
  g_assert_true (kh_units_page_select_unit (page, commune));
  json_object_object_add (where, "kind", json_object_new_string ("commune"));
  json_object_object_add (where, "valid_to", json_object_new_string ("2025-06-30"));
  {
    KhQuery query = { .where = where, .order_by = "code", .descending = TRUE, .limit = 1 };
    json_object *old = kh_store_list (f->store, "org_unit", &query, &error);
    const char *old_id = json_object_get_string (json_object_object_get (json_object_array_get_idx (old, 0),
                                                                         "id"));

    editor = KH_RECORD_EDITOR (kh_units_page_add_former_unit (page));
    g_assert_true (kh_record_editor_set_ref (editor, "predecessor_id", old_id));
    set_text (editor, "legal_basis", "Nghị quyết 1667/NQ-UBTVQH15");
    g_assert_true (kh_record_editor_save (editor));
    json_object_put (old);
  }
  run_idle ();
  g_assert_cmpuint (kh_units_page_get_n_former (page), ==, n_former + 1);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "unit-tree-succession.png", NULL);

      kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
      kh_widget_save_png (GTK_WIDGET (f->window), path, &error);
      g_assert_no_error (error);
    }

  /* Edit: the commune is renamed with an ampersand; the tree, its details and the overview's
   * "by unit" rows show it as plain text (markup would fail, fatally in this test). */
  g_assert_true (kh_units_page_select_unit (page, commune));
  editor = KH_RECORD_EDITOR (kh_units_page_edit_unit (page));
  set_text (editor, "name", "Phường Nha Trang & <Vĩnh Hải>");
  g_assert_true (kh_record_editor_save (editor));
  run_idle ();
  g_assert_cmpstr (kh_units_page_get_selected_id (page), ==, commune);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "overview");
  {
    GtkWidget *overview = kh_window_get_page (f->window, "overview");
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
    while (kh_overview_page_is_busy (KH_OVERVIEW_PAGE (overview)) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
    kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  }
  json_object_put (where);
  json_object_put (links);
  kh_test_close_windows_but (GTK_WINDOW (f->window));
}

/* A row of the unit tree says the unit's name over what it is, and a former unit is quieter. */
static void
test_unit_row (void)
{
  GtkWidget *row = g_object_ref_sink (kh_unit_row_new ());
  GtkWidget *title = gtk_widget_get_first_child (row);
  GtkWidget *detail = gtk_widget_get_next_sibling (title);

  g_assert_true (GTK_IS_LABEL (title));
  g_assert_true (GTK_IS_LABEL (detail));
  kh_unit_row_set_title (KH_UNIT_ROW (row), "Phường Nha Trang");
  kh_unit_row_set_detail (KH_UNIT_ROW (row), "Phường · 22333");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (title)), ==, "Phường Nha Trang");
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (detail)), ==, "Phường · 22333");
  g_assert_true (gtk_widget_has_css_class (detail, "dim-label"));
  g_assert_cmpfloat (gtk_widget_get_opacity (title), ==, 1.0);
  kh_unit_row_set_former (KH_UNIT_ROW (row), TRUE);
  g_assert_cmpfloat (gtk_widget_get_opacity (title), <, 1.0);
  kh_unit_row_set_former (KH_UNIT_ROW (row), FALSE);
  g_assert_cmpfloat (gtk_widget_get_opacity (title), ==, 1.0);
  kh_unit_row_set_title (KH_UNIT_ROW (row), NULL);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (title)), ==, "");
  g_assert_finalize_object (row);
}

/* What a conflict card said with its "resolve" signal. */
typedef struct
{
  guint  n;
  int    choice;
  char  *value;
} Resolved;

static void
resolve_cb (KhConflictCard *card,
            int             choice,
            const char     *value,
            Resolved       *resolved)
{
  resolved->n++;
  resolved->choice = choice;
  g_free (resolved->value);
  resolved->value = g_strdup (value);
}

/* The texts of @widget's labels, in the order a person reads them. */
static void
collect_labels (GtkWidget *widget,
                GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    g_ptr_array_add (texts, (gpointer) gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, texts);
}

/* The position of the first label that contains @text, or -1. */
static int
find_label (GPtrArray  *texts,
            const char *text)
{
  for (guint i = 0; i < texts->len; i++)
    if (strstr (texts->pdata[i], text) != NULL)
      return (int) i;
  return -1;
}

static GtkWidget *
find_named (GtkWidget  *widget,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}


/* A conflict card shows this computer's value before the server's, names the record and who
 * changed it, shows a reference by the name of what it points to, and says with "resolve"
 * which of Keep mine, Take theirs or a typed value a person chose. */
static void
test_conflict_card (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "kh.db", NULL);
  KhStore *store = kh_store_open (path, &error);
  g_autofree char *my_unit = NULL;
  g_autofree char *their_unit = NULL;
  g_autofree char *person_json = NULL;
  g_autofree char *person = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();
  KhConflict conflict = { 0 };
  Resolved resolved = { 0 };
  GtkWidget *window = gtk_window_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *card;
  GtkWidget *ref_card;
  GtkWidget *entry;
  int mine, theirs;

  g_assert_no_error (error);
  my_unit = kh_test_create (store, "org_unit", "{ \"code\": \"56\", \"name\": \"Tỉnh Khánh Hòa\","
                                                "  \"kind\": \"province\" }");
  their_unit = kh_test_create (store, "org_unit", "{ \"code\": \"54\", \"name\": \"Tỉnh Phú Yên\","
                                                   "  \"kind\": \"province\" }");
  person_json = g_strdup_printf ("{ \"full_name\": \"Nguyễn Văn An\", \"org_unit_id\": \"%s\" }",
                                 my_unit);
  person = kh_test_create (store, "person", person_json);

  conflict.seq = 7;
  conflict.entity = (char *) "person";
  conflict.record_id = person;
  conflict.field = (char *) "phone";
  conflict.local = json_object_new_string ("0905111222");
  conflict.remote = json_object_new_string ("0905333444");
  conflict.remote_by = (char *) "canbo.xuandong";
  conflict.remote_at = (char *) "2026-11-27T08:30:00Z";
  card = g_object_ref_sink (kh_conflict_card_new (store, &conflict));
  json_object_put (conflict.local);
  json_object_put (conflict.remote);

  conflict.seq = 8;
  conflict.field = (char *) "org_unit_id";
  conflict.local = json_object_new_string (my_unit);
  conflict.remote = json_object_new_string (their_unit);
  ref_card = g_object_ref_sink (kh_conflict_card_new (store, &conflict));
  json_object_put (conflict.local);
  json_object_put (conflict.remote);

  /* The card keeps its own copy of the conflict: the page resolves it after the caller's
   * values are gone. */
  g_assert_cmpint (kh_conflict_card_get_conflict (KH_CONFLICT_CARD (card))->seq, ==, 7);
  g_assert_cmpstr (kh_conflict_card_get_conflict (KH_CONFLICT_CARD (card))->field, ==, "phone");

  gtk_box_append (GTK_BOX (box), card);
  gtk_box_append (GTK_BOX (box), ref_card);
  gtk_window_set_child (GTK_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (window, 2);
  g_assert_true (gtk_widget_get_mapped (card));

  collect_labels (card, texts);
  g_assert_cmpint (find_label (texts, "Nguyễn Văn An"), >=, 0);
  mine = find_label (texts, "0905111222");
  theirs = find_label (texts, "0905333444");
  g_assert_cmpint (mine, >=, 0);
  g_assert_cmpint (theirs, >, mine);
  g_assert_cmpint (find_label (texts, "canbo.xuandong"), >, mine);

  /* A reference reads as the name of the unit, never as its id. */
  g_ptr_array_set_size (texts, 0);
  collect_labels (ref_card, texts);
  mine = find_label (texts, "Tỉnh Khánh Hòa");
  theirs = find_label (texts, "Tỉnh Phú Yên");
  g_assert_cmpint (mine, >=, 0);
  g_assert_cmpint (theirs, >, mine);
  g_assert_cmpint (find_label (texts, my_unit), ==, -1);
  g_assert_cmpint (find_label (texts, their_unit), ==, -1);

  g_signal_connect (card, "resolve", G_CALLBACK (resolve_cb), &resolved);
  g_signal_emit_by_name (find_named (card, "keep-mine-7"), "clicked");
  g_assert_cmpuint (resolved.n, ==, 1);
  g_assert_cmpint (resolved.choice, ==, KH_RESOLVE_MINE);
  g_assert_null (resolved.value);

  g_signal_emit_by_name (find_named (card, "take-theirs-7"), "clicked");
  g_assert_cmpuint (resolved.n, ==, 2);
  g_assert_cmpint (resolved.choice, ==, KH_RESOLVE_THEIRS);
  g_assert_null (resolved.value);

  /* A typed value goes out with Enter in the entry as with the button beside it. */
  entry = find_named (card, "entry-7");
  g_assert_true (GTK_IS_ENTRY (entry));
  gtk_editable_set_text (GTK_EDITABLE (entry), "0905999000");
  /* Enter in the entry makes its text field say "activate", which the entry passes on. */
  g_signal_emit_by_name (gtk_editable_get_delegate (GTK_EDITABLE (entry)), "activate");
  g_assert_cmpuint (resolved.n, ==, 3);
  g_assert_cmpint (resolved.choice, ==, KH_RESOLVE_VALUE);
  g_assert_cmpstr (resolved.value, ==, "0905999000");
  gtk_editable_set_text (GTK_EDITABLE (entry), "0905888000");
  g_signal_emit_by_name (find_named (card, "use-7"), "clicked");
  g_assert_cmpuint (resolved.n, ==, 4);
  g_assert_cmpint (resolved.choice, ==, KH_RESOLVE_VALUE);
  g_assert_cmpstr (resolved.value, ==, "0905888000");
  /* The other card's buttons are its own. */
  g_assert_null (find_named (card, "keep-mine-8"));
  g_assert_nonnull (find_named (ref_card, "keep-mine-8"));

  /* When resolving fails, the card says why under it. */
  g_ptr_array_set_size (texts, 0);
  collect_labels (card, texts);
  g_assert_cmpint (find_label (texts, "disk is full"), ==, -1);
  kh_conflict_card_show_error (KH_CONFLICT_CARD (card), "The disk is full.");
  g_ptr_array_set_size (texts, 0);
  collect_labels (card, texts);
  g_assert_cmpint (find_label (texts, "disk is full"), >, theirs);

  gtk_window_destroy (GTK_WINDOW (window));
  g_free (resolved.value);
  g_assert_finalize_object (card);
  g_assert_finalize_object (ref_card);
  g_assert_finalize_object (store);
  kh_test_rmdir (dir);
}

/* On a new computer with no units yet, the page says what to do first, and the first unit
 * added takes its place in the tree. */
static void
test_unit_tree_empty (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("kh-ui-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "kh.db", NULL);
  KhStore *store = kh_store_open (path, &error);
  GtkWidget *window = gtk_window_new ();
  KhUnitsPage *page = KH_UNITS_PAGE (kh_units_page_new (store));
  json_object *unit = json_object_new_object ();
  g_autofree char *id = NULL;

  g_assert_no_error (error);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (page));
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (window, 2);
  g_assert_true (kh_units_page_is_empty_shown (page));
  g_assert_null (kh_units_page_get_selected_id (page));

  json_object_object_add (unit, "code", json_object_new_string ("56"));
  json_object_object_add (unit, "name", json_object_new_string ("Tỉnh Khánh Hòa"));
  json_object_object_add (unit, "kind", json_object_new_string ("province"));
  id = kh_store_create (store, "org_unit", unit, &error);
  g_assert_no_error (error);
  json_object_put (unit);
  run_idle ();
  g_assert_false (kh_units_page_is_empty_shown (page));
  g_assert_cmpuint (kh_units_page_get_n_shown (page), ==, 1);
  g_assert_cmpstr (kh_units_page_get_selected_id (page), ==, id);

  g_object_ref (page);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (page);
  g_assert_finalize_object (store);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);

    g_unlink (path);
    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (dir);
  }
}

/* A sync engine behind the seam, signed in, whose next sync fails with @fail or has the server
 * refuse the last change of @refuse_id (as the engine marks it in the outbox). */
#define KH_TYPE_FAKE_CLIENT (kh_fake_client_get_type ())
G_DECLARE_FINAL_TYPE (KhFakeClient, kh_fake_client, KH, FAKE_CLIENT, GObject)

struct _KhFakeClient
{
  GObject   parent_instance;
  KhStore  *store;
  GError   *fail;
  char     *refuse_id;
  char     *refuse_reason;
  gboolean  done;
  char     *erased_id;     /* what the window asked to erase, and why */
  char     *erased_reason;
  int       signed_out;
};

static void kh_fake_client_iface_init (KhSyncClientInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhFakeClient, kh_fake_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KH_TYPE_SYNC_CLIENT, kh_fake_client_iface_init))

enum { FAKE_PROP_0, FAKE_PROP_STATE, FAKE_PROP_PROGRESS, FAKE_PROP_LAST_SYNC, FAKE_PROP_MESSAGE };

static void
fake_sync_async (KhSyncClient        *client,
                 GCancellable        *cancellable,
                 GAsyncReadyCallback  callback,
                 gpointer             user_data)
{
  KhFakeClient *self = KH_FAKE_CLIENT (client);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  self->done = FALSE;
  if (self->refuse_id != NULL)
    {
      sqlite3_stmt *stmt = kh_store_prepare (self->store,
                                             "UPDATE outbox SET state = 'rejected', reason = ?1 WHERE seq = "
                                             "(SELECT max(seq) FROM outbox WHERE record_id = ?2)", NULL);

      g_assert_nonnull (stmt);
      sqlite3_bind_text (stmt, 1, self->refuse_reason, -1, SQLITE_TRANSIENT);
      sqlite3_bind_text (stmt, 2, self->refuse_id, -1, SQLITE_TRANSIENT);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
      sqlite3_reset (stmt);  /* the store keeps its statements */
    }
  if (self->fail != NULL)
    g_task_return_error (task, g_error_copy (self->fail));
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
fake_sync_finish (KhSyncClient  *client,
                  GAsyncResult  *result,
                  GError       **error)
{
  KH_FAKE_CLIENT (client)->done = TRUE;
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
fake_sign_out (KhSyncClient  *client,
               GError       **error)
{
  KH_FAKE_CLIENT (client)->signed_out++;
  return TRUE;
}

static void
fake_erase_async (KhSyncClient        *client,
                  const char          *entity,
                  const char          *id,
                  const char          *reason,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  KhFakeClient *self = KH_FAKE_CLIENT (client);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_assert_cmpstr (entity, ==, "person");
  self->erased_id = g_strdup (id);
  self->erased_reason = g_strdup (reason);
  g_task_return_boolean (task, TRUE);
}

static gboolean
fake_erase_finish (KhSyncClient  *client,
                   GAsyncResult  *result,
                   GError       **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
kh_fake_client_iface_init (KhSyncClientInterface *iface)
{
  iface->sync_async = fake_sync_async;
  iface->sync_finish = fake_sync_finish;
  iface->erase_async = fake_erase_async;
  iface->erase_finish = fake_erase_finish;
  iface->sign_out = fake_sign_out;
}

static void
kh_fake_client_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  switch (prop_id)
    {
    case FAKE_PROP_STATE:
      g_value_set_enum (value, KH_SYNC_CLIENT_STATE_IDLE);
      break;
    case FAKE_PROP_PROGRESS:
      g_value_set_double (value, 0);
      break;
    case FAKE_PROP_LAST_SYNC:
      g_value_set_boxed (value, NULL);
      break;
    case FAKE_PROP_MESSAGE:
      g_value_set_string (value, NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_fake_client_finalize (GObject *object)
{
  KhFakeClient *self = KH_FAKE_CLIENT (object);

  g_clear_error (&self->fail);
  g_free (self->refuse_id);
  g_free (self->refuse_reason);
  g_free (self->erased_id);
  g_free (self->erased_reason);
  G_OBJECT_CLASS (kh_fake_client_parent_class)->finalize (object);
}

static void
kh_fake_client_class_init (KhFakeClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kh_fake_client_get_property;
  object_class->finalize = kh_fake_client_finalize;
  g_object_class_override_property (object_class, FAKE_PROP_STATE, "state");
  g_object_class_override_property (object_class, FAKE_PROP_PROGRESS, "progress");
  g_object_class_override_property (object_class, FAKE_PROP_LAST_SYNC, "last-sync");
  g_object_class_override_property (object_class, FAKE_PROP_MESSAGE, "message");
}

static void
kh_fake_client_init (KhFakeClient *self)
{
}

static void
sync_with (Fixture      *f,
           KhFakeClient *client)
{
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sync", NULL);
  while (!client->done)
    g_main_context_iteration (NULL, TRUE);
  run_idle ();
}

/* A failed sync is said in words a person can act on: offline, with how many changes wait; an
 * expired sign-in, with what to do; changes the server refused, with its reason, listed on the
 * Sync page where each can be given up. */
static void
test_sync_errors (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(KhFakeClient) client = g_object_new (KH_TYPE_FAKE_CLIENT, NULL);
  g_autoptr(GError) error = NULL;
  json_object *people = kh_store_list (f->store, "person", &(KhQuery) { .limit = 1 }, &error);
  const char *person = json_object_get_string (json_object_object_get (json_object_array_get_idx (people, 0), "id"));
  g_autofree char *expected = NULL;
  g_autofree char *button_name = NULL;
  KhSyncPage *page;
  gint64 pending;

  client->store = f->store;
  kh_window_set_sync_client (f->window, KH_SYNC_CLIENT (client));
  kh_window_update_counts (f->window);
  pending = kh_window_get_pending (f->window);
  g_assert_cmpint (pending, >, 1);

  client->fail = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE,
                                      "Could not reach the server at https://hoi.test: Couldn't connect to server");
  sync_with (f, client);
  {
    g_autofree char *count = kh_format_number_style (pending, KH_FORMAT_AUTO);

    expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                             "You are offline or the server cannot be reached; "
                                             "%s change will be sent when connected.",
                                             "You are offline or the server cannot be reached; "
                                             "%s changes will be sent when connected.",
                                             (gulong) pending), count);
  }
  g_assert_cmpstr (kh_window_get_last_toast (f->window), ==, expected);

  g_clear_error (&client->fail);
  client->fail = g_error_new_literal (KH_SYNC_ERROR, KH_SYNC_ERROR_UNAUTHORIZED, "token expired");
  sync_with (f, client);
  g_assert_cmpstr (kh_window_get_last_toast (f->window), ==,
                   _("The server no longer accepts your sign-in. Sign in again; your changes "
                     "are kept until then."));

  g_clear_error (&client->fail);
  client->refuse_id = g_strdup (person);
  client->refuse_reason = g_strdup ("Số điện thoại: số này không hợp lệ.");
  sync_with (f, client);
  g_free (expected);
  expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The server refused %d change: %s",
                                           "The server refused %d changes: %s", 1), 1, client->refuse_reason);
  g_assert_cmpstr (kh_window_get_last_toast (f->window), ==, expected);
  g_clear_pointer (&client->refuse_id, g_free);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "sync");
  page = KH_SYNC_PAGE (kh_window_get_page (f->window, "sync"));
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 2);
  g_assert_cmpuint (kh_sync_page_get_n_refused (page), ==, 1);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *path = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "sync-refused.png", NULL);

      kh_widget_save_png (GTK_WIDGET (f->window), path, &error);
      g_assert_no_error (error);
    }
  button_name = g_strdup_printf ("give-up-%s", person);
  g_signal_emit_by_name (kh_sync_page_find_refused_widget (page, button_name), "clicked");
  g_assert_cmpuint (kh_sync_page_get_n_refused (page), ==, 0);
  g_assert_cmpint (kh_replica_count_rejected (f->store), ==, 0);
  g_assert_cmpstr (kh_window_get_last_toast (f->window), ==,
                   _("The change was given up; the server’s version is back"));
  json_object_put (people);
  kh_window_set_sync_client (f->window, NULL);
}

static GtkWidget *
find_action_button (GtkWidget  *widget,
                    const char *action)
{
  if (GTK_IS_ACTIONABLE (widget) && g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (widget)), action) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_action_button (child, action);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The dialog asking to sign out, shown over @window, or NULL. */
static AdwMessageDialog *
sign_out_dialog (KhWindow *window)
{
  GListModel *toplevels = gtk_window_get_toplevels ();  /* not ours */

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWidget) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_MESSAGE_DIALOG (w) && g_strcmp0 (gtk_widget_get_name (w), "sign-out-dialog") == 0
          && gtk_window_get_transient_for (GTK_WINDOW (w)) == GTK_WINDOW (window)
          && gtk_widget_get_visible (w))
        return ADW_MESSAGE_DIALOG (w);
    }
  return NULL;
}

/* A person's form offers to erase their data, which goes to the server through the window's
 * sync client; with no server to ask, the form says so and nothing is erased. */
static void
test_erase_person (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(KhFakeClient) client = g_object_new (KH_TYPE_FAKE_CLIENT, NULL);
  g_autoptr(GError) error = NULL;
  json_object *people = kh_store_list (f->store, "person", &(KhQuery) { .limit = 1 }, &error);
  const char *person = json_object_get_string (json_object_object_get (json_object_array_get_idx (people, 0), "id"));
  GtkWidget *editor;

  /* No sync client: refused, in words. */
  editor = kh_record_editor_new (f->store, "person", person, NULL);
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (editor));
  g_assert_true (gtk_widget_get_visible (find_action_button (editor, "editor.erase")));
  g_assert_false (kh_record_editor_erase (KH_RECORD_EDITOR (editor), "Gia đình yêu cầu"));
  gtk_window_destroy (GTK_WINDOW (editor));

  client->store = f->store;
  kh_window_set_sync_client (f->window, KH_SYNC_CLIENT (client));
  editor = kh_record_editor_new (f->store, "person", person, NULL);
  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
  gtk_window_present (GTK_WINDOW (editor));
  g_assert_true (kh_record_editor_erase (KH_RECORD_EDITOR (editor), "Gia đình yêu cầu"));
  while (client->erased_id == NULL)
    g_main_context_iteration (NULL, TRUE);
  run_idle ();
  g_assert_cmpstr (client->erased_id, ==, person);
  g_assert_cmpstr (client->erased_reason, ==, "Gia đình yêu cầu");

  /* Withdrawing a consent erases the person: the form says so before it saves. */
  {
    json_object *second = kh_store_list (f->store, "person", &(KhQuery) { .limit = 1, .offset = 1 }, &error);
    const char *guardian = json_object_get_string (json_object_object_get (json_object_array_get_idx (second, 0), "id"));
    g_autofree char *json = g_strdup_printf ("{\"person_id\": \"%s\", \"org_unit_id\": \"%s\", \"person_name\": \"X\", "
                                             "\"given_by\": \"both\", \"guardian_id\": \"%s\", \"purpose\": \"Học bổng\", "
                                             "\"given_on\": \"2020-01-01\"}", person,
                                             json_object_get_string (json_object_object_get (json_object_array_get_idx (people, 0), "org_unit_id")),
                                             guardian);
    g_autofree char *consent = kh_test_create (f->store, "consent", json);
    GList *windows;
    AdwMessageDialog *dialog = NULL;
    json_object *stored;

    editor = kh_record_editor_new (f->store, "consent", consent, NULL);
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (f->window));
    gtk_window_present (GTK_WINDOW (editor));
    set_text (KH_RECORD_EDITOR (editor), "withdrawn_on", "02/03/2026");
    g_assert_false (kh_record_editor_save (KH_RECORD_EDITOR (editor)));
    stored = kh_store_get (f->store, "consent", consent, NULL);
    g_assert_null (json_object_object_get (stored, "withdrawn_on"));
    json_object_put (stored);
    windows = gtk_window_list_toplevels ();
    for (GList *l = windows; l != NULL; l = l->next)
      if (ADW_IS_MESSAGE_DIALOG (l->data))
        dialog = l->data;
    g_list_free (windows);
    g_assert_nonnull (dialog);
    adw_message_dialog_response (dialog, "withdraw");
    run_idle ();
    stored = kh_store_get (f->store, "consent", consent, NULL);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (stored, "withdrawn_on")), ==, "2026-03-02");
    json_object_put (stored);
    json_object_put (second);
  }
  json_object_put (people);
  kh_window_set_sync_client (f->window, NULL);
}

/* Signing out with changes not yet sent asks first, saying how many and what losing the
 * database or its key would mean; staying signed in changes nothing. With nothing waiting,
 * it signs out at once. */
static void
test_sign_out_warns (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(KhFakeClient) client = g_object_new (KH_TYPE_FAKE_CLIENT, NULL);
  AdwMessageDialog *dialog;
  g_autofree char *count = NULL;
  g_autofree char *expected = NULL;

  client->store = f->store;
  kh_window_set_sync_client (f->window, KH_SYNC_CLIENT (client));
  kh_window_update_counts (f->window);
  g_assert_cmpint (kh_window_get_pending (f->window), >, 1);
  count = kh_format_number_style (kh_window_get_pending (f->window), KH_FORMAT_AUTO);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sign-out", NULL);
  run_idle ();
  dialog = sign_out_dialog (f->window);
  g_assert_nonnull (dialog);
  g_assert_cmpint (client->signed_out, ==, 0);
  expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "%s change has not been sent to the server. It stays in "
                                           "this computer’s encrypted database and is sent when you "
                                           "sign in again; if that database or its key is lost, the "
                                           "server cannot give it back.",
                                           "%s changes have not been sent to the server. They stay "
                                           "in this computer’s encrypted database and are sent when "
                                           "you sign in again; if that database or its key is lost, "
                                           "the server cannot give them back.",
                                           (gulong) kh_window_get_pending (f->window)), count);
  g_assert_cmpstr (adw_message_dialog_get_body (dialog), ==, expected);
  adw_message_dialog_response (dialog, "cancel");
  run_idle ();
  g_assert_cmpint (client->signed_out, ==, 0);

  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sign-out", NULL);
  run_idle ();
  dialog = sign_out_dialog (f->window);
  g_assert_nonnull (dialog);
  adw_message_dialog_response (dialog, "sign-out");
  run_idle ();
  g_assert_cmpint (client->signed_out, ==, 1);

  /* Nothing waiting: no question. */
  g_assert_cmpint (sqlite3_exec (kh_store_get_db (f->store), "DELETE FROM outbox", NULL, NULL, NULL), ==, SQLITE_OK);
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.sign-out", NULL);
  run_idle ();
  g_assert_cmpint (client->signed_out, ==, 2);
  kh_window_set_sync_client (f->window, NULL);
}

/* The action a key combination is bound to on @widget, or NULL. */
static char *
bound_action (GtkWidget  *widget,
              const char *accel)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);
  g_autoptr(GListModel) controllers = gtk_widget_observe_controllers (widget);

  g_assert_nonnull (wanted);
  for (guint i = 0; i < g_list_model_get_n_items (controllers); i++)
    {
      g_autoptr(GObject) controller = g_list_model_get_item (controllers, i);

      if (!GTK_IS_SHORTCUT_CONTROLLER (controller))
        continue;
      for (guint j = 0; j < g_list_model_get_n_items (G_LIST_MODEL (controller)); j++)
        {
          g_autoptr(GtkShortcut) shortcut = g_list_model_get_item (G_LIST_MODEL (controller), j);
          GtkShortcutAction *action = gtk_shortcut_get_action (shortcut);

          if (gtk_shortcut_trigger_equal (gtk_shortcut_get_trigger (shortcut), wanted)
              && GTK_IS_NAMED_ACTION (action))
            return g_strdup (gtk_named_action_get_action_name (GTK_NAMED_ACTION (action)));
        }
    }
  return NULL;
}

static gboolean
overlay_lists (GPtrArray  *listed,
               const char *accel)
{
  g_autoptr(GtkShortcutTrigger) wanted = gtk_shortcut_trigger_parse_string (accel);

  for (guint i = 0; i < listed->len; i++)
    if (gtk_shortcut_trigger_equal (listed->pdata[i], wanted))
      return TRUE;
  return FALSE;
}

static gboolean
has_toplevel (GType type)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GObject) w = g_list_model_get_item (toplevels, i);

      if (G_TYPE_CHECK_INSTANCE_TYPE (w, type))
        return TRUE;
    }
  return FALSE;
}

/* The keys the issue promises (Ctrl+F search, Ctrl+N new, Ctrl+W close, F5 or Ctrl+R sync,
 * Ctrl+? shortcuts) are bound to the actions that do the work, those actions do it, and the
 * shortcuts window lists every key the window binds. */
static void
test_shortcuts (Fixture       *f,
                gconstpointer  data)
{
  static const struct { const char *accel; const char *action; } promised[] = {
    { "<Control>f", "win.search" },
    { "<Control>n", "win.new-record" },
    { "<Control>w", "window.close" },
    { "F5", "win.sync" },
    { "<Control>r", "win.sync" },
    { "<Control>comma", "win.preferences" },
    { "<Control>i", "win.import-list" },
    { "<Control>p", "win.print-list" },
  };
  g_autoptr(GtkBuilder) builder = NULL;
  g_autoptr(GPtrArray) listed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  KhListPage *page;
  GtkWidget *focus;
  GSList *objects;

  for (guint i = 0; i < G_N_ELEMENTS (promised); i++)
    {
      g_autofree char *action = bound_action (GTK_WIDGET (f->window), promised[i].accel);

      g_assert_cmpstr (action, ==, promised[i].action);
    }

  /* Ctrl+F puts the cursor in the list's search. */
  page = scholarships_page (f);
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 1);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.search", NULL));
  focus = gtk_root_get_focus (GTK_ROOT (f->window));
  g_assert_nonnull (focus);
  g_assert_true (focus == kh_list_page_get_search_entry (page)
                 || gtk_widget_is_ancestor (focus, kh_list_page_get_search_entry (page)));
  /* Ctrl+N opens a new form, on a list and on the unit tree. */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.new-record", NULL));
  g_assert_true (has_toplevel (KH_TYPE_RECORD_EDITOR));
  kh_test_close_windows_but (GTK_WINDOW (f->window));
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "unit-tree");
  kh_widget_wait_for_paint (GTK_WIDGET (f->window), 1);
  /* Ctrl+F on the unit tree puts the cursor in its "find a unit". */
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.search", NULL));
  focus = gtk_root_get_focus (GTK_ROOT (f->window));
  g_assert_nonnull (focus);
  g_assert_true (gtk_widget_is_ancestor (focus, kh_units_page_get_search_entry (KH_UNITS_PAGE (
    kh_window_get_page (f->window, "unit-tree")))));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (f->window), "win.new-record", NULL));
  g_assert_true (has_toplevel (KH_TYPE_RECORD_EDITOR));
  kh_test_close_windows_but (GTK_WINDOW (f->window));

  /* The shortcuts window lists each of them, and the application's own. */
  builder = gtk_builder_new_from_resource ("/vn/khuyenhoc/KhuyenHoc/gtk/help-overlay.ui");
  objects = gtk_builder_get_objects (builder);
  for (GSList *l = objects; l != NULL; l = l->next)
    if (GTK_IS_SHORTCUTS_SHORTCUT (l->data))
      {
        g_autofree char *accels = NULL;
        g_auto(GStrv) parts = NULL;

        g_object_get (l->data, "accelerator", &accels, NULL);
        parts = g_strsplit (accels ? accels : "", " ", -1);
        for (guint i = 0; parts[i] != NULL; i++)
          if (*parts[i] != '\0')
            {
              GtkShortcutTrigger *trigger = gtk_shortcut_trigger_parse_string (parts[i]);

              g_assert_nonnull (trigger);
              g_ptr_array_add (listed, trigger);
            }
      }
  g_slist_free (objects);
  for (guint i = 0; i < G_N_ELEMENTS (promised); i++)
    if (!overlay_lists (listed, promised[i].accel))
      g_error ("the shortcuts window does not list %s", promised[i].accel);
  g_assert_true (overlay_lists (listed, "<Control>question"));
  g_assert_true (overlay_lists (listed, "<Control>q"));
  g_assert_true (overlay_lists (listed, "<Control>s"));
  gtk_window_destroy (GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay")));

  /* Ctrl+? and Ctrl+Q belong to the application, which sets them when it starts. */
  {
    g_autoptr(KhApplication) app = kh_application_new ();
    g_auto(GStrv) help = NULL;
    g_auto(GStrv) quit = NULL;

    g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
    g_assert_no_error (error);
    help = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "win.show-help-overlay");
    quit = gtk_application_get_accels_for_action (GTK_APPLICATION (app), "app.quit");
    g_assert_true (g_strv_contains ((const char * const *) help, "<Control>question"));
    g_assert_true (g_strv_contains ((const char * const *) quit, "<Control>q"));
  }
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
  {
    g_autofree char *count = kh_format_number_style (kh_window_get_pending (f->window), KH_FORMAT_AUTO);

    expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Offline with %s change waiting",
                                             "Offline with %s changes waiting",
                                             (gulong) kh_window_get_pending (f->window)),
                                count);
    /* Thousands are grouped as the language writes them: 3.000 in Vietnamese, 3,000 in English. */
    if (kh_window_get_pending (f->window) >= 1000)
      g_assert_nonnull (strstr (expected, g_str_has_prefix (g_getenv ("LANGUAGE") ? g_getenv ("LANGUAGE") : "", "vi")
                                          ? "." : ","));
  }
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
  kh_test_close_windows_but (GTK_WINDOW (f->window));
  kh_window_set_sync_client (f->window, NULL);
  g_assert_cmpint (kh_window_get_sync_state (f->window), ==, KH_SYNC_CLIENT_STATE_UNAVAILABLE);
}

/* The first AdwStatusPage under @widget. */
static AdwStatusPage *
find_status_page (GtkWidget *widget)
{
  if (ADW_IS_STATUS_PAGE (widget) && gtk_widget_get_visible (widget))
    return ADW_STATUS_PAGE (widget);
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      AdwStatusPage *found = find_status_page (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
is_vietnamese (void)
{
  return g_str_has_prefix (g_getenv ("LANGUAGE") ? g_getenv ("LANGUAGE") : "", "vi");
}

/* The button (shown or not) whose label is @label, under @widget. */
static GtkWidget *
find_button (GtkWidget  *widget,
                         const char *label)
{
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_button (child, label);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A first run: no account and no record. The Overview offers to sign in (which opens the
 * sign-in dialog) or to work offline (which shows the figures); a replica with records, or
 * signed in, never shows the welcome. */
static void
test_first_run (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "kh.db", NULL);
  const char *shots = g_getenv ("KH_SCREENSHOT_DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open (path, &error);
  g_autoptr(KhEngineClient) client = NULL;
  KhWindow *window;
  KhOverviewPage *page;
  GtkWidget *sign_in;
  gint64 start;

  g_assert_no_error (error);
  client = kh_engine_client_new (store, NULL);
  window = kh_window_new (NULL, store);
  kh_window_set_sync_client (window, KH_SYNC_CLIENT (client));
  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 720);
  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "overview");
  page = KH_OVERVIEW_PAGE (kh_window_get_page (window, "overview"));
  start = g_get_monotonic_time ();
  while (kh_overview_page_is_busy (page) && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  g_assert_true (kh_overview_page_is_first_run_shown (page));
  if (shots != NULL)
    {
      g_autofree char *file = g_build_filename (shots, "first-run.png", NULL);

      g_mkdir_with_parents (shots, 0755);
      g_assert_true (kh_widget_save_png (GTK_WIDGET (window), file, &error));
      g_assert_no_error (error);
    }

  /* Sign In opens the sign-in dialog. */
  sign_in = find_button (GTK_WIDGET (page), _("_Sign In…"));
  g_assert_nonnull (sign_in);
  g_assert_true (gtk_widget_get_visible (sign_in));
  g_signal_emit_by_name (sign_in, "clicked");
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
  kh_test_close_windows_but (GTK_WINDOW (window));

  /* Without an engine there is no one to sign in with: only Work Offline is offered. */
  kh_window_set_sync_client (window, NULL);
  g_assert_true (kh_overview_page_is_first_run_shown (page));
  g_assert_false (gtk_widget_get_visible (sign_in));

  /* An empty list says so in plain words. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "models");
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  {
    AdwStatusPage *empty = find_status_page (kh_window_get_page (window, "models"));

    g_assert_nonnull (empty);
    if (is_vietnamese ())
      g_assert_cmpstr (adw_status_page_get_title (empty), ==, "Chưa có đăng ký nào");
  }
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "overview");

  /* Work Offline shows the (empty) figures. */
  g_signal_emit_by_name (find_button (GTK_WIDGET (page), _("_Work Offline")), "clicked");
  g_assert_false (kh_overview_page_is_first_run_shown (page));

  g_object_ref (window);
  gtk_window_destroy (GTK_WINDOW (window));
  g_assert_finalize_object (window);
  g_clear_object (&client);
  g_assert_finalize_object (g_steal_pointer (&store));
  kh_test_rmdir (dir);
}

/* Words a person reads: the shortcuts window's title is translated, the preferences window
 * bears the menu item's name, a recognition's title is its honour and an empty list reads as
 * Vietnamese does ("Chưa có đăng ký nào"). */
static void
test_words (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GtkBuilder) builder = gtk_builder_new_from_resource ("/vn/khuyenhoc/KhuyenHoc/gtk/help-overlay.ui");
  GtkWindow *shortcuts = GTK_WINDOW (gtk_builder_get_object (builder, "help_overlay"));
  const KhField *title = kh_entity_get_field (kh_entity_lookup ("recognition"), "title");
  g_autofree char *menu = g_strdup (_("_Preferences"));
  GtkWindow *prefs = NULL;
  GListModel *toplevels;

  g_assert_cmpstr (gtk_window_get_title (shortcuts), ==, _("Keyboard Shortcuts"));
  gtk_window_destroy (shortcuts);

  /* The menu item's label, without its mnemonic, is the window's title. */
  {
    GString *plain = g_string_new (menu);

    g_string_replace (plain, "_", "", 0);
    g_free (menu);
    menu = g_string_free (plain, FALSE);
  }
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.preferences", NULL);
  toplevels = gtk_window_get_toplevels ();
  for (guint i = 0; i < g_list_model_get_n_items (toplevels); i++)
    {
      g_autoptr(GtkWindow) w = g_list_model_get_item (toplevels, i);

      if (ADW_IS_PREFERENCES_WINDOW (w))
        prefs = w;
    }
  g_assert_nonnull (prefs);
  g_assert_cmpstr (gtk_window_get_title (prefs), ==, menu);
  kh_test_close_windows_but (GTK_WINDOW (f->window));

  g_assert_nonnull (title);
  if (is_vietnamese ())
    {
      g_assert_cmpstr (menu, ==, "Tùy chọn");
      g_assert_cmpstr (_(title->label), ==, "Danh hiệu");
      g_assert_cmpstr (_("Keyboard Shortcuts"), ==, "Phím tắt");
    }
}

/* A replica with records shows its figures, signed in or not. */
static void
test_not_first_run (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(KhEngineClient) client = kh_engine_client_new (f->store, NULL);
  KhOverviewPage *page;
  gint64 start;

  kh_window_set_sync_client (f->window, KH_SYNC_CLIENT (client));
  gtk_widget_activate_action (GTK_WIDGET (f->window), "win.show-page", "s", "overview");
  page = KH_OVERVIEW_PAGE (kh_window_get_page (f->window, "overview"));
  start = g_get_monotonic_time ();
  while (kh_overview_page_is_busy (page) && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (kh_overview_page_is_first_run_shown (page));
  kh_window_set_sync_client (f->window, NULL);
}

/* The chart draws its words through cairo. Its layouts put glyphs on whole pixels with hinted
 * advances: with GTK's unhinted ones, in the Overview's chart the antialiased edges of "c"
 * and "l" met and "Learning clan" read "Learning dan" (seen in the Overview's screenshot). */
static void
test_chart_text (void)
{
  GtkWidget *window = gtk_window_new ();
  GtkWidget *area = gtk_drawing_area_new ();
  g_autoptr(PangoLayout) chart = NULL;
  g_autoptr(PangoLayout) plain = NULL;
  const cairo_font_options_t *options;

  kh_text_rendering_setup (gdk_display_get_default ());
  gtk_window_set_child (GTK_WINDOW (window), area);
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (window, 1);
  chart = kh_figures_view_create_chart_layout (area, _("Learning clan"));
  plain = gtk_widget_create_pango_layout (area, _("Learning clan"));
  g_assert_cmpstr (pango_layout_get_text (chart), ==, _("Learning clan"));
  g_assert_true (pango_context_get_round_glyph_positions (pango_layout_get_context (chart)));
  options = pango_cairo_context_get_font_options (pango_layout_get_context (chart));
  g_assert_nonnull (options);
  g_assert_cmpint (cairo_font_options_get_hint_metrics (options), ==, CAIRO_HINT_METRICS_ON);
  /* GTK's own layout is what drew the chart before: unhinted advances. */
  options = pango_cairo_context_get_font_options (pango_layout_get_context (plain));
  g_assert_true (options == NULL || cairo_font_options_get_hint_metrics (options) != CAIRO_HINT_METRICS_ON);
  gtk_window_destroy (GTK_WINDOW (window));
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
  g_test_add ("/ui/window/award-list-page", Fixture, NULL, fixture_set_up, test_award_list_page, fixture_tear_down);
  g_test_add ("/ui/window/pickers", Fixture, NULL, fixture_set_up, test_pickers, fixture_tear_down);
  g_test_add ("/ui/window/picker-search", Fixture, NULL, fixture_set_up, test_picker_search, fixture_tear_down);
  g_test_add ("/ui/window/list-to-payment", Fixture, NULL, fixture_set_up, test_list_to_payment, fixture_tear_down);
  g_test_add ("/ui/window/conflict", Fixture, NULL, fixture_set_up, test_conflict_page, fixture_tear_down);
  g_test_add ("/ui/window/self-assessment", Fixture, NULL, fixture_set_up, test_self_assessment, fixture_tear_down);
  g_test_add ("/ui/window/unit-tree", Fixture, NULL, fixture_set_up, test_unit_tree, fixture_tear_down);
  g_test_add_func ("/ui/units/empty", test_unit_tree_empty);
  g_test_add_func ("/ui/units/row", test_unit_row);
  g_test_add_func ("/ui/conflict-card/resolve", test_conflict_card);
  g_test_add ("/ui/window/shortcuts", Fixture, NULL, fixture_set_up, test_shortcuts, fixture_tear_down);
  g_test_add ("/ui/window/sync-errors", Fixture, NULL, fixture_set_up, test_sync_errors, fixture_tear_down);
  g_test_add ("/ui/window/erase-person", Fixture, NULL, fixture_set_up, test_erase_person, fixture_tear_down);
  g_test_add ("/ui/window/sign-out-warns", Fixture, NULL, fixture_set_up, test_sign_out_warns, fixture_tear_down);
  g_test_add ("/ui/window/engine-signed-out", Fixture, NULL, fixture_set_up, test_engine_signed_out, fixture_tear_down);
  g_test_add_func ("/ui/window/first-run", test_first_run);
  g_test_add_func ("/ui/figures/chart-text", test_chart_text);
  g_test_add ("/ui/window/words", Fixture, NULL, fixture_set_up, test_words, fixture_tear_down);
  g_test_add ("/ui/window/not-first-run", Fixture, NULL, fixture_set_up, test_not_first_run, fixture_tear_down);
  return g_test_run ();
}
