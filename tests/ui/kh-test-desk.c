/* kh-test-desk.c: an officer's desk in the window tests (see kh-test-desk.h).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-screenshot.h"
#include "kh-test-desk.h"
#include "kh-ui-test-private.h"


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

/* Runs the main loop until @done (a check of @data) or a minute has passed. */
gboolean
kh_desk_wait_for (gboolean (*done) (gpointer data),
          gpointer   data)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  guint tick = g_timeout_add (50, tick_cb, NULL);
  gboolean ok;

  while (!done (data) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  ok = done (data);
  g_source_remove (tick);
  return ok;
}

gboolean
kh_desk_idle_and_sent (gpointer data)
{
  Desk *d = data;

  kh_window_update_counts (d->window);
  return kh_window_get_sync_state (d->window) == KH_SYNC_CLIENT_STATE_IDLE
         && kh_window_get_last_sync (d->window) != NULL && kh_window_get_pending (d->window) == 0;
}

Desk *
kh_desk_new (KhTestServer *server,
          const char   *dir,
          const char   *user)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = g_strdup_printf ("password-%s", user);
  Desk *d = g_new0 (Desk, 1);
  int signed_in = 0;

  d->path = g_strdup_printf ("%s/%s.db", dir, user);
  d->store = kh_store_open (d->path, &error);
  g_assert_no_error (error);
  d->client = kh_engine_client_new (d->store, NULL);
  d->window = kh_window_new (NULL, d->store);
  kh_window_set_sync_client (d->window, KH_SYNC_CLIENT (d->client));
  gtk_window_present (GTK_WINDOW (d->window));
  kh_sync_client_sign_in_async (KH_SYNC_CLIENT (d->client), server->base, user, password, NULL, sign_in_cb,
                                &signed_in);
  while (signed_in == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpint (signed_in, ==, 1);
  g_assert_true (kh_desk_wait_for (kh_desk_idle_and_sent, d));
  return d;
}

/* Sync now, and wait until it is done and nothing is left to send. */
void
kh_desk_sync (Desk *d)
{
  gtk_widget_activate_action (GTK_WIDGET (d->window), "win.sync", NULL);
  g_assert_true (kh_desk_wait_for (kh_desk_idle_and_sent, d));
}

void
kh_desk_free (Desk *d)
{
  KhEngineClient *client = d->client;
  KhWindow *window = d->window;

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
  g_assert_finalize_object (d->store);
  g_free (d->path);
  g_free (d);
}

void
kh_desk_screenshot (GtkWidget  *widget,
                    const char *name)
{
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  kh_widget_wait_for_paint (widget, 2);
  kh_widget_save_png (widget, path, &error);
  g_assert_no_error (error);
}
