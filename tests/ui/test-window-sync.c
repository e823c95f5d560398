/* test-window-sync.c: the window signed in to the real khuyenhoc-server, through its seam
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>

#include "kh-engine-client.h"
#include "kh-screenshot.h"
#include "kh-sync-test-util.h"
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
wait_until (KhWindow *window,
            gboolean (*done) (KhWindow *window))
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!done (window) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  return done (window);
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

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ui/window-sync/sign-in-and-sync", test_sign_in_and_sync);
  return g_test_run ();
}
