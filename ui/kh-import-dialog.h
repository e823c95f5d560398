/* kh-import-dialog.h: a list from a CSV or Excel file, previewed before anything is written
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-import.h"
#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_IMPORT_DIALOG (kh_import_dialog_get_type ())

G_DECLARE_FINAL_TYPE (KhImportDialog, kh_import_dialog, KH, IMPORT_DIALOG, AdwWindow)

KhImportDialog *kh_import_dialog_new (GtkWindow  *parent,
                                      KhStore    *store,
                                      const char *entity,
                                      const char *list_id);

G_END_DECLS
