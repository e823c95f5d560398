/* kh-test-demo-window.c: the window on a small demo replica, for the window's tests
 *
 * A replica of 3,000 demo records in a folder of its own, and the window on it, shown and
 * drawn; closed, every window goes away and lets go of the store (a leak keeps one alive).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-demo.h"
#include "kh-screenshot.h"
#include "kh-test-demo-window.h"
#include "kh-test-dir.h"

/* Opens the window on a new demo replica; @width and @height: its size, or 0 for the default. */
void
kh_test_demo_window_open (KhTestDemoWindow *d,
                          int               width,
                          int               height)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  d->dir = kh_test_tmpdir ();
  path = g_build_filename (d->dir, "kh.db", NULL);
  d->store = kh_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_true (kh_demo_generate (d->store, 3000, 7, NULL, &error));
  d->window = kh_window_new (NULL, d->store);
  if (width > 0 && height > 0)
    gtk_window_set_default_size (GTK_WINDOW (d->window), width, height);
  gtk_window_present (GTK_WINDOW (d->window));
  kh_widget_wait_for_paint (GTK_WIDGET (d->window), 2);
}

/* Closes every window but @keep, and checks that each one goes away: an editor or dialog that
 * something still holds is a leak. */
void
kh_test_close_windows_but (GtkWindow *keep)
{
  GListModel *toplevels = gtk_window_get_toplevels ();

  for (guint i = g_list_model_get_n_items (toplevels); i-- > 0;)
    {
      GtkWindow *w = g_list_model_get_item (toplevels, i);

      if (w == keep)
        {
          g_object_unref (w);
          continue;
        }
      /* Destroyed, the window goes with the reference taken here. */
      gtk_window_destroy (w);
      g_assert_finalize_object (w);
    }
}

/* Closes every window; the windows and pages let go of everything. */
void
kh_test_demo_window_close (KhTestDemoWindow *d)
{
  kh_test_close_windows_but (GTK_WINDOW (d->window));
  g_object_ref (d->window);
  gtk_window_destroy (GTK_WINDOW (d->window));
  g_assert_finalize_object (d->window);
  g_assert_finalize_object (d->store);
  kh_test_rmdir (d->dir);
  g_free (d->dir);
}
