/* kh-width-choice.h: one of two layouts of the same content, the wide one where it fits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KH_TYPE_WIDTH_CHOICE (kh_width_choice_get_type ())

G_DECLARE_FINAL_TYPE (KhWidthChoice, kh_width_choice, KH, WIDTH_CHOICE, GtkWidget)

GtkWidget *kh_width_choice_new          (void);
GtkWidget *kh_width_choice_get_shown    (KhWidthChoice *self);

G_END_DECLS
