/* kh-cli-sync.c: khuyenhoc-cli's sync commands
 *
 * login, sync, status, conflicts, resolve, verify, logout. They drive the same KhSyncEngine as
 * the window, in the calling thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "kh-cli-sync.h"
#include "kh-codec.h"
#include "kh-replica.h"
#include "kh-sync-engine.h"

enum {
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
};

static const char * const commands[] = {
  "login", "sync", "status", "conflicts", "resolve", "discard", "verify", "logout", NULL
};

void
kh_cli_sync_usage (FILE *out)
{
  fprintf (out, "%s",
           _("\n"
             "Sync with a server:\n"
             "  login --server URL --user NAME [--password-file FILE] [--ca-file FILE]\n"
             "                                sign in (the password is read from standard input)\n"
             "  sync [--verify]                pull, push, and report what moved\n"
             "  status                         server, last sync, what is waiting\n"
             "  conflicts                      changes made on both sides, side by side\n"
             "  resolve ID FIELD mine|theirs|VALUE   choose for one conflict\n"
             "  discard ID                     give up a change the server refused\n"
             "  verify                         compare with the server and repair differences\n"
             "  logout                         forget the sign-in (unsent changes are kept)\n"
             "Sync options: --low-speed-time S, --connect-timeout S, --attempts N, --backoff S\n"));
}

gboolean
kh_cli_is_sync_command (const char *command)
{
  return g_strv_contains (commands, command);
}

static void
print_json (json_object *obj)
{
  g_print ("%s\n", json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PRETTY
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static const char *
option (int          argc,
        char       **argv,
        const char  *name)
{
  for (int i = 0; i + 1 < argc; i++)
    if (strcmp (argv[i], name) == 0)
      return argv[i + 1];
  return NULL;
}

static gboolean
flag (int          argc,
      char       **argv,
      const char  *name)
{
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], name) == 0)
      return TRUE;
  return FALSE;
}

static KhSyncEngine *
make_engine (KhStore  *store,
             int       argc,
             char    **argv)
{
  KhSyncEngine *engine = kh_sync_engine_new (kh_store_get_path (store));
  g_autofree char *ca_file = kh_replica_get_state (store, "ca_file");
  const char *v;

  if (ca_file != NULL)
    g_object_set (engine, "ca-file", ca_file, NULL);
  /* For slow links and for tests: how long to wait and how often to try. */
  if ((v = option (argc, argv, "--low-speed-time")) != NULL)
    g_object_set (engine, "low-speed-time", (int) g_ascii_strtoll (v, NULL, 10), NULL);
  if ((v = option (argc, argv, "--connect-timeout")) != NULL)
    g_object_set (engine, "connect-timeout", (int) g_ascii_strtoll (v, NULL, 10), NULL);
  if ((v = option (argc, argv, "--attempts")) != NULL)
    g_object_set (engine, "max-attempts", (int) g_ascii_strtoll (v, NULL, 10), NULL);
  if ((v = option (argc, argv, "--backoff")) != NULL)
    g_object_set (engine, "backoff-base", g_ascii_strtod (v, NULL), NULL);
  return engine;
}

static char *
read_password (const char  *file,
               GError     **error)
{
  g_autofree char *contents = NULL;
  char line[4096];

  if (file != NULL)
    {
      if (!g_file_get_contents (file, &contents, NULL, error))
        return NULL;
      g_strchomp (contents);
      return g_steal_pointer (&contents);
    }
  if (fgets (line, sizeof line, stdin) == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("No password was given on standard input."));
      return NULL;
    }
  g_strchomp (line);
  contents = g_strdup (line);
  memset (line, 0, sizeof line);
  return g_steal_pointer (&contents);
}

static int
cmd_login (KhStore  *store,
           int       argc,
           char    **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = NULL;
  g_autofree char *password = NULL;
  const char *server = option (argc, argv, "--server");
  const char *user = option (argc, argv, "--user");
  const char *ca_file = option (argc, argv, "--ca-file");

  if (server == NULL || user == NULL)
    {
      g_printerr ("%s\n", _("Usage: khuyenhoc-cli login --server URL --user NAME [--password-file FILE] [--ca-file FILE]"));
      return EXIT_USAGE;
    }
  password = read_password (option (argc, argv, "--password-file"), &error);
  if (password == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (ca_file != NULL && !kh_replica_set_state (store, "ca_file", ca_file, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  engine = make_engine (store, argc, argv);
  if (!kh_sync_engine_login (engine, server, user, password, NULL, &error))
    {
      memset (password, 0, strlen (password));
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  memset (password, 0, strlen (password));
  g_print (_("Signed in as %s at %s.\n"), user, server);
  return EXIT_OK;
}

static json_object *
report_to_json (const KhSyncReport *r)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "pulled", json_object_new_int64 ((gint64) r->pulled));
  json_object_object_add (o, "applied", json_object_new_int64 ((gint64) r->applied));
  json_object_object_add (o, "merged", json_object_new_int64 ((gint64) r->merged));
  json_object_object_add (o, "conflicts", json_object_new_int64 ((gint64) r->conflicts));
  json_object_object_add (o, "removed", json_object_new_int64 ((gint64) r->removed));
  json_object_object_add (o, "pushed", json_object_new_int64 ((gint64) r->pushed));
  json_object_object_add (o, "rejected", json_object_new_int64 ((gint64) r->rejected));
  json_object_object_add (o, "repaired", json_object_new_int64 ((gint64) r->repaired));
  json_object_object_add (o, "verified", json_object_new_boolean (r->verified));
  json_object_object_add (o, "requests", json_object_new_int64 ((gint64) r->requests));
  json_object_object_add (o, "retries", json_object_new_int64 ((gint64) r->retries));
  json_object_object_add (o, "bytes_sent", json_object_new_int64 ((gint64) r->bytes_sent));
  json_object_object_add (o, "bytes_received", json_object_new_int64 ((gint64) r->bytes_received));
  json_object_object_add (o, "pending", json_object_new_int64 (r->pending));
  json_object_object_add (o, "open_conflicts", json_object_new_int64 (r->open_conflicts));
  json_object_object_add (o, "seconds", json_object_new_double (r->seconds));
  return o;
}

static int
cmd_sync (KhStore   *store,
          gboolean   json,
          gboolean   verify,
          int        argc,
          char     **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = make_engine (store, argc, argv);
  KhSyncReport r;
  gboolean ok;

  ok = kh_sync_engine_run (engine, verify || flag (argc, argv, "--verify") ? KH_SYNC_FLAGS_VERIFY : 0,
                           &r, NULL, &error);
  if (json)
    {
      json_object *o = report_to_json (&r);

      json_object_object_add (o, "ok", json_object_new_boolean (ok));
      if (!ok)
        json_object_object_add (o, "error", json_object_new_string (error->message));
      print_json (o);
      json_object_put (o);
    }
  else if (ok)
    {
      /* Counts are printed as unsigned long long: a translatable text must be one literal. */
      g_print (_("Pulled %llu, pushed %llu, merged %llu, conflicts %llu, rejected %llu.\n"),
               (unsigned long long) r.pulled, (unsigned long long) r.pushed,
               (unsigned long long) r.merged, (unsigned long long) r.conflicts,
               (unsigned long long) r.rejected);
      g_print (_("Sent %llu bytes, received %llu bytes in %llu requests, %.2f s.\n"),
               (unsigned long long) r.bytes_sent, (unsigned long long) r.bytes_received,
               (unsigned long long) r.requests, r.seconds);
      if (verify)
        g_print ("%s\n", r.repaired > 0 ? _("The replica differed from the server and was repaired.")
                                        : _("The replica matches the server."));
      if (r.open_conflicts > 0)
        g_print (_("%lld conflicts wait for you: khuyenhoc-cli conflicts\n"), (long long) r.open_conflicts);
    }
  if (!ok)
    {
      if (!json)
        g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

static int
cmd_status (KhStore  *store,
            gboolean  json)
{
  g_autofree char *url = kh_replica_get_state (store, KH_SYNC_SERVER_URL);
  g_autofree char *user = kh_replica_get_state (store, KH_SYNC_USERNAME);
  g_autofree char *server_id = kh_replica_get_state (store, KH_SYNC_SERVER_ID);
  g_autofree char *last = kh_replica_get_state (store, KH_SYNC_LAST_SYNC);
  g_autofree char *epoch = kh_replica_get_state (store, KH_SYNC_EPOCH);
  gint64 pending = kh_store_count_pending (store);
  gint64 rejected = kh_replica_count_rejected (store);
  gint64 conflicts = kh_replica_count_conflicts (store);
  g_autoptr(GError) error = NULL;
  json_object *outbox = kh_store_list_outbox (store, &error);

  if (json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "server", url ? json_object_new_string (url) : NULL);
      json_object_object_add (o, "user", user ? json_object_new_string (user) : NULL);
      json_object_object_add (o, "server_id", server_id ? json_object_new_string (server_id) : NULL);
      json_object_object_add (o, "epoch", epoch ? json_object_new_int64 (g_ascii_strtoll (epoch, NULL, 10)) : NULL);
      json_object_object_add (o, "last_sync", last ? json_object_new_string (last) : NULL);
      json_object_object_add (o, "pending", json_object_new_int64 (pending));
      json_object_object_add (o, "rejected", json_object_new_int64 (rejected));
      json_object_object_add (o, "conflicts", json_object_new_int64 (conflicts));
      print_json (o);
      json_object_put (o);
      json_object_put (outbox);
      return EXIT_OK;
    }
  if (url == NULL)
    g_print ("%s\n", _("Not signed in to a server."));
  else
    g_print (_("Server: %s (as %s)\n"), url, user ? user : "?");
  g_print (_("Last sync: %s\n"), last ? last : _("never"));
  g_print (_("Changes waiting to be sent: %lld\n"), (long long) pending);
  g_print (_("Conflicts waiting for you: %lld\n"), (long long) conflicts);
  g_print (_("Changes the server refused: %lld\n"), (long long) rejected);
  for (size_t i = 0; outbox != NULL && i < json_object_array_length (outbox); i++)
    {
      json_object *row = json_object_array_get_idx (outbox, i);

      if (g_strcmp0 (json_object_get_string (json_object_object_get (row, "state")), "rejected") == 0)
        g_print ("  %s %s: %s\n", json_object_get_string (json_object_object_get (row, "entity")),
                 json_object_get_string (json_object_object_get (row, "record_id")),
                 json_object_get_string (json_object_object_get (row, "reason")));
    }
  json_object_put (outbox);
  return EXIT_OK;
}

static const char *
value_str (json_object *v)
{
  if (v == NULL)
    return "∅";
  if (json_object_is_type (v, json_type_string))
    return json_object_get_string (v);
  return json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN);
}

static int
cmd_conflicts (KhStore  *store,
               gboolean  json)
{
  g_autoptr(GError) error = NULL;
  json_object *rows = kh_replica_list_conflicts (store, &error);

  if (rows == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (json)
    print_json (rows);
  else if (json_object_array_length (rows) == 0)
    g_print ("%s\n", _("No conflicts."));
  else
    for (size_t i = 0; i < json_object_array_length (rows); i++)
      {
        json_object *row = json_object_array_get_idx (rows, i);

        g_print ("%s %s %s\n", json_object_get_string (json_object_object_get (row, "entity")),
                 json_object_get_string (json_object_object_get (row, "id")),
                 json_object_get_string (json_object_object_get (row, "field")));
        g_print (_("  mine:   %s (%s)\n"), value_str (json_object_object_get (row, "local")),
                 json_object_get_string (json_object_object_get (row, "local_at")));
        g_print (_("  theirs: %s (%s, %s)\n"), value_str (json_object_object_get (row, "remote")),
                 json_object_get_string (json_object_object_get (row, "remote_by")),
                 json_object_get_string (json_object_object_get (row, "remote_at")));
        g_print (_("  before: %s\n"), value_str (json_object_object_get (row, "base")));
      }
  json_object_put (rows);
  return EXIT_OK;
}

static int
cmd_resolve (KhStore  *store,
             int       argc,
             char    **argv)
{
  g_autoptr(GError) error = NULL;
  KhResolveChoice choice = KH_RESOLVE_VALUE;

  if (argc != 3)
    {
      g_printerr ("%s\n", _("Usage: khuyenhoc-cli resolve ID FIELD mine|theirs|VALUE"));
      return EXIT_USAGE;
    }
  if (strcmp (argv[2], "mine") == 0)
    choice = KH_RESOLVE_MINE;
  else if (strcmp (argv[2], "theirs") == 0)
    choice = KH_RESOLVE_THEIRS;
  if (!kh_replica_resolve (store, argv[0], argv[1], choice, argv[2], &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("Resolved; the choice is sent at the next sync."));
  return EXIT_OK;
}

static int
cmd_discard (KhStore  *store,
             int       argc,
             char    **argv)
{
  g_autoptr(GError) error = NULL;

  if (argc != 1)
    {
      g_printerr ("%s\n", _("Usage: khuyenhoc-cli discard ID"));
      return EXIT_USAGE;
    }
  if (!kh_replica_discard_rejected (store, argv[0], &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("The refused change was given up; the record is as the server has it."));
  return EXIT_OK;
}

static int
cmd_logout (KhStore *store)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = kh_sync_engine_new (kh_store_get_path (store));

  if (!kh_sync_engine_logout (engine, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("Signed out. Unsent changes are kept for the next sign-in."));
  return EXIT_OK;
}

int
kh_cli_sync (KhStore     *store,
             const char  *command,
             gboolean     json,
             int          argc,
             char       **argv)
{
  if (strcmp (command, "login") == 0)
    return cmd_login (store, argc, argv);
  if (strcmp (command, "sync") == 0)
    return cmd_sync (store, json, FALSE, argc, argv);
  if (strcmp (command, "verify") == 0)
    return cmd_sync (store, json, TRUE, argc, argv);
  if (strcmp (command, "status") == 0)
    return cmd_status (store, json);
  if (strcmp (command, "conflicts") == 0)
    return cmd_conflicts (store, json);
  if (strcmp (command, "resolve") == 0)
    return cmd_resolve (store, argc, argv);
  if (strcmp (command, "discard") == 0)
    return cmd_discard (store, argc, argv);
  return cmd_logout (store);
}
