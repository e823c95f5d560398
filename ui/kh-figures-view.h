/* kh-figures-view.h: the year's figures with a chart, on the Overview page
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_FIGURES_VIEW (kh_figures_view_get_type ())

G_DECLARE_FINAL_TYPE (KhFiguresView, kh_figures_view, KH, FIGURES_VIEW, GtkBox)

GtkWidget   *kh_figures_view_new        (void);
void         kh_figures_view_set_store  (KhFiguresView *self,
                                         KhStore       *store);
void         kh_figures_view_refresh    (KhFiguresView *self);

G_END_DECLS
