/* kh-sync-page.h: sync state, and the conflicts a person must resolve
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"
#include "kh-sync-client.h"

G_BEGIN_DECLS

#define KH_TYPE_SYNC_PAGE (kh_sync_page_get_type ())

G_DECLARE_FINAL_TYPE (KhSyncPage, kh_sync_page, KH, SYNC_PAGE, GtkBox)

GtkWidget *kh_sync_page_new            (KhStore    *store);
void       kh_sync_page_reload         (KhSyncPage *self);
void       kh_sync_page_update_refused (KhSyncPage *self);
char      *kh_sync_page_translate_reason (const char *reason);

G_END_DECLS
