/* kh-attachments-group.c: the files attached to a record, in its editor
 *
 * One row per file: a thumbnail for a photo this computer holds (an icon for a PDF or a file
 * still on the server), its name, type, size and where it is; buttons to open it with the
 * default application and to remove it (a tombstone, as for a record). Files are added with
 * "Add from File…" or dropped from the file manager. A photo may be made smaller before it is
 * kept (the preference "scale-photos", on metered networks by default), so that it costs less
 * to send. A file not here yet is asked for, and comes with the next sync.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "kh-attach.h"
#include "kh-attachments-group.h"
#include "kh-entity.h"
#include "kh-format.h"
#include "kh-settings.h"

/* The longest side of a photo made smaller: a signed list stays readable. */
#define SCALED_SIDE 2048
#define THUMB_SIZE  48

struct _KhAttachmentsGroup
{
  AdwPreferencesGroup  parent_instance;

  KhStore             *store;
  char                *entity;
  char                *owner_id;
  GPtrArray           *rows;
  GtkFileChooserNative *chooser;
};

G_DEFINE_FINAL_TYPE (KhAttachmentsGroup, kh_attachments_group, ADW_TYPE_PREFERENCES_GROUP)

static void reload (KhAttachmentsGroup *self);

static void
show_problem (KhAttachmentsGroup *self,
              const char         *message)
{
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), message);
  gtk_widget_add_css_class (GTK_WIDGET (self), "error");
}

/* Whether photos are made smaller now: on a metered network, unless the preference says no. */
static gboolean
scale_now (void)
{
  g_autoptr(GSettings) settings = kh_settings_new ();

  return (settings == NULL || g_settings_get_boolean (settings, "scale-photos-on-metered"))
         && g_network_monitor_get_network_metered (g_network_monitor_get_default ());
}

/* A smaller JPEG of the photo at @path in a temporary file, or NULL to keep the photo as it is
 * (small enough, not a photo, or not readable here). */
static char *
scaled_copy (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autoptr(GdkPixbuf) oriented = NULL;
  g_autoptr(GdkPixbuf) small = NULL;
  g_autofree char *tmp = NULL;
  int w, h;
  double f;
  int fd;

  pixbuf = gdk_pixbuf_new_from_file (path, NULL);
  if (pixbuf == NULL)
    return NULL;
  oriented = gdk_pixbuf_apply_embedded_orientation (pixbuf);
  w = gdk_pixbuf_get_width (oriented);
  h = gdk_pixbuf_get_height (oriented);
  if (MAX (w, h) <= SCALED_SIDE)
    return NULL;
  f = (double) SCALED_SIDE / MAX (w, h);
  small = gdk_pixbuf_scale_simple (oriented, MAX (1, (int) (w * f)), MAX (1, (int) (h * f)), GDK_INTERP_BILINEAR);
  fd = g_file_open_tmp ("khuyenhoc-photo-XXXXXX.jpg", &tmp, NULL);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!gdk_pixbuf_save (small, tmp, "jpeg", &error, "quality", "85", NULL))
    {
      g_unlink (tmp);
      return NULL;
    }
  return g_steal_pointer (&tmp);
}

/* Attaches @file, made smaller first when photos are; FALSE with the reason shown. */
static gboolean
add_file (KhAttachmentsGroup *self,
          GFile              *file)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_file_get_path (file);
  g_autofree char *name = g_file_get_basename (file);
  g_autofree char *scaled = NULL;
  g_autofree char *id = NULL;

  if (path == NULL)
    {
      show_problem (self, _("Only files on this computer can be attached."));
      return FALSE;
    }
  if (scale_now ())
    scaled = scaled_copy (path);
  id = kh_attach_add (self->store, self->entity, self->owner_id, scaled != NULL ? scaled : path, name, &error);
  if (scaled != NULL)
    g_unlink (scaled);
  if (id == NULL)
    {
      show_problem (self, error->message);
      return FALSE;
    }
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self), NULL);
  gtk_widget_remove_css_class (GTK_WIDGET (self), "error");
  return TRUE;
}

/* Rows ------------------------------------------------------------------------------------- */

static GtkWidget *
thumbnail (KhAttachmentsGroup *self,
           const char         *sha256,
           const char         *type,
           gboolean            here)
{
  GtkWidget *image;

  if (here && g_str_has_prefix (type, "image/"))
    {
      g_autoptr(GBytes) bytes = kh_attach_read (self->store, sha256, 0, (gsize) kh_attach_get_max_size (self->store),
                                                NULL);
      g_autoptr(GdkTexture) texture = bytes != NULL ? gdk_texture_new_from_bytes (bytes, NULL) : NULL;

      if (texture != NULL)
        {
          image = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
          gtk_picture_set_content_fit (GTK_PICTURE (image), GTK_CONTENT_FIT_COVER);
          gtk_widget_set_size_request (image, THUMB_SIZE, THUMB_SIZE);
          gtk_widget_set_valign (image, GTK_ALIGN_CENTER);
          gtk_widget_add_css_class (image, "card");
          gtk_widget_set_overflow (image, GTK_OVERFLOW_HIDDEN);
          return image;
        }
    }
  image = gtk_image_new_from_icon_name (!here ? "folder-download-symbolic"
                                        : g_str_has_prefix (type, "image/") ? "image-x-generic-symbolic"
                                        : "x-office-document-symbolic");
  gtk_image_set_pixel_size (GTK_IMAGE (image), 32);
  gtk_widget_set_size_request (image, THUMB_SIZE, THUMB_SIZE);
  return image;
}

static void
open_clicked_cb (GtkButton          *button,
                 KhAttachmentsGroup *self)
{
  const char *sha256 = g_object_get_data (G_OBJECT (button), "sha256");
  const char *name = g_object_get_data (G_OBJECT (button), "name");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *safe = NULL;
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;

  if (!kh_attach_has_file (self->store, sha256))
    {
      /* Asked for now: it comes with the next sync, even on a metered network. */
      if (!kh_attach_want (self->store, sha256, TRUE, &error))
        show_problem (self, error->message);
      else
        {
          adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (self),
                                                 _("The file will be fetched at the next sync."));
          gtk_widget_activate_action (GTK_WIDGET (self), "win.sync", NULL);
        }
      return;
    }
  /* The store may be sealed: another application reads a copy, in a folder only this user
   * reads, under the file's own name. */
  dir = g_build_filename (g_get_user_cache_dir (), "khuyenhoc", "open", sha256, NULL);
  safe = g_path_get_basename (name != NULL ? name : sha256);
  path = g_build_filename (dir, safe, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0 || !kh_attach_export (self->store, sha256, path, &error))
    {
      show_problem (self, error != NULL ? error->message : g_strerror (errno));
      return;
    }
  uri = g_filename_to_uri (path, NULL, NULL);
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_show_uri (GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))), uri, GDK_CURRENT_TIME);
  G_GNUC_END_IGNORE_DEPRECATIONS
}

static void
remove_clicked_cb (GtkButton          *button,
                   KhAttachmentsGroup *self)
{
  g_autoptr(GError) error = NULL;

  if (!kh_attach_remove (self->store, g_object_get_data (G_OBJECT (button), "id"), &error))
    show_problem (self, error->message);
  reload (self);
}

static GtkWidget *
icon_button (const char *icon,
             const char *tooltip)
{
  GtkWidget *b = gtk_button_new_from_icon_name (icon);

  gtk_widget_set_valign (b, GTK_ALIGN_CENTER);
  gtk_widget_set_tooltip_text (b, tooltip);
  gtk_widget_add_css_class (b, "flat");
  gtk_accessible_update_property (GTK_ACCESSIBLE (b), GTK_ACCESSIBLE_PROPERTY_LABEL, tooltip, -1);
  return b;
}

static GtkWidget *
attachment_row (KhAttachmentsGroup *self,
                json_object        *a)
{
  const char *id = json_object_get_string (json_object_object_get (a, "id"));
  const char *name = json_object_get_string (json_object_object_get (a, "name"));
  const char *sha256 = json_object_get_string (json_object_object_get (a, "sha256"));
  const char *type = json_object_get_string (json_object_object_get (a, "media_type"));
  gboolean here = json_object_get_boolean (json_object_object_get (a, "here"));
  gboolean sent = json_object_get_boolean (json_object_object_get (a, "on_server"));
  const KhField *field = kh_entity_get_field (kh_entity_lookup ("attachment"), "media_type");
  g_autofree char *size = kh_format_size (json_object_get_int64 (json_object_object_get (a, "size")));
  g_autofree char *subtitle = NULL;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *open = icon_button ("document-open-symbolic", _("Open"));
  GtkWidget *remove = icon_button ("user-trash-symbolic", _("Remove"));

  /* TRANSLATORS: an attached file: its type, its size and where it is, e.g. "PDF document ·
   * 1.2 MB · waiting to be sent" */
  subtitle = g_strdup_printf (_("%s · %s · %s"), kh_field_enum_label (field, type), size,
                              here && sent ? _("on this computer and the server")
                              : here ? _("waiting to be sent")
                              : _("on the server; open it to fetch it"));
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), thumbnail (self, sha256, type, here));
  g_object_set_data_full (G_OBJECT (open), "sha256", g_strdup (sha256), g_free);
  g_object_set_data_full (G_OBJECT (open), "name", g_strdup (name), g_free);
  g_object_set_data_full (G_OBJECT (remove), "id", g_strdup (id), g_free);
  g_signal_connect (open, "clicked", G_CALLBACK (open_clicked_cb), self);
  g_signal_connect (remove, "clicked", G_CALLBACK (remove_clicked_cb), self);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), open);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), remove);
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), open);
  gtk_widget_set_name (row, id);
  return row;
}

static void
reload (KhAttachmentsGroup *self)
{
  g_autoptr(GError) error = NULL;
  json_object *list;

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->rows->pdata[i]);
  g_ptr_array_set_size (self->rows, 0);
  list = kh_attach_list (self->store, self->owner_id, &error);
  if (list == NULL)
    {
      show_problem (self, error->message);
      return;
    }
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      GtkWidget *row = attachment_row (self, json_object_array_get_idx (list, i));

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
      g_ptr_array_add (self->rows, row);
    }
  if (self->rows->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _("No files yet: drop a scan or a photo here, or add one from a file."));
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), row);
      g_ptr_array_add (self->rows, row);
    }
  json_object_put (list);
}

/* Adding ----------------------------------------------------------------------------------- */

static void
chooser_response_cb (GtkNativeDialog    *dialog,
                     int                 response,
                     KhAttachmentsGroup *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));

      for (guint i = 0; i < g_list_model_get_n_items (files); i++)
        {
          g_autoptr(GFile) file = g_list_model_get_item (files, i);

          if (!add_file (self, file))
            break;
        }
      reload (self);
    }
  g_clear_object (&self->chooser);
}

static void
add_clicked_cb (GtkButton          *button,
                KhAttachmentsGroup *self)
{
  GtkFileFilter *filter = gtk_file_filter_new ();

  gtk_file_filter_set_name (filter, _("Photos and PDF documents"));
  gtk_file_filter_add_mime_type (filter, "image/jpeg");
  gtk_file_filter_add_mime_type (filter, "image/png");
  gtk_file_filter_add_mime_type (filter, "application/pdf");
  if (kh_attach_heic_readable ())
    gtk_file_filter_add_mime_type (filter, "image/heif");
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  self->chooser = gtk_file_chooser_native_new (_("Attach Files"), GTK_WINDOW (gtk_widget_get_root (GTK_WIDGET (self))),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Attach"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (self->chooser), TRUE);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  G_GNUC_END_IGNORE_DEPRECATIONS
  g_object_unref (filter);
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static gboolean
drop_cb (GtkDropTarget      *target,
         const GValue       *value,
         double              x,
         double              y,
         KhAttachmentsGroup *self)
{
  GSList *files;

  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;
  files = gdk_file_list_get_files (g_value_get_boxed (value));
  for (GSList *l = files; l != NULL; l = l->next)
    if (!add_file (self, l->data))
      break;
  g_slist_free (files);
  reload (self);
  return TRUE;
}

/* Object ----------------------------------------------------------------------------------- */

static void
kh_attachments_group_dispose (GObject *object)
{
  KhAttachmentsGroup *self = KH_ATTACHMENTS_GROUP (object);

  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (kh_attachments_group_parent_class)->dispose (object);
}

static void
kh_attachments_group_finalize (GObject *object)
{
  KhAttachmentsGroup *self = KH_ATTACHMENTS_GROUP (object);

  g_free (self->entity);
  g_free (self->owner_id);
  g_ptr_array_unref (self->rows);
  G_OBJECT_CLASS (kh_attachments_group_parent_class)->finalize (object);
}

static void
kh_attachments_group_class_init (KhAttachmentsGroupClass *klass)
{
  GSList *formats = gdk_pixbuf_get_formats ();

  G_OBJECT_CLASS (klass)->dispose = kh_attachments_group_dispose;
  G_OBJECT_CLASS (klass)->finalize = kh_attachments_group_finalize;
  /* HEIC is taken where this system's image loaders read it, so it can be shown. */
  for (GSList *l = formats; l != NULL; l = l->next)
    {
      g_autofree char *name = gdk_pixbuf_format_get_name (l->data);

      if (g_strcmp0 (name, "heif") == 0 || g_strcmp0 (name, "heic") == 0 || g_strcmp0 (name, "avif/heif") == 0)
        kh_attach_set_heic_readable (TRUE);
    }
  g_slist_free (formats);
}

static void
kh_attachments_group_init (KhAttachmentsGroup *self)
{
  self->rows = g_ptr_array_new ();
}

/* The files attached to the record @owner_id of @entity. */
GtkWidget *
kh_attachments_group_new (KhStore    *store,
                          const char *entity,
                          const char *owner_id)
{
  KhAttachmentsGroup *self = g_object_new (KH_TYPE_ATTACHMENTS_GROUP, NULL);
  GtkWidget *add = gtk_button_new_with_mnemonic (_("_Add from File…"));
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  self->store = g_object_ref (store);
  self->entity = g_strdup (entity);
  self->owner_id = g_strdup (owner_id);
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self), _("Attachments"));
  gtk_widget_add_css_class (add, "flat");
  g_signal_connect (add, "clicked", G_CALLBACK (add_clicked_cb), self);
  adw_preferences_group_set_header_suffix (ADW_PREFERENCES_GROUP (self), add);
  g_signal_connect (drop, "drop", G_CALLBACK (drop_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (drop));
  reload (self);
  return GTK_WIDGET (self);
}

/* Attaches the file at @path as a drop would (tests and screenshots). */
gboolean
kh_attachments_group_add_path (KhAttachmentsGroup *self,
                               const char         *path)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  gboolean ok = add_file (self, file);

  reload (self);
  return ok;
}

guint
kh_attachments_group_get_n_files (KhAttachmentsGroup *self)
{
  guint n = 0;

  for (guint i = 0; i < self->rows->len; i++)
    if (!gtk_widget_has_css_class (self->rows->pdata[i], "dim-label"))
      n++;
  return n;
}
