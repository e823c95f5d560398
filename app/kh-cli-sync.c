/* kh-cli-sync.c: khuyenhoc-cli's sync commands
 *
 * login, sync, status, conflicts, resolve, discard, verify, check, logout. They drive the same
 * KhSyncEngine as the window, in the calling thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "kh-attach.h"
#include "kh-activity.h"
#include "kh-cli-common.h"
#include "kh-cli-sync.h"
#include "kh-cli-visible.h"
#include "kh-codec.h"
#include "kh-credentials.h"
#include "kh-format.h"
#include "kh-replica.h"
#include "kh-sync-engine.h"

#define EXIT_OK KH_CLI_EXIT_OK
#define EXIT_FAILED KH_CLI_EXIT_FAILED
#define EXIT_USAGE KH_CLI_EXIT_USAGE


static const char sync_options_help[] =
  N_("Sync options: --low-speed-time S, --connect-timeout S, --attempts N, --backoff S");


static void
print_json (json_object *obj)
{
  g_print ("%s\n", json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PRETTY
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* The options of login, sync and verify --------------------------------------------------------- */

typedef struct
{
  const char *server;
  const char *user;
  const char *password_file;
  const char *ca_file;
  gboolean    verify;
  gboolean    allow_http;
  int         low_speed_time;
  int         connect_timeout;
  int         attempts;
  double      backoff;
} SyncOptions;

static gboolean
whole_number (const KhCliCommand *command,
              const char         *option,
              const char         *text,
              int                 min,
              int                 max,
              int                *out)
{
  gint64 v;

  if (!g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    {
      g_autofree char *lo = g_strdup_printf ("%d", min);
      g_autofree char *hi = g_strdup_printf ("%d", max);
      g_autofree char *message = g_strdup_printf (_("%s needs a whole number from %s to %s, not “%s”."),
                                                  option, lo, hi, text);

      kh_cli_usage_error (command, message);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

/* Fills @o from @argv; every option must be known to @command (login takes --server, --user,
 * --password-file and --ca-file; sync takes --verify) or be one of the network options. */
static gboolean
parse_sync_options (const KhCliCommand *command,
                    int                 argc,
                    char              **argv,
                    SyncOptions        *o)
{
  gboolean is_login = strcmp (command->name, "login") == 0;

  *o = (SyncOptions) { .low_speed_time = -1, .connect_timeout = -1, .attempts = -1, .backoff = -1 };
  for (int i = 0; i < argc; i++)
    {
      const char *a = argv[i];
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;
      const char **text = NULL;
      int *number = NULL;
      int max = 3600;

      if (strcmp (command->name, "sync") == 0 && strcmp (a, "--verify") == 0)
        {
          o->verify = TRUE;
          continue;
        }
      if (is_login && strcmp (a, "--allow-http") == 0)
        {
          o->allow_http = TRUE;
          continue;
        }
      if (is_login && strcmp (a, "--server") == 0)
        text = &o->server;
      else if (is_login && strcmp (a, "--user") == 0)
        text = &o->user;
      else if (is_login && strcmp (a, "--password-file") == 0)
        text = &o->password_file;
      else if (is_login && strcmp (a, "--ca-file") == 0)
        text = &o->ca_file;
      else if (strcmp (a, "--low-speed-time") == 0)
        number = &o->low_speed_time;
      else if (strcmp (a, "--connect-timeout") == 0)
        number = &o->connect_timeout;
      else if (strcmp (a, "--attempts") == 0)
        {
          number = &o->attempts;
          max = 100;
        }
      else if (strcmp (a, "--backoff") != 0)
        {
          kh_cli_unknown_option (command, a);
          return FALSE;
        }
      if (next == NULL)
        {
          kh_cli_missing_value (command, a);
          return FALSE;
        }
      i++;
      if (text != NULL)
        *text = next;
      else if (number != NULL)
        {
          if (!whole_number (command, a, next, 1, max, number))
            return FALSE;
        }
      else
        {
          char *end = NULL;

          o->backoff = g_ascii_strtod (next, &end);
          if (end == next || *end != '\0' || !(o->backoff >= 0.0 && o->backoff <= 60.0))
            {
              g_autofree char *message = g_strdup_printf (_("--backoff needs a number of seconds from 0 to 60, not “%s”."),
                                                          next);

              kh_cli_usage_error (command, message);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static KhSyncEngine *
make_engine (KhStore           *store,
             const SyncOptions *o)
{
  KhSyncEngine *engine = kh_sync_engine_new (kh_store_get_path (store));
  g_autofree char *ca_file = kh_replica_get_state (store, "ca_file");

  if (ca_file != NULL)
    g_object_set (engine, "ca-file", ca_file, NULL);
  /* For slow links and for tests: how long to wait and how often to try. */
  if (o->low_speed_time > 0)
    g_object_set (engine, "low-speed-time", o->low_speed_time, NULL);
  if (o->connect_timeout > 0)
    g_object_set (engine, "connect-timeout", o->connect_timeout, NULL);
  if (o->attempts > 0)
    g_object_set (engine, "max-attempts", o->attempts, NULL);
  if (o->backoff >= 0)
    g_object_set (engine, "backoff-base", o->backoff, NULL);
  return engine;
}

/* The engine's message (the server's own words come already translated, sync/kh-http.c), and
 * for a server that could not be reached, what to do about it. */
static void
print_sync_error (const GError *error)
{
  /* The server's words are in the message: one line, whatever it sent. */
  g_autofree char *message = kh_cli_visible (error->message, KH_CLI_VISIBLE_ONE_LINE);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE))
    g_printerr ("%s%s %s\n", message, g_str_has_suffix (message, ".") ? "" : ".",
                _("Check the server address and the network connection, then try again."));
  else
    g_printerr ("%s\n", message);
}

/* This machine, named without asking a resolver: a loopback address, or "localhost" (RFC
 * 6761; libcurl answers it with loopback itself). */
static gboolean
is_loopback_host (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address != NULL)
    return g_inet_address_get_is_loopback (address);
  return g_ascii_strcasecmp (host, "localhost") == 0 || g_ascii_strcasecmp (host, "localhost.") == 0;
}

/* The engine would let libcurl guess a scheme for "host:port"; a person meant https:// or, for
 * a test server on their machine, http://. Over http:// to another machine the password and
 * then every record cross the network in clear: that takes --allow-http, and a warning. */
static gboolean
check_server_url (const char  *url,
                  gboolean     allow_http,
                  GError     **error)
{
  g_autoptr(GUri) uri = NULL;
  const char *scheme;

  if (g_str_has_prefix (url, "http://") || g_str_has_prefix (url, "https://"))
    uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0'
      || (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a server address: write it with https:// (or http:// for a "
                     "test server), as in https://khuyenhoc.example.vn."), url);
      return FALSE;
    }
  if (strcmp (scheme, "http") == 0 && !is_loopback_host (g_uri_get_host (uri)))
    {
      if (!allow_http)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not encrypted (http://): the password and every record would "
                         "cross the network in clear. Use https://, or add --allow-http if this "
                         "network is yours alone."), url);
          return FALSE;
        }
      g_printerr ("%s\n", _("Warning: this server is reached over http://, without encryption: "
                            "anyone on the network between can read the password and the records."));
    }
  return TRUE;
}

static int
cmd_login (const KhCliCommand  *command,
          int                  argc,
          char               **argv,
          gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = NULL;
  g_autofree char *password = NULL;
  SyncOptions o;

  if (!parse_sync_options (command, argc, argv, &o))
    return EXIT_USAGE;
  if (o.server == NULL || o.user == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("login needs %s."),
                                                  o.server == NULL ? "--server URL" : "--user NAME");

      return kh_cli_usage_error (command, message);
    }
  if (!check_server_url (o.server, o.allow_http, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  password = kh_cli_read_password (o.password_file, &error);
  if (password == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (o.ca_file != NULL && !kh_replica_set_state (store, "ca_file", o.ca_file, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  engine = make_engine (store, &o);
  if (!kh_sync_engine_login (engine, o.server, o.user, password, NULL, &error))
    {
      memset (password, 0, strlen (password));
      print_sync_error (error);
      return EXIT_FAILED;
    }
  memset (password, 0, strlen (password));
  g_print (_("Signed in as %s at %s.\n"), o.user, o.server);
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
  json_object_object_add (o, "files_uploaded", json_object_new_int64 ((gint64) r->files_uploaded));
  json_object_object_add (o, "files_downloaded", json_object_new_int64 ((gint64) r->files_downloaded));
  json_object_object_add (o, "files_refused", json_object_new_int64 ((gint64) r->files_refused));
  json_object_object_add (o, "file_bytes_sent", json_object_new_int64 ((gint64) r->file_bytes_sent));
  json_object_object_add (o, "file_bytes_received", json_object_new_int64 ((gint64) r->file_bytes_received));
  if (r->files_refused > 0)
    json_object_object_add (o, "files_message", json_object_new_string (r->files_message));
  return o;
}

static int
cmd_sync (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  KhCliContext *cli = data;
  KhStore *store = cli->store;
  gboolean json = cli->json;
  gboolean verify = strcmp (command->name, "verify") == 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = NULL;
  KhSyncReport r;
  SyncOptions o;
  gboolean ok;

  if (!parse_sync_options (command, argc, argv, &o))
    return EXIT_USAGE;
  verify = verify || o.verify;
  engine = make_engine (store, &o);
  ok = kh_sync_engine_run (engine, verify ? KH_SYNC_FLAGS_VERIFY : 0, &r, NULL, &error);
  if (json)
    {
      json_object *answer = report_to_json (&r);

      json_object_object_add (answer, "ok", json_object_new_boolean (ok));
      if (!ok)
        json_object_object_add (answer, "error", json_object_new_string (error->message));
      print_json (answer);
      json_object_put (answer);
    }
  else if (ok)
    {
      /* Counts are printed as unsigned long long: a translatable text must be one literal. */
      g_print (_("Pulled %llu, pushed %llu, merged %llu, conflicts %llu, rejected %llu.\n"),
               (unsigned long long) r.pulled, (unsigned long long) r.pushed,
               (unsigned long long) r.merged, (unsigned long long) r.conflicts,
               (unsigned long long) r.rejected);
      g_print (g_dngettext (GETTEXT_PACKAGE, "Sent %llu bytes, received %llu bytes in %llu request, %.2f s.\n",
                            "Sent %llu bytes, received %llu bytes in %llu requests, %.2f s.\n", r.requests),
               (unsigned long long) r.bytes_sent, (unsigned long long) r.bytes_received,
               (unsigned long long) r.requests, r.seconds);
      if (r.files_uploaded > 0 || r.files_downloaded > 0)
        g_print (_("Files: sent %llu, fetched %llu.\n"), (unsigned long long) r.files_uploaded,
                 (unsigned long long) r.files_downloaded);
      if (r.files_refused > 0)
        g_print (_("The server refused %llu file: %s\n"), (unsigned long long) r.files_refused, r.files_message);
      if (verify)
        g_print ("%s\n", r.repaired > 0 ? _("The replica differed from the server and was repaired.")
                                        : _("The replica matches the server."));
      if (r.open_conflicts > 0)
        g_print (g_dngettext (GETTEXT_PACKAGE, "%lld conflict waits for you: khuyenhoc-cli conflicts\n",
                              "%lld conflicts wait for you: khuyenhoc-cli conflicts\n", r.open_conflicts),
                 (long long) r.open_conflicts);
    }
  if (!ok)
    {
      if (!json)
        print_sync_error (error);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

/* An ISO 8601 time from the replica as the locale writes a date, with the local time of day:
 * "07/12/2026 09:15" in Vietnamese, "12/07/2026 09:15" in American English. */
static char *
local_time (const char *iso)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601 (iso, NULL);
  g_autoptr(GDateTime) local = NULL;
  g_autofree char *day = NULL;
  g_autofree char *date = NULL;
  g_autofree char *time = NULL;

  if (utc == NULL)
    return g_strdup (iso);
  local = g_date_time_to_local (utc);
  day = g_date_time_format (local, "%Y-%m-%d");
  date = kh_format_date_style (day, kh_format_style_for_locale ());
  time = g_date_time_format (local, "%H:%M");
  return g_strdup_printf ("%s %s", date, time);
}

static int
cmd_status (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  KhCliContext *cli = data;
  KhStore *store = cli->store;
  gboolean json = cli->json;
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
  char *token = url != NULL ? kh_credentials_lookup (kh_store_get_path (store), url, user) : NULL;
  gboolean signed_in = token != NULL;

  if (token != NULL)
    {
      memset (token, 0, strlen (token));
      g_free (token);
    }
  if (json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "server", url ? json_object_new_string (url) : NULL);
      json_object_object_add (o, "user", user ? json_object_new_string (user) : NULL);
      json_object_object_add (o, "signed_in", json_object_new_boolean (signed_in));
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
  else if (signed_in)
    g_print (_("Server: %s (as %s)\n"), url, user ? user : "?");
  else
    g_print (_("Server: %s (as %s; signed out: khuyenhoc-cli login to sync again)\n"), url, user ? user : "?");
  {
    g_autofree char *when = last ? local_time (last) : NULL;

    g_print (_("Last sync: %s\n"), when ? when : _("never"));
  }
  g_print (_("Changes waiting to be sent: %lld\n"), (long long) pending);
  g_print (_("Conflicts waiting for you: %lld\n"), (long long) conflicts);
  g_print (_("Changes the server refused: %lld\n"), (long long) rejected);
  for (size_t i = 0; outbox != NULL && i < json_object_array_length (outbox); i++)
    {
      json_object *row = json_object_array_get_idx (outbox, i);

      if (g_strcmp0 (json_object_get_string (json_object_object_get (row, "state")), "rejected") == 0)
        {
          /* The reason is the server's. */
          g_autofree char *reason = kh_cli_visible (json_object_get_string (json_object_object_get (row, "reason")),
                                                    KH_CLI_VISIBLE_ONE_LINE);

          g_print ("  %s %s: %s\n", json_object_get_string (json_object_object_get (row, "entity")),
                   json_object_get_string (json_object_object_get (row, "record_id")), reason);
        }
    }
  json_object_put (outbox);
  return EXIT_OK;
}

/* A value of a conflict, on one line (either side may be the server's). */
static char *
value_str (json_object *v)
{
  if (v == NULL)
    return g_strdup ("∅");
  if (json_object_is_type (v, json_type_string))
    return kh_cli_visible (json_object_get_string (v), KH_CLI_VISIBLE_ONE_LINE);
  return kh_cli_visible (json_object_to_json_string_ext (v, JSON_C_TO_STRING_PLAIN), KH_CLI_VISIBLE_ONE_LINE);
}

static char *
member_str (json_object *row,
            const char  *name)
{
  return kh_cli_visible (json_object_get_string (json_object_object_get (row, name)),
                         KH_CLI_VISIBLE_ONE_LINE);
}

static int
cmd_conflicts (const KhCliCommand  *command,
              int                  argc,
              char               **argv,
              gpointer             data)
{
  KhCliContext *cli = data;
  KhStore *store = cli->store;
  gboolean json = cli->json;
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
        g_autofree char *entity = member_str (row, "entity");
        g_autofree char *id = member_str (row, "id");
        g_autofree char *field = member_str (row, "field");
        g_autofree char *local = value_str (json_object_object_get (row, "local"));
        g_autofree char *local_at = member_str (row, "local_at");
        g_autofree char *remote = value_str (json_object_object_get (row, "remote"));
        g_autofree char *remote_by = member_str (row, "remote_by");
        g_autofree char *remote_at = member_str (row, "remote_at");
        g_autofree char *base = value_str (json_object_object_get (row, "base"));

        g_print ("%s %s %s\n", entity, id, field);
        if (g_strcmp0 (field, KH_CONFLICT_REGISTERED) == 0)
          {
            g_autoptr(KhConflict) c = g_new0 (KhConflict, 1);
            g_autofree char *heading = NULL;
            g_autofree char *shown = NULL;

            c->remote_by = g_strdup (json_object_get_string (json_object_object_get (row, "remote_by")));
            c->remote_at = g_strdup (json_object_get_string (json_object_object_get (row, "remote_at")));
            heading = kh_conflict_describe_registered (c);
            shown = kh_cli_visible (heading, KH_CLI_VISIBLE_ONE_LINE);
            g_print ("  %s\n", shown);
            g_print (_("  the other registration: %s\n"), remote);
            g_print (_("  keep the other (this one goes, what names it moves to the other):\n"
                       "    khuyenhoc-cli resolve %s %s theirs\n"), id, field);
            g_print (_("  merge this one into the other:\n"
                       "    khuyenhoc-cli resolve %s %s merge\n"), id, field);
            continue;
          }
        g_print (_("  mine:   %s (%s)\n"), local, local_at);
        g_print (_("  theirs: %s (%s, %s)\n"), remote, remote_by, remote_at);
        g_print (_("  before: %s\n"), base);
      }
  json_object_put (rows);
  return EXIT_OK;
}

static int
cmd_resolve (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;
  KhResolveChoice choice = KH_RESOLVE_VALUE;

  if (strcmp (argv[2], "mine") == 0)
    choice = KH_RESOLVE_MINE;
  else if (strcmp (argv[2], "theirs") == 0)
    choice = KH_RESOLVE_THEIRS;
  else if (strcmp (argv[2], "merge") == 0 && strcmp (argv[1], KH_CONFLICT_REGISTERED) == 0)
    choice = KH_RESOLVE_MERGE;
  if (!kh_replica_resolve (store, argv[0], argv[1], choice, argv[2], &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("Resolved; the choice is sent at the next sync."));
  return EXIT_OK;
}

static int
cmd_discard (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;

  if (!kh_replica_discard_rejected (store, argv[0], &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("The refused change was given up; the record is as the server has it."));
  return EXIT_OK;
}

/* Exits 1 when the replica breaks its promise about local changes (kh_replica_check()). */
static int
cmd_check (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;

  if (!kh_replica_check (store, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("Every local change is sent, waiting to be sent, in a conflict, or refused and shown."));
  return EXIT_OK;
}

static int
cmd_logout (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
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

/* Erases a person on the server, then syncs, so this replica takes the erasure in at once;
 * the other replicas take it at their next sync. */
static int
cmd_erase (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = kh_sync_engine_new (kh_store_get_path (store));
  const char *id = NULL;
  const char *reason = NULL;
  KhSyncReport r;

  for (int i = 0; i < argc; i++)
    {
      if (strcmp (argv[i], "--reason") == 0 && i + 1 < argc)
        reason = argv[++i];
      else if (strcmp (argv[i], "--reason") == 0)
        return kh_cli_missing_value (command, "--reason");
      else if (argv[i][0] == '-')
        return kh_cli_unknown_option (command, argv[i]);
      else if (id == NULL)
        id = argv[i];
      else
        return kh_cli_usage_error (command, _("Name one person."));
    }
  if (id == NULL || reason == NULL)
    return kh_cli_usage_error (command, _("Name the person's id and say why (--reason)."));
  if (!kh_sync_engine_erase (engine, "person", id, reason, NULL, &error)
      || !kh_sync_engine_run (engine, 0, &r, NULL, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  g_print ("%s\n", _("Erased. Every replica removes the person's data at its next sync."));
  return EXIT_OK;
}

/* fetch-attachments [ID]… [--all] [--metered] [SYNC OPTIONS]: asks for the files of the
 * records or attachments named (or every one), then syncs. */
static int
cmd_fetch_attachments (const KhCliCommand  *command,
                       int                  argc,
                       char               **argv,
                       gpointer             data)
{
  KhCliContext *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = NULL;
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();
  g_autoptr(GPtrArray) ids = g_ptr_array_new ();
  gboolean all = FALSE;
  gboolean metered = FALSE;
  gboolean keep = FALSE;
  gboolean ok = TRUE;
  KhSyncReport r;
  SyncOptions o;

  for (int i = 0; i < argc; i++)
    {
      if (strcmp (argv[i], "--all") == 0)
        all = TRUE;
      else if (strcmp (argv[i], "--metered") == 0)
        metered = TRUE;
      else if (strcmp (argv[i], "--keep-offline") == 0)
        keep = TRUE;
      else if (g_str_has_prefix (argv[i], "--"))
        {
          g_ptr_array_add (rest, argv[i]);
          if (i + 1 < argc)
            g_ptr_array_add (rest, argv[++i]);
        }
      else
        g_ptr_array_add (ids, argv[i]);
    }
  if (!parse_sync_options (command, (int) rest->len, (char **) rest->pdata, &o))
    return EXIT_USAGE;
  if (!all && ids->len == 0)
    return kh_cli_usage_error (command, _("Name the records or attachments whose files to fetch, or --all."));
  if (all)
    ok = kh_attach_want_owner (store, NULL, metered, &error);
  for (guint i = 0; ok && i < ids->len; i++)
    {
      json_object *a = kh_store_get (store, "attachment", ids->pdata[i], NULL);

      if (a != NULL)
        ok = kh_attach_want (store, json_object_get_string (json_object_object_get (a, "sha256")), metered, &error);
      else
        ok = kh_attach_want_owner (store, ids->pdata[i], metered, &error)
             && (!keep || kh_attach_keep_offline (store, ids->pdata[i], TRUE, &error));
      json_object_put (a);
    }
  engine = make_engine (store, &o);
  ok = ok && kh_sync_engine_run (engine, 0, &r, NULL, &error);
  if (!ok)
    {
      print_sync_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *answer = report_to_json (&r);

      print_json (answer);
      json_object_put (answer);
    }
  else
    g_print (_("Files: sent %llu, fetched %llu.\n"), (unsigned long long) r.files_uploaded,
             (unsigned long long) r.files_downloaded);
  return EXIT_OK;
}

/* A supervisor's report: the changes made in the account's area (GET /v1/activity), printed
 * or written to a CSV or XLSX file. */
static int
cmd_activity (const KhCliCommand  *command,
              int                  argc,
              char               **argv,
              gpointer             data)
{
  KhStore *store = ((KhCliContext *) data)->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhSyncEngine) engine = kh_sync_engine_new (kh_store_get_path (store));
  g_autoptr(json_object) rows = NULL;
  const char *names[] = { "--from", "--to", "--user", "--entity", "--output" };
  const char *values[G_N_ELEMENTS (names)] = { NULL };

  for (int i = 0; i < argc; i++)
    {
      guint k;

      for (k = 0; k < G_N_ELEMENTS (names); k++)
        if (strcmp (argv[i], names[k]) == 0)
          break;
      if (k == G_N_ELEMENTS (names))
        return argv[i][0] == '-' ? kh_cli_unknown_option (command, argv[i])
                                 : kh_cli_usage_error (command, _("Filters are given as options."));
      if (i + 1 >= argc)
        return kh_cli_missing_value (command, names[k]);
      values[k] = argv[++i];
    }
  rows = kh_sync_engine_activity (engine, values[0], values[1], values[2], values[3], NULL, &error);
  if (rows == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (values[4] != NULL)
    {
      if (!kh_activity_write (store, rows, values[4], &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_FAILED;
        }
      g_print (_("%zu changes written to %s.\n"), json_object_array_length (rows), values[4]);
      return EXIT_OK;
    }
  {
    g_autoptr(GPtrArray) table = kh_activity_table (store, rows);

    for (guint r = 0; r < table->len; r++)
      {
        g_autofree char *line = g_strjoinv ("\t", table->pdata[r]);

        g_print ("%s\n", line);
      }
  }
  return EXIT_OK;
}

/* The sync options are the same for every command that talks to the server; their --help
 * says so. */
const KhCliCommand kh_cli_sync_commands[] = {
  { "login", N_("login --server URL --user NAME [--password-file FILE] [--ca-file FILE] [--allow-http] [SYNC OPTIONS]"),
    N_("sign in (the password is read from standard input)"), 0, -1, cmd_login, sync_options_help },
  { "sync", N_("sync [--verify] [SYNC OPTIONS]"), N_("pull, push, and report what moved"), 0, -1, cmd_sync,
    sync_options_help },
  { "status", "status", N_("server, last sync, what is waiting"), 0, 0, cmd_status, NULL },
  { "conflicts", "conflicts", N_("changes made on both sides, side by side"), 0, 0, cmd_conflicts, NULL },
  { "resolve", N_("resolve ID FIELD mine|theirs|merge|VALUE"), N_("choose for one conflict"), 3, 3, cmd_resolve, NULL },
  { "discard", N_("discard ID"), N_("give up a change the server refused"), 1, 1, cmd_discard, NULL },
  { "verify", N_("verify [SYNC OPTIONS]"), N_("compare with the server and repair differences"), 0, -1,
    cmd_sync, sync_options_help },
  { "check", "check", N_("check that no local change can be lost"), 0, 0, cmd_check, NULL },
  { "logout", "logout", N_("forget the sign-in (unsent changes are kept)"), 0, 0, cmd_logout, NULL },
  { "erase", N_("erase PERSON_ID --reason TEXT"),
    N_("erase a person's data on the server and every replica (an administrator or the area's officer)"),
    0, -1, cmd_erase, NULL },
  { "fetch-attachments", N_("fetch-attachments ID… [--keep-offline] | --all [--metered] [SYNC OPTIONS]"),
    N_("fetch the files of records or attachments now (on a metered network only with --metered); "
       "--keep-offline fetches the records' files to come as well"), 0, -1,
    cmd_fetch_attachments, sync_options_help },
  { "activity", N_("activity [--from DAY] [--to DAY] [--user NAME] [--entity KIND] [--output FILE.csv|.xlsx]"),
    N_("the changes made in your area: by whom, to which lists; printed or exported"), 0, -1, cmd_activity, NULL },
  { NULL, NULL, NULL, 0, 0, NULL, NULL }
};

void
kh_cli_sync_usage (FILE *out)
{
  fprintf (out, "\n");
  kh_cli_print_commands (out, _("Sync with a server:"), kh_cli_sync_commands);
  fprintf (out, "%s\n", _(sync_options_help));
}
