/* kh-screenshot.c: rendering a window to PNG, for people reviewing pages without a display
 *
 * The widget is snapshotted through a GtkWidgetPaintable, rendered with the window's own GSK
 * renderer and saved with gdk_texture_save_to_png(): the same pixels a person would see.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-screenshot.h"

static void
after_paint_cb (GdkFrameClock *clock,
                guint         *count)
{
  (*count)++;
}

static gboolean
timeout_cb (gpointer data)
{
  gboolean *expired = data;

  *expired = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @widget's window has painted @frames more frames (or five seconds
 * passed), so a page just switched to is laid out and drawn. */
void
kh_widget_wait_for_paint (GtkWidget *widget,
                          guint      frames)
{
  GdkFrameClock *clock;
  guint count = 0;
  gboolean expired = FALSE;
  guint timeout;
  gulong id;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  /* A window just presented may take a while to map on a busy machine. */
  timeout = g_timeout_add (10000, timeout_cb, &expired);
  while ((!gtk_widget_get_mapped (widget) || gtk_widget_get_width (widget) <= 0) && !expired)
    g_main_context_iteration (NULL, TRUE);
  if (!expired)
    g_source_remove (timeout);
  expired = FALSE;

  clock = gtk_widget_get_frame_clock (widget);
  if (clock == NULL)
    return;
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &count);
  timeout = g_timeout_add (5000, timeout_cb, &expired);
  /* One redraw is asked for, so a frame comes even when nothing changed. */
  gtk_widget_queue_draw (widget);
  while (count < frames && !expired)
    {
      guint seen = count;

      g_main_context_iteration (NULL, TRUE);
      if (count > seen && count < frames)
        gtk_widget_queue_draw (widget);
    }
  /* Idle work queued by the page (figures, lists) runs before the picture is taken. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_signal_handler_disconnect (clock, id);
  if (!expired)
    g_source_remove (timeout);
}

typedef struct
{
  GdkPaintable  *paintable;
  int            width;
  int            height;
  GskRenderNode *node;
} Capture;

static GskRenderNode *
snapshot_node (GdkPaintable *paintable,
               int           width,
               int           height)
{
  GtkSnapshot *snapshot = gtk_snapshot_new ();

  gdk_paintable_snapshot (paintable, GDK_SNAPSHOT (snapshot), width, height);
  return gtk_snapshot_free_to_node (snapshot);
}

static void
capture_cb (GdkFrameClock *clock,
            Capture       *capture)
{
  if (capture->node == NULL)
    capture->node = snapshot_node (capture->paintable, capture->width, capture->height);
}

gboolean
kh_widget_save_png (GtkWidget   *widget,
                    const char  *path,
                    GError     **error)
{
  g_autoptr(GdkPaintable) paintable = NULL;
  g_autoptr(GskRenderNode) node = NULL;
  g_autoptr(GdkTexture) texture = NULL;
  GtkNative *native;
  GskRenderer *renderer;
  int width, height;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), FALSE);

  width = gtk_widget_get_width (widget);
  height = gtk_widget_get_height (widget);
  native = gtk_widget_get_native (widget);
  renderer = native ? gtk_native_get_renderer (native) : NULL;
  if (width <= 0 || height <= 0 || renderer == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The window is not shown, so there is nothing to save in “%s”."), path);
      return FALSE;
    }

  paintable = gtk_widget_paintable_new (widget);
  node = snapshot_node (paintable, width, height);
  if (node == NULL)
    {
      /* A widget whose layout is pending gives no node. Right after the window painted a
       * frame its layout is fresh, so take the picture then; a busy machine may need several
       * frames before one comes without a new relayout queued. */
      Capture capture = { paintable, width, height, NULL };
      GdkFrameClock *clock = gtk_widget_get_frame_clock (widget);
      gboolean expired = FALSE;
      guint timeout = g_timeout_add (20000, timeout_cb, &expired);
      gulong id = clock ? g_signal_connect (clock, "after-paint", G_CALLBACK (capture_cb), &capture) : 0;

      while (clock != NULL && capture.node == NULL && !expired)
        {
          gtk_widget_queue_draw (widget);
          g_main_context_iteration (NULL, TRUE);
        }
      if (id != 0)
        g_signal_handler_disconnect (clock, id);
      if (!expired)
        g_source_remove (timeout);
      node = g_steal_pointer (&capture.node);
    }
  if (node == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Nothing was drawn for “%s”."), path);
      return FALSE;
    }
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  if (!gdk_texture_save_to_png (texture, path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Could not write “%s”."), path);
      return FALSE;
    }
  return TRUE;
}
