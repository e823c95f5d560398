/* khuyenhoc-cli.c: a scriptable front door to the local store
 *
 * Used by tests and by officers' IT staff. Errors go to stderr, in the same words the window
 * shows, with a non-zero exit; --json prints machine-readable output.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "kh-cli-common.h"
#include "kh-cli-key.h"
#include "kh-cli-attach.h"
#include "kh-cli-sync.h"
#include "kh-cli-visible.h"
#include "kh-demo.h"
#include "kh-entity.h"
#include "kh-error.h"
#include "kh-memory.h"
#include "kh-export.h"
#include "kh-format.h"
#include "kh-import.h"
#include "kh-ledger-print.h"
#include "kh-print.h"
#include "kh-privacy.h"
#include "kh-record-item.h"
#include "kh-report.h"
#include "kh-cli-models.h"
#include "kh-sqlite.h"
#include "kh-store.h"
#include "kh-validate.h"

typedef KhCliContext Cli;

#define EXIT_OK KH_CLI_EXIT_OK
#define EXIT_FAILED KH_CLI_EXIT_FAILED
#define EXIT_USAGE KH_CLI_EXIT_USAGE

static void
print_error (GError *error)
{
  g_autofree char *message = kh_cli_visible (error->message, KH_CLI_VISIBLE_ONE_LINE);

  g_printerr ("%s\n", message);
}

/* A value inside a line of output, shown on that line: records come from a server. */
static char *
one_line (const char *text)
{
  return kh_cli_visible (text, KH_CLI_VISIBLE_ONE_LINE);
}

static char *
member_line (json_object *row,
             const char  *name)
{
  return one_line (json_object_get_string (json_object_object_get (row, name)));
}

static void
print_json (json_object *obj)
{
  g_print ("%s\n", json_object_to_json_string_ext (obj, JSON_C_TO_STRING_PRETTY
                                                          | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A whole number given to an option such as --limit; anything else is refused by name. */
static gboolean
parse_number (const char  *option,
              const char  *text,
              gint64       min,
              gint64       max,
              gint64      *out,
              GError     **error)
{
  gint64 v;

  if (text == NULL || !g_ascii_string_to_signed (text, 10, min, max, &v, NULL))
    {
      /* gettext cannot see through G_GINT64_FORMAT, so the numbers go in as text. */
      g_autofree char *lo = g_strdup_printf ("%" G_GINT64_FORMAT, min);
      g_autofree char *hi = g_strdup_printf ("%" G_GINT64_FORMAT, max);

      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                   _("%s needs a whole number from %s to %s, not “%s”."),
                   option, lo, hi, text ? text : "");
      return FALSE;
    }
  *out = v;
  return TRUE;
}

static const KhEntity *
entity_or_fail (const char *name)
{
  const KhEntity *entity = kh_entity_lookup (name);

  if (entity == NULL)
    g_printerr (_("There is no kind of record called “%s”. Run “khuyenhoc-cli entities” to see them.\n"),
                name);
  return entity;
}

/* FIELD=VALUE arguments into a JSON object of typed values; "FIELD=" is a JSON null. */
static json_object *
parse_assignments (const KhEntity  *entity,
                   int              argc,
                   char           **argv,
                   GError         **error)
{
  json_object *values = json_object_new_object ();

  for (int i = 0; i < argc; i++)
    {
      const char *eq = strchr (argv[i], '=');
      g_autofree char *name = NULL;
      const KhField *field;
      json_object *value = NULL;

      if (eq == NULL || eq == argv[i])
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("“%s” is not FIELD=VALUE."), argv[i]);
          json_object_put (values);
          return NULL;
        }
      name = g_strndup (argv[i], eq - argv[i]);
      field = kh_entity_get_field (entity, name);
      if (field == NULL)
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                       _("“%s” is not a field of %s."), name, _(entity->label));
          json_object_put (values);
          return NULL;
        }
      if (!kh_field_parse (field, eq + 1, &value, error))
        {
          json_object_put (values);
          return NULL;
        }
      json_object_object_add (values, name, value);
    }
  return values;
}

/* A reference as a person reads it: what it names, then its id to type in the next command. */
static char *
reference_text (KhStore        *store,
                const KhEntity *entity,
                const KhField  *field,
                json_object    *record,
                json_object    *value)
{
  const char *target = field->ref_entity;
  g_autofree char *title = NULL;

  if (target == NULL && field->ref_kind != NULL)
    target = json_object_get_string (json_object_object_get (record, field->ref_kind));
  if (target != NULL && kh_entity_lookup (target) != NULL)
    title = kh_store_dup_title (store, target, json_object_get_string (value));
  if (title == NULL)
    return g_strdup (json_object_get_string (value));
  /* TRANSLATORS: a reference in a record: "Xã Suối Hiệp (01a24e89-…)" */
  return g_strdup_printf (_("%s (%s)"), title, json_object_get_string (value));
}

static void
print_record (KhStore        *store,
              const KhEntity *entity,
              json_object    *record)
{
  json_object *v;

  g_autofree char *id = member_line (record, "id");

  g_print ("%s: %s\n", _("Id"), id);
  for (guint i = 0; i < entity->n_fields; i++)
    if (json_object_object_get_ex (record, entity->fields[i].name, &v) && v != NULL)
      {
        g_autofree char *text = entity->fields[i].type == KH_FIELD_REF && json_object_is_type (v, json_type_string)
                                ? reference_text (store, entity, &entity->fields[i], record, v)
                                : kh_value_format (&entity->fields[i], v);
        g_autofree char *shown = one_line (text);

        g_print ("%s: %s\n", _(entity->fields[i].label), shown);
      }
  if (json_object_get_boolean (json_object_object_get (record, "deleted")))
    g_print ("%s\n", _("(deleted)"));
}

static KhStore *
open_store (Cli *cli)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *fallback = NULL;
  g_autofree char *folder = NULL;
  const char *path = cli->db_path;
  KhStore *store;

  if (path == NULL)
    path = g_getenv ("KHUYENHOC_DB");
  if (path == NULL || *path == '\0')
    {
      g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "khuyenhoc", NULL);

      kh_sqlite_make_private_folder (dir);
      fallback = g_build_filename (dir, "khuyenhoc.db", NULL);
      path = fallback;
    }
  /* The replica's key first: from the keyring, or a passphrase (kh-cli-key.c). */
  folder = g_path_get_dirname (path);
  if (g_file_test (folder, G_FILE_TEST_IS_DIR) && !g_file_test (path, G_FILE_TEST_IS_DIR)
      && !kh_cli_unlock (path, cli->passphrase_file, &error))
    store = NULL;
  else
    store = kh_store_open (path, &error);
  if (store == NULL)
    {
      g_autofree char *why = g_error_matches (error, KH_DATA_ERROR, KH_DATA_ERROR_KEY)
                             || g_error_matches (error, KH_DATA_ERROR, KH_DATA_ERROR_TAMPERED)
                             ? NULL : kh_cli_explain_db_path (path, "--db");

      if (why != NULL)
        g_printerr (_("Could not open the database “%s”: %s"), path, why);
      else
        g_printerr ("%s", error->message);
      g_printerr ("\n");
      return NULL;
    }
  if (cli->actor != NULL)
    kh_store_set_actor (store, cli->actor);
  return store;
}

static int
cmd_init (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  if (cli->json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "path", json_object_new_string (kh_store_get_path (store)));
      json_object_object_add (o, "replica_id", json_object_new_string (kh_store_get_replica_id (store)));
      print_json (o);
      json_object_put (o);
    }
  else
    g_print (_("The database %s is ready.\n"), kh_store_get_path (store));
  return EXIT_OK;
}

static int
cmd_add (const KhCliCommand  *command,
        int                  argc,
        char               **argv,
        gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;
  const KhEntity *entity;
  json_object *values;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  values = parse_assignments (entity, cli->argc - 1, cli->argv + 1, &error);
  if (values != NULL)
    id = kh_store_create (store, entity->name, values, &error);
  json_object_put (values);
  if (id == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *record = kh_store_get (store, entity->name, id, NULL);
      print_json (record);
      json_object_put (record);
    }
  else
    g_print ("%s\n", id);
  return EXIT_OK;
}

static int
cmd_set (const KhCliCommand  *command,
        int                  argc,
        char               **argv,
        gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  const KhEntity *entity;
  json_object *values;
  gboolean ok = FALSE;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  values = parse_assignments (entity, cli->argc - 2, cli->argv + 2, &error);
  if (values != NULL)
    ok = kh_store_update (store, entity->name, cli->argv[1], values, &error);
  json_object_put (values);
  if (!ok)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *record = kh_store_get (store, entity->name, cli->argv[1], NULL);
      print_json (record);
      json_object_put (record);
    }
  return EXIT_OK;
}

static int
cmd_delete (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  gboolean restore = strcmp (command->name, "restore") == 0;
  g_autoptr(GError) error = NULL;
  const KhEntity *entity;
  gboolean ok;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  ok = restore ? kh_store_restore (store, entity->name, cli->argv[1], &error)
               : kh_store_delete (store, entity->name, cli->argv[1], &error);
  if (!ok)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

static int
cmd_get (const KhCliCommand  *command,
        int                  argc,
        char               **argv,
        gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  const KhEntity *entity;
  json_object *record;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  record = kh_store_get (store, entity->name, cli->argv[1], &error);
  if (record == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (record);
  else
    print_record (store, entity, record);
  json_object_put (record);
  return EXIT_OK;
}

/* --where, --limit, --offset, --order, --desc, --deleted after the entity name. */
static gboolean
parse_query (Cli             *cli,
             const KhEntity  *entity,
             KhQuery         *query,
             GError         **error)
{
  for (int i = 1; i < cli->argc; i++)
    {
      const char *arg = cli->argv[i];
      const char *next = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;

      if (strcmp (arg, "--deleted") == 0)
        query->include_deleted = TRUE;
      else if (strcmp (arg, "--desc") == 0)
        query->descending = TRUE;
      else if (next == NULL && (strcmp (arg, "--where") == 0 || strcmp (arg, "--order") == 0
                                || strcmp (arg, "--limit") == 0 || strcmp (arg, "--offset") == 0))
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("The option %s needs a value."), arg);
          return FALSE;
        }
      else if (strcmp (arg, "--where") == 0)
        {
          json_object *pair;
          char *argv1[] = { (char *) next };

          pair = parse_assignments (entity, 1, argv1, error);
          if (pair == NULL)
            return FALSE;
          if (query->where == NULL)
            query->where = json_object_new_object ();
          json_object_object_foreach (pair, key, val)
            json_object_object_add (query->where, key, val ? json_object_get (val) : NULL);
          json_object_put (pair);
          i++;
        }
      else if (strcmp (arg, "--limit") == 0)
        {
          if (!parse_number ("--limit", next, 0, G_MAXINT64, &query->limit, error))
            return FALSE;
          i++;
        }
      else if (strcmp (arg, "--offset") == 0)
        {
          if (!parse_number ("--offset", next, 0, G_MAXINT64, &query->offset, error))
            return FALSE;
          i++;
        }
      else if (strcmp (arg, "--order") == 0)
        {
          if (kh_entity_get_field (entity, next) == NULL)
            {
              g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_UNKNOWN_FIELD,
                           _("“%s” is not a field of %s."), next, _(entity->label));
              return FALSE;
            }
          query->order_by = next;
          i++;
        }
      else
        {
          g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_INVALID,
                       _("Unknown option “%s”."), arg);
          return FALSE;
        }
    }
  return TRUE;
}

static int
cmd_list (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  gboolean count_only = strcmp (command->name, "count") == 0;
  g_autoptr(GError) error = NULL;
  const KhEntity *entity;
  KhQuery query = { 0 };
  json_object *rows = NULL;
  int status = EXIT_OK;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  if (!parse_query (cli, entity, &query, &error))
    {
      kh_cli_usage_error (command, error->message);
      json_object_put (query.where);
      return EXIT_USAGE;
    }

  if (count_only)
    {
      gint64 n = kh_store_count (store, entity->name, &query, &error);

      if (n < 0)
        status = EXIT_FAILED;
      else if (cli->json)
        g_print ("{ \"count\": %" G_GINT64_FORMAT " }\n", n);
      else
        g_print ("%" G_GINT64_FORMAT "\n", n);
    }
  else if ((rows = kh_store_list (store, entity->name, &query, &error)) == NULL)
    status = EXIT_FAILED;
  else if (cli->json)
    print_json (rows);
  else
    for (size_t r = 0; r < json_object_array_length (rows); r++)
      {
        json_object *row = json_object_array_get_idx (rows, r);
        g_autofree char *id = member_line (row, "id");
        GString *line = g_string_new (id);

        for (guint i = 0; i < entity->n_fields; i++)
          if (entity->fields[i].flags & KH_FIELD_FLAG_SUMMARY)
            {
              g_autofree char *text = kh_value_format (&entity->fields[i],
                                                       json_object_object_get (row, entity->fields[i].name));
              g_autofree char *shown = one_line (text);

              g_string_append_printf (line, "\t%s", shown);
            }
        g_print ("%s\n", line->str);
        g_string_free (line, TRUE);
      }

  if (status != EXIT_OK)
    print_error (error);
  json_object_put (rows);
  json_object_put (query.where);
  return status;
}

static int
cmd_search (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  const char *entity = NULL;
  int limit = 50;
  json_object *hits;

  for (int i = 1; i < cli->argc; i += 2)
    {
      const char *next = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
      gint64 n;

      if (strcmp (cli->argv[i], "--entity") != 0 && strcmp (cli->argv[i], "--limit") != 0)
        return kh_cli_unknown_option (command, cli->argv[i]);
      if (next == NULL)
        return kh_cli_missing_value (command, cli->argv[i]);
      if (strcmp (cli->argv[i], "--entity") == 0)
        {
          if (entity_or_fail (next) == NULL)
            return EXIT_USAGE;
          entity = next;
        }
      else
        {
          if (!parse_number ("--limit", next, 1, 10000, &n, &error))
            return kh_cli_usage_error (command, error->message);
          limit = (int) n;
        }
    }
  hits = kh_store_search (store, cli->argv[0], entity, limit, &error);
  if (hits == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (hits);
  else
    for (size_t i = 0; i < json_object_array_length (hits); i++)
      {
        json_object *hit = json_object_array_get_idx (hits, i);
        g_autofree char *title = member_line (hit, "title");

        g_print ("%s\t%s\t%s\n",
                 json_object_get_string (json_object_object_get (hit, "entity")),
                 json_object_get_string (json_object_object_get (hit, "id")), title);
      }
  json_object_put (hits);
  return EXIT_OK;
}

static int
cmd_history (const KhCliCommand  *command,
            int                  argc,
            char               **argv,
            gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  const KhEntity *entity;
  json_object *rows;

  if ((entity = entity_or_fail (cli->argv[0])) == NULL)
    return EXIT_USAGE;
  rows = kh_store_history (store, entity->name, cli->argv[1], &error);
  if (rows == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (rows);
  else
    for (size_t i = 0; i < json_object_array_length (rows); i++)
      {
        json_object *row = json_object_array_get_idx (rows, i);
        json_object *field = json_object_object_get (row, "field");
        json_object *old_value = json_object_object_get (row, "old_value");
        json_object *new_value = json_object_object_get (row, "new_value");
        g_autofree char *at = member_line (row, "at");
        g_autofree char *actor = member_line (row, "actor");
        g_autofree char *action = member_line (row, "action");

        g_print ("%s\t%s\t%s", at, actor, action);
        if (field != NULL)
          {
            g_autofree char *name = one_line (json_object_get_string (field));
            g_autofree char *before = one_line (old_value ? json_object_get_string (old_value) : "∅");
            g_autofree char *after = one_line (new_value ? json_object_get_string (new_value) : "∅");

            g_print ("\t%s: %s → %s", name, before, after);
          }
        g_print ("\n");
      }
  json_object_put (rows);
  return EXIT_OK;
}

static int
cmd_outbox (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  json_object *rows = kh_store_list_outbox (store, &error);

  if (rows == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (rows);
  else
    for (size_t i = 0; i < json_object_array_length (rows); i++)
      {
        json_object *row = json_object_array_get_idx (rows, i);

        g_print ("%s\t%s\t%s\t%s\t%s\n",
                 json_object_get_string (json_object_object_get (row, "op")),
                 json_object_get_string (json_object_object_get (row, "entity")),
                 json_object_get_string (json_object_object_get (row, "record_id")),
                 json_object_to_json_string_ext (json_object_object_get (row, "fields"), JSON_C_TO_STRING_PLAIN),
                 json_object_get_string (json_object_object_get (row, "state")));
      }
  json_object_put (rows);
  return EXIT_OK;
}

static int
cmd_entities (const KhCliCommand  *command,
             int                  argc,
             char               **argv,
             gpointer             data)
{
  const KhEntity * const *entities;
  guint n;

  entities = kh_entities (&n);
  for (guint e = 0; e < n; e++)
    {
      g_print ("%s — %s\n", entities[e]->name, _(entities[e]->label_plural));
      for (guint i = 0; i < entities[e]->n_fields; i++)
        {
          const KhField *f = &entities[e]->fields[i];

          g_print ("  %s%s — %s", f->name, (f->flags & KH_FIELD_FLAG_REQUIRED) ? "*" : "", _(f->label));
          if (f->enum_values != NULL)
            {
              g_autofree char *joined = g_strjoinv ("|", (char **) f->enum_values);
              g_print (" [%s]", joined);
            }
          g_print ("\n");
        }
    }
  return EXIT_OK;
}

static int
cmd_demo (const KhCliCommand  *command,
         int                  argc,
         char               **argv,
         gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  gint64 records = 5000;
  guint32 seed = 2025;
  KhDemoStats stats = { 0 };

  for (int i = 0; i < cli->argc; i += 2)
    {
      const char *next = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;
      gint64 n;

      if (strcmp (cli->argv[i], "--records") == 0)
        {
          if (!parse_number ("--records", next, 1, 100000000, &records, &error))
            return kh_cli_usage_error (command, error->message);
        }
      else if (strcmp (cli->argv[i], "--seed") == 0)
        {
          if (!parse_number ("--seed", next, 0, G_MAXUINT32, &n, &error))
            return kh_cli_usage_error (command, error->message);
          seed = (guint32) n;
        }
      else
        return kh_cli_unknown_option (command, cli->argv[i]);
    }
  if (!kh_demo_generate (store, records, seed, &stats, &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    g_print ("{ \"records\": %" G_GINT64_FORMAT ", \"seconds\": %.3f }\n", stats.records, stats.seconds);
  else
    {
      g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, stats.records);

      g_print (_("Made %s demo records in %.1f s.\n"), count, stats.seconds);
    }
  return EXIT_OK;
}

/* Lists in and out, figures, printing -------------------------------------------------------- */

/* A file the command is about to write, checked first so the person reads one clear line
 * instead of a library's complaint. */
static gboolean
output_ok (const char *path)
{
  g_autofree char *why = path != NULL ? kh_cli_explain_output_path (path) : NULL;

  if (why != NULL)
    g_printerr ("%s\n", why);
  return why == NULL;
}

static json_object *
problems_json (GPtrArray *list)
{
  json_object *array = json_object_new_array ();

  for (guint i = 0; i < list->len; i++)
    {
      KhImportProblem *p = list->pdata[i];
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "row", json_object_new_int ((int) p->row));
      if (p->column != NULL)
        json_object_object_add (o, "column", json_object_new_string (p->column));
      if (p->field != NULL)
        json_object_object_add (o, "field", json_object_new_string (p->field));
      json_object_object_add (o, "reason", json_object_new_string (p->reason));
      json_object_array_add (array, o);
    }
  return array;
}

static void
print_problems (GPtrArray  *list,
                guint       total,
                const char *kind)
{
  for (guint i = 0; i < list->len && i < 50; i++)
    {
      KhImportProblem *p = list->pdata[i];

      if (p->column != NULL)
        g_printerr (_("%s: row %u, column “%s”: %s\n"), kind, p->row, p->column, p->reason);
      else
        g_printerr (_("%s: row %u: %s\n"), kind, p->row, p->reason);
    }
  if (total > 50)
    g_printerr (_("… and %u more.\n"), total - 50);
}

/* What an import did, for --json. */
static json_object *
import_report_json (KhImportReport *report)
{
  json_object *o = json_object_new_object ();
  json_object *mapping = json_object_new_object ();

  for (guint i = 0; i < report->headers->len; i++)
    {
      int f = g_array_index (report->mapping, int, i);

      if (f >= 0 && *(char *) report->headers->pdata[i] != '\0')
        json_object_object_add (mapping, report->headers->pdata[i],
                                json_object_new_string (kh_entity_lookup (report->entity)->fields[f].name));
    }
  json_object_object_add (o, "committed", json_object_new_boolean (report->committed));
  json_object_object_add (o, "needs_decision", json_object_new_boolean (report->needs_decision));
  json_object_object_add (o, "header_row", json_object_new_int ((int) report->header_row));
  json_object_object_add (o, "mapping", mapping);
  json_object_object_add (o, "rows_read", json_object_new_int ((int) report->rows_read));
  json_object_object_add (o, "rows_valid", json_object_new_int ((int) report->rows_valid));
  json_object_object_add (o, "rows_written", json_object_new_int ((int) report->rows_written));
  json_object_object_add (o, "rows_skipped", json_object_new_int ((int) report->rows_skipped));
  json_object_object_add (o, "errors", problems_json (report->errors));
  json_object_object_add (o, "duplicates", problems_json (report->duplicates));
  return o;
}

static int
cmd_import (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhImportReport) report = NULL;
  g_autoptr(GPtrArray) map = g_ptr_array_new ();
  KhImportOptions options = { 0 };
  const char *report_path = NULL;
  const char *positional[2] = { NULL, NULL };
  int n_positional = 0;

  for (int i = 0; i < cli->argc; i++)
    {
      const char *a = cli->argv[i];
      const char *next = i + 1 < cli->argc ? cli->argv[i + 1] : NULL;

      if (strcmp (a, "--dry-run") == 0)
        options.dry_run = TRUE;
      else if (next == NULL && a[0] == '-'
               && g_strv_contains ((const char * const[]) { "--list", "--unit", "--map", "--report",
                                                             "--duplicates", NULL }, a))
        return kh_cli_missing_value (command, a);
      else if (next != NULL && strcmp (a, "--list") == 0)
        options.list_id = cli->argv[++i];
      else if (next != NULL && strcmp (a, "--unit") == 0)
        options.org_unit_id = cli->argv[++i];
      else if (next != NULL && strcmp (a, "--map") == 0)
        g_ptr_array_add (map, cli->argv[++i]);
      else if (next != NULL && strcmp (a, "--report") == 0)
        report_path = cli->argv[++i];
      else if (next != NULL && strcmp (a, "--duplicates") == 0)
        {
          i++;
          if (strcmp (next, "skip") == 0)
            options.duplicates = KH_IMPORT_DUPLICATES_SKIP;
          else if (strcmp (next, "import") == 0)
            options.duplicates = KH_IMPORT_DUPLICATES_IMPORT;
          else if (strcmp (next, "ask") == 0)
            options.duplicates = KH_IMPORT_DUPLICATES_ASK;
          else
            return kh_cli_usage_error (command, _("--duplicates takes ask, skip or import."));
        }
      else if (a[0] == '-')
        return kh_cli_unknown_option (command, a);
      else if (n_positional < 2)
        positional[n_positional++] = a;
      else
        {
          g_autofree char *message = g_strdup_printf (_("Too many arguments after “%s”."), "import");

          return kh_cli_usage_error (command, message);
        }
    }
  if (n_positional != 2)
    {
      g_autofree char *message = g_strdup_printf (_("Something is missing after “%s”."), "import");

      return kh_cli_usage_error (command, message);
    }
  if (entity_or_fail (positional[0]) == NULL)
    return EXIT_USAGE;
  if (!g_file_test (positional[1], G_FILE_TEST_IS_REGULAR))
    {
      g_printerr (_("There is no file “%s” to import.\n"), positional[1]);
      return EXIT_FAILED;
    }
  if (!output_ok (report_path))
    return EXIT_FAILED;
  g_ptr_array_add (map, NULL);
  options.entity = positional[0];
  options.map = map->len > 1 ? (const char * const *) map->pdata : NULL;

  report = kh_import_file (store, positional[1], &options, &error);
  if (report == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (report_path != NULL && !kh_import_report_save_csv (report, report_path, &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }

  if (cli->json)
    {
      json_object *o = import_report_json (report);

      print_json (o);
      json_object_put (o);
    }
  else
    {
      g_autofree char *summary = kh_import_report_summary (report);

      print_problems (report->errors, report->n_errors, _("Error"));
      print_problems (report->duplicates, report->n_duplicates, _("Possible duplicate"));
      if (report->needs_decision)
        g_printerr ("%s\n", _("Run again with --duplicates skip or --duplicates import."));
      g_print ("%s\n", summary);
    }
  return report->n_errors == 0 && !report->needs_decision ? EXIT_OK : EXIT_FAILED;
}

static int
cmd_export (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  KhExportOptions options = { .style = KH_FORMAT_AUTO };
  const char *positional[2] = { NULL, NULL };
  int n_positional = 0;
  gint64 n = 0;

  for (int i = 0; i < cli->argc; i++)
    {
      if (strcmp (cli->argv[i], "--list") == 0)
        {
          if (i + 1 >= cli->argc)
            return kh_cli_missing_value (command, "--list");
          options.list_id = cli->argv[++i];
        }
      else if (strcmp (cli->argv[i], "--include-sensitive") == 0)
        options.include_sensitive = TRUE;
      else if (cli->argv[i][0] == '-')
        return kh_cli_unknown_option (command, cli->argv[i]);
      else if (n_positional < 2)
        positional[n_positional++] = cli->argv[i];
      else
        {
          g_autofree char *message = g_strdup_printf (_("Too many arguments after “%s”."), "export");

          return kh_cli_usage_error (command, message);
        }
    }
  if (n_positional != 2)
    {
      g_autofree char *message = g_strdup_printf (_("Something is missing after “%s”."), "export");

      return kh_cli_usage_error (command, message);
    }
  if (entity_or_fail (positional[0]) == NULL)
    return EXIT_USAGE;
  if (!output_ok (positional[1]))
    return EXIT_FAILED;
  if (options.include_sensitive)
    g_printerr ("%s\n", _("Warning: the file will hold sensitive personal data (national ids, "
                          "ethnicity, health and hardship notes, children's addresses and phones). "
                          "Keep it safe, share it only with those who need it, and delete it when "
                          "done. The export is written to the audit."));
  if (!kh_export_file (store, positional[0], positional[1], &options, &n, &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    g_print ("{ \"rows\": %" G_GINT64_FORMAT " }\n", n);
  else
    g_print (g_dngettext (GETTEXT_PACKAGE, "Wrote %lu row to %s.\n",
                          "Wrote %lu rows to %s.\n", (gulong) n), (gulong) n, positional[1]);
  return EXIT_OK;
}

static int
cmd_report (const KhCliCommand  *command,
           int                  argc,
           char               **argv,
           gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  const char *unit = NULL;
  const char *xlsx = NULL;
  gboolean by_successor = FALSE;
  int year = 0, last_year = 0;
  json_object *report;

  for (int i = 0; i < cli->argc; i++)
    {
      const char *a = cli->argv[i];

      if (strcmp (a, "--by-successor") == 0)
        {
          by_successor = TRUE;
          continue;
        }
      if (strcmp (a, "--unit") != 0 && strcmp (a, "--year") != 0 && strcmp (a, "--xlsx") != 0)
        return kh_cli_unknown_option (command, a);
      if (i + 1 >= cli->argc)
        return kh_cli_missing_value (command, a);
      if (strcmp (a, "--unit") == 0)
        unit = cli->argv[++i];
      else if (strcmp (a, "--xlsx") == 0)
        xlsx = cli->argv[++i];
      else
        {
          /* One year, or several side by side: 2021-2025. */
          g_auto(GStrv) range = g_strsplit (cli->argv[++i], "-", 2);
          gint64 y, z;

          if (!parse_number ("--year", range[0], 1900, 2200, &y, &error)
              || (range[1] != NULL && !parse_number ("--year", range[1], 1900, 2200, &z, &error)))
            return kh_cli_usage_error (command, error->message);
          year = (int) y;
          last_year = range[1] != NULL ? (int) z : 0;
        }
    }
  if (unit == NULL || year == 0)
    {
      g_autofree char *message = g_strdup_printf (_("report needs %s."),
                                                  unit == NULL ? "--unit CODE" : "--year YEAR");

      return kh_cli_usage_error (command, message);
    }
  if (!output_ok (xlsx))
    return EXIT_FAILED;
  report = last_year != 0 ? kh_report_compute_years (store, unit, year, last_year, by_successor, &error)
                          : kh_report_compute (store, unit, year, by_successor, &error);
  if (report == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (xlsx != NULL && !(last_year != 0 ? kh_report_years_export_xlsx (report, xlsx, &error)
                                       : kh_report_export_xlsx (report, xlsx, &error)))
    {
      print_error (error);
      json_object_put (report);
      return EXIT_FAILED;
    }
  if (cli->json)
    print_json (report);
  else
    {
      g_autofree char *text = last_year != 0 ? kh_report_years_to_text (report, KH_FORMAT_AUTO)
                                             : kh_report_to_text (report, KH_FORMAT_AUTO);

      g_print ("%s", text);
    }
  json_object_put (report);
  return EXIT_OK;
}

static int
cmd_print_list (const KhCliCommand  *command,
               int                  argc,
               char               **argv,
               gpointer             data)
{
  Cli *cli = data;
  KhStore *store = cli->store;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhAwardListDoc) doc = NULL;

  if (!output_ok (cli->argv[1]))
    return EXIT_FAILED;
  doc = kh_award_list_doc_new (store, cli->argv[0], &error);
  if (doc == NULL || !kh_award_list_doc_write_pdf (doc, cli->argv[1], &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (!cli->json)
    g_print (_("Wrote the award list to %s.\n"), cli->argv[1]);
  return EXIT_OK;
}

/* A fund's statement for a year, or that of every fund of a unit (the id names either), as a
 * PDF, or as XLSX when the file's name ends so; with --json, its figures. */
static int
cmd_fund_statement (const KhCliCommand  *command,
                    int                  argc,
                    char               **argv,
                    gpointer             data)
{
  Cli *cli = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(KhFundStatement) s = NULL;
  json_object *fund = kh_store_get (cli->store, "fund", cli->argv[0], NULL);
  const char *path = cli->argv[2];
  g_autofree char *unit = NULL;
  gboolean is_fund;
  int year = (int) g_ascii_strtoll (cli->argv[1], NULL, 10);
  gboolean ok;

  unit = g_strdup (fund != NULL ? json_object_get_string (json_object_object_get (fund, "org_unit_id")) : cli->argv[0]);
  is_fund = fund != NULL;
  json_object_put (fund);
  if (year < 1945 || year > 2100)
    return kh_cli_usage_error (command, _("The year must be a number such as 2025."));
  if (!output_ok (path))
    return EXIT_FAILED;
  s = kh_fund_statement_new (cli->store, is_fund ? cli->argv[0] : NULL, is_fund ? NULL : cli->argv[0],
                             year, &error);
  if (g_str_has_suffix (path, ".xlsx"))
    ok = s != NULL && kh_fund_statement_write_xlsx (s, path, &error);
  else
    ok = s != NULL && kh_fund_statement_write_pdf (s, cli->store, unit, path, &error);
  if (!ok)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "opening", json_object_new_int64 (s->opening));
      json_object_object_add (o, "receipts", json_object_new_int64 (s->receipts));
      json_object_object_add (o, "in_kind", json_object_new_int64 (s->in_kind));
      json_object_object_add (o, "payments", json_object_new_int64 (s->payments));
      json_object_object_add (o, "closing", json_object_new_int64 (s->closing));
      print_json (o);
      json_object_put (o);
    }
  else
    g_print (_("Wrote the fund statement to %s.\n"), path);
  return EXIT_OK;
}

static int
cmd_receipt (const KhCliCommand  *command,
             int                  argc,
             char               **argv,
             gpointer             data)
{
  Cli *cli = data;
  g_autoptr(GError) error = NULL;

  if (!output_ok (cli->argv[1]))
    return EXIT_FAILED;
  if (!kh_donation_receipt_write_pdf (cli->store, cli->argv[0], cli->argv[1], &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (!cli->json)
    g_print (_("Wrote the receipt to %s.\n"), cli->argv[1]);
  return EXIT_OK;
}

/* Records the payment of a list from its fund: the disbursement's id. */
static int
cmd_pay_list (const KhCliCommand  *command,
              int                  argc,
              char               **argv,
              gpointer             data)
{
  Cli *cli = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *id = NULL;

  if (!kh_ledger_pay_list (cli->store, cli->argv[0], NULL, cli->argv[1], cli->argc > 2 ? cli->argv[2] : NULL,
                           &id, &error))
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (id != NULL)
    g_print ("%s\n", id);
  return EXIT_OK;
}

/* The minors to see about: their count, then one a line (id, name, date of birth). */
static int
cmd_no_consent (const KhCliCommand  *command,
                int                  argc,
                char               **argv,
                gpointer             data)
{
  Cli *cli = data;
  g_autoptr(GError) error = NULL;
  json_object *rows = NULL;
  gint64 limit = 0;
  gint64 n;

  for (int i = 0; i < cli->argc; i++)
    {
      if (strcmp (cli->argv[i], "--limit") == 0 && i + 1 < cli->argc)
        limit = g_ascii_strtoll (cli->argv[++i], NULL, 10);
      else if (strcmp (cli->argv[i], "--limit") == 0)
        return kh_cli_missing_value (command, "--limit");
      else
        return kh_cli_unknown_option (command, cli->argv[i]);
    }
  n = kh_store_count_without_consent (cli->store, &error);
  rows = n >= 0 ? kh_store_list_without_consent (cli->store, limit, &error) : NULL;
  if (rows == NULL)
    {
      print_error (error);
      return EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "count", json_object_new_int64 (n));
      json_object_object_add (o, "people", rows);
      print_json (o);
      json_object_put (o);
      return EXIT_OK;
    }
  g_print (g_dngettext (GETTEXT_PACKAGE, "%lu minor has no valid consent.\n",
                        "%lu minors have no valid consent.\n", (gulong) n), (gulong) n);
  for (size_t i = 0; i < json_object_array_length (rows); i++)
    {
      json_object *row = json_object_array_get_idx (rows, i);
      const char *birth = json_object_get_string (json_object_object_get (row, "birth_date"));

      g_print ("%s\t%s\t%s\n", json_object_get_string (json_object_object_get (row, "id")),
               json_object_get_string (json_object_object_get (row, "full_name")), birth ? birth : "");
    }
  json_object_put (rows);
  return EXIT_OK;
}

/* The commands ------------------------------------------------------------------------------- */

static const KhCliCommand record_commands[] = {
  { "init", "init", N_("create or upgrade the database"), 0, 0, cmd_init, NULL },
  { "add", N_("add ENTITY FIELD=VALUE…"), N_("create a record, print its id"), 1, -1, cmd_add, NULL },
  { "set", N_("set ENTITY ID FIELD=VALUE…"), N_("change fields (FIELD= clears one)"), 3, -1, cmd_set, NULL },
  { "delete", N_("delete ENTITY ID"), N_("delete a record (a tombstone, can be restored)"), 2, 2, cmd_delete, NULL },
  { "restore", N_("restore ENTITY ID"), N_("undo a delete"), 2, 2, cmd_delete, NULL },
  { "get", N_("get ENTITY ID"), N_("show a record"), 2, 2, cmd_get, NULL },
  { "list", N_("list ENTITY [--where FIELD=VALUE]… [--limit N] [--offset N] [--order FIELD] [--desc] [--deleted]"),
    N_("list records, one a line (id and main fields)"), 1, -1, cmd_list, NULL },
  { "count", N_("count ENTITY [--where FIELD=VALUE]… [--deleted]"), N_("count records"), 1, -1, cmd_list, NULL },
  { "search", N_("search TEXT [--entity ENTITY] [--limit N]"),
    N_("find records by name or title, with or without diacritics"), 1, -1, cmd_search, NULL },
  { "history", N_("history ENTITY ID"), N_("who changed what, and when"), 2, 2, cmd_history, NULL },
  { "outbox", "outbox", N_("changes waiting to be sent"), 0, 0, cmd_outbox, NULL },
  { "no-consent", N_("no-consent [--limit N]"), N_("minors whose record lacks a valid consent"), 0, -1,
    cmd_no_consent, NULL },
  { "entities", "entities", N_("the kinds of record and their fields"), 0, 0, cmd_entities, NULL },
  { "demo", N_("demo [--records N] [--seed S]"), N_("fill the database with realistic demo data"), 0, -1, cmd_demo, NULL },
  { NULL, NULL, NULL, 0, 0, NULL, NULL }
};

static const KhCliCommand list_commands[] = {
  { "import", N_("import ENTITY FILE [--list ID] [--unit CODE] [--map COLUMN=field]… [--dry-run] "
                 "[--duplicates ask|skip|import] [--report FILE]"),
    N_("read a CSV or Excel file, all rows or none"), 0, -1, cmd_import, NULL },
  { "export", N_("export ENTITY FILE.xlsx|FILE.csv [--list ID] [--include-sensitive]"),
    N_("write records to an Excel or CSV file"), 0, -1, cmd_export, NULL },
  { "report", N_("report --unit CODE --year YEAR[-YEAR] [--by-successor] [--json] [--xlsx FILE]"),
    N_("the figures of a unit and the units below it, for a year or several side by side"), 0, -1, cmd_report, NULL },
  { "print-list", N_("print-list LIST_ID FILE.pdf"), N_("the award list for signatures, as a PDF"), 2, 2, cmd_print_list, NULL },
  { "fund-statement", N_("fund-statement FUND_ID|UNIT_ID YEAR FILE.pdf|FILE.xlsx"),
    N_("a fund's year, or that of every fund of a unit: receipts, payments, balances"), 3, 3,
    cmd_fund_statement, NULL },
  { "receipt", N_("receipt DONATION_ID FILE.pdf"), N_("a donation's receipt, with the amount in words"), 2, 2,
    cmd_receipt, NULL },
  { "pay-list", N_("pay-list LIST_ID DATE [VOUCHER]"),
    N_("pay what is left of an award list from its fund and mark it paid"), 2, 3, cmd_pay_list, NULL },
  { "recognize", N_("recognize --decision NUMBER --date DATE --level LEVEL [--title TEXT] [--reason TEXT] "
                    "(REGISTRATION_ID… | --unit CODE --model MODEL --year YEAR)"),
    N_("recognize registrations by one decision, all or none"), 0, -1, kh_cli_recognize, NULL },
  { "criteria-builtin", "criteria-builtin", N_("add the built-in criteria sets the database lacks"), 0, 0,
    kh_cli_criteria_builtin, NULL },
  { NULL, NULL, NULL, 0, 0, NULL, NULL }
};

static const KhCliCommand *
find_command (const char *name)
{
  const KhCliCommand *c = kh_cli_command_find (record_commands, name);

  if (c == NULL)
    c = kh_cli_command_find (list_commands, name);
  if (c == NULL)
    c = kh_cli_command_find (kh_cli_sync_commands, name);
  if (c == NULL)
    c = kh_cli_command_find (kh_cli_attach_commands, name);
  return c;
}

static void
usage (FILE *out)
{
  fprintf (out, "%s\n\n", _("Usage: khuyenhoc-cli [--db FILE] [--json] [--actor NAME] COMMAND …"));
  kh_cli_print_commands (out, _("Commands:"), record_commands);
  fprintf (out, "\n%s\n",
           _("The database is FILE, or $KHUYENHOC_DB, or khuyenhoc.db in the user data folder."));
  fprintf (out, "%s\n",
           _("It is encrypted with a key kept in the desktop keyring or, where there is none, in "
             "FILE.key under a passphrase, given with --passphrase-file FILE, "
             "$KHUYENHOC_PASSPHRASE or typed when asked."));
  kh_cli_sync_usage (out);
  kh_cli_attach_usage (out);
  fprintf (out, "\n");
  kh_cli_print_commands (out, _("Lists and figures:"), list_commands);
  fprintf (out, "\n%s\n", _("“khuyenhoc-cli COMMAND --help” shows one command's usage."));
}

int
main (int   argc,
      char *argv[])
{
  static const KhCliProgram program = { "khuyenhoc-cli", "khuyenhoc-cli", "", 32 };
  g_autoptr(KhStore) store = NULL;
  const KhCliCommand *current;
  Cli cli = { 0 };
  const char *command = NULL;
  g_autoptr(GPtrArray) rest = g_ptr_array_new ();
  gboolean help = FALSE;
  int i;

  kh_memory_setup ();
  setlocale (LC_ALL, "");
  /* KHUYENHOC_LOCALEDIR points at build/po when run from the build tree, as the app does. */
  bindtextdomain (GETTEXT_PACKAGE, g_getenv ("KHUYENHOC_LOCALEDIR") && *g_getenv ("KHUYENHOC_LOCALEDIR")
                                   ? g_getenv ("KHUYENHOC_LOCALEDIR") : LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  kh_cli_set_program (&program);
  kh_cli_install_visible_output ();

  for (i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--json") == 0)
        cli.json = TRUE;
      else if (strcmp (argv[i], "--db") == 0 || strcmp (argv[i], "--actor") == 0
               || strcmp (argv[i], "--passphrase-file") == 0)
        {
          /* An empty --db would open SQLite's private temporary database and lose every
           * write. */
          if (i + 1 >= argc || *argv[i + 1] == '\0')
            {
              g_printerr (_("The option %s needs a value. Run “khuyenhoc-cli --help” to see the options.\n"),
                          argv[i]);
              return EXIT_USAGE;
            }
          if (strcmp (argv[i], "--db") == 0)
            cli.db_path = argv[++i];
          else if (strcmp (argv[i], "--passphrase-file") == 0)
            cli.passphrase_file = argv[++i];
          else
            cli.actor = argv[++i];
        }
      else if (strcmp (argv[i], "--help") == 0 || strcmp (argv[i], "-h") == 0)
        help = TRUE;
      else if (command == NULL)
        command = argv[i];
      else
        g_ptr_array_add (rest, argv[i]);
    }
  if (command == NULL && help)
    {
      usage (stdout);
      return EXIT_OK;
    }
  if (command == NULL)
    {
      g_printerr ("%s\n", _("No command was given. Run “khuyenhoc-cli --help” to see the commands."));
      return EXIT_USAGE;
    }
  if ((current = find_command (command)) == NULL)
    {
      g_printerr (_("Unknown command “%s”. Run “khuyenhoc-cli --help” to see the commands.\n"), command);
      return EXIT_USAGE;
    }
  if (help)
    {
      kh_cli_print_help (current);
      return EXIT_OK;
    }
  g_ptr_array_add (rest, NULL);
  cli.argc = (int) rest->len - 1;
  cli.argv = (char **) rest->pdata;
  if (!kh_cli_check_args (current, cli.argc))
    return EXIT_USAGE;

  /* The list of entities is the registry's: it needs no database. */
  if (current->handler != cmd_entities)
    {
      store = open_store (&cli);
      if (store == NULL)
        return EXIT_FAILED;
    }
  cli.store = store;
  return current->handler (current, cli.argc, cli.argv, &cli);
}
