/* kh-list-page-private.h: what the list page's files share (kh-list-page.c, kh-list-filters.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-list-page.h"

G_BEGIN_DECLS

struct _KhListPage
{
  GtkBox              parent_instance;

  KhStore            *store;
  GStrv               entities;
  char               *fixed_field;
  json_object        *fixed_value;
  gboolean            self_assessment;
  gboolean            loaded;

  const KhEntity     *entity;
  KhRecordList       *list;
  GtkSingleSelection *selection;
  GtkColumnViewColumn *probed;      /* see sorter_changed_cb() */
  gulong              n_items_id;
  gulong              sorter_id;
  gulong              selected_id;
  char               *keep_id;      /* see list_before_change_cb() */
  gboolean            keep_selected;
  gboolean            searching;
  guint               keep_rows;
  guint               keep_source;
  gboolean            narrow;       /* see apply_narrow() */
  gboolean            narrow_pending; /* the window folded while the page was not shown */
  gboolean            rows_pending;   /* the rows changed while the page was not shown */
  guint               fit_source;     /* see kh_list_page_size_allocate() */
  gulong              folded_id;

  GtkDropDown        *entity_dropdown;
  GtkSearchEntry     *search_entry;
  GtkButton          *assess_button;
  GtkButton          *recognize_button;
  GtkButton          *new_button;
  GtkBox             *filter_box;
  GtkStack           *view_stack;
  GtkColumnView      *column_view;
  AdwStatusPage      *empty_page;
  GtkLabel           *count_label;
};

/* kh-list-page.c */
gboolean     _kh_list_page_is_fixed            (KhListPage    *self,
                                                const KhField *field);
void         _kh_list_page_update_state        (KhListPage    *self);

/* kh-list-filters.c */
void         _kh_list_page_build_filters       (KhListPage    *self);
GtkWidget   *_kh_list_page_find_filter_widget  (KhListPage    *self,
                                                const char    *key);
GtkDropDown *_kh_list_page_find_filter         (KhListPage    *self,
                                                const char    *key);
json_object *_kh_list_page_selected_value      (GtkDropDown   *dropdown);

G_END_DECLS
