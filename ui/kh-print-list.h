/* kh-print-list.h: an award list printed with GtkPrintOperation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "kh-store.h"

G_BEGIN_DECLS

gboolean  kh_print_award_list        (GtkWindow   *parent,
                                      KhStore     *store,
                                      const char  *list_id,
                                      const char  *export_pdf,
                                      int         *n_pages,
                                      GError     **error);
char     *kh_print_selected_list_id  (GtkWidget   *page);

G_END_DECLS
