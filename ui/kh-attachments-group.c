/* kh-attachments-group.c: the files attached to a record, in its editor
 *
 * One row per file: a thumbnail for a photo this computer holds (an icon for a PDF or a file
 * still on the server), its name, type, size and where it is; buttons to open it with the
 * default application and to remove it (a tombstone, as for a record; the local file goes
 * when nothing else needs it). Files are added with "Add from File…" or dropped from the file
 * manager. A photo may be made smaller before it is kept (the preference
 * "scale-photos-on-metered", on metered networks by default), so that it costs less to send.
 * A file not here yet is asked for when opened, and comes with the next sync; "Keep files on
 * this computer" fetches the record's files with every sync (on a metered network only when
 * the officer asks, on the Sync page). The photos (the scan of a signed list) can also be
 * shown large beside the record (kh_attachments_group_get_photos()).
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
#include "kh-sync-engine.h"

/* The longest side of a photo made smaller: a signed list stays readable. */
#define SCALED_SIDE 2048
#define THUMB_SIZE  48
/* The height of a photo shown beside its record. */
#define PHOTO_HEIGHT 132

struct _KhAttachmentsGroup
{
  AdwPreferencesGroup  parent_instance;

  KhStore             *store;
  char                *entity;
  char                *owner_id;
  GPtrArray           *rows;
  GtkFileChooserNative *chooser;
  GtkWidget           *keep_row;
  GtkSwitch           *keep_switch;
  GtkWidget           *photos;     /* the photos shown beside the record */
  GtkBox              *photos_box;
  GHashTable          *textures;   /* sha256 → GdkTexture, the photos here, for one reload */
};

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (KhAttachmentsGroup, kh_attachments_group, ADW_TYPE_PREFERENCES_GROUP)

static void reload  (KhAttachmentsGroup *self);
static void changed (KhAttachmentsGroup *self);

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
         && kh_sync_network_metered ();
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
      GdkTexture *texture = g_hash_table_lookup (self->textures, sha256);

      if (texture == NULL)
        {
          g_autoptr(GBytes) bytes = kh_attach_read (self->store, sha256, 0,
                                                    (gsize) kh_attach_get_max_size (self->store), NULL);

          texture = bytes != NULL ? gdk_texture_new_from_bytes (bytes, NULL) : NULL;
          if (texture != NULL)
            g_hash_table_insert (self->textures, g_strdup (sha256), texture);
        }
      if (texture != NULL)
        {
          /* The middle square, at twice the size for a high-density screen: a picture would
           * ask for the photo's own shape, and the rows' names would not line up. */
          g_autoptr(GdkPixbuf) full = gdk_pixbuf_get_from_texture (texture);
          int w = gdk_pixbuf_get_width (full);
          int h = gdk_pixbuf_get_height (full);
          int side = MIN (w, h);
          g_autoptr(GdkPixbuf) square = gdk_pixbuf_new_subpixbuf (full, (w - side) / 2, (h - side) / 2, side, side);
          g_autoptr(GdkPixbuf) small = gdk_pixbuf_scale_simple (square, THUMB_SIZE * 2, THUMB_SIZE * 2,
                                                                GDK_INTERP_BILINEAR);
          g_autoptr(GdkTexture) thumb = gdk_texture_new_for_pixbuf (small);

          image = gtk_image_new_from_paintable (GDK_PAINTABLE (thumb));
          gtk_image_set_pixel_size (GTK_IMAGE (image), THUMB_SIZE);
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

/* Asks the main window for a sync: the group is in a record's editor, a window of its own
 * (an entry's editor may be in a list's, whose main window is one further up). */
static void
request_sync (KhAttachmentsGroup *self)
{
  GtkWidget *w = GTK_WIDGET (self);

  while (w != NULL && !gtk_widget_activate_action (w, "win.sync", NULL))
    {
      GtkRoot *root = gtk_widget_get_root (w);

      w = GTK_IS_WINDOW (root) ? GTK_WIDGET (gtk_window_get_transient_for (GTK_WINDOW (root))) : NULL;
    }
}

static void
open_file (KhAttachmentsGroup *self,
           const char         *sha256,
           const char         *name)
{
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
          request_sync (self);
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
open_clicked_cb (GtkButton          *button,
                 KhAttachmentsGroup *self)
{
  open_file (self, g_object_get_data (G_OBJECT (button), "sha256"), g_object_get_data (G_OBJECT (button), "name"));
}

static void
remove_clicked_cb (GtkButton          *button,
                   KhAttachmentsGroup *self)
{
  g_autoptr(GError) error = NULL;

  if (!kh_attach_remove (self->store, g_object_get_data (G_OBJECT (button), "id"), &error))
    show_problem (self, error->message);
  changed (self);
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
                              : gtk_switch_get_active (self->keep_switch) && kh_sync_network_metered ()
                                ? _("on the server; waits for a network that is not metered")
                              : gtk_switch_get_active (self->keep_switch) ? _("on the server; comes with the next sync")
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
photo_clicked_cb (GtkButton          *button,
                  KhAttachmentsGroup *self)
{
  open_file (self, g_object_get_data (G_OBJECT (button), "sha256"), g_object_get_data (G_OBJECT (button), "name"));
}

static GtkCssProvider *
photo_css (void)
{
  static GtkCssProvider *provider;

  if (provider == NULL)
    {
      provider = gtk_css_provider_new ();
      gtk_css_provider_load_from_data (provider, "button { padding: 0; min-width: 0; min-height: 0; }", -1);
    }
  return provider;
}

/* The photos this computer holds, large, beside the record: a scanned list next to the list. */
static void
reload_photos (KhAttachmentsGroup *self,
               json_object        *list)
{
  GtkWidget *child;
  guint n = 0;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->photos_box))) != NULL)
    gtk_box_remove (self->photos_box, child);
  for (size_t i = 0; i < json_object_array_length (list); i++)
    {
      json_object *a = json_object_array_get_idx (list, i);
      const char *sha256 = json_object_get_string (json_object_object_get (a, "sha256"));
      const char *name = json_object_get_string (json_object_object_get (a, "name"));
      GdkTexture *texture = g_hash_table_lookup (self->textures, sha256);
      GtkWidget *picture;
      GtkWidget *button;
      int w;

      if (texture == NULL)
        continue;
      w = PHOTO_HEIGHT * gdk_texture_get_width (texture) / MAX (1, gdk_texture_get_height (texture));
      picture = gtk_picture_new_for_paintable (GDK_PAINTABLE (texture));
      gtk_picture_set_content_fit (GTK_PICTURE (picture), GTK_CONTENT_FIT_COVER);
      gtk_picture_set_can_shrink (GTK_PICTURE (picture), TRUE);
      gtk_widget_set_size_request (picture, CLAMP (w, PHOTO_HEIGHT / 2, PHOTO_HEIGHT * 2), PHOTO_HEIGHT);
      gtk_widget_add_css_class (picture, "card");
      gtk_widget_set_overflow (picture, GTK_OVERFLOW_HIDDEN);
      button = gtk_button_new ();
      gtk_button_set_child (GTK_BUTTON (button), picture);
      gtk_widget_add_css_class (button, "flat");
      /* The photo is the button: no padding around it, its edge in line with the title's. */
      gtk_style_context_add_provider (gtk_widget_get_style_context (button), GTK_STYLE_PROVIDER (photo_css ()),
                                      GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      gtk_widget_set_tooltip_text (button, name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
      g_object_set_data_full (G_OBJECT (button), "sha256", g_strdup (sha256), g_free);
      g_object_set_data_full (G_OBJECT (button), "name", g_strdup (name), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (photo_clicked_cb), self);
      gtk_box_append (self->photos_box, button);
      n++;
    }
  gtk_widget_set_visible (self->photos, n > 0);
}

static void
reload (KhAttachmentsGroup *self)
{
  g_autoptr(GError) error = NULL;
  json_object *list;

  for (guint i = 0; i < self->rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->rows->pdata[i]);
  g_ptr_array_set_size (self->rows, 0);
  if (gtk_widget_get_parent (self->keep_row) != NULL)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self), self->keep_row);
  g_hash_table_remove_all (self->textures);
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
  /* Last, under the files it is about. */
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self), self->keep_row);
  reload_photos (self, list);
  json_object_put (list);
}

static void
changed (KhAttachmentsGroup *self)
{
  reload (self);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
keep_active_cb (GtkSwitch          *sw,
                GParamSpec         *pspec,
                KhAttachmentsGroup *self)
{
  g_autoptr(GError) error = NULL;
  gboolean keep = gtk_switch_get_active (sw);

  if (keep == kh_attach_is_kept_offline (self->store, self->owner_id))
    return;
  if (!kh_attach_keep_offline (self->store, self->owner_id, keep, &error))
    {
      show_problem (self, error->message);
      return;
    }
  reload (self);
  /* The files come with a sync; on a metered network they wait there, on the Sync page. */
  if (keep)
    request_sync (self);
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
      changed (self);
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
  changed (self);
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
  g_clear_object (&self->keep_row);
  g_clear_object (&self->photos);
  g_hash_table_remove_all (self->textures);
  G_OBJECT_CLASS (kh_attachments_group_parent_class)->dispose (object);
}

static void
kh_attachments_group_finalize (GObject *object)
{
  KhAttachmentsGroup *self = KH_ATTACHMENTS_GROUP (object);

  g_free (self->entity);
  g_free (self->owner_id);
  g_ptr_array_unref (self->rows);
  g_hash_table_unref (self->textures);
  G_OBJECT_CLASS (kh_attachments_group_parent_class)->finalize (object);
}

static void
kh_attachments_group_class_init (KhAttachmentsGroupClass *klass)
{
  GSList *formats = gdk_pixbuf_get_formats ();

  G_OBJECT_CLASS (klass)->dispose = kh_attachments_group_dispose;
  G_OBJECT_CLASS (klass)->finalize = kh_attachments_group_finalize;
  /* Files were added or removed (the photos beside the record follow). */
  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                                          NULL, G_TYPE_NONE, 0);
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
  GtkWidget *scrolled;

  self->rows = g_ptr_array_new ();
  self->textures = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);

  self->keep_row = g_object_ref_sink (adw_action_row_new ());
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->keep_row), _("Keep Files on This Computer"));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (self->keep_row),
                               _("Fetched with every sync, not only when opened; on a metered network only when you ask"));
  self->keep_switch = GTK_SWITCH (gtk_switch_new ());
  gtk_widget_set_valign (GTK_WIDGET (self->keep_switch), GTK_ALIGN_CENTER);
  adw_action_row_add_suffix (ADW_ACTION_ROW (self->keep_row), GTK_WIDGET (self->keep_switch));
  adw_action_row_set_activatable_widget (ADW_ACTION_ROW (self->keep_row), GTK_WIDGET (self->keep_switch));
  gtk_widget_set_name (self->keep_row, "keep-offline");

  /* The photos, large, for the record's page to place beside the record. */
  self->photos = g_object_ref_sink (adw_preferences_group_new ());
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (self->photos), _("Photos"));
  self->photos_box = GTK_BOX (gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12));
  scrolled = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), GTK_WIDGET (self->photos_box));
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->photos), scrolled);
  gtk_widget_set_visible (self->photos, FALSE);
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
  gtk_switch_set_active (self->keep_switch, kh_attach_is_kept_offline (store, owner_id));
  g_signal_connect (self->keep_switch, "notify::active", G_CALLBACK (keep_active_cb), self);
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

  changed (self);
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

/* The switch that keeps the record's files on this computer. */
GtkSwitch *
kh_attachments_group_get_keep_switch (KhAttachmentsGroup *self)
{
  return self->keep_switch;
}

/* The record's photos this computer holds, shown large: a widget for the record's page to
 * place (an award list's, beside the list), hidden while there is none. */
GtkWidget *
kh_attachments_group_get_photos (KhAttachmentsGroup *self)
{
  return self->photos;
}
