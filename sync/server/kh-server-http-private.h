/* kh-server-http-private.h: what the route files share with the HTTP front
 *
 * kh-server-http.c reads requests and answers them; the routes of one concern live in files
 * of their own (kh-server-http-files.c, kh-server-http-history.c) and answer through these.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <microhttpd.h>

#include "kh-server-core.h"

G_BEGIN_DECLS

/* @text as the JSON answer, compressed as the client accepts. */
enum MHD_Result kh_http_send_text   (struct MHD_Connection *c,
                                     unsigned int           status,
                                     const char            *text,
                                     gsize                  len,
                                     int                    retry_after);
/* Takes @body. */
enum MHD_Result kh_http_send_json   (struct MHD_Connection *c,
                                     unsigned int           status,
                                     json_object           *body,
                                     int                    retry_after);
enum MHD_Result kh_http_send_error  (struct MHD_Connection *c,
                                     KhSyncError            code,
                                     const char            *message,
                                     int                    retry_after);
/* A GError from the core or a backend, as the protocol's error. */
enum MHD_Result kh_http_send_gerror (struct MHD_Connection *c,
                                     const GError          *error);
/* @answer (JSON text) with 200, or @error when @answer is NULL. */
enum MHD_Result kh_http_send_answer (struct MHD_Connection *c,
                                     const GString         *answer,
                                     const GError          *error);
/* Queues @response as it is, noting its status for the request log. */
enum MHD_Result kh_http_queue       (struct MHD_Connection *c,
                                     unsigned int           status,
                                     struct MHD_Response   *response);

/* The query argument @name: absent or empty, 0; else a whole number from 0 up, or FALSE. */
gboolean        kh_http_arg_count   (struct MHD_Connection *c,
                                     const char            *name,
                                     gint64                *value);
/* The "limit" argument: absent, 0; else from 1 up, or FALSE with @error set. */
gboolean        kh_http_arg_limit   (struct MHD_Connection *c,
                                     gint64                *limit,
                                     GError               **error);

/* The routes of kh-server-http-files.c: GET /v1/files/status, POST /v1/files/chunk (@body the
 * bytes) and GET /v1/files/data (at most @max_length bytes). */
enum MHD_Result kh_http_file_status (KhServer              *server,
                                     struct MHD_Connection *c,
                                     const KhServerUser    *user);
enum MHD_Result kh_http_file_chunk  (KhServer              *server,
                                     struct MHD_Connection *c,
                                     const guint8          *body,
                                     gsize                  len,
                                     const KhServerUser    *user);
enum MHD_Result kh_http_file_data   (KhServer              *server,
                                     struct MHD_Connection *c,
                                     gsize                  max_length,
                                     const KhServerUser    *user);

/* The routes of kh-server-http-history.c: GET /v1/history and GET /v1/activity. */
enum MHD_Result kh_http_history     (KhServer              *server,
                                     struct MHD_Connection *c,
                                     const KhServerUser    *user);
enum MHD_Result kh_http_activity    (KhServer              *server,
                                     struct MHD_Connection *c,
                                     const KhServerUser    *user);

G_END_DECLS
