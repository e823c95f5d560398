/* kh-activity-page.c: the changes made in the account's area in a period (a supervisor's view)
 *
 * Only the server knows who changed what in an area (every replica holds its own history), so
 * the page asks it (GET /v1/activity, through the window's KhSyncClient, on a worker thread)
 * when it is shown, when the period changes and after each sync (quietly, the rows shown
 * meanwhile: a sync may have sent changes the answer lacks), and says plainly when it cannot: signed out,
 * offline, or refused by the server, which alone decides what an account may see. The rows
 * name things as people know them (kh_activity_table(): a list by its title, a person by their
 * name, a field by its label); the person and kind filters work on the answer already read, and
 * Export writes what is shown, CSV or XLSX, with the same writer as the command line.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-activity.h"
#include "kh-activity-page.h"
#include "kh-codec.h"
#include "kh-entity.h"
#include "kh-toast.h"
#include "kh-ui-test-private.h"

/* The columns of kh_activity_table(). */
enum
{
  CELL_AT,
  CELL_WHO,
  CELL_DEVICE,
  CELL_CHANGE,
  CELL_KIND,
  CELL_RECORD,
  CELL_LIST,
  CELL_WHAT,
};

/* The periods offered, in days back from today; the second is the default. */
static const struct { const char *label; int days; } periods[] = {
  { N_("Last 7 days"), 7 },
  { N_("Last 30 days"), 30 },
  { N_("Last 90 days"), 90 },
  { N_("Last 12 months"), 365 },
};

/* The kinds of record a supervisor asks about, by the words of the sidebar. */
static const char * const award_kinds[] = { "award_list", "award_entry", "scholarship_programme", NULL };
static const char * const fund_kinds[] = { "fund", "donor", "donation", "disbursement", NULL };
static const char * const people_kinds[] = { "person", "household", "clan", "consent", NULL };
static const char * const unit_kinds[] = { "org_unit", "unit_succession", NULL };
static const char * const model_kinds[] = { "registration", "evaluation", "recognition", "population",
                                            "criteria_set", "criterion", NULL };
static const struct { const char *key; const char *label; const char * const *entities; } kinds[] = {
  { "all", N_("Every kind of record"), NULL },
  { "awards", N_("Award lists and entries"), award_kinds },
  { "funds", N_("Funds, donations and payments"), fund_kinds },
  { "people", N_("People and households"), people_kinds },
  { "units", N_("Units"), unit_kinds },
  { "models", N_("Learning models"), model_kinds },
};

/* One change, as a row shows it ------------------------------------------------------------ */

#define KH_TYPE_ACTIVITY_ROW (kh_activity_row_get_type ())
G_DECLARE_FINAL_TYPE (KhActivityRow, kh_activity_row, KH, ACTIVITY_ROW, GObject)

struct _KhActivityRow
{
  GObject      parent_instance;

  char       **cells;    /* a row of kh_activity_table() */
  char        *entity;
  char        *when;     /* local time, as a person reads it */
  json_object *row;      /* the server's row, for Export */
};

G_DEFINE_FINAL_TYPE (KhActivityRow, kh_activity_row, G_TYPE_OBJECT)

static void
kh_activity_row_finalize (GObject *object)
{
  KhActivityRow *self = KH_ACTIVITY_ROW (object);

  g_strfreev (self->cells);
  g_free (self->entity);
  g_free (self->when);
  json_object_put (self->row);
  G_OBJECT_CLASS (kh_activity_row_parent_class)->finalize (object);
}

static void
kh_activity_row_class_init (KhActivityRowClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = kh_activity_row_finalize;
}

static void
kh_activity_row_init (KhActivityRow *self)
{
}

/* The page ---------------------------------------------------------------------------------- */

struct _KhActivityPage
{
  AdwBin                parent_instance;

  KhStore              *store;
  KhSyncClient         *sync_client;
  KhSyncClientState     sync_state;
  GCancellable         *cancellable;    /* the request on its way */

  GListStore           *items;          /* KhActivityRow, the whole answer */
  GtkFilterListModel   *shown;
  GtkCustomFilter      *filter;
  GtkStringList        *people;         /* "Everyone", then who appears in the answer */

  GtkStack             *outer;          /* "status" (no connection) or "view" */
  AdwStatusPage        *status;
  GtkWidget            *status_button;
  GtkStack             *inner;          /* "loading", "list", "empty" or "error" */
  AdwStatusPage        *empty;
  AdwStatusPage        *error_page;
  GtkSpinner           *spinner;
  GtkDropDown          *period;
  GtkDropDown          *person;
  GtkDropDown          *kind;
  GtkLabel             *count;
  GtkWidget            *export_button;
  GtkFileChooserNative *chooser;

  GDateTime            *last_sync;      /* the window's last sync, which the answer follows */
  gboolean              loaded;         /* the answer for the period is here */
  gboolean              quiet;          /* the request on its way refreshes rows still shown */
  gboolean              stale;          /* a sync ended while the request was on its way */
  gboolean              offline;        /* the last request could not reach the server */
  gboolean              filling;        /* the person list is being rebuilt */
};

G_DEFINE_FINAL_TYPE (KhActivityPage, kh_activity_page, ADW_TYPE_BIN)

enum {
  PROP_0,
  PROP_SYNC_CLIENT,
  PROP_SYNC_STATE,
  PROP_LAST_SYNC,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (KhActivityPage *self);

static gboolean
signed_in (KhActivityPage *self)
{
  return self->sync_client != NULL && self->sync_state != KH_SYNC_CLIENT_STATE_UNAVAILABLE
         && self->sync_state != KH_SYNC_CLIENT_STATE_SIGNED_OUT;
}

static gboolean
is_loading (KhActivityPage *self)
{
  return self->cancellable != NULL;
}

static void
update_count (KhActivityPage *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));
  guint all = g_list_model_get_n_items (G_LIST_MODEL (self->items));
  g_autofree char *text = NULL;

  if (n == all)
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u change", "%u changes", n), n);
  else
    /* TRANSLATORS: the changes the filters leave, of those the server sent: "4 of 12 changes" */
    text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u of %u change", "%u of %u changes", all), n, all);
  gtk_label_set_text (self->count, text);
  gtk_widget_set_sensitive (self->export_button, n > 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "activity.export", n > 0);
}

/* What shows: the page's state, from the connection, the request and the answer. */
static void
update_view (KhActivityPage *self)
{
  if (!signed_in (self))
    {
      adw_status_page_set_icon_name (self->status, "system-users-symbolic");
      adw_status_page_set_title (self->status, _("Sign In to See the Changes"));
      adw_status_page_set_description (self->status,
                                       _("Who changed what in your area is kept on the server, so this page "
                                         "needs an account and a connection. Your records work on this "
                                         "computer as usual, offline too."));
      gtk_button_set_label (GTK_BUTTON (self->status_button), _("Sign _In…"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->status_button), "win.sign-in");
      /* Without an engine there is nothing to sign in with. */
      gtk_widget_set_visible (self->status_button, self->sync_client != NULL);
      gtk_stack_set_visible_child_name (self->outer, "status");
      return;
    }
  if (self->offline && !is_loading (self))
    {
      adw_status_page_set_icon_name (self->status, "network-offline-symbolic");
      adw_status_page_set_title (self->status, _("Offline"));
      adw_status_page_set_description (self->status,
                                       _("The changes in your area are read from the server, which cannot "
                                         "be reached now. Your records work on this computer as usual; try "
                                         "again once connected."));
      gtk_button_set_label (GTK_BUTTON (self->status_button), _("_Try Again"));
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->status_button), "activity.reload");
      gtk_widget_set_visible (self->status_button, TRUE);
      gtk_stack_set_visible_child_name (self->outer, "status");
      return;
    }
  gtk_stack_set_visible_child_name (self->outer, "view");
  gtk_spinner_set_spinning (self->spinner, is_loading (self));
  if (is_loading (self) && !self->quiet)
    gtk_stack_set_visible_child_name (self->inner, "loading");
  else if (!self->loaded)
    gtk_stack_set_visible_child_name (self->inner, "error");
  else if (g_list_model_get_n_items (G_LIST_MODEL (self->shown)) == 0)
    {
      gboolean filtered = g_list_model_get_n_items (G_LIST_MODEL (self->items)) > 0;

      adw_status_page_set_title (self->empty, filtered ? _("No Matching Changes") : _("No Changes"));
      adw_status_page_set_description (self->empty,
                                       filtered ? _("Nothing in this period matches the person and the kind "
                                                    "of record chosen.")
                                                : _("Nobody changed anything in your area in this period."));
      gtk_stack_set_visible_child_name (self->inner, "empty");
    }
  else
    gtk_stack_set_visible_child_name (self->inner, "list");
  update_count (self);
}

/* Filters ---------------------------------------------------------------------------------- */

static gboolean
filter_func (gpointer item,
             gpointer data)
{
  KhActivityPage *self = data;
  KhActivityRow *row = item;
  guint person = gtk_drop_down_get_selected (self->person);
  guint kind = gtk_drop_down_get_selected (self->kind);

  if (person != GTK_INVALID_LIST_POSITION && person > 0
      && g_strcmp0 (gtk_string_list_get_string (self->people, person), row->cells[CELL_WHO]) != 0)
    return FALSE;
  if (kind != GTK_INVALID_LIST_POSITION && kind < G_N_ELEMENTS (kinds) && kinds[kind].entities != NULL
      && (row->entity == NULL || !g_strv_contains (kinds[kind].entities, row->entity)))
    return FALSE;
  return TRUE;
}

static void
filter_changed_cb (KhActivityPage *self)
{
  if (self->filling)
    return;
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
  update_view (self);
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return g_utf8_collate (*(const char * const *) a, *(const char * const *) b);
}

/* The people who appear in the answer, by name; the one chosen before stays chosen. */
static void
fill_people (KhActivityPage *self,
             GPtrArray      *table)
{
  guint chosen = gtk_drop_down_get_selected (self->person);
  g_autofree char *was = chosen > 0 && chosen != GTK_INVALID_LIST_POSITION
                         ? g_strdup (gtk_string_list_get_string (self->people, chosen)) : NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  guint select = 0;

  for (guint r = 1; r < table->len; r++)
    {
      const char *who = ((char **) table->pdata[r])[CELL_WHO];

      if (who != NULL && *who != '\0' && g_hash_table_add (seen, (gpointer) who))
        g_ptr_array_add (names, (gpointer) who);
    }
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  self->filling = TRUE;
  gtk_string_list_splice (self->people, 1, g_list_model_get_n_items (G_LIST_MODEL (self->people)) - 1,
                          (const char * const *) names->pdata);
  for (guint i = 0; was != NULL && i + 1 < names->len; i++)
    if (strcmp (names->pdata[i], was) == 0)
      select = i + 1;
  gtk_drop_down_set_selected (self->person, select);
  self->filling = FALSE;
}

/* Loading ---------------------------------------------------------------------------------- */

static char *
local_time (const char *iso)
{
  g_autoptr(GDateTime) utc = iso != NULL && *iso != '\0' ? g_date_time_new_from_iso8601 (iso, NULL) : NULL;
  g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%d/%m/%Y %H:%M") : g_strdup (iso ? iso : "");
}

static void
take_answer (KhActivityPage *self,
             json_object    *rows)
{
  g_autoptr(GPtrArray) table = kh_activity_table (self->store, rows);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

  /* Newest first: a supervisor looks for what happened last. */
  for (guint r = table->len; r-- > 1;)
    {
      KhActivityRow *row = g_object_new (KH_TYPE_ACTIVITY_ROW, NULL);
      json_object *server_row = json_object_array_get_idx (rows, r - 1);
      json_object *entity = json_object_object_get (server_row, "entity");

      row->cells = g_strdupv (table->pdata[r]);
      row->entity = g_strdup (entity != NULL ? json_object_get_string (entity) : NULL);
      row->when = local_time (row->cells[CELL_AT]);
      row->row = json_object_get (server_row);
      g_ptr_array_add (items, row);
    }
  fill_people (self, table);
  g_list_store_splice (self->items, 0, g_list_model_get_n_items (G_LIST_MODEL (self->items)),
                       items->pdata, items->len);
  gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
}

static void
activity_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      data)
{
  g_autoptr(KhActivityPage) self = data;
  g_autoptr(GError) error = NULL;
  json_object *rows = kh_sync_client_activity_finish (KH_SYNC_CLIENT (source), result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->cancellable);
  if (rows == NULL && self->quiet)
    {
      /* A refresh after a sync that could not be read keeps the rows it had: the header says
       * the server is gone, and Read Again asks once it is back. */
      self->quiet = self->stale = FALSE;
      update_view (self);
      return;
    }
  self->quiet = FALSE;
  self->offline = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE)
                  || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE);
  self->loaded = rows != NULL;
  if (rows != NULL)
    take_answer (self, rows);
  else if (!self->offline)
    {
      /* The server's own words: a refusal says what the account may not see. */
      adw_status_page_set_description (self->error_page, error->message);
      kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
    }
  json_object_put (rows);
  update_view (self);
  /* The answer may have been read before the sync's changes reached the server. */
  if (self->stale && self->loaded)
    refresh (self);
}

/* Asks the server again; @quiet: the rows shown stay until the answer replaces them. */
static void
start_reload (KhActivityPage *self,
              gboolean        quiet)
{
  guint period;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GDateTime) start = NULL;
  g_autofree char *from = NULL;

  self->quiet = quiet && self->loaded;
  self->stale = FALSE;
  if (self->cancellable != NULL)
    {
      g_cancellable_cancel (self->cancellable);
      g_clear_object (&self->cancellable);
    }
  if (!signed_in (self))
    {
      update_view (self);
      return;
    }
  period = gtk_drop_down_get_selected (self->period);
  if (period >= G_N_ELEMENTS (periods))
    period = 1;
  /* The server keeps times in UTC and takes whole days. */
  start = g_date_time_add_days (now, -periods[period].days);
  from = g_date_time_format (start, "%Y-%m-%d");
  self->cancellable = g_cancellable_new ();
  self->offline = FALSE;
  kh_sync_client_activity_async (self->sync_client, from, NULL, self->cancellable, activity_cb,
                                 g_object_ref (self));
  update_view (self);
}

void
kh_activity_page_reload (KhActivityPage *self)
{
  g_return_if_fail (KH_IS_ACTIVITY_PAGE (self));

  start_reload (self, FALSE);
}

/* A sync ended: what the page shows may lack what it sent. Shown, the page asks again keeping
 * its rows; hidden, it asks when shown; asking already, it asks again after that answer. */
static void
refresh (KhActivityPage *self)
{
  if (!signed_in (self) || (!self->loaded && !is_loading (self)))
    return;
  if (is_loading (self))
    self->stale = TRUE;
  else if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    start_reload (self, TRUE);
  else
    self->loaded = FALSE;
}

static void
set_last_sync (KhActivityPage *self,
               GDateTime      *when)
{
  if (!kh_sync_time_replace (&self->last_sync, when))
    return;
  if (when != NULL)
    refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_SYNC]);
}

static void
period_changed_cb (KhActivityPage *self)
{
  self->loaded = FALSE;
  kh_activity_page_reload (self);
}

/* Shown for the first time, or again after it could not be read: ask the server. */
static void
map_cb (KhActivityPage *self)
{
  if (!self->loaded && !is_loading (self) && signed_in (self))
    kh_activity_page_reload (self);
}

static void
set_sync_state (KhActivityPage    *self,
                KhSyncClientState  state)
{
  gboolean was_signed_in = signed_in (self);

  if (self->sync_state == state)
    return;
  self->sync_state = state;
  /* Another account's answer is not this one's. */
  if (was_signed_in != signed_in (self))
    {
      self->loaded = FALSE;
      g_list_store_remove_all (self->items);
    }
  /* Signed in, or the engine's state moved (back online?), while shown and not yet read: ask
   * now. Two quick tries say whether the server can be reached. */
  if (signed_in (self) && !self->loaded && !is_loading (self) && gtk_widget_get_mapped (GTK_WIDGET (self)))
    kh_activity_page_reload (self);
  else
    update_view (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SYNC_STATE]);
}

/* Rows ------------------------------------------------------------------------------------- */

static GtkWidget *
new_label (const char *css)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), 0);
  if (css != NULL)
    gtk_widget_add_css_class (label, css);
  return label;
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *item,
          KhActivityPage           *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  GtkWidget *top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 12);
  GtkWidget *record = new_label ("heading");
  GtkWidget *who = new_label ("dim-label");
  GtkWidget *where = new_label ("dim-label");
  GtkWidget *what = new_label (NULL);

  gtk_widget_set_margin_top (box, 9);
  gtk_widget_set_margin_bottom (box, 9);
  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_hexpand (record, TRUE);
  gtk_label_set_ellipsize (GTK_LABEL (record), PANGO_ELLIPSIZE_END);
  gtk_label_set_xalign (GTK_LABEL (who), 1);
  gtk_label_set_wrap (GTK_LABEL (where), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (where), PANGO_WRAP_WORD_CHAR);
  /* A record made at once has many fields: three lines say enough, Export has them all. */
  gtk_label_set_wrap (GTK_LABEL (what), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (what), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (what), 3);
  gtk_label_set_ellipsize (GTK_LABEL (what), PANGO_ELLIPSIZE_END);
  gtk_box_append (GTK_BOX (top), record);
  gtk_box_append (GTK_BOX (top), who);
  gtk_box_append (GTK_BOX (box), top);
  gtk_box_append (GTK_BOX (box), where);
  gtk_box_append (GTK_BOX (box), what);
  g_object_set_data (G_OBJECT (box), "record", record);
  g_object_set_data (G_OBJECT (box), "who", who);
  g_object_set_data (G_OBJECT (box), "where", where);
  g_object_set_data (G_OBJECT (box), "what", what);
  gtk_list_item_set_child (item, box);
  gtk_list_item_set_activatable (item, FALSE);
}

/* "Award entry in “Học bổng Tết 2026” · Created": the kind of record, its list, the change. */
static char *
row_where (KhActivityRow *row)
{
  const char *list = row->cells[CELL_LIST];

  if (list != NULL && *list != '\0' && g_strcmp0 (row->entity, "award_list") != 0)
    /* TRANSLATORS: a change in the activity: "Award entry in “Học bổng Tết 2026” · Created" */
    return g_strdup_printf (_("%s in “%s” · %s"), row->cells[CELL_KIND], list, row->cells[CELL_CHANGE]);
  /* TRANSLATORS: a change in the activity: "Award list · Changed" */
  return g_strdup_printf (_("%s · %s"), row->cells[CELL_KIND], row->cells[CELL_CHANGE]);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *item,
         KhActivityPage           *self)
{
  KhActivityRow *row = gtk_list_item_get_item (item);
  GtkWidget *box = gtk_list_item_get_child (item);
  const char *record = row->cells[CELL_RECORD];
  g_autofree char *who = g_strdup_printf ("%s · %s", row->cells[CELL_WHO], row->when);
  g_autofree char *where = row_where (row);

  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "record"),
                      record != NULL && *record != '\0' ? record : _("(no name)"));
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "who"), who);
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "where"), where);
  gtk_label_set_text (g_object_get_data (G_OBJECT (box), "what"), row->cells[CELL_WHAT]);
  gtk_widget_set_visible (g_object_get_data (G_OBJECT (box), "what"), *row->cells[CELL_WHAT] != '\0');
}

/* Export ----------------------------------------------------------------------------------- */

/* Writes the changes shown (the filters applied) to @path: XLSX when it ends in .xlsx, else
 * CSV. */
gboolean
kh_activity_page_export (KhActivityPage  *self,
                         const char      *path,
                         GError         **error)
{
  g_autoptr(json_object) rows = json_object_new_array ();
  guint n;

  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), FALSE);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));
  /* In the order they happened, as the command line writes them. */
  for (guint i = n; i-- > 0;)
    {
      g_autoptr(KhActivityRow) row = g_list_model_get_item (G_LIST_MODEL (self->shown), i);

      json_object_array_add (rows, json_object_get (row->row));
    }
  return kh_activity_write (self->store, rows, path, error);
}

static void
export_response_cb (GtkNativeDialog *dialog,
                    int              response,
                    KhActivityPage  *self)
{
  const char *format = g_object_get_data (G_OBJECT (dialog), "format");

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (dialog));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;
      g_autofree char *suffix = g_strconcat (".", format, NULL);
      g_autoptr(GError) error = NULL;

      if (path != NULL && !g_str_has_suffix (path, suffix))
        {
          char *with = g_strconcat (path, suffix, NULL);

          g_free (path);
          path = with;
        }
      if (path == NULL)
        kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (_("Choose a file on this computer.")));
      else if (!kh_activity_page_export (self, path, &error))
        kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (error->message));
      else
        {
          g_autofree char *base = g_path_get_basename (path);
          guint n = g_list_model_get_n_items (G_LIST_MODEL (self->shown));
          g_autofree char *text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u change saved to “%s”.",
                                                                "%u changes saved to “%s”.", n), n, base);

          kh_widget_add_toast (GTK_WIDGET (self), adw_toast_new (text));
        }
    }
  g_clear_object (&self->chooser);
}

static void
export_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  KhActivityPage *self = KH_ACTIVITY_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  const char *format = g_variant_get_string (parameter, NULL);
  gboolean xlsx = g_strcmp0 (format, "xlsx") == 0;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *day = g_date_time_format (now, "%Y-%m-%d");
  /* TRANSLATORS: the start of an exported file's name, "changes-2026-12-07.csv"; no spaces */
  g_autofree char *name = g_strdup_printf ("%s-%s.%s", _("changes"), day, xlsx ? "xlsx" : "csv");

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Export the Changes"), GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), NULL);
  gtk_file_filter_set_name (filter, xlsx ? _("Excel workbooks") : _("CSV files"));
  gtk_file_filter_add_suffix (filter, xlsx ? "xlsx" : "csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  g_object_set_data_full (G_OBJECT (self->chooser), "format", g_strdup (xlsx ? "xlsx" : "csv"), g_free);
  g_signal_connect (self->chooser, "response", G_CALLBACK (export_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  kh_activity_page_reload (KH_ACTIVITY_PAGE (widget));
}

/* For the tests ------------------------------------------------------------------------------ */

gboolean
kh_activity_page_is_busy (KhActivityPage *self)
{
  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), FALSE);
  return is_loading (self);
}

/* "status" (signed out or offline), "loading", "list", "empty" or "error". */
const char *
kh_activity_page_get_shown (KhActivityPage *self)
{
  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->outer), "status") == 0)
    return "status";
  return gtk_stack_get_visible_child_name (self->inner);
}

const char *
kh_activity_page_get_status_title (KhActivityPage *self)
{
  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), NULL);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->outer), "status") == 0)
    return adw_status_page_get_title (self->status);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->inner), "empty") == 0)
    return adw_status_page_get_title (self->empty);
  if (g_strcmp0 (gtk_stack_get_visible_child_name (self->inner), "error") == 0)
    return adw_status_page_get_description (self->error_page);
  return NULL;
}

guint
kh_activity_page_get_n_shown (KhActivityPage *self)
{
  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), 0);
  return g_list_model_get_n_items (G_LIST_MODEL (self->shown));
}

/* The @n-th row shown (0: the newest) as its three lines, joined by newlines; free it. */
char *
kh_activity_page_get_row_text (KhActivityPage *self,
                               guint           n)
{
  g_autoptr(KhActivityRow) row = NULL;
  g_autofree char *where = NULL;

  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), NULL);
  row = g_list_model_get_item (G_LIST_MODEL (self->shown), n);
  if (row == NULL)
    return NULL;
  where = row_where (row);
  return g_strdup_printf ("%s\n%s · %s\n%s\n%s", row->cells[CELL_RECORD], row->cells[CELL_WHO], row->when,
                          where, row->cells[CELL_WHAT]);
}

/* Chooses the person by name (NULL: everyone); FALSE when nobody of that name is in the answer. */
gboolean
kh_activity_page_set_person (KhActivityPage *self,
                             const char     *name)
{
  g_return_val_if_fail (KH_IS_ACTIVITY_PAGE (self), FALSE);
  if (name == NULL)
    {
      gtk_drop_down_set_selected (self->person, 0);
      return TRUE;
    }
  for (guint i = 1; i < g_list_model_get_n_items (G_LIST_MODEL (self->people)); i++)
    if (g_strcmp0 (gtk_string_list_get_string (self->people, i), name) == 0)
      {
        gtk_drop_down_set_selected (self->person, i);
        return TRUE;
      }
  return FALSE;
}

/* Chooses the kind: "all", "awards", "funds", "people", "units" or "models". */
void
kh_activity_page_set_kind (KhActivityPage *self,
                           const char     *key)
{
  g_return_if_fail (KH_IS_ACTIVITY_PAGE (self));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    if (g_strcmp0 (kinds[i].key, key) == 0)
      gtk_drop_down_set_selected (self->kind, i);
}

/* Object ------------------------------------------------------------------------------------ */

static void
kh_activity_page_dispose (GObject *object)
{
  KhActivityPage *self = KH_ACTIVITY_PAGE (object);

  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->sync_client);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (kh_activity_page_parent_class)->dispose (object);
}

static void
kh_activity_page_finalize (GObject *object)
{
  KhActivityPage *self = KH_ACTIVITY_PAGE (object);

  g_clear_object (&self->shown);
  g_clear_object (&self->items);
  g_clear_object (&self->people);
  g_clear_pointer (&self->last_sync, g_date_time_unref);
  G_OBJECT_CLASS (kh_activity_page_parent_class)->finalize (object);
}

static void
kh_activity_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  KhActivityPage *self = KH_ACTIVITY_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_CLIENT:
      g_value_set_object (value, self->sync_client);
      break;
    case PROP_SYNC_STATE:
      g_value_set_enum (value, self->sync_state);
      break;
    case PROP_LAST_SYNC:
      g_value_set_boxed (value, self->last_sync);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_activity_page_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  KhActivityPage *self = KH_ACTIVITY_PAGE (object);

  switch (prop_id)
    {
    case PROP_SYNC_CLIENT:
      if (g_set_object (&self->sync_client, g_value_get_object (value)))
        {
          self->loaded = FALSE;
          g_list_store_remove_all (self->items);
          update_view (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;
    case PROP_SYNC_STATE:
      set_sync_state (self, g_value_get_enum (value));
      break;
    case PROP_LAST_SYNC:
      set_last_sync (self, g_value_get_boxed (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
kh_activity_page_class_init (KhActivityPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = kh_activity_page_dispose;
  object_class->finalize = kh_activity_page_finalize;
  object_class->get_property = kh_activity_page_get_property;
  object_class->set_property = kh_activity_page_set_property;

  properties[PROP_SYNC_CLIENT] =
    g_param_spec_object ("sync-client", NULL, NULL, KH_TYPE_SYNC_CLIENT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SYNC_STATE] =
    g_param_spec_enum ("sync-state", NULL, NULL, KH_TYPE_SYNC_CLIENT_STATE, KH_SYNC_CLIENT_STATE_UNAVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* The window's last successful sync: each new one refreshes the answer. */
  properties[PROP_LAST_SYNC] =
    g_param_spec_boxed ("last-sync", NULL, NULL, G_TYPE_DATE_TIME,
                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_install_action (widget_class, "activity.reload", NULL, reload_action);
  gtk_widget_class_install_action (widget_class, "activity.export", "s", export_action);
}

static GtkDropDown *
new_drop_down (GListModel *model,
               const char *label)
{
  GtkDropDown *drop = GTK_DROP_DOWN (gtk_drop_down_new (model, NULL));

  gtk_widget_set_tooltip_text (GTK_WIDGET (drop), label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (drop), GTK_ACCESSIBLE_PROPERTY_LABEL, label, -1);
  return drop;
}

static GtkWidget *
new_status_page (const char *icon,
                 const char *title)
{
  GtkWidget *page = adw_status_page_new ();

  adw_status_page_set_icon_name (ADW_STATUS_PAGE (page), icon);
  adw_status_page_set_title (ADW_STATUS_PAGE (page), title);
  gtk_widget_set_vexpand (page, TRUE);
  return page;
}

static void
kh_activity_page_init (KhActivityPage *self)
{
  g_autoptr(GtkStringList) period_names = gtk_string_list_new (NULL);
  g_autoptr(GtkStringList) kind_names = gtk_string_list_new (NULL);
  g_autoptr(GMenu) menu = g_menu_new ();
  GtkListItemFactory *factory = gtk_signal_list_item_factory_new ();
  GtkWidget *view = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *bar = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *reload = gtk_button_new_from_icon_name ("view-refresh-symbolic");
  GtkWidget *loading = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *loading_label = gtk_label_new (_("Reading the changes from the server…"));
  GtkWidget *scrolled = gtk_scrolled_window_new ();
  GtkWidget *clamp = adw_clamp_scrollable_new ();
  GtkWidget *list_view;
  GtkWidget *status_box;
  GtkWidget *bar_scroll;
  GtkWidget *error_button = gtk_button_new_with_mnemonic (_("_Try Again"));

  self->sync_state = KH_SYNC_CLIENT_STATE_UNAVAILABLE;
  self->items = g_list_store_new (KH_TYPE_ACTIVITY_ROW);
  self->filter = gtk_custom_filter_new (filter_func, self, NULL);
  self->shown = gtk_filter_list_model_new (G_LIST_MODEL (g_object_ref (self->items)), GTK_FILTER (self->filter));
  self->people = gtk_string_list_new (NULL);
  gtk_string_list_append (self->people, _("Everyone"));
  for (guint i = 0; i < G_N_ELEMENTS (periods); i++)
    gtk_string_list_append (period_names, _(periods[i].label));
  for (guint i = 0; i < G_N_ELEMENTS (kinds); i++)
    gtk_string_list_append (kind_names, _(kinds[i].label));

  /* The filters, the count and the buttons, above the rows. */
  gtk_widget_set_margin_top (bar, 6);
  gtk_widget_set_margin_bottom (bar, 6);
  gtk_widget_set_margin_start (bar, 12);
  gtk_widget_set_margin_end (bar, 12);
  self->period = new_drop_down (G_LIST_MODEL (g_object_ref (period_names)), _("Period"));
  gtk_drop_down_set_selected (self->period, 1);
  self->person = new_drop_down (G_LIST_MODEL (g_object_ref (self->people)), _("Who made the changes"));
  self->kind = new_drop_down (G_LIST_MODEL (g_object_ref (kind_names)), _("Kind of record"));
  self->count = GTK_LABEL (gtk_label_new (NULL));
  gtk_widget_add_css_class (GTK_WIDGET (self->count), "dim-label");
  gtk_widget_set_hexpand (GTK_WIDGET (self->count), TRUE);
  gtk_label_set_xalign (self->count, 1);
  gtk_label_set_ellipsize (self->count, PANGO_ELLIPSIZE_END);
  gtk_widget_set_tooltip_text (reload, _("Read Again from the Server"));
  gtk_accessible_update_property (GTK_ACCESSIBLE (reload), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Read Again from the Server"), -1);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (reload), "activity.reload");
  g_menu_append (menu, _("As _CSV…"), "activity.export::csv");
  g_menu_append (menu, _("As _Excel Workbook…"), "activity.export::xlsx");
  self->export_button = gtk_menu_button_new ();
  gtk_menu_button_set_label (GTK_MENU_BUTTON (self->export_button), _("_Export"));
  gtk_menu_button_set_use_underline (GTK_MENU_BUTTON (self->export_button), TRUE);
  gtk_menu_button_set_menu_model (GTK_MENU_BUTTON (self->export_button), G_MENU_MODEL (menu));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->period));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->person));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->kind));
  gtk_box_append (GTK_BOX (bar), GTK_WIDGET (self->count));
  gtk_box_append (GTK_BOX (bar), reload);
  gtk_box_append (GTK_BOX (bar), self->export_button);
  g_signal_connect_swapped (self->period, "notify::selected", G_CALLBACK (period_changed_cb), self);
  g_signal_connect_swapped (self->person, "notify::selected", G_CALLBACK (filter_changed_cb), self);
  g_signal_connect_swapped (self->kind, "notify::selected", G_CALLBACK (filter_changed_cb), self);

  /* The rows: a list view, so a busy province's month costs only the rows on screen. */
  g_signal_connect (factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (factory, "bind", G_CALLBACK (bind_cb), self);
  list_view = gtk_list_view_new (GTK_SELECTION_MODEL (gtk_no_selection_new (G_LIST_MODEL (g_object_ref (self->shown)))),
                                 factory);
  gtk_list_view_set_show_separators (GTK_LIST_VIEW (list_view), TRUE);
  gtk_widget_add_css_class (list_view, "activity-list");
  gtk_accessible_update_property (GTK_ACCESSIBLE (list_view), GTK_ACCESSIBLE_PROPERTY_LABEL, _("Changes"), -1);
  adw_clamp_scrollable_set_maximum_size (ADW_CLAMP_SCROLLABLE (clamp), 1000);
  adw_clamp_scrollable_set_tightening_threshold (ADW_CLAMP_SCROLLABLE (clamp), 800);
  adw_clamp_scrollable_set_child (ADW_CLAMP_SCROLLABLE (clamp), list_view);
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (scrolled), GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (scrolled), clamp);
  gtk_widget_set_vexpand (scrolled, TRUE);

  /* Reading, with a spinner: the window goes on meanwhile. */
  self->spinner = GTK_SPINNER (gtk_spinner_new ());
  gtk_widget_set_size_request (GTK_WIDGET (self->spinner), 32, 32);
  gtk_widget_add_css_class (loading_label, "dim-label");
  gtk_widget_set_valign (loading, GTK_ALIGN_CENTER);
  gtk_widget_set_vexpand (loading, TRUE);
  gtk_box_append (GTK_BOX (loading), GTK_WIDGET (self->spinner));
  gtk_box_append (GTK_BOX (loading), loading_label);

  self->empty = ADW_STATUS_PAGE (new_status_page ("document-open-recent-symbolic", _("No Changes")));
  self->error_page = ADW_STATUS_PAGE (new_status_page ("dialog-warning-symbolic",
                                                       _("The Changes Could Not Be Read")));
  gtk_widget_set_halign (error_button, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (error_button, "pill");
  gtk_actionable_set_action_name (GTK_ACTIONABLE (error_button), "activity.reload");
  adw_status_page_set_child (self->error_page, error_button);

  self->inner = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->inner, loading, "loading");
  gtk_stack_add_named (self->inner, scrolled, "list");
  gtk_stack_add_named (self->inner, GTK_WIDGET (self->empty), "empty");
  gtk_stack_add_named (self->inner, GTK_WIDGET (self->error_page), "error");
  /* A narrow window scrolls the filters sideways rather than being held wide by them. */
  bar_scroll = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (bar_scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (bar_scroll), TRUE);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (bar_scroll), bar);
  gtk_box_append (GTK_BOX (view), bar_scroll);
  gtk_box_append (GTK_BOX (view), gtk_separator_new (GTK_ORIENTATION_HORIZONTAL));
  gtk_box_append (GTK_BOX (view), GTK_WIDGET (self->inner));

  /* Signed out or offline: the whole page says so, with the one thing to do about it. */
  self->status = ADW_STATUS_PAGE (new_status_page ("network-offline-symbolic", NULL));
  self->status_button = gtk_button_new ();
  gtk_button_set_use_underline (GTK_BUTTON (self->status_button), TRUE);
  gtk_widget_add_css_class (self->status_button, "pill");
  gtk_widget_add_css_class (self->status_button, "suggested-action");
  status_box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_halign (self->status_button, GTK_ALIGN_CENTER);
  gtk_box_append (GTK_BOX (status_box), self->status_button);
  adw_status_page_set_child (self->status, status_box);

  self->outer = GTK_STACK (gtk_stack_new ());
  gtk_stack_add_named (self->outer, GTK_WIDGET (self->status), "status");
  gtk_stack_add_named (self->outer, view, "view");
  adw_bin_set_child (ADW_BIN (self), GTK_WIDGET (self->outer));
  gtk_widget_set_size_request (GTK_WIDGET (self), 360, -1);

  g_signal_connect (self, "map", G_CALLBACK (map_cb), NULL);
  update_view (self);
}

GtkWidget *
kh_activity_page_new (KhStore *store)
{
  KhActivityPage *self;

  g_return_val_if_fail (KH_IS_STORE (store), NULL);

  self = g_object_new (KH_TYPE_ACTIVITY_PAGE, NULL);
  self->store = g_object_ref (store);
  return GTK_WIDGET (self);
}
