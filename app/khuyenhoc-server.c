/* khuyenhoc-server: the central sync server and its admin commands
 *
 *   khuyenhoc-server [--db URL] init
 *   khuyenhoc-server [--db URL] user add NAME --role admin|officer|viewer --scope CODE [--password-file F]
 *   khuyenhoc-server [--db URL] user list | user disable NAME | user scope NAME CODE
 *   khuyenhoc-server [--db URL] user can NAME submit,approve,pay|none
 *   khuyenhoc-server [--db URL] token list NAME | token revoke NAME [DEVICE]
 *   khuyenhoc-server [--db URL] org import FILE.csv
 *   khuyenhoc-server [--db URL] epoch bump
 *   khuyenhoc-server [--db URL] backup FILE | restore FILE
 *   khuyenhoc-server [--db URL] demo [--records N] [--credentials FILE]
 *   khuyenhoc-server [--db URL] serve [--listen 127.0.0.1:8080] [--port-file F] …
 *
 * Passwords are read from --password-file or from standard input, never from the command line
 * (where any user of the machine could read them in the process list).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib-unix.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh-cli-common.h"
#include "kh-cli-visible.h"
#include "kh-memory.h"
#include "kh-server-backup.h"
#include "kh-server-core.h"
#include "kh-server-files.h"
#include "kh-server-http.h"
#include "kh-server-import.h"
#include "kh-server-metrics.h"
#include "kh-workflow.h"

static const char *db_url;

static int
fail (const GError *error)
{
  g_printerr ("khuyenhoc-server: %s\n", error->message);
  return 1;
}

static const KhCliCommand *current_command;

static int
usage_error (const char *message)
{
  return kh_cli_usage_error (current_command, message);
}

/* What take_option() left: an option without its value, an unknown option, or too many or too
 * few words; NULL when @argc is @expected and nothing is left over. */
static int
check_rest (int                 argc,
            char              **argv,
            int                 expected,
            const char * const *options)
{
  for (int i = 0; i < argc; i++)
    if (argv[i][0] == '-' && argv[i][1] == '-')
      {
        if (options != NULL && g_strv_contains (options, argv[i]))
          return kh_cli_missing_value (current_command, argv[i]);
        return kh_cli_unknown_option (current_command, argv[i]);
      }
  if (argc != expected)
    return kh_cli_wrong_count (current_command, argc, expected);
  return 0;
}

/* A whole number given to @option, or a usage error. */
static gboolean
number_option (const char *option,
               const char *text,
               gint64      min,
               gint64      max,
               gint64     *out)
{
  if (text == NULL)
    return TRUE;
  if (!g_ascii_string_to_signed (text, 10, min, max, out, NULL))
    {
      g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, min);
      g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, max);
      g_autofree char *message = g_strdup_printf (_("%s needs a whole number from %s to %s, not “%s”."),
                                                  option, lo, hi, text);

      usage_error (message);
      return FALSE;
    }
  return TRUE;
}

static char *
default_db_url (void)
{
  const char *env = g_getenv ("KHUYENHOC_SERVER_DB");
  g_autofree char *dir = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  if (getuid () == 0)
    return g_strdup ("sqlite:/var/lib/khuyenhoc/server.db");
  dir = g_build_filename (g_get_user_data_dir (), "khuyenhoc", NULL);
  g_mkdir_with_parents (dir, 0700);
  return g_strdup_printf ("sqlite:%s/server.db", dir);
}

/* Every command sets the database up when it is new (init is idempotent), so a fresh
 * sqlite: path or an empty PostgreSQL database needs no separate step. */
static KhServer *
open_server (guint     pool,
             gboolean  need_ready,
             GError  **error)
{
  g_autoptr(KhServer) server = kh_server_new (db_url, pool, error);

  if (server == NULL || !kh_server_init_schema (server, error))
    {
      const char *path = g_str_has_prefix (db_url, "sqlite:") ? db_url + strlen ("sqlite:") : NULL;
      g_autofree char *why = path != NULL && error != NULL && *error != NULL
                             ? kh_cli_explain_db_path (path, "--db sqlite:PATH") : NULL;

      if (why != NULL)
        {
          g_clear_error (error);
          g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_DATABASE,
                       _("Could not open the database “%s”: %s"), path, why);
        }
      return NULL;
    }
  if (need_ready && !kh_server_check_ready (server, error))
    return NULL;
  return g_steal_pointer (&server);
}

/* Finds "--name VALUE" in argv (after the command words) and removes both. */
static const char *
take_option (int         *argc,
             char       **argv,
             const char  *name)
{
  for (int i = 0; i < *argc; i++)
    {
      const char *value = NULL;

      if (strcmp (argv[i], name) == 0 && i + 1 < *argc)
        {
          value = argv[i + 1];
          memmove (&argv[i], &argv[i + 2], sizeof (char *) * (size_t) (*argc - i - 2));
          *argc -= 2;
          return value;
        }
      if (g_str_has_prefix (argv[i], name) && argv[i][strlen (name)] == '=')
        {
          value = argv[i] + strlen (name) + 1;
          memmove (&argv[i], &argv[i + 1], sizeof (char *) * (size_t) (*argc - i - 1));
          *argc -= 1;
          return value;
        }
    }
  return NULL;
}

/* Attached files -------------------------------------------------------------------------------- */

/* Gives @server its file store: --files DIR, else the folder beside a SQLite database; with
 * neither (PostgreSQL without --files) the server takes no files. */
static gboolean
set_up_files (KhServer    *server,
              const char  *files,
              const char  *max_mb,
              GError     **error)
{
  g_autofree char *dir = files != NULL ? g_strdup (files) : kh_file_store_default_dir (db_url);
  gint64 mb = 20;
  KhFileStore *store;

  if (max_mb != NULL && !g_ascii_string_to_signed (max_mb, 10, 1, 4096, &mb, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--attachment-max-mb takes a number of megabytes from 1 to 4096, not “%s”."), max_mb);
      return FALSE;
    }
  kh_server_set_max_file_size (server, mb * 1024 * 1024);
  if (dir == NULL)
    return TRUE;
  store = kh_file_store_new_folder (dir, error);
  if (store == NULL)
    return FALSE;
  kh_server_set_file_store (server, store);
  return TRUE;
}

/* files check, files collect */
static int
cmd_files (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  static const char * const options[] = { "--files", "--tombstone-days", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  const char *files = take_option (&argc, argv, "--files");
  const char *tomb = take_option (&argc, argv, "--tombstone-days");
  gint64 n_days = -1;
  int rc;

  if ((rc = check_rest (argc - 1, argv + 1, 0, options)) != 0)
    return rc;
  if (!number_option ("--tombstone-days", tomb, 0, 36500, &n_days))
    return 2;
  server = open_server (1, TRUE, &error);
  if (server == NULL || !set_up_files (server, files, NULL, &error))
    return fail (error);
  if (n_days >= 0)
    kh_server_set_tombstone_days (server, (int) n_days);
  if (strcmp (argv[0], "collect") == 0)
    {
      gint64 removed = 0;

      if (!kh_server_collect_files (server, &removed, &error))
        return fail (error);
      g_print (_("Removed %lld files nobody refers to any more.\n"), (long long) removed);
      return 0;
    }
  {
    KhFileCheck check;

    if (!kh_server_check_files (server, &check, &error))
      return fail (error);
    g_print (_("%lld files, %lld bytes; live attachments name %lld; %lld not sent yet.\n"),
             (long long) check.files, (long long) check.bytes, (long long) check.expected,
             (long long) check.waiting);
    for (guint i = 0; i < check.missing->len; i++)
      g_print (_("missing: %s\n"), (char *) check.missing->pdata[i]);
    for (guint i = 0; i < check.damaged->len; i++)
      g_print (_("damaged: %s\n"), (char *) check.damaged->pdata[i]);
    rc = check.missing->len > 0 || check.damaged->len > 0 ? 1 : 0;
    kh_file_check_clear (&check);
    return rc;
  }
}

/* user ... ------------------------------------------------------------------------------------- */

static int
cmd_user (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  static const char * const add_options[] = { "--role", "--scope", "--password-file", "--can", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  const char *role = NULL;
  const char *scope = NULL;
  const char *file = NULL;
  const char *can = NULL;
  int rc;

  /* argv[0] is the second word: add, list, disable or scope. */
  if (strcmp (argv[0], "add") == 0)
    {
      role = take_option (&argc, argv, "--role");
      scope = take_option (&argc, argv, "--scope");
      file = take_option (&argc, argv, "--password-file");
      can = take_option (&argc, argv, "--can");
      if ((rc = check_rest (argc - 1, argv + 1, 1, add_options)) != 0)
        return rc;
      if (role == NULL || scope == NULL)
        {
          g_autofree char *message = g_strdup_printf (_("“user add” needs %s."),
                                                      role == NULL ? "--role ROLE" : "--scope CODE");

          return usage_error (message);
        }
    }
  else if ((rc = check_rest (argc - 1, argv + 1, strcmp (argv[0], "list") == 0 ? 0
                                                 : strcmp (argv[0], "disable") == 0 ? 1 : 2, NULL)) != 0)
    return rc;

  server = open_server (1, TRUE, &error);
  if (server == NULL)
    return fail (error);

  if (strcmp (argv[0], "add") == 0)
    {
      g_autofree char *password = NULL;

      password = kh_cli_read_password (file, &error);
      if (password == NULL)
        return fail (error);
      if (!kh_server_user_add (server, argv[1], role, scope, password, &error))
        {
          sodium_memzero (password, strlen (password));
          return fail (error);
        }
      sodium_memzero (password, strlen (password));
      if (can != NULL && !kh_server_user_set_permits (server, argv[1], can, &error))
        return fail (error);
      g_print (_("Added %s (%s, scope %s).\n"), argv[1], role, scope);
      return 0;
    }
  if (strcmp (argv[0], "list") == 0)
    {
      g_autoptr(GPtrArray) users = kh_server_user_list (server, &error);

      if (users == NULL)
        return fail (error);
      for (guint i = 0; i < users->len; i++)
        {
          KhServerUser *u = users->pdata[i];
          g_autofree char *can_do = kh_permits_to_string (u->permits);

          g_print ("%s\t%s\t%s\t%s\t%s\n", u->username, u->role, u->scope_code,
                   u->disabled ? _("disabled") : _("active"), *can_do ? can_do : "-");
        }
      return 0;
    }
  if (strcmp (argv[0], "disable") == 0)
    {
      if (!kh_server_user_disable (server, argv[1], &error))
        return fail (error);
      g_print (_("Disabled %s; their tokens no longer work.\n"), argv[1]);
      return 0;
    }
  if (strcmp (argv[0], "can") == 0)
    {
      if (!kh_server_user_set_permits (server, argv[1], argv[2], &error))
        return fail (error);
      g_print (_("%s may now: %s. It applies from their next sign-in in the window; the server "
                 "applies it at once.\n"), argv[1], argv[2]);
      return 0;
    }
  if (!kh_server_user_set_scope (server, argv[1], argv[2], &error))
    return fail (error);
  g_print (_("%s now works in %s; their next sync re-pulls.\n"), argv[1], argv[2]);
  return 0;
}

/* init, token revoke, org import, epoch bump ------------------------------------------------------ */

/* Each command is given the words after the first of its name. */
static int
cmd_init (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  g_autofree char *id = NULL;
  gint64 epoch;
  int rc;

  if ((rc = check_rest (argc, argv, 0, NULL)) != 0)
    return rc;
  server = open_server (1, FALSE, &error);
  if (server == NULL || !kh_server_init_schema (server, &error)
      || !kh_server_get_identity (server, &id, &epoch, &error))
    return fail (error);
  g_print (_("Server %s ready (epoch %lld).\n"), id, (long long) epoch);
  return 0;
}

static int
cmd_token_revoke (const KhCliCommand  *command,
                 int                  argc,
                 char               **argv,
                 gpointer             data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  gint64 n = 0;
  int rc;

  if ((rc = check_rest (argc - 1, argv + 1, argc == 3 ? 2 : 1, NULL)) != 0)
    return rc;
  server = open_server (1, TRUE, &error);
  if (server == NULL)
    return fail (error);
  if (argc == 3)
    {
      if (!kh_server_device_revoke (server, argv[1], argv[2], &error))
        return fail (error);
      g_print (_("Revoked the device %s of %s; it must log in again.\n"), argv[2], argv[1]);
      return 0;
    }
  if (!kh_server_token_revoke (server, argv[1], &n, &error))
    return fail (error);
  g_print (g_dngettext (GETTEXT_PACKAGE, "Revoked %lld token of %s.\n", "Revoked %lld tokens of %s.\n",
                        (gulong) n), (long long) n, argv[1]);
  return 0;
}

static int
cmd_token_list (const KhCliCommand  *command,
                int                  argc,
                char               **argv,
                gpointer             data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  int rc;

  if ((rc = check_rest (argc - 1, argv + 1, 1, NULL)) != 0)
    return rc;
  server = open_server (1, TRUE, &error);
  if (server == NULL || (devices = kh_server_device_list (server, argv[1], &error)) == NULL)
    return fail (error);
  if (devices->len == 0)
    {
      g_print (_("%s is not signed in on any device.\n"), argv[1]);
      return 0;
    }
  g_print ("%s\t%s\t%s\t%s\n", _("DEVICE"), _("SIGNED IN"), _("LAST USED"), _("FROM"));
  for (guint i = 0; i < devices->len; i++)
    {
      KhServerDevice *d = devices->pdata[i];

      g_print ("%s\t%s\t%s\t%s\n", d->id, d->created_at, d->used_at, d->address ? d->address : "-");
    }
  return 0;
}

static int
cmd_epoch_bump (const KhCliCommand  *command,
               int                  argc,
               char               **argv,
               gpointer             data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  gint64 epoch = 0;
  int rc;

  if ((rc = check_rest (argc - 1, argv + 1, 0, NULL)) != 0)
    return rc;
  server = open_server (1, TRUE, &error);
  if (server == NULL || !kh_server_epoch_bump (server, &epoch, &error))
    return fail (error);
  g_print (_("The epoch is now %lld; every client will re-pull.\n"), (long long) epoch);
  return 0;
}

/* backup FILE, restore FILE: SQLite only (PostgreSQL has pg_dump and pg_restore). */
static int
cmd_backup (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  g_autoptr(GError) error = NULL;
  int rc;

  if ((rc = check_rest (argc, argv, 1, NULL)) != 0)
    return rc;
  if (!kh_server_backup (db_url, argv[0], &error))
    return fail (error);
  g_print (_("Backed up %s to %s.\n"), db_url, argv[0]);
  return 0;
}

static int
cmd_restore (const KhCliCommand  *command,
             int                  argc,
             char               **argv,
             gpointer             data)
{
  g_autoptr(GError) error = NULL;
  gint64 epoch = 0;
  int rc;

  if ((rc = check_rest (argc, argv, 1, NULL)) != 0)
    return rc;
  if (!kh_server_restore (db_url, argv[0], &epoch, &error))
    return fail (error);
  g_print (_("Restored %s from %s; the epoch is now %lld, and every client will re-pull.\n"), db_url,
           argv[0], (long long) epoch);
  return 0;
}

/* org import and demo --------------------------------------------------------------------------- */

static void
print_refusals (const KhServerImportReport *report)
{
  for (guint i = 0; i < report->refusals->len; i++)
    g_printerr ("%s\n", (const char *) report->refusals->pdata[i]);
}

static int
cmd_org_import (const KhCliCommand  *command,
               int                  argc,
               char               **argv,
               gpointer             data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  const char *path;
  KhServerImportReport report;
  gboolean ok;
  int rc;

  if ((rc = check_rest (argc - 1, argv + 1, 1, NULL)) != 0)
    return rc;
  path = argv[1];
  server = open_server (1, TRUE, &error);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr (_("khuyenhoc-server: There is no file “%s”: give org import the path of the unit list (CSV).\n"),
                  path);
      return 1;
    }
  if (server == NULL)
    return fail (error);
  kh_server_import_report_init (&report);
  ok = kh_server_import_org (server, path, &report, &error);
  print_refusals (&report);
  if (ok)
    g_print (_("Imported %u units from %s.\n"), report.records - report.rejected, path);
  kh_server_import_report_clear (&report);
  if (!ok)
    return fail (error);
  return report.rejected > 0 ? 1 : 0;
}

static int
cmd_demo (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  g_autoptr(GError) error = NULL;
  static const char * const options[] = { "--records", "--credentials", NULL };
  const char *records_text = take_option (&argc, argv, "--records");
  const char *credentials = take_option (&argc, argv, "--credentials");
  gint64 records = 5000;
  g_autoptr(KhServer) server = NULL;
  g_autofree char *admin_pw = NULL;
  g_autofree char *officer_pw = NULL;
  g_autofree char *text = NULL;
  KhServerImportReport report;
  gint64 imported;
  int rejected;
  gboolean ok;
  int rc;

  if ((rc = check_rest (argc, argv, 0, options)) != 0)
    return rc;
  if (!number_option ("--records", records_text, 1, 100000000, &records))
    return 2;
  server = open_server (1, FALSE, &error);
  if (server == NULL || !kh_server_init_schema (server, &error))
    return fail (error);

  kh_server_import_report_init (&report);
  ok = kh_server_import_demo (server, records, &report, &error);
  print_refusals (&report);
  imported = report.records;
  rejected = (int) report.rejected;
  kh_server_import_report_clear (&report);
  if (!ok || !kh_server_import_demo_accounts (server, &admin_pw, &officer_pw, &error))
    return fail (error);

  text = g_strdup_printf ("admin\t%s\t(%s)\nofficer\t%s\t(%s)\n", admin_pw ? admin_pw : _("(unchanged)"),
                          "56N", officer_pw ? officer_pw : _("(unchanged)"), "N001");
  if (credentials != NULL)
    {
      if (!g_file_set_contents_full (credentials, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
        return fail (error);
      g_print (_("Imported %lld demo records (%d refused). Accounts are in %s.\n"),
               (long long) (imported - rejected), rejected, credentials);
    }
  else
    g_print (_("Imported %lld demo records (%d refused). Accounts (created now, "
               "or kept from an earlier run):\n%s"), (long long) (imported - rejected), rejected, text);
  return 0;
}

/* serve ---------------------------------------------------------------------------------------- */

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static gboolean
purge_cb (gpointer data)
{
  g_autoptr(GError) error = NULL;
  gint64 purged = 0;

  if (!kh_server_purge_tombstones (data, &purged, &error))
    g_message ("purging tombstones failed: %s", error->message);
  else if (purged > 0)
    g_message ("purged %" G_GINT64_FORMAT " tombstones past the window", purged);
  g_clear_error (&error);
  if (!kh_server_collect_files (data, &purged, &error))
    g_message ("collecting files failed: %s", error->message);
  else if (purged > 0)
    g_message ("removed %" G_GINT64_FORMAT " files nobody refers to any more", purged);
  return G_SOURCE_CONTINUE;
}

static guint
connections_gauge (gpointer data)
{
  return kh_http_server_get_connections (data);
}

static guint
in_flight_gauge (gpointer data)
{
  return kh_http_server_get_in_flight (data);
}

/* How long a stop waits for the requests in flight: below systemd's TimeoutStopSec (30 s), and
 * above the longest a request takes (a large push, a first pull's page). */
#define DRAIN_SECONDS 25

static int
cmd_serve (const KhCliCommand  *command,
          int                  argc,
          char               **argv,
          gpointer             data)
{
  g_autoptr(GError) error = NULL;
  const char *listen = take_option (&argc, argv, "--listen");
  const char *port_file = take_option (&argc, argv, "--port-file");
  const char *threads = take_option (&argc, argv, "--threads");
  const char *max_conn = take_option (&argc, argv, "--max-connections");
  const char *max_body = take_option (&argc, argv, "--max-body");
  const char *tomb = take_option (&argc, argv, "--tombstone-days");
  const char *request_timeout = take_option (&argc, argv, "--request-timeout");
  const char *per_address = take_option (&argc, argv, "--max-connections-per-address");
  const char *body_memory = take_option (&argc, argv, "--max-body-memory");
  const char *token_days = take_option (&argc, argv, "--token-days");
  const char *tls_cert = take_option (&argc, argv, "--tls-cert");
  const char *tls_key = take_option (&argc, argv, "--tls-key");
  const char *files = take_option (&argc, argv, "--files");
  const char *max_mb = take_option (&argc, argv, "--attachment-max-mb");
  g_autoptr(GPtrArray) proxies = g_ptr_array_new_with_free_func (g_free);
  const char *proxy;
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  const char *metrics_listen = take_option (&argc, argv, "--metrics");
  KhMetricsServer *metrics = NULL;
  g_autoptr(KhServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  KhHttpServer *http;
  KhHttpLimits limits;
  guint16 port = 0;

  static const char * const options[] = {
    "--listen", "--port-file", "--threads", "--max-connections", "--max-body", "--tombstone-days",
    "--request-timeout", "--max-connections-per-address", "--max-body-memory", "--token-days",
    "--tls-cert", "--tls-key", "--trusted-proxy", "--metrics", "--files", "--attachment-max-mb", NULL
  };
  gint64 n_threads, n_conn, n_seconds, n_body, n_days = -1, n_per_address, n_memory, n_token_days = 90;
  int rc;

  /* --trusted-proxy may be given several times, and each may list addresses with commas. */
  while ((proxy = take_option (&argc, argv, "--trusted-proxy")) != NULL)
    {
      g_auto(GStrv) list = g_strsplit (proxy, ",", -1);

      for (guint i = 0; list[i] != NULL; i++)
        {
          g_autofree char *address = kh_http_normalize_address (list[i]);

          if (address == NULL)
            {
              g_autofree char *message = g_strdup_printf (_("--trusted-proxy takes IP addresses, not “%s”."),
                                                          list[i]);

              return usage_error (message);
            }
          g_ptr_array_add (proxies, g_steal_pointer (&address));
        }
    }
  g_ptr_array_add (proxies, NULL);
  if ((rc = check_rest (argc, argv, 0, options)) != 0)
    return rc;
  if ((tls_cert == NULL) != (tls_key == NULL))
    return usage_error (_("--tls-cert and --tls-key go together: the certificate chain and its key, in PEM."));
  kh_http_limits_init (&limits);
  n_threads = limits.threads;
  n_conn = limits.max_connections;
  n_seconds = limits.request_seconds;
  n_body = (gint64) limits.max_body;
  n_per_address = limits.max_per_address;
  n_memory = (gint64) limits.max_in_flight;
  if (!number_option ("--max-connections-per-address", per_address, 1, 100000, &n_per_address)
      || !number_option ("--max-body-memory", body_memory, 65536, G_MAXINT, &n_memory)
      || !number_option ("--token-days", token_days, 1, 36500, &n_token_days)
      || !number_option ("--threads", threads, 1, 256, &n_threads)
      || !number_option ("--max-connections", max_conn, 1, 100000, &n_conn)
      || !number_option ("--request-timeout", request_timeout, 1, 3600, &n_seconds)
      || !number_option ("--max-body", max_body, 1024, G_MAXINT / 4, &n_body)
      || !number_option ("--tombstone-days", tomb, 0, 36500, &n_days))
    return 2;
  limits.threads = (guint) n_threads;
  limits.max_connections = (guint) n_conn;
  limits.request_seconds = (int) n_seconds;
  limits.max_per_address = (guint) n_per_address;
  limits.max_in_flight = (gsize) n_memory;
  limits.trusted_proxies = (char **) proxies->pdata;
  if (tls_cert != NULL)
    {
      if (!g_file_get_contents (tls_cert, &cert_pem, NULL, &error)
          || !g_file_get_contents (tls_key, &key_pem, NULL, &error))
        return fail (error);
      limits.tls_cert = cert_pem;
      limits.tls_key = key_pem;
    }
  if (max_body != NULL)
    {
      limits.max_body = (gsize) n_body;
      limits.max_inflated = 4 * limits.max_body;
    }

  server = open_server (limits.threads + 1, TRUE, &error);
  if (server == NULL)
    return fail (error);
  if (n_days >= 0)
    kh_server_set_tombstone_days (server, (int) n_days);
  kh_server_set_token_days (server, (int) n_token_days);
  if (!set_up_files (server, files, max_mb, &error))
    return fail (error);
  if (!kh_server_adopt_tokens (server, &error))
    return fail (error);
  purge_cb (server);

  /* A stop asked for as soon as the port is known (a script that read the port file) is
   * heard: the handlers are in place before the port is written, and the loop answers them
   * once it runs. Installed after, a SIGTERM in between ended the process without draining. */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);

  http = kh_http_server_start (server, listen ? listen : "127.0.0.1:8080", &limits, &port, &error);
  if (http == NULL)
    return fail (error);
  if (port_file != NULL)
    {
      g_autofree char *text = g_strdup_printf ("%u\n", port);

      if (!g_file_set_contents (port_file, text, -1, &error))
        {
          kh_http_server_stop (http);
          g_printerr (_("khuyenhoc-server: Could not write the port file “%s”: %s\n"), port_file,
                      error->message);
          return 1;
        }
    }
  if (metrics_listen != NULL)
    {
      guint16 metrics_port = 0;

      metrics = kh_metrics_server_start (server, metrics_listen, connections_gauge, in_flight_gauge, http,
                                         &metrics_port, &error);
      if (metrics == NULL)
        {
          kh_http_server_stop (http);
          return fail (error);
        }
      g_print (_("Metrics on port %u.\n"), metrics_port);
    }
  if (key_pem != NULL)
    sodium_memzero (key_pem, strlen (key_pem));
  g_print (limits.tls_cert != NULL ? _("Serving HTTPS on port %u (database %s).\n")
                                   : _("Serving on port %u (database %s).\n"), port, db_url);

  g_timeout_add_seconds (3600, purge_cb, server);
  g_main_loop_run (loop);
  /* Every request that arrived is answered before the process ends: a push whose answer
   * was cut off would be sent again, but a client should not have to. */
  if (!kh_http_server_drain (http, DRAIN_SECONDS))
    g_message ("stopping with %u requests still running after %d s", kh_http_server_get_in_flight (http),
               DRAIN_SECONDS);
  kh_metrics_server_stop (metrics);
  kh_http_server_stop (http);
  return 0;
}

/* The commands ------------------------------------------------------------------------------- */

static const KhCliCommand commands[] = {
  { "init", "init", N_("create the tables, the server id and epoch 1"), 0, -1, cmd_init, NULL },
  { "user add", N_("user add NAME --role admin|officer|viewer --scope CODE [--password-file F] [--can P]"),
    N_("add an account (the password from F, or from standard input)"), 0, -1, cmd_user, NULL },
  { "user list", "user list", N_("the accounts, their role, scope and state"), 0, -1, cmd_user, NULL },
  { "user disable", N_("user disable NAME"), N_("stop an account; its tokens stop working"), 0, -1, cmd_user, NULL },
  { "user scope", N_("user scope NAME CODE"), N_("move an account to another unit"), 0, -1, cmd_user, NULL },
  { "user can", N_("user can NAME submit,approve,pay|none"),
    N_("what an account may do in approvals: the officer submits, the chair approves, the "
       "treasurer pays"), 0, -1, cmd_user, NULL },
  { "token list", N_("token list NAME"), N_("the devices a user is signed in on"), 0, -1, cmd_token_list, NULL },
  { "token revoke", N_("token revoke NAME [DEVICE]"), N_("log a user out everywhere, or on one device"), 0, -1,
    cmd_token_revoke, NULL },
  { "org import", N_("org import FILE.csv"), N_("import the official unit list"), 0, -1, cmd_org_import, NULL },
  { "epoch bump", "epoch bump", N_("after restoring a backup: every client re-pulls"), 0, -1, cmd_epoch_bump,
    NULL },
  { "backup", N_("backup FILE"), N_("copy a SQLite database while it serves"), 0, -1, cmd_backup, NULL },
  { "restore", N_("restore FILE"), N_("put a backup back; every client re-pulls"), 0, -1, cmd_restore, NULL },
  { "demo", N_("demo [--records N] [--credentials F]"), N_("fill with demo data and two accounts"), 0, -1,
    cmd_demo, NULL },
  { "files check", N_("files check [--files DIR]"),
    N_("count the attached files and check each one's hash"), 0, -1, cmd_files, NULL },
  { "files collect", N_("files collect [--files DIR] [--tombstone-days N]"),
    N_("remove files nobody refers to any more"), 0, -1, cmd_files, NULL },
  { "serve", N_("serve [--listen HOST:PORT] [--port-file F] [--threads N] [--max-connections N] "
                "[--max-body BYTES] [--request-timeout S] [--tombstone-days N] [--token-days N] "
                "[--max-connections-per-address N] [--max-body-memory BYTES] [--trusted-proxy ADDR] "
                "[--tls-cert FILE --tls-key FILE] [--metrics HOST:PORT] [--files DIR] "
                "[--attachment-max-mb N]"),
    N_("answer the clients (127.0.0.1:8080 unless --listen)"), 0, -1, cmd_serve, NULL },
  { NULL, NULL, NULL, 0, 0, NULL, NULL }
};

static void
usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: khuyenhoc-server [--db URL] COMMAND"));
  kh_cli_print_commands (out, _("Commands:"), commands);
  fprintf (out, "\n%s\n%s\n",
           _("URL is sqlite:/path/server.db or postgresql://…; the default is $KHUYENHOC_SERVER_DB, "
             "else /var/lib/khuyenhoc/server.db for root, else ~/.local/share/khuyenhoc/server.db."),
           _("“khuyenhoc-server COMMAND --help” shows one command's usage."));
}

/* @argv's first one or two words as a command of the table. */
static const KhCliCommand *
find_command (int    argc,
              char **argv)
{
  g_autofree char *two = argc >= 2 ? g_strdup_printf ("%s %s", argv[0], argv[1]) : NULL;
  const KhCliCommand *c = kh_cli_command_find (commands, argv[0]);

  if (c == NULL && two != NULL)
    c = kh_cli_command_find (commands, two);
  return c;
}

int
main (int argc, char **argv)
{
  static const KhCliProgram program = {
    "khuyenhoc-server", "khuyenhoc-server [--db URL]", "khuyenhoc-server: ", 36
  };
  g_autofree char *url = NULL;
  g_autoptr(GError) error = NULL;
  gboolean help = FALSE;
  const char *db;

  /* Each answer of a first pull is a page of megabytes, made, compressed and freed. */
  kh_memory_setup ();

  setlocale (LC_ALL, "");
  /* KHUYENHOC_LOCALEDIR points at build/po when run from the build tree, as the app does. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("KHUYENHOC_LOCALEDIR") && *g_getenv ("KHUYENHOC_LOCALEDIR")
                                   ? g_getenv ("KHUYENHOC_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  if (sodium_init () < 0)
    return 1;
  kh_cli_set_program (&program);
  kh_cli_install_visible_output ();

  argc--;
  argv++;
  for (int i = 0; i < argc; i++)
    if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
      {
        memmove (&argv[i], &argv[i + 1], sizeof (char *) * (size_t) (argc - i - 1));
        argc--;
        help = TRUE;
        break;
      }
  if (argc > 0 && strcmp (argv[argc - 1], "--db") == 0)
    {
      g_printerr ("%s\n", _("khuyenhoc-server: The option --db needs a value, as in --db sqlite:/var/lib/khuyenhoc/server.db."));
      return 2;
    }
  db = take_option (&argc, argv, "--db");
  if (argc < 1)
    {
      if (help)
        {
          usage (stdout);
          return 0;
        }
      g_printerr ("%s\n", _("khuyenhoc-server: No command was given. Run “khuyenhoc-server --help” to see the commands."));
      return 2;
    }
  current_command = find_command (argc, argv);
  if (current_command == NULL)
    {
      g_autofree char *words = argc >= 2 && (strcmp (argv[0], "user") == 0 || strcmp (argv[0], "token") == 0
                                             || strcmp (argv[0], "org") == 0 || strcmp (argv[0], "epoch") == 0)
                               ? g_strdup_printf ("%s %s", argv[0], argv[1]) : g_strdup (argv[0]);

      g_printerr (_("khuyenhoc-server: Unknown command “%s”. Run “khuyenhoc-server --help” to see the commands.\n"),
                  words);
      return 2;
    }
  if (help)
    {
      kh_cli_print_help (current_command);
      return 0;
    }
  url = db != NULL ? g_strdup (db) : default_db_url ();
  db_url = url;

  return kh_cli_dispatch (current_command, argc - 1, argv + 1, NULL);
}
