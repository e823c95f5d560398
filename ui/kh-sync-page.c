/* kh-sync-page.c: sync state, and the conflicts a person must resolve
 *
 * Each conflict is a KhConflictCard: this computer's value beside the server's, with who changed
 * it and when, and "Keep mine", "Take theirs" or a value typed by hand. Resolving writes the
 * chosen value as an ordinary edit (validated, audited, queued to send) and, when a sync engine
 * is wired in, syncs.
 *
 * The page knows nothing of the window that holds it. The window hands it the sync client and
 * binds its sync state, pending count and last sync time to the page's properties; the page asks
 * for a sync with the "win.sync" action and says with "outbox-changed" that what waits to be
 * sent changed under it, so the window counts again.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-conflict-card.h"
#include "kh-format.h"
#include "kh-record-editor.h"
#include "kh-record-item.h"
#include "kh-replica.h"
#include "kh-sync-engine.h"
#include "kh-sync-page.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"

struct _KhSyncPage
{
  GtkBox         parent_instance;

  KhStore       *store;
  KhSyncClient  *sync_client;
  KhSyncClientState sync_state;
  gint64         pending;
  gint64         conflicts;     /* the window's counts, which the engine's writes change */
  gint64         refused;
  GDateTime     *last_sync;
  gulong         changed_id;
  guint          n_shown;

  AdwActionRow  *status_row;
  AdwActionRow  *pending_row;
  AdwActionRow  *files_row;
  GtkProgressBar *files_progress;
  GtkWidget     *download_button;
  AdwPreferencesGroup *refused_group;
  GPtrArray     *refused_rows;
  guint          n_refused;
  AdwStatusPage *no_conflicts;
  GtkBox        *conflicts_box;
};

G_DEFINE_FINAL_TYPE (KhSyncPage, kh_sync_page, GTK_TYPE_BOX)

enum {
  PROP_0,
  PROP_SYNC_CLIENT,
  PROP_SYNC_STATE,
  PROP_PENDING,
  PROP_LAST_SYNC,
  PROP_CONFLICTS,
  PROP_REFUSED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  OUTBOX_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static GtkWidget *find_named (GtkWidget  *widget,
                              const char *name);

/* Status ------------------------------------------------------------------------------------- */

/* What files wait, each way, and the sync's progress while it runs: the records go first, and
 * the files after them take most of a sync on a slow link. */
static void
update_files (KhSyncPage *self)
{
  gint64 up = 0, up_bytes = 0, down = 0, down_bytes = 0;
  g_autofree char *up_size = NULL;
  g_autofree char *down_size = NULL;
  g_autofree char *text = NULL;
  double progress = 0;

  gint64 held = 0;

  if (self->store == NULL || !kh_attach_count_waiting (self->store, &up, &up_bytes, &down, &down_bytes))
    return;
  /* On a metered network only the files asked for even there come; the rest wait for a
   * network that is not, unless the officer says "Download Now". */
  if (down > 0 && kh_sync_network_metered ())
    {
      g_autoptr(GPtrArray) now = kh_attach_pending_downloads (self->store, TRUE, NULL);

      held = now != NULL ? down - (gint64) now->len : 0;
    }
  up_size = kh_format_size (up_bytes);
  down_size = kh_format_size (down_bytes);
  if (up == 0 && down == 0)
    text = g_strdup (_("Every file is where it should be."));
  else
    /* TRANSLATORS: "2 to send (3.1 MB), 1 to fetch (250.0 kB)" */
    text = g_strdup_printf (_("%lld to send (%s), %lld to fetch (%s)"), (long long) up, up_size,
                            (long long) down, down_size);
  if (held > 0)
    {
      g_autofree char *count = kh_format_number_style (held, KH_FORMAT_AUTO);
      /* TRANSLATORS: the first %s is "2 to send (3.1 MB), 1 to fetch (250.0 kB)" */
      g_autofree char *more = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                            "%s. %s file waits for a network that is not metered.",
                                                            "%s. %s files wait for a network that is not metered.",
                                                            (gulong) held),
                                               text, count);

      g_free (text);
      text = g_steal_pointer (&more);
    }
  gtk_widget_set_visible (self->download_button, held > 0);
  adw_action_row_set_subtitle (self->files_row, text);
  if (self->sync_client != NULL && self->sync_state == KH_SYNC_CLIENT_STATE_SYNCING)
    g_object_get (self->sync_client, "progress", &progress, NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->files_progress),
                          self->sync_state == KH_SYNC_CLIENT_STATE_SYNCING && (up > 0 || down > 0));
  gtk_progress_bar_set_fraction (self->files_progress, progress);
}

static void
download_clicked_cb (GtkButton  *button,
                     KhSyncPage *self)
{
  g_autoptr(GError) error = NULL;

  if (!kh_attach_want_waiting (self->store, &error))
    {
      kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
      return;
    }
  update_files (self);
  gtk_widget_activate_action (GTK_WIDGET (self), "win.sync", NULL);
}

static void
update_status (KhSyncPage *self)
{
  g_autofree char *pending = NULL;
  g_autofree char *when = NULL;
  g_autofree char *message = NULL;
  g_autofree char *count = NULL;
  const char *title;
  const char *subtitle = NULL;
  KhSyncClientState state;
  gint64 n;

  state = self->sync_state;
  n = self->pending;
  switch (state)
    {
    case KH_SYNC_CLIENT_STATE_SIGNED_OUT:
      title = _("Not signed in");
      subtitle = _("Sign in with the account your association gave you.");
      break;
    case KH_SYNC_CLIENT_STATE_IDLE:
      title = _("Signed in");
      if (self->last_sync != NULL)
        {
          g_autoptr(GDateTime) local = g_date_time_to_local (self->last_sync);
          g_autofree char *text = g_date_time_format (local, "%d/%m/%Y %H:%M");

          when = g_strdup_printf (_("Last synced %s."), text);
          subtitle = when;
        }
      break;
    case KH_SYNC_CLIENT_STATE_SYNCING:
      title = _("Syncing…");
      break;
    case KH_SYNC_CLIENT_STATE_OFFLINE:
      title = _("Offline");
      subtitle = _("The server cannot be reached. Changes will be sent when the connection is back.");
      break;
    case KH_SYNC_CLIENT_STATE_ERROR:
      title = _("The last sync failed");
      /* The engine's own words say what went wrong; without them, say what to do. */
      if (self->sync_client != NULL)
        g_object_get (self->sync_client, "message", &message, NULL);
      subtitle = message && *message ? message : _("Press Sync Now to try again.");
      break;
    case KH_SYNC_CLIENT_STATE_UNAVAILABLE:
    default:
      title = _("Syncing is off in this window");
      subtitle = _("Everything you enter is kept on this computer. It will be sent once this "
                   "computer is connected to your association’s server.");
      break;
    }
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (self->status_row), title);
  adw_action_row_set_subtitle (self->status_row, subtitle ? subtitle : "");

  count = kh_format_number_style (n, KH_FORMAT_AUTO);
  pending = n > 0
            ? g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                            "%s change is kept on this computer until it is sent.",
                                            "%s changes are kept on this computer until they are sent.",
                                            (gulong) n), count)
            : g_strdup (_("Nothing waits to be sent."));
  adw_action_row_set_subtitle (self->pending_row, pending);
  update_files (self);
}

/* Refused changes ----------------------------------------------------------------------------- */

static void
give_up_cb (GtkButton  *button,
            KhSyncPage *self)
{
  g_autoptr(GError) error = NULL;
  const char *record_id = g_object_get_data (G_OBJECT (button), "record-id");

  if (!kh_replica_discard_rejected (self->store, record_id, &error))
    {
      kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
      return;
    }
  kh_sync_page_update_refused (self);
  g_signal_emit (self, signals[OUTBOX_CHANGED], 0);
  kh_widget_add_toast (GTK_WIDGET (self),
                       adw_toast_new (_("The change was given up; the server’s version is back")));
}

static void
refused_row_activated_cb (AdwActionRow *row,
                          KhSyncPage   *self)
{
  const char *entity = g_object_get_data (G_OBJECT (row), "entity");
  const char *record_id = g_object_get_data (G_OBJECT (row), "record-id");
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  GtkWidget *editor;

  if (kh_entity_lookup (entity) == NULL)
    return;
  editor = kh_record_editor_new (self->store, entity, record_id, NULL);
  if (GTK_IS_WINDOW (root))
    gtk_window_set_transient_for (GTK_WINDOW (editor), GTK_WINDOW (root));
  gtk_window_present (GTK_WINDOW (editor));
}

/* A refusal's reason in the window's language. The server writes it in its own (the reasons
 * are messages of the same catalog), so a reason is looked up as a whole, then, for a field's
 * error ("Date of birth: …"), its field label and its rest separately; what is not in the
 * catalog is shown as the server wrote it. */
char *
kh_sync_page_translate_reason (const char *reason)
{
  const char *colon;

  if (reason == NULL || *reason == '\0')
    return g_strdup (_("The server gave no reason."));
  if (g_dgettext (GETTEXT_PACKAGE, reason) != reason)
    return g_strdup (g_dgettext (GETTEXT_PACKAGE, reason));
  colon = strstr (reason, ": ");
  if (colon != NULL)
    {
      g_autofree char *label = g_strndup (reason, colon - reason);
      const char *rest = colon + 2;

      /* TRANSLATORS: a field's error: "Date of birth: the date does not exist" */
      return g_strdup_printf (_("%s: %s"), g_dgettext (GETTEXT_PACKAGE, label), g_dgettext (GETTEXT_PACKAGE, rest));
    }
  return g_strdup (reason);
}

/* The outbox entries the server refused, one row per record with the server's reason. */
void
kh_sync_page_update_refused (KhSyncPage *self)
{
  g_autoptr(GHashTable) seen = NULL;
  json_object *outbox = NULL;

  g_return_if_fail (KH_IS_SYNC_PAGE (self));

  for (guint i = 0; i < self->refused_rows->len; i++)
    adw_preferences_group_remove (self->refused_group, self->refused_rows->pdata[i]);
  g_ptr_array_set_size (self->refused_rows, 0);
  self->n_refused = 0;
  /* The count is one query; the outbox is read only when something was refused. */
  if (kh_replica_count_rejected (self->store) > 0)
    outbox = kh_store_list_outbox (self->store, NULL);
  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (size_t i = 0; outbox != NULL && i < json_object_array_length (outbox); i++)
    {
      json_object *entry = json_object_array_get_idx (outbox, i);
      const char *entity_name = json_object_get_string (json_object_object_get (entry, "entity"));
      const char *record_id = json_object_get_string (json_object_object_get (entry, "record_id"));
      const char *reason = json_object_get_string (json_object_object_get (entry, "reason"));
      const KhEntity *entity = entity_name ? kh_entity_lookup (entity_name) : NULL;
      g_autofree char *title = NULL;
      g_autofree char *heading = NULL;
      g_autofree char *button_name = NULL;
      GtkWidget *row;
      GtkWidget *button;

      if (g_strcmp0 (json_object_get_string (json_object_object_get (entry, "state")), "rejected") != 0
          || record_id == NULL || g_hash_table_contains (seen, record_id))
        continue;
      g_hash_table_add (seen, g_strdup (record_id));
      title = kh_store_dup_title (self->store, entity_name, record_id);
      /* TRANSLATORS: a refused change: "Person “Võ Văn Tâm”" */
      heading = g_strdup_printf (_("%s “%s”"), entity ? _(entity->label) : entity_name,
                                 title ? title : record_id);
      row = adw_action_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), heading);
      {
        g_autofree char *words = kh_sync_page_translate_reason (reason);

        adw_action_row_set_subtitle (ADW_ACTION_ROW (row), words);
      }
      gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
      gtk_widget_set_tooltip_text (row, _("Open the record to correct it"));
      g_object_set_data_full (G_OBJECT (row), "entity", g_strdup (entity_name), g_free);
      g_object_set_data_full (G_OBJECT (row), "record-id", g_strdup (record_id), g_free);
      g_signal_connect_object (row, "activated", G_CALLBACK (refused_row_activated_cb), self, 0);
      button = gtk_button_new_with_mnemonic (_("_Give Up"));
      button_name = g_strdup_printf ("give-up-%s", record_id);
      gtk_widget_set_name (button, button_name);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_set_tooltip_text (button, _("Undo this change here and take the server’s version"));
      g_object_set_data_full (G_OBJECT (button), "record-id", g_strdup (record_id), g_free);
      g_signal_connect_object (button, "clicked", G_CALLBACK (give_up_cb), self, 0);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_preferences_group_add (self->refused_group, row);
      g_ptr_array_add (self->refused_rows, row);
      self->n_refused++;
    }
  json_object_put (outbox);
  gtk_widget_set_visible (GTK_WIDGET (self->refused_group), self->n_refused > 0);
}

guint
kh_sync_page_get_n_refused (KhSyncPage *self)
{
  g_return_val_if_fail (KH_IS_SYNC_PAGE (self), 0);
  return self->n_refused;
}

GtkWidget *
kh_sync_page_find_refused_widget (KhSyncPage *self,
                                  const char *name)
{
  for (guint i = 0; i < self->refused_rows->len; i++)
    {
      GtkWidget *found = find_named (self->refused_rows->pdata[i], name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* Conflicts ---------------------------------------------------------------------------------- */

static void
resolve_cb (KhConflictCard  *card,
            KhResolveChoice  choice,
            const char      *value,
            KhSyncPage      *self)
{
  g_autoptr(GError) error = NULL;
  const KhConflict *conflict = kh_conflict_card_get_conflict (card);

  if (!kh_replica_resolve (self->store, conflict->record_id, conflict->field, choice, value, &error))
    {
      kh_conflict_card_show_error (card, error->message);
      return;
    }
  kh_sync_page_reload (self);
  g_signal_emit (self, signals[OUTBOX_CHANGED], 0);
  kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Conflict resolved")));
  /* After resolving, the choice goes out at once when a server is there. */
  if (self->sync_client != NULL)
    gtk_widget_activate_action (GTK_WIDGET (self), "win.sync", NULL);
}

void
kh_sync_page_reload (KhSyncPage *self)
{
  g_autoptr(GError) error = NULL;
  GtkWidget *child;
  g_autoptr(GPtrArray) conflicts = NULL;

  g_return_if_fail (KH_IS_SYNC_PAGE (self));

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->conflicts_box))) != NULL)
    gtk_box_remove (self->conflicts_box, child);
  self->n_shown = 0;
  conflicts = kh_replica_get_conflicts (self->store, &error);
  for (guint i = 0; conflicts != NULL && i < conflicts->len; i++)
    {
      GtkWidget *card = kh_conflict_card_new (self->store, conflicts->pdata[i]);

      g_signal_connect (card, "resolve", G_CALLBACK (resolve_cb), self);
      gtk_box_append (self->conflicts_box, card);
      self->n_shown++;
    }
  gtk_widget_set_visible (GTK_WIDGET (self->no_conflicts), self->n_shown == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->conflicts_box), self->n_shown > 0);
  /* Counting refusals reads the outbox: not while the window opens, only once the page shows. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    kh_sync_page_update_refused (self);
  update_status (self);
}

GtkWidget *
kh_sync_page_get_files_row (KhSyncPage *self)
{
  g_return_val_if_fail (KH_IS_SYNC_PAGE (self), NULL);
  return GTK_WIDGET (self->files_row);
}

/* "Download Now", shown while files wait for a network that is not metered. */
GtkWidget *
kh_sync_page_get_download_button (KhSyncPage *self)
{
  g_return_val_if_fail (KH_IS_SYNC_PAGE (self), NULL);
  return self->download_button;
}

guint
kh_sync_page_get_n_shown (KhSyncPage *self)
{
  g_return_val_if_fail (KH_IS_SYNC_PAGE (self), 0);
  return self->n_shown;
}

static GtkWidget *
find_named (GtkWidget  *widget,
            const char *name)
{
  if (g_strcmp0 (gtk_widget_get_name (widget), name) == 0)
    return widget;
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_named (child, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
kh_sync_page_find_widget (KhSyncPage *self,
                          const char *name)
{
  g_return_val_if_fail (KH_IS_SYNC_PAGE (self), NULL);
  return find_named (GTK_WIDGET (self->conflicts_box), name);
}

static void
store_changed_cb (KhSyncPage *self,
                  const char *entity)
{
  if (g_strcmp0 (entity, "conflict") == 0)
    kh_sync_page_reload (self);
  else
    update_status (self);
}

static void
kh_sync_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (kh_sync_page_parent_class)->map (widget);
  /* The engine writes conflicts from its own connection: look again whenever the page shows. */
  kh_sync_page_reload (KH_SYNC_PAGE (widget));
}

/* Sync state, from whoever holds the client ---------------------------------------------------- */

static void
set_sync_client (KhSyncPage   *self,
                 KhSyncClient *client)
{
  if (self->sync_client == client)
    return;
  if (self->sync_client != NULL)
    g_signal_handlers_disconnect_by_data (self->sync_client, self);
  g_set_object (&self->sync_client, client);
  if (client != NULL)
    g_signal_connect_swapped (client, "notify::progress", G_CALLBACK (update_files), self);
  /* The client's message is read only when the state says the last sync failed. */
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_CLIENT]);
}

static void
set_sync_state (KhSyncPage        *self,
                KhSyncClientState  state)
{
  if (self->sync_state == state)
    return;
  self->sync_state = state;
  update_status (self);
  /* After a sync the engine may have marked changes refused, from its own connection. */
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    kh_sync_page_update_refused (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_STATE]);
}

static void
set_pending (KhSyncPage *self,
             gint64      pending)
{
  if (self->pending == pending)
    return;
  self->pending = pending;
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PENDING]);
}

static void
set_last_sync (KhSyncPage *self,
               GDateTime  *when)
{
  if (!kh_sync_time_replace (&self->last_sync, when))
    return;
  update_status (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SYNC]);
}

static void
kh_sync_page_dispose (GObject *object)
{
  KhSyncPage *self = (KhSyncPage *) object;

  if (self->store != NULL)
    g_clear_signal_handler (&self->changed_id, self->store);
  if (self->refused_rows != NULL)
    g_ptr_array_set_size (self->refused_rows, 0);
  gtk_widget_dispose_template (GTK_WIDGET (self), KH_TYPE_SYNC_PAGE);
  if (self->sync_client != NULL)
    g_signal_handlers_disconnect_by_data (self->sync_client, self);
  g_clear_object (&self->sync_client);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (kh_sync_page_parent_class)->dispose (object);
}

static void
kh_sync_page_finalize (GObject *object)
{
  KhSyncPage *self = (KhSyncPage *) object;

  g_clear_pointer (&self->refused_rows, g_ptr_array_unref);
  g_clear_pointer (&self->last_sync, g_date_time_unref);
  G_OBJECT_CLASS (kh_sync_page_parent_class)->finalize (object);
}

static void
kh_sync_page_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  KhSyncPage *self = KH_SYNC_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_CLIENT:
      g_value_set_object (value, self->sync_client);
      break;
    case PROP_SYNC_STATE:
      g_value_set_enum (value, self->sync_state);
      break;
    case PROP_PENDING:
      g_value_set_int64 (value, self->pending);
      break;
    case PROP_LAST_SYNC:
      g_value_set_boxed (value, self->last_sync);
      break;
    case PROP_CONFLICTS:
      g_value_set_int64 (value, self->conflicts);
      break;
    case PROP_REFUSED:
      g_value_set_int64 (value, self->refused);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_sync_page_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  KhSyncPage *self = KH_SYNC_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_CLIENT:
      set_sync_client (self, g_value_get_object (value));
      break;
    case PROP_SYNC_STATE:
      set_sync_state (self, g_value_get_enum (value));
      break;
    case PROP_PENDING:
      set_pending (self, g_value_get_int64 (value));
      break;
    case PROP_LAST_SYNC:
      set_last_sync (self, g_value_get_boxed (value));
      break;
    case PROP_CONFLICTS:
      if (self->conflicts != g_value_get_int64 (value))
        {
          /* Conflicts raised by a sync are on the page as the header counts them. */
          self->conflicts = g_value_get_int64 (value);
          kh_sync_page_reload (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_REFUSED:
      if (self->refused != g_value_get_int64 (value))
        {
          self->refused = g_value_get_int64 (value);
          kh_sync_page_update_refused (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_sync_page_class_init (KhSyncPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_sync_page_dispose;
  object_class->finalize = kh_sync_page_finalize;
  object_class->get_property = kh_sync_page_get_property;
  object_class->set_property = kh_sync_page_set_property;
  widget_class->map = kh_sync_page_map;

  /* What the page shows of syncing; the window binds its own properties of the same names here.
   * With no client, "sync-state" says that this window cannot sync. */
  properties[PROP_SYNC_CLIENT] =
    g_param_spec_object ("sync-client", NULL, NULL, KH_TYPE_SYNC_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SYNC_STATE] =
    g_param_spec_enum ("sync-state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_UNAVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PENDING] =
    g_param_spec_int64 ("pending", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LAST_SYNC] =
    g_param_spec_boxed ("last-sync", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONFLICTS] =
    g_param_spec_int64 ("conflicts", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REFUSED] =
    g_param_spec_int64 ("refused", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * KhSyncPage::outbox-changed:
   *
   * The page changed what waits to be sent (a conflict resolved, a refused change given up), so
   * whoever counts it should count again now rather than when the store settles.
   */
  signals[OUTBOX_CHANGED] =
    g_signal_new ("outbox-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/vn/khuyenhoc/KhuyenHoc/ui/kh-sync-page.ui");
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, status_row);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, pending_row);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, files_row);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, files_progress);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, refused_group);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, no_conflicts);
  gtk_widget_class_bind_template_child (widget_class, KhSyncPage, conflicts_box);
}

static void
kh_sync_page_init (KhSyncPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->sync_state = KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  self->refused_rows = g_ptr_array_new ();
  self->download_button = gtk_button_new_with_mnemonic (_("_Download Now"));
  gtk_widget_set_valign (self->download_button, GTK_ALIGN_CENTER);
  gtk_widget_set_visible (self->download_button, FALSE);
  gtk_widget_set_name (self->download_button, "download-now");
  g_signal_connect (self->download_button, "clicked", G_CALLBACK (download_clicked_cb), self);
  adw_action_row_add_suffix (self->files_row, self->download_button);
  g_signal_connect_object (g_network_monitor_get_default (), "notify::network-metered", G_CALLBACK (update_files),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
kh_sync_page_new (KhStore *store)
{
  KhSyncPage *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_SYNC_PAGE, NULL);
  self->store = g_object_ref (store);
  self->changed_id = g_signal_connect_object (store, "changed", G_CALLBACK (store_changed_cb),
                                              self, G_CONNECT_SWAPPED);
  kh_sync_page_reload (self);
  return GTK_WIDGET (self);
}
