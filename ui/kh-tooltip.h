/* kh-tooltip.h: a tooltip on a row that a list binds again and again
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

void kh_widget_set_tooltip_if_changed (GtkWidget  *widget,
                                       const char *text);

G_END_DECLS
