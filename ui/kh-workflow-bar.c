/* kh-workflow-bar.c: a record's approval state and the steps the account may take
 *
 * Shown at the top of an award list's, a recognition's and a registration's editor: where the
 * record stands, whether it is locked, and a button for each step the signed-in account may
 * take (kh-workflow.c decides which). A step is written at once, as its own change, so the
 * history shows who took it; reopening asks for the reason first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

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
  GtkWidget           *buttons;
  char                *first_state;   /* where reopening takes the record */
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
        return _("Record as _Paid");
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

void
kh_workflow_bar_refresh (KhWorkflowBar *self)
{
  g_autoptr(json_object) record = load (self);
  const char *state = state_of (self, record);
  const KhField *field = kh_entity_get_field (self->entity, kh_workflow_state_field (self->entity->name));
  g_autofree const char **next = kh_workflow_next_states (self->entity->name, state,
                                                           kh_workflow_bar_permits (self->store));
  g_autofree char *description = NULL;
  const char *label = _("Not yet submitted");
  GtkWidget *child;
  gboolean reopen_shown = FALSE;

  for (guint i = 0; state != NULL && field->enum_values[i] != NULL; i++)
    if (strcmp (field->enum_values[i], state) == 0)
      label = _(field->enum_labels[i]);
  if (kh_workflow_bar_locks (self->store, self->entity->name, record))
    /* TRANSLATORS: an approval state, e.g. "Approved. Locked: …" */
    description = g_strdup_printf (_("%s. Locked: nothing in it can be changed until an approver "
                                     "reopens it, with a reason."), label);
  else
    description = g_strdup_printf ("%s.", label);
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), description);

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
      else
        {
          g_signal_connect (button, "clicked", G_CALLBACK (step_clicked_cb), self);
          /* A step forward is the one expected; going back is not pressed by mistake. */
          if (state_position (field, next[i]) > state_position (field, state))
            gtk_widget_add_css_class (button, "suggested-action");
        }
      gtk_box_append (GTK_BOX (self->buttons), button);
    }
  gtk_widget_set_visible (self->buttons, gtk_widget_get_first_child (self->buttons) != NULL);
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
  gtk_widget_set_halign (self->buttons, GTK_ALIGN_START);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Approval"));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->buttons);
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
  kh_workflow_bar_refresh (self);
  return GTK_WIDGET (self);
}
