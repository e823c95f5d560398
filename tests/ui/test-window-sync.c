/* test-window-sync.c: the window signed in to the real khuyenhoc-server, through its seam
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "kh-engine-client.h"
#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-screenshot.h"
#include "kh-sync-test-util.h"
#include "kh-ui-test-private.h"
#include "kh-window.h"

static void
sign_in_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  int *state = user_data;
  g_autoptr(GError) error = NULL;

  *state = kh_sync_client_sign_in_finish (KH_SYNC_CLIENT (object), result, &error) ? 1 : 2;
  g_assert_no_error (error);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
wait_until (KhWindow *window,
            gboolean (*done) (KhWindow *window))
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  /* Wakes the loop, so a state that never comes fails at the deadline instead of hanging. */
  guint tick = g_timeout_add (100, tick_cb, NULL);
  gboolean ok;

  while (!done (window) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  ok = done (window);
  g_source_remove (tick);
  return ok;
}

static gboolean
synced (KhWindow *window)
{
  return kh_window_get_sync_state (window) == KH_SYNC_CLIENT_STATE_IDLE
         && kh_window_get_last_sync (window) != NULL;
}

static gboolean
nothing_pending (KhWindow *window)
{
  kh_window_update_counts (window);
  return kh_window_get_pending (window) == 0
         && kh_window_get_sync_state (window) == KH_SYNC_CLIENT_STATE_IDLE;
}

/* An officer signs in from the window: the replica pulls the area, the header turns to
 * "Synced", a record made here goes out with Sync now, and nothing waits any more. */
static void
test_sign_in_and_sync (void)
{
  g_autoptr(GError) error = NULL;
  KhTestServer *server = kh_test_server_new_serving ("sqlite");
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "kh.db", NULL);
  KhStore *store;
  KhEngineClient *client;
  KhWindow *window;
  json_object *units;
  json_object *person;
  g_autofree char *id = NULL;
  int signed_in = 0;

  store = kh_store_open (path, &error);
  g_assert_no_error (error);
  client = kh_engine_client_new (store, NULL);
  window = kh_window_new (NULL, store);
  kh_window_set_sync_client (window, KH_SYNC_CLIENT (client));
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (GTK_WIDGET (window), 1);
  g_assert_cmpint (kh_window_get_sync_state (window), ==, KH_SYNC_CLIENT_STATE_SIGNED_OUT);

  kh_sync_client_sign_in_async (KH_SYNC_CLIENT (client), server->base, "officer_a",
                                "password-officer_a", NULL, sign_in_cb, &signed_in);
  while (signed_in == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (signed_in, ==, 1);
  g_assert_true (wait_until (window, synced));

  /* The officer's area came down: their commune is here. */
  units = kh_store_list (store, "org_unit", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (units), >, 0);
  person = json_object_new_object ();
  json_object_object_add (person, "full_name", json_object_new_string ("Trần Thị Ánh"));
  json_object_object_add (person, "org_unit_id",
                          json_object_get (json_object_object_get (json_object_array_get_idx (units, 0), "id")));
  id = kh_store_create (store, "person", person, &error);
  g_assert_no_error (error);
  json_object_put (person);
  json_object_put (units);
  kh_window_update_counts (window);
  g_assert_cmpint (kh_window_get_pending (window), ==, 1);

  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync", NULL);
  g_assert_true (wait_until (window, nothing_pending));

  /* Window, client and store all go away once the last answers are in: nothing leaks. */
  kh_window_set_sync_client (window, NULL);
  g_object_add_weak_pointer (G_OBJECT (client), (gpointer *) &client);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_object_unref (client);
  gtk_window_destroy (GTK_WINDOW (window));
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while ((client != NULL || window != NULL) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_null (client);
  g_assert_null (window);
  g_assert_finalize_object (store);
  kh_test_server_free (server);
  kh_test_rmdir (dir);
}

typedef struct
{
  GPtrArray *states;   /* every state the window went through, in order */
} Seen;

static void
state_seen_cb (KhWindow   *window,
               GParamSpec *pspec,
               Seen       *seen)
{
  g_ptr_array_add (seen->states, GINT_TO_POINTER (kh_window_get_sync_state (window)));
}

static gboolean
went_through (Seen              *seen,
              KhSyncClientState  state)
{
  for (guint i = 0; i < seen->states->len; i++)
    if (GPOINTER_TO_INT (seen->states->pdata[i]) == (int) state)
      return TRUE;
  return FALSE;
}

static GDateTime *synced_after;

static gboolean
synced_again (KhWindow *window)
{
  GDateTime *when = kh_window_get_last_sync (window);

  return kh_window_get_sync_state (window) == KH_SYNC_CLIENT_STATE_IDLE
         && when != NULL && g_date_time_compare (when, synced_after) > 0;
}

static gboolean
offline (KhWindow *window)
{
  return kh_window_get_sync_state (window) == KH_SYNC_CLIENT_STATE_OFFLINE;
}

static gboolean
refused (KhWindow *window)
{
  kh_window_update_counts (window);
  return kh_window_get_refused (window) == 1 && kh_window_get_sync_state (window) != KH_SYNC_CLIENT_STATE_SYNCING;
}

static const char *
header_text (KhWindow *window)
{
  return kh_sync_indicator_get_text (KH_SYNC_INDICATOR (g_object_get_data (G_OBJECT (window), "sync-indicator")));
}

/* The header and the Sync page follow the engine's state at once, with the engine driven
 * through the fault proxy: a sync shorter than a frame still moves "Synced at", a server that
 * goes down turns the header to Offline (no check mark), one back turns it to Synced at the
 * first sync, and a refused change shows in the header and on the page already on show. */
static void
test_states (void)
{
  g_autoptr(GError) error = NULL;
  KhTestServer *server = kh_test_server_new_serving ("sqlite");
  KhFaultProxy *proxy = kh_fault_proxy_new (server->port, 7);
  g_autofree char *base = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (proxy));
  g_autofree char *dir = kh_test_tmpdir ();
  g_autofree char *path = g_build_filename (dir, "kh.db", NULL);
  g_autoptr(GDateTime) first = NULL;
  KhStore *store;
  KhEngineClient *client;
  KhWindow *window;
  Seen seen = { g_ptr_array_new () };
  int signed_in = 0;
  gulong id;

  store = kh_store_open (path, &error);
  g_assert_no_error (error);
  client = kh_engine_client_new (store, NULL);
  window = kh_window_new (NULL, store);
  kh_window_set_sync_client (window, KH_SYNC_CLIENT (client));
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (GTK_WIDGET (window), 1);
  id = g_signal_connect (window, "notify::sync-state", G_CALLBACK (state_seen_cb), &seen);

  kh_sync_client_sign_in_async (KH_SYNC_CLIENT (client), base, "officer_a", "password-officer_a",
                                NULL, sign_in_cb, &signed_in);
  while (signed_in == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (wait_until (window, synced));
  first = g_date_time_ref (kh_window_get_last_sync (window));

  /* Sync now with nothing to send: a sync of a few milliseconds. The header went through
   * Syncing and the time of the last sync moved. */
  g_ptr_array_set_size (seen.states, 0);
  g_usleep (20000);
  synced_after = first;
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync", NULL);
  g_assert_true (wait_until (window, synced_again));
  g_assert_true (went_through (&seen, KH_SYNC_CLIENT_STATE_SYNCING));

  /* The server goes away: the next sync says Offline, and the header no longer shows a sync
   * that went well. */
  kh_fault_proxy_set_fault (proxy, KH_FAULT_RESET_BEFORE, NULL, 1000);
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync", NULL);
  g_assert_true (wait_until (window, offline));
  g_assert_cmpstr (header_text (window), ==, _("Offline"));

  /* Back: the first sync that reaches it says Synced, at once. */
  kh_fault_proxy_set_fault (proxy, KH_FAULT_NONE, NULL, 0);
  g_clear_pointer (&first, g_date_time_unref);
  first = g_date_time_ref (kh_window_get_last_sync (window));
  synced_after = first;
  gtk_widget_activate_action (GTK_WIDGET (window), "win.sync", NULL);
  g_assert_true (wait_until (window, synced_again));
  {
    g_autoptr(GDateTime) local = g_date_time_to_local (kh_window_get_last_sync (window));
    g_autofree char *time = g_date_time_format (local, "%H:%M");
    g_autofree char *expected = g_strdup_printf (_("Synced at %s"), time);

    g_assert_cmpstr (header_text (window), ==, expected);
  }

  /* A change the server refuses, with the Sync page on show: the header has a state for it,
   * and the page lists it at once, the reason in the window's language. */
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "sync");
  {
    json_object *units = kh_store_list (store, "org_unit", NULL, &error);
    json_object *person = json_object_new_object ();
    json_object *outbox;
    g_autofree char *record = NULL;
    g_autofree char *server_id = kh_replica_get_state (store, KH_SYNC_SERVER_ID);
    g_autofree char *epoch = kh_replica_get_state (store, KH_SYNC_EPOCH);
    g_autofree char *body = NULL;
    g_autofree char *head = NULL;
    g_autoptr(GBytes) raw = NULL;
    const char *reason = "The record would belong to a unit outside your area.";

    json_object_object_add (person, "full_name", json_object_new_string ("Đặng Thị Huyền"));
    json_object_object_add (person, "org_unit_id",
                            json_object_get (json_object_object_get (json_object_array_get_idx (units, 0), "id")));
    record = kh_store_create (store, "person", person, &error);
    g_assert_no_error (error);
    json_object_put (person);
    json_object_put (units);
    outbox = kh_store_list_outbox (store, &error);
    g_assert_no_error (error);
    body = g_strdup_printf ("{\"results\": [{\"mutation_id\": \"%s\", \"status\": \"rejected\", "
                            "\"code\": \"out_of_scope\", \"message\": \"%s\"}], \"server_id\": \"%s\", \"epoch\": %s}",
                            json_object_get_string (json_object_object_get (json_object_array_get_idx (outbox, 0), "mutation_id")),
                            reason, server_id, epoch ? epoch : "1");
    json_object_put (outbox);
    head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                            "Connection: close\r\n\r\n%s", strlen (body), body);
    raw = g_bytes_new (head, strlen (head));
    kh_fault_proxy_set_answer (proxy, "POST /v1/push", raw);
    gtk_widget_activate_action (GTK_WIDGET (window), "win.sync", NULL);
    g_assert_true (wait_until (window, refused));
    kh_fault_proxy_set_answer (proxy, NULL, NULL);
    {
      g_autofree char *expected = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s change refused",
                                                                "%s changes refused", 1), "1");

      g_assert_cmpstr (header_text (window), ==, expected);
    }
    g_assert_cmpuint (kh_sync_page_get_n_refused (KH_SYNC_PAGE (kh_window_get_page (window, "sync"))), ==, 1);
    {
      g_autofree char *words = kh_sync_page_translate_reason (reason);

      g_assert_cmpstr (words, ==, _(reason));
      g_assert_nonnull (strstr (kh_window_get_last_toast (window), words));
    }
    if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
      {
        g_autofree char *shot = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "sync-refused.png", NULL);

        kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
        kh_widget_save_png (GTK_WIDGET (window), shot, &error);
        g_assert_no_error (error);
      }
  }

  g_signal_handler_disconnect (window, id);
  g_ptr_array_unref (seen.states);
  kh_window_set_sync_client (window, NULL);
  g_object_add_weak_pointer (G_OBJECT (client), (gpointer *) &client);
  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  g_object_unref (client);
  gtk_window_destroy (GTK_WINDOW (window));
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while ((client != NULL || window != NULL) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
  }
  g_assert_null (client);
  g_assert_null (window);
  g_assert_finalize_object (store);
  kh_fault_proxy_free (proxy);
  kh_test_server_free (server);
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ui/window-sync/sign-in-and-sync", test_sign_in_and_sync);
  g_test_add_func ("/ui/window-sync/states", test_states);
  return g_test_run ();
}
