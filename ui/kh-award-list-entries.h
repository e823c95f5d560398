/* kh-award-list-entries.h: an award list's entries, count and total, where they are added,
 * printed and exported
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_AWARD_LIST_ENTRIES (kh_award_list_entries_get_type ())

G_DECLARE_FINAL_TYPE (KhAwardListEntries, kh_award_list_entries, KH, AWARD_LIST_ENTRIES, AdwPreferencesGroup)

GtkWidget *kh_award_list_entries_new    (KhStore            *store,
                                         const char         *list_id);
void       kh_award_list_entries_reload (KhAwardListEntries *self);

G_END_DECLS
