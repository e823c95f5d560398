/* kh-screenshot.h: rendering a window to PNG, for people reviewing pages without a display
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void     kh_widget_wait_for_paint (GtkWidget   *widget,
                                   guint        frames);
gboolean kh_widget_save_png       (GtkWidget   *widget,
                                   const char  *path,
                                   GError     **error);

G_END_DECLS
