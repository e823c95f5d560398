/* kh-list-page.c: a list of records with search, filters and sortable columns
 *
 * The columns are the registry's SUMMARY fields, the filters its enums, years and units
 * (kh-list-filters.c), the rows a KhRecordList (paged from SQLite), so the same page serves
 * every kind of record and stays smooth with a million rows.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-evaluate.h"
#include "kh-criteria-editor.h"
#include "kh-evaluation-dialog.h"
#include "kh-list-page-private.h"
#include "kh-tooltip.h"
#include "kh-privacy.h"
#include "kh-recognize-dialog.h"
#include "kh-record-editor.h"
#include "kh-store-sql.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"


G_DEFINE_FINAL_TYPE (KhListPage, kh_list_page, GTK_TYPE_BOX)

/* A page counts its rows and builds its columns and filters only when first shown (or first
 * asked for its list), so the window's first frame never waits for a dozen counts over a
 * million rows. */
static void
ensure_loaded (KhListPage *self)
{
  if (self->loaded)
    return;
  self->loaded = TRUE;
  kh_list_page_set_entity (self, self->entities[0]);
}

static int
assessment_year (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  /* The self-assessment covers 01/01–31/12 and is filed by 15 January: in the first half of a
   * year it is last year's that is due. */
  return g_date_time_get_month (now) <= 6 ? g_date_time_get_year (now) - 1 : g_date_time_get_year (now);
}

/* Empty state and count -------------------------------------------------------------------------- */

static gboolean
filters_active (KhListPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (text != NULL && *text != '\0')
    return TRUE;
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->filter_box)); child;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_DROP_DOWN (child) ? gtk_drop_down_get_selected (GTK_DROP_DOWN (child)) > 0
        : KH_IS_RECORD_PICKER (child) ? kh_record_picker_get_selected (KH_RECORD_PICKER (child)) != NULL
        : gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (child)))
      return TRUE;
  return FALSE;
}

void
_kh_list_page_update_state (KhListPage *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->list));
  g_autofree char *count = NULL;

  if (n == 0)
    {
      if (filters_active (self))
        {
          adw_status_page_set_icon_name (self->empty_page, "system-search-symbolic");
          adw_status_page_set_title (self->empty_page, _("Nothing matches"));
          adw_status_page_set_description (self->empty_page,
                                           _("Try other words, or clear the filters. Accents are optional: “nguyen van duc” finds “Nguyễn Văn Đức”."));
        }
      else
        {
          g_autofree char *plural = g_utf8_strdown (_(self->entity->label_plural), -1);
          /* TRANSLATORS: %s is a kind of record in the plural, e.g. "award entries" */
          g_autofree char *title = g_strdup_printf (_("No %s yet"), plural);

          adw_status_page_set_icon_name (self->empty_page, "document-new-symbolic");
          adw_status_page_set_title (self->empty_page, title);
          adw_status_page_set_description (self->empty_page,
                                           _("Create the first one with New (Ctrl+N). Records are saved on this computer at once."));
        }
      gtk_stack_set_visible_child_name (self->view_stack, "empty");
    }
  else
    gtk_stack_set_visible_child_name (self->view_stack, "list");

  count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u record", "%'u records", n), n);
  gtk_label_set_text (self->count_label, count);
}

static void
n_items_cb (KhListPage *self)
{
  /* See kh_list_page_map(). */
  if (!gtk_widget_get_mapped (GTK_WIDGET (self)))
    self->rows_pending = TRUE;
  _kh_list_page_update_state (self);
}

/* Columns ------------------------------------------------------------------------------------ */

/* Cells are GtkInscriptions, not labels: an inscription's size does not depend on its text, so
 * a row bound to a new record is not measured again, where a label lays its text out three times
 * (natural width, ellipsized width, height). That measuring was most of a scrolled frame. */
static void
cell_setup_cb (GtkSignalListItemFactory *factory,
               GtkListItem              *item,
               KhListPage               *self)
{
  const KhField *field = g_object_get_data (G_OBJECT (factory), "field");
  GtkWidget *cell = gtk_inscription_new (NULL);

  gtk_inscription_set_text_overflow (GTK_INSCRIPTION (cell), GTK_INSCRIPTION_OVERFLOW_ELLIPSIZE_END);
  gtk_inscription_set_min_chars (GTK_INSCRIPTION (cell), 0);
  if (field->type == KH_FIELD_MONEY || field->type == KH_FIELD_INT)
    {
      gtk_inscription_set_xalign (GTK_INSCRIPTION (cell), 1);
      gtk_widget_add_css_class (cell, "numeric");
    }
  else
    gtk_inscription_set_xalign (GTK_INSCRIPTION (cell), 0);
  gtk_list_item_set_child (item, cell);
}

static void
cell_bind_cb (GtkSignalListItemFactory *factory,
              GtkListItem              *item,
              KhListPage               *self)
{
  const KhField *field = g_object_get_data (G_OBJECT (factory), "field");
  KhRecordItem *record = gtk_list_item_get_item (item);
  GtkWidget *cell = gtk_list_item_get_child (item);
  g_autofree char *text = NULL;

  if (record != NULL)
    text = kh_record_list_format (self->list, record, field->name);
  /* The badge of a minor whose record lacks a valid consent, on the name. */
  if (record != NULL && g_strcmp0 (field->name, self->entity->title_field) == 0)
    {
      gboolean missing = json_object_object_get_ex (kh_record_item_get_data (record), KH_NO_CONSENT_MEMBER, NULL);

      if (missing)
        {
          g_autofree char *plain = g_steal_pointer (&text);

          text = g_strdup_printf ("⚠ %s", plain ? plain : "");
          gtk_widget_add_css_class (cell, "warning");
        }
      else
        gtk_widget_remove_css_class (cell, "warning");
      kh_widget_set_tooltip_if_changed (cell, missing ? _("A minor without a valid consent: record the consent of "
                                                          "the child and a guardian") : NULL);
    }
  gtk_inscription_set_text (GTK_INSCRIPTION (cell), text ? text : "");
  /* What a label would tell a screen reader. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (cell), GTK_ACCESSIBLE_PROPERTY_LABEL, text ? text : "", -1);
}

/* GTK 4.8 has no public way to ask a column view which column it sorts by (that came in 4.10).
 * Each column's sorter therefore answers "smaller" and remembers itself when asked: comparing
 * two rows through the view's sorter reveals the primary column, and the sign its direction.
 * The rows themselves are sorted by SQLite, never by GTK. */
static int
probe_compare_cb (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  GtkColumnViewColumn *column = user_data;
  KhListPage *self = g_object_get_data (G_OBJECT (column), "page");

  self->probed = column;
  return GTK_ORDERING_SMALLER;
}

static void
sorter_changed_cb (KhListPage *self)
{
  GtkSorter *sorter = gtk_column_view_get_sorter (self->column_view);
  g_autoptr(GObject) a = g_object_new (G_TYPE_OBJECT, NULL);
  g_autoptr(GObject) b = g_object_new (G_TYPE_OBJECT, NULL);
  GtkOrdering order;
  const KhField *field = NULL;

  /* Two distinct items: a sorter calls no column for an item compared with itself. */
  self->probed = NULL;
  order = gtk_sorter_compare (sorter, a, b);
  if (self->probed != NULL)
    field = g_object_get_data (G_OBJECT (self->probed), "field");
  kh_record_list_set_sort (self->list, field ? field->name : NULL, order == GTK_ORDERING_LARGER);
}

static void
clear_columns (KhListPage *self)
{
  GListModel *columns = gtk_column_view_get_columns (self->column_view);

  while (g_list_model_get_n_items (columns) > 0)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, 0);

      gtk_column_view_remove_column (self->column_view, column);
    }
}

gboolean
_kh_list_page_is_fixed (KhListPage    *self,
                        const KhField *field)
{
  return self->fixed_field != NULL && strcmp (field->name, self->fixed_field) == 0
         && json_object_is_type (self->fixed_value, json_type_string);
}

/* Widths that fit what the column holds, so the name column keeps the room a name needs. */
static int
column_width (KhListPage    *self,
              const KhField *field)
{
  if (g_strcmp0 (field->name, self->entity->title_field) == 0)
    return 180;
  switch (field->type)
    {
    case KH_FIELD_DATE:
      return 100;
    case KH_FIELD_MONEY:
      return 130;
    case KH_FIELD_INT:
    case KH_FIELD_YEAR:
    case KH_FIELD_BOOL:
      return 90;
    case KH_FIELD_ENUM:
      return 140;
    case KH_FIELD_REF:
      return 200;
    case KH_FIELD_TEXT:
    case KH_FIELD_JSON:
    default:
      return field->max_len > 0 && field->max_len <= 20 ? 100 : 150;
    }
}

/* The room the heading of the @index-th column needs, its padding and sort arrow included;
 * 0 when the view has not made it yet. GTK 4.8 neither ellipsizes a heading nor widens its
 * column for it: "National ID number (optional)" was cut at the window's right edge. */
static int
heading_width (KhListPage *self,
               guint       index)
{
  GtkWidget *header = gtk_widget_get_first_child (GTK_WIDGET (self->column_view));
  GtkWidget *title = header != NULL ? gtk_widget_get_first_child (header) : NULL;
  GtkWidget *content;
  GtkStyleContext *style;
  GtkBorder padding, border;
  int width;

  for (guint i = 0; i < index && title != NULL; i++)
    title = gtk_widget_get_next_sibling (title);
  if (title == NULL || (content = gtk_widget_get_first_child (title)) == NULL)
    return 0;
  gtk_widget_measure (content, GTK_ORIENTATION_HORIZONTAL, -1, &width, NULL, NULL, NULL);
  style = gtk_widget_get_style_context (title);
  gtk_style_context_get_padding (style, &padding);
  gtk_style_context_get_border (style, &border);
  /* The sort arrow, shown once the column sorts, is 16 pixels beside the text. */
  return width + padding.left + padding.right + border.left + border.right + 16;
}

/* A column's width on a wide window: what its values need, and its whole heading. */
static int
wide_width (KhListPage    *self,
            guint          index,
            const KhField *field)
{
  return MAX (column_width (self, field), heading_width (self, index));
}

/* On a narrow window (a phone, a small laptop split in two) a row shows in 360 pixels what an
 * officer looks for first: the name, the status and the amount. The other columns come back
 * when there is room; all of them stay in the record's editor. */
static gboolean
is_kept_when_narrow (KhListPage    *self,
                     const KhField *field)
{
  /* A registration's state ("Đã công nhận") is its status. */
  return g_strcmp0 (field->name, self->entity->title_field) == 0
         || g_strcmp0 (field->name, "status") == 0 || g_strcmp0 (field->name, "state") == 0
         || field->type == KH_FIELD_MONEY;
}

static GtkAdjustment *
list_hadjustment (KhListPage *self)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self->column_view), GTK_TYPE_SCROLLED_WINDOW);

  return scrolled != NULL ? gtk_scrolled_window_get_hadjustment (GTK_SCROLLED_WINDOW (scrolled)) : NULL;
}

static void list_width_cb (KhListPage *self);

/* Narrow, the name takes what the kept columns leave of the page: GTK 4.8's column view gave
 * none of the room left over to a column of its own, and the names were cut short beside an
 * empty half of the page. */
static int
narrow_title_width (KhListPage *self)
{
  GListModel *columns = gtk_column_view_get_columns (self->column_view);
  GtkAdjustment *across = list_hadjustment (self);
  int width = across != NULL && gtk_adjustment_get_page_size (across) > 0
              ? (int) gtk_adjustment_get_page_size (across) : gtk_widget_get_width (GTK_WIDGET (self));
  int others = 0;

  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);
      const KhField *field = g_object_get_data (G_OBJECT (column), "field");

      if (field != NULL && is_kept_when_narrow (self, field)
          && g_strcmp0 (field->name, self->entity->title_field) != 0)
        others += 100;
    }
  /* Room for the scroll bar and the cells' padding; never less than before. */
  return MAX (140, width - others - 24);
}

/* Wide, the columns of words give up what they hold beyond their heading (down to 100 pixels)
 * when the columns together are wider than the page: at the window's default size the last
 * column of learning models, "Điểm", was beyond its right edge. @widths are the columns' widths,
 * made to fit the page if they can. */
static void
fit_wide (KhListPage *self,
          int        *widths,
          guint       n)
{
  GListModel *columns = gtk_column_view_get_columns (self->column_view);
  GtkAdjustment *across = list_hadjustment (self);
  int page = across != NULL ? (int) gtk_adjustment_get_page_size (across) : 0;
  int total = 0, spare = 0, over;
  int *room = g_newa (int, n);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);

      room[i] = 0;
      total += widths[i];
      if (gtk_column_view_column_get_expand (column))
        room[i] = MAX (0, widths[i] - MAX (heading_width (self, i), 100));
      spare += room[i];
    }
  /* The page is not laid out yet, or the columns fit. */
  over = total - page;
  if (page <= 0 || over <= 0 || spare == 0)
    return;
  over = MIN (over, spare);
  for (guint i = 0; i < n; i++)
    widths[i] -= (over * room[i] + spare - 1) / spare;
}

static void
apply_narrow (KhListPage *self)
{
  GListModel *columns = gtk_column_view_get_columns (self->column_view);
  guint n = g_list_model_get_n_items (columns);
  int *widths = g_newa (int, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);
      const KhField *field = g_object_get_data (G_OBJECT (column), "field");

      /* Narrow, the name takes what the others leave: GTK 4.8 gave a fixed-width column none
       * of the room left over, and the names were cut beside an empty half of the page. */
      widths[i] = field == NULL ? gtk_column_view_column_get_fixed_width (column)
                  : !self->narrow ? wide_width (self, i, field)
                  : g_strcmp0 (field->name, self->entity->title_field) == 0 ? narrow_title_width (self) : 100;
    }
  if (!self->narrow)
    fit_wide (self, widths, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);
      const KhField *field = g_object_get_data (G_OBJECT (column), "field");

      if (field == NULL)
        continue;
      gtk_column_view_column_set_visible (column, !self->narrow || is_kept_when_narrow (self, field));
      if (gtk_column_view_column_get_fixed_width (column) != widths[i])
        gtk_column_view_column_set_fixed_width (column, widths[i]);
    }
}

/* The window folds its sidebar away when it is narrow: the page follows. */
static void
folded_notify_cb (KhListPage *self,
                  GParamSpec *pspec,
                  AdwLeaflet *leaflet)
{
  gboolean narrow = adw_leaflet_get_folded (leaflet);

  if (narrow != self->narrow)
    {
      self->narrow = narrow;
      /* GTK 4.8's column view, given columns hidden and narrowed while it is not shown, lays
       * out only its first row once shown again: the others stay unallocated and undrawn. A
       * page not on screen takes the change when it is shown (kh_list_page_map()). */
      if (gtk_widget_get_mapped (GTK_WIDGET (self)))
        apply_narrow (self);
      else
        self->narrow_pending = TRUE;
    }
}

gboolean
kh_list_page_is_column_shown (KhListPage *self,
                              const char *field)
{
  GListModel *columns;

  g_return_val_if_fail (KH_IS_LIST_PAGE (self), FALSE);
  ensure_loaded (self);
  columns = gtk_column_view_get_columns (self->column_view);
  for (guint i = 0; i < g_list_model_get_n_items (columns); i++)
    {
      g_autoptr(GtkColumnViewColumn) column = g_list_model_get_item (columns, i);
      const KhField *f = g_object_get_data (G_OBJECT (column), "field");

      if (f != NULL && g_strcmp0 (f->name, field) == 0)
        return gtk_column_view_column_get_visible (column);
    }
  return FALSE;
}

static void
build_columns (KhListPage *self)
{
  clear_columns (self);
  /* The column that names a record comes first, then the others in the registry's order. */
  for (int k = -1; k < (int) self->entity->n_fields; k++)
    {
      int title = kh_entity_field_index (self->entity, self->entity->title_field);
      const KhField *field;
      GtkListItemFactory *factory;
      GtkColumnViewColumn *column;
      GtkSorter *sorter;

      if (k == title || (k < 0 && title < 0))
        continue;
      field = &self->entity->fields[k < 0 ? title : k];
      if (!(field->flags & KH_FIELD_FLAG_SUMMARY) || _kh_list_page_is_fixed (self, field))
        continue;
      factory = gtk_signal_list_item_factory_new ();
      g_object_set_data (G_OBJECT (factory), "field", (gpointer) field);
      g_signal_connect (factory, "setup", G_CALLBACK (cell_setup_cb), self);
      g_signal_connect (factory, "bind", G_CALLBACK (cell_bind_cb), self);
      column = gtk_column_view_column_new (_(field->label), factory);
      g_object_set_data (G_OBJECT (column), "field", (gpointer) field);
      g_object_set_data (G_OBJECT (column), "page", self);
      sorter = GTK_SORTER (gtk_custom_sorter_new (probe_compare_cb, column, NULL));
      gtk_column_view_column_set_sorter (column, sorter);
      g_object_unref (sorter);
      gtk_column_view_column_set_resizable (column, TRUE);
      gtk_column_view_column_set_fixed_width (column, column_width (self, field));
      /* The room left over goes to the columns of words (a name, a unit, a school, a kind),
       * not to dates, figures and codes: "Thôn 2, Phường Bắc Nha Trang" was cut beside a
       * half-empty name column. */
      if (g_strcmp0 (field->name, self->entity->title_field) == 0 || field->type == KH_FIELD_REF
          || field->type == KH_FIELD_ENUM
          || (field->type == KH_FIELD_TEXT && !(field->max_len > 0 && field->max_len <= 20)))
        gtk_column_view_column_set_expand (column, TRUE);
      gtk_column_view_append_column (self->column_view, column);
      g_object_unref (column);
    }
  apply_narrow (self);
}

/* Entity ------------------------------------------------------------------------------------- */

static GtkAdjustment *
list_vadjustment (KhListPage *self)
{
  GtkWidget *scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self->column_view), GTK_TYPE_SCROLLED_WINDOW);

  return scrolled ? gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled)) : NULL;
}

static gboolean
restore_place_cb (gpointer data)
{
  KhListPage *self = data;
  g_autofree char *id = g_steal_pointer (&self->keep_id);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->list));
  guint position;
  GtkWidget *child;

  self->keep_source = 0;
  /* GTK 4.8's list view keeps its scroll offset over a list replaced in full: the new rows
   * would show from wherever the old ones were. They start from the top instead. */
  if (list_vadjustment (self) != NULL)
    gtk_adjustment_set_value (list_vadjustment (self), 0);
  position = id ? kh_record_list_find (self->list, id) : G_MAXUINT;
  if (position >= n)
    return G_SOURCE_REMOVE;
  if (self->keep_selected)
    gtk_single_selection_set_selected (self->selection, position);
  /* GTK 4.8's column view has no scroll_to(): its list view's action scrolls as little as
   * it must, which from the top puts the row at the bottom; aiming a page further down puts the
   * row at the top, where it was. */
  for (child = gtk_widget_get_first_child (GTK_WIDGET (self->column_view)); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_LIST_VIEW (child))
      {
        guint target = MIN ((guint64) position + (self->keep_rows > 1 ? self->keep_rows - 1 : 0), n - 1);

        gtk_widget_activate_action (child, "list.scroll-to-item", "u", target);
        break;
      }
  return G_SOURCE_REMOVE;
}

/* Before a new sort, filter or search (or a write that changes the count), the list drops its
 * selection: given one, GTK 4.8's selection model looks for it among every added row, reading
 * all of a million. The page remembers the selected record instead, or the one at the top of
 * the view when it was scrolled, and once the list has changed puts that record back in view
 * (selected again) if it still matches, by one lookup in SQLite. A search as you type shows its
 * matches from the first instead. */
static void
list_before_change_cb (KhListPage *self)
{
  KhRecordItem *selected = gtk_single_selection_get_selected_item (self->selection);
  GtkAdjustment *adj = list_vadjustment (self);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->list));
  double row = adj && n > 0 ? gtk_adjustment_get_upper (adj) / n : 0;

  g_clear_pointer (&self->keep_id, g_free);
  self->keep_selected = selected != NULL && !self->searching;
  self->keep_rows = row > 0 ? (guint) (gtk_adjustment_get_page_size (adj) / row) : 0;
  if (selected != NULL && !self->searching)
    self->keep_id = g_strdup (kh_record_item_get_id (selected));
  else if (row > 0 && gtk_adjustment_get_value (adj) > 0 && !self->searching)
    {
      guint top = MIN ((guint) (gtk_adjustment_get_value (adj) / row + 0.5), n - 1);
      g_autoptr(KhRecordItem) item = g_list_model_get_item (G_LIST_MODEL (self->list), top);

      if (item != NULL)
        self->keep_id = g_strdup (kh_record_item_get_id (item));
    }
  gtk_single_selection_set_selected (self->selection, GTK_INVALID_LIST_POSITION);
  if (self->keep_source == 0)
    self->keep_source = g_idle_add (restore_place_cb, self);
}

static void
selection_changed_cb (KhListPage *self)
{
  gtk_widget_set_sensitive (GTK_WIDGET (self->assess_button),
                            gtk_single_selection_get_selected_item (self->selection) != NULL);
}

gboolean
kh_list_page_set_entity (KhListPage *self,
                         const char *name)
{
  const KhEntity *entity;
  g_autoptr(GtkSingleSelection) old_selection = NULL;
  g_autoptr(KhRecordList) old_list = NULL;

  g_return_val_if_fail (KH_IS_LIST_PAGE (self), FALSE);

  entity = kh_entity_lookup (name);
  if (entity == NULL || !g_strv_contains ((const char * const *) self->entities, name))
    return FALSE;
  if (entity == self->entity)
    return TRUE;

  if (self->list != NULL)
    {
      g_clear_signal_handler (&self->n_items_id, self->list);
      g_clear_signal_handler (&self->selected_id, self->selection);
    }
  g_clear_handle_id (&self->keep_source, g_source_remove);
  g_clear_pointer (&self->keep_id, g_free);
  old_list = g_steal_pointer (&self->list);
  old_selection = g_steal_pointer (&self->selection);

  self->entity = entity;
  self->list = kh_record_list_new (self->store, name);
  if (self->fixed_field != NULL && kh_entity_get_field (entity, self->fixed_field) != NULL)
    kh_record_list_set_filter (self->list, self->fixed_field, self->fixed_value, NULL);
  kh_record_list_set_search (self->list, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  g_signal_connect_object (self->list, "before-change", G_CALLBACK (list_before_change_cb),
                           self, G_CONNECT_SWAPPED);
  self->selection = gtk_single_selection_new (G_LIST_MODEL (g_object_ref (self->list)));
  gtk_single_selection_set_autoselect (self->selection, FALSE);
  gtk_single_selection_set_can_unselect (self->selection, TRUE);
  self->n_items_id = g_signal_connect_swapped (self->list, "items-changed", G_CALLBACK (n_items_cb), self);
  self->selected_id = g_signal_connect_swapped (self->selection, "notify::selected",
                                                G_CALLBACK (selection_changed_cb), self);

  g_signal_handler_block (gtk_column_view_get_sorter (self->column_view), self->sorter_id);
  gtk_column_view_set_model (self->column_view, GTK_SELECTION_MODEL (self->selection));
  build_columns (self);
  g_signal_handler_unblock (gtk_column_view_get_sorter (self->column_view), self->sorter_id);
  _kh_list_page_build_filters (self);

  gtk_widget_set_visible (GTK_WIDGET (self->assess_button),
                          self->self_assessment && strcmp (name, "org_unit") == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->recognize_button), strcmp (name, "registration") == 0);
  selection_changed_cb (self);
  _kh_list_page_update_state (self);
  /* Chosen from elsewhere (the Overview's Eligible Population…): the drop-down follows. */
  for (guint i = 0; self->entity_dropdown != NULL && self->entities[i] != NULL; i++)
    if (strcmp (self->entities[i], name) == 0 && gtk_drop_down_get_selected (self->entity_dropdown) != i)
      gtk_drop_down_set_selected (self->entity_dropdown, i);
  return TRUE;
}

static void
entity_selected_cb (KhListPage *self)
{
  guint i = gtk_drop_down_get_selected (self->entity_dropdown);

  if (self->column_view == NULL)
    return;
  if (i < g_strv_length (self->entities))
    kh_list_page_set_entity (self, self->entities[i]);
}

/* Actions ------------------------------------------------------------------------------------ */

static void
search_changed_cb (KhListPage *self)
{
  if (self->list == NULL)
    return;
  self->searching = TRUE;
  kh_record_list_set_search (self->list, gtk_editable_get_text (GTK_EDITABLE (self->search_entry)));
  self->searching = FALSE;
  _kh_list_page_update_state (self);
}

static void
editor_deleted_cb (KhListPage *self,
                   const char *entity,
                   const char *id,
                   const char *title)
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

static void
editor_saved_cb (KhListPage *self,
                 const char *id)
{
  kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Saved")));
}

static GtkWidget *
present_editor (KhListPage  *self,
                const char  *id,
                json_object *defaults)
{
  GtkWidget *editor;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  /* A criteria set is edited with its criteria, and versioned once used (kh-models.c). */
  if (strcmp (self->entity->name, "criteria_set") == 0)
    {
      editor = kh_criteria_editor_new (self->store, id);
      if (GTK_IS_WINDOW (root))
        gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
      gtk_window_present (GTK_WINDOW (editor));
      return editor;
    }
  editor = kh_record_editor_new (self->store, self->entity->name, id, defaults);
  g_signal_connect_object (editor, "deleted", G_CALLBACK (editor_deleted_cb), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "saved", G_CALLBACK (editor_saved_cb), self, G_CONNECT_SWAPPED);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (editor));
  return editor;
}

GtkWidget *
kh_list_page_new_record (KhListPage *self)
{
  json_object *defaults;
  GtkWidget *editor;

  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);

  ensure_loaded (self);
  defaults = json_object_new_object ();

  if (self->fixed_field != NULL && json_object_is_type (self->fixed_value, json_type_string)
      && kh_entity_get_field (self->entity, self->fixed_field) != NULL)
    {
      const char *value = json_object_get_string (self->fixed_value);

      json_object_object_add (defaults, self->fixed_field, json_object_get (self->fixed_value));
      /* What follows from the fixed field (a registration's subject kind from its model). */
      for (guint i = 0; i < self->entity->n_fields; i++)
        {
          const KhField *field = &self->entity->fields[i];

          if (g_strcmp0 (field->derived_from, self->fixed_field) == 0 && field->derive (value) != NULL)
            json_object_object_add (defaults, field->name,
                                    json_object_new_string (field->derive (value)));
        }
    }
  editor = present_editor (self, NULL, defaults);
  json_object_put (defaults);
  return editor;
}

GtkWidget *
kh_list_page_open_record (KhListPage *self,
                          const char *id)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  g_return_val_if_fail (id != NULL, NULL);
  ensure_loaded (self);
  return present_editor (self, id, NULL);
}

static void
new_clicked_cb (KhListPage *self)
{
  kh_list_page_new_record (self);
}

static void
column_view_activate_cb (KhListPage *self,
                         guint       position)
{
  g_autoptr(KhRecordItem) record = g_list_model_get_item (G_LIST_MODEL (self->list), position);

  if (record != NULL)
    kh_list_page_open_record (self, kh_record_item_get_id (record));
}

static void
evaluation_saved_cb (KhListPage *self)
{
  kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Self-assessment saved")));
}

/* The school clerk's path: their unit's learning-unit self-assessment for the year, registered
 * on the way if it was not yet. */
GtkWidget *
kh_list_page_self_assess (KhListPage *self,
                          const char *unit_id,
                          int         year)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *registration = NULL;
  g_autofree char *name = NULL;
  GtkWidget *dialog;
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);

  ensure_loaded (self);
  name = kh_store_dup_title (self->store, "org_unit", unit_id);
  registration = kh_registration_ensure (self->store, "unit", year, "org_unit", unit_id, name, unit_id, &error);
  if (registration == NULL)
    {
      kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
      return NULL;
    }
  dialog = kh_evaluation_dialog_new (self->store, registration);
  g_signal_connect_object (dialog, "saved", G_CALLBACK (evaluation_saved_cb), self, G_CONNECT_SWAPPED);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

/* The value the filter on @field has chosen, or NULL. */
static json_object *
filter_value (KhListPage *self,
              const char *field)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->filter_box)); child;
       child = gtk_widget_get_next_sibling (child))
    if (GTK_IS_DROP_DOWN (child) && g_strcmp0 (g_object_get_data (G_OBJECT (child), "field"), field) == 0)
      return _kh_list_page_selected_value (GTK_DROP_DOWN (child));
  return NULL;
}

/* One decision for the registrations that passed: of the page's model, of the year and unit
 * its filters chose (else the year being assessed, and everywhere this replica holds). */
GtkWidget *
kh_list_page_recognize (KhListPage *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  json_object *year = NULL;
  json_object *unit = NULL;
  const char *model = NULL;
  GtkWidget *dialog;

  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  if (g_strcmp0 (self->fixed_field, "model") == 0 && json_object_is_type (self->fixed_value, json_type_string))
    model = json_object_get_string (self->fixed_value);
  else if ((year = filter_value (self, "model")) != NULL)
    model = json_object_get_string (year);
  year = filter_value (self, "year");
  unit = filter_value (self, "org_unit_id");
  dialog = kh_recognize_dialog_new (self->store, model, year != NULL ? json_object_get_int (year) : assessment_year (),
                                    unit != NULL ? json_object_get_string (unit) : NULL);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (dialog), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (dialog));
  return dialog;
}

static void
recognize_clicked_cb (KhListPage *self)
{
  kh_list_page_recognize (self);
}

static void
assess_clicked_cb (KhListPage *self)
{
  KhRecordItem *unit = gtk_single_selection_get_selected_item (self->selection);

  if (unit != NULL)
    kh_list_page_self_assess (self, kh_record_item_get_id (unit), assessment_year ());
}

void
kh_list_page_focus_search (KhListPage *self)
{
  g_return_if_fail (KH_IS_LIST_PAGE (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/* The window's Ctrl+F and Ctrl+N reach the page on show through "page.search" and
 * "page.new-record". */
static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  kh_list_page_focus_search (KH_LIST_PAGE (widget));
}

static void
new_record_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *param)
{
  kh_list_page_new_record (KH_LIST_PAGE (widget));
}

void
kh_list_page_set_self_assessment (KhListPage *self,
                                  gboolean    enabled)
{
  g_return_if_fail (KH_IS_LIST_PAGE (self));
  self->self_assessment = enabled;
  gtk_widget_set_visible (GTK_WIDGET (self->assess_button),
                          enabled && g_strv_contains ((const char * const *) self->entities, "org_unit"));
}

KhRecordList *
kh_list_page_get_list (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  return self->list;
}

/* The filter marked @key ("list", "list-year"), or NULL. */
GtkDropDown *
kh_list_page_get_filter (KhListPage *self,
                         const char *key)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  return _kh_list_page_find_filter (self, key);
}

/* The unit filter's picker, or NULL where the list has no unit to filter by. */
GtkWidget *
kh_list_page_get_unit_filter (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->filter_box)); child;
       child = gtk_widget_get_next_sibling (child))
    if (KH_IS_RECORD_PICKER (child) && g_strcmp0 (gtk_widget_get_name (child), "unit-filter") == 0)
      return child;
  return NULL;
}

/* The entries page's list filter (a picker), or NULL. */
GtkWidget *
kh_list_page_get_list_filter (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  return _kh_list_page_find_filter_widget (self, "list");
}

GtkWidget *
kh_list_page_get_search_entry (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  return GTK_WIDGET (self->search_entry);
}

GtkWidget *
kh_list_page_get_column_view (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), NULL);
  ensure_loaded (self);
  return GTK_WIDGET (self->column_view);
}

gboolean
kh_list_page_is_empty_shown (KhListPage *self)
{
  g_return_val_if_fail (KH_IS_LIST_PAGE (self), FALSE);
  ensure_loaded (self);
  return g_strcmp0 (gtk_stack_get_visible_child_name (self->view_stack), "empty") == 0;
}

/* Object ------------------------------------------------------------------------------------- */

static void
kh_list_page_map (GtkWidget *widget)
{
  KhListPage *self = KH_LIST_PAGE (widget);
  GtkWidget *leaflet = gtk_widget_get_ancestor (widget, ADW_TYPE_LEAFLET);

  ensure_loaded (self);
  if (leaflet != NULL && self->folded_id == 0)
    {
      self->folded_id = g_signal_connect_object (leaflet, "notify::folded", G_CALLBACK (folded_notify_cb),
                                                 self, G_CONNECT_SWAPPED);
      folded_notify_cb (self, NULL, ADW_LEAFLET (leaflet));
    }
  GTK_WIDGET_CLASS (kh_list_page_parent_class)->map (widget);
  /* The columns changed while the page was away: the rows are made again for them (the
   * model set anew; the paged list reads only the rows in view). */
  /* So are they when the rows changed meanwhile (a sync pulled records, the list was sorted
   * again): GTK 4.8 then drew only the first row too. The view keeps its place. */
  if (self->narrow_pending || self->rows_pending)
    {
      GtkSelectionModel *model = g_object_ref (gtk_column_view_get_model (self->column_view));
      GtkAdjustment *adj = list_vadjustment (self);
      double value = adj != NULL ? gtk_adjustment_get_value (adj) : 0;

      if (self->narrow_pending)
        apply_narrow (self);
      self->narrow_pending = FALSE;
      self->rows_pending = FALSE;
      gtk_column_view_set_model (self->column_view, NULL);
      gtk_column_view_set_model (self->column_view, model);
      g_object_unref (model);
      if (adj != NULL && value > 0)
        gtk_adjustment_set_value (adj, value);
    }
}

static gboolean
fit_narrow_cb (gpointer data)
{
  KhListPage *self = data;

  self->fit_source = 0;
  /* Columns changed while the page is not shown are laid out when it is (see above). */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    apply_narrow (self);
  else
    self->narrow_pending = TRUE;
  return G_SOURCE_REMOVE;
}

/* A page that changes width (a phone turned, a window dragged) fits its columns to the width
 * the list is now given (its scroll area's page size), once that allocation is done: a
 * column's width is not to be changed while it is being given. */
static void
list_width_cb (KhListPage *self)
{
  if (self->fit_source == 0 && gtk_column_view_get_model (self->column_view) != NULL
      && g_list_model_get_n_items (gtk_column_view_get_columns (self->column_view)) > 0)
    self->fit_source = g_idle_add (fit_narrow_cb, self);
}

static void
kh_list_page_dispose (GObject *object)
{
  KhListPage *self = (KhListPage *) object;

  g_clear_handle_id (&self->fit_source, g_source_remove);

  /* The dropdown changes its selection as it goes away: that must not rebuild the page. */
  if (self->entity_dropdown != NULL)
    g_signal_handlers_disconnect_by_data (self->entity_dropdown, self);
  if (self->column_view != NULL)
    g_clear_signal_handler (&self->sorter_id, gtk_column_view_get_sorter (self->column_view));
  if (self->list != NULL)
    g_clear_signal_handler (&self->n_items_id, self->list);
  if (self->selection != NULL)
    g_clear_signal_handler (&self->selected_id, self->selection);
  g_clear_handle_id (&self->keep_source, g_source_remove);
  g_clear_pointer (&self->keep_id, g_free);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_LIST_PAGE);
  g_clear_object (&self->selection);
  g_clear_object (&self->list);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_list_page_parent_class)->dispose (object);
}

static void
kh_list_page_finalize (GObject *object)
{
  KhListPage *self = (KhListPage *) object;

  g_clear_pointer (&self->entities, g_strfreev);
  g_clear_pointer (&self->fixed_field, g_free);
  g_clear_pointer (&self->fixed_value, json_object_put);

  G_OBJECT_CLASS (kh_list_page_parent_class)->finalize (object);
}

static gboolean
kh_list_page_either (gpointer data,
                     gboolean a,
                     gboolean b)
{
  return a || b;
}

static void
kh_list_page_class_init (KhListPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_list_page_dispose;
  object_class->finalize = kh_list_page_finalize;
  widget_class->map = kh_list_page_map;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-list-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KhListPage, entity_dropdown);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, assess_button);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, new_button);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, filter_box);
  gtk_widget_class_bind_template_callback (widget_class, kh_list_page_either);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, view_stack);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, column_view);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, KhListPage, count_label);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, new_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, assess_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, column_view_activate_cb);

  gtk_widget_class_install_action (widget_class, "page.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "page.new-record", NULL, new_record_action);
}

static void
kh_list_page_init (KhListPage *self)
{
  g_autofree char *label = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (list_hadjustment (self), "notify::page-size", G_CALLBACK (list_width_cb),
                           self, G_CONNECT_SWAPPED);
  self->sorter_id = g_signal_connect_swapped (gtk_column_view_get_sorter (self->column_view), "changed",
                                              G_CALLBACK (sorter_changed_cb), self);
  label = g_strdup_printf (_("Self-assessment for %d"), assessment_year ());
  {
    /* On a phone the year goes, then the words for an icon (the tooltip says them), rather than
     * the end of the words ("Tự đánh …") or the search entry's room ("Tìm …"): the window
     * cannot be held wider than its screen. */
    GtkWidget *squeezer = adw_squeezer_new ();

    adw_squeezer_set_transition_type (ADW_SQUEEZER (squeezer), ADW_SQUEEZER_TRANSITION_TYPE_NONE);
    adw_squeezer_add (ADW_SQUEEZER (squeezer), gtk_label_new (label));
    adw_squeezer_add (ADW_SQUEEZER (squeezer), gtk_label_new (_("Self-assessment")));
    adw_squeezer_add (ADW_SQUEEZER (squeezer), gtk_image_new_from_icon_name ("document-edit-symbolic"));
    gtk_button_set_child (self->assess_button, squeezer);
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->assess_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    label, -1);
  }
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->assess_button),
                               _("Score the selected school or agency as a learning unit"));
  self->recognize_button = GTK_BUTTON (gtk_button_new_with_mnemonic (_("_Recognize…")));
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->recognize_button),
                               _("Recognize the registrations that passed, by one decision"));
  gtk_widget_set_visible (GTK_WIDGET (self->recognize_button), FALSE);
  gtk_widget_insert_before (GTK_WIDGET (self->recognize_button),
                            gtk_widget_get_parent (GTK_WIDGET (self->new_button)), GTK_WIDGET (self->new_button));
  g_signal_connect_swapped (self->recognize_button, "clicked", G_CALLBACK (recognize_clicked_cb), self);
}

GtkWidget *
kh_list_page_new (KhStore            *store,
                  const char * const *entities,
                  const char         *fixed_field,
                  json_object        *fixed_value)
{
  KhListPage *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail (entities != NULL && entities[0] != NULL, NULL);

  self = g_object_new (KH_TYPE_LIST_PAGE, NULL);
  self->store = g_object_ref (store);
  self->entities = g_strdupv ((char **) entities);
  self->fixed_field = g_strdup (fixed_field);
  self->fixed_value = fixed_value ? json_object_get (fixed_value) : NULL;

  if (g_strv_length (self->entities) > 1)
    {
      GtkStringList *names = gtk_string_list_new (NULL);

      for (guint i = 0; entities[i] != NULL; i++)
        gtk_string_list_append (names, _(kh_entity_lookup (entities[i])->label_plural));
      gtk_drop_down_set_model (self->entity_dropdown, G_LIST_MODEL (names));
      g_object_unref (names);
      gtk_widget_set_visible (GTK_WIDGET (self->entity_dropdown), TRUE);
      g_signal_connect_swapped (self->entity_dropdown, "notify::selected",
                                G_CALLBACK (entity_selected_cb), self);
    }
  return GTK_WIDGET (self);
}
