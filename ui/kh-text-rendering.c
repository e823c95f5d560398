/* kh-text-rendering.c: font rendering settings that keep Vietnamese tone marks whole
 *
 * With medium or full hinting, FreeType fits every horizontal stem and mark of a glyph to
 * whole pixels; at text sizes the two stacked marks of Vietnamese letters (ễ ồ ầ ẫ ặ) then
 * fall on the same rows and the upper one disappears into the lower one, so "Nguyễn" reads
 * "Nguyên" and "Hồng" "Hông". GTK 4.8's cairo renderer, which draws wherever OpenGL is missing
 * (old laptops, remote sessions, GSK_RENDERER=cairo), draws glyphs with the hinting the
 * settings ask for; GTK's default under X11 without a settings daemon is medium. Slight
 * hinting (GNOME's own default) fits glyphs vertically only to the font's own zones and keeps
 * both marks, so the application asks for it whenever medium or full is set. This is a
 * setting of this process only; the desktop's settings are left as they are.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-text-rendering.h"

static void
clamp_hint_style (GtkSettings *settings)
{
  g_autofree char *style = NULL;

  g_object_get (settings, "gtk-xft-hintstyle", &style, NULL);
  if (g_strcmp0 (style, "hintmedium") == 0 || g_strcmp0 (style, "hintfull") == 0)
    g_object_set (settings, "gtk-xft-hintstyle", "hintslight", NULL);
}

static void
hint_style_notify_cb (GtkSettings *settings,
                      GParamSpec  *pspec,
                      gpointer     user_data)
{
  clamp_hint_style (settings);
}

/* Asks for slight hinting on @display, now and when the desktop's settings change. */
void
kh_text_rendering_setup (GdkDisplay *display)
{
  GtkSettings *settings;

  g_return_if_fail (GDK_IS_DISPLAY (display));

  settings = gtk_settings_get_for_display (display);
  if (g_object_get_data (G_OBJECT (settings), "kh-text-rendering") != NULL)
    return;
  g_object_set_data (G_OBJECT (settings), "kh-text-rendering", GINT_TO_POINTER (1));
  clamp_hint_style (settings);
  g_signal_connect (settings, "notify::gtk-xft-hintstyle", G_CALLBACK (hint_style_notify_cb), NULL);
}
