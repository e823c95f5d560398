/* test-twice-ui.c: a subject registered twice, on the Sync page, under Xvfb
 *
 * A registration made here that the server already had from another computer is a conflict of
 * its own kind: its card says "Already registered by NAME on DATE" in the window's language,
 * names both registrations and offers exactly two ways out, "Keep the other" and "Merge into
 * one" (no "Keep mine", no typed value). Merging from the card makes the two one: the
 * registration here goes, its evaluation names the other, which takes the subject group
 * entered here. Keeping the other from a card drops this one and moves what names it. A
 * picture of the page is saved in KH_SCREENSHOT_DIR for a person to look at.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <string.h>

#include "kh-conflict-card.h"
#include "kh-replica.h"
#include "kh-screenshot.h"
#include "kh-test-dir.h"
#include "kh-ui-test-private.h"
#include "kh-window.h"

#define UNIT   "01900000-0000-7000-8000-000000000001"
#define PERSON "01900000-0000-7000-8000-000000000002"
#define OTHER  "01900000-0000-7000-8000-000000000003"

typedef struct
{
  char     *dir;
  KhStore  *store;
  char     *mine;        /* the registration made here */
  char     *evaluation;  /* of it */
  gint64    seq;         /* its conflict */
} Fixture;

static void
check (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  if (!kh_replica_check (f->store, &error))
    g_error ("%s", error->message);
}

static json_object *
server_record (const char *entity,
               const char *id,
               const char *fields)
{
  json_object *r = json_object_new_object ();

  json_object_object_add (r, "entity", json_object_new_string (entity));
  json_object_object_add (r, "id", json_object_new_string (id));
  json_object_object_add (r, "version", json_object_new_int64 (3));
  json_object_object_add (r, "deleted", json_object_new_boolean (FALSE));
  json_object_object_add (r, "fields", json_tokener_parse (fields));
  json_object_object_add (r, "updated_by", json_object_new_string ("canbo.xuandong"));
  json_object_object_add (r, "updated_at", json_object_new_string ("2026-11-27T08:30:00Z"));
  return r;
}

/* A commune and a person from the server; a registration of her and its evaluation made here;
 * then the other computer's registration of her, pulled, and the server's answer to this
 * one's as the replica makes it. */
static void
set_up (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  json_object *records = json_object_new_array ();
  json_object *values;
  KhConflict conflict = { 0 };
  KhReplicaStats stats = { 0 };

  f->dir = kh_test_tmpdir ();
  path = g_build_filename (f->dir, "kh.db", NULL);
  f->store = kh_store_open (path, &error);
  g_assert_no_error (error);
  json_object_array_add (records, server_record ("org_unit", UNIT,
                                                 "{\"code\": \"56\", \"name\": \"Tỉnh Khánh Hòa\", "
                                                 "\"kind\": \"province\"}"));
  json_object_array_add (records, server_record ("person", PERSON,
                                                 "{\"full_name\": \"Hồ Thị Lụa\", \"org_unit_id\": \"" UNIT "\"}"));
  kh_replica_apply_page (f->store, records, NULL, "3", FALSE, FALSE, &stats, &error);
  g_assert_no_error (error);
  g_assert_no_error (error);
  json_object_put (records);

  values = json_tokener_parse ("{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"" UNIT "\", "
                               "\"subject_kind\": \"person\", \"subject_id\": \"" PERSON "\", "
                               "\"subject_name\": \"Hồ Thị Lụa\", \"status\": \"registered\", "
                               "\"subject_group\": \"Hội viên phụ nữ\"}");
  f->mine = kh_store_create (f->store, "registration", values, &error);
  g_assert_no_error (error);
  json_object_put (values);
  values = json_object_new_object ();
  json_object_object_add (values, "registration_id", json_object_new_string (f->mine));
  json_object_object_add (values, "org_unit_id", json_object_new_string (UNIT));
  json_object_object_add (values, "result", json_object_new_string ("pass"));
  json_object_object_add (values, "evaluated_on", json_object_new_string ("2025-08-15"));
  f->evaluation = kh_store_create (f->store, "evaluation", values, &error);
  g_assert_no_error (error);
  json_object_put (values);

  records = json_object_new_array ();
  json_object_array_add (records, server_record ("registration", OTHER,
                                                 "{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"" UNIT "\", "
                                                 "\"subject_kind\": \"person\", \"subject_id\": \"" PERSON "\", "
                                                 "\"subject_name\": \"Hồ Thị Lụa\", \"status\": \"registered\"}"));
  kh_replica_apply_page (f->store, records, NULL, "3", FALSE, FALSE, &stats, &error);
  g_assert_no_error (error);
  g_assert_no_error (error);
  json_object_put (records);

  conflict.entity = (char *) "registration";
  conflict.record_id = f->mine;
  conflict.field = (char *) KH_CONFLICT_REGISTERED;
  conflict.local = json_object_new_string (f->mine);
  conflict.remote = json_object_new_string (OTHER);
  conflict.remote_by = (char *) "canbo.xuandong";
  conflict.remote_at = (char *) "2026-11-27T08:30:00Z";
  f->seq = kh_replica_add_conflict (f->store, &conflict, &error);
  g_assert_no_error (error);
  g_assert_cmpint (f->seq, >=, 0);
  json_object_put (conflict.local);
  json_object_put (conflict.remote);
  check (f);
}

static void
tear_down (Fixture *f)
{
  g_assert_finalize_object (f->store);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->mine);
  g_free (f->evaluation);
}

static void
collect_labels (GtkWidget *widget,
                GPtrArray *texts)
{
  if (GTK_IS_LABEL (widget) && gtk_widget_get_visible (widget))
    g_ptr_array_add (texts, (gpointer) gtk_label_get_text (GTK_LABEL (widget)));
  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect_labels (child, texts);
}

static gboolean
has_label (GtkWidget  *widget,
           const char *text)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new ();

  collect_labels (widget, texts);
  for (guint i = 0; i < texts->len; i++)
    if (strstr (texts->pdata[i], text) != NULL)
      return TRUE;
  return FALSE;
}

/* The widgets of @type on screen in @widget. */
static guint
count_mapped (GtkWidget *widget,
              GType      type)
{
  guint n = G_TYPE_CHECK_INSTANCE_TYPE (widget, type) && gtk_widget_get_mapped (widget) ? 1 : 0;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    n += count_mapped (child, type);
  return n;
}

static char *
field_of (KhStore    *store,
          const char *entity,
          const char *id,
          const char *field)
{
  g_autoptr(GError) error = NULL;
  json_object *record = kh_store_get (store, entity, id, &error);
  json_object *v = NULL;
  char *text;

  g_assert_no_error (error);
  json_object_object_get_ex (record, field, &v);
  text = v != NULL ? g_strdup (json_object_get_string (v)) : NULL;
  json_object_put (record);
  return text;
}

static gboolean
exists (KhStore    *store,
        const char *entity,
        const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *record = kh_store_get (store, entity, id, &error);

  json_object_put (record);
  return record != NULL;
}

/* The card on the Sync page, its words and its two buttons; "Merge into one" from it. */
static void
test_page_merge (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *heading = NULL;
  g_autofree char *keep_name = NULL;
  g_autofree char *merge_name = NULL;
  KhWindow *window;
  KhSyncPage *page;
  GtkWidget *keep;
  GtkWidget *merge;
  GtkWidget *card;

  set_up (&f);
  window = kh_window_new (NULL, f.store);
  gtk_window_set_default_size (GTK_WINDOW (window), 1100, 720);
  gtk_window_present (GTK_WINDOW (window));
  gtk_widget_activate_action (GTK_WIDGET (window), "win.show-page", "s", "sync");
  page = KH_SYNC_PAGE (kh_window_get_page (window, "sync"));
  kh_widget_wait_for_paint (GTK_WIDGET (window), 2);
  g_assert_cmpuint (kh_sync_page_get_n_shown (page), ==, 1);
  g_assert_cmpint (kh_window_get_conflicts (window), ==, 1);

  keep_name = g_strdup_printf ("keep-other-%" G_GINT64_FORMAT, f.seq);
  merge_name = g_strdup_printf ("merge-%" G_GINT64_FORMAT, f.seq);
  keep = kh_sync_page_find_widget (page, keep_name);
  merge = kh_sync_page_find_widget (page, merge_name);
  g_assert_nonnull (keep);
  g_assert_nonnull (merge);
  g_assert_true (gtk_widget_get_mapped (keep));
  g_assert_true (gtk_widget_get_mapped (merge));
  card = gtk_widget_get_ancestor (keep, KH_TYPE_CONFLICT_CARD);
  g_assert_nonnull (card);
  /* The heading, in the window's language, with who and the day (in this computer's time). */
  {
    g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601 ("2026-11-27T08:30:00Z", NULL);
    g_autoptr(GDateTime) local = g_date_time_to_local (utc);
    g_autofree char *day = g_date_time_format (local, "%d/%m/%Y");

    heading = g_strdup_printf (_("Already registered by %s on %s"), "canbo.xuandong", day);
  }
  g_test_message ("%s", heading);
  g_assert_true (has_label (card, heading));
  g_assert_true (has_label (card, "Hồ Thị Lụa"));
  /* What tells the two apart, which a merge brings over. */
  g_assert_true (has_label (card, "Hội viên phụ nữ"));
  if (strcmp (g_getenv ("LANGUAGE") ? g_getenv ("LANGUAGE") : "", "en") == 0)
    {
      g_assert_true (has_label (card, "Already registered by canbo.xuandong on 27/11/2026"));
      g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (keep)), ==, "_Keep the Other");
      g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (merge)), ==, "_Merge Into One");
    }
  else
    g_assert_false (has_label (card, "Already registered"));
  /* Exactly the two ways out: the ordinary card's buttons and typed value are not shown. */
  g_assert_cmpuint (count_mapped (card, GTK_TYPE_BUTTON), ==, 2);
  g_assert_cmpuint (count_mapped (card, GTK_TYPE_ENTRY), ==, 0);
  if (g_getenv ("KH_SCREENSHOT_DIR") != NULL)
    {
      g_autofree char *shot = g_build_filename (g_getenv ("KH_SCREENSHOT_DIR"), "sync-already-registered.png", NULL);

      g_mkdir_with_parents (g_getenv ("KH_SCREENSHOT_DIR"), 0755);
      kh_widget_save_png (GTK_WIDGET (window), shot, &error);
      g_assert_no_error (error);
    }

  g_signal_emit_by_name (merge, "clicked");
  g_assert_cmpuint (kh_sync_page_get_n_shown (page), ==, 0);
  g_assert_cmpstr (kh_window_get_last_toast (window), ==, _("Conflict resolved"));
  g_assert_cmpint (kh_replica_count_conflicts (f.store), ==, 0);
  check (&f);
  g_assert_false (exists (f.store, "registration", f.mine));
  {
    g_autofree char *reg = field_of (f.store, "evaluation", f.evaluation, "registration_id");
    g_autofree char *group = field_of (f.store, "registration", OTHER, "subject_group");

    g_assert_cmpstr (reg, ==, OTHER);
    g_assert_cmpstr (group, ==, "Hội viên phụ nữ");
  }

  g_object_add_weak_pointer (G_OBJECT (window), (gpointer *) &window);
  gtk_window_destroy (GTK_WINDOW (window));
  while (window != NULL)
    g_main_context_iteration (NULL, TRUE);
  tear_down (&f);
}

typedef struct
{
  guint n;
  int   choice;
} Resolved;

static void
resolve_cb (KhConflictCard *card,
            int             choice,
            const char     *value,
            gpointer        data)
{
  Resolved *resolved = data;

  resolved->n++;
  resolved->choice = choice;
}

/* "Keep the other" on the card says THEIRS; resolving so drops the registration here and moves
 * its evaluation, the other's details as they were. */
static void
test_card_keep_other (void)
{
  Fixture f = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autofree char *keep_name = NULL;
  Resolved resolved = { 0 };
  GtkWidget *window;
  GtkWidget *card;
  GtkWidget *keep = NULL;

  set_up (&f);
  conflicts = kh_replica_get_conflicts (f.store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (conflicts->len, ==, 1);
  window = gtk_window_new ();
  card = kh_conflict_card_new (f.store, conflicts->pdata[0]);
  gtk_window_set_child (GTK_WINDOW (window), card);
  gtk_window_present (GTK_WINDOW (window));
  kh_widget_wait_for_paint (window, 2);
  keep_name = g_strdup_printf ("keep-other-%" G_GINT64_FORMAT, f.seq);
  for (GtkWidget *w = card; w != NULL && keep == NULL;)
    {
      /* Depth first through the card for the named button. */
      GtkWidget *next = gtk_widget_get_first_child (w);

      if (g_strcmp0 (gtk_widget_get_name (w), keep_name) == 0)
        keep = w;
      while (next == NULL && w != card)
        {
          next = gtk_widget_get_next_sibling (w);
          if (next == NULL)
            w = gtk_widget_get_parent (w);
        }
      w = next;
    }
  g_assert_nonnull (keep);
  g_signal_connect (card, "resolve", G_CALLBACK (resolve_cb), &resolved);
  g_signal_emit_by_name (keep, "clicked");
  g_assert_cmpuint (resolved.n, ==, 1);
  g_assert_cmpint (resolved.choice, ==, KH_RESOLVE_THEIRS);
  g_assert_true (kh_replica_resolve (f.store, f.mine, KH_CONFLICT_REGISTERED, resolved.choice, NULL, &error));
  g_assert_no_error (error);
  check (&f);
  g_assert_false (exists (f.store, "registration", f.mine));
  {
    g_autofree char *reg = field_of (f.store, "evaluation", f.evaluation, "registration_id");
    g_autofree char *group = field_of (f.store, "registration", OTHER, "subject_group");

    g_assert_cmpstr (reg, ==, OTHER);
    g_assert_null (group);
  }
  gtk_window_destroy (GTK_WINDOW (window));
  g_clear_pointer (&conflicts, g_ptr_array_unref);
  tear_down (&f);
}

int
main (int   argc,
      char *argv[])
{
  const char *localedir = g_getenv ("KHUYENHOC_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir ? localedir : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  g_test_add_func ("/ui/twice/page-merge", test_page_merge);
  g_test_add_func ("/ui/twice/card-keep-other", test_card_keep_other);
  return g_test_run ();
}
