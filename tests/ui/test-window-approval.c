/* test-window-approval.c: an award list submitted, approved, locked and reopened in the window,
 * by three people on their own replicas of the real server (SQLite, and PostgreSQL when
 * KH_TEST_PG_URL is set), under Xvfb
 *
 * What is proved: the window offers each account only the steps it may take; an approved list
 * and its entries show read-only, refuse an edit in the window and through the server; only
 * the approver reopens, and only with a reason; edits are the signed-in account's, and the
 * history names the real authors, the reason included. Screenshots of each step go to
 * KH_SCREENSHOT_DIR.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "kh-engine-client.h"
#include "kh-record-editor.h"
#include "kh-screenshot.h"
#include "kh-sync-test-util.h"
#include "kh-test-desk.h"
#include "kh-ui-test-private.h"
#include "kh-window.h"
#include "kh-workflow-bar.h"

static KhRecordEditor *
open_editor (Desk       *d,
             const char *entity,
             const char *id)
{
  GtkWidget *editor = kh_record_editor_new (d->store, entity, id, NULL);

  gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (d->window));
  gtk_window_present (GTK_WINDOW (editor));
  kh_widget_wait_for_paint (editor, 1);
  return KH_RECORD_EDITOR (editor);
}

static void
close_editor (KhRecordEditor *editor)
{
  g_object_ref (editor);
  gtk_window_destroy (GTK_WINDOW (editor));
  g_assert_finalize_object (editor);
}

static char *
status_of (KhStore    *store,
           const char *entity,
           const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *record = kh_store_get (store, entity, id, &error);
  char *status;

  g_assert_no_error (error);
  status = g_strdup (json_object_get_string (json_object_object_get (record, "status")));
  json_object_put (record);
  return status;
}

static void
set_text (KhRecordEditor *editor,
          const char     *field,
          const char     *text)
{
  gtk_editable_set_text (GTK_EDITABLE (kh_record_editor_get_row (editor, field)), text);
}

/* The preferences groups under @widget titled @title. */
static guint
count_groups (GtkWidget  *widget,
              const char *title)
{
  guint n = ADW_IS_PREFERENCES_GROUP (widget)
            && g_strcmp0 (adw_preferences_group_get_title (ADW_PREFERENCES_GROUP (widget)), title) == 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_groups (child, title);
  return n;
}

/* The buttons under @widget that say @label. */
static guint
count_buttons (GtkWidget  *widget,
               const char *label)
{
  guint n = GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), label) == 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_buttons (child, label);
  return n;
}

/* The list's state and steps are in one place on its page. */
static void
assert_one_place (KhRecordEditor *editor)
{
  g_assert_cmpuint (count_groups (GTK_WIDGET (editor), _("Steps")) + count_groups (GTK_WIDGET (editor), _("Approval")),
                    ==, 1);
}

typedef struct
{
  KhRecordEditor *editor;
  const char     *needle;
} HistoryWait;

static gboolean
history_has (gpointer data)
{
  HistoryWait *w = data;
  const char *title = kh_record_editor_get_history_title (w->editor, 0);

  return title != NULL && strstr (title, w->needle) != NULL;
}

static void
test_approval (gconstpointer data)
{
  KhTestServer *server = kh_test_server_new_serving (data);
  g_autofree char *dir = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *json = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *officer_token = NULL;
  Desk *officer, *chair, *treasurer;
  KhRecordEditor *editor;
  KhWorkflowBar *bar;
  json_object *values;

  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  dir = kh_test_tmpdir ();
  kh_test_server_cli (server, "password-chair_a\n", "user", "add", "chair_a", "--role", "officer",
                      "--scope", "A", "--can", "approve", NULL);
  kh_test_server_cli (server, "password-treasurer_a\n", "user", "add", "treasurer_a", "--role", "officer",
                      "--scope", "A", "--can", "pay", NULL);
  officer_token = kh_test_login (server, "officer_a", &unit);
  officer = kh_desk_new (server, dir, "officer_a");
  chair = kh_desk_new (server, dir, "chair_a");
  treasurer = kh_desk_new (server, dir, "treasurer_a");

  /* The officer makes the list in the window: written as the officer, not the computer's login. */
  json = g_strdup_printf ("{\"title\":\"Học bổng Tết 2026\",\"occasion\":\"tet\",\"school_year\":\"2025-2026\","
                          "\"org_unit_id\":\"%s\",\"status\":\"draft\"}", unit);
  values = json_tokener_parse (json);
  list = kh_store_create (officer->store, "award_list", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  g_free (json);
  json = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"Lê Văn Tám\","
                          "\"category\":\"hardship\",\"amount\":500000,\"status\":\"proposed\"}", list, unit);
  values = json_tokener_parse (json);
  entry = kh_store_create (officer->store, "award_entry", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  {
    json_object *h = kh_store_history (officer->store, "award_list", list, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (h, 0), "actor")),
                     ==, "officer_a");
    json_object_put (h);
  }

  /* The officer submits; approving is not offered. */
  editor = open_editor (officer, "award_list", list);
  bar = KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor));
  g_assert_nonnull (bar);
  g_assert_nonnull (kh_workflow_bar_get_button (bar, "submitted"));
  g_assert_null (kh_workflow_bar_get_button (bar, "approved"));
  g_assert_null (kh_workflow_bar_get_button (bar, "paid"));
  g_assert_cmpuint (count_buttons (GTK_WIDGET (editor), _("Record _Payment…")), ==, 0);
  assert_one_place (editor);
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-1-draft.png");
  g_signal_emit_by_name (kh_workflow_bar_get_button (bar, "submitted"), "clicked");
  {
    g_autofree char *s = status_of (officer->store, "award_list", list);

    g_assert_cmpstr (s, ==, "submitted");
  }
  g_assert_null (kh_workflow_bar_get_button (bar, "approved"));
  g_assert_nonnull (kh_workflow_bar_get_button (bar, "draft"));
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-2-submitted.png");
  close_editor (editor);
  kh_desk_sync (officer);

  /* The chair sees the list submitted and approves it: it locks. */
  kh_desk_sync (chair);
  editor = open_editor (chair, "award_list", list);
  bar = KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor));
  g_assert_nonnull (kh_workflow_bar_get_button (bar, "approved"));
  g_signal_emit_by_name (kh_workflow_bar_get_button (bar, "approved"), "clicked");
  {
    g_autofree char *s = status_of (chair->store, "award_list", list);

    g_assert_cmpstr (s, ==, "approved");
  }
  g_assert_false (gtk_widget_get_sensitive (kh_record_editor_get_row (editor, "title")));
  g_assert_nonnull (kh_workflow_bar_get_button (bar, "draft"));   /* reopen */
  g_assert_null (kh_workflow_bar_get_button (bar, "paid"));       /* the treasurer's */
  /* Nowhere else on the page either: the list's state and steps are in one place. */
  g_assert_cmpuint (count_buttons (GTK_WIDGET (editor), _("Record _Payment…")), ==, 0);
  assert_one_place (editor);
  g_assert_cmpstr (kh_award_list_workflow_get_status (KH_AWARD_LIST_WORKFLOW (kh_record_editor_get_workflow (editor))),
                   ==, "approved");
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-3-approved.png");
  close_editor (editor);
  kh_desk_sync (chair);

  /* The treasurer: the payment is the one step offered; not reopening, which is the chair's. */
  kh_desk_sync (treasurer);
  editor = open_editor (treasurer, "award_list", list);
  bar = KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor));
  g_assert_nonnull (kh_workflow_bar_get_button (bar, "paid"));
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (kh_workflow_bar_get_button (bar, "paid"))), ==,
                   _("Record _Payment…"));
  g_assert_null (kh_workflow_bar_get_button (bar, "draft"));
  g_assert_cmpuint (count_buttons (GTK_WIDGET (editor), _("Record _Payment…")), ==, 1);
  assert_one_place (editor);
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-3b-treasurer.png");
  close_editor (editor);

  /* The officer's window: the list and its entry read-only, an edit refused here ... */
  kh_desk_sync (officer);
  editor = open_editor (officer, "award_list", list);
  g_assert_false (gtk_widget_get_sensitive (kh_record_editor_get_row (editor, "title")));
  bar = KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor));
  g_assert_null (kh_workflow_bar_get_button (bar, "draft"));
  g_assert_null (kh_workflow_bar_get_button (bar, "approved"));
  close_editor (editor);
  editor = open_editor (officer, "award_entry", entry);
  g_assert_false (gtk_widget_get_sensitive (kh_record_editor_get_row (editor, "amount")));
  set_text (editor, "amount", "900.000");
  g_assert_false (kh_record_editor_save (editor));
  g_assert_nonnull (kh_record_editor_get_error (editor));
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-4-entry-locked.png");
  close_editor (editor);
  kh_window_update_counts (officer->window);
  g_assert_cmpint (kh_window_get_pending (officer->window), ==, 0);
  /* ... and through the server. */
  {
    json_object *mutations = json_object_new_array ();
    g_autoptr(KhPushResponse) r = NULL;
    json_object *fields = json_object_new_object ();
    json_object *e = kh_store_get (officer->store, "award_entry", entry, NULL);

    json_object_object_add (fields, "amount", json_object_new_int64 (900000));
    json_object_array_add (mutations, kh_test_mutation ("update", "award_entry", entry,
                                                        json_object_get_int64 (json_object_object_get (e, "version")),
                                                        fields));
    json_object_put (e);
    r = kh_test_push (server, officer_token, mutations);
    g_assert_cmpstr (((KhMutationResult *) r->results->pdata[0])->code, ==, "locked");
  }

  /* Only the chair reopens, and only with a reason. */
  editor = open_editor (chair, "award_list", list);
  bar = KH_WORKFLOW_BAR (kh_record_editor_get_approval (editor));
  g_assert_false (kh_workflow_bar_take_step (bar, "draft", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_true (kh_workflow_bar_take_step (bar, "draft", "Sai tên một em", &error));
  g_assert_no_error (error);
  g_assert_true (gtk_widget_get_sensitive (kh_record_editor_get_row (editor, "title")));
  close_editor (editor);
  kh_desk_sync (chair);

  /* The history, on the officer's replica: the real authors and the reason. */
  kh_desk_sync (officer);
  editor = open_editor (officer, "award_list", list);
  gtk_widget_activate_action (GTK_WIDGET (editor), "editor.history", NULL);
  {
    HistoryWait w = { editor, "Sai tên một em" };

    g_assert_true (kh_desk_wait_for (history_has, &w));
    g_assert_nonnull (strstr (kh_record_editor_get_history_subtitle (editor, 0), "chair_a"));
  }
  {
    guint n = 0;

    /* No row says only that it came from the server: every one has its author. */
    for (guint i = 0; kh_record_editor_get_history_title (editor, i) != NULL; i++, n++)
      {
        g_assert_null (strstr (kh_record_editor_get_history_title (editor, i), _("Received from the server")));
        g_assert_null (strstr (kh_record_editor_get_history_subtitle (editor, i), g_get_user_name ()));
      }
    g_assert_cmpuint (n, >=, 4);
  }
  {
    /* The history is at the foot of the form: scrolled to, as a person would. */
    GtkWidget *scrolled = gtk_widget_get_ancestor (kh_record_editor_get_row (editor, "title"),
                                                   GTK_TYPE_SCROLLED_WINDOW);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

    kh_widget_wait_for_paint (GTK_WIDGET (editor), 2);
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  }
  kh_desk_screenshot (GTK_WIDGET (editor), "approval-5-history.png");
  close_editor (editor);

  kh_desk_free (officer);
  kh_desk_free (chair);
  kh_desk_free (treasurer);
  kh_test_server_free (server);
  kh_test_rmdir (dir);
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
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_data_func ("/ui/window-approval/sqlite", "sqlite", test_approval);
  g_test_add_data_func ("/ui/window-approval/postgresql", "postgresql", test_approval);
  return g_test_run ();
}
