/* kh-server-http-files.c: the routes of attached files (kh-server-files.c; sync/PROTOCOL.md,
 * "Attachments")
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include "kh-server-files.h"
#include "kh-server-http-private.h"

static json_object *
file_state_to_json (const char        *sha256,
                    const KhFileState *state)
{
  json_object *o = json_object_new_object ();

  json_object_object_add (o, "sha256", json_object_new_string (sha256));
  json_object_object_add (o, "complete", json_object_new_boolean (state->complete));
  json_object_object_add (o, "offset", json_object_new_int64 (state->offset));
  json_object_object_add (o, "max_size", json_object_new_int64 (state->max_size));
  return o;
}

/* GET /v1/files/status?sha256=H&attachment=ID */
enum MHD_Result
kh_http_file_status (KhServer              *server,
                     struct MHD_Connection *c,
                     const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  const char *sha256 = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "sha256");
  const char *id = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "attachment");
  KhFileState state;

  if (!kh_server_file_status (server, user, id, sha256, &state, &error))
    return kh_http_send_gerror (c, error);
  return kh_http_send_json (c, MHD_HTTP_OK, file_state_to_json (sha256, &state), 0);
}

/* POST /v1/files/chunk?sha256=H&attachment=ID&offset=N, the body the file's bytes from N. */
enum MHD_Result
kh_http_file_chunk (KhServer              *server,
                    struct MHD_Connection *c,
                    const guint8          *body,
                    gsize                  len,
                    const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  const char *sha256 = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "sha256");
  const char *id = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "attachment");
  gint64 offset;
  KhFileState state;

  if (!kh_http_arg_count (c, "offset", &offset))
    return kh_http_send_error (c, KH_SYNC_ERROR_INVALID, _("“offset” must be a number of bytes."), 0);
  if (!kh_server_file_put (server, user, id, sha256, offset, body, len, &state, &error))
    return kh_http_send_gerror (c, error);
  return kh_http_send_json (c, MHD_HTTP_OK, file_state_to_json (sha256, &state), 0);
}

/* GET /v1/files/data?sha256=H&attachment=ID&offset=N&length=L: the bytes, as they are. */
enum MHD_Result
kh_http_file_data (KhServer              *server,
                   struct MHD_Connection *c,
                   gsize                  max_length,
                   const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  const char *sha256 = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "sha256");
  const char *id = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "attachment");
  struct MHD_Response *response;
  enum MHD_Result ret;
  gint64 offset;
  gint64 length;
  gsize len;
  const void *data;

  if (!kh_http_arg_count (c, "offset", &offset) || !kh_http_arg_count (c, "length", &length)
      || length <= 0 || (guint64) length > max_length)
    return kh_http_send_error (c, KH_SYNC_ERROR_INVALID, _("“offset” and “length” must be numbers of bytes."), 0);
  bytes = kh_server_file_get (server, user, id, sha256, offset, (gsize) length, &error);
  if (bytes == NULL)
    return kh_http_send_gerror (c, error);
  data = g_bytes_get_data (bytes, &len);
  response = MHD_create_response_from_buffer (len, g_memdup2 (data, len), MHD_RESPMEM_MUST_FREE);
  MHD_add_response_header (response, MHD_HTTP_HEADER_CONTENT_TYPE, "application/octet-stream");
  ret = kh_http_queue (c, MHD_HTTP_OK, response);
  MHD_destroy_response (response);
  return ret;
}
