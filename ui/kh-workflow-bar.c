/* kh-workflow-bar.c: a record's approval state and the steps the account may take
 *
 * Shown at the top of an award list's, a recognition's and a registration's editor, the one
 * place that says where the record stands among its steps ("Draft › Submitted › Approved ›
 * Paid"), whether it is locked and what comes next, with a button for each step the signed-in
 * account may take (kh-workflow.c decides which) and no other. A step is written at once, as its
 * own change, so the history shows who took it; reopening asks for the reason first; an award
 * list's payment is recorded through its dialog (kh-award-list-workflow.c), since paying marks
 * the entries and draws on the fund.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-award-list-workflow.h"
#include "kh-codec.h"
#include "kh-entity.h"
#include "kh-toast.h"
#include "kh-workflow.h"
#include "kh-workflow-bar.h"

struct _KhWorkflowBar
{
  AdwPreferencesGroup  parent_instance;

  KhStore             *store;
  const KhEntity      *entity;
  char                *id;
  GtkWidget           *buttons;       /* the steps, at the group's header */
  GtkWidget           *state_row;     /* the steps in order, the record's own in bold */
  char                *first_state;   /* where reopening takes the record */
  KhAwardListWorkflow *payment;       /* an award list's payment, or NULL */
};

G_DEFINE_FINAL_TYPE (KhWorkflowBar, kh_workflow_bar, ADW_TYPE_PREFERENCES_GROUP)

enum {
  STEPPED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* What a button says: the step, in the words of the people who take it. */
static const char *
step_label (const char *entity,
            const char *state,
            gboolean    reopening)
{
  if (reopening)
    return _("_Reopen…");
  if (strcmp (entity, "award_list") == 0)
    {
      if (strcmp (state, "submitted") == 0)
        return _("_Submit for Approval");
      if (strcmp (state, "draft") == 0)
        return _("Return to _Draft");
      if (strcmp (state, "approved") == 0)
        return _("_Approve");
      if (strcmp (state, "paid") == 0)
        return _("Record _Payment…");
      if (strcmp (state, "closed") == 0)
        return _("_Close the List");
    }
  if (strcmp (entity, "recognition") == 0 && strcmp (state, "issued") == 0)
    return _("_Issue by the Decision");
  if (strcmp (entity, "registration") == 0 && strcmp (state, "submitted") == 0)
    return _("_Submit to the Level Above");
  if (strcmp (state, "draft") == 0)
    return _("Return to _Draft");
  return state;
}

static json_object *
load (KhWorkflowBar *self)
{
  return kh_store_get (self->store, self->entity->name, self->id, NULL);
}

static const char *
state_of (KhWorkflowBar *self,
          json_object   *record)
{
  json_object *v = NULL;

  if (record == NULL || !json_object_object_get_ex (record, kh_workflow_state_field (self->entity->name), &v)
      || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

gboolean
kh_workflow_bar_take_step (KhWorkflowBar  *self,
                           const char     *state,
                           const char     *reason,
                           GError        **error)
{
  g_autoptr(json_object) changes = json_object_new_object ();
  gboolean ok;

  g_return_val_if_fail (KH_IS_WORKFLOW_BAR (self), FALSE);

  json_object_object_add (changes, kh_workflow_state_field (self->entity->name), json_object_new_string (state));
  if (reason != NULL && *reason != '\0')
    json_object_object_add (changes, "reopen_reason", json_object_new_string (reason));
  ok = kh_store_update (self->store, self->entity->name, self->id, changes, error);
  if (ok)
    {
      kh_workflow_bar_refresh (self);
      g_signal_emit (self, signals[STEPPED], 0);
    }
  return ok;
}

static void
step_clicked_cb (GtkButton     *button,
                 KhWorkflowBar *self)
{
  g_autoptr(GError) error = NULL;

  if (!kh_workflow_bar_take_step (self, g_object_get_data (G_OBJECT (button), "state"), NULL, &error))
    kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
}

/* An award list is paid through its dialog: the entries are marked and the fund pays. */
static void
pay_clicked_cb (GtkButton     *button,
                KhWorkflowBar *self)
{
  kh_award_list_workflow_open_payment (self->payment);
}

static void
reopen_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    KhWorkflowBar    *self)
{
  GtkEditable *entry = g_object_get_data (G_OBJECT (dialog), "reason");
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (response, "reopen") != 0)
    return;
  if (!kh_workflow_bar_take_step (self, self->first_state, gtk_editable_get_text (entry), &error))
    kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
}

static void
reopen_clicked_cb (GtkButton     *button,
                   KhWorkflowBar *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *entry = gtk_entry_new ();
  AdwMessageDialog *dialog;

  dialog = ADW_MESSAGE_DIALOG (adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                                       _("Reopen for changes?"),
                                                       _("It can be changed again and must be approved "
                                                         "again. Say why: the reason is kept in its history.")));
  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Reason for reopening"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (entry), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Reason for reopening"), -1);
  adw_message_dialog_set_extra_child (dialog, entry);
  adw_message_dialog_add_responses (dialog, "cancel", _("_Cancel"), "reopen", _("_Reopen"), NULL);
  adw_message_dialog_set_response_appearance (dialog, "reopen", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (dialog, "cancel");
  adw_message_dialog_set_close_response (dialog, "cancel");
  g_object_set_data (G_OBJECT (dialog), "reason", entry);
  g_signal_connect_object (dialog, "response", G_CALLBACK (reopen_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

guint
kh_workflow_bar_permits (KhStore *store)
{
  guint permits = kh_store_get_permits (store);

  /* A replica bound to no server has no accounts: every step is its own. */
  return (permits & KH_PERMIT_UNCHECKED) ? KH_PERMIT_ALL : permits;
}

gboolean
kh_workflow_bar_locks (KhStore     *store,
                       const char  *entity,
                       json_object *data)
{
  const char *field = NULL;
  const char *owner = kh_workflow_owner (entity, &field);
  json_object *v = NULL;
  gboolean locked;

  /* Shown locked where the store refuses: a replica bound to a server. */
  if (kh_store_get_permits (store) & KH_PERMIT_UNCHECKED)
    return FALSE;
  if (owner == NULL)
    return kh_workflow_is_locked (entity, data);
  if (data == NULL || !json_object_object_get_ex (data, field, &v) || v == NULL)
    return FALSE;
  {
    g_autoptr(json_object) record = kh_store_get (store, owner, json_object_get_string (v), NULL);

    locked = record != NULL && kh_workflow_is_locked (owner, record);
  }
  return locked;
}

static int
state_position (const KhField *field,
                const char    *state)
{
  for (int i = 0; state != NULL && field->enum_values[i] != NULL; i++)
    if (strcmp (field->enum_values[i], state) == 0)
      return i;
  return 0;
}

/* "Draft › Submitted › Approved › Paid", the record's own step in bold; a state after the last
 * usual one (a closed list) only when the record is in it. */
static char *
steps_markup (const KhField *field,
              const char    *state)
{
  GString *markup = g_string_new (NULL);
  int at = state_position (field, state);

  for (int i = 0; field->enum_values[i] != NULL; i++)
    {
      g_autofree char *label = g_markup_escape_text (_(field->enum_labels[i]), -1);

      if (strcmp (field->enum_values[i], "closed") == 0 && i != at)
        continue;
      if (markup->len > 0)
        g_string_append (markup, " › ");
      if (i == at)
        g_string_append_printf (markup, "<b>%s</b>", label);
      else
        g_string_append_printf (markup, "<span alpha=\"60%%\">%s</span>", label);
    }
  return g_string_free (markup, FALSE);
}

/* What the record's state asks of this account next, or NULL. */
static const char *
next_hint (const char *entity,
           const char *state,
           guint       permits)
{
  if (strcmp (entity, "award_list") != 0)
    return NULL;
  if (state == NULL || strcmp (state, "draft") == 0)
    return _("Add the entries, then submit the list for approval.");
  if (strcmp (state, "submitted") == 0)
    return (permits & KH_PERMIT_APPROVE) ? _("Check the entries, then approve the list or return it to draft.")
                                         : _("Waiting for approval.");
  if (strcmp (state, "approved") == 0)
    return (permits & KH_PERMIT_PAY) ? _("Print the signing sheet, pay the recipients, then record the payment.")
                                     : _("Print the signing sheet; the treasurer records the payment.");
  if (strcmp (state, "paid") == 0)
    return _("Paid: every entry not cancelled is marked paid.");
  return _("Closed.");
}

void
kh_workflow_bar_refresh (KhWorkflowBar *self)
{
  g_autoptr(json_object) record = load (self);
  const char *state = state_of (self, record);
  const KhField *field = kh_entity_get_field (self->entity, kh_workflow_state_field (self->entity->name));
  guint permits = kh_workflow_bar_permits (self->store);
  g_autofree const char **next = kh_workflow_next_states (self->entity->name, state, permits);
  g_autofree char *markup = steps_markup (field, state);
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *hint = next_hint (self->entity->name, state, permits);
  gboolean locked = kh_workflow_bar_locks (self->store, self->entity->name, record);
  GtkWidget *child;
  gboolean reopen_shown = FALSE;

  if (self->payment != NULL)
    kh_award_list_workflow_reload (self->payment);
  if (locked)
    g_string_append (subtitle, _("Locked: nothing in it can be changed until an approver reopens it, "
                                 "with a reason."));
  if (hint != NULL)
    g_string_append_printf (subtitle, "%s%s", subtitle->len > 0 ? "\n" : "", hint);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->state_row), markup);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->state_row), subtitle->str);
  /* The row's own icon: a hidden prefix would still push the text aside. */
  adw_action_row_set_icon_name (ADW_ACTION_ROW (self->state_row), locked ? "changes-prevent-symbolic" : NULL);

  while ((child = gtk_widget_get_first_child (self->buttons)) != NULL)
    gtk_box_remove (GTK_BOX (self->buttons), child);
  for (guint i = 0; next[i] != NULL; i++)
    {
      gboolean reopening = kh_workflow_is_reopening (self->entity->name, state, next[i]);
      GtkWidget *button;

      /* Reopening takes the record back to its first state, once. */
      if (reopening && (reopen_shown || strcmp (next[i], self->first_state) != 0))
        continue;
      reopen_shown = reopen_shown || reopening;
      button = gtk_button_new_with_mnemonic (step_label (self->entity->name, next[i], reopening));
      g_object_set_data_full (G_OBJECT (button), "state", g_strdup (next[i]), g_free);
      gtk_widget_set_name (button, next[i]);
      if (reopening)
        g_signal_connect (button, "clicked", G_CALLBACK (reopen_clicked_cb), self);
      else if (self->payment != NULL && strcmp (next[i], "paid") == 0)
        g_signal_connect (button, "clicked", G_CALLBACK (pay_clicked_cb), self);
      else
        g_signal_connect (button, "clicked", G_CALLBACK (step_clicked_cb), self);
      /* A step forward is the one expected; going back is not pressed by mistake. */
      if (!reopening && state_position (field, next[i]) > state_position (field, state))
        gtk_widget_add_css_class (button, "suggested-action");
      gtk_box_append (GTK_BOX (self->buttons), button);
    }
  gtk_widget_set_visible (self->buttons, gtk_widget_get_first_child (self->buttons) != NULL);
}

KhAwardListWorkflow *
kh_workflow_bar_get_payment (KhWorkflowBar *self)
{
  g_return_val_if_fail (KH_IS_WORKFLOW_BAR (self), NULL);
  return self->payment;
}

GtkWidget *
kh_workflow_bar_get_button (KhWorkflowBar *self,
                            const char    *state)
{
  g_return_val_if_fail (KH_IS_WORKFLOW_BAR (self), NULL);

  for (GtkWidget *b = gtk_widget_get_first_child (self->buttons); b != NULL; b = gtk_widget_get_next_sibling (b))
    if (g_strcmp0 (g_object_get_data (G_OBJECT (b), "state"), state) == 0)
      return b;
  return NULL;
}

static void
kh_workflow_bar_dispose (GObject *object)
{
  KhWorkflowBar *self = KH_WORKFLOW_BAR (object);

  if (self->payment != NULL)
    g_signal_handlers_disconnect_by_data (self->payment, self);
  g_clear_object (&self->payment);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (kh_workflow_bar_parent_class)->dispose (object);
}

static void
kh_workflow_bar_finalize (GObject *object)
{
  KhWorkflowBar *self = KH_WORKFLOW_BAR (object);

  g_free (self->id);
  g_free (self->first_state);
  G_OBJECT_CLASS (kh_workflow_bar_parent_class)->finalize (object);
}

static void
kh_workflow_bar_class_init (KhWorkflowBarClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = kh_workflow_bar_dispose;
  object_class->finalize = kh_workflow_bar_finalize;

  /**
   * KhWorkflowBar::stepped:
   *
   * A step was taken: the record was written.
   */
  signals[STEPPED] = g_signal_new ("stepped", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kh_workflow_bar_init (KhWorkflowBar *self)
{
  self->buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_name (self->buttons, "workflow-steps");
  gtk_widget_set_valign (self->buttons, GTK_ALIGN_START);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (self), self->buttons);

  self->state_row = adw_action_row_new ();
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (self->state_row), TRUE);
  adw_action_row_set_title_lines (ADW_ACTION_ROW (self->state_row), 0);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (self->state_row), 0);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->state_row);
}

/* A payment recorded: the list is paid, and its steps say so. */
static void
paid_cb (KhWorkflowBar *self)
{
  kh_workflow_bar_refresh (self);
}

GtkWidget *
kh_workflow_bar_new (KhStore    *store,
                     const char *entity,
                     const char *id)
{
  KhWorkflowBar *self;
  const KhField *field;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (kh_workflow_state_field (entity) != NULL && id != NULL, NULL);

  self = g_object_new (KH_TYPE_WORKFLOW_BAR, NULL);
  self->store = g_object_ref (store);
  self->entity = kh_entity_lookup (entity);
  self->id = g_strdup (id);
  field = kh_entity_get_field (self->entity, kh_workflow_state_field (entity));
  self->first_state = g_strdup (field->enum_values[0]);
  /* An award list's steps go on to its payment: the one group says all of them. */
  if (strcmp (entity, "award_list") == 0)
    {
      self->payment = kh_award_list_workflow_new (store, id, GTK_WIDGET (self));
      g_signal_connect_swapped (self->payment, "changed", G_CALLBACK (paid_cb), self);
      adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Steps"));
    }
  else
    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Approval"));
  kh_workflow_bar_refresh (self);
  return GTK_WIDGET (self);
}
