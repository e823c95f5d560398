/* bench-server.c: the server's throughput and latency, on SQLite or PostgreSQL
 *
 *   bench-server --backend=sqlite|postgresql [--records N] [--clients N] [--seconds S]
 *                [--prefill N] [--servers K]
 *
 * 1. mutations applied per second: N creates pushed over HTTP in batches of 500;
 * 2. change-feed records served per second: a full pull of them, pages of 5000, gzip;
 * 3. a load generator (libcurl multi) with C simulated clients for S seconds on loopback, each
 *    cycling pull (from its own cursor) → push (a batch of 4 creates and an edit in its unit) →
 *    a pause of 0.5–1.5 s (--pause-ms=1000; 0 for none, to find the capacity): requests/s,
 *    p50/p99 latency, errors. The clients come from 50 loopback addresses (127.0.0.2…), as
 *    devices of many offices would, under the server's limit of connections per address.
 *
 * --ledger N instead pushes N payments from one fund (after the donation that funds them), in
 * batches of 500, and stops: the push with the fund ledger's checks on, to compare back to back
 * with a build without them.
 *
 * --prefill N first fills the database with N records of another province, so 1 and 2 run
 * against a table of that size (docs/SCALE.md): on SQLite all through `demo`; on PostgreSQL a
 * `demo` of up to 20,000 records, copied by the database until there are N (bench-prefill.c).
 * --servers K runs K `serve` processes on the one database (PostgreSQL) and C simulated clients
 * for each, spread over them.
 * KH_BENCH_KEEP_DB=1 keeps the PostgreSQL database; --db=URL runs on such a database instead of
 * a new one, when it was populated and filled but never pushed to (a run stopped after the
 * fill), and keeps it too.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "bench-prefill.h"
#include "kh-test-dir.h"
#include "kh-test-server.h"
#include "kh-uuid.h"

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* 1 and 2 -------------------------------------------------------------------------------------- */

static void
bench_push_and_pull (KhTestServer *s,
                     const char   *token,
                     const char   *unit,
                     int           records)
{
  double t0, t1;
  int batches = (records + 499) / 500;
  g_autoptr(GHashTable) all = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify) kh_record_free);
  g_autofree char *cursor = NULL;

  t0 = now_s ();
  for (int b = 0; b < batches; b++)
    {
      json_object *list = json_object_new_array ();
      g_autoptr(KhPushResponse) r = NULL;

      for (int k = 0; k < 500 && b * 500 + k < records; k++)
        {
          g_autofree char *id = kh_uuid_v7_new ();
          g_autofree char *name = g_strdup_printf ("Nguyễn Văn Thử %d", b * 500 + k);
          json_object *f = kh_test_person (name, unit);

          json_object_object_add (f, "birth_date", json_object_new_string ("2011-03-04"));
          json_object_object_add (f, "gender", json_object_new_string (k % 2 ? "male" : "female"));
          json_object_object_add (f, "address", json_object_new_string ("Thôn 3, xã Vĩnh Lương"));
          json_object_array_add (list, kh_test_mutation ("create", "person", id, 0, f));
        }
      r = kh_test_push (s, token, list);
      for (guint i = 0; i < r->results->len; i++)
        g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
    }
  t1 = now_s ();
  g_print ("%s: push %d mutations in batches of 500: %.2f s, %.0f mutations/s\n",
           s->backend, records, t1 - t0, records / (t1 - t0));

  t0 = now_s ();
  cursor = kh_test_pull_all (s, token, NULL, 5000, all, NULL, NULL);
  t1 = now_s ();
  g_print ("%s: change feed, %u records in pages of 5000 (gzip): %.2f s, %.0f records/s\n",
           s->backend, g_hash_table_size (all), t1 - t0, g_hash_table_size (all) / (t1 - t0));

  /* Edits of one field of every person, on their current versions. */
  {
    GHashTableIter iter;
    KhRecord *r;
    json_object *list = json_object_new_array ();
    int n = 0, edits = 0;

    t0 = now_s ();
    g_hash_table_iter_init (&iter, all);
    while (TRUE)
      {
        gboolean more = g_hash_table_iter_next (&iter, NULL, (gpointer *) &r);

        if (more && strcmp (r->entity, "person") == 0)
          {
            json_object *f = json_object_new_object ();

            json_object_object_add (f, "phone", json_object_new_string ("0987654321"));
            json_object_array_add (list, kh_test_mutation ("update", "person", r->id, r->version, f));
            n++;
          }
        if (n == 500 || (!more && n > 0))
          {
            g_autoptr(KhPushResponse) pr = kh_test_push (s, token, list);

            for (guint i = 0; i < pr->results->len; i++)
              g_assert_cmpint (((KhMutationResult *) pr->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
            edits += n;
            n = 0;
            list = json_object_new_array ();
          }
        if (!more)
          break;
      }
    json_object_put (list);
    t1 = now_s ();
    g_print ("%s: push %d edits in batches of 500: %.2f s, %.0f mutations/s\n",
             s->backend, edits, t1 - t0, edits / (t1 - t0));
  }
}

/* Payments from one fund, each judged against the fund's balance where the server checks it. */
static void
bench_ledger (KhTestServer *s,
              const char   *token,
              const char   *unit,
              int           records)
{
  g_autofree char *fund = kh_uuid_v7_new ();
  g_autofree char *donation = kh_uuid_v7_new ();
  int batches = (records + 499) / 500;
  double t0, t1;

  {
    json_object *list = json_object_new_array ();
    json_object *f = json_object_new_object ();
    json_object *d = json_object_new_object ();
    g_autoptr(KhPushResponse) r = NULL;

    json_object_object_add (f, "name", json_object_new_string ("Quỹ khuyến học xã A"));
    json_object_object_add (f, "level", json_object_new_string ("commune"));
    json_object_object_add (f, "org_unit_id", json_object_new_string (unit));
    json_object_array_add (list, kh_test_mutation ("create", "fund", fund, 0, f));
    json_object_object_add (d, "fund_id", json_object_new_string (fund));
    json_object_object_add (d, "org_unit_id", json_object_new_string (unit));
    json_object_object_add (d, "donor_name", json_object_new_string ("Công ty Hòa Phát"));
    json_object_object_add (d, "donated_on", json_object_new_string ("2025-01-02"));
    json_object_object_add (d, "form", json_object_new_string ("transfer"));
    json_object_object_add (d, "amount", json_object_new_int64 ((gint64) records * 1000000));
    json_object_array_add (list, kh_test_mutation ("create", "donation", donation, 0, d));
    r = kh_test_push (s, token, list);
    for (guint i = 0; i < r->results->len; i++)
      g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
  }

  t0 = now_s ();
  for (int b = 0; b < batches; b++)
    {
      json_object *list = json_object_new_array ();
      g_autoptr(KhPushResponse) r = NULL;

      for (int k = 0; k < 500 && b * 500 + k < records; k++)
        {
          g_autofree char *id = kh_uuid_v7_new ();
          g_autofree char *voucher = g_strdup_printf ("PC-%d", b * 500 + k);
          json_object *f = json_object_new_object ();

          json_object_object_add (f, "fund_id", json_object_new_string (fund));
          json_object_object_add (f, "org_unit_id", json_object_new_string (unit));
          json_object_object_add (f, "amount", json_object_new_int64 (1000000));
          json_object_object_add (f, "paid_on", json_object_new_string ("2025-03-01"));
          json_object_object_add (f, "purpose", json_object_new_string ("Học bổng Tết"));
          json_object_object_add (f, "voucher_number", json_object_new_string (voucher));
          json_object_array_add (list, kh_test_mutation ("create", "disbursement", id, 0, f));
        }
      r = kh_test_push (s, token, list);
      for (guint i = 0; i < r->results->len; i++)
        g_assert_cmpint (((KhMutationResult *) r->results->pdata[i])->status, ==, KH_RESULT_APPLIED);
    }
  t1 = now_s ();
  g_print ("%s: push %d payments from one fund in batches of 500: %.2f s, %.0f mutations/s\n",
           s->backend, records, t1 - t0, records / (t1 - t0));
}

/* 3: the load generator ------------------------------------------------------------------------ */

typedef struct
{
  int          index;
  const char  *token;
  const char  *unit;
  CURL        *easy;
  struct curl_slist *headers;
  GByteArray  *body;
  char        *cursor;
  char        *request;
  gboolean     pushing;
  double       started;
  double       wake;       /* when the next request may start */
  char        *address;    /* the loopback address it comes from */
  GPtrArray   *mine;       /* ids this client created */
  GArray      *versions;
} Client;

static size_t
collect_cb (char   *data,
            size_t  size,
            size_t  n,
            void   *user_data)
{
  g_byte_array_append (user_data, (guint8 *) data, (guint) (size * n));
  return size * n;
}

static void
client_start (Client *c,
              CURLM  *multi,
              const char *base)
{
  g_autofree char *url = NULL;
  g_autofree char *auth = g_strdup_printf ("Authorization: Bearer %s", c->token);

  curl_easy_reset (c->easy);
  g_clear_pointer (&c->headers, curl_slist_free_all);
  g_byte_array_set_size (c->body, 0);
  g_clear_pointer (&c->request, g_free);
  c->headers = curl_slist_append (NULL, auth);
  if (!c->pushing)
    {
      g_autofree char *esc = g_uri_escape_string (c->cursor ? c->cursor : "", NULL, FALSE);

      url = g_strdup_printf ("%s/v1/changes?cursor=%s&limit=1000", base, esc);
    }
  else
    {
      json_object *body = json_object_new_object ();
      json_object *list = json_object_new_array ();
      g_autofree char *client_id = kh_uuid_v7_new ();

      for (int k = 0; k < 4; k++)
        {
          char *id = kh_uuid_v7_new ();
          g_autofree char *name = g_strdup_printf ("Khách %d", c->index);

          json_object_array_add (list, kh_test_mutation ("create", "person", id, 0,
                                                         kh_test_person (name, c->unit)));
          g_ptr_array_add (c->mine, id);
        }
      if (c->versions->len > 0)
        {
          guint j = (guint) g_random_int_range (0, (gint) c->versions->len);
          json_object *f = json_object_new_object ();

          json_object_object_add (f, "phone", json_object_new_string ("0905123456"));
          json_object_array_add (list, kh_test_mutation ("update", "person", c->mine->pdata[j],
                                                         g_array_index (c->versions, gint64, j), f));
        }
      json_object_object_add (body, "client_id", json_object_new_string (client_id));
      json_object_object_add (body, "mutations", list);
      c->request = g_strdup (kh_codec_to_string (body, NULL));
      json_object_put (body);
      url = g_strdup_printf ("%s/v1/push", base);
      c->headers = curl_slist_append (c->headers, "Content-Type: application/json");
      curl_easy_setopt (c->easy, CURLOPT_POSTFIELDS, c->request);
    }
  curl_easy_setopt (c->easy, CURLOPT_URL, url);
  curl_easy_setopt (c->easy, CURLOPT_HTTPHEADER, c->headers);
  curl_easy_setopt (c->easy, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt (c->easy, CURLOPT_WRITEDATA, c->body);
  curl_easy_setopt (c->easy, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt (c->easy, CURLOPT_PRIVATE, c);
  curl_easy_setopt (c->easy, CURLOPT_TIMEOUT, 30L);
  curl_easy_setopt (c->easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (c->easy, CURLOPT_INTERFACE, c->address);
  c->started = now_s ();
  curl_multi_add_handle (multi, c->easy);
}

/* Reads the answer; FALSE when it was not a good one. */
static gboolean
client_finish (Client *c,
               long    status)
{
  g_autoptr(json_object) json = NULL;
  g_autoptr(GError) error = NULL;

  if (status != 200)
    return FALSE;
  json = kh_codec_parse ((const char *) c->body->data, c->body->len, KH_CODEC_MAX_DEPTH, &error);
  if (json == NULL)
    return FALSE;
  if (!c->pushing)
    {
      g_autoptr(KhChangesPage) page = kh_changes_page_from_json (json, &error);

      if (page == NULL)
        return FALSE;
      g_free (c->cursor);
      c->cursor = g_strdup (page->cursor);
    }
  else
    {
      g_autoptr(KhPushResponse) r = kh_push_response_from_json (json, &error);
      guint first = c->versions->len;

      if (r == NULL)
        return FALSE;
      for (guint i = 0; i < 4 && i < r->results->len; i++)
        {
          KhMutationResult *m = r->results->pdata[i];

          if (m->status != KH_RESULT_APPLIED)
            return FALSE;
          g_array_append_val (c->versions, m->version);
        }
      /* The edit may meet another client's edit of the same field: a conflict is a
       * correct answer, not an error. */
      (void) first;
    }
  return TRUE;
}

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static void
bench_load (KhTestServer *s,
            const char  **bases,
            int           n_bases,
            const char  **tokens,
            const char  **units,
            const char  **cursors,
            int           n_clients,
            double        seconds,
            double        pause)
{
  CURLM *multi = curl_multi_init ();
  Client *clients = g_new0 (Client, n_clients);
  g_autoptr(GArray) latencies = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) pull_lat = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) push_lat = g_array_new (FALSE, FALSE, sizeof (double));
  int errors = 0, running = 0;
  double start = now_s ();
  double end = start + seconds;
  gint64 pulls = 0, pushes = 0;

  curl_multi_setopt (multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long) n_clients);
  for (int i = 0; i < n_clients; i++)
    {
      Client *c = &clients[i];

      c->index = i;
      c->token = tokens[i % 2];
      c->unit = units[i % 2];
      /* A client that has synced before: it starts from its account's current cursor. */
      c->cursor = g_strdup (cursors[i % 2]);
      c->easy = curl_easy_init ();
      /* Devices of many offices: 50 loopback addresses, 4 clients each at 200, under the
       * server's limit of connections per address. */
      c->address = g_strdup_printf ("127.0.0.%d", 2 + i % 50);
      c->body = g_byte_array_new ();
      c->mine = g_ptr_array_new_with_free_func (g_free);
      c->versions = g_array_new (FALSE, FALSE, sizeof (gint64));
      /* Spread the first requests over the first second. */
      c->wake = start + g_random_double_range (0, 1.0);
    }

  while (TRUE)
    {
      double t = now_s ();
      CURLMsg *msg;
      int left;
      gboolean idle = TRUE;

      for (int i = 0; i < n_clients; i++)
        {
          Client *c = &clients[i];

          if (c->wake > 0 && c->wake <= t && t < end)
            {
              c->wake = 0;
              client_start (c, multi, bases[c->index % n_bases]);
              running++;
            }
          if (c->wake > 0 && t < end)
            idle = FALSE;
        }
      if (running == 0 && (t >= end || idle))
        break;
      curl_multi_perform (multi, &left);
      while ((msg = curl_multi_info_read (multi, &left)) != NULL)
        {
          Client *c;
          long status = 0;
          double lat;

          if (msg->msg != CURLMSG_DONE)
            continue;
          curl_easy_getinfo (msg->easy_handle, CURLINFO_PRIVATE, (char **) &c);
          curl_easy_getinfo (msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
          curl_multi_remove_handle (multi, msg->easy_handle);
          running--;
          lat = now_s () - c->started;
          g_array_append_val (latencies, lat);
          g_array_append_val (c->pushing ? push_lat : pull_lat, lat);
          if (msg->data.result != CURLE_OK || !client_finish (c, status))
            {
              errors++;
              if (errors <= 5)
                g_print ("# error: curl %d, HTTP %ld, %.*s\n", msg->data.result, status,
                         (int) MIN (c->body->len, 200), (const char *) c->body->data);
            }
          if (c->pushing)
            pushes++;
          else
            pulls++;
          /* pull → push straight away; push → pause → pull. */
          if (!c->pushing)
            {
              c->pushing = TRUE;
              c->wake = now_s ();
            }
          else
            {
              c->pushing = FALSE;
              c->wake = now_s () + (pause > 0 ? g_random_double_range (pause * 0.5, pause * 1.5) : 0);
            }
        }
      curl_multi_poll (multi, NULL, 0, 5, NULL);
    }

  {
    double elapsed = now_s () - start;
    guint n = latencies->len;
    double p50, p99;

    g_array_sort (latencies, compare_double);
    p50 = n ? g_array_index (latencies, double, n / 2) : 0;
    p99 = n ? g_array_index (latencies, double, MIN (n - 1, (guint) (n * 0.99))) : 0;
    g_print ("%s: load, %d clients on %d servers (pause %.0f ms) for %.0f s: %u requests (%" G_GINT64_FORMAT " pulls, %" G_GINT64_FORMAT
             " pushes), %.0f requests/s, p50 %.1f ms, p99 %.1f ms, %d errors\n",
             s->backend, n_clients, n_bases, pause * 1000, seconds, n, pulls, pushes, n / elapsed, p50 * 1000, p99 * 1000, errors);
    g_array_sort (pull_lat, compare_double);
    g_array_sort (push_lat, compare_double);
    if (pull_lat->len > 0 && push_lat->len > 0)
      g_print ("%s: load, pulls p50 %.1f ms p99 %.1f ms; pushes (4 creates + 1 edit) p50 %.1f ms p99 %.1f ms\n",
               s->backend,
               g_array_index (pull_lat, double, pull_lat->len / 2) * 1000,
               g_array_index (pull_lat, double, MIN (pull_lat->len - 1, (guint) (pull_lat->len * 0.99))) * 1000,
               g_array_index (push_lat, double, push_lat->len / 2) * 1000,
               g_array_index (push_lat, double, MIN (push_lat->len - 1, (guint) (push_lat->len * 0.99))) * 1000);
  }

  for (int i = 0; i < n_clients; i++)
    {
      curl_easy_cleanup (clients[i].easy);
      g_clear_pointer (&clients[i].headers, curl_slist_free_all);
      g_byte_array_unref (clients[i].body);
      g_free (clients[i].cursor);
      g_free (clients[i].request);
      g_free (clients[i].address);
      g_ptr_array_unref (clients[i].mine);
      g_array_unref (clients[i].versions);
    }
  g_free (clients);
  curl_multi_cleanup (multi);
  g_assert_cmpint (errors, ==, 0);
}

int
main (int argc, char **argv)
{
  const char *backend = "sqlite";
  int records = 20000;
  int n_clients = 200;
  double seconds = 30;
  double pause = 1.0;
  KhTestServer *s;
  g_autofree char *officer_a = NULL;
  g_autofree char *officer_b = NULL;
  g_autofree char *unit_a = NULL;
  g_autofree char *unit_b = NULL;
  const char *threads[] = { "--threads", "4", NULL };
  int prefill = 0;
  const char *reuse = NULL;
  int ledger = 0;
  int n_servers = 1;
  g_autoptr(GPtrArray) extra = g_ptr_array_new ();
  g_autoptr(GPtrArray) bases = g_ptr_array_new ();

  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--backend="))
      backend = argv[i] + 10;
    else if (g_str_has_prefix (argv[i], "--records="))
      records = atoi (argv[i] + 10);
    else if (g_str_has_prefix (argv[i], "--clients="))
      n_clients = atoi (argv[i] + 10);
    else if (g_str_has_prefix (argv[i], "--seconds="))
      seconds = g_ascii_strtod (argv[i] + 10, NULL);
    else if (g_str_has_prefix (argv[i], "--pause-ms="))
      pause = g_ascii_strtod (argv[i] + 11, NULL) / 1000;
    else if (g_str_has_prefix (argv[i], "--prefill="))
      prefill = atoi (argv[i] + 10);
    else if (g_str_has_prefix (argv[i], "--ledger="))
      ledger = atoi (argv[i] + 9);
    else if (g_str_has_prefix (argv[i], "--servers="))
      n_servers = MAX (1, atoi (argv[i] + 10));
    else if (g_str_has_prefix (argv[i], "--db="))
      reuse = argv[i] + 5;

  curl_global_init (CURL_GLOBAL_DEFAULT);
  if (reuse != NULL)
    {
      /* A database an earlier run populated, filled and kept, but never pushed to; kept again. */
      s = g_new0 (KhTestServer, 1);
      s->backend = g_strdup (backend);
      s->dir = kh_test_tmpdir ();
      s->url = g_strdup (reuse);
      s->pid = -1;
      prefill = 0;
    }
  else if ((s = kh_test_server_new (backend)) != NULL)
    kh_test_server_populate (s);
  if (s == NULL)
    {
      g_print ("%s: KH_TEST_PG_URL is not set; skipped\n", backend);
      return 77;
    }
  if (prefill > 0)
    {
      /* On PostgreSQL, one demo of up to 20,000 records through the push path, then copies of
       * it made by the database (bench-prefill.c). */
      gboolean pg = strcmp (backend, "postgresql") == 0;
      g_autofree char *n = g_strdup_printf ("%d", pg ? MIN (prefill, 20000) : prefill);
      gint64 total = prefill;
      double t0 = now_s ();

      kh_test_server_cli (s, NULL, "demo", "--records", n, NULL);
      g_print ("%s: demo of %s records in %.0f s\n", backend, n, now_s () - t0);
      if (pg)
        total = kh_bench_prefill_pg (s->url, prefill);
      g_print ("%s: filled with %" G_GINT64_FORMAT " records in %.0f s\n", backend, total, now_s () - t0);
    }
  kh_test_server_start (s, threads);
  g_ptr_array_add (bases, s->base);
  /* The others on the same database, each with its own folder for its port file and log. */
  for (int i = 1; i < n_servers; i++)
    {
      KhTestServer *e = g_new0 (KhTestServer, 1);

      e->backend = g_strdup (backend);
      e->dir = kh_test_tmpdir ();
      e->url = g_strdup (s->url);
      e->pid = -1;
      kh_test_server_start (e, threads);
      g_ptr_array_add (extra, e);
      g_ptr_array_add (bases, e->base);
    }
  officer_a = kh_test_login (s, "officer_a", &unit_a);
  officer_b = kh_test_login (s, "officer_b", &unit_b);

  if (ledger > 0)
    {
      bench_ledger (s, officer_a, unit_a, ledger);
      kh_test_server_free (s);
      curl_global_cleanup ();
      return 0;
    }
  bench_push_and_pull (s, officer_a, unit_a, records);
  {
    const char *tokens[] = { officer_a, officer_b };
    const char *units[] = { unit_a, unit_b };
    g_autofree char *cursor_a = kh_test_pull_all (s, officer_a, NULL, 5000, NULL, NULL, NULL);
    g_autofree char *cursor_b = kh_test_pull_all (s, officer_b, NULL, 5000, NULL, NULL, NULL);
    const char *cursors[] = { cursor_a, cursor_b };

    bench_load (s, (const char **) bases->pdata, (int) bases->len, tokens, units, cursors,
                n_clients * n_servers, seconds, pause);
  }
  for (guint i = 0; i < extra->len; i++)
    kh_test_server_free (extra->pdata[i]);
  /* KH_BENCH_KEEP_DB=1 leaves a PostgreSQL database in place, to look at its plans afterwards
   * (docs/SCALE.md); drop it by hand. */
  if (s->pg_db != NULL && g_getenv ("KH_BENCH_KEEP_DB") != NULL)
    {
      g_print ("%s: the database is kept: %s\n", backend, s->url);
      g_clear_pointer (&s->pg_db, g_free);
    }
  kh_test_server_free (s);
  curl_global_cleanup ();
  return 0;
}
