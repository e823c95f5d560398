/* kh-cli-models.c: khuyenhoc-cli's commands for the learning models
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-cli-models.h"
#include "kh-cli-visible.h"
#include "kh-entity.h"
#include "kh-models.h"
#include "kh-store-sql.h"
#include "kh-validate.h"

static void
print_error (GError *error)
{
  g_autofree char *message = kh_cli_visible (error->message, KH_CLI_VISIBLE_ONE_LINE);

  g_printerr ("%s\n", message);
}

/* The id of the unit with the official @code valid today (or most recently). */
static char *
unit_by_code (KhStore    *store,
              const char *code)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT id FROM org_unit WHERE code = ? AND deleted = 0 "
                                         "ORDER BY valid_to IS NOT NULL, valid_to DESC LIMIT 1", NULL);
  char *id = NULL;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_text (stmt, 1, code, -1, SQLITE_TRANSIENT);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    id = g_strdup ((const char *) sqlite3_column_text (stmt, 0));
  sqlite3_reset (stmt);
  return id;
}

/* A value of @entity's @field as a person types it (a date as 20/12/2025, a level by its value),
 * in the form the store keeps. */
static char *
parse_field (const char  *entity,
             const char  *field,
             const char  *text,
             GError     **error)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup (entity), field);
  json_object *value = NULL;
  char *out;

  if (!kh_field_parse (f, text, &value, error) || !kh_field_validate (f, value, error))
    return NULL;
  out = g_strdup (json_object_get_string (value));
  json_object_put (value);
  return out;
}

/* recognize --decision N --date D --level L [--title T] [--reason R]
 *           (--unit CODE --model MODEL --year YEAR | REGISTRATION_ID…) */
int
kh_cli_recognize (const KhCliCommand  *command,
                  int                  argc,
                  char               **argv,
                  gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *date = NULL;
  g_autofree char *level = NULL;
  const char *number = NULL, *date_text = NULL, *level_text = NULL, *title = NULL, *reason = NULL;
  const char *unit = NULL, *model = NULL, *year_text = NULL;
  KhDecision decision = { 0 };
  guint n;

  for (int i = 0; i < cli->argc; i++)
    {
      static const char * const options[] = {
        "--decision", "--date", "--level", "--title", "--reason", "--unit", "--model", "--year", NULL
      };
      const char **slots[] = { &number, &date_text, &level_text, &title, &reason, &unit, &model, &year_text };
      const char *a = cli->argv[i];
      int o;

      if (!g_str_has_prefix (a, "--"))
        {
          g_ptr_array_add (ids, g_strdup (a));
          continue;
        }
      for (o = 0; options[o] != NULL && strcmp (options[o], a) != 0; o++)
        ;
      if (options[o] == NULL)
        return kh_cli_unknown_option (command, a);
      if (i + 1 >= cli->argc)
        return kh_cli_missing_value (command, a);
      *slots[o] = cli->argv[++i];
    }
  if (number == NULL || date_text == NULL || level_text == NULL)
    return kh_cli_usage_error (command, _("recognize needs the decision: --decision NUMBER --date DATE --level LEVEL."));
  if ((unit != NULL || model != NULL || year_text != NULL) && ids->len > 0)
    return kh_cli_usage_error (command, _("Give either registration ids or --unit, --model and --year, not both."));
  if (ids->len == 0 && (unit == NULL || model == NULL || year_text == NULL))
    return kh_cli_usage_error (command, _("recognize needs registration ids, or --unit CODE --model MODEL --year YEAR "
                                          "for all that passed there."));
  if ((date = parse_field ("recognition", "decision_date", date_text, &error)) == NULL
      || (level = parse_field ("recognition", "issuing_level", level_text, &error)) == NULL)
    return kh_cli_usage_error (command, error->message);

  if (unit != NULL)
    {
      g_autofree char *unit_id = unit_by_code (cli->store, unit);
      g_autofree char *model_value = parse_field ("registration", "model", model, &error);
      gint64 year;
      json_object *list;

      if (model_value == NULL)
        return kh_cli_usage_error (command, error->message);
      if (!g_ascii_string_to_signed (year_text, 10, 1945, 2100, &year, NULL))
        return kh_cli_usage_error (command, _("--year needs a year such as 2025."));
      if (unit_id == NULL)
        {
          g_printerr (_("There is no unit with the code “%s” here.\n"), unit);
          return KH_CLI_EXIT_FAILED;
        }
      list = kh_registrations_to_recognize (cli->store, model_value, (int) year, unit_id, &error);
      if (list == NULL)
        {
          print_error (error);
          return KH_CLI_EXIT_FAILED;
        }
      for (size_t i = 0; i < json_object_array_length (list); i++)
        g_ptr_array_add (ids, g_strdup (json_object_get_string (json_object_object_get (json_object_array_get_idx (list, i), "id"))));
      json_object_put (list);
      if (ids->len == 0)
        {
          g_printerr ("%s\n", _("No registration there has passed and waits for recognition."));
          return KH_CLI_EXIT_FAILED;
        }
    }
  g_ptr_array_add (ids, NULL);
  decision.decision_number = number;
  decision.decision_date = date;
  decision.issuing_level = level;
  decision.title = title;
  decision.reason = reason;
  n = kh_recognize (cli->store, (const char * const *) ids->pdata, &decision, &error);
  if (n == 0)
    {
      print_error (error);
      return KH_CLI_EXIT_FAILED;
    }
  if (cli->json)
    {
      json_object *o = json_object_new_object ();

      json_object_object_add (o, "recognized", json_object_new_int ((int) n));
      json_object_object_add (o, "decision_number", json_object_new_string (number));
      g_print ("%s\n", json_object_to_json_string_ext (o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
      json_object_put (o);
    }
  else
    {
      g_autofree char *shown = kh_cli_visible (number, KH_CLI_VISIBLE_ONE_LINE);

      g_print (g_dngettext (GETTEXT_PACKAGE, "Recognized %u registration by decision %s.\n",
                            "Recognized %u registrations by decision %s.\n", n), n, shown);
    }
  return KH_CLI_EXIT_OK;
}

int
kh_cli_criteria_builtin (const KhCliCommand  *command,
                         int                  argc,
                         char               **argv,
                         gpointer             data)
{
  KhCliContext *cli = data;
  g_autoptr(GError) error = NULL;
  guint made = 0;

  if (!kh_criteria_install_builtin (cli->store, &made, &error))
    {
      print_error (error);
      return KH_CLI_EXIT_FAILED;
    }
  g_print (g_dngettext (GETTEXT_PACKAGE, "Added %u built-in criteria set.\n", "Added %u built-in criteria sets.\n", made),
           made);
  return KH_CLI_EXIT_OK;
}
