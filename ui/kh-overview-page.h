/* kh-overview-page.h: the year's figures at a glance
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_OVERVIEW_PAGE (kh_overview_page_get_type ())

G_DECLARE_FINAL_TYPE (KhOverviewPage, kh_overview_page, KH, OVERVIEW_PAGE, GtkBox)

GtkWidget *kh_overview_page_new     (KhStore        *store);
void       kh_overview_page_refresh (KhOverviewPage *self);
gboolean   kh_overview_page_is_busy (KhOverviewPage *self);

G_END_DECLS
