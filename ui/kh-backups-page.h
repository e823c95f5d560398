/* kh-backups-page.h: the Preferences page of the replica's backups, each restorable
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_BACKUPS_PAGE (kh_backups_page_get_type ())

G_DECLARE_FINAL_TYPE (KhBackupsPage, kh_backups_page, KH, BACKUPS_PAGE, AdwPreferencesPage)

GtkWidget *kh_backups_page_new        (KhStore       *store);
/* Lists the backups again. */
void       kh_backups_page_refresh    (KhBackupsPage *self);
guint      kh_backups_page_get_n_rows (KhBackupsPage *self);
/* What the Restore button does once confirmed: puts the backup @path back and emits
 * "restored"; FALSE with @error when refused. */
gboolean   kh_backups_page_restore    (KhBackupsPage *self,
                                       const char    *path,
                                       GError       **error);

G_END_DECLS
