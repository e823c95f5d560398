/* kh-server-metrics.h: what the server counts, /metrics, and the request log
 *
 * The counters are the process's (one process serves one database): the HTTP front adds each
 * request, the core each push's results and each feed page's records. `serve --metrics
 * HOST:PORT` answers GET /metrics on that address only, in Prometheus' text format, so the
 * figures are not on the clients' port. Each request is also one line on stderr.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "kh-codec.h"
#include "kh-server-core.h"

G_BEGIN_DECLS

/* @path as a metrics label: one of the protocol's endpoints, or "other" (so a scan of made-up
 * paths neither fills the log with what it sent nor grows the metrics without end). */
const char *kh_server_metrics_endpoint      (const char           *path);

/* One request answered (@status 0: the connection ended before an answer), its time from the
 * first byte to the last; @user NULL before authentication. Counts it and logs its line. */
void        kh_server_metrics_request       (const char           *endpoint,
                                             const char           *user,
                                             unsigned int          status,
                                             gint64                usec);
void        kh_server_metrics_push          (const KhPushResponse *response);
void        kh_server_metrics_feed          (guint                 records);

/* Every metric in Prometheus' text exposition format (0.0.4). */
GString    *kh_server_metrics_render        (KhServer             *server,
                                             guint                 connections,
                                             guint                 in_flight);

/* The request log's line for one request: "<6>…" when stderr is journald's stream (it keeps
 * the time and reads the priority), else with the time in front. */
char       *kh_server_metrics_log_line      (const char           *endpoint,
                                             const char           *user,
                                             unsigned int          status,
                                             gint64                usec,
                                             gboolean              journal);

typedef struct _KhMetricsServer KhMetricsServer;
typedef guint (*KhMetricsGauge) (gpointer data);

/* GET /metrics on @listen ("HOST:PORT", IPv4 or [IPv6]:PORT; port 0 picks one, in @port). The
 * gauges are asked at each scrape. */
KhMetricsServer *kh_metrics_server_start    (KhServer             *server,
                                             const char           *listen,
                                             KhMetricsGauge        connections,
                                             KhMetricsGauge        in_flight,
                                             gpointer              data,
                                             guint16              *port,
                                             GError              **error);
void             kh_metrics_server_stop     (KhMetricsServer      *self);

G_END_DECLS
