/* kh-ui-test-private.h: what the tests read and do inside the windows, pages and dialogs
 *
 * A person sees these things on the screen and does them with a click; a test asks for them
 * here instead of walking the widget tree or synthesizing events. Only the tests (tests/ui,
 * tests/lists, tests/bench) and the files that define these functions include this header, so
 * the application cannot come to depend on them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-activity-page.h"
#include "kh-award-list-entries.h"
#include "kh-award-list-workflow.h"
#include "kh-evaluation-dialog.h"
#include "kh-figures-view.h"
#include "kh-import-dialog.h"
#include "kh-list-page.h"
#include "kh-overview-page.h"
#include "kh-record-editor.h"
#include "kh-record-picker.h"
#include "kh-sync-indicator.h"
#include "kh-sync-page.h"
#include "kh-units-page.h"
#include "kh-window.h"

G_BEGIN_DECLS

/* The window: which page shows, the pages by name, the last toast and the conflicts count. */
const char           *kh_window_get_page_name          (KhWindow           *self);
GtkWidget            *kh_window_get_page               (KhWindow           *self,
                                                        const char         *name);
const char * const   *kh_window_list_pages             (void);
const char           *kh_window_get_last_toast         (KhWindow           *self);
gint64                kh_window_get_conflicts          (KhWindow           *self);
gint64                kh_window_get_refused            (KhWindow           *self);

/* The overview: whether it shows the first-run welcome instead of the figures. */
gboolean              kh_overview_page_is_first_run_shown (KhOverviewPage *self);

/* The list page: its model and search, and the buttons that open the record editor. */
KhRecordList         *kh_list_page_get_list            (KhListPage         *self);
GtkWidget            *kh_list_page_get_search_entry    (KhListPage         *self);
GtkDropDown          *kh_list_page_get_filter          (KhListPage         *self,
                                                        const char         *key);
GtkWidget            *kh_list_page_get_unit_filter     (KhListPage         *self);
GtkWidget            *kh_list_page_get_list_filter     (KhListPage         *self);
gboolean              kh_list_page_is_empty_shown      (KhListPage         *self);
gboolean              kh_list_page_is_column_shown     (KhListPage         *self,
                                                        const char         *field);
GtkWidget            *kh_list_page_new_record          (KhListPage         *self);
GtkWidget            *kh_list_page_recognize           (KhListPage         *self);
GtkWidget            *kh_list_page_open_record         (KhListPage         *self,
                                                        const char         *id);
GtkWidget            *kh_list_page_self_assess         (KhListPage         *self,
                                                        const char         *unit_id,
                                                        int                 year);

/* The units page: the tree as shown, its selection and search, and the unit buttons. */
gboolean              kh_units_page_is_empty_shown     (KhUnitsPage        *self);
const char           *kh_units_page_get_selected_id    (KhUnitsPage        *self);
GtkWidget            *kh_units_page_get_search_entry   (KhUnitsPage        *self);
guint                 kh_units_page_get_n_found        (KhUnitsPage        *self);
guint                 kh_units_page_get_n_shown        (KhUnitsPage        *self);
guint                 kh_units_page_get_n_former       (KhUnitsPage        *self);
guint                 kh_units_page_get_n_successors   (KhUnitsPage        *self);
gboolean              kh_units_page_select_unit        (KhUnitsPage        *self,
                                                        const char         *id);
GtkWidget            *kh_units_page_new_unit           (KhUnitsPage        *self);
GtkWidget            *kh_units_page_edit_unit          (KhUnitsPage        *self);
GtkWidget            *kh_units_page_add_former_unit    (KhUnitsPage        *self);

/* The sync page: the conflict cards and refused changes shown, and their controls by name. */
guint                 kh_sync_page_get_n_shown         (KhSyncPage         *self);
GtkWidget            *kh_sync_page_get_files_row       (KhSyncPage         *self);
GtkWidget            *kh_sync_page_get_download_button (KhSyncPage         *self);
GtkWidget            *kh_sync_page_find_widget         (KhSyncPage         *self,
                                                        const char         *name);
guint                 kh_sync_page_get_n_refused       (KhSyncPage         *self);
GtkWidget            *kh_sync_page_find_refused_widget (KhSyncPage         *self,
                                                        const char         *name);

/* The activity page: what it shows ("status", "loading", "list", "empty", "error") and the title
 * of its status page (or the error's message), the rows, the filters, and what Export writes. */
gboolean              kh_activity_page_is_busy         (KhActivityPage     *self);
const char           *kh_activity_page_get_shown       (KhActivityPage     *self);
const char           *kh_activity_page_get_status_title (KhActivityPage    *self);
guint                 kh_activity_page_get_n_shown     (KhActivityPage     *self);
char                 *kh_activity_page_get_row_text    (KhActivityPage     *self,
                                                        guint               n);
gboolean              kh_activity_page_set_person      (KhActivityPage     *self,
                                                        const char         *name);
void                  kh_activity_page_set_kind        (KhActivityPage     *self,
                                                        const char         *key);
gboolean              kh_activity_page_export          (KhActivityPage     *self,
                                                        const char         *path,
                                                        GError            **error);

/* The sync indicator in the header bar: what it says. */
const char           *kh_sync_indicator_get_text       (KhSyncIndicator    *self);

/* The record editor: its rows and error, and its Save, Delete and History buttons. */
const char           *kh_record_editor_get_id          (KhRecordEditor     *self);
GtkWidget            *kh_record_editor_get_entries     (KhRecordEditor     *self);
GtkWidget            *kh_record_editor_get_attachments (KhRecordEditor     *self);

/* An award list's payment, recorded from the steps on its page (kh-award-list-workflow.h). */
KhAwardListWorkflow  *kh_record_editor_get_workflow    (KhRecordEditor     *self);

/* An award list's entries in its editor: the count and total shown, the rows, Add Entry and
 * what Export writes. */
guint                 kh_award_list_entries_get_count  (KhAwardListEntries *self);
gint64                kh_award_list_entries_get_total  (KhAwardListEntries *self);
guint                 kh_award_list_entries_get_n_rows (KhAwardListEntries *self);
GtkWidget            *kh_award_list_entries_add        (KhAwardListEntries *self);
gboolean              kh_award_list_entries_export     (KhAwardListEntries *self,
                                                        const char         *path,
                                                        gboolean            include_sensitive,
                                                        GError            **error);
GtkWidget            *kh_award_list_entries_open_export (KhAwardListEntries *self);
GtkWidget            *kh_record_editor_get_row         (KhRecordEditor     *self,
                                                        const char         *field);
gboolean              kh_record_editor_set_ref         (KhRecordEditor     *self,
                                                        const char         *field,
                                                        const char         *id);
GtkWidget            *kh_record_editor_get_picker      (KhRecordEditor     *self,
                                                        const char         *field);
const char           *kh_record_editor_get_error       (KhRecordEditor     *self);
gboolean              kh_record_editor_save            (KhRecordEditor     *self);
gboolean              kh_record_editor_delete          (KhRecordEditor     *self);
gboolean              kh_record_editor_erase           (KhRecordEditor     *self,
                                                        const char         *reason);
guint                 kh_record_editor_show_history    (KhRecordEditor     *self);
const char           *kh_record_editor_get_history_title (KhRecordEditor   *self,
                                                          guint             n);
/* The approval state and steps of the record (kh-workflow-bar.h), or NULL. */
GtkWidget            *kh_record_editor_get_approval    (KhRecordEditor     *self);
/* The subtitle (when and who) of the @n-th row of the history, or NULL. */
const char           *kh_record_editor_get_history_subtitle (KhRecordEditor *self,
                                                             guint           n);

/* A record picker: its search entry, the matches it shows (at most KH_RECORD_PICKER_MAX_SHOWN),
 * the whole list they come from, a click on one, and what the button and the status say. */
GtkWidget            *kh_record_picker_get_search_entry (KhRecordPicker    *self);
GListModel           *kh_record_picker_get_shown       (KhRecordPicker     *self);
GtkWidget            *kh_record_picker_get_popover     (KhRecordPicker     *self);
KhRecordList         *kh_record_picker_get_list        (KhRecordPicker     *self);
void                  kh_record_picker_choose          (KhRecordPicker     *self,
                                                        guint               position);
const char           *kh_record_picker_get_status      (KhRecordPicker     *self);
const char           *kh_record_picker_get_label       (KhRecordPicker     *self);

/* The evaluation dialog: scoring a criterion, the result and its Save button. */
gboolean              kh_evaluation_dialog_set_score   (KhEvaluationDialog *self,
                                                        const char         *code,
                                                        int                 points);
const char           *kh_evaluation_dialog_get_result  (KhEvaluationDialog *self,
                                                        int                *total);
gboolean              kh_evaluation_dialog_save        (KhEvaluationDialog *self);

/* The import dialog: choosing the file, importing, and what the preview and import say. */
void                  kh_import_dialog_set_file        (KhImportDialog     *self,
                                                        const char         *path);
void                  kh_import_dialog_import          (KhImportDialog     *self);
gboolean              kh_import_dialog_is_busy         (KhImportDialog     *self);
gboolean              kh_import_dialog_can_import      (KhImportDialog     *self);
const KhImportReport *kh_import_dialog_get_report      (KhImportDialog     *self);

/* The figures view: the report it shows. */
json_object          *kh_figures_view_get_report       (KhFiguresView      *self);
json_object          *kh_figures_view_get_years        (KhFiguresView      *self);
void                  kh_figures_view_bar_lengths      (json_object        *model,
                                                        double             *registered,
                                                        double             *achieved,
                                                        double             *eligible);
PangoLayout          *kh_figures_view_create_chart_layout (GtkWidget       *area,
                                                         const char      *text);
/* Whether the chart's legend was drawn whole the last time the chart was drawn. */
gboolean              kh_figures_view_is_legend_whole  (KhFiguresView      *self);

G_END_DECLS
