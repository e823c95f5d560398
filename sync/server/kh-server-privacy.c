/* kh-server-privacy.c: erasing a person, and a minor's award only with a consent
 *
 * An erasure (PROTOCOL.md §4, POST /v1/erase) replaces the person's personal fields with
 * nothing in one write transaction: the person becomes a tombstone that keeps only its unit,
 * and the records that carry the person's name or details (award entries, consents,
 * registrations, the household they head) lose those fields and keep the rest, so figures
 * still count an award that was paid, its amount and dates, without the name. Each changed
 * record takes a new version like any change, so the feed carries the erased state; the
 * erasure itself is kept (who, when, why; never what) with the ids of the records it changed,
 * which GET /v1/erasures lists so that every replica also takes the old values out of what it
 * keeps beside the records. The server keeps no older values than a record's current state
 * (the mutation log holds ids and versions only); on SQLite the freed space is zeroed (secure
 * delete) and the write-ahead log emptied after the commit.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-privacy.h"
#include "kh-server-core-private.h"
#include "kh-wire.h"

static gboolean
is_sqlite (KhServerBackend *b)
{
  return strcmp (kh_server_backend_get_name (b), "sqlite") == 0;
}

typedef struct
{
  char           *entity;
  char           *id;
  KhServerStored *stored;
} Found;

static void
found_free (Found *f)
{
  g_free (f->entity);
  g_free (f->id);
  _kh_server_stored_free (f->stored);
  g_free (f);
}

static gboolean
found_row_cb (const char * const *v,
              int                 n,
              gpointer            data)
{
  GPtrArray *list = data;
  Found *f = g_new0 (Found, 1);

  f->entity = g_strdup (v[0]);
  f->id = g_strdup (v[1]);
  _kh_server_stored_row_cb (v + 2, n - 2, &f->stored);
  g_ptr_array_add (list, f);
  return TRUE;
}

/* The new fields of @f after erasing @person_id from it; NULL when it does not name the person. */
static json_object *
erased_fields (const Found *f,
               const char  *person_id)
{
  const KhEntity *entity = kh_entity_lookup (f->entity);
  const KhErasureRule *rules;
  guint n_rules;
  json_object *out = NULL;

  if (entity == NULL)
    return NULL;
  if (strcmp (f->entity, "person") == 0 && strcmp (f->id, person_id) == 0)
    {
      out = json_object_new_object ();
      for (guint i = 0; i < entity->n_fields; i++)
        {
          const KhField *field = &entity->fields[i];
          json_object *v = NULL;

          if (g_strcmp0 (field->name, entity->scope_field) == 0)
            {
              if (json_object_object_get_ex (f->stored->data, field->name, &v) && v != NULL)
                json_object_object_add (out, field->name, json_object_get (v));
            }
          else if ((field->flags & KH_FIELD_FLAG_REQUIRED) && field->type == KH_FIELD_TEXT)
            json_object_object_add (out, field->name, json_object_new_string (KH_ERASED_TEXT));
        }
      return out;
    }
  rules = kh_privacy_erasure_rules (&n_rules);
  for (guint r = 0; r < n_rules; r++)
    {
      json_object *ref = NULL;

      if (strcmp (rules[r].entity, f->entity) != 0
          || !json_object_object_get_ex (f->stored->data, rules[r].ref, &ref) || ref == NULL
          || g_strcmp0 (json_object_get_string (ref), person_id) != 0)
        continue;
      if (out == NULL)
        json_object_deep_copy (f->stored->data, &out, NULL);
      for (guint i = 0; rules[r].clear[i] != NULL; i++)
        json_object_object_del (out, rules[r].clear[i]);
      for (guint i = 0; rules[r].mark[i] != NULL; i++)
        json_object_object_add (out, rules[r].mark[i], json_object_new_string (KH_ERASED_TEXT));
    }
  return out;
}

static gboolean
write_erased (KhServerBackend *b,
              const Found     *f,
              json_object     *fields,
              gboolean         deleted,
              gint64           version,
              const char      *actor,
              const char      *now,
              GError         **error)
{
  g_autoptr(GString) data = g_string_new (NULL);
  g_autoptr(GString) fv = g_string_new (NULL);
  json_object *versions = NULL;
  KhSqlParam p[8];

  /* Every field the erasure touched, there or not any more, is newer than any base a stale
   * replica could push against: its old value cannot come back unnoticed. */
  json_object_deep_copy (f->stored->fv, &versions, NULL);
  json_object_object_foreach (f->stored->data, key, val)
    {
      json_object *now_value = NULL;

      json_object_object_get_ex (fields, key, &now_value);
      if (!json_object_equal (val, now_value))
        json_object_object_add (versions, key, json_object_new_int64 (version));
    }
  json_object_object_foreach (fields, nkey, nval)
    if (!json_object_object_get_ex (f->stored->data, nkey, NULL) && nval != NULL)
      json_object_object_add (versions, nkey, json_object_new_int64 (version));
  kh_wire_write_json (data, fields);
  kh_wire_write_json (fv, versions);
  json_object_put (versions);

  p[0] = KH_SQL_P_INT (version);
  p[1] = KH_SQL_P_INT (deleted ? 1 : 0);
  p[2] = KH_SQL_P_TEXT (data->str);
  p[3] = KH_SQL_P_TEXT (fv->str);
  p[4] = KH_SQL_P_TEXT (actor);
  p[5] = KH_SQL_P_TEXT (now);
  p[6] = KH_SQL_P_TEXT (f->entity);
  p[7] = KH_SQL_P_TEXT (f->id);
  return kh_server_backend_exec (b, "UPDATE records SET version = ?, deleted = ?, data = ?, field_versions = ?, "
                                 "updated_by = ?, updated_at = ? WHERE entity = ? AND id = ?",
                                 p, 8, NULL, NULL, NULL, error);
}

/* Erases @person_id inside the caller's write transaction, advancing *@version (the counter,
 * which the caller writes). Nothing when the person is not on the server or already erased. */
gboolean
_kh_server_erase_in_tx (KhServerBackend  *b,
                        const char       *actor,
                        const char       *person_id,
                        const char       *reason,
                        gint64           *version,
                        GError          **error)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) found_free);
  g_autofree char *pattern = g_strdup_printf ("%%\"%s\"%%", person_id);
  g_autofree char *now = _kh_server_now_iso ();
  KhSqlParam p[2] = { KH_SQL_P_TEXT (person_id), KH_SQL_P_TEXT (pattern) };
  gint64 erasure;

  /* The person and every record whose stored fields name its id: a scan, once per erasure. */
  if (!kh_server_backend_exec (b, "SELECT entity, id, version, deleted, scope_unit, data, field_versions, "
                               "updated_by, updated_at, created_at FROM records "
                               "WHERE (entity = 'person' AND id = ?) OR data LIKE ? ORDER BY entity, id",
                               p, 2, found_row_cb, found, NULL, error))
    return FALSE;
  if (found->len == 0)
    return TRUE;
  if (is_sqlite (b) && !kh_server_backend_exec (b, "PRAGMA secure_delete = ON", NULL, 0, NULL, NULL, NULL, error))
    return FALSE;

  erasure = ++*version;
  {
    KhSqlParam e[5] = { KH_SQL_P_INT (erasure), KH_SQL_P_TEXT (person_id), KH_SQL_P_TEXT (actor),
                        KH_SQL_P_TEXT (now), KH_SQL_P_TEXT (reason != NULL ? reason : "") };

    if (!kh_server_backend_exec (b, "INSERT INTO erasures (version, entity, record_id, erased_by, erased_at, reason) "
                                 "VALUES (?, 'person', ?, ?, ?, ?)", e, 5, NULL, NULL, NULL, error))
      return FALSE;
  }
  for (guint i = 0; i < found->len; i++)
    {
      Found *f = found->pdata[i];
      g_autoptr(json_object) fields = erased_fields (f, person_id);
      gboolean person = strcmp (f->entity, "person") == 0 && strcmp (f->id, person_id) == 0;
      gint64 v;

      if (fields == NULL)
        continue;
      v = ++*version;
      {
        KhSqlParam r[3] = { KH_SQL_P_INT (erasure), KH_SQL_P_TEXT (f->entity), KH_SQL_P_TEXT (f->id) };

        KhSqlParam h[1] = { KH_SQL_P_TEXT (f->id) };

        /* The history kept each old value: the erased record's go with the record's own. */
        if (!write_erased (b, f, fields, person || f->stored->deleted, v, actor, now, error)
            || !kh_server_backend_exec (b, "INSERT INTO erased_records (erasure, entity, record_id) VALUES (?, ?, ?)",
                                        r, 3, NULL, NULL, NULL, error)
            || !kh_server_backend_exec (b, "UPDATE mutations SET changes = NULL WHERE record_id = ?",
                                        h, 1, NULL, NULL, NULL, error))
          return FALSE;
      }
    }
  return TRUE;
}

/* After the commit: on SQLite the write-ahead log, which still holds the pages as they were
 * before, copied back and emptied. Busy (a reader holds it) leaves it to a later checkpoint. */
void
_kh_server_erase_scrub (KhServerBackend *b)
{
  if (is_sqlite (b))
    kh_server_backend_exec (b, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, 0, NULL, NULL, NULL, NULL);
}

gboolean
kh_server_erase (KhServer            *self,
                 const KhServerUser  *user,
                 const char          *entity,
                 const char          *id,
                 const char          *reason,
                 gint64              *version,
                 GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(KhServerStored) s = NULL;
  KhServerMeta meta;
  gboolean in_scope = FALSE;
  KhSqlParam p[1];

  if (g_strcmp0 (entity, "person") != 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID, _("Only a person can be erased."));
      return FALSE;
    }
  if (g_strcmp0 (user->role, "admin") != 0 && g_strcmp0 (user->role, "officer") != 0)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_FORBIDDEN,
                           _("Only an administrator or the officer of the area can erase a person."));
      return FALSE;
    }
  if (reason == NULL || *reason == '\0')
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_INVALID, _("Say why the person is erased."));
      return FALSE;
    }
  if (!kh_server_backend_begin (l->b, KH_TX_WRITE, error))
    return FALSE;
  if (!_kh_server_load_meta (l->b, &meta, error) || !_kh_server_load_stored (l->b, entity, id, &s, error))
    goto fail;
  g_clear_pointer (&meta.server_id, g_free);
  if (s != NULL && !_kh_server_user_in_scope (l->b, user, s->scope_unit, &in_scope, error))
    goto fail;
  if (s == NULL || !in_scope)
    {
      g_set_error_literal (error, KH_SYNC_ERROR, KH_SYNC_ERROR_NOT_FOUND, _("There is no such person in your area."));
      goto fail;
    }
  if (!_kh_server_erase_in_tx (l->b, user->username, id, reason, &meta.version, error))
    goto fail;
  p[0] = KH_SQL_P_INT (meta.version);
  if (!kh_server_backend_exec (l->b, "UPDATE counter SET version = ? WHERE id = 1", p, 1, NULL, NULL, NULL, error)
      || !kh_server_backend_commit (l->b, error))
    goto fail;
  _kh_server_erase_scrub (l->b);
  if (version != NULL)
    *version = meta.version;
  return TRUE;

fail:
  kh_server_backend_rollback (l->b);
  return FALSE;
}

/* How many erasures one answer to GET /v1/erasures covers. */
#define ERASURES_PAGE 200

typedef struct
{
  GString *text;
  guint    count;
} Records;

static gboolean
record_row_cb (const char * const *v,
               int                 n,
               gpointer            data)
{
  Records *r = data;

  if (r->count++ > 0)
    g_string_append_c (r->text, ',');
  kh_wire_write_record (r->text, v[0], v[1], v[2], g_ascii_strtoll (v[3], NULL, 10) != 0, v[4], v[5], v[6]);
  return TRUE;
}

static gboolean
version_row_cb (const char * const *v,
                int                 n,
                gpointer            data)
{
  GArray *versions = data;
  gint64 x = g_ascii_strtoll (v[0], NULL, 10);

  g_array_append_val (versions, x);
  return TRUE;
}

/* The answer to GET /v1/erasures?after=V: the records that the next erasures after @after
 * changed, in their state now, of those the user's scope holds. */
GString *
kh_server_erasures (KhServer            *self,
                    const KhServerUser  *user,
                    gint64               after,
                    GError             **error)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (self);
  g_autoptr(GString) text = g_string_new ("{\"records\":[");
  g_autoptr(GArray) versions = g_array_new (FALSE, FALSE, sizeof (gint64));
  Records r = { text, 0 };
  KhServerMeta meta;
  gint64 through = after;
  KhSqlParam p[2] = { KH_SQL_P_INT (after), KH_SQL_P_INT (ERASURES_PAGE) };

  if (!kh_server_backend_begin (l->b, KH_TX_READ, error))
    return NULL;
  if (!_kh_server_load_meta (l->b, &meta, error))
    goto fail;
  if (!kh_server_backend_exec (l->b, "SELECT version FROM erasures WHERE version > ? ORDER BY version LIMIT ?",
                               p, 2, version_row_cb, versions, NULL, error))
    goto fail;
  if (versions->len > 0)
    {
      KhSqlParam q[3] = { KH_SQL_P_INT (after), KH_SQL_P_INT (0), KH_SQL_P_TEXT (user->scope_unit_id) };
      const char *sql = user->scope_unit_id != NULL
        ? "SELECT rec.entity, rec.id, rec.version, rec.deleted, rec.data, rec.updated_by, rec.updated_at "
          "FROM erased_records e JOIN records rec ON rec.entity = e.entity AND rec.id = e.record_id "
          "WHERE e.erasure > ? AND e.erasure <= ? AND (rec.scope_unit IS NULL OR rec.scope_unit IN " AREA ") "
          "ORDER BY e.erasure, rec.entity, rec.id"
        : "SELECT rec.entity, rec.id, rec.version, rec.deleted, rec.data, rec.updated_by, rec.updated_at "
          "FROM erased_records e JOIN records rec ON rec.entity = e.entity AND rec.id = e.record_id "
          "WHERE e.erasure > ? AND e.erasure <= ? ORDER BY e.erasure, rec.entity, rec.id";

      through = g_array_index (versions, gint64, versions->len - 1);
      q[1] = KH_SQL_P_INT (through);
      if (!kh_server_backend_exec (l->b, sql, q, user->scope_unit_id != NULL ? 3 : 2, record_row_cb, &r,
                                   NULL, error))
        goto fail;
    }
  kh_server_backend_commit (l->b, NULL);
  g_string_append_printf (text, "],\"through\":%" G_GINT64_FORMAT ",\"has_more\":%s,\"server_id\":", through,
                          versions->len == ERASURES_PAGE ? "true" : "false");
  kh_wire_write_string (text, meta.server_id, -1);
  g_string_append_printf (text, ",\"epoch\":%" G_GINT64_FORMAT "}", meta.epoch);
  g_free (meta.server_id);
  return g_steal_pointer (&text);

fail:
  kh_server_backend_rollback (l->b);
  return NULL;
}

/* Consents withdrawn in a push start the erasure of the person they were for (Law 91/2025:
 * withdrawing consent ends the processing): every consent the batch wrote that is withdrawn
 * by today, whose person is still there. Runs after the batch's writes, in its transaction. */
gboolean
_kh_server_erase_withdrawn (KhServerBackend  *b,
                            const char       *actor,
                            GHashTable       *records,
                            GPtrArray        *dirty,
                            gint64           *version,
                            gboolean         *erased,
                            GError          **error)
{
  g_autoptr(GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (dt, "%Y-%m-%d");

  for (guint i = 0; i < dirty->len; i++)
    {
      const char *key = dirty->pdata[i];
      const KhServerStored *st;
      const char *withdrawn;
      const char *person;
      g_autoptr(KhServerStored) p = NULL;

      if (!g_str_has_prefix (key, "consent/") || (st = g_hash_table_lookup (records, key)) == NULL || st->deleted)
        continue;
      withdrawn = _kh_server_string_member (st->data, "withdrawn_on");
      person = _kh_server_string_member (st->data, "person_id");
      if (withdrawn == NULL || strcmp (withdrawn, today) > 0 || person == NULL)
        continue;
      if (!_kh_server_load_stored (b, "person", person, &p, error))
        return FALSE;
      if (p == NULL || p->deleted)
        continue;
      if (!_kh_server_erase_in_tx (b, actor, person, "consent withdrawn", version, error))
        return FALSE;
      *erased = TRUE;
    }
  return TRUE;
}

/* A minor's award -------------------------------------------------------------------------- */

/* @data as the batch has it, else as the database has it; NULL if neither. */
static gboolean
current (KhServerBackend  *b,
         GHashTable       *batch,
         const char       *entity,
         const char       *id,
         KhServerStored  **out,
         GError          **error)
{
  g_autofree char *key = g_strdup_printf ("%s/%s", entity, id);
  const KhServerStored *s = g_hash_table_lookup (batch, key);

  *out = NULL;
  if (s != NULL)
    {
      if (s->version >= 0 || s->data != NULL)
        *out = _kh_server_stored_copy (s);
      return TRUE;
    }
  return _kh_server_load_stored (b, entity, id, out, error);
}

/* Whether an award entry's new state @data may stand (the store's rule, kh-privacy.c, held on
 * the server too): a step into approved or paid, or a change of recipient while so, for a
 * person who is a minor today needs a consent that counts. *@refusal says why not. */
gboolean
_kh_server_check_award_consent (KhServerBackend  *b,
                                GHashTable       *batch,
                                GPtrArray        *dirty,
                                json_object      *data,
                                json_object      *old_data,
                                char            **refusal,
                                GError          **error)
{
  const char *status = _kh_server_string_member (data, "status");
  const char *person_id = _kh_server_string_member (data, "person_id");
  g_autoptr(KhServerStored) person = NULL;
  g_autoptr(GPtrArray) consents = g_ptr_array_new_with_free_func ((GDestroyNotify) _kh_server_stored_free);
  g_autoptr(GDateTime) dt = g_date_time_new_now_utc ();
  g_autofree char *today = g_date_time_format (dt, "%Y-%m-%d");
  g_autofree char *pattern = NULL;
  json_object *year = NULL;
  int age;

  *refusal = NULL;
  if (person_id == NULL || (g_strcmp0 (status, "approved") != 0 && g_strcmp0 (status, "paid") != 0))
    return TRUE;
  if (old_data != NULL
      && g_strcmp0 (_kh_server_string_member (old_data, "status"), status) == 0
      && g_strcmp0 (_kh_server_string_member (old_data, "person_id"), person_id) == 0)
    return TRUE;
  if (!current (b, batch, "person", person_id, &person, error))
    return FALSE;
  if (person == NULL || person->data == NULL)
    return TRUE;
  json_object_object_get_ex (person->data, "birth_year", &year);
  age = kh_privacy_age_on (_kh_server_string_member (person->data, "birth_date"),
                           year != NULL ? json_object_get_int64 (year) : 0, today);
  if (age < 0 || age >= KH_AGE_ADULT)
    return TRUE;

  /* The consents for the person: those stored (found by the id in their fields, among the
   * consents only) as the batch leaves them, and those the batch makes. */
  pattern = g_strdup_printf ("%%\"person_id\":\"%s\"%%", person_id);
  {
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) found_free);
    g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
    KhSqlParam p[1] = { KH_SQL_P_TEXT (pattern) };

    if (!kh_server_backend_exec (b, "SELECT entity, id, version, deleted, scope_unit, data, field_versions, "
                                 "updated_by, updated_at, created_at FROM records "
                                 "WHERE entity = 'consent' AND data LIKE ?", p, 1, found_row_cb, rows, NULL, error))
      return FALSE;
    for (guint i = 0; i < rows->len; i++)
      {
        Found *f = rows->pdata[i];
        char *key = g_strdup_printf ("consent/%s", f->id);
        const KhServerStored *in_batch = g_hash_table_lookup (batch, key);

        g_ptr_array_add (consents, _kh_server_stored_copy (in_batch != NULL ? in_batch : f->stored));
        g_hash_table_add (seen, key);
      }
    for (guint i = 0; i < dirty->len; i++)
      if (g_str_has_prefix (dirty->pdata[i], "consent/") && !g_hash_table_contains (seen, dirty->pdata[i]))
        g_ptr_array_add (consents, _kh_server_stored_copy (g_hash_table_lookup (batch, dirty->pdata[i])));
  }
  for (guint i = 0; i < consents->len; i++)
    {
      const KhServerStored *c = consents->pdata[i];
      const char *withdrawn = _kh_server_string_member (c->data, "withdrawn_on");

      if (c->deleted || g_strcmp0 (_kh_server_string_member (c->data, "person_id"), person_id) != 0)
        continue;
      if (withdrawn != NULL && strcmp (withdrawn, today) <= 0)
        continue;
      if (kh_privacy_consent_counts (_kh_server_string_member (c->data, "given_by"),
                                     _kh_server_string_member (c->data, "guardian_id"), age))
        return TRUE;
    }
  *refusal = g_strdup (_("Status: this recipient is a minor without a valid consent; record the consent before approving the award."));
  return TRUE;
}
