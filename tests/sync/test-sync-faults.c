/* test-sync-faults.c: the engine behind a fault-injecting proxy, and servers that answer badly
 *
 * - Each fault once, on a push and on a pull: connections reset before and after the server
 *   handled the request (a lost answer), half answers, delays, a stall longer than the engine
 *   waits, 500, 503 with Retry-After, a request delivered twice. The sync still completes (it
 *   retries with the same mutation ids), and nothing exists twice.
 * - A randomized model-based run: three replicas edit offline (each its own field of shared
 *   records, plus records of their own that they create, edit and delete) and sync in turns
 *   while a third of all requests fail at random. When the faults stop and everyone has synced,
 *   the server (seen through a fresh replica) holds exactly the model: every acknowledged edit,
 *   every created record once. The seed is printed; KH_SEED=N replays it.
 * - Bad answers (malformed JSON, wrong types, a page that claims more than it holds, a body cut
 *   short, a huge body, push results that do not match) fail with a clear error and leave the
 *   replica exactly as it was.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "kh-codec.h"
#include "kh-fault-proxy.h"
#include "kh-replica.h"
#include "kh-store-sql.h"
#include "kh-sync-test-util.h"

typedef struct
{
  KhTestServer *server;
  KhFaultProxy *proxy;
  char         *dir;
  char         *proxy_url;
} Fixture;

static guint32 seed;

static void
set_up (Fixture       *f,
        gconstpointer  data)
{
  f->server = kh_test_server_new_serving (data);
  if (f->server == NULL)
    return;
  f->dir = kh_test_tmpdir ();
  f->proxy = kh_fault_proxy_new (f->server->port, seed);
  f->proxy_url = g_strdup_printf ("http://127.0.0.1:%d", kh_fault_proxy_get_port (f->proxy));
}

static void
tear_down (Fixture       *f,
           gconstpointer  data)
{
  kh_fault_proxy_free (f->proxy);
  kh_test_server_free (f->server);
  kh_test_rmdir (f->dir);
  g_free (f->dir);
  g_free (f->proxy_url);
}

#define SKIP_WITHOUT_SERVER(f) \
  if ((f)->server == NULL) { g_test_skip ("KH_TEST_PG_URL is not set"); return; }

static void
test_each_fault (Fixture       *f,
                 gconstpointer  data)
{
  KhTReplica *a;
  KhTReplica *b;
  g_autofree char *shared = NULL;
  const char *unit;
  const char *where[] = { "POST /v1/push", "GET /v1/changes" };

  SKIP_WITHOUT_SERVER (f);
  a = kh_treplica_new (f->server, f->dir, "a", f->proxy_url, "officer_a");
  b = kh_treplica_new (f->server, f->dir, "b", f->server->base, "officer_a");
  kh_treplica_sync (a);
  unit = kh_treplica_unit (a, "A");
  {
    g_autofree char *json = g_strdup_printf ("{\"full_name\": \"Chung\", \"org_unit_id\": \"%s\"}", unit);
    shared = kh_treplica_add (a, "person", json);
  }
  kh_treplica_sync (a);
  kh_treplica_sync (b);

  for (int w = 0; w < 2; w++)
    for (KhFault fault = 1; fault < KH_N_FAULTS; fault++)
      {
        g_autofree char *name = g_strdup_printf ("Người %s %d", kh_fault_name (fault), w);
        g_autofree char *json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", name, unit);
        g_autofree char *phone = g_strdup_printf ("{\"phone\": \"09%02d%02d0000\"}", w, fault);
        g_autofree char *id = kh_treplica_add (a, "person", json);
        json_object *rec;

        kh_treplica_set (a, "person", shared, phone);
        /* b makes something for a to pull. */
        {
          g_autofree char *bname = g_strdup_printf ("Của b %s %d", kh_fault_name (fault), w);
          g_autofree char *bjson = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", bname, unit);
          g_autofree char *bid = kh_treplica_add (b, "person", bjson);
          kh_treplica_sync (b);
        }
        kh_fault_proxy_set_fault (f->proxy, fault, where[w], 1);
        kh_treplica_sync (a);
        g_assert_cmpuint (kh_fault_proxy_get_count (f->proxy, fault), >=, 1);
        kh_treplica_sync (b);
        g_assert_cmpint (kh_treplica_count_named (b, name), ==, 1);
        g_assert_cmpint (kh_treplica_count_named (a, name), ==, 1);
        rec = kh_treplica_get (b, "person", shared);
        {
          g_autofree char *expect = g_strdup_printf ("09%02d%02d0000", w, fault);

          g_assert_cmpstr (kh_tstr (rec, "phone"), ==, expect);
        }
        json_object_put (rec);
      }
  {
    g_autofree char *da = kh_treplica_dump (a);
    g_autofree char *db = kh_treplica_dump (b);

    kh_treplica_sync (a);
    g_free (da);
    da = kh_treplica_dump (a);
    g_assert_cmpstr (da, ==, db);
    g_assert_cmpint (kh_replica_count_conflicts (a->store), ==, 0);
  }
  kh_treplica_free (a);
  kh_treplica_free (b);
}

/* The model-based run ------------------------------------------------------------------------ */

typedef struct
{
  char     *id;
  char     *name;
  int       owner;     /* the replica that created it; -1 for shared */
  gboolean  deleted;
  char     *fields[3]; /* the last value each replica set (shared), or [0] = phone (own) */
} ModelRecord;

static void
model_record_free (gpointer data)
{
  ModelRecord *m = data;

  g_free (m->id);
  g_free (m->name);
  for (int i = 0; i < 3; i++)
    g_free (m->fields[i]);
  g_free (m);
}

static const char *owned_field[3] = { "phone", "address", "guardian_name" };

static void
test_random (Fixture       *f,
             gconstpointer  data)
{
  KhTReplica *r[3];
  KhTReplica *fresh;
  g_autoptr(GPtrArray) model = g_ptr_array_new_with_free_func (model_record_free);
  GRand *rand;
  const char *unit;
  int serial = 0;
  guint failures = 0;

  SKIP_WITHOUT_SERVER (f);
  rand = g_rand_new_with_seed (seed);
  g_test_message ("seed %u (replay with KH_SEED=%u)", seed, seed);
  r[0] = kh_treplica_new (f->server, f->dir, "m0", f->proxy_url, "officer_a");
  r[1] = kh_treplica_new (f->server, f->dir, "m1", f->proxy_url, "officer_a");
  r[2] = kh_treplica_new (f->server, f->dir, "m2", f->proxy_url, "admin");
  kh_treplica_sync (r[2]);
  unit = kh_treplica_unit (r[2], "A");

  for (int k = 0; k < 5; k++)
    {
      ModelRecord *m = g_new0 (ModelRecord, 1);
      g_autofree char *json = NULL;

      m->name = g_strdup_printf ("Chung %d", k);
      m->owner = -1;
      json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", m->name, unit);
      m->id = kh_treplica_add (r[2], "person", json);
      g_ptr_array_add (model, m);
    }
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (r[(i + 2) % 3]);

  kh_fault_proxy_set_random (f->proxy, 0.3);
  for (int round = 0; round < 8; round++)
    {
      for (int i = 0; i < 3; i++)
        {
          int ops = g_rand_int_range (rand, 1, 5);

          for (int o = 0; o < ops; o++)
            {
              int kind = g_rand_int_range (rand, 0, 4);
              g_autofree char *value = NULL;

              serial++;
              value = i == 0 ? g_strdup_printf ("08%08d", serial) : g_strdup_printf ("v%d", serial);

              if (kind == 0)
                {
                  /* Create one of its own. */
                  ModelRecord *m = g_new0 (ModelRecord, 1);
                  g_autofree char *json = NULL;

                  m->name = g_strdup_printf ("Riêng %d của %d", serial, i);
                  m->owner = i;
                  json = g_strdup_printf ("{\"full_name\": \"%s\", \"org_unit_id\": \"%s\"}", m->name, unit);
                  m->id = kh_treplica_add (r[i], "person", json);
                  g_ptr_array_add (model, m);
                }
              else
                {
                  /* Edit its field of a shared record, or edit or delete one of its own. */
                  guint pick = (guint) g_rand_int_range (rand, 0, (gint32) model->len);
                  ModelRecord *m = model->pdata[pick];
                  g_autoptr(GError) error = NULL;

                  if (m->owner == -1)
                    {
                      g_autofree char *json = g_strdup_printf ("{\"%s\": \"%s\"}", owned_field[i], value);

                      kh_treplica_set (r[i], "person", m->id, json);
                      g_free (m->fields[i]);
                      m->fields[i] = g_strdup (value);
                    }
                  else if (m->owner == i && !m->deleted)
                    {
                      if (kind == 3)
                        {
                          g_assert_true (kh_store_delete (r[i]->store, "person", m->id, &error));
                          m->deleted = TRUE;
                        }
                      else
                        {
                          g_autofree char *json = g_strdup_printf ("{\"phone\": \"09%08d\"}", serial);

                          kh_treplica_set (r[i], "person", m->id, json);
                          g_free (m->fields[0]);
                          m->fields[0] = g_strdup_printf ("09%08d", serial);
                        }
                    }
                }
            }
        }
      /* Sync in a random order; a sync may fail under faults, and is simply tried again later. */
      for (int s = 0; s < 3; s++)
        {
          KhSyncReport rep;
          g_autoptr(GError) error = NULL;
          int who = g_rand_int_range (rand, 0, 3);

          if (!kh_treplica_try_sync (r[who], &rep, &error))
            failures++;
        }
    }

  kh_fault_proxy_set_random (f->proxy, 0);
  for (int pass = 0; pass < 3; pass++)
    for (int i = 0; i < 3; i++)
      kh_treplica_sync (r[i]);
  g_test_message ("faults injected: reset-before %u, reset-after %u, truncate %u, delay %u, "
                  "500 %u, 503 %u, twice %u; syncs that gave up: %u",
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_RESET_BEFORE),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_RESET_AFTER),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_TRUNCATE),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_DELAY),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_500),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_503),
                  kh_fault_proxy_get_count (f->proxy, KH_FAULT_TWICE), failures);

  /* The server, seen by a fresh replica, holds exactly the model. */
  fresh = kh_treplica_new (f->server, f->dir, "fresh", f->server->base, "admin");
  kh_treplica_sync (fresh);
  {
    KhQuery q = { .include_deleted = TRUE };
    guint expected = 0;

    for (guint k = 0; k < model->len; k++)
      {
        ModelRecord *m = model->pdata[k];
        json_object *rec;

        /* Created and deleted before it was ever sent: it never existed on the server, and
         * the replica keeps only its local tombstone. */
        if (m->deleted && kh_treplica_count_named (fresh, m->name) == 0)
          {
            rec = kh_treplica_get (r[m->owner], "person", m->id);
            g_assert_cmpint (json_object_get_int64 (json_object_object_get (rec, "version")), ==, 0);
            json_object_put (rec);
            continue;
          }
        expected++;
        rec = kh_treplica_get (fresh, "person", m->id);
        g_assert_cmpint (kh_treplica_count_named (fresh, m->name), ==, 1);
        g_assert_cmpint (json_object_get_boolean (json_object_object_get (rec, "deleted")), ==, m->deleted);
        if (m->owner == -1)
          for (int i = 0; i < 3; i++)
            g_assert_cmpstr (kh_tstr (rec, owned_field[i]), ==, m->fields[i]);
        else
          {
            if (g_strcmp0 (kh_tstr (rec, "phone"), m->fields[0]) != 0)
              {
                json_object *mine = kh_treplica_get (r[m->owner], "person", m->id);
                json_object *hist = kh_store_history (r[m->owner]->store, "person", m->id, NULL);

                g_test_message ("server: %s", json_object_to_json_string (rec));
                g_test_message ("owner %d: %s", m->owner, json_object_to_json_string (mine));
                g_test_message ("owner history: %s", json_object_to_json_string (hist));
                json_object_put (mine);
                json_object_put (hist);
              }
            g_assert_cmpstr (kh_tstr (rec, "phone"), ==, m->fields[0]);
          }
        json_object_put (rec);
      }
    g_assert_cmpint (kh_store_count (fresh->store, "person", &q, NULL), ==, expected);
  }
  {
    KhTReplica *fresh_a = kh_treplica_new (f->server, f->dir, "fresh_a", f->server->base, "officer_a");
    g_autofree char *df = kh_treplica_dump (fresh);
    g_autofree char *dfa = NULL;

    kh_treplica_sync (fresh_a);
    dfa = kh_treplica_dump (fresh_a);
    kh_treplica_free (fresh_a);
    for (int i = 0; i < 3; i++)
      {
        g_autofree char *d = kh_treplica_dump (r[i]);

        g_assert_cmpstr (d, ==, i == 2 ? df : dfa);
        g_assert_cmpint (kh_store_count_pending (r[i]->store), ==, 0);
        g_assert_cmpint (kh_replica_count_conflicts (r[i]->store), ==, 0);
      }
  }
  kh_treplica_free (fresh);
  for (int i = 0; i < 3; i++)
    kh_treplica_free (r[i]);
  g_rand_free (rand);
}


/* The same under faults, but every replica edits every field of the shared records, so true
 * conflicts arise; people resolve them (mine or theirs at random) until none is left. At the end
 * every replica equals the server, nothing exists twice, and every value on the server is one
 * that somebody typed. */
static void
test_random_conflicts (Fixture       *f,
                       gconstpointer  data)
{
  KhTReplica *r[3];
  KhTReplica *fresh;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) typed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GRand *rand;
  const char *unit;
  const char *fields[] = { "address", "guardian_name", "ethnicity" };
  int serial = 0;
  guint resolved = 0;

  SKIP_WITHOUT_SERVER (f);
  rand = g_rand_new_with_seed (seed ^ 0x5eed);
  r[0] = kh_treplica_new (f->server, f->dir, "c0", f->proxy_url, "officer_a");
  r[1] = kh_treplica_new (f->server, f->dir, "c1", f->proxy_url, "officer_a");
  r[2] = kh_treplica_new (f->server, f->dir, "c2", f->proxy_url, "admin");
  kh_treplica_sync (r[2]);
  unit = kh_treplica_unit (r[2], "A");
  for (int k = 0; k < 4; k++)
    {
      g_autofree char *json = g_strdup_printf ("{\"full_name\": \"Chung %d\", \"org_unit_id\": \"%s\"}", k, unit);
      g_ptr_array_add (ids, kh_treplica_add (r[2], "person", json));
    }
  for (int i = 0; i < 3; i++)
    kh_treplica_sync (r[(i + 2) % 3]);

  kh_fault_proxy_set_random (f->proxy, 0.3);
  for (int round = 0; round < 6; round++)
    {
      for (int i = 0; i < 3; i++)
        for (int o = 0; o < 3; o++)
          {
            const char *id = ids->pdata[g_rand_int_range (rand, 0, (gint32) ids->len)];
            const char *field = fields[g_rand_int_range (rand, 0, G_N_ELEMENTS (fields))];
            g_autofree char *value = g_strdup_printf ("r%d-%d", i, ++serial);
            g_autofree char *json = g_strdup_printf ("{\"%s\": \"%s\"}", field, value);

            kh_treplica_set (r[i], "person", id, json);
            g_hash_table_add (typed, g_steal_pointer (&value));
          }
      for (int s = 0; s < 3; s++)
        {
          KhSyncReport rep;
          g_autoptr(GError) error = NULL;

          kh_treplica_try_sync (r[g_rand_int_range (rand, 0, 3)], &rep, &error);
        }
    }
  kh_fault_proxy_set_random (f->proxy, 0);

  /* People resolve what is open, and everyone syncs, until nothing is open anywhere. */
  for (int pass = 0; pass < 8; pass++)
    {
      gint64 open = 0;

      for (int i = 0; i < 3; i++)
        {
          g_autoptr(GError) error = NULL;
          json_object *conflicts;

          kh_treplica_sync (r[i]);
          conflicts = kh_replica_list_conflicts (r[i]->store, &error);
          for (size_t c = 0; c < json_object_array_length (conflicts); c++)
            {
              json_object *row = json_object_array_get_idx (conflicts, c);

              /* Both values are there for the person to see. */
              g_assert_true (json_object_object_get_ex (row, "local", NULL));
              g_assert_true (json_object_object_get_ex (row, "remote", NULL));
              g_assert_true (kh_replica_resolve (r[i]->store, kh_tstr (row, "id"), kh_tstr (row, "field"),
                                                 g_rand_boolean (rand) ? KH_RESOLVE_MINE : KH_RESOLVE_THEIRS,
                                                 NULL, &error));
              g_assert_no_error (error);
              resolved++;
            }
          json_object_put (conflicts);
        }
      for (int i = 0; i < 3; i++)
        {
          kh_treplica_sync (r[i]);
          open += kh_replica_count_conflicts (r[i]->store) + kh_store_count_pending (r[i]->store);
        }
      if (open == 0)
        break;
    }
  g_test_message ("%u conflicts resolved by hand", resolved);
  /* What the last ones sent, the first ones have not pulled yet. */
  for (int i = 0; i < 3; i++)
    {
      KhSyncReport rep = kh_treplica_sync (r[i]);

      g_assert_cmpuint (rep.pushed, ==, 0);
      g_assert_cmpint (rep.open_conflicts, ==, 0);
    }

  fresh = kh_treplica_new (f->server, f->dir, "cfresh", f->server->base, "officer_a");
  kh_treplica_sync (fresh);
  {
    g_autofree char *df = kh_treplica_dump (fresh);
    KhQuery q = { .include_deleted = TRUE };

    g_assert_cmpint (kh_store_count (fresh->store, "person", &q, NULL), ==, ids->len);
    for (int i = 0; i < 2; i++)
      {
        g_autofree char *d = kh_treplica_dump (r[i]);

        if (strcmp (d, df) != 0)
          for (guint k = 0; k < ids->len; k++)
            {
              json_object *mine = kh_treplica_get (r[i], "person", ids->pdata[k]);
              json_object *theirs = kh_treplica_get (fresh, "person", ids->pdata[k]);

              if (json_object_get_int64 (json_object_object_get (mine, "version"))
                  != json_object_get_int64 (json_object_object_get (theirs, "version")))
                {
                  json_object *hist = kh_store_history (r[i]->store, "person", ids->pdata[k], NULL);

                  g_test_message ("replica %d stale: %s", i, json_object_to_json_string (mine));
                  g_test_message ("history: %s", json_object_to_json_string_ext (hist, JSON_C_TO_STRING_PRETTY));
                  json_object_put (hist);
                }
              json_object_put (mine);
              json_object_put (theirs);
            }
        g_assert_cmpstr (d, ==, df);
      }
  }
  for (guint k = 0; k < ids->len; k++)
    {
      json_object *rec = kh_treplica_get (fresh, "person", ids->pdata[k]);

      for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
        {
          const char *v = kh_tstr (rec, fields[i]);

          g_assert_true (v == NULL || g_hash_table_contains (typed, v));
        }
      json_object_put (rec);
    }
  kh_treplica_free (fresh);
  for (int i = 0; i < 3; i++)
    kh_treplica_free (r[i]);
  g_rand_free (rand);
}

/* Bad answers --------------------------------------------------------------------------------- */

static GBytes *
http_answer_len (int          status,
                 const char  *extra_headers,
                 const char  *body,
                 gsize        len,
                 gsize        claimed)
{
  g_autofree char *head = g_strdup_printf ("HTTP/1.1 %d X\r\nContent-Type: application/json\r\n%s"
                                           "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                                           status, extra_headers ? extra_headers : "",
                                           claimed ? claimed : len);
  GByteArray *a = g_byte_array_new ();

  g_byte_array_append (a, (guint8 *) head, strlen (head));
  g_byte_array_append (a, (guint8 *) body, len);
  return g_byte_array_free_to_bytes (a);
}

static GBytes *
http_answer (int          status,
             const char  *extra_headers,
             const char  *body,
             gsize        claimed)
{
  return http_answer_len (status, extra_headers, body, strlen (body), claimed);
}

static char *
state_of (KhTReplica *r)
{
  g_autofree char *dump = kh_treplica_dump (r);
  g_autofree char *cursor = kh_replica_get_state (r->store, KH_SYNC_CURSOR);
  json_object *outbox = kh_store_list_outbox (r->store, NULL);
  char *s;

  /* Attempts count the tries; what matters is what is waiting and with which ids. */
  for (size_t i = 0; i < json_object_array_length (outbox); i++)
    json_object_object_del (json_object_array_get_idx (outbox, i), "attempts");
  s = g_strdup_printf ("%s\ncursor=%s\noutbox=%s\n", dump, cursor,
                       json_object_to_json_string_ext (outbox, JSON_C_TO_STRING_PLAIN));
  json_object_put (outbox);
  return s;
}

static void
test_bad_answers (Fixture       *f,
                  gconstpointer  data)
{
  KhTReplica *a;
  KhTReplica *b;
  const char *unit;
  g_autofree char *id = NULL;
  g_autofree char *huge = NULL;
  g_autofree char *deep = NULL;
  struct { const char *what; const char *prefix; int status; const char *body; gsize claimed; } cases[] = {
    { "malformed JSON", "GET /v1/changes", 200, "{\"server_id\": \"x\", \"records\": [", 0 },
    { "not an object", "GET /v1/changes", 200, "[1, 2, 3]", 0 },
    { "wrong types", "GET /v1/changes", 200, NULL, 0 },
    { "a record of the wrong type", "GET /v1/changes", 200, NULL, 0 },
    { "more promised than sent", "GET /v1/changes", 200, NULL, 0 },
    { "a body cut short", "GET /v1/changes", 200, "{\"server_id\": \"", 500 },
    { "too deep", "GET /v1/changes", 200, NULL, 0 },
    { "results that do not match", "POST /v1/push", 200, NULL, 0 },
    { "a huge body", "GET /v1/changes", 200, NULL, 0 },
  };
  g_autofree char *server_id = NULL;
  g_autofree char *cursor = NULL;

  SKIP_WITHOUT_SERVER (f);
  a = kh_treplica_new (f->server, f->dir, "a", f->proxy_url, "officer_a");
  b = kh_treplica_new (f->server, f->dir, "b", f->server->base, "officer_a");
  g_object_set (a->engine, "max-attempts", 2, "max-body", (guint64) 1024 * 1024, NULL);
  kh_treplica_sync (a);
  unit = kh_treplica_unit (a, "A");
  {
    g_autofree char *json = g_strdup_printf ("{\"full_name\": \"Một\", \"org_unit_id\": \"%s\"}", unit);
    g_autofree char *json2 = g_strdup_printf ("{\"full_name\": \"Hai\", \"org_unit_id\": \"%s\"}", unit);
    g_autofree char *other = NULL;

    id = kh_treplica_add (a, "person", json);
    kh_treplica_sync (b);
    other = kh_treplica_add (b, "person", json2);
    kh_treplica_sync (b);
  }
  kh_treplica_set (a, "person", id, "{\"phone\": \"0905000000\"}");
  server_id = kh_replica_get_state (a->store, KH_SYNC_SERVER_ID);
  cursor = kh_replica_get_state (a->store, KH_SYNC_CURSOR);

  cases[2].body = g_strdup_printf ("{\"server_id\": \"%s\", \"epoch\": \"1\", \"cursor\": \"x\", \"has_more\": false, "
                                   "\"records\": [], \"removed\": [], \"reset\": false}", server_id);
  cases[3].body = g_strdup_printf ("{\"server_id\": \"%s\", \"epoch\": 1, \"cursor\": \"x\", \"has_more\": false, "
                                   "\"records\": [{\"entity\": \"person\", \"id\": \"%s\", \"version\": 99, \"deleted\": false, "
                                   "\"fields\": {\"full_name\": 12, \"org_unit_id\": \"%s\"}}], \"removed\": [], \"reset\": false}",
                                   server_id, id, unit);
  cases[4].body = g_strdup_printf ("{\"server_id\": \"%s\", \"epoch\": 1, \"cursor\": \"%s\", \"has_more\": true, "
                                   "\"records\": [], \"removed\": [], \"reset\": false}", server_id, cursor ? cursor : "");
  {
    GString *d = g_string_new (NULL);

    for (int i = 0; i < 200; i++)
      g_string_append (d, "[");
    for (int i = 0; i < 200; i++)
      g_string_append (d, "]");
    deep = g_string_free (d, FALSE);
    cases[6].body = deep;
  }
  cases[7].body = g_strdup_printf ("{\"results\": [], \"server_id\": \"%s\", \"epoch\": 1}", server_id);
  {
    GString *h = g_string_new ("{\"pad\": \"");

    while (h->len < 2 * 1024 * 1024)
      g_string_append (h, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    g_string_append (h, "\"}");
    huge = g_string_free (h, FALSE);
    cases[8].body = huge;
  }

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr(GBytes) raw = http_answer (cases[c].status, NULL, cases[c].body, cases[c].claimed);
      g_autofree char *before = state_of (a);
      g_autofree char *after = NULL;
      g_autoptr(GError) error = NULL;
      KhSyncReport rep;

      kh_fault_proxy_set_answer (f->proxy, cases[c].prefix, raw);
      g_assert_false (kh_treplica_try_sync (a, &rep, &error));
      g_assert_nonnull (error);
      g_test_message ("%s: %s", cases[c].what, error->message);
      /* A clear error names what was wrong, not a crash or a silent success. */
      g_assert_cmpuint (strlen (error->message), >, 10);
      kh_fault_proxy_set_answer (f->proxy, NULL, NULL);
      after = state_of (a);
      if (strcmp (cases[c].prefix, "POST /v1/push") != 0)
        g_assert_cmpstr (after, ==, before);
      else
        {
          /* The push may have been applied by the server before the bad answer: the replica
           * still holds the change with the same mutation id, to be acknowledged next time. */
          g_assert_cmpint (kh_store_count_pending (a->store), ==, 1);
        }
    }
  /* Compressed answers: zstd that unpacks past the limit (a small bomb), and zstd cut short. */
  {
    gsize cap = ZSTD_compressBound (strlen (huge));
    g_autofree char *z = g_malloc (cap);
    gsize zlen = ZSTD_compress (z, cap, huge, strlen (huge), 3);
    g_autofree char *page = g_strdup_printf ("{\"server_id\": \"%s\", \"epoch\": 1, \"cursor\": \"x\", \"has_more\": false, "
                                             "\"records\": [], \"removed\": [], \"reset\": false}", server_id);
    gsize pcap = ZSTD_compressBound (strlen (page));
    g_autofree char *pz = g_malloc (pcap);
    gsize pzlen = ZSTD_compress (pz, pcap, page, strlen (page), 3);
    struct { const char *what; const char *body; gsize len; GQuark domain; int code; } zcases[] = {
      { "a zstd bomb", z, zlen, KH_SYNC_ERROR, KH_SYNC_ERROR_TOO_LARGE },
      { "zstd cut short", pz, pzlen - 4, KH_SYNC_ERROR, KH_SYNC_ERROR_BAD_JSON },
    };

    g_assert_false (ZSTD_isError (zlen));
    g_assert_false (ZSTD_isError (pzlen));
    g_assert_cmpuint (zlen, <, 64 * 1024);
    for (guint c = 0; c < G_N_ELEMENTS (zcases); c++)
      {
        g_autoptr(GBytes) raw = http_answer_len (200, "Content-Encoding: zstd\r\n", zcases[c].body, zcases[c].len, 0);
        g_autofree char *before = state_of (a);
        g_autofree char *after = NULL;
        g_autoptr(GError) error = NULL;
        KhSyncReport rep;

        kh_fault_proxy_set_answer (f->proxy, "GET /v1/changes", raw);
        g_assert_false (kh_treplica_try_sync (a, &rep, &error));
        g_test_message ("%s: %s", zcases[c].what, error->message);
        g_assert_error (error, zcases[c].domain, zcases[c].code);
        kh_fault_proxy_set_answer (f->proxy, NULL, NULL);
        after = state_of (a);
        g_assert_cmpstr (after, ==, before);
      }
  }

  for (guint c = 2; c < 5; c++)
    g_free ((char *) cases[c].body);
  g_free ((char *) cases[7].body);

  /* With an honest answer again, everything goes through once. */
  kh_treplica_sync (a);
  kh_treplica_sync (b);
  {
    g_autofree char *da = kh_treplica_dump (a);
    g_autofree char *db = kh_treplica_dump (b);

    g_assert_cmpstr (da, ==, db);
    g_assert_cmpint (kh_treplica_count_named (b, "Một"), ==, 1);
  }
  kh_treplica_free (a);
  kh_treplica_free (b);
}

int
main (int   argc,
      char *argv[])
{
  static const char *backends[] = { "sqlite", "postgresql" };

  g_test_init (&argc, &argv, NULL);
  g_setenv ("KHUYENHOC_TOKEN_STORE", "file", TRUE);
  seed = g_getenv ("KH_SEED") ? (guint32) atoi (g_getenv ("KH_SEED")) : (guint32) g_test_rand_int ();
  g_print ("# seed %u (replay with KH_SEED=%u)\n", seed, seed);

  for (guint b = 0; b < G_N_ELEMENTS (backends); b++)
    {
#define ADD(name, fn) \
      { \
        g_autofree char *path = g_strdup_printf ("/sync/faults/%s/" name, backends[b]); \
        g_test_add (path, Fixture, backends[b], set_up, fn, tear_down); \
      }
      ADD ("each-fault", test_each_fault);
      ADD ("random-model", test_random);
      ADD ("random-conflicts", test_random_conflicts);
      ADD ("bad-answers", test_bad_answers);
#undef ADD
    }
  return g_test_run ();
}
