/* kh-award-list-workflow.c: an award list's payment, recorded from its steps
 *
 * The list's steps (draft, submitted, approved, paid) are shown and taken in one place, the
 * list's KhWorkflowBar; its last step, the payment, is more than a change of state and is
 * recorded here: every entry not cancelled marked paid with the date and voucher, the payment
 * from the fund linked to the list, and the list paid, in one transaction.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-award-list-workflow.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-format.h"
#include "kh-ledger.h"
#include "kh-store-sql.h"
#include "kh-toast.h"
#include "kh-validate.h"

struct _KhAwardListWorkflow
{
  GObject    parent_instance;

  KhStore   *store;
  char      *list_id;
  char      *status;
  GtkWidget *anchor;     /* weak: the list's steps on its page */
  GtkWidget *dialog;     /* the payment dialog while it is open */
};

G_DEFINE_FINAL_TYPE (KhAwardListWorkflow, kh_award_list_workflow, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
kh_award_list_workflow_reload (KhAwardListWorkflow *self)
{
  json_object *list;

  g_return_if_fail (KH_IS_AWARD_LIST_WORKFLOW (self));

  list = kh_store_get (self->store, "award_list", self->list_id, NULL);
  g_free (self->status);
  self->status = list ? g_strdup (json_object_get_string (json_object_object_get (list, "status"))) : NULL;
  json_object_put (list);
}

const char *
kh_award_list_workflow_get_status (KhAwardListWorkflow *self)
{
  g_return_val_if_fail (KH_IS_AWARD_LIST_WORKFLOW (self), NULL);
  return self->status;
}

static void
toast (KhAwardListWorkflow *self,
       const char          *text)
{
  if (self->anchor != NULL)
    kh_widget_add_toast (self->anchor, adw_toast_new (text));
}

/* The payment: every entry of the list not cancelled and not yet paid is marked paid on
 * @paid_on (ISO date) with @voucher_number (or NULL), and the list paid, in one transaction:
 * a list half paid would tell the treasurer a wrong total. */
gboolean
kh_award_list_workflow_record_payment (KhAwardListWorkflow  *self,
                                       const char           *paid_on,
                                       const char           *voucher_number,
                                       guint                *n_paid,
                                       GError              **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt;
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_AWARD_LIST_WORKFLOW (self), FALSE);
  g_return_val_if_fail (paid_on != NULL, FALSE);

  kh_award_list_workflow_reload (self);
  if (g_strcmp0 (self->status, "approved") != 0)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("Only an approved list can be paid; this list is not approved."));
      return FALSE;
    }
  stmt = kh_store_prepare (self->store, "SELECT id FROM award_entry WHERE deleted = 0 AND list_id = ?1"
                           " AND status NOT IN ('cancelled', 'paid')", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, self->list_id, -1, SQLITE_TRANSIENT);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_ptr_array_add (ids, g_strdup ((const char *) sqlite3_column_text (stmt, 0)));
  sqlite3_reset (stmt);

  if (!kh_store_begin (self->store, error))
    return FALSE;
  for (guint i = 0; ok && i < ids->len; i++)
    {
      json_object *change = json_object_new_object ();

      json_object_object_add (change, "status", json_object_new_string ("paid"));
      json_object_object_add (change, "received_on", json_object_new_string (paid_on));
      if (voucher_number != NULL && *voucher_number != '\0')
        json_object_object_add (change, "voucher_number", json_object_new_string (voucher_number));
      ok = kh_store_update (self->store, "award_entry", ids->pdata[i], change, error);
      json_object_put (change);
    }
  /* The list is paid from its fund: one payment for what is left, linked to the list, so the
   * fund's figures and the list agree (kh-ledger.c refuses one that would overdraw it). */
  ok = ok && kh_ledger_pay_list (self->store, self->list_id, NULL, paid_on, voucher_number, NULL, error);
  if (!ok || !kh_store_commit (self->store, error))
    {
      kh_store_rollback (self->store);
      kh_award_list_workflow_reload (self);
      return FALSE;
    }
  if (n_paid != NULL)
    *n_paid = ids->len;
  kh_award_list_workflow_reload (self);
  g_signal_emit (self, signals[CHANGED], 0);
  return TRUE;
}

/* The payment dialog ------------------------------------------------------------------------ */

static void
payment_response_cb (AdwMessageDialog    *dialog,
                     const char          *response,
                     KhAwardListWorkflow *self)
{
  GtkWidget *date_row = g_object_get_data (G_OBJECT (dialog), "date");
  GtkWidget *voucher_row = g_object_get_data (G_OBJECT (dialog), "voucher");
  const KhField *field = kh_entity_get_field (kh_entity_lookup ("award_entry"), "received_on");
  g_autoptr(GError) error = NULL;
  json_object *date = NULL;
  guint n = 0;

  self->dialog = NULL;
  if (g_strcmp0 (response, "pay") != 0)
    return;
  if (!kh_field_parse (field, gtk_editable_get_text (GTK_EDITABLE (date_row)), &date, &error)
      || date == NULL
      || !kh_award_list_workflow_record_payment (self, json_object_get_string (date),
                                                 gtk_editable_get_text (GTK_EDITABLE (voucher_row)), &n, &error))
    {
      toast (self, error ? error->message : _("Type the date of payment."));
      json_object_put (date);
      return;
    }
  json_object_put (date);
  {
    g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Payment recorded: %u entry marked paid.",
                                                          "Payment recorded: %u entries marked paid.", n), n);

    toast (self, text);
  }
}

GtkWidget *
kh_award_list_workflow_open_payment (KhAwardListWorkflow *self)
{
  GtkRoot *root = self->anchor != NULL ? gtk_widget_get_root (self->anchor) : NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *iso = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *today = kh_format_date (iso);
  GtkWidget *list = gtk_list_box_new ();
  GtkWidget *date_row = adw_entry_row_new ();
  GtkWidget *voucher_row = adw_entry_row_new ();
  GtkWidget *dialog;

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, _("Record the Payment"),
                                   _("Every entry of this list that is not cancelled is marked paid on this "
                                     "date, and the list is marked paid. Do this once the recipients have "
                                     "signed the sheet."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "pay", _("_Record Payment"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "pay", ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "pay");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");

  gtk_list_box_set_selection_mode (GTK_LIST_BOX (list), GTK_SELECTION_NONE);
  gtk_widget_add_css_class (list, "boxed-list");
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (date_row), _("Paid on"));
  gtk_editable_set_text (GTK_EDITABLE (date_row), today);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (voucher_row), _("Voucher number"));
  gtk_list_box_append (GTK_LIST_BOX (list), date_row);
  gtk_list_box_append (GTK_LIST_BOX (list), voucher_row);
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), list);
  g_object_set_data (G_OBJECT (dialog), "date", date_row);
  g_object_set_data (G_OBJECT (dialog), "voucher", voucher_row);

  g_signal_connect_object (dialog, "response", G_CALLBACK (payment_response_cb), self, 0);
  self->dialog = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

/* GObject ------------------------------------------------------------------------------------ */

static void
kh_award_list_workflow_dispose (GObject *object)
{
  KhAwardListWorkflow *self = KH_AWARD_LIST_WORKFLOW (object);

  g_clear_weak_pointer (&self->anchor);
  G_OBJECT_CLASS (kh_award_list_workflow_parent_class)->dispose (object);
}

static void
kh_award_list_workflow_finalize (GObject *object)
{
  KhAwardListWorkflow *self = KH_AWARD_LIST_WORKFLOW (object);

  g_clear_object (&self->store);
  g_free (self->list_id);
  g_free (self->status);
  G_OBJECT_CLASS (kh_award_list_workflow_parent_class)->finalize (object);
}

static void
kh_award_list_workflow_class_init (KhAwardListWorkflowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kh_award_list_workflow_dispose;
  object_class->finalize = kh_award_list_workflow_finalize;

  /* The list was paid here (its steps and the form show it). */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                   0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kh_award_list_workflow_init (KhAwardListWorkflow *self)
{
}

KhAwardListWorkflow *
kh_award_list_workflow_new (KhStore    *store,
                            const char *list_id,
                            GtkWidget  *anchor)
{
  KhAwardListWorkflow *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (list_id != NULL, NULL);
  g_return_val_if_fail (anchor == NULL || GTK_IS_WIDGET (anchor), NULL);

  self = g_object_new (KH_TYPE_AWARD_LIST_WORKFLOW, NULL);
  self->store = g_object_ref (store);
  self->list_id = g_strdup (list_id);
  g_set_weak_pointer (&self->anchor, anchor);
  kh_award_list_workflow_reload (self);
  return self;
}
