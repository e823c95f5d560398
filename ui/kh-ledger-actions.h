/* kh-ledger-actions.h: the window's actions for a fund's statement and a donation's receipt
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "kh-store.h"

G_BEGIN_DECLS

void     kh_window_class_ledger_actions_init (GtkWidgetClass  *widget_class);
gboolean kh_ledger_save_statement            (KhStore         *store,
                                              const char      *fund_id,
                                              int              year,
                                              const char      *path,
                                              GError         **error);

G_END_DECLS
