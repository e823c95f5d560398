/* kh-server-metrics.c: the server's counters, /metrics and the request log
 *
 * A request takes one mutex for its counters; the log line is written with one write(2), so
 * lines from the pool's threads never interleave.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <gio/gio.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kh-server-core-private.h"
#include "kh-server-metrics.h"

static const char * const endpoints[] = {
  "/v1/health", "/v1/login", "/v1/changes", "/v1/push", "/v1/integrity", "/v1/integrity/ids",
  "/v1/integrity/buckets", "/v1/records", "other",
};
#define N_ENDPOINTS G_N_ELEMENTS (endpoints)

/* Seconds; the push of a large batch or a first pull's page lands in the upper ones. */
static const double buckets[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS G_N_ELEMENTS (buckets)

typedef struct
{
  GHashTable *statuses;           /* status → guint64 count */
  guint64 le[N_BUCKETS];
  guint64 count;
  double  sum;
} Endpoint;

static GMutex lock;
static Endpoint stats[N_ENDPOINTS];
static guint64 results[4];        /* by KhResultStatus */
static guint64 feed_records;

const char *
kh_server_metrics_endpoint (const char *path)
{
  for (guint i = 0; i + 1 < N_ENDPOINTS; i++)
    if (path != NULL && strcmp (path, endpoints[i]) == 0)
      return endpoints[i];
  return endpoints[N_ENDPOINTS - 1];
}

/* Whether stderr is journald's stream: systemd names it in JOURNAL_STREAM ("DEVICE:INODE"). */
static gboolean
stderr_is_journal (void)
{
  static gsize once = 0;
  static gboolean journal = FALSE;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("JOURNAL_STREAM");
      struct stat st;
      unsigned long long dev = 0, ino = 0;

      if (env != NULL && sscanf (env, "%llu:%llu", &dev, &ino) == 2 && fstat (STDERR_FILENO, &st) == 0)
        journal = (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
      g_once_init_leave (&once, 1);
    }
  return journal;
}

char *
kh_server_metrics_log_line (const char   *endpoint,
                            const char   *user,
                            unsigned int  status,
                            gint64        usec,
                            gboolean      journal)
{
  GString *line = g_string_sized_new (128);

  if (journal)
    /* syslog priorities: 3 err for a failure of the server, 5 notice for a refusal, 6 info. */
    g_string_append_printf (line, "<%d>", status >= 500 || status == 0 ? 3 : status >= 400 ? 5 : 6);
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autofree char *time = g_date_time_format_iso8601 (now);

      g_string_append_printf (line, "%s ", time);
    }
  g_string_append_printf (line, "request user=%s endpoint=%s status=%u ms=%.1f\n",
                          user != NULL ? user : "-", endpoint, status, (double) usec / 1000.0);
  return g_string_free (line, FALSE);
}

void
kh_server_metrics_request (const char   *endpoint,
                           const char   *user,
                           unsigned int  status,
                           gint64        usec)
{
  g_autofree char *line = kh_server_metrics_log_line (endpoint, user, status, usec, stderr_is_journal ());
  double seconds = (double) usec / G_USEC_PER_SEC;
  guint i;
  Endpoint *e = NULL;
  gsize len = strlen (line);

  for (i = 0; i < N_ENDPOINTS; i++)
    if (endpoint == endpoints[i] || strcmp (endpoint, endpoints[i]) == 0)
      e = &stats[i];
  if (e == NULL)
    e = &stats[N_ENDPOINTS - 1];

  g_mutex_lock (&lock);
  if (e->statuses == NULL)
    e->statuses = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  {
    guint64 *n = g_hash_table_lookup (e->statuses, GUINT_TO_POINTER (status));

    if (n == NULL)
      {
        n = g_new0 (guint64, 1);
        g_hash_table_insert (e->statuses, GUINT_TO_POINTER (status), n);
      }
    (*n)++;
  }
  for (i = 0; i < N_BUCKETS; i++)
    if (seconds <= buckets[i])
      e->le[i]++;
  e->count++;
  e->sum += seconds;
  g_mutex_unlock (&lock);

  /* A log that cannot be written (a full disk, a closed pipe) does not stop the server. */
  if (write (STDERR_FILENO, line, len) < 0)
    return;
}

void
kh_server_metrics_push (const KhPushResponse *response)
{
  guint64 n[4] = { 0 };

  for (guint i = 0; i < response->results->len; i++)
    {
      const KhMutationResult *r = response->results->pdata[i];

      if ((guint) r->status < G_N_ELEMENTS (n))
        n[r->status]++;
    }
  g_mutex_lock (&lock);
  for (guint i = 0; i < G_N_ELEMENTS (n); i++)
    results[i] += n[i];
  g_mutex_unlock (&lock);
}

void
kh_server_metrics_feed (guint records)
{
  g_mutex_lock (&lock);
  feed_records += records;
  g_mutex_unlock (&lock);
}

static gboolean
size_row_cb (const char * const *values,
             int                 n_values,
             gpointer            data)
{
  if (n_values > 0 && values[0] != NULL)
    *(gint64 *) data = g_ascii_strtoll (values[0], NULL, 10);
  return FALSE;
}

/* The database's size in bytes, or -1 when it could not be read. */
static gint64
database_size (KhServer *server)
{
  g_autoptr(KhServerLease) l = _kh_server_lease_new (server);
  gint64 size = -1;
  const char *sql = strcmp (kh_server_backend_get_name (l->b), "postgresql") == 0
                    ? "SELECT pg_database_size(current_database())"
                    : "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()";

  if (!kh_server_backend_exec (l->b, sql, NULL, 0, size_row_cb, &size, NULL, NULL))
    return -1;
  return size;
}

static void
help (GString    *out,
      const char *name,
      const char *type,
      const char *text)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

GString *
kh_server_metrics_render (KhServer *server,
                          guint     connections,
                          guint     in_flight)
{
  static const char * const result_names[] = { "applied", "duplicate", "conflict", "rejected" };
  GString *out = g_string_sized_new (8192);
  gint64 size = server != NULL ? database_size (server) : -1;
  char num[G_ASCII_DTOSTR_BUF_SIZE];

  g_mutex_lock (&lock);
  help (out, "khuyenhoc_http_requests_total", "counter", "Requests answered, by endpoint and HTTP status (0: no answer).");
  for (guint i = 0; i < N_ENDPOINTS; i++)
    if (stats[i].statuses != NULL)
      {
        GHashTableIter it;
        gpointer key, value;

        g_hash_table_iter_init (&it, stats[i].statuses);
        while (g_hash_table_iter_next (&it, &key, &value))
          g_string_append_printf (out, "khuyenhoc_http_requests_total{endpoint=\"%s\",status=\"%u\"} %" G_GUINT64_FORMAT "\n",
                                  endpoints[i], GPOINTER_TO_UINT (key), *(guint64 *) value);
      }
  help (out, "khuyenhoc_http_request_duration_seconds", "histogram",
        "Time from a request's first byte to its answer, by endpoint.");
  for (guint i = 0; i < N_ENDPOINTS; i++)
    {
      if (stats[i].count == 0)
        continue;
      for (guint b = 0; b < N_BUCKETS; b++)
        g_string_append_printf (out, "khuyenhoc_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"%s\"} %"
                                G_GUINT64_FORMAT "\n", endpoints[i],
                                g_ascii_formatd (num, sizeof num, "%g", buckets[b]), stats[i].le[b]);
      g_string_append_printf (out, "khuyenhoc_http_request_duration_seconds_bucket{endpoint=\"%s\",le=\"+Inf\"} %"
                              G_GUINT64_FORMAT "\n", endpoints[i], stats[i].count);
      g_string_append_printf (out, "khuyenhoc_http_request_duration_seconds_sum{endpoint=\"%s\"} %s\n",
                              endpoints[i], g_ascii_formatd (num, sizeof num, "%.6f", stats[i].sum));
      g_string_append_printf (out, "khuyenhoc_http_request_duration_seconds_count{endpoint=\"%s\"} %" G_GUINT64_FORMAT "\n",
                              endpoints[i], stats[i].count);
    }
  help (out, "khuyenhoc_push_mutations_total", "counter",
        "Pushed mutations by result: applied, duplicate (sent again), conflict, rejected (refused).");
  for (guint i = 0; i < G_N_ELEMENTS (result_names); i++)
    g_string_append_printf (out, "khuyenhoc_push_mutations_total{result=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            result_names[i], results[i]);
  help (out, "khuyenhoc_feed_records_total", "counter", "Records served by the change feed.");
  g_string_append_printf (out, "khuyenhoc_feed_records_total %" G_GUINT64_FORMAT "\n", feed_records);
  g_mutex_unlock (&lock);

  help (out, "khuyenhoc_http_connections", "gauge", "Open client connections.");
  g_string_append_printf (out, "khuyenhoc_http_connections %u\n", connections);
  help (out, "khuyenhoc_http_requests_in_flight", "gauge", "Requests being answered.");
  g_string_append_printf (out, "khuyenhoc_http_requests_in_flight %u\n", in_flight);
  if (size >= 0)
    {
      help (out, "khuyenhoc_database_size_bytes", "gauge", "The size of the server's database.");
      g_string_append_printf (out, "khuyenhoc_database_size_bytes %" G_GINT64_FORMAT "\n", size);
    }
  return out;
}

/* The metrics listener ----------------------------------------------------------------------- */

struct _KhMetricsServer
{
  KhServer          *server;
  struct MHD_Daemon *daemon;
  KhMetricsGauge     connections;
  KhMetricsGauge     in_flight;
  gpointer           data;
};

static enum MHD_Result
metrics_cb (void                  *cls,
            struct MHD_Connection *c,
            const char            *url,
            const char            *method,
            const char            *version,
            const char            *upload_data,
            size_t                *upload_data_size,
            void                 **con_cls)
{
  KhMetricsServer *self = cls;
  struct MHD_Response *response;
  enum MHD_Result ret;
  unsigned int status = MHD_HTTP_OK;
  GString *text;

  if (strcmp (url, "/metrics") != 0)
    {
      status = MHD_HTTP_NOT_FOUND;
      text = g_string_new ("Only /metrics is here.\n");
    }
  else if (strcmp (method, "GET") != 0)
    {
      status = MHD_HTTP_METHOD_NOT_ALLOWED;
      text = g_string_new ("GET only.\n");
    }
  else
    text = kh_server_metrics_render (self->server, self->connections (self->data), self->in_flight (self->data));
  response = MHD_create_response_from_buffer (text->len, text->str, MHD_RESPMEM_MUST_FREE);
  g_string_free (text, FALSE);
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
  ret = MHD_queue_response (c, status, response);
  MHD_destroy_response (response);
  return ret;
}

/* "HOST:PORT" or "[V6]:PORT" as a socket address. */
static gboolean
parse_listen (const char              *listen,
              struct sockaddr_storage *addr,
              gsize                   *len,
              GError                 **error)
{
  const char *colon = listen != NULL ? strrchr (listen, ':') : NULL;
  g_autofree char *host = NULL;
  g_autoptr(GInetAddress) inet = NULL;
  g_autoptr(GSocketAddress) sa = NULL;
  guint64 port;

  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    goto bad;
  host = g_strndup (listen, (gsize) (colon - listen));
  if (host[0] == '[' && host[strlen (host) - 1] == ']')
    {
      memmove (host, host + 1, strlen (host));
      host[strlen (host) - 1] = '\0';
    }
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    goto bad;
  sa = g_inet_socket_address_new (inet, (guint16) port);
  *len = (gsize) g_socket_address_get_native_size (sa);
  if (!g_socket_address_to_native (sa, addr, sizeof *addr, NULL))
    goto bad;
  return TRUE;

bad:
  g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
               _("“%s” is not an address to listen on: write it as 127.0.0.1:9100."), listen ? listen : "");
  return FALSE;
}

KhMetricsServer *
kh_metrics_server_start (KhServer        *server,
                         const char      *listen,
                         KhMetricsGauge   connections,
                         KhMetricsGauge   in_flight,
                         gpointer         data,
                         guint16         *port,
                         GError         **error)
{
  struct sockaddr_storage addr = { 0 };
  gsize len = 0;
  KhMetricsServer *self;
  const union MHD_DaemonInfo *info;

  if (!parse_listen (listen, &addr, &len, error))
    return NULL;
  self = g_new0 (KhMetricsServer, 1);
  self->server = g_object_ref (server);
  self->connections = connections;
  self->in_flight = in_flight;
  self->data = data;
  self->daemon = MHD_start_daemon (MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL
                                   | (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0),
                                   0, NULL, NULL, metrics_cb, self,
                                   MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &addr,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned int) 16,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int) 10,
                                   MHD_OPTION_END);
  if (self->daemon == NULL)
    {
      g_set_error (error, KH_SERVER_ERROR, KH_SERVER_ERROR_INVALID,
                   _("Cannot listen on %s for /metrics (is the port in use?)."), listen);
      kh_metrics_server_stop (self);
      return NULL;
    }
  info = MHD_get_daemon_info (self->daemon, MHD_DAEMON_INFO_BIND_PORT);
  if (port != NULL)
    *port = info != NULL ? info->port : 0;
  return self;
}

void
kh_metrics_server_stop (KhMetricsServer *self)
{
  if (self == NULL)
    return;
  if (self->daemon != NULL)
    MHD_stop_daemon (self->daemon);
  g_object_unref (self->server);
  g_free (self);
}
