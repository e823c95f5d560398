/* kh-privacy.c: personal data in the local store
 *
 * Decree 13/2023 and Law 91/2025 (../shared/DOMAIN.md, "People's data"): sensitive fields are
 * kept in (masked in lists, left out of exports unless asked for, an export that carries them
 * audited), a consent counts only when the right people gave it for the person's age, a minor's
 * award is not approved without one, and an erasure the server sends reaches every copy a
 * replica keeps: the record, its audit rows, its conflicts, its outbox, its merge base and its
 * search index, down to the bytes of the file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <stdio.h>
#include <string.h>

#include "kh-error.h"
#include "kh-json-private.h"
#include "kh-journal.h"
#include "kh-privacy.h"
#include "kh-sqlite.h"
#include "kh-store-private.h"
#include "kh-store-sql.h"

/* Sensitive fields ---------------------------------------------------------------------------- */

gboolean
kh_field_is_sensitive (const KhField *field)
{
  return field != NULL && (field->flags & KH_FIELD_FLAG_SENSITIVE) != 0;
}

/* What a list shows of a sensitive value: the last three digits of a number (enough to tell two
 * people apart on the phone), nothing of a text or a yes/no. NULL for no value. */
char *
kh_privacy_mask (const KhField *field,
                 const char    *text)
{
  glong n;

  if (text == NULL || *text == '\0')
    return NULL;
  if (field->flags & KH_FIELD_FLAG_DIGITS)
    {
      n = g_utf8_strlen (text, -1);
      if (n > 3)
        {
          g_autoptr(GString) s = g_string_new (NULL);

          for (glong i = 0; i < n - 3; i++)
            g_string_append (s, "•");
          g_string_append (s, g_utf8_offset_to_pointer (text, n - 3));
          return g_string_free (g_steal_pointer (&s), FALSE);
        }
    }
  return g_strdup ("•••");
}

/* Consent ------------------------------------------------------------------------------------- */

/* Whole years from a birth date (or, with only the year known, from the last day of that year:
 * the youngest the person can be) to the ISO date @on; -1 when nothing is known. */
int
kh_privacy_age_on (const char *birth_date,
                   gint64      birth_year,
                   const char *on)
{
  int by, bm, bd, y, m, d, age;

  if (on == NULL || sscanf (on, "%4d-%2d-%2d", &y, &m, &d) != 3)
    return -1;
  if (birth_date != NULL && sscanf (birth_date, "%4d-%2d-%2d", &by, &bm, &bd) == 3)
    ;
  else if (birth_year > 0)
    {
      by = (int) birth_year;
      bm = 12;
      bd = 31;
    }
  else
    return -1;
  age = y - by;
  if (m < bm || (m == bm && d < bd))
    age--;
  return MAX (age, 0);
}

/* Decree 13/2023, art. 20: under 7 a parent or guardian consents; from 7 to 15 the child and a
 * guardian; from 16 the person. A guardian counts only named by their person record. */
gboolean
kh_privacy_consent_counts (const char *given_by,
                           const char *guardian_id,
                           int         age)
{
  gboolean guardian = guardian_id != NULL
                      && (g_strcmp0 (given_by, "guardian") == 0 || g_strcmp0 (given_by, "both") == 0);
  gboolean subject = g_strcmp0 (given_by, "subject") == 0 || g_strcmp0 (given_by, "both") == 0;

  if (age < 0)
    return subject || guardian;
  if (age < 7)
    return guardian;
  if (age < 16)
    return guardian && g_strcmp0 (given_by, "both") == 0;
  return subject;
}

/* The SQL form of the same rule, for the person row p and its consent row c, today. Ages by
 * comparison of ISO dates: a person is 7 or more when born on or before today seven years ago.
 * BIRTH is the expression of the index person_by_age (kh-schema.c): the minors are found
 * through it, not by reading every adult. */
#define BIRTH "coalesce(p.birth_date, printf('%04d-12-31', p.birth_year))"
#define VALID_CONSENT \
  "EXISTS (SELECT 1 FROM consent c WHERE c.person_id = p.id AND c.deleted = 0" \
  "  AND (c.withdrawn_on IS NULL OR c.withdrawn_on > date('now'))" \
  "  AND CASE WHEN " BIRTH " > date('now', '-7 years')" \
  "    THEN c.given_by IN ('guardian', 'both') AND c.guardian_id IS NOT NULL" \
  "  WHEN " BIRTH " > date('now', '-16 years')" \
  "    THEN c.given_by = 'both' AND c.guardian_id IS NOT NULL" \
  "  ELSE c.given_by IN ('subject', 'both') END)"
#define MINOR "p.deleted = 0 AND " BIRTH " > date('now', '-18 years')"

/* For the window's list of people: an expression over the row of the person table (not
 * aliased) that is 1 for a minor without a consent that counts. Evaluated for the rows of a
 * page only, each a look-up by the consent's person index. */
const char *
kh_privacy_no_consent_column (void)
{
  static char *sql = NULL;

  if (g_once_init_enter (&sql))
    {
      g_autoptr(GString) s = g_string_new ("(" MINOR " AND NOT " VALID_CONSENT ")");

      g_string_replace (s, "p.", "person.", 0);
      g_once_init_leave (&sql, g_string_free (g_steal_pointer (&s), FALSE));
    }
  return sql;
}

gint64
kh_store_count_without_consent (KhStore  *store,
                                GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT count(*) FROM person p WHERE " MINOR
                                         " AND NOT " VALID_CONSENT, error);
  gint64 n = -1;

  if (stmt == NULL)
    return -1;
  if (sqlite3_step (stmt) == SQLITE_ROW)
    n = sqlite3_column_int64 (stmt, 0);
  else
    kh_sqlite_set_error (error, kh_store_get_db (store), "consent");
  sqlite3_reset (stmt);
  return n;
}

/* How many of them belong to one of @units (org unit id → anything): for a report's subtree. */
gint64
kh_store_count_without_consent_in (KhStore     *store,
                                   GHashTable  *units,
                                   GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT p.org_unit_id FROM person p WHERE " MINOR
                                         " AND NOT " VALID_CONSENT, error);
  gint64 n = 0;
  int rc;

  if (stmt == NULL)
    return -1;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    if (g_hash_table_contains (units, sqlite3_column_text (stmt, 0)))
      n++;
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "consent");
      return -1;
    }
  return n;
}

/* The minors to work through: [{"id", "full_name", "birth_date", "org_unit_id"}], by name. */
json_object *
kh_store_list_without_consent (KhStore  *store,
                               gint64    limit,
                               GError  **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT p.id, p.full_name, " BIRTH ", p.org_unit_id "
                                         "FROM person p WHERE " MINOR " AND NOT " VALID_CONSENT
                                         " ORDER BY kh_fold(p.full_name), p.id LIMIT ?", error);
  json_object *rows;
  int rc;

  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, limit > 0 ? limit : -1);
  rows = json_object_new_array ();
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      json_object *row = json_object_new_object ();

      for (int i = 0; i < 4; i++)
        {
          static const char * const names[] = { "id", "full_name", "birth_date", "org_unit_id" };
          const char *v = (const char *) sqlite3_column_text (stmt, i);

          json_object_object_add (row, names[i], v ? json_object_new_string (v) : NULL);
        }
      json_object_array_add (rows, row);
    }
  if (rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "consent");
      g_clear_pointer (&rows, json_object_put);
    }
  sqlite3_reset (stmt);
  return rows;
}

/* TRUE when @person_id is not known here to be a minor, or has a consent that counts today. */
static gboolean
consent_ok (KhStore     *store,
            const char  *person_id,
            gboolean    *ok,
            GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, "SELECT " MINOR ", " VALID_CONSENT
                                         " FROM person p WHERE p.id = ?", error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  *ok = rc != SQLITE_ROW || sqlite3_column_int (stmt, 0) == 0 || sqlite3_column_int (stmt, 1) != 0;
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      kh_sqlite_set_error (error, kh_store_get_db (store), "consent");
      return FALSE;
    }
  return TRUE;
}

gboolean
kh_store_has_valid_consent (KhStore     *store,
                            const char  *person_id,
                            GError     **error)
{
  gboolean ok = FALSE;

  return consent_ok (store, person_id, &ok, error) && ok;
}

static const char *
string_of (json_object *record,
           const char  *name)
{
  json_object *v;

  if (record == NULL || !json_object_object_get_ex (record, name, &v) || v == NULL
      || !json_object_is_type (v, json_type_string))
    return NULL;
  return json_object_get_string (v);
}

static gboolean
changes (json_object *changed,
         const char  *name)
{
  return changed == NULL || json_object_object_get_ex (changed, name, NULL);
}

/* A consent must fit the person's age when it was given. */
static gboolean
check_consent (KhStore      *store,
               json_object  *record,
               json_object  *changed,
               GError      **error)
{
  json_object *KH_AUTO_JSON person = NULL;
  json_object *year = NULL;
  const char *person_id = string_of (record, "person_id");
  const char *given_on = string_of (record, "given_on");
  int age;

  if (!changes (changed, "given_by") && !changes (changed, "guardian_id") && !changes (changed, "person_id")
      && !changes (changed, "given_on"))
    return TRUE;
  if (person_id == NULL || (person = kh_store_get (store, "person", person_id, NULL)) == NULL)
    return TRUE;
  json_object_object_get_ex (person, "birth_year", &year);
  age = kh_privacy_age_on (string_of (person, "birth_date"), year ? json_object_get_int64 (year) : 0, given_on);
  if (kh_privacy_consent_counts (string_of (record, "given_by"), string_of (record, "guardian_id"), age))
    return TRUE;
  if (age < 7)
    kh_data_error_set_invalid (error, "given_by", "%s",
                               _("Consent given by: for a child under 7 a parent or guardian consents (choose their person record)."));
  else if (age < 16)
    kh_data_error_set_invalid (error, "given_by", "%s",
                               _("Consent given by: a child from 7 to 15 consents together with a parent or guardian (choose “The child and a guardian” and the guardian's person record)."));
  else
    kh_data_error_set_invalid (error, "given_by", "%s",
                               _("Consent given by: from 16 the person consents themselves."));
  return FALSE;
}

/* An award entry of a minor is approved (or paid) only with a consent that counts. Only a step
 * into those states (or a change of recipient) is checked: entries approved before this rule
 * stay as they are. */
static gboolean
check_award_entry (KhStore      *store,
                   json_object  *record,
                   json_object  *changed,
                   GError      **error)
{
  const char *status = string_of (record, "status");
  const char *person_id = string_of (record, "person_id");
  gboolean ok = TRUE;

  if (g_strcmp0 (status, "approved") != 0 && g_strcmp0 (status, "paid") != 0)
    return TRUE;
  if (!changes (changed, "status") && !changes (changed, "person_id"))
    return TRUE;
  /* An entry that names its recipient only by text (a list imported from a spreadsheet) has no
   * record a consent could name: the rule holds once it is linked to the person. */
  if (person_id == NULL)
    return TRUE;
  if (!consent_ok (store, person_id, &ok, error))
    return FALSE;
  if (!ok)
    {
      kh_data_error_set_invalid (error, "status", "%s",
                                 _("Status: this recipient is a minor without a valid consent; record the consent before approving the award."));
      return FALSE;
    }
  return TRUE;
}

gboolean
_kh_privacy_check_write (KhStore         *store,
                         const KhEntity  *entity,
                         json_object     *record,
                         json_object     *changed,
                         GError         **error)
{
  if (strcmp (entity->name, "consent") == 0)
    return check_consent (store, record, changed, error);
  if (strcmp (entity->name, "award_entry") == 0)
    return check_award_entry (store, record, changed, error);
  return TRUE;
}

/* The audit of an export ---------------------------------------------------------------------- */

/* One audit row for an export that carried sensitive fields: what kind of records (@list_id for
 * one award list), which fields, to which file. Not the values. */
gboolean
kh_privacy_audit_export (KhStore     *store,
                         const char  *entity,
                         const char  *list_id,
                         const char  *fields,
                         const char  *path,
                         GError     **error)
{
  g_autofree char *now = kh_store_now ();
  gboolean ok;

  if (!_kh_store_write_begin (store, error))
    return FALSE;
  ok = kh_journal_add_audit (store, entity, list_id != NULL ? list_id : "", now,
                             kh_store_get_actor (store), "export", fields, NULL, path, error);
  return _kh_store_write_end (store, ok, error);
}

/* Erasure ------------------------------------------------------------------------------------- */

static const char * const entry_clear[] = { "birth_date", "gender", "school", "grade", "reason", "received_by", NULL };
static const char * const entry_mark[] = { "recipient_name", NULL };
static const char * const consent_clear[] = { "guardian_name", "guardian_id", NULL };
static const char * const consent_mark[] = { "person_name", NULL };
static const char * const guardian_clear[] = { "guardian_name", NULL };
static const char * const registration_clear[] = { "subject_group", NULL };
static const char * const registration_mark[] = { "subject_name", NULL };
static const char * const household_mark[] = { "head_name", NULL };
static const char * const none[] = { NULL };

static const KhErasureRule erasure_rules[] = {
  { "award_entry", "person_id", entry_clear, entry_mark },
  { "consent", "person_id", consent_clear, consent_mark },
  { "consent", "guardian_id", guardian_clear, none },
  { "registration", "subject_id", registration_clear, registration_mark },
  { "household", "head_id", none, household_mark },
};

const KhErasureRule *
kh_privacy_erasure_rules (guint *n_rules)
{
  *n_rules = G_N_ELEMENTS (erasure_rules);
  return erasure_rules;
}

/* A record this replica made that names an erased person, and has not sent (the server did
 * not have it to erase): its fields erased here, as the server would, and its audit rows'
 * values taken out, before the push reads it. Applying the server's records then overwrites
 * those it did have. */
static gboolean
reference_required (const KhErasureRule *rule)
{
  const KhEntity *entity = kh_entity_lookup (rule->entity);
  const KhField *field = entity != NULL ? kh_entity_get_field (entity, rule->ref) : NULL;

  return field == NULL || (field->flags & KH_FIELD_FLAG_REQUIRED) != 0;
}

static gboolean
erase_references (KhStore     *store,
                  const char  *person_id,
                  GError     **error)
{
  for (guint r = 0; r < G_N_ELEMENTS (erasure_rules); r++)
    {
      const KhErasureRule *rule = &erasure_rules[r];
      g_autoptr(GString) sql = g_string_new (NULL);
      g_autofree char *audit = NULL;
      sqlite3_stmt *stmt;

      audit = g_strdup_printf ("UPDATE audit SET old_value = NULL, new_value = NULL WHERE entity = '%s' "
                               "AND record_id IN (SELECT id FROM %s WHERE %s = ?)",
                               rule->entity, rule->entity, rule->ref);
      stmt = kh_store_prepare (store, audit, error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_TRANSIENT);
      if (!kh_sqlite_step_done (stmt, "erase", error))
        return FALSE;

      g_string_printf (sql, "UPDATE %s SET version = version", rule->entity);
      for (guint i = 0; rule->clear[i] != NULL; i++)
        g_string_append_printf (sql, ", %s = NULL", rule->clear[i]);
      for (guint i = 0; rule->mark[i] != NULL; i++)
        g_string_append_printf (sql, ", %s = '" KH_ERASED_TEXT "'", rule->mark[i]);
      g_string_append_printf (sql, " WHERE %s = ?", rule->ref);
      stmt = kh_store_prepare (store, sql->str, error);
      if (stmt == NULL)
        return FALSE;
      sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_TRANSIENT);
      if (!kh_sqlite_step_done (stmt, "erase", error))
        return FALSE;

      /* A record the server has never had (version 0) would name the erased person's
       * tombstone, which the server refuses as a reference: where the reference is optional it
       * goes, so the record still arrives, without the person. */
      if (!reference_required (rule))
        {
          g_autofree char *unlink = g_strdup_printf ("UPDATE %s SET %s = NULL WHERE %s = ? AND version = 0",
                                                     rule->entity, rule->ref, rule->ref);

          stmt = kh_store_prepare (store, unlink, error);
          if (stmt == NULL)
            return FALSE;
          sqlite3_bind_text (stmt, 1, person_id, -1, SQLITE_TRANSIENT);
          if (!kh_sqlite_step_done (stmt, "erase", error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
exec_bound (KhStore     *store,
            const char  *sql,
            const char  *entity,
            const char  *id,
            GError     **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, entity, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, id, -1, SQLITE_TRANSIENT);
  return kh_sqlite_step_done (stmt, "erase", error);
}

/* Takes out of this replica what it keeps of the records in @records (the server's erased
 * state of each, as POST /v1/records sends it) beside the record itself: its unsent changes,
 * its merge base and its conflicts. The caller then applies @records as a pull would, which
 * replaces the record's fields (no local change is left to merge with), and scrubs
 * (kh_store_scrub()). The connection deletes securely from here on: SQLite overwrites what it
 * frees with zeros. */
gboolean
kh_store_erase_local (KhStore      *store,
                      json_object  *records,
                      GError      **error)
{
  gboolean ok;

  if (!kh_sqlite_exec (kh_store_get_db (store), "PRAGMA secure_delete = ON", error)
      || !_kh_store_write_begin (store, error))
    return FALSE;
  ok = TRUE;
  for (size_t i = 0; ok && i < json_object_array_length (records); i++)
    {
      json_object *r = json_object_array_get_idx (records, i);
      const char *entity = string_of (r, "entity");
      const char *id = string_of (r, "id");

      if (entity == NULL || id == NULL || kh_entity_lookup (entity) == NULL)
        continue;
      ok = exec_bound (store, "DELETE FROM outbox WHERE entity = ? AND record_id = ?", entity, id, error)
           && exec_bound (store, "DELETE FROM base WHERE entity = ? AND record_id = ?", entity, id, error)
           && exec_bound (store, "DELETE FROM conflict WHERE entity = ? AND record_id = ?", entity, id, error);
      if (ok && strcmp (entity, "person") == 0)
        ok = erase_references (store, id, error);
    }
  return _kh_store_write_end (store, ok, error);
}

/* After an erasure has been applied: the values of the audit rows of @records taken out, with
 * one row that says each was erased (not what it held), the search index's segments merged so
 * no deleted entry's terms stay in them, and the write-ahead log copied back and emptied, so no
 * old page image is left in a file. A reader that holds the log (another connection in a
 * transaction) leaves it for the next checkpoint; SQLite's secure delete has already zeroed the
 * database's freed space. */
gboolean
kh_store_scrub (KhStore      *store,
                json_object  *records,
                GError      **error)
{
  g_autoptr(GHashTable) done = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *now = kh_store_now ();
  gboolean ok = TRUE;

  if (!kh_sqlite_exec (kh_store_get_db (store), "PRAGMA secure_delete = ON", error)
      || !_kh_store_write_begin (store, error))
    return FALSE;
  for (size_t i = 0; ok && i < json_object_array_length (records); i++)
    {
      json_object *r = json_object_array_get_idx (records, i);
      const KhEntity *entity = kh_entity_lookup (string_of (r, "entity") ?: "");
      const char *id = string_of (r, "id");

      if (entity == NULL || id == NULL)
        continue;
      ok = exec_bound (store, "UPDATE audit SET old_value = NULL, new_value = NULL "
                       "WHERE entity = ? AND record_id = ?", entity->name, id, error)
           && exec_bound (store, "DELETE FROM server_history WHERE entity = ? AND record_id = ?",
                          entity->name, id, error)
           && kh_journal_add_audit (store, entity->name, id, now, kh_store_get_actor (store), "erase",
                                    NULL, NULL, NULL, error);
      /* Only the indexes of the kinds of records erased: merging a large index costs seconds. */
      if (ok && kh_entity_has_search (entity) && g_hash_table_add (done, (gpointer) entity->name))
        {
          g_autofree char *sql = g_strdup_printf ("INSERT INTO %s_fts (%s_fts) VALUES ('optimize')",
                                                  entity->name, entity->name);

          ok = kh_sqlite_exec (kh_store_get_db (store), sql, error);
        }
    }
  if (!_kh_store_write_end (store, ok, error))
    return FALSE;
  sqlite3_wal_checkpoint_v2 (kh_store_get_db (store), NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
  return TRUE;
}
