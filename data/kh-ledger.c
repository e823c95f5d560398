/* kh-ledger.c: a fund's money: balances by date, earmarks, the lists it paid, its statement
 *
 * A fund's cash on a day is its opening balance (from its opening date) plus the donations in
 * cash or by transfer received up to that day, less the disbursements paid up to that day.
 * Gifts in kind count at their value, apart: they are never cash a payment can draw on.
 * Money a donor earmarked (the donation's earmark) is a pool of its own: only a disbursement
 * naming the same earmark draws on it, and a disbursement naming none draws only on the
 * unrestricted money (the opening balance and the donations without an earmark). Earmarks are
 * matched folded (case and diacritics aside, spaces trimmed), as people type them.
 *
 * A payment on a day may spend what had come in by that day, less every payment of the pool
 * whatever its day: so a payment entered late for an early day never makes a later day's
 * balance negative. The server judges a push by the same rule (sync/server/kh-server-ledger.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-error.h"
#include "kh-fold.h"
#include "kh-format.h"
#include "kh-json-private.h"
#include "kh-ledger.h"
#include "kh-store-sql.h"

static const char * const donor_kinds[KH_LEDGER_N_DONOR_KINDS + 1] = {
  "person", "enterprise", "organisation", "clan", "anonymous", "unspecified", NULL
};

const char * const *
kh_ledger_donor_kinds (void)
{
  return donor_kinds;
}

const char *
kh_ledger_donor_kind_label (guint i)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup ("donor"), "kind");

  g_return_val_if_fail (i < KH_LEDGER_N_DONOR_KINDS, NULL);
  if (i == KH_LEDGER_N_DONOR_KINDS - 1)
    return _("No donor record");
  return kh_field_enum_label (f, donor_kinds[i]);
}

const char *
kh_ledger_category_label (guint i)
{
  const KhField *f = kh_entity_get_field (kh_entity_lookup ("disbursement"), "category");

  g_return_val_if_fail (i < KH_LEDGER_N_CATEGORIES, NULL);
  return kh_field_enum_label (f, f->enum_values[i]);
}

/* The key an earmark is matched by: folded, trimmed; "" for none. */
char *
kh_ledger_earmark_key (const char *earmark)
{
  g_autofree char *copy = g_strdup (earmark != NULL ? earmark : "");

  g_strstrip (copy);
  return kh_fold (copy);
}

static const char *
str_member (json_object *record,
            const char  *name)
{
  json_object *v;

  if (record == NULL || !json_object_object_get_ex (record, name, &v) || v == NULL)
    return NULL;
  return json_object_get_string (v);
}

static gint64
int_member (json_object *record,
            const char  *name)
{
  json_object *v;

  if (record == NULL || !json_object_object_get_ex (record, name, &v) || v == NULL)
    return 0;
  return json_object_get_int64 (v);
}

static gboolean
query_int (KhStore            *store,
           const char         *sql,
           const char * const *texts,
           guint               n_texts,
           gint64             *value,
           GError            **error)
{
  sqlite3_stmt *stmt = kh_store_prepare (store, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  for (guint i = 0; i < n_texts; i++)
    sqlite3_bind_text (stmt, (int) i + 1, texts[i], -1, SQLITE_TRANSIENT);
  rc = sqlite3_step (stmt);
  *value = rc == SQLITE_ROW ? sqlite3_column_int64 (stmt, 0) : 0;
  sqlite3_reset (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    {
      g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("The ledger could not be read: %s"),
                   sqlite3_errmsg (kh_store_get_db (store)));
      return FALSE;
    }
  return TRUE;
}

/* What @fund_id held before anything was received or paid, if that counts on @on_date for the
 * pool @key (only the unrestricted pool, or the whole fund when @key is NULL). */
static gboolean
opening_of (KhStore     *store,
            const char  *fund_id,
            const char  *key,
            const char  *on_date,
            gint64      *opening,
            GError     **error)
{
  json_object *KH_AUTO_JSON fund = NULL;
  const char *since;

  *opening = 0;
  if (key != NULL && key[0] != '\0')
    return TRUE;
  fund = kh_store_get (store, "fund", fund_id, error);
  if (fund == NULL)
    return FALSE;
  since = str_member (fund, "opening_date");
  if (since == NULL || on_date == NULL || strcmp (since, on_date) <= 0)
    *opening = int_member (fund, "opening_balance");
  return TRUE;
}

#define POOL "(?2 IS NULL OR kh_fold(trim(coalesce(earmark, ''))) = ?2)"

/* The fund's cash (and gifts in kind, at their value) on @on_date (NULL: today and after), for
 * the pool @earmark ("" or NULL with @whole FALSE: the unrestricted money; NULL: the whole
 * fund). */
static gboolean
balance (KhStore     *store,
         const char  *fund_id,
         const char  *key,
         const char  *on_date,
         gint64      *cash,
         gint64      *in_kind,
         GError     **error)
{
  const char *date = on_date != NULL ? on_date : "9999-12-31";
  const char *args[] = { fund_id, key, date };
  gint64 opening, in, out, kind;

  if (!opening_of (store, fund_id, key, date, &opening, error)
      || !query_int (store, "SELECT coalesce(sum(amount), 0) FROM donation WHERE fund_id = ?1 AND deleted = 0"
                            " AND form <> 'in_kind' AND donated_on <= ?3 AND " POOL, args, 3, &in, error)
      || !query_int (store, "SELECT coalesce(sum(amount), 0) FROM disbursement WHERE fund_id = ?1 AND deleted = 0"
                            " AND paid_on <= ?3 AND " POOL, args, 3, &out, error)
      || !query_int (store, "SELECT coalesce(sum(in_kind_value), 0) FROM donation WHERE fund_id = ?1"
                            " AND deleted = 0 AND form = 'in_kind' AND donated_on <= ?3 AND " POOL,
                     args, 3, &kind, error))
    return FALSE;
  if (cash != NULL)
    *cash = opening + in - out;
  if (in_kind != NULL)
    *in_kind = kind;
  return TRUE;
}

/* The balance of @fund_id on @on_date (NULL: with everything recorded): its cash and the value
 * of the gifts in kind it received. @earmark NULL: the whole fund; "": its unrestricted money;
 * else that earmark's money. */
gboolean
kh_ledger_balance (KhStore      *store,
                   const char   *fund_id,
                   const char   *earmark,
                   const char   *on_date,
                   gint64       *cash,
                   gint64       *in_kind,
                   GError      **error)
{
  g_autofree char *key = earmark != NULL ? kh_ledger_earmark_key (earmark) : NULL;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (fund_id != NULL, FALSE);
  return balance (store, fund_id, key, on_date, cash, in_kind, error);
}

/* What the entries of @list_id come to (cancelled ones aside) and what the disbursements
 * linked to it paid. */
gboolean
kh_ledger_list_payments (KhStore      *store,
                         const char   *list_id,
                         gint64       *list_total,
                         gint64       *paid,
                         GError      **error)
{
  const char *args[] = { list_id };

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (list_id != NULL, FALSE);
  return query_int (store, "SELECT coalesce(sum(amount), 0) FROM award_entry WHERE list_id = ?1"
                           " AND deleted = 0 AND status <> 'cancelled'", args, 1, list_total, error)
         && query_int (store, "SELECT coalesce(sum(amount), 0) FROM disbursement WHERE list_id = ?1"
                              " AND deleted = 0", args, 1, paid, error);
}

static gboolean
check_disbursement (KhStore      *store,
                    const char   *id,
                    json_object  *record,
                    GError      **error)
{
  const char *fund_id = str_member (record, "fund_id");
  const char *list_id = str_member (record, "list_id");
  const char *paid_on = str_member (record, "paid_on");
  const char *earmark = str_member (record, "earmark");
  gint64 amount = int_member (record, "amount");
  g_autofree char *key = kh_ledger_earmark_key (earmark);
  const char *args[] = { fund_id, key, paid_on, id != NULL ? id : "" };
  gint64 opening, in, out;

  if (fund_id == NULL || paid_on == NULL)
    return TRUE;
  if (!opening_of (store, fund_id, key, paid_on, &opening, error)
      || !query_int (store, "SELECT coalesce(sum(amount), 0) FROM donation WHERE fund_id = ?1 AND deleted = 0"
                            " AND form <> 'in_kind' AND donated_on <= ?3 AND " POOL, args, 3, &in, error)
      || !query_int (store, "SELECT coalesce(sum(amount), 0) FROM disbursement WHERE fund_id = ?1 AND deleted = 0"
                            " AND id <> ?4 AND " POOL, args, 4, &out, error))
    return FALSE;
  if (amount > opening + in - out)
    {
      json_object *KH_AUTO_JSON fund = kh_store_get (store, "fund", fund_id, NULL);
      g_autofree char *held = kh_format_money (opening + in - out);
      g_autofree char *asked = kh_format_money (amount);
      g_autofree char *day = kh_format_date (paid_on);

      if (key[0] != '\0')
        kh_data_error_set_invalid (error, "amount",
                                   _("Amount (đồng): the fund “%s” holds %s earmarked for “%s” on %s; "
                                     "a payment of %s would overdraw it."),
                                   str_member (fund, "name"), held, earmark, day, asked);
      else
        kh_data_error_set_invalid (error, "amount",
                                   _("Amount (đồng): the fund “%s” holds %s that is not earmarked on %s; "
                                     "a payment of %s would overdraw it."),
                                   str_member (fund, "name"), held, day, asked);
      return FALSE;
    }

  if (list_id != NULL)
    {
      const char *largs[] = { list_id, id != NULL ? id : "" };
      gint64 total, others;

      if (!query_int (store, "SELECT coalesce(sum(amount), 0) FROM award_entry WHERE list_id = ?1"
                             " AND deleted = 0 AND status <> 'cancelled'", largs, 1, &total, error)
          || !query_int (store, "SELECT coalesce(sum(amount), 0) FROM disbursement WHERE list_id = ?1"
                                " AND deleted = 0 AND id <> ?2", largs, 2, &others, error))
        return FALSE;
      if (others + amount > total)
        {
          g_autofree char *t = kh_format_money (total);
          g_autofree char *o = kh_format_money (others);

          kh_data_error_set_invalid (error, "amount",
                                     _("Amount (đồng): the award list comes to %s and %s of it is paid "
                                       "already; a payment cannot be more than the rest."), t, o);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
_kh_ledger_check_write (KhStore         *store,
                        const KhEntity  *entity,
                        const char      *id,
                        json_object     *record,
                        json_object     *changed,
                        GError         **error)
{
  if (strcmp (entity->name, "disbursement") == 0)
    {
      /* An edit that leaves the money alone (a voucher number, the purpose) is not judged
       * again: the fund may have been overdrawn by others' payments since. */
      if (changed != NULL && !json_object_object_get_ex (changed, "amount", NULL)
          && !json_object_object_get_ex (changed, "fund_id", NULL)
          && !json_object_object_get_ex (changed, "paid_on", NULL)
          && !json_object_object_get_ex (changed, "earmark", NULL)
          && !json_object_object_get_ex (changed, "list_id", NULL))
        return TRUE;
      return check_disbursement (store, id, record, error);
    }
  if (strcmp (entity->name, "award_list") == 0 && id != NULL
      && g_strcmp0 (str_member (record, "status"), "paid") == 0
      && (changed == NULL || json_object_object_get_ex (changed, "status", NULL)))
    {
      gint64 total, paid;

      if (!kh_ledger_list_payments (store, id, &total, &paid, error))
        return FALSE;
      if (total != paid)
        {
          g_autofree char *t = kh_format_money (total);
          g_autofree char *p = kh_format_money (paid);

          kh_data_error_set_invalid (error, "status",
                                     _("Status: the list comes to %s and the payments linked to it to %s; "
                                       "record its payment before marking it paid."), t, p);
          return FALSE;
        }
    }
  return TRUE;
}

/* Pays what is left of @list_id from its fund (and @earmark of it, or its unrestricted money)
 * on @paid_on: one disbursement linked to the list, and the list marked paid, in one
 * transaction. */
gboolean
kh_ledger_pay_list (KhStore      *store,
                    const char   *list_id,
                    const char   *earmark,
                    const char   *paid_on,
                    const char   *voucher_number,
                    char        **disbursement_id,
                    GError      **error)
{
  json_object *KH_AUTO_JSON list = NULL;
  json_object *KH_AUTO_JSON fund = NULL;
  json_object *KH_AUTO_JSON values = NULL;
  json_object *KH_AUTO_JSON status = NULL;
  g_autofree char *made = NULL;
  const char *fund_id;
  gint64 total, paid;

  g_return_val_if_fail (KH_IS_STORE (store), FALSE);
  g_return_val_if_fail (list_id != NULL && paid_on != NULL, FALSE);

  if (!kh_store_begin (store, error))
    return FALSE;
  list = kh_store_get (store, "award_list", list_id, error);
  if (list == NULL || !kh_ledger_list_payments (store, list_id, &total, &paid, error))
    goto fail;
  fund_id = str_member (list, "fund_id");
  if (total > paid)
    {
      if (fund_id == NULL)
        {
          kh_data_error_set_invalid (error, "fund_id", "%s",
                                     _("Fund: choose the fund that pays this list first."));
          goto fail;
        }
      fund = kh_store_get (store, "fund", fund_id, error);
      if (fund == NULL)
        goto fail;
      values = json_object_new_object ();
      json_object_object_add (values, "fund_id", json_object_new_string (fund_id));
      json_object_object_add (values, "org_unit_id", json_object_new_string (str_member (fund, "org_unit_id")));
      json_object_object_add (values, "list_id", json_object_new_string (list_id));
      json_object_object_add (values, "amount", json_object_new_int64 (total - paid));
      json_object_object_add (values, "paid_on", json_object_new_string (paid_on));
      json_object_object_add (values, "category", json_object_new_string ("scholarships"));
      if (str_member (list, "title") != NULL)
        json_object_object_add (values, "purpose", json_object_new_string (str_member (list, "title")));
      if (voucher_number != NULL && voucher_number[0] != '\0')
        json_object_object_add (values, "voucher_number", json_object_new_string (voucher_number));
      if (earmark != NULL && earmark[0] != '\0')
        json_object_object_add (values, "earmark", json_object_new_string (earmark));
      made = kh_store_create (store, "disbursement", values, error);
      if (made == NULL)
        goto fail;
    }
  status = json_object_new_object ();
  json_object_object_add (status, "status", json_object_new_string ("paid"));
  if (!kh_store_update (store, "award_list", list_id, status, error)
      || !kh_store_commit (store, error))
    goto fail;
  if (disbursement_id != NULL)
    *disbursement_id = g_steal_pointer (&made);
  return TRUE;

fail:
  kh_store_rollback (store);
  return FALSE;
}

/* The statement ------------------------------------------------------------------------------ */

void
kh_fund_statement_free (KhFundStatement *s)
{
  if (s == NULL)
    return;
  g_free (s->fund_ids);
  g_free (s->title);
  g_free (s->unit_name);
  if (s->earmarks != NULL)
    g_ptr_array_unref (s->earmarks);
  g_free (s);
}

static void
earmark_free (KhLedgerEarmark *e)
{
  g_free (e->earmark);
  g_free (e);
}

static guint
index_of (const char * const *values,
          const char         *value,
          guint               fallback)
{
  for (guint i = 0; values[i] != NULL && value != NULL; i++)
    if (strcmp (values[i], value) == 0)
      return i;
  return fallback;
}

static gboolean
add_fund (KhStore          *store,
          KhFundStatement  *s,
          json_object      *fund,
          GHashTable       *earmarks,
          GError          **error)
{
  const char *fund_id = str_member (fund, "id");
  const char *since = str_member (fund, "opening_date");
  g_autofree char *start = g_strdup_printf ("%04d-01-01", s->year);
  g_autofree char *end = g_strdup_printf ("%04d-12-31", s->year);
  g_autofree char *before = g_strdup_printf ("%04d-12-31", s->year - 1);
  const char * const *categories = kh_entity_get_field (kh_entity_lookup ("disbursement"), "category")->enum_values;
  gint64 opening, closing;
  sqlite3_stmt *stmt;
  int rc;

  if (!balance (store, fund_id, NULL, before, &opening, NULL, error)
      || !balance (store, fund_id, NULL, end, &closing, NULL, error))
    return FALSE;
  s->opening += opening;
  s->closing += closing;
  if (since != NULL && strcmp (since, start) >= 0 && strcmp (since, end) <= 0)
    {
      s->brought_in += int_member (fund, "opening_balance");
      s->receipts += int_member (fund, "opening_balance");
    }

  stmt = kh_store_prepare (store,
    "SELECT o.kind, d.form = 'in_kind', coalesce(sum(d.amount), 0), coalesce(sum(d.in_kind_value), 0)"
    "  FROM donation d LEFT JOIN donor o ON o.id = d.donor_id"
    " WHERE d.fund_id = ?1 AND d.deleted = 0 AND d.donated_on BETWEEN ?2 AND ?3"
    " GROUP BY 1, 2", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, fund_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, start, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, end, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint k = index_of (donor_kinds, (const char *) sqlite3_column_text (stmt, 0), KH_LEDGER_N_DONOR_KINDS - 1);

      if (sqlite3_column_int (stmt, 1))
        {
          s->in_kind_by_kind[k] += sqlite3_column_int64 (stmt, 3);
          s->in_kind += sqlite3_column_int64 (stmt, 3);
        }
      else
        {
          s->cash_by_kind[k] += sqlite3_column_int64 (stmt, 2);
          s->receipts += sqlite3_column_int64 (stmt, 2);
        }
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    goto failed;

  /* A payment of a list with no category is a payment of scholarships. */
  stmt = kh_store_prepare (store,
    "SELECT coalesce(category, CASE WHEN list_id IS NOT NULL THEN 'scholarships' ELSE 'other' END),"
    "       coalesce(sum(amount), 0)"
    "  FROM disbursement WHERE fund_id = ?1 AND deleted = 0 AND paid_on BETWEEN ?2 AND ?3 GROUP BY 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, fund_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, start, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 3, end, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      guint c = index_of (categories, (const char *) sqlite3_column_text (stmt, 0), KH_LEDGER_N_CATEGORIES - 1);

      s->paid_by_category[c] += sqlite3_column_int64 (stmt, 1);
      s->payments += sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    goto failed;

  /* What each earmark holds at the end of the year. */
  stmt = kh_store_prepare (store,
    "SELECT min(earmark), sum(amount) FROM ("
    "  SELECT earmark, amount FROM donation WHERE fund_id = ?1 AND deleted = 0 AND form <> 'in_kind'"
    "    AND donated_on <= ?2 AND trim(coalesce(earmark, '')) <> ''"
    "  UNION ALL"
    "  SELECT earmark, -amount FROM disbursement WHERE fund_id = ?1 AND deleted = 0"
    "    AND paid_on <= ?2 AND trim(coalesce(earmark, '')) <> '')"
    " GROUP BY kh_fold(trim(earmark)) ORDER BY 1", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_text (stmt, 1, fund_id, -1, SQLITE_TRANSIENT);
  sqlite3_bind_text (stmt, 2, end, -1, SQLITE_TRANSIENT);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      const char *name = (const char *) sqlite3_column_text (stmt, 0);
      g_autofree char *key = kh_ledger_earmark_key (name);
      KhLedgerEarmark *e = g_hash_table_lookup (earmarks, key);

      if (e == NULL)
        {
          e = g_new0 (KhLedgerEarmark, 1);
          e->earmark = g_strstrip (g_strdup (name));
          g_ptr_array_add (s->earmarks, e);
          g_hash_table_insert (earmarks, g_steal_pointer (&key), e);
        }
      e->balance += sqlite3_column_int64 (stmt, 1);
    }
  sqlite3_reset (stmt);
  if (rc != SQLITE_DONE)
    goto failed;
  return TRUE;

failed:
  g_set_error (error, KH_DATA_ERROR, KH_DATA_ERROR_IO, _("The ledger could not be read: %s"),
               sqlite3_errmsg (kh_store_get_db (store)));
  return FALSE;
}

/* The statement of @fund_id, or of every fund of @unit_id, for the calendar @year: opening
 * balance, receipts by kind of donor (cash, and gifts in kind at their value), payments by
 * category, closing balance. Cash only carries over: opening + receipts − payments = closing. */
KhFundStatement *
kh_fund_statement_new (KhStore      *store,
                       const char   *fund_id,
                       const char   *unit_id,
                       int           year,
                       GError      **error)
{
  g_autoptr(KhFundStatement) s = g_new0 (KhFundStatement, 1);
  g_autoptr(GHashTable) earmarks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  json_object *KH_AUTO_JSON funds = NULL;
  json_object *KH_AUTO_JSON unit = NULL;
  g_autoptr(GString) ids = g_string_new (NULL);

  g_return_val_if_fail (KH_IS_STORE (store), NULL);
  g_return_val_if_fail ((fund_id == NULL) != (unit_id == NULL), NULL);

  s->year = year;
  s->earmarks = g_ptr_array_new_with_free_func ((GDestroyNotify) earmark_free);
  if (fund_id != NULL)
    {
      json_object *fund = kh_store_get (store, "fund", fund_id, error);

      if (fund == NULL)
        return NULL;
      funds = json_object_new_array ();
      json_object_array_add (funds, fund);
      unit_id = str_member (fund, "org_unit_id");
      s->title = g_strdup (str_member (fund, "name"));
    }
  else
    {
      json_object *KH_AUTO_JSON where = json_object_new_object ();
      KhQuery query = { 0 };

      json_object_object_add (where, "org_unit_id", json_object_new_string (unit_id));
      query.where = where;
      funds = kh_store_list (store, "fund", &query, error);
      if (funds == NULL)
        return NULL;
    }
  unit = unit_id != NULL ? kh_store_get (store, "org_unit", unit_id, NULL) : NULL;
  s->unit_name = g_strdup (unit != NULL && str_member (unit, "name") != NULL ? str_member (unit, "name") : "");
  if (s->title == NULL)
    s->title = g_strdup_printf (_("Study promotion funds of %s"), s->unit_name);

  for (size_t i = 0; i < json_object_array_length (funds); i++)
    {
      json_object *fund = json_object_array_get_idx (funds, i);
      json_object *deleted;

      if (json_object_object_get_ex (fund, "deleted", &deleted) && json_object_get_boolean (deleted))
        continue;
      g_string_append_printf (ids, "%s%s", ids->len ? "," : "", str_member (fund, "id"));
      if (!add_fund (store, s, fund, earmarks, error))
        return NULL;
    }
  s->fund_ids = g_strdup (ids->str);
  return g_steal_pointer (&s);
}
