/* kh-tooltip.c: a tooltip on a row that a list binds again and again
 *
 * GTK 4.8's gtk_widget_set_tooltip_text() asks the display which widget is under the pointer
 * (to show the new tooltip at once), even when the text is the same or stays empty. A list
 * binds its rows again on every scroll step and keystroke, so setting one per bind took as long
 * as the rest of the work: a keystroke in the household picker of a million records, 206 ms
 * against 113 (bench-window). Rows set it only when it changes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "kh-tooltip.h"

void
kh_widget_set_tooltip_if_changed (GtkWidget  *widget,
                                  const char *text)
{
  g_return_if_fail (GTK_IS_WIDGET (widget));

  if (g_strcmp0 (text, gtk_widget_get_tooltip_text (widget)) != 0)
    gtk_widget_set_tooltip_text (widget, text);
}
