/* kh-criteria-editor.c: a criteria set and its criteria, edited together
 *
 * Criteria are data a province enters (DOMAIN.md): the set's method and pass rule above, its
 * criteria (code, title, maximum points) below, saved in one step by kh_criteria_set_save().
 * A set evaluations have used keeps its criteria for them: the editor says so, and saving
 * makes a new version from the date given (the old one closes the day before).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-criteria-editor.h"
#include "kh-entity.h"
#include "kh-evaluate.h"
#include "kh-models.h"
#include "kh-toast.h"
#include "kh-validate.h"

typedef struct
{
  GtkWidget *row;
  GtkEntry  *code;
  GtkEntry  *title;
  GtkSpinButton *max;
} CriterionRow;

struct _KhCriteriaEditor
{
  AdwWindow      parent_instance;

  KhStore       *store;
  char          *set_id;
  gboolean       used;
  GHashTable    *inputs;       /* field name → AdwEntryRow, AdwComboRow or GtkSpinButton */
  GPtrArray     *criteria;     /* CriterionRow */
  GtkListBox    *criteria_list;
  GtkLabel      *error_label;
};

G_DEFINE_FINAL_TYPE (KhCriteriaEditor, kh_criteria_editor, ADW_TYPE_WINDOW)

/* The set's fields the editor shows, in order; the rest (its unit, earlier version) are kept. */
static const char * const set_fields[] = {
  "name", "model", "legal_basis", "valid_from", "valid_to", "subject_group", "method", "level_rule",
  "max_total", "pass_min_total", "pass_min_item", "level1_min", "level2_min", "level3_min", NULL
};

static const KhField *
set_field (const char *name)
{
  return kh_entity_get_field (kh_entity_lookup ("criteria_set"), name);
}

gboolean
kh_criteria_editor_is_used (KhCriteriaEditor *self)
{
  g_return_val_if_fail (KH_IS_CRITERIA_EDITOR (self), FALSE);
  return self->used;
}

guint
kh_criteria_editor_get_n_criteria (KhCriteriaEditor *self)
{
  g_return_val_if_fail (KH_IS_CRITERIA_EDITOR (self), 0);
  return self->criteria->len;
}

static void
remove_clicked_cb (GtkButton        *button,
                   KhCriteriaEditor *self)
{
  for (guint i = 0; i < self->criteria->len; i++)
    {
      CriterionRow *c = self->criteria->pdata[i];

      if (gtk_widget_is_ancestor (GTK_WIDGET (button), c->row))
        {
          gtk_list_box_remove (self->criteria_list, c->row);
          g_ptr_array_remove_index (self->criteria, i);
          return;
        }
    }
}

void
kh_criteria_editor_add_criterion (KhCriteriaEditor *self,
                                  const char       *code,
                                  const char       *title,
                                  int               max_points)
{
  CriterionRow *c = g_new0 (CriterionRow, 1);
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *remove = gtk_button_new_from_icon_name ("list-remove-symbolic");

  g_return_if_fail (KH_IS_CRITERIA_EDITOR (self));
  c->code = GTK_ENTRY (gtk_entry_new ());
  c->title = GTK_ENTRY (gtk_entry_new ());
  c->max = GTK_SPIN_BUTTON (gtk_spin_button_new_with_range (0, 1000, 1));
  gtk_editable_set_text (GTK_EDITABLE (c->code), code != NULL ? code : "");
  gtk_editable_set_width_chars (GTK_EDITABLE (c->code), 4);
  gtk_editable_set_max_width_chars (GTK_EDITABLE (c->code), 4);
  gtk_entry_set_placeholder_text (c->code, _("Code"));
  gtk_editable_set_text (GTK_EDITABLE (c->title), title != NULL ? title : "");
  gtk_entry_set_placeholder_text (c->title, _("Criterion"));
  gtk_widget_set_hexpand (GTK_WIDGET (c->title), TRUE);
  gtk_spin_button_set_value (c->max, max_points);
  gtk_widget_set_tooltip_text (GTK_WIDGET (c->max), _("Maximum points"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (c->max), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Maximum points"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (c->code), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Code"), -1);
  gtk_accessible_update_property (GTK_ACCESSIBLE (c->title), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Criterion"), -1);
  gtk_widget_set_tooltip_text (remove, _("Remove this criterion"));
  gtk_widget_add_css_class (remove, "flat");
  g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (c->code));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (c->title));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (c->max));
  gtk_box_append (GTK_BOX (box), remove);
  gtk_widget_set_margin_top (box, 6);
  gtk_widget_set_margin_bottom (box, 6);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  c->row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (c->row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (c->row), FALSE);
  gtk_list_box_append (self->criteria_list, c->row);
  g_ptr_array_add (self->criteria, c);
}

static void
add_clicked_cb (KhCriteriaEditor *self)
{
  g_autofree char *code = g_strdup_printf ("%u", self->criteria->len + 1);

  kh_criteria_editor_add_criterion (self, code, "", 0);
}

/* Sets the input of the set's field @name from @text as a person types it (for a choice, its
 * value). */
void
kh_criteria_editor_set_field (KhCriteriaEditor *self,
                              const char       *name,
                              const char       *text)
{
  GtkWidget *input = g_hash_table_lookup (self->inputs, name);
  const KhField *f = set_field (name);

  g_return_if_fail (input != NULL);
  if (ADW_IS_COMBO_ROW (input))
    {
      for (guint i = 0; f->enum_values[i] != NULL; i++)
        if (g_strcmp0 (f->enum_values[i], text) == 0)
          adw_combo_row_set_selected (ADW_COMBO_ROW (input), i + (f->flags & KH_FIELD_FLAG_REQUIRED ? 0 : 1));
    }
  else if (GTK_IS_SPIN_BUTTON (input))
    gtk_spin_button_set_value (GTK_SPIN_BUTTON (input), text != NULL ? g_ascii_strtod (text, NULL) : 0);
  else
    gtk_editable_set_text (GTK_EDITABLE (input), text != NULL ? text : "");
}

/* The set's values as typed, parsed by the registry; NULL with @error on one it refuses. */
static json_object *
set_values (KhCriteriaEditor  *self,
            GError           **error)
{
  json_object *values = json_object_new_object ();

  for (guint i = 0; set_fields[i] != NULL; i++)
    {
      const KhField *f = set_field (set_fields[i]);
      GtkWidget *input = g_hash_table_lookup (self->inputs, set_fields[i]);
      json_object *value = NULL;

      if (ADW_IS_COMBO_ROW (input))
        {
          guint selected = adw_combo_row_get_selected (ADW_COMBO_ROW (input));
          guint first = f->flags & KH_FIELD_FLAG_REQUIRED ? 0 : 1;

          if (selected >= first)
            value = json_object_new_string (f->enum_values[selected - first]);
        }
      else if (GTK_IS_SPIN_BUTTON (input))
        {
          int n = gtk_spin_button_get_value_as_int (GTK_SPIN_BUTTON (input));

          /* A threshold of 0 is none, but for the pass mark of a points set. */
          if (n > 0 || strcmp (f->name, "pass_min_total") == 0)
            value = json_object_new_int (n);
        }
      else
        {
          const char *text = gtk_editable_get_text (GTK_EDITABLE (input));

          if (*text != '\0' && !kh_field_parse (f, text, &value, error))
            {
              json_object_put (values);
              return NULL;
            }
        }
      json_object_object_add (values, f->name, value);
    }
  return values;
}

char *
kh_criteria_editor_save (KhCriteriaEditor *self)
{
  g_autoptr(GError) error = NULL;
  json_object *values;
  json_object *criteria;
  char *id = NULL;

  g_return_val_if_fail (KH_IS_CRITERIA_EDITOR (self), NULL);

  values = set_values (self, &error);
  if (values == NULL)
    goto out;
  /* A new set leaves out what is empty; an edit clears it. */
  if (self->set_id == NULL)
    {
      json_object *kept = json_object_new_object ();

      json_object_object_foreach (values, key, val)
        if (val != NULL)
          json_object_object_add (kept, key, json_object_get (val));
      json_object_put (values);
      values = kept;
    }
  criteria = json_object_new_array ();
  for (guint i = 0; i < self->criteria->len; i++)
    {
      CriterionRow *c = self->criteria->pdata[i];
      json_object *o = json_object_new_object ();
      const char *code = gtk_editable_get_text (GTK_EDITABLE (c->code));
      const char *title = gtk_editable_get_text (GTK_EDITABLE (c->title));

      if (*code != '\0')
        json_object_object_add (o, "code", json_object_new_string (code));
      if (*title != '\0')
        json_object_object_add (o, "title", json_object_new_string (title));
      json_object_object_add (o, "max_points", json_object_new_int (gtk_spin_button_get_value_as_int (c->max)));
      json_object_object_add (o, "position", json_object_new_int ((int) i + 1));
      json_object_array_add (criteria, o);
    }
  id = kh_criteria_set_save (self->store, self->set_id, values, criteria, &error);
  json_object_put (values);
  json_object_put (criteria);

out:
  if (id == NULL)
    {
      gtk_label_set_text (self->error_label, error != NULL ? error->message : "");
      gtk_widget_set_visible (GTK_WIDGET (self->error_label), TRUE);
      return NULL;
    }
  {
    GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));

    if (parent != NULL)
      kh_widget_add_toast (GTK_WIDGET (parent),
                           adw_toast_new (self->used ? _("Saved as a new version of the criteria set")
                                                     : _("Criteria set saved")));
  }
  gtk_window_close (GTK_WINDOW (self));
  return id;
}

static void
save_clicked_cb (KhCriteriaEditor *self)
{
  g_free (kh_criteria_editor_save (self));
}

static GtkWidget *
field_input (KhCriteriaEditor *self,
             const KhField    *f,
             json_object      *set)
{
  json_object *value = set != NULL ? json_object_object_get (set, f->name) : NULL;
  GtkWidget *row;

  if (f->type == KH_FIELD_ENUM)
    {
      g_autoptr(GtkStringList) labels = gtk_string_list_new (NULL);
      gboolean optional = !(f->flags & KH_FIELD_FLAG_REQUIRED);

      if (optional)
        gtk_string_list_append (labels, C_("choice", "None"));
      for (guint i = 0; f->enum_values[i] != NULL; i++)
        gtk_string_list_append (labels, _(f->enum_labels[i]));
      row = adw_combo_row_new ();
      adw_combo_row_set_model (ADW_COMBO_ROW (row), G_LIST_MODEL (labels));
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(f->label));
      g_hash_table_insert (self->inputs, (gpointer) f->name, row);
      kh_criteria_editor_set_field (self, f->name, value != NULL ? json_object_get_string (value) : NULL);
      return row;
    }
  if (f->type == KH_FIELD_INT)
    {
      GtkWidget *spin = gtk_spin_button_new_with_range (0, 1000, 1);

      row = adw_action_row_new ();
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(f->label));
      gtk_widget_set_valign (spin, GTK_ALIGN_CENTER);
      gtk_spin_button_set_value (GTK_SPIN_BUTTON (spin), value != NULL ? json_object_get_int (value) : 0);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spin), GTK_ACCESSIBLE_PROPERTY_LABEL, _(f->label), -1);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), spin);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), spin);
      g_hash_table_insert (self->inputs, (gpointer) f->name, spin);
      return row;
    }
  row = adw_entry_row_new ();
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), _(f->label));
  g_hash_table_insert (self->inputs, (gpointer) f->name, row);
  if (value != NULL)
    {
      g_autofree char *text = NULL;

      if (f->type == KH_FIELD_DATE)
        {
          int y = 0, m = 0, d = 0;

          sscanf (json_object_get_string (value), "%d-%d-%d", &y, &m, &d);
          text = g_strdup_printf ("%02d/%02d/%04d", d, m, y);
        }
      else
        text = g_strdup (json_object_get_string (value));
      gtk_editable_set_text (GTK_EDITABLE (row), text);
    }
  return row;
}

static void
build (KhCriteriaEditor *self)
{
  g_autoptr(GError) error = NULL;
  json_object *set = NULL;
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *header = adw_header_bar_new ();
  GtkWidget *title = adw_window_title_new (self->set_id != NULL ? _("Criteria Set") : _("New Criteria Set"), NULL);
  GtkWidget *cancel = gtk_button_new_with_mnemonic (_("_Cancel"));
  GtkWidget *save = gtk_button_new_with_mnemonic (_("_Save"));
  GtkWidget *page = adw_preferences_page_new ();
  GtkWidget *group = adw_preferences_group_new ();
  GtkWidget *criteria_group = adw_preferences_group_new ();
  GtkWidget *add = gtk_button_new_from_icon_name ("list-add-symbolic");

  if (self->set_id != NULL)
    {
      set = kh_store_get (self->store, "criteria_set", self->set_id, &error);
      self->used = kh_criteria_set_is_used (self->store, self->set_id, NULL);
      if (set != NULL)
        adw_window_title_set_subtitle (ADW_WINDOW_TITLE (title),
                                       json_object_get_string (json_object_object_get (set, "name")));
    }
  adw_header_bar_set_title_widget (ADW_HEADER_BAR (header), title);
  adw_header_bar_set_show_end_title_buttons (ADW_HEADER_BAR (header), FALSE);
  g_signal_connect_swapped (cancel, "clicked", G_CALLBACK (gtk_window_close), self);
  adw_header_bar_pack_start (ADW_HEADER_BAR (header), cancel);
  gtk_widget_add_css_class (save, "suggested-action");
  g_signal_connect_swapped (save, "clicked", G_CALLBACK (save_clicked_cb), self);
  adw_header_bar_pack_end (ADW_HEADER_BAR (header), save);
  gtk_box_append (GTK_BOX (box), header);

  /* What the set is and when it applies, its criteria, then its rule: the criteria are what
   * people come to edit. */
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Criteria set"));
  if (self->used)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group),
                                           _("Evaluations have used this set, so it stays as they were judged: "
                                             "saving makes a new version, in force from the date in “Valid from” "
                                             "(today if earlier), and the old one ends the day before."));
  for (guint i = 0; set_fields[i] != NULL && strcmp (set_fields[i], "method") != 0; i++)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), field_input (self, set_field (set_fields[i]), set));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (group));

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (criteria_group), _("Criteria"));
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (criteria_group),
                                         _("Code, criterion and its maximum points, in order."));
  gtk_widget_set_tooltip_text (add, _("Add a criterion"));
  gtk_widget_add_css_class (add, "flat");
  g_signal_connect_swapped (add, "clicked", G_CALLBACK (add_clicked_cb), self);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (criteria_group), add);
  self->criteria_list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->criteria_list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->criteria_list), "boxed-list");
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (criteria_group), GTK_WIDGET (self->criteria_list));
  adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (criteria_group));
  if (self->set_id != NULL)
    {
      json_object *criteria = kh_criteria_list (self->store, self->set_id, NULL);

      for (size_t i = 0; criteria != NULL && i < json_object_array_length (criteria); i++)
        {
          json_object *c = json_object_array_get_idx (criteria, i);

          kh_criteria_editor_add_criterion (self, json_object_get_string (json_object_object_get (c, "code")),
                                            json_object_get_string (json_object_object_get (c, "title")),
                                            json_object_get_int (json_object_object_get (c, "max_points")));
        }
      json_object_put (criteria);
    }

  {
    GtkWidget *rule = adw_preferences_group_new ();
    guint i = 0;

    adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (rule), _("Method and pass rule"));
    while (strcmp (set_fields[i], "method") != 0)
      i++;
    for (; set_fields[i] != NULL; i++)
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (rule), field_input (self, set_field (set_fields[i]), set));
    adw_preferences_page_add (ADW_PREFERENCES_PAGE (page), ADW_PREFERENCES_GROUP (rule));
  }

  self->error_label = GTK_LABEL (gtk_label_new (NULL));
  gtk_label_set_wrap (self->error_label, TRUE);
  gtk_widget_add_css_class (GTK_WIDGET (self->error_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), FALSE);
  gtk_widget_set_margin_start (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_margin_end (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_margin_bottom (GTK_WIDGET (self->error_label), 12);
  gtk_widget_set_vexpand (page, TRUE);
  gtk_box_append (GTK_BOX (box), page);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->error_label));
  adw_window_set_content (ADW_WINDOW (self), box);
  json_object_put (set);
}

static void
kh_criteria_editor_finalize (GObject *object)
{
  KhCriteriaEditor *self = (KhCriteriaEditor *) object;

  g_clear_object (&self->store);
  g_free (self->set_id);
  g_hash_table_unref (self->inputs);
  g_ptr_array_unref (self->criteria);
  G_OBJECT_CLASS (kh_criteria_editor_parent_class)->finalize (object);
}

static void
kh_criteria_editor_class_init (KhCriteriaEditorClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_criteria_editor_finalize;
}

static void
kh_criteria_editor_init (KhCriteriaEditor *self)
{
  self->inputs = g_hash_table_new (g_str_hash, g_str_equal);
  self->criteria = g_ptr_array_new_with_free_func (g_free);
  gtk_window_set_modal (GTK_WINDOW (self), TRUE);
  gtk_window_set_default_size (GTK_WINDOW (self), 640, 720);
  gtk_window_set_title (GTK_WINDOW (self), _("Criteria Set"));
}

/* The editor of the set @criteria_set_id, or of a new one (NULL). */
GtkWidget *
kh_criteria_editor_new (KhStore    *store,
                        const char *criteria_set_id)
{
  KhCriteriaEditor *self = g_object_new (KH_TYPE_CRITERIA_EDITOR, NULL);

  self->store = g_object_ref (store);
  self->set_id = g_strdup (criteria_set_id);
  build (self);
  return GTK_WIDGET (self);
}
