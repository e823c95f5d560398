/* kh-server-units.c: official unit codes and the kinds of units
 *
 * An official code names at most one unit on any day: the server refuses a unit whose code and
 * validity overlap another's, and the database refuses such a row too (a trigger on both
 * backends), so a code resolves to one unit and an officer cannot take over another unit's
 * code to have its records and its accounts pointed at their own. Only an administrator sets a
 * code. A unit's kind must fit its parent's (kh_unit_kind_validate()).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-error.h"
#include "kh-server-core-private.h"
#include "kh-validate.h"

/* The schema of the server's database: "schema" in meta, 1 when absent (before versions). */
#define SCHEMA_VERSION 16

/* Two spans of days [from, to] (either end NULL: open) overlap, written for the unit row "o"
 * against the values bound as (to, from) of the unit being written. */
#define OVERLAP_SQL "(o.valid_from IS NULL OR CAST(? AS TEXT) IS NULL OR o.valid_from <= ?) " \
                    "AND (CAST(? AS TEXT) IS NULL OR o.valid_to IS NULL OR ? <= o.valid_to)"

static const char sqlite_triggers[] =
  "CREATE TRIGGER IF NOT EXISTS org_units_code_insert BEFORE INSERT ON org_units "
  "WHEN NEW.deleted = 0 AND NEW.code <> '' AND EXISTS (SELECT 1 FROM org_units o "
  "  WHERE o.code = NEW.code AND o.id <> NEW.id AND o.deleted = 0 "
  "  AND (o.valid_from IS NULL OR NEW.valid_to IS NULL OR o.valid_from <= NEW.valid_to) "
  "  AND (NEW.valid_from IS NULL OR o.valid_to IS NULL OR NEW.valid_from <= o.valid_to)) "
  "BEGIN SELECT RAISE(ABORT, 'an official code names at most one unit on any day'); END;"
  "CREATE TRIGGER IF NOT EXISTS org_units_code_update BEFORE UPDATE ON org_units "
  "WHEN NEW.deleted = 0 AND NEW.code <> '' AND EXISTS (SELECT 1 FROM org_units o "
  "  WHERE o.code = NEW.code AND o.id <> NEW.id AND o.deleted = 0 "
  "  AND (o.valid_from IS NULL OR NEW.valid_to IS NULL OR o.valid_from <= NEW.valid_to) "
  "  AND (NEW.valid_from IS NULL OR o.valid_to IS NULL OR NEW.valid_from <= o.valid_to)) "
  "BEGIN SELECT RAISE(ABORT, 'an official code names at most one unit on any day'); END;";

static const char pg_triggers[] =
  "CREATE OR REPLACE FUNCTION kh_org_units_code_check() RETURNS trigger LANGUAGE plpgsql AS $$ "
  "BEGIN "
  "  IF NEW.deleted = 0 AND NEW.code <> '' AND EXISTS (SELECT 1 FROM org_units o "
  "      WHERE o.code = NEW.code AND o.id <> NEW.id AND o.deleted = 0 "
  "      AND (o.valid_from IS NULL OR NEW.valid_to IS NULL OR o.valid_from <= NEW.valid_to) "
  "      AND (NEW.valid_from IS NULL OR o.valid_to IS NULL OR NEW.valid_from <= o.valid_to)) THEN "
  "    RAISE EXCEPTION 'an official code names at most one unit on any day' "
  "      USING ERRCODE = 'unique_violation'; "
  "  END IF; "
  "  RETURN NEW; "
  "END $$;"
  "DROP TRIGGER IF EXISTS org_units_code ON org_units;"
  "CREATE TRIGGER org_units_code BEFORE INSERT OR UPDATE ON org_units "
  "  FOR EACH ROW EXECUTE FUNCTION kh_org_units_code_check();";

typedef struct
{
  char *id;
  char *data;
} UnitRow;

static gboolean
unit_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  UnitRow *row = g_new0 (UnitRow, 1);

  row->id = g_strdup (v[0]);
  row->data = g_strdup (v[1]);
  g_ptr_array_add (data, row);
  return TRUE;
}

static void
unit_row_free (UnitRow *row)
{
  g_free (row->id);
  g_free (row->data);
  g_free (row);
}

/* Version 2: org_units keeps each unit's first day, kind and deletion, which the code and
 * hierarchy checks read, filled from the stored records; then the trigger, which would refuse
 * the filling of a database that already holds two units with one code (the admin commands
 * name both until one is changed). scope_history keeps the version at which a generation
 * ended (kh-server-feed.c); one that ended before has none, and its reset names nothing. */
static gboolean
migrate_2 (KhServerBackend  *b,
           GError          **error)
{
  g_autoptr(GPtrArray) units = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_row_free);
  gboolean pg = strcmp (kh_server_backend_get_name (b), "postgresql") == 0;

  if (!kh_server_backend_exec_script (b, "ALTER TABLE org_units ADD COLUMN valid_from TEXT;"
                                      "ALTER TABLE org_units ADD COLUMN kind TEXT;"
                                      "ALTER TABLE org_units ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;"
                                      "ALTER TABLE scope_history ADD COLUMN until_version BIGINT;",
                                      error)
      || !kh_server_backend_exec (b, "SELECT id, data FROM records WHERE entity = 'org_unit'", NULL, 0,
                                  unit_row_cb, units, NULL, error))
    return FALSE;
  for (guint i = 0; i < units->len; i++)
    {
      UnitRow *row = units->pdata[i];
      g_autoptr(json_object) data = json_tokener_parse (row->data);
      KhSqlParam p[3] = {
        KH_SQL_P_TEXT (_kh_server_string_member (data, "valid_from")),
        KH_SQL_P_TEXT (_kh_server_string_member (data, "kind")),
        KH_SQL_P_TEXT (row->id),
      };

      if (!kh_server_backend_exec (b, "UPDATE org_units SET valid_from = ?, kind = ? WHERE id = ?",
                                   p, 3, NULL, NULL, NULL, error))
        return FALSE;
    }
  return kh_server_backend_exec (b, "UPDATE org_units SET deleted = 1 WHERE id IN "
                                 "(SELECT id FROM records WHERE entity = 'org_unit' AND deleted <> 0)",
                                 NULL, 0, NULL, NULL, NULL, error)
         && kh_server_backend_exec_script (b, pg ? pg_triggers : sqlite_triggers, error);
}

/* Version 8: the attached files the server accepted, by SHA-256 (kh-server-files.c). */
static gboolean
migrate_8 (KhServerBackend  *b,
           GError          **error)
{
  return kh_server_backend_exec_script (b, "CREATE TABLE IF NOT EXISTS files ("
                                        "  sha256 TEXT PRIMARY KEY, size BIGINT NOT NULL, stored_at TEXT NOT NULL);",
                                        error);
}

/* Version 3: unit_succession keeps the live links between units, which an account's area
 * follows (AREA in kh-server-core-private.h), filled from the stored records; and a link now
 * belongs to its successor's area (to its predecessor's when it has none), so that only those
 * whose area holds both ends are sent it. registrations finds a subject's registration for a
 * model and year (kh-server-twice.c). */
static gboolean
migrate_3 (KhServerBackend  *b,
           GError          **error)
{
  g_autoptr(GPtrArray) links = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_row_free);

  if (!kh_server_backend_exec_script (b, "CREATE TABLE IF NOT EXISTS unit_succession ("
                                      "  id TEXT PRIMARY KEY, predecessor_id TEXT, successor_id TEXT,"
                                      "  deleted INTEGER NOT NULL DEFAULT 0);"
                                      "CREATE INDEX IF NOT EXISTS unit_succession_by_successor "
                                      "  ON unit_succession (successor_id);"
                                      "CREATE INDEX IF NOT EXISTS unit_succession_by_predecessor "
                                      "  ON unit_succession (predecessor_id);"
                                      /* Registrations by subject, model and year, filled from
                                       * the records below (kh-server-twice.c). */
                                      "CREATE TABLE IF NOT EXISTS registrations ("
                                      "  id TEXT PRIMARY KEY, subject_id TEXT NOT NULL, model TEXT NOT NULL,"
                                      "  year BIGINT NOT NULL, live INTEGER NOT NULL);"
                                      "CREATE INDEX IF NOT EXISTS registrations_by_subject "
                                      "  ON registrations (subject_id, model, year);", error)
      || !kh_server_backend_exec (b, "SELECT id, data FROM records WHERE entity = 'unit_succession' AND deleted = 0",
                                  NULL, 0, unit_row_cb, links, NULL, error))
    return FALSE;
  for (guint i = 0; i < links->len; i++)
    {
      UnitRow *row = links->pdata[i];
      g_autoptr(json_object) data = json_tokener_parse (row->data);
      const char *pred = _kh_server_string_member (data, "predecessor_id");
      const char *succ = _kh_server_string_member (data, "successor_id");
      KhSqlParam p[4] = { KH_SQL_P_TEXT (row->id), KH_SQL_P_TEXT (pred), KH_SQL_P_TEXT (succ),
                          KH_SQL_P_INT (pred != NULL && succ != NULL ? 0 : 1) };
      KhSqlParam q[2] = { KH_SQL_P_TEXT (succ != NULL ? succ : pred), KH_SQL_P_TEXT (row->id) };

      if (!kh_server_backend_exec (b, "INSERT INTO unit_succession (id, predecessor_id, successor_id, deleted) "
                                   "VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING", p, 4, NULL, NULL, NULL, error)
          || !kh_server_backend_exec (b, "UPDATE records SET scope_unit = ? WHERE entity = 'unit_succession' AND id = ?",
                                      q, 2, NULL, NULL, NULL, error))
        return FALSE;
    }
  return _kh_server_fill_registrations (b, error);
}

/* Version 7: an account's approval permissions (NULL: its role's), and the history of every
 * accepted mutation: the device it came from, its operation and each field's old and new value
 * (kh-server-history.c), found by record. */
static gboolean
migrate_7 (KhServerBackend  *b,
           GError          **error)
{
  return kh_server_backend_exec_script (b, "ALTER TABLE users ADD COLUMN permissions TEXT;"
                                        "ALTER TABLE mutations ADD COLUMN device TEXT;"
                                        "ALTER TABLE mutations ADD COLUMN op TEXT;"
                                        "ALTER TABLE mutations ADD COLUMN changes TEXT;"
                                        "CREATE INDEX IF NOT EXISTS mutations_by_record "
                                        "ON mutations (record_id, version);",
                                        error);
}

/* Version 16: the hourly purge (kh-server-tombstones.c) finds the old mutation log and the old
 * tombstones through indexes. Without them it read both tables whole inside the write lock:
 * 26 s at 10,000,000 records, every hour and at every start (docs/SCALE.md). Tombstones are
 * few, so their index holds only them. */
static gboolean
migrate_16 (KhServerBackend  *b,
            GError          **error)
{
  return kh_server_backend_exec_script (b, "CREATE INDEX IF NOT EXISTS mutations_by_time ON mutations (applied_at);"
                                        "CREATE INDEX IF NOT EXISTS records_tombstones "
                                        "ON records (updated_at, version) WHERE deleted = 1;",
                                        error);
}

/* Brings a database made by an earlier server up to SCHEMA_VERSION, inside the write
 * transaction of kh_server_init_schema(), which every process runs when it starts. */
gboolean
_kh_server_migrate (KhServerBackend  *b,
                    GError          **error)
{
  g_autofree char *text = NULL;
  g_autofree char *now = NULL;
  gint64 version;

  if (!kh_server_backend_query_text (b, "SELECT value FROM meta WHERE key = 'schema'", NULL, 0, &text, error))
    return FALSE;
  version = text != NULL ? g_ascii_strtoll (text, NULL, 10) : 1;
  if (version < 2 && !migrate_2 (b, error))
    return FALSE;
  if (version < 3 && !migrate_3 (b, error))
    return FALSE;
  /* Version 6: the fund ledger of the donations and payments stored before it. */
  if (version < 6 && !_kh_server_ledger_fill (b, error))
    return FALSE;
  if (version < 7 && !migrate_7 (b, error))
    return FALSE;
  if (version < 8 && !migrate_8 (b, error))
    return FALSE;
  if (version < 16 && !migrate_16 (b, error))
    return FALSE;
  if (version >= SCHEMA_VERSION)
    return TRUE;
  now = g_strdup_printf ("%d", SCHEMA_VERSION);
  {
    KhSqlParam p[1] = { KH_SQL_P_TEXT (now) };

    return kh_server_backend_exec (b, "INSERT INTO meta (key, value) VALUES ('schema', ?) "
                                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                                   p, 1, NULL, NULL, NULL, error);
  }
}

/* Candidates ------------------------------------------------------------------------------ */

typedef struct
{
  char *id;
  char *valid_from;
  char *valid_to;
  char *parent_code;
  char *name;
} Candidate;

static void
candidate_free (Candidate *c)
{
  g_free (c->id);
  g_free (c->valid_from);
  g_free (c->valid_to);
  g_free (c->parent_code);
  g_free (c->name);
  g_free (c);
}

static gboolean
candidate_row_cb (const char * const *v,
                  int                 n,
                  gpointer            data)
{
  Candidate *c = g_new0 (Candidate, 1);
  g_autoptr(json_object) record = v[4] != NULL ? json_tokener_parse (v[4]) : NULL;

  c->id = g_strdup (v[0]);
  c->valid_from = g_strdup (v[1]);
  c->valid_to = g_strdup (v[2]);
  c->parent_code = g_strdup (v[3]);
  c->name = g_strdup (_kh_server_string_member (record, "name"));
  g_ptr_array_add (data, c);
  return TRUE;
}

#define CANDIDATE_SQL \
  "SELECT o.id, o.valid_from, o.valid_to, p.code, r.data FROM org_units o " \
  "LEFT JOIN org_units p ON p.id = o.parent_id " \
  "LEFT JOIN records r ON r.entity = 'org_unit' AND r.id = o.id " \
  "WHERE o.deleted = 0 AND "

/* "Xã B (id …, 01/07/2025 – , under P)" for each candidate, one a line. */
static char *
describe (GPtrArray *candidates)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < candidates->len; i++)
    {
      Candidate *c = candidates->pdata[i];

      g_string_append_printf (s, "\n  %s  %s  %s … %s  %s %s", c->id, c->name ? c->name : "",
                              c->valid_from ? c->valid_from : "", c->valid_to ? c->valid_to : "",
                              _("under"), c->parent_code ? c->parent_code : "—");
    }
  return g_string_free (s, FALSE);
}

static gboolean
valid_on (const Candidate *c,
          const char      *date)
{
  return (c->valid_from == NULL || strcmp (c->valid_from, date) <= 0)
         && (c->valid_to == NULL || strcmp (c->valid_to, date) >= 0);
}

/* The unit @code names on @date (NULL: today), or the id of a unit given as @code. When no unit
 * with the code is valid that day and exactly one has it at all, that one (a unit that has
 * ended). When several could be meant, fails and lists them: the person then gives the id. */
char *
_kh_server_find_unit_on (KhServerBackend  *b,
                         const char       *code,
                         const char       *date,
                         GError          **error)
{
  g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  g_autoptr(GPtrArray) on_day = g_ptr_array_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  KhSqlParam p[1] = { KH_SQL_P_TEXT (code) };
  GPtrArray *pick;

  if (date == NULL)
    date = today;
  if (!kh_server_backend_exec (b, CANDIDATE_SQL "o.id = ?", p, 1, candidate_row_cb, all, NULL, error))
    return NULL;
  if (all->len == 1)
    return g_strdup (((Candidate *) all->pdata[0])->id);
  if (!kh_server_backend_exec (b, CANDIDATE_SQL "o.code = ? ORDER BY o.valid_from, o.id", p, 1,
                               candidate_row_cb, all, NULL, error))
    return NULL;
  for (guint i = 0; i < all->len; i++)
    if (valid_on (all->pdata[i], date))
      g_ptr_array_add (on_day, all->pdata[i]);
  pick = on_day->len > 0 ? on_day : all;
  if (pick->len == 1)
    return g_strdup (((Candidate *) pick->pdata[0])->id);
  if (pick->len == 0)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND,
                   _("There is no org unit with the code “%s”; import the unit list first (org import)."),
                   code);
      return NULL;
    }
  {
    g_autofree char *list = describe (pick);

    g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                 _("The code “%s” names more than one unit; give the id of the one you mean "
                   "(and correct the code of the other):%s"), code, list);
  }
  return NULL;
}

char *
kh_server_find_unit_on (KhServer    *self,
                        const char  *code,
                        const char  *date,
                        GError     **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);

  return _kh_server_find_unit_on (l->b, code, date, error);
}

char *
kh_server_find_unit (KhServer    *self,
                     const char  *code,
                     GError     **error)
{
  return kh_server_find_unit_on (self, code, NULL, error);
}

/* Checks on a unit's write ------------------------------------------------------------------ */

static char *
unit_kind (KhServerBackend  *b,
           const char       *id,
           GError          **error)
{
  KhSqlParam p[1] = { KH_SQL_P_TEXT (id) };
  char *kind = NULL;

  if (!kh_server_backend_query_text (b, "SELECT kind FROM org_units WHERE id = ? AND deleted = 0",
                                     p, 1, &kind, error))
    return NULL;
  return kind;
}

static gboolean
changed (json_object *old,
         json_object *now,
         const char  *name)
{
  return g_strcmp0 (_kh_server_string_member (old, name), _kh_server_string_member (now, name)) != 0;
}

/* Judges the write of the org unit @id by @user: @old is its data before (NULL for a new unit),
 * @now after. Sets *@reason (and *@field) to a refusal a person can act on, or leaves them
 * NULL. */
gboolean
_kh_server_check_unit (KhServerBackend     *b,
                       const KhServerUser  *user,
                       const char          *id,
                       json_object         *old,
                       json_object         *now,
                       char               **reason,
                       const char         **field,
                       KhSyncError         *code,
                       GError             **error)
{
  const char *unit_code = _kh_server_string_member (now, "code");
  const char *kind = _kh_server_string_member (now, "kind");
  const char *parent = _kh_server_string_member (now, "parent_id");
  const char *from = _kh_server_string_member (now, "valid_from");
  const char *to = _kh_server_string_member (now, "valid_to");
  g_autoptr(GError) local = NULL;

  *reason = NULL;
  *field = NULL;
  *code = KH_SYNC_ERROR_INVALID;

  if ((old == NULL || changed (old, now, "code")) && g_strcmp0 (user->role, "admin") != 0)
    {
      *reason = g_strdup (_("Official code: only an administrator sets a unit’s official code "
                            "(khuyenhoc-server org import); ask yours to add the unit."));
      *field = "code";
      *code = KH_SYNC_ERROR_FORBIDDEN;
      return TRUE;
    }

  /* On every write, not only when the code or the dates change: a database from before the
   * check may hold two units with one code, and the trigger would refuse any write of either
   * (a restore, a new name) with a database error instead of this answer. */
  if (unit_code != NULL && *unit_code != '\0')
    {
      g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
      KhSqlParam p[6] = {
        KH_SQL_P_TEXT (unit_code), KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (to), KH_SQL_P_TEXT (to),
        KH_SQL_P_TEXT (from), KH_SQL_P_TEXT (from),
      };

      if (!kh_server_backend_exec (b, CANDIDATE_SQL "o.code = ? AND o.id <> ? AND " OVERLAP_SQL,
                                   p, 6, candidate_row_cb, others, NULL, error))
        return FALSE;
      if (others->len > 0)
        {
          g_autofree char *list = describe (others);

          *reason = g_strdup_printf (_("Official code: “%s” already names another unit in the same "
                                       "period; a code names one unit on any day:%s"), unit_code, list);
          *field = "code";
          return TRUE;
        }
    }

  if (kind != NULL && (old == NULL || changed (old, now, "kind") || changed (old, now, "parent_id")
                       || changed (old, now, "valid_to")))
    {
      g_autofree char *parent_kind = NULL;

      if (parent != NULL)
        {
          parent_kind = unit_kind (b, parent, error);
          if (parent_kind == NULL && error != NULL && *error != NULL)
            return FALSE;
        }
      if (!kh_unit_kind_validate (kind, to, parent != NULL, parent_kind, &local))
        {
          *reason = g_strdup (local->message);
          *field = kh_data_error_get_field (local) ? g_intern_string (kh_data_error_get_field (local)) : "kind";
          return TRUE;
        }
    }

  if (old != NULL && kind != NULL && changed (old, now, "kind"))
    {
      g_autoptr(GPtrArray) kinds = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_row_free);
      KhSqlParam p[1] = { KH_SQL_P_TEXT (id) };

      if (!kh_server_backend_exec (b, "SELECT DISTINCT kind, kind FROM org_units WHERE parent_id = ? "
                                   "AND deleted = 0 AND kind IS NOT NULL", p, 1, unit_row_cb, kinds, NULL, error))
        return FALSE;
      for (guint i = 0; i < kinds->len; i++)
        {
          const char *child = ((UnitRow *) kinds->pdata[i])->id;

          if (!kh_unit_kind_fits (child, kind))
            {
              const KhField *f = kh_entity_get_field (kh_entity_lookup ("org_unit"), "kind");

              *reason = g_strdup_printf (_("Kind: units of the kind “%s” under this one cannot be under a "
                                           "unit of the kind “%s”."),
                                         kh_field_enum_label (f, child), kh_field_enum_label (f, kind));
              *field = "kind";
              return TRUE;
            }
        }
    }
  return TRUE;
}
