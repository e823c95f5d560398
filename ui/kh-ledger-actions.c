/* kh-ledger-actions.c: the window's actions for a fund's statement and a donation's receipt
 *
 * Both work on the record selected in the list on show: a fund (its statement, for a year
 * chosen in the save dialog, as a PDF or a spreadsheet by the file's name), or a donation (its
 * receipt, as a PDF). What they write is made by data/kh-ledger-print.c, as by the CLI.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-ledger-actions.h"
#include "kh-ledger-print.h"
#include "kh-list-page.h"
#include "kh-record-item.h"
#include "kh-window-private.h"

/* The id of the @entity record selected on the page on show, or NULL. */
static char *
selected_id (KhWindow   *self,
             const char *entity)
{
  GtkWidget *page = gtk_stack_get_visible_child (self->stack);
  GtkSelectionModel *model;
  g_autoptr(KhRecordItem) item = NULL;
  guint position;

  if (page == NULL || !KH_IS_LIST_PAGE (page))
    return NULL;
  model = gtk_column_view_get_model (GTK_COLUMN_VIEW (kh_list_page_get_column_view (KH_LIST_PAGE (page))));
  if (!GTK_IS_SINGLE_SELECTION (model))
    return NULL;
  position = gtk_single_selection_get_selected (GTK_SINGLE_SELECTION (model));
  if (position == GTK_INVALID_LIST_POSITION)
    return NULL;
  item = g_list_model_get_item (G_LIST_MODEL (model), position);
  if (item == NULL || g_strcmp0 (kh_record_item_get_entity (item)->name, entity) != 0)
    return NULL;
  return g_strdup (kh_record_item_get_id (item));
}

/* Writes the statement of @fund_id for @year to @path: XLSX for a name ending so, else PDF. */
gboolean
kh_ledger_save_statement (KhStore     *store,
                          const char  *fund_id,
                          int          year,
                          const char  *path,
                          GError     **error)
{
  g_autoptr(KhFundStatement) s = kh_fund_statement_new (store, fund_id, NULL, year, error);
  json_object *fund;
  gboolean ok;

  if (s == NULL)
    return FALSE;
  if (g_str_has_suffix (path, ".xlsx"))
    return kh_fund_statement_write_xlsx (s, path, error);
  fund = kh_store_get (store, "fund", fund_id, error);
  if (fund == NULL)
    return FALSE;
  ok = kh_fund_statement_write_pdf (s, store, json_object_get_string (json_object_object_get (fund, "org_unit_id")),
                                    path, error);
  json_object_put (fund);
  return ok;
}

typedef struct
{
  KhWindow *window;
  char     *id;
  gboolean  receipt;
} Save;

static void
save_free (Save *save)
{
  g_object_unref (save->window);
  g_free (save->id);
  g_free (save);
}

static void
save_response_cb (GtkNativeDialog *dialog,
                  int              response,
                  Save            *save)
{
  g_autoptr(GFile) file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog)) : NULL;
  g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
  g_autoptr(GError) error = NULL;
  gboolean ok;

  if (response != GTK_RESPONSE_ACCEPT)
    goto out;
  if (path == NULL)
    {
      kh_window_add_toast (save->window, adw_toast_new (_("Choose a file on this computer.")));
      goto out;
    }
  if (save->receipt)
    ok = kh_donation_receipt_write_pdf (save->window->store, save->id, path, &error);
  else
    {
      const char *year = gtk_file_chooser_get_choice (GTK_FILE_CHOOSER (dialog), "year");

      ok = kh_ledger_save_statement (save->window->store, save->id, (int) g_ascii_strtoll (year, NULL, 10),
                                     path, &error);
    }
  kh_window_add_toast (save->window, adw_toast_new (ok ? (save->receipt ? _("The receipt was saved.")
                                                                       : _("The fund statement was saved."))
                                                       : error->message));
out:
  g_object_set_data (G_OBJECT (save->window), "kh-ledger-chooser", NULL);
}

static void
ask_where (KhWindow   *self,
           const char *id,
           gboolean    receipt)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int this_year = g_date_time_get_year (now);
  GtkFileChooserNative *chooser;
  Save *save = g_new0 (Save, 1);

  save->window = g_object_ref (self);
  save->id = g_strdup (id);
  save->receipt = receipt;
  chooser = gtk_file_chooser_native_new (receipt ? _("Save the receipt") : _("Save the fund statement"),
                                         GTK_WINDOW (self), GTK_FILE_CHOOSER_ACTION_SAVE, _("_Save"), NULL);
  if (receipt)
    gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), _("receipt.pdf"));
  else
    {
      g_autofree char *name = g_strdup_printf (_("fund-statement-%d.pdf"), this_year - 1);
      char *years[6] = { NULL };

      /* The statement of last year is the one published by 31 March; earlier ones stay at hand. */
      for (int i = 0; i < 5; i++)
        years[i] = g_strdup_printf ("%d", this_year - i);
      gtk_file_chooser_add_choice (GTK_FILE_CHOOSER (chooser), "year", _("Year"),
                                   (const char **) years, (const char **) years);
      gtk_file_chooser_set_choice (GTK_FILE_CHOOSER (chooser), "year", years[1]);
      for (int i = 0; i < 5; i++)
        g_free (years[i]);
      gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (chooser), name);
    }
  g_signal_connect_data (chooser, "response", G_CALLBACK (save_response_cb), save,
                         (GClosureNotify) (void (*) (void)) save_free, 0);
  /* The window keeps the dialog until it answers. */
  g_object_set_data_full (G_OBJECT (self), "kh-ledger-chooser", chooser, g_object_unref);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
fund_statement_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  g_autofree char *id = selected_id (self, "fund");

  if (id == NULL)
    kh_window_add_toast (self, adw_toast_new (_("Select a fund to make its statement.")));
  else
    ask_where (self, id, FALSE);
}

static void
donation_receipt_action (GtkWidget  *widget,
                         const char *action_name,
                         GVariant   *param)
{
  KhWindow *self = KH_WINDOW (widget);
  g_autofree char *id = selected_id (self, "donation");

  if (id == NULL)
    kh_window_add_toast (self, adw_toast_new (_("Select a donation to print its receipt.")));
  else
    ask_where (self, id, TRUE);
}

void
kh_window_class_ledger_actions_init (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.fund-statement", NULL, fund_statement_action);
  gtk_widget_class_install_action (widget_class, "win.donation-receipt", NULL, donation_receipt_action);
}
