/* test-window-activity.c: the changes made in an area, seen in the window (a supervisor's view)
 *
 * Two people change records on their own replicas of the real server (SQLite, and PostgreSQL
 * when KH_TEST_PG_URL is set); the chair's window shows the changes of the area read from the
 * server without freezing (a spinner while it waits), newest first, named as people know them
 * (a list by its title, a recipient by name, the author's account, no ids); the person and kind
 * filters narrow them; Export writes what is shown as CSV and XLSX (read back); a sync of the
 * window refreshes the page by itself, keeping its rows meanwhile; signed out and
 * offline, the page says so. Screenshots of each state go to KH_SCREENSHOT_DIR.
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
#include "kh-test-store.h"
#include "kh-ui-test-private.h"
#include "kh-window.h"
#include "kh-xlsx-reader.h"

static void
set_status (Desk       *d,
            const char *list,
            const char *status)
{
  g_autoptr(GError) error = NULL;
  json_object *changes = json_object_new_object ();

  json_object_object_add (changes, "status", json_object_new_string (status));
  g_assert_true (kh_store_update (d->store, "award_list", list, changes, &error));
  g_assert_no_error (error);
  json_object_put (changes);
}

static gboolean
page_idle (gpointer data)
{
  return !kh_activity_page_is_busy (data);
}

static KhActivityPage *
show_activity (Desk *d)
{
  KhActivityPage *page;

  gtk_widget_activate_action (GTK_WIDGET (d->window), "win.show-page", "s", "activity");
  page = KH_ACTIVITY_PAGE (kh_window_get_page (d->window, "activity"));
  g_assert_true (kh_desk_wait_for (page_idle, page));
  return page;
}

/* Every row shown holds @needle. */
static void
assert_every_row_has (KhActivityPage *page,
                      const char     *needle)
{
  for (guint i = 0; i < kh_activity_page_get_n_shown (page); i++)
    {
      g_autofree char *text = kh_activity_page_get_row_text (page, i);

      if (strstr (text, needle) == NULL)
        g_error ("row %u does not say “%s”:\n%s", i, needle, text);
    }
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

static void
test_activity (gconstpointer data)
{
  KhTestServer *server = kh_test_server_new_serving (data);
  g_autofree char *dir = NULL;
  g_autofree char *unit = NULL;
  g_autofree char *json = NULL;
  g_autofree char *list = NULL;
  g_autofree char *entry = NULL;
  g_autofree char *fund = NULL;
  g_autofree char *donation = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *xlsx = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  KhActivityPage *page;
  Desk *officer, *chair;
  guint all;

  if (server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  dir = kh_test_tmpdir ();
  csv = g_build_filename (dir, "activity.csv", NULL);
  xlsx = g_build_filename (dir, "activity.xlsx", NULL);
  kh_test_server_cli (server, "password-chair_a\n", "user", "add", "chair_a", "--role", "officer",
                      "--scope", "A", "--can", "approve", NULL);
  g_free (kh_test_login (server, "officer_a", &unit));
  officer = kh_desk_new (server, dir, "officer_a");
  chair = kh_desk_new (server, dir, "chair_a");

  /* The officer's replica: a list with an entry, a fund with a donation; then the list is
   * submitted, as a change of its own. */
  json = g_strdup_printf ("{\"title\":\"Học bổng Tết 2026\",\"occasion\":\"tet\",\"school_year\":\"2025-2026\","
                          "\"org_unit_id\":\"%s\",\"status\":\"draft\"}", unit);
  list = kh_test_create (officer->store, "award_list", json);
  g_free (json);
  json = g_strdup_printf ("{\"list_id\":\"%s\",\"org_unit_id\":\"%s\",\"recipient_name\":\"Lê Văn Tám\","
                          "\"category\":\"hardship\",\"amount\":500000,\"status\":\"proposed\"}", list, unit);
  entry = kh_test_create (officer->store, "award_entry", json);
  g_free (json);
  json = g_strdup_printf ("{\"name\":\"Quỹ khuyến học xã A\",\"level\":\"commune\",\"org_unit_id\":\"%s\"}", unit);
  fund = kh_test_create (officer->store, "fund", json);
  g_free (json);
  json = g_strdup_printf ("{\"fund_id\":\"%s\",\"org_unit_id\":\"%s\",\"donor_name\":\"Công ty Hồng Phát\","
                          "\"donated_on\":\"2026-01-05\",\"form\":\"cash\",\"amount\":2000000}", fund, unit);
  donation = kh_test_create (officer->store, "donation", json);
  kh_desk_sync (officer);
  set_status (officer, list, "submitted");
  kh_desk_sync (officer);

  /* The chair's replica: the approval. */
  kh_desk_sync (chair);
  set_status (chair, list, "approved");
  kh_desk_sync (chair);

  /* The chair opens the page: read from the server, newest first. */
  page = show_activity (chair);
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "list");
  all = kh_activity_page_get_n_shown (page);
  g_assert_cmpuint (all, >=, 6);
  {
    g_autofree char *newest = kh_activity_page_get_row_text (page, 0);

    g_assert_nonnull (strstr (newest, "Học bổng Tết 2026"));
    g_assert_nonnull (strstr (newest, "chair_a"));
    g_assert_nonnull (strstr (newest, _("Approved")));
    g_assert_nonnull (strstr (newest, _("Submitted")));
  }
  /* Named, never by id: the list, the unit, the fund. */
  for (guint i = 0; i < all; i++)
    {
      g_autofree char *row = kh_activity_page_get_row_text (page, i);

      g_assert_null (strstr (row, list));
      g_assert_null (strstr (row, unit));
      g_assert_null (strstr (row, fund));
      g_assert_null (strstr (row, entry));
    }
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-1-all.png");

  /* Award lists and their entries: the list made, its entry (named, in its list), submitted,
   * approved. */
  kh_activity_page_set_kind (page, "awards");
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, 4);
  {
    gboolean entry_seen = FALSE;

    for (guint i = 0; i < 4; i++)
      {
        g_autofree char *row = kh_activity_page_get_row_text (page, i);

        if (strstr (row, "Lê Văn Tám") != NULL)
          {
            g_autofree char *in_list = g_strdup_printf ("“%s”", "Học bổng Tết 2026");

            g_assert_nonnull (strstr (row, in_list));
            g_assert_nonnull (strstr (row, "officer_a"));
            entry_seen = TRUE;
          }
      }
    g_assert_true (entry_seen);
  }
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-2-awards.png");

  /* Export writes what is shown: CSV, read back ... */
  g_assert_true (kh_activity_page_export (page, csv, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (csv, &text, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "\xEF\xBB\xBF"));
  {
    g_auto(GStrv) lines = g_strsplit (text, "\r\n", -1);

    /* The header, four changes, and the empty string after the last line's end. */
    g_assert_cmpuint (g_strv_length (lines), ==, 6);
    g_assert_nonnull (strstr (lines[0], _("Who")));
    g_assert_nonnull (strstr (lines[0], _("Award list")));
    g_assert_nonnull (strstr (text, "Lê Văn Tám"));
    g_assert_nonnull (strstr (text, "chair_a"));
    g_assert_null (strstr (text, "Công ty Hồng Phát"));
    g_assert_null (strstr (text, list));
  }
  /* ... and XLSX, through the same writer as every workbook. */
  g_assert_true (kh_activity_page_export (page, xlsx, &error));
  g_assert_no_error (error);
  {
    guint n_rows = 0;

    g_assert_true (kh_xlsx_read_file (xlsx, NULL, count_row_cb, &n_rows, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (n_rows, ==, 5);
  }

  /* Funds, donations and payments: the fund and its donation, by the officer. */
  kh_activity_page_set_kind (page, "funds");
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, 2);
  assert_every_row_has (page, "officer_a");
  {
    g_autofree char *row = kh_activity_page_get_row_text (page, 0);

    g_assert_nonnull (strstr (row, "Công ty Hồng Phát"));
    g_assert_nonnull (strstr (row, "Quỹ khuyến học xã A"));
  }

  /* By person: the chair's one change; the officer's five. */
  kh_activity_page_set_kind (page, "all");
  g_assert_true (kh_activity_page_set_person (page, "chair_a"));
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, 1);
  g_assert_true (kh_activity_page_set_person (page, "officer_a"));
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, 5);
  assert_every_row_has (page, "officer_a");
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-3-officer.png");
  /* Nothing matches: said so, the filters still at hand. */
  kh_activity_page_set_kind (page, "people");
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, 0);
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "empty");
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-4-none.png");
  kh_activity_page_set_kind (page, "all");
  kh_activity_page_set_person (page, NULL);
  /* A small window: the filters do not hold it wide. */
  gtk_window_set_default_size (GTK_WINDOW (chair->window), 360, 640);
  kh_widget_wait_for_paint (GTK_WIDGET (chair->window), 3);
  g_assert_cmpint (gtk_widget_get_width (GTK_WIDGET (chair->window)), <=, 400);
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-7-narrow.png");
  gtk_window_set_default_size (GTK_WINDOW (chair->window), 1200, 700);
  kh_widget_wait_for_paint (GTK_WIDGET (chair->window), 3);

  /* Asking again does not wait for the answer: the spinner shows meanwhile. */
  kh_activity_page_reload (page);
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "loading");
  g_assert_true (kh_desk_wait_for (page_idle, page));
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, all);

  /* A sync refreshes the page by itself: the officer records another donation, the chair's
   * window syncs, and the page shows it without Read Again, its rows kept meanwhile. */
  g_free (json);
  json = g_strdup_printf ("{\"fund_id\":\"%s\",\"org_unit_id\":\"%s\",\"donor_name\":\"Hợp tác xã Tân Lập\","
                          "\"donated_on\":\"2026-01-09\",\"form\":\"cash\",\"amount\":1000000}", fund, unit);
  g_free (kh_test_create (officer->store, "donation", json));
  kh_desk_sync (officer);
  kh_desk_sync (chair);
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "list");
  g_assert_true (kh_desk_wait_for (page_idle, page));
  g_assert_cmpuint (kh_activity_page_get_n_shown (page), ==, all + 1);
  {
    g_autofree char *newest = kh_activity_page_get_row_text (page, 0);

    g_assert_nonnull (strstr (newest, "Hợp tác xã Tân Lập"));
  }

  /* Signed out: the page says what it needs, and that records work offline. */
  g_assert_true (kh_sync_client_sign_out (KH_SYNC_CLIENT (officer->client), &error));
  g_assert_no_error (error);
  page = show_activity (officer);
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "status");
  g_assert_cmpstr (kh_activity_page_get_status_title (page), ==, _("Sign In to See the Changes"));
  kh_desk_screenshot (GTK_WIDGET (officer->window), "activity-5-signed-out.png");

  /* Offline: the server is gone. */
  kh_test_server_stop (server);
  page = KH_ACTIVITY_PAGE (kh_window_get_page (chair->window, "activity"));
  kh_activity_page_reload (page);
  g_assert_true (kh_desk_wait_for (page_idle, page));
  g_assert_cmpstr (kh_activity_page_get_shown (page), ==, "status");
  g_assert_cmpstr (kh_activity_page_get_status_title (page), ==, _("Offline"));
  kh_desk_screenshot (GTK_WIDGET (chair->window), "activity-6-offline.png");

  kh_desk_free (officer);
  kh_desk_free (chair);
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
  g_test_add_data_func ("/ui/window-activity/sqlite", "sqlite", test_activity);
  g_test_add_data_func ("/ui/window-activity/postgresql", "postgresql", test_activity);
  return g_test_run ();
}
