/* khuyenhoc-server: the central sync server and its admin commands
 *
 *   khuyenhoc-server [--db URL] init
 *   khuyenhoc-server [--db URL] user add NAME --role admin|officer|viewer --scope CODE [--password-file F]
 *   khuyenhoc-server [--db URL] user list | user disable NAME | user scope NAME CODE
 *   khuyenhoc-server [--db URL] token revoke NAME
 *   khuyenhoc-server [--db URL] org import FILE.csv
 *   khuyenhoc-server [--db URL] epoch bump
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
#include <glib/gstdio.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kh-cli-common.h"
#include "kh-codec.h"
#include "kh-demo.h"
#include "kh-entity.h"
#include "kh-memory.h"
#include "kh-server-core.h"
#include "kh-server-http.h"
#include "kh-store.h"
#include "kh-uuid.h"
#include "kh-validate.h"

static const char *db_url;

static int
fail (const GError *error)
{
  g_printerr ("khuyenhoc-server: %s\n", error->message);
  return 1;
}

typedef struct
{
  const char *name;      /* one or two words */
  const char *synopsis;  /* N_(), after "khuyenhoc-server " */
  const char *summary;   /* N_() */
} Command;

static const Command commands[] = {
  { "init", "init", N_("create the tables, the server id and epoch 1") },
  { "user add", N_("user add NAME --role admin|officer|viewer --scope CODE [--password-file F]"),
    N_("add an account (the password from F, or from standard input)") },
  { "user list", "user list", N_("the accounts, their role, scope and state") },
  { "user disable", N_("user disable NAME"), N_("stop an account; its tokens stop working") },
  { "user scope", N_("user scope NAME CODE"), N_("move an account to another unit") },
  { "token revoke", N_("token revoke NAME"), N_("log a user out everywhere") },
  { "org import", N_("org import FILE.csv"), N_("import the official unit list") },
  { "epoch bump", "epoch bump", N_("after restoring a backup: every client re-pulls") },
  { "demo", N_("demo [--records N] [--credentials F]"), N_("fill with demo data and two accounts") },
  { "serve", N_("serve [--listen HOST:PORT] [--port-file F] [--threads N] [--max-connections N] "
                "[--max-body BYTES] [--request-timeout S] [--tombstone-days N]"),
    N_("answer the clients (127.0.0.1:8080 unless --listen)") },
  { NULL, NULL, NULL }
};

static void
usage (FILE *out)
{
  fprintf (out, "%s\n\n%s\n", _("Usage: khuyenhoc-server [--db URL] COMMAND"), _("Commands:"));
  for (const Command *c = commands; c->name != NULL; c++)
    {
      const char *synopsis = _(c->synopsis);
      glong width = g_utf8_strlen (synopsis, -1);

      if (width > 33)
        fprintf (out, "  %s\n%36s%s\n", synopsis, "", _(c->summary));
      else
        fprintf (out, "  %s%*s%s\n", synopsis, (int) (34 - width), "", _(c->summary));
    }
  fprintf (out, "\n%s\n%s\n",
           _("URL is sqlite:/path/server.db or postgresql://…; the default is $KHUYENHOC_SERVER_DB, "
             "else /var/lib/khuyenhoc/server.db for root, else ~/.local/share/khuyenhoc/server.db."),
           _("“khuyenhoc-server COMMAND --help” shows one command's usage."));
}

/* @argv's first one or two words as a command of the table. */
static const Command *
find_command (int    argc,
              char **argv)
{
  for (const Command *c = commands; c->name != NULL; c++)
    {
      g_autofree char *two = argc >= 2 ? g_strdup_printf ("%s %s", argv[0], argv[1]) : NULL;

      if (strcmp (c->name, argv[0]) == 0 || g_strcmp0 (c->name, two) == 0)
        return c;
    }
  return NULL;
}

static const Command *current_command;

/* "@message Usage: khuyenhoc-server SYNOPSIS" on one line, exit status 2. */
static int
usage_error (const char *message)
{
  /* TRANSLATORS: the first %s is what is wrong, the second the command's synopsis. */
  g_printerr (_("khuyenhoc-server: %s Usage: khuyenhoc-server %s\n"), message, _(current_command->synopsis));
  return 2;
}

static int
wrong_count (int argc,
             int expected)
{
  g_autofree char *message = g_strdup_printf (argc < expected ? _("Something is missing after “%s”.")
                                                              : _("Too many arguments after “%s”."),
                                              current_command->name);

  return usage_error (message);
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
        g_autofree char *message = NULL;

        if (options != NULL && g_strv_contains (options, argv[i]))
          message = g_strdup_printf (_("The option %s needs a value."), argv[i]);
        else
          message = g_strdup_printf (_("Unknown option “%s”."), argv[i]);
        return usage_error (message);
      }
  if (argc != expected)
    return wrong_count (argc, expected);
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

/* user ... ------------------------------------------------------------------------------------- */

static int
cmd_user (int argc, char **argv)
{
  static const char * const add_options[] = { "--role", "--scope", "--password-file", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = NULL;
  const char *role = NULL;
  const char *scope = NULL;
  const char *file = NULL;
  int rc;

  /* argv[0] is the second word: add, list, disable or scope. */
  if (strcmp (argv[0], "add") == 0)
    {
      role = take_option (&argc, argv, "--role");
      scope = take_option (&argc, argv, "--scope");
      file = take_option (&argc, argv, "--password-file");
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

          g_print ("%s\t%s\t%s\t%s\n", u->username, u->role, u->scope_code,
                   u->disabled ? _("disabled") : _("active"));
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
  if (!kh_server_user_set_scope (server, argv[1], argv[2], &error))
    return fail (error);
  g_print (_("%s now works in %s; their next sync re-pulls.\n"), argv[1], argv[2]);
  return 0;
}

/* org import ------------------------------------------------------------------------------------ */

/* One CSV line into fields (RFC 4180 quoting; a quoted field may not span lines). */
static GPtrArray *
csv_split (const char *line)
{
  GPtrArray *fields = g_ptr_array_new_with_free_func (g_free);
  GString *cur = g_string_new (NULL);
  gboolean quoted = FALSE;

  for (const char *p = line; ; p++)
    {
      if (quoted)
        {
          if (*p == '\0')
            break;
          if (*p == '"' && p[1] == '"')
            {
              g_string_append_c (cur, '"');
              p++;
            }
          else if (*p == '"')
            quoted = FALSE;
          else
            g_string_append_c (cur, *p);
        }
      else if (*p == '"')
        quoted = TRUE;
      else if (*p == ',' || *p == '\0' || *p == '\r' || *p == '\n')
        {
          g_ptr_array_add (fields, g_strstrip (g_string_free (cur, FALSE)));
          cur = g_string_new (NULL);
          if (*p != ',')
            break;
        }
      else
        g_string_append_c (cur, *p);
    }
  g_string_free (cur, TRUE);
  return fields;
}

/* A stable id for a unit of the official list, so importing the list again updates the same
 * records instead of duplicating them. */
static char *
derived_id (const char *kind,
            const char *a,
            const char *b)
{
  g_autofree char *key = g_strdup_printf ("%s|%s|%s", kind, a, b ? b : "");
  g_autofree char *h = g_compute_checksum_for_string (G_CHECKSUM_SHA256, key, -1);

  /* Version 8 (custom) UUID layout. */
  return g_strdup_printf ("%.8s-%.4s-8%.3s-%c%.3s-%.12s", h, h + 8, h + 12,
                          "89ab"[g_ascii_xdigit_value (h[15]) & 3], h + 16, h + 19);
}

typedef struct
{
  char *id;
  char *code;
  char *valid_from;
  char *valid_to;
} Unit;

static void
unit_free (Unit *u)
{
  g_free (u->id);
  g_free (u->code);
  g_free (u->valid_from);
  g_free (u->valid_to);
  g_free (u);
}

/* The unit with @code valid on @date (the file's units first, then the server's). */
static char *
resolve_code (KhServer    *server,
              GPtrArray   *units,
              const char  *code,
              const char  *date)
{
  Unit *best = NULL;

  for (guint i = 0; i < units->len; i++)
    {
      Unit *u = units->pdata[i];

      if (strcmp (u->code, code) != 0)
        continue;
      if (date == NULL
          || ((u->valid_from == NULL || strcmp (u->valid_from, date) <= 0)
              && (u->valid_to == NULL || strcmp (u->valid_to, date) >= 0)))
        best = u;
      else if (best == NULL)
        best = u;
    }
  if (best != NULL)
    return g_strdup (best->id);
  return kh_server_find_unit (server, code, NULL);
}

static gboolean
flush_batch (KhServer       *server,
             KhPushRequest  *request,
             int            *rejected,
             GError        **error)
{
  g_autoptr(KhPushResponse) response = NULL;

  if (request->mutations->len == 0)
    return TRUE;
  response = kh_server_apply_as_system (server, "import", request, error);
  if (response == NULL)
    return FALSE;
  for (guint i = 0; i < response->results->len; i++)
    {
      KhMutationResult *r = response->results->pdata[i];
      KhMutation *m = request->mutations->pdata[i];

      if (r->status == KH_RESULT_REJECTED || r->status == KH_RESULT_CONFLICT)
        {
          g_printerr (_("%s %s: %s\n"), m->entity, m->id,
                      r->message ? r->message : _("changed on the server meanwhile"));
          (*rejected)++;
        }
    }
  g_ptr_array_set_size (request->mutations, 0);
  return TRUE;
}

/* Adds a create, or an update of the fields that differ from the server's record. */
static void
add_put (KhServer      *server,
         KhPushRequest *request,
         const char    *entity,
         const char    *id,
         json_object   *fields)
{
  gint64 version = 0;
  g_autoptr(json_object) current = kh_server_get_record (server, entity, id, &version, NULL);
  KhMutation *m = kh_mutation_new ();

  m->mutation_id = kh_uuid_v7_new ();
  m->entity = g_strdup (entity);
  m->id = g_strdup (id);
  m->base_version = version;
  if (current == NULL)
    {
      m->op = KH_OP_CREATE;
      m->fields = json_object_get (fields);
    }
  else
    {
      m->op = KH_OP_UPDATE;
      m->fields = json_object_new_object ();
      json_object_object_foreach (fields, key, val)
        {
          json_object *cur = NULL;

          json_object_object_get_ex (current, key, &cur);
          if (!json_object_equal (cur, val))
            json_object_object_add (m->fields, key, json_object_get (val));
        }
      json_object_object_foreach (current, ckey, cval)
        {
          (void) cval;
          if (!json_object_object_get_ex (fields, ckey, NULL))
            json_object_object_add (m->fields, ckey, NULL);
        }
      if (json_object_object_length (m->fields) == 0)
        {
          kh_mutation_free (m);
          return;
        }
    }
  g_ptr_array_add (request->mutations, m);
}

static const char * const org_columns[] = {
  "code", "name", "kind", "parent_code", "valid_from", "valid_to", "population", "address",
  "successor_codes", "change", "change_date", "legal_basis", NULL
};

static int
cmd_org_import (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(KhServer) server = open_server (1, TRUE, &error);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) header = NULL;
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_free);
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  int col[G_N_ELEMENTS (org_columns)];
  int rejected = 0;
  const KhEntity *org = kh_entity_lookup ("org_unit");

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    {
      g_printerr (_("khuyenhoc-server: There is no file “%s”: give org import the path of the unit list (CSV).\n"),
                  path);
      return 1;
    }
  if (server == NULL)
    return fail (error);
  if (!g_file_get_contents (path, &text, NULL, &error))
    return fail (error);
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_printerr (_("khuyenhoc-server: %s is not UTF-8; save it as UTF-8 CSV.\n"), path);
      return 1;
    }
  request->client_id = kh_uuid_v7_new ();
  lines = g_strsplit (g_str_has_prefix (text, "\xEF\xBB\xBF") ? text + 3 : text, "\n", -1);
  if (lines[0] == NULL || *g_strstrip (lines[0]) == '\0')
    {
      g_printerr ("%s", _("khuyenhoc-server: the CSV needs at least the columns code, name and kind.\n"));
      return 1;
    }
  header = csv_split (lines[0]);
  for (guint c = 0; org_columns[c] != NULL; c++)
    {
      col[c] = -1;
      for (guint h = 0; h < header->len; h++)
        if (strcmp (header->pdata[h], org_columns[c]) == 0)
          col[c] = (int) h;
    }
  if (col[0] < 0 || col[1] < 0 || col[2] < 0)
    {
      g_printerr ("%s", _("khuyenhoc-server: the CSV needs at least the columns code, name and kind.\n"));
      return 1;
    }

#define CELL(row, c) (col[c] >= 0 && (guint) col[c] < (row)->len && *(char *) (row)->pdata[col[c]] != '\0' \
                      ? (const char *) (row)->pdata[col[c]] : NULL)

  for (guint i = 1; lines[i] != NULL; i++)
    {
      GPtrArray *row;
      Unit *u;

      if (*g_strstrip (lines[i]) == '\0')
        continue;
      row = csv_split (lines[i]);
      if (CELL (row, 0) == NULL)
        {
          g_printerr (_("khuyenhoc-server: line %u has no code.\n"), i + 1);
          g_ptr_array_unref (row);
          return 1;
        }
      u = g_new0 (Unit, 1);
      u->code = g_strdup (CELL (row, 0));
      u->valid_from = g_strdup (CELL (row, 4));
      u->valid_to = g_strdup (CELL (row, 5));
      u->id = derived_id ("org_unit", u->code, u->valid_from);
      g_ptr_array_add (units, u);
      g_ptr_array_add (rows, row);
    }

  for (guint i = 0; i < rows->len; i++)
    {
      GPtrArray *row = rows->pdata[i];
      Unit *u = units->pdata[i];
      g_autoptr(json_object) fields = json_object_new_object ();
      const char *parent_code = CELL (row, 3);

      json_object_object_add (fields, "code", json_object_new_string (u->code));
      json_object_object_add (fields, "name", json_object_new_string (CELL (row, 1) ? CELL (row, 1) : ""));
      json_object_object_add (fields, "kind", json_object_new_string (CELL (row, 2) ? CELL (row, 2) : ""));
      if (parent_code != NULL)
        {
          g_autofree char *parent = resolve_code (server, units, parent_code, u->valid_from);

          if (parent == NULL)
            {
              g_printerr (_("khuyenhoc-server: %s: the parent code %s is neither in the file nor on the server.\n"),
                          u->code, parent_code);
              return 1;
            }
          json_object_object_add (fields, "parent_id", json_object_new_string (parent));
        }
      for (int c = 4; c <= 7; c++)
        {
          const KhField *f = kh_entity_get_field (org, org_columns[c]);
          json_object *v = NULL;

          if (CELL (row, c) == NULL)
            continue;
          if (!kh_field_parse (f, CELL (row, c), &v, &error))
            {
              g_printerr ("khuyenhoc-server: %s: %s\n", u->code, error->message);
              return 1;
            }
          json_object_object_add (fields, org_columns[c], v);
        }
      add_put (server, request, "org_unit", u->id, fields);
      if (request->mutations->len >= KH_PUSH_MAX_MUTATIONS
          && !flush_batch (server, request, &rejected, &error))
        return fail (error);
    }
  if (!flush_batch (server, request, &rejected, &error))
    return fail (error);

  /* Succession links, once every unit exists. */
  for (guint i = 0; i < rows->len; i++)
    {
      GPtrArray *row = rows->pdata[i];
      Unit *u = units->pdata[i];
      const char *successors = CELL (row, 8);
      const char *change = CELL (row, 9);
      const char *date = CELL (row, 10);
      g_auto(GStrv) codes = NULL;

      if (change == NULL)
        continue;
      if (date == NULL)
        {
          g_printerr (_("khuyenhoc-server: %s: a change needs its change_date.\n"), u->code);
          return 1;
        }
      codes = g_strsplit (successors ? successors : "", ";", -1);
      for (guint k = 0; codes[k] != NULL || k == 0; k++)
        {
          g_autoptr(json_object) fields = json_object_new_object ();
          g_autofree char *succ = NULL;
          g_autofree char *id = NULL;
          g_autofree char *iso = NULL;
          const char *code = codes[k] != NULL ? g_strstrip (codes[k]) : "";

          if (*code != '\0')
            {
              succ = resolve_code (server, units, code, date);
              if (succ == NULL)
                {
                  g_printerr (_("khuyenhoc-server: %s: the successor %s is not known.\n"), u->code, code);
                  return 1;
                }
            }
          json_object_object_add (fields, "predecessor_id", json_object_new_string (u->id));
          if (succ != NULL)
            json_object_object_add (fields, "successor_id", json_object_new_string (succ));
          json_object_object_add (fields, "kind", json_object_new_string (change));
          if (!kh_date_parse (date, &iso))
            {
              g_printerr (_("khuyenhoc-server: %s: “%s” is not a date.\n"), u->code, date);
              return 1;
            }
          json_object_object_add (fields, "effective_date", json_object_new_string (iso));
          if (CELL (row, 11) != NULL)
            json_object_object_add (fields, "legal_basis", json_object_new_string (CELL (row, 11)));
          id = derived_id ("unit_succession", u->id, succ);
          add_put (server, request, "unit_succession", id, fields);
          if (codes[k] == NULL)
            break;
        }
      if (request->mutations->len >= KH_PUSH_MAX_MUTATIONS
          && !flush_batch (server, request, &rejected, &error))
        return fail (error);
    }
  if (!flush_batch (server, request, &rejected, &error))
    return fail (error);
#undef CELL

  g_print (_("Imported %u units from %s.\n"), units->len - (guint) rejected, path);
  return rejected > 0 ? 1 : 0;
}

/* demo ----------------------------------------------------------------------------------------- */

static char *
random_password (void)
{
  guchar raw[12];
  g_autofree char *b64 = NULL;

  randombytes_buf (raw, sizeof raw);
  b64 = g_base64_encode (raw, sizeof raw);
  g_strdelimit (b64, "+/=", 'x');
  return g_steal_pointer (&b64);
}

static int
cmd_demo (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  static const char * const options[] = { "--records", "--credentials", NULL };
  const char *records_text = take_option (&argc, argv, "--records");
  const char *credentials = take_option (&argc, argv, "--credentials");
  gint64 records = 5000;
  g_autoptr(KhServer) server = NULL;
  g_autofree char *tmpdir = NULL;
  g_autofree char *store_path = NULL;
  g_autoptr(KhStore) store = NULL;
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  guint n_entities;
  const KhEntity * const *entities = kh_entities (&n_entities);
  gint64 imported = 0;
  int rejected = 0;
  g_autofree char *admin_pw = random_password ();
  g_autofree char *officer_pw = random_password ();
  g_autofree char *text = NULL;

  int rc;

  if ((rc = check_rest (argc, argv, 0, options)) != 0)
    return rc;
  if (!number_option ("--records", records_text, 1, 100000000, &records))
    return 2;
  server = open_server (1, FALSE, &error);
  if (server == NULL || !kh_server_init_schema (server, &error))
    return fail (error);

  tmpdir = g_dir_make_tmp ("khuyenhoc-demo-XXXXXX", &error);
  if (tmpdir == NULL)
    return fail (error);
  store_path = g_build_filename (tmpdir, "demo.db", NULL);
  store = kh_store_open (store_path, &error);
  if (store == NULL || !kh_demo_generate (store, records, 20250701, NULL, &error))
    return fail (error);

  request->client_id = kh_uuid_v7_new ();
  for (guint e = 0; e < n_entities; e++)
    {
      const KhEntity *entity = entities[e];

      for (gint64 offset = 0; ; offset += 5000)
        {
          KhQuery q = { .include_deleted = TRUE, .offset = offset, .limit = 5000 };
          g_autoptr(json_object) list = kh_store_list (store, entity->name, &q, &error);
          size_t n;

          if (list == NULL)
            return fail (error);
          n = json_object_array_length (list);
          for (size_t i = 0; i < n; i++)
            {
              json_object *row = json_object_array_get_idx (list, i);
              KhMutation *m = kh_mutation_new ();

              m->mutation_id = kh_uuid_v7_new ();
              m->entity = g_strdup (entity->name);
              m->id = g_strdup (json_object_get_string (json_object_object_get (row, "id")));
              m->op = KH_OP_CREATE;
              m->fields = json_object_new_object ();
              for (guint f = 0; f < entity->n_fields; f++)
                {
                  json_object *v;

                  if (json_object_object_get_ex (row, entity->fields[f].name, &v) && v != NULL)
                    json_object_object_add (m->fields, entity->fields[f].name, json_object_get (v));
                }
              g_ptr_array_add (request->mutations, m);
              imported++;
              if (request->mutations->len >= KH_PUSH_MAX_MUTATIONS
                  && !flush_batch (server, request, &rejected, &error))
                return fail (error);
            }
          if (n < 5000)
            break;
        }
    }
  if (!flush_batch (server, request, &rejected, &error))
    return fail (error);
  g_clear_object (&store);
  g_unlink (store_path);
  {
    g_autofree char *wal = g_strconcat (store_path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (store_path, "-shm", NULL);

    g_unlink (wal);
    g_unlink (shm);
    g_rmdir (tmpdir);
  }

  /* An account kept from an earlier run keeps its password: never print one that does not
   * work. */
  if (!kh_server_user_add (server, "admin", "admin", "56N", admin_pw, &error))
    {
      if (!g_error_matches (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID))
        return fail (error);
      g_free (admin_pw);
      admin_pw = g_strdup (_("(unchanged)"));
    }
  g_clear_error (&error);
  if (!kh_server_user_add (server, "officer", "officer", "N001", officer_pw, &error))
    {
      if (!g_error_matches (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID))
        return fail (error);
      g_free (officer_pw);
      officer_pw = g_strdup (_("(unchanged)"));
    }
  g_clear_error (&error);

  text = g_strdup_printf ("admin\t%s\t(%s)\nofficer\t%s\t(%s)\n", admin_pw, "56N", officer_pw, "N001");
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
  return G_SOURCE_CONTINUE;
}

static int
cmd_serve (int argc, char **argv)
{
  g_autoptr(GError) error = NULL;
  const char *listen = take_option (&argc, argv, "--listen");
  const char *port_file = take_option (&argc, argv, "--port-file");
  const char *threads = take_option (&argc, argv, "--threads");
  const char *max_conn = take_option (&argc, argv, "--max-connections");
  const char *max_body = take_option (&argc, argv, "--max-body");
  const char *tomb = take_option (&argc, argv, "--tombstone-days");
  const char *request_timeout = take_option (&argc, argv, "--request-timeout");
  g_autoptr(KhServer) server = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  KhHttpServer *http;
  KhHttpLimits limits;
  guint16 port = 0;

  static const char * const options[] = {
    "--listen", "--port-file", "--threads", "--max-connections", "--max-body", "--tombstone-days",
    "--request-timeout", NULL
  };
  gint64 n_threads, n_conn, n_seconds, n_body, n_days = -1;
  int rc;

  if ((rc = check_rest (argc, argv, 0, options)) != 0)
    return rc;
  kh_http_limits_init (&limits);
  n_threads = limits.threads;
  n_conn = limits.max_connections;
  n_seconds = limits.request_seconds;
  n_body = (gint64) limits.max_body;
  if (!number_option ("--threads", threads, 1, 256, &n_threads)
      || !number_option ("--max-connections", max_conn, 1, 100000, &n_conn)
      || !number_option ("--request-timeout", request_timeout, 1, 3600, &n_seconds)
      || !number_option ("--max-body", max_body, 1024, G_MAXINT / 4, &n_body)
      || !number_option ("--tombstone-days", tomb, 0, 36500, &n_days))
    return 2;
  limits.threads = (guint) n_threads;
  limits.max_connections = (guint) n_conn;
  limits.request_seconds = (int) n_seconds;
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
  purge_cb (server);

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
  g_print (_("Serving on port %u (database %s).\n"), port, db_url);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_timeout_add_seconds (3600, purge_cb, server);
  g_main_loop_run (loop);
  kh_http_server_stop (http);
  return 0;
}

int
main (int argc, char **argv)
{
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
      g_print (_("Usage: khuyenhoc-server [--db URL] %s\n"), _(current_command->synopsis));
      g_print ("%s\n", _(current_command->summary));
      return 0;
    }
  url = db != NULL ? g_strdup (db) : default_db_url ();
  db_url = url;

  if (strcmp (current_command->name, "init") == 0)
    {
      g_autoptr(KhServer) server = NULL;
      g_autofree char *id = NULL;
      gint64 epoch;
      int rc;

      if ((rc = check_rest (argc - 1, argv + 1, 0, NULL)) != 0)
        return rc;
      server = open_server (1, FALSE, &error);
      if (server == NULL || !kh_server_init_schema (server, &error)
          || !kh_server_get_identity (server, &id, &epoch, &error))
        return fail (error);
      g_print (_("Server %s ready (epoch %lld).\n"), id, (long long) epoch);
      return 0;
    }
  if (strcmp (argv[0], "user") == 0)
    return cmd_user (argc - 1, argv + 1);
  if (strcmp (current_command->name, "token revoke") == 0)
    {
      g_autoptr(KhServer) server = NULL;
      gint64 n = 0;
      int rc;

      if ((rc = check_rest (argc - 2, argv + 2, 1, NULL)) != 0)
        return rc;
      server = open_server (1, TRUE, &error);
      if (server == NULL || !kh_server_token_revoke (server, argv[2], &n, &error))
        return fail (error);
      g_print (g_dngettext (GETTEXT_PACKAGE, "Revoked %lld token of %s.\n", "Revoked %lld tokens of %s.\n",
                            (gulong) n), (long long) n, argv[2]);
      return 0;
    }
  if (strcmp (current_command->name, "org import") == 0)
    {
      int rc = check_rest (argc - 2, argv + 2, 1, NULL);

      return rc != 0 ? rc : cmd_org_import (argv[2]);
    }
  if (strcmp (current_command->name, "epoch bump") == 0)
    {
      g_autoptr(KhServer) server = NULL;
      gint64 epoch = 0;
      int rc;

      if ((rc = check_rest (argc - 2, argv + 2, 0, NULL)) != 0)
        return rc;
      server = open_server (1, TRUE, &error);
      if (server == NULL || !kh_server_epoch_bump (server, &epoch, &error))
        return fail (error);
      g_print (_("The epoch is now %lld; every client will re-pull.\n"), (long long) epoch);
      return 0;
    }
  if (strcmp (current_command->name, "demo") == 0)
    return cmd_demo (argc - 1, argv + 1);
  return cmd_serve (argc - 1, argv + 1);
}
