/* kh-activity-page.h: the changes made in the account's area in a period, as the server keeps
 * them (a supervisor's view), filtered and exported
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"
#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_ACTIVITY_PAGE (kh_activity_page_get_type ())

G_DECLARE_FINAL_TYPE (KhActivityPage, kh_activity_page, KH, ACTIVITY_PAGE, AdwBin)

GtkWidget *kh_activity_page_new    (KhStore        *store);
/* Asks the server again for the period chosen. */
void       kh_activity_page_reload (KhActivityPage *self);

G_END_DECLS
