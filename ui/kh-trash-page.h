/* kh-trash-page.h: the records deleted in the last months, each restored in one click
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "kh-store.h"

G_BEGIN_DECLS

#define KH_TYPE_TRASH_PAGE (kh_trash_page_get_type ())

G_DECLARE_FINAL_TYPE (KhTrashPage, kh_trash_page, KH, TRASH_PAGE, AdwBin)

GtkWidget *kh_trash_page_new     (KhStore     *store);
/* Reads the Trash again (on another thread); "loaded" is emitted when it is shown. */
void       kh_trash_page_reload  (KhTrashPage *self);
guint      kh_trash_page_get_n_items (KhTrashPage *self);

G_END_DECLS
