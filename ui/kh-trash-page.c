/* kh-trash-page.c: the records deleted in the last months, each restored in one click
 *
 * The list is read on a worker thread with a connection of its own (it reads every table, see
 * kh-store-trash.c), each time the page is shown; a restore is one write on the window's store.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-entity.h"
#include "kh-store-trash.h"
#include "kh-trash-page.h"

#define TRASH_LIMIT 500

struct _KhTrashPage
{
  AdwBin        parent_instance;

  KhStore      *store;
  GtkStack     *stack;
  GtkListBox   *list;
  GCancellable *cancellable;
  guint         n_items;
};

G_DEFINE_FINAL_TYPE (KhTrashPage, kh_trash_page, ADW_TYPE_BIN)

enum
{
  SIGNAL_LOADED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
toast (KhTrashPage *self,
       const char  *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), adw_toast_new (text));
}

static void
restore_clicked_cb (GtkButton   *button,
                    KhTrashPage *self)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), GTK_TYPE_LIST_BOX_ROW);
  const char *entity = g_object_get_data (G_OBJECT (row), "entity");
  const char *id = g_object_get_data (G_OBJECT (row), "id");
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!kh_store_restore (self->store, entity, id, &error))
    {
      toast (self, error->message);
      return;
    }
  text = g_strdup_printf (_("Restored “%s”."), adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row)));
  gtk_list_box_remove (self->list, row);
  self->n_items--;
  if (self->n_items == 0)
    gtk_stack_set_visible_child_name (self->stack, "empty");
  toast (self, text);
}

/* "12/03/2026 14:05" in local time, from the store's UTC time. */
static char *
local_time (const char *iso)
{
  g_autoptr(GDateTime) utc = iso != NULL ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%d/%m/%Y %H:%M") : g_strdup (iso ? iso : "");
}

static GtkWidget *
make_row (KhTrashPage *self,
          json_object *item)
{
  const char *entity_name = json_object_get_string (json_object_object_get (item, "entity"));
  const char *title = json_object_get_string (json_object_object_get (item, "title"));
  const char *by = json_object_get_string (json_object_object_get (item, "deleted_by"));
  const KhEntity *entity = kh_entity_lookup (entity_name);
  g_autofree char *when = local_time (json_object_get_string (json_object_object_get (item, "deleted_at")));
  g_autofree char *subtitle = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_label (_("Restore"));
  const char *label = entity != NULL ? _(entity->label) : entity_name;

  if (by != NULL && *by != '\0')
    subtitle = g_strdup_printf (_("%s · deleted %s by %s"), label, when, by);
  else
    subtitle = g_strdup_printf (_("%s · deleted %s"), label, when);
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title != NULL && *title != '\0' ? title : label);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (button, "flat");
  gtk_widget_set_tooltip_text (button, _("Put the record back"));
  g_signal_connect (button, "clicked", G_CALLBACK (restore_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
  g_object_set_data_full (G_OBJECT (row), "entity", g_strdup (entity_name), g_free);
  g_object_set_data_full (G_OBJECT (row), "id",
                          g_strdup (json_object_get_string (json_object_object_get (item, "id"))), g_free);
  return row;
}

static void
load_thread (GTask        *task,
             gpointer      source,
             gpointer      data,
             GCancellable *cancellable)
{
  const char *path = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhStore) store = kh_store_open_for_job (path, &error);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) then = g_date_time_add_days (now, -KH_STORE_TRASH_DAYS);
  g_autofree char *since = g_date_time_format_iso8601 (then);
  json_object *list;

  if (store == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  list = kh_store_list_trash (store, since, TRASH_LIMIT, &error);
  if (list == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_pointer (task, list, (GDestroyNotify) json_object_put);
}

static void
loaded_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  g_autoptr(GError) error = NULL;
  json_object *list = g_task_propagate_pointer (G_TASK (result), &error);
  KhTrashPage *self;
  GtkWidget *child;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = KH_TRASH_PAGE (source);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
  self->n_items = 0;
  if (list == NULL)
    toast (self, error->message);
  for (size_t i = 0; list != NULL && i < json_object_array_length (list); i++)
    {
      gtk_list_box_append (self->list, make_row (self, json_object_array_get_idx (list, i)));
      self->n_items++;
    }
  gtk_stack_set_visible_child_name (self->stack, self->n_items > 0 ? "list" : "empty");
  if (list != NULL)
    json_object_put (list);
  g_signal_emit (self, signals[SIGNAL_LOADED], 0);
}

void
kh_trash_page_reload (KhTrashPage *self)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (KH_IS_TRASH_PAGE (self));

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  task = g_task_new (self, self->cancellable, loaded_cb, NULL);
  g_task_set_task_data (task, g_strdup (kh_store_get_path (self->store)), g_free);
  g_task_run_in_thread (task, load_thread);
}

guint
kh_trash_page_get_n_items (KhTrashPage *self)
{
  g_return_val_if_fail (KH_IS_TRASH_PAGE (self), 0);
  return self->n_items;
}

static void
kh_trash_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kh_trash_page_parent_class)->map (widget);
  kh_trash_page_reload (KH_TRASH_PAGE (widget));
}

static void
kh_trash_page_dispose (GObject *object)
{
  KhTrashPage *self = KH_TRASH_PAGE (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (kh_trash_page_parent_class)->dispose (object);
}

static void
kh_trash_page_class_init (KhTrashPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_trash_page_dispose;
  widget_class->map = kh_trash_page_map;
  signals[SIGNAL_LOADED] = g_signal_new ("loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                         NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
kh_trash_page_init (KhTrashPage *self)
{
  GtkWidget *status = adw_status_page_new ();
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *intro = gtk_label_new (NULL);
  g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                        "Records deleted in the last %d day, on this computer "
                                                        "or by others. Restoring one puts it back for everyone "
                                                        "at the next sync.",
                                                        "Records deleted in the last %d days, on this computer "
                                                        "or by others. Restoring one puts it back for everyone "
                                                        "at the next sync.", KH_STORE_TRASH_DAYS),
                                           KH_STORE_TRASH_DAYS);

  self->stack = GTK_STACK (gtk_stack_new ());
  self->list = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list), "boxed-list");
  gtk_label_set_wrap (GTK_LABEL (intro), TRUE);
  gtk_label_set_xalign (GTK_LABEL (intro), 0);
  gtk_label_set_text (GTK_LABEL (intro), text);
  gtk_widget_add_css_class (intro, "dim-label");
  gtk_box_append (GTK_BOX (box), intro);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->list));
  gtk_widget_set_margin_top (box, 24);
  gtk_widget_set_margin_bottom (box, 24);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  adw_clamp_set_child (ADW_CLAMP (clamp), box);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (status), "user-trash-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (status), _("The Trash is empty"));
  adw_status_page_set_description (ADW_STATUS_PAGE (status), text);

  gtk_stack_add_named (self->stack, status, "empty");
  gtk_stack_add_named (self->stack, scrolled, "list");
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->stack));
}

GtkWidget *
kh_trash_page_new (KhStore *store)
{
  KhTrashPage *self = g_object_new (KH_TYPE_TRASH_PAGE, NULL);

  self->store = g_object_ref (store);
  return GTK_WIDGET (self);
}
