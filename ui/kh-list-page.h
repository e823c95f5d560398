/* kh-list-page.h: a list of records with search, filters and sortable columns
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>
#include <json-c/json.h>

#include "kh-record-list.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_LIST_PAGE (kh_list_page_get_type ())

G_DECLARE_FINAL_TYPE (KhListPage, kh_list_page, KH, LIST_PAGE, GtkBox)

GtkWidget    *kh_list_page_new                (KhStore            *store,
                                               const char * const *entities,
                                               const char         *fixed_field,
                                               json_object        *fixed_value);
void          kh_list_page_set_self_assessment (KhListPage        *self,
                                                gboolean           enabled);
gboolean      kh_list_page_set_entity         (KhListPage         *self,
                                               const char         *entity);
GtkWidget    *kh_list_page_get_column_view    (KhListPage         *self);
void          kh_list_page_focus_search       (KhListPage         *self);

G_END_DECLS
