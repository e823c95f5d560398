/* kh-server-http-history.c: the routes of a record's history and of the activity in an area
 * (kh-server-history.c; sync/PROTOCOL.md)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "kh-i18n.h"

#include <string.h>

#include "kh-server-http-private.h"

/* GET /v1/history?entity=E&id=ID: a record's changes, who made them, when, from where. */
enum MHD_Result
kh_http_history (KhServer              *server,
                 struct MHD_Connection *c,
                 const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) answer = NULL;
  const char *entity = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "entity");
  const char *id = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, "id");

  if (entity == NULL || id == NULL || strlen (entity) > KH_CODEC_MAX_NAME || strlen (id) > 64)
    return kh_http_send_error (c, KH_SYNC_ERROR_INVALID, _("A history names a kind of record and its id."), 0);
  answer = kh_server_history (server, user, entity, id, &error);
  return kh_http_send_answer (c, answer, error);
}

/* GET /v1/activity?from=D&to=D&user=U&entity=E&after=V&limit=N: the changes in the area. */
enum MHD_Result
kh_http_activity (KhServer              *server,
                  struct MHD_Connection *c,
                  const KhServerUser    *user)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) answer = NULL;
  const char *names[] = { "from", "to", "user", "entity" };
  const char *values[4];
  gint64 v = 0;
  gint64 limit;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      values[i] = MHD_lookup_connection_value (c, MHD_GET_ARGUMENT_KIND, names[i]);
      if (values[i] != NULL && *values[i] == '\0')
        values[i] = NULL;
      if (values[i] != NULL && (strlen (values[i]) > 64 || !g_utf8_validate (values[i], -1, NULL)))
        return kh_http_send_error (c, KH_SYNC_ERROR_INVALID, _("An activity filter is too long."), 0);
    }
  if (!kh_http_arg_count (c, "after", &v))
    return kh_http_send_error (c, KH_SYNC_ERROR_INVALID, _("“after” must be a version."), 0);
  if (!kh_http_arg_limit (c, &limit, &error))
    return kh_http_send_gerror (c, error);
  answer = kh_server_activity (server, user, values[0], values[1], values[2], values[3], v, limit,
                               &error);
  return kh_http_send_answer (c, answer, error);
}
