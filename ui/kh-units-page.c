/* kh-units-page.c: the tree of units (province, communes and wards, schools) and their succession
 *
 * A province officer keeps the unit tree: since the 2025 reform a province has communes, wards
 * and special zones, and the old districts and communes stay in the tree with their end date, so
 * that a past year's records keep the unit they had. The tree is a GtkTreeListModel of the
 * store's records (KhRecordItem, as the lists use) whose children are read only when a unit is
 * shown, each drawn as a KhUnitRow in a GtkTreeExpander. Units are few (a province has a few
 * hundred), so each level is read whole, sorted by name. The pane beside it shows the
 * selected unit and its succession links: the former units it took over and what succeeded it.
 * Units and links are edited with the registry's own form (KhRecordEditor).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-format.h"
#include "kh-record-editor.h"
#include "kh-record-item.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"
#include "kh-unit-row.h"
#include "kh-units-page.h"

static const char *
record_string (json_object *record,
               const char  *name)
{
  json_object *v = NULL;

  if (record == NULL || !json_object_object_get_ex (record, name, &v) || v == NULL
      || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

/* The page ------------------------------------------------------------------------------------ */

struct _KhUnitsPage
{
  GtkBox               parent_instance;

  KhStore             *store;
  GListStore          *roots;
  GtkTreeListModel    *tree;
  GtkSingleSelection  *selection;
  char                *selected_id;
  char                *select_after_reload;
  gulong               changed_id;
  guint                reload_source;
  gboolean             loaded;
  guint                n_former;
  guint                n_successors;
  GPtrArray           *detail_rows;  /* rows added to the succession groups, to remove them */

  GtkStack            *view_stack;
  AdwLeaflet          *leaflet;
  GtkLabel            *count_label;
  GtkSearchEntry      *search_entry;
  GtkStack            *tree_stack;
  GtkListBox          *results_box;
  GPtrArray           *result_rows;
  guint                n_found;
  GtkListView         *list_view;
  GtkStack            *details_stack;
  GtkLabel            *name_label;
  GtkLabel            *kind_label;
  AdwActionRow        *parent_row;
  AdwActionRow        *valid_row;
  AdwActionRow        *children_row;
  AdwPreferencesGroup *former_group;
  AdwPreferencesGroup *successor_group;
};

G_DEFINE_FINAL_TYPE (KhUnitsPage, kh_units_page, GTK_TYPE_BOX)

static GListStore *
load_children (KhUnitsPage *self,
               const char  *parent_id)
{
  const KhEntity *entity = kh_entity_lookup ("org_unit");
  g_autoptr(GError) error = NULL;
  json_object *where = json_object_new_object ();
  json_object *units;
  GListStore *store;

  /* A NULL value asks for "parent_id IS NULL": the top of the tree. */
  json_object_object_add (where, "parent_id", parent_id ? json_object_new_string (parent_id) : NULL);
  units = kh_store_list (self->store, "org_unit", &(KhQuery) { .where = where, .order_by = "name" }, &error);
  json_object_put (where);
  if (units == NULL)
    {
      g_warning ("Could not read the units under %s: %s", parent_id ? parent_id : "the top", error->message);
      return NULL;
    }
  store = g_list_store_new (KH_TYPE_RECORD_ITEM);
  for (size_t i = 0; i < json_object_array_length (units); i++)
    {
      g_autoptr(KhRecordItem) item = kh_record_item_new (entity,
                                                         json_object_get (json_object_array_get_idx (units, i)));

      g_list_store_append (store, item);
    }
  json_object_put (units);
  return store;
}

static GListModel *
create_children_cb (gpointer item,
                    gpointer user_data)
{
  KhUnitsPage *self = user_data;
  GListStore *children = load_children (self, kh_record_item_get_id (item));

  if (children != NULL && g_list_model_get_n_items (G_LIST_MODEL (children)) == 0)
    g_clear_object (&children);
  return children ? G_LIST_MODEL (children) : NULL;
}

/* "Commune · until 30/06/2025": what a row says under the unit's name. */
static char *
describe_unit (json_object *record)
{
  const KhField *kind_field = kh_entity_get_field (kh_entity_lookup ("org_unit"), "kind");
  const char *kind = record_string (record, "kind");
  const char *kind_label = kind ? kh_field_enum_label (kind_field, kind) : "";
  const char *code = record_string (record, "code");
  const char *valid_to = record_string (record, "valid_to");

  if (valid_to != NULL)
    {
      g_autofree char *date = kh_format_date (valid_to);

      /* TRANSLATORS: under a unit's name in the tree: "Commune · 26023 · until 30/06/2025" */
      return g_strdup_printf (_("%s · %s · until %s"), kind_label, code ? code : "", date);
    }
  /* TRANSLATORS: under a unit's name in the tree: "Ward · N001" */
  return g_strdup_printf (_("%s · %s"), kind_label, code ? code : "");
}

static void
setup_row_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              gpointer                  user_data)
{
  GtkWidget *expander = gtk_tree_expander_new ();

  gtk_tree_expander_set_child (GTK_TREE_EXPANDER (expander), kh_unit_row_new ());
  gtk_list_item_set_child (item, expander);
}

static void
bind_row_cb (GtkSignalListItemFactory *factory,
             GtkListItem              *item,
             gpointer                  user_data)
{
  GtkTreeListRow *row = gtk_list_item_get_item (item);
  GtkWidget *expander = gtk_list_item_get_child (item);
  KhUnitRow *unit_row = KH_UNIT_ROW (gtk_tree_expander_get_child (GTK_TREE_EXPANDER (expander)));
  g_autoptr(KhRecordItem) unit = gtk_tree_list_row_get_item (row);
  g_autofree char *text = describe_unit (kh_record_item_get_data (unit));

  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (expander), row);
  kh_unit_row_set_title (unit_row, kh_record_item_get_string (unit, "name"));
  kh_unit_row_set_detail (unit_row, text);
  kh_unit_row_set_former (unit_row, kh_record_item_get_string (unit, "valid_to") != NULL);
}

static void
unbind_row_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               gpointer                  user_data)
{
  gtk_tree_expander_set_list_row (GTK_TREE_EXPANDER (gtk_list_item_get_child (item)), NULL);
}

/* Details --------------------------------------------------------------------------------------- */

static char *
unit_name (KhUnitsPage *self,
           const char  *id)
{
  json_object *record;
  char *name;

  if (id == NULL)
    return NULL;
  record = kh_store_get (self->store, "org_unit", id, NULL);
  name = g_strdup (record_string (record, "name"));
  json_object_put (record);
  return name ? name : g_strdup (_("(a unit not on this computer)"));
}

static void
clear_detail_rows (KhUnitsPage *self)
{
  for (guint i = 0; i < self->detail_rows->len; i++)
    {
      GtkWidget *row = self->detail_rows->pdata[i];
      GtkWidget *group = g_object_get_data (G_OBJECT (row), "group");

      adw_preferences_group_remove (ADW_PREFERENCES_GROUP (group), row);
    }
  g_ptr_array_set_size (self->detail_rows, 0);
}

static GtkWidget *open_editor (KhUnitsPage *self,
                               const char  *entity,
                               const char  *id,
                               json_object *defaults);

static void
succession_row_activated_cb (AdwActionRow *row,
                             KhUnitsPage  *self)
{
  open_editor (self, "unit_succession", gtk_widget_get_name (GTK_WIDGET (row)), NULL);
}

static void
add_detail_row (KhUnitsPage         *self,
                AdwPreferencesGroup *group,
                const char          *title,
                const char          *subtitle,
                const char          *succession_id)
{
  GtkWidget *row = adw_action_row_new ();

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (subtitle != NULL)
    adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  if (succession_id != NULL)
    {
      gtk_widget_set_name (row, succession_id);
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), gtk_image_new_from_icon_name ("go-next-symbolic"));
      gtk_widget_set_tooltip_text (row, _("Open this change to correct it"));
      g_signal_connect_object (row, "activated", G_CALLBACK (succession_row_activated_cb), self, 0);
    }
  else
    gtk_widget_add_css_class (row, "dim-label");
  g_object_set_data (G_OBJECT (row), "group", group);
  adw_preferences_group_add (group, row);
  g_ptr_array_add (self->detail_rows, row);
}

/* Lists the succession links where @field is the selected unit; names the unit at @other. */
static guint
show_links (KhUnitsPage         *self,
            AdwPreferencesGroup *group,
            const char          *field,
            const char          *other,
            const char          *empty_text)
{
  const KhEntity *entity = kh_entity_lookup ("unit_succession");
  const KhField *kind_field = kh_entity_get_field (entity, "kind");
  g_autoptr(GError) error = NULL;
  json_object *where = json_object_new_object ();
  json_object *links;
  guint n = 0;

  json_object_object_add (where, field, json_object_new_string (self->selected_id));
  links = kh_store_list (self->store, "unit_succession",
                         &(KhQuery) { .where = where, .order_by = "effective_date" }, &error);
  json_object_put (where);
  if (links == NULL)
    {
      add_detail_row (self, group, error->message, NULL, NULL);
      return 0;
    }
  for (size_t i = 0; i < json_object_array_length (links); i++)
    {
      json_object *link = json_object_array_get_idx (links, i);
      const char *kind = record_string (link, "kind");
      const char *basis = record_string (link, "legal_basis");
      const char *other_id = record_string (link, other);
      g_autofree char *name = other_id ? unit_name (self, other_id) : g_strdup (_("No successor: abolished"));
      g_autofree char *date = kh_format_date (record_string (link, "effective_date"));
      g_autofree char *subtitle = NULL;

      if (basis != NULL && *basis != '\0')
        /* TRANSLATORS: a succession link: "Merge · 01/07/2025 · Nghị quyết 1667/NQ-UBTVQH15" */
        subtitle = g_strdup_printf (_("%s · %s · %s"), kh_field_enum_label (kind_field, kind), date, basis);
      else
        /* TRANSLATORS: a succession link: "Merge · 01/07/2025" */
        subtitle = g_strdup_printf (_("%s · %s"), kh_field_enum_label (kind_field, kind), date);
      add_detail_row (self, group, name, subtitle, record_string (link, "id"));
      n++;
    }
  json_object_put (links);
  if (n == 0)
    add_detail_row (self, group, empty_text, NULL, NULL);
  return n;
}

static void
update_actions (KhUnitsPage *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "units.edit", self->selected_id != NULL);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "units.add-former", self->selected_id != NULL);
}

static void
update_details (KhUnitsPage *self)
{
  json_object *record;
  g_autofree char *description = NULL;
  g_autofree char *parent = NULL;
  g_autofree char *valid = NULL;
  g_autofree char *children = NULL;
  gint64 n_children;
  json_object *where;

  clear_detail_rows (self);
  self->n_former = self->n_successors = 0;
  update_actions (self);
  if (self->selected_id == NULL
      || (record = kh_store_get (self->store, "org_unit", self->selected_id, NULL)) == NULL)
    {
      gtk_stack_set_visible_child_name (self->details_stack, "none");
      return;
    }

  /* Plain labels, wrapped: a long school name is read whole, and "Trường A & B" as it is. */
  description = describe_unit (record);
  gtk_label_set_text (self->name_label, record_string (record, "name") ? record_string (record, "name") : "");
  gtk_label_set_text (self->kind_label, description);

  parent = unit_name (self, record_string (record, "parent_id"));
  adw_action_row_set_subtitle (self->parent_row, parent ? parent : _("Nothing: this is a top-level unit"));

  {
    g_autofree char *from = kh_format_date (record_string (record, "valid_from"));
    g_autofree char *to = kh_format_date (record_string (record, "valid_to"));

    if (*from && *to)
      valid = g_strdup_printf (_("From %s until %s"), from, to);
    else if (*from)
      valid = g_strdup_printf (_("Since %s"), from);
    else if (*to)
      valid = g_strdup_printf (_("Until %s"), to);
    else
      valid = g_strdup (_("No dates recorded"));
  }
  adw_action_row_set_subtitle (self->valid_row, valid);

  where = json_object_new_object ();
  json_object_object_add (where, "parent_id", json_object_new_string (self->selected_id));
  n_children = kh_store_count (self->store, "org_unit", &(KhQuery) { .where = where }, NULL);
  json_object_put (where);
  if (n_children > 0)
    children = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d unit", "%d units", (gulong) n_children),
                                (int) n_children);
  adw_action_row_set_subtitle (self->children_row, children ? children : _("None yet"));
  json_object_put (record);

  self->n_former = show_links (self, self->former_group, "successor_id", "predecessor_id",
                               _("No former units recorded"));
  self->n_successors = show_links (self, self->successor_group, "predecessor_id", "successor_id",
                                   _("Not succeeded: the unit is still in force, or nothing was recorded"));
  gtk_stack_set_visible_child_name (self->details_stack, "unit");
}

static void
selection_changed_cb (KhUnitsPage *self)
{
  GtkTreeListRow *row = gtk_single_selection_get_selected_item (self->selection);
  g_autoptr(KhRecordItem) item = row ? gtk_tree_list_row_get_item (row) : NULL;

  g_free (self->selected_id);
  self->selected_id = item ? g_strdup (kh_record_item_get_id (item)) : NULL;
  update_details (self);
}

static void
list_view_activate_cb (KhUnitsPage *self,
                       guint        position)
{
  g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);

  gtk_single_selection_set_selected (self->selection, position);
  /* Folded, the details are a page of their own; unfolded, Enter opens or closes a level. */
  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
  else if (row != NULL && gtk_tree_list_row_is_expandable (row))
    gtk_tree_list_row_set_expanded (row, !gtk_tree_list_row_get_expanded (row));
}

/* Folded, a click on a unit opens its page of details, as a sidebar does; unfolded, a click
 * selects it and the details show beside the tree. */
static void
leaflet_folded_cb (KhUnitsPage *self)
{
  gtk_list_view_set_single_click_activate (self->list_view, adw_leaflet_get_folded (self->leaflet));
}

/* Finding a unit --------------------------------------------------------------------------------- */

static void
clear_results (KhUnitsPage *self)
{
  for (guint i = 0; i < self->result_rows->len; i++)
    gtk_list_box_remove (self->results_box, self->result_rows->pdata[i]);
  g_ptr_array_set_size (self->result_rows, 0);
  self->n_found = 0;
}

/* Search as you type, folded (with or without accents), over names and codes: the matches as a
 * flat list, each saying where it is; choosing one shows it in the tree. */
static void
search_changed_cb (KhUnitsPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  g_autofree char *stripped = g_strstrip (g_strdup (text ? text : ""));
  g_autoptr(GError) error = NULL;
  json_object *found;

  clear_results (self);
  if (*stripped == '\0')
    {
      gtk_stack_set_visible_child_name (self->tree_stack, "tree");
      return;
    }
  found = kh_store_search (self->store, text, "org_unit", 50, &error);
  for (size_t i = 0; found != NULL && i < json_object_array_length (found); i++)
    {
      json_object *hit = json_object_array_get_idx (found, i);
      const char *id = json_object_get_string (json_object_object_get (hit, "id"));
      json_object *record = id ? kh_store_get (self->store, "org_unit", id, NULL) : NULL;
      g_autofree char *detail = NULL;
      g_autofree char *parent = NULL;
      g_autofree char *subtitle = NULL;
      GtkWidget *row;
      GtkWidget *unit_row;

      if (record == NULL)
        continue;
      detail = describe_unit (record);
      parent = unit_name (self, record_string (record, "parent_id"));
      /* TRANSLATORS: a unit found by search: "Commune · N007 · in Tỉnh Khánh Hòa" */
      subtitle = parent ? g_strdup_printf (_("%s · in %s"), detail, parent) : g_strdup (detail);
      row = gtk_list_box_row_new ();
      unit_row = kh_unit_row_new ();
      kh_unit_row_set_title (KH_UNIT_ROW (unit_row), record_string (record, "name"));
      kh_unit_row_set_detail (KH_UNIT_ROW (unit_row), subtitle);
      gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), unit_row);
      gtk_widget_set_name (row, id);
      gtk_list_box_append (self->results_box, row);
      g_ptr_array_add (self->result_rows, row);
      self->n_found++;
      json_object_put (record);
    }
  if (found == NULL)
    g_debug ("searching units: %s", error->message);
  json_object_put (found);
  gtk_stack_set_visible_child_name (self->tree_stack, self->n_found > 0 ? "results" : "no-results");
}

static void
show_found (KhUnitsPage *self,
            const char  *id)
{
  g_autofree char *keep = g_strdup (id);

  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  search_changed_cb (self);
  kh_units_page_select_unit (self, keep);
  gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_FORWARD);
}

static void
result_activated_cb (KhUnitsPage   *self,
                     GtkListBoxRow *row)
{
  show_found (self, gtk_widget_get_name (GTK_WIDGET (row)));
}

/* Enter in the search shows the first match. */
static void
search_activate_cb (KhUnitsPage *self)
{
  if (self->result_rows->len > 0)
    show_found (self, gtk_widget_get_name (self->result_rows->pdata[0]));
}

static void
search_stop_cb (KhUnitsPage *self)
{
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  search_changed_cb (self);
}

/* Loading --------------------------------------------------------------------------------------- */

static void
update_count (KhUnitsPage *self)
{
  gint64 n = kh_store_count (self->store, "org_unit", NULL, NULL);
  g_autofree char *count = kh_format_number_style (MAX (n, 0), KH_FORMAT_AUTO);
  g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s unit in all", "%s units in all",
                                                        (gulong) MAX (n, 0)), count);

  gtk_label_set_text (self->count_label, text);
  gtk_stack_set_visible_child_name (self->view_stack, n > 0 ? "tree" : "empty");
}

static guint
find_position (KhUnitsPage *self,
               const char  *id)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->tree));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), i);
      g_autoptr(KhRecordItem) item = gtk_tree_list_row_get_item (row);

      if (g_strcmp0 (kh_record_item_get_id (item), id) == 0)
        return i;
    }
  return GTK_INVALID_LIST_POSITION;
}

static void
reload (KhUnitsPage *self)
{
  g_autoptr(GListStore) roots = load_children (self, NULL);
  g_autofree char *keep = g_strdup (self->select_after_reload ? self->select_after_reload
                                                              : self->selected_id);
  g_autoptr(GPtrArray) expanded = g_ptr_array_new_with_free_func (g_free);
  gboolean first = !self->loaded;

  /* The levels a person opened stay open: parents come before their children in the flat
   * list, so opening them again in that order works down the tree. */
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->tree)); i++)
    {
      g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), i);

      if (gtk_tree_list_row_get_expanded (row))
        {
          g_autoptr(KhRecordItem) item = gtk_tree_list_row_get_item (row);

          g_ptr_array_add (expanded, g_strdup (kh_record_item_get_id (item)));
        }
    }

  g_clear_pointer (&self->select_after_reload, g_free);
  self->loaded = TRUE;
  g_list_store_remove_all (self->roots);
  if (roots != NULL)
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (roots)); i++)
      {
        g_autoptr(GObject) item = g_list_model_get_item (G_LIST_MODEL (roots), i);

        g_list_store_append (self->roots, item);
      }
  for (guint i = 0; i < expanded->len; i++)
    {
      guint position = find_position (self, expanded->pdata[i]);
      g_autoptr(GtkTreeListRow) row = NULL;

      if (position == GTK_INVALID_LIST_POSITION)
        continue;
      row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);
      gtk_tree_list_row_set_expanded (row, TRUE);
    }
  update_count (self);
  if (keep != NULL && kh_units_page_select_unit (self, keep))
    return;
  if (!first && expanded->len > 0)
    {
      selection_changed_cb (self);
      return;
    }

  /* First look: today's top unit, opened one level. */
  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->roots)); i++)
    {
      g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (self->roots), i);

      gboolean last = i + 1 == g_list_model_get_n_items (G_LIST_MODEL (self->roots));

      if (kh_record_item_get_string (item, "valid_to") == NULL || last)
        {
          guint position = find_position (self, kh_record_item_get_id (item));
          g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);

          gtk_tree_list_row_set_expanded (row, TRUE);
          gtk_single_selection_set_selected (self->selection, position);
          break;
        }
    }
  selection_changed_cb (self);
}

static void
ensure_loaded (KhUnitsPage *self)
{
  if (!self->loaded)
    reload (self);
}

static gboolean
reload_idle_cb (gpointer data)
{
  KhUnitsPage *self = data;

  self->reload_source = 0;
  reload (self);
  return G_SOURCE_REMOVE;
}

static void
store_changed_cb (KhUnitsPage *self,
                  const char  *entity,
                  const char  *id,
                  KhStore     *store)
{
  if (!self->loaded)
    return;
  if (g_strcmp0 (entity, "org_unit") == 0)
    {
      /* Many writes in a row (an import, a pull) read the tree again once. */
      if (self->reload_source == 0)
        self->reload_source = g_idle_add (reload_idle_cb, self);
    }
  else if (g_strcmp0 (entity, "unit_succession") == 0)
    update_details (self);
}

static void
kh_units_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kh_units_page_parent_class)->map (widget);
  ensure_loaded (KH_UNITS_PAGE (widget));
}

/* Editing --------------------------------------------------------------------------------------- */

/* Connected swapped: the editor comes last. */
static void
editor_saved_cb (KhUnitsPage *self,
                 const char  *id,
                 GtkWidget   *editor)
{
  /* A new or moved unit is shown where it now is. */
  if (g_strcmp0 (g_object_get_data (G_OBJECT (editor), "entity"), "org_unit") == 0)
    {
      g_free (self->select_after_reload);
      self->select_after_reload = g_strdup (id);
    }
  kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Saved")));
}

static void
editor_deleted_cb (KhUnitsPage *self,
                   const char  *entity,
                   const char  *id,
                   const char  *title)
{
  g_autofree char *message = g_strdup_printf (_("“%s” was deleted"), title);
  g_autofree char *target = g_strdup_printf ("%s/%s", entity, id);
  AdwToast *toast;

  toast = adw_toast_new (message);
  adw_toast_set_button_label (toast, _("_Undo"));
  adw_toast_set_action_name (toast, "win.undo-delete");
  adw_toast_set_action_target_value (toast, g_variant_new_string (target));
  adw_toast_set_priority (toast, ADW_TOAST_PRIORITY_HIGH);
  kh_widget_add_toast (GTK_WIDGET (self), toast);
}

static GtkWidget *
open_editor (KhUnitsPage *self,
             const char  *entity,
             const char  *id,
             json_object *defaults)
{
  GtkWidget *editor = kh_record_editor_new (self->store, entity, id, defaults);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_object_set_data_full (G_OBJECT (editor), "entity", g_strdup (entity), g_free);
  g_signal_connect_object (editor, "saved", G_CALLBACK (editor_saved_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "deleted", G_CALLBACK (editor_deleted_cb), self, G_CONNECT_SWAPPED);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (editor));
  return editor;
}

/* A new unit under the selected one; a province's units are communes, wards or special zones. */
GtkWidget *
kh_units_page_new_unit (KhUnitsPage *self)
{
  json_object *defaults;
  GtkWidget *editor;

  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), NULL);

  ensure_loaded (self);
  defaults = json_object_new_object ();
  if (self->selected_id != NULL)
    {
      json_object *parent = kh_store_get (self->store, "org_unit", self->selected_id, NULL);

      json_object_object_add (defaults, "parent_id", json_object_new_string (self->selected_id));
      if (g_strcmp0 (record_string (parent, "kind"), "province") == 0)
        json_object_object_add (defaults, "kind", json_object_new_string ("commune"));
      else if (g_strcmp0 (record_string (parent, "kind"), "nation") == 0)
        json_object_object_add (defaults, "kind", json_object_new_string ("province"));
      json_object_put (parent);
    }
  else
    json_object_object_add (defaults, "kind", json_object_new_string ("province"));
  editor = open_editor (self, "org_unit", NULL, defaults);
  json_object_put (defaults);
  return editor;
}

GtkWidget *
kh_units_page_edit_unit (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), NULL);

  if (self->selected_id == NULL)
    return NULL;
  return open_editor (self, "org_unit", self->selected_id, NULL);
}

/* A former unit the selected one took over: a merge on the day the selected unit began. */
GtkWidget *
kh_units_page_add_former_unit (KhUnitsPage *self)
{
  json_object *defaults;
  json_object *unit;
  GtkWidget *editor;

  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), NULL);

  if (self->selected_id == NULL)
    return NULL;
  unit = kh_store_get (self->store, "org_unit", self->selected_id, NULL);
  defaults = json_object_new_object ();
  json_object_object_add (defaults, "successor_id", json_object_new_string (self->selected_id));
  json_object_object_add (defaults, "kind", json_object_new_string ("merge"));
  if (record_string (unit, "valid_from") != NULL)
    json_object_object_add (defaults, "effective_date",
                            json_object_new_string (record_string (unit, "valid_from")));
  editor = open_editor (self, "unit_succession", NULL, defaults);
  json_object_put (defaults);
  json_object_put (unit);
  return editor;
}

/* "page.search" and "page.new-record" are the names the window's Ctrl+F and Ctrl+N look for
 * on the page on show; the page's own buttons use "units.new". */
static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  kh_units_page_focus_search (KH_UNITS_PAGE (widget));
}

static void
new_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *param)
{
  kh_units_page_new_unit (KH_UNITS_PAGE (widget));
}

static void
edit_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  kh_units_page_edit_unit (KH_UNITS_PAGE (widget));
}

static void
add_former_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  kh_units_page_add_former_unit (KH_UNITS_PAGE (widget));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  adw_leaflet_navigate (KH_UNITS_PAGE (widget)->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* Public ---------------------------------------------------------------------------------------- */

/* Opens the levels above the unit @id, selects it and scrolls to it. */
gboolean
kh_units_page_select_unit (KhUnitsPage *self,
                           const char  *id)
{
  g_autoptr(GPtrArray) chain = g_ptr_array_new_with_free_func (g_free);
  char *current = g_strdup (id);
  guint position = GTK_INVALID_LIST_POSITION;

  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (!self->loaded)
    reload (self);

  /* The chain from the unit up to the top; a loop in bad data stops at 32 levels. */
  while (current != NULL && chain->len < 32)
    {
      json_object *record = kh_store_get (self->store, "org_unit", current, NULL);

      g_ptr_array_insert (chain, 0, current);
      current = g_strdup (record_string (record, "parent_id"));
      json_object_put (record);
    }
  g_free (current);

  for (guint level = 0; level < chain->len; level++)
    {
      position = find_position (self, chain->pdata[level]);
      if (position == GTK_INVALID_LIST_POSITION)
        return FALSE;
      if (level + 1 < chain->len)
        {
          g_autoptr(GtkTreeListRow) row = g_list_model_get_item (G_LIST_MODEL (self->tree), position);

          gtk_tree_list_row_set_expanded (row, TRUE);
        }
    }
  gtk_single_selection_set_selected (self->selection, position);
  selection_changed_cb (self);
  gtk_widget_activate_action (GTK_WIDGET (self->list_view), "list.scroll-to-item", "u", position);
  return TRUE;
}

void
kh_units_page_focus_search (KhUnitsPage *self)
{
  g_return_if_fail (KH_IS_UNITS_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

GtkWidget *
kh_units_page_get_search_entry (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), NULL);
  return GTK_WIDGET (self->search_entry);
}

guint
kh_units_page_get_n_found (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), 0);
  return self->n_found;
}

const char *
kh_units_page_get_selected_id (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), NULL);
  return self->selected_id;
}

gboolean
kh_units_page_is_empty_shown (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), FALSE);
  ensure_loaded (self);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "empty") == 0;
}

guint
kh_units_page_get_n_shown (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), 0);
  ensure_loaded (self);
  return g_list_model_get_n_items (G_LIST_MODEL (self->tree));
}

guint
kh_units_page_get_n_former (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), 0);
  return self->n_former;
}

guint
kh_units_page_get_n_successors (KhUnitsPage *self)
{
  g_return_val_if_fail (KH_IS_UNITS_PAGE (self), 0);
  return self->n_successors;
}

/* Object ---------------------------------------------------------------------------------------- */

static void
kh_units_page_dispose (GObject *object)
{
  KhUnitsPage *self = (KhUnitsPage *) object;

  g_clear_handle_id (&self->reload_source, g_source_remove);
  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  if (self->list_view != NULL)
    gtk_list_view_set_model (self->list_view, NULL);
  if (self->detail_rows != NULL)
    g_ptr_array_set_size (self->detail_rows, 0);
  if (self->result_rows != NULL)
    g_ptr_array_set_size (self->result_rows, 0);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_UNITS_PAGE);
  g_clear_object (&self->selection);
  g_clear_object (&self->tree);
  g_clear_object (&self->roots);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_units_page_parent_class)->dispose (object);
}

static void
kh_units_page_finalize (GObject *object)
{
  KhUnitsPage *self = (KhUnitsPage *) object;

  g_clear_pointer (&self->detail_rows, g_ptr_array_unref);
  g_clear_pointer (&self->result_rows, g_ptr_array_unref);
  g_clear_pointer (&self->selected_id, g_free);
  g_clear_pointer (&self->select_after_reload, g_free);

  G_OBJECT_CLASS (kh_units_page_parent_class)->finalize (object);
}

static void
kh_units_page_class_init (KhUnitsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_units_page_dispose;
  object_class->finalize = kh_units_page_finalize;
  widget_class->map = kh_units_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-units-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, tree_stack);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, results_box);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, details_stack);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, name_label);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, kind_label);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, parent_row);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, valid_row);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, children_row);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, former_group);
  gtk_widget_class_bind_template_child (widget_class, KhUnitsPage, successor_group);
  gtk_widget_class_bind_template_callback (widget_class, list_view_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, search_stop_cb);
  gtk_widget_class_bind_template_callback (widget_class, result_activated_cb);

  gtk_widget_class_install_action (widget_class, "units.new", NULL, new_action);
  gtk_widget_class_install_action (widget_class, "units.edit", NULL, edit_action);
  gtk_widget_class_install_action (widget_class, "units.add-former", NULL, add_former_action);
  gtk_widget_class_install_action (widget_class, "units.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "page.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "page.new-record", NULL, new_action);
}

static void
kh_units_page_init (KhUnitsPage *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->detail_rows = g_ptr_array_new ();
  self->result_rows = g_ptr_array_new ();
  self->roots = g_list_store_new (KH_TYPE_RECORD_ITEM);
  self->tree = gtk_tree_list_model_new (G_LIST_MODEL (g_object_ref (self->roots)), FALSE, FALSE,
                                        create_children_cb, self, NULL);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->tree)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  g_signal_connect_object (self->selection, "notify::selected", G_CALLBACK (selection_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect (factory, "setup", G_CALLBACK (setup_row_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_row_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (unbind_row_cb), NULL);
  gtk_list_view_set_factory (self->list_view, factory);
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (self->selection));
  g_signal_connect_object (self->leaflet, "notify::folded", G_CALLBACK (leaflet_folded_cb), self,
                           G_CONNECT_SWAPPED);
  update_actions (self);
}

GtkWidget *
kh_units_page_new (KhStore *store)
{
  KhUnitsPage *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_UNITS_PAGE, NULL);
  self->store = g_object_ref (store);
  self->changed_id = g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb), self,
                                              G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}
