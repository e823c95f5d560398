/* kh-server-import.c: what the server takes in bulk, as the system: the official unit list
 * and the demo data
 *
 * Both are written as pushes from the system account (kh_server_apply_as_system()), in batches
 * of the protocol's size, so they pass the same checks and reach the clients through the same
 * feed as any other change. The unit list is read with the one CSV reader (kh-csv.c), so a
 * quoted field may hold commas and line breaks as spreadsheets write them.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "kh-csv.h"
#include "kh-demo.h"
#include "kh-entity.h"
#include "kh-server-import.h"
#include "kh-store.h"
#include "kh-uuid.h"
#include "kh-validate.h"

void
kh_server_import_report_init (KhServerImportReport *report)
{
  g_return_if_fail (report != NULL);

  memset (report, 0, sizeof *report);
  report->refusals = g_ptr_array_new_with_free_func (g_free);
}

void
kh_server_import_report_clear (KhServerImportReport *report)
{
  g_return_if_fail (report != NULL);

  g_clear_pointer (&report->refusals, g_ptr_array_unref);
}

/* Sends what @request holds and empties it; what the server refuses is counted in @report. */
static gboolean
flush_batch (KhServer              *server,
             KhPushRequest         *request,
             KhServerImportReport  *report,
             GError               **error)
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
          g_ptr_array_add (report->refusals,
                           g_strdup_printf ("%s %s: %s", m->entity, m->id,
                                            r->message ? r->message : _("changed on the server meanwhile")));
          report->rejected++;
        }
    }
  g_ptr_array_set_size (request->mutations, 0);
  return TRUE;
}

/* Sends the batch when it is full. */
static gboolean
maybe_flush (KhServer              *server,
             KhPushRequest         *request,
             KhServerImportReport  *report,
             GError               **error)
{
  if (request->mutations->len < KH_PUSH_MAX_MUTATIONS)
    return TRUE;
  return flush_batch (server, request, report, error);
}

/* The unit list ------------------------------------------------------------------------------ */

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

/* The columns of a row that names a change of the unit: they make a unit_succession record,
 * not fields of the unit, so they are listed here; the unit's own columns come from the
 * registry (column_of()). */
#define SUCCESSORS   "successor_codes"
#define CHANGE       "change"
#define CHANGE_DATE  "change_date"
#define LEGAL_BASIS  "legal_basis"

/* The column of the unit list that gives @field: its name, or for the reference to the parent
 * unit, which the list gives by its official code, "parent_code". */
static char *
column_of (const KhField *field)
{
  if (field->type == KH_FIELD_REF && g_str_has_suffix (field->name, "_id"))
    return g_strdup_printf ("%.*s_code", (int) strlen (field->name) - 3, field->name);
  return g_strdup (field->name);
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

typedef struct
{
  const KhEntity *org;
  GHashTable     *header;  /* column name → its index in the file, plus one */
  GPtrArray      *rows;    /* of GPtrArray of the row's trimmed cells */
  GPtrArray      *units;   /* of Unit, parallel to rows */
} OrgList;

static void
org_list_clear (OrgList *list)
{
  g_clear_pointer (&list->header, g_hash_table_unref);
  g_clear_pointer (&list->rows, g_ptr_array_unref);
  g_clear_pointer (&list->units, g_ptr_array_unref);
}

/* The cell of @row in @column, or NULL when the file has no such column or the cell is empty. */
static const char *
cell (OrgList    *list,
      GPtrArray  *row,
      const char *column)
{
  guint index = GPOINTER_TO_UINT (g_hash_table_lookup (list->header, column));
  const char *text;

  if (index == 0 || index > row->len)
    return NULL;
  text = row->pdata[index - 1];
  return *text != '\0' ? text : NULL;
}

static gboolean
missing_columns (GError **error)
{
  g_set_error_literal (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                       _("the CSV needs at least the columns code, name and kind."));
  return FALSE;
}

/* The header: every required field of the unit must have its column. */
static gboolean
read_header (OrgList    *list,
             GPtrArray  *cells,
             GError    **error)
{
  for (guint i = 0; i < cells->len; i++)
    if (!g_hash_table_contains (list->header, cells->pdata[i]))
      g_hash_table_insert (list->header, g_strdup (cells->pdata[i]), GUINT_TO_POINTER (i + 1));
  for (guint f = 0; f < list->org->n_fields; f++)
    {
      const KhField *field = &list->org->fields[f];
      g_autofree char *column = column_of (field);

      if ((field->flags & KH_FIELD_FLAG_REQUIRED) && !g_hash_table_contains (list->header, column))
        return missing_columns (error);
    }
  return TRUE;
}

static gboolean
read_row_cb (guint          number,
             const KhCell  *cells,
             guint          n_cells,
             gpointer       user_data,
             GError       **error)
{
  OrgList *list = user_data;
  g_autoptr(GPtrArray) row = g_ptr_array_new_full (n_cells, g_free);
  gboolean blank = TRUE;
  Unit *u;

  for (guint i = 0; i < n_cells; i++)
    {
      char *text = g_strstrip (g_strdup (cells[i].text));

      blank = blank && *text == '\0';
      g_ptr_array_add (row, text);
    }
  if (list->header == NULL)
    {
      list->header = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      return number == 1 && !blank ? read_header (list, row, error) : missing_columns (error);
    }
  if (blank)
    return TRUE;
  if (cell (list, row, "code") == NULL)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID, _("line %u has no code."), number);
      return FALSE;
    }
  u = g_new0 (Unit, 1);
  u->code = g_strdup (cell (list, row, "code"));
  u->valid_from = g_strdup (cell (list, row, "valid_from"));
  u->valid_to = g_strdup (cell (list, row, "valid_to"));
  u->id = derived_id ("org_unit", u->code, u->valid_from);
  g_ptr_array_add (list->units, u);
  g_ptr_array_add (list->rows, g_steal_pointer (&row));
  return TRUE;
}

/* The unit with @code valid on @date: the file's units first, then the server's. Fails, listing
 * them, when the code could mean more than one unit that day. */
static char *
resolve_code (KhServer    *server,
              GPtrArray   *units,
              const char  *code,
              const char  *date,
              GError     **error)
{
  Unit *best = NULL;
  Unit *fallback = NULL;
  guint n_valid = 0;
  guint n_any = 0;

  for (guint i = 0; i < units->len; i++)
    {
      Unit *u = units->pdata[i];

      if (strcmp (u->code, code) != 0)
        continue;
      n_any++;
      fallback = u;
      if (date == NULL
          || ((u->valid_from == NULL || strcmp (u->valid_from, date) <= 0)
              && (u->valid_to == NULL || strcmp (u->valid_to, date) >= 0)))
        {
          best = u;
          n_valid++;
        }
    }
  if (n_valid > 1 || (n_valid == 0 && n_any > 1))
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                   _("the code %s names more than one unit of the file on %s."), code,
                   date != NULL ? date : "—");
      return NULL;
    }
  if (best != NULL || fallback != NULL)
    return g_strdup (best != NULL ? best->id : fallback->id);
  return kh_server_find_unit_on (server, code, date, error);
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

/* The fields of the unit in @row, as the registry lists them: a required field is taken as it
 * is written (the server judges it), the parent is found by its code, any other field is read
 * as a person types it (a date as 01/07/2025). */
static json_object *
unit_fields (KhServer   *server,
             OrgList    *list,
             GPtrArray  *row,
             Unit       *u,
             GError    **error)
{
  g_autoptr(json_object) fields = json_object_new_object ();

  for (guint f = 0; f < list->org->n_fields; f++)
    {
      const KhField *field = &list->org->fields[f];
      g_autofree char *column = column_of (field);
      const char *text = cell (list, row, column);
      json_object *v = NULL;

      if (field->flags & KH_FIELD_FLAG_REQUIRED)
        json_object_object_add (fields, field->name, json_object_new_string (text ? text : ""));
      else if (text == NULL)
        continue;
      else if (field->type == KH_FIELD_REF)
        {
          g_autoptr(GError) local = NULL;
          g_autofree char *parent = resolve_code (server, list->units, text, u->valid_from, &local);

          if (parent == NULL && g_error_matches (local, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND))
            {
              g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("%s: the parent code %s is neither in the file nor on the server."),
                           u->code, text);
              return NULL;
            }
          if (parent == NULL)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", u->code);
              return NULL;
            }
          json_object_object_add (fields, field->name, json_object_new_string (parent));
        }
      else if (kh_field_parse (field, text, &v, error))
        json_object_object_add (fields, field->name, v);
      else
        {
          g_prefix_error (error, "%s: ", u->code);
          return NULL;
        }
    }
  return g_steal_pointer (&fields);
}

/* The succession records a row names: one per successor, or one without a successor (a unit
 * abolished). */
static gboolean
add_successions (KhServer       *server,
                 KhPushRequest  *request,
                 OrgList        *list,
                 GPtrArray      *row,
                 Unit           *u,
                 GError        **error)
{
  const char *successors = cell (list, row, SUCCESSORS);
  const char *change = cell (list, row, CHANGE);
  const char *date = cell (list, row, CHANGE_DATE);
  g_auto(GStrv) codes = NULL;

  if (change == NULL)
    return TRUE;
  if (date == NULL)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                   _("%s: a change needs its change_date."), u->code);
      return FALSE;
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
          g_autoptr(GError) local = NULL;
          g_autofree char *iso_date = NULL;

          succ = resolve_code (server, list->units, code, kh_date_parse (date, &iso_date) ? iso_date : NULL, &local);
          if (succ == NULL && g_error_matches (local, KH_SERVER_ERROR, KH_SERVER_ERROR_NOT_FOUND))
            {
              g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                           _("%s: the successor %s is not known."), u->code, code);
              return FALSE;
            }
          if (succ == NULL)
            {
              g_propagate_prefixed_error (error, g_steal_pointer (&local), "%s: ", u->code);
              return FALSE;
            }
        }
      json_object_object_add (fields, "predecessor_id", json_object_new_string (u->id));
      if (succ != NULL)
        json_object_object_add (fields, "successor_id", json_object_new_string (succ));
      json_object_object_add (fields, "kind", json_object_new_string (change));
      if (!kh_date_parse (date, &iso))
        {
          g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                       _("%s: “%s” is not a date."), u->code, date);
          return FALSE;
        }
      json_object_object_add (fields, "effective_date", json_object_new_string (iso));
      if (cell (list, row, LEGAL_BASIS) != NULL)
        json_object_object_add (fields, "legal_basis", json_object_new_string (cell (list, row, LEGAL_BASIS)));
      id = derived_id ("unit_succession", u->id, succ);
      add_put (server, request, "unit_succession", id, fields);
      if (codes[k] == NULL)
        break;
    }
  return TRUE;
}

gboolean
kh_server_import_org (KhServer              *server,
                      const char            *path,
                      KhServerImportReport  *report,
                      GError               **error)
{
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  OrgList list = { 0 };
  gboolean ok = FALSE;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (report != NULL && report->refusals != NULL, FALSE);

  list.org = kh_entity_lookup ("org_unit");
  list.rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  list.units = g_ptr_array_new_with_free_func ((GDestroyNotify) unit_free);
  if (!kh_csv_read_file (path, NULL, read_row_cb, &list, error))
    goto out;
  if (list.header == NULL)
    {
      missing_columns (error);
      goto out;
    }
  request->client_id = kh_uuid_v7_new ();
  report->records = list.units->len;

  for (guint i = 0; i < list.rows->len; i++)
    {
      Unit *u = list.units->pdata[i];
      g_autoptr(json_object) fields = unit_fields (server, &list, list.rows->pdata[i], u, error);

      if (fields == NULL)
        goto out;
      add_put (server, request, "org_unit", u->id, fields);
      if (!maybe_flush (server, request, report, error))
        goto out;
    }
  if (!flush_batch (server, request, report, error))
    goto out;

  /* Succession links, once every unit exists. */
  for (guint i = 0; i < list.rows->len; i++)
    {
      if (!add_successions (server, request, &list, list.rows->pdata[i], list.units->pdata[i], error)
          || !maybe_flush (server, request, report, error))
        goto out;
    }
  ok = flush_batch (server, request, report, error);

out:
  org_list_clear (&list);
  return ok;
}

/* The demo ----------------------------------------------------------------------------------- */

/* Sends every record of @store, deleted ones too, as creates. */
static gboolean
push_store (KhServer              *server,
            KhStore               *store,
            KhServerImportReport  *report,
            GError               **error)
{
  g_autoptr(KhPushRequest) request = kh_push_request_new ();
  guint n_entities;
  const KhEntity * const *entities = kh_entities (&n_entities);

  request->client_id = kh_uuid_v7_new ();
  for (guint e = 0; e < n_entities; e++)
    {
      const KhEntity *entity = entities[e];

      for (gint64 offset = 0; ; offset += 5000)
        {
          KhQuery q = { .include_deleted = TRUE, .offset = offset, .limit = 5000 };
          g_autoptr(json_object) list = kh_store_list (store, entity->name, &q, error);
          size_t n;

          if (list == NULL)
            return FALSE;
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
              report->records++;
              if (!maybe_flush (server, request, report, error))
                return FALSE;
            }
          if (n < 5000)
            break;
        }
    }
  return flush_batch (server, request, report, error);
}

gboolean
kh_server_import_demo (KhServer              *server,
                       gint64                 records,
                       KhServerImportReport  *report,
                       GError               **error)
{
  g_autofree char *tmpdir = NULL;
  g_autofree char *store_path = NULL;
  g_autofree char *wal = NULL;
  g_autofree char *shm = NULL;
  g_autoptr(KhStore) store = NULL;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (report != NULL && report->refusals != NULL, FALSE);

  tmpdir = g_dir_make_tmp ("khuyenhoc-demo-XXXXXX", error);
  if (tmpdir == NULL)
    return FALSE;
  store_path = g_build_filename (tmpdir, "demo.db", NULL);
  store = kh_store_open (store_path, error);
  if (store == NULL || !kh_demo_generate (store, records, 20250701, NULL, error)
      || !push_store (server, store, report, error))
    return FALSE;
  g_clear_object (&store);
  wal = g_strconcat (store_path, "-wal", NULL);
  shm = g_strconcat (store_path, "-shm", NULL);
  g_unlink (store_path);
  g_unlink (wal);
  g_unlink (shm);
  g_rmdir (tmpdir);
  return TRUE;
}

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

/* An account kept from an earlier run keeps its password: never hand back one that does not
 * work. */
static gboolean
add_account (KhServer    *server,
             const char  *name,
             const char  *scope,
             char       **password,
             GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *text = random_password ();

  if (!kh_server_user_add (server, name, name, scope, text, &local_error))
    {
      if (!g_error_matches (local_error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_clear_pointer (&text, g_free);
    }
  *password = g_steal_pointer (&text);
  return TRUE;
}

gboolean
kh_server_import_demo_accounts (KhServer  *server,
                                char     **admin_password,
                                char     **officer_password,
                                GError   **error)
{
  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (admin_password != NULL && officer_password != NULL, FALSE);

  *admin_password = NULL;
  *officer_password = NULL;
  return add_account (server, "admin", "56N", admin_password, error)
         && add_account (server, "officer", "N001", officer_password, error);
}
