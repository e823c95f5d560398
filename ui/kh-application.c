/* kh-application.c: the Khuyến Học application
 *
 * Opens the local database (--db FILE, or khuyenhoc.db in the user data folder) and its window.
 * With --screenshots DIR it renders every page to DIR/<page>.png and quits, for reviewing the
 * pages on a machine without a display.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-application.h"
#include "kh-attach.h"
#include "kh-auto-backup.h"
#include "kh-engine-client.h"
#include "kh-settings.h"
#include "kh-sqlite.h"
#include "kh-unlock.h"
#include "kh-window.h"

struct _KhApplication
{
  AdwApplication  parent_instance;

  char           *db_path;
  char           *screenshots;
  int             status;
  guint           backup_source;
};

G_DEFINE_FINAL_TYPE (KhApplication, kh_application, ADW_TYPE_APPLICATION)

char *
kh_application_default_db_path (void)
{
  const char *env = g_getenv ("KHUYENHOC_DB");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "khuyenhoc", "khuyenhoc.db", NULL);
}

static gint
kh_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  KhApplication *self = KH_APPLICATION (app);

  g_variant_dict_lookup (options, "db", "^ay", &self->db_path);
  g_variant_dict_lookup (options, "screenshots", "^ay", &self->screenshots);
  return -1;
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *developers[] = { "Khuyến Học contributors", NULL };

  adw_show_about_window (gtk_application_get_active_window (app),
                         "application-name", _("Khuyến Học"),
                         "application-icon", APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Learning models, scholarships and study promotion funds, offline first"),
                         "developers", developers,
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  g_application_quit (G_APPLICATION (user_data));
}

static void
kh_application_startup (GApplication *app)
{
  static const GActionEntry entries[] = {
    { .name = "about", .activate = about_action },
    { .name = "quit", .activate = quit_action },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (kh_application_parent_class)->startup (app);

  g_action_map_add_action_entries (G_ACTION_MAP (app), entries, G_N_ELEMENTS (entries), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);

  gtk_css_provider_load_from_resource (css, "/vn/khuyenhoc/KhuyenHoc/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static gboolean
screenshots_idle_cb (gpointer data)
{
  KhApplication *self = data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));
  g_autoptr(GError) error = NULL;

  if (window == NULL || !kh_window_save_screenshots (KH_WINDOW (window), self->screenshots, NULL, &error))
    {
      g_printerr ("%s\n", error ? error->message : _("The window did not open."));
      self->status = 1;
    }
  g_application_quit (G_APPLICATION (self));
  return G_SOURCE_REMOVE;
}

typedef struct
{
  KhApplication *app;
  char          *path;
} Opening;

/* Once the window shows: the local files nothing needs any more, such as one whose removal a
 * kill came before (kh-attach-collect.c); each sync does the same. */
static gboolean
collect_files_idle_cb (gpointer data)
{
  g_autoptr(GError) error = NULL;

  if (!kh_attach_collect (KH_STORE (data), NULL, NULL, &error))
    g_debug ("attached files not collected: %s", error->message);
  return G_SOURCE_REMOVE;
}

/* The replica's key is given (kh-unlock.c): the store opens it, and its window. */
static void
unlocked_cb (gboolean opened,
             gpointer data)
{
  Opening *o = data;
  KhApplication *self = o->app;
  g_autoptr(KhStore) store = NULL;
  g_autoptr(GError) error = NULL;
  GtkWindow *window;

  if (!opened)
    {
      self->status = 1;
      goto out;
    }
  store = kh_store_open (o->path, &error);
  if (store == NULL)
    {
      g_printerr ("%s\n", error->message);
      self->status = 1;
      goto out;
    }
  kh_store_set_actor (store, g_get_real_name () && g_strcmp0 (g_get_real_name (), "Unknown") != 0
                             ? g_get_real_name () : g_get_user_name ());

  window = GTK_WINDOW (kh_window_new (GTK_APPLICATION (self), store));
  /* The one place the sync engine meets the window: everything else goes through KhSyncClient.
   * Screenshots are taken offline, with no engine, so they never touch the network. */
  if (self->screenshots == NULL)
    {
      g_autoptr(GSettings) settings = kh_settings_new ();
      g_autoptr(KhEngineClient) client = kh_engine_client_new (store, settings);

      kh_window_set_sync_client (KH_WINDOW (window), KH_SYNC_CLIENT (client));
      if (self->backup_source == 0)
        self->backup_source = kh_auto_backup_start (o->path);
    }
  gtk_window_present (window);
  g_idle_add_full (G_PRIORITY_LOW, collect_files_idle_cb, g_object_ref (store), g_object_unref);
  if (self->screenshots != NULL)
    g_idle_add_full (G_PRIORITY_LOW, screenshots_idle_cb, self, NULL);
out:
  g_application_release (G_APPLICATION (self));
  g_object_unref (self);
  g_free (o->path);
  g_free (o);
}

static void
kh_application_activate (GApplication *app)
{
  KhApplication *self = KH_APPLICATION (app);
  g_autofree char *dir = NULL;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));
  Opening *o;

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  o = g_new0 (Opening, 1);
  o->app = g_object_ref (self);
  o->path = self->db_path ? g_strdup (self->db_path) : kh_application_default_db_path ();
  dir = g_path_get_dirname (o->path);
  g_mkdir_with_parents (dir, 0700);
  /* The program's own folder only: one named with --db may be shared on purpose. */
  if (self->db_path == NULL && (g_getenv ("KHUYENHOC_DB") == NULL || *g_getenv ("KHUYENHOC_DB") == '\0'))
    kh_sqlite_make_private_folder (dir);
  /* Held until the replica is open: a passphrase dialog may come first. */
  g_application_hold (app);
  kh_unlock_replica (GTK_APPLICATION (app), o->path, unlocked_cb, o);
}

static void
kh_application_finalize (GObject *object)
{
  KhApplication *self = (KhApplication *) object;

  g_clear_handle_id (&self->backup_source, g_source_remove);
  g_clear_pointer (&self->db_path, g_free);
  g_clear_pointer (&self->screenshots, g_free);

  G_OBJECT_CLASS (kh_application_parent_class)->finalize (object);
}

static void
kh_application_class_init (KhApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = kh_application_finalize;
  app_class->handle_local_options = kh_application_handle_local_options;
  app_class->startup = kh_application_startup;
  app_class->activate = kh_application_activate;
}

static void
kh_application_init (KhApplication *self)
{
  static const GOptionEntry options[] = {
    { "db", 0, 0, G_OPTION_ARG_FILENAME, NULL, N_("The local database to open"), N_("FILE") },
    { "screenshots", 0, 0, G_OPTION_ARG_FILENAME, NULL,
      N_("Save a picture of every page in DIR, then quit"), N_("DIR") },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), options);
}

KhApplication *
kh_application_new (void)
{
  return g_object_new (KH_TYPE_APPLICATION,
                       "application-id", APP_ID,
                       "flags", G_APPLICATION_NON_UNIQUE,
                       "resource-base-path", "/vn/khuyenhoc/KhuyenHoc",
                       NULL);
}

int
kh_application_get_status (KhApplication *self)
{
  g_return_val_if_fail (KH_IS_APPLICATION (self), 1);
  return self->status;
}
