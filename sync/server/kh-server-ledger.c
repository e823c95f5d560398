/* kh-server-ledger.c: a push must not overdraw a fund (PROTOCOL.md, push, "Funds")
 *
 * Two replicas offline may each pay from a fund within what they see, and together spend more
 * than it holds. The server judges every payment by the rule the replica uses
 * (data/kh-ledger.c): a payment on a day may spend the fund's cash in its pool (its earmark, or
 * the unrestricted money with the opening balance) received by that day, less every other
 * payment of the pool. The later push is refused `overdrawn`, with the balance in its message.
 *
 * The money of every donation and payment is kept in a table of its own, `ledger`, one row per
 * record, written with the batch: a check reads one fund's pool with one indexed query, not the
 * records' JSON. A pool is read once per batch and kept up to date in memory as the batch
 * writes, so a batch of many payments costs one query per pool. The push holds the write lock
 * (SQLite's BEGIN IMMEDIATE; PostgreSQL's transaction-scoped advisory lock, taken by every
 * writer first), so two server processes cannot both read a pool before either writes it.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-entity.h"
#include "kh-fold.h"
#include "kh-format.h"
#include "kh-server-core-private.h"

typedef struct
{
  char    *fund_id;
  char    *earmark;   /* folded; "" for the unrestricted money */
  char     kind;      /* 'i' received, 'o' paid */
  char    *dated;
  gint64   amount;    /* cash; 0 for a gift in kind */
  gboolean live;
} Row;

static void
row_free (Row *r)
{
  g_free (r->fund_id);
  g_free (r->earmark);
  g_free (r->dated);
  g_free (r);
}

static Row *
row_copy (const Row *r)
{
  Row *c = g_new (Row, 1);

  *c = *r;
  c->fund_id = g_strdup (r->fund_id);
  c->earmark = g_strdup (r->earmark);
  c->dated = g_strdup (r->dated);
  return c;
}

static char *
earmark_key (const char *earmark)
{
  g_autofree char *copy = g_strdup (earmark != NULL ? earmark : "");

  g_strstrip (copy);
  return kh_fold (copy);
}

static gint64
int_member (json_object *obj,
            const char  *name)
{
  json_object *v;

  if (obj != NULL && json_object_object_get_ex (obj, name, &v) && v != NULL)
    return json_object_get_int64 (v);
  return 0;
}

/* The ledger's row for a donation or a payment with @data; NULL when it names no fund. */
static Row *
row_of (const char  *entity,
        json_object *data,
        gboolean     deleted)
{
  gboolean out = strcmp (entity, "disbursement") == 0;
  const char *fund = _kh_server_string_member (data, "fund_id");
  const char *dated = _kh_server_string_member (data, out ? "paid_on" : "donated_on");
  Row *r;

  if (fund == NULL)
    return NULL;
  r = g_new0 (Row, 1);
  r->fund_id = g_strdup (fund);
  r->earmark = earmark_key (_kh_server_string_member (data, "earmark"));
  r->kind = out ? 'o' : 'i';
  r->dated = g_strdup (dated != NULL ? dated : "");
  r->amount = !out && g_strcmp0 (_kh_server_string_member (data, "form"), "in_kind") == 0
              ? 0 : int_member (data, "amount");
  r->live = !deleted;
  return r;
}

/* A pool's money as the batch leaves it: its receipts one by one (a payment may spend only
 * those dated by its day), and its payments as one sum. */
typedef struct
{
  GHashTable *ins;        /* id → Row*, live receipts */
  gint64      out_total;  /* cash of the live payments */
} Pool;

/* A record the batch wrote: its row in the table before the batch, and after the batch so far. */
typedef struct
{
  Row *before;  /* NULL: none */
  Row *after;
} Pending;

struct _KhServerLedger
{
  KhServerBackend *b;
  GHashTable      *pools;    /* "fund\037earmark" → Pool* */
  GHashTable      *pending;  /* id → Pending*: written by this batch, to flush */
  GPtrArray       *order;    /* ids of pending, in the order first written */
};

static void
pool_free (Pool *p)
{
  g_hash_table_unref (p->ins);
  g_free (p);
}

static void
pending_free (Pending *p)
{
  if (p->before != NULL)
    row_free (p->before);
  row_free (p->after);
  g_free (p);
}

KhServerLedger *
_kh_server_ledger_new (KhServerBackend *b)
{
  KhServerLedger *l = g_new0 (KhServerLedger, 1);

  l->b = b;
  l->pools = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) pool_free);
  l->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) pending_free);
  l->order = g_ptr_array_new_with_free_func (g_free);
  return l;
}

void
_kh_server_ledger_free (KhServerLedger *l)
{
  if (l == NULL)
    return;
  g_hash_table_unref (l->pools);
  g_hash_table_unref (l->pending);
  g_ptr_array_unref (l->order);
  g_free (l);
}

static gboolean
in_pool (const Row  *r,
         const char *fund_id,
         const char *earmark)
{
  return r != NULL && r->live && strcmp (r->fund_id, fund_id) == 0 && strcmp (r->earmark, earmark) == 0;
}

/* Adds (@sign 1) or takes away (-1) @r's money in @pool, if it is of that pool. */
static void
pool_apply (Pool       *pool,
            const char *fund_id,
            const char *earmark,
            const char *id,
            const Row  *r,
            int         sign)
{
  if (!in_pool (r, fund_id, earmark))
    return;
  if (r->kind == 'o')
    pool->out_total += sign * r->amount;
  else if (sign > 0)
    g_hash_table_replace (pool->ins, g_strdup (id), row_copy (r));
  else
    g_hash_table_remove (pool->ins, id);
}

static gboolean
in_row_cb (const char * const *v,
           int                 n,
           gpointer            data)
{
  Row *r = g_new0 (Row, 1);

  r->kind = 'i';
  r->dated = g_strdup (v[1] != NULL ? v[1] : "");
  r->amount = v[2] != NULL ? g_ascii_strtoll (v[2], NULL, 10) : 0;
  r->live = TRUE;
  g_hash_table_replace (data, g_strdup (v[0]), r);
  return TRUE;
}

/* The pool of @fund_id and @earmark as the batch leaves it: the table's (two indexed queries,
 * once per batch), with the batch's own writes. */
static Pool *
pool (KhServerLedger  *l,
      const char      *fund_id,
      const char      *earmark,
      GError         **error)
{
  g_autofree char *key = g_strconcat (fund_id, "\037", earmark, NULL);
  Pool *p = g_hash_table_lookup (l->pools, key);
  KhSqlParam params[2] = { KH_SQL_P_TEXT (fund_id), KH_SQL_P_TEXT (earmark) };
  gboolean found;
  GHashTableIter iter;
  gpointer id, value;

  if (p != NULL)
    return p;
  p = g_new0 (Pool, 1);
  p->ins = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) row_free);
  if (!kh_server_backend_exec (l->b, "SELECT id, dated, amount FROM ledger "
                               "WHERE fund_id = ? AND earmark = ? AND kind = 'i' AND live = 1",
                               params, 2, in_row_cb, p->ins, NULL, error)
      || !kh_server_backend_query_int (l->b, "SELECT coalesce(sum(amount), 0) FROM ledger "
                                       "WHERE fund_id = ? AND earmark = ? AND kind = 'o' AND live = 1",
                                       params, 2, &p->out_total, &found, error))
    {
      pool_free (p);
      return NULL;
    }
  g_hash_table_iter_init (&iter, l->pending);
  while (g_hash_table_iter_next (&iter, &id, &value))
    {
      Pending *w = value;

      pool_apply (p, fund_id, earmark, id, w->before, -1);
      pool_apply (p, fund_id, earmark, id, w->after, 1);
    }
  g_hash_table_insert (l->pools, g_steal_pointer (&key), p);
  return p;
}

/* Notes that the batch writes @s, a record of @entity that was @old (NULL: new): every ledger
 * row is written at the end (_kh_server_ledger_flush()), and the pools read so far follow it
 * at once. */
void
_kh_server_ledger_note (KhServerLedger       *l,
                        const char           *entity,
                        const char           *id,
                        const KhServerStored *old,
                        const KhServerStored *s)
{
  Pending *w;
  Row *r;
  const Row *prev;
  GHashTableIter iter;
  gpointer key, value;

  if (strcmp (entity, "donation") != 0 && strcmp (entity, "disbursement") != 0)
    return;
  r = row_of (entity, s->data, s->deleted);
  if (r == NULL)
    return;
  w = g_hash_table_lookup (l->pending, id);
  if (w == NULL)
    {
      w = g_new0 (Pending, 1);
      w->before = old != NULL ? row_of (entity, old->data, old->deleted) : NULL;
      g_hash_table_insert (l->pending, g_strdup (id), w);
      g_ptr_array_add (l->order, g_strdup (id));
    }
  prev = w->after != NULL ? w->after : w->before;
  g_hash_table_iter_init (&iter, l->pools);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_auto(GStrv) parts = g_strsplit (key, "\037", 2);

      pool_apply (value, parts[0], parts[1], id, prev, -1);
      pool_apply (value, parts[0], parts[1], id, r, 1);
    }
  if (w->after != NULL)
    row_free (w->after);
  w->after = r;
}

/* Judges a payment @id that would be @data (a disbursement; @old what it was, NULL if new)
 * against @fund, the fund's record as the batch leaves it. Sets @refusal to the message when
 * it would overdraw its pool. */
gboolean
_kh_server_ledger_check (KhServerLedger       *l,
                         json_object          *fund,
                         const char           *id,
                         const KhServerStored *old,
                         json_object          *data,
                         char                **refusal,
                         GError              **error)
{
  const char *fund_id = _kh_server_string_member (data, "fund_id");
  const char *paid_on = _kh_server_string_member (data, "paid_on");
  const char *earmark = _kh_server_string_member (data, "earmark");
  const char *opened = _kh_server_string_member (fund, "opening_date");
  g_autofree char *key = earmark_key (earmark);
  g_autoptr(GPtrArray) own = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  Pending *w = g_hash_table_lookup (l->pending, id);
  const Row *self = NULL;
  gint64 amount = int_member (data, "amount");
  gint64 held = 0;
  Pool *p;
  GHashTableIter iter;
  gpointer value;

  *refusal = NULL;
  if (fund_id == NULL || paid_on == NULL)
    return TRUE;
  if ((p = pool (l, fund_id, key, error)) == NULL)
    return FALSE;
  /* The payment's own money as it stands: not spent twice. */
  if (w != NULL)
    self = w->after;
  else if (old != NULL)
    {
      Row *r = row_of ("disbursement", old->data, old->deleted);

      if (r != NULL)
        g_ptr_array_add (own, r);
      self = r;
    }
  if (key[0] == '\0' && (opened == NULL || strcmp (opened, paid_on) <= 0))
    held = int_member (fund, "opening_balance");
  g_hash_table_iter_init (&iter, p->ins);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const Row *r = value;

      if (strcmp (r->dated, paid_on) <= 0)
        held += r->amount;
    }
  held -= p->out_total;
  if (in_pool (self, fund_id, key) && self->kind == 'o')
    held += self->amount;
  if (amount > held)
    {
      g_autofree char *h = kh_format_money (held);
      g_autofree char *a = kh_format_money (amount);
      g_autofree char *day = kh_format_date (paid_on);
      const char *name = _kh_server_string_member (fund, "name");

      if (key[0] != '\0')
        *refusal = g_strdup_printf (_("The fund “%s” holds %s earmarked for “%s” on %s, with the payments "
                                      "others have made: a payment of %s would overdraw it."),
                                    name, h, earmark, day, a);
      else
        *refusal = g_strdup_printf (_("The fund “%s” holds %s that is not earmarked on %s, with the "
                                      "payments others have made: a payment of %s would overdraw it."),
                                    name, h, day, a);
    }
  return TRUE;
}

/* Rows a multi-row statement writes: a few prepared statements, whatever the batch. */
static const guint chunk_sizes[] = { 200, 50, 10, 1 };

static gboolean
write_row (KhServerBackend  *b,
           const char       *id,
           const Row        *r,
           GError          **error)
{
  char kind[2] = { r->kind, '\0' };
  KhSqlParam p[7] = {
    KH_SQL_P_TEXT (id), KH_SQL_P_TEXT (r->fund_id), KH_SQL_P_TEXT (r->earmark), KH_SQL_P_TEXT (kind),
    KH_SQL_P_TEXT (r->dated), KH_SQL_P_INT (r->amount), KH_SQL_P_INT (r->live ? 1 : 0),
  };

  return kh_server_backend_exec (b, "INSERT INTO ledger (id, fund_id, earmark, kind, dated, amount, live) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                                 "fund_id = excluded.fund_id, earmark = excluded.earmark, kind = excluded.kind, "
                                 "dated = excluded.dated, amount = excluded.amount, live = excluded.live",
                                 p, 7, NULL, NULL, NULL, error);
}

/* Writes the rows of the donations and payments the batch wrote, with multi-row statements. */
gboolean
_kh_server_ledger_flush (KhServerLedger  *l,
                         GError         **error)
{
  guint i = 0;

  while (i < l->order->len)
    {
      guint n = 0, k = 0;
      g_autoptr(GString) sql = g_string_new ("INSERT INTO ledger (id, fund_id, earmark, kind, dated, amount, live) VALUES ");
      g_autofree KhSqlParam *p = NULL;
      g_autofree char *kinds = NULL;

      while (chunk_sizes[k] > l->order->len - i)
        k++;
      n = chunk_sizes[k];
      p = g_new (KhSqlParam, 7 * n);
      kinds = g_new0 (char, 2 * n);
      for (guint r = 0; r < n; r++)
        {
          const char *id = l->order->pdata[i + r];
          const Row *row = ((Pending *) g_hash_table_lookup (l->pending, id))->after;

          kinds[2 * r] = row->kind;
          g_string_append (sql, r ? ", (?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?)");
          p[7 * r] = KH_SQL_P_TEXT (id);
          p[7 * r + 1] = KH_SQL_P_TEXT (row->fund_id);
          p[7 * r + 2] = KH_SQL_P_TEXT (row->earmark);
          p[7 * r + 3] = KH_SQL_P_TEXT (&kinds[2 * r]);
          p[7 * r + 4] = KH_SQL_P_TEXT (row->dated);
          p[7 * r + 5] = KH_SQL_P_INT (row->amount);
          p[7 * r + 6] = KH_SQL_P_INT (row->live ? 1 : 0);
        }
      g_string_append (sql, " ON CONFLICT (id) DO UPDATE SET fund_id = excluded.fund_id, "
                       "earmark = excluded.earmark, kind = excluded.kind, dated = excluded.dated, "
                       "amount = excluded.amount, live = excluded.live");
      if (!kh_server_backend_exec (l->b, sql->str, p, 7 * n, NULL, NULL, NULL, error))
        return FALSE;
      i += n;
    }
  return TRUE;
}

typedef struct
{
  GPtrArray *ids;
  GPtrArray *rows;
} Fill;

static gboolean
fill_row_cb (const char * const *v,
             int                 n,
             gpointer            data)
{
  Fill *f = data;
  g_autoptr(json_object) obj = json_tokener_parse (v[3]);
  Row *r = row_of (v[1], obj, v[2] != NULL && strcmp (v[2], "0") != 0);

  if (r != NULL)
    {
      g_ptr_array_add (f->ids, g_strdup (v[0]));
      g_ptr_array_add (f->rows, r);
    }
  return TRUE;
}

/* Server schema 6: the ledger of the donations and payments already stored. */
gboolean
_kh_server_ledger_fill (KhServerBackend  *b,
                        GError          **error)
{
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify) row_free);
  Fill f = { ids, rows };

  if (!kh_server_backend_exec (b, "SELECT id, entity, deleted, data FROM records "
                               "WHERE entity IN ('donation', 'disbursement')",
                               NULL, 0, fill_row_cb, &f, NULL, error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    if (!write_row (b, ids->pdata[i], rows->pdata[i], error))
      return FALSE;
  return TRUE;
}
