/* kh-toast.c: showing a toast from any widget, without knowing the window
 *
 * A page or a dialog says something in passing ("Saved", "Conflict resolved") through the
 * AdwToastOverlay that holds it, so it needs no pointer to the window and the window stays the
 * only one that knows its pages. A dialog is its own toplevel: its toast goes to the overlay of
 * the window it is transient for, which outlives it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-toast.h"

/* The overlay remembers what its last toast said, for the tests: a toast leaves no trace in the
 * widget tree once it is gone. */
#define LAST_TITLE_KEY "kh-toast-last-title"

/* The first toast overlay inside @window, nearest the top: the window's own, not one that a page
 * might hold deeper down. */
static AdwToastOverlay *
find_overlay_in (GtkWidget *window)
{
  g_autoptr(GQueue) queue = g_queue_new ();

  g_queue_push_tail (queue, window);
  while (!g_queue_is_empty (queue))
    {
      GtkWidget *widget = g_queue_pop_head (queue);

      if (ADW_IS_TOAST_OVERLAY (widget))
        return ADW_TOAST_OVERLAY (widget);
      for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
           child = gtk_widget_get_next_sibling (child))
        g_queue_push_tail (queue, child);
    }
  return NULL;
}

static AdwToastOverlay *
find_overlay (GtkWidget *widget)
{
  GtkWidget *ancestor = gtk_widget_get_ancestor (widget, ADW_TYPE_TOAST_OVERLAY);
  GtkRoot *root;
  GtkWindow *parent;

  if (ancestor != NULL)
    return ADW_TOAST_OVERLAY (ancestor);
  root = gtk_widget_get_root (widget);
  if (!GTK_IS_WINDOW (root))
    return NULL;
  /* A dialog: the window it belongs to shows the toast. */
  for (parent = gtk_window_get_transient_for (GTK_WINDOW (root)); parent != NULL;
       parent = gtk_window_get_transient_for (parent))
    {
      AdwToastOverlay *overlay = find_overlay_in (GTK_WIDGET (parent));

      if (overlay != NULL)
        return overlay;
    }
  return NULL;
}

/**
 * kh_widget_add_toast:
 * @widget: a widget inside a window with an AdwToastOverlay, or a dialog transient for one
 * @toast: (transfer full): the toast
 *
 * Shows @toast in the overlay that holds @widget. Outside any window with an overlay (a page
 * built alone, a dialog with no parent) the toast is dropped, as there is nowhere to show it.
 */
void
kh_widget_add_toast (GtkWidget *widget,
                     AdwToast  *toast)
{
  AdwToastOverlay *overlay;

  g_return_if_fail (GTK_IS_WIDGET (widget));
  g_return_if_fail (ADW_IS_TOAST (toast));

  overlay = find_overlay (widget);
  if (overlay == NULL)
    {
      g_object_unref (toast);
      return;
    }
  g_object_set_data_full (G_OBJECT (overlay), LAST_TITLE_KEY,
                          g_strdup (adw_toast_get_title (toast)), g_free);
  adw_toast_overlay_add_toast (overlay, toast);
}

/* What the last toast shown through kh_widget_add_toast() in @overlay said, or NULL. */
const char *
kh_toast_overlay_get_last_title (AdwToastOverlay *overlay)
{
  g_return_val_if_fail (ADW_IS_TOAST_OVERLAY (overlay), NULL);
  return g_object_get_data (G_OBJECT (overlay), LAST_TITLE_KEY);
}
