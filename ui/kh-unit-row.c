/* kh-unit-row.c: a unit's name over a line of detail, as the unit tree and its search show it
 *
 * The tree puts a row inside a GtkTreeExpander, which draws the level and the arrow; a search
 * result puts one inside a GtkListBoxRow. Both read the same: the name, and under it, dimmed,
 * what the unit is ("Commune · 26023 · until 30/06/2025").
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-unit-row.h"

struct _KhUnitRow
{
  GtkBox    parent_instance;

  GtkLabel *title_label;
  GtkLabel *detail_label;
};

G_DEFINE_FINAL_TYPE (KhUnitRow, kh_unit_row, GTK_TYPE_BOX)

static void
kh_unit_row_dispose (GObject *object)
{
  gtk_widget_dispose_template (GTK_WIDGET (object), KH_TYPE_UNIT_ROW);

  G_OBJECT_CLASS (kh_unit_row_parent_class)->dispose (object);
}

static void
kh_unit_row_class_init (KhUnitRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_unit_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-unit-row.ui");
  gtk_widget_class_bind_template_child (widget_class, KhUnitRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, KhUnitRow, detail_label);
}

static void
kh_unit_row_init (KhUnitRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
kh_unit_row_new (void)
{
  return g_object_new (KH_TYPE_UNIT_ROW, NULL);
}

void
kh_unit_row_set_title (KhUnitRow  *self,
                       const char *title)
{
  g_return_if_fail (KH_IS_UNIT_ROW (self));
  gtk_label_set_text (self->title_label, title ? title : "");
}

void
kh_unit_row_set_detail (KhUnitRow  *self,
                        const char *detail)
{
  g_return_if_fail (KH_IS_UNIT_ROW (self));
  gtk_label_set_text (self->detail_label, detail ? detail : "");
}

/* A unit that no longer exists is there for the past years' records: shown, but quieter. */
void
kh_unit_row_set_former (KhUnitRow *self,
                        gboolean   former)
{
  g_return_if_fail (KH_IS_UNIT_ROW (self));
  gtk_widget_set_opacity (GTK_WIDGET (self->title_label), former ? 0.7 : 1.0);
}
