/* test-attachments.c: the Attachments group of the record editor, and files on the Sync page
 *
 * - a person's editor has the group, a new record's and a unit's have none;
 * - files added show one row each, a photo with its thumbnail; a file of another type is
 *   refused with the reason shown in the group; removing one leaves a tombstone;
 * - the Sync page says how many files wait and how large, with the progress while syncing;
 * - "Keep Files on This Computer" marks the record so; on a metered network its files wait, the
 *   Sync page says so, and "Download Now" asks for them even there;
 * - an award list's page shows its photos above its entries;
 * - on a metered network a large photo is made smaller before it is kept;
 * - sizes are in the reader's words ("832 byte" in Vietnamese, not GLib's "bytes").
 * With KH_SCREENSHOT_DIR set, the editor, the Sync page and an award list's page are saved
 * there as PNG.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "kh-attach.h"
#include "kh-attachments-group.h"
#include "kh-entity.h"
#include "kh-format.h"
#include "kh-record-editor.h"
#include "kh-screenshot.h"
#include "kh-sqlite.h"
#include "kh-store-sql.h"
#include "kh-sync-client.h"
#include "kh-sync-page.h"
#include "kh-test-store.h"
#include "kh-ui-test-private.h"

/* A sync engine in the middle of a sync, 40 % through. */
#define KH_TYPE_BUSY_CLIENT (kh_busy_client_get_type ())
G_DECLARE_FINAL_TYPE (KhBusyClient, kh_busy_client, KH, BUSY_CLIENT, GObject)

struct _KhBusyClient
{
  GObject parent_instance;
};

static void kh_busy_client_iface_init (KhSyncClientInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (KhBusyClient, kh_busy_client, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (KH_TYPE_SYNC_CLIENT, kh_busy_client_iface_init))

enum { BUSY_PROP_0, BUSY_PROP_STATE, BUSY_PROP_PROGRESS, BUSY_PROP_LAST_SYNC, BUSY_PROP_MESSAGE };

static void
kh_busy_client_iface_init (KhSyncClientInterface *iface)
{
}

static void
kh_busy_client_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  switch (prop_id)
    {
    case BUSY_PROP_STATE:
      g_value_set_enum (value, KH_SYNC_CLIENT_STATE_SYNCING);
      break;
    case BUSY_PROP_PROGRESS:
      g_value_set_double (value, 0.4);
      break;
    case BUSY_PROP_LAST_SYNC:
      g_value_set_boxed (value, NULL);
      break;
    case BUSY_PROP_MESSAGE:
      g_value_set_string (value, NULL);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_busy_client_class_init (KhBusyClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->get_property = kh_busy_client_get_property;
  g_object_class_override_property (object_class, BUSY_PROP_STATE, "state");
  g_object_class_override_property (object_class, BUSY_PROP_PROGRESS, "progress");
  g_object_class_override_property (object_class, BUSY_PROP_LAST_SYNC, "last-sync");
  g_object_class_override_property (object_class, BUSY_PROP_MESSAGE, "message");
}

static void
kh_busy_client_init (KhBusyClient *self)
{
}

static void
run_idle (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

static void
screenshot (GtkWidget  *widget,
            const char *name)
{
  const char *dir = g_getenv ("KH_SCREENSHOT_DIR");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    return;
  g_mkdir_with_parents (dir, 0755);
  path = g_build_filename (dir, name, NULL);
  kh_widget_wait_for_paint (widget, 3);
  g_assert_true (kh_widget_save_png (widget, path, &error));
  g_assert_no_error (error);
}

/* A real photo (a gradient, so the thumbnail shows something) saved as @name in @dir. */
static char *
make_photo_sized (const char *dir,
                  const char *name,
                  guint32     tint,
                  int         width,
                  int         height)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, width, height);
  guint8 *p = gdk_pixbuf_get_pixels (pixbuf);
  int stride = gdk_pixbuf_get_rowstride (pixbuf);
  char *path = g_build_filename (dir, name, NULL);

  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *px = p + y * stride + x * 3;

        px[0] = (guint8) ((tint >> 16) & 0xff) ^ (guint8) x;
        px[1] = (guint8) ((tint >> 8) & 0xff) ^ (guint8) y;
        px[2] = (guint8) (tint & 0xff);
      }
  g_assert_true (gdk_pixbuf_save (pixbuf, path, g_str_has_suffix (name, ".png") ? "png" : "jpeg", NULL, NULL));
  return path;
}

static char *
make_photo (const char *dir,
            const char *name,
            guint32     tint)
{
  return make_photo_sized (dir, name, tint, 320, 240);
}

/* An attachment of @owner as if pulled from the server: its record here, its file not. */
static char *
remote_attachment (KhStore    *store,
                   const char *entity,
                   const char *owner,
                   const char *name,
                   gint64      size)
{
  g_autoptr(GError) error = NULL;
  json_object *o = kh_store_get (store, entity, owner, &error);
  json_object *values = json_object_new_object ();
  g_autofree char *hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, name, -1);
  char *id;
  sqlite3_stmt *stmt;

  json_object_object_add (values, "owner_entity", json_object_new_string (entity));
  json_object_object_add (values, "owner_id", json_object_new_string (owner));
  json_object_object_add (values, "org_unit_id", json_object_get (json_object_object_get (o, "org_unit_id")));
  json_object_object_add (values, "name", json_object_new_string (name));
  json_object_object_add (values, "media_type", json_object_new_string ("image/jpeg"));
  json_object_object_add (values, "size", json_object_new_int64 (size));
  json_object_object_add (values, "sha256", json_object_new_string (hash));
  id = kh_store_create (store, "attachment", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  json_object_put (o);
  /* The server has it: a version, and its bytes there only. */
  stmt = kh_store_prepare (store, "UPDATE attachment SET version = 7 WHERE id = ?1", &error);
  g_assert_no_error (error);
  sqlite3_bind_text (stmt, 1, id, -1, SQLITE_TRANSIENT);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_DONE);
  sqlite3_reset (stmt);
  return id;
}

static void
count_cb (GSimpleAction *action,
          GVariant      *parameter,
          gpointer       data)
{
  (*(int *) data)++;
}

static void
test_editor_and_sync_page (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(GError) error = NULL;
  json_object *values = kh_test_valid_record (kh_entity_lookup ("person"), store, FALSE);
  g_autofree char *person = NULL;
  g_autofree char *photo1 = make_photo (dir, "danh-sach-ky-nhan.jpg", 0x3070c0);
  g_autofree char *photo2 = make_photo (dir, "bien-lai.png", 0xc07030);
  g_autofree char *pdf = g_build_filename (dir, "quyet-dinh-cong-nhan.pdf", NULL);
  g_autofree char *exe = g_build_filename (dir, "setup.jpg", NULL);
  GtkWidget *editor;
  GtkWidget *group;
  GtkWidget *page;
  GtkWidget *window;
  GtkWidget *parent = NULL;
  g_autoptr(KhBusyClient) client = g_object_new (KH_TYPE_BUSY_CLIENT, NULL);
  json_object *list;
  const char *description;

  json_object_object_add (values, "full_name", json_object_new_string ("Nguyễn Thị Hoa"));
  person = kh_store_create (store, "person", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  g_assert_true (g_file_set_contents (pdf, "%PDF-1.4\n% Quyết định công nhận gia đình học tập\n", -1, NULL));
  g_assert_true (g_file_set_contents (exe, "MZ\x90 a program named like a photo", -1, NULL));

  /* A new record, and a kind of record that takes no files, have no group. */
  editor = kh_record_editor_new (store, "person", NULL, NULL);
  g_assert_null (kh_record_editor_get_attachments (KH_RECORD_EDITOR (editor)));
  gtk_window_destroy (GTK_WINDOW (editor));

  editor = kh_record_editor_new (store, "person", person, NULL);
  group = kh_record_editor_get_attachments (KH_RECORD_EDITOR (editor));
  g_assert_nonnull (group);
  g_assert_cmpuint (kh_attachments_group_get_n_files (KH_ATTACHMENTS_GROUP (group)), ==, 0);
  g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), photo1));
  g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), photo2));
  g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), pdf));
  g_assert_cmpuint (kh_attachments_group_get_n_files (KH_ATTACHMENTS_GROUP (group)), ==, 3);
  /* Refused from its content, whatever its name; the reason is shown. */
  g_assert_false (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), exe));
  description = adw_preferences_group_get_description (ADW_PREFERENCES_GROUP (group));
  g_assert_nonnull (description);
  g_assert_nonnull (strstr (description, "setup.jpg"));
  g_assert_cmpuint (kh_attachments_group_get_n_files (KH_ATTACHMENTS_GROUP (group)), ==, 3);
  /* Keep offline: the record is marked, and unmarked; marking it asks the main window (the
   * editor's parent) for a sync. */
  {
    g_autoptr(GSimpleActionGroup) actions = g_simple_action_group_new ();
    g_autoptr(GSimpleAction) sync = g_simple_action_new ("sync", NULL);
    int syncs = 0;

    g_signal_connect (sync, "activate", G_CALLBACK (count_cb), &syncs);
    g_action_map_add_action (G_ACTION_MAP (actions), G_ACTION (sync));
    parent = gtk_window_new ();
    gtk_widget_insert_action_group (parent, "win", G_ACTION_GROUP (actions));
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (parent));
    g_assert_false (kh_attach_is_kept_offline (store, person));
    gtk_switch_set_active (kh_attachments_group_get_keep_switch (KH_ATTACHMENTS_GROUP (group)), TRUE);
    g_assert_true (kh_attach_is_kept_offline (store, person));
    g_assert_cmpint (syncs, ==, 1);
    gtk_switch_set_active (kh_attachments_group_get_keep_switch (KH_ATTACHMENTS_GROUP (group)), FALSE);
    g_assert_false (kh_attach_is_kept_offline (store, person));
    gtk_switch_set_active (kh_attachments_group_get_keep_switch (KH_ATTACHMENTS_GROUP (group)), TRUE);
    g_assert_cmpint (syncs, ==, 2);
  }
  gtk_window_set_default_size (GTK_WINDOW (editor), 600, 700);
  gtk_window_present (GTK_WINDOW (editor));
  run_idle ();
  adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), NULL);
  gtk_widget_remove_css_class (group, "error");
  /* The group is below the person's fields: scrolled to, as a person would. */
  {
    GtkWidget *scrolled = gtk_widget_get_ancestor (group, GTK_TYPE_SCROLLED_WINDOW);
    GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (scrolled));

    kh_widget_wait_for_paint (editor, 2);
    gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj));
  }
  screenshot (editor, "attachments-editor.png");
  gtk_window_destroy (GTK_WINDOW (editor));
  gtk_window_destroy (GTK_WINDOW (parent));

  /* A file of the person kept offline, on the server only, and the network metered: it waits
   * for another network, and the Sync page says so. */
  g_free (remote_attachment (store, "person", person, "giay-khen.jpg", 1234567));
  g_setenv ("KHUYENHOC_METERED", "1", TRUE);

  /* The Sync page: three files to send, the sync 40 % through. */
  window = gtk_window_new ();
  page = kh_sync_page_new (store);
  gtk_window_set_child (GTK_WINDOW (window), page);
  gtk_window_set_default_size (GTK_WINDOW (window), 820, 560);
  g_object_set (page, "sync-client", client, "sync-state", KH_SYNC_CLIENT_STATE_SYNCING,
                "pending", kh_store_count_pending (store), NULL);
  gtk_window_present (GTK_WINDOW (window));
  run_idle ();
  {
    GtkWidget *row = kh_sync_page_get_files_row (KH_SYNC_PAGE (page));
    const char *subtitle = adw_action_row_get_subtitle (ADW_ACTION_ROW (row));
    g_autofree char *three = g_strdup_printf ("%d", 3);

    gint64 up = 0, up_bytes = 0, down = 0, down_bytes = 0;
    g_autofree char *size = NULL;

    g_assert_nonnull (strstr (subtitle, three));
    /* Sizes in the reader's words (GLib's are English: "bytes", "4.3 kB"). */
    g_assert_true (kh_attach_count_waiting (store, &up, &up_bytes, &down, &down_bytes));
    size = kh_format_size (up_bytes);
    g_assert_nonnull (strstr (subtitle, size));
    g_assert_true (gtk_widget_get_visible (kh_sync_page_get_download_button (KH_SYNC_PAGE (page))));
  }
  screenshot (window, "attachments-sync-page.png");
  /* "Download Now": asked for even on this network, nothing waits for another one. */
  {
    g_autoptr(GPtrArray) now = kh_attach_pending_downloads (store, TRUE, &error);

    g_assert_cmpuint (now->len, ==, 0);
    g_signal_emit_by_name (kh_sync_page_get_download_button (KH_SYNC_PAGE (page)), "clicked");
    g_clear_pointer (&now, g_ptr_array_unref);
    now = kh_attach_pending_downloads (store, TRUE, &error);
    g_assert_cmpuint (now->len, ==, 1);
    g_assert_false (gtk_widget_get_visible (kh_sync_page_get_download_button (KH_SYNC_PAGE (page))));
  }
  g_setenv ("KHUYENHOC_METERED", "0", TRUE);
  gtk_window_destroy (GTK_WINDOW (window));

  /* Removing is a tombstone, like a record's. */
  list = kh_attach_list (store, person, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (json_object_array_length (list), ==, 4);
  g_assert_true (kh_store_delete (store, "attachment",
                                  json_object_get_string (json_object_object_get (json_object_array_get_idx (list, 0), "id")),
                                  &error));
  json_object_put (list);
  list = kh_attach_list (store, person, &error);
  g_assert_cmpuint (json_object_array_length (list), ==, 3);
  json_object_put (list);
  run_idle ();
  kh_test_rmdir (dir);
}

static GtkWidget *
find_scrolled (GtkWidget *w)
{
  if (GTK_IS_SCROLLED_WINDOW (w))
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child (w); c != NULL; c = gtk_widget_get_next_sibling (c))
    {
      GtkWidget *found = find_scrolled (c);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* An award list's page: its scanned pages above its entries. */
static void
test_award_list_photos (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(GError) error = NULL;
  json_object *values = kh_test_valid_record (kh_entity_lookup ("award_list"), store, FALSE);
  g_autofree char *list = NULL;
  g_autofree char *page1 = make_photo_sized (dir, "danh-sach-trang-1.jpg", 0x2060a0, 240, 320);
  g_autofree char *page2 = make_photo_sized (dir, "danh-sach-trang-2.jpg", 0xa06020, 240, 320);
  GtkWidget *editor;
  GtkWidget *group;
  GtkWidget *photos;

  json_object_object_add (values, "title", json_object_new_string ("Học bổng khuyến học năm học 2025–2026"));
  list = kh_store_create (store, "award_list", values, &error);
  g_assert_no_error (error);
  json_object_put (values);

  editor = kh_record_editor_new (store, "award_list", list, NULL);
  group = kh_record_editor_get_attachments (KH_RECORD_EDITOR (editor));
  g_assert_nonnull (group);
  photos = kh_attachments_group_get_photos (KH_ATTACHMENTS_GROUP (group));
  /* Placed on the page, above the entries; hidden while there is no photo. */
  g_assert_true (gtk_widget_get_root (photos) == GTK_ROOT (editor));
  g_assert_false (gtk_widget_get_visible (photos));
  g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), page1));
  g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), page2));
  g_assert_true (gtk_widget_get_visible (photos));
  {
    GtkWidget *scrolled = find_scrolled (photos);
    guint n = 0;
    GtkWidget *box;

    g_assert_nonnull (scrolled);
    box = gtk_scrolled_window_get_child (GTK_SCROLLED_WINDOW (scrolled));
    if (GTK_IS_VIEWPORT (box))
      box = gtk_viewport_get_child (GTK_VIEWPORT (box));
    for (GtkWidget *c = gtk_widget_get_first_child (box); c != NULL; c = gtk_widget_get_next_sibling (c))
      n++;
    g_assert_cmpuint (n, ==, 2);
  }
  gtk_window_set_default_size (GTK_WINDOW (editor), 640, 760);
  gtk_window_present (GTK_WINDOW (editor));
  run_idle ();
  screenshot (editor, "attachments-award-list.png");
  gtk_window_destroy (GTK_WINDOW (editor));
  run_idle ();
  kh_test_rmdir (dir);
}

/* On a metered network a large photo is made smaller before it is kept (the preference is on
 * by default); elsewhere it is kept as it is. */
static void
test_scaled_on_metered (void)
{
  g_autofree char *dir = kh_test_tmpdir ();
  g_autoptr(KhStore) store = kh_test_open_store (dir, "replica.db");
  g_autoptr(GError) error = NULL;
  json_object *values = kh_test_valid_record (kh_entity_lookup ("person"), store, FALSE);
  g_autofree char *person = kh_store_create (store, "person", values, &error);
  g_autofree char *big = make_photo_sized (dir, "anh-chup.jpg", 0x406080, 3000, 2000);
  GtkWidget *editor;
  GtkWidget *group;
  json_object *list;

  json_object_put (values);
  editor = kh_record_editor_new (store, "person", person, NULL);
  group = kh_record_editor_get_attachments (KH_RECORD_EDITOR (editor));
  for (int metered = 0; metered <= 1; metered++)
    {
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(GdkTexture) texture = NULL;
      const char *sha;

      g_setenv ("KHUYENHOC_METERED", metered ? "1" : "0", TRUE);
      g_assert_true (kh_attachments_group_add_path (KH_ATTACHMENTS_GROUP (group), big));
      list = kh_attach_list (store, person, &error);
      g_assert_cmpuint (json_object_array_length (list), ==, (guint) metered + 1);
      /* The newest is the one whose file is not the other's. */
      sha = json_object_get_string (json_object_object_get (json_object_array_get_idx (list, (size_t) metered), "sha256"));
      if (metered)
        {
          const char *first = json_object_get_string (json_object_object_get (json_object_array_get_idx (list, 0), "sha256"));

          g_assert_cmpstr (sha, !=, first);
        }
      bytes = kh_attach_read (store, sha, 0, 64 * 1024 * 1024, &error);
      g_assert_no_error (error);
      texture = gdk_texture_new_from_bytes (bytes, &error);
      g_assert_no_error (error);
      if (!metered)
        g_assert_cmpint (gdk_texture_get_width (texture), ==, 3000);
      json_object_put (list);
    }
  /* Both attachments are named as the file was; one of them is 2048 pixels wide. */
  list = kh_attach_list (store, person, &error);
  {
    int widths = 0;

    for (size_t i = 0; i < json_object_array_length (list); i++)
      {
        const char *sha = json_object_get_string (json_object_object_get (json_object_array_get_idx (list, i), "sha256"));
        g_autoptr(GBytes) bytes = kh_attach_read (store, sha, 0, 64 * 1024 * 1024, &error);
        g_autoptr(GdkTexture) texture = gdk_texture_new_from_bytes (bytes, &error);

        g_assert_cmpstr (json_object_get_string (json_object_object_get (json_object_array_get_idx (list, i), "name")),
                         ==, "anh-chup.jpg");
        widths += gdk_texture_get_width (texture);
      }
    g_assert_cmpint (widths, ==, 3000 + 2048);
  }
  json_object_put (list);
  g_setenv ("KHUYENHOC_METERED", "0", TRUE);
  gtk_window_destroy (GTK_WINDOW (editor));
  run_idle ();
  kh_test_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("KHUYENHOC_LOCALEDIR"));
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_setenv ("KHUYENHOC_METERED", "0", TRUE);
  g_test_add_func ("/ui/attachments/editor-and-sync-page", test_editor_and_sync_page);
  g_test_add_func ("/ui/attachments/award-list-photos", test_award_list_photos);
  g_test_add_func ("/ui/attachments/scaled-on-metered", test_scaled_on_metered);
  return g_test_run ();
}
