/* kh-ui-test-private.h: what the tests read inside the windows and pages
 *
 * A person sees these things on the screen; a test asks for them here instead of walking the
 * widget tree. Only the tests (tests/ui, tests/lists, tests/bench) and the files that define
 * these functions include this header, so the application cannot come to depend on them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-figures-view.h"
#include "kh-import-dialog.h"
#include "kh-list-page.h"
#include "kh-sync-indicator.h"
#include "kh-units-page.h"
#include "kh-window.h"

G_BEGIN_DECLS

const char           *kh_window_get_last_toast        (KhWindow        *self);

KhRecordList         *kh_list_page_get_list           (KhListPage      *self);
GtkWidget            *kh_list_page_get_search_entry   (KhListPage      *self);
gboolean              kh_list_page_is_empty_shown     (KhListPage      *self);

gboolean              kh_units_page_is_empty_shown    (KhUnitsPage     *self);
const char           *kh_units_page_get_selected_id   (KhUnitsPage     *self);
GtkWidget            *kh_units_page_get_search_entry  (KhUnitsPage     *self);
guint                 kh_units_page_get_n_found       (KhUnitsPage     *self);
guint                 kh_units_page_get_n_shown       (KhUnitsPage     *self);
guint                 kh_units_page_get_n_former      (KhUnitsPage     *self);
guint                 kh_units_page_get_n_successors  (KhUnitsPage     *self);

const char           *kh_sync_indicator_get_text      (KhSyncIndicator *self);

gboolean              kh_import_dialog_is_busy        (KhImportDialog  *self);
gboolean              kh_import_dialog_can_import     (KhImportDialog  *self);
const KhImportReport *kh_import_dialog_get_report     (KhImportDialog  *self);

json_object          *kh_figures_view_get_report      (KhFiguresView   *self);

G_END_DECLS
