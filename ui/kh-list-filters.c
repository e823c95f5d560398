/* kh-list-filters.c: the filter bar of a list page (kh-list-page.c)
 *
 * The filters are the registry's enums, years and units of the page's kind of record (a
 * dropdown each, a unit picker, a list picker with its school years, the minors without
 * consent); each one changed narrows the page's KhRecordList.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-list-page-private.h"
#include "kh-privacy.h"
#include "kh-record-picker.h"
#include "kh-store-sql.h"

GtkWidget *
_kh_list_page_find_filter_widget (KhListPage *self,
                                  const char *key)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->filter_box)); child;
       child = gtk_widget_get_next_sibling (child))
    if (g_object_get_data (G_OBJECT (child), key) != NULL)
      return child;
  return NULL;
}

GtkDropDown *
_kh_list_page_find_filter (KhListPage *self,
                           const char *key)
{
  GtkWidget *child = _kh_list_page_find_filter_widget (self, key);

  return child != NULL && GTK_IS_DROP_DOWN (child) ? GTK_DROP_DOWN (child) : NULL;
}

json_object *
_kh_list_page_selected_value (GtkDropDown *dropdown)
{
  GPtrArray *values;
  guint selected;

  if (dropdown == NULL)
    return NULL;
  values = g_object_get_data (G_OBJECT (dropdown), "values");
  selected = gtk_drop_down_get_selected (dropdown);
  return selected > 0 && selected < values->len ? values->pdata[selected] : NULL;
}

/* The ids of the award lists of the school years @years (an array), read when a year is
 * chosen, so a list made since is in it; an id no entry has when there are none. */
static json_object *
lists_of_school_years (KhListPage  *self,
                       json_object *years)
{
  json_object *ids = json_object_new_array ();
  sqlite3_stmt *stmt = kh_store_prepare (self->store,
                                         "SELECT id FROM award_list WHERE deleted = 0 AND school_year IN "
                                         "(SELECT value FROM json_each (?1))", NULL);

  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, json_object_to_json_string (years), -1, SQLITE_TRANSIENT);
      while (sqlite3_step (stmt) == SQLITE_ROW)
        json_object_array_add (ids, json_object_new_string ((const char *) sqlite3_column_text (stmt, 0)));
      sqlite3_reset (stmt);
    }
  if (json_object_array_length (ids) == 0)
    json_object_array_add (ids, json_object_new_string (""));
  return ids;
}

/* The list filter and the year filter of entries are both on list_id: a list, the lists of a
 * year (an array), the list if it is of that year, or none (an array no id matches). */
static json_object *
list_filter_value (KhListPage *self)
{
  GtkWidget *picker = _kh_list_page_find_filter_widget (self, "list");
  const char *list = picker != NULL ? kh_record_picker_get_selected_id (KH_RECORD_PICKER (picker)) : NULL;
  json_object *years = _kh_list_page_selected_value (_kh_list_page_find_filter (self, "list-year"));
  json_object *year = years != NULL ? lists_of_school_years (self, years) : NULL;
  json_object *none;

  if (list == NULL)
    return year;
  if (year == NULL)
    return json_object_new_string (list);
  for (size_t i = 0; i < json_object_array_length (year); i++)
    if (g_strcmp0 (json_object_get_string (json_object_array_get_idx (year, i)), list) == 0)
      {
        json_object_put (year);
        return json_object_new_string (list);
      }
  json_object_put (year);
  none = json_object_new_array ();
  json_object_array_add (none, json_object_new_string (""));
  return none;
}

static void
apply_list_filter (KhListPage *self,
                   const char *field)
{
  json_object *value = list_filter_value (self);

  kh_record_list_set_filter (self->list, field, value, NULL);
  json_object_put (value);
  _kh_list_page_update_state (self);
}

static void
filter_changed_cb (GtkDropDown *dropdown,
                   GParamSpec  *pspec,
                   KhListPage  *self)
{
  const char *field = g_object_get_data (G_OBJECT (dropdown), "field");
  GPtrArray *values = g_object_get_data (G_OBJECT (dropdown), "values");
  guint selected = gtk_drop_down_get_selected (dropdown);
  json_object *value = selected > 0 && selected < values->len ? values->pdata[selected] : NULL;

  if (g_object_get_data (G_OBJECT (dropdown), "list-year") != NULL)
    {
      GtkWidget *picker = _kh_list_page_find_filter_widget (self, "list");

      /* The list picker offers the lists of the year chosen, or all. */
      if (picker != NULL)
        kh_record_picker_set_filter (KH_RECORD_PICKER (picker), "school_year", value);
      apply_list_filter (self, field);
      return;
    }
  kh_record_list_set_filter (self->list, field, value, NULL);
  _kh_list_page_update_state (self);
}

static void
add_filter (KhListPage  *self,
            const char  *field,
            const char  *all_label,
            GPtrArray   *labels,
            GPtrArray   *values)
{
  GtkStringList *strings = gtk_string_list_new (NULL);
  GtkWidget *dropdown;
  GtkExpression *expression;

  gtk_string_list_append (strings, all_label);
  for (guint i = 0; i < labels->len; i++)
    gtk_string_list_append (strings, labels->pdata[i]);
  g_ptr_array_insert (values, 0, NULL);

  expression = gtk_property_expression_new (GTK_TYPE_STRING_OBJECT, NULL, "string");
  dropdown = gtk_drop_down_new (G_LIST_MODEL (strings), expression);
  gtk_drop_down_set_enable_search (GTK_DROP_DOWN (dropdown), labels->len > 12);
  g_object_set_data_full (G_OBJECT (dropdown), "field", g_strdup (field), g_free);
  g_object_set_data_full (G_OBJECT (dropdown), "values", g_ptr_array_ref (values),
                          (GDestroyNotify) g_ptr_array_unref);
  gtk_widget_set_tooltip_text (dropdown, all_label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL, all_label, -1);
  g_signal_connect (dropdown, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  gtk_box_append (self->filter_box, dropdown);
}

static GPtrArray *
new_values (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_put);
}

static void
add_year_filter (KhListPage    *self,
                 const KhField *field)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = new_values ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  int this_year = g_date_time_get_year (now);

  for (int y = this_year + 1; y >= this_year - 8; y--)
    {
      g_ptr_array_add (labels, g_strdup_printf ("%d", y));
      g_ptr_array_add (values, json_object_new_int (y));
    }
  add_filter (self, field->name, _("All years"), labels, values);
}

static void
unit_filter_changed_cb (KhRecordPicker *picker,
                        GParamSpec     *pspec,
                        KhListPage     *self)
{
  const char *id = kh_record_picker_get_selected_id (picker);
  json_object *value = id != NULL ? json_object_new_string (id) : NULL;

  kh_record_list_set_filter (self->list, g_object_get_data (G_OBJECT (picker), "field"), value, NULL);
  json_object_put (value);
  _kh_list_page_update_state (self);
}

/* The unit filter is a searchable picker: a province has thousands of villages, each commune
 * its own "Thôn 1", which a drop-down of names could neither tell apart nor find. */
static void
add_unit_filter (KhListPage    *self,
                 const KhField *field)
{
  GtkWidget *picker = kh_record_picker_new (self->store, "org_unit");

  kh_record_picker_set_none_label (KH_RECORD_PICKER (picker), _("All units"));
  gtk_widget_set_name (picker, "unit-filter");
  g_object_set_data_full (G_OBJECT (picker), "field", g_strdup (field->name), g_free);
  gtk_widget_set_tooltip_text (picker, _("All units"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (picker), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Unit"), -1);
  g_signal_connect (picker, "notify::selected", G_CALLBACK (unit_filter_changed_cb), self);
  gtk_box_append (self->filter_box, picker);
}

static void
list_picker_changed_cb (KhRecordPicker *picker,
                        GParamSpec     *pspec,
                        KhListPage     *self)
{
  apply_list_filter (self, g_object_get_data (G_OBJECT (picker), "field"));
}

/* The list filter is a searchable picker: an association keeps hundreds of lists, a year's
 * Tết list in every commune, which a drop-down could neither hold nor find. */
static void
add_list_filter (KhListPage    *self,
                 const KhField *field)
{
  GtkWidget *picker = kh_record_picker_new (self->store, "award_list");

  kh_record_picker_set_none_label (KH_RECORD_PICKER (picker), _("All lists"));
  gtk_widget_set_name (picker, "list-filter");
  g_object_set_data_full (G_OBJECT (picker), "field", g_strdup (field->name), g_free);
  g_object_set_data (G_OBJECT (picker), "list", GINT_TO_POINTER (1));
  gtk_widget_set_tooltip_text (picker, _("All lists"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (picker), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Award list"), -1);
  g_signal_connect (picker, "notify::selected", G_CALLBACK (list_picker_changed_cb), self);
  gtk_box_append (self->filter_box, picker);
}

/* Entries have no year of their own: a year picks the lists whose school year it begins or
 * ends ("2024-2025" is in 2024 and in 2025). Only the years some entry is in are offered,
 * newest first: one grouped read of the lists, through the entries' index by list. */
static void
add_list_year_filter (KhListPage    *self,
                      const KhField *field)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = new_values ();
  g_autoptr(GTree) years = g_tree_new ((GCompareFunc) g_strcmp0);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func (g_free);
  sqlite3_stmt *stmt = kh_store_prepare (self->store,
                                         "SELECT DISTINCT l.school_year FROM award_list l "
                                         "WHERE l.deleted = 0 AND l.school_year IS NOT NULL AND EXISTS "
                                         "(SELECT 1 FROM award_entry e WHERE e.list_id = l.id AND e.deleted = 0)",
                                         NULL);

  /* Each year's school years, as an array ("2024" holds "2023-2024" and "2024-2025"). */
  while (stmt != NULL && sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *sy = (const char *) sqlite3_column_text (stmt, 0);
      g_auto(GStrv) halves = g_strsplit (sy, "-", 2);

      for (guint h = 0; halves[h] != NULL; h++)
        {
          json_object *in;

          if (strlen (halves[h]) != 4 || !g_ascii_isdigit (halves[h][0]))
            continue;
          in = g_tree_lookup (years, halves[h]);
          if (in == NULL)
            {
              char *key = g_strdup (halves[h]);

              g_ptr_array_add (keep, key);
              in = json_object_new_array ();
              g_tree_insert (years, key, in);
            }
          json_object_array_add (in, json_object_new_string (sy));
        }
    }
  if (stmt != NULL)
    sqlite3_reset (stmt);
  /* Newest first. */
  for (GTreeNode *node = g_tree_node_last (years); node != NULL; node = g_tree_node_previous (node))
    {
      g_ptr_array_add (labels, g_strdup (g_tree_node_key (node)));
      g_ptr_array_add (values, g_tree_node_value (node));
    }
  add_filter (self, field->name, _("All years"), labels, values);
  g_object_set_data (G_OBJECT (gtk_widget_get_last_child (GTK_WIDGET (self->filter_box))), "list-year",
                     GINT_TO_POINTER (1));
}

static void
add_enum_filter (KhListPage    *self,
                 const KhField *field)
{
  g_autoptr(GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) values = new_values ();
  g_autofree char *all = NULL;

  for (guint i = 0; field->enum_values[i] != NULL; i++)
    {
      if (self->fixed_field != NULL && strcmp (field->name, self->fixed_field) == 0
          && json_object_is_type (self->fixed_value, json_type_array))
        {
          gboolean allowed = FALSE;

          for (size_t k = 0; k < json_object_array_length (self->fixed_value); k++)
            if (g_strcmp0 (json_object_get_string (json_object_array_get_idx (self->fixed_value, k)),
                           field->enum_values[i]) == 0)
              allowed = TRUE;
          if (!allowed)
            continue;
        }
      g_ptr_array_add (labels, g_strdup (_(field->enum_labels[i])));
      g_ptr_array_add (values, json_object_new_string (field->enum_values[i]));
    }
  /* TRANSLATORS: the first choice of a filter, e.g. "Status: all" */
  all = g_strdup_printf (_("%s: all"), _(field->label));
  add_filter (self, field->name, all, labels, values);
}

static void
without_consent_toggled_cb (GtkToggleButton *toggle,
                            KhListPage      *self)
{
  kh_record_list_set_without_consent (self->list, gtk_toggle_button_get_active (toggle));
}

void
_kh_list_page_build_filters (KhListPage *self)
{
  GtkWidget *child;
  gboolean year_done = FALSE;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->filter_box))) != NULL)
    gtk_box_remove (self->filter_box, child);

  for (guint i = 0; i < self->entity->n_fields; i++)
    {
      const KhField *field = &self->entity->fields[i];

      if (_kh_list_page_is_fixed (self, field))
        continue;
      if (field->type == KH_FIELD_YEAR && !year_done)
        {
          add_year_filter (self, field);
          year_done = TRUE;
        }
      else if (!year_done && field->type == KH_FIELD_DATE
               && (field->flags & KH_FIELD_FLAG_REQUIRED) && (field->flags & KH_FIELD_FLAG_SUMMARY))
        {
          add_year_filter (self, field);
          year_done = TRUE;
        }
      else if (!year_done && (field->flags & KH_FIELD_FLAG_SCHOOL_YEAR))
        {
          add_year_filter (self, field);
          year_done = TRUE;
        }
      else if (field->type == KH_FIELD_ENUM && (field->flags & KH_FIELD_FLAG_SUMMARY))
        add_enum_filter (self, field);
      else if (field->type == KH_FIELD_REF && g_strcmp0 (field->ref_entity, "org_unit") == 0
               && strcmp (field->name, "org_unit_id") == 0)
        add_unit_filter (self, field);
      else if (field->type == KH_FIELD_REF && g_strcmp0 (field->ref_entity, "award_list") == 0
               && strcmp (field->name, "list_id") == 0 && (field->flags & KH_FIELD_FLAG_REQUIRED))
        {
          add_list_filter (self, field);
          if (!year_done)
            add_list_year_filter (self, field);
          year_done = TRUE;
        }
    }
  if (strcmp (self->entity->name, "person") == 0)
    {
      /* The list to work through: minors whose record lacks a valid consent. */
      GtkWidget *toggle = gtk_toggle_button_new_with_label (_("Minors Without Consent"));

      gtk_widget_set_tooltip_text (toggle, _("Only the minors whose record lacks a valid consent"));
      g_signal_connect_object (toggle, "toggled", G_CALLBACK (without_consent_toggled_cb), self, 0);
      gtk_box_append (self->filter_box, toggle);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->filter_box),
                          gtk_widget_get_first_child (GTK_WIDGET (self->filter_box)) != NULL);
}

