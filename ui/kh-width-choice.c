/* kh-width-choice.c: one of two layouts of the same content, the wide one where it fits
 *
 * A table of five years side by side is read across on a laptop and down on a phone: the
 * first child is shown when the width given allows it its natural width, the second when not.
 * libadwaita 1.2 has no breakpoints, and its AdwSqueezer, not homogeneous, asks for the
 * height of the child it showed before the width changed: on a phone the years, taller one
 * under the other, were drawn over the heading above them. Here the height asked for is that
 * of the child a width would show (height for width), so nothing is drawn beyond it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-width-choice.h"

struct _KhWidthChoice
{
  GtkWidget  parent_instance;
  GtkWidget *shown;
};

static void kh_width_choice_buildable_init (GtkBuildableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhWidthChoice, kh_width_choice, GTK_TYPE_WIDGET,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_BUILDABLE, kh_width_choice_buildable_init))

static GtkBuildableIface *parent_buildable_iface;

/* The child @width shows: the first while its natural width fits, the last otherwise. */
static GtkWidget *
child_for_width (KhWidthChoice *self,
                 int            width)
{
  GtkWidget *wide = gtk_widget_get_first_child (GTK_WIDGET (self));
  GtkWidget *narrow = gtk_widget_get_last_child (GTK_WIDGET (self));
  int natural;

  if (wide == NULL || narrow == wide)
    return wide;
  gtk_widget_measure (wide, GTK_ORIENTATION_HORIZONTAL, -1, NULL, &natural, NULL, NULL);
  return width < 0 || natural <= width ? wide : narrow;
}

static GtkSizeRequestMode
kh_width_choice_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
kh_width_choice_measure (GtkWidget      *widget,
                         GtkOrientation  orientation,
                         int             for_size,
                         int            *minimum,
                         int            *natural,
                         int            *minimum_baseline,
                         int            *natural_baseline)
{
  KhWidthChoice *self = KH_WIDTH_CHOICE (widget);
  GtkWidget *wide = gtk_widget_get_first_child (widget);
  GtkWidget *narrow = gtk_widget_get_last_child (widget);

  *minimum = *natural = 0;
  if (wide == NULL)
    return;
  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* As narrow as the narrow layout, as wide as the wide one would like. */
      int wide_min, wide_nat, narrow_min, narrow_nat;

      gtk_widget_measure (wide, orientation, -1, &wide_min, &wide_nat, NULL, NULL);
      gtk_widget_measure (narrow, orientation, -1, &narrow_min, &narrow_nat, NULL, NULL);
      *minimum = MIN (wide_min, narrow_min);
      *natural = MAX (wide_nat, narrow_nat);
      return;
    }
  gtk_widget_measure (child_for_width (self, for_size), orientation, for_size, minimum, natural, NULL, NULL);
}

static void
kh_width_choice_size_allocate (GtkWidget *widget,
                               int        width,
                               int        height,
                               int        baseline)
{
  KhWidthChoice *self = KH_WIDTH_CHOICE (widget);
  GtkWidget *show = child_for_width (self, width);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    gtk_widget_set_child_visible (child, child == show);
  self->shown = show;
  if (show != NULL)
    gtk_widget_allocate (show, width, height, -1, NULL);
}

GtkWidget *
kh_width_choice_get_shown (KhWidthChoice *self)
{
  g_return_val_if_fail (KH_IS_WIDTH_CHOICE (self), NULL);
  return self->shown;
}

static void
kh_width_choice_add_child (GtkBuildable *buildable,
                           GtkBuilder   *builder,
                           GObject      *child,
                           const char   *type)
{
  if (GTK_IS_WIDGET (child))
    gtk_widget_set_parent (GTK_WIDGET (child), GTK_WIDGET (buildable));
  else
    parent_buildable_iface->add_child (buildable, builder, child, type);
}

static void
kh_width_choice_buildable_init (GtkBuildableIface *iface)
{
  parent_buildable_iface = g_type_interface_peek_parent (iface);
  iface->add_child = kh_width_choice_add_child;
}

static void
kh_width_choice_dispose (GObject *object)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (object))) != NULL)
    gtk_widget_unparent (child);
  G_OBJECT_CLASS (kh_width_choice_parent_class)->dispose (object);
}

static void
kh_width_choice_class_init (KhWidthChoiceClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_width_choice_dispose;
  widget_class->get_request_mode = kh_width_choice_get_request_mode;
  widget_class->measure = kh_width_choice_measure;
  widget_class->size_allocate = kh_width_choice_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "kh-width-choice");
}

static void
kh_width_choice_init (KhWidthChoice *self)
{
}

GtkWidget *
kh_width_choice_new (void)
{
  return g_object_new (KH_TYPE_WIDTH_CHOICE, NULL);
}
