/* kh-import-dialog.c: a list from a CSV or Excel file, previewed before anything is written
 *
 * The officer picks a file and what it holds (award entries of a list, people, registrations,
 * donations). A dry run shows at once how the columns were matched to fields (each can be
 * changed), how many rows are good, each bad row with its column and reason, and the rows that
 * look like records already there, with the choice to ask, skip or import them. Only when the
 * dry run is clean can the import run, all rows or none; the problems can be saved as a CSV
 * file to send back to the school. Both runs happen in a worker thread on a connection of its
 * own, so the window stays responsive on a file of a hundred thousand rows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"
#include "kh-import-dialog.h"
#include "kh-import.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"

#define MAX_SHOWN_PROBLEMS 100

static const char * const entities[] = { "award_entry", "person", "registration", "donation" };

struct _KhImportDialog
{
  AdwWindow             parent_instance;

  KhStore              *store;
  char                 *path;
  GPtrArray            *list_ids;
  GCancellable         *cancellable;
  KhImportReport       *report;        /* of the last dry run */
  gboolean              busy;
  GPtrArray             *mapping_rows;
  GPtrArray             *problem_rows;
  gboolean              updating;     /* filling the mapping rows: no new preview */
  GTask                *task;         /* the run in progress */
  guint                 progress_source;
  GtkFileChooserNative *chooser;

  GtkButton            *import_button;
  AdwActionRow         *file_row;
  AdwComboRow          *entity_row;
  AdwComboRow          *list_row;
  AdwComboRow          *duplicates_row;
  GtkLabel             *status_label;
  AdwPreferencesGroup  *mapping_group;
  AdwPreferencesGroup  *problems_group;
  GtkButton            *save_report_button;
};

G_DEFINE_FINAL_TYPE (KhImportDialog, kh_import_dialog, ADW_TYPE_WINDOW)

/* Running, in a worker ------------------------------------------------------------------------ */

typedef struct
{
  char               *db_path;
  char               *path;
  char               *entity;
  char               *list_id;
  GStrv               map;
  KhImportDuplicates  duplicates;
  gboolean            dry_run;
  int                 rows_done;   /* set by the worker, read by the window (atomically) */
} Job;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_free (job->db_path);
  g_free (job->path);
  g_free (job->entity);
  g_free (job->list_id);
  g_strfreev (job->map);
  g_free (job);
}

static void
progress_cb (guint    rows_done,
             gpointer user_data)
{
  Job *job = user_data;

  g_atomic_int_set (&job->rows_done, (int) rows_done);
}

static void
import_thread (GTask        *task,
               gpointer      source,
               gpointer      data,
               GCancellable *cancellable)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open_for_job (job->db_path, &error);
  KhImportOptions options = { 0 };
  KhImportReport *report;

  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  options.entity = job->entity;
  options.list_id = job->list_id;
  options.map = (const char * const *) job->map;
  options.duplicates = job->duplicates;
  options.dry_run = job->dry_run;
  options.cancellable = cancellable;
  options.progress = progress_cb;
  options.progress_data = job;
  report = kh_import_file (store, job->path, &options, &error);
  if (report == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, report, (GDestroyNotify) kh_import_report_free);
}

static const char *
selected_entity (KhImportDialog *self)
{
  guint i = adw_combo_row_get_selected (self->entity_row);

  return i < G_N_ELEMENTS (entities) ? entities[i] : entities[0];
}

static const char *
selected_list (KhImportDialog *self)
{
  guint i = adw_combo_row_get_selected (self->list_row);

  if (g_strcmp0 (selected_entity (self), "award_entry") != 0 || i >= self->list_ids->len)
    return NULL;
  return self->list_ids->pdata[i];
}

/* The mapping as the person set it, as COLUMN=field overrides by column number. */
static GStrv
current_map (KhImportDialog *self)
{
  const KhEntity *entity = kh_entity_lookup (selected_entity (self));
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  if (self->report == NULL || g_strcmp0 (self->report->entity, entity->name) != 0)
    return g_strv_builder_end (builder);
  for (guint i = 0; i < self->mapping_rows->len; i++)
    {
      AdwComboRow *row = self->mapping_rows->pdata[i];
      guint column = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (row), "column"));
      guint selected = adw_combo_row_get_selected (row);
      g_autofree char *spec = g_strdup_printf ("%u=%s", column + 1,
                                               selected == 0 || selected > entity->n_fields
                                               ? "" : entity->fields[selected - 1].name);

      g_strv_builder_add (builder, spec);
    }
  return g_strv_builder_end (builder);
}

static void run (KhImportDialog *self, gboolean dry_run);

/* A big file takes seconds: say how far the worker got, a few times a second. */
static gboolean
progress_tick_cb (gpointer data)
{
  KhImportDialog *self = data;
  Job *job;
  int rows;

  if (self->task == NULL)
    {
      self->progress_source = 0;
      return G_SOURCE_REMOVE;
    }
  job = g_task_get_task_data (self->task);
  rows = g_atomic_int_get (&job->rows_done);
  if (rows > 0)
    {
      g_autofree char *text = NULL;

      if (job->dry_run)
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Checking the file… %d row",
                                             "Checking the file… %d rows", (gulong) rows), rows);
      else
        text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Importing… %d row",
                                             "Importing… %d rows", (gulong) rows), rows);

      gtk_label_set_text (self->status_label, text);
    }
  return G_SOURCE_CONTINUE;
}

static void
stop_progress (KhImportDialog *self)
{
  g_clear_handle_id (&self->progress_source, g_source_remove);
  g_clear_object (&self->task);
}

/* Showing the preview ------------------------------------------------------------------------- */

static void
clear_rows (GPtrArray *rows)
{
  for (guint i = 0; i < rows->len; i++)
    {
      GtkWidget *row = rows->pdata[i];
      GtkWidget *group = gtk_widget_get_ancestor (row, ADW_TYPE_PREFERENCES_GROUP);

      if (group != NULL)
        adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (rows, 0);
}

static void
mapping_changed_cb (KhImportDialog *self)
{
  if (!self->updating)
    run (self, TRUE);
}

static void
show_mapping (KhImportDialog *self)
{
  KhImportReport *r = self->report;
  const KhEntity *entity = kh_entity_lookup (r->entity);
  g_autoptr(GtkStringList) choices = gtk_string_list_new (NULL);

  self->updating = TRUE;
  clear_rows (self->mapping_rows);
  gtk_string_list_append (choices, _("(not imported)"));
  for (guint f = 0; f < entity->n_fields; f++)
    gtk_string_list_append (choices, _(entity->fields[f].label));
  for (guint i = 0; i < r->headers->len; i++)
    {
      const char *header = r->headers->pdata[i];
      int field = g_array_index (r->mapping, int, i);
      GtkWidget *row;

      if (*header == '\0')
        continue;
      row = adw_combo_row_new ();
      /* A spreadsheet's header ("Họ & tên") is plain text, not markup. */
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), header);
      adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (choices));
      adw_combo_row_set_selected (ADW_COMBO_ROW (row), field >= 0 ? (guint) field + 1 : 0);
      g_object_set_data (G_OBJECT (row), "column", GUINT_TO_POINTER (i));
      g_signal_connect_swapped (row, "notify::selected", G_CALLBACK (mapping_changed_cb), self);
      adw_preferences_group_add (self->mapping_group, row);
      g_ptr_array_add (self->mapping_rows, row);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->mapping_group), self->mapping_rows->len > 0);
  self->updating = FALSE;
}

static void
add_problem_rows (KhImportDialog *self,
                  GPtrArray      *problems,
                  const char     *kind)
{
  for (guint i = 0; i < problems->len && self->problem_rows->len < MAX_SHOWN_PROBLEMS; i++)
    {
      KhImportProblem *p = problems->pdata[i];
      GtkWidget *row = adw_action_row_new ();
      g_autofree char *title = p->column != NULL
        ? g_strdup_printf (_("%s — row %u, column “%s”"), kind, p->row, p->column)
        : g_strdup_printf (_("%s — row %u"), kind, p->row);

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), p->reason);
      adw_preferences_group_add (self->problems_group, row);
      g_ptr_array_add (self->problem_rows, row);
    }
}

static void
show_report (KhImportDialog *self)
{
  KhImportReport *r = self->report;
  g_autofree char *summary = kh_import_report_summary (r);

  gtk_label_set_text (self->status_label, summary);
  show_mapping (self);
  clear_rows (self->problem_rows);
  add_problem_rows (self, r->errors, _("Error"));
  add_problem_rows (self, r->duplicates, _("Possible duplicate"));
  gtk_widget_set_visible (GTK_WIDGET (self->problems_group), self->problem_rows->len > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->save_report_button), r->n_errors + r->n_duplicates > 0);
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_button),
                            r->n_errors == 0 && !r->needs_decision && r->rows_valid > 0);
}

static void
run_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  KhImportReport *report = g_task_propagate_pointer (G_TASK (result), &error);
  KhImportDialog *self;
  gboolean dry_run;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_clear_pointer (&report, kh_import_report_free);
      return;
    }
  self = KH_IMPORT_DIALOG (user_data);
  dry_run = ((Job *) g_task_get_task_data (G_TASK (result)))->dry_run;
  if (self->task == G_TASK (result))
    stop_progress (self);
  self->busy = FALSE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->entity_row), TRUE);
  if (report == NULL)
    {
      g_clear_pointer (&self->report, kh_import_report_free);
      clear_rows (self->mapping_rows);
      clear_rows (self->problem_rows);
      gtk_widget_set_visible (GTK_WIDGET (self->mapping_group), FALSE);
      gtk_widget_set_visible (GTK_WIDGET (self->problems_group), FALSE);
      gtk_label_set_text (self->status_label, error->message);
      gtk_widget_set_sensitive (GTK_WIDGET (self->import_button), FALSE);
      return;
    }
  if (!dry_run && report->committed)
    {
      g_autofree char *summary = kh_import_report_summary (report);

      /* The rows came in through a connection of the worker's: tell the window's pages. The
       * summary outlives the dialog in the toast of the window it was opened from. */
      g_signal_emit_by_name (self->store, "changed", report->entity, "");
      kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (summary));
      kh_import_report_free (report);
      gtk_window_destroy (GTK_WINDOW (self));
      return;
    }
  g_clear_pointer (&self->report, kh_import_report_free);
  self->report = report;
  show_report (self);
}

static void
run (KhImportDialog *self,
     gboolean        dry_run)
{
  g_autoptr(GTask) task = NULL;
  Job *job;

  if (self->path == NULL)
    return;
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  job = g_new0 (Job, 1);
  job->db_path = g_strdup (kh_store_get_path (self->store));
  job->path = g_strdup (self->path);
  job->entity = g_strdup (selected_entity (self));
  job->list_id = g_strdup (selected_list (self));
  job->map = current_map (self);
  job->duplicates = (KhImportDuplicates) adw_combo_row_get_selected (self->duplicates_row);
  job->dry_run = dry_run;

  self->busy = TRUE;
  gtk_widget_set_sensitive (GTK_WIDGET (self->import_button), FALSE);
  gtk_label_set_text (self->status_label, dry_run ? _("Checking the file…") : _("Importing…"));

  /* The view cancels the task when it goes; the callback returns on cancellation first. A
   * real import is not abandoned half way: its transaction commits or rolls back whole. */
  task = g_task_new (NULL, self->cancellable, run_done_cb, self);
  g_task_set_source_tag (task, run);
  g_task_set_task_data (task, job, job_free);
  g_task_set_return_on_cancel (task, dry_run);
  stop_progress (self);
  self->task = g_object_ref (task);
  self->progress_source = g_timeout_add (250, progress_tick_cb, self);
  g_task_run_in_thread (task, import_thread);
}

/* Choosing the file, saving the report -------------------------------------------------------- */

void
kh_import_dialog_set_file (KhImportDialog *self,
                           const char     *path)
{
  g_autofree char *name = NULL;

  g_return_if_fail (KH_IS_IMPORT_DIALOG (self));

  g_free (self->path);
  self->path = g_strdup (path);
  name = g_path_get_basename (path);
  adw_action_row_set_subtitle (self->file_row, name);
  g_clear_pointer (&self->report, kh_import_report_free);
  run (self, TRUE);
}

gboolean
kh_import_dialog_is_busy (KhImportDialog *self)
{
  g_return_val_if_fail (KH_IS_IMPORT_DIALOG (self), FALSE);
  return self->busy;
}

/* Whether the last check was clean, so that the Import button works. */
gboolean
kh_import_dialog_can_import (KhImportDialog *self)
{
  g_return_val_if_fail (KH_IS_IMPORT_DIALOG (self), FALSE);
  return gtk_widget_get_sensitive (GTK_WIDGET (self->import_button));
}

/* What the Import button does. */
void
kh_import_dialog_import (KhImportDialog *self)
{
  g_return_if_fail (KH_IS_IMPORT_DIALOG (self));
  if (kh_import_dialog_can_import (self))
    run (self, FALSE);
}

const KhImportReport *
kh_import_dialog_get_report (KhImportDialog *self)
{
  g_return_val_if_fail (KH_IS_IMPORT_DIALOG (self), NULL);
  return self->report;
}

static void
choose_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    KhImportDialog  *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);

      if (path != NULL)
        kh_import_dialog_set_file (self, path);
    }
  g_clear_object (&self->chooser);
}

static void
choose_clicked_cb (KhImportDialog *self)
{
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  self->chooser = gtk_file_chooser_native_new (_("Choose a list"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Open"), NULL);
  gtk_file_filter_set_name (filter, _("Excel workbooks and CSV files"));
  gtk_file_filter_add_suffix (filter, "xlsx");
  gtk_file_filter_add_suffix (filter, "csv");
  gtk_file_filter_add_suffix (filter, "txt");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (choose_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  KhImportDialog  *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->report != NULL)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = g_file_get_path (file);
      g_autoptr(GError) error = NULL;

      if (path == NULL || !kh_import_report_save_csv (self->report, path, &error))
        gtk_label_set_text (self->status_label, error ? error->message : _("Choose a file on this computer."));
      else
        gtk_label_set_text (self->status_label, _("The report was saved."));
    }
  g_clear_object (&self->chooser);
}

static void
save_report_clicked_cb (KhImportDialog *self)
{
  self->chooser = gtk_file_chooser_native_new (_("Save the report"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), _("import-problems.csv"));
  g_signal_connect (self->chooser, "response", G_CALLBACK (save_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
import_clicked_cb (KhImportDialog *self)
{
  kh_import_dialog_import (self);
}

static void
options_changed_cb (KhImportDialog *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->list_row),
                          g_strcmp0 (selected_entity (self), "award_entry") == 0);
  g_clear_pointer (&self->report, kh_import_report_free);
  run (self, TRUE);
}

/* Object -------------------------------------------------------------------------------------- */

static void
kh_import_dialog_dispose (GObject *object)
{
  KhImportDialog *self = (KhImportDialog *) object;

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  stop_progress (self);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_pointer (&self->mapping_rows, g_ptr_array_unref);
  g_clear_pointer (&self->problem_rows, g_ptr_array_unref);
  g_clear_object (&self->store);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_IMPORT_DIALOG);

  G_OBJECT_CLASS (kh_import_dialog_parent_class)->dispose (object);
}

static void
kh_import_dialog_finalize (GObject *object)
{
  KhImportDialog *self = (KhImportDialog *) object;

  g_free (self->path);
  g_clear_pointer (&self->list_ids, g_ptr_array_unref);
  g_clear_pointer (&self->report, kh_import_report_free);

  G_OBJECT_CLASS (kh_import_dialog_parent_class)->finalize (object);
}

static void
kh_import_dialog_class_init (KhImportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_import_dialog_dispose;
  object_class->finalize = kh_import_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-import-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, import_button);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, file_row);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, entity_row);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, list_row);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, duplicates_row);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, mapping_group);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, problems_group);
  gtk_widget_class_bind_template_child (widget_class, KhImportDialog, save_report_button);
  gtk_widget_class_bind_template_callback (widget_class, import_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, choose_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, save_report_clicked_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
kh_import_dialog_init (KhImportDialog *self)
{
  g_autoptr(GtkStringList) kinds = gtk_string_list_new (NULL);

  self->mapping_rows = g_ptr_array_new ();
  self->problem_rows = g_ptr_array_new ();
  self->list_ids = g_ptr_array_new_with_free_func (g_free);
  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < G_N_ELEMENTS (entities); i++)
    gtk_string_list_append (kinds, _(kh_entity_lookup (entities[i])->label_plural));
  adw_combo_row_set_model (self->entity_row, G_LIST_MODEL (kinds));
}

KhImportDialog *
kh_import_dialog_new (GtkWindow  *parent,
                      KhStore    *store,
                      const char *entity,
                      const char *list_id)
{
  KhImportDialog *self;
  g_autoptr(GtkStringList) titles = gtk_string_list_new (NULL);
  KhQuery query = { .order_by = "title" };
  json_object *lists;
  guint selected = 0;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_IMPORT_DIALOG, "transient-for", parent, NULL);
  self->store = g_object_ref (store);

  lists = kh_store_list (store, "award_list", &query, NULL);
  for (size_t i = 0; lists != NULL && i < json_object_array_length (lists); i++)
    {
      json_object *l = json_object_array_get_idx (lists, i);
      const char *id = json_object_get_string (json_object_object_get (l, "id"));
      g_autofree char *title = g_strdup_printf ("%s (%s)",
                                                json_object_get_string (json_object_object_get (l, "title")),
                                                json_object_get_string (json_object_object_get (l, "school_year")));

      if (g_strcmp0 (id, list_id) == 0)
        selected = (guint) i;
      gtk_string_list_append (titles, title);
      g_ptr_array_add (self->list_ids, g_strdup (id));
    }
  json_object_put (lists);
  adw_combo_row_set_model (self->list_row, G_LIST_MODEL (titles));
  adw_combo_row_set_selected (self->list_row, selected);
  for (guint i = 0; entity != NULL && i < G_N_ELEMENTS (entities); i++)
    if (g_strcmp0 (entities[i], entity) == 0)
      adw_combo_row_set_selected (self->entity_row, i);
  gtk_widget_set_visible (GTK_WIDGET (self->list_row), g_strcmp0 (selected_entity (self), "award_entry") == 0);

  g_signal_connect_swapped (self->entity_row, "notify::selected", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->list_row, "notify::selected", G_CALLBACK (options_changed_cb), self);
  g_signal_connect_swapped (self->duplicates_row, "notify::selected", G_CALLBACK (options_changed_cb), self);
  return self;
}
