/* kh-record-editor.c: a form for one record, built from the entity registry
 *
 * One row per field: entry rows for text, numbers, money (shown 1.250.000 ₫) and dates (typed
 * and shown dd/mm/yyyy), combo rows for enums and for references (units, lists, people: the
 * combo's model is a paged KhRecordList, so a reference to one of a million people is as quick
 * as to one of ten units), switches for yes/no. Each row is checked as it is typed with the
 * store's own validation, and saving shows the store's own message if it refuses.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-attachments-group.h"
#include "kh-award-list-entries.h"
#include "kh-award-list-workflow.h"
#include "kh-error.h"
#include "kh-evaluation-dialog.h"
#include "kh-format.h"
#include "kh-record-editor.h"
#include "kh-sync-client.h"
#include "kh-window.h"
#include "kh-record-list.h"
#include "kh-record-picker.h"
#include "kh-store-sql.h"
#include "kh-ui-test-private.h"
#include "kh-validate.h"
#include "kh-workflow.h"
#include "kh-workflow-bar.h"

typedef struct
{
  const KhField *field;
  GtkWidget     *row;
  GtkWidget     *toggle;     /* the switch of a yes/no row */
  GtkWidget     *picker;     /* the KhRecordPicker of a reference row */
} Row;

struct _KhRecordEditor
{
  AdwWindow            parent_instance;

  KhStore             *store;
  const KhEntity      *entity;
  char                *id;
  json_object         *original;   /* the record as loaded, or the defaults of a new one */
  GPtrArray           *rows;
  char                *error_text;
  char                *error_field; /* the field error_text is about, or NULL */
  gboolean             loading;
  gboolean             withdrawal_confirmed; /* the person was told a withdrawal erases them */

  AdwWindowTitle      *title_widget;
  GtkLabel            *error_label;
  AdwPreferencesGroup *fields_group;
  GtkWidget           *actions_box;
  GtkWidget           *entries;         /* an award list's entries, or NULL */
  GtkWidget           *attachments;     /* the files of a record that takes them, or NULL */
  KhAwardListWorkflow *workflow;        /* an award list's payment (its steps'), or NULL */
  GtkWidget           *approval;        /* the approval state and steps, or NULL */
  GtkWidget           *history_button;
  GtkWidget           *evaluate_button;
  GtkWidget           *recognize_button;
  GtkWidget           *delete_button;
  GtkWidget           *erase_button;
  AdwPreferencesGroup *history_group;
};

G_DEFINE_FINAL_TYPE (KhRecordEditor, kh_record_editor, ADW_TYPE_WINDOW)

enum {
  SAVED,
  DELETED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
row_free (gpointer data)
{
  g_free (data);
}

static Row *
find_row (KhRecordEditor *self,
          const char     *name)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = self->rows->pdata[i];

      if (strcmp (row->field->name, name) == 0)
        return row;
    }
  return NULL;
}

static json_object *
original_value (KhRecordEditor *self,
                const char     *name)
{
  json_object *v = NULL;

  if (self->original != NULL)
    json_object_object_get_ex (self->original, name, &v);
  return v;
}

/* Errors ------------------------------------------------------------------------------------- */

/* Shows @error under the form, or hides the message for NULL. */
static void
show_error (KhRecordEditor *self,
            const GError   *error)
{
  const char *message = error != NULL ? error->message : NULL;

  g_free (self->error_text);
  self->error_text = g_strdup (message);
  g_free (self->error_field);
  self->error_field = g_strdup (kh_data_error_get_field (error));
  gtk_label_set_text (self->error_label, message ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
mark_row (Row        *row,
          const char *message)
{
  if (message != NULL)
    {
      gtk_widget_add_css_class (row->row, "error");
      gtk_widget_set_tooltip_text (row->row, message);
    }
  else
    {
      gtk_widget_remove_css_class (row->row, "error");
      gtk_widget_set_tooltip_text (row->row, NULL);
    }
}

/* The row of the field @error is about, if it is about one. */
static Row *
row_for_error (KhRecordEditor *self,
               const GError   *error)
{
  const char *field = kh_data_error_get_field (error);

  return field != NULL ? find_row (self, field) : NULL;
}

/* Reading the rows --------------------------------------------------------------------------- */

/* The entity a reference row lists: its field's own target, or the one its kind row names. */
static const char *
current_kind (KhRecordEditor *self,
              const KhField  *field)
{
  Row *kind_row;
  guint selected;

  if (field->ref_entity != NULL || field->ref_kind == NULL)
    return field->ref_entity;
  kind_row = find_row (self, field->ref_kind);
  if (kind_row == NULL)
    return NULL;
  selected = adw_combo_row_get_selected (ADW_COMBO_ROW (kind_row->row));
  if (!(kind_row->field->flags & KH_FIELD_FLAG_REQUIRED))
    {
      if (selected == 0 || selected == GTK_INVALID_LIST_POSITION)
        return NULL;
      selected--;
    }
  if (selected == GTK_INVALID_LIST_POSITION || selected >= g_strv_length ((char **) kind_row->field->enum_values))
    return NULL;
  return kind_row->field->enum_values[selected];
}

/* The value a row holds now: a new JSON reference, or NULL when it is empty. */
static gboolean
row_value (KhRecordEditor  *self,
           Row             *row,
           json_object    **value,
           GError         **error)
{
  const KhField *field = row->field;

  *value = NULL;
  switch (field->type)
    {
    case KH_FIELD_ENUM:
      {
        guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (row->row));

        if (!(field->flags & KH_FIELD_FLAG_REQUIRED))
          {
            if (selected == 0 || selected == GTK_INVALID_LIST_POSITION)
              return TRUE;
            selected--;
          }
        if (selected != GTK_INVALID_LIST_POSITION && selected < g_strv_length ((char **) field->enum_values))
          *value = json_object_new_string (field->enum_values[selected]);
        return TRUE;
      }
    case KH_FIELD_BOOL:
      *value = json_object_new_boolean (gtk_switch_get_active (GTK_SWITCH (row->toggle)));
      return TRUE;
    case KH_FIELD_REF:
      {
        KhRecordItem *record = kh_record_picker_get_selected (KH_RECORD_PICKER (row->picker));

        if (record != NULL)
          *value = json_object_new_string (kh_record_item_get_id (record));
        return TRUE;
      }
    case KH_FIELD_TEXT:
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
    case KH_FIELD_DATE:
    case KH_FIELD_JSON:
    default:
      return kh_field_parse (field, gtk_editable_get_text (GTK_EDITABLE (row->row)), value, error);
    }
}

static gboolean
check_row (KhRecordEditor *self,
           Row            *row)
{
  g_autoptr(GError) error = NULL;
  json_object *value = NULL;
  gboolean ok;

  ok = row_value (self, row, &value, &error) && kh_field_validate (row->field, value, &error);
  json_object_put (value);
  mark_row (row, ok ? NULL : error->message);
  if (!ok)
    show_error (self, error);
  else if (g_strcmp0 (self->error_field, row->field->name) == 0)
    show_error (self, NULL);
  return ok;
}

static void
entry_changed_cb (GtkEditable    *editable,
                  KhRecordEditor *self)
{
  Row *row = g_object_get_data (G_OBJECT (editable), "row");

  if (!self->loading)
    check_row (self, row);
}

/* References --------------------------------------------------------------------------------- */

/* A reference row's choices: a searchable picker over the records of @entity (NULL: none
 * yet, until the row it depends on is chosen). */
static void
set_ref_model (KhRecordEditor *self,
               Row            *row,
               const char     *entity)
{
  if (entity != NULL && kh_entity_lookup (entity) == NULL)
    entity = NULL;
  kh_record_picker_set_entity (KH_RECORD_PICKER (row->picker), entity);
}

gboolean
kh_record_editor_set_ref (KhRecordEditor *self,
                          const char     *field,
                          const char     *id)
{
  Row *row;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), FALSE);

  row = find_row (self, field);
  if (row == NULL || row->picker == NULL
      || kh_record_picker_get_entity (KH_RECORD_PICKER (row->picker)) == NULL)
    return FALSE;
  return kh_record_picker_set_selected_id (KH_RECORD_PICKER (row->picker), id);
}

/* The picker of a reference row, for the tests. */
GtkWidget *
kh_record_editor_get_picker (KhRecordEditor *self,
                             const char     *field)
{
  Row *row;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);

  row = find_row (self, field);
  return row != NULL ? row->picker : NULL;
}

/* The value an enum row has selected, or NULL. */
static const char *
current_enum (Row *row)
{
  guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (row->row));

  if (!(row->field->flags & KH_FIELD_FLAG_REQUIRED))
    {
      if (selected == 0 || selected == GTK_INVALID_LIST_POSITION)
        return NULL;
      selected--;
    }
  if (selected == GTK_INVALID_LIST_POSITION || selected >= g_strv_length ((char **) row->field->enum_values))
    return NULL;
  return row->field->enum_values[selected];
}

static void
combo_selected_cb (GtkWidget      *combo,
                   GParamSpec     *pspec,
                   KhRecordEditor *self)
{
  Row *row = g_object_get_data (G_OBJECT (combo), "row");

  if (self->loading)
    return;

  /* What follows from this choice: a registration's subject kind from its model. */
  if (row->field->type == KH_FIELD_ENUM)
    {
      const char *value = current_enum (row);

      for (guint i = 0; value != NULL && i < self->rows->len; i++)
        {
          Row *other = self->rows->pdata[i];
          const char *derived;

          if (other == row || other->field->type != KH_FIELD_ENUM
              || g_strcmp0 (other->field->derived_from, row->field->name) != 0
              || (derived = other->field->derive (value)) == NULL)
            continue;
          for (guint k = 0; other->field->enum_values[k] != NULL; k++)
            if (strcmp (other->field->enum_values[k], derived) == 0)
              adw_combo_row_set_selected (ADW_COMBO_ROW (other->row),
                                          k + ((other->field->flags & KH_FIELD_FLAG_REQUIRED) ? 0 : 1));
        }
    }

  /* A subject's kind decides where its subject is looked up. */
  if (row->field->type == KH_FIELD_ENUM)
    for (guint i = 0; i < self->rows->len; i++)
      {
        Row *other = self->rows->pdata[i];

        if (other->field->type == KH_FIELD_REF
            && g_strcmp0 (other->field->ref_kind, row->field->name) == 0)
          set_ref_model (self, other, current_kind (self, other->field));
      }

  /* Choosing a list, a fund or a person fills in the unit it belongs to, if still empty. */
  if (row->field->type == KH_FIELD_REF)
    {
      KhRecordItem *record = kh_record_picker_get_selected (KH_RECORD_PICKER (row->picker));
      Row *unit = find_row (self, "org_unit_id");
      const char *unit_id = record ? kh_record_item_get_string (record, "org_unit_id") : NULL;

      if (unit != NULL && unit != row && unit_id != NULL
          && kh_record_picker_get_selected (KH_RECORD_PICKER (unit->picker)) == NULL)
        kh_record_editor_set_ref (self, "org_unit_id", unit_id);

      /* An entry's person gives the recipient's date of birth and gender, where still empty:
       * the signing sheet shows the date, and the guardian's column follows from it. */
      if (record != NULL && strcmp (row->field->name, "person_id") == 0 && !self->loading)
        {
          Row *birth = find_row (self, "birth_date");
          Row *gender = find_row (self, "gender");
          const char *born = kh_record_item_get_string (record, "birth_date");
          const char *sex = kh_record_item_get_string (record, "gender");

          if (birth != NULL && born != NULL && *gtk_editable_get_text (GTK_EDITABLE (birth->row)) == '\0')
            {
              json_object *v = json_object_new_string (born);
              g_autofree char *text = kh_value_format (birth->field, v);

              gtk_editable_set_text (GTK_EDITABLE (birth->row), text);
              json_object_put (v);
            }
          if (gender != NULL && sex != NULL && current_enum (gender) == NULL)
            for (guint k = 0; gender->field->enum_values[k] != NULL; k++)
              if (strcmp (gender->field->enum_values[k], sex) == 0)
                adw_combo_row_set_selected (ADW_COMBO_ROW (gender->row),
                                            k + ((gender->field->flags & KH_FIELD_FLAG_REQUIRED) ? 0 : 1));
        }

      /* A registration's subject names it: the household's head, the person, the clan; an
       * entry's person names its recipient. The name is filled while it is empty or still the
       * one filled before. */
      if (record != NULL && (strcmp (row->field->name, "subject_id") == 0
                             || (strcmp (row->field->name, "person_id") == 0 && find_row (self, "recipient_name"))))
        {
          Row *name = find_row (self, strcmp (row->field->name, "subject_id") == 0 ? "subject_name" : "recipient_name");
          g_autofree char *title = kh_record_item_dup_title (record);
          const char *typed = name ? gtk_editable_get_text (GTK_EDITABLE (name->row)) : NULL;
          const char *filled = name ? g_object_get_data (G_OBJECT (name->row), "filled") : NULL;

          if (name != NULL && title != NULL && (typed == NULL || *typed == '\0' || g_strcmp0 (typed, filled) == 0))
            {
              gtk_editable_set_text (GTK_EDITABLE (name->row), title);
              g_object_set_data_full (G_OBJECT (name->row), "filled", g_strdup (title), g_free);
            }
        }
    }
  check_row (self, row);
}

/* Building the form -------------------------------------------------------------------------- */

static void
add_row (KhRecordEditor *self,
         const KhField  *field)
{
  Row *row = g_new0 (Row, 1);
  const char *title = _(field->label);
  json_object *value = original_value (self, field->name);

  row->field = field;
  switch (field->type)
    {
    case KH_FIELD_ENUM:
      {
        GtkStringList *labels = gtk_string_list_new (NULL);
        guint selected = GTK_INVALID_LIST_POSITION;
        guint offset = 0;

        row->row = adw_combo_row_new ();
        if (!(field->flags & KH_FIELD_FLAG_REQUIRED))
          {
            gtk_string_list_append (labels, _("(none)"));
            offset = 1;
            selected = 0;
          }
        for (guint i = 0; field->enum_values[i] != NULL; i++)
          {
            gtk_string_list_append (labels, _(field->enum_labels[i]));
            if (value != NULL && g_strcmp0 (json_object_get_string (value), field->enum_values[i]) == 0)
              selected = i + offset;
          }
        adw_combo_row_set_model (ADW_COMBO_ROW (row->row), G_LIST_MODEL (labels));
        adw_combo_row_set_selected (ADW_COMBO_ROW (row->row), selected);
        g_object_unref (labels);
        g_signal_connect (row->row, "notify::selected", G_CALLBACK (combo_selected_cb), self);
      }
      break;

    case KH_FIELD_REF:
      /* A searchable picker, not a drop-down: a drop-down cannot be searched in libadwaita 1.2,
       * and a household among thousands is found by typing its head's name. */
      row->row = adw_action_row_new ();
      row->picker = kh_record_picker_new (self->store, NULL);
      kh_record_picker_set_has_frame (KH_RECORD_PICKER (row->picker), FALSE);
      if (!(field->flags & KH_FIELD_FLAG_REQUIRED))
        kh_record_picker_set_none_label (KH_RECORD_PICKER (row->picker), _("(none)"));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->picker);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row->row), TRUE);
      g_signal_connect_swapped (row->row, "activated", G_CALLBACK (kh_record_picker_popup), row->picker);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->picker), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
      g_object_set_data (G_OBJECT (row->picker), "row", row);
      g_signal_connect (row->picker, "notify::selected", G_CALLBACK (combo_selected_cb), self);
      break;

    case KH_FIELD_BOOL:
      row->row = adw_action_row_new ();
      row->toggle = gtk_switch_new ();
      gtk_widget_set_valign (row->toggle, GTK_ALIGN_CENTER);
      gtk_switch_set_active (GTK_SWITCH (row->toggle), value != NULL && json_object_get_boolean (value));
      adw_action_row_add_suffix (ADW_ACTION_ROW (row->row), row->toggle);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row->row), row->toggle);
      gtk_accessible_update_property (GTK_ACCESSIBLE (row->toggle), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
      break;

    case KH_FIELD_TEXT:
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_MONEY:
    case KH_FIELD_DATE:
    case KH_FIELD_JSON:
    default:
      {
        g_autofree char *text = NULL;

        row->row = adw_entry_row_new ();
        if (value != NULL)
          text = kh_value_format (field, value);
        gtk_editable_set_text (GTK_EDITABLE (row->row), text ? text : "");
        if (field->type == KH_FIELD_DATE)
          {
            /* Spelled out: letters such as "dd/mm/yyyy" (in Vietnamese "nn/tt/nnnn") puzzle
             * more people than they help. */
            GtkWidget *hint = gtk_label_new (_("day/month/year"));

            gtk_widget_add_css_class (hint, "dim-label");
            /* TRANSLATORS: how to type a date; keep the example's form: 2-digit day and month */
            gtk_widget_set_tooltip_text (hint, _("Day, month and year, for example 05/09/2025"));
            adw_entry_row_add_suffix (ADW_ENTRY_ROW (row->row), hint);
          }
        else if (field->type == KH_FIELD_MONEY)
          {
            GtkWidget *hint = gtk_label_new ("₫");

            gtk_widget_add_css_class (hint, "dim-label");
            adw_entry_row_add_suffix (ADW_ENTRY_ROW (row->row), hint);
          }
        if (field->type == KH_FIELD_INT || field->type == KH_FIELD_YEAR || field->type == KH_FIELD_MONEY)
          gtk_editable_set_alignment (GTK_EDITABLE (row->row), 0);
        g_signal_connect (row->row, "changed", G_CALLBACK (entry_changed_cb), self);
      }
      break;
    }

  if (field->flags & KH_FIELD_FLAG_REQUIRED)
    {
      /* TRANSLATORS: a form row's title for a required field, e.g. "Recipient *" */
      g_autofree char *required = g_strdup_printf (_("%s *"), title);

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->row), required);
    }
  else
    adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row->row), title);
  gtk_widget_set_name (row->row, field->name);
  g_object_set_data (G_OBJECT (row->row), "row", row);
  adw_preferences_group_add (self->fields_group, row->row);
  g_ptr_array_add (self->rows, row);
}

static void
fill_refs (KhRecordEditor *self)
{
  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = self->rows->pdata[i];
      json_object *value;

      if (row->field->type != KH_FIELD_REF)
        continue;
      set_ref_model (self, row, current_kind (self, row->field));
      value = original_value (self, row->field->name);
      if (value != NULL)
        kh_record_editor_set_ref (self, row->field->name, json_object_get_string (value));
    }
}

static void
build_form (KhRecordEditor *self)
{
  self->loading = TRUE;
  for (guint i = 0; i < self->entity->n_fields; i++)
    {
      const KhField *field = &self->entity->fields[i];

      /* Scores are entered in the evaluation dialog, which computes the total from them. */
      if (field->type == KH_FIELD_JSON)
        continue;
      add_row (self, field);
    }
  fill_refs (self);
  self->loading = FALSE;
}

/* An award list moved on a step (paid): its entries and the status in the form show it, and
 * the form's original is the record as it is now, so Save writes only what is typed after. */
static void
workflow_changed_cb (KhRecordEditor *self)
{
  json_object *now = kh_store_get (self->store, self->entity->name, self->id, NULL);
  Row *status = find_row (self, "status");

  if (now == NULL)
    return;
  json_object_put (self->original);
  self->original = now;
  if (status != NULL)
    {
      const char *value = json_object_get_string (original_value (self, "status"));

      self->loading = TRUE;
      for (guint k = 0; value != NULL && status->field->enum_values[k] != NULL; k++)
        if (strcmp (status->field->enum_values[k], value) == 0)
          adw_combo_row_set_selected (ADW_COMBO_ROW (status->row),
                                      k + ((status->field->flags & KH_FIELD_FLAG_REQUIRED) ? 0 : 1));
      self->loading = FALSE;
    }
  if (self->entries != NULL)
    kh_award_list_entries_reload (KH_AWARD_LIST_ENTRIES (self->entries));
}

/* Saving ------------------------------------------------------------------------------------- */

static char *
record_title (KhRecordEditor *self)
{
  json_object *v = original_value (self, self->entity->title_field);
  const KhField *field = kh_entity_get_field (self->entity, self->entity->title_field);

  if (v == NULL || field == NULL)
    return g_strdup (_(self->entity->label));
  return kh_value_format (field, v);
}

static gboolean
save_confirmed_cb (gpointer data)
{
  kh_record_editor_save (data);
  return G_SOURCE_REMOVE;
}

static void
withdrawal_response_cb (AdwMessageDialog *dialog,
                        const char       *response,
                        KhRecordEditor   *self)
{
  if (g_strcmp0 (response, "withdraw") != 0)
    return;
  self->withdrawal_confirmed = TRUE;
  /* Once the dialog has closed: saving closes the form, which the dialog belongs to. */
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, save_confirmed_cb, g_object_ref (self), g_object_unref);
}

static void
confirm_withdrawal (KhRecordEditor *self)
{
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Withdraw the Consent?"),
                                              _("When the consent is withdrawn, the person's data is erased from "
                                                "the server and, at their next sync, from every device. This "
                                                "cannot be undone."));

  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"),
                                    "withdraw", _("_Withdraw and Erase"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "withdraw", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (withdrawal_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

gboolean
kh_record_editor_save (KhRecordEditor *self)
{
  g_autoptr(GError) error = NULL;
  json_object *values = json_object_new_object ();
  gboolean ok = TRUE;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), FALSE);

  for (guint i = 0; i < self->rows->len && ok; i++)
    {
      Row *row = self->rows->pdata[i];
      json_object *value = NULL;

      mark_row (row, NULL);
      if (!row_value (self, row, &value, &error))
        {
          mark_row (row, error->message);
          ok = FALSE;
          break;
        }
      if (self->id == NULL)
        {
          if (value != NULL)
            json_object_object_add (values, row->field->name, value);
        }
      else
        {
          json_object *old = original_value (self, row->field->name);
          const char *a = old ? json_object_to_json_string_ext (old, JSON_C_TO_STRING_PLAIN) : NULL;
          const char *b = value ? json_object_to_json_string_ext (value, JSON_C_TO_STRING_PLAIN) : NULL;

          /* Only what changed is written, so the outbox carries only those fields. */
          if (g_strcmp0 (a, b) != 0)
            json_object_object_add (values, row->field->name, value);
          else
            json_object_put (value);
        }
    }

  /* Withdrawing a consent erases the person's data everywhere (PROTOCOL.md §11): said first. */
  if (ok && self->id != NULL && strcmp (self->entity->name, "consent") == 0 && !self->withdrawal_confirmed
      && json_object_object_get (values, "withdrawn_on") != NULL && original_value (self, "withdrawn_on") == NULL)
    {
      json_object_put (values);
      confirm_withdrawal (self);
      return FALSE;
    }
  if (ok)
    {
      if (self->id == NULL)
        {
          self->id = kh_store_create (self->store, self->entity->name, values, &error);
          ok = self->id != NULL;
        }
      else
        ok = kh_store_update (self->store, self->entity->name, self->id, values, &error);
    }
  json_object_put (values);

  if (!ok)
    {
      Row *row = row_for_error (self, error);

      show_error (self, error);
      if (row != NULL)
        {
          mark_row (row, error->message);
          gtk_widget_grab_focus (row->row);
        }
      return FALSE;
    }

  show_error (self, NULL);
  g_signal_emit (self, signals[SAVED], 0, self->id);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

gboolean
kh_record_editor_delete (KhRecordEditor *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *title = NULL;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), FALSE);

  if (self->id == NULL)
    return FALSE;
  if (!kh_store_delete (self->store, self->entity->name, self->id, &error))
    {
      show_error (self, error);
      return FALSE;
    }
  title = record_title (self);
  g_signal_emit (self, signals[DELETED], 0, self->entity->name, self->id, title);
  gtk_window_close (GTK_WINDOW (self));
  return TRUE;
}

/* Erasure ------------------------------------------------------------------------------------ */

static void
erase_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(KhRecordEditor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!kh_sync_client_erase_finish (KH_SYNC_CLIENT (source), result, &error))
    {
      show_error (self, error);
      return;
    }
  gtk_window_close (GTK_WINDOW (self));
}

/* Asks the server, through the window's sync client, to erase the person this editor shows;
 * the window's next sync takes the erasure in. FALSE when there is no server to ask. */
gboolean
kh_record_editor_erase (KhRecordEditor *self,
                        const char     *reason)
{
  GtkWindow *parent;
  KhSyncClient *client = NULL;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), FALSE);
  g_return_val_if_fail (reason != NULL, FALSE);

  if (self->id == NULL)
    return FALSE;
  parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  if (KH_IS_WINDOW (parent))
    client = kh_window_get_sync_client (KH_WINDOW (parent));
  if (client == NULL)
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                                     _("Sign in to a server to erase a person: only the server reaches every copy."));

      show_error (self, error);
      return FALSE;
    }
  kh_sync_client_erase_async (client, self->entity->name, self->id, reason, NULL, erase_done_cb,
                              g_object_ref (self));
  return TRUE;
}

static void
erase_response_cb (AdwMessageDialog *dialog,
                   const char       *response,
                   KhRecordEditor   *self)
{
  GtkEditable *entry = GTK_EDITABLE (adw_message_dialog_get_extra_child (dialog));
  g_autofree char *reason = g_strstrip (g_strdup (gtk_editable_get_text (entry)));

  if (g_strcmp0 (response, "erase") != 0)
    return;
  if (*reason == '\0')
    {
      g_autoptr(GError) error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                                                     _("Say why the person is erased."));

      show_error (self, error);
      return;
    }
  kh_record_editor_erase (self, reason);
}

static void
erase_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *param)
{
  KhRecordEditor *self = KH_RECORD_EDITOR (widget);
  GtkWidget *dialog = adw_message_dialog_new (GTK_WINDOW (self), _("Erase This Person's Data?"),
                                              _("The name, date of birth, national id and every other personal "
                                                "detail are removed from the server and, at their next sync, "
                                                "from every device, with the names on their awards and consents. "
                                                "Paid awards still count, without the name. This cannot be undone."));
  GtkWidget *entry = gtk_entry_new ();

  gtk_entry_set_placeholder_text (GTK_ENTRY (entry), _("Why (for example: the family's request of 02/03/2026)"));
  adw_message_dialog_set_extra_child (ADW_MESSAGE_DIALOG (dialog), entry);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog), "cancel", _("_Cancel"), "erase", _("_Erase"), NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "erase", ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_object (dialog, "response", G_CALLBACK (erase_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* History ------------------------------------------------------------------------------------ */

static char *
format_when (const char *iso)
{
  g_autoptr(GDateTime) utc = iso ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc ? g_date_time_to_local (utc) : NULL;

  return local ? g_date_time_format (local, "%d/%m/%Y %H:%M") : g_strdup (iso ? iso : "");
}

/* A history row without a field of the registry: a record arriving from the server, or a
 * record deleted or restored there or by resolving a conflict. */
static const char *
describe_record_change (const char *action,
                        const char *field_name,
                        const char *new_text)
{
  gboolean remote = g_strcmp0 (action, "remote") == 0;
  gboolean now_deleted = g_strcmp0 (new_text, "true") == 0;

  if (remote && field_name == NULL)
    return g_strcmp0 (new_text, "deleted") == 0 ? _("Received from the server, deleted")
                                                : _("Received from the server");
  if (remote && g_strcmp0 (field_name, KH_COLUMN_DELETED) == 0)
    return now_deleted ? _("Deleted on the server") : _("Restored on the server");
  if (g_strcmp0 (action, "resolve") == 0 && g_strcmp0 (field_name, KH_COLUMN_DELETED) == 0)
    return now_deleted ? _("Conflict resolved: deleted") : _("Conflict resolved: kept");
  return _("Changed");
}

/* A value as the history shows it: a reference by the title of what it names ("Xã Suối
 * Hiệp", not its id); the id only when that record is not on this computer. */
static char *
history_value (KhRecordEditor *self,
               const KhField  *field,
               json_object    *value)
{
  if (field->type == KH_FIELD_REF && json_object_is_type (value, json_type_string))
    {
      const char *entity = field->ref_entity;
      char *title;

      if (entity == NULL && field->ref_kind != NULL)
        {
          json_object *kind = original_value (self, field->ref_kind);

          /* A subject kind names an entity directly ("household", "person", "org_unit"). */
          entity = kind != NULL ? json_object_get_string (kind) : NULL;
          if (entity != NULL && kh_entity_lookup (entity) == NULL)
            entity = NULL;
        }
      title = entity ? kh_store_dup_title (self->store, entity, json_object_get_string (value)) : NULL;
      if (title != NULL)
        return title;
    }
  return kh_value_format (field, value);
}

static char *
describe_change (KhRecordEditor *self,
                 json_object    *entry)
{
  const char *action = json_object_get_string (json_object_object_get (entry, "action"));
  const char *field_name = json_object_get_string (json_object_object_get (entry, "field"));
  const char *old_text = json_object_get_string (json_object_object_get (entry, "old_value"));
  const char *new_text = json_object_get_string (json_object_object_get (entry, "new_value"));
  const KhField *field = field_name ? kh_entity_get_field (self->entity, field_name) : NULL;
  json_object *old_value = NULL;
  json_object *new_value = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  char *text;

  if (g_strcmp0 (action, "create") == 0)
    return g_strdup (_("Created"));
  if (g_strcmp0 (action, "delete") == 0)
    return g_strdup (_("Deleted"));
  if (g_strcmp0 (action, "restore") == 0)
    return g_strdup (_("Restored"));
  if (field == NULL)
    return g_strdup (describe_record_change (action, field_name, new_text));

  kh_field_parse (field, old_text, &old_value, NULL);
  kh_field_parse (field, new_text, &new_value, NULL);
  a = old_value ? history_value (self, field, old_value) : g_strdup (_("(empty)"));
  b = new_value ? history_value (self, field, new_value) : g_strdup (_("(empty)"));
  json_object_put (old_value);
  json_object_put (new_value);
  /* TRANSLATORS: a change in a record's history: "Amount (đồng): 1.000.000 ₫ → 1.500.000 ₫" */
  text = g_strdup_printf (_("%s: %s → %s"), _(field->label), a, b);
  if (g_strcmp0 (action, "remote") == 0)
    {
      char *remote = g_strdup_printf (_("On the server: %s"), text);

      g_free (text);
      return remote;
    }
  return text;
}

guint
kh_record_editor_show_history (KhRecordEditor *self)
{
  g_autoptr(GError) error = NULL;
  json_object *history;
  GtkWidget *child;
  guint n = 0;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), 0);

  if (self->id == NULL)
    return 0;
  /* Rebuilt each time: remove what an earlier click added. */
  while ((child = g_object_get_data (G_OBJECT (self->history_group), "first")) != NULL)
    {
      GtkWidget *next = g_object_get_data (G_OBJECT (child), "next");

      adw_preferences_group_remove (self->history_group, child);
      g_object_set_data (G_OBJECT (self->history_group), "first", next);
    }

  history = kh_store_history (self->store, self->entity->name, self->id, &error);
  if (history == NULL)
    {
      show_error (self, error);
      return 0;
    }
  {
    GtkWidget *previous = NULL;

    /* Newest first: what a person looks for is the last change. */
    for (size_t i = json_object_array_length (history); i-- > 0;)
      {
        json_object *entry = json_object_array_get_idx (history, i);
        g_autofree char *when = format_when (json_object_get_string (json_object_object_get (entry, "at")));
        g_autofree char *what = describe_change (self, entry);
        const char *who = json_object_get_string (json_object_object_get (entry, "actor"));
        g_autofree char *subtitle = g_strdup_printf ("%s · %s", when, who ? who : _("unknown"));
        GtkWidget *row = adw_action_row_new ();

        adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), what);
        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
        adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
        adw_preferences_group_add (self->history_group, row);
        if (previous == NULL)
          g_object_set_data (G_OBJECT (self->history_group), "first", row);
        else
          g_object_set_data (G_OBJECT (previous), "next", row);
        previous = row;
        n++;
      }
  }
  json_object_put (history);
  gtk_widget_set_visible (GTK_WIDGET (self->history_group), TRUE);
  return n;
}

/* The title of the @n-th row kh_record_editor_show_history() shows (0 is the newest), or
 * NULL. */
const char *
kh_record_editor_get_history_title (KhRecordEditor *self,
                                    guint           n)
{
  GtkWidget *row;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);

  row = g_object_get_data (G_OBJECT (self->history_group), "first");
  for (guint i = 0; row != NULL && i < n; i++)
    row = g_object_get_data (G_OBJECT (row), "next");
  return row != NULL ? adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)) : NULL;
}

const char *
kh_record_editor_get_history_subtitle (KhRecordEditor *self,
                                       guint           n)
{
  GtkWidget *row;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);

  row = g_object_get_data (G_OBJECT (self->history_group), "first");
  for (guint i = 0; row != NULL && i < n; i++)
    row = g_object_get_data (G_OBJECT (row), "next");
  return row != NULL ? adw_action_row_get_subtitle (ADW_ACTION_ROW (row)) : NULL;
}

GtkWidget *
kh_record_editor_get_approval (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->approval;
}

/* Actions ------------------------------------------------------------------------------------ */

static void
save_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  kh_record_editor_save (KH_RECORD_EDITOR (widget));
}

static void
delete_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  kh_record_editor_delete (KH_RECORD_EDITOR (widget));
}

static void
server_history_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      data)
{
  g_autoptr(KhRecordEditor) self = data;
  g_autoptr(GError) error = NULL;

  /* Offline, or a record the server does not have yet: what this replica knows stays shown. */
  if (kh_sync_client_history_finish (KH_SYNC_CLIENT (source), result, &error)
      && gtk_widget_get_visible (GTK_WIDGET (self->history_group)))
    kh_record_editor_show_history (self);
}

static void
history_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *param)
{
  KhRecordEditor *self = KH_RECORD_EDITOR (widget);
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  KhSyncClient *client = KH_IS_WINDOW (parent) ? kh_window_get_sync_client (KH_WINDOW (parent)) : NULL;

  kh_record_editor_show_history (self);
  /* The server knows who made the changes this replica only received. */
  if (client != NULL && self->id != NULL)
    kh_sync_client_history_async (client, self->entity->name, self->id, NULL, server_history_cb,
                                  g_object_ref (self));
}

static void
evaluate_action (GtkWidget  *widget,
                 const char *action_name,
                 GVariant   *param)
{
  KhRecordEditor *self = KH_RECORD_EDITOR (widget);
  GtkWidget *dialog = kh_evaluation_dialog_new (self->store, self->id);

  gtk_window_set_transient_for (GTK_WINDOW (dialog), gtk_window_get_transient_for (GTK_WINDOW (self)));
  gtk_window_close (GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
recognize_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *param)
{
  KhRecordEditor *self = KH_RECORD_EDITOR (widget);
  json_object *defaults = json_object_new_object ();
  GtkWidget *editor;

  json_object_object_add (defaults, "registration_id", json_object_new_string (self->id));
  json_object_object_add (defaults, "org_unit_id", json_object_get (original_value (self, "org_unit_id")));
  json_object_object_add (defaults, "issuing_level", json_object_new_string ("commune"));
  editor = kh_record_editor_new (self->store, "recognition", NULL, defaults);
  json_object_put (defaults);
  gtk_window_set_transient_for (GTK_WINDOW (editor), gtk_window_get_transient_for (GTK_WINDOW (self)));
  gtk_window_close (GTK_WINDOW (self));
  gtk_window_present (GTK_WINDOW (editor));
}

/* Object ------------------------------------------------------------------------------------- */

/* The Attachments group, or NULL for a record that takes no files (or a new one). */
GtkWidget *
kh_record_editor_get_attachments (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->attachments;
}

/* An award list's payment, recorded from its steps, or NULL for other records. */
KhAwardListWorkflow *
kh_record_editor_get_workflow (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->workflow;
}

/* An award list's entries under its fields, or NULL for other records. */
GtkWidget *
kh_record_editor_get_entries (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->entries;
}

const char *
kh_record_editor_get_id (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->id;
}

GtkWidget *
kh_record_editor_get_row (KhRecordEditor *self,
                          const char     *field)
{
  Row *row;

  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  row = find_row (self, field);
  return row ? (row->toggle ? row->toggle : row->row) : NULL;
}

const char *
kh_record_editor_get_error (KhRecordEditor *self)
{
  g_return_val_if_fail (KH_IS_RECORD_EDITOR (self), NULL);
  return self->error_text;
}

static void
kh_record_editor_dispose (GObject *object)
{
  KhRecordEditor *self = (KhRecordEditor *) object;

  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_RECORD_EDITOR);
  g_clear_pointer (&self->rows, g_ptr_array_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_record_editor_parent_class)->dispose (object);
}

static void
kh_record_editor_finalize (GObject *object)
{
  KhRecordEditor *self = (KhRecordEditor *) object;

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->error_text, g_free);
  g_clear_pointer (&self->error_field, g_free);
  g_clear_pointer (&self->original, json_object_put);

  G_OBJECT_CLASS (kh_record_editor_parent_class)->finalize (object);
}

static void
kh_record_editor_class_init (KhRecordEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_record_editor_dispose;
  object_class->finalize = kh_record_editor_finalize;

  /**
   * KhRecordEditor::saved:
   * @id: the record's id
   */
  signals[SAVED] = g_signal_new ("saved", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                 NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /**
   * KhRecordEditor::deleted:
   * @entity: the entity name
   * @id: the record's id
   * @title: what the record is called, for the undo toast
   */
  signals[DELETED] = g_signal_new ("deleted", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 3,
                                   G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-record-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, title_widget);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, error_label);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, fields_group);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, actions_box);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, history_button);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, evaluate_button);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, recognize_button);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, delete_button);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, erase_button);
  gtk_widget_class_bind_template_child (widget_class, KhRecordEditor, history_group);

  gtk_widget_class_install_action (widget_class, "editor.save", NULL, save_action);
  gtk_widget_class_install_action (widget_class, "editor.delete", NULL, delete_action);
  gtk_widget_class_install_action (widget_class, "editor.erase", NULL, erase_action);
  gtk_widget_class_install_action (widget_class, "editor.history", NULL, history_action);
  gtk_widget_class_install_action (widget_class, "editor.evaluate", NULL, evaluate_action);
  gtk_widget_class_install_action (widget_class, "editor.recognize", NULL, recognize_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_s, GDK_CONTROL_MASK, "editor.save", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_w, GDK_CONTROL_MASK, "window.close", NULL);
}

static void
kh_record_editor_init (KhRecordEditor *self)
{
  self->rows = g_ptr_array_new_with_free_func (row_free);
  gtk_widget_init_template (GTK_WIDGET (self));
}

/* A new registration is for this year and starts as registered, today, unless the caller said
 * otherwise: the fields an officer would otherwise fill the same way every time. Takes
 * @defaults (may be NULL) and returns the defaults to use. */
static json_object *
registration_defaults (json_object *defaults)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  json_object *d = defaults != NULL ? defaults : json_object_new_object ();

  if (json_object_object_get (d, "year") == NULL)
    json_object_object_add (d, "year", json_object_new_int (g_date_time_get_year (now)));
  if (json_object_object_get (d, "status") == NULL)
    json_object_object_add (d, "status", json_object_new_string ("registered"));
  if (json_object_object_get (d, "registered_on") == NULL)
    {
      g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");

      json_object_object_add (d, "registered_on", json_object_new_string (today));
    }
  return d;
}

/* Approval ----------------------------------------------------------------------------------- */

/* A locked record (an approved list, an issued recognition, a submitted dossier, an approved
 * list's entry) is shown read-only: its rows insensitive, no saving or deleting; a treasurer
 * may still record an entry's payment. The state itself is set only by the steps' buttons. */
static void
apply_lock (KhRecordEditor *self)
{
  static const char * const payment[] = { "status", "received_on", "received_by", "voucher_number", NULL };
  const char *state_field = kh_workflow_state_field (self->entity->name);
  gboolean locked = self->id != NULL && kh_workflow_bar_locks (self->store, self->entity->name, self->original);
  gboolean paying = locked && strcmp (self->entity->name, "award_entry") == 0
                    && (kh_workflow_bar_permits (self->store) & KH_PERMIT_PAY);

  for (guint i = 0; i < self->rows->len; i++)
    {
      Row *row = self->rows->pdata[i];
      const char *name = row->field->name;
      gboolean editable = !locked || (paying && g_strv_contains (payment, name));

      if (state_field != NULL && self->id != NULL
          && (strcmp (name, state_field) == 0 || strcmp (name, "reopen_reason") == 0))
        editable = FALSE;
      gtk_widget_set_sensitive (row->row, editable);
    }
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.save", !locked || paying);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "editor.delete", !locked);
  if (self->entries != NULL)
    {
      GtkWidget *suffix = adw_preferences_group_get_header_suffix (ADW_PREFERENCES_GROUP (self->entries));
      GtkWidget *add = suffix != NULL ? gtk_widget_get_first_child (suffix) : NULL;

      /* The first of the entries' buttons adds one. */
      if (GTK_IS_BUTTON (add))
        gtk_widget_set_sensitive (add, !locked);
    }
}

/* A step was taken: the record is read again and the form with it. */
static void
stepped_cb (KhRecordEditor *self)
{
  json_object *record = kh_store_get (self->store, self->entity->name, self->id, NULL);

  if (record == NULL)
    return;
  json_object_put (self->original);
  self->original = record;
  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (self->fields_group, ((Row *) self->rows->pdata[i])->row);
  g_ptr_array_set_size (self->rows, 0);
  build_form (self);
  apply_lock (self);
  show_error (self, NULL);
}

/* An editor for the record @id of @entity, or for a new one with @defaults when @id is NULL. */
GtkWidget *
kh_record_editor_new (KhStore     *store,
                      const char  *entity,
                      const char  *id,
                      json_object *defaults)
{
  KhRecordEditor *self;
  g_autoptr(GError) error = NULL;
  gboolean is_registration;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (kh_entity_lookup (entity) != NULL, NULL);

  self = g_object_new (KH_TYPE_RECORD_EDITOR, NULL);
  self->store = g_object_ref (store);
  self->entity = kh_entity_lookup (entity);
  self->id = g_strdup (id);
  if (id != NULL)
    {
      self->original = kh_store_get (store, entity, id, &error);
      if (self->original == NULL)
        show_error (self, error);
    }
  else if (defaults != NULL)
    self->original = json_object_get (defaults);
  if (id == NULL && strcmp (entity, "registration") == 0)
    self->original = registration_defaults (self->original);
  build_form (self);

  is_registration = strcmp (entity, "registration") == 0;
  gtk_widget_set_visible (self->actions_box, id != NULL);
  /* Only the server erases, and only a person. */
  gtk_widget_set_visible (self->erase_button, id != NULL && strcmp (entity, "person") == 0);
  gtk_widget_set_visible (self->evaluate_button, is_registration);
  gtk_widget_set_visible (self->recognize_button, is_registration);
  if (id != NULL && self->original != NULL && strcmp (entity, "award_list") == 0)
    {
      /* A list's page is where its entries are seen, added, printed and exported: they come
       * first, above the list's own fields. */
      self->entries = kh_award_list_entries_new (store, id);
      gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->fields_group))),
                                  self->entries,
                                  gtk_widget_get_prev_sibling (GTK_WIDGET (self->fields_group)));
      gtk_window_set_default_size (GTK_WINDOW (self), 640, 760);
    }
  if (id != NULL && self->original != NULL && kh_attach_is_owner_entity (entity))
    {
      /* The papers that prove the record, below its fields. */
      self->attachments = kh_attachments_group_new (store, entity, id);
      gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->fields_group))),
                                  self->attachments, GTK_WIDGET (self->fields_group));
    }
  if (id != NULL && self->original != NULL && kh_workflow_state_field (entity) != NULL)
    {
      /* Where the record stands among its steps, and the steps this account may take, come
       * first: one group, the payment of an award list included. */
      self->approval = kh_workflow_bar_new (store, entity, id);
      gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (GTK_WIDGET (self->fields_group))),
                                  self->approval,
                                  gtk_widget_get_prev_sibling (self->entries != NULL ? self->entries
                                                               : GTK_WIDGET (self->fields_group)));
      g_signal_connect_object (self->approval, "stepped", G_CALLBACK (stepped_cb), self, G_CONNECT_SWAPPED);
      self->workflow = kh_workflow_bar_get_payment (KH_WORKFLOW_BAR (self->approval));
      if (self->workflow != NULL)
        g_signal_connect_object (self->workflow, "changed", G_CALLBACK (workflow_changed_cb), self,
                                 G_CONNECT_SWAPPED);
    }
  /* A list's scanned pages show next to the list, just above its entries. */
  if (self->entries != NULL && self->attachments != NULL)
    gtk_box_insert_child_after (GTK_BOX (gtk_widget_get_parent (self->entries)),
                                kh_attachments_group_get_photos (KH_ATTACHMENTS_GROUP (self->attachments)),
                                gtk_widget_get_prev_sibling (self->entries));
  apply_lock (self);
  if (id != NULL)
    {
      g_autofree char *title = record_title (self);

      adw_window_title_set_title (self->title_widget, title);
      adw_window_title_set_subtitle (self->title_widget, _(self->entity->label));
      gtk_window_set_title (GTK_WINDOW (self), title);
    }
  else
    {
      g_autofree char *lower = g_utf8_strdown (_(self->entity->label), -1);
      /* TRANSLATORS: an editor's title for a new record, e.g. "New award entry" */
      g_autofree char *title = g_strdup_printf (_("New %s"), lower);

      adw_window_title_set_title (self->title_widget, title);
      gtk_window_set_title (GTK_WINDOW (self), title);
    }
  return GTK_WIDGET (self);
}
