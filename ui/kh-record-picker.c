/* kh-record-picker.c: a button that chooses one record, searched as it is typed
 *
 * Every form row and filter that chooses a record (a unit, a household, a person, a fund, an
 * award list, a registration) is this button: it shows the chosen record's title, and its
 * popover a search entry over the records. The choices are a paged KhRecordList searched
 * through the store's folded index as the lists are ("suoi hiep" finds "Xã Suối Hiệp"), cut to
 * the first KH_RECORD_PICKER_MAX_SHOWN matches: a keystroke costs one count and one page of
 * at most a hundred rows, read with LIMIT, at ten records as at a million; nothing reads every
 * record into memory. A unit shows the unit above it ("Thôn 1 — Xã Suối Hiệp"): every commune
 * has its "Thôn 1". Only the rows on screen ask for that, one indexed lookup each.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-fold.h"
#include "kh-record-picker.h"
#include "kh-tooltip.h"
#include "kh-store-sql.h"
#include "kh-ui-test-private.h"

struct _KhRecordPicker
{
  GtkWidget         parent_instance;

  KhStore          *store;
  const KhEntity   *entity;
  KhRecordList     *list;
  GtkSliceListModel *shown;
  KhRecordItem     *selected;
  char             *none_label;

  GtkWidget        *button;
  GtkWidget        *button_label;
  GtkWidget        *popover;
  GtkWidget        *search_entry;
  GtkWidget        *none_button;
  GtkWidget        *list_view;
  GtkWidget        *status_label;
  GtkWidget        *held_viewport;  /* see place_popover() */
};

G_DEFINE_FINAL_TYPE (KhRecordPicker, kh_record_picker, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SELECTED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* How wide a choice's title is before it wraps: the popover fits a 360-pixel phone. */
#define ROW_CHARS 34
/* The room kept between the popover and the window's edges. */
#define WINDOW_MARGIN 6
/* The width of the popover's content where the window has room for it. */
#define POPOVER_WIDTH 320

/* How much wider a popover is than its content (its padding, border and arrow's room), in the
 * theme in use: measured when one is first shown (a hidden widget measures nothing), Adwaita's
 * until then. */
static int popover_frame = 64;

/* Titles ------------------------------------------------------------------------------------- */

/* Records that every unit names alike ("Quỹ khuyến học", "Học bổng Tết 2024"): the picker
 * shows them with their unit, unless their name already says it. */
static gboolean
named_alike_by_units (const KhEntity *entity)
{
  static const char * const names[] = { "fund", "award_list", "scholarship_programme", "criteria_set", NULL };

  return g_strv_contains (names, entity->name) && kh_entity_get_field (entity, "org_unit_id") != NULL;
}

/* "Quỹ khuyến học — Xã Suối Hiệp" for a fund called like every other; NULL when the name says
 * which unit it is ("Quỹ khuyến học xã Suối Hiệp") or the record has none. */
static char *
dup_title_with_unit (KhRecordPicker *self,
                     KhRecordItem   *record,
                     const char     *name)
{
  const char *unit_id = kh_record_item_get_string (record, "org_unit_id");
  g_autofree char *unit = NULL;
  g_autofree char *folded_name = NULL;
  g_autofree char *folded_unit = NULL;
  const char *bare;

  if (unit_id == NULL || (unit = kh_store_dup_title (self->store, "org_unit", unit_id)) == NULL)
    return NULL;
  folded_name = kh_fold (name);
  folded_unit = kh_fold (unit);
  /* "xa suoi hiep" is in "quy khuyen hoc xa suoi hiep"; "suoi hiep" alone counts too. */
  bare = strchr (folded_unit, ' ');
  if (bare != NULL && strlen (bare + 1) < 5)
    bare = NULL;
  if (strstr (folded_name, folded_unit) != NULL || (bare != NULL && strstr (folded_name, bare + 1) != NULL))
    return NULL;
  /* TRANSLATORS: a unit in a picker, with the unit it belongs to: "Thôn 1 — Xã Suối Hiệp" */
  return g_strdup_printf (_("%s — %s"), name, unit);
}

/* A record as the picker shows it: a unit with the unit above it, a fund or list with its unit
 * when its name does not say it, anything else by its title. */
char *
kh_record_picker_dup_title (KhRecordPicker *self,
                            KhRecordItem   *record)
{
  g_autofree char *name = NULL;
  const char *parent;
  sqlite3_stmt *stmt;
  char *title = NULL;

  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);

  if (record == NULL)
    return NULL;
  name = kh_record_item_dup_title (record);
  if (name == NULL)
    name = g_strdup (kh_record_item_get_id (record));
  if (named_alike_by_units (kh_record_item_get_entity (record)))
    {
      title = dup_title_with_unit (self, record, name);
      return title != NULL ? title : g_steal_pointer (&name);
    }
  if (strcmp (kh_record_item_get_entity (record)->name, "org_unit") != 0
      || (parent = kh_record_item_get_string (record, "parent_id")) == NULL)
    return g_steal_pointer (&name);
  stmt = kh_store_prepare (self->store, "SELECT name FROM org_unit WHERE id = ?1", NULL);
  if (stmt != NULL)
    {
      sqlite3_bind_text (stmt, 1, parent, -1, SQLITE_TRANSIENT);
      if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_text (stmt, 0) != NULL)
        /* TRANSLATORS: a unit in a picker, with the unit it belongs to: "Thôn 1 — Xã Suối Hiệp" */
        title = g_strdup_printf (_("%s — %s"), name, (const char *) sqlite3_column_text (stmt, 0));
      sqlite3_reset (stmt);
    }
  return title != NULL ? title : g_steal_pointer (&name);
}

static void
update_button (KhRecordPicker *self)
{
  g_autofree char *title = kh_record_picker_dup_title (self, self->selected);
  const char *shown;

  if (title != NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->button_label), title);
      gtk_widget_remove_css_class (self->button_label, "dim-label");
      gtk_widget_set_tooltip_text (self->button, title);
    }
  else
    {
      gtk_label_set_text (GTK_LABEL (self->button_label),
                          self->none_label != NULL ? self->none_label : _("Choose…"));
      /* "All units" in a filter is a choice as a drop-down's "All years" is, not a hint: dimmed,
       * it read as a button that could not be used. */
      if (self->none_label != NULL && gtk_menu_button_get_has_frame (GTK_MENU_BUTTON (self->button)))
        gtk_widget_remove_css_class (self->button_label, "dim-label");
      else
        gtk_widget_add_css_class (self->button_label, "dim-label");
      gtk_widget_set_tooltip_text (self->button, NULL);
    }
  /* A short choice is never cut: squeezed in a narrow filter bar, "Tất cả đơn vị" had become
   * "…". A long one is cut beyond its first words. */
  shown = gtk_label_get_text (GTK_LABEL (self->button_label));
  gtk_label_set_width_chars (GTK_LABEL (self->button_label), MIN ((int) g_utf8_strlen (shown, -1), 14));
}

/* The status under the choices: none found, or more than are shown. */
static void
update_status (KhRecordPicker *self)
{
  guint n = self->list ? g_list_model_get_n_items (G_LIST_MODEL (self->list)) : 0;
  g_autofree char *text = NULL;

  if (self->list == NULL)
    text = g_strdup (_("Choose the kind first."));
  else if (kh_record_list_get_error (self->list) != NULL)
    text = g_strdup (kh_record_list_get_error (self->list)->message);
  else if (n == 0)
    text = g_strdup (_("Nothing found. Try fewer letters; accents may be left out."));
  else if (n > KH_RECORD_PICKER_MAX_SHOWN)
    /* TRANSLATORS: under a picker's choices when more match than are shown */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "The first %u of %u. Type more to narrow it down.",
                                         "The first %u of %u. Type more to narrow it down.", n),
                            KH_RECORD_PICKER_MAX_SHOWN, n);
  gtk_label_set_text (GTK_LABEL (self->status_label), text ? text : "");
  gtk_widget_set_visible (self->status_label, text != NULL);
}

/* Choosing ----------------------------------------------------------------------------------- */

static void
set_selected (KhRecordPicker *self,
              KhRecordItem   *record)
{
  if (record == self->selected)
    return;
  if (record != NULL && self->selected != NULL
      && g_strcmp0 (kh_record_item_get_id (record), kh_record_item_get_id (self->selected)) == 0)
    return;
  g_set_object (&self->selected, record);
  update_button (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SELECTED]);
}

KhRecordItem *
kh_record_picker_get_selected (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->selected;
}

const char *
kh_record_picker_get_selected_id (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->selected ? kh_record_item_get_id (self->selected) : NULL;
}

/* Chooses the record @id (NULL: none). FALSE when there is no such record of this kind; the
 * record is read by its id, whatever the search shows. */
gboolean
kh_record_picker_set_selected_id (KhRecordPicker *self,
                                  const char     *id)
{
  json_object *data;

  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), FALSE);

  if (id == NULL || self->entity == NULL)
    {
      set_selected (self, NULL);
      return id == NULL;
    }
  data = kh_store_get (self->store, self->entity->name, id, NULL);
  if (data == NULL || json_object_get_boolean (json_object_object_get (data, "deleted")))
    {
      json_object_put (data);
      set_selected (self, NULL);
      return FALSE;
    }
  {
    /* The item takes the record's data. */
    g_autoptr(KhRecordItem) record = kh_record_item_new (self->entity, data);

    set_selected (self, record);
  }
  return TRUE;
}

static void
choose_position (KhRecordPicker *self,
                 guint           position)
{
  g_autoptr(KhRecordItem) record = g_list_model_get_item (G_LIST_MODEL (self->shown), position);

  if (record == NULL)
    return;
  set_selected (self, record);
  gtk_popover_popdown (GTK_POPOVER (self->popover));
}

static void
activate_cb (GtkListView    *view,
             guint           position,
             KhRecordPicker *self)
{
  choose_position (self, position);
}

/* Enter in the search chooses the first match: type a few letters, press Enter. */
static void
search_activate_cb (GtkSearchEntry *entry,
                    KhRecordPicker *self)
{
  if (self->list != NULL && g_list_model_get_n_items (G_LIST_MODEL (self->shown)) > 0)
    choose_position (self, 0);
}

static void
none_clicked_cb (KhRecordPicker *self)
{
  set_selected (self, NULL);
  gtk_popover_popdown (GTK_POPOVER (self->popover));
}

static void
search_changed_cb (GtkSearchEntry *entry,
                   KhRecordPicker *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (entry));

  if (self->list == NULL)
    return;
  kh_record_list_set_search (self->list, *text != '\0' ? text : NULL);
  update_status (self);
}

static void
items_changed_cb (KhRecordPicker *self)
{
  update_status (self);
}

/* The rows ----------------------------------------------------------------------------------- */

/* A row: the title, and under it the unit a record belongs to, so two households whose heads
 * share a name are told apart by their village. The title of a list, a fund, a programme or a
 * criteria set wraps rather than being cut: two lists of one commune and one year differ in
 * their last words ("… học sinh giỏi — Xã Suối Hiệp"), which an ellipsis hid. Other titles (a
 * person's name, a unit's path) are cut in the middle, the tooltip whole: a wrapping label is
 * measured at several widths, which took a keystroke in a picker of a million units from 35 to
 * 90 ms (bench-window). */
static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          KhRecordPicker           *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 2);
  GtkWidget *label = gtk_label_new (NULL);
  GtkWidget *unit = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_max_width_chars (GTK_LABEL (label), ROW_CHARS);
  gtk_label_set_xalign (GTK_LABEL (unit), 0);
  gtk_label_set_ellipsize (GTK_LABEL (unit), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (unit, "dim-label");
  gtk_widget_add_css_class (unit, "caption");
  gtk_box_append (GTK_BOX (box), label);
  gtk_box_append (GTK_BOX (box), unit);
  gtk_widget_set_margin_top (box, 4);
  gtk_widget_set_margin_bottom (box, 4);
  gtk_widget_set_margin_start (box, 6);
  gtk_widget_set_margin_end (box, 6);
  gtk_list_item_set_child (item, box);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         KhRecordPicker           *self)
{
  KhRecordItem *record = gtk_list_item_get_item (item);
  GtkWidget *label = gtk_widget_get_first_child (gtk_list_item_get_child (item));
  GtkWidget *unit = gtk_widget_get_next_sibling (label);
  g_autofree char *title = kh_record_picker_dup_title (self, record);
  g_autofree char *where = NULL;
  gboolean long_title = record != NULL && named_alike_by_units (kh_record_item_get_entity (record));

  gtk_label_set_wrap (GTK_LABEL (label), long_title);
  gtk_label_set_ellipsize (GTK_LABEL (label), long_title ? PANGO_ELLIPSIZE_NONE : PANGO_ELLIPSIZE_MIDDLE);
  if (record != NULL && strcmp (kh_record_item_get_entity (record)->name, "org_unit") != 0
      && !named_alike_by_units (kh_record_item_get_entity (record)))
    where = kh_store_dup_title (self->store, "org_unit", kh_record_item_get_string (record, "org_unit_id"));
  gtk_label_set_text (GTK_LABEL (label), title ? title : "");
  /* The whole title as a tooltip where a row may not show it all. */
  kh_widget_set_tooltip_if_changed (label, title != NULL && g_utf8_strlen (title, -1) > ROW_CHARS ? title : NULL);
  gtk_label_set_text (GTK_LABEL (unit), where ? where : "");
  gtk_widget_set_visible (unit, where != NULL);
}

/* The records ------------------------------------------------------------------------------- */

/* Which lists are read by their title: small ones, and large ones whose title the schema
 * indexes (people and households by given name, folded names), so the sort walks an index. */
static gboolean
sorted_by_title (const KhEntity *entity)
{
  const KhField *title = kh_entity_get_field (entity, entity->title_field);

  if (title == NULL || title->type != KH_FIELD_TEXT)
    return FALSE;
  return (title->flags & (KH_FIELD_FLAG_PERSON_NAME | KH_FIELD_FLAG_FOLDED_INDEX)) != 0
         || strcmp (entity->name, "award_list") == 0 || strcmp (entity->name, "fund") == 0
         || strcmp (entity->name, "criteria_set") == 0
         || strcmp (entity->name, "scholarship_programme") == 0;
}

void
kh_record_picker_set_entity (KhRecordPicker *self,
                             const char     *entity)
{
  const KhEntity *target;

  g_return_if_fail (KH_IS_RECORD_PICKER (self));

  target = entity != NULL ? kh_entity_lookup (entity) : NULL;
  if (target == self->entity && (self->list != NULL || target == NULL))
    return;
  set_selected (self, NULL);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  g_clear_object (&self->list);
  self->entity = target;
  if (target != NULL)
    {
      self->list = kh_record_list_new (self->store, target->name);
      if (sorted_by_title (target))
        kh_record_list_set_sort (self->list, target->title_field, FALSE);
      g_signal_connect_swapped (self->list, "items-changed", G_CALLBACK (items_changed_cb), self);
    }
  gtk_slice_list_model_set_model (self->shown, self->list ? G_LIST_MODEL (self->list) : NULL);
  gtk_editable_set_text (GTK_EDITABLE (self->search_entry), "");
  gtk_widget_set_sensitive (self->button, self->list != NULL);
  update_status (self);
}

const char *
kh_record_picker_get_entity (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->entity ? self->entity->name : NULL;
}

/* With a label, the picker offers "none" under that name ("(none)", "All units"); without, a
 * choice once made can only be changed. */
void
kh_record_picker_set_none_label (KhRecordPicker *self,
                                 const char     *label)
{
  g_return_if_fail (KH_IS_RECORD_PICKER (self));

  g_free (self->none_label);
  self->none_label = g_strdup (label);
  gtk_button_set_label (GTK_BUTTON (self->none_button), label ? label : "");
  gtk_widget_set_visible (self->none_button, label != NULL);
  update_button (self);
}

/* Without a frame, as a choice inside a form row looks. */
void
kh_record_picker_set_has_frame (KhRecordPicker *self,
                                gboolean        has_frame)
{
  g_return_if_fail (KH_IS_RECORD_PICKER (self));
  gtk_menu_button_set_has_frame (GTK_MENU_BUTTON (self->button), has_frame);
  if (!has_frame)
    {
      /* In a form row the value of a choice reads as text, as a combo row's does, not as a
       * button's bold label; in a filter bar it reads as the drop-downs beside it. */
      PangoAttrList *attrs = pango_attr_list_new ();

      pango_attr_list_insert (attrs, pango_attr_weight_new (PANGO_WEIGHT_NORMAL));
      gtk_label_set_attributes (GTK_LABEL (self->button_label), attrs);
      pango_attr_list_unref (attrs);
    }
  else
    gtk_label_set_attributes (GTK_LABEL (self->button_label), NULL);
  update_button (self);
}

void
kh_record_picker_popup (KhRecordPicker *self)
{
  g_return_if_fail (KH_IS_RECORD_PICKER (self));

  if (self->list != NULL)
    gtk_menu_button_popup (GTK_MENU_BUTTON (self->button));
}

/* Offers only the records whose @field is @value (one of them, for an array; all for NULL),
 * as a list filter offers the lists of the year chosen. The choice made stays. */
void
kh_record_picker_set_filter (KhRecordPicker *self,
                             const char     *field,
                             json_object    *value)
{
  g_return_if_fail (KH_IS_RECORD_PICKER (self));

  if (self->list == NULL)
    return;
  kh_record_list_set_filter (self->list, field, value, NULL);
  update_status (self);
}

/* Before the popover opens: it points at the part of the button in view (a filter bar scrolls
 * sideways on a phone, the button half out of it) and moves sideways to keep within the
 * window. Centred under a button near a 360-pixel window's right edge, it went past it. */
static void
place_popover (GtkMenuButton *button,
               gpointer       data)
{
  KhRecordPicker *self = data;
  GtkPopover *popover = GTK_POPOVER (self->popover);
  GtkWidget *root = GTK_WIDGET (gtk_widget_get_root (GTK_WIDGET (self)));
  GtkWidget *scrolled = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_SCROLLED_WINDOW);
  GtkWidget *content = gtk_popover_get_child (popover);
  graphene_rect_t bounds, view;
  GdkRectangle target;
  double left, right, start, last;
  int natural, inside, window;

  gtk_popover_set_offset (popover, 0, 0);
  gtk_popover_set_pointing_to (popover, NULL);
  /* GTK 4.8's viewport, seeing the focus go to the search entry of a popover of one of its
   * buttons, scrolled the filter bar to where it reckoned the entry to be: sideways, under the
   * popover. It scrolls to the focus again once the popover is closed. */
  if (self->held_viewport == NULL)
    {
      GtkWidget *viewport = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_VIEWPORT);

      if (viewport != NULL && gtk_viewport_get_scroll_to_focus (GTK_VIEWPORT (viewport)))
        {
          self->held_viewport = g_object_ref (viewport);
          gtk_viewport_set_scroll_to_focus (GTK_VIEWPORT (viewport), FALSE);
        }
    }
  if (root == NULL)
    return;

  /* One width, whatever is typed: a popover that grew with its matches moved off its place.
   * On a phone the content takes what the window leaves of it beside the popover's frame. */
  window = gtk_widget_get_width (root);
  inside = window > 0 ? MAX (200, MIN (POPOVER_WIDTH, window - 2 * WINDOW_MARGIN - popover_frame))
                      : POPOVER_WIDTH;
  adw_clamp_set_maximum_size (ADW_CLAMP (content), inside);
  adw_clamp_set_tightening_threshold (ADW_CLAMP (content), inside);
  gtk_widget_set_size_request (content, inside, -1);

  if (!gtk_widget_compute_bounds (self->button, root, &bounds))
    return;
  left = MAX (bounds.origin.x, 0);
  right = MIN (bounds.origin.x + bounds.size.width, window);
  if (scrolled != NULL && gtk_widget_compute_bounds (scrolled, root, &view))
    {
      left = MAX (left, view.origin.x);
      right = MIN (right, view.origin.x + view.size.width);
    }
  if (right - left < 1)
    return;
  target.x = (int) (left - bounds.origin.x);
  target.y = 0;
  target.width = (int) (right - left);
  target.height = (int) bounds.size.height;
  gtk_popover_set_pointing_to (popover, &target);

  natural = inside + popover_frame;
  start = (left + right - natural) / 2;
  last = MAX (WINDOW_MARGIN, window - WINDOW_MARGIN - natural);
  gtk_popover_set_offset (popover, (int) (CLAMP (start, WINDOW_MARGIN, last) - start), 0);
}

static void
popover_closed_cb (KhRecordPicker *self)
{
  if (self->held_viewport != NULL)
    gtk_viewport_set_scroll_to_focus (GTK_VIEWPORT (self->held_viewport), TRUE);
  g_clear_object (&self->held_viewport);
}

static void
popover_shown_cb (KhRecordPicker *self)
{
  GtkWidget *content = gtk_popover_get_child (GTK_POPOVER (self->popover));
  int outer, inner;

  /* The frame measured, the popover is placed again if it was guessed wrong. */
  gtk_widget_measure (self->popover, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &outer, NULL, NULL);
  gtk_widget_measure (content, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &inner, NULL, NULL);
  if (outer > inner && outer - inner != popover_frame)
    {
      popover_frame = outer - inner;
      place_popover (GTK_MENU_BUTTON (self->button), self);
    }
  update_status (self);
  gtk_widget_grab_focus (self->search_entry);
}

/* For the tests and the benchmark: the search entry and the matches shown. */
GtkWidget *
kh_record_picker_get_search_entry (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->search_entry;
}

GListModel *
kh_record_picker_get_shown (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return G_LIST_MODEL (self->shown);
}

GtkWidget *
kh_record_picker_get_popover (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->popover;
}

KhRecordList *
kh_record_picker_get_list (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return self->list;
}

void
kh_record_picker_choose (KhRecordPicker *self,
                         guint           position)
{
  g_return_if_fail (KH_IS_RECORD_PICKER (self));
  choose_position (self, position);
}

const char *
kh_record_picker_get_status (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return gtk_widget_get_visible (self->status_label) ? gtk_label_get_text (GTK_LABEL (self->status_label)) : NULL;
}

const char *
kh_record_picker_get_label (KhRecordPicker *self)
{
  g_return_val_if_fail (KH_IS_RECORD_PICKER (self), NULL);
  return gtk_label_get_text (GTK_LABEL (self->button_label));
}

/* GObject ------------------------------------------------------------------------------------ */

static void
kh_record_picker_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KhRecordPicker *self = KH_RECORD_PICKER (object);

  switch (prop_id)
    {
    case PROP_SELECTED:
      g_value_set_object (value, self->selected);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_record_picker_dispose (GObject *object)
{
  KhRecordPicker *self = KH_RECORD_PICKER (object);

  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  g_clear_pointer (&self->button, gtk_widget_unparent);
  g_clear_object (&self->shown);
  g_clear_object (&self->list);
  g_clear_object (&self->selected);
  popover_closed_cb (self);
  G_OBJECT_CLASS (kh_record_picker_parent_class)->dispose (object);
}

static void
kh_record_picker_finalize (GObject *object)
{
  KhRecordPicker *self = KH_RECORD_PICKER (object);

  g_clear_object (&self->store);
  g_free (self->none_label);
  G_OBJECT_CLASS (kh_record_picker_parent_class)->finalize (object);
}

static void
kh_record_picker_class_init (KhRecordPickerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = kh_record_picker_get_property;
  object_class->dispose = kh_record_picker_dispose;
  object_class->finalize = kh_record_picker_finalize;

  properties[PROP_SELECTED] = g_param_spec_object ("selected", NULL, NULL, KH_TYPE_RECORD_ITEM,
                                                   G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "kh-record-picker");
}

static void
kh_record_picker_init (KhRecordPicker *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *clamp;
  GtkWidget *button_box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkNoSelection *selection;

  self->shown = gtk_slice_list_model_new (NULL, 0, KH_RECORD_PICKER_MAX_SHOWN);

  self->button_label = gtk_label_new (NULL);
  /* Cut in the middle: a title's end says which unit it is ("Học bổng năm học mới 2025–2026 —
   * Xã Suối Hiệp"), its start what it is; the tooltip has the whole of it. */
  gtk_label_set_ellipsize (GTK_LABEL (self->button_label), PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->button_label), 28);
  gtk_label_set_xalign (GTK_LABEL (self->button_label), 0);
  gtk_box_append (GTK_BOX (button_box), self->button_label);
  gtk_box_append (GTK_BOX (button_box), gtk_image_new_from_icon_name ("pan-down-symbolic"));

  self->button = gtk_menu_button_new ();
  gtk_menu_button_set_child (GTK_MENU_BUTTON (self->button), button_box);
  gtk_widget_set_valign (self->button, GTK_ALIGN_CENTER);
  gtk_widget_set_parent (self->button, GTK_WIDGET (self));

  self->search_entry = gtk_search_entry_new ();
  g_object_set (self->search_entry, "placeholder-text", _("Search, accents optional"), NULL);
  g_signal_connect (self->search_entry, "search-changed", G_CALLBACK (search_changed_cb), self);
  g_signal_connect (self->search_entry, "activate", G_CALLBACK (search_activate_cb), self);
  gtk_box_append (GTK_BOX (box), self->search_entry);

  self->none_button = gtk_button_new ();
  gtk_widget_add_css_class (self->none_button, "flat");
  gtk_widget_set_visible (self->none_button, FALSE);
  g_signal_connect_swapped (self->none_button, "clicked", G_CALLBACK (none_clicked_cb), self);
  gtk_box_append (GTK_BOX (box), self->none_button);

  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  selection = gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->shown)));
  self->list_view = gtk_list_view_new (GTK_SELECTION_MODEL (selection), factory);
  gtk_list_view_set_single_click_activate (GTK_LIST_VIEW (self->list_view), TRUE);
  gtk_widget_add_css_class (self->list_view, "navigation-sidebar");
  g_signal_connect (self->list_view, "activate", G_CALLBACK (activate_cb), self);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), self->list_view);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (scrolled), TRUE);
  gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (scrolled), 320);
  gtk_scrolled_window_set_min_content_width (GTK_SCROLLED_WINDOW (scrolled), 260);
  gtk_box_append (GTK_BOX (box), scrolled);

  self->status_label = gtk_label_new (NULL);
  gtk_label_set_wrap (GTK_LABEL (self->status_label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (self->status_label), 36);
  gtk_label_set_xalign (GTK_LABEL (self->status_label), 0);
  gtk_widget_add_css_class (self->status_label, "dim-label");
  gtk_widget_add_css_class (self->status_label, "caption");
  gtk_box_append (GTK_BOX (box), self->status_label);

  self->popover = gtk_popover_new ();
  /* Clamped to the width place_popover() gives it. */
  clamp = adw_clamp_new ();
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_popover_set_child (GTK_POPOVER (self->popover), clamp);
  g_signal_connect_swapped (self->popover, "show", G_CALLBACK (popover_shown_cb), self);
  g_signal_connect_swapped (self->popover, "closed", G_CALLBACK (popover_closed_cb), self);
  gtk_menu_button_set_popover (GTK_MENU_BUTTON (self->button), self->popover);
  gtk_menu_button_set_create_popup_func (GTK_MENU_BUTTON (self->button), place_popover, self, NULL);
  update_button (self);
}

GtkWidget *
kh_record_picker_new (KhStore    *store,
                      const char *entity)
{
  KhRecordPicker *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_RECORD_PICKER, NULL);
  self->store = g_object_ref (store);
  kh_record_picker_set_entity (self, entity);
  if (entity == NULL)
    {
      gtk_widget_set_sensitive (self->button, FALSE);
      update_status (self);
    }
  return GTK_WIDGET (self);
}
