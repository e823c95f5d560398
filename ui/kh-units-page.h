/* kh-units-page.h: the tree of units (province, communes and wards, schools) and their succession
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_UNITS_PAGE (kh_units_page_get_type ())

G_DECLARE_FINAL_TYPE (KhUnitsPage, kh_units_page, KH, UNITS_PAGE, GtkBox)

GtkWidget *kh_units_page_new          (KhStore     *store);
void       kh_units_page_focus_search (KhUnitsPage *self);

G_END_DECLS
