/* kh-unit-row.h: a unit's name over a line of detail, as the unit tree and its search show it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define KH_TYPE_UNIT_ROW (kh_unit_row_get_type ())

G_DECLARE_FINAL_TYPE (KhUnitRow, kh_unit_row, KH, UNIT_ROW, GtkBox)

GtkWidget *kh_unit_row_new         (void);
void       kh_unit_row_set_title   (KhUnitRow  *self,
                                    const char *title);
void       kh_unit_row_set_detail  (KhUnitRow  *self,
                                    const char *detail);
void       kh_unit_row_set_former  (KhUnitRow  *self,
                                    gboolean    former);

G_END_DECLS
