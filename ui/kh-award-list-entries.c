/* kh-award-list-entries.c: an award list's entries, count and total, where they are added,
 * printed and exported
 *
 * Shown under a list's own fields in its editor: the list is where its entries are added,
 * seen, totalled, printed and exported, with no row to select first and no CLI. The count and
 * total leave cancelled entries out, as the printed list does; the rows are in the printed
 * list's order (by given name). A list has at most some hundreds of entries, read with one
 * indexed query (award_entry.list_id); past MAX_ROWS the rest are on the entries page.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-award-list-entries.h"
#include "kh-entity.h"
#include "kh-export.h"
#include "kh-format.h"
#include "kh-print-list.h"
#include "kh-record-editor.h"
#include "kh-store-sql.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"

#define MAX_ROWS 500

struct _KhAwardListEntries
{
  AdwPreferencesGroup  parent_instance;

  KhStore             *store;
  char                *list_id;
  GPtrArray           *rows;      /* the entry rows, to remove on reload */
  guint                count;     /* entries not cancelled */
  gint64               total;     /* their amounts */
  GtkFileChooserNative *chooser;
  gboolean             include_sensitive; /* what the export being chosen was asked to carry */
};

G_DEFINE_FINAL_TYPE (KhAwardListEntries, kh_award_list_entries, ADW_TYPE_PREFERENCES_GROUP)

typedef struct
{
  char   *id;
  char   *name;
  char   *category;
  char   *status;
  gint64  amount;
} Entry;

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->id);
  g_free (e->name);
  g_free (e->category);
  g_free (e->status);
  g_free (e);
}

static int
entry_compare (gconstpointer a,
               gconstpointer b)
{
  const Entry *x = *(Entry * const *) a, *y = *(Entry * const *) b;

  return kh_name_compare (x->name, y->name, KH_NAME_ORDER_GIVEN_FIRST);
}

static void
entry_activated_cb (AdwActionRow       *row,
                    KhAwardListEntries *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "id");
  GtkWidget *editor = kh_record_editor_new (self->store, "award_entry", id, NULL);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_signal_connect_object (editor, "saved", G_CALLBACK (kh_award_list_entries_reload), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "deleted", G_CALLBACK (kh_award_list_entries_reload), self, G_CONNECT_SWAPPED);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (editor));
}

static GPtrArray *
read_entries (KhAwardListEntries *self)
{
  GPtrArray *entries = g_ptr_array_new_with_free_func (entry_free);
  sqlite3_stmt *stmt;

  stmt = kh_store_prepare (self->store,
                           "SELECT id, recipient_name, category, status, amount FROM award_entry"
                           " WHERE deleted = 0 AND list_id = ?1", NULL);
  if (stmt == NULL)
    return entries;
  sqlite3_bind_text (stmt, 1, self->list_id, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      Entry *e = g_new0 (Entry, 1);

      e->id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
      e->name = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
      e->category = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
      e->status = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
      e->amount = sqlite3_column_int64 (stmt, 4);
      g_ptr_array_add (entries, e);
    }
  sqlite3_reset (stmt);
  g_ptr_array_sort (entries, entry_compare);
  return entries;
}

/* Reads the entries again: after one is added, changed or deleted. */
void
kh_award_list_entries_reload (KhAwardListEntries *self)
{
  const KhEntity *entity = kh_entity_lookup ("award_entry");
  const KhField *category = kh_entity_get_field (entity, "category");
  const KhField *status = kh_entity_get_field (entity, "status");
  g_autoptr(GPtrArray) entries = NULL;
  g_autofree char *total = NULL;
  g_autofree char *description = NULL;
  KhFormatStyle style = kh_format_style_for_locale ();

  g_return_if_fail (KH_IS_AWARD_LIST_ENTRIES (self));

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->rows->pdata[i]);
  g_ptr_array_set_size (self->rows, 0);

  entries = read_entries (self);
  self->count = 0;
  self->total = 0;
  for (guint i = 0; i < entries->len; i++)
    {
      Entry *e = entries->pdata[i];
      g_autofree char *amount = kh_format_money_style (e->amount, style);
      g_autofree char *subtitle = NULL;
      GtkWidget *row;

      if (g_strcmp0 (e->status, "cancelled") != 0)
        {
          self->count++;
          self->total += e->amount;
        }
      if (i >= MAX_ROWS)
        continue;
      /* TRANSLATORS: an entry under its list: category · status */
      subtitle = g_strdup_printf (_("%s · %s"), kh_field_enum_label (category, e->category),
                                  kh_field_enum_label (status, e->status));
      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), e->name);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
      {
        GtkWidget *label = gtk_label_new (amount);

        gtk_widget_add_css_class (label, "numeric");
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), label);
      }
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      g_object_set_data_full (G_OBJECT (row), "id", g_strdup (e->id), g_free);
      g_signal_connect (row, "activated", G_CALLBACK (entry_activated_cb), self);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
      g_ptr_array_add (self->rows, row);
    }
  if (entries->len > MAX_ROWS)
    {
      GtkWidget *more = adw_action_row_new ();
      g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "And %u more entry, on the Award entries page",
                                                            "And %u more entries, on the Award entries page",
                                                            entries->len - MAX_ROWS),
                                               entries->len - MAX_ROWS);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (more), text);
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), more);
      g_ptr_array_add (self->rows, more);
    }

  total = kh_format_money_style (self->total, style);
  if (entries->len == 0)
    description = g_strdup (_("No entries yet. Add the first one with Add Entry."));
  else
    /* TRANSLATORS: under an award list's Entries heading: "12 entries, total 15.000.000 ₫" */
    description = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u entry, total %s",
                                                "%u entries, total %s", self->count),
                                   self->count, total);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), description);
}

static void
add_clicked_cb (KhAwardListEntries *self)
{
  kh_award_list_entries_add (self);
}

/* Opens an editor for a new entry of this list, its unit taken from the list. */
GtkWidget *
kh_award_list_entries_add (KhAwardListEntries *self)
{
  json_object *defaults = json_object_new_object ();
  json_object *list = kh_store_get (self->store, "award_list", self->list_id, NULL);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *editor;
  json_object *unit;

  json_object_object_add (defaults, "list_id", json_object_new_string (self->list_id));
  json_object_object_add (defaults, "status", json_object_new_string ("proposed"));
  if (list != NULL && (unit = json_object_object_get (list, "org_unit_id")) != NULL)
    json_object_object_add (defaults, "org_unit_id", json_object_get (unit));
  json_object_put (list);
  editor = kh_record_editor_new (self->store, "award_entry", NULL, defaults);
  json_object_put (defaults);
  g_signal_connect_object (editor, "saved", G_CALLBACK (kh_award_list_entries_reload), self, G_CONNECT_SWAPPED);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (editor));
  return editor;
}

static void
print_clicked_cb (KhAwardListEntries *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autoptr(GError) error = NULL;

  if (!kh_print_award_list (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, self->store, self->list_id,
                            NULL, NULL, &error))
    kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
}

/* Writes the list's entries to @path (.xlsx or .csv), as the Export button does; the
 * sensitive fields (a hardship award's reason) only with @include_sensitive, and then the
 * export is written to the audit, as the CLI's --include-sensitive does. */
gboolean
kh_award_list_entries_export (KhAwardListEntries  *self,
                              const char          *path,
                              gboolean             include_sensitive,
                              GError             **error)
{
  KhExportOptions options = { .list_id = self->list_id, .include_sensitive = include_sensitive };

  return kh_export_file (self->store, "award_entry", path, &options, NULL, error);
}

static void
export_response_cb (GtkNativeDialog    *dialog,
                    int                 response,
                    KhAwardListEntries *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file ? g_file_get_path (file) : NULL;
      g_autoptr(GError) error = NULL;

      if (path != NULL && !g_str_has_suffix (path, ".xlsx") && !g_str_has_suffix (path, ".csv"))
        {
          char *with = g_strconcat (path, ".xlsx", NULL);

          g_free (path);
          path = with;
        }
      if (path == NULL)
        kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Choose a file on this computer.")));
      else if (!kh_award_list_entries_export (self, path, self->include_sensitive, &error))
        kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
      else
        kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("The list was exported.")));
    }
  g_clear_object (&self->chooser);
}

static void
choose_export_file (KhAwardListEntries *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  json_object *list = kh_store_get (self->store, "award_list", self->list_id, NULL);
  const char *title = list ? json_object_get_string (json_object_object_get (list, "title")) : NULL;
  g_autofree char *name = g_strconcat (title != NULL ? title : _("award list"), ".xlsx", NULL);

  g_strdelimit (name, "/\\", '-');
  self->chooser = gtk_file_chooser_native_new (_("Export the list"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_signal_connect (self->chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
  json_object_put (list);
}

static void
export_response_choice_cb (AdwMessageDialog   *dialog,
                           const char         *response,
                           KhAwardListEntries *self)
{
  GtkWidget *check = g_object_get_data (G_OBJECT (dialog), "include-sensitive");

  if (g_strcmp0 (response, "export") != 0)
    return;
  self->include_sensitive = gtk_check_button_get_active (GTK_CHECK_BUTTON (check));
  choose_export_file (self);
}

static void
sensitive_toggled_cb (GtkCheckButton   *check,
                      AdwMessageDialog *dialog)
{
  GtkWidget *warning = g_object_get_data (G_OBJECT (dialog), "warning");

  gtk_widget_set_visible (warning, gtk_check_button_get_active (check));
  adw_message_dialog_set_response_appearance (dialog, "export", gtk_check_button_get_active (check)
                                              ? ADW_RESPONSE_DESTRUCTIVE : ADW_RESPONSE_SUGGESTED);
}

/* Export asks first whether the file is to carry the sensitive fields: off unless the person
 * ticks it, with what they are, what follows (the audit) and how to keep the file. */
GtkWidget *
kh_award_list_entries_open_export (KhAwardListEntries *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *check = gtk_check_button_new_with_mnemonic (_("Include _sensitive fields"));
  GtkWidget *warning;
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, _("Export the List"),
                                   _("The file holds the list’s entries: names, dates of birth, schools, "
                                     "categories and amounts. Sensitive personal data, such as the reason "
                                     "for a hardship award, is left out unless you include it."));
  warning = gtk_label_new (_("The file will hold sensitive personal data. Keep it safe, share it only "
                             "with those who need it, and delete it when done. The export is written "
                             "to the audit: who, when, which fields and which file."));
  gtk_label_set_wrap (GTK_LABEL (warning), TRUE);
  gtk_label_set_xalign (GTK_LABEL (warning), 0);
  gtk_widget_add_css_class (warning, "warning");
  gtk_widget_set_visible (warning, FALSE);
  gtk_box_append (GTK_BOX (box), check);
  gtk_box_append (GTK_BOX (box), warning);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), box);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "export", _("_Choose File…"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "export", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "export");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data (G_OBJECT (dialog), "include-sensitive", check);
  g_object_set_data (G_OBJECT (dialog), "warning", warning);
  g_signal_connect (check, "toggled", G_CALLBACK (sensitive_toggled_cb), dialog);
  g_signal_connect_object (dialog, "response", G_CALLBACK (export_response_choice_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
export_clicked_cb (KhAwardListEntries *self)
{
  kh_award_list_entries_open_export (self);
}

guint
kh_award_list_entries_get_count (KhAwardListEntries *self)
{
  return self->count;
}

gint64
kh_award_list_entries_get_total (KhAwardListEntries *self)
{
  return self->total;
}

guint
kh_award_list_entries_get_n_rows (KhAwardListEntries *self)
{
  return self->rows->len;
}

static void
kh_award_list_entries_dispose (GObject *object)
{
  KhAwardListEntries *self = KH_AWARD_LIST_ENTRIES (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  G_OBJECT_CLASS (kh_award_list_entries_parent_class)->dispose (object);
}

static void
kh_award_list_entries_finalize (GObject *object)
{
  KhAwardListEntries *self = KH_AWARD_LIST_ENTRIES (object);

  g_clear_object (&self->store);
  g_free (self->list_id);
  g_ptr_array_unref (self->rows);
  G_OBJECT_CLASS (kh_award_list_entries_parent_class)->finalize (object);
}

static void
kh_award_list_entries_class_init (KhAwardListEntriesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kh_award_list_entries_dispose;
  object_class->finalize = kh_award_list_entries_finalize;
}

static GtkWidget *
header_button (KhAwardListEntries *self,
               const char         *label,
               const char         *tooltip,
               GCallback           callback)
{
  GtkWidget *button = gtk_button_new_with_mnemonic (label);

  gtk_widget_set_tooltip_text (button, tooltip);
  g_signal_connect_swapped (button, "clicked", callback, self);
  return button;
}

static void
kh_award_list_entries_init (KhAwardListEntries *self)
{
  GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);

  self->rows = g_ptr_array_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Entries"));
  gtk_box_append (GTK_BOX (buttons), header_button (self, _("_Add Entry"), _("Add a recipient to this list"),
                                                    G_CALLBACK (add_clicked_cb)));
  gtk_box_append (GTK_BOX (buttons), header_button (self, _("_Print…"), _("Print the list for signatures"),
                                                    G_CALLBACK (print_clicked_cb)));
  gtk_box_append (GTK_BOX (buttons), header_button (self, _("E_xport…"), _("Save the list as an Excel file"),
                                                    G_CALLBACK (export_clicked_cb)));
  /* Buttons of their own height beside a description that wraps on a narrow window. */
  gtk_widget_set_valign (buttons, GTK_ALIGN_START);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (self), buttons);
}

GtkWidget *
kh_award_list_entries_new (KhStore    *store,
                           const char *list_id)
{
  KhAwardListEntries *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (list_id != NULL, NULL);

  self = g_object_new (KH_TYPE_AWARD_LIST_ENTRIES, NULL);
  self->store = g_object_ref (store);
  self->list_id = g_strdup (list_id);
  kh_award_list_entries_reload (self);
  return GTK_WIDGET (self);
}
