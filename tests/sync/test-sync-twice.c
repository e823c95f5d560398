/* test-sync-twice.c: one subject registered on two replicas offline, against the real server,
 * on SQLite and on PostgreSQL
 *
 * Two laptops of commune A's officer both register the same person as a learning citizen for
 * 2025 while offline; each store takes its own (it cannot see the other). On one laptop a
 * second registration is refused at once. The first to sync is taken; the second is answered
 * already_registered, which its replica makes a conflict of its own kind (not a refused
 * change): "Already registered by officer_a on …", shown on the Sync page and by
 * `khuyenhoc-cli conflicts`, with an evaluation made on the second laptop for its own
 * registration, and a file attached to that evaluation, waiting behind it. Keeping the other drops the second registration and moves
 * the evaluation to the first; merging into one does the same and brings the details entered
 * on the second laptop to the first registration, a detail both have with different values
 * as a conflict on it. After each, both laptops converge on one registration; the replica's
 * own check holds after every step.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "kh-attach.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

#define CLI_BIN KH_BUILD_DIR "/app/khuyenhoc-cli"

typedef struct
{
  KhTestServer *server;
  char         *dir;
  KhTReplica   *r[2];
  char         *first;       /* the registration laptop 0 made, which the server takes */
  char         *second;      /* laptop 1's, of the same subject, model and year */
  char         *evaluation;  /* laptop 1's, of its own registration */
  char         *attachment;  /* laptop 1's, the registration form scanned */
  char         *minutes;     /* laptop 1's, the evaluation's minutes, attached to the evaluation */
} Fixture;

static void
check (KhTReplica *r)
{
  g_autoptr(GError) error = NULL;

  if (!kh_replica_check (r->store, &error))
    g_error ("%s: %s", r->path, error->message);
}

static void
check_both (Fixture *f)
{
  check (f->r[0]);
  check (f->r[1]);
}

static KhSyncReport
sync_checked (Fixture *f,
              int      i)
{
  KhSyncReport rep = kh_treplica_sync (f->r[i]);

  check_both (f);
  return rep;
}

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  const char *backend = data;

  f->server = kh_test_server_new (backend);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  kh_test_server_populate (f->server);
  {
    /* Attached files: SQLite keeps them beside its database; PostgreSQL needs a folder. */
    g_autofree char *files = g_build_filename (f->dir, "server-files", NULL);
    const char *args[] = { strcmp (backend, "sqlite") == 0 ? NULL : "--files", files, NULL };

    kh_test_server_start (f->server, args);
  }
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *name = g_strdup_printf ("r%d", i);

      f->r[i] = kh_treplica_new (f->server, f->dir, name, f->server->base, "officer_a");
      kh_treplica_sync (f->r[i]);
    }
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  for (int i = 0; i < 2; i++)
    kh_treplica_free (f->r[i]);
  kh_test_server_free (f->server);
  if (f->dir != NULL)
    kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->first);
  g_free (f->second);
  g_free (f->evaluation);
  g_free (f->attachment);
  g_free (f->minutes);
}

static gint64
live_registrations (KhTReplica *r)
{
  json_object *where = json_object_new_object ();
  KhQuery q = { .where = where };
  gint64 n = kh_store_count (r->store, "registration", &q, NULL);

  json_object_put (where);
  return n;
}

static gboolean
exists (KhTReplica *r,
        const char *entity,
        const char *id)
{
  g_autoptr(GError) error = NULL;
  json_object *record = kh_store_get (r->store, entity, id, &error);

  json_object_put (record);
  return record != NULL;
}

static char *
field_of (KhTReplica *r,
          const char *entity,
          const char *id,
          const char *field)
{
  json_object *record = kh_treplica_get (r, entity, id);
  char *value;

  g_assert_nonnull (record);
  value = g_strdup (kh_tstr (record, field));
  json_object_put (record);
  return value;
}

/* The mutation ids of the outbox, in order: a change sent and answered "wait" gets a new one. */
static char *
outbox_mutation_ids (KhTReplica *r)
{
  sqlite3_stmt *stmt = kh_store_prepare (r->store, "SELECT mutation_id FROM outbox ORDER BY seq", NULL);
  GString *ids = g_string_new (NULL);

  g_assert_nonnull (stmt);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    g_string_append_printf (ids, "%s\n", (const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return g_string_free (ids, FALSE);
}

static void
assert_converged (Fixture *f)
{
  g_autofree char *dump0 = kh_treplica_dump (f->r[0]);
  g_autofree char *dump1 = kh_treplica_dump (f->r[1]);

  g_assert_cmpstr (dump0, ==, dump1);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *reg = field_of (f->r[i], "evaluation", f->evaluation, "registration_id");
      g_autofree char *owner = field_of (f->r[i], "attachment", f->attachment, "owner_id");
      g_autofree char *minutes_owner = field_of (f->r[i], "attachment", f->minutes, "owner_id");

      g_assert_cmpint (live_registrations (f->r[i]), ==, 1);
      g_assert_cmpstr (reg, ==, f->first);
      g_assert_cmpstr (owner, ==, f->first);
      g_assert_cmpstr (minutes_owner, ==, f->evaluation);
      g_assert_false (exists (f->r[i], "registration", f->second));
      g_assert_cmpint (kh_replica_count_conflicts (f->r[i]->store), ==, 0);
      g_assert_cmpint (kh_replica_count_rejected (f->r[i]->store), ==, 0);
      g_assert_cmpint (kh_store_count_pending (f->r[i]->store), ==, 0);
    }
}

/* Both laptops register the subject offline; laptop 1 also evaluates its own registration and
 * enters a subject group the first lacks and another day of registering. Laptop 0 syncs
 * first; laptop 1's sync makes the conflict. */
static void
register_on_both (Fixture *f)
{
  const char *unit = kh_treplica_unit (f->r[0], "A");
  g_autofree char *person = NULL;
  g_autofree char *json0 = NULL;
  g_autofree char *json1 = NULL;
  g_autofree char *eval = NULL;
  g_autofree char *waiting = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  KhConflict *c;
  KhSyncReport rep;

  {
    g_autofree char *p = g_strdup_printf ("{\"full_name\": \"Hồ Thị Lụa\", \"org_unit_id\": \"%s\"}", unit);

    person = kh_treplica_add (f->r[0], "person", p);
  }
  kh_treplica_sync (f->r[0]);
  kh_treplica_sync (f->r[1]);

  json0 = g_strdup_printf ("{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                           "\"subject_kind\": \"person\", \"subject_id\": \"%s\", \"subject_name\": \"Hồ Thị Lụa\", "
                           "\"status\": \"registered\", \"registered_on\": \"2025-03-01\"}", unit, person);
  json1 = g_strdup_printf ("{\"model\": \"citizen\", \"year\": 2025, \"org_unit_id\": \"%s\", "
                           "\"subject_kind\": \"person\", \"subject_id\": \"%s\", \"subject_name\": \"Hồ Thị Lụa\", "
                           "\"status\": \"registered\", \"registered_on\": \"2025-03-05\", "
                           "\"subject_group\": \"Hội viên phụ nữ\"}", unit, person);
  f->first = kh_treplica_add (f->r[0], "registration", json0);
  f->second = kh_treplica_add (f->r[1], "registration", json1);
  eval = g_strdup_printf ("{\"registration_id\": \"%s\", \"org_unit_id\": \"%s\", \"result\": \"pass\", "
                          "\"evaluated_on\": \"2025-08-15\"}", f->second, unit);
  f->evaluation = kh_treplica_add (f->r[1], "evaluation", eval);
  {
    g_autofree char *path = g_build_filename (f->dir, "don-dang-ky.pdf", NULL);

    g_assert_true (g_file_set_contents (path, "%PDF-1.4 the registration form, signed", -1, NULL));
    f->attachment = kh_attach_add (f->r[1]->store, "registration", f->second, path, NULL, &error);
    g_assert_no_error (error);
  }
  /* Two links away: a file attached to the evaluation, which the server does not have either. */
  {
    g_autofree char *path = g_build_filename (f->dir, "bien-ban-danh-gia.pdf", NULL);

    g_assert_true (g_file_set_contents (path, "%PDF-1.4 the evaluation's minutes", -1, NULL));
    f->minutes = kh_attach_add (f->r[1]->store, "evaluation", f->evaluation, path, NULL, &error);
    g_assert_no_error (error);
  }
  /* On the one laptop, a second registration is refused at once. */
  {
    json_object *values = json_tokener_parse (json0);
    g_autofree char *again = kh_store_create (f->r[0]->store, "registration", values, &error);

    json_object_put (values);
    g_assert_null (again);
    g_assert_nonnull (error);
    g_clear_error (&error);
  }
  check_both (f);

  rep = sync_checked (f, 0);
  g_assert_cmpuint (rep.pushed, ==, 1);
  rep = sync_checked (f, 1);
  /* A conflict of its own kind, not a refusal. */
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.conflicts, ==, 1);
  g_assert_cmpint (kh_replica_count_rejected (f->r[1]->store), ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->r[1]->store), ==, 1);
  conflicts = kh_replica_get_conflicts (f->r[1]->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (conflicts->len, ==, 1);
  c = conflicts->pdata[0];
  g_assert_cmpstr (c->entity, ==, "registration");
  g_assert_cmpstr (c->record_id, ==, f->second);
  g_assert_cmpstr (c->field, ==, KH_CONFLICT_REGISTERED);
  g_assert_cmpstr (json_object_get_string (c->remote), ==, f->first);
  g_assert_cmpstr (c->remote_by, ==, "officer_a");
  {
    g_autofree char *heading = kh_conflict_describe_registered (c);
    g_autoptr(GDateTime) now = g_date_time_new_now_local ();
    g_autofree char *today = g_date_time_format (now, "%d/%m/%Y");
    g_autofree char *expected = g_strdup_printf ("Already registered by officer_a on %s", today);

    g_assert_cmpstr (heading, ==, expected);
  }
  /* The evaluation, the attachment of the registration held back and the one of the
   * evaluation wait with it, not refused; another sync sends none of them (not even to have
   * them answered "wait" again). */
  waiting = outbox_mutation_ids (f->r[1]);
  rep = sync_checked (f, 1);
  {
    g_autofree char *still = outbox_mutation_ids (f->r[1]);

    g_assert_cmpstr (still, ==, waiting);
  }
  g_assert_cmpuint (rep.pushed, ==, 0);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.files_refused, ==, 0);
  g_assert_cmpint (kh_store_count_pending (f->r[1]->store), ==, 4);
  g_assert_cmpint (kh_replica_count_rejected (f->r[1]->store), ==, 0);
  /* Laptop 1 has both registrations now; laptop 0 only its own, and not the evaluation. */
  g_assert_cmpint (live_registrations (f->r[1]), ==, 2);
  g_assert_cmpint (live_registrations (f->r[0]), ==, 1);
  g_assert_false (exists (f->r[0], "evaluation", f->evaluation));
  g_assert_false (exists (f->r[0], "attachment", f->attachment));
  g_assert_false (exists (f->r[0], "attachment", f->minutes));

  /* The command line shows it with its two ways out. */
  {
    const char *argv[] = { CLI_BIN, "--db", f->r[1]->path, "conflicts", NULL };
    const char *envp_add[] = { "LANGUAGE=en", "LC_ALL=C.UTF-8" };
    g_auto(GStrv) envp = g_get_environ ();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    int status = -1;

    for (guint i = 0; i < G_N_ELEMENTS (envp_add); i++)
      {
        g_auto(GStrv) kv = g_strsplit (envp_add[i], "=", 2);

        envp = g_environ_setenv (envp, kv[0], kv[1], TRUE);
      }
    g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error));
    g_assert_no_error (error);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("khuyenhoc-cli conflicts (%d): %s%s", status, out, err);
    g_assert_nonnull (strstr (out, "Already registered by officer_a on "));
    g_assert_nonnull (strstr (out, f->first));
    g_assert_nonnull (strstr (out, "already_registered theirs"));
    g_assert_nonnull (strstr (out, "already_registered merge"));
  }
  /* "Keep mine" has no meaning here. */
  g_assert_false (kh_replica_resolve (f->r[1]->store, f->second, KH_CONFLICT_REGISTERED, KH_RESOLVE_MINE, NULL,
                                      &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  check_both (f);
}

static void
test_keep_other (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  KhSyncReport rep;

  if (f->server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  register_on_both (f);

  g_assert_true (kh_replica_resolve (f->r[1]->store, f->second, KH_CONFLICT_REGISTERED, KH_RESOLVE_THEIRS, NULL,
                                     &error));
  g_assert_no_error (error);
  check_both (f);
  /* Laptop 1's registration is gone, its evaluation names the first; nothing of the second is
   * ever sent. */
  g_assert_false (exists (f->r[1], "registration", f->second));
  g_assert_cmpint (live_registrations (f->r[1]), ==, 1);
  {
    g_autofree char *reg = field_of (f->r[1], "evaluation", f->evaluation, "registration_id");

    g_assert_cmpstr (reg, ==, f->first);
  }
  g_assert_cmpint (kh_replica_count_conflicts (f->r[1]->store), ==, 0);
  /* The evaluation, the two attachments and their files, and the first registration's state
   * that the store keeps from the evaluation. */
  rep = sync_checked (f, 1);
  g_assert_cmpuint (rep.pushed, ==, 4);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpuint (rep.files_uploaded, ==, 2);
  sync_checked (f, 0);
  assert_converged (f);
  /* The first registration kept what laptop 0 entered. */
  {
    g_autofree char *group = field_of (f->r[0], "registration", f->first, "subject_group");
    g_autofree char *day = field_of (f->r[0], "registration", f->first, "registered_on");

    g_assert_null (group);
    g_assert_cmpstr (day, ==, "2025-03-01");
  }
}

static void
test_merge (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  KhConflict *c;
  KhSyncReport rep;

  if (f->server == NULL)
    {
      g_test_skip ("KH_TEST_PG_URL is not set");
      return;
    }
  register_on_both (f);

  g_assert_true (kh_replica_resolve (f->r[1]->store, f->second, KH_CONFLICT_REGISTERED, KH_RESOLVE_MERGE, NULL,
                                     &error));
  g_assert_no_error (error);
  check_both (f);
  g_assert_false (exists (f->r[1], "registration", f->second));
  g_assert_cmpint (live_registrations (f->r[1]), ==, 1);
  {
    g_autofree char *reg = field_of (f->r[1], "evaluation", f->evaluation, "registration_id");
    g_autofree char *group = field_of (f->r[1], "registration", f->first, "subject_group");

    g_assert_cmpstr (reg, ==, f->first);
    /* What the first lacked, it takes. */
    g_assert_cmpstr (group, ==, "Hội viên phụ nữ");
  }
  /* A detail both entered differently is a conflict on it, as any merge makes it. */
  conflicts = kh_replica_get_conflicts (f->r[1]->store, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < conflicts->len; i++)
    g_test_message ("conflict on %s", ((KhConflict *) conflicts->pdata[i])->field);
  g_assert_cmpuint (conflicts->len, ==, 1);
  c = conflicts->pdata[0];
  g_assert_cmpstr (c->record_id, ==, f->first);
  g_assert_cmpstr (c->field, ==, "registered_on");
  g_assert_cmpstr (json_object_get_string (c->local), ==, "2025-03-05");
  g_assert_cmpstr (json_object_get_string (c->remote), ==, "2025-03-01");

  /* The merged details, the evaluation and the attachments go; the day waits for a choice. */
  rep = sync_checked (f, 1);
  g_assert_cmpuint (rep.pushed, ==, 4);
  g_assert_cmpuint (rep.rejected, ==, 0);
  g_assert_cmpint (kh_replica_count_conflicts (f->r[1]->store), ==, 1);
  g_assert_true (kh_replica_resolve (f->r[1]->store, f->first, "registered_on", KH_RESOLVE_MINE, NULL, &error));
  g_assert_no_error (error);
  check_both (f);
  sync_checked (f, 1);
  sync_checked (f, 0);
  assert_converged (f);
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *group = field_of (f->r[i], "registration", f->first, "subject_group");
      g_autofree char *day = field_of (f->r[i], "registration", f->first, "registered_on");

      g_assert_cmpstr (group, ==, "Hội viên phụ nữ");
      g_assert_cmpstr (day, ==, "2025-03-05");
    }
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
      g_autofree char *keep = g_strdup_printf ("/sync/twice/%s/keep-the-other", backends[b]);
      g_autofree char *merge = g_strdup_printf ("/sync/twice/%s/merge-into-one", backends[b]);

      g_test_add (keep, Fixture, backends[b], set_up, test_keep_other, tear_down);
      g_test_add (merge, Fixture, backends[b], set_up, test_merge, tear_down);
    }
  return g_test_run ();
}
